//! The Interpreted backend's index: a `ferrovec_core::index::Index` living inside a wasm
//! instance, driven through the `fv_index_*` functions of ABI v2 (wasm/README.md).
//!
//! # One instance per index
//!
//! Each index gets its own instance of the [`Interpreted`] backend's (already compiled)
//! module, with the backend's fuel budget per call and memory cap. So indexes never share a
//! linear memory, the engine's kernel calls do not queue behind index calls, and a
//! failure in one index cannot touch another.
//!
//! # Surviving a trap
//!
//! A call that runs out of fuel or traps (which includes the module running out of memory
//! inside an allocation that cannot fail cleanly) leaves the instance unusable, and the
//! index in it is gone. So that such a call still leaves the index *unchanged*, as every
//! failed call must, the host keeps a recovery log: the last saved image of the index (or
//! nothing, for an index built from its options) plus every successful mutation since
//! (inputs copied). After a discarded instance the next call instantiates afresh and
//! replays the log, which reproduces the index exactly (the core is deterministic for a
//! given sequence of operations). The log is folded into a new image (`fv_index_save`)
//! once it outgrows the last image, so it costs at most about twice the index's size on
//! the host, amortized O(1) per mutation.
//!
//! # Threads
//!
//! The instance runs one call at a time: searches on one interpreted index are serialized
//! by a mutex (on top of [`Index`](crate::Index)'s read/write lock).

use std::fmt;
use std::sync::Mutex;

use ferrovec_core::index::{
    HnswParams, IndexKind, IndexMetric, IndexOptions, Match, OnDuplicate, Storage,
};
use ferrovec_core::{Error, Result};
use wasmi::TypedFunc;

use super::interpreted::{Interpreted, CAP_INDEX_MODEL_ID};
use super::module_call::{export, to_u32, CallResult, Fail, Inst, Sandbox};
use crate::index::IndexBackend;

/// Words `fv_index_info` writes.
const INFO_WORDS: usize = 12;
/// The recovery log is folded into a new image once it holds more than this many bytes
/// and more than the last image.
const MIN_LOG_BYTES: usize = 1 << 20;

/// Creates an index in a fresh instance of `backend`'s module.
pub(crate) fn new_index(
    backend: &Interpreted,
    options: IndexOptions,
) -> Result<Box<dyn IndexBackend>> {
    let base = Base::Options(options);
    Ok(Box::new(InterpretedIndex::create(backend, base)?))
}

/// Loads an index from saved bytes into a fresh instance of `backend`'s module.
pub(crate) fn load_index(backend: &Interpreted, bytes: &[u8]) -> Result<Box<dyn IndexBackend>> {
    let base = Base::Image(bytes.to_vec());
    Ok(Box::new(InterpretedIndex::create(backend, base)?))
}

/// Where a rebuilt index starts.
enum Base {
    /// Empty, from these options.
    Options(IndexOptions),
    /// Loaded from this image (`fv_index_save` / `to_bytes` output).
    Image(Vec<u8>),
}

/// A successful mutation, kept to replay after a discarded instance.
enum Op {
    Add {
        keys: Vec<u64>,
        vectors: Vec<f32>,
        on_duplicate: OnDuplicate,
    },
    Remove(u64),
    Compact,
    Clear,
    Reserve(usize),
    SetEf(usize),
    /// `fv_index_set_model_id` (modules with capability bit 4 only).
    SetModelId(Option<u64>),
}

impl Op {
    fn bytes(&self) -> usize {
        match self {
            Op::Add { keys, vectors, .. } => 32 + keys.len() * 8 + vectors.len() * 4,
            _ => 32,
        }
    }
}

// The wasm signatures spelled out as the ABI lists them (wasm/README.md); aliases would hide
// which argument is which.
#[allow(clippy::type_complexity)]
struct Funcs {
    new: TypedFunc<(u32, i32, i32, i32, u32, u32, u32, u64, u32), i32>,
    load: TypedFunc<(u32, u32, u32), i32>,
    info: TypedFunc<(u32, u32), i32>,
    add: TypedFunc<(u32, u64, u32, u32, u32), i32>,
    add_batch: TypedFunc<(u32, u32, u32, u32, u32, u32), i32>,
    remove: TypedFunc<(u32, u64), i32>,
    compact: TypedFunc<u32, i32>,
    clear: TypedFunc<u32, i32>,
    reserve: TypedFunc<(u32, u32), i32>,
    set_ef_search: TypedFunc<(u32, u32), i32>,
    contains: TypedFunc<(u32, u64, u32), i32>,
    get: TypedFunc<(u32, u64, u32, u32), i32>,
    search: TypedFunc<(u32, u32, u32, u32, u32, u32, u32), i32>,
    search_allowed: TypedFunc<(u32, u32, u32, u32, u32, u32, u32, u32, u32), i32>,
    search_batch: TypedFunc<(u32, u32, u32, u32, u32, u32, u32, u32), i32>,
    save: TypedFunc<(u32, u32, u32), i32>,
    /// `fv_index_set_model_id`, in modules with capability bit 4.
    set_model_id: Option<TypedFunc<(u32, u64, u32), i32>>,
}

/// What the host knows about the index without asking the module.
#[derive(Clone)]
struct Cached {
    options: IndexOptions,
    len: usize,
    capacity: usize,
}

/// The live instance holding the index.
type IndexInst = Inst<Funcs>;

pub(crate) struct InterpretedIndex {
    sandbox: Sandbox,
    /// `None` after a call abandoned the instance; the next call rebuilds it from the log.
    inst: Mutex<Option<IndexInst>>,
    base: Base,
    log: Vec<Op>,
    log_bytes: usize,
    /// The log size at which the next image is attempted (grows after a failed attempt).
    fold_at: usize,
    cached: Cached,
    /// The model id the index in the module holds (format v2): known from the image it was
    /// loaded from or set by `fv_index_set_model_id` (logged as [`Op::SetModelId`], so a
    /// rebuilt instance has it too).
    model_id: Option<u64>,
    /// Whether the module can record a model id (capability bit 4); without it, the id of
    /// a loaded image is kept but no other can be set.
    can_set_model_id: bool,
}

impl fmt::Debug for InterpretedIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterpretedIndex")
            .field("options", &self.cached.options)
            .field("len", &self.cached.len)
            .field("fuel", &self.sandbox.fuel)
            .field("memory_limit", &self.sandbox.memory_limit)
            .field("log_ops", &self.log.len())
            .finish_non_exhaustive()
    }
}

impl InterpretedIndex {
    fn create(backend: &Interpreted, base: Base) -> Result<InterpretedIndex> {
        let mut index = InterpretedIndex {
            sandbox: backend.sandbox(),
            inst: Mutex::new(None),
            base,
            log: Vec::new(),
            log_bytes: 0,
            fold_at: MIN_LOG_BYTES,
            cached: Cached {
                options: IndexOptions::new(1, IndexMetric::L2sq),
                len: 0,
                capacity: 0,
            },
            model_id: None,
            can_set_model_id: backend.info().capabilities & CAP_INDEX_MODEL_ID != 0,
        };
        let (inst, cached) = index.rebuild()?;
        index.cached = cached;
        if let Base::Image(bytes) = &index.base {
            // The module loaded the image, so its header is valid (FORMAT.md): a v2 file
            // has the model id at offset 88.
            if bytes.get(4..8) == Some(&2u32.to_le_bytes()[..]) {
                let mut id = [0u8; 8];
                id.copy_from_slice(&bytes[88..96]);
                index.model_id = Some(u64::from_le_bytes(id));
            }
        }
        *index.inst.get_mut().unwrap_or_else(|p| p.into_inner()) = Some(inst);
        Ok(index)
    }

    /// A fresh instance holding the index as the base plus the log describe it.
    fn rebuild(&self) -> Result<(IndexInst, Cached)> {
        let mut inst = self.instantiate()?;
        match &self.base {
            Base::Options(options) => {
                let (kind, p) = match &options.kind {
                    IndexKind::Hnsw(p) => (1, *p),
                    _ => (0, HnswParams::default()),
                };
                let args = (
                    to_u32(options.dims, "dims")?,
                    options.metric as i32,
                    options.storage as i32,
                    kind,
                    to_u32(p.m, "m")?,
                    to_u32(p.ef_construction, "ef_construction")?,
                    to_u32(p.ef_search, "ef_search")?,
                    p.seed,
                );
                self.call(&mut inst, |inst| {
                    let [out] = inst.stage([4])?;
                    let f = inst.f.new;
                    let a = (
                        args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, out,
                    );
                    let status = f.call(&mut inst.store, a)?;
                    inst.check(status)?;
                    inst.handle = inst.read_u32(out)?;
                    Ok(())
                })?;
            }
            Base::Image(bytes) => {
                let len = to_u32(bytes.len(), "the saved index's length")?;
                self.call(&mut inst, |inst| {
                    let [out, at] = inst.stage([4, bytes.len()])?;
                    inst.write_bytes(at, bytes)?;
                    let f = inst.f.load;
                    let status = f.call(&mut inst.store, (at, len, out))?;
                    inst.check(status)?;
                    inst.handle = inst.read_u32(out)?;
                    Ok(())
                })?;
            }
        }
        for op in &self.log {
            self.call(&mut inst, |inst| inst.apply(op))
                .map_err(|e| Error::Trap(format!("the index could not be restored: {e}")))?;
        }
        let cached = self.call(&mut inst, |inst| inst.info())?;
        Ok((inst, cached))
    }

    /// A fresh store and instance of the module, with the index exports looked up.
    fn instantiate(&self) -> Result<IndexInst> {
        self.sandbox.instantiate(|i, s| {
            let what = "the index functions of ABI version 3";
            Ok(Funcs {
                new: export(i, s, "fv_index_new", what)?,
                load: export(i, s, "fv_index_load", what)?,
                info: export(i, s, "fv_index_info", what)?,
                add: export(i, s, "fv_index_add", what)?,
                add_batch: export(i, s, "fv_index_add_batch", what)?,
                remove: export(i, s, "fv_index_remove", what)?,
                compact: export(i, s, "fv_index_compact", what)?,
                clear: export(i, s, "fv_index_clear", what)?,
                reserve: export(i, s, "fv_index_reserve", what)?,
                set_ef_search: export(i, s, "fv_index_set_ef_search", what)?,
                contains: export(i, s, "fv_index_contains", what)?,
                get: export(i, s, "fv_index_get", what)?,
                search: export(i, s, "fv_index_search", what)?,
                search_allowed: export(i, s, "fv_index_search_allowed", what)?,
                search_batch: export(i, s, "fv_index_search_batch", what)?,
                save: export(i, s, "fv_index_save", what)?,
                set_model_id: if self.can_set_model_id {
                    Some(export(
                        i,
                        s,
                        "fv_index_set_model_id",
                        "the index model id of capability bit 4",
                    )?)
                } else {
                    None
                },
            })
        })
    }

    /// Runs `body` on `inst` with a fresh fuel budget (see [`Sandbox::call`]).
    fn call<R>(
        &self,
        inst: &mut IndexInst,
        body: impl FnOnce(&mut IndexInst) -> CallResult<R>,
    ) -> Result<R> {
        self.sandbox.call(inst, body)
    }

    /// Runs `body` on the live instance (rebuilding it first if an earlier call discarded
    /// it), discarding the instance if wasmi stopped the call.
    fn with<R>(
        &self,
        slot: &mut Option<IndexInst>,
        body: impl FnOnce(&mut IndexInst) -> CallResult<R>,
    ) -> Result<R> {
        let inst = match slot {
            Some(inst) => inst,
            None => slot.insert(self.rebuild()?.0),
        };
        match self.sandbox.call_raw(inst, body) {
            Ok(value) => Ok(value),
            Err((err, discard)) => {
                if discard {
                    *slot = None;
                }
                Err(err)
            }
        }
    }

    /// A read: runs under the instance mutex.
    fn read<R>(&self, body: impl FnOnce(&mut IndexInst) -> CallResult<R>) -> Result<R> {
        let mut guard = self.inst.lock().unwrap_or_else(|p| {
            // A panic mid-call (a bug) may have left the instance mid-call: rebuild it.
            let mut guard = p.into_inner();
            *guard = None;
            guard
        });
        self.with(&mut guard, body)
    }

    /// A mutation: runs `op`, then refreshes the cached facts, logs `op` and maybe folds
    /// the log into a new image.
    fn mutate(&mut self, op: Op) -> Result<()> {
        let mut slot = std::mem::take(self.inst.get_mut().unwrap_or_else(|p| p.into_inner()));
        let result = self.with(&mut slot, |inst| {
            inst.apply(&op)?;
            inst.info()
        });
        let cached = match result {
            Ok(cached) => cached,
            Err(err) => {
                *self.inst.get_mut().unwrap_or_else(|p| p.into_inner()) = slot;
                return Err(err);
            }
        };
        self.cached = cached;
        self.log_bytes += op.bytes();
        if matches!(op, Op::Clear) {
            // Everything before a clear is irrelevant, except the options and ef_search.
            self.log.clear();
            self.log_bytes = 0;
            // The options alone, plus the model id when the module can set it; a module
            // that cannot keeps an image with a model id as the base (rebuilding from the
            // options alone would lose the id).
            if self.model_id.is_none() || self.can_set_model_id {
                if let Base::Image(_) = self.base {
                    self.base = Base::Options(self.cached.options.clone());
                }
                if let Some(id) = self.model_id {
                    self.log.push(Op::SetModelId(Some(id)));
                    self.log_bytes += 32;
                }
            }
        } else {
            self.log.push(op);
        }
        let image_len = match &self.base {
            Base::Image(bytes) => bytes.len(),
            Base::Options(_) => 0,
        };
        if self.log_bytes > self.fold_at.max(image_len) {
            self.fold(&mut slot);
        }
        *self.inst.get_mut().unwrap_or_else(|p| p.into_inner()) = slot;
        Ok(())
    }

    /// Replaces base + log by a fresh image, if the module can save one.
    fn fold(&mut self, slot: &mut Option<IndexInst>) {
        match self.with(slot, |inst| inst.save()) {
            Ok(bytes) => {
                self.base = Base::Image(bytes);
                self.log.clear();
                self.log_bytes = 0;
                self.fold_at = MIN_LOG_BYTES;
            }
            // Out of fuel or memory for the image: keep the log, try again when it doubled.
            Err(_) => self.fold_at = self.log_bytes.saturating_mul(2),
        }
    }

    fn dims(&self) -> usize {
        self.cached.options.dims
    }

    fn search_rows(&self, queries: &[f32], n_queries: usize, k: usize) -> Result<Vec<Vec<Match>>> {
        // The module takes u32 counts; larger ones cannot fit its memory anyway.
        let k32 = u32::try_from(k).unwrap_or(u32::MAX);
        let cap = k.min(self.cached.len);
        let n32 = to_u32(n_queries, "the number of queries")?;
        let floats = to_u32(queries.len(), "the queries' length")?;
        let total = cap
            .checked_mul(n_queries)
            .ok_or_else(|| Error::InvalidArgument("n_queries * k overflows".to_string()))?;
        self.read(|inst| {
            let [q, keys, dist, counts] =
                inst.stage([queries.len() * 4, total * 8, total * 4, n_queries * 4])?;
            inst.write(q, queries)?;
            let f = inst.f.search_batch;
            let status = f.call(
                &mut inst.store,
                (inst.handle, q, n32, floats, k32, keys, dist, counts),
            )?;
            inst.check(status)?;
            let counts = inst.read::<u32>(counts, n_queries)?;
            let keys = inst.read::<u64>(keys, total)?;
            let dist = inst.read::<f32>(dist, total)?;
            let mut out = Vec::with_capacity(n_queries);
            for (row, &n) in counts.iter().enumerate() {
                let n = n as usize;
                if n > cap {
                    return Err(Fail::Broken(format!("{n} matches for at most {cap}")));
                }
                out.push(
                    (row * cap..row * cap + n)
                        .map(|i| Match {
                            key: keys[i],
                            distance: dist[i],
                        })
                        .collect(),
                );
            }
            Ok(out)
        })
    }

    fn search_one(&self, query: &[f32], k: usize, allowed: Option<&[u64]>) -> Result<Vec<Match>> {
        let k32 = u32::try_from(k).unwrap_or(u32::MAX);
        let cap = k.min(self.cached.len);
        let n = to_u32(query.len(), "the query's length")?;
        self.read(|inst| {
            let allowed_len = allowed.map_or(0, |a| a.len());
            let [q, a, keys, dist, count] =
                inst.stage([query.len() * 4, allowed_len * 8, cap * 8, cap * 4, 4])?;
            inst.write(q, query)?;
            let status = match allowed {
                Some(list) => {
                    inst.write(a, list)?;
                    let n_allowed = u32::try_from(list.len()).map_err(|_| {
                        Fail::Clean(Error::InvalidArgument(
                            "the allow-list is longer than u32::MAX".into(),
                        ))
                    })?;
                    let f = inst.f.search_allowed;
                    f.call(
                        &mut inst.store,
                        (inst.handle, q, n, k32, a, n_allowed, keys, dist, count),
                    )?
                }
                None => {
                    let f = inst.f.search;
                    f.call(&mut inst.store, (inst.handle, q, n, k32, keys, dist, count))?
                }
            };
            inst.check(status)?;
            let n = inst.read_u32(count)? as usize;
            if n > cap {
                return Err(Fail::Broken(format!("{n} matches for at most {cap}")));
            }
            let keys = inst.read::<u64>(keys, n)?;
            let dist = inst.read::<f32>(dist, n)?;
            Ok(keys
                .into_iter()
                .zip(dist)
                .map(|(key, distance)| Match { key, distance })
                .collect())
        })
    }
}

fn too_big(what: &str) -> Fail {
    Fail::Clean(Error::InvalidArgument(format!(
        "{what} does not fit the wasm module's 32-bit address space"
    )))
}

impl IndexInst {
    /// Calls the export for `op`.
    fn apply(&mut self, op: &Op) -> CallResult<()> {
        let h = self.handle;
        let status = match op {
            Op::Add {
                keys,
                vectors,
                on_duplicate,
            } => {
                let replace = u32::from(*on_duplicate == OnDuplicate::Replace);
                let n = u32::try_from(keys.len()).map_err(|_| too_big("the batch"))?;
                let floats = u32::try_from(vectors.len()).map_err(|_| too_big("the batch"))?;
                let [pk, pv] = self.stage([keys.len() * 8, vectors.len() * 4])?;
                self.write(pk, keys)?;
                self.write(pv, vectors)?;
                if keys.len() == 1 {
                    // The single-vector export, so its errors are exactly `add_with`'s.
                    let f = self.f.add;
                    f.call(&mut self.store, (h, keys[0], pv, floats, replace))?
                } else {
                    let f = self.f.add_batch;
                    f.call(&mut self.store, (h, pk, n, pv, floats, replace))?
                }
            }
            Op::Remove(key) => {
                let f = self.f.remove;
                f.call(&mut self.store, (h, *key))?
            }
            Op::Compact => {
                let f = self.f.compact;
                f.call(&mut self.store, h)?
            }
            Op::Clear => {
                let f = self.f.clear;
                f.call(&mut self.store, h)?
            }
            Op::Reserve(n) => {
                let n = u32::try_from(*n).map_err(|_| {
                    Fail::Clean(Error::OutOfMemory(format!(
                        "cannot reserve {n} vectors in a wasm32 module"
                    )))
                })?;
                let f = self.f.reserve;
                f.call(&mut self.store, (h, n))?
            }
            Op::SetEf(ef) => {
                let ef = u32::try_from(*ef).unwrap_or(u32::MAX);
                let f = self.f.set_ef_search;
                f.call(&mut self.store, (h, ef))?
            }
            Op::SetModelId(id) => {
                let f = self.f.set_model_id.ok_or_else(|| {
                    Fail::Clean(Error::InvalidArgument(
                        "this module cannot record a model id (capability bit 4)".into(),
                    ))
                })?;
                f.call(
                    &mut self.store,
                    (h, id.unwrap_or(0), u32::from(id.is_some())),
                )?
            }
        };
        self.check(status)
    }

    fn info(&mut self) -> CallResult<Cached> {
        let [out] = self.stage([INFO_WORDS * 4])?;
        let f = self.f.info;
        let status = f.call(&mut self.store, (self.handle, out))?;
        self.check(status)?;
        let w = self.read::<u32>(out, INFO_WORDS)?;
        let broken = |what: &str| Fail::Broken(format!("fv_index_info: {what}"));
        let metric = IndexMetric::from_code(w[1] as i32).map_err(|_| broken("unknown metric"))?;
        let storage = Storage::from_code(w[2] as i32).map_err(|_| broken("unknown storage"))?;
        let mut options = IndexOptions::new(w[0] as usize, metric).storage(storage);
        options = match w[3] {
            0 => options.exact(),
            1 => options.hnsw(HnswParams {
                m: w[4] as usize,
                ef_construction: w[5] as usize,
                ef_search: w[6] as usize,
                seed: u64::from(w[9]) | u64::from(w[10]) << 32,
            }),
            _ => return Err(broken("unknown kind")),
        };
        Ok(Cached {
            options,
            len: w[7] as usize,
            capacity: w[8] as usize,
        })
    }

    fn save(&mut self) -> CallResult<Vec<u8>> {
        let [pp, pl] = self.stage([4, 4])?;
        let f = self.f.save;
        let status = f.call(&mut self.store, (self.handle, pp, pl))?;
        self.check(status)?;
        let (ptr, len) = (self.read_u32(pp)?, self.read_u32(pl)?);
        self.take_block(ptr, len)
    }
}

impl IndexBackend for InterpretedIndex {
    fn options(&self) -> &IndexOptions {
        &self.cached.options
    }

    fn len(&self) -> usize {
        self.cached.len
    }

    fn capacity(&self) -> usize {
        self.cached.capacity
    }

    fn reserve(&mut self, additional: usize) -> Result<()> {
        self.mutate(Op::Reserve(additional))
    }

    fn add_with(&mut self, key: u64, vector: &[f32], on_duplicate: OnDuplicate) -> Result<()> {
        self.mutate(Op::Add {
            keys: vec![key],
            vectors: vector.to_vec(),
            on_duplicate,
        })
    }

    fn add_batch(
        &mut self,
        keys: &[u64],
        vectors: &[f32],
        on_duplicate: OnDuplicate,
    ) -> Result<()> {
        if keys.len() == 1 {
            // Batches of one go through the same export as `add` when replayed: check the
            // batch's length rule here so the error is the batch's.
            let dims = self.dims();
            if vectors.len() != dims {
                return Err(Error::DimensionMismatch {
                    expected: dims,
                    actual: vectors.len(),
                });
            }
        }
        self.mutate(Op::Add {
            keys: keys.to_vec(),
            vectors: vectors.to_vec(),
            on_duplicate,
        })
    }

    fn remove(&mut self, key: u64) -> Result<()> {
        self.mutate(Op::Remove(key))
    }

    fn compact(&mut self) -> Result<()> {
        self.mutate(Op::Compact)
    }

    fn contains(&self, key: u64) -> Result<bool> {
        self.read(|inst| {
            let [out] = inst.stage([4])?;
            let f = inst.f.contains;
            let status = f.call(&mut inst.store, (inst.handle, key, out))?;
            inst.check(status)?;
            Ok(inst.read_u32(out)? != 0)
        })
    }

    fn get(&self, key: u64) -> Result<Vec<f32>> {
        let dims = self.dims();
        let n = to_u32(dims, "dims")?;
        self.read(|inst| {
            let [out] = inst.stage([dims * 4])?;
            let f = inst.f.get;
            let status = f.call(&mut inst.store, (inst.handle, key, out, n))?;
            inst.check(status)?;
            inst.read::<f32>(out, dims)
        })
    }

    fn clear(&mut self) -> Result<()> {
        self.mutate(Op::Clear)
    }

    fn set_ef_search(&mut self, ef: usize) -> Result<()> {
        self.mutate(Op::SetEf(ef))
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<Match>> {
        self.search_one(query, k, None)
    }

    /// The module cannot call back into the host, so this asks for more and more matches
    /// (doubling) and filters them on the host until `k` pass or nothing more comes back.
    fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        filter: &dyn Fn(u64) -> bool,
    ) -> Result<Vec<Match>> {
        let mut want = k;
        loop {
            let found = self.search_one(query, want, None)?;
            let exhausted = found.len() < want || want >= self.cached.len;
            let mut accepted: Vec<Match> = found.into_iter().filter(|m| filter(m.key)).collect();
            if accepted.len() >= k || exhausted {
                accepted.truncate(k);
                return Ok(accepted);
            }
            want = want.saturating_mul(2).min(self.cached.len.max(1));
        }
    }

    fn search_allowed(&self, query: &[f32], k: usize, allowed: &[u64]) -> Result<Vec<Match>> {
        self.search_one(query, k, Some(allowed))
    }

    fn search_batch(&self, queries: &[f32], k: usize) -> Result<Vec<Vec<Match>>> {
        // A length that is not a multiple of dims is refused by the module (as by the core);
        // the outputs are sized for the queries it could hold.
        let n = queries.len().div_ceil(self.dims().max(1));
        self.search_rows(queries, n, k)
    }

    fn to_bytes(&self) -> Result<Vec<u8>> {
        self.read(|inst| inst.save())
    }

    fn model_id(&self) -> Option<u64> {
        self.model_id
    }

    fn set_model_id(&mut self, id: Option<u64>) -> Result<()> {
        if id == self.model_id {
            return Ok(());
        }
        if !self.can_set_model_id {
            return Err(Error::InvalidArgument(
                "this wasm module cannot record a model id on an index (it lacks capability \
                 bit 4, fv_index_set_model_id): it keeps the id of a loaded file; use the \
                 bundled module or the Native backend for text indexes"
                    .into(),
            ));
        }
        // The module applies the core's rule (another model's id is refused while the
        // index holds vectors); logged, so a rebuilt instance records it again.
        self.mutate(Op::SetModelId(id))?;
        self.model_id = id;
        Ok(())
    }
}
