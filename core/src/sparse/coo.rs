//! COO triplets to CSR: the incremental [`CooMatrix`] builder and the assembly every
//! unsorted input goes through (triplet arrays, unsorted CSR, Matrix Market, edge lists).

use alloc::format;
use alloc::vec::Vec;

use super::{broken, check_shape, invalid, oom, vec_filled, vec_with_capacity, CsrMatrix, MAX_NNZ};
use crate::{Error, Result};

/// A sparse matrix under construction, as a list of `(row, column, value)` triplets in any
/// order, with repeats allowed; [`CooMatrix::to_csr`] sorts them and sums repeats.
///
/// ```
/// use ferrovec_core::sparse::CooMatrix;
/// let mut coo = CooMatrix::new(2, 3)?;
/// coo.push(1, 2, 5.0)?;
/// coo.push(0, 0, 1.0)?;
/// coo.push(1, 2, -2.0)?; // summed with the first (1, 2)
/// let a = coo.to_csr()?;
/// assert_eq!(a.get(1, 2), Some(3.0));
/// assert_eq!(a.nnz(), 2);
/// # Ok::<(), ferrovec_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CooMatrix {
    n_rows: usize,
    n_cols: usize,
    rows: Vec<u32>,
    cols: Vec<u32>,
    values: Vec<f64>,
}

impl CooMatrix {
    /// An empty `n_rows x n_cols` builder. [`Error::InvalidArgument`] beyond
    /// [`super::MAX_DIM`].
    pub fn new(n_rows: usize, n_cols: usize) -> Result<CooMatrix> {
        check_shape(n_rows, n_cols)?;
        Ok(CooMatrix {
            n_rows,
            n_cols,
            ..CooMatrix::default()
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

    /// Number of triplets pushed (repeats counted).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no triplet was pushed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Reserves room for `additional` more triplets (16 bytes each);
    /// [`Error::OutOfMemory`] if that is not possible.
    pub fn try_reserve(&mut self, additional: usize) -> Result<()> {
        let fail = |_| oom("the triplets");
        self.rows.try_reserve(additional).map_err(fail)?;
        self.cols.try_reserve(additional).map_err(fail)?;
        self.values.try_reserve(additional).map_err(fail)?;
        Ok(())
    }

    /// Adds `value` at `(row, col)`. [`Error::InvalidArgument`] (and nothing added) if the
    /// position is outside the matrix, the value is NaN or infinite, or [`MAX_NNZ`]
    /// triplets are already held; [`Error::OutOfMemory`] if the list cannot grow.
    pub fn push(&mut self, row: usize, col: usize, value: f64) -> Result<()> {
        if row >= self.n_rows || col >= self.n_cols {
            return Err(invalid(format!(
                "entry ({row}, {col}) is outside the {} x {} matrix",
                self.n_rows, self.n_cols
            )));
        }
        if !value.is_finite() {
            return Err(invalid(format!(
                "entry ({row}, {col}): value {value} is not finite"
            )));
        }
        if self.len() >= MAX_NNZ {
            return Err(invalid(format!("more than {MAX_NNZ} triplets (MAX_NNZ)")));
        }
        self.try_reserve(1)?;
        // row < n_rows <= MAX_DIM and col likewise, so both fit in u32.
        self.rows.push(row as u32);
        self.cols.push(col as u32);
        self.values.push(value);
        Ok(())
    }

    /// The CSR matrix: columns sorted within each row, repeats summed in the order they
    /// were pushed, explicit zeros kept. [`Error::InvalidArgument`] if repeats sum to
    /// infinity.
    pub fn to_csr(&self) -> Result<CsrMatrix> {
        let entries = self
            .rows
            .iter()
            .zip(&self.cols)
            .zip(&self.values)
            .map(|((&r, &c), &v)| (r, c, v));
        assemble(self.n_rows, self.n_cols, self.len(), entries)
    }
}

/// Validates triplet arrays and assembles them (see [`CsrMatrix::from_triplets`]).
pub(super) fn from_triplets(
    n_rows: usize,
    n_cols: usize,
    rows: &[u32],
    cols: &[u32],
    values: &[f64],
) -> Result<CsrMatrix> {
    check_shape(n_rows, n_cols)?;
    if cols.len() != rows.len() {
        return Err(Error::DimensionMismatch {
            expected: rows.len(),
            actual: cols.len(),
        });
    }
    if values.len() != rows.len() {
        return Err(Error::DimensionMismatch {
            expected: rows.len(),
            actual: values.len(),
        });
    }
    if rows.len() > MAX_NNZ {
        return Err(invalid(format!(
            "{} triplets exceed the limit of {MAX_NNZ} (MAX_NNZ)",
            rows.len()
        )));
    }
    for (k, ((&r, &c), &v)) in rows.iter().zip(cols).zip(values).enumerate() {
        if r as usize >= n_rows {
            return Err(invalid(format!(
                "triplet {k}: row {r} is out of range for {n_rows} rows"
            )));
        }
        if c as usize >= n_cols {
            return Err(invalid(format!(
                "triplet {k}: column {c} is out of range for {n_cols} columns"
            )));
        }
        if !v.is_finite() {
            return Err(invalid(format!(
                "triplet {k} ({r}, {c}): value {v} is not finite"
            )));
        }
    }
    let entries = rows
        .iter()
        .zip(cols)
        .zip(values)
        .map(|((&r, &c), &v)| (r, c, v));
    assemble(n_rows, n_cols, rows.len(), entries)
}

/// One triplet while it is sorted within its row; `seq` (its position in the input) makes
/// the unstable sort stable, so repeats are summed in input order (deterministic bits).
#[derive(Clone, Copy)]
struct Entry {
    col: u32,
    seq: u32,
    value: f64,
}

/// Builds CSR from `t` triplets that are in range and finite (the caller checked):
/// a counting sort by row, then a sort by column within each row, then repeats summed.
///
/// `entries` is walked twice (count, then place), so it must yield the same `t` items each
/// time. No comparison sort allocates: the per-row sort is in place.
pub(super) fn assemble<I>(n_rows: usize, n_cols: usize, t: usize, entries: I) -> Result<CsrMatrix>
where
    I: Iterator<Item = (u32, u32, f64)> + Clone,
{
    check_shape(n_rows, n_cols)?;
    if t > MAX_NNZ {
        return Err(invalid(format!(
            "{t} entries exceed the limit of {MAX_NNZ} (MAX_NNZ)"
        )));
    }
    // ptr[r + 1] counts row r, then (prefix sums) ptr[r] is where bucket r starts.
    let mut ptr: Vec<u32> = vec_filled(0, n_rows + 1, "the row pointers")?;
    let mut counted = 0usize;
    for (r, _, _) in entries.clone() {
        let slot = ptr
            .get_mut(r as usize + 1)
            .ok_or_else(|| broken("assemble: row out of range"))?;
        *slot += 1;
        counted += 1;
    }
    if counted != t {
        return Err(broken("assemble: entry count changed"));
    }
    let mut acc = 0u32;
    for p in ptr.iter_mut() {
        // The total is t <= MAX_NNZ < u32::MAX.
        acc += *p;
        *p = acc;
    }
    let empty = Entry {
        col: 0,
        seq: 0,
        value: 0.0,
    };
    let mut buf: Vec<Entry> = vec_filled(empty, t, "the triplets being sorted")?;
    for (seq, (r, c, v)) in entries.enumerate() {
        let slot = ptr
            .get_mut(r as usize)
            .ok_or_else(|| broken("assemble: row out of range"))?;
        let k = *slot as usize;
        *slot += 1;
        *buf.get_mut(k)
            .ok_or_else(|| broken("assemble: bucket overflow"))? = Entry {
            col: c,
            // seq < t <= MAX_NNZ.
            seq: seq as u32,
            value: v,
        };
    }
    // Each ptr[r] now holds the end of bucket r, i.e. the start of bucket r + 1.
    ptr.copy_within(0..n_rows, 1);
    if let Some(first) = ptr.first_mut() {
        *first = 0;
    }

    let mut indices: Vec<u32> = vec_with_capacity(t, "the matrix")?;
    let mut values: Vec<f64> = vec_with_capacity(t, "the matrix")?;
    let mut begin = 0usize;
    for r in 0..n_rows {
        let end = *ptr
            .get(r + 1)
            .ok_or_else(|| broken("assemble: row pointer"))? as usize;
        let bucket = buf
            .get_mut(begin..end)
            .ok_or_else(|| broken("assemble: bucket"))?;
        bucket.sort_unstable_by_key(|e| (e.col, e.seq));
        let row_start = indices.len();
        for e in bucket.iter() {
            let repeat = indices.len() > row_start && indices.last() == Some(&e.col);
            match values.last_mut() {
                Some(sum) if repeat => {
                    *sum += e.value;
                    if !sum.is_finite() {
                        return Err(invalid(format!(
                            "row {r}, column {}: the repeated entries sum to {sum}, which is \
                             not finite",
                            e.col
                        )));
                    }
                }
                _ => {
                    indices.push(e.col);
                    values.push(e.value);
                }
            }
        }
        // ptr[r + 1] (the start of bucket r + 1) was read into `end` above; it becomes the
        // end of row r in the output, which is <= it.
        *ptr.get_mut(r + 1)
            .ok_or_else(|| broken("assemble: row pointer"))? = indices.len() as u32;
        begin = end;
    }
    drop(buf);
    if indices.len() < t {
        indices.shrink_to_fit();
        values.shrink_to_fit();
    }
    Ok(CsrMatrix::from_parts_unchecked(
        n_rows, n_cols, ptr, indices, values,
    ))
}
