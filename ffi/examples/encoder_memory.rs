//! The memory an encoder keeps after loading (issue 13, int8 "4x smaller in memory"): the
//! process's resident set (`VmRSS` in /proc/self/status, Linux) before and after
//! `Encoder::load_with`, and after embedding one text, with `Encoder::memory_bytes`. One
//! model, one precision and one backend per process, so nothing freed by an earlier load
//! blurs the numbers (not a test).
//!
//! ```text
//! cargo run --release -p ferrovec --example encoder_memory -- <model dir> f32|int8 [native|interpreted <wasm dir>]
//! ```
//! `<wasm dir>` holds `ferrovec-simd.wasm` and `ferrovec-encoder-simd.wasm` (`make wasm`).
//!
//! Measured for all-MiniLM-L6-v2 (model.safetensors 90.9 MB), release build, VmRSS after
//! load: Native f32 +94.7 MB (memory_bytes 90.9 MB), Native int8 +25.1 MB (23.5 MB): 0.265x
//! (before int8 quantized the word table and let go of the file: about 102 MB). Interpreted
//! f32 +186.8 MB (185.1 MB: the host's buffer and the instance's memory), Interpreted int8
//! +208.7 MB (206.9 MB): the host keeps the file to rebuild the instance after a trap, and
//! linear memory keeps the size it reached while quantizing.

use ferrovec::backend::{BundledModule, InterpretedOptions};
use ferrovec::{Encoder, EncoderOptions, Engine, WeightPrecision};

/// The resident set in bytes, from /proc/self/status.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    let kb: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kb * 1024
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: encoder_memory <model dir> f32|int8 [native|interpreted <wasm dir>]";
    let dir = args.first().expect(usage);
    let precision = match args.get(1).map(String::as_str) {
        Some("f32") => WeightPrecision::F32,
        Some("int8") => WeightPrecision::Int8,
        _ => panic!("{usage}"),
    };
    let engine = match args.get(2).map(String::as_str) {
        None | Some("native") => Engine::native(),
        Some("interpreted") => {
            let wasm = std::path::Path::new(args.get(3).expect(usage));
            let which = BundledModule::Simd;
            let read = |f: &str| std::fs::read(wasm.join(f)).expect("a module file");
            let options = InterpretedOptions::new()
                .module(read(which.file_name()))
                .encoder_module(read(which.encoder_file_name()));
            Engine::interpreted(&options).unwrap()
        }
        Some(_) => panic!("{usage}"),
    };
    let file = std::fs::metadata(std::path::Path::new(dir).join("model.safetensors"))
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let before = rss();
    let enc = Encoder::load_with(&engine, dir, EncoderOptions::new().precision(precision)).unwrap();
    let loaded = rss();
    enc.embed_one("The weather is lovely today.").unwrap();
    let embedded = rss();
    println!(
        "{} {precision:?} on {:?}: model.safetensors {}; memory_bytes() {}; VmRSS +{} after load, +{} after one embed",
        std::path::Path::new(dir)
            .file_name()
            .map_or_else(|| dir.clone(), |n| n.to_string_lossy().into_owned()),
        enc.backend_kind(),
        mb(file),
        mb(enc.memory_bytes()),
        mb(loaded.saturating_sub(before)),
        mb(embedded.saturating_sub(before)),
    );
}
