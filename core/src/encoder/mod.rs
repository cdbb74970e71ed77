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
//!
//! ```no_run
//! # use ferrovec_core::encoder::{BertModel, Workspace, ModelBytes};
//! # use std::sync::Arc;
//! # fn demo(bytes: Vec<u8>, config: &[u8], pooling: &[u8]) -> ferrovec_core::Result<()> {
//! let bytes: ModelBytes = Arc::new(bytes);
//! let model = BertModel::from_files(bytes, config, Some(pooling), None)?;
//! let mut ws = Workspace::new();
//! let mut out = vec![0.0; model.dims()];
//! model.embed_ids_active(&[&[101, 7592, 102]], &mut out, &mut ws)?;
//! # Ok(()) }
//! ```

pub mod config;
pub mod json;
pub mod model;
pub mod safetensors;
pub mod tokenizer;
pub mod tokenizer_spec;
pub mod weights;

pub use config::{BertConfig, Pooling};
pub use model::{BertModel, Workspace};
pub use tokenizer_spec::TokenizerSpec;
pub use weights::{ModelBytes, WeightPrecision, Weights};
