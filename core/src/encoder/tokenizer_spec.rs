//! What a WordPiece tokenizer needs from a Hugging Face `tokenizer.json`, as a plain
//! struct: the vocabulary, the unknown token, the subword prefix, the word length limit,
//! the BERT normalizer's switches, the added (special) tokens and the truncation length.
//!
//! Only the BERT family is accepted: `model.type` must be `"WordPiece"` and the normalizer
//! a `"BertNormalizer"`; anything else is refused by name rather than half-understood.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::json::{self, Value};
use super::sort::heapsort_by;
use super::{Quoted, QuotedOption};
use crate::{Error, Result};

/// The BERT normalizer's options (`normalizer` in `tokenizer.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizerSpec {
    /// Remove control characters, map whitespace to spaces.
    pub clean_text: bool,
    /// Put spaces around CJK ideographs.
    pub handle_chinese_chars: bool,
    /// Strip accents (NFD, drop combining marks); `None` means "as `lowercase`".
    pub strip_accents: Option<bool>,
    /// Lowercase the text.
    pub lowercase: bool,
}

/// One of `added_tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedToken {
    /// Its id.
    pub id: u32,
    /// Its text, e.g. `"[CLS]"`.
    pub content: String,
    /// Whether it is a special token.
    pub special: bool,
}

/// The WordPiece tokenizer's description, read from `tokenizer.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerSpec {
    /// `model.vocab`: token -> id, in file order. Tokens are unique, ids unique.
    pub vocab: Vec<(String, u32)>,
    /// `model.unk_token`, e.g. `"[UNK]"` (present in `vocab`).
    pub unk_token: String,
    /// `model.continuing_subword_prefix`, e.g. `"##"`.
    pub continuing_subword_prefix: String,
    /// `model.max_input_chars_per_word`: longer words become `unk_token` (100 for BERT).
    pub max_input_chars_per_word: usize,
    /// The normalizer's options.
    pub normalizer: NormalizerSpec,
    /// `added_tokens`.
    pub added_tokens: Vec<AddedToken>,
    /// `truncation.max_length`, if the file enables truncation.
    pub truncation_max_length: Option<usize>,
}

const WHAT: &str = "tokenizer.json";

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn corrupt(msg: impl core::fmt::Display) -> Error {
    Error::CorruptFile(format!("{WHAT}: {msg}"))
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn bool_field(obj: &Value<'_>, key: &str, default: bool) -> Result<bool> {
    match obj.get(key) {
        None => Ok(default),
        Some(v) => v.as_bool().ok_or_else(|| {
            corrupt(format_args!(
                "\"{key}\" must be a boolean, got {}",
                v.kind()
            ))
        }),
    }
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn str_field(obj: &Value<'_>, key: &str) -> Result<String> {
    let v = json::field(obj, key, WHAT)?;
    v.as_str()
        .map(ToString::to_string)
        .ok_or_else(|| corrupt(format_args!("\"{key}\" must be a string, got {}", v.kind())))
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn id_of(v: &Value<'_>, what: &str) -> Result<u32> {
    v.as_u64()
        .filter(|&id| id <= i32::MAX as u64)
        .map(|id| id as u32)
        .ok_or_else(|| corrupt(format_args!("{what} must be an integer id in 0..2^31")))
}

impl TokenizerSpec {
    /// Parses `tokenizer.json`.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_json(bytes: &[u8]) -> Result<TokenizerSpec> {
        let root = json::parse(bytes, WHAT)?;
        if root.as_object().is_none() {
            return Err(corrupt("not a JSON object"));
        }
        let model = json::field(&root, "model", WHAT)?;
        match model.get("type").and_then(Value::as_str) {
            Some("WordPiece") => {}
            other => {
                return Err(corrupt(format_args!(
                    "model.type {} is not supported: only \"WordPiece\"",
                    QuotedOption(other)
                )))
            }
        }
        let vocab_obj = json::field(model, "vocab", WHAT)?
            .as_object()
            .ok_or_else(|| corrupt("model.vocab must be an object of token: id"))?;
        let mut vocab = Vec::new();
        vocab
            .try_reserve_exact(vocab_obj.len())
            .map_err(|_| Error::OutOfMemory("tokenizer vocabulary".to_string()))?;
        for (token, id) in vocab_obj {
            vocab.push((token.to_string(), id_of(id, "a model.vocab value")?));
        }
        // Unique tokens and unique ids: sort copies of the keys, compare neighbours.
        let mut by_id: Vec<u32> = vocab.iter().map(|(_, id)| *id).collect();
        heapsort_by(&mut by_id, |a, b| a < b);
        if let Some(w) = by_id.windows(2).find(|w| w[0] == w[1]) {
            return Err(corrupt(format_args!("model.vocab gives id {} twice", w[0])));
        }
        // Tokens: sort (hash, index) pairs, integers that are cheap to compare even in an
        // interpreter (wasmi loads a 30,000-token vocabulary this way), then compare the
        // strings of equal hashes.
        let fnv = |t: &str| {
            t.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
            })
        };
        let mut hashed: Vec<(u64, usize)> = vocab
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (fnv(t), i))
            .collect();
        heapsort_by(&mut hashed, |a, b| a < b);
        for run in hashed.chunk_by(|a, b| a.0 == b.0) {
            for (i, a) in run.iter().enumerate() {
                if let Some(b) = run[i + 1..].iter().find(|b| vocab[a.1].0 == vocab[b.1].0) {
                    return Err(corrupt(format_args!(
                        "model.vocab lists {} twice",
                        Quoted(&vocab[b.1].0)
                    )));
                }
            }
        }

        let unk_token = str_field(model, "unk_token")?;
        if !vocab.iter().any(|(t, _)| *t == unk_token) {
            return Err(corrupt(format_args!(
                "model.unk_token {} is not in model.vocab",
                Quoted(&unk_token)
            )));
        }
        let continuing_subword_prefix = match model.get("continuing_subword_prefix") {
            None | Some(Value::Null) => "##".to_string(),
            Some(_) => str_field(model, "continuing_subword_prefix")?,
        };
        let max_input_chars_per_word = match model.get("max_input_chars_per_word") {
            None => 100,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| corrupt("model.max_input_chars_per_word must be an integer"))?,
        };

        let normalizer = match root.get("normalizer") {
            Some(n @ Value::Object(_)) => {
                match n.get("type").and_then(Value::as_str) {
                    Some("BertNormalizer") => {}
                    other => {
                        return Err(corrupt(format_args!(
                            "normalizer.type {} is not supported: only \"BertNormalizer\"",
                            QuotedOption(other)
                        )))
                    }
                }
                NormalizerSpec {
                    clean_text: bool_field(n, "clean_text", true)?,
                    handle_chinese_chars: bool_field(n, "handle_chinese_chars", true)?,
                    strip_accents: match n.get("strip_accents") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(v.as_bool().ok_or_else(|| {
                            corrupt("normalizer.strip_accents must be null or a boolean")
                        })?),
                    },
                    lowercase: bool_field(n, "lowercase", true)?,
                }
            }
            _ => {
                return Err(corrupt(
                    "a BertNormalizer \"normalizer\" object is required",
                ))
            }
        };

        let mut added_tokens = Vec::new();
        if let Some(list) = root.get("added_tokens") {
            let list = list
                .as_array()
                .ok_or_else(|| corrupt("\"added_tokens\" must be an array"))?;
            for t in list {
                added_tokens.push(AddedToken {
                    id: id_of(json::field(t, "id", WHAT)?, "added_tokens[].id")?,
                    content: str_field(t, "content")?,
                    special: bool_field(t, "special", false)?,
                });
            }
        }

        let truncation_max_length = match root.get("truncation") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                json::field_u64(t, "max_length", WHAT)
                    .ok()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| corrupt("truncation.max_length must be an integer"))?,
            ),
        };

        Ok(TokenizerSpec {
            vocab,
            unk_token,
            continuing_subword_prefix,
            max_input_chars_per_word,
            normalizer,
            added_tokens,
            truncation_max_length,
        })
    }
}
