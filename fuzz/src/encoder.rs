//! The text encoder's parsers of untrusted model files and text: `config.json`, the pooling
//! and sentence-transformers configs, the safetensors container and the weights in it, the
//! forward pass on what loaded, `vocab.txt` with arbitrary text bytes, and `tokenizer.json`.

use std::sync::Arc;

use ferrovec_core::encoder::safetensors::{Dtype, SafeTensors};
use ferrovec_core::encoder::tokenizer::{NormalizerOptions, WordPieceOptions, WordPieceTokenizer};
use ferrovec_core::encoder::weights::f16_to_f32;
use ferrovec_core::encoder::{BertModel, ModelBytes, TokenizerSpec, Workspace};
use ferrovec_core::kernels::Kernels;
use ferrovec_core::Error;

use crate::input::Input;

/// The model bytes at an offset of 0..=3 inside their allocation, so both the borrowed
/// (4-byte aligned f32) and the converted (misaligned) weight paths are reached.
struct Shifted {
    buf: Vec<u8>,
    shift: usize,
}

impl AsRef<[u8]> for Shifted {
    fn as_ref(&self) -> &[u8] {
        &self.buf[self.shift..]
    }
}

/// A piece of the input preceded by its length (u16, little-endian).
fn piece<'a>(input: &mut Input<'a>) -> &'a [u8] {
    let n = input.u16() as usize;
    input.bytes(n)
}

/// Whether every float the forward pass can read is finite and at most 1000 in magnitude:
/// then the vectors must be finite too (with non-finite or huge weights NaN / inf outputs
/// are the arithmetic's, not a bug).
fn tame_weights(buf: &[u8]) -> bool {
    let Ok(st) = SafeTensors::parse(buf) else {
        return false;
    };
    let ok = |v: f32| v.is_finite() && v.abs() <= 1000.0;
    st.tensors().iter().all(|t| {
        let b = &buf[t.range.clone()];
        match t.dtype {
            Dtype::F32 => b
                .chunks_exact(4)
                .all(|c| ok(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            Dtype::F16 => b
                .chunks_exact(2)
                .all(|c| ok(f16_to_f32(u16::from_le_bytes([c[0], c[1]])))),
            Dtype::BF16 => b.chunks_exact(2).all(|c| {
                ok(f32::from_bits(
                    (u16::from_le_bytes([c[0], c[1]]) as u32) << 16,
                ))
            }),
            _ => true,
        }
    })
}

/// Replaces every float of the file's float tensors that is not finite or above 1000 in
/// magnitude by one in [-1, 1) made from its bits (the mutated bytes mostly give huge
/// values, which would excuse non-finite vectors).
fn tame_in_place(buf: &mut [u8]) {
    let Ok(st) = SafeTensors::parse(buf) else {
        return;
    };
    let ok = |v: f32| v.is_finite() && v.abs() <= 1000.0;
    let moderate = |bits: u32| (bits % 2048) as f32 / 1024.0 - 1.0;
    for t in st.tensors() {
        let b = &mut buf[t.range.clone()];
        match t.dtype {
            Dtype::F32 => b.chunks_exact_mut(4).for_each(|c| {
                let bits = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                if !ok(f32::from_bits(bits)) {
                    c.copy_from_slice(&moderate(bits).to_le_bytes());
                }
            }),
            Dtype::F16 | Dtype::BF16 => b.chunks_exact_mut(2).for_each(|c| {
                let h = u16::from_le_bytes([c[0], c[1]]);
                let v = if t.dtype == Dtype::F16 {
                    f16_to_f32(h)
                } else {
                    f32::from_bits((h as u32) << 16)
                };
                if !ok(v) {
                    // 0x3C00 is 1.0 in f16; 0x3F80 in bf16. Keep the low bits as variety.
                    let one = if t.dtype == Dtype::F16 {
                        0x3800
                    } else {
                        0x3F00
                    };
                    c.copy_from_slice(&(one | (h & 0x00FF)).to_le_bytes());
                }
            }),
            _ => {}
        }
    }
}

/// The safetensors container alone: refused, or every tensor's range inside the buffer and
/// of the size its shape and dtype imply, names sorted and unique.
fn check_safetensors(buf: &[u8]) {
    let Ok(st) = SafeTensors::parse(buf) else {
        return;
    };
    assert_eq!(st.buffer_len(), buf.len());
    for t in st.tensors() {
        assert!(t.range.start <= t.range.end && t.range.end <= buf.len());
        assert_eq!(t.range.len(), t.numel() * t.dtype.size(), "{}", t.name);
        assert!(st.get(&t.name).is_some());
    }
    assert!(st.tensors().windows(2).all(|w| w[0].name < w[1].name));
}

/// `encoder_files`: the files of a sentence-transformers model directory, then the forward
/// pass on a few short id sequences.
///
/// Input: a flag byte (bit 0: a pooling config follows, bit 1: a sentence_bert_config
/// follows, bits 2-3: the model bytes' offset in their allocation, bit 4: the safetensors
/// bytes are taken verbatim, bit 5: every float weight that is not finite or above 1000 in
/// magnitude is replaced by a moderate one, so the finiteness check applies), `config.json` (u16 length + bytes), the optional pooling and
/// sentence-transformers configs (likewise), the batch (a count byte, then per sequence a
/// length byte and that many id bytes), and the rest: a safetensors file whose header length
/// is resealed (u16 header length + header + data; the harness writes the u64 length itself)
/// unless bit 4 says verbatim.
///
/// Must hold: `BertModel::from_files` refuses with `CorruptFile` (a message naming the file)
/// or loads a model of the config's width; the forward pass refuses exactly the batches its
/// documentation says (empty sequence, too long, id out of range) with `InvalidArgument`,
/// and otherwise, on every kernel table, gives one vector per sequence that is unit length
/// (or zero) and finite whenever the weights are finite and moderate; a second call on the
/// warm workspace gives the same bits.
pub fn encoder_files(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let config = piece(&mut input);
    let pooling = (flags & 1 != 0).then(|| piece(&mut input));
    let sbert = (flags & 2 != 0).then(|| piece(&mut input));
    let shift = (flags >> 2 & 3) as usize;
    let n_seq = input.u8() % 4;
    let seqs: Vec<Vec<u8>> = (0..n_seq)
        .map(|_| {
            let n = input.u8() as usize;
            input.bytes(n % 24).to_vec()
        })
        .collect();
    let rest = input.bytes(usize::MAX);
    let mut buf = vec![0u8; shift];
    if flags & 16 != 0 || rest.len() < 2 {
        buf.extend_from_slice(rest);
    } else {
        let h = (u16::from_le_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
        buf.extend_from_slice(&(h as u64).to_le_bytes());
        buf.extend_from_slice(&rest[2..]);
    }
    check_safetensors(&buf[shift..]);
    if flags & 32 != 0 {
        tame_in_place(&mut buf[shift..]);
    }
    let tame = tame_weights(&buf[shift..]);
    let bytes: ModelBytes = Arc::new(Shifted { buf, shift });

    let model = match BertModel::from_files(bytes, config, pooling, sbert) {
        Ok(m) => m,
        Err(e) => {
            let msg = e.to_string();
            assert!(
                matches!(e, Error::CorruptFile(_) | Error::OutOfMemory(_)),
                "load: unexpected error {msg}"
            );
            assert!(
                msg.contains(".json") || msg.contains("safetensors") || msg.contains("weights"),
                "{msg}"
            );
            return;
        }
    };
    let cfg = model.config().clone();
    assert_eq!(model.dims(), cfg.hidden_size);
    assert!(model.max_seq_length() >= 1 && model.max_seq_length() <= cfg.max_position_embeddings);

    // Ids: a byte modulo vocab_size + 1, so the last value is out of range. A length byte of
    // 0xFF... is taken as "max_position_embeddings + (0 or 1)" (capped) to reach the limit.
    let vocab = cfg.vocab_size;
    let ids: Vec<Vec<u32>> = seqs
        .iter()
        .map(|s| {
            let mut v: Vec<u32> = s
                .iter()
                .map(|&b| (b as usize % (vocab + 1)) as u32)
                .collect();
            if s.first() == Some(&0xFF) {
                let n = (cfg.max_position_embeddings + (s.len() & 1)).min(600);
                v = (0..n).map(|i| (i % vocab) as u32).collect();
            }
            v
        })
        .collect();
    let batch: Vec<&[u32]> = ids.iter().map(|v| v.as_slice()).collect();
    let refused = batch.iter().any(|s| {
        s.is_empty()
            || s.len() > cfg.max_position_embeddings
            || s.iter().any(|&id| id as usize >= vocab)
    });
    let h = cfg.hidden_size;
    for k in Kernels::variants() {
        let mut ws = Workspace::new();
        let mut out = vec![f32::NAN; batch.len() * h];
        match model.embed_ids(k, &batch, &mut out, &mut ws) {
            Err(e) => {
                assert!(refused, "{}: refused a valid batch: {e}", k.variant());
                assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
                assert!(
                    out.iter().all(|v| v.is_nan()),
                    "out was written on an error"
                );
            }
            Ok(()) => {
                assert!(!refused, "{}: accepted an invalid batch", k.variant());
                for (s, v) in out.chunks_exact(h).enumerate() {
                    let norm = v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
                    if tame {
                        assert!(
                            v.iter().all(|x| x.is_finite()),
                            "{}: sequence {s}: non-finite output from finite weights",
                            k.variant()
                        );
                        assert!(
                            norm == 0.0 || (norm - 1.0).abs() < 1e-3,
                            "{}: sequence {s}: norm {norm}",
                            k.variant()
                        );
                    }
                }
                let mut again = vec![0.0; out.len()];
                model
                    .embed_ids(k, &batch, &mut again, &mut ws)
                    .expect("the same batch again");
                assert!(
                    out.iter()
                        .zip(&again)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{}: a warm workspace changed the result",
                    k.variant()
                );
            }
        }
    }
}

/// Options for a WordPiece tokenizer from two bytes of the input.
fn options(input: &mut Input<'_>) -> WordPieceOptions {
    let f = input.u8();
    let c = input.u8();
    let normalizer = NormalizerOptions {
        lowercase: f & 1 != 0,
        clean_text: f & 2 == 0,
        handle_chinese_chars: f & 4 == 0,
        strip_accents: match f >> 3 & 3 {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        },
    };
    let prefix = match f >> 5 & 3 {
        1 => "",
        2 => "\u{2581}",
        _ => "##",
    };
    let mut o = WordPieceOptions {
        normalizer,
        continuing_subword_prefix: prefix.into(),
        max_input_chars_per_word: match c {
            0 => 100,
            0xFF => 70_000, // refused: above the limit
            0xFE => 0,      // refused
            c => c as usize,
        },
        ..WordPieceOptions::default()
    };
    if f & 0x80 != 0 {
        o.special_tokens = vec!["[CLS]".into(), "[SEP]".into()];
    }
    o
}

/// Every encoding of `text` by `t`: `[CLS]` first, `[SEP]` last, ids in the vocabulary, at
/// most `max_tokens`, and a truncated encoding is the full one's prefix with `[SEP]` put back.
fn check_encoding(t: &WordPieceTokenizer, text: &[u8], max_tokens: usize) {
    let full = t.encode_bytes(text, usize::MAX).expect("no truncation");
    let check = |ids: &[u32], max: usize| {
        assert!(
            ids.len() >= 2 && ids.len() <= max,
            "{} tokens, max {max}",
            ids.len()
        );
        assert_eq!(ids[0], t.cls_id());
        assert_eq!(*ids.last().unwrap(), t.sep_id());
        assert!(ids.iter().all(|&id| (id as usize) < t.vocab_size()));
        assert!(ids.iter().all(|&id| t.id_to_token(id).is_some()));
    };
    check(&full, usize::MAX);
    match t.encode_bytes(text, max_tokens) {
        Err(e) => {
            assert!(max_tokens < 2, "refused max_tokens {max_tokens}: {e}");
            assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
        }
        Ok(ids) => {
            assert!(max_tokens >= 2, "accepted max_tokens {max_tokens}");
            check(&ids, max_tokens);
            if full.len() <= max_tokens {
                assert_eq!(ids, full, "no truncation needed");
            } else {
                assert_eq!(ids.len(), max_tokens);
                assert_eq!(
                    ids[..max_tokens - 1],
                    full[..max_tokens - 1],
                    "truncation is a prefix"
                );
            }
        }
    }
    // Valid UTF-8 takes the same path as `&str`.
    if let Ok(s) = std::str::from_utf8(text) {
        assert_eq!(t.encode(s, usize::MAX).expect("no truncation"), full);
    }
    let lossy = String::from_utf8_lossy(text);
    let _ = t.words(&lossy);
}

/// `tokenizer`: a `vocab.txt` and text bytes (any, UTF-8 or not).
///
/// Input: two option bytes (normalizer switches, subword prefix, special tokens,
/// `max_input_chars_per_word`), `max_tokens` (u16; 0xFFFF means no limit), the vocabulary
/// (u16 length + bytes), and the rest: the text.
///
/// Must hold: `from_vocab_txt` refuses with `CorruptFile` (bad vocabulary, message starting
/// with `vocab.txt: `) or `InvalidArgument` (bad options), or the tokenizer encodes the text
/// per [`check_encoding`].
pub fn tokenizer(data: &[u8]) {
    let mut input = Input::new(data);
    let opts = options(&mut input);
    let max_tokens = match input.u16() {
        0xFFFF => usize::MAX,
        m => m as usize,
    };
    let vocab = piece(&mut input);
    let text = input.bytes(usize::MAX);
    let t = match WordPieceTokenizer::from_vocab_txt(vocab, opts) {
        Ok(t) => t,
        Err(e) => {
            let msg = e.to_string();
            match e {
                Error::CorruptFile(m) => assert!(m.starts_with("vocab.txt: "), "{m}"),
                Error::InvalidArgument(_) => {}
                _ => panic!("vocab.txt: unexpected error {msg}"),
            }
            return;
        }
    };
    check_encoding(&t, text, max_tokens);
}

/// `tokenizer_json`: a `tokenizer.json`. Must hold: `TokenizerSpec::from_json` refuses with
/// `CorruptFile` (or `OutOfMemory`), or returns a spec whose tokens and ids are unique with
/// the unknown token among them; a WordPiece tokenizer built from it (as an app would) is
/// refused with a typed error or encodes a fixed text per [`check_encoding`].
pub fn tokenizer_json(data: &[u8]) {
    let spec = match TokenizerSpec::from_json(data) {
        Ok(s) => s,
        Err(e) => {
            match e {
                Error::CorruptFile(m) => assert!(m.starts_with("tokenizer.json: "), "{m}"),
                Error::OutOfMemory(_) => {}
                e => panic!("unexpected error {e}"),
            }
            return;
        }
    };
    let mut tokens: Vec<&str> = spec.vocab.iter().map(|(t, _)| t.as_str()).collect();
    tokens.sort_unstable();
    assert!(tokens.windows(2).all(|w| w[0] != w[1]), "duplicate token");
    let mut ids: Vec<u32> = spec.vocab.iter().map(|(_, id)| *id).collect();
    ids.sort_unstable();
    assert!(ids.windows(2).all(|w| w[0] != w[1]), "duplicate id");
    assert!(tokens.binary_search(&spec.unk_token.as_str()).is_ok());

    let n = &spec.normalizer;
    let options = WordPieceOptions {
        normalizer: NormalizerOptions {
            clean_text: n.clean_text,
            handle_chinese_chars: n.handle_chinese_chars,
            strip_accents: n.strip_accents,
            lowercase: n.lowercase,
        },
        unk_token: spec.unk_token.clone(),
        continuing_subword_prefix: spec.continuing_subword_prefix.clone(),
        max_input_chars_per_word: spec.max_input_chars_per_word,
        special_tokens: spec
            .added_tokens
            .iter()
            .filter(|t| t.special)
            .map(|t| t.content.clone())
            .collect(),
        ..WordPieceOptions::default()
    };
    let vocab = spec.vocab.iter().map(|(t, id)| (t.as_str(), *id));
    match WordPieceTokenizer::from_vocab_entries(vocab, options) {
        Ok(t) => {
            let max = spec.truncation_max_length.unwrap_or(16).min(1 << 16);
            check_encoding(
                &t,
                "Hello, WORLD! [MASK] caf\u{e9} na\u{ef}ve \u{4e2d}\u{6587} unaffable ##s\u{1f600}"
                    .as_bytes(),
                max,
            );
            check_encoding(&t, b"ab\xffcd\xe2\x82 [CLS][SEP] x", max);
        }
        Err(e) => assert!(
            matches!(e, Error::InvalidArgument(_) | Error::CorruptFile(_)),
            "{e}"
        ),
    }
}
