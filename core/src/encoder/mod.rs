//! The text encoder engine: a BERT sentence encoder (all-MiniLM-L6-v2 and any other
//! BERT-architecture sentence-transformers checkpoint) on ferrovec's own dense kernels.
//!
//! | file | what |
//! | --- | --- |
//! | [`tokenizer`] | BERT WordPiece, the token ids of HF `tokenizers` (Unicode tables generated from it) |
//! | [`json`] | a small strict JSON parser for the model files |
//! | [`safetensors`] | the weights container, every offset checked against the buffer |
//! | [`config`] | `config.json`, the pooling config, `sentence_bert_config.json` |
//! | [`tokenizer_spec`] | what the WordPiece tokenizer needs from `tokenizer.json` |
//! | [`weights`] | tensors found by name, shape-checked, borrowed from the caller's bytes |
//! | [`model`] | the forward pass: token ids to unit-length sentence vectors |
//! | [`fingerprint`] | the model id a saved index records |
//! | this file | [`Encoder`]: the tokenizer and the model together, text to vectors |
//!
//! ```no_run
//! # use ferrovec_core::encoder::{Encoder, ModelFiles};
//! # use std::sync::Arc;
//! # fn demo(weights: Vec<u8>, config: &[u8], tokenizer: &[u8]) -> ferrovec_core::Result<()> {
//! let encoder = Encoder::from_files(ModelFiles {
//!     tokenizer_json: Some(tokenizer),
//!     ..ModelFiles::new(Arc::new(weights), config)
//! })?;
//! let vectors = encoder.embed(&["The weather is lovely today.", "It's so sunny outside!"])?;
//! assert_eq!(vectors.len(), 2 * encoder.dims());
//! # Ok(()) }
//! ```

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use crate::kernels::EncoderKernels;
use crate::{Error, Result};

pub mod config;
pub mod fingerprint;
pub mod json;
pub mod model;
pub mod safetensors;
mod sort;
pub mod tokenizer;
pub mod tokenizer_spec;
pub mod weights;

pub use config::{BertConfig, Pooling};
pub use model::{BertModel, Workspace};
pub use tokenizer::{NormalizerOptions, WordPieceOptions, WordPieceTokenizer};
pub use tokenizer_spec::TokenizerSpec;
pub use weights::{ModelBytes, WeightPrecision, Weights};

/// The files of a sentence-transformers model directory, as bytes. Only the weights are
/// kept (shared, never copied); the rest is parsed and dropped.
///
/// The vocabulary comes from `tokenizer_json` (preferred: it also carries the normalizer's
/// options) or `vocab_txt` (with the uncased BERT defaults); one of them is required.
#[derive(Clone)]
pub struct ModelFiles<'a> {
    /// `model.safetensors`.
    pub safetensors: ModelBytes,
    /// `config.json`.
    pub config_json: &'a [u8],
    /// `tokenizer.json`.
    pub tokenizer_json: Option<&'a [u8]>,
    /// `vocab.txt`, used when there is no `tokenizer_json`.
    pub vocab_txt: Option<&'a [u8]>,
    /// `1_Pooling/config.json`; missing means mean pooling.
    pub pooling_json: Option<&'a [u8]>,
    /// `sentence_bert_config.json` (its `max_seq_length`); missing means the model's
    /// `max_position_embeddings`.
    pub sentence_bert_config_json: Option<&'a [u8]>,
    /// How the linear layers are held and multiplied: f32 (the default) or int8 quantized
    /// at load ([`WeightPrecision::Int8`]: a quarter of the memory, faster where the CPU has
    /// integer dot products). The model id is the checkpoint's either way.
    pub precision: WeightPrecision,
}

impl<'a> ModelFiles<'a> {
    /// The two files every model has; add the others with struct update syntax.
    pub fn new(safetensors: ModelBytes, config_json: &'a [u8]) -> ModelFiles<'a> {
        ModelFiles {
            safetensors,
            config_json,
            tokenizer_json: None,
            vocab_txt: None,
            pooling_json: None,
            sentence_bert_config_json: None,
            precision: WeightPrecision::F32,
        }
    }
}

impl core::fmt::Debug for ModelFiles<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let len = |b: Option<&[u8]>| b.map(<[u8]>::len);
        f.debug_struct("ModelFiles")
            .field("safetensors", &(*self.safetensors).as_ref().len())
            .field("config_json", &self.config_json.len())
            .field("tokenizer_json", &len(self.tokenizer_json))
            .field("vocab_txt", &len(self.vocab_txt))
            .field("pooling_json", &len(self.pooling_json))
            .field(
                "sentence_bert_config_json",
                &len(self.sentence_bert_config_json),
            )
            .finish()
    }
}

/// A string quoted as `{:?}` prints it for the error messages (`"`, `\` and control chars
/// escaped), without core's `Debug for str`: that one escapes by Unicode printability, whose
/// tables and code are some 4 KB of the wasm encoder modules (issue 13's size budget). The
/// same text as `{:?}` but for non-ASCII chars that `{:?}` escapes (unassigned, format and
/// combining chars), which are written as they are.
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl core::fmt::Display for Quoted<'_> {
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// An optional string as `{:?}` prints it: `None` or `Some("...")` ([`Quoted`]).
pub(crate) struct QuotedOption<'a>(pub(crate) Option<&'a str>);

impl core::fmt::Display for QuotedOption<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(s) => write!(f, "Some({})", Quoted(s)),
            None => f.write_str("None"),
        }
    }
}

/// A tensor shape as `{:?}` prints a slice of integers (`[2, 3]`), without the `Debug`
/// machinery for lists (padding adapters for `{:#?}`), which only these messages used.
pub(crate) struct Shape<'a>(pub(crate) &'a [usize]);

impl core::fmt::Display for Shape<'_> {
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        f.write_char('[')?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_char(']')
    }
}

/// Sequences of one forward pass are grouped until they reach this many tokens: enough rows
/// for the products to run near the GEMM's peak, few enough that the workspace stays a few
/// MB (it grows with the tokens of one pass, not with the number of texts).
pub const PASS_TOKENS: usize = 512;

/// At most this many texts go into one pass (their id slices are gathered on the stack);
/// 64 texts of 8 tokens already make [`PASS_TOKENS`].
const PASS_TEXTS: usize = 64;

/// Text in, unit-length sentence vectors out: a [`WordPieceTokenizer`] and a [`BertModel`]
/// that agree on the vocabulary, with texts truncated to the model's `max_seq_length`.
///
/// Immutable and `Sync`: share one encoder between threads, each with its own
/// [`EncoderWorkspace`] (the convenience methods make a fresh one per call).
#[derive(Debug)]
pub struct Encoder {
    tokenizer: WordPieceTokenizer,
    model: BertModel,
    model_id: u64,
}

/// Scratch memory for [`Encoder::embed_into`]: the model's [`Workspace`] and the token ids
/// of one pass, reused across calls. One per thread.
#[derive(Debug, Default)]
pub struct EncoderWorkspace {
    model: Workspace,
    ids: Vec<Vec<u32>>,
}

impl EncoderWorkspace {
    /// An empty workspace; the first call sizes it.
    pub fn new() -> EncoderWorkspace {
        EncoderWorkspace::default()
    }

    /// Bytes held by the scratch buffers.
    pub fn bytes(&self) -> usize {
        self.model.bytes() + self.ids.iter().map(|v| 4 * v.capacity()).sum::<usize>()
    }
}

impl Encoder {
    /// Pairs a tokenizer with a model. Errors ([`Error::InvalidArgument`]) when a token id
    /// of the tokenizer is not below the model's `vocab_size`: they were not made together.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn new(tokenizer: WordPieceTokenizer, model: BertModel) -> Result<Encoder> {
        let vocab = model.config().vocab_size;
        if tokenizer.vocab_size() > vocab {
            return Err(Error::InvalidArgument(format!(
                "the tokenizer has {} tokens but the model's vocab_size is {vocab}: they do not belong together",
                tokenizer.vocab_size()
            )));
        }
        let model_id = fingerprint::model_id(&tokenizer, &model)?;
        Ok(Encoder {
            tokenizer,
            model,
            model_id,
        })
    }

    /// Loads a model from its files (see [`ModelFiles`]). Errors name the file at fault
    /// ([`Error::CorruptFile`]); nothing is allocated for sizes a file merely declares.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn from_files(files: ModelFiles<'_>) -> Result<Encoder> {
        let tokenizer = match (files.tokenizer_json, files.vocab_txt) {
            (Some(json), _) => WordPieceTokenizer::from_spec(&TokenizerSpec::from_json(json)?)?,
            (None, Some(txt)) => {
                WordPieceTokenizer::from_vocab_txt(txt, WordPieceOptions::default())?
            }
            (None, None) => {
                return Err(Error::InvalidArgument(
                    "a vocabulary is needed: tokenizer.json or vocab.txt".to_string(),
                ))
            }
        };
        let model = BertModel::from_files(
            files.safetensors,
            files.config_json,
            files.pooling_json,
            files.sentence_bert_config_json,
        )?
        .with_precision(files.precision)?;
        Encoder::new(tokenizer, model)
    }

    /// Length of the vectors.
    pub fn dims(&self) -> usize {
        self.model.dims()
    }

    /// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included (the
    /// sentence-transformers `max_seq_length`: 256 for all-MiniLM-L6-v2, although its
    /// `tokenizer.json` says 128).
    pub fn max_tokens(&self) -> usize {
        self.model.max_seq_length()
    }

    /// Identifies the model (weights, shape, pooling, vocabulary and truncation): vectors
    /// from encoders with different ids do not belong in one index. See [`fingerprint`].
    pub fn model_id(&self) -> u64 {
        self.model_id
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &WordPieceTokenizer {
        &self.tokenizer
    }

    /// The model.
    pub fn model(&self) -> &BertModel {
        &self.model
    }

    /// The token ids the model sees for `text` (UTF-8 or not: invalid sequences become
    /// U+FFFD, as at the C and wasm boundaries), truncated to [`max_tokens`](Self::max_tokens).
    pub fn tokenize(&self, text: impl AsRef<[u8]>) -> Result<Vec<u32>> {
        self.tokenizer
            .encode_bytes(text.as_ref(), self.max_tokens())
    }

    /// Embeds `texts` on the active kernel table: `texts.len() x dims()` floats, row `i`
    /// the unit-length vector of `texts[i]`.
    pub fn embed<T: AsRef<[u8]>>(&self, texts: &[T]) -> Result<Vec<f32>> {
        let len = texts
            .len()
            .checked_mul(self.dims())
            .ok_or_else(|| Error::InvalidArgument("too many texts".to_string()))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| Error::OutOfMemory(format!("{len} floats of embeddings")))?;
        out.resize(len, 0.0);
        self.embed_into(
            EncoderKernels::active(),
            texts,
            &mut out,
            &mut EncoderWorkspace::new(),
        )?;
        Ok(out)
    }

    /// Embeds `texts` into `out` (`texts.len() x dims()`), reusing `ws`: with a warm
    /// workspace nothing is allocated. Texts are grouped into passes of about
    /// [`PASS_TOKENS`] tokens, each text costing its own tokens (no padding).
    ///
    /// Errors leave `out` unchanged only for [`Error::DimensionMismatch`] (checked first);
    /// an allocation failure may leave earlier rows written.
    ///
    /// `kernels` is a [`Kernels`](crate::kernels::Kernels) table (`&Kernels`) or just its
    /// [`EncoderKernels`] (what a module holding only the encoder passes:
    /// [`EncoderKernels::active`]).
    pub fn embed_into<T: AsRef<[u8]>>(
        &self,
        kernels: impl Into<EncoderKernels>,
        texts: &[T],
        out: &mut [f32],
        ws: &mut EncoderWorkspace,
    ) -> Result<()> {
        let kernels: EncoderKernels = kernels.into();
        let dims = self.dims();
        let expected = texts
            .len()
            .checked_mul(dims)
            .ok_or_else(|| Error::InvalidArgument("too many texts".to_string()))?;
        if out.len() != expected {
            return Err(Error::DimensionMismatch {
                expected,
                actual: out.len(),
            });
        }
        let mut start = 0;
        while start < texts.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < texts.len()
                && end - start < PASS_TEXTS
                && (end == start || tokens < PASS_TOKENS)
            {
                let slot = end - start;
                if ws.ids.len() <= slot {
                    ws.ids.push(Vec::new());
                }
                self.tokenizer.encode_bytes_into(
                    texts[end].as_ref(),
                    self.max_tokens(),
                    &mut ws.ids[slot],
                )?;
                tokens += ws.ids[slot].len();
                end += 1;
            }
            let n = end - start;
            let mut batch: [&[u32]; PASS_TEXTS] = [&[]; PASS_TEXTS];
            for (slot, ids) in batch.iter_mut().zip(&ws.ids).take(n) {
                *slot = ids;
            }
            self.model.embed_ids(
                kernels,
                &batch[..n],
                &mut out[start * dims..end * dims],
                &mut ws.model,
            )?;
            start = end;
        }
        Ok(())
    }
}
