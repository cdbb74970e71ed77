//! Compressed sparse row storage: the borrowed [`CsrRef`] (every analysis lives here) and
//! the owned [`CsrMatrix`].

use alloc::format;
use alloc::vec::Vec;
use core::fmt;

use super::{broken, check_shape, coo, invalid, vec_filled, vec_with_capacity, MAX_DIM, MAX_NNZ};
use crate::{kernels, Error, Result};

/// A validated CSR matrix over borrowed arrays: `indptr` (`n_rows + 1` row pointers),
/// `indices` (column of each stored entry) and `values`, as scipy's `csr_array` holds them.
///
/// Invariants, checked by [`CsrRef::new`] and kept by every method: `indptr[0] == 0`,
/// `indptr` non-decreasing, `indptr[n_rows] == indices.len() == values.len()`, every column
/// `< n_cols`, columns strictly increasing within each row, every value finite, and
/// `n_rows, n_cols <= MAX_DIM`, `nnz <= MAX_NNZ` (see the [module documentation](super)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CsrRef<'a> {
    n_rows: usize,
    n_cols: usize,
    indptr: &'a [u32],
    indices: &'a [u32],
    values: &'a [f64],
}

/// A CSR matrix that owns its arrays; the same invariants as [`CsrRef`].
///
/// The analysis methods forward to [`CsrRef`] (`matrix.view()` gives one for free).
#[derive(Clone, Debug, PartialEq)]
pub struct CsrMatrix {
    n_rows: usize,
    n_cols: usize,
    indptr: Vec<u32>,
    indices: Vec<u32>,
    values: Vec<f64>,
}

/// A diagonal entry that is zero: the first one [`CsrRef::find_zero_diagonal`] met.
///
/// Its [`fmt::Display`] names the row, for a solver's error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroDiagonal {
    /// The row (0-based).
    pub row: usize,
    /// `true` if the diagonal entry is stored with the value zero, `false` if it is not
    /// stored at all.
    pub stored: bool,
}

impl fmt::Display for ZeroDiagonal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stored {
            write!(f, "row {} has a zero diagonal entry", self.row)
        } else {
            write!(f, "row {} has no diagonal entry", self.row)
        }
    }
}

/// A row that is not strictly diagonally dominant: the first one
/// [`CsrRef::first_non_dominant_row`] met.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DominanceViolation {
    /// The row (0-based).
    pub row: usize,
    /// `|a_ii| - sum_{j != i} |a_ij|`, which is `<= 0` here (strict dominance needs `> 0`).
    pub margin: f64,
}

impl fmt::Display for DominanceViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} is not strictly diagonally dominant: |a_ii| - sum_(j != i) |a_ij| = {}",
            self.row, self.margin
        )
    }
}

/// A pair of mirror entries that differ: the first one [`CsrRef::first_asymmetry`] met.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Asymmetry {
    /// Row of the stored entry (0-based).
    pub row: usize,
    /// Its column (0-based).
    pub col: usize,
    /// `a[row][col]`.
    pub value: f64,
    /// `a[col][row]` (0.0 when not stored).
    pub mirror: f64,
}

impl fmt::Display for Asymmetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the matrix is not symmetric: a[{}][{}] = {} but a[{}][{}] = {}",
            self.row, self.col, self.value, self.col, self.row, self.mirror
        )
    }
}

/// Whether validation requires sorted, duplicate-free columns within each row.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Columns {
    Canonical,
    AnyOrder,
}

/// Checks CSR arrays against every invariant of [`CsrRef`] (with [`Columns::AnyOrder`], all
/// but the column order; with `values: None`, all but those about values), naming the first
/// violation.
pub(super) fn validate(
    n_rows: usize,
    n_cols: usize,
    indptr: &[u32],
    indices: &[u32],
    values: Option<&[f64]>,
    columns: Columns,
) -> Result<()> {
    check_shape(n_rows, n_cols)?;
    // n_rows <= MAX_DIM, so this cannot overflow.
    if indptr.len() != n_rows + 1 {
        return Err(Error::DimensionMismatch {
            expected: n_rows + 1,
            actual: indptr.len(),
        });
    }
    if let Some(values) = values {
        if values.len() != indices.len() {
            return Err(Error::DimensionMismatch {
                expected: indices.len(),
                actual: values.len(),
            });
        }
    }
    let nnz = indices.len();
    if nnz > MAX_NNZ {
        return Err(invalid(format!(
            "{nnz} stored entries exceed the limit of {MAX_NNZ} (MAX_NNZ)"
        )));
    }
    match indptr.first() {
        Some(0) => {}
        Some(p) => {
            return Err(invalid(format!(
                "the first row pointer indptr[0] is {p}, expected 0"
            )))
        }
        None => return Err(broken("empty row pointers")),
    }
    for (i, w) in indptr.windows(2).enumerate() {
        if let [s, e] = *w {
            if e < s {
                return Err(invalid(format!(
                    "row pointers decrease at row {i}: indptr[{i}] = {s} > indptr[{}] = {e}",
                    i + 1
                )));
            }
        }
    }
    let last = indptr.last().copied().unwrap_or(0) as usize;
    if last != nnz {
        return Err(invalid(format!(
            "the last row pointer indptr[{n_rows}] = {last} does not match the {nnz} stored \
             entries (column indices and values)"
        )));
    }
    for (i, w) in indptr.windows(2).enumerate() {
        let (s, e) = match *w {
            [s, e] => (s as usize, e as usize),
            _ => return Err(broken("row pointer window")),
        };
        let cols = indices.get(s..e).ok_or_else(|| broken("row span"))?;
        let vals = match values {
            Some(v) => Some(v.get(s..e).ok_or_else(|| broken("row span"))?),
            None => None,
        };
        let mut prev: Option<u32> = None;
        for (k, &c) in cols.iter().enumerate() {
            let entry = s + k;
            if c as usize >= n_cols {
                return Err(invalid(format!(
                    "row {i}, entry {entry}: column {c} is out of range for {n_cols} columns"
                )));
            }
            if let (Columns::Canonical, Some(p)) = (columns, prev) {
                if c == p {
                    return Err(invalid(format!(
                        "row {i}: column {c} is stored twice (entries {} and {entry}); \
                         CsrMatrix::from_csr_unsorted sums duplicates",
                        entry - 1
                    )));
                }
                if c < p {
                    return Err(invalid(format!(
                        "row {i}: columns are not sorted (entry {entry}: column {c} after \
                         column {p}); CsrMatrix::from_csr_unsorted sorts them"
                    )));
                }
            }
            if let Some(v) = vals.and_then(|vals| vals.get(k)) {
                if !v.is_finite() {
                    return Err(invalid(format!(
                        "row {i}, column {c} (entry {entry}): value {v} is not finite"
                    )));
                }
            }
            prev = Some(c);
        }
    }
    Ok(())
}

/// The `(row, column, value)` of every entry of validated CSR arrays, row by row; every
/// value 1.0 when `values` is `None`.
pub(super) fn csr_entries<'a>(
    indptr: &'a [u32],
    indices: &'a [u32],
    values: Option<&'a [f64]>,
) -> impl Iterator<Item = (u32, u32, f64)> + Clone + 'a {
    indptr.windows(2).enumerate().flat_map(move |(i, w)| {
        let (s, e) = match *w {
            [s, e] => (s as usize, e as usize),
            _ => (0, 0),
        };
        let cols = indices.get(s..e).unwrap_or(&[]);
        let vals = values.and_then(|v| v.get(s..e));
        cols.iter().enumerate().map(move |(k, &c)| {
            let v = vals.map_or(1.0, |v| v.get(k).copied().unwrap_or(1.0));
            // i < n_rows <= MAX_DIM.
            (i as u32, c, v)
        })
    })
}

impl<'a> CsrRef<'a> {
    /// Validates caller arrays as a CSR matrix of `n_rows x n_cols`, without copying.
    ///
    /// Columns within each row must be strictly increasing (sorted, no duplicates);
    /// [`CsrMatrix::from_csr_unsorted`] takes any order. Errors:
    /// [`Error::DimensionMismatch`] if `indptr` is not `n_rows + 1` long or `values` not as
    /// long as `indices`; [`Error::InvalidArgument`] naming the row and the position in
    /// `indices` of the first bad entry (row pointers not starting at 0, decreasing, or not
    /// ending at `indices.len()`, a column out of range, out of order or repeated, a value
    /// that is NaN or infinite), or a size beyond [`MAX_DIM`] / [`MAX_NNZ`].
    pub fn new(
        n_rows: usize,
        n_cols: usize,
        indptr: &'a [u32],
        indices: &'a [u32],
        values: &'a [f64],
    ) -> Result<CsrRef<'a>> {
        validate(
            n_rows,
            n_cols,
            indptr,
            indices,
            Some(values),
            Columns::Canonical,
        )?;
        Ok(CsrRef {
            n_rows,
            n_cols,
            indptr,
            indices,
            values,
        })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries (explicit zeros included).
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Whether `n_rows == n_cols`.
    pub fn is_square(&self) -> bool {
        self.n_rows == self.n_cols
    }

    /// The row pointers: row `i` is entries `indptr[i]..indptr[i + 1]`.
    pub fn indptr(&self) -> &'a [u32] {
        self.indptr
    }

    /// The column of every stored entry, row by row.
    pub fn indices(&self) -> &'a [u32] {
        self.indices
    }

    /// The value of every stored entry, row by row.
    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    /// Row `i`'s stored columns (increasing) and values; `None` if `i >= n_rows`.
    pub fn row(&self, i: usize) -> Option<(&'a [u32], &'a [f64])> {
        let s = *self.indptr.get(i)? as usize;
        let e = *self.indptr.get(i.checked_add(1)?)? as usize;
        Some((self.indices.get(s..e)?, self.values.get(s..e)?))
    }

    /// Every row's `(columns, values)`, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = (&'a [u32], &'a [f64])> + 'a {
        let (indices, values) = (self.indices, self.values);
        self.indptr.windows(2).map(move |w| {
            let (s, e) = match *w {
                [s, e] => (s as usize, e as usize),
                _ => (0, 0),
            };
            (
                indices.get(s..e).unwrap_or(&[]),
                values.get(s..e).unwrap_or(&[]),
            )
        })
    }

    /// Number of entries stored in row `i` (for a graph's adjacency: the out-degree);
    /// `None` if `i >= n_rows`.
    pub fn row_nnz(&self, i: usize) -> Option<usize> {
        self.row(i).map(|(cols, _)| cols.len())
    }

    /// `a[i][j]`: the stored value, 0.0 if the entry is not stored, `None` if `(i, j)` is
    /// outside the matrix. A binary search in row `i`.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        if j >= self.n_cols {
            return None;
        }
        let (cols, vals) = self.row(i)?;
        // j < n_cols <= MAX_DIM, so it fits in u32.
        Some(match cols.binary_search(&(j as u32)) {
            Ok(k) => vals.get(k).copied().unwrap_or(0.0),
            Err(_) => 0.0,
        })
    }

    /// The main diagonal, `min(n_rows, n_cols)` values, 0.0 where no entry is stored.
    pub fn diagonal(&self) -> Result<Vec<f64>> {
        let n = self.n_rows.min(self.n_cols);
        let mut d = vec_with_capacity(n, "the diagonal")?;
        d.extend((0..n).map(|i| self.get(i, i).unwrap_or(0.0)));
        Ok(d)
    }

    /// The first row `i < min(n_rows, n_cols)` whose diagonal entry is missing or a stored
    /// zero (Jacobi divides by it), or `None` if every diagonal entry is non-zero.
    pub fn find_zero_diagonal(&self) -> Option<ZeroDiagonal> {
        let n = self.n_rows.min(self.n_cols);
        for i in 0..n {
            let Some((cols, vals)) = self.row(i) else {
                return Some(ZeroDiagonal {
                    row: i,
                    stored: false,
                });
            };
            match cols.binary_search(&(i as u32)) {
                Ok(k) if vals.get(k).is_some_and(|v| *v != 0.0) => {}
                Ok(_) => {
                    return Some(ZeroDiagonal {
                        row: i,
                        stored: true,
                    })
                }
                Err(_) => {
                    return Some(ZeroDiagonal {
                        row: i,
                        stored: false,
                    })
                }
            }
        }
        None
    }

    /// The sum of each row's values (for a graph's adjacency: the weighted out-degrees).
    /// May overflow to infinity for huge values.
    pub fn row_sums(&self) -> Result<Vec<f64>> {
        let mut s = vec_with_capacity(self.n_rows, "the row sums")?;
        s.extend(self.rows().map(|(_, vals)| vals.iter().sum::<f64>()));
        Ok(s)
    }

    /// The same matrix as the kernels' [`kernels::CsrRef`], for the f64 kernels of
    /// [`crate::kernels`] (SpMV and its fused forms), in `O(1)`: no second validation.
    ///
    /// The two types differ in what they promise, not in layout: a [`kernels::CsrRef`]
    /// needs only well-formed arrays (row pointers from 0, non-decreasing, ending at `nnz`;
    /// columns below `n_cols`) and accepts any column order, repeats and non-finite values;
    /// this type adds the canonical column order, finite values and the size limits. Every
    /// [`CsrRef`] therefore satisfies the kernels' invariants, which is what lets this skip
    /// their `O(n_rows + nnz)` check.
    pub fn kernel_view(&self) -> kernels::CsrRef<'a> {
        // SAFETY: `kernels::CsrRef` requires `row_ptr` non-empty, starting at 0, never
        // decreasing and ending at `col_idx.len() == values.len()`, and every column index
        // below `n_cols`. Every `CsrRef` holds a superset of those invariants (the type's
        // docs): `CsrRef::new` validates them; `CsrMatrix::view` borrows a `CsrMatrix`,
        // which is built only by `validate`-checked constructors or by
        // `from_parts_unchecked` from arrays built to satisfy them (validated again there in
        // debug builds); `drop_zeros`, the one method that changes a matrix, keeps them;
        // nothing hands the arrays out mutably. `indptr.len() == n_rows + 1`, so the view
        // has the same rows.
        unsafe {
            kernels::CsrRef::new_unchecked(self.n_cols, self.indptr, self.indices, self.values)
        }
    }

    /// `y = A x`. [`Error::DimensionMismatch`] unless `x.len() == n_cols` and
    /// `y.len() == n_rows`.
    ///
    /// Runs [`kernels::spmv_csr_f64`] on the active kernel table: each row's products are
    /// added in the kernels' fixed order (see [`crate::kernels::sparse`]), which gives the
    /// same bits on every instruction set and backend.
    pub fn mul_vec(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        if x.len() != self.n_cols {
            return Err(Error::DimensionMismatch {
                expected: self.n_cols,
                actual: x.len(),
            });
        }
        if y.len() != self.n_rows {
            return Err(Error::DimensionMismatch {
                expected: self.n_rows,
                actual: y.len(),
            });
        }
        kernels::spmv_csr_f64(&self.kernel_view(), x, y)
    }

    /// `y = A^T x` without forming the transpose (a scatter over the rows).
    /// [`Error::DimensionMismatch`] unless `x.len() == n_rows` and `y.len() == n_cols`.
    pub fn mul_vec_transpose(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        if x.len() != self.n_rows {
            return Err(Error::DimensionMismatch {
                expected: self.n_rows,
                actual: x.len(),
            });
        }
        if y.len() != self.n_cols {
            return Err(Error::DimensionMismatch {
                expected: self.n_cols,
                actual: y.len(),
            });
        }
        y.fill(0.0);
        for ((cols, vals), &xi) in self.rows().zip(x) {
            for (&c, &v) in cols.iter().zip(vals) {
                if let Some(yc) = y.get_mut(c as usize) {
                    *yc += v * xi;
                }
            }
        }
        Ok(())
    }

    /// `A^T` as a new matrix (`n_cols x n_rows`; a graph's in-adjacency), in O(nnz + n_cols)
    /// time; explicit zeros stay. Its rows come out sorted because the scatter visits the
    /// rows of `A` in order.
    pub fn transpose(&self) -> Result<CsrMatrix> {
        let nnz = self.nnz();
        let mut indptr: Vec<u32> = vec_filled(0, self.n_cols + 1, "the transpose")?;
        for &c in self.indices {
            let slot = indptr
                .get_mut(c as usize + 1)
                .ok_or_else(|| broken("transpose: column out of range"))?;
            *slot += 1;
        }
        // Counts to start offsets; the total is nnz <= MAX_NNZ, so u32 cannot overflow.
        let mut acc = 0u32;
        for p in indptr.iter_mut() {
            acc += *p;
            *p = acc;
        }
        let mut next: Vec<u32> = vec_with_capacity(self.n_cols, "the transpose")?;
        next.extend_from_slice(indptr.get(..self.n_cols).unwrap_or(&[]));
        let mut indices: Vec<u32> = vec_filled(0, nnz, "the transpose")?;
        let mut values: Vec<f64> = vec_filled(0.0, nnz, "the transpose")?;
        for (i, (cols, vals)) in self.rows().enumerate() {
            for (&c, &v) in cols.iter().zip(vals) {
                let slot = next
                    .get_mut(c as usize)
                    .ok_or_else(|| broken("transpose: column out of range"))?;
                let k = *slot as usize;
                *slot += 1;
                match (indices.get_mut(k), values.get_mut(k)) {
                    (Some(ik), Some(vk)) => {
                        // i < n_rows <= MAX_DIM.
                        *ik = i as u32;
                        *vk = v;
                    }
                    _ => return Err(broken("transpose: position out of range")),
                }
            }
        }
        Ok(CsrMatrix::from_parts_unchecked(
            self.n_cols,
            self.n_rows,
            indptr,
            indices,
            values,
        ))
    }

    /// The first row that is not strictly diagonally dominant, with its margin
    /// `|a_ii| - sum_{j != i} |a_ij|` (`<= 0`), or `None` if every row has a positive margin
    /// (then Jacobi and Gauss-Seidel converge for any right-hand side).
    ///
    /// Rows of a rectangular matrix without a diagonal entry (`i >= n_cols`) have
    /// `a_ii = 0`. An empty row has margin 0 and is reported.
    pub fn first_non_dominant_row(&self) -> Option<DominanceViolation> {
        for (i, (cols, vals)) in self.rows().enumerate() {
            let mut diag = 0.0f64;
            let mut off = 0.0f64;
            for (&c, &v) in cols.iter().zip(vals) {
                if c as usize == i {
                    diag = v.abs();
                } else {
                    off += v.abs();
                }
            }
            // Finite values: diag is finite and off >= 0 (maybe +inf), so never NaN.
            let margin = diag - off;
            if margin <= 0.0 {
                return Some(DominanceViolation { row: i, margin });
            }
        }
        None
    }

    /// The first stored entry (in row order) whose mirror differs:
    /// `|a_ij - a_ji| > rel_tol * max(|a_ij|, |a_ji|)`, a missing entry counting as 0.0;
    /// `Ok(None)` if the matrix is symmetric. `rel_tol = 0.0` asks for exact symmetry.
    ///
    /// Values are compared, not structure: a stored zero mirrors a missing entry. No
    /// allocation (a binary search per off-diagonal entry). [`Error::DimensionMismatch`] if
    /// the matrix is not square; [`Error::InvalidArgument`] unless `rel_tol` is finite and
    /// `>= 0`.
    pub fn first_asymmetry(&self, rel_tol: f64) -> Result<Option<Asymmetry>> {
        if !self.is_square() {
            return Err(Error::DimensionMismatch {
                expected: self.n_rows,
                actual: self.n_cols,
            });
        }
        if !(rel_tol.is_finite() && rel_tol >= 0.0) {
            return Err(invalid(format!(
                "rel_tol must be finite and >= 0, got {rel_tol}"
            )));
        }
        for (i, (cols, vals)) in self.rows().enumerate() {
            for (&c, &v) in cols.iter().zip(vals) {
                let j = c as usize;
                if j == i {
                    continue;
                }
                let m = self.get(j, i).unwrap_or(0.0);
                if (v - m).abs() > rel_tol * v.abs().max(m.abs()) {
                    return Ok(Some(Asymmetry {
                        row: i,
                        col: j,
                        value: v,
                        mirror: m,
                    }));
                }
            }
        }
        Ok(None)
    }

    /// An owned copy.
    pub fn to_matrix(&self) -> Result<CsrMatrix> {
        let mut indptr = vec_with_capacity(self.indptr.len(), "a copy of the matrix")?;
        indptr.extend_from_slice(self.indptr);
        let mut indices = vec_with_capacity(self.indices.len(), "a copy of the matrix")?;
        indices.extend_from_slice(self.indices);
        let mut values = vec_with_capacity(self.values.len(), "a copy of the matrix")?;
        values.extend_from_slice(self.values);
        Ok(CsrMatrix {
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            indptr,
            indices,
            values,
        })
    }
}

/// Forwards `CsrMatrix` methods to its [`CsrRef`] view, so both types have one
/// implementation.
macro_rules! forward_to_view {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                self.view().$name($($arg),*)
            }
        )*
    };
}

impl CsrMatrix {
    /// Takes ownership of CSR arrays after validating them exactly as [`CsrRef::new`] does
    /// (no copy; columns within each row strictly increasing).
    pub fn from_csr(
        n_rows: usize,
        n_cols: usize,
        indptr: Vec<u32>,
        indices: Vec<u32>,
        values: Vec<f64>,
    ) -> Result<CsrMatrix> {
        validate(
            n_rows,
            n_cols,
            &indptr,
            &indices,
            Some(&values),
            Columns::Canonical,
        )?;
        Ok(CsrMatrix {
            n_rows,
            n_cols,
            indptr,
            indices,
            values,
        })
    }

    /// Copies CSR arrays whose columns within a row may be in any order and repeated:
    /// each row is sorted by column and repeated columns are summed, in their order in the
    /// input (scipy's `sum_duplicates`). Everything else is validated as in
    /// [`CsrRef::new`]; a sum that overflows to infinity is an error naming its row and
    /// column. Explicit zeros (also sums that cancel) are kept.
    pub fn from_csr_unsorted(
        n_rows: usize,
        n_cols: usize,
        indptr: &[u32],
        indices: &[u32],
        values: &[f64],
    ) -> Result<CsrMatrix> {
        validate(
            n_rows,
            n_cols,
            indptr,
            indices,
            Some(values),
            Columns::AnyOrder,
        )?;
        coo::assemble(
            n_rows,
            n_cols,
            indices.len(),
            csr_entries(indptr, indices, Some(values)),
        )
    }

    /// Builds a matrix from COO triplets `(rows[k], cols[k], values[k])` in any order;
    /// entries at the same position are summed in their order in the input, explicit zeros
    /// (also sums that cancel) are kept. [`Error::DimensionMismatch`] if the three arrays
    /// differ in length; [`Error::InvalidArgument`] naming the triplet if a row or column
    /// is out of range or a value is not finite, or naming the position if duplicates sum
    /// to infinity.
    ///
    /// Memory: at the peak `4 (n_rows + 1) + 28 t` bytes for `t` triplets, the result
    /// included (a 16-byte sort buffer per triplet, freed before returning).
    pub fn from_triplets(
        n_rows: usize,
        n_cols: usize,
        rows: &[u32],
        cols: &[u32],
        values: &[f64],
    ) -> Result<CsrMatrix> {
        coo::from_triplets(n_rows, n_cols, rows, cols, values)
    }

    /// The `n_rows x n_cols` matrix with no stored entries.
    pub fn zeros(n_rows: usize, n_cols: usize) -> Result<CsrMatrix> {
        check_shape(n_rows, n_cols)?;
        Ok(CsrMatrix::from_parts_unchecked(
            n_rows,
            n_cols,
            vec_filled(0, n_rows + 1, "the matrix")?,
            Vec::new(),
            Vec::new(),
        ))
    }

    /// The `n x n` identity.
    pub fn identity(n: usize) -> Result<CsrMatrix> {
        check_shape(n, n)?;
        let mut indptr = vec_with_capacity(n + 1, "the matrix")?;
        // n <= MAX_DIM < u32::MAX.
        indptr.extend((0..=n).map(|i| i as u32));
        let mut indices = vec_with_capacity(n, "the matrix")?;
        indices.extend((0..n).map(|i| i as u32));
        Ok(CsrMatrix::from_parts_unchecked(
            n,
            n,
            indptr,
            indices,
            vec_filled(1.0, n, "the matrix")?,
        ))
    }

    /// Assembles a matrix from arrays the caller built to satisfy every invariant (the COO
    /// assembly, the transpose, `zeros`, `identity`): every matrix not checked by
    /// `validate` comes through here, where debug builds check it. The kernels read a
    /// matrix's arrays without bounds checks ([`CsrRef::kernel_view`]), so a bug that broke
    /// an invariant would be memory-unsafe, not only wrong.
    pub(super) fn from_parts_unchecked(
        n_rows: usize,
        n_cols: usize,
        indptr: Vec<u32>,
        indices: Vec<u32>,
        values: Vec<f64>,
    ) -> CsrMatrix {
        debug_assert!(validate(
            n_rows,
            n_cols,
            &indptr,
            &indices,
            Some(&values),
            Columns::Canonical
        )
        .is_ok());
        CsrMatrix {
            n_rows,
            n_cols,
            indptr,
            indices,
            values,
        }
    }

    /// A borrowed view (no copy, no validation: the invariants already hold).
    pub fn view(&self) -> CsrRef<'_> {
        CsrRef {
            n_rows: self.n_rows,
            n_cols: self.n_cols,
            indptr: &self.indptr,
            indices: &self.indices,
            values: &self.values,
        }
    }

    /// The arrays `(indptr, indices, values)`, e.g. to hand them to a caller.
    pub fn into_arrays(self) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
        (self.indptr, self.indices, self.values)
    }

    /// Removes stored zeros (scipy's `eliminate_zeros`), in place, without allocating.
    pub fn drop_zeros(&mut self) {
        let mut kept = 0usize;
        let mut read = 0usize;
        for r in 0..self.n_rows {
            let end = self
                .indptr
                .get(r + 1)
                .map_or(read, |&e| e as usize)
                .max(read);
            while read < end {
                if let (Some(&c), Some(&v)) = (self.indices.get(read), self.values.get(read)) {
                    if v != 0.0 {
                        if let (Some(ck), Some(vk)) =
                            (self.indices.get_mut(kept), self.values.get_mut(kept))
                        {
                            *ck = c;
                            *vk = v;
                        }
                        kept += 1;
                    }
                }
                read += 1;
            }
            if let Some(p) = self.indptr.get_mut(r + 1) {
                // kept <= nnz <= MAX_NNZ.
                *p = kept as u32;
            }
        }
        self.indices.truncate(kept);
        self.values.truncate(kept);
    }

    forward_to_view! {
        /// Number of rows.
        fn n_rows(&self) -> usize;
        /// Number of columns.
        fn n_cols(&self) -> usize;
        /// Number of stored entries (explicit zeros included).
        fn nnz(&self) -> usize;
        /// Whether `n_rows == n_cols`.
        fn is_square(&self) -> bool;
        /// The row pointers: row `i` is entries `indptr[i]..indptr[i + 1]`.
        fn indptr(&self) -> &[u32];
        /// The column of every stored entry, row by row.
        fn indices(&self) -> &[u32];
        /// The value of every stored entry, row by row.
        fn values(&self) -> &[f64];
        /// See [`CsrRef::row`].
        fn row(&self, i: usize) -> Option<(&[u32], &[f64])>;
        /// See [`CsrRef::row_nnz`].
        fn row_nnz(&self, i: usize) -> Option<usize>;
        /// See [`CsrRef::get`].
        fn get(&self, i: usize, j: usize) -> Option<f64>;
        /// See [`CsrRef::diagonal`].
        fn diagonal(&self) -> Result<Vec<f64>>;
        /// See [`CsrRef::find_zero_diagonal`].
        fn find_zero_diagonal(&self) -> Option<ZeroDiagonal>;
        /// See [`CsrRef::row_sums`].
        fn row_sums(&self) -> Result<Vec<f64>>;
        /// See [`CsrRef::kernel_view`].
        fn kernel_view(&self) -> kernels::CsrRef<'_>;
        /// See [`CsrRef::mul_vec`].
        fn mul_vec(&self, x: &[f64], y: &mut [f64]) -> Result<()>;
        /// See [`CsrRef::mul_vec_transpose`].
        fn mul_vec_transpose(&self, x: &[f64], y: &mut [f64]) -> Result<()>;
        /// See [`CsrRef::transpose`].
        fn transpose(&self) -> Result<CsrMatrix>;
        /// See [`CsrRef::first_non_dominant_row`].
        fn first_non_dominant_row(&self) -> Option<DominanceViolation>;
        /// See [`CsrRef::first_asymmetry`].
        fn first_asymmetry(&self, rel_tol: f64) -> Result<Option<Asymmetry>>;
    }

    /// Every row's `(columns, values)`, in order (see [`CsrRef::rows`]).
    pub fn rows(&self) -> impl ExactSizeIterator<Item = (&[u32], &[f64])> + '_ {
        self.view().rows()
    }
}

// A compile-time reminder of why MAX_DIM rows fit the `u32` row pointers and indices.
const _: () = assert!(MAX_DIM < u32::MAX as usize);
const _: () = assert!(MAX_NNZ < u32::MAX as usize);
