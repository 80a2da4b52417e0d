//! The JSON shapes of events (`ev`). The engine reads the database and hands these builders
//! plain values; nothing here runs SQL. Field names are documented in docs/hooks.md; every
//! event also carries `event` and `time`.

use super::convert::permissions_to_json;
use super::Event;
use crate::model::{Account, Email, Invite, Permissions, Role, User};
use serde_json::{json, Value as Json};

/// Adds `event` and `time` to an event's data.
pub(crate) fn with_header(event: Event, now: i64, mut data: Json) -> Json {
    if let Json::Object(map) = &mut data {
        map.insert("event".into(), Json::from(event.name()));
        map.insert("time".into(), Json::from(now));
    }
    data
}

/// `{ id, name, owner, member_count, pending_invites }` of an account; null for an unknown one.
pub(crate) fn account(a: Option<&Account>, member_count: i64, pending_invites: i64) -> Json {
    match a {
        None => Json::Null,
        Some(a) => json!({
            "id": a.id,
            "name": a.name,
            "owner": a.owner.as_str(),
            "member_count": member_count,
            "pending_invites": pending_invites,
        }),
    }
}

/// `{ email, exists, name, two_factor, last_login, role, permissions }` of a person: their
/// login (if any) and their role and permissions on the account (null when not a member).
pub(crate) fn person(
    email: &Email,
    user: Option<&User>,
    membership: Option<&(Role, Permissions)>,
) -> Json {
    json!({
        "email": email.as_str(),
        "exists": user.is_some(),
        "name": user.map(|u| u.name.clone()),
        "two_factor": user.is_some_and(|u| u.two_factor),
        "last_login": user.and_then(|u| u.last_login),
        "role": membership.map(|(r, _)| r.as_str()),
        "permissions": membership.map(|(_, p)| permissions_to_json(p)),
    })
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
pub(crate) fn about_invite(i: &Invite, account: Json, actor: Json, invitee: Json) -> Json {
    json!({
        "account": account,
        "actor": actor,
        "email": i.email.as_str(),
        "invitee": invitee,
        "permissions": permissions_to_json(&i.permissions),
        "invite_id": i.id,
        "invited_by": i.invited_by.as_str(),
        "expires_at": i.expires_at,
        "invite": invite(i),
    })
}
