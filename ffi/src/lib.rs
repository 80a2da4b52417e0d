//! The C ABI of Cohort: `libcohort.so` / `libcohort.a` with the header `include/cohort.h`.
//!
//! This crate holds no business rule: each export reads its arguments, calls one method of
//! [`cohort_core::Engine`] and hands the result back. `docs/c-api.md` documents every function.
//!
//! Conventions shared by every export (they are the safety contract of every `unsafe fn` here):
//! - Each fallible function returns a [`CohortStatus`]; 0 is success. On failure nothing is
//!   written to any output, and `cohort_error_message` gives a specific message on that thread.
//! - Strings come in as (pointer, length) and must be valid UTF-8 without NUL bytes, at most the
//!   input limit long (1 MiB unless changed). The pointer must address `length` readable bytes for
//!   the duration of the call; NULL is refused with `COHORT_STATUS_NULL_ARGUMENT` except where a
//!   function says an argument is optional.
//! - Output pointers must be valid for one write. Strings handed out are NUL-terminated UTF-8
//!   (JSON unless stated) owned by the caller, who frees each with `cohort_string_free`.
//! - Every export catches panics (`COHORT_STATUS_PANIC`); engine handles are registry numbers, never
//!   dereferenced, so closing twice or using a closed handle is `COHORT_STATUS_CLOSED_HANDLE`.
#![allow(clippy::missing_safety_doc)] // the shared contract above applies to every export
#![allow(clippy::too_many_arguments)] // (pointer, length) pairs double the count of C arguments

mod account;
mod boundary;
mod engine;
mod handle;
mod invite;
mod logger;
mod member;
mod status;
mod team;

pub use account::*;
pub use boundary::COHORT_DEFAULT_INPUT_LIMIT;
pub use engine::*;
pub use handle::CohortEngine;
pub use invite::*;
pub use logger::*;
pub use member::*;
pub use status::CohortStatus;
pub use team::*;

use boundary::{ffi_boundary, Failure};
use std::ffi::{c_char, CString};

/// Major version of this library (with the two below, what `cohort_version` returns; matches
/// Cargo.toml, which a test checks).
pub const COHORT_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const COHORT_VERSION_MINOR: u32 = 3;
/// Patch version of this library.
pub const COHORT_VERSION_PATCH: u32 = 0;

/// The library version as a static NUL-terminated string such as "0.1.0" (never free it).
#[no_mangle]
pub extern "C" fn cohort_version() -> *const c_char {
    const V: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"",
    };
    V.as_ptr()
}

/// The stable name of a status, such as "token_expired", as a static NUL-terminated string (never
/// free it); "unknown" for a number that is not a status.
#[no_mangle]
pub extern "C" fn cohort_status_name(status: i32) -> *const c_char {
    match CohortStatus::from_number(status) {
        Some(s) => s.c_name().as_ptr(),
        None => c"unknown".as_ptr(),
    }
}

/// Copies the message of the last failed call made on the calling thread ("" when there was
/// none) into `*out_message`; free it with `cohort_string_free`. Each thread has its own last
/// error, so threads sharing an engine never see each other's messages. A successful call leaves
/// the last message in place.
#[no_mangle]
pub unsafe extern "C" fn cohort_error_message(out_message: *mut *mut c_char) -> CohortStatus {
    // Not run through the boundary: a failure here must not replace the message it reports.
    if out_message.is_null() {
        return CohortStatus::NullArgument;
    }
    let copy = std::panic::catch_unwind(|| CString::new(boundary::last_error().replace('\0', " ")));
    match copy {
        Ok(Ok(c)) => {
            // SAFETY: non-NULL and valid for one write (crate contract).
            unsafe { out_message.write(c.into_raw()) };
            CohortStatus::Ok
        }
        _ => CohortStatus::Internal,
    }
}

/// Frees a string returned by this library. NULL is accepted and does nothing. Each string must
/// be freed exactly once, and only with this function.
#[no_mangle]
pub unsafe extern "C" fn cohort_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: `s` came from `CString::into_raw` in this library and is freed once (contract).
    let _ = std::panic::catch_unwind(|| drop(unsafe { CString::from_raw(s) }));
}

/// Sets the longest string or JSON argument accepted, in bytes, for the whole process (default
/// 1 MiB). Longer arguments are refused with `COHORT_STATUS_INPUT_TOO_LARGE` before being read.
/// 0 is refused with `COHORT_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn cohort_library_set_input_limit(max_bytes: usize) -> CohortStatus {
    const F: &str = "cohort_library_set_input_limit";
    ffi_boundary!(F, [], {
        if max_bytes == 0 || max_bytes > isize::MAX as usize {
            return Err(Failure::new(
                CohortStatus::InvalidArgument,
                format!("{F}: the limit must be between 1 and {} bytes", isize::MAX),
            ));
        }
        boundary::set_input_limit(max_bytes);
        Ok(())
    })
}

/// The current input limit in bytes.
#[no_mangle]
pub extern "C" fn cohort_library_input_limit() -> usize {
    boundary::input_limit()
}

/// Panics inside the boundary, to prove that a panic becomes `COHORT_STATUS_PANIC` (and a last
/// error message) instead of unwinding into C. Exported only by builds with the `test-panic`
/// feature.
#[cfg(feature = "test-panic")]
#[no_mangle]
pub extern "C" fn cohort_test_panic() -> CohortStatus {
    const F: &str = "cohort_test_panic";
    ffi_boundary!(F, [], {
        let v: Vec<u8> = Vec::new();
        // An out-of-bounds index: a real bug-shaped panic, not a bare `panic!`.
        let i = std::hint::black_box(3);
        if v[i] == 0 {
            return Err(Failure::new(CohortStatus::Internal, "unreachable"));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
