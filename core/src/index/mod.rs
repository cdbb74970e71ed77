//! A vector index: fixed-dimension vectors under `u64` keys, searched exactly (a flat scan
//! on the SIMD kernels) or approximately (HNSW).
//!
//! ```
//! use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions};
//! let mut index = Index::new(IndexOptions::new(3, IndexMetric::L2sq).hnsw(HnswParams::default()))?;
//! index.add(7, &[1.0, 0.0, 0.0])?;
//! index.add(9, &[0.0, 1.0, 0.0])?;
//! let hits = index.search(&[0.9, 0.1, 0.0], 1)?;
//! assert_eq!(hits[0].key, 7);
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
//!
//! # Guarantees
//!
//! * **Failed calls change nothing.** Every mutation validates all of its input (dimension,
//!   NaN/infinity, duplicate keys, memory via `try_reserve`) before touching the index.
//! * **Distances** are "smaller is closer": cosine `1 - cos` (vectors are normalized on
//!   insert and on query, and stored normalized), inner product `1 - a.b` (usearch's "ip"),
//!   squared L2, hamming (number of differing bits) and jaccard `1 - |a&b| / |a|b|`.
//!   Results are ascending by distance, ties broken by key ascending.
//! * **Threads.** `Index` is `Send + Sync`: searches take `&self` and may run concurrently
//!   (an HNSW search borrows its buffers from a small lock-free pool, or allocates fresh
//!   ones when every pooled set is in use, so searches never wait on each other);
//!   mutations take `&mut self`, so Rust's borrow rules serialize them. The
//!   `ferrovec` crate's `Index` wraps this one in a lock for shared use across threads and
//!   FFI.
//! * **Determinism.** An HNSW graph is a pure function of the options (including the seed),
//!   the order of insertions and removals, and the distances the active kernel table
//!   computes (instruction sets round differently in the last bits).
//! * **Limits.** `dims` is 1..=[`MAX_DIMS`]; an index holds at most [`MAX_SLOTS`] slots
//!   (live vectors plus removed ones not yet reclaimed by [`Index::compact`]).

mod format;
mod hnsw;
mod keymap;
mod tombstones;
mod vectors;

use alloc::collections::BinaryHeap;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use crate::kernels::{Kernels, Metric};
use crate::{Error, Result};
use hnsw::Hnsw;
use keymap::KeyMap;
use tombstones::Tombstones;
use vectors::{Dist, QueryRef, Vectors};

/// The largest dimension an index accepts (i8 dot products stay exact up to it).
pub const MAX_DIMS: usize = 65536;
/// The most slots (live plus removed-but-not-compacted vectors) an index holds.
pub const MAX_SLOTS: usize = (u32::MAX - 1) as usize;
/// The largest HNSW `m`.
pub const MAX_M: usize = 512;
/// The largest `ef_construction` / `ef_search`.
pub const MAX_EF: usize = 1 << 20;

/// How distances are measured. Smaller is always closer.
#[repr(i32)]
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexMetric {
    /// `1 - cos(a, b)`. Vectors are normalized on insert and on query (a zero vector stays
    /// zero and is at distance 1 from everything). F32, F16, BF16 or I8 storage.
    Cosine = 0,
    /// Squared Euclidean distance. F32, F16, BF16 or I8 storage.
    L2sq = 1,
    /// `1 - a.b` (usearch's "ip"; may be negative). F32, F16, BF16 or I8 storage.
    InnerProduct = 2,
    /// Number of differing bits. B1 storage only.
    Hamming = 3,
    /// `1 - |a & b| / |a | b|` (0 when both are all zeros). B1 storage only.
    Jaccard = 4,
}

impl IndexMetric {
    /// The metric of an ABI code (`IndexMetric as i32`).
    pub fn from_code(code: i32) -> Result<IndexMetric> {
        Ok(match code {
            0 => IndexMetric::Cosine,
            1 => IndexMetric::L2sq,
            2 => IndexMetric::InnerProduct,
            3 => IndexMetric::Hamming,
            4 => IndexMetric::Jaccard,
            other => return Err(Error::UnknownMetric(other)),
        })
    }
}

/// How vectors are stored. Searches always take f32 queries, encoded like the rows.
#[repr(i32)]
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    /// 32-bit floats, as given (cosine: normalized). An HNSW index also keeps an i8 copy
    /// of every row (quantized like [`Storage::I8`], `dims + 4` bytes per vector, `dims + 8`
    /// with L2sq, rebuilt on load, not in files): graph walks compare on the copies, which
    /// reads a quarter of the memory, and the candidates a walk finds are re-scored on the
    /// f32 rows, so results and distances are f32.
    F32 = 0,
    /// Symmetric scalar quantization with one f32 scale per vector: `scale = max|x| / 127`,
    /// `q_i = round(x_i / scale)` in -127..=127 (cosine: of the normalized vector). Distances
    /// are computed from `q` and the scales of query and row; [`Index::get`] returns
    /// `q_i * scale`. A quarter of F32's memory, with small distance errors.
    I8 = 1,
    /// One sign bit per dimension (`x > 0` is 1), packed LSB first, `ceil(dims / 8)` bytes.
    /// [`Index::get`] returns 1.0 for set bits and 0.0 otherwise.
    B1 = 2,
    /// IEEE 754 half precision ([`F16`](crate::kernels::F16)): each value rounded to the
    /// nearest f16 (cosine: of the normalized vector), half of F32's memory. Queries stay
    /// f32; distances are f32 sums of the exact f16 values, on every instruction set
    /// (F16C / AVX-512 conversions, NEON `fcvtl`, simd128 and scalar conversion). With L2sq
    /// or inner product, a value that rounds past the largest f16 (65504) is refused. HNSW
    /// walks compare on an i8 copy as with F32 and re-score on the f16 rows. Saved as file
    /// format version 3.
    F16 = 3,
    /// bfloat16 ([`Bf16`](crate::kernels::Bf16)): the top 16 bits of the f32, rounded to
    /// nearest even (8 significant bits, f32's range), half of F32's memory; otherwise as
    /// [`Storage::F16`].
    BF16 = 4,
}

impl Storage {
    /// The storage of an ABI code (`Storage as i32`).
    pub fn from_code(code: i32) -> Result<Storage> {
        Ok(match code {
            0 => Storage::F32,
            1 => Storage::I8,
            2 => Storage::B1,
            3 => Storage::F16,
            4 => Storage::BF16,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown storage code {other} (expected 0 = f32, 1 = i8, 2 = b1, 3 = f16, \
                     4 = bf16)"
                )))
            }
        })
    }
}

/// HNSW parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HnswParams {
    /// Neighbors per node on the upper levels (twice as many on level 0): 2..=[`MAX_M`].
    pub m: usize,
    /// Beam width while inserting (1..=[`MAX_EF`]; at least `m` is used).
    pub ef_construction: usize,
    /// Default beam width while searching (1..=[`MAX_EF`]; at least `k` is used).
    pub ef_search: usize,
    /// Seeds the level generator: same seed and insertion order, same graph.
    pub seed: u64,
}

impl Default for HnswParams {
    /// `m` 16, `ef_construction` 128, `ef_search` 64, `seed` 0x5eed.
    fn default() -> Self {
        HnswParams {
            m: 16,
            ef_construction: 128,
            ef_search: 64,
            seed: 0x5eed,
        }
    }
}

/// Exact (flat scan) or approximate (HNSW) search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexKind {
    /// Every search scans every live vector: exact results.
    Exact,
    /// A hierarchical navigable small-world graph.
    Hnsw(HnswParams),
}

/// Everything fixed when an index is created.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndexOptions {
    /// Dimension of every vector, 1..=[`MAX_DIMS`].
    pub dims: usize,
    /// The distance.
    pub metric: IndexMetric,
    /// The row encoding.
    pub storage: Storage,
    /// Exact or HNSW.
    pub kind: IndexKind,
}

impl IndexOptions {
    /// F32 storage, exact search.
    pub fn new(dims: usize, metric: IndexMetric) -> Self {
        IndexOptions {
            dims,
            metric,
            storage: Storage::F32,
            kind: IndexKind::Exact,
        }
    }

    /// With storage `s`.
    pub fn storage(mut self, s: Storage) -> Self {
        self.storage = s;
        self
    }

    /// HNSW with parameters `p`.
    pub fn hnsw(mut self, p: HnswParams) -> Self {
        self.kind = IndexKind::Hnsw(p);
        self
    }

    /// Exact search.
    pub fn exact(mut self) -> Self {
        self.kind = IndexKind::Exact;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.dims == 0 || self.dims > MAX_DIMS {
            return Err(invalid(format!(
                "dims must be in 1..={MAX_DIMS}, got {}",
                self.dims
            )));
        }
        let ok = matches!(
            (self.metric, self.storage),
            (
                IndexMetric::Cosine | IndexMetric::L2sq | IndexMetric::InnerProduct,
                Storage::F32 | Storage::F16 | Storage::BF16 | Storage::I8
            ) | (IndexMetric::Hamming | IndexMetric::Jaccard, Storage::B1)
        );
        if !ok {
            return Err(invalid(format!(
                "unsupported metric/storage pair {:?}/{:?} (cosine, l2sq and inner product need \
                 f32, f16, bf16 or i8 storage; hamming and jaccard need b1)",
                self.metric, self.storage
            )));
        }
        if let IndexKind::Hnsw(p) = &self.kind {
            if p.m < 2 || p.m > MAX_M {
                return Err(invalid(format!(
                    "HNSW m must be in 2..={MAX_M}, got {}",
                    p.m
                )));
            }
            check_ef("ef_construction", p.ef_construction)?;
            check_ef("ef_search", p.ef_search)?;
        }
        Ok(())
    }
}

fn check_ef(name: &str, ef: usize) -> Result<()> {
    if ef == 0 || ef > MAX_EF {
        return Err(invalid(format!("{name} must be in 1..={MAX_EF}, got {ef}")));
    }
    Ok(())
}

fn invalid(msg: alloc::string::String) -> Error {
    Error::InvalidArgument(msg)
}

/// The error for an encoder of model id `encoder` used on an index holding vectors of model
/// id `index`.
pub fn model_mismatch(index: Option<u64>, encoder: Option<u64>) -> Error {
    let name = |id: Option<u64>| match id {
        Some(id) => format!("model {id:016x}"),
        None => "of no recorded model".into(),
    };
    invalid(format!(
        "the index holds vectors made by {} but the encoder is {}: vectors of different \
         models are not comparable (re-embed the texts with one model, or use a new index)",
        name(index),
        name(encoder)
    ))
}

fn oom(what: &str) -> Error {
    Error::OutOfMemory(format!("could not reserve memory for {what}"))
}

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    /// The key the vector was added under.
    pub key: u64,
    /// Its distance to the query (see [`IndexMetric`]).
    pub distance: f32,
}

/// What adding an existing key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnDuplicate {
    /// Fail with [`Error::DuplicateKey`], changing nothing (the default).
    #[default]
    Error,
    /// Replace the stored vector: the old one is removed (a tombstone until
    /// [`Index::compact`]) and the new one added.
    Replace,
}

/// A vector index. See the [module docs](self) for the guarantees.
#[derive(Clone, Debug)]
pub struct Index {
    options: IndexOptions,
    /// The key of every slot.
    keys: Vec<u64>,
    /// Whether each slot was removed (or replaced).
    dead: Tombstones,
    live: usize,
    /// Live keys -> slots.
    map: KeyMap,
    vecs: Vectors,
    hnsw: Option<Hnsw>,
    /// The model id of the text encoder that made the vectors, if the index records one.
    model_id: Option<u64>,
}

/// A bounded max-heap keeping the `k` best `(distance, key)` pairs.
struct TopK {
    k: usize,
    heap: BinaryHeap<(OrdF32, u64)>,
}

#[derive(Clone, Copy, PartialEq)]
struct OrdF32(f32);
impl Eq for OrdF32 {}
impl Ord for OrdF32 {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl PartialOrd for OrdF32 {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
        }
    }

    #[inline]
    fn push(&mut self, d: f32, key: u64) {
        let item = (OrdF32(d), key);
        if self.heap.len() < self.k {
            self.heap.push(item);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if item < *worst {
                *worst = item;
            }
        }
    }

    fn into_matches(self, clamp_zero: bool) -> Vec<Match> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|(d, key)| Match {
                key,
                distance: if clamp_zero { d.0.max(0.0) } else { d.0 },
            })
            .collect()
    }
}

/// How many of an i8-copy walk's candidates (the closest by their i8 distance) are re-scored
/// on the stored rows to pick the `k` results. Re-scoring reads a whole row per candidate,
/// mostly from memory, and the i8 order already has the true `k` nearest near its front:
/// on 100,000 x 384 (bench/README.md) re-scoring only the best `k + 4` gave the recall of
/// re-scoring all `ef` at every ef from 16 to 256, and `max(2k, k + 16)` made searches
/// 10-30% faster at ef 64-128 against re-scoring all.
fn rescored(k: usize) -> usize {
    k.saturating_mul(2).max(k.saturating_add(16))
}

fn check_finite(v: &[f32], row: Option<usize>) -> Result<()> {
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(invalid(match row {
            None => format!("vector contains NaN or infinity at {i}"),
            Some(r) => format!("vector {r} contains NaN or infinity at {i}"),
        }));
    }
    Ok(())
}

/// Refuses a (finite) value that would be stored as an infinity: f16 rounds magnitudes from
/// 65520 up to infinity, bf16 those from 0x7f7f8000 (about 3.3961e38; the tie goes to the
/// even neighbour, infinity). Cosine rows are normalized first, so they always fit. The
/// message names the position, not the value: formatting floats would pull core's float
/// printing into the wasm modules (about 20 KB).
fn check_storable(options: &IndexOptions, v: &[f32], row: Option<usize>) -> Result<()> {
    let (limit, name) = match (options.metric, options.storage) {
        (IndexMetric::Cosine, _) => return Ok(()),
        (_, Storage::F16) => (0x477f_f000u32, "f16 range (|x| < 65520)"),
        (_, Storage::BF16) => (0x7f7f_8000, "bf16 range (|x| < 3.3961e38)"),
        _ => return Ok(()),
    };
    match v.iter().position(|x| x.to_bits() & 0x7fff_ffff >= limit) {
        None => Ok(()),
        Some(i) => Err(invalid(match row {
            None => format!("vector value at {i} is out of {name}"),
            Some(r) => format!("vector {r} value at {i} is out of {name}"),
        })),
    }
}

impl Index {
    /// An empty index. [`Error::InvalidArgument`] for `dims` outside 1..=[`MAX_DIMS`], an
    /// unsupported metric/storage pair (e.g. hamming on f32), or HNSW parameters out of range.
    pub fn new(options: IndexOptions) -> Result<Index> {
        options.validate()?;
        let mut vecs = Vectors::new(options.dims, options.metric, options.storage);
        let hnsw = match options.kind {
            IndexKind::Exact => None,
            IndexKind::Hnsw(p) => {
                vecs.enable_shadow().map_err(|_| oom("vectors"))?;
                Some(Hnsw::new(p.m, p.ef_construction, p.ef_search, p.seed))
            }
        };
        Ok(Index {
            options,
            keys: Vec::new(),
            dead: Tombstones::default(),
            live: 0,
            map: KeyMap::default(),
            vecs,
            hnsw,
            model_id: None,
        })
    }

    /// The model id of the text encoder whose vectors this index holds
    /// ([`Encoder::model_id`](crate::encoder::Encoder::model_id)), or `None` for an index of
    /// plain vectors. Saved in the file (format version 2; an index without one is written
    /// as version 1), kept by [`clear`](Self::clear) and [`compact`](Self::compact).
    pub fn model_id(&self) -> Option<u64> {
        self.model_id
    }

    /// Records that the vectors come from the encoder with model id `id`. Setting the id
    /// it already has is a no-op; an index with no slots (nothing added since it was
    /// created, cleared or compacted empty) or without an id takes any id; `None` (vectors
    /// of no particular model: no check) is always accepted. Changing the id of an index
    /// that holds vectors of another model is [`Error::InvalidArgument`] naming both ids
    /// (their vectors would not be comparable), and the index is unchanged.
    pub fn set_model_id(&mut self, id: Option<u64>) -> Result<()> {
        if id.is_none() || id == self.model_id || self.keys.is_empty() || self.model_id.is_none() {
            self.model_id = id;
            return Ok(());
        }
        Err(model_mismatch(self.model_id, id))
    }

    /// The options (for HNSW, `ef_search` as last set by [`set_ef_search`](Self::set_ef_search)).
    pub fn options(&self) -> &IndexOptions {
        &self.options
    }

    /// Dimension of every vector.
    pub fn dims(&self) -> usize {
        self.options.dims
    }

    /// The metric.
    pub fn metric(&self) -> IndexMetric {
        self.options.metric
    }

    /// The storage.
    pub fn storage(&self) -> Storage {
        self.options.storage
    }

    /// Exact or HNSW (with the current parameters).
    pub fn kind(&self) -> IndexKind {
        self.options.kind
    }

    /// Live (added and not removed) vectors.
    pub fn len(&self) -> usize {
        self.live
    }

    /// `true` when no live vector is stored.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// How many more vectors fit, added to [`len`](Self::len), without reallocating rows
    /// (removed vectors keep their slots until [`compact`](Self::compact)).
    pub fn capacity(&self) -> usize {
        let mut slots = self.vecs.capacity().min(self.keys.capacity());
        if let Some(h) = &self.hnsw {
            slots = slots.min(h.levels.capacity());
        }
        slots - (self.keys.len() - self.live)
    }

    /// Reserves room for `additional` more vectors. [`Error::OutOfMemory`] if the memory is
    /// not available (the index is unchanged, although capacity may have grown in part).
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        if self.keys.len().saturating_add(additional) > MAX_SLOTS {
            return Err(oom("more than MAX_SLOTS slots"));
        }
        self.keys.try_reserve(additional).map_err(|_| oom("keys"))?;
        self.dead.try_reserve(additional).map_err(|_| oom("keys"))?;
        self.map
            .try_reserve(&self.keys, additional)
            .map_err(|_| oom("keys"))?;
        self.vecs
            .try_reserve(additional)
            .map_err(|_| oom("vectors"))?;
        if let Some(h) = &mut self.hnsw {
            h.try_reserve(additional).map_err(|_| oom("the graph"))?;
        }
        Ok(())
    }

    /// Adds `vector` under `key`; an existing key is [`Error::DuplicateKey`]. Same as
    /// [`add_with`](Self::add_with) with [`OnDuplicate::Error`].
    pub fn add(&mut self, key: u64, vector: &[f32]) -> Result<()> {
        self.add_with(key, vector, OnDuplicate::Error)
    }

    /// Adds `vector` (`dims` finite floats) under `key`. An existing key is an error or
    /// replaced, as `on_duplicate` says. [`Error::DimensionMismatch`] for a wrong length,
    /// [`Error::InvalidArgument`] for NaN or infinity; nothing changes on error.
    pub fn add_with(&mut self, key: u64, vector: &[f32], on_duplicate: OnDuplicate) -> Result<()> {
        self.add_batch(core::slice::from_ref(&key), vector, on_duplicate)
    }

    /// Adds `keys.len()` vectors; `vectors` holds `keys.len() * dims` floats, row-major.
    /// All or nothing: every row and key is validated and memory reserved before the first
    /// insertion. With [`OnDuplicate::Error`] a key already in the index or repeated within
    /// `keys` is [`Error::DuplicateKey`]; with [`OnDuplicate::Replace`] later rows win.
    pub fn add_batch(
        &mut self,
        keys: &[u64],
        vectors: &[f32],
        on_duplicate: OnDuplicate,
    ) -> Result<()> {
        let dims = self.options.dims;
        let expected = keys
            .len()
            .checked_mul(dims)
            .ok_or_else(|| invalid("too many keys".to_string()))?;
        if vectors.len() != expected {
            return Err(Error::DimensionMismatch {
                expected,
                actual: vectors.len(),
            });
        }
        if keys.is_empty() {
            return Ok(());
        }
        for (r, row) in vectors.chunks_exact(dims).enumerate() {
            check_finite(row, (keys.len() > 1).then_some(r))?;
            check_storable(&self.options, row, (keys.len() > 1).then_some(r))?;
        }
        if on_duplicate == OnDuplicate::Error {
            for &k in keys {
                if self.map.contains(&self.keys, k) {
                    return Err(Error::DuplicateKey(k));
                }
            }
            if keys.len() > 1 {
                let mut sorted = keys.to_vec();
                sorted.sort_unstable();
                if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                    return Err(Error::DuplicateKey(w[0]));
                }
            }
        }
        if self.keys.len().saturating_add(keys.len()) > MAX_SLOTS {
            return Err(invalid(format!("an index holds at most {MAX_SLOTS} slots")));
        }
        self.reserve(keys.len())?;
        for (&key, row) in keys.iter().zip(vectors.chunks_exact(dims)) {
            let slot = self.keys.len() as u32;
            self.keys.push(key);
            self.dead.push(false);
            self.vecs.push(row);
            if let Some(old) = self.map.insert(&self.keys, slot) {
                self.dead.remove(old as usize);
                self.live -= 1;
            }
            self.live += 1;
            if let Some(h) = &mut self.hnsw {
                h.insert(&self.vecs, slot);
            }
        }
        Ok(())
    }

    /// Removes `key` ([`Error::KeyNotFound`] if absent). The slot becomes a tombstone: HNSW
    /// searches still route through it but never return it, until [`compact`](Self::compact).
    pub fn remove(&mut self, key: u64) -> Result<()> {
        let slot = self
            .map
            .remove(&self.keys, key)
            .ok_or(Error::KeyNotFound(key))?;
        self.dead.remove(slot as usize);
        self.live -= 1;
        Ok(())
    }

    /// Reclaims removed slots. An HNSW graph is rebuilt from the live vectors in their slot
    /// order with the original seed (the same graph as adding them to a new index in that
    /// order); stored rows are copied bit for bit, never re-quantized. Builds the new index
    /// first, so on [`Error::OutOfMemory`] nothing changes.
    pub fn compact(&mut self) -> Result<()> {
        if self.live == self.keys.len() {
            return Ok(());
        }
        let mut next = Index {
            options: self.options.clone(),
            keys: Vec::new(),
            dead: Tombstones::default(),
            live: 0,
            map: KeyMap::default(),
            vecs: self.vecs.empty_like(),
            hnsw: self.hnsw.as_ref().map(Hnsw::empty_like),
            model_id: self.model_id,
        };
        next.reserve(self.live)?;
        for slot in 0..self.keys.len() {
            if self.dead.is_removed(slot) {
                continue;
            }
            let new_slot = next.keys.len() as u32;
            next.keys.push(self.keys[slot]);
            next.dead.push(false);
            next.vecs.push_from(&self.vecs, slot);
            next.map.insert(&next.keys, new_slot);
            next.live += 1;
            if let Some(h) = &mut next.hnsw {
                h.insert(&next.vecs, new_slot);
            }
        }
        *self = next;
        Ok(())
    }

    /// Whether `key` is live in the index.
    pub fn contains(&self, key: u64) -> bool {
        self.map.contains(&self.keys, key)
    }

    /// The stored vector of `key`, dequantized (see [`Storage`]; cosine rows are stored
    /// normalized). [`Error::KeyNotFound`] if absent.
    pub fn get(&self, key: u64) -> Result<Vec<f32>> {
        let slot = self
            .map
            .get(&self.keys, key)
            .ok_or(Error::KeyNotFound(key))?;
        Ok(self.vecs.get(slot as usize))
    }

    /// Removes everything (options, including the seed, stay; the level generator restarts).
    pub fn clear(&mut self) {
        self.keys = Vec::new();
        self.dead = Tombstones::default();
        self.live = 0;
        self.map = KeyMap::default();
        self.vecs.clear();
        if let Some(h) = &mut self.hnsw {
            *h = h.empty_like();
        }
    }

    /// Sets the default HNSW search beam width (1..=[`MAX_EF`]). An exact index is
    /// [`Error::InvalidArgument`].
    pub fn set_ef_search(&mut self, ef: usize) -> Result<()> {
        check_ef("ef_search", ef)?;
        match (&mut self.hnsw, &mut self.options.kind) {
            (Some(h), IndexKind::Hnsw(p)) => {
                h.ef_search = ef;
                p.ef_search = ef;
                Ok(())
            }
            _ => Err(invalid("set_ef_search needs an HNSW index".to_string())),
        }
    }

    fn check_query(&self, query: &[f32], k: usize) -> Result<()> {
        if k == 0 {
            return Err(invalid("k must be at least 1".to_string()));
        }
        if query.len() != self.options.dims {
            return Err(Error::DimensionMismatch {
                expected: self.options.dims,
                actual: query.len(),
            });
        }
        check_finite(query, None)
    }

    /// The `k` nearest live vectors, ascending by distance (ties by key). `k == 0` is
    /// [`Error::InvalidArgument`]; `k > len` returns all live vectors; an empty index gives
    /// an empty list. The query must have `dims` finite floats. HNSW search uses a beam of
    /// `max(ef_search, k)` and, should the graph not reach `k` live vectors (possible after
    /// many removals), completes the result with an exact scan of the unreached ones.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Match>> {
        self.check_query(query, k)?;
        Ok(self.search_one(query, k, None, None))
    }

    /// Like [`search`](Self::search) but only keys with `filter(key) == true`. HNSW keeps
    /// walking the graph through rejected nodes until it has `max(ef_search, k)` accepted
    /// ones or has reached every node, then scans exactly whatever the graph could not
    /// reach, so it returns `min(k, accepted live keys)` results. A filter that rejects
    /// everything gives an empty list. `filter` may be called more than once per key.
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        filter: &dyn Fn(u64) -> bool,
    ) -> Result<Vec<Match>> {
        self.check_query(query, k)?;
        let keys = &self.keys;
        Ok(self.search_one(
            query,
            k,
            Some(&|slot: u32| filter(keys[slot as usize])),
            None,
        ))
    }

    /// Like [`search_filtered`](Self::search_filtered) with an allow-list (any order,
    /// duplicates and unknown keys ignored). On an HNSW index an allow-list of `a` live keys
    /// with `a * a <= 32 * max(ef_search, k) * len` is scanned exactly (that many distances
    /// cost less than a filtered graph walk, which evaluates about `32 * ef * len / a`
    /// nodes); larger ones walk the graph.
    pub fn search_allowed(&self, query: &[f32], k: usize, allowed: &[u64]) -> Result<Vec<Match>> {
        self.check_query(query, k)?;
        let mut slots: Vec<u32> = allowed
            .iter()
            .filter_map(|&key| self.map.get(&self.keys, key))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        if slots.is_empty() {
            return Ok(Vec::new());
        }
        let small = match &self.hnsw {
            None => true,
            Some(h) => {
                let ef = h.ef_search.max(k) as u128;
                let a = slots.len() as u128;
                a * a <= 32 * ef * self.live as u128
            }
        };
        let q = self.vecs.encode_query(query);
        let dist = Dist::new(&self.vecs, q.as_ref());
        if small {
            let mut top = TopK::new(k);
            for (i, &s) in slots.iter().enumerate() {
                if let Some(&next) = slots.get(i + 1) {
                    self.vecs.prefetch(next);
                }
                top.push(dist.to(s), self.keys[s as usize]);
            }
            return Ok(top.into_matches(self.clamps()));
        }
        let mut allowed_bits = hnsw::Visited::new(self.keys.len());
        for &s in &slots {
            allowed_bits.insert(s);
        }
        Ok(self.search_one(
            query,
            k,
            Some(&|slot: u32| allowed_bits.contains(slot)),
            Some(q),
        ))
    }

    /// [`search`](Self::search) for each of `queries.len() / dims` queries (row-major). All
    /// queries are validated first.
    pub fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Match>>> {
        let dims = self.options.dims;
        if !queries.len().is_multiple_of(dims) {
            return Err(Error::DimensionMismatch {
                expected: (queries.len() / dims + 1) * dims,
                actual: queries.len(),
            });
        }
        if k == 0 {
            return Err(invalid("k must be at least 1".to_string()));
        }
        for (r, q) in queries.chunks_exact(dims).enumerate() {
            check_finite(q, Some(r))?;
        }
        Ok(queries
            .chunks_exact(dims)
            .map(|q| self.search_one(q, k, None, None))
            .collect())
    }

    fn clamps(&self) -> bool {
        self.options.metric == IndexMetric::Cosine
    }

    /// The search behind every public form: `accept` is a slot predicate (beyond liveness),
    /// `None` for all.
    /// One instance for every public form (not generic over the predicate, never inlined
    /// into them): the wasm module carries the walk once. The per-node `Option` test is a
    /// predictable branch, far cheaper than the distance computed next to it.
    #[inline(never)]
    fn search_one(
        &self,
        query: &[f32],
        k: usize,
        accept: Option<&dyn Fn(u32) -> bool>,
        encoded: Option<vectors::Query>,
    ) -> Vec<Match> {
        if self.live == 0 {
            return Vec::new();
        }
        let q = encoded.unwrap_or_else(|| self.vecs.encode_query(query));
        let dead = &self.dead;
        let accept_live =
            |slot: u32| !dead.is_removed(slot as usize) && accept.is_none_or(|accept| accept(slot));
        match &self.hnsw {
            None => self.exact(q.as_ref(), k, &accept_live),
            Some(h) => self.hnsw_search(h, q.as_ref(), k, &accept_live),
        }
    }

    fn exact<A: Fn(u32) -> bool>(&self, q: QueryRef<'_>, k: usize, accept: &A) -> Vec<Match> {
        let mut top = TopK::new(k);
        let n = self.keys.len();
        let scan = match q {
            QueryRef::F32(qv) if self.options.storage == Storage::F32 => Some(qv),
            _ => None,
        };
        if let Some(qv) = scan {
            // The 4-row scan kernel over blocks of rows.
            let metric = if self.options.metric == IndexMetric::L2sq {
                Metric::L2sq
            } else {
                Metric::Dot
            };
            let kernels = Kernels::active();
            const BLOCK: usize = 256;
            let mut out = [0f32; BLOCK];
            let d = self.options.dims;
            let mut start = 0;
            while start < n {
                let end = (start + BLOCK).min(n);
                let rows = &self.vecs.f32s[start * d..end * d];
                let out = &mut out[..end - start];
                // Lengths match by construction, so this cannot fail.
                if kernels.scan_f32(metric, qv, rows, out).is_ok() {
                    for (i, &s) in out.iter().enumerate() {
                        let slot = (start + i) as u32;
                        if accept(slot) {
                            // Dot gives -a.b: the distance is 1 - a.b.
                            let dist = if metric == Metric::Dot { 1.0 + s } else { s };
                            top.push(dist, self.keys[slot as usize]);
                        }
                    }
                }
                start = end;
            }
        } else {
            let dist = Dist::new(&self.vecs, q);
            for slot in 0..n as u32 {
                if accept(slot) {
                    top.push(dist.to(slot), self.keys[slot as usize]);
                }
            }
        }
        top.into_matches(self.clamps())
    }

    fn hnsw_search<A: Fn(u32) -> bool>(
        &self,
        h: &Hnsw,
        q: QueryRef<'_>,
        k: usize,
        accept: &A,
    ) -> Vec<Match> {
        let n = self.keys.len();
        let dist = Dist::new(&self.vecs, q);
        // F32 rows: walk on their i8 copies, then re-score what the walk found.
        let walk_query = self.vecs.walk_query(q);
        let walk = walk_query
            .as_ref()
            .map(|w| Dist::new(&self.vecs, w.as_ref()));
        let walk_dist = walk.as_ref().unwrap_or(&dist);
        let ef = h.ef_search.max(k);
        let mut scratch = h.pool.take(n);
        if let Some(start) = h.descend(walk_dist, 0) {
            h.search_layer(walk_dist, &[start], ef, 0, accept, &mut scratch);
        }
        let mut top = TopK::new(k);
        let found = scratch.results.len();
        if walk.is_some() {
            for it in scratch.best_results(rescored(k)) {
                top.push(dist.to(it.id), self.keys[it.id as usize]);
            }
        } else {
            for it in scratch.results.drain() {
                top.push(it.d, self.keys[it.id as usize]);
            }
        }
        if found < k {
            // Fewer than k accepted nodes were reachable (the walk stopped only because it ran
            // out of nodes): scan what it did not reach.
            for slot in 0..n as u32 {
                if !scratch.visited.contains(slot) && accept(slot) {
                    top.push(dist.to(slot), self.keys[slot as usize]);
                }
            }
        }
        h.pool.put(scratch);
        top.into_matches(self.clamps())
    }

    /// Approximate heap bytes the index holds: rows (with the i8 copy HNSW keeps of F32
    /// rows), graph, keys, tombstones and the key map by allocated capacity. Search scratch
    /// buffers are not counted.
    pub fn memory_usage(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * core::mem::size_of::<T>()
        }
        let v = &self.vecs;
        let mut total = bytes(&self.keys)
            + self.dead.bytes()
            + self.map.bytes()
            + bytes(&v.f32s)
            + bytes(&v.i8s)
            + bytes(&v.scales)
            + bytes(&v.sqnorms)
            + bytes(&v.bits)
            + bytes(&v.halves);
        if let Some(h) = &self.hnsw {
            total +=
                bytes(&h.levels) + bytes(&h.links0) + bytes(&h.upper_offsets) + bytes(&h.upper);
        }
        total
    }

    /// Serializes the index (format: `core/src/index/FORMAT.md`).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        format::to_bytes(self)
    }

    /// Loads an index written by [`to_bytes`](Self::to_bytes). Never trusts a length:
    /// truncated, corrupted or hostile bytes give [`Error::CorruptFile`] (a wrong format
    /// version [`Error::UnsupportedVersion`]) without large allocations.
    pub fn from_bytes(bytes: &[u8]) -> Result<Index> {
        format::from_bytes(bytes)
    }
}

#[cfg(test)]
mod tests;

// ---- serialization support (format.rs) ----
// format.rs reads and writes an index only through these items (and the ones at the end of
// vectors.rs and hnsw.rs), so the file layout does not depend on the in-memory one.

/// What a file stores of an index, borrowed.
pub(crate) struct Parts<'a> {
    pub options: &'a IndexOptions,
    /// The key of every slot (removed ones included).
    pub keys: &'a [u64],
    /// Whether each slot was removed.
    pub dead: &'a Tombstones,
    pub vecs: &'a Vectors,
    pub hnsw: Option<&'a Hnsw>,
    /// The text encoder's model id (v2 files only).
    pub model_id: Option<u64>,
}

impl Index {
    pub(crate) fn export_parts(&self) -> Parts<'_> {
        Parts {
            options: &self.options,
            keys: &self.keys,
            dead: &self.dead,
            vecs: &self.vecs,
            hnsw: self.hnsw.as_ref(),
            model_id: self.model_id,
        }
    }

    /// An index from parts format.rs read and checked (`options` valid; `keys`, `dead`,
    /// `vecs` and `hnsw` cover the same slots). Rebuilds the key map: a key live in two
    /// slots is [`Error::CorruptFile`].
    pub(crate) fn import_parts(
        options: IndexOptions,
        keys: Vec<u64>,
        dead: Tombstones,
        vecs: Vectors,
        hnsw: Option<Hnsw>,
        model_id: Option<u64>,
    ) -> Result<Index> {
        let mut vecs = vecs;
        if hnsw.is_some() {
            // The i8 copy graph walks use (derived, not in files).
            vecs.enable_shadow()
                .map_err(|_| Error::OutOfMemory("could not allocate the vectors".into()))?;
        }
        let mut map = KeyMap::default();
        let live = dead.len() - dead.removed();
        map.try_reserve(&keys, live)
            .map_err(|_| Error::OutOfMemory("could not allocate the key map".into()))?;
        for (slot, &key) in keys.iter().enumerate() {
            if !dead.is_removed(slot) && map.insert(&keys, slot as u32).is_some() {
                return Err(Error::CorruptFile(format!(
                    "key {key} is live in two slots"
                )));
            }
        }
        Ok(Index {
            options,
            live: map.len(),
            keys,
            dead,
            map,
            vecs,
            hnsw,
            model_id,
        })
    }
}
