//! Property: any sequence of invite / resend / cancel / accept / decline / inspect / revoke /
//! expire on one account gives the outcome a small model predicts, and always:
//! - an invite is accepted at most once;
//! - an invite that was cancelled is never accepted afterwards;
//! - after a resend, the older links of that invite never work again (superseded, or expired
//!   once their own time is up: the token's time window is checked before the database);
//! - the database ends as the model: the same open invites and the same members.
//!
//! Each operation is two input bytes: what, and its argument (see `run`).

use cohort_core::clock::ManualClock;
use cohort_core::config::Config;
use cohort_core::token::Keyring;
use cohort_core::{Engine, ErrorCode, InviteStatus, Permissions, TokenReason};
use std::sync::Arc;

const T0: i64 = 1_795_946_400;
const TTL: i64 = 7 * 86_400;
const ACCOUNT: &str = "1042";
const OWNER: &str = "owner@acme.example";
const PEOPLE: [&str; 3] = ["ann@example.com", "bob@example.com", "cy@example.com"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    /// Marked expired by `expire_due` (a pending invite past its expiry only reads as expired).
    Expired,
    Accepted,
    Cancelled,
    Declined,
}

struct Invite {
    id: i64,
    person: usize,
    status: Status,
    expires_at: i64,
    /// Index in `links` of the newest link.
    link: usize,
    accepts: u32,
    ever_cancelled: bool,
}

struct Link {
    token: String,
    invite: usize,
    /// The token's own expiry (the row's may move on with a resend; the token's never does).
    expires_at: i64,
}

#[derive(Default)]
struct Model {
    now: i64,
    invites: Vec<Invite>,
    links: Vec<Link>,
    members: [bool; 3],
}

type Expect = Result<(), ErrorCode>;

impl Model {
    fn open(&self, person: usize) -> Option<usize> {
        self.invites.iter().position(|i| {
            i.person == person && matches!(i.status, Status::Pending | Status::Expired)
        })
    }

    /// Why a link cannot be used now, if it cannot: the token's own expiry first (what an
    /// offline verifier sees), then the database's reasons.
    fn reason(&self, link: usize) -> Option<TokenReason> {
        let inv = &self.invites[self.links[link].invite];
        if self.now >= self.links[link].expires_at {
            Some(TokenReason::Expired)
        } else if inv.link != link {
            Some(TokenReason::Superseded)
        } else {
            match inv.status {
                Status::Accepted => Some(TokenReason::AlreadyUsed),
                Status::Cancelled => Some(TokenReason::Cancelled),
                Status::Declined => Some(TokenReason::Declined),
                Status::Expired => Some(TokenReason::Expired),
                Status::Pending if self.now >= inv.expires_at => Some(TokenReason::Expired),
                Status::Pending => None,
            }
        }
    }

    fn usable(&self, link: usize) -> Expect {
        self.reason(link).map_or(Ok(()), |r| Err(r.code()))
    }
}

fn outcome<T>(r: &cohort_core::Result<T>) -> Expect {
    match r {
        Ok(_) => Ok(()),
        Err(e) => Err(e.code()),
    }
}

fn engine(clock: &ManualClock) -> Engine {
    let mut cfg = Config::new(std::path::Path::new(":memory:"), "/nonexistent", "k1");
    // The model has no clock-based send budget: lift the daily invite limits (tested elsewhere).
    cfg.max_invites_per_day = u32::MAX;
    cfg.max_invites_per_inviter_per_day = u32::MAX;
    let mut ring = Keyring::new();
    ring.insert("k1", &[7u8; 32]).expect("key");
    ring.set_current("k1").expect("current key");
    let e = Engine::open_with_keyring(cfg, ring, Arc::new(clock.clone())).expect("engine");
    e.upsert_account(ACCOUNT, "Acme Ltd", OWNER)
        .expect("account");
    for p in PEOPLE {
        e.upsert_user(p, Some("Someone"), None).expect("user");
    }
    e
}

pub fn check(data: &[u8]) {
    run(data);
}

fn code(r: Expect) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(c) => c.as_str(),
    }
}

/// Runs the operations, checking each against the model; returns one line per operation
/// (`"accept link 1 as ann: token_already_used"`). Operation byte modulo 8: 0 invite, 1 resend,
/// 2 cancel, 3 accept, 4 revoke, 5 expire, 6 decline, 7 inspect. The argument picks the
/// person (modulo 3), the invite or the link (modulo their count; for accept the link is
/// `arg / 3` and the person `arg % 3`), or for expire how far the clock moves (`arg % 32` × 6 h).
pub fn run(data: &[u8]) -> Vec<String> {
    let mut log = Vec::new();
    let clock = ManualClock::new(T0);
    let e = engine(&clock);
    let mut m = Model {
        now: T0,
        ..Model::default()
    };
    for (step, pair) in data.chunks(2).enumerate() {
        let (what, arg) = (pair[0], *pair.get(1).unwrap_or(&0));
        let person = usize::from(arg) % PEOPLE.len();
        let ctx = format!("step {step}: op {what} arg {arg}");
        match what % 8 {
            0 => {
                let r = e.invite(OWNER, ACCOUNT, PEOPLE[person], &Permissions::All, None);
                let want = if m.members[person] {
                    Err(ErrorCode::AlreadyMember)
                } else if m.open(person).is_some() {
                    Err(ErrorCode::PendingInviteExists)
                } else {
                    Ok(())
                };
                assert_eq!(outcome(&r), want, "{ctx}: invite");
                log.push(format!("invite {}: {}", name(person), code(want)));
                if let Ok(sent) = r {
                    m.links.push(Link {
                        token: sent.token,
                        invite: m.invites.len(),
                        expires_at: m.now + TTL,
                    });
                    m.invites.push(Invite {
                        id: sent.invite.id,
                        person,
                        status: Status::Pending,
                        expires_at: m.now + TTL,
                        link: m.links.len() - 1,
                        accepts: 0,
                        ever_cancelled: false,
                    });
                }
            }
            1 | 2 if !m.invites.is_empty() => {
                let i = usize::from(arg) % m.invites.len();
                let inv = &m.invites[i];
                let open = matches!(inv.status, Status::Pending | Status::Expired);
                if what % 8 == 1 {
                    let r = e.resend(OWNER, inv.id, None);
                    let want = if !open {
                        Err(ErrorCode::InviteNotOpen)
                    } else if m.members[inv.person] {
                        Err(ErrorCode::AlreadyMember)
                    } else {
                        Ok(())
                    };
                    assert_eq!(outcome(&r), want, "{ctx}: resend");
                    log.push(format!("resend invite {i}: {}", code(want)));
                    if let Ok(sent) = r {
                        m.links.push(Link {
                            token: sent.token,
                            invite: i,
                            expires_at: m.now + TTL,
                        });
                        let (now, link) = (m.now, m.links.len() - 1);
                        let inv = &mut m.invites[i];
                        (inv.status, inv.expires_at, inv.link) = (Status::Pending, now + TTL, link);
                    }
                } else {
                    let r = e.cancel(OWNER, inv.id);
                    let want = if open {
                        Ok(())
                    } else {
                        Err(ErrorCode::InviteNotOpen)
                    };
                    assert_eq!(outcome(&r), want, "{ctx}: cancel");
                    log.push(format!("cancel invite {i}: {}", code(want)));
                    if r.is_ok() {
                        m.invites[i].status = Status::Cancelled;
                        m.invites[i].ever_cancelled = true;
                    }
                }
            }
            3 | 6 | 7 if !m.links.is_empty() => {
                let l = if what % 8 == 3 {
                    usize::from(arg / 3) % m.links.len()
                } else {
                    usize::from(arg) % m.links.len()
                };
                let i = m.links[l].invite;
                let token = m.links[l].token.clone();
                let usable = m.usable(l);
                let superseded = m.invites[i].link != l;
                let reason = m.reason(l);
                match what % 8 {
                    3 => {
                        let who = person;
                        let r = e.accept(&token, PEOPLE[who]);
                        let want = usable.and_then(|()| {
                            if who != m.invites[i].person {
                                Err(ErrorCode::EmailMismatch)
                            } else if m.members[who] {
                                Err(ErrorCode::AlreadyMember)
                            } else {
                                Ok(())
                            }
                        });
                        assert_eq!(outcome(&r), want, "{ctx}: accept");
                        log.push(format!("accept link {l} as {}: {}", name(who), code(want)));
                        let inv = &mut m.invites[i];
                        if r.is_ok() {
                            assert!(!inv.ever_cancelled, "{ctx}: accepted after a cancel");
                            assert!(!superseded, "{ctx}: an old link was accepted");
                            inv.accepts += 1;
                            assert_eq!(inv.accepts, 1, "{ctx}: accepted twice");
                            inv.status = Status::Accepted;
                            m.members[who] = true;
                        }
                    }
                    6 => {
                        let r = e.decline(&token);
                        assert_eq!(outcome(&r), usable, "{ctx}: decline");
                        log.push(format!("decline link {l}: {}", code(usable)));
                        if r.is_ok() {
                            m.invites[i].status = Status::Declined;
                        }
                    }
                    _ => {
                        let r = e.inspect(&token).expect("inspect");
                        assert_eq!(r.valid, usable.is_ok(), "{ctx}: inspect {r:?}");
                        assert_eq!(r.reason, reason.map(TokenReason::as_str), "{ctx}: inspect");
                        log.push(format!("inspect link {l}: {}", r.reason.unwrap_or("valid")));
                    }
                }
            }
            4 => {
                let r = e.revoke(OWNER, ACCOUNT, PEOPLE[person]);
                let want = if m.members[person] {
                    Ok(())
                } else {
                    Err(ErrorCode::NotFound)
                };
                assert_eq!(outcome(&r), want, "{ctx}: revoke");
                log.push(format!("revoke {}: {}", name(person), code(want)));
                m.members[person] = false;
            }
            5 => {
                let secs = i64::from(arg % 32) * 6 * 3_600;
                clock.advance(secs);
                m.now += secs;
                let n = e.expire_due().expect("expire");
                let mut due = 0;
                for inv in &mut m.invites {
                    if inv.status == Status::Pending && m.now >= inv.expires_at {
                        inv.status = Status::Expired;
                        due += 1;
                    }
                }
                assert_eq!(n, due, "{ctx}: expire");
                log.push(format!("advance {} h, expire: {n}", secs / 3_600));
            }
            _ => {}
        }
    }
    compare_state(&e, &m);
    log
}

fn name(person: usize) -> &'static str {
    PEOPLE[person].split('@').next().unwrap_or("")
}

/// The database holds what the model holds.
fn compare_state(e: &Engine, m: &Model) {
    let mut open: Vec<(i64, InviteStatus)> = e
        .pending(ACCOUNT)
        .expect("pending")
        .iter()
        .map(|i| (i.id, i.status))
        .collect();
    open.sort_unstable_by_key(|x| x.0);
    let want: Vec<(i64, InviteStatus)> = m
        .invites
        .iter()
        .filter_map(|i| match i.status {
            Status::Pending if m.now >= i.expires_at => Some((i.id, InviteStatus::Expired)),
            Status::Pending => Some((i.id, InviteStatus::Pending)),
            Status::Expired => Some((i.id, InviteStatus::Expired)),
            _ => None,
        })
        .collect();
    assert_eq!(open, want, "open invites");
    for inv in &m.invites {
        let got = e.invite_by_id(inv.id).expect("invite").status;
        let closed = match inv.status {
            Status::Accepted => Some(InviteStatus::Accepted),
            Status::Cancelled => Some(InviteStatus::Cancelled),
            Status::Declined => Some(InviteStatus::Declined),
            _ => None,
        };
        if let Some(c) = closed {
            assert_eq!(got, c, "invite {}", inv.id);
        }
    }
    let mut members: Vec<String> = e
        .members(ACCOUNT)
        .expect("members")
        .iter()
        .map(|x| x.email.to_string())
        .collect();
    members.sort();
    let mut want: Vec<String> = PEOPLE
        .iter()
        .zip(m.members)
        .filter(|(_, is)| *is)
        .map(|(p, _)| p.to_string())
        .chain([OWNER.to_string()])
        .collect();
    want.sort();
    assert_eq!(members, want, "members");
}
