//! C entry points for [`Index`]: an opaque `fv_index*` holding vectors under `uint64_t`
//! keys, searched exactly or with HNSW, on the backend of the engine it was created from.

use std::ffi::{c_char, c_void};

use ferrovec_core::Error;

use super::encoder::{encoder_ref, fv_encoder, text_args};
use super::engine::{engine_ref, fv_engine};
use super::{c_slice, c_slice_mut, check_disjoint, check_out, guard_status, path_arg, Handles};
use crate::index::{HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate, Storage};

/// Index metric: cosine distance `1 - cos(a, b)` (f32, f16, bf16 or i8 storage).
pub const FV_INDEX_METRIC_COSINE: i32 = 0;
/// Index metric: squared Euclidean distance (f32, f16, bf16 or i8 storage).
pub const FV_INDEX_METRIC_L2SQ: i32 = 1;
/// Index metric: `1 - a.b` (f32, f16, bf16 or i8 storage; smaller is closer).
pub const FV_INDEX_METRIC_INNER_PRODUCT: i32 = 2;
/// Index metric: Hamming distance of the sign bits (b1 storage only).
pub const FV_INDEX_METRIC_HAMMING: i32 = 3;
/// Index metric: Jaccard distance of the sign bits (b1 storage only).
pub const FV_INDEX_METRIC_JACCARD: i32 = 4;

/// Storage: the vectors as given (4 bytes per dimension).
pub const FV_STORAGE_F32: i32 = 0;
/// Storage: symmetric 8-bit quantization with one f32 scale per vector.
pub const FV_STORAGE_I8: i32 = 1;
/// Storage: one sign bit per dimension (`x > 0`).
pub const FV_STORAGE_B1: i32 = 2;
/// Storage: IEEE 754 half precision (2 bytes per dimension), each value rounded to the
/// nearest f16 (cosine: of the normalized vector). Queries stay f32 and distances are f32
/// sums over the stored values. With L2SQ or INNER_PRODUCT a value of magnitude 65520 or
/// more (it would round to infinity) is `FV_ERR_INVALID_ARGUMENT` ("vector value ... is out
/// of f16 range") and nothing is added. `fv_index_get` returns the rounded values. Saved as
/// file format version 3, which readers older than this storage refuse with
/// `FV_ERR_UNSUPPORTED_VERSION`.
pub const FV_STORAGE_F16: i32 = 3;
/// Storage: bfloat16 (2 bytes per dimension: the top 16 bits of the f32, rounded to nearest
/// even; 8 significant bits, f32's range). As `FV_STORAGE_F16` otherwise; only values past
/// bfloat16's largest finite value (about 3.39e38) are out of range.
pub const FV_STORAGE_BF16: i32 = 4;

/// Index kind: a flat, exact scan.
pub const FV_INDEX_EXACT: i32 = 0;
/// Index kind: an HNSW graph (approximate; `m`, `ef_construction`, `ef_search`, `seed`).
pub const FV_INDEX_HNSW: i32 = 1;

/// `fv_index_add*`: a key that is already in the index is `FV_ERR_DUPLICATE_KEY`.
pub const FV_ON_DUPLICATE_ERROR: i32 = 0;
/// `fv_index_add*`: a key that is already in the index gets the new vector.
pub const FV_ON_DUPLICATE_REPLACE: i32 = 1;

/// A vector index. Create with `fv_index_new` / `fv_index_load_bytes` /
/// `fv_index_load_file` (or, for text, `fv_index_new_text` / `fv_index_with_encoder` /
/// `fv_index_load_bytes_with_encoder` / `fv_index_load_file_with_encoder`), destroy with
/// `fv_index_free`.
///
/// Thread-safe: searches (`fv_index_search*`, `fv_index_get`, `fv_index_contains`,
/// `fv_index_len`, `fv_index_save_*`) may run on many threads at once; writers
/// (`fv_index_add*`, `fv_index_remove`, `fv_index_compact`, `fv_index_clear`,
/// `fv_index_reserve`, `fv_index_set_ef_search`) are serialized inside the index and a
/// search sees the index before or after a write, never in between. Only `fv_index_free`
/// must not race with any other call on the same index.
///
/// Ownership, for every `fv_index_*` function: the `fv_index*` argument is borrowed for the
/// call only (the caller keeps owning it until `fv_index_free`); input arrays are borrowed
/// for the call only and never written or kept; output pointers are caller-owned memory,
/// written only when the call returns `FV_OK`. The library never keeps a caller's pointer
/// after a call returns. The index does not keep its engine: either may be freed first.
#[allow(non_camel_case_types)]
pub struct fv_index {
    index: Index,
}

/// Options for `fv_index_new`. Start from `fv_index_options_default()` and set `dims`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_index_options {
    /// Dimension of every vector (> 0).
    pub dims: usize,
    /// `FV_INDEX_METRIC_*`.
    pub metric: i32,
    /// `FV_STORAGE_*`. Hamming and Jaccard need `FV_STORAGE_B1`, the others F32, F16, BF16
    /// or I8; any other pair is `FV_ERR_INVALID_ARGUMENT`.
    pub storage: i32,
    /// `FV_INDEX_EXACT` or `FV_INDEX_HNSW`.
    pub kind: i32,
    /// HNSW: links per node (default 16).
    pub m: usize,
    /// HNSW: candidates kept while inserting (default 128).
    pub ef_construction: usize,
    /// HNSW: candidates kept while searching (default 64; see `fv_index_set_ef_search`).
    pub ef_search: usize,
    /// HNSW: seed of the level generator (the graph is deterministic for a given seed and
    /// insertion order).
    pub seed: u64,
}

impl Default for fv_index_options {
    fn default() -> Self {
        let p = HnswParams::default();
        fv_index_options {
            dims: 0,
            metric: FV_INDEX_METRIC_COSINE,
            storage: FV_STORAGE_F32,
            kind: FV_INDEX_EXACT,
            m: p.m,
            ef_construction: p.ef_construction,
            ef_search: p.ef_search,
            seed: p.seed,
        }
    }
}

/// The default options: `dims` 0 (set it), cosine, f32 storage, exact, and HNSW's defaults
/// (m 16, ef_construction 128, ef_search 64, seed 0x5eed) for when `kind` is set to HNSW.
#[no_mangle]
pub extern "C" fn fv_index_options_default() -> fv_index_options {
    fv_index_options::default()
}

impl fv_index_options {
    fn to_options(self) -> Result<IndexOptions, Error> {
        let metric = IndexMetric::from_code(self.metric)?;
        let storage = Storage::from_code(self.storage)?;
        let options = IndexOptions::new(self.dims, metric).storage(storage);
        match self.kind {
            FV_INDEX_EXACT => Ok(options.exact()),
            FV_INDEX_HNSW => Ok(options.hnsw(HnswParams {
                m: self.m,
                ef_construction: self.ef_construction,
                ef_search: self.ef_search,
                seed: self.seed,
            })),
            other => Err(Error::InvalidArgument(format!(
                "unknown index kind {other} (expected FV_INDEX_EXACT or FV_INDEX_HNSW)"
            ))),
        }
    }
}

/// Filter for `fv_index_search_filtered`: return true to accept `key`. `user` is the
/// pointer given to the search, passed through untouched. Called from the searching
/// thread, possibly many times, only during the search; it must not free or write to the
/// index being searched.
#[allow(non_camel_case_types)]
pub type fv_index_filter = Option<unsafe extern "C" fn(key: u64, user: *mut c_void) -> bool>;

// Every live `fv_index*` (see `Handles`).
static LIVE: Handles = Handles::new();

fn publish(index: Index, out: *mut *mut fv_index) {
    // SAFETY: `out` passed `check_out` in every caller; writable by their contract.
    unsafe { LIVE.publish(fv_index { index }, out) };
}

/// # Safety
/// `index` must be NULL, an index from this library, or a freed one (detected).
unsafe fn index_ref<'a>(index: *const fv_index) -> Result<&'a Index, Error> {
    // SAFETY: forwarded from this function's contract.
    Ok(unsafe { &LIVE.get(index, "index")?.index })
}

fn on_duplicate(code: i32) -> Result<OnDuplicate, Error> {
    match code {
        FV_ON_DUPLICATE_ERROR => Ok(OnDuplicate::Error),
        FV_ON_DUPLICATE_REPLACE => Ok(OnDuplicate::Replace),
        other => Err(Error::InvalidArgument(format!(
            "unknown on_duplicate {other} (expected FV_ON_DUPLICATE_ERROR or \
             FV_ON_DUPLICATE_REPLACE)"
        ))),
    }
}

/// Creates an empty index on `engine`'s backend (native, or inside the interpreted wasm
/// module) and stores it in `*out`.
///
/// Returns `FV_OK`, or leaves `*out` untouched and returns `FV_ERR_NULL_POINTER` (`engine`,
/// `options` or `out` NULL), `FV_ERR_INVALID_ARGUMENT` (dims 0, unknown codes, an
/// unsupported metric/storage pair, bad HNSW parameters), or an interpreted failure.
///
/// @param engine  borrowed for this call only; the index does not keep it (it may be freed
///                before the index).
/// @param options borrowed for this call only.
/// @param out     receives a new index owned by the caller: free it with `fv_index_free`.
///
/// # Safety
/// `engine` NULL or live; `options` NULL or valid; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_new(
    engine: *const fv_engine,
    options: *const fv_index_options,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { engine_ref(engine)? };
        // SAFETY: NULL or valid, by this function's contract.
        let options = unsafe { options.as_ref() }.ok_or(Error::NullPointer { arg: "options" })?;
        check_out(out, "out")?;
        let index = Index::new(engine, options.to_options()?)?;
        publish(index, out);
        Ok(())
    })
}

/// Destroys an index. NULL does nothing and returns `FV_OK`; a pointer that is not a live
/// index (e.g. freed already) returns `FV_ERR_INVALID_HANDLE` and frees nothing (detected
/// unless the address was reused by a newer index).
///
/// @param index owned by the caller until this call; invalid afterwards.
///
/// # Safety
/// `index` must be NULL or a pointer from this library; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fv_index_free(index: *mut fv_index) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { LIVE.free(index) }
}

/// Adds `n` floats at `vector` under `key`. `n` must equal the index's dims
/// (`FV_ERR_DIMENSION_MISMATCH`), every value finite and, on F16 / BF16 storage with L2SQ or
/// INNER_PRODUCT, within the storage's range (`FV_ERR_INVALID_ARGUMENT`); `on_duplicate` is
/// `FV_ON_DUPLICATE_ERROR` (`FV_ERR_DUPLICATE_KEY` for a live key) or
/// `FV_ON_DUPLICATE_REPLACE`. On failure the index is unchanged.
///
/// @param vector borrowed for this call only (copied into the index).
///
/// # Safety
/// `index` NULL or live; `vector` points to `n` readable floats.
#[no_mangle]
pub unsafe extern "C" fn fv_index_add(
    index: *mut fv_index,
    key: u64,
    vector: *const f32,
    n: usize,
    on_duplicate: i32,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, vector) = unsafe { (index_ref(index)?, c_slice(vector, n, "vector")?) };
        index.add_with(key, vector, self::on_duplicate(on_duplicate)?)
    })
}

/// Adds `n` vectors: `keys[i]` gets floats `vectors[i * dims .. (i + 1) * dims]`
/// (`n_floats` must be `n * dims`). All or nothing: everything is checked first.
///
/// @param keys    borrowed for this call only.
/// @param vectors borrowed for this call only (copied).
///
/// # Safety
/// `index` NULL or live; `keys` points to `n` keys, `vectors` to `n_floats` floats.
#[no_mangle]
pub unsafe extern "C" fn fv_index_add_batch(
    index: *mut fv_index,
    keys: *const u64,
    n: usize,
    vectors: *const f32,
    n_floats: usize,
    on_duplicate: i32,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, keys, vectors) = unsafe {
            (
                index_ref(index)?,
                c_slice(keys, n, "keys")?,
                c_slice(vectors, n_floats, "vectors")?,
            )
        };
        index.add_batch(keys, vectors, self::on_duplicate(on_duplicate)?)
    })
}

/// Removes `key` (`FV_ERR_KEY_NOT_FOUND` if it is not live). Space is reclaimed by
/// `fv_index_compact`.
///
/// # Safety
/// `index` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fv_index_remove(index: *mut fv_index, key: u64) -> i32 {
    // SAFETY: forwarded from this function's contract.
    guard_status(|| unsafe { index_ref(index)? }.remove(key))
}

/// Reclaims removed vectors' space and repairs the HNSW graph around them.
///
/// # Safety
/// `index` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fv_index_compact(index: *mut fv_index) -> i32 {
    // SAFETY: forwarded from this function's contract.
    guard_status(|| unsafe { index_ref(index)? }.compact())
}

/// Removes every vector, keeping the options.
///
/// # Safety
/// `index` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fv_index_clear(index: *mut fv_index) -> i32 {
    // SAFETY: forwarded from this function's contract.
    guard_status(|| unsafe { index_ref(index)? }.clear())
}

/// Makes room for `additional` more vectors (`FV_ERR_OUT_OF_MEMORY` if it cannot).
///
/// # Safety
/// `index` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fv_index_reserve(index: *mut fv_index, additional: usize) -> i32 {
    // SAFETY: forwarded from this function's contract.
    guard_status(|| unsafe { index_ref(index)? }.reserve(additional))
}

/// HNSW: sets how many candidates a search keeps (`FV_ERR_INVALID_ARGUMENT` on an exact
/// index or for 0).
///
/// # Safety
/// `index` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fv_index_set_ef_search(index: *mut fv_index, ef: usize) -> i32 {
    // SAFETY: forwarded from this function's contract.
    guard_status(|| unsafe { index_ref(index)? }.set_ef_search(ef))
}

/// Writes 1 to `*out` if `key` is live, else 0.
///
/// @param out written on success only.
///
/// # Safety
/// `index` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_contains(index: *const fv_index, key: u64, out: *mut i32) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let index = unsafe { index_ref(index)? };
        check_out(out, "out")?;
        let found = index.contains(key)?;
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out.write(i32::from(found)) };
        Ok(())
    })
}

/// Writes the number of live vectors to `*out`.
///
/// @param out caller-owned; written on success only.
///
/// # Safety
/// `index` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_len(index: *const fv_index, out: *mut usize) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let index = unsafe { index_ref(index)? };
        check_out(out, "out")?;
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out.write(index.len()) };
        Ok(())
    })
}

/// Writes the index's dimension to `*out` (useful after loading a file).
///
/// @param out caller-owned; written on success only.
///
/// # Safety
/// `index` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_dims(index: *const fv_index, out: *mut usize) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let index = unsafe { index_ref(index)? };
        check_out(out, "out")?;
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out.write(index.dims()) };
        Ok(())
    })
}

/// Copies the vector stored under `key` (dequantized) into `out`, which holds `n` = dims
/// floats (`FV_ERR_DIMENSION_MISMATCH` otherwise; `FV_ERR_KEY_NOT_FOUND` for an unknown
/// key).
///
/// @param out caller-owned room for `n` floats; written on success only.
///
/// # Safety
/// `index` NULL or live; `out` points to `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn fv_index_get(
    index: *const fv_index,
    key: u64,
    out: *mut f32,
    n: usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, out) = unsafe { (index_ref(index)?, c_slice_mut(out, n, "out")?) };
        if n != index.dims() {
            return Err(Error::DimensionMismatch {
                expected: index.dims(),
                actual: n,
            });
        }
        let vector = index.get(key)?;
        out.copy_from_slice(&vector);
        Ok(())
    })
}

/// Checks and borrows a search's outputs (`cap` matches each) and writes the matches.
struct Outputs<'a> {
    keys: &'a mut [u64],
    distances: &'a mut [f32],
}

/// # Safety
/// As the search functions' contracts for `out_keys` and `out_distances` (`cap` each).
unsafe fn outputs<'a>(
    out_keys: *mut u64,
    out_distances: *mut f32,
    cap: usize,
) -> Result<Outputs<'a>, Error> {
    // SAFETY: forwarded from the caller's contract.
    let (keys, distances) = unsafe {
        (
            c_slice_mut(out_keys, cap, "out_keys")?,
            c_slice_mut(out_distances, cap, "out_distances")?,
        )
    };
    check_disjoint(keys, "out_keys", distances, "out_distances")?;
    Ok(Outputs { keys, distances })
}

impl Outputs<'_> {
    fn write(&mut self, at: usize, matches: &[Match]) {
        for (i, m) in matches.iter().enumerate() {
            self.keys[at + i] = m.key;
            self.distances[at + i] = m.distance;
        }
    }
}

/// The `k` nearest live vectors to `query` (`n` = dims floats, finite), ascending by
/// distance (ties by key). Writes up to `k` keys and distances to `out_keys[0..]` and
/// `out_distances[0..]` and their number (`min(k, len)`) to `*out_count`. `k = 0` is
/// `FV_ERR_INVALID_ARGUMENT`; `k > len` is fine (every live vector is returned); an empty
/// index gives a count of 0. Both output arrays need room for `k` entries whatever `len`
/// is (another thread may add vectors before the search runs).
///
/// @param query         borrowed for this call only.
/// @param out_keys      caller-owned room for `k` keys; written on success only.
/// @param out_distances caller-owned room for `k` floats; written on success only.
/// @param out_count     caller-owned; written on success only.
///
/// # Safety
/// `index` NULL or live; `query` points to `n` floats; the outputs as described, not
/// overlapping `query` or each other.
#[no_mangle]
pub unsafe extern "C" fn fv_index_search(
    index: *const fv_index,
    query: *const f32,
    n: usize,
    k: usize,
    out_keys: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, query) = unsafe { (index_ref(index)?, c_slice(query, n, "query")?) };
        check_out(out_count, "out_count")?;
        // Room for `k`, as documented: `len` may grow under a concurrent writer before the
        // search runs, so it cannot size the outputs.
        let cap = k;
        // SAFETY: forwarded from this function's contract.
        let mut out = unsafe { outputs(out_keys, out_distances, cap)? };
        let matches = index.search(query, k)?;
        let matches = &matches[..matches.len().min(cap)];
        out.write(0, matches);
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out_count.write(matches.len()) };
        Ok(())
    })
}

/// `fv_index_search` among the keys `filter(key, user)` accepts: up to `k` accepted
/// matches (HNSW keeps exploring until `k` pass or the graph is exhausted). A filter that
/// rejects everything gives a count of 0.
///
/// @param filter called during this call only; must not write to or free `index`.
/// @param user   passed to `filter` untouched; never dereferenced by ferrovec.
///
/// # Safety
/// As `fv_index_search`; `filter` must be safe to call with `user`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_index_search_filtered(
    index: *const fv_index,
    query: *const f32,
    n: usize,
    k: usize,
    filter: fv_index_filter,
    user: *mut c_void,
    out_keys: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, query) = unsafe { (index_ref(index)?, c_slice(query, n, "query")?) };
        let filter = filter.ok_or(Error::NullPointer { arg: "filter" })?;
        check_out(out_count, "out_count")?;
        // Room for `k`, as documented: `len` may grow under a concurrent writer before the
        // search runs, so it cannot size the outputs.
        let cap = k;
        // SAFETY: forwarded from this function's contract.
        let mut out = unsafe { outputs(out_keys, out_distances, cap)? };
        // SAFETY: the caller vouches that `filter` may be called with `user`.
        let matches = index.search_filtered(query, k, |key| unsafe { filter(key, user) })?;
        let matches = &matches[..matches.len().min(cap)];
        out.write(0, matches);
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out_count.write(matches.len()) };
        Ok(())
    })
}

/// `fv_index_search` among the `n_allowed` keys at `allowed` only (any order, duplicates
/// fine, unknown keys ignored). Works on every backend without a callback.
///
/// @param allowed borrowed for this call only.
///
/// # Safety
/// As `fv_index_search`; `allowed` points to `n_allowed` keys.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_index_search_allowed(
    index: *const fv_index,
    query: *const f32,
    n: usize,
    k: usize,
    allowed: *const u64,
    n_allowed: usize,
    out_keys: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, query, allowed) = unsafe {
            (
                index_ref(index)?,
                c_slice(query, n, "query")?,
                c_slice(allowed, n_allowed, "allowed")?,
            )
        };
        check_out(out_count, "out_count")?;
        // Room for `k`, as documented: `len` may grow under a concurrent writer before the
        // search runs, so it cannot size the outputs.
        let cap = k;
        // SAFETY: forwarded from this function's contract.
        let mut out = unsafe { outputs(out_keys, out_distances, cap)? };
        let matches = index.search_allowed(query, k, allowed)?;
        let matches = &matches[..matches.len().min(cap)];
        out.write(0, matches);
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out_count.write(matches.len()) };
        Ok(())
    })
}

/// `n_queries` searches at once (`queries`: `n_floats` = `n_queries * dims` floats,
/// row-major). Query `i`'s matches go to `out_keys[i * k ..]` / `out_distances[i * k ..]`
/// and their number to `out_counts[i]`.
///
/// @param queries       borrowed for this call only.
/// @param out_keys      caller-owned room for `n_queries * k` keys; written on success only.
/// @param out_distances caller-owned room for `n_queries * k` floats.
/// @param out_counts    caller-owned room for `n_queries` counts.
///
/// # Safety
/// `index` NULL or live; every pointer as described, outputs not overlapping.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_index_search_batch(
    index: *const fv_index,
    queries: *const f32,
    n_queries: usize,
    n_floats: usize,
    k: usize,
    out_keys: *mut u64,
    out_distances: *mut f32,
    out_counts: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, queries) =
            unsafe { (index_ref(index)?, c_slice(queries, n_floats, "queries")?) };
        let expected = n_queries
            .checked_mul(index.dims())
            .ok_or_else(|| Error::InvalidArgument("n_queries * dims overflows".into()))?;
        if expected != n_floats {
            return Err(Error::DimensionMismatch {
                expected,
                actual: n_floats,
            });
        }
        let total = n_queries
            .checked_mul(k)
            .ok_or_else(|| Error::InvalidArgument("n_queries * k overflows".into()))?;
        // SAFETY: forwarded from this function's contract.
        let mut out = unsafe { outputs(out_keys, out_distances, total)? };
        // SAFETY: as above.
        let counts = unsafe { c_slice_mut(out_counts, n_queries, "out_counts")? };
        check_disjoint(counts, "out_counts", out.keys, "out_keys")?;
        check_disjoint(counts, "out_counts", out.distances, "out_distances")?;
        let lists = index.search_batch(queries, k)?;
        for (i, matches) in lists.iter().enumerate().take(n_queries) {
            let matches = &matches[..matches.len().min(k)];
            out.write(i * k, matches);
            counts[i] = matches.len();
        }
        Ok(())
    })
}

/// Serializes the index (ferrovec's portable format, `core/src/index/FORMAT.md`: the same
/// bytes load on every backend, in wasm and in JS) into a new buffer.
///
/// @param out_bytes receives a buffer owned by the caller: free it with
///                  `fv_bytes_free(*out_bytes, *out_len)` (not `free()`).
/// @param out_len   receives its length.
///
/// # Safety
/// `index` NULL or live; `out_bytes` and `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_save_bytes(
    index: *const fv_index,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let index = unsafe { index_ref(index)? };
        check_out(out_bytes, "out_bytes")?;
        check_out(out_len, "out_len")?;
        let bytes = index.to_bytes()?.into_boxed_slice();
        let len = bytes.len();
        let ptr = Box::into_raw(bytes).cast::<u8>();
        // SAFETY: both checked non-null and aligned; writable by the contract.
        unsafe {
            out_bytes.write(ptr);
            out_len.write(len);
        }
        Ok(())
    })
}

/// Frees a buffer from `fv_index_save_bytes` or `fv_sparse_matrix_to_matrix_market`; `len`
/// must be the length it returned. NULL does nothing.
///
/// # Safety
/// `bytes` must be NULL or an unfreed buffer from one of those functions, of length `len`.
#[no_mangle]
pub unsafe extern "C" fn fv_bytes_free(bytes: *mut u8, len: usize) {
    if bytes.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: made by Box::into_raw of a boxed slice of `len` bytes (the contract).
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)) });
    });
}

/// Loads an index saved by `fv_index_save_bytes` (on any backend or surface) onto
/// `engine`'s backend. `FV_ERR_CORRUPT_FILE` (bad magic, checksum, truncation, hostile
/// lengths) or `FV_ERR_UNSUPPORTED_VERSION`, leaving `*out` untouched.
///
/// @param bytes borrowed for this call only.
/// @param out   receives a new index owned by the caller (`fv_index_free`).
///
/// # Safety
/// `engine` NULL or live; `bytes` points to `len` readable bytes; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_load_bytes(
    engine: *const fv_engine,
    bytes: *const u8,
    len: usize,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, bytes) = unsafe { (engine_ref(engine)?, c_slice(bytes, len, "bytes")?) };
        check_out(out, "out")?;
        let index = Index::from_bytes(engine, bytes)?;
        publish(index, out);
        Ok(())
    })
}

/// Saves the index to the file at `path` atomically (a temporary file in the same
/// directory, synced, then renamed over `path`). I/O failures are
/// `FV_ERR_INVALID_ARGUMENT` with the OS error in the message.
///
/// @param path borrowed for this call only (UTF-8, NUL-terminated).
///
/// # Safety
/// `index` NULL or live; `path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fv_index_save_file(index: *const fv_index, path: *const c_char) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, path) = unsafe { (index_ref(index)?, path_arg(path)?) };
        index.save(path)
    })
}

/// Loads an index from the file at `path` onto `engine`'s backend (errors as
/// `fv_index_load_bytes`, plus `FV_ERR_INVALID_ARGUMENT` if the file cannot be read).
///
/// @param path borrowed for this call only.
/// @param out  receives a new index owned by the caller (`fv_index_free`).
///
/// # Safety
/// `engine` NULL or live; `path` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_load_file(
    engine: *const fv_engine,
    path: *const c_char,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, path) = unsafe { (engine_ref(engine)?, path_arg(path)?) };
        check_out(out, "out")?;
        let index = Index::load(engine, path)?;
        publish(index, out);
        Ok(())
    })
}

// ---------------------------------------------------------------- text

/// Text in C: `len` bytes at `text` (NULL only with `len` 0), invalid UTF-8 read as U+FFFD
/// like `fv_encoder_embed` does.
///
/// # Safety
/// `text` NULL or readable for `len` bytes.
unsafe fn text_arg(text: *const c_char, len: usize) -> Result<String, Error> {
    // SAFETY: forwarded from this function's contract.
    let bytes = unsafe { c_slice(text.cast::<u8>(), len, "text")? };
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A C batch of texts (see `text_args`) as strings, invalid UTF-8 read as U+FFFD.
///
/// # Safety
/// As `text_args`.
unsafe fn texts_arg(
    texts: *const *const c_char,
    lens: *const usize,
    n: usize,
) -> Result<Vec<String>, Error> {
    // SAFETY: forwarded from this function's contract.
    let texts = unsafe { text_args(texts, lens, n)? };
    Ok(texts
        .iter()
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect())
}

/// Creates an empty index for the vectors of `encoder`, with the encoder attached (so
/// `fv_index_add_text*` and `fv_index_search_text*` work on it) and its model id recorded
/// (`fv_index_model_id`; saved with the index). `options->dims` must be the encoder's dims
/// (`fv_encoder_dims`). The encoder's vectors have unit length, so
/// `FV_INDEX_METRIC_COSINE` (or the cheaper `FV_INDEX_METRIC_INNER_PRODUCT`, the same
/// ranking on unit vectors) is the usual metric.
///
/// Returns `FV_OK`, or leaves `*out` untouched and returns `FV_ERR_NULL_POINTER`,
/// `FV_ERR_DIMENSION_MISMATCH` (dims differ from the encoder's), `FV_ERR_INVALID_ARGUMENT`
/// (as `fv_index_new`) or an interpreted failure.
///
/// @param engine  borrowed for this call only; the index does not keep it.
/// @param encoder borrowed for this call only: the index keeps its own reference to the
///                model (the caller may free `encoder` first) and embeds with the thread
///                count `fv_encoder_set_threads` had set when this call ran.
/// @param options borrowed for this call only.
/// @param out     receives a new index owned by the caller: free it with `fv_index_free`.
///
/// # Safety
/// `engine`, `encoder` NULL or live; `options` NULL or valid; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_new_text(
    engine: *const fv_engine,
    encoder: *const fv_encoder,
    options: *const fv_index_options,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, encoder) = unsafe { (engine_ref(engine)?, encoder_ref(encoder)?) };
        // SAFETY: NULL or valid, by this function's contract.
        let options = unsafe { options.as_ref() }.ok_or(Error::NullPointer { arg: "options" })?;
        check_out(out, "out")?;
        let index = Index::new_text(engine, &encoder.configured(), options.to_options()?)?;
        publish(index, out);
        Ok(())
    })
}

/// Stores in `*out` a new handle to the same index as `index` (they share the vectors:
/// an add through one is seen through the other) that carries `encoder` for
/// `fv_index_add_text*` and `fv_index_search_text*`. `index` itself is unchanged and
/// keeps whatever encoder it had; free each handle with `fv_index_free`, in any order.
///
/// Returns `FV_OK`, or leaves `*out` and the index untouched and returns
/// `FV_ERR_NULL_POINTER`, `FV_ERR_DIMENSION_MISMATCH` (the encoder's dims are not the
/// index's) or `FV_ERR_INVALID_ARGUMENT` naming both model ids when the index holds vectors
/// of another model (`fv_index_model_id`). An index without a model id (plain vectors or
/// a version 1 file) takes any encoder and records its id at the first text added.
///
/// @param index   borrowed for this call only.
/// @param encoder borrowed for this call only (as in `fv_index_new_text`).
/// @param out     receives a new handle owned by the caller (`fv_index_free`).
///
/// # Safety
/// `index`, `encoder` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_with_encoder(
    index: *const fv_index,
    encoder: *const fv_encoder,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, encoder) = unsafe { (index_ref(index)?, encoder_ref(encoder)?) };
        check_out(out, "out")?;
        let attached = index.with_encoder(encoder.configured())?;
        publish(attached, out);
        Ok(())
    })
}

/// `fv_index_load_bytes` then `fv_index_with_encoder`: the bytes' model id, if they record
/// one, must be `encoder`'s (`FV_ERR_INVALID_ARGUMENT` naming both ids otherwise). Errors
/// as those two functions; `*out` is untouched on any error.
///
/// @param bytes   borrowed for this call only.
/// @param encoder borrowed for this call only (as in `fv_index_new_text`).
/// @param out     receives a new index owned by the caller (`fv_index_free`).
///
/// # Safety
/// `engine`, `encoder` NULL or live; `bytes` points to `len` readable bytes; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_load_bytes_with_encoder(
    engine: *const fv_engine,
    bytes: *const u8,
    len: usize,
    encoder: *const fv_encoder,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, bytes, encoder) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(bytes, len, "bytes")?,
                encoder_ref(encoder)?,
            )
        };
        check_out(out, "out")?;
        let index = Index::from_bytes_with_encoder(engine, bytes, &encoder.configured())?;
        publish(index, out);
        Ok(())
    })
}

/// `fv_index_load_file` then `fv_index_with_encoder` (see
/// `fv_index_load_bytes_with_encoder`).
///
/// @param path    borrowed for this call only (UTF-8, NUL-terminated).
/// @param encoder borrowed for this call only (as in `fv_index_new_text`).
/// @param out     receives a new index owned by the caller (`fv_index_free`).
///
/// # Safety
/// `engine`, `encoder` NULL or live; `path` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_load_file_with_encoder(
    engine: *const fv_engine,
    path: *const c_char,
    encoder: *const fv_encoder,
    out: *mut *mut fv_index,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, path, encoder) =
            unsafe { (engine_ref(engine)?, path_arg(path)?, encoder_ref(encoder)?) };
        check_out(out, "out")?;
        let index = Index::load_with_encoder(engine, path, &encoder.configured())?;
        publish(index, out);
        Ok(())
    })
}

/// Writes the model id recorded in the index (the `fv_encoder_model_id` of the encoder
/// that made its vectors: set by `fv_index_new_text` or the first text added, saved in the
/// file) to `*out` and true to `*has`; for an index of plain vectors, 0 and false.
///
/// @param out caller-owned; written on success only.
/// @param has caller-owned; written on success only.
///
/// # Safety
/// `index` NULL or live; `out` and `has` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_index_model_id(
    index: *const fv_index,
    out: *mut u64,
    has: *mut bool,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let index = unsafe { index_ref(index)? };
        check_out(out, "out")?;
        check_out(has, "has")?;
        let id = index.model_id();
        // SAFETY: both checked non-null and aligned; writable by the contract.
        unsafe {
            out.write(id.unwrap_or(0));
            has.write(id.is_some());
        }
        Ok(())
    })
}

/// Embeds `text` (`len` bytes, no NUL needed; invalid UTF-8 is read as U+FFFD, as in
/// `fv_encoder_embed`) with the index's encoder and adds the vector under `key`;
/// `on_duplicate` as in `fv_index_add`. The first text added records the encoder's model
/// id in the index. On failure the index is unchanged: `FV_ERR_INVALID_ARGUMENT` when the
/// handle has no encoder (see `fv_index_new_text`, `fv_index_with_encoder`) or the index
/// holds another model's vectors, `FV_ERR_DUPLICATE_KEY`, `FV_ERR_NULL_POINTER`.
///
/// @param text borrowed for this call only (NULL only with `len` 0).
///
/// # Safety
/// `index` NULL or live; `text` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fv_index_add_text(
    index: *mut fv_index,
    key: u64,
    text: *const c_char,
    len: usize,
    on_duplicate: i32,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, text) = unsafe { (index_ref(index)?, text_arg(text, len)?) };
        index.add_text_with(key, &text, self::on_duplicate(on_duplicate)?)
    })
}

/// Embeds `n` texts in one batch (on the threads the encoder allows) and adds `texts[i]`
/// under `keys[i]`, all or nothing. Texts as in `fv_encoder_embed`: `lens[i]` bytes each,
/// or `lens` NULL when every text is NUL-terminated; invalid UTF-8 read as U+FFFD. Errors
/// as `fv_index_add_text`; the index is unchanged on any error.
///
/// @param keys  borrowed for this call only.
/// @param texts borrowed for this call only (NULL only with `n` 0).
/// @param lens  borrowed for this call only, or NULL.
///
/// # Safety
/// `index` NULL or live; `keys` readable for `n` keys; `texts` and `lens` as in
/// `fv_encoder_embed`.
#[no_mangle]
pub unsafe extern "C" fn fv_index_add_texts(
    index: *mut fv_index,
    keys: *const u64,
    texts: *const *const c_char,
    lens: *const usize,
    n: usize,
    on_duplicate: i32,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, keys, texts) = unsafe {
            (
                index_ref(index)?,
                c_slice(keys, n, "keys")?,
                texts_arg(texts, lens, n)?,
            )
        };
        index.add_texts_with(keys, &texts, self::on_duplicate(on_duplicate)?)
    })
}

/// `fv_index_search` for the embedding of `text` (`len` bytes, invalid UTF-8 read as
/// U+FFFD): up to `k` matches in `out_keys` / `out_distances`, their number in
/// `*out_count`. `FV_ERR_INVALID_ARGUMENT` when the handle has no encoder or the index
/// holds another model's vectors; otherwise errors as `fv_index_search`.
///
/// @param text          borrowed for this call only (NULL only with `len` 0).
/// @param out_keys      caller-owned room for `k` keys; written on success only.
/// @param out_distances caller-owned room for `k` floats; written on success only.
/// @param out_count     caller-owned; written on success only.
///
/// # Safety
/// `index` NULL or live; `text` readable for `len` bytes; the outputs as in
/// `fv_index_search`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_index_search_text(
    index: *const fv_index,
    text: *const c_char,
    len: usize,
    k: usize,
    out_keys: *mut u64,
    out_distances: *mut f32,
    out_count: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, text) = unsafe { (index_ref(index)?, text_arg(text, len)?) };
        check_out(out_count, "out_count")?;
        // SAFETY: forwarded from this function's contract.
        let mut out = unsafe { outputs(out_keys, out_distances, k)? };
        let matches = index.search_text(&text, k)?;
        let matches = &matches[..matches.len().min(k)];
        out.write(0, matches);
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out_count.write(matches.len()) };
        Ok(())
    })
}

/// `n` text searches with the texts embedded in one batch (texts as in
/// `fv_index_add_texts`). Text `i`'s matches go to `out_keys[i * k ..]` /
/// `out_distances[i * k ..]` and their number to `out_counts[i]`, as in
/// `fv_index_search_batch`. Errors as `fv_index_search_text`.
///
/// @param texts         borrowed for this call only (NULL only with `n` 0).
/// @param lens          borrowed for this call only, or NULL.
/// @param out_keys      caller-owned room for `n * k` keys; written on success only.
/// @param out_distances caller-owned room for `n * k` floats.
/// @param out_counts    caller-owned room for `n` counts.
///
/// # Safety
/// `index` NULL or live; `texts` and `lens` as in `fv_encoder_embed`; the outputs as
/// described, not overlapping.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_index_search_texts(
    index: *const fv_index,
    texts: *const *const c_char,
    lens: *const usize,
    n: usize,
    k: usize,
    out_keys: *mut u64,
    out_distances: *mut f32,
    out_counts: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (index, texts) = unsafe { (index_ref(index)?, texts_arg(texts, lens, n)?) };
        let total = n
            .checked_mul(k)
            .ok_or_else(|| Error::InvalidArgument("n * k overflows".into()))?;
        // SAFETY: forwarded from this function's contract.
        let mut out = unsafe { outputs(out_keys, out_distances, total)? };
        // SAFETY: as above.
        let counts = unsafe { c_slice_mut(out_counts, n, "out_counts")? };
        check_disjoint(counts, "out_counts", out.keys, "out_keys")?;
        check_disjoint(counts, "out_counts", out.distances, "out_distances")?;
        let lists = index.search_texts(&texts, k)?;
        for (i, matches) in lists.iter().enumerate().take(n) {
            let matches = &matches[..matches.len().min(k)];
            out.write(i * k, matches);
            counts[i] = matches.len();
        }
        Ok(())
    })
}
