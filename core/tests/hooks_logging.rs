//! Where the records of hooks go: the `[log]` file (one line per record, reopened when rotated,
//! created mode 0600), the system log, and a host's logger set on the engine; levels filter
//! each; the `[log]` section's errors name the setting.

mod hooks_support;

use cohort_core::hooks::{LogConfig, LogLevel, LogLine, SyslogConfig};
use cohort_core::{Config, Engine, ErrorCode, Permissions};
use hooks_support::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const KEYS: &str = "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n";

fn shipped(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hooks")
            .join(name),
    )
    .unwrap()
}

fn file_log(path: &Path, level: LogLevel) -> LogConfig {
    LogConfig {
        level,
        file: Some(path.to_path_buf()),
        file_mode: 0o600,
        syslog: None,
    }
}

/// An engine with `scripts`, account ACCOUNT and the `[log]` of `log`.
fn engine_with(scripts: &tempfile::TempDir, log: Option<LogConfig>) -> HookedEngine {
    let h = HookedEngine::with(scripts.path(), |c| c.log = log);
    h.engine.upsert_account(ACCOUNT, "Acme Ltd", OWNER).unwrap();
    h
}

fn invite(e: &Engine, email: &str) {
    e.invite(OWNER, ACCOUNT, email, &Permissions::All, None)
        .unwrap();
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn the_activity_log_reaches_the_file_one_line_per_record() {
    let scripts = script_dir(&[("60-activity-log.lua", &shipped("60-activity-log.lua"))]);
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("hooks.log");
    let h = engine_with(&scripts, Some(file_log(&path, LogLevel::Info)));
    assert_eq!(read(&path), "", "created empty when the engine opens");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    invite(&h.engine, "dev@acme.example");
    h.engine.record_login(OWNER).unwrap();
    let text = read(&path);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // 2026-11-29T10:00:00.123Z info 60-activity-log.lua:19 after_invite invite account=...
    let fields: Vec<&str> = lines[0].splitn(5, ' ').collect();
    assert_eq!(
        fields[0].len(),
        "2026-11-29T10:00:00.123Z".len(),
        "{}",
        lines[0]
    );
    assert!(
        fields[0].ends_with('Z') && fields[0].contains('T'),
        "{}",
        lines[0]
    );
    assert_eq!(fields[1], "info");
    assert!(
        fields[2].starts_with("60-activity-log.lua:"),
        "{}",
        lines[0]
    );
    assert!(fields[2][20..].parse::<u32>().is_ok(), "{}", lines[0]);
    assert_eq!(fields[3], "after_invite");
    assert_eq!(
        fields[4],
        "invite account=1042 actor=owner@acme.example target=dev@acme.example permissions=all"
    );
    assert!(lines[1].contains(" after_login login account=- actor=owner@acme.example"));
}

#[test]
fn a_rotated_file_is_reopened_at_its_path() {
    let scripts = script_dir(&[("60-activity-log.lua", &shipped("60-activity-log.lua"))]);
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("hooks.log");
    let h = engine_with(&scripts, Some(file_log(&path, LogLevel::Info)));
    invite(&h.engine, "one@acme.example");
    // logrotate without copytruncate: rename, and the writer must notice.
    let rotated = logs.path().join("hooks.log.1");
    std::fs::rename(&path, &rotated).unwrap();
    invite(&h.engine, "two@acme.example");
    assert!(read(&rotated).contains("target=one@acme.example"));
    assert!(!read(&rotated).contains("target=two@acme.example"));
    assert_eq!(read(&path).lines().count(), 1, "{}", read(&path));
    assert!(read(&path).contains("target=two@acme.example"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the new file is created owner-only too");
    }
    // Removed outright: created again.
    std::fs::remove_file(&path).unwrap();
    invite(&h.engine, "three@acme.example");
    assert!(read(&path).contains("target=three@acme.example"));
}

#[test]
fn the_level_filters_and_failures_are_logged_with_their_line() {
    let scripts = script_dir(&[(
        "50-noisy.lua",
        "cohort.on('after_invite', function(ev)\n  cohort.log('debug', 'detail')\n  cohort.log('error', 'bad\\nnews')\n  local x = nil\n  return x.y\nend)\n",
    )]);
    let logs = tempfile::tempdir().unwrap();
    let warn = logs.path().join("warn.log");
    let h = engine_with(&scripts, Some(file_log(&warn, LogLevel::Warn)));
    invite(&h.engine, "dev@acme.example");
    let text = read(&warn);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with(" error 50-noisy.lua:3 after_invite bad\\nnews"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(" warn 50-noisy.lua:5 after_invite attempt to index nil"),
        "{}",
        lines[1]
    );
    drop(h);
    let debug = logs.path().join("debug.log");
    let h = engine_with(&scripts, Some(file_log(&debug, LogLevel::Debug)));
    invite(&h.engine, "dev2@acme.example");
    assert!(read(&debug).contains(" debug 50-noisy.lua:2 after_invite detail"));
}

#[test]
fn a_script_that_does_not_load_is_logged_with_what_it_denies() {
    let scripts = script_dir(&[(
        "10-broken.lua",
        "cohort.on('before_invite', function(ev)\n  if then\nend)\n",
    )]);
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("hooks.log");
    let h = engine_with(&scripts, Some(file_log(&path, LogLevel::Info)));
    h.engine.record_login(OWNER).unwrap();
    let text = read(&path);
    assert!(
        text.contains(" error 10-broken.lua:2 - ") && text.contains("it denies before_invite"),
        "{text}"
    );
}

/// Collects what a logger receives.
fn collector() -> (Arc<Mutex<Vec<LogLine>>>, cohort_core::hooks::LogCallback) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    (
        got,
        Arc::new(move |r: &LogLine| sink.lock().unwrap().push(r.clone())),
    )
}

#[test]
fn a_host_logger_receives_records_at_its_level_until_removed() {
    let scripts = script_dir(&[(
        "50-log.lua",
        "cohort.on('before_login', function(ev)\n  cohort.log('debug', 'hello ' .. ev.email)\n  print('printed', 1)\nend)\n",
    )]);
    let h = engine_with(&scripts, None);
    let (got, cb) = collector();
    h.engine.set_logger(LogLevel::Debug, Some(cb)).unwrap();
    h.engine.record_login(OWNER).unwrap();
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].level, LogLevel::Debug);
        assert_eq!(got[0].script, "50-log.lua");
        assert_eq!(got[0].line, Some(2));
        assert_eq!(got[0].event.map(|e| e.name()), Some("before_login"));
        assert_eq!(got[0].message, format!("hello {OWNER}"));
        assert_eq!((got[1].level, got[1].line), (LogLevel::Info, Some(3)));
        assert_eq!(got[1].message, "printed\t1");
    }
    let (info, cb) = collector();
    h.engine.set_logger(LogLevel::Info, Some(cb)).unwrap();
    h.engine.record_login(OWNER).unwrap();
    assert_eq!(info.lock().unwrap().len(), 1, "debug is below info");
    assert_eq!(
        got.lock().unwrap().len(),
        2,
        "the replaced logger is not called"
    );
    h.engine.set_logger(LogLevel::Debug, None).unwrap();
    h.engine.record_login(OWNER).unwrap();
    assert_eq!(info.lock().unwrap().len(), 1, "removed");
}

#[test]
fn a_logger_cannot_break_the_operation_nor_replace_itself() {
    let scripts = script_dir(&[(
        "50-log.lua",
        "cohort.on('after_login', function(ev) cohort.log('info', 'x') end)\n",
    )]);
    let h = Arc::new(engine_with(&scripts, None));
    h.engine
        .set_logger(
            LogLevel::Info,
            Some(Arc::new(|_: &LogLine| panic!("logger bug"))),
        )
        .unwrap();
    let u = h
        .engine
        .record_login(OWNER)
        .expect("a panicking logger loses its record only");
    assert_eq!(u.last_login, Some(T0));

    let answer = Arc::new(Mutex::new(None));
    let (weak, seen) = (Arc::downgrade(&h), answer.clone());
    h.engine
        .set_logger(
            LogLevel::Info,
            Some(Arc::new(move |_: &LogLine| {
                if let Some(h) = weak.upgrade() {
                    // Calling the engine from the logger neither deadlocks nor recurses into it.
                    let nested = h.engine.record_login(OWNER).map(|_| ());
                    let replaced = h.engine.set_logger(LogLevel::Info, None);
                    *seen.lock().unwrap() = Some((nested, replaced.map_err(|e| e.code())));
                }
            })),
        )
        .unwrap();
    h.engine.record_login(OWNER).unwrap();
    let (nested, replaced) = answer.lock().unwrap().take().expect("logger called");
    assert!(nested.is_ok());
    assert_eq!(replaced, Err(ErrorCode::InvalidArgument));
    h.engine.set_logger(LogLevel::Info, None).unwrap();
}

#[cfg(unix)]
#[test]
fn syslog_receives_the_records() {
    use std::os::unix::net::UnixDatagram;
    let scripts = script_dir(&[("60-activity-log.lua", &shipped("60-activity-log.lua"))]);
    let sock_dir = tempfile::tempdir().unwrap();
    let sock = sock_dir.path().join("log");
    let daemon = UnixDatagram::bind(&sock).unwrap();
    daemon
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let h = engine_with(
        &scripts,
        Some(LogConfig {
            level: LogLevel::Info,
            file: None,
            file_mode: 0o600,
            syslog: Some(SyslogConfig {
                facility: 3,
                socket: sock.clone(),
            }),
        }),
    );
    invite(&h.engine, "dev@acme.example");
    let mut buf = [0u8; 2048];
    let n = daemon.recv(&mut buf).unwrap();
    let got = std::str::from_utf8(&buf[..n]).unwrap();
    // daemon (3) * 8 + info (6) = 30
    let want = format!(
        "<30>cohort[{}]: info 60-activity-log.lua:",
        std::process::id()
    );
    assert!(got.starts_with(&want), "{got}");
    assert!(got.contains(" after_invite invite account=1042 "), "{got}");
}

fn parse(log: &str) -> cohort_core::Result<Config> {
    Config::parse(&format!("{KEYS}\n[log]\n{log}"), Path::new("/etc/cohort"))
}

#[test]
fn the_log_section_parses_and_its_errors_name_the_setting() {
    let c = parse("file = \"log/hooks.log\"\n").unwrap().log.unwrap();
    assert_eq!(c.file, Some(PathBuf::from("/etc/cohort/log/hooks.log")));
    assert_eq!(
        (c.level, c.file_mode, c.syslog),
        (LogLevel::Info, 0o600, None)
    );
    let c = parse("syslog = true\nsyslog_facility = \"local3\"\nlevel = \"debug\"\nfile = \"/var/log/c.log\"\nfile_mode = \"0640\"\n")
        .unwrap()
        .log
        .unwrap();
    assert_eq!(c.level, LogLevel::Debug);
    assert_eq!(c.file_mode, 0o640);
    assert_eq!(
        c.syslog,
        Some(SyslogConfig {
            facility: 19,
            socket: "/dev/log".into()
        })
    );
    assert_eq!(
        Config::parse(
            &cohort_core::config::template("k1"),
            Path::new("/etc/cohort")
        )
        .unwrap()
        .log,
        None,
        "the template documents [log] commented out"
    );
    assert!(cohort_core::config::template("k1").contains("# [log]"));
    for (text, setting) in [
        ("file = \"x.log\"\ncolour = true\n", "colour"),
        ("file = \"x.log\"\nlevel = \"verbose\"\n", "log.level"),
        ("file = \"x.log\"\nfile_mode = \"0644\"\n", "log.file_mode"),
        ("level = \"info\"\n", "log"),
        (
            "file = \"x.log\"\nsyslog_facility = \"user\"\n",
            "log.syslog_facility",
        ),
        (
            "syslog = true\nsyslog_facility = \"mail2\"\n",
            "log.syslog_facility",
        ),
        ("syslog = \"yes\"\n", "syslog"),
        ("file = \"\"\n", "log.file"),
    ] {
        let e = parse(text).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Config, "{text}");
        assert!(e.to_string().contains(setting), "{text}: {e}");
    }
}

#[test]
fn a_log_file_that_cannot_be_opened_fails_the_engine_open() {
    let scripts = script_dir(&[]);
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    cohort_core::config::create_key_file(&keys, "k1").unwrap();
    let mut cfg = Config::new(
        hooks_support::db::database_for(dir.path(), "c.db"),
        keys,
        "k1",
    );
    cfg.hooks = Some(hooks_config(scripts.path()));
    cfg.log = Some(file_log(
        &dir.path().join("missing/dir/hooks.log"),
        LogLevel::Info,
    ));
    let err = Engine::create(cfg).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
    assert!(err.to_string().contains("missing/dir/hooks.log"), "{err}");
}
