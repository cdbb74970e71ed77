//! Writes a tiny random BERT sentence-transformers model directory (the checkpoints the
//! encoder's tests use, support/tiny_bert.rs) for the tests of the other surfaces (C,
//! Python, Kotlin, Swift, JS, wasm), which need model files on disk but not the 90 MB
//! real model: `cargo run -p ferrovec-core --example tiny_bert -- <dir> [small|other] [seed]`.
//!
//! Files: model.safetensors, config.json, tokenizer.json, vocab.txt, 1_Pooling/config.json,
//! sentence_bert_config.json. Deterministic: the same arguments give the same bytes.

#[allow(dead_code)] // the Rng helpers this example does not use
#[path = "../tests/support/rng.rs"]
mod rng;
#[path = "../tests/support/tiny_bert.rs"]
mod tiny_bert;

extern crate alloc;

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: tiny_bert <dir> [small|other] [seed]");
        std::process::exit(2);
    };
    let spec = match args.next().as_deref() {
        None | Some("small") => tiny_bert::Spec::small(),
        Some("other") => tiny_bert::Spec::other(),
        Some(s) => {
            eprintln!("unknown shape {s:?}: small or other");
            std::process::exit(2);
        }
    };
    let seed: u64 = args
        .next()
        .map_or(1, |s| s.parse().expect("seed: an integer"));
    let (bytes, _) = tiny_bert::model_bytes(&spec, seed);
    let write = |name: &str, data: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };
    write("model.safetensors", &bytes);
    write("config.json", spec.config_json().as_bytes());
    write(
        "tokenizer.json",
        tiny_bert::tokenizer_json(&spec).as_bytes(),
    );
    write("vocab.txt", tiny_bert::vocab_txt(&spec).as_bytes());
    write("1_Pooling/config.json", spec.pooling_json().as_bytes());
    write(
        "sentence_bert_config.json",
        format!(
            r#"{{"max_seq_length": {}, "do_lower_case": false}}"#,
            spec.max_pos
        )
        .as_bytes(),
    );
    println!(
        "{}: tiny BERT ({} hidden, {} layers, vocab {}), {} bytes of weights",
        dir.display(),
        spec.hidden,
        spec.layers,
        spec.vocab,
        bytes.len()
    );
}
