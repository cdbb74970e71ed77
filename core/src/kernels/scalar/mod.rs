//! Portable kernels, one file per family: the fallback on every target and the reference the
//! SIMD paths are tested against.

pub(crate) mod dense;
pub(crate) mod distance;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) mod sparse;

use super::{Isa, Kernels};

/// This table's half-precision kernels (see the table).
mod half {
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    pub(super) use super::distance::{
        cosine_parts_bf16_scalar as cosine_parts_bf16, cosine_parts_f16_scalar as cosine_parts_f16,
        dot_bf16_scalar as dot_bf16, dot_f16_scalar as dot_f16, l2sq_bf16_scalar as l2sq_bf16,
        l2sq_f16_scalar as l2sq_f16,
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    pub(super) use crate::kernels::wasm32::simd128::distance::{
        cosine_parts_bf16_simd128 as cosine_parts_bf16,
        cosine_parts_f16_simd128 as cosine_parts_f16, dot_bf16_simd128 as dot_bf16,
        dot_f16_simd128 as dot_f16, l2sq_bf16_simd128 as l2sq_bf16, l2sq_f16_simd128 as l2sq_f16,
    };
}

pub(in crate::kernels) static KERNELS: Kernels = Kernels {
    isa: Isa::Scalar,
    variant: "scalar",
    supported: || true,
    dot_f32: distance::dot_f32_scalar,
    cosine_parts_f32: distance::cosine_parts_f32_scalar,
    l2sq_f32: distance::l2sq_f32_scalar,
    l2_normalize_f32: distance::l2_normalize_f32_scalar,
    scan_f32: distance::scan_f32_scalar,
    // Like `dense` below: in a simd128 module the half kernels of this table are the simd128
    // ones, which return the same bits (they are the f32 kernels' order on converted rows).
    dot_f16: half::dot_f16,
    l2sq_f16: half::l2sq_f16,
    cosine_parts_f16: half::cosine_parts_f16,
    dot_bf16: half::dot_bf16,
    l2sq_bf16: half::l2sq_bf16,
    cosine_parts_bf16: half::cosine_parts_bf16,
    dot_i8: distance::dot_i8_scalar,
    l2sq_i8: distance::l2sq_i8_scalar,
    hamming_b1: distance::hamming_b1_scalar,
    jaccard_b1: distance::jaccard_b1_scalar,
    // In a simd128 wasm module the f64 kernels of this table are the simd128 ones: they
    // return the same bits by design, and the portable copies would only add code size
    // (the scalar module, ferrovec.wasm, runs the portable ones).
    dense: &dense::DENSE,
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    sparse: &sparse::SPARSE,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    sparse: &super::wasm32::simd128::sparse::SPARSE,
};
