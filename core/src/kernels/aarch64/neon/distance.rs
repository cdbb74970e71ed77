//! NEON distance kernels: 128-bit registers, 4 independent f32 accumulators with FMA, widening
//! multiply-accumulate for i8, `cnt` for bit counts.
//!
//! NEON is always present on aarch64, so these are safe functions (`#[target_feature]` only
//! because intrinsics demand it be listed even when the target enables it); the only `unsafe`
//! is the raw-pointer loads. Every function accepts slices of different lengths and works on the
//! common prefix, so no caller can make it read out of bounds.

use core::arch::aarch64::*;

use crate::kernels::scalar::distance::{
    dot_i8_scalar, l2sq_i8_scalar, popcount_with, scale_to_unit, scan_rows,
};
use crate::kernels::{Bf16, CosineParts, Metric, F16};

/// Row elements the f32 loops accept: f32 itself, or a half-precision type converted to f32
/// (exactly) on load, so every row type goes through the same loop and summation order.
trait RowElem: Copy + Default {
    /// 4 elements from `p` as f32 lanes.
    ///
    /// # Safety
    /// `p` must have 4 readable elements.
    unsafe fn load4(p: *const Self) -> float32x4_t;
}

impl RowElem for f32 {
    #[inline(always)]
    unsafe fn load4(p: *const f32) -> float32x4_t {
        // SAFETY: the caller vouches for 4 readable f32; NEON is baseline on aarch64.
        unsafe { vld1q_f32(p) }
    }
}

impl RowElem for F16 {
    #[inline(always)]
    unsafe fn load4(p: *const F16) -> float32x4_t {
        // `fcvtl` widens 4 f16 lanes exactly. Its intrinsic (`vcvt_f32_f16`) needs Rust's
        // unstable `f16` type, so it is written as the one instruction.
        // SAFETY: the caller vouches for 4 readable elements (`F16` is a transparent u16);
        // `fcvtl` only reads and writes the named registers.
        unsafe {
            let bits = vld1_u16(p.cast());
            let out: float32x4_t;
            core::arch::asm!(
                "fcvtl {out:v}.4s, {bits:v}.4h",
                bits = in(vreg) bits,
                out = lateout(vreg) out,
                options(pure, nomem, nostack, preserves_flags),
            );
            out
        }
    }
}

impl RowElem for Bf16 {
    #[inline(always)]
    unsafe fn load4(p: *const Bf16) -> float32x4_t {
        // SAFETY: the caller vouches for 4 readable elements (`Bf16` is a transparent u16).
        // A bf16 is the top half of an f32: widen and shift.
        unsafe { vreinterpretq_f32_u32(vshlq_n_u32::<16>(vmovl_u16(vld1_u16(p.cast())))) }
    }
}

/// Loads 4 elements from `chunk` as f32, zero-padding when it is shorter (the tail of a
/// vector).
#[inline]
#[target_feature(enable = "neon")]
fn load_tail<T: RowElem>(chunk: &[T]) -> float32x4_t {
    let mut lanes = [T::default(); 4];
    lanes[..chunk.len()].copy_from_slice(chunk);
    // SAFETY: `lanes` is 4 readable elements.
    unsafe { T::load4(lanes.as_ptr()) }
}

/// Runs `step(acc, x, y)` over the common prefix of `a` and `b` in the summation order of the
/// kernels module docs: element `i` goes to accumulator `(i / 4) mod 4` (4 accumulators hide
/// FMA latency), the last partial chunk zero-padded. Returns the 4 accumulators.
#[inline]
#[target_feature(enable = "neon")]
fn fold_f32<T: RowElem, A: Copy>(
    a: &[f32],
    b: &[T],
    zero: A,
    step: impl Fn(&mut A, float32x4_t, float32x4_t),
) -> [A; 4] {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [zero; 4];
    let mut i = 0;
    // SAFETY: every load covers indices i..i + 4 <= n of both slices.
    unsafe {
        while i + 16 <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let off = i + 4 * j;
                step(lane, vld1q_f32(pa.add(off)), T::load4(pb.add(off)));
            }
            i += 16;
        }
    }
    // At most 3 whole chunks and a partial one remain, for accumulators 0, 1, 2, 3.
    for (lane, (x, y)) in acc.iter_mut().zip(a[i..n].chunks(4).zip(b[i..n].chunks(4))) {
        if x.len() == 4 {
            // SAFETY: both chunks are 4 readable elements.
            unsafe { step(lane, vld1q_f32(x.as_ptr()), T::load4(y.as_ptr())) };
        } else {
            step(lane, load_tail(x), load_tail(y));
        }
    }
    acc
}

#[inline]
#[target_feature(enable = "neon")]
fn sum4(acc: [float32x4_t; 4]) -> f32 {
    vaddvq_f32(vaddq_f32(
        vaddq_f32(acc[0], acc[1]),
        vaddq_f32(acc[2], acc[3]),
    ))
}

#[inline]
#[target_feature(enable = "neon")]
fn dot<T: RowElem>(a: &[f32], b: &[T]) -> f32 {
    sum4(fold_f32(a, b, vdupq_n_f32(0.0), |acc, x, y| {
        *acc = vfmaq_f32(*acc, x, y)
    }))
}

#[inline]
#[target_feature(enable = "neon")]
fn l2sq<T: RowElem>(a: &[f32], b: &[T]) -> f32 {
    sum4(fold_f32(a, b, vdupq_n_f32(0.0), |acc, x, y| {
        let d = vsubq_f32(x, y);
        *acc = vfmaq_f32(*acc, d, d);
    }))
}

#[inline]
#[target_feature(enable = "neon")]
fn cosine_parts<T: RowElem>(a: &[f32], b: &[T]) -> CosineParts {
    let zero = vdupq_n_f32(0.0);
    let acc = fold_f32(a, b, [zero; 3], |[ab, aa, bb], x, y| {
        *ab = vfmaq_f32(*ab, x, y);
        *aa = vfmaq_f32(*aa, x, x);
        *bb = vfmaq_f32(*bb, y, y);
    });
    let part = |k: usize| sum4([acc[0][k], acc[1][k], acc[2][k], acc[3][k]]);
    CosineParts {
        ab: part(0),
        aa: part(1),
        bb: part(2),
    }
}

/// Inner product.
#[target_feature(enable = "neon")]
pub(crate) fn dot_f32_neon(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b)
}

/// Squared Euclidean distance.
#[target_feature(enable = "neon")]
pub(crate) fn l2sq_f32_neon(a: &[f32], b: &[f32]) -> f32 {
    l2sq(a, b)
}

/// The three sums of a cosine distance in one pass.
#[target_feature(enable = "neon")]
pub(crate) fn cosine_parts_f32_neon(a: &[f32], b: &[f32]) -> CosineParts {
    cosine_parts(a, b)
}

/// The half-precision kernels: the f32 loops over rows converted on load.
macro_rules! half_kernels_neon {
    ($t:ty, $dot:ident, $l2sq:ident, $cosine:ident) => {
        /// Inner product of an f32 query and a half-precision row.
        #[target_feature(enable = "neon")]
        pub(crate) fn $dot(a: &[f32], b: &[$t]) -> f32 {
            dot(a, b)
        }

        /// Squared Euclidean distance of an f32 query and a half-precision row.
        #[target_feature(enable = "neon")]
        pub(crate) fn $l2sq(a: &[f32], b: &[$t]) -> f32 {
            l2sq(a, b)
        }

        /// The three sums of a cosine distance of an f32 query and a half-precision row.
        #[target_feature(enable = "neon")]
        pub(crate) fn $cosine(a: &[f32], b: &[$t]) -> CosineParts {
            cosine_parts(a, b)
        }
    };
}

half_kernels_neon!(F16, dot_f16_neon, l2sq_f16_neon, cosine_parts_f16_neon);
half_kernels_neon!(Bf16, dot_bf16_neon, l2sq_bf16_neon, cosine_parts_bf16_neon);

/// Multiplies every element by `s`.
#[inline]
#[target_feature(enable = "neon")]
fn scale_f32(x: &mut [f32], s: f32) {
    let mut chunks = x.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let p = chunk.as_mut_ptr();
        // SAFETY: `chunk` is 4 f32 we borrow mutably.
        unsafe { vst1q_f32(p, vmulq_n_f32(vld1q_f32(p), s)) };
    }
    chunks.into_remainder().iter_mut().for_each(|v| *v *= s);
}

/// In-place L2 normalization; returns the norm before scaling.
#[target_feature(enable = "neon")]
pub(crate) fn l2_normalize_f32_neon(x: &mut [f32]) -> f32 {
    let norm_sq = dot_f32_neon(x, x);
    scale_to_unit(x, norm_sq, |x, s| scale_f32(x, s))
}

/// One query against many rows.
#[target_feature(enable = "neon")]
pub(crate) fn scan_f32_neon(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    scan_rows(
        metric,
        query,
        rows,
        out,
        |a, b| dot_f32_neon(a, b),
        |a, b| l2sq_f32_neon(a, b),
    )
}

/// Sum of `pair(acc, x, y)` over 16-byte chunks of the common prefix into i32 lanes;
/// returns the lanes and the bytes covered.
#[inline]
#[target_feature(enable = "neon")]
fn fold_i8(
    a: &[i8],
    b: &[i8],
    pair: impl Fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t,
) -> (int32x4_t, usize) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [vdupq_n_s32(0); 2];
    let mut i = 0;
    // SAFETY: each 16-byte load covers indices i..i + 16 <= n.
    unsafe {
        while i + 32 <= n {
            acc[0] = pair(acc[0], vld1q_s8(pa.add(i)), vld1q_s8(pb.add(i)));
            acc[1] = pair(acc[1], vld1q_s8(pa.add(i + 16)), vld1q_s8(pb.add(i + 16)));
            i += 32;
        }
        if i + 16 <= n {
            acc[0] = pair(acc[0], vld1q_s8(pa.add(i)), vld1q_s8(pb.add(i)));
            i += 16;
        }
    }
    (vaddq_s32(acc[0], acc[1]), i)
}

/// i8 inner product (wrapping modulo 2^32 past 65536 elements).
#[target_feature(enable = "neon")]
pub(crate) fn dot_i8_neon(a: &[i8], b: &[i8]) -> i32 {
    // Products of i8 fit i16 (|p| <= 16384); pairs of them summed into i32 lanes.
    let (acc, done) = fold_i8(a, b, |acc, x, y| {
        let lo = vmull_s8(vget_low_s8(x), vget_low_s8(y));
        let hi = vmull_high_s8(x, y);
        vpadalq_s16(vpadalq_s16(acc, lo), hi)
    });
    let n = a.len().min(b.len());
    vaddvq_s32(acc).wrapping_add(dot_i8_scalar(&a[done..n], &b[done..n]))
}

/// i8 squared Euclidean distance (wrapping modulo 2^32 past 65536 elements).
#[target_feature(enable = "neon")]
pub(crate) fn l2sq_i8_neon(a: &[i8], b: &[i8]) -> u32 {
    // Differences of i8 fit i16 (|d| <= 255); their squares (<= 65025) fit i32 lanes, which
    // wrap exactly as the u32 result is specified to.
    let (acc, done) = fold_i8(a, b, |acc, x, y| {
        let lo = vsubl_s8(vget_low_s8(x), vget_low_s8(y));
        let hi = vsubl_high_s8(x, y);
        let acc = vmlal_s16(acc, vget_low_s16(lo), vget_low_s16(lo));
        let acc = vmlal_high_s16(acc, lo, lo);
        let acc = vmlal_s16(acc, vget_low_s16(hi), vget_low_s16(hi));
        vmlal_high_s16(acc, hi, hi)
    });
    let n = a.len().min(b.len());
    (vaddvq_s32(acc) as u32).wrapping_add(l2sq_i8_scalar(&a[done..n], &b[done..n]))
}

/// 16-byte chunks per block: per-byte counts (<= 8) pair-summed into u16 lanes grow by at
/// most 16 per chunk, so a block of 4096 chunks (65536 bytes) cannot overflow them.
const CHUNKS_PER_BLOCK: usize = 4096;

/// For each of the `K` byte vectors `ops(x, y)` makes per 16-byte chunk, its population
/// count summed over the whole chunks of the common prefix; also returns the bytes covered.
#[inline]
#[target_feature(enable = "neon")]
fn popcount_chunks<const K: usize>(
    a: &[u8],
    b: &[u8],
    ops: impl Fn(uint8x16_t, uint8x16_t) -> [uint8x16_t; K],
) -> ([u64; K], usize) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut totals = [vdupq_n_u64(0); K];
    let chunks = n / 16;
    let mut chunk = 0;
    while chunk < chunks {
        let end = chunks.min(chunk + CHUNKS_PER_BLOCK);
        let mut counts = [vdupq_n_u16(0); K];
        while chunk < end {
            // SAFETY: bytes 16 * chunk .. 16 * chunk + 16 <= n of both slices.
            let (x, y) = unsafe { (vld1q_u8(pa.add(16 * chunk)), vld1q_u8(pb.add(16 * chunk))) };
            let words = ops(x, y);
            for k in 0..K {
                counts[k] = vpadalq_u8(counts[k], vcntq_u8(words[k]));
            }
            chunk += 1;
        }
        for k in 0..K {
            totals[k] = vpadalq_u32(totals[k], vpaddlq_u16(counts[k]));
        }
    }
    (core::array::from_fn(|k| vaddvq_u64(totals[k])), chunks * 16)
}

/// Hamming distance of packed bits.
#[target_feature(enable = "neon")]
pub(crate) fn hamming_b1_neon(a: &[u8], b: &[u8]) -> u64 {
    let ([diff], done) = popcount_chunks(a, b, |x, y| [veorq_u8(x, y)]);
    let n = a.len().min(b.len());
    diff + popcount_with(&a[done..n], &b[done..n], |x, y| x ^ y)
}

/// Intersection and union bit counts of packed bits, in one pass.
#[target_feature(enable = "neon")]
pub(crate) fn jaccard_b1_neon(a: &[u8], b: &[u8]) -> (u64, u64) {
    let ([inter, union], done) = popcount_chunks(a, b, |x, y| [vandq_u8(x, y), vorrq_u8(x, y)]);
    let n = a.len().min(b.len());
    let (ta, tb) = (&a[done..n], &b[done..n]);
    (
        inter + popcount_with(ta, tb, |x, y| x & y),
        union + popcount_with(ta, tb, |x, y| x | y),
    )
}
