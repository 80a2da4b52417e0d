//! Loading scripts, noticing changes, and firing events through the sandboxed VM.

use super::convert::{self, Changes};
use super::logbook::{LogLevel, LogLine, RUNTIME};
use super::sandbox::{lock, CallState, Vm, MEMORY_ERROR};
use super::scan;
use super::{Event, HooksConfig, Phase, TestReport};
use crate::model::Permissions;
use mlua::chunk::ChunkMode;
use mlua::{Function, MultiValue, Value};
use serde::Serialize;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// What `cohort hooks check` says about one script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptReport {
    /// File name, such as `10-allowed-domains.lua`.
    pub name: String,
    /// Events the script registers handlers for.
    pub events: Vec<String>,
    /// The compile or load error, with file and line.
    pub error: Option<String>,
    /// While the script fails to load: the before-events it denies (see docs/hooks.md, "Failures
    /// fail closed").
    pub blocks: Vec<String>,
}

struct Script {
    name: String,
    /// The name again, shared with the call state for log lines.
    label: Arc<str>,
    chunk: Option<Function>,
    /// Bit set of [`Event::bit`] the top level registered.
    events: u32,
    error: Option<String>,
    /// While `error` is set: the before-events the script denies (named in its text).
    blocks: u32,
}

/// (file name, size, modification time) of every script, to notice changes.
type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

pub(crate) struct Runtime {
    cfg: HooksConfig,
    catalogue_keys: Vec<String>,
    state: Arc<CallState>,
    vm: Result<Vm, String>,
    scripts: Vec<Script>,
    /// Why the directory could not be read, if it could not.
    dir_error: Option<String>,
    fingerprint: Fingerprint,
    checked_at: Instant,
    /// Memory in use once every script is loaded.
    baseline: usize,
    /// Events some loaded script handles.
    listening: u32,
    /// Before-events denied because a script, the directory or the VM is broken.
    blocked: u32,
    /// Records of the runtime itself (scripts that do not load, reloads), handed out after the
    /// call that made them.
    pending: Vec<LogLine>,
}

/// The scripts of `dir`, in name order, with what identifies their current content.
fn scan_dir(dir: &Path) -> Result<(Vec<PathBuf>, Fingerprint), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua") && p.is_file())
        .collect();
    files.sort();
    let fp = files
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).ok();
            (
                file_name(p),
                meta.as_ref().map_or(0, |m| m.len()),
                meta.and_then(|m| m.modified().ok()),
            )
        })
        .collect();
    Ok((files, fp))
}

/// A directory that cannot be read, or a VM that does not start: nothing can tell which events
/// the scripts handle, so every before-event fails closed.
fn files_error(rt: &mut Runtime) {
    rt.blocked = scan::all_before();
    if let Some(e) = rt
        .dir_error
        .clone()
        .or_else(|| rt.vm.as_ref().err().cloned())
    {
        rt.pending.push(LogLine::new(
            LogLevel::Error,
            RUNTIME,
            None,
            &format!("{e} (every before-event is denied until this is fixed)"),
        ));
    }
}

/// The names of the events in a bit set.
fn event_names(bits: u32) -> Vec<String> {
    Event::all()
        .filter(|e| bits & e.bit() != 0)
        .map(|e| e.name().to_string())
        .collect()
}

/// "before_invite, before_accept", "every before-event" or "no event", for messages.
pub(crate) fn describe_blocks(bits: u32) -> String {
    if bits == scan::all_before() {
        "every before-event".into()
    } else if bits == 0 {
        "no event".into()
    } else {
        event_names(bits).join(", ")
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl Runtime {
    /// Reads, compiles and runs the top level of every script. Never fails: a script that does
    /// not load is recorded and makes the before-events named in its text fail closed (see
    /// [`scan`]); a directory that cannot be read, or a VM that does not start, makes every
    /// before-event fail closed.
    pub fn load(cfg: &HooksConfig, catalogue_keys: Vec<String>) -> Runtime {
        let state = Arc::new(CallState::new(cfg.max_return));
        let vm = Vm::new(state.clone(), cfg.memory)
            .map_err(|e| format!("cannot start the hook VM: {}", first_line(&e.to_string())));
        let mut rt = Runtime {
            cfg: cfg.clone(),
            catalogue_keys,
            state,
            vm,
            scripts: Vec::new(),
            dir_error: None,
            fingerprint: Vec::new(),
            checked_at: Instant::now(),
            baseline: 0,
            listening: 0,
            blocked: 0,
            pending: Vec::new(),
        };
        let files = match scan_dir(&cfg.dir) {
            Ok((files, fp)) => {
                rt.fingerprint = fp;
                files
            }
            Err(e) => {
                rt.dir_error = Some(e);
                files_error(&mut rt);
                return rt;
            }
        };
        for path in files {
            let script = rt.load_script(&path);
            rt.listening |= script.events;
            rt.blocked |= script.blocks;
            if let Some(e) = &script.error {
                let blocks = describe_blocks(script.blocks);
                rt.pending.push(LogLine::new(
                    LogLevel::Error,
                    &script.name,
                    None,
                    &format!("{e} (the script does not load; it denies {blocks} until fixed)"),
                ));
            }
            rt.scripts.push(script);
        }
        if let Ok(vm) = &rt.vm {
            vm.lua.gc_collect().ok();
            rt.baseline = vm.lua.used_memory();
            if let Err(e) = vm.lua.set_memory_limit(rt.baseline + cfg.memory) {
                rt.vm = Err(format!("cannot limit the hook VM's memory: {e}"));
            }
        }
        if rt.vm.is_err() {
            files_error(&mut rt);
        }
        rt
    }

    fn load_script(&self, path: &Path) -> Script {
        let name = file_name(path);
        let mut script = Script {
            name: name.clone(),
            label: Arc::from(name.as_str()),
            chunk: None,
            events: 0,
            error: None,
            // Until its text is read, a script that fails blocks every before-event.
            blocks: scan::all_before(),
        };
        let vm = match &self.vm {
            Ok(vm) => vm,
            Err(e) => {
                script.error = Some(e.clone());
                return script;
            }
        };
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > super::MAX_SCRIPT_BYTES => Err(format!(
                "{name}: {} bytes, over the limit of {} for a script",
                m.len(),
                super::MAX_SCRIPT_BYTES
            )),
            _ => std::fs::read(path).map_err(|e| format!("{name}: {e}")),
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                script.error = Some(e);
                return script;
            }
        };
        script.blocks = scan::before_events_named(&text);
        // Text only: a file holding bytecode is refused by the loader.
        let chunk = vm
            .new_env()
            .and_then(|env| {
                vm.lua
                    .load(&text[..])
                    .set_name(format!("@{name}"))
                    .set_mode(ChunkMode::Text)
                    .set_environment(env)
                    .into_function()
            })
            .map_err(|e| describe(&e, &name, None, None));
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                script.error = Some(e);
                return script;
            }
        };
        // Run the top level once, under the budgets, to learn which events it handles.
        self.state.arm(self.cfg.deadline, 0, None);
        *lock(&self.state.script) = script.label.clone();
        let registered = self.instantiate(vm, &chunk);
        self.state.disarm();
        match registered {
            Ok(handlers) => {
                script.events = handlers.iter().fold(0, |acc, (e, _)| acc | e.bit());
                script.chunk = Some(chunk);
                script.blocks = 0;
            }
            Err(e) => script.error = Some(self.failure(&e, &name, None)),
        }
        script
    }

    /// Runs a fresh copy of a script's top level with a new, empty global table and returns the
    /// handlers it registered.
    fn instantiate(&self, vm: &Vm, chunk: &Function) -> mlua::Result<Vec<(Event, Function)>> {
        let f = fresh_copy(vm, chunk)?;
        self.register(f)
    }

    /// Runs a script's top level (see [`fresh_copy`]) and returns the handlers it registered.
    fn register(&self, f: Function) -> mlua::Result<Vec<(Event, Function)>> {
        lock(&self.state.handlers).clear();
        self.state.registering.store(true, Relaxed);
        let r = f.call::<()>(());
        self.state.registering.store(false, Relaxed);
        let handlers = std::mem::take(&mut *lock(&self.state.handlers));
        r.map(|()| handlers)
    }

    /// Runs `f` (Rust-side work only: no Lua code may run in it) without the memory limit, so
    /// that mlua skips the protected call it otherwise wraps around every table and string it
    /// creates. The limit is back in place before any script runs.
    fn unlimited<T>(&self, vm: &Vm, f: impl FnOnce() -> T) -> T {
        let _ = vm.lua.set_memory_limit(0);
        let out = f();
        let _ = vm.lua.set_memory_limit(self.baseline + self.cfg.memory);
        out
    }

    /// Notices changed, added or removed scripts (at most once per `reload_check`) and reloads.
    pub fn refresh(&mut self) {
        if self.checked_at.elapsed() < self.cfg.reload_check {
            return;
        }
        self.checked_at = Instant::now();
        let changed = match scan_dir(&self.cfg.dir) {
            Ok((_, fp)) => fp != self.fingerprint || self.dir_error.is_some(),
            Err(e) => self.dir_error.as_ref() != Some(&e),
        };
        if changed {
            let msg = format!("scripts in {} changed; reloading", self.cfg.dir.display());
            let mut pending = std::mem::take(&mut self.pending);
            pending.push(LogLine::new(LogLevel::Info, RUNTIME, None, &msg));
            *self = Runtime::load(&self.cfg, std::mem::take(&mut self.catalogue_keys));
            pending.append(&mut self.pending);
            self.pending = pending;
        }
    }

    /// How verbose the records kept for the next events are (see [`CallState::capture`]).
    pub fn set_capture(&self, level: u8) {
        self.state.capture.store(level, Relaxed);
    }

    /// The runtime's own records since the last call (taken: each is handed out once).
    pub fn take_pending(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.pending)
    }

    /// What makes `event` fail closed, if something broken blocks it: the script (or
    /// `(hooks)`) and its error.
    fn broken_for(&self, event: Event) -> Option<(String, String)> {
        if event.phase != Phase::Before || self.blocked & event.bit() == 0 {
            return None;
        }
        if let Err(e) = &self.vm {
            return Some((RUNTIME.into(), e.clone()));
        }
        if let Some(e) = &self.dir_error {
            return Some((RUNTIME.into(), e.clone()));
        }
        let broken = self
            .scripts
            .iter()
            .filter(|s| s.blocks & event.bit() != 0)
            .find_map(|s| s.error.as_ref().map(|e| (s.name.clone(), e.clone())));
        // Blocked, yet no script to blame: still closed.
        broken.or_else(|| Some((RUNTIME.into(), "a hook script does not load".into())))
    }

    /// Whether firing `event` could do anything: a script listens, or (for before-events) a
    /// broken script blocks it.
    pub fn wants(&self, event: Event) -> bool {
        let blocked = if event.phase == Phase::Before {
            self.blocked
        } else {
            0
        };
        (self.listening | blocked) & event.bit() != 0
    }

    pub fn reports(&self) -> Vec<ScriptReport> {
        let mut out: Vec<ScriptReport> = self
            .scripts
            .iter()
            .map(|s| ScriptReport {
                name: s.name.clone(),
                events: Event::all()
                    .filter(|e| s.events & e.bit() != 0)
                    .map(|e| e.name().to_string())
                    .collect(),
                error: s.error.clone(),
                blocks: event_names(s.blocks),
            })
            .collect();
        if let Some(e) = self
            .dir_error
            .clone()
            .or_else(|| self.vm.as_ref().err().cloned())
        {
            out.insert(
                0,
                ScriptReport {
                    name: RUNTIME.into(),
                    events: Vec::new(),
                    error: Some(e),
                    blocks: event_names(self.blocked),
                },
            );
        }
        out
    }

    /// Fires `event` through every listening script, in name order, under one deadline.
    pub fn fire(&mut self, event: Event, data: &Json, now: i64) -> TestReport {
        let started = Instant::now();
        let mut report = TestReport {
            event: event.name().into(),
            decision: "allow".into(),
            script: None,
            reason: None,
            permissions: None,
            expires_at: None,
            elapsed_us: 0,
            memory_bytes: 0,
            memory_in_use: 0,
            interrupts: 0,
            handlers: 0,
            logs: Vec::new(),
        };
        if let Some((script, e)) = self.broken_for(event) {
            fail(&mut report, &script, e);
            return report;
        }
        let Ok(vm) = &self.vm else {
            return report;
        };
        let mem_before = vm.lua.used_memory();
        let mut data = std::borrow::Cow::Borrowed(data);
        // Everything Rust builds for the call is built up front, outside the memory limit.
        let (copies, first_ev) = self.unlimited(vm, || {
            let copies: Vec<(&Script, mlua::Result<Function>)> = self
                .scripts
                .iter()
                .filter(|s| s.events & event.bit() != 0)
                .filter_map(|s| s.chunk.as_ref().map(|c| (s, fresh_copy(vm, c))))
                .collect();
            (copies, convert::to_lua(&vm.lua, &data))
        });
        let mut ev: Option<Value> = match first_ev {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = format!("event data: {}", strip_kind(&e.to_string()));
                fail(&mut report, "(hooks)", msg);
                return report;
            }
        };
        self.state.arm(self.cfg.deadline, now, Some(event));
        'scripts: for (script, copy) in copies {
            *lock(&self.state.script) = script.label.clone();
            let handlers = match copy.and_then(|f| self.register(f)) {
                Ok(h) => h,
                Err(e) => {
                    let msg = self.failure(&e, &script.name, None);
                    if self.settle(&mut report, event, &script.name, msg) {
                        break 'scripts;
                    }
                    continue;
                }
            };
            for (_, handler) in handlers.into_iter().filter(|(e, _)| *e == event) {
                // Where the handler is defined, for messages (looked up only when needed).
                let line = || handler.info().line_defined;
                let arg = match &ev {
                    Some(v) => v.clone(),
                    None => match self.unlimited(vm, || convert::to_lua(&vm.lua, &data)) {
                        Ok(v) => ev.insert(v).clone(),
                        Err(e) => {
                            let msg = format!("event data: {}", strip_kind(&e.to_string()));
                            fail(&mut report, "(hooks)", msg);
                            break 'scripts;
                        }
                    },
                };
                report.handlers += 1;
                *lock(&self.state.denial) = None;
                let result = handler.call::<MultiValue>(arg);
                if let Some(reason) = lock(&self.state.denial).take() {
                    if event.phase == Phase::Before {
                        report.decision = "deny".into();
                        report.script = Some(script.name.clone());
                        report.reason = Some(reason);
                        break 'scripts;
                    }
                    let msg = format!(
                        "{}:{}: cohort.deny has no effect in {event}: after-handlers observe only",
                        script.name,
                        line().unwrap_or(0)
                    );
                    if self.settle(&mut report, event, &script.name, msg) {
                        break 'scripts;
                    }
                    continue;
                }
                let values = match result {
                    Ok(v) => v,
                    Err(e) => {
                        let msg = self.failure(&e, &script.name, line());
                        if self.settle(&mut report, event, &script.name, msg) {
                            break 'scripts;
                        }
                        continue;
                    }
                };
                let blown =
                    self.state.tripped.load(Relaxed) || self.state.memory_blown.load(Relaxed);
                let budget = blown.then(|| self.budget_failure(&script.name, line()));
                if let Some(msg) = budget.flatten() {
                    if self.settle(&mut report, event, &script.name, msg) {
                        break 'scripts;
                    }
                    continue;
                }
                if event.phase == Phase::After {
                    continue;
                }
                match self.interpret(event, values, &data, now) {
                    Ok(None) => {}
                    Ok(Some(changed)) => {
                        data = std::borrow::Cow::Owned(changed);
                        ev = None;
                    }
                    Err(Decision::Deny(reason)) => {
                        report.decision = "deny".into();
                        report.script = Some(script.name.clone());
                        report.reason = Some(reason);
                        break 'scripts;
                    }
                    Err(Decision::Fail(msg)) => {
                        let at = format!("{}:{}", script.name, line().unwrap_or(0));
                        fail(
                            &mut report,
                            &script.name,
                            format!("{at}: handler of {event} {msg}"),
                        );
                        break 'scripts;
                    }
                }
            }
        }
        self.state.disarm();
        if report.decision == "allow" && event == Event::before(super::Action::Invite) {
            if let std::borrow::Cow::Owned(d) = &data {
                report.permissions = d
                    .get("permissions")
                    .and_then(convert::permissions_from_json);
                report.expires_at = d.get("expires_at").and_then(Json::as_i64);
            }
        }
        let used = vm.lua.used_memory();
        report.elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        report.memory_bytes = used.saturating_sub(mem_before) as u64;
        report.memory_in_use = used as u64;
        report.interrupts = self.state.interrupts.load(Relaxed);
        report.logs = std::mem::take(&mut *lock(&self.state.logs));
        let dropped = self.state.dropped_logs.load(Relaxed);
        if dropped > 0 {
            report.logs.push(LogLine::new(
                LogLevel::Warn,
                RUNTIME,
                Some(event),
                &format!(
                    "{dropped} more log lines of this event were dropped (at most {} are kept)",
                    super::sandbox::MAX_LOG_LINES
                ),
            ));
        }
        drop(ev);
        // Keep garbage from piling up towards the limit between calls.
        if used > self.baseline + self.cfg.memory / 4 {
            vm.lua.gc_collect().ok();
        }
        report
    }

    /// Records a failure. Before-events stop at the first; after-events log it and go on with
    /// the other scripts unless the budget is gone. Returns whether to stop.
    fn settle(&self, report: &mut TestReport, event: Event, script: &str, msg: String) -> bool {
        if event.phase == Phase::After && self.state.wants(LogLevel::Warn) {
            self.state.keep(LogLine::new(
                LogLevel::Warn,
                script,
                Some(event),
                &format!("{msg} (an after-handler failed; the operation stands)"),
            ));
        }
        if report.decision != "error" {
            fail(report, script, msg);
        }
        event.phase == Phase::Before
            || self.state.tripped.load(Relaxed)
            || self.state.memory_blown.load(Relaxed)
    }

    /// The failure a blown budget means, even when the script caught the error and returned.
    fn budget_failure(&self, script: &str, line: Option<usize>) -> Option<String> {
        if self.state.tripped.load(Relaxed) {
            let at = lock(&self.state.tripped_at)
                .clone()
                .filter(|a| a.starts_with(&format!("{script}:")))
                .unwrap_or_else(|| format!("{script}:{}", line.unwrap_or(0)));
            return Some(format!(
                "{at}: deadline of {} ms exceeded (hooks.deadline)",
                self.cfg.deadline.as_millis()
            ));
        }
        if self.state.memory_blown.load(Relaxed) {
            return Some(format!(
                "{script}:{}: memory limit of {} exceeded (hooks.memory)",
                line.unwrap_or(0),
                human_size(self.cfg.memory)
            ));
        }
        None
    }

    /// The message of a failed call: budget failures first, then the error with its location.
    fn failure(&self, e: &mlua::Error, script: &str, line: Option<usize>) -> String {
        if is_memory_error(e) {
            self.state.memory_blown.store(true, Relaxed);
        }
        if let Some(msg) = self.budget_failure(script, line) {
            return msg;
        }
        describe(e, script, line, None)
    }

    /// What a before-handler's return values mean.
    fn interpret(
        &self,
        event: Event,
        values: MultiValue,
        data: &Json,
        now: i64,
    ) -> Result<Option<Json>, Decision> {
        let max = self.cfg.max_return;
        let mut vals: Vec<Value> = values.into_iter().collect();
        while matches!(vals.last(), Some(Value::Nil)) {
            vals.pop();
        }
        match vals.as_slice() {
            [] | [Value::Boolean(true)] => Ok(None),
            [Value::Boolean(false)] => Err(Decision::Deny("no reason given".into())),
            [Value::Boolean(false), Value::String(s)] => {
                if s.as_bytes().len() > max {
                    Err(Decision::Fail(format!(
                        "returned a reason of {} bytes, over the limit of {max} (hooks.max_return)",
                        s.as_bytes().len()
                    )))
                } else {
                    Err(Decision::Deny(s.to_string_lossy()))
                }
            }
            [Value::Table(t)] if event == Event::before(super::Action::Invite) => {
                let changes = convert::changes_from_table(t, max).map_err(Decision::Fail)?;
                self.narrow(data, changes, now).map(Some).map_err(Decision::Fail)
            }
            [Value::String(s)] if s.as_bytes().len() > max => Err(Decision::Fail(format!(
                "returned a string of {} bytes; a before-handler returns nothing, true, or false and a reason",
                s.as_bytes().len()
            ))),
            [Value::Table(_)] => Err(Decision::Fail(
                "returned a table; only before_invite may return a table of changes".into(),
            )),
            other => Err(Decision::Fail(format!(
                "returned {}; a before-handler returns nothing, true, or false and a reason",
                describe_values(other)
            ))),
        }
    }

    /// Applies a `before_invite` narrowing to the event data; widening is an error.
    fn narrow(&self, data: &Json, c: Changes, now: i64) -> Result<Json, String> {
        let mut out = data.clone();
        if let Some(p) = c.permissions {
            let current = data
                .get("permissions")
                .and_then(convert::permissions_from_json)
                .ok_or("the event has no permissions to narrow")?;
            if let Permissions::Keys(keys) = &p {
                if keys.is_empty() {
                    return Err("returned an empty permission list; deny the invite instead".into());
                }
                if let Some(k) = keys.iter().find(|k| !self.catalogue_keys.contains(k)) {
                    return Err(format!("returned unknown permission {k:?}"));
                }
            }
            if !current.covers(&p) {
                return Err(format!(
                    "tried to widen the permissions from {} to {}; hooks may only narrow them",
                    current.to_text(),
                    p.to_text()
                ));
            }
            out["permissions"] = convert::permissions_to_json(&p);
        }
        let current_exp = data.get("expires_at").and_then(Json::as_i64);
        let mut new_exp = None;
        if let Some(ttl) = c.ttl {
            new_exp = Some(now.saturating_add(ttl));
        }
        if let Some(e) = c.expires_at {
            new_exp = Some(new_exp.map_or(e, |n: i64| n.min(e)));
        }
        if let Some(e) = new_exp {
            let cur = current_exp.ok_or("the event has no expiry to shorten")?;
            if e > cur {
                return Err(format!(
                    "tried to extend the expiry from {cur} to {e}; hooks may only shorten it"
                ));
            }
            if e <= now {
                return Err(format!(
                    "returned an expiry ({e}) that is not in the future (now is {now})"
                ));
            }
            out["expires_at"] = Json::from(e);
            if out.get("ttl").is_some() {
                out["ttl"] = Json::from(e - now);
            }
        }
        Ok(out)
    }
}

/// A copy of a script's compiled chunk with a new, empty global table of its own, whose reads
/// fall through to the read-only allowlisted globals.
fn fresh_copy(vm: &Vm, chunk: &Function) -> mlua::Result<Function> {
    let f = chunk.deep_clone()?;
    f.set_environment(vm.new_env()?)?;
    Ok(f)
}

enum Decision {
    Deny(String),
    Fail(String),
}

fn fail(report: &mut TestReport, script: &str, msg: String) {
    report.decision = "error".into();
    report.script = Some(script.to_string());
    report.reason = Some(msg);
}

fn describe_values(v: &[Value]) -> String {
    match v {
        [one] => {
            let t = lua_type(one);
            let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {t}")
        }
        many => format!(
            "{} values ({})",
            many.len(),
            many.iter()
                .take(4)
                .map(lua_type)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The type name Lua's own `type()` gives.
pub(crate) fn lua_type(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) | Value::Number(_) => "number",
        other => other.type_name(),
    }
}

fn is_memory_error(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::RuntimeError(m) => first_line(m).ends_with(MEMORY_ERROR),
        mlua::Error::CallbackError { cause, .. } => is_memory_error(cause),
        mlua::Error::WithContext { cause, .. } => is_memory_error(cause),
        _ => false,
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Drops the "runtime error: " style prefix mlua puts before Lua's own message.
fn strip_kind(s: &str) -> &str {
    for p in ["runtime error: ", "syntax error: ", "memory error: "] {
        if let Some(rest) = s.strip_prefix(p) {
            return rest;
        }
    }
    s
}

/// `script:line: message` for an error, finding the line in Lua's message or traceback.
fn describe(e: &mlua::Error, script: &str, line: Option<usize>, tb: Option<&str>) -> String {
    match e {
        mlua::Error::CallbackError { traceback, cause } => {
            describe(cause, script, line, Some(tb.unwrap_or(traceback)))
        }
        mlua::Error::WithContext { cause, .. } => describe(cause, script, line, tb),
        _ => {
            let full = e.to_string();
            let msg = strip_kind(first_line(&full)).trim();
            let prefix = format!("{script}:");
            if has_location(msg, &prefix) {
                return msg.to_string();
            }
            let from_tb = tb
                .into_iter()
                .chain(std::iter::once(full.as_str()))
                .flat_map(str::lines)
                .find_map(|l| location_in(l.trim(), &prefix));
            match (from_tb, line) {
                (Some(at), _) => format!("{at}: {msg}"),
                (None, Some(l)) => format!("{script}:{l}: {msg}"),
                (None, None) => format!("{script}: {msg}"),
            }
        }
    }
}

/// Whether `msg` starts with `script:<digits>:`.
fn has_location(msg: &str, prefix: &str) -> bool {
    msg.strip_prefix(prefix).is_some_and(|rest| {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(':')
    })
}

/// `script:<digits>` found at the start of a traceback line.
fn location_in(line: &str, prefix: &str) -> Option<String> {
    let rest = line.strip_prefix(prefix)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then(|| format!("{prefix}{digits}"))
}

fn human_size(n: usize) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}
