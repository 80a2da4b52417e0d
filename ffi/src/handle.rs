//! Engine handles.
//!
//! A `CohortEngine *` handed to C is not an address: it is a number that names an entry of a
//! process-wide registry. The library never dereferences it. Closing removes the entry, so a
//! second close, or any use after close, finds nothing and returns `COHORT_STATUS_CLOSED_HANDLE`
//! instead of touching freed memory. Numbers are never reused within a process, so a stale handle
//! can never reach an engine opened later.
//!
//! Each call clones the engine's `Arc` out of the registry and releases the registry lock before
//! running, so calls on different engines never wait for each other, and a close that races a call
//! on another thread lets that call finish on its own reference.

use crate::boundary::Failure;
use crate::status::CohortStatus;
use cohort_core::Engine;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// An open Cohort engine: a database, its configuration and its signing keys.
///
/// Opaque: only ever used through a pointer obtained from `cohort_engine_open`, which is a handle
/// number, not an address. One handle may be used by several threads at once: calls on it are
/// serialized on its database connection (open one engine per thread for parallel reads). A closed
/// handle gives `COHORT_STATUS_CLOSED_HANDLE`, never undefined behaviour.
pub struct CohortEngine {
    _opaque: [u8; 0],
}

static ENGINES: RwLock<BTreeMap<usize, Arc<Engine>>> = RwLock::new(BTreeMap::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

fn read() -> std::sync::RwLockReadGuard<'static, BTreeMap<usize, Arc<Engine>>> {
    // Nothing panics while holding the lock, and the map stays consistent if something did.
    ENGINES.read().unwrap_or_else(|p| p.into_inner())
}

fn write() -> std::sync::RwLockWriteGuard<'static, BTreeMap<usize, Arc<Engine>>> {
    ENGINES.write().unwrap_or_else(|p| p.into_inner())
}

/// Registers an engine and returns its handle.
pub(crate) fn insert(engine: Engine) -> Result<*mut CohortEngine, Failure> {
    insert_shared(Arc::new(engine))
}

/// Registers a new handle to an engine that other handles may share.
pub(crate) fn insert_shared(engine: Arc<Engine>) -> Result<*mut CohortEngine, Failure> {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let id = usize::try_from(n).map_err(|_| {
        Failure::new(
            CohortStatus::Internal,
            "cohort_engine_open: no engine handles left in this process",
        )
    })?;
    write().insert(id, engine);
    Ok(id as *mut CohortEngine)
}

fn closed(function: &'static str, id: usize) -> Failure {
    let issued = u64::try_from(id).is_ok_and(|n| n > 0 && n < NEXT.load(Ordering::Relaxed));
    Failure::new(
        CohortStatus::ClosedHandle,
        if issued {
            format!("{function}: engine handle {id:#x} is closed")
        } else {
            format!("{function}: {id:#x} is not an engine handle of this process")
        },
    )
}

/// The engine behind a handle, or `COHORT_STATUS_CLOSED_HANDLE`.
pub(crate) fn get(function: &'static str, h: *const CohortEngine) -> Result<Arc<Engine>, Failure> {
    let id = h as usize;
    read().get(&id).cloned().ok_or_else(|| closed(function, id))
}

/// Removes a handle. The engine closes once the last call still using it returns.
pub(crate) fn remove(function: &'static str, h: *mut CohortEngine) -> Result<(), Failure> {
    let id = h as usize;
    let engine = write().remove(&id).ok_or_else(|| closed(function, id))?;
    // Dropped outside the registry lock: closing the database may take a moment.
    drop(engine);
    Ok(())
}

/// Whether a handle names an open engine (tests).
#[cfg(test)]
pub(crate) fn is_open(h: *const CohortEngine) -> bool {
    read().contains_key(&(h as usize))
}
