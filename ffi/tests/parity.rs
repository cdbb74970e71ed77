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

// ---------------------------------------------------------------- index cases

use ferrovec::{Engine, HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate, Storage};

fn golden_index() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/golden/index.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("golden file is JSON");
    assert_eq!(doc["format"], "ferrovec-golden-index");
    assert_eq!(doc["version"], 1, "this runner reads format version 1");
    doc
}

/// Native, then Interpreted with each built module.
fn index_engines() -> Vec<(String, Engine)> {
    let mut out = vec![("native".to_string(), Engine::native())];
    let modules = [BundledModule::Scalar, BundledModule::Simd];
    for which in modules {
        if let Some(bytes) = built_module(which) {
            let engine = Engine::interpreted(&InterpretedOptions::new().module(bytes))
                .expect("the built module loads");
            out.push((format!("interpreted {}", which.file_name()), engine));
        }
    }
    out
}

/// One index case of `tests/golden/index.json` (README: "Index cases").
struct IndexCase {
    name: String,
    dims: usize,
    metric: IndexMetric,
    storage: Storage,
    hnsw: HnswParams,
    min_recall: f64,
    k: usize,
    tol: f64,
    keys: Vec<u64>,
    vectors: Vec<f32>,
    removed: Vec<u64>,
    queries: Vec<f32>,
    expected: Vec<Vec<(u64, f64)>>,
}

impl IndexCase {
    fn parse(v: &Value) -> IndexCase {
        let usize_of = |x: &Value| x.as_u64().expect("an integer") as usize;
        let u64s = |x: &Value| -> Vec<u64> {
            x.as_array()
                .expect("an array")
                .iter()
                .map(|k| k.as_u64().expect("a key"))
                .collect()
        };
        let h = &v["hnsw"];
        IndexCase {
            name: v["name"].as_str().expect("name").to_string(),
            dims: usize_of(&v["dims"]),
            metric: IndexMetric::from_code(v["metric"].as_i64().unwrap() as i32).unwrap(),
            storage: Storage::from_code(v["storage"].as_i64().unwrap() as i32).unwrap(),
            hnsw: HnswParams {
                m: usize_of(&h["m"]),
                ef_construction: usize_of(&h["ef_construction"]),
                ef_search: usize_of(&h["ef_search"]),
                seed: h["seed"].as_u64().expect("seed"),
            },
            min_recall: number(&v["min_hnsw_recall"]),
            k: usize_of(&v["k"]),
            tol: number(&v["tol"]),
            keys: u64s(&v["keys"]),
            vectors: f32s(&v["vectors"]),
            removed: u64s(&v["removed"]),
            queries: f32s(&v["queries"]),
            expected: v["expected"]
                .as_array()
                .expect("expected")
                .iter()
                .map(|e| {
                    u64s(&e["keys"])
                        .into_iter()
                        .zip(
                            e["distances"]
                                .as_array()
                                .expect("distances")
                                .iter()
                                .map(number),
                        )
                        .collect()
                })
                .collect(),
        }
    }

    fn options(&self, hnsw: bool) -> IndexOptions {
        let o = IndexOptions::new(self.dims, self.metric).storage(self.storage);
        if hnsw {
            o.hnsw(self.hnsw)
        } else {
            o.exact()
        }
    }

    /// The README's build: one `add_batch` of every key, then `remove` of each removed key.
    fn build(&self, engine: &Engine, hnsw: bool) -> Index {
        let index = Index::new(engine, self.options(hnsw)).expect("valid options");
        index
            .add_batch(&self.keys, &self.vectors, OnDuplicate::Error)
            .expect("add_batch");
        for &key in &self.removed {
            index.remove(key).expect("remove");
        }
        index
    }

    fn queries(&self) -> impl Iterator<Item = &[f32]> {
        self.queries.chunks_exact(self.dims)
    }

    /// The README's exact-search rule: exactly the expected keys, in order; distances
    /// within `tol`.
    fn check_exact(&self, query: usize, got: &[Match]) -> Option<String> {
        let want = &self.expected[query];
        let got_keys: Vec<u64> = got.iter().map(|m| m.key).collect();
        let want_keys: Vec<u64> = want.iter().map(|w| w.0).collect();
        if got_keys != want_keys {
            return Some(format!(
                "query {query}: keys {got_keys:?}, expected {want_keys:?}"
            ));
        }
        got.iter().zip(want).find_map(|(m, w)| {
            ((f64::from(m.distance) - w.1).abs() > self.tol).then(|| {
                format!(
                    "query {query}: key {} at distance {}, expected {} (tol {})",
                    m.key, m.distance, w.1, self.tol
                )
            })
        })
    }

    /// The README's (ann-benchmarks) recall of approximate results over all queries: the
    /// share of returned matches within `tol` of the true k-th distance.
    fn recall(&self, results: &[Vec<Match>]) -> f64 {
        let hits: usize = results
            .iter()
            .zip(&self.expected)
            .map(|(got, want)| {
                let bound = want[self.k - 1].1 + self.tol;
                got.iter()
                    .filter(|m| f64::from(m.distance) <= bound)
                    .count()
            })
            .sum();
        hits as f64 / (self.k * self.expected.len()) as f64
    }
}

fn index_cases() -> Vec<IndexCase> {
    let doc = golden_index();
    let cases: Vec<IndexCase> = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(IndexCase::parse)
        .collect();
    assert!(cases.len() >= 7, "only {} golden index cases", cases.len());
    cases
}

fn search_all(case: &IndexCase, index: &Index) -> Vec<Vec<Match>> {
    case.queries()
        .map(|q| index.search(q, case.k).expect("search"))
        .collect()
}

/// Share of `b`'s keys also in `a`, over all queries (recall of one backend's HNSW
/// against another's).
fn overlap(a: &[Vec<Match>], b: &[Vec<Match>]) -> f64 {
    let (mut hits, mut total) = (0, 0);
    for (x, y) in a.iter().zip(b) {
        total += y.len();
        hits += y
            .iter()
            .filter(|m| x.iter().any(|n| n.key == m.key))
            .count();
    }
    hits as f64 / total.max(1) as f64
}

/// Every golden index case on every backend: the exact index returns exactly the expected
/// keys (one query at a time and in one `search_batch`), HNSW built from the same inserts
/// reaches the case's recall against the truth and against the native HNSW.
///
/// Then the same bytes on every backend: each index saved by any backend loads on every
/// backend, searches the same and saves back to identical bytes. Where every distance is
/// exact (all cases but cosine, whose normalization rounds per instruction set), every
/// backend also writes identical bytes for the same inserts. (One test, so each index is
/// built once per backend: interpreted builds are slow in debug builds.)
#[test]
fn every_golden_index_case_on_every_backend_and_saved_bytes_load_everywhere() {
    // wasmi's interpreter in an unoptimized test build needs more than the default 2 MiB
    // of stack for the index's deeper call chains.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(index_parity)
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// (backend, saved bytes, search results)
type Saved<'a> = (&'a str, Vec<u8>, Vec<Vec<Match>>);

fn index_parity() {
    let cases = index_cases();
    let engines = index_engines();
    let mut failures = Vec::new();
    for case in &cases {
        for hnsw in [false, true] {
            let kind = if hnsw { "hnsw" } else { "exact" };
            let mut saved: Vec<Saved> = Vec::new();
            for (name, engine) in &engines {
                let index = case.build(engine, hnsw);
                assert_eq!(index.len(), case.keys.len() - case.removed.len());
                let results = search_all(case, &index);
                if hnsw {
                    let recall = case.recall(&results);
                    if recall < case.min_recall {
                        failures.push(format!("{name}: {} hnsw recall {recall}", case.name));
                    }
                    if let Some((native, _, first)) = saved.first() {
                        let r = overlap(first, &results);
                        if r < case.min_recall {
                            failures.push(format!(
                                "{name}: {} hnsw recall against {native} hnsw {r}",
                                case.name
                            ));
                        }
                    }
                } else {
                    for (i, got) in results.iter().enumerate() {
                        if let Some(what) = case.check_exact(i, got) {
                            failures.push(format!("{name}: {} exact: {what}", case.name));
                        }
                    }
                    let batch = index.search_batch(&case.queries, case.k).expect("batch");
                    if batch != results {
                        failures.push(format!("{name}: {}: search_batch != search", case.name));
                    }
                }
                saved.push((name, index.to_bytes().expect("to_bytes"), results));
            }
            if case.metric != IndexMetric::Cosine {
                for (name, bytes, _) in &saved[1..] {
                    if bytes != &saved[0].1 {
                        failures.push(format!(
                            "{} {kind}: {name} wrote other bytes than {}",
                            case.name, saved[0].0
                        ));
                    }
                }
            }
            for (from, bytes, results) in &saved {
                for (to, engine) in &engines {
                    let loaded = match Index::from_bytes(engine, bytes) {
                        Ok(index) => index,
                        Err(e) => {
                            failures.push(format!("{} {kind}: {from} -> {to}: {e}", case.name));
                            continue;
                        }
                    };
                    assert_eq!(loaded.options(), case.options(hnsw), "{}", case.name);
                    let again = search_all(case, &loaded);
                    let same = if hnsw {
                        overlap(results, &again) >= case.min_recall
                    } else {
                        again
                            .iter()
                            .enumerate()
                            .all(|(i, got)| case.check_exact(i, got).is_none())
                    };
                    if !same {
                        failures.push(format!(
                            "{} {kind}: {from} -> {to}: other results after loading",
                            case.name
                        ));
                    }
                    if loaded.to_bytes().expect("to_bytes") != *bytes {
                        failures.push(format!(
                            "{} {kind}: {from} -> {to}: re-saved bytes differ",
                            case.name
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "index parity: {} cases x {} backends ({})",
        cases.len(),
        engines.len(),
        engines
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
}

/// The index checker fails wrong answers: a swapped key order, a distance off by more than
/// `tol`, and a recall below the bound.
#[test]
fn the_index_comparison_rule_rejects_wrong_results() {
    let case = &index_cases()[0];
    let right: Vec<Match> = case.expected[0]
        .iter()
        .map(|&(key, d)| Match {
            key,
            distance: d as f32,
        })
        .collect();
    assert!(case.check_exact(0, &right).is_none());
    let mut swapped = right.clone();
    swapped.swap(0, 1);
    assert!(case.check_exact(0, &swapped).is_some());
    let mut off = right.clone();
    off[3].distance += (case.tol as f32).max(1e-6) * 4.0;
    assert!(case.check_exact(0, &off).is_some());
    let all: Vec<Vec<Match>> = case
        .expected
        .iter()
        .map(|e| {
            e.iter()
                .map(|&(key, d)| Match {
                    key,
                    distance: d as f32,
                })
                .collect()
        })
        .collect();
    assert_eq!(case.recall(&all), 1.0);
    let mut worse = all.clone();
    worse[0][0].distance = 1e9;
    assert!(case.recall(&worse) < 1.0);
}
