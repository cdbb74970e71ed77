//! Where a kernel call runs: [`Native`] (the core's kernels, compiled into this library) or
//! [`Interpreted`] (ferrovec's own wasm module inside the embedded wasmi interpreter, with
//! fuel and a memory cap).
//!
//! Both implement [`Backend`], so every surface built on [`Engine`](crate::Engine) gets both
//! and one parity suite (`ffi/tests/parity.rs`) checks them against the same golden cases.
//! Both validate arguments the same way before doing any work and report the same
//! [`Error`] for the same bad input, so a caller cannot tell them apart except by speed and
//! by the errors only a sandbox has ([`Error::OutOfFuel`], [`Error::OutOfMemory`],
//! [`Error::Trap`]).

mod host_kernels;
mod interpreted;
mod interpreted_encoder;
mod interpreted_index;
mod interpreted_solver;
mod module_call;
mod native;

use std::fmt;

use ferrovec_core::kernels::{Metric, MAX_B1_BYTES};
use ferrovec_core::{Error, Result};

use crate::index::{IndexBackend, IndexOptions, NativeIndex};
use crate::solver::{GraphBackend, MatrixBackend, NativeGraph, NativeMatrix};

pub use interpreted::{
    bundled_encoder_module, bundled_module, bundled_solver_module, BundledModule, Interpreted,
    InterpretedOptions, ModuleInfo, INSTANTIATION_FUEL, SUPPORTED_ABI_VERSION,
};
pub use native::Native;

/// The kind of a [`Backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// The core's kernels, compiled into this library ([`Native`]).
    Native,
    /// The wasm module inside the wasmi interpreter ([`Interpreted`]).
    Interpreted,
}

impl BackendKind {
    /// `"native"` or `"interpreted"`.
    pub const fn name(self) -> &'static str {
        match self {
            BackendKind::Native => "native",
            BackendKind::Interpreted => "interpreted",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every kernel of [`ferrovec::kernels`](crate::kernels), with the same arguments, results,
/// conventions and errors, run somewhere.
///
/// Implementations must be `Send + Sync`: an [`Engine`](crate::Engine) is shared between
/// threads. They must validate every argument exactly as the core does (the helpers in this
/// module do it) before doing any work, so a failed call changes nothing.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Which kind of backend this is.
    fn kind(&self) -> BackendKind;

    /// A human-readable description, e.g. `"native (avx512+vnni+vpopcntdq)"` or
    /// `"interpreted (ferrovec-simd.wasm: abi 1, simd128, fuel 1000000/call)"`.
    fn describe(&self) -> String;

    /// Inner product. See [`Kernels::dot_f32`](crate::kernels::Kernels::dot_f32).
    fn dot_f32(&self, a: &[f32], b: &[f32]) -> Result<f32>;

    /// Cosine distance. See
    /// [`Kernels::cosine_distance_f32`](crate::kernels::Kernels::cosine_distance_f32).
    fn cosine_distance_f32(&self, a: &[f32], b: &[f32]) -> Result<f32>;

    /// Squared Euclidean distance. See [`Kernels::l2sq_f32`](crate::kernels::Kernels::l2sq_f32).
    fn l2sq_f32(&self, a: &[f32], b: &[f32]) -> Result<f32>;

    /// In-place L2 normalization, returning the length before scaling. See
    /// [`Kernels::l2_normalize_f32`](crate::kernels::Kernels::l2_normalize_f32). Unlike the
    /// kernel it can fail (a sandbox can run out of fuel or memory); on failure `x` is
    /// unchanged.
    fn l2_normalize_f32(&self, x: &mut [f32]) -> Result<f32>;

    /// One query against many rows. See [`Kernels::scan_f32`](crate::kernels::Kernels::scan_f32).
    /// On failure `out` is unchanged.
    fn scan_f32(&self, metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<()>;

    /// i8 inner product. See [`Kernels::dot_i8`](crate::kernels::Kernels::dot_i8).
    fn dot_i8(&self, a: &[i8], b: &[i8]) -> Result<i32>;

    /// i8 squared Euclidean distance. See [`Kernels::l2sq_i8`](crate::kernels::Kernels::l2sq_i8).
    fn l2sq_i8(&self, a: &[i8], b: &[i8]) -> Result<u32>;

    /// Hamming distance of packed bits. See
    /// [`Kernels::hamming_b1`](crate::kernels::Kernels::hamming_b1).
    fn hamming_b1(&self, a: &[u8], b: &[u8]) -> Result<u32>;

    /// Jaccard distance of packed bits. See
    /// [`Kernels::jaccard_b1`](crate::kernels::Kernels::jaccard_b1).
    fn jaccard_b1(&self, a: &[u8], b: &[u8]) -> Result<f32>;

    /// A new, empty index on this backend (what [`Index::new`](crate::Index::new) wraps).
    /// The default is the core's index, run natively.
    fn new_index(&self, options: IndexOptions) -> Result<Box<dyn IndexBackend>> {
        Ok(Box::new(NativeIndex(ferrovec_core::index::Index::new(
            options,
        )?)))
    }

    /// An index on this backend from saved bytes (what
    /// [`Index::from_bytes`](crate::Index::from_bytes) wraps). The default is the core's
    /// index, run natively.
    fn load_index(&self, bytes: &[u8]) -> Result<Box<dyn IndexBackend>> {
        Ok(Box::new(NativeIndex(
            ferrovec_core::index::Index::from_bytes(bytes)?,
        )))
    }

    /// A sentence encoder on this backend (what [`Encoder`](crate::Encoder)'s constructors
    /// wrap). The default is the core's encoder on the active kernel table, run natively.
    fn load_encoder(
        &self,
        files: ferrovec_core::encoder::ModelFiles<'_>,
    ) -> Result<Box<dyn crate::encoder::EncoderBackend>> {
        crate::encoder::NativeEncoder::load(files, ferrovec_core::kernels::Kernels::active())
    }

    /// A sparse matrix held by this backend (what
    /// [`SparseMatrix`](crate::solver::SparseMatrix)'s constructors wrap), from an already
    /// validated core matrix. The default is the core's, run natively.
    fn new_matrix(
        &self,
        matrix: ferrovec_core::sparse::CsrMatrix,
    ) -> Result<Box<dyn MatrixBackend>> {
        Ok(Box::new(NativeMatrix(matrix)))
    }

    /// A graph held by this backend (what [`Graph`](crate::solver::Graph)'s constructors
    /// wrap), from an already validated core graph. The default is the core's, run natively.
    fn new_graph(&self, graph: ferrovec_core::sparse::Graph) -> Result<Box<dyn GraphBackend>> {
        Ok(Box::new(NativeGraph::new(graph)))
    }
}

// The core's argument checks, with the core's messages, for backends that do not call the
// core (the Interpreted backend checks on the host so the module never sees bad input, and a
// bad call fails identically on both backends; `ffi/tests/interpreted.rs` compares them).

pub(crate) fn check_same_len(a: usize, b: usize) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            expected: a,
            actual: b,
        })
    }
}

pub(crate) fn check_b1(a: &[u8], b: &[u8]) -> Result<()> {
    check_same_len(a.len(), b.len())?;
    if a.len() > MAX_B1_BYTES {
        return Err(Error::InvalidArgument(format!(
            "binary vectors are limited to {MAX_B1_BYTES} bytes, got {}",
            a.len()
        )));
    }
    Ok(())
}

pub(crate) fn check_scan(query: &[f32], rows: &[f32], out: &[f32]) -> Result<()> {
    let expected = out
        .len()
        .checked_mul(query.len())
        .ok_or_else(|| Error::InvalidArgument("n_rows * dims overflows".to_string()))?;
    check_same_len(expected, rows.len())
}
