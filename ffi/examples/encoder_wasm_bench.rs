//! The text encoder natively and in wasmi (the Interpreted backend, encoder modules), one
//! 128-token sequence of all-MiniLM-L6-v2, with f32 and with int8 weights: ms per sequence
//! and the ratio (one thread, one short run; not a test). `make bench-encoder-wasm` runs it and the V8 counterpart
//! (bindings/js/bench/encoder.mjs).
//!
//! `cargo run --release -p ferrovec --features bundled-wasm --example encoder_wasm_bench -- <model dir> [wasm dir]`

use std::time::Instant;

use ferrovec::backend::{BundledModule, InterpretedOptions};
use ferrovec::{Encoder, EncoderOptions, Engine, WeightPrecision};

/// 126 words of one token each: `[CLS]` + 126 + `[SEP]` = 128 tokens.
fn text_128() -> String {
    vec!["hello"; 126].join(" ")
}

fn time_ms(enc: &Encoder, text: &str, runs: usize) -> f64 {
    enc.embed_one(text).unwrap(); // warm
    let start = Instant::now();
    for _ in 0..runs {
        enc.embed_one(text).unwrap();
    }
    start.elapsed().as_secs_f64() * 1e3 / runs as f64
}

fn max_dev(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .expect("usage: encoder_wasm_bench <model dir> [wasm dir]");
    let text = text_128();
    // The simd module (FERROVEC_BENCH_SCALAR=1: the scalar one, several times slower again).
    let which = if std::env::var_os("FERROVEC_BENCH_SCALAR").is_some() {
        BundledModule::Scalar
    } else {
        BundledModule::Simd
    };
    let mut options = InterpretedOptions::new().bundled(which);
    if let Some(wasm) = args.get(1) {
        let read = |f: &str| std::fs::read(std::path::Path::new(wasm).join(f)).unwrap();
        options = InterpretedOptions::new()
            .module(read(which.file_name()))
            .encoder_module(read(which.encoder_file_name()));
    }
    let engine = Engine::interpreted(&options).unwrap();
    let mut f32_native = None;
    // f32, then int8 (the linear layers quantized at load, natively and in the module).
    for precision in [WeightPrecision::F32, WeightPrecision::Int8] {
        let opts = EncoderOptions::new().precision(precision);
        let native = Encoder::load_with(&Engine::native(), dir, opts).unwrap();
        assert_eq!(native.tokenize(&text).unwrap().len(), 128);
        let native_ms = time_ms(&native, &text, 20);
        let n = native.embed_one(&text).unwrap();
        let cosine: f32 = f32_native.as_ref().map_or(1.0, |f: &Vec<f32>| {
            f.iter().zip(&n).map(|(a, b)| a * b).sum()
        });
        println!(
            "{precision:?} native ({}): {native_ms:.2} ms per 128-token sequence (cosine vs f32 \
             {cosine:.5})",
            ferrovec::kernels::Kernels::active().variant()
        );
        let start = Instant::now();
        let enc = Encoder::load_with(&engine, dir, opts).unwrap();
        let load_ms = start.elapsed().as_secs_f64() * 1e3;
        let v = enc.embed_one(&text).unwrap();
        let dev = max_dev(&v, &n);
        let ms = time_ms(&enc, &text, 1);
        println!(
            "{precision:?} wasmi ({}): {ms:.0} ms per 128-token sequence ({:.0}x native; load \
             {load_ms:.0} ms; max deviation from native {dev:e})",
            which.encoder_file_name(),
            ms / native_ms
        );
        f32_native.get_or_insert(n);
    }
}
