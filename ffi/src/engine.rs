//! Opening and closing engines.

use crate::boundary::{ffi_boundary, text, write_value, Failure};
use crate::handle::{self, CohortEngine};
use crate::status::CohortStatus;
use cohort_core::config::{Config, SourcesStamp};
use cohort_core::Engine;
use std::ffi::c_char;
use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// An engine kept by `cohort_engine_open_shared` for later opens of the same config in this
/// process. Entries made by another process (the parent before a `fork()`) are never used and
/// never dropped: closing a database connection inherited across `fork()` is unsafe.
struct SharedEngine {
    path: PathBuf,
    pid: u32,
    stamp: SourcesStamp,
    engine: ManuallyDrop<Arc<Engine>>,
}

static SHARED: Mutex<Vec<SharedEngine>> = Mutex::new(Vec::new());

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

/// Like `cohort_engine_open`, but the engine behind the handle stays open in this process after
/// the handle is closed, and the next `cohort_engine_open_shared` of the same config path gets a
/// new handle to it, as long as nothing it was read from changed (the config file, the key
/// directory and its files, the key variables: contents and `stat` compared, so an edited config or a
/// rotated, added or removed key opens a fresh engine). For PHP-FPM, where PHP frees every
/// object at the end of a request: each request "opens" in a few microseconds instead of
/// parsing the config, loading the keys and opening the database again.
///
/// The database must exist, as for `cohort_engine_open`. Handles to one shared engine may be
/// used from several threads at once (calls are serialized on its connection). After `fork()`
/// the child never uses or closes its parent's shared engines: it opens its own.
#[no_mangle]
pub unsafe extern "C" fn cohort_engine_open_shared(
    config_path: *const c_char,
    config_path_len: usize,
    out_engine: *mut *mut CohortEngine,
) -> CohortStatus {
    const F: &str = "cohort_engine_open_shared";
    ffi_boundary!(F, [config_path, out_engine], {
        let path = PathBuf::from(text(F, config_path, config_path_len, "config_path")?);
        let engine = shared_engine(&path)?;
        let h = handle::insert_shared(engine)?;
        write_value(F, out_engine, "out_engine", h)
    })
}

/// The shared engine for `path`, reused when its sources are unchanged, else opened afresh.
fn shared_engine(path: &std::path::Path) -> Result<Arc<Engine>, Failure> {
    let pid = std::process::id();
    // Opens are serialized; a lookup is a few `stat` calls.
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = shared.iter().find(|s| s.pid == pid && s.path == path) {
        if s.engine.config().sources_stamp() == s.stamp {
            return Ok(Arc::clone(&s.engine));
        }
    }
    // The stamp is taken before the files are read, so a change made while opening makes the
    // next lookup open again rather than reuse what was read.
    let cfg = Config::load(path)?;
    let stamp = cfg.sources_stamp();
    let engine = Arc::new(Engine::open(cfg)?);
    // Replace this process's entry for the path (its engine closes when its last handle does);
    // a parent's entries are left alone, never dropped.
    if let Some(i) = shared.iter().position(|s| s.pid == pid && s.path == path) {
        let old = shared.swap_remove(i);
        drop(ManuallyDrop::into_inner(old.engine));
    }
    shared.push(SharedEngine {
        path: path.to_path_buf(),
        pid,
        stamp,
        engine: ManuallyDrop::new(Arc::clone(&engine)),
    });
    Ok(engine)
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
