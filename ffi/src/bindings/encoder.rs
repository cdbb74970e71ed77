//! [`Encoder`] for the foreign languages: the sentence encoder of [`crate::Encoder`] (text
//! to unit-length vectors), with the vectors of a batch as one little-endian f32 buffer.

use std::sync::{Arc, RwLock};

use ferrovec_core::encoder::{ModelFiles, WeightPrecision};
use ferrovec_core::{Error, Result};

use super::bytes::f32s_to_le_bytes;
use super::engine::Engine;
use crate::BackendKind;

/// How an encoder holds the linear layers' weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Precision {
    /// The checkpoint's f32 values (the default).
    F32,
    /// Quantized to int8 per output channel while loading (the linear layers, and the word
    /// embedding table per token): vectors within a cosine of about 0.998 of the f32 ones
    /// (all-MiniLM-L6-v2), the same model id. On the native backend the encoder then lets go
    /// of the loaded file and holds about a quarter of the f32 memory; it is also faster
    /// where the CPU has integer dot products.
    Int8,
}

impl From<Precision> for WeightPrecision {
    fn from(p: Precision) -> WeightPrecision {
        match p {
            Precision::F32 => WeightPrecision::F32,
            Precision::Int8 => WeightPrecision::Int8,
        }
    }
}

impl From<WeightPrecision> for Precision {
    fn from(p: WeightPrecision) -> Precision {
        match p {
            WeightPrecision::F32 => Precision::F32,
            WeightPrecision::Int8 => Precision::Int8,
        }
    }
}

/// `Encoder.embed_arrays`: the vectors of `n` texts as one row-major buffer, for the
/// languages to wrap as a numpy array / `FloatArray` / `[Float]` without an object per
/// element.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EmbeddingBytes {
    /// Texts (rows).
    pub n: u32,
    /// Floats per row: the encoder's `dims`.
    pub dims: u32,
    /// `n * dims` little-endian f32, row `i` the unit-length vector of text `i`.
    pub vectors: Vec<u8>,
}

/// A sentence encoder (a BERT sentence-transformers model such as all-MiniLM-L6-v2): text
/// in, unit-length vectors out, on the backend of the engine it was made from.
///
/// Thread-safe: every method may run on many threads at once. `release()` frees the model
/// early (later calls fail with `InvalidHandle`).
#[derive(Debug, uniffi::Object)]
pub struct Encoder {
    inner: RwLock<Option<crate::Encoder>>,
}

impl Encoder {
    fn wrap(encoder: crate::Encoder) -> Arc<Encoder> {
        Arc::new(Encoder {
            inner: RwLock::new(Some(encoder)),
        })
    }

    /// The encoder (a cheap shared clone), or `InvalidHandle` once released.
    pub(super) fn encoder(&self) -> Result<crate::Encoder> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::InvalidHandle)
    }
}

/// An optional file: empty is absent.
fn some(bytes: &[u8]) -> Option<&[u8]> {
    (!bytes.is_empty()).then_some(bytes)
}

fn narrow(value: usize, what: &str) -> Result<u32> {
    u32::try_from(value)
        .map_err(|_| Error::InvalidArgument(format!("{what} {value}: at most 2^32 - 1")))
}

#[uniffi::export]
impl Encoder {
    /// Loads the model in directory `dir` (`model.safetensors`, `config.json`,
    /// `tokenizer.json` or `vocab.txt`, optionally `1_Pooling/config.json` and
    /// `sentence_bert_config.json`) onto `engine`'s backend; the weights are read once.
    /// `InvalidArgument` for a missing file (naming it), `CorruptFile` for an invalid one.
    #[uniffi::constructor]
    pub fn load(engine: &Arc<Engine>, dir: String) -> Result<Arc<Encoder>> {
        Encoder::load_with_precision(engine, dir, Precision::F32)
    }

    /// [`load`](Self::load) with the weights at `precision` (`Int8`: quantized while
    /// loading). On an Interpreted engine int8 needs an encoder module that has it
    /// (`InvalidModule` otherwise).
    #[uniffi::constructor]
    pub fn load_with_precision(
        engine: &Arc<Engine>,
        dir: String,
        precision: Precision,
    ) -> Result<Arc<Encoder>> {
        let options = crate::EncoderOptions::new().precision(precision.into());
        Ok(Encoder::wrap(crate::Encoder::load_with(
            &*engine.engine()?,
            dir,
            options,
        )?))
    }

    /// An encoder from the model's files in memory: `safetensors` (copied once, then
    /// shared), `config_json`, and `tokenizer_json` (or, when it is empty, `vocab_txt`);
    /// `pooling_json` and `sentence_bert_config_json` may be empty (mean pooling, the
    /// model's own maximum length).
    #[uniffi::constructor]
    pub fn from_bytes(
        engine: &Arc<Engine>,
        safetensors: &[u8],
        config_json: &[u8],
        tokenizer_json: &[u8],
        vocab_txt: &[u8],
        pooling_json: &[u8],
        sentence_bert_config_json: &[u8],
    ) -> Result<Arc<Encoder>> {
        Encoder::from_bytes_with_precision(
            engine,
            safetensors,
            config_json,
            tokenizer_json,
            vocab_txt,
            pooling_json,
            sentence_bert_config_json,
            Precision::F32,
        )
    }

    /// [`from_bytes`](Self::from_bytes) with the weights at `precision`.
    #[uniffi::constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn from_bytes_with_precision(
        engine: &Arc<Engine>,
        safetensors: &[u8],
        config_json: &[u8],
        tokenizer_json: &[u8],
        vocab_txt: &[u8],
        pooling_json: &[u8],
        sentence_bert_config_json: &[u8],
        precision: Precision,
    ) -> Result<Arc<Encoder>> {
        let files = ModelFiles {
            tokenizer_json: some(tokenizer_json),
            vocab_txt: if tokenizer_json.is_empty() {
                some(vocab_txt)
            } else {
                None
            },
            pooling_json: some(pooling_json),
            sentence_bert_config_json: some(sentence_bert_config_json),
            precision: precision.into(),
            ..ModelFiles::new(Arc::new(safetensors.to_vec()), config_json)
        };
        Ok(Encoder::wrap(crate::Encoder::from_files(
            &*engine.engine()?,
            files,
        )?))
    }

    /// Frees the model now (calls in flight on other threads finish first). Later calls fail
    /// with `InvalidHandle`. Idempotent.
    pub fn release(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether [`release`](Self::release) was called.
    pub fn is_released(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Which backend the encoder runs on.
    pub fn kind(&self) -> Result<BackendKind> {
        Ok(self.encoder()?.backend_kind())
    }

    /// How the weights are held (as loaded).
    pub fn precision(&self) -> Result<Precision> {
        Ok(self.encoder()?.precision().into())
    }

    /// Length of the vectors (384 for all-MiniLM-L6-v2).
    pub fn dims(&self) -> Result<u32> {
        narrow(self.encoder()?.dims(), "dims")
    }

    /// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included.
    pub fn max_tokens(&self) -> Result<u32> {
        narrow(self.encoder()?.max_tokens(), "max_tokens")
    }

    /// Identifies the model (weights, shape, pooling, vocabulary, truncation); the same on
    /// every backend and surface, and at either precision.
    pub fn model_id(&self) -> Result<u64> {
        Ok(self.encoder()?.model_id())
    }

    /// Threads a batch may use (1 unless `set_threads` was called).
    pub fn threads(&self) -> Result<u32> {
        narrow(self.encoder()?.threads(), "threads")
    }

    /// Lets each later `embed` split its batch over up to `threads` threads (1 = the
    /// calling thread only, the default; 0 = the machine's available parallelism).
    pub fn set_threads(&self, threads: u32) -> Result<()> {
        let mut slot = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let encoder = slot.as_ref().ok_or(Error::InvalidHandle)?;
        *slot = Some(encoder.with_threads(threads as usize));
        Ok(())
    }

    /// The token ids the model sees for `text`, truncated to `max_tokens`.
    pub fn tokenize(&self, text: String) -> Result<Vec<u32>> {
        self.encoder()?.tokenize(&text)
    }

    /// The unit-length vector of each text, as `n * dims` little-endian f32 bytes
    /// ([`EmbeddingBytes`]).
    pub fn embed_arrays(&self, texts: Vec<String>) -> Result<EmbeddingBytes> {
        let encoder = self.encoder()?;
        let flat = encoder.embed_flat(&texts)?;
        Ok(EmbeddingBytes {
            n: narrow(texts.len(), "texts")?,
            dims: narrow(encoder.dims(), "dims")?,
            vectors: f32s_to_le_bytes(&flat),
        })
    }

    /// The unit-length vector of `text`, as `dims` little-endian f32 bytes.
    pub fn embed_one(&self, text: String) -> Result<Vec<u8>> {
        Ok(f32s_to_le_bytes(&self.encoder()?.embed_one(&text)?))
    }
}

#[uniffi::export]
impl Engine {
    /// The model in directory `dir` on this engine's backend; the same as
    /// `Encoder.load(engine, dir)`.
    pub fn load_encoder(self: Arc<Self>, dir: String) -> Result<Arc<Encoder>> {
        Encoder::load(&self, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_dir() -> Option<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tiny-bert");
        dir.join("model.safetensors")
            .exists()
            .then(|| dir.to_string_lossy().into_owned())
    }

    #[test]
    fn embed_arrays_match_the_rust_api() {
        let Some(dir) = tiny_dir() else {
            eprintln!("SKIPPED: no target/tiny-bert (make tiny-model)");
            return;
        };
        let engine = Engine::native();
        let encoder = Encoder::load(&engine, dir.clone()).unwrap();
        let rust = crate::Encoder::load(&crate::Engine::native(), &dir).unwrap();
        let texts = vec![
            "the weather is lovely today.".to_string(),
            "sunny".to_string(),
        ];
        let flat = encoder.embed_arrays(texts.clone()).unwrap();
        assert_eq!((flat.n, flat.dims), (2, 32));
        assert_eq!(
            flat.vectors,
            f32s_to_le_bytes(&rust.embed_flat(&texts).unwrap())
        );
        assert_eq!(
            encoder.embed_one(texts[1].clone()).unwrap(),
            flat.vectors[128..].to_vec()
        );
        assert_eq!(encoder.precision().unwrap(), Precision::F32);
        let int8 = Encoder::load_with_precision(&engine, dir.clone(), Precision::Int8).unwrap();
        assert_eq!(int8.precision().unwrap(), Precision::Int8);
        assert_eq!(int8.model_id().unwrap(), encoder.model_id().unwrap());
        let rust8 = crate::Encoder::load_with(
            &crate::Engine::native(),
            &dir,
            crate::EncoderOptions::new().precision(WeightPrecision::Int8),
        )
        .unwrap();
        assert_eq!(
            int8.embed_arrays(texts.clone()).unwrap().vectors,
            f32s_to_le_bytes(&rust8.embed_flat(&texts).unwrap())
        );
        encoder.set_threads(2).unwrap();
        assert_eq!(encoder.threads().unwrap(), 2);
        encoder.release();
        assert!(matches!(encoder.dims(), Err(Error::InvalidHandle)));
        assert!(matches!(encoder.set_threads(1), Err(Error::InvalidHandle)));
    }
}
