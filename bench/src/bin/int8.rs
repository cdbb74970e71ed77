//! The int8 encoder path (issue 13) against f32, single thread, per kernel table: the
//! linear-layer products of all-MiniLM-L6-v2 at 128 tokens (`gemm_nt_f32` against
//! `quantize_rows_i8` + `gemm_nt_i8`), and, when `FERROVEC_MINILM_DIR` names the model
//! directory (`make model`), the whole forward pass of one 128-token sequence, f32 and int8.
//!
//! ```text
//! FERROVEC_MINILM_DIR=~/.cache/ferrovec/models/all-minilm-l6-v2 \
//!     cargo run --release -p ferrovec-bench --bin int8
//! ```
//! Times are the best of several runs (thread CPU time); compare ratios within one run.
//! With `FERROVEC_PROFILE=int8` (or `f32`, and the model) it runs only that forward pass on
//! the active table for 8 s, for `perf record`.

use std::hint::black_box;
use std::sync::Arc;

use ferrovec_bench::CpuClock;
use ferrovec_core::encoder::{BertModel, ModelBytes, WeightPrecision, Workspace};
use ferrovec_core::kernels::{
    i8_padded_len, quantize_weights_i8, GemmNt, GemmNtI8, Isa, Kernels, QuantizedRows,
};

/// Best seconds per call of `f` over 5 runs of ~50 ms.
fn best_time(mut f: impl FnMut()) -> f64 {
    f();
    let start = CpuClock::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let reps = ((0.05 / once) as usize).clamp(1, 100_000);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = CpuClock::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn products(k: &Kernels) {
    let m = 128;
    for (n, kk, what) in [
        (384, 384, "q/k/v/out"),
        (1536, 384, "ffn1"),
        (384, 1536, "ffn2"),
    ] {
        let a = values(1, m * kk);
        let b = values(2, n * kk);
        let mut c = vec![0.0f32; m * n];
        let t32 = best_time(|| {
            k.gemm_nt_f32(&GemmNt::new(m, n, kk, &a, &b), &mut c, n)
                .unwrap();
            black_box(&c);
        });
        let ld = i8_padded_len(kk);
        let (mut bq, mut bs, mut bsum) = (vec![0i8; n * ld], vec![0.0f32; n], vec![0i32; n]);
        quantize_weights_i8(&b, kk, &mut bq, ld, &mut bs, &mut bsum).unwrap();
        let (mut aq, mut as_, mut az) = (vec![0i8; m * ld], vec![0.0f32; m], vec![0i32; m]);
        let tq = best_time(|| {
            k.quantize_rows_i8(&a, kk, &mut aq, ld, &mut as_, &mut az)
                .unwrap();
            black_box(&aq);
        });
        let ti8 = best_time(|| {
            let ar = QuantizedRows {
                values: &aq,
                scale: &as_,
                offset: &az,
            };
            let br = QuantizedRows {
                values: &bq,
                scale: &bs,
                offset: &bsum,
            };
            k.gemm_nt_i8(&GemmNtI8::new(m, n, ld, ar, br), &mut c, n)
                .unwrap();
            black_box(&c);
        });
        let gmac = (m * n * kk) as f64 / 1e9;
        println!(
            "{:>22} {what:>9} {m}x{n}x{kk}: f32 {:7.3} ms ({:5.1} GMAC/s)  int8 {:7.3} ms ({:5.1} GMAC/s) + quantize {:6.3} ms  speedup {:.2}x",
            k.variant(),
            t32 * 1e3,
            gmac / t32,
            ti8 * 1e3,
            gmac / ti8,
            tq * 1e3,
            t32 / (ti8 + tq)
        );
    }
}

fn model(dir: &std::path::Path) {
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let bytes: ModelBytes = Arc::new(read("model.safetensors"));
    let f32_model = BertModel::from_files(
        bytes,
        &read("config.json"),
        Some(&read("1_Pooling/config.json")),
        Some(&read("sentence_bert_config.json")),
    )
    .unwrap();
    let ids: Vec<u32> = std::iter::once(101)
        .chain((0..126).map(|i| 1000 + i * 37))
        .chain(std::iter::once(102))
        .collect();
    let mut out = vec![0.0f32; f32_model.dims()];
    if let Some(which) = std::env::var_os("FERROVEC_PROFILE") {
        let int8 = if which == "f32" {
            f32_model
        } else {
            f32_model.with_precision(WeightPrecision::Int8).unwrap()
        };
        let k = Kernels::active();
        let mut ws = Workspace::new();
        let t = std::time::Instant::now();
        while t.elapsed().as_secs() < 8 {
            int8.embed_ids(k, &[&ids], &mut out, &mut ws).unwrap();
        }
        std::process::exit(0);
    }
    let mut times = Vec::new();
    for k in Kernels::variants().filter(|k| k.isa() != Isa::Scalar) {
        let mut ws = Workspace::new();
        let t = best_time(|| f32_model.embed_ids(k, &[&ids], &mut out, &mut ws).unwrap());
        times.push(t);
    }
    let int8 = f32_model.with_precision(WeightPrecision::Int8).unwrap();
    for (k, t32) in Kernels::variants()
        .filter(|k| k.isa() != Isa::Scalar)
        .zip(times)
    {
        let mut ws = Workspace::new();
        let t8 = best_time(|| int8.embed_ids(k, &[&ids], &mut out, &mut ws).unwrap());
        println!(
            "{:>22} all-MiniLM-L6-v2, one 128-token sequence: f32 {:6.2} ms  int8 {:6.2} ms  speedup {:.2}x",
            k.variant(),
            t32 * 1e3,
            t8 * 1e3,
            t32 / t8
        );
    }
}

fn main() {
    for k in Kernels::variants()
        .filter(|k| k.isa() != Isa::Scalar && std::env::var_os("FERROVEC_PROFILE").is_none())
    {
        products(k);
    }
    if let Some(dir) = std::env::var_os("FERROVEC_MINILM_DIR") {
        model(std::path::Path::new(&dir));
    }
}
