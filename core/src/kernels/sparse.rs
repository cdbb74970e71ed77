//! f64 kernels of the sparse solvers (CG, BiCGSTAB, Jacobi/Neumann, PageRank): sparse
//! matrix-vector products over CSR, the vector operations the solvers run per iteration, and
//! fused forms of both that save passes over memory.
//!
//! | kernel | computes | used for |
//! | --- | --- | --- |
//! | [`spmv_csr_f64`](Kernels::spmv_csr_f64) | `y = A x` | any product |
//! | [`spmv_dots_csr_f64`](Kernels::spmv_dots_csr_f64) | `y = A x`; `[w.y, y.y]` | CG `q = A p`, `p.q`; BiCGSTAB `v = A p`, `r0.v`; `t = A s`, `s.t`, `t.t` |
//! | [`residual_csr_f64`](Kernels::residual_csr_f64) | `r = b - A x`; `r.r` | initial and true residuals |
//! | [`jacobi_csr_f64`](Kernels::jacobi_csr_f64) | `r = b - A x`; `x' = x + d*r`; `r.r` | Jacobi / Neumann iteration |
//! | [`pagerank_csr_f64`](Kernels::pagerank_csr_f64) | `y = alpha A x + beta`; `sum abs(y - x)` | power-iteration PageRank |
//! | [`dot_f64`](Kernels::dot_f64), [`nrm2_f64`](Kernels::nrm2_f64) | `a.b`, `sqrt(x.x)` without overflow | |
//! | [`axpy_f64`](Kernels::axpy_f64) | `y += a x` | CG `x += alpha p` |
//! | [`xpby_f64`](Kernels::xpby_f64) | `y = x + b y` | CG `p = z + beta p` |
//! | [`axpy_dot_f64`](Kernels::axpy_dot_f64) | `y += a x`; `y.y` | CG `r -= alpha q`, `r.r`; BiCGSTAB `s = r - alpha v` |
//! | [`axpy_dots_f64`](Kernels::axpy_dots_f64) | `y += a x`; `[w.y, y.y]` | BiCGSTAB `r = s - omega t`, `r0.r`, `r.r` |
//! | [`axpy_jacobi_dots_f64`](Kernels::axpy_jacobi_dots_f64) | `y += a x`; `z = d*y`; `[z.y, y.y]` | Jacobi-preconditioned CG |
//! | [`axpy2_f64`](Kernels::axpy2_f64) | `z = (z + a x) + b y` | BiCGSTAB `x += alpha p + omega s` |
//! | [`bicgstab_p_f64`](Kernels::bicgstab_p_f64) | `p = r + beta (p - omega v)` | BiCGSTAB direction |
//! | [`axpy_xpby_f64`](Kernels::axpy_xpby_f64) | `x += a p`; `p = z + b p` | CG's `x += alpha p` and next direction, one pass |
//!
//! (`d*r` is the element-wise product; `d` is the inverse of A's diagonal.)
//!
//! # The same bits on every instruction set
//!
//! Unlike the f32 distance kernels, every f64 kernel returns the same bits on every table
//! (scalar, AVX2, AVX-512, NEON, simd128), and so on every backend (native, the wasm modules
//! in wasmi or V8); only the payload of a NaN may differ. Solvers built on them therefore
//! take the same iterates everywhere. Two rules make it so:
//!
//! * No fused multiply-add: every product and every sum is rounded on its own, as written
//!   in the table above (`y + a*x` is `round(y + round(a*x))`). simd128 has no FMA, and
//!   these kernels are bound by memory, not arithmetic.
//! * One summation order for every sum (a dot product, a norm, a row of `A x`): term `i`
//!   (the element index; for a matrix row, the entry's position in the row) goes to partial
//!   sum `i mod 16`; each partial sum starts at `+0` and adds its terms in increasing `i`;
//!   then the 16 partial sums are added by halving: `p[k] + p[k + 8]`, then
//!   `+ [k + 4]`, `+ [k + 2]`, `+ [k + 1]`. Each instruction set maps that order onto its
//!   registers (the loops are written once, `generic/`):
//!
//! | table | vector operations: partial sum `i mod 16` in | a row of `A x` |
//! | --- | --- | --- |
//! | scalar | 16 scalars | <= 8 entries: straight-line; longer: 16 scalars |
//! | simd128, NEON | 8 registers x 2 lanes | <= 8 entries: straight-line; longer: 8 x 2 lanes, `x` loaded lane by lane |
//! | AVX2 | 4 registers x 4 lanes | <= 8 entries: straight-line; longer: 4 x 4 lanes, `x` by scalar loads |
//! | AVX-512 | 2 registers x 8 lanes | as AVX2 |
//!
//! (The straight-line code for short rows adds the same products in the same tree, leaving
//! out the partial sums that are zero. Why the x86 rows look like that, from measurements:
//! `x86_64/avx2/sparse.rs`; the prefetching of the matrix streams: `generic/sparse.rs`. In
//! the simd128 wasm module the scalar table's f64 kernels are the simd128 ones, which keeps
//! the module small: same bits.)
//!
//! # Accuracy
//!
//! A sum of `n` products `t_i` computed in that order is within `gamma_m * sum |t_i|` of the
//! exact sum of the exact products, with `m = ceil(n / 16) + 4` and
//! `gamma_m = m u / (1 - m u)`, `u = 2^-53` (one rounding per product, `ceil(n/16) - 1`
//! additions within a partial sum, 4 levels of halving). For `n = 10^6` that is
//! `6.9e-12 * sum |t_i|`; a row of 5 entries gets `5.6e-16 * sum |t_i|`. The tests hold
//! every table to that bound against a compensated (twice-the-working-precision)
//! reference, and to the exact bits of an independent implementation of the order.
//! [`nrm2_f64`](Kernels::nrm2_f64) rescales by a power of two when the plain sum of squares
//! overflows or falls below `2^-900`, so it neither overflows nor loses precision to
//! underflow; the fused `y.y` / `r.r` sums are plain sums of squares (they overflow to
//! infinity above about `1.3e154` per element), cheap for convergence tests.
//!
//! # The CSR contract
//!
//! Matrices are borrowed as a [`CsrRef`], validated once when it is made
//! ([`CsrRef::new`], `O(rows + nnz)`); every kernel then checks only lengths (`O(1)`), so a
//! solver validates its matrix once, not once per iteration. Kernels never panic: a wrong
//! length is an [`Error::DimensionMismatch`], a rectangular matrix where a square one is
//! needed an [`Error::InvalidArgument`], and nothing is written.

use alloc::format;

use super::{check_same_len, Kernels};
use crate::{Error, Result};

/// A sparse matrix in compressed sparse row (CSR) form, borrowed, with its invariants
/// checked:
///
/// * `row_ptr` has `n_rows + 1` entries, starts at 0, never decreases, and ends at the
///   number of stored entries `nnz`;
/// * `col_idx` and `values` both have `nnz` entries; row `i` is entries
///   `row_ptr[i] .. row_ptr[i + 1]`;
/// * every column index is below `n_cols`.
///
/// Column indices within a row need not be sorted, and a repeated index simply adds both
/// entries (in entry order). `u32` indices limit `nnz` to `u32::MAX`.
#[derive(Debug, Clone, Copy)]
pub struct CsrRef<'a> {
    n_cols: usize,
    row_ptr: &'a [u32],
    col_idx: &'a [u32],
    values: &'a [f64],
}

impl<'a> CsrRef<'a> {
    /// Checks the invariants of the type (`O(n_rows + nnz)`) and borrows the arrays.
    ///
    /// Errors: [`Error::InvalidArgument`] for an empty `row_ptr`, one that does not start
    /// at 0 or decreases, or a column index `>= n_cols`; [`Error::DimensionMismatch`] when
    /// `col_idx`, `values` and the last row pointer disagree on `nnz`.
    pub fn new(
        n_cols: usize,
        row_ptr: &'a [u32],
        col_idx: &'a [u32],
        values: &'a [f64],
    ) -> Result<CsrRef<'a>> {
        let (&first, &last) = match (row_ptr.first(), row_ptr.last()) {
            (Some(first), Some(last)) => (first, last),
            _ => {
                return Err(Error::InvalidArgument(
                    "row_ptr needs n_rows + 1 entries (at least one, 0)".into(),
                ))
            }
        };
        if first != 0 {
            return Err(Error::InvalidArgument(format!(
                "row_ptr must start at 0, not {first}"
            )));
        }
        if let Some(row) = row_ptr.windows(2).position(|w| w[1] < w[0]) {
            return Err(Error::InvalidArgument(format!(
                "row_ptr decreases at row {row}: {} then {}",
                row_ptr[row],
                row_ptr[row + 1]
            )));
        }
        check_same_len(last as usize, col_idx.len())?;
        check_same_len(col_idx.len(), values.len())?;
        // A max over the indices vectorizes; the offender is looked for only on failure.
        let max = col_idx.iter().copied().max().unwrap_or(0);
        if !col_idx.is_empty() && max as usize >= n_cols {
            let at = col_idx
                .iter()
                .position(|&c| c as usize >= n_cols)
                .unwrap_or(0);
            return Err(Error::InvalidArgument(format!(
                "column index {} at entry {at} is out of range for {n_cols} columns",
                col_idx[at]
            )));
        }
        Ok(CsrRef {
            n_cols,
            row_ptr,
            col_idx,
            values,
        })
    }

    /// Borrows arrays that already satisfy the invariants of the type, without checking
    /// them: for a matrix type that validated them when it was built.
    ///
    /// # Safety
    /// The arrays must satisfy every invariant listed on [`CsrRef`]; the kernels read
    /// `x[col_idx[k]]` and `row_ptr`'s entries without bounds checks.
    pub unsafe fn new_unchecked(
        n_cols: usize,
        row_ptr: &'a [u32],
        col_idx: &'a [u32],
        values: &'a [f64],
    ) -> CsrRef<'a> {
        CsrRef {
            n_cols,
            row_ptr,
            col_idx,
            values,
        }
    }

    /// Number of rows.
    #[inline]
    pub fn n_rows(&self) -> usize {
        // A CsrRef's row_ptr is never empty.
        self.row_ptr.len().saturating_sub(1)
    }

    /// Number of columns.
    #[inline]
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries.
    #[inline]
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// The row pointers (`n_rows + 1` entries).
    #[inline]
    pub fn row_ptr(&self) -> &'a [u32] {
        self.row_ptr
    }

    /// The column index of every entry.
    #[inline]
    pub fn col_idx(&self) -> &'a [u32] {
        self.col_idx
    }

    /// The value of every entry.
    #[inline]
    pub fn values(&self) -> &'a [f64] {
        self.values
    }
}

type SpmvFn = unsafe fn(&CsrRef<'_>, &[f64], &mut [f64]);
type SpmvDotsFn = unsafe fn(&CsrRef<'_>, &[f64], &[f64], &mut [f64]) -> [f64; 2];
type ResidualFn = unsafe fn(&CsrRef<'_>, &[f64], &[f64], &mut [f64]) -> f64;
type JacobiFn = unsafe fn(&CsrRef<'_>, &[f64], &[f64], &[f64], &mut [f64]) -> f64;
type PagerankFn = unsafe fn(&CsrRef<'_>, f64, f64, &[f64], &mut [f64]) -> f64;
type DotFn = unsafe fn(&[f64], &[f64]) -> f64;
type Nrm2Fn = unsafe fn(&[f64]) -> f64;
type AxpyFn = unsafe fn(f64, &[f64], &mut [f64]);
type XpbyFn = unsafe fn(&[f64], f64, &mut [f64]);
type AxpyDotFn = unsafe fn(f64, &[f64], &mut [f64]) -> f64;
type AxpyDotsFn = unsafe fn(f64, &[f64], &mut [f64], &[f64]) -> [f64; 2];
type AxpyJacobiDotsFn = unsafe fn(f64, &[f64], &mut [f64], &[f64], &mut [f64]) -> [f64; 2];
type Axpy2Fn = unsafe fn(f64, &[f64], f64, &[f64], &mut [f64]);
type BicgstabPFn = unsafe fn(f64, f64, &[f64], &[f64], &mut [f64]);
type AxpyXpbyFn = unsafe fn(f64, f64, &[f64], &mut [f64], &mut [f64]);

/// One instruction set's f64 solver kernels (a part of its [`Kernels`] table).
///
/// The raw functions are for hot loops that have checked their lengths once (the solvers): each works on the common prefix of its slices, a matrix
/// kernel on the rows every slice has room for and not at all when `x` is shorter than
/// `n_cols`, so a wrong length gives a wrong number, never an out-of-bounds access.
/// Calling them is sound because a `&'static Kernels` only exists for a table this CPU
/// supports. Argument order and meaning are those of the [`Kernels`] methods of the same
/// name.
pub(crate) struct SparseKernels {
    pub spmv_csr_f64: SpmvFn,
    pub spmv_dots_csr_f64: SpmvDotsFn,
    pub residual_csr_f64: ResidualFn,
    pub jacobi_csr_f64: JacobiFn,
    pub pagerank_csr_f64: PagerankFn,
    pub dot_f64: DotFn,
    pub nrm2_f64: Nrm2Fn,
    pub axpy_f64: AxpyFn,
    pub xpby_f64: XpbyFn,
    pub axpy_dot_f64: AxpyDotFn,
    pub axpy_dots_f64: AxpyDotsFn,
    pub axpy_jacobi_dots_f64: AxpyJacobiDotsFn,
    pub axpy2_f64: Axpy2Fn,
    pub bicgstab_p_f64: BicgstabPFn,
    pub axpy_xpby_f64: AxpyXpbyFn,
}

/// Checks that every slice has the length of the first.
#[inline]
fn check_lens(lens: &[usize]) -> Result<()> {
    let expected = lens.first().copied().unwrap_or(0);
    lens.iter()
        .try_for_each(|&actual| check_same_len(expected, actual))
}

/// The rows and columns a matrix kernel expects of its vectors.
#[inline]
fn check_matrix(a: &CsrRef<'_>, x_len: usize, row_lens: &[usize]) -> Result<()> {
    check_same_len(a.n_cols(), x_len)?;
    row_lens
        .iter()
        .try_for_each(|&actual| check_same_len(a.n_rows(), actual))
}

/// Square matrices only (iterations that read `x` by row and by column).
#[inline]
fn check_square(a: &CsrRef<'_>) -> Result<()> {
    if a.n_rows() == a.n_cols() {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "the matrix must be square, it is {} x {}",
            a.n_rows(),
            a.n_cols()
        )))
    }
}

impl SparseKernels {
    /// The active table's f64 kernels. wasm32 has one table per module, fixed when it is
    /// compiled, so there this names it without the whole [`Kernels`] table: a module that
    /// carries only the solver then links none of the f32 kernels (wasm/README.md).
    #[inline]
    pub(crate) fn active() -> &'static SparseKernels {
        #[cfg(target_arch = "wasm32")]
        {
            super::wasm32::SPARSE
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Kernels::active().sparse
        }
    }

    /// [`Kernels::spmv_csr_f64`], on this table.
    #[inline]
    pub fn spmv_csr_f64(&self, a: &CsrRef<'_>, x: &[f64], y: &mut [f64]) -> Result<()> {
        check_matrix(a, x.len(), &[y.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.spmv_csr_f64)(a, x, y) };
        Ok(())
    }

    /// [`Kernels::spmv_dots_csr_f64`], on this table.
    #[inline]
    pub fn spmv_dots_csr_f64(
        &self,
        a: &CsrRef<'_>,
        x: &[f64],
        w: &[f64],
        y: &mut [f64],
    ) -> Result<[f64; 2]> {
        check_matrix(a, x.len(), &[w.len(), y.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.spmv_dots_csr_f64)(a, x, w, y) })
    }

    /// [`Kernels::residual_csr_f64`], on this table.
    #[inline]
    pub fn residual_csr_f64(
        &self,
        a: &CsrRef<'_>,
        x: &[f64],
        b: &[f64],
        r: &mut [f64],
    ) -> Result<f64> {
        check_matrix(a, x.len(), &[b.len(), r.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.residual_csr_f64)(a, x, b, r) })
    }

    /// [`Kernels::jacobi_csr_f64`], on this table.
    #[inline]
    pub fn jacobi_csr_f64(
        &self,
        a: &CsrRef<'_>,
        inv_diag: &[f64],
        b: &[f64],
        x: &[f64],
        x_next: &mut [f64],
    ) -> Result<f64> {
        check_square(a)?;
        check_matrix(a, x.len(), &[inv_diag.len(), b.len(), x_next.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.jacobi_csr_f64)(a, inv_diag, b, x, x_next) })
    }

    /// [`Kernels::pagerank_csr_f64`], on this table.
    #[inline]
    pub fn pagerank_csr_f64(
        &self,
        a: &CsrRef<'_>,
        alpha: f64,
        beta: f64,
        x: &[f64],
        y: &mut [f64],
    ) -> Result<f64> {
        check_square(a)?;
        check_matrix(a, x.len(), &[y.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.pagerank_csr_f64)(a, alpha, beta, x, y) })
    }

    /// [`Kernels::dot_f64`], on this table.
    #[inline]
    pub fn dot_f64(&self, a: &[f64], b: &[f64]) -> Result<f64> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.dot_f64)(a, b) })
    }

    /// [`Kernels::nrm2_f64`], on this table.
    #[inline]
    pub fn nrm2_f64(&self, x: &[f64]) -> f64 {
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.nrm2_f64)(x) }
    }

    /// [`Kernels::axpy_f64`], on this table.
    #[inline]
    pub fn axpy_f64(&self, a: f64, x: &[f64], y: &mut [f64]) -> Result<()> {
        check_same_len(x.len(), y.len())?;
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.axpy_f64)(a, x, y) };
        Ok(())
    }

    /// [`Kernels::xpby_f64`], on this table.
    #[inline]
    pub fn xpby_f64(&self, x: &[f64], b: f64, y: &mut [f64]) -> Result<()> {
        check_same_len(x.len(), y.len())?;
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.xpby_f64)(x, b, y) };
        Ok(())
    }

    /// [`Kernels::axpy_dot_f64`], on this table.
    #[inline]
    pub fn axpy_dot_f64(&self, a: f64, x: &[f64], y: &mut [f64]) -> Result<f64> {
        check_same_len(x.len(), y.len())?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.axpy_dot_f64)(a, x, y) })
    }

    /// [`Kernels::axpy_dots_f64`], on this table.
    #[inline]
    pub fn axpy_dots_f64(&self, a: f64, x: &[f64], y: &mut [f64], w: &[f64]) -> Result<[f64; 2]> {
        check_lens(&[x.len(), y.len(), w.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.axpy_dots_f64)(a, x, y, w) })
    }

    /// [`Kernels::axpy_jacobi_dots_f64`], on this table.
    #[inline]
    pub fn axpy_jacobi_dots_f64(
        &self,
        a: f64,
        x: &[f64],
        y: &mut [f64],
        inv_diag: &[f64],
        z: &mut [f64],
    ) -> Result<[f64; 2]> {
        check_lens(&[x.len(), y.len(), inv_diag.len(), z.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        Ok(unsafe { (self.axpy_jacobi_dots_f64)(a, x, y, inv_diag, z) })
    }

    /// [`Kernels::axpy2_f64`], on this table.
    #[inline]
    pub fn axpy2_f64(&self, a: f64, x: &[f64], b: f64, y: &[f64], z: &mut [f64]) -> Result<()> {
        check_lens(&[x.len(), y.len(), z.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.axpy2_f64)(a, x, b, y, z) };
        Ok(())
    }

    /// [`Kernels::bicgstab_p_f64`], on this table.
    #[inline]
    pub fn bicgstab_p_f64(
        &self,
        beta: f64,
        omega: f64,
        r: &[f64],
        v: &[f64],
        p: &mut [f64],
    ) -> Result<()> {
        check_lens(&[r.len(), v.len(), p.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.bicgstab_p_f64)(beta, omega, r, v, p) };
        Ok(())
    }

    /// [`Kernels::axpy_xpby_f64`], on this table.
    #[inline]
    pub fn axpy_xpby_f64(
        &self,
        a: f64,
        b: f64,
        z: &[f64],
        x: &mut [f64],
        p: &mut [f64],
    ) -> Result<()> {
        check_lens(&[z.len(), x.len(), p.len()])?;
        // SAFETY: `self` belongs to a table this CPU supports.
        unsafe { (self.axpy_xpby_f64)(a, b, z, x, p) };
        Ok(())
    }
}

// The public methods: each table's f64 family, checked (see [`SparseKernels`]).
impl Kernels {
    /// `y = A x`. `x` needs `n_cols` elements, `y` `n_rows`.
    #[inline]
    pub fn spmv_csr_f64(&self, a: &CsrRef<'_>, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.sparse.spmv_csr_f64(a, x, y)
    }

    /// `y = A x`, then `[w . y, y . y]`. `x` needs `n_cols` elements, `w` and `y` `n_rows`.
    /// With `w = x` (square `A`) this is CG's `q = A p` and `p . q`.
    #[inline]
    pub fn spmv_dots_csr_f64(
        &self,
        a: &CsrRef<'_>,
        x: &[f64],
        w: &[f64],
        y: &mut [f64],
    ) -> Result<[f64; 2]> {
        self.sparse.spmv_dots_csr_f64(a, x, w, y)
    }

    /// The residual `r = b - A x`, and `r . r`. `x` needs `n_cols` elements, `b` and `r`
    /// `n_rows`.
    #[inline]
    pub fn residual_csr_f64(
        &self,
        a: &CsrRef<'_>,
        x: &[f64],
        b: &[f64],
        r: &mut [f64],
    ) -> Result<f64> {
        self.sparse.residual_csr_f64(a, x, b, r)
    }

    /// One Jacobi step for `A x = b`: `r = b - A x`, `x_next = x + inv_diag * r`
    /// (element-wise), and `r . r`, the squared residual of `x` (not of `x_next`). `A` must
    /// be square; every vector has `n` elements. Weighted Jacobi: pre-scale `inv_diag`; a
    /// Neumann series for `(I - M) x = b`: `A = I - M`, `inv_diag` all ones.
    #[inline]
    pub fn jacobi_csr_f64(
        &self,
        a: &CsrRef<'_>,
        inv_diag: &[f64],
        b: &[f64],
        x: &[f64],
        x_next: &mut [f64],
    ) -> Result<f64> {
        self.sparse.jacobi_csr_f64(a, inv_diag, b, x, x_next)
    }

    /// One PageRank power step: `y = alpha * (A x) + beta` (element-wise, `beta` added to
    /// every element), and `sum |y_i - x_i|`, the L1 change. `A` must be square (the
    /// transposed, column-normalized link matrix); `x` and `y` have `n` elements.
    #[inline]
    pub fn pagerank_csr_f64(
        &self,
        a: &CsrRef<'_>,
        alpha: f64,
        beta: f64,
        x: &[f64],
        y: &mut [f64],
    ) -> Result<f64> {
        self.sparse.pagerank_csr_f64(a, alpha, beta, x, y)
    }

    /// Inner product `sum a_i * b_i` (not scaled: it overflows to infinity like the plain
    /// sum).
    #[inline]
    pub fn dot_f64(&self, a: &[f64], b: &[f64]) -> Result<f64> {
        self.sparse.dot_f64(a, b)
    }

    /// Euclidean norm `sqrt(sum x_i^2)`, rescaled by a power of two when the plain sum of
    /// squares would overflow or underflow. NaN in any element gives NaN; otherwise an
    /// infinite element gives infinity.
    #[inline]
    pub fn nrm2_f64(&self, x: &[f64]) -> f64 {
        self.sparse.nrm2_f64(x)
    }

    /// `y = y + a x`.
    #[inline]
    pub fn axpy_f64(&self, a: f64, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.sparse.axpy_f64(a, x, y)
    }

    /// `y = x + b y`.
    #[inline]
    pub fn xpby_f64(&self, x: &[f64], b: f64, y: &mut [f64]) -> Result<()> {
        self.sparse.xpby_f64(x, b, y)
    }

    /// `y = y + a x`, then `y . y` of the new `y`.
    #[inline]
    pub fn axpy_dot_f64(&self, a: f64, x: &[f64], y: &mut [f64]) -> Result<f64> {
        self.sparse.axpy_dot_f64(a, x, y)
    }

    /// `y = y + a x`, then `[w . y, y . y]` of the new `y`.
    #[inline]
    pub fn axpy_dots_f64(&self, a: f64, x: &[f64], y: &mut [f64], w: &[f64]) -> Result<[f64; 2]> {
        self.sparse.axpy_dots_f64(a, x, y, w)
    }

    /// `y = y + a x`, `z = inv_diag * y` (element-wise: Jacobi preconditioning), then
    /// `[z . y, y . y]`.
    #[inline]
    pub fn axpy_jacobi_dots_f64(
        &self,
        a: f64,
        x: &[f64],
        y: &mut [f64],
        inv_diag: &[f64],
        z: &mut [f64],
    ) -> Result<[f64; 2]> {
        self.sparse.axpy_jacobi_dots_f64(a, x, y, inv_diag, z)
    }

    /// `z = (z + a x) + b y`.
    #[inline]
    pub fn axpy2_f64(&self, a: f64, x: &[f64], b: f64, y: &[f64], z: &mut [f64]) -> Result<()> {
        self.sparse.axpy2_f64(a, x, b, y, z)
    }

    /// BiCGSTAB's direction update `p = r + beta (p - omega v)`.
    #[inline]
    pub fn bicgstab_p_f64(
        &self,
        beta: f64,
        omega: f64,
        r: &[f64],
        v: &[f64],
        p: &mut [f64],
    ) -> Result<()> {
        self.sparse.bicgstab_p_f64(beta, omega, r, v, p)
    }

    /// `x = x + a p`, then `p = z + b p` (the `p` before the call in both): CG's update of
    /// `x` and its next search direction in one pass, the same bits as
    /// [`axpy_f64`](Self::axpy_f64) then [`xpby_f64`](Self::xpby_f64).
    #[inline]
    pub fn axpy_xpby_f64(
        &self,
        a: f64,
        b: f64,
        z: &[f64],
        x: &mut [f64],
        p: &mut [f64],
    ) -> Result<()> {
        self.sparse.axpy_xpby_f64(a, b, z, x, p)
    }
}

/// `y = A x` on the active kernel table. See [`Kernels::spmv_csr_f64`].
#[inline]
pub fn spmv_csr_f64(a: &CsrRef<'_>, x: &[f64], y: &mut [f64]) -> Result<()> {
    SparseKernels::active().spmv_csr_f64(a, x, y)
}

/// `y = A x` and `[w . y, y . y]` on the active table. See [`Kernels::spmv_dots_csr_f64`].
#[inline]
pub fn spmv_dots_csr_f64(a: &CsrRef<'_>, x: &[f64], w: &[f64], y: &mut [f64]) -> Result<[f64; 2]> {
    SparseKernels::active().spmv_dots_csr_f64(a, x, w, y)
}

/// `r = b - A x` and `r . r` on the active table. See [`Kernels::residual_csr_f64`].
#[inline]
pub fn residual_csr_f64(a: &CsrRef<'_>, x: &[f64], b: &[f64], r: &mut [f64]) -> Result<f64> {
    SparseKernels::active().residual_csr_f64(a, x, b, r)
}

/// One Jacobi step on the active table. See [`Kernels::jacobi_csr_f64`].
#[inline]
pub fn jacobi_csr_f64(
    a: &CsrRef<'_>,
    inv_diag: &[f64],
    b: &[f64],
    x: &[f64],
    x_next: &mut [f64],
) -> Result<f64> {
    SparseKernels::active().jacobi_csr_f64(a, inv_diag, b, x, x_next)
}

/// One PageRank step on the active table. See [`Kernels::pagerank_csr_f64`].
#[inline]
pub fn pagerank_csr_f64(
    a: &CsrRef<'_>,
    alpha: f64,
    beta: f64,
    x: &[f64],
    y: &mut [f64],
) -> Result<f64> {
    SparseKernels::active().pagerank_csr_f64(a, alpha, beta, x, y)
}

/// f64 inner product on the active table. See [`Kernels::dot_f64`].
#[inline]
pub fn dot_f64(a: &[f64], b: &[f64]) -> Result<f64> {
    SparseKernels::active().dot_f64(a, b)
}

/// Euclidean norm on the active table. See [`Kernels::nrm2_f64`].
#[inline]
pub fn nrm2_f64(x: &[f64]) -> f64 {
    SparseKernels::active().nrm2_f64(x)
}

/// `y = y + a x` on the active table. See [`Kernels::axpy_f64`].
#[inline]
pub fn axpy_f64(a: f64, x: &[f64], y: &mut [f64]) -> Result<()> {
    SparseKernels::active().axpy_f64(a, x, y)
}

/// `y = x + b y` on the active table. See [`Kernels::xpby_f64`].
#[inline]
pub fn xpby_f64(x: &[f64], b: f64, y: &mut [f64]) -> Result<()> {
    SparseKernels::active().xpby_f64(x, b, y)
}

/// `y = y + a x` and `y . y` on the active table. See [`Kernels::axpy_dot_f64`].
#[inline]
pub fn axpy_dot_f64(a: f64, x: &[f64], y: &mut [f64]) -> Result<f64> {
    SparseKernels::active().axpy_dot_f64(a, x, y)
}

/// `y = y + a x` and `[w . y, y . y]` on the active table. See [`Kernels::axpy_dots_f64`].
#[inline]
pub fn axpy_dots_f64(a: f64, x: &[f64], y: &mut [f64], w: &[f64]) -> Result<[f64; 2]> {
    SparseKernels::active().axpy_dots_f64(a, x, y, w)
}

/// The Jacobi-preconditioned residual update on the active table. See
/// [`Kernels::axpy_jacobi_dots_f64`].
#[inline]
pub fn axpy_jacobi_dots_f64(
    a: f64,
    x: &[f64],
    y: &mut [f64],
    inv_diag: &[f64],
    z: &mut [f64],
) -> Result<[f64; 2]> {
    SparseKernels::active().axpy_jacobi_dots_f64(a, x, y, inv_diag, z)
}

/// `z = (z + a x) + b y` on the active table. See [`Kernels::axpy2_f64`].
#[inline]
pub fn axpy2_f64(a: f64, x: &[f64], b: f64, y: &[f64], z: &mut [f64]) -> Result<()> {
    SparseKernels::active().axpy2_f64(a, x, b, y, z)
}

/// BiCGSTAB's direction update on the active table. See [`Kernels::bicgstab_p_f64`].
#[inline]
pub fn bicgstab_p_f64(beta: f64, omega: f64, r: &[f64], v: &[f64], p: &mut [f64]) -> Result<()> {
    SparseKernels::active().bicgstab_p_f64(beta, omega, r, v, p)
}

/// CG's fused `x += a p; p = z + b p` on the active table. See [`Kernels::axpy_xpby_f64`].
#[inline]
pub fn axpy_xpby_f64(a: f64, b: f64, z: &[f64], x: &mut [f64], p: &mut [f64]) -> Result<()> {
    SparseKernels::active().axpy_xpby_f64(a, b, z, x, p)
}
