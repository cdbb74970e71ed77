//! The language-binding benchmarks' workload as a standalone Rust program (issue 5):
//! `cargo bench -p ferrovec --bench bindings [-- --json]`. Not a test. `make bench-python` /
//! `make bench-kotlin` run the same workload from Python / Kotlin (`bindings/python/bench/
//! bench.py`, `bindings/kotlin/src/test/kotlin/dev/ferrovec/bench/Bench.kt`) and time the Rust
//! side in-process on the same index (`ffi/src/bindings/fast.rs`), so their ratios never mix
//! builds; this program gives the absolute Rust numbers on its own.
//!
//! * search: an HNSW index (cosine, f32, default parameters) of 10,000 x 384 vectors; 200
//!   queries; one warm-up pass, then passes over all queries; the median pass / 200 is the
//!   time per k = 10 search call.
//! * call overhead: the same k = 10 search on an exact index of 16 x 384 vectors (cheap, so
//!   the fixed cost of a call dominates): median over passes of 2,000 calls. The language's
//!   time minus Rust's is the binding's overhead per call; on the 10k index the search itself
//!   (hundreds of us here, and noisy on a shared machine) hides a few us.
//! * bulk add: 100,000 x 384 vectors into a fresh exact cosine f32 index in one `add_batch`
//!   call; the best of 3 runs, as vectors per second.
//!
//! The data is a counter-based hash (splitmix64 finalizer of the element index, 24 bits
//! to a float in [-1, 1)): each language generates the same vectors without sharing files.

use std::hint::black_box;
use std::time::Instant;

use ferrovec::{Engine, HnswParams, Index, IndexMetric, IndexOptions, OnDuplicate};

const DIMS: usize = 384;
const SEARCH_ROWS: usize = 10_000;
const QUERIES: usize = 200;
const K: usize = 10;
const ADD_ROWS: usize = 100_000;
const QUERY_BASE: u64 = 1 << 40;
const SMALL_ROWS: usize = 16;
const SMALL_CALLS: usize = 2_000;

/// Element `i` of the shared data: splitmix64's finalizer, top 24 bits, in [-1, 1).
fn value(i: u64) -> f32 {
    let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z ^= z >> 30;
    z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 27;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 / 16_777_216.0 * 2.0 - 1.0
}

fn matrix(base: u64, rows: usize) -> Vec<f32> {
    (0..(rows * DIMS) as u64).map(|i| value(base + i)).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let passes = if std::env::args().any(|a| a == "--quick") {
        5
    } else {
        15
    };
    let engine = Engine::native();

    let rows = matrix(0, SEARCH_ROWS);
    let keys: Vec<u64> = (0..SEARCH_ROWS as u64).collect();
    let index = Index::new(
        &engine,
        IndexOptions::new(DIMS, IndexMetric::Cosine).hnsw(HnswParams::default()),
    )
    .expect("index");
    index
        .add_batch(&keys, &rows, OnDuplicate::Error)
        .expect("add");
    let queries = matrix(QUERY_BASE, QUERIES);
    let mut checksum = 0u64;
    for q in queries.chunks_exact(DIMS) {
        checksum = checksum.wrapping_add(index.search(q, K).expect("search")[0].key);
    }
    let mut samples = Vec::new();
    for _ in 0..passes {
        let t = Instant::now();
        for q in queries.chunks_exact(DIMS) {
            black_box(index.search(black_box(q), K).expect("search"));
        }
        samples.push(t.elapsed().as_secs_f64() * 1e9 / QUERIES as f64);
    }
    let search_ns = median(samples);

    let small = Index::new(&engine, IndexOptions::new(DIMS, IndexMetric::Cosine)).expect("index");
    small
        .add_batch(
            &keys[..SMALL_ROWS],
            &rows[..SMALL_ROWS * DIMS],
            OnDuplicate::Error,
        )
        .expect("add");
    let q = &queries[..DIMS];
    let mut samples = Vec::new();
    for _ in 0..passes {
        let t = Instant::now();
        for _ in 0..SMALL_CALLS {
            black_box(small.search(black_box(q), K).expect("search"));
        }
        samples.push(t.elapsed().as_secs_f64() * 1e9 / SMALL_CALLS as f64);
    }
    let small_ns = median(samples);

    let data = matrix(0, ADD_ROWS);
    let add_keys: Vec<u64> = (0..ADD_ROWS as u64).collect();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let index =
            Index::new(&engine, IndexOptions::new(DIMS, IndexMetric::Cosine)).expect("index");
        let t = Instant::now();
        index
            .add_batch(&add_keys, &data, OnDuplicate::Error)
            .expect("add");
        best = best.min(t.elapsed().as_secs_f64());
        black_box(&index);
    }
    let add_vps = ADD_ROWS as f64 / best;

    if json {
        println!(
            "{{\"language\": \"rust\", \"search_ns\": {search_ns:.1}, \"small_search_ns\": {small_ns:.1}, \"add_vectors_per_s\": {add_vps:.0}, \"checksum\": {checksum}}}"
        );
    } else {
        println!("rust: k={K} search on {SEARCH_ROWS} x {DIMS} HNSW: {:.2} us/call (median of {passes} passes x {QUERIES} queries)", search_ns / 1e3);
        println!(
            "rust: add_batch {ADD_ROWS} x {DIMS} (exact cosine): {:.0} vectors/s (best of 3)",
            add_vps
        );
        println!("rust: checksum of top-1 keys {checksum}");
    }
}
