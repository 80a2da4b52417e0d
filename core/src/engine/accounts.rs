//! Accounts and logins: creating and renaming accounts, creating and updating logins, and
//! recording that the panel logged someone in.

use super::access::{require_account, require_user};
use super::{audit, check_name, events, user_summary, Engine, MAX_ACCOUNT_ID_LEN, PANEL_ACTOR};
use crate::clock::format_rfc3339;
use crate::error::{Error, Result};
use crate::hooks::Action;
use crate::model::*;
use crate::store;

impl Engine {
    /// Who acts: the login named, or, when none is, the owner of `account` (what an admin tool
    /// such as the `cohort` CLI means when `--by` is left out). The account must exist.
    pub fn actor_or_owner(&self, account: &str, actor: Option<&str>) -> Result<String> {
        match actor {
            Some(a) => Ok(a.to_string()),
            None => Ok(self.account(account)?.owner.to_string()),
        }
    }

    /// Creates or renames an account; creates the owner's login if needed. An existing account
    /// keeps its owner (use [`Engine::transfer_ownership`] to change it).
    pub fn upsert_account(&self, id: &str, name: &str, owner_email: &str) -> Result<Account> {
        check_account_id(id)?;
        let name = check_name("account name", name, false)?;
        let owner = Email::parse(owner_email)?;
        let now = self.now();
        self.store().write(|tx| {
            store::lock_account(tx, id)?;
            match store::account_get(tx, id)? {
                Some((acct, _)) => {
                    if acct.owner != owner {
                        return Err(Error::InvalidArgument {
                            field: "owner",
                            message: format!(
                                "account {id} is owned by {}; use transfer to change the owner",
                                acct.owner
                            ),
                        });
                    }
                    if acct.name != name {
                        store::account_set_name(tx, id, &name)?;
                        audit(
                            tx,
                            now,
                            PANEL_ACTOR,
                            Some(id),
                            "account.rename",
                            Some(id),
                            Some(acct.name.clone()),
                            Some(name.clone()),
                        )?;
                    }
                    Ok(Account { name, ..acct })
                }
                None => {
                    let user = match store::user_by_email(tx, &owner)? {
                        Some(u) => u,
                        None => {
                            let u = store::user_insert(tx, &owner, "", false, now)?;
                            audit(
                                tx,
                                now,
                                PANEL_ACTOR,
                                None,
                                "user.create",
                                Some(owner.as_str()),
                                None,
                                None,
                            )?;
                            u
                        }
                    };
                    store::account_insert(tx, id, &name, user.id, now)?;
                    store::membership_insert(
                        tx,
                        id,
                        user.id,
                        Role::Owner,
                        &Permissions::All,
                        None,
                        now,
                    )?;
                    audit(
                        tx,
                        now,
                        PANEL_ACTOR,
                        Some(id),
                        "account.create",
                        Some(owner.as_str()),
                        None,
                        Some(name.clone()),
                    )?;
                    Ok(Account {
                        id: id.to_string(),
                        name,
                        owner,
                        created_at: now,
                    })
                }
            }
        })
    }

    /// The account with this id.
    pub fn account(&self, id: &str) -> Result<Account> {
        self.store().read_single(|c| require_account(c, id))
    }

    /// Creates a login or updates the given fields of an existing one.
    pub fn upsert_user(
        &self,
        email: &str,
        name: Option<&str>,
        two_factor: Option<bool>,
    ) -> Result<User> {
        let email = Email::parse(email)?;
        let name = name.map(|n| check_name("user name", n, true)).transpose()?;
        let now = self.now();
        self.store().write(|tx| {
            store::lock_user(tx, &email)?;
            match store::user_by_email(tx, &email)? {
                None => {
                    let u = store::user_insert(
                        tx,
                        &email,
                        name.as_deref().unwrap_or(""),
                        two_factor.unwrap_or(false),
                        now,
                    )?;
                    audit(
                        tx,
                        now,
                        PANEL_ACTOR,
                        None,
                        "user.create",
                        Some(email.as_str()),
                        None,
                        Some(user_summary(&u)),
                    )?;
                    Ok(u)
                }
                Some(old) => {
                    let mut u = old.clone();
                    if let Some(n) = name {
                        u.name = n;
                    }
                    if let Some(t) = two_factor {
                        u.two_factor = t;
                    }
                    if u != old {
                        store::user_update(tx, &u)?;
                        audit(
                            tx,
                            now,
                            PANEL_ACTOR,
                            None,
                            "user.update",
                            Some(email.as_str()),
                            Some(user_summary(&old)),
                            Some(user_summary(&u)),
                        )?;
                    }
                    Ok(u)
                }
            }
        })
    }

    /// The login with this email.
    pub fn user(&self, email: &str) -> Result<User> {
        let email = Email::parse(email)?;
        self.store().read_single(|c| require_user(c, &email))
    }

    /// Records that the panel logged this user in (sets Last Login).
    pub fn record_login(&self, email: &str) -> Result<User> {
        let email = Email::parse(email)?;
        let now = self.now();
        self.before_hook(Action::Login, now, |tx| {
            require_user(tx, &email)?;
            events::login_event(tx, &email)
        })?;
        let user = self.store().write(|tx| {
            store::lock_user(tx, &email)?;
            let mut u = require_user(tx, &email)?;
            let old = u.last_login;
            u.last_login = Some(now);
            store::user_update(tx, &u)?;
            audit(
                tx,
                now,
                email.as_str(),
                None,
                "user.login",
                Some(email.as_str()),
                old.map(format_rfc3339),
                Some(format_rfc3339(now)),
            )?;
            Ok(u)
        })?;
        self.after_hook(Action::Login, now, |tx| events::login_event(tx, &email));
        Ok(user)
    }
}

/// An account id: 1 to [`MAX_ACCOUNT_ID_LEN`] bytes, no control characters or surrounding spaces.
fn check_account_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > MAX_ACCOUNT_ID_LEN
        || id.trim() != id
        || id.chars().any(char::is_control)
    {
        return Err(Error::InvalidArgument {
            field: "account id",
            message: format!("must be 1-{MAX_ACCOUNT_ID_LEN} bytes without control characters or surrounding spaces"),
        });
    }
    Ok(())
}
