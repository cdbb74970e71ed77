//! wasm32 kernel tables: 128-bit SIMD (`simd128`) and, in the host-kernels build, imports.
//!
//! WebAssembly has no runtime feature detection: a module either validates with SIMD
//! instructions or does not load at all. The simd128 table is therefore only compiled when
//! `simd128` is enabled at compile time (`-C target-feature=+simd128`), and is always
//! supported when it exists. The scalar-only module (`ferrovec.wasm`) is built without it.
//!
//! With the core's `host-kernels` feature the module imports its kernels from the host
//! instead ([`host`]); that table then comes last in the dispatch list, so it is the one
//! used. It reports the instruction set the module was compiled for.

#[cfg(feature = "host-kernels")]
mod host;
#[cfg(not(target_feature = "simd128"))]
mod scalar_scan;
#[cfg(target_feature = "simd128")]
pub(super) mod simd128;

#[cfg(not(target_feature = "simd128"))]
use super::scalar;
use super::sparse::SparseKernels;
use super::{Isa, Kernels};

/// The f64 family's table, the same in every wasm32 build of one target feature set (the
/// host-kernels table runs the module's own). `SparseKernels::active` names it directly.
#[cfg(target_feature = "simd128")]
pub(super) static SPARSE: &SparseKernels = &simd128::sparse::SPARSE;
#[cfg(not(target_feature = "simd128"))]
pub(super) static SPARSE: &SparseKernels = &scalar::sparse::SPARSE;

/// The simd128 dense table where the module has one (the host-kernels table names it).
#[cfg(all(feature = "host-kernels", target_feature = "simd128"))]
static DENSE_SIMD: &super::dense::DenseKernels = &simd128::dense::DENSE;
#[cfg(all(feature = "host-kernels", not(target_feature = "simd128")))]
static DENSE_SIMD: &super::dense::DenseKernels = &super::scalar::dense::DENSE;

/// The scalar module's table: the portable kernels, with a scan shaped for an interpreter
/// (`scalar_scan.rs`; same bits as the portable scan). In wasmi, scan of 20,000 x 384,
/// thread CPU time: dot 44 -> 32 ms, cosine 86 -> 52 ms, squared L2 54 -> 41 ms.
#[cfg(not(target_feature = "simd128"))]
pub(super) static SCALAR_WASM: Kernels = Kernels {
    isa: Isa::Scalar,
    variant: "scalar-wasm",
    scan_f32: scalar_scan::scan_f32_wasm_scalar,
    ..scalar::KERNELS
};

#[cfg(target_feature = "simd128")]
pub(super) static SIMD128: Kernels = Kernels {
    isa: Isa::Simd128,
    variant: "simd128",
    supported: || true,
    dot_f32: simd128::distance::dot_f32_simd128,
    cosine_parts_f32: simd128::distance::cosine_parts_f32_simd128,
    l2sq_f32: simd128::distance::l2sq_f32_simd128,
    l2_normalize_f32: simd128::distance::l2_normalize_f32_simd128,
    scan_f32: simd128::distance::scan_f32_simd128,
    dot_f16: simd128::distance::dot_f16_simd128,
    l2sq_f16: simd128::distance::l2sq_f16_simd128,
    cosine_parts_f16: simd128::distance::cosine_parts_f16_simd128,
    dot_bf16: simd128::distance::dot_bf16_simd128,
    l2sq_bf16: simd128::distance::l2sq_bf16_simd128,
    cosine_parts_bf16: simd128::distance::cosine_parts_bf16_simd128,
    dot_i8: simd128::distance::dot_i8_simd128,
    l2sq_i8: simd128::distance::l2sq_i8_simd128,
    hamming_b1: simd128::distance::hamming_b1_simd128,
    jaccard_b1: simd128::distance::jaccard_b1_simd128,
    dense: &simd128::dense::DENSE,
    sparse: SPARSE,
};

/// The encoder kernels of this module's one table (`EncoderKernels::active`): the simd128
/// or the portable dense family, without the rest of the table.
#[cfg(all(not(feature = "host-kernels"), target_feature = "simd128"))]
pub(super) const ENCODER: super::dense::EncoderKernels = super::dense::EncoderKernels::new(
    &simd128::dense::DENSE,
    simd128::distance::l2_normalize_f32_simd128,
);
#[cfg(all(not(feature = "host-kernels"), not(target_feature = "simd128")))]
pub(super) const ENCODER: super::dense::EncoderKernels = super::dense::EncoderKernels::new(
    &scalar::dense::DENSE,
    scalar::distance::l2_normalize_f32_scalar,
);

/// The half-precision kernels of this module's own table, for the host-kernels table.
#[cfg(feature = "host-kernels")]
mod own_half {
    #[cfg(target_feature = "simd128")]
    pub(super) use super::simd128::distance::{
        cosine_parts_bf16_simd128 as cosine_parts_bf16_own,
        cosine_parts_f16_simd128 as cosine_parts_f16_own, dot_bf16_simd128 as dot_bf16_own,
        dot_f16_simd128 as dot_f16_own, l2sq_bf16_simd128 as l2sq_bf16_own,
        l2sq_f16_simd128 as l2sq_f16_own,
    };
    #[cfg(not(target_feature = "simd128"))]
    pub(super) use crate::kernels::scalar::distance::{
        cosine_parts_bf16_scalar as cosine_parts_bf16_own,
        cosine_parts_f16_scalar as cosine_parts_f16_own, dot_bf16_scalar as dot_bf16_own,
        dot_f16_scalar as dot_f16_own, l2sq_bf16_scalar as l2sq_bf16_own,
        l2sq_f16_scalar as l2sq_f16_own,
    };
}

#[cfg(feature = "host-kernels")]
pub(super) static HOST: Kernels = Kernels {
    isa: if cfg!(target_feature = "simd128") {
        Isa::Simd128
    } else {
        Isa::Scalar
    },
    variant: "host",
    supported: || true,
    dot_f32: host::dot_f32_host,
    cosine_parts_f32: host::cosine_parts_f32_host,
    l2sq_f32: host::l2sq_f32_host,
    l2_normalize_f32: host::l2_normalize_f32_host,
    scan_f32: host::scan_f32_host,
    // The host ABI has no half-precision kernels: the module's own run.
    dot_f16: own_half::dot_f16_own,
    l2sq_f16: own_half::l2sq_f16_own,
    cosine_parts_f16: own_half::cosine_parts_f16_own,
    dot_bf16: own_half::dot_bf16_own,
    l2sq_bf16: own_half::l2sq_bf16_own,
    cosine_parts_bf16: own_half::cosine_parts_bf16_own,
    dot_i8: host::dot_i8_host,
    l2sq_i8: host::l2sq_i8_host,
    hamming_b1: host::hamming_b1_host,
    jaccard_b1: host::jaccard_b1_host,
    // The host ABI has no f32 encoder kernels: the module's own (simd128 or scalar) run.
    dense: if cfg!(target_feature = "simd128") {
        DENSE_SIMD
    } else {
        &super::scalar::dense::DENSE
    },
    // The host ABI has no f64 kernels yet: the module's own (simd128 or scalar) run.
    sparse: SPARSE,
};
