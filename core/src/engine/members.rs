//! Members of an account: the User Management table, changing permissions, removing access,
//! leaving, transferring ownership, and `check` (does this login hold this permission here).

use super::access::{
    refuse_owner, require_account, require_manager, require_member, require_owner, require_user,
};
use super::{audit, events, Engine};
use crate::error::{Error, Result};
use crate::hooks::Action;
use crate::model::*;
use crate::store::{self, Sql};

// What the owner's membership is protected from, as `owner_protected` names it.
const CHANGING_PERMISSIONS: &str = "changing permissions";
const REMOVING_ACCESS: &str = "removing access";
const LEAVING: &str = "leaving (transfer ownership first)";

impl Engine {
    /// The User Management table: owner first, then members by join date.
    pub fn members(&self, account: &str) -> Result<Vec<Member>> {
        // An account always has its owner as a member: an empty list means no such account.
        self.store().read_single(|tx| {
            let list = store::members(tx, account)?;
            if list.is_empty() {
                require_account(tx, account)?;
            }
            Ok(list)
        })
    }

    /// The accounts a login can switch between, with its role on each.
    pub fn accounts_of(&self, email: &str) -> Result<Vec<AccountRole>> {
        let email = Email::parse(email)?;
        self.store().read(|tx| {
            let u = require_user(tx, &email)?;
            store::accounts_of(tx, u.id)
        })
    }

    /// Replaces a member's permissions. Refused on the owner.
    pub fn set_permissions(
        &self,
        actor: &str,
        account: &str,
        user_email: &str,
        permissions: &Permissions,
    ) -> Result<Member> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(user_email)?;
        self.catalogue.validate(permissions)?;
        let now = self.now();
        self.before_hook(Action::Permissions, now, |tx| {
            let (_, old) = change_check(tx, &actor, account, &email, Some(permissions))?;
            events::permissions_event(tx, account, &actor, &email, Some(&old), permissions, now)
        })?;
        let member = self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let (user, old) = change_check(tx, &actor, account, &email, Some(permissions))?;
            if &old != permissions {
                store::membership_update(tx, account, user.id, Role::Member, permissions)?;
                audit(
                    tx,
                    now,
                    actor.as_str(),
                    Some(account),
                    "member.permissions",
                    Some(email.as_str()),
                    Some(old.to_text()),
                    Some(permissions.to_text()),
                )?;
            }
            store::members(tx, account)?
                .into_iter()
                .find(|m| m.email == email)
                .ok_or_else(|| Error::Internal("member vanished".into()))
        })?;
        self.after_hook(Action::Permissions, now, |tx| {
            events::permissions_event(tx, account, &actor, &email, None, &member.permissions, now)
        });
        Ok(member)
    }

    /// Removes a member's access to an account; the login and its other memberships remain.
    pub fn revoke(&self, actor: &str, account: &str, user_email: &str) -> Result<()> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(user_email)?;
        let now = self.now();
        self.before_hook(Action::Revoke, now, |tx| {
            change_check(tx, &actor, account, &email, None)?;
            events::revoke_event(tx, account, &actor, &email, false, now)
        })?;
        let mut removed = None;
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let (user, old) = change_check(tx, &actor, account, &email, None)?;
            store::membership_delete(tx, account, user.id)?;
            removed = Some(old.clone());
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "member.revoke",
                Some(email.as_str()),
                Some(old.to_text()),
                None,
            )?;
            Ok(())
        })?;
        self.after_hook(Action::Revoke, now, |tx| {
            events::revoked_event(tx, account, &actor, &email, false, removed.as_ref(), now)
        });
        Ok(())
    }

    /// A member leaves an account on their own. The owner cannot leave (transfer first). Hook
    /// scripts see it as `before_revoke` / `after_revoke` with `leaving = true` and the member as
    /// the actor, so a policy that protects users applies here too.
    pub fn leave(&self, account: &str, user_email: &str) -> Result<()> {
        let email = Email::parse(user_email)?;
        let now = self.now();
        self.before_hook(Action::Revoke, now, |tx| {
            leave_check(tx, account, &email)?;
            events::revoke_event(tx, account, &email, &email, true, now)
        })?;
        let mut removed = None;
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let (user, old) = leave_check(tx, account, &email)?;
            store::membership_delete(tx, account, user.id)?;
            removed = Some(old.clone());
            audit(
                tx,
                now,
                email.as_str(),
                Some(account),
                "member.leave",
                Some(email.as_str()),
                Some(old.to_text()),
                None,
            )
        })?;
        self.after_hook(Action::Revoke, now, |tx| {
            events::revoked_event(tx, account, &email, &email, true, removed.as_ref(), now)
        });
        Ok(())
    }

    /// Makes a member the owner; the previous owner stays on as a member with all permissions.
    pub fn transfer_ownership(
        &self,
        actor: &str,
        account: &str,
        new_owner: &str,
    ) -> Result<Account> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(new_owner)?;
        let now = self.now();
        self.before_hook(Action::Transfer, now, |tx| {
            transfer_check(tx, &actor, account, &email)?;
            events::member_event(tx, account, &actor, &email, now)
        })?;
        let acct = self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let (acct, owner_id, user) = transfer_check(tx, &actor, account, &email)?;
            store::membership_update(tx, account, owner_id, Role::Member, &Permissions::All)?;
            store::membership_update(tx, account, user.id, Role::Owner, &Permissions::All)?;
            store::account_set_owner(tx, account, user.id)?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "account.transfer",
                Some(email.as_str()),
                Some(acct.owner.to_string()),
                Some(email.to_string()),
            )?;
            Ok(Account {
                owner: email.clone(),
                ..acct
            })
        })?;
        self.after_hook(Action::Transfer, now, |tx| {
            events::member_event(tx, account, &actor, &email, now)
        });
        Ok(acct)
    }

    /// Whether `user_email` holds permission `key` on `account`. The owner and members with all
    /// permissions hold every key. Unknown keys are an error (a typo in the panel must not pass
    /// silently as "denied"); unknown users or accounts simply hold nothing.
    pub fn check(&self, account: &str, user_email: &str, key: &str) -> Result<bool> {
        if !self.catalogue.contains(key) {
            return Err(Error::UnknownPermission {
                key: key.into(),
                valid: self.catalogue.keys(),
            });
        }
        // Stored emails are trimmed lower-case ASCII; anything else cannot match once normalized.
        let t = user_email.trim();
        let email: std::borrow::Cow<'_, str> = if t.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(t.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(t)
        };
        self.store().with_membership(account, &email, |m| match m {
            Some((Role::Owner, _)) => true,
            Some((Role::Member, p)) => p.allows(key),
            None => false,
        })
    }

    /// A number that stays the same as long as no commit (by this engine, or by any other
    /// process or connection on the database) can have changed an answer of [`Engine::check`]:
    /// a caller that keeps `check`'s answers may serve them again while this number stays the
    /// same, and must drop them when it moves. It is validated as `check`'s own memo is (the
    /// WAL-index header SQLite has mapped), so answers kept that way are never stale.
    ///
    /// 0 means "keep nothing": on a server database `check` keeps no memo (each answer is one
    /// query), and neither may the caller.
    pub fn check_generation(&self) -> Result<u64> {
        Ok(self.store().check_generation()?.unwrap_or(0))
    }
}

/// The rule of `set_permissions` (`new` is the permissions to set) and of `revoke` (`new` is
/// `None`), checked for their before-hooks and again in their transactions: `actor` manages the
/// account's users, `email` is a member that `actor` may change (and give `new`), and not the
/// owner. Returns the member's login and current permissions.
fn change_check(
    tx: &dyn Sql,
    actor: &Email,
    account: &str,
    email: &Email,
    new: Option<&Permissions>,
) -> Result<(User, Permissions)> {
    let manager = require_manager(tx, actor, account)?;
    let (user, role, old) = require_member(tx, account, email)?;
    manager.may_change(email, role, &old, new)?;
    let action = if new.is_some() {
        CHANGING_PERMISSIONS
    } else {
        REMOVING_ACCESS
    };
    refuse_owner(role, email, account, action)?;
    Ok((user, old))
}

/// The rule of `leave`, checked for its before-hook and again in its transaction: `email` is a
/// member, and not the owner. Returns the member's login and current permissions.
fn leave_check(tx: &dyn Sql, account: &str, email: &Email) -> Result<(User, Permissions)> {
    let (user, role, old) = require_member(tx, account, email)?;
    refuse_owner(role, email, account, LEAVING)?;
    Ok((user, old))
}

/// The rule of `transfer_ownership`, checked for its before-hook and again in its transaction:
/// `actor` owns the account and `email` is a member who does not own it already. Returns the
/// account, the current owner's user id and the new owner's login.
fn transfer_check(
    tx: &dyn Sql,
    actor: &Email,
    account: &str,
    email: &Email,
) -> Result<(Account, i64, User)> {
    let (acct, owner_id) = require_owner(tx, actor, account)?;
    let (user, role, _) = require_member(tx, account, email)?;
    if role == Role::Owner {
        return Err(Error::InvalidArgument {
            field: "new owner",
            message: format!("{email} already owns account {account}"),
        });
    }
    Ok((acct, owner_id, user))
}
