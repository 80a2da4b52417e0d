//! The audit views: an account's latest entries, and queries by account, user and time.

use super::access::require_account;
use super::{Engine, DEFAULT_AUDIT_LIMIT};
use crate::error::Result;
use crate::model::*;
use crate::store::{self, AuditQuery};

impl Engine {
    /// The latest `limit` audit entries of an account at or after `since`, oldest first.
    /// `limit` 0 means [`DEFAULT_AUDIT_LIMIT`].
    pub fn audit(&self, account: &str, since: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let limit = audit_limit(limit);
        self.store().read(|tx| {
            require_account(tx, account)?;
            store::audit_list(tx, account, since, limit)
        })
    }

    /// Audit entries by account and/or user (as actor or target) within a time range; the
    /// latest `limit`, oldest first.
    /// `q.limit` 0 means [`DEFAULT_AUDIT_LIMIT`].
    pub fn audit_query(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut q = q.clone();
        q.limit = audit_limit(q.limit);
        if let Some(u) = &q.user {
            q.user = Some(Email::parse(u)?.to_string());
        }
        self.store().read(|tx| {
            if let Some(a) = &q.account {
                require_account(tx, a)?;
            }
            store::audit_query(tx, &q)
        })
    }
}

/// The limit an audit view uses: `limit`, or [`DEFAULT_AUDIT_LIMIT`] for 0.
fn audit_limit(limit: u32) -> u32 {
    if limit == 0 {
        DEFAULT_AUDIT_LIMIT
    } else {
        limit
    }
}
