//! `cohort hooks check [DIR]` and `cohort hooks test EVENT --event FILE.json [--hooks DIR]`:
//! what a hosting admin runs before deploying a hook script.
//!
//! Neither command opens the database. Budgets, the hooks directory and extra permission keys
//! come from the config when one is found (`--config`, `$COHORT_CONFIG`, `./cohort.toml`);
//! without one the defaults apply and the directory is `./hooks`.

use clap::Subcommand;
use cohort_core::clock::{format_rfc3339, parse_time};
use cohort_core::hooks::{self, HooksConfig, OnError, TestReport};
use cohort_core::{Config, Error, Result};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum HooksCmd {
    /// Compile every script and run its top level; report errors with file and line.
    Check {
        /// Directory of scripts (default: hooks.dir from the config, else ./hooks).
        dir: Option<PathBuf>,
    },
    /// Fire EVENT with the `ev` data of a JSON file through the scripts; print the decision,
    /// the reason, and the time, memory and interrupts used.
    Test {
        /// Event name, such as before_invite or after_revoke.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(event_names()))]
        event: String,
        /// JSON object passed to the handlers as `ev` ("-" reads standard input).
        #[arg(long = "event", value_name = "FILE.json")]
        data: PathBuf,
        /// Directory of scripts (default: hooks.dir from the config, else ./hooks).
        #[arg(long, value_name = "DIR")]
        hooks: Option<PathBuf>,
        /// What `cohort.now()` and `ev.time` say: Unix seconds or 2026-11-29T10:00:00Z
        /// (default: now).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
}

fn event_names() -> Vec<&'static str> {
    hooks::Event::all().map(hooks::Event::name).collect()
}

/// Runs a hooks subcommand; returns the exit code (0 ok / allowed, 1 errors / denied).
pub fn run(cmd: HooksCmd, config: Option<PathBuf>, json: bool) -> Result<u8> {
    let cfg = find_config(config)?;
    match cmd {
        HooksCmd::Check { dir } => check(&settings(cfg.as_ref(), dir)?, json),
        HooksCmd::Test {
            event,
            data,
            hooks,
            now,
        } => {
            let settings = settings(cfg.as_ref(), hooks)?;
            let keys = match &cfg {
                Some(c) => cohort_core::Catalogue::with_extra(&c.permissions)?.keys(),
                None => cohort_core::Catalogue::with_extra(&[])?.keys(),
            };
            let now = match now {
                Some(t) => parse_time(&t).ok_or_else(|| Error::InvalidArgument {
                    field: "--now",
                    message: format!(
                        "{t:?} is not Unix seconds or a time like 2026-11-29T10:00:00Z"
                    ),
                })?,
                None => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            };
            let data = read_event(&data)?;
            let report = hooks::test_event(&settings, keys, &event, &data, now)?;
            print_report(&report, settings.on_error, json);
            Ok(exit_code(&report, settings.on_error))
        }
    }
}

/// The config named by `--config` or `$COHORT_CONFIG` (which must exist), else `./cohort.toml`
/// when present.
fn find_config(flag: Option<PathBuf>) -> Result<Option<Config>> {
    let named = flag.or_else(|| std::env::var_os("COHORT_CONFIG").map(PathBuf::from));
    match named {
        Some(p) => Config::load(&p).map(Some),
        None if Path::new("cohort.toml").is_file() => Config::load("cohort.toml").map(Some),
        None => Ok(None),
    }
}

/// Budgets from the config's `[hooks]` section (or defaults), with the directory to use.
fn settings(cfg: Option<&Config>, dir: Option<PathBuf>) -> Result<HooksConfig> {
    let configured = cfg.and_then(|c| c.hooks.clone());
    let mut s = configured
        .clone()
        .unwrap_or_else(|| HooksConfig::new("hooks"));
    match dir {
        Some(d) => s.dir = d,
        None if configured.is_some() => {}
        None if Path::new("hooks").is_dir() => {}
        None => {
            return Err(Error::Config {
                setting: "hooks.dir".into(),
                message: "no hooks directory: pass one, or set dir in the [hooks] section".into(),
            })
        }
    }
    if !s.dir.is_dir() {
        return Err(Error::Io {
            path: s.dir.display().to_string(),
            message: "not a directory".into(),
        });
    }
    Ok(s)
}

fn check(settings: &HooksConfig, json: bool) -> Result<u8> {
    let reports = hooks::check_dir_with(settings)?;
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if json {
        crate::output::json(&serde_json::json!({
            "dir": settings.dir.display().to_string(),
            "scripts": reports,
            "errors": failed,
        }));
    } else {
        println!("{}:", settings.dir.display());
        if reports.is_empty() {
            println!("  (no *.lua scripts)");
        }
        for r in &reports {
            match &r.error {
                None => println!("  ok     {}  ({})", r.name, r.events.join(", ")),
                Some(e) => {
                    println!("  ERROR  {}  {e}", r.name);
                    println!("         while it fails, denies: {}", blocks(&r.blocks));
                }
            }
        }
        if failed > 0 {
            println!(
                "{failed} of {} scripts failed; each denies the before-events named in it until fixed",
                reports.len()
            );
        }
    }
    Ok(u8::from(failed > 0))
}

/// The before-events a broken script denies, for people.
fn blocks(events: &[String]) -> String {
    let all = hooks::Event::all()
        .filter(|e| e.phase == hooks::Phase::Before)
        .count();
    match events.len() {
        0 => "nothing (it names no before-event)".into(),
        n if n == all => {
            "every before-event (it names one in a way only running it would tell)".into()
        }
        _ => events.join(", "),
    }
}

fn read_event(path: &Path) -> Result<serde_json::Value> {
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(io)?;
        s
    } else {
        std::fs::read_to_string(path).map_err(io)?
    };
    serde_json::from_str(&text).map_err(|e| Error::InvalidArgument {
        field: "--event",
        message: format!("{}: {e}", path.display()),
    })
}

fn exit_code(r: &TestReport, on_error: OnError) -> u8 {
    if r.would_proceed(on_error) {
        0
    } else {
        1
    }
}

fn print_report(r: &TestReport, on_error: OnError, json: bool) {
    if json {
        crate::output::json(r);
        return;
    }
    let decision = match (r.decision.as_str(), on_error) {
        ("error", OnError::Deny) => "error (denies: on_error = \"deny\")".to_string(),
        ("error", OnError::Allow) => "error (allowed: on_error = \"allow\")".to_string(),
        (d, _) => d.to_string(),
    };
    println!("event:       {}", r.event);
    println!("decision:    {decision}");
    if let Some(s) = &r.script {
        println!("script:      {s}");
    }
    if let Some(reason) = &r.reason {
        println!("reason:      {reason}");
    }
    if let Some(p) = &r.permissions {
        println!("permissions: {}", crate::output::perms(p));
    }
    if let Some(e) = r.expires_at {
        println!("expires at:  {}", format_rfc3339(e));
    }
    println!("handlers:    {}", r.handlers);
    println!("time:        {:.3} ms", r.elapsed_us as f64 / 1000.0);
    println!(
        "memory:      {:.1} KiB allocated, {:.1} KiB in use",
        r.memory_bytes as f64 / 1024.0,
        r.memory_in_use as f64 / 1024.0
    );
    println!("interrupts:  {}", r.interrupts);
    if !r.logs.is_empty() {
        println!("log:");
        for l in &r.logs {
            println!("  [{}] {}: {}", l.level, l.place(), l.message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(subcommand)]
        cmd: HooksCmd,
    }

    fn parse(args: &[&str]) -> std::result::Result<HooksCmd, clap::Error> {
        Wrap::try_parse_from(std::iter::once("hooks").chain(args.iter().copied())).map(|w| w.cmd)
    }

    fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(name), text).unwrap();
        d
    }

    #[test]
    fn parses_and_refuses_unknown_events() {
        assert!(matches!(
            parse(&[
                "test",
                "before_invite",
                "--event",
                "ev.json",
                "--hooks",
                "h"
            ])
            .unwrap(),
            HooksCmd::Test { .. }
        ));
        assert!(parse(&["test", "before_invit", "--event", "ev.json"]).is_err());
        assert!(matches!(
            parse(&["check", "hooks"]).unwrap(),
            HooksCmd::Check { dir: Some(_) }
        ));
    }

    #[test]
    fn check_reports_errors_with_exit_code() {
        let ok = dir_with("10-ok.lua", "cohort.on('before_invite', function() end)\n");
        let cmd = HooksCmd::Check {
            dir: Some(ok.path().into()),
        };
        assert_eq!(run(cmd, None, true).unwrap(), 0);
        let bad = dir_with("10-bad.lua", "cohort.on('before_invite', function()\n");
        let cmd = HooksCmd::Check {
            dir: Some(bad.path().into()),
        };
        assert_eq!(run(cmd, None, false).unwrap(), 1);
    }

    #[test]
    fn test_prints_the_decision_and_exits_by_it() {
        let d = dir_with(
            "10-gate.lua",
            "cohort.on('before_invite', function(ev)\n  if ev.email:match('@evil') then return false, 'no' end\nend)\n",
        );
        let ev = d.path().join("ev.json");
        let run_with = |email: &str| {
            std::fs::write(&ev, serde_json::json!({ "email": email }).to_string()).unwrap();
            run(
                HooksCmd::Test {
                    event: "before_invite".into(),
                    data: ev.clone(),
                    hooks: Some(d.path().into()),
                    now: Some("2026-11-29T10:00:00Z".into()),
                },
                None,
                false,
            )
            .unwrap()
        };
        assert_eq!(run_with("a@good.example"), 0);
        assert_eq!(run_with("a@evil.example"), 1);
    }

    #[test]
    fn a_config_must_exist_when_named() {
        let err = run(
            HooksCmd::Check { dir: None },
            Some("/nonexistent/cohort.toml".into()),
            false,
        )
        .unwrap_err();
        assert_eq!(err.code(), cohort_core::ErrorCode::Io);
    }
}
