//! Using an invite link: judging it (the one place a link's reason comes from), inspecting it,
//! accepting it as an existing login or by registering one, and declining it.

use super::access::require_user;
use super::{audit, check_name, events, user_summary, Engine};
use crate::clock::format_rfc3339;
use crate::error::{Error, Result, TokenReason};
use crate::hooks::events::newcomer;
use crate::hooks::Action;
use crate::model::*;
use crate::store::{self, InviteRow, Sql};
use crate::token::{self, Claims};

/// A genuine token, the invite row it names (if any), and whether it can be used now.
struct Judgement {
    claims: Claims,
    row: Option<InviteRow>,
    verdict: Result<()>,
}

impl Engine {
    /// Judges a token, or a whole link, in the order of `docs/token-format.md` §4 then §8: the
    /// link and the token's structure and signature (an error: no claims can be trusted), then
    /// the token's own time window, then the invite row it names. Every operation that takes a
    /// link comes through here, so a link has the same reason in `inspect`, `accept`,
    /// `accept_register` and `decline` as in an offline verifier, whenever the token alone is
    /// enough to refuse it.
    fn judge(&self, c: &dyn Sql, token_or_link: &str, now: i64) -> Result<Judgement> {
        let t = token::extract_token(token_or_link)?;
        let claims = self.keyring.verify_signature(t)?;
        let row = match i64::try_from(claims.invite_id) {
            Ok(id) => store::invite_get(c, id, now)?,
            Err(_) => None,
        };
        let verdict = match claims.check_time(now, self.cfg.clock_skew) {
            Err(Error::Token {
                reason: TokenReason::Expired,
                message,
            }) => Err(Error::token(
                TokenReason::Expired,
                format!("{message}; ask the account owner to resend it"),
            )),
            Err(e) => Err(e),
            Ok(()) => Self::usable(&claims, row.as_ref(), now),
        };
        Ok(Judgement {
            claims,
            row,
            verdict,
        })
    }

    /// Locks the account of the invite a genuine link names, before the write that uses the
    /// link reads the invite (see [`store::lock_account`]). A link that does not verify locks
    /// nothing: judging it refuses it next.
    fn lock_link(&self, tx: &dyn Sql, token_or_link: &str) -> Result<()> {
        if tx.backend() == store::Backend::Sqlite {
            return Ok(());
        }
        let Ok(t) = token::extract_token(token_or_link) else {
            return Ok(());
        };
        if let Ok(claims) = self.keyring.verify_signature(t) {
            if let Ok(id) = i64::try_from(claims.invite_id) {
                store::lock_invite_account(tx, id)?;
            }
        }
        Ok(())
    }

    /// The claims and invite row of a token that can be used now, or why it cannot.
    fn resolve(&self, c: &dyn Sql, token_or_link: &str, now: i64) -> Result<(Claims, InviteRow)> {
        let Judgement {
            claims,
            row,
            verdict,
        } = self.judge(c, token_or_link, now)?;
        verdict?;
        let row = row.ok_or_else(|| Error::Internal("a usable token without its invite".into()))?;
        Ok((claims, row))
    }

    /// Why the invite row a genuine, in-time token names cannot be used now, if it cannot.
    fn usable(claims: &Claims, row: Option<&InviteRow>, now: i64) -> Result<()> {
        let row = row.ok_or_else(|| {
            Error::token(
                TokenReason::UnknownInvite,
                format!("invite {} does not exist", claims.invite_id),
            )
        })?;
        let id = row.invite.id;
        if row.invite.account_id != claims.account_id {
            return Err(Error::token(
                TokenReason::WrongAccount,
                format!(
                    "the link names account {:?} but invite {id} belongs to another account",
                    claims.account_id
                ),
            ));
        }
        if claims.nonce_hash() != row.token_hash {
            return Err(Error::token(
                TokenReason::Superseded,
                format!("invite {id} was sent again; use the newest link"),
            ));
        }
        match row.stored_status {
            InviteStatus::Accepted => {
                return Err(Error::token(
                    TokenReason::AlreadyUsed,
                    format!("invite {id} has already been accepted"),
                ))
            }
            InviteStatus::Cancelled => {
                return Err(Error::token(
                    TokenReason::Cancelled,
                    format!("invite {id} was cancelled by the account owner"),
                ))
            }
            InviteStatus::Declined => {
                return Err(Error::token(
                    TokenReason::Declined,
                    format!("invite {id} was declined"),
                ))
            }
            InviteStatus::Pending | InviteStatus::Expired => {}
        }
        // The token's own expiry was checked first; the row may end the invite earlier.
        if row.invite.status == InviteStatus::Expired || now >= row.invite.expires_at {
            return Err(Error::token(
                TokenReason::Expired,
                format!(
                    "invite {id} expired at {}; ask the account owner to resend it",
                    format_rfc3339(row.invite.expires_at.min(claims.expires_at))
                ),
            ));
        }
        Ok(())
    }

    /// Tells what a token or link is for, and whether it can be used, without consuming it.
    ///
    /// The reason is the one every other operation would give. The invite's details are shown
    /// only when the link names an invite row of its own account (never for `wrong_account`, or
    /// a token that is expired and names another account's invite).
    pub fn inspect(&self, token_or_link: &str) -> Result<Inspection> {
        let now = self.now();
        let mut store = self.store();
        let bare = |valid, reason, message| Inspection {
            valid,
            reason,
            message,
            invite_id: None,
            account_id: None,
            account_name: None,
            invited_by: None,
            email: None,
            permissions: None,
            expires_at: None,
            has_login: None,
        };
        store.read(|tx| {
            let Judgement {
                claims,
                row,
                verdict,
            } = match self.judge(tx, token_or_link, now) {
                Ok(j) => j,
                Err(e @ Error::Token { .. }) => {
                    return Ok(bare(false, reason_of(&e), Some(e.to_string())))
                }
                Err(e) => return Err(e),
            };
            let (valid, reason, message) = match &verdict {
                Ok(()) => (true, None, None),
                Err(e @ Error::Token { .. }) => (false, reason_of(e), Some(e.to_string())),
                Err(e) => return Err(Error::Internal(e.to_string())),
            };
            let row = match row {
                Some(r) if r.invite.account_id == claims.account_id => r,
                _ => return Ok(bare(valid, reason, message)),
            };
            let acct = store::account_get(tx, &row.invite.account_id)?.map(|(a, _)| a);
            let has_login = store::user_by_email(tx, &row.invite.email)?.is_some();
            Ok(Inspection {
                valid,
                reason,
                message,
                invite_id: Some(row.invite.id),
                account_id: Some(row.invite.account_id.clone()),
                account_name: acct.map(|a| a.name),
                invited_by: Some(row.invite.invited_by.clone()),
                email: Some(row.invite.email.clone()),
                permissions: Some(row.invite.permissions.clone()),
                expires_at: Some(row.invite.expires_at),
                has_login: Some(has_login),
            })
        })
    }

    /// Accepts an invite as an existing login. Single use: of concurrent accepts exactly one wins.
    pub fn accept(&self, token_or_link: &str, user_email: &str) -> Result<Member> {
        let email = Email::parse(user_email)?;
        let now = self.now();
        self.before_hook(Action::Accept, now, |tx| {
            let (_, row, _) = self.accept_check(tx, token_or_link, &email, now)?;
            let me = events::person(tx, Some(&row.invite.account_id), &email)?;
            events::accept_event(tx, &row.invite, me, false, now)
        })?;
        let mut accepted = None;
        let member = self.store().write(|tx| {
            self.lock_link(tx, token_or_link)?;
            let (claims, row, user) = self.accept_check(tx, token_or_link, &email, now)?;
            accepted = Some(row.invite.clone());
            self.join(tx, &claims, &row, &user, now)
        })?;
        self.after_hook(Action::Accept, now, |tx| {
            events::accepted_event(tx, &member, accepted.as_ref(), false, now)
        });
        Ok(member)
    }

    /// Accepts an invite by registering a new login.
    pub fn accept_register(&self, token_or_link: &str, email: &str, name: &str) -> Result<Member> {
        let email = Email::parse(email)?;
        let name = check_name("user name", name, true)?;
        let now = self.now();
        self.before_hook(Action::Accept, now, |tx| {
            let (_, row) = self.register_check(tx, token_or_link, &email, now)?;
            events::accept_event(tx, &row.invite, newcomer(&email, &name), true, now)
        })?;
        let mut accepted = None;
        let member = self.store().write(|tx| {
            self.lock_link(tx, token_or_link)?;
            let (claims, row) = self.register_check(tx, token_or_link, &email, now)?;
            let user = store::user_insert(tx, &email, &name, false, now)?;
            audit(
                tx,
                now,
                email.as_str(),
                None,
                "user.create",
                Some(email.as_str()),
                None,
                Some(user_summary(&user)),
            )?;
            accepted = Some(row.invite.clone());
            self.join(tx, &claims, &row, &user, now)
        })?;
        self.after_hook(Action::Accept, now, |tx| {
            events::accepted_event(tx, &member, accepted.as_ref(), true, now)
        });
        Ok(member)
    }

    /// The rule of `accept_register`, checked for its before-hook and again in its
    /// transaction: the link can be used now, by `email` (the invited one, with `bind_email`),
    /// for which no login exists yet.
    fn register_check(
        &self,
        tx: &dyn Sql,
        token_or_link: &str,
        email: &Email,
        now: i64,
    ) -> Result<(Claims, InviteRow)> {
        let (claims, row) = self.resolve(tx, token_or_link, now)?;
        self.check_bound(&row, email)?;
        if store::user_by_email(tx, email)?.is_some() {
            return Err(Error::UserExists(email.to_string()));
        }
        Ok((claims, row))
    }

    /// The rule of `accept`, checked for its before-hook and again in its transaction: the link
    /// can be used now, by this login (the invited one, with `bind_email`), which exists.
    fn accept_check(
        &self,
        tx: &dyn Sql,
        token_or_link: &str,
        email: &Email,
        now: i64,
    ) -> Result<(Claims, InviteRow, User)> {
        let (claims, row) = self.resolve(tx, token_or_link, now)?;
        self.check_bound(&row, email)?;
        let user = require_user(tx, email)?;
        Ok((claims, row, user))
    }

    /// With `bind_email`, refuses an accepting login other than the invited one before anything
    /// about that login is looked up, so the answer never tells whether it exists.
    fn check_bound(&self, row: &InviteRow, email: &Email) -> Result<()> {
        if self.cfg.bind_email && email != &row.invite.email {
            return Err(Error::EmailMismatch {
                invite_id: row.invite.id,
                invited: row.invite.email.to_string(),
                actual: email.to_string(),
            });
        }
        Ok(())
    }

    /// Closes the invite as accepted by `user` and makes them a member with its permissions: the
    /// write both ways of accepting share. The caller has resolved the link and checked the
    /// login against the invite ([`Engine::check_bound`]).
    fn join(
        &self,
        tx: &dyn Sql,
        claims: &Claims,
        row: &InviteRow,
        user: &User,
        now: i64,
    ) -> Result<Member> {
        let inv = &row.invite;
        if store::membership_get(tx, &inv.account_id, user.id)?.is_some() {
            return Err(Error::AlreadyMember {
                email: user.email.to_string(),
                account: inv.account_id.clone(),
            });
        }
        if !store::invite_close(
            tx,
            inv.id,
            InviteStatus::Accepted,
            now,
            Some(user.id),
            Some(&claims.nonce_hash()),
        )? {
            return Err(Error::token(
                TokenReason::AlreadyUsed,
                format!("invite {} is no longer pending", inv.id),
            ));
        }
        let inviter = store::user_by_email(tx, &inv.invited_by)?.map(|u| u.id);
        store::membership_insert(
            tx,
            &inv.account_id,
            user.id,
            Role::Member,
            &inv.permissions,
            inviter,
            now,
        )?;
        audit(
            tx,
            now,
            user.email.as_str(),
            Some(&inv.account_id),
            "invite.accept",
            Some(user.email.as_str()),
            None,
            Some(inv.permissions.to_text()),
        )?;
        Ok(Member {
            account_id: inv.account_id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: Role::Member,
            permissions: inv.permissions.clone(),
            last_login: user.last_login,
            two_factor: user.two_factor,
            joined_at: now,
            invited_by: Some(inv.invited_by.clone()),
        })
    }

    /// Declines an invite (done by the invitee through the link).
    pub fn decline(&self, token_or_link: &str) -> Result<Invite> {
        let now = self.now();
        self.before_hook(Action::Decline, now, |tx| {
            let (_, row) = self.resolve(tx, token_or_link, now)?;
            events::invite_by(tx, &row.invite, &row.invite.email, now)
        })?;
        let declined = self.store().write(|tx| {
            self.lock_link(tx, token_or_link)?;
            let (_, row) = self.resolve(tx, token_or_link, now)?;
            let inv = row.invite;
            if !store::invite_close(tx, inv.id, InviteStatus::Declined, now, None, None)? {
                return Err(Error::InviteNotOpen {
                    invite_id: inv.id,
                    status: row.stored_status.as_str(),
                });
            }
            audit(
                tx,
                now,
                inv.email.as_str(),
                Some(&inv.account_id),
                "invite.decline",
                Some(inv.email.as_str()),
                Some("pending".into()),
                Some("declined".into()),
            )?;
            Ok(Invite {
                status: InviteStatus::Declined,
                ..inv
            })
        })?;
        self.after_hook(Action::Decline, now, |tx| {
            events::invite_by(tx, &declined, &declined.email, now)
        });
        Ok(declined)
    }
}

/// The token reason of an error, if it is about a token.
fn reason_of(e: &Error) -> Option<&'static str> {
    match e {
        Error::Token { reason, .. } => Some(reason.as_str()),
        _ => None,
    }
}
