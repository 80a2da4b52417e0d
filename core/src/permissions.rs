//! The permission catalogue: the 13 WHMCS keys plus any keys a panel adds in config.

use crate::error::{Error, Result};
use crate::model::Permissions;
use std::collections::BTreeSet;

/// The built-in keys with their labels, in the order panels show them.
pub const BUILTIN: [(&str, &str); 13] = [
    ("profile", "Modify Master Account Profile"),
    ("contacts", "View & Manage Contacts"),
    ("products", "View Products & Services"),
    ("manageproducts", "View & Modify Product Passwords"),
    ("productsso", "Perform Single Sign-On"),
    ("domains", "View Domains"),
    ("managedomains", "Manage Domain Settings"),
    ("invoices", "View & Pay Invoices"),
    ("quotes", "View & Accept Quotes"),
    ("tickets", "View & Open Support Tickets"),
    ("affiliates", "View & Manage Affiliate Account"),
    ("emails", "View Emails"),
    ("orders", "Place New Orders/Upgrades/Cancellations"),
];

/// Keys Cohort adds to the WHMCS set.
pub const COHORT_KEYS: [(&str, &str); 1] = [(
    "users",
    "Manage Users (invite, change permissions, remove access)",
)];

/// One permission key and the label a panel shows next to its checkbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PermissionDef {
    pub key: String,
    pub label: String,
}

/// The keys an engine knows.
#[derive(Debug, Clone)]
pub struct Catalogue {
    defs: Vec<PermissionDef>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue {
            defs: BUILTIN
                .iter()
                .chain(COHORT_KEYS.iter())
                .map(|(k, l)| PermissionDef {
                    key: k.to_string(),
                    label: l.to_string(),
                })
                .collect(),
        }
    }
}

/// Whether `key` is a well-formed permission key: `[a-z][a-z0-9_]{0,31}`.
pub fn valid_key_syntax(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

impl Catalogue {
    /// The built-in keys plus `extra` (key, label) pairs.
    pub fn with_extra(extra: &[(String, String)]) -> Result<Catalogue> {
        let mut cat = Catalogue::default();
        for (key, label) in extra {
            if !valid_key_syntax(key) {
                return Err(Error::config(
                    format!("permissions.{key}"),
                    "a permission key is 1-32 characters of a-z, 0-9 and _, starting with a letter",
                ));
            }
            if cat.contains(key) {
                return Err(Error::config(
                    format!("permissions.{key}"),
                    "this key is already defined",
                ));
            }
            if label.trim().is_empty() {
                return Err(Error::config(
                    format!("permissions.{key}"),
                    "the label is empty",
                ));
            }
            cat.defs.push(PermissionDef {
                key: key.clone(),
                label: label.clone(),
            });
        }
        Ok(cat)
    }

    pub fn defs(&self) -> &[PermissionDef] {
        &self.defs
    }

    pub fn contains(&self, key: &str) -> bool {
        self.defs.iter().any(|d| d.key == key)
    }

    pub fn keys(&self) -> Vec<String> {
        self.defs.iter().map(|d| d.key.clone()).collect()
    }

    /// Builds a chosen set from keys, refusing unknown keys (listing the valid ones) and empty sets.
    pub fn chosen<I, S>(&self, keys: I) -> Result<Permissions>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for k in keys {
            let k = k.as_ref().trim();
            if k.is_empty() {
                continue;
            }
            if !self.contains(k) {
                return Err(Error::UnknownPermission {
                    key: k.to_string(),
                    valid: self.keys(),
                });
            }
            set.insert(k.to_string());
        }
        if set.is_empty() {
            return Err(Error::EmptyPermissions);
        }
        Ok(Permissions::Keys(set))
    }

    /// Checks that a permission set is not empty and only names known keys, exactly as the
    /// catalogue spells them (a set is stored as given, so `" tickets"` must not pass).
    pub fn validate(&self, p: &Permissions) -> Result<()> {
        match p {
            Permissions::All => Ok(()),
            Permissions::Keys(k) if k.is_empty() => Err(Error::EmptyPermissions),
            Permissions::Keys(k) => match k.iter().find(|key| !self.contains(key)) {
                Some(key) => Err(Error::UnknownPermission {
                    key: key.clone(),
                    valid: self.keys(),
                }),
                None => Ok(()),
            },
        }
    }

    /// Parses `all` or a comma-separated list of keys.
    pub fn parse(&self, text: &str) -> Result<Permissions> {
        if text.trim() == "all" {
            Ok(Permissions::All)
        } else {
            self.chosen(text.split(','))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue() {
        let c = Catalogue::default();
        assert_eq!(c.defs().len(), 14);
        assert!(c.contains("users"));
        assert!(c.contains("managedomains"));
        assert_eq!(c.defs()[0].label, "Modify Master Account Profile");
        assert_eq!(c.parse("all").unwrap(), Permissions::All);
        assert_eq!(
            c.parse("tickets, invoices,tickets").unwrap(),
            Permissions::Keys(["invoices".into(), "tickets".into()].into())
        );
    }

    #[test]
    fn unknown_key_lists_valid_ones() {
        let err = Catalogue::default().parse("invoices,billing").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"billing\""), "{msg}");
        assert!(msg.contains("profile, contacts, products"), "{msg}");
        assert!(matches!(
            Catalogue::default().parse(" , "),
            Err(Error::EmptyPermissions)
        ));
    }

    #[test]
    fn extra_keys() {
        let c = Catalogue::with_extra(&[("reports".into(), "View Reports".into())]).unwrap();
        assert!(c.parse("reports").is_ok());
        assert!(Catalogue::with_extra(&[("invoices".into(), "x".into())]).is_err());
        assert!(Catalogue::with_extra(&[("Bad-Key".into(), "x".into())]).is_err());
        assert!(Catalogue::with_extra(&[("ok".into(), " ".into())]).is_err());
    }
}
