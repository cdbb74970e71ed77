//! The `extern "C"` exports of the module (ABI version 2, documented in wasm/README.md);
//! the index functions are in `index_abi.rs`.

use alloc::alloc::{alloc, dealloc, Layout};
use alloc::format;
use alloc::string::String;
use core::cell::UnsafeCell;

use ferrovec_core::{Error, Result};

use crate::memory::{Memory, WasmMemory};
#[cfg(feature = "kernels")]
use crate::ops;
use crate::ABI_VERSION;

// ------------------------------------------------------------------ last error

/// The message of the last failure, and whether the most recent call failed.
struct LastError {
    message: String,
    set: bool,
}

pub(crate) struct Global<T>(pub(crate) UnsafeCell<T>);

// SAFETY: this build is single-threaded (wasm32 without the `atomics` feature, enforced
// by a compile_error in lib.rs), so there is no concurrent access at all.
unsafe impl<T> Sync for Global<T> {}

static LAST_ERROR: Global<LastError> = Global(UnsafeCell::new(LastError {
    message: String::new(),
    set: false,
}));

fn with_last_error<R>(f: impl FnOnce(&mut LastError) -> R) -> R {
    // SAFETY: single-threaded (see `Global`), and no caller re-enters while `f` runs.
    f(unsafe { &mut *LAST_ERROR.0.get() })
}

/// Every kernel (and, later, object) export starts here, so that right after such a call a
/// non-empty message means that call failed. `fv_alloc`/`fv_free` do not clear it.
#[cfg_attr(
    not(any(
        feature = "kernels",
        feature = "index",
        feature = "solver",
        feature = "encoder"
    )),
    allow(dead_code)
)]
#[inline(always)]
pub(crate) fn begin() {
    with_last_error(|e| e.set = false);
}

fn fail(err: &Error) {
    with_last_error(|e| {
        e.message.clear();
        // Writing to a String cannot fail (short of allocation failure, which traps).
        let _ = core::fmt::write(&mut e.message, format_args!("{err}\0"));
        e.set = true;
    });
}

/// The result, or (recording the error) the function's documented error value.
#[cfg_attr(not(feature = "kernels"), allow(dead_code))]
fn value<T>(on_error: T, result: Result<T>) -> T {
    result.unwrap_or_else(|err| {
        fail(&err);
        on_error
    })
}

#[cfg_attr(
    not(any(
        feature = "kernels",
        feature = "index",
        feature = "solver",
        feature = "encoder"
    )),
    allow(dead_code)
)]
pub(crate) fn status(result: Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(err) => {
            fail(&err);
            err.code()
        }
    }
}

/// The ABI version this module implements ([`ABI_VERSION`]). A host must refuse other
/// versions.
#[no_mangle]
pub extern "C" fn fv_abi_version() -> u32 {
    ABI_VERSION
}

/// Bit 0: built with simd128.
#[no_mangle]
pub extern "C" fn fv_capabilities() -> u32 {
    crate::capabilities()
}

/// Pointer to the UTF-8 message of the most recent call if it failed (NUL-terminated; the
/// length, without the NUL, is written as a little-endian u32 to `out_len_ptr` unless that
/// is 0 or out of bounds). After a successful call the message is empty (length 0). Valid
/// until the next call of any other `fv_*` function.
#[no_mangle]
pub extern "C" fn fv_last_error(out_len_ptr: u32) -> u32 {
    with_last_error(|e| {
        if e.message.is_empty() {
            // Give the (never-read) buffer a stable address.
            e.message.push('\0');
        }
        let len = if e.set { e.message.len() as u32 - 1 } else { 0 };
        let ptr = if e.set {
            e.message.as_ptr() as u32
        } else {
            // The NUL at the end of the buffer: an empty C string.
            e.message.as_ptr() as u32 + e.message.len() as u32 - 1
        };
        if out_len_ptr != 0 && u64::from(out_len_ptr) + 4 <= WasmMemory.size() {
            let dst = WasmMemory.at(out_len_ptr).cast::<u32>();
            // SAFETY: 4 in-bounds bytes (checked above); unaligned write; the host does not
            // run during this call.
            unsafe { dst.write_unaligned(len.to_le()) };
        }
        ptr
    })
}

// ------------------------------------------------------------------ allocation

/// Every block is aligned to 16 bytes (enough for any scalar or v128).
const ALIGN: usize = 16;
/// The block header: a cookie and the size, so `fv_free` can check what it is given.
const HEADER: usize = 16;
const COOKIE: u32 = 0xF0E1_7EC0;

fn layout(size: u32) -> Option<Layout> {
    let total = (size.max(1) as usize).checked_add(HEADER)?;
    Layout::from_size_align(total, ALIGN).ok()
}

fn cookie(ptr: u32, size: u32) -> [u32; 4] {
    [COOKIE ^ ptr, size, !size, COOKIE.rotate_left(7) ^ ptr]
}

/// Allocates `size` bytes (16-byte aligned; 0 is allowed and gives a valid, distinct block)
/// and returns their offset, or 0 with a message if memory cannot grow that far. Does not
/// clear an earlier message (so a host can allocate room to read it).
#[no_mangle]
pub extern "C" fn fv_alloc(size: u32) -> u32 {
    let Some(layout) = layout(size) else {
        fail(&Error::InvalidArgument(format!(
            "cannot allocate {size} bytes: larger than the address space"
        )));
        return 0;
    };
    // SAFETY: `layout` has a non-zero size.
    let block = unsafe { alloc(layout) };
    if block.is_null() {
        fail(&Error::InvalidArgument(format!(
            "cannot allocate {size} bytes: out of memory"
        )));
        return 0;
    }
    let ptr = block.expose_provenance() as u32 + HEADER as u32;
    // SAFETY: `block` starts HEADER (16) writable, 16-aligned bytes.
    unsafe { block.cast::<[u32; 4]>().write(cookie(ptr, size)) };
    ptr
}

/// The header of a live `fv_alloc(size)` block at `ptr` whose first word is `cookie ^ ptr`
/// (`COOKIE` for a block the host owns, `OWNED` for one the module took over), or `None`.
#[cfg_attr(not(feature = "encoder"), allow(dead_code))]
fn header_of(ptr: u32, size: u32, cookie_word: u32) -> Option<*mut [u32; 4]> {
    layout(size)?;
    if ptr as usize % ALIGN != 0
        || (ptr as usize) < HEADER
        || u64::from(ptr) + size as u64 > WasmMemory.size()
    {
        return None;
    }
    let header = WasmMemory.at(ptr - HEADER as u32).cast::<[u32; 4]>();
    let mut expected = cookie(ptr, size);
    expected[0] = cookie_word ^ ptr;
    // SAFETY: 16 in-bounds (ptr + size <= memory size, ptr >= 16), 16-aligned bytes.
    (unsafe { header.read() } == expected).then_some(header)
}

/// The first header word of a block the module took over from the host: `fv_free` (and a
/// second take) no longer recognize it.
#[cfg_attr(not(feature = "encoder"), allow(dead_code))]
const OWNED: u32 = 0x0E1D_B10C;

/// Takes over a live block from `fv_alloc(size)`: from now on the host's `fv_free` of it
/// fails (as for a freed block) and only [`release_block`] or [`give_back_block`] ends it.
/// Fails (`InvalidArgument`) if `ptr` is not a live host block of exactly `size` bytes.
#[cfg_attr(not(feature = "encoder"), allow(dead_code))]
pub(crate) fn take_block(ptr: u32, size: u32, arg: &str) -> Result<()> {
    let header = header_of(ptr, size, COOKIE).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "`{arg}` ({size} bytes at offset {ptr}) must be a live block from fv_alloc({size}) \
             that the module does not own yet"
        ))
    })?;
    // SAFETY: a live block's header (checked above).
    unsafe { (*header)[0] = OWNED ^ ptr };
    Ok(())
}

/// Returns a block taken by [`take_block`] to the host (after a failed call).
#[cfg_attr(not(feature = "encoder"), allow(dead_code))]
pub(crate) fn give_back_block(ptr: u32, size: u32) {
    if let Some(header) = header_of(ptr, size, OWNED) {
        // SAFETY: a live block's header (checked above).
        unsafe { (*header)[0] = COOKIE ^ ptr };
    }
}

/// Frees a block taken by [`take_block`].
#[cfg_attr(not(feature = "encoder"), allow(dead_code))]
pub(crate) fn release_block(ptr: u32, size: u32) {
    give_back_block(ptr, size);
    fv_free(ptr, size);
}

/// Frees a block from `fv_alloc(size)`. `ptr = 0` does nothing. A pointer that was not
/// returned by `fv_alloc` with this `size`, or was already freed, is detected by the block
/// header in all but contrived cases: nothing is freed and the last error says why. Does
/// not clear an earlier message.
#[no_mangle]
pub extern "C" fn fv_free(ptr: u32, size: u32) {
    if ptr == 0 {
        return;
    }
    let misuse = || {
        fail(&Error::InvalidArgument(format!(
            "fv_free({ptr}, {size}): not a live block from fv_alloc({size}) (already freed, \
             a different size, or not from fv_alloc)"
        )))
    };
    let Some(layout) = layout(size) else {
        return misuse();
    };
    let start = ptr as usize - HEADER.min(ptr as usize);
    if ptr as usize % ALIGN != 0
        || (ptr as usize) < HEADER
        || u64::from(ptr) + size as u64 > WasmMemory.size()
    {
        return misuse();
    }
    let header = WasmMemory.at(start as u32).cast::<[u32; 4]>();
    // SAFETY: 16 in-bounds (ptr + size <= memory size, ptr >= 16), 16-aligned bytes.
    if unsafe { header.read() } != cookie(ptr, size) {
        return misuse();
    }
    // SAFETY: as above. Clearing the cookie makes a second free of this block fail; the
    // write is volatile because LLVM deletes plain stores to memory that is freed next.
    unsafe { header.write_volatile([0; 4]) };
    // SAFETY: the header proves (barring forgery by the host, which can only corrupt its
    // own sandbox) that `header` is a live block allocated with exactly `layout`.
    unsafe { dealloc(header.cast(), layout) };
}

// ------------------------------------------------------------------ kernels

/// The ABI v1 kernels (feature `kernels`, on by default; the solver modules leave them out:
/// wasm/README.md, "Modules").
#[cfg(feature = "kernels")]
mod kernels {
    use super::*;

    /// Inner product of `n` f32 at `a` and `b`. NaN with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_dot_f32(a: u32, b: u32, n: u32) -> f32 {
        begin();
        value(f32::NAN, ops::dot_f32(&WasmMemory, a, b, n))
    }

    /// Cosine distance in `[0, 2]`. NaN with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_cosine_distance_f32(a: u32, b: u32, n: u32) -> f32 {
        begin();
        value(f32::NAN, ops::cosine_distance_f32(&WasmMemory, a, b, n))
    }

    /// Squared Euclidean distance. NaN with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_l2sq_f32(a: u32, b: u32, n: u32) -> f32 {
        begin();
        value(f32::NAN, ops::l2sq_f32(&WasmMemory, a, b, n))
    }

    /// i8 inner product. `i32::MIN` with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_dot_i8(a: u32, b: u32, n: u32) -> i32 {
        begin();
        value(i32::MIN, ops::dot_i8(&WasmMemory, a, b, n))
    }

    /// i8 squared Euclidean distance. `u32::MAX` with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_l2sq_i8(a: u32, b: u32, n: u32) -> u32 {
        begin();
        value(u32::MAX, ops::l2sq_i8(&WasmMemory, a, b, n))
    }

    /// Hamming distance of packed bits. `u32::MAX` with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_hamming_b1(a: u32, b: u32, n_bytes: u32) -> u32 {
        begin();
        value(u32::MAX, ops::hamming_b1(&WasmMemory, a, b, n_bytes))
    }

    /// Jaccard distance of packed bits. NaN with a message on a bad pointer.
    #[no_mangle]
    pub extern "C" fn fv_jaccard_b1(a: u32, b: u32, n_bytes: u32) -> f32 {
        begin();
        value(f32::NAN, ops::jaccard_b1(&WasmMemory, a, b, n_bytes))
    }

    /// Tells the kernels what runs this module, so that the scans take the loop shape that is
    /// fastest there: 0 a compiler (V8, SpiderMonkey, wasmtime: any JIT or AOT engine; the
    /// default), 1 an interpreter (wasmi). Results never depend on it, only speed. Returns 0,
    /// or -3 (`InvalidArgument`, nothing changed) for another value.
    #[no_mangle]
    pub extern "C" fn fv_set_engine_hint(hint: u32) -> i32 {
        begin();
        status(ops::set_engine_hint(hint))
    }

    /// One query against `n_rows` rows of `dims` f32; 0 or a negative status (the core
    /// `Error::code`). `out` is written only on success.
    #[no_mangle]
    pub extern "C" fn fv_scan_f32(
        metric: i32,
        query: u32,
        rows: u32,
        n_rows: u32,
        dims: u32,
        out: u32,
    ) -> i32 {
        begin();
        status(ops::scan_f32(
            &WasmMemory,
            metric,
            query,
            rows,
            n_rows,
            dims,
            out,
        ))
    }
}
