//! `RUST_LOG` for the command line: with it set, the records of hooks (lines scripts log,
//! failing after-handlers, scripts that do not load) are also printed to standard error, besides
//! the `[log]` destinations of the config.
//!
//! `RUST_LOG` is read as a comma-separated list of `LEVEL` or `TARGET=LEVEL` items, where a
//! target applies when it is `cohort`, `cohort::hooks` or a prefix of those; levels are `off`,
//! `error`, `warn`, `info`, `debug` and `trace`.

use log::LevelFilter;

/// The level `RUST_LOG` asks for Cohort's records, if any.
fn level_of(spec: &str) -> Option<LevelFilter> {
    let mut bare = None;
    let mut targeted = None;
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('=') {
            Some((target, level)) => {
                let target = target.trim();
                if !target.is_empty() && "cohort::hooks".starts_with(target) {
                    targeted = level.trim().parse().ok().or(targeted);
                }
            }
            None => bare = item.parse().ok().or(bare),
        }
    }
    targeted.or(bare)
}

struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.target().starts_with("cohort")
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!(
                "cohort: [{}] {}",
                r.level().as_str().to_ascii_lowercase(),
                r.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Installs the logger when `RUST_LOG` names a level for Cohort.
pub fn init() {
    let Some(level) = std::env::var("RUST_LOG").ok().and_then(|s| level_of(&s)) else {
        return;
    };
    if level != LevelFilter::Off && log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_levels() {
        assert_eq!(level_of("trace"), Some(LevelFilter::Trace));
        assert_eq!(level_of("warn,cohort=debug"), Some(LevelFilter::Debug));
        assert_eq!(level_of("cohort::hooks=info"), Some(LevelFilter::Info));
        assert_eq!(level_of("hyper=debug"), None);
        assert_eq!(level_of("nonsense"), None);
        assert_eq!(level_of(""), None);
    }
}
