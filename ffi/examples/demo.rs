//! `make demo`: the kernels and the vector index, natively and in the Interpreted backend.
//!
//! Part 1 scans a generated dataset: 100,000 unit vectors of 384 dimensions clustered
//! around 256 random centres (like real embeddings). Each query is a noisy copy of a known
//! row, so the right answer is known and printed beside the hits.
//!
//! Part 2 is text search: 3,000 Debian package descriptions (`examples/data/debian-demo.bin`
//! and `debian-demo-names.txt`) are embedded by ferrovec's own encoder (all-MiniLM-L6-v2,
//! `make model`) on every core, once: the text index is cached as an index file keyed by the
//! model id (`$FERROVEC_CACHE/demo/`, default `~/.cache/ferrovec/demo/`), so later runs load
//! it in milliseconds. Then text queries: the ones on the command line
//! (`make demo Q="play chess"`), or typed at a prompt when stdin is a terminal, or else a
//! fixed set of examples. Each prints the top package names and descriptions with their
//! distances and the time to embed the query and to search, exactly and with HNSW, natively
//! and through the Interpreted backend (the same index code compiled to wasm, run by
//! wasmi; its HNSW index is loaded from the native one's bytes, so both return the same
//! keys).
//!
//! `cargo run --release -p ferrovec --example demo -- [QUERY...]`; the model directory is
//! `$FERROVEC_MINILM_DIR` (default `~/.cache/ferrovec/models/all-minilm-l6-v2`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferrovec::backend::InterpretedOptions;
use ferrovec::kernels::{self, Isa, Kernels, Metric};
use ferrovec::{Encoder, Engine, HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate};

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
    // Every argument together is one query (`make demo Q="..."` passes one).
    let query = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let query = query.trim();
    if query.is_empty() {
        kernel_scan()?;
    }
    let demo = TextDemo::new()?;
    if !query.is_empty() {
        demo.answer(query)?;
    } else if std::io::stdin().is_terminal() {
        demo.examples()?;
        demo.interactive()?;
    } else {
        demo.examples()?;
    }
    Ok(())
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
#[allow(dead_code)] // the query vectors and texts are the bench's (make_demo_set.py)
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

/// The Debian package name(s) of each text of the set, one line per text (bench/data/make_demo_names.py).
const DEMO_NAMES: &str = include_str!("data/debian-demo-names.txt");

/// The example queries of a run without a query: plain requests, not package descriptions.
const EXAMPLES: [&str; 6] = [
    "play chess against the computer",
    "read PDF files with vim keys",
    "weather forecast in the terminal",
    "draw and edit pictures",
    "make up secure passwords",
    "music player for the desktop",
];

const K: usize = 5;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}...", text.chars().take(max - 3).collect::<String>())
    } else {
        text.to_string()
    }
}

fn cache_dir() -> PathBuf {
    match std::env::var_os("FERROVEC_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cache/ferrovec"),
            None => PathBuf::from("target"),
        },
    }
}

/// FNV-1a of the texts, so a cached index is only reused for the same corpus.
fn texts_hash(texts: &[String]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for t in texts {
        for &b in t.as_bytes().iter().chain(b"\n") {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The text indexes of part 2 and what they answer with.
struct TextDemo {
    /// One thread: what a query costs (the corpus used every core).
    encoder: Encoder,
    texts: Vec<String>,
    names: Vec<String>,
    exact: Index,
    hnsw: Index,
    interp_exact: Index,
    interp_hnsw: Index,
}

/// The hits and times of one query on the four indexes.
struct Answer {
    embed: Duration,
    hits: Vec<Vec<Match>>,
    times: Vec<Duration>,
}

const NAMES: [&str; 4] = [
    "native exact",
    "native HNSW",
    "interpreted exact",
    "interpreted HNSW",
];

impl TextDemo {
    fn new() -> Result<TextDemo, ferrovec::Error> {
        let set = read_demo_set(DEMO_SET).expect("examples/data/debian-demo.bin is well-formed");
        let names: Vec<String> = DEMO_NAMES.lines().map(str::to_string).collect();
        assert_eq!(names.len(), set.item_texts.len() + set.query_texts.len());
        let n = set.item_texts.len();
        let keys: Vec<u64> = (0..n as u64).collect();

        let model_dir = std::env::var_os("FERROVEC_MINILM_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache_dir().join("models/all-minilm-l6-v2"));
        let native = Engine::native();
        let (encoder, t_load) = time(|| Encoder::load(&native, &model_dir));
        let encoder = encoder.map_err(|e| {
            ferrovec::Error::InvalidArgument(format!(
                "the demo needs all-MiniLM-L6-v2 in {} (run `make model`): {e}",
                model_dir.display()
            ))
        })?;
        let all_cores = encoder.with_threads(0);
        println!(
            "\ntext search: all-MiniLM-L6-v2 ({} dims, model id {:016x}) loaded from {} in {:.0} ms",
            encoder.dims(),
            encoder.model_id(),
            model_dir.display(),
            ms(t_load)
        );

        // The exact text index, cached as an index file (format v2: it records the model
        // id, so a file made by another model is refused and rebuilt).
        let cache = cache_dir().join("demo").join(format!(
            "debian-{n}-{:016x}-model-{:016x}.fvix",
            texts_hash(&set.item_texts),
            encoder.model_id()
        ));
        let exact_options = IndexOptions::new(encoder.dims(), IndexMetric::Cosine);
        let (cached, t_cached) = time(|| Index::load_with_encoder(&native, &cache, &encoder));
        let exact = match cached {
            Ok(index) if index.len() == n => {
                println!(
                    "loaded the {n} embedded descriptions from the cache {} in {:.1} ms",
                    cache.display(),
                    ms(t_cached)
                );
                index
            }
            _ => {
                let index = Index::new_text(&native, &all_cores, exact_options)?;
                let (r, t) = time(|| index.add_texts(&keys, &set.item_texts));
                r?;
                let tokens: usize = set
                    .item_texts
                    .iter()
                    .map(|t| encoder.tokenize(t).map_or(0, |ids| ids.len()))
                    .sum();
                println!(
                    "embedded {n} descriptions ({tokens} tokens) with ferrovec's encoder on {} \
                     threads in {:.2} s ({:.0} texts/s)",
                    all_cores.threads(),
                    t.as_secs_f64(),
                    n as f64 / t.as_secs_f64()
                );
                let saved = std::fs::create_dir_all(cache.parent().expect("a file in a dir"))
                    .map_err(|e| ferrovec::Error::InvalidArgument(e.to_string()))
                    .and_then(|()| index.save(&cache));
                match saved {
                    Ok(()) => println!("cached as {} (the next run loads it)", cache.display()),
                    Err(e) => println!("(not cached: {e})"),
                }
                index
            }
        };
        // The vectors once more, for the other indexes; and against the reference vectors
        // the set ships (numpy's all-MiniLM-L6-v2, stored as i8).
        let mut vectors = Vec::with_capacity(n * encoder.dims());
        for &k in &keys {
            vectors.extend(exact.get(k)?);
        }
        let d = encoder.dims();
        let cosines: Vec<f32> = (0..n)
            .map(|i| {
                let (a, b) = (&vectors[i * d..(i + 1) * d], &set.items[i * d..(i + 1) * d]);
                let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                let nb: f32 = b.iter().map(|y| y * y).sum::<f32>().sqrt();
                dot / nb
            })
            .collect();
        println!(
            "cosine to the reference embeddings shipped with the set (numpy, i8-quantized): \
             mean {:.4}, min {:.4}",
            cosines.iter().sum::<f32>() / n as f32,
            cosines.iter().copied().fold(1.0, f32::min)
        );

        let hnsw_params = HnswParams::default();
        let hnsw = Index::new_text(&native, &encoder, exact.options().hnsw(hnsw_params))?;
        let (r, t_hnsw) = time(|| hnsw.add_batch(&keys, &vectors, OnDuplicate::Error));
        r?;
        // The bundled simd module when this build embeds it (`make demo` does), else the one
        // `make wasm` wrote.
        let interpreted = Engine::interpreted(&InterpretedOptions::new()).or_else(|_| {
            let bytes = std::fs::read("target/wasm/ferrovec-simd.wasm").map_err(|e| {
                ferrovec::Error::InvalidArgument(format!(
                    "no wasm module: run `make wasm` first ({e})"
                ))
            })?;
            Engine::interpreted(&InterpretedOptions::new().module(bytes))
        })?;
        let interp_exact = Index::new(&interpreted, exact.options())?;
        let (r, t_ie) = time(|| interp_exact.add_batch(&keys, &vectors, OnDuplicate::Error));
        r?;
        let bytes = hnsw.to_bytes()?;
        let (interp_hnsw, t_il) =
            time(|| Index::from_bytes_with_encoder(&interpreted, &bytes, &encoder));
        let interp_hnsw = interp_hnsw?;
        println!(
            "indexes: native HNSW (M {}, ef_construction {}) built in {:.0} ms, interpreted exact \
             in {:.0} ms, interpreted HNSW loaded from the native one's {} KiB (format v2, \
             model id {:016x}) in {:.1} ms",
            hnsw_params.m,
            hnsw_params.ef_construction,
            ms(t_hnsw),
            ms(t_ie),
            bytes.len() / 1024,
            interp_hnsw.model_id().unwrap_or(0),
            ms(t_il)
        );
        Ok(TextDemo {
            encoder,
            texts: set.item_texts,
            names,
            exact,
            hnsw,
            interp_exact,
            interp_hnsw,
        })
    }

    fn search(&self, query: &str) -> Result<Answer, ferrovec::Error> {
        // Embedding the query, timed on its own (search_text does both steps in one call).
        let (q, embed) = time(|| self.encoder.embed_one(query));
        let q = q?;
        let mut hits = Vec::new();
        let mut times = Vec::new();
        for index in [
            &self.exact,
            &self.hnsw,
            &self.interp_exact,
            &self.interp_hnsw,
        ] {
            // Best of 3: one search is short enough for a stray interrupt to dominate.
            let (h, first) = time(|| index.search(&q, K));
            let best = (0..2)
                .map(|_| time(|| index.search(&q, K)).1)
                .fold(first, Duration::min);
            hits.push(h?);
            times.push(best);
        }
        Ok(Answer { embed, hits, times })
    }

    /// Prints the HNSW hits of `query` (marking any not in the exact top k) and the times.
    fn answer(&self, query: &str) -> Result<Answer, ferrovec::Error> {
        let a = self.search(query)?;
        println!("\nquery \"{query}\":");
        let exact_keys: Vec<u64> = a.hits[0].iter().map(|m| m.key).collect();
        for (rank, m) in a.hits[1].iter().enumerate() {
            let mark = if exact_keys.contains(&m.key) {
                ""
            } else {
                "  (not in the exact top 5)"
            };
            println!(
                "  {}. {:.3}  {:<24} {}{mark}",
                rank + 1,
                m.distance,
                short(&self.names[m.key as usize], 24),
                short(&self.texts[m.key as usize], 60)
            );
        }
        println!(
            "  embed {:.1} ms; search: {}",
            ms(a.embed),
            NAMES
                .iter()
                .zip(&a.times)
                .map(|(name, t)| format!("{name} {:.0} us", us(*t)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(a)
    }

    /// The fixed examples, a filtered search and a summary of the times.
    fn examples(&self) -> Result<(), ferrovec::Error> {
        let mut answers = Vec::new();
        for q in EXAMPLES {
            answers.push(self.answer(q)?);
        }
        let same_keys =
            |a: &[Match], b: &[Match]| a.iter().map(|m| m.key).eq(b.iter().map(|m| m.key));
        // The same index code on both backends: the same answers (up to rounding: the
        // kernels sum in a different order, which could swap near-ties).
        let agree: usize = answers
            .iter()
            .map(|a| {
                usize::from(same_keys(&a.hits[0], &a.hits[2]))
                    + usize::from(same_keys(&a.hits[1], &a.hits[3]))
            })
            .sum();
        let recall: usize = answers
            .iter()
            .map(|a| {
                a.hits[1]
                    .iter()
                    .filter(|m| a.hits[0].iter().any(|e| e.key == m.key))
                    .count()
            })
            .sum();
        println!(
            "\nnative and interpreted returned the same keys in {agree} of {} searches (exact and \
             HNSW); HNSW recall@{K} vs exact: {:.2}",
            2 * answers.len(),
            recall as f64 / (K * answers.len()) as f64
        );

        // A filter: only descriptions that mention a word, as a Rust closure (native) and as
        // an allow-list (works on every surface, including the wasm ABI).
        let (word, query) = ("game", "play chess against the computer");
        let q = self.encoder.embed_one(query)?;
        let accept = |key: u64| self.texts[key as usize].to_lowercase().contains(word);
        let allowed: Vec<u64> = (0..self.texts.len() as u64)
            .filter(|&k| accept(k))
            .collect();
        let (filtered, t_f) = time(|| self.hnsw.search_filtered(&q, 3, accept));
        let (allowed_hits, t_a) = time(|| self.interp_hnsw.search_allowed(&q, 3, &allowed));
        println!(
            "\nquery \"{query}\", only descriptions containing \"{word}\" ({} of {}):",
            allowed.len(),
            self.texts.len()
        );
        for (rank, m) in filtered?.iter().enumerate() {
            println!(
                "  {}. {:.3}  {:<24} {}",
                rank + 1,
                m.distance,
                short(&self.names[m.key as usize], 24),
                short(&self.texts[m.key as usize], 60)
            );
        }
        println!(
            "  native HNSW + closure {:.0} us; interpreted HNSW + allow-list {:.0} us ({} hits)",
            us(t_f),
            us(t_a),
            allowed_hits?.len()
        );

        let n = answers.len() as f64;
        let embed = answers.iter().map(|a| ms(a.embed)).sum::<f64>() / n;
        println!(
            "\nmean per query (k = {K}, searches best of 3): embed {embed:.1} ms (one thread)"
        );
        let base: f64 = answers.iter().map(|a| us(a.times[0])).sum::<f64>() / n;
        for (i, name) in NAMES.iter().enumerate() {
            let mean = answers.iter().map(|a| us(a.times[i])).sum::<f64>() / n;
            println!(
                "  {name:<18} {mean:>9.1} us  ({:>6.1}x native exact)",
                mean / base
            );
        }
        // The one-call form every surface gets.
        let hits = self.hnsw.search_text("a text editor for programmers", 1)?;
        println!(
            "\nindex.search_text(\"a text editor for programmers\", 1): {} ({})",
            self.names[hits[0].key as usize], self.texts[hits[0].key as usize]
        );
        Ok(())
    }

    /// Queries typed at a prompt until an empty line or end of input.
    fn interactive(&self) -> Result<(), ferrovec::Error> {
        let stdin = std::io::stdin();
        loop {
            print!("\nsearch (empty line to quit)> ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                return Ok(());
            }
            self.answer(line.trim())?;
        }
    }
}
