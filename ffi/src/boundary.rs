//! The boundary between C and Rust: the `ffi_boundary!` macro that every export runs its body in,
//! the last error of each thread, the input limit, and the helpers that read arguments and write
//! outputs.

use crate::status::CohortStatus;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Default longest string or JSON argument, in bytes (1 MiB).
pub const COHORT_DEFAULT_INPUT_LIMIT: usize = 1048576;

static INPUT_LIMIT: AtomicUsize = AtomicUsize::new(COHORT_DEFAULT_INPUT_LIMIT);

/// The current input limit in bytes (process-wide).
pub(crate) fn input_limit() -> usize {
    INPUT_LIMIT.load(Ordering::Relaxed)
}

pub(crate) fn set_input_limit(bytes: usize) {
    INPUT_LIMIT.store(bytes, Ordering::Relaxed);
}

/// Why an export failed: the status it returns and the message `cohort_error_message` gives.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: CohortStatus,
    pub message: String,
}

impl Failure {
    pub fn new(status: CohortStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}

impl From<cohort_core::Error> for Failure {
    fn from(e: cohort_core::Error) -> Failure {
        Failure::new(e.code().into(), e.to_string())
    }
}

thread_local! {
    /// The message of the last failed call on this thread.
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub(crate) fn set_last_error(message: String) {
    // `try_with` fails only while the thread is being torn down; the message is then moot.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(message);
        }
    });
}

pub(crate) fn last_error() -> String {
    LAST_ERROR
        .try_with(|slot| slot.try_borrow().ok().and_then(|s| s.clone()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// A raw pointer argument that the boundary checks for NULL.
pub(crate) trait Pointer {
    fn is_null_pointer(&self) -> bool;
}

impl<T> Pointer for *const T {
    fn is_null_pointer(&self) -> bool {
        self.is_null()
    }
}

impl<T> Pointer for *mut T {
    fn is_null_pointer(&self) -> bool {
        self.is_null()
    }
}

/// Refuses a NULL pointer argument, naming it.
pub(crate) fn not_null(
    function: &'static str,
    p: &impl Pointer,
    name: &'static str,
) -> Result<(), Failure> {
    if p.is_null_pointer() {
        return Err(Failure::new(
            CohortStatus::NullArgument,
            format!("{function}: argument `{name}` is NULL"),
        ));
    }
    Ok(())
}

/// Runs an export's body: a panic becomes `COHORT_STATUS_PANIC`, a failure its status; either
/// leaves its message as this thread's last error.
pub(crate) fn run(
    function: &'static str,
    body: impl FnOnce() -> Result<(), Failure>,
) -> CohortStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CohortStatus::Ok,
        Ok(Err(failure)) => {
            set_last_error(failure.message);
            failure.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            // Dropping a panic payload can itself panic; never let that escape.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            set_last_error(format!(
                "{function}: internal panic: {what}; the call had no effect outside Cohort"
            ));
            CohortStatus::Panic
        }
    }
}

/// The body of every export: checks the listed pointer arguments for NULL, then runs the block
/// (which returns `Result<(), Failure>`) with panics caught. Evaluates to a `CohortStatus`.
///
/// ```ignore
/// const F: &str = "cohort_user_login";
/// ffi_boundary!(F, [engine, email, out_json], {
///     let engine = handle::get(F, engine)?;
///     ...
/// })
/// ```
macro_rules! ffi_boundary {
    ($function:expr, [$($ptr:ident),* $(,)?], $body:block) => {
        $crate::boundary::run($function, || {
            $( $crate::boundary::not_null($function, &$ptr, stringify!($ptr))?; )*
            $body
        })
    };
}
pub(crate) use ffi_boundary;

/// Reads a string argument given as (pointer, length): NULL, too long, holding a NUL byte or not
/// UTF-8 are each refused with their own status, naming the argument.
///
/// # Safety
/// Unless NULL, `ptr` must point to `len` readable bytes that stay unchanged during the call.
pub(crate) unsafe fn text<'a>(
    function: &'static str,
    ptr: *const c_char,
    len: usize,
    name: &'static str,
) -> Result<&'a str, Failure> {
    not_null(function, &ptr, name)?;
    let limit = input_limit();
    if len > limit || len > isize::MAX as usize {
        return Err(Failure::new(
            CohortStatus::InputTooLarge,
            format!(
                "{function}: argument `{name}` is {len} bytes, over the input limit of {limit} bytes \
                 (see cohort_library_set_input_limit)"
            ),
        ));
    }
    // SAFETY: non-NULL and `len` readable bytes per the contract above; u8 has alignment 1.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(Failure::new(
            CohortStatus::InteriorNul,
            format!("{function}: argument `{name}` holds a NUL byte at offset {at}"),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            CohortStatus::InvalidUtf8,
            format!(
                "{function}: argument `{name}` is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Like [`text`], but NULL (with any length) means "not given".
///
/// # Safety
/// As for [`text`].
pub(crate) unsafe fn optional_text<'a>(
    function: &'static str,
    ptr: *const c_char,
    len: usize,
    name: &'static str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { text(function, ptr, len, name) }.map(Some)
}

/// Parses a JSON argument (already read with [`text`]).
pub(crate) fn json(
    function: &'static str,
    input: &str,
    name: &'static str,
) -> Result<serde_json::Value, Failure> {
    serde_json::from_str(input).map_err(|e| {
        Failure::new(
            CohortStatus::InvalidJson,
            format!("{function}: argument `{name}` is not valid JSON: {e}"),
        )
    })
}

/// Serializes `value` and hands it to the caller through `out` (written only on success). The
/// caller frees it with `cohort_string_free`.
///
/// # Safety
/// `out` must be NULL or valid for a write of one pointer.
pub(crate) unsafe fn write_json<T: serde::Serialize + ?Sized>(
    function: &'static str,
    out: *mut *mut c_char,
    value: &T,
) -> Result<(), Failure> {
    not_null(function, &out, "out_json")?;
    let text = serde_json::to_string(value).map_err(|e| {
        Failure::new(
            CohortStatus::Internal,
            format!("{function}: cannot serialize the result: {e}"),
        )
    })?;
    let c = CString::new(text).map_err(|_| {
        Failure::new(
            CohortStatus::Internal,
            format!("{function}: the result holds a NUL byte"),
        )
    })?;
    // SAFETY: non-NULL and writable per the contract above.
    unsafe { out.write(c.into_raw()) };
    Ok(())
}

/// Writes a plain value to an out-parameter.
///
/// # Safety
/// `out` must be NULL or valid for a write of one `T`.
pub(crate) unsafe fn write_value<T>(
    function: &'static str,
    out: *mut T,
    name: &'static str,
    value: T,
) -> Result<(), Failure> {
    not_null(function, &out, name)?;
    // SAFETY: non-NULL and writable per the contract above.
    unsafe { out.write(value) };
    Ok(())
}

/// Tests that pass strings hold it shared; the test that changes the input limit holds it alone.
#[cfg(test)]
pub(crate) static LIMIT_TEST_LOCK: std::sync::RwLock<()> = std::sync::RwLock::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_a_status_and_a_message() {
        let status = run("cohort_example", || panic!("boom {}", 42));
        assert_eq!(status, CohortStatus::Panic);
        let msg = last_error();
        assert!(msg.contains("cohort_example"), "{msg}");
        assert!(msg.contains("boom 42"), "{msg}");
    }

    #[test]
    fn failures_set_the_message_of_this_thread_only() {
        let status = run("cohort_example", || {
            Err(Failure::new(CohortStatus::NotFound, "account 7 not found"))
        });
        assert_eq!(status, CohortStatus::NotFound);
        assert_eq!(last_error(), "account 7 not found");
        std::thread::spawn(|| {
            assert_eq!(last_error(), "", "a new thread starts with no error");
            run("cohort_example", || {
                Err(Failure::new(CohortStatus::Busy, "other thread"))
            });
            assert_eq!(last_error(), "other thread");
        })
        .join()
        .unwrap();
        assert_eq!(last_error(), "account 7 not found");
        assert_eq!(run("cohort_example", || Ok(())), CohortStatus::Ok);
        assert_eq!(
            last_error(),
            "account 7 not found",
            "success keeps the last failure"
        );
    }

    #[test]
    fn text_arguments_are_checked_in_order() {
        let _g = LIMIT_TEST_LOCK.read().unwrap_or_else(|p| p.into_inner());
        let f = "cohort_example";
        let ok = b"alice@example.com";
        assert_eq!(
            unsafe { text(f, ok.as_ptr().cast(), ok.len(), "email") }.unwrap(),
            "alice@example.com"
        );
        assert_eq!(
            unsafe { text(f, ok.as_ptr().cast(), 0, "email") }.unwrap(),
            ""
        );
        let e = unsafe { text(f, std::ptr::null(), 3, "email") }.unwrap_err();
        assert_eq!(e.status, CohortStatus::NullArgument);
        assert!(e.message.contains("`email`"), "{}", e.message);
        let nul = b"al\0ice";
        let e = unsafe { text(f, nul.as_ptr().cast(), nul.len(), "email") }.unwrap_err();
        assert_eq!(e.status, CohortStatus::InteriorNul);
        assert!(e.message.contains("offset 2"), "{}", e.message);
        let bad = b"caf\xc3";
        let e = unsafe { text(f, bad.as_ptr().cast(), bad.len(), "name") }.unwrap_err();
        assert_eq!(e.status, CohortStatus::InvalidUtf8);
        assert!(e.message.contains("byte 3"), "{}", e.message);
        // The length is checked before the pointer is read: a huge length is never dereferenced.
        let e = unsafe { text(f, ok.as_ptr().cast(), usize::MAX, "token") }.unwrap_err();
        assert_eq!(e.status, CohortStatus::InputTooLarge);
        assert_eq!(
            unsafe { optional_text(f, std::ptr::null(), 99, "name") }.unwrap(),
            None
        );
    }

    #[test]
    fn json_outputs_are_written_only_on_success() {
        let mut out: *mut c_char = std::ptr::null_mut();
        unsafe { write_json("cohort_example", &mut out, &["a", "b"]) }.unwrap();
        let s = unsafe { CString::from_raw(out) };
        assert_eq!(s.to_str().unwrap(), r#"["a","b"]"#);
        let e = unsafe { write_json("cohort_example", std::ptr::null_mut(), &1) }.unwrap_err();
        assert_eq!(e.status, CohortStatus::NullArgument);
        let e = json("cohort_example", "[1,", "permissions").unwrap_err();
        assert_eq!(e.status, CohortStatus::InvalidJson);
    }
}
