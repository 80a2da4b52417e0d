//! What an issued invite is sent as: its signed token, its link and the email text.

use super::Engine;
use crate::clock::format_rfc3339;
use crate::error::Result;
use crate::model::*;
use crate::token::Claims;

impl Engine {
    /// Builds the token, link and email for an invite row just written.
    pub(super) fn issue(
        &self,
        invite: Invite,
        acct: &Account,
        now: i64,
        nonce: [u8; 16],
    ) -> Result<IssuedInvite> {
        let claims = Claims {
            key_id: String::new(),
            invite_id: invite.id as u64,
            issued_at: now,
            expires_at: invite.expires_at,
            nonce,
            account_id: invite.account_id.clone(),
        };
        let token = self.keyring.sign(&claims)?;
        let link = self.cfg.link_for(&token);
        let email = EmailMessage {
            to: invite.email.to_string(),
            subject: format!("{} has invited you to their account", acct.name),
            body: format!(
                "Hello,\n\n{inviter} has invited you to help manage the account \"{name}\".\n\n\
                 Permissions: {perms}\n\n\
                 To accept, open this link and log in, or register if you do not have a login yet:\n\n{link}\n\n\
                 This invitation expires at {expires} (UTC). If you were not expecting it, you can ignore this email.\n",
                inviter = invite.invited_by,
                name = acct.name,
                perms = self.describe(&invite.permissions),
                expires = format_rfc3339(invite.expires_at),
            ),
        };
        Ok(IssuedInvite {
            invite,
            token,
            link,
            email,
        })
    }

    /// Human labels of a permission set.
    pub fn describe(&self, p: &Permissions) -> String {
        match p {
            Permissions::All => "All Permissions".into(),
            Permissions::Keys(keys) => self
                .catalogue
                .defs()
                .iter()
                .filter(|d| keys.contains(&d.key))
                .map(|d| d.label.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}
