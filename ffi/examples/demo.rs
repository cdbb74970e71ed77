//! `make demo`: the kernels and the vector index, natively and in the Interpreted backend.
//!
//! Part 1 scans a generated dataset: 100,000 unit vectors of 384 dimensions clustered
//! around 256 random centres (like real embeddings). Each query is a noisy copy of a known
//! row, so the right answer is known and printed beside the hits.
//!
//! Part 2 builds a vector index over real embeddings (`examples/data/debian-demo.bin`:
//! 3,000 Debian package descriptions as all-MiniLM-L6-v2 vectors, made by
//! `bench/data/make_demo_set.py`) and answers 8 descriptions that are not in it, with an
//! exact and an HNSW index, natively and through the Interpreted backend (the same index
//! code compiled to wasm, run by wasmi), printing the hits and the time of each. The
//! interpreted HNSW index is loaded from the native one's bytes (same file format), so both
//! must return the same keys.

use std::time::{Duration, Instant};

use ferrovec::backend::InterpretedOptions;
use ferrovec::kernels::{self, Isa, Kernels, Metric};
use ferrovec::{Engine, HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate};

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
    kernel_scan()?;
    index_demo()
}

fn kernel_scan() -> Result<(), ferrovec::Error> {
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

/// The demo set: item vectors (dequantized), query vectors, and the texts of both.
struct DemoSet {
    dims: usize,
    items: Vec<f32>,
    queries: Vec<f32>,
    item_texts: Vec<String>,
    query_texts: Vec<String>,
}

const DEMO_SET: &[u8] = include_bytes!("data/debian-demo.bin");

/// Reads the format written by `bench/data/make_demo_set.py` (documented there).
fn read_demo_set(bytes: &[u8]) -> Option<DemoSet> {
    fn u32_at(b: &[u8], at: usize) -> Option<usize> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
    }
    if bytes.get(..8)? != b"FVDEMO01" {
        return None;
    }
    let (n_items, n_queries, dims) = (u32_at(bytes, 8)?, u32_at(bytes, 12)?, u32_at(bytes, 16)?);
    let row = 4 + dims;
    let mut at = 20;
    let mut vectors = Vec::with_capacity((n_items + n_queries) * dims);
    for _ in 0..n_items + n_queries {
        let scale = f32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
        let q = bytes.get(at + 4..at + row)?;
        vectors.extend(q.iter().map(|&b| f32::from(b as i8) * scale));
        at += row;
    }
    let text_len = u32_at(bytes, at)?;
    let text = std::str::from_utf8(bytes.get(at + 4..at + 4 + text_len)?).ok()?;
    let mut texts: Vec<String> = text.split('\n').map(str::to_string).collect();
    if texts.len() != n_items + n_queries {
        return None;
    }
    let query_texts = texts.split_off(n_items);
    let queries = vectors.split_off(n_items * dims);
    Some(DemoSet {
        dims,
        items: vectors,
        queries,
        item_texts: texts,
        query_texts,
    })
}

/// Per-query search times of one (backend, kind), for the summary.
struct Timings {
    name: &'static str,
    build: Duration,
    searches: Vec<Duration>,
}

impl Timings {
    fn mean_us(&self) -> f64 {
        let total: Duration = self.searches.iter().sum();
        total.as_secs_f64() * 1e6 / self.searches.len().max(1) as f64
    }
}

fn short(text: &str) -> String {
    if text.chars().count() > 64 {
        format!("{}...", text.chars().take(61).collect::<String>())
    } else {
        text.to_string()
    }
}

fn index_demo() -> Result<(), ferrovec::Error> {
    const K: usize = 5;
    let set = read_demo_set(DEMO_SET).expect("examples/data/debian-demo.bin is well-formed");
    let n = set.item_texts.len();
    let keys: Vec<u64> = (0..n as u64).collect();
    println!(
        "\nvector index: {n} Debian package descriptions (all-MiniLM-L6-v2, {} dims), cosine, \
         {} queries not in the index",
        set.dims,
        set.query_texts.len()
    );

    let native = Engine::native();
    // The bundled simd module when this build embeds it (`make demo` does), else the one
    // `make wasm` wrote.
    let interpreted = Engine::interpreted(&InterpretedOptions::new()).or_else(|_| {
        let bytes = std::fs::read("target/wasm/ferrovec-simd.wasm").map_err(|e| {
            ferrovec::Error::InvalidArgument(format!("no wasm module: run `make wasm` first ({e})"))
        })?;
        Engine::interpreted(&InterpretedOptions::new().module(bytes))
    })?;
    let options = IndexOptions::new(set.dims, IndexMetric::Cosine);
    let hnsw_params = HnswParams::default();

    let build = |engine: &Engine, options: IndexOptions| -> Result<(Index, Duration), _> {
        let index = Index::new(engine, options)?;
        let (r, t) = time(|| index.add_batch(&keys, &set.items, OnDuplicate::Error));
        r.map(|()| (index, t))
    };
    let (native_exact, t_ne) = build(&native, options.clone().exact())?;
    let (native_hnsw, t_nh) = build(&native, options.clone().hnsw(hnsw_params))?;
    let (interp_exact, t_ie) = build(&interpreted, options.clone().exact())?;
    let (bytes, t_save) = time(|| native_hnsw.to_bytes());
    let bytes = bytes?;
    let (interp_hnsw, t_load) = time(|| Index::from_bytes(&interpreted, &bytes));
    let interp_hnsw = interp_hnsw?;
    println!(
        "built: native exact {:.1} ms, native HNSW (M {}, ef_construction {}) {:.0} ms \
         ({:.0} vectors/s), interpreted exact {:.1} ms",
        ms(t_ne),
        hnsw_params.m,
        hnsw_params.ef_construction,
        ms(t_nh),
        n as f64 / t_nh.as_secs_f64(),
        ms(t_ie)
    );
    println!(
        "HNSW saved to {} KiB in {:.1} ms, loaded into the interpreted backend in {:.1} ms\n",
        bytes.len() / 1024,
        ms(t_save),
        ms(t_load)
    );

    let mut timings = [
        ("native exact", &native_exact, t_ne),
        ("native HNSW", &native_hnsw, t_nh),
        ("interpreted exact", &interp_exact, t_ie),
        ("interpreted HNSW", &interp_hnsw, t_load),
    ]
    .map(|(name, _, build)| Timings {
        name,
        build,
        searches: Vec::new(),
    });
    let indexes = [&native_exact, &native_hnsw, &interp_exact, &interp_hnsw];
    let mut recall_hits = 0;
    let mut agree = 0;
    for (qi, text) in set.query_texts.iter().enumerate() {
        let query = &set.queries[qi * set.dims..(qi + 1) * set.dims];
        let mut results: Vec<Vec<Match>> = Vec::new();
        for (index, t) in indexes.iter().zip(timings.iter_mut()) {
            // Best of 3: one search is short enough for a stray interrupt to dominate.
            let (hits, elapsed) = time(|| index.search(query, K));
            let best = (0..2)
                .map(|_| time(|| index.search(query, K)).1)
                .fold(elapsed, Duration::min);
            results.push(hits?);
            t.searches.push(best);
        }
        println!("query \"{text}\":");
        let exact_keys: Vec<u64> = results[0].iter().map(|m| m.key).collect();
        for (rank, m) in results[1].iter().enumerate() {
            let mark = if exact_keys.contains(&m.key) {
                ""
            } else {
                "  (not in the exact top 5)"
            };
            println!(
                "  {}. {:.3}  {}{mark}",
                rank + 1,
                m.distance,
                short(&set.item_texts[m.key as usize])
            );
        }
        recall_hits += results[1]
            .iter()
            .filter(|m| exact_keys.contains(&m.key))
            .count();
        let same_keys =
            |a: &[Match], b: &[Match]| a.iter().map(|m| m.key).eq(b.iter().map(|m| m.key));
        // The same index code on both backends: the same answers (up to rounding: the
        // kernels sum in a different order, which could swap near-ties).
        agree += usize::from(same_keys(&results[0], &results[2]));
        agree += usize::from(same_keys(&results[1], &results[3]));
        println!(
            "  times: {}",
            timings
                .iter()
                .map(|t| format!("{} {:.0} us", t.name, t.searches[qi].as_secs_f64() * 1e6))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!(
        "\nnative and interpreted returned the same keys in {agree} of {} searches (exact and \
         HNSW); HNSW recall@{K} vs exact: {:.2}",
        2 * set.query_texts.len(),
        recall_hits as f64 / (K * set.query_texts.len()) as f64
    );

    // A filter: only descriptions that mention a word, as a Rust closure (native) and as
    // an allow-list (works on every surface, including the wasm ABI).
    let word = "game";
    let query = &set.queries[..set.dims];
    let accept = |key: u64| set.item_texts[key as usize].to_lowercase().contains(word);
    let allowed: Vec<u64> = keys.iter().copied().filter(|&k| accept(k)).collect();
    let (filtered, t_f) = time(|| native_hnsw.search_filtered(query, 3, accept));
    let (allowed_hits, t_a) = time(|| interp_hnsw.search_allowed(query, 3, &allowed));
    println!(
        "\nquery \"{}\", only descriptions containing \"{word}\" ({} of {n}):",
        set.query_texts[0],
        allowed.len()
    );
    for (rank, m) in filtered?.iter().enumerate() {
        println!(
            "  {}. {:.3}  {}",
            rank + 1,
            m.distance,
            short(&set.item_texts[m.key as usize])
        );
    }
    // A rare filter costs HNSW a wide walk (it keeps going until k keys pass), while a
    // short allow-list is simply scanned.
    println!(
        "  native HNSW + closure {:.0} us; interpreted HNSW + allow-list {:.0} us ({} hits)",
        t_f.as_secs_f64() * 1e6,
        t_a.as_secs_f64() * 1e6,
        allowed_hits?.len()
    );

    println!("\nmean search time per query (k = {K}, best of 3 each) and build time:");
    let base = timings[0].mean_us();
    for t in &timings {
        println!(
            "  {:<18} {:>9.1} us  ({:>6.1}x native exact)   build/load {:>8.1} ms",
            t.name,
            t.mean_us(),
            t.mean_us() / base,
            ms(t.build)
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
