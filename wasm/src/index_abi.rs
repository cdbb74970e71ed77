//! The `fv_index_*` exports of ABI version 2 (wasm/README.md, "Indexes"): thin wrappers
//! over `index_ops.rs` that hold the module's index registry and report errors.

use alloc::vec::Vec;
use core::cell::UnsafeCell;

use ferrovec_core::index::Index;
use ferrovec_core::{Error, Result};

use crate::abi::{begin, fv_alloc, status, Global};
use crate::handles::Registry;
use crate::index_ops as ops;
use crate::memory::{Memory, WasmMemory};

static INDEXES: Global<Registry<Index>> = Global(UnsafeCell::new(Registry::new()));

fn with<R>(f: impl FnOnce(&mut Registry<Index>) -> R) -> R {
    // SAFETY: single-threaded (see `Global`), and no export re-enters while `f` runs (the
    // module calls nothing outside itself).
    f(unsafe { &mut *INDEXES.0.get() })
}

/// Runs an index function: clears the last error, reports a failure.
fn call(f: impl FnOnce(&mut Registry<Index>) -> Result<()>) -> i32 {
    begin();
    status(with(f))
}

/// Creates an index; writes its handle (u32) to `out_handle`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_index_new(
    dims: u32,
    metric: i32,
    storage: i32,
    kind: i32,
    m: u32,
    ef_construction: u32,
    ef_search: u32,
    seed: u64,
    out_handle: u32,
) -> i32 {
    call(|reg| {
        ops::new(
            &WasmMemory,
            reg,
            dims,
            metric,
            storage,
            kind,
            m,
            ef_construction,
            ef_search,
            seed,
            out_handle,
        )
    })
}

/// Loads an index from `len` bytes at `bytes`; writes its handle to `out_handle`.
#[no_mangle]
pub extern "C" fn fv_index_load(bytes: u32, len: u32, out_handle: u32) -> i32 {
    call(|reg| ops::load(&WasmMemory, reg, bytes, len, out_handle))
}

/// Frees an index; its handle is stale afterwards.
#[no_mangle]
pub extern "C" fn fv_index_free(h: u32) -> i32 {
    call(|reg| ops::free(reg, h))
}

/// Writes 12 u32 describing the index to `out` (see the README).
#[no_mangle]
pub extern "C" fn fv_index_info(h: u32, out: u32) -> i32 {
    call(|reg| ops::info(&WasmMemory, reg, h, out))
}

/// Adds `n` (= dims) f32 at `vector` under `key`; `replace` 1 replaces a live key.
#[no_mangle]
pub extern "C" fn fv_index_add(h: u32, key: u64, vector: u32, n: u32, replace: u32) -> i32 {
    call(|reg| ops::add(&WasmMemory, reg, h, key, vector, n, replace))
}

/// Adds `n` keys (u64) with `n_floats` f32, all or nothing.
#[no_mangle]
pub extern "C" fn fv_index_add_batch(
    h: u32,
    keys: u32,
    n: u32,
    vectors: u32,
    n_floats: u32,
    replace: u32,
) -> i32 {
    call(|reg| ops::add_batch(&WasmMemory, reg, h, keys, n, vectors, n_floats, replace))
}

/// Removes `key` (`KeyNotFound` if it is not live).
#[no_mangle]
pub extern "C" fn fv_index_remove(h: u32, key: u64) -> i32 {
    call(|reg| ops::remove(reg, h, key))
}

/// Reclaims removed vectors' space and repairs the graph.
#[no_mangle]
pub extern "C" fn fv_index_compact(h: u32) -> i32 {
    call(|reg| ops::compact(reg, h))
}

/// Removes every vector.
#[no_mangle]
pub extern "C" fn fv_index_clear(h: u32) -> i32 {
    call(|reg| ops::clear(reg, h))
}

/// Makes room for `additional` more vectors.
#[no_mangle]
pub extern "C" fn fv_index_reserve(h: u32, additional: u32) -> i32 {
    call(|reg| ops::reserve(reg, h, additional))
}

/// HNSW: sets ef_search.
#[no_mangle]
pub extern "C" fn fv_index_set_ef_search(h: u32, ef: u32) -> i32 {
    call(|reg| ops::set_ef_search(reg, h, ef))
}

/// Writes 1 (live) or 0 (u32) to `out`.
#[no_mangle]
pub extern "C" fn fv_index_contains(h: u32, key: u64, out: u32) -> i32 {
    call(|reg| ops::contains(&WasmMemory, reg, h, key, out))
}

/// Writes the number of live vectors (u32) to `out`.
#[no_mangle]
pub extern "C" fn fv_index_len(h: u32, out: u32) -> i32 {
    call(|reg| ops::len(&WasmMemory, reg, h, out))
}

/// Writes the vector stored under `key` (`n` = dims f32) to `out`.
#[no_mangle]
pub extern "C" fn fv_index_get(h: u32, key: u64, out: u32, n: u32) -> i32 {
    call(|reg| ops::get_vector(&WasmMemory, reg, h, key, out, n))
}

/// The `min(k, len)` nearest: keys (u64) to `out_keys`, distances (f32) to `out_dist`,
/// their number (u32) to `out_n`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_index_search(
    h: u32,
    query: u32,
    n: u32,
    k: u32,
    out_keys: u32,
    out_dist: u32,
    out_n: u32,
) -> i32 {
    call(|reg| {
        ops::search(
            &WasmMemory,
            reg,
            h,
            query,
            n,
            k,
            None,
            out_keys,
            out_dist,
            out_n,
        )
    })
}

/// `fv_index_search` among the `n_allowed` keys (u64) at `allowed` only.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_index_search_allowed(
    h: u32,
    query: u32,
    n: u32,
    k: u32,
    allowed: u32,
    n_allowed: u32,
    out_keys: u32,
    out_dist: u32,
    out_n: u32,
) -> i32 {
    call(|reg| {
        ops::search(
            &WasmMemory,
            reg,
            h,
            query,
            n,
            k,
            Some((allowed, n_allowed)),
            out_keys,
            out_dist,
            out_n,
        )
    })
}

/// `n_queries` searches; query `i`'s results at row `i` (of `min(k, len)` slots).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_index_search_batch(
    h: u32,
    queries: u32,
    n_queries: u32,
    n_floats: u32,
    k: u32,
    out_keys: u32,
    out_dist: u32,
    out_counts: u32,
) -> i32 {
    call(|reg| {
        ops::search_batch(
            &WasmMemory,
            reg,
            h,
            queries,
            n_queries,
            n_floats,
            k,
            out_keys,
            out_dist,
            out_counts,
        )
    })
}

/// Records model id `id` in the index (`has` 1) or none (`has` 0); capability bit 4.
#[no_mangle]
pub extern "C" fn fv_index_set_model_id(h: u32, id: u64, has: u32) -> i32 {
    call(|reg| ops::set_model_id(reg, h, id, has))
}

/// Writes two u64 at `out`: 1 and the index's model id, or 0 and 0; capability bit 4.
#[no_mangle]
pub extern "C" fn fv_index_model_id(h: u32, out: u32) -> i32 {
    call(|reg| ops::model_id(&WasmMemory, reg, h, out))
}

/// Serializes the index into a new block (`fv_alloc(len)`): its offset goes to
/// `out_ptr` and its length to `out_len` (u32 each); the host frees it with
/// `fv_free(ptr, len)`.
#[no_mangle]
pub extern "C" fn fv_index_save(h: u32, out_ptr: u32, out_len: u32) -> i32 {
    call(|reg| {
        let mem = WasmMemory;
        let rp = mem.region::<u32>(out_ptr, 1, "out_ptr")?;
        let rl = mem.region::<u32>(out_len, 1, "out_len")?;
        crate::memory::check_disjoint(rp, "out_ptr", rl, "out_len")?;
        let bytes: Vec<u8> = ops::save(reg, h)?;
        let len = u32::try_from(bytes.len())
            .map_err(|_| Error::OutOfMemory("the index is larger than 4 GiB".into()))?;
        let block = fv_alloc(len);
        if block == 0 {
            return Err(Error::OutOfMemory(alloc::format!(
                "cannot allocate {len} bytes for the saved index"
            )));
        }
        // Memory may have grown: the regions checked above are still in bounds (memory
        // never shrinks). SAFETY: `block` is a fresh `len`-byte block from fv_alloc that
        // nothing else refers to; the out regions are checked and not part of it (they
        // were in bounds before it existed, and fv_alloc hands out unused memory only...
        // unless the host named free heap memory, which can only corrupt its own sandbox).
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.at(block), bytes.len());
            mem.slice_mut::<u32>(rp)[0] = block;
            mem.slice_mut::<u32>(rl)[0] = len;
        }
        Ok(())
    })
}
