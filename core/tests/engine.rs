//! Every `Engine` operation and every refusal: the outcome and the rows left behind.

mod common;

use cohort_core::clock::format_rfc3339;
use cohort_core::config::DEFAULT_LINK_TEMPLATE;
use cohort_core::engine::SYSTEM_ACTOR;
use cohort_core::permissions::{BUILTIN, COHORT_KEYS};
use cohort_core::{Error, ErrorCode, InviteStatus, Permissions, Role, TokenReason};
use common::*;

/// The dump lines of one table.
fn rows(dump: &[String], table: &str) -> Vec<String> {
    let prefix = format!("{table}:");
    dump.iter()
        .filter(|l| l.starts_with(&prefix))
        .cloned()
        .collect()
}

fn last_audit(f: &Fixture) -> cohort_core::AuditEvent {
    f.engine
        .audit(ACCOUNT, 0, 1000)
        .unwrap()
        .pop()
        .expect("an audit entry")
}

// ---------- accounts and users ----------

#[test]
fn account_upsert_creates_owner_login_membership_and_audit() {
    let f = Fixture::new();
    let acct = f.engine.account(ACCOUNT).unwrap();
    assert_eq!(acct.name, ACCOUNT_NAME);
    assert_eq!(acct.owner.as_str(), OWNER);
    assert_eq!(acct.created_at, T0);

    let owner = f.engine.user(OWNER).unwrap();
    assert_eq!(owner.name, "");
    assert_eq!(owner.last_login, None);

    let members = f.engine.members(ACCOUNT).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].email.as_str(), OWNER);
    assert_eq!(members[0].role, Role::Owner);
    assert_eq!(members[0].permissions, Permissions::All);
    assert_eq!(members[0].invited_by, None);
    assert_eq!(members[0].joined_at, T0);

    let d = f.dump();
    assert_eq!(rows(&d, "users").len(), 1);
    assert_eq!(rows(&d, "accounts").len(), 1);
    assert_eq!(rows(&d, "memberships").len(), 1);

    let audit = f.engine.audit(ACCOUNT, 0, 100).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "account.create");
    assert_eq!(audit[0].target.as_deref(), Some(OWNER));
    assert_eq!(audit[0].new_value.as_deref(), Some(ACCOUNT_NAME));
    assert_eq!(audit[0].at, T0);
}

#[test]
fn account_upsert_renames_and_reuses_an_existing_login() {
    let f = Fixture::new();
    // Same name: nothing to do, nothing written.
    let before = f.dump();
    f.engine
        .upsert_account(ACCOUNT, ACCOUNT_NAME, "OWNER@Acme.Example")
        .unwrap();
    assert_eq!(f.dump(), before);

    let renamed = f
        .engine
        .upsert_account(ACCOUNT, "Acme Group", OWNER)
        .unwrap();
    assert_eq!(renamed.name, "Acme Group");
    assert_eq!(f.engine.account(ACCOUNT).unwrap().name, "Acme Group");
    let a = last_audit(&f);
    assert_eq!(a.action, "account.rename");
    assert_eq!(a.old_value.as_deref(), Some(ACCOUNT_NAME));
    assert_eq!(a.new_value.as_deref(), Some("Acme Group"));

    // A second account owned by the same login reuses it.
    f.engine.upsert_account("2001", "Side Co", OWNER).unwrap();
    assert_eq!(rows(&f.dump(), "users").len(), 1);
    assert_eq!(f.engine.accounts_of(OWNER).unwrap().len(), 2);
}

#[test]
fn account_upsert_refusals_write_nothing() {
    let f = Fixture::new();
    let e = f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account(ACCOUNT, ACCOUNT_NAME, "someone@else.example")
    });
    assert!(e.to_string().contains(OWNER), "{e}");
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account("", "X", OWNER)
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account(" 7", "X", OWNER)
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account(&"9".repeat(129), "X", OWNER)
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account("7", "  ", OWNER)
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account("7", "A\nB", OWNER)
    });
    f.refused(ErrorCode::InvalidEmail, |e| {
        e.upsert_account("7", "X", "not-an-email")
    });
    f.refused(ErrorCode::NotFound, |e| e.account("7"));
}

#[test]
fn user_upsert_creates_updates_and_normalizes() {
    let f = Fixture::new();
    let u = f
        .engine
        .upsert_user("  Dev@Acme.EXAMPLE ", Some("Dev One"), Some(true))
        .unwrap();
    assert_eq!(u.email.as_str(), "dev@acme.example");
    assert_eq!(u.name, "Dev One");
    assert!(u.two_factor);
    assert_eq!(u.created_at, T0);
    assert_eq!(u.last_login, None);
    assert_eq!(f.engine.user("DEV@acme.example").unwrap(), u);

    // Only the given fields change.
    let u2 = f
        .engine
        .upsert_user("dev@acme.example", Some("Dev Renamed"), None)
        .unwrap();
    assert_eq!(u2.name, "Dev Renamed");
    assert!(u2.two_factor, "2FA kept");
    assert_eq!(u2.id, u.id);
    assert_eq!(f.engine.user("dev@acme.example").unwrap(), u2);
    let u3 = f
        .engine
        .upsert_user("dev@acme.example", None, Some(false))
        .unwrap();
    assert_eq!(u3.name, "Dev Renamed");
    assert!(!u3.two_factor);

    // No change: nothing written (not even an audit entry).
    let before = f.dump();
    f.engine
        .upsert_user("dev@acme.example", Some("Dev Renamed"), Some(false))
        .unwrap();
    assert_eq!(f.dump(), before);

    assert_eq!(rows(&f.dump(), "users").len(), 2);
    f.refused(ErrorCode::InvalidEmail, |e| {
        e.upsert_user("dev at acme", None, None)
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_user("x@acme.example", Some("bad\u{7}name"), None)
    });
    f.refused(ErrorCode::NotFound, |e| e.user("nobody@acme.example"));
}

#[test]
fn record_login_sets_last_login() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    f.clock.advance(3_600);
    let u = f.engine.record_login("Dev@Acme.example").unwrap();
    assert_eq!(u.last_login, Some(T0 + 3_600));
    assert_eq!(
        f.engine.user("dev@acme.example").unwrap().last_login,
        Some(T0 + 3_600)
    );
    let m = f.engine.members(ACCOUNT).unwrap();
    assert_eq!(m[1].email.as_str(), "dev@acme.example");
    assert_eq!(m[1].last_login, Some(T0 + 3_600));
    assert_eq!(m[0].last_login, None, "the owner has not logged in");

    f.clock.advance(60);
    let u = f.engine.record_login("dev@acme.example").unwrap();
    assert_eq!(u.last_login, Some(T0 + 3_660));
    let logins: Vec<_> = f
        .dump()
        .into_iter()
        .filter(|l| l.starts_with("audit:") && l.contains("user.login"))
        .collect();
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert!(logins[1].contains(&format_rfc3339(T0 + 3_600)));
    assert!(logins[1].contains(&format_rfc3339(T0 + 3_660)));

    f.refused(ErrorCode::NotFound, |e| {
        e.record_login("ghost@acme.example")
    });
    f.refused(ErrorCode::InvalidEmail, |e| e.record_login("ghost"));
}

// ---------- invites ----------

#[test]
fn invite_with_all_permissions() {
    let f = Fixture::new();
    let sent = f.invite("Dev@Acme.Example", &Permissions::All);
    let inv = &sent.invite;
    assert_eq!(inv.account_id, ACCOUNT);
    assert_eq!(inv.email.as_str(), "dev@acme.example");
    assert_eq!(inv.permissions, Permissions::All);
    assert_eq!(inv.invited_by.as_str(), OWNER);
    assert_eq!(inv.created_at, T0);
    assert_eq!(inv.expires_at, T0 + 7 * DAY);
    assert_eq!(inv.status, InviteStatus::Pending);
    assert_eq!(inv.times_sent, 1);
    assert_eq!(inv.last_sent_at, T0);
    assert_eq!(inv.accepted_by, None);

    assert!(sent.token.starts_with("cohort1.k1."), "{}", sent.token);
    assert_eq!(
        sent.link,
        DEFAULT_LINK_TEMPLATE.replace("{token}", &sent.token)
    );
    assert_eq!(sent.email.to, "dev@acme.example");
    assert_eq!(
        sent.email.subject,
        "Acme Ltd has invited you to their account"
    );
    assert!(sent.email.body.contains(&sent.link), "{}", sent.email.body);
    assert!(sent.email.body.contains("2026-12-06T10:00:00Z"));
    assert!(sent.email.body.contains("All Permissions"));
    assert!(sent.email.body.contains(OWNER));

    // The token names the invite and account and holds no personal data.
    let claims = f.engine.keyring().verify_signature(&sent.token).unwrap();
    assert_eq!(claims.invite_id, inv.id as u64);
    assert_eq!(claims.account_id, ACCOUNT);
    assert_eq!(claims.expires_at, inv.expires_at);
    assert_eq!(claims.issued_at, T0);

    // State: the invite row, listed as pending, and its audit entry; the raw token is not stored.
    assert_eq!(f.engine.invite_by_id(inv.id).unwrap(), *inv);
    assert_eq!(f.engine.pending(ACCOUNT).unwrap(), vec![inv.clone()]);
    let d = f.dump();
    assert_eq!(rows(&d, "invites").len(), 1);
    let payload = sent.token.split('.').nth(2).unwrap();
    let mac = sent.token.split('.').nth(3).unwrap();
    assert!(d.iter().all(|l| !l.contains(payload) && !l.contains(mac)));
    let a = last_audit(&f);
    assert_eq!(a.actor, OWNER);
    assert_eq!(a.action, "invite.create");
    assert_eq!(a.target.as_deref(), Some("dev@acme.example"));
    assert_eq!(a.old_value, None);
    assert_eq!(a.new_value.as_deref(), Some("all"));
    // Inviting does not create a login.
    assert_eq!(rows(&d, "users").len(), 1);
}

#[test]
fn invite_with_chosen_permissions_and_ttl() {
    let f = Fixture::new();
    let perms = keys(&["tickets", "invoices"]);
    let sent = f
        .engine
        .invite(OWNER, ACCOUNT, "billing@acme.example", &perms, Some(3_600))
        .unwrap();
    assert_eq!(sent.invite.permissions, perms);
    assert_eq!(sent.invite.expires_at, T0 + 3_600);
    assert!(
        sent.email
            .body
            .contains("View & Pay Invoices, View & Open Support Tickets"),
        "{}",
        sent.email.body
    );
    assert!(sent.email.body.contains("2026-11-29T11:00:00Z"));
    let a = last_audit(&f);
    assert_eq!(a.new_value.as_deref(), Some("invoices,tickets"));
    assert_eq!(f.engine.pending(ACCOUNT).unwrap()[0].permissions, perms);

    // Each invite gets its own nonce.
    let other = f.invite("b@acme.example", &perms);
    assert_ne!(
        f.engine
            .keyring()
            .verify_signature(&other.token)
            .unwrap()
            .nonce,
        f.engine
            .keyring()
            .verify_signature(&sent.token)
            .unwrap()
            .nonce
    );
}

#[test]
fn invite_uses_link_template_and_extra_permissions_from_config() {
    let f = Fixture::with(|c| {
        c.link_template = "https://billing.example.net/accept?token={token}&lang=en".into();
        c.permissions = vec![("reports".into(), "View Reports".into())];
        c.invite_ttl = 2 * DAY;
    });
    let sent = f.invite("r@acme.example", &keys(&["reports", "emails"]));
    assert_eq!(
        sent.link,
        format!(
            "https://billing.example.net/accept?token={}&lang=en",
            sent.token
        )
    );
    assert_eq!(sent.invite.expires_at, T0 + 2 * DAY);
    assert!(sent.email.body.contains("View Emails, View Reports"));
    // The whole link works wherever a token does.
    assert!(f.engine.inspect(&sent.link).unwrap().valid);
}

#[test]
fn invite_refused_when_actor_is_not_the_owner() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    let e = f.refused(ErrorCode::NotOwner, |e| {
        e.invite(
            "dev@acme.example",
            ACCOUNT,
            "x@acme.example",
            &Permissions::All,
            None,
        )
    });
    assert!(e.to_string().contains("dev@acme.example"), "{e}");
    f.refused(ErrorCode::NotOwner, |e| {
        e.invite(
            "stranger@else.example",
            ACCOUNT,
            "x@acme.example",
            &Permissions::All,
            None,
        )
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.invite(OWNER, "9999", "x@acme.example", &Permissions::All, None)
    });
    f.refused(ErrorCode::InvalidEmail, |e| {
        e.invite("owner", ACCOUNT, "x@acme.example", &Permissions::All, None)
    });
}

#[test]
fn invite_refused_for_invalid_email() {
    let f = Fixture::new();
    for bad in [
        "",
        "dev",
        "dev@",
        "dev@acme",
        "d ev@acme.example",
        "dév@acme.example",
    ] {
        f.refused(ErrorCode::InvalidEmail, |e| {
            e.invite(OWNER, ACCOUNT, bad, &Permissions::All, None)
        });
    }
}

#[test]
fn invite_refused_for_unknown_key_listing_the_valid_ones() {
    let f = Fixture::new();
    let e = f.refused(ErrorCode::UnknownPermission, |e| {
        e.invite(
            OWNER,
            ACCOUNT,
            "x@acme.example",
            &keys(&["invoices", "billing"]),
            None,
        )
    });
    let msg = e.to_string();
    assert!(msg.contains("\"billing\""), "{msg}");
    let valid: Vec<&str> = BUILTIN
        .iter()
        .chain(COHORT_KEYS.iter())
        .map(|(k, _)| *k)
        .collect();
    assert!(msg.contains(&valid.join(", ")), "{msg}");
    match e {
        Error::UnknownPermission { key, valid: listed } => {
            assert_eq!(key, "billing");
            assert_eq!(listed, valid);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invite_refused_for_an_empty_chosen_set() {
    let f = Fixture::new();
    f.refused(ErrorCode::EmptyPermissions, |e| {
        e.invite(OWNER, ACCOUNT, "x@acme.example", &keys(&[]), None)
    });
}

#[test]
fn permission_keys_must_match_the_catalogue_exactly() {
    // A key that only matches after trimming must not be stored as typed: `check` would never
    // find it.
    let f = Fixture::new();
    for bad in [" tickets", "Tickets", "tickets\n", ""] {
        f.refused(ErrorCode::UnknownPermission, |e| {
            e.invite(OWNER, ACCOUNT, "x@acme.example", &keys(&[bad]), None)
        });
    }
}

#[test]
fn invite_refused_for_an_existing_member() {
    let f = Fixture::new();
    f.refused(ErrorCode::AlreadyMember, |e| {
        e.invite(OWNER, ACCOUNT, OWNER, &Permissions::All, None)
    });
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    let e = f.refused(ErrorCode::AlreadyMember, |e| {
        e.invite(
            OWNER,
            ACCOUNT,
            "DEV@acme.example",
            &keys(&["tickets"]),
            None,
        )
    });
    assert!(e.to_string().contains("dev@acme.example"), "{e}");
}

#[test]
fn invite_refused_while_one_is_open_naming_it() {
    let f = Fixture::new();
    let first = f.invite("dev@acme.example", &Permissions::All);
    let e = f.refused(ErrorCode::PendingInviteExists, |e| {
        e.invite(
            OWNER,
            ACCOUNT,
            "Dev@Acme.Example",
            &keys(&["tickets"]),
            None,
        )
    });
    assert!(
        e.to_string()
            .contains(&format!("invite {}", first.invite.id)),
        "{e}"
    );
    assert!(e.to_string().contains("resend"), "{e}");
    assert!(
        matches!(e, Error::PendingInviteExists { invite_id, .. } if invite_id == first.invite.id)
    );

    // Still refused once it is overdue (resend is the way), even after expire_due.
    f.clock.advance(8 * DAY);
    f.refused(ErrorCode::PendingInviteExists, |e| {
        e.invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
    });
    f.engine.expire_due().unwrap();
    f.refused(ErrorCode::PendingInviteExists, |e| {
        e.invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
    });

    // Once closed, a new invite may be sent.
    f.engine.cancel(OWNER, first.invite.id).unwrap();
    let again = f.invite("dev@acme.example", &Permissions::All);
    assert_ne!(again.invite.id, first.invite.id);
}

#[test]
fn invite_refused_at_the_pending_cap() {
    let f = Fixture::with(|c| c.max_pending_invites = 2);
    let a = f.invite("a@acme.example", &Permissions::All);
    f.invite("b@acme.example", &Permissions::All);
    let e = f.refused(ErrorCode::PendingCapReached, |e| {
        e.invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None)
    });
    assert!(
        matches!(e, Error::PendingCapReached { cap: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains('2'), "{e}");

    // The cap is per account.
    f.engine.upsert_account("2001", "Other", OWNER).unwrap();
    f.engine
        .invite(OWNER, "2001", "c@acme.example", &Permissions::All, None)
        .unwrap();

    // Cancelling one frees a place.
    f.engine.cancel(OWNER, a.invite.id).unwrap();
    f.invite("c@acme.example", &Permissions::All);
    f.refused(ErrorCode::PendingCapReached, |e| {
        e.invite(OWNER, ACCOUNT, "d@acme.example", &Permissions::All, None)
    });
    // Overdue invites do not hold places.
    f.clock.advance(7 * DAY);
    f.invite("d@acme.example", &Permissions::All);
}

#[test]
fn invite_refused_for_an_out_of_range_ttl() {
    let f = Fixture::new();
    for ttl in [0, -5, 367 * DAY] {
        f.refused(ErrorCode::InvalidArgument, |e| {
            e.invite(
                OWNER,
                ACCOUNT,
                "x@acme.example",
                &Permissions::All,
                Some(ttl),
            )
        });
    }
    let ok = f
        .engine
        .invite(OWNER, ACCOUNT, "x@acme.example", &Permissions::All, Some(1))
        .unwrap();
    assert_eq!(ok.invite.expires_at, T0 + 1);
}

// ---------- pending ----------

#[test]
fn pending_lists_open_invites_newest_first_and_overdue_as_expired() {
    let f = Fixture::new();
    let old = f
        .engine
        .invite(
            OWNER,
            ACCOUNT,
            "old@acme.example",
            &Permissions::All,
            Some(DAY),
        )
        .unwrap();
    f.clock.advance(60);
    let new = f.invite("new@acme.example", &keys(&["domains"]));
    f.clock.advance(60);
    let cancelled = f.invite("gone@acme.example", &Permissions::All);
    f.engine.cancel(OWNER, cancelled.invite.id).unwrap();
    let accepted = f.invite("joined@acme.example", &Permissions::All);
    f.engine
        .accept_register(&accepted.token, "joined@acme.example", "J")
        .unwrap();
    let declined = f.invite("no@acme.example", &Permissions::All);
    f.engine.decline(&declined.token).unwrap();

    let p = f.engine.pending(ACCOUNT).unwrap();
    assert_eq!(
        p.iter().map(|i| i.email.as_str()).collect::<Vec<_>>(),
        ["new@acme.example", "old@acme.example"]
    );
    assert_eq!(p[0].permissions, keys(&["domains"]));
    assert_eq!(p[0].invited_by.as_str(), OWNER);
    assert_eq!(p[0].last_sent_at, T0 + 60);
    assert_eq!(p[0].times_sent, 1);
    assert_eq!(p[1].expires_at, T0 + DAY);
    assert!(p.iter().all(|i| i.status == InviteStatus::Pending));

    // Overdue: still listed, as expired, before and after expire_due.
    f.clock.set(T0 + DAY);
    let p = f.engine.pending(ACCOUNT).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].id, old.invite.id);
    assert_eq!(p[1].status, InviteStatus::Expired);
    assert_eq!(p[0].status, InviteStatus::Pending);
    assert_eq!(
        f.engine.invite_by_id(old.invite.id).unwrap().status,
        InviteStatus::Expired
    );
    assert_eq!(f.engine.expire_due().unwrap(), 1);
    let after = f.engine.pending(ACCOUNT).unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[1].status, InviteStatus::Expired);
    assert_eq!(new.invite.id, after[0].id);

    f.refused(ErrorCode::NotFound, |e| e.pending("9999"));
}

// ---------- resend and cancel ----------

#[test]
fn resend_gives_a_new_link_and_kills_the_old_one() {
    let f = Fixture::new();
    let first = f.invite("dev@acme.example", &keys(&["tickets"]));
    f.clock.advance(DAY);
    let second = f.engine.resend(OWNER, first.invite.id, None).unwrap();
    assert_eq!(second.invite.id, first.invite.id);
    assert_ne!(second.token, first.token);
    assert_ne!(second.link, first.link);
    assert!(second.email.body.contains(&second.link));
    assert_eq!(second.invite.times_sent, 2);
    assert_eq!(second.invite.last_sent_at, T0 + DAY);
    assert_eq!(second.invite.created_at, T0);
    assert_eq!(second.invite.expires_at, T0 + 8 * DAY);
    assert_eq!(second.invite.permissions, keys(&["tickets"]));
    assert_eq!(
        f.engine.invite_by_id(first.invite.id).unwrap(),
        second.invite
    );
    let a = last_audit(&f);
    assert_eq!(a.action, "invite.resend");
    assert_eq!(a.actor, OWNER);
    assert_eq!(
        a.old_value.as_deref(),
        Some("pending expires 2026-12-06T10:00:00Z")
    );
    assert_eq!(
        a.new_value.as_deref(),
        Some("pending expires 2026-12-07T10:00:00Z")
    );

    let e = f.refused(ErrorCode::TokenSuperseded, |e| {
        e.accept(&first.token, "dev@acme.example")
    });
    assert_eq!(token_reason(&e), TokenReason::Superseded);
    let i = f.engine.inspect(&first.link).unwrap();
    assert!(!i.valid);
    assert_eq!(i.reason, Some(TokenReason::Superseded.as_str()));

    f.engine
        .upsert_user("dev@acme.example", None, None)
        .unwrap();
    let m = f.engine.accept(&second.link, "dev@acme.example").unwrap();
    assert_eq!(m.permissions, keys(&["tickets"]));
}

#[test]
fn resend_revives_an_expired_invite() {
    let f = Fixture::new();
    let sent = f
        .engine
        .invite(
            OWNER,
            ACCOUNT,
            "dev@acme.example",
            &Permissions::All,
            Some(DAY),
        )
        .unwrap();
    f.clock.advance(2 * DAY);
    assert_eq!(f.engine.expire_due().unwrap(), 1);
    assert!(rows(&f.dump(), "invites")[0].contains(" \"expired\" "));
    f.refused(ErrorCode::TokenExpired, |e| {
        e.accept_register(&sent.token, "dev@acme.example", "Dev")
    });

    let again = f
        .engine
        .resend(OWNER, sent.invite.id, Some(3 * DAY))
        .unwrap();
    assert_eq!(again.invite.status, InviteStatus::Pending);
    assert_eq!(again.invite.expires_at, T0 + 5 * DAY);
    assert_eq!(again.invite.times_sent, 2);
    let a = last_audit(&f);
    assert_eq!(
        a.old_value.as_deref(),
        Some("expired expires 2026-11-30T10:00:00Z")
    );
    assert_eq!(
        f.engine.pending(ACCOUNT).unwrap()[0].status,
        InviteStatus::Pending
    );

    let m = f
        .engine
        .accept_register(&again.token, "dev@acme.example", "Dev")
        .unwrap();
    assert_eq!(m.role, Role::Member);
    assert_eq!(
        f.engine.invite_by_id(sent.invite.id).unwrap().status,
        InviteStatus::Accepted
    );
}

#[test]
fn resend_refusals_write_nothing() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    let sent = f.invite("x@acme.example", &Permissions::All);
    f.refused(ErrorCode::NotOwner, |e| {
        e.resend("dev@acme.example", sent.invite.id, None)
    });
    f.refused(ErrorCode::NotFound, |e| e.resend(OWNER, 9_999, None));
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.resend(OWNER, sent.invite.id, Some(0))
    });
    f.engine.cancel(OWNER, sent.invite.id).unwrap();
    let e = f.refused(ErrorCode::InviteNotOpen, |e| {
        e.resend(OWNER, sent.invite.id, None)
    });
    assert!(e.to_string().contains("cancelled"), "{e}");

    // The member's own invite was accepted: it cannot be sent again.
    let accepted = f.engine.invite_by_id(1).unwrap();
    assert_eq!(accepted.status, InviteStatus::Accepted);
    f.refused(ErrorCode::InviteNotOpen, |e| e.resend(OWNER, 1, None));
}

#[test]
fn cancel_closes_the_invite_and_kills_its_link() {
    let f = Fixture::new();
    let sent = f.invite("dev@acme.example", &Permissions::All);
    f.clock.advance(10);
    let c = f.engine.cancel(OWNER, sent.invite.id).unwrap();
    assert_eq!(c.status, InviteStatus::Cancelled);
    assert_eq!(
        f.engine.invite_by_id(sent.invite.id).unwrap().status,
        InviteStatus::Cancelled
    );
    assert!(f.engine.pending(ACCOUNT).unwrap().is_empty());
    let a = last_audit(&f);
    assert_eq!(a.action, "invite.cancel");
    assert_eq!(a.actor, OWNER);
    assert_eq!(a.target.as_deref(), Some("dev@acme.example"));
    assert_eq!(a.old_value.as_deref(), Some("pending"));
    assert_eq!(a.new_value.as_deref(), Some("cancelled"));
    assert_eq!(a.at, T0 + 10);

    f.engine
        .upsert_user("dev@acme.example", None, None)
        .unwrap();
    let e = f.refused(ErrorCode::TokenCancelled, |e| {
        e.accept(&sent.link, "dev@acme.example")
    });
    assert!(e
        .to_string()
        .contains(&format!("invite {}", sent.invite.id)));
    f.refused(ErrorCode::TokenCancelled, |e| e.decline(&sent.token));
    f.refused(ErrorCode::InviteNotOpen, |e| {
        e.cancel(OWNER, sent.invite.id)
    });
}

#[test]
fn cancel_refusals_write_nothing() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    let sent = f.invite("x@acme.example", &Permissions::All);
    f.refused(ErrorCode::NotOwner, |e| {
        e.cancel("dev@acme.example", sent.invite.id)
    });
    f.refused(ErrorCode::NotFound, |e| e.cancel(OWNER, 9_999));
    // An expired invite can still be withdrawn.
    f.clock.advance(8 * DAY);
    assert_eq!(
        f.engine.cancel(OWNER, sent.invite.id).unwrap().status,
        InviteStatus::Cancelled
    );
}

// ---------- inspect ----------

#[test]
fn inspect_describes_a_valid_invite_without_consuming_it() {
    let f = Fixture::new();
    let sent = f.invite("dev@acme.example", &keys(&["invoices"]));
    let before = f.dump();
    let i = f.engine.inspect(&sent.link).unwrap();
    assert_eq!(f.dump(), before, "inspect wrote something");
    assert!(i.valid);
    assert_eq!(i.reason, None);
    assert_eq!(i.message, None);
    assert_eq!(i.invite_id, Some(sent.invite.id));
    assert_eq!(i.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(i.account_name.as_deref(), Some(ACCOUNT_NAME));
    assert_eq!(i.invited_by.as_ref().map(|e| e.as_str()), Some(OWNER));
    assert_eq!(
        i.email.as_ref().map(|e| e.as_str()),
        Some("dev@acme.example")
    );
    assert_eq!(i.permissions, Some(keys(&["invoices"])));
    assert_eq!(i.expires_at, Some(T0 + 7 * DAY));
    assert_eq!(i.has_login, Some(false), "no login yet: show Register");

    f.engine
        .upsert_user("dev@acme.example", None, None)
        .unwrap();
    let i = f.engine.inspect(&sent.token).unwrap();
    assert_eq!(i.has_login, Some(true), "a login exists: show Login");
    // Inspecting twice still leaves the invite usable.
    f.engine.inspect(&sent.token).unwrap();
    f.engine.accept(&sent.token, "dev@acme.example").unwrap();
}

#[test]
fn inspect_gives_the_reason_for_each_unusable_state() {
    let f = Fixture::new();
    f.engine.upsert_user("u@acme.example", None, None).unwrap();
    let check = |token: &str, reason: TokenReason, with_details: bool| {
        let before = f.dump();
        let i = f.engine.inspect(token).unwrap();
        assert_eq!(f.dump(), before);
        assert!(!i.valid, "{token}");
        assert_eq!(i.reason, Some(reason.as_str()), "{token}");
        let msg = i.message.clone().unwrap_or_default();
        assert!(msg.contains(reason.as_str()), "{msg}");
        assert_eq!(i.invite_id.is_some(), with_details, "{i:?}");
        assert_eq!(i.email.is_some(), with_details, "{i:?}");
    };

    // Structural defects: no details, since nothing can be trusted.
    let good = f.invite("a@acme.example", &Permissions::All).token;
    check("", TokenReason::Empty, false);
    check("garbage", TokenReason::Malformed, false);
    check(
        &good.replacen("cohort1", "cohort2", 1),
        TokenReason::WrongVersion,
        false,
    );
    check(&format!("{good}="), TokenReason::NonCanonical, false);
    check(
        &good.replacen(".k1.", ".k9.", 1),
        TokenReason::UnknownKey,
        false,
    );
    let mut tampered = good.clone().into_bytes();
    let i = "cohort1.k1.".len() + 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    check(
        &String::from_utf8(tampered).unwrap(),
        TokenReason::BadSignature,
        false,
    );

    // States of a genuine invite: details shown, with the reason.
    let cancelled = f.invite("c@acme.example", &Permissions::All);
    f.engine.cancel(OWNER, cancelled.invite.id).unwrap();
    check(&cancelled.token, TokenReason::Cancelled, true);

    let used = f.invite("u@acme.example", &Permissions::All);
    f.engine.accept(&used.token, "u@acme.example").unwrap();
    check(&used.token, TokenReason::AlreadyUsed, true);

    let declined = f.invite("d@acme.example", &Permissions::All);
    f.engine.decline(&declined.token).unwrap();
    check(&declined.token, TokenReason::Declined, true);

    let resent = f.invite("r@acme.example", &Permissions::All);
    f.engine.resend(OWNER, resent.invite.id, None).unwrap();
    check(&resent.token, TokenReason::Superseded, true);

    let short = f
        .engine
        .invite(
            OWNER,
            ACCOUNT,
            "s@acme.example",
            &Permissions::All,
            Some(60),
        )
        .unwrap();
    f.clock.advance(60);
    check(&short.token, TokenReason::Expired, true);

    // A forged token naming the right invite but another account shows nothing of the invite.
    let mut claims = f.engine.keyring().verify_signature(&good).unwrap();
    claims.account_id = "2001".into();
    let forged = f.engine.keyring().sign_with("k1", &claims).unwrap();
    check(&forged, TokenReason::WrongAccount, false);

    // A genuine signature for an invite that does not exist.
    claims.account_id = ACCOUNT.into();
    claims.invite_id = 9_999;
    let unknown = f.engine.keyring().sign_with("k1", &claims).unwrap();
    check(&unknown, TokenReason::UnknownInvite, false);
}

// ---------- accept ----------

#[test]
fn accept_makes_a_member_once() {
    let f = Fixture::new();
    let dev = f
        .engine
        .upsert_user("dev@acme.example", Some("Dev"), Some(true))
        .unwrap();
    f.engine.record_login("dev@acme.example").unwrap();
    let sent = f.invite("dev@acme.example", &keys(&["invoices", "tickets"]));
    f.clock.advance(3_600);
    let m = f.engine.accept(&sent.link, "Dev@Acme.Example").unwrap();
    assert_eq!(m.account_id, ACCOUNT);
    assert_eq!(m.email, dev.email);
    assert_eq!(m.name, "Dev");
    assert_eq!(m.role, Role::Member);
    assert_eq!(m.permissions, keys(&["invoices", "tickets"]));
    assert!(m.two_factor);
    assert_eq!(m.last_login, Some(T0));
    assert_eq!(m.joined_at, T0 + 3_600);
    assert_eq!(m.invited_by.as_ref().map(|e| e.as_str()), Some(OWNER));

    let members = f.engine.members(ACCOUNT).unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1], m);
    let inv = f.engine.invite_by_id(sent.invite.id).unwrap();
    assert_eq!(inv.status, InviteStatus::Accepted);
    assert_eq!(inv.accepted_by, Some(dev.email.clone()));
    assert!(f.engine.pending(ACCOUNT).unwrap().is_empty());
    let roles = f.engine.accounts_of("dev@acme.example").unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].account_id, ACCOUNT);
    assert_eq!(roles[0].account_name, ACCOUNT_NAME);
    assert_eq!(roles[0].role, Role::Member);
    let a = last_audit(&f);
    assert_eq!(a.action, "invite.accept");
    assert_eq!(a.actor, "dev@acme.example");
    assert_eq!(a.new_value.as_deref(), Some("invoices,tickets"));

    // Single use.
    let e = f.refused(ErrorCode::TokenAlreadyUsed, |e| {
        e.accept(&sent.token, "dev@acme.example")
    });
    assert_eq!(token_reason(&e), TokenReason::AlreadyUsed);
    f.refused(ErrorCode::TokenAlreadyUsed, |e| {
        e.accept_register(&sent.token, "dev@acme.example", "Dev")
    });
    f.refused(ErrorCode::TokenAlreadyUsed, |e| e.decline(&sent.token));
}

#[test]
fn accept_refusals_leave_the_invite_pending() {
    let f = Fixture::new();
    let sent = f.invite("dev@acme.example", &Permissions::All);
    // No login for that email yet.
    f.refused(ErrorCode::NotFound, |e| {
        e.accept(&sent.token, "dev@acme.example")
    });
    f.refused(ErrorCode::InvalidEmail, |e| e.accept(&sent.token, "dev"));

    // Another login: the email must match, and the error says so.
    f.engine
        .upsert_user("eve@acme.example", None, None)
        .unwrap();
    let e = f.refused(ErrorCode::EmailMismatch, |e| {
        e.accept(&sent.token, "eve@acme.example")
    });
    let msg = e.to_string();
    assert!(
        msg.contains("dev@acme.example") && msg.contains("eve@acme.example"),
        "{msg}"
    );
    f.refused(ErrorCode::EmailMismatch, |e| {
        e.accept_register(&sent.token, "new@acme.example", "New")
    });
    assert_eq!(
        f.engine.invite_by_id(sent.invite.id).unwrap().status,
        InviteStatus::Pending
    );
    assert!(f.engine.inspect(&sent.token).unwrap().valid);

    // The invited login still can.
    f.engine
        .upsert_user("dev@acme.example", None, None)
        .unwrap();
    f.engine.accept(&sent.token, "dev@acme.example").unwrap();
}

#[test]
fn accept_by_any_login_when_bind_email_is_off() {
    let f = Fixture::with(|c| c.bind_email = false);
    let sent = f.invite("dev@acme.example", &keys(&["tickets"]));
    f.engine
        .upsert_user("eve@acme.example", None, None)
        .unwrap();
    let m = f.engine.accept(&sent.token, "eve@acme.example").unwrap();
    assert_eq!(m.email.as_str(), "eve@acme.example");
    assert_eq!(m.permissions, keys(&["tickets"]));
    let inv = f.engine.invite_by_id(sent.invite.id).unwrap();
    assert_eq!(inv.status, InviteStatus::Accepted);
    assert_eq!(
        inv.accepted_by.as_ref().map(|e| e.as_str()),
        Some("eve@acme.example")
    );
    assert_eq!(inv.email.as_str(), "dev@acme.example");
    assert!(f
        .engine
        .check(ACCOUNT, "eve@acme.example", "tickets")
        .unwrap());
    assert!(!f
        .engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());

    // A login that is already a member cannot take a second invite's place.
    let other = f.invite("zed@acme.example", &Permissions::All);
    f.refused(ErrorCode::AlreadyMember, |e| {
        e.accept(&other.token, "eve@acme.example")
    });
    // Registering under another email is allowed too.
    let m = f
        .engine
        .accept_register(&other.token, "newbie@acme.example", "Newbie")
        .unwrap();
    assert_eq!(m.email.as_str(), "newbie@acme.example");
}

#[test]
fn accept_by_registering_creates_the_login() {
    let f = Fixture::new();
    let sent = f.invite("new@acme.example", &keys(&["domains"]));
    f.clock.advance(5);
    let m = f
        .engine
        .accept_register(&sent.token, "New@acme.example", "  New Person ")
        .unwrap();
    assert_eq!(m.email.as_str(), "new@acme.example");
    assert_eq!(m.name, "New Person");
    assert_eq!(m.permissions, keys(&["domains"]));
    let u = f.engine.user("new@acme.example").unwrap();
    assert_eq!(u.name, "New Person");
    assert!(!u.two_factor);
    assert_eq!(u.created_at, T0 + 5);
    assert_eq!(u.last_login, None);
    assert_eq!(f.engine.members(ACCOUNT).unwrap()[1], m);
    assert_eq!(
        f.engine.invite_by_id(sent.invite.id).unwrap().status,
        InviteStatus::Accepted
    );
}

#[test]
fn accept_by_registering_refused_when_the_login_exists() {
    let f = Fixture::new();
    let sent = f.invite("dev@acme.example", &Permissions::All);
    f.engine
        .upsert_user("DEV@acme.example", None, None)
        .unwrap();
    let e = f.refused(ErrorCode::UserExists, |e| {
        e.accept_register(&sent.token, "dev@acme.example", "Dev")
    });
    assert!(e.to_string().contains("log in"), "{e}");
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.accept_register(&sent.token, "dev@acme.example", "bad\0name")
    });
    assert_eq!(
        f.engine.invite_by_id(sent.invite.id).unwrap().status,
        InviteStatus::Pending
    );
}

#[test]
fn decline_closes_the_invite() {
    let f = Fixture::new();
    let sent = f.invite("dev@acme.example", &Permissions::All);
    f.clock.advance(7);
    let d = f.engine.decline(&sent.link).unwrap();
    assert_eq!(d.status, InviteStatus::Declined);
    assert_eq!(d.id, sent.invite.id);
    assert_eq!(
        f.engine.invite_by_id(sent.invite.id).unwrap().status,
        InviteStatus::Declined
    );
    assert!(f.engine.pending(ACCOUNT).unwrap().is_empty());
    assert_eq!(f.engine.members(ACCOUNT).unwrap().len(), 1);
    let a = last_audit(&f);
    assert_eq!(a.action, "invite.decline");
    assert_eq!(a.actor, "dev@acme.example");
    assert_eq!(a.new_value.as_deref(), Some("declined"));
    assert_eq!(a.at, T0 + 7);

    f.refused(ErrorCode::TokenDeclined, |e| e.decline(&sent.token));
    f.refused(ErrorCode::TokenDeclined, |e| {
        e.accept_register(&sent.token, "dev@acme.example", "")
    });
    f.refused(ErrorCode::InviteNotOpen, |e| {
        e.cancel(OWNER, sent.invite.id)
    });
    // The owner may invite again.
    f.invite("dev@acme.example", &Permissions::All);
}

// ---------- members and accounts ----------

#[test]
fn members_lists_owner_first_with_role_and_last_login() {
    let f = Fixture::new();
    f.clock.advance(10);
    f.member("zz@acme.example", &keys(&["tickets"]));
    f.clock.advance(10);
    f.member("aa@acme.example", &Permissions::All);
    f.engine
        .upsert_user("aa@acme.example", Some("Ann"), Some(true))
        .unwrap();
    f.clock.advance(10);
    f.engine.record_login("aa@acme.example").unwrap();

    let m = f.engine.members(ACCOUNT).unwrap();
    let emails: Vec<_> = m.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(emails, [OWNER, "zz@acme.example", "aa@acme.example"]);
    assert_eq!(m[0].role, Role::Owner);
    assert_eq!(m[1].role, Role::Member);
    assert_eq!(m[1].permissions, keys(&["tickets"]));
    assert_eq!(m[1].joined_at, T0 + 10);
    assert_eq!(m[1].last_login, None);
    assert_eq!(m[2].name, "Ann");
    assert!(m[2].two_factor);
    assert_eq!(m[2].last_login, Some(T0 + 30));
    assert_eq!(m[2].invited_by.as_ref().map(|e| e.as_str()), Some(OWNER));
    f.refused(ErrorCode::NotFound, |e| e.members("9999"));

    // After a transfer the new owner comes first.
    f.engine
        .transfer_ownership(OWNER, ACCOUNT, "aa@acme.example")
        .unwrap();
    let m = f.engine.members(ACCOUNT).unwrap();
    assert_eq!(m[0].email.as_str(), "aa@acme.example");
    assert_eq!(m[0].role, Role::Owner);
}

#[test]
fn accounts_of_lists_every_account_with_role() {
    let f = Fixture::new();
    f.engine
        .upsert_account("2001", "Beta Hosting", "beta@beta.example")
        .unwrap();
    let sent = f
        .engine
        .invite("beta@beta.example", "2001", OWNER, &keys(&["emails"]), None)
        .unwrap();
    f.engine.accept(&sent.token, OWNER).unwrap();
    let a = f.engine.accounts_of(OWNER).unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].account_id, ACCOUNT);
    assert_eq!(a[0].role, Role::Owner);
    assert_eq!(a[0].permissions, Permissions::All);
    assert_eq!(a[1].account_id, "2001");
    assert_eq!(a[1].account_name, "Beta Hosting");
    assert_eq!(a[1].role, Role::Member);
    assert_eq!(a[1].permissions, keys(&["emails"]));
    f.engine
        .upsert_user("lonely@acme.example", None, None)
        .unwrap();
    assert!(f
        .engine
        .accounts_of("lonely@acme.example")
        .unwrap()
        .is_empty());
    f.refused(ErrorCode::NotFound, |e| e.accounts_of("ghost@acme.example"));
}

// ---------- set permissions, revoke, transfer ----------

#[test]
fn set_permissions_replaces_a_members_set() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    f.clock.advance(30);
    let m = f
        .engine
        .set_permissions(
            OWNER,
            ACCOUNT,
            "Dev@acme.example",
            &keys(&["quotes", "orders"]),
        )
        .unwrap();
    assert_eq!(m.permissions, keys(&["orders", "quotes"]));
    assert_eq!(m.role, Role::Member);
    assert_eq!(f.engine.members(ACCOUNT).unwrap()[1], m);
    assert!(f
        .engine
        .check(ACCOUNT, "dev@acme.example", "orders")
        .unwrap());
    assert!(!f
        .engine
        .check(ACCOUNT, "dev@acme.example", "invoices")
        .unwrap());
    let a = last_audit(&f);
    assert_eq!(a.action, "member.permissions");
    assert_eq!(a.actor, OWNER);
    assert_eq!(a.target.as_deref(), Some("dev@acme.example"));
    assert_eq!(a.old_value.as_deref(), Some("invoices,tickets"));
    assert_eq!(a.new_value.as_deref(), Some("orders,quotes"));
    assert_eq!(a.at, T0 + 30);

    // Same set again: nothing written.
    let before = f.dump();
    f.engine
        .set_permissions(
            OWNER,
            ACCOUNT,
            "dev@acme.example",
            &keys(&["orders", "quotes"]),
        )
        .unwrap();
    assert_eq!(f.dump(), before);

    let back = f
        .engine
        .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All)
        .unwrap();
    assert_eq!(back.permissions, Permissions::All);
    assert_eq!(last_audit(&f).old_value.as_deref(), Some("orders,quotes"));
}

#[test]
fn set_permissions_refusals_write_nothing() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["tickets"]));
    let e = f.refused(ErrorCode::OwnerProtected, |e| {
        e.set_permissions(OWNER, ACCOUNT, OWNER, &keys(&["tickets"]))
    });
    assert!(e.to_string().contains(OWNER), "{e}");
    f.refused(ErrorCode::NotOwner, |e| {
        e.set_permissions(
            "dev@acme.example",
            ACCOUNT,
            "dev@acme.example",
            &Permissions::All,
        )
    });
    f.refused(ErrorCode::UnknownPermission, |e| {
        e.set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&["root"]))
    });
    f.refused(ErrorCode::EmptyPermissions, |e| {
        e.set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&[]))
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.set_permissions(OWNER, ACCOUNT, "ghost@acme.example", &Permissions::All)
    });
    f.engine
        .upsert_user("outsider@acme.example", None, None)
        .unwrap();
    f.refused(ErrorCode::NotFound, |e| {
        e.set_permissions(OWNER, ACCOUNT, "outsider@acme.example", &Permissions::All)
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.set_permissions(OWNER, "9999", "dev@acme.example", &Permissions::All)
    });
}

#[test]
fn revoke_removes_access_but_keeps_the_login_and_other_memberships() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["tickets", "invoices"]));
    f.engine
        .upsert_account("2001", "Beta", "beta@beta.example")
        .unwrap();
    let sent = f
        .engine
        .invite(
            "beta@beta.example",
            "2001",
            "dev@acme.example",
            &Permissions::All,
            None,
        )
        .unwrap();
    f.engine.accept(&sent.token, "dev@acme.example").unwrap();
    f.engine.record_login("dev@acme.example").unwrap();
    let login = f.engine.user("dev@acme.example").unwrap();

    f.clock.advance(99);
    f.engine.revoke(OWNER, ACCOUNT, "DEV@acme.example").unwrap();
    assert_eq!(f.engine.members(ACCOUNT).unwrap().len(), 1);
    assert!(!f
        .engine
        .check(ACCOUNT, "dev@acme.example", "tickets")
        .unwrap());
    assert_eq!(f.engine.user("dev@acme.example").unwrap(), login);
    let roles = f.engine.accounts_of("dev@acme.example").unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].account_id, "2001");
    assert!(f
        .engine
        .check("2001", "dev@acme.example", "tickets")
        .unwrap());
    let a = last_audit(&f);
    assert_eq!(a.action, "member.revoke");
    assert_eq!(a.actor, OWNER);
    assert_eq!(a.target.as_deref(), Some("dev@acme.example"));
    assert_eq!(a.old_value.as_deref(), Some("invoices,tickets"));
    assert_eq!(a.new_value, None);
    assert_eq!(a.at, T0 + 99);

    f.refused(ErrorCode::NotFound, |e| {
        e.revoke(OWNER, ACCOUNT, "dev@acme.example")
    });
    // The login can be invited again and accept with it.
    let again = f.invite("dev@acme.example", &Permissions::All);
    f.engine.accept(&again.token, "dev@acme.example").unwrap();
    assert_eq!(f.engine.members(ACCOUNT).unwrap().len(), 2);
}

#[test]
fn revoke_refusals_write_nothing() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    let e = f.refused(ErrorCode::OwnerProtected, |e| {
        e.revoke(OWNER, ACCOUNT, OWNER)
    });
    assert!(e.to_string().contains("owner"), "{e}");
    f.refused(ErrorCode::NotOwner, |e| {
        e.revoke("dev@acme.example", ACCOUNT, "dev@acme.example")
    });
    f.refused(ErrorCode::NotOwner, |e| {
        e.revoke("dev@acme.example", ACCOUNT, OWNER)
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.revoke(OWNER, ACCOUNT, "ghost@acme.example")
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.revoke(OWNER, "9999", "dev@acme.example")
    });
}

#[test]
fn transfer_ownership_swaps_roles() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["tickets"]));
    f.clock.advance(1);
    let acct = f
        .engine
        .transfer_ownership(OWNER, ACCOUNT, "Dev@acme.example")
        .unwrap();
    assert_eq!(acct.owner.as_str(), "dev@acme.example");
    assert_eq!(
        f.engine.account(ACCOUNT).unwrap().owner.as_str(),
        "dev@acme.example"
    );
    let m = f.engine.members(ACCOUNT).unwrap();
    assert_eq!(m[0].email.as_str(), "dev@acme.example");
    assert_eq!(m[0].role, Role::Owner);
    assert_eq!(m[0].permissions, Permissions::All);
    assert_eq!(m[1].email.as_str(), OWNER);
    assert_eq!(m[1].role, Role::Member);
    assert_eq!(m[1].permissions, Permissions::All);
    let a = last_audit(&f);
    assert_eq!(a.action, "account.transfer");
    assert_eq!(a.actor, OWNER);
    assert_eq!(a.old_value.as_deref(), Some(OWNER));
    assert_eq!(a.new_value.as_deref(), Some("dev@acme.example"));

    // The new owner runs the account; the old one no longer can, and is no longer protected.
    f.refused(ErrorCode::NotOwner, |e| {
        e.transfer_ownership(OWNER, ACCOUNT, OWNER)
    });
    f.engine
        .invite(
            "dev@acme.example",
            ACCOUNT,
            "x@acme.example",
            &Permissions::All,
            None,
        )
        .unwrap();
    f.refused(ErrorCode::OwnerProtected, |e| {
        e.revoke("dev@acme.example", ACCOUNT, "dev@acme.example")
    });
    f.engine
        .set_permissions("dev@acme.example", ACCOUNT, OWNER, &keys(&["profile"]))
        .unwrap();
    f.engine.revoke("dev@acme.example", ACCOUNT, OWNER).unwrap();
    assert_eq!(f.engine.members(ACCOUNT).unwrap().len(), 1);
    // The account's owner, as the panel knows it, changed too.
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER)
    });
}

#[test]
fn transfer_ownership_refusals_write_nothing() {
    let f = Fixture::new();
    f.member("dev@acme.example", &keys(&["invoices", "tickets"]));
    f.engine
        .upsert_user("outsider@acme.example", None, None)
        .unwrap();
    f.refused(ErrorCode::NotOwner, |e| {
        e.transfer_ownership("dev@acme.example", ACCOUNT, "dev@acme.example")
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.transfer_ownership(OWNER, ACCOUNT, "outsider@acme.example")
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.transfer_ownership(OWNER, ACCOUNT, "ghost@acme.example")
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.transfer_ownership(OWNER, ACCOUNT, OWNER)
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.transfer_ownership(OWNER, "9999", "dev@acme.example")
    });
}

// ---------- check ----------

#[test]
fn check_owner_and_all_hold_every_key() {
    let f = Fixture::with(|c| c.permissions = vec![("reports".into(), "View Reports".into())]);
    f.member("all@acme.example", &Permissions::All);
    f.member("some@acme.example", &keys(&["invoices", "reports"]));
    let every: Vec<String> = f.engine.catalogue().keys();
    assert_eq!(
        every.len(),
        15,
        "13 WHMCS keys, users, and one configured key"
    );
    for key in &every {
        assert!(f.engine.check(ACCOUNT, OWNER, key).unwrap(), "owner {key}");
        assert!(
            f.engine.check(ACCOUNT, "ALL@acme.example", key).unwrap(),
            "all {key}"
        );
        let expected = key == "invoices" || key == "reports";
        assert_eq!(
            f.engine.check(ACCOUNT, "some@acme.example", key).unwrap(),
            expected,
            "some {key}"
        );
    }
    // Nobody else holds anything here.
    assert!(!f
        .engine
        .check(ACCOUNT, "ghost@acme.example", "invoices")
        .unwrap());
    assert!(!f.engine.check(ACCOUNT, "not an email", "invoices").unwrap());
    assert!(!f.engine.check("9999", OWNER, "invoices").unwrap());
    f.engine
        .upsert_account("2001", "Beta", "beta@beta.example")
        .unwrap();
    assert!(!f.engine.check("2001", OWNER, "invoices").unwrap());
}

#[test]
fn check_refuses_an_unknown_key() {
    let f = Fixture::new();
    for key in ["billing", "", "Invoices", " invoices"] {
        let e = f.refused(ErrorCode::UnknownPermission, |e| {
            e.check(ACCOUNT, OWNER, key)
        });
        assert!(e.to_string().contains("profile, contacts"), "{e}");
    }
}

// ---------- expiry ----------

#[test]
fn expire_due_marks_overdue_invites() {
    let f = Fixture::new();
    let short = f
        .engine
        .invite(
            OWNER,
            ACCOUNT,
            "short@acme.example",
            &Permissions::All,
            Some(DAY),
        )
        .unwrap();
    let long = f.invite("long@acme.example", &Permissions::All);
    assert_eq!(f.engine.expire_due().unwrap(), 0);

    // One second before expiry the link works; at the expiry instant it does not.
    f.clock.set(T0 + DAY - 1);
    assert!(f.engine.inspect(&short.token).unwrap().valid);
    f.clock.set(T0 + DAY);
    let e = f.refused(ErrorCode::TokenExpired, |e| {
        e.accept_register(&short.token, "short@acme.example", "")
    });
    assert!(e.to_string().contains("2026-11-30T10:00:00Z"), "{e}");
    f.refused(ErrorCode::TokenExpired, |e| e.decline(&short.token));

    assert_eq!(f.engine.expire_due().unwrap(), 1);
    assert_eq!(
        f.engine.invite_by_id(short.invite.id).unwrap().status,
        InviteStatus::Expired
    );
    assert_eq!(
        f.engine.invite_by_id(long.invite.id).unwrap().status,
        InviteStatus::Pending
    );
    let a = last_audit(&f);
    assert_eq!(a.action, "invite.expire");
    assert_eq!(a.actor, SYSTEM_ACTOR);
    assert_eq!(a.target.as_deref(), Some("short@acme.example"));
    assert_eq!(a.new_value.as_deref(), Some("expired"));
    assert_eq!(a.at, T0 + DAY);

    // Nothing more is due: a second run writes nothing.
    let before = f.dump();
    assert_eq!(f.engine.expire_due().unwrap(), 0);
    assert_eq!(f.dump(), before);
    f.refused(ErrorCode::TokenExpired, |e| {
        e.accept_register(&short.token, "short@acme.example", "")
    });
    let i = f.engine.inspect(&short.token).unwrap();
    assert_eq!(i.reason, Some("expired"));
    assert_eq!(i.has_login, Some(false));

    f.clock.set(T0 + 7 * DAY);
    assert_eq!(f.engine.expire_due().unwrap(), 1);
}

// ---------- audit ----------

#[test]
fn audit_filters_by_time_and_keeps_the_latest() {
    let f = Fixture::new();
    f.clock.advance(100);
    let sent = f.invite("dev@acme.example", &Permissions::All);
    f.clock.advance(100);
    f.engine
        .accept_register(&sent.token, "dev@acme.example", "Dev")
        .unwrap();
    f.clock.advance(100);
    f.engine
        .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&["emails"]))
        .unwrap();

    let all = f.engine.audit(ACCOUNT, 0, 100).unwrap();
    let actions: Vec<_> = all.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "account.create",
            "invite.create",
            "invite.accept",
            "member.permissions"
        ]
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert!(all.iter().all(|a| a.account_id.as_deref() == Some(ACCOUNT)));

    let since = f.engine.audit(ACCOUNT, T0 + 200, 100).unwrap();
    assert_eq!(since.len(), 2);
    assert_eq!(since[0].action, "invite.accept");
    let latest = f.engine.audit(ACCOUNT, 0, 2).unwrap();
    assert_eq!(latest, all[2..]);
    assert!(f.engine.audit(ACCOUNT, T0 + 301, 100).unwrap().is_empty());

    // Another account's trail is separate.
    f.engine
        .upsert_account("2001", "Beta", "beta@beta.example")
        .unwrap();
    assert_eq!(f.engine.audit("2001", 0, 100).unwrap().len(), 1);
    assert_eq!(f.engine.audit(ACCOUNT, 0, 100).unwrap(), all);
    f.refused(ErrorCode::NotFound, |e| e.audit("9999", 0, 10));
}
