//! The bodies of the ABI's text encoder functions (`fv_encoder_*`, wasm/README.md "Text
//! encoder"), over any [`Memory`] and a [`Registry`] of encoders: every argument is checked
//! here (natively unit-tested), and `encoder_abi.rs` exports them on wasm32 (in the modules
//! built with the `encoder` feature) with error reporting and the ownership of the weights
//! block.
//!
//! Order of checks in every function: the handle (`InvalidHandle`), then each buffer (null /
//! bounds / alignment, see `memory.rs`), then outputs overlapping inputs or each other, then
//! the core's own checks. Outputs are written only on success; an encoder is immutable, so a
//! failed call changes nothing but the encoder's scratch memory.

use alloc::format;
use alloc::vec::Vec;

use ferrovec_core::encoder::{Encoder, EncoderWorkspace, ModelBytes, ModelFiles, WeightPrecision};
use ferrovec_core::kernels::EncoderKernels;
use ferrovec_core::{Error, Result};

use crate::handles::{Handle, Registry};
use crate::memory::{check_disjoint, Memory, Region};

/// Words (u32) `fv_encoder_info` writes: dims, max_tokens, model id low and high 32 bits.
pub const INFO_WORDS: u32 = 4;

/// An encoder and its scratch memory (kept warm between calls: the module is
/// single-threaded, so one workspace per encoder is enough).
pub struct ModuleEncoder {
    encoder: Encoder,
    workspace: EncoderWorkspace,
}

impl ModuleEncoder {
    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

fn get_mut(reg: &mut Registry<ModuleEncoder>, h: u32) -> Result<&mut ModuleEncoder> {
    reg.get_mut(Handle::from_raw(h))
}

fn put_u32s<M: Memory>(mem: &M, region: Region, values: &[u32]) {
    // SAFETY: a checked region of `values.len()` u32 that overlaps no input still borrowed
    // (checked by the caller).
    unsafe { mem.slice_mut::<u32>(region) }.copy_from_slice(values);
}

/// An optional file: offset 0 means "absent" (its length must then be 0), anything else a
/// buffer of `len` bytes.
fn optional<'m, M: Memory>(
    mem: &'m M,
    ptr: u32,
    len: u32,
    arg: &'static str,
) -> Result<Option<&'m [u8]>> {
    if ptr == 0 {
        if len != 0 {
            return Err(Error::NullPointer { arg });
        }
        return Ok(None);
    }
    let region = mem.region::<u8>(ptr, len, arg)?;
    // SAFETY: a checked region, only read during this call.
    Ok(Some(unsafe { mem.slice::<u8>(region) }))
}

/// The small files of a model, each `(offset, length)`; an offset of 0 means "absent"
/// (`config` is required).
#[derive(Debug, Clone, Copy, Default)]
pub struct FileArgs {
    /// `config.json`.
    pub config: (u32, u32),
    /// `tokenizer.json`.
    pub tokenizer: (u32, u32),
    /// `vocab.txt`.
    pub vocab: (u32, u32),
    /// `1_Pooling/config.json`.
    pub pooling: (u32, u32),
    /// `sentence_bert_config.json`.
    pub sbert: (u32, u32),
}

/// `fv_encoder_load_with`'s `precision`: f32 weights (what `fv_encoder_load` loads).
pub const PRECISION_F32: u32 = 0;
/// `fv_encoder_load_with`'s `precision`: the linear layers quantized to int8 at load
/// ([`WeightPrecision::Int8`]).
pub const PRECISION_INT8: u32 = 1;

/// The precision an ABI code names; anything else is [`Error::InvalidArgument`].
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub fn precision_from_code(code: u32) -> Result<WeightPrecision> {
    match code {
        PRECISION_F32 => Ok(WeightPrecision::F32),
        PRECISION_INT8 => Ok(WeightPrecision::Int8),
        other => Err(Error::InvalidArgument(format!(
            "unknown weight precision {other} (0: f32, 1: int8)"
        ))),
    }
}

/// `fv_encoder_load` / `fv_encoder_load_with`: an encoder from `weights` (the safetensors
/// bytes, already in module memory: the caller hands over a buffer it will not touch while
/// the encoder lives) and the model's small files in module memory, its linear layers held
/// at `precision` (a `PRECISION_*` code); writes its handle (u32) to `out_handle`.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub fn load(
    mem: &impl Memory,
    reg: &mut Registry<ModuleEncoder>,
    weights: ModelBytes,
    files: FileArgs,
    precision: u32,
    out_handle: u32,
) -> Result<()> {
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    let precision = precision_from_code(precision)?;
    let config = {
        let (ptr, len) = files.config;
        let region = mem.region::<u8>(ptr, len, "config_json")?;
        if ptr == 0 {
            return Err(Error::NullPointer { arg: "config_json" });
        }
        // SAFETY: a checked region, only read during this call.
        unsafe { mem.slice::<u8>(region) }
    };
    let tokenizer_json = optional(mem, files.tokenizer.0, files.tokenizer.1, "tokenizer_json")?;
    let vocab_txt = optional(mem, files.vocab.0, files.vocab.1, "vocab_txt")?;
    let pooling_json = optional(mem, files.pooling.0, files.pooling.1, "pooling_json")?;
    let sbert = optional(
        mem,
        files.sbert.0,
        files.sbert.1,
        "sentence_bert_config_json",
    )?;
    let encoder = Encoder::from_files(ModelFiles {
        safetensors: weights,
        config_json: config,
        tokenizer_json,
        vocab_txt,
        pooling_json,
        sentence_bert_config_json: sbert,
        precision,
    })?;
    let handle = reg
        .insert(ModuleEncoder {
            encoder,
            workspace: EncoderWorkspace::new(),
        })
        .map_err(|(err, _)| err)?;
    put_u32s(mem, out, &[handle.raw()]);
    Ok(())
}

/// `fv_encoder_free`: frees the encoder (and, in the module, its weights block).
pub fn free(reg: &mut Registry<ModuleEncoder>, h: u32) -> Result<ModuleEncoder> {
    reg.remove(Handle::from_raw(h))
}

/// `fv_encoder_info`: dims, max_tokens, model id low and high 32 bits (4 u32) to `out`.
pub fn info(mem: &impl Memory, reg: &mut Registry<ModuleEncoder>, h: u32, out: u32) -> Result<()> {
    let e = &get_mut(reg, h)?.encoder;
    let region = mem.region::<u32>(out, INFO_WORDS, "out")?;
    let id = e.model_id();
    let words = [
        u32::try_from(e.dims()).unwrap_or(u32::MAX),
        u32::try_from(e.max_tokens()).unwrap_or(u32::MAX),
        id as u32,
        (id >> 32) as u32,
    ];
    put_u32s(mem, region, &words);
    Ok(())
}

/// `fv_encoder_tokenize`: the token ids of `len` bytes at `text` (invalid UTF-8 becomes
/// U+FFFD) to `out_ids` (room for `capacity` u32: `max_tokens` always suffices), their
/// number (u32) to `out_n`.
#[allow(clippy::too_many_arguments)]
pub fn tokenize(
    mem: &impl Memory,
    reg: &mut Registry<ModuleEncoder>,
    h: u32,
    text: u32,
    len: u32,
    out_ids: u32,
    capacity: u32,
    out_n: u32,
) -> Result<()> {
    let e = get_mut(reg, h)?;
    let text = mem.region::<u8>(text, len, "text")?;
    let ids_region = mem.region::<u32>(out_ids, capacity, "out_ids")?;
    let n_region = mem.region::<u32>(out_n, 1, "out_n")?;
    check_disjoint(ids_region, "out_ids", text, "text")?;
    check_disjoint(n_region, "out_n", text, "text")?;
    check_disjoint(n_region, "out_n", ids_region, "out_ids")?;
    // SAFETY: a checked region, only read during this call.
    let ids = e.encoder.tokenize(unsafe { mem.slice::<u8>(text) })?;
    if ids.len() > capacity as usize {
        return Err(Error::InvalidArgument(format!(
            "`out_ids` has room for {capacity} ids, the text has {} (max_tokens is {})",
            ids.len(),
            e.encoder.max_tokens()
        )));
    }
    // SAFETY: checked, disjoint from the text (no longer borrowed anyway).
    unsafe { mem.slice_mut::<u32>(ids_region)[..ids.len()].copy_from_slice(&ids) };
    put_u32s(mem, n_region, &[ids.len() as u32]);
    Ok(())
}

/// `fv_encoder_embed`: `n` texts, text `i` being the `spans[2i + 1]` bytes at offset
/// `spans[2i]` of the `texts_len` bytes at `texts` (spans may overlap and repeat), to
/// `out` (`n_floats = n * dims` f32, row `i` the unit vector of text `i`).
#[allow(clippy::too_many_arguments)]
pub fn embed(
    mem: &impl Memory,
    reg: &mut Registry<ModuleEncoder>,
    h: u32,
    texts: u32,
    texts_len: u32,
    spans: u32,
    n: u32,
    out: u32,
    n_floats: u32,
) -> Result<()> {
    let e = get_mut(reg, h)?;
    let texts = mem.region::<u8>(texts, texts_len, "texts")?;
    let n_words = n
        .checked_mul(2)
        .ok_or_else(|| Error::InvalidArgument(format!("{n} texts are too many")))?;
    let spans = mem.region::<u32>(spans, n_words, "spans")?;
    let out = mem.region::<f32>(out, n_floats, "out")?;
    check_disjoint(out, "out", texts, "texts")?;
    check_disjoint(out, "out", spans, "spans")?;
    let expected = (n as usize)
        .checked_mul(e.encoder.dims())
        .ok_or_else(|| Error::InvalidArgument(format!("{n} texts are too many")))?;
    if n_floats as usize != expected {
        return Err(Error::DimensionMismatch {
            expected,
            actual: n_floats as usize,
        });
    }
    // SAFETY: checked regions, read only during this call; `out` overlaps neither.
    let (bytes, words) = unsafe { (mem.slice::<u8>(texts), mem.slice::<u32>(spans)) };
    let mut list: Vec<&[u8]> = Vec::new();
    list.try_reserve_exact(n as usize)
        .map_err(|_| Error::OutOfMemory(format!("a list of {n} texts")))?;
    for (i, pair) in words.chunks_exact(2).enumerate() {
        let (start, len) = (pair[0] as usize, pair[1] as usize);
        let text = start
            .checked_add(len)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "text {i} ({len} bytes at offset {start}) reaches past the end of `texts` \
                     ({} bytes)",
                    bytes.len()
                ))
            })?;
        list.push(text);
    }
    // Embedded into a buffer of our own, so `out` is written only on success.
    let mut vectors = Vec::new();
    vectors
        .try_reserve_exact(expected)
        .map_err(|_| Error::OutOfMemory(format!("{expected} floats of embeddings")))?;
    vectors.resize(expected, 0.0);
    let ModuleEncoder { encoder, workspace } = e;
    encoder.embed_into(EncoderKernels::active(), &list, &mut vectors, workspace)?;
    // SAFETY: checked, disjoint from every input.
    unsafe { mem.slice_mut::<f32>(out) }.copy_from_slice(&vectors);
    Ok(())
}
