//! The hyper-parameters of a BERT sentence encoder: `config.json` (the transformer), the
//! sentence-transformers `1_Pooling/config.json` (how token vectors become one vector) and
//! `sentence_bert_config.json` (the sequence length the model was trained for).
//!
//! Every size is checked for sanity here, before any weight is looked at, so a hostile
//! config cannot make the loader or the forward pass size anything from it: the weights
//! must then match these sizes exactly, and their bytes must exist in the buffer.

use alloc::format;
use alloc::string::String;

use super::json::{self, Value};
use crate::{Error, Result};

/// Largest accepted `hidden_size` / `intermediate_size` (BERT-large is 1024 / 4096).
pub const MAX_WIDTH: usize = 1 << 16;
/// Largest accepted `vocab_size` (multilingual models reach ~250k).
pub const MAX_VOCAB: usize = 1 << 22;
/// Largest accepted `num_hidden_layers`.
pub const MAX_LAYERS: usize = 256;
/// Largest accepted `max_position_embeddings`.
pub const MAX_POSITIONS: usize = 1 << 16;

/// The transformer's hyper-parameters, from a Hugging Face BERT `config.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    /// Rows of the word embedding table; token ids must be below it.
    pub vocab_size: usize,
    /// Width of every token vector (384 for MiniLM-L6).
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer; divides `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Rows of the position embedding table: the longest sequence the model can run.
    pub max_position_embeddings: usize,
    /// Rows of the token type table (only type 0 is used: single sentences).
    pub type_vocab_size: usize,
    /// LayerNorm's epsilon.
    pub layer_norm_eps: f32,
}

/// How a sentence vector is made from the token vectors of the last layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean of all token vectors (all-MiniLM-L6-v2 and most sentence-transformers).
    Mean,
    /// The vector of the first (`[CLS]`) token.
    Cls,
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn corrupt(what: &str, msg: impl core::fmt::Display) -> Error {
    Error::CorruptFile(format!("{what}: {msg}"))
}

#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn size(obj: &Value<'_>, key: &str, what: &str, max: usize) -> Result<usize> {
    let v = json::field_u64(obj, key, what)?;
    if v == 0 || v > max as u64 {
        return Err(corrupt(
            what,
            format_args!("\"{key}\" = {v} is outside the accepted range 1..={max}"),
        ));
    }
    Ok(v as usize)
}

impl BertConfig {
    /// Parses and checks a `config.json`.
    ///
    /// Refused: a missing or zero size, sizes above the `MAX_*` limits of this module,
    /// `hidden_size` not divisible by `num_attention_heads`, an activation other than
    /// `"gelu"` (the exact erf form is all the forward pass implements), a position
    /// embedding type other than `"absolute"`, and a negative or non-finite epsilon.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_json(bytes: &[u8]) -> Result<BertConfig> {
        const WHAT: &str = "config.json";
        let v = json::parse(bytes, WHAT)?;
        if v.as_object().is_none() {
            return Err(corrupt(WHAT, "not a JSON object"));
        }
        let cfg = BertConfig {
            vocab_size: size(&v, "vocab_size", WHAT, MAX_VOCAB)?,
            hidden_size: size(&v, "hidden_size", WHAT, MAX_WIDTH)?,
            num_hidden_layers: size(&v, "num_hidden_layers", WHAT, MAX_LAYERS)?,
            num_attention_heads: size(&v, "num_attention_heads", WHAT, MAX_WIDTH)?,
            intermediate_size: size(&v, "intermediate_size", WHAT, MAX_WIDTH)?,
            max_position_embeddings: size(&v, "max_position_embeddings", WHAT, MAX_POSITIONS)?,
            type_vocab_size: match v.get("type_vocab_size") {
                // Missing means BERT's default of 2; only row 0 is read.
                None => 2,
                Some(_) => size(&v, "type_vocab_size", WHAT, MAX_VOCAB)?,
            },
            layer_norm_eps: match v.get("layer_norm_eps") {
                None => 1e-12,
                Some(e) => {
                    let eps = e.as_f64().ok_or_else(|| {
                        corrupt(WHAT, format_args!("\"layer_norm_eps\" is {}", e.kind()))
                    })?;
                    if !(0.0..1.0).contains(&eps) {
                        // The number as written: formatting a float would link core's
                        // float printing (about 18 KB of wasm) for this one message.
                        let text = match e {
                            Value::Number(text) => text,
                            _ => "?",
                        };
                        return Err(corrupt(
                            WHAT,
                            format_args!("\"layer_norm_eps\" = {text} is outside [0, 1)"),
                        ));
                    }
                    eps as f32
                }
            },
        };
        if !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
            return Err(corrupt(
                WHAT,
                format_args!(
                    "hidden_size {} is not divisible by num_attention_heads {}",
                    cfg.hidden_size, cfg.num_attention_heads
                ),
            ));
        }
        match v.get("hidden_act") {
            None => {}
            Some(a) if a.as_str() == Some("gelu") => {}
            Some(a) => {
                return Err(corrupt(
                    WHAT,
                    format_args!(
                    "hidden_act {} is not supported: only \"gelu\" (exact erf GELU) is implemented",
                    describe(a)
                ),
                ))
            }
        }
        match v.get("position_embedding_type") {
            None => {}
            Some(p) if p.as_str() == Some("absolute") => {}
            Some(p) => {
                return Err(corrupt(
                    WHAT,
                    format_args!(
                        "position_embedding_type {} is not supported: only \"absolute\"",
                        describe(p)
                    ),
                ))
            }
        }
        Ok(cfg)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// A value for an error message: strings quoted, others by kind.
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn describe(v: &Value<'_>) -> String {
    match v.as_str() {
        Some(s) => format!("\"{}\"", s.chars().take(64).collect::<String>()),
        None => String::from(v.kind()),
    }
}

impl Pooling {
    /// Parses a sentence-transformers `1_Pooling/config.json`: exactly one of
    /// `pooling_mode_mean_tokens` and `pooling_mode_cls_token` must be true; max pooling,
    /// mean-sqrt-len pooling, weighted or last-token pooling are refused by name.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_json(bytes: &[u8]) -> Result<Pooling> {
        const WHAT: &str = "1_Pooling/config.json";
        let v = json::parse(bytes, WHAT)?;
        if v.as_object().is_none() {
            return Err(corrupt(WHAT, "not a JSON object"));
        }
        let flag = |key: &str| -> Result<bool> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(false),
                Some(f) => f
                    .as_bool()
                    .ok_or_else(|| corrupt(WHAT, format_args!("\"{key}\" must be a boolean"))),
            }
        };
        for unsupported in [
            "pooling_mode_max_tokens",
            "pooling_mode_mean_sqrt_len_tokens",
            "pooling_mode_weightedmean_tokens",
            "pooling_mode_lasttoken",
        ] {
            if flag(unsupported)? {
                return Err(corrupt(
                    WHAT,
                    format_args!("\"{unsupported}\" is not supported: only mean or CLS pooling"),
                ));
            }
        }
        match (flag("pooling_mode_mean_tokens")?, flag("pooling_mode_cls_token")?) {
            (true, false) => Ok(Pooling::Mean),
            (false, true) => Ok(Pooling::Cls),
            (true, true) => Err(corrupt(
                WHAT,
                "both mean and CLS pooling are on: concatenated poolings are not supported",
            )),
            (false, false) => Err(corrupt(
                WHAT,
                "no pooling mode is on (expected pooling_mode_mean_tokens or pooling_mode_cls_token)",
            )),
        }
    }
}

/// Reads `max_seq_length` from a sentence-transformers `sentence_bert_config.json`: the
/// length the tokenizer truncates to for this model (256 for all-MiniLM-L6-v2).
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub fn max_seq_length_from_json(bytes: &[u8]) -> Result<usize> {
    const WHAT: &str = "sentence_bert_config.json";
    let v = json::parse(bytes, WHAT)?;
    if v.as_object().is_none() {
        return Err(corrupt(WHAT, "not a JSON object"));
    }
    size(&v, "max_seq_length", WHAT, MAX_POSITIONS)
}
