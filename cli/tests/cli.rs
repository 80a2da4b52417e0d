//! End-to-end tests of the `cohort` binary: exit codes, JSON shapes, config discovery, keys.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cohort");

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(BIN)
            .arg("init")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Env { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("cohort.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env_remove("COHORT_CONFIG")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// Runs a command expected to be refused; returns the JSON error.
    fn refused(&self, args: &[&str]) -> Value {
        self.failed(args, 1)
    }

    /// Runs a command expected to be rejected as bad input (exit 2); returns the JSON error.
    fn bad_input(&self, args: &[&str]) -> Value {
        self.failed(args, 2)
    }

    fn failed(&self, args: &[&str], exit: i32) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.run(&a);
        assert_eq!(
            out.status.code(),
            Some(exit),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["error"].clone()
    }

    fn seed(&self) {
        self.ok(&[
            "account",
            "add",
            "1042",
            "--name",
            "Acme Ltd",
            "--owner",
            "owner@acme.example",
        ]);
        self.ok(&[
            "user",
            "add",
            "ben@partner.example",
            "--name",
            "Ben",
            "--2fa",
        ]);
    }
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn init_writes_config_key_and_database_and_refuses_to_overwrite() {
    let env = Env::new();
    let cfg = std::fs::read_to_string(env.config()).unwrap();
    assert!(
        cfg.contains("bind_email = true"),
        "commented template expected"
    );
    assert!(cfg.contains("# "), "config is commented");
    assert!(env.dir.path().join("cohort.db").exists());
    let key = env.dir.path().join("keys/k1.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = Command::new(BIN)
        .arg("init")
        .arg(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2));
    assert_eq!(
        std::fs::read_to_string(env.config()).unwrap(),
        cfg,
        "config untouched"
    );
}

#[test]
fn config_is_found_by_flag_then_env_then_cwd() {
    let env = Env::new();
    env.seed();
    // COHORT_CONFIG
    let out = Command::new(BIN)
        .args(["users", "1042"])
        .env("COHORT_CONFIG", env.config())
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("owner@acme.example"));
    // ./cohort.toml
    let out = Command::new(BIN)
        .args(["users", "1042"])
        .env_remove("COHORT_CONFIG")
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0));
    // --config wins over COHORT_CONFIG
    let out = Command::new(BIN)
        .args(["--config"])
        .arg(env.config())
        .args(["users", "1042"])
        .env("COHORT_CONFIG", "/nonexistent/cohort.toml")
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0));
    // nothing found: usage error
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["users", "1042"])
        .env_remove("COHORT_CONFIG")
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cohort init"));
}

#[test]
fn bad_config_and_bad_usage_exit_2() {
    let env = Env::new();
    let mut cfg = std::fs::read_to_string(env.config()).unwrap();
    cfg.push_str("\n[hooks_typo]\nx = 1\n");
    let bad = env.dir.path().join("bad.toml");
    std::fs::write(&bad, cfg).unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&bad)
        .args(["users", "1042"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hooks_typo"));
    // usage errors
    assert_eq!(
        code(&env.run(&["invite", "1042", "x@y.example"])),
        Some(2),
        "needs --all or --perm"
    );
    assert_eq!(
        code(&env.run(&[
            "invite",
            "1042",
            "x@y.example",
            "--all",
            "--perm",
            "tickets"
        ])),
        Some(2)
    );
    assert_eq!(
        code(&env.run(&["invite", "1042", "x@y.example", "--all", "--ttl", "soon"])),
        Some(2)
    );
    assert_eq!(code(&env.run(&["frobnicate"])), Some(2));
}

#[test]
fn whole_flow_through_the_cli() {
    let env = Env::new();
    env.seed();
    let inv = env.json(&["invite", "1042", "ben@partner.example", "--all"]);
    assert_eq!(inv["invite"]["status"], "pending");
    assert!(inv["invite"]["id"].as_i64().unwrap() > 0);
    assert!(inv["invite"]["expires_at"].as_i64().is_some());
    let link = inv["link"].as_str().unwrap().to_string();
    let token = inv["token"].as_str().unwrap().to_string();
    assert!(link.ends_with(&token));
    assert_eq!(
        inv["email"]["subject"],
        "Acme Ltd has invited you to their account"
    );
    assert!(inv["email"]["body"].as_str().unwrap().contains(&link));

    let chosen = env.json(&[
        "invite",
        "1042",
        "cara@acme.example",
        "--perm",
        "invoices,tickets",
        "--ttl",
        "1h",
    ]);
    assert_eq!(
        chosen["invite"]["permissions"],
        serde_json::json!(["invoices", "tickets"])
    );

    let list = env.json(&["invites", "1042"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for i in list {
        assert!(i["id"].is_i64() && i["email"].is_string() && i["expires_at"].is_i64());
        assert_eq!(i["status"], "pending");
    }

    // inspect: valid, shows Login for Ben (has a login), Register for Cara
    let i = env.json(&["inspect", &link]);
    assert_eq!(i["valid"], true);
    assert_eq!(i["has_login"], true);
    assert_eq!(i["account_name"], "Acme Ltd");
    let c = env.json(&["inspect", chosen["token"].as_str().unwrap()]);
    assert_eq!(c["has_login"], false);

    // wrong login refused, invite stays pending
    let e = env.refused(&["accept", &link, "--as", "owner@acme.example"]);
    assert_eq!(e["code"], "email_mismatch");
    env.ok(&["user", "add", "eve@else.example"]);
    let e = env.refused(&["accept", &link, "--as", "eve@else.example"]);
    assert_eq!(e["code"], "email_mismatch");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("ben@partner.example"));
    let m = env.json(&["accept", &link, "--as", "ben@partner.example"]);
    assert_eq!(m["role"], "member");
    assert_eq!(m["permissions"], "all");
    let e = env.refused(&["accept", &link, "--as", "ben@partner.example"]);
    assert_eq!(e["code"], "token_already_used");
    let m = env.json(&[
        "accept",
        chosen["link"].as_str().unwrap(),
        "--as",
        "cara@acme.example",
        "--register",
        "--name",
        "Cara",
    ]);
    assert_eq!(m["name"], "Cara");

    env.ok(&["login", "cara@acme.example"]);
    let users = env.json(&["users", "1042"]);
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(users[0]["email"], "owner@acme.example");
    assert_eq!(users[0]["role"], "owner");
    let cara = users
        .iter()
        .find(|u| u["email"] == "cara@acme.example")
        .unwrap();
    assert!(cara["last_login"].is_i64());
    assert_eq!(
        cara["permissions"],
        serde_json::json!(["invoices", "tickets"])
    );
    assert!(users.iter().all(|u| u.get("last_login").is_some()));

    // check: exit codes 0/1
    assert_eq!(
        code(&env.run(&["check", "1042", "cara@acme.example", "invoices"])),
        Some(0)
    );
    assert_eq!(
        code(&env.run(&["check", "1042", "cara@acme.example", "orders"])),
        Some(1)
    );
    assert_eq!(
        code(&env.run(&["check", "1042", "owner@acme.example", "orders"])),
        Some(0)
    );
    let e = env.bad_input(&["check", "1042", "cara@acme.example", "billing"]);
    assert_eq!(e["code"], "unknown_permission");

    env.ok(&["perms", "1042", "cara@acme.example", "--perm", "orders"]);
    assert_eq!(
        code(&env.run(&["check", "1042", "cara@acme.example", "orders"])),
        Some(0)
    );
    assert_eq!(
        code(&env.run(&["check", "1042", "cara@acme.example", "invoices"])),
        Some(1)
    );
    let e = env.refused(&["perms", "1042", "owner@acme.example", "--perm", "orders"]);
    assert_eq!(e["code"], "owner_protected");

    let acc = env.json(&["accounts", "cara@acme.example"]);
    assert_eq!(acc[0]["account_id"], "1042");

    env.ok(&["revoke", "1042", "ben@partner.example"]);
    assert_eq!(
        code(&env.run(&["check", "1042", "ben@partner.example", "orders"])),
        Some(1)
    );
    let u = env.json(&["accounts", "ben@partner.example"]);
    assert_eq!(
        u.as_array().unwrap().len(),
        0,
        "login remains, without the account"
    );
    let e = env.refused(&["revoke", "1042", "owner@acme.example"]);
    assert_eq!(e["code"], "owner_protected");

    // resend and cancel
    let d = env.json(&["invite", "1042", "dan@acme.example", "--perm", "tickets"]);
    let id = d["invite"]["id"].as_i64().unwrap().to_string();
    let r = env.json(&["resend", &id]);
    assert_eq!(r["invite"]["times_sent"], 2);
    let old = env.run(&["--json", "inspect", d["link"].as_str().unwrap()]);
    assert_eq!(code(&old), Some(1));
    let v: Value = serde_json::from_slice(&old.stdout).unwrap();
    assert_eq!(v["reason"], "superseded");
    env.ok(&["cancel", &id]);
    let e = env.refused(&[
        "accept",
        r["link"].as_str().unwrap(),
        "--as",
        "dan@acme.example",
        "--register",
    ]);
    assert_eq!(e["code"], "token_cancelled");
    let e = env.refused(&["cancel", &id]);
    assert_eq!(e["code"], "invite_not_open");

    // decline
    let f = env.json(&["invite", "1042", "fay@acme.example", "--all"]);
    env.ok(&["decline", f["link"].as_str().unwrap()]);
    let list = env.json(&["invites", "1042"]);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["email"] != "fay@acme.example"));

    // transfer
    env.ok(&["transfer", "1042", "cara@acme.example"]);
    let users = env.json(&["users", "1042"]);
    assert_eq!(users[0]["email"], "cara@acme.example");
    let e = env.refused(&[
        "invite",
        "1042",
        "gus@acme.example",
        "--all",
        "--by",
        "eve@else.example",
    ]);
    assert_eq!(e["code"], "not_owner");
    let e = env.refused(&[
        "transfer",
        "1042",
        "owner@acme.example",
        "--by",
        "owner@acme.example",
    ]);
    assert_eq!(e["code"], "not_owner");

    assert_eq!(env.json(&["expire"])["expired"], 0);
    let audit = env.json(&["audit", "1042"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
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
        assert!(actions.contains(&a), "missing {a} in {actions:?}");
    }
    let limited = env.json(&["audit", "1042", "--limit", "2"]);
    assert_eq!(limited.as_array().unwrap().len(), 2);
    assert_eq!(
        limited[1]["action"], "account.transfer",
        "the latest entries, oldest first"
    );
}

#[test]
fn refusals_print_reason_on_stderr_without_json() {
    let env = Env::new();
    env.seed();
    let out = env.run(&["invite", "1042", "not-an-email", "--all"]);
    assert_eq!(code(&out), Some(2), "bad input");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid email address"));
    assert!(out.stdout.is_empty());
    let out = env.run(&["invite", "1042", "x@acme.example", "--perm", "billing"]);
    assert_eq!(code(&out), Some(2), "bad input");
    assert!(String::from_utf8_lossy(&out.stderr).contains("valid permissions are: profile"));
    let out = env.run(&["users", "9999"]);
    assert_eq!(code(&out), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("account 9999 not found"));
}

#[test]
fn key_rotation_keeps_old_links_until_the_key_is_removed() {
    let env = Env::new();
    env.seed();
    let old = env.json(&["invite", "1042", "ben@partner.example", "--all"]);
    let rot = env.json(&["keys", "rotate", "k2"]);
    assert_eq!(rot["current"], "k2");
    assert_eq!(rot["previous"], "k1");
    let keys = env.json(&["keys", "list"]);
    let ids: Vec<(&str, bool)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["id"].as_str().unwrap(), k["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(ids, vec![("k1", false), ("k2", true)]);
    let new = env.json(&["invite", "1042", "cara@acme.example", "--all"]);
    assert!(new["token"].as_str().unwrap().starts_with("cohort1.k2."));
    assert_eq!(
        env.json(&["inspect", old["token"].as_str().unwrap()])["valid"],
        true
    );
    std::fs::remove_file(env.dir.path().join("keys/k1.key")).unwrap();
    let out = env.run(&["--json", "inspect", old["token"].as_str().unwrap()]);
    assert_eq!(code(&out), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reason"], "unknown_key");
    // keys add: a verification key, signing key unchanged
    env.ok(&["keys", "add", "k3"]);
    let again = env.json(&["invite", "1042", "dan@acme.example", "--all"]);
    assert!(again["token"].as_str().unwrap().starts_with("cohort1.k2."));
    assert_eq!(
        code(&env.run(&["keys", "add", "k3"])),
        Some(2),
        "never overwrites a key"
    );
}

#[test]
fn world_readable_key_is_refused() {
    let env = Env::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = env.dir.path().join("keys/k1.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = env.run(&["users", "1042"]);
        assert_eq!(code(&out), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    }
}

#[test]
fn demo_plays_the_whole_story() {
    let out = Command::new(BIN).arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "All Permissions",
        "Pending Invites",
        "-> Login",
        "-> Register",
        "expired",
        "superseded",
        "member.revoke",
        "Partner Agency (owner)",
    ] {
        assert!(s.contains(needle), "demo output lacks {needle:?}");
    }
    let dir_line = s.lines().next().unwrap();
    let dir = dir_line.rsplit(' ').next().unwrap();
    assert!(!Path::new(dir).exists(), "temporary directory removed");
}

#[test]
fn contacts_recipients_notify_leave_and_audit_views() {
    let env = Env::new();
    env.seed();
    let c = env.json(&[
        "contacts",
        "add",
        "1042",
        "--first",
        "Bill",
        "--last",
        "Ing",
        "--email",
        "billing@acme.example",
        "--phone",
        "+1 555 0100",
        "--notify",
        "invoice,domain",
    ]);
    let id = c["id"].as_i64().unwrap().to_string();
    assert_eq!(c["notify"], serde_json::json!(["domain", "invoice"]));
    let list = env.json(&["contacts", "list", "1042"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let e = env.bad_input(&[
        "contacts",
        "add",
        "1042",
        "--first",
        "X",
        "--email",
        "x@acme.example",
        "--notify",
        "sms",
    ]);
    assert_eq!(e["code"], "invalid_argument");
    assert_eq!(
        env.json(&["contacts", "list", "1042"])
            .as_array()
            .unwrap()
            .len(),
        1,
        "refusal wrote nothing"
    );
    env.ok(&["contacts", "edit", &id, "--notify", "invoice"]);

    let r = env.json(&["recipients", "1042", "invoice"]);
    let emails: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, vec!["owner@acme.example", "billing@acme.example"]);
    let r = env.json(&["recipients", "1042", "domain"]);
    assert_eq!(
        r.as_array().unwrap().len(),
        1,
        "contact no longer receives domain emails"
    );
    assert_eq!(code(&env.run(&["recipients", "1042", "fax"])), Some(2));

    let inv = env.json(&["invite", "1042", "ben@partner.example", "--perm", "tickets"]);
    env.ok(&[
        "accept",
        inv["token"].as_str().unwrap(),
        "--as",
        "ben@partner.example",
    ]);
    env.ok(&["notify", "1042", "ben@partner.example", "support"]);
    let r = env.json(&["recipients", "1042", "support"]);
    assert_eq!(r.as_array().unwrap().len(), 2);
    env.ok(&["leave", "1042", "ben@partner.example"]);
    let r = env.json(&["recipients", "1042", "support"]);
    assert_eq!(r.as_array().unwrap().len(), 1);
    let e = env.refused(&["leave", "1042", "owner@acme.example"]);
    assert_eq!(e["code"], "owner_protected");
    env.ok(&["contacts", "delete", &id]);
    assert!(env
        .json(&["contacts", "list", "1042"])
        .as_array()
        .unwrap()
        .is_empty());

    // Audit views: by user across accounts, and an account within a time range.
    let by_user = env.json(&["audit", "--user", "ben@partner.example"]);
    let actions: Vec<&str> = by_user
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"invite.accept") && actions.contains(&"member.leave"),
        "{actions:?}"
    );
    let none = env.json(&["audit", "1042", "--until", "2000-01-01"]);
    assert!(none.as_array().unwrap().is_empty());
    assert_eq!(
        code(&env.run(&["audit", "1042", "--since", "tomorrow"])),
        Some(2)
    );
    assert_eq!(
        code(&env.run(&["audit"])),
        Some(2),
        "an account or --user is required"
    );
}

/// Runs with `--json` and returns (exit code, the one JSON document on stdout).
fn json_doc(env: &Env, args: &[&str]) -> (Option<i32>, Value) {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let out = env.run(&a);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON document ({e}): {text:?}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code(&out), v)
}

#[test]
fn json_is_one_document_for_usage_errors_config_errors_and_the_demo() {
    let env = Env::new();
    env.seed();
    for (args, code_name) in [
        (&["invite", "1042", "x@acme.example"][..], "usage"),
        (&["no-such-command"][..], "usage"),
        (&["check", "1042"][..], "usage"),
        (&["resend", "not-a-number"][..], "usage"),
    ] {
        let (exit, v) = json_doc(&env, args);
        assert_eq!(exit, Some(2), "{args:?}");
        assert_eq!(v["error"]["code"], code_name, "{args:?}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty(), "{v}");
    }
    // A missing config is a configuration error, with the config code.
    let out = Command::new(BIN)
        .args([
            "--json",
            "--config",
            "/nonexistent/cohort.toml",
            "users",
            "1042",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "config");
    assert_eq!(v["error"]["number"], 63);
    // The demo as one document.
    let (exit, v) = json_doc(&env, &["demo"]);
    assert_eq!(exit, Some(0));
    assert_eq!(v["demo"], "ok");
    let transcript: Vec<&str> = v["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        transcript.iter().any(|l| l.contains("User Management")),
        "{transcript:?}"
    );
    // --help and --version still print text and exit 0.
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(code(&out), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
}

#[test]
fn exit_codes_tell_refusals_from_input_errors() {
    let env = Env::new();
    env.seed();
    // An unknown permission key is an input error (2), "not allowed" is 1.
    let (exit, v) = json_doc(&env, &["check", "1042", "owner@acme.example", "billing"]);
    assert_eq!(exit, Some(2));
    assert_eq!(v["error"]["code"], "unknown_permission");
    let (exit, _) = json_doc(&env, &["check", "1042", "nobody@acme.example", "invoices"]);
    assert_eq!(exit, Some(1));
    let (exit, v) = json_doc(
        &env,
        &["invite", "1042", "not-an-email", "--perm", "invoices"],
    );
    assert_eq!(exit, Some(2));
    assert_eq!(v["error"]["code"], "invalid_email");
    // A refusal of the domain stays 1.
    env.ok(&["invite", "1042", "dev@acme.example", "--perm", "invoices"]);
    let (exit, v) = json_doc(
        &env,
        &["invite", "1042", "dev@acme.example", "--perm", "invoices"],
    );
    assert_eq!(exit, Some(1));
    assert_eq!(v["error"]["code"], "pending_invite_exists");
    // hooks test: bad event JSON and a missing directory are input errors, not "would refuse".
    let bad = env.dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let hooks = env.dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    let b = bad.to_str().unwrap();
    let h = hooks.to_str().unwrap();
    let (exit, _) = json_doc(
        &env,
        &["hooks", "test", "before_invite", "--event", b, "--hooks", h],
    );
    assert_eq!(exit, Some(2), "invalid event JSON");
    let good = env.dir.path().join("ev.json");
    std::fs::write(&good, "{}").unwrap();
    let g = good.to_str().unwrap();
    let (exit, _) = json_doc(
        &env,
        &[
            "hooks",
            "test",
            "before_invite",
            "--event",
            g,
            "--hooks",
            "/nonexistent/hooks",
        ],
    );
    assert_eq!(exit, Some(2), "missing hooks directory");
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    use std::io::Read;
    let env = Env::new();
    env.seed();
    for args in [&["demo"][..], &["permissions"][..]] {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(env.config())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Read one byte, then close our end, as `| head -c 1` would.
        let mut stdout = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        stdout.read_exact(&mut one).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{err}"
        );
    }
}

#[test]
fn permission_lists_refuse_empty_keys_and_ignore_surrounding_spaces() {
    let env = Env::new();
    env.seed();
    for perm in ["invoices,", ",invoices", "invoices,,tickets", ""] {
        let (exit, v) = json_doc(&env, &["invite", "1042", "a@acme.example", "--perm", perm]);
        assert_eq!(exit, Some(2), "{perm:?}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("empty permission key"),
            "{v}"
        );
    }
    let v = env.json(&[
        "invite",
        "1042",
        "a@acme.example",
        "--perm",
        " invoices , tickets ",
    ]);
    assert_eq!(
        v["invite"]["permissions"],
        serde_json::json!(["invoices", "tickets"])
    );
    assert!(env.json(&["invites", "1042"]).as_array().unwrap().len() == 1);
}

#[test]
fn messages_cut_long_input() {
    let env = Env::new();
    env.seed();
    let long = "a".repeat(10_000);
    for args in [
        vec![
            "user".to_string(),
            "add".into(),
            format!("{long}@x.example"),
        ],
        vec![
            "check".into(),
            "1042".into(),
            "owner@acme.example".into(),
            long.clone(),
        ],
        vec!["users".into(), long.clone()],
    ] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, v) = json_doc(&env, &a);
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
        assert!(msg.contains("characters)"), "{msg}");
    }
}

#[test]
fn link_only_prints_just_the_link_for_scripts() {
    let env = Env::new();
    env.seed();
    let link = env.ok(&[
        "invite",
        "1042",
        "dev@acme.example",
        "--perm",
        "invoices",
        "--link-only",
    ]);
    let link = link.trim();
    assert_eq!(link.lines().count(), 1);
    let v = env.json(&["inspect", link]);
    assert_eq!(v["valid"], true);
    let id = v["invite_id"].as_i64().unwrap().to_string();
    let again = env.ok(&["resend", &id, "--link-only"]);
    assert_ne!(again.trim(), link);
    assert_eq!(env.json(&["inspect", again.trim()])["valid"], true);
    let old = env.run(&["--json", "inspect", link]);
    assert_eq!(
        code(&old),
        Some(1),
        "the resent invite's old link must be dead"
    );
}
