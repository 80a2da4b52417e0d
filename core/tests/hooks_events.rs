//! Every operation fires its before- and after-event exactly once, with the documented data.

mod hooks_support;

use cohort_core::Permissions;
use hooks_support::*;
use serde_json::{json, Value};

/// A script that logs every event's `ev` as JSON, tagged so parallel tests keep apart.
fn recorder(tag: &str) -> String {
    format!(
        r#"
local TAG = "{tag}"
local function encode(v)
    local t = type(v)
    if t == "nil" then return "null" end
    if t == "boolean" or t == "number" then return tostring(v) end
    if t == "string" then
        return '"' .. v:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
    end
    local keys = {{}}
    for k in pairs(v) do table.insert(keys, k) end
    if #keys > 0 and #v == #keys then
        local out = {{}}
        for _, item in ipairs(v) do table.insert(out, encode(item)) end
        return "[" .. table.concat(out, ",") .. "]"
    end
    table.sort(keys)
    local out = {{}}
    for _, k in ipairs(keys) do table.insert(out, encode(k) .. ":" .. encode(v[k])) end
    return "{{" .. table.concat(out, ",") .. "}}"
end
for _, action in ipairs({{ "invite", "accept", "revoke", "resend", "cancel", "decline",
                          "permissions", "transfer", "expire", "login" }}) do
    for _, phase in ipairs({{ "before_", "after_" }}) do
        cohort.on(phase .. action, function(ev)
            cohort.log("info", TAG .. " " .. encode(ev))
        end)
    end
end
"#
    )
}

struct Rec {
    _scripts: tempfile::TempDir,
    h: HookedEngine,
    tag: String,
    seen: usize,
}

impl Rec {
    fn new(tag: &str) -> Rec {
        install_logger();
        let scripts = script_dir(&[("50-record.lua", &recorder(tag))]);
        let h = HookedEngine::new(scripts.path());
        h.engine
            .upsert_account(ACCOUNT, "Acme Ltd", OWNER)
            .expect("account");
        Rec {
            _scripts: scripts,
            h,
            tag: tag.into(),
            seen: 0,
        }
    }

    /// Events logged since the last call, as (name, ev).
    fn take(&mut self) -> Vec<(String, Value)> {
        let marker = format!("{} ", self.tag);
        let all: Vec<(String, Value)> = logged(&marker)
            .iter()
            .map(|line| {
                let json = &line[line.find(&marker).unwrap() + marker.len()..];
                let v: Value = serde_json::from_str(json).expect(json);
                (v["event"].as_str().unwrap().to_string(), v)
            })
            .collect();
        let out = all[self.seen..].to_vec();
        self.seen = all.len();
        out
    }

    /// Asserts that exactly `before_<action>` then `after_<action>` fired; returns their data.
    fn pair(&mut self, action: &str) -> (Value, Value) {
        let evs = self.take();
        let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [format!("before_{action}"), format!("after_{action}")],
            "{evs:#?}"
        );
        (evs[0].1.clone(), evs[1].1.clone())
    }
}

fn keys(list: &[&str]) -> Permissions {
    Permissions::Keys(list.iter().map(|s| s.to_string()).collect())
}

#[test]
fn invite_events() {
    let mut r = Rec::new("ev-invite");
    r.h.engine
        .upsert_user(OWNER, Some("Olive Owner"), Some(true))
        .unwrap();
    let sent =
        r.h.engine
            .invite(
                OWNER,
                ACCOUNT,
                "Dev@Acme.example",
                &keys(&["tickets", "invoices"]),
                Some(3600),
            )
            .unwrap();
    let (b, a) = r.pair("invite");
    assert_eq!(b["time"], T0);
    assert_eq!(
        b["account"],
        json!({"id": ACCOUNT, "name": "Acme Ltd", "owner": OWNER, "member_count": 1, "pending_invites": 0})
    );
    assert_eq!(b["actor"]["email"], OWNER);
    assert_eq!(b["actor"]["role"], "owner");
    assert_eq!(b["actor"]["two_factor"], true);
    assert_eq!(b["actor"]["name"], "Olive Owner");
    assert_eq!(b["email"], "dev@acme.example");
    assert_eq!(b["invitee"]["exists"], false);
    assert_eq!(b["permissions"], json!(["invoices", "tickets"]));
    assert_eq!(b["expires_at"], T0 + 3600);
    assert_eq!(b["ttl"], 3600);
    assert!(b.get("invite_id").is_none());

    assert_eq!(a["invite_id"], sent.invite.id);
    assert_eq!(a["invite"]["status"], "pending");
    assert_eq!(a["invite"]["id"], sent.invite.id);
    assert_eq!(a["account"]["pending_invites"], 1);
    assert_eq!(a["permissions"], json!(["invoices", "tickets"]));
    assert_eq!(a["expires_at"], T0 + 3600);
}

#[test]
fn accept_events() {
    let mut r = Rec::new("ev-accept");
    let sent =
        r.h.engine
            .invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
            .unwrap();
    r.h.engine
        .upsert_user("dev@acme.example", Some("Dee"), Some(true))
        .unwrap();
    r.take();
    r.h.engine.accept(&sent.link, "dev@acme.example").unwrap();
    let (b, a) = r.pair("accept");
    assert_eq!(b["invite_id"], sent.invite.id);
    assert_eq!(b["email"], "dev@acme.example");
    assert_eq!(b["invited_by"], OWNER);
    assert_eq!(b["permissions"], "all");
    assert_eq!(b["registering"], false);
    assert_eq!(b["user"]["email"], "dev@acme.example");
    assert_eq!(b["user"]["two_factor"], true);
    assert_eq!(b["user"]["exists"], true);
    assert_eq!(b["user"]["role"], Value::Null);
    assert_eq!(b["actor"], b["user"]);
    assert_eq!(b["account"]["member_count"], 1);
    assert_eq!(a["account"]["member_count"], 2);
    assert_eq!(a["user"]["role"], "member");
    assert_eq!(a["role"], "member");
    assert_eq!(a["invite"]["status"], "accepted");
    assert_eq!(a["registering"], false);
}

#[test]
fn accept_by_registering_events() {
    let mut r = Rec::new("ev-register");
    let sent =
        r.h.engine
            .invite(OWNER, ACCOUNT, "new@acme.example", &keys(&["emails"]), None)
            .unwrap();
    r.take();
    r.h.engine
        .accept_register(&sent.token, "new@acme.example", "Nia New")
        .unwrap();
    let (b, a) = r.pair("accept");
    assert_eq!(b["registering"], true);
    assert_eq!(b["user"]["exists"], false);
    assert_eq!(b["user"]["name"], "Nia New");
    assert_eq!(b["user"]["two_factor"], false);
    assert_eq!(b["permissions"], json!(["emails"]));
    assert_eq!(a["registering"], true);
    assert_eq!(a["user"]["exists"], true);
}

#[test]
fn decline_resend_cancel_events() {
    let mut r = Rec::new("ev-invites");
    let one =
        r.h.engine
            .invite(OWNER, ACCOUNT, "one@acme.example", &Permissions::All, None)
            .unwrap();
    let two =
        r.h.engine
            .invite(OWNER, ACCOUNT, "two@acme.example", &keys(&["quotes"]), None)
            .unwrap();
    r.take();

    r.h.engine.decline(&one.token).unwrap();
    let (b, a) = r.pair("decline");
    assert_eq!(b["invite_id"], one.invite.id);
    assert_eq!(b["email"], "one@acme.example");
    assert_eq!(b["actor"]["email"], "one@acme.example");
    assert_eq!(b["invite"]["status"], "pending");
    assert_eq!(a["invite"]["status"], "declined");

    r.h.clock.advance(60);
    r.h.engine.resend(OWNER, two.invite.id, Some(7200)).unwrap();
    let (b, a) = r.pair("resend");
    assert_eq!(b["invite_id"], two.invite.id);
    assert_eq!(b["previous_status"], "pending");
    assert_eq!(b["expires_at"], T0 + 60 + 7200);
    assert_eq!(b["ttl"], 7200);
    assert_eq!(b["invite"]["times_sent"], 1);
    assert_eq!(b["actor"]["role"], "owner");
    assert_eq!(a["invite"]["times_sent"], 2);
    assert_eq!(a["expires_at"], T0 + 60 + 7200);

    r.h.engine.cancel(OWNER, two.invite.id).unwrap();
    let (b, a) = r.pair("cancel");
    assert_eq!(b["invite_id"], two.invite.id);
    assert_eq!(b["permissions"], json!(["quotes"]));
    assert_eq!(a["invite"]["status"], "cancelled");
    assert_eq!(a["account"]["pending_invites"], 0);
}

#[test]
fn member_events() {
    let mut r = Rec::new("ev-members");
    let sent =
        r.h.engine
            .invite(
                OWNER,
                ACCOUNT,
                "dev@acme.example",
                &keys(&["tickets"]),
                None,
            )
            .unwrap();
    r.h.engine
        .accept_register(&sent.token, "dev@acme.example", "Dee")
        .unwrap();
    r.take();

    r.h.engine
        .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&["orders"]))
        .unwrap();
    let (b, a) = r.pair("permissions");
    assert_eq!(b["email"], "dev@acme.example");
    assert_eq!(b["old_permissions"], json!(["tickets"]));
    assert_eq!(b["permissions"], json!(["orders"]));
    assert_eq!(b["member"]["role"], "member");
    assert_eq!(a["permissions"], json!(["orders"]));

    r.h.engine
        .transfer_ownership(OWNER, ACCOUNT, "dev@acme.example")
        .unwrap();
    let (b, a) = r.pair("transfer");
    assert_eq!(b["email"], "dev@acme.example");
    assert_eq!(b["actor"]["email"], OWNER);
    assert_eq!(b["account"]["owner"], OWNER);
    assert_eq!(a["account"]["owner"], "dev@acme.example");
    assert_eq!(a["role"], "owner");

    r.h.engine
        .revoke("dev@acme.example", ACCOUNT, OWNER)
        .unwrap();
    let (b, a) = r.pair("revoke");
    assert_eq!(b["email"], OWNER);
    assert_eq!(b["permissions"], "all");
    assert_eq!(b["account"]["member_count"], 2);
    assert_eq!(a["account"]["member_count"], 1);
    assert_eq!(a["permissions"], "all");
    assert_eq!(a["member"]["role"], Value::Null);
}

#[test]
fn expire_and_login_events() {
    let mut r = Rec::new("ev-expire");
    let sent =
        r.h.engine
            .invite(
                OWNER,
                ACCOUNT,
                "late@acme.example",
                &Permissions::All,
                Some(60),
            )
            .unwrap();
    r.take();
    r.h.clock.advance(120);
    assert_eq!(r.h.engine.expire_due().unwrap(), 1);
    let (b, a) = r.pair("expire");
    assert_eq!(b["invite_id"], sent.invite.id);
    assert_eq!(b["actor"]["email"], "system");
    assert_eq!(b["email"], "late@acme.example");
    assert_eq!(a["invite"]["status"], "expired");
    assert_eq!(r.h.engine.expire_due().unwrap(), 0);
    assert!(r.take().is_empty(), "nothing due, no event");

    r.h.engine.record_login(OWNER).unwrap();
    let (b, a) = r.pair("login");
    assert_eq!(b["email"], OWNER);
    assert_eq!(b["account"], Value::Null);
    assert_eq!(b["user"]["last_login"], Value::Null);
    assert_eq!(a["user"]["last_login"], T0 + 120);
}

#[test]
fn refused_operations_fire_nothing() {
    let mut r = Rec::new("ev-refused");
    assert!(r
        .h
        .engine
        .invite(
            "stranger@acme.example",
            ACCOUNT,
            "x@acme.example",
            &Permissions::All,
            None
        )
        .is_err());
    assert!(r.h.engine.accept("not-a-token", "x@acme.example").is_err());
    assert!(r.h.engine.revoke(OWNER, ACCOUNT, OWNER).is_err());
    assert!(r.take().is_empty());
}

/// docs/hooks.md lists the permission keys events carry: as many as the catalogue has, each one.
#[test]
fn the_documented_permission_keys_are_the_catalogue() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hooks.md"),
    )
    .unwrap();
    let keys = cohort_core::Catalogue::default().keys();
    let start = doc
        .find("The keys are the ")
        .expect("docs/hooks.md lists the keys");
    let para = &doc[start..start + doc[start..].find("\n\n").unwrap()];
    let count: usize = para["The keys are the ".len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number of keys");
    assert_eq!(count, keys.len(), "{para}");
    for k in &keys {
        assert!(para.contains(&format!("`{k}`")), "{k} missing from: {para}");
    }
}
