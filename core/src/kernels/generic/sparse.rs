//! Sparse matrix-vector products over CSR, written once over [`F64Vector`], with the
//! per-row epilogues the solvers fuse into them (a residual, a Jacobi step, a PageRank
//! step, the dot products of CG and BiCGSTAB).
//!
//! A row's sum follows the shared order of the module docs with the row's own entries as
//! terms (entry `k` of the row to partial sum `k mod 16`), whichever path computes it:
//!
//! * rows of at most `SHORT` entries (`SHORT <= 8`, chosen per instruction set by
//!   measurement; 0 turns the path off) go through [`short_row`], straight-line code that
//!   adds the products in the order [`reduce_partials`](super::reduce_partials) would, the
//!   zero partial sums left out (adding `+0` changes nothing but the sign of a zero, which
//!   a final `+ 0.0` restores);
//! * longer rows (all rows when `SHORT = 0`) go through [`long_row`]: `16 / LANES`
//!   registers of partial sums, values loaded and `x` gathered one register at a time, the
//!   last register of a row zero-padded.
//!
//! Sums over rows (the fused dot products) use the same order with the row index as the
//! term index ([`RowSums`]).
//!
//! Every function here relies on the invariants of [`CsrRef`] (monotone row pointers within
//! the entries, column indices below `n_cols`), checks that `x` has `n_cols` elements
//! (doing nothing otherwise) and works on the rows that every output has room for, so no
//! caller can make it read or write out of bounds; each is `unsafe` only because the CPU
//! must support `V`'s instruction set.

use super::{reduce_registers, F64Vector, PARTIALS};
use crate::kernels::sparse::CsrRef;

/// Row `i`'s sum `sum_k values[k] * x[col_idx[k]]` over its `m` entries at `vals`/`cols`.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `m` entries must be readable at `vals` and
/// `cols`, and every index there must name a readable element of `x`.
#[inline(always)]
pub(crate) unsafe fn row_sum<V: F64Vector, const SHORT: usize>(
    vals: *const f64,
    cols: *const u32,
    m: usize,
    x: *const f64,
) -> f64 {
    const { assert!(SHORT <= 8) };
    // SAFETY: the caller's contract.
    unsafe {
        if m <= SHORT {
            short_row(vals, cols, m, x)
        } else {
            long_row::<V>(vals, cols, m, x)
        }
    }
}

/// A row of at most 8 entries: [`reduce_partials`](super::reduce_partials) of the products
/// with the (zero) partial sums 8..16 and those past `m` left out, written out per length.
///
/// # Safety
/// As [`row_sum`], with `m <= 8`.
#[inline(always)]
unsafe fn short_row(vals: *const f64, cols: *const u32, m: usize, x: *const f64) -> f64 {
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
        _ => ((t(0) + t(4)) + (t(2) + t(6))) + ((t(1) + t(5)) + (t(3) + t(7))),
    };
    // The partial sums start at +0, so the shared order never yields -0; a product of -0
    // standing alone here would.
    sum + 0.0
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
            for (j, acc) in acc.iter_mut().enumerate().take(regs) {
                let at = k + j * w;
                let t = V::load(vals.add(at)).mul(V::gather(x, cols.add(at)));
                *acc = acc.add(t);
            }
            k += PARTIALS;
        }
        // Fewer than 16 entries remain, for registers 0, 1, ... in order. A zero-padded
        // lane adds 0 * 0 = +0, which changes no partial sum (none is ever -0).
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

/// Calls `emit(i, sum_i)` for rows `0..rows` in order.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `rows <= a.n_rows()` and
/// `x.len() >= a.n_cols()`.
#[inline(always)]
unsafe fn csr_rows<V: F64Vector, const SHORT: usize>(
    a: &CsrRef<'_>,
    x: &[f64],
    rows: usize,
    mut emit: impl FnMut(usize, f64),
) {
    let (rp, vals, cols) = (
        a.row_ptr().as_ptr(),
        a.values().as_ptr(),
        a.col_idx().as_ptr(),
    );
    let px = x.as_ptr();
    // CsrRef: row_ptr[0] = 0, and it never decreases up to row_ptr[n_rows] = nnz.
    let mut start = 0usize;
    for i in 0..rows {
        // SAFETY: i + 1 <= rows <= n_rows indexes row_ptr's n_rows + 1 entries; the row's
        // entries start..end lie within the nnz of values and col_idx, and every column
        // index is below n_cols <= x.len() (CsrRef's invariants and the caller's contract).
        let sum = unsafe {
            let end = *rp.add(i + 1) as usize;
            let sum = row_sum::<V, SHORT>(vals.add(start), cols.add(start), end - start, px);
            start = end;
            sum
        };
        emit(i, sum);
    }
}

/// `K` sums over rows in the shared order: row `i`'s terms go to partial sums `i mod 16`.
struct RowSums<const K: usize> {
    partials: [[f64; PARTIALS]; K],
    next: usize,
}

impl<const K: usize> RowSums<K> {
    #[inline(always)]
    fn new() -> Self {
        RowSums {
            partials: [[0.0; PARTIALS]; K],
            next: 0,
        }
    }

    /// Adds the next row's terms.
    #[inline(always)]
    fn add(&mut self, terms: [f64; K]) {
        let j = self.next;
        for (p, t) in self.partials.iter_mut().zip(terms) {
            // `j < PARTIALS` always; the modulo (a mask) lets the compiler see it.
            p[j % PARTIALS] += t;
        }
        self.next = (j + 1) % PARTIALS;
    }

    #[inline(always)]
    fn finish(self) -> [f64; K] {
        self.partials.map(super::reduce_partials)
    }
}

/// `y <- A x`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn spmv<V: F64Vector, const SHORT: usize>(
    a: &CsrRef<'_>,
    x: &[f64],
    y: &mut [f64],
) {
    if x.len() < a.n_cols() {
        return;
    }
    let rows = a.n_rows().min(y.len());
    let py = y.as_mut_ptr();
    // SAFETY: rows <= n_rows, x.len() >= n_cols; row i < rows <= y.len().
    unsafe { csr_rows::<V, SHORT>(a, x, rows, |i, s| *py.add(i) = s) };
}

/// `y <- A x`, then `[w . y, y . y]`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn spmv_dots<V: F64Vector, const SHORT: usize>(
    a: &CsrRef<'_>,
    x: &[f64],
    w: &[f64],
    y: &mut [f64],
) -> [f64; 2] {
    let mut sums = RowSums::<2>::new();
    if x.len() >= a.n_cols() {
        let rows = a.n_rows().min(y.len()).min(w.len());
        let (py, pw) = (y.as_mut_ptr(), w.as_ptr());
        // SAFETY: as in `spmv`; row i < rows <= w.len().
        unsafe {
            csr_rows::<V, SHORT>(a, x, rows, |i, s| {
                *py.add(i) = s;
                sums.add([*pw.add(i) * s, s * s]);
            })
        };
    }
    sums.finish()
}

/// `r <- b - A x`, then `r . r`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn residual<V: F64Vector, const SHORT: usize>(
    a: &CsrRef<'_>,
    x: &[f64],
    b: &[f64],
    r: &mut [f64],
) -> f64 {
    let mut sums = RowSums::<1>::new();
    if x.len() >= a.n_cols() {
        let rows = a.n_rows().min(b.len()).min(r.len());
        let (pb, pr) = (b.as_ptr(), r.as_mut_ptr());
        // SAFETY: as in `spmv`; row i < rows <= b.len(), r.len().
        unsafe {
            csr_rows::<V, SHORT>(a, x, rows, |i, s| {
                let ri = *pb.add(i) - s;
                *pr.add(i) = ri;
                sums.add([ri * ri]);
            })
        };
    }
    let [rr] = sums.finish();
    rr
}

/// One Jacobi step: `r = b - A x`, `x_next <- x + d * r` (`d` the inverse diagonal), and
/// `r . r` (the residual of `x`, not of `x_next`).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn jacobi<V: F64Vector, const SHORT: usize>(
    a: &CsrRef<'_>,
    d: &[f64],
    b: &[f64],
    x: &[f64],
    x_next: &mut [f64],
) -> f64 {
    let mut sums = RowSums::<1>::new();
    if x.len() >= a.n_cols() {
        let rows = a
            .n_rows()
            .min(d.len())
            .min(b.len())
            .min(x.len())
            .min(x_next.len());
        let (pd, pb, px, pn) = (d.as_ptr(), b.as_ptr(), x.as_ptr(), x_next.as_mut_ptr());
        // SAFETY: as in `spmv`; row i < rows is within every slice.
        unsafe {
            csr_rows::<V, SHORT>(a, x, rows, |i, s| {
                let ri = *pb.add(i) - s;
                *pn.add(i) = *px.add(i) + *pd.add(i) * ri;
                sums.add([ri * ri]);
            })
        };
    }
    let [rr] = sums.finish();
    rr
}

/// One PageRank step: `y <- alpha * (A x) + beta`, then `sum |y_i - x_i|`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn pagerank<V: F64Vector, const SHORT: usize>(
    a: &CsrRef<'_>,
    alpha: f64,
    beta: f64,
    x: &[f64],
    y: &mut [f64],
) -> f64 {
    let mut sums = RowSums::<1>::new();
    if x.len() >= a.n_cols() {
        let rows = a.n_rows().min(x.len()).min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        // SAFETY: as in `spmv`; row i < rows is within `x` and `y`.
        unsafe {
            csr_rows::<V, SHORT>(a, x, rows, |i, s| {
                let yi = alpha * s + beta;
                *py.add(i) = yi;
                let d = yi - *px.add(i);
                sums.add([f64::from_bits(d.to_bits() & !(1 << 63))]);
            })
        };
    }
    let [l1] = sums.finish();
    l1
}
