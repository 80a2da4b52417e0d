//! `cohort demo`: the User Management story of a hosting panel, start to finish, on a fresh
//! database in a temporary directory, printing the table after each step.

use crate::output;
use cohort_core::clock::format_rfc3339;
use cohort_core::config::{create_key_file, Config, Database};
use cohort_core::{Clock, Engine, ManualClock, Permissions, Result, SystemClock};
use std::sync::Arc;

const ACCOUNT: &str = "1042";
const OWNER: &str = "olivia@acme-hosting.example";
const BEN: &str = "ben@partner-agency.example";
const CARA: &str = "cara@acme-hosting.example";
const DAN: &str = "dan@acme-hosting.example";

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn step(n: u32, title: &str) {
    println!();
    println!("== {n}. {title}");
}

fn table(engine: &Engine) -> Result<()> {
    println!();
    println!("User Management — {}", engine.account(ACCOUNT)?.name);
    output::members(&engine.members(ACCOUNT)?);
    let pending = engine.pending(ACCOUNT)?;
    if !pending.is_empty() {
        println!();
        println!("Pending Invites");
        output::invites(&pending);
    }
    Ok(())
}

pub fn run(database: Option<&str>) -> Result<()> {
    let now = SystemClock.now();
    let dir =
        TempDir(std::env::temp_dir().join(format!("cohort-demo-{}-{now}", std::process::id())));
    std::fs::create_dir_all(&dir.0).map_err(|e| cohort_core::Error::Io {
        path: dir.0.display().to_string(),
        message: e.to_string(),
    })?;
    create_key_file(&dir.0.join("keys"), "k1")?;
    let db = match database {
        None => Database::Sqlite(dir.0.join("cohort.db")),
        Some(url) if Database::is_url(url) => Database::from_setting(url, &dir.0, None)?,
        Some(other) => {
            return Err(cohort_core::Error::InvalidArgument {
                field: "--database",
                message: format!(
                    "{other:?} is not a server URL (mysql://… or postgres://…); without \
                     --database the demo uses a SQLite file of its own"
                ),
            })
        }
    };
    let cfg = Config::new(db.clone(), dir.0.join("keys"), "k1");
    let clock = ManualClock::new(now);
    let engine = Engine::create_with_clock(cfg, Arc::new(clock.clone()))?;
    if !engine.dump()?.is_empty() {
        return Err(cohort_core::Error::InvalidArgument {
            field: "--database",
            message: format!(
                "{} already holds Cohort data; the demo needs an empty database",
                db.shown()
            ),
        });
    }
    match &db {
        Database::Sqlite(_) => println!("Cohort demo: a fresh database in {}", dir.0.display()),
        Database::Server(u) => println!("Cohort demo: a fresh database {u}"),
    }

    step(
        1,
        "The panel creates client account 1042 and its owner; Ben already has a login elsewhere",
    );
    engine.upsert_account(ACCOUNT, "Acme Hosting Ltd", OWNER)?;
    engine.upsert_user(OWNER, Some("Olivia Owner"), Some(true))?;
    engine.upsert_account("2077", "Partner Agency", BEN)?;
    engine.upsert_user(BEN, Some("Ben Builder"), Some(false))?;
    engine.record_login(OWNER)?;
    table(&engine)?;

    step(
        2,
        "Olivia invites Ben with All Permissions and Cara with chosen permissions",
    );
    let ben = engine.invite(OWNER, ACCOUNT, BEN, &Permissions::All, None)?;
    let chosen = engine
        .catalogue()
        .chosen(["invoices", "tickets", "domains"])?;
    let cara = engine.invite(OWNER, ACCOUNT, CARA, &chosen, None)?;
    println!("The email Cara receives:");
    println!("  To: {}\n  Subject: {}", cara.email.to, cara.email.subject);
    for line in cara.email.body.lines() {
        println!("  | {line}");
    }
    println!(
        "A second invite to Ben is refused: {}",
        engine
            .invite(OWNER, ACCOUNT, BEN, &Permissions::All, None)
            .unwrap_err()
    );
    table(&engine)?;

    step(
        3,
        "Each invitee opens the link: Cohort says whether to show Login or Register",
    );
    for (who, sent) in [("Ben", &ben), ("Cara", &cara)] {
        let i = engine.inspect(&sent.link)?;
        println!(
            "{who}: valid={} account=\"{}\" invited by {} -> {}",
            i.valid,
            i.account_name.clone().unwrap_or_default(),
            i.invited_by
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            if i.has_login == Some(true) {
                "Login"
            } else {
                "Register"
            }
        );
    }

    step(
        4,
        "Ben logs in with his existing login and accepts; Cara registers a new login",
    );
    clock.advance(3_600);
    engine.accept(&ben.link, BEN)?;
    engine.record_login(BEN)?;
    engine.accept_register(&cara.link, CARA, "Cara Accounts")?;
    println!(
        "Ben's link used again: {}",
        engine.accept(&ben.link, BEN).unwrap_err()
    );
    table(&engine)?;

    step(5, "A day later Cara logs in: Last Login shows");
    clock.advance(86_400);
    engine.record_login(CARA)?;
    table(&engine)?;

    step(
        6,
        "Olivia changes Cara's permissions (adds domain management, drops tickets)",
    );
    let new = engine
        .catalogue()
        .chosen(["invoices", "domains", "managedomains"])?;
    engine.set_permissions(OWNER, ACCOUNT, CARA, &new)?;
    for key in ["managedomains", "tickets"] {
        println!(
            "check {CARA} {key}: {}",
            if engine.check(ACCOUNT, CARA, key)? {
                "allowed"
            } else {
                "not allowed"
            }
        );
    }
    table(&engine)?;

    step(
        7,
        "Olivia invites Dan; he misses the email and 8 days pass: the invite expires",
    );
    let dan = engine.invite(
        OWNER,
        ACCOUNT,
        DAN,
        &engine.catalogue().chosen(["tickets"])?,
        None,
    )?;
    clock.advance(8 * 86_400);
    println!(
        "Dan's link now: {}",
        engine.accept(&dan.link, DAN).unwrap_err()
    );
    println!(
        "expire_due marked {} invite(s) expired",
        engine.expire_due()?
    );
    table(&engine)?;

    step(
        8,
        "Olivia resends Dan's invite: a new link and 7 fresh days; the old link stays dead. \
         That mail bounces, so she resends once more: only the newest link works",
    );
    let again = engine.resend(OWNER, dan.invite.id, None)?;
    println!(
        "new expiry {}; old link: {}",
        format_rfc3339(again.invite.expires_at),
        engine.inspect(&dan.link)?.reason.unwrap_or("?")
    );
    let last = engine.resend(OWNER, dan.invite.id, None)?;
    println!(
        "sent again; the link of a moment ago: {}",
        engine.inspect(&again.link)?.reason.unwrap_or("?")
    );
    engine.accept_register(&last.link, DAN, "Dan Support")?;
    engine.record_login(DAN)?;
    table(&engine)?;

    step(
        9,
        "Olivia removes Ben's access; his login still exists for his other accounts",
    );
    engine.revoke(OWNER, ACCOUNT, BEN)?;
    let still = engine.user(BEN)?;
    let switch: Vec<String> = engine
        .accounts_of(BEN)?
        .iter()
        .map(|a| format!("{} ({})", a.account_name, a.role.as_str()))
        .collect();
    println!(
        "Ben's login {} still exists; accounts he can switch to: {}",
        still.email,
        switch.join(", ")
    );
    println!(
        "Removing the owner is refused: {}",
        engine.revoke(OWNER, ACCOUNT, OWNER).unwrap_err()
    );
    table(&engine)?;

    step(10, "The audit trail of account 1042");
    crate::print_audit(&engine.audit(ACCOUNT, i64::MIN, 100)?);
    println!();
    match &db {
        Database::Sqlite(_) => println!("Demo finished; the temporary directory is removed."),
        Database::Server(u) => println!("Demo finished; its rows stay in {u}."),
    }
    Ok(())
}
