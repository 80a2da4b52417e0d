//! SQLite storage: schema, migrations and queries.
//!
//! WAL journal, `synchronous=FULL` by default, foreign keys on, a busy timeout, and every write
//! inside `BEGIN IMMEDIATE`. The schema uses only portable SQL (no SQLite-only constructs) so that
//! another backend can sit behind the same queries.

use crate::config::Synchronous;
use crate::error::{Error, Result};
use crate::model::*;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::ffi::c_int;
use std::path::Path;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;

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

/// An open database connection, with the memo that keeps `check` off the disk.
pub struct Store {
    conn: Connection,
    memo: CheckMemo,
    wal_index: Option<WalIndexWatch>,
}

/// How [`Store::open`] treats a database path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The database must exist and hold Cohort's schema (migrated when older). The default for
    /// every engine a panel, cron job or CLI command opens.
    Existing,
    /// Creates the database when the path does not exist yet (`cohort init`, a panel's
    /// installer); an existing file is opened as with `Existing`.
    Create,
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

/// Settings a store is opened with.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub mode: OpenMode,
    pub synchronous: Synchronous,
    pub busy_timeout_ms: u32,
    /// Permission bits of a database file this store creates (0o600 unless configured).
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

impl Store {
    /// Opens a database file and migrates it when its schema is older than this build's.
    ///
    /// A path that does not exist is refused unless `mode` is [`OpenMode::Create`]; a file that
    /// exists but is empty (0 bytes) or holds no Cohort schema is always refused, so a truncated
    /// or mistaken file never silently becomes an empty Cohort database. A database whose schema
    /// is current is opened without taking the write lock.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Store> {
        use rusqlite::OpenFlags;
        if path.as_os_str() == ":memory:" {
            return Store::open_in_memory();
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
        Store::setup(conn, found)
    }

    /// An in-memory database (tests and benchmarks).
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA synchronous=FULL;")?;
        Store::setup(conn, 0)
    }

    fn setup(conn: Connection, found: i64) -> Result<Store> {
        conn.execute_batch("PRAGMA foreign_keys=ON;")?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store {
            conn,
            memo: CheckMemo::default(),
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
        if found < SCHEMA_VERSION {
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction; commits on `Ok`, rolls back on `Err`.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        // `PRAGMA data_version` does not move for this connection's own commits.
        self.memo = CheckMemo::default();
        Ok(out)
    }

    /// Runs `f` inside a read transaction, so that it sees one consistent snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The raw connection (single-statement reads).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Applies `f` to the role and permissions of `email` (already normalized) on `account`,
    /// answered from the memo when no commit has happened since it was filled.
    pub fn with_membership<R>(
        &mut self,
        account: &str,
        email: &str,
        f: impl FnOnce(Option<&(Role, Permissions)>) -> R,
    ) -> Result<R> {
        let stamp = match &self.wal_index {
            Some(w) => (w.stamp(), 0),
            None => ([0; WAL_INDEX_HEADER_WORDS], self.data_version()?),
        };
        if self.memo.stamp != Some(stamp) || self.memo.entries >= MEMO_CAPACITY {
            self.memo = CheckMemo {
                stamp: Some(stamp),
                ..CheckMemo::default()
            };
        }
        if let Some(hit) = self.memo.by_account.get(account).and_then(|m| m.get(email)) {
            return Ok(f(hit.as_ref()));
        }
        let found = membership_by_email(&self.conn, account, email)?;
        let out = f(found.as_ref());
        self.memo.entries += 1;
        self.memo
            .by_account
            .entry(account.to_string())
            .or_default()
            .insert(email.to_string(), found);
        Ok(out)
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

// ---------- users ----------

const USER_COLS: &str = "id, email, name, two_factor, created_at, last_login";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: email_col(r, 1)?,
        name: r.get(2)?,
        two_factor: r.get(3)?,
        created_at: r.get(4)?,
        last_login: r.get(5)?,
    })
}

fn email_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Email> {
    let s: String = r.get(i)?;
    Email::parse(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_email_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Email>> {
    match r.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(_) => email_col(r, i).map(Some),
    }
}

pub fn user_by_email(c: &Connection, email: &Email) -> Result<Option<User>> {
    let mut st = c.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE email = ?1"))?;
    Ok(st.query_row([email.as_str()], user_from_row).optional()?)
}

pub fn user_insert(
    c: &Connection,
    email: &Email,
    name: &str,
    two_factor: bool,
    now: i64,
) -> Result<User> {
    c.prepare_cached(
        "INSERT INTO users (email, name, two_factor, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![email.as_str(), name, two_factor, now])?;
    Ok(User {
        id: c.last_insert_rowid(),
        email: email.clone(),
        name: name.to_string(),
        two_factor,
        created_at: now,
        last_login: None,
    })
}

pub fn user_update(c: &Connection, u: &User) -> Result<()> {
    c.prepare_cached("UPDATE users SET name = ?2, two_factor = ?3, last_login = ?4 WHERE id = ?1")?
        .execute(params![u.id, u.name, u.two_factor, u.last_login])?;
    Ok(())
}

// ---------- accounts ----------

pub fn account_get(c: &Connection, id: &str) -> Result<Option<(Account, i64)>> {
    let mut st = c.prepare_cached(
        "SELECT a.id, a.name, u.email, a.created_at, a.owner_id FROM accounts a JOIN users u ON u.id = a.owner_id WHERE a.id = ?1",
    )?;
    Ok(st
        .query_row([id], |r| {
            Ok((
                Account {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    owner: email_col(r, 2)?,
                    created_at: r.get(3)?,
                },
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()?)
}

pub fn account_insert(c: &Connection, id: &str, name: &str, owner_id: i64, now: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO accounts (id, name, owner_id, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, name, owner_id, now])?;
    Ok(())
}

pub fn account_set_name(c: &Connection, id: &str, name: &str) -> Result<()> {
    c.prepare_cached("UPDATE accounts SET name = ?2 WHERE id = ?1")?
        .execute(params![id, name])?;
    Ok(())
}

pub fn account_set_owner(c: &Connection, id: &str, owner_id: i64) -> Result<()> {
    c.prepare_cached("UPDATE accounts SET owner_id = ?2 WHERE id = ?1")?
        .execute(params![id, owner_id])?;
    Ok(())
}

// ---------- memberships ----------

/// Role and permissions of a user on an account.
pub fn membership_get(
    c: &Connection,
    account: &str,
    user_id: i64,
) -> Result<Option<(Role, Permissions)>> {
    let mut st = c.prepare_cached(
        "SELECT role, perm_all, perms FROM memberships WHERE account_id = ?1 AND user_id = ?2",
    )?;
    Ok(st
        .query_row(params![account, user_id], |r| {
            Ok((
                Role::from_db(&r.get::<_, String>(0)?),
                Permissions::from_db(r.get(1)?, &r.get::<_, String>(2)?),
            ))
        })
        .optional()?)
}

/// The hot path of `check`: one indexed lookup by email and account.
pub fn membership_by_email(
    c: &Connection,
    account: &str,
    email: &str,
) -> Result<Option<(Role, Permissions)>> {
    let mut st = c.prepare_cached(
        "SELECT m.role, m.perm_all, m.perms FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.email = ?1 AND m.account_id = ?2",
    )?;
    Ok(st
        .query_row(params![email, account], |r| {
            Ok((
                Role::from_db(&r.get::<_, String>(0)?),
                Permissions::from_db(r.get(1)?, &r.get::<_, String>(2)?),
            ))
        })
        .optional()?)
}

pub fn membership_insert(
    c: &Connection,
    account: &str,
    user_id: i64,
    role: Role,
    perms: &Permissions,
    invited_by: Option<i64>,
    now: i64,
) -> Result<()> {
    let (all, keys) = perms.to_db();
    c.prepare_cached(
        "INSERT INTO memberships (account_id, user_id, role, perm_all, perms, invited_by, joined_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![account, user_id, role.as_str(), all, keys, invited_by, now])?;
    Ok(())
}

pub fn membership_update(
    c: &Connection,
    account: &str,
    user_id: i64,
    role: Role,
    perms: &Permissions,
) -> Result<()> {
    let (all, keys) = perms.to_db();
    c.prepare_cached(
        "UPDATE memberships SET role = ?3, perm_all = ?4, perms = ?5 WHERE account_id = ?1 AND user_id = ?2",
    )?
    .execute(params![account, user_id, role.as_str(), all, keys])?;
    Ok(())
}

pub fn membership_delete(c: &Connection, account: &str, user_id: i64) -> Result<usize> {
    Ok(
        c.prepare_cached("DELETE FROM memberships WHERE account_id = ?1 AND user_id = ?2")?
            .execute(params![account, user_id])?,
    )
}

pub fn member_count(c: &Connection, account: &str) -> Result<i64> {
    Ok(
        c.prepare_cached("SELECT COUNT(*) FROM memberships WHERE account_id = ?1")?
            .query_row([account], |r| r.get(0))?,
    )
}

pub fn members(c: &Connection, account: &str) -> Result<Vec<Member>> {
    let mut st = c.prepare_cached(
        "SELECT m.account_id, u.email, u.name, m.role, m.perm_all, m.perms, u.last_login, u.two_factor, m.joined_at, i.email \
         FROM memberships m JOIN users u ON u.id = m.user_id LEFT JOIN users i ON i.id = m.invited_by \
         WHERE m.account_id = ?1 ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.joined_at, u.email",
    )?;
    let rows = st.query_map([account], |r| {
        Ok(Member {
            account_id: r.get(0)?,
            email: email_col(r, 1)?,
            name: r.get(2)?,
            role: Role::from_db(&r.get::<_, String>(3)?),
            permissions: Permissions::from_db(r.get(4)?, &r.get::<_, String>(5)?),
            last_login: r.get(6)?,
            two_factor: r.get(7)?,
            joined_at: r.get(8)?,
            invited_by: opt_email_col(r, 9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn accounts_of(c: &Connection, user_id: i64) -> Result<Vec<AccountRole>> {
    let mut st = c.prepare_cached(
        "SELECT a.id, a.name, m.role, m.perm_all, m.perms FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.user_id = ?1 ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, a.name, a.id",
    )?;
    let rows = st.query_map([user_id], |r| {
        Ok(AccountRole {
            account_id: r.get(0)?,
            account_name: r.get(1)?,
            role: Role::from_db(&r.get::<_, String>(2)?),
            permissions: Permissions::from_db(r.get(3)?, &r.get::<_, String>(4)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------- invites ----------

/// An invite row as stored, with the hash of its current token's nonce.
#[derive(Debug, Clone)]
pub struct InviteRow {
    pub invite: Invite,
    /// Status as stored (a pending row may already be overdue).
    pub stored_status: InviteStatus,
    pub token_hash: Vec<u8>,
}

const INVITE_SELECT: &str = "SELECT i.id, i.account_id, i.email, i.perm_all, i.perms, u.email, i.created_at, i.expires_at, \
     i.status, i.times_sent, i.last_sent_at, a.email, i.token_hash \
     FROM invites i JOIN users u ON u.id = i.invited_by LEFT JOIN users a ON a.id = i.accepted_by";

fn invite_from_row(r: &Row<'_>, now: i64) -> rusqlite::Result<InviteRow> {
    let stored = InviteStatus::from_db(&r.get::<_, String>(8)?);
    let expires_at: i64 = r.get(7)?;
    let status = if stored == InviteStatus::Pending && now >= expires_at {
        InviteStatus::Expired
    } else {
        stored
    };
    Ok(InviteRow {
        invite: Invite {
            id: r.get(0)?,
            account_id: r.get(1)?,
            email: email_col(r, 2)?,
            permissions: Permissions::from_db(r.get(3)?, &r.get::<_, String>(4)?),
            invited_by: email_col(r, 5)?,
            created_at: r.get(6)?,
            expires_at,
            status,
            times_sent: r.get(9)?,
            last_sent_at: r.get(10)?,
            accepted_by: opt_email_col(r, 11)?,
        },
        stored_status: stored,
        token_hash: r.get(12)?,
    })
}

pub fn invite_get(c: &Connection, id: i64, now: i64) -> Result<Option<InviteRow>> {
    let mut st = c.prepare_cached(&format!("{INVITE_SELECT} WHERE i.id = ?1"))?;
    Ok(st.query_row([id], |r| invite_from_row(r, now)).optional()?)
}

/// Open invites (pending, including overdue ones, and expired) of an account, newest first.
pub fn invites_open(c: &Connection, account: &str, now: i64) -> Result<Vec<Invite>> {
    let mut st = c.prepare_cached(&format!(
        "{INVITE_SELECT} WHERE i.account_id = ?1 AND i.status IN ('pending', 'expired') ORDER BY i.last_sent_at DESC, i.id DESC"
    ))?;
    let rows = st.query_map([account], |r| invite_from_row(r, now).map(|row| row.invite))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The open (pending or expired) invite to `email` on `account`, if any.
pub fn invite_open_for(
    c: &Connection,
    account: &str,
    email: &Email,
    now: i64,
) -> Result<Option<Invite>> {
    let mut st = c.prepare_cached(&format!(
        "{INVITE_SELECT} WHERE i.account_id = ?1 AND i.email = ?2 AND i.status IN ('pending', 'expired') ORDER BY i.id DESC LIMIT 1"
    ))?;
    Ok(st
        .query_row(params![account, email.as_str()], |r| {
            invite_from_row(r, now).map(|row| row.invite)
        })
        .optional()?)
}

/// Invites that are pending and not yet overdue.
///
/// `+expires_at` keeps the planner on `invites_by_account`: left to itself it picks
/// `invites_by_status` and walks every pending invite of every account.
pub fn pending_count(c: &Connection, account: &str, now: i64) -> Result<i64> {
    Ok(c.prepare_cached(
        "SELECT COUNT(*) FROM invites WHERE account_id = ?1 AND status = 'pending' AND +expires_at > ?2",
    )?
    .query_row(params![account, now], |r| r.get(0))?)
}

pub struct NewInvite<'a> {
    pub account: &'a str,
    pub email: &'a Email,
    pub permissions: &'a Permissions,
    pub invited_by: i64,
    pub now: i64,
    pub expires_at: i64,
    pub token_hash: &'a [u8],
}

pub fn invite_insert(c: &Connection, n: &NewInvite<'_>) -> Result<i64> {
    let (all, keys) = n.permissions.to_db();
    c.prepare_cached(
        "INSERT INTO invites (account_id, email, perm_all, perms, invited_by, created_at, expires_at, status, \
         times_sent, last_sent_at, token_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 1, ?6, ?8)",
    )?
    .execute(params![n.account, n.email.as_str(), all, keys, n.invited_by, n.now, n.expires_at, n.token_hash])?;
    Ok(c.last_insert_rowid())
}

/// New token and expiry for an open invite; returns false when the invite was no longer open.
pub fn invite_renew(
    c: &Connection,
    id: i64,
    now: i64,
    expires_at: i64,
    token_hash: &[u8],
) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE invites SET status = 'pending', expires_at = ?3, times_sent = times_sent + 1, last_sent_at = ?2, \
             token_hash = ?4 WHERE id = ?1 AND status IN ('pending', 'expired')",
        )?
        .execute(params![id, now, expires_at, token_hash])?;
    Ok(n == 1)
}

/// Closes an open invite. For `accepted`, the update is conditional on the token hash and the
/// expiry, so that of several concurrent accepts exactly one wins.
pub fn invite_close(
    c: &Connection,
    id: i64,
    status: InviteStatus,
    now: i64,
    accepted_by: Option<i64>,
    token_hash: Option<&[u8]>,
) -> Result<bool> {
    let n = match token_hash {
        Some(h) => c
            .prepare_cached(
                "UPDATE invites SET status = ?2, closed_at = ?3, accepted_by = ?4 \
                 WHERE id = ?1 AND status = 'pending' AND expires_at > ?3 AND token_hash = ?5",
            )?
            .execute(params![id, status.as_str(), now, accepted_by, h])?,
        None => c
            .prepare_cached(
                "UPDATE invites SET status = ?2, closed_at = ?3 WHERE id = ?1 AND status IN ('pending', 'expired')",
            )?
            .execute(params![id, status.as_str(), now])?,
    };
    Ok(n == 1)
}

/// Marks every overdue pending invite expired; returns (id, account, email) of each.
pub fn invites_expire_due(c: &Connection, now: i64) -> Result<Vec<(i64, String, String)>> {
    let due: Vec<(i64, String, String)> = c
        .prepare_cached("SELECT id, account_id, email FROM invites WHERE status = 'pending' AND expires_at <= ?1 ORDER BY id")?
        .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    c.prepare_cached("UPDATE invites SET status = 'expired', closed_at = ?1 WHERE status = 'pending' AND expires_at <= ?1")?
        .execute([now])?;
    Ok(due)
}

// ---------- audit ----------

/// One audit entry about to be written.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub account: Option<&'a str>,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

pub fn audit_insert(c: &Connection, now: i64, e: &AuditEntry<'_>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO audit (at, actor, account_id, action, target, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![now, e.actor, e.account, e.action, e.target, e.old_value, e.new_value])?;
    Ok(())
}

/// The latest `limit` entries of an account at or after `since`, oldest first.
pub fn audit_list(
    c: &Connection,
    account: &str,
    since: i64,
    limit: u32,
) -> Result<Vec<AuditEvent>> {
    audit_query(
        c,
        &AuditQuery {
            account: Some(account.to_string()),
            user: None,
            since: Some(since),
            until: None,
            limit,
        },
    )
}

/// Every row of every table as text, in a fixed order: lets tests prove a refused call changed nothing.
pub fn dump(c: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for table in [
        "users",
        "accounts",
        "memberships",
        "invites",
        "audit",
        "contacts",
    ] {
        let mut st = c.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))?;
        let n = st.column_count();
        let rows = st.query_map([], |r| {
            let mut line = format!("{table}:");
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i)?;
                line.push_str(&format!(" {v:?}"));
            }
            Ok(line)
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

// ---------- contacts and notifications (schema v2) ----------

const CONTACT_SELECT: &str = "SELECT c.id, c.account_id, c.first_name, c.last_name, c.email, c.phone, c.company, \
     u.email, c.notify, c.created_at, c.updated_at FROM contacts c LEFT JOIN users u ON u.id = c.user_id";

fn contact_from_row(r: &Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        account_id: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        email: email_col(r, 4)?,
        phone: r.get(5)?,
        company: r.get(6)?,
        user: opt_email_col(r, 7)?,
        notify: NotifyKind::parse_list(&r.get::<_, String>(8)?),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

pub fn contact_get(c: &Connection, id: i64) -> Result<Option<Contact>> {
    let mut st = c.prepare_cached(&format!("{CONTACT_SELECT} WHERE c.id = ?1"))?;
    Ok(st.query_row([id], contact_from_row).optional()?)
}

pub fn contacts(c: &Connection, account: &str) -> Result<Vec<Contact>> {
    let mut st = c.prepare_cached(&format!(
        "{CONTACT_SELECT} WHERE c.account_id = ?1 ORDER BY c.last_name, c.first_name, c.id"
    ))?;
    let rows = st.query_map([account], contact_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Inserts (`id` None) or replaces a contact; returns its id.
pub fn contact_save(
    c: &Connection,
    id: Option<i64>,
    k: &Contact,
    user_id: Option<i64>,
) -> Result<i64> {
    let notify = NotifyKind::list_text(&k.notify);
    match id {
        None => {
            c.prepare_cached(
                "INSERT INTO contacts (account_id, first_name, last_name, email, phone, company, user_id, notify, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            )?
            .execute(params![
                k.account_id, k.first_name, k.last_name, k.email.as_str(), k.phone, k.company, user_id, notify,
                k.created_at
            ])?;
            Ok(c.last_insert_rowid())
        }
        Some(id) => {
            c.prepare_cached(
                "UPDATE contacts SET first_name = ?2, last_name = ?3, email = ?4, phone = ?5, company = ?6, \
                 user_id = ?7, notify = ?8, updated_at = ?9 WHERE id = ?1",
            )?
            .execute(params![
                id, k.first_name, k.last_name, k.email.as_str(), k.phone, k.company, user_id, notify, k.updated_at
            ])?;
            Ok(id)
        }
    }
}

pub fn contact_delete(c: &Connection, id: i64) -> Result<usize> {
    Ok(c.prepare_cached("DELETE FROM contacts WHERE id = ?1")?
        .execute([id])?)
}

/// The notification settings of a membership; `None` means the role's default.
pub fn membership_notify(
    c: &Connection,
    account: &str,
    user_id: i64,
) -> Result<Option<Vec<NotifyKind>>> {
    let v: Option<Option<String>> = c
        .prepare_cached("SELECT notify FROM memberships WHERE account_id = ?1 AND user_id = ?2")?
        .query_row(params![account, user_id], |r| r.get(0))
        .optional()?;
    Ok(v.flatten().map(|s| NotifyKind::parse_list(&s)))
}

pub fn membership_set_notify(
    c: &Connection,
    account: &str,
    user_id: i64,
    kinds: &[NotifyKind],
) -> Result<()> {
    c.prepare_cached("UPDATE memberships SET notify = ?3 WHERE account_id = ?1 AND user_id = ?2")?
        .execute(params![account, user_id, NotifyKind::list_text(kinds)])?;
    Ok(())
}

/// (email, name, role, notification settings) of a member; `None` settings mean the role's default.
pub type MemberNotify = (Email, String, Role, Option<Vec<NotifyKind>>);

/// (email, name, role, notify) of every member of an account.
pub fn member_notify_list(c: &Connection, account: &str) -> Result<Vec<MemberNotify>> {
    let mut st = c.prepare_cached(
        "SELECT u.email, u.name, m.role, m.notify FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.account_id = ?1 ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.joined_at, u.email",
    )?;
    let rows = st.query_map([account], |r| {
        Ok((
            email_col(r, 0)?,
            r.get(1)?,
            Role::from_db(&r.get::<_, String>(2)?),
            r.get::<_, Option<String>>(3)?
                .map(|s| NotifyKind::parse_list(&s)),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------- invite sends (rate limits) ----------

/// Invites sent on `account` after `since`, and the time of the oldest of them (read from the
/// audit trail through its per-account index).
pub fn invite_sends_by_account(
    c: &Connection,
    account: &str,
    since: i64,
) -> Result<(i64, Option<i64>)> {
    Ok(c.prepare_cached(
        "SELECT COUNT(*), MIN(at) FROM audit WHERE account_id = ?1 AND at > ?2 \
         AND action IN ('invite.create', 'invite.resend')",
    )?
    .query_row(params![account, since], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Invites sent by `inviter` (an email, as the audit's actor) after `since`, over all accounts.
pub fn invite_sends_by_inviter(
    c: &Connection,
    inviter: &str,
    since: i64,
) -> Result<(i64, Option<i64>)> {
    Ok(c.prepare_cached(
        "SELECT COUNT(*), MIN(at) FROM audit WHERE actor = ?1 AND at > ?2 \
         AND action IN ('invite.create', 'invite.resend')",
    )?
    .query_row(params![inviter, since], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

// ---------- audit views ----------

/// Filters of an audit query; `None` means no filter.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub account: Option<String>,
    /// Entries where this email is the actor or the target.
    pub user: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: u32,
}

/// The latest `limit` matching entries, oldest first. Each filter combination has its own
/// statement so that SQLite walks an index (account, actor or target) rather than the table.
pub fn audit_query(c: &Connection, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
    let filter = match (&q.account, &q.user) {
        (Some(_), Some(_)) => {
            "account_id = ?1 AND (actor = ?2 OR target = ?2) AND at >= ?3 AND at <= ?4"
        }
        (Some(_), None) => "account_id = ?1 AND ?2 IS NULL AND at >= ?3 AND at <= ?4",
        (None, Some(_)) => {
            "?1 IS NULL AND id IN (SELECT id FROM audit WHERE actor = ?2 AND at >= ?3 AND at <= ?4 \
             UNION SELECT id FROM audit WHERE target = ?2 AND at >= ?3 AND at <= ?4)"
        }
        (None, None) => "?1 IS NULL AND ?2 IS NULL AND at >= ?3 AND at <= ?4",
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT id, at, actor, account_id, action, target, old_value, new_value FROM \
         (SELECT * FROM audit WHERE {filter} ORDER BY id DESC LIMIT ?5) ORDER BY id"
    ))?;
    let rows = st.query_map(
        params![
            q.account,
            q.user,
            q.since.unwrap_or(i64::MIN),
            q.until.unwrap_or(i64::MAX),
            q.limit
        ],
        |r| {
            Ok(AuditEvent {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                account_id: r.get(3)?,
                action: r.get(4)?,
                target: r.get(5)?,
                old_value: r.get(6)?,
                new_value: r.get(7)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
