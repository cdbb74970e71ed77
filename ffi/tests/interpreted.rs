//! The Interpreted backend: the real modules against the native kernels, fuel and memory
//! limits (and that the engine keeps working after hitting them), and every way a module is
//! refused. The golden cases are in `parity.rs`.

mod interpreted_support;

use std::sync::Arc;

use ferrovec::backend::{
    bundled_module, Backend, BackendKind, BundledModule, Interpreted, InterpretedOptions, Native,
};
use ferrovec::kernels::{Isa, Kernels, Metric};
use ferrovec::{Engine, Error};
use interpreted_support::{built_module, FakeModule};

const MODULES: [BundledModule; 2] = [BundledModule::Scalar, BundledModule::Simd];

fn interpreted(which: BundledModule) -> Option<Interpreted> {
    let bytes = built_module(which)?;
    Some(
        InterpretedOptions::new()
            .module(bytes)
            .build()
            .expect("the built module loads"),
    )
}

/// Deterministic pseudo-random numbers (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.unit()).collect()
    }
    fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.next() as i8).collect()
    }
    fn u8s(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn invalid_module(result: ferrovec::Result<Interpreted>) -> String {
    match result {
        Err(Error::InvalidModule(message)) => message,
        other => panic!("expected InvalidModule, got {other:?}"),
    }
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
    check::<Interpreted>();
    check::<Native>();
}

#[test]
fn real_modules_report_abi_and_capabilities() {
    for which in MODULES {
        let Some(backend) = interpreted(which) else {
            continue;
        };
        let info = backend.info();
        assert_eq!(info.abi_version, 3);
        // The kernel modules carry the index (bit 1) and its model id (bit 4), not the
        // solver (bit 2).
        assert_eq!(info.capabilities & !1, 2 | 16, "{info:?}");
        assert_eq!(info.simd128(), which == BundledModule::Simd, "{info:?}");
        assert_eq!(backend.kind(), BackendKind::Interpreted);
        assert!(backend.describe().starts_with("interpreted"));
        assert!(backend.memory_size() as u64 >= info.initial_memory);
    }
}

/// The wasm kernels keep the scalar kernel's lanes and order (core/src/kernels/wasm32), so
/// both modules must give the native scalar table's bits exactly, for every kernel.
#[test]
fn every_kernel_matches_native_scalar_bit_for_bit() {
    let scalar = Native::with_isa(Isa::Scalar).unwrap();
    let mut rng = Rng(7);
    for which in MODULES {
        let Some(wasm) = interpreted(which) else {
            continue;
        };
        for n in [0, 1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 384, 1001] {
            let (a, b) = (rng.f32s(n), rng.f32s(n));
            let ctx = format!("{which:?} n={n}");
            let same = |x: f32, y: f32| x.to_bits() == y.to_bits();
            let (w, s) = (
                wasm.dot_f32(&a, &b).unwrap(),
                scalar.dot_f32(&a, &b).unwrap(),
            );
            assert!(same(w, s), "dot {ctx}: {w} vs {s}");
            let (w, s) = (
                wasm.cosine_distance_f32(&a, &b).unwrap(),
                scalar.cosine_distance_f32(&a, &b).unwrap(),
            );
            assert!(same(w, s), "cosine {ctx}: {w} vs {s}");
            let (w, s) = (
                wasm.l2sq_f32(&a, &b).unwrap(),
                scalar.l2sq_f32(&a, &b).unwrap(),
            );
            assert!(same(w, s), "l2sq {ctx}: {w} vs {s}");

            let (mut xw, mut xs) = (a.clone(), a.clone());
            let (w, s) = (
                wasm.l2_normalize_f32(&mut xw).unwrap(),
                scalar.l2_normalize_f32(&mut xs).unwrap(),
            );
            assert!(same(w, s), "normalize {ctx}: {w} vs {s}");
            assert!(
                xw.iter().zip(&xs).all(|(p, q)| same(*p, *q)),
                "normalize {ctx}"
            );

            let (ia, ib) = (rng.i8s(n), rng.i8s(n));
            assert_eq!(wasm.dot_i8(&ia, &ib), scalar.dot_i8(&ia, &ib), "{ctx}");
            assert_eq!(wasm.l2sq_i8(&ia, &ib), scalar.l2sq_i8(&ia, &ib), "{ctx}");
            let (ba, bb) = (rng.u8s(n), rng.u8s(n));
            assert_eq!(
                wasm.hamming_b1(&ba, &bb),
                scalar.hamming_b1(&ba, &bb),
                "{ctx}"
            );
            let (w, s) = (
                wasm.jaccard_b1(&ba, &bb).unwrap(),
                scalar.jaccard_b1(&ba, &bb).unwrap(),
            );
            assert!(same(w, s), "jaccard {ctx}: {w} vs {s}");
        }
        for (dims, n_rows) in [(0, 3), (1, 0), (5, 9), (16, 13), (384, 37)] {
            let query = rng.f32s(dims);
            let rows = rng.f32s(dims * n_rows);
            for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
                let mut w = vec![f32::NAN; n_rows];
                let mut s = vec![f32::NAN; n_rows];
                wasm.scan_f32(metric, &query, &rows, &mut w).unwrap();
                scalar.scan_f32(metric, &query, &rows, &mut s).unwrap();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&w), bits(&s), "{which:?} {metric:?} dims={dims}");
            }
        }
    }
}

#[test]
fn nan_inputs_give_nan_not_an_error() {
    for which in MODULES {
        let Some(wasm) = interpreted(which) else {
            continue;
        };
        let a = [1.0, f32::NAN, 3.0];
        assert!(wasm.dot_f32(&a, &[1.0; 3]).unwrap().is_nan());
        assert!(wasm.cosine_distance_f32(&a, &[1.0; 3]).unwrap().is_nan());
        let mut out = [0.0; 2];
        wasm.scan_f32(Metric::L2sq, &[1.0; 3], &[a, [0.0; 3]].concat(), &mut out)
            .unwrap();
        assert!(out[0].is_nan() && out[1] == 3.0, "{out:?}");
    }
}

/// Bad arguments fail on the host with exactly the core's error, and leave outputs alone.
#[test]
fn bad_arguments_fail_like_native() {
    let native = Native::new();
    for which in MODULES {
        let Some(wasm) = interpreted(which) else {
            continue;
        };
        let both: [&dyn Backend; 2] = [&native, &wasm];
        let errors: Vec<Vec<Error>> = both
            .iter()
            .map(|b| {
                let mut out = [7.0f32; 2];
                let mut errs = vec![
                    b.dot_f32(&[1.0; 3], &[1.0; 2]).unwrap_err(),
                    b.cosine_distance_f32(&[1.0; 1], &[1.0; 2]).unwrap_err(),
                    b.l2sq_f32(&[], &[1.0]).unwrap_err(),
                    b.dot_i8(&[1; 4], &[1; 5]).unwrap_err(),
                    b.l2sq_i8(&[1; 4], &[]).unwrap_err(),
                    b.hamming_b1(&[1; 4], &[1; 3]).unwrap_err(),
                    b.jaccard_b1(&[1; 2], &[1; 3]).unwrap_err(),
                    b.scan_f32(Metric::Dot, &[1.0; 3], &[1.0; 5], &mut out)
                        .unwrap_err(),
                    b.scan_f32(Metric::Cosine, &[], &[1.0], &mut out)
                        .unwrap_err(),
                ];
                assert_eq!(out, [7.0; 2], "out written on error by {}", b.describe());
                // n_rows * dims overflows only with a huge (fake) query; use an empty rows
                // slice and a query longer than usize::MAX / n_rows cannot exist, so check the
                // mismatch path with many rows instead.
                let mut many = vec![0.0f32; 1000];
                errs.push(
                    b.scan_f32(Metric::L2sq, &[1.0; 2], &[1.0; 1999], &mut many)
                        .unwrap_err(),
                );
                errs
            })
            .collect();
        assert_eq!(errors[0], errors[1], "{which:?}");
        assert!(matches!(
            errors[1][0],
            Error::DimensionMismatch {
                expected: 3,
                actual: 2
            }
        ));
    }
}

#[test]
fn concurrent_calls_on_one_engine_are_correct() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let engine = Arc::new(Engine::interpreted(&InterpretedOptions::new().module(bytes)).unwrap());
    let native = Kernels::for_isa(Isa::Scalar).unwrap();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let mut rng = Rng(100 + t);
                for i in 0..50 {
                    let n = 1 + (i * 37 + t as usize * 11) % 300;
                    let (a, b) = (rng.f32s(n), rng.f32s(n));
                    let got = engine.l2sq_f32(&a, &b).unwrap();
                    assert_eq!(got.to_bits(), native.l2sq_f32(&a, &b).unwrap().to_bits());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn out_of_fuel_is_an_error_and_the_engine_recovers() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let budget = 20_000;
    let engine =
        Engine::interpreted(&InterpretedOptions::new().module(bytes).fuel(Some(budget))).unwrap();
    let small = [1.0f32, 2.0, 3.0];
    assert_eq!(engine.dot_f32(&small, &small).unwrap(), 14.0);

    let big = vec![0.5f32; 200_000];
    assert_eq!(
        engine.dot_f32(&big, &big),
        Err(Error::OutOfFuel { budget }),
        "a 200k dot cannot fit {budget} fuel"
    );
    // The instance was abandoned mid-call; the next call gets a fresh one.
    assert_eq!(engine.dot_f32(&small, &small).unwrap(), 14.0);

    let rows = vec![0.25f32; 384 * 500];
    let mut out = vec![-1.0f32; 500];
    assert_eq!(
        engine.scan_f32(Metric::Dot, &big[..384], &rows, &mut out),
        Err(Error::OutOfFuel { budget })
    );
    assert!(
        out.iter().all(|&x| x == -1.0),
        "out written by a failed scan"
    );
    let mut x = big[..50_000].to_vec();
    assert_eq!(
        engine.l2_normalize_f32(&mut x),
        Err(Error::OutOfFuel { budget })
    );
    assert!(
        x.iter().all(|&v| v == 0.5),
        "x changed by a failed normalize"
    );
    assert_eq!(engine.hamming_b1(&[0xff, 0], &[0, 0]).unwrap(), 8);
    let message = Error::OutOfFuel { budget }.to_string();
    assert!(message.contains("20000"), "{message}");
}

#[test]
fn enough_fuel_runs_to_the_end() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let engine = Engine::interpreted(
        &InterpretedOptions::new()
            .module(bytes)
            .fuel(Some(100_000_000)),
    )
    .unwrap();
    let big = vec![0.5f32; 200_000];
    assert_eq!(engine.dot_f32(&big, &big).unwrap(), 50_000.0);
}

/// An endless loop in the module stops at the budget. This is the loop wasmi issue 2039 is
/// about (a stack overflow instead of a trap in optimized builds with debug assertions);
/// `make test` runs it in debug and release.
#[test]
fn an_endless_loop_stops_at_the_budget() {
    let wasm = FakeModule {
        dot_body: "(loop $l (br $l)) (f32.const 0)",
        ..FakeModule::default()
    }
    .wasm();
    let budget = 5_000_000;
    let backend = InterpretedOptions::new()
        .module(wasm)
        .fuel(Some(budget))
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            backend.dot_f32(&[1.0], &[2.0]),
            Err(Error::OutOfFuel { budget })
        );
    }
    // Other exports of the re-instantiated module still work.
    assert_eq!(backend.dot_i8(&[1], &[2]), Ok(0));
}

#[test]
fn the_memory_cap_is_an_error_and_the_engine_recovers() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let probe = InterpretedOptions::new()
        .module(bytes.clone())
        .build()
        .unwrap();
    let cap = probe.info().initial_memory as usize + (2 << 20);
    let backend = InterpretedOptions::new()
        .module(bytes)
        .memory_limit(Some(cap))
        .build()
        .unwrap();
    let fits = vec![1.0f32; 100_000]; // 2 x 400 KB
    assert_eq!(backend.dot_f32(&fits, &fits).unwrap(), 100_000.0);
    let too_big = vec![1.0f32; 1 << 20]; // 2 x 4 MiB
    match backend.dot_f32(&too_big, &too_big) {
        Err(Error::OutOfMemory(message)) => {
            assert!(message.contains(&format!("capped at {cap}")), "{message}")
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    assert!(backend.memory_size() <= cap);
    assert_eq!(backend.dot_f32(&fits, &fits).unwrap(), 100_000.0);
    assert_eq!(backend.dot_f32(&[3.0], &[4.0]).unwrap(), 12.0);

    let below = probe.info().initial_memory as usize - 1;
    match InterpretedOptions::new()
        .module(built_module(BundledModule::Simd).unwrap())
        .memory_limit(Some(below))
        .build()
    {
        Err(Error::OutOfMemory(message)) => assert!(message.contains("initial memory")),
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
}

#[test]
fn malformed_modules_are_refused() {
    for bytes in [
        Vec::new(),
        b"not wasm at all".to_vec(),
        b"\0asm\x01\0\0\0\x01".to_vec(),
    ] {
        let message = invalid_module(InterpretedOptions::new().module(bytes).build());
        assert!(message.contains("not a valid wasm module"), "{message}");
    }
    if let Some(mut bytes) = built_module(BundledModule::Simd) {
        bytes.truncate(bytes.len() / 2);
        let message = invalid_module(InterpretedOptions::new().module(bytes).build());
        assert!(message.contains("not a valid wasm module"), "{message}");
    }
}

#[test]
fn modules_with_imports_are_refused() {
    let wasm = FakeModule {
        import: true,
        ..FakeModule::default()
    }
    .wasm();
    let message = invalid_module(InterpretedOptions::new().module(wasm).build());
    assert!(message.contains("imports `env`.`clock`"), "{message}");
}

#[test]
fn modules_with_a_start_function_are_refused() {
    let wasm = FakeModule {
        start: true,
        ..FakeModule::default()
    }
    .wasm();
    let message = invalid_module(InterpretedOptions::new().module(wasm).build());
    assert!(message.contains("not a valid wasm module"), "{message}");
}

#[test]
fn modules_missing_an_export_are_refused() {
    for name in ["fv_scan_f32", "fv_alloc", "fv_last_error", "fv_abi_version"] {
        let wasm = FakeModule {
            skip: Some(name),
            ..FakeModule::default()
        }
        .wasm();
        let message = invalid_module(InterpretedOptions::new().module(wasm).build());
        assert!(message.contains(&format!("`{name}`")), "{name}: {message}");
    }
    let wasm = FakeModule {
        skip: Some("memory"),
        ..FakeModule::default()
    }
    .wasm();
    let message = invalid_module(InterpretedOptions::new().module(wasm).build());
    assert!(message.contains("`memory`"), "{message}");
}

#[test]
fn an_export_with_the_wrong_signature_is_refused() {
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "fv_abi_version") (result i64) (i64.const 1)))"#,
    )
    .unwrap();
    let message = invalid_module(InterpretedOptions::new().module(wasm).build());
    assert!(message.contains("`fv_abi_version`"), "{message}");
}

#[test]
fn other_abi_versions_are_refused() {
    // 1: the kernel-only ABI before indexes; 2: before the solver; a v3 host refuses them.
    for abi in [0, 1, 2, 4, 0xffff_ffff] {
        let wasm = FakeModule {
            abi,
            ..FakeModule::default()
        }
        .wasm();
        let message = invalid_module(InterpretedOptions::new().module(wasm).build());
        assert!(
            message.contains(&format!("ABI version {abi}")),
            "{abi}: {message}"
        );
    }
    // The fake module itself is fine at version 3.
    let ok = InterpretedOptions::new()
        .module(FakeModule::default().wasm())
        .build()
        .unwrap();
    assert_eq!(ok.dot_f32(&[1.0], &[1.0]), Ok(42.0));
}

#[test]
fn the_expected_sha256_is_enforced() {
    let wasm = FakeModule::default().wasm();
    let probe = InterpretedOptions::new()
        .module(wasm.clone())
        .build()
        .unwrap();
    let digest = probe.info().sha256;
    InterpretedOptions::new()
        .module(wasm.clone())
        .expect_sha256(digest)
        .build()
        .expect("the right digest loads");
    let mut wrong = digest;
    wrong[31] ^= 1;
    let message = invalid_module(
        InterpretedOptions::new()
            .module(wasm)
            .expect_sha256(wrong)
            .build(),
    );
    assert!(message.contains(&probe.info().sha256_hex()), "{message}");
    assert!(message.contains("SHA-256"), "{message}");
}

/// The backend tells every instance it makes (the first, and the one after a trap) that an
/// interpreter runs it, so the module's scans take wasmi's loop shape (wasm/README.md,
/// `fv_set_engine_hint`). The fake module's dot returns the last hint it was given.
#[test]
fn every_instance_gets_the_interpreter_engine_hint() {
    let wasm = FakeModule {
        dot_body: "(if (i32.eq (local.get $n) (i32.const 2)) (then unreachable)) \
                   (f32.convert_i32_s (global.get $hint))",
        extra: "(global $hint (mut i32) (i32.const -1))\n\
                (func (export \"fv_set_engine_hint\") (param i32) (result i32) \
                 (global.set $hint (local.get 0)) (i32.const 0))\n",
        ..FakeModule::default()
    }
    .wasm();
    let backend = InterpretedOptions::new().module(wasm).build().unwrap();
    assert_eq!(backend.dot_f32(&[1.0], &[3.0]), Ok(1.0));
    assert!(matches!(
        backend.dot_f32(&[1.0, 2.0], &[3.0, 4.0]),
        Err(Error::Trap(_))
    ));
    assert_eq!(backend.dot_f32(&[1.0], &[3.0]), Ok(1.0), "the new instance");
}

#[test]
fn a_trap_is_an_error_and_the_engine_recovers() {
    let wasm = FakeModule {
        dot_body: "(if (i32.eq (local.get $n) (i32.const 2)) (then unreachable)) (f32.const 1)",
        ..FakeModule::default()
    }
    .wasm();
    let backend = InterpretedOptions::new().module(wasm).build().unwrap();
    match backend.dot_f32(&[1.0, 2.0], &[3.0, 4.0]) {
        Err(Error::Trap(message)) => assert!(message.contains("unreachable"), "{message}"),
        other => panic!("expected Trap, got {other:?}"),
    }
    assert_eq!(backend.memory_size(), 0, "the trapped instance is gone");
    assert_eq!(backend.dot_f32(&[1.0], &[3.0]), Ok(1.0));
}

#[test]
fn a_module_breaking_the_abi_cannot_hurt_the_host() {
    // fv_alloc hands out a block past the end of memory.
    let wasm = FakeModule {
        alloc_body: Some("(i32.const -64)"),
        ..FakeModule::default()
    }
    .wasm();
    let backend = InterpretedOptions::new().module(wasm).build().unwrap();
    match backend.dot_f32(&[1.0], &[2.0]) {
        Err(Error::Trap(message)) => assert!(message.contains("past the end"), "{message}"),
        other => panic!("expected Trap, got {other:?}"),
    }
    // fv_alloc always fails: an OutOfMemory carrying the module's message.
    let wasm = FakeModule {
        alloc_body: Some("(i32.const 0)"),
        message: "invalid argument: no room",
        ..FakeModule::default()
    }
    .wasm();
    let backend = InterpretedOptions::new().module(wasm).build().unwrap();
    match backend.l2sq_f32(&[1.0], &[2.0]) {
        Err(Error::OutOfMemory(message)) => assert!(message.contains("no room"), "{message}"),
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
}

#[test]
fn a_module_error_is_not_mistaken_for_a_nan_result() {
    let wasm = FakeModule {
        dot_body: "(f32.const nan)",
        message: "invalid argument: `a` is out of bounds",
        ..FakeModule::default()
    }
    .wasm();
    let backend = InterpretedOptions::new().module(wasm).build().unwrap();
    assert_eq!(
        backend.dot_f32(&[1.0], &[2.0]),
        Err(Error::InvalidArgument("`a` is out of bounds".into()))
    );
    // The same NaN with no message is a result.
    let wasm = FakeModule {
        dot_body: "(f32.const nan)",
        ..FakeModule::default()
    }
    .wasm();
    let backend = InterpretedOptions::new().module(wasm).build().unwrap();
    assert!(backend.dot_f32(&[1.0], &[2.0]).unwrap().is_nan());
}

#[test]
fn options_are_checked() {
    let err = InterpretedOptions::new()
        .module(FakeModule::default().wasm())
        .fuel(Some(0))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[test]
fn the_bundled_module_is_there_exactly_with_the_feature() {
    let result = InterpretedOptions::new().build();
    if cfg!(feature = "bundled-wasm") {
        let backend = result.expect("the bundled simd module loads");
        assert!(backend.info().simd128());
        assert!(bundled_module(BundledModule::Scalar).is_some());
        if let Some(built) = built_module(BundledModule::Simd) {
            assert_eq!(
                bundled_module(BundledModule::Simd).unwrap(),
                &built[..],
                "the library embeds a stale module: rebuild it"
            );
        }
    } else {
        match result {
            Err(Error::InvalidArgument(message)) => {
                assert!(message.contains("bundled-wasm"), "{message}")
            }
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
        assert!(bundled_module(BundledModule::Simd).is_none());
    }
}

#[test]
fn engine_dispatches_to_its_backend() {
    let native = Engine::native();
    assert_eq!(native.kind(), BackendKind::Native);
    assert_eq!(native.dot_f32(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), 11.0);
    let hits = native.top_k(&[3.0, 1.0, 2.0], 2);
    assert_eq!((hits[0].index, hits[1].index), (1, 2));
    for isa in Isa::ALL {
        match Engine::native_with_isa(isa) {
            Ok(engine) => assert!(engine.backend().describe().contains(isa.name())),
            Err(err) => assert_eq!(err, Error::UnsupportedIsa(isa.name().to_string())),
        }
    }
    let fake = Engine::interpreted(&InterpretedOptions::new().module(FakeModule::default().wasm()))
        .unwrap();
    assert_eq!(fake.kind(), BackendKind::Interpreted);
    assert_eq!(fake.dot_f32(&[1.0], &[1.0]).unwrap(), 42.0);
}

#[test]
fn sandbox_status_codes_match_core_errors() {
    use ferrovec::capi::{
        FV_ERR_INVALID_MODULE, FV_ERR_OUT_OF_FUEL, FV_ERR_OUT_OF_MEMORY, FV_ERR_TRAP,
    };
    let pairs = [
        (FV_ERR_INVALID_MODULE, Error::InvalidModule(String::new())),
        (FV_ERR_OUT_OF_FUEL, Error::OutOfFuel { budget: 1 }),
        (FV_ERR_OUT_OF_MEMORY, Error::OutOfMemory(String::new())),
        (FV_ERR_TRAP, Error::Trap(String::new())),
    ];
    for (code, err) in pairs {
        assert_eq!(code, err.code(), "{err:?}");
    }
}

/// fuzz/README.md, finding 3: wasmi 2.0.0 translates an operator that follows a function's
/// final `end` before its validator refuses it at the end of the body, and with fuel
/// metering its translator then hits `debug_assert!(!self.is_empty())` on the empty control
/// stack (`ControlStack::fuel_pos`). Release builds skip the assertion and refuse the
/// module; in debug builds (this test's) the loader catches the panic. Either way: a clean
/// `InvalidModule`, and loading works afterwards.
#[test]
fn an_operator_after_the_final_end_is_refused_not_a_panic() {
    let module: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
        0x03, 0x02, 0x01, 0x00, // functions: one of type 0
        0x0a, 0x07, 0x01, 0x05, 0x00, // code: one body of 5 bytes, no locals
        0x0b, 0x41, 0x00, 0x0b, // end, then i32.const 0, end
    ];
    for fuel in [Some(1_000_000), None] {
        let message = invalid_module(
            InterpretedOptions::new()
                .module(module.to_vec())
                .fuel(fuel)
                .build(),
        );
        assert!(
            message.starts_with("not a valid wasm module: "),
            "{message}"
        );
    }
    if let Some(bytes) = built_module(BundledModule::Scalar) {
        InterpretedOptions::new()
            .module(bytes)
            .build()
            .expect("a good module still loads");
    }
}
