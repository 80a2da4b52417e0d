//! Leaving an account, contacts, notification routing and audit views.

use crate::boundary::{ffi_boundary, json, text, write_json, Failure};
use crate::handle::{self, CohortEngine};
use crate::status::CohortStatus;
use cohort_core::store::AuditQuery;
use cohort_core::{ContactInput, NotifyKind};
use std::ffi::c_char;

/// Parses a JSON argument into `T`: text that is not JSON is `COHORT_STATUS_INVALID_JSON`; JSON of
/// the wrong shape (unknown field, wrong type) is `COHORT_STATUS_INVALID_ARGUMENT`.
fn shaped<T: serde::de::DeserializeOwned>(
    function: &'static str,
    input: &str,
    name: &'static str,
) -> Result<T, Failure> {
    let value = json(function, input, name)?;
    serde_json::from_value(value).map_err(|e| {
        Failure::new(
            CohortStatus::InvalidArgument,
            format!("{function}: argument `{name}`: {e}"),
        )
    })
}

/// A member leaves an account on their own (the owner cannot: transfer first). The login and its
/// other memberships remain.
#[no_mangle]
pub unsafe extern "C" fn cohort_member_leave(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
) -> CohortStatus {
    const F: &str = "cohort_member_leave";
    ffi_boundary!(F, [engine, account_id, email], {
        let e = handle::get(F, engine)?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        let email = text(F, email, email_len, "email")?;
        Ok(e.leave(account, email)?)
    })
}

/// The contacts of an account. `*out_json`: `[Contact, …]` where Contact is `{"id","account_id",
/// "first_name","last_name","email","phone","company","user","notify","created_at","updated_at"}`
/// (`user`: the linked login or null; `notify`: kinds of email, see
/// `cohort_member_set_notifications`).
#[no_mangle]
pub unsafe extern "C" fn cohort_contact_list(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_contact_list";
    ffi_boundary!(F, [engine, account_id, out_json], {
        let e = handle::get(F, engine)?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        write_json(F, out_json, &e.contacts(account)?)
    })
}

/// One contact by id. `*out_json`: the Contact (see `cohort_contact_list`).
#[no_mangle]
pub unsafe extern "C" fn cohort_contact_get(
    engine: *const CohortEngine,
    contact_id: i64,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_contact_get";
    ffi_boundary!(F, [engine, out_json], {
        let e = handle::get(F, engine)?;
        write_json(F, out_json, &e.contact(contact_id)?)
    })
}

/// Adds a contact to an account. `actor` must be the owner or a member holding `contacts`.
///
/// `contact_json`: `{"first_name","email"` (both required)`, "last_name","phone","company",
/// "user","notify"}` (optional; `user` links a login by email, `notify` is an array of kinds).
/// `*out_json`: the Contact (see `cohort_contact_list`).
#[no_mangle]
pub unsafe extern "C" fn cohort_contact_add(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    account_id: *const c_char,
    account_id_len: usize,
    contact_json: *const c_char,
    contact_json_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_contact_add";
    ffi_boundary!(F, [engine, actor, account_id, contact_json, out_json], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        let input = text(F, contact_json, contact_json_len, "contact_json")?;
        let input: ContactInput = shaped(F, input, "contact_json")?;
        write_json(F, out_json, &e.contact_add(actor, account, &input)?)
    })
}

/// Changes the given fields of a contact (`contact_json` as for `cohort_contact_add`, every
/// field optional; `"user": ""` unlinks the login). `*out_json`: the Contact.
#[no_mangle]
pub unsafe extern "C" fn cohort_contact_update(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    contact_id: i64,
    contact_json: *const c_char,
    contact_json_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_contact_update";
    ffi_boundary!(F, [engine, actor, contact_json, out_json], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        let input = text(F, contact_json, contact_json_len, "contact_json")?;
        let input: ContactInput = shaped(F, input, "contact_json")?;
        write_json(F, out_json, &e.contact_update(actor, contact_id, &input)?)
    })
}

/// Deletes a contact. `*out_json`: the deleted Contact.
#[no_mangle]
pub unsafe extern "C" fn cohort_contact_delete(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    contact_id: i64,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_contact_delete";
    ffi_boundary!(F, [engine, actor, out_json], {
        let e = handle::get(F, engine)?;
        let actor = text(F, actor, actor_len, "actor")?;
        write_json(F, out_json, &e.contact_delete(actor, contact_id)?)
    })
}

/// Sets which kinds of email a member receives. `kinds_json`: an array of `"general"`,
/// `"domain"`, `"invoice"`, `"product"`, `"support"`, `"affiliate"` (empty: none). A member may set
/// their own; the owner and members holding `users` anyone's. `*out_json`: the kinds now set.
#[no_mangle]
pub unsafe extern "C" fn cohort_member_set_notifications(
    engine: *const CohortEngine,
    actor: *const c_char,
    actor_len: usize,
    account_id: *const c_char,
    account_id_len: usize,
    email: *const c_char,
    email_len: usize,
    kinds_json: *const c_char,
    kinds_json_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_member_set_notifications";
    ffi_boundary!(
        F,
        [engine, actor, account_id, email, kinds_json, out_json],
        {
            let e = handle::get(F, engine)?;
            let actor = text(F, actor, actor_len, "actor")?;
            let account = text(F, account_id, account_id_len, "account_id")?;
            let email = text(F, email, email_len, "email")?;
            let kinds = text(F, kinds_json, kinds_json_len, "kinds_json")?;
            let kinds = shaped::<Vec<String>>(F, kinds, "kinds_json")?
                .iter()
                .map(|k| NotifyKind::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            write_json(
                F,
                out_json,
                &e.set_member_notifications(actor, account, email, &kinds)?,
            )
        }
    )
}

/// Who should receive a kind of email for an account (`kind` as for
/// `cohort_member_set_notifications`): the owner unless they opted out, members and contacts who
/// opted in, each address once. `*out_json`: `[{"email","name","source"}, …]`, `source` being
/// `"owner"`, `"member"` or `"contact"`.
#[no_mangle]
pub unsafe extern "C" fn cohort_notification_recipients(
    engine: *const CohortEngine,
    account_id: *const c_char,
    account_id_len: usize,
    kind: *const c_char,
    kind_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_notification_recipients";
    ffi_boundary!(F, [engine, account_id, kind, out_json], {
        let e = handle::get(F, engine)?;
        let account = text(F, account_id, account_id_len, "account_id")?;
        let kind = NotifyKind::parse(text(F, kind, kind_len, "kind")?)?;
        write_json(F, out_json, &e.recipients(account, kind)?)
    })
}

/// The filters of `cohort_audit_query`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFilter {
    account: Option<String>,
    user: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<u32>,
}

/// Audit entries by account and/or user (as actor or target) within a time range, the latest
/// `limit` (absent or 0: the default, 100) oldest first. `query_json`: `{"account","user","since","until","limit"}`,
/// each optional. `*out_json`: as for `cohort_audit_list`.
#[no_mangle]
pub unsafe extern "C" fn cohort_audit_query(
    engine: *const CohortEngine,
    query_json: *const c_char,
    query_json_len: usize,
    out_json: *mut *mut c_char,
) -> CohortStatus {
    const F: &str = "cohort_audit_query";
    ffi_boundary!(F, [engine, query_json, out_json], {
        let e = handle::get(F, engine)?;
        let q = text(F, query_json, query_json_len, "query_json")?;
        let f: AuditFilter = shaped(F, q, "query_json")?;
        let q = AuditQuery {
            account: f.account,
            user: f.user,
            since: f.since,
            until: f.until,
            limit: f.limit.unwrap_or(0),
        };
        write_json(F, out_json, &e.audit_query(&q)?)
    })
}
