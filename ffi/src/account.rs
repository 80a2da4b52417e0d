//! Accounts and users.

use crate::boundary::{ffi_boundary, optional_text, text, write_json, Failure};
use crate::handle::{self, CohortEngine};
use crate::status::CohortStatus;
use std::ffi::c_char;

/// Creates or renames an account; creates the owner's login if needed. An existing account keeps
/// its owner (see `cohort_account_transfer`).
///
/// `*out_json`: the account, `{"id","name","owner","created_at"}`.
#[no_mangle]
pub unsafe extern "C" fn cohort_account_upsert(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    name: *const c_char,
    name_len: usize,
    owner_email: *const c_char,
    owner_email_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_account_upsert";
    ffi_boundary!(F, [engine, account_id, name, owner_email, out_json], {
        let e = handle::get(F, engine)?;
        let id = text(F, account_id, account_id_len, "account_id")?;
        let name = text(F, name, name_len, "name")?;
        let owner = text(F, owner_email, owner_email_len, "owner_email")?;
        let account = e.upsert_account(id, name, owner)?;
        write_json(F, out_json, &account)
    })
}

/// The account with this id. `*out_json`: as for `cohort_account_upsert`.
#[no_mangle]
pub unsafe extern "C" fn cohort_account_get(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_account_get";
    ffi_boundary!(F, [engine, account_id, out_json], {
        let e = handle::get(F, engine)?;
        let id = text(F, account_id, account_id_len, "account_id")?;
        write_json(F, out_json, &e.account(id)?)
    })
}

/// Makes a member the owner of an account; the previous owner stays on as a member with all
/// permissions. Only the current owner (`actor`) may. `*out_json`: the account.
#[no_mangle]
pub unsafe extern "C" fn cohort_account_transfer(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    account_id: *const c_char,
    account_id_len: usize,
    new_owner_email: *const c_char,
    new_owner_email_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_account_transfer";
    ffi_boundary!(F, [engine, actor, account_id, new_owner_email, out_json], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        let id = text(F, account_id, account_id_len, "account_id")?;
        let new_owner = text(F, new_owner_email, new_owner_email_len, "new_owner_email")?;
        write_json(F, out_json, &e.transfer_ownership(actor, id, new_owner)?)
    })
}

/// Creates a login, or updates the given fields of an existing one.
///
/// `name` may be NULL to keep the current name (empty for a new login). `two_factor` is 1 (the
/// panel has 2FA on for this login), 0 (off) or -1 (keep; off for a new login).
///
/// `*out_json`: the user, `{"id","email","name","two_factor","created_at","last_login"}`.
#[no_mangle]
pub unsafe extern "C" fn cohort_user_upsert(
    engine: *const CohortEngine,
    email: *const c_char,
    email_len: usize,
    name: *const c_char,
    name_len: usize,
    two_factor: i32,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_user_upsert";
    ffi_boundary!(F, [engine, email, out_json], {
        let e = handle::get(F, engine)?;
        let email = text(F, email, email_len, "email")?;
        let name = optional_text(F, name, name_len, "name")?;
        let two_factor = match two_factor {
            -1 => None,
            0 => Some(false),
            1 => Some(true),
            other => {
                return Err(Failure::new(
                    CohortStatus::InvalidArgument,
                    format!(
                        "{F}: argument `two_factor` is {other}; use 1 (on), 0 (off) or -1 (keep)"
                    ),
                ))
            }
        };
        write_json(F, out_json, &e.upsert_user(email, name, two_factor)?)
    })
}

/// The login with this email. `*out_json`: as for `cohort_user_upsert`.
#[no_mangle]
pub unsafe extern "C" fn cohort_user_get(
    engine: *const CohortEngine,
    email: *const c_char,
    email_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_user_get";
    ffi_boundary!(F, [engine, email, out_json], {
        let e = handle::get(F, engine)?;
        let email = text(F, email, email_len, "email")?;
        write_json(F, out_json, &e.user(email)?)
    })
}

/// Records that the panel logged this user in (sets Last Login to now).
/// `*out_json`: the user.
#[no_mangle]
pub unsafe extern "C" fn cohort_user_login(
    engine: *const CohortEngine,
    email: *const c_char,
    email_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_user_login";
    ffi_boundary!(F, [engine, email, out_json], {
        let e = handle::get(F, engine)?;
        let email = text(F, email, email_len, "email")?;
        write_json(F, out_json, &e.record_login(email)?)
    })
}

/// The accounts a login can switch between, with its role and permissions on each.
///
/// `*out_json`: `[{"account_id","account_name","role","permissions"}, …]`.
#[no_mangle]
pub unsafe extern "C" fn cohort_user_accounts(
    engine: *const CohortEngine,
    email: *const c_char,
    email_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_user_accounts";
    ffi_boundary!(F, [engine, email, out_json], {
        let e = handle::get(F, engine)?;
        let email = text(F, email, email_len, "email")?;
        write_json(F, out_json, &e.accounts_of(email)?)
    })
}
