//! The `fv_encoder_*` exports (wasm/README.md, "Text encoder"), in the modules built with
//! the `encoder` feature: thin wrappers over `encoder_ops.rs` that hold the module's
//! registry of encoders, report errors, and own the weights blocks.
//!
//! The weights (tens of MB) are never copied inside the module: the host writes them into a
//! block from `fv_alloc` and `fv_encoder_load` takes that block over ([`WeightsBlock`]),
//! handing it to the core as its `ModelBytes`; the encoder frees it when it is freed.

use alloc::sync::Arc;
use core::cell::UnsafeCell;

use ferrovec_core::encoder::ModelBytes;
use ferrovec_core::Result;

use crate::abi::{begin, give_back_block, release_block, status, take_block, Global};
use crate::encoder_ops::{self as ops, FileArgs, ModuleEncoder};
use crate::handles::Registry;
use crate::memory::WasmMemory;

static ENCODERS: Global<Registry<ModuleEncoder>> = Global(UnsafeCell::new(Registry::new()));

/// Runs an encoder function: clears the last error, reports a failure.
fn call(f: impl FnOnce(&mut Registry<ModuleEncoder>) -> Result<()>) -> i32 {
    begin();
    // SAFETY: single-threaded (see `Global`), and no export re-enters while `f` runs (the
    // module calls nothing outside itself).
    status(f(unsafe { &mut *ENCODERS.0.get() }))
}

/// A block of linear memory the module took over from the host (`take_block`): the model's
/// weights, borrowed in place by the core. Freed with the last reference (the encoder).
struct WeightsBlock {
    ptr: u32,
    len: u32,
    /// Whether dropping frees the block (false: it goes back to the host, after a failed
    /// load).
    free: core::sync::atomic::AtomicBool,
}

// SAFETY (Send + Sync for the raw offset): the module is single-threaded (lib.rs refuses
// `atomics`), and nothing writes the block while the encoder lives: the host gave it up
// (its `fv_free` of it fails) and the module only reads it.
unsafe impl Send for WeightsBlock {}
unsafe impl Sync for WeightsBlock {}

impl AsRef<[u8]> for WeightsBlock {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: a live block of `len` bytes (checked by `take_block`) that memory never
        // shrinks away from, written by no one while this lives (see above).
        unsafe {
            core::slice::from_raw_parts(
                core::ptr::with_exposed_provenance::<u8>(self.ptr as usize),
                self.len as usize,
            )
        }
    }
}

impl Drop for WeightsBlock {
    fn drop(&mut self) {
        if self.free.load(core::sync::atomic::Ordering::Relaxed) {
            release_block(self.ptr, self.len);
        } else {
            give_back_block(self.ptr, self.len);
        }
    }
}

/// An encoder from the model's files in module memory, with f32 weights; writes its handle
/// (u32) to `out_handle`. `weights` must be a block from `fv_alloc(weights_len)` holding
/// `model.safetensors`: on success the encoder owns it (the host must not free it;
/// `fv_encoder_free` does), on failure it stays the host's. `config` is required; every
/// other file is optional (offset 0 and length 0: absent); one of `tokenizer` and `vocab`
/// is needed. The same as `fv_encoder_load_with(..., 0, out_handle)`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_encoder_load(
    weights: u32,
    weights_len: u32,
    config: u32,
    config_len: u32,
    tokenizer: u32,
    tokenizer_len: u32,
    vocab: u32,
    vocab_len: u32,
    pooling: u32,
    pooling_len: u32,
    sbert: u32,
    sbert_len: u32,
    out_handle: u32,
) -> i32 {
    let files = FileArgs {
        config: (config, config_len),
        tokenizer: (tokenizer, tokenizer_len),
        vocab: (vocab, vocab_len),
        pooling: (pooling, pooling_len),
        sbert: (sbert, sbert_len),
    };
    load(weights, weights_len, files, ops::PRECISION_F32, out_handle)
}

/// `fv_encoder_load` with the precision of the linear layers' weights: 0 f32, 1 int8
/// (quantized per output channel at load, a quarter of the f32 linear weights; capability
/// bit 5, `CAP_ENCODER_INT8`); any other value is an error (-3) that leaves the weights
/// block the host's.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_encoder_load_with(
    weights: u32,
    weights_len: u32,
    config: u32,
    config_len: u32,
    tokenizer: u32,
    tokenizer_len: u32,
    vocab: u32,
    vocab_len: u32,
    pooling: u32,
    pooling_len: u32,
    sbert: u32,
    sbert_len: u32,
    precision: u32,
    out_handle: u32,
) -> i32 {
    let files = FileArgs {
        config: (config, config_len),
        tokenizer: (tokenizer, tokenizer_len),
        vocab: (vocab, vocab_len),
        pooling: (pooling, pooling_len),
        sbert: (sbert, sbert_len),
    };
    load(weights, weights_len, files, precision, out_handle)
}

/// Both loads: takes the weights block over, gives it back on failure.
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn load(weights: u32, weights_len: u32, files: FileArgs, precision: u32, out_handle: u32) -> i32 {
    call(|reg| {
        take_block(weights, weights_len, "weights")?;
        let block = Arc::new(WeightsBlock {
            ptr: weights,
            len: weights_len,
            free: core::sync::atomic::AtomicBool::new(true),
        });
        let bytes: ModelBytes = block.clone();
        let result = ops::load(&WasmMemory, reg, bytes, files, precision, out_handle);
        if result.is_err() {
            // The core dropped its references: the block goes back to the host.
            block
                .free
                .store(false, core::sync::atomic::Ordering::Relaxed);
        }
        result
    })
}

/// Frees an encoder and its weights block; its handle is stale afterwards.
#[no_mangle]
pub extern "C" fn fv_encoder_free(h: u32) -> i32 {
    call(|reg| ops::free(reg, h).map(drop))
}

/// Writes 4 u32 (dims, max_tokens, model id low and high 32 bits) to `out`.
#[no_mangle]
pub extern "C" fn fv_encoder_info(h: u32, out: u32) -> i32 {
    call(|reg| ops::info(&WasmMemory, reg, h, out))
}

/// The token ids of `len` bytes at `text` to `out_ids` (room for `capacity`), their number
/// to `out_n`.
#[no_mangle]
pub extern "C" fn fv_encoder_tokenize(
    h: u32,
    text: u32,
    len: u32,
    out_ids: u32,
    capacity: u32,
    out_n: u32,
) -> i32 {
    call(|reg| ops::tokenize(&WasmMemory, reg, h, text, len, out_ids, capacity, out_n))
}

/// Embeds `n` texts (`spans`: `2 n` u32, offset and length of each in `texts`) into
/// `n_floats = n * dims` f32 at `out`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_encoder_embed(
    h: u32,
    texts: u32,
    texts_len: u32,
    spans: u32,
    n: u32,
    out: u32,
    n_floats: u32,
) -> i32 {
    call(|reg| {
        ops::embed(
            &WasmMemory,
            reg,
            h,
            texts,
            texts_len,
            spans,
            n,
            out,
            n_floats,
        )
    })
}
