//! Moving an installation between databases (`cohort db copy`): every row of every table, ids
//! and token hashes included, so pending invites keep working links.

use super::queries::{table_rows, TABLES};
use super::sql::{Arg, Backend, Cell, Sql};
use super::Store;
use crate::error::{Error, Result};

/// Rows copied per table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    pub from: String,
    pub to: String,
    pub tables: Vec<(String, usize)>,
    /// Rows the target held before and that `replace` removed.
    pub replaced: usize,
}

/// Rows of every Cohort table in `c`.
pub fn row_counts(c: &dyn Sql) -> Result<Vec<(String, usize)>> {
    TABLES
        .iter()
        .map(|(t, _)| {
            let n = c
                .row(&format!("SELECT COUNT(*) FROM {t}"), &[])?
                .ok_or_else(|| Error::Storage("COUNT returned no row".into()))?
                .int(0)?;
            Ok((t.to_string(), n as usize))
        })
        .collect()
}

/// Copies every row of `from` into `to` in one transaction on each side: `from` is read in one
/// snapshot and `to` commits everything or nothing. A target that already holds Cohort rows is
/// refused unless `replace` (its rows are then deleted in the same transaction). Each table is
/// read back from the target and compared row for row with the source's before the commit.
pub fn copy(
    from: &mut Store,
    to: &mut Store,
    from_name: &str,
    to_name: &str,
    replace: bool,
) -> Result<CopyReport> {
    from.read(|src| {
        to.write(|dst| {
            let before: usize = row_counts(dst)?.iter().map(|(_, n)| n).sum();
            if before > 0 && !replace {
                return Err(Error::InvalidArgument {
                    field: "target database",
                    message: format!(
                        "{to_name} already holds Cohort data ({before} rows); copy into an empty \
                         database, or pass --replace to delete its rows first"
                    ),
                });
            }
            if before > 0 {
                for (t, _) in TABLES.iter().rev() {
                    dst.exec(&format!("DELETE FROM {t}"), &[])?;
                }
            }
            let mut tables = Vec::new();
            for (t, cols) in TABLES {
                let n_cols = cols.split(',').count();
                let sql = format!(
                    "INSERT INTO {t} ({cols}) VALUES ({})",
                    vec!["?"; n_cols].join(", ")
                );
                let rows = table_rows(src, t, cols)?;
                for r in &rows {
                    let args: Vec<Arg<'_>> =
                        r.0.iter()
                            .map(|c| match c {
                                Cell::Null => Arg::Null,
                                Cell::Int(v) => Arg::Int(*v),
                                Cell::Text(s) => Arg::Text(s),
                                Cell::Bytes(b) => Arg::Bytes(b),
                            })
                            .collect();
                    dst.exec(&sql, &args)?;
                }
                // The table as the target now holds it, against the rows just read.
                let copied = table_rows(dst, t, cols)?;
                if copied != rows {
                    let diff = rows
                        .iter()
                        .zip(&copied)
                        .find(|(x, y)| x != y)
                        .map(|(x, y)| format!("{t}: {x:?} / {y:?}"))
                        .unwrap_or_else(|| {
                            format!("{t}: {} rows / {} rows", rows.len(), copied.len())
                        });
                    return Err(Error::Storage(format!(
                        "the copy differs from the source ({diff}); nothing was committed"
                    )));
                }
                tables.push((t.to_string(), rows.len()));
            }
            if dst.backend() == Backend::Postgres {
                // Explicit ids leave the identity sequences behind: move them past the copy.
                for t in ["users", "invites", "audit", "contacts"] {
                    dst.rows(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), \
                             COALESCE(MAX(id), 0) + 1, false) FROM {t}"
                        ),
                        &[],
                    )?;
                }
            }
            Ok(CopyReport {
                from: from_name.to_string(),
                to: to_name.to_string(),
                tables,
                replaced: before,
            })
        })
    })
}
