//! Invites and their signed links.

use crate::boundary::{ffi_boundary, json, text, write_json, write_value, Failure};
use crate::handle::{self, CohortEngine};
use crate::status::CohortStatus;
use cohort_core::{Engine, Permissions};
use std::ffi::c_char;

/// Reads a permissions argument: the JSON string `"all"` or a JSON array of catalogue keys.
///
/// # Safety
/// As for [`text`].
pub(crate) unsafe fn permissions_arg(
    function: &'static str,
    engine: &Engine,
    ptr: *const c_char,
    len: usize,
) -> Result<Permissions, Failure> {
    let input = unsafe { text(function, ptr, len, "permissions_json") }?;
    let value = json(function, input, "permissions_json")?;
    engine.catalogue().from_json(&value).map_err(|e| match e {
        cohort_core::Error::InvalidArgument { message, .. } => Failure::new(
            CohortStatus::InvalidArgument,
            format!("{function}: argument `permissions_json` {message}"),
        ),
        other => other.into(),
    })
}

/// 0 means "the configured default"; anything else is passed on (and checked) as seconds.
fn ttl_arg(ttl_seconds: i64) -> Option<i64> {
    (ttl_seconds != 0).then_some(ttl_seconds)
}

/// Invites `email` to an account. `actor` must be the owner, or a member holding `users` who
/// grants no more than they hold (`users` itself only with All Permissions). Rate limited.
///
/// `permissions_json`: `"all"` or an array of catalogue keys. `ttl_seconds`: how long the link
/// stays valid; 0 takes the configured default (7 days unless set).
///
/// `*out_json`: `{"invite": Invite, "token", "link", "email": {"to","subject","body"}}` where
/// Invite is `{"id","account_id","email","permissions","invited_by","created_at","expires_at",
/// "status","times_sent","last_sent_at","accepted_by"}`. Nothing is written when refused.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_create(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
    permissions_json: *const c_char,
    permissions_json_len: usize,
    ttl_seconds: i64,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_create";
    ffi_boundary!(
        F,
        [engine, actor, account_id, email, permissions_json, out_json],
        {
            let e = handle::get(F, engine)?;
            let actor = text(F, actor, actor_len, "actor")?;
            let account = text(F, account_id, account_id_len, "account_id")?;
            let email = text(F, email, email_len, "email")?;
            let perms = permissions_arg(F, &e, permissions_json, permissions_json_len)?;
            let issued = e.invite(actor, account, email, &perms, ttl_arg(ttl_seconds))?;
            write_json(F, out_json, &issued)
        }
    )
}

/// The open invites of an account (pending, and expired ones not yet resent), newest first.
/// `*out_json`: an array of Invite (see `cohort_invite_create`).
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_pending(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_pending";
    ffi_boundary!(F, [engine, account_id, out_json], {
        let e = handle::get(F, engine)?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        write_json(F, out_json, &e.pending(account)?)
    })
}

/// One invite by id. `*out_json`: an Invite.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_get(
    engine: *const CohortEngine,
    invite_id: i64,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_get";
    ffi_boundary!(F, [engine, out_json], {
        let e = handle::get(F, engine)?;
        write_json(F, out_json, &e.invite_by_id(invite_id)?)
    })
}

/// Sends an open invite again: a new link and a fresh expiry (`ttl_seconds` as for
/// `cohort_invite_create`); the previous link stops working. Revives an expired invite.
/// `*out_json`: as for `cohort_invite_create`.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_resend(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    invite_id: i64,
    ttl_seconds: i64,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_resend";
    ffi_boundary!(F, [engine, actor, out_json], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        write_json(
            F,
            out_json,
            &e.resend(actor, invite_id, ttl_arg(ttl_seconds))?,
        )
    })
}

/// Withdraws an open invite; its link stops working. `*out_json`: the cancelled Invite.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_cancel(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    invite_id: i64,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_cancel";
    ffi_boundary!(F, [engine, actor, out_json], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        write_json(F, out_json, &e.cancel(actor, invite_id)?)
    })
}

/// Tells what a token (or a whole invite link) is for and whether it can be used, without
/// consuming it. An unusable token is still `COHORT_STATUS_OK`: the answer says why.
///
/// `*out_json`: `{"valid","reason","message","invite_id","account_id","account_name",
/// "invited_by","email","permissions","expires_at","has_login"}`; `reason` is null when valid,
/// else a token reason such as `"expired"` or `"superseded"` (the status name without its `token_`
/// prefix) and `message` says why in words; the other fields are null when the token does
/// not name a real invite. `has_login` tells the panel to show Login rather than Register.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_inspect(
    engine: *const CohortEngine,
    token_or_link: *const c_char,
    token_or_link_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_inspect";
    ffi_boundary!(F, [engine, token_or_link, out_json], {
        let e = handle::get(F, engine)?;
        let token = text(F, token_or_link, token_or_link_len, "token_or_link")?;
        write_json(F, out_json, &e.inspect(token)?)
    })
}

/// Checks a token's structure, signature and time window only, without the database: a verified
/// token may still be used up, cancelled or superseded (`cohort_invite_inspect` tells). Fails with
/// the token status (`COHORT_STATUS_TOKEN_BAD_SIGNATURE`, `…_TOKEN_EXPIRED`, …) when not valid.
///
/// On success `*out_invite_id` and `*out_expires_at` (UTC seconds) receive the signed invite id and
/// expiry. Plain integers rather than JSON: this is the cheap first check of a link on a hot path.
#[no_mangle]
pub unsafe extern "C" fn cohort_token_verify(
    engine: *const CohortEngine,
    token_or_link: *const c_char,
    token_or_link_len: usize,
    out_invite_id: *mut i64,
    out_expires_at: *mut i64,
) -> CohortStatus {
    const F: &str = "cohort_token_verify";
    ffi_boundary!(F, [engine, token_or_link, out_invite_id, out_expires_at], {
        let e = handle::get(F, engine)?;
        let token = text(F, token_or_link, token_or_link_len, "token_or_link")?;
        let claims = e
            .keyring()
            .verify_link(token, e.now(), e.config().clock_skew)?;
        let id = i64::try_from(claims.invite_id).map_err(|_| {
            Failure::new(
                CohortStatus::TokenUnknownInvite,
                format!("invite {} does not exist", claims.invite_id),
            )
        })?;
        write_value(F, out_invite_id, "out_invite_id", id)?;
        write_value(F, out_expires_at, "out_expires_at", claims.expires_at)
    })
}

/// Accepts an invite as an existing login. Single use: of concurrent accepts exactly one wins.
/// By default (`bind_email = true`) the login's email must be the invited one.
///
/// `*out_json`: the new member, `{"account_id","email","name","role","permissions","last_login",
/// "two_factor","joined_at","invited_by"}`.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_accept(
    engine: *const CohortEngine,
    token_or_link: *const c_char,
    token_or_link_len: usize,
    email: *const c_char,
    email_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_accept";
    ffi_boundary!(F, [engine, token_or_link, email, out_json], {
        let e = handle::get(F, engine)?;
        let token = text(F, token_or_link, token_or_link_len, "token_or_link")?;
        let email = text(F, email, email_len, "email")?;
        write_json(F, out_json, &e.accept(token, email)?)
    })
}

/// Accepts an invite by registering a new login with this email and name.
/// `*out_json`: the new member (see `cohort_invite_accept`).
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_accept_register(
    engine: *const CohortEngine,
    token_or_link: *const c_char,
    token_or_link_len: usize,
    email: *const c_char,
    email_len: usize,
    name: *const c_char,
    name_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_accept_register";
    ffi_boundary!(F, [engine, token_or_link, email, name, out_json], {
        let e = handle::get(F, engine)?;
        let token = text(F, token_or_link, token_or_link_len, "token_or_link")?;
        let email = text(F, email, email_len, "email")?;
        let name = text(F, name, name_len, "name")?;
        write_json(F, out_json, &e.accept_register(token, email, name)?)
    })
}

/// Declines an invite (the invitee, through the link). `*out_json`: the declined Invite.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_decline(
    engine: *const CohortEngine,
    token_or_link: *const c_char,
    token_or_link_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_invite_decline";
    ffi_boundary!(F, [engine, token_or_link, out_json], {
        let e = handle::get(F, engine)?;
        let token = text(F, token_or_link, token_or_link_len, "token_or_link")?;
        write_json(F, out_json, &e.decline(token)?)
    })
}

/// Marks every overdue pending invite expired (accept refuses them anyway); `*out_count`
/// receives how many. Meant for a periodic job.
#[no_mangle]
pub unsafe extern "C" fn cohort_invite_expire_due(
    engine: *const CohortEngine,
    out_count: *mut usize,
) -> CohortStatus {
    const F: &str = "cohort_invite_expire_due";
    ffi_boundary!(F, [engine, out_count], {
        let e = handle::get(F, engine)?;
        let n = e.expire_due()?;
        write_value(F, out_count, "out_count", n)
    })
}
