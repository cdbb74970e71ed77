//! AVX-512 kernels (F + BW + VL): 512-bit registers, 4 independent f32 accumulators, and
//! mask-register tails so no element is handled by scalar code. VNNI (`vpdpbusd`) and
//! VPOPCNTDQ variants replace the i8 dot and the bit counts where the CPU has them.
//!
//! Every function here is `unsafe` for one reason only: the CPU must support the features
//! named in its `target_feature`. They accept slices of different lengths and work on the
//! common prefix, so no caller can make them read out of bounds.

use core::arch::x86_64::*;

use super::super::scalar::{scale_to_unit, scan_rows};
use super::super::{CosineParts, Metric};
use super::SCAN_PREFETCH_ELEMENTS;

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

/// Sum of `step`-accumulated f32 terms over the common prefix of `a` and `b`: 64 elements
/// per iteration in 4 accumulators, then 16 at a time, then one masked tail.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn accumulate_f32(
    a: &[f32],
    b: &[f32],
    step: impl Fn(__m512, __m512, __m512) -> __m512,
) -> __m512 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    // SAFETY: unmasked loads cover indices i..i+16 <= n; the masked load reads only lanes
    // below n - i, and masked-off lanes never fault.
    unsafe {
        while i + 64 <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let off = i + 16 * j;
                *lane = step(
                    _mm512_loadu_ps(pa.add(off)),
                    _mm512_loadu_ps(pb.add(off)),
                    *lane,
                );
            }
            i += 64;
        }
        while i + 16 <= n {
            acc[0] = step(
                _mm512_loadu_ps(pa.add(i)),
                _mm512_loadu_ps(pb.add(i)),
                acc[0],
            );
            i += 16;
        }
        if i < n {
            let mask = mask16(n - i);
            let x = _mm512_maskz_loadu_ps(mask, pa.add(i));
            let y = _mm512_maskz_loadu_ps(mask, pb.add(i));
            acc[1] = step(x, y, acc[1]);
        }
    }
    _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))
}

/// Inner product.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn dot_f32_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    _mm512_reduce_add_ps(unsafe { accumulate_f32(a, b, |x, y, acc| _mm512_fmadd_ps(x, y, acc)) })
}

/// Squared Euclidean distance.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn l2sq_f32_avx512(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: this function's own contract.
    _mm512_reduce_add_ps(unsafe {
        accumulate_f32(a, b, |x, y, acc| {
            let d = _mm512_sub_ps(x, y);
            _mm512_fmadd_ps(d, d, acc)
        })
    })
}

/// The three sums of a cosine distance, 2 accumulators each.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn cosine_parts_f32_avx512(a: &[f32], b: &[f32]) -> CosineParts {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let zero = _mm512_setzero_ps();
    let (mut ab, mut aa, mut bb) = ([zero; 2], [zero; 2], [zero; 2]);
    let mut i = 0;
    // SAFETY: loads cover indices < n only (masked lanes are not read).
    unsafe {
        while i + 32 <= n {
            for j in 0..2 {
                let x = _mm512_loadu_ps(pa.add(i + 16 * j));
                let y = _mm512_loadu_ps(pb.add(i + 16 * j));
                ab[j] = _mm512_fmadd_ps(x, y, ab[j]);
                aa[j] = _mm512_fmadd_ps(x, x, aa[j]);
                bb[j] = _mm512_fmadd_ps(y, y, bb[j]);
            }
            i += 32;
        }
        while i < n {
            let mask = if i + 16 <= n { 0xffff } else { mask16(n - i) };
            let x = _mm512_maskz_loadu_ps(mask, pa.add(i));
            let y = _mm512_maskz_loadu_ps(mask, pb.add(i));
            ab[0] = _mm512_fmadd_ps(x, y, ab[0]);
            aa[0] = _mm512_fmadd_ps(x, x, aa[0]);
            bb[0] = _mm512_fmadd_ps(y, y, bb[0]);
            i += 16;
        }
    }
    CosineParts {
        ab: _mm512_reduce_add_ps(_mm512_add_ps(ab[0], ab[1])),
        aa: _mm512_reduce_add_ps(_mm512_add_ps(aa[0], aa[1])),
        bb: _mm512_reduce_add_ps(_mm512_add_ps(bb[0], bb[1])),
    }
}

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

/// The per-row sums of one query against 4 consecutive rows starting at `rows`: each query
/// chunk is loaded once and applied to all 4 rows, one set of `K` accumulators per row.
///
/// # Safety
/// The CPU must support AVX-512F; `query` must have `dims` readable elements and `rows`
/// `4 * dims`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn sums_4rows_avx512<const K: usize>(
    query: *const f32,
    rows: *const f32,
    dims: usize,
    step: impl Fn(__m512, __m512, &mut [__m512; K]),
) -> [[f32; K]; 4] {
    let mut acc = [[_mm512_setzero_ps(); K]; 4];
    let mut i = 0;
    // SAFETY: unmasked loads cover elements i..i + 16 <= dims of the query and of each row;
    // the masked tail reads only lanes below dims - i (masked-off lanes never fault).
    unsafe {
        while i + 16 <= dims {
            let q = _mm512_loadu_ps(query.add(i));
            for (r, acc) in acc.iter_mut().enumerate() {
                let ahead = rows.wrapping_add(r * dims + i + SCAN_PREFETCH_ELEMENTS);
                // A prefetch never faults, so it may point past the end of `rows`.
                _mm_prefetch::<_MM_HINT_T0>(ahead.cast());
                step(q, _mm512_loadu_ps(rows.add(r * dims + i)), acc);
            }
            i += 16;
        }
        if i < dims {
            let mask = mask16(dims - i);
            let q = _mm512_maskz_loadu_ps(mask, query.add(i));
            for (r, acc) in acc.iter_mut().enumerate() {
                step(q, _mm512_maskz_loadu_ps(mask, rows.add(r * dims + i)), acc);
            }
        }
    }
    acc.map(|row| row.map(|v| _mm512_reduce_add_ps(v)))
}

/// One query against many rows, 4 rows per step so the query is loaded once per 4 rows and
/// the row stream is the only memory traffic (the scan is bound by read bandwidth).
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn scan_f32_avx512(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    let dims = query.len();
    if dims == 0 {
        return;
    }
    let q = query.as_ptr();
    let blocks = rows.chunks_exact(4 * dims).zip(out.chunks_exact_mut(4));
    // SAFETY (every call below): the CPU supports AVX-512F (this function's contract), the
    // query has `dims` elements and each block `4 * dims`.
    match metric {
        Metric::Dot => {
            for (block, out) in blocks {
                let sums = unsafe {
                    sums_4rows_avx512::<1>(q, block.as_ptr(), dims, |q, r, [ab]| {
                        *ab = _mm512_fmadd_ps(q, r, *ab)
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
                    sums_4rows_avx512::<1>(q, block.as_ptr(), dims, |q, r, [dd]| {
                        let d = _mm512_sub_ps(q, r);
                        *dd = _mm512_fmadd_ps(d, d, *dd)
                    })
                };
                for (o, [dd]) in out.iter_mut().zip(sums) {
                    *o = dd;
                }
            }
        }
        Metric::Cosine => {
            let aa = unsafe { dot_f32_avx512(query, query) };
            for (block, out) in blocks {
                let sums = unsafe {
                    sums_4rows_avx512::<2>(q, block.as_ptr(), dims, |q, r, [ab, bb]| {
                        *ab = _mm512_fmadd_ps(q, r, *ab);
                        *bb = _mm512_fmadd_ps(r, r, *bb);
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
        |a, b| unsafe { dot_f32_avx512(a, b) },
        |a, b| unsafe { l2sq_f32_avx512(a, b) },
    )
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
