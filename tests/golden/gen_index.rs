//! Generates `tests/golden/index.json` (schema: `tests/golden/README.md`, "Index cases") on
//! stdout.
//!
//! `cargo run -q -p ferrovec-wasm --example golden_index > tests/golden/index.json`
//!
//! Deterministic: fixed seeds, no clock, no environment. For f32 and b1 storage the expected
//! neighbours are computed here in f64 from the exact inputs, independently of the index; for
//! f16 and bf16 storage in f64 from the inputs rounded to nearest even by the core's `F16` /
//! `Bf16` conversions (what those rows hold), independently of the index's search; for
//! i8 storage (whose distances are defined by the quantization) they are the native core's
//! exact search. Either way every case is then run through the native core's exact
//! index (must give exactly the expected keys, distances within `tol`) and HNSW index (must
//! reach `min_hnsw_recall`), and the program fails (exit 1) otherwise, so a wrong
//! expectation cannot be committed.

use std::fmt::Write as _;
use std::process::ExitCode;

use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, Match, Storage};
use ferrovec_core::kernels::{Bf16, F16};

/// splitmix64, as in `gen.rs`.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `j / steps` with `j` uniform in -steps..=steps (`steps` a power of two). With 64 steps
    /// (the grid) sums of products of up to thousands of them stay exact in f32, so squared L2
    /// and inner products come out exact in any summation order (every kernel, every
    /// backend); the finer steps of the f16 and bf16 cases keep that for their `dims` (README).
    fn value(&mut self, steps: u64) -> f32 {
        ((self.next_u64() % (2 * steps + 1)) as i64 - steps as i64) as f32 / steps as f32
    }

    fn values(&mut self, n: usize, steps: u64) -> Vec<f32> {
        (0..n).map(|_| self.value(steps)).collect()
    }
}

/// What a row of `storage` holds for the input `x` (f16 / bf16: rounded to nearest even).
fn stored(storage: Storage, x: f32) -> f32 {
    match storage {
        Storage::F16 => F16::from_f32(x).to_f32(),
        Storage::BF16 => Bf16::from_f32(x).to_f32(),
        _ => x,
    }
}

fn num(x: f64) -> String {
    assert!(x.is_finite());
    format!("{x:?}")
}

fn f32s(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|&x| num(x as f64)).collect();
    format!("[{}]", items.join(","))
}

fn u64s(v: &[u64]) -> String {
    let items: Vec<String> = v.iter().map(u64::to_string).collect();
    format!("[{}]", items.join(","))
}

/// The f64 reference distance for f32 and b1 storage (index conventions: cosine and inner
/// product `1 - a.b` on normalized / raw vectors, squared L2, hamming and jaccard of the
/// sign bits `x > 0`).
fn reference(metric: IndexMetric, q: &[f32], r: &[f32]) -> f64 {
    let dot = |a: &[f32], b: &[f32]| -> f64 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| x as f64 * y as f64)
            .sum::<f64>()
    };
    match metric {
        IndexMetric::L2sq => q
            .iter()
            .zip(r)
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum(),
        IndexMetric::InnerProduct => 1.0 - dot(q, r),
        IndexMetric::Cosine => {
            let (qq, rr) = (dot(q, q), dot(r, r));
            if qq == 0.0 || rr == 0.0 {
                return 1.0;
            }
            (1.0 - dot(q, r) / (qq.sqrt() * rr.sqrt())).max(0.0)
        }
        IndexMetric::Hamming => q
            .iter()
            .zip(r)
            .filter(|(&x, &y)| (x > 0.0) != (y > 0.0))
            .count() as f64,
        IndexMetric::Jaccard => {
            let both = q
                .iter()
                .zip(r)
                .filter(|(&x, &y)| x > 0.0 && y > 0.0)
                .count();
            let any = q
                .iter()
                .zip(r)
                .filter(|(&x, &y)| x > 0.0 || y > 0.0)
                .count();
            if any == 0 {
                0.0
            } else {
                // The index's jaccard is this ratio rounded to f32.
                (1.0 - both as f64 / any as f64) as f32 as f64
            }
        }
        _ => unreachable!("metric not covered"),
    }
}

struct Spec {
    name: &'static str,
    metric: IndexMetric,
    metric_name: &'static str,
    storage: Storage,
    storage_name: &'static str,
    dims: usize,
    n: usize,
    /// Remove every `remove_every`-th key after adding all (0: none).
    remove_every: usize,
    /// Absolute tolerance on distances.
    tol: f64,
    /// Queries are resampled until the `k + 1` nearest are at least this far apart (0: ties
    /// are exact and broken by key, the same on every backend).
    gap: f64,
    /// Vectors and queries are multiples of `1 / steps` in [-1, 1] (`Rng::value`).
    steps: u64,
    seed: u64,
}

const K: usize = 10;
const QUERIES: usize = 8;
const HNSW: HnswParams = HnswParams {
    m: 8,
    ef_construction: 32,
    ef_search: 64,
    seed: 42,
};
const MIN_RECALL: f64 = 0.99;

fn specs() -> Vec<Spec> {
    let base = Spec {
        name: "",
        metric: IndexMetric::L2sq,
        metric_name: "l2sq",
        storage: Storage::F32,
        storage_name: "f32",
        dims: 16,
        n: 300,
        remove_every: 0,
        tol: 1e-6,
        gap: 0.0,
        steps: 64,
        seed: 1,
    };
    vec![
        Spec {
            name: "f32/l2sq/grid/d=16/n=300/removed",
            remove_every: 10,
            ..base
        },
        Spec {
            name: "f32/ip/grid/d=16/n=300",
            metric: IndexMetric::InnerProduct,
            metric_name: "ip",
            seed: 2,
            ..base
        },
        Spec {
            name: "f32/cosine/grid/d=24/n=300",
            metric: IndexMetric::Cosine,
            metric_name: "cosine",
            dims: 24,
            tol: 2e-5,
            gap: 1e-3,
            seed: 3,
            ..base
        },
        Spec {
            name: "i8/l2sq/grid/d=16/n=300",
            storage: Storage::I8,
            storage_name: "i8",
            tol: 1e-4,
            gap: 2e-3,
            seed: 4,
            ..base
        },
        Spec {
            name: "i8/cosine/grid/d=16/n=300",
            metric: IndexMetric::Cosine,
            metric_name: "cosine",
            storage: Storage::I8,
            storage_name: "i8",
            tol: 1e-4,
            gap: 2e-3,
            seed: 5,
            ..base
        },
        Spec {
            name: "b1/hamming/d=64/n=300/removed",
            metric: IndexMetric::Hamming,
            metric_name: "hamming",
            storage: Storage::B1,
            storage_name: "b1",
            dims: 64,
            remove_every: 7,
            tol: 0.0,
            seed: 6,
            ..base
        },
        Spec {
            name: "b1/jaccard/d=61/n=300",
            metric: IndexMetric::Jaccard,
            metric_name: "jaccard",
            storage: Storage::B1,
            storage_name: "b1",
            dims: 61,
            tol: 1e-7,
            seed: 7,
            ..base
        },
        // f16 keeps all 11 significant bits of these values; bf16 rounds the 9- and 10-bit
        // ones (about half, many of them ties) to 8, so its expectations are those of the
        // rounded rows. Both stay exact in f32 (README: "Why exact key equality is safe").
        Spec {
            name: "f16/ip/steps=1024/d=16/n=300/removed",
            metric: IndexMetric::InnerProduct,
            metric_name: "ip",
            storage: Storage::F16,
            storage_name: "f16",
            remove_every: 9,
            steps: 1024,
            seed: 8,
            ..base
        },
        Spec {
            name: "bf16/l2sq/steps=512/d=16/n=300",
            storage: Storage::BF16,
            storage_name: "bf16",
            steps: 512,
            seed: 9,
            ..base
        },
    ]
}

fn options(s: &Spec, hnsw: bool) -> IndexOptions {
    let o = IndexOptions::new(s.dims, s.metric).storage(s.storage);
    if hnsw {
        o.hnsw(HNSW)
    } else {
        o.exact()
    }
}

fn build(s: &Spec, hnsw: bool, keys: &[u64], vectors: &[f32], removed: &[u64]) -> Index {
    let mut index = Index::new(options(s, hnsw)).expect("valid options");
    for (key, v) in keys.iter().zip(vectors.chunks_exact(s.dims)) {
        index.add(*key, v).expect("add");
    }
    for key in removed {
        index.remove(*key).expect("remove");
    }
    index
}

/// The `k + 1` nearest live (key, distance) by the reference, ties by key.
fn nearest(s: &Spec, exact: &Index, live: &[(u64, &[f32])], q: &[f32]) -> Vec<(u64, f64)> {
    let mut all: Vec<(u64, f64)> = if s.storage == Storage::I8 {
        exact
            .search(q, K + 1)
            .expect("search")
            .into_iter()
            // Rounded to 2^-16 (well inside `tol`) so that the file does not depend on
            // the last bits of this machine's instruction set (cosine normalizes first).
            .map(|m| (m.key, (m.distance as f64 * 65536.0).round() / 65536.0))
            .collect()
    } else {
        live.iter()
            .map(|&(key, r)| (key, reference(s.metric, q, r)))
            .collect()
    };
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(K + 1);
    all
}

fn case(s: &Spec, out: &mut String) -> Result<(), String> {
    let mut rng = Rng(0xF00D_0000 + s.seed);
    let keys: Vec<u64> = (0..s.n as u64).map(|i| 1000 + 7 * i).collect();
    let vectors = rng.values(s.n * s.dims, s.steps);
    // The rows as the storage holds them (the inputs themselves except for f16 / bf16).
    let rows: Vec<f32> = vectors.iter().map(|&x| stored(s.storage, x)).collect();
    let removed: Vec<u64> = match s.remove_every {
        0 => Vec::new(),
        e => keys.iter().copied().step_by(e).collect(),
    };
    let live: Vec<(u64, &[f32])> = keys
        .iter()
        .copied()
        .zip(rows.chunks_exact(s.dims))
        .filter(|(k, _)| !removed.contains(k))
        .collect();
    if s.storage == Storage::BF16 && rows == vectors {
        return Err(format!("{}: bf16 rounds none of the values", s.name));
    }
    let exact = build(s, false, &keys, &vectors, &removed);
    let hnsw = build(s, true, &keys, &vectors, &removed);

    let mut queries = Vec::new();
    let mut expected = Vec::new();
    let mut tries = 0;
    while expected.len() < QUERIES {
        tries += 1;
        if tries > 10_000 {
            return Err(format!("{}: no query with gaps > {}", s.name, s.gap));
        }
        let q = rng.values(s.dims, s.steps);
        let near = nearest(s, &exact, &live, &q);
        if s.gap > 0.0 && near.windows(2).any(|w| w[1].1 - w[0].1 <= s.gap) {
            continue;
        }
        queries.extend_from_slice(&q);
        expected.push(near[..K].to_vec());
    }

    let mut hits = 0;
    for (q, want) in queries.chunks_exact(s.dims).zip(&expected) {
        let got = exact.search(q, K).map_err(|e| format!("{}: {e}", s.name))?;
        check(s, &got, want).map_err(|e| format!("{} (native exact): {e}", s.name))?;
        let approx = hnsw.search(q, K).map_err(|e| format!("{}: {e}", s.name))?;
        let bound = want[K - 1].1 + s.tol;
        hits += approx.iter().filter(|m| m.distance as f64 <= bound).count();
    }
    let recall = hits as f64 / (K * QUERIES) as f64;
    if recall < MIN_RECALL {
        return Err(format!("{}: native HNSW recall {recall}", s.name));
    }

    let exp: Vec<String> = expected
        .iter()
        .map(|want| {
            let keys: Vec<u64> = want.iter().map(|w| w.0).collect();
            let d: Vec<String> = want.iter().map(|w| num(w.1)).collect();
            format!(
                "{{\"keys\":{},\"distances\":[{}]}}",
                u64s(&keys),
                d.join(",")
            )
        })
        .collect();
    write!(
        out,
        "{{\"name\":\"{}\",\"dims\":{},\"metric\":{},\"metric_name\":\"{}\",\"storage\":{},\
         \"storage_name\":\"{}\",\"hnsw\":{{\"m\":{},\"ef_construction\":{},\"ef_search\":{},\
         \"seed\":{}}},\"min_hnsw_recall\":{},\"k\":{K},\"tol\":{},\n\"keys\":{},\n\
         \"vectors\":{},\n\"removed\":{},\n\"queries\":{},\n\"expected\":[\n{}]}}",
        s.name,
        s.dims,
        s.metric as i32,
        s.metric_name,
        s.storage as i32,
        s.storage_name,
        HNSW.m,
        HNSW.ef_construction,
        HNSW.ef_search,
        HNSW.seed,
        num(MIN_RECALL),
        num(s.tol),
        u64s(&keys),
        f32s(&vectors),
        u64s(&removed),
        f32s(&queries),
        exp.join(",\n")
    )
    .expect("write to a String");
    Ok(())
}

/// Exactly the expected keys in order, distances within `tol`.
fn check(s: &Spec, got: &[Match], want: &[(u64, f64)]) -> Result<(), String> {
    let got_keys: Vec<u64> = got.iter().map(|m| m.key).collect();
    let want_keys: Vec<u64> = want.iter().map(|w| w.0).collect();
    if got_keys != want_keys {
        return Err(format!("keys {got_keys:?}, expected {want_keys:?}"));
    }
    for (m, w) in got.iter().zip(want) {
        if (m.distance as f64 - w.1).abs() > s.tol {
            return Err(format!("key {}: distance {} vs {}", m.key, m.distance, w.1));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut out = String::from("{\"format\":\"ferrovec-golden-index\",\"version\":1,\"cases\":[\n");
    for (i, s) in specs().iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        if let Err(e) = case(s, &mut out) {
            eprintln!("golden_index: {e}");
            return ExitCode::FAILURE;
        }
    }
    out.push_str("\n]}\n");
    print!("{out}");
    ExitCode::SUCCESS
}
