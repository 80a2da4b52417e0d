//! Where the data lives: a SQLite file, or a MariaDB/MySQL or PostgreSQL server named by a URL.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// The `database` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file (`:memory:` for a private in-memory database).
    Sqlite(PathBuf),
    /// A database on a MariaDB/MySQL or PostgreSQL server.
    Server(ServerUrl),
}

impl From<PathBuf> for Database {
    fn from(p: PathBuf) -> Database {
        Database::Sqlite(p)
    }
}

impl From<&std::path::Path> for Database {
    fn from(p: &std::path::Path) -> Database {
        Database::Sqlite(p.to_path_buf())
    }
}

impl From<ServerUrl> for Database {
    fn from(u: ServerUrl) -> Database {
        Database::Server(u)
    }
}

impl Database {
    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Server(_) => None,
        }
    }

    /// How messages and `cohort` name this database: the path, or the URL without password.
    pub fn shown(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Server(u) => u.to_string(),
        }
    }

    /// A `database` value as a person writes it: a server URL, or a SQLite path (relative
    /// paths resolved against `base`), with the server's password read from `password_env`.
    pub fn from_setting(
        text: &str,
        base: &std::path::Path,
        password_env: Option<&str>,
    ) -> Result<Database> {
        if Database::is_url(text) {
            let mut u = ServerUrl::parse(text)?;
            if let Some(var) = password_env {
                if var.is_empty() {
                    return Err(Error::config("database_password_env", "names no variable"));
                }
                if u.password.is_some() {
                    return Err(Error::config(
                        "database_password_env",
                        "the database URL holds a password too; keep it in one place (the environment)",
                    ));
                }
                u.password_env = Some(var.to_string());
            }
            Ok(Database::Server(u))
        } else if password_env.is_some() {
            Err(Error::config(
                "database_password_env",
                "applies to a server database (mysql://… or postgres://…), not a SQLite file",
            ))
        } else {
            let p = std::path::Path::new(text);
            Ok(Database::Sqlite(if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }))
        }
    }

    /// Whether `text` names a server (`mysql://`, `mariadb://`, `postgres://`, `postgresql://`)
    /// rather than a SQLite file.
    pub fn is_url(text: &str) -> bool {
        text.contains("://")
    }
}

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Mysql,
    Postgres,
}

/// Whether the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP. The default only for a server on the loopback interface; for any other host
    /// it is the documented, weaker opt-in `ssl-mode=disable` / `sslmode=disable`.
    Disable,
    /// TLS with the server's certificate verified against the web's root certificates or the
    /// CA file given as `ssl-ca` / `sslrootcert`, and its name checked. The default for every
    /// host that is not loopback.
    Require,
}

/// A parsed `mysql://user@host:port/db` or `postgres://user@host:port/db` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub kind: ServerKind,
    pub user: String,
    /// A password written in the URL (discouraged: prefer `database_password_env`).
    pub password: Option<String>,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub tls: TlsMode,
    /// A CA certificate file (PEM) that signs the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// The environment variable the password is read from when connecting.
    pub password_env: Option<String>,
}

impl std::fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerUrl({self})")
    }
}

/// The URL without its password.
impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.kind {
            ServerKind::Mysql => "mysql",
            ServerKind::Postgres => "postgres",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "{scheme}://{}@{host}:{}/{}",
            self.user, self.port, self.database
        )
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::config("database", message)
}

fn percent_decode(s: &str, what: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(format!("the {what} has a broken %-escape")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(format!("the {what} is not UTF-8")))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl ServerUrl {
    /// Parses a server URL. The database name is 1-64 characters of A-Z, a-z, 0-9 and `_`
    /// (Cohort may create it, so it is never quoted into SQL unchecked).
    pub fn parse(text: &str) -> Result<ServerUrl> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| bad("expected mysql://… or postgres://…"))?;
        let kind = match scheme {
            "mysql" | "mariadb" => ServerKind::Mysql,
            "postgres" | "postgresql" => ServerKind::Postgres,
            other => {
                return Err(bad(format!(
                    "unknown scheme {:?}; use mysql://, mariadb://, postgres:// or postgresql:// \
                     (or a file path for SQLite)",
                    crate::error::clip(other)
                )))
            }
        };
        let (main, query) = match rest.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (rest, None),
        };
        let (authority, database) = main
            .split_once('/')
            .ok_or_else(|| bad("the URL names no database (…/cohort at its end)"))?;
        if database.is_empty()
            || database.len() > 64
            || !database
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            return Err(bad(
                "the database name must be 1-64 characters of A-Z, a-z, 0-9 and _",
            ));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((name, pw)) => (
                    Some(percent_decode(name, "user")?),
                    Some(percent_decode(pw, "password")?),
                ),
                None => (Some(percent_decode(u, "user")?), None),
            },
        };
        let default_port = match kind {
            ServerKind::Mysql => 3306,
            ServerKind::Postgres => 5432,
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("an IPv6 host needs its closing ]"))?;
            match after.strip_prefix(':') {
                Some(p) => (h.to_string(), Some(p)),
                None if after.is_empty() => (h.to_string(), None),
                None => return Err(bad("unexpected text after the IPv6 host")),
            }
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("the URL names no host"));
        }
        let port =
            match port {
                None => default_port,
                Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    bad(format!("port {:?} is not 1-65535", crate::error::clip(p)))
                })?,
            };
        let user = user.filter(|u| !u.is_empty()).ok_or_else(|| {
            bad("the URL names no user (mysql://USER@host/db, postgres://USER@host/db)")
        })?;
        let (tls_key, ca_key) = match kind {
            ServerKind::Mysql => ("ssl-mode", "ssl-ca"),
            ServerKind::Postgres => ("sslmode", "sslrootcert"),
        };
        let mut tls = None;
        let mut ca_file = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v, k)?;
            if k == tls_key {
                tls = Some(match v.to_ascii_lowercase().as_str() {
                    "require" | "required" | "verify-full" | "verify_identity" => TlsMode::Require,
                    "disable" | "disabled" => TlsMode::Disable,
                    _ => {
                        return Err(bad(format!(
                            "{k} is \"require\" (verified TLS) or \"disable\" (plain TCP)"
                        )))
                    }
                });
            } else if k == ca_key {
                ca_file = Some(PathBuf::from(v));
            } else {
                return Err(bad(format!(
                    "unknown URL parameter {:?}; this URL takes {tls_key} and {ca_key}",
                    crate::error::clip(k)
                )));
            }
        }
        let tls = tls.unwrap_or(if is_loopback(&host) {
            TlsMode::Disable
        } else {
            TlsMode::Require
        });
        if tls == TlsMode::Disable && ca_file.is_some() {
            return Err(bad(format!("{ca_key} needs {tls_key}=require")));
        }
        Ok(ServerUrl {
            kind,
            user,
            password,
            host,
            port,
            database: database.to_string(),
            tls,
            ca_file,
            password_env: None,
        })
    }

    /// The password to log in with: from the environment variable `database_password_env`
    /// names, else the one written in the URL, else none.
    pub fn password(&self) -> Result<Option<String>> {
        match &self.password_env {
            Some(var) => match std::env::var(var) {
                Ok(v) => Ok(Some(v)),
                Err(_) => Err(Error::config(
                    "database_password_env",
                    format!("the environment variable {var} is not set (or not UTF-8)"),
                )),
            },
            None => Ok(self.password.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_with_defaults() {
        let u = ServerUrl::parse("mysql://root@127.0.0.1:3307/cohort").unwrap();
        assert_eq!(
            (
                u.kind,
                u.user.as_str(),
                u.host.as_str(),
                u.port,
                u.database.as_str(),
                u.tls
            ),
            (
                ServerKind::Mysql,
                "root",
                "127.0.0.1",
                3307,
                "cohort",
                TlsMode::Disable
            )
        );
        let u = ServerUrl::parse("postgres://panel@db.example.net/cohort").unwrap();
        assert_eq!((u.port, u.tls), (5432, TlsMode::Require));
        let u = ServerUrl::parse("postgresql://p:s%40cret@[::1]:6000/c?sslmode=require").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.password.as_deref(), u.tls),
            ("::1", 6000, Some("s@cret"), TlsMode::Require)
        );
        assert_eq!(u.to_string(), "postgres://p@[::1]:6000/c");
        assert!(!format!("{u:?}").contains("cret"));
    }

    #[test]
    fn the_password_variable_is_for_servers_and_names_one() {
        let base = std::path::Path::new("/etc/cohort");
        let d = Database::from_setting("mysql://u@h/db", base, Some("PW")).unwrap();
        assert!(matches!(&d, Database::Server(u) if u.password_env.as_deref() == Some("PW")));
        for (db, var, says) in [
            ("mysql://u@h/db", "", "names no variable"),
            ("mysql://u:pw@h/db", "PW", "holds a password too"),
            ("cohort.db", "PW", "not a SQLite file"),
        ] {
            let e = Database::from_setting(db, base, Some(var))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{db} {var:?}: {e}");
        }
        assert_eq!(
            Database::from_setting("cohort.db", base, None).unwrap(),
            Database::Sqlite(base.join("cohort.db"))
        );
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for (url, says) in [
            ("redis://x@h/db", "unknown scheme"),
            ("mysql://h/db", "names no user"),
            ("mysql://u@h", "names no database"),
            ("mysql://u@h/co-hort", "database name"),
            ("mysql://u@h:0/db", "port"),
            ("mysql://u@h:99999/db", "port"),
            ("mysql://u@h/db?sslmode=require", "unknown URL parameter"),
            ("postgres://u@h/db?sslmode=prefer", "require"),
            (
                "postgres://u@h/db?sslmode=disable&sslrootcert=/ca.pem",
                "needs sslmode=require",
            ),
            ("mysql://u@/db", "names no host"),
        ] {
            let e = ServerUrl::parse(url).unwrap_err().to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
    }
}
