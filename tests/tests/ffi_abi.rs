//! The built `libcohort.so`, loaded with libloading the way a panel loads it: the whole seed flow
//! and every misuse the C ABI promises to survive.
//!
//! The library is built first (`cargo build -p cohort-ffi --release --features test-panic`, a
//! no-op when up to date), so these tests never run against a stale or missing `.so`.

use cohort_integration::{target_dir, workspace_root};
use libloading::Library;
use serde_json::Value;
use std::ffi::{c_char, c_void, CStr};
use std::path::{Path, PathBuf};
use std::ptr::{null, null_mut};
use std::sync::{OnceLock, RwLock, RwLockReadGuard};

type Handle = *mut c_void;
type Out = *mut *mut c_char;
/// A JSON result, or the status and message of the failure.
type Answer = Result<Value, (i32, String)>;

// Status numbers, as in cohort.h (checked against the header below).
const OK: i32 = 0;
const INVALID_ARGUMENT: i32 = 1;
const UNKNOWN_PERMISSION: i32 = 3;
const EMPTY_PERMISSIONS: i32 = 4;
const NOT_FOUND: i32 = 5;
const NOT_OWNER: i32 = 6;
const PENDING_INVITE_EXISTS: i32 = 8;
const OWNER_PROTECTED: i32 = 10;
const EMAIL_MISMATCH: i32 = 11;
const USER_EXISTS: i32 = 13;
const TOKEN_EXPIRED: i32 = 28;
const TOKEN_SUPERSEDED: i32 = 31;
const TOKEN_ALREADY_USED: i32 = 32;
const TOKEN_CANCELLED: i32 = 33;
const NULL_ARGUMENT: i32 = 100;
const INVALID_UTF8: i32 = 101;
const INTERIOR_NUL: i32 = 102;
const INPUT_TOO_LARGE: i32 = 103;
const CLOSED_HANDLE: i32 = 104;
const PANIC: i32 = 105;
const INVALID_JSON: i32 = 106;

macro_rules! api {
    ($($name:ident: fn($($arg:ty),* $(,)?) -> $ret:ty;)*) => {
        #[allow(non_snake_case)]
        struct Api {
            $($name: unsafe extern "C" fn($($arg),*) -> $ret,)*
        }

        impl Api {
            fn load(lib: &Library) -> Api {
                Api {
                    $($name: unsafe {
                        *lib.get::<unsafe extern "C" fn($($arg),*) -> $ret>(
                            concat!(stringify!($name), "\0").as_bytes(),
                        )
                        .unwrap_or_else(|e| panic!("{} is not exported: {e}", stringify!($name)))
                    },)*
                }
            }
        }
    };
}

api! {
    cohort_version: fn() -> *const c_char;
    cohort_status_name: fn(i32) -> *const c_char;
    cohort_error_message: fn(Out) -> i32;
    cohort_string_free: fn(*mut c_char) -> ();
    cohort_library_set_input_limit: fn(usize) -> i32;
    cohort_library_input_limit: fn() -> usize;
    cohort_test_panic: fn() -> i32;
    cohort_engine_open: fn(*const c_char, usize, *mut Handle) -> i32;
    cohort_engine_create: fn(*const c_char, usize, *mut Handle) -> i32;
    cohort_engine_close: fn(Handle) -> i32;
    cohort_account_upsert: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_account_get: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_account_transfer: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_user_upsert: fn(Handle, *const c_char, usize, *const c_char, usize, i32, Out) -> i32;
    cohort_user_get: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_user_login: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_user_accounts: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_invite_create: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, *const c_char, usize, i64, Out) -> i32;
    cohort_invite_pending: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_invite_get: fn(Handle, i64, Out) -> i32;
    cohort_invite_resend: fn(Handle, *const c_char, usize, i64, i64, Out) -> i32;
    cohort_invite_cancel: fn(Handle, *const c_char, usize, i64, Out) -> i32;
    cohort_invite_inspect: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_token_verify: fn(Handle, *const c_char, usize, *mut i64, *mut i64) -> i32;
    cohort_invite_accept: fn(Handle, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_invite_accept_register: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_invite_decline: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_invite_expire_due: fn(Handle, *mut usize) -> i32;
    cohort_member_list: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_member_set_permissions: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_member_revoke: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize) -> i32;
    cohort_permission_check: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, *mut bool) -> i32;
    cohort_permission_list: fn(Handle, Out) -> i32;
    cohort_audit_list: fn(Handle, *const c_char, usize, i64, u32, Out) -> i32;
    cohort_member_leave: fn(Handle, *const c_char, usize, *const c_char, usize) -> i32;
    cohort_contact_list: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_contact_get: fn(Handle, i64, Out) -> i32;
    cohort_contact_add: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_contact_update: fn(Handle, *const c_char, usize, i64, *const c_char, usize, Out) -> i32;
    cohort_contact_delete: fn(Handle, *const c_char, usize, i64, Out) -> i32;
    cohort_member_set_notifications: fn(Handle, *const c_char, usize, *const c_char, usize, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_notification_recipients: fn(Handle, *const c_char, usize, *const c_char, usize, Out) -> i32;
    cohort_audit_query: fn(Handle, *const c_char, usize, Out) -> i32;
    cohort_engine_set_logger: fn(Handle, i32, Option<LogFn>, *mut c_void) -> i32;
}

/// `CohortLogRecord` of cohort.h, as a C program declares it.
#[repr(C)]
struct LogRecord {
    level: i32,
    time_ms: i64,
    script: *const c_char,
    script_len: usize,
    line: u32,
    event: *const c_char,
    event_len: usize,
    message: *const c_char,
    message_len: usize,
}

type LogFn = unsafe extern "C" fn(*mut c_void, *const LogRecord);

/// Builds the shared library with the test-only `cohort_test_panic` export once per test process,
/// into a target directory of its own (`<target>/test-panic`), so that the
/// `<target>/release/libcohort.so` that ships never carries it; returns its path.
fn library_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let dir = target_dir().join("test-panic");
        let status = std::process::Command::new(cargo)
            .current_dir(workspace_root())
            .args([
                "build",
                "-p",
                "cohort-ffi",
                "--release",
                "--locked",
                "--features",
                "test-panic",
                "--target-dir",
            ])
            .arg(&dir)
            .status()
            .expect("run cargo build for cohort-ffi");
        assert!(status.success(), "building libcohort.so failed");
        let path = dir.join("release").join("libcohort.so");
        assert!(path.is_file(), "{} was not built", path.display());
        path
    })
}

fn api() -> &'static Api {
    static API: OnceLock<(Library, Api)> = OnceLock::new();
    &API.get_or_init(|| {
        // SAFETY: loading our own library, whose initialisers are Rust's (no global side effects).
        let lib = unsafe { Library::new(library_path()) }.expect("load libcohort.so");
        let api = Api::load(&lib);
        (lib, api)
    })
    .1
}

/// The input limit is process-wide: the test that changes it runs alone.
static LIMIT: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    LIMIT.read().unwrap_or_else(|p| p.into_inner())
}

fn s(x: &str) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

fn b(x: &[u8]) -> (*const c_char, usize) {
    (x.as_ptr().cast(), x.len())
}

fn message() -> String {
    let a = api();
    let mut m = null_mut();
    assert_eq!(unsafe { (a.cohort_error_message)(&mut m) }, OK);
    let text = unsafe { CStr::from_ptr(m) }.to_string_lossy().into_owned();
    unsafe { (a.cohort_string_free)(m) };
    text
}

/// Runs a JSON-returning call; on failure checks the output was left alone.
fn call(f: impl FnOnce(Out) -> i32) -> Answer {
    let sentinel = 0x5a5a as *mut c_char;
    let mut out = sentinel;
    let st = f(&mut out);
    if st != OK {
        assert_eq!(
            out, sentinel,
            "output written although the call failed ({st})"
        );
        return Err((st, message()));
    }
    assert!(!out.is_null());
    let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
    unsafe { (api().cohort_string_free)(out) };
    Ok(serde_json::from_str(&text).expect("JSON output"))
}

struct Panel {
    dir: tempfile::TempDir,
    h: Handle,
}

impl Panel {
    fn new() -> Panel {
        Panel::with(|_| String::new())
    }

    /// A panel whose config is the template plus what `extra` adds, given the directory.
    fn with(extra: impl FnOnce(&Path) -> String) -> Panel {
        let dir = tempfile::tempdir().unwrap();
        cohort_core::config::create_key_file(&dir.path().join("keys"), "k1").unwrap();
        std::fs::write(
            dir.path().join("cohort.toml"),
            cohort_core::config::template("k1") + &extra(dir.path()),
        )
        .unwrap();
        let h = create(&dir.path().join("cohort.toml")).expect("create");
        Panel { dir, h }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("cohort.toml")
    }

    /// The same database through the core, to check the rows a call left behind.
    fn core(&self) -> cohort_core::Engine {
        cohort_core::Engine::open_path(self.config()).unwrap()
    }

    fn account(&self, id: &str, name: &str, owner: &str) -> Answer {
        let (i, il) = s(id);
        let (n, nl) = s(name);
        let (o, ol) = s(owner);
        call(|out| unsafe { (api().cohort_account_upsert)(self.h, i, il, n, nl, o, ol, out) })
    }

    fn invite(&self, actor: &str, acct: &str, email: &str, perms: &str, ttl: i64) -> Answer {
        let (a, al) = s(actor);
        let (c, cl) = s(acct);
        let (e, el) = s(email);
        let (p, pl) = s(perms);
        call(|out| unsafe {
            (api().cohort_invite_create)(self.h, a, al, c, cl, e, el, p, pl, ttl, out)
        })
    }

    fn inspect(&self, token: &str) -> Value {
        let (t, tl) = s(token);
        call(|out| unsafe { (api().cohort_invite_inspect)(self.h, t, tl, out) }).unwrap()
    }

    fn accept(&self, token: &str, email: &str) -> Answer {
        let (t, tl) = s(token);
        let (e, el) = s(email);
        call(|out| unsafe { (api().cohort_invite_accept)(self.h, t, tl, e, el, out) })
    }

    fn check(&self, acct: &str, email: &str, key: &str) -> Result<bool, (i32, String)> {
        let (a, al) = s(acct);
        let (e, el) = s(email);
        let (k, kl) = s(key);
        let mut allowed = false;
        match unsafe { (api().cohort_permission_check)(self.h, a, al, e, el, k, kl, &mut allowed) }
        {
            OK => Ok(allowed),
            st => Err((st, message())),
        }
    }

    fn members(&self, acct: &str) -> Vec<Value> {
        let (a, al) = s(acct);
        call(|out| unsafe { (api().cohort_member_list)(self.h, a, al, out) })
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        unsafe { (api().cohort_engine_close)(self.h) };
    }
}

fn open(config: &Path) -> Result<Handle, (i32, String)> {
    open_with(api().cohort_engine_open, config)
}

fn create(config: &Path) -> Result<Handle, (i32, String)> {
    open_with(api().cohort_engine_create, config)
}

fn open_with(
    f: unsafe extern "C" fn(*const c_char, usize, *mut Handle) -> i32,
    config: &Path,
) -> Result<Handle, (i32, String)> {
    let p = config.to_str().unwrap();
    let mut h: Handle = null_mut();
    match unsafe { f(p.as_ptr().cast(), p.len(), &mut h) } {
        OK => Ok(h),
        st => {
            assert!(h.is_null());
            Err((st, message()))
        }
    }
}

const OWNER: &str = "owner@acme.example";
const ACCT: &str = "1042";

fn seeded() -> Panel {
    let p = Panel::new();
    let acct = p.account(ACCT, "Acme Ltd", OWNER).unwrap();
    assert_eq!(acct["owner"], OWNER);
    p
}

#[test]
fn the_seed_flow_through_the_shared_library() {
    let _g = shared();
    let a = api();
    let p = seeded();
    let (ac, acl) = s(ACCT);
    let (o, ol) = s(OWNER);

    // A login that already exists, with 2FA on.
    let (e, el) = s("dana@acme.example");
    let (n, nl) = s("Dana Dev");
    let dana = call(|out| unsafe { (a.cohort_user_upsert)(p.h, e, el, n, nl, 1, out) }).unwrap();
    assert_eq!(dana["two_factor"], true);

    // Invite with all permissions and with chosen ones.
    let all = p
        .invite(OWNER, ACCT, "dana@acme.example", "\"all\"", 0)
        .unwrap();
    assert_eq!(all["invite"]["permissions"], "all");
    assert_eq!(all["email"]["to"], "dana@acme.example");
    assert!(all["link"]
        .as_str()
        .unwrap()
        .ends_with(all["token"].as_str().unwrap()));
    let chosen = p
        .invite(
            OWNER,
            ACCT,
            "bo@acme.example",
            r#"["tickets","invoices"]"#,
            0,
        )
        .unwrap();
    assert_eq!(
        chosen["invite"]["permissions"],
        serde_json::json!(["invoices", "tickets"])
    );
    assert!(chosen["email"]["body"]
        .as_str()
        .unwrap()
        .contains("View & Pay Invoices"));

    // Pending list.
    let pending = call(|out| unsafe { (a.cohort_invite_pending)(p.h, ac, acl, out) }).unwrap();
    let mut emails: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    emails.sort_unstable();
    assert_eq!(emails, ["bo@acme.example", "dana@acme.example"]);
    assert!(pending
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "pending"));

    // Inspect: Login for Dana (has a login), Register for Bo.
    let seen = p.inspect(all["link"].as_str().unwrap());
    assert_eq!(
        (seen["valid"].clone(), seen["has_login"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );
    assert_eq!(seen["account_name"], "Acme Ltd");
    assert_eq!(seen["invited_by"], OWNER);
    let seen = p.inspect(chosen["token"].as_str().unwrap());
    assert_eq!(seen["has_login"], false);
    let (t, tl) = s(chosen["token"].as_str().unwrap());
    let (mut id, mut expires) = (0i64, 0i64);
    assert_eq!(
        unsafe { (a.cohort_token_verify)(p.h, t, tl, &mut id, &mut expires) },
        OK
    );
    assert_eq!(Some(id), chosen["invite"]["id"].as_i64());
    assert_eq!(Some(expires), chosen["invite"]["expires_at"].as_i64());

    // Accept with the existing login; register with the other invite.
    let m = p
        .accept(all["token"].as_str().unwrap(), "dana@acme.example")
        .unwrap();
    assert_eq!(m["permissions"], "all");
    let (be, bel) = s("bo@acme.example");
    let (bn, bnl) = s("Bo Books");
    let bo =
        call(|out| unsafe { (a.cohort_invite_accept_register)(p.h, t, tl, be, bel, bn, bnl, out) })
            .unwrap();
    assert_eq!(bo["name"], "Bo Books");
    assert_eq!(bo["invited_by"], OWNER);
    let e = p
        .accept(all["token"].as_str().unwrap(), "dana@acme.example")
        .unwrap_err();
    assert_eq!(e.0, TOKEN_ALREADY_USED, "{}", e.1);

    // Members, and the state behind them as the core sees it.
    let table = p.members(ACCT);
    assert_eq!(table.len(), 3);
    assert_eq!(table[0]["email"], OWNER);
    assert_eq!(table[0]["role"], "owner");
    let core = p.core();
    let rows = core.members(ACCT).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(core.pending(ACCT).unwrap().is_empty());

    // Last login.
    let logged = call(|out| unsafe { (a.cohort_user_login)(p.h, be, bel, out) }).unwrap();
    assert!(logged["last_login"].is_i64());
    let bo_row = p
        .members(ACCT)
        .into_iter()
        .find(|m| m["email"] == "bo@acme.example")
        .unwrap();
    assert_eq!(bo_row["last_login"], logged["last_login"]);

    // Check and permissions change.
    assert!(p.check(ACCT, "bo@acme.example", "tickets").unwrap());
    assert!(!p.check(ACCT, "bo@acme.example", "domains").unwrap());
    assert!(p.check(ACCT, "dana@acme.example", "domains").unwrap());
    assert!(!p.check(ACCT, "stranger@acme.example", "tickets").unwrap());
    let (perm, perml) = s(r#"["domains","managedomains"]"#);
    let changed = call(|out| unsafe {
        (a.cohort_member_set_permissions)(p.h, o, ol, ac, acl, be, bel, perm, perml, out)
    })
    .unwrap();
    assert_eq!(
        changed["permissions"],
        serde_json::json!(["domains", "managedomains"])
    );
    assert!(p.check(ACCT, "bo@acme.example", "managedomains").unwrap());
    assert!(!p.check(ACCT, "bo@acme.example", "tickets").unwrap());
    assert!(
        !core.check(ACCT, "bo@acme.example", "tickets").unwrap(),
        "the database agrees"
    );
    let switch = call(|out| unsafe { (a.cohort_user_accounts)(p.h, be, bel, out) }).unwrap();
    assert_eq!(switch[0]["account_id"], ACCT);
    assert_eq!(switch[0]["role"], "member");

    // Revoke: access gone, the login remains.
    assert_eq!(
        unsafe { (a.cohort_member_revoke)(p.h, o, ol, ac, acl, be, bel) },
        OK
    );
    assert!(!p.check(ACCT, "bo@acme.example", "managedomains").unwrap());
    assert_eq!(p.members(ACCT).len(), 2);
    let bo_user = call(|out| unsafe { (a.cohort_user_get)(p.h, be, bel, out) }).unwrap();
    assert_eq!(bo_user["name"], "Bo Books");
    assert!(core.user("bo@acme.example").is_ok());

    // An invite that expires, is listed as expired, and is revived by resend.
    let short = p
        .invite(OWNER, ACCT, "cy@acme.example", r#"["emails"]"#, 1)
        .unwrap();
    let id = short["invite"]["id"].as_i64().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let e = p
        .accept(short["token"].as_str().unwrap(), "cy@acme.example")
        .unwrap_err();
    assert!(e.0 == TOKEN_EXPIRED || e.0 == NOT_FOUND, "{e:?}");
    assert_eq!(
        p.inspect(short["token"].as_str().unwrap())["reason"],
        "expired"
    );
    let mut n = 0usize;
    assert_eq!(unsafe { (a.cohort_invite_expire_due)(p.h, &mut n) }, OK);
    assert_eq!(n, 1);
    let listed = call(|out| unsafe { (a.cohort_invite_pending)(p.h, ac, acl, out) }).unwrap();
    assert_eq!(listed[0]["status"], "expired");
    let resent = call(|out| unsafe { (a.cohort_invite_resend)(p.h, o, ol, id, 0, out) }).unwrap();
    assert_eq!(resent["invite"]["status"], "pending");
    assert_eq!(resent["invite"]["times_sent"], 2);
    // The old link is superseded, but it is also past its own expiry, and the token's time
    // window is judged first: expired, everywhere (as an offline verifier says).
    assert_eq!(
        p.inspect(short["token"].as_str().unwrap())["reason"],
        "expired"
    );
    let e = p
        .accept(short["token"].as_str().unwrap(), "cy@acme.example")
        .unwrap_err();
    assert_eq!(e.0, TOKEN_EXPIRED);
    let (st, sl) = s(short["token"].as_str().unwrap());
    let (mut vid, mut vexp) = (0i64, 0i64);
    assert_eq!(
        unsafe { (a.cohort_token_verify)(p.h, st, sl, &mut vid, &mut vexp) },
        TOKEN_EXPIRED
    );
    assert_eq!(p.inspect(resent["token"].as_str().unwrap())["valid"], true);
    // Sent once more: the second link, still in its time window, is superseded.
    let third = call(|out| unsafe { (a.cohort_invite_resend)(p.h, o, ol, id, 0, out) }).unwrap();
    assert_eq!(third["invite"]["times_sent"], 3);
    assert_eq!(
        p.inspect(resent["token"].as_str().unwrap())["reason"],
        "superseded"
    );
    let e = p
        .accept(resent["token"].as_str().unwrap(), "cy@acme.example")
        .unwrap_err();
    assert_eq!(e.0, TOKEN_SUPERSEDED);
    let resent = third;

    // Cancel it; the link dies.
    let cancelled = call(|out| unsafe { (a.cohort_invite_cancel)(p.h, o, ol, id, out) }).unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    let got = call(|out| unsafe { (a.cohort_invite_get)(p.h, id, out) }).unwrap();
    assert_eq!(got["status"], "cancelled");
    let (ce, cel) = s("cy@acme.example");
    let (cn, cnl) = s("Cy");
    let (rt, rtl) = s(resent["token"].as_str().unwrap());
    let e = call(|out| unsafe {
        (a.cohort_invite_accept_register)(p.h, rt, rtl, ce, cel, cn, cnl, out)
    })
    .unwrap_err();
    assert_eq!(e.0, TOKEN_CANCELLED);
    assert!(
        core.user("cy@acme.example").is_err(),
        "a refused registration creates no login"
    );

    // Decline.
    let d = p
        .invite(OWNER, ACCT, "di@acme.example", "\"all\"", 0)
        .unwrap();
    let (dt, dtl) = s(d["token"].as_str().unwrap());
    let declined = call(|out| unsafe { (a.cohort_invite_decline)(p.h, dt, dtl, out) }).unwrap();
    assert_eq!(declined["status"], "declined");

    // Transfer ownership to Dana.
    let (de, del) = s("dana@acme.example");
    let acct =
        call(|out| unsafe { (a.cohort_account_transfer)(p.h, o, ol, ac, acl, de, del, out) })
            .unwrap();
    assert_eq!(acct["owner"], "dana@acme.example");
    let got = call(|out| unsafe { (a.cohort_account_get)(p.h, ac, acl, out) }).unwrap();
    assert_eq!(got["owner"], "dana@acme.example");
    assert_eq!(
        core.account(ACCT).unwrap().owner.as_str(),
        "dana@acme.example"
    );

    // The audit trail tells the whole story, oldest first.
    let audit = call(|out| unsafe { (a.cohort_audit_list)(p.h, ac, acl, 0, 1000, out) }).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"account.create"));
    assert_eq!(actions.last(), Some(&"account.transfer"));
    for want in [
        "invite.create",
        "invite.accept",
        "member.permissions",
        "member.revoke",
        "invite.expire",
        "invite.resend",
        "invite.cancel",
        "invite.decline",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    let catalogue = call(|out| unsafe { (a.cohort_permission_list)(p.h, out) }).unwrap();
    let whmcs: Vec<&str> = catalogue
        .as_array()
        .unwrap()
        .iter()
        .take(13)
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    let builtin: Vec<&str> = cohort_core::permissions::BUILTIN
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(whmcs, builtin, "the 13 WHMCS keys come first, in order");
}

#[test]
fn contacts_notifications_and_leaving_through_the_library() {
    let _g = shared();
    let a = api();
    let p = seeded();
    let core = p.core();
    let (o, ol) = s(OWNER);
    let (ac, acl) = s(ACCT);
    let inv = p
        .invite(
            OWNER,
            ACCT,
            "dev@acme.example",
            r#"["invoices","contacts"]"#,
            0,
        )
        .unwrap();
    let (t, tl) = s(inv["token"].as_str().unwrap());
    let (d, dl) = s("dev@acme.example");
    let (n, nl) = s("Dev");
    call(|out| unsafe { (a.cohort_invite_accept_register)(p.h, t, tl, d, dl, n, nl, out) })
        .unwrap();

    // A member holding `contacts` manages contacts.
    let (c, cl) =
        s(r#"{"first_name":"Ann","email":"ann@books.example","notify":["invoice","domain"]}"#);
    let ann =
        call(|out| unsafe { (a.cohort_contact_add)(p.h, d, dl, ac, acl, c, cl, out) }).unwrap();
    let id = ann["id"].as_i64().unwrap();
    let (u, ul) = s(r#"{"company":"Books Ltd","notify":["invoice"]}"#);
    let ann = call(|out| unsafe { (a.cohort_contact_update)(p.h, o, ol, id, u, ul, out) }).unwrap();
    assert_eq!(ann["company"], "Books Ltd");
    assert_eq!(ann["notify"], serde_json::json!(["invoice"]));
    assert_eq!(
        core.contacts(ACCT).unwrap()[0].company,
        "Books Ltd",
        "stored"
    );
    let got = call(|out| unsafe { (a.cohort_contact_get)(p.h, id, out) }).unwrap();
    assert_eq!(got, ann);
    let list = call(|out| unsafe { (a.cohort_contact_list)(p.h, ac, acl, out) }).unwrap();
    assert_eq!(list[0]["email"], "ann@books.example");

    // Notification routing.
    let (k, kl) = s(r#"["invoice"]"#);
    let kinds = call(|out| unsafe {
        (a.cohort_member_set_notifications)(p.h, d, dl, ac, acl, d, dl, k, kl, out)
    })
    .unwrap();
    assert_eq!(kinds, serde_json::json!(["invoice"]));
    let (kind, kindl) = s("invoice");
    let to =
        call(|out| unsafe { (a.cohort_notification_recipients)(p.h, ac, acl, kind, kindl, out) })
            .unwrap();
    let sources: Vec<(&str, &str)> = to
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["email"].as_str().unwrap(), r["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sources,
        [
            (OWNER, "owner"),
            ("dev@acme.example", "member"),
            ("ann@books.example", "contact")
        ]
    );
    let (kind, kindl) = s("domain");
    let to =
        call(|out| unsafe { (a.cohort_notification_recipients)(p.h, ac, acl, kind, kindl, out) })
            .unwrap();
    assert_eq!(to.as_array().unwrap().len(), 1, "only the owner: {to}");

    // Delete the contact, then the member leaves; the login stays.
    call(|out| unsafe { (a.cohort_contact_delete)(p.h, o, ol, id, out) }).unwrap();
    assert!(core.contacts(ACCT).unwrap().is_empty());
    assert_eq!(unsafe { (a.cohort_member_leave)(p.h, ac, acl, d, dl) }, OK);
    assert!(!p.check(ACCT, "dev@acme.example", "invoices").unwrap());
    assert!(core.user("dev@acme.example").is_ok());
    assert_eq!(
        unsafe { (a.cohort_member_leave)(p.h, ac, acl, o, ol) },
        OWNER_PROTECTED
    );

    // Audit views by user and by account.
    let (q, ql) = s(r#"{"user":"dev@acme.example"}"#);
    let mine = call(|out| unsafe { (a.cohort_audit_query)(p.h, q, ql, out) }).unwrap();
    let actions: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "invite.accept",
        "contact.add",
        "member.notifications",
        "member.leave",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    let (q, ql) = s(r#"{"account":"1042","limit":2}"#);
    assert_eq!(
        call(|out| unsafe { (a.cohort_audit_query)(p.h, q, ql, out) })
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (q, ql) = s(r#"{"account":"1042","limit":"2"}"#);
    assert_eq!(
        call(|out| unsafe { (a.cohort_audit_query)(p.h, q, ql, out) })
            .unwrap_err()
            .0,
        INVALID_ARGUMENT
    );
}

#[test]
fn refusals_are_distinguishable_and_change_nothing() {
    let _g = shared();
    let a = api();
    let p = seeded();
    let core = p.core();
    let first = p
        .invite(OWNER, ACCT, "x@acme.example", "\"all\"", 0)
        .unwrap();
    let before = core.dump().unwrap();
    let cases: Vec<(i32, Answer)> = vec![
        (
            NOT_OWNER,
            p.invite("x@acme.example", ACCT, "y@acme.example", "\"all\"", 0),
        ),
        (
            UNKNOWN_PERMISSION,
            p.invite(OWNER, ACCT, "y@acme.example", r#"["billing"]"#, 0),
        ),
        (
            EMPTY_PERMISSIONS,
            p.invite(OWNER, ACCT, "y@acme.example", "[]", 0),
        ),
        (
            PENDING_INVITE_EXISTS,
            p.invite(OWNER, ACCT, "x@acme.example", "\"all\"", 0),
        ),
        (
            NOT_FOUND,
            p.invite(OWNER, "nope", "y@acme.example", "\"all\"", 0),
        ),
        (
            INVALID_ARGUMENT,
            p.invite(OWNER, ACCT, "y@acme.example", "{\"keys\":[]}", 0),
        ),
        (
            INVALID_JSON,
            p.invite(OWNER, ACCT, "y@acme.example", "[\"tickets\"", 0),
        ),
        (
            EMAIL_MISMATCH,
            p.accept(first["token"].as_str().unwrap(), OWNER),
        ),
    ];
    for (want, got) in cases {
        let (st, msg) = got.unwrap_err();
        assert_eq!(st, want, "{msg}");
        assert!(!msg.is_empty());
    }
    let (t, tl) = s(first["token"].as_str().unwrap());
    let (e, el) = s(OWNER);
    let (n, nl) = s("Owner Again");
    let st =
        call(|out| unsafe { (a.cohort_invite_accept_register)(p.h, t, tl, e, el, n, nl, out) })
            .unwrap_err();
    assert!(st.0 == EMAIL_MISMATCH || st.0 == USER_EXISTS, "{st:?}");
    let (o, ol) = s(OWNER);
    let (ac, acl) = s(ACCT);
    assert_eq!(
        unsafe { (a.cohort_member_revoke)(p.h, o, ol, ac, acl, o, ol) },
        OWNER_PROTECTED
    );
    assert!(message().contains("owns account 1042"), "{}", message());
    let e = p.check(ACCT, OWNER, "billing").unwrap_err();
    assert_eq!(e.0, UNKNOWN_PERMISSION);
    assert!(
        e.1.contains("billing") && e.1.contains("invoices"),
        "{}",
        e.1
    );
    // The messages are specific.
    let e = p
        .invite(OWNER, ACCT, "x@acme.example", "\"all\"", 0)
        .unwrap_err();
    assert!(
        e.1.contains(&format!(
            "invite {} to x@acme.example is already pending",
            first["invite"]["id"]
        )),
        "{}",
        e.1
    );
    assert_eq!(
        core.dump().unwrap(),
        before,
        "refused calls left the database unchanged"
    );
    assert_eq!(
        p.inspect(first["token"].as_str().unwrap())["valid"],
        true,
        "the invite stays pending"
    );
}

#[test]
fn every_misuse_is_a_status_code() {
    let _g = shared();
    let a = api();
    let p = seeded();
    let core = p.core();
    let before = core.dump().unwrap();
    let (o, ol) = s(OWNER);
    let (ac, acl) = s(ACCT);
    let (k, kl) = s("invoices");
    let mut allowed = false;

    // NULL engine, NULL argument, NULL output: each named.
    let e = call(|out| unsafe { (a.cohort_member_list)(null_mut(), ac, acl, out) }).unwrap_err();
    assert_eq!(e.0, NULL_ARGUMENT);
    assert!(e.1.contains("`engine`"), "{}", e.1);
    let e = call(|out| unsafe { (a.cohort_member_list)(p.h, null(), 4, out) }).unwrap_err();
    assert_eq!(
        e,
        (
            NULL_ARGUMENT,
            "cohort_member_list: argument `account_id` is NULL".into()
        )
    );
    assert_eq!(
        unsafe { (a.cohort_member_list)(p.h, ac, acl, null_mut()) },
        NULL_ARGUMENT
    );
    assert_eq!(
        unsafe { (a.cohort_permission_check)(p.h, ac, acl, o, ol, k, kl, null_mut()) },
        NULL_ARGUMENT
    );
    assert_eq!(
        unsafe { (a.cohort_permission_check)(p.h, null(), 0, o, ol, k, kl, &mut allowed) },
        NULL_ARGUMENT
    );
    assert_eq!(
        unsafe { (a.cohort_invite_expire_due)(p.h, null_mut()) },
        NULL_ARGUMENT
    );
    assert_eq!(
        unsafe { (a.cohort_error_message)(null_mut()) },
        NULL_ARGUMENT
    );
    let mut h: Handle = null_mut();
    assert_eq!(
        unsafe { (a.cohort_engine_open)(null(), 0, &mut h) },
        NULL_ARGUMENT
    );
    assert!(h.is_null());
    unsafe { (a.cohort_string_free)(null_mut()) };
    assert_eq!(unsafe { (a.cohort_engine_close)(null_mut()) }, OK);

    // Invalid UTF-8 and interior NUL, in an email, a name, a token and JSON.
    let (bad, badl) = b(b"dev@acme.ex\xc3(ample");
    let e = call(|out| unsafe { (a.cohort_user_get)(p.h, bad, badl, out) }).unwrap_err();
    assert_eq!(e.0, INVALID_UTF8);
    assert!(e.1.contains("`email`"), "{}", e.1);
    let (nul, null) = b(b"dev@acme.example\0attacker@evil.example");
    let (n, nl) = s("Dev");
    let e =
        call(|out| unsafe { (a.cohort_user_upsert)(p.h, nul, null, n, nl, -1, out) }).unwrap_err();
    assert_eq!(e.0, INTERIOR_NUL);
    assert!(e.1.contains("offset 16"), "{}", e.1);
    let (u, ul) = s("dev@acme.example");
    let (badname, badnamel) = b(b"D\xffv");
    let e = call(|out| unsafe { (a.cohort_user_upsert)(p.h, u, ul, badname, badnamel, -1, out) })
        .unwrap_err();
    assert_eq!(e.0, INVALID_UTF8);
    let (tok, tokl) = b(b"cohort1.k1.\0");
    let e = call(|out| unsafe { (a.cohort_invite_inspect)(p.h, tok, tokl, out) }).unwrap_err();
    assert_eq!(e.0, INTERIOR_NUL);
    let e = p
        .invite(OWNER, ACCT, "y@acme.example", "\"al\u{0}l\"", 0)
        .unwrap_err();
    assert_eq!(e.0, INTERIOR_NUL);
    let (pj, pjl) = b(b"[\"tick\xffets\"]");
    let (y, yl) = s("y@acme.example");
    let e = call(|out| unsafe {
        (a.cohort_invite_create)(p.h, o, ol, ac, acl, y, yl, pj, pjl, 0, out)
    })
    .unwrap_err();
    assert_eq!(e.0, INVALID_UTF8);
    let e = call(|out| unsafe { (a.cohort_user_upsert)(p.h, u, ul, n, nl, 7, out) }).unwrap_err();
    assert_eq!(e.0, INVALID_ARGUMENT);

    // Panics are caught, reported, and leave the library usable.
    assert_eq!(unsafe { (a.cohort_test_panic)() }, PANIC);
    let m = message();
    assert!(
        m.contains("cohort_test_panic") && m.contains("panic"),
        "{m}"
    );
    assert!(p.check(ACCT, OWNER, "invoices").unwrap());

    assert_eq!(core.dump().unwrap(), before, "no misuse wrote anything");
}

#[test]
fn closing_twice_and_using_after_close_are_statuses() {
    let _g = shared();
    let a = api();
    let p = seeded();
    let h = open(&p.config()).unwrap();
    let other = open(&p.config()).unwrap();
    assert_ne!(h, other);
    assert_eq!(unsafe { (a.cohort_engine_close)(h) }, OK);
    assert_eq!(unsafe { (a.cohort_engine_close)(h) }, CLOSED_HANDLE);
    assert!(message().contains("is closed"), "{}", message());
    let (ac, acl) = s(ACCT);
    let e = call(|out| unsafe { (a.cohort_member_list)(h, ac, acl, out) }).unwrap_err();
    assert_eq!(e.0, CLOSED_HANDLE);
    let mut allowed = true;
    let (o, ol) = s(OWNER);
    let (k, kl) = s("invoices");
    assert_eq!(
        unsafe { (a.cohort_permission_check)(h, ac, acl, o, ol, k, kl, &mut allowed) },
        CLOSED_HANDLE
    );
    assert!(allowed, "untouched on failure");
    // A forged handle is not dereferenced either.
    let forged = 0x7fff_dead_b000_usize as Handle;
    assert_eq!(unsafe { (a.cohort_engine_close)(forged) }, CLOSED_HANDLE);
    let e = call(|out| unsafe { (a.cohort_permission_list)(forged, out) }).unwrap_err();
    assert_eq!(e.0, CLOSED_HANDLE);
    // New handles never reuse a closed one's number; the other handle is unaffected.
    let again = open(&p.config()).unwrap();
    assert_ne!(again, h);
    assert_eq!(p.members(ACCT).len(), 1);
    assert!(call(|out| unsafe { (a.cohort_member_list)(other, ac, acl, out) }).is_ok());
    assert_eq!(unsafe { (a.cohort_engine_close)(other) }, OK);
    assert_eq!(unsafe { (a.cohort_engine_close)(again) }, OK);
}

#[test]
fn the_input_limit_defaults_to_one_mib_and_is_configurable() {
    let _alone = LIMIT.write().unwrap_or_else(|p| p.into_inner());
    let a = api();
    let p = seeded();
    assert_eq!(unsafe { (a.cohort_library_input_limit)() }, 1 << 20);
    let big = "x".repeat((1 << 20) + 1);
    let (t, tl) = s(&big);
    let e = call(|out| unsafe { (a.cohort_invite_inspect)(p.h, t, tl, out) }).unwrap_err();
    assert_eq!(e.0, INPUT_TOO_LARGE);
    assert!(e.1.contains("1048577 bytes"), "{}", e.1);
    let seen = call(|out| unsafe { (a.cohort_invite_inspect)(p.h, t, 1 << 20, out) }).unwrap();
    assert_eq!(seen["valid"], false, "at the limit the argument is read");
    assert_eq!(unsafe { (a.cohort_library_set_input_limit)(8) }, OK);
    let (ac, acl) = s(ACCT);
    assert!(call(|out| unsafe { (a.cohort_member_list)(p.h, ac, acl, out) }).is_ok());
    let (e1, e1l) = s("someone@acme.example");
    let e = call(|out| unsafe { (a.cohort_user_get)(p.h, e1, e1l, out) }).unwrap_err();
    assert_eq!(e.0, INPUT_TOO_LARGE);
    assert_eq!(
        unsafe { (a.cohort_library_set_input_limit)(0) },
        INVALID_ARGUMENT
    );
    assert_eq!(unsafe { (a.cohort_library_input_limit)() }, 8);
    assert_eq!(unsafe { (a.cohort_library_set_input_limit)(1 << 20) }, OK);
    assert_eq!(
        call(|out| unsafe { (a.cohort_user_get)(p.h, e1, e1l, out) })
            .unwrap_err()
            .0,
        NOT_FOUND
    );
}

#[test]
fn threads_share_one_handle_and_keep_their_own_last_error() {
    let _g = shared();
    let p = seeded();
    let h = p.h as usize;
    let workers: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let a = api();
                let h = h as Handle;
                for _ in 0..100 {
                    let (o, ol) = s(OWNER);
                    let (ac, acl) = s(ACCT);
                    let (k, kl) = s("orders");
                    let mut allowed = false;
                    assert_eq!(
                        unsafe {
                            (a.cohort_permission_check)(h, ac, acl, o, ol, k, kl, &mut allowed)
                        },
                        OK
                    );
                    assert!(allowed);
                    let missing = format!("missing-{i}");
                    let (m, ml) = s(&missing);
                    let mut out = null_mut();
                    assert_eq!(
                        unsafe { (a.cohort_member_list)(h, m, ml, &mut out) },
                        NOT_FOUND
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
fn concurrent_accepts_through_the_library_have_one_winner() {
    let _g = shared();
    let p = seeded();
    let config = p.config();
    for round in 0..5 {
        let email = format!("race{round}@acme.example");
        let (e, el) = s(&email);
        let (n, nl) = s("Racer");
        call(|out| unsafe { (api().cohort_user_upsert)(p.h, e, el, n, nl, -1, out) }).unwrap();
        let token = p.invite(OWNER, ACCT, &email, "\"all\"", 0).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let results: Vec<i32> = (0..8)
            .map(|_| {
                let (token, email, config) = (token.clone(), email.clone(), config.clone());
                std::thread::spawn(move || {
                    // Each thread its own engine, as separate PHP-FPM workers would have.
                    let h = open(&config).unwrap();
                    let (t, tl) = s(&token);
                    let (e, el) = s(&email);
                    let mut out = null_mut();
                    let st = unsafe { (api().cohort_invite_accept)(h, t, tl, e, el, &mut out) };
                    if st == OK {
                        unsafe { (api().cohort_string_free)(out) };
                    }
                    unsafe { (api().cohort_engine_close)(h) };
                    st
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(
            results.iter().filter(|&&s| s == OK).count(),
            1,
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .all(|&s| s == OK || s == TOKEN_ALREADY_USED || s == 61),
            "{results:?}"
        );
    }
    assert_eq!(p.members(ACCT).len(), 6);
}

#[test]
fn version_and_statuses_agree_with_cargo_toml_and_the_header() {
    let a = api();
    let version = unsafe { CStr::from_ptr((a.cohort_version)()) }
        .to_str()
        .unwrap();
    let cargo = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let in_cargo = cargo
        .split("[workspace.package]")
        .nth(1)
        .and_then(|sec| sec.lines().find_map(|l| l.trim().strip_prefix("version")))
        .map(|v| {
            v.trim()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"')
                .to_string()
        })
        .expect("workspace.package.version");
    assert_eq!(version, in_cargo);
    assert_eq!(version, cohort_core::VERSION);
    let header = std::fs::read_to_string(workspace_root().join("ffi/include/cohort.h")).unwrap();
    let define = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} missing"))
            .trim()
            .to_string()
    };
    assert_eq!(
        format!(
            "{}.{}.{}",
            define("COHORT_VERSION_MAJOR"),
            define("COHORT_VERSION_MINOR"),
            define("COHORT_VERSION_PATCH")
        ),
        in_cargo
    );
    // Every status of the header has the name the library gives it, and the numbers used in
    // these tests are the header's.
    let mut count = 0;
    for line in header.lines() {
        let Some(rest) = line.trim().strip_prefix("COHORT_STATUS_") else {
            continue;
        };
        let (name, num) = rest.trim_end_matches(',').split_once(" = ").unwrap();
        let num: i32 = num.parse().unwrap();
        let lib_name = unsafe { CStr::from_ptr((a.cohort_status_name)(num)) }
            .to_str()
            .unwrap();
        assert_eq!(lib_name.to_ascii_uppercase(), name, "status {num}");
        count += 1;
    }
    assert!(count >= 48, "{count} statuses in cohort.h");
    for (name, num) in [
        ("ok", OK),
        ("invalid_argument", INVALID_ARGUMENT),
        ("token_expired", TOKEN_EXPIRED),
        ("null_argument", NULL_ARGUMENT),
        ("invalid_utf8", INVALID_UTF8),
        ("interior_nul", INTERIOR_NUL),
        ("input_too_large", INPUT_TOO_LARGE),
        ("closed_handle", CLOSED_HANDLE),
        ("panic", PANIC),
        ("invalid_json", INVALID_JSON),
    ] {
        assert!(header.contains(&format!(
            "COHORT_STATUS_{} = {num},",
            name.to_ascii_uppercase()
        )));
    }
}

/// A logger as a C program writes one: `user_data` is its own state; the strings of the record
/// are copied during the call.
unsafe extern "C" fn keep_lines(user_data: *mut c_void, r: *const LogRecord) {
    let lines = unsafe { &*(user_data as *const std::sync::Mutex<Vec<String>>) };
    let r = unsafe { &*r };
    let text = |p: *const c_char, n: usize| {
        let t = unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string();
        assert_eq!(t.len(), n, "the length agrees with the NUL terminator");
        t
    };
    lines.lock().unwrap().push(format!(
        "{} {}:{} {} {}",
        r.level,
        text(r.script, r.script_len),
        r.line,
        text(r.event, r.event_len),
        text(r.message, r.message_len)
    ));
}

#[test]
fn a_logger_set_through_the_library_receives_the_activity_log() {
    let _g = shared();
    let panel = Panel::with(|dir| {
        std::fs::create_dir(dir.join("hooks")).unwrap();
        std::fs::copy(
            workspace_root().join("hooks/60-activity-log.lua"),
            dir.join("hooks/60-activity-log.lua"),
        )
        .unwrap();
        "\n[hooks]\ndir = \"hooks\"\n".into()
    });
    panel.account(ACCT, "Acme Ltd", OWNER).unwrap();
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let ud = &lines as *const _ as *mut c_void;
    let a = api();
    assert_eq!(
        unsafe { (a.cohort_engine_set_logger)(panel.h, 3, Some(keep_lines), ud) },
        OK
    );
    panel
        .invite(OWNER, ACCT, "dev@acme.example", "\"all\"", 0)
        .unwrap();
    {
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("3 60-activity-log.lua:"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].ends_with(
                " after_invite invite account=1042 actor=owner@acme.example target=dev@acme.example permissions=all"
            ),
            "{}",
            lines[0]
        );
    }
    assert_eq!(
        unsafe { (a.cohort_engine_set_logger)(panel.h, 7, Some(keep_lines), ud) },
        INVALID_ARGUMENT
    );
    assert_eq!(
        unsafe { (a.cohort_engine_set_logger)(panel.h, 0, None, null_mut()) },
        OK
    );
    panel
        .invite(OWNER, ACCT, "dev2@acme.example", "\"all\"", 0)
        .unwrap();
    assert_eq!(lines.lock().unwrap().len(), 1, "removed");
    drop(panel);
}
