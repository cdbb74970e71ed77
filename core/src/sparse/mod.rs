//! Sparse matrices and graphs: the storage layer of the sparse solver engines (iterative
//! solvers, local push and random walks, PageRank).
//!
//! ```
//! use ferrovec_core::sparse::CsrMatrix;
//! // [[4, 1, 0],
//! //  [1, 3, 0],
//! //  [0, 0, 2]] from triplets in any order; the two (0, 0) entries are summed.
//! let a = CsrMatrix::from_triplets(3, 3, &[2, 0, 1, 1, 0, 0], &[2, 1, 0, 1, 0, 0],
//!                                  &[2.0, 1.0, 1.0, 3.0, 3.0, 1.0])?;
//! assert_eq!(a.nnz(), 5);
//! assert_eq!(a.row(0), Some((&[0u32, 1][..], &[4.0, 1.0][..])));
//! let mut y = [0.0; 3];
//! a.mul_vec(&[1.0, 1.0, 1.0], &mut y)?;
//! assert_eq!(y, [5.0, 4.0, 2.0]);
//! assert!(a.first_non_dominant_row().is_none()); // strictly diagonally dominant
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
//!
//! # Storage: CSR with `u32` row pointers and column indices, `f64` values
//!
//! * [`CsrMatrix`] owns its three arrays; [`CsrRef`] borrows them from the caller (a
//!   Python `scipy.sparse.csr_array`, C arrays, the wasm module's linear memory) and
//!   validates them without copying. Every analysis method lives on [`CsrRef`];
//!   [`CsrMatrix`] forwards them, and [`CsrMatrix::view`] is free.
//! * **Row pointers are `u32`, like the column indices.** The wasm ABI is 32-bit, so its
//!   arrays are `u32` whatever the core uses; with `u32` here the same bytes are the matrix
//!   on every surface (copied into linear memory as is, borrowed from C without widening),
//!   and the row pointers take half the memory of `u64`. The price is a limit on stored
//!   entries, which is far beyond what an on-device engine holds anyway (see the next point).
//! * **Limits: rows, columns and stored entries are each at most [`MAX_DIM`] / [`MAX_NNZ`]
//!   = 2^31 - 1**, the largest non-negative `i32`. So every valid matrix's arrays are also
//!   valid `int32` arrays (scipy's default index dtype, Java's and Kotlin's `int`), and an
//!   `int32` array can be viewed as `u32` without a copy: a negative `int32` reads as a `u32`
//!   of at least 2^31, which is never a valid index or row pointer and is refused. (A scipy
//!   matrix with `int64` indices, or `float32` data, needs one conversion in the binding.)
//!   2^31 entries would be 24 GiB of arrays.
//! * **Canonical form.** Column indices within a row are strictly increasing (sorted, no
//!   duplicates), as scipy's `has_canonical_format`: binary search finds an entry (the
//!   diagonal, a mirror entry), a transpose comes out sorted, and each entry has one value.
//!   [`CsrRef::new`] and [`CsrMatrix::from_csr`] *require* it (they cannot reorder borrowed or
//!   handed-over arrays without a copy) and name the first offending row and entry;
//!   [`CsrMatrix::from_csr_unsorted`] and [`CsrMatrix::from_triplets`] accept any order and
//!   sort, summing duplicates.
//! * **Values are finite.** NaN and infinity are refused by every constructor (naming the
//!   entry), and sums of duplicates that overflow to infinity too.
//! * **Explicit zeros are kept**, as scipy keeps them: a stored 0.0 (given, or duplicates
//!   summing to zero) stays an entry, so `nnz` and the arrays round-trip with Python and
//!   Matrix Market files keep their structure. [`CsrMatrix::drop_zeros`] removes them
//!   (scipy's `eliminate_zeros`). Analyses treat a stored zero as the value zero: a stored
//!   zero on the diagonal is reported by [`CsrRef::find_zero_diagonal`] like a missing one.
//! * **Rectangular** matrices are allowed; methods that need a square matrix say so, and
//!   solvers check squareness themselves.
//! * Memory: `4 (n_rows + 1) + 12 nnz` bytes. Constructors check every count they are given
//!   against the data it came with before allocating from it, and allocate with
//!   `try_reserve`, so a request too large for the machine is [`crate::Error::OutOfMemory`],
//!   not an abort.
//!
//! # Errors
//!
//! Nothing here panics on any input. Arrays of the wrong length are
//! [`crate::Error::DimensionMismatch`]; bad content (a row pointer that decreases, a column
//! out of range, unsorted or duplicate columns, a non-finite value, a negative edge weight)
//! is [`crate::Error::InvalidArgument`] with a message naming the row and the position in
//! the array; an unparsable Matrix Market file is [`crate::Error::CorruptFile`] naming the
//! line.
//!
//! # Modules
//!
//! * [`CooMatrix`]: an incremental triplet builder.
//! * [`matrix_market`]: reading and writing Matrix Market coordinate files.
//! * [`Graph`]: a directed, weighted graph for PageRank and push algorithms, from an edge
//!   list, CSR adjacency arrays (weighted or not) or a [`CsrMatrix`]: out- and in-adjacency,
//!   weighted out-degrees, dangling nodes.

mod coo;
mod csr;
mod graph;
pub mod matrix_market;

#[cfg(test)]
mod tests;

pub use coo::CooMatrix;
pub use csr::{Asymmetry, CsrMatrix, CsrRef, DominanceViolation, ZeroDiagonal};
pub use graph::Graph;

use alloc::format;
use alloc::vec::Vec;

use crate::{Error, Result};

/// The most rows or columns a matrix (or nodes a graph) may have: 2^31 - 1, so that every
/// index is a non-negative `i32` as well as a `u32` (see the module documentation).
pub const MAX_DIM: usize = i32::MAX as usize;

/// The most stored entries a matrix (or edges a graph) may have: 2^31 - 1, so that every row
/// pointer is a non-negative `i32` as well as a `u32`.
pub const MAX_NNZ: usize = i32::MAX as usize;

fn invalid(msg: alloc::string::String) -> Error {
    Error::InvalidArgument(msg)
}

fn oom(what: &str) -> Error {
    Error::OutOfMemory(format!("could not allocate {what}"))
}

/// An invariant that validation established did not hold: a bug here, reported instead of
/// panicking (the wasm build aborts on a panic).
fn broken(what: &str) -> Error {
    Error::Internal(format!("sparse: {what}"))
}

/// Rows and columns within [`MAX_DIM`].
fn check_shape(n_rows: usize, n_cols: usize) -> Result<()> {
    if n_rows > MAX_DIM {
        return Err(invalid(format!(
            "{n_rows} rows exceed the limit of {MAX_DIM} (MAX_DIM)"
        )));
    }
    if n_cols > MAX_DIM {
        return Err(invalid(format!(
            "{n_cols} columns exceed the limit of {MAX_DIM} (MAX_DIM)"
        )));
    }
    Ok(())
}

/// An empty vector with room for `n` items, or [`Error::OutOfMemory`].
fn vec_with_capacity<T>(n: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| oom(what))?;
    Ok(v)
}

/// `n` copies of `value`, or [`Error::OutOfMemory`].
fn vec_filled<T: Clone>(value: T, n: usize, what: &str) -> Result<Vec<T>> {
    let mut v = vec_with_capacity(n, what)?;
    v.resize(n, value);
    Ok(v)
}
