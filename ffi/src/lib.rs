//! # ferrovec
//!
//! An embeddable, on-device vector engine: per-architecture SIMD kernels (AVX-512, AVX2,
//! NEON, wasm simd128, scalar) and the engines built on them, for Rust, C (`ferrovec.h`,
//! `libferrovec.a` / `libferrovec.so`) and, through UniFFI, Swift, Kotlin and Python.
//!
//! ```
//! use ferrovec::kernels::{self, Metric};
//!
//! let query = [1.0f32, 0.0];
//! let rows = [1.0f32, 0.0, 0.0, 1.0, -1.0, 0.0];
//! let mut scores = [0.0f32; 3];
//! kernels::scan_f32(Metric::Cosine, &query, &rows, &mut scores)?;
//! let best = kernels::top_k(&scores, 2);
//! assert_eq!((best[0].index, best[1].index), (0, 1));
//! println!("ran on {}", kernels::active_isa());
//! # Ok::<(), ferrovec::Error>(())
//! ```
//!
//! The same kernels run on a backend chosen at run time through [`Engine`]: natively, or
//! inside the embedded wasmi interpreter running ferrovec's own wasm module (with fuel and
//! a memory cap) where an app may not load native code; see [`backend`].

pub use ferrovec_core::kernels;
pub use ferrovec_core::{Error, Result};

pub mod backend;
pub mod bindings;
pub mod capi;
pub mod encoder;
mod engine;
mod files;
pub mod index;
pub mod solver;

pub use backend::BackendKind;
pub use encoder::{Encoder, EncoderOptions, WeightPrecision};
pub use engine::Engine;
pub use index::{
    HnswParams, Index, IndexKind, IndexMetric, IndexOptions, Match, OnDuplicate, Storage,
};
pub use solver::{Graph, SparseMatrix};

uniffi::setup_scaffolding!("ferrovec");
