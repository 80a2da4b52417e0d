//! The hook VM: Luau with an allowlisted environment, read-only libraries, and budgets that are
//! in place before any script runs.
//!
//! What a script can reach is built here, name by name: the base functions below, `string`,
//! `table`, `math`, `utf8`, `coroutine`, `os.time`/`os.date`/`os.clock`, and `cohort`. Nothing
//! else exists for it: no `io`, `os.execute`, `os.getenv`, `require`, `package`, `load`,
//! `loadstring`, `dofile`, `loadfile`, `getfenv`, `setfenv`, `debug`, `newproxy`.
//! `collectgarbage` answers `"count"` only. Every table a script can reach from its globals, and
//! the string metatable, is read-only; each event gives each script a fresh global table, so
//! nothing a call writes is seen by the next.
//!
//! `pcall`, `xpcall` and `coroutine.resume` are wrapped: once the deadline has passed, memory ran
//! out, or `cohort.deny` was called, the error they catch is raised again, so a script cannot
//! swallow a blown budget or a veto.

use super::logbook::{self, LogLevel, LogLine};
use super::Event;
use mlua::chunk::ChunkMode;
use mlua::{ffi, Function, Lua, LuaOptions, StdLib, Table, Value};
use std::cell::RefCell;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What Luau reports when an allocation is refused.
pub(crate) const MEMORY_ERROR: &str = "not enough memory";
/// Most log lines one event keeps; later ones are counted, not kept.
pub(crate) const MAX_LOG_LINES: usize = 100;
/// Longest log message kept, in bytes.
const MAX_LOG_BYTES: usize = 4096;

const BASE: &[&str] = &[
    "assert",
    "error",
    "getmetatable",
    "ipairs",
    "next",
    "pairs",
    "rawequal",
    "rawget",
    "rawlen",
    "rawset",
    "select",
    "setmetatable",
    "tonumber",
    "tostring",
    "type",
    "typeof",
    "unpack",
];
const STRING: &[&str] = &[
    "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match", "pack",
    "packsize", "rep", "reverse", "split", "sub", "unpack", "upper",
];
const TABLE: &[&str] = &[
    "clear", "clone", "concat", "create", "find", "foreach", "foreachi", "freeze", "getn",
    "insert", "isfrozen", "maxn", "move", "pack", "remove", "sort", "unpack",
];
// Not `randomseed`: the generator's state would carry over from one call to the next.
const MATH: &[&str] = &[
    "abs", "acos", "asin", "atan", "atan2", "ceil", "clamp", "cos", "cosh", "deg", "exp", "floor",
    "fmod", "frexp", "huge", "isfinite", "isinf", "isnan", "ldexp", "lerp", "log", "log10", "map",
    "max", "min", "modf", "noise", "pi", "pow", "rad", "random", "round", "sign", "sin", "sinh",
    "sqrt", "tan", "tanh",
];
const UTF8: &[&str] = &["char", "charpattern", "codepoint", "codes", "len", "offset"];
const OS: &[&str] = &["clock", "date", "time"];
const COROUTINE: &[&str] = &[
    "close",
    "create",
    "isyieldable",
    "running",
    "status",
    "wrap",
    "yield",
];

/// Field names and common values of event data (see `pinned` in [`Vm::new`]).
const PINNED: &[&str] = &[
    "event",
    "time",
    "account",
    "id",
    "name",
    "owner",
    "member_count",
    "pending_invites",
    "actor",
    "email",
    "exists",
    "two_factor",
    "last_login",
    "role",
    "permissions",
    "invitee",
    "expires_at",
    "ttl",
    "invite_id",
    "invite",
    "invited_by",
    "status",
    "created_at",
    "times_sent",
    "user",
    "registering",
    "previous_status",
    "old_permissions",
    "member",
    "leaving",
    "all",
    "pending",
    "accepted",
    "cancelled",
    "declined",
    "expired",
    "system",
    "before_invite",
    "after_invite",
    "before_accept",
    "after_accept",
    "before_revoke",
    "after_revoke",
    "before_resend",
    "after_resend",
    "before_cancel",
    "after_cancel",
    "before_decline",
    "after_decline",
    "before_permissions",
    "after_permissions",
    "before_transfer",
    "after_transfer",
    "before_expire",
    "after_expire",
    "before_login",
    "after_login",
    "profile",
    "contacts",
    "products",
    "manageproducts",
    "productsso",
    "domains",
    "managedomains",
    "invoices",
    "quotes",
    "tickets",
    "affiliates",
    "emails",
    "orders",
    "users",
];

/// Re-raises budget errors and vetoes that `pcall`, `xpcall` or `coroutine.resume` caught.
const WRAPPERS: &str = r#"
local rawpcall, rawxpcall, rawresume, blown, rawerror = ...
local function pass(ok, ...)
    if not ok and blown((...)) then
        rawerror((...), 0)
    end
    return ok, ...
end
local function pcall(f, ...)
    return pass(rawpcall(f, ...))
end
local function xpcall(f, handler, ...)
    return pass(rawxpcall(f, function(e)
        if blown(e) then
            return e
        end
        return handler(e)
    end, ...))
end
local function resume(co, ...)
    return pass(rawresume(co, ...))
end
return pcall, xpcall, resume
"#;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// State shared between the runtime and the Rust functions scripts call, for one event at a time.
pub(crate) struct CallState {
    epoch: Instant,
    /// Nanoseconds after `epoch` when the current call must stop; `u64::MAX` when no call runs.
    deadline_ns: AtomicU64,
    pub tripped: AtomicBool,
    /// `script:line` where the deadline was noticed.
    pub tripped_at: Mutex<Option<String>>,
    pub memory_blown: AtomicBool,
    pub interrupts: AtomicU64,
    pub denial: Mutex<Option<String>>,
    /// True while a script's top level runs (the only time `cohort.on` may be called).
    pub registering: AtomicBool,
    pub handlers: Mutex<Vec<(Event, Function)>>,
    pub now: AtomicI64,
    pub logs: Mutex<Vec<LogLine>>,
    pub dropped_logs: AtomicU64,
    /// The most verbose [`LogLevel`] any destination takes (0: none): `cohort.log` and `print`
    /// below it return at once.
    pub capture: AtomicU8,
    /// [`Event::bit`] of the event running (0 while a script loads), for log records.
    pub event: AtomicU32,
    pub script: Mutex<Arc<str>>,
    pub max_return: usize,
}

thread_local! {
    /// The budget of the call running on this thread. A VM is used by one thread at a time
    /// (behind the runtime's mutex), and its interrupts fire on that thread.
    static RUNNING: RefCell<Option<Arc<CallState>>> = const { RefCell::new(None) };
}

impl CallState {
    pub fn new(max_return: usize) -> CallState {
        CallState {
            epoch: Instant::now(),
            deadline_ns: AtomicU64::new(u64::MAX),
            tripped: AtomicBool::new(false),
            tripped_at: Mutex::new(None),
            memory_blown: AtomicBool::new(false),
            interrupts: AtomicU64::new(0),
            denial: Mutex::new(None),
            registering: AtomicBool::new(false),
            handlers: Mutex::new(Vec::new()),
            now: AtomicI64::new(0),
            logs: Mutex::new(Vec::new()),
            dropped_logs: AtomicU64::new(0),
            capture: AtomicU8::new(0),
            event: AtomicU32::new(0),
            script: Mutex::new(Arc::from("")),
            max_return,
        }
    }

    /// Starts the budget of one event on this thread.
    pub fn arm(self: &Arc<Self>, deadline: Duration, now: i64, event: Option<Event>) {
        RUNNING.with(|r| *r.borrow_mut() = Some(self.clone()));
        self.event.store(event.map_or(0, Event::bit), Relaxed);
        self.tripped.store(false, Relaxed);
        *lock(&self.tripped_at) = None;
        self.memory_blown.store(false, Relaxed);
        self.interrupts.store(0, Relaxed);
        *lock(&self.denial) = None;
        self.now.store(now, Relaxed);
        self.dropped_logs.store(0, Relaxed);
        lock(&self.logs).clear();
        let end = self.epoch.elapsed().saturating_add(deadline).as_nanos();
        self.deadline_ns
            .store(u64::try_from(end).unwrap_or(u64::MAX - 1), Relaxed);
    }

    pub fn disarm(&self) {
        self.deadline_ns.store(u64::MAX, Relaxed);
        RUNNING.with(|r| *r.borrow_mut() = None);
    }

    fn past_deadline(&self) -> bool {
        let dl = self.deadline_ns.load(Relaxed);
        dl != u64::MAX && self.epoch.elapsed().as_nanos() >= u128::from(dl)
    }

    /// Whether the current call must end now, whatever the script catches.
    pub fn blown(&self) -> bool {
        self.tripped.load(Relaxed)
            || self.memory_blown.load(Relaxed)
            || lock(&self.denial).is_some()
    }

    /// Whether the running call must stop now (called at every interrupt). Reading the clock
    /// costs more than the rest of this, so it is read at every 16th interrupt: they come at
    /// every call, loop iteration and pattern-matching step.
    ///
    /// # Safety
    /// `state` is the running Lua thread.
    unsafe fn must_stop(&self, state: *mut ffi::lua_State) -> bool {
        let n = self.interrupts.fetch_add(1, Relaxed);
        if (!n.is_multiple_of(16) && !self.tripped.load(Relaxed)) || !self.past_deadline() {
            return false;
        }
        if !self.tripped.swap(true, Relaxed) {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getinfo(state, 0, c"sl".as_ptr(), &mut ar) != 0
                && !ar.short_src.is_null()
                && ar.currentline > 0
            {
                let src = std::ffi::CStr::from_ptr(ar.short_src).to_string_lossy();
                *lock(&self.tripped_at) = Some(format!("{src}:{}", ar.currentline));
            }
        }
        true
    }

    /// Whether a record at `level` would reach any destination.
    pub fn wants(&self, level: LogLevel) -> bool {
        level as u8 <= self.capture.load(Relaxed)
    }

    /// The event running, if any.
    pub fn event(&self) -> Option<Event> {
        let bit = self.event.load(Relaxed);
        (bit != 0)
            .then(|| Event::all().find(|e| e.bit() == bit))
            .flatten()
    }

    /// Keeps a line a script wrote at `line` of the running script (at most
    /// [`MAX_LOG_LINES`] per event).
    fn log(&self, level: LogLevel, line: Option<usize>, message: &str) {
        let record = LogLine {
            time: std::time::SystemTime::now(),
            level,
            script: lock(&self.script).to_string(),
            line: line.and_then(|l| u32::try_from(l).ok()),
            event: self.event(),
            message: logbook::clean(&truncate(message, MAX_LOG_BYTES)),
        };
        self.keep(record);
    }

    /// Keeps a record for the end of the event, if any destination wants its level.
    pub fn keep(&self, record: LogLine) {
        if !self.wants(record.level) {
            return;
        }
        let mut logs = lock(&self.logs);
        if logs.len() < MAX_LOG_LINES {
            logs.push(record);
        } else {
            self.dropped_logs.fetch_add(1, Relaxed);
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// A ready VM: the Lua state and the metatable every per-call global table gets.
pub(crate) struct Vm {
    pub lua: Lua,
    /// `{ __index = <the read-only allowlisted globals> }`, itself read-only.
    pub env_meta: Table,
}

impl Vm {
    /// Builds the VM. Budgets (interrupt, memory limit) are installed before anything runs.
    pub fn new(state: Arc<CallState>, memory_limit: usize) -> mlua::Result<Vm> {
        let libs = StdLib::STRING
            | StdLib::TABLE
            | StdLib::MATH
            | StdLib::UTF8
            | StdLib::OS
            | StdLib::COROUTINE;
        // Never `Lua::new()`: only the libraries above are opened, and Rust panics are not
        // catchable by `pcall`.
        let lua = Lua::new_with(libs, LuaOptions::new().catch_rust_panics(false))?;
        lua.set_memory_limit(lua.used_memory() + memory_limit)?;
        // SAFETY: sets Luau's interrupt callback of this VM; mlua uses no interrupt of its own
        // here (set_interrupt is never called).
        unsafe {
            lua.exec_raw::<()>((), |l| {
                (*ffi::lua_callbacks(l)).interrupt = Some(interrupt);
            })?;
        }

        let g = lua.globals();
        let base = lua.create_table()?;
        for name in BASE {
            copy(&g, &base, name)?;
        }
        base.raw_set("_VERSION", "Luau")?;
        for (lib, names) in [
            ("string", STRING),
            ("table", TABLE),
            ("math", MATH),
            ("utf8", UTF8),
            ("os", OS),
            ("coroutine", COROUTINE),
        ] {
            let src: Table = g.raw_get(lib)?;
            let dst = lua.create_table()?;
            for name in names {
                copy(&src, &dst, name)?;
            }
            base.raw_set(lib, dst)?;
        }

        let st = state.clone();
        let blown = lua.create_function(move |_, e: Value| {
            if let Value::String(s) = &e {
                if s.as_bytes().as_ref() == MEMORY_ERROR.as_bytes() {
                    st.memory_blown.store(true, Relaxed);
                }
            }
            Ok(st.blown())
        })?;
        let coroutine: Table = g.raw_get("coroutine")?;
        let (pcall, xpcall, resume): (Function, Function, Function) = lua
            .load(WRAPPERS)
            .set_name("=cohort")
            .set_mode(ChunkMode::Text)
            .call((
                g.raw_get::<Function>("pcall")?,
                g.raw_get::<Function>("xpcall")?,
                coroutine.raw_get::<Function>("resume")?,
                blown,
                g.raw_get::<Function>("error")?,
            ))?;
        base.raw_set("pcall", pcall)?;
        base.raw_set("xpcall", xpcall)?;
        base.raw_get::<Table>("coroutine")?
            .raw_set("resume", resume)?;

        base.raw_set(
            "collectgarbage",
            lua.create_function(|lua, opt: Option<String>| match opt.as_deref() {
                Some("count") => Ok(lua.used_memory() as f64 / 1024.0),
                _ => Err(mlua::Error::runtime(
                    "collectgarbage: only collectgarbage(\"count\") is available to hooks",
                )),
            })?,
        )?;
        let st = state.clone();
        base.raw_set(
            "print",
            lua.create_function(move |lua, args: mlua::Variadic<Value>| {
                if st.wants(LogLevel::Info) {
                    let parts: Vec<String> = args.iter().map(plain_text).collect();
                    st.log(LogLevel::Info, caller_line(lua), &parts.join("\t"));
                }
                Ok(())
            })?,
        )?;
        base.raw_set("cohort", cohort_table(&lua, state)?)?;

        // Freeze: the allowlisted tables, then (through Luau's sandbox) the original libraries
        // and the string metatable.
        for lib in [
            "string",
            "table",
            "math",
            "utf8",
            "os",
            "coroutine",
            "cohort",
        ] {
            base.raw_get::<Table>(lib)?.set_readonly(true);
        }
        base.set_readonly(true);
        lua.sandbox(true)?;

        // Interned strings that stay referenced are found, not re-created, each time event
        // data is converted: pin the names events use.
        let pinned = lua.create_table()?;
        for (i, name) in PINNED.iter().enumerate() {
            pinned.raw_set(i + 1, *name)?;
        }
        lua.set_named_registry_value("cohort.pinned", pinned)?;

        let env_meta = lua.create_table()?;
        env_meta.raw_set("__index", base)?;
        env_meta.raw_set("__metatable", "locked")?;
        env_meta.set_readonly(true);
        Ok(Vm { lua, env_meta })
    }

    /// A fresh global table for one instantiation of a script.
    pub fn new_env(&self) -> mlua::Result<Table> {
        let env = self.lua.create_table()?;
        env.set_metatable(Some(self.env_meta.clone()))?;
        Ok(env)
    }
}

fn copy(src: &Table, dst: &Table, name: &str) -> mlua::Result<()> {
    let v: Value = src.raw_get(name)?;
    if !v.is_nil() {
        dst.raw_set(name, v)?;
    }
    Ok(())
}

/// The line of the Lua code that called the running Rust function.
fn caller_line(lua: &Lua) -> Option<usize> {
    lua.inspect_stack(1, |d| d.current_line()).flatten()
}

/// Text of a plain value, without running any metamethod.
fn plain_text(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.to_string_lossy(),
        other => format!("<{}>", other.type_name()),
    }
}

/// Luau's interrupt: stops the running call once its deadline has passed, and again at every
/// later interrupt, so that `pcall` cannot swallow it.
unsafe extern "C-unwind" fn interrupt(state: *mut ffi::lua_State, gc: c_int) {
    if gc >= 0 {
        return; // a garbage-collector step, not a point where code may stop
    }
    let stop = RUNNING.with(|r| match &*r.borrow() {
        Some(st) => st.must_stop(state),
        None => false,
    });
    if stop {
        // Nothing with drop glue is alive in this frame: lua_error unwinds it.
        ffi::lua_pushlstring_(state, DEADLINE_ERROR.as_ptr().cast(), DEADLINE_ERROR.len());
        ffi::lua_error(state);
    }
}

/// The error a blown deadline raises inside the script (the failure reported names the line).
const DEADLINE_ERROR: &str = "deadline exceeded (hooks.deadline)";

/// The `cohort` table: `on`, `deny`, `log`, `now`.
fn cohort_table(lua: &Lua, state: Arc<CallState>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let st = state.clone();
    t.raw_set(
        "on",
        lua.create_function(move |_, (name, f): (String, Function)| {
            if !st.registering.load(Relaxed) {
                return Err(mlua::Error::runtime(
                    "cohort.on may only be called at the top level of a script",
                ));
            }
            let event = Event::parse(&name).ok_or_else(|| {
                mlua::Error::runtime(format!(
                    "cohort.on: unknown event {name:?}; events are: {}",
                    Event::all().map(Event::name).collect::<Vec<_>>().join(", ")
                ))
            })?;
            lock(&st.handlers).push((event, f));
            Ok(())
        })?,
    )?;
    let st = state.clone();
    t.raw_set(
        "deny",
        lua.create_function(move |_, reason: Option<mlua::LuaString>| {
            let reason = match reason {
                None => "no reason given".to_string(),
                Some(r) if r.as_bytes().len() > st.max_return => {
                    return Err(mlua::Error::runtime(format!(
                        "cohort.deny: the reason is {} bytes, over the limit of {} (hooks.max_return)",
                        r.as_bytes().len(),
                        st.max_return
                    )))
                }
                Some(r) => r.to_string_lossy(),
            };
            let msg = format!("denied: {reason}");
            *lock(&st.denial) = Some(reason);
            Err::<(), _>(mlua::Error::runtime(msg))
        })?,
    )?;
    let st = state.clone();
    t.raw_set(
        "log",
        lua.create_function(move |lua, (level, msg): (mlua::LuaString, Value)| {
            let Some(level) = std::str::from_utf8(&level.as_bytes())
                .ok()
                .and_then(LogLevel::parse)
            else {
                return Err(mlua::Error::runtime(format!(
                    "cohort.log: level {:?} is not one of debug, info, warn, error",
                    level.to_string_lossy()
                )));
            };
            if st.wants(level) {
                st.log(level, caller_line(lua), &plain_text(&msg));
            }
            Ok(())
        })?,
    )?;
    let st = state;
    t.raw_set(
        "now",
        lua.create_function(move |_, ()| Ok(st.now.load(Relaxed)))?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every name event data uses is pinned once: the field names, the statuses and roles, every
    /// event name and every permission key of the catalogue (`users` included).
    #[test]
    fn pinned_names_are_distinct_and_cover_what_events_carry() {
        let pinned: BTreeSet<&str> = PINNED.iter().copied().collect();
        assert_eq!(pinned.len(), PINNED.len(), "a name is pinned twice");
        for key in crate::permissions::Catalogue::default().keys() {
            assert!(
                pinned.contains(key.as_str()),
                "permission key {key} is not pinned"
            );
        }
        for e in Event::all() {
            assert!(pinned.contains(e.name()), "{e} is not pinned");
        }
        for word in [
            "pending",
            "accepted",
            "cancelled",
            "declined",
            "expired",
            "owner",
            "member",
            "all",
            "system",
            "leaving",
        ] {
            assert!(pinned.contains(word), "{word} is not pinned");
        }
    }
}
