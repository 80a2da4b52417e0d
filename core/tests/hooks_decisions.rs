//! What hooks decide: vetoes stop operations with nothing written but the denial's audit entry,
//! after-handlers cannot change outcomes, before_invite narrows but never widens, failures fail
//! closed (or open with on_error = "allow"), and changed scripts are picked up.

mod hooks_support;

use cohort_core::hooks::OnError;
use cohort_core::{Engine, Error, ErrorCode, IssuedInvite, Permissions};
use hooks_support::*;

fn keys(list: &[&str]) -> Permissions {
    Permissions::Keys(list.iter().map(|s| s.to_string()).collect())
}

/// An engine with one account, a member `dev@acme.example` (tickets), a pending invite to
/// `pending@acme.example`, and the hook scripts installed afterwards.
struct World {
    scripts: tempfile::TempDir,
    h: HookedEngine,
    pending: IssuedInvite,
}

impl World {
    fn new(scripts: &[(&str, &str)]) -> World {
        World::with(scripts, |_| {})
    }

    fn with(scripts: &[(&str, &str)], tune: impl FnOnce(&mut cohort_core::Config)) -> World {
        let dir = script_dir(&[]);
        let h = HookedEngine::with(dir.path(), tune);
        let e = &h.engine;
        e.upsert_account(ACCOUNT, "Acme Ltd", OWNER).unwrap();
        let dev = e
            .invite(
                OWNER,
                ACCOUNT,
                "dev@acme.example",
                &keys(&["tickets"]),
                None,
            )
            .unwrap();
        e.accept_register(&dev.token, "dev@acme.example", "Dee")
            .unwrap();
        let pending = e
            .invite(
                OWNER,
                ACCOUNT,
                "pending@acme.example",
                &Permissions::All,
                None,
            )
            .unwrap();
        for (name, text) in scripts {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        World {
            scripts: dir,
            h,
            pending,
        }
    }

    fn engine(&self) -> &Engine {
        &self.h.engine
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.scripts.path().join(name), text).unwrap();
    }
}

/// Runs every operation with a script that vetoes its before-event; each must be refused with
/// HookDenied and leave exactly one `hook.deny` audit row behind.
#[test]
fn a_veto_stops_every_operation_with_only_the_denial_recorded() {
    type Op = fn(&World) -> Result<(), Error>;
    let ops: [(&str, Op); 11] = [
        ("invite", |w| {
            w.engine()
                .invite(OWNER, ACCOUNT, "new@acme.example", &Permissions::All, None)
                .map(drop)
        }),
        ("accept", |w| {
            w.engine()
                .upsert_user("pending@acme.example", None, None)
                .unwrap();
            w.engine()
                .accept(&w.pending.token, "pending@acme.example")
                .map(drop)
        }),
        ("accept", |w| {
            w.engine()
                .accept_register(&w.pending.link, "pending@acme.example", "Pat")
                .map(drop)
        }),
        ("decline", |w| {
            w.engine().decline(&w.pending.token).map(drop)
        }),
        ("resend", |w| {
            w.engine()
                .resend(OWNER, w.pending.invite.id, None)
                .map(drop)
        }),
        ("cancel", |w| {
            w.engine().cancel(OWNER, w.pending.invite.id).map(drop)
        }),
        ("permissions", |w| {
            w.engine()
                .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &Permissions::All)
                .map(drop)
        }),
        ("revoke", |w| {
            w.engine().revoke(OWNER, ACCOUNT, "dev@acme.example")
        }),
        ("transfer", |w| {
            w.engine()
                .transfer_ownership(OWNER, ACCOUNT, "dev@acme.example")
                .map(drop)
        }),
        ("login", |w| {
            w.engine().record_login("dev@acme.example").map(drop)
        }),
        ("expire", |w| {
            w.h.clock.advance(8 * 86_400);
            assert_eq!(
                w.engine().expire_due()?,
                0,
                "the vetoed invite stays pending"
            );
            Err(Error::HookDenied {
                script: "50-veto.lua".into(),
                reason: "no expire today".into(),
            })
        }),
    ];
    for (i, (action, op)) in ops.iter().enumerate() {
        let veto = format!(
            "cohort.on('before_{action}', function(ev)\n  return false, 'no {action} today'\nend)\n"
        );
        let w = World::new(&[("50-veto.lua", &veto)]);
        if i == 1 {
            // The user logs in (no hook on login here) before the dump.
            w.engine()
                .upsert_user("pending@acme.example", None, None)
                .unwrap();
        }
        let before = w.engine().dump().unwrap();
        let err = op(&w).expect_err(action);
        assert_eq!(err.code(), ErrorCode::HookDenied, "{action}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains("50-veto.lua") && msg.contains(&format!("no {action} today")),
            "{msg}"
        );
        let after = w.engine().dump().unwrap();
        let row = assert_only_denial_row(&before, &after, "hook.deny");
        assert!(row.contains(&format!("\"before_{action}\"")), "{row}");
        assert!(
            row.contains(&format!("\"50-veto.lua: no {action} today\"")),
            "{row}"
        );
    }
}

#[test]
fn the_denial_entry_names_actor_account_and_target() {
    let w = World::new(&[(
        "50-veto.lua",
        "cohort.on('before_revoke', function(ev) cohort.deny('protected: ' .. ev.email) end)\n",
    )]);
    let err = w
        .engine()
        .revoke(OWNER, ACCOUNT, "dev@acme.example")
        .unwrap_err();
    assert!(
        matches!(&err, Error::HookDenied { script, reason }
            if script == "50-veto.lua" && reason == "protected: dev@acme.example"),
        "{err:?}"
    );
    let last = w.engine().audit(ACCOUNT, 0, 100).unwrap().pop().unwrap();
    assert_eq!(last.action, "hook.deny");
    assert_eq!(last.actor, OWNER);
    assert_eq!(last.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(last.target.as_deref(), Some("dev@acme.example"));
    assert_eq!(last.old_value.as_deref(), Some("before_revoke"));
    assert_eq!(
        last.new_value.as_deref(),
        Some("50-veto.lua: protected: dev@acme.example")
    );
    assert_eq!(
        w.engine().members(ACCOUNT).unwrap().len(),
        2,
        "still a member"
    );
}

#[test]
fn returning_true_or_nothing_allows() {
    let w = World::new(&[
        (
            "10-true.lua",
            "cohort.on('before_revoke', function() return true end)\n",
        ),
        ("20-nil.lua", "cohort.on('before_revoke', function() end)\n"),
    ]);
    w.engine()
        .revoke(OWNER, ACCOUNT, "dev@acme.example")
        .unwrap();
    assert_eq!(w.engine().members(ACCOUNT).unwrap().len(), 1);
}

#[test]
fn unexpected_returns_and_errors_fail_closed_with_script_and_line() {
    for (body, expect) in [
        ("return 'yes'", "returned a string"),
        ("return 1", "returned a number"),
        ("return {}", "only before_invite may return a table"),
        ("return false, 'x', 'y'", "returned 3 values"),
        ("local x = nil\nreturn x.field", "50-bad.lua:3:"),
        ("error('boom')", "50-bad.lua:2: boom"),
        ("cohort.log('loud', 'x')", "50-bad.lua:2:"),
        ("ev.email = 'other@acme.example'", "readonly"),
    ] {
        let script = format!("cohort.on('before_revoke', function(ev)\n{body}\nend)\n");
        let w = World::new(&[("50-bad.lua", &script)]);
        let before = w.engine().dump().unwrap();
        let err = w
            .engine()
            .revoke(OWNER, ACCOUNT, "dev@acme.example")
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::HookFailed, "{body}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("50-bad.lua:"), "{msg}");
        assert!(msg.contains(expect), "{body}: {msg}");
        assert_only_denial_row(&before, &w.engine().dump().unwrap(), "hook.fail");
    }
}

#[test]
fn on_error_allow_lets_failures_through_but_not_vetoes() {
    let w = World::with(
        &[
            (
                "10-broken.lua",
                "cohort.on('before_revoke', function() error('bug') end)\n",
            ),
            (
                "20-veto.lua",
                "cohort.on('before_transfer', function() return false, 'never' end)\n",
            ),
        ],
        |c| c.hooks.as_mut().unwrap().on_error = OnError::Allow,
    );
    w.engine()
        .revoke(OWNER, ACCOUNT, "dev@acme.example")
        .expect("a failing hook is skipped with on_error = allow");
    assert!(w
        .engine()
        .audit(ACCOUNT, 0, 100)
        .unwrap()
        .iter()
        .all(|a| !a.action.starts_with("hook.")));
    let err = w
        .engine()
        .transfer_ownership(OWNER, ACCOUNT, "pending@acme.example")
        .unwrap_err();
    assert_ne!(err.code(), ErrorCode::HookFailed);
}

#[test]
fn after_handlers_cannot_change_the_outcome() {
    let w = World::new(&[
        (
            "10-deny.lua",
            "cohort.on('after_invite', function(ev) cohort.deny('too late') end)\n",
        ),
        (
            "20-false.lua",
            "cohort.on('after_invite', function(ev) return false, 'no' end)\n",
        ),
        (
            "30-error.lua",
            "cohort.on('after_invite', function(ev) error('after boom') end)\n",
        ),
        (
            "40-loop.lua",
            "cohort.on('after_invite', function(ev) while true do end end)\n",
        ),
        (
            "50-mutate.lua",
            "cohort.on('after_invite', function(ev) ev.permissions = 'all' end)\n",
        ),
    ]);
    install_logger();
    let sent = w
        .engine()
        .invite(
            OWNER,
            ACCOUNT,
            "after@acme.example",
            &keys(&["emails"]),
            None,
        )
        .expect("after-handlers observe only");
    let stored = w.engine().invite_by_id(sent.invite.id).unwrap();
    assert_eq!(stored.permissions, keys(&["emails"]));
    assert_eq!(stored.status, cohort_core::InviteStatus::Pending);
    let actions: Vec<String> = w
        .engine()
        .audit(ACCOUNT, 0, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions.last().map(String::as_str), Some("invite.create"));
    assert!(
        actions.iter().all(|a| !a.starts_with("hook.")),
        "{actions:?}"
    );
    for (script, what) in [
        ("10-deny.lua:1", "cohort.deny has no effect in after_invite"),
        ("30-error.lua:1", "after boom"),
        ("40-loop.lua:1", "deadline of 50 ms exceeded"),
    ] {
        let warnings = logged(&format!("{script} after_invite: "));
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("WARN ") && w.contains(what)),
            "the failure of {script} is logged with its line: {warnings:?}"
        );
    }
}

#[test]
fn before_invite_narrows_permissions_and_expiry() {
    let w = World::new(&[
        (
            "10-narrow.lua",
            r#"
cohort.on("before_invite", function(ev)
    if ev.permissions == "all" then
        return { permissions = { "invoices", "tickets" }, ttl = 3600 }
    end
end)
"#,
        ),
        (
            "20-narrower.lua",
            r#"
cohort.on("before_invite", function(ev)
    -- sees what 10-narrow.lua left
    assert(type(ev.permissions) == "table" and #ev.permissions == 2, "not narrowed yet")
    assert(ev.expires_at == cohort.now() + 3600, "expiry not shortened yet")
    return { permissions = { "tickets" }, expires_at = ev.expires_at - 600 }
end)
"#,
        ),
    ]);
    let sent = w
        .engine()
        .invite(OWNER, ACCOUNT, "new@acme.example", &Permissions::All, None)
        .unwrap();
    assert_eq!(sent.invite.permissions, keys(&["tickets"]));
    assert_eq!(sent.invite.expires_at, T0 + 3000);
    let stored = w.engine().invite_by_id(sent.invite.id).unwrap();
    assert_eq!(stored.permissions, keys(&["tickets"]));
    assert_eq!(stored.expires_at, T0 + 3000);
    let info = w.engine().inspect(&sent.token).unwrap();
    assert!(info.valid);
    assert_eq!(info.expires_at, Some(T0 + 3000));
}

#[test]
fn widening_is_an_error() {
    for (body, expect) in [
        ("return { permissions = 'all' }", "widen"),
        ("return { permissions = { 'invoices', 'orders' } }", "widen"),
        ("return { permissions = {} }", "empty permission list"),
        (
            "return { permissions = { 'nonsense' } }",
            "unknown permission",
        ),
        ("return { ttl = 30 * 86400 }", "extend the expiry"),
        (
            "return { expires_at = ev.expires_at + 1 }",
            "extend the expiry",
        ),
        ("return { expires_at = 0 }", "not in the future"),
        ("return { colour = 'red' }", "unknown field"),
        ("return { permissions = 'invoices' }", "list of keys"),
    ] {
        let script = format!("cohort.on('before_invite', function(ev)\n{body}\nend)\n");
        let w = World::new(&[("50-widen.lua", &script)]);
        let before = w.engine().dump().unwrap();
        let err = w
            .engine()
            .invite(
                OWNER,
                ACCOUNT,
                "new@acme.example",
                &keys(&["invoices"]),
                None,
            )
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::HookFailed, "{body}: {err}");
        assert!(err.to_string().contains(expect), "{body}: {err}");
        assert!(err.to_string().contains("50-widen.lua:1:"), "{err}");
        assert_only_denial_row(&before, &w.engine().dump().unwrap(), "hook.fail");
    }
}

#[test]
fn a_broken_script_fails_the_before_events_it_names_closed_until_fixed() {
    let w = World::new(&[
        ("10-ok.lua", "cohort.on('after_login', function() end)\n"),
        (
            "20-broken.lua",
            "cohort.on('before_login', function(ev)\n  if then\nend)\n",
        ),
    ]);
    let before = w.engine().dump().unwrap();
    let err = w.engine().record_login(OWNER).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HookFailed);
    assert!(err.to_string().contains("20-broken.lua:2:"), "{err}");
    assert_only_denial_row(&before, &w.engine().dump().unwrap(), "hook.fail");
    // An event the broken script does not name goes on.
    w.engine()
        .set_permissions(OWNER, ACCOUNT, "dev@acme.example", &keys(&["emails"]))
        .expect("before_permissions is not named by the broken script");

    w.write(
        "20-broken.lua",
        "cohort.on('before_login', function(ev) end)\n",
    );
    w.engine()
        .record_login(OWNER)
        .expect("fixed script is reloaded");
    w.engine()
        .revoke(OWNER, ACCOUNT, "dev@acme.example")
        .unwrap();
}

/// The common case of the rule: an invite policy with a syntax error stops invites, not logins.
#[test]
fn a_broken_invite_policy_does_not_block_logins() {
    let w = World::new(&[(
        "10-allowed-domains.lua",
        "-- Runs before anything is written.\nlocal ALLOWED = { \"acme.example\" }\n\
         cohort.on(\"before_invite\", function(ev)\n  if ev.email:match(\"@\") then\n    return false, \"not before lunch\"\n  end\nend\n",
    )]);
    let u = w
        .engine()
        .record_login(OWNER)
        .expect("a broken invite policy must not block logins");
    assert_eq!(u.last_login, Some(T0));
    let before = w.engine().dump().unwrap();
    let err = w
        .engine()
        .invite(OWNER, ACCOUNT, "x@acme.example", &Permissions::All, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::HookFailed, "{err}");
    assert!(err.to_string().contains("10-allowed-domains.lua:"), "{err}");
    assert_only_denial_row(&before, &w.engine().dump().unwrap(), "hook.fail");
    // Its top level failing (it compiles) is the same.
    w.write(
        "10-allowed-domains.lua",
        "local t = nil\nlocal x = t.field\ncohort.on('before_invite', function() end)\n",
    );
    w.engine().record_login(OWNER).unwrap();
    let err = w
        .engine()
        .invite(OWNER, ACCOUNT, "x@acme.example", &Permissions::All, None)
        .unwrap_err();
    assert!(
        err.to_string().contains("10-allowed-domains.lua:2:"),
        "{err}"
    );
}

/// A broken script whose events are put together at run time, or a hooks directory that cannot
/// be read, cannot tell what it handles: every before-event fails closed.
#[test]
fn when_nothing_tells_which_events_every_before_event_fails_closed() {
    let w = World::new(&[(
        "30-loop.lua",
        "for _, a in ipairs({ 'invite', 'revoke' }) do\n  cohort.on('before_' .. a, function() end\nend\n",
    )]);
    let err = w.engine().record_login(OWNER).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HookFailed);
    assert!(err.to_string().contains("30-loop.lua:"), "{err}");
    // After-events are never blocked: they could not veto anything.
    w.write("30-loop.lua", "cohort.on('after_login', function(\n");
    w.engine().record_login(OWNER).unwrap();

    std::fs::remove_file(w.scripts.path().join("30-loop.lua")).unwrap();
    std::fs::remove_dir(w.scripts.path()).unwrap();
    let err = w.engine().record_login(OWNER).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HookFailed);
    assert!(err.to_string().contains("(hooks)"), "{err}");
}

#[test]
fn changed_added_and_removed_scripts_are_reloaded() {
    let w = World::new(&[("50-gate.lua", "cohort.on('before_login', function() end)\n")]);
    w.engine().record_login(OWNER).unwrap();

    w.write(
        "50-gate.lua",
        "cohort.on('before_login', function() return false, 'closed for maintenance' end)\n",
    );
    let err = w.engine().record_login(OWNER).unwrap_err();
    assert!(err.to_string().contains("closed for maintenance"), "{err}");

    std::fs::remove_file(w.scripts.path().join("50-gate.lua")).unwrap();
    w.engine().record_login(OWNER).expect("script removed");

    w.write(
        "60-new.lua",
        "cohort.on('before_login', function(ev) return false, 'new policy for ' .. ev.email end)\n",
    );
    let err = w.engine().record_login(OWNER).unwrap_err();
    assert!(
        err.to_string()
            .contains("new policy for owner@acme.example"),
        "{err}"
    );
    // Files that are not *.lua are ignored.
    std::fs::rename(
        w.scripts.path().join("60-new.lua"),
        w.scripts.path().join("60-new.lua.off"),
    )
    .unwrap();
    w.engine().record_login(OWNER).unwrap();
}

#[test]
fn scripts_run_in_name_order_and_the_first_veto_wins() {
    let w = World::new(&[
        (
            "20-second.lua",
            "cohort.on('before_login', function() return false, 'second' end)\n",
        ),
        (
            "10-first.lua",
            "cohort.on('before_login', function() return false, 'first' end)\n",
        ),
    ]);
    let err = w.engine().record_login(OWNER).unwrap_err();
    assert!(
        matches!(&err, Error::HookDenied { script, reason } if script == "10-first.lua" && reason == "first"),
        "{err:?}"
    );
}

#[test]
fn before_expire_veto_keeps_one_invite_and_expires_the_rest() {
    let w = World::new(&[(
        "50-keep.lua",
        "cohort.on('before_expire', function(ev)\n  if ev.email == 'pending@acme.example' then return false, 'keep' end\nend)\n",
    )]);
    let other = w
        .engine()
        .invite(
            OWNER,
            ACCOUNT,
            "other@acme.example",
            &Permissions::All,
            Some(60),
        )
        .unwrap();
    w.h.clock.advance(8 * 86_400);
    assert_eq!(w.engine().expire_due().unwrap(), 1);
    assert_eq!(
        w.engine().invite_by_id(other.invite.id).unwrap().status,
        cohort_core::InviteStatus::Expired
    );
    let kept = w.engine().invite_by_id(w.pending.invite.id).unwrap();
    assert_eq!(
        kept.status,
        cohort_core::InviteStatus::Expired,
        "reads as expired"
    );
    assert!(w
        .engine()
        .accept(&w.pending.token, "pending@acme.example")
        .is_err());
    let actions: Vec<String> = w
        .engine()
        .audit(ACCOUNT, 0, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "hook.deny").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "invite.expire").count(), 1);
}

#[test]
fn cohort_now_is_the_engine_clock_and_log_reaches_the_log() {
    install_logger();
    let w = World::new(&[(
        "50-now.lua",
        r#"
cohort.on("before_login", function(ev)
    cohort.log("warn", "now-probe " .. cohort.now())
    print("print-probe", 1, true, nil)
    if cohort.now() ~= ev.time then return false, "clock mismatch" end
end)
"#,
    )]);
    w.h.clock.advance(42);
    w.engine().record_login(OWNER).unwrap();
    assert_eq!(
        logged("now-probe"),
        [format!(
            "WARN 50-now.lua:3 before_login: now-probe {}",
            T0 + 42
        )]
    );
    assert_eq!(
        logged("print-probe"),
        ["INFO 50-now.lua:4 before_login: print-probe\t1\ttrue\tnil"]
    );
}

#[test]
fn the_hooks_directory_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    cohort_core::config::create_key_file(&keys, "k1").unwrap();
    let mut cfg = cohort_core::Config::new(
        hooks_support::db::database_for(dir.path(), "c.db"),
        keys,
        "k1",
    );
    cfg.hooks = Some(hooks_config(&dir.path().join("missing")));
    let err = Engine::open(cfg).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
    assert!(err.to_string().contains("hooks.dir"), "{err}");
}

#[test]
fn an_engine_with_hooks_is_shared_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Engine>();
    let w = World::new(&[(
        "50-count.lua",
        "cohort.on('before_login', function(ev) local n = 0 for i = 1, 1000 do n = n + i end end)\n",
    )]);
    let users: Vec<String> = (0..4).map(|i| format!("u{i}@acme.example")).collect();
    for u in &users {
        w.engine().upsert_user(u, None, None).unwrap();
    }
    std::thread::scope(|s| {
        for u in &users {
            let e = w.engine();
            s.spawn(move || {
                for _ in 0..25 {
                    e.record_login(u).unwrap();
                }
            });
        }
    });
}
