//! Who may act on an account: its owner, the members who manage its users (the `users` key,
//! capped by their own permissions) or its contacts, and the protection the owner's own
//! membership has; and the lookups that refuse an unknown account, login or member.

use super::USERS_KEY;
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{self, Sql};

/// Who is managing users on an account, and with which powers.
pub(super) struct Manager {
    pub account: Account,
    pub actor: Email,
    pub actor_id: i64,
    pub is_owner: bool,
    pub perms: Permissions,
}

impl Manager {
    /// Refuses to grant what the actor does not hold, and `users` unless the actor holds all.
    pub(super) fn may_grant(&self, p: &Permissions) -> Result<()> {
        if self.is_owner {
            return Ok(());
        }
        if !self.perms.covers(p) {
            let missing = match (p, &self.perms) {
                (Permissions::All, _) => "All Permissions".to_string(),
                (Permissions::Keys(want), Permissions::Keys(have)) => want
                    .difference(have)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                (Permissions::Keys(_), Permissions::All) => String::new(),
            };
            return Err(Error::Forbidden(format!(
                "{} cannot grant permissions they do not hold themselves: {missing}",
                self.actor
            )));
        }
        if p.allows(USERS_KEY) && self.perms != Permissions::All {
            return Err(Error::Forbidden(format!(
                "{} cannot grant the {USERS_KEY} permission: only the owner or a member with All Permissions can",
                self.actor
            )));
        }
        Ok(())
    }

    /// Refuses changes to a member the actor may not touch: themself (see `leave`), or someone
    /// holding permissions the actor lacks. The owner is refused by [`refuse_owner`].
    pub(super) fn may_change(
        &self,
        target: &Email,
        role: Role,
        old: &Permissions,
        new: Option<&Permissions>,
    ) -> Result<()> {
        if self.is_owner || role == Role::Owner {
            return Ok(());
        }
        if target == &self.actor {
            return Err(Error::Forbidden(format!(
                "{} cannot change their own access; ask the owner, or leave the account",
                self.actor
            )));
        }
        if !self.perms.covers(old) {
            return Err(Error::Forbidden(format!(
                "{target} holds permissions that {} does not hold; only the owner can change their access",
                self.actor
            )));
        }
        match new {
            Some(p) => self.may_grant(p),
            None => Ok(()),
        }
    }
}

/// The account, refusing unless `actor` is its owner or a member holding `users`.
pub(super) fn require_manager(tx: &dyn Sql, actor: &Email, account: &str) -> Result<Manager> {
    manager_of(
        store::account_with_actor(tx, account, actor)?,
        actor,
        account,
    )
}

/// The rule of [`require_manager`] over what it reads (see [`store::account_with_actor`]).
pub(super) fn manager_of(
    found: Option<store::AccountAndActor>,
    actor: &Email,
    account: &str,
) -> Result<Manager> {
    let (acct, _, actor_id, membership) =
        found.ok_or_else(|| Error::not_found("account", account))?;
    let refuse = || Error::NotOwner {
        actor: actor.to_string(),
        account: account.into(),
    };
    let actor_id = actor_id.ok_or_else(refuse)?;
    let (role, perms) = membership.ok_or_else(refuse)?;
    let is_owner = role == Role::Owner;
    if !is_owner && !perms.allows(USERS_KEY) {
        return Err(refuse());
    }
    Ok(Manager {
        account: acct,
        actor: actor.clone(),
        actor_id,
        is_owner,
        perms: if is_owner { Permissions::All } else { perms },
    })
}

/// Refuses unless `actor` is the owner of the account or a member holding `contacts`.
pub(super) fn require_contacts_manager(tx: &dyn Sql, actor: &Email, account: &str) -> Result<()> {
    require_account(tx, account)?;
    let allowed = match store::user_by_email(tx, actor)? {
        Some(u) => match store::membership_get(tx, account, u.id)? {
            Some((Role::Owner, _)) => true,
            Some((Role::Member, p)) => p.allows("contacts"),
            None => false,
        },
        None => false,
    };
    if !allowed {
        return Err(Error::Forbidden(format!(
            "{actor} may not manage the contacts of account {account} (needs the contacts permission)"
        )));
    }
    Ok(())
}

/// The account and its owner's user id, refusing unless `actor` is its owner.
pub(super) fn require_owner(tx: &dyn Sql, actor: &Email, account: &str) -> Result<(Account, i64)> {
    let (acct, owner_id) =
        store::account_get(tx, account)?.ok_or_else(|| Error::not_found("account", account))?;
    if &acct.owner != actor {
        return Err(Error::NotOwner {
            actor: actor.to_string(),
            account: account.into(),
        });
    }
    Ok((acct, owner_id))
}

/// The account with this id, or `not_found`.
pub(super) fn require_account(tx: &dyn Sql, account: &str) -> Result<Account> {
    store::account_get(tx, account)?
        .map(|(a, _)| a)
        .ok_or_else(|| Error::not_found("account", account))
}

/// The login with this email, or `not_found`.
pub(super) fn require_user(tx: &dyn Sql, email: &Email) -> Result<User> {
    store::user_by_email(tx, email)?.ok_or_else(|| Error::not_found("user", email))
}

/// A member's login, role and permissions on an existing account, or `not_found`.
pub(super) fn require_member(
    tx: &dyn Sql,
    account: &str,
    email: &Email,
) -> Result<(User, Role, Permissions)> {
    require_account(tx, account)?;
    let user = require_user(tx, email)?;
    let (role, perms) =
        store::membership_get(tx, account, user.id)?.ok_or_else(|| Error::NotFound {
            what: "member",
            id: format!("{email} on account {account}"),
        })?;
    Ok((user, role, perms))
}

/// The owner's protection: `action` (changing permissions, removing access, leaving) does not
/// apply to the owner's membership.
pub(super) fn refuse_owner(
    role: Role,
    email: &Email,
    account: &str,
    action: &'static str,
) -> Result<()> {
    if role == Role::Owner {
        return Err(Error::OwnerProtected {
            email: email.to_string(),
            account: account.into(),
            action,
        });
    }
    Ok(())
}
