//! What the two server backends share: how a lost connection is reported, and the checks
//! made when a server database is opened.

use super::sql::Sql;
use super::OpenMode;
use crate::config::ServerUrl;
use crate::error::{Error, Result};

/// A driver error, sorted: the connection is gone, or any other error.
pub(super) enum Lost {
    Connection(String),
    No(Error),
}

impl Lost {
    pub(super) fn into_error(self, url: &ServerUrl) -> Error {
        match self {
            Lost::Connection(m) => Error::Unavailable {
                server: address(url),
                message: format!("the connection was lost ({m}); nothing was changed"),
            },
            Lost::No(e) => e,
        }
    }
}

/// `host:port`, as messages name a server.
pub(super) fn address(url: &ServerUrl) -> String {
    if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    }
}

/// A failure to connect: the database is missing (`Io`), the login was refused, or the server
/// cannot be reached or spoken to (TLS included): all but the first are `Unavailable`.
pub(super) fn connect_error(url: &ServerUrl, l: Lost) -> Error {
    match l {
        Lost::Connection(m) | Lost::No(Error::Storage(m)) => Error::Unavailable {
            server: address(url),
            message: format!("cannot connect: {m}"),
        },
        Lost::No(e) => e,
    }
}

/// An error with the errors that caused it, as one line ("TLS handshake: invalid peer
/// certificate: UnknownIssuer" rather than the outermost words alone).
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

/// The connection dropped in the middle of a transaction: the server rolls it back.
pub(super) fn lost_mid(url: &ServerUrl) -> Error {
    Error::Unavailable {
        server: address(url),
        message: "the connection was lost during the transaction, which the server rolls back; \
                  nothing was changed"
            .into(),
    }
}

/// The connection dropped while the commit was under way: it may or may not have happened.
pub(super) fn commit_unknown(url: &ServerUrl, m: &str) -> Error {
    Error::CommitUnknown {
        server: address(url),
        message: format!(
            "the connection was lost while committing ({m}); the change may or may not have \
             been made: look before repeating it"
        ),
    }
}

/// The tables a Cohort database holds (besides `cohort_schema`).
const TABLES: &[&str] = &[
    "users",
    "accounts",
    "memberships",
    "invites",
    "audit",
    "contacts",
];

/// Decides whether a server database whose schema version is `found` (0: no Cohort schema)
/// and which holds `tables` may be opened.
pub(super) fn check_version(
    url: &ServerUrl,
    found: i64,
    tables: &[String],
    mode: OpenMode,
) -> Result<()> {
    let schema = super::SCHEMA_VERSION;
    if found > schema {
        return Err(Error::SchemaTooNew {
            found,
            supported: schema,
        });
    }
    if found == 0 {
        let clash: Vec<&str> = TABLES
            .iter()
            .copied()
            .filter(|t| tables.iter().any(|x| x == t))
            .collect();
        if !clash.is_empty() {
            return Err(Error::Io {
                path: url.to_string(),
                message: format!(
                    "not a Cohort database: it holds tables named {} without Cohort's schema; \
                     give Cohort a database of its own",
                    clash.join(", ")
                ),
            });
        }
        if mode == OpenMode::Existing {
            return Err(Error::Io {
                path: url.to_string(),
                message: "not a Cohort database (it holds no Cohort schema); create it with \
                          `cohort init` (or cohort_engine_create / Engine::create)"
                    .into(),
            });
        }
    }
    Ok(())
}

/// What the two server backends differ in. The life of a transaction on a connection that may
/// drop at any moment is written once, in [`Session`].
pub(super) trait Driver {
    type Conn;
    fn url(&self) -> &ServerUrl;
    /// A new connection to the URL's database.
    fn connect(&self) -> Result<Self::Conn>;
    /// A statement without arguments or rows: BEGIN, COMMIT, ROLLBACK.
    fn simple(&self, conn: &mut Self::Conn, sql: &str) -> std::result::Result<(), Lost>;
    /// Runs `f` on the connection as the shared queries see it; returns its result and
    /// whether the connection was found gone meanwhile.
    fn run<T>(
        &self,
        conn: &mut Self::Conn,
        f: impl FnOnce(&dyn Sql) -> Result<T>,
    ) -> (Result<T>, bool);
}

/// A server connection, opened on first use and replaced after it was lost.
pub(super) struct Session<D: Driver> {
    pub driver: D,
    conn: Option<D::Conn>,
}

impl<D: Driver> Session<D> {
    pub fn new(driver: D, conn: D::Conn) -> Session<D> {
        Session {
            driver,
            conn: Some(conn),
        }
    }

    pub fn conn(&mut self) -> Result<&mut D::Conn> {
        live(&self.driver, &mut self.conn)
    }

    /// Runs `f` in a transaction opened by `begin`; commits on `Ok`, rolls back on `Err`.
    ///
    /// A connection found dead by `begin` (it died while idle) is replaced once: nothing has
    /// run yet. Lost during `f`: the server rolls the transaction back, and the error says
    /// nothing was changed. Lost during COMMIT: [`Error::CommitUnknown`], never a retry.
    pub fn transact<T>(&mut self, begin: &str, f: impl FnOnce(&dyn Sql) -> Result<T>) -> Result<T> {
        let mut retried = false;
        loop {
            let conn = live(&self.driver, &mut self.conn)?;
            match self.driver.simple(conn, begin) {
                Ok(()) => break,
                Err(Lost::Connection(m)) if !retried => {
                    log::debug!(
                        "cohort: reconnecting to {}: {m}",
                        address(self.driver.url())
                    );
                    self.conn = None;
                    retried = true;
                }
                Err(other) => {
                    self.conn = None;
                    return Err(other.into_error(self.driver.url()));
                }
            }
        }
        let conn = live(&self.driver, &mut self.conn)?;
        let (out, lost) = self.driver.run(conn, f);
        if lost {
            self.conn = None;
            return Err(out.err().unwrap_or_else(|| lost_mid(self.driver.url())));
        }
        let conn = live(&self.driver, &mut self.conn)?;
        match out {
            Ok(v) => match self.driver.simple(conn, "COMMIT") {
                Ok(()) => Ok(v),
                Err(Lost::Connection(m)) => {
                    self.conn = None;
                    Err(commit_unknown(self.driver.url(), &m))
                }
                Err(Lost::No(e)) => {
                    let _ = self.driver.simple(conn, "ROLLBACK");
                    Err(e)
                }
            },
            Err(e) => {
                if self.driver.simple(conn, "ROLLBACK").is_err() {
                    self.conn = None;
                }
                Err(e)
            }
        }
    }

    /// Runs `f` outside a transaction (reads that need no common snapshot); replayed once on
    /// a new connection when the old one turns out to be gone, which is safe for reads.
    pub fn single<T>(&mut self, f: impl Fn(&dyn Sql) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            let conn = live(&self.driver, &mut self.conn)?;
            let (out, lost) = self.driver.run(conn, &f);
            if !lost {
                return out;
            }
            self.conn = None;
            attempt += 1;
            if attempt == 2 {
                return out;
            }
        }
    }
}

/// The connection in `slot`, opened by `driver` when there is none.
fn live<'a, D: Driver>(driver: &D, slot: &'a mut Option<D::Conn>) -> Result<&'a mut D::Conn> {
    if slot.is_none() {
        *slot = Some(driver.connect()?);
    }
    slot.as_mut()
        .ok_or_else(|| Error::Internal("no connection".into()))
}
