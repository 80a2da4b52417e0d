//! The MariaDB/MySQL backend (the `mysql` crate: pure Rust, synchronous).
//!
//! InnoDB tables in `utf8mb4` with the binary collation `utf8mb4_bin`, so that two emails or
//! account ids that differ in any byte never compare equal. Commits are durable with InnoDB's
//! defaults (`innodb_flush_log_at_trx_commit = 1`). Writes run in one READ COMMITTED
//! transaction each, and those that read an account's state first lock its row
//! ([`super::queries::lock_account`]); reads run in one REPEATABLE READ snapshot.

use super::server::{self, Driver, Lost, Outcome, Session};
use super::sql::{Arg, Cell, Row, Sql};
use super::{OpenMode, OpenOptions};
use crate::config::{ServerUrl, TlsMode};
use crate::error::{Error, Result};
use mysql::prelude::Queryable;

/// The schema, version 3 (the version SQLite reached when server databases arrived).
const SCHEMA_V3: &[&str] = &[
    "CREATE TABLE users (
        id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email       VARCHAR(254) NOT NULL,
        name        TEXT         NOT NULL,
        two_factor  BIGINT       NOT NULL DEFAULT 0,
        created_at  BIGINT       NOT NULL,
        last_login  BIGINT,
        UNIQUE KEY users_email (email)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE accounts (
        id          VARCHAR(128) NOT NULL PRIMARY KEY,
        name        TEXT         NOT NULL,
        owner_id    BIGINT       NOT NULL,
        created_at  BIGINT       NOT NULL,
        FOREIGN KEY (owner_id) REFERENCES users (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE memberships (
        account_id  VARCHAR(128) NOT NULL,
        user_id     BIGINT       NOT NULL,
        role        VARCHAR(16)  NOT NULL CHECK (role IN ('owner', 'member')),
        perm_all    BIGINT       NOT NULL,
        perms       TEXT         NOT NULL,
        invited_by  BIGINT,
        joined_at   BIGINT       NOT NULL,
        notify      TEXT,
        PRIMARY KEY (account_id, user_id),
        KEY memberships_by_user (user_id),
        FOREIGN KEY (account_id) REFERENCES accounts (id),
        FOREIGN KEY (user_id) REFERENCES users (id),
        FOREIGN KEY (invited_by) REFERENCES users (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE invites (
        id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
        account_id   VARCHAR(128) NOT NULL,
        email        VARCHAR(254) NOT NULL,
        perm_all     BIGINT       NOT NULL,
        perms        TEXT         NOT NULL,
        invited_by   BIGINT       NOT NULL,
        created_at   BIGINT       NOT NULL,
        expires_at   BIGINT       NOT NULL,
        status       VARCHAR(16)  NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled', 'declined', 'expired')),
        times_sent   BIGINT       NOT NULL,
        last_sent_at BIGINT       NOT NULL,
        accepted_by  BIGINT,
        closed_at    BIGINT,
        token_hash   VARBINARY(64) NOT NULL,
        KEY invites_by_account (account_id, status),
        KEY invites_by_status (status, expires_at),
        FOREIGN KEY (account_id) REFERENCES accounts (id),
        FOREIGN KEY (invited_by) REFERENCES users (id),
        FOREIGN KEY (accepted_by) REFERENCES users (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE audit (
        id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
        at          BIGINT       NOT NULL,
        actor       VARCHAR(254) NOT NULL,
        account_id  VARCHAR(128),
        action      VARCHAR(64)  NOT NULL,
        target      VARCHAR(254),
        old_value   TEXT,
        new_value   TEXT,
        KEY audit_by_account (account_id, at, action),
        KEY audit_by_actor (actor, at, action),
        KEY audit_by_target (target, at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE contacts (
        id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
        account_id  VARCHAR(128) NOT NULL,
        first_name  TEXT         NOT NULL,
        last_name   TEXT         NOT NULL,
        email       TEXT         NOT NULL,
        phone       TEXT         NOT NULL,
        company     TEXT         NOT NULL,
        user_id     BIGINT,
        notify      TEXT         NOT NULL,
        created_at  BIGINT       NOT NULL,
        updated_at  BIGINT       NOT NULL,
        KEY contacts_by_account (account_id),
        FOREIGN KEY (account_id) REFERENCES accounts (id),
        FOREIGN KEY (user_id) REFERENCES users (id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE cohort_schema (version BIGINT NOT NULL) ENGINE=InnoDB",
    "INSERT INTO cohort_schema (version) VALUES (3)",
];

/// Version 4: see the SQLite backend's `SCHEMA_V4`. One `ALTER TABLE` (atomic by itself), so
/// that a migration cut short leaves either index, and the next one does it again.
const SCHEMA_V4: &[&str] = &[
    "ALTER TABLE invites DROP INDEX invites_by_account, \
     ADD INDEX invites_by_account (account_id, status, email, expires_at)",
    "INSERT INTO cohort_schema (version) VALUES (4)",
];

/// A connection to a MariaDB/MySQL database.
pub struct MysqlStore {
    session: Session<MyDriver>,
}

/// How to reach the server.
struct MyDriver {
    url: ServerUrl,
    opts: OpenOptions,
}

fn lost(e: &mysql::Error) -> bool {
    match e {
        mysql::Error::IoError(_) => true,
        mysql::Error::DriverError(d) => matches!(
            d,
            mysql::DriverError::ConnectTimeout
                | mysql::DriverError::CouldNotConnect(_)
                | mysql::DriverError::PacketOutOfSync
                | mysql::DriverError::Timeout
        ),
        // 1927: connection killed; 1053: server shutdown in progress; 4031: idle disconnect.
        mysql::Error::MySqlError(m) => matches!(m.code, 1927 | 1053 | 4031),
        _ => false,
    }
}

/// Maps a driver error; `Lost` marks the ones that mean the connection is gone.
fn map(url: &ServerUrl, e: mysql::Error) -> Lost {
    if lost(&e) {
        return Lost::Connection(format!("{e}"));
    }
    Lost::No(match &e {
        mysql::Error::MySqlError(m) => match m.code {
            // Lock wait timeout, deadlock.
            1205 | 1213 => Error::Busy,
            1049 => Error::Io {
                path: url.to_string(),
                message: format!(
                    "the server has no database {:?}; create it with `cohort init` (or \
                     cohort_engine_create / Engine::create), or check the `database` setting",
                    url.database
                ),
            },
            1045 | 1044 | 1698 => Error::Unavailable {
                server: server::address(url),
                message: format!(
                    "the server refused the login of {:?}: {}",
                    url.user, m.message
                ),
            },
            _ => Error::Storage(format!("{} (MySQL error {})", m.message, m.code)),
        },
        mysql::Error::DriverError(mysql::DriverError::TlsNotSupported) => Error::Unavailable {
            server: server::address(url),
            message: "the server offers no TLS, which this connection requires (ssl-mode=require, \
                      the default for a server that is not on this machine); enable TLS on the \
                      server, or opt out with ssl-mode=disable on a network you trust"
                .into(),
        },
        _ => Error::Storage(e.to_string()),
    })
}

impl MysqlStore {
    pub fn open(url: &ServerUrl, opts: &OpenOptions) -> Result<MysqlStore> {
        let driver = MyDriver {
            url: url.clone(),
            opts: *opts,
        };
        if opts.mode == OpenMode::Create {
            let mut c = driver.connect_to(None)?;
            c.query_drop(format!(
                "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                url.database
            ))
            .map_err(|e| map(url, e).into_error(url))?;
        }
        let conn = driver.connect()?;
        let mut store = MysqlStore {
            session: Session::new(driver, conn),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let url = self.session.driver.url.clone();
        let mode = self.session.driver.opts.mode;
        let c = self.session.conn()?;
        let m = |e| map(&url, e).into_error(&url);
        // One migrator at a time across every process and node.
        let got: Option<i64> = c
            .query_first("SELECT GET_LOCK('cohort_schema', 30)")
            .map_err(m)?
            .flatten();
        if got != Some(1) {
            return Err(Error::Busy);
        }
        let out = (|| {
            let tables: Vec<String> = c
                .query(
                    "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
                     WHERE table_schema = DATABASE()",
                )
                .map_err(m)?;
            let found = if tables.iter().any(|t| t == "cohort_schema") {
                c.query_first::<i64, _>("SELECT MAX(version) FROM cohort_schema")
                    .map_err(m)?
                    .unwrap_or(0)
            } else {
                0
            };
            server::check_version(&url, found, &tables, mode)?;
            if found == 0 {
                for stmt in SCHEMA_V3 {
                    c.query_drop(*stmt).map_err(m)?;
                }
            }
            if found < 4 {
                for stmt in SCHEMA_V4 {
                    c.query_drop(*stmt).map_err(m)?;
                }
            }
            Ok(())
        })();
        let _ = c.query_drop("DO RELEASE_LOCK('cohort_schema')");
        out
    }

    /// Runs `f` in a transaction (`read_only`: a consistent snapshot that writes nothing).
    pub fn transact<T>(
        &mut self,
        read_only: bool,
        f: impl FnOnce(&dyn Sql) -> Result<T>,
    ) -> Result<T> {
        // Writes at READ COMMITTED (the session's level): after the row lock a write takes
        // first, every statement sees the latest commits. Reads take one snapshot.
        let begin: &[&str] = if read_only {
            &[
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                "START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT",
            ]
        } else {
            &["START TRANSACTION"]
        };
        self.session.transact(begin, f)
    }

    /// Runs `f` outside a transaction; see [`Session::single`].
    pub fn single<T>(&mut self, f: impl Fn(&dyn Sql) -> Result<T>) -> Result<T> {
        self.session.single(f)
    }
}

impl MyDriver {
    fn connect_to(&self, db: Option<&str>) -> Result<mysql::Conn> {
        let u = &self.url;
        let lock_wait_s = self.opts.busy_timeout_ms.div_ceil(1000).max(1);
        let mut b = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(u.host.clone()))
            .tcp_port(u.port)
            .user(Some(u.user.clone()))
            .pass(u.password()?)
            .db_name(db.map(str::to_string))
            .prefer_socket(false)
            .tcp_nodelay(true)
            .stmt_cache_size(128)
            .tcp_connect_timeout(Some(std::time::Duration::from_secs(10)))
            .init(vec![
                // Strict mode: a value that does not fit is an error, never silently cut.
                "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'".to_string(),
                format!("SET SESSION innodb_lock_wait_timeout = {lock_wait_s}"),
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_string(),
                "SET NAMES utf8mb4 COLLATE utf8mb4_bin".to_string(),
            ]);
        if u.tls == TlsMode::Require {
            let mut ssl = mysql::SslOpts::default();
            if let Some(ca) = &u.ca_file {
                ssl = ssl.with_root_cert_path(Some(ca.clone()));
            }
            b = b.ssl_opts(Some(ssl));
        }
        mysql::Conn::new(b).map_err(|e| server::connect_error(u, map(u, e)))
    }
}

impl Driver for MyDriver {
    type Conn = mysql::Conn;
    const TYPED_BATCH_ROWS: bool = true;

    fn url(&self) -> &ServerUrl {
        &self.url
    }

    fn connect(&self) -> Result<mysql::Conn> {
        self.connect_to(Some(&self.url.database))
    }

    fn simple(&self, conn: &mut mysql::Conn, sql: &str) -> std::result::Result<(), Lost> {
        conn.query_drop(sql).map_err(|e| map(&self.url, e))
    }

    fn exec(
        &self,
        conn: &mut mysql::Conn,
        sql: &str,
        args: &[Arg<'_>],
    ) -> std::result::Result<u64, Lost> {
        let r = conn
            .exec_iter(sql, params(args))
            .map_err(|e| map(&self.url, e))?;
        Ok(r.affected_rows())
    }

    fn insert(
        &self,
        conn: &mut mysql::Conn,
        sql: &str,
        args: &[Arg<'_>],
    ) -> std::result::Result<i64, Lost> {
        let r = conn
            .exec_iter(sql, params(args))
            .map_err(|e| map(&self.url, e))?;
        let id = r
            .last_insert_id()
            .ok_or_else(|| Lost::No(Error::Internal("INSERT returned no id".into())))?;
        i64::try_from(id).map_err(|_| Lost::No(Error::Internal("id out of range".into())))
    }

    fn rows(
        &self,
        conn: &mut mysql::Conn,
        sql: &str,
        args: &[Arg<'_>],
    ) -> std::result::Result<Vec<Row>, Lost> {
        let rows: Vec<mysql::Row> = conn
            .exec(sql, params(args))
            .map_err(|e| map(&self.url, e))?;
        Ok(rows.into_iter().map(|r| typed_row(r, cell)).collect())
    }

    /// Text as `_utf8mb4 X'…' COLLATE utf8mb4_bin`, bytes as `X'…'`: hexadecimal literals,
    /// which no character of the value (quote, backslash, NUL) can end early, whatever the
    /// session's `sql_mode`.
    fn render(&self, sql: &str, args: &[Arg<'_>], _insert: bool) -> Result<String> {
        server::substitute(sql, args, |out, a| {
            match *a {
                Arg::Int(v) => out.push_str(&v.to_string()),
                Arg::Text(t) => {
                    out.push_str("_utf8mb4 X'");
                    server::push_hex(out, t.as_bytes());
                    out.push_str("' COLLATE utf8mb4_bin");
                }
                Arg::Bytes(b) => {
                    out.push_str("X'");
                    server::push_hex(out, b);
                    out.push('\'');
                }
                Arg::Null => out.push_str("NULL"),
            }
            Ok(())
        })
    }

    fn batch(
        &self,
        conn: &mut mysql::Conn,
        stmts: &[String],
    ) -> std::result::Result<Vec<Outcome>, Lost> {
        let m = |e| map(&self.url, e);
        let mut outs = Vec::with_capacity(stmts.len());
        let mut result = conn.query_iter(stmts.join(";\n")).map_err(m)?;
        while let Some(mut set) = result.iter() {
            // Read before the rows: consuming them moves on to the next statement's answer.
            let affected = set.affected_rows();
            let id = set.last_insert_id().and_then(|v| i64::try_from(v).ok());
            let mut rows = Vec::new();
            for r in set.by_ref() {
                rows.push(typed_row(r.map_err(m)?, text_cell));
            }
            outs.push(Outcome { affected, id, rows });
        }
        Ok(outs)
    }
}

/// A row's values, each typed by its column with `cell`.
fn typed_row(r: mysql::Row, cell: fn(mysql::Value, &mysql::Column) -> Cell) -> Row {
    let cols = r.columns();
    Row(r
        .unwrap()
        .into_iter()
        .zip(cols.iter())
        .map(|(v, c)| cell(v, c))
        .collect())
}

/// A value of the text protocol (every value is bytes), typed by its column as the binary
/// protocol types it.
fn text_cell(v: mysql::Value, col: &mysql::Column) -> Cell {
    use mysql::consts::ColumnType::*;
    match (v, col.column_type()) {
        (
            mysql::Value::Bytes(b),
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG
            | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR,
        ) => match std::str::from_utf8(&b)
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
        {
            Some(i) => Cell::Int(i),
            None => cell(mysql::Value::Bytes(b), col),
        },
        (v, _) => cell(v, col),
    }
}

fn value(a: &Arg<'_>) -> mysql::Value {
    match *a {
        Arg::Int(v) => mysql::Value::Int(v),
        Arg::Text(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        Arg::Bytes(b) => mysql::Value::Bytes(b.to_vec()),
        Arg::Null => mysql::Value::NULL,
    }
}

fn params(args: &[Arg<'_>]) -> mysql::Params {
    if args.is_empty() {
        mysql::Params::Empty
    } else {
        mysql::Params::Positional(args.iter().map(value).collect())
    }
}

/// MySQL's character set number for binary strings.
const BINARY_CHARSET: u16 = 63;

/// A value read, typed by its column: bytes of a text column are text (UTF-8 by `SET NAMES`),
/// those of a binary column are bytes.
fn cell(v: mysql::Value, col: &mysql::Column) -> Cell {
    match v {
        mysql::Value::NULL => Cell::Null,
        mysql::Value::Int(i) => Cell::Int(i),
        mysql::Value::UInt(u) => Cell::Int(i64::try_from(u).unwrap_or(i64::MAX)),
        mysql::Value::Bytes(b) if col.character_set() == BINARY_CHARSET => Cell::Bytes(b),
        mysql::Value::Bytes(b) => match String::from_utf8(b) {
            Ok(s) => Cell::Text(s),
            Err(e) => Cell::Bytes(e.into_bytes()),
        },
        other => Cell::Text(other.as_sql(true)),
    }
}
