//! AVX2 + FMA distance kernels: 256-bit registers, masked tails. The f32 loops are the shared ones of
//! `sums_f32.rs` (and its summation order) over [`F32x8`].
//!
//! Every function here is `unsafe` for one reason only: the CPU must support AVX2 and FMA.
//! They accept slices of different lengths and work on the common prefix, so no caller can
//! make them read out of bounds.

use core::arch::x86_64::*;

use crate::kernels::scalar::distance::{
    dot_i8_scalar, l2sq_i8_scalar, popcount_with, scale_to_unit,
};
use crate::kernels::x86_64::sums_f32::{self, F32Vector, RowLoad};
use crate::kernels::{Bf16, CosineParts, Metric, F16};

/// `MASK_TABLE[8 - r ..]` starts with `r` all-ones lanes followed by zeros.
static MASK_TABLE: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

/// A lane mask selecting the first `r` of 8 lanes, `r` in `1..8`.
#[inline]
#[target_feature(enable = "avx2")]
fn tail_mask(r: usize) -> __m256i {
    debug_assert!((1..8).contains(&r));
    let start = &MASK_TABLE[8 - r..8 - r + 8];
    // SAFETY: `start` is a slice of exactly 8 i32 = 32 bytes; loadu has no alignment need.
    unsafe { _mm256_loadu_si256(start.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn reduce_add_ps(v: __m256) -> f32 {
    let sum4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
    let sum1 = _mm_add_ss(sum2, _mm_shuffle_ps::<0b01>(sum2, sum2));
    _mm_cvtss_f32(sum1)
}

#[inline]
#[target_feature(enable = "avx2")]
fn reduce_add_epi32(v: __m256i) -> i32 {
    let sum4 = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let sum2 = _mm_add_epi32(sum4, _mm_unpackhi_epi64(sum4, sum4));
    let sum1 = _mm_add_epi32(sum2, _mm_shuffle_epi32::<0b01>(sum2));
    _mm_cvtsi128_si32(sum1)
}

#[inline]
#[target_feature(enable = "avx2")]
fn reduce_add_epi64(v: __m256i) -> u64 {
    let sum2 = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let sum1 = _mm_add_epi64(sum2, _mm_unpackhi_epi64(sum2, sum2));
    _mm_cvtsi128_si64(sum1) as u64
}

/// An AVX2 register of 8 f32 lanes, for the shared f32 loops.
#[derive(Clone, Copy)]
pub(super) struct F32x8(__m256);

impl F32Vector for F32x8 {
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX2 (trait contract).
        F32x8(unsafe { _mm256_setzero_ps() })
    }

    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for AVX2 and 8 readable floats at `p`.
        F32x8(unsafe { _mm256_loadu_ps(p) })
    }

    #[inline(always)]
    unsafe fn load_first(p: *const f32, r: usize) -> Self {
        // SAFETY: `maskload` reads only the first `r` lanes the caller vouches for.
        F32x8(unsafe { _mm256_maskload_ps(p, tail_mask(r)) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX2.
        F32x8(unsafe { _mm256_add_ps(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX2.
        F32x8(unsafe { _mm256_sub_ps(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        // SAFETY: the caller vouches for AVX2 and FMA (every AVX2 table requires both).
        F32x8(unsafe { _mm256_fmadd_ps(self.0, b.0, acc.0) })
    }

    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        // SAFETY: the caller vouches for AVX2.
        unsafe { reduce_add_ps(self.0) }
    }
}

/// Inner product.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::dot::<f32, F32x8>(a, b) }
}

/// Squared Euclidean distance.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn l2sq_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::l2sq::<f32, F32x8>(a, b) }
}

/// The three sums of a cosine distance in one pass.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn cosine_parts_f32_avx2(a: &[f32], b: &[f32]) -> CosineParts {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::cosine_parts::<f32, F32x8>(a, b) }
}

/// The first `r < 8` 16-bit elements at `p` in the low lanes of a register, the rest zero.
/// AVX2 has no 16-bit masked load, and the tail is at most once per row: a copy will do.
///
/// # Safety
/// `p` must have `r` readable elements.
#[inline(always)]
unsafe fn load_u16_first(p: *const u16, r: usize) -> __m128i {
    let mut lanes = [0u16; 8];
    // SAFETY: the caller vouches for `r` readable elements; `lanes` holds 8 >= r.
    unsafe {
        core::ptr::copy_nonoverlapping(p, lanes.as_mut_ptr(), r.min(8));
        _mm_loadu_si128(lanes.as_ptr().cast())
    }
}

/// f16 rows converted on load with F16C (exact).
impl RowLoad<F16> for F32x8 {
    #[inline(always)]
    unsafe fn load_row(p: *const F16) -> Self {
        // SAFETY: the caller vouches for AVX2 + F16C (the AVX2 table requires both) and 8
        // readable elements; `F16` is a transparent `u16`.
        F32x8(unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.cast())) })
    }

    #[inline(always)]
    unsafe fn load_row_first(p: *const F16, r: usize) -> Self {
        // SAFETY: as in `load_row`, for `r` elements.
        F32x8(unsafe { _mm256_cvtph_ps(load_u16_first(p.cast(), r)) })
    }
}

/// bf16 rows widened into the high half of each 32-bit lane (exact).
#[inline(always)]
unsafe fn bf16_to_ps(bits: __m128i) -> __m256 {
    // SAFETY: the caller vouches for AVX2.
    unsafe { _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(bits))) }
}

impl RowLoad<Bf16> for F32x8 {
    #[inline(always)]
    unsafe fn load_row(p: *const Bf16) -> Self {
        // SAFETY: the caller vouches for AVX2 and 8 readable elements; `Bf16` is a
        // transparent `u16`.
        F32x8(unsafe { bf16_to_ps(_mm_loadu_si128(p.cast())) })
    }

    #[inline(always)]
    unsafe fn load_row_first(p: *const Bf16, r: usize) -> Self {
        // SAFETY: as in `load_row`, for `r` elements.
        F32x8(unsafe { bf16_to_ps(load_u16_first(p.cast(), r)) })
    }
}

/// The half-precision kernels: the f32 loops over rows converted on load.
macro_rules! half_kernels_avx2 {
    ($t:ty, $dot:ident, $l2sq:ident, $cosine:ident) => {
        /// Inner product of an f32 query and a half-precision row.
        ///
        /// # Safety
        /// The CPU must support AVX2, FMA and F16C.
        #[target_feature(enable = "avx2,fma,f16c")]
        pub(crate) unsafe fn $dot(a: &[f32], b: &[$t]) -> f32 {
            // SAFETY: this function's own contract.
            unsafe { sums_f32::dot::<$t, F32x8>(a, b) }
        }

        /// Squared Euclidean distance of an f32 query and a half-precision row.
        ///
        /// # Safety
        /// The CPU must support AVX2, FMA and F16C.
        #[target_feature(enable = "avx2,fma,f16c")]
        pub(crate) unsafe fn $l2sq(a: &[f32], b: &[$t]) -> f32 {
            // SAFETY: this function's own contract.
            unsafe { sums_f32::l2sq::<$t, F32x8>(a, b) }
        }

        /// The three sums of a cosine distance of an f32 query and a half-precision row.
        ///
        /// # Safety
        /// The CPU must support AVX2, FMA and F16C.
        #[target_feature(enable = "avx2,fma,f16c")]
        pub(crate) unsafe fn $cosine(a: &[f32], b: &[$t]) -> CosineParts {
            // SAFETY: this function's own contract.
            unsafe { sums_f32::cosine_parts::<$t, F32x8>(a, b) }
        }
    };
}

half_kernels_avx2!(F16, dot_f16_avx2, l2sq_f16_avx2, cosine_parts_f16_avx2);
half_kernels_avx2!(Bf16, dot_bf16_avx2, l2sq_bf16_avx2, cosine_parts_bf16_avx2);

/// Multiplies every element by `s`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn scale_f32_avx2(x: &mut [f32], s: f32) {
    let n = x.len();
    let p = x.as_mut_ptr();
    let vs = _mm256_set1_ps(s);
    let mut i = 0;
    // SAFETY: loads and stores cover indices < n of `x`, which we borrow mutably.
    unsafe {
        while i + 8 <= n {
            _mm256_storeu_ps(p.add(i), _mm256_mul_ps(_mm256_loadu_ps(p.add(i)), vs));
            i += 8;
        }
        if i < n {
            let mask = tail_mask(n - i);
            let v = _mm256_maskload_ps(p.add(i), mask);
            _mm256_maskstore_ps(p.add(i), mask, _mm256_mul_ps(v, vs));
        }
    }
}

/// In-place L2 normalization; returns the norm before scaling.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn l2_normalize_f32_avx2(x: &mut [f32]) -> f32 {
    // SAFETY: this function's own contract.
    let norm_sq = unsafe { dot_f32_avx2(x, x) };
    scale_to_unit(x, norm_sq, |x, s| scale_f32_avx2(x, s))
}

/// One query against many rows: 2 rows in flight for dot and squared L2 (8 accumulators), one
/// for cosine (8 too): more would spill AVX2's 16 registers.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn scan_f32_avx2(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    // SAFETY: this function's own contract.
    unsafe { sums_f32::scan_f32::<F32x8, 2, 1>(metric, query, rows, out) }
}

/// Sum of `madd(f(a), f(b))` over 16-byte chunks widened to i16, plus `tail` on the rest.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn accumulate_i8(
    a: &[i8],
    b: &[i8],
    pair: impl Fn(__m256i, __m256i) -> __m256i,
) -> (__m256i, usize) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_si256(); 2];
    let mut i = 0;
    // SAFETY: each 16-byte load covers indices i..i+16 <= n.
    unsafe {
        while i + 32 <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let x = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i + 16 * j).cast()));
                let y = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i + 16 * j).cast()));
                *lane = _mm256_add_epi32(*lane, pair(x, y));
            }
            i += 32;
        }
        if i + 16 <= n {
            let x = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i).cast()));
            let y = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i).cast()));
            acc[0] = _mm256_add_epi32(acc[0], pair(x, y));
            i += 16;
        }
    }
    (_mm256_add_epi32(acc[0], acc[1]), i)
}

/// i8 inner product (wrapping modulo 2^32 past 65536 elements).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
    // SAFETY: this function's own contract. i16 products pair-summed fit i32 exactly.
    let (acc, done) = unsafe { accumulate_i8(a, b, |x, y| _mm256_madd_epi16(x, y)) };
    let n = a.len().min(b.len());
    reduce_add_epi32(acc).wrapping_add(dot_i8_scalar(&a[done..n], &b[done..n]))
}

/// i8 squared Euclidean distance (wrapping modulo 2^32 past 65536 elements).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn l2sq_i8_avx2(a: &[i8], b: &[i8]) -> u32 {
    // SAFETY: this function's own contract. Differences of i8 fit i16 (|d| <= 255), and a
    // pair of squares (<= 130050) fits i32.
    let (acc, done) = unsafe {
        accumulate_i8(a, b, |x, y| {
            let d = _mm256_sub_epi16(x, y);
            _mm256_madd_epi16(d, d)
        })
    };
    let n = a.len().min(b.len());
    (reduce_add_epi32(acc) as u32).wrapping_add(l2sq_i8_scalar(&a[done..n], &b[done..n]))
}

/// Per-byte population counts via a 4-bit lookup table (Mula's method).
#[inline]
#[target_feature(enable = "avx2")]
fn popcount_bytes(v: __m256i) -> __m256i {
    let table = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, //
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
    );
    let low = _mm256_set1_epi8(0x0f);
    let lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, low));
    let hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16::<4>(v), low));
    _mm256_add_epi8(lo, hi)
}

/// For each of the `K` words `ops(a, b)` makes per 32-byte chunk, its population count
/// summed over the whole chunks of the common prefix, plus `ops_scalar` on the rest. One
/// pass, so jaccard reads its inputs once.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn popcount_ops<const K: usize>(
    a: &[u8],
    b: &[u8],
    ops: impl Fn(__m256i, __m256i) -> [__m256i; K],
    ops_scalar: [fn(u64, u64) -> u64; K],
) -> [u64; K] {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_si256(); K];
    let mut i = 0;
    // SAFETY: each 32-byte load covers bytes i..i + 32 <= n.
    unsafe {
        while i + 32 <= n {
            let x = _mm256_loadu_si256(pa.add(i).cast());
            let y = _mm256_loadu_si256(pb.add(i).cast());
            for (acc, word) in acc.iter_mut().zip(ops(x, y)) {
                let counts = popcount_bytes(word);
                *acc = _mm256_add_epi64(*acc, _mm256_sad_epu8(counts, _mm256_setzero_si256()));
            }
            i += 32;
        }
    }
    let (ta, tb) = (&a[i..n], &b[i..n]);
    core::array::from_fn(|k| reduce_add_epi64(acc[k]) + popcount_with(ta, tb, ops_scalar[k]))
}

/// Hamming distance of packed bits.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn hamming_b1_avx2(a: &[u8], b: &[u8]) -> u64 {
    // SAFETY: this function's own contract.
    let [diff] = unsafe { popcount_ops(a, b, |x, y| [_mm256_xor_si256(x, y)], [|x, y| x ^ y]) };
    diff
}

/// Intersection and union bit counts of packed bits.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn jaccard_b1_avx2(a: &[u8], b: &[u8]) -> (u64, u64) {
    // SAFETY: this function's own contract.
    let [inter, union] = unsafe {
        popcount_ops(
            a,
            b,
            |x, y| [_mm256_and_si256(x, y), _mm256_or_si256(x, y)],
            [|x, y| x & y, |x, y| x | y],
        )
    };
    (inter, union)
}
