//! Members of an account, their permissions, the permission check and the audit trail.

use crate::boundary::{ffi_boundary, text, write_json, write_value};
use crate::handle::{self, CohortEngine};
use crate::invite::permissions_arg;
use crate::status::CohortStatus;
use std::ffi::c_char;

/// The User Management table of an account: owner first, then members by join date.
///
/// `*out_json`: `[{"account_id","email","name","role","permissions","last_login","two_factor",
/// "joined_at","invited_by"}, …]`; `role` is `"owner"` or `"member"`, `permissions` is `"all"` or
/// an array of keys, times are UTC seconds (`last_login` null until the first login).
#[no_mangle]
pub unsafe extern "C" fn cohort_member_list(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_member_list";
    ffi_boundary!(F, [engine, account_id, out_json], {
        let e = handle::get(F, engine)?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        write_json(F, out_json, &e.members(account)?)
    })
}

/// Replaces a member's permissions (`"all"` or an array of keys). Refused on the owner; `actor`
/// must be the owner or a member holding `users` (within what they hold themselves).
/// `*out_json`: the member (see `cohort_member_list`).
#[no_mangle]
pub unsafe extern "C" fn cohort_member_set_permissions(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
    permissions_json: *const c_char,
    permissions_json_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_member_set_permissions";
    ffi_boundary!(
        F,
        [engine, actor, account_id, email, permissions_json, out_json],
        {
            let e = handle::get(F, engine)?;
            let actor = text(F, actor, actor_len, "actor")?;
            let account = text(F, account_id, account_id_len, "account_id")?;
            let email = text(F, email, email_len, "email")?;
            let perms = permissions_arg(F, &e, permissions_json, permissions_json_len)?;
            write_json(
                F,
                out_json,
                &e.set_permissions(actor, account, email, &perms)?,
            )
        }
    )
}

/// Removes a member's access to an account; the login and its other memberships remain.
/// Refused on the owner; `actor` must be the owner or a member holding `users`.
#[no_mangle]
pub unsafe extern "C" fn cohort_member_revoke(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
) -> CohortStatus {
    const F: &str = "cohort_member_revoke";
    ffi_boundary!(F, [engine, actor, account_id, email], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        let email = text(F, email, email_len, "email")?;
        Ok(e.revoke(actor, account, email)?)
    })
}

/// Whether a login holds permission `key` on an account: `*out_allowed` receives true or false.
/// The owner and members with all permissions hold every key; unknown logins and accounts hold
/// nothing. An unknown key is `COHORT_STATUS_UNKNOWN_PERMISSION` (a typo must not read as "no").
#[no_mangle]
pub unsafe extern "C" fn cohort_permission_check(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
    key: *const c_char,
    key_len: usize,
    out_allowed: *mut bool,
) -> CohortStatus {
    const F: &str = "cohort_permission_check";
    ffi_boundary!(F, [engine, account_id, email, key, out_allowed], {
        let allowed = unsafe {
            allowed(
                F,
                engine,
                account_id,
                account_id_len,
                email,
                email_len,
                key,
                key_len,
            )
        }?;
        write_value(F, out_allowed, "out_allowed", allowed)
    })
}

/// The answer both check exports give, from their arguments.
///
/// # Safety
/// As for [`text`]; `engine` as for [`handle::get`].
#[allow(clippy::too_many_arguments)]
unsafe fn allowed(
    function: &'static str,
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
    key: *const c_char,
    key_len: usize,
) -> Result<bool, crate::boundary::Failure> {
    let e = handle::get(function, engine)?;
    let account = unsafe { text(function, account_id, account_id_len, "account_id") }?;
    let email = unsafe { text(function, email, email_len, "email") }?;
    let key = unsafe { text(function, key, key_len, "key") }?;
    Ok(e.check(account, email, key)?)
}

/// `cohort_permission_check` that returns its answer directly, for the hottest call of a panel
/// (it is asked several times per page): 1 when the login holds `key` on the account, 0 when it
/// does not, and a negative number, minus a `CohortStatus` (`-COHORT_STATUS_UNKNOWN_PERMISSION`,
/// `-COHORT_STATUS_NULL_ARGUMENT`, …), when the question could not be answered; the message is
/// then in `cohort_error_message`. Same rules and same answers as `cohort_permission_check`.
#[no_mangle]
pub unsafe extern "C" fn cohort_permission_allows(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
    key: *const c_char,
    key_len: usize,
) -> i32 {
    const F: &str = "cohort_permission_allows";
    let mut answer = false;
    let status = ffi_boundary!(F, [engine, account_id, email, key], {
        answer = unsafe {
            allowed(
                F,
                engine,
                account_id,
                account_id_len,
                email,
                email_len,
                key,
                key_len,
            )
        }?;
        Ok(())
    });
    match status {
        CohortStatus::Ok => i32::from(answer),
        failed => -(failed as i32),
    }
}

/// A number that stays the same as long as no commit (by this engine, or by any other process
/// or connection on the database) can have changed an answer of `cohort_permission_allows` /
/// `cohort_permission_check`. A wrapper may keep the answers it got and serve them again while
/// this number stays the same, and must drop them all when it moves: one call with one argument
/// instead of six per question (PHP's `Engine::check` does this). Validated exactly as the
/// library's own memo is (the WAL-index header SQLite has mapped), so kept answers are never
/// stale. Returns the number (1 or more); 0 on a server database, where nothing may be kept
/// (each answer is one query); minus a `CohortStatus` when the engine cannot answer
/// (`-COHORT_STATUS_CLOSED_HANDLE`, …), the message then in `cohort_error_message`. Only
/// answers (1 and 0) may be kept, never failures.
#[no_mangle]
pub unsafe extern "C" fn cohort_permission_generation(engine: *const CohortEngine) -> i64 {
    const F: &str = "cohort_permission_generation";
    let mut generation = 0u64;
    let status = ffi_boundary!(F, [engine], {
        generation = handle::get(F, engine)?.check_generation()?;
        Ok(())
    });
    match status {
        // A generation moves by one per commit: it cannot reach i64::MAX.
        CohortStatus::Ok => i64::try_from(generation).unwrap_or(i64::MAX),
        failed => -(failed as i64),
    }
}

/// The permission catalogue of this engine in display order: the built-in keys (the 13 of WHMCS
/// first), then the ones added in config. `*out_json`: `[{"key","label"}, …]`.
#[no_mangle]
pub unsafe extern "C" fn cohort_permission_list(
    engine: *const CohortEngine,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_permission_list";
    ffi_boundary!(F, [engine, out_json], {
        let e = handle::get(F, engine)?;
        write_json(F, out_json, e.catalogue().defs())
    })
}

/// The latest `limit` audit entries (0: the default, 100) of an account at or after `since`
/// (UTC seconds), oldest first. `*out_json`: `[{"id","at","actor","account_id","action","target","old_value",
/// "new_value"}, …]`.
#[no_mangle]
pub unsafe extern "C" fn cohort_audit_list(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    since: i64,
    limit: u32,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_audit_list";
    ffi_boundary!(F, [engine, account_id, out_json], {
        let e = handle::get(F, engine)?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        write_json(F, out_json, &e.audit(account, since, limit)?)
    })
}
