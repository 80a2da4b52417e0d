//! `cohort db`: what a database holds, and moving an installation between databases.

use crate::output;
use crate::{load_config, Failure, Outcome};
use clap::Subcommand;
use cohort_core::config::Database;
use cohort_core::store::{copy, OpenMode, OpenOptions, Store, SCHEMA_VERSION};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DbCmd {
    /// Which database the config names, its backend, schema version and rows per table.
    Info,
    /// Copy every row (users, accounts, memberships, invites, contacts, notification settings,
    /// audit) into another database: SQLite to a server, a server to SQLite, or between servers.
    /// Pending invites keep working links. The target is created when missing, and refused when
    /// it already holds Cohort data unless --replace.
    Copy {
        /// Target: a SQLite path, or mysql://USER@HOST:PORT/DB, postgres://USER@HOST:PORT/DB.
        #[arg(long, value_name = "PATH_OR_URL")]
        to: String,
        /// Source (default: the config's database).
        #[arg(long, value_name = "PATH_OR_URL")]
        from: Option<String>,
        /// Environment variable holding the target server's password.
        #[arg(long, value_name = "VAR")]
        to_password_env: Option<String>,
        /// Environment variable holding the source server's password (with --from).
        #[arg(long, value_name = "VAR", requires = "from")]
        from_password_env: Option<String>,
        /// Delete the target's Cohort rows first (in the same transaction as the copy).
        #[arg(long)]
        replace: bool,
    },
}

fn open(db: &Database, mode: OpenMode, busy_timeout_ms: u32) -> Result<Store, Failure> {
    Ok(Store::open(
        db,
        OpenOptions {
            mode,
            busy_timeout_ms,
            ..OpenOptions::default()
        },
    )?)
}

pub fn run(cmd: DbCmd, cfg_flag: Option<PathBuf>, json: bool) -> Outcome {
    let cwd = std::env::current_dir().unwrap_or_default();
    match cmd {
        DbCmd::Info => {
            let cfg = load_config(cfg_flag)?;
            let mut store = open(&cfg.database, OpenMode::Existing, cfg.busy_timeout_ms)?;
            let counts = store.read(copy::row_counts)?;
            if json {
                output::json(&serde_json::json!({
                    "database": cfg.database.shown(),
                    "backend": store.backend().as_str(),
                    "schema_version": SCHEMA_VERSION,
                    "rows": counts.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                }));
            } else {
                println!("database: {}", cfg.database.shown());
                println!("backend: {}", store.backend().as_str());
                println!("schema version: {SCHEMA_VERSION}");
                let rows: Vec<Vec<String>> = counts
                    .iter()
                    .map(|(t, n)| vec![t.clone(), n.to_string()])
                    .collect();
                output::table(&["TABLE", "ROWS"], &rows);
            }
            Ok(0)
        }
        DbCmd::Copy {
            to,
            from,
            to_password_env,
            from_password_env,
            replace,
        } => {
            let (source, busy) = match from {
                Some(f) => (
                    Database::from_setting(&f, &cwd, from_password_env.as_deref())?,
                    cohort_core::config::DEFAULT_BUSY_TIMEOUT_MS,
                ),
                None => {
                    let cfg = load_config(cfg_flag)?;
                    (cfg.database.clone(), cfg.busy_timeout_ms)
                }
            };
            let target = Database::from_setting(&to, &cwd, to_password_env.as_deref())?;
            if target == source {
                return Err(crate::usage("--to names the source database itself"));
            }
            let mut src = open(&source, OpenMode::Existing, busy)?;
            let mut dst = open(&target, OpenMode::Create, busy)?;
            let report = copy::copy(
                &mut src,
                &mut dst,
                &source.shown(),
                &target.shown(),
                replace,
            )?;
            if json {
                output::json(&report);
            } else {
                let total: usize = report.tables.iter().map(|(_, n)| n).sum();
                println!(
                    "copied {total} rows from {} to {} (both sides compared row for row)",
                    report.from, report.to
                );
                if report.replaced > 0 {
                    println!("replaced {} rows the target held", report.replaced);
                }
                let rows: Vec<Vec<String>> = report
                    .tables
                    .iter()
                    .map(|(t, n)| vec![t.clone(), n.to_string()])
                    .collect();
                output::table(&["TABLE", "ROWS"], &rows);
                println!("to use it, set database = \"{}\" in cohort.toml", report.to);
            }
            Ok(0)
        }
    }
}
