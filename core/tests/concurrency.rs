//! Races on one database file: threads with an engine each, and separate processes.
//!
//! Every race is repeated `ROUNDS` times. Each participant has its own `Engine` (its own SQLite
//! connection), so the outcome rests on SQLite's locking and the conditional updates in the
//! store, not on the engine's in-process mutex.

mod common;

use cohort_core::config::Synchronous;
use cohort_core::{Config, Engine, ErrorCode, InviteStatus, ManualClock, Permissions, Role};
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const ROUNDS: usize = 200;

/// An invite as the racers see it: (invite id, invited email, token).
type Sent = (i64, String, String);
const THREADS: usize = 8;
const PROCESSES: usize = 4;

/// A database and config in a temporary directory, with [`OWNER`]'s account [`ACCOUNT`].
struct Race {
    dir: tempfile::TempDir,
    cfg: Config,
    clock: ManualClock,
}

impl Race {
    fn new(bind_email: bool) -> Race {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config_in(dir.path());
        cfg.bind_email = bind_email;
        cfg.max_pending_invites = 10_000;
        cfg.max_invites_per_day = 100_000;
        cfg.max_invites_per_inviter_per_day = 100_000;
        let race = Race {
            dir,
            cfg,
            clock: ManualClock::new(T0),
        };
        race.setup_engine()
            .upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER)
            .unwrap();
        race
    }

    /// An engine for preparing the race: durability does not matter there, speed does.
    fn setup_engine(&self) -> Engine {
        let mut cfg = self.cfg.clone();
        cfg.synchronous = Synchronous::Normal;
        Engine::create_with_clock(cfg, Arc::new(self.clock.clone())).unwrap()
    }

    /// An engine as the panel would open it (synchronous=FULL).
    fn engine(&self) -> Engine {
        Engine::open_with_clock(self.cfg.clone(), Arc::new(self.clock.clone())).unwrap()
    }

    /// `n` invites to `<prefix><i>@race.example` on [`ACCOUNT`]: (invite id, email, token).
    fn invites(&self, e: &Engine, prefix: &str, n: usize) -> Vec<Sent> {
        (0..n)
            .map(|i| {
                let email = format!("{prefix}{i}@race.example");
                let sent = e
                    .invite(OWNER, ACCOUNT, &email, &Permissions::All, None)
                    .unwrap();
                (sent.invite.id, email, sent.token)
            })
            .collect()
    }
}

/// Runs `work(participant, round)` on `n` threads, each with its own engine, every round
/// started together; returns the outcome of each participant in each round.
fn race<T: Send>(
    r: &Race,
    n: usize,
    work: impl Fn(&Engine, usize, usize) -> T + Sync,
) -> Vec<Vec<T>> {
    let barrier = Barrier::new(n);
    let engines: Vec<Engine> = (0..n).map(|_| r.engine()).collect();
    let per_thread: Vec<Vec<T>> = std::thread::scope(|s| {
        let handles: Vec<_> = engines
            .iter()
            .enumerate()
            .map(|(p, engine)| {
                let (barrier, work) = (&barrier, &work);
                s.spawn(move || {
                    (0..ROUNDS)
                        .map(|round| {
                            barrier.wait();
                            work(engine, p, round)
                        })
                        .collect::<Vec<T>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Transpose to rounds × participants.
    let mut rounds: Vec<Vec<T>> = (0..ROUNDS).map(|_| Vec::with_capacity(n)).collect();
    for outcomes in per_thread {
        for (round, o) in outcomes.into_iter().enumerate() {
            rounds[round].push(o);
        }
    }
    rounds
}

fn outcome<T>(r: cohort_core::Result<T>) -> Result<(), ErrorCode> {
    r.map(|_| ()).map_err(|e| e.code())
}

fn member_rows(e: &Engine) -> usize {
    e.dump()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("memberships:"))
        .count()
}

#[test]
fn eight_threads_accept_one_invite_exactly_one_wins() {
    // Any login may accept, so that each thread accepts as a different user and two winners
    // would show up as two memberships. One account per round.
    let r = Race::new(false);
    let setup = r.setup_engine();
    let tokens: Vec<String> = (0..ROUNDS)
        .map(|round| {
            let acct = format!("acct-{round}");
            setup.upsert_account(&acct, "Race", OWNER).unwrap();
            setup
                .invite(
                    OWNER,
                    &acct,
                    "invitee@race.example",
                    &Permissions::All,
                    None,
                )
                .unwrap()
                .token
        })
        .collect();
    for t in 0..THREADS {
        setup
            .upsert_user(&format!("t{t}@race.example"), None, None)
            .unwrap();
    }

    let rounds = race(&r, THREADS, |e, t, round| {
        outcome(e.accept(&tokens[round], &format!("t{t}@race.example")))
    });

    let check = r.engine();
    for (round, outcomes) in rounds.iter().enumerate() {
        let winners: Vec<usize> = (0..THREADS).filter(|t| outcomes[*t].is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        for o in outcomes.iter().filter(|o| o.is_err()) {
            assert_eq!(*o, Err(ErrorCode::TokenAlreadyUsed), "round {round}");
        }
        let winner = format!("t{}@race.example", winners[0]);
        let acct = format!("acct-{round}");
        let members = check.members(&acct).unwrap();
        assert_eq!(members.len(), 2, "round {round}: {members:?}");
        assert_eq!(members[1].email.as_str(), winner);
        let accepts = check
            .audit(&acct, 0, 100)
            .unwrap()
            .into_iter()
            .filter(|a| a.action == "invite.accept")
            .count();
        assert_eq!(accepts, 1, "round {round}");
    }
    assert_eq!(member_rows(&check), 1 + 2 * ROUNDS);
    let accepted = check
        .dump()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("invites:") && l.contains(" \"accepted\" "))
        .count();
    assert_eq!(accepted, ROUNDS);
}

#[test]
fn accept_racing_cancel_exactly_one_succeeds() {
    let r = Race::new(true);
    let invites = r.invites(&r.setup_engine(), "c", ROUNDS);
    let rounds = race(&r, 2, |e, who, round| {
        let (id, email, token) = &invites[round];
        if who == 0 {
            outcome(e.accept_register(token, email, "Racer"))
        } else {
            outcome(e.cancel(OWNER, *id))
        }
    });

    let check = r.engine();
    let mut accepted_wins = 0;
    for (round, o) in rounds.iter().enumerate() {
        let (id, email, _) = &invites[round];
        let inv = check.invite_by_id(*id).unwrap();
        let member = check
            .members(ACCOUNT)
            .unwrap()
            .into_iter()
            .find(|m| m.email.as_str() == email);
        match (&o[0], &o[1]) {
            (Ok(()), Err(ErrorCode::InviteNotOpen)) => {
                accepted_wins += 1;
                assert_eq!(inv.status, InviteStatus::Accepted, "round {round}");
                assert_eq!(member.map(|m| m.role), Some(Role::Member), "round {round}");
            }
            (Err(ErrorCode::TokenCancelled), Ok(())) => {
                assert_eq!(inv.status, InviteStatus::Cancelled, "round {round}");
                assert!(member.is_none(), "round {round}");
                assert!(
                    check.user(email).is_err(),
                    "round {round}: registration rolled back"
                );
            }
            other => panic!("round {round}: not exactly one winner: {other:?}"),
        }
    }
    assert_eq!(member_rows(&check), 1 + accepted_wins);
    assert!(check.pending(ACCOUNT).unwrap().is_empty());
}

#[test]
fn accept_racing_revoke_ends_as_some_serial_order() {
    let r = Race::new(true);
    let invites = r.invites(&r.setup_engine(), "v", ROUNDS);
    let rounds = race(&r, 2, |e, who, round| {
        let (_, email, token) = &invites[round];
        if who == 0 {
            outcome(e.accept_register(token, email, "Racer"))
        } else {
            outcome(e.revoke(OWNER, ACCOUNT, email))
        }
    });

    let check = r.engine();
    let audit = check.audit(ACCOUNT, 0, 10_000).unwrap();
    let mut still_members = 0;
    for (round, o) in rounds.iter().enumerate() {
        let (id, email, _) = &invites[round];
        // Accepting cannot lose to a revoke: the invite is open either way.
        assert_eq!(o[0], Ok(()), "round {round}");
        assert_eq!(
            check.invite_by_id(*id).unwrap().status,
            InviteStatus::Accepted,
            "round {round}"
        );
        assert!(
            check.user(email).is_ok(),
            "round {round}: the login remains"
        );
        let is_member = check
            .members(ACCOUNT)
            .unwrap()
            .iter()
            .any(|m| m.email.as_str() == email);
        let revoked = audit
            .iter()
            .any(|a| a.action == "member.revoke" && a.target.as_deref() == Some(email.as_str()));
        match o[1] {
            // accept, then revoke: the access is gone.
            Ok(()) => {
                assert!(!is_member, "round {round}");
                assert!(revoked, "round {round}");
            }
            // revoke (of nobody yet), then accept: the access stays.
            Err(ErrorCode::NotFound) => {
                still_members += 1;
                assert!(is_member, "round {round}");
                assert!(!revoked, "round {round}");
            }
            ref other => panic!("round {round}: revoke gave {other:?}"),
        }
    }
    assert_eq!(member_rows(&check), 1 + still_members);
}

// ---------- separate processes ----------

const CHILD_DIR: &str = "COHORT_RACE_DIR";
const CHILD_ROLE: &str = "COHORT_RACE_ROLE";
const CHILD_INDEX: &str = "COHORT_RACE_INDEX";
const CHILD_COUNT: &str = "COHORT_RACE_COUNT";

/// In a child process: tries every invite of `dir/invites.txt` in order, in step with the other
/// children, and writes the ids it won to `dir/won-<index>.txt`.
fn child(dir: &Path) {
    let role = std::env::var(CHILD_ROLE).unwrap();
    let index = std::env::var(CHILD_INDEX).unwrap();
    let count: usize = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
    let mut cfg = Config::new(database_for(dir, "cohort.db"), dir.join("keys"), "k1");
    cfg.max_invites_per_day = 100_000;
    cfg.max_invites_per_inviter_per_day = 100_000;
    let engine = Engine::open_with_clock(cfg, Arc::new(ManualClock::new(T0))).unwrap();
    let invites: Vec<Sent> = std::fs::read_to_string(dir.join("invites.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            let id = f.next().unwrap().parse().unwrap();
            (
                id,
                f.next().unwrap().to_string(),
                f.next().unwrap().to_string(),
            )
        })
        .collect();
    let mut won = String::new();
    for (round, (id, email, token)) in invites.iter().enumerate() {
        barrier(dir, &index, count, round);
        let r = match role.as_str() {
            "accept" => outcome(engine.accept(token, email)),
            "cancel" => outcome(engine.cancel(OWNER, *id)),
            other => panic!("unknown role {other}"),
        };
        match r {
            Ok(()) => won.push_str(&format!("{id}\n")),
            Err(
                ErrorCode::TokenAlreadyUsed | ErrorCode::TokenCancelled | ErrorCode::InviteNotOpen,
            ) => {}
            Err(other) => panic!("invite {id}: {role} failed with {other}"),
        }
    }
    std::fs::write(dir.join(format!("won-{index}.txt")), won).unwrap();
}

/// Waits until all `count` children have reached `round`: each round is a real race, not a
/// procession behind whichever process got ahead first.
fn barrier(dir: &Path, index: &str, count: usize, round: usize) {
    std::fs::write(dir.join(format!("at-{round}-{index}")), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(0..count).all(|i| dir.join(format!("at-{round}-{i}")).exists()) {
        assert!(
            Instant::now() < deadline,
            "round {round}: the other children never came"
        );
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// Runs `roles.len()` copies of this test binary, each running only `test`, against one database
/// holding `ROUNDS` invites; returns (invites, the ids each child won).
fn run_children(test: &str, roles: &[&str]) -> (Race, Vec<Sent>, Vec<Vec<i64>>) {
    let r = Race::new(true);
    let setup = r.setup_engine();
    let invites = r.invites(&setup, "p", ROUNDS);
    for (_, email, _) in &invites {
        setup.upsert_user(email, None, None).unwrap();
    }
    drop(setup);
    let dir: PathBuf = r.dir.path().to_path_buf();
    let lines: String = invites
        .iter()
        .map(|(id, email, token)| format!("{id}\t{email}\t{token}\n"))
        .collect();
    std::fs::write(dir.join("invites.txt"), lines).unwrap();

    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = roles
        .iter()
        .enumerate()
        .map(|(i, role)| {
            Command::new(&exe)
                .args([test, "--exact", "--nocapture", "--test-threads=1"])
                .env(CHILD_DIR, &dir)
                .env(CHILD_ROLE, role)
                .env(CHILD_INDEX, i.to_string())
                .env(CHILD_COUNT, roles.len().to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.iter_mut().enumerate() {
        let status = c.wait().unwrap();
        assert!(
            status.success(),
            "child {i} ({}) failed: {status}",
            roles[i]
        );
    }
    let won = (0..roles.len())
        .map(|i| {
            std::fs::read_to_string(dir.join(format!("won-{i}.txt")))
                .unwrap()
                .lines()
                .map(|l| l.parse().unwrap())
                .collect()
        })
        .collect();
    (r, invites, won)
}

/// Which child won each invite; asserts there is exactly one per invite.
fn one_winner_each(invites: &[Sent], won: &[Vec<i64>]) -> BTreeMap<i64, usize> {
    let mut winners: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (child, ids) in won.iter().enumerate() {
        for id in ids {
            winners.entry(*id).or_default().push(child);
        }
    }
    for (id, _, _) in invites {
        let w = winners.get(id).cloned().unwrap_or_default();
        assert_eq!(w.len(), 1, "invite {id} was won by children {w:?}");
    }
    assert_eq!(winners.len(), invites.len());
    winners.into_iter().map(|(id, w)| (id, w[0])).collect()
}

#[test]
fn eight_processes_racing_each_link_have_one_winner() {
    // Eight short-lived processes, each opening its own engine, accept the same link at the
    // same moment (a barrier per round), for every link in turn.
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        return child(Path::new(&dir));
    }
    let roles = ["accept"; 8];
    let (r, invites, won) =
        run_children("eight_processes_racing_each_link_have_one_winner", &roles);
    one_winner_each(&invites, &won);
    let check = r.engine();
    assert_eq!(member_rows(&check), 1 + ROUNDS);
    let accepts = check
        .audit(ACCOUNT, 0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "invite.accept")
        .count();
    assert_eq!(accepts, ROUNDS, "one audit entry per accepted link");
}

#[test]
fn four_processes_accept_each_invite_once() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        return child(Path::new(&dir));
    }
    let roles = ["accept"; PROCESSES];
    let (r, invites, won) = run_children("four_processes_accept_each_invite_once", &roles);
    one_winner_each(&invites, &won);

    let check = r.engine();
    assert_eq!(member_rows(&check), 1 + ROUNDS);
    let members = check.members(ACCOUNT).unwrap();
    for (id, email, _) in &invites {
        let inv = check.invite_by_id(*id).unwrap();
        assert_eq!(inv.status, InviteStatus::Accepted);
        assert_eq!(
            inv.accepted_by.as_ref().map(|e| e.as_str()),
            Some(email.as_str())
        );
        assert_eq!(
            members.iter().filter(|m| m.email.as_str() == email).count(),
            1
        );
    }
}

#[test]
fn processes_accepting_and_cancelling_have_one_winner_each() {
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        return child(Path::new(&dir));
    }
    let roles = ["accept", "cancel", "accept", "cancel"];
    let (r, invites, won) = run_children(
        "processes_accepting_and_cancelling_have_one_winner_each",
        &roles,
    );
    let winners = one_winner_each(&invites, &won);

    let check = r.engine();
    let members = check.members(ACCOUNT).unwrap();
    let mut accepted = 0;
    for (id, email, _) in &invites {
        let inv = check.invite_by_id(*id).unwrap();
        let is_member = members.iter().any(|m| m.email.as_str() == email);
        if roles[winners[id]] == "accept" {
            accepted += 1;
            assert_eq!(inv.status, InviteStatus::Accepted, "invite {id}");
            assert!(is_member, "invite {id}");
        } else {
            assert_eq!(inv.status, InviteStatus::Cancelled, "invite {id}");
            assert!(!is_member, "invite {id}");
        }
    }
    assert_eq!(member_rows(&check), 1 + accepted);
}
