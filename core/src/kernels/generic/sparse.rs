//! Sparse matrix-vector products over CSR, written once over [`F64Vector`], with the
//! per-row epilogues the solvers fuse into them (a residual, a Jacobi step, a PageRank
//! step, the dot products of CG and BiCGSTAB).
//!
//! A row's sum follows the shared order of the module docs with the row's own entries as
//! terms (entry `k` of the row to partial sum `k mod 16`), whichever path computes it:
//!
//! * rows of at most 8 entries go through straight-line code ([`row_sum`]) that adds the
//!   products in the order [`reduce_partials`](super::reduce_partials) would, the zero
//!   partial sums left out (adding `+0` changes nothing but the sign of a zero, which a
//!   final `+ 0.0`, added to the whole block of row sums, restores). Measured on x86 (the
//!   commit that chose it): 4-lane registers for every row took Poisson's 5-entry rows
//!   from 2.2 to 2.7-3.0 ms per product;
//! * longer rows go through [`long_row`]: `16 / LANES` registers of partial sums, values
//!   loaded and `x` gathered one register at a time, the last register of a row
//!   zero-padded.
//!
//! Sums over rows (the fused dot products) use the same order with the row index as the
//! term index ([`Partials`], as the vector operations).
//!
//! Every function here relies on the invariants of [`CsrRef`] (monotone row pointers within
//! the entries, column indices below `n_cols`), checks that `x` has `n_cols` elements
//! (doing nothing otherwise) and works on the rows that every output has room for, so no
//! caller can make it read or write out of bounds; each is `unsafe` only because the CPU
//! must support `V`'s instruction set.

use super::vector_f64::{Chunk, Partials};
use super::{reduce_registers, F64Vector, PARTIALS};
use crate::kernels::sparse::CsrRef;

/// Row `i`'s sum `sum_k values[k] * x[col_idx[k]]` over its `m` entries at `vals`/`cols`:
/// rows of up to 8 entries written out per length, as
/// [`reduce_partials`](super::reduce_partials) of the products with the (zero) partial sums
/// 8..16 and those past `m` left out; longer ones through [`long_row`]. Also prefetches the
/// matrix streams [`PREFETCH_ENTRIES`] ahead (a short row starts at most 8 entries after the
/// previous one, so one line of values per row covers them all).
///
/// # Safety
/// The CPU must support `V`'s instruction set; `m` entries must be readable at `vals` and
/// `cols`, and every index there must name a readable element of `x`.
#[inline(always)]
pub(crate) unsafe fn row_sum<V: F64Vector>(
    vals: *const f64,
    cols: *const u32,
    m: usize,
    x: *const f64,
) -> f64 {
    if m <= 8 {
        prefetch(vals.wrapping_add(PREFETCH_ENTRIES).cast());
        prefetch(cols.wrapping_add(PREFETCH_ENTRIES).cast());
    }
    // SAFETY: only called with k < m, whose entries and `x` elements the caller vouches for.
    let t = |k: usize| unsafe { *vals.add(k) * *x.add(*cols.add(k) as usize) };
    let sum = match m {
        0 => 0.0,
        1 => t(0),
        2 => t(0) + t(1),
        3 => (t(0) + t(2)) + t(1),
        4 => (t(0) + t(2)) + (t(1) + t(3)),
        5 => ((t(0) + t(4)) + t(2)) + (t(1) + t(3)),
        6 => ((t(0) + t(4)) + t(2)) + ((t(1) + t(5)) + t(3)),
        7 => ((t(0) + t(4)) + (t(2) + t(6))) + ((t(1) + t(5)) + t(3)),
        8 => ((t(0) + t(4)) + (t(2) + t(6))) + ((t(1) + t(5)) + (t(3) + t(7))),
        // SAFETY: the caller's contract.
        _ => return unsafe { long_row::<V>(vals, cols, m, x) },
    };
    // Not yet canonical: a lone product of -0 gives -0 here, where the shared order (partial
    // sums from +0) gives +0; csr_fused adds +0.0 to every row sum.
    sum
}

/// A row of any length through `16 / LANES` registers of partial sums.
///
/// # Safety
/// As [`row_sum`].
#[inline(always)]
unsafe fn long_row<V: F64Vector>(
    vals: *const f64,
    cols: *const u32,
    m: usize,
    x: *const f64,
) -> f64 {
    let w = V::LANES;
    let regs = PARTIALS / w;
    // SAFETY (all of this function): loads and gathers cover entries k..k + w <= m, the
    // partial ones only the r = m - k < w that remain; the caller vouches for those and for
    // the elements of `x` they name.
    unsafe {
        let mut acc = [V::zero(); PARTIALS];
        let mut k = 0;
        while k + PARTIALS <= m {
            // The two lines of values and the line of column indices of these 16 entries,
            // PREFETCH_ENTRIES ahead.
            let ahead = k + PREFETCH_ENTRIES;
            prefetch(vals.wrapping_add(ahead).cast());
            prefetch(vals.wrapping_add(ahead + 8).cast());
            prefetch(cols.wrapping_add(ahead).cast());
            for (j, acc) in acc.iter_mut().enumerate().take(regs) {
                let at = k + j * w;
                let t = V::load(vals.add(at)).mul(V::gather(x, cols.add(at)));
                *acc = acc.add(t);
            }
            k += PARTIALS;
        }
        // Fewer than 16 entries remain, for registers 0, 1, ... in order. A zero-padded
        // lane adds 0 * 0 = +0, which changes no partial sum (none is ever -0).
        let ahead = k + PREFETCH_ENTRIES;
        prefetch(vals.wrapping_add(ahead).cast());
        prefetch(vals.wrapping_add(ahead + 8).cast());
        prefetch(cols.wrapping_add(ahead).cast());
        for (j, acc) in acc.iter_mut().enumerate().take(regs) {
            let at = k + j * w;
            if at >= m {
                break;
            }
            let r = m - at;
            let t = if r >= w {
                V::load(vals.add(at)).mul(V::gather(x, cols.add(at)))
            } else {
                V::load_first(vals.add(at), r).mul(V::gather_first(x, cols.add(at), r))
            };
            *acc = acc.add(t);
        }
        reduce_registers(acc)
    }
}

/// The rows `0..rows` of `A x` through a fused epilogue: the sums of 16 rows at a time go
/// to a block, then `epilogue(c, s)` runs on each chunk `c` of the block, `s` holding the
/// chunk's row sums (zero-padded), and its `K` terms are summed over rows in the shared
/// order ([`Partials`]: row `i` to partial sum `i mod 16`). One copy of the row code runs
/// per row, whatever the unrolling of the epilogue.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `rows <= a.n_rows()` and
/// `x.len() >= a.n_cols()`; `epilogue` must be safe to call on every chunk of `0..rows`.
#[inline(always)]
unsafe fn csr_fused<V: F64Vector, const K: usize>(
    a: &CsrRef<'_>,
    x: &[f64],
    rows: usize,
    mut epilogue: impl FnMut(Chunk, V) -> [V; K],
) -> [f64; K] {
    // SAFETY (all of this function): the caller vouches for the CPU, the shapes and the
    // epilogue; each block's rows at .. at + count <= rows.
    unsafe {
        let mut sums = Partials::<V, K>::new();
        let mut block = [0.0f64; PARTIALS];
        let mut start = 0usize;
        let mut at = 0;
        while at < rows {
            let count = (rows - at).min(PARTIALS);
            start = if V::STANDALONE {
                rows_block_shared::<V>(a, x, at, count, start, &mut block)
            } else {
                rows_block::<V>(a, x, at, count, start, &mut block)
            };
            // The chunk at `c.at` reads lanes c.at - at .. + LANES <= 16 of the block.
            // Every row sum + 0.0, a register at a time: a no-op on a sum in the shared order
            // (never -0), and what turns a short row's lone -0 product into that order's +0.
            let pb = block.as_ptr();
            let zero = V::zero();
            sums.block(at, count, |c| {
                epilogue(c, V::load(pb.add(c.at - at)).add(zero))
            });
            at += PARTIALS;
        }
        sums.finish()
    }
}

/// The sums of rows `at .. at + count` (`count <= 16`) into `block[..count]`, zeros after;
/// row `at` starts at entry `start`. Returns where the next row starts.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `at + count <= a.n_rows()`,
/// `start = row_ptr[at]` and `x.len() >= a.n_cols()`.
#[inline(always)]
unsafe fn rows_block<V: F64Vector>(
    a: &CsrRef<'_>,
    x: &[f64],
    at: usize,
    count: usize,
    mut start: usize,
    block: &mut [f64; PARTIALS],
) -> usize {
    let (rp, vals, cols) = (
        a.row_ptr().as_ptr(),
        a.values().as_ptr(),
        a.col_idx().as_ptr(),
    );
    let px = x.as_ptr();
    // One line of row pointers per block (16 of them), PREFETCH_ENTRIES / 4 ahead.
    prefetch(rp.wrapping_add(at + PREFETCH_ENTRIES / 4).cast());
    for (l, sum) in block.iter_mut().enumerate().take(count) {
        // SAFETY: row i = at + l < n_rows: row_ptr has entries i and i + 1, the row's
        // entries start..end lie within values and col_idx, and every column index is below
        // n_cols <= x.len() (CsrRef's invariants: row_ptr starts at 0, never decreases,
        // ends at nnz; the caller's contract).
        unsafe {
            let end = *rp.add(at + l + 1) as usize;
            *sum = row_sum::<V>(vals.add(start), cols.add(start), end - start, px);
            start = end;
        }
    }
    block[count..].fill(0.0);
    start
}

/// [`rows_block`] as one function that every matrix kernel of a table calls, for the vector
/// types that need no `#[target_feature]` context ([`F64Vector::STANDALONE`]): the row code
/// (nine straight-line lengths and the long-row loop) is then in a module once, not once
/// per kernel, which keeps the wasm modules small. A call per 16 rows costs nothing
/// measurable.
///
/// # Safety
/// As [`rows_block`].
#[inline(never)]
unsafe fn rows_block_shared<V: F64Vector>(
    a: &CsrRef<'_>,
    x: &[f64],
    at: usize,
    count: usize,
    start: usize,
    block: &mut [f64; PARTIALS],
) -> usize {
    // SAFETY: the caller's contract; `V::STANDALONE` says no CPU feature is needed beyond
    // what the whole build has.
    unsafe { rows_block::<V>(a, x, at, count, start, block) }
}

/// How far ahead of a row [`row_sum`] and [`long_row`] prefetch the matrix streams, in
/// entries (8 KiB of values, 4 KiB of column indices; [`csr_fused`] prefetches row pointers
/// a quarter as far, 1 KiB). On the 1M-row 2D Poisson matrix (Zen 5,
/// AVX-512 table) the product took 4.2 ms without, 2.7 ms at 256 entries and 2.3 ms at
/// 1024-2048: the hardware prefetchers alone do not keep the five streams of a product
/// (values, columns, row pointers, `x`, `y`) ahead of the loads.
const PREFETCH_ENTRIES: usize = 1024;

/// A hint to fetch the cache line at `p` (x86_64: `prefetcht0`; elsewhere nothing: the
/// other targets were not measured). Never faults, whatever `p`.
#[inline(always)]
fn prefetch(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86_64 baseline; a prefetch does not access memory
    // architecturally, so any address is fine.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// `y <- A x`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn spmv<V: F64Vector>(a: &CsrRef<'_>, x: &[f64], y: &mut [f64]) {
    if x.len() < a.n_cols() {
        return;
    }
    let rows = a.n_rows().min(y.len());
    let py = y.as_mut_ptr();
    // SAFETY: rows <= n_rows, x.len() >= n_cols; every chunk lies in 0..rows <= y.len().
    unsafe {
        csr_fused::<V, 0>(a, x, rows, |c, s| {
            c.store(py, s);
            []
        })
    };
}

/// `y <- A x`, then `[w . y, y . y]`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn spmv_dots<V: F64Vector>(
    a: &CsrRef<'_>,
    x: &[f64],
    w: &[f64],
    y: &mut [f64],
) -> [f64; 2] {
    if x.len() < a.n_cols() {
        return [0.0; 2];
    }
    let rows = a.n_rows().min(y.len()).min(w.len());
    let (py, pw) = (y.as_mut_ptr(), w.as_ptr());
    // SAFETY: as in `spmv`; every chunk lies in 0..rows <= w.len().
    unsafe {
        csr_fused::<V, 2>(a, x, rows, |c, s| {
            c.store(py, s);
            [c.load::<V>(pw).mul(s), s.mul(s)]
        })
    }
}

/// `r <- b - A x`, then `r . r`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn residual<V: F64Vector>(
    a: &CsrRef<'_>,
    x: &[f64],
    b: &[f64],
    r: &mut [f64],
) -> f64 {
    if x.len() < a.n_cols() {
        return 0.0;
    }
    let rows = a.n_rows().min(b.len()).min(r.len());
    let (pb, pr) = (b.as_ptr(), r.as_mut_ptr());
    // SAFETY: as in `spmv`; every chunk lies in 0..rows <= b.len(), r.len().
    let [rr] = unsafe {
        csr_fused::<V, 1>(a, x, rows, |c, s| {
            let r = c.load::<V>(pb).sub(s);
            c.store(pr, r);
            [r.mul(r)]
        })
    };
    rr
}

/// One Jacobi step: `r = b - A x`, `x_next <- x + d * r` (`d` the inverse diagonal), and
/// `r . r` (the residual of `x`, not of `x_next`).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn jacobi<V: F64Vector>(
    a: &CsrRef<'_>,
    d: &[f64],
    b: &[f64],
    x: &[f64],
    x_next: &mut [f64],
) -> f64 {
    if x.len() < a.n_cols() {
        return 0.0;
    }
    let rows = a
        .n_rows()
        .min(d.len())
        .min(b.len())
        .min(x.len())
        .min(x_next.len());
    let (pd, pb, px, pn) = (d.as_ptr(), b.as_ptr(), x.as_ptr(), x_next.as_mut_ptr());
    // SAFETY: as in `spmv`; every chunk lies in 0..rows, within every slice.
    let [rr] = unsafe {
        csr_fused::<V, 1>(a, x, rows, |c, s| {
            let r = c.load::<V>(pb).sub(s);
            let next = c.load::<V>(px).add(c.load::<V>(pd).mul(r));
            c.store(pn, next);
            [r.mul(r)]
        })
    };
    rr
}

/// One PageRank step: `y <- alpha * (A x) + beta`, then `sum |y_i - x_i|`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn pagerank<V: F64Vector>(
    a: &CsrRef<'_>,
    alpha: f64,
    beta: f64,
    x: &[f64],
    y: &mut [f64],
) -> f64 {
    if x.len() < a.n_cols() {
        return 0.0;
    }
    let rows = a.n_rows().min(x.len()).min(y.len());
    let (px, py) = (x.as_ptr(), y.as_mut_ptr());
    // SAFETY: as in `spmv`; every chunk lies in 0..rows, within `x` and `y`.
    let [l1] = unsafe {
        let (alpha, beta) = (V::splat(alpha), V::splat(beta));
        csr_fused::<V, 1>(a, x, rows, |c, s| {
            let y = alpha.mul(s).add(beta);
            c.store(py, y);
            [y.sub(c.load::<V>(px)).abs()]
        })
    };
    l1
}
