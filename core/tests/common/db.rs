//! The database a test uses: a SQLite file in the test's directory, or, when
//! `COHORT_TEST_DATABASE` names a server (`mysql://root@127.0.0.1:PORT` or
//! `postgres://postgres@127.0.0.1:PORT`, as scripts/test.d/55-servers.sh sets it), a database of
//! its own on that server, named after the directory, so that child processes given the same
//! directory find the same database.

use cohort_core::config::{Database, ServerUrl};
use std::path::Path;

/// The server the tests run against, if any.
pub fn test_server() -> Option<String> {
    std::env::var("COHORT_TEST_DATABASE")
        .ok()
        .filter(|s| !s.is_empty())
}

/// The database for the test directory `dir` (`file`: the SQLite file name inside it).
pub fn database_for(dir: &Path, file: &str) -> Database {
    match test_server() {
        None => Database::Sqlite(dir.join(file)),
        Some(base) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            dir.join(file).hash(&mut h);
            let url = format!("{}/t_{:016x}", base.trim_end_matches('/'), h.finish());
            Database::Server(ServerUrl::parse(&url).expect("COHORT_TEST_DATABASE"))
        }
    }
}
