//! # ferrovec-core
//!
//! The `no_std` heart of ferrovec: hand-written SIMD kernels for every architecture ferrovec
//! ships on (x86_64 AVX2 and AVX-512, aarch64 NEON, wasm32 simd128, and a portable scalar
//! fallback), and the engines built on them: a vector index ([`index`]), the sparse
//! matrices and graphs the sparse solvers work on ([`sparse`]), and the solvers
//! ([`solver`]: PageRank and local single-coordinate solves so far), and a BERT sentence
//! encoder ([`encoder`]: the WordPiece tokenizer, model files and the forward pass).
//!
//! With the `std` feature (on by default), x86_64 builds detect the CPU once at first use
//! and cache the best kernel table; without it the instruction set is fixed at compile time
//! by `target_feature`.
//!
//! ```
//! use ferrovec_core::kernels;
//! let a = [1.0f32, 2.0, 3.0];
//! let b = [4.0f32, 5.0, 6.0];
//! assert_eq!(kernels::dot_f32(&a, &b)?, 32.0);
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
#![no_std]
#![cfg_attr(ferrovec_optimize_size, feature(optimize_attribute))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod encoder;
mod error;
pub mod index;
pub mod kernels;
pub mod solver;
pub mod sparse;

pub use error::{Error, Result};

// The UniFFI component of this crate (it only holds `Error`, exported as `FerrovecError`).
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("ferrovec_core");
