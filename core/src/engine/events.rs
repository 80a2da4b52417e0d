//! The data of hook events, read from the store: before-events from the snapshot the
//! before-hook reads, after-events once the operation has committed. The JSON shapes are
//! `hooks::events`; this is the one place that gathers what they are made of, so the hooks
//! module never reads the database.

use super::SYSTEM_ACTOR;
use crate::error::Result;
use crate::hooks::events as shape;
use crate::model::*;
use crate::store::{self, Sql};
use serde_json::Value as Json;

/// An account as events show it (null for an unknown account).
pub(super) fn account(tx: &dyn Sql, id: &str, now: i64) -> Result<Json> {
    Ok(match store::account_get(tx, id)? {
        None => Json::Null,
        Some((a, _)) => shape::account(
            Some(&a),
            store::member_count(tx, id)?,
            store::pending_count(tx, id, now)?,
        ),
    })
}

/// A person as events show them, with their role and permissions on `account`, if any.
pub(super) fn person(tx: &dyn Sql, account: Option<&str>, email: &Email) -> Result<Json> {
    let user = store::user_by_email(tx, email)?;
    let membership = match (&user, account) {
        (Some(u), Some(a)) => store::membership_get(tx, a, u.id)?,
        _ => None,
    };
    Ok(shape::person(email, user.as_ref(), membership.as_ref()))
}

/// The data of an event about an invite, done by `actor` (as events show a person).
pub(super) fn about_invite(tx: &dyn Sql, i: &Invite, actor: Json, now: i64) -> Result<Json> {
    Ok(shape::about_invite(
        i,
        account(tx, &i.account_id, now)?,
        actor,
        person(tx, Some(&i.account_id), &i.email)?,
    ))
}

/// The data of an event about an invite, done by the login `actor`: cancel, decline, resend.
pub(super) fn invite_by(tx: &dyn Sql, i: &Invite, actor: &Email, now: i64) -> Result<Json> {
    about_invite(tx, i, person(tx, Some(&i.account_id), actor)?, now)
}

/// The data of `before_login` and `after_login`.
pub(super) fn login_event(tx: &dyn Sql, email: &Email) -> Result<Json> {
    let me = person(tx, None, email)?;
    Ok(serde_json::json!({"account": null, "actor": me, "user": me, "email": email.as_str()}))
}

/// The data of `before_invite` and `after_invite`.
#[allow(clippy::too_many_arguments)]
pub(super) fn invite_event(
    tx: &dyn Sql,
    account_id: &str,
    actor: &Email,
    email: &Email,
    permissions: &Permissions,
    now: i64,
    ttl: i64,
    issued: Option<&Invite>,
) -> Result<Json> {
    let mut ev = serde_json::json!({
        "account": account(tx, account_id, now)?,
        "actor": person(tx, Some(account_id), actor)?,
        "email": email.as_str(),
        "invitee": person(tx, Some(account_id), email)?,
        "permissions": shape::permissions(permissions),
        "expires_at": now + ttl,
        "ttl": ttl,
    });
    if let Some(i) = issued {
        ev["invite_id"] = i.id.into();
        ev["invite"] = shape::invite(i);
    }
    Ok(ev)
}

/// The data of `before_resend`: the invite as it stands, and the expiry the resend gives it.
pub(super) fn resend_event(
    tx: &dyn Sql,
    i: &Invite,
    actor: &Email,
    now: i64,
    ttl: i64,
) -> Result<Json> {
    let mut ev = invite_by(tx, i, actor, now)?;
    ev["previous_status"] = i.status.as_str().into();
    ev["expires_at"] = (now + ttl).into();
    ev["ttl"] = ttl.into();
    Ok(ev)
}

/// The data of `before_accept`: the invite, and the login accepting it (a `newcomer` when
/// registering).
pub(super) fn accept_event(
    tx: &dyn Sql,
    i: &Invite,
    me: Json,
    registering: bool,
    now: i64,
) -> Result<Json> {
    let mut ev = about_invite(tx, i, me.clone(), now)?;
    ev["user"] = me;
    ev["registering"] = registering.into();
    Ok(ev)
}

/// The data of `after_accept`.
pub(super) fn accepted_event(
    tx: &dyn Sql,
    m: &Member,
    invite: Option<&Invite>,
    registering: bool,
    now: i64,
) -> Result<Json> {
    let me = person(tx, Some(&m.account_id), &m.email)?;
    let mut ev = match invite {
        Some(i) => {
            let closed = Invite {
                status: InviteStatus::Accepted,
                accepted_by: Some(m.email.clone()),
                ..i.clone()
            };
            about_invite(tx, &closed, me.clone(), now)?
        }
        None => serde_json::json!({
            "account": account(tx, &m.account_id, now)?,
            "actor": me.clone(),
            "email": m.email.as_str(),
        }),
    };
    ev["user"] = me;
    ev["registering"] = registering.into();
    ev["permissions"] = shape::permissions(&m.permissions);
    ev["role"] = shape::role(m.role);
    Ok(ev)
}

/// The data of events about a member: revoke, permissions, transfer.
pub(super) fn member_event(
    tx: &dyn Sql,
    account_id: &str,
    actor: &Email,
    email: &Email,
    now: i64,
) -> Result<Json> {
    let member = person(tx, Some(account_id), email)?;
    Ok(serde_json::json!({
        "account": account(tx, account_id, now)?,
        "actor": person(tx, Some(account_id), actor)?,
        "email": email.as_str(),
        "permissions": member["permissions"].clone(),
        "role": member["role"].clone(),
        "member": member,
    }))
}

/// The data of `before_permissions` (with `old`, the permissions held now) and of
/// `after_permissions` (without).
pub(super) fn permissions_event(
    tx: &dyn Sql,
    account_id: &str,
    actor: &Email,
    email: &Email,
    old: Option<&Permissions>,
    new: &Permissions,
    now: i64,
) -> Result<Json> {
    let mut ev = member_event(tx, account_id, actor, email, now)?;
    if let Some(old) = old {
        ev["old_permissions"] = shape::permissions(old);
    }
    ev["permissions"] = shape::permissions(new);
    Ok(ev)
}

/// The data of `before_revoke` (a member removed, or `leaving` on their own).
pub(super) fn revoke_event(
    tx: &dyn Sql,
    account_id: &str,
    actor: &Email,
    email: &Email,
    leaving: bool,
    now: i64,
) -> Result<Json> {
    let mut ev = member_event(tx, account_id, actor, email, now)?;
    if leaving {
        ev["leaving"] = true.into();
    }
    Ok(ev)
}

/// The data of `after_revoke`: the permissions the member held (`removed`) instead of their
/// current ones (none).
pub(super) fn revoked_event(
    tx: &dyn Sql,
    account_id: &str,
    actor: &Email,
    email: &Email,
    leaving: bool,
    removed: Option<&Permissions>,
    now: i64,
) -> Result<Json> {
    let mut ev = revoke_event(tx, account_id, actor, email, leaving, now)?;
    ev["permissions"] = removed.map_or(Json::Null, shape::permissions);
    Ok(ev)
}

/// The data of `before_expire` and `after_expire`.
pub(super) fn expire_event(tx: &dyn Sql, inv: &Invite, now: i64) -> Result<Json> {
    about_invite(tx, inv, shape::machine(SYSTEM_ACTOR), now)
}
