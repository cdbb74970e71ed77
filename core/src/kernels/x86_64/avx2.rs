//! AVX2 + FMA kernels: 256-bit registers, 4 independent f32 accumulators, masked tails.
//!
//! Every function here is `unsafe` for one reason only: the CPU must support AVX2 and FMA.
//! They accept slices of different lengths and work on the common prefix, so no caller can
//! make them read out of bounds.

use core::arch::x86_64::*;

use super::super::scalar::{popcount_with, scale_to_unit, scan_rows};
use super::super::{CosineParts, Metric};
use super::SCAN_PREFETCH_ELEMENTS;

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

/// Sum of `term(a_i, b_i)` (an FMA-shaped accumulation) over the common prefix of `a` and
/// `b`, 32 elements per iteration in 4 accumulators, then 8 at a time, then a masked tail.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn accumulate_f32(
    a: &[f32],
    b: &[f32],
    step: impl Fn(__m256, __m256, __m256) -> __m256,
) -> __m256 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    // SAFETY: every unmasked load covers indices i..i+8 <= n of both slices; the masked load
    // touches only the first n - i < 8 lanes, also in bounds.
    unsafe {
        while i + 32 <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let off = i + 8 * j;
                *lane = step(
                    _mm256_loadu_ps(pa.add(off)),
                    _mm256_loadu_ps(pb.add(off)),
                    *lane,
                );
            }
            i += 32;
        }
        while i + 8 <= n {
            acc[0] = step(
                _mm256_loadu_ps(pa.add(i)),
                _mm256_loadu_ps(pb.add(i)),
                acc[0],
            );
            i += 8;
        }
        if i < n {
            let mask = tail_mask(n - i);
            let x = _mm256_maskload_ps(pa.add(i), mask);
            let y = _mm256_maskload_ps(pb.add(i), mask);
            acc[1] = step(x, y, acc[1]);
        }
    }
    _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))
}

/// Inner product.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    reduce_add_ps(unsafe { accumulate_f32(a, b, |x, y, acc| _mm256_fmadd_ps(x, y, acc)) })
}

/// Squared Euclidean distance.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn l2sq_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    reduce_add_ps(unsafe {
        accumulate_f32(a, b, |x, y, acc| {
            let d = _mm256_sub_ps(x, y);
            _mm256_fmadd_ps(d, d, acc)
        })
    })
}

/// The three sums of a cosine distance, 2 accumulators each.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn cosine_parts_f32_avx2(a: &[f32], b: &[f32]) -> CosineParts {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let zero = _mm256_setzero_ps();
    let (mut ab, mut aa, mut bb) = ([zero; 2], [zero; 2], [zero; 2]);
    let mut i = 0;
    // SAFETY: loads cover indices < n only (masked lanes are not read).
    unsafe {
        while i + 16 <= n {
            for j in 0..2 {
                let x = _mm256_loadu_ps(pa.add(i + 8 * j));
                let y = _mm256_loadu_ps(pb.add(i + 8 * j));
                ab[j] = _mm256_fmadd_ps(x, y, ab[j]);
                aa[j] = _mm256_fmadd_ps(x, x, aa[j]);
                bb[j] = _mm256_fmadd_ps(y, y, bb[j]);
            }
            i += 16;
        }
        while i < n {
            let (x, y) = if i + 8 <= n {
                (_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)))
            } else {
                let mask = tail_mask(n - i);
                (
                    _mm256_maskload_ps(pa.add(i), mask),
                    _mm256_maskload_ps(pb.add(i), mask),
                )
            };
            ab[0] = _mm256_fmadd_ps(x, y, ab[0]);
            aa[0] = _mm256_fmadd_ps(x, x, aa[0]);
            bb[0] = _mm256_fmadd_ps(y, y, bb[0]);
            i += 8;
        }
    }
    CosineParts {
        ab: reduce_add_ps(_mm256_add_ps(ab[0], ab[1])),
        aa: reduce_add_ps(_mm256_add_ps(aa[0], aa[1])),
        bb: reduce_add_ps(_mm256_add_ps(bb[0], bb[1])),
    }
}

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

/// The per-row sums of one query against 4 consecutive rows starting at `rows`: each query
/// chunk is loaded once and applied to all 4 rows, one set of `K` accumulators per row.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `query` must have `dims` readable elements and `rows`
/// `4 * dims`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn sums_4rows_avx2<const K: usize>(
    query: *const f32,
    rows: *const f32,
    dims: usize,
    step: impl Fn(__m256, __m256, &mut [__m256; K]),
) -> [[f32; K]; 4] {
    let mut acc = [[_mm256_setzero_ps(); K]; 4];
    let mut i = 0;
    // SAFETY: unmasked loads cover elements i..i + 8 <= dims of the query and of each row;
    // the masked tail reads only lanes below dims - i.
    unsafe {
        while i + 8 <= dims {
            let q = _mm256_loadu_ps(query.add(i));
            for (r, acc) in acc.iter_mut().enumerate() {
                let ahead = rows.wrapping_add(r * dims + i + SCAN_PREFETCH_ELEMENTS);
                // A prefetch never faults, so it may point past the end of `rows`.
                _mm_prefetch::<_MM_HINT_T0>(ahead.cast());
                step(q, _mm256_loadu_ps(rows.add(r * dims + i)), acc);
            }
            i += 8;
        }
        if i < dims {
            let mask = tail_mask(dims - i);
            let q = _mm256_maskload_ps(query.add(i), mask);
            for (r, acc) in acc.iter_mut().enumerate() {
                step(q, _mm256_maskload_ps(rows.add(r * dims + i), mask), acc);
            }
        }
    }
    acc.map(|row| row.map(|v| reduce_add_ps(v)))
}

/// One query against many rows, 4 rows per step so the query is loaded once per 4 rows and
/// the row stream is the only memory traffic (the scan is bound by read bandwidth).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn scan_f32_avx2(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    let dims = query.len();
    if dims == 0 {
        return;
    }
    let q = query.as_ptr();
    let blocks = rows.chunks_exact(4 * dims).zip(out.chunks_exact_mut(4));
    // SAFETY (every call below): the CPU supports AVX2 and FMA (this function's contract),
    // the query has `dims` elements and each block `4 * dims`.
    match metric {
        Metric::Dot => {
            for (block, out) in blocks {
                let sums = unsafe {
                    sums_4rows_avx2::<1>(q, block.as_ptr(), dims, |q, r, [ab]| {
                        *ab = _mm256_fmadd_ps(q, r, *ab)
                    })
                };
                for (o, [ab]) in out.iter_mut().zip(sums) {
                    *o = -ab;
                }
            }
        }
        Metric::L2sq => {
            for (block, out) in blocks {
                let sums = unsafe {
                    sums_4rows_avx2::<1>(q, block.as_ptr(), dims, |q, r, [dd]| {
                        let d = _mm256_sub_ps(q, r);
                        *dd = _mm256_fmadd_ps(d, d, *dd)
                    })
                };
                for (o, [dd]) in out.iter_mut().zip(sums) {
                    *o = dd;
                }
            }
        }
        Metric::Cosine => {
            let aa = unsafe { dot_f32_avx2(query, query) };
            for (block, out) in blocks {
                let sums = unsafe {
                    sums_4rows_avx2::<2>(q, block.as_ptr(), dims, |q, r, [ab, bb]| {
                        *ab = _mm256_fmadd_ps(q, r, *ab);
                        *bb = _mm256_fmadd_ps(r, r, *bb);
                    })
                };
                for (o, [ab, bb]) in out.iter_mut().zip(sums) {
                    *o = CosineParts { ab, aa, bb }.distance();
                }
            }
        }
    }
    let rest = (out.len() / 4 * 4).min(rows.len() / dims);
    // SAFETY (both closures): this function's own contract.
    scan_rows(
        metric,
        query,
        &rows[rest * dims..],
        &mut out[rest..],
        |a, b| unsafe { dot_f32_avx2(a, b) },
        |a, b| unsafe { l2sq_f32_avx2(a, b) },
    )
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
    reduce_add_epi32(acc).wrapping_add(super::super::scalar::dot_i8_scalar(
        &a[done..n],
        &b[done..n],
    ))
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
    (reduce_add_epi32(acc) as u32).wrapping_add(super::super::scalar::l2sq_i8_scalar(
        &a[done..n],
        &b[done..n],
    ))
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
