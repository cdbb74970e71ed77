//! The C ABI: `fv_*` functions, status codes and the thread-local last error.
//!
//! Rules every function here keeps:
//! - No panic crosses the boundary: bodies run under [`guard`], which turns a panic into
//!   `FV_ERR_INTERNAL` plus a message.
//! - A null pointer is accepted only with a zero length; otherwise it is `FV_ERR_NULL_POINTER`.
//! - On failure the message is available from [`fv_last_error_message`] on the same thread
//!   until the next failing call there; successful calls leave it alone.
//! - Inputs are never written; outputs are written only on success.

mod encoder;
mod engine;
mod index;
mod kernels;
mod solver;

use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, OnceLock};

use ferrovec_core::Error;

pub use encoder::*;
pub use engine::*;
pub use index::*;
pub use kernels::*;
pub use solver::*;

/// Success.
pub const FV_OK: i32 = 0;
/// A required pointer argument was null.
pub const FV_ERR_NULL_POINTER: i32 = -1;
/// Lengths that must agree do not.
pub const FV_ERR_DIMENSION_MISMATCH: i32 = -2;
/// An argument is outside its documented domain (misaligned or overlapping buffers,
/// overflowing sizes, ...).
pub const FV_ERR_INVALID_ARGUMENT: i32 = -3;
/// A metric code that is not one of the `FV_METRIC_*` constants.
pub const FV_ERR_UNKNOWN_METRIC: i32 = -4;
/// The requested instruction set is not available on this machine.
pub const FV_ERR_UNSUPPORTED_ISA: i32 = -5;
/// The wasm module given to an interpreted engine was refused (malformed, wrong SHA-256,
/// has imports, lacks an export, or speaks another ABI version).
pub const FV_ERR_INVALID_MODULE: i32 = -6;
/// An interpreted call used up its fuel budget; the engine stays usable.
pub const FV_ERR_OUT_OF_FUEL: i32 = -7;
/// Memory ran out (for an interpreted engine: its linear-memory cap); the engine stays usable.
pub const FV_ERR_OUT_OF_MEMORY: i32 = -8;
/// The wasm module trapped; the engine replaces its instance and stays usable.
pub const FV_ERR_TRAP: i32 = -9;
/// No vector is stored under the key (`fv_index_remove`, `fv_index_get`).
pub const FV_ERR_KEY_NOT_FOUND: i32 = -10;
/// The key is already in the index and the caller asked for an error on duplicates.
pub const FV_ERR_DUPLICATE_KEY: i32 = -11;
/// Bytes or a file that are not a valid ferrovec index: bad magic, checksum mismatch,
/// truncated, or hostile lengths.
pub const FV_ERR_CORRUPT_FILE: i32 = -12;
/// A saved index of a format version this library cannot read.
pub const FV_ERR_UNSUPPORTED_VERSION: i32 = -13;
/// A stale, freed or never-issued handle (wasm handle registry).
pub const FV_ERR_INVALID_HANDLE: i32 = -14;
/// A bug in ferrovec was caught before it could cross into C; please report it.
pub const FV_ERR_INTERNAL: i32 = -99;

/// `fv_dot_i8` returns this on error (no valid result for `n <= 65536` can be this value).
pub const FV_ERROR_I32: i32 = i32::MIN;
/// `fv_l2sq_i8` and `fv_hamming_b1` return this on error (no valid result for
/// `n <= 65536` bytes can be this value).
pub const FV_ERROR_U32: u32 = u32::MAX;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(err: &Error) {
    // Display output of our own enum never contains NUL; if it ever did, say so.
    let text = CString::new(err.to_string())
        .unwrap_or_else(|_| CString::from(c"error message contained a NUL byte"));
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(text));
}

/// Runs `body`, turning a panic into `Error::Internal`.
fn run<T>(body: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        Err(Error::Internal(what))
    })
}

/// Runs `body` for a function that returns a value: an error (or panic) records its message
/// and yields `on_error`.
pub(crate) fn guard<T>(on_error: T, body: impl FnOnce() -> Result<T, Error>) -> T {
    run(body).unwrap_or_else(|err| {
        set_last_error(&err);
        on_error
    })
}

/// Runs `body` for a function that returns a status code: `FV_OK` or the error's code.
pub(crate) fn guard_status(body: impl FnOnce() -> Result<(), Error>) -> i32 {
    match run(body) {
        Ok(()) => FV_OK,
        Err(err) => {
            set_last_error(&err);
            err.code()
        }
    }
}

/// Borrows `n` elements at `ptr` as a slice after checking what C can get wrong.
///
/// # Safety
/// If `ptr` is non-null and `n > 0`, it must point to `n` readable, initialised elements
/// that nothing writes for the lifetime `'a`.
pub(crate) unsafe fn c_slice<'a, T>(
    ptr: *const T,
    n: usize,
    arg: &'static str,
) -> Result<&'a [T], Error> {
    if n == 0 {
        return Ok(&[]);
    }
    check_pointer(ptr, n, arg)?;
    // SAFETY: non-null, aligned, size in range (checked above); validity is the caller's
    // contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, n) })
}

/// Mutable counterpart of [`c_slice`].
///
/// # Safety
/// If `ptr` is non-null and `n > 0`, it must point to `n` writable elements that nothing
/// else reads or writes for the lifetime `'a`.
pub(crate) unsafe fn c_slice_mut<'a, T>(
    ptr: *mut T,
    n: usize,
    arg: &'static str,
) -> Result<&'a mut [T], Error> {
    if n == 0 {
        return Ok(&mut []);
    }
    check_pointer(ptr, n, arg)?;
    // SAFETY: as in `c_slice`, plus exclusivity, which is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, n) })
}

#[inline]
fn check_pointer<T>(ptr: *const T, n: usize, arg: &'static str) -> Result<(), Error> {
    // The messages are built out of line: every kernel call passes through here, and the
    // formatting machinery inlined would cost each of them a heavier prologue.
    if ptr.is_null() {
        return Err(Error::NullPointer { arg });
    }
    if !ptr.is_aligned() {
        return Err(misaligned(arg, std::mem::align_of::<T>()));
    }
    if n.checked_mul(std::mem::size_of::<T>())
        .is_none_or(|bytes| bytes > isize::MAX as usize)
    {
        return Err(too_long(arg, n));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn misaligned(arg: &'static str, align: usize) -> Error {
    Error::InvalidArgument(format!("`{arg}` is not aligned to {align} bytes"))
}

#[cold]
#[inline(never)]
fn too_long(arg: &'static str, n: usize) -> Error {
    Error::InvalidArgument(format!("`{arg}` length {n} is too large"))
}

/// Fails if the byte ranges of two buffers overlap (an output must not alias an input).
pub(crate) fn check_disjoint<T, U>(
    a: &[T],
    a_name: &str,
    b: &[U],
    b_name: &str,
) -> Result<(), Error> {
    let a_range = a.as_ptr_range();
    let (a0, a1) = (a_range.start as usize, a_range.end as usize);
    let b_range = b.as_ptr_range();
    let (b0, b1) = (b_range.start as usize, b_range.end as usize);
    if a0 < b1 && b0 < a1 {
        return Err(Error::InvalidArgument(format!(
            "`{a_name}` overlaps `{b_name}`"
        )));
    }
    Ok(())
}

/// Checks an output pointer to one value: non-null and aligned.
pub(crate) fn check_out<T>(ptr: *mut T, arg: &'static str) -> Result<(), Error> {
    if ptr.is_null() {
        return Err(Error::NullPointer { arg });
    }
    if !ptr.is_aligned() {
        return Err(Error::InvalidArgument(format!("`{arg}` is not aligned")));
    }
    Ok(())
}

/// Borrows a NUL-terminated UTF-8 path.
///
/// # Safety
/// `path` NULL or a NUL-terminated string.
pub(crate) unsafe fn path_arg<'a>(path: *const c_char) -> Result<&'a str, Error> {
    if path.is_null() {
        return Err(Error::NullPointer { arg: "path" });
    }
    // SAFETY: non-null and NUL-terminated by the contract.
    unsafe { CStr::from_ptr(path) }
        .to_str()
        .map_err(|_| Error::InvalidArgument("`path` is not valid UTF-8".into()))
}

/// The live handles of one C type (`fv_index*`, `fv_sparse_matrix*`, ...): one `static`
/// per type, so a double free or a freed handle passed back in is `FV_ERR_INVALID_HANDLE`
/// instead of undefined behaviour (unless its address was reused by a newer handle of the
/// same type in the meantime), and a handle of one type passed as another is refused.
pub(crate) struct Handles(OnceLock<Mutex<HashSet<usize>>>);

impl Handles {
    pub(crate) const fn new() -> Handles {
        Handles(OnceLock::new())
    }

    fn live(&self) -> MutexGuard<'_, HashSet<usize>> {
        // The set is only inserted into or removed from whole: a poisoned lock is usable.
        self.0
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Boxes `value`, records it as live and writes the pointer to `*out`.
    ///
    /// # Safety
    /// `out` must be writable; it must have passed [`check_out`].
    pub(crate) unsafe fn publish<T>(&self, value: T, out: *mut *mut T) {
        let ptr = Box::into_raw(Box::new(value));
        self.live().insert(ptr as usize);
        // SAFETY: non-null and aligned (checked by the caller), writable by its contract.
        unsafe { out.write(ptr) };
    }

    /// Borrows a live handle.
    ///
    /// # Safety
    /// `ptr` must be NULL, a handle of this type from [`Handles::publish`], or a freed one
    /// (detected); it must not be freed while the borrow lasts.
    pub(crate) unsafe fn get<'a, T>(
        &self,
        ptr: *const T,
        arg: &'static str,
    ) -> Result<&'a T, Error> {
        if ptr.is_null() {
            return Err(Error::NullPointer { arg });
        }
        if !self.live().contains(&(ptr as usize)) {
            return Err(Error::InvalidHandle);
        }
        // SAFETY: live (checked above) and not freed concurrently (the caller's contract).
        Ok(unsafe { &*ptr })
    }

    /// Frees a handle: NULL is `FV_OK` and does nothing; a pointer that is not live is
    /// `FV_ERR_INVALID_HANDLE` and frees nothing.
    ///
    /// # Safety
    /// `ptr` must be NULL or a pointer from [`Handles::publish`] on this registry; no other
    /// thread may be using it.
    pub(crate) unsafe fn free<T>(&self, ptr: *mut T) -> i32 {
        if ptr.is_null() {
            return FV_OK;
        }
        guard_status(|| {
            if !self.live().remove(&(ptr as usize)) {
                return Err(Error::InvalidHandle);
            }
            // SAFETY: made by Box::into_raw in `publish` and live until the line above.
            drop(unsafe { Box::from_raw(ptr) });
            Ok(())
        })
    }
}

/// The message of the last failed call on this thread, as NUL-terminated UTF-8.
///
/// Never null: an empty string if no call has failed on this thread yet. The pointer stays
/// valid until the next failing `fv_*` call on the same thread; copy the text to keep it.
/// Successful calls do not clear it.
#[no_mangle]
pub extern "C" fn fv_last_error_message() -> *const c_char {
    LAST_ERROR.with(|slot| match &*slot.borrow() {
        Some(message) => message.as_ptr(),
        None => c"".as_ptr(),
    })
}

/// The version of the ferrovec library, e.g. `"0.1.0"` (static, never null).
#[no_mangle]
pub extern "C" fn fv_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
