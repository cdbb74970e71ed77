//! # ferrovec-wasm
//!
//! ferrovec's kernels as a `wasm32-unknown-unknown` module with a flat `extern "C"` ABI
//! (version [`ABI_VERSION`], specified in `wasm/README.md`) that imports nothing, so it
//! instantiates in wasmi, Node and browsers with an empty import object. `make wasm` builds
//! `target/wasm/ferrovec.wasm` (scalar) and `target/wasm/ferrovec-simd.wasm` (simd128).
//!
//! On wasm32 the crate is `#![no_std]` with `dlmalloc` as the global allocator and a panic
//! handler that traps (panics are bugs: every input is validated instead). Natively it is
//! an ordinary library so that the parts that do not need wasm — the argument checks
//! ([`memory`]), the kernel call bodies ([`ops`]) and the [`handles`] registry — are
//! unit-tested on the host.
#![cfg_attr(target_arch = "wasm32", no_std)]
// The encoder's loading code built for size (`#[optimize(size)]`, nightly): `make wasm` sets
// the cfg (core/Cargo.toml's lints say why it is not a feature).
#![cfg_attr(ferrovec_optimize_size, feature(optimize_attribute))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

pub mod encoder_ops;
pub mod handles;
pub mod index_ops;
pub mod memory;
pub mod ops;
pub mod solver_ops;

#[cfg(target_arch = "wasm32")]
mod abi;
#[cfg(all(target_arch = "wasm32", feature = "encoder"))]
mod encoder_abi;
#[cfg(all(target_arch = "wasm32", feature = "index"))]
mod index_abi;
#[cfg(all(target_arch = "wasm32", feature = "solver"))]
mod solver_abi;

// The ABI keeps its state (the last error) in plain statics; a threaded build would race.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("ferrovec-wasm is single-threaded: build it without the `atomics` feature");

/// The version of the ABI in wasm/README.md; `fv_abi_version()` returns it. Hosts refuse a
/// module with another version.
pub const ABI_VERSION: u32 = 3;

/// `fv_capabilities()` bit: the module was built with `simd128`.
pub const CAP_SIMD128: u32 = 1 << 0;
/// `fv_capabilities()` bit: the module exports the vector index (`fv_index_*`; feature
/// `index`, on by default).
pub const CAP_INDEX: u32 = 1 << 1;
/// `fv_capabilities()` bit: the module exports the sparse solver (`fv_matrix_*`,
/// `fv_graph_*`; feature `solver`).
pub const CAP_SOLVER: u32 = 1 << 2;
/// `fv_capabilities()` bit: the module exports the text encoder (`fv_encoder_*`; feature
/// `encoder`).
pub const CAP_ENCODER: u32 = 1 << 3;
/// `fv_capabilities()` bit: the text encoder can hold int8 weights
/// (`fv_encoder_load_with`'s precision 1; feature `encoder`). Added to ABI version 3
/// without changing any existing export: a host checks this bit, not the version.
pub const CAP_ENCODER_INT8: u32 = 1 << 5;

/// `fv_capabilities()` bit: the module was built with `relaxed-simd` (with `simd128`): the
/// encoder's multiply-adds are `f32x4.relaxed_madd`, so only engines with relaxed SIMD load it.
/// Added to ABI version 3 without changing any export.
pub const CAP_RELAXED_SIMD: u32 = 1 << 6;

/// `fv_capabilities()` bit: the index records a model id (`fv_index_set_model_id`,
/// `fv_index_model_id`; saved by `fv_index_save` in format v2). Set with [`CAP_INDEX`];
/// added to ABI version 3 without changing anything else, so hosts check this bit.
pub const CAP_INDEX_MODEL_ID: u32 = 1 << 4;

/// The capability bits of this build.
pub const fn capabilities() -> u32 {
    let simd = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
    let relaxed = cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd"));
    (if simd { CAP_SIMD128 } else { 0 })
        | (if relaxed { CAP_RELAXED_SIMD } else { 0 })
        | (if cfg!(feature = "index") {
            CAP_INDEX | CAP_INDEX_MODEL_ID
        } else {
            0
        })
        | (if cfg!(feature = "solver") {
            CAP_SOLVER
        } else {
            0
        })
        | (if cfg!(feature = "encoder") {
            CAP_ENCODER | CAP_ENCODER_INT8
        } else {
            0
        })
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic is a bug (inputs are validated, never trusted): trap, which the host sees as an
/// error from the call. The instance should be discarded afterwards.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
