//! The native side of `bindings/js/bench/scan.mjs`: one query against 20,000 rows of d = 384
//! on every kernel table this CPU runs, timed the way the JS bench times V8 (wall clock,
//! median of repeated scans after a warm-up) over the same data (its LCG), so that the
//! V8 / native ratio of the wasm simd128 scan compares like with like.
//!
//! ```text
//! cargo run --release -p ferrovec-core --example scan_native [-- --rows N --dims D --min-ms T]
//! make bench-js    (this, then the Node bench with the ratios)
//! ```
//!
//! Prints one line per table and metric: `native <table> scan_f32/<metric> <ms> ms`. Not a
//! test: the machine may be shared, so compare numbers from one run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ferrovec_core::kernels::{Kernels, Metric};

fn flag(args: &[String], name: &str, fallback: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(fallback)
}

/// scan.mjs's generator: a 64-bit LCG, the top 24 bits of the state as a fraction.
fn rng(seed: u64) -> impl FnMut() -> f32 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u32 << 24) as f32
    }
}

/// Median wall time of `f` in ms: 3 warm-up calls, then at least 5 samples and up to 200
/// within `min` (scan.mjs's `timeIt`).
fn time_it(min: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed() < min && samples.len() < 200) {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows = flag(&args, "--rows", 20_000);
    let dims = flag(&args, "--dims", 384);
    let min = Duration::from_millis(flag(&args, "--min-ms", 300) as u64);

    let mut next = rng(42);
    let query: Vec<f32> = (0..dims).map(|_| next() * 2.0 - 1.0).collect();
    let data: Vec<f32> = (0..rows * dims).map(|_| next() * 2.0 - 1.0).collect();
    let mut out = vec![0.0f32; rows];
    println!("native, one query vs {rows} rows, d = {dims}; median ms per scan");
    for k in Kernels::variants() {
        for (name, metric) in [
            ("dot", Metric::Dot),
            ("cosine", Metric::Cosine),
            ("l2sq", Metric::L2sq),
        ] {
            let ms = time_it(min, || {
                k.scan_f32(metric, black_box(&query), black_box(&data), &mut out)
                    .expect("valid shapes");
                black_box(&out);
            });
            println!("native {} scan_f32/{name} {ms:.3} ms", k.variant());
        }
    }
}
