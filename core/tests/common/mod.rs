//! Shared fixtures for the core's integration tests.
#![allow(dead_code)]

mod db;
#[allow(unused_imports)]
pub use db::{database_for, test_server};

use cohort_core::config::create_key_file;
use cohort_core::{Config, Engine, Error, ErrorCode, ManualClock, Permissions, TokenReason};
use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

/// 2026-11-29T10:00:00Z, the start of every test's manual clock.
pub const T0: i64 = 1_795_946_400;
pub const DAY: i64 = 86_400;

pub const ACCOUNT: &str = "1042";
pub const ACCOUNT_NAME: &str = "Acme Ltd";
pub const OWNER: &str = "owner@acme.example";

/// A config with defaults, a database and a fresh key `k1` inside `dir`.
pub fn config_in(dir: &Path) -> Config {
    let keys = dir.join("keys");
    create_key_file(&keys, "k1").expect("key file");
    Config::new(database_for(dir, "cohort.db"), keys, "k1")
}

/// The SQLite file of a test's config.
pub fn sqlite_path(cfg: &Config) -> std::path::PathBuf {
    cfg.database
        .sqlite_path()
        .expect("this test is about SQLite files")
        .to_path_buf()
}

/// A fresh database with a manual clock at [`T0`] and one account owned by [`OWNER`].
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub engine: Engine,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with(|_| {})
    }

    /// Like [`Fixture::new`], after `tune` has adjusted the config.
    pub fn with(tune: impl FnOnce(&mut Config)) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = config_in(dir.path());
        tune(&mut cfg);
        let clock = ManualClock::new(T0);
        let engine = Engine::create_with_clock(cfg, Arc::new(clock.clone())).expect("open engine");
        engine
            .upsert_account(ACCOUNT, ACCOUNT_NAME, OWNER)
            .expect("account");
        Fixture { dir, clock, engine }
    }

    /// Another engine on the same database, keys and clock.
    pub fn reopen(&self) -> Engine {
        Engine::open_with_clock(self.engine.config().clone(), Arc::new(self.clock.clone()))
            .expect("reopen engine")
    }

    /// Invites `email` to [`ACCOUNT`] as the owner and returns the token.
    pub fn invite(&self, email: &str, perms: &Permissions) -> cohort_core::IssuedInvite {
        self.engine
            .invite(OWNER, ACCOUNT, email, perms, None)
            .expect("invite")
    }

    /// Makes `email` a member of [`ACCOUNT`] by invite and accept (creating the login).
    pub fn member(&self, email: &str, perms: &Permissions) {
        let sent = self.invite(email, perms);
        self.engine
            .accept_register(&sent.token, email, "")
            .expect("accept_register");
    }

    pub fn dump(&self) -> Vec<String> {
        self.engine.dump().expect("dump")
    }

    /// Runs a call that must be refused with `code`, and proves it wrote nothing.
    pub fn refused<T: Debug>(
        &self,
        code: ErrorCode,
        call: impl FnOnce(&Engine) -> cohort_core::Result<T>,
    ) -> Error {
        let before = self.dump();
        let err = match call(&self.engine) {
            Ok(v) => panic!("expected {code}, got Ok({v:?})"),
            Err(e) => e,
        };
        assert_eq!(err.code(), code, "unexpected error: {err}");
        assert_eq!(
            self.dump(),
            before,
            "a refused call ({code}) changed the database"
        );
        err
    }
}

/// A chosen permission set.
pub fn keys(list: &[&str]) -> Permissions {
    Permissions::Keys(list.iter().map(|s| s.to_string()).collect())
}

/// The token reason of an error, panicking on any other error.
pub fn token_reason(e: &Error) -> TokenReason {
    match e {
        Error::Token { reason, .. } => *reason,
        other => panic!("expected a token error, got {other}"),
    }
}

/// The code of a result's error, panicking on success.
pub fn code<T: Debug>(r: cohort_core::Result<T>) -> ErrorCode {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.code(),
    }
}
