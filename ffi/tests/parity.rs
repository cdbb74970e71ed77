//! Parity: every golden case of `tests/golden/kernels.json` (schema and tolerance rule in
//! `tests/golden/README.md`) on every backend this machine has: Native at every kernel
//! table it runs ([`Kernels::variants`]), and Interpreted with the scalar and the simd
//! module. f32 results within the case's tolerance, integer results exactly.

mod interpreted_support;

use std::collections::BTreeMap;

use ferrovec::backend::{Backend, BundledModule, InterpretedOptions, Native};
use ferrovec::kernels::{Kernels, Metric};
use interpreted_support::built_module;
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/kernels.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("golden file is JSON");
    assert_eq!(doc["format"], "ferrovec-golden-kernels");
    assert_eq!(doc["version"], 1, "this runner reads format version 1");
    doc
}

/// A JSON number or one of the strings for non-finite values, as f64.
fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("a number"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

/// f32 inputs are written exactly (README: "f32 values"), so `as f32` is exact.
fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| number(x) as f32)
        .collect()
}

fn ints<T: TryFrom<i64>>(v: &Value) -> Vec<T> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| {
            let i = x.as_i64().expect("an integer");
            T::try_from(i).unwrap_or_else(|_| panic!("{i} out of range"))
        })
        .collect()
}

/// The README's comparison rule for one f32 result; `None` if it passes.
fn check_f32(got: f32, expected: &Value, tol: Option<&Value>) -> Option<String> {
    let got = f64::from(got);
    let want = number(expected);
    let ok = if want.is_nan() {
        got.is_nan()
    } else if want.is_infinite() {
        got == want
    } else {
        let tol = tol
            .map(number)
            .expect("finite f32 expectations carry a tol");
        !got.is_nan() && (got - want).abs() <= tol
    };
    (!ok).then(|| format!("got {got:e}, expected {want:e} (tol {:?})", tol.map(number)))
}

/// Runs one case; `None` if it passes, else what went wrong.
fn run_case(backend: &dyn Backend, case: &Value) -> Option<String> {
    let op = case["op"].as_str().expect("op");
    let expected = &case["expected"];
    let tol = case.get("tol");
    let exact = |got: i64| {
        let want = expected.as_i64().expect("integer expectation");
        (got != want).then(|| format!("got {got}, expected {want}"))
    };
    let result = match op {
        "dot_f32" | "cosine_distance_f32" | "l2sq_f32" => {
            let (a, b) = (f32s(&case["a"]), f32s(&case["b"]));
            let got = match op {
                "dot_f32" => backend.dot_f32(&a, &b),
                "cosine_distance_f32" => backend.cosine_distance_f32(&a, &b),
                _ => backend.l2sq_f32(&a, &b),
            };
            got.map(|g| check_f32(g, expected, tol))
        }
        "dot_i8" => {
            let (a, b) = (ints::<i8>(&case["a"]), ints::<i8>(&case["b"]));
            backend.dot_i8(&a, &b).map(|g| exact(g.into()))
        }
        "l2sq_i8" => {
            let (a, b) = (ints::<i8>(&case["a"]), ints::<i8>(&case["b"]));
            backend.l2sq_i8(&a, &b).map(|g| exact(g.into()))
        }
        "hamming_b1" => {
            let (a, b) = (ints::<u8>(&case["a"]), ints::<u8>(&case["b"]));
            backend.hamming_b1(&a, &b).map(|g| exact(g.into()))
        }
        "jaccard_b1" => {
            let (a, b) = (ints::<u8>(&case["a"]), ints::<u8>(&case["b"]));
            backend
                .jaccard_b1(&a, &b)
                .map(|g| check_f32(g, expected, tol))
        }
        "scan_f32" => {
            let metric = Metric::from_code(case["metric"].as_i64().expect("metric") as i32)
                .expect("a known metric");
            let n_rows = case["n_rows"].as_u64().expect("n_rows") as usize;
            let dims = case["dims"].as_u64().expect("dims") as usize;
            let (query, rows) = (f32s(&case["query"]), f32s(&case["rows"]));
            assert_eq!((query.len(), rows.len()), (dims, n_rows * dims));
            let expected = expected.as_array().expect("expected array");
            let tols = tol.and_then(Value::as_array);
            assert_eq!(expected.len(), n_rows);
            let mut out = vec![f32::NAN; n_rows];
            backend.scan_f32(metric, &query, &rows, &mut out).map(|()| {
                let bad: Vec<String> = out
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &got)| {
                        let row_tol = tols.map(|t| &t[i]).filter(|t| !t.is_null());
                        check_f32(got, &expected[i], row_tol).map(|m| format!("row {i}: {m}"))
                    })
                    .collect();
                (!bad.is_empty()).then(|| bad.join("; "))
            })
        }
        other => panic!("unknown op `{other}` in the golden file"),
    };
    match result {
        Ok(verdict) => verdict,
        Err(err) => Some(format!("error: {err}")),
    }
}

#[test]
fn every_golden_case_on_every_backend() {
    let doc = golden();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() > 100, "only {} golden cases", cases.len());

    let mut backends: Vec<(String, Box<dyn Backend>)> = Kernels::variants()
        .map(|k| {
            let backend: Box<dyn Backend> = Box::new(Native::with_kernels(k));
            (format!("native {}", k.variant()), backend)
        })
        .collect();
    for which in [BundledModule::Scalar, BundledModule::Simd] {
        if let Some(bytes) = built_module(which) {
            let backend = InterpretedOptions::new()
                .module(bytes)
                .build()
                .expect("the built module loads");
            assert_eq!(backend.info().simd128(), which == BundledModule::Simd);
            let backend: Box<dyn Backend> = Box::new(backend);
            backends.push((format!("interpreted {}", which.file_name()), backend));
        }
    }

    let mut failures = Vec::new();
    let mut per_op: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        *per_op.entry(case["op"].as_str().expect("op")).or_default() += 1;
    }
    for (name, backend) in &backends {
        for case in cases {
            let case_name = case["name"].as_str().expect("name");
            if let Some(what) = run_case(backend.as_ref(), case) {
                failures.push(format!("{name}: {case_name}: {what}"));
            }
        }
    }
    eprintln!(
        "parity: {} cases x {} backends ({}); per op: {per_op:?}",
        cases.len(),
        backends.len(),
        backends
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every ABI kernel is covered.
    for op in [
        "dot_f32",
        "cosine_distance_f32",
        "l2sq_f32",
        "dot_i8",
        "l2sq_i8",
        "hamming_b1",
        "jaccard_b1",
        "scan_f32",
    ] {
        assert!(per_op.contains_key(op), "no golden case for {op}");
    }
}

/// The checker itself: a result outside the tolerance, a wrong integer, and a NaN where a
/// number is expected must all fail.
#[test]
fn the_comparison_rule_rejects_wrong_results() {
    let num = |x: f64| Value::from(x);
    assert!(check_f32(1.0, &num(1.0), Some(&num(0.0))).is_none());
    assert!(check_f32(1.001, &num(1.0), Some(&num(1e-4))).is_some());
    assert!(check_f32(f32::NAN, &num(1.0), Some(&num(1e9))).is_some());
    assert!(check_f32(f32::NAN, &Value::from("NaN"), None).is_none());
    assert!(check_f32(1.0, &Value::from("NaN"), None).is_some());
    assert!(check_f32(f32::INFINITY, &Value::from("Infinity"), None).is_none());
    assert!(check_f32(f32::NEG_INFINITY, &Value::from("Infinity"), None).is_some());

    let doc = golden();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["op"] == "hamming_b1" && c["expected"].as_i64().unwrap_or(0) > 0)
        .expect("a non-trivial hamming case")
        .clone();
    let mut broken = case.clone();
    broken["expected"] = Value::from(case["expected"].as_i64().unwrap() + 1);
    assert!(run_case(&Native::new(), &case).is_none());
    assert!(run_case(&Native::new(), &broken).is_some());
}
