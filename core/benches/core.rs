//! Core benchmarks; figures and targets are in docs/benchmarks.md ("Core (Rust)").
//!
//! - token verify (target <= 1 us), and `verify_view` against the bare pipeline, also
//!   interleaved in batches (target <= 1.3x)
//! - check on a database of 1M memberships (target <= 2 us)
//! - members list of 50 out of 1M (target <= 150 us)
//! - invite create at synchronous=FULL against a bare one-row insert transaction on the same
//!   database file in the same run (target <= 1.3x); at synchronous=NORMAL also the invite's
//!   rows written by hand (the floor of its pages)
//!
//! Run with `cargo bench -p cohort-core --bench core`. The 1M-membership database is built once
//! and cached under the target directory, keyed by the schema; later runs reuse it. Under
//! `cargo test --benches` (no `--bench` flag) every benchmark runs once on a small database.

use cohort_core::config::{create_key_file, Synchronous};
use cohort_core::store::{self, OpenMode, OpenOptions, Store, SCHEMA_VERSION};
use cohort_core::token::Claims;
use cohort_core::{Config, Email, Engine, Keyring, ManualClock, Permissions, Role};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{black_box, Criterion};
use rusqlite::Connection;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 2026-11-29T10:00:00Z.
const T0: i64 = 1_795_946_400;
/// Members per account, owner included: the size of the list the members benchmark reads.
const PER_ACCOUNT: usize = 50;
/// Bumped whenever [`populate`] changes, so that a cached database built differently is not reused.
const POPULATE_VERSION: u32 = 2;

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn scratch_dir() -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join("cohort-bench")
}

// ---------- measuring CPU time on a shared machine ----------

/// CPU time of the benchmark thread (`CLOCK_THREAD_CPUTIME_ID`). Unlike wall time it does not
/// count the time the thread waits while other processes hold the cores, so on a busy machine
/// it shows what the code costs. Only for work that does not wait for the disk.
struct ThreadCpuTime {
    wall: WallTime,
}

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, like wall time.
        self.wall.formatter()
    }
}

// ---------- token verify ----------

/// The keyring, claims and token the token benchmarks verify, and the same key as a pre-keyed
/// HMAC state for the bare pipeline.
struct TokenFixture {
    ring: Keyring,
    claims: Claims,
    token: String,
    keyed: hmac::Hmac<sha2::Sha256>,
}

fn token_fixture() -> TokenFixture {
    let mut ring = Keyring::new();
    ring.insert("k1", &[7u8; 32]).unwrap();
    ring.set_current("k1").unwrap();
    let claims = Claims {
        key_id: String::new(),
        invite_id: 123_456,
        issued_at: T0,
        expires_at: T0 + 7 * 86_400,
        nonce: [9u8; 16],
        account_id: "1042".into(),
    };
    let token = ring.sign(&claims).unwrap();
    let keyed = {
        use hmac::Mac;
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&[7u8; 32]).unwrap()
    };
    TokenFixture {
        ring,
        claims,
        token,
        keyed,
    }
}

fn token_verify<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let TokenFixture {
        ring,
        claims,
        token,
        keyed,
    } = token_fixture();
    let mut g = c.benchmark_group(format!("token{clock}"));
    g.bench_function("verify", |b| {
        b.iter(|| {
            ring.verify(black_box(&token), black_box(T0 + 60), 60)
                .unwrap()
        })
    });
    g.bench_function(
        "verify, no allocation (verify_view, as cohort_token_verify)",
        |b| {
            b.iter(|| {
                ring.verify_view(black_box(&token), black_box(T0 + 60), 60)
                    .unwrap()
                    .invite_id
            })
        },
    );
    g.bench_function("sign", |b| {
        b.iter(|| ring.sign(black_box(&claims)).unwrap())
    });
    // The floor verify is held to: split at the dots, decode payload and tag (base64url into
    // stack buffers), HMAC-SHA256 over the label and the signed text with a pre-keyed state,
    // constant-time compare. No canonical-form, length, key-id or claims checks.
    g.bench_function(
        "bare pipeline (split, 2 base64 decodes, HMAC verify)",
        |b| b.iter(|| bare_verify(&keyed, black_box(&token))),
    );
    g.finish();
}

/// `verify_view` against the bare pipeline, interleaved: batches of each, the order alternating,
/// thread CPU time per batch; prints the ratio of the medians. Criterion's groups run one after
/// another, so on a VM whose speed drifts their ratio moves by a third between runs.
fn token_interleaved_ratio() {
    let (rounds, batch) = if bench_mode() { (400, 2_000) } else { (4, 10) };
    let TokenFixture {
        ring, token, keyed, ..
    } = token_fixture();
    let (mut view, mut bare) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        for view_turn in [round % 2 == 0, round % 2 == 1] {
            let t = thread_cpu_ns();
            if view_turn {
                for _ in 0..batch {
                    black_box(
                        ring.verify_view(black_box(&token), black_box(T0 + 60), 60)
                            .unwrap()
                            .invite_id,
                    );
                }
                view.push(thread_cpu_ns() - t);
            } else {
                for _ in 0..batch {
                    black_box(bare_verify(&keyed, black_box(&token)));
                }
                bare.push(thread_cpu_ns() - t);
            }
        }
    }
    let median = |v: &mut Vec<u64>| {
        v.sort();
        v[v.len() / 2] as f64 / batch as f64
    };
    let (mv, mb) = (median(&mut view), median(&mut bare));
    println!(
        "\ntoken interleaved, {rounds} rounds of {batch}, thread CPU: verify_view median {mv:.0} ns, \
         bare pipeline {mb:.0} ns, ratio {:.2}x (target <= 1.3x)\n",
        mv / mb
    );
}

fn bare_verify(keyed: &hmac::Hmac<sha2::Sha256>, token: &str) -> bool {
    use base64::Engine as _;
    use hmac::Mac;
    let mut it = token.splitn(4, '.');
    let (Some(_v), Some(_kid), Some(payload), Some(tag)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return false;
    };
    let signed = &token[..token.len() - tag.len() - 1];
    let (mut p, mut t) = ([0u8; 512], [0u8; 64]);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (Ok(pn), Ok(tn)) = (
        b64.decode_slice(payload, &mut p),
        b64.decode_slice(tag, &mut t),
    ) else {
        return false;
    };
    black_box(&p[..pn]);
    let mut m = keyed.clone();
    m.update(cohort_core::token::MAC_LABEL);
    m.update(signed.as_bytes());
    m.verify_slice(&t[..tn]).is_ok()
}

// ---------- the 1M-membership database ----------

/// A key for the cached database: the schema version and the text of the schema itself.
fn schema_key() -> String {
    let store = Store::open_in_memory().unwrap();
    let mut st = store
        .sqlite_conn()
        .unwrap()
        .prepare("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
        .unwrap();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap();
    for row in rows {
        row.unwrap().hash(&mut h);
    }
    format!("v{SCHEMA_VERSION}-{:016x}", h.finish())
}

fn account_id(a: usize) -> String {
    format!("acct-{a}")
}

fn owner_email(a: usize) -> String {
    format!("owner{a}@bench.example")
}

fn user_email(a: usize, i: usize) -> String {
    format!("u{i}.a{a}@bench.example")
}

/// The permissions of member `i` (1..PER_ACCOUNT) of an account: a mix of all and chosen sets.
fn member_perms(i: usize) -> Permissions {
    match i % 3 {
        0 => Permissions::All,
        n => Permissions::Keys(
            ["invoices", "tickets", "domains"][..=n]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    }
}

/// A database with `accounts` accounts of [`PER_ACCOUNT`] members each (user `u0` owns each
/// account), built through the store's own insert functions in one transaction.
fn populate(path: &Path, accounts: usize) {
    let mut store = Store::open(
        &path.into(),
        OpenOptions {
            mode: OpenMode::Create,
            synchronous: Synchronous::Normal,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    store
        .sqlite_conn()
        .unwrap()
        .execute_batch("PRAGMA cache_size = -200000")
        .unwrap();
    store
        .write(|tx| {
            for a in 0..accounts {
                let acct = account_id(a);
                let mut ids = Vec::with_capacity(PER_ACCOUNT);
                for i in 0..PER_ACCOUNT {
                    let email = Email::parse(&user_email(a, i)).unwrap();
                    let u = store::user_insert(tx, &email, &format!("User {i}"), i % 4 == 1, T0)
                        .unwrap();
                    ids.push(u.id);
                }
                store::account_insert(tx, &acct, &format!("Account {a}"), ids[0], T0).unwrap();
                for (i, id) in ids.iter().enumerate() {
                    let (role, perms, by) = if i == 0 {
                        (Role::Owner, Permissions::All, None)
                    } else {
                        (Role::Member, member_perms(i), Some(ids[0]))
                    };
                    store::membership_insert(tx, &acct, *id, role, &perms, by, T0 + i as i64)
                        .unwrap();
                }
            }
            Ok(())
        })
        .unwrap();
    // No ANALYZE: Cohort never runs it, and with statistics (SQLite is built with STAT4) every
    // statement whose plan could depend on a bound value is prepared again on each call.
    store
        .sqlite_conn()
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

/// The cached database with `accounts × PER_ACCOUNT` memberships, built on first use.
fn big_database(accounts: usize) -> PathBuf {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "members-{}-p{POPULATE_VERSION}-{}.db",
        accounts * PER_ACCOUNT,
        schema_key()
    ));
    if !path.exists() {
        // Built in a directory of its own and moved into place once SQLite has closed it (its
        // last close checkpoints the WAL into the file): an interrupted build leaves nothing
        // behind that a later run could take for the cache.
        let building_dir = tempfile::tempdir_in(&dir).unwrap();
        let building = building_dir.path().join("members.db");
        let start = Instant::now();
        populate(&building, accounts);
        std::fs::rename(&building, &path).unwrap();
        eprintln!(
            "built {} ({} memberships) in {:.1} s",
            path.display(),
            accounts * PER_ACCOUNT,
            start.elapsed().as_secs_f64()
        );
    }
    path
}

/// An engine on `database` with a throwaway key in `dir`.
fn engine_on(database: &Path, dir: &Path, tune: impl FnOnce(&mut Config)) -> Engine {
    let keys = dir.join("keys");
    if !keys.join("k1.key").exists() {
        create_key_file(&keys, "k1").unwrap();
    }
    let mut cfg = Config::new(database, keys, "k1");
    tune(&mut cfg);
    Engine::create_with_clock(cfg, Arc::new(ManualClock::new(T0))).unwrap()
}

/// An engine on the cached big database, and the pairs the check benchmarks ask about.
struct Reads {
    _keydir: tempfile::TempDir,
    engine: Engine,
    accounts: usize,
    total: usize,
    pairs: Vec<(String, String)>,
    stride: usize,
}

impl Reads {
    fn new() -> Reads {
        let accounts = if bench_mode() { 20_000 } else { 200 };
        let db = big_database(accounts);
        let keydir = tempfile::tempdir().unwrap();
        let engine = engine_on(&db, keydir.path(), |_| {});
        let total = accounts * PER_ACCOUNT;

        // Sanity: the database holds what the figures claim.
        let rows: i64 = Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM memberships", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows as usize, total);
        assert!(engine
            .check(&account_id(7), &user_email(7, 0), "orders")
            .unwrap());
        assert!(engine
            .check(&account_id(7), &user_email(7, 1), "invoices")
            .unwrap());
        assert!(!engine
            .check(&account_id(7), &user_email(7, 1), "domains")
            .unwrap());
        assert!(!engine
            .check(&account_id(8), &user_email(7, 1), "invoices")
            .unwrap());

        // A spread of (user, account) pairs across the whole database, members and strangers.
        let pairs: Vec<(String, String)> = (0..4096usize)
            .map(|n| {
                let a = (n * 7_919) % accounts;
                let i = (n * 31) % PER_ACCOUNT;
                let acct = if n % 8 == 7 { (a + 1) % accounts } else { a };
                (user_email(a, i), account_id(acct))
            })
            .collect();
        // Every membership once, in a scattered order (the stride is prime to 2 and 5, so to the
        // total, and moves thousands of accounts each step): each call misses any memo.
        let stride = 386_093 % total;
        Reads {
            _keydir: keydir,
            engine,
            accounts,
            total,
            pairs,
            stride,
        }
    }
}

fn reads_on_big_database<M: Measurement>(c: &mut Criterion<M>, r: &Reads, clock: &str) {
    let Reads {
        engine,
        accounts,
        total,
        pairs,
        stride,
        ..
    } = r;
    let (accounts, total, stride) = (*accounts, *total, *stride);
    let mut g = c.benchmark_group(format!("{total} memberships{clock}"));
    g.bench_function("check, 4096 pairs repeated", |b| {
        let mut n = 0usize;
        b.iter(|| {
            let (u, a) = &pairs[n % pairs.len()];
            n += 1;
            engine
                .check(black_box(a), black_box(u), "invoices")
                .unwrap()
        })
    });
    g.bench_function("check, a new pair every call", |b| {
        let mut n = 0usize;
        b.iter(|| {
            let k = (n * stride) % total;
            n += 1;
            let (a, i) = (k / PER_ACCOUNT, k % PER_ACCOUNT);
            engine
                .check(&account_id(a), &user_email(a, i), "invoices")
                .unwrap()
        })
    });
    g.bench_function("members, list of 50, one account repeated", |b| {
        let acct = account_id(accounts / 2);
        b.iter(|| {
            let m = engine.members(black_box(&acct)).unwrap();
            assert_eq!(m.len(), PER_ACCOUNT);
            m
        })
    });
    g.bench_function("members, list of 50, a different account each call", |b| {
        let mut n = 0usize;
        b.iter(|| {
            let a = (n * 7_919) % accounts;
            n += 1;
            let m = engine.members(black_box(&account_id(a))).unwrap();
            assert_eq!(m.len(), PER_ACCOUNT);
            m
        })
    });
    g.finish();
}

// ---------- invite create vs a bare insert ----------

/// A fresh database on disk (not tmpfs: fsync must be real) with `accounts` accounts, an engine
/// at `sync` on it, and a second connection to the same file, also at `sync`, for the bare
/// inserts.
struct WriteBench {
    _dir: tempfile::TempDir,
    engine: Engine,
    bare: Connection,
    accounts: usize,
    next: usize,
}

impl WriteBench {
    fn new(accounts: usize, sync: Synchronous) -> WriteBench {
        std::fs::create_dir_all(scratch_dir()).unwrap();
        let dir = tempfile::tempdir_in(scratch_dir()).unwrap();
        let db = dir.path().join("write.db");
        let tune = |sync| {
            move |cfg: &mut Config| {
                cfg.synchronous = sync;
                cfg.max_pending_invites = u32::MAX;
                cfg.max_invites_per_day = u32::MAX;
                cfg.max_invites_per_inviter_per_day = u32::MAX;
            }
        };
        let setup = engine_on(&db, dir.path(), tune(Synchronous::Normal));
        for a in 0..accounts {
            setup
                .upsert_account(&account_id(a), "Bench", &owner_email(a))
                .unwrap();
        }
        drop(setup);
        let engine = engine_on(&db, dir.path(), tune(sync));
        let bare = Connection::open(&db).unwrap();
        let level = match sync {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        bare.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={level}; PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, email TEXT NOT NULL, at INTEGER NOT NULL);"
        ))
        .unwrap();
        WriteBench {
            _dir: dir,
            engine,
            bare,
            accounts,
            next: 0,
        }
    }

    /// One invite, to a new address, spread over the accounts (each with its own owner) so that
    /// no account or inviter piles up pending invites or sends counted by the rate limits.
    fn invite(&mut self) {
        let n = self.next;
        self.next += 1;
        self.engine
            .invite(
                &owner_email(n % self.accounts),
                &account_id(n % self.accounts),
                &format!("i{n}@bench.example"),
                &Permissions::All,
                None,
            )
            .unwrap();
    }

    /// The rows an invite writes, and nothing else, by hand on the second connection: the
    /// invite row (its table and two indexes) and its audit entry (its table and three indexes)
    /// in one BEGIN IMMEDIATE transaction, with prepared statements. No rules read, no token, no
    /// email: what the schema's pages cost, the floor of any invite that keeps Cohort's audit.
    fn invite_rows_by_hand(&mut self) {
        let n = self.next;
        self.next += 1;
        let account = account_id(n % self.accounts);
        let email = format!("h{n}@bench.example");
        let owner_id: i64 = self
            .bare
            .prepare_cached("SELECT owner_id FROM accounts WHERE id = ?1")
            .unwrap()
            .query_row([&account], |r| r.get(0))
            .unwrap();
        self.bare.execute_batch("BEGIN IMMEDIATE").unwrap();
        self.bare
            .prepare_cached(
                "INSERT INTO invites (account_id, email, perm_all, perms, invited_by, created_at, \
                 expires_at, status, times_sent, last_sent_at, token_hash) \
                 VALUES (?1, ?2, 1, '', ?3, ?4, ?5, 'pending', 1, ?4, ?6)",
            )
            .unwrap()
            .execute(rusqlite::params![
                account,
                email,
                owner_id,
                T0,
                T0 + 7 * 86_400,
                [n as u8; 32].as_slice()
            ])
            .unwrap();
        self.bare
            .prepare_cached(
                "INSERT INTO audit (at, actor, account_id, action, target, old_value, new_value) \
                 VALUES (?1, ?2, ?3, 'invite.create', ?4, NULL, 'all')",
            )
            .unwrap()
            .execute(rusqlite::params![
                T0,
                owner_email(n % self.accounts),
                account,
                email
            ])
            .unwrap();
        self.bare.execute_batch("COMMIT").unwrap();
    }

    /// The floor: one row in one BEGIN IMMEDIATE transaction on the same file.
    fn bare_insert(&mut self) {
        let n = self.next;
        self.next += 1;
        self.bare.execute_batch("BEGIN IMMEDIATE").unwrap();
        self.bare
            .prepare_cached("INSERT INTO bare (account_id, email, at) VALUES (?1, ?2, ?3)")
            .unwrap()
            .execute(rusqlite::params![
                account_id(n % self.accounts),
                format!("i{n}@bench.example"),
                T0
            ])
            .unwrap();
        self.bare.execute_batch("COMMIT").unwrap();
    }
}

fn writes<M: Measurement>(c: &mut Criterion<M>, suffix: &str, levels: &[Synchronous]) {
    let accounts = if bench_mode() { 1_000 } else { 10 };
    for &sync in levels {
        let name = match sync {
            Synchronous::Full => format!("synchronous=FULL{suffix}"),
            // Without the fsync: what the invite itself costs, beyond the bare insert.
            Synchronous::Normal => format!("synchronous=NORMAL{suffix}"),
        };
        let mut w = WriteBench::new(accounts, sync);
        let mut g = c.benchmark_group(name);
        // An iteration may wait for the disk (milliseconds): fewer, longer samples.
        g.sample_size(20).measurement_time(Duration::from_secs(6));
        g.bench_function("invite create", |b| b.iter(|| w.invite()));
        g.bench_function("bare one-row insert transaction", |b| {
            b.iter(|| w.bare_insert())
        });
        g.bench_function("the invite's rows by hand", |b| {
            b.iter(|| w.invite_rows_by_hand())
        });
        g.finish();
    }
}

/// Interleaves invite creates and bare inserts on the same file (alternating which goes first)
/// and prints the ratio of their medians, so that drift in the disk's speed during the run
/// affects both alike.
fn interleaved_ratio() {
    let rounds = if bench_mode() { 2_000 } else { 20 };
    let mut w = WriteBench::new(1_000, Synchronous::Full);
    for _ in 0..50 {
        w.invite();
        w.bare_insert();
    }
    let (mut inv, mut bare) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        // Alternate which goes first, so that neither always follows the other's fsync.
        for invite_turn in [round % 2 == 0, round % 2 == 1] {
            let t = Instant::now();
            if invite_turn {
                w.invite();
                inv.push(t.elapsed());
            } else {
                w.bare_insert();
                bare.push(t.elapsed());
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (mi, mb) = (median(&mut inv), median(&mut bare));
    println!(
        "\ninterleaved, {rounds} rounds at synchronous=FULL: invite create median {:.1} us, \
         bare insert median {:.1} us, ratio {:.2}x",
        mi.as_secs_f64() * 1e6,
        mb.as_secs_f64() * 1e6,
        mi.as_secs_f64() / mb.as_secs_f64()
    );
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    token_verify(&mut c, "");
    let reads = Reads::new();
    reads_on_big_database(&mut c, &reads, "");
    writes(&mut c, "", &[Synchronous::Full, Synchronous::Normal]);
    c.final_summary();
    // The CPU-bound benchmarks again, timed by the CPU time of this thread.
    let mut cpu = Criterion::default()
        .with_measurement(ThreadCpuTime { wall: WallTime })
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    token_verify(&mut cpu, " (thread CPU time)");
    reads_on_big_database(&mut cpu, &reads, " (thread CPU time)");
    // At NORMAL the commit does not wait for the disk: thread CPU time (user and system, the
    // WAL writes included) is the cost of the work itself, unmoved by the neighbours.
    writes(&mut cpu, " (thread CPU time)", &[Synchronous::Normal]);
    cpu.final_summary();
    // Like criterion, a first free argument filters by name.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a.parse::<f64>().is_err());
    if filter
        .as_ref()
        .is_none_or(|f| "token interleaved ratio".contains(f.as_str()))
    {
        token_interleaved_ratio();
    }
    if filter.is_none_or(|f| "synchronous=FULL interleaved ratio".contains(f.as_str())) {
        interleaved_ratio();
    }
}
