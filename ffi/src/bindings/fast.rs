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

/// The bulk add of the fast path (Kotlin's `addBatch(LongArray, FloatArray)`, whose arrays JNA
/// hands over without the zeroed direct buffer a UniFFI call needs): `n` keys and
/// `n_floats` floats (row-major), all or nothing; `replace` non-zero replaces live keys.
/// Returns 0 or a negative `Error::code` (the layer then repeats the call through UniFFI for
/// the typed exception; a failed add changed nothing).
///
/// # Safety
/// `keys` must be readable for `n` u64 and `vectors` for `n_floats` floats (null only with
/// a zero length), for the duration of the call.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn ferrovec_fast_index_add_batch(
    id: u64,
    keys: *const u64,
    n: u32,
    vectors: *const f32,
    n_floats: u32,
    replace: u32,
) -> i32 {
    let run = || -> Result<(), Error> {
        // SAFETY: readable for the given lengths by the contract (checked for null).
        let (keys, vectors) = unsafe {
            (
                slice(keys, n, "keys")?,
                slice(vectors, n_floats, "vectors")?,
            )
        };
        let index = registry()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or(Error::InvalidHandle)?;
        let on_duplicate = if replace != 0 {
            crate::OnDuplicate::Replace
        } else {
            crate::OnDuplicate::Error
        };
        index.add_batch(keys, vectors, on_duplicate)
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(())) => 0,
        Ok(Err(err)) => err.code(),
        Err(_) => Error::Internal(String::new()).code(),
    }
}

/// Benchmark support (`make bench-python`, `make bench-kotlin`): the Rust baseline, timed in
/// Rust inside the same library and process as the language's own calls, on the same index.
/// Runs `search(query_i, k)` for each of the `n_queries` queries (row-major, `dims` floats
/// each), `rounds` times over, and returns the mean nanoseconds per call, or a negative
/// `Error::code` on failure.
///
/// # Safety
/// `queries` must be readable for `n_queries * dims` floats.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn ferrovec_fast_bench_search(
    id: u64,
    queries: *const f32,
    n_queries: u32,
    dims: u32,
    k: u32,
    rounds: u32,
) -> f64 {
    let run = || -> Result<f64, Error> {
        let total = n_queries
            .checked_mul(dims)
            .ok_or_else(|| Error::InvalidArgument("n_queries * dims overflows".into()))?;
        // SAFETY: readable for n_queries * dims floats by the contract.
        let queries = unsafe { slice(queries, total, "queries")? };
        let index = registry()
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or(Error::InvalidHandle)?;
        if dims == 0 || n_queries == 0 || rounds == 0 {
            return Err(Error::InvalidArgument("no queries".into()));
        }
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            for q in queries.chunks_exact(dims as usize) {
                std::hint::black_box(index.search(std::hint::black_box(q), k as usize)?);
            }
        }
        let calls = f64::from(n_queries) * f64::from(rounds);
        Ok(start.elapsed().as_secs_f64() * 1e9 / calls)
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(ns)) => ns,
        Ok(Err(err)) => f64::from(err.code()),
        Err(_) => f64::from(Error::Internal(String::new()).code()),
    }
}

/// Benchmark support: the Rust baseline of a bulk add. Creates a native exact cosine f32
/// index of `dims`, adds the `n` keys and vectors in one `add_batch` and returns the
/// seconds that call took (the index is then dropped), or a negative `Error::code`.
///
/// # Safety
/// `keys` must be readable for `n` u64 and `vectors` for `n * dims` floats.
/// cbindgen:ignore
#[no_mangle]
pub unsafe extern "C" fn ferrovec_fast_bench_add(
    keys: *const u64,
    vectors: *const f32,
    n: u32,
    dims: u32,
) -> f64 {
    let run = || -> Result<f64, Error> {
        let total = n
            .checked_mul(dims)
            .ok_or_else(|| Error::InvalidArgument("n * dims overflows".into()))?;
        // SAFETY: readable for n keys and n * dims floats by the contract.
        let (keys, vectors) =
            unsafe { (slice(keys, n, "keys")?, slice(vectors, total, "vectors")?) };
        let options = crate::IndexOptions::new(dims as usize, crate::IndexMetric::Cosine);
        let index = crate::Index::new(&crate::Engine::native(), options)?;
        let start = std::time::Instant::now();
        index.add_batch(keys, vectors, crate::OnDuplicate::Error)?;
        let seconds = start.elapsed().as_secs_f64();
        drop(index);
        Ok(seconds)
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(s)) => s,
        Ok(Err(err)) => f64::from(err.code()),
        Err(_) => f64::from(Error::Internal(String::new()).code()),
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
        // SAFETY: one key and one 2-float row; then a duplicate, refused without a change.
        assert_eq!(
            unsafe {
                ferrovec_fast_index_add_batch(id, [5u64].as_ptr(), 1, [0.5f32, 0.5].as_ptr(), 2, 0)
            },
            0
        );
        assert_eq!(
            unsafe {
                ferrovec_fast_index_add_batch(id, [5u64].as_ptr(), 1, [0.5f32, 0.5].as_ptr(), 2, 0)
            },
            -11
        );
        unregister(id);
        // SAFETY: as above.
        assert_eq!(
            unsafe { ferrovec_fast_index_search(id, q.as_ptr(), 2, 4, o) },
            Error::InvalidHandle.code()
        );
    }
}
