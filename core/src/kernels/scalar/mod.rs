//! Portable kernels, one file per family: the fallback on every target and the reference the
//! SIMD paths are tested against.

pub(crate) mod dense;
pub(crate) mod distance;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) mod sparse;

use super::{Isa, Kernels};

pub(in crate::kernels) static KERNELS: Kernels = Kernels {
    isa: Isa::Scalar,
    variant: "scalar",
    supported: || true,
    dot_f32: distance::dot_f32_scalar,
    cosine_parts_f32: distance::cosine_parts_f32_scalar,
    l2sq_f32: distance::l2sq_f32_scalar,
    l2_normalize_f32: distance::l2_normalize_f32_scalar,
    scan_f32: distance::scan_f32_scalar,
    dot_f16: distance::dot_f16_scalar,
    l2sq_f16: distance::l2sq_f16_scalar,
    cosine_parts_f16: distance::cosine_parts_f16_scalar,
    dot_bf16: distance::dot_bf16_scalar,
    l2sq_bf16: distance::l2sq_bf16_scalar,
    cosine_parts_bf16: distance::cosine_parts_bf16_scalar,
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
