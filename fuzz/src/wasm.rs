//! Targets over the wasm module: the index file loader (native vs interpreted), raw ABI call
//! sequences in wasmi, and the interpreted backend's module loader.

use ferrovec::backend::{bundled_module, BundledModule, InterpretedOptions};
use ferrovec::kernels::Isa;
use ferrovec::{Engine, Error, Index, IndexMetric, IndexOptions, Match};
use wasmi::{
    Config, Engine as WasmEngine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder, Val,
    ValType,
};

use crate::input::Input;

/// The memory cap of every interpreted instance in these targets (ferrovec's modules start
/// at about 1 MiB).
const MEMORY_CAP: usize = 64 << 20;

struct Pair {
    native: Engine,
    wasm: Engine,
}

thread_local! {
    /// The scalar kernels natively and the scalar module in wasmi: the same Rust code on two
    /// targets, so loads, searches and saved bytes must agree exactly.
    static PAIR: Pair = Pair {
        native: Engine::native_with_isa(Isa::Scalar).expect("the scalar table always exists"),
        wasm: Engine::interpreted(
            &InterpretedOptions::new()
                .bundled(BundledModule::Scalar)
                .fuel(Some(2_000_000_000))
                .memory_limit(Some(MEMORY_CAP)),
        )
        .expect("the bundled scalar module loads"),
    };
}

/// Limits the interpreter can hit where native code has none: such an outcome is not a
/// difference between the backends.
fn resource_limit(e: &Error) -> bool {
    matches!(e, Error::OutOfFuel { .. } | Error::OutOfMemory(_))
}

fn same_matches(a: &[Match], b: &[Match]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.key == y.key && x.distance.to_bits() == y.distance.to_bits())
}

/// The index file loader, differentially: the fuzzer's bytes with the CRC-32C resealed, then
/// `Index::from_bytes` natively and in the wasm module under wasmi. Both load or both fail
/// with the same error; loaded, both have the same options and length, search the same
/// (keys and distance bits) and save the same bytes, and the saved bytes load again.
pub fn index_load(data: &[u8]) {
    let bytes = crate::reseal(data);
    PAIR.with(|pair| {
        let native = Index::from_bytes(&pair.native, &bytes);
        let wasm = Index::from_bytes(&pair.wasm, &bytes);
        let (native, wasm) = match (native, wasm) {
            (Ok(n), Ok(w)) => (n, w),
            (Err(n), Err(w)) => {
                if !resource_limit(&w) {
                    assert_eq!(n.code(), w.code(), "native: {n}; wasm: {w}");
                    assert_eq!(n.to_string(), w.to_string());
                }
                return;
            }
            (Ok(_), Err(w)) if resource_limit(&w) => return,
            (n, w) => panic!(
                "the backends disagree: native {:?}, wasm {:?}",
                n.map(|i| i.len()),
                w.map(|i| i.len())
            ),
        };
        assert_eq!(native.options(), wasm.options());
        assert_eq!(native.len(), wasm.len());
        let dims = native.dims();
        // Queries from the file's own bytes, and one with a constant vector.
        let mut queries: Vec<Vec<f32>> = vec![(0..dims).map(|i| (i % 7) as f32 - 3.0).collect()];
        queries.push(
            (0..dims)
                .map(|i| data.get(i % data.len().max(1)).copied().unwrap_or(0) as f32 / 32.0)
                .collect(),
        );
        for q in &queries {
            for k in [1, 5, native.len().max(1)] {
                let a = native.search(q, k);
                let b = wasm.search(q, k);
                match (&a, &b) {
                    (Ok(a), Ok(b)) => assert!(same_matches(a, b), "search: {a:?} vs {b:?}"),
                    (Err(x), Err(y)) => assert_eq!(x.code(), y.code(), "{x} vs {y}"),
                    (_, Err(y)) if resource_limit(y) => {}
                    _ => panic!("search disagrees: {a:?} vs {b:?}"),
                }
            }
        }
        let saved = native.to_bytes().expect("a loaded index saves");
        match wasm.to_bytes() {
            Ok(w) => assert!(saved == w, "the backends save different bytes"),
            Err(e) => assert!(resource_limit(&e), "wasm save failed: {e}"),
        }
        let again = Index::from_bytes(&pair.native, &saved).expect("saved bytes load again");
        assert_eq!(again.len(), native.len());
    });
}

/// The interpreted backend's module loader: arbitrary module bytes, no SHA-256 expected,
/// small fuel and memory caps. Either the module is refused with a typed error, or the
/// engine runs calls that end in a result or a typed error within the caps.
pub fn module_loader(data: &[u8]) {
    let (flags, module) = data.split_first().unwrap_or((&0, &[]));
    let cap = 4usize << 20;
    let options = InterpretedOptions::new()
        .module(module.to_vec())
        .fuel(Some(1_000_000))
        .memory_limit(Some(cap))
        .host_kernels(flags & 1 == 1);
    let backend = match options.build() {
        Ok(b) => b,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::InvalidModule(_) | Error::OutOfMemory(_) | Error::OutOfFuel { .. }
                ),
                "unexpected refusal: {e:?}"
            );
            return;
        }
    };
    assert!(backend.memory_size() <= cap);
    let engine = Engine::with_backend(backend);
    let a = [1.0f32, 2.0, 3.0, -1.0];
    let b = [0.5f32, -2.0, 1.0, 4.0];
    let _ = engine.dot_f32(&a, &b);
    let _ = engine.l2sq_f32(&a, &b);
    let mut x = a;
    let _ = engine.l2_normalize_f32(&mut x);
    let mut scores = [0.0f32; 2];
    let _ = engine.scan_f32(ferrovec::kernels::Metric::Dot, &a[..2], &a, &mut scores);
    if let Ok(index) = Index::new(&engine, IndexOptions::new(2, IndexMetric::L2sq)) {
        let _ = index.add(1, &[1.0, 0.0]);
        let _ = index.add(2, &[0.0, 1.0]);
        let _ = index.search(&[1.0, 0.0], 2);
        if let Ok(bytes) = index.to_bytes() {
            let _ = Index::from_bytes(&engine, &bytes);
        }
    }
    // A second call after whatever happened: the engine answers (a result or an error).
    let _ = engine.dot_f32(&a, &b);
}

/// The module compiled once per thread, with fuel metering.
struct Compiled {
    engine: WasmEngine,
    module: Module,
    /// The exported functions, sorted by name.
    funcs: Vec<(String, Vec<ValType>)>,
}

thread_local! {
    static MODULE: Compiled = {
        let bytes = bundled_module(BundledModule::Scalar).expect("built with bundled-wasm");
        let mut config = Config::default();
        config.consume_fuel(true).wasm_simd(true);
        let engine = WasmEngine::new(&config);
        let module = Module::new(&engine, bytes).expect("the bundled module compiles");
        let mut funcs: Vec<(String, Vec<ValType>)> = module
            .exports()
            .filter_map(|e| {
                let f = e.ty().func()?;
                Some((e.name().to_string(), f.params().to_vec()))
            })
            .collect();
        funcs.sort_by(|a, b| a.0.cmp(&b.0));
        Compiled { engine, module, funcs }
    };
}

struct Live {
    store: Store<StoreLimits>,
    instance: Instance,
}

fn instantiate(c: &Compiled) -> Live {
    let limits = StoreLimitsBuilder::new()
        .instances(1)
        .memories(1)
        .memory_size(MEMORY_CAP)
        .build();
    let mut store = Store::new(&c.engine, limits);
    store.limiter(|l| l);
    store.set_fuel(1_000_000).expect("fuel is on");
    let instance = Instance::new(&mut store, &c.module, &[]).expect("the module instantiates");
    Live { store, instance }
}

fn call_u32(live: &mut Live, name: &str, args: &[Val]) -> Option<u32> {
    let f = live.instance.get_func(&live.store, name)?;
    let mut out = [Val::I32(0)];
    live.store.set_fuel(1_000_000).expect("fuel is on");
    f.call(&mut live.store, args, &mut out).ok()?;
    out[0].i32().map(|v| v as u32)
}

/// The module is healthy: it reports its ABI version and allocates.
fn check_healthy(live: &mut Live, version: u32) {
    assert_eq!(call_u32(live, "fv_abi_version", &[]), Some(version));
    let p = call_u32(live, "fv_alloc", &[Val::I32(64)]).expect("fv_alloc runs");
    assert_ne!(p, 0, "a fresh instance allocates 64 bytes");
}

/// Random sequences of the module's exports with arbitrary integers for handles, pointers
/// and lengths (biased towards values the module handed out), plus raw writes into its
/// memory, against one instance in wasmi with fuel and a memory cap. Calls may fail or trap;
/// the host never crashes, and after a trap a fresh instance (what the Interpreted backend
/// does) is healthy.
pub fn wasm_abi(data: &[u8]) {
    MODULE.with(|c| {
        let mut input = Input::new(data);
        let mut live = instantiate(c);
        let version = call_u32(&mut live, "fv_abi_version", &[]).expect("fv_abi_version");
        // Values the module returned (handles, pointers, lengths): reused as arguments.
        let mut seen: Vec<u32> = vec![0, 1];
        for _ in 0..64 {
            if input.is_empty() {
                break;
            }
            let op = input.u8();
            if op >= 0xF0 {
                // Write fuzzer bytes into linear memory at a pointer the module handed out.
                let at = seen[input.u8() as usize % seen.len()] as usize;
                let n = input.small(255) as usize;
                let bytes = input.bytes(n);
                let mem = live
                    .instance
                    .get_memory(&live.store, "memory")
                    .expect("memory");
                let _ = mem.write(&mut live.store, at, bytes);
                continue;
            }
            let (name, params) = &c.funcs[op as usize % c.funcs.len()];
            let args: Vec<Val> = params
                .iter()
                .map(|ty| match ty {
                    ValType::I32 => Val::I32(match input.u8() % 4 {
                        0 => seen[input.u8() as usize % seen.len()] as i32,
                        1 => input.small(64) as i32,
                        2 => (seen[input.u8() as usize % seen.len()] as i32)
                            .wrapping_add(input.small(64) as i32),
                        _ => input.u32() as i32,
                    }),
                    ValType::I64 => Val::I64(if input.u8().is_multiple_of(2) {
                        input.small(64) as i64
                    } else {
                        input.u64() as i64
                    }),
                    ValType::F32 => Val::F32(input.f32().into()),
                    ValType::F64 => Val::F64(input.f64().into()),
                    _ => Val::I32(0),
                })
                .collect();
            let f = live
                .instance
                .get_func(&live.store, name)
                .expect("an export");
            let n_results = f.ty(&live.store).results().len();
            let mut out = vec![Val::I32(0); n_results];
            live.store.set_fuel(5_000_000).expect("fuel is on");
            match f.call(&mut live.store, &args, &mut out) {
                Ok(()) => {
                    for v in &out {
                        if let Some(x) = v.i32() {
                            seen.push(x as u32);
                        }
                    }
                    if seen.len() > 64 {
                        seen.drain(2..34);
                    }
                }
                Err(_) => {
                    // A trap (or out of fuel) leaves the instance in an unknown state: the
                    // backend discards it and instantiates afresh, which must work.
                    live = instantiate(c);
                    check_healthy(&mut live, version);
                }
            }
        }
        check_healthy(&mut instantiate(c), version);
    });
}
