//! The plain data of events (`ev`), read from the database before an operation's transaction
//! (for before-events) or after its commit (for after-events). Field names are documented in
//! docs/hooks.md; every event also carries `event` and `time`.

use super::convert::permissions_to_json;
use super::Event;
use crate::error::Result;
use crate::model::{Email, Invite, InviteStatus, Permissions, Role};
use crate::store;
use crate::store::Sql;
use serde_json::{json, Value as Json};

/// Adds `event` and `time` to an event's data.
pub(crate) fn with_header(event: Event, now: i64, mut data: Json) -> Json {
    if let Json::Object(map) = &mut data {
        map.insert("event".into(), Json::from(event.name()));
        map.insert("time".into(), Json::from(now));
    }
    data
}

/// `{ id, name, owner, member_count, pending_invites }`, or null for an unknown account.
pub(crate) fn account(c: &dyn Sql, id: &str, now: i64) -> Result<Json> {
    Ok(match store::account_get(c, id)? {
        None => Json::Null,
        Some((a, _)) => json!({
            "id": a.id,
            "name": a.name,
            "owner": a.owner.as_str(),
            "member_count": store::member_count(c, id)?,
            "pending_invites": store::pending_count(c, id, now)?,
        }),
    })
}

/// `{ email, exists, name, two_factor, last_login, role, permissions }` of a person, with their
/// role and permissions on `account` (null when not a member).
pub(crate) fn person(c: &dyn Sql, account: Option<&str>, email: &Email) -> Result<Json> {
    let user = store::user_by_email(c, email)?;
    let membership = match (&user, account) {
        (Some(u), Some(a)) => store::membership_get(c, a, u.id)?,
        _ => None,
    };
    Ok(json!({
        "email": email.as_str(),
        "exists": user.is_some(),
        "name": user.as_ref().map(|u| u.name.clone()),
        "two_factor": user.as_ref().is_some_and(|u| u.two_factor),
        "last_login": user.as_ref().and_then(|u| u.last_login),
        "role": membership.as_ref().map(|(r, _)| r.as_str()),
        "permissions": membership.as_ref().map(|(_, p)| permissions_to_json(p)),
    }))
}

/// A person who has no login yet (registering through an invite).
pub(crate) fn newcomer(email: &Email, name: &str) -> Json {
    json!({
        "email": email.as_str(),
        "exists": false,
        "name": name,
        "two_factor": false,
        "last_login": null,
        "role": null,
        "permissions": null,
    })
}

/// The actor `system` (scheduled work) or `panel`.
pub(crate) fn machine(name: &str) -> Json {
    json!({
        "email": name,
        "exists": false,
        "name": name,
        "two_factor": false,
        "last_login": null,
        "role": null,
        "permissions": null,
    })
}

pub(crate) fn permissions(p: &Permissions) -> Json {
    permissions_to_json(p)
}

pub(crate) fn role(r: Role) -> Json {
    Json::from(r.as_str())
}

/// `{ id, email, permissions, invited_by, status, created_at, expires_at, times_sent }`.
pub(crate) fn invite(i: &Invite) -> Json {
    json!({
        "id": i.id,
        "email": i.email.as_str(),
        "permissions": permissions_to_json(&i.permissions),
        "invited_by": i.invited_by.as_str(),
        "status": i.status.as_str(),
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "times_sent": i.times_sent,
    })
}

/// The data of an invite event: the invite's own fields at the top level, plus `invite`.
pub(crate) fn about_invite(c: &dyn Sql, i: &Invite, actor: Json, now: i64) -> Result<Json> {
    Ok(json!({
        "account": account(c, &i.account_id, now)?,
        "actor": actor,
        "email": i.email.as_str(),
        "invitee": person(c, Some(&i.account_id), &i.email)?,
        "permissions": permissions_to_json(&i.permissions),
        "invite_id": i.id,
        "invited_by": i.invited_by.as_str(),
        "expires_at": i.expires_at,
        "invite": invite(i),
    }))
}

/// Pending invites whose expiry has passed, oldest first (what `expire_due` will close).
pub(crate) fn due_invites(c: &dyn Sql, now: i64) -> Result<Vec<Invite>> {
    let ids = store::invites_due(c, now)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = store::invite_get(c, id, now)? {
            if row.stored_status == InviteStatus::Pending {
                out.push(row.invite);
            }
        }
    }
    Ok(out)
}
