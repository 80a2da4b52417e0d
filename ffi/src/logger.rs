//! The host's logger: a C function that receives the records of hooks.

use crate::boundary::{ffi_boundary, Failure};
use crate::handle::{self, CohortEngine};
use crate::status::CohortStatus;
use cohort_core::hooks::{LogLevel, LogLine};
use std::ffi::{c_char, c_void};
use std::sync::Arc;

/// How much a log record matters: the `level` of a `CohortLogRecord`, and the least severe
/// level a logger set with `cohort_engine_set_logger` receives. The numbers never change.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortLogLevel {
    /// Something failed: a script that does not load, an audit entry that could not be written.
    Error = 1,
    /// Something went wrong without changing an outcome: a failing after-handler, a hook let
    /// through by `on_error = "allow"`.
    Warn = 2,
    /// What happened: lines scripts log at `info` (and `print`), scripts reloaded.
    Info = 3,
    /// Detail: lines scripts log at `debug`.
    Debug = 4,
}

/// One record, as a logger receives it. Every string is UTF-8 with its length, followed by a NUL
/// byte that the length does not count, and holds no other NUL. The record and its strings are
/// valid only during the call: copy what you keep.
#[repr(C)]
pub struct CohortLogRecord {
    /// A `COHORT_LOG_LEVEL_*`.
    pub level: i32,
    /// When it was written, Unix milliseconds.
    pub time_ms: i64,
    /// The script's file name, such as "60-activity-log.lua", or "(hooks)" for records of the
    /// runtime itself.
    pub script: *const c_char,
    pub script_len: usize,
    /// The line of the script, 0 when not known.
    pub line: u32,
    /// The event being handled, such as "after_invite", or "" when none.
    pub event: *const c_char,
    pub event_len: usize,
    /// The text (it may hold newlines).
    pub message: *const c_char,
    pub message_len: usize,
}

/// A logger: `user_data` is what was given to `cohort_engine_set_logger`; `record` is valid only
/// during the call.
pub type CohortLogCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, record: *const CohortLogRecord)>;

/// The C function and its user data, called from the threads that make calls on the engine.
struct Foreign {
    f: unsafe extern "C" fn(*mut c_void, *const CohortLogRecord),
    user_data: *mut c_void,
}

// SAFETY: the caller of `cohort_engine_set_logger` promises that the function and `user_data`
// may be used from any thread that makes calls on the engine (the documented contract); the
// engine never calls the logger from two threads at once.
unsafe impl Send for Foreign {}
unsafe impl Sync for Foreign {}

/// `s` followed by a NUL byte.
fn c_text(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

impl Foreign {
    fn call(&self, r: &LogLine) {
        let script = c_text(&r.script);
        let event = c_text(r.event.map_or("", |e| e.name()));
        let message = c_text(&r.message);
        let rec = CohortLogRecord {
            level: r.level.number(),
            time_ms: cohort_core::hooks::logbook::unix_millis(r.time),
            script: script.as_ptr().cast(),
            script_len: script.len() - 1,
            line: r.line.unwrap_or(0),
            event: event.as_ptr().cast(),
            event_len: event.len() - 1,
            message: message.as_ptr().cast(),
            message_len: message.len() - 1,
        };
        // SAFETY: a function the host gave for this purpose, with its user data; `rec` and the
        // strings it points to outlive the call.
        unsafe { (self.f)(self.user_data, &rec) };
    }
}

/// Sets the logger of an engine: `callback` receives every record of hooks at `level` or more
/// severe — lines scripts write with `cohort.log` and `print`, failing after-handlers, scripts
/// that do not load — besides the destinations of the config's `[log]` section. A NULL
/// `callback` removes the logger (`level` and `user_data` are then ignored). An engine has one
/// logger; setting another replaces it.
///
/// Thread rules:
/// - the callback is called only from within calls on this engine, on the thread that makes
///   the call, once the scripts of the event have run; never by two threads at once, and never
///   again once `cohort_engine_set_logger` has returned with another logger (or NULL);
/// - it must not call into this engine. If it does, nothing breaks: those calls work but their
///   own records skip the logger, and `cohort_engine_set_logger` from inside the logger fails
///   with `COHORT_STATUS_INVALID_ARGUMENT`;
/// - the record and its strings are valid only during the call;
/// - `user_data` must stay valid, and usable from every thread that calls the engine, until the
///   logger is replaced or removed, or the engine is closed and its last call has returned;
/// - the callback must return normally (no `longjmp`, no C++ exception through it).
///
/// `level` is a `COHORT_LOG_LEVEL_*`; another number is `COHORT_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn cohort_engine_set_logger(
    engine: *const CohortEngine,
    level: i32,
    callback: CohortLogCallback,
    user_data: *mut c_void,
) -> CohortStatus {
    const F: &str = "cohort_engine_set_logger";
    ffi_boundary!(F, [engine], {
        let engine = handle::get(F, engine)?;
        let Some(f) = callback else {
            return engine
                .set_logger(LogLevel::Debug, None)
                .map_err(Failure::from);
        };
        let level = LogLevel::from_number(level).ok_or_else(|| {
            Failure::new(
                CohortStatus::InvalidArgument,
                format!(
                    "{F}: argument `level` is {level}; use COHORT_LOG_LEVEL_ERROR (1), _WARN (2), \
                     _INFO (3) or _DEBUG (4)"
                ),
            )
        })?;
        let foreign = Foreign { f, user_data };
        engine.set_logger(level, Some(Arc::new(move |r: &LogLine| foreign.call(r))))?;
        Ok(())
    })
}
