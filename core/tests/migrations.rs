//! Schema migrations, on whichever backend `COHORT_TEST_DATABASE` names (SQLite otherwise): a
//! database left at version 3 is brought to version 4 when it is opened, and keeps its rows.

mod common;

use cohort_core::store::{Backend, OpenMode, OpenOptions, Store, SCHEMA_VERSION};
use common::database_for;

fn open(dir: &std::path::Path, mode: OpenMode) -> Store {
    let opts = OpenOptions {
        mode,
        ..OpenOptions::default()
    };
    Store::open(&database_for(dir, "migrate.db"), opts).unwrap()
}

/// The columns of the index `invites_by_account`, in order.
fn index_columns(s: &mut Store) -> Vec<String> {
    let sql = match s.backend() {
        Backend::Sqlite => {
            "SELECT name FROM pragma_index_info('invites_by_account') ORDER BY seqno"
        }
        Backend::Mysql => {
            "SELECT CAST(column_name AS CHAR) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = 'invites' \
             AND index_name = 'invites_by_account' ORDER BY seq_in_index"
        }
        Backend::Postgres => {
            "SELECT a.attname::text FROM pg_index i \
             JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON TRUE \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indexrelid = 'invites_by_account'::regclass ORDER BY k.n"
        }
    };
    s.read(|tx| tx.rows(sql, &[])?.iter().map(|r| r.text(0)).collect())
        .unwrap()
}

fn version(s: &mut Store) -> i64 {
    let sql = match s.backend() {
        Backend::Sqlite => "SELECT user_version FROM pragma_user_version",
        _ => "SELECT MAX(version) FROM cohort_schema",
    };
    s.read(|tx| tx.rows(sql, &[])?[0].int(0)).unwrap()
}

#[test]
fn version_3_gets_the_invite_index_of_version_4_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), OpenMode::Create);
    assert_eq!(version(&mut s), SCHEMA_VERSION);
    assert_eq!(
        index_columns(&mut s),
        ["account_id", "status", "email", "expires_at"]
    );
    // Put the database back to version 3 as that release left it.
    let back: &[&str] = match s.backend() {
        Backend::Sqlite => &[
            "DROP INDEX invites_by_account",
            "CREATE INDEX invites_by_account ON invites (account_id, status)",
            "PRAGMA user_version = 3",
        ],
        Backend::Mysql => &[
            "ALTER TABLE invites DROP INDEX invites_by_account, \
             ADD INDEX invites_by_account (account_id, status)",
            "DELETE FROM cohort_schema WHERE version = 4",
        ],
        Backend::Postgres => &[
            "DROP INDEX invites_by_account",
            "CREATE INDEX invites_by_account ON invites (account_id, status)",
            "DELETE FROM cohort_schema WHERE version = 4",
        ],
    };
    s.write(|tx| {
        tx.exec(
            "INSERT INTO audit (at, actor, action) VALUES (1, 'before', 'test.migrate')",
            &[],
        )?;
        for stmt in back {
            tx.exec(stmt, &[])?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(version(&mut s), 3);
    assert_eq!(index_columns(&mut s), ["account_id", "status"]);
    drop(s);

    let mut s = open(dir.path(), OpenMode::Existing);
    assert_eq!(version(&mut s), 4);
    assert_eq!(
        index_columns(&mut s),
        ["account_id", "status", "email", "expires_at"]
    );
    let kept = s
        .read(|tx| {
            tx.rows("SELECT actor FROM audit WHERE action = 'test.migrate'", &[])?
                .iter()
                .map(|r| r.text(0))
                .collect::<cohort_core::Result<Vec<_>>>()
        })
        .unwrap();
    assert_eq!(kept, ["before"]);
    // Opening again finds nothing to do.
    drop(s);
    let mut s = open(dir.path(), OpenMode::Existing);
    assert_eq!(version(&mut s), 4);
}
