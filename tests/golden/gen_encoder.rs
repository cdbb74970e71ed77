//! Writes tests/golden/encoder.json (`make golden`; `make check-golden` regenerates it and
//! compares): token ids and embeddings of a few texts through the tiny random model
//! (`make tiny-model`, target/tiny-bert) and through all-MiniLM-L6-v2 (`make model`).
//!
//! The embeddings are the scalar kernel table's; every other native table this CPU runs is
//! checked against them here (ids equal, every component within `abs_tol`), and the same
//! file is checked in wasmi (ffi/tests/interpreted_encoder.rs) and in Node
//! (bindings/js/test/encoder.test.mjs). `abs_tol` covers FMA natively against none in
//! wasm32 (measured deviations are printed to stderr).
//!
//! Each case also has `int8_embedding`: the same text through the model with int8 weights
//! (`WeightPrecision::Int8`, quantized at load), scalar table, checked the same way within
//! `int8_abs_tol` (the integer sums are exact everywhere; the float parts around them
//! differ, and a quantized activation that lands on the other side of a rounding boundary
//! moves a component further than in f32). The model id is the same at both precisions.
//!
//! `cargo run -p ferrovec --example golden_encoder -- <tiny-bert dir> <minilm dir>`

use std::fmt::Write as _;
use std::path::Path;

use ferrovec_core::encoder::{Encoder, EncoderWorkspace, ModelFiles, WeightPrecision};
use ferrovec_core::kernels::{Isa, Kernels};

/// The tiny model's texts: ASCII, accents, CJK, emoji, control characters, long (truncated
/// at the tiny model's max_tokens), empty.
const TINY_TEXTS: [&str; 7] = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "",
    "Crème brûlée, 東京タワー, emoji 🙂 and\tcontrol\u{7} characters",
    "unaffable unaffable unaffable unaffable unaffable unaffable unaffable unaffable unaffable unaffable unaffable",
    "A",
];

/// The real model's texts (short: interpreted runs are slow).
const MINILM_TEXTS: [&str; 3] = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
];

/// Allowed absolute deviation of one component of a unit vector, on any backend.
const ABS_TOL: f32 = 2e-5;
/// The same for the int8 model's vectors of the tiny model (an activation on a rounding
/// boundary of its quantization goes one way with FMA and the other without: 1.9e-4 measured
/// between native avx512 and the simd128 module on other texts)...
const TINY_INT8_ABS_TOL: f32 = 1e-3;
/// ...and of all-MiniLM-L6-v2: six layers of activations quantized per token, where a value
/// on a rounding boundary goes one way on one table and the other way on another, move a
/// component by up to 7.7e-3 between native tables (measured on these texts: scalar vs
/// avx2 and avx512, with the word embedding table quantized too; 4.4e-3 before it was).
/// Per component that is loose; the vectors still agree to a cosine of about 0.9999, far
/// closer than int8 is to f32 (0.998).
const MINILM_INT8_ABS_TOL: f32 = 1e-2;

fn read(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(name)).ok()
}

fn load(dir: &Path, precision: WeightPrecision) -> Encoder {
    let must = |name: &str| {
        read(dir, name).unwrap_or_else(|| panic!("{} is missing", dir.join(name).display()))
    };
    let (config, tokenizer, vocab, pooling, sbert) = (
        must("config.json"),
        read(dir, "tokenizer.json"),
        read(dir, "vocab.txt"),
        read(dir, "1_Pooling/config.json"),
        read(dir, "sentence_bert_config.json"),
    );
    Encoder::from_files(ModelFiles {
        tokenizer_json: tokenizer.as_deref(),
        vocab_txt: vocab.as_deref(),
        pooling_json: pooling.as_deref(),
        sentence_bert_config_json: sbert.as_deref(),
        precision,
        ..ModelFiles::new(std::sync::Arc::new(must("model.safetensors")), &config)
    })
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn embed(enc: &Encoder, kernels: &Kernels, texts: &[&str]) -> Vec<f32> {
    let mut out = vec![0.0; texts.len() * enc.dims()];
    enc.embed_into(kernels, texts, &mut out, &mut EncoderWorkspace::new())
        .unwrap();
    out
}

/// The scalar table's vectors of `texts`, after checking every other table against them.
fn checked_reference(name: &str, enc: &Encoder, texts: &[&str], tol: f32) -> Vec<f32> {
    let scalar = Kernels::for_isa(Isa::Scalar).unwrap();
    let reference = embed(enc, scalar, texts);
    for kernels in Kernels::variants() {
        let got = embed(enc, kernels, texts);
        let worst = got
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!(
            "{name}: {} deviates by at most {worst:e}",
            kernels.variant()
        );
        assert!(worst <= tol, "{name}: {}: {worst}", kernels.variant());
    }
    reference
}

fn floats(v: &[f32]) -> String {
    let v: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    v.join(", ")
}

fn model(json: &mut String, name: &str, made_by: &str, dir: &Path, texts: &[&str], int8_tol: f32) {
    let enc = load(dir, WeightPrecision::F32);
    let reference = checked_reference(name, &enc, texts, ABS_TOL);
    let int8 = load(dir, WeightPrecision::Int8);
    assert_eq!(int8.model_id(), enc.model_id(), "{name}: int8 model id");
    let int8_reference = checked_reference(&format!("{name} int8"), &int8, texts, int8_tol);
    let dims = enc.dims();
    write!(
        json,
        "    {{\n      \"name\": \"{name}\",\n      \"made_by\": \"{made_by}\",\n      \
         \"dims\": {dims},\n      \"max_tokens\": {},\n      \"model_id\": \"{:016x}\",\n      \
         \"abs_tol\": {ABS_TOL:e},\n      \"int8_abs_tol\": {int8_tol:e},\n      \
         \"cases\": [\n",
        enc.max_tokens(),
        enc.model_id()
    )
    .unwrap();
    for (i, text) in texts.iter().enumerate() {
        let ids = enc.tokenize(text).unwrap();
        let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
        let row = i * dims..(i + 1) * dims;
        write!(
            json,
            "        {{\n          \"text\": {},\n          \"ids\": [{}],\n          \
             \"embedding\": [{}],\n          \"int8_embedding\": [{}]\n        }}{}\n",
            json_string(text),
            ids.join(", "),
            floats(&reference[row.clone()]),
            floats(&int8_reference[row]),
            if i + 1 < texts.len() { "," } else { "" }
        )
        .unwrap();
    }
    json.push_str("      ]\n    }");
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    write!(out, "\\u{unit:04x}").unwrap();
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tiny, minilm] = &args[..] else {
        eprintln!("usage: golden_encoder <tiny-bert dir> <all-minilm-l6-v2 dir>");
        std::process::exit(2);
    };
    let mut json = String::from(
        "{\n  \"format\": \"ferrovec-golden-encoder\",\n  \"version\": 1,\n  \"models\": [\n",
    );
    model(
        &mut json,
        "tiny-bert",
        "make tiny-model (target/tiny-bert)",
        Path::new(tiny),
        &TINY_TEXTS,
        TINY_INT8_ABS_TOL,
    );
    json.push_str(",\n");
    model(
        &mut json,
        "all-minilm-l6-v2",
        "make model",
        Path::new(minilm),
        &MINILM_TEXTS,
        MINILM_INT8_ABS_TOL,
    );
    json.push_str("\n  ]\n}\n");
    print!("{json}");
}
