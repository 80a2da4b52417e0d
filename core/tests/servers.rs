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
