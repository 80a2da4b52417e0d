//! Unit tests of the exported functions, called from Rust as C would call them.

use super::*;
use serde_json::Value;
use std::ffi::CStr;
use std::path::PathBuf;
use std::ptr::{null, null_mut};
use std::sync::{Arc, RwLockReadGuard};

/// Every test that passes strings holds this; the input-limit test changes the limit alone.
fn shared() -> RwLockReadGuard<'static, ()> {
    boundary::LIMIT_TEST_LOCK
        .read()
        .unwrap_or_else(|p| p.into_inner())
}

struct Fixture {
    dir: tempfile::TempDir,
    engine: *mut CohortEngine,
    _guard: Option<RwLockReadGuard<'static, ()>>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::build(Some(shared()))
    }

    fn build(guard: Option<RwLockReadGuard<'static, ()>>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        cohort_core::config::create_key_file(&dir.path().join("keys"), "k1").unwrap();
        let cfg = dir.path().join("cohort.toml");
        std::fs::write(&cfg, cohort_core::config::template("k1")).unwrap();
        let engine = create(&cfg).expect("create");
        Fixture {
            dir,
            engine,
            _guard: guard,
        }
    }

    fn e(&self) -> *const CohortEngine {
        self.engine
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        unsafe { cohort_engine_close(self.engine) };
    }
}

fn open(cfg: &std::path::Path) -> Result<*mut CohortEngine, (CohortStatus, String)> {
    open_with(cohort_engine_open, cfg)
}

fn create(cfg: &std::path::Path) -> Result<*mut CohortEngine, (CohortStatus, String)> {
    open_with(cohort_engine_create, cfg)
}

fn open_with(
    f: unsafe extern "C" fn(*const c_char, usize, *mut *mut CohortEngine) -> CohortStatus,
    cfg: &std::path::Path,
) -> Result<*mut CohortEngine, (CohortStatus, String)> {
    let p = cfg.to_str().unwrap();
    let mut h: *mut CohortEngine = null_mut();
    let st = unsafe { f(p.as_ptr().cast(), p.len(), &mut h) };
    if st == CohortStatus::Ok {
        assert!(!h.is_null());
        Ok(h)
    } else {
        assert!(h.is_null(), "no output on failure");
        Err((st, message()))
    }
}

fn message() -> String {
    let mut m: *mut c_char = null_mut();
    assert_eq!(unsafe { cohort_error_message(&mut m) }, CohortStatus::Ok);
    let s = unsafe { CStr::from_ptr(m) }.to_str().unwrap().to_string();
    unsafe { cohort_string_free(m) };
    s
}

/// (pointer, length) of a Rust string.
fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

/// Calls an export that returns JSON; checks that nothing is written on failure.
fn json_call(
    f: impl FnOnce(*mut *mut c_char) -> CohortStatus,
) -> Result<Value, (CohortStatus, String)> {
    let sentinel = 0x5a5a as *mut c_char;
    let mut out = sentinel;
    let st = f(&mut out);
    if st != CohortStatus::Ok {
        assert_eq!(out, sentinel, "an output was written on failure ({st:?})");
        return Err((st, message()));
    }
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
    unsafe { cohort_string_free(out) };
    Ok(serde_json::from_str(&text).unwrap())
}

fn account_upsert(
    fx: &Fixture,
    id: &str,
    name: &str,
    owner: &str,
) -> Result<Value, (CohortStatus, String)> {
    let (a, al) = s(id);
    let (n, nl) = s(name);
    let (o, ol) = s(owner);
    json_call(|out| unsafe { cohort_account_upsert(fx.e(), a, al, n, nl, o, ol, out) })
}

fn invite(
    fx: &Fixture,
    actor: &str,
    acct: &str,
    email: &str,
    perms: &str,
    ttl: i64,
) -> Result<Value, (CohortStatus, String)> {
    let (a, al) = s(actor);
    let (c, cl) = s(acct);
    let (e, el) = s(email);
    let (p, pl) = s(perms);
    json_call(|out| unsafe { cohort_invite_create(fx.e(), a, al, c, cl, e, el, p, pl, ttl, out) })
}

fn check(fx: &Fixture, acct: &str, email: &str, key: &str) -> Result<bool, (CohortStatus, String)> {
    let (a, al) = s(acct);
    let (e, el) = s(email);
    let (k, kl) = s(key);
    let mut allowed = false;
    let st = unsafe { cohort_permission_check(fx.e(), a, al, e, el, k, kl, &mut allowed) };
    if st == CohortStatus::Ok {
        Ok(allowed)
    } else {
        Err((st, message()))
    }
}

fn members(fx: &Fixture, acct: &str) -> Vec<Value> {
    let (a, al) = s(acct);
    json_call(|out| unsafe { cohort_member_list(fx.e(), a, al, out) })
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

const OWNER: &str = "owner@acme.example";

fn seeded() -> Fixture {
    seed(Fixture::new())
}

fn seed(fx: Fixture) -> Fixture {
    let acct = account_upsert(&fx, "1042", "Acme Ltd", OWNER).unwrap();
    assert_eq!(acct["id"], "1042");
    assert_eq!(acct["owner"], OWNER);
    fx
}

#[test]
fn the_whole_flow_through_the_exports() {
    let fx = seeded();
    // An existing login for one invitee.
    let (e, el) = s("Dev@Acme.example");
    let (n, nl) = s("Dana Dev");
    let user =
        json_call(|out| unsafe { cohort_user_upsert(fx.e(), e, el, n, nl, 1, out) }).unwrap();
    assert_eq!(user["email"], "dev@acme.example");
    assert_eq!(user["two_factor"], true);

    let all = invite(&fx, OWNER, "1042", "dev@acme.example", "\"all\"", 0).unwrap();
    assert_eq!(all["invite"]["permissions"], "all");
    assert_eq!(all["invite"]["status"], "pending");
    assert_eq!(
        all["email"]["subject"],
        "Acme Ltd has invited you to their account"
    );
    let chosen = invite(
        &fx,
        OWNER,
        "1042",
        "books@acme.example",
        r#"["invoices","tickets"]"#,
        3600,
    )
    .unwrap();
    assert_eq!(
        chosen["invite"]["permissions"],
        serde_json::json!(["invoices", "tickets"])
    );
    assert_eq!(
        chosen["invite"]["expires_at"].as_i64().unwrap()
            - chosen["invite"]["created_at"].as_i64().unwrap(),
        3600
    );

    let (a, al) = s("1042");
    let pending = json_call(|out| unsafe { cohort_invite_pending(fx.e(), a, al, out) }).unwrap();
    assert_eq!(pending.as_array().unwrap().len(), 2);

    let token = all["token"].as_str().unwrap().to_string();
    let link = chosen["link"].as_str().unwrap().to_string();
    let (t, tl) = s(&token);
    let seen = json_call(|out| unsafe { cohort_invite_inspect(fx.e(), t, tl, out) }).unwrap();
    assert_eq!(seen["valid"], true);
    assert_eq!(seen["has_login"], true);
    assert_eq!(seen["account_name"], "Acme Ltd");
    let (mut id, mut expires) = (0i64, 0i64);
    assert_eq!(
        unsafe { cohort_token_verify(fx.e(), t, tl, &mut id, &mut expires) },
        CohortStatus::Ok
    );
    assert_eq!(Some(id), all["invite"]["id"].as_i64());
    assert_eq!(Some(expires), all["invite"]["expires_at"].as_i64());

    // Accept with the existing login, register with the link.
    let (e, el) = s("dev@acme.example");
    let m = json_call(|out| unsafe { cohort_invite_accept(fx.e(), t, tl, e, el, out) }).unwrap();
    assert_eq!(m["role"], "member");
    assert_eq!(m["permissions"], "all");
    let (l, ll) = s(&link);
    let (e2, e2l) = s("books@acme.example");
    let (n2, n2l) = s("Bo Books");
    let m2 = json_call(|out| unsafe {
        cohort_invite_accept_register(fx.e(), l, ll, e2, e2l, n2, n2l, out)
    })
    .unwrap();
    assert_eq!(m2["name"], "Bo Books");
    // Single use.
    let again =
        json_call(|out| unsafe { cohort_invite_accept(fx.e(), t, tl, e, el, out) }).unwrap_err();
    assert_eq!(again.0, CohortStatus::TokenAlreadyUsed);

    let table = members(&fx, "1042");
    let mut emails: Vec<&str> = table.iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails[0], OWNER, "the owner comes first");
    assert_eq!(table[0]["role"], "owner");
    emails.sort_unstable();
    assert_eq!(
        emails,
        ["books@acme.example", "dev@acme.example", OWNER],
        "both invitees joined"
    );

    // Login, permissions, check.
    let u = json_call(|out| unsafe { cohort_user_login(fx.e(), e2, e2l, out) }).unwrap();
    assert!(u["last_login"].is_i64());
    assert!(check(&fx, "1042", "books@acme.example", "invoices").unwrap());
    assert!(!check(&fx, "1042", "books@acme.example", "domains").unwrap());
    let (o, ol) = s(OWNER);
    let (p, pl) = s(r#"["domains"]"#);
    let changed = json_call(|out| unsafe {
        cohort_member_set_permissions(fx.e(), o, ol, a, al, e2, e2l, p, pl, out)
    })
    .unwrap();
    assert_eq!(changed["permissions"], serde_json::json!(["domains"]));
    assert!(check(&fx, "1042", "books@acme.example", "domains").unwrap());
    assert!(!check(&fx, "1042", "books@acme.example", "invoices").unwrap());
    assert!(check(&fx, "1042", OWNER, "orders").unwrap());
    let accounts = json_call(|out| unsafe { cohort_user_accounts(fx.e(), e2, e2l, out) }).unwrap();
    assert_eq!(accounts[0]["account_name"], "Acme Ltd");

    // Revoke: access gone, the login stays.
    assert_eq!(
        unsafe { cohort_member_revoke(fx.e(), o, ol, a, al, e2, e2l) },
        CohortStatus::Ok
    );
    assert!(!check(&fx, "1042", "books@acme.example", "domains").unwrap());
    assert_eq!(members(&fx, "1042").len(), 2);
    let still = json_call(|out| unsafe { cohort_user_get(fx.e(), e2, e2l, out) }).unwrap();
    assert_eq!(still["email"], "books@acme.example");

    // Resend kills the old link; cancel; decline.
    let third = invite(&fx, OWNER, "1042", "temp@acme.example", r#"["tickets"]"#, 0).unwrap();
    let id = third["invite"]["id"].as_i64().unwrap();
    let resent =
        json_call(|out| unsafe { cohort_invite_resend(fx.e(), o, ol, id, 0, out) }).unwrap();
    assert_eq!(resent["invite"]["times_sent"], 2);
    let old = third["token"].as_str().unwrap();
    let (ot, otl) = s(old);
    let seen = json_call(|out| unsafe { cohort_invite_inspect(fx.e(), ot, otl, out) }).unwrap();
    assert_eq!(seen["valid"], false);
    assert_eq!(seen["reason"], "superseded");
    let cancelled =
        json_call(|out| unsafe { cohort_invite_cancel(fx.e(), o, ol, id, out) }).unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    let got = json_call(|out| unsafe { cohort_invite_get(fx.e(), id, out) }).unwrap();
    assert_eq!(got["status"], "cancelled");
    let fourth = invite(&fx, OWNER, "1042", "nope@acme.example", "\"all\"", 0).unwrap();
    let (dt, dtl) = s(fourth["token"].as_str().unwrap());
    let declined = json_call(|out| unsafe { cohort_invite_decline(fx.e(), dt, dtl, out) }).unwrap();
    assert_eq!(declined["status"], "declined");

    let mut n = usize::MAX;
    assert_eq!(
        unsafe { cohort_invite_expire_due(fx.e(), &mut n) },
        CohortStatus::Ok
    );
    assert_eq!(n, 0);

    // Transfer, then the audit trail tells the story.
    let (d, dl) = s("dev@acme.example");
    let acct =
        json_call(|out| unsafe { cohort_account_transfer(fx.e(), o, ol, a, al, d, dl, out) })
            .unwrap();
    assert_eq!(acct["owner"], "dev@acme.example");
    let got = json_call(|out| unsafe { cohort_account_get(fx.e(), a, al, out) }).unwrap();
    assert_eq!(got["owner"], "dev@acme.example");
    let audit = json_call(|out| unsafe { cohort_audit_list(fx.e(), a, al, 0, 100, out) }).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for want in [
        "account.create",
        "invite.create",
        "invite.accept",
        "member.permissions",
        "member.revoke",
        "invite.resend",
        "invite.cancel",
        "invite.decline",
        "account.transfer",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    let catalogue = json_call(|out| unsafe { cohort_permission_list(fx.e(), out) }).unwrap();
    let defs = cohort_core::Catalogue::default();
    assert_eq!(catalogue.as_array().unwrap().len(), defs.defs().len());
    for (i, (key, label)) in cohort_core::permissions::BUILTIN.iter().enumerate() {
        assert_eq!(catalogue[i]["key"], *key);
        assert_eq!(catalogue[i]["label"], *label);
    }
    assert_eq!(catalogue[7]["key"], "invoices");
    assert_eq!(catalogue[7]["label"], "View & Pay Invoices");
}

#[test]
fn contacts_notifications_leave_and_audit_views() {
    let fx = seeded();
    let (o, ol) = s(OWNER);
    let (a, al) = s("1042");
    // A member to route mail to and to leave.
    let inv = invite(&fx, OWNER, "1042", "dev@acme.example", r#"["invoices"]"#, 0).unwrap();
    let (t, tl) = s(inv["token"].as_str().unwrap());
    let (d, dl) = s("dev@acme.example");
    let (n, nl) = s("Dev");
    json_call(|out| unsafe { cohort_invite_accept_register(fx.e(), t, tl, d, dl, n, nl, out) })
        .unwrap();

    let (c, cl) = s(
        r#"{"first_name":"Ann","last_name":"Books","email":"ann@books.example","notify":["invoice"]}"#,
    );
    let ann =
        json_call(|out| unsafe { cohort_contact_add(fx.e(), o, ol, a, al, c, cl, out) }).unwrap();
    assert_eq!(ann["email"], "ann@books.example");
    assert_eq!(ann["notify"], serde_json::json!(["invoice"]));
    let id = ann["id"].as_i64().unwrap();
    let (u, ul) = s(r#"{"phone":"+1 555 0100"}"#);
    let changed =
        json_call(|out| unsafe { cohort_contact_update(fx.e(), o, ol, id, u, ul, out) }).unwrap();
    assert_eq!(changed["phone"], "+1 555 0100");
    assert_eq!(changed["first_name"], "Ann", "fields not given stay");
    let got = json_call(|out| unsafe { cohort_contact_get(fx.e(), id, out) }).unwrap();
    assert_eq!(got, changed);
    let list = json_call(|out| unsafe { cohort_contact_list(fx.e(), a, al, out) }).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let (k, kl) = s(r#"["invoice","support"]"#);
    let kinds = json_call(|out| unsafe {
        cohort_member_set_notifications(fx.e(), d, dl, a, al, d, dl, k, kl, out)
    })
    .unwrap();
    assert_eq!(kinds, serde_json::json!(["invoice", "support"]));
    let (kind, kindl) = s("invoice");
    let to =
        json_call(|out| unsafe { cohort_notification_recipients(fx.e(), a, al, kind, kindl, out) })
            .unwrap();
    let emails: Vec<&str> = to
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [OWNER, "dev@acme.example", "ann@books.example"]);
    let (bad, badl) = s("fax");
    let e =
        json_call(|out| unsafe { cohort_notification_recipients(fx.e(), a, al, bad, badl, out) })
            .unwrap_err();
    assert_eq!(e.0, CohortStatus::InvalidArgument);
    assert!(e.1.contains("fax"), "{}", e.1);

    // Wrong shapes are refused before anything runs.
    for (json_text, status) in [
        (
            r#"{"first_name":"X","email":"x@x.example","fax":"1"}"#,
            CohortStatus::InvalidArgument,
        ),
        (r#"{"first_name":"X""#, CohortStatus::InvalidJson),
        (r#"["x"]"#, CohortStatus::InvalidArgument),
    ] {
        let (c, cl) = s(json_text);
        let e = json_call(|out| unsafe { cohort_contact_add(fx.e(), o, ol, a, al, c, cl, out) })
            .unwrap_err();
        assert_eq!(e.0, status, "{json_text}: {}", e.1);
    }

    let gone = json_call(|out| unsafe { cohort_contact_delete(fx.e(), o, ol, id, out) }).unwrap();
    assert_eq!(gone["id"], id);
    assert_eq!(
        unsafe { cohort_member_leave(fx.e(), a, al, d, dl) },
        CohortStatus::Ok
    );
    assert_eq!(members(&fx, "1042").len(), 1);
    assert_eq!(
        unsafe { cohort_member_leave(fx.e(), a, al, o, ol) },
        CohortStatus::OwnerProtected
    );

    let (q, ql) = s(r#"{"user":"dev@acme.example","limit":50}"#);
    let entries = json_call(|out| unsafe { cohort_audit_query(fx.e(), q, ql, out) }).unwrap();
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"member.leave") && actions.contains(&"invite.accept"),
        "{actions:?}"
    );
    assert!(
        !actions.contains(&"contact.add"),
        "filtered by user: {actions:?}"
    );
    let (q, ql) = s(r#"{"acount":"1042"}"#);
    let e = json_call(|out| unsafe { cohort_audit_query(fx.e(), q, ql, out) }).unwrap_err();
    assert_eq!(e.0, CohortStatus::InvalidArgument);
    assert!(e.1.contains("acount"), "{}", e.1);
}

#[test]
fn refusals_keep_their_core_status_and_a_specific_message() {
    let fx = seeded();
    let e = invite(
        &fx,
        "someone@acme.example",
        "1042",
        "x@acme.example",
        "\"all\"",
        0,
    )
    .unwrap_err();
    assert_eq!(e.0, CohortStatus::NotOwner);
    assert!(
        e.1.contains("someone@acme.example is not the owner of account 1042"),
        "{}",
        e.1
    );
    let e = invite(
        &fx,
        OWNER,
        "1042",
        "x@acme.example",
        r#"["invoices","billing"]"#,
        0,
    )
    .unwrap_err();
    assert_eq!(e.0, CohortStatus::UnknownPermission);
    assert!(
        e.1.contains("billing") && e.1.contains("invoices"),
        "{}",
        e.1
    );
    let e = invite(&fx, OWNER, "1042", "x@acme.example", "[]", 0).unwrap_err();
    assert_eq!(e.0, CohortStatus::EmptyPermissions);
    let e = invite(&fx, OWNER, "1042", "not-an-email", "\"all\"", 0).unwrap_err();
    assert_eq!(e.0, CohortStatus::InvalidEmail);
    let e = invite(&fx, OWNER, "1042", "x@acme.example", "\"all\"", -5).unwrap_err();
    assert_eq!(e.0, CohortStatus::InvalidArgument);
    let first = invite(&fx, OWNER, "1042", "x@acme.example", "\"all\"", 0).unwrap();
    let e = invite(&fx, OWNER, "1042", "x@acme.example", "\"all\"", 0).unwrap_err();
    assert_eq!(e.0, CohortStatus::PendingInviteExists);
    assert!(
        e.1.contains(&format!("invite {}", first["invite"]["id"])),
        "{}",
        e.1
    );
    let e = invite(&fx, OWNER, "9999", "x@acme.example", "\"all\"", 0).unwrap_err();
    assert_eq!(e.0, CohortStatus::NotFound);
    assert!(e.1.contains("9999"), "{}", e.1);
    let e = check(&fx, "1042", OWNER, "billing").unwrap_err();
    assert_eq!(e.0, CohortStatus::UnknownPermission);
    let (o, ol) = s(OWNER);
    let (a, al) = s("1042");
    let e = unsafe { cohort_member_revoke(fx.e(), o, ol, a, al, o, ol) };
    assert_eq!(e, CohortStatus::OwnerProtected);
    assert!(message().contains("removing access does not apply to the owner"));
    // Token statuses: tampered and wrong email.
    let mut token = first["token"].as_str().unwrap().to_string();
    let (t, tl) = s(&token);
    let (x, xl) = s("other@acme.example");
    let (n, nl) = s("Other");
    let e =
        json_call(|out| unsafe { cohort_invite_accept_register(fx.e(), t, tl, x, xl, n, nl, out) })
            .unwrap_err();
    assert_eq!(e.0, CohortStatus::EmailMismatch);
    let last = token.pop().unwrap();
    token.push(if last == 'A' { 'B' } else { 'A' });
    let (t, tl) = s(&token);
    let (mut id, mut expires) = (-1i64, -1i64);
    let st = unsafe { cohort_token_verify(fx.e(), t, tl, &mut id, &mut expires) };
    assert!(
        matches!(
            st,
            CohortStatus::TokenBadSignature | CohortStatus::TokenNonCanonical
        ),
        "{st:?}"
    );
    assert_eq!((id, expires), (-1, -1), "no output on failure");
    assert_eq!(
        unsafe { cohort_token_verify(fx.e(), t, tl, &mut id, std::ptr::null_mut()) },
        CohortStatus::NullArgument
    );
    let seen = json_call(|out| unsafe { cohort_invite_inspect(fx.e(), t, tl, out) }).unwrap();
    assert_eq!(seen["valid"], false);
}

#[test]
fn nulls_are_refused_by_name() {
    let fx = seeded();
    let (a, al) = s("1042");
    let e = json_call(|out| unsafe { cohort_member_list(null(), a, al, out) }).unwrap_err();
    assert_eq!(e.0, CohortStatus::NullArgument);
    assert!(e.1.contains("`engine`"), "{}", e.1);
    let e = json_call(|out| unsafe { cohort_member_list(fx.e(), null(), 4, out) }).unwrap_err();
    assert_eq!(e.0, CohortStatus::NullArgument);
    assert!(
        e.1.contains("cohort_member_list: argument `account_id` is NULL"),
        "{}",
        e.1
    );
    assert_eq!(
        unsafe { cohort_member_list(fx.e(), a, al, null_mut()) },
        CohortStatus::NullArgument
    );
    let (e1, l1) = s(OWNER);
    let (k, kl) = s("invoices");
    assert_eq!(
        unsafe { cohort_permission_check(fx.e(), a, al, e1, l1, k, kl, null_mut()) },
        CohortStatus::NullArgument
    );
    assert_eq!(
        unsafe { cohort_invite_expire_due(fx.e(), null_mut()) },
        CohortStatus::NullArgument
    );
    let mut h = null_mut();
    assert_eq!(
        unsafe { cohort_engine_open(null(), 0, &mut h) },
        CohortStatus::NullArgument
    );
    let p = fx.dir.path().join("cohort.toml");
    let p = p.to_str().unwrap();
    assert_eq!(
        unsafe { cohort_engine_open(p.as_ptr().cast(), p.len(), null_mut()) },
        CohortStatus::NullArgument
    );
    assert_eq!(
        unsafe { cohort_error_message(null_mut()) },
        CohortStatus::NullArgument
    );
    assert_eq!(unsafe { cohort_engine_close(null_mut()) }, CohortStatus::Ok);
    unsafe { cohort_string_free(null_mut()) };
    // The optional name of cohort_user_upsert may be NULL: it keeps the current name.
    let (e2, l2) = s(OWNER);
    let (n, nl) = s("Olive Owner");
    json_call(|out| unsafe { cohort_user_upsert(fx.e(), e2, l2, n, nl, -1, out) }).unwrap();
    let u =
        json_call(|out| unsafe { cohort_user_upsert(fx.e(), e2, l2, null(), 0, 0, out) }).unwrap();
    assert_eq!(u["name"], "Olive Owner");
    assert_eq!(u["two_factor"], false);
    let e = json_call(|out| unsafe { cohort_user_upsert(fx.e(), e2, l2, null(), 0, 2, out) })
        .unwrap_err();
    assert_eq!(e.0, CohortStatus::InvalidArgument);
    assert!(e.1.contains("two_factor"), "{}", e.1);
}

#[test]
fn bad_strings_and_json_are_refused_before_anything_runs() {
    let fx = seeded();
    let before = members(&fx, "1042");
    let (o, ol) = s(OWNER);
    let (a, al) = s("1042");
    let bad_utf8 = b"dev@acme.ex\xffample";
    let e = json_call(|out| unsafe {
        cohort_invite_create(
            fx.e(),
            o,
            ol,
            a,
            al,
            bad_utf8.as_ptr().cast(),
            bad_utf8.len(),
            c"\"all\"".as_ptr(),
            5,
            0,
            out,
        )
    })
    .unwrap_err();
    assert_eq!(e.0, CohortStatus::InvalidUtf8);
    assert!(
        e.1.contains("`email`") && e.1.contains("byte 11"),
        "{}",
        e.1
    );
    let nul = b"dev@acme.example\0.evil";
    let e = json_call(|out| unsafe {
        cohort_invite_create(
            fx.e(),
            o,
            ol,
            a,
            al,
            nul.as_ptr().cast(),
            nul.len(),
            c"\"all\"".as_ptr(),
            5,
            0,
            out,
        )
    })
    .unwrap_err();
    assert_eq!(e.0, CohortStatus::InteriorNul);
    assert!(e.1.contains("offset 16"), "{}", e.1);
    for (perms, status) in [
        ("[\"invoices\"", CohortStatus::InvalidJson),
        ("all", CohortStatus::InvalidJson),
        ("\"some\"", CohortStatus::InvalidArgument),
        ("{\"all\":true}", CohortStatus::InvalidArgument),
        ("[1,2]", CohortStatus::InvalidArgument),
    ] {
        let e = invite(&fx, OWNER, "1042", "dev@acme.example", perms, 0).unwrap_err();
        assert_eq!(e.0, status, "{perms}: {}", e.1);
        assert!(e.1.contains("permissions_json"), "{}", e.1);
    }
    let p = fx.dir.path().join("cohort.toml\0x");
    let p = p.to_str().unwrap();
    let mut h = null_mut();
    assert_eq!(
        unsafe { cohort_engine_open(p.as_ptr().cast(), p.len(), &mut h) },
        CohortStatus::InteriorNul
    );
    assert!(h.is_null());
    // Nothing was written by any refused call.
    assert_eq!(members(&fx, "1042"), before);
    let pending = json_call(|out| unsafe { cohort_invite_pending(fx.e(), a, al, out) }).unwrap();
    assert_eq!(pending.as_array().unwrap().len(), 0);
}

#[test]
fn the_input_limit_is_configurable() {
    let _alone = boundary::LIMIT_TEST_LOCK
        .write()
        .unwrap_or_else(|p| p.into_inner());
    let fx = seed(Fixture::build(None));
    assert_eq!(cohort_library_input_limit(), COHORT_DEFAULT_INPUT_LIMIT);
    let big = "a".repeat(COHORT_DEFAULT_INPUT_LIMIT + 1);
    let (t, tl) = s(&big);
    let e = json_call(|out| unsafe { cohort_invite_inspect(fx.e(), t, tl, out) }).unwrap_err();
    assert_eq!(e.0, CohortStatus::InputTooLarge);
    assert!(
        e.1.contains("1048577 bytes") && e.1.contains("1048576"),
        "{}",
        e.1
    );
    // Exactly at the limit is read (and is then just a bad token).
    let (t, _) = s(&big);
    let seen = json_call(|out| unsafe {
        cohort_invite_inspect(fx.e(), t, COHORT_DEFAULT_INPUT_LIMIT, out)
    })
    .unwrap();
    assert_eq!(seen["valid"], false);
    assert_eq!(cohort_library_set_input_limit(16), CohortStatus::Ok);
    assert_eq!(cohort_library_input_limit(), 16);
    let (e1, l1) = s("somebody-long@acme.example");
    let e = json_call(|out| unsafe { cohort_user_get(fx.e(), e1, l1, out) }).unwrap_err();
    assert_eq!(e.0, CohortStatus::InputTooLarge);
    assert_eq!(
        cohort_library_set_input_limit(0),
        CohortStatus::InvalidArgument
    );
    assert_eq!(
        cohort_library_input_limit(),
        16,
        "a refused limit changes nothing"
    );
    assert_eq!(
        cohort_library_set_input_limit(COHORT_DEFAULT_INPUT_LIMIT),
        CohortStatus::Ok
    );
    json_call(|out| unsafe { cohort_user_get(fx.e(), e1, l1, out) }).unwrap_err();
    assert_eq!(
        json_call(|out| unsafe { cohort_user_get(fx.e(), e1, l1, out) })
            .unwrap_err()
            .0,
        CohortStatus::NotFound
    );
}

#[test]
fn closed_handles_are_a_status_never_a_crash() {
    let fx = Fixture::new();
    let p = fx.dir.path().join("cohort.toml");
    let h = open(&p).unwrap();
    let other = open(&p).unwrap();
    assert_ne!(h, other, "handles are never reused");
    assert_eq!(unsafe { cohort_engine_close(h) }, CohortStatus::Ok);
    assert_eq!(
        unsafe { cohort_engine_close(h) },
        CohortStatus::ClosedHandle
    );
    assert!(message().contains("is closed"), "{}", message());
    let (a, al) = s("1042");
    let e = json_call(|out| unsafe { cohort_member_list(h, a, al, out) }).unwrap_err();
    assert_eq!(e.0, CohortStatus::ClosedHandle);
    assert!(
        e.1.starts_with("cohort_member_list: engine handle"),
        "{}",
        e.1
    );
    // A number that was never a handle.
    let forged = 0xdead_beef_usize as *mut CohortEngine;
    assert_eq!(
        unsafe { cohort_engine_close(forged) },
        CohortStatus::ClosedHandle
    );
    assert!(message().contains("not an engine handle"), "{}", message());
    // A handle opened after the close is a new number; the other one still works.
    let third = open(&p).unwrap();
    assert_ne!(third, h);
    assert!(json_call(|out| unsafe { cohort_permission_list(other, out) }).is_ok());
    assert_eq!(unsafe { cohort_engine_close(other) }, CohortStatus::Ok);
    assert_eq!(unsafe { cohort_engine_close(third) }, CohortStatus::Ok);
}

#[test]
fn opening_a_missing_or_broken_config_fails_with_its_status() {
    let _g = shared();
    let dir = tempfile::tempdir().unwrap();
    let e = open(&dir.path().join("missing.toml")).unwrap_err();
    assert_eq!(e.0, CohortStatus::Io);
    assert!(e.1.contains("missing.toml"), "{}", e.1);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "bind_emails = true\n").unwrap();
    let e = open(&bad).unwrap_err();
    assert_eq!(e.0, CohortStatus::Config);
    assert!(e.1.contains("bind_emails"), "{}", e.1);
}

#[test]
fn allows_answers_like_check_and_returns_minus_the_status_on_failure() {
    let fx = seeded();
    let allows = |acct: &str, email: &str, key: &str| {
        let (a, al) = s(acct);
        let (e, el) = s(email);
        let (k, kl) = s(key);
        unsafe { cohort_permission_allows(fx.e(), a, al, e, el, k, kl) }
    };
    for (acct, email, key) in [
        ("1042", OWNER, "orders"),
        ("1042", "books@acme.example", "invoices"),
        ("1042", "books@acme.example", "domains"),
        ("1042", "stranger@acme.example", "invoices"),
        ("9999", OWNER, "invoices"),
    ] {
        let expected = check(&fx, acct, email, key).unwrap();
        assert_eq!(
            allows(acct, email, key),
            i32::from(expected),
            "{acct} {email} {key}"
        );
    }
    assert_eq!(
        allows("1042", OWNER, "billing"),
        -(CohortStatus::UnknownPermission as i32)
    );
    assert!(message().contains("billing"), "{}", message());
    let (k, kl) = s("invoices");
    assert_eq!(
        unsafe { cohort_permission_allows(fx.e(), null(), 0, k, kl, k, kl) },
        -(CohortStatus::NullArgument as i32)
    );
    assert_eq!(
        unsafe { cohort_permission_allows(null(), k, kl, k, kl, k, kl) },
        -(CohortStatus::NullArgument as i32)
    );
}

#[test]
fn the_permission_generation_moves_with_every_commit_and_only_then() {
    let fx = seeded();
    let generation = || unsafe { cohort_permission_generation(fx.e()) };
    let g0 = generation();
    assert!(g0 >= 1, "{g0}");
    // Questions, answered or not, change nothing.
    assert!(check(&fx, "1042", OWNER, "orders").unwrap());
    assert!(!check(&fx, "1042", "books@acme.example", "invoices").unwrap());
    assert!(check(&fx, "1042", OWNER, "billing").is_err());
    assert_eq!(generation(), g0);
    assert_eq!(generation(), g0);

    // This engine's own commit.
    invite(
        &fx,
        OWNER,
        "1042",
        "books@acme.example",
        "[\"invoices\"]",
        0,
    )
    .unwrap();
    let g1 = generation();
    assert!(g1 > g0, "{g1} after {g0}");
    assert_eq!(generation(), g1);

    // Another connection's commit (a second engine on the same files).
    let other = open(&fx.dir.path().join("cohort.toml")).unwrap();
    let (a, al) = s("1042");
    let (n, nl) = s("Acme Renamed");
    let (o, ol) = s(OWNER);
    let renamed =
        json_call(|out| unsafe { cohort_account_upsert(other, a, al, n, nl, o, ol, out) });
    assert_eq!(renamed.unwrap()["name"], "Acme Renamed");
    let g2 = generation();
    assert!(g2 > g1, "{g2} after {g1}");
    assert_eq!(generation(), g2);
    // A failed write commits nothing.
    assert!(invite(
        &fx,
        OWNER,
        "1042",
        "books@acme.example",
        "[\"invoices\"]",
        0
    )
    .is_err());
    assert_eq!(generation(), g2);
    assert_eq!(unsafe { cohort_engine_close(other) }, CohortStatus::Ok);

    assert_eq!(
        unsafe { cohort_permission_generation(null()) },
        -(CohortStatus::NullArgument as i64)
    );
    assert_eq!(
        unsafe { cohort_permission_generation(other) },
        -(CohortStatus::ClosedHandle as i64)
    );
    assert!(message().contains("closed"), "{}", message());
}

#[test]
fn shared_engines_are_reused_until_their_sources_change() {
    let _g = shared();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    cohort_core::config::create_key_file(&keys, "k1").unwrap();
    let cfg = dir.path().join("cohort.toml");
    std::fs::write(&cfg, cohort_core::config::template("k1")).unwrap();
    let p = cfg.to_str().unwrap();
    let open_shared = || {
        let mut h = null_mut();
        let st = unsafe { cohort_engine_open_shared(p.as_ptr().cast(), p.len(), &mut h) };
        (st, h)
    };
    // Like open, it needs an existing database.
    let (st, h) = open_shared();
    assert_eq!(st, CohortStatus::Io, "{}", message());
    assert!(h.is_null());
    let first = create(&cfg).unwrap();
    assert_eq!(unsafe { cohort_engine_close(first) }, CohortStatus::Ok);
    let (st, a) = open_shared();
    assert_eq!(st, CohortStatus::Ok, "{}", message());
    let (_, b) = open_shared();
    assert_ne!(a, b, "each open is a handle of its own");
    let ea = handle::get("t", a).unwrap();
    assert!(
        Arc::ptr_eq(&ea, &handle::get("t", b).unwrap()),
        "one engine behind both"
    );
    assert_eq!(unsafe { cohort_engine_close(a) }, CohortStatus::Ok);
    assert_eq!(unsafe { cohort_engine_close(b) }, CohortStatus::Ok);
    assert_eq!(
        unsafe { cohort_engine_close(b) },
        CohortStatus::ClosedHandle
    );
    // Closing every handle keeps the engine for the next open of the same config.
    let (_, c) = open_shared();
    assert!(
        Arc::ptr_eq(&ea, &handle::get("t", c).unwrap()),
        "reused after close"
    );
    assert_eq!(unsafe { cohort_engine_close(c) }, CohortStatus::Ok);
    // A new key (rotation) opens afresh, and so does an edited config.
    cohort_core::config::create_key_file(&keys, "k2").unwrap();
    let (_, d) = open_shared();
    let ed = handle::get("t", d).unwrap();
    assert!(!Arc::ptr_eq(&ea, &ed), "a key was added: a fresh engine");
    assert_eq!(ed.keyring().current(), Some("k1"));
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("current = \"k1\"", "current = \"k2\"");
    std::fs::write(&cfg, text).unwrap();
    let (_, e) = open_shared();
    let ee = handle::get("t", e).unwrap();
    assert!(!Arc::ptr_eq(&ed, &ee), "the config changed: a fresh engine");
    assert_eq!(ee.keyring().current(), Some("k2"));
    for h in [d, e] {
        assert_eq!(unsafe { cohort_engine_close(h) }, CohortStatus::Ok);
    }
}

#[test]
fn open_needs_an_existing_database_and_create_makes_one() {
    let _g = shared();
    let dir = tempfile::tempdir().unwrap();
    cohort_core::config::create_key_file(&dir.path().join("keys"), "k1").unwrap();
    let cfg = dir.path().join("cohort.toml");
    std::fs::write(&cfg, cohort_core::config::template("k1")).unwrap();
    let db = dir.path().join("cohort.db");
    let e = open(&cfg).unwrap_err();
    assert_eq!(e.0, CohortStatus::Io);
    assert!(
        e.1.contains("no database") && e.1.contains("cohort_engine_create"),
        "{}",
        e.1
    );
    assert!(!db.exists(), "a refused open created the database");
    let h = create(&cfg).unwrap();
    assert!(db.exists());
    assert_eq!(unsafe { cohort_engine_close(h) }, CohortStatus::Ok);
    let h = open(&cfg).unwrap();
    assert_eq!(unsafe { cohort_engine_close(h) }, CohortStatus::Ok);
    // A truncated database is refused by both, and stays as it is. (A config of its own, whose
    // database file no SQLite connection ever had open: only SQLite touches a live database's
    // files.)
    let truncated = dir.path().join("truncated.toml");
    let text = cohort_core::config::template("k1")
        .replace("database = \"cohort.db\"", "database = \"truncated.db\"");
    assert!(text.contains("truncated.db"));
    std::fs::write(&truncated, text).unwrap();
    let empty = dir.path().join("truncated.db");
    std::fs::write(&empty, b"").unwrap();
    for e in [
        open(&truncated).unwrap_err(),
        create(&truncated).unwrap_err(),
    ] {
        assert_eq!(e.0, CohortStatus::Io);
        assert!(e.1.contains("empty"), "{}", e.1);
    }
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
}

#[test]
fn threads_share_an_engine_and_keep_their_own_errors() {
    let fx = seeded();
    invite(&fx, OWNER, "1042", "t@acme.example", "\"all\"", 0).unwrap();
    let h = fx.engine as usize;
    let workers: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let h = h as *const CohortEngine;
                for _ in 0..200 {
                    let (e, el) = s(OWNER);
                    let (a, al) = s("1042");
                    let (k, kl) = s("invoices");
                    let mut allowed = false;
                    assert_eq!(
                        unsafe { cohort_permission_check(h, a, al, e, el, k, kl, &mut allowed) },
                        CohortStatus::Ok
                    );
                    assert!(allowed);
                    let acct = format!("missing-{i}");
                    let (m, ml) = s(&acct);
                    let mut out = null_mut();
                    assert_eq!(
                        unsafe { cohort_member_list(h, m, ml, &mut out) },
                        CohortStatus::NotFound
                    );
                    assert_eq!(message(), format!("account missing-{i} not found"));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn a_close_racing_calls_lets_them_finish() {
    let fx = Fixture::new();
    let p = fx.dir.path().join("cohort.toml");
    let h = open(&p).unwrap() as usize;
    let workers: Vec<_> = (0..3)
        .map(|_| {
            std::thread::spawn(move || {
                let mut closed_seen = false;
                for _ in 0..500 {
                    let mut out = null_mut();
                    match unsafe { cohort_permission_list(h as *const CohortEngine, &mut out) } {
                        CohortStatus::Ok => unsafe { cohort_string_free(out) },
                        CohortStatus::ClosedHandle => closed_seen = true,
                        other => panic!("unexpected {other:?}"),
                    }
                }
                closed_seen
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1));
    assert_eq!(
        unsafe { cohort_engine_close(h as *mut CohortEngine) },
        CohortStatus::Ok
    );
    for w in workers {
        w.join().unwrap();
    }
    let mut out = null_mut();
    assert_eq!(
        unsafe { cohort_permission_list(h as *const CohortEngine, &mut out) },
        CohortStatus::ClosedHandle
    );
}

#[test]
fn engines_are_released_on_close() {
    let fx = Fixture::new();
    let p = fx.dir.path().join("cohort.toml");
    let hs: Vec<_> = (0..5).map(|_| open(&p).unwrap()).collect();
    for &h in &hs {
        assert!(handle::is_open(h));
        assert_eq!(unsafe { cohort_engine_close(h) }, CohortStatus::Ok);
        assert!(!handle::is_open(h));
    }
    assert!(handle::is_open(fx.engine));
}

/// What the test logger received, through `user_data`: (level, script, line, event, message).
type Received = std::sync::Mutex<Vec<(i32, String, u32, String, String)>>;

unsafe extern "C" fn collect(user_data: *mut std::ffi::c_void, r: *const CohortLogRecord) {
    let got = unsafe { &*(user_data as *const Received) };
    let r = unsafe { &*r };
    let text = |p: *const c_char, n: usize| {
        assert_eq!(unsafe { *p.add(n) }, 0, "NUL-terminated");
        let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) };
        String::from_utf8(b.to_vec()).unwrap()
    };
    assert!(r.time_ms > 1_700_000_000_000, "wall-clock milliseconds");
    got.lock().unwrap().push((
        r.level,
        text(r.script, r.script_len),
        r.line,
        text(r.event, r.event_len),
        text(r.message, r.message_len),
    ));
}

#[test]
fn a_logger_receives_the_records_of_hooks() {
    let _g = shared();
    let dir = tempfile::tempdir().unwrap();
    cohort_core::config::create_key_file(&dir.path().join("keys"), "k1").unwrap();
    std::fs::create_dir(dir.path().join("hooks")).unwrap();
    std::fs::copy(
        workspace_root().join("hooks/60-activity-log.lua"),
        dir.path().join("hooks/60-activity-log.lua"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("hooks/70-debug.lua"),
        "cohort.on('after_invite', function(ev) cohort.log('debug', 'detail') end)\n",
    )
    .unwrap();
    let cfg = dir.path().join("cohort.toml");
    let text = cohort_core::config::template("k1") + "\n[hooks]\ndir = \"hooks\"\n";
    std::fs::write(&cfg, text).unwrap();
    let fx = seed(Fixture {
        engine: create(&cfg).unwrap(),
        dir,
        _guard: None,
    });
    let got: Received = std::sync::Mutex::new(Vec::new());
    let ud = &got as *const Received as *mut std::ffi::c_void;
    let set = |level: i32, cb: CohortLogCallback| unsafe {
        cohort_engine_set_logger(fx.e(), level, cb, ud)
    };
    assert_eq!(
        set(CohortLogLevel::Info as i32, Some(collect)),
        CohortStatus::Ok
    );
    invite(&fx, OWNER, "1042", "dev@acme.example", "\"all\"", 0).unwrap();
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1, "debug is below info: {got:?}");
        let (level, script, line, event, message) = &got[0];
        assert_eq!(*level, 3);
        assert_eq!(script, "60-activity-log.lua");
        assert!(*line > 0);
        assert_eq!(event, "after_invite");
        assert_eq!(
            message,
            "invite account=1042 actor=owner@acme.example target=dev@acme.example permissions=all"
        );
    }
    assert_eq!(set(4, Some(collect)), CohortStatus::Ok);
    invite(&fx, OWNER, "1042", "dev2@acme.example", "\"all\"", 0).unwrap();
    assert_eq!(got.lock().unwrap().len(), 3, "debug included");
    assert_eq!(got.lock().unwrap()[2].4, "detail");

    // A level that is not one, a NULL or closed engine: refused, the logger unchanged.
    assert_eq!(set(0, Some(collect)), CohortStatus::InvalidArgument);
    assert!(message().contains("`level`"), "{}", message());
    assert_eq!(
        unsafe { cohort_engine_set_logger(null(), 3, Some(collect), ud) },
        CohortStatus::NullArgument
    );
    let closed = create(&cfg).unwrap();
    unsafe { cohort_engine_close(closed) };
    assert_eq!(
        unsafe { cohort_engine_set_logger(closed, 3, Some(collect), ud) },
        CohortStatus::ClosedHandle
    );
    invite(&fx, OWNER, "1042", "dev3@acme.example", "\"all\"", 0).unwrap();
    assert_eq!(got.lock().unwrap().len(), 5);

    // NULL removes it.
    assert_eq!(set(99, None), CohortStatus::Ok);
    invite(&fx, OWNER, "1042", "dev4@acme.example", "\"all\"", 0).unwrap();
    assert_eq!(got.lock().unwrap().len(), 5);
    drop(fx);
}

#[test]
fn status_names_and_version() {
    let name = |n: i32| {
        unsafe { CStr::from_ptr(cohort_status_name(n)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "ok");
    assert_eq!(name(28), "token_expired");
    assert_eq!(name(104), "closed_handle");
    assert_eq!(name(16), "unknown");
    assert_eq!(name(-7), "unknown");
    let v = unsafe { CStr::from_ptr(cohort_version()) }
        .to_str()
        .unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        v,
        format!("{COHORT_VERSION_MAJOR}.{COHORT_VERSION_MINOR}.{COHORT_VERSION_PATCH}")
    );
    assert_eq!(v, cohort_core::VERSION);
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn version_agrees_with_cargo_toml_and_the_header() {
    let cargo = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let cargo: toml::Value = toml::from_str(&cargo).unwrap();
    let cargo_version = cargo["workspace"]["package"]["version"].as_str().unwrap();
    let header = std::fs::read_to_string(workspace_root().join("ffi/include/cohort.h")).unwrap();
    let define = |name: &str| -> String {
        let prefix = format!("#define {name} ");
        header
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("cohort.h lacks {name}; regenerate it"))
            .trim()
            .to_string()
    };
    let header_version = format!(
        "{}.{}.{}",
        define("COHORT_VERSION_MAJOR"),
        define("COHORT_VERSION_MINOR"),
        define("COHORT_VERSION_PATCH")
    );
    let function = unsafe { CStr::from_ptr(cohort_version()) }
        .to_str()
        .unwrap();
    assert_eq!(header_version, cargo_version, "cohort.h vs Cargo.toml");
    assert_eq!(function, cargo_version, "cohort_version() vs Cargo.toml");
}

#[test]
fn the_header_declares_every_status_with_its_number() {
    let header = std::fs::read_to_string(workspace_root().join("ffi/include/cohort.h")).unwrap();
    for st in CohortStatus::ALL {
        let line = format!(
            "COHORT_STATUS_{} = {},",
            st.name().to_ascii_uppercase(),
            st.number()
        );
        assert!(header.contains(&line), "cohort.h lacks `{line}`");
    }
    let php = std::fs::read_to_string(workspace_root().join("ffi/include/cohort_php.h")).unwrap();
    assert!(
        !php.contains('#'),
        "cohort_php.h must be free of preprocessor lines"
    );
    assert!(
        !php.contains("cohort_test_panic"),
        "the test-only export stays out of the PHP header"
    );
    for f in [
        "cohort_engine_open",
        "cohort_engine_create",
        "cohort_permission_check",
        "cohort_string_free",
    ] {
        assert!(
            header.contains(&format!("{f}(")),
            "{f} missing from cohort.h"
        );
        assert!(
            php.contains(&format!("{f}(")),
            "{f} missing from cohort_php.h"
        );
    }
}
