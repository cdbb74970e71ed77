//! The Rust API's `Encoder` on tiny random checkpoints: loading a model directory, the
//! vectors it gives (the core encoder's, on every kernel table), threads, and refusals.

extern crate alloc;

#[allow(dead_code)] // the Rng helpers this binary does not use
#[path = "../../core/tests/support/rng.rs"]
mod rng;
#[path = "../../core/tests/support/tiny_bert.rs"]
mod tiny_bert;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrovec::encoder::ModelFiles;
use ferrovec::kernels::Kernels;
use ferrovec::{Encoder, Engine, Error};
use tiny_bert::Spec;

/// Writes a tiny model directory (sentence-transformers layout) and returns its path.
fn model_dir(name: &str, spec: &Spec, seed: u64, tokenizer_json: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferrovec-encoder-api-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let (bytes, _) = tiny_bert::model_bytes(spec, seed);
    std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
    std::fs::write(dir.join("config.json"), spec.config_json()).unwrap();
    std::fs::write(dir.join("1_Pooling/config.json"), spec.pooling_json()).unwrap();
    if tokenizer_json {
        std::fs::write(dir.join("tokenizer.json"), tiny_bert::tokenizer_json(spec)).unwrap();
    } else {
        std::fs::write(dir.join("vocab.txt"), tiny_bert::vocab_txt(spec)).unwrap();
    }
    dir
}

fn core_encoder(dir: &Path) -> ferrovec_core::encoder::Encoder {
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let (config, tok, pooling) = (
        read("config.json"),
        read("tokenizer.json"),
        read("1_Pooling/config.json"),
    );
    ferrovec_core::encoder::Encoder::from_files(ModelFiles {
        tokenizer_json: Some(&tok),
        pooling_json: Some(&pooling),
        ..ModelFiles::new(Arc::new(read("model.safetensors")), &config)
    })
    .unwrap()
}

const TEXTS: [&str; 4] = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "",
];

#[test]
fn a_loaded_directory_embeds_like_the_core_encoder_on_every_table() {
    let spec = Spec::small();
    let dir = model_dir("every-table", &spec, 1, true);
    let core = core_encoder(&dir);
    let expected = core.embed(&TEXTS).unwrap();
    for k in Kernels::variants() {
        let engine = Engine::native_with_isa(k.isa()).unwrap();
        let enc = Encoder::load(&engine, &dir).unwrap();
        assert_eq!(enc.dims(), spec.hidden);
        assert_eq!(enc.max_tokens(), spec.max_pos);
        assert_eq!(enc.model_id(), core.model_id());
        let got = enc.embed(&TEXTS).unwrap();
        assert_eq!(got.len(), TEXTS.len());
        for (i, v) in got.iter().enumerate() {
            let d = v
                .iter()
                .zip(&expected[i * spec.hidden..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(d < 1e-5, "{}: text {i} differs by {d}", k.variant());
        }
        assert_eq!(enc.embed_one(TEXTS[0]).unwrap(), got[0]);
        assert_eq!(
            enc.tokenize(TEXTS[0]).unwrap(),
            core.tokenize(TEXTS[0]).unwrap()
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn threads_give_the_same_vectors_as_one_thread() {
    let spec = Spec::small();
    let dir = model_dir("threads", &spec, 2, false);
    let enc = Encoder::load(&Engine::native(), &dir).unwrap();
    let texts: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "the weather {} is lovely today {}",
                "sunny ".repeat(i % 13),
                i
            )
        })
        .collect();
    let one = enc.embed_flat(&texts).unwrap();
    for threads in [2, 3, 0] {
        let many = enc.with_threads(threads);
        assert!(many.threads() >= 1);
        assert_eq!(many.model_id(), enc.model_id());
        let got = many.embed_flat(&texts).unwrap();
        // Passes group other texts, which may move a row between the GEMM's main and edge
        // tiles: the same products, possibly summed in another order.
        let d = got
            .iter()
            .zip(&one)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(d <= 1e-6, "{threads} threads: differs by {d}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_directories_and_outputs_are_refused() {
    let spec = Spec::small();
    let engine = Engine::native();
    let missing = std::env::temp_dir().join("ferrovec-encoder-api-no-such-dir");
    let err = Encoder::load(&engine, &missing).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("model.safetensors")),
        "{err}"
    );

    let dir = model_dir("bad", &spec, 3, true);
    std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
    let err = Encoder::load(&engine, &dir).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("vocab.txt")),
        "{err}"
    );
    std::fs::write(dir.join("vocab.txt"), tiny_bert::vocab_txt(&spec)).unwrap();
    std::fs::write(dir.join("config.json"), b"{\"hidden_size\": ").unwrap();
    let err = Encoder::load(&engine, &dir).unwrap_err();
    assert!(
        matches!(err, Error::CorruptFile(ref m) if m.contains("config.json")),
        "{err}"
    );
    std::fs::write(dir.join("config.json"), spec.config_json()).unwrap();
    let enc = Encoder::load(&engine, &dir).unwrap();
    let mut out = vec![0.5f32; enc.dims() + 1];
    let err = enc.embed_into(&TEXTS[..1], &mut out).unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { .. }));
    assert!(out.iter().all(|&x| x == 0.5));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_interpreted_backend_runs_the_encoder_module_never_native_code() {
    let spec = Spec::small();
    let dir = model_dir("interpreted", &spec, 4, true);
    let Ok(engine) = Engine::interpreted(&Default::default()) else {
        return; // no bundled modules: ffi/tests/interpreted_encoder.rs loads the built ones
    };
    let enc = Encoder::load(&engine, &dir).unwrap();
    assert_eq!(enc.backend_kind(), ferrovec::BackendKind::Interpreted);
    let native = Encoder::load(&Engine::native(), &dir).unwrap();
    assert_eq!(enc.model_id(), native.model_id());
    assert_eq!(
        enc.tokenize(TEXTS[0]).unwrap(),
        native.tokenize(TEXTS[0]).unwrap()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// Int8 vectors of a tiny random checkpoint agree with its f32 vectors to this cosine at
/// least (measured: 0.99995 worst over these texts; all-MiniLM-L6-v2's criterion is a mean of
/// 0.998, core/tests/encoder_reference.rs).
const INT8_MIN_COSINE: f32 = 0.999;

#[test]
fn int8_weights_are_reported_keep_the_model_id_and_agree_with_f32_on_every_table() {
    use ferrovec::{EncoderOptions, WeightPrecision};
    let spec = Spec::small();
    let dir = model_dir("int8", &spec, 5, true);
    let f32_enc = Encoder::load(&Engine::native(), &dir).unwrap();
    assert_eq!(f32_enc.precision(), WeightPrecision::F32);
    let reference = f32_enc.embed(&TEXTS).unwrap();
    let mut first: Option<Vec<Vec<f32>>> = None;
    for k in Kernels::variants() {
        let engine = Engine::native_with_isa(k.isa()).unwrap();
        let options = EncoderOptions::new()
            .precision(WeightPrecision::Int8)
            .threads(2);
        let enc = Encoder::load_with(&engine, &dir, options).unwrap();
        assert_eq!(enc.precision(), WeightPrecision::Int8);
        assert_eq!(enc.threads(), 2);
        assert_eq!(enc.model_id(), f32_enc.model_id(), "{}", k.variant());
        let got = enc.embed(&TEXTS).unwrap();
        for (i, (v, r)) in got.iter().zip(&reference).enumerate() {
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!(
                (norm - 1.0).abs() < 1e-5,
                "{}: text {i} norm {norm}",
                k.variant()
            );
            let c = cosine(v, r);
            assert!(
                c >= INT8_MIN_COSINE,
                "{}: text {i}: cosine {c}",
                k.variant()
            );
            assert_ne!(v, r, "int8 gave the f32 vector bit for bit: not quantized?");
        }
        // Integer sums are exact on every table: tables differ in the float parts, and where
        // an activation lies on a rounding boundary of its quantization (1e-3 as across
        // backends, ffi/tests/interpreted_encoder.rs).
        match &first {
            None => first = Some(got),
            Some(first) => {
                let d = got
                    .iter()
                    .flatten()
                    .zip(first.iter().flatten())
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    d <= 1e-3,
                    "{}: int8 differs across tables by {d}",
                    k.variant()
                );
            }
        }
    }
    // from_files takes the precision of ModelFiles.
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    let (config, tok, pooling) = (
        read("config.json"),
        read("tokenizer.json"),
        read("1_Pooling/config.json"),
    );
    let file = Arc::new(read("model.safetensors"));
    let enc = Encoder::from_files(
        &Engine::native(),
        ModelFiles {
            tokenizer_json: Some(&tok),
            pooling_json: Some(&pooling),
            precision: WeightPrecision::Int8,
            ..ModelFiles::new(file.clone(), &config)
        },
    )
    .unwrap();
    assert_eq!(enc.precision(), WeightPrecision::Int8);
    // The f32 encoder keeps the whole file (read in place); the int8 one owns all it reads
    // and keeps no reference to the caller's buffer. (This shape is too small for the 4x of
    // a real checkpoint: its int8 rows are padded from 32 to 64 values.)
    assert_eq!(f32_enc.memory_bytes(), file.len());
    assert_eq!(Arc::strong_count(&file), 1);
    assert!(
        enc.memory_bytes() < f32_enc.memory_bytes(),
        "int8 {} bytes, f32 {}",
        enc.memory_bytes(),
        f32_enc.memory_bytes()
    );
    let loaded = Encoder::load_with(
        &Engine::native(),
        &dir,
        EncoderOptions::new().precision(WeightPrecision::Int8),
    )
    .unwrap();
    assert_eq!(enc.embed(&TEXTS).unwrap(), loaded.embed(&TEXTS).unwrap());
    assert!(format!("{loaded:?}").contains("Int8"));
    std::fs::remove_dir_all(dir).unwrap();
}
