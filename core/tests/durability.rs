//! A process killed with SIGKILL in the middle of its writes loses none of the writes it was
//! told had committed, and leaves no half of a write behind: every invite row has its audit
//! entry and every `invite.create` entry its row. Runs against SQLite, and against a server
//! when `COHORT_TEST_DATABASE` names one (scripts/test.d/55-servers.sh).

mod common;

use cohort_core::{Engine, Permissions};
use common::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD_DIR: &str = "COHORT_DURABILITY_DIR";
const CHILD_INDEX: &str = "COHORT_DURABILITY_INDEX";
const WRITERS: usize = 4;
/// Acknowledged writes each writer reports before it is killed, per round.
const ACKS_BEFORE_KILL: usize = 10;
const ROUNDS: usize = 2;

fn config(dir: &Path) -> cohort_core::Config {
    let mut cfg = cohort_core::Config::new(database_for(dir, "cohort.db"), dir.join("keys"), "k1");
    cfg.max_pending_invites = 100_000;
    cfg.max_invites_per_day = 100_000;
    cfg.max_invites_per_inviter_per_day = 100_000;
    cfg
}

/// In a child: invites one address after another and prints `ack EMAIL` once each call has
/// returned, until it is killed.
fn writer(dir: &Path) {
    let index = std::env::var(CHILD_INDEX).unwrap();
    let engine = Engine::open(config(dir)).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let email = format!("w{index}.{i}.{}@dur.example", std::process::id());
        match engine.invite(OWNER, ACCOUNT, &email, &keys(&["tickets"]), None) {
            Ok(_) => {}
            // Four writers in a tight loop can keep one waiting past busy_timeout_ms: that
            // call changed nothing and is not acknowledged.
            Err(e) if e.code() == cohort_core::ErrorCode::Busy => continue,
            Err(e) => panic!("invite {email}: {e}"),
        }
        writeln!(out, "ack {email}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn writers_killed_mid_write_lose_nothing_acknowledged() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        return writer(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    cohort_core::config::create_key_file(&dir.path().join("keys"), "k1").unwrap();
    let setup = Engine::create(config(dir.path())).unwrap();
    setup.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
    drop(setup);

    let exe = std::env::current_exe().unwrap();
    let mut acked = BTreeSet::new();
    for round in 0..ROUNDS {
        let mut children: Vec<_> = (0..WRITERS)
            .map(|i| {
                Command::new(&exe)
                    .args([
                        "writers_killed_mid_write_lose_nothing_acknowledged",
                        "--exact",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(CHILD_DIR, dir.path())
                    .env(CHILD_INDEX, format!("{round}-{i}"))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Each writer is killed as soon as it has reported its share: mid-stream, while its
        // next invite is on its way.
        let readers: Vec<_> = children
            .iter_mut()
            .map(|c| BufReader::new(c.stdout.take().unwrap()))
            .collect();
        for (child, reader) in children.iter_mut().zip(readers) {
            // The test harness prints its own lines too ("running 1 test"): only acks count.
            let mut lines = reader.lines();
            let mut seen = 0;
            while seen < ACKS_BEFORE_KILL {
                let line = lines
                    .next()
                    .expect("a writer ended before it was killed")
                    .unwrap();
                if let Some(e) = line.strip_prefix("ack ") {
                    acked.insert(e.to_string());
                    seen += 1;
                }
            }
            child.kill().unwrap();
            let status = child.wait().unwrap();
            assert!(!status.success(), "the writer was killed");
            // An ack printed between the count above and the kill is acknowledged too.
            for line in lines.map_while(Result::ok) {
                if let Some(e) = line.strip_prefix("ack ") {
                    acked.insert(e.to_string());
                }
            }
        }
    }

    let engine = Engine::open(config(dir.path())).unwrap();
    let pending: BTreeSet<String> = engine
        .pending(ACCOUNT)
        .unwrap()
        .into_iter()
        .map(|i| i.email.to_string())
        .collect();
    let missing: Vec<_> = acked.difference(&pending).collect();
    assert!(missing.is_empty(), "acknowledged invites lost: {missing:?}");
    assert!(acked.len() >= ROUNDS * WRITERS * ACKS_BEFORE_KILL);
    // Whole writes only: each invite row has exactly one invite.create entry, and back.
    let created: Vec<String> = engine
        .audit(ACCOUNT, 0, 1_000_000)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "invite.create")
        .filter_map(|a| a.target)
        .collect();
    let created_set: BTreeSet<String> = created.iter().cloned().collect();
    assert_eq!(created.len(), created_set.len(), "an invite audited twice");
    assert_eq!(
        created_set, pending,
        "an invite row without its audit entry, or back"
    );
    // The database is still whole and writable.
    if let Some(path) = engine.config().database.sqlite_path() {
        let c = rusqlite::Connection::open(path).unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
    engine
        .invite(OWNER, ACCOUNT, "after@dur.example", &Permissions::All, None)
        .unwrap();
}
