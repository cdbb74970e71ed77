//! [`Index`]: a thread-safe vector index (exact or HNSW) on a backend chosen at run time.
//!
//! The index itself is [`ferrovec_core::index::Index`]; this module adds what needs `std`:
//! interior locking so one index can be shared by many threads, the choice of backend
//! (through an [`Engine`]), and files ([`Index::save`], [`Index::load`]).

use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use ferrovec_core::index::{
    HnswParams, IndexKind, IndexMetric, IndexOptions, Match, OnDuplicate, Storage,
};
use ferrovec_core::{Error, Result};

use crate::{BackendKind, Encoder, Engine};

/// What a [`Backend`](crate::backend::Backend) implements to hold an index: the core
/// [`Index`](ferrovec_core::index::Index) contract, with every method fallible (an
/// interpreted index can run out of fuel or memory in any call).
///
/// Readers take `&self` and may run concurrently; writers take `&mut self`. [`Index`]
/// provides the locking. A failed call must leave the index unchanged.
pub trait IndexBackend: Send + Sync + fmt::Debug {
    /// The options the index was created (or loaded) with.
    fn options(&self) -> &IndexOptions;
    /// Live (not removed) vectors.
    fn len(&self) -> usize;
    /// Whether no vector is live.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Vectors the index can hold before it reallocates.
    fn capacity(&self) -> usize;
    /// See [`Index::reserve`].
    fn reserve(&mut self, additional: usize) -> Result<()>;
    /// See [`Index::add_with`].
    fn add_with(&mut self, key: u64, vector: &[f32], on_duplicate: OnDuplicate) -> Result<()>;
    /// See [`Index::add_batch`].
    fn add_batch(&mut self, keys: &[u64], vectors: &[f32], on_duplicate: OnDuplicate)
        -> Result<()>;
    /// See [`Index::remove`].
    fn remove(&mut self, key: u64) -> Result<()>;
    /// See [`Index::compact`].
    fn compact(&mut self) -> Result<()>;
    /// See [`Index::contains`].
    fn contains(&self, key: u64) -> Result<bool>;
    /// See [`Index::get`].
    fn get(&self, key: u64) -> Result<Vec<f32>>;
    /// See [`Index::clear`].
    fn clear(&mut self) -> Result<()>;
    /// See [`Index::set_ef_search`].
    fn set_ef_search(&mut self, ef: usize) -> Result<()>;
    /// See [`Index::search`].
    fn search(&self, query: &[f32], k: usize) -> Result<Vec<Match>>;
    /// See [`Index::search_filtered`].
    fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        filter: &dyn Fn(u64) -> bool,
    ) -> Result<Vec<Match>>;
    /// See [`Index::search_allowed`].
    fn search_allowed(&self, query: &[f32], k: usize, allowed: &[u64]) -> Result<Vec<Match>>;
    /// See [`Index::search_batch`].
    fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Match>>>;
    /// See [`Index::to_bytes`].
    fn to_bytes(&self) -> Result<Vec<u8>>;
    /// See [`Index::model_id`].
    fn model_id(&self) -> Option<u64>;
    /// Records the model id: the rules of the core's
    /// [`set_model_id`](ferrovec_core::index::Index::set_model_id); unchanged on error.
    fn set_model_id(&mut self, id: Option<u64>) -> Result<()>;
}

/// The Native backend's index: the core index itself.
#[derive(Debug)]
pub(crate) struct NativeIndex(pub(crate) ferrovec_core::index::Index);

impl IndexBackend for NativeIndex {
    fn options(&self) -> &IndexOptions {
        self.0.options()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
    fn reserve(&mut self, additional: usize) -> Result<()> {
        self.0.reserve(additional)
    }
    fn add_with(&mut self, key: u64, vector: &[f32], on_duplicate: OnDuplicate) -> Result<()> {
        self.0.add_with(key, vector, on_duplicate)
    }
    fn add_batch(
        &mut self,
        keys: &[u64],
        vectors: &[f32],
        on_duplicate: OnDuplicate,
    ) -> Result<()> {
        self.0.add_batch(keys, vectors, on_duplicate)
    }
    fn remove(&mut self, key: u64) -> Result<()> {
        self.0.remove(key)
    }
    fn compact(&mut self) -> Result<()> {
        self.0.compact()
    }
    fn contains(&self, key: u64) -> Result<bool> {
        Ok(self.0.contains(key))
    }
    fn get(&self, key: u64) -> Result<Vec<f32>> {
        self.0.get(key)
    }
    fn clear(&mut self) -> Result<()> {
        self.0.clear();
        Ok(())
    }
    fn set_ef_search(&mut self, ef: usize) -> Result<()> {
        self.0.set_ef_search(ef)
    }
    fn search(&self, query: &[f32], k: usize) -> Result<Vec<Match>> {
        self.0.search(query, k)
    }
    fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        filter: &dyn Fn(u64) -> bool,
    ) -> Result<Vec<Match>> {
        self.0.search_filtered(query, k, filter)
    }
    fn search_allowed(&self, query: &[f32], k: usize, allowed: &[u64]) -> Result<Vec<Match>> {
        self.0.search_allowed(query, k, allowed)
    }
    fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Match>>> {
        self.0.search_batch(queries, k)
    }
    fn to_bytes(&self) -> Result<Vec<u8>> {
        self.0.to_bytes()
    }
    fn model_id(&self) -> Option<u64> {
        self.0.model_id()
    }
    fn set_model_id(&mut self, id: Option<u64>) -> Result<()> {
        self.0.set_model_id(id)
    }
}

/// A vector index: vectors of a fixed dimension under `u64` keys, searched exactly (a flat
/// scan on the SIMD kernels) or approximately (HNSW), on the backend of the [`Engine`] it
/// was created from.
///
/// Everything the core [`Index`](ferrovec_core::index::Index) documents holds here: metrics
/// and storages, duplicate keys ([`OnDuplicate`]), `k` rules, ordering (ascending distance,
/// ties by key), and that a failed call leaves the index unchanged.
///
/// # Threads
///
/// `Index` is `Send + Sync` and every method takes `&self`; clones share one index (like
/// an `Arc`). The rules:
///
/// * Readers ([`search`](Self::search) and its variants, [`get`](Self::get),
///   [`contains`](Self::contains), [`len`](Self::len), [`to_bytes`](Self::to_bytes),
///   [`save`](Self::save)) share a read lock: on the native backend any number run at once.
/// * Writers ([`add`](Self::add), [`add_batch`](Self::add_batch), [`remove`](Self::remove),
///   [`compact`](Self::compact), [`clear`](Self::clear), [`reserve`](Self::reserve),
///   [`set_ef_search`](Self::set_ef_search)) take the write lock: they are serialized with
///   each other and with readers, so a search sees the index before or after a write, never
///   in between. Results are always valid: every returned key was in the index at the
///   moment the search ran.
/// * On the interpreted backend the index lives in a wasm instance, which runs one call at
///   a time: readers are serialized too (still safe, not parallel).
/// * A filter callback ([`search_filtered`](Self::search_filtered)) runs while the read
///   lock is held: it must not call a writer on the same index (that would deadlock).
/// * A thread that panics while writing does not poison the index for others: the core
///   validates before it mutates, so the index is consistent and the lock is recovered.
///
/// ```
/// use ferrovec::{Engine, Index, IndexMetric, IndexOptions};
///
/// let index = Index::new(&Engine::native(), IndexOptions::new(2, IndexMetric::L2sq))?;
/// index.add(7, &[1.0, 0.0])?;
/// index.add(9, &[0.0, 1.0])?;
/// let hits = index.search(&[0.9, 0.1], 1)?;
/// assert_eq!(hits[0].key, 7);
/// # Ok::<(), ferrovec::Error>(())
/// ```
#[derive(Clone)]
pub struct Index {
    inner: Arc<RwLock<Box<dyn IndexBackend>>>,
    backend: BackendKind,
    /// The text encoder of [`add_text`](Self::add_text) and [`search_text`](Self::search_text).
    encoder: Option<Encoder>,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.read();
        f.debug_struct("Index")
            .field("backend", &self.backend)
            .field("options", guard.options())
            .field("len", &guard.len())
            .field("model_id", &guard.model_id().map(|id| format!("{id:016x}")))
            .field("encoder", &self.encoder)
            .finish()
    }
}

impl Index {
    /// An empty index on `engine`'s backend. [`Error::InvalidArgument`] for options the
    /// core refuses (zero dimensions, an unsupported metric/storage pair, bad HNSW
    /// parameters).
    pub fn new(engine: &Engine, options: IndexOptions) -> Result<Index> {
        Ok(Index::wrap(
            engine.backend().new_index(options)?,
            engine.kind(),
        ))
    }

    /// An index on `engine`'s backend from bytes made by [`to_bytes`](Self::to_bytes) (on
    /// any backend: the format is the same). [`Error::CorruptFile`] or
    /// [`Error::UnsupportedVersion`] for bytes that are not a valid index.
    pub fn from_bytes(engine: &Engine, bytes: &[u8]) -> Result<Index> {
        Ok(Index::wrap(
            engine.backend().load_index(bytes)?,
            engine.kind(),
        ))
    }

    /// [`from_bytes`](Self::from_bytes) on the contents of the file at `path`.
    /// I/O failures are [`Error::InvalidArgument`] naming the path and the OS error.
    pub fn load(engine: &Engine, path: impl AsRef<Path>) -> Result<Index> {
        let path = path.as_ref();
        let bytes = crate::files::read(path)?;
        Index::from_bytes(engine, &bytes)
    }

    fn wrap(inner: Box<dyn IndexBackend>, backend: BackendKind) -> Index {
        Index {
            inner: Arc::new(RwLock::new(inner)),
            backend,
            encoder: None,
        }
    }

    // A panic while a lock is held is a bug; every backend validates before mutating and
    // the interpreted one restores itself after a trap, so the index is still consistent.
    fn read(&self) -> RwLockReadGuard<'_, Box<dyn IndexBackend>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Box<dyn IndexBackend>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Which backend the index runs on.
    pub fn backend_kind(&self) -> BackendKind {
        self.backend
    }

    /// The options the index was created (or loaded) with.
    pub fn options(&self) -> IndexOptions {
        self.read().options().clone()
    }

    /// The dimension of every vector.
    pub fn dims(&self) -> usize {
        self.read().options().dims
    }

    /// Live (added and not removed) vectors.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no vector is live.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Vectors the index can hold before it reallocates.
    pub fn capacity(&self) -> usize {
        self.read().capacity()
    }

    /// Makes room for `additional` more vectors ([`Error::OutOfMemory`] if it cannot).
    pub fn reserve(&self, additional: usize) -> Result<()> {
        self.write().reserve(additional)
    }

    /// Adds `vector` (exactly [`dims`](Self::dims) finite floats) under `key`; a key that
    /// is already live is [`Error::DuplicateKey`] (see [`add_with`](Self::add_with)).
    pub fn add(&self, key: u64, vector: &[f32]) -> Result<()> {
        self.add_with(key, vector, OnDuplicate::Error)
    }

    /// Adds `vector` under `key`; `on_duplicate` says whether a live key is an error
    /// ([`OnDuplicate::Error`], the default) or has its vector replaced.
    pub fn add_with(&self, key: u64, vector: &[f32], on_duplicate: OnDuplicate) -> Result<()> {
        self.write().add_with(key, vector, on_duplicate)
    }

    /// Adds `keys.len()` vectors (`vectors` row-major, `keys.len() * dims` floats), all or
    /// nothing: everything is validated before the first is added.
    pub fn add_batch(
        &self,
        keys: &[u64],
        vectors: &[f32],
        on_duplicate: OnDuplicate,
    ) -> Result<()> {
        self.write().add_batch(keys, vectors, on_duplicate)
    }

    /// Removes `key` ([`Error::KeyNotFound`] if it is not live). The space is reclaimed by
    /// [`compact`](Self::compact).
    pub fn remove(&self, key: u64) -> Result<()> {
        self.write().remove(key)
    }

    /// Reclaims the space of removed vectors and repairs the HNSW graph around them.
    pub fn compact(&self) -> Result<()> {
        self.write().compact()
    }

    /// Whether `key` is live. Fails only on the interpreted backend (fuel, memory).
    pub fn contains(&self, key: u64) -> Result<bool> {
        self.read().contains(key)
    }

    /// The vector stored under `key`, dequantized ([`Error::KeyNotFound`] if not live).
    pub fn get(&self, key: u64) -> Result<Vec<f32>> {
        self.read().get(key)
    }

    /// Removes every vector, keeping the options.
    pub fn clear(&self) -> Result<()> {
        self.write().clear()
    }

    /// HNSW: how many candidates a search keeps (larger: better recall, slower).
    /// [`Error::InvalidArgument`] on an exact index.
    pub fn set_ef_search(&self, ef: usize) -> Result<()> {
        self.write().set_ef_search(ef)
    }

    /// The `k` nearest live vectors to `query` (dims finite floats), ascending by distance,
    /// ties by key. `k = 0` is [`Error::InvalidArgument`]; `k > len` returns every live
    /// vector; an empty index returns nothing.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Match>> {
        self.read().search(query, k)
    }

    /// [`search`](Self::search) among the keys `filter` accepts only; HNSW keeps exploring
    /// until `k` are accepted (or the graph is exhausted). On the interpreted backend the
    /// module cannot call back into the host, so the search widens (doubling its `k`) until
    /// `k` accepted keys are found or every vector was seen. `filter` runs under the index's
    /// read lock: it must not write to this index.
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        filter: impl Fn(u64) -> bool,
    ) -> Result<Vec<Match>> {
        self.read().search_filtered(query, k, &filter)
    }

    /// [`search`](Self::search) among the keys in `allowed` only (any order, duplicates
    /// fine; keys not in the index are ignored).
    pub fn search_allowed(&self, query: &[f32], k: usize, allowed: &[u64]) -> Result<Vec<Match>> {
        self.read().search_allowed(query, k, allowed)
    }

    /// One [`search`](Self::search) per query (`queries`: `n * dims` floats, row-major).
    pub fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Match>>> {
        self.read().search_batch(queries, k)
    }

    /// The index in ferrovec's portable file format (`core/src/index/FORMAT.md`): the same
    /// bytes load on every backend and in the JS wrapper.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.read().to_bytes()
    }

    // ---- text ----

    /// An empty index for the vectors of `encoder`, with it attached (see
    /// [`with_encoder`](Self::with_encoder)): `options.dims` must be `encoder.dims()`
    /// ([`Error::DimensionMismatch`] otherwise). The encoder's vectors have unit length, so
    /// [`IndexMetric::Cosine`] (or the cheaper [`IndexMetric::InnerProduct`], which gives
    /// the same ranking on unit vectors) is the usual metric.
    pub fn new_text(engine: &Engine, encoder: &Encoder, options: IndexOptions) -> Result<Index> {
        if options.dims != encoder.dims() {
            return Err(dims_mismatch(encoder, options.dims));
        }
        let index = Index::new(engine, options)?;
        index.write().set_model_id(Some(encoder.model_id()))?;
        index.with_encoder(encoder.clone())
    }

    /// A handle to this index (the same shared index, like a clone) that carries `encoder`
    /// for [`add_text`](Self::add_text), [`add_texts`](Self::add_texts) and
    /// [`search_text`](Self::search_text). Errors, leaving the index as it was:
    /// [`Error::DimensionMismatch`] when `encoder.dims()` is not the index's dims;
    /// [`Error::InvalidArgument`] naming both ids when the index records another model id
    /// ([`model_id`](Self::model_id), e.g. from a saved file) and holds vectors. An index
    /// without a model id (plain vectors, or a version 1 file) takes any encoder; it
    /// records the encoder's id at the first text added.
    pub fn with_encoder(&self, encoder: Encoder) -> Result<Index> {
        {
            let b = self.read();
            if b.options().dims != encoder.dims() {
                return Err(dims_mismatch(&encoder, b.options().dims));
            }
            check_model(&**b, &encoder)?;
        }
        Ok(Index {
            encoder: Some(encoder),
            ..self.clone()
        })
    }

    /// [`load`](Self::load) then [`with_encoder`](Self::with_encoder): the file's model id
    /// (if it records one) must be `encoder`'s.
    pub fn load_with_encoder(
        engine: &Engine,
        path: impl AsRef<Path>,
        encoder: &Encoder,
    ) -> Result<Index> {
        Index::load(engine, path)?.with_encoder(encoder.clone())
    }

    /// [`from_bytes`](Self::from_bytes) then [`with_encoder`](Self::with_encoder).
    pub fn from_bytes_with_encoder(
        engine: &Engine,
        bytes: &[u8],
        encoder: &Encoder,
    ) -> Result<Index> {
        Index::from_bytes(engine, bytes)?.with_encoder(encoder.clone())
    }

    /// The encoder this handle carries, if any.
    pub fn encoder(&self) -> Option<&Encoder> {
        self.encoder.as_ref()
    }

    /// The model id of the encoder that made the index's vectors (recorded by the first
    /// text added, or by [`new_text`](Self::new_text); saved in the file), or `None` for an
    /// index of plain vectors.
    pub fn model_id(&self) -> Option<u64> {
        self.read().model_id()
    }

    fn text_encoder(&self) -> Result<&Encoder> {
        self.encoder.as_ref().ok_or_else(|| {
            Error::InvalidArgument(
                "this index has no text encoder: create it with Index::new_text or attach one \
                 with Index::with_encoder"
                    .into(),
            )
        })
    }

    /// Embeds `text` with the index's encoder and adds the vector under `key`; a key that
    /// is already live is [`Error::DuplicateKey`]. The first text added records the
    /// encoder's model id in the index. [`Error::InvalidArgument`] without an encoder or
    /// when the index holds another model's vectors; the index is unchanged on any error.
    pub fn add_text(&self, key: u64, text: &str) -> Result<()> {
        self.add_texts_with(&[key], &[text], OnDuplicate::Error)
    }

    /// [`add_text`](Self::add_text) with a choice for live keys.
    pub fn add_text_with(&self, key: u64, text: &str, on_duplicate: OnDuplicate) -> Result<()> {
        self.add_texts_with(&[key], &[text], on_duplicate)
    }

    /// Embeds `texts` (in one batch, on the encoder's threads: see
    /// [`Encoder::with_threads`]) and adds them under `keys`, all or nothing. Duplicate
    /// live keys are [`Error::DuplicateKey`]; `keys.len() != texts.len()` is
    /// [`Error::DimensionMismatch`].
    pub fn add_texts<T: AsRef<str>>(&self, keys: &[u64], texts: &[T]) -> Result<()> {
        self.add_texts_with(keys, texts, OnDuplicate::Error)
    }

    /// [`add_texts`](Self::add_texts) with a choice for live keys.
    pub fn add_texts_with<T: AsRef<str>>(
        &self,
        keys: &[u64],
        texts: &[T],
        on_duplicate: OnDuplicate,
    ) -> Result<()> {
        let encoder = self.text_encoder()?;
        if keys.len() != texts.len() {
            return Err(Error::DimensionMismatch {
                expected: keys.len(),
                actual: texts.len(),
            });
        }
        // Cheap refusals before the (costly) embedding; checked again under the lock.
        check_model(&**self.read(), encoder)?;
        let vectors = encoder.embed_flat(texts)?;
        let mut b = self.write();
        let before = b.model_id();
        b.set_model_id(Some(encoder.model_id()))?;
        let added = b.add_batch(keys, &vectors, on_duplicate);
        if added.is_err() {
            // Nothing was added: back to the id the index had (always allowed then).
            let _ = b.set_model_id(before);
        }
        added
    }

    /// The `k` nearest live vectors to the embedding of `text` (see
    /// [`search`](Self::search)). [`Error::InvalidArgument`] without an encoder or when the
    /// index holds another model's vectors.
    pub fn search_text(&self, text: &str, k: usize) -> Result<Vec<Match>> {
        let encoder = self.text_encoder()?;
        check_model(&**self.read(), encoder)?;
        let query = encoder.embed_one(text)?;
        self.search(&query, k)
    }

    /// One [`search_text`](Self::search_text) per text, the texts embedded in one batch.
    pub fn search_texts<T: AsRef<str>>(&self, texts: &[T], k: usize) -> Result<Vec<Vec<Match>>> {
        let encoder = self.text_encoder()?;
        check_model(&**self.read(), encoder)?;
        let queries = encoder.embed_flat(texts)?;
        self.search_batch(&queries, k)
    }

    /// Writes [`to_bytes`](Self::to_bytes) to `path` atomically: into a temporary file in
    /// the same directory, flushed to disk, then renamed over `path`, so a crash leaves
    /// either the old file or the new one, never a torn one. I/O failures are
    /// [`Error::InvalidArgument`] naming the path and the OS error.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let bytes = self.to_bytes()?;
        crate::files::write_atomic(path.as_ref(), &bytes)
    }
}

fn dims_mismatch(encoder: &Encoder, index_dims: usize) -> Error {
    Error::DimensionMismatch {
        expected: index_dims,
        actual: encoder.dims(),
    }
}

/// Whether `encoder` may add to or search `b`: the index records no model id, the
/// encoder's, or holds nothing.
fn check_model(b: &dyn IndexBackend, encoder: &Encoder) -> Result<()> {
    match b.model_id() {
        Some(id) if id != encoder.model_id() && !b.is_empty() => Err(
            ferrovec_core::index::model_mismatch(Some(id), Some(encoder.model_id())),
        ),
        _ => Ok(()),
    }
}

impl Engine {
    /// An empty index on this engine's backend: the same as [`Index::new`]`(self, options)`.
    pub fn new_index(&self, options: IndexOptions) -> Result<Index> {
        Index::new(self, options)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn index_is_send_sync_and_clone() {
        assert_send_sync::<Index>();
        let index = Index::new(&Engine::native(), IndexOptions::new(3, IndexMetric::L2sq)).unwrap();
        let other = index.clone();
        other.add(1, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(index.len(), 1, "clones share one index");
        let via_engine = Engine::native()
            .new_index(IndexOptions::new(3, IndexMetric::L2sq))
            .unwrap();
        assert_eq!((via_engine.dims(), via_engine.len()), (3, 0));
        assert_eq!(via_engine.backend_kind(), BackendKind::Native);
    }

    #[test]
    fn a_panicking_filter_leaves_the_index_usable() {
        let index = Index::new(&Engine::native(), IndexOptions::new(2, IndexMetric::L2sq)).unwrap();
        index.add(1, &[0.0, 1.0]).unwrap();
        index.add(2, &[1.0, 0.0]).unwrap();
        let other = index.clone();
        let panicked = std::thread::spawn(move || {
            other.search_filtered(&[1.0, 0.0], 1, |_| panic!("filter bug"))
        })
        .join();
        assert!(panicked.is_err());
        // Readers and writers still work (the read lock is not poisoned).
        index.add(3, &[1.0, 1.0]).unwrap();
        assert_eq!(index.len(), 3);
        assert_eq!(index.search(&[1.0, 0.0], 1).unwrap()[0].key, 2);
    }

    #[test]
    fn save_replaces_atomically_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("fv-index-save-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.fvix");
        let index =
            Index::new(&Engine::native(), IndexOptions::new(2, IndexMetric::Cosine)).unwrap();
        index.add(5, &[1.0, 2.0]).unwrap();
        index.save(&path).unwrap();
        index.add(6, &[2.0, 1.0]).unwrap();
        index.save(&path).unwrap();
        let loaded = Index::load(&Engine::native(), &path).unwrap();
        assert_eq!(loaded.len(), 2);
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let err = index
            .save(dir.join("missing-dir").join("x.fvix"))
            .unwrap_err();
        assert_eq!(err.code(), -3, "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
