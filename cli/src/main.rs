//! `cohort`: the command line for hosting admins and integrators, and the demo.
//!
//! Exit codes: 0 done or allowed; 1 refused or not allowed (reason on stderr, or as
//! `{"error":{...}}` on stdout with `--json`); 2 usage, configuration, input or environment
//! error. With `--json`, stdout is always exactly one JSON document, errors included. A closed
//! stdout (`cohort users 1042 | head -1`) ends the command quietly with exit 0.

/// Every line the CLI prints goes through [`output::write_line`], which ends the process
/// quietly when stdout is a closed pipe, and which `--json demo` captures.
macro_rules! println {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

mod db_cmd;
mod demo;
mod hooks_cmd;
mod output;
mod stderr_log;
mod team_cmd;
mod verify_cmd;

use clap::{Args, Parser, Subcommand};
use cohort_core::clock::{format_rfc3339, parse_duration, parse_time};
use cohort_core::config::{self, Config};
use cohort_core::{Engine, Error, ErrorCode, Permissions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cohort",
    version,
    about = "Users, permissions and signed invites for hosting billing panels"
)]
struct Cli {
    /// Config file (default: $COHORT_CONFIG, then ./cohort.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print one JSON document on stdout instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create DIR/cohort.toml (commented), a signing key and the database.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The database: a SQLite path (default cohort.db) or a server URL,
        /// mysql://USER@HOST:PORT/DB or postgres://USER@HOST:PORT/DB (created when missing).
        #[arg(long, value_name = "PATH_OR_URL")]
        database: Option<String>,
        /// Environment variable holding the server's password (written as database_password_env).
        #[arg(long, value_name = "VAR", requires = "database")]
        database_password_env: Option<String>,
    },
    /// Accounts of the panel.
    #[command(subcommand)]
    Account(AccountCmd),
    /// Logins.
    #[command(subcommand)]
    User(UserCmd),
    /// Record that the panel logged a user in (sets Last Login).
    Login { email: String },
    /// Invite EMAIL to ACCOUNT with all or chosen permissions.
    Invite {
        account: String,
        email: String,
        #[command(flatten)]
        perms: PermArgs,
        /// Who invites (default: the account owner).
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
        /// How long the invite stays valid: 7d, 1h, 90s (default from config).
        #[arg(long)]
        ttl: Option<String>,
        /// Print only the link (for scripts: `link=$(cohort invite … --link-only)`).
        #[arg(long, conflicts_with = "json")]
        link_only: bool,
    },
    /// Pending and expired invites of ACCOUNT (links are not stored: `resend` makes a new one).
    Invites { account: String },
    /// Send an invite again: new link, fresh expiry; the old link stops working.
    Resend {
        id: i64,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
        #[arg(long)]
        ttl: Option<String>,
        /// Print only the new link.
        #[arg(long, conflicts_with = "json")]
        link_only: bool,
    },
    /// Cancel an invite; its link stops working.
    Cancel {
        id: i64,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// Tell what a token or link is for and whether it is usable, without consuming it.
    Inspect { token_or_link: String },
    /// Accept an invite as an existing login, or register a new one.
    Accept {
        token_or_link: String,
        /// The login accepting the invite.
        #[arg(long = "as", value_name = "EMAIL")]
        as_email: String,
        /// Create the login while accepting.
        #[arg(long)]
        register: bool,
        /// Name of the new login (with --register).
        #[arg(long, requires = "register")]
        name: Option<String>,
    },
    /// Decline an invite.
    Decline { token_or_link: String },
    /// The User Management table of ACCOUNT.
    Users { account: String },
    /// The accounts a login can switch between.
    Accounts { email: String },
    /// Replace a member's permissions.
    Perms {
        account: String,
        email: String,
        #[command(flatten)]
        perms: PermArgs,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// Remove a member's access (the login itself remains).
    Revoke {
        account: String,
        email: String,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// Make a member the owner of ACCOUNT.
    Transfer {
        account: String,
        email: String,
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// Exit 0 if EMAIL holds permission KEY on ACCOUNT, 1 if not.
    Check {
        account: String,
        email: String,
        key: String,
    },
    /// Mark overdue invites expired.
    Expire,
    /// The audit trail of ACCOUNT, of a login (--user), or both; `--json` exports it.
    Audit {
        #[arg(required_unless_present = "user")]
        account: Option<String>,
        /// Only entries where this login acts or is acted upon.
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
        /// Only entries at or after this time (RFC 3339, a date, or Unix seconds).
        #[arg(long)]
        since: Option<String>,
        /// Only entries at or before this time.
        #[arg(long)]
        until: Option<String>,
        /// The latest N entries (shown oldest first).
        #[arg(long, default_value_t = cohort_core::engine::DEFAULT_AUDIT_LIMIT)]
        limit: u32,
    },
    /// Contacts of an account and the emails they receive.
    #[command(subcommand)]
    Contacts(team_cmd::ContactsCmd),
    /// Who should receive KIND of email for ACCOUNT (general, domain, invoice, product, support, affiliate).
    Recipients { account: String, kind: String },
    /// Set which kinds of email a member receives (comma-separated; "" for none).
    Notify {
        account: String,
        email: String,
        kinds: String,
        /// Who sets it (default: the member themself).
        #[arg(long, value_name = "EMAIL")]
        by: Option<String>,
    },
    /// A member leaves ACCOUNT on their own (the owner cannot).
    Leave { account: String, email: String },
    /// The permission catalogue (built-in and configured keys).
    Permissions,
    /// Lua hook scripts: check them, or try one event on them.
    #[command(subcommand)]
    Hooks(hooks_cmd::HooksCmd),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Play the whole User Management story on a fresh database in a temporary directory.
    Demo {
        /// Play it on a server instead: mysql://USER@HOST:PORT/DB or postgres://USER@HOST:PORT/DB
        /// (the database is created when missing and must hold no Cohort data).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// The database: what it holds, and copying it to another backend.
    #[command(subcommand)]
    Db(db_cmd::DbCmd),
    /// Check a link's signature and expiry offline, as an integrator would (exit 0 valid, 1 not).
    VerifyLink(verify_cmd::VerifyLinkArgs),
}

#[derive(Subcommand)]
enum AccountCmd {
    /// Create or rename an account.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "EMAIL")]
        owner: String,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a login or update its name / 2FA flag.
    Add {
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// The panel reports 2FA as enabled for this login.
        #[arg(long = "2fa", conflicts_with = "no_2fa")]
        two_fa: bool,
        /// The panel reports 2FA as disabled for this login.
        #[arg(long = "no-2fa")]
        no_2fa: bool,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// List configured keys.
    List,
    /// Add a verification key file KEY_ID (new links are still signed with the current key).
    Add { id: String },
    /// Create a new key and make it the signing key; old keys keep verifying their links.
    Rotate {
        /// Id of the new key (default: k<unix time>).
        id: Option<String>,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct PermArgs {
    /// All Permissions (also covers keys added later).
    #[arg(long)]
    all: bool,
    /// Chosen permissions, comma-separated or repeated.
    #[arg(long = "perm", value_name = "KEY[,KEY…]", value_delimiter = ',')]
    perm: Vec<String>,
}

/// A failure with the exit code it maps to.
struct Failure {
    exit: u8,
    code: &'static str,
    number: i32,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let code = e.code();
        let exit = match code {
            // Input, configuration and environment: the command could not be judged at all.
            ErrorCode::InvalidArgument
            | ErrorCode::InvalidEmail
            | ErrorCode::UnknownPermission
            | ErrorCode::EmptyPermissions
            | ErrorCode::Config
            | ErrorCode::Key
            | ErrorCode::SchemaTooNew
            | ErrorCode::Io
            | ErrorCode::Storage
            | ErrorCode::Busy
            | ErrorCode::Unavailable
            | ErrorCode::CommitUnknown
            | ErrorCode::Internal => 2,
            // Everything else is the domain saying no: refused, not found, not allowed.
            _ => 1,
        };
        Failure {
            exit,
            code: code.as_str(),
            number: code.number(),
            message: e.to_string(),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        exit: 2,
        code: "usage",
        number: 0,
        message: message.into(),
    }
}

type Outcome = Result<u8, Failure>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    stderr_log::init();
    let json = cli.json;
    let demo_json = json && matches!(cli.command, Command::Demo { .. });
    if demo_json {
        output::capture_start();
    }
    let result = run(cli);
    if demo_json {
        let transcript = output::capture_stop();
        if result.is_ok() {
            output::json(&serde_json::json!({ "demo": "ok", "transcript": transcript }));
        }
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if json {
                output::json(
                    &serde_json::json!({"error": {"code": f.code, "number": f.number, "message": f.message}}),
                );
            } else {
                eprintln!("cohort: {}", f.message);
            }
            ExitCode::from(f.exit)
        }
    }
}

/// What a command line clap could not parse gets: help and version as usual (exit 0), any other
/// mistake as exit 2, with `--json` as one JSON document on stdout.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let json = std::env::args()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if json {
        let text = e.to_string();
        let message = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string();
        output::json(&serde_json::json!({"error": {
            "code": "usage",
            "number": 0,
            "message": message,
            "usage": e.render().to_string(),
        }}));
    } else {
        let _ = e.print();
    }
    ExitCode::from(2)
}

/// The config file: --config, then $COHORT_CONFIG, then ./cohort.toml.
fn config_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("COHORT_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("cohort.toml"))
}

fn load_config(flag: Option<PathBuf>) -> Result<Config, Failure> {
    let path = config_path(flag);
    if !path.exists() {
        return Err(Failure {
            exit: 2,
            code: ErrorCode::Config.as_str(),
            number: ErrorCode::Config.number(),
            message: format!(
                "no config at {} (use --config, set COHORT_CONFIG, or run `cohort init`)",
                path.display()
            ),
        });
    }
    Config::load(&path).map_err(|e| Failure {
        exit: 2,
        ..Failure::from(e)
    })
}

fn open(flag: Option<PathBuf>) -> Result<Engine, Failure> {
    let cfg = load_config(flag)?;
    Engine::open(cfg).map_err(|e| Failure {
        exit: 2,
        ..Failure::from(e)
    })
}

fn ttl(s: Option<String>) -> Result<Option<i64>, Failure> {
    s.map(|t| {
        parse_duration(&t)
            .ok_or_else(|| usage(format!("--ttl {t:?} is not a duration such as 7d, 1h, 90s")))
    })
    .transpose()
}

fn permissions(engine: &Engine, p: PermArgs) -> Result<Permissions, Failure> {
    if p.all {
        Ok(Permissions::All)
    } else {
        Ok(engine.catalogue().chosen(p.perm.iter())?)
    }
}

fn owner_of(engine: &Engine, account: &str, by: Option<String>) -> Result<String, Failure> {
    Ok(team_cmd::actor_or_owner(engine, account, by)?)
}

fn run(cli: Cli) -> Outcome {
    let json = cli.json;
    let cfg_flag = cli.config;
    match cli.command {
        Command::Init {
            dir,
            database,
            database_password_env,
        } => init(
            &dir,
            database.as_deref(),
            database_password_env.as_deref(),
            json,
        ),
        Command::Demo { database } => demo::run(database.as_deref())
            .map(|_| 0)
            .map_err(Failure::from),
        Command::Db(d) => db_cmd::run(d, cfg_flag, json),
        Command::Hooks(h) => hooks_cmd::run(h, cfg_flag, json).map_err(Failure::from),
        Command::Keys(k) => keys(cfg_flag, k, json),
        Command::VerifyLink(args) => verify_cmd::run(args, cfg_flag, json),
        Command::Permissions => {
            let cfg = load_config(cfg_flag)?;
            let cat = cohort_core::Catalogue::with_extra(&cfg.permissions)?;
            if json {
                output::json(&cat.defs());
            } else {
                let rows: Vec<Vec<String>> = cat
                    .defs()
                    .iter()
                    .map(|d| vec![d.key.clone(), d.label.clone()])
                    .collect();
                output::table(&["KEY", "LABEL"], &rows);
            }
            Ok(0)
        }
        command => {
            let engine = open(cfg_flag)?;
            operate(&engine, command, json)
        }
    }
}

fn operate(engine: &Engine, command: Command, json: bool) -> Outcome {
    match command {
        Command::Hooks(_) => unreachable!("handled in run"),
        Command::Account(AccountCmd::Add { id, name, owner }) => {
            let a = engine.upsert_account(&id, &name, &owner)?;
            if json {
                output::json(&a);
            } else {
                println!("account {} \"{}\" owned by {}", a.id, a.name, a.owner);
            }
        }
        Command::User(UserCmd::Add {
            email,
            name,
            two_fa,
            no_2fa,
        }) => {
            let tf = if two_fa {
                Some(true)
            } else if no_2fa {
                Some(false)
            } else {
                None
            };
            let u = engine.upsert_user(&email, name.as_deref(), tf)?;
            if json {
                output::json(&u);
            } else {
                println!(
                    "user {} (2FA {})",
                    u.email,
                    if u.two_factor { "on" } else { "off" }
                );
            }
        }
        Command::Login { email } => {
            let u = engine.record_login(&email)?;
            if json {
                output::json(&u);
            } else {
                println!("{} logged in at {}", u.email, output::when(u.last_login));
            }
        }
        Command::Invite {
            account,
            email,
            perms,
            by,
            ttl: t,
            link_only,
        } => {
            let p = permissions(engine, perms)?;
            let t = ttl(t)?;
            let by = owner_of(engine, &account, by)?;
            let sent = engine.invite(&by, &account, &email, &p, t)?;
            print_issued(&sent, json, link_only);
        }
        Command::Invites { account } => {
            let list = engine.pending(&account)?;
            if json {
                output::json(&list);
            } else {
                output::invites(&list);
            }
        }
        Command::Resend {
            id,
            by,
            ttl: t,
            link_only,
        } => {
            let t = ttl(t)?;
            let by = match by {
                Some(b) => b,
                None => owner_of(engine, &engine.invite_by_id(id)?.account_id, None)?,
            };
            let sent = engine.resend(&by, id, t)?;
            print_issued(&sent, json, link_only);
        }
        Command::Cancel { id, by } => {
            let by = match by {
                Some(b) => b,
                None => owner_of(engine, &engine.invite_by_id(id)?.account_id, None)?,
            };
            let inv = engine.cancel(&by, id)?;
            if json {
                output::json(&serde_json::json!({ "invite": inv }));
            } else {
                println!(
                    "invite {} to {} cancelled; its link no longer works",
                    inv.id, inv.email
                );
            }
        }
        Command::Inspect { token_or_link } => {
            let i = engine.inspect(&token_or_link)?;
            if json {
                output::json(&i);
            } else if i.valid {
                println!("valid invite {}", i.invite_id.unwrap_or_default());
            } else {
                println!(
                    "NOT valid ({}): {}",
                    i.reason.unwrap_or("invalid"),
                    i.message.clone().unwrap_or_default()
                );
            }
            if !json && i.invite_id.is_some() {
                println!(
                    "  account:     {} ({})",
                    i.account_name.clone().unwrap_or_default(),
                    i.account_id.clone().unwrap_or_default()
                );
                println!(
                    "  invited by:  {}",
                    i.invited_by
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                );
                println!(
                    "  email:       {}",
                    i.email.as_ref().map(|e| e.to_string()).unwrap_or_default()
                );
                println!(
                    "  permissions: {}",
                    i.permissions
                        .as_ref()
                        .map(output::perms)
                        .unwrap_or_default()
                );
                println!("  expires:     {}", output::when(i.expires_at));
                println!(
                    "  next step:   {}",
                    if i.has_login == Some(true) {
                        "Login (this email has a login)"
                    } else {
                        "Register (no login yet)"
                    }
                );
            }
            return Ok(if i.valid { 0 } else { 1 });
        }
        Command::Accept {
            token_or_link,
            as_email,
            register,
            name,
        } => {
            let m = if register {
                engine.accept_register(&token_or_link, &as_email, name.as_deref().unwrap_or(""))?
            } else {
                engine.accept(&token_or_link, &as_email)?
            };
            if json {
                output::json(&m);
            } else {
                println!(
                    "{} joined account {} with {}",
                    m.email,
                    m.account_id,
                    output::perms(&m.permissions)
                );
            }
        }
        Command::Decline { token_or_link } => {
            let inv = engine.decline(&token_or_link)?;
            if json {
                output::json(&serde_json::json!({ "invite": inv }));
            } else {
                println!("invite {} to {} declined", inv.id, inv.email);
            }
        }
        Command::Users { account } => {
            let list = engine.members(&account)?;
            if json {
                output::json(&list);
            } else {
                output::members(&list);
            }
        }
        Command::Accounts { email } => {
            let list = engine.accounts_of(&email)?;
            if json {
                output::json(&list);
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|a| {
                        vec![
                            a.account_id.clone(),
                            a.account_name.clone(),
                            a.role.as_str().into(),
                            output::perms(&a.permissions),
                        ]
                    })
                    .collect();
                output::table(&["ACCOUNT", "NAME", "ROLE", "PERMISSIONS"], &rows);
            }
        }
        Command::Perms {
            account,
            email,
            perms,
            by,
        } => {
            let p = permissions(engine, perms)?;
            let by = owner_of(engine, &account, by)?;
            let m = engine.set_permissions(&by, &account, &email, &p)?;
            if json {
                output::json(&m);
            } else {
                println!(
                    "{} now has {} on account {}",
                    m.email,
                    output::perms(&m.permissions),
                    account
                );
            }
        }
        Command::Revoke { account, email, by } => {
            let by = owner_of(engine, &account, by)?;
            engine.revoke(&by, &account, &email)?;
            if json {
                output::json(
                    &serde_json::json!({ "revoked": { "account": account, "email": email } }),
                );
            } else {
                println!(
                    "{email} no longer has access to account {account} (the login still exists)"
                );
            }
        }
        Command::Transfer { account, email, by } => {
            let by = owner_of(engine, &account, by)?;
            let a = engine.transfer_ownership(&by, &account, &email)?;
            if json {
                output::json(&a);
            } else {
                println!(
                    "{} now owns account {}; {by} stays on as a member with all permissions",
                    a.owner, a.id
                );
            }
        }
        Command::Check {
            account,
            email,
            key,
        } => {
            let allowed = engine.check(&account, &email, &key)?;
            if json {
                output::json(&serde_json::json!({ "allowed": allowed }));
            } else {
                println!("{}", if allowed { "allowed" } else { "not allowed" });
            }
            return Ok(if allowed { 0 } else { 1 });
        }
        Command::Expire => {
            let n = engine.expire_due()?;
            if json {
                output::json(&serde_json::json!({ "expired": n }));
            } else {
                println!("{n} invite(s) marked expired");
            }
        }
        Command::Audit {
            account,
            user,
            since,
            until,
            limit,
        } => {
            let time = |flag: &str, v: Option<String>| -> Result<Option<i64>, Failure> {
                v.map(|s| {
                    parse_time(&s).ok_or_else(|| {
                        usage(format!(
                            "{flag} {s:?} is not a time (2026-11-29T10:00:00Z, 2026-11-29 or Unix seconds)"
                        ))
                    })
                })
                .transpose()
            };
            let q = cohort_core::store::AuditQuery {
                account,
                user,
                since: time("--since", since)?,
                until: time("--until", until)?,
                limit,
            };
            let list = engine.audit_query(&q)?;
            if json {
                output::json(&list);
            } else {
                print_audit(&list);
            }
        }
        Command::Contacts(c) => team_cmd::contacts(engine, c, json)?,
        Command::Recipients { account, kind } => {
            team_cmd::recipients(engine, &account, &kind, json)?
        }
        Command::Notify {
            account,
            email,
            kinds,
            by,
        } => team_cmd::notify(engine, &account, &email, &kinds, by, json)?,
        Command::Leave { account, email } => {
            engine.leave(&account, &email)?;
            if json {
                output::json(
                    &serde_json::json!({ "left": { "account": account, "email": email } }),
                );
            } else {
                println!("{email} left account {account} (the login still exists)");
            }
        }
        Command::Init { .. }
        | Command::Demo { .. }
        | Command::Db(_)
        | Command::Keys(_)
        | Command::Permissions
        | Command::VerifyLink(_) => {
            unreachable!("handled in run")
        }
    }
    Ok(0)
}

pub(crate) fn print_audit(list: &[cohort_core::AuditEvent]) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                format_rfc3339(e.at),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone().unwrap_or_default(),
                e.old_value.clone().unwrap_or_default(),
                e.new_value.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["WHEN", "ACTOR", "ACTION", "TARGET", "OLD", "NEW"], &rows);
}

fn print_issued(sent: &cohort_core::IssuedInvite, json: bool, link_only: bool) {
    if json {
        output::json(sent);
    } else if link_only {
        println!("{}", sent.link);
    } else {
        println!(
            "invite {} to {} ({}), expires {}",
            sent.invite.id,
            sent.invite.email,
            output::perms(&sent.invite.permissions),
            format_rfc3339(sent.invite.expires_at)
        );
        println!("link: {}", sent.link);
        println!();
        println!(
            "To: {}\nSubject: {}\n\n{}",
            sent.email.to, sent.email.subject, sent.email.body
        );
    }
}

fn init(dir: &Path, database: Option<&str>, password_env: Option<&str>, json: bool) -> Outcome {
    let cfg_path = dir.join("cohort.toml");
    if cfg_path.exists() {
        return Err(usage(format!(
            "{} already exists; not overwriting it",
            cfg_path.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| usage(format!("{}: {e}", dir.display())))?;
    let kid = "k1";
    let key = config::create_key_file(&dir.join("keys"), kid)?;
    let text = match database {
        Some(db) => {
            // Judged before anything is written: a bad URL leaves no half-made directory.
            cohort_core::config::Database::from_setting(db, dir, password_env)?;
            config::template_for(kid, db, password_env)
        }
        None => config::template(kid),
    };
    cohort_core::keyadmin::write_atomic(&cfg_path, &text)
        .map_err(|e| usage(format!("{}: {e}", cfg_path.display())))?;
    let cfg = Config::load(&cfg_path)?;
    let engine = Engine::create(cfg)?;
    let db = engine.config().database.shown();
    if json {
        output::json(&serde_json::json!({"config": cfg_path, "key": key, "database": db}));
    } else {
        println!("wrote {}", cfg_path.display());
        println!("wrote {} (signing key {kid}, mode 600)", key.display());
        println!("created {db}");
    }
    Ok(0)
}

fn keys(flag: Option<PathBuf>, cmd: KeysCmd, json: bool) -> Outcome {
    use cohort_core::keyadmin;
    let path = config_path(flag.clone());
    let cfg = load_config(flag)?;
    match cmd {
        KeysCmd::List => {
            let keys = keyadmin::list(&cfg)?;
            if json {
                output::json(&keys);
            } else {
                let t: Vec<Vec<String>> = keys
                    .into_iter()
                    .map(|k| {
                        vec![
                            k.id,
                            if k.current { "yes".into() } else { "".into() },
                            k.source,
                        ]
                    })
                    .collect();
                output::table(&["ID", "CURRENT", "SOURCE"], &t);
            }
            Ok(0)
        }
        KeysCmd::Add { id } => {
            let f = keyadmin::add(&cfg, &id)?;
            if json {
                output::json(&serde_json::json!({"id": id, "file": f}));
            } else {
                println!(
                    "wrote {} (verification key {id}; signing key is still {})",
                    f.display(),
                    cfg.keys.current
                );
            }
            Ok(0)
        }
        KeysCmd::Rotate { id } => {
            let now = cohort_core::Clock::now(&cohort_core::SystemClock);
            let r = keyadmin::rotate(&path, id.as_deref(), now)?;
            if json {
                output::json(&r);
            } else {
                println!(
                    "new signing key {} ({}); {} still verifies the links it signed until you remove it",
                    r.current,
                    r.file.display(),
                    r.previous
                );
            }
            Ok(0)
        }
    }
}
