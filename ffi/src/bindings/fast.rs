//! The search fast path of the Python and Kotlin layers: plain C functions taking an index
//! id, called through ctypes / JNA direct mapping.
//!
//! Why: a UniFFI method call costs several foreign calls (clone the object handle, the
//! method, free the returned buffer) plus lifting every record field by field. Measured here
//! (`make bench-python`, `make bench-kotlin`): 40-50 us per k = 10 search from Python and
//! ~100 us from Kotlin/JNA, against the budget of 10 us. One C call writing keys and
//! distances into caller-owned arrays costs a few us.
//!
//! Only `search` (the call apps make in a loop) takes this path, and only on success: a
//! non-zero status makes the language layer repeat the call through UniFFI, which raises
//! the typed exception with its message (a search changes nothing, so repeating it is
//! harmless). Ids come from [`Index::fast_path_id`](super::Index::fast_path_id) and live
//! in a registry until the index is released or dropped, so a stale id is an error
//! (`InvalidHandle`), never a dangling pointer.
//!
//! Not part of the C API (`include/ferrovec.h`, hence `cbindgen:ignore`): an internal
//! contract between this module and `bindings/{python,kotlin}`.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};

use ferrovec_core::Error;

fn registry() -> &'static RwLock<HashMap<u64, crate::Index>> {
    static REGISTRY: OnceLock<RwLock<HashMap<u64, crate::Index>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Registers `index` (a shared clone) and returns its new id (never 0).
pub(crate) fn register(index: crate::Index) -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    registry()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, index);
    id
}

/// Forgets `id` (no-op if unknown).
pub(crate) fn unregister(id: u64) {
    registry()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
}

/// The search of the fast path (see the module docs): the `k` nearest to `query` (`n`
/// floats). `out` receives, little-endian: the number of matches `m` (u32) and 4 bytes of
/// padding, then `m` records of 16 bytes (u64 key, f32 distance, 4 bytes of padding), so
/// it must hold `8 + 16 * k` bytes, 8-byte aligned (fixed offsets whatever `k` is, so the
/// caller can keep views of one block). Returns 0 or a negative `Error::code`;
/// on failure nothing is written.
///
/// # Safety
/// `query` must be readable for `n` floats and `out` writable for `8 + 16 * k` bytes
/// (8-byte aligned), for the duration of the call; null is accepted only with n = 0.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn ferrovec_fast_index_search(
    id: u64,
    query: *const f32,
    n: u32,
    k: u32,
    out: *mut u8,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { search_into(id, query, n, k, None, out) }
}

/// [`ferrovec_fast_index_search`] among the `n_allowed` keys at `allowed` only.
///
/// # Safety
/// As [`ferrovec_fast_index_search`], and `allowed` readable for `n_allowed` u64 (8-byte
/// aligned; null only with `n_allowed` = 0).
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn ferrovec_fast_index_search_allowed(
    id: u64,
    query: *const f32,
    n: u32,
    k: u32,
    allowed: *const u64,
    n_allowed: u32,
    out: *mut u8,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { search_into(id, query, n, k, Some((allowed, n_allowed)), out) }
}

/// # Safety
/// See [`ferrovec_fast_index_search_allowed`].
unsafe fn search_into(
    id: u64,
    query: *const f32,
    n: u32,
    k: u32,
    allowed: Option<(*const u64, u32)>,
    out: *mut u8,
) -> i32 {
    let run = || -> Result<(), Error> {
        if out.is_null() {
            return Err(Error::NullPointer { arg: "out" });
        }
        if !out.cast::<u64>().is_aligned() {
            return Err(Error::InvalidArgument("`out` is not 8-byte aligned".into()));
        }
        // SAFETY: readable for `n` floats by the contract; null only with n = 0 (checked).
        let query = unsafe { slice(query, n, "query")? };
        let index = registry()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or(Error::InvalidHandle)?;
        let found = match allowed {
            Some((ptr, len)) => {
                // SAFETY: readable for `len` keys by the contract (checked for null).
                let allowed = unsafe { slice(ptr, len, "allowed")? };
                index.search_allowed(query, k as usize, allowed)?
            }
            None => index.search(query, k as usize)?,
        };
        if found.len() > k as usize {
            return Err(Error::Internal(
                "search returned more than k matches".into(),
            ));
        }
        // SAFETY: `out` is 8-byte aligned (checked) and writable for 8 + 16 k bytes: the
        // count at 0, record i (i < k) at 8 + 16 i: its key (8-aligned) and distance.
        unsafe {
            for (i, m) in found.iter().enumerate() {
                let record = out.add(8 + 16 * i);
                record.cast::<u64>().write(m.key.to_le());
                record
                    .add(8)
                    .cast::<u32>()
                    .write(m.distance.to_bits().to_le());
            }
            out.cast::<u32>().write((found.len() as u32).to_le());
        }
        Ok(())
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(())) => 0,
        Ok(Err(err)) => err.code(),
        Err(_) => Error::Internal(String::new()).code(),
    }
}

/// # Safety
/// `ptr` must be readable for `n` elements unless it is null.
unsafe fn slice<'a, T>(ptr: *const T, n: u32, arg: &'static str) -> Result<&'a [T], Error> {
    if n == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::NullPointer { arg });
    }
    if !ptr.is_aligned() {
        return Err(Error::InvalidArgument(format!("`{arg}` is not aligned")));
    }
    // SAFETY: non-null, aligned, readable for `n` elements (the caller's contract).
    Ok(unsafe { std::slice::from_raw_parts(ptr, n as usize) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, IndexMetric, IndexOptions};

    fn read(out: &[u64; 9]) -> (u32, Vec<u64>, Vec<f32>) {
        let n = out[0] as u32;
        let keys = (0..4).map(|i| out[1 + 2 * i]).collect();
        let dist = (0..4)
            .map(|i| f32::from_bits(out[2 + 2 * i] as u32))
            .collect();
        (n, keys, dist)
    }

    #[test]
    fn search_through_an_id_and_errors_as_codes() {
        let index =
            crate::Index::new(&Engine::native(), IndexOptions::new(2, IndexMetric::L2sq)).unwrap();
        index.add(7, &[1.0, 0.0]).unwrap();
        index.add(9, &[0.0, 1.0]).unwrap();
        let id = register(index);
        // k = 4: 8 + 16 * 4 = 72 bytes = 9 words, aligned.
        let mut out = [0u64; 9];
        let q = [0.9f32, 0.1];
        let o = out.as_mut_ptr().cast::<u8>();
        // SAFETY: valid buffers of the documented sizes.
        assert_eq!(
            unsafe { ferrovec_fast_index_search(id, q.as_ptr(), 2, 4, o) },
            0
        );
        let (n, keys, dist) = read(&out);
        assert_eq!((n, keys[0], keys[1]), (2, 7, 9));
        assert!((dist[0] - 0.02).abs() < 1e-6, "{dist:?}");
        let allowed = [9u64];
        // SAFETY: as above.
        let status = unsafe {
            ferrovec_fast_index_search_allowed(id, q.as_ptr(), 2, 4, allowed.as_ptr(), 1, o)
        };
        assert_eq!(status, 0);
        assert_eq!((read(&out).0, read(&out).1[0]), (1, 9));
        // SAFETY: as above; the wrong dimension is refused without writing.
        out[0] = 77;
        assert_eq!(
            unsafe { ferrovec_fast_index_search(id, q.as_ptr(), 1, 4, o) },
            -2
        );
        assert_eq!(out[0], 77);
        // SAFETY: as above: a null query with n > 0, and k = 0, are errors.
        assert_eq!(
            unsafe { ferrovec_fast_index_search(id, std::ptr::null(), 2, 4, o) },
            -1
        );
        assert_eq!(
            unsafe { ferrovec_fast_index_search(id, q.as_ptr(), 2, 0, o) },
            -3
        );
        unregister(id);
        // SAFETY: as above.
        assert_eq!(
            unsafe { ferrovec_fast_index_search(id, q.as_ptr(), 2, 4, o) },
            Error::InvalidHandle.code()
        );
    }
}
