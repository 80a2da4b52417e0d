//! The domain's plain data: emails, roles, permission sets, invites, members, audit events.

use crate::error::{Error, Result};
use serde::{Serialize, Serializer};
use std::collections::BTreeSet;

/// A validated email address, stored and compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Validates and normalizes (trims, lower-cases) an address.
    pub fn parse(input: &str) -> Result<Email> {
        let s = input.trim().to_ascii_lowercase();
        if s.len() > 254 || !s.is_ascii() {
            return Err(Error::InvalidEmail(input.to_string()));
        }
        let (local, domain) = match s.split_once('@') {
            Some(p) => p,
            None => return Err(Error::InvalidEmail(input.to_string())),
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            });
        if local_ok && domain_ok {
            Ok(Email(s))
        } else {
            Err(Error::InvalidEmail(input.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member's role on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
    pub(crate) fn from_db(s: &str) -> Role {
        if s == "owner" {
            Role::Owner
        } else {
            Role::Member
        }
    }
}

/// What a member may do: everything (including keys added to the catalogue later) or a chosen set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    All,
    Keys(BTreeSet<String>),
}

impl Permissions {
    /// Whether this set holds `key`.
    pub fn allows(&self, key: &str) -> bool {
        match self {
            Permissions::All => true,
            Permissions::Keys(k) => k.contains(key),
        }
    }

    /// Whether every key of `other` is also held by `self`.
    pub fn covers(&self, other: &Permissions) -> bool {
        match (self, other) {
            (Permissions::All, _) => true,
            (Permissions::Keys(_), Permissions::All) => false,
            (Permissions::Keys(a), Permissions::Keys(b)) => b.is_subset(a),
        }
    }

    /// Comma-separated keys, or `all`.
    pub fn to_text(&self) -> String {
        match self {
            Permissions::All => "all".into(),
            Permissions::Keys(k) => k.iter().cloned().collect::<Vec<_>>().join(","),
        }
    }

    pub(crate) fn to_db(&self) -> (bool, String) {
        match self {
            Permissions::All => (true, String::new()),
            Permissions::Keys(k) => (false, k.iter().cloned().collect::<Vec<_>>().join(",")),
        }
    }

    pub(crate) fn from_db(all: bool, keys: &str) -> Permissions {
        if all {
            Permissions::All
        } else {
            Permissions::Keys(
                keys.split(',')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        }
    }
}

/// Serialized as the string `"all"` or a sorted list of keys.
impl Serialize for Permissions {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Permissions::All => s.serialize_str("all"),
            Permissions::Keys(k) => k.serialize(s),
        }
    }
}

/// The state of an invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteStatus {
    Pending,
    Accepted,
    Cancelled,
    Declined,
    Expired,
}

impl InviteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Accepted => "accepted",
            InviteStatus::Cancelled => "cancelled",
            InviteStatus::Declined => "declined",
            InviteStatus::Expired => "expired",
        }
    }
    pub(crate) fn from_db(s: &str) -> InviteStatus {
        match s {
            "accepted" => InviteStatus::Accepted,
            "cancelled" => InviteStatus::Cancelled,
            "declined" => InviteStatus::Declined,
            "expired" => InviteStatus::Expired,
            _ => InviteStatus::Pending,
        }
    }
}

/// A client account of the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub owner: Email,
    pub created_at: i64,
}

/// A login identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: Email,
    pub name: String,
    pub two_factor: bool,
    pub created_at: i64,
    pub last_login: Option<i64>,
}

/// An invitation to join an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invite {
    pub id: i64,
    pub account_id: String,
    pub email: Email,
    pub permissions: Permissions,
    pub invited_by: Email,
    pub created_at: i64,
    pub expires_at: i64,
    /// Effective status: a pending invite past its expiry reads as `expired`.
    pub status: InviteStatus,
    pub times_sent: i64,
    pub last_sent_at: i64,
    pub accepted_by: Option<Email>,
}

/// A row of the User Management table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub account_id: String,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub permissions: Permissions,
    pub last_login: Option<i64>,
    pub two_factor: bool,
    pub joined_at: i64,
    pub invited_by: Option<Email>,
}

/// An account a login can switch to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRole {
    pub account_id: String,
    pub account_name: String,
    pub role: Role,
    pub permissions: Permissions,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub account_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A ready-to-send invitation email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The result of creating or resending an invite.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedInvite {
    pub invite: Invite,
    pub token: String,
    pub link: String,
    pub email: EmailMessage,
}

/// What `inspect` learns about a token without consuming it.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub valid: bool,
    /// Why not valid, as [`crate::TokenReason::as_str`] (e.g. `expired`; the error code is `token_expired`).
    pub reason: Option<&'static str>,
    pub message: Option<String>,
    pub invite_id: Option<i64>,
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub invited_by: Option<Email>,
    pub email: Option<Email>,
    pub permissions: Option<Permissions>,
    pub expires_at: Option<i64>,
    /// Whether the invited email already has a login (show Login rather than Register).
    pub has_login: Option<bool>,
}

/// A kind of email a panel sends, for notification routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    General,
    Domain,
    Invoice,
    Product,
    Support,
    Affiliate,
}

impl NotifyKind {
    pub const ALL: [NotifyKind; 6] = [
        NotifyKind::General,
        NotifyKind::Domain,
        NotifyKind::Invoice,
        NotifyKind::Product,
        NotifyKind::Support,
        NotifyKind::Affiliate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::General => "general",
            NotifyKind::Domain => "domain",
            NotifyKind::Invoice => "invoice",
            NotifyKind::Product => "product",
            NotifyKind::Support => "support",
            NotifyKind::Affiliate => "affiliate",
        }
    }

    /// Parses one kind (`product` also accepts `service`), refusing unknown names with the valid list.
    pub fn parse(s: &str) -> Result<NotifyKind> {
        let t = s.trim().to_ascii_lowercase();
        NotifyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .or((t == "service").then_some(NotifyKind::Product))
            .ok_or_else(|| Error::InvalidArgument {
                field: "notification kind",
                message: format!(
                    "{s:?} is not one of: {}",
                    NotifyKind::ALL.map(NotifyKind::as_str).join(", ")
                ),
            })
    }

    /// Parses a comma-separated list (empty = none), sorted and deduplicated.
    pub fn parse_csv(s: &str) -> Result<Vec<NotifyKind>> {
        let mut v = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(NotifyKind::parse)
            .collect::<Result<Vec<_>>>()?;
        v.sort();
        v.dedup();
        Ok(v)
    }

    pub(crate) fn parse_list(s: &str) -> Vec<NotifyKind> {
        NotifyKind::parse_csv(s).unwrap_or_default()
    }

    pub(crate) fn list_text(kinds: &[NotifyKind]) -> String {
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A contact of an account (someone who receives emails but need not have a login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub account_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub phone: String,
    pub company: String,
    /// The login this contact is linked to, if any.
    pub user: Option<Email>,
    /// The kinds of email this contact receives.
    pub notify: Vec<NotifyKind>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Fields of a contact to add or change; `None` leaves a field as it is (or empty when adding).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// Email of a login to link; an empty string unlinks.
    pub user: Option<String>,
    /// Kinds of email, e.g. `["invoice", "domain"]`.
    pub notify: Option<Vec<String>>,
}

/// One address that should receive a kind of email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub email: Email,
    pub name: String,
    /// `owner`, `member` or `contact`.
    pub source: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalize_and_validate() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
        assert_eq!(
            Email::parse("a.b+tag@sub.example.co.uk").unwrap().domain(),
            "sub.example.co.uk"
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "al ice@example.com",
            "alice@@example.com",
            ".alice@example.com",
            "alice.@example.com",
            "a..b@example.com",
            "alice@-example.com",
            "alice@example..com",
            "alicé@example.com",
            "alice@exa_mple.com",
            "a\0b@example.com",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(Error::InvalidEmail(_))),
                "{bad:?} accepted"
            );
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }

    #[test]
    fn permissions_cover_and_serialize() {
        let some = Permissions::Keys(["invoices".to_string(), "tickets".to_string()].into());
        let one = Permissions::Keys(["tickets".to_string()].into());
        assert!(Permissions::All.covers(&some));
        assert!(some.covers(&one));
        assert!(!one.covers(&some));
        assert!(!some.covers(&Permissions::All));
        assert!(Permissions::All.allows("anything"));
        assert!(!one.allows("invoices"));
        assert_eq!(serde_json::to_string(&Permissions::All).unwrap(), "\"all\"");
        assert_eq!(
            serde_json::to_string(&some).unwrap(),
            "[\"invoices\",\"tickets\"]"
        );
        let (all, text) = some.to_db();
        assert_eq!(Permissions::from_db(all, &text), some);
        assert_eq!(Permissions::from_db(true, ""), Permissions::All);
    }
}
