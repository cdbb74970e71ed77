//! [`Index`] for the foreign languages: the vector index of [`crate::Index`] (exact or HNSW,
//! on the backend of the [`Engine`] it was made from), with vectors and keys as bytes.

use std::sync::{Arc, OnceLock, RwLock};

use ferrovec_core::index::{self as core_index, HnswParams, IndexKind, OnDuplicate};
use ferrovec_core::{Error, Result};

use super::bytes::{f32s_from_le_bytes, f32s_to_le_bytes, u64s_from_le_bytes};
use super::encoder::Encoder;
use super::engine::Engine;
use crate::BackendKind;

/// How distances are measured; smaller is always closer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum IndexMetric {
    /// `1 - cos(a, b)` (vectors are normalized on insert and query). F32, F16, BF16 or I8
    /// storage.
    Cosine,
    /// Squared Euclidean distance. F32, F16, BF16 or I8 storage.
    L2sq,
    /// `1 - a.b` (may be negative). F32, F16, BF16 or I8 storage.
    InnerProduct,
    /// Number of differing sign bits. B1 storage only.
    Hamming,
    /// `1 - |a & b| / |a | b|` of the sign bits. B1 storage only.
    Jaccard,
}

/// How vectors are stored. Queries are always f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Storage {
    /// 32-bit floats as given.
    F32,
    /// int8 with one f32 scale per vector (`max|x| / 127`): a quarter of the memory.
    I8,
    /// One sign bit per dimension (`x > 0`).
    B1,
    /// IEEE 754 half precision: each value rounded to the nearest f16 (cosine: of the
    /// normalized vector), half of F32's memory; `Index.get` returns the rounded values.
    /// With L2sq or InnerProduct a value of magnitude 65520 or more (it would round to
    /// infinity) is refused with `InvalidArgument` and nothing is added. Saved files are
    /// format version 3, which readers older than this storage refuse (`UnsupportedVersion`).
    F16,
    /// bfloat16: the top 16 bits of the f32, rounded to nearest even (8 significant bits,
    /// f32's range), half of F32's memory. As F16 otherwise; only values past bfloat16's
    /// largest finite value (about 3.39e38) are out of range.
    BF16,
}

/// HNSW parameters (the defaults are the core's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct HnswConfig {
    /// Neighbors per node on the upper levels (twice as many on level 0), 2..=512.
    #[uniffi(default = 16)]
    pub m: u32,
    /// Beam width while inserting.
    #[uniffi(default = 128)]
    pub ef_construction: u32,
    /// Default beam width while searching (see `Index.set_ef_search`).
    #[uniffi(default = 64)]
    pub ef_search: u32,
    /// Seeds the level generator: same seed and insertion order, same graph.
    #[uniffi(default = 24301)]
    pub seed: u64,
}

/// Everything fixed when an index is created.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IndexConfig {
    /// Dimension of every vector.
    pub dims: u32,
    /// The distance.
    pub metric: IndexMetric,
    /// The row encoding.
    pub storage: Storage,
    /// HNSW parameters, or absent for an exact (flat scan) index.
    #[uniffi(default = None)]
    pub hnsw: Option<HnswConfig>,
}

/// The key that pads batch results where a query has fewer than `k` matches: `u64::MAX`
/// (`-1` read as a signed 64-bit integer, as faiss pads). A live key may equal it, so
/// `counts` is the authority on how many entries of a row are matches.
const NO_KEY: u64 = u64::MAX;

/// `Index.search_batch_arrays`: `n * k` results as flat little-endian arrays, row-major
/// (row `i` holds query `i`'s matches, ascending), for the languages to wrap as numpy /
/// primitive / typed arrays without an object per match. Rows with fewer than `k` matches
/// are padded with key `u64::MAX` and distance `+inf`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BatchResultBytes {
    /// Queries (rows).
    pub n: u32,
    /// Columns per row: the `k` asked for.
    pub k: u32,
    /// `n * k` u64 keys.
    pub keys: Vec<u8>,
    /// `n * k` f32 distances.
    pub distances: Vec<u8>,
    /// `n` u32: matches found per query (`<= k`); the rest of the row is padding.
    pub counts: Vec<u8>,
}

impl BatchResultBytes {
    fn from_rows(rows: &[Vec<core_index::Match>], k: usize) -> Result<BatchResultBytes> {
        let n = rows.len();
        let cells = n
            .checked_mul(k)
            .filter(|c| c.checked_mul(8).is_some())
            .ok_or_else(|| Error::InvalidArgument(format!("{n} queries x k {k} is too large")))?;
        let mut keys = Vec::with_capacity(cells * 8);
        let mut distances = Vec::with_capacity(cells * 4);
        let mut counts = Vec::with_capacity(n * 4);
        for row in rows {
            let found = row.len().min(k);
            for m in &row[..found] {
                keys.extend_from_slice(&m.key.to_le_bytes());
                distances.extend_from_slice(&m.distance.to_le_bytes());
            }
            for _ in found..k {
                keys.extend_from_slice(&NO_KEY.to_le_bytes());
                distances.extend_from_slice(&f32::INFINITY.to_le_bytes());
            }
            counts.extend_from_slice(&(found as u32).to_le_bytes());
        }
        Ok(BatchResultBytes {
            n: u32::try_from(n)
                .map_err(|_| Error::InvalidArgument(format!("{n} queries: at most 2^32 - 1")))?,
            k: k as u32,
            keys,
            distances,
            counts,
        })
    }
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Match {
    /// The key the vector was added under.
    pub key: u64,
    /// Its distance to the query.
    pub distance: f32,
}

fn to_usize(value: u64, what: &str) -> Result<usize> {
    usize::try_from(value)
        .map_err(|_| Error::InvalidArgument(format!("{what} {value} does not fit this platform")))
}

impl IndexConfig {
    fn to_core(&self) -> Result<core_index::IndexOptions> {
        let metric = match self.metric {
            IndexMetric::Cosine => core_index::IndexMetric::Cosine,
            IndexMetric::L2sq => core_index::IndexMetric::L2sq,
            IndexMetric::InnerProduct => core_index::IndexMetric::InnerProduct,
            IndexMetric::Hamming => core_index::IndexMetric::Hamming,
            IndexMetric::Jaccard => core_index::IndexMetric::Jaccard,
        };
        let storage = match self.storage {
            Storage::F32 => core_index::Storage::F32,
            Storage::I8 => core_index::Storage::I8,
            Storage::B1 => core_index::Storage::B1,
            Storage::F16 => core_index::Storage::F16,
            Storage::BF16 => core_index::Storage::BF16,
        };
        let options = core_index::IndexOptions::new(self.dims as usize, metric).storage(storage);
        Ok(match self.hnsw {
            None => options,
            Some(h) => options.hnsw(HnswParams {
                m: h.m as usize,
                ef_construction: h.ef_construction as usize,
                ef_search: h.ef_search as usize,
                seed: h.seed,
            }),
        })
    }

    fn from_core(options: &core_index::IndexOptions) -> Result<IndexConfig> {
        let unknown = || Error::Internal(format!("options this binding cannot name: {options:?}"));
        let metric = match options.metric {
            core_index::IndexMetric::Cosine => IndexMetric::Cosine,
            core_index::IndexMetric::L2sq => IndexMetric::L2sq,
            core_index::IndexMetric::InnerProduct => IndexMetric::InnerProduct,
            core_index::IndexMetric::Hamming => IndexMetric::Hamming,
            core_index::IndexMetric::Jaccard => IndexMetric::Jaccard,
            _ => return Err(unknown()),
        };
        let storage = match options.storage {
            core_index::Storage::F32 => Storage::F32,
            core_index::Storage::I8 => Storage::I8,
            core_index::Storage::B1 => Storage::B1,
            core_index::Storage::F16 => Storage::F16,
            core_index::Storage::BF16 => Storage::BF16,
            _ => return Err(unknown()),
        };
        // The core bounds dims, m and ef far below u32::MAX.
        let narrow = |v: usize| u32::try_from(v).map_err(|_| unknown());
        let hnsw = match options.kind {
            IndexKind::Exact => None,
            IndexKind::Hnsw(p) => Some(HnswConfig {
                m: narrow(p.m)?,
                ef_construction: narrow(p.ef_construction)?,
                ef_search: narrow(p.ef_search)?,
                seed: p.seed,
            }),
        };
        Ok(IndexConfig {
            dims: narrow(options.dims)?,
            metric,
            storage,
            hnsw,
        })
    }
}

fn matches(found: Vec<core_index::Match>) -> Vec<Match> {
    found
        .into_iter()
        .map(|m| Match {
            key: m.key,
            distance: m.distance,
        })
        .collect()
}

/// A vector index: vectors of a fixed dimension under `u64` keys, searched exactly or with
/// HNSW, on the backend of the engine it was made from.
///
/// Vectors are little-endian f32 bytes (`dims * 4` each, batches row-major); key lists
/// (`add_batch`, `search_allowed`) are little-endian u64 bytes. Thread-safe: any number of
/// threads may search while one adds or removes (writers are serialized; on the
/// Interpreted backend searches are serialized too). A failed call leaves the index
/// unchanged. `release()` frees it early (later calls fail with `InvalidHandle`).
///
/// Text: an index made by `new_text` (or a handle from `with_encoder`) carries an
/// [`Encoder`] and adds and searches by text (`add_text`, `add_texts`, `search_text`,
/// `search_texts`). The first text added (or `new_text`) records the encoder's model id
/// (`model_id`), which files keep; another model's encoder is refused with
/// `InvalidArgument` naming both ids.
#[derive(Debug, uniffi::Object)]
pub struct Index {
    inner: RwLock<Option<crate::Index>>,
    /// The id of this index on the search fast path (`fast.rs`), once asked for.
    fast_id: OnceLock<u64>,
}

impl Drop for Index {
    fn drop(&mut self) {
        if let Some(&id) = self.fast_id.get() {
            super::fast::unregister(id);
        }
    }
}

impl Index {
    fn wrap(index: crate::Index) -> Arc<Index> {
        Arc::new(Index {
            inner: RwLock::new(Some(index)),
            fast_id: OnceLock::new(),
        })
    }

    /// The index (a cheap shared clone), or `InvalidHandle` once released.
    fn index(&self) -> Result<crate::Index> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::InvalidHandle)
    }
}

#[uniffi::export]
impl Index {
    /// An empty index on `engine`'s backend (`InvalidArgument` for options the core refuses,
    /// e.g. hamming on f32 storage).
    #[uniffi::constructor]
    pub fn new(engine: &Arc<Engine>, config: IndexConfig) -> Result<Arc<Index>> {
        Ok(Index::wrap(crate::Index::new(
            &*engine.engine()?,
            config.to_core()?,
        )?))
    }

    /// An index on `engine`'s backend from bytes made by `to_bytes` (on any backend or
    /// surface). `CorruptFile` / `UnsupportedVersion` for bytes that are not a valid index.
    #[uniffi::constructor]
    pub fn from_bytes(engine: &Arc<Engine>, bytes: &[u8]) -> Result<Arc<Index>> {
        Ok(Index::wrap(crate::Index::from_bytes(
            &*engine.engine()?,
            bytes,
        )?))
    }

    /// An index on `engine`'s backend from a file written by `save`.
    #[uniffi::constructor]
    pub fn load(engine: &Arc<Engine>, path: String) -> Result<Arc<Index>> {
        Ok(Index::wrap(crate::Index::load(&*engine.engine()?, path)?))
    }

    /// An empty index for the vectors of `encoder`, with it attached and its model id
    /// recorded: `config.dims` must be `encoder.dims()` (`DimensionMismatch`). The encoder's
    /// vectors have unit length, so `Cosine` (or `InnerProduct`, the same ranking) is the
    /// usual metric.
    #[uniffi::constructor]
    pub fn new_text(
        engine: &Arc<Engine>,
        encoder: &Arc<Encoder>,
        config: IndexConfig,
    ) -> Result<Arc<Index>> {
        Ok(Index::wrap(crate::Index::new_text(
            &*engine.engine()?,
            &encoder.encoder()?,
            config.to_core()?,
        )?))
    }

    /// `from_bytes` with `encoder` attached (`with_encoder`): the bytes' model id, if they
    /// record one, must be the encoder's (`InvalidArgument` naming both otherwise).
    #[uniffi::constructor]
    pub fn from_bytes_with_encoder(
        engine: &Arc<Engine>,
        bytes: &[u8],
        encoder: &Arc<Encoder>,
    ) -> Result<Arc<Index>> {
        Ok(Index::wrap(crate::Index::from_bytes_with_encoder(
            &*engine.engine()?,
            bytes,
            &encoder.encoder()?,
        )?))
    }

    /// `load` with `encoder` attached: the file's model id, if it records one, must be the
    /// encoder's (`InvalidArgument` naming both otherwise).
    #[uniffi::constructor]
    pub fn load_with_encoder(
        engine: &Arc<Engine>,
        path: String,
        encoder: &Arc<Encoder>,
    ) -> Result<Arc<Index>> {
        Ok(Index::wrap(crate::Index::load_with_encoder(
            &*engine.engine()?,
            path,
            &encoder.encoder()?,
        )?))
    }

    /// A new handle to this same index (vectors shared) carrying `encoder` for the text
    /// methods. `DimensionMismatch` when the dims differ; `InvalidArgument` naming both ids
    /// when the index holds vectors of another model. This handle is unchanged.
    pub fn with_encoder(&self, encoder: &Arc<Encoder>) -> Result<Arc<Index>> {
        Ok(Index::wrap(self.index()?.with_encoder(encoder.encoder()?)?))
    }

    /// Whether this handle carries an encoder (`new_text`, `with_encoder`).
    pub fn has_encoder(&self) -> Result<bool> {
        Ok(self.index()?.encoder().is_some())
    }

    /// The model id of the encoder that made the index's vectors (recorded by `new_text`
    /// or the first text added; kept in files), or absent for an index of plain vectors.
    pub fn model_id(&self) -> Result<Option<u64>> {
        Ok(self.index()?.model_id())
    }

    /// Embeds `text` with this handle's encoder and adds it under `key`. A live key is
    /// `DuplicateKey` unless `replace`. `InvalidArgument` without an encoder or when the
    /// index holds another model's vectors.
    #[uniffi::method(default(replace = false))]
    pub fn add_text(&self, key: u64, text: String, replace: bool) -> Result<()> {
        self.index()?
            .add_text_with(key, &text, on_duplicate(replace))
    }

    /// Embeds `texts` in one batch and adds `texts[i]` under `keys[i]`, all or nothing
    /// (`DimensionMismatch` when the lengths differ).
    #[uniffi::method(default(replace = false))]
    pub fn add_texts(&self, keys: Vec<u64>, texts: Vec<String>, replace: bool) -> Result<()> {
        self.index()?
            .add_texts_with(&keys, &texts, on_duplicate(replace))
    }

    /// The `k` nearest live vectors to the embedding of `text` (see `search`).
    pub fn search_text(&self, text: String, k: u32) -> Result<Vec<Match>> {
        Ok(matches(self.index()?.search_text(&text, k as usize)?))
    }

    /// One `search_text` per text, the texts embedded in one batch.
    pub fn search_texts(&self, texts: Vec<String>, k: u32) -> Result<Vec<Vec<Match>>> {
        Ok(self
            .index()?
            .search_texts(&texts, k as usize)?
            .into_iter()
            .map(matches)
            .collect())
    }

    /// Frees the index now (calls in flight on other threads finish first). Later calls fail
    /// with `InvalidHandle`. Idempotent.
    pub fn release(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(&id) = self.fast_id.get() {
            super::fast::unregister(id);
        }
    }

    /// For the Python and Kotlin layers only: the id of this index on the search fast
    /// path (`ferrovec_fast_index_search`, see `ffi/src/bindings/fast.rs`). Valid until the
    /// index is released or dropped; the same id every time.
    pub fn fast_path_id(&self) -> Result<u64> {
        let index = self.index()?;
        Ok(*self.fast_id.get_or_init(|| super::fast::register(index)))
    }

    /// Whether [`release`](Self::release) was called.
    pub fn is_released(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Which backend the index runs on.
    pub fn backend_kind(&self) -> Result<BackendKind> {
        Ok(self.index()?.backend_kind())
    }

    /// The options the index was created (or loaded) with.
    pub fn config(&self) -> Result<IndexConfig> {
        IndexConfig::from_core(&self.index()?.options())
    }

    /// The dimension of every vector.
    pub fn dims(&self) -> Result<u32> {
        Ok(self.index()?.dims() as u32)
    }

    /// Live (added and not removed) vectors.
    pub fn len(&self) -> Result<u64> {
        Ok(self.index()?.len() as u64)
    }

    /// Whether no vector is live.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.index()?.is_empty())
    }

    /// Vectors the index holds before it reallocates.
    pub fn capacity(&self) -> Result<u64> {
        Ok(self.index()?.capacity() as u64)
    }

    /// Makes room for `additional` more vectors (`OutOfMemory` if it cannot).
    pub fn reserve(&self, additional: u64) -> Result<()> {
        self.index()?.reserve(to_usize(additional, "reserve of")?)
    }

    /// Adds `vector` (dims little-endian f32) under `key`. A live key is `DuplicateKey`
    /// unless `replace` is true, which replaces its vector.
    #[uniffi::method(default(replace = false))]
    pub fn add(&self, key: u64, vector: &[u8], replace: bool) -> Result<()> {
        let vector = f32s_from_le_bytes(vector, "vector")?;
        self.index()?.add_with(key, &vector, on_duplicate(replace))
    }

    /// Adds one vector per key: `keys` is n little-endian u64, `vectors` n * dims
    /// little-endian f32, row-major. All or nothing.
    #[uniffi::method(default(replace = false))]
    pub fn add_batch(&self, keys: &[u8], vectors: &[u8], replace: bool) -> Result<()> {
        let keys = u64s_from_le_bytes(keys, "keys")?;
        let vectors = f32s_from_le_bytes(vectors, "vectors")?;
        self.index()?
            .add_batch(&keys, &vectors, on_duplicate(replace))
    }

    /// Removes `key` (`KeyNotFound` if it is not live); `compact` reclaims the space.
    pub fn remove(&self, key: u64) -> Result<()> {
        self.index()?.remove(key)
    }

    /// Reclaims the space of removed vectors and repairs the HNSW graph.
    pub fn compact(&self) -> Result<()> {
        self.index()?.compact()
    }

    /// Whether `key` is live.
    pub fn contains(&self, key: u64) -> Result<bool> {
        self.index()?.contains(key)
    }

    /// The vector stored under `key`, dequantized, as little-endian f32 bytes
    /// (`KeyNotFound` if not live).
    pub fn get(&self, key: u64) -> Result<Vec<u8>> {
        Ok(f32s_to_le_bytes(&self.index()?.get(key)?))
    }

    /// Removes every vector, keeping the options.
    pub fn clear(&self) -> Result<()> {
        self.index()?.clear()
    }

    /// HNSW: the default beam width of searches. `InvalidArgument` on an exact index.
    pub fn set_ef_search(&self, ef: u32) -> Result<()> {
        self.index()?.set_ef_search(ef as usize)
    }

    /// The `k` nearest live vectors to `query` (dims little-endian f32), ascending by
    /// distance, ties by key. `k = 0` is `InvalidArgument`; `k > len` returns every live
    /// vector; an empty index returns nothing.
    pub fn search(&self, query: &[u8], k: u32) -> Result<Vec<Match>> {
        let query = f32s_from_le_bytes(query, "query")?;
        Ok(matches(self.index()?.search(&query, k as usize)?))
    }

    /// `search` among the keys in `allowed` only (little-endian u64s, any order, duplicates
    /// and unknown keys fine). HNSW still returns `k` results when at least `k` allowed keys
    /// are live.
    pub fn search_allowed(&self, query: &[u8], k: u32, allowed: &[u8]) -> Result<Vec<Match>> {
        let query = f32s_from_le_bytes(query, "query")?;
        let allowed = u64s_from_le_bytes(allowed, "allowed")?;
        Ok(matches(
            self.index()?.search_allowed(&query, k as usize, &allowed)?,
        ))
    }

    /// One `search` per query (`queries`: n * dims little-endian f32, row-major).
    pub fn search_batch(&self, queries: &[u8], k: u32) -> Result<Vec<Vec<Match>>> {
        let queries = f32s_from_le_bytes(queries, "queries")?;
        Ok(self
            .index()?
            .search_batch(&queries, k as usize)?
            .into_iter()
            .map(matches)
            .collect())
    }

    /// `search_batch` as flat arrays ([`BatchResultBytes`]): `n * k` keys and distances,
    /// padded with `u64::MAX` / `+inf` where a query has fewer than `k` matches, and the
    /// count per query. The same matches, in the same order, as `search_batch`.
    pub fn search_batch_arrays(&self, queries: &[u8], k: u32) -> Result<BatchResultBytes> {
        let queries = f32s_from_le_bytes(queries, "queries")?;
        let rows = self.index()?.search_batch(&queries, k as usize)?;
        BatchResultBytes::from_rows(&rows, k as usize)
    }

    /// The index in ferrovec's portable file format (loads on every backend and in JS).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.index()?.to_bytes()
    }

    /// Writes `to_bytes` to `path` atomically (temporary file, then rename). I/O failures
    /// are `InvalidArgument` naming the path.
    pub fn save(&self, path: String) -> Result<()> {
        self.index()?.save(path)
    }
}

#[uniffi::export]
impl Engine {
    /// An empty index on this engine's backend; the same as `Index(engine, config)`.
    pub fn new_index(self: Arc<Self>, config: IndexConfig) -> Result<Arc<Index>> {
        Index::new(&self, config)
    }
}

fn on_duplicate(replace: bool) -> OnDuplicate {
    if replace {
        OnDuplicate::Replace
    } else {
        OnDuplicate::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(values: &[f32]) -> Vec<u8> {
        f32s_to_le_bytes(values)
    }

    fn keys(keys: &[u64]) -> Vec<u8> {
        keys.iter().flat_map(|k| k.to_le_bytes()).collect()
    }

    fn config(hnsw: Option<HnswConfig>) -> IndexConfig {
        IndexConfig {
            dims: 2,
            metric: IndexMetric::L2sq,
            storage: Storage::F32,
            hnsw,
        }
    }

    #[test]
    fn add_search_get_remove_round_trip() {
        let engine = Engine::native();
        let index = engine.clone().new_index(config(None)).unwrap();
        index
            .add_batch(
                &keys(&[1, 2, 3]),
                &le(&[0.0, 0.0, 1.0, 0.0, 5.0, 5.0]),
                false,
            )
            .unwrap();
        assert_eq!(index.len().unwrap(), 3);
        let hits = index.search(&le(&[0.9, 0.0]), 2).unwrap();
        assert_eq!(hits.iter().map(|m| m.key).collect::<Vec<_>>(), [2, 1]);
        let allowed = index
            .search_allowed(&le(&[0.9, 0.0]), 2, &keys(&[3, 1]))
            .unwrap();
        assert_eq!(allowed.iter().map(|m| m.key).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(index.get(3).unwrap(), le(&[5.0, 5.0]));
        assert_eq!(
            index.add(3, &le(&[1.0, 1.0]), false),
            Err(Error::DuplicateKey(3))
        );
        index.add(3, &le(&[1.0, 1.0]), true).unwrap();
        assert_eq!(index.get(3).unwrap(), le(&[1.0, 1.0]));
        index.remove(1).unwrap();
        assert_eq!(index.remove(1), Err(Error::KeyNotFound(1)));
        assert!(!index.contains(1).unwrap());
        let batch = index.search_batch(&le(&[0.0, 0.0, 1.0, 1.0]), 1).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[1][0].key, 3);
    }

    #[test]
    fn batch_arrays_pad_short_rows_and_agree_with_search_batch() {
        let engine = Engine::native();
        let index = engine.clone().new_index(config(None)).unwrap();
        index
            .add_batch(&keys(&[1, 2]), &le(&[0.0, 0.0, 1.0, 0.0]), false)
            .unwrap();
        let queries = le(&[0.9, 0.0, 0.0, 0.1]);
        let lists = index.search_batch(&queries, 3).unwrap();
        let flat = index.search_batch_arrays(&queries, 3).unwrap();
        assert_eq!((flat.n, flat.k), (2, 3));
        let ks: Vec<u64> = flat
            .keys
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let ds: Vec<f32> = flat
            .distances
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(ks, [2, 1, NO_KEY, 1, 2, NO_KEY]);
        assert_eq!(flat.counts, [2, 0, 0, 0, 2, 0, 0, 0]);
        for (row, list) in lists.iter().enumerate() {
            for (col, m) in list.iter().enumerate() {
                assert_eq!(ds[row * 3 + col].to_bits(), m.distance.to_bits());
            }
            assert_eq!(ds[row * 3 + 2], f32::INFINITY);
        }
        assert!(matches!(
            index.search_batch_arrays(&queries, 0),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn config_round_trips_and_bytes_reload() {
        let engine = Engine::native();
        let cfg = config(Some(HnswConfig {
            m: 8,
            ef_construction: 40,
            ef_search: 20,
            seed: 7,
        }));
        let index = Index::new(&engine, cfg.clone()).unwrap();
        assert_eq!(index.config().unwrap(), cfg);
        index.add(9, &le(&[1.0, 2.0]), false).unwrap();
        let bytes = index.to_bytes().unwrap();
        let loaded = Index::from_bytes(&engine, &bytes).unwrap();
        assert_eq!(loaded.config().unwrap(), cfg);
        assert_eq!(loaded.get(9).unwrap(), le(&[1.0, 2.0]));
        assert!(matches!(
            Index::from_bytes(&engine, &bytes[..bytes.len() - 1]),
            Err(Error::CorruptFile(_))
        ));
    }

    #[test]
    fn bad_bytes_and_release_are_errors() {
        let engine = Engine::native();
        let index = Index::new(&engine, config(None)).unwrap();
        assert!(matches!(
            index.add(1, &[0u8; 7], false),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            index.add_batch(&[0u8; 9], &le(&[1.0, 2.0]), false),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(index.len().unwrap(), 0);
        index.release();
        assert_eq!(index.len(), Err(Error::InvalidHandle));
        engine.release();
        assert_eq!(
            Index::new(&engine, config(None)).err(),
            Some(Error::InvalidHandle)
        );
    }
}
