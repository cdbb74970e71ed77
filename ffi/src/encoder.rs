//! [`Encoder`]: text to unit-length sentence vectors (a BERT sentence encoder such as
//! all-MiniLM-L6-v2) on a backend chosen at run time.
//!
//! The encoder itself is [`ferrovec_core::encoder::Encoder`]; this module adds what needs
//! `std`: loading a model directory from disk, the choice of backend (through an
//! [`Engine`]), a pool of workspaces so one encoder serves many threads without
//! reallocating, and splitting a large batch over several threads.
//!
//! # Precision and memory
//!
//! [`EncoderOptions::precision`] chooses how the weights are held:
//! [`WeightPrecision::F32`] (the default: the checkpoint's values, read in place from the
//! loaded file, which the encoder keeps) or [`WeightPrecision::Int8`] (quantized per
//! output channel while loading: the linear layers, 42.5 MB of all-MiniLM-L6-v2 as f32,
//! and the word embedding table, 47 MB, per token). The int8 encoder copies the few small
//! tensors it still reads as f32 and lets go of the caller's buffer, so it holds about a
//! quarter of the f32 encoder's memory ([`Encoder::memory_bytes`]: 23.5 MB instead of
//! 90.9 MB natively for all-MiniLM-L6-v2). On the Interpreted backend the host keeps the
//! file to rebuild the instance after a trap and the instance's memory cannot shrink, so
//! int8 saves no memory there (see [`memory_bytes`](Encoder::memory_bytes)). Int8 is also
//! faster where the CPU has integer dot products (AVX-512 VNNI; `make bench-encoder`).
//! Int8 vectors agree with f32 ones to a cosine of 0.998 on average for all-MiniLM-L6-v2
//! (`core/tests/encoder_reference.rs`); the [model id](Encoder::model_id) is the
//! checkpoint's at either precision, so an index built from f32 vectors can be searched
//! with int8 ones.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ferrovec_core::encoder::{EncoderWorkspace, ModelBytes};
pub use ferrovec_core::encoder::{ModelFiles, WeightPrecision};
use ferrovec_core::kernels::Kernels;
use ferrovec_core::{Error, Result};

use crate::{BackendKind, Engine};

/// What a [`Backend`](crate::backend::Backend) implements to hold an encoder. Every method
/// takes `&self` and may run concurrently; a failed call changes nothing.
pub trait EncoderBackend: Send + Sync + fmt::Debug {
    /// Length of the vectors.
    fn dims(&self) -> usize;
    /// Texts are truncated to this many tokens (`[CLS]` and `[SEP]` included).
    fn max_tokens(&self) -> usize;
    /// The model id (see [`Encoder::model_id`]).
    fn model_id(&self) -> u64;
    /// How the linear layers' weights are held (what the model was loaded with).
    fn precision(&self) -> WeightPrecision;
    /// The memory the model keeps (see [`Encoder::memory_bytes`]).
    fn memory_bytes(&self) -> usize;
    /// The token ids of `text` (bytes; invalid UTF-8 becomes U+FFFD).
    fn tokenize(&self, text: &[u8]) -> Result<Vec<u32>>;
    /// Embeds `texts` into `out` (`texts.len() x dims()`), on at most `threads` threads.
    fn embed_into(&self, texts: &[&[u8]], out: &mut [f32], threads: usize) -> Result<()>;
}

/// The Native backend's encoder: the core encoder, on one kernel table, with a pool of
/// workspaces (one per concurrent call or thread, kept warm between calls).
pub(crate) struct NativeEncoder {
    encoder: ferrovec_core::encoder::Encoder,
    kernels: &'static Kernels,
    pool: Mutex<Vec<EncoderWorkspace>>,
}

impl fmt::Debug for NativeEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeEncoder")
            .field("dims", &self.encoder.dims())
            .field("kernels", &self.kernels.variant())
            .finish_non_exhaustive()
    }
}

/// Workspaces kept for reuse at most: one per thread of a typical machine's batch.
const POOL_MAX: usize = 16;

impl NativeEncoder {
    pub(crate) fn new(
        encoder: ferrovec_core::encoder::Encoder,
        kernels: &'static Kernels,
    ) -> NativeEncoder {
        NativeEncoder {
            encoder,
            kernels,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// The core encoder of `files`, run on `kernels`: what every native-code backend loads.
    pub(crate) fn load(
        files: ModelFiles<'_>,
        kernels: &'static Kernels,
    ) -> Result<Box<dyn EncoderBackend>> {
        Ok(Box::new(NativeEncoder::new(
            ferrovec_core::encoder::Encoder::from_files(files)?,
            kernels,
        )))
    }

    fn with_workspace<R>(&self, f: impl FnOnce(&mut EncoderWorkspace) -> R) -> R {
        let taken = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut ws = taken.unwrap_or_default();
        let r = f(&mut ws);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < POOL_MAX {
            pool.push(ws);
        }
        r
    }

    fn embed_chunk(&self, texts: &[&[u8]], out: &mut [f32]) -> Result<()> {
        self.with_workspace(|ws| self.encoder.embed_into(self.kernels, texts, out, ws))
    }
}

impl EncoderBackend for NativeEncoder {
    fn dims(&self) -> usize {
        self.encoder.dims()
    }

    fn max_tokens(&self) -> usize {
        self.encoder.max_tokens()
    }

    fn model_id(&self) -> u64 {
        self.encoder.model_id()
    }

    fn precision(&self) -> WeightPrecision {
        self.encoder.model().precision()
    }

    fn memory_bytes(&self) -> usize {
        self.encoder.model().weights().memory_bytes()
    }

    fn tokenize(&self, text: &[u8]) -> Result<Vec<u32>> {
        self.encoder.tokenize(text)
    }

    fn embed_into(&self, texts: &[&[u8]], out: &mut [f32], threads: usize) -> Result<()> {
        let dims = self.dims();
        if out.len() != texts.len().saturating_mul(dims) {
            return Err(Error::DimensionMismatch {
                expected: texts.len().saturating_mul(dims),
                actual: out.len(),
            });
        }
        // Contiguous chunks balanced by bytes of text (tokens follow bytes closely), at
        // least a pass's worth of text each so a thread is worth starting.
        let threads = threads.clamp(1, texts.len().max(1));
        let total: usize = texts.iter().map(|t| t.len() + 8).sum();
        let per_thread = total.div_ceil(threads).max(2048);
        if threads == 1 || total <= per_thread {
            return self.embed_chunk(texts, out);
        }
        let mut chunks: Vec<(&[&[u8]], &mut [f32])> = Vec::new();
        let (mut rest_texts, mut rest_out) = (texts, out);
        while !rest_texts.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            while n < rest_texts.len() && (n == 0 || bytes < per_thread) {
                bytes += rest_texts[n].len() + 8;
                n += 1;
            }
            let (t, tr) = rest_texts.split_at(n);
            let (o, or) = rest_out.split_at_mut(n * dims);
            chunks.push((t, o));
            rest_texts = tr;
            rest_out = or;
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|(t, o)| s.spawn(move || self.embed_chunk(t, o)))
                .collect();
            handles.into_iter().try_for_each(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Internal("an encoder thread panicked".into())))
            })
        })
    }
}

/// A sentence encoder: text in, unit-length vectors out, on the [`Engine`]'s backend.
/// Cheap to clone (shared); every method takes `&self` and may be called from many
/// threads at once.
///
/// ```no_run
/// use ferrovec::{Encoder, Engine};
/// let encoder = Encoder::load(&Engine::native(), "models/all-minilm-l6-v2")?;
/// let v = encoder.embed(&["The weather is lovely today.", "It's so sunny outside!"])?;
/// let similarity: f32 = v[0].iter().zip(&v[1]).map(|(a, b)| a * b).sum();
/// assert!(similarity > 0.5);
/// # Ok::<(), ferrovec::Error>(())
/// ```
#[derive(Clone)]
pub struct Encoder {
    inner: Arc<dyn EncoderBackend>,
    backend: BackendKind,
    threads: usize,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("backend", &self.backend)
            .field("dims", &self.dims())
            .field("max_tokens", &self.max_tokens())
            .field("model_id", &format_args!("{:016x}", self.model_id()))
            .field("precision", &self.precision())
            .field("threads", &self.threads)
            .finish()
    }
}

/// The files of a model directory as [`load`](Encoder::load) reads them (a
/// sentence-transformers layout, as `make model` unpacks all-MiniLM-L6-v2).
pub const MODEL_DIR_FILES: &[&str] = &[
    "model.safetensors",
    "config.json",
    "tokenizer.json (or vocab.txt)",
    "1_Pooling/config.json (optional: mean pooling)",
    "sentence_bert_config.json (optional: max_seq_length)",
];

/// How [`Encoder::load_with`] loads a model: the weights' precision and the threads a batch
/// may use. `EncoderOptions::new()` (or `default()`) is f32 on the calling thread, what
/// [`Encoder::load`] uses.
///
/// ```no_run
/// use ferrovec::encoder::{EncoderOptions, WeightPrecision};
/// use ferrovec::{Encoder, Engine};
/// let options = EncoderOptions::new().precision(WeightPrecision::Int8).threads(0);
/// let encoder = Encoder::load_with(&Engine::native(), "models/all-minilm-l6-v2", options)?;
/// assert_eq!(encoder.precision(), WeightPrecision::Int8);
/// # Ok::<(), ferrovec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderOptions {
    precision: WeightPrecision,
    threads: usize,
}

impl Default for EncoderOptions {
    fn default() -> EncoderOptions {
        EncoderOptions {
            precision: WeightPrecision::F32,
            threads: 1,
        }
    }
}

impl EncoderOptions {
    /// F32 weights, one thread per batch.
    pub fn new() -> EncoderOptions {
        EncoderOptions::default()
    }

    /// How the linear layers are held (see the [module docs](self): int8 is a quarter of the
    /// f32 linear weights, quantized at load).
    pub fn precision(self, precision: WeightPrecision) -> EncoderOptions {
        EncoderOptions { precision, ..self }
    }

    /// Threads a batch may use, as [`Encoder::with_threads`] takes them (1 = the calling
    /// thread only, 0 = the machine's available parallelism).
    pub fn threads(self, threads: usize) -> EncoderOptions {
        EncoderOptions { threads, ..self }
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(crate::files::io_error("read", path, &e)),
    }
}

impl Encoder {
    /// Loads the model in directory `dir` (see [`MODEL_DIR_FILES`]) onto `engine`'s
    /// backend. The weights are read once and then shared, never copied again. Errors:
    /// a missing required file or an I/O failure ([`Error::InvalidArgument`] naming the
    /// path), a corrupt file ([`Error::CorruptFile`] naming it).
    pub fn load(engine: &Engine, dir: impl AsRef<Path>) -> Result<Encoder> {
        Encoder::load_with(engine, dir, EncoderOptions::new())
    }

    /// [`load`](Self::load) with `options`: the weights' precision (int8: quantized while
    /// loading, see the [module docs](self) for memory and accuracy) and the threads a batch
    /// may use. On the Interpreted backend int8 needs an encoder module with capability
    /// bit 5 ([`Error::InvalidModule`] otherwise).
    pub fn load_with(
        engine: &Engine,
        dir: impl AsRef<Path>,
        options: EncoderOptions,
    ) -> Result<Encoder> {
        let dir = dir.as_ref();
        let weights = crate::files::read(&dir.join("model.safetensors"))?;
        let config = crate::files::read(&dir.join("config.json"))?;
        let tokenizer = read_optional(&dir.join("tokenizer.json"))?;
        let vocab = match tokenizer {
            Some(_) => None,
            None => Some(crate::files::read(&dir.join("vocab.txt")).map_err(|_| {
                Error::InvalidArgument(format!(
                    "{} has neither tokenizer.json nor vocab.txt",
                    dir.display()
                ))
            })?),
        };
        let pooling = read_optional(&dir.join("1_Pooling").join("config.json"))?;
        let sbert = read_optional(&dir.join("sentence_bert_config.json"))?;
        let encoder = Encoder::from_files(
            engine,
            ModelFiles {
                tokenizer_json: tokenizer.as_deref(),
                vocab_txt: vocab.as_deref(),
                pooling_json: pooling.as_deref(),
                sentence_bert_config_json: sbert.as_deref(),
                precision: options.precision,
                ..ModelFiles::new(Arc::new(weights), &config)
            },
        )?;
        Ok(encoder.with_threads(options.threads))
    }

    /// An encoder from the model's files already in memory (see [`ModelFiles`]; the
    /// weights are shared, not copied, on the Native backend), at `files.precision`
    /// ([`WeightPrecision::F32`] unless set).
    pub fn from_files(engine: &Engine, files: ModelFiles<'_>) -> Result<Encoder> {
        Ok(Encoder {
            inner: Arc::from(engine.backend().load_encoder(files)?),
            backend: engine.kind(),
            threads: 1,
        })
    }

    /// [`from_files`](Self::from_files) with the weights given as any shared buffer.
    pub fn from_bytes(
        engine: &Engine,
        safetensors: ModelBytes,
        config_json: &[u8],
        tokenizer_json: &[u8],
    ) -> Result<Encoder> {
        Encoder::from_files(
            engine,
            ModelFiles {
                tokenizer_json: Some(tokenizer_json),
                ..ModelFiles::new(safetensors, config_json)
            },
        )
    }

    /// This encoder, splitting each batch over up to `threads` threads (1 = the calling
    /// thread only, the default; 0 = the machine's available parallelism). The clone
    /// shares the model.
    pub fn with_threads(&self, threads: usize) -> Encoder {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        Encoder {
            threads,
            ..self.clone()
        }
    }

    /// Threads a batch may use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How the linear layers' weights are held: what [`EncoderOptions::precision`] (or
    /// [`ModelFiles::precision`]) asked for.
    pub fn precision(&self) -> WeightPrecision {
        self.inner.precision()
    }

    /// The memory the model's weights keep, in bytes (the tokenizer's vocabulary and the
    /// per-thread workspaces are not counted). Native backend: the whole weights buffer
    /// while any tensor is read from it in place (f32 from an f32 checkpoint), plus what
    /// the encoder owns (converted or quantized weights); an int8 encoder, or one loaded
    /// from an f16/bf16 checkpoint, owns all it reads and lets go of the buffer. For
    /// all-MiniLM-L6-v2: 90,868,376 bytes at f32 (the file), 23,536,104 at int8 (0.259x).
    /// Interpreted backend: the weights buffer, which the host keeps to rebuild the
    /// instance after a trap, plus the instance's linear memory (the module's copy of the
    /// weights, or at int8 the memory it quantized in, which never shrinks, and the
    /// workspace).
    pub fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }

    /// Which backend the encoder runs on.
    pub fn backend_kind(&self) -> BackendKind {
        self.backend
    }

    /// Length of the vectors (384 for all-MiniLM-L6-v2).
    pub fn dims(&self) -> usize {
        self.inner.dims()
    }

    /// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included (256 for
    /// all-MiniLM-L6-v2).
    pub fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }

    /// Identifies the model (weights, shape, pooling, vocabulary, truncation): an index
    /// records it so vectors from different models are never mixed. The same on every
    /// backend, and at either [precision](Self::precision): an int8 encoder has the id of
    /// the f32 checkpoint it was quantized from (its vectors agree with the f32 ones to a
    /// cosine of about 0.998), so an index built with one can be searched with the other.
    pub fn model_id(&self) -> u64 {
        self.inner.model_id()
    }

    /// The token ids the model sees for `text`, truncated to [`max_tokens`](Self::max_tokens).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        self.inner.tokenize(text.as_bytes())
    }

    /// [`tokenize`](Self::tokenize) for text that may not be UTF-8 (each invalid sequence
    /// is read as U+FFFD), as the C and wasm boundaries pass it.
    pub fn tokenize_bytes(&self, text: &[u8]) -> Result<Vec<u32>> {
        self.inner.tokenize(text)
    }

    /// One unit-length vector per text.
    pub fn embed<T: AsRef<str>>(&self, texts: &[T]) -> Result<Vec<Vec<f32>>> {
        let flat = self.embed_flat(texts)?;
        Ok(flat
            .chunks_exact(self.dims().max(1))
            .map(<[f32]>::to_vec)
            .collect())
    }

    /// The unit-length vector of one text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        self.embed_flat(&[text])
    }

    /// The vectors of `texts` in one row-major buffer (`texts.len() x dims()`), as
    /// [`Index::add_batch`](crate::Index::add_batch) takes them.
    pub fn embed_flat<T: AsRef<str>>(&self, texts: &[T]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; texts.len().saturating_mul(self.dims())];
        self.embed_into(texts, &mut out)?;
        Ok(out)
    }

    /// Embeds `texts` into `out` (`texts.len() x dims()`, row-major).
    /// [`Error::DimensionMismatch`] for another length.
    pub fn embed_into<T: AsRef<str>>(&self, texts: &[T], out: &mut [f32]) -> Result<()> {
        let bytes: Vec<&[u8]> = texts.iter().map(|t| t.as_ref().as_bytes()).collect();
        self.inner.embed_into(&bytes, out, self.threads)
    }

    /// [`embed_into`](Self::embed_into) for texts that may not be UTF-8 (each invalid
    /// sequence is read as U+FFFD), as the C and wasm boundaries pass them.
    pub fn embed_bytes_into(&self, texts: &[&[u8]], out: &mut [f32]) -> Result<()> {
        self.inner.embed_into(texts, out, self.threads)
    }
}
