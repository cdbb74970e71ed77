//! Hostile and broken model files: every one refused with a clear message (asserted on its
//! content), no panic, and (counting allocator) no allocation beyond a small multiple of the
//! input's size, whatever sizes the file declares.

extern crate alloc;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[allow(dead_code)] // the Rng helpers this binary does not use
#[path = "support/rng.rs"]
mod rng;
#[path = "support/tiny_bert.rs"]
mod tiny_bert;

use std::sync::Arc;

use ferrovec_core::encoder::safetensors::SafeTensors;
use ferrovec_core::encoder::{json, BertConfig, BertModel, ModelBytes, Pooling, TokenizerSpec};
use ferrovec_core::Error;
use tiny_bert::{Entry, Spec};

/// Peak heap a load may add: the parsed header (a JSON tree of at most one value per 4
/// bytes, and the tensor table) plus fixed costs, never the sizes the file declares.
fn allowed_peak(input: usize) -> usize {
    32 * input + (64 << 10)
}

/// Loads `bytes` as the model of `spec`, expecting a `CorruptFile` error containing every
/// one of `needles`, within the allocation bound.
fn refused(spec: &Spec, bytes: Vec<u8>, needles: &[&str]) {
    let len = bytes.len();
    let config = spec.config_json();
    let (result, peak) = counting_alloc::peak_of(move || {
        let bytes: ModelBytes = Arc::new(bytes);
        BertModel::from_files(bytes, config.as_bytes(), None, None)
    });
    let err = result.expect_err("a broken file was accepted");
    let msg = err.to_string();
    assert!(matches!(err, Error::CorruptFile(_)), "{msg}");
    for n in needles {
        assert!(msg.contains(n), "message {msg:?} lacks {n:?}");
    }
    // The Arc'd input itself is counted in the peak (it is moved into the closure's heap
    // block already, so only the load's own allocations count beyond it).
    assert!(
        peak <= allowed_peak(len),
        "{msg}: peak {peak} bytes for a {len}-byte file"
    );
}

/// A safetensors file with a hand-written header and `data` bytes of zeros.
fn raw(header: &str, data: usize) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + data, 0);
    out
}

fn tiny() -> (Spec, Vec<Entry>) {
    let spec = Spec::small();
    let t = tiny_bert::tensors(&spec, 1);
    let e = tiny_bert::entries(&spec, &t);
    (spec, e)
}

#[test]
fn the_tiny_file_loads() {
    let (spec, e) = tiny();
    let bytes = tiny_bert::write(&e, 0);
    let (r, peak) = counting_alloc::peak_of(|| {
        BertModel::from_files(
            Arc::new(bytes.clone()),
            spec.config_json().as_bytes(),
            None,
            None,
        )
    });
    r.unwrap();
    eprintln!(
        "a {}-byte model loads with a peak of {peak} bytes",
        bytes.len()
    );
}

#[test]
fn truncated_files_are_refused() {
    let (spec, e) = tiny();
    let bytes = tiny_bert::write(&e, 0);
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    // Every cut in the length prefix and the header, then every 97th byte of the data.
    let cuts = (0..header_end + 2)
        .chain((header_end + 2..bytes.len()).step_by(97))
        .chain([bytes.len() - 1]);
    for cut in cuts {
        let msg = match cut {
            0..=7 => "too short for the 8-byte header length",
            c if c < header_end => "is past the end of the",
            _ => "run past the end of the",
        };
        refused(&spec, bytes[..cut].to_vec(), &["safetensors", msg]);
    }
}

#[test]
fn random_corruptions_are_errors_or_valid_models_never_panics() {
    // Flip, replace or insert a few bytes of the header (where the structure is) of a valid
    // file: whatever comes out loads or is refused, within the allocation bound.
    let (spec, e) = tiny();
    let good = tiny_bert::write(&e, 0);
    let header_end = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let config = spec.config_json();
    let mut rng = rng::Rng(99);
    let (mut loaded, mut refused) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = good.clone();
        const ALPHABET: &[u8] = b"{}[]\":,0123456789 -eE";
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(header_end);
            match rng.below(3) {
                0 => bytes[at] ^= 1 << rng.below(8),
                1 => bytes[at] = ALPHABET[rng.below(ALPHABET.len())],
                _ => bytes.insert(at, b"0,\"]}"[rng.below(5)]),
            }
        }
        let len = bytes.len();
        let (r, peak) = counting_alloc::peak_of(|| {
            BertModel::from_files(Arc::new(bytes), config.as_bytes(), None, None)
        });
        match r {
            Ok(_) => loaded += 1,
            Err(Error::CorruptFile(m)) => {
                assert!(!m.is_empty());
                refused += 1
            }
            Err(other) => panic!("unexpected error kind: {other}"),
        }
        assert!(peak <= allowed_peak(len), "peak {peak}");
    }
    eprintln!("{loaded} corrupted files still loaded (a change in __metadata__ or the padding), {refused} refused");
    assert!(refused > 2000);
}

#[test]
fn bad_headers_are_refused() {
    let spec = Spec::small();
    let mut huge_len = raw("{}", 0);
    huge_len[..8].copy_from_slice(&(1u64 << 63).to_le_bytes());
    refused(
        &spec,
        huge_len,
        &["header length 9223372036854775808 is past the end"],
    );
    refused(
        &spec,
        raw("hello", 10),
        &["safetensors header: invalid JSON at byte 0"],
    );
    refused(
        &spec,
        raw("[1, 2]", 0),
        &["the header is an array, not an object"],
    );
    refused(
        &spec,
        raw(&"[".repeat(100_000), 0),
        &["nested deeper than 64 levels"],
    );
    refused(
        &spec,
        raw(
            r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}} x"#,
            4,
        ),
        &["expected end of input"],
    );
    refused(
        &spec,
        raw(r#"{"a": 5}"#, 0),
        &["tensor \"a\" is a number, not an object"],
    );
    refused(
        &spec,
        raw(r#"{"__metadata__": 5}"#, 0),
        &["\"__metadata__\" must be an object"],
    );
    refused(
        &spec,
        raw(r#"{"a": {"shape": [1], "data_offsets": [0, 4]}}"#, 4),
        &["tensor \"a\"", "missing \"dtype\""],
    );
    let mut not_utf8 = raw("{\"a?\": 1}", 0);
    not_utf8[8 + 3] = 0xff;
    refused(&spec, not_utf8, &["not valid UTF-8 at byte 3"]);
}

#[test]
fn bad_tensor_entries_are_refused() {
    let spec = Spec::small();
    let t = |body: &str, data: usize| {
        raw(
            &format!(r#"{{"__metadata__": {{"format": "pt"}}, "t": {body}}}"#),
            data,
        )
    };
    refused(
        &spec,
        t(
            r#"{"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}"#,
            4,
        ),
        &["tensor \"t\": unsupported dtype \"F8_E4M3\""],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}"#,
            8,
        ),
        &["data_offsets [0, 4] hold 4 bytes but shape [2] of F32 needs 8"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#,
            4,
        ),
        &["data_offsets [0, 8] run past the end of the 4-byte data area"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}"#,
            8,
        ),
        &["data_offsets [8, 4] are out of order"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551615]}"#,
            8,
        ),
        &["run past the end"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551616]}"#,
            8,
        ),
        &["\"data_offsets\" must be non-negative integers"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}"#,
            8,
        ),
        &["shape entries must be non-negative integers"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}"#,
            8,
        ),
        &["shape entries must be non-negative integers"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [1,1,1,1,1,1,1,1,1], "data_offsets": [0, 4]}"#,
            8,
        ),
        &["9 dimensions"],
    );
    refused(
        &spec,
        t(r#"{"dtype": "F32", "shape": [1], "data_offsets": [0]}"#, 8),
        &["\"data_offsets\" must be [begin, end]"],
    );
    // A 40-odd-byte file declaring 2^60 elements: an error, and no allocation near that.
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [1073741824, 1073741824], "data_offsets": [0, 4]}"#,
            4,
        ),
        &["needs 4611686018427387904"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}"#,
            4,
        ),
        &["overflows the element count"],
    );
    refused(
        &spec,
        t(
            r#"{"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 4]}"#,
            4,
        ),
        &["overflow the byte count"],
    );
    // Overlapping and duplicated tensors.
    let two = |a: &str, b: &str| raw(&format!(r#"{{"a": {a}, "b": {b}}}"#), 16);
    refused(
        &spec,
        two(
            r#"{"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#,
            r#"{"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}"#,
        ),
        &["tensors \"a\" (bytes 0..8) and \"b\" (bytes 4..12) overlap"],
    );
    refused(
        &spec,
        two(
            r#"{"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}"#,
            r#"{"dtype": "I8", "shape": [1], "data_offsets": [15, 16]}"#,
        ),
        &["overlap"],
    );
    refused(
        &spec,
        raw(
            r#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#,
            8,
        ),
        &["tensor \"a\" is named twice"],
    );
}

/// The tiny model's entries with `edit` applied, written and loaded.
fn edited(edit: impl FnOnce(&mut Vec<Entry>), needles: &[&str]) {
    let (spec, mut e) = tiny();
    edit(&mut e);
    refused(&spec, tiny_bert::write(&e, 0), needles);
}

fn entry<'a>(e: &'a mut [Entry], name: &str) -> &'a mut Entry {
    e.iter_mut().find(|x| x.name == name).unwrap()
}

#[test]
fn wrong_model_tensors_are_refused() {
    edited(
        |e| e.retain(|x| x.name != "encoder.layer.1.output.dense.weight"),
        &["model weights: missing tensor \"encoder.layer.1.output.dense.weight\""],
    );
    edited(
        |e| e.retain(|x| x.name != "embeddings.LayerNorm.bias"),
        &["missing tensor \"embeddings.LayerNorm.bias\""],
    );
    edited(|e| e.retain(|x| !x.name.starts_with("embeddings.word")), &["missing tensor \"embeddings.word_embeddings.weight\" (nor \"bert.embeddings.word_embeddings.weight\")"]);
    edited(
        |e| {
            let q = entry(e, "encoder.layer.0.attention.self.query.weight");
            q.shape = vec![32, 16];
            q.bytes.truncate(32 * 16 * 4);
        },
        &["tensor \"encoder.layer.0.attention.self.query.weight\" has shape [32, 16], but config.json implies [32, 32]"],
    );
    edited(
        |e| {
            let w = entry(e, "encoder.layer.1.intermediate.dense.weight");
            w.shape = vec![32, 64]; // transposed
        },
        &["\"encoder.layer.1.intermediate.dense.weight\" has shape [32, 64], but config.json implies [64, 32]"],
    );
    edited(
        |e| {
            let w = entry(e, "embeddings.word_embeddings.weight");
            w.shape = vec![49, 32];
            w.bytes.truncate(49 * 32 * 4);
        },
        &["\"embeddings.word_embeddings.weight\" has shape [49, 32], but config.json implies [50, 32]"],
    );
    edited(
        |e| {
            let w = entry(e, "encoder.layer.0.output.LayerNorm.weight");
            w.dtype = "I8".into();
            w.shape = vec![128]; // 32 f32 = 128 bytes
        },
        &["has shape [128]"],
    );
    edited(
        |e| {
            let w = entry(e, "encoder.layer.0.output.LayerNorm.weight");
            w.dtype = "I32".into();
        },
        &["tensor \"encoder.layer.0.output.LayerNorm.weight\" has dtype I32: the encoder reads F32, F16 or BF16 weights"],
    );
    edited(
        |e| {
            let w = entry(e, "encoder.layer.0.output.dense.bias");
            w.dtype = "I8".into();
            w.shape = vec![32];
            w.bytes.truncate(32);
        },
        &["has dtype I8", "int8 needs per-channel scales"],
    );
}

#[test]
fn a_hostile_config_is_refused_before_the_weights_are_read() {
    let config = |edit: &str| {
        let base = Spec::small().config_json();
        let mut v: Vec<(String, String)> = Vec::new();
        for (k, val) in edit
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').unwrap())
        {
            v.push((k.into(), val.into()));
        }
        let mut s = base;
        for (k, val) in v {
            let start = s.find(&format!("\"{k}\": ")).unwrap() + k.len() + 4;
            let end = start + s[start..].find([',', '}']).unwrap();
            s.replace_range(start..end, &val);
        }
        s
    };
    let bad = |edit: &str, needle: &str| {
        let err = BertConfig::from_json(config(edit).as_bytes()).unwrap_err();
        assert!(matches!(err, Error::CorruptFile(_)), "{err}");
        assert!(err.to_string().contains(needle), "{edit}: {err}");
    };
    BertConfig::from_json(config("").as_bytes()).unwrap();
    bad(
        "num_attention_heads=5",
        "hidden_size 32 is not divisible by num_attention_heads 5",
    );
    bad(
        "num_hidden_layers=0",
        "\"num_hidden_layers\" = 0 is outside the accepted range 1..=256",
    );
    bad("hidden_size=0", "\"hidden_size\" = 0 is outside");
    bad(
        "vocab_size=1099511627776",
        "\"vocab_size\" = 1099511627776 is outside the accepted range 1..=4194304",
    );
    bad(
        "vocab_size=-3",
        "\"vocab_size\" must be a non-negative integer, got a number",
    );
    bad(
        "vocab_size=\"50\"",
        "\"vocab_size\" must be a non-negative integer, got a string",
    );
    bad(
        "intermediate_size=1e9",
        "\"intermediate_size\" must be a non-negative integer",
    );
    bad(
        "max_position_embeddings=100000000",
        "\"max_position_embeddings\" = 100000000 is outside",
    );
    bad(
        "hidden_act=\"relu\"",
        "hidden_act \"relu\" is not supported: only \"gelu\"",
    );
    bad(
        "hidden_act=\"gelu_new\"",
        "hidden_act \"gelu_new\" is not supported",
    );
    bad(
        "position_embedding_type=\"relative_key\"",
        "position_embedding_type \"relative_key\" is not supported: only \"absolute\"",
    );
    bad(
        "layer_norm_eps=-1",
        "\"layer_norm_eps\" = -1 is outside [0, 1)",
    );
    let err = BertConfig::from_json(b"{\"hidden_size\": 32}").unwrap_err();
    assert!(
        err.to_string()
            .contains("config.json: missing \"vocab_size\""),
        "{err}"
    );

    // A config as large as the limits allow against the tiny file: the shapes disagree, and
    // nothing was allocated for the declared sizes.
    let (_, e) = tiny();
    let bytes = tiny_bert::write(&e, 0);
    let len = bytes.len();
    let big = config("vocab_size=4194304;hidden_size=65536;num_attention_heads=1;intermediate_size=65536;num_hidden_layers=256;max_position_embeddings=65536");
    let (r, peak) = counting_alloc::peak_of(|| {
        BertModel::from_files(Arc::new(bytes), big.as_bytes(), None, None)
    });
    let err = r.unwrap_err();
    assert!(
        err.to_string()
            .contains("has shape [50, 32], but config.json implies [4194304, 65536]"),
        "{err}"
    );
    assert!(peak <= allowed_peak(len), "peak {peak}");
}

#[test]
fn pooling_and_sentence_configs() {
    let p = |s: &str| Pooling::from_json(s.as_bytes());
    assert_eq!(
        p(r#"{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": false}"#).unwrap(),
        Pooling::Mean
    );
    assert_eq!(
        p(r#"{"pooling_mode_cls_token": true}"#).unwrap(),
        Pooling::Cls
    );
    for (bad, needle) in [
        (
            r#"{"pooling_mode_max_tokens": true}"#,
            "\"pooling_mode_max_tokens\" is not supported: only mean or CLS pooling",
        ),
        (
            r#"{"pooling_mode_mean_tokens": true, "pooling_mode_mean_sqrt_len_tokens": true}"#,
            "pooling_mode_mean_sqrt_len_tokens",
        ),
        (
            r#"{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}"#,
            "both mean and CLS",
        ),
        (
            r#"{"pooling_mode_mean_tokens": false}"#,
            "no pooling mode is on",
        ),
        (
            r#"{"pooling_mode_mean_tokens": 1}"#,
            "\"pooling_mode_mean_tokens\" must be a boolean",
        ),
        ("[]", "not a JSON object"),
    ] {
        let err = p(bad).unwrap_err();
        assert!(err.to_string().contains(needle), "{bad}: {err}");
    }
    use ferrovec_core::encoder::config::max_seq_length_from_json;
    assert_eq!(
        max_seq_length_from_json(br#"{"max_seq_length": 256, "do_lower_case": false}"#).unwrap(),
        256
    );
    assert!(max_seq_length_from_json(br#"{"max_seq_length": 0}"#).is_err());
    // max_seq_length above the model's positions.
    let (spec, e) = tiny();
    let err = BertModel::from_files(
        Arc::new(tiny_bert::write(&e, 0)),
        spec.config_json().as_bytes(),
        None,
        Some(br#"{"max_seq_length": 41}"#),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("max_seq_length 41 is outside 1..=40"),
        "{err}"
    );
}

#[test]
fn tokenizer_spec_from_json() {
    let good = r###"{"version": "1.0", "truncation": {"max_length": 128, "strategy": "LongestFirst", "stride": 0},
        "added_tokens": [{"id": 0, "special": true, "content": "[PAD]"}, {"id": 1, "special": true, "content": "[UNK]"}],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                  "vocab": {"[PAD]": 0, "[UNK]": 1, "caf\u00e9": 2, "##s": 3, "\ud83d\ude00": 4}}}"###;
    let spec = TokenizerSpec::from_json(good.as_bytes()).unwrap();
    assert_eq!(spec.vocab.len(), 5);
    assert_eq!(spec.vocab[2], ("café".to_string(), 2));
    assert_eq!(spec.vocab[4], ("😀".to_string(), 4));
    assert_eq!(spec.continuing_subword_prefix, "##");
    assert_eq!(spec.truncation_max_length, Some(128));
    assert_eq!(spec.normalizer.strip_accents, None);
    assert_eq!(spec.added_tokens[1].content, "[UNK]");
    for (from, to, needle) in [
        (
            r###""type": "WordPiece""###,
            r###""type": "BPE""###,
            "model.type Some(\"BPE\") is not supported",
        ),
        (
            r###""##s": 3"###,
            r###""##s": 2"###,
            "model.vocab gives id 2 twice",
        ),
        (
            r###""##s": 3"###,
            r###""[PAD]": 3"###,
            "model.vocab lists \"[PAD]\" twice",
        ),
        (
            r###""unk_token": "[UNK]""###,
            r###""unk_token": "<unk>""###,
            "model.unk_token \"<unk>\" is not in model.vocab",
        ),
        (
            r###""strip_accents": null"###,
            r###""strip_accents": 1"###,
            "normalizer.strip_accents must be null or a boolean",
        ),
        (
            r###""type": "BertNormalizer""###,
            r###""type": "NFC""###,
            "normalizer.type Some(\"NFC\") is not supported",
        ),
        (
            r###""##s": 3"###,
            r###""##s": -3"###,
            "a model.vocab value must be an integer id",
        ),
    ] {
        let text = good.replace(from, to);
        let err = TokenizerSpec::from_json(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn json_is_strict_and_bounded() {
    // Whatever the bytes, a parse returns (no panic) and allocates within a bound.
    let mut rng = rng::Rng(42);
    let alphabet = b"{}[]\":,0123456789.eE+-truefalsnul \\u\"x\xc3\xa9";
    for len in [0, 1, 2, 5, 17, 100, 1000] {
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let (_, peak) = counting_alloc::peak_of(|| {
                let _ = json::parse(&bytes, "fuzz");
                let _ = SafeTensors::parse(&bytes);
            });
            assert!(peak <= allowed_peak(len), "peak {peak} for {len} bytes");
        }
    }
    // The worst cases for a tree: many one-byte elements are refused (more than one value
    // per 4 bytes); one value per 4 bytes, in an array and as object members, is accepted
    // within the bound.
    let many = format!("[{}0]", "0,".repeat(100_000));
    let err = json::parse(many.as_bytes(), "t").unwrap_err();
    assert!(
        err.to_string()
            .contains("more than one JSON value per 4 bytes"),
        "{err}"
    );
    for dense in [
        format!("[{}0]", "0  ,".repeat(100_000)),
        format!("{{{}\"\":0}}", "\"\":0,".repeat(100_000)),
    ] {
        let (r, peak) = counting_alloc::peak_of(|| json::parse(dense.as_bytes(), "t").map(|_| ()));
        r.unwrap();
        eprintln!(
            "{} bytes of dense JSON parse with a peak of {peak} bytes ({:.1}x)",
            dense.len(),
            peak as f64 / dense.len() as f64
        );
        assert!(peak <= allowed_peak(dense.len()), "peak {peak}");
    }
}
