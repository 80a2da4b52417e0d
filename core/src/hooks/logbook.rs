//! Where the records of hooks go: the lines scripts write with `cohort.log` and `print`, the
//! failures of after-handlers (and of hooks let through by `on_error = "allow"`), scripts that
//! do not load, and reloads.
//!
//! Records are gathered while an event runs and handed out once it is over, outside the VM's
//! lock and the deadline, on the thread of the operation: a slow destination never makes a
//! script time out, and a logger may not deadlock the VM. The destinations:
//!
//! - the `[log]` section of the config: a file (appended, one line per record, reopened when
//!   logrotate renames it) and/or the system log (a datagram to `/dev/log`), each with a level;
//! - a callback the host sets on its engine ([`crate::Engine::set_logger`]; the C API and the
//!   PHP binding are built on it), with a level of its own;
//! - the Rust `log` facade, target `cohort::hooks`, for Rust hosts.
//!
//! A record no destination wants is not even built: scripts learn the most verbose level any
//! destination takes before each event, and `cohort.log` below it returns at once.

use super::Event;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// How much a record matters. Ordered from the most to the least severe; a destination's level
/// lets through its own level and every more severe one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    #[default]
    Info = 3,
    Debug = 4,
}

impl LogLevel {
    pub const ALL: [LogLevel; 4] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
    ];

    /// `error`, `warn`, `info` or `debug`: what scripts pass to `cohort.log`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }

    pub fn parse(s: &str) -> Option<LogLevel> {
        LogLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level's number (1 error ... 4 debug), as the C API has it.
    pub fn number(self) -> i32 {
        self as i32
    }

    pub fn from_number(n: i32) -> Option<LogLevel> {
        LogLevel::ALL.into_iter().find(|l| l.number() == n)
    }

    pub(crate) fn to_log(self) -> log::Level {
        match self {
            LogLevel::Error => log::Level::Error,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Info => log::Level::Info,
            LogLevel::Debug => log::Level::Debug,
        }
    }

    /// The syslog severity (RFC 5424): err, warning, info, debug.
    fn severity(self) -> u8 {
        match self {
            LogLevel::Error => 3,
            LogLevel::Warn => 4,
            LogLevel::Info => 6,
            LogLevel::Debug => 7,
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who writes records of the runtime itself rather than of one script.
pub const RUNTIME: &str = "(hooks)";

/// One record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// When it was written.
    #[serde(skip)]
    pub time: SystemTime,
    pub level: LogLevel,
    /// The script's file name, or `(hooks)` for the runtime's own records.
    pub script: String,
    /// The line of the script, when known.
    pub line: Option<u32>,
    /// The event being handled, if any.
    #[serde(skip)]
    pub event: Option<Event>,
    /// The text; never holds a NUL byte.
    pub message: String,
}

impl LogLine {
    /// A record of the runtime (or of `script`, with `script:line: ` at the start of `message`
    /// taken as its place).
    pub(crate) fn new(
        level: LogLevel,
        script: &str,
        event: Option<Event>,
        message: &str,
    ) -> LogLine {
        let (line, message) = split_location(script, message);
        LogLine {
            time: SystemTime::now(),
            level,
            script: script.to_string(),
            line,
            event,
            message: clean(message),
        }
    }

    /// `script:line`, or the script alone when the line is not known.
    pub fn place(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.script),
            None => self.script.clone(),
        }
    }

    /// The event's name, or `-`.
    pub fn event_name(&self) -> &'static str {
        self.event.map_or("-", Event::name)
    }

    /// `level place event message` on one line (control characters escaped), as the file and
    /// the system log carry it after their own time stamp.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{} {} {} ",
            self.level.as_str(),
            self.place(),
            self.event_name()
        );
        escape_into(&mut out, &self.message);
        out
    }

    /// One line of the log file: `2026-11-29T10:00:00.123Z info 60-activity-log.lua:19
    /// after_invite invite account=1042 ...`, ending with a newline.
    pub fn file_line(&self) -> String {
        let mut s = rfc3339_millis(self.time);
        s.push(' ');
        s.push_str(&self.body());
        s.push('\n');
        s
    }
}

/// Splits a leading `script:123: ` off a message (how failures name their place).
fn split_location<'a>(script: &str, message: &'a str) -> (Option<u32>, &'a str) {
    let rest = message
        .strip_prefix(script)
        .and_then(|r| r.strip_prefix(':'));
    if let Some(rest) = rest {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            if let (Ok(n), Some(tail)) = (rest[..digits].parse(), rest[digits..].strip_prefix(':'))
            {
                return (Some(n), tail.trim_start());
            }
        }
    }
    (None, message)
}

/// The message with NUL bytes replaced, so that every destination can take it as C text.
pub(crate) fn clean(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s.to_string()
    }
}

/// Appends `s` with newlines, carriage returns and other control characters escaped.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

/// `2026-11-29T10:00:00.123Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let base = crate::clock::format_rfc3339(secs);
    format!("{}.{:03}Z", base.trim_end_matches('Z'), d.subsec_millis())
}

/// Unix milliseconds of a record's time.
pub fn unix_millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A host's logger: called once per record at or above its level.
pub type LogCallback = Arc<dyn Fn(&LogLine) + Send + Sync>;

/// The `[log]` section of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The least severe level written to the file and the system log (default `info`).
    pub level: LogLevel,
    /// A file records are appended to.
    pub file: Option<PathBuf>,
    /// Mode of a log file Cohort creates (0o600 unless opted into group access).
    pub file_mode: u32,
    /// The system log, when enabled.
    pub syslog: Option<SyslogConfig>,
}

/// Where and as what records reach the system log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    /// Facility code (1 = user, 3 = daemon, 16..=23 = local0..local7, ...).
    pub facility: u8,
    /// The system log's datagram socket (`/dev/log`).
    pub socket: PathBuf,
}

/// Default socket of the system log.
pub const SYSLOG_SOCKET: &str = "/dev/log";

/// The facilities `syslog_facility` accepts, with their codes.
pub const SYSLOG_FACILITIES: [(&str, u8); 13] = [
    ("user", 1),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("authpriv", 10),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

thread_local! {
    /// True while this thread runs a host's logger: records of calls it makes go to the other
    /// destinations only, and it cannot replace itself.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// The destinations of one engine.
pub(crate) struct Logbook {
    /// `cohort hooks test`: every record is kept (for the report), none is written anywhere.
    keep_all: bool,
    file: Option<(LogLevel, Mutex<FileOut>)>,
    syslog: Option<(LogLevel, Mutex<SyslogOut>)>,
    /// Held while the callback runs, so that it is never called concurrently and never after
    /// [`Logbook::set_callback`] has replaced it.
    callback: Mutex<Option<(LogLevel, LogCallback)>>,
    /// The callback's level, or 0 without one.
    callback_level: AtomicU8,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Logbook {
    /// No destination but the `log` facade (and a callback, once set).
    pub fn none() -> Logbook {
        Logbook {
            keep_all: false,
            file: None,
            syslog: None,
            callback: Mutex::new(None),
            callback_level: AtomicU8::new(0),
        }
    }

    /// For `cohort hooks test`: keeps every record, writes none.
    pub fn keep_all() -> Logbook {
        Logbook {
            keep_all: true,
            ..Logbook::none()
        }
    }

    /// The destinations of `cfg`. The file is opened (created if needed) now, so that a path
    /// that cannot be written is an error when the engine opens, not a silent loss later.
    pub fn open(cfg: Option<&LogConfig>) -> Result<Logbook> {
        let mut book = Logbook::none();
        let Some(cfg) = cfg else {
            return Ok(book);
        };
        if let Some(path) = &cfg.file {
            let out = FileOut::open(path, cfg.file_mode).map_err(|e| Error::Io {
                path: path.display().to_string(),
                message: format!("cannot open the log file ([log] file): {e}"),
            })?;
            book.file = Some((cfg.level, Mutex::new(out)));
        }
        if let Some(s) = &cfg.syslog {
            book.syslog = Some((cfg.level, Mutex::new(SyslogOut::new(s))));
        }
        Ok(book)
    }

    /// Sets (or, with `None`, removes) the host's logger. Waits for a delivery running on
    /// another thread; refused from inside the logger itself.
    pub fn set_callback(&self, level: LogLevel, cb: Option<LogCallback>) -> Result<()> {
        if IN_CALLBACK.with(Cell::get) {
            return Err(Error::InvalidArgument {
                field: "logger",
                message: "the logger cannot be changed from inside the logger".into(),
            });
        }
        let old = {
            let mut slot = lock(&self.callback);
            self.callback_level
                .store(cb.as_ref().map_or(0, |_| level as u8), Relaxed);
            std::mem::replace(&mut *slot, cb.map(|c| (level, c)))
        };
        // Dropped outside the lock: a host's destructor may take its time.
        drop(old);
        Ok(())
    }

    /// The most verbose level any destination takes now (0: none), for scripts to skip what
    /// nobody reads.
    pub fn capture(&self) -> u8 {
        if self.keep_all {
            return LogLevel::Debug as u8;
        }
        let facade = match log::max_level() {
            log::LevelFilter::Off => 0,
            log::LevelFilter::Error => 1,
            log::LevelFilter::Warn => 2,
            log::LevelFilter::Info => 3,
            _ => 4,
        };
        let file = self.file.as_ref().map_or(0, |(l, _)| *l as u8);
        let syslog = self.syslog.as_ref().map_or(0, |(l, _)| *l as u8);
        facade
            .max(file)
            .max(syslog)
            .max(self.callback_level.load(Relaxed))
    }

    /// Hands `records` to every destination that takes their level.
    pub fn deliver(&self, records: &[LogLine]) {
        if records.is_empty() || self.keep_all {
            return;
        }
        for r in records {
            let lvl = r.level.to_log();
            if log::log_enabled!(target: "cohort::hooks", lvl) {
                log::log!(
                    target: "cohort::hooks",
                    lvl,
                    "{} {}: {}",
                    r.place(),
                    r.event_name(),
                    r.message
                );
            }
        }
        if let Some((level, out)) = &self.file {
            let text: String = records
                .iter()
                .filter(|r| r.level <= *level)
                .map(LogLine::file_line)
                .collect();
            if !text.is_empty() {
                lock(out).write(text.as_bytes());
            }
        }
        if let Some((level, out)) = &self.syslog {
            let mut wanted = records.iter().filter(|r| r.level <= *level).peekable();
            if wanted.peek().is_some() {
                let mut out = lock(out);
                for r in wanted {
                    out.send(r);
                }
            }
        }
        if self.callback_level.load(Relaxed) != 0 && !IN_CALLBACK.with(Cell::get) {
            let slot = lock(&self.callback);
            if let Some((level, cb)) = slot.as_ref() {
                IN_CALLBACK.with(|f| f.set(true));
                for r in records.iter().filter(|r| r.level <= *level) {
                    // A host's logger that panics loses its record, nothing else.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(r)));
                }
                IN_CALLBACK.with(|f| f.set(false));
            }
        }
    }
}

/// Warns through the `log` facade about a destination that fails, once until it works again.
fn report_failure(flag: &AtomicBool, what: &str, e: &std::io::Error) {
    if !flag.swap(true, Relaxed) {
        log::error!(target: "cohort::hooks", "{what}: {e}; records are lost until it works again");
    }
}

/// The log file: appended to by every process of the panel (one `write` per event, so lines of
/// different processes do not mix), and reopened when the path no longer names the file that is
/// open (logrotate renamed or removed it).
struct FileOut {
    path: PathBuf,
    mode: u32,
    file: File,
    /// (device, inode) of the open file.
    id: (u64, u64),
    failing: AtomicBool,
}

impl FileOut {
    fn open(path: &Path, mode: u32) -> std::io::Result<FileOut> {
        let (file, id) = open_log(path, mode)?;
        Ok(FileOut {
            path: path.to_path_buf(),
            mode,
            file,
            id,
            failing: AtomicBool::new(false),
        })
    }

    fn write(&mut self, bytes: &[u8]) {
        if file_id(&self.path) != Some(self.id) {
            match open_log(&self.path, self.mode) {
                Ok((file, id)) => {
                    self.file = file;
                    self.id = id;
                }
                // Keep writing to the file still open (the rotated one): nothing is lost.
                Err(e) => report_failure(
                    &self.failing,
                    &format!("cannot reopen the log file {}", self.path.display()),
                    &e,
                ),
            }
        }
        match self.file.write_all(bytes) {
            Ok(()) => self.failing.store(false, Relaxed),
            Err(e) => report_failure(
                &self.failing,
                &format!("cannot write the log file {}", self.path.display()),
                &e,
            ),
        }
    }
}

/// Opens `path` for appending; a file created here gets exactly `mode` (whatever the umask).
fn open_log(path: &Path, mode: u32) -> std::io::Result<(File, (u64, u64))> {
    let mut create = std::fs::OpenOptions::new();
    create.append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(mode);
    }
    let file = match create.open(path) {
        Ok(f) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            }
            f
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::OpenOptions::new().append(true).open(path)?
        }
        Err(e) => return Err(e),
    };
    #[cfg(not(unix))]
    let _ = mode;
    let id = meta_id(&file.metadata()?);
    Ok((file, id))
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| meta_id(&m))
}

#[cfg(unix)]
fn meta_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn meta_id(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// The system log: one datagram per record to its socket, `<PRI>cohort[PID]: body`, the form
/// syslog(3) sends (without the time stamp, which the daemon adds).
struct SyslogOut {
    facility: u8,
    socket: PathBuf,
    #[cfg(unix)]
    conn: Option<std::os::unix::net::UnixDatagram>,
    failing: AtomicBool,
}

impl SyslogOut {
    fn new(cfg: &SyslogConfig) -> SyslogOut {
        SyslogOut {
            facility: cfg.facility,
            socket: cfg.socket.clone(),
            #[cfg(unix)]
            conn: None,
            failing: AtomicBool::new(false),
        }
    }

    /// The datagram of a record.
    fn datagram(&self, r: &LogLine) -> String {
        format!(
            "<{}>cohort[{}]: {}",
            u32::from(self.facility) * 8 + u32::from(r.level.severity()),
            std::process::id(),
            r.body()
        )
    }

    #[cfg(unix)]
    fn send(&mut self, r: &LogLine) {
        use std::os::unix::net::UnixDatagram;
        let msg = self.datagram(r);
        let mut last = None;
        // A daemon that restarted has a new socket: connect again once.
        for _ in 0..2 {
            if self.conn.is_none() {
                match UnixDatagram::unbound().and_then(|s| s.connect(&self.socket).map(|()| s)) {
                    Ok(s) => self.conn = Some(s),
                    Err(e) => {
                        last = Some(e);
                        break;
                    }
                }
            }
            match self.conn.as_ref().map(|c| c.send(msg.as_bytes())) {
                Some(Ok(_)) => {
                    self.failing.store(false, Relaxed);
                    return;
                }
                Some(Err(e)) => {
                    self.conn = None;
                    last = Some(e);
                }
                None => {}
            }
        }
        if let Some(e) = last {
            report_failure(
                &self.failing,
                &format!("cannot reach the system log at {}", self.socket.display()),
                &e,
            );
        }
    }

    #[cfg(not(unix))]
    fn send(&mut self, _: &LogLine) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::Action;

    fn line(level: LogLevel, msg: &str) -> LogLine {
        LogLine {
            time: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_946_400_123),
            level,
            script: "60-activity-log.lua".into(),
            line: Some(19),
            event: Some(Event::after(Action::Invite)),
            message: msg.into(),
        }
    }

    #[test]
    fn a_file_line_has_time_level_place_event_and_message_on_one_line() {
        assert_eq!(
            line(LogLevel::Info, "invite account=1042\nforged line").file_line(),
            "2026-11-29T10:00:00.123Z info 60-activity-log.lua:19 after_invite invite account=1042\\nforged line\n"
        );
        let mut r = line(LogLevel::Warn, "a\u{1b}[31mb");
        r.line = None;
        r.event = None;
        assert_eq!(r.body(), "warn 60-activity-log.lua - a\\u{1b}[31mb");
    }

    #[test]
    fn failures_give_their_line_to_the_record() {
        let r = LogLine::new(
            LogLevel::Warn,
            "50-x.lua",
            None,
            "50-x.lua:7: attempt to index nil",
        );
        assert_eq!(
            (r.line, r.message.as_str()),
            (Some(7), "attempt to index nil")
        );
        let r = LogLine::new(LogLevel::Warn, "50-x.lua", None, "50-x.lua: no line\0here");
        assert_eq!(
            (r.line, r.message.as_str()),
            (None, "50-x.lua: no line\u{FFFD}here")
        );
    }

    #[test]
    fn levels_order_and_parse() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Info < LogLevel::Debug);
        for l in LogLevel::ALL {
            assert_eq!(LogLevel::parse(l.as_str()), Some(l));
            assert_eq!(LogLevel::from_number(l.number()), Some(l));
        }
        assert_eq!(LogLevel::parse("warning"), None);
        assert_eq!(LogLevel::from_number(0), None);
    }

    #[test]
    fn syslog_datagrams_carry_facility_and_severity() {
        let out = SyslogOut::new(&SyslogConfig {
            facility: 16,
            socket: "/nonexistent".into(),
        });
        let d = out.datagram(&line(LogLevel::Warn, "x"));
        let want = format!(
            "<132>cohort[{}]: warn 60-activity-log.lua:19 after_invite x",
            std::process::id()
        );
        assert_eq!(d, want);
    }

    #[cfg(unix)]
    #[test]
    fn syslog_reaches_the_socket_and_survives_a_restarted_daemon() {
        use std::os::unix::net::UnixDatagram;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let daemon = UnixDatagram::bind(&path).unwrap();
        let book = Logbook::open(Some(&LogConfig {
            level: LogLevel::Info,
            file: None,
            file_mode: 0o600,
            syslog: Some(SyslogConfig {
                facility: 1,
                socket: path.clone(),
            }),
        }))
        .unwrap();
        book.deliver(&[
            line(LogLevel::Info, "one"),
            line(LogLevel::Debug, "too low"),
        ]);
        let mut buf = [0u8; 512];
        let n = daemon.recv(&mut buf).unwrap();
        assert!(
            std::str::from_utf8(&buf[..n])
                .unwrap()
                .starts_with("<14>cohort["),
            "{:?}",
            &buf[..n]
        );
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("after_invite one"));
        // The daemon restarts: a new socket at the same path.
        drop(daemon);
        std::fs::remove_file(&path).unwrap();
        let daemon = UnixDatagram::bind(&path).unwrap();
        daemon.set_nonblocking(true).unwrap();
        book.deliver(&[line(LogLevel::Error, "two")]);
        let n = daemon.recv(&mut buf).expect("reconnected");
        assert!(std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with("after_invite two"));
        assert!(
            daemon.recv(&mut buf).is_err(),
            "the debug record was not sent"
        );
    }
}
