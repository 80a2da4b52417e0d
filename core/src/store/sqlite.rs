//! The SQLite backend: the embedded default.
//!
//! WAL journal, `synchronous=FULL` by default, foreign keys on, a busy timeout, and every write
//! inside `BEGIN IMMEDIATE`, so writers run one at a time. `check` is answered from a memo that
//! the WAL index SQLite has mapped keeps honest (see [`WalIndexWatch`]).

use super::sql::{Arg, Backend, Cell, Row, Sql};
use super::OpenMode;
use super::OpenOptions;
use crate::config::Synchronous;
use crate::error::{Error, Result};
use crate::model::*;
use rusqlite::{Connection, TransactionBehavior};
use std::ffi::c_int;
use std::path::Path;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 4;

const SCHEMA_V1: &str = "
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    email       TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL DEFAULT '',
    two_factor  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    last_login  INTEGER
);
CREATE TABLE accounts (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE TABLE memberships (
    account_id  TEXT    NOT NULL REFERENCES accounts(id),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'member')),
    perm_all    INTEGER NOT NULL,
    perms       TEXT    NOT NULL,
    invited_by  INTEGER REFERENCES users(id),
    joined_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);
CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    account_id   TEXT    NOT NULL REFERENCES accounts(id),
    email        TEXT    NOT NULL,
    perm_all     INTEGER NOT NULL,
    perms        TEXT    NOT NULL,
    invited_by   INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled', 'declined', 'expired')),
    times_sent   INTEGER NOT NULL,
    last_sent_at INTEGER NOT NULL,
    accepted_by  INTEGER REFERENCES users(id),
    closed_at    INTEGER,
    token_hash   BLOB    NOT NULL
);
CREATE INDEX invites_by_account ON invites (account_id, status);
CREATE INDEX invites_by_status ON invites (status, expires_at);
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    account_id  TEXT,
    action      TEXT    NOT NULL,
    target      TEXT,
    old_value   TEXT,
    new_value   TEXT
);
CREATE INDEX audit_by_account ON audit (account_id, at);
";

/// Version 2: contacts, notification settings of members, and the log of invite sends that
/// rate limits count.
const SCHEMA_V2: &str = "
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES accounts(id),
    first_name  TEXT    NOT NULL,
    last_name   TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    phone       TEXT    NOT NULL,
    company     TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users(id),
    notify      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX contacts_by_account ON contacts (account_id);
ALTER TABLE memberships ADD COLUMN notify TEXT;
CREATE TABLE invite_sends (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT    NOT NULL,
    inviter_id  INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX invite_sends_by_account ON invite_sends (account_id, at);
CREATE INDEX invite_sends_by_inviter ON invite_sends (inviter_id, at);
CREATE INDEX audit_by_actor ON audit (actor, at);
CREATE INDEX audit_by_target ON audit (target, at);
";

/// Version 3: the rate limits count invite sends in the audit trail (`invite.create` and
/// `invite.resend` entries, which every send writes anyway), so the separate send log and its
/// two indexes, three more pages written per invite, are gone. The audit's account and actor
/// indexes carry the action, so that counting reads the index alone.
const SCHEMA_V3: &str = "
DROP INDEX invite_sends_by_account;
DROP INDEX invite_sends_by_inviter;
DROP TABLE invite_sends;
DROP INDEX audit_by_account;
CREATE INDEX audit_by_account ON audit (account_id, at, action);
DROP INDEX audit_by_actor;
CREATE INDEX audit_by_actor ON audit (actor, at, action);
";

/// Version 4: the invites of an account are indexed by status, email and expiry, so that the
/// rules of an invite find an open invite to the same address, and count the pending ones,
/// in the index alone (same number of indexes: the old `(account_id, status)` is replaced).
pub(super) const SCHEMA_V4: &str = "
DROP INDEX invites_by_account;
CREATE INDEX invites_by_account ON invites (account_id, status, email, expires_at);
";

/// An open database connection, with the memo that keeps `check` off the disk.
pub struct SqliteStore {
    conn: Connection,
    memo: CheckMemo,
    /// Moves whenever `check`'s answers may have changed: this connection's commits and every
    /// change of the stamp that validates the memo ([`SqliteStore::check_generation`]).
    generation: u64,
    wal_index: Option<WalIndexWatch>,
}

/// Watches the header of SQLite's WAL index, through the memory SQLite itself has mapped.
///
/// The WAL index (format: <https://www.sqlite.org/walformat.html>) begins with a 48-byte header
/// that every commit, from any process, rewrites before the commit returns (its change counter
/// `iChange` moves on every write transaction). Comparing those 48 bytes with the copy taken when
/// the memo was filled is a change test that costs a few nanoseconds, where `PRAGMA
/// data_version` costs a read transaction (about 3 µs: several `fcntl` calls).
///
/// The pointer is the one SQLite's own VFS hands out: `SQLITE_FCNTL_FILE_POINTER` gives the
/// connection's `sqlite3_file`, and its `xShmMap` method (region 0, `bExtend = 0`) returns the
/// region SQLite has already mapped for this connection. No file is opened, mapped or closed
/// here, so SQLite's POSIX locks on `-shm` (the DMS lock that keeps other processes from
/// truncating and rebuilding it) are left alone.
///
/// Why the pointer stays valid: SQLite unmaps the WAL index only when the connection closes its
/// WAL, which happens when the connection closes or leaves WAL mode. This connection never
/// leaves WAL mode, and while it is open it keeps a SHARED lock on the database file, so no
/// other connection can take the EXCLUSIVE lock needed to switch the database out of WAL mode.
/// The region is only ever read, through volatile loads of plain integers: another process may
/// change the bytes at any time, and any value is valid (a torn read is a mismatch, that is a
/// memo miss, never a stale hit).
struct WalIndexWatch {
    header: *const u64,
}

// SAFETY: the pointer targets memory shared with other processes that lives as long as the
// connection it was obtained from, which the same `Store` owns; it is only read with volatile
// loads, so moving the `Store` to another thread is sound.
unsafe impl Send for WalIndexWatch {}

/// Size of the WAL-index header, in 8-byte words.
const WAL_INDEX_HEADER_WORDS: usize = 6;
/// Size of one WAL-index region (`WALINDEX_PGSZ` in SQLite's `wal.c`).
const WAL_INDEX_REGION: c_int = 32_768;

impl WalIndexWatch {
    /// The WAL index SQLite has mapped for `conn`, or `None` (not in WAL mode, in-memory, not
    /// mapped yet, or a VFS without shared memory): then the memo is validated by `PRAGMA
    /// data_version`.
    fn of(conn: &Connection) -> Option<WalIndexWatch> {
        use rusqlite::ffi;
        let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
        // SAFETY: `conn.handle()` is a live connection; FILE_POINTER writes one pointer into
        // `file` (the main database's sqlite3_file, owned by SQLite for the connection's life).
        let rc = unsafe {
            ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&mut file as *mut *mut ffi::sqlite3_file).cast(),
            )
        };
        if rc != ffi::SQLITE_OK || file.is_null() {
            return None;
        }
        // SAFETY: `file` is valid (above); its methods table is SQLite's own, static.
        let methods = unsafe { (*file).pMethods };
        if methods.is_null() || unsafe { (*methods).iVersion } < 2 {
            return None;
        }
        let shm_map = unsafe { (*methods).xShmMap }?;
        let mut region: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: the same call SQLite's WAL code makes to find region 0; with bExtend = 0 it
        // never creates or grows anything and answers NULL when the region is not mapped.
        let rc = unsafe { shm_map(file, 0, WAL_INDEX_REGION, 0, &mut region) };
        if rc != ffi::SQLITE_OK || region.is_null() {
            return None;
        }
        Some(WalIndexWatch {
            header: region as *const u64,
        })
    }

    fn stamp(&self) -> [u64; WAL_INDEX_HEADER_WORDS] {
        let mut out = [0u64; WAL_INDEX_HEADER_WORDS];
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: region 0 is at least 32 KiB, page-aligned, and mapped while the connection
            // is open (see the type's doc).
            *o = unsafe { std::ptr::read_volatile(self.header.add(i)) };
        }
        out
    }
}

/// Memo of (account, email) → membership for `check`.
///
/// Valid only while the WAL-index header (or, without one, `PRAGMA data_version`) is unchanged,
/// so no connection has committed since it was filled, and this connection has not written
/// (every [`Store::write`] clears it): it never serves an answer that a commit by this or
/// another process has made stale.
#[derive(Default)]
struct CheckMemo {
    stamp: Option<([u64; WAL_INDEX_HEADER_WORDS], i64)>,
    entries: usize,
    by_account: std::collections::HashMap<String, MemoByEmail, MemoHasher>,
}

/// One account's part of the memo: email → membership (or none).
type MemoByEmail = std::collections::HashMap<String, Option<(Role, Permissions)>, MemoHasher>;

/// The memo's hasher: aHash, several times faster than the default SipHash on short keys such
/// as account ids and emails, keyed with random seeds drawn once per process so that crafted
/// emails cannot be made to collide.
#[derive(Clone)]
struct MemoHasher(ahash::RandomState);

impl Default for MemoHasher {
    fn default() -> MemoHasher {
        static SEEDS: std::sync::OnceLock<[u64; 4]> = std::sync::OnceLock::new();
        let s = SEEDS.get_or_init(|| {
            let mut b = [0u8; 32];
            // Without the OS random source the seeds stay fixed: answers stay right, only the
            // resistance to crafted collisions is lost.
            let _ = getrandom::getrandom(&mut b);
            let word =
                |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
            [word(0), word(1), word(2), word(3)]
        });
        MemoHasher(ahash::RandomState::with_seeds(s[0], s[1], s[2], s[3]))
    }
}

impl std::hash::BuildHasher for MemoHasher {
    type Hasher = ahash::AHasher;
    fn build_hasher(&self) -> ahash::AHasher {
        self.0.build_hasher()
    }
}

/// Most (account, email) pairs the memo holds before it starts afresh.
const MEMO_CAPACITY: usize = 65_536;

impl SqliteStore {
    /// Opens a database file (or `:memory:`) and migrates it when its schema is older than this build's.
    ///
    /// A path that does not exist is refused unless `mode` is [`OpenMode::Create`]; a file that
    /// exists but is empty (0 bytes) or holds no Cohort schema is always refused, so a truncated
    /// or mistaken file never silently becomes an empty Cohort database. A database whose schema
    /// is current is opened without taking the write lock.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<SqliteStore> {
        use rusqlite::OpenFlags;
        if path.as_os_str() == ":memory:" {
            return SqliteStore::open_in_memory();
        }
        let shown = path.display().to_string();
        let io = |message: String| Error::Io {
            path: shown.clone(),
            message,
        };
        let existed = path
            .try_exists()
            .map_err(|e| io(format!("cannot look up the database: {e}")))?;
        if !existed && opts.mode == OpenMode::Existing {
            return Err(io(
                "no database here; create it with `cohort init` or open it with the create option \
                 (cohort_engine_create, Engine::create)"
                    .into(),
            ));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !existed {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| io(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_millis(
            opts.busy_timeout_ms.into(),
        ))?;
        // `page_count` reads through SQLite (WAL included): 0 means not one page was ever written.
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        if pages == 0 {
            if existed {
                return Err(io(
                    "the file is empty (0 bytes), not a Cohort database; restore it from a \
                     backup, or remove it and create a new database with `cohort init`"
                        .into(),
                ));
            }
            // A file SQLite has just created holds nothing yet: set its mode before any byte is
            // written (SQLite gives its -wal and -shm files the database file's mode). chmod
            // works on the path and opens no descriptor.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(opts.file_mode))
                .map_err(|e| io(format!("cannot set the database file's mode: {e}")))?;
        }
        let found = user_version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found == 0 && !(pages == 0 || opts.mode == OpenMode::Create && table_count(&conn)? == 0)
        {
            return Err(io(
                "not a Cohort database (it holds no Cohort schema); check the `database` setting"
                    .into(),
            ));
        }
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "{shown}: cannot use WAL journal mode (got {mode})"
            )));
        }
        conn.execute_batch(match opts.synchronous {
            Synchronous::Full => "PRAGMA synchronous=FULL;",
            Synchronous::Normal => "PRAGMA synchronous=NORMAL;",
        })?;
        SqliteStore::setup(conn, found)
    }

    /// An in-memory database (tests and benchmarks).
    pub fn open_in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        SqliteStore::setup(conn, 0)
    }

    fn setup(conn: Connection, found: i64) -> Result<SqliteStore> {
        conn.execute_batch("PRAGMA foreign_keys=ON;")?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = SqliteStore {
            conn,
            memo: CheckMemo::default(),
            generation: 1,
            wal_index: None,
        };
        if found < SCHEMA_VERSION {
            store.migrate()?;
        }
        // A read maps the WAL index (if `migrate` did not already).
        user_version(&store.conn)?;
        store.wal_index = WalIndexWatch::of(&store.conn);
        Ok(store)
    }

    /// Brings the schema to [`SCHEMA_VERSION`] under the write lock, re-reading the version
    /// inside it: when several processes open an old database at once, one migrates and the
    /// others find the work done.
    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = user_version(&tx)?;
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < 1 {
            tx.execute_batch(SCHEMA_V1)?;
        }
        if found < 2 {
            tx.execute_batch(SCHEMA_V2)?;
        }
        if found < 3 {
            tx.execute_batch(SCHEMA_V3)?;
        }
        if found < 4 {
            tx.execute_batch(SCHEMA_V4)?;
        }
        if found < SCHEMA_VERSION {
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction; commits on `Ok`, rolls back on `Err`.
    pub fn write<T>(&mut self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&Lite(&tx))?;
        tx.commit()?;
        // `PRAGMA data_version` does not move for this connection's own commits.
        self.memo = CheckMemo::default();
        self.generation += 1;
        Ok(out)
    }

    /// Runs `f` inside a read transaction, so that it sees one consistent snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&Lite(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    /// Applies `f` to the role and permissions of `email` (already normalized) on `account`,
    /// answered from the memo when no commit has happened since it was filled.
    pub fn with_membership<R>(
        &mut self,
        account: &str,
        email: &str,
        f: impl FnOnce(Option<&(Role, Permissions)>) -> R,
    ) -> Result<R> {
        self.validate_memo()?;
        if self.memo.entries >= MEMO_CAPACITY {
            self.memo = CheckMemo {
                stamp: self.memo.stamp,
                ..CheckMemo::default()
            };
        }
        if let Some(hit) = self.memo.by_account.get(account).and_then(|m| m.get(email)) {
            return Ok(f(hit.as_ref()));
        }
        let found = super::queries::membership_by_email(&Lite(&self.conn), account, email)?;
        let out = f(found.as_ref());
        self.memo.entries += 1;
        self.memo
            .by_account
            .entry(account.to_string())
            .or_default()
            .insert(email.to_string(), found);
        Ok(out)
    }

    /// Empties the memo when a commit has happened since it was filled (the WAL-index header,
    /// or `PRAGMA data_version`, moved), and then moves the generation.
    fn validate_memo(&mut self) -> Result<()> {
        let stamp = match &self.wal_index {
            Some(w) => (w.stamp(), 0),
            None => ([0; WAL_INDEX_HEADER_WORDS], self.data_version()?),
        };
        if self.memo.stamp != Some(stamp) {
            if self.memo.stamp.is_some() {
                self.generation += 1;
            }
            self.memo = CheckMemo {
                stamp: Some(stamp),
                ..CheckMemo::default()
            };
        }
        Ok(())
    }

    /// A number (never 0) that stays the same as long as no commit, by this connection or any
    /// other, can have changed an answer of `check`: a caller may keep answers it got while the
    /// number it read stays the same. Validated exactly as the memo is, so never stale.
    pub fn check_generation(&mut self) -> Result<u64> {
        self.validate_memo()?;
        Ok(self.generation)
    }

    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Whether `check`'s memo is validated by the WAL-index header SQLite has mapped (a file
    /// database in WAL mode), rather than by `PRAGMA data_version` (in-memory databases).
    pub fn watches_wal_index(&self) -> bool {
        self.wal_index.is_some()
    }

    /// Changes every time another connection commits (see `PRAGMA data_version`).
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }
}

fn user_version(c: &Connection) -> Result<i64> {
    Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

fn table_count(c: &Connection) -> Result<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?)
}

/// A SQLite connection (or transaction) as the shared queries see it.
pub(super) struct Lite<'a>(pub &'a Connection);

fn bind(st: &mut rusqlite::CachedStatement<'_>, args: &[Arg<'_>]) -> Result<()> {
    if st.parameter_count() != args.len() {
        return Err(Error::Internal(format!(
            "statement takes {} arguments, {} given",
            st.parameter_count(),
            args.len()
        )));
    }
    for (i, a) in args.iter().enumerate() {
        match *a {
            Arg::Int(v) => st.raw_bind_parameter(i + 1, v)?,
            Arg::Text(v) => st.raw_bind_parameter(i + 1, v)?,
            Arg::Bytes(v) => st.raw_bind_parameter(i + 1, v)?,
            Arg::Null => st.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
        }
    }
    Ok(())
}

impl Sql for Lite<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let mut st = self.0.prepare_cached(sql)?;
        bind(&mut st, args)?;
        Ok(st.raw_execute()? as u64)
    }

    fn insert(&self, sql: &str, args: &[Arg<'_>]) -> Result<i64> {
        self.exec(sql, args)?;
        Ok(self.0.last_insert_rowid())
    }

    fn rows(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        use rusqlite::types::ValueRef;
        let mut st = self.0.prepare_cached(sql)?;
        bind(&mut st, args)?;
        let n = st.column_count();
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Text(v.to_string()),
                    ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}
