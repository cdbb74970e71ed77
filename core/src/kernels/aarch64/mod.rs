//! aarch64 kernel table: NEON (Advanced SIMD).
//!
//! NEON is part of the aarch64 baseline (every `aarch64-*` Rust target enables it), so there
//! is nothing to detect: the table is always supported when it is compiled.

mod neon;

use super::{Isa, Kernels};

pub(super) static NEON: Kernels = Kernels {
    isa: Isa::Neon,
    variant: "neon",
    supported: || true,
    dot_f32: neon::distance::dot_f32_neon,
    cosine_parts_f32: neon::distance::cosine_parts_f32_neon,
    l2sq_f32: neon::distance::l2sq_f32_neon,
    l2_normalize_f32: neon::distance::l2_normalize_f32_neon,
    scan_f32: neon::distance::scan_f32_neon,
    dot_f16: neon::distance::dot_f16_neon,
    l2sq_f16: neon::distance::l2sq_f16_neon,
    cosine_parts_f16: neon::distance::cosine_parts_f16_neon,
    dot_bf16: neon::distance::dot_bf16_neon,
    l2sq_bf16: neon::distance::l2sq_bf16_neon,
    cosine_parts_bf16: neon::distance::cosine_parts_bf16_neon,
    dot_i8: neon::distance::dot_i8_neon,
    l2sq_i8: neon::distance::l2sq_i8_neon,
    hamming_b1: neon::distance::hamming_b1_neon,
    jaccard_b1: neon::distance::jaccard_b1_neon,
    dense: &neon::dense::DENSE,
    sparse: &neon::sparse::SPARSE,
};
