//! The index inside the wasm module: ABI v2's handle rules on the real modules (called
//! through wasmi directly, as any host would), and the Interpreted backend's recovery log
//! (a call stopped for fuel leaves the index exactly as native builds it from the same
//! operations, removals, compaction and ef changes included).

mod index_support;

use ferrovec::backend::{BundledModule, InterpretedOptions};
use ferrovec::{Engine, Error, HnswParams, Index, IndexMetric, IndexOptions, OnDuplicate};
use index_support::{built_module, Rng};
use wasmi::{Engine as WasmEngine, Instance, Linker, Memory, Module, Store, TypedFunc};

/// A raw instance of a built module.
struct Raw {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
}

impl Raw {
    fn new(which: BundledModule) -> Option<Raw> {
        let bytes = built_module(which)?;
        let engine = WasmEngine::default();
        let module = Module::new(&engine, &bytes[..]).expect("module");
        let mut store = Store::new(&engine, ());
        let instance = Linker::<()>::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .expect("instantiate");
        let memory = instance.get_memory(&store, "memory").expect("memory");
        Some(Raw {
            store,
            instance,
            memory,
        })
    }

    fn f<P: wasmi::WasmParams, R: wasmi::WasmResults>(&self, name: &str) -> TypedFunc<P, R> {
        self.instance
            .get_typed_func::<P, R>(&self.store, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn alloc(&mut self, size: u32) -> u32 {
        let p = self
            .f::<u32, u32>("fv_alloc")
            .call(&mut self.store, size)
            .unwrap();
        assert_ne!(p, 0);
        p
    }

    fn u32_at(&self, at: u32) -> u32 {
        let mut b = [0u8; 4];
        self.memory.read(&self.store, at as usize, &mut b).unwrap();
        u32::from_le_bytes(b)
    }

    fn write_f32s(&mut self, at: u32, v: &[f32]) {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.memory
            .write(&mut self.store, at as usize, &bytes)
            .unwrap();
    }

    fn last_error(&mut self) -> String {
        let at = self
            .f::<u32, u32>("fv_last_error")
            .call(&mut self.store, 0)
            .unwrap() as usize;
        let data = &self.memory.data(&self.store)[at..];
        let end = data.iter().position(|&b| b == 0).unwrap();
        String::from_utf8_lossy(&data[..end]).into_owned()
    }

    /// `fv_index_new` of an exact l2sq f32 index of `dims`; its handle.
    fn new_index(&mut self, dims: u32, out: u32) -> u32 {
        let new = self.f::<(u32, i32, i32, i32, u32, u32, u32, u64, u32), i32>("fv_index_new");
        let status = new
            .call(&mut self.store, (dims, 1, 0, 0, 0, 0, 0, 0, out))
            .unwrap();
        assert_eq!(status, 0, "{}", self.last_error());
        self.u32_at(out)
    }

    fn len(&mut self, h: u32, out: u32) -> i32 {
        self.f::<(u32, u32), i32>("fv_index_len")
            .call(&mut self.store, (h, out))
            .unwrap()
    }

    fn free(&mut self, h: u32) -> i32 {
        self.f::<u32, i32>("fv_index_free")
            .call(&mut self.store, h)
            .unwrap()
    }
}

const INVALID_HANDLE: i32 = -14;

/// Stale, doubly freed, forged and never-issued handles are `InvalidHandle` (-14) with a
/// message, on both modules, and never reach another index.
#[test]
fn handles_are_generation_checked_in_the_real_modules() {
    for which in [BundledModule::Scalar, BundledModule::Simd] {
        let Some(mut raw) = Raw::new(which) else {
            continue;
        };
        let abi = raw.f::<(), u32>("fv_abi_version");
        assert_eq!(abi.call(&mut raw.store, ()).unwrap(), 3);
        let scratch = raw.alloc(64);
        let a = raw.new_index(4, scratch);
        assert_eq!(raw.len(a, scratch + 8), 0);
        assert_eq!(raw.u32_at(scratch + 8), 0);
        assert_eq!(raw.free(a), 0);
        assert_eq!(raw.free(a), INVALID_HANDLE, "double free");
        assert!(!raw.last_error().is_empty());
        assert_eq!(raw.len(a, scratch + 8), INVALID_HANDLE, "use after free");
        // The slot is reused with a new generation: the old handle stays dead and does
        // not name the new index.
        let b = raw.new_index(4, scratch);
        assert_ne!(a, b);
        assert_eq!(b & 0xffff, a & 0xffff, "same slot");
        assert_eq!(raw.len(a, scratch + 8), INVALID_HANDLE);
        assert_eq!(raw.len(b, scratch + 8), 0);
        for forged in [0, b + (1 << 16), b + 1, 0x7fff_ffff] {
            assert_eq!(raw.len(forged, scratch + 8), INVALID_HANDLE, "{forged:#x}");
            assert_eq!(raw.free(forged), INVALID_HANDLE, "{forged:#x}");
        }
        assert_eq!(raw.free(b), 0);
    }
}

/// `fv_index_save` hands the host a block it frees with `fv_free(ptr, len)`; the bytes load
/// back (`fv_index_load`) into an index that searches the same.
#[test]
fn save_hands_over_a_block_the_host_frees() {
    for which in [BundledModule::Scalar, BundledModule::Simd] {
        let Some(mut raw) = Raw::new(which) else {
            continue;
        };
        let s = raw.alloc(256);
        let h = raw.new_index(4, s);
        let add = raw.f::<(u32, u64, u32, u32, u32), i32>("fv_index_add");
        for (key, v) in [(7u64, [1.0f32, 0.0, 0.0, 0.0]), (9, [0.0, 1.0, 0.0, 0.0])] {
            raw.write_f32s(s + 64, &v);
            assert_eq!(add.call(&mut raw.store, (h, key, s + 64, 4, 0)).unwrap(), 0);
        }
        let save = raw.f::<(u32, u32, u32), i32>("fv_index_save");
        assert_eq!(save.call(&mut raw.store, (h, s, s + 4)).unwrap(), 0);
        let (ptr, len) = (raw.u32_at(s), raw.u32_at(s + 4));
        assert!(len > 16 && ptr % 16 == 0, "{ptr} {len}");
        let load = raw.f::<(u32, u32, u32), i32>("fv_index_load");
        assert_eq!(load.call(&mut raw.store, (ptr, len, s + 8)).unwrap(), 0);
        let h2 = raw.u32_at(s + 8);
        assert_ne!(h, h2);
        let search = raw.f::<(u32, u32, u32, u32, u32, u32, u32), i32>("fv_index_search");
        raw.write_f32s(s + 64, &[0.1, 0.9, 0.0, 0.0]);
        assert_eq!(
            search
                .call(&mut raw.store, (h2, s + 64, 4, 1, s + 128, s + 160, s + 12))
                .unwrap(),
            0
        );
        assert_eq!(raw.u32_at(s + 12), 1);
        assert_eq!(raw.u32_at(s + 128), 9, "nearest key (low word)");
        // The block is the host's: freeing it works once, a second free is refused.
        let free = raw.f::<(u32, u32), ()>("fv_free");
        free.call(&mut raw.store, (ptr, len)).unwrap();
        assert!(raw.last_error().is_empty(), "{}", raw.last_error());
        free.call(&mut raw.store, (ptr, len)).unwrap();
        assert!(!raw.last_error().is_empty(), "double fv_free is reported");
        // A truncated copy is a corrupt file, not a trap.
        let p2 = raw.alloc(len);
        let bytes = raw.memory.data(&raw.store)[ptr as usize..(ptr + len) as usize].to_vec();
        raw.memory
            .write(&mut raw.store, p2 as usize, &bytes)
            .unwrap();
        let status = load.call(&mut raw.store, (p2, len - 1, s + 8)).unwrap();
        assert!(matches!(status, -12 | -13), "{status}");
    }
}

/// A sequence of every kind of mutation, on `index`.
fn mutate(index: &Index, data: &[f32], dims: usize) {
    let n = data.len() / dims;
    let keys: Vec<u64> = (0..n as u64).map(|i| 10 + 3 * i).collect();
    index
        .add_batch(&keys[..n / 2], &data[..n / 2 * dims], OnDuplicate::Error)
        .unwrap();
    for (i, key) in keys.iter().enumerate().skip(n / 2) {
        index.add(*key, &data[i * dims..(i + 1) * dims]).unwrap();
    }
    for key in keys.iter().step_by(5) {
        index.remove(*key).unwrap();
    }
    index.compact().unwrap();
    // Replace a few vectors, then remove some more without compacting.
    index
        .add_with(keys[1], &data[..dims], OnDuplicate::Replace)
        .unwrap();
    for key in keys.iter().skip(2).step_by(7) {
        let _ = index.remove(*key);
    }
    if matches!(index.options().kind, ferrovec::IndexKind::Hnsw(_)) {
        index.set_ef_search(40).unwrap();
    }
}

/// After a call stopped for fuel, the backend rebuilds the index from its recovery log: it
/// must then be exactly the index native builds from the same operations (same bytes,
/// same results), and keep working.
#[test]
fn recovery_after_out_of_fuel_reproduces_the_index_exactly() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let engine = Engine::interpreted(
        &InterpretedOptions::new()
            .module(bytes)
            .fuel(Some(30_000_000)),
    )
    .unwrap();
    let dims = 8;
    let data = Rng(3).clustered(120, dims, 6);
    let native = Engine::native();
    for options in [
        IndexOptions::new(dims, IndexMetric::L2sq).exact(),
        IndexOptions::new(dims, IndexMetric::L2sq).hnsw(HnswParams {
            m: 8,
            ef_construction: 32,
            ..HnswParams::default()
        }),
    ] {
        let want = Index::new(&native, options.clone()).unwrap();
        mutate(&want, &data, dims);
        let index = Index::new(&engine, options.clone()).unwrap();
        mutate(&index, &data, dims);
        let before = index.to_bytes().unwrap();
        assert_eq!(before, want.to_bytes().unwrap(), "{options:?}");

        // Far more work than the budget: the instance is discarded mid-call.
        let big = Rng(4).f32s(50_000 * dims);
        let keys: Vec<u64> = (1_000_000..1_050_000).collect();
        let err = index
            .add_batch(&keys, &big, OnDuplicate::Error)
            .unwrap_err();
        assert!(matches!(err, Error::OutOfFuel { .. }), "{err}");

        assert_eq!(
            index.to_bytes().unwrap(),
            before,
            "{options:?}: replayed index"
        );
        let q = Rng(5).f32s(dims);
        assert_eq!(index.search(&q, 5).unwrap(), want.search(&q, 5).unwrap());
        index.add(1, &q).unwrap();
        assert_eq!(index.search(&q, 1).unwrap()[0].key, 1);
    }
}

/// `search_filtered` on the Interpreted backend (host-side post-check with re-search)
/// returns what native returns, also for a filter that accepts few keys.
#[test]
fn filtered_search_matches_native() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let engine = Engine::interpreted(&InterpretedOptions::new().module(bytes)).unwrap();
    let native = Engine::native();
    let dims = 8;
    let data = Rng(8).clustered(200, dims, 5);
    let keys: Vec<u64> = (0..200).collect();
    for options in [
        IndexOptions::new(dims, IndexMetric::Cosine).exact(),
        IndexOptions::new(dims, IndexMetric::Cosine).hnsw(HnswParams::default()),
    ] {
        let a = Index::new(&native, options.clone()).unwrap();
        let b = Index::new(&engine, options).unwrap();
        a.add_batch(&keys, &data, OnDuplicate::Error).unwrap();
        b.add_batch(&keys, &data, OnDuplicate::Error).unwrap();
        let q = Rng(9).f32s(dims);
        for modulus in [1u64, 3, 17, 97] {
            let filter = |k: u64| k.is_multiple_of(modulus);
            let x: Vec<u64> = a
                .search_filtered(&q, 10, filter)
                .unwrap()
                .iter()
                .map(|m| m.key)
                .collect();
            let y: Vec<u64> = b
                .search_filtered(&q, 10, filter)
                .unwrap()
                .iter()
                .map(|m| m.key)
                .collect();
            assert_eq!(x.len(), y.len(), "modulus {modulus}");
            assert!(y.iter().all(|k| k.is_multiple_of(modulus)));
            let common = y.iter().filter(|k| x.contains(k)).count();
            assert!(
                common * 10 >= x.len() * 9,
                "modulus {modulus}: {x:?} vs {y:?}"
            );
        }
        // A filter that rejects everything: an empty result, not an error.
        assert!(b.search_filtered(&q, 10, |_| false).unwrap().is_empty());
    }
}
