//! The `[hooks]` section of the config: defaults, every setting, errors that name the setting.

use cohort_core::config::template;
use cohort_core::hooks::{OnError, DEFAULT_DEADLINE, DEFAULT_MAX_RETURN, DEFAULT_MEMORY};
use cohort_core::{Config, ErrorCode};
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEYS: &str = "[keys]\ncurrent = \"k1\"\ndir = \"keys\"\n";

fn parse(hooks: &str) -> cohort_core::Result<Config> {
    Config::parse(&format!("{KEYS}\n{hooks}"), Path::new("/etc/cohort"))
}

#[test]
fn no_section_means_no_hooks() {
    assert_eq!(parse("").unwrap().hooks, None);
    assert_eq!(
        Config::parse(&template("k1"), Path::new("/etc/cohort"))
            .unwrap()
            .hooks,
        None,
        "the template documents [hooks] commented out"
    );
    assert!(template("k1").contains("# [hooks]"));
}

#[test]
fn defaults_and_relative_dir() {
    let h = parse("[hooks]\ndir = \"hooks\"\n").unwrap().hooks.unwrap();
    assert_eq!(h.dir, PathBuf::from("/etc/cohort/hooks"));
    assert_eq!(h.deadline, DEFAULT_DEADLINE);
    assert_eq!(h.deadline, Duration::from_millis(50));
    assert_eq!(h.memory, DEFAULT_MEMORY);
    assert_eq!(h.memory, 8 << 20);
    assert_eq!(h.max_return, DEFAULT_MAX_RETURN);
    assert_eq!(h.on_error, OnError::Deny);
    assert_eq!(h.reload_check, Duration::from_secs(1));
}

#[test]
fn every_setting() {
    let h = parse(
        "[hooks]\ndir = \"/srv/hooks\"\ndeadline = \"20ms\"\nmemory = \"16MiB\"\nmax_return = \"1KiB\"\non_error = \"allow\"\nreload_check = \"0s\"\n",
    )
    .unwrap()
    .hooks
    .unwrap();
    assert_eq!(h.dir, PathBuf::from("/srv/hooks"));
    assert_eq!(h.deadline, Duration::from_millis(20));
    assert_eq!(h.memory, 16 << 20);
    assert_eq!(h.max_return, 1024);
    assert_eq!(h.on_error, OnError::Allow);
    assert_eq!(h.reload_check, Duration::ZERO);
    let h = parse("[hooks]\ndir = \"h\"\nmemory = 1048576\nmax_return = 512\ndeadline = \"2s\"\n")
        .unwrap()
        .hooks
        .unwrap();
    assert_eq!(h.memory, 1 << 20);
    assert_eq!(h.max_return, 512);
    assert_eq!(h.deadline, Duration::from_secs(2));
}

#[test]
fn errors_name_the_setting() {
    for (text, setting) in [
        ("[hooks]\ndeadline = \"50ms\"\n", "hooks.dir"),
        (
            "[hooks]\ndir = \"h\"\ndeadline = \"fast\"\n",
            "hooks.deadline",
        ),
        (
            "[hooks]\ndir = \"h\"\ndeadline = \"0ms\"\n",
            "hooks.deadline",
        ),
        (
            "[hooks]\ndir = \"h\"\ndeadline = \"1m\"\n",
            "hooks.deadline",
        ),
        ("[hooks]\ndir = \"h\"\nmemory = \"lots\"\n", "hooks.memory"),
        ("[hooks]\ndir = \"h\"\nmemory = 1024\n", "hooks.memory"),
        (
            "[hooks]\ndir = \"h\"\nmax_return = \"2GiB\"\n",
            "hooks.max_return",
        ),
        ("[hooks]\ndir = \"h\"\non_error = \"ignore\"\n", "on_error"),
        (
            "[hooks]\ndir = \"h\"\nreload_check = \"often\"\n",
            "hooks.reload_check",
        ),
        ("[hooks]\ndir = \"h\"\ntimeout = \"50ms\"\n", "timeout"),
        ("[hooks]\ndir = 5\n", "dir"),
    ] {
        let err = parse(text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Config, "{text}");
        assert!(err.to_string().contains(setting), "{text}: {err}");
    }
}
