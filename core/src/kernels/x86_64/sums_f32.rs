//! The f32 loops of the x86_64 kernels, written once over a small vector trait that AVX2 and
//! AVX-512 implement ([`F32Vector`]).
//!
//! # One summation order per instruction set
//!
//! Every f32 sum on a table (dot, squared L2, the three cosine sums, in a single-vector kernel
//! or in a scan of many rows) is computed in the same order, so every path that computes the
//! distance of one pair returns the same bits:
//!
//! * [`ACCUMULATORS`] vector accumulators of `LANES` lanes each: `4 * LANES` partial sums.
//!   Element `i` belongs to partial sum `i mod (4 * LANES)` (accumulator `(i / LANES) mod 4`,
//!   lane `i mod LANES`), and each partial sum adds its elements in increasing `i` with one
//!   fused multiply-add each (squared L2 subtracts first, then `fma(d, d, acc)`).
//! * The last chunk of a row that is shorter than `LANES` is loaded zero-padded: the padding
//!   adds `fma(0, 0, acc) = acc` exactly (an accumulator is never `-0`).
//! * At the end, `(acc0 + acc1) + (acc2 + acc3)`, then the ISA's fixed horizontal reduction.
//!
//! How many rows a scan keeps in flight ([`scan_f32`]'s `R`) only changes which registers hold
//! the partial sums, never their values.

use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};

use super::super::{CosineParts, Metric};
use super::SCAN_PREFETCH_ELEMENTS;

/// Vector accumulators per sum: enough independent FMA chains to hide FMA latency (4 cycles,
/// 2 per cycle) behind the loads, which bound these loops.
pub(super) const ACCUMULATORS: usize = 4;

/// One SIMD register of f32 lanes on one instruction set.
///
/// Every method is `unsafe` for one reason: the CPU must support that instruction set. They
/// are `#[inline(always)]` without `#[target_feature]`, so they inline into the
/// `#[target_feature]` kernels that call them and compile with those features.
pub(super) trait F32Vector: Copy {
    /// f32 lanes per register.
    const LANES: usize;
    /// All lanes zero.
    unsafe fn zero() -> Self;
    /// `LANES` floats from `p` (no alignment needed).
    unsafe fn load(p: *const f32) -> Self;
    /// The first `r < LANES` floats from `p`, the other lanes zero; reads nothing past them.
    unsafe fn load_first(p: *const f32, r: usize) -> Self;
    /// Lane-wise `self + other`.
    unsafe fn add(self, other: Self) -> Self;
    /// Lane-wise `self - other`.
    unsafe fn sub(self, other: Self) -> Self;
    /// Lane-wise `self * b + acc`, rounded once.
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self;
    /// The sum of the lanes, in the instruction set's fixed order.
    unsafe fn reduce_add(self) -> f32;
}

/// Loading row elements of type `T` as f32 lanes, exactly: f32 itself, or a half-precision
/// type converted on load, so a row of any type goes through the same loops and summation
/// order (a half row's sums are the f32 sums of its converted values, bit for bit).
pub(super) trait RowLoad<T>: F32Vector {
    /// `LANES` elements from `p` as f32 (no alignment needed).
    unsafe fn load_row(p: *const T) -> Self;
    /// The first `r < LANES` elements from `p` as f32, the other lanes zero; reads nothing
    /// past them.
    unsafe fn load_row_first(p: *const T, r: usize) -> Self;
}

impl<V: F32Vector> RowLoad<f32> for V {
    #[inline(always)]
    unsafe fn load_row(p: *const f32) -> Self {
        // SAFETY: the caller's contract is `load`'s.
        unsafe { V::load(p) }
    }

    #[inline(always)]
    unsafe fn load_row_first(p: *const f32, r: usize) -> Self {
        // SAFETY: the caller's contract is `load_first`'s.
        unsafe { V::load_first(p, r) }
    }
}

/// `K` sums of one query against each of `R` rows of `n` elements, in the order of the module
/// docs: `step(q, x, sums)` folds one chunk of the query (`q`) and of a row (`x`) into that
/// row's `K` accumulators of the chunk's index.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `query` and every `rows[r]` must have `n`
/// readable elements.
#[inline(always)]
unsafe fn row_sums<T, V: RowLoad<T>, const R: usize, const K: usize, const PREFETCH: bool>(
    query: *const f32,
    rows: [*const T; R],
    n: usize,
    step: impl Fn(V, V, &mut [V; K]),
) -> [[f32; K]; R] {
    let w = V::LANES;
    // SAFETY (all of this function): unmasked loads cover elements i..i + w <= n of the
    // query and of each row; `load_first` reads only the n - i < w elements that remain.
    // Prefetches never fault, so they may point past the end (wrapping_add keeps the
    // arithmetic defined).
    unsafe {
        let mut acc = [[[V::zero(); K]; ACCUMULATORS]; R];
        let mut i = 0;
        while i + ACCUMULATORS * w <= n {
            if PREFETCH {
                // One prefetch per 64-byte line of the block, SCAN_PREFETCH_ELEMENTS ahead.
                for row in rows {
                    let ahead = row.wrapping_add(i + SCAN_PREFETCH_ELEMENTS);
                    let per_line = 64 / core::mem::size_of::<T>();
                    for line in 0..ACCUMULATORS * w / per_line {
                        _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(per_line * line).cast());
                    }
                }
            }
            for j in 0..ACCUMULATORS {
                let q = V::load(query.add(i + j * w));
                for (acc, row) in acc.iter_mut().zip(rows) {
                    step(q, V::load_row(row.add(i + j * w)), &mut acc[j]);
                }
            }
            i += ACCUMULATORS * w;
        }
        // Fewer than ACCUMULATORS chunks remain (the last maybe partial); chunk j goes to
        // accumulator j, as its element indices say. A loop of constant trip count, so it
        // unrolls and every accumulator stays in a register.
        for j in 0..ACCUMULATORS {
            let at = i + j * w;
            if at >= n {
                break;
            }
            let r = n - at;
            let q = if r >= w {
                V::load(query.add(at))
            } else {
                V::load_first(query.add(at), r)
            };
            for (acc, row) in acc.iter_mut().zip(rows) {
                let x = if r >= w {
                    V::load_row(row.add(at))
                } else {
                    V::load_row_first(row.add(at), r)
                };
                step(q, x, &mut acc[j]);
            }
        }
        acc.map(|acc| {
            core::array::from_fn(|k| {
                let pairs = (acc[0][k].add(acc[1][k]), acc[2][k].add(acc[3][k]));
                pairs.0.add(pairs.1).reduce_add()
            })
        })
    }
}

/// `sum a_i * b_i` over the common prefix.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(super) unsafe fn dot<T, V: RowLoad<T>>(a: &[f32], b: &[T]) -> f32 {
    let n = a.len().min(b.len());
    // SAFETY: both slices have n readable elements; the caller vouches for the CPU.
    let [[ab]] = unsafe { row_sums::<T, V, 1, 1, false>(a.as_ptr(), [b.as_ptr()], n, step_dot) };
    ab
}

/// `sum (a_i - b_i)^2` over the common prefix.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(super) unsafe fn l2sq<T, V: RowLoad<T>>(a: &[f32], b: &[T]) -> f32 {
    let n = a.len().min(b.len());
    // SAFETY: as in `dot`.
    let [[dd]] = unsafe { row_sums::<T, V, 1, 1, false>(a.as_ptr(), [b.as_ptr()], n, step_l2sq) };
    dd
}

/// The three sums of a cosine distance in one pass over the common prefix.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(super) unsafe fn cosine_parts<T, V: RowLoad<T>>(a: &[f32], b: &[T]) -> CosineParts {
    let n = a.len().min(b.len());
    // SAFETY: as in `dot`.
    let [[ab, aa, bb]] = unsafe {
        row_sums::<T, V, 1, 3, false>(a.as_ptr(), [b.as_ptr()], n, |q, x, [ab, aa, bb]| {
            *ab = q.mul_add(x, *ab);
            *aa = q.mul_add(q, *aa);
            *bb = x.mul_add(x, *bb);
        })
    };
    CosineParts { ab, aa, bb }
}

#[inline(always)]
fn step_dot<V: F32Vector>(q: V, x: V, [ab]: &mut [V; 1]) {
    // SAFETY: only reached from `row_sums`, whose callers vouch for the CPU.
    *ab = unsafe { q.mul_add(x, *ab) };
}

#[inline(always)]
fn step_l2sq<V: F32Vector>(q: V, x: V, [dd]: &mut [V; 1]) {
    // SAFETY: as in `step_dot`.
    *dd = unsafe {
        let d = q.sub(x);
        d.mul_add(d, *dd)
    };
}

#[inline(always)]
fn step_cosine<V: F32Vector>(q: V, x: V, [ab, bb]: &mut [V; 2]) {
    // SAFETY: as in `step_dot`.
    unsafe {
        *ab = q.mul_add(x, *ab);
        *bb = x.mul_add(x, *bb);
    }
}

/// Scans `R` rows at a time (the query chunk is loaded once per `R` rows) and the rows left
/// over one at a time, through the same [`row_sums`]: the block size changes which registers
/// hold the partial sums, never the bits of a result.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `query` has `dims` elements and each chunk of
/// `rows` too.
#[inline(always)]
unsafe fn scan_blocks<V: F32Vector, const R: usize, const K: usize>(
    query: &[f32],
    rows: &[f32],
    out: &mut [f32],
    step: impl Fn(V, V, &mut [V; K]) + Copy,
    finish: impl Fn([f32; K]) -> f32,
) {
    let dims = query.len();
    let q = query.as_ptr();
    let n_rows = out.len().min(rows.len() / dims);
    let (out, rows) = (&mut out[..n_rows], &rows[..n_rows * dims]);
    // The rows in flight come from R streams far apart (rows i, per + i, 2 per + i, ...),
    // each read front to back, rather than from R neighbouring rows: the hardware prefetcher
    // follows R sequential streams, while neighbouring rows interleave R positions of one
    // stream out of order.
    let per = n_rows / R;
    let p = rows.as_ptr();
    for i in 0..per {
        let starts: [*const f32; R] =
            core::array::from_fn(|r| p.wrapping_add((r * per + i) * dims));
        // SAFETY: row r * per + i < n_rows has `dims` elements; the caller vouches for the CPU.
        let sums = unsafe { row_sums::<f32, V, R, K, true>(q, starts, dims, step) };
        for (r, s) in sums.into_iter().enumerate() {
            out[r * per + i] = finish(s);
        }
    }
    let done = per * R;
    for (row, o) in rows[done * dims..].chunks_exact(dims).zip(&mut out[done..]) {
        // SAFETY: as above, for one row.
        let [s] = unsafe { row_sums::<f32, V, 1, K, true>(q, [row.as_ptr()], dims, step) };
        *o = finish(s);
    }
}

/// One query against many rows: `R1` rows in flight for dot and squared L2 (one sum per row),
/// `R2` for cosine (two sums per row; the query's own sum is computed once).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(super) unsafe fn scan_f32<V: F32Vector, const R1: usize, const R2: usize>(
    metric: Metric,
    query: &[f32],
    rows: &[f32],
    out: &mut [f32],
) {
    if query.is_empty() {
        return;
    }
    // SAFETY (every call): the caller vouches for the CPU; `scan_blocks` takes whole rows.
    unsafe {
        match metric {
            Metric::Dot => {
                scan_blocks::<V, R1, 1>(query, rows, out, step_dot, |[ab]| -ab);
            }
            Metric::L2sq => {
                scan_blocks::<V, R1, 1>(query, rows, out, step_l2sq, |[dd]| dd);
            }
            Metric::Cosine => {
                // The same sum, in the same order, as `cosine_parts`'s `aa`.
                let aa = dot::<f32, V>(query, query);
                scan_blocks::<V, R2, 2>(query, rows, out, step_cosine, |[ab, bb]| {
                    CosineParts { ab, aa, bb }.distance()
                });
            }
        }
    }
}
