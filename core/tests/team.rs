//! Delegated user management, invite rate limits, leaving, contacts and notification routing,
//! non-revealing accept errors, and audit views. Every refusal is proved to write nothing.

mod common;

use cohort_core::store::AuditQuery;
use cohort_core::{ContactInput, ErrorCode, NotifyKind, Permissions};
use common::*;

const DELEGATE: &str = "lead@acme.example";
const PEER: &str = "peer@acme.example";
const JUNIOR: &str = "junior@acme.example";

/// An account with a delegate (users + invoices + tickets), a peer with All, a junior (tickets).
fn team() -> Fixture {
    let f = Fixture::new();
    f.member(DELEGATE, &keys(&["users", "invoices", "tickets"]));
    f.member(PEER, &Permissions::All);
    f.member(JUNIOR, &keys(&["tickets"]));
    f
}

fn perms_of(f: &Fixture, email: &str) -> Permissions {
    f.engine
        .members(ACCOUNT)
        .unwrap()
        .into_iter()
        .find(|m| m.email.as_str() == email)
        .unwrap()
        .permissions
}

// ---------- delegated user management ----------

#[test]
fn delegate_invites_within_their_own_keys() {
    let f = team();
    let sent = f
        .engine
        .invite(
            DELEGATE,
            ACCOUNT,
            "new@acme.example",
            &keys(&["invoices"]),
            None,
        )
        .unwrap();
    assert_eq!(sent.invite.invited_by.as_str(), DELEGATE);
    let m = f
        .engine
        .accept_register(&sent.token, "new@acme.example", "New")
        .unwrap();
    assert_eq!(m.invited_by.as_ref().map(|e| e.as_str()), Some(DELEGATE));
    assert_eq!(m.permissions, keys(&["invoices"]));
}

#[test]
fn delegate_cannot_grant_what_they_do_not_hold() {
    let f = team();
    let e = f.refused(ErrorCode::Forbidden, |e| {
        e.invite(
            DELEGATE,
            ACCOUNT,
            "x@acme.example",
            &keys(&["orders"]),
            None,
        )
    });
    assert!(e.to_string().contains("orders"), "{e}");
    f.refused(ErrorCode::Forbidden, |e| {
        e.invite(DELEGATE, ACCOUNT, "x@acme.example", &Permissions::All, None)
    });
    f.refused(ErrorCode::Forbidden, |e| {
        e.set_permissions(DELEGATE, ACCOUNT, JUNIOR, &keys(&["tickets", "orders"]))
    });
    f.refused(ErrorCode::Forbidden, |e| {
        e.set_permissions(DELEGATE, ACCOUNT, JUNIOR, &Permissions::All)
    });
}

#[test]
fn only_all_holders_grant_users() {
    let f = team();
    let e = f.refused(ErrorCode::Forbidden, |e| {
        e.invite(DELEGATE, ACCOUNT, "x@acme.example", &keys(&["users"]), None)
    });
    assert!(e.to_string().contains("users"), "{e}");
    f.refused(ErrorCode::Forbidden, |e| {
        e.set_permissions(DELEGATE, ACCOUNT, JUNIOR, &keys(&["tickets", "users"]))
    });
    // A member with All Permissions may grant users; so may the owner.
    f.engine
        .set_permissions(PEER, ACCOUNT, JUNIOR, &keys(&["tickets", "users"]))
        .unwrap();
    assert_eq!(perms_of(&f, JUNIOR), keys(&["tickets", "users"]));
    f.engine
        .invite(OWNER, ACCOUNT, "y@acme.example", &keys(&["users"]), None)
        .unwrap();
}

#[test]
fn delegate_never_touches_the_owner() {
    let f = team();
    f.refused(ErrorCode::OwnerProtected, |e| {
        e.set_permissions(DELEGATE, ACCOUNT, OWNER, &keys(&["tickets"]))
    });
    f.refused(ErrorCode::OwnerProtected, |e| {
        e.revoke(DELEGATE, ACCOUNT, OWNER)
    });
    f.refused(ErrorCode::NotOwner, |e| {
        e.transfer_ownership(DELEGATE, ACCOUNT, DELEGATE)
    });
    f.refused(ErrorCode::NotOwner, |e| {
        e.transfer_ownership(PEER, ACCOUNT, PEER)
    });
}

#[test]
fn delegate_cannot_touch_stronger_members_or_themself() {
    let f = team();
    f.refused(ErrorCode::Forbidden, |e| e.revoke(DELEGATE, ACCOUNT, PEER));
    f.refused(ErrorCode::Forbidden, |e| {
        e.set_permissions(DELEGATE, ACCOUNT, PEER, &keys(&["tickets"]))
    });
    // Raising their own access through themself is refused, even within their keys.
    f.refused(ErrorCode::Forbidden, |e| {
        e.set_permissions(
            DELEGATE,
            ACCOUNT,
            DELEGATE,
            &keys(&["users", "invoices", "tickets"]),
        )
    });
    f.refused(ErrorCode::Forbidden, |e| {
        e.revoke(DELEGATE, ACCOUNT, DELEGATE)
    });
    // A weaker member is fair game.
    f.engine
        .set_permissions(DELEGATE, ACCOUNT, JUNIOR, &keys(&["invoices"]))
        .unwrap();
    assert_eq!(perms_of(&f, JUNIOR), keys(&["invoices"]));
    f.engine.revoke(DELEGATE, ACCOUNT, JUNIOR).unwrap();
    assert!(f
        .engine
        .members(ACCOUNT)
        .unwrap()
        .iter()
        .all(|m| m.email.as_str() != JUNIOR));
    let a = f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap();
    assert_eq!(
        (a[0].action.as_str(), a[0].actor.as_str()),
        ("member.revoke", DELEGATE)
    );
}

#[test]
fn delegate_resends_and_cancels_only_invites_within_their_keys() {
    let f = team();
    let strong = f.invite("strong@acme.example", &Permissions::All);
    let weak = f.invite("weak@acme.example", &keys(&["tickets"]));
    f.refused(ErrorCode::Forbidden, |e| {
        e.resend(DELEGATE, strong.invite.id, None)
    });
    f.refused(ErrorCode::Forbidden, |e| {
        e.cancel(DELEGATE, strong.invite.id)
    });
    f.engine.resend(DELEGATE, weak.invite.id, None).unwrap();
    f.engine.cancel(DELEGATE, weak.invite.id).unwrap();
}

#[test]
fn members_without_users_cannot_manage() {
    let f = team();
    f.refused(ErrorCode::NotOwner, |e| {
        e.invite(JUNIOR, ACCOUNT, "x@acme.example", &keys(&["tickets"]), None)
    });
    f.refused(ErrorCode::NotOwner, |e| e.revoke(JUNIOR, ACCOUNT, DELEGATE));
    f.refused(ErrorCode::NotOwner, |e| {
        e.set_permissions(JUNIOR, ACCOUNT, DELEGATE, &keys(&["tickets"]))
    });
    let inv = f.invite("z@acme.example", &keys(&["tickets"]));
    f.refused(ErrorCode::NotOwner, |e| e.cancel(JUNIOR, inv.invite.id));
    f.refused(ErrorCode::NotOwner, |e| {
        e.invite(
            "outsider@else.example",
            ACCOUNT,
            "x@acme.example",
            &keys(&["tickets"]),
            None,
        )
    });
    // Losing `users` removes the power at once.
    f.engine
        .set_permissions(OWNER, ACCOUNT, DELEGATE, &keys(&["invoices", "tickets"]))
        .unwrap();
    f.refused(ErrorCode::NotOwner, |e| {
        e.invite(
            DELEGATE,
            ACCOUNT,
            "x@acme.example",
            &keys(&["tickets"]),
            None,
        )
    });
}

// ---------- rate limits ----------

#[test]
fn account_rate_limit_says_when_the_next_invite_is_possible() {
    let f = Fixture::with(|c| c.max_invites_per_day = 3);
    let first = f.invite("a@acme.example", &Permissions::All);
    f.clock.advance(100);
    f.invite("b@acme.example", &Permissions::All);
    f.engine.resend(OWNER, first.invite.id, None).unwrap();
    let e = f.refused(ErrorCode::RateLimited, |e| {
        e.invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None)
    });
    let msg = e.to_string();
    assert!(msg.contains("limit is 3"), "{msg}");
    assert!(
        msg.contains("2026-11-30T10:00:00Z"),
        "next possible time named: {msg}"
    );
    f.refused(ErrorCode::RateLimited, |e| {
        e.resend(OWNER, first.invite.id, None)
    });
    f.clock.advance(86_400 - 100 - 1);
    assert_eq!(
        code(
            f.engine
                .invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None)
        ),
        ErrorCode::RateLimited
    );
    f.clock.advance(1);
    f.engine
        .invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None)
        .unwrap();
}

#[test]
fn inviter_rate_limit_spans_accounts() {
    let f = Fixture::with(|c| c.max_invites_per_inviter_per_day = 2);
    f.engine.upsert_account("2077", "Other", OWNER).unwrap();
    f.member(DELEGATE, &keys(&["users", "tickets"]));
    f.engine
        .invite(OWNER, "2077", "b@acme.example", &Permissions::All, None)
        .unwrap();
    let e = f.refused(ErrorCode::RateLimited, |e| {
        e.invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None)
    });
    assert!(e.to_string().contains("inviter"), "{e}");
    // Another inviter on the same account is not affected.
    f.engine
        .invite(
            DELEGATE,
            ACCOUNT,
            "d@acme.example",
            &keys(&["tickets"]),
            None,
        )
        .unwrap();
}

// ---------- leaving ----------

#[test]
fn a_member_leaves_and_keeps_the_login() {
    let f = team();
    f.engine.leave(ACCOUNT, JUNIOR).unwrap();
    assert!(!f.engine.check(ACCOUNT, JUNIOR, "tickets").unwrap());
    assert_eq!(f.engine.user(JUNIOR).unwrap().email.as_str(), JUNIOR);
    assert!(f.engine.accounts_of(JUNIOR).unwrap().is_empty());
    let a = f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap();
    assert_eq!(
        (
            a[0].action.as_str(),
            a[0].actor.as_str(),
            a[0].old_value.as_deref()
        ),
        ("member.leave", JUNIOR, Some("tickets"))
    );
    f.refused(ErrorCode::NotFound, |e| e.leave(ACCOUNT, JUNIOR));
    f.refused(ErrorCode::OwnerProtected, |e| e.leave(ACCOUNT, OWNER));
    f.refused(ErrorCode::NotFound, |e| e.leave("9999", JUNIOR));
}

// ---------- contacts and recipients ----------

fn contact(first: &str, email: &str, notify: &[&str]) -> ContactInput {
    ContactInput {
        first_name: Some(first.into()),
        last_name: Some("Contact".into()),
        email: Some(email.into()),
        phone: Some("+1 (555) 010-0100".into()),
        company: Some("Acme".into()),
        user: None,
        notify: Some(notify.iter().map(|s| s.to_string()).collect()),
    }
}

#[test]
fn contacts_add_edit_delete_with_audit() {
    let f = team();
    let c = f
        .engine
        .contact_add(
            OWNER,
            ACCOUNT,
            &contact("Bill", "Billing@Acme.example", &["invoice", "service"]),
        )
        .unwrap();
    assert_eq!(c.email.as_str(), "billing@acme.example");
    assert_eq!(c.notify, vec![NotifyKind::Invoice, NotifyKind::Product]);
    assert_eq!(f.engine.contacts(ACCOUNT).unwrap(), vec![c.clone()]);
    let a = f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap();
    assert_eq!(a[0].action, "contact.add");

    f.clock.advance(10);
    let edit = ContactInput {
        phone: Some("555 0199".into()),
        user: Some(JUNIOR.into()),
        ..Default::default()
    };
    let c2 = f.engine.contact_update(OWNER, c.id, &edit).unwrap();
    assert_eq!(c2.phone, "555 0199");
    assert_eq!(c2.first_name, "Bill", "fields not given stay");
    assert_eq!(c2.user.as_ref().map(|u| u.as_str()), Some(JUNIOR));
    assert_eq!(c2.updated_at, T0 + 10);
    let a = f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap();
    assert_eq!(a[0].action, "contact.update");
    assert!(a[0]
        .old_value
        .as_deref()
        .unwrap()
        .contains("+1 (555) 010-0100"));

    let gone = f.engine.contact_delete(OWNER, c.id).unwrap();
    assert_eq!(gone.id, c.id);
    assert!(f.engine.contacts(ACCOUNT).unwrap().is_empty());
    assert_eq!(
        f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap()[0].action,
        "contact.delete"
    );
    f.refused(ErrorCode::NotFound, |e| e.contact_delete(OWNER, c.id));
}

#[test]
fn contact_refusals_write_nothing() {
    let f = team();
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.contact_add(
            OWNER,
            ACCOUNT,
            &ContactInput {
                email: Some("a@acme.example".into()),
                ..Default::default()
            },
        )
    });
    f.refused(ErrorCode::InvalidEmail, |e| {
        e.contact_add(OWNER, ACCOUNT, &contact("A", "not-an-email", &[]))
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.contact_add(OWNER, ACCOUNT, &contact("A", "a@acme.example", &["sms"]))
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.contact_add(
            OWNER,
            ACCOUNT,
            &ContactInput {
                phone: Some("call me".into()),
                ..contact("A", "a@acme.example", &[])
            },
        )
    });
    f.refused(ErrorCode::InvalidArgument, |e| {
        e.contact_add(
            OWNER,
            ACCOUNT,
            &ContactInput {
                first_name: Some(" ".into()),
                ..contact("A", "a@acme.example", &[])
            },
        )
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.contact_add(
            OWNER,
            ACCOUNT,
            &ContactInput {
                user: Some("ghost@acme.example".into()),
                ..contact("A", "a@acme.example", &[])
            },
        )
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.contact_add(OWNER, "9999", &contact("A", "a@acme.example", &[]))
    });
    // Managing contacts needs the contacts permission.
    f.refused(ErrorCode::Forbidden, |e| {
        e.contact_add(JUNIOR, ACCOUNT, &contact("A", "a@acme.example", &[]))
    });
    f.refused(ErrorCode::Forbidden, |e| {
        e.contact_add(
            "outsider@else.example",
            ACCOUNT,
            &contact("A", "a@acme.example", &[]),
        )
    });
    f.engine
        .set_permissions(OWNER, ACCOUNT, JUNIOR, &keys(&["contacts"]))
        .unwrap();
    let c = f
        .engine
        .contact_add(JUNIOR, ACCOUNT, &contact("A", "a@acme.example", &[]))
        .unwrap();
    f.refused(ErrorCode::Forbidden, |e| {
        e.contact_update(DELEGATE, c.id, &ContactInput::default())
    });
    f.refused(ErrorCode::NotFound, |e| {
        e.contact_update(OWNER, 999, &ContactInput::default())
    });
}

#[test]
fn recipients_route_each_kind() {
    let f = team();
    // By default only the owner receives every kind.
    for kind in NotifyKind::ALL {
        let r = f.engine.recipients(ACCOUNT, kind).unwrap();
        assert_eq!(r.len(), 1, "{kind:?}");
        assert_eq!((r[0].email.as_str(), r[0].source), (OWNER, "owner"));
    }
    f.engine
        .set_member_notifications(
            JUNIOR,
            ACCOUNT,
            JUNIOR,
            &[NotifyKind::Support, NotifyKind::Invoice],
        )
        .unwrap();
    f.engine
        .contact_add(
            OWNER,
            ACCOUNT,
            &contact("Bill", "billing@acme.example", &["invoice"]),
        )
        .unwrap();
    // A contact sharing the owner's address is not sent twice.
    f.engine
        .contact_add(OWNER, ACCOUNT, &contact("Own", OWNER, &["invoice"]))
        .unwrap();
    let inv: Vec<(String, &str)> = f
        .engine
        .recipients(ACCOUNT, NotifyKind::Invoice)
        .unwrap()
        .into_iter()
        .map(|r| (r.email.to_string(), r.source))
        .collect();
    assert_eq!(
        inv,
        vec![
            (OWNER.into(), "owner"),
            (JUNIOR.into(), "member"),
            ("billing@acme.example".into(), "contact")
        ]
    );
    let dom = f.engine.recipients(ACCOUNT, NotifyKind::Domain).unwrap();
    assert_eq!(dom.len(), 1);
    // The owner may opt out of a kind.
    f.engine
        .set_member_notifications(OWNER, ACCOUNT, OWNER, &[NotifyKind::General])
        .unwrap();
    let inv = f.engine.recipients(ACCOUNT, NotifyKind::Invoice).unwrap();
    assert!(inv.iter().all(|r| r.source != "owner"), "{inv:?}");
    // A leaving member stops receiving.
    f.engine.leave(ACCOUNT, JUNIOR).unwrap();
    let sup = f.engine.recipients(ACCOUNT, NotifyKind::Support).unwrap();
    assert!(sup.is_empty(), "{sup:?}");
    assert_eq!(
        code(f.engine.recipients("9999", NotifyKind::General)),
        ErrorCode::NotFound
    );
}

#[test]
fn notification_settings_need_self_or_a_manager() {
    let f = team();
    f.refused(ErrorCode::NotOwner, |e| {
        e.set_member_notifications(JUNIOR, ACCOUNT, PEER, &[NotifyKind::General])
    });
    f.engine
        .set_member_notifications(DELEGATE, ACCOUNT, JUNIOR, &[NotifyKind::Domain])
        .unwrap();
    let a = f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap();
    assert_eq!(a[0].action, "member.notifications");
    assert_eq!(a[0].old_value.as_deref(), Some("default"));
    assert_eq!(a[0].new_value.as_deref(), Some("domain"));
    assert!(NotifyKind::parse("sms").is_err());
    assert_eq!(NotifyKind::parse("Service").unwrap(), NotifyKind::Product);
}

// ---------- non-revealing errors ----------

#[test]
fn accepting_as_another_email_never_reveals_whether_it_has_a_login() {
    let f = Fixture::new();
    f.engine
        .upsert_user("exists@else.example", None, None)
        .unwrap();
    let sent = f.invite("invited@acme.example", &Permissions::All);
    let a = f.refused(ErrorCode::EmailMismatch, |e| {
        e.accept(&sent.token, "exists@else.example")
    });
    let b = f.refused(ErrorCode::EmailMismatch, |e| {
        e.accept(&sent.token, "ghost@else.example")
    });
    assert_eq!(
        a.to_string().replace("exists@else.example", "X"),
        b.to_string().replace("ghost@else.example", "X"),
        "the two answers differ only by the address given"
    );
    let c = f.refused(ErrorCode::EmailMismatch, |e| {
        e.accept_register(&sent.token, "exists@else.example", "")
    });
    let d = f.refused(ErrorCode::EmailMismatch, |e| {
        e.accept_register(&sent.token, "ghost@else.example", "")
    });
    assert_eq!(
        c.to_string().replace("exists@else.example", "X"),
        d.to_string().replace("ghost@else.example", "X")
    );
    // Inspect only ever speaks of the invited email.
    let i = f.engine.inspect(&sent.link).unwrap();
    assert_eq!(
        i.email.as_ref().map(|e| e.as_str()),
        Some("invited@acme.example")
    );
    assert_eq!(i.has_login, Some(false));
}

// ---------- audit views ----------

#[test]
fn audit_by_user_and_time_range() {
    let f = team();
    let t1 = T0 + 1_000;
    f.clock.set(t1);
    f.engine
        .set_permissions(OWNER, ACCOUNT, JUNIOR, &keys(&["invoices"]))
        .unwrap();
    f.clock.set(t1 + 1_000);
    f.engine.revoke(DELEGATE, ACCOUNT, JUNIOR).unwrap();
    f.engine.upsert_account("2077", "Other", JUNIOR).unwrap();

    let mine = f
        .engine
        .audit_query(&AuditQuery {
            user: Some("Junior@acme.example".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let actions: Vec<&str> = mine.iter().map(|a| a.action.as_str()).collect();
    assert!(
        actions.contains(&"member.permissions")
            && actions.contains(&"member.revoke")
            && actions.contains(&"account.create"),
        "{actions:?}"
    );
    assert!(mine
        .iter()
        .all(|a| a.actor == JUNIOR || a.target.as_deref() == Some(JUNIOR)));

    let window = f
        .engine
        .audit_query(&AuditQuery {
            account: Some(ACCOUNT.into()),
            since: Some(t1),
            until: Some(t1 + 999),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].action, "member.permissions");

    let both = f
        .engine
        .audit_query(&AuditQuery {
            account: Some(ACCOUNT.into()),
            user: Some(DELEGATE.into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(both
        .iter()
        .all(|a| a.account_id.as_deref() == Some(ACCOUNT)));
    assert_eq!(both.last().unwrap().action, "member.revoke");
    assert_eq!(
        code(f.engine.audit_query(&AuditQuery {
            account: Some("9999".into()),
            limit: 1,
            ..Default::default()
        })),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(f.engine.audit_query(&AuditQuery {
            user: Some("bad".into()),
            limit: 1,
            ..Default::default()
        })),
        ErrorCode::InvalidEmail
    );
}

#[test]
fn leaving_runs_the_revoke_hooks_and_a_veto_keeps_the_member() {
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(
        scripts.path().join("keep.lua"),
        r#"cohort.on("before_revoke", function(ev)
    if ev.leaving and ev.actor.email == "junior@acme.example" then
        return false, "juniors stay until their handover"
    end
end)"#,
    )
    .unwrap();
    let f = Fixture::with(|c| {
        let mut h = cohort_core::hooks::HooksConfig::new(scripts.path());
        h.reload_check = std::time::Duration::ZERO;
        c.hooks = Some(h);
    });
    f.member(JUNIOR, &keys(&["tickets"]));
    f.member(PEER, &keys(&["tickets"]));
    let before = f.dump();
    let e = f.engine.leave(ACCOUNT, JUNIOR).unwrap_err();
    assert_eq!(e.code(), ErrorCode::HookDenied);
    assert!(e.to_string().contains("handover"), "{e}");
    assert!(
        f.engine.check(ACCOUNT, JUNIOR, "tickets").unwrap(),
        "still a member"
    );
    let after = f.dump();
    assert_eq!(after.len(), before.len() + 1, "only the denial is recorded");
    let a = f.engine.audit(ACCOUNT, i64::MIN, 1).unwrap();
    assert_eq!(a[0].action, "hook.deny");
    f.engine.leave(ACCOUNT, PEER).unwrap();
    assert!(!f.engine.check(ACCOUNT, PEER, "tickets").unwrap());
}

#[test]
fn an_audit_limit_of_zero_means_the_default() {
    use cohort_core::engine::DEFAULT_AUDIT_LIMIT;
    let f = Fixture::with(|c| {
        c.max_invites_per_day = 1_000;
        c.max_invites_per_inviter_per_day = 1_000;
        c.max_pending_invites = 1_000;
    });
    for i in 0..DEFAULT_AUDIT_LIMIT + 5 {
        f.invite(&format!("u{i}@acme.example"), &keys(&["invoices"]));
    }
    let n = DEFAULT_AUDIT_LIMIT as usize;
    assert_eq!(f.engine.audit(ACCOUNT, i64::MIN, 0).unwrap().len(), n);
    assert_eq!(f.engine.audit(ACCOUNT, i64::MIN, 3).unwrap().len(), 3);
    let q = cohort_core::store::AuditQuery {
        account: Some(ACCOUNT.into()),
        limit: 0,
        ..Default::default()
    };
    let latest = f.engine.audit_query(&q).unwrap();
    assert_eq!(latest.len(), n);
    assert_eq!(
        latest.last().unwrap().target.as_deref(),
        Some(format!("u{}@acme.example", DEFAULT_AUDIT_LIMIT + 4).as_str()),
        "the latest entries, oldest first"
    );
    // Who acts by default: the owner.
    assert_eq!(f.engine.actor_or_owner(ACCOUNT, None).unwrap(), OWNER);
    assert_eq!(
        f.engine
            .actor_or_owner(ACCOUNT, Some("x@acme.example"))
            .unwrap(),
        "x@acme.example"
    );
    assert_eq!(
        f.engine.actor_or_owner("9999", None).unwrap_err().code(),
        ErrorCode::NotFound
    );
}
