//! The façade every front end calls: one method per operation, each one atomic transaction.

use crate::clock::{format_rfc3339, Clock, SystemClock};
use crate::config::{Config, MAX_INVITE_TTL};
use crate::error::{Error, Result};
use crate::hooks::logbook::Logbook;
use crate::hooks::{events, Action, Event, Hooks, LogCallback, LogLevel, Verdict};

mod team;
use crate::model::*;
use crate::permissions::Catalogue;
pub use crate::store::OpenMode;
use crate::store::Sql;
use crate::store::{self, AuditEntry, InviteRow, NewInvite, OpenOptions, Store};
use crate::token::{self, Claims, Keyring, TokenReason};
use std::sync::{Arc, Mutex, MutexGuard};
pub use team::USERS_KEY;

/// Longest account id, in bytes (it is carried inside invite tokens).
pub const MAX_ACCOUNT_ID_LEN: usize = token::MAX_ACCOUNT_ID_LEN;
/// Longest account or user name, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// A genuine token, the invite row it names (if any), and whether it can be used now.
struct Judgement {
    claims: Claims,
    row: Option<InviteRow>,
    verdict: Result<()>,
}

/// An open Cohort database with its configuration and keys.
///
/// `Engine` is `Send + Sync`: threads may share one engine (calls are serialized on its single
/// connection), or open one engine each for parallel reads. Several processes may open the
/// same database; SQLite's locking keeps their writes atomic and isolated.
pub struct Engine {
    cfg: Config,
    keyring: Keyring,
    catalogue: Catalogue,
    clock: Arc<dyn Clock>,
    store: Mutex<Store>,
    /// Lua hook scripts; `None` (no cost at all) when no `[hooks]` directory is configured.
    hooks: Option<Hooks>,
    /// Where the records of hooks go (the `[log]` section and a host's logger).
    log: Arc<Logbook>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("database", &self.cfg.database)
            .field("keyring", &self.keyring)
            .finish()
    }
}

/// How many audit entries a view returns when the caller names no limit (or 0).
pub const DEFAULT_AUDIT_LIMIT: u32 = 100;

/// The limit an audit view uses: `limit`, or [`DEFAULT_AUDIT_LIMIT`] for 0.
pub(crate) fn audit_limit(limit: u32) -> u32 {
    if limit == 0 {
        DEFAULT_AUDIT_LIMIT
    } else {
        limit
    }
}

/// Who acts when the panel itself (not a person) makes a change.
pub const PANEL_ACTOR: &str = "panel";
/// Who acts for scheduled work such as expiring invites.
pub const SYSTEM_ACTOR: &str = "system";

impl Engine {
    /// Opens the engine described by a config file.
    pub fn open_path(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        Engine::open(Config::load(path)?)
    }

    /// Opens an engine with the system clock. The database must exist (see [`Engine::create`]).
    pub fn open(cfg: Config) -> Result<Engine> {
        Engine::open_with_clock(cfg, Arc::new(SystemClock))
    }

    /// Opens an engine, creating its database first when the path does not exist yet: for
    /// `cohort init` and a panel's installer. An existing database is opened as by
    /// [`Engine::open`]; an existing empty file is refused all the same.
    pub fn create(cfg: Config) -> Result<Engine> {
        let keyring = cfg.load_keyring()?;
        Engine::open_full(cfg, keyring, Arc::new(SystemClock), OpenMode::Create)
    }

    /// [`Engine::create`] with a given clock (tests, demos).
    pub fn create_with_clock(cfg: Config, clock: Arc<dyn Clock>) -> Result<Engine> {
        let keyring = cfg.load_keyring()?;
        Engine::open_full(cfg, keyring, clock, OpenMode::Create)
    }

    /// [`Engine::create`] for a config file.
    pub fn create_path(path: impl AsRef<std::path::Path>) -> Result<Engine> {
        Engine::create(Config::load(path)?)
    }

    /// Opens an engine with a given clock (tests, demos).
    pub fn open_with_clock(cfg: Config, clock: Arc<dyn Clock>) -> Result<Engine> {
        let keyring = cfg.load_keyring()?;
        Engine::open_with_keyring(cfg, keyring, clock)
    }

    /// Opens an engine with an explicit keyring (the config's key settings are not read).
    pub fn open_with_keyring(
        cfg: Config,
        keyring: Keyring,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine> {
        Engine::open_full(cfg, keyring, clock, OpenMode::Existing)
    }

    /// Every way of opening ends here: `mode` says whether a missing database is created.
    pub fn open_full(
        cfg: Config,
        keyring: Keyring,
        clock: Arc<dyn Clock>,
        mode: OpenMode,
    ) -> Result<Engine> {
        if keyring.current().is_none() {
            return Err(Error::Key {
                key: "(none)".into(),
                message: "the keyring has no current key".into(),
            });
        }
        // Checked here too for a `Config` built in code: every verifier refuses a larger skew.
        token::check_skew(cfg.clock_skew)
            .map_err(|_| Error::config("clock_skew", "must be at most 1h"))?;
        let catalogue = Catalogue::with_extra(&cfg.permissions)?;
        let log = Arc::new(Logbook::open(cfg.log.as_ref())?);
        let hooks = match &cfg.hooks {
            Some(h) => Some(Hooks::with_log(h.clone(), catalogue.keys(), log.clone())?),
            None => None,
        };
        let store = Store::open(
            &cfg.database,
            OpenOptions {
                mode,
                synchronous: cfg.synchronous,
                busy_timeout_ms: cfg.busy_timeout_ms,
                file_mode: cfg.database_file_mode,
            },
        )?;
        Ok(Engine {
            cfg,
            keyring,
            catalogue,
            clock,
            store: Mutex::new(store),
            hooks,
            log,
        })
    }

    /// Sets the host's logger: `logger` receives every record of hooks at `level` or more
    /// severe (lines scripts log, failing after-handlers, scripts that do not load), besides
    /// the `[log]` destinations. `None` removes it.
    ///
    /// The logger is called on the thread of the operation that made the record, from within
    /// that call on this engine, after the scripts have run (outside the VM's lock and the
    /// deadline); never by two threads at once, and never again once this returns with another
    /// logger. Records of calls the logger itself makes on the engine do not reach it, and it
    /// cannot replace itself (that is an [`Error::InvalidArgument`]). A panic in it is caught
    /// and loses that record only.
    pub fn set_logger(&self, level: LogLevel, logger: Option<LogCallback>) -> Result<()> {
        self.log.set_callback(level, logger)
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a transaction half-applied (rusqlite rolls
        // back on drop), so a poisoned lock is safe to keep using.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who acts: the login named, or, when none is, the owner of `account` (what an admin tool
    /// such as the `cohort` CLI means when `--by` is left out). The account must exist.
    pub fn actor_or_owner(&self, account: &str, actor: Option<&str>) -> Result<String> {
        match actor {
            Some(a) => Ok(a.to_string()),
            None => Ok(self.account(account)?.owner.to_string()),
        }
    }

    /// Whether `check` validates its memo through the WAL-index header SQLite has mapped (see
    /// [`store::Store::watches_wal_index`]).
    pub fn check_memo_watches_wal_index(&self) -> bool {
        self.store().watches_wal_index()
    }

    /// Every row of every table, for tests that prove a refused call changed nothing.
    pub fn dump(&self) -> Result<Vec<String>> {
        self.store().read(store::dump)
    }

    // ---------- accounts and users ----------

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
        self.store()
            .read(|c| store::account_get(c, id))?
            .map(|(a, _)| a)
            .ok_or_else(|| Error::not_found("account", id))
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
        self.store()
            .read(|c| store::user_by_email(c, &email))?
            .ok_or_else(|| Error::not_found("user", email))
    }

    /// Records that the panel logged this user in (sets Last Login).
    pub fn record_login(&self, email: &str) -> Result<User> {
        let email = Email::parse(email)?;
        let now = self.now();
        self.before_hook(Action::Login, now, |tx| {
            store::user_by_email(tx, &email)?.ok_or_else(|| Error::not_found("user", &email))?;
            let me = events::person(tx, None, &email)?;
            Ok(serde_json::json!({"account": null, "actor": me, "user": me, "email": email.as_str()}))
        })?;
        let user = self.store().write(|tx| {
            store::lock_user(tx, &email)?;
            let mut u = store::user_by_email(tx, &email)?
                .ok_or_else(|| Error::not_found("user", &email))?;
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
        self.after_hook(Action::Login, now, |tx| {
            let me = events::person(tx, None, &email)?;
            Ok(serde_json::json!({"account": null, "actor": me, "user": me, "email": email.as_str()}))
        });
        Ok(user)
    }

    // ---------- invites ----------

    /// Invites `email` to `account` with `permissions`, valid for `ttl` seconds (default from config).
    pub fn invite(
        &self,
        actor: &str,
        account: &str,
        email: &str,
        permissions: &Permissions,
        ttl: Option<i64>,
    ) -> Result<IssuedInvite> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(email)?;
        self.catalogue.validate(permissions)?;
        let ttl = self.check_ttl(ttl)?;
        let now = self.now();
        let verdict = self.before_hook(Action::Invite, now, |tx| {
            self.require_manager(tx, &actor, account)?
                .may_grant(permissions)?;
            invite_event(tx, account, &actor, &email, permissions, now, ttl, None)
        })?;
        let permissions = verdict.permissions.as_ref().unwrap_or(permissions);
        let ttl = verdict.expires_at.map_or(ttl, |e| e - now);
        let nonce = token::random_nonce()?;
        let hash = token::nonce_hash(&nonce);
        let max_pending = self.cfg.max_pending_invites;
        let (invite, acct) = self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let manager = self.require_manager(tx, &actor, account)?;
            manager.may_grant(permissions)?;
            if store::membership_by_email(tx, account, email.as_str())?.is_some() {
                return Err(Error::AlreadyMember {
                    email: email.to_string(),
                    account: account.into(),
                });
            }
            if let Some(open) = store::invite_open_for(tx, account, &email, now)? {
                return Err(Error::PendingInviteExists {
                    invite_id: open.id,
                    email: email.to_string(),
                    account: account.into(),
                });
            }
            if store::pending_count(tx, account, now)? >= i64::from(max_pending) {
                return Err(Error::PendingCapReached {
                    account: account.into(),
                    cap: max_pending,
                });
            }
            self.rate_limit(tx, account, &actor, now)?;
            let id = store::invite_insert(
                tx,
                &NewInvite {
                    account,
                    email: &email,
                    permissions,
                    invited_by: manager.actor_id,
                    now,
                    expires_at: now + ttl,
                    token_hash: &hash,
                },
            )?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "invite.create",
                Some(email.as_str()),
                None,
                Some(permissions.to_text()),
            )?;
            // The row as just written (no need to read it back).
            let invite = Invite {
                id,
                account_id: account.to_string(),
                email: email.clone(),
                permissions: permissions.clone(),
                invited_by: actor.clone(),
                created_at: now,
                expires_at: now + ttl,
                status: InviteStatus::Pending,
                times_sent: 1,
                last_sent_at: now,
                accepted_by: None,
            };
            Ok((invite, manager.account))
        })?;
        let issued = self.issue(invite, &acct, now, nonce)?;
        self.after_hook(Action::Invite, now, |tx| {
            let i = &issued.invite;
            invite_event(
                tx,
                account,
                &actor,
                &email,
                &i.permissions,
                now,
                i.expires_at - now,
                Some(i),
            )
        });
        Ok(issued)
    }

    /// Builds the token, link and email for an invite row just written.
    fn issue(
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

    /// Open invites of an account (pending and expired), newest first. Overdue invites read as expired.
    pub fn pending(&self, account: &str) -> Result<Vec<Invite>> {
        let now = self.now();
        self.store().read(|tx| {
            require_account(tx, account)?;
            store::invites_open(tx, account, now)
        })
    }

    /// One invite by id.
    pub fn invite_by_id(&self, id: i64) -> Result<Invite> {
        let now = self.now();
        self.store()
            .read(|c| store::invite_get(c, id, now))?
            .map(|r| r.invite)
            .ok_or_else(|| Error::not_found("invite", id))
    }

    /// Sends an open (pending or expired) invite again: new link, fresh expiry; the old link stops working.
    pub fn resend(&self, actor: &str, invite_id: i64, ttl: Option<i64>) -> Result<IssuedInvite> {
        let actor = Email::parse(actor)?;
        let ttl = self.check_ttl(ttl)?;
        let now = self.now();
        self.before_hook(Action::Resend, now, |tx| {
            let row = store::invite_get(tx, invite_id, now)?
                .ok_or_else(|| Error::not_found("invite", invite_id))?;
            self.require_manager(tx, &actor, &row.invite.account_id)?
                .may_grant(&row.invite.permissions)?;
            let mut ev = events::about_invite(
                tx,
                &row.invite,
                events::person(tx, Some(&row.invite.account_id), &actor)?,
                now,
            )?;
            ev["previous_status"] = row.invite.status.as_str().into();
            ev["expires_at"] = (now + ttl).into();
            ev["ttl"] = ttl.into();
            Ok(ev)
        })?;
        let nonce = token::random_nonce()?;
        let hash = token::nonce_hash(&nonce);
        let (invite, acct) = self.store().write(|tx| {
            store::lock_invite_account(tx, invite_id)?;
            let row = store::invite_get(tx, invite_id, now)?
                .ok_or_else(|| Error::not_found("invite", invite_id))?;
            let manager = self.require_manager(tx, &actor, &row.invite.account_id)?;
            manager.may_grant(&row.invite.permissions)?;
            let acct = manager.account.clone();
            if !matches!(
                row.stored_status,
                InviteStatus::Pending | InviteStatus::Expired
            ) {
                return Err(Error::InviteNotOpen {
                    invite_id,
                    status: row.stored_status.as_str(),
                });
            }
            if let Some(u) = store::user_by_email(tx, &row.invite.email)? {
                if store::membership_get(tx, &acct.id, u.id)?.is_some() {
                    return Err(Error::AlreadyMember {
                        email: row.invite.email.to_string(),
                        account: acct.id.clone(),
                    });
                }
            }
            self.rate_limit(tx, &acct.id, &actor, now)?;
            if !store::invite_renew(tx, invite_id, now, now + ttl, &hash)? {
                return Err(Error::InviteNotOpen {
                    invite_id,
                    status: row.stored_status.as_str(),
                });
            }
            audit(
                tx,
                now,
                actor.as_str(),
                Some(&acct.id),
                "invite.resend",
                Some(row.invite.email.as_str()),
                Some(format!(
                    "{} expires {}",
                    row.invite.status.as_str(),
                    format_rfc3339(row.invite.expires_at)
                )),
                Some(format!("pending expires {}", format_rfc3339(now + ttl))),
            )?;
            let fresh = store::invite_get(tx, invite_id, now)?
                .ok_or_else(|| Error::Internal("invite vanished".into()))?;
            Ok((fresh.invite, acct))
        })?;
        let issued = self.issue(invite, &acct, now, nonce)?;
        self.after_hook(Action::Resend, now, |tx| {
            let i = &issued.invite;
            events::about_invite(tx, i, events::person(tx, Some(&i.account_id), &actor)?, now)
        });
        Ok(issued)
    }

    /// Withdraws an open invite; its link stops working.
    pub fn cancel(&self, actor: &str, invite_id: i64) -> Result<Invite> {
        let actor = Email::parse(actor)?;
        let now = self.now();
        self.before_hook(Action::Cancel, now, |tx| {
            let row = store::invite_get(tx, invite_id, now)?
                .ok_or_else(|| Error::not_found("invite", invite_id))?;
            self.require_manager(tx, &actor, &row.invite.account_id)?
                .may_grant(&row.invite.permissions)?;
            events::about_invite(
                tx,
                &row.invite,
                events::person(tx, Some(&row.invite.account_id), &actor)?,
                now,
            )
        })?;
        let cancelled = self.store().write(|tx| {
            store::lock_invite_account(tx, invite_id)?;
            let row = store::invite_get(tx, invite_id, now)?
                .ok_or_else(|| Error::not_found("invite", invite_id))?;
            self.require_manager(tx, &actor, &row.invite.account_id)?
                .may_grant(&row.invite.permissions)?;
            if !store::invite_close(tx, invite_id, InviteStatus::Cancelled, now, None, None)? {
                return Err(Error::InviteNotOpen {
                    invite_id,
                    status: row.stored_status.as_str(),
                });
            }
            audit(
                tx,
                now,
                actor.as_str(),
                Some(&row.invite.account_id),
                "invite.cancel",
                Some(row.invite.email.as_str()),
                Some(row.invite.status.as_str().into()),
                Some("cancelled".into()),
            )?;
            Ok(Invite {
                status: InviteStatus::Cancelled,
                ..row.invite
            })
        })?;
        self.after_hook(Action::Cancel, now, |tx| {
            let actor = events::person(tx, Some(&cancelled.account_id), &actor)?;
            events::about_invite(tx, &cancelled, actor, now)
        });
        Ok(cancelled)
    }

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
            let (_, row) = self.resolve(tx, token_or_link, now)?;
            self.check_bound(&row, &email)?;
            store::user_by_email(tx, &email)?.ok_or_else(|| Error::not_found("user", &email))?;
            let me = events::person(tx, Some(&row.invite.account_id), &email)?;
            let mut ev = events::about_invite(tx, &row.invite, me.clone(), now)?;
            ev["user"] = me;
            ev["registering"] = false.into();
            Ok(ev)
        })?;
        let mut accepted = None;
        let member = self.store().write(|tx| {
            self.lock_link(tx, token_or_link)?;
            let (claims, row) = self.resolve(tx, token_or_link, now)?;
            self.check_bound(&row, &email)?;
            let user = store::user_by_email(tx, &email)?
                .ok_or_else(|| Error::not_found("user", &email))?;
            accepted = Some(row.invite.clone());
            self.join(tx, &claims, &row, &user, now)
        })?;
        self.after_hook(Action::Accept, now, |tx| {
            accepted_event(tx, &member, accepted.as_ref(), false, now)
        });
        Ok(member)
    }

    /// Accepts an invite by registering a new login.
    pub fn accept_register(&self, token_or_link: &str, email: &str, name: &str) -> Result<Member> {
        let email = Email::parse(email)?;
        let name = check_name("user name", name, true)?;
        let now = self.now();
        self.before_hook(Action::Accept, now, |tx| {
            let (_, row) = self.resolve(tx, token_or_link, now)?;
            let me = events::newcomer(&email, &name);
            let mut ev = events::about_invite(tx, &row.invite, me.clone(), now)?;
            ev["user"] = me;
            ev["registering"] = true.into();
            Ok(ev)
        })?;
        let mut accepted = None;
        let member = self.store().write(|tx| {
            self.lock_link(tx, token_or_link)?;
            let (claims, row) = self.resolve(tx, token_or_link, now)?;
            if self.cfg.bind_email && email != row.invite.email {
                return Err(Error::EmailMismatch {
                    invite_id: row.invite.id,
                    invited: row.invite.email.to_string(),
                    actual: email.to_string(),
                });
            }
            if store::user_by_email(tx, &email)?.is_some() {
                return Err(Error::UserExists(email.to_string()));
            }
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
            accepted_event(tx, &member, accepted.as_ref(), true, now)
        });
        Ok(member)
    }

    fn join(
        &self,
        tx: &dyn Sql,
        claims: &Claims,
        row: &InviteRow,
        user: &User,
        now: i64,
    ) -> Result<Member> {
        let inv = &row.invite;
        if self.cfg.bind_email && user.email != inv.email {
            return Err(Error::EmailMismatch {
                invite_id: inv.id,
                invited: inv.email.to_string(),
                actual: user.email.to_string(),
            });
        }
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
            let me = events::person(tx, Some(&row.invite.account_id), &row.invite.email)?;
            events::about_invite(tx, &row.invite, me, now)
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
            let me = events::person(tx, Some(&declined.account_id), &declined.email)?;
            events::about_invite(tx, &declined, me, now)
        });
        Ok(declined)
    }

    /// Marks every overdue pending invite expired; returns how many.
    pub fn expire_due(&self) -> Result<usize> {
        let now = self.now();
        if self.hook_wants(Event::before(Action::Expire))
            || self.hook_wants(Event::after(Action::Expire))
        {
            return self.expire_due_hooked(now);
        }
        self.store().write(|tx| {
            let due = store::invites_expire_due(tx, now)?;
            for (id, account, email) in &due {
                audit(
                    tx,
                    now,
                    SYSTEM_ACTOR,
                    Some(account),
                    "invite.expire",
                    Some(email),
                    Some(format!("invite {id} pending")),
                    Some("expired".into()),
                )?;
            }
            Ok(due.len())
        })
    }

    // ---------- members ----------

    /// The User Management table: owner first, then members by join date.
    pub fn members(&self, account: &str) -> Result<Vec<Member>> {
        self.store().read(|tx| {
            require_account(tx, account)?;
            store::members(tx, account)
        })
    }

    /// The accounts a login can switch between, with its role on each.
    pub fn accounts_of(&self, email: &str) -> Result<Vec<AccountRole>> {
        let email = Email::parse(email)?;
        self.store().read(|tx| {
            let u = store::user_by_email(tx, &email)?
                .ok_or_else(|| Error::not_found("user", &email))?;
            store::accounts_of(tx, u.id)
        })
    }

    /// Replaces a member's permissions. Refused on the owner.
    pub fn set_permissions(
        &self,
        actor: &str,
        account: &str,
        user_email: &str,
        permissions: &Permissions,
    ) -> Result<Member> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(user_email)?;
        self.catalogue.validate(permissions)?;
        let now = self.now();
        self.before_hook(Action::Permissions, now, |tx| {
            let manager = self.require_manager(tx, &actor, account)?;
            let (_, role, old) = require_member(tx, account, &email)?;
            manager.may_change(&email, role, &old, Some(permissions))?;
            if role == Role::Owner {
                return Err(Error::OwnerProtected {
                    email: email.to_string(),
                    account: account.into(),
                    action: "changing permissions",
                });
            }
            let mut ev = member_event(tx, account, &actor, &email, now)?;
            ev["old_permissions"] = events::permissions(&old);
            ev["permissions"] = events::permissions(permissions);
            Ok(ev)
        })?;
        let member = self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let manager = self.require_manager(tx, &actor, account)?;
            let (user, role, old) = require_member(tx, account, &email)?;
            manager.may_change(&email, role, &old, Some(permissions))?;
            if role == Role::Owner {
                return Err(Error::OwnerProtected {
                    email: email.to_string(),
                    account: account.into(),
                    action: "changing permissions",
                });
            }
            if &old != permissions {
                store::membership_update(tx, account, user.id, Role::Member, permissions)?;
                audit(
                    tx,
                    now,
                    actor.as_str(),
                    Some(account),
                    "member.permissions",
                    Some(email.as_str()),
                    Some(old.to_text()),
                    Some(permissions.to_text()),
                )?;
            }
            store::members(tx, account)?
                .into_iter()
                .find(|m| m.email == email)
                .ok_or_else(|| Error::Internal("member vanished".into()))
        })?;
        self.after_hook(Action::Permissions, now, |tx| {
            let mut ev = member_event(tx, account, &actor, &email, now)?;
            ev["permissions"] = events::permissions(&member.permissions);
            Ok(ev)
        });
        Ok(member)
    }

    /// Removes a member's access to an account; the login and its other memberships remain.
    pub fn revoke(&self, actor: &str, account: &str, user_email: &str) -> Result<()> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(user_email)?;
        let now = self.now();
        self.before_hook(Action::Revoke, now, |tx| {
            let manager = self.require_manager(tx, &actor, account)?;
            let (_, role, old) = require_member(tx, account, &email)?;
            manager.may_change(&email, role, &old, None)?;
            if role == Role::Owner {
                return Err(Error::OwnerProtected {
                    email: email.to_string(),
                    account: account.into(),
                    action: "removing access",
                });
            }
            member_event(tx, account, &actor, &email, now)
        })?;
        let mut removed = None;
        self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let manager = self.require_manager(tx, &actor, account)?;
            let (user, role, old) = require_member(tx, account, &email)?;
            manager.may_change(&email, role, &old, None)?;
            if role == Role::Owner {
                return Err(Error::OwnerProtected {
                    email: email.to_string(),
                    account: account.into(),
                    action: "removing access",
                });
            }
            store::membership_delete(tx, account, user.id)?;
            removed = Some(old.clone());
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "member.revoke",
                Some(email.as_str()),
                Some(old.to_text()),
                None,
            )?;
            Ok(())
        })?;
        self.after_hook(Action::Revoke, now, |tx| {
            let mut ev = member_event(tx, account, &actor, &email, now)?;
            ev["permissions"] = removed
                .as_ref()
                .map_or(serde_json::Value::Null, events::permissions);
            Ok(ev)
        });
        Ok(())
    }

    /// Makes a member the owner; the previous owner stays on as a member with all permissions.
    pub fn transfer_ownership(
        &self,
        actor: &str,
        account: &str,
        new_owner: &str,
    ) -> Result<Account> {
        let actor = Email::parse(actor)?;
        let email = Email::parse(new_owner)?;
        let now = self.now();
        self.before_hook(Action::Transfer, now, |tx| {
            self.require_owner(tx, &actor, account)?;
            let (_, role, _) = require_member(tx, account, &email)?;
            if role == Role::Owner {
                return Err(Error::InvalidArgument {
                    field: "new owner",
                    message: format!("{email} already owns account {account}"),
                });
            }
            member_event(tx, account, &actor, &email, now)
        })?;
        let acct = self.store().write(|tx| {
            store::lock_account(tx, account)?;
            let (acct, owner_id) = self.require_owner(tx, &actor, account)?;
            let (user, role, _) = require_member(tx, account, &email)?;
            if role == Role::Owner {
                return Err(Error::InvalidArgument {
                    field: "new owner",
                    message: format!("{email} already owns account {account}"),
                });
            }
            store::membership_update(tx, account, owner_id, Role::Member, &Permissions::All)?;
            store::membership_update(tx, account, user.id, Role::Owner, &Permissions::All)?;
            store::account_set_owner(tx, account, user.id)?;
            audit(
                tx,
                now,
                actor.as_str(),
                Some(account),
                "account.transfer",
                Some(email.as_str()),
                Some(acct.owner.to_string()),
                Some(email.to_string()),
            )?;
            Ok(Account {
                owner: email.clone(),
                ..acct
            })
        })?;
        self.after_hook(Action::Transfer, now, |tx| {
            member_event(tx, account, &actor, &email, now)
        });
        Ok(acct)
    }

    /// Whether `user_email` holds permission `key` on `account`. The owner and members with all
    /// permissions hold every key. Unknown keys are an error (a typo in the panel must not pass
    /// silently as "denied"); unknown users or accounts simply hold nothing.
    pub fn check(&self, account: &str, user_email: &str, key: &str) -> Result<bool> {
        if !self.catalogue.contains(key) {
            return Err(Error::UnknownPermission {
                key: key.into(),
                valid: self.catalogue.keys(),
            });
        }
        // Stored emails are trimmed lower-case ASCII; anything else cannot match once normalized.
        let t = user_email.trim();
        let email: std::borrow::Cow<'_, str> = if t.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(t.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(t)
        };
        self.store().with_membership(account, &email, |m| match m {
            Some((Role::Owner, _)) => true,
            Some((Role::Member, p)) => p.allows(key),
            None => false,
        })
    }

    /// The latest `limit` audit entries of an account at or after `since`, oldest first.
    /// `limit` 0 means [`DEFAULT_AUDIT_LIMIT`].
    pub fn audit(&self, account: &str, since: i64, limit: u32) -> Result<Vec<AuditEvent>> {
        let limit = audit_limit(limit);
        self.store().read(|tx| {
            require_account(tx, account)?;
            store::audit_list(tx, account, since, limit)
        })
    }

    // ---------- helpers ----------

    fn check_ttl(&self, ttl: Option<i64>) -> Result<i64> {
        let ttl = ttl.unwrap_or(self.cfg.invite_ttl);
        if ttl <= 0 || ttl > MAX_INVITE_TTL {
            return Err(Error::InvalidArgument {
                field: "ttl",
                message: format!("{ttl} s is outside 1 s to {} s", MAX_INVITE_TTL),
            });
        }
        Ok(ttl)
    }

    /// The account, refusing unless `actor` is its owner.
    fn require_owner(&self, tx: &dyn Sql, actor: &Email, account: &str) -> Result<(Account, i64)> {
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
}

fn require_account(tx: &dyn Sql, account: &str) -> Result<Account> {
    store::account_get(tx, account)?
        .map(|(a, _)| a)
        .ok_or_else(|| Error::not_found("account", account))
}

fn require_member(tx: &dyn Sql, account: &str, email: &Email) -> Result<(User, Role, Permissions)> {
    require_account(tx, account)?;
    let user = store::user_by_email(tx, email)?.ok_or_else(|| Error::not_found("user", email))?;
    let (role, perms) =
        store::membership_get(tx, account, user.id)?.ok_or_else(|| Error::NotFound {
            what: "member",
            id: format!("{email} on account {account}"),
        })?;
    Ok((user, role, perms))
}

#[allow(clippy::too_many_arguments)]
fn audit(
    tx: &dyn Sql,
    now: i64,
    actor: &str,
    account: Option<&str>,
    action: &str,
    target: Option<&str>,
    old_value: Option<String>,
    new_value: Option<String>,
) -> Result<()> {
    store::audit_insert(
        tx,
        now,
        &AuditEntry {
            actor,
            account,
            action,
            target,
            old_value,
            new_value,
        },
    )
}

fn user_summary(u: &User) -> String {
    format!("name={:?} 2fa={}", u.name, u.two_factor)
}

fn reason_of(e: &Error) -> Option<&'static str> {
    match e {
        Error::Token { reason, .. } => Some(reason.as_str()),
        _ => None,
    }
}

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

fn check_name(field: &'static str, name: &str, may_be_empty: bool) -> Result<String> {
    let n = name.trim();
    if (!may_be_empty && n.is_empty())
        || n.chars().count() > MAX_NAME_LEN
        || n.chars().any(char::is_control)
    {
        return Err(Error::InvalidArgument {
            field,
            message: format!(
                "must be {}{MAX_NAME_LEN} characters without control characters",
                if may_be_empty { "0-" } else { "1-" }
            ),
        });
    }
    Ok(n.to_string())
}

// ---------- hooks ----------

impl Engine {
    /// Whether a hook script listens to `event`; false, at no cost, when no hooks are configured.
    fn hook_wants(&self, event: Event) -> bool {
        self.hooks.as_ref().is_some_and(|h| h.wants(event))
    }

    /// Runs the before-handlers of `action` on the data `build` reads from one snapshot (nothing
    /// is read when no script listens). `build` repeats the checks that data depends on, so
    /// hooks only see operations that could go ahead; the transaction checks again. A veto or a
    /// failing hook leaves exactly one audit entry (`hook.deny` or `hook.fail`), written in a
    /// transaction of its own, and nothing else.
    fn before_hook(
        &self,
        action: Action,
        now: i64,
        build: impl FnOnce(&dyn Sql) -> Result<serde_json::Value>,
    ) -> Result<Verdict> {
        let event = Event::before(action);
        let hooks = match &self.hooks {
            Some(h) if h.wants(event) => h,
            _ => return Ok(Verdict::default()),
        };
        let data = self.store().read(|tx| build(tx))?;
        let data = events::with_header(event, now, data);
        hooks
            .before(event, &data, now)
            .inspect_err(|e| self.record_hook_denial(event, &data, e, now))
    }

    /// Runs the after-handlers of `action` once the operation has committed. They observe only:
    /// nothing they do changes the outcome, and their failures are logged.
    fn after_hook(
        &self,
        action: Action,
        now: i64,
        build: impl FnOnce(&dyn Sql) -> Result<serde_json::Value>,
    ) {
        let event = Event::after(action);
        let hooks = match &self.hooks {
            Some(h) if h.wants(event) => h,
            _ => return,
        };
        let data = self.store().read(|tx| build(tx));
        match data {
            Ok(data) => hooks.after(event, &events::with_header(event, now, data), now),
            Err(e) => hooks.log(
                LogLevel::Warn,
                Some(event),
                &format!("could not read the event's data; its after-handlers did not run: {e}"),
            ),
        }
    }

    /// The audit entry of a veto (`hook.deny`) or of a failing hook that denied (`hook.fail`):
    /// old value the event, new value `script: reason`.
    fn record_hook_denial(&self, event: Event, data: &serde_json::Value, e: &Error, now: i64) {
        let (action, script, reason) = match e {
            Error::HookDenied { script, reason } => ("hook.deny", script, reason),
            Error::HookFailed { script, message } => ("hook.fail", script, message),
            _ => return,
        };
        let actor = data["actor"]["email"].as_str().unwrap_or(PANEL_ACTOR);
        let written = self.store().write(|tx| {
            audit(
                tx,
                now,
                actor,
                data["account"]["id"].as_str(),
                action,
                data["email"].as_str(),
                Some(event.name().to_string()),
                Some(format!("{script}: {reason}")),
            )
        });
        if let (Err(err), Some(hooks)) = (written, &self.hooks) {
            hooks.log(
                LogLevel::Error,
                Some(event),
                &format!("could not record {action} in the audit trail: {err}"),
            );
        }
    }

    /// [`Engine::expire_due`] when scripts watch expiry: each due invite is an event of its own.
    /// A veto keeps that invite stored as pending (it still reads as expired and cannot be
    /// accepted); a later sweep asks again.
    fn expire_due_hooked(&self, now: i64) -> Result<usize> {
        let due = self.store().read(|tx| events::due_invites(tx, now))?;
        let mut allowed = Vec::with_capacity(due.len());
        for inv in due {
            match self.before_hook(Action::Expire, now, |tx| expire_event(tx, &inv, now)) {
                Ok(_) => allowed.push(inv),
                Err(Error::HookDenied { .. } | Error::HookFailed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let expired = self.store().write(|tx| {
            let mut done = Vec::with_capacity(allowed.len());
            for inv in allowed {
                // A resend since the snapshot may have renewed it.
                let still_due = store::invite_get(tx, inv.id, now)?.is_some_and(|r| {
                    r.stored_status == InviteStatus::Pending && r.invite.expires_at <= now
                });
                if still_due
                    && store::invite_close(tx, inv.id, InviteStatus::Expired, now, None, None)?
                {
                    audit(
                        tx,
                        now,
                        SYSTEM_ACTOR,
                        Some(&inv.account_id),
                        "invite.expire",
                        Some(inv.email.as_str()),
                        Some(format!("invite {} pending", inv.id)),
                        Some("expired".into()),
                    )?;
                    done.push(Invite {
                        status: InviteStatus::Expired,
                        ..inv
                    });
                }
            }
            Ok(done)
        })?;
        for inv in &expired {
            self.after_hook(Action::Expire, now, |tx| expire_event(tx, inv, now));
        }
        Ok(expired.len())
    }
}

/// The data of `before_invite` and `after_invite`.
#[allow(clippy::too_many_arguments)]
fn invite_event(
    tx: &dyn Sql,
    account: &str,
    actor: &Email,
    email: &Email,
    permissions: &Permissions,
    now: i64,
    ttl: i64,
    issued: Option<&Invite>,
) -> Result<serde_json::Value> {
    let mut ev = serde_json::json!({
        "account": events::account(tx, account, now)?,
        "actor": events::person(tx, Some(account), actor)?,
        "email": email.as_str(),
        "invitee": events::person(tx, Some(account), email)?,
        "permissions": events::permissions(permissions),
        "expires_at": now + ttl,
        "ttl": ttl,
    });
    if let Some(i) = issued {
        ev["invite_id"] = i.id.into();
        ev["invite"] = events::invite(i);
    }
    Ok(ev)
}

/// The data of events about a member: revoke, permissions, transfer.
fn member_event(
    tx: &dyn Sql,
    account: &str,
    actor: &Email,
    email: &Email,
    now: i64,
) -> Result<serde_json::Value> {
    let member = events::person(tx, Some(account), email)?;
    Ok(serde_json::json!({
        "account": events::account(tx, account, now)?,
        "actor": events::person(tx, Some(account), actor)?,
        "email": email.as_str(),
        "permissions": member["permissions"].clone(),
        "role": member["role"].clone(),
        "member": member,
    }))
}

/// The data of `after_accept`.
fn accepted_event(
    tx: &dyn Sql,
    m: &Member,
    invite: Option<&Invite>,
    registering: bool,
    now: i64,
) -> Result<serde_json::Value> {
    let me = events::person(tx, Some(&m.account_id), &m.email)?;
    let mut ev = match invite {
        Some(i) => {
            let closed = Invite {
                status: InviteStatus::Accepted,
                accepted_by: Some(m.email.clone()),
                ..i.clone()
            };
            events::about_invite(tx, &closed, me.clone(), now)?
        }
        None => serde_json::json!({
            "account": events::account(tx, &m.account_id, now)?,
            "actor": me.clone(),
            "email": m.email.as_str(),
        }),
    };
    ev["user"] = me;
    ev["registering"] = registering.into();
    ev["permissions"] = events::permissions(&m.permissions);
    ev["role"] = events::role(m.role);
    Ok(ev)
}

/// The data of `before_expire` and `after_expire`.
fn expire_event(tx: &dyn Sql, inv: &Invite, now: i64) -> Result<serde_json::Value> {
    events::about_invite(tx, inv, events::machine(SYSTEM_ACTOR), now)
}
