//! What only a server database can do wrong: be unreachable, refuse the login, fail TLS, drop
//! the connection, hold someone else's tables, or compare text by a loose collation. The
//! server cases run when scripts/test.d/55-servers.sh provides `COHORT_TEST_MYSQL` and
//! `COHORT_TEST_POSTGRES`; the unreachable-server cases always run.

mod common;

use cohort_core::config::{Database, ServerUrl};
use cohort_core::{Config, Engine, ErrorCode, Permissions};
use common::*;

fn config(dir: &std::path::Path, url: &str) -> Config {
    let keys = dir.join("keys");
    if !keys.exists() {
        cohort_core::config::create_key_file(&keys, "k1").unwrap();
    }
    Config::new(Database::Server(ServerUrl::parse(url).unwrap()), keys, "k1")
}

fn servers() -> Vec<(&'static str, String)> {
    ["COHORT_TEST_MYSQL", "COHORT_TEST_POSTGRES"]
        .into_iter()
        .filter_map(|v| Some((v, std::env::var(v).ok().filter(|s| !s.is_empty())?)))
        .collect()
}

fn unique(base: &str, what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{base}/{what}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[test]
fn an_unreachable_server_is_a_clear_error_naming_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "mysql://cohort@127.0.0.1:1/cohort",
        "postgres://cohort@127.0.0.1:1/cohort",
    ] {
        let e = Engine::open(config(dir.path(), url)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unavailable, "{url}: {e}");
        assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    }
}

#[test]
fn a_missing_database_is_refused_and_create_makes_it() {
    for (var, base) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let url = unique(&base, "missing");
        let e = Engine::open(config(dir.path(), &url)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Io, "{var}: {e}");
        assert!(e.to_string().contains("cohort init"), "{e}");
        let made = Engine::create(config(dir.path(), &url)).unwrap();
        made.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
        drop(made);
        let again = Engine::open(config(dir.path(), &url)).unwrap();
        assert_eq!(again.account(ACCOUNT).unwrap().name, ACCOUNT_NAME);
    }
}

#[test]
fn a_wrong_password_and_a_missing_password_variable_are_clear() {
    for (var, base) in servers() {
        if var != "COHORT_TEST_MYSQL" {
            continue; // the test PostgreSQL trusts loopback: it asks no password
        }
        let dir = tempfile::tempdir().unwrap();
        let url = unique(&base, "pw").replacen("root@", "root:wrong@", 1);
        let e = Engine::create(config(dir.path(), &url)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unavailable, "{e}");
        assert!(e.to_string().contains("refused the login"), "{e}");
        assert!(
            !e.to_string().contains("wrong"),
            "the password is never shown: {e}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "mysql://cohort@127.0.0.1:1/cohort");
    if let Database::Server(u) = &mut cfg.database {
        u.password_env = Some("COHORT_TEST_NO_SUCH_VARIABLE".into());
    }
    let e = Engine::open(cfg).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Config, "{e}");
    assert!(
        e.to_string().contains("COHORT_TEST_NO_SUCH_VARIABLE"),
        "{e}"
    );
}

#[test]
fn tls_is_verified_against_the_configured_ca() {
    // scripts/servers.sh gives both servers a certificate for 127.0.0.1 signed by a throwaway
    // CA (COHORT_TEST_TLS_CA).
    let Ok(ca) = std::env::var("COHORT_TEST_TLS_CA") else {
        return;
    };
    for (var, base) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let (mode, ca_key) = if var == "COHORT_TEST_MYSQL" {
            ("ssl-mode=require", "ssl-ca")
        } else {
            ("sslmode=require", "sslrootcert")
        };
        // With the CA: a verified, encrypted connection.
        let url = format!("{}?{mode}&{ca_key}={ca}", unique(&base, "tls"));
        let e = Engine::create(config(dir.path(), &url)).unwrap();
        e.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
        assert!(e.check(ACCOUNT, OWNER, "invoices").unwrap(), "{var}");
        let db = Database::Server(ServerUrl::parse(&url).unwrap());
        let mut raw = cohort_core::store::Store::open(&db, Default::default()).unwrap();
        let encrypted = raw
            .read(|c| {
                let sql = if var == "COHORT_TEST_MYSQL" {
                    "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
                     WHERE VARIABLE_NAME = 'SSL_CIPHER'"
                } else {
                    "SELECT CASE WHEN ssl THEN 'on' ELSE '' END FROM pg_stat_ssl \
                     WHERE pid = pg_backend_pid()"
                };
                Ok(c.row(sql, &[])?
                    .map(|r| r.text(0).unwrap())
                    .unwrap_or_default())
            })
            .unwrap();
        assert!(!encrypted.is_empty(), "{var}: the session is not encrypted");
        // Without it, the web's roots do not know the test CA: refused, saying why.
        let url = format!("{}?{mode}", unique(&base, "tls"));
        let err = Engine::create(config(dir.path(), &url)).unwrap_err();
        let text = err.to_string().to_lowercase();
        assert!(
            text.contains("certificate") || text.contains("tls") || text.contains("ssl"),
            "{var}: the message says TLS failed: {err}"
        );
        assert_eq!(err.code(), ErrorCode::Unavailable, "{var}: {err}");
        assert!(
            text.contains("certificate"),
            "{var}: says what failed: {err}"
        );
    }
}

#[test]
fn a_database_holding_other_tables_is_refused() {
    for (var, base) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let url = unique(&base, "foreign");
        // Made by Cohort, then its schema marker removed: as a database of another program
        // that happens to have a `users` table.
        Engine::create(config(dir.path(), &url)).unwrap();
        let mut raw = cohort_core::store::Store::open(
            &Database::Server(ServerUrl::parse(&url).unwrap()),
            Default::default(),
        )
        .unwrap();
        raw.write(|c| c.exec("DROP TABLE cohort_schema", &[]).map(|_| ()))
            .unwrap();
        drop(raw);
        let e = Engine::create(config(dir.path(), &url)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Io, "{var}: {e}");
        assert!(e.to_string().contains("not a Cohort database"), "{e}");
    }
}

#[test]
fn ids_compare_byte_for_byte() {
    for (var, base) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::create(config(dir.path(), &unique(&base, "bin"))).unwrap();
        e.upsert_account("Acme", "Upper", OWNER).unwrap();
        e.upsert_account("acme", "Lower", "other@acme.example")
            .unwrap();
        assert_eq!(e.account("Acme").unwrap().name, "Upper", "{var}");
        assert_eq!(e.account("acme").unwrap().name, "Lower", "{var}");
        assert_eq!(
            e.account("acme").unwrap().owner.as_str(),
            "other@acme.example"
        );
    }
}

/// Ends this engine's server connection from the server's side, as a restart or an idle
/// timeout would (through the drivers themselves: Cohort opens only Cohort databases).
fn kill_connections(var: &str, db_url: &str) {
    let u = ServerUrl::parse(db_url).unwrap();
    let killed = if var == "COHORT_TEST_MYSQL" {
        use mysql::prelude::Queryable;
        let mut c = mysql::Conn::new(
            mysql::OptsBuilder::new()
                .ip_or_hostname(Some(u.host.clone()))
                .tcp_port(u.port)
                .user(Some(u.user.clone()))
                .prefer_socket(false),
        )
        .unwrap();
        let ids: Vec<u64> = c
            .exec(
                "SELECT id FROM information_schema.processlist WHERE db = ?",
                (&u.database,),
            )
            .unwrap();
        for id in &ids {
            c.query_drop(format!("KILL {id}")).unwrap();
        }
        ids.len()
    } else {
        let mut cfg = postgres::Config::new();
        cfg.host(&u.host)
            .port(u.port)
            .user(&u.user)
            .dbname("postgres");
        let mut c = cfg.connect(postgres::NoTls).unwrap();
        c.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&u.database],
        )
        .unwrap()
        .len()
    };
    assert!(killed >= 1, "{var}: no connection of the engine found");
}

#[test]
fn a_dropped_connection_is_replaced_on_the_next_call() {
    for (var, base) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let url = unique(&base, "drop");
        let e = Engine::create(config(dir.path(), &url)).unwrap();
        e.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
        let sent = e
            .invite(
                OWNER,
                ACCOUNT,
                "dev@acme.example",
                &keys(&["tickets"]),
                None,
            )
            .unwrap();
        // A write after the drop: its transaction starts on a dead connection, is replaced.
        kill_connections(var, &url);
        e.accept_register(&sent.token, "dev@acme.example", "Dev")
            .unwrap();
        // A check after the drop: one statement, replayed on a new connection.
        kill_connections(var, &url);
        assert!(
            e.check(ACCOUNT, "dev@acme.example", "tickets").unwrap(),
            "{var}"
        );
        // A read after the drop.
        kill_connections(var, &url);
        assert_eq!(e.members(ACCOUNT).unwrap().len(), 2, "{var}");
        e.set_permissions(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All)
            .unwrap();
    }
}

/// A TCP proxy in front of a server that can cut a connection at its COMMIT: before the COMMIT
/// reaches the server (it rolls back), or after the server has committed but before its answer
/// comes back. Either way the client cannot know the outcome.
mod cutter {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::Arc;

    pub const PASS: u8 = 0;
    /// Drop the connection instead of forwarding the COMMIT.
    pub const BEFORE_COMMIT: u8 = 1;
    /// Forward the COMMIT, then drop the connection instead of forwarding the answer.
    pub const AFTER_COMMIT: u8 = 2;

    pub struct Cutter {
        pub port: u16,
        pub mode: Arc<AtomicU8>,
        /// How many connections were cut.
        pub cuts: Arc<AtomicU8>,
    }

    pub fn start(server_port: u16) -> Cutter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(PASS));
        let cuts = Arc::new(AtomicU8::new(0));
        let (m, k) = (mode.clone(), cuts.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(("127.0.0.1", server_port)).unwrap();
                let armed = Arc::new(AtomicU8::new(0));
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (m1, k1, a1) = (m.clone(), k.clone(), armed.clone());
                // client -> server
                std::thread::spawn(move || {
                    pump(client, server, |chunk, from, to| {
                        // The statement COMMIT alone: MySQL's COM_QUERY ends with its text,
                        // PostgreSQL's Query message with the text and a NUL (and neither is
                        // "READ COMMITTED" in a session's set-up).
                        if chunk.ends_with(b"COMMIT") || chunk.ends_with(b"COMMIT\0") {
                            match m1.swap(PASS, Ordering::SeqCst) {
                                BEFORE_COMMIT => {
                                    k1.fetch_add(1, Ordering::SeqCst);
                                    cut(from, to);
                                    return false;
                                }
                                AFTER_COMMIT => a1.store(1, Ordering::SeqCst),
                                _ => {}
                            }
                        }
                        true
                    })
                });
                // server -> client: the answer that ends the COMMIT's round trip is not passed
                // on. A round trip may hold several statements before the COMMIT, and MariaDB
                // answers each as it finishes: only the last answer says the COMMIT is done.
                let k2 = k.clone();
                std::thread::spawn(move || {
                    pump(s2, c2, |chunk, from, to| {
                        if armed.load(Ordering::SeqCst) == 1 && ends_round_trip(chunk) {
                            armed.store(0, Ordering::SeqCst);
                            k2.fetch_add(1, Ordering::SeqCst);
                            cut(from, to);
                            return false;
                        }
                        true
                    })
                });
            }
        });
        Cutter { port, mode, cuts }
    }

    /// Whether a chunk from the server ends the answer to a round trip: PostgreSQL's
    /// ReadyForQuery message, or a MySQL OK packet without SERVER_MORE_RESULTS_EXISTS.
    fn ends_round_trip(chunk: &[u8]) -> bool {
        if chunk
            .windows(6)
            .any(|w| w[0] == b'Z' && w[1..5] == [0, 0, 0, 5])
        {
            return true;
        }
        let mut last_ok_final = false;
        let mut p = chunk;
        while p.len() >= 4 {
            let len = usize::from(p[0]) | usize::from(p[1]) << 8 | usize::from(p[2]) << 16;
            let Some(payload) = p.get(4..4 + len) else {
                break;
            };
            if payload.first() == Some(&0) {
                // affected rows and last insert id (length-encoded), then the status flags.
                let mut i = 1;
                for _ in 0..2 {
                    i += match payload.get(i) {
                        Some(0xfc) => 3,
                        Some(0xfd) => 4,
                        Some(0xfe) => 9,
                        _ => 1,
                    };
                }
                if let Some(flags) = payload.get(i..i + 2) {
                    last_ok_final = u16::from_le_bytes([flags[0], flags[1]]) & 0x0008 == 0;
                }
            }
            p = &p[4 + len..];
        }
        last_ok_final
    }

    fn cut(a: &TcpStream, b: &TcpStream) {
        let _ = a.shutdown(Shutdown::Both);
        let _ = b.shutdown(Shutdown::Both);
    }

    /// Copies `from` to `to` until either ends or `keep` says stop.
    fn pump(
        mut from: TcpStream,
        mut to: TcpStream,
        mut keep: impl FnMut(&[u8], &TcpStream, &TcpStream) -> bool,
    ) {
        let mut buf = [0u8; 65536];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !keep(&buf[..n], &from, &to) || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    }
}

#[test]
fn a_connection_cut_at_commit_is_reported_as_unknown_never_retried() {
    use cutter::{AFTER_COMMIT, BEFORE_COMMIT};
    use std::sync::atomic::Ordering;
    for (var, base) in servers() {
        let dir = tempfile::tempdir().unwrap();
        let direct_url = unique(&base, "cut");
        let direct = Engine::create(config(dir.path(), &direct_url)).unwrap();
        direct.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
        let u = ServerUrl::parse(&direct_url).unwrap();
        let proxy = cutter::start(u.port);
        let cut_url =
            direct_url.replacen(&format!(":{}/", u.port), &format!(":{}/", proxy.port), 1);
        let e = Engine::open(config(dir.path(), &cut_url)).unwrap();
        let pending = |who: &Engine| -> Vec<String> {
            who.pending(ACCOUNT)
                .unwrap()
                .into_iter()
                .map(|i| i.email.to_string())
                .collect()
        };

        // Cut before the COMMIT reaches the server: it rolls back; the caller cannot know.
        proxy.mode.store(BEFORE_COMMIT, Ordering::SeqCst);
        let err = e
            .invite(
                OWNER,
                ACCOUNT,
                "before@acme.example",
                &keys(&["tickets"]),
                None,
            )
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CommitUnknown, "{var}: {err}");
        assert!(err.to_string().contains("may or may not"), "{err}");
        assert_eq!(
            proxy.cuts.load(Ordering::SeqCst),
            1,
            "{var}: the cut happened"
        );
        assert!(pending(&direct).is_empty(), "{var}: rolled back");

        // The engine goes on, on a new connection.
        assert!(pending(&e).is_empty(), "{var}");

        // Cut after the server committed: the change is there, and was not made twice.
        proxy.mode.store(AFTER_COMMIT, Ordering::SeqCst);
        let err = e
            .invite(
                OWNER,
                ACCOUNT,
                "after@acme.example",
                &keys(&["tickets"]),
                None,
            )
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::CommitUnknown, "{var}: {err}");
        assert_eq!(
            proxy.cuts.load(Ordering::SeqCst),
            2,
            "{var}: the second cut happened"
        );
        assert_eq!(
            pending(&direct),
            vec!["after@acme.example".to_string()],
            "{var}"
        );
        assert_eq!(pending(&e), vec!["after@acme.example".to_string()], "{var}");
        let creates = direct
            .audit(ACCOUNT, 0, 100)
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "invite.create")
            .count();
        assert_eq!(creates, 1, "{var}: never repeated");
    }
}
