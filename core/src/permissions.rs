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

    /// Builds a chosen set from keys given by a panel or a person (the C ABI, PHP, the CLI).
    ///
    /// One rule everywhere: whitespace around a key is ignored (`" invoices "` is `invoices`);
    /// an empty key (`"invoices,"`, `""`) is refused, as are unknown keys (the message lists the
    /// valid ones) and an empty set. Hook scripts, which are code, must spell keys exactly
    /// ([`Catalogue::validate`]).
    pub fn chosen<I, S>(&self, keys: I) -> Result<Permissions>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for k in keys {
            let k = k.as_ref().trim();
            if k.is_empty() {
                return Err(Error::InvalidArgument {
                    field: "permissions",
                    message: "an empty permission key (a stray comma, or \"\"); name each key, \
                              such as invoices,tickets"
                        .into(),
                });
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

    /// Parses the permissions argument of the C ABI (and so of PHP): the JSON string `"all"` or a
    /// JSON array of keys, read by [`Catalogue::chosen`]'s rule.
    pub fn parse_json(&self, text: &str) -> Result<Permissions> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| permissions_shape(&format!("invalid JSON ({e})")))?;
        self.from_json(&value)
    }

    /// [`Catalogue::parse_json`] for a value already parsed.
    pub fn from_json(&self, value: &serde_json::Value) -> Result<Permissions> {
        let wrong = permissions_shape;
        match value {
            serde_json::Value::String(s) if s == "all" => Ok(Permissions::All),
            serde_json::Value::String(s) => {
                Err(wrong(&format!("the string {:?}", crate::error::clip(s))))
            }
            serde_json::Value::Array(items) => {
                let keys = items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .ok_or_else(|| wrong("an array holding a non-string"))
                    })
                    .collect::<Result<Vec<&str>>>()?;
                self.chosen(keys)
            }
            serde_json::Value::Null => Err(wrong("null")),
            serde_json::Value::Bool(_) => Err(wrong("a boolean")),
            serde_json::Value::Number(_) => Err(wrong("a number")),
            serde_json::Value::Object(_) => Err(wrong("an object")),
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

fn permissions_shape(what: &str) -> Error {
    Error::InvalidArgument {
        field: "permissions",
        message: format!(
            "must be \"all\" or an array of permission keys such as [\"invoices\",\"tickets\"], not {what}"
        ),
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
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            Catalogue::default().chosen(Vec::<&str>::new()),
            Err(Error::EmptyPermissions)
        ));
    }

    #[test]
    fn one_grammar_for_lists_and_json() {
        let c = Catalogue::default();
        let both = Permissions::Keys(["invoices".into(), "tickets".into()].into());
        assert_eq!(c.parse(" invoices , tickets ").unwrap(), both);
        assert_eq!(c.parse_json(r#"[" invoices ","tickets"]"#).unwrap(), both);
        assert_eq!(c.parse_json(r#""all""#).unwrap(), Permissions::All);
        for bad in [r#"["invoices",""]"#, r#"["  "]"#] {
            let e = c.parse_json(bad).unwrap_err().to_string();
            assert!(e.contains("empty permission key"), "{bad}: {e}");
        }
        assert!(matches!(c.parse_json("[]"), Err(Error::EmptyPermissions)));
        for bad in ["\"some\"", "null", "1", "{}", "[1]", "not json"] {
            let e = c.parse_json(bad).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::InvalidArgument, "{bad}: {e}");
            assert!(e.to_string().contains("\"all\" or an array"), "{bad}: {e}");
        }
        let long = format!("\"{}\"", "x".repeat(5_000));
        assert!(c.parse_json(&long).unwrap_err().to_string().len() < 300);
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
