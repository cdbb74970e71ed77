//! The golden solver cases (tests/golden/solver.json, schema in tests/golden/README.md) on
//! every backend this machine has: native (at the kernel level `FERROVEC_ISA` forces;
//! `make test-rust` runs this once per level) and the Interpreted backend with the scalar
//! and the simd solver modules. Each result must match the file within its tolerance
//! (1e-12 relative for floating-point fields, counts and flags exactly), and the seeded
//! random-walk methods (`solve_entry` / `solve_functional` with walks, `pair`) must give
//! exactly the same numbers on every backend in this run.

mod index_support;
#[path = "../../tests/golden/solver_cases.rs"]
mod solver_cases;

use ferrovec::backend::{BundledModule, InterpretedOptions};
use ferrovec::Engine;
use index_support::built_module;
use serde_json::Value;
use solver_cases::{compare, run_case};

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/solver.json");
    let text = std::fs::read_to_string(path).expect("tests/golden/solver.json");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["format"], "ferrovec-golden-solver");
    assert_eq!(v["version"], 1);
    v
}

fn engines() -> Vec<(String, Engine)> {
    let mut out = vec![("native".to_string(), Engine::native())];
    for which in [BundledModule::Scalar, BundledModule::Simd] {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/wasm")
            .join(which.solver_file_name());
        let (Some(kernels), Ok(solver)) = (built_module(which), std::fs::read(&path)) else {
            let required = std::env::var_os("FERROVEC_REQUIRE_WASM").is_some_and(|v| v == "1");
            assert!(!required, "{} is required: run `make wasm`", path.display());
            eprintln!("SKIPPING {}: not built (run `make wasm`)", path.display());
            continue;
        };
        let options = InterpretedOptions::new()
            .module(kernels)
            .solver_module(solver);
        let engine = Engine::interpreted(&options).expect("the built modules load");
        out.push((format!("interpreted {}", which.solver_file_name()), engine));
    }
    out
}

/// Whether an op draws random walks (its results must be identical on every backend).
fn seeded(op: &Value) -> bool {
    op["op"] == "pair" || op["options"]["walks"].as_u64().is_some_and(|w| w > 0)
}

#[test]
fn every_case_on_every_backend() {
    let file = golden();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    let engines = engines();
    let (mut checked, mut seeded_checked) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let ops = case["ops"].as_array().unwrap();
        let mut first: Option<Vec<Value>> = None;
        for (backend, engine) in &engines {
            let results =
                run_case(engine, case).unwrap_or_else(|e| panic!("{name} on {backend}: {e}"));
            for (op, got) in ops.iter().zip(&results) {
                let what = format!("{name} {} on {backend}", op["op"]);
                if let Err(diff) = compare("", got, &op["expected"]) {
                    panic!("{what}: {diff}");
                }
                checked += 1;
            }
            match &first {
                None => first = Some(results),
                Some(reference) => {
                    for ((op, got), want) in ops.iter().zip(&results).zip(reference) {
                        if seeded(op) {
                            assert_eq!(
                                got, want,
                                "{name} {}: seeded walks differ between {backend} and native",
                                op["op"]
                            );
                            seeded_checked += 1;
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "golden solver: {checked} results checked on {} backends, {seeded_checked} seeded results identical across backends",
        engines.len()
    );
    assert!(checked > 0);
}
