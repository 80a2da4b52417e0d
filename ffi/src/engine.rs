//! Opening and closing engines.

use crate::boundary::{ffi_boundary, text, write_value};
use crate::handle::{self, CohortEngine};
use crate::status::CohortStatus;
use std::ffi::c_char;

/// Opens the engine described by a TOML config file (the one `cohort init` writes): opens its
/// database, migrates it when its schema is older, and loads the signing keys.
///
/// The database must exist: a missing path, an empty (0-byte) file or a file without Cohort's
/// schema is `COHORT_STATUS_IO`, so a lost or truncated database never silently becomes an empty
/// one. Databases come into being through `cohort init` or `cohort_engine_create`. Opening a
/// database whose schema is current takes no write lock.
///
/// On success `*out_engine` receives the handle; close it with `cohort_engine_close`. Each
/// PHP-FPM worker (each process) opens its own engine.
#[no_mangle]
pub unsafe extern "C" fn cohort_engine_open(
    config_path: *const c_char,
    config_path_len: usize,
    out_engine: *mut *mut CohortEngine,
) -> CohortStatus {
    const F: &str = "cohort_engine_open";
    ffi_boundary!(F, [config_path, out_engine], {
        let path = text(F, config_path, config_path_len, "config_path")?;
        let engine = cohort_core::Engine::open_path(path)?;
        let h = handle::insert(engine)?;
        write_value(F, out_engine, "out_engine", h)
    })
}

/// Like `cohort_engine_open`, but creates the database (mode 0600 unless `database_file_mode`
/// says otherwise) when its path does not exist yet: for a panel's installer. An existing
/// database is opened as by `cohort_engine_open`; an existing empty file is refused all the same.
#[no_mangle]
pub unsafe extern "C" fn cohort_engine_create(
    config_path: *const c_char,
    config_path_len: usize,
    out_engine: *mut *mut CohortEngine,
) -> CohortStatus {
    const F: &str = "cohort_engine_create";
    ffi_boundary!(F, [config_path, out_engine], {
        let path = text(F, config_path, config_path_len, "config_path")?;
        let engine = cohort_core::Engine::create_path(path)?;
        let h = handle::insert(engine)?;
        write_value(F, out_engine, "out_engine", h)
    })
}

/// Closes an engine. NULL is accepted and does nothing.
///
/// Closing a handle twice, or one that was never opened, returns `COHORT_STATUS_CLOSED_HANDLE`
/// and does nothing else. A call still running on another thread finishes first; the database is
/// closed when the last such call returns.
#[no_mangle]
pub unsafe extern "C" fn cohort_engine_close(engine: *mut CohortEngine) -> CohortStatus {
    if engine.is_null() {
        return CohortStatus::Ok;
    }
    const F: &str = "cohort_engine_close";
    ffi_boundary!(F, [], { handle::remove(F, engine) })
}
