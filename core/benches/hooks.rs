//! Hook benchmarks; figures and targets are in docs/benchmarks.md ("Hooks").
//!
//! - per-event cost of a 30-line policy hook (hooks/10-allowed-domains.lua) with a warm VM
//!   (target <= 5 us), and of all six shipped policies on one event
//! - `after_invite` through hooks/60-activity-log.lua with no log destination (the record is not
//!   even built) and with a host logger that takes it
//! - invite create at synchronous=FULL with the shipped policies enabled against disabled, in
//!   the same run on the same disk (target <= 1.1x)
//!
//! Run with `cargo bench -p cohort-core --bench hooks` (`HOOKS_BENCH_SKIP_WRITES=1` skips the
//! disk-bound invite benchmark). Under `cargo test --benches` (no `--bench` flag) every
//! benchmark runs once, small.

use cohort_core::config::{create_key_file, Synchronous};
use cohort_core::hooks::{Action, Event, Hooks, HooksConfig, LogLevel, LogLine};
use cohort_core::{Config, Engine, ManualClock, Permissions};
use criterion::{black_box, Criterion};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 2026-11-29T10:00:00Z.
const T0: i64 = 1_795_946_400;
const OWNER: &str = "owner@bench.example";

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn scratch_dir() -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join("cohort-bench")
}

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hooks")
}

fn builtin_keys() -> Vec<String> {
    cohort_core::permissions::BUILTIN
        .iter()
        .map(|(k, _)| k.to_string())
        .collect()
}

/// A directory holding the shipped scripts `names`.
fn scripts(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in names {
        std::fs::copy(shipped().join(n), dir.path().join(n)).unwrap();
    }
    dir
}

/// The `ev` of a before_invite as the engine builds it.
fn invite_event(email: &str) -> serde_json::Value {
    json!({
        "event": "before_invite",
        "time": T0,
        "account": {"id": "1042", "name": "Acme Ltd", "owner": "owner@acme.example",
                    "member_count": 3, "pending_invites": 1},
        "actor": {"email": "owner@acme.example", "exists": true, "name": "Olive", "two_factor": true,
                  "last_login": T0 - 3600, "role": "owner", "permissions": "all"},
        "email": email,
        "invitee": {"email": email, "exists": false, "name": null, "two_factor": false,
                    "last_login": null, "role": null, "permissions": null},
        "permissions": ["invoices", "tickets"],
        "expires_at": T0 + 7 * 86_400,
        "ttl": 7 * 86_400,
    })
}

fn per_event(c: &mut Criterion) {
    let mut g = c.benchmark_group("hooks");
    let event = Event::before(Action::Invite);

    let one = scripts(&["10-allowed-domains.lua"]);
    let hooks = Hooks::new(HooksConfig::new(one.path()), builtin_keys()).unwrap();
    let allowed = invite_event("dev@acme.example");
    let denied = invite_event("dev@elsewhere.example");
    hooks.before(event, &allowed, T0).unwrap();
    g.bench_function("before_invite, 30-line policy, allowed", |b| {
        b.iter(|| hooks.before(event, black_box(&allowed), T0).unwrap())
    });
    g.bench_function("before_invite, 30-line policy, vetoed", |b| {
        b.iter(|| hooks.before(event, black_box(&denied), T0).unwrap_err())
    });
    g.bench_function("event no script listens to", |b| {
        b.iter(|| hooks.wants(black_box(Event::before(Action::Revoke))))
    });

    best_batch("30-line policy, allowed", || {
        hooks.before(event, &allowed, T0).unwrap();
    });

    let all = Hooks::new(HooksConfig::new(shipped()), builtin_keys()).unwrap();
    all.before(event, &allowed, T0).unwrap();
    g.bench_function("before_invite, all six shipped policies", |b| {
        b.iter(|| all.before(event, black_box(&allowed), T0).unwrap())
    });

    let activity = scripts(&["60-activity-log.lua"]);
    let logged = Hooks::new(HooksConfig::new(activity.path()), builtin_keys()).unwrap();
    let after = Event::after(Action::Invite);
    let mut done = invite_event("dev@acme.example");
    done["event"] = json!("after_invite");
    logged.after(after, &done, T0);
    g.bench_function("after_invite, activity log, no log destination", |b| {
        b.iter(|| logged.after(after, black_box(&done), T0))
    });
    best_batch("activity log, no log destination", || {
        logged.after(after, &done, T0)
    });
    logged
        .set_logger(
            LogLevel::Info,
            Some(Arc::new(|r: &LogLine| {
                black_box(r);
            })),
        )
        .unwrap();
    g.bench_function("after_invite, activity log, to a host logger", |b| {
        b.iter(|| logged.after(after, black_box(&done), T0))
    });
    g.finish();
    best_batch("activity log, to a host logger", || {
        logged.after(after, &done, T0)
    });
    best_batch("all six shipped policies", || {
        all.before(event, &allowed, T0).unwrap();
    });
}

/// Prints the per-call time of the fastest of many short batches: on a shared, busy machine
/// the minimum shows the cost itself, where means and medians also show the neighbours.
fn best_batch(name: &str, mut f: impl FnMut()) {
    let (batches, per) = if bench_mode() { (300, 500) } else { (2, 2) };
    let mut best = Duration::MAX;
    for _ in 0..batches {
        let t = Instant::now();
        for _ in 0..per {
            f();
        }
        best = best.min(t.elapsed() / per);
    }
    println!(
        "\nbest of {batches} batches of {per}: {name}: {:.2} us per event",
        best.as_secs_f64() * 1e6
    );
}

/// An engine at synchronous=FULL on a fresh file with `accounts` accounts owned by [`OWNER`],
/// with or without the shipped hooks.
fn engine(dir: &Path, name: &str, accounts: usize, hooks: bool) -> Engine {
    let keys = dir.join(format!("{name}-keys"));
    create_key_file(&keys, "k1").unwrap();
    let mut cfg = Config::new(dir.join(format!("{name}.db")), keys, "k1");
    cfg.max_pending_invites = u32::MAX;
    cfg.max_invites_per_day = u32::MAX;
    cfg.max_invites_per_inviter_per_day = u32::MAX;
    let clock = Arc::new(ManualClock::new(T0));
    {
        // Fill quickly, then reopen at FULL.
        cfg.synchronous = Synchronous::Normal;
        let e = Engine::create_with_clock(cfg.clone(), clock.clone()).unwrap();
        for a in 0..accounts {
            e.upsert_account(&format!("a{a}"), "Bench", OWNER).unwrap();
        }
    }
    cfg.synchronous = Synchronous::Full;
    if hooks {
        cfg.hooks = Some(HooksConfig::new(shipped()));
    }
    Engine::open_with_clock(cfg, clock).unwrap()
}

struct Invites {
    engine: Engine,
    accounts: usize,
    next: usize,
}

impl Invites {
    /// One invite to a new address, spread over the accounts so that none nears the member
    /// cap of hooks/30-member-cap.lua.
    fn invite(&mut self) {
        let n = self.next;
        self.next += 1;
        self.engine
            .invite(
                OWNER,
                &format!("a{}", n % self.accounts),
                &format!("i{n}@bench.example"),
                &Permissions::All,
                None,
            )
            .unwrap();
    }
}

fn writes(c: &mut Criterion) {
    std::fs::create_dir_all(scratch_dir()).unwrap();
    let dir = tempfile::tempdir_in(scratch_dir()).unwrap();
    let accounts = if bench_mode() { 3_000 } else { 10 };
    let mut off = Invites {
        engine: engine(dir.path(), "off", accounts, false),
        accounts,
        next: 0,
    };
    let mut on = Invites {
        engine: engine(dir.path(), "on", accounts, true),
        accounts,
        next: 0,
    };
    let mut g = c.benchmark_group("invite create, synchronous=FULL");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.bench_function("hooks disabled", |b| b.iter(|| off.invite()));
    g.bench_function("shipped policies enabled", |b| b.iter(|| on.invite()));
    g.finish();

    // Interleaved, so that drift in the disk's speed affects both alike.
    let rounds = if bench_mode() { 2_000 } else { 10 };
    interleaved("synchronous=FULL on disk", rounds, &mut off, &mut on);

    // The same on a memory file system, where fsync costs nothing: what remains of the
    // difference is the CPU the hooks add (the events' reads and the scripts).
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let dir = tempfile::tempdir_in(shm).unwrap();
        let accounts = if bench_mode() { 3_000 } else { 10 };
        let mut off = Invites {
            engine: engine(dir.path(), "off", accounts, false),
            accounts,
            next: 0,
        };
        let mut on = Invites {
            engine: engine(dir.path(), "on", accounts, true),
            accounts,
            next: 0,
        };
        interleaved("synchronous=FULL on /dev/shm", rounds, &mut off, &mut on);
    }
}

/// Invite creates on both engines, round by round, each round in the other order; prints the
/// medians, their ratio and the median of the per-round differences.
fn interleaved(label: &str, rounds: usize, off: &mut Invites, on: &mut Invites) {
    let (mut a, mut b, mut d) = (
        Vec::with_capacity(rounds),
        Vec::with_capacity(rounds),
        Vec::with_capacity(rounds),
    );
    for r in 0..rounds {
        let time = |w: &mut Invites| {
            let t = Instant::now();
            w.invite();
            t.elapsed()
        };
        let (x, y) = if r % 2 == 0 {
            let x = time(off);
            (x, time(on))
        } else {
            let y = time(on);
            (time(off), y)
        };
        a.push(x);
        b.push(y);
        d.push(y.as_secs_f64() - x.as_secs_f64());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    d.sort_by(f64::total_cmp);
    let (ma, mb) = (median(&mut a), median(&mut b));
    println!(
        "\ninterleaved, {rounds} rounds, {label}: invite create median {:.1} us without hooks, \
         {:.1} us with the shipped policies, ratio {:.3}x, median difference {:+.1} us",
        ma.as_secs_f64() * 1e6,
        mb.as_secs_f64() * 1e6,
        mb.as_secs_f64() / ma.as_secs_f64(),
        d[d.len() / 2] * 1e6
    );
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    per_event(&mut c);
    if std::env::var_os("HOOKS_BENCH_SKIP_WRITES").is_none() {
        writes(&mut c);
    }
    c.final_summary();
}
