//! Parity of every module build the Interpreted backend runs, beyond `parity.rs`:
//!
//! * the scan of the import-free modules (scalar and simd128) gives the native scalar
//!   table's bits for query lengths around every block boundary of the simd128 scan
//!   (128-element query blocks, 32-row groups, row pairs) and for NaN rows;
//! * the host-kernels build (`ferrovec-host.wasm`, whose hot kernels are imports the
//!   backend supplies from the native kernels) passes every golden case of
//!   `tests/golden/kernels.json` and gives the native backend's bits on every pairwise
//!   kernel (its scans within the documented error bound).
//!
//! Modules come from `target/wasm/` (`make wasm`) or `$FERROVEC_WASM_DIR`; a missing one is
//! skipped loudly, or fails the test under `FERROVEC_REQUIRE_WASM=1` (`make test`).

use std::path::PathBuf;

use ferrovec::backend::{Backend, InterpretedOptions, Native};
use ferrovec::kernels::{Isa, Metric};
use serde_json::Value;

const SCALAR: &str = "ferrovec.wasm";
const SIMD: &str = "ferrovec-simd.wasm";
const HOST: &str = "ferrovec-host.wasm";

fn module(file: &str) -> Option<Vec<u8>> {
    let dir = std::env::var_os("FERROVEC_WASM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm"));
    let path = dir.join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            let required = std::env::var_os("FERROVEC_REQUIRE_WASM").is_some_and(|v| v == "1");
            assert!(
                !required,
                "{} is required but unreadable: {err}",
                path.display()
            );
            eprintln!(
                "SKIPPING checks that need {}: {err} (run `make wasm`)",
                path.display()
            );
            None
        }
    }
}

fn interpreted(file: &str) -> Option<Box<dyn Backend>> {
    let bytes = module(file)?;
    let options = InterpretedOptions::new()
        .module(bytes)
        .host_kernels(file == HOST);
    Some(Box::new(
        options.build().unwrap_or_else(|e| panic!("{file}: {e}")),
    ))
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 32) as u8).collect()
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Scans of every shape the simd128 scan splits differently, against `reference`: the same
/// bits if `exact`, else within the core's documented error bound (the native scans handle
/// a row differently depending on its position in a 4-row block, and the Interpreted backend
/// hands the rows to the module in chunks, so native and host-kernel scans may differ in the
/// last bits).
fn check_scan_shapes(name: &str, backend: &dyn Backend, reference: &dyn Backend, exact: bool) {
    let mut rng = Rng(11);
    let dims_list = [
        1, 2, 3, 4, 5, 7, 8, 9, 31, 127, 128, 129, 255, 256, 257, 384, 387, 520,
    ];
    let rows_list = [0, 1, 2, 3, 31, 32, 33, 65, 100];
    for dims in dims_list {
        for n_rows in rows_list {
            let query = rng.f32s(dims);
            let mut rows = rng.f32s(dims * n_rows);
            if n_rows > 2 {
                // A NaN in the middle of the last row stays in that row.
                rows[dims * (n_rows - 1) + dims / 2] = f32::NAN;
            }
            for metric in [Metric::Dot, Metric::Cosine, Metric::L2sq] {
                let mut got = vec![0.5; n_rows];
                let mut want = vec![0.25; n_rows];
                backend.scan_f32(metric, &query, &rows, &mut got).unwrap();
                reference
                    .scan_f32(metric, &query, &rows, &mut want)
                    .unwrap();
                let ctx = format!("{name} {metric:?} dims={dims} rows={n_rows}");
                if exact {
                    assert_eq!(bits(&got), bits(&want), "{ctx}");
                } else {
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        let row = &rows[i * dims..(i + 1) * dims];
                        let scale: f64 = match metric {
                            Metric::Dot => query
                                .iter()
                                .zip(row)
                                .map(|(q, r)| f64::from((q * r).abs()))
                                .sum(),
                            Metric::L2sq => query
                                .iter()
                                .zip(row)
                                .map(|(q, r)| f64::from((q - r) * (q - r)))
                                .sum(),
                            Metric::Cosine => 2.0,
                        };
                        let close = (g.is_nan() && w.is_nan())
                            || f64::from((g - w).abs()) <= 1e-5 * scale + 1e-30;
                        assert!(close, "{ctx} row {i}: {g} vs {w}");
                    }
                }
                if n_rows > 2 {
                    assert!(got[n_rows - 1].is_nan() && !got[n_rows - 2].is_nan());
                }
            }
        }
    }
}

#[test]
fn import_free_scans_match_native_scalar_bit_for_bit() {
    let scalar = Native::with_isa(Isa::Scalar).unwrap();
    for file in [SCALAR, SIMD] {
        if let Some(backend) = interpreted(file) {
            check_scan_shapes(file, backend.as_ref(), &scalar, true);
        }
    }
}

#[test]
fn host_kernels_match_native() {
    let Some(host) = interpreted(HOST) else {
        return;
    };
    // The host supplies the active native table.
    let native = Native::new();
    check_scan_shapes(HOST, host.as_ref(), &native, false);
    let mut rng = Rng(5);
    for n in [0, 1, 3, 8, 17, 100, 384, 1001] {
        let (a, b) = (rng.f32s(n), rng.f32s(n));
        let same = |x: f32, y: f32| x.to_bits() == y.to_bits();
        let ctx = format!("n={n}");
        assert!(
            same(
                host.dot_f32(&a, &b).unwrap(),
                native.dot_f32(&a, &b).unwrap()
            ),
            "{ctx}"
        );
        assert!(
            same(
                host.cosine_distance_f32(&a, &b).unwrap(),
                native.cosine_distance_f32(&a, &b).unwrap()
            ),
            "{ctx}"
        );
        assert!(
            same(
                host.l2sq_f32(&a, &b).unwrap(),
                native.l2sq_f32(&a, &b).unwrap()
            ),
            "{ctx}"
        );
        let (mut x, mut y) = (a.clone(), a.clone());
        assert!(same(
            host.l2_normalize_f32(&mut x).unwrap(),
            native.l2_normalize_f32(&mut y).unwrap()
        ));
        assert_eq!(bits(&x), bits(&y), "{ctx}");
        let (ia, ib) = (rng.bytes(n), rng.bytes(n));
        let (sa, sb): (Vec<i8>, Vec<i8>) = (
            ia.iter().map(|&v| v as i8).collect(),
            ib.iter().map(|&v| v as i8).collect(),
        );
        assert_eq!(host.dot_i8(&sa, &sb), native.dot_i8(&sa, &sb), "{ctx}");
        assert_eq!(host.l2sq_i8(&sa, &sb), native.l2sq_i8(&sa, &sb), "{ctx}");
        assert_eq!(
            host.hamming_b1(&ia, &ib),
            native.hamming_b1(&ia, &ib),
            "{ctx}"
        );
        assert!(same(
            host.jaccard_b1(&ia, &ib).unwrap(),
            native.jaccard_b1(&ia, &ib).unwrap()
        ));
    }
}

/// A JSON number or one of the strings for non-finite values (tests/golden/README.md).
fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("a number"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| number(x) as f32)
        .collect()
}

fn ints<T: TryFrom<i64>>(v: &Value) -> Vec<T> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| T::try_from(x.as_i64().unwrap()).ok().expect("in range"))
        .collect()
}

/// The README's rule: NaN matches NaN, infinities exactly, otherwise not NaN and
/// `|got - want| <= tol`.
fn close(got: f32, want: &Value, tol: Option<&Value>) -> bool {
    let (got, want) = (f64::from(got), number(want));
    if want.is_nan() {
        got.is_nan()
    } else if want.is_infinite() {
        got == want
    } else {
        let tol = tol.filter(|t| !t.is_null()).map(number);
        tol.is_some_and(|tol| !got.is_nan() && (got - want).abs() <= tol)
    }
}

#[test]
fn host_kernels_pass_every_golden_case() {
    let Some(host) = interpreted(HOST) else {
        return;
    };
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/kernels.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut failed = Vec::new();
    for case in cases {
        let (op, input, expected) = (case["op"].as_str().unwrap(), case, &case["expected"]);
        let tol = case.get("tol");
        let ok = match op {
            "dot_f32" | "cosine_distance_f32" | "l2sq_f32" => {
                let (a, b) = (f32s(&input["a"]), f32s(&input["b"]));
                let got = match op {
                    "dot_f32" => host.dot_f32(&a, &b),
                    "cosine_distance_f32" => host.cosine_distance_f32(&a, &b),
                    _ => host.l2sq_f32(&a, &b),
                };
                got.is_ok_and(|g| close(g, expected, tol))
            }
            "dot_i8" | "l2sq_i8" => {
                let (a, b) = (ints::<i8>(&input["a"]), ints::<i8>(&input["b"]));
                let want = expected.as_i64().unwrap();
                match op {
                    "dot_i8" => host.dot_i8(&a, &b).is_ok_and(|g| i64::from(g) == want),
                    _ => host.l2sq_i8(&a, &b).is_ok_and(|g| i64::from(g) == want),
                }
            }
            "hamming_b1" => {
                let (a, b) = (ints::<u8>(&input["a"]), ints::<u8>(&input["b"]));
                host.hamming_b1(&a, &b)
                    .is_ok_and(|g| i64::from(g) == expected.as_i64().unwrap())
            }
            "jaccard_b1" => {
                let (a, b) = (ints::<u8>(&input["a"]), ints::<u8>(&input["b"]));
                host.jaccard_b1(&a, &b)
                    .is_ok_and(|g| close(g, expected, tol))
            }
            "scan_f32" => {
                let metric = Metric::from_code(input["metric"].as_i64().unwrap() as i32).unwrap();
                let (query, rows) = (f32s(&input["query"]), f32s(&input["rows"]));
                let want = expected.as_array().unwrap();
                let tols = tol.and_then(Value::as_array);
                let mut out = vec![0.0; want.len()];
                host.scan_f32(metric, &query, &rows, &mut out).is_ok()
                    && out
                        .iter()
                        .zip(want)
                        .enumerate()
                        .all(|(i, (g, w))| close(*g, w, tols.and_then(|t| t.get(i))))
            }
            other => panic!("unknown golden op {other}"),
        };
        if !ok {
            failed.push(case["name"].as_str().unwrap_or("?").to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} golden cases failed: {failed:?}",
        failed.len()
    );
}

#[test]
fn host_kernel_imports_need_the_option() {
    let Some(bytes) = module(HOST) else {
        return;
    };
    let err = InterpretedOptions::new().module(bytes).build().unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`ferrovec_host`.`fv_host_") && message.contains("host_kernels(true)"),
        "{message}"
    );
}

/// The index runs in its own instances of the module (`interpreted_index.rs`), which link
/// the host kernels too: an exact search gives the native index's keys and distances, on f32
/// rows and on the half rows (whose kernels the module runs itself).
#[test]
fn host_kernels_run_the_index() {
    use ferrovec::{IndexMetric, IndexOptions, OnDuplicate, Storage};
    let Some(host) = interpreted(HOST) else {
        return;
    };
    let native = Native::new();
    let dims = 24;
    for (metric, storage) in [
        (IndexMetric::Cosine, Storage::F32),
        (IndexMetric::Cosine, Storage::F16),
        (IndexMetric::L2sq, Storage::BF16),
    ] {
        let mut rng = Rng(3);
        let options = IndexOptions::new(dims, metric).storage(storage);
        let mut a = host.new_index(options.clone()).unwrap();
        let mut b = native.new_index(options).unwrap();
        for key in 0..50u64 {
            let v = rng.f32s(dims);
            a.add_with(key, &v, OnDuplicate::Error).unwrap();
            b.add_with(key, &v, OnDuplicate::Error).unwrap();
        }
        let query = rng.f32s(dims);
        let (x, y) = (a.search(&query, 5).unwrap(), b.search(&query, 5).unwrap());
        assert_eq!(x.len(), 5);
        for (p, q) in x.iter().zip(&y) {
            assert_eq!(p.key, q.key, "{storage:?}");
            assert!(
                (p.distance - q.distance).abs() <= 2e-5 * q.distance.abs().max(1.0),
                "{storage:?}: {p:?} vs {q:?}"
            );
        }
    }
}
