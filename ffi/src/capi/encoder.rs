//! C entry points for [`Encoder`]: an opaque `fv_encoder*` turning text into unit-length
//! sentence vectors (a BERT sentence encoder such as all-MiniLM-L6-v2) on the backend of
//! the engine it was created from.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ferrovec_core::Error;

use super::engine::{engine_ref, fv_engine};
use super::{c_slice, c_slice_mut, check_out, guard_status, path_arg, Handles};
use crate::encoder::{Encoder, EncoderOptions, ModelFiles, WeightPrecision};

/// Encoder weights: the checkpoint's f32 values (the default).
pub const FV_ENCODER_PRECISION_F32: i32 = 0;
/// Encoder weights: the linear layers quantized to int8 per output channel and the word
/// embedding table per token while loading (vectors agree with f32 ones to a cosine of
/// about 0.998 for all-MiniLM-L6-v2; the same model id). On the native engine the encoder
/// then owns all it reads and lets go of the loaded file: about a quarter of the f32
/// encoder's memory (23.5 MB instead of 90.9 MB for all-MiniLM-L6-v2). The Interpreted
/// engine keeps the file and its module memory does not shrink: no saving there.
pub const FV_ENCODER_PRECISION_INT8: i32 = 1;

fn precision_from_code(code: i32) -> Result<WeightPrecision, Error> {
    match code {
        FV_ENCODER_PRECISION_F32 => Ok(WeightPrecision::F32),
        FV_ENCODER_PRECISION_INT8 => Ok(WeightPrecision::Int8),
        other => Err(Error::InvalidArgument(format!(
            "unknown encoder precision {other} (expected FV_ENCODER_PRECISION_F32 or \
             FV_ENCODER_PRECISION_INT8)"
        ))),
    }
}

fn precision_code(precision: WeightPrecision) -> i32 {
    match precision {
        WeightPrecision::F32 => FV_ENCODER_PRECISION_F32,
        WeightPrecision::Int8 => FV_ENCODER_PRECISION_INT8,
    }
}

/// A sentence encoder. Create with `fv_encoder_load` (a model directory) or
/// `fv_encoder_from_files` (the model's files in memory), destroy with `fv_encoder_free`.
///
/// Thread-safe: every `fv_encoder_*` function except `fv_encoder_free` may run on many
/// threads at once on the same encoder (each embedding call takes its own workspace).
/// Only `fv_encoder_free` must not race with any other call on the same encoder.
///
/// Ownership, for every `fv_encoder_*` function: the `fv_encoder*` argument is borrowed for
/// the call only; input texts and buffers are borrowed for the call only and never written
/// (the one exception is a weights buffer given with a `safetensors_release` callback,
/// see `fv_encoder_files`); output pointers are caller-owned memory, written only when the
/// call returns `FV_OK`. The encoder does not keep its engine: either may be freed first.
#[allow(non_camel_case_types)]
pub struct fv_encoder {
    encoder: Encoder,
    /// Threads a batch may use (`fv_encoder_set_threads`); read by every embedding call.
    threads: AtomicUsize,
}

impl fv_encoder {
    /// The encoder with the thread count `fv_encoder_set_threads` chose (for an index that
    /// takes it: `fv_index_new_text`, `fv_index_with_encoder`).
    pub(super) fn configured(&self) -> Encoder {
        self.encoder
            .with_threads(self.threads.load(Ordering::Relaxed))
    }
}

/// Called once with `safetensors_user` when an encoder no longer needs a weights buffer it
/// borrowed (see `fv_encoder_files`), on whichever thread frees the encoder.
#[allow(non_camel_case_types)]
pub type fv_release_fn = Option<unsafe extern "C" fn(user: *mut c_void)>;

/// The files of a model for `fv_encoder_from_files`, in memory (a sentence-transformers
/// directory's contents). Start from `fv_encoder_files_default()` so fields added later get
/// their defaults; a zeroed struct means the same.
///
/// The weights (`model.safetensors`, ~90 MB for all-MiniLM-L6-v2) are never copied twice:
/// - `safetensors_release` NULL: `fv_encoder_from_files` copies the buffer once into
///   memory the encoder owns; the caller may free its buffer when the call returns.
/// - `safetensors_release` set: no copy at all. The encoder borrows the buffer (e.g. a
///   memory-mapped file) while it reads from it, then calls
///   `safetensors_release(safetensors_user)` once; the caller must keep the bytes readable
///   and unchanged until then. Whenever `files` is non-NULL, it is called exactly once:
///   when the encoder is freed; before `fv_encoder_from_files` returns if it fails
///   (whatever the error); or, on the native engine, before it returns successfully when
///   the encoder reads nothing from the buffer once loaded (`FV_ENCODER_PRECISION_INT8`,
///   or f16/bf16 weights, converted to f32). The caller never has to guess who releases
///   the buffer.
///
/// The other files are small and read during the call only.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_encoder_files {
    /// `model.safetensors` (required).
    pub safetensors: *const u8,
    /// Length of `safetensors` in bytes.
    pub safetensors_len: usize,
    /// NULL to copy `safetensors` once, or a function that releases it (see above).
    pub safetensors_release: fv_release_fn,
    /// Passed to `safetensors_release`.
    pub safetensors_user: *mut c_void,
    /// `config.json` (required).
    pub config_json: *const u8,
    /// Length of `config_json` in bytes.
    pub config_json_len: usize,
    /// `tokenizer.json`, or NULL to take the vocabulary from `vocab_txt`.
    pub tokenizer_json: *const u8,
    /// Length of `tokenizer_json` in bytes.
    pub tokenizer_json_len: usize,
    /// `vocab.txt`, used when `tokenizer_json` is NULL.
    pub vocab_txt: *const u8,
    /// Length of `vocab_txt` in bytes.
    pub vocab_txt_len: usize,
    /// `1_Pooling/config.json`, or NULL for mean pooling.
    pub pooling_json: *const u8,
    /// Length of `pooling_json` in bytes.
    pub pooling_json_len: usize,
    /// `sentence_bert_config.json` (its `max_seq_length`), or NULL for the model's
    /// `max_position_embeddings`.
    pub sentence_bert_config_json: *const u8,
    /// Length of `sentence_bert_config_json` in bytes.
    pub sentence_bert_config_json_len: usize,
    /// `FV_ENCODER_PRECISION_F32` (the default; 0) or `FV_ENCODER_PRECISION_INT8`.
    pub precision: i32,
}

impl Default for fv_encoder_files {
    fn default() -> Self {
        fv_encoder_files {
            safetensors: std::ptr::null(),
            safetensors_len: 0,
            safetensors_release: None,
            safetensors_user: std::ptr::null_mut(),
            config_json: std::ptr::null(),
            config_json_len: 0,
            tokenizer_json: std::ptr::null(),
            tokenizer_json_len: 0,
            vocab_txt: std::ptr::null(),
            vocab_txt_len: 0,
            pooling_json: std::ptr::null(),
            pooling_json_len: 0,
            sentence_bert_config_json: std::ptr::null(),
            sentence_bert_config_json_len: 0,
            precision: FV_ENCODER_PRECISION_F32,
        }
    }
}

/// Every field NULL / 0 (precision `FV_ENCODER_PRECISION_F32`): set `safetensors`,
/// `config_json` and `tokenizer_json` (or `vocab_txt`) with their lengths.
#[no_mangle]
pub extern "C" fn fv_encoder_files_default() -> fv_encoder_files {
    fv_encoder_files::default()
}

/// Options for `fv_encoder_load_with`. Start from `fv_encoder_options_default()` so fields
/// added later get their defaults; a zeroed struct means f32 weights and the default of
/// one thread.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_encoder_options {
    /// `FV_ENCODER_PRECISION_F32` (the default; 0) or `FV_ENCODER_PRECISION_INT8`.
    pub precision: i32,
    /// Threads a batch may use, as `fv_encoder_set_threads` takes them, except that 0 here
    /// means the default, 1 (a zeroed struct must mean the defaults); set it later with
    /// `fv_encoder_set_threads(encoder, 0)` for the machine's available parallelism.
    pub threads: usize,
}

impl Default for fv_encoder_options {
    fn default() -> Self {
        fv_encoder_options {
            precision: FV_ENCODER_PRECISION_F32,
            threads: 1,
        }
    }
}

/// The default options: f32 weights, one thread per batch (what `fv_encoder_load` uses).
#[no_mangle]
pub extern "C" fn fv_encoder_options_default() -> fv_encoder_options {
    fv_encoder_options::default()
}

/// A weights buffer the encoder borrows from C until it is dropped (see
/// `fv_encoder_files::safetensors_release`).
struct BorrowedWeights {
    ptr: *const u8,
    len: usize,
    release: unsafe extern "C" fn(*mut c_void),
    user: *mut c_void,
}

// SAFETY: the caller of `fv_encoder_from_files` promises the bytes stay readable and
// unchanged until `release` runs, from any thread (documented on `fv_encoder_files`);
// `user` is only handed back to `release`, once.
unsafe impl Send for BorrowedWeights {}
// SAFETY: as above: the bytes are only read.
unsafe impl Sync for BorrowedWeights {}

impl AsRef<[u8]> for BorrowedWeights {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: non-null (checked by `fv_encoder_from_files` before the encoder, the only
        // reader, is built), readable and unchanged until `drop`, by its contract.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for BorrowedWeights {
    fn drop(&mut self) {
        // SAFETY: the caller's function, called once with its own `user`.
        unsafe { (self.release)(self.user) }
    }
}

// Every live `fv_encoder*` (see `Handles`).
static LIVE: Handles = Handles::new();

fn publish(encoder: Encoder, out: *mut *mut fv_encoder) {
    let threads = AtomicUsize::new(encoder.threads());
    // SAFETY: `out` passed `check_out` in every caller; writable by their contract.
    unsafe { LIVE.publish(fv_encoder { encoder, threads }, out) };
}

/// # Safety
/// `encoder` must be NULL, an encoder from this library, or a freed one (detected).
pub(super) unsafe fn encoder_ref<'a>(encoder: *const fv_encoder) -> Result<&'a fv_encoder, Error> {
    // SAFETY: forwarded from this function's contract.
    unsafe { LIVE.get(encoder, "encoder") }
}

/// An optional file: NULL with length 0 is absent.
///
/// # Safety
/// `ptr` NULL or readable for `len` bytes for `'a`.
unsafe fn optional<'a>(
    ptr: *const u8,
    len: usize,
    arg: &'static str,
) -> Result<Option<&'a [u8]>, Error> {
    if ptr.is_null() && len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded from this function's contract.
    Ok(Some(unsafe { c_slice(ptr, len, arg)? }))
}

/// The `n` texts of a C batch (`texts[i]`, `lens[i]` bytes each, or NUL-terminated when
/// `lens` is NULL; `texts[i]` NULL only with `lens[i]` 0), as byte slices.
///
/// # Safety
/// `texts` NULL (only with `n` 0) or readable for `n` pointers, each readable for `lens[i]`
/// bytes (or NUL-terminated when `lens` is NULL); `lens` NULL or readable for `n` sizes;
/// all of it unchanged for `'a`.
pub(super) unsafe fn text_args<'a>(
    texts: *const *const c_char,
    lens: *const usize,
    n: usize,
) -> Result<Vec<&'a [u8]>, Error> {
    // SAFETY: forwarded from this function's contract.
    let ptrs = unsafe { c_slice(texts, n, "texts")? };
    let lens = if lens.is_null() {
        None
    } else {
        // SAFETY: readable for `n` sizes by this function's contract.
        Some(unsafe { c_slice(lens, n, "lens")? })
    };
    let mut out: Vec<&[u8]> = Vec::with_capacity(n);
    for (i, &ptr) in ptrs.iter().enumerate() {
        let text = match lens {
            // SAFETY: readable for `lens[i]` bytes by this function's contract.
            Some(lens) => unsafe { c_slice(ptr.cast::<u8>(), lens[i], "texts[i]")? },
            None if ptr.is_null() => return Err(Error::NullPointer { arg: "texts[i]" }),
            // SAFETY: NUL-terminated by this function's contract.
            None => unsafe { CStr::from_ptr(ptr) }.to_bytes(),
        };
        out.push(text);
    }
    Ok(out)
}

/// Loads the model in directory `dir` (UTF-8 path, NUL-terminated): `model.safetensors`,
/// `config.json`, `tokenizer.json` (or `vocab.txt`), and optionally `1_Pooling/config.json`
/// and `sentence_bert_config.json`, onto `engine`'s backend, and stores it in `*out`. The
/// weights are read once and never copied again.
///
/// Returns `FV_OK`, or leaves `*out` untouched and returns `FV_ERR_NULL_POINTER`,
/// `FV_ERR_INVALID_ARGUMENT` (a missing required file or an I/O failure, naming the path;
/// a path that is not UTF-8; a backend that cannot run the encoder yet), or
/// `FV_ERR_CORRUPT_FILE` (a file that is not a valid model, naming it).
///
/// @param engine borrowed for this call only; the encoder does not keep it.
/// @param dir    borrowed for this call only.
/// @param out    receives a new encoder owned by the caller: free it with `fv_encoder_free`.
///
/// # Safety
/// `engine` NULL or live; `dir` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_load(
    engine: *const fv_engine,
    dir: *const c_char,
    out: *mut *mut fv_encoder,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, dir) = unsafe { (engine_ref(engine)?, path_arg(dir)?) };
        check_out(out, "out")?;
        publish(Encoder::load(engine, dir)?, out);
        Ok(())
    })
}

/// `fv_encoder_load` with `options` (NULL: the defaults): the weights' precision
/// (`FV_ENCODER_PRECISION_INT8` quantizes the linear layers while loading) and the threads
/// a batch may use. Besides `fv_encoder_load`'s errors: `FV_ERR_INVALID_ARGUMENT` for an
/// unknown precision, `FV_ERR_INVALID_MODULE` for int8 on an Interpreted engine whose
/// encoder module cannot hold int8 weights (capability bit 5).
///
/// @param engine  borrowed for this call only; the encoder does not keep it.
/// @param dir     borrowed for this call only.
/// @param options borrowed for this call only, or NULL.
/// @param out     receives a new encoder owned by the caller: free it with `fv_encoder_free`.
///
/// # Safety
/// `engine` NULL or live; `dir` NULL or NUL-terminated; `options` NULL or valid; `out` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_load_with(
    engine: *const fv_engine,
    dir: *const c_char,
    options: *const fv_encoder_options,
    out: *mut *mut fv_encoder,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, dir) = unsafe { (engine_ref(engine)?, path_arg(dir)?) };
        // SAFETY: NULL or valid, by this function's contract.
        let o = unsafe { options.as_ref() }.copied().unwrap_or_default();
        check_out(out, "out")?;
        let options = EncoderOptions::new()
            .precision(precision_from_code(o.precision)?)
            .threads(o.threads.max(1));
        publish(Encoder::load_with(engine, dir, options)?, out);
        Ok(())
    })
}

/// An encoder from the model's files in memory (see `fv_encoder_files` for who owns the
/// weights), on `engine`'s backend, stored in `*out`.
///
/// Returns `FV_OK`, or leaves `*out` untouched and returns `FV_ERR_NULL_POINTER` (`engine`,
/// `files`, `out`, `safetensors` or `config_json` NULL, or a NULL file with a non-zero
/// length), `FV_ERR_INVALID_ARGUMENT` (neither `tokenizer_json` nor `vocab_txt`; an
/// unknown `precision`; a backend that cannot run the encoder yet), `FV_ERR_INVALID_MODULE`
/// (int8 on an Interpreted engine whose encoder module lacks it) or `FV_ERR_CORRUPT_FILE`
/// (naming the file).
///
/// @param engine borrowed for this call only.
/// @param files  borrowed for this call only, except as `fv_encoder_files` describes.
/// @param out    receives a new encoder owned by the caller: free it with `fv_encoder_free`.
///
/// # Safety
/// `engine` NULL or live; `files` NULL or valid, its pointers readable for their lengths
/// (the weights for as long as `fv_encoder_files` says); `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_from_files(
    engine: *const fv_engine,
    files: *const fv_encoder_files,
    out: *mut *mut fv_encoder,
) -> i32 {
    guard_status(|| {
        // SAFETY: NULL or valid, by this function's contract.
        let f = unsafe { files.as_ref() }.ok_or(Error::NullPointer { arg: "files" })?;
        // From here on, borrowed weights are released exactly once whatever happens: by this
        // guard's drop on any error (or panic), else by the encoder when it is freed. Its
        // bytes are only read after the checks below.
        let borrowed = f.safetensors_release.map(|release| BorrowedWeights {
            ptr: f.safetensors,
            len: f.safetensors_len,
            release,
            user: f.safetensors_user,
        });
        // SAFETY: forwarded from this function's contract.
        let engine = unsafe { engine_ref(engine)? };
        check_out(out, "out")?;
        if f.safetensors.is_null() {
            return Err(Error::NullPointer { arg: "safetensors" });
        }
        if f.config_json.is_null() {
            return Err(Error::NullPointer { arg: "config_json" });
        }
        let precision = precision_from_code(f.precision)?;
        // SAFETY: readable for their lengths by this function's contract.
        let (weights, config, tokenizer, vocab, pooling, sbert) = unsafe {
            (
                c_slice(f.safetensors, f.safetensors_len, "safetensors")?,
                c_slice(f.config_json, f.config_json_len, "config_json")?,
                optional(f.tokenizer_json, f.tokenizer_json_len, "tokenizer_json")?,
                optional(f.vocab_txt, f.vocab_txt_len, "vocab_txt")?,
                optional(f.pooling_json, f.pooling_json_len, "pooling_json")?,
                optional(
                    f.sentence_bert_config_json,
                    f.sentence_bert_config_json_len,
                    "sentence_bert_config_json",
                )?,
            )
        };
        let safetensors: ferrovec_core::encoder::ModelBytes = match borrowed {
            // Borrowed (checked above: non-null, `len` readable bytes): released when the
            // last holder of the weights drops them, also if loading fails below.
            Some(borrowed) => Arc::new(borrowed),
            // The one copy.
            None => Arc::new(weights.to_vec()),
        };
        let encoder = Encoder::from_files(
            engine,
            ModelFiles {
                tokenizer_json: tokenizer,
                vocab_txt: vocab,
                pooling_json: pooling,
                sentence_bert_config_json: sbert,
                precision,
                ..ModelFiles::new(safetensors, config)
            },
        )?;
        publish(encoder, out);
        Ok(())
    })
}

/// Destroys an encoder (releasing borrowed weights, see `fv_encoder_files`). NULL does
/// nothing and returns `FV_OK`; a pointer that is not a live encoder (e.g. freed already)
/// returns `FV_ERR_INVALID_HANDLE` and frees nothing.
///
/// # Safety
/// `encoder` must be NULL or a pointer from this library; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_free(encoder: *mut fv_encoder) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { LIVE.free(encoder) }
}

/// Writes `f(encoder)` to `*out`.
///
/// # Safety
/// `encoder` NULL or live; `out` NULL or writable.
unsafe fn getter<T>(
    encoder: *const fv_encoder,
    out: *mut T,
    f: impl FnOnce(&fv_encoder) -> T,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let encoder = unsafe { encoder_ref(encoder)? };
        check_out(out, "out")?;
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out.write(f(encoder)) };
        Ok(())
    })
}

/// Writes the length of the vectors (384 for all-MiniLM-L6-v2) to `*out`.
///
/// # Safety
/// `encoder` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_dims(encoder: *const fv_encoder, out: *mut usize) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { getter(encoder, out, |e| e.encoder.dims()) }
}

/// Writes the most tokens a text is truncated to (`[CLS]` and `[SEP]` included; 256 for
/// all-MiniLM-L6-v2) to `*out`: room for that many ids always suffices for
/// `fv_encoder_tokenize`.
///
/// # Safety
/// `encoder` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_max_tokens(encoder: *const fv_encoder, out: *mut usize) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { getter(encoder, out, |e| e.encoder.max_tokens()) }
}

/// Writes the model's id to `*out`: a fingerprint of the weights, shape, pooling,
/// vocabulary and truncation, the same on every backend and surface and at either precision
/// (an index records it so vectors of different models are never mixed).
///
/// # Safety
/// `encoder` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_model_id(encoder: *const fv_encoder, out: *mut u64) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { getter(encoder, out, |e| e.encoder.model_id()) }
}

/// Writes how the encoder holds its weights (`FV_ENCODER_PRECISION_F32` or
/// `FV_ENCODER_PRECISION_INT8`, as it was loaded) to `*out`.
///
/// # Safety
/// `encoder` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_precision(encoder: *const fv_encoder, out: *mut i32) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { getter(encoder, out, |e| precision_code(e.encoder.precision())) }
}

/// Lets each `fv_encoder_embed` call split its batch over up to `threads` threads (1 = the
/// calling thread only, the default; 0 = the machine's available parallelism). Affects
/// calls that start after it returns.
///
/// # Safety
/// `encoder` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_set_threads(encoder: *const fv_encoder, threads: usize) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let encoder = unsafe { encoder_ref(encoder)? };
        let resolved = encoder.encoder.with_threads(threads).threads();
        encoder.threads.store(resolved, Ordering::Relaxed);
        Ok(())
    })
}

/// Writes the number of threads a batch may use (see `fv_encoder_set_threads`; 0 was
/// resolved to the machine's parallelism) to `*out`.
///
/// # Safety
/// `encoder` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_threads(encoder: *const fv_encoder, out: *mut usize) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { getter(encoder, out, |e| e.threads.load(Ordering::Relaxed)) }
}

/// The token ids the model sees for `text` (`len` bytes, no NUL needed; invalid UTF-8 is
/// read as U+FFFD), `[CLS]` and `[SEP]` included, truncated to `fv_encoder_max_tokens`.
///
/// Size protocol: `*out_count` receives the number of ids. With `out_ids` NULL and `cap`
/// 0, only the count is written (a size query). Otherwise `out_ids` must have room for
/// them: `cap` below the count is `FV_ERR_DIMENSION_MISMATCH` (the message says how many
/// are needed) and writes nothing. `cap >= fv_encoder_max_tokens` always suffices.
///
/// @param text      borrowed for this call only (NULL only with `len` 0).
/// @param out_ids   caller-owned room for `cap` ids; written on success only.
/// @param out_count caller-owned; written on success only.
///
/// # Safety
/// `encoder` NULL or live; `text` readable for `len` bytes; `out_ids` writable for `cap`
/// ids; `out_count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_tokenize(
    encoder: *const fv_encoder,
    text: *const c_char,
    len: usize,
    out_ids: *mut u32,
    cap: usize,
    out_count: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (encoder, text) = unsafe {
            (
                encoder_ref(encoder)?,
                c_slice(text.cast::<u8>(), len, "text")?,
            )
        };
        check_out(out_count, "out_count")?;
        if out_ids.is_null() && cap != 0 {
            return Err(Error::NullPointer { arg: "out_ids" });
        }
        let ids = encoder.encoder.tokenize_bytes(text)?;
        if !(out_ids.is_null() && cap == 0) {
            if cap < ids.len() {
                return Err(Error::DimensionMismatch {
                    expected: ids.len(),
                    actual: cap,
                });
            }
            // SAFETY: forwarded from this function's contract.
            let out = unsafe { c_slice_mut(out_ids, cap, "out_ids")? };
            out[..ids.len()].copy_from_slice(&ids);
        }
        // SAFETY: checked non-null and aligned; writable by the contract.
        unsafe { out_count.write(ids.len()) };
        Ok(())
    })
}

/// Embeds `n` texts into `out` (`n_floats` must be `n * dims`, else
/// `FV_ERR_DIMENSION_MISMATCH`): row `i` (`out[i * dims .. (i + 1) * dims]`) is the
/// unit-length vector of `texts[i]`. Texts are bytes (invalid UTF-8 is read as U+FFFD);
/// `lens[i]` is the length of `texts[i]`, or `lens` NULL when every text is NUL-terminated.
/// `texts[i]` may be NULL only with `lens[i]` 0 (an empty text). A batch is split over the
/// threads `fv_encoder_set_threads` allows.
///
/// @param texts borrowed for this call only (NULL only with `n` 0).
/// @param lens  borrowed for this call only, or NULL.
/// @param out   caller-owned room for `n_floats` floats; written on success only.
///
/// # Safety
/// `encoder` NULL or live; `texts` readable for `n` pointers, each readable for `lens[i]`
/// bytes (or NUL-terminated when `lens` is NULL); `lens` NULL or readable for `n` sizes;
/// `out` writable for `n_floats` floats.
#[no_mangle]
pub unsafe extern "C" fn fv_encoder_embed(
    encoder: *const fv_encoder,
    texts: *const *const c_char,
    lens: *const usize,
    n: usize,
    out: *mut f32,
    n_floats: usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let encoder = unsafe { encoder_ref(encoder)? };
        // SAFETY: forwarded from this function's contract.
        let texts = unsafe { text_args(texts, lens, n)? };
        let dims = encoder.encoder.dims();
        let expected = n.checked_mul(dims).ok_or_else(|| {
            Error::InvalidArgument(format!("{n} texts x {dims} dims is too large"))
        })?;
        if n_floats != expected {
            return Err(Error::DimensionMismatch {
                expected,
                actual: n_floats,
            });
        }
        // SAFETY: writable for `n_floats` floats by this function's contract.
        let out = unsafe { c_slice_mut(out, n_floats, "out")? };
        // Embedded aside and copied on success, so a failure (or several threads, one
        // failing) never leaves `out` half-written.
        let mut vectors = vec![0.0; n_floats];
        let threads = encoder.threads.load(Ordering::Relaxed);
        encoder
            .encoder
            .with_threads(threads)
            .embed_bytes_into(&texts, &mut vectors)?;
        out.copy_from_slice(&vectors);
        Ok(())
    })
}
