//! Team features beyond the basic invite flow: delegated user management (the `users` key),
//! invite rate limits, leaving an account, contacts with notification routing, audit views.

use super::{audit, member_event, require_account, require_member, Engine};
use crate::clock::format_rfc3339;
use crate::error::{Error, Result};
use crate::hooks::{events, Action};
use crate::model::*;
use crate::store::Sql;
use crate::store::{self, AuditQuery, InviteRow};

/// The permission key that lets a member manage the account's users.
pub const USERS_KEY: &str = "users";

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
    pub fn may_grant(&self, p: &Permissions) -> Result<()> {
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
    /// holding permissions the actor lacks. The owner is refused by the caller.
    pub fn may_change(
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

impl Engine {
    /// The account, refusing unless `actor` is its owner or a member holding `users`.
    pub(super) fn require_manager(
        &self,
        tx: &dyn Sql,
        actor: &Email,
        account: &str,
    ) -> Result<Manager> {
        let (acct, _) =
            store::account_get(tx, account)?.ok_or_else(|| Error::not_found("account", account))?;
        let refuse = || Error::NotOwner {
            actor: actor.to_string(),
            account: account.into(),
        };
        let user = store::user_by_email(tx, actor)?.ok_or_else(refuse)?;
        let (role, perms) = store::membership_get(tx, account, user.id)?.ok_or_else(refuse)?;
        let is_owner = role == Role::Owner;
        if !is_owner && !perms.allows(USERS_KEY) {
            return Err(refuse());
        }
        Ok(Manager {
            account: acct,
            actor: actor.clone(),
            actor_id: user.id,
            is_owner,
            perms: if is_owner { Permissions::All } else { perms },
        })
    }

    /// Refuses a send over the account's or the inviter's rolling-day budget, saying when the
    /// next one is possible. The sends are the `invite.create` and `invite.resend` audit entries,
    /// which the same transaction writes for this send once it is allowed.
    pub(super) fn rate_limit(
        &self,
        tx: &dyn Sql,
        account: &str,
        inviter: &Email,
        now: i64,
    ) -> Result<()> {
        let since = now - 86_400;
        let (n, oldest) = store::invite_sends_by_account(tx, account, since)?;
        let cap = self.cfg.max_invites_per_day;
        if n >= i64::from(cap) {
            return Err(Error::RateLimited(format!(
                "account {account} has sent {n} invites in the last 24 hours (the limit is {cap}); \
                 the next invite is possible at {}",
                format_rfc3339(oldest.unwrap_or(now) + 86_400)
            )));
        }
        let (n, oldest) = store::invite_sends_by_inviter(tx, inviter.as_str(), since)?;
        let cap = self.cfg.max_invites_per_inviter_per_day;
        if n >= i64::from(cap) {
            return Err(Error::RateLimited(format!(
                "this inviter has sent {n} invites in the last 24 hours (the limit is {cap}); \
                 the next invite is possible at {}",
                format_rfc3339(oldest.unwrap_or(now) + 86_400)
            )));
        }
        Ok(())
    }

    /// With `bind_email`, refuses an accepting login other than the invited one before anything
    /// about that login is looked up, so the answer never tells whether it exists.
    pub(super) fn check_bound(&self, row: &InviteRow, email: &Email) -> Result<()> {
        if self.cfg.bind_email && email != &row.invite.email {
            return Err(Error::EmailMismatch {
                invite_id: row.invite.id,
                invited: row.invite.email.to_string(),
                actual: email.to_string(),
            });
        }
        Ok(())
    }

    /// A member leaves an account on their own. The owner cannot leave (transfer first). Hook
    /// scripts see it as `before_revoke` / `after_revoke` with `leaving = true` and the member as
    /// the actor, so a policy that protects users applies here too.
    pub fn leave(&self, account: &str, user_email: &str) -> Result<()> {
        let email = Email::parse(user_email)?;
        let now = self.now();
        let owner_refused = || Error::OwnerProtected {
            email: email.to_string(),
            account: account.into(),
            action: "leaving (transfer ownership first)",
        };
        self.before_hook(Action::Revoke, now, |tx| {
            let (_, role, _) = require_member(tx, account, &email)?;
            if role == Role::Owner {
                return Err(owner_refused());
            }
            let mut ev = member_event(tx, account, &email, &email, now)?;
            ev["leaving"] = true.into();
            Ok(ev)
        })?;
        let mut removed = None;
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let (user, role, old) = require_member(tx, account, &email)?;
            if role == Role::Owner {
                return Err(owner_refused());
            }
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
            let mut ev = member_event(tx, account, &email, &email, now)?;
            ev["leaving"] = true.into();
            ev["permissions"] = removed
                .as_ref()
                .map_or(serde_json::Value::Null, events::permissions);
            Ok(ev)
        });
        Ok(())
    }

    // ---------- contacts ----------

    /// The contacts of an account.
    pub fn contacts(&self, account: &str) -> Result<Vec<Contact>> {
        self.store().read(|tx| {
            require_account(tx, account)?;
            store::contacts(tx, account)
        })
    }

    /// One contact by id.
    pub fn contact(&self, id: i64) -> Result<Contact> {
        self.store()
            .read(|c| store::contact_get(c, id))?
            .ok_or_else(|| Error::not_found("contact", id))
    }

    /// Adds a contact. `first_name` and `email` are required. The actor must be the owner or a
    /// member holding `contacts`.
    pub fn contact_add(&self, actor: &str, account: &str, input: &ContactInput) -> Result<Contact> {
        let actor = Email::parse(actor)?;
        let now = self.now();
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            self.require_contacts_manager(tx, &actor, account)?;
            let blank = Contact {
                id: 0,
                account_id: account.to_string(),
                first_name: String::new(),
                last_name: String::new(),
                email: actor.clone(),
                phone: String::new(),
                company: String::new(),
                user: None,
                notify: Vec::new(),
                created_at: now,
                updated_at: now,
            };
            if input.first_name.is_none() || input.email.is_none() {
                return Err(Error::InvalidArgument {
                    field: "contact",
                    message: "first_name and email are required".into(),
                });
            }
            let (c, user_id) = apply_contact(tx, blank, input)?;
            let id = store::contact_save(tx, None, &c, user_id)?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "contact.add",
                Some(c.email.as_str()),
                None,
                Some(contact_summary(&c)),
            )?;
            store::contact_get(tx, id)?.ok_or_else(|| Error::Internal("contact vanished".into()))
        })
    }

    /// Changes the given fields of a contact.
    pub fn contact_update(
        &self,
        actor: &str,
        contact_id: i64,
        input: &ContactInput,
    ) -> Result<Contact> {
        let actor = Email::parse(actor)?;
        let now = self.now();
        self.store().write(|tx| {
            store::lock_contact_account(tx, contact_id)?;
            let old = store::contact_get(tx, contact_id)?
                .ok_or_else(|| Error::not_found("contact", contact_id))?;
            self.require_contacts_manager(tx, &actor, &old.account_id)?;
            let (c, user_id) = apply_contact(
                tx,
                Contact {
                    updated_at: now,
                    ..old.clone()
                },
                input,
            )?;
            if c != (Contact {
                updated_at: now,
                ..old.clone()
            }) {
                store::contact_save(tx, Some(contact_id), &c, user_id)?;
                audit(
                    tx,
                    now,
                    actor.as_str(),
                    Some(&old.account_id),
                    "contact.update",
                    Some(c.email.as_str()),
                    Some(contact_summary(&old)),
                    Some(contact_summary(&c)),
                )?;
            }
            store::contact_get(tx, contact_id)?
                .ok_or_else(|| Error::Internal("contact vanished".into()))
        })
    }

    /// Deletes a contact.
    pub fn contact_delete(&self, actor: &str, contact_id: i64) -> Result<Contact> {
        let actor = Email::parse(actor)?;
        let now = self.now();
        self.store().write(|tx| {
            store::lock_contact_account(tx, contact_id)?;
            let old = store::contact_get(tx, contact_id)?
                .ok_or_else(|| Error::not_found("contact", contact_id))?;
            self.require_contacts_manager(tx, &actor, &old.account_id)?;
            store::contact_delete(tx, contact_id)?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(&old.account_id),
                "contact.delete",
                Some(old.email.as_str()),
                Some(contact_summary(&old)),
                None,
            )?;
            Ok(old)
        })
    }

    fn require_contacts_manager(&self, tx: &dyn Sql, actor: &Email, account: &str) -> Result<()> {
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

    /// Sets which kinds of email a member receives. The member may set their own; the owner and
    /// members holding `users` may set anyone's.
    pub fn set_member_notifications(
        &self,
        actor: &str,
        account: &str,
        user_email: &str,
        kinds: &[NotifyKind],
    ) -> Result<Vec<NotifyKind>> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(user_email)?;
        let mut kinds = kinds.to_vec();
        kinds.sort();
        kinds.dedup();
        let now = self.now();
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            if actor != email {
                self.require_manager(tx, &actor, account)?;
            }
            let (user, _, _) = require_member(tx, account, &email)?;
            let old = store::membership_notify(tx, account, user.id)?;
            store::membership_set_notify(tx, account, user.id, &kinds)?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "member.notifications",
                Some(email.as_str()),
                Some(old.map_or("default".into(), |k| NotifyKind::list_text(&k))),
                Some(NotifyKind::list_text(&kinds)),
            )?;
            Ok(kinds.clone())
        })
    }

    /// The deduplicated addresses that should receive `kind` of email for an account: the owner
    /// (all kinds unless they chose otherwise), members who opted in, and contacts who opted in.
    pub fn recipients(&self, account: &str, kind: NotifyKind) -> Result<Vec<Recipient>> {
        self.store().read(|tx| {
            require_account(tx, account)?;
            let mut out: Vec<Recipient> = Vec::new();
            let mut push = |email: Email, name: String, source: &'static str| {
                if !out.iter().any(|r| r.email == email) {
                    out.push(Recipient {
                        email,
                        name,
                        source,
                    });
                }
            };
            for (email, name, role, notify) in store::member_notify_list(tx, account)? {
                let wants = match (&notify, role) {
                    (Some(k), _) => k.contains(&kind),
                    (None, Role::Owner) => true,
                    (None, Role::Member) => false,
                };
                if wants {
                    push(email, name, role.as_str());
                }
            }
            for c in store::contacts(tx, account)? {
                if c.notify.contains(&kind) {
                    let name = format!("{} {}", c.first_name, c.last_name)
                        .trim()
                        .to_string();
                    push(c.email, name, "contact");
                }
            }
            Ok(out)
        })
    }

    /// Audit entries by account and/or user (as actor or target) within a time range; the
    /// latest `limit`, oldest first.
    /// `q.limit` 0 means [`super::DEFAULT_AUDIT_LIMIT`].
    pub fn audit_query(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let mut q = q.clone();
        q.limit = super::audit_limit(q.limit);
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

fn contact_summary(c: &Contact) -> String {
    format!(
        "{} {} <{}> phone={:?} company={:?} user={} notify={}",
        c.first_name,
        c.last_name,
        c.email,
        c.phone,
        c.company,
        c.user.as_ref().map_or("-".to_string(), |u| u.to_string()),
        NotifyKind::list_text(&c.notify)
    )
}

fn text(field: &'static str, v: &str, max: usize, required: bool) -> Result<String> {
    let t = v.trim();
    if (required && t.is_empty()) || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(Error::InvalidArgument {
            field,
            message: format!(
                "must be {}-{max} characters without control characters",
                u8::from(required)
            ),
        });
    }
    Ok(t.to_string())
}

/// Applies input fields to a contact; returns it and the id of its linked login.
fn apply_contact(tx: &dyn Sql, mut c: Contact, i: &ContactInput) -> Result<(Contact, Option<i64>)> {
    if let Some(v) = &i.first_name {
        c.first_name = text("first_name", v, 100, true)?;
    }
    if let Some(v) = &i.last_name {
        c.last_name = text("last_name", v, 100, false)?;
    }
    if let Some(v) = &i.email {
        c.email = Email::parse(v)?;
    }
    if let Some(v) = &i.phone {
        let p = text("phone", v, 32, false)?;
        if !p
            .chars()
            .all(|ch| ch.is_ascii_digit() || " +-().".contains(ch))
        {
            return Err(Error::InvalidArgument {
                field: "phone",
                message: "only digits, spaces and + - ( ) . are allowed".into(),
            });
        }
        c.phone = p;
    }
    if let Some(v) = &i.company {
        c.company = text("company", v, 200, false)?;
    }
    if let Some(v) = &i.notify {
        c.notify = NotifyKind::parse_csv(&v.join(","))?;
    }
    if let Some(v) = &i.user {
        c.user = if v.trim().is_empty() {
            None
        } else {
            Some(Email::parse(v)?)
        };
    }
    let user_id = match &c.user {
        None => None,
        Some(e) => Some(
            store::user_by_email(tx, e)?
                .ok_or_else(|| Error::not_found("user", e))?
                .id,
        ),
    };
    Ok((c, user_id))
}
