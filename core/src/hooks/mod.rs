//! Lua (Luau) hook scripts written by hosting admins to enforce local policy.
//!
//! Scripts live in one directory and are loaded in name order. Each registers handlers with
//! `cohort.on("before_invite", function(ev) ... end)`. Before-handlers may veto an operation
//! (`return false, "reason"` or `cohort.deny("reason")`); `before_invite` may also narrow the
//! permissions or shorten the expiry. After-handlers observe only.
//!
//! The sandbox is an allowlist (see [`sandbox`]): no io, os (but time/date/clock), require,
//! load, debug. Budgets are set before any script runs: a wall-clock deadline enforced by Luau
//! interrupts (which also fire inside pattern matching and coroutines), a memory limit, and a
//! limit on what a handler may return. A blown budget cannot be swallowed by `pcall`.
//!
//! Every event instantiates the scripts that listen to it afresh: the compiled chunk runs again
//! with a new, empty global table, so nothing persists from one call to the next. A script that
//! fails (error, timeout, memory, unexpected return) denies the operation unless
//! `on_error = "allow"`; the message names the script and the line. A script that does not load
//! denies the before-events its text names (see `scan.rs`).
//!
//! What scripts log, and failures that change no outcome, are records handed to the log
//! destinations once the event is over (see [`logbook`]).

mod convert;
pub(crate) mod events;
pub mod logbook;
mod runtime;
mod sandbox;
mod scan;

use crate::error::{Error, Result};
use crate::model::Permissions;
use logbook::Logbook;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use logbook::{LogCallback, LogConfig, LogLevel, LogLine, SyslogConfig};
pub use runtime::ScriptReport;

/// Default wall-clock budget of one event (all of its handlers together).
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(50);
/// Default memory budget of the hook VM.
pub const DEFAULT_MEMORY: usize = 8 << 20;
/// Default limit, in bytes, on what a handler returns.
pub const DEFAULT_MAX_RETURN: usize = 4096;
/// Default interval between checks for changed scripts.
pub const DEFAULT_RELOAD_CHECK: Duration = Duration::from_secs(1);
/// Largest script file accepted.
pub const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// What a failing hook (error, timeout, memory, unexpected return) means for the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Fail closed: the operation is refused (the default).
    #[default]
    Deny,
    /// Fail open: the failure is logged and the operation goes on.
    Allow,
}

/// The `[hooks]` section of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HooksConfig {
    /// Directory of `*.lua` scripts.
    pub dir: PathBuf,
    /// Wall-clock budget of all handlers of one event together.
    pub deadline: Duration,
    /// Memory budget of the hook VM, in bytes, on top of what the loaded scripts occupy.
    pub memory: usize,
    /// Largest value, in bytes, a handler may return (a reason, a narrowed permission list).
    pub max_return: usize,
    pub on_error: OnError,
    /// How often the directory is checked for changed scripts (zero: on every event).
    pub reload_check: Duration,
}

impl HooksConfig {
    /// Defaults with scripts in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> HooksConfig {
        HooksConfig {
            dir: dir.into(),
            deadline: DEFAULT_DEADLINE,
            memory: DEFAULT_MEMORY,
            max_return: DEFAULT_MAX_RETURN,
            on_error: OnError::Deny,
            reload_check: DEFAULT_RELOAD_CHECK,
        }
    }
}

/// Whether a handler runs before the operation (and may veto it) or after it (observes only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Before,
    After,
}

/// The operations hooks can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Invite,
    Accept,
    Revoke,
    Resend,
    Cancel,
    Decline,
    Permissions,
    Transfer,
    Expire,
    Login,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Invite,
        Action::Accept,
        Action::Revoke,
        Action::Resend,
        Action::Cancel,
        Action::Decline,
        Action::Permissions,
        Action::Transfer,
        Action::Expire,
        Action::Login,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Invite => "invite",
            Action::Accept => "accept",
            Action::Revoke => "revoke",
            Action::Resend => "resend",
            Action::Cancel => "cancel",
            Action::Decline => "decline",
            Action::Permissions => "permissions",
            Action::Transfer => "transfer",
            Action::Expire => "expire",
            Action::Login => "login",
        }
    }
}

/// An event a handler can be registered for, such as `before_invite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    pub phase: Phase,
    pub action: Action,
}

impl Event {
    pub const fn before(action: Action) -> Event {
        Event {
            phase: Phase::Before,
            action,
        }
    }

    pub const fn after(action: Action) -> Event {
        Event {
            phase: Phase::After,
            action,
        }
    }

    /// Every event, before and after for each action.
    pub fn all() -> impl Iterator<Item = Event> {
        Action::ALL
            .into_iter()
            .flat_map(|a| [Event::before(a), Event::after(a)])
    }

    /// Parses `before_invite`, `after_revoke`, ...
    pub fn parse(name: &str) -> Option<Event> {
        Event::all().find(|e| e.name() == name)
    }

    /// The name scripts use, such as `before_invite`.
    pub fn name(self) -> &'static str {
        macro_rules! names {
            ($($a:ident => $b:literal, $f:literal;)*) => {
                match (self.phase, self.action) {
                    $((Phase::Before, Action::$a) => $b, (Phase::After, Action::$a) => $f,)*
                }
            };
        }
        names! {
            Invite => "before_invite", "after_invite";
            Accept => "before_accept", "after_accept";
            Revoke => "before_revoke", "after_revoke";
            Resend => "before_resend", "after_resend";
            Cancel => "before_cancel", "after_cancel";
            Decline => "before_decline", "after_decline";
            Permissions => "before_permissions", "after_permissions";
            Transfer => "before_transfer", "after_transfer";
            Expire => "before_expire", "after_expire";
            Login => "before_login", "after_login";
        }
    }

    /// A bit of its own, for sets of events.
    pub(crate) fn bit(self) -> u32 {
        let i = Action::ALL
            .iter()
            .position(|a| *a == self.action)
            .unwrap_or(0) as u32;
        1 << (2 * i + u32::from(self.phase == Phase::After))
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the before-handlers of an event allowed, with the narrowing `before_invite` may apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Narrower permissions than asked for (only from `before_invite`).
    pub permissions: Option<Permissions>,
    /// An earlier expiry than asked for (only from `before_invite`).
    pub expires_at: Option<i64>,
}

/// How one event went, as `cohort hooks test` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub event: String,
    /// `allow`, `deny` (a veto), or `error` (a failing hook; denies unless `on_error = "allow"`).
    pub decision: String,
    /// The script that vetoed or failed.
    pub script: Option<String>,
    /// The veto's reason or the failure's message.
    pub reason: Option<String>,
    /// Narrowed permissions (`"all"` or a list of keys), from `before_invite`.
    pub permissions: Option<Permissions>,
    /// Shortened expiry, from `before_invite`.
    pub expires_at: Option<i64>,
    /// Wall-clock time of all handlers, in microseconds.
    pub elapsed_us: u64,
    /// Bytes the VM grew by during the event.
    pub memory_bytes: u64,
    /// Memory in use by the VM after the event, in bytes.
    pub memory_in_use: u64,
    /// Times the VM checked the deadline (each loop iteration, call, pattern step).
    pub interrupts: u64,
    /// Handlers that ran.
    pub handlers: u32,
    pub logs: Vec<LogLine>,
}

impl TestReport {
    /// Whether the operation would go on: allowed, or a failing hook under `on_error = "allow"`
    /// (a veto always stops it). The same decision the engine makes for a real event.
    pub fn would_proceed(&self, on_error: OnError) -> bool {
        match self.decision.as_str() {
            "allow" => true,
            "error" => on_error == OnError::Allow,
            _ => false,
        }
    }
}

/// The hook scripts of one engine: one VM, behind a mutex, created on first use.
pub struct Hooks {
    cfg: HooksConfig,
    catalogue_keys: Vec<String>,
    rt: Mutex<Option<runtime::Runtime>>,
    /// Where log records go.
    log: Arc<Logbook>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").field("cfg", &self.cfg).finish()
    }
}

impl Hooks {
    /// Hooks from `cfg`; `catalogue_keys` are the permission keys narrowing may use. The
    /// directory must exist; scripts are read on first use and whenever they change.
    pub fn new(cfg: HooksConfig, catalogue_keys: Vec<String>) -> Result<Hooks> {
        Hooks::with_log(cfg, catalogue_keys, Arc::new(Logbook::none()))
    }

    /// Like [`Hooks::new`], with the log destinations of `log` (which the engine shares).
    pub(crate) fn with_log(
        cfg: HooksConfig,
        catalogue_keys: Vec<String>,
        log: Arc<Logbook>,
    ) -> Result<Hooks> {
        if !cfg.dir.is_dir() {
            return Err(Error::config(
                "hooks.dir",
                format!("{} is not a directory", cfg.dir.display()),
            ));
        }
        Ok(Hooks {
            cfg,
            catalogue_keys,
            rt: Mutex::new(None),
            log,
        })
    }

    /// Sets (or removes) a logger that receives every record at `level` or more severe; see
    /// [`crate::Engine::set_logger`].
    pub fn set_logger(&self, level: LogLevel, logger: Option<LogCallback>) -> Result<()> {
        self.log.set_callback(level, logger)
    }

    pub fn config(&self) -> &HooksConfig {
        &self.cfg
    }

    fn runtime(&self) -> MutexGuard<'_, Option<runtime::Runtime>> {
        // The VM is rebuilt from the scripts if a panic poisoned the lock mid-call.
        match self.rt.lock() {
            Ok(g) => g,
            Err(p) => {
                let mut g = p.into_inner();
                *g = None;
                g
            }
        }
    }

    /// Runs `f` on the VM (loading or reloading scripts first); the runtime's own records are
    /// handed out afterwards, outside the VM's lock.
    fn with_runtime<T>(&self, f: impl FnOnce(&mut runtime::Runtime) -> T) -> T {
        let (out, pending) = {
            let mut guard = self.runtime();
            let rt = match guard.as_mut() {
                Some(rt) => {
                    rt.refresh();
                    rt
                }
                None => guard.insert(runtime::Runtime::load(
                    &self.cfg,
                    self.catalogue_keys.clone(),
                )),
            };
            rt.set_capture(self.log.capture());
            let out = f(rt);
            (out, rt.take_pending())
        };
        self.log.deliver(&pending);
        out
    }

    /// Fires `event` and hands its records to the log destinations.
    fn fire(&self, event: Event, data: &serde_json::Value, now: i64) -> TestReport {
        let mut report = self.with_runtime(|rt| rt.fire(event, data, now));
        self.log.deliver(&report.logs);
        report.logs.clear();
        report
    }

    /// Hands records of the engine (not of a script) to the log destinations.
    pub(crate) fn log(&self, level: LogLevel, event: Option<Event>, message: &str) {
        self.log
            .deliver(&[LogLine::new(level, logbook::RUNTIME, event, message)]);
    }

    /// Whether any script listens to `event`, or a broken script makes it fail closed.
    pub fn wants(&self, event: Event) -> bool {
        self.with_runtime(|rt| rt.wants(event))
    }

    /// Runs the before-handlers of `event` on `data`. A veto is [`Error::HookDenied`]; a failing
    /// hook is [`Error::HookFailed`] unless `on_error = "allow"`.
    pub fn before(&self, event: Event, data: &serde_json::Value, now: i64) -> Result<Verdict> {
        debug_assert_eq!(event.phase, Phase::Before);
        let report = self.fire(event, data, now);
        self.verdict(event, report)
    }

    /// Runs the after-handlers of `event`. They observe only: failures are logged.
    pub fn after(&self, event: Event, data: &serde_json::Value, now: i64) {
        debug_assert_eq!(event.phase, Phase::After);
        self.fire(event, data, now);
    }

    fn verdict(&self, event: Event, r: TestReport) -> Result<Verdict> {
        let script = r.script.unwrap_or_default();
        let reason = r.reason.unwrap_or_default();
        match r.decision.as_str() {
            "deny" => Err(Error::HookDenied { script, reason }),
            "error" if self.cfg.on_error == OnError::Deny => Err(Error::HookFailed {
                script,
                message: reason,
            }),
            "error" => {
                self.log.deliver(&[LogLine::new(
                    LogLevel::Warn,
                    &script,
                    Some(event),
                    &format!("{reason} (the hook failed; allowed by on_error = \"allow\")"),
                )]);
                Ok(Verdict::default())
            }
            _ => Ok(Verdict {
                permissions: r.permissions,
                expires_at: r.expires_at,
            }),
        }
    }
}

/// Compiles and runs the top level of every script in `dir`, reporting errors with file and
/// line, and the events each script registers.
pub fn check_dir(dir: &Path) -> Result<Vec<ScriptReport>> {
    check_dir_with(&HooksConfig::new(dir))
}

/// Like [`check_dir`], with the budgets of `cfg`.
pub fn check_dir_with(cfg: &HooksConfig) -> Result<Vec<ScriptReport>> {
    if !cfg.dir.is_dir() {
        return Err(Error::Io {
            path: cfg.dir.display().to_string(),
            message: "not a directory".into(),
        });
    }
    let keys = crate::permissions::Catalogue::default().keys();
    let rt = runtime::Runtime::load(cfg, keys);
    Ok(rt.reports())
}

/// Fires one event with `data` (the `ev` table, as JSON) through the scripts of `cfg.dir` and
/// reports the decision, the time, memory and interrupts used, and the log lines.
pub fn test_event(
    cfg: &HooksConfig,
    catalogue_keys: Vec<String>,
    event: &str,
    data: &serde_json::Value,
    now: i64,
) -> Result<TestReport> {
    let event = Event::parse(event).ok_or_else(|| Error::InvalidArgument {
        field: "event",
        message: format!(
            "unknown event {event:?}; events are: {}",
            Event::all().map(Event::name).collect::<Vec<_>>().join(", ")
        ),
    })?;
    if !data.is_object() {
        return Err(Error::InvalidArgument {
            field: "event data",
            message: "must be a JSON object (the ev table)".into(),
        });
    }
    // Every line is kept for the report; nothing is written to the configured destinations.
    let hooks = Hooks::with_log(cfg.clone(), catalogue_keys, Arc::new(Logbook::keep_all()))?;
    Ok(hooks.with_runtime(|rt| rt.fire(event, data, now)))
}

/// Parses "50ms", "2s", "1m" or a bare number of milliseconds.
pub fn parse_millis(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Parses "8MiB", "512KiB", "1GiB", "4096" (bytes; "KB"/"MB" are read as KiB/MiB).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip_and_bits_are_distinct() {
        let mut bits = 0u32;
        for e in Event::all() {
            assert_eq!(Event::parse(e.name()), Some(e));
            assert_eq!(bits & e.bit(), 0, "{e}");
            bits |= e.bit();
        }
        assert_eq!(Event::all().count(), 20);
        assert_eq!(Event::parse("before_invit"), None);
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_millis("50ms"), Some(50));
        assert_eq!(parse_millis("2s"), Some(2000));
        assert_eq!(parse_millis("75"), Some(75));
        assert_eq!(parse_millis("fast"), None);
        assert_eq!(parse_millis("5h"), None);
        assert_eq!(parse_size("8MiB"), Some(8 << 20));
        assert_eq!(parse_size("512 KiB"), Some(512 << 10));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("lots"), None);
    }
}
