//! Running hook scripts around an operation: the before-handlers on data read from one snapshot
//! (a veto or a failure leaves one audit entry and nothing else), the after-handlers once the
//! operation has committed.

use super::{audit, Engine, PANEL_ACTOR};
use crate::error::{Error, Result};
use crate::hooks::events::with_header;
use crate::hooks::{Action, Event, LogLevel, Verdict};
use crate::store::Sql;

impl Engine {
    /// Whether a hook script listens to `event`; false, at no cost, when no hooks are configured.
    pub(super) fn hook_wants(&self, event: Event) -> bool {
        self.hooks.as_ref().is_some_and(|h| h.wants(event))
    }

    /// Runs the before-handlers of `action` on the data `build` reads from one snapshot (nothing
    /// is read when no script listens). `build` calls the operation's check function, the one its
    /// write closure calls again in the transaction, so hooks only see operations that could go
    /// ahead. A veto or a failing hook leaves exactly one audit entry (`hook.deny` or
    /// `hook.fail`), written in a transaction of its own, and nothing else.
    pub(super) fn before_hook(
        &self,
        action: Action,
        now: i64,
        build: impl FnOnce(&dyn Sql) -> Result<serde_json::Value>,
    ) -> Result<Verdict> {
        let event = Event::before(action);
        let hooks = match &self.hooks {
            Some(h) if h.wants(event) => h,
            _ => return Ok(Verdict::default()),
        };
        let data = self.store().read(|tx| build(tx))?;
        let data = with_header(event, now, data);
        hooks
            .before(event, &data, now)
            .inspect_err(|e| self.record_hook_denial(event, &data, e, now))
    }

    /// Runs the after-handlers of `action` once the operation has committed. They observe only:
    /// nothing they do changes the outcome, and their failures are logged.
    pub(super) fn after_hook(
        &self,
        action: Action,
        now: i64,
        build: impl FnOnce(&dyn Sql) -> Result<serde_json::Value>,
    ) {
        let event = Event::after(action);
        let hooks = match &self.hooks {
            Some(h) if h.wants(event) => h,
            _ => return,
        };
        let data = self.store().read(|tx| build(tx));
        match data {
            Ok(data) => hooks.after(event, &with_header(event, now, data), now),
            Err(e) => hooks.log(
                LogLevel::Warn,
                Some(event),
                &format!("could not read the event's data; its after-handlers did not run: {e}"),
            ),
        }
    }

    /// The audit entry of a veto (`hook.deny`) or of a failing hook that denied (`hook.fail`):
    /// old value the event, new value `script: reason`.
    fn record_hook_denial(&self, event: Event, data: &serde_json::Value, e: &Error, now: i64) {
        let (action, script, reason) = match e {
            Error::HookDenied { script, reason } => ("hook.deny", script, reason),
            Error::HookFailed { script, message } => ("hook.fail", script, message),
            _ => return,
        };
        let actor = data["actor"]["email"].as_str().unwrap_or(PANEL_ACTOR);
        let written = self.store().write(|tx| {
            audit(
                tx,
                now,
                actor,
                data["account"]["id"].as_str(),
                action,
                data["email"].as_str(),
                Some(event.name().to_string()),
                Some(format!("{script}: {reason}")),
            )
        });
        if let (Err(err), Some(hooks)) = (written, &self.hooks) {
            hooks.log(
                LogLevel::Error,
                Some(event),
                &format!("could not record {action} in the audit trail: {err}"),
            );
        }
    }
}
