//! Fixtures for the hook tests: script directories, configs, engines with hooks.
#![allow(dead_code)]

#[path = "../common/db.rs"]
pub mod db;

use cohort_core::config::create_key_file;
use cohort_core::hooks::{self, HooksConfig, TestReport};
use cohort_core::{Config, Engine, ManualClock};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// 2026-11-29T10:00:00Z.
pub const T0: i64 = 1_795_946_400;
pub const ACCOUNT: &str = "1042";
pub const OWNER: &str = "owner@acme.example";
/// The deadline every hook test runs with.
pub const DEADLINE: Duration = Duration::from_millis(50);

/// A temporary directory holding `scripts` (file name, text).
pub fn script_dir(scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in scripts {
        std::fs::write(dir.path().join(name), text).expect("write script");
    }
    dir
}

/// Test budgets: 50 ms deadline, changes noticed on every event.
pub fn hooks_config(dir: &Path) -> HooksConfig {
    let mut c = HooksConfig::new(dir);
    c.deadline = DEADLINE;
    c.reload_check = Duration::ZERO;
    c
}

pub fn builtin_keys() -> Vec<String> {
    cohort_core::permissions::BUILTIN
        .iter()
        .map(|(k, _)| k.to_string())
        .collect()
}

/// Fires `event` with `data` through the scripts of `dir`.
pub fn fire(dir: &Path, event: &str, data: serde_json::Value) -> TestReport {
    hooks::test_event(&hooks_config(dir), builtin_keys(), event, &data, T0).expect("test_event")
}

/// A `before_invite` event as the engine builds it.
pub fn invite_event(email: &str, perms: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "event": "before_invite",
        "time": T0,
        "account": {"id": ACCOUNT, "name": "Acme Ltd", "owner": OWNER, "member_count": 1},
        "actor": {"email": OWNER, "role": "owner", "two_factor": true},
        "email": email,
        "permissions": perms,
        "expires_at": T0 + 7 * 86_400,
        "ttl": 7 * 86_400,
    })
}

/// An engine on a fresh database with hooks from `hooks_dir`, a manual clock at [`T0`], and
/// account [`ACCOUNT`] owned by [`OWNER`].
pub struct HookedEngine {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub engine: Engine,
}

impl HookedEngine {
    pub fn new(hooks_dir: &Path) -> HookedEngine {
        HookedEngine::with(hooks_dir, |_| {})
    }

    pub fn with(hooks_dir: &Path, tune: impl FnOnce(&mut Config)) -> HookedEngine {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = dir.path().join("keys");
        create_key_file(&keys, "k1").expect("key");
        let mut cfg = Config::new(db::database_for(dir.path(), "cohort.db"), keys, "k1");
        cfg.hooks = Some(hooks_config(hooks_dir));
        tune(&mut cfg);
        let clock = ManualClock::new(T0);
        let engine = Engine::create_with_clock(cfg, Arc::new(clock.clone())).expect("engine");
        HookedEngine { dir, clock, engine }
    }
}

/// Asserts that `after` is `before` plus exactly one audit row, the denial `action`
/// (`hook.deny` or `hook.fail`) of `event`, and returns that row.
pub fn assert_only_denial_row(before: &[String], after: &[String], action: &str) -> String {
    let added: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    let removed: Vec<&String> = before.iter().filter(|r| !after.contains(r)).collect();
    assert!(removed.is_empty(), "rows changed or removed: {removed:#?}");
    assert_eq!(added.len(), 1, "expected one new row, got {added:#?}");
    let row = added[0].clone();
    assert!(row.starts_with("audit:"), "{row}");
    assert!(row.contains(&format!("{action:?}")), "{row}");
    row
}

/// Installs (once) a logger that keeps every `cohort::hooks` record; returns the lines whose
/// message contains `tag`.
pub fn logged(tag: &str) -> Vec<String> {
    install_logger();
    LOG.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(tag))
        .cloned()
        .collect()
}

pub fn install_logger() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).expect("logger");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

static LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("cohort")
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            LOG.lock()
                .unwrap()
                .push(format!("{} {}", r.level(), r.args()));
        }
    }
    fn flush(&self) {}
}
