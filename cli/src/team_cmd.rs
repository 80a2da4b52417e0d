//! `cohort contacts …`, `cohort recipients`, `cohort notify`, `cohort leave`.

use crate::output;
use clap::{Args, Subcommand};
use cohort_core::{Contact, ContactInput, Engine, NotifyKind, Result};

#[derive(Subcommand)]
pub enum ContactsCmd {
    /// The contacts of ACCOUNT.
    List { account: String },
    /// Add a contact (first name and email are required).
    Add {
        account: String,
        #[command(flatten)]
        fields: ContactFields,
        /// Who adds it (default: the account owner).
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// Change the given fields of contact ID.
    Edit {
        id: i64,
        #[command(flatten)]
        fields: ContactFields,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// Delete contact ID.
    Delete {
        id: i64,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
}

#[derive(Args)]
pub struct ContactFields {
    #[arg(long)]
    first: Option<String>,
    #[arg(long)]
    last: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    company: Option<String>,
    /// Link to this login ("" unlinks).
    #[arg(long, value_name = "EMAIL")]
    user: Option<String>,
    /// Kinds of email received: general, domain, invoice, product, support, affiliate ("" for none).
    #[arg(long, value_name = "KIND[,KIND…]")]
    notify: Option<String>,
}

impl ContactFields {
    fn input(self) -> ContactInput {
        ContactInput {
            first_name: self.first,
            last_name: self.last,
            email: self.email,
            phone: self.phone,
            company: self.company,
            user: self.user,
            notify: self.notify.map(|n| {
                n.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }),
        }
    }
}

/// `by`, or the account's owner when not given.
pub(crate) fn actor_or_owner(engine: &Engine, account: &str, by: Option<String>) -> Result<String> {
    engine.actor_or_owner(account, by.as_deref())
}

fn print_contacts(list: &[Contact]) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                format!("{} {}", c.first_name, c.last_name)
                    .trim()
                    .to_string(),
                c.email.to_string(),
                c.phone.clone(),
                c.company.clone(),
                c.user.as_ref().map_or("-".into(), |u| u.to_string()),
                c.notify
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    output::table(
        &[
            "ID", "NAME", "EMAIL", "PHONE", "COMPANY", "LOGIN", "RECEIVES",
        ],
        &rows,
    );
}

pub fn contacts(engine: &Engine, cmd: ContactsCmd, json: bool) -> Result<()> {
    let one = |c: Contact, verb: &str| {
        if json {
            output::json(&c);
        } else {
            println!("contact {} <{}> {verb}", c.id, c.email);
        }
    };
    match cmd {
        ContactsCmd::List { account } => {
            let list = engine.contacts(&account)?;
            if json {
                output::json(&list);
            } else {
                print_contacts(&list);
            }
        }
        ContactsCmd::Add {
            account,
            fields,
            by,
        } => {
            let by = actor_or_owner(engine, &account, by)?;
            one(engine.contact_add(&by, &account, &fields.input())?, "added");
        }
        ContactsCmd::Edit { id, fields, by } => {
            let by = match by {
                Some(b) => b,
                None => actor_or_owner(engine, &contact_account(engine, id)?, None)?,
            };
            one(engine.contact_update(&by, id, &fields.input())?, "updated");
        }
        ContactsCmd::Delete { id, by } => {
            let by = match by {
                Some(b) => b,
                None => actor_or_owner(engine, &contact_account(engine, id)?, None)?,
            };
            one(engine.contact_delete(&by, id)?, "deleted");
        }
    }
    Ok(())
}

fn contact_account(engine: &Engine, id: i64) -> Result<String> {
    engine.contact(id).map(|c| c.account_id)
}

pub fn recipients(engine: &Engine, account: &str, kind: &str, json: bool) -> Result<()> {
    let kind = NotifyKind::parse(kind)?;
    let list = engine.recipients(account, kind)?;
    if json {
        output::json(&list);
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|r| vec![r.email.to_string(), r.name.clone(), r.source.into()])
            .collect();
        output::table(&["EMAIL", "NAME", "AS"], &rows);
    }
    Ok(())
}

pub fn notify(
    engine: &Engine,
    account: &str,
    email: &str,
    kinds: &str,
    by: Option<String>,
    json: bool,
) -> Result<()> {
    let kinds = NotifyKind::parse_csv(kinds)?;
    let by = by.unwrap_or_else(|| email.to_string());
    let set = engine.set_member_notifications(&by, account, email, &kinds)?;
    if json {
        output::json(&serde_json::json!({ "email": email, "notify": set }));
    } else {
        let names: Vec<&str> = set.iter().map(|k| k.as_str()).collect();
        println!(
            "{email} now receives: {}",
            if names.is_empty() {
                "nothing".to_string()
            } else {
                names.join(", ")
            }
        );
    }
    Ok(())
}
