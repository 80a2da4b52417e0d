//! Every query Cohort runs, written once for all backends (see [`super::sql`] for the rules of
//! shared SQL).

use super::sql::{args, Backend, InsertId, Row, Sql};
use crate::error::{Error, Result};
use crate::model::*;

fn email(r: &Row, i: usize) -> Result<Email> {
    let s = r.text(i)?;
    Email::parse(&s).map_err(|e| Error::Storage(format!("stored email {s:?}: {e}")))
}

fn opt_email(r: &Row, i: usize) -> Result<Option<Email>> {
    match r.opt_text(i)? {
        None => Ok(None),
        Some(_) => email(r, i).map(Some),
    }
}

fn perms(r: &Row, all: usize) -> Result<Permissions> {
    Ok(Permissions::from_db(r.bool(all)?, &r.text(all + 1)?))
}

// ---------- row locks ----------

/// Makes the calling write transaction the only one working on `account` until it ends.
///
/// SQLite runs one write transaction at a time (`BEGIN IMMEDIATE`), so there this is free. On
/// a server several transactions run at once; every write that reads an account's state before
/// changing it (pending invites, caps, rate limits, the owner) takes this row lock first, so
/// that its reads and its writes form one step, as on SQLite. It must be the transaction's first
/// statement, or follow only reads of what never changes (the account of an invite): every
/// statement after it then sees what the previous holder committed (writes run at READ
/// COMMITTED on both servers).
pub fn lock_account(c: &dyn Sql, account: &str) -> Result<()> {
    if c.backend() != Backend::Sqlite {
        // Sent with the next statement: the lock is taken before it runs.
        c.defer(
            "SELECT id FROM accounts WHERE id = ? FOR UPDATE",
            args![account],
        )?;
    }
    Ok(())
}

/// [`lock_account`] on the account of invite `id` (nothing when there is no such invite).
pub fn lock_invite_account(c: &dyn Sql, id: i64) -> Result<()> {
    lock_account_of(
        c,
        "SELECT id FROM accounts WHERE id = (SELECT account_id FROM invites WHERE id = ?) FOR UPDATE",
        id,
    )
}

/// [`lock_account`] on the account of contact `id` (nothing when there is no such contact).
pub fn lock_contact_account(c: &dyn Sql, id: i64) -> Result<()> {
    lock_account_of(
        c,
        "SELECT id FROM accounts WHERE id = (SELECT account_id FROM contacts WHERE id = ?) FOR UPDATE",
        id,
    )
}

/// Runs `lock`, which locks the account a row belongs to; its subquery takes no lock (neither
/// server locks a subquery's rows unless it says so).
fn lock_account_of(c: &dyn Sql, lock: &str, id: i64) -> Result<()> {
    if c.backend() != Backend::Sqlite {
        c.defer(lock, args![id])?;
    }
    Ok(())
}

/// Like [`lock_account`], for writes that read and rewrite one login.
pub fn lock_user(c: &dyn Sql, email: &Email) -> Result<()> {
    if c.backend() != Backend::Sqlite {
        c.defer(
            "SELECT id FROM users WHERE email = ? FOR UPDATE",
            args![email.as_str()],
        )?;
    }
    Ok(())
}

// ---------- users ----------

fn user_from_row(r: &Row) -> Result<User> {
    Ok(User {
        id: r.int(0)?,
        email: email(r, 1)?,
        name: r.text(2)?,
        two_factor: r.bool(3)?,
        created_at: r.int(4)?,
        last_login: r.opt_int(5)?,
    })
}

pub fn user_by_email(c: &dyn Sql, e: &Email) -> Result<Option<User>> {
    c.row(
        "SELECT id, email, name, two_factor, created_at, last_login FROM users WHERE email = ?",
        args![e.as_str()],
    )?
    .map(|r| user_from_row(&r))
    .transpose()
}

pub fn user_insert(c: &dyn Sql, e: &Email, name: &str, two_factor: bool, now: i64) -> Result<User> {
    let id = c.insert(
        "INSERT INTO users (email, name, two_factor, created_at) VALUES (?, ?, ?, ?)",
        args![e.as_str(), name, two_factor, now],
    )?;
    Ok(User {
        id,
        email: e.clone(),
        name: name.to_string(),
        two_factor,
        created_at: now,
        last_login: None,
    })
}

pub fn user_update(c: &dyn Sql, u: &User) -> Result<()> {
    c.exec(
        "UPDATE users SET name = ?, two_factor = ?, last_login = ? WHERE id = ?",
        args![u.name.as_str(), u.two_factor, u.last_login, u.id],
    )?;
    Ok(())
}

// ---------- accounts ----------

pub fn account_get(c: &dyn Sql, id: &str) -> Result<Option<(Account, i64)>> {
    c.row(
        "SELECT a.id, a.name, u.email, a.created_at, a.owner_id FROM accounts a \
         JOIN users u ON u.id = a.owner_id WHERE a.id = ?",
        args![id],
    )?
    .map(|r| {
        Ok((
            Account {
                id: r.text(0)?,
                name: r.text(1)?,
                owner: email(&r, 2)?,
                created_at: r.int(3)?,
            },
            r.int(4)?,
        ))
    })
    .transpose()
}

pub fn account_insert(c: &dyn Sql, id: &str, name: &str, owner_id: i64, now: i64) -> Result<()> {
    c.exec(
        "INSERT INTO accounts (id, name, owner_id, created_at) VALUES (?, ?, ?, ?)",
        args![id, name, owner_id, now],
    )?;
    Ok(())
}

pub fn account_set_name(c: &dyn Sql, id: &str, name: &str) -> Result<()> {
    c.exec("UPDATE accounts SET name = ? WHERE id = ?", args![name, id])?;
    Ok(())
}

pub fn account_set_owner(c: &dyn Sql, id: &str, owner_id: i64) -> Result<()> {
    c.exec(
        "UPDATE accounts SET owner_id = ? WHERE id = ?",
        args![owner_id, id],
    )?;
    Ok(())
}

/// The columns (0-8) and joins of [`account_with_actor`], with more columns after them; its
/// first `?` after theirs is the actor's email.
macro_rules! account_with_actor_select {
    ($($more:tt)*) => {
        account_with_actor_joins!([$($more)*], "")
    };
}

/// [`account_with_actor_select`] with more columns and more joins (whose `?`s come after the
/// actor's).
macro_rules! account_with_actor_joins {
    ([$($more:tt)*], $joins:literal) => {
        concat!(
            "SELECT a.id, a.name, o.email, a.created_at, a.owner_id, u.id, m.role, m.perm_all, m.perms",
            $($more)*,
            " FROM accounts a JOIN users o ON o.id = a.owner_id \
             LEFT JOIN users u ON u.email = ? \
             LEFT JOIN memberships m ON m.account_id = a.id AND m.user_id = u.id",
            $joins
        )
    };
}

/// An account with its owner's id, and what `actor` is on it: (the account, its owner's id,
/// the actor's user id if the login exists, the actor's role and permissions if a member). One
/// statement: what every operation by a manager reads first.
pub type AccountAndActor = (Account, i64, Option<i64>, Option<(Role, Permissions)>);

pub fn account_with_actor(
    c: &dyn Sql,
    account: &str,
    actor: &Email,
) -> Result<Option<AccountAndActor>> {
    c.row(
        concat!(account_with_actor_select!(""), " WHERE a.id = ?"),
        args![actor.as_str(), account],
    )?
    .map(|r| account_and_actor(&r))
    .transpose()
}

/// Columns 0-8 of [`account_with_actor_select`].
fn account_and_actor(r: &Row) -> Result<AccountAndActor> {
    let membership = match r.opt_text(6)? {
        None => None,
        Some(role) => Some((Role::from_db(&role), perms(r, 7)?)),
    };
    Ok((
        Account {
            id: r.text(0)?,
            name: r.text(1)?,
            owner: email(r, 2)?,
            created_at: r.int(3)?,
        },
        r.int(4)?,
        r.opt_int(5)?,
        membership,
    ))
}

// ---------- memberships ----------

fn role_perms(r: &Row) -> Result<(Role, Permissions)> {
    Ok((Role::from_db(&r.text(0)?), perms(r, 1)?))
}

/// Role and permissions of a user on an account.
pub fn membership_get(
    c: &dyn Sql,
    account: &str,
    user_id: i64,
) -> Result<Option<(Role, Permissions)>> {
    c.row(
        "SELECT role, perm_all, perms FROM memberships WHERE account_id = ? AND user_id = ?",
        args![account, user_id],
    )?
    .map(|r| role_perms(&r))
    .transpose()
}

/// The query of `check`: one indexed lookup by email and account.
pub const MEMBERSHIP_BY_EMAIL: &str =
    "SELECT m.role, m.perm_all, m.perms FROM users u JOIN memberships m ON m.user_id = u.id \
     WHERE u.email = ? AND m.account_id = ?";

pub fn membership_by_email(
    c: &dyn Sql,
    account: &str,
    email: &str,
) -> Result<Option<(Role, Permissions)>> {
    c.row(MEMBERSHIP_BY_EMAIL, args![email, account])?
        .map(|r| role_perms(&r))
        .transpose()
}

pub fn membership_insert(
    c: &dyn Sql,
    account: &str,
    user_id: i64,
    role: Role,
    permissions: &Permissions,
    invited_by: Option<i64>,
    now: i64,
) -> Result<()> {
    let (all, keys) = permissions.to_db();
    c.exec(
        "INSERT INTO memberships (account_id, user_id, role, perm_all, perms, invited_by, joined_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        args![account, user_id, role.as_str(), all, keys.as_str(), invited_by, now],
    )?;
    Ok(())
}

pub fn membership_update(
    c: &dyn Sql,
    account: &str,
    user_id: i64,
    role: Role,
    permissions: &Permissions,
) -> Result<()> {
    let (all, keys) = permissions.to_db();
    c.exec(
        "UPDATE memberships SET role = ?, perm_all = ?, perms = ? WHERE account_id = ? AND user_id = ?",
        args![role.as_str(), all, keys.as_str(), account, user_id],
    )?;
    Ok(())
}

pub fn membership_delete(c: &dyn Sql, account: &str, user_id: i64) -> Result<usize> {
    Ok(c.exec(
        "DELETE FROM memberships WHERE account_id = ? AND user_id = ?",
        args![account, user_id],
    )? as usize)
}

fn count(c: &dyn Sql, sql: &str, a: &[super::sql::Arg<'_>]) -> Result<i64> {
    c.row(sql, a)?
        .ok_or_else(|| Error::Storage("COUNT returned no row".into()))?
        .int(0)
}

pub fn member_count(c: &dyn Sql, account: &str) -> Result<i64> {
    count(
        c,
        "SELECT COUNT(*) FROM memberships WHERE account_id = ?",
        args![account],
    )
}

pub fn members(c: &dyn Sql, account: &str) -> Result<Vec<Member>> {
    c.rows(
        "SELECT m.account_id, u.email, u.name, m.role, m.perm_all, m.perms, u.last_login, u.two_factor, m.joined_at, i.email \
         FROM memberships m JOIN users u ON u.id = m.user_id LEFT JOIN users i ON i.id = m.invited_by \
         WHERE m.account_id = ? ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.joined_at, u.email",
        args![account],
    )?
    .iter()
    .map(|r| {
        Ok(Member {
            account_id: r.text(0)?,
            email: email(r, 1)?,
            name: r.text(2)?,
            role: Role::from_db(&r.text(3)?),
            permissions: perms(r, 4)?,
            last_login: r.opt_int(6)?,
            two_factor: r.bool(7)?,
            joined_at: r.int(8)?,
            invited_by: opt_email(r, 9)?,
        })
    })
    .collect()
}

pub fn accounts_of(c: &dyn Sql, user_id: i64) -> Result<Vec<AccountRole>> {
    c.rows(
        "SELECT a.id, a.name, m.role, m.perm_all, m.perms FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.user_id = ? ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, a.name, a.id",
        args![user_id],
    )?
    .iter()
    .map(|r| {
        Ok(AccountRole {
            account_id: r.text(0)?,
            account_name: r.text(1)?,
            role: Role::from_db(&r.text(2)?),
            permissions: perms(r, 3)?,
        })
    })
    .collect()
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

macro_rules! invite_select {
    ($where:literal) => {
        concat!(
            "SELECT i.id, i.account_id, i.email, i.perm_all, i.perms, u.email, i.created_at, i.expires_at, \
             i.status, i.times_sent, i.last_sent_at, a.email, i.token_hash \
             FROM invites i JOIN users u ON u.id = i.invited_by LEFT JOIN users a ON a.id = i.accepted_by ",
            $where
        )
    };
}

fn invite_from_row(r: &Row, now: i64) -> Result<InviteRow> {
    let stored = InviteStatus::from_db(&r.text(8)?);
    let expires_at = r.int(7)?;
    let status = if stored == InviteStatus::Pending && now >= expires_at {
        InviteStatus::Expired
    } else {
        stored
    };
    Ok(InviteRow {
        invite: Invite {
            id: r.int(0)?,
            account_id: r.text(1)?,
            email: email(r, 2)?,
            permissions: perms(r, 3)?,
            invited_by: email(r, 5)?,
            created_at: r.int(6)?,
            expires_at,
            status,
            times_sent: r.int(9)?,
            last_sent_at: r.int(10)?,
            accepted_by: opt_email(r, 11)?,
        },
        stored_status: stored,
        token_hash: r.bytes(12)?,
    })
}

pub fn invite_get(c: &dyn Sql, id: i64, now: i64) -> Result<Option<InviteRow>> {
    c.row(invite_select!("WHERE i.id = ?"), args![id])?
        .map(|r| invite_from_row(&r, now))
        .transpose()
}

/// Open invites (pending, including overdue ones, and expired) of an account, newest first.
pub fn invites_open(c: &dyn Sql, account: &str, now: i64) -> Result<Vec<Invite>> {
    c.rows(
        invite_select!(
            "WHERE i.account_id = ? AND i.status IN ('pending', 'expired') ORDER BY i.last_sent_at DESC, i.id DESC"
        ),
        args![account],
    )?
    .iter()
    .map(|r| invite_from_row(r, now).map(|row| row.invite))
    .collect()
}

/// Invites that are pending and not yet overdue.
///
/// On SQLite `+expires_at` keeps the planner on `invites_by_account`: left to itself it picks
/// `invites_by_status` and walks every pending invite of every account. The servers' planners
/// use column statistics and need no hint (nor does every one of them take this one).
pub fn pending_count(c: &dyn Sql, account: &str, now: i64) -> Result<i64> {
    let sql = match c.backend() {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM invites WHERE account_id = ? AND status = 'pending' AND +expires_at > ?"
        }
        _ => {
            "SELECT COUNT(*) FROM invites WHERE account_id = ? AND status = 'pending' AND expires_at > ?"
        }
    };
    count(c, sql, args![account, now])
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

/// Inserts an invite, sent with the next statement (see [`Sql::insert_deferred`]).
pub fn invite_insert(c: &dyn Sql, n: &NewInvite<'_>) -> Result<InsertId> {
    let (all, keys) = n.permissions.to_db();
    c.insert_deferred(
        "INSERT INTO invites (account_id, email, perm_all, perms, invited_by, created_at, expires_at, status, \
         times_sent, last_sent_at, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?)",
        args![
            n.account,
            n.email.as_str(),
            all,
            keys.as_str(),
            n.invited_by,
            n.now,
            n.expires_at,
            n.now,
            n.token_hash
        ],
    )
}

/// New token and expiry for an open invite; returns false when the invite was no longer open.
pub fn invite_renew(
    c: &dyn Sql,
    id: i64,
    now: i64,
    expires_at: i64,
    token_hash: &[u8],
) -> Result<bool> {
    let n = c.exec(
        "UPDATE invites SET status = 'pending', expires_at = ?, times_sent = times_sent + 1, last_sent_at = ?, \
         token_hash = ? WHERE id = ? AND status IN ('pending', 'expired')",
        args![expires_at, now, token_hash, id],
    )?;
    Ok(n == 1)
}

/// Closes an open invite. For `accepted`, the update is conditional on the token hash and the
/// expiry, so that of several concurrent accepts exactly one wins (on a server, the row lock
/// the UPDATE takes makes the losers wait and then find the row no longer pending).
pub fn invite_close(
    c: &dyn Sql,
    id: i64,
    status: InviteStatus,
    now: i64,
    accepted_by: Option<i64>,
    token_hash: Option<&[u8]>,
) -> Result<bool> {
    let n = match token_hash {
        Some(h) => c.exec(
            "UPDATE invites SET status = ?, closed_at = ?, accepted_by = ? \
             WHERE id = ? AND status = 'pending' AND expires_at > ? AND token_hash = ?",
            args![status.as_str(), now, accepted_by, id, now, h],
        )?,
        None => c.exec(
            "UPDATE invites SET status = ?, closed_at = ? WHERE id = ? AND status IN ('pending', 'expired')",
            args![status.as_str(), now, id],
        )?,
    };
    Ok(n == 1)
}

/// Ids of the pending invites whose expiry has passed, oldest first.
pub fn invites_due(c: &dyn Sql, now: i64) -> Result<Vec<i64>> {
    c.rows(
        "SELECT id FROM invites WHERE status = 'pending' AND expires_at <= ? ORDER BY id",
        args![now],
    )?
    .iter()
    .map(|r| r.int(0))
    .collect()
}

/// Marks every overdue pending invite expired; returns (id, account, email) of each.
pub fn invites_expire_due(c: &dyn Sql, now: i64) -> Result<Vec<(i64, String, String)>> {
    let due = c
        .rows(
            "SELECT id, account_id, email FROM invites WHERE status = 'pending' AND expires_at <= ? ORDER BY id",
            args![now],
        )?
        .iter()
        .map(|r| Ok((r.int(0)?, r.text(1)?, r.text(2)?)))
        .collect::<Result<Vec<_>>>()?;
    c.exec(
        "UPDATE invites SET status = 'expired', closed_at = ? WHERE status = 'pending' AND expires_at <= ?",
        args![now, now],
    )?;
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

/// Writes an audit entry, sent with the next statement (see [`Sql::defer`]).
pub fn audit_insert(c: &dyn Sql, now: i64, e: &AuditEntry<'_>) -> Result<()> {
    c.defer(
        "INSERT INTO audit (at, actor, account_id, action, target, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?)",
        args![
            now,
            e.actor,
            e.account,
            e.action,
            e.target,
            e.old_value.as_deref(),
            e.new_value.as_deref()
        ],
    )
}

/// The latest `limit` entries of an account at or after `since`, oldest first.
pub fn audit_list(c: &dyn Sql, account: &str, since: i64, limit: u32) -> Result<Vec<AuditEvent>> {
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
/// statement so that the database walks an index (account, actor or target) rather than the
/// table.
pub fn audit_query(c: &dyn Sql, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
    let since = q.since.unwrap_or(i64::MIN);
    let until = q.until.unwrap_or(i64::MAX);
    let limit = i64::from(q.limit);
    macro_rules! sel {
        ($filter:literal) => {
            concat!(
                "SELECT id, at, actor, account_id, action, target, old_value, new_value FROM \
                 (SELECT id, at, actor, account_id, action, target, old_value, new_value FROM audit WHERE ",
                $filter,
                " ORDER BY id DESC LIMIT ?) t ORDER BY id"
            )
        };
    }
    let rows = match (&q.account, &q.user) {
        (Some(a), Some(u)) => c.rows(
            sel!("account_id = ? AND (actor = ? OR target = ?) AND at >= ? AND at <= ?"),
            args![a, u, u, since, until, limit],
        )?,
        (Some(a), None) => c.rows(
            sel!("account_id = ? AND at >= ? AND at <= ?"),
            args![a, since, until, limit],
        )?,
        (None, Some(u)) => c.rows(
            sel!(
                "id IN (SELECT id FROM audit WHERE actor = ? AND at >= ? AND at <= ? \
                 UNION SELECT id FROM audit WHERE target = ? AND at >= ? AND at <= ?)"
            ),
            args![u, since, until, u, since, until, limit],
        )?,
        (None, None) => c.rows(sel!("at >= ? AND at <= ?"), args![since, until, limit])?,
    };
    rows.iter()
        .map(|r| {
            Ok(AuditEvent {
                id: r.int(0)?,
                at: r.int(1)?,
                actor: r.text(2)?,
                account_id: r.opt_text(3)?,
                action: r.text(4)?,
                target: r.opt_text(5)?,
                old_value: r.opt_text(6)?,
                new_value: r.opt_text(7)?,
            })
        })
        .collect()
}

// ---------- invite sends (rate limits) ----------

/// What the rules of sending an invite read, in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteCounts {
    /// The invitee is already a member of the account.
    pub invitee_is_member: bool,
    /// The newest open (pending or expired) invite to the invitee on the account.
    pub open_invite: Option<i64>,
    /// Invites of the account that are pending and not yet overdue.
    pub pending: i64,
    /// Invites (new or resent) the account sent after `since`.
    pub sent_by_account: i64,
    /// Invites `inviter` sent after `since` over all accounts.
    pub sent_by_inviter: i64,
}

/// The subqueries of [`invite_view`]; `$plus` is SQLite's planner hint (see [`pending_count`]).
/// Their `?`s come before the actor's of [`account_with_actor_select`]. Each reads one index
/// range: the open invite and the pending count `invites_by_account` (account, status, email,
/// expiry), the sends the audit's account and actor indexes.
macro_rules! invite_counts_columns {
    ($plus:literal) => {
        concat!(
            ", im.user_id, \
             (SELECT MAX(id) FROM invites WHERE account_id = a.id \
              AND status IN ('pending', 'expired') AND email = ?), \
             (SELECT COUNT(*) FROM invites WHERE account_id = a.id AND status = 'pending' AND ",
            $plus,
            "expires_at > ?), \
             (SELECT COUNT(*) FROM audit WHERE account_id = a.id AND at > ? \
              AND action IN ('invite.create', 'invite.resend')), \
             (SELECT COUNT(*) FROM audit WHERE actor = ? AND at > ? \
              AND action IN ('invite.create', 'invite.resend'))"
        )
    };
}

/// Everything the rules of sending an invite of `invitee` to `account` by `inviter` read, in
/// one statement: the account and what the inviter is on it ([`account_with_actor`]), whether
/// the invitee is a member (two more primary-key joins), and the counts. `None` when there is
/// no such account. The send counts read the audit trail (`invite.create`, `invite.resend`)
/// through its account and actor indexes; when one is at its limit, [`first_send`] tells when
/// the next send is possible.
pub fn invite_view(
    c: &dyn Sql,
    account: &str,
    invitee: &Email,
    inviter: &Email,
    now: i64,
    since: i64,
) -> Result<Option<(AccountAndActor, InviteCounts)>> {
    macro_rules! view {
        ($plus:literal) => {
            concat!(
                account_with_actor_joins!(
                    [invite_counts_columns!($plus)],
                    " LEFT JOIN users iu ON iu.email = ? \
                     LEFT JOIN memberships im ON im.account_id = a.id AND im.user_id = iu.id"
                ),
                " WHERE a.id = ?"
            )
        };
    }
    let sql = match c.backend() {
        Backend::Sqlite => view!("+"),
        _ => view!(""),
    };
    let (e, i) = (invitee.as_str(), inviter.as_str());
    let Some(r) = c.row(sql, args![e, now, since, i, since, i, e, account])? else {
        return Ok(None);
    };
    // The account and actor (columns 0-8), then the invitee's membership and the counts (9-13).
    let counts = InviteCounts {
        invitee_is_member: r.opt_int(9)?.is_some(),
        open_invite: r.opt_int(10)?,
        pending: r.int(11)?,
        sent_by_account: r.int(12)?,
        sent_by_inviter: r.int(13)?,
    };
    Ok(Some((account_and_actor(&r)?, counts)))
}

/// Whose sends [`first_send`] looks at.
pub enum Sender<'a> {
    Account(&'a str),
    Inviter(&'a Email),
}

/// The time of the first send after `since` (an `invite.create` or `invite.resend` entry) by
/// an account or an inviter: when it leaves the rolling window, the next send fits.
pub fn first_send(c: &dyn Sql, by: Sender<'_>, since: i64) -> Result<Option<i64>> {
    let (sql, who) = match by {
        Sender::Account(a) => (
            "SELECT at FROM audit WHERE account_id = ? AND at > ? \
             AND action IN ('invite.create', 'invite.resend') ORDER BY at LIMIT 1",
            a,
        ),
        Sender::Inviter(e) => (
            "SELECT at FROM audit WHERE actor = ? AND at > ? \
             AND action IN ('invite.create', 'invite.resend') ORDER BY at LIMIT 1",
            e.as_str(),
        ),
    };
    c.row(sql, args![who, since])?.map(|r| r.int(0)).transpose()
}

// ---------- contacts and notifications ----------

macro_rules! contact_select {
    ($where:literal) => {
        concat!(
            "SELECT c.id, c.account_id, c.first_name, c.last_name, c.email, c.phone, c.company, \
             u.email, c.notify, c.created_at, c.updated_at FROM contacts c LEFT JOIN users u ON u.id = c.user_id ",
            $where
        )
    };
}

fn contact_from_row(r: &Row) -> Result<Contact> {
    Ok(Contact {
        id: r.int(0)?,
        account_id: r.text(1)?,
        first_name: r.text(2)?,
        last_name: r.text(3)?,
        email: email(r, 4)?,
        phone: r.text(5)?,
        company: r.text(6)?,
        user: opt_email(r, 7)?,
        notify: NotifyKind::parse_list(&r.text(8)?),
        created_at: r.int(9)?,
        updated_at: r.int(10)?,
    })
}

pub fn contact_get(c: &dyn Sql, id: i64) -> Result<Option<Contact>> {
    c.row(contact_select!("WHERE c.id = ?"), args![id])?
        .map(|r| contact_from_row(&r))
        .transpose()
}

pub fn contacts(c: &dyn Sql, account: &str) -> Result<Vec<Contact>> {
    c.rows(
        contact_select!("WHERE c.account_id = ? ORDER BY c.last_name, c.first_name, c.id"),
        args![account],
    )?
    .iter()
    .map(contact_from_row)
    .collect()
}

/// Inserts (`id` None) or replaces a contact; returns its id.
pub fn contact_save(
    c: &dyn Sql,
    id: Option<i64>,
    k: &Contact,
    user_id: Option<i64>,
) -> Result<i64> {
    let notify = NotifyKind::list_text(&k.notify);
    match id {
        None => c.insert(
            "INSERT INTO contacts (account_id, first_name, last_name, email, phone, company, user_id, notify, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            args![
                k.account_id.as_str(),
                k.first_name.as_str(),
                k.last_name.as_str(),
                k.email.as_str(),
                k.phone.as_str(),
                k.company.as_str(),
                user_id,
                notify.as_str(),
                k.created_at,
                k.created_at
            ],
        ),
        Some(id) => {
            c.exec(
                "UPDATE contacts SET first_name = ?, last_name = ?, email = ?, phone = ?, company = ?, \
                 user_id = ?, notify = ?, updated_at = ? WHERE id = ?",
                args![
                    k.first_name.as_str(),
                    k.last_name.as_str(),
                    k.email.as_str(),
                    k.phone.as_str(),
                    k.company.as_str(),
                    user_id,
                    notify.as_str(),
                    k.updated_at,
                    id
                ],
            )?;
            Ok(id)
        }
    }
}

pub fn contact_delete(c: &dyn Sql, id: i64) -> Result<usize> {
    Ok(c.exec("DELETE FROM contacts WHERE id = ?", args![id])? as usize)
}

/// The notification settings of a membership; `None` means the role's default.
pub fn membership_notify(
    c: &dyn Sql,
    account: &str,
    user_id: i64,
) -> Result<Option<Vec<NotifyKind>>> {
    Ok(c.row(
        "SELECT notify FROM memberships WHERE account_id = ? AND user_id = ?",
        args![account, user_id],
    )?
    .map(|r| r.opt_text(0))
    .transpose()?
    .flatten()
    .map(|s| NotifyKind::parse_list(&s)))
}

pub fn membership_set_notify(
    c: &dyn Sql,
    account: &str,
    user_id: i64,
    kinds: &[NotifyKind],
) -> Result<()> {
    let text = NotifyKind::list_text(kinds);
    c.exec(
        "UPDATE memberships SET notify = ? WHERE account_id = ? AND user_id = ?",
        args![text.as_str(), account, user_id],
    )?;
    Ok(())
}

/// (email, name, role, notification settings) of a member; `None` settings mean the role's default.
pub type MemberNotify = (Email, String, Role, Option<Vec<NotifyKind>>);

/// (email, name, role, notify) of every member of an account.
pub fn member_notify_list(c: &dyn Sql, account: &str) -> Result<Vec<MemberNotify>> {
    c.rows(
        "SELECT u.email, u.name, m.role, m.notify FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.account_id = ? ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.joined_at, u.email",
        args![account],
    )?
    .iter()
    .map(|r| {
        Ok((
            email(r, 0)?,
            r.text(1)?,
            Role::from_db(&r.text(2)?),
            r.opt_text(3)?.map(|s| NotifyKind::parse_list(&s)),
        ))
    })
    .collect()
}

// ---------- whole tables ----------

/// Every table Cohort keeps and its columns, in the order a copy writes them (parents first).
pub const TABLES: &[(&str, &str)] = &[
    ("users", "id, email, name, two_factor, created_at, last_login"),
    ("accounts", "id, name, owner_id, created_at"),
    (
        "memberships",
        "account_id, user_id, role, perm_all, perms, invited_by, joined_at, notify",
    ),
    (
        "invites",
        "id, account_id, email, perm_all, perms, invited_by, created_at, expires_at, status, \
         times_sent, last_sent_at, accepted_by, closed_at, token_hash",
    ),
    (
        "audit",
        "id, at, actor, account_id, action, target, old_value, new_value",
    ),
    (
        "contacts",
        "id, account_id, first_name, last_name, email, phone, company, user_id, notify, created_at, updated_at",
    ),
];

/// Every row of one table, ordered by its key.
pub fn table_rows(c: &dyn Sql, table: &str, columns: &str) -> Result<Vec<Row>> {
    let order = if table == "memberships" {
        "account_id, user_id"
    } else {
        "id"
    };
    c.rows(
        &format!("SELECT {columns} FROM {table} ORDER BY {order}"),
        &[],
    )
}

/// Every row of every table as text, in a fixed order and the same form on every backend: lets
/// tests prove a refused call changed nothing, and a copy that both sides hold the same rows.
pub fn dump(c: &dyn Sql) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (table, columns) in TABLES {
        for r in table_rows(c, table, columns)? {
            let cells: Vec<String> = r.0.iter().map(|v| v.show()).collect();
            out.push(format!("{table}: {}", cells.join(" ")));
        }
    }
    Ok(out)
}
