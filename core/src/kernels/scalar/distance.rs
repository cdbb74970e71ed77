//! Portable distance kernels: the fallback on every target and the reference the SIMD paths
//! are tested against.
//!
//! f32 sums use 8 independent partial sums. That keeps the error bound of the module docs,
//! and because the lanes are explicit LLVM can vectorize the loops without reassociating
//! float additions.

use crate::kernels::{Bf16, CosineParts, Metric, F16};

const LANES: usize = 8;

/// Adds 8 partial sums pairwise.
#[inline(always)]
fn reduce_lanes(acc: [f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

/// `sum term(a_i, b_i)` with 8 partial sums, over the common length of `a` and `b`.
#[inline(always)]
fn sum_terms<A: Copy, B: Copy>(a: &[A], b: &[B], term: impl Fn(A, B) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    accumulate(&mut acc, a, b, term);
    reduce_lanes(acc)
}

/// Adds `term(a_i, b_i)` into lane `i mod LANES` of `acc`, in increasing `i`.
#[inline(always)]
fn accumulate<A: Copy, B: Copy>(
    acc: &mut [f32; LANES],
    a: &[A],
    b: &[B],
    term: impl Fn(A, B) -> f32,
) {
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += term(x[i], y[i]);
        }
    }
    for (lane, (&x, &y)) in acc.iter_mut().zip(ta.iter().zip(tb)) {
        *lane += term(x, y);
    }
}

/// [`sum_terms`] over `a` and the f32 values of the half-precision `b`, converted a block at
/// a time into a buffer: the conversion is then one small loop that vectorizes, instead of
/// code inside every lane's sum that did not (15x the f32 kernel's time, and 12 KB of wasm).
/// Blocks are a multiple of `LANES` long, so every element keeps its lane and its place in
/// that lane's order: the same bits as `sum_terms` on the converted row.
#[inline(always)]
fn sum_terms_converted<T: Copy>(
    a: &[f32],
    b: &[T],
    to_f32: impl Fn(T) -> f32,
    term: impl Fn(f32, f32) -> f32 + Copy,
) -> f32 {
    const BLOCK: usize = 8 * LANES;
    let n = a.len().min(b.len());
    let mut acc = [0.0f32; LANES];
    let mut buf = [0.0f32; BLOCK];
    for (ca, cb) in a[..n].chunks(BLOCK).zip(b[..n].chunks(BLOCK)) {
        for (d, &s) in buf.iter_mut().zip(cb) {
            *d = to_f32(s);
        }
        accumulate(&mut acc, ca, &buf[..cb.len()], term);
    }
    reduce_lanes(acc)
}

pub(crate) fn dot_f32_scalar(a: &[f32], b: &[f32]) -> f32 {
    sum_terms(a, b, |x, y| x * y)
}

pub(crate) fn l2sq_f32_scalar(a: &[f32], b: &[f32]) -> f32 {
    sum_terms(a, b, |x, y| (x - y) * (x - y))
}

pub(crate) fn cosine_parts_f32_scalar(a: &[f32], b: &[f32]) -> CosineParts {
    // Three passes, each the vectorizable dot loop. One fused loop over the three sums was
    // ~10x slower than a dot product: LLVM's SLP vectorizer gave up on it (scalar code for
    // 24 lanes) or shuffled the sums together. The lane assignment and summation order are
    // those of a fused loop, so the results are the same bits.
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    CosineParts {
        ab: sum_terms(a, b, |x, y| x * y),
        aa: sum_terms(a, a, |x, y| x * y),
        bb: sum_terms(b, b, |x, y| x * y),
    }
}

/// Scales `x` by `1 / norm` unless the norm is zero or not finite; returns the norm.
#[inline(always)]
pub(crate) fn scale_to_unit(
    x: &mut [f32],
    norm_sq: f32,
    scale: impl FnOnce(&mut [f32], f32),
) -> f32 {
    let norm = crate::kernels::sqrt_f32(norm_sq);
    if norm > 0.0 && norm.is_finite() {
        scale(x, 1.0 / norm);
    }
    norm
}

pub(crate) fn l2_normalize_f32_scalar(x: &mut [f32]) -> f32 {
    let norm_sq = dot_f32_scalar(x, x);
    scale_to_unit(x, norm_sq, |x, inv| x.iter_mut().for_each(|v| *v *= inv))
}

/// Runs `row_distance` over every `query.len()`-sized row of `rows`.
///
/// Shared by every instruction set: each passes in its own (inlined) row kernels, so the
/// loop compiles with that instruction set's features.
#[inline(always)]
pub(crate) fn scan_rows(
    metric: Metric,
    query: &[f32],
    rows: &[f32],
    out: &mut [f32],
    dot: impl Fn(&[f32], &[f32]) -> f32,
    l2sq: impl Fn(&[f32], &[f32]) -> f32,
) {
    let dims = query.len();
    if dims == 0 {
        return;
    }
    let pairs = rows.chunks_exact(dims).zip(out.iter_mut());
    match metric {
        Metric::Dot => pairs.for_each(|(row, o)| *o = -dot(query, row)),
        Metric::L2sq => pairs.for_each(|(row, o)| *o = l2sq(query, row)),
        Metric::Cosine => {
            let aa = dot(query, query);
            pairs.for_each(|(row, o)| {
                // Two passes over a row that is in L1 by the second pass beat a fused
                // three-sum kernel whose query norm is thrown away.
                let parts = CosineParts {
                    ab: dot(query, row),
                    aa,
                    bb: dot(row, row),
                };
                *o = parts.distance();
            })
        }
    }
}

pub(crate) fn scan_f32_scalar(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    scan_rows(metric, query, rows, out, dot_f32_scalar, l2sq_f32_scalar)
}

/// The half-precision kernels: the f32 sums (same lanes, same order) of the row's exact f32
/// values, so each returns the bits of its f32 counterpart on the converted row.
macro_rules! half_kernels {
    ($t:ty, $dot:ident, $l2sq:ident, $cosine:ident) => {
        // A simd128 module runs the simd128 copies (scalar/mod.rs).
        #[cfg_attr(
            all(target_arch = "wasm32", target_feature = "simd128"),
            allow(dead_code)
        )]
        pub(crate) fn $dot(a: &[f32], b: &[$t]) -> f32 {
            sum_terms_converted(a, b, <$t>::to_f32, |x, y| x * y)
        }

        #[cfg_attr(
            all(target_arch = "wasm32", target_feature = "simd128"),
            allow(dead_code)
        )]
        pub(crate) fn $l2sq(a: &[f32], b: &[$t]) -> f32 {
            sum_terms_converted(a, b, <$t>::to_f32, |x, y| (x - y) * (x - y))
        }

        #[cfg_attr(
            all(target_arch = "wasm32", target_feature = "simd128"),
            allow(dead_code)
        )]
        pub(crate) fn $cosine(a: &[f32], b: &[$t]) -> CosineParts {
            // Three passes, as in `cosine_parts_f32_scalar`.
            let n = a.len().min(b.len());
            let (a, b) = (&a[..n], &b[..n]);
            CosineParts {
                ab: sum_terms_converted(a, b, <$t>::to_f32, |x, y| x * y),
                aa: sum_terms(a, a, |x, y| x * y),
                bb: sum_terms_converted(a, b, <$t>::to_f32, |_, y| y * y),
            }
        }
    };
}

half_kernels!(
    F16,
    dot_f16_scalar,
    l2sq_f16_scalar,
    cosine_parts_f16_scalar
);
half_kernels!(
    Bf16,
    dot_bf16_scalar,
    l2sq_bf16_scalar,
    cosine_parts_bf16_scalar
);

pub(crate) fn dot_i8_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .fold(0i32, |acc, (&x, &y)| acc.wrapping_add(x as i32 * y as i32))
}

pub(crate) fn l2sq_i8_scalar(a: &[i8], b: &[i8]) -> u32 {
    a.iter().zip(b).fold(0u32, |acc, (&x, &y)| {
        let d = x as i32 - y as i32;
        acc.wrapping_add((d * d) as u32)
    })
}

/// Applies `op` to 8-byte words of `a` and `b` and sums the population counts.
#[inline(always)]
pub(crate) fn popcount_with(a: &[u8], b: &[u8], op: impl Fn(u64, u64) -> u64) -> u64 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    let words: u64 = ca
        .zip(cb)
        .map(|(x, y)| op(word(x), word(y)).count_ones() as u64)
        .sum();
    let tail: u64 = ta
        .iter()
        .zip(tb)
        .map(|(&x, &y)| op(x as u64, y as u64).count_ones() as u64)
        .sum();
    words + tail
}

pub(crate) fn hamming_b1_scalar(a: &[u8], b: &[u8]) -> u64 {
    popcount_with(a, b, |x, y| x ^ y)
}

pub(crate) fn jaccard_b1_scalar(a: &[u8], b: &[u8]) -> (u64, u64) {
    (
        popcount_with(a, b, |x, y| x & y),
        popcount_with(a, b, |x, y| x | y),
    )
}
