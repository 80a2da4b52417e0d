//! The façade every front end calls: one method per operation, each one atomic transaction.
//!
//! Each operation validates its input, runs the before-hooks, writes in one store transaction,
//! runs the after-hooks, and leaves an audit entry. The operations live by aggregate, each file an
//! `impl Engine` block:
//!
//! - `accounts` — accounts, logins, recording a login
//! - `invites` — inviting, resending, cancelling, listing and expiring invites
//! - `email` — the link and email text of an issued invite
//! - `accept` — judging links, inspecting, accepting (as a login or by registering), declining
//! - `members` — the member list, permissions, removing access, leaving, ownership, `check`
//! - `contacts` — contacts and who receives which kind of email
//! - `audit` — the audit views
//!
//! Shared pieces: this file (the [`Engine`] itself, its constructors, the audit writer and
//! input checks), `access` (who may manage an account, and the owner's protection), `hooks`
//! (running before- and after-handlers) and `events` (the data handed to hooks, read from the
//! store). Every rule an operation checks is one function that its before-hook event and its
//! write closure both call; the hooks module only ever receives plain data.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::hooks::logbook::Logbook;
use crate::hooks::{Hooks, LogCallback, LogLevel};
use crate::model::User;
use crate::permissions::Catalogue;
pub use crate::store::OpenMode;
use crate::store::{self, AuditEntry, OpenOptions, Sql, Store};
use crate::token::{self, Keyring};
use std::sync::{Arc, Mutex, MutexGuard};

mod accept;
mod access;
mod accounts;
mod audit;
mod contacts;
mod email;
mod events;
mod hooks;
mod invites;
mod members;

/// Longest account id, in bytes (it is carried inside invite tokens).
pub const MAX_ACCOUNT_ID_LEN: usize = token::MAX_ACCOUNT_ID_LEN;
/// Longest account or user name, in characters.
pub const MAX_NAME_LEN: usize = 200;
/// The permission key that lets a member manage the account's users.
pub const USERS_KEY: &str = "users";

/// An open Cohort database with its configuration and keys.
///
/// `Engine` is `Send + Sync`: threads may share one engine (calls are serialized on its single
/// connection), or open one engine each for parallel reads. Several processes may open the
/// same database; SQLite's locking keeps their writes atomic and isolated.
pub struct Engine {
    cfg: Config,
    keyring: Keyring,
    catalogue: Catalogue,
    clock: Arc<dyn Clock>,
    store: Mutex<Store>,
    /// Lua hook scripts; `None` (no cost at all) when no `[hooks]` directory is configured.
    hooks: Option<Hooks>,
    /// Where the records of hooks go (the `[log]` section and a host's logger).
    log: Arc<Logbook>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("database", &self.cfg.database)
            .field("keyring", &self.keyring)
            .finish()
    }
}

/// How many audit entries a view returns when the caller names no limit (or 0).
pub const DEFAULT_AUDIT_LIMIT: u32 = 100;

/// Who acts when the panel itself (not a person) makes a change.
pub const PANEL_ACTOR: &str = "panel";
/// Who acts for scheduled work such as expiring invites.
pub const SYSTEM_ACTOR: &str = "system";

impl Engine {
    /// Opens the engine described by a config file.
    pub fn open_path(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        Engine::open(Config::load(path)?)
    }

    /// Opens an engine with the system clock. The database must exist (see [`Engine::create`]).
    pub fn open(cfg: Config) -> Result<Engine> {
        Engine::open_with_clock(cfg, Arc::new(SystemClock))
    }

    /// Opens an engine, creating its database first when the path does not exist yet: for
    /// `cohort init` and a panel's installer. An existing database is opened as by
    /// [`Engine::open`]; an existing empty file is refused all the same.
    pub fn create(cfg: Config) -> Result<Engine> {
        let keyring = cfg.load_keyring()?;
        Engine::open_full(cfg, keyring, Arc::new(SystemClock), OpenMode::Create)
    }

    /// [`Engine::create`] with a given clock (tests, demos).
    pub fn create_with_clock(cfg: Config, clock: Arc<dyn Clock>) -> Result<Engine> {
        let keyring = cfg.load_keyring()?;
        Engine::open_full(cfg, keyring, clock, OpenMode::Create)
    }

    /// [`Engine::create`] for a config file.
    pub fn create_path(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        Engine::create(Config::load(path)?)
    }

    /// Opens an engine with a given clock (tests, demos).
    pub fn open_with_clock(cfg: Config, clock: Arc<dyn Clock>) -> Result<Engine> {
        let keyring = cfg.load_keyring()?;
        Engine::open_with_keyring(cfg, keyring, clock)
    }

    /// Opens an engine with an explicit keyring (the config's key settings are not read).
    pub fn open_with_keyring(
        cfg: Config,
        keyring: Keyring,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine> {
        Engine::open_full(cfg, keyring, clock, OpenMode::Existing)
    }

    /// Every way of opening ends here: `mode` says whether a missing database is created.
    pub fn open_full(
        cfg: Config,
        keyring: Keyring,
        clock: Arc<dyn Clock>,
        mode: OpenMode,
    ) -> Result<Engine> {
        if keyring.current().is_none() {
            return Err(Error::Key {
                key: "(none)".into(),
                message: "the keyring has no current key".into(),
            });
        }
        // Checked here too for a `Config` built in code: every verifier refuses a larger skew.
        token::check_skew(cfg.clock_skew)
            .map_err(|_| Error::config("clock_skew", "must be at most 1h"))?;
        let catalogue = Catalogue::with_extra(&cfg.permissions)?;
        let log = Arc::new(Logbook::open(cfg.log.as_ref())?);
        let hooks = match &cfg.hooks {
            Some(h) => Some(Hooks::with_log(h.clone(), catalogue.keys(), log.clone())?),
            None => None,
        };
        let store = Store::open(
            &cfg.database,
            OpenOptions {
                mode,
                synchronous: cfg.synchronous,
                busy_timeout_ms: cfg.busy_timeout_ms,
                file_mode: cfg.database_file_mode,
            },
        )?;
        Ok(Engine {
            cfg,
            keyring,
            catalogue,
            clock,
            store: Mutex::new(store),
            hooks,
            log,
        })
    }

    /// Sets the host's logger: `logger` receives every record of hooks at `level` or more
    /// severe (lines scripts log, failing after-handlers, scripts that do not load), besides
    /// the `[log]` destinations. `None` removes it.
    ///
    /// The logger is called on the thread of the operation that made the record, from within
    /// that call on this engine, after the scripts have run (outside the VM's lock and the
    /// deadline); never by two threads at once, and never again once this returns with another
    /// logger. Records of calls the logger itself makes on the engine do not reach it, and it
    /// cannot replace itself (that is an [`Error::InvalidArgument`]). A panic in it is caught
    /// and loses that record only.
    pub fn set_logger(&self, level: LogLevel, logger: Option<LogCallback>) -> Result<()> {
        self.log.set_callback(level, logger)
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a transaction half-applied (rusqlite rolls
        // back on drop), so a poisoned lock is safe to keep using.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who acts: the login named, or, when none is, the owner of `account` (what an admin tool
    /// Whether `check` validates its memo through the WAL-index header SQLite has mapped (see
    /// [`store::Store::watches_wal_index`]).
    pub fn check_memo_watches_wal_index(&self) -> bool {
        self.store().watches_wal_index()
    }

    /// Every row of every table, for tests that prove a refused call changed nothing.
    pub fn dump(&self) -> Result<Vec<String>> {
        self.store().read(store::dump)
    }
}

/// Writes one audit entry in the transaction `tx`.
#[allow(clippy::too_many_arguments)]
fn audit(
    tx: &dyn Sql,
    now: i64,
    actor: &str,
    account: Option<&str>,
    action: &str,
    target: Option<&str>,
    old_value: Option<String>,
    new_value: Option<String>,
) -> Result<()> {
    store::audit_insert(
        tx,
        now,
        &AuditEntry {
            actor,
            account,
            action,
            target,
            old_value,
            new_value,
        },
    )
}

/// How a login reads in the audit trail.
fn user_summary(u: &User) -> String {
    format!("name={:?} 2fa={}", u.name, u.two_factor)
}

/// A trimmed name of at most [`MAX_NAME_LEN`] characters without control characters.
fn check_name(field: &'static str, name: &str, may_be_empty: bool) -> Result<String> {
    let n = name.trim();
    if (!may_be_empty && n.is_empty())
        || n.chars().count() > MAX_NAME_LEN
        || n.chars().any(char::is_control)
    {
        return Err(Error::InvalidArgument {
            field,
            message: format!(
                "must be {}{MAX_NAME_LEN} characters without control characters",
                if may_be_empty { "0-" } else { "1-" }
            ),
        });
    }
    Ok(n.to_string())
}
