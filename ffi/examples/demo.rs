//! `make demo`: scan a generated dataset of embeddings natively and print the top hits.
//!
//! The data is clustered like real embeddings: 100,000 unit vectors of 384 dimensions drawn
//! around 256 random centres. Each query is a noisy copy of a known row, so the right answer
//! is known and printed beside the hits.

use std::time::{Duration, Instant};

use ferrovec::kernels::{self, Isa, Kernels, Metric};

const ROWS: usize = 100_000;
const DIMS: usize = 384;
const CENTRES: usize = 256;
const TOP: usize = 5;

/// A small deterministic generator (splitmix64) so every run shows the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Roughly normal (sum of uniforms), mean 0, variance 1.
    fn gaussian(&mut self) -> f32 {
        let sum: f32 = (0..4)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
            .sum();
        (sum - 2.0) * 1.732
    }
}

fn generate(rng: &mut Rng) -> Vec<f32> {
    let centres: Vec<f32> = (0..CENTRES * DIMS).map(|_| rng.gaussian()).collect();
    let mut rows = Vec::with_capacity(ROWS * DIMS);
    for _ in 0..ROWS {
        let c = (rng.next_u64() % CENTRES as u64) as usize;
        let centre = &centres[c * DIMS..(c + 1) * DIMS];
        rows.extend(centre.iter().map(|&x| x + 0.6 * rng.gaussian()));
        let start = rows.len() - DIMS;
        kernels::l2_normalize_f32(&mut rows[start..]);
    }
    rows
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn main() -> Result<(), ferrovec::Error> {
    let active = Kernels::active();
    println!(
        "ferrovec {} demo: {ROWS} vectors x {DIMS} dims ({:.1} MiB), kernels: {} ({})",
        env!("CARGO_PKG_VERSION"),
        (ROWS * DIMS * 4) as f64 / (1 << 20) as f64,
        active.isa(),
        active.variant()
    );

    let mut rng = Rng(2024);
    let (rows, gen_time) = time(|| generate(&mut rng));
    println!(
        "generated and normalized in {:.0} ms\n",
        gen_time.as_secs_f64() * 1e3
    );

    let mut scores = vec![0.0f32; ROWS];
    for (q, metric) in [
        (4711usize, Metric::Cosine),
        (31337, Metric::L2sq),
        (99_999, Metric::Dot),
    ] {
        let mut query: Vec<f32> = rows[q * DIMS..(q + 1) * DIMS]
            .iter()
            .map(|&x| x + 0.02 * rng.gaussian())
            .collect();
        kernels::l2_normalize_f32(&mut query);

        let (result, elapsed) = time(|| kernels::scan_f32(metric, &query, &rows, &mut scores));
        result?;
        let hits = kernels::top_k(&scores, TOP);
        println!("query: a noisy copy of row {q}, metric {metric:?}, top {TOP}:");
        for (rank, hit) in hits.iter().enumerate() {
            let mark = if hit.index == q {
                "  <- the source row"
            } else {
                ""
            };
            println!(
                "  {}. row {:>6}  distance {:>9.5}{mark}",
                rank + 1,
                hit.index,
                hit.score
            );
        }
        let gbs = (ROWS * DIMS * 4) as f64 / elapsed.as_secs_f64() / 1e9;
        println!(
            "  scan: {:.2} ms ({gbs:.1} GB/s)\n",
            elapsed.as_secs_f64() * 1e3
        );
        assert_eq!(hits[0].index, q, "the source row must be the nearest");
    }

    // The same scan on every instruction set this machine runs, best of 5 each.
    let query = &rows[..DIMS];
    println!("cosine scan of all rows, best of 5, per instruction set:");
    let mut scalar_ms = None;
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_available()) {
        let k = Kernels::for_isa(isa)?;
        let best = (0..5)
            .map(|_| time(|| k.scan_f32(Metric::Cosine, query, &rows, &mut scores)).1)
            .min()
            .unwrap_or_default();
        let ms = best.as_secs_f64() * 1e3;
        let speedup = scalar_ms
            .map(|s: f64| format!("  {:.1}x scalar", s / ms))
            .unwrap_or_default();
        scalar_ms.get_or_insert(ms);
        println!("  {:<22} {ms:>7.2} ms{speedup}", k.variant());
    }
    Ok(())
}
