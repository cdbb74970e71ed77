//! Text on the index (Rust API): an index that carries an encoder adds and searches by text,
//! records the encoder's model id, saves it (index format v2) and refuses another model;
//! tiny random checkpoints stand in for all-MiniLM-L6-v2.

extern crate alloc;

#[path = "index_support/mod.rs"]
mod index_support;
#[allow(dead_code)] // the Rng helpers this binary does not use
#[path = "../../core/tests/support/rng.rs"]
mod rng;
#[path = "../../core/tests/support/tiny_bert.rs"]
mod tiny_bert;

use std::sync::Arc;

use ferrovec::backend::BundledModule;
use ferrovec::{Encoder, Engine, Error, HnswParams, Index, IndexMetric, IndexOptions, OnDuplicate};
use tiny_bert::Spec;

/// A tiny encoder (Spec::small: 32 dims; Spec::other: 48) from weights of `seed`.
fn encoder(spec: &Spec, seed: u64) -> Encoder {
    let (bytes, _) = tiny_bert::model_bytes(spec, seed);
    Encoder::from_bytes(
        &Engine::native(),
        Arc::new(bytes),
        spec.config_json().as_bytes(),
        tiny_bert::tokenizer_json(spec).as_bytes(),
    )
    .unwrap()
}

/// Texts in the tiny vocabulary.
const TEXTS: [&str; 6] = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "a cafe today",
    "日本 is so lovely",
    "the stadium is outside",
];

fn keys() -> Vec<u64> {
    (0..TEXTS.len() as u64).map(|k| 100 + k).collect()
}

fn is_invalid(e: &Error, needle: &str) -> bool {
    matches!(e, Error::InvalidArgument(m) if m.contains(needle))
}

#[test]
fn add_and_search_by_text_match_the_vector_api() {
    let enc = encoder(&Spec::small(), 1);
    for options in [
        IndexOptions::new(32, IndexMetric::Cosine),
        IndexOptions::new(32, IndexMetric::InnerProduct).hnsw(HnswParams::default()),
    ] {
        let index = Index::new_text(&Engine::native(), &enc, options.clone()).unwrap();
        assert_eq!(index.model_id(), Some(enc.model_id()));
        assert_eq!(index.encoder().unwrap().model_id(), enc.model_id());
        index.add_text(1, TEXTS[0]).unwrap();
        index.add_texts(&keys()[1..], &TEXTS[1..]).unwrap();
        assert_eq!(index.len(), TEXTS.len());

        // The same as embedding by hand and using the vector API.
        let plain = Index::new(&Engine::native(), options).unwrap();
        plain.add(1, &enc.embed_one(TEXTS[0]).unwrap()).unwrap();
        plain
            .add_batch(
                &keys()[1..],
                &enc.embed_flat(&TEXTS[1..]).unwrap(),
                OnDuplicate::Error,
            )
            .unwrap();
        for (i, text) in TEXTS.iter().enumerate() {
            let hits = index.search_text(text, 3).unwrap();
            let want = plain.search(&enc.embed_one(text).unwrap(), 3).unwrap();
            assert_eq!(hits, want, "{text}");
            // A text finds itself first (distance ~0).
            let key = if i == 0 { 1 } else { keys()[i] };
            assert_eq!(hits[0].key, key, "{text}");
            assert!(hits[0].distance.abs() < 1e-5, "{hits:?}");
        }
        let batch = index.search_texts(&TEXTS, 2).unwrap();
        assert_eq!(batch.len(), TEXTS.len());
        assert_eq!(batch[2], index.search_text(TEXTS[2], 2).unwrap());

        // Duplicates, replace, and a failed batch that changes nothing.
        let e = index.add_text(1, "so sunny").unwrap_err();
        assert_eq!(e, Error::DuplicateKey(1));
        index
            .add_text_with(1, "so sunny", OnDuplicate::Replace)
            .unwrap();
        assert_eq!(index.search_text("so sunny", 1).unwrap()[0].key, 1);
        let before = index.to_bytes().unwrap();
        assert_eq!(
            index.add_texts(&[7, 8], &["a", "b", "c"]).unwrap_err(),
            Error::DimensionMismatch {
                expected: 2,
                actual: 3
            }
        );
        assert_eq!(
            index.add_texts(&[7, 1], &["a", "b"]).unwrap_err(),
            Error::DuplicateKey(1)
        );
        assert_eq!(index.to_bytes().unwrap(), before, "unchanged");
    }
}

#[test]
fn the_first_text_records_the_model_and_files_keep_it() {
    let enc = encoder(&Spec::small(), 1);
    let other = encoder(&Spec::small(), 2);
    assert_ne!(enc.model_id(), other.model_id());
    let engine = Engine::native();

    // A plain index takes an encoder; its id is recorded at the first text.
    let index = Index::new(&engine, IndexOptions::new(32, IndexMetric::Cosine)).unwrap();
    assert_eq!(index.model_id(), None);
    let v1 = index.to_bytes().unwrap();
    assert_eq!(&v1[4..8], &1u32.to_le_bytes(), "no id: format v1");
    let text = index.with_encoder(enc.clone()).unwrap();
    assert_eq!(index.model_id(), None, "attaching records nothing");
    text.add_texts(&keys(), &TEXTS).unwrap();
    assert_eq!(
        index.model_id(),
        Some(enc.model_id()),
        "handles share the index"
    );

    // Saved: format v2 with the id; loads with no encoder (vector search) and with `enc`.
    let dir = std::env::temp_dir().join(format!("fv-text-index-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("text.fvix");
    text.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[4..8], &2u32.to_le_bytes());
    assert_eq!(&bytes[88..96], &enc.model_id().to_le_bytes());

    let plain = Index::load(&engine, &path).unwrap();
    assert_eq!(plain.model_id(), Some(enc.model_id()));
    let q = enc.embed_one(TEXTS[3]).unwrap();
    assert_eq!(plain.search(&q, 1).unwrap()[0].key, keys()[3]);
    assert!(is_invalid(
        &plain.search_text(TEXTS[3], 1).unwrap_err(),
        "no text encoder"
    ));
    assert!(is_invalid(
        &plain.add_text(1, "x").unwrap_err(),
        "no text encoder"
    ));
    plain.add(1, &q).unwrap(); // vectors may still be added by hand
    assert_eq!(
        plain.to_bytes().unwrap()[88..96],
        enc.model_id().to_le_bytes()
    );

    let loaded = Index::load_with_encoder(&engine, &path, &enc).unwrap();
    assert_eq!(
        loaded.search_text(TEXTS[4], 2).unwrap(),
        text.search_text(TEXTS[4], 2).unwrap()
    );
    assert_eq!(loaded.to_bytes().unwrap(), bytes, "re-saved identically");

    // Another model: a clear error naming both ids, on load, attach, add and search.
    let ids = (
        format!("{:016x}", enc.model_id()),
        format!("{:016x}", other.model_id()),
    );
    let e = Index::load_with_encoder(&engine, &path, &other).unwrap_err();
    assert!(is_invalid(&e, &ids.0) && is_invalid(&e, &ids.1), "{e}");
    let e = Index::from_bytes_with_encoder(&engine, &bytes, &other).unwrap_err();
    assert!(is_invalid(&e, "not comparable"), "{e}");
    let e = text.with_encoder(other.clone()).unwrap_err();
    assert!(is_invalid(&e, &ids.1), "{e}");
    // Attached while the index was empty, then the index filled up under another handle.
    let empty = Index::new(&engine, IndexOptions::new(32, IndexMetric::Cosine)).unwrap();
    let (a, b) = (
        empty.with_encoder(enc.clone()).unwrap(),
        empty.with_encoder(other.clone()).unwrap(),
    );
    a.add_text(1, TEXTS[0]).unwrap();
    let before = empty.to_bytes().unwrap();
    assert!(is_invalid(&b.add_text(2, TEXTS[1]).unwrap_err(), &ids.0));
    assert!(is_invalid(&b.search_text(TEXTS[1], 1).unwrap_err(), &ids.1));
    assert_eq!(empty.to_bytes().unwrap(), before, "unchanged");
    // Once cleared and compacted empty, the other model may take the index over.
    empty.remove(1).unwrap();
    empty.compact().unwrap();
    b.add_text(2, TEXTS[1]).unwrap();
    assert_eq!(empty.model_id(), Some(other.model_id()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn encoder_dims_must_match_and_failed_first_adds_record_nothing() {
    let small = encoder(&Spec::small(), 1);
    let wide = encoder(&Spec::other(), 3);
    assert_eq!((small.dims(), wide.dims()), (32, 48));
    let engine = Engine::native();
    let e =
        Index::new_text(&engine, &wide, IndexOptions::new(32, IndexMetric::Cosine)).unwrap_err();
    assert_eq!(
        e,
        Error::DimensionMismatch {
            expected: 32,
            actual: 48
        }
    );
    let index = Index::new(&engine, IndexOptions::new(32, IndexMetric::Cosine)).unwrap();
    assert!(matches!(
        index.with_encoder(wide).unwrap_err(),
        Error::DimensionMismatch { .. }
    ));

    // A plain index with a vector under key 5: a first text batch that fails (duplicate)
    // adds nothing and records no id.
    index.add(5, &small.embed_one("x").unwrap()).unwrap();
    let text = index.with_encoder(small.clone()).unwrap();
    assert_eq!(
        text.add_texts(&[4, 5], &["a", "b"]).unwrap_err(),
        Error::DuplicateKey(5)
    );
    assert_eq!((index.len(), index.model_id()), (1, None));
    text.add_texts(&[4, 6], &["a", "b"]).unwrap();
    assert_eq!((index.len(), index.model_id()), (3, Some(small.model_id())));
    // k = 0 and an empty batch.
    assert!(matches!(
        text.search_text("a", 0).unwrap_err(),
        Error::InvalidArgument(_)
    ));
    text.add_texts::<&str>(&[], &[]).unwrap();
    assert_eq!(text.search_texts::<&str>(&[], 1).unwrap().len(), 0);
}

/// The Interpreted backend loads and re-saves a text index's v2 file byte for byte, and
/// searches it by text with a native encoder; a fresh interpreted index records the id of
/// its first text (the module's `fv_index_set_model_id`, capability bit 4).
#[test]
fn interpreted_backend_keeps_the_model_id_of_a_file() {
    let Some(module) = index_support::built_module(BundledModule::Simd) else {
        return;
    };
    let engine =
        Engine::interpreted(&ferrovec::backend::InterpretedOptions::new().module(module)).unwrap();
    let enc = encoder(&Spec::small(), 1);
    let native = Index::new_text(
        &Engine::native(),
        &enc,
        IndexOptions::new(32, IndexMetric::Cosine),
    )
    .unwrap();
    native.add_texts(&keys(), &TEXTS).unwrap();
    let bytes = native.to_bytes().unwrap();
    let wasm = Index::from_bytes_with_encoder(&engine, &bytes, &enc).unwrap();
    assert_eq!(wasm.model_id(), Some(enc.model_id()));
    assert_eq!(wasm.to_bytes().unwrap(), bytes, "byte parity");
    let (a, b) = (
        wasm.search_text(TEXTS[2], 3).unwrap(),
        native.search_text(TEXTS[2], 3).unwrap(),
    );
    assert_eq!(
        a.iter().map(|m| m.key).collect::<Vec<_>>(),
        b.iter().map(|m| m.key).collect::<Vec<_>>()
    );
    wasm.add_text(999, "so lovely").unwrap(); // the same id: nothing to record
    wasm.clear().unwrap();
    assert_eq!(wasm.model_id(), Some(enc.model_id()));
    assert_eq!(&wasm.to_bytes().unwrap()[4..8], &2u32.to_le_bytes());
    // The module records ids (capability bit 4): a fresh interpreted index takes the first
    // text's id, writes it in its own file, and refuses another model like the native one.
    let fresh = Index::new(&engine, IndexOptions::new(32, IndexMetric::Cosine)).unwrap();
    fresh
        .with_encoder(enc.clone())
        .unwrap()
        .add_texts(&keys(), &TEXTS)
        .unwrap();
    assert_eq!(fresh.model_id(), Some(enc.model_id()));
    assert_eq!(fresh.to_bytes().unwrap(), bytes, "the same file as native");
    let other = encoder(&Spec::small(), 2);
    let e = fresh.with_encoder(other.clone()).unwrap_err();
    assert!(is_invalid(&e, "not comparable"), "{e}");
    assert_eq!(fresh.len(), TEXTS.len());
}

/// The model id an interpreted index records survives a call that runs out of fuel (the
/// instance is discarded and rebuilt from the recovery log) and a clear (the log restarts
/// from the options, and the id with it), and is in every file it writes.
#[test]
fn interpreted_model_id_survives_a_trap_replay_and_a_clear() {
    let Some(engine) = index_support::interpreted_with(Some(20_000_000), None) else {
        return;
    };
    let enc = encoder(&Spec::small(), 1);
    let id = enc.model_id().to_le_bytes();
    let index = Index::new_text(&engine, &enc, IndexOptions::new(32, IndexMetric::Cosine)).unwrap();
    index.add_texts(&keys(), &TEXTS).unwrap();
    let out_of_fuel = |index: &Index| {
        let n = 60_000;
        let big: Vec<f32> = (0..n * 32).map(|i| (i % 97) as f32 + 1.0).collect();
        let keys: Vec<u64> = (1_000_000..1_000_000 + n as u64).collect();
        let err = index
            .add_batch(&keys, &big, OnDuplicate::Error)
            .unwrap_err();
        assert!(matches!(err, Error::OutOfFuel { .. }), "{err}");
    };
    let before = index.to_bytes().unwrap();
    out_of_fuel(&index);
    let after = index.to_bytes().unwrap();
    assert_eq!(after, before, "replayed exactly, the id included");
    assert_eq!(&after[88..96], &id);
    assert_eq!(index.model_id(), Some(enc.model_id()));

    index.clear().unwrap();
    out_of_fuel(&index);
    let cleared = index.to_bytes().unwrap();
    assert_eq!(&cleared[4..8], &2u32.to_le_bytes());
    assert_eq!(
        &cleared[88..96],
        &id,
        "the id survives a clear and a rebuild"
    );
    index.add_text(5, TEXTS[1]).unwrap();
    assert_eq!(index.search_text(TEXTS[1], 1).unwrap()[0].key, 5);
}
