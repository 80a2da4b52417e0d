//! `check` answers from a memo; these tests prove it never serves an answer that a commit by
//! another connection or another process has made stale.

#[path = "common/db.rs"]
mod db;

use cohort_core::config::create_key_file;
use cohort_core::{Config, Engine, Permissions};
use std::path::Path;
use std::process::Command;

const ACCOUNT: &str = "1042";
const OWNER: &str = "owner@acme.example";
const MEMBER: &str = "member@acme.example";

fn config(dir: &Path) -> Config {
    Config::new(db::database_for(dir, "cohort.db"), dir.join("keys"), "k1")
}

fn setup(dir: &Path) -> Engine {
    create_key_file(&dir.join("keys"), "k1").unwrap();
    let e = Engine::create(config(dir)).unwrap();
    e.upsert_account(ACCOUNT, "Acme", OWNER).unwrap();
    e.upsert_user(MEMBER, Some("M"), None).unwrap();
    let sent = e
        .invite(
            OWNER,
            ACCOUNT,
            MEMBER,
            &e.catalogue().chosen(["invoices"]).unwrap(),
            None,
        )
        .unwrap();
    e.accept(&sent.token, MEMBER).unwrap();
    e
}

fn keys(e: &Engine, k: &[&str]) -> Permissions {
    e.catalogue().chosen(k.iter()).unwrap()
}

#[test]
fn another_connection_change_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = setup(dir.path());
    let b = Engine::open(config(dir.path())).unwrap();
    for round in 0..300 {
        let (on, off) = if round % 2 == 0 {
            ("tickets", "invoices")
        } else {
            ("invoices", "tickets")
        };
        // Warm the memo of `a` with the current answers.
        assert!(a.check(ACCOUNT, MEMBER, off).unwrap(), "round {round}");
        assert!(!a.check(ACCOUNT, MEMBER, on).unwrap(), "round {round}");
        b.set_permissions(OWNER, ACCOUNT, MEMBER, &keys(&b, &[on]))
            .unwrap();
        assert!(
            a.check(ACCOUNT, MEMBER, on).unwrap(),
            "round {round}: stale deny after grant"
        );
        assert!(
            !a.check(ACCOUNT, MEMBER, off).unwrap(),
            "round {round}: stale allow after removal"
        );
    }
    b.revoke(OWNER, ACCOUNT, MEMBER).unwrap();
    assert!(
        !a.check(ACCOUNT, MEMBER, "invoices").unwrap(),
        "stale allow after revoke"
    );
    assert!(!a.check(ACCOUNT, MEMBER, "tickets").unwrap());
}

#[test]
fn own_writes_are_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = setup(dir.path());
    assert!(a.check(ACCOUNT, MEMBER, "invoices").unwrap());
    assert!(
        a.check(ACCOUNT, "MEMBER@Acme.Example ", "invoices")
            .unwrap(),
        "emails compare case-insensitively"
    );
    a.set_permissions(OWNER, ACCOUNT, MEMBER, &Permissions::All)
        .unwrap();
    assert!(a.check(ACCOUNT, MEMBER, "orders").unwrap());
    a.transfer_ownership(OWNER, ACCOUNT, MEMBER).unwrap();
    a.set_permissions(MEMBER, ACCOUNT, OWNER, &keys(&a, &["tickets"]))
        .unwrap();
    assert!(
        !a.check(ACCOUNT, OWNER, "orders").unwrap(),
        "former owner lost keys"
    );
    assert!(
        a.check(ACCOUNT, MEMBER, "orders").unwrap(),
        "new owner holds every key"
    );
    assert!(!a.check(ACCOUNT, "nobody@acme.example", "orders").unwrap());
    assert!(!a.check("no-such-account", MEMBER, "orders").unwrap());
    assert!(!a.check(ACCOUNT, "not an email", "orders").unwrap());
}

const CHILD_ENV: &str = "COHORT_CHECK_FRESH_CHILD";

/// Child role: applies one permission change to the database named in the environment.
#[test]
fn child_process_role() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (dir, perm) = spec.split_once('|').unwrap();
    let e = Engine::open(config(Path::new(dir))).unwrap();
    let p = if perm == "revoke" {
        e.revoke(OWNER, ACCOUNT, MEMBER).unwrap();
        return;
    } else {
        keys(&e, &[perm])
    };
    e.set_permissions(OWNER, ACCOUNT, MEMBER, &p).unwrap();
}

#[test]
fn another_process_change_is_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = setup(dir.path());
    let exe = std::env::current_exe().unwrap();
    let run_child = |what: &str| {
        let st = Command::new(&exe)
            .args([
                "--exact",
                "child_process_role",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{}|{what}", dir.path().display()))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    };
    for round in 0..20 {
        let (on, off) = if round % 2 == 0 {
            ("tickets", "invoices")
        } else {
            ("invoices", "tickets")
        };
        assert!(a.check(ACCOUNT, MEMBER, off).unwrap(), "round {round}");
        assert!(!a.check(ACCOUNT, MEMBER, on).unwrap(), "round {round}");
        run_child(on);
        assert!(
            a.check(ACCOUNT, MEMBER, on).unwrap(),
            "round {round}: stale deny after another process granted"
        );
        assert!(
            !a.check(ACCOUNT, MEMBER, off).unwrap(),
            "round {round}: stale allow after another process removed"
        );
    }
    run_child("revoke");
    assert!(
        !a.check(ACCOUNT, MEMBER, "tickets").unwrap(),
        "stale allow after another process revoked"
    );
    assert!(!a.check(ACCOUNT, MEMBER, "invoices").unwrap());
}
