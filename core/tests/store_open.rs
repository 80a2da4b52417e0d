//! Opening a database file: what is refused, what is created and with which mode, which locks an
//! open engine holds, and that reads go on while another process holds the write lock.

mod common;

use cohort_core::{Config, Engine, ErrorCode};
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn side(db: &Path, suffix: &str) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

#[test]
fn a_missing_database_is_refused_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path());
    let db = sqlite_path(&cfg);
    let e = Engine::open(cfg).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Io, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("no database"), "{msg}");
    assert!(msg.contains("cohort init"), "{msg}");
    assert!(msg.contains(&db.display().to_string()), "{msg}");
    assert!(!db.exists(), "a refused open created the file");
    assert!(!side(&db, "-wal").exists() && !side(&db, "-shm").exists());
}

#[test]
fn an_empty_file_is_refused_even_with_create() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path());
    let db = sqlite_path(&cfg);
    std::fs::write(&db, b"").unwrap();
    for e in [
        Engine::open(cfg.clone()).unwrap_err(),
        Engine::create(cfg.clone()).unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::Io, "{e}");
        assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
    }
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "the empty file was written"
    );
    assert!(
        !side(&db, "-wal").exists(),
        "a refused open made a WAL file"
    );
}

#[test]
fn a_database_without_the_cohort_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path());
    let db = sqlite_path(&cfg);
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY); INSERT INTO orders VALUES (7);",
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for e in [
        Engine::open(cfg.clone()).unwrap_err(),
        Engine::create(cfg.clone()).unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::Io, "{e}");
        assert!(e.to_string().contains("not a Cohort database"), "{e}");
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the foreign database was changed"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let tables: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn create_makes_an_owner_only_database_and_open_then_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path());
    let db = sqlite_path(&cfg);
    let e = Engine::create(cfg.clone()).unwrap();
    e.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
    for f in [db.clone(), side(&db, "-wal"), side(&db, "-shm")] {
        assert_eq!(mode_of(&f), 0o600, "{}", f.display());
    }
    // Open (not create) finds it, and create on an existing database just opens it.
    assert_eq!(
        Engine::open(cfg.clone())
            .unwrap()
            .account(ACCOUNT)
            .unwrap()
            .name,
        ACCOUNT_NAME
    );
    assert_eq!(
        Engine::create(cfg).unwrap().account(ACCOUNT).unwrap().name,
        ACCOUNT_NAME
    );
}

#[test]
fn group_access_is_an_opt_in_mode() {
    let dir = tempfile::tempdir().unwrap();
    config_in(dir.path());
    let text = |mode: &str| {
        format!("database_file_mode = \"{mode}\"\n[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n")
    };
    let cfg = Config::parse(&text("0640"), dir.path()).unwrap();
    assert_eq!(cfg.database_file_mode, 0o640);
    let db = sqlite_path(&cfg);
    let e = Engine::create(cfg).unwrap();
    e.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER).unwrap();
    for f in [db.clone(), side(&db, "-wal"), side(&db, "-shm")] {
        assert_eq!(mode_of(&f), 0o640, "{}", f.display());
    }
    for bad in ["0644", "0777", "600", "rw"] {
        let err = Config::parse(&text(bad), dir.path()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Config, "{bad}");
        assert!(err.to_string().contains("database_file_mode"), "{err}");
    }
    let defaults = Config::parse("[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n", dir.path()).unwrap();
    assert_eq!(defaults.database_file_mode, 0o600);
}

/// The POSIX locks this process holds on `path`, as (kind, start, end) from /proc/locks.
fn my_locks(path: &Path) -> Vec<(String, String, String)> {
    let ino = std::fs::metadata(path).unwrap().ino().to_string();
    let pid = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // "1: POSIX  ADVISORY  READ 1234 fd:01:5678 128 128"
            let i = f.iter().position(|w| *w == "POSIX")?;
            let (kind, owner, dev, start, end) = (
                f.get(i + 2)?,
                f.get(i + 3)?,
                f.get(i + 4)?,
                f.get(i + 5)?,
                f.get(i + 6)?,
            );
            (*owner == pid && dev.rsplit(':').next() == Some(ino.as_str()))
                .then(|| (kind.to_string(), start.to_string(), end.to_string()))
        })
        .collect()
}

/// SQLite's "DMS" byte of the `-shm` file: every connection holds a shared lock on it while the
/// WAL index is in use, so that no other process truncates and rebuilds it.
const DMS: &str = "128";

#[test]
fn an_open_engine_holds_sqlites_shared_lock_on_the_shm_file() {
    let f = Fixture::new();
    let shm = side(&sqlite_path(f.engine.config()), "-shm");
    let holds_dms = |when: &str| {
        let locks = my_locks(&shm);
        assert!(
            locks
                .iter()
                .any(|(k, s, e)| k == "READ" && s == DMS && e == DMS),
            "{when}: no shared lock on the DMS byte of {}: {locks:?}",
            shm.display()
        );
    };
    holds_dms("after open");
    assert!(
        f.engine.check_memo_watches_wal_index(),
        "check's memo fell back to PRAGMA data_version on a file database"
    );
    assert!(f.engine.check(ACCOUNT, OWNER, "invoices").unwrap());
    assert!(
        f.engine.check(ACCOUNT, OWNER, "invoices").unwrap(),
        "memo hit"
    );
    holds_dms("after check");
    // Another engine in the same process opening and closing must leave it in place too.
    let other = f.reopen();
    assert!(other.check(ACCOUNT, OWNER, "tickets").unwrap());
    drop(other);
    holds_dms("after a second engine closed");
    f.member("dev@acme.example", &keys(&["invoices"]));
    holds_dms("after writes");
}

const LOCK_CHILD: &str = "COHORT_STORE_OPEN_LOCK_CHILD";

/// Child role: holds the write lock on the database named in the environment until the file
/// `release` appears beside it.
#[test]
fn lock_holder_child_role() {
    let Ok(db) = std::env::var(LOCK_CHILD) else {
        return;
    };
    let db = PathBuf::from(db);
    let dir = db.parent().unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("BEGIN IMMEDIATE; UPDATE accounts SET name = 'Held' WHERE id = '1042';")
        .unwrap();
    std::fs::write(dir.join("locked"), b"").unwrap();
    for _ in 0..6_000 {
        if dir.join("release").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    c.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn reads_go_on_while_another_process_holds_the_write_lock() {
    let f = Fixture::with(|c| c.busy_timeout_ms = 300);
    f.member("dev@acme.example", &keys(&["invoices"]));
    let sent = f.invite("new@acme.example", &keys(&["tickets"]));
    let cfg = f.engine.config().clone();
    let db = sqlite_path(&cfg);
    let dir = db.parent().unwrap().to_path_buf();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lock_holder_child_role",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(LOCK_CHILD, &db)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let release = |child: &mut std::process::Child| {
        std::fs::write(dir.join("release"), b"").unwrap();
        assert!(child.wait().unwrap().success(), "the lock holder failed");
    };
    let mut waited = 0;
    while !dir.join("locked").exists() {
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
        if waited > 3_000 {
            let _ = child.kill();
            panic!("the child never took the lock");
        }
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Opening an engine on a current schema takes no write lock ...
        let e = Engine::open_with_clock(cfg.clone(), std::sync::Arc::new(f.clock.clone()))
            .expect("open while another process holds the write lock");
        // ... and every read answers from the last commit, not BUSY.
        assert!(e.check(ACCOUNT, "dev@acme.example", "invoices").unwrap());
        assert!(!e.check(ACCOUNT, "dev@acme.example", "tickets").unwrap());
        assert_eq!(e.members(ACCOUNT).unwrap().len(), 2);
        assert_eq!(e.pending(ACCOUNT).unwrap().len(), 1);
        assert_eq!(
            e.account(ACCOUNT).unwrap().name,
            ACCOUNT_NAME,
            "uncommitted write seen"
        );
        assert!(!e.audit(ACCOUNT, 0, 100).unwrap().is_empty());
        assert!(e.inspect(&sent.token).unwrap().valid);
        assert!(f
            .engine
            .check(ACCOUNT, "dev@acme.example", "invoices")
            .unwrap());
        // A write waits busy_timeout_ms and then says so, and changes nothing.
        let err = e.upsert_user("late@acme.example", None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Busy, "{err}");
        assert!(err.to_string().contains("busy_timeout_ms"), "{err}");
    }));
    release(&mut child);
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
    assert!(
        f.engine.user("late@acme.example").is_err(),
        "the refused write landed"
    );
    assert_eq!(f.engine.account(ACCOUNT).unwrap().name, ACCOUNT_NAME);
}
