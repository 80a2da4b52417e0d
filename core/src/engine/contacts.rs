//! Contacts of an account, and who receives which kind of email: contacts that opted in, and
//! members by their own notification settings.

use super::access::{
    require_account, require_contacts_manager, require_manager, require_member, require_user,
};
use super::{audit, Engine};
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{self, Sql};

impl Engine {
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
            .read_single(|c| store::contact_get(c, id))?
            .ok_or_else(|| Error::not_found("contact", id))
    }

    /// Adds a contact. `first_name` and `email` are required. The actor must be the owner or a
    /// member holding `contacts`.
    pub fn contact_add(&self, actor: &str, account: &str, input: &ContactInput) -> Result<Contact> {
        let actor = Email::parse(actor)?;
        let now = self.now();
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            require_contacts_manager(tx, &actor, account)?;
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
            let old = managed_contact(tx, &actor, contact_id)?;
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
            let old = managed_contact(tx, &actor, contact_id)?;
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
                require_manager(tx, &actor, account)?;
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
}

/// The contact, refusing unless `actor` may manage its account's contacts: the rule of
/// `contact_update` and `contact_delete`.
fn managed_contact(tx: &dyn Sql, actor: &Email, contact_id: i64) -> Result<Contact> {
    let c = store::contact_get(tx, contact_id)?
        .ok_or_else(|| Error::not_found("contact", contact_id))?;
    require_contacts_manager(tx, actor, &c.account_id)?;
    Ok(c)
}

/// How a contact reads in the audit trail.
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
        Some(e) => Some(require_user(tx, e)?.id),
    };
    Ok((c, user_id))
}
