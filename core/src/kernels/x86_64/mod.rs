//! x86_64 kernel tables: AVX2+FMA+F16C, and AVX-512 with the optional VNNI / VPOPCNTDQ kernels.
//!
//! With the `std` feature each table checks the running CPU (`is_x86_feature_detected!`,
//! itself cached by std); without it, the compile-time target features decide.

mod avx2;
mod avx512;
mod sums_f32;

use super::{Isa, Kernels};

/// How far ahead of the loads the scan prefetches, in f32 elements (6 KiB: 4 rows of 384
/// dims). The hardware prefetcher alone left the 4-row scan at 75-85% of read bandwidth;
/// 4-8 rows ahead measured best, 16 and more worse.
const SCAN_PREFETCH_ELEMENTS: usize = 1536;

/// `true` when every listed CPU feature is available.
macro_rules! cpu_has {
    ($($feature:tt),+) => {{
        #[cfg(feature = "std")]
        let has = true $(&& std::is_x86_feature_detected!($feature))+;
        #[cfg(not(feature = "std"))]
        let has = true $(&& cfg!(target_feature = $feature))+;
        has
    }};
}

/// F16C (the f16 loads) is a CPUID flag of its own, but every AVX2+FMA CPU has it (Intel
/// from Ivy Bridge, AMD from Piledriver): requiring it costs no real machine a table.
fn has_avx2() -> bool {
    cpu_has!("avx2", "fma", "f16c")
}

fn has_avx512() -> bool {
    cpu_has!("avx512f", "avx512bw", "avx512vl")
}

fn has_avx512_vnni() -> bool {
    has_avx512() && cpu_has!("avx512vnni")
}

fn has_avx512_vpopcntdq() -> bool {
    has_avx512() && cpu_has!("avx512vpopcntdq")
}

fn has_avx512_vnni_vpopcntdq() -> bool {
    has_avx512_vnni() && has_avx512_vpopcntdq()
}

pub(super) static AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    variant: "avx2",
    supported: has_avx2,
    dot_f32: avx2::distance::dot_f32_avx2,
    cosine_parts_f32: avx2::distance::cosine_parts_f32_avx2,
    l2sq_f32: avx2::distance::l2sq_f32_avx2,
    l2_normalize_f32: avx2::distance::l2_normalize_f32_avx2,
    scan_f32: avx2::distance::scan_f32_avx2,
    dot_f16: avx2::distance::dot_f16_avx2,
    l2sq_f16: avx2::distance::l2sq_f16_avx2,
    cosine_parts_f16: avx2::distance::cosine_parts_f16_avx2,
    dot_bf16: avx2::distance::dot_bf16_avx2,
    l2sq_bf16: avx2::distance::l2sq_bf16_avx2,
    cosine_parts_bf16: avx2::distance::cosine_parts_bf16_avx2,
    dot_i8: avx2::distance::dot_i8_avx2,
    l2sq_i8: avx2::distance::l2sq_i8_avx2,
    hamming_b1: avx2::distance::hamming_b1_avx2,
    jaccard_b1: avx2::distance::jaccard_b1_avx2,
    dense: &avx2::dense::DENSE,
    sparse: &avx2::sparse::SPARSE,
};

/// An AVX-512 table; the variants differ only in the i8 dot and the bit counts.
const fn avx512_table(
    variant: &'static str,
    supported: fn() -> bool,
    vnni: bool,
    vpopcntdq: bool,
) -> Kernels {
    Kernels {
        isa: Isa::Avx512,
        variant,
        supported,
        dot_f32: avx512::distance::dot_f32_avx512,
        cosine_parts_f32: avx512::distance::cosine_parts_f32_avx512,
        l2sq_f32: avx512::distance::l2sq_f32_avx512,
        l2_normalize_f32: avx512::distance::l2_normalize_f32_avx512,
        scan_f32: avx512::distance::scan_f32_avx512,
        dot_f16: avx512::distance::dot_f16_avx512,
        l2sq_f16: avx512::distance::l2sq_f16_avx512,
        cosine_parts_f16: avx512::distance::cosine_parts_f16_avx512,
        dot_bf16: avx512::distance::dot_bf16_avx512,
        l2sq_bf16: avx512::distance::l2sq_bf16_avx512,
        cosine_parts_bf16: avx512::distance::cosine_parts_bf16_avx512,
        dot_i8: if vnni {
            avx512::distance::dot_i8_avx512vnni
        } else {
            avx512::distance::dot_i8_avx512
        },
        l2sq_i8: avx512::distance::l2sq_i8_avx512,
        hamming_b1: if vpopcntdq {
            avx512::distance::hamming_b1_avx512vpopcntdq
        } else {
            avx512::distance::hamming_b1_avx512
        },
        jaccard_b1: if vpopcntdq {
            avx512::distance::jaccard_b1_avx512vpopcntdq
        } else {
            avx512::distance::jaccard_b1_avx512
        },
        dense: if vnni {
            &avx512::dense::DENSE_VNNI
        } else {
            &avx512::dense::DENSE
        },
        sparse: &avx512::sparse::SPARSE,
    }
}

pub(super) static AVX512: Kernels = avx512_table("avx512", has_avx512, false, false);
pub(super) static AVX512_VNNI: Kernels = avx512_table("avx512+vnni", has_avx512_vnni, true, false);
pub(super) static AVX512_VPOPCNTDQ: Kernels =
    avx512_table("avx512+vpopcntdq", has_avx512_vpopcntdq, false, true);
pub(super) static AVX512_VNNI_VPOPCNTDQ: Kernels = avx512_table(
    "avx512+vnni+vpopcntdq",
    has_avx512_vnni_vpopcntdq,
    true,
    true,
);
