//! What the two server backends share: how a lost connection is reported, and the checks
//! made when a server database is opened.

use super::sql::{Arg, InsertId, Row, Sql};
use super::OpenMode;
use crate::config::ServerUrl;
use crate::error::{Error, Result};
use std::cell::{Cell, RefCell};

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

/// What one statement of a batch gave: the rows it changed, the id it inserted, its rows
/// (typed only where the driver's batches are, see [`Driver::TYPED_BATCH_ROWS`]).
pub(super) struct Outcome {
    pub affected: u64,
    pub id: Option<i64>,
    pub rows: Vec<Row>,
}

/// What the two server backends differ in. The life of a transaction on a connection that may
/// drop at any moment is written once, in [`Session`] and [`Pipe`].
pub(super) trait Driver {
    type Conn;
    /// Whether the rows [`Driver::batch`] returns are typed like those of [`Driver::rows`],
    /// so that a query may ride in a batch.
    const TYPED_BATCH_ROWS: bool;
    fn url(&self) -> &ServerUrl;
    /// A new connection to the URL's database.
    fn connect(&self) -> Result<Self::Conn>;
    /// A statement without arguments or rows (ROLLBACK).
    fn simple(&self, conn: &mut Self::Conn, sql: &str) -> std::result::Result<(), Lost>;
    /// A prepared statement; the rows it changed.
    fn exec(
        &self,
        conn: &mut Self::Conn,
        sql: &str,
        args: &[Arg<'_>],
    ) -> std::result::Result<u64, Lost>;
    /// A prepared `INSERT`; the new row's id.
    fn insert(
        &self,
        conn: &mut Self::Conn,
        sql: &str,
        args: &[Arg<'_>],
    ) -> std::result::Result<i64, Lost>;
    /// A prepared query; its rows.
    fn rows(
        &self,
        conn: &mut Self::Conn,
        sql: &str,
        args: &[Arg<'_>],
    ) -> std::result::Result<Vec<Row>, Lost>;
    /// The statement with its arguments written in as literals (`insert`: so that it reports
    /// the new id), for [`Driver::batch`].
    fn render(&self, sql: &str, args: &[Arg<'_>], insert: bool) -> Result<String>;
    /// Sends statements in one round trip; their outcomes. The server stops at the first
    /// error, which is the result. Called through [`batch`], which checks the count.
    fn batch(
        &self,
        conn: &mut Self::Conn,
        stmts: &[String],
    ) -> std::result::Result<Vec<Outcome>, Lost>;
}

/// [`Driver::batch`], holding the driver to one outcome per statement.
fn batch<D: Driver>(
    driver: &D,
    conn: &mut D::Conn,
    stmts: &[String],
) -> std::result::Result<Vec<Outcome>, Lost> {
    let outs = driver.batch(conn, stmts)?;
    if outs.len() != stmts.len() {
        return Err(Lost::No(Error::Internal(format!(
            "the server answered {} of {} statements",
            outs.len(),
            stmts.len()
        ))));
    }
    Ok(outs)
}

/// `sql` with each `?` outside quotes replaced by `lit` of the next argument; every argument
/// must be used exactly once.
pub(super) fn substitute(
    sql: &str,
    args: &[Arg<'_>],
    mut lit: impl FnMut(&mut String, &Arg<'_>) -> Result<()>,
) -> Result<String> {
    let mut out = String::with_capacity(sql.len() + 16 * args.len());
    let mut quote: Option<char> = None;
    let mut next = args.iter();
    for ch in sql.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if matches!(ch, '\'' | '"' | '`') => quote = Some(ch),
            None if ch == '?' => {
                let a = next
                    .next()
                    .ok_or_else(|| Error::Internal(format!("too few arguments for: {sql}")))?;
                lit(&mut out, a)?;
                continue;
            }
            None => {}
        }
        out.push(ch);
    }
    if next.next().is_some() {
        return Err(Error::Internal(format!("too many arguments for: {sql}")));
    }
    Ok(out)
}

/// Bytes as hexadecimal digits.
pub(super) fn push_hex(out: &mut String, b: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for x in b {
        out.push(HEX[usize::from(x >> 4)] as char);
        out.push(HEX[usize::from(x & 15)] as char);
    }
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

    /// Runs `f` in a transaction opened by the statements `begin`; commits on `Ok`, rolls back
    /// on `Err`.
    ///
    /// `begin` is sent with the transaction's first statement, and the statements `f` defers
    /// ([`Sql::defer`]) with the next one or with the COMMIT: an invite is three round trips.
    /// A connection found dead by the first round trip (it died while idle) is replaced once,
    /// and that round trip sent again: nothing has run yet, and it never holds the COMMIT.
    /// Lost later: the server rolls the transaction back, and the error says nothing was
    /// changed. Lost during COMMIT: [`Error::CommitUnknown`], never a retry.
    pub fn transact<T>(
        &mut self,
        begin: &[&str],
        f: impl FnOnce(&dyn Sql) -> Result<T>,
    ) -> Result<T> {
        let pipe = Pipe::new(&self.driver, &mut self.conn, begin);
        let out = f(&pipe);
        pipe.commit(out)
    }

    /// Runs `f` outside a transaction (reads that need no common snapshot); replayed once on
    /// a new connection when the old one turns out to be gone, which is safe for reads.
    pub fn single<T>(&mut self, f: impl Fn(&dyn Sql) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            let pipe = Pipe::new(&self.driver, &mut self.conn, &[]);
            let out = f(&pipe).and_then(|v| pipe.send(None).map(|_| v));
            if !pipe.lost.get() {
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

/// The connection as the shared queries see it during one transaction (or one single read):
/// statements whose result is needed at once run prepared; deferred ones wait in `queue` and
/// go, as literals, in one round trip with the next statement or the COMMIT.
pub(super) struct Pipe<'a, D: Driver> {
    driver: &'a D,
    slot: RefCell<&'a mut Option<D::Conn>>,
    queue: RefCell<Vec<String>>,
    /// The deferred inserts in `queue`: position and where their id goes.
    ids: RefCell<Vec<(usize, InsertId)>>,
    /// How many of `queue`'s first statements open the transaction.
    begin: usize,
    /// A round trip of this transaction reached the server.
    sent: Cell<bool>,
    /// The connection was found gone.
    lost: Cell<bool>,
}

impl<'a, D: Driver> Pipe<'a, D> {
    fn new(driver: &'a D, slot: &'a mut Option<D::Conn>, begin: &[&str]) -> Pipe<'a, D> {
        Pipe {
            driver,
            slot: RefCell::new(slot),
            queue: RefCell::new(begin.iter().map(|s| s.to_string()).collect()),
            ids: RefCell::new(Vec::new()),
            begin: begin.len(),
            sent: Cell::new(false),
            lost: Cell::new(false),
        }
    }

    fn url(&self) -> &ServerUrl {
        self.driver.url()
    }

    /// Runs one prepared statement on the connection.
    fn direct<R>(
        &self,
        op: impl FnOnce(&D, &mut D::Conn) -> std::result::Result<R, Lost>,
    ) -> Result<R> {
        let mut slot = self.slot.borrow_mut();
        let conn = live(self.driver, &mut slot)?;
        let out = op(self.driver, conn);
        self.sent.set(true);
        out.map_err(|l| self.failed(l))
    }

    fn failed(&self, l: Lost) -> Error {
        if matches!(l, Lost::Connection(_)) {
            self.lost.set(true);
        }
        l.into_error(self.url())
    }

    /// Sends the queue (and `last`, whose outcome is returned) in one round trip. The first
    /// round trip of a transaction is sent again, once, on a new connection when the old one
    /// is found gone: none of it has run.
    fn send(&self, last: Option<String>) -> Result<Option<Outcome>> {
        let mut stmts = std::mem::take(&mut *self.queue.borrow_mut());
        let with_last = last.is_some();
        stmts.extend(last);
        if stmts.is_empty() {
            return Ok(None);
        }
        let ids = std::mem::take(&mut *self.ids.borrow_mut());
        let mut slot = self.slot.borrow_mut();
        let mut out = batch(self.driver, live(self.driver, &mut slot)?, &stmts);
        if let Err(Lost::Connection(m)) = &out {
            if !self.sent.get() {
                log::debug!("cohort: reconnecting to {}: {m}", address(self.url()));
                **slot = None;
                out = batch(self.driver, live(self.driver, &mut slot)?, &stmts);
            }
        }
        self.sent.set(true);
        let mut outs = out.map_err(|l| self.failed(l))?;
        fill(&ids, &outs);
        Ok(if with_last { outs.pop() } else { None })
    }

    /// Ends the transaction: commits on `Ok`, rolls back on `Err`.
    fn commit<T>(self, out: Result<T>) -> Result<T> {
        if self.lost.get() {
            **self.slot.borrow_mut() = None;
            return Err(out.err().unwrap_or_else(|| lost_mid(self.url())));
        }
        let v = match out {
            Ok(v) => v,
            Err(e) => {
                self.rollback();
                return Err(e);
            }
        };
        if !self.sent.get() {
            if self.queue.borrow().len() == self.begin {
                // Nothing ran: there is nothing to commit.
                return Ok(v);
            }
            // The first round trip never holds the COMMIT, so that it can be sent again.
            if let Err(e) = self.send(None) {
                return self.commit(Err(e));
            }
        }
        let mut stmts = std::mem::take(&mut *self.queue.borrow_mut());
        stmts.push("COMMIT".into());
        let ids = std::mem::take(&mut *self.ids.borrow_mut());
        let mut slot = self.slot.borrow_mut();
        let conn = live(self.driver, &mut slot)?;
        match batch(self.driver, conn, &stmts) {
            Ok(outs) => {
                fill(&ids, &outs);
                Ok(v)
            }
            Err(Lost::Connection(m)) => {
                **slot = None;
                Err(commit_unknown(self.url(), &m))
            }
            Err(Lost::No(e)) => {
                drop(slot);
                self.rollback();
                Err(e)
            }
        }
    }

    /// Rolls back what reached the server; a connection that cannot is dropped.
    fn rollback(&self) {
        if !self.sent.get() {
            return;
        }
        let mut slot = self.slot.borrow_mut();
        let gone = match slot.as_mut() {
            Some(conn) => self.driver.simple(conn, "ROLLBACK").is_err(),
            None => false,
        };
        if gone || self.lost.get() {
            **slot = None;
        }
    }
}

/// Hands the deferred inserts of a batch their ids.
fn fill(ids: &[(usize, InsertId)], outs: &[Outcome]) {
    for (at, id) in ids {
        if let Some(v) = outs.get(*at).and_then(|o| o.id) {
            id.set(v);
        }
    }
}

impl<D: Driver> Sql for Pipe<'_, D> {
    fn backend(&self) -> super::sql::Backend {
        match self.url().kind {
            crate::config::ServerKind::Mysql => super::sql::Backend::Mysql,
            crate::config::ServerKind::Postgres => super::sql::Backend::Postgres,
        }
    }

    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        if self.queue.borrow().is_empty() {
            return self.direct(|d, c| d.exec(c, sql, args));
        }
        let last = self.driver.render(sql, args, false)?;
        Ok(self.send(Some(last))?.map_or(0, |o| o.affected))
    }

    fn insert(&self, sql: &str, args: &[Arg<'_>]) -> Result<i64> {
        if self.queue.borrow().is_empty() {
            return self.direct(|d, c| d.insert(c, sql, args));
        }
        let last = self.driver.render(sql, args, true)?;
        self.send(Some(last))?
            .and_then(|o| o.id)
            .ok_or_else(|| Error::Internal("INSERT returned no id".into()))
    }

    fn rows(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        if !self.queue.borrow().is_empty() {
            if D::TYPED_BATCH_ROWS {
                let last = self.driver.render(sql, args, false)?;
                return Ok(self.send(Some(last))?.map_or(Vec::new(), |o| o.rows));
            }
            self.send(None)?;
        }
        self.direct(|d, c| d.rows(c, sql, args))
    }

    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        let stmt = self.driver.render(sql, args, false)?;
        self.queue.borrow_mut().push(stmt);
        Ok(())
    }

    fn insert_deferred(&self, sql: &str, args: &[Arg<'_>]) -> Result<InsertId> {
        let stmt = self.driver.render(sql, args, true)?;
        let id = InsertId::default();
        let mut q = self.queue.borrow_mut();
        self.ids.borrow_mut().push((q.len(), id.clone()));
        q.push(stmt);
        Ok(id)
    }
}
