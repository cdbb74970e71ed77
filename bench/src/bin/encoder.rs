//! The BERT sentence encoder (all-MiniLM-L6-v2, issue 13) per kernel table, single thread,
//! against candle-transformers' `BertModel` (0.11.1, CPU, one thread; feature
//! `encoder-peers`), on the same token ids; writes the ids, ferrovec's embeddings and every
//! figure as JSON for `bench/peers/encoder_peers.py`, which runs ONNX Runtime on the same ids
//! and prints the combined table (`make bench-encoder` runs both).
//!
//! ```text
//! cargo run --release -p ferrovec-bench --features encoder-peers --bin encoder -- \
//!     [--model DIR] [--json FILE] [--quick]
//! ```
//!
//! Times are this process's CPU time (all threads: candle runs part of its work on rayon's
//! pool), the best of several timed runs, so the other processes of a shared machine cost
//! less; `encoder_peers.py` times ONNX Runtime the same way (`time.process_time`). Compare
//! the ratios within one run. FLOPs per sequence of `n` tokens: per layer
//! `8 n h² + 4 n h i` (the six linear layers) `+ 4 n² h` (scores and context), `h` = hidden,
//! `i` = intermediate size.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrovec_bench::peak::peak_gflops;
use ferrovec_core::encoder::tokenizer::{WordPieceOptions, WordPieceTokenizer};
use ferrovec_core::encoder::{BertModel, ModelBytes, WeightPrecision, Workspace};
use ferrovec_core::kernels::{Isa, Kernels};

type Error = Box<dyn std::error::Error>;

/// Seconds now on the clock the engines are timed with: this process's CPU time (all
/// threads: candle runs part of its work on rayon's pool), wall time where there is none.
fn now() -> f64 {
    static WALL: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    ferrovec_bench::process_cpu_time()
        .unwrap_or_else(|| WALL.get_or_init(Instant::now).elapsed())
        .as_secs_f64()
}

/// Best seconds per call of `f` ([`now`]): `runs` timed runs of about `budget` each.
fn best_time(mut f: impl FnMut(), budget: Duration, runs: usize) -> f64 {
    f(); // warm caches and buffers
    let start = now();
    f();
    let once = (now() - start).max(1e-7);
    let reps = ((budget.as_secs_f64() / once) as usize).clamp(1, 100_000);
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = now();
        for _ in 0..reps {
            f();
        }
        best = best.min((now() - start) / reps as f64);
    }
    best
}

/// Text the sequences are cut from: several paragraphs of plain English (the model's
/// domain), tokenized once.
const TEXT: &[&str] = &[
    "The weather is lovely today, and the forecast says the sunshine will last through the weekend, so the park by the river will be crowded with families, cyclists and people walking their dogs.",
    "A vector database stores embeddings of documents and answers nearest-neighbour queries: given the embedding of a question, it returns the passages whose vectors are closest, usually by cosine similarity.",
    "He drove to the stadium early in the morning to avoid the traffic, parked near the north gate, and waited for the doors to open while listening to the radio commentary on the previous night's match.",
    "Compilers translate source code into machine instructions; modern ones perform aggressive optimizations such as inlining, loop unrolling, vectorization and register allocation to make programs run faster.",
    "The museum's new exhibition covers three centuries of maritime history, from wooden sailing ships and hand-drawn charts to steam engines, radar and the container vessels that carry most of today's trade.",
    "Small language models can run on phones and laptops without a network connection, which keeps private data on the device and removes the latency of a round trip to a server in a distant data centre.",
];

struct Inputs {
    seq128: Vec<u32>,
    seq16: Vec<u32>,
    batch: Vec<Vec<u32>>,
}

/// The benchmark's token ids: one 128-token and one 16-token sequence, and 32 sequences of
/// lengths 5..=128 (deterministic), each `[CLS] ... [SEP]`.
fn inputs(tok: &WordPieceTokenizer) -> Result<Inputs, Error> {
    let mut words = Vec::new();
    for t in TEXT {
        let ids = tok.encode(t, 10_000)?;
        words.extend_from_slice(&ids[1..ids.len() - 1]);
    }
    let (cls, sep) = (tok.cls_id(), tok.sep_id());
    let cut = |offset: usize, len: usize| -> Vec<u32> {
        let mut v = vec![cls];
        v.extend((0..len - 2).map(|i| words[(offset + i) % words.len()]));
        v.push(sep);
        v
    };
    let mut state = 0x5eed_u64;
    let batch = (0..32)
        .map(|i| {
            // Lengths spread over 5..=128: the ends included, the rest pseudo-random.
            let len = match i {
                0 => 5,
                1 => 128,
                _ => 5 + (ferrovec_bench::splitmix64(&mut state) % 124) as usize,
            };
            cut(i * 37, len)
        })
        .collect();
    Ok(Inputs {
        seq128: cut(0, 128),
        seq16: cut(50, 16),
        batch,
    })
}

fn model_dir() -> PathBuf {
    let mut args = std::env::args().skip_while(|a| a != "--model");
    if let Some(dir) = args.nth(1) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("FERROVEC_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/ferrovec")
        });
    cache.join("models/all-minilm-l6-v2")
}

/// FLOPs of one forward pass over a sequence of `n` tokens.
fn flops(cfg: &ferrovec_core::encoder::BertConfig, n: usize) -> f64 {
    let (n, h, i) = (
        n as f64,
        cfg.hidden_size as f64,
        cfg.intermediate_size as f64,
    );
    cfg.num_hidden_layers as f64 * (8.0 * n * h * h + 4.0 * n * h * i + 4.0 * n * n * h)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum();
    dot / (na * nb).sqrt()
}

fn json_floats(v: &[f32]) -> String {
    let mut s = String::from("[");
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write!(s, "{x:e}").unwrap();
    }
    s.push(']');
    s
}

fn json_ids(v: &[u32]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// One kernel table's figures.
struct TableResult {
    isa: Isa,
    ms128: f64,
    ms16: f64,
    batch_ms: f64,
    peak: Option<f64>,
}

#[cfg(feature = "encoder-peers")]
mod candle_peer {
    use super::*;
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel as CBert, Config, HiddenAct};

    pub struct Candle {
        model: CBert,
    }

    impl Candle {
        pub fn load(
            bytes: &[u8],
            cfg: &ferrovec_core::encoder::BertConfig,
        ) -> Result<Candle, Error> {
            let vb = VarBuilder::from_slice_safetensors(bytes, DType::F32, &Device::Cpu)?;
            let config = Config {
                vocab_size: cfg.vocab_size,
                hidden_size: cfg.hidden_size,
                num_hidden_layers: cfg.num_hidden_layers,
                num_attention_heads: cfg.num_attention_heads,
                intermediate_size: cfg.intermediate_size,
                hidden_act: HiddenAct::Gelu, // exact erf, as BERT's "gelu"
                max_position_embeddings: cfg.max_position_embeddings,
                type_vocab_size: cfg.type_vocab_size,
                layer_norm_eps: cfg.layer_norm_eps as f64,
                ..Config::default()
            };
            Ok(Candle {
                model: CBert::load(vb, &config)?,
            })
        }

        /// Mean-pooled, L2-normalized embedding of one sequence (as ferrovec's).
        pub fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, Error> {
            let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
            let types = input.zeros_like()?;
            let out = self.model.forward(&input, &types, None)?; // [1, n, h]
            let mean = out.mean(1)?; // [1, h]
            let v: Vec<f32> = mean.squeeze(0)?.to_vec1()?;
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            Ok(v.iter().map(|x| x / norm).collect())
        }
    }
}

/// ferrovec's int8 encoder (`WeightPrecision::Int8`, quantized from the f32 checkpoint at
/// load) on one table: its times and the cosine of its embeddings to the f32 ones.
struct Int8Result {
    variant: &'static str,
    ms128: f64,
    ms16: f64,
    batch_ms: f64,
    cos_mean: f64,
    cos_min: f64,
}

#[allow(clippy::too_many_arguments)]
fn ferrovec_int8(
    int8: &BertModel,
    k: &Kernels,
    seqs: [&[&[u32]]; 3],
    f32_emb: [&[f32]; 3],
    budget: Duration,
    runs: usize,
) -> Result<Int8Result, Error> {
    let dims = int8.dims();
    let mut ws = Workspace::new();
    let mut ms = [0.0f64; 3];
    let mut cos = Vec::new();
    for ((seq, reference), ms) in seqs.iter().zip(f32_emb).zip(&mut ms) {
        let mut out = vec![0.0f32; seq.len() * dims];
        *ms = best_time(
            || int8.embed_ids(k, seq, &mut out, &mut ws).unwrap(),
            budget,
            runs,
        ) * 1e3;
        cos.extend(
            out.chunks_exact(dims)
                .zip(reference.chunks_exact(dims))
                .map(|(a, b)| cosine(a, b)),
        );
    }
    Ok(Int8Result {
        variant: k.variant(),
        ms128: ms[0],
        ms16: ms[1],
        batch_ms: ms[2],
        cos_mean: cos.iter().sum::<f64>() / cos.len() as f64,
        cos_min: cos.iter().copied().fold(f64::INFINITY, f64::min),
    })
}

fn main() -> Result<(), Error> {
    // candle's matmul threads follow rayon's variable: one thread, as every engine here.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let quick = std::env::args().any(|a| a == "--quick");
    let json_path = std::env::args()
        .skip_while(|a| a != "--json")
        .nth(1)
        .map(PathBuf::from);
    let budget = Duration::from_millis(if quick { 150 } else { 600 });
    let runs = if quick { 2 } else { 5 };

    let dir = model_dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .map_err(|e| format!("{}: {e} (run `make model` first)", dir.join(name).display()))
    };
    let config_json = read("config.json")?;
    let pooling_json = read("1_Pooling/config.json")?;
    let sbert_json = read("sentence_bert_config.json")?;
    let vocab = read("vocab.txt")?;
    let st_path = dir.join("model.safetensors");
    let weights_vec = std::fs::read(&st_path)?;
    let model_mb = weights_vec.len() as f64 / 1e6;
    let bytes: ModelBytes = Arc::new(weights_vec);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("# ferrovec encoder bench: all-MiniLM-L6-v2, one thread, process CPU time (best of {runs} runs of ~{budget:?})");
    println!("# load average at start: {}", load.join(" "));

    // Load time: weights borrowed from bytes already in memory, and from disk (read + load).
    let from_memory = best_time(
        || {
            black_box(
                BertModel::from_files(
                    bytes.clone(),
                    &config_json,
                    Some(&pooling_json),
                    Some(&sbert_json),
                )
                .unwrap(),
            );
        },
        Duration::from_millis(200),
        5,
    );
    let from_disk = best_time(
        || {
            let b: ModelBytes = Arc::new(std::fs::read(&st_path).unwrap());
            black_box(
                BertModel::from_files(b, &config_json, Some(&pooling_json), Some(&sbert_json))
                    .unwrap(),
            );
        },
        Duration::from_millis(300),
        3,
    );
    let model = BertModel::from_files(
        bytes.clone(),
        &config_json,
        Some(&pooling_json),
        Some(&sbert_json),
    )?;
    let cfg = model.config().clone();
    let dims = model.dims();
    println!(
        "load {model_mb:.1} MB model: {:.3} ms from bytes in memory (borrowed: {} B, owned: {} B); {:.1} ms read from disk (page cache) + load",
        from_memory * 1e3,
        model.weights().borrowed_bytes(),
        model.weights().owned_bytes(),
        from_disk * 1e3
    );

    let tok = WordPieceTokenizer::from_vocab_txt(&vocab, WordPieceOptions::default())?;
    let inp = inputs(&tok)?;
    let batch: Vec<&[u32]> = inp.batch.iter().map(|s| &s[..]).collect();
    let batch_tokens: usize = batch.iter().map(|s| s.len()).sum();

    // One table per ISA (the AVX-512 sub-variants share the dense kernels).
    let mut tables: Vec<&'static Kernels> = Vec::new();
    for k in Kernels::variants() {
        if !tables.iter().any(|s| s.isa() == k.isa()) {
            tables.push(k);
        }
    }
    if !tables.iter().any(|k| k.isa() == Isa::Avx512) {
        println!("# no AVX-512 on this CPU: that table is skipped");
    }

    let mut results = Vec::new();
    let mut emb128 = vec![0.0f32; dims];
    let mut emb16 = vec![0.0f32; dims];
    let mut emb_batch = vec![0.0f32; batch.len() * dims];
    let mut ref128: Option<Vec<f32>> = None;
    let mut ws_bytes = 0;
    for k in &tables {
        let mut ws = Workspace::new();
        let mut t = |seq: &[&[u32]], out: &mut [f32]| {
            best_time(
                || model.embed_ids(k, seq, out, &mut ws).unwrap(),
                if k.isa() == Isa::Scalar {
                    budget / 3
                } else {
                    budget
                },
                if k.isa() == Isa::Scalar { 1 } else { runs },
            )
        };
        let ms128 = t(&[&inp.seq128], &mut emb128) * 1e3;
        let ms16 = t(&[&inp.seq16], &mut emb16) * 1e3;
        let batch_ms = t(&batch, &mut emb_batch) * 1e3;
        let mut ws128 = Workspace::new();
        model.embed_ids(k, &[&inp.seq128], &mut emb128, &mut ws128)?;
        ws_bytes = ws128.bytes();
        match &ref128 {
            None => ref128 = Some(emb128.clone()),
            Some(r) => println!(
                "# {} vs {}: cosine {:.7} at 128 tokens",
                k.isa().name(),
                tables[0].isa().name(),
                cosine(r, &emb128)
            ),
        }
        results.push(TableResult {
            isa: k.isa(),
            ms128,
            ms16,
            batch_ms,
            peak: peak_gflops(k.isa()),
        });
    }
    let (f128, f16) = (flops(&cfg, 128), flops(&cfg, 16));
    let f_batch: f64 = batch.iter().map(|s| flops(&cfg, s.len())).sum();
    println!(
        "FLOPs per sequence: {:.3} GFLOP at 128 tokens, {:.4} GFLOP at 16; batch of {} ({} tokens, lengths 5..=128): {:.3} GFLOP",
        f128 / 1e9,
        f16 / 1e9,
        batch.len(),
        batch_tokens,
        f_batch / 1e9
    );
    println!(
        "{:<8} {:>10} {:>16} {:>10} {:>16} {:>12} {:>16} {:>10}",
        "table",
        "128 tok ms",
        "GFLOP/s (%peak)",
        "16 tok ms",
        "GFLOP/s (%peak)",
        "batch32 ms",
        "GFLOP/s (%peak)",
        "peak"
    );
    let pct = |g: f64, p: Option<f64>| match p {
        Some(p) => format!("{g:.1} ({:.0}%)", 100.0 * g / p),
        None => format!("{g:.1}"),
    };
    for r in &results {
        println!(
            "{:<8} {:>10.3} {:>16} {:>10.3} {:>16} {:>12.2} {:>16} {:>10}",
            r.isa.name(),
            r.ms128,
            pct(f128 / r.ms128 / 1e6, r.peak),
            r.ms16,
            pct(f16 / r.ms16 / 1e6, r.peak),
            r.batch_ms,
            pct(f_batch / r.batch_ms / 1e6, r.peak),
            r.peak.map_or("-".to_string(), |p| format!("{p:.1}"))
        );
    }
    println!(
        "extra memory at 128 tokens: Workspace::bytes() = {} B ({:.2} MB; goal <= 8 MB: {})",
        ws_bytes,
        ws_bytes as f64 / 1e6,
        if ws_bytes as f64 <= 8e6 {
            "met"
        } else {
            "NOT met"
        }
    );

    // candle-transformers.
    #[cfg(feature = "encoder-peers")]
    let candle_json = {
        let c = candle_peer::Candle::load(bytes.as_ref().as_ref(), &cfg)?;
        let e128 = c.embed(&inp.seq128)?;
        let e16 = c.embed(&inp.seq16)?;
        let c128 = best_time(
            || drop(black_box(c.embed(&inp.seq128).unwrap())),
            budget,
            runs,
        ) * 1e3;
        let c16 = best_time(
            || drop(black_box(c.embed(&inp.seq16).unwrap())),
            budget,
            runs,
        ) * 1e3;
        let cos = cosine(&e128, &emb128).min(cosine(&e16, &emb16));
        println!(
            "candle-transformers 0.11.1 BertModel (1 thread): {c128:.3} ms at 128 tokens, {c16:.3} ms at 16; min cosine vs ferrovec {cos:.6}"
        );
        format!("{{\"ms128\":{c128},\"ms16\":{c16},\"cosine_min\":{cos}}}")
    };
    #[cfg(not(feature = "encoder-peers"))]
    let candle_json = {
        println!("# candle: not built (feature encoder-peers off)");
        String::from("null")
    };

    // ferrovec int8 on the best table of this CPU (the f32 tables above share their dense
    // kernels across AVX-512 sub-variants; the int8 product does not: VNNI has its own).
    let int8_model = BertModel::from_files(
        bytes.clone(),
        &config_json,
        Some(&pooling_json),
        Some(&sbert_json),
    )?
    .with_precision(WeightPrecision::Int8)?;
    let int8 = ferrovec_int8(
        &int8_model,
        Kernels::active(),
        [&[&inp.seq128], &[&inp.seq16], &batch],
        [&emb128, &emb16, &emb_batch],
        budget,
        runs,
    )?;
    println!(
        "ferrovec int8 ({}): {:.3} ms at 128 tokens, {:.3} ms at 16, batch {:.2} ms; cosine vs ferrovec f32: mean {:.5}, min {:.5} ({} sequences)",
        int8.variant,
        int8.ms128,
        int8.ms16,
        int8.batch_ms,
        int8.cos_mean,
        int8.cos_min,
        2 + batch.len()
    );
    let int8_json = format!(
        "{{\"variant\":\"{}\",\"ms128\":{},\"ms16\":{},\"batch_ms\":{},\"cos_mean\":{},\"cos_min\":{}}}",
        int8.variant, int8.ms128, int8.ms16, int8.batch_ms, int8.cos_mean, int8.cos_min
    );

    if let Some(path) = json_path {
        let mut j = String::from("{\n");
        writeln!(j, "\"load_avg\":\"{}\",", load.join(" "))?;
        writeln!(
            j,
            "\"dims\":{dims},\"flops128\":{f128},\"flops16\":{f16},\"flops_batch\":{f_batch},"
        )?;
        writeln!(
            j,
            "\"load_ms_memory\":{},\"load_ms_disk\":{},\"model_mb\":{model_mb},\"workspace_bytes\":{ws_bytes},",
            from_memory * 1e3,
            from_disk * 1e3
        )?;
        writeln!(
            j,
            "\"seq128\":{},\"seq16\":{},",
            json_ids(&inp.seq128),
            json_ids(&inp.seq16)
        )?;
        writeln!(
            j,
            "\"batch\":[{}],",
            batch
                .iter()
                .map(|s| json_ids(s))
                .collect::<Vec<_>>()
                .join(",")
        )?;
        writeln!(
            j,
            "\"emb128\":{},\"emb16\":{},",
            json_floats(&emb128),
            json_floats(&emb16)
        )?;
        writeln!(j, "\"emb_batch\":{},", json_floats(&emb_batch))?;
        let tables_json: Vec<String> = results
            .iter()
            .map(|r| {
                format!(
                    "{{\"isa\":\"{}\",\"ms128\":{},\"ms16\":{},\"batch_ms\":{},\"peak\":{}}}",
                    r.isa.name(),
                    r.ms128,
                    r.ms16,
                    r.batch_ms,
                    r.peak.map_or("null".to_string(), |p| p.to_string())
                )
            })
            .collect();
        writeln!(j, "\"tables\":[{}],", tables_json.join(","))?;
        writeln!(j, "\"candle\":{candle_json},\"ferrovec_int8\":{int8_json}")?;
        j.push_str("}\n");
        std::fs::write(&path, j)?;
        println!("# wrote {}", path.display());
    }
    Ok(())
}
