//! The ready policies shipped in hooks/, loaded as shipped (or with one setting edited, the
//! way an admin would) into a real engine.

mod hooks_support;

use cohort_core::{ErrorCode, Permissions};
use hooks_support::*;
use std::path::PathBuf;

fn shipped_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hooks")
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(shipped_dir().join(name)).expect(name)
}

/// The shipped script with `from` replaced by `to` (the setting must exist as written).
fn edited(name: &str, from: &str, to: &str) -> String {
    let text = shipped(name);
    assert!(text.contains(from), "{name} no longer contains {from:?}");
    text.replace(from, to)
}

fn keys(list: &[&str]) -> Permissions {
    Permissions::Keys(list.iter().map(|s| s.to_string()).collect())
}

/// An engine whose only hook is `text` saved as `name`.
fn engine_with(name: &str, text: &str) -> (tempfile::TempDir, HookedEngine) {
    let dir = script_dir(&[(name, text)]);
    let h = HookedEngine::new(dir.path());
    h.engine.upsert_account(ACCOUNT, "Acme Ltd", OWNER).unwrap();
    (dir, h)
}

fn denied(r: cohort_core::Result<impl std::fmt::Debug>, script: &str, words: &str) {
    let err = r.expect_err("must be denied");
    assert_eq!(err.code(), ErrorCode::HookDenied, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(script) && msg.contains(words), "{msg}");
}

#[test]
fn every_shipped_policy_compiles_and_registers_handlers() {
    let reports = cohort_core::hooks::check_dir(&shipped_dir()).unwrap();
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "10-allowed-domains.lua",
            "20-require-2fa-to-accept.lua",
            "30-member-cap.lua",
            "40-no-all-for-outsiders.lua",
            "50-protected-users.lua",
            "60-activity-log.lua",
        ]
    );
    for r in &reports {
        assert_eq!(r.error, None, "{}", r.name);
        assert!(!r.events.is_empty(), "{}", r.name);
    }
    assert_eq!(
        reports[5].events.len(),
        10,
        "activity log watches every after-event"
    );
}

#[test]
fn allowed_domains() {
    let name = "10-allowed-domains.lua";
    let (_d, h) = engine_with(name, &shipped(name));
    let e = &h.engine;
    e.invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
        .expect("owner's domain");
    e.invite(
        OWNER,
        ACCOUNT,
        "ops@eu.acme.example",
        &Permissions::All,
        None,
    )
    .expect("subdomain of a listed domain");
    denied(
        e.invite(
            OWNER,
            ACCOUNT,
            "someone@gmail.example",
            &Permissions::All,
            None,
        ),
        name,
        "gmail.example is not one of them",
    );
    denied(
        e.invite(OWNER, ACCOUNT, "x@notacme.example", &Permissions::All, None),
        name,
        "notacme.example",
    );

    let (_d, h) = engine_with(
        name,
        &edited(
            name,
            "local ALLOW_OWNER_DOMAIN = true",
            "local ALLOW_OWNER_DOMAIN = false",
        ),
    );
    h.engine
        .upsert_account("2001", "Other Co", "boss@other.example")
        .unwrap();
    denied(
        h.engine.invite(
            "boss@other.example",
            "2001",
            "dev@other.example",
            &Permissions::All,
            None,
        ),
        name,
        "other.example",
    );
    h.engine
        .invite(
            "boss@other.example",
            "2001",
            "dev@acme.example",
            &Permissions::All,
            None,
        )
        .expect("listed domain");
}

#[test]
fn two_factor_to_accept() {
    let name = "20-require-2fa-to-accept.lua";
    let (_d, h) = engine_with(name, &shipped(name));
    let e = &h.engine;
    let sent = e
        .invite(
            OWNER,
            ACCOUNT,
            "dev@acme.example",
            &keys(&["tickets"]),
            None,
        )
        .unwrap();
    denied(
        e.accept_register(&sent.token, "dev@acme.example", "Dee"),
        name,
        "register in the panel",
    );
    e.upsert_user("dev@acme.example", Some("Dee"), Some(false))
        .unwrap();
    denied(
        e.accept(&sent.token, "dev@acme.example"),
        name,
        "turn on two-factor authentication for dev@acme.example",
    );
    assert_eq!(e.members(ACCOUNT).unwrap().len(), 1);
    e.upsert_user("dev@acme.example", None, Some(true)).unwrap();
    e.accept(&sent.token, "dev@acme.example")
        .expect("2FA is on");
    assert_eq!(e.members(ACCOUNT).unwrap().len(), 2);
}

#[test]
fn member_cap() {
    let name = "30-member-cap.lua";
    let (_d, h) = engine_with(
        name,
        &edited(name, "local MAX_MEMBERS = 10", "local MAX_MEMBERS = 3"),
    );
    let e = &h.engine;
    let a = e
        .invite(OWNER, ACCOUNT, "a@acme.example", &Permissions::All, None)
        .unwrap();
    e.invite(OWNER, ACCOUNT, "b@acme.example", &Permissions::All, None)
        .unwrap();
    denied(
        e.invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None),
        name,
        "1 members and 2 pending invites; the limit is 3",
    );
    e.accept_register(&a.token, "a@acme.example", "A").unwrap();
    denied(
        e.invite(OWNER, ACCOUNT, "c@acme.example", &Permissions::All, None),
        name,
        "2 members and 1 pending invites",
    );

    // The shipped default, and a per-account cap.
    let (_d, h) = engine_with(
        name,
        &edited(name, "-- [\"1042\"] = 25,", "[\"1042\"] = 2,"),
    );
    h.engine
        .invite(OWNER, ACCOUNT, "a@acme.example", &Permissions::All, None)
        .unwrap();
    denied(
        h.engine
            .invite(OWNER, ACCOUNT, "b@acme.example", &Permissions::All, None),
        name,
        "the limit is 2",
    );
}

#[test]
fn member_cap_on_accept() {
    let name = "30-member-cap.lua";
    let (dir, h) = engine_with(name, &shipped(name));
    let e = &h.engine;
    let a = e
        .invite(OWNER, ACCOUNT, "a@acme.example", &Permissions::All, None)
        .unwrap();
    let b = e
        .invite(OWNER, ACCOUNT, "b@acme.example", &Permissions::All, None)
        .unwrap();
    // The cap drops to 2 after the invites went out.
    std::fs::write(
        dir.path().join(name),
        edited(name, "local MAX_MEMBERS = 10", "local MAX_MEMBERS = 2"),
    )
    .unwrap();
    e.accept_register(&a.token, "a@acme.example", "A").unwrap();
    denied(
        e.accept_register(&b.token, "b@acme.example", "B"),
        name,
        "already has 2 members",
    );
}

#[test]
fn no_all_permissions_for_outsiders() {
    let name = "40-no-all-for-outsiders.lua";
    let (_d, h) = engine_with(name, &shipped(name));
    let e = &h.engine;

    let inside = e
        .invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
        .unwrap();
    assert_eq!(inside.invite.permissions, Permissions::All);
    assert_eq!(inside.invite.expires_at, T0 + 7 * 86_400);

    let outside = e
        .invite(
            OWNER,
            ACCOUNT,
            "contractor@freelance.example",
            &Permissions::All,
            None,
        )
        .unwrap();
    assert_eq!(outside.invite.permissions, keys(&["invoices", "tickets"]));
    assert_eq!(outside.invite.expires_at, T0 + 2 * 86_400);
    let stored = e.invite_by_id(outside.invite.id).unwrap();
    assert_eq!(stored.permissions, keys(&["invoices", "tickets"]));

    let chosen = e
        .invite(
            OWNER,
            ACCOUNT,
            "designer@freelance.example",
            &keys(&["quotes"]),
            Some(3600),
        )
        .unwrap();
    assert_eq!(
        chosen.invite.permissions,
        keys(&["quotes"]),
        "already narrow"
    );
    assert_eq!(chosen.invite.expires_at, T0 + 3600, "already short");

    e.accept_register(&outside.token, "contractor@freelance.example", "C")
        .unwrap();
    denied(
        e.set_permissions(
            OWNER,
            ACCOUNT,
            "contractor@freelance.example",
            &Permissions::All,
        ),
        name,
        "cannot hold All Permissions",
    );
    e.set_permissions(
        OWNER,
        ACCOUNT,
        "contractor@freelance.example",
        &keys(&["orders"]),
    )
    .expect("chosen permissions are fine");
    denied(
        e.transfer_ownership(OWNER, ACCOUNT, "contractor@freelance.example"),
        name,
        "cannot own the account",
    );
}

#[test]
fn no_all_permissions_for_an_outside_login_accepting() {
    let name = "40-no-all-for-outsiders.lua";
    let (_d, h) = engine_with(name, &shipped(name));
    // With bind_email = false any login may accept; an outside one may not take "all".
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    cohort_core::config::create_key_file(&keys_dir, "k1").unwrap();
    let mut cfg = cohort_core::Config::new(
        hooks_support::db::database_for(dir.path(), "x.db"),
        keys_dir,
        "k1",
    );
    cfg.bind_email = false;
    cfg.hooks = h.engine.config().hooks.clone();
    let e =
        cohort_core::Engine::create_with_clock(cfg, std::sync::Arc::new(h.clock.clone())).unwrap();
    e.upsert_account(ACCOUNT, "Acme Ltd", OWNER).unwrap();
    let sent = e
        .invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
        .unwrap();
    e.upsert_user("someone@elsewhere.example", None, None)
        .unwrap();
    denied(
        e.accept(&sent.token, "someone@elsewhere.example"),
        name,
        "someone@elsewhere.example is outside acme.example",
    );
    e.upsert_user("dev@acme.example", None, None).unwrap();
    e.accept(&sent.token, "dev@acme.example").unwrap();
}

#[test]
fn protected_users() {
    let name = "50-protected-users.lua";
    let (_d, h) = engine_with(name, &shipped(name));
    let e = &h.engine;
    for who in [
        "billing@acme.example",
        "agent@support.hosting.example",
        "dev@acme.example",
    ] {
        let sent = e
            .invite(OWNER, ACCOUNT, who, &keys(&["invoices"]), None)
            .unwrap();
        e.accept_register(&sent.token, who, "X").unwrap();
    }
    for who in ["billing@acme.example", "agent@support.hosting.example"] {
        denied(e.revoke(OWNER, ACCOUNT, who), name, "cannot be removed");
        denied(
            e.set_permissions(OWNER, ACCOUNT, who, &Permissions::All),
            name,
            "permissions cannot be changed",
        );
    }
    e.set_permissions(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All)
        .unwrap();
    e.revoke(OWNER, ACCOUNT, "dev@acme.example").unwrap();
    assert_eq!(e.members(ACCOUNT).unwrap().len(), 3);
}

#[test]
fn activity_log() {
    install_logger();
    let name = "60-activity-log.lua";
    let (_d, h) = engine_with(name, &shipped(name));
    h.engine
        .invite(
            OWNER,
            ACCOUNT,
            "log-probe@acme.example",
            &keys(&["emails", "orders"]),
            None,
        )
        .unwrap();
    assert_eq!(
        logged("target=log-probe@acme.example"),
        [format!(
            "INFO {name}:19 after_invite: invite account={ACCOUNT} actor={OWNER} target=log-probe@acme.example permissions=emails,orders"
        )]
    );
}

#[test]
fn all_shipped_policies_together() {
    let h = HookedEngine::new(&shipped_dir());
    let e = &h.engine;
    e.upsert_account(ACCOUNT, "Acme Ltd", OWNER).unwrap();
    let sent = e
        .invite(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All, None)
        .unwrap();
    e.upsert_user("dev@acme.example", Some("Dee"), Some(true))
        .unwrap();
    e.accept(&sent.link, "dev@acme.example").unwrap();
    denied(
        e.invite(
            OWNER,
            ACCOUNT,
            "x@elsewhere.example",
            &Permissions::All,
            None,
        ),
        "10-allowed-domains.lua",
        "elsewhere.example",
    );
    e.revoke(OWNER, ACCOUNT, "dev@acme.example").unwrap();
}
