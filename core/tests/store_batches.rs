//! The store's deferred statements (`Sql::defer`, `Sql::insert_deferred`), on whichever backend
//! `COHORT_TEST_DATABASE` names (SQLite otherwise). A server sends them as literals with the
//! next statement or the COMMIT, so these tests hold every backend to SQLite's behaviour: every
//! value arrives byte for byte, statements run in order, an error in any of them undoes the
//! whole write, and the ids of deferred inserts are the rows' ids.

mod common;

use cohort_core::store::{Arg, OpenMode, OpenOptions, Store};
use common::database_for;

fn store(dir: &std::path::Path) -> Store {
    let opts = OpenOptions {
        mode: OpenMode::Create,
        ..OpenOptions::default()
    };
    Store::open(&database_for(dir, "batches.db"), opts).unwrap()
}

/// Values that would end a naively quoted literal early, or change its meaning.
const NASTY: &[&str] = &[
    "O'Brien",
    "''",
    "\\",
    "\\'; DROP TABLE audit; --",
    "a?b ? ?",
    "\"double\" `back`",
    "$1 $2",
    "\\x41",
    "é ü 漢字 😀",
    "line\nbreak\ttab\r",
    "",
    " ",
];

fn audit_values(s: &mut Store, action: &str) -> Vec<(i64, String, Option<String>)> {
    s.read(|tx| {
        tx.rows(
            "SELECT at, actor, new_value FROM audit WHERE action = ? ORDER BY id",
            &[Arg::Text(action)],
        )?
        .iter()
        .map(|r| Ok((r.int(0)?, r.text(1)?, r.opt_text(2)?)))
        .collect()
    })
    .unwrap()
}

#[test]
fn deferred_values_arrive_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    s.write(|tx| {
        for (i, v) in NASTY.iter().enumerate() {
            tx.defer(
                "INSERT INTO audit (at, actor, action, new_value) VALUES (?, ?, 'test.nasty', ?)",
                &[Arg::Int(i as i64 - 3), Arg::Text(v), Arg::Text(v)],
            )?;
        }
        tx.defer(
            "INSERT INTO audit (at, actor, action, new_value) VALUES (?, ?, 'test.nasty', ?)",
            &[Arg::Int(i64::MIN), Arg::Text("null"), Arg::Null],
        )?;
        Ok(())
    })
    .unwrap();
    let got = audit_values(&mut s, "test.nasty");
    let mut want: Vec<(i64, String, Option<String>)> = NASTY
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 - 3, v.to_string(), Some(v.to_string())))
        .collect();
    want.push((i64::MIN, "null".into(), None));
    assert_eq!(got, want);
    // The statements the values might have smuggled in did not run.
    assert_eq!(audit_values(&mut s, "test.nasty").len(), NASTY.len() + 1);
}

#[test]
fn deferred_bytes_arrive_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    // Every byte value, in the 64 bytes the column holds at most, and a few more.
    let all: Vec<u8> = (0..=255).collect();
    let mut blobs: Vec<&[u8]> = all.chunks(64).collect();
    blobs.extend([&b""[..], b"'\\\0", &[0xff, 0xfe, 0x00]]);
    s.write(|tx| {
        // A minimal account, owner and invite rows, so that invites.token_hash (the one
        // binary column) can hold each blob.
        let owner = tx.insert(
            "INSERT INTO users (email, name, two_factor, created_at) VALUES ('o@x.example', '', 0, 0)",
            &[],
        )?;
        tx.defer(
            "INSERT INTO accounts (id, name, owner_id, created_at) VALUES ('b1', '', ?, 0)",
            &[Arg::Int(owner)],
        )?;
        for (i, b) in blobs.iter().enumerate() {
            tx.defer(
                "INSERT INTO invites (account_id, email, perm_all, perms, invited_by, created_at, \
                 expires_at, status, times_sent, last_sent_at, token_hash) \
                 VALUES ('b1', ?, 1, '', ?, 0, 0, 'cancelled', 1, 0, ?)",
                &[
                    Arg::Text(&format!("{i}@x.example")),
                    Arg::Int(owner),
                    Arg::Bytes(b),
                ],
            )?;
        }
        Ok(())
    })
    .unwrap();
    let got: Vec<Vec<u8>> = s
        .read(|tx| {
            tx.rows("SELECT token_hash FROM invites ORDER BY id", &[])?
                .iter()
                .map(|r| r.bytes(0))
                .collect()
        })
        .unwrap();
    let want: Vec<Vec<u8>> = blobs.iter().map(|b| b.to_vec()).collect();
    assert_eq!(got, want);
}

#[test]
fn deferred_inserts_know_their_ids_and_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    let (a, b, seen) = s
        .write(|tx| {
            let a = tx.insert_deferred(
                "INSERT INTO audit (at, actor, action) VALUES (1, 'a', 'test.order')",
                &[],
            )?;
            let b = tx.insert_deferred(
                "INSERT INTO audit (at, actor, action) VALUES (2, 'b', 'test.order')",
                &[],
            )?;
            // A query after them sees them: they ran first.
            let seen = tx.rows(
                "SELECT COUNT(*) FROM audit WHERE action = 'test.order'",
                &[],
            )?[0]
                .int(0)?;
            Ok((a, b, seen))
        })
        .unwrap();
    assert_eq!(seen, 2);
    let ids: Vec<i64> = s
        .read(|tx| {
            tx.rows(
                "SELECT id FROM audit WHERE action = 'test.order' ORDER BY at",
                &[],
            )?
            .iter()
            .map(|r| r.int(0))
            .collect()
        })
        .unwrap();
    assert_eq!(ids, vec![a.get().unwrap(), b.get().unwrap()]);
    // Ids of inserts sent with the COMMIT are known once the write returns.
    let c = s
        .write(|tx| {
            tx.insert_deferred(
                "INSERT INTO audit (at, actor, action) VALUES (3, 'c', 'test.order')",
                &[],
            )
        })
        .unwrap();
    assert!(c.get().unwrap() > ids[1]);
}

#[test]
fn an_error_in_a_deferred_statement_undoes_the_whole_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    // Fails at the COMMIT's round trip: the row deferred before it is gone too.
    let e = s
        .write(|tx| {
            tx.exec(
                "INSERT INTO audit (at, actor, action) VALUES (1, 'kept?', 'test.undo')",
                &[],
            )?;
            tx.defer(
                "INSERT INTO audit (at, actor, action) VALUES (2, 'kept?', 'test.undo')",
                &[],
            )?;
            tx.defer("INSERT INTO no_such_table (x) VALUES (?)", &[Arg::Int(1)])?;
            Ok(())
        })
        .unwrap_err();
    assert!(!e.to_string().is_empty());
    assert_eq!(audit_values(&mut s, "test.undo"), vec![]);
    // Fails with the query that sends it: the caller sees the error there.
    let e = s
        .write(|tx| {
            tx.defer(
                "INSERT INTO audit (at, actor, action) VALUES (3, 'kept?', 'test.undo')",
                &[],
            )?;
            tx.defer("INSERT INTO audit (no_such_column) VALUES (1)", &[])?;
            tx.rows("SELECT COUNT(*) FROM audit", &[])
        })
        .unwrap_err();
    assert!(!e.to_string().is_empty());
    assert_eq!(audit_values(&mut s, "test.undo"), vec![]);
    // The store goes on.
    s.write(|tx| {
        tx.defer(
            "INSERT INTO audit (at, actor, action) VALUES (4, 'after', 'test.undo')",
            &[],
        )
    })
    .unwrap();
    assert_eq!(
        audit_values(&mut s, "test.undo"),
        vec![(4, "after".to_string(), None)]
    );
}

#[test]
fn a_write_that_runs_nothing_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path());
    assert_eq!(s.write(|_| Ok(7)).unwrap(), 7);
    assert_eq!(audit_values(&mut s, "test.none"), vec![]);
}
