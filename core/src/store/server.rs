//! What the two server backends share: how a lost connection is reported, and the checks
//! made when a server database is opened.

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
