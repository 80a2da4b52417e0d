//! Invites: sending, resending and cancelling them, listing them, and expiring the overdue ones.

use super::access::{manager_of, require_account, require_manager, Manager};
use super::{audit, events, Engine, SYSTEM_ACTOR};
use crate::clock::format_rfc3339;
use crate::config::MAX_INVITE_TTL;
use crate::error::{Error, Result};
use crate::hooks::{Action, Event};
use crate::model::*;
use crate::store::{self, InviteRow, NewInvite, Sql};
use crate::token;

/// The rolling window of the invite limits, in seconds.
const DAY: i64 = 86_400;

impl Engine {
    /// Invites `email` to `account` with `permissions`, valid for `ttl` seconds (default from config).
    pub fn invite(
        &self,
        actor: &str,
        account: &str,
        email: &str,
        permissions: &Permissions,
        ttl: Option<i64>,
    ) -> Result<IssuedInvite> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(email)?;
        self.catalogue.validate(permissions)?;
        let ttl = self.check_ttl(ttl)?;
        let now = self.now();
        let verdict = self.before_hook(Action::Invite, now, |tx| {
            self.invite_check(tx, &actor, account, &email, permissions, now)?;
            events::invite_event(tx, account, &actor, &email, permissions, now, ttl, None)
        })?;
        let permissions = verdict.permissions.as_ref().unwrap_or(permissions);
        let ttl = verdict.expires_at.map_or(ttl, |e| e - now);
        let nonce = token::random_nonce()?;
        let hash = token::nonce_hash(&nonce);
        let (id, acct) = self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let manager = self.invite_check(tx, &actor, account, &email, permissions, now)?;
            let id = store::invite_insert(
                tx,
                &NewInvite {
                    account,
                    email: &email,
                    permissions,
                    invited_by: manager.actor_id,
                    now,
                    expires_at: now + ttl,
                    token_hash: &hash,
                },
            )?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "invite.create",
                Some(email.as_str()),
                None,
                Some(permissions.to_text()),
            )?;
            Ok((id, manager.account))
        })?;
        // The row as written (no need to read it back); its id is known now that it committed.
        let invite = Invite {
            id: id.get()?,
            account_id: account.to_string(),
            email: email.clone(),
            permissions: permissions.clone(),
            invited_by: actor.clone(),
            created_at: now,
            expires_at: now + ttl,
            status: InviteStatus::Pending,
            times_sent: 1,
            last_sent_at: now,
            accepted_by: None,
        };
        let issued = self.issue(invite, &acct, now, nonce)?;
        self.after_hook(Action::Invite, now, |tx| {
            let i = &issued.invite;
            events::invite_event(
                tx,
                account,
                &actor,
                &email,
                &i.permissions,
                now,
                i.expires_at - now,
                Some(i),
            )
        });
        Ok(issued)
    }

    /// Open invites of an account (pending and expired), newest first. Overdue invites read as expired.
    pub fn pending(&self, account: &str) -> Result<Vec<Invite>> {
        let now = self.now();
        // An empty list needs a second look: no invites, or no such account.
        self.store().read_single(|tx| {
            let list = store::invites_open(tx, account, now)?;
            if list.is_empty() {
                require_account(tx, account)?;
            }
            Ok(list)
        })
    }

    /// One invite by id.
    pub fn invite_by_id(&self, id: i64) -> Result<Invite> {
        let now = self.now();
        self.store()
            .read_single(|c| store::invite_get(c, id, now))?
            .map(|r| r.invite)
            .ok_or_else(|| Error::not_found("invite", id))
    }

    /// Sends an open (pending or expired) invite again: new link, fresh expiry; the old link stops working.
    pub fn resend(&self, actor: &str, invite_id: i64, ttl: Option<i64>) -> Result<IssuedInvite> {
        let actor = Email::parse(actor)?;
        let ttl = self.check_ttl(ttl)?;
        let now = self.now();
        self.before_hook(Action::Resend, now, |tx| {
            let (row, _) = self.resend_check(tx, &actor, invite_id, now)?;
            events::resend_event(tx, &row.invite, &actor, now, ttl)
        })?;
        let nonce = token::random_nonce()?;
        let hash = token::nonce_hash(&nonce);
        let (invite, acct) = self.store().write(|tx| {
            store::lock_invite_account(tx, invite_id)?;
            let (row, manager) = self.resend_check(tx, &actor, invite_id, now)?;
            let acct = manager.account;
            if !store::invite_renew(tx, invite_id, now, now + ttl, &hash)? {
                return Err(Error::InviteNotOpen {
                    invite_id,
                    status: row.stored_status.as_str(),
                });
            }
            audit(
                tx,
                now,
                actor.as_str(),
                Some(&acct.id),
                "invite.resend",
                Some(row.invite.email.as_str()),
                Some(format!(
                    "{} expires {}",
                    row.invite.status.as_str(),
                    format_rfc3339(row.invite.expires_at)
                )),
                Some(format!("pending expires {}", format_rfc3339(now + ttl))),
            )?;
            let fresh = store::invite_get(tx, invite_id, now)?
                .ok_or_else(|| Error::Internal("invite vanished".into()))?;
            Ok((fresh.invite, acct))
        })?;
        let issued = self.issue(invite, &acct, now, nonce)?;
        self.after_hook(Action::Resend, now, |tx| {
            events::invite_by(tx, &issued.invite, &actor, now)
        });
        Ok(issued)
    }

    /// Withdraws an open invite; its link stops working.
    pub fn cancel(&self, actor: &str, invite_id: i64) -> Result<Invite> {
        let actor = Email::parse(actor)?;
        let now = self.now();
        self.before_hook(Action::Cancel, now, |tx| {
            let (row, _) = managed_invite(tx, &actor, invite_id, now)?;
            events::invite_by(tx, &row.invite, &actor, now)
        })?;
        let cancelled = self.store().write(|tx| {
            store::lock_invite_account(tx, invite_id)?;
            let (row, _) = managed_invite(tx, &actor, invite_id, now)?;
            if !store::invite_close(tx, invite_id, InviteStatus::Cancelled, now, None, None)? {
                return Err(Error::InviteNotOpen {
                    invite_id,
                    status: row.stored_status.as_str(),
                });
            }
            audit(
                tx,
                now,
                actor.as_str(),
                Some(&row.invite.account_id),
                "invite.cancel",
                Some(row.invite.email.as_str()),
                Some(row.invite.status.as_str().into()),
                Some("cancelled".into()),
            )?;
            Ok(Invite {
                status: InviteStatus::Cancelled,
                ..row.invite
            })
        })?;
        self.after_hook(Action::Cancel, now, |tx| {
            events::invite_by(tx, &cancelled, &actor, now)
        });
        Ok(cancelled)
    }

    /// Marks every overdue pending invite expired; returns how many.
    pub fn expire_due(&self) -> Result<usize> {
        let now = self.now();
        if self.hook_wants(Event::before(Action::Expire))
            || self.hook_wants(Event::after(Action::Expire))
        {
            return self.expire_due_hooked(now);
        }
        self.store().write(|tx| {
            let due = store::invites_expire_due(tx, now)?;
            for (id, account, email) in &due {
                audit_expiry(tx, now, *id, account, email)?;
            }
            Ok(due.len())
        })
    }

    /// [`Engine::expire_due`] when scripts watch expiry: each due invite is an event of its own.
    /// A veto keeps that invite stored as pending (it still reads as expired and cannot be
    /// accepted); a later sweep asks again.
    fn expire_due_hooked(&self, now: i64) -> Result<usize> {
        let due = self.store().read(|tx| due_invites(tx, now))?;
        let mut allowed = Vec::with_capacity(due.len());
        for inv in due {
            match self.before_hook(Action::Expire, now, |tx| {
                events::expire_event(tx, &inv, now)
            }) {
                Ok(_) => allowed.push(inv),
                Err(Error::HookDenied { .. } | Error::HookFailed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let expired = self.store().write(|tx| {
            let mut done = Vec::with_capacity(allowed.len());
            for inv in allowed {
                // A resend since the snapshot may have renewed it.
                let still_due =
                    store::invite_get(tx, inv.id, now)?.is_some_and(|r| is_due(&r, now));
                if still_due
                    && store::invite_close(tx, inv.id, InviteStatus::Expired, now, None, None)?
                {
                    audit_expiry(tx, now, inv.id, &inv.account_id, inv.email.as_str())?;
                    done.push(Invite {
                        status: InviteStatus::Expired,
                        ..inv
                    });
                }
            }
            Ok(done)
        })?;
        for inv in &expired {
            self.after_hook(Action::Expire, now, |tx| events::expire_event(tx, inv, now));
        }
        Ok(expired.len())
    }

    /// The lifetime of a new link: `ttl`, or the configured default, within 1 s and
    /// [`MAX_INVITE_TTL`].
    fn check_ttl(&self, ttl: Option<i64>) -> Result<i64> {
        let ttl = ttl.unwrap_or(self.cfg.invite_ttl);
        if ttl <= 0 || ttl > MAX_INVITE_TTL {
            return Err(Error::InvalidArgument {
                field: "ttl",
                message: format!("{ttl} s is outside 1 s to {} s", MAX_INVITE_TTL),
            });
        }
        Ok(ttl)
    }

    /// The rule of `invite`, checked for its before-hook (so that scripts never judge an invite
    /// that would be refused anyway) and again in its transaction: `actor` manages the
    /// account's users and may grant `permissions`; `email` is not a member and has no open
    /// invite; the account is under its pending cap; neither account nor inviter is over the
    /// daily limit. One statement reads all it needs.
    fn invite_check(
        &self,
        tx: &dyn Sql,
        actor: &Email,
        account: &str,
        email: &Email,
        permissions: &Permissions,
        now: i64,
    ) -> Result<Manager> {
        let (view, counts) = store::invite_view(tx, account, email, actor, now, now - DAY)?.unzip();
        let manager = manager_of(view, actor, account)?;
        manager.may_grant(permissions)?;
        let counts =
            counts.ok_or_else(|| Error::Internal("counts without their account".into()))?;
        refuse_member(&counts, account, email)?;
        if let Some(open) = counts.open_invite {
            return Err(Error::PendingInviteExists {
                invite_id: open,
                email: email.to_string(),
                account: account.into(),
            });
        }
        let max_pending = self.cfg.max_pending_invites;
        if counts.pending >= i64::from(max_pending) {
            return Err(Error::PendingCapReached {
                account: account.into(),
                cap: max_pending,
            });
        }
        self.rate_limit(tx, &counts, account, actor, now)?;
        Ok(manager)
    }

    /// The rule of `resend`, checked for its before-hook and again in its transaction: the
    /// invite exists and is open (pending or expired), `actor` manages it, its invitee is not a
    /// member yet, and the daily limits leave room.
    fn resend_check(
        &self,
        tx: &dyn Sql,
        actor: &Email,
        invite_id: i64,
        now: i64,
    ) -> Result<(InviteRow, Manager)> {
        let row = store::invite_get(tx, invite_id, now)?
            .ok_or_else(|| Error::not_found("invite", invite_id))?;
        let account = &row.invite.account_id;
        let (view, counts) =
            store::invite_view(tx, account, &row.invite.email, actor, now, now - DAY)?.unzip();
        let manager = manager_of(view, actor, account)?;
        manager.may_grant(&row.invite.permissions)?;
        if !matches!(
            row.stored_status,
            InviteStatus::Pending | InviteStatus::Expired
        ) {
            return Err(Error::InviteNotOpen {
                invite_id,
                status: row.stored_status.as_str(),
            });
        }
        let counts =
            counts.ok_or_else(|| Error::Internal("counts without their account".into()))?;
        refuse_member(&counts, account, &row.invite.email)?;
        self.rate_limit(tx, &counts, account, actor, now)?;
        Ok((row, manager))
    }

    /// Refuses a send over the account's or the inviter's rolling-day budget, saying when the
    /// next one is possible. The sends are the `invite.create` and `invite.resend` audit entries,
    /// which the same transaction writes for this send once it is allowed.
    fn rate_limit(
        &self,
        tx: &dyn Sql,
        counts: &store::InviteCounts,
        account: &str,
        inviter: &Email,
        now: i64,
    ) -> Result<()> {
        let refuse = |who: String, n: i64, cap: u32, by: store::Sender<'_>| -> Result<()> {
            let first = store::first_send(tx, by, now - DAY)?;
            Err(Error::RateLimited(format!(
                "{who} has sent {n} invites in the last 24 hours (the limit is {cap}); \
                 the next invite is possible at {}",
                format_rfc3339(first.unwrap_or(now) + DAY)
            )))
        };
        let cap = self.cfg.max_invites_per_day;
        if counts.sent_by_account >= i64::from(cap) {
            return refuse(
                format!("account {account}"),
                counts.sent_by_account,
                cap,
                store::Sender::Account(account),
            );
        }
        let cap = self.cfg.max_invites_per_inviter_per_day;
        if counts.sent_by_inviter >= i64::from(cap) {
            return refuse(
                "this inviter".into(),
                counts.sent_by_inviter,
                cap,
                store::Sender::Inviter(inviter),
            );
        }
        Ok(())
    }
}

/// The rule of `cancel`, checked for its before-hook and again in its transaction: the invite
/// exists, and `actor` manages its account's users and may grant what it grants (`resend`
/// checks the same within [`Engine::resend_check`], from one read with its counts).
fn managed_invite(
    tx: &dyn Sql,
    actor: &Email,
    invite_id: i64,
    now: i64,
) -> Result<(InviteRow, Manager)> {
    let row = store::invite_get(tx, invite_id, now)?
        .ok_or_else(|| Error::not_found("invite", invite_id))?;
    let manager = require_manager(tx, actor, &row.invite.account_id)?;
    manager.may_grant(&row.invite.permissions)?;
    Ok((row, manager))
}

/// Refuses to (re)send an invite to someone who is already a member of the account.
fn refuse_member(counts: &store::InviteCounts, account: &str, email: &Email) -> Result<()> {
    if counts.invitee_is_member {
        return Err(Error::AlreadyMember {
            email: email.to_string(),
            account: account.into(),
        });
    }
    Ok(())
}

/// Whether an invite is still stored as pending with its expiry passed: what a sweep closes.
fn is_due(row: &InviteRow, now: i64) -> bool {
    row.stored_status == InviteStatus::Pending && row.invite.expires_at <= now
}

/// Pending invites whose expiry has passed, oldest first (what `expire_due` will close).
fn due_invites(tx: &dyn Sql, now: i64) -> Result<Vec<Invite>> {
    let ids = store::invites_due(tx, now)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = store::invite_get(tx, id, now)? {
            if is_due(&row, now) {
                out.push(row.invite);
            }
        }
    }
    Ok(out)
}

/// The audit entry of an invite the sweep closed (both ways of sweeping write this one).
fn audit_expiry(tx: &dyn Sql, now: i64, id: i64, account: &str, email: &str) -> Result<()> {
    audit(
        tx,
        now,
        SYSTEM_ACTOR,
        Some(account),
        "invite.expire",
        Some(email),
        Some(format!("invite {id} pending")),
        Some("expired".into()),
    )
}
