//! Storage: one [`Store`] in front of three backends, and the queries they all run.
//!
//! - SQLite ([`sqlite`]): the embedded default, a file next to the panel.
//! - MariaDB/MySQL ([`mysql`]) and PostgreSQL ([`postgres`]): a server that several web nodes
//!   share, named by a `mysql://` or `postgres://` URL.
//!
//! The engine sees only [`Sql`] (a connection inside a transaction) and the functions of
//! [`queries`], which are written once for every backend. Every backend gives the same
//! guarantees: atomic writes, durable commits, single-use accepts under races, reads that see
//! whole commits only, and a `check` that never answers from before another process's commit.

pub mod copy;
pub mod mysql;
pub mod postgres;
pub mod queries;
mod server;
pub mod sql;
pub mod sqlite;

pub use queries::*;
pub use sql::{Arg, Backend, InsertId, Sql};

use crate::config::{Database, Synchronous};
use crate::error::Result;
use crate::model::{Permissions, Role};

/// The schema version this build writes, on every backend (`PRAGMA user_version` on SQLite,
/// the `cohort_schema` table on a server).
pub const SCHEMA_VERSION: i64 = 4;

/// How [`Store::open`] treats a database that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The database must exist and hold Cohort's schema (migrated when older). The default for
    /// every engine a panel, cron job or CLI command opens.
    Existing,
    /// Creates the database (a SQLite file, or a database on the server) and its schema when
    /// they do not exist yet (`cohort init`, a panel's installer); an existing Cohort database
    /// is opened as with `Existing`.
    Create,
}

/// Settings a store is opened with.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub mode: OpenMode,
    /// SQLite only: servers keep their own durability settings (see the backends).
    pub synchronous: Synchronous,
    /// How long a write waits for a lock another connection holds (SQLite's busy timeout,
    /// InnoDB's lock wait timeout, PostgreSQL's `lock_timeout`).
    pub busy_timeout_ms: u32,
    /// SQLite only: permission bits of a database file this store creates (0o600 unless
    /// configured).
    pub file_mode: u32,
}

impl Default for OpenOptions {
    /// An existing database, `synchronous=FULL`, the default busy timeout, mode 0600.
    fn default() -> OpenOptions {
        OpenOptions {
            mode: OpenMode::Existing,
            synchronous: Synchronous::Full,
            busy_timeout_ms: crate::config::DEFAULT_BUSY_TIMEOUT_MS,
            file_mode: crate::config::DEFAULT_DATABASE_FILE_MODE,
        }
    }
}

/// An open database.
pub struct Store {
    inner: Inner,
}

/// One per engine, so the variants' sizes do not matter; none is boxed, so that `check` on
/// SQLite reaches its memo without a pointer to follow.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Sqlite(sqlite::SqliteStore),
    Mysql(mysql::MysqlStore),
    Postgres(postgres::PgStore),
}

impl Store {
    /// Opens (or with [`OpenMode::Create`], creates) a database and migrates its schema when
    /// it is older than this build's.
    pub fn open(db: &Database, opts: OpenOptions) -> Result<Store> {
        use crate::config::ServerKind;
        let inner = match db {
            Database::Sqlite(path) => Inner::Sqlite(sqlite::SqliteStore::open(path, &opts)?),
            Database::Server(url) => match url.kind {
                ServerKind::Mysql => Inner::Mysql(mysql::MysqlStore::open(url, &opts)?),
                ServerKind::Postgres => Inner::Postgres(postgres::PgStore::open(url, &opts)?),
            },
        };
        Ok(Store { inner })
    }

    /// A private in-memory SQLite database (tests and benchmarks).
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            inner: Inner::Sqlite(sqlite::SqliteStore::open_in_memory()?),
        })
    }

    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Mysql(_) => Backend::Mysql,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `f` in a write transaction; commits on `Ok`, rolls back on `Err`.
    ///
    /// On a server, a connection found dead when the transaction starts is replaced once; one
    /// lost during the transaction gives [`crate::Error::Unavailable`] (the server rolled it
    /// back), and one lost during the commit gives [`crate::Error::CommitUnknown`]: the write
    /// is never repeated blindly.
    pub fn write<T>(&mut self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        match &mut self.inner {
            Inner::Sqlite(s) => s.write(f),
            Inner::Mysql(s) => s.transact(false, f),
            Inner::Postgres(s) => s.transact(false, f),
        }
    }

    /// Runs `f` inside a read transaction, so that it sees one consistent snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        match &mut self.inner {
            Inner::Sqlite(s) => s.read(f),
            Inner::Mysql(s) => s.transact(true, f),
            Inner::Postgres(s) => s.transact(true, f),
        }
    }

    /// Runs `f`, made of reads that need no common snapshot (one statement, or a second one
    /// only to tell "empty" from "no such account"), outside a transaction: on a server that
    /// saves the round trips of BEGIN and COMMIT. `f` may run twice: once more on a new
    /// connection when the old one turns out to be gone.
    pub fn read_single<T>(&mut self, f: impl Fn(&dyn Sql) -> Result<T>) -> Result<T> {
        match &mut self.inner {
            Inner::Sqlite(s) => f(&sqlite::Lite(s.conn())),
            Inner::Mysql(s) => s.single(f),
            Inner::Postgres(s) => s.single(f),
        }
    }

    /// Applies `f` to the role and permissions of `email` (already normalized) on `account`.
    ///
    /// SQLite answers from a memo while no commit has happened since it was filled; a server
    /// is asked every time (one round trip: another node may have committed a moment ago).
    pub fn with_membership<R>(
        &mut self,
        account: &str,
        email: &str,
        f: impl FnOnce(Option<&(Role, Permissions)>) -> R,
    ) -> Result<R> {
        let found = match &mut self.inner {
            Inner::Sqlite(s) => return s.with_membership(account, email, f),
            Inner::Mysql(s) => s.single(|c| queries::membership_by_email(c, account, email))?,
            Inner::Postgres(s) => s.single(|c| queries::membership_by_email(c, account, email))?,
        };
        Ok(f(found.as_ref()))
    }

    /// See [`SqliteStore::check_generation`]; `None` on a server, where `check` keeps no memo
    /// (every answer is one query, so nothing may be kept).
    pub fn check_generation(&mut self) -> Result<Option<u64>> {
        match &mut self.inner {
            Inner::Sqlite(s) => s.check_generation().map(Some),
            _ => Ok(None),
        }
    }

    /// Whether `check`'s memo is validated by the WAL-index header SQLite has mapped (a SQLite
    /// file in WAL mode); false for in-memory databases and servers.
    pub fn watches_wal_index(&self) -> bool {
        match &self.inner {
            Inner::Sqlite(s) => s.watches_wal_index(),
            _ => false,
        }
    }
}

impl Store {
    /// The SQLite connection underneath, for tests that read its pragmas; `None` on a server.
    #[doc(hidden)]
    pub fn sqlite_conn(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(s) => Some(s.conn()),
            _ => None,
        }
    }
}
