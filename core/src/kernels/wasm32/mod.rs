//! wasm32 kernel table: 128-bit SIMD (`simd128`).
//!
//! WebAssembly has no runtime feature detection: a module either validates with SIMD
//! instructions or does not load at all. This module is therefore only compiled when
//! `simd128` is enabled at compile time (`-C target-feature=+simd128`), and the table is
//! always supported when it exists. The scalar-only module (`ferrovec.wasm`) is built
//! without it.

mod simd128;

use super::{Isa, Kernels};

pub(super) static SIMD128: Kernels = Kernels {
    isa: Isa::Simd128,
    variant: "simd128",
    supported: || true,
    dot_f32: simd128::dot_f32_simd128,
    cosine_parts_f32: simd128::cosine_parts_f32_simd128,
    l2sq_f32: simd128::l2sq_f32_simd128,
    l2_normalize_f32: simd128::l2_normalize_f32_simd128,
    scan_f32: simd128::scan_f32_simd128,
    dot_i8: simd128::dot_i8_simd128,
    l2sq_i8: simd128::l2sq_i8_simd128,
    hamming_b1: simd128::hamming_b1_simd128,
    jaccard_b1: simd128::jaccard_b1_simd128,
};
