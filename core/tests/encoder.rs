//! The `Encoder`: tokenizer and model together, on tiny random checkpoints. Text in must
//! give exactly what the model gives for the tokenizer's ids, however the texts are grouped
//! into passes; the model id must tell models apart.

extern crate alloc;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[allow(dead_code)] // the Rng helpers this binary does not use
#[path = "support/rng.rs"]
mod rng;
#[path = "support/tiny_bert.rs"]
mod tiny_bert;

use std::sync::Arc;

use ferrovec_core::encoder::{
    BertModel, Encoder, EncoderWorkspace, ModelFiles, WeightPrecision, WordPieceOptions,
    WordPieceTokenizer, Workspace, PASS_TOKENS,
};
use ferrovec_core::kernels::Kernels;
use ferrovec_core::Error;
use tiny_bert::Spec;

const TEXTS: [&str; 6] = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "",
    "Café 日本 ??? unknownword the the the",
    "a b c d e",
];

fn encoder_with(spec: &Spec, seed: u64, max_seq_length: Option<usize>) -> Encoder {
    let (bytes, _) = tiny_bert::model_bytes(spec, seed);
    let sbert =
        max_seq_length.map(|n| format!(r#"{{"max_seq_length": {n}, "do_lower_case": false}}"#));
    let config = spec.config_json();
    let pooling = spec.pooling_json();
    let vocab = tiny_bert::vocab_txt(spec);
    Encoder::from_files(ModelFiles {
        vocab_txt: Some(vocab.as_bytes()),
        pooling_json: Some(pooling.as_bytes()),
        sentence_bert_config_json: sbert.as_deref().map(str::as_bytes),
        ..ModelFiles::new(Arc::new(bytes), config.as_bytes())
    })
    .unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn text_gives_what_the_model_gives_for_the_tokenizers_ids_on_every_table() {
    for spec in [Spec::small(), Spec::other()] {
        let enc = encoder_with(&spec, 3, None);
        assert_eq!(enc.dims(), spec.hidden);
        assert_eq!(enc.max_tokens(), spec.max_pos);
        for k in Kernels::variants() {
            let mut out = vec![0.0f32; TEXTS.len() * enc.dims()];
            enc.embed_into(k, &TEXTS, &mut out, &mut EncoderWorkspace::new())
                .unwrap();
            for (i, text) in TEXTS.iter().enumerate() {
                let ids = enc.tokenize(text).unwrap();
                assert_eq!(ids[0], 2, "[CLS] first");
                assert_eq!(*ids.last().unwrap(), 3, "[SEP] last");
                let mut one = vec![0.0f32; enc.dims()];
                enc.model()
                    .embed_ids(k, &[&ids], &mut one, &mut Workspace::new())
                    .unwrap();
                let d = max_abs_diff(&one, &out[i * enc.dims()..(i + 1) * enc.dims()]);
                assert!(d <= 1e-6, "{}: text {i} differs by {d}", k.variant());
                let norm: f32 = one.iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-5);
            }
        }
    }
}

#[test]
fn many_texts_split_into_passes_give_each_texts_own_vector() {
    let spec = Spec::small();
    let enc = encoder_with(&spec, 4, None);
    // 300 texts, 1 to ~40 tokens: several passes of PASS_TOKENS and of 64 texts.
    let mut rng = rng::Rng(7);
    let words = [
        "the", "weather", "is", "lovely", "sunny", "stadium", "drove", "to",
    ];
    let texts: Vec<String> = (0..300)
        .map(|_| {
            let n = rng.below(45);
            (0..n)
                .map(|_| words[rng.below(words.len())])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let total: usize = texts.iter().map(|t| enc.tokenize(t).unwrap().len()).sum();
    assert!(total > 4 * PASS_TOKENS, "only {total} tokens");
    let all = enc.embed(&texts).unwrap();
    let mut ws = EncoderWorkspace::new();
    let mut one = vec![0.0f32; enc.dims()];
    for (i, t) in texts.iter().enumerate() {
        enc.embed_into(Kernels::active(), &[t], &mut one, &mut ws)
            .unwrap();
        let d = max_abs_diff(&one, &all[i * enc.dims()..(i + 1) * enc.dims()]);
        assert!(d <= 1e-6, "text {i} differs by {d} inside a pass");
    }
}

#[test]
fn texts_are_truncated_to_max_seq_length() {
    let spec = Spec::small();
    let enc = encoder_with(&spec, 5, Some(12));
    assert_eq!(enc.max_tokens(), 12);
    let long = "the weather is lovely ".repeat(20);
    let ids = enc.tokenize(&long).unwrap();
    assert_eq!(ids.len(), 12);
    assert_eq!((ids[0], ids[11]), (2, 3));
    // A long text embeds (truncated) rather than failing on the model's 40 positions.
    let v = enc.embed(&[long.as_str(), "the"]).unwrap();
    assert!(v.iter().all(|x| x.is_finite()));
}

#[test]
fn invalid_utf8_is_embedded_as_replacement_characters() {
    let spec = Spec::small();
    let enc = encoder_with(&spec, 6, None);
    let raw: &[u8] = b"the \xff\xfe weather \xe2\x82";
    let lossy = String::from_utf8_lossy(raw).into_owned();
    assert_eq!(enc.tokenize(raw).unwrap(), enc.tokenize(&lossy).unwrap());
    let a = enc.embed(&[raw]).unwrap();
    let b = enc.embed(&[lossy.as_str()]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn tokenizer_json_and_vocab_txt_give_the_same_tokenizer() {
    let spec = Spec::small();
    let json = tiny_bert::tokenizer_json(&spec);
    let vocab = tiny_bert::vocab_txt(&spec);
    let spec_t = ferrovec_core::encoder::TokenizerSpec::from_json(json.as_bytes()).unwrap();
    let from_json = WordPieceTokenizer::from_spec(&spec_t).unwrap();
    let from_txt =
        WordPieceTokenizer::from_vocab_txt(vocab.as_bytes(), WordPieceOptions::default()).unwrap();
    assert_eq!(from_json.options(), from_txt.options());
    for t in TEXTS {
        assert_eq!(
            from_json.encode(t, 64).unwrap(),
            from_txt.encode(t, 64).unwrap(),
            "{t:?}"
        );
    }
    // And through the encoder: same vectors, same model id.
    let (bytes, _) = tiny_bert::model_bytes(&spec, 3);
    let bytes = Arc::new(bytes);
    let config = spec.config_json();
    let a = Encoder::from_files(ModelFiles {
        tokenizer_json: Some(json.as_bytes()),
        ..ModelFiles::new(bytes.clone(), config.as_bytes())
    })
    .unwrap();
    let b = Encoder::from_files(ModelFiles {
        vocab_txt: Some(vocab.as_bytes()),
        ..ModelFiles::new(bytes, config.as_bytes())
    })
    .unwrap();
    assert_eq!(a.model_id(), b.model_id());
    assert_eq!(a.embed(&TEXTS).unwrap(), b.embed(&TEXTS).unwrap());
}

#[test]
fn model_id_tells_models_apart() {
    let spec = Spec::small();
    let id = |seed, max_seq| encoder_with(&spec, seed, max_seq).model_id();
    assert_eq!(id(3, None), id(3, None), "the same files, the same id");
    assert_ne!(id(3, None), id(4, None), "other weights");
    assert_ne!(id(3, None), id(3, Some(20)), "other truncation");
    let mut cls = spec.clone();
    cls.cls = true;
    assert_ne!(
        id(3, None),
        encoder_with(&cls, 3, None).model_id(),
        "other pooling"
    );
    // The same weights stored as bf16 are other values (rounded), so another model; the
    // same values misaligned in the file (read through the owned path) are the same model.
    let mut shifted = spec.clone();
    shifted.data_offset_mod8 = 2;
    assert_eq!(id(3, None), encoder_with(&shifted, 3, None).model_id());
    let mut bf16 = spec.clone();
    bf16.dtype = "BF16";
    assert_ne!(id(3, None), encoder_with(&bf16, 3, None).model_id());
    // One changed weight at a sampled position (the first of the word table).
    let (mut bytes, _) = tiny_bert::model_bytes(&spec, 3);
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&bytes[8..8 + header])
        .unwrap()
        .to_string();
    let start = text.find("embeddings.word_embeddings.weight").unwrap();
    let offsets = &text[start..];
    let o = offsets.find("data_offsets").unwrap();
    let first: usize = offsets[o..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .unwrap()
        .parse()
        .unwrap();
    bytes[8 + header + first] ^= 1;
    let changed = Encoder::from_files(ModelFiles {
        vocab_txt: Some(tiny_bert::vocab_txt(&spec).as_bytes()),
        pooling_json: Some(spec.pooling_json().as_bytes()),
        ..ModelFiles::new(Arc::new(bytes), spec.config_json().as_bytes())
    })
    .unwrap();
    assert_ne!(id(3, None), changed.model_id(), "one weight changed");
}

#[test]
fn mismatched_or_missing_vocabulary_is_refused() {
    let spec = Spec::small();
    let (bytes, _) = tiny_bert::model_bytes(&spec, 3);
    let bytes = Arc::new(bytes);
    let config = spec.config_json();
    let err = Encoder::from_files(ModelFiles::new(bytes.clone(), config.as_bytes())).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("vocab")),
        "{err}"
    );
    let mut bigger = spec.clone();
    bigger.vocab = spec.vocab + 5;
    let vocab = tiny_bert::vocab_txt(&bigger);
    let err = Encoder::from_files(ModelFiles {
        vocab_txt: Some(vocab.as_bytes()),
        ..ModelFiles::new(bytes.clone(), config.as_bytes())
    })
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument(ref m) if m.contains("55 tokens") && m.contains("50")),
        "{err}"
    );
    let err = Encoder::from_files(ModelFiles {
        tokenizer_json: Some(b"{\"model\": {\"type\": \"BPE\"}}"),
        ..ModelFiles::new(bytes, config.as_bytes())
    })
    .unwrap_err();
    assert!(
        matches!(err, Error::CorruptFile(ref m) if m.contains("tokenizer.json")),
        "{err}"
    );
}

#[test]
fn wrong_output_length_is_refused_and_out_untouched() {
    let spec = Spec::small();
    let enc = encoder_with(&spec, 3, None);
    let mut out = vec![7.0f32; 2 * enc.dims() - 1];
    let err = enc
        .embed_into(
            Kernels::active(),
            &TEXTS[..2],
            &mut out,
            &mut EncoderWorkspace::new(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { .. }));
    assert!(out.iter().all(|&x| x == 7.0));
    assert!(enc.embed::<&str>(&[]).unwrap().is_empty());
}

#[test]
fn a_warm_workspace_embeds_without_allocating() {
    let spec = Spec::small();
    let enc = encoder_with(&spec, 3, None);
    let mut out = vec![0.0f32; TEXTS.len() * enc.dims()];
    let mut ws = EncoderWorkspace::new();
    let (r, first) = counting_alloc::allocations_of(|| {
        enc.embed_into(Kernels::active(), &TEXTS, &mut out, &mut ws)
    });
    r.unwrap();
    assert!(first > 0);
    let (r, again) = counting_alloc::allocations_of(|| {
        enc.embed_into(Kernels::active(), &TEXTS, &mut out, &mut ws)
    });
    r.unwrap();
    assert_eq!(again, 0, "a warm workspace allocated {again} times");
    assert!(ws.bytes() > 0);
}

#[test]
fn one_encoder_serves_many_threads() {
    let spec = Spec::small();
    let enc = Arc::new(encoder_with(&spec, 3, None));
    let expected = enc.embed(&TEXTS).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let enc = Arc::clone(&enc);
            std::thread::spawn(move || enc.embed(&TEXTS).unwrap())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), expected);
    }
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Encoder>();
    let _ = BertModel::from_files; // the model is reachable from the encoder
}

#[test]
fn an_int8_encoder_keeps_the_checkpoints_model_id() {
    let spec = Spec::small();
    let (bytes, _) = tiny_bert::model_bytes(&spec, 3);
    let bytes = Arc::new(bytes);
    let (config, vocab) = (spec.config_json(), tiny_bert::vocab_txt(&spec));
    let load = |precision| {
        Encoder::from_files(ModelFiles {
            vocab_txt: Some(vocab.as_bytes()),
            precision,
            ..ModelFiles::new(bytes.clone(), config.as_bytes())
        })
        .unwrap()
    };
    let f32_enc = load(WeightPrecision::F32);
    let int8 = load(WeightPrecision::Int8);
    assert_eq!(int8.model().precision(), WeightPrecision::Int8);
    assert_eq!(int8.model_id(), f32_enc.model_id());
    let (a, b) = (f32_enc.embed(&TEXTS).unwrap(), int8.embed(&TEXTS).unwrap());
    for (x, y) in a.chunks(spec.hidden).zip(b.chunks(spec.hidden)) {
        let cos: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
        assert!(cos > 0.99, "int8 vs f32 cosine {cos}");
    }
}
