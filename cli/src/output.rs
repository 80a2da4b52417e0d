//! Human-readable tables and JSON printing for the CLI.

use cohort_core::clock::format_rfc3339;
use cohort_core::{Invite, Member, Permissions};

/// Prints rows as an aligned table with a header.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", s.trim_end());
    };
    line(headers.to_vec());
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

pub fn when(t: Option<i64>) -> String {
    t.map(format_rfc3339).unwrap_or_else(|| "never".into())
}

pub fn perms(p: &Permissions) -> String {
    match p {
        Permissions::All => "All Permissions".into(),
        Permissions::Keys(_) => p.to_text().replace(',', ", "),
    }
}

/// The User Management table.
pub fn members(members: &[Member]) {
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            vec![
                m.email.to_string(),
                if m.name.is_empty() {
                    "-".into()
                } else {
                    m.name.clone()
                },
                match m.role {
                    cohort_core::Role::Owner => "Owner".into(),
                    cohort_core::Role::Member => "Member".into(),
                },
                perms(&m.permissions),
                when(m.last_login),
                if m.two_factor {
                    "on".into()
                } else {
                    "off".into()
                },
            ]
        })
        .collect();
    table(
        &["EMAIL", "NAME", "ROLE", "PERMISSIONS", "LAST LOGIN", "2FA"],
        &rows,
    );
}

/// The Pending Invites table.
pub fn invites(invites: &[Invite]) {
    let rows: Vec<Vec<String>> = invites
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.email.to_string(),
                i.status.as_str().into(),
                perms(&i.permissions),
                i.invited_by.to_string(),
                format_rfc3339(i.last_sent_at),
                format_rfc3339(i.expires_at),
                i.times_sent.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "EMAIL",
            "STATUS",
            "PERMISSIONS",
            "INVITED BY",
            "SENT",
            "EXPIRES",
            "SENT #",
        ],
        &rows,
    );
}

thread_local! {
    /// Lines held back instead of printed (`--json demo`).
    static CAPTURE: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Writes one line to stdout (or to the capture). A closed pipe (`cohort demo | head`) ends the
/// process quietly with exit 0: whoever reads stdout has what it wanted. Any other write error
/// ends it with exit 2 and a message on stderr.
pub fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let captured = CAPTURE.with(|c| {
        if let Some(lines) = c.borrow_mut().as_mut() {
            lines.push(args.to_string());
            true
        } else {
            false
        }
    });
    if captured {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}").and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("cohort: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// Starts holding printed lines back.
pub fn capture_start() {
    CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
}

/// Stops holding lines back and returns them.
pub fn capture_stop() -> Vec<String> {
    CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

/// Prints one JSON document on stdout.
pub fn json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("cannot encode output: {e}"),
    }
}
