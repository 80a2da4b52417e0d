//! Benchmarks on the server backends; figures in docs/benchmarks.md ("Server databases").
//!
//! For each server named by `COHORT_BENCH_MYSQL` / `COHORT_BENCH_POSTGRES` (or, failing that,
//! `COHORT_TEST_MYSQL` / `COHORT_TEST_POSTGRES`: a base URL such as
//! `mysql://root@127.0.0.1:3306`, without a database name), each Cohort operation beside the
//! bare round trip or insert that is its floor, on the same server, with the same driver:
//!
//! - `check` against a prepared primary-key point select (goal <= 1.2x);
//! - the members list (50 members) against the same SELECT run bare;
//! - invite create against a bare one-row insert transaction (goal <= 1.5x), and against the
//!   invite's two rows written by hand into Cohort's tables (its floor); the three are also run
//!   interleaved, and their medians printed, so that the disk's drift affects them alike;
//! - accept (registering) against a bare transaction of one conditional UPDATE and one INSERT.
//!
//! Run with `scripts/servers.sh start DIR`, `. DIR/env`, then
//! `cargo bench -p cohort-core --bench servers`. Without a server it prints so and does nothing;
//! under `cargo test --benches` every benchmark runs once on a small database.

use cohort_core::config::{create_key_file, Database, ServerKind, ServerUrl};
use cohort_core::{Config, Engine, ManualClock, Permissions};
use criterion::{black_box, Criterion};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 2026-11-29T10:00:00Z.
const T0: i64 = 1_795_946_400;
const PER_ACCOUNT: usize = 50;
const DAY: i64 = 86_400;

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn base(kind: &str) -> Option<String> {
    [
        format!("COHORT_BENCH_{kind}"),
        format!("COHORT_TEST_{kind}"),
    ]
    .iter()
    .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}

/// The bare client of the same server: what a panel developer would write by hand. One per
/// server, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Bare {
    /// The client and the statements of the invite's rows, prepared once (the `mysql` crate
    /// caches the others, prepared from their text, by itself).
    My(mysql::Conn, Vec<mysql::Statement>),
    /// The client and its statements, prepared once as a careful hand-written client would.
    Pg(postgres::Client, Vec<postgres::Statement>),
}

/// The members query of `Engine::members`, run bare (`{}`: the placeholder).
const MEMBERS_Q: &str =
    "SELECT m.account_id, u.email, u.name, m.role, m.perm_all, m.perms, u.last_login, \
     u.two_factor, m.joined_at, i.email FROM memberships m JOIN users u ON u.id = m.user_id \
     LEFT JOIN users i ON i.id = m.invited_by WHERE m.account_id = {} \
     ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.joined_at, u.email";
const PG_POINT: &str = "SELECT perms FROM memberships WHERE account_id = $1 AND user_id = $2";
const PG_INSERT: &str = "INSERT INTO bare (email, at) VALUES ($1, $2)";
const PG_UPDATE: &str = "UPDATE bare SET at = at + 1 WHERE email = $1 AND at >= $2";
/// The two rows of an invite in Cohort's own tables (`{}`: the placeholder style).
const INVITE_ROW_Q: &str =
    "INSERT INTO invites (account_id, email, perm_all, perms, invited_by, created_at, expires_at, \
     status, times_sent, last_sent_at, token_hash) VALUES ({1}, {2}, 0, 'invoices,tickets', {3}, \
     {4}, {5}, 'pending', 1, {4}, {6})";
const AUDIT_ROW_Q: &str =
    "INSERT INTO audit (at, actor, account_id, action, target, old_value, new_value) \
     VALUES ({1}, {2}, {3}, 'invite.create', {4}, NULL, 'invoices,tickets')";

/// `q` with `{N}` replaced by MySQL's `?` (arguments in order) or PostgreSQL's `$N`.
fn placeholders(q: &str, mysql: bool) -> String {
    let mut out = q.to_string();
    for i in 1..=6 {
        out = out.replace(
            &format!("{{{i}}}"),
            &if mysql { "?".into() } else { format!("${i}") },
        );
    }
    out
}

impl Bare {
    fn connect(u: &ServerUrl) -> Bare {
        match u.kind {
            ServerKind::Mysql => Bare::My(
                mysql::Conn::new(
                    mysql::OptsBuilder::new()
                        .ip_or_hostname(Some(u.host.clone()))
                        .tcp_port(u.port)
                        .user(Some(u.user.clone()))
                        .pass(u.password.clone())
                        .db_name(Some(u.database.clone()))
                        .prefer_socket(false)
                        .tcp_nodelay(true),
                )
                .unwrap(),
                Vec::new(),
            ),
            ServerKind::Postgres => {
                let mut cfg = postgres::Config::new();
                cfg.host(&u.host)
                    .port(u.port)
                    .user(&u.user)
                    .dbname(&u.database);
                Bare::Pg(cfg.connect(postgres::NoTls).unwrap(), Vec::new())
            }
        }
    }

    /// The membership of (account, user id) by primary key.
    fn point_select(&mut self, account: &str, user_id: i64) -> Option<String> {
        match self {
            Bare::My(c, _) => {
                use mysql::prelude::Queryable;
                c.exec_first(
                    "SELECT perms FROM memberships WHERE account_id = ? AND user_id = ?",
                    (account, user_id),
                )
                .unwrap()
            }
            Bare::Pg(c, st) => c
                .query_opt(&st[0], &[&account, &user_id])
                .unwrap()
                .map(|r| r.get(0)),
        }
    }

    /// The members query of `Engine::members`, run bare.
    fn members(&mut self, account: &str) -> usize {
        const Q: &str = MEMBERS_Q;
        match self {
            Bare::My(c, _) => {
                use mysql::prelude::Queryable;
                let rows: Vec<mysql::Row> = c.exec(Q.replace("{}", "?"), (account,)).unwrap();
                rows.len()
            }
            Bare::Pg(c, st) => c.query(&st[1], &[&account]).unwrap().len(),
        }
    }

    /// One transaction inserting one invite-like row.
    fn insert(&mut self, n: u64) {
        let email = format!("bare{n}@bench.example");
        match self {
            Bare::My(c, _) => {
                use mysql::prelude::Queryable;
                let mut tx = c.start_transaction(mysql::TxOpts::default()).unwrap();
                tx.exec_drop("INSERT INTO bare (email, at) VALUES (?, ?)", (&email, T0))
                    .unwrap();
                tx.commit().unwrap();
            }
            Bare::Pg(c, st) => {
                let mut tx = c.transaction().unwrap();
                tx.execute(&st[2], &[&email, &T0]).unwrap();
                tx.commit().unwrap();
            }
        }
    }

    /// One transaction: a conditional UPDATE of one row and one INSERT (an accept by hand).
    fn accept(&mut self, n: u64) {
        let email = format!("bare{n}@bench.example");
        match self {
            Bare::My(c, _) => {
                use mysql::prelude::Queryable;
                let mut tx = c.start_transaction(mysql::TxOpts::default()).unwrap();
                tx.exec_drop(
                    "UPDATE bare SET at = at + 1 WHERE email = ? AND at >= ?",
                    (&email, T0),
                )
                .unwrap();
                tx.exec_drop(
                    "INSERT INTO bare (email, at) VALUES (?, ?)",
                    (format!("m{email}"), T0),
                )
                .unwrap();
                tx.commit().unwrap();
            }
            Bare::Pg(c, st) => {
                let mut tx = c.transaction().unwrap();
                tx.execute(&st[3], &[&email, &T0]).unwrap();
                tx.execute(&st[2], &[&format!("m{email}"), &T0]).unwrap();
                tx.commit().unwrap();
            }
        }
    }

    /// The rows an invite writes and nothing else: its row in `invites` and its entry in
    /// `audit`, with their indexes, in one transaction of prepared statements. No rules read
    /// (no lock, no counts), no token: the floor of an invite that keeps Cohort's audit trail.
    fn invite_rows(&mut self, n: u64, account: &str, owner_id: i64, owner: &str) {
        let email = format!("h{n}@bench.example");
        let hash = vec![n as u8; 32];
        let expires = T0 + 7 * DAY;
        match self {
            Bare::My(c, st) => {
                use mysql::prelude::Queryable;
                let mut tx = c.start_transaction(mysql::TxOpts::default()).unwrap();
                // MySQL's `?` are positional: {4} twice means the value twice.
                tx.exec_drop(&st[0], (account, &email, owner_id, T0, expires, T0, &hash))
                    .unwrap();
                tx.exec_drop(&st[1], (T0, owner, account, &email)).unwrap();
                tx.commit().unwrap();
            }
            Bare::Pg(c, st) => {
                let mut tx = c.transaction().unwrap();
                tx.execute(&st[4], &[&account, &email, &owner_id, &T0, &expires, &hash])
                    .unwrap();
                tx.execute(&st[5], &[&T0, &owner, &account, &email])
                    .unwrap();
                tx.commit().unwrap();
            }
        }
    }

    fn create_bare_table(&mut self) {
        match self {
            Bare::My(c, st) => {
                use mysql::prelude::Queryable;
                c.query_drop(
                    "CREATE TABLE bare (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(254) \
                     NOT NULL, at BIGINT NOT NULL, KEY bare_email (email)) ENGINE=InnoDB \
                     DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                )
                .unwrap();
                for q in [INVITE_ROW_Q, AUDIT_ROW_Q] {
                    st.push(c.prep(placeholders(q, true)).unwrap());
                }
            }
            Bare::Pg(c, st) => {
                c.batch_execute(
                    "CREATE TABLE bare (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
                     email TEXT NOT NULL, at BIGINT NOT NULL); CREATE INDEX bare_email ON bare (email)",
                )
                .unwrap();
                let members = MEMBERS_Q.replace("{}", "$1");
                let invite = placeholders(INVITE_ROW_Q, false);
                let audit = placeholders(AUDIT_ROW_Q, false);
                for q in [
                    PG_POINT,
                    members.as_str(),
                    PG_INSERT,
                    PG_UPDATE,
                    &invite,
                    &audit,
                ] {
                    st.push(c.prepare(q).unwrap());
                }
            }
        }
    }
}

fn member_email(a: usize, i: usize) -> String {
    format!("u{i}.a{a}@bench.example")
}

fn bench_server(c: &mut Criterion, kind: &str, base: &str, dir: &std::path::Path) {
    let accounts = if bench_mode() { 200 } else { 2 };
    let name = format!("bench_{}_{}", kind.to_lowercase(), std::process::id());
    let url = ServerUrl::parse(&format!("{base}/{name}")).unwrap();
    let keys = dir.join(format!("keys-{kind}"));
    create_key_file(&keys, "k1").unwrap();
    let mut cfg = Config::new(Database::Server(url.clone()), keys, "k1");
    // The daily send limits stay at their defaults (50 per account, 50 per inviter), and the
    // clock moves so that the bench stays under them, as a real panel must (below). The
    // pending cap is lifted only so that a long run cannot hit it.
    cfg.max_pending_invites = 1_000_000;
    cfg.bind_email = false;
    let clock = ManualClock::new(T0);
    let engine = Engine::create_with_clock(cfg, Arc::new(clock.clone())).unwrap();
    eprintln!(
        "{kind}: {} accounts x {PER_ACCOUNT} members on {url} ...",
        accounts
    );
    let perms = Permissions::Keys(
        ["invoices", "tickets"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    for a in 0..accounts {
        let acct = format!("acct-{a}");
        engine
            .upsert_account(&acct, "Bench", &member_email(a, 0))
            .unwrap();
        for i in 1..PER_ACCOUNT {
            let sent = engine
                .invite(
                    &member_email(a, 0),
                    &acct,
                    &member_email(a, i),
                    &perms,
                    None,
                )
                .unwrap();
            engine
                .accept_register(&sent.token, &member_email(a, i), "")
                .unwrap();
        }
    }
    // The 49 invites per account of the set-up leave the rolling day before the bench.
    clock.advance(2 * DAY);
    let mut bare = Bare::connect(&url);
    bare.create_bare_table();
    let target_acct = format!("acct-{}", accounts / 2);
    let target = member_email(accounts / 2, PER_ACCOUNT / 2);
    let target_id = engine.user(&target).unwrap().id;
    assert!(engine.check(&target_acct, &target, "invoices").unwrap());
    assert_eq!(
        bare.members(&target_acct),
        engine.members(&target_acct).unwrap().len()
    );

    let mut g = c.benchmark_group(format!("{kind} on loopback"));
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    g.bench_function("check", |b| {
        b.iter(|| black_box(engine.check(&target_acct, &target, "invoices").unwrap()))
    });
    g.bench_function("bare point select", |b| {
        b.iter(|| black_box(bare.point_select(&target_acct, target_id)))
    });
    g.bench_function("members list (50)", |b| {
        b.iter(|| black_box(engine.members(&target_acct).unwrap().len()))
    });
    g.bench_function("bare members select (50)", |b| {
        b.iter(|| black_box(bare.members(&target_acct)))
    });
    // Invites go round the accounts, as a panel's do: no account piles up thousands of pending
    // invites (the pending cap and the daily limits keep real ones far below). Each round of
    // the accounts moves the clock by 36 minutes: 40 sends per account per rolling day, under
    // the default limit of 50, so the rules count as many sends as a busy real account's.
    let mut n = 0u64;
    let next = |n: u64| {
        let a = (n as usize) % accounts;
        if a == 0 {
            clock.advance(DAY / 40);
        }
        (
            format!("acct-{a}"),
            member_email(a, 0),
            format!("n{n}@bench.example"),
        )
    };
    let owners: Vec<(String, i64, String)> = (0..accounts)
        .map(|a| {
            let owner = member_email(a, 0);
            let id = engine.user(&owner).unwrap().id;
            (format!("acct-{a}"), id, owner)
        })
        .collect();
    let (mut m, mut h) = (0u64, 0u64);
    // The three writes compared: 0 invite create, 1 the bare insert, 2 the invite's rows by hand.
    let mut write = |which: usize| match which {
        0 => {
            n += 1;
            let (acct, owner, email) = next(n);
            engine.invite(&owner, &acct, &email, &perms, None).unwrap();
        }
        1 => {
            m += 1;
            bare.insert(m);
        }
        _ => {
            h += 1;
            let (acct, id, owner) = &owners[(h as usize) % accounts];
            bare.invite_rows(h, acct, *id, owner);
        }
    };
    for (which, name) in [
        "invite create",
        "bare insert transaction",
        "the invite's rows by hand",
    ]
    .into_iter()
    .enumerate()
    {
        g.bench_function(name, |b| b.iter(|| write(which)));
    }
    g.finish();
    // The same three writes interleaved (the order rotating each round), so that the disk's
    // drift during the run (every commit waits for its flush) affects all three alike.
    let rounds = if bench_mode() { 600 } else { 3 };
    let mut times: [Vec<Duration>; 3] = Default::default();
    for round in 0..rounds {
        for turn in 0..3 {
            let which = (round + turn) % 3;
            let t = Instant::now();
            write(which);
            times[which].push(t.elapsed());
        }
    }
    let [inv, ins, rows] = times.map(|mut v| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    });
    eprintln!(
        "\n{kind} interleaved, {rounds} rounds: invite create median {inv:.0} us, bare insert \
         transaction {ins:.0} us, the invite's rows by hand {rows:.0} us; invite / bare insert \
         {:.2}x, invite's rows by hand / bare insert {:.2}x, invite / its rows by hand {:.2}x\n",
        inv / ins,
        rows / ins,
        inv / rows
    );
    let mut g = c.benchmark_group(format!("{kind} on loopback"));
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    // Accepts need a fresh invite each: made in batches outside the timed part.
    g.bench_function("accept (registering)", |b| {
        b.iter_batched(
            || {
                n += 1;
                let (acct, owner, email) = next(n);
                let sent = engine.invite(&owner, &acct, &email, &perms, None).unwrap();
                (sent.token, email)
            },
            |(token, email)| engine.accept_register(&token, &email, "").unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    let mut k = 0u64;
    g.bench_function("bare accept transaction", |b| {
        b.iter(|| {
            k += 1;
            bare.accept(k)
        })
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    let mut any = false;
    for kind in ["MYSQL", "POSTGRES"] {
        if let Some(b) = base(kind) {
            any = true;
            bench_server(&mut c, kind, &b, dir.path());
        }
    }
    if !any {
        eprintln!("no server: set COHORT_BENCH_MYSQL / COHORT_BENCH_POSTGRES (see the file's doc)");
    }
    c.final_summary();
}
