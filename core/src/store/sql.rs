//! The narrow SQL surface every backend offers: run a statement with positional arguments,
//! read rows of plain values. The queries in [`super::queries`] are written once against it.
//!
//! Shared SQL uses `?` placeholders (each argument once, in order; PostgreSQL's backend renumbers
//! them to `$1`, `$2`, ...), no SQLite-only construct, and only these column types: 64-bit
//! integers, text and short binary strings.

use crate::error::{Error, Result};

/// One argument of a statement.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
    Null,
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Int(i64::from(v))
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(v)
    }
}

impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// Builds an argument list: `args![a, b, c]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::store::sql::Arg::from($v)),*] };
}
pub(crate) use args;

/// One value read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    /// The value as the text `cohort db` and the tests show, the same on every backend.
    pub fn show(&self) -> String {
        match self {
            Cell::Null => "NULL".into(),
            Cell::Int(v) => v.to_string(),
            Cell::Text(s) => format!("{s:?}"),
            Cell::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        }
    }
}

/// A row of values, read by column position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Cell>);

fn bad(i: usize, want: &str, got: &Cell) -> Error {
    Error::Storage(format!(
        "column {i}: expected {want}, found {}",
        match got {
            Cell::Null => "NULL",
            Cell::Int(_) => "an integer",
            Cell::Text(_) => "text",
            Cell::Bytes(_) => "bytes",
        }
    ))
}

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell> {
        self.0
            .get(i)
            .ok_or_else(|| Error::Storage(format!("row has no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        match self.cell(i)? {
            Cell::Int(v) => Ok(*v),
            other => Err(bad(i, "an integer", other)),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool> {
        self.int(i).map(|v| v != 0)
    }

    /// Text; MySQL hands text columns over as bytes, which must be UTF-8.
    pub fn text(&self, i: usize) -> Result<String> {
        match self.cell(i)? {
            Cell::Text(s) => Ok(s.clone()),
            Cell::Bytes(b) => String::from_utf8(b.clone())
                .map_err(|_| Error::Storage(format!("column {i}: text is not UTF-8"))),
            other => Err(bad(i, "text", other)),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        match self.cell(i)? {
            Cell::Bytes(b) => Ok(b.clone()),
            Cell::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(bad(i, "bytes", other)),
        }
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mysql => "mysql",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection inside a transaction (or, for single reads, outside one).
pub trait Sql {
    fn backend(&self) -> Backend;

    /// Runs a statement; returns the number of rows it changed.
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64>;

    /// Runs an `INSERT` into a table with an `id` key; returns the new row's id.
    fn insert(&self, sql: &str, args: &[Arg<'_>]) -> Result<i64>;

    /// Every row a query returns.
    fn rows(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>>;

    /// The first row a query returns, if any.
    fn row(&self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Row>> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }

    /// Runs a statement whose result the caller does not need (a row lock, an audit row).
    ///
    /// SQLite runs it at once. A server backend sends it together with the next statement
    /// whose result is needed, or with the COMMIT, in one round trip. Either way it runs in
    /// order, before every statement that follows it, and an error it meets fails the
    /// transaction: reported by the call that sent it, or by the commit.
    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        self.exec(sql, args).map(drop)
    }

    /// [`Sql::insert`] sent like [`Sql::defer`]: the new id is known once the statement has
    /// been sent, at the latest when the write has committed.
    fn insert_deferred(&self, sql: &str, args: &[Arg<'_>]) -> Result<InsertId> {
        self.insert(sql, args).map(InsertId::known)
    }
}

/// The id of a row inserted with [`Sql::insert_deferred`], known once the statement was sent.
#[derive(Debug, Clone, Default)]
pub struct InsertId(std::rc::Rc<std::cell::Cell<Option<i64>>>);

impl InsertId {
    pub fn known(id: i64) -> InsertId {
        let i = InsertId::default();
        i.set(id);
        i
    }

    pub(super) fn set(&self, id: i64) {
        self.0.set(Some(id));
    }

    /// The id; an internal error before the statement was sent (a write that has returned
    /// `Ok` has sent every statement).
    pub fn get(&self) -> Result<i64> {
        self.0
            .get()
            .ok_or_else(|| Error::Internal("the id of an insert not yet sent was read".into()))
    }
}
