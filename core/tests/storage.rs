//! The database file: pragmas, schema version, and sharing between engines.

mod common;

use cohort_core::config::Synchronous;
use cohort_core::store::{OpenMode, OpenOptions, Store, SCHEMA_VERSION};
use cohort_core::{Engine, ErrorCode, Permissions};
use common::*;

#[test]
fn store_runs_wal_full_sync_foreign_keys_and_a_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(
        &path.clone().into(),
        OpenOptions {
            mode: OpenMode::Create,
            busy_timeout_ms: 1_234,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let c = store.sqlite_conn().unwrap();
    let pragma = |name: &str| -> String {
        c.query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
    };
    assert_eq!(pragma("journal_mode"), "wal");
    assert_eq!(pragma("synchronous"), "2", "FULL");
    assert_eq!(pragma("foreign_keys"), "1");
    assert_eq!(pragma("busy_timeout"), "1234");
    assert_eq!(pragma("user_version"), SCHEMA_VERSION.to_string());
    drop(store);
    let normal = Store::open(
        &path.clone().into(),
        OpenOptions {
            synchronous: Synchronous::Normal,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let sync: i64 = normal
        .sqlite_conn()
        .unwrap()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 1, "NORMAL");
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let f = Fixture::new();
    let cfg = f.engine.config().clone();
    let path = sqlite_path(&cfg);
    drop(f.engine);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    drop(c);
    let e = Engine::open(cfg).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SchemaTooNew);
    let msg = e.to_string();
    assert!(msg.contains(&(SCHEMA_VERSION + 1).to_string()), "{msg}");
    assert!(msg.contains("upgrade"), "{msg}");
    // Nothing was changed by the refused open.
    let c = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION + 1);
}

#[test]
fn reopening_keeps_everything_and_engines_see_each_others_writes() {
    let f = Fixture::new();
    let other = f.reopen();
    let sent = f.invite("dev@acme.example", &Permissions::All);
    assert!(other.inspect(&sent.token).unwrap().valid);
    other
        .accept_register(&sent.token, "dev@acme.example", "Dev")
        .unwrap();
    assert_eq!(f.engine.members(ACCOUNT).unwrap().len(), 2);
    let before = f.dump();
    drop(other);
    let again = f.reopen();
    assert_eq!(again.dump().unwrap(), before);
}

#[test]
fn foreign_keys_hold() {
    // Every membership points at an existing account and user: the schema refuses orphans.
    let f = Fixture::new();
    let c = rusqlite::Connection::open(sqlite_path(f.engine.config())).unwrap();
    c.execute_batch("PRAGMA foreign_keys=ON").unwrap();
    let r = c.execute(
        "INSERT INTO memberships (account_id, user_id, role, perm_all, perms, joined_at) \
         VALUES ('nope', 999, 'member', 1, '', 0)",
        [],
    );
    assert!(r.is_err());
    let r = c.execute(
        "UPDATE memberships SET role = 'admin' WHERE account_id = ?1",
        [ACCOUNT],
    );
    assert!(r.is_err(), "role is owner or member");
}

#[test]
fn check_sees_every_commit_from_this_and_other_engines() {
    let f = Fixture::new();
    let other = f.reopen();
    f.member("dev@acme.example", &keys(&["tickets"]));
    // Answers read (and perhaps remembered) before each change must not outlive it.
    assert!(f
        .engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
    assert!(other.check(ACCOUNT, "dev@acme.example", "tickets").unwrap());

    other
        .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&["invoices"]))
        .unwrap();
    assert!(!f
        .engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
    assert!(f
        .engine
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());
    assert!(other
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());

    f.engine.revoke(OWNER, ACCOUNT, "dev@acme.example").unwrap();
    assert!(!f
        .engine
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());
    assert!(!other
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());

    // A stranger's "no" is not remembered past the accept that makes them a member.
    assert!(!other.check(ACCOUNT, "new@acme.example", "emails").unwrap());
    let sent = f.invite("new@acme.example", &Permissions::All);
    f.engine
        .accept_register(&sent.token, "new@acme.example", "New")
        .unwrap();
    assert!(other.check(ACCOUNT, "NEW@acme.example", "emails").unwrap());
    assert!(f
        .engine
        .check(ACCOUNT, "new@acme.example", "emails")
        .unwrap());

    // Ownership moves: the new owner holds every key at once, on both engines.
    other
        .transfer_ownership(OWNER, ACCOUNT, "new@acme.example")
        .unwrap();
    other
        .set_permissions("new@acme.example", ACCOUNT, OWNER, &keys(&["profile"]))
        .unwrap();
    assert!(!f.engine.check(ACCOUNT, OWNER, "emails").unwrap());
    assert!(f.engine.check(ACCOUNT, OWNER, "profile").unwrap());
}

#[test]
fn check_sees_commits_from_another_process() {
    // A raw connection stands in for another process writing the same file.
    let f = Fixture::new();
    f.member("dev@acme.example", &Permissions::All);
    assert!(f
        .engine
        .check(ACCOUNT, "dev@acme.example", "orders")
        .unwrap());
    let c = rusqlite::Connection::open(sqlite_path(f.engine.config())).unwrap();
    c.execute(
        "UPDATE memberships SET perm_all = 0, perms = 'tickets' \
         WHERE user_id = (SELECT id FROM users WHERE email = 'dev@acme.example')",
        [],
    )
    .unwrap();
    assert!(!f
        .engine
        .check(ACCOUNT, "dev@acme.example", "orders")
        .unwrap());
    assert!(f
        .engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
}

#[test]
fn check_follows_writes_on_an_in_memory_database() {
    // Without a database file there is no WAL index to watch; answers must still follow writes.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config_in(dir.path());
    cfg.database = std::path::PathBuf::from(":memory:").into();
    let engine = Engine::open(cfg).unwrap();
    engine.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
    let sent = engine
        .invite(
            OWNER,
            ACCOUNT,
            "dev@acme.example",
            &keys(&["tickets"]),
            None,
        )
        .unwrap();
    assert!(!engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
    engine
        .accept_register(&sent.token, "dev@acme.example", "Dev")
        .unwrap();
    assert!(engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
    engine
        .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&["invoices"]))
        .unwrap();
    assert!(!engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
    assert!(engine
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());
    engine.revoke(OWNER, ACCOUNT, "dev@acme.example").unwrap();
    assert!(!engine
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());
}

#[test]
fn version_2_databases_migrate_and_keep_counting_past_sends() {
    let f = Fixture::with(|c| c.max_invites_per_day = 3);
    f.invite("a@acme.example", &keys(&["invoices"]));
    f.invite("b@acme.example", &keys(&["invoices"]));
    let cfg = f.engine.config().clone();
    let path = sqlite_path(&cfg);
    drop(f.engine);
    // Put the file back to version 2 as that release left it: the send log beside the audit.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE invite_sends (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL,
                 inviter_id INTEGER NOT NULL, at INTEGER NOT NULL);
             CREATE INDEX invite_sends_by_account ON invite_sends (account_id, at);
             CREATE INDEX invite_sends_by_inviter ON invite_sends (inviter_id, at);
             INSERT INTO invite_sends (account_id, inviter_id, at) VALUES ('1042', 1, 0), ('1042', 1, 0);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let e = Engine::open_with_clock(cfg, std::sync::Arc::new(f.clock.clone())).unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    let left: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'invite_sends%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0, "the send log is gone");
    // The two sends before the migration still count: one more fits, the fourth is refused.
    e.invite(OWNER, ACCOUNT, "c@acme.example", &keys(&["invoices"]), None)
        .unwrap();
    let err = e
        .invite(OWNER, ACCOUNT, "d@acme.example", &keys(&["invoices"]), None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited, "{err}");
}
