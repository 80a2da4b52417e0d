//! `cohort db copy`'s core: an installation moved from SQLite to each server database and back
//! loses nothing (compared row for row), pending invites keep working links, and a target that
//! holds Cohort data is refused unless replacing is asked for.
//!
//! The server legs run when scripts/test.d/55-servers.sh provides `COHORT_TEST_MYSQL` and
//! `COHORT_TEST_POSTGRES`; SQLite to SQLite always runs.

mod common;

use cohort_core::config::{Database, ServerUrl};
use cohort_core::store::{copy, OpenMode, OpenOptions, Store};
use cohort_core::{ContactInput, Engine, ErrorCode, ManualClock, NotifyKind, Permissions};
use common::*;
use std::sync::Arc;

/// A SQLite installation with something in every table: members (one with notification
/// settings), a pending and an expired invite, a contact, a login with Last Login, the audit.
fn populated() -> (Fixture, String) {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    cohort_core::config::create_key_file(&keys_dir, "k1").unwrap();
    let cfg = cohort_core::Config::new(dir.path().join("src.db"), keys_dir, "k1");
    let clock = ManualClock::new(T0);
    let engine = Engine::create_with_clock(cfg, Arc::new(clock.clone())).unwrap();
    engine.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
    let f = Fixture { dir, clock, engine };
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    f.member("ops@acme.example", &Permissions::All);
    f.engine.record_login("dev@acme.example").unwrap();
    f.engine
        .set_member_notifications(OWNER, ACCOUNT, "dev@acme.example", &[NotifyKind::Invoice])
        .unwrap();
    f.engine
        .contact_add(
            OWNER,
            ACCOUNT,
            &ContactInput {
                first_name: Some("Bea".into()),
                last_name: Some("Billing".into()),
                email: Some("billing@acme.example".into()),
                notify: Some(vec!["invoice".into(), "domain".into()]),
                ..ContactInput::default()
            },
        )
        .unwrap();
    let old = f.invite("late@acme.example", &keys(&["domains"]));
    let _ = old;
    f.clock.advance(8 * DAY);
    f.engine.expire_due().unwrap();
    let pending = f.invite("new@acme.example", &keys(&["tickets"])).link;
    (f, pending)
}

fn open(db: &Database, mode: OpenMode) -> Store {
    Store::open(
        db,
        OpenOptions {
            mode,
            ..OpenOptions::default()
        },
    )
    .unwrap()
}

fn server(var: &str, name: &str) -> Option<Database> {
    let base = std::env::var(var).ok().filter(|s| !s.is_empty())?;
    Some(Database::Server(
        ServerUrl::parse(&format!("{base}/{name}_{}", std::process::id())).unwrap(),
    ))
}

/// Copies the populated SQLite database to `target`, checks every row and that the pending
/// link is accepted there, then copies it back into a new SQLite file.
fn round_trip(target: Database) {
    let (f, link) = populated();
    let source = f.engine.config().database.clone();
    let before = f.dump();
    assert!(before.iter().any(|l| l.starts_with("contacts:")));
    assert!(before.iter().any(|l| l.contains("\"expired\"")));

    let mut src = open(&source, OpenMode::Existing);
    let mut dst = open(&target, OpenMode::Create);
    let report = copy::copy(&mut src, &mut dst, "src", "dst", false).unwrap();
    let total: usize = report.tables.iter().map(|(_, n)| n).sum();
    assert_eq!(total, before.len());
    assert_eq!(report.replaced, 0);
    drop(dst);

    // The target, opened as a panel would, holds the same rows and takes the pending link.
    let mut cfg = f.engine.config().clone();
    cfg.database = target.clone();
    let there = Engine::open_with_clock(cfg.clone(), Arc::new(f.clock.clone())).unwrap();
    assert_eq!(there.dump().unwrap(), before, "rows differ after the copy");
    there
        .accept_register(&link, "new@acme.example", "New")
        .unwrap();
    assert!(there.check(ACCOUNT, "new@acme.example", "tickets").unwrap());
    // New rows get fresh ids past the copied ones (identity sequences moved on).
    there
        .invite(
            OWNER,
            ACCOUNT,
            "more@acme.example",
            &keys(&["tickets"]),
            None,
        )
        .unwrap();
    let after_use = there.dump().unwrap();
    // A login, its membership, an invite, and their three audit entries.
    assert_eq!(after_use.len(), before.len() + 6, "{after_use:#?}");

    // Copying again into the now non-empty target is refused and changes nothing there.
    let mut src = open(&source, OpenMode::Existing);
    let mut dst = open(&target, OpenMode::Existing);
    let e = copy::copy(&mut src, &mut dst, "src", "dst", false).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e}");
    assert!(e.to_string().contains("already holds Cohort data"), "{e}");
    assert_eq!(there.dump().unwrap(), after_use);
    // With replace, the target becomes the source again.
    let report = copy::copy(&mut src, &mut dst, "src", "dst", true).unwrap();
    assert_eq!(report.replaced, after_use.len());
    assert_eq!(there.dump().unwrap(), before);
    drop((src, dst));

    // And back to SQLite: a new file with the same rows.
    let back = Database::Sqlite(f.dir.path().join("back.db"));
    let mut src = open(&target, OpenMode::Existing);
    let mut dst = open(&back, OpenMode::Create);
    copy::copy(&mut src, &mut dst, "dst", "back", false).unwrap();
    drop(dst);
    cfg.database = back;
    let home = Engine::open_with_clock(cfg, Arc::new(f.clock.clone())).unwrap();
    assert_eq!(home.dump().unwrap(), before);
    home.accept_register(&link, "new@acme.example", "New")
        .unwrap();
}

#[test]
fn sqlite_to_sqlite_and_back() {
    let d = tempfile::tempdir().unwrap();
    round_trip(Database::Sqlite(d.path().join("copy.db")));
}

#[test]
fn sqlite_to_mysql_and_back() {
    match server("COHORT_TEST_MYSQL", "copy") {
        Some(db) => round_trip(db),
        None => eprintln!("COHORT_TEST_MYSQL unset: the MariaDB leg runs in 55-servers"),
    }
}

#[test]
fn sqlite_to_postgres_and_back() {
    match server("COHORT_TEST_POSTGRES", "copy") {
        Some(db) => round_trip(db),
        None => eprintln!("COHORT_TEST_POSTGRES unset: the PostgreSQL leg runs in 55-servers"),
    }
}
