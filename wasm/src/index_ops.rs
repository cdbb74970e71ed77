//! The bodies of the ABI's index functions (`fv_index_*`, ABI v2), over any [`Memory`] and
//! a [`Registry`] of indexes: every argument is checked here (natively unit-tested), and
//! `index_abi.rs` exports them on wasm32 with error reporting.
//!
//! Order of checks in every function: the handle (`InvalidHandle`), then each buffer
//! (null / bounds / alignment, see `memory.rs`), then outputs overlapping inputs or each
//! other, then the index's own checks (dimension, NaN, keys). Outputs are written only on
//! success, and a failed call leaves the index unchanged (the core guarantees that).

use alloc::format;
use alloc::vec::Vec;

use ferrovec_core::index::{
    HnswParams, Index, IndexKind, IndexMetric, IndexOptions, Match, OnDuplicate, Storage,
};
use ferrovec_core::{Error, Result};

use crate::handles::{Handle, Registry};
use crate::memory::{check_disjoint, Memory, Region};

/// `kind` code of an exact (flat) index.
pub const KIND_EXACT: i32 = 0;
/// `kind` code of an HNSW index.
pub const KIND_HNSW: i32 = 1;
/// Words `fv_index_info` writes.
pub const INFO_WORDS: u32 = 12;

fn on_duplicate(replace: u32) -> Result<OnDuplicate> {
    match replace {
        0 => Ok(OnDuplicate::Error),
        1 => Ok(OnDuplicate::Replace),
        _ => Err(Error::InvalidArgument(format!(
            "replace must be 0 (duplicate keys are an error) or 1 (replace), got {replace}"
        ))),
    }
}

fn get(reg: &Registry<Index>, h: u32) -> Result<&Index> {
    reg.get(Handle::from_raw(h))
}

fn get_mut(reg: &mut Registry<Index>, h: u32) -> Result<&mut Index> {
    reg.get_mut(Handle::from_raw(h))
}

/// Writes `value` to a checked one-element region.
fn put<T: Copy, M: Memory>(mem: &M, region: Region, value: T) {
    // SAFETY: a checked region of one `T`; the caller checked it overlaps no input still
    // borrowed.
    unsafe { mem.slice_mut::<T>(region)[0] = value };
}

/// `fv_index_new`: creates an index and writes its handle (u32) to `out_handle`.
#[allow(clippy::too_many_arguments)]
pub fn new(
    mem: &impl Memory,
    reg: &mut Registry<Index>,
    dims: u32,
    metric: i32,
    storage: i32,
    kind: i32,
    m: u32,
    ef_construction: u32,
    ef_search: u32,
    seed: u64,
    out_handle: u32,
) -> Result<()> {
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    let mut options = IndexOptions::new(dims as usize, IndexMetric::from_code(metric)?)
        .storage(Storage::from_code(storage)?);
    options = match kind {
        KIND_EXACT => options.exact(),
        KIND_HNSW => options.hnsw(HnswParams {
            m: m as usize,
            ef_construction: ef_construction as usize,
            ef_search: ef_search as usize,
            seed,
        }),
        _ => {
            return Err(Error::InvalidArgument(format!(
                "unknown index kind {kind} (expected 0 = exact, 1 = hnsw)"
            )))
        }
    };
    let index = Index::new(options)?;
    let handle = reg.insert(index).map_err(|(err, _)| err)?;
    put(mem, out, handle.raw());
    Ok(())
}

/// `fv_index_load`: an index from `len` bytes at `bytes`; its handle goes to `out_handle`.
pub fn load(
    mem: &impl Memory,
    reg: &mut Registry<Index>,
    bytes: u32,
    len: u32,
    out_handle: u32,
) -> Result<()> {
    let rb = mem.region::<u8>(bytes, len, "bytes")?;
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    check_disjoint(out, "out_handle", rb, "bytes")?;
    // SAFETY: a checked region, only read, for this call only.
    let index = Index::from_bytes(unsafe { mem.slice::<u8>(rb) })?;
    let handle = reg.insert(index).map_err(|(err, _)| err)?;
    put(mem, out, handle.raw());
    Ok(())
}

/// `fv_index_free`.
pub fn free(reg: &mut Registry<Index>, h: u32) -> Result<()> {
    reg.remove(Handle::from_raw(h)).map(drop)
}

/// `fv_index_info`: writes [`INFO_WORDS`] u32 at `out`: dims, metric, storage, kind, m,
/// ef_construction, ef_search, len, capacity, seed low and high words, 0.
pub fn info(mem: &impl Memory, reg: &Registry<Index>, h: u32, out: u32) -> Result<()> {
    let index = get(reg, h)?;
    let ro = mem.region::<u32>(out, INFO_WORDS, "out")?;
    let o = index.options();
    let (kind, p) = match &o.kind {
        IndexKind::Hnsw(p) => (KIND_HNSW, *p),
        _ => (
            KIND_EXACT,
            HnswParams {
                m: 0,
                ef_construction: 0,
                ef_search: 0,
                seed: 0,
            },
        ),
    };
    let words = [
        o.dims as u32,
        o.metric as i32 as u32,
        o.storage as i32 as u32,
        kind as u32,
        p.m as u32,
        p.ef_construction as u32,
        p.ef_search as u32,
        index.len() as u32,
        index.capacity() as u32,
        p.seed as u32,
        (p.seed >> 32) as u32,
        0,
    ];
    // SAFETY: a checked region of INFO_WORDS u32, no input borrowed.
    unsafe { mem.slice_mut::<u32>(ro) }.copy_from_slice(&words);
    Ok(())
}

/// `fv_index_add`: `vector` holds `n` f32, which must equal the index's dims.
pub fn add(
    mem: &impl Memory,
    reg: &mut Registry<Index>,
    h: u32,
    key: u64,
    vector: u32,
    n: u32,
    replace: u32,
) -> Result<()> {
    let index = get_mut(reg, h)?;
    let rv = mem.region::<f32>(vector, n, "vector")?;
    let on_dup = on_duplicate(replace)?;
    // SAFETY: a checked region, only read, for this call only.
    index.add_with(key, unsafe { mem.slice::<f32>(rv) }, on_dup)
}

/// `fv_index_add_batch`: `n` keys (u64) at `keys`, `n_floats` (= `n * dims`) f32 at
/// `vectors`. All or nothing.
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn add_batch(
    mem: &impl Memory,
    reg: &mut Registry<Index>,
    h: u32,
    keys: u32,
    n: u32,
    vectors: u32,
    n_floats: u32,
    replace: u32,
) -> Result<()> {
    let index = get_mut(reg, h)?;
    let rk = mem.region::<u64>(keys, n, "keys")?;
    let rv = mem.region::<f32>(vectors, n_floats, "vectors")?;
    let on_dup = on_duplicate(replace)?;
    // SAFETY: checked regions, only read, for this call only.
    let (keys, vectors) = unsafe { (mem.slice::<u64>(rk), mem.slice::<f32>(rv)) };
    index.add_batch(keys, vectors, on_dup)
}

/// `fv_index_remove`.
pub fn remove(reg: &mut Registry<Index>, h: u32, key: u64) -> Result<()> {
    get_mut(reg, h)?.remove(key)
}

/// `fv_index_compact`.
pub fn compact(reg: &mut Registry<Index>, h: u32) -> Result<()> {
    get_mut(reg, h)?.compact()
}

/// `fv_index_clear`.
pub fn clear(reg: &mut Registry<Index>, h: u32) -> Result<()> {
    get_mut(reg, h)?.clear();
    Ok(())
}

/// `fv_index_reserve`.
pub fn reserve(reg: &mut Registry<Index>, h: u32, additional: u32) -> Result<()> {
    get_mut(reg, h)?.reserve(additional as usize)
}

/// `fv_index_set_ef_search`.
pub fn set_ef_search(reg: &mut Registry<Index>, h: u32, ef: u32) -> Result<()> {
    get_mut(reg, h)?.set_ef_search(ef as usize)
}

/// `fv_index_contains`: writes 1 or 0 (u32) to `out`.
pub fn contains(
    mem: &impl Memory,
    reg: &Registry<Index>,
    h: u32,
    key: u64,
    out: u32,
) -> Result<()> {
    let index = get(reg, h)?;
    let ro = mem.region::<u32>(out, 1, "out")?;
    put(mem, ro, u32::from(index.contains(key)));
    Ok(())
}

/// `fv_index_len`: writes the live count (u32) to `out`.
pub fn len(mem: &impl Memory, reg: &Registry<Index>, h: u32, out: u32) -> Result<()> {
    let index = get(reg, h)?;
    let ro = mem.region::<u32>(out, 1, "out")?;
    put(mem, ro, index.len() as u32);
    Ok(())
}

/// `fv_index_get`: the stored vector (dequantized) into `n` (= dims) f32 at `out`.
pub fn get_vector(
    mem: &impl Memory,
    reg: &Registry<Index>,
    h: u32,
    key: u64,
    out: u32,
    n: u32,
) -> Result<()> {
    let index = get(reg, h)?;
    let ro = mem.region::<f32>(out, n, "out")?;
    if n as usize != index.dims() {
        return Err(Error::DimensionMismatch {
            expected: index.dims(),
            actual: n as usize,
        });
    }
    let vector = index.get(key)?;
    // SAFETY: a checked region of `n` f32, no input borrowed.
    unsafe { mem.slice_mut::<f32>(ro) }.copy_from_slice(&vector);
    Ok(())
}

/// The output regions of a search returning at most `cap` matches per query for
/// `n_queries` queries.
struct Outputs {
    keys: Region,
    dist: Region,
    counts: Region,
}

fn outputs(
    mem: &impl Memory,
    cap: u32,
    n_queries: u32,
    out_keys: u32,
    out_dist: u32,
    out_counts: u32,
    inputs: &[(Region, &str)],
) -> Result<Outputs> {
    let total = cap.checked_mul(n_queries).ok_or_else(|| {
        Error::InvalidArgument(format!("{n_queries} queries x {cap} results overflows"))
    })?;
    let o = Outputs {
        keys: mem.region::<u64>(out_keys, total, "out_keys")?,
        dist: mem.region::<f32>(out_dist, total, "out_dist")?,
        counts: mem.region::<u32>(out_counts, n_queries, "out_n")?,
    };
    let outs = [
        (o.keys, "out_keys"),
        (o.dist, "out_dist"),
        (o.counts, "out_n"),
    ];
    for (i, &(a, a_name)) in outs.iter().enumerate() {
        for &(b, b_name) in &outs[i + 1..] {
            check_disjoint(a, a_name, b, b_name)?;
        }
        for &(b, b_name) in inputs {
            check_disjoint(a, a_name, b, b_name)?;
        }
    }
    Ok(o)
}

/// Writes one query's matches at row `row` (of `cap` slots) and its count.
fn write_matches(mem: &impl Memory, o: &Outputs, cap: u32, row: usize, matches: &[Match]) {
    // SAFETY: checked, mutually disjoint output regions that overlap no input (checked in
    // `outputs`); each borrow ends within this function.
    let (keys, dist, counts) = unsafe {
        (
            mem.slice_mut::<u64>(o.keys),
            mem.slice_mut::<f32>(o.dist),
            mem.slice_mut::<u32>(o.counts),
        )
    };
    let base = row * cap as usize;
    for (i, m) in matches.iter().enumerate() {
        keys[base + i] = m.key;
        dist[base + i] = m.distance;
    }
    counts[row] = matches.len() as u32;
}

/// `min(k, len)`: how many matches a search can return, and so what the outputs must hold.
/// `k = 0` is left for the core to refuse.
fn capacity_for(index: &Index, k: u32) -> u32 {
    k.min(index.len() as u32)
}

/// `fv_index_search` / `fv_index_search_allowed` (`allowed = Some((ptr, n))`): the up to
/// `min(k, len)` nearest matches into `out_keys` (u64) / `out_dist` (f32), their number
/// (u32) into `out_n`.
#[allow(clippy::too_many_arguments)]
pub fn search(
    mem: &impl Memory,
    reg: &Registry<Index>,
    h: u32,
    query: u32,
    n: u32,
    k: u32,
    allowed: Option<(u32, u32)>,
    out_keys: u32,
    out_dist: u32,
    out_n: u32,
) -> Result<()> {
    let index = get(reg, h)?;
    let rq = mem.region::<f32>(query, n, "query")?;
    let ra = match allowed {
        Some((ptr, count)) => Some(mem.region::<u64>(ptr, count, "allowed")?),
        None => None,
    };
    let cap = capacity_for(index, k);
    let mut inputs = Vec::with_capacity(2);
    inputs.push((rq, "query"));
    if let Some(ra) = ra {
        inputs.push((ra, "allowed"));
    }
    let o = outputs(mem, cap, 1, out_keys, out_dist, out_n, &inputs)?;
    // SAFETY: checked input regions, only read, overlapping no output; this call only.
    let q = unsafe { mem.slice::<f32>(rq) };
    let matches = match ra {
        // SAFETY: as above.
        Some(ra) => index.search_allowed(q, k as usize, unsafe { mem.slice::<u64>(ra) })?,
        None => index.search(q, k as usize)?,
    };
    if matches.len() > cap as usize {
        return Err(Error::Internal(format!(
            "search returned {} matches for k = {k}, len = {}",
            matches.len(),
            index.len()
        )));
    }
    write_matches(mem, &o, cap, 0, &matches);
    Ok(())
}

/// `fv_index_search_batch`: `n_queries` queries (`n_floats` = `n_queries * dims` f32);
/// query `i`'s matches at `i * min(k, len)` in `out_keys` / `out_dist`, their number at
/// `out_counts[i]`.
#[allow(clippy::too_many_arguments)]
pub fn search_batch(
    mem: &impl Memory,
    reg: &Registry<Index>,
    h: u32,
    queries: u32,
    n_queries: u32,
    n_floats: u32,
    k: u32,
    out_keys: u32,
    out_dist: u32,
    out_counts: u32,
) -> Result<()> {
    let index = get(reg, h)?;
    let rq = mem.region::<f32>(queries, n_floats, "queries")?;
    let cap = capacity_for(index, k);
    let o = outputs(
        mem,
        cap,
        n_queries,
        out_keys,
        out_dist,
        out_counts,
        &[(rq, "queries")],
    )?;
    // SAFETY: a checked input region, only read, overlapping no output; this call only.
    let lists = index.search_batch(unsafe { mem.slice::<f32>(rq) }, k as usize)?;
    if lists.len() != n_queries as usize {
        return Err(Error::DimensionMismatch {
            expected: n_queries as usize * index.dims(),
            actual: n_floats as usize,
        });
    }
    if lists.iter().any(|l| l.len() > cap as usize) {
        return Err(Error::Internal(
            "search_batch returned too many matches".into(),
        ));
    }
    for (row, matches) in lists.iter().enumerate() {
        write_matches(mem, &o, cap, row, matches);
    }
    Ok(())
}

/// `fv_index_set_model_id`: records `id` (with `has` 1) or no model id (`has` 0) in the
/// index, saved by `fv_index_save` (format v2). The core's rule: an index holding vectors
/// of another model refuses (`InvalidArgument` naming both ids).
pub fn set_model_id(reg: &mut Registry<Index>, h: u32, id: u64, has: u32) -> Result<()> {
    let index = get_mut(reg, h)?;
    let id = match has {
        0 => None,
        1 => Some(id),
        _ => {
            return Err(Error::InvalidArgument(format!(
                "has must be 0 (no model id) or 1, got {has}"
            )))
        }
    };
    index.set_model_id(id)
}

/// `fv_index_model_id`: writes two u64 at `out`: 1 and the model id, or 0 and 0 for an
/// index without one.
pub fn model_id(mem: &impl Memory, reg: &Registry<Index>, h: u32, out: u32) -> Result<()> {
    let index = get(reg, h)?;
    let ro = mem.region::<u64>(out, 2, "out")?;
    let words = match index.model_id() {
        Some(id) => [1, id],
        None => [0, 0],
    };
    // SAFETY: a checked region of two u64, no input borrowed.
    unsafe { mem.slice_mut::<u64>(ro) }.copy_from_slice(&words);
    Ok(())
}

/// `fv_index_save`'s body: the bytes (the ABI copies them into a block the host frees).
pub fn save(reg: &Registry<Index>, h: u32) -> Result<Vec<u8>> {
    get(reg, h)?.to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::TestMemory;

    fn setup() -> (TestMemory, Registry<Index>, u32) {
        let mem = TestMemory::new(1 << 16);
        let mut reg = Registry::new();
        new(&mem, &mut reg, 4, 1, 0, KIND_EXACT, 0, 0, 0, 0, 8).unwrap();
        let h = mem.read::<u32>(8, 1)[0];
        (mem, reg, h)
    }

    #[test]
    fn model_id_is_recorded_saved_and_checked() {
        let (mem, mut reg, h) = setup();
        model_id(&mem, &reg, h, 64).unwrap();
        assert_eq!(mem.read::<u64>(64, 2), [0, 0]);
        set_model_id(&mut reg, h, 0xfeed, 1).unwrap();
        model_id(&mem, &reg, h, 64).unwrap();
        assert_eq!(mem.read::<u64>(64, 2), [1, 0xfeed]);
        assert!(matches!(
            set_model_id(&mut reg, h, 1, 2),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            model_id(&mem, &reg, h, 60),
            Err(Error::InvalidArgument(_))
        ));
        mem.write::<f32>(128, &[1.0, 0.0, 0.0, 0.0]);
        add(&mem, &mut reg, h, 5, 128, 4, 0).unwrap();
        // Another model's id on an index holding vectors: refused, the id unchanged.
        assert!(matches!(
            set_model_id(&mut reg, h, 0xbeef, 1),
            Err(Error::InvalidArgument(m)) if m.contains("000000000000feed")
        ));
        let bytes = save(&reg, h).unwrap();
        let back = Index::from_bytes(&bytes).unwrap();
        assert_eq!(back.model_id(), Some(0xfeed));
        assert_eq!(
            set_model_id(&mut reg, 999, 1, 1).unwrap_err(),
            Error::InvalidHandle
        );
    }

    #[test]
    fn add_search_get_through_memory() {
        let (mem, mut reg, h) = setup();
        let rows = [
            [0.0f32, 0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 2.0, 0.0, 0.0],
        ];
        for (i, row) in rows.iter().enumerate() {
            mem.write(64, row);
            add(&mem, &mut reg, h, 10 + i as u64, 64, 4, 0).unwrap();
        }
        mem.write(128, &[0.9f32, 0.1, 0.0, 0.0]);
        search(&mem, &reg, h, 128, 4, 2, None, 256, 512, 600).unwrap();
        assert_eq!(mem.read::<u32>(600, 1), [2]);
        assert_eq!(mem.read::<u64>(256, 2), [11, 10]);
        // Allow-list: only 12.
        mem.write(704, &[12u64, 99]);
        search(&mem, &reg, h, 128, 4, 5, Some((704, 2)), 256, 512, 600).unwrap();
        assert_eq!(mem.read::<u32>(600, 1), [1]);
        assert_eq!(mem.read::<u64>(256, 1), [12]);
        get_vector(&mem, &reg, h, 12, 800, 4).unwrap();
        assert_eq!(mem.read::<f32>(800, 4), [0.0, 2.0, 0.0, 0.0]);
        len(&mem, &reg, h, 900).unwrap();
        assert_eq!(mem.read::<u32>(900, 1), [3]);
        info(&mem, &reg, h, 1000).unwrap();
        assert_eq!(mem.read::<u32>(1000, 4), [4, 1, 0, 0]);
    }

    #[test]
    fn batch_outputs_are_rows_of_min_k_len() {
        let (mem, mut reg, h) = setup();
        mem.write(64, &[1u64, 2]);
        mem.write(128, &[1.0f32, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        add_batch(&mem, &mut reg, h, 64, 2, 128, 8, 0).unwrap();
        mem.write(256, &[0.0f32, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        search_batch(&mem, &reg, h, 256, 2, 8, 10, 512, 640, 700).unwrap();
        assert_eq!(mem.read::<u32>(700, 2), [2, 2]);
        assert_eq!(mem.read::<u64>(512, 4), [2, 1, 1, 2]);
        let err = search_batch(&mem, &reg, h, 256, 3, 8, 10, 512, 640, 700).unwrap_err();
        assert_eq!(err.code(), -2);
    }

    #[test]
    fn bad_calls_change_nothing() {
        let (mem, mut reg, h) = setup();
        mem.write(64, &[1.0f32, 2.0, 3.0, 4.0]);
        add(&mem, &mut reg, h, 1, 64, 4, 0).unwrap();
        // Wrong dims, null, misaligned, duplicate, bad replace flag, stale handle.
        assert_eq!(add(&mem, &mut reg, h, 2, 64, 3, 0).unwrap_err().code(), -2);
        assert_eq!(add(&mem, &mut reg, h, 2, 0, 4, 0).unwrap_err().code(), -1);
        assert_eq!(add(&mem, &mut reg, h, 2, 66, 4, 0).unwrap_err().code(), -3);
        assert_eq!(add(&mem, &mut reg, h, 1, 64, 4, 0).unwrap_err().code(), -11);
        assert_eq!(add(&mem, &mut reg, h, 2, 64, 4, 7).unwrap_err().code(), -3);
        assert_eq!(
            add(&mem, &mut reg, h + (1 << 16), 2, 64, 4, 0)
                .unwrap_err()
                .code(),
            -14
        );
        mem.write(128, &[f32::NAN, 0.0, 0.0, 0.0]);
        assert_eq!(add(&mem, &mut reg, h, 2, 128, 4, 0).unwrap_err().code(), -3);
        // Outputs overlapping each other or the query.
        mem.write(128, &[1.0f32, 0.0, 0.0, 0.0]);
        assert_eq!(
            search(&mem, &reg, h, 128, 4, 1, None, 256, 256, 600)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(
            search(&mem, &reg, h, 128, 4, 1, None, 128, 512, 600)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(
            search(&mem, &reg, h, 128, 4, 0, None, 256, 512, 600)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(remove(&mut reg, h, 42).unwrap_err().code(), -10);
        len(&mem, &reg, h, 900).unwrap();
        assert_eq!(mem.read::<u32>(900, 1), [1]);
        // Unknown codes at creation.
        assert_eq!(
            new(&mem, &mut reg, 4, 9, 0, 0, 0, 0, 0, 0, 8)
                .unwrap_err()
                .code(),
            -4
        );
        assert_eq!(
            new(&mem, &mut reg, 4, 0, 9, 0, 0, 0, 0, 0, 8)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(
            new(&mem, &mut reg, 4, 0, 0, 9, 0, 0, 0, 0, 8)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(
            new(&mem, &mut reg, 4, 3, 0, 0, 0, 0, 0, 0, 8)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(reg.len(), 1);
    }

    #[test]
    fn save_load_and_stale_handles() {
        let (mem, mut reg, h) = setup();
        mem.write(64, &[1.0f32, 2.0, 3.0, 4.0]);
        add(&mem, &mut reg, h, 5, 64, 4, 0).unwrap();
        let bytes = save(&reg, h).unwrap();
        mem.write(4096, &bytes);
        load(&mem, &mut reg, 4096, bytes.len() as u32, 16).unwrap();
        let h2 = mem.read::<u32>(16, 1)[0];
        assert_ne!(h, h2);
        contains(&mem, &reg, h2, 5, 900).unwrap();
        assert_eq!(mem.read::<u32>(900, 1), [1]);
        free(&mut reg, h).unwrap();
        assert_eq!(free(&mut reg, h).unwrap_err().code(), -14, "double free");
        assert_eq!(len(&mem, &reg, h, 900).unwrap_err().code(), -14, "stale");
        assert_eq!(
            len(&mem, &reg, 0, 900).unwrap_err().code(),
            -14,
            "never issued"
        );
        // Truncated bytes.
        let err = load(&mem, &mut reg, 4096, bytes.len() as u32 - 1, 16).unwrap_err();
        assert!(matches!(err.code(), -12 | -13), "{err}");
        assert_eq!(reg.len(), 1);
    }
}
