//! AVX-512 distance kernels (F + BW + VL): 512-bit registers and mask-register tails so no element is
//! handled by scalar code. The f32 loops are the shared ones of `sums_f32.rs` (and its
//! summation order) over [`F32x16`]. VNNI (`vpdpbusd`) and VPOPCNTDQ variants replace the
//! i8 dot and the bit counts where the CPU has them.
//!
//! Every function here is `unsafe` for one reason only: the CPU must support the features
//! named in its `target_feature`. They accept slices of different lengths and work on the
//! common prefix, so no caller can make them read out of bounds.

use core::arch::x86_64::*;

use crate::kernels::scalar::distance::scale_to_unit;
use crate::kernels::x86_64::sums_f32::{self, F32Vector, RowLoad};
use crate::kernels::{Bf16, CosineParts, Metric, F16};

/// Mask of the first `r` lanes, `r < 16`.
#[inline(always)]
fn mask16(r: usize) -> __mmask16 {
    ((1u32 << r) - 1) as __mmask16
}

/// Mask of the first `r` lanes, `r < 32`.
#[inline(always)]
fn mask32(r: usize) -> __mmask32 {
    (1u32 << r) - 1
}

/// Mask of the first `r` lanes, `r < 64`.
#[inline(always)]
fn mask64(r: usize) -> __mmask64 {
    (1u64 << r) - 1
}

/// An AVX-512 register of 16 f32 lanes, for the shared f32 loops.
#[derive(Clone, Copy)]
pub(super) struct F32x16(__m512);

impl F32Vector for F32x16 {
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX-512F (trait contract).
        F32x16(unsafe { _mm512_setzero_ps() })
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for AVX-512F and 16 readable floats at `p`.
        F32x16(unsafe { _mm512_loadu_ps(p) })
    }

    #[inline(always)]
    unsafe fn load_first(p: *const f32, r: usize) -> Self {
        // SAFETY: masked-off lanes are neither read nor able to fault; the caller vouches
        // for the first `r`.
        F32x16(unsafe { _mm512_maskz_loadu_ps(mask16(r), p) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F32x16(unsafe { _mm512_add_ps(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F32x16(unsafe { _mm512_sub_ps(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F32x16(unsafe { _mm512_fmadd_ps(self.0, b.0, acc.0) })
    }

    /// Halves 16 -> 8 -> 4 -> 2 -> 1, written out (`_mm512_reduce_add_ps` leaves the order
    /// to LLVM) so the order is the documented one whatever the compiler.
    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        // SAFETY: the caller vouches for AVX-512F (which implies AVX2).
        unsafe {
            let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
            let v = _mm256_add_ps(_mm512_castps512_ps256(self.0), hi);
            let sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
            let sum1 = _mm_add_ss(sum2, _mm_shuffle_ps::<0b01>(sum2, sum2));
            _mm_cvtss_f32(sum1)
        }
    }
}

/// Inner product.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn dot_f32_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::dot::<f32, F32x16>(a, b) }
}

/// Squared Euclidean distance.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn l2sq_f32_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::l2sq::<f32, F32x16>(a, b) }
}

/// The three sums of a cosine distance in one pass.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn cosine_parts_f32_avx512(a: &[f32], b: &[f32]) -> CosineParts {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::cosine_parts::<f32, F32x16>(a, b) }
}

/// f16 rows converted on load (`vcvtph2ps`, exact); the tail by a masked 16-bit load.
impl RowLoad<F16> for F32x16 {
    #[inline(always)]
    unsafe fn load_row(p: *const F16) -> Self {
        // SAFETY: the caller vouches for AVX-512F and 16 readable elements; `F16` is a
        // transparent `u16`.
        F32x16(unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(p.cast())) })
    }

    #[inline(always)]
    unsafe fn load_row_first(p: *const F16, r: usize) -> Self {
        // SAFETY: the caller vouches for AVX-512F/BW/VL; the masked load reads only the
        // first `r` elements.
        F32x16(unsafe { _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask16(r), p.cast())) })
    }
}

/// bf16 rows widened into the high half of each 32-bit lane (exact).
#[inline(always)]
unsafe fn bf16_to_ps(bits: __m256i) -> __m512 {
    // SAFETY: the caller vouches for AVX-512F.
    unsafe { _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(bits))) }
}

impl RowLoad<Bf16> for F32x16 {
    #[inline(always)]
    unsafe fn load_row(p: *const Bf16) -> Self {
        // SAFETY: the caller vouches for AVX-512F and 16 readable elements; `Bf16` is a
        // transparent `u16`.
        F32x16(unsafe { bf16_to_ps(_mm256_loadu_si256(p.cast())) })
    }

    #[inline(always)]
    unsafe fn load_row_first(p: *const Bf16, r: usize) -> Self {
        // SAFETY: as for `F16`, a masked load of the first `r` elements.
        F32x16(unsafe { bf16_to_ps(_mm256_maskz_loadu_epi16(mask16(r), p.cast())) })
    }
}

/// The half-precision kernels: the f32 loops over rows converted on load. (AVX-512 BF16's
/// `vdpbf16ps` would need the query rounded to bf16 too, changing the results; the shift is
/// exact and keeps the bits of the f32 kernel.)
macro_rules! half_kernels_avx512 {
    ($t:ty, $dot:ident, $l2sq:ident, $cosine:ident) => {
        /// Inner product of an f32 query and a half-precision row.
        ///
        /// # Safety
        /// The CPU must support AVX-512F, BW and VL.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        pub(crate) unsafe fn $dot(a: &[f32], b: &[$t]) -> f32 {
            // SAFETY: this function's own contract.
            unsafe { sums_f32::dot::<$t, F32x16>(a, b) }
        }

        /// Squared Euclidean distance of an f32 query and a half-precision row.
        ///
        /// # Safety
        /// The CPU must support AVX-512F, BW and VL.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        pub(crate) unsafe fn $l2sq(a: &[f32], b: &[$t]) -> f32 {
            // SAFETY: this function's own contract.
            unsafe { sums_f32::l2sq::<$t, F32x16>(a, b) }
        }

        /// The three sums of a cosine distance of an f32 query and a half-precision row.
        ///
        /// # Safety
        /// The CPU must support AVX-512F, BW and VL.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
        pub(crate) unsafe fn $cosine(a: &[f32], b: &[$t]) -> CosineParts {
            // SAFETY: this function's own contract.
            unsafe { sums_f32::cosine_parts::<$t, F32x16>(a, b) }
        }
    };
}

half_kernels_avx512!(
    F16,
    dot_f16_avx512,
    l2sq_f16_avx512,
    cosine_parts_f16_avx512
);
half_kernels_avx512!(
    Bf16,
    dot_bf16_avx512,
    l2sq_bf16_avx512,
    cosine_parts_bf16_avx512
);

/// Multiplies every element by `s`.
#[inline]
#[target_feature(enable = "avx512f")]
fn scale_f32_avx512(x: &mut [f32], s: f32) {
    let n = x.len();
    let p = x.as_mut_ptr();
    let vs = _mm512_set1_ps(s);
    let mut i = 0;
    // SAFETY: loads and stores touch indices < n of `x` only (masked lanes excluded).
    unsafe {
        while i < n {
            let mask = if i + 16 <= n { 0xffff } else { mask16(n - i) };
            let v = _mm512_maskz_loadu_ps(mask, p.add(i));
            _mm512_mask_storeu_ps(p.add(i), mask, _mm512_mul_ps(v, vs));
            i += 16;
        }
    }
}

/// In-place L2 normalization; returns the norm before scaling.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn l2_normalize_f32_avx512(x: &mut [f32]) -> f32 {
    // SAFETY: this function's own contract.
    let norm_sq = unsafe { dot_f32_avx512(x, x) };
    scale_to_unit(x, norm_sq, |x, s| scale_f32_avx512(x, s))
}

/// One query against many rows: 4 rows in flight for dot and squared L2 (16 accumulators),
/// 2 for cosine (16 too), half of AVX-512's 32 registers.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn scan_f32_avx512(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::scan_f32::<F32x16, 4, 2>(metric, query, rows, out) }
}

/// Sum over 32-byte chunks (the last one masked) of `pair(widen(a), widen(b))`, where
/// `widen` sign-extends 32 i8 to 32 i16 and `pair` yields 16 i32.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn accumulate_i8_widened(
    a: &[i8],
    b: &[i8],
    pair: impl Fn(__m512i, __m512i) -> __m512i,
) -> __m512i {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_si512(); 2];
    let mut i = 0;
    // SAFETY: unmasked loads cover i..i+32 <= n; the masked tail reads lanes below n - i.
    unsafe {
        while i + 64 <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let x = _mm512_cvtepi8_epi16(_mm256_loadu_si256(pa.add(i + 32 * j).cast()));
                let y = _mm512_cvtepi8_epi16(_mm256_loadu_si256(pb.add(i + 32 * j).cast()));
                *lane = _mm512_add_epi32(*lane, pair(x, y));
            }
            i += 64;
        }
        while i < n {
            let mask = if i + 32 <= n { u32::MAX } else { mask32(n - i) };
            let x = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, pa.add(i)));
            let y = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, pb.add(i)));
            acc[0] = _mm512_add_epi32(acc[0], pair(x, y));
            i += 32;
        }
    }
    _mm512_add_epi32(acc[0], acc[1])
}

/// i8 inner product (wrapping modulo 2^32 past 65536 elements), AVX-512BW.
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VL.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(crate) unsafe fn dot_i8_avx512(a: &[i8], b: &[i8]) -> i32 {
    // SAFETY: this function's own contract. Pairs of i16 products fit i32 exactly.
    let acc = unsafe { accumulate_i8_widened(a, b, |x, y| _mm512_madd_epi16(x, y)) };
    _mm512_reduce_add_epi32(acc)
}

/// i8 inner product with VNNI: `vpdpbusd` multiplies unsigned by signed bytes, so `a` is
/// biased by 128 (`a ^ 0x80`) and `128 * sum(b)` is subtracted, both exactly in wrapping i32.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, VL and VNNI.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn dot_i8_avx512vnni(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let bias = _mm512_set1_epi8(-128);
    let (mut biased, mut correction) = ([_mm512_setzero_si512(); 2], _mm512_setzero_si512());
    let mut i = 0;
    // SAFETY: unmasked loads cover i..i+64 <= n; the masked tail reads lanes below n - i.
    // Masked-off lanes load as 0 in both inputs and so contribute 0 to both sums.
    unsafe {
        while i + 128 <= n {
            for (j, lane) in biased.iter_mut().enumerate() {
                let x = _mm512_loadu_si512(pa.add(i + 64 * j).cast());
                let y = _mm512_loadu_si512(pb.add(i + 64 * j).cast());
                *lane = _mm512_dpbusd_epi32(*lane, _mm512_xor_si512(x, bias), y);
                correction = _mm512_dpbusd_epi32(correction, bias, y);
            }
            i += 128;
        }
        while i < n {
            let mask = if i + 64 <= n { u64::MAX } else { mask64(n - i) };
            let x = _mm512_maskz_loadu_epi8(mask, pa.add(i));
            let y = _mm512_maskz_loadu_epi8(mask, pb.add(i));
            biased[0] = _mm512_dpbusd_epi32(biased[0], _mm512_xor_si512(x, bias), y);
            correction = _mm512_dpbusd_epi32(correction, bias, y);
            i += 64;
        }
    }
    let total = _mm512_sub_epi32(_mm512_add_epi32(biased[0], biased[1]), correction);
    _mm512_reduce_add_epi32(total)
}

/// i8 squared Euclidean distance (wrapping modulo 2^32 past 65536 elements).
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VL.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(crate) unsafe fn l2sq_i8_avx512(a: &[i8], b: &[i8]) -> u32 {
    // SAFETY: this function's own contract. |a - b| <= 255 fits i16 and a pair of squares
    // (<= 130050) fits i32.
    let acc = unsafe {
        accumulate_i8_widened(a, b, |x, y| {
            let d = _mm512_sub_epi16(x, y);
            _mm512_madd_epi16(d, d)
        })
    };
    _mm512_reduce_add_epi32(acc) as u32
}

/// Per-byte population counts via a 4-bit lookup table (Mula's method), AVX-512BW.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn popcount_u64_lanes_bw(v: __m512i) -> __m512i {
    let table = _mm512_set4_epi32(0x0403_0302, 0x0302_0201, 0x0302_0201, 0x0201_0100);
    let low = _mm512_set1_epi8(0x0f);
    let lo = _mm512_shuffle_epi8(table, _mm512_and_si512(v, low));
    let hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16::<4>(v), low));
    _mm512_sad_epu8(_mm512_add_epi8(lo, hi), _mm512_setzero_si512())
}

/// Population count per u64 lane with VPOPCNTDQ.
#[inline]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
fn popcount_u64_lanes_vpopcntdq(v: __m512i) -> __m512i {
    _mm512_popcnt_epi64(v)
}

/// For each of the `K` words `ops(a, b)` makes per 64-byte chunk, its population count
/// summed over the common prefix: whole chunks unmasked, then one masked chunk (masked-off
/// lanes are zero in both inputs, and every `op` used here maps 0, 0 to 0). One pass, so
/// jaccard reads its inputs once.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn popcount_ops<const K: usize>(
    a: &[u8],
    b: &[u8],
    ops: impl Fn(__m512i, __m512i) -> [__m512i; K],
    popcount: impl Fn(__m512i) -> __m512i,
) -> [u64; K] {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_si512(); K];
    let mut i = 0;
    let mut add = |x, y| {
        for (acc, word) in acc.iter_mut().zip(ops(x, y)) {
            *acc = _mm512_add_epi64(*acc, popcount(word));
        }
    };
    // SAFETY: unmasked loads read bytes i..i + 64 <= n; the masked loads read only lanes
    // below n - i, and masked-off lanes never fault.
    unsafe {
        while i + 64 <= n {
            add(
                _mm512_loadu_si512(pa.add(i).cast()),
                _mm512_loadu_si512(pb.add(i).cast()),
            );
            i += 64;
        }
        if i < n {
            let mask = mask64(n - i);
            add(
                _mm512_maskz_loadu_epi8(mask, pa.add(i).cast()),
                _mm512_maskz_loadu_epi8(mask, pb.add(i).cast()),
            );
        }
    }
    acc.map(|v| _mm512_reduce_add_epi64(v) as u64)
}

/// Hamming distance of packed bits, AVX-512BW.
///
/// # Safety
/// The CPU must support AVX-512 F and BW.
#[target_feature(enable = "avx512f,avx512bw")]
pub(crate) unsafe fn hamming_b1_avx512(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: this function's own contract.
    let [diff] = unsafe {
        popcount_ops(
            a,
            b,
            |x, y| [_mm512_xor_si512(x, y)],
            |v| popcount_u64_lanes_bw(v),
        )
    };
    diff
}

/// Intersection and union bit counts, AVX-512BW.
///
/// # Safety
/// The CPU must support AVX-512 F and BW.
#[target_feature(enable = "avx512f,avx512bw")]
pub(crate) unsafe fn jaccard_b1_avx512(a: &[u8], b: &[u8]) -> (u64, u64) {
    // SAFETY: this function's own contract.
    let [inter, union] = unsafe {
        popcount_ops(
            a,
            b,
            |x, y| [_mm512_and_si512(x, y), _mm512_or_si512(x, y)],
            |v| popcount_u64_lanes_bw(v),
        )
    };
    (inter, union)
}

/// Hamming distance of packed bits with VPOPCNTDQ.
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq")]
pub(crate) unsafe fn hamming_b1_avx512vpopcntdq(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: this function's own contract.
    let [diff] = unsafe {
        popcount_ops(
            a,
            b,
            |x, y| [_mm512_xor_si512(x, y)],
            |v| popcount_u64_lanes_vpopcntdq(v),
        )
    };
    diff
}

/// Intersection and union bit counts with VPOPCNTDQ.
///
/// # Safety
/// The CPU must support AVX-512 F, BW and VPOPCNTDQ.
#[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq")]
pub(crate) unsafe fn jaccard_b1_avx512vpopcntdq(a: &[u8], b: &[u8]) -> (u64, u64) {
    // SAFETY: this function's own contract.
    let [inter, union] = unsafe {
        popcount_ops(
            a,
            b,
            |x, y| [_mm512_and_si512(x, y), _mm512_or_si512(x, y)],
            |v| popcount_u64_lanes_vpopcntdq(v),
        )
    };
    (inter, union)
}
