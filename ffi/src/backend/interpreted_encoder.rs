//! The Interpreted backend's text encoder: a `ferrovec_core::encoder::Encoder` living inside
//! a wasm instance of the encoder module (`ferrovec-encoder(-simd).wasm`), driven through
//! the `fv_encoder_*` functions (wasm/README.md, "Text encoder").
//!
//! # Memory
//!
//! The model's weights are copied once into the instance's linear memory (a block from
//! `fv_alloc` that the module then owns and reads in place: no second copy inside), so the
//! instance needs the weights' size plus the encoder's workspace, a few MB: about 100 MB for
//! all-MiniLM-L6-v2 (90.9 MB of weights). A backend built with
//! [`InterpretedOptions::memory_limit`](super::InterpretedOptions::memory_limit) must allow
//! that (the default has no cap); a smaller cap makes loading fail with
//! [`Error::OutOfMemory`]. The host keeps sharing the caller's weights buffer (no copy on
//! the host side) to rebuild the instance after a trap.
//!
//! With [`WeightPrecision::Int8`] the module quantizes the linear layers at load (its
//! `fv_encoder_load_with`, capability bit 5) on its own int8 kernels (`gemm_nt_i8_simd128`
//! in `ferrovec-encoder-simd.wasm`) and the word embedding table too, then frees the
//! weights block. Linear memory never shrinks, though: the instance keeps the size it
//! reached while quantizing (the block plus the int8 weights, about 23 MB for
//! all-MiniLM-L6-v2), and the freed block only serves later allocations (the workspace).
//! Natively int8 holds a quarter of the f32 memory; here it saves none
//! ([`Encoder::memory_bytes`](crate::Encoder::memory_bytes)).
//!
//! # Fuel
//!
//! The backend's fuel budget applies to each call: loading, `tokenize`, and each
//! `embed_into` (all its texts), which grows with the model's size and the texts' tokens:
//! budget by trying the largest batch you will send (not measured here in fuel units; in
//! time, one 128-token text of all-MiniLM-L6-v2 took about 5.5 s in wasmi, wasm/README.md).
//!
//! # Surviving a trap
//!
//! The encoder is immutable, so recovery needs only its files: the host keeps the shared
//! weights buffer and copies of the small files, and after a call that ran out of fuel or
//! trapped, the next call instantiates afresh and loads the model again.
//!
//! # Threads
//!
//! One instance runs one call at a time: calls on one interpreted encoder are serialized by
//! a mutex, and `embed_into`'s `threads` is ignored (the module is single-threaded). For
//! parallel throughput load one encoder per thread.

use std::fmt;
use std::sync::Mutex;

use ferrovec_core::encoder::{ModelBytes, ModelFiles, WeightPrecision};
use ferrovec_core::{Error, Result};
use wasmi::TypedFunc;

use super::interpreted::{Interpreted, CAP_ENCODER_INT8};
use super::module_call::{error_from, export, fits, CallResult, Fail, Inst, Sandbox};
use crate::encoder::EncoderBackend;

const WHAT: &str = "the text encoder functions (fv_encoder_*)";

/// Texts staged per `fv_encoder_embed` call at most (the module groups them into passes of
/// about 512 tokens itself; this only bounds the staging block).
const CALL_TEXTS: usize = 256;
/// Bytes of text staged per `fv_encoder_embed` call at most (a single longer text goes in
/// one call on its own).
const CALL_BYTES: usize = 256 * 1024;

/// An encoder from `files` in a fresh instance of `backend`'s encoder module.
pub(crate) fn load_encoder(
    backend: &Interpreted,
    files: ModelFiles<'_>,
) -> Result<Box<dyn EncoderBackend>> {
    let files = Files {
        weights: files.safetensors,
        config: files.config_json.to_vec(),
        tokenizer: files.tokenizer_json.map(<[u8]>::to_vec),
        vocab: files.vocab_txt.map(<[u8]>::to_vec),
        pooling: files.pooling_json.map(<[u8]>::to_vec),
        sbert: files.sentence_bert_config_json.map(<[u8]>::to_vec),
        precision: files.precision,
    };
    let (sandbox, capabilities) = backend.encoder_sandbox()?;
    if files.precision == WeightPrecision::Int8 && capabilities & CAP_ENCODER_INT8 == 0 {
        return Err(Error::InvalidModule(
            "the encoder module cannot hold int8 weights (it lacks capability bit 5, \
             fv_encoder_load_with): use a newer ferrovec-encoder(-simd).wasm or \
             WeightPrecision::F32"
                .to_string(),
        ));
    }
    let (inst, info) = rebuild(&sandbox, &files)?;
    Ok(Box::new(InterpretedEncoder {
        sandbox,
        files,
        inst: Mutex::new(Some(inst)),
        info,
    }))
}

/// The model's files, kept to load it again after a discarded instance.
struct Files {
    weights: ModelBytes,
    config: Vec<u8>,
    tokenizer: Option<Vec<u8>>,
    vocab: Option<Vec<u8>>,
    pooling: Option<Vec<u8>>,
    sbert: Option<Vec<u8>>,
    precision: WeightPrecision,
}

// The wasm signatures spelled out as the ABI lists them (wasm/README.md).
#[allow(clippy::type_complexity)]
struct Funcs {
    load: TypedFunc<
        (
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
            u32,
        ),
        i32,
    >,
    /// `fv_encoder_load_with` (the same plus a precision code), in modules with capability
    /// bit 5; looked up only for int8, so f32 keeps working with older modules.
    load_with: Option<
        TypedFunc<
            (
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
                u32,
            ),
            i32,
        >,
    >,
    info: TypedFunc<(u32, u32), i32>,
    tokenize: TypedFunc<(u32, u32, u32, u32, u32, u32), i32>,
    embed: TypedFunc<(u32, u32, u32, u32, u32, u32, u32), i32>,
}

fn lookup(
    i: &wasmi::Instance,
    s: &wasmi::Store<wasmi::StoreLimits>,
    precision: WeightPrecision,
) -> Result<Funcs> {
    Ok(Funcs {
        load: export(i, s, "fv_encoder_load", WHAT)?,
        load_with: match precision {
            WeightPrecision::F32 => None,
            WeightPrecision::Int8 => Some(export(i, s, "fv_encoder_load_with", WHAT)?),
        },
        info: export(i, s, "fv_encoder_info", WHAT)?,
        tokenize: export(i, s, "fv_encoder_tokenize", WHAT)?,
        embed: export(i, s, "fv_encoder_embed", WHAT)?,
    })
}

/// What `fv_encoder_info` says (the same in every instance of one model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Info {
    dims: usize,
    max_tokens: usize,
    model_id: u64,
}

/// A fresh instance holding the model, and what it says about it.
fn rebuild(sandbox: &Sandbox, files: &Files) -> Result<(Inst<Funcs>, Info)> {
    let mut inst = sandbox.instantiate(|i, s| lookup(i, s, files.precision))?;
    let info = sandbox.call(&mut inst, |inst| load_into(inst, files))?;
    Ok((inst, info))
}

/// Loads the model into `inst` (its handle into `inst.handle`).
fn load_into(inst: &mut Inst<Funcs>, files: &Files) -> CallResult<Info> {
    let weights: &[u8] = (*files.weights).as_ref();
    let weights_len = fits(weights.len(), "the weights' size")?;
    // The weights get a block of their own, which the module takes over on success.
    let block = inst.abi.alloc.call(&mut inst.store, weights_len)?;
    if block == 0 {
        let reason = inst.message()?;
        let memory = inst.memory.data_size(&inst.store);
        return Err(Fail::Clean(Error::OutOfMemory(format!(
            "the wasm module could not allocate {} bytes for the model's weights (its memory \
             is {memory} bytes{}; the encoder needs the weights' size plus a few MB): {reason}",
            weights.len(),
            match sandbox_cap(inst) {
                Some(cap) => format!(", capped at {cap}: raise InterpretedOptions::memory_limit"),
                None => String::new(),
            }
        ))));
    }
    inst.write_bytes(block, weights)?;
    let small = |f: &Option<Vec<u8>>| f.as_ref().map_or(0, Vec::len);
    let sizes = [
        files.config.len(),
        small(&files.tokenizer),
        small(&files.vocab),
        small(&files.pooling),
        small(&files.sbert),
        4,
        16,
    ];
    let staged = inst.stage(sizes);
    let [pc, pt, pv, pp, ps, out, pinfo] = match staged {
        Ok(offsets) => offsets,
        Err(err) => {
            inst.abi.free.call(&mut inst.store, (block, weights_len))?;
            return Err(err);
        }
    };
    inst.write_bytes(pc, &files.config)?;
    // An absent file is offset 0 and length 0.
    let mut optional = |at: u32, file: &Option<Vec<u8>>| -> CallResult<(u32, u32)> {
        match file {
            Some(bytes) => {
                inst.write_bytes(at, bytes)?;
                Ok((at, fits(bytes.len(), "a model file's size")?))
            }
            None => Ok((0, 0)),
        }
    };
    let tokenizer = optional(pt, &files.tokenizer)?;
    let vocab = optional(pv, &files.vocab)?;
    let pooling = optional(pp, &files.pooling)?;
    let sbert = optional(ps, &files.sbert)?;
    let args = (
        block,
        weights_len,
        pc,
        fits(files.config.len(), "config.json's size")?,
        tokenizer.0,
        tokenizer.1,
        vocab.0,
        vocab.1,
        pooling.0,
        pooling.1,
        sbert.0,
        sbert.1,
        out,
    );
    let status = match (files.precision, inst.f.load_with) {
        (WeightPrecision::F32, _) => {
            let f = inst.f.load;
            f.call(&mut inst.store, args)?
        }
        (WeightPrecision::Int8, Some(f)) => {
            let (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, out) = args;
            let args = (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, 1, out);
            f.call(&mut inst.store, args)?
        }
        (WeightPrecision::Int8, None) => {
            inst.abi.free.call(&mut inst.store, (block, weights_len))?;
            return Err(Fail::Broken(
                "fv_encoder_load_with was not looked up for an int8 model".into(),
            ));
        }
    };
    if status != 0 {
        // The block is still the host's: free it after reading the message.
        let message = inst.message()?;
        inst.abi.free.call(&mut inst.store, (block, weights_len))?;
        return Err(Fail::Clean(error_from(status, &message)));
    }
    inst.handle = inst.read_u32(out)?;
    let f = inst.f.info;
    let status = f.call(&mut inst.store, (inst.handle, pinfo))?;
    inst.check(status)?;
    let w = inst.read::<u32>(pinfo, 4)?;
    Ok(Info {
        dims: w[0] as usize,
        max_tokens: w[1] as usize,
        model_id: u64::from(w[2]) | u64::from(w[3]) << 32,
    })
}

/// The memory cap of the store, for messages.
fn sandbox_cap(inst: &Inst<Funcs>) -> Option<usize> {
    inst.memory_limit()
}

pub(crate) struct InterpretedEncoder {
    sandbox: Sandbox,
    files: Files,
    /// `None` after a call abandoned the instance; the next call rebuilds it.
    inst: Mutex<Option<Inst<Funcs>>>,
    info: Info,
}

impl fmt::Debug for InterpretedEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterpretedEncoder")
            .field("dims", &self.info.dims)
            .field("max_tokens", &self.info.max_tokens)
            .field("model_id", &format_args!("{:016x}", self.info.model_id))
            .field("precision", &self.files.precision)
            .field("fuel", &self.sandbox.fuel)
            .field("memory_limit", &self.sandbox.memory_limit)
            .finish_non_exhaustive()
    }
}

impl InterpretedEncoder {
    /// Runs `body` on the live instance (rebuilding it first if an earlier call discarded
    /// it), discarding the instance if wasmi stopped the call.
    fn run<R>(&self, body: impl FnOnce(&mut Inst<Funcs>) -> CallResult<R>) -> Result<R> {
        let mut slot = self.inst.lock().unwrap_or_else(|p| {
            // A panic mid-call (a bug) may have left the instance mid-call: rebuild it.
            let mut guard = p.into_inner();
            *guard = None;
            guard
        });
        let inst = match &mut *slot {
            Some(inst) => inst,
            None => {
                let (inst, info) = rebuild(&self.sandbox, &self.files)?;
                if info != self.info {
                    return Err(Error::Internal(
                        "the model loaded again differently after a discarded instance".into(),
                    ));
                }
                slot.insert(inst)
            }
        };
        match self.sandbox.call_raw(inst, body) {
            Ok(value) => Ok(value),
            Err((err, discard)) => {
                if discard {
                    *slot = None;
                }
                Err(err)
            }
        }
    }
}

impl EncoderBackend for InterpretedEncoder {
    fn dims(&self) -> usize {
        self.info.dims
    }

    fn max_tokens(&self) -> usize {
        self.info.max_tokens
    }

    fn model_id(&self) -> u64 {
        self.info.model_id
    }

    fn precision(&self) -> WeightPrecision {
        self.files.precision
    }

    fn memory_bytes(&self) -> usize {
        let host = (*self.files.weights).as_ref().len();
        let slot = self.inst.lock().unwrap_or_else(|p| p.into_inner());
        host + slot
            .as_ref()
            .map_or(0, |inst| inst.memory.data_size(&inst.store))
    }

    fn tokenize(&self, text: &[u8]) -> Result<Vec<u32>> {
        let capacity = self.info.max_tokens;
        self.run(|inst| {
            let [pt, pids, pn] = inst.stage([text.len(), capacity * 4, 4])?;
            inst.write_bytes(pt, text)?;
            let args = (
                inst.handle,
                pt,
                fits(text.len(), "the text's length")?,
                pids,
                fits(capacity, "max_tokens")?,
                pn,
            );
            let f = inst.f.tokenize;
            let status = f.call(&mut inst.store, args)?;
            inst.check(status)?;
            let n = inst.read_u32(pn)? as usize;
            if n > capacity {
                return Err(Fail::Broken(format!(
                    "fv_encoder_tokenize wrote {n} ids into room for {capacity}"
                )));
            }
            inst.read::<u32>(pids, n)
        })
    }

    fn embed_into(&self, texts: &[&[u8]], out: &mut [f32], _threads: usize) -> Result<()> {
        let dims = self.info.dims;
        let expected = texts.len().saturating_mul(dims);
        if out.len() != expected {
            return Err(Error::DimensionMismatch {
                expected,
                actual: out.len(),
            });
        }
        let vectors = self.run(|inst| {
            let mut vectors = Vec::with_capacity(expected);
            let mut start = 0;
            while start < texts.len() {
                let mut end = start;
                let mut bytes = 0;
                while end < texts.len()
                    && end - start < CALL_TEXTS
                    && (end == start || bytes + texts[end].len() <= CALL_BYTES)
                {
                    bytes += texts[end].len();
                    end += 1;
                }
                let chunk = &texts[start..end];
                let n = chunk.len();
                let [pt, ps, po] = inst.stage([bytes, n * 8, n * dims * 4])?;
                let mut spans = Vec::with_capacity(2 * n);
                let mut at = 0u32;
                for text in chunk {
                    inst.write_bytes(pt + at, text)?;
                    let len = fits(text.len(), "a text's length")?;
                    spans.extend([at, len]);
                    at += len;
                }
                inst.write(ps, &spans)?;
                let args = (
                    inst.handle,
                    pt,
                    fits(bytes, "the texts' length")?,
                    ps,
                    fits(n, "the number of texts")?,
                    po,
                    fits(n * dims, "the output's length")?,
                );
                let f = inst.f.embed;
                let status = f.call(&mut inst.store, args)?;
                inst.check(status)?;
                vectors.extend(inst.read::<f32>(po, n * dims)?);
                start = end;
            }
            Ok(vectors)
        })?;
        out.copy_from_slice(&vectors);
        Ok(())
    }
}
