//! C entry points for the sparse solver engine ([`crate::solver`]): an opaque
//! `fv_sparse_matrix*` (solve `A x = b` by CG, BiCGSTAB or Jacobi; estimate one coordinate of
//! `x` locally) and an opaque `fv_graph*` (PageRank: global, forward push, backward push,
//! one pair), on the backend of the engine each was created from.
//!
//! Handles and ownership are the index's (see `fv_index`): create / free, a NULL free is a
//! no-op, a freed handle passed back in is `FV_ERR_INVALID_HANDLE`. Solutions go into caller
//! buffers, reports into caller-owned plain structs; nothing is written unless the call
//! returns `FV_OK`.

use std::ffi::c_char;

use ferrovec_core::Error;

use super::engine::{engine_ref, fv_engine};
use super::{c_slice, c_slice_mut, check_out, guard_status, path_arg, Handles};
use crate::solver::{
    BackwardPushOptions, Graph, JacobiReport, LocalSolve, LocalSolveOptions, PageRankOptions,
    PairEstimate, PairOptions, Personalization, Preconditioner, PushOptions, PushReport,
    PushResult, Rhs, SolveOptions, SolveReport, SparseMatrix, Stop, Symmetry,
};

// ------------------------------------------------------------------------------ codes

/// Why a method stopped: its stopping criterion was met.
pub const FV_STOP_CONVERGED: i32 = 0;
/// Why a method stopped: the iteration budget ran out (not an error: the best estimate is
/// returned with `converged` false).
pub const FV_STOP_MAX_ITERATIONS: i32 = 1;
/// Why a method stopped: the work budget (pushes, walk steps) ran out.
pub const FV_STOP_MAX_WORK: i32 = 2;
/// Why a method stopped: it could not continue (a Krylov breakdown, or a tolerance below
/// what `double` resolves); the answer is the last iterate.
pub const FV_STOP_BREAKDOWN: i32 = 3;
/// Why a method stopped: a reason added to the library after this header was generated.
pub const FV_STOP_OTHER: i32 = 99;

/// Preconditioner of CG and BiCGSTAB: none (scipy's `M = None`).
pub const FV_PRECONDITIONER_NONE: i32 = 0;
/// Preconditioner of CG and BiCGSTAB: Jacobi, `M = D^-1` (needs a non-zero diagonal,
/// positive for CG).
pub const FV_PRECONDITIONER_JACOBI: i32 = 1;

/// Matrix Market symmetry: every stored entry is written.
pub const FV_SYMMETRY_GENERAL: i32 = 0;
/// Matrix Market symmetry: the lower triangle is written; the matrix must be exactly
/// symmetric.
pub const FV_SYMMETRY_SYMMETRIC: i32 = 1;
/// Matrix Market symmetry: the strict lower triangle is written; `a_ji = -a_ij` exactly and a
/// zero diagonal are required.
pub const FV_SYMMETRY_SKEW_SYMMETRIC: i32 = 2;

/// `fv_rhs.kind`: `b` is dense, `values[0..len]` with `len` = the matrix's rows.
pub const FV_RHS_DENSE: i32 = 0;
/// `fv_rhs.kind`: `b` is sparse, `b[indices[i]] = values[i]` for `i < len` (any order, each
/// index once), zero elsewhere.
pub const FV_RHS_SPARSE: i32 = 1;

/// `fv_distribution.kind`: the method's default (a personalization or start vector:
/// uniform; a dangling distribution: the personalization). A zeroed struct is this.
pub const FV_DIST_DEFAULT: i32 = 0;
/// `fv_distribution.kind`: every node weight 1.
pub const FV_DIST_UNIFORM: i32 = 1;
/// `fv_distribution.kind`: all weight on `node` (a single source).
pub const FV_DIST_NODE: i32 = 2;
/// `fv_distribution.kind`: `weights[0..len]`, one per node (`len` = the graph's nodes).
pub const FV_DIST_DENSE: i32 = 3;
/// `fv_distribution.kind`: weight `weights[i]` on node `nodes[i]` for `i < len` (each node
/// once), 0 elsewhere (networkx's personalization dict).
pub const FV_DIST_SPARSE: i32 = 4;

fn stop_code(stop: Stop) -> i32 {
    match stop {
        Stop::Converged => FV_STOP_CONVERGED,
        Stop::MaxIterations => FV_STOP_MAX_ITERATIONS,
        Stop::MaxWork => FV_STOP_MAX_WORK,
        Stop::Breakdown => FV_STOP_BREAKDOWN,
        _ => FV_STOP_OTHER,
    }
}

fn symmetry(code: i32) -> Result<Symmetry, Error> {
    match code {
        FV_SYMMETRY_GENERAL => Ok(Symmetry::General),
        FV_SYMMETRY_SYMMETRIC => Ok(Symmetry::Symmetric),
        FV_SYMMETRY_SKEW_SYMMETRIC => Ok(Symmetry::SkewSymmetric),
        other => Err(Error::InvalidArgument(format!(
            "unknown symmetry {other} (expected FV_SYMMETRY_GENERAL, FV_SYMMETRY_SYMMETRIC or \
             FV_SYMMETRY_SKEW_SYMMETRIC)"
        ))),
    }
}

// ------------------------------------------------------------------------------ handles

/// A sparse matrix (CSR, `double` values, `uint32_t` column indices). Create with
/// `fv_sparse_matrix_from_csr` / `_from_csr_unsorted` / `_from_triplets` /
/// `_from_matrix_market` / `_read_matrix_market`, destroy with `fv_sparse_matrix_free`.
///
/// Immutable once created, so thread-safe: every function may run on many threads at once
/// on the same matrix; only `fv_sparse_matrix_free` must not race with any other call on it.
///
/// Ownership, for every `fv_sparse_matrix_*` function: the `fv_sparse_matrix*` argument is
/// borrowed for the call only (the caller owns it until `fv_sparse_matrix_free`); input
/// arrays and option structs (and the arrays they point to) are borrowed for the call only,
/// never written or kept (the matrix copies what it needs); output arrays and report structs
/// are caller-owned memory written only when the call returns `FV_OK`, and must not overlap
/// the inputs or each other (`FV_ERR_INVALID_ARGUMENT`). The matrix does not keep its engine:
/// either may be freed first.
#[allow(non_camel_case_types)]
pub struct fv_sparse_matrix {
    matrix: SparseMatrix,
}

/// A directed, optionally weighted graph for PageRank, with networkx's semantics (`alpha` is
/// the probability of following an edge; a dangling node's mass goes to the
/// personalization). Create with `fv_graph_from_edges` / `fv_graph_from_csr`, destroy with
/// `fv_graph_free`.
///
/// Thread-safety and ownership as `fv_sparse_matrix` (immutable; only `fv_graph_free` must
/// not race; inputs borrowed for the call, outputs written on success only).
#[allow(non_camel_case_types)]
pub struct fv_graph {
    graph: Graph,
}

static MATRICES: Handles = Handles::new();
static GRAPHS: Handles = Handles::new();

/// # Safety
/// `m` NULL, a live matrix, or a freed one (detected).
unsafe fn matrix_ref<'a>(m: *const fv_sparse_matrix) -> Result<&'a SparseMatrix, Error> {
    // SAFETY: forwarded from this function's contract.
    Ok(unsafe { &MATRICES.get(m, "matrix")?.matrix })
}

/// # Safety
/// `g` NULL, a live graph, or a freed one (detected).
unsafe fn graph_ref<'a>(g: *const fv_graph) -> Result<&'a Graph, Error> {
    // SAFETY: forwarded from this function's contract.
    Ok(unsafe { &GRAPHS.get(g, "graph")?.graph })
}

// ------------------------------------------------------------------------------ buffers

/// The byte ranges of a call's buffers, checked before any slice is made of them (an output
/// slice overlapping another slice would be undefined behaviour): outputs must overlap
/// nothing, inputs may overlap each other (they are only read). NULL and empty buffers are
/// skipped (`c_slice` reports a NULL one); sizes that overflow are clamped (`c_slice`
/// reports them).
#[derive(Default)]
struct Regions {
    list: Vec<(&'static str, usize, usize, bool)>,
}

impl Regions {
    fn add<T>(&mut self, name: &'static str, ptr: *const T, n: usize, output: bool) -> &mut Self {
        let start = ptr as usize;
        let bytes = n.saturating_mul(std::mem::size_of::<T>());
        if start != 0 && bytes != 0 {
            self.list
                .push((name, start, start.saturating_add(bytes), output));
        }
        self
    }
    fn input<T>(&mut self, name: &'static str, ptr: *const T, n: usize) -> &mut Self {
        self.add(name, ptr, n, false)
    }
    fn output<T>(&mut self, name: &'static str, ptr: *mut T, n: usize) -> &mut Self {
        self.add(name, ptr.cast_const(), n, true)
    }
    fn check(&self) -> Result<(), Error> {
        for (i, a) in self.list.iter().enumerate() {
            for b in &self.list[i + 1..] {
                if (a.3 || b.3) && a.1 < b.2 && b.1 < a.2 {
                    return Err(Error::InvalidArgument(format!(
                        "`{}` overlaps `{}`",
                        a.0, b.0
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Borrows a caller's output struct as a one-element slice (checked non-null and aligned).
///
/// # Safety
/// `ptr` NULL or pointing to one writable `T`.
unsafe fn out_one<'a, T>(ptr: *mut T, arg: &'static str) -> Result<&'a mut [T], Error> {
    check_out(ptr, arg)?;
    // SAFETY: forwarded from this function's contract.
    unsafe { c_slice_mut(ptr, 1, arg) }
}

fn mismatch(expected: usize, actual: usize) -> Error {
    Error::DimensionMismatch { expected, actual }
}

// ------------------------------------------------------------------------------ matrices

/// Creates a matrix from CSR arrays in canonical form (columns strictly increasing within
/// each row, as scipy's `has_canonical_format`): row `r` holds `indices[indptr[r] ..
/// indptr[r + 1]]` and their `values`. The arrays are copied.
///
/// Validated: `n_indptr == n_rows + 1` (`FV_ERR_DIMENSION_MISMATCH`), `indptr[0] == 0`,
/// monotone, `indptr[n_rows] == nnz`, columns `< n_cols` and strictly increasing within a row,
/// values finite (`FV_ERR_INVALID_ARGUMENT` naming the row and entry); `*out` is untouched
/// on failure.
///
/// @param indptr  `n_indptr` row pointers; borrowed for this call only.
/// @param indices `nnz` column indices; borrowed for this call only.
/// @param values  `nnz` values; borrowed for this call only.
/// @param out     receives a new matrix owned by the caller: free it with
///                `fv_sparse_matrix_free`.
///
/// # Safety
/// `engine` NULL or live; each array NULL or pointing to its stated number of elements;
/// `out` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_sparse_matrix_from_csr(
    engine: *const fv_engine,
    n_rows: usize,
    n_cols: usize,
    indptr: *const u32,
    n_indptr: usize,
    indices: *const u32,
    values: *const f64,
    nnz: usize,
    out: *mut *mut fv_sparse_matrix,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, indptr, indices, values) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(indptr, n_indptr, "indptr")?,
                c_slice(indices, nnz, "indices")?,
                c_slice(values, nnz, "values")?,
            )
        };
        check_out(out, "out")?;
        check_indptr(n_rows, n_indptr)?;
        let matrix = SparseMatrix::from_csr(engine, n_rows, n_cols, indptr, indices, values)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { MATRICES.publish(fv_sparse_matrix { matrix }, out) };
        Ok(())
    })
}

fn check_indptr(n_rows: usize, n_indptr: usize) -> Result<(), Error> {
    let expected = n_rows
        .checked_add(1)
        .ok_or_else(|| Error::InvalidArgument("n_rows + 1 overflows".into()))?;
    if n_indptr != expected {
        return Err(mismatch(expected, n_indptr));
    }
    Ok(())
}

/// `fv_sparse_matrix_from_csr` for CSR arrays whose columns may come in any order within a
/// row; duplicates are summed.
///
/// # Safety
/// As `fv_sparse_matrix_from_csr`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_sparse_matrix_from_csr_unsorted(
    engine: *const fv_engine,
    n_rows: usize,
    n_cols: usize,
    indptr: *const u32,
    n_indptr: usize,
    indices: *const u32,
    values: *const f64,
    nnz: usize,
    out: *mut *mut fv_sparse_matrix,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, indptr, indices, values) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(indptr, n_indptr, "indptr")?,
                c_slice(indices, nnz, "indices")?,
                c_slice(values, nnz, "values")?,
            )
        };
        check_out(out, "out")?;
        check_indptr(n_rows, n_indptr)?;
        let matrix =
            SparseMatrix::from_csr_unsorted(engine, n_rows, n_cols, indptr, indices, values)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { MATRICES.publish(fv_sparse_matrix { matrix }, out) };
        Ok(())
    })
}

/// Creates a matrix from `nnz` triplets `(rows[i], cols[i], values[i])` in any order,
/// duplicates summed. Rows `< n_rows`, columns `< n_cols`, values finite (and sums of
/// duplicates finite), else `FV_ERR_INVALID_ARGUMENT` naming the entry; `*out` untouched.
///
/// @param rows   `nnz` row indices; borrowed for this call only.
/// @param cols   `nnz` column indices; borrowed for this call only.
/// @param values `nnz` values; borrowed for this call only.
/// @param out    receives a new matrix owned by the caller (`fv_sparse_matrix_free`).
///
/// # Safety
/// `engine` NULL or live; each array NULL or pointing to `nnz` elements; `out` NULL or
/// writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_sparse_matrix_from_triplets(
    engine: *const fv_engine,
    n_rows: usize,
    n_cols: usize,
    rows: *const u32,
    cols: *const u32,
    values: *const f64,
    nnz: usize,
    out: *mut *mut fv_sparse_matrix,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, rows, cols, values) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(rows, nnz, "rows")?,
                c_slice(cols, nnz, "cols")?,
                c_slice(values, nnz, "values")?,
            )
        };
        check_out(out, "out")?;
        let matrix = SparseMatrix::from_triplets(engine, n_rows, n_cols, rows, cols, values)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { MATRICES.publish(fv_sparse_matrix { matrix }, out) };
        Ok(())
    })
}

/// Creates a matrix from the text of a Matrix Market `coordinate` file (`real`, `integer`
/// or `pattern`; `general`, `symmetric` or `skew-symmetric`; symmetric files are expanded).
/// `FV_ERR_CORRUPT_FILE` names the offending line; `*out` untouched.
///
/// @param text `len` bytes (no NUL needed); borrowed for this call only.
/// @param out  receives a new matrix owned by the caller (`fv_sparse_matrix_free`).
///
/// # Safety
/// `engine` NULL or live; `text` NULL or pointing to `len` bytes; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_from_matrix_market(
    engine: *const fv_engine,
    text: *const u8,
    len: usize,
    out: *mut *mut fv_sparse_matrix,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, text) = unsafe { (engine_ref(engine)?, c_slice(text, len, "text")?) };
        check_out(out, "out")?;
        let matrix = SparseMatrix::from_matrix_market(engine, text)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { MATRICES.publish(fv_sparse_matrix { matrix }, out) };
        Ok(())
    })
}

/// Reads a Matrix Market file (as `fv_sparse_matrix_from_matrix_market`; an unreadable
/// file is `FV_ERR_INVALID_ARGUMENT` with the OS error in the message).
///
/// @param path borrowed for this call only (UTF-8, NUL-terminated).
/// @param out  receives a new matrix owned by the caller (`fv_sparse_matrix_free`).
///
/// # Safety
/// `engine` NULL or live; `path` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_read_matrix_market(
    engine: *const fv_engine,
    path: *const c_char,
    out: *mut *mut fv_sparse_matrix,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, path) = unsafe { (engine_ref(engine)?, path_arg(path)?) };
        check_out(out, "out")?;
        let matrix = SparseMatrix::read_matrix_market(engine, path)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { MATRICES.publish(fv_sparse_matrix { matrix }, out) };
        Ok(())
    })
}

/// Destroys a matrix. NULL does nothing and returns `FV_OK`; a pointer that is not a live
/// matrix (e.g. freed already) returns `FV_ERR_INVALID_HANDLE` and frees nothing.
///
/// @param matrix owned by the caller until this call; invalid afterwards.
///
/// # Safety
/// `matrix` NULL or a pointer from this library; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_free(matrix: *mut fv_sparse_matrix) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { MATRICES.free(matrix) }
}

/// Writes the matrix's rows, columns and stored entries (explicit zeros included).
///
/// @param out_rows, out_cols, out_nnz caller-owned; written on success only.
///
/// # Safety
/// `matrix` NULL or live; the outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_shape(
    matrix: *const fv_sparse_matrix,
    out_rows: *mut usize,
    out_cols: *mut usize,
    out_nnz: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { matrix_ref(matrix)? };
        check_out(out_rows, "out_rows")?;
        check_out(out_cols, "out_cols")?;
        check_out(out_nnz, "out_nnz")?;
        // SAFETY: each checked non-null and aligned; writable by the contract.
        unsafe {
            out_rows.write(m.n_rows());
            out_cols.write(m.n_cols());
            out_nnz.write(m.nnz());
        }
        Ok(())
    })
}

/// Copies the matrix out in canonical CSR form: `indptr` (`n_indptr` = rows + 1),
/// `indices` and `values` (`nnz` each, the count from `fv_sparse_matrix_shape`); other
/// lengths are `FV_ERR_DIMENSION_MISMATCH`.
///
/// @param indptr, indices, values caller-owned; written on success only.
///
/// # Safety
/// `matrix` NULL or live; each array NULL or pointing to its stated number of writable
/// elements, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_to_csr(
    matrix: *const fv_sparse_matrix,
    indptr: *mut u32,
    n_indptr: usize,
    indices: *mut u32,
    values: *mut f64,
    nnz: usize,
) -> i32 {
    guard_status(|| {
        Regions::default()
            .output("indptr", indptr, n_indptr)
            .output("indices", indices, nnz)
            .output("values", values, nnz)
            .check()?;
        // SAFETY: forwarded from this function's contract; disjoint (checked above).
        let (m, indptr, indices, values) = unsafe {
            (
                matrix_ref(matrix)?,
                c_slice_mut(indptr, n_indptr, "indptr")?,
                c_slice_mut(indices, nnz, "indices")?,
                c_slice_mut(values, nnz, "values")?,
            )
        };
        check_indptr(m.n_rows(), n_indptr)?;
        if nnz != m.nnz() {
            return Err(mismatch(m.nnz(), nnz));
        }
        let csr = m.to_csr()?;
        let view = csr.view();
        indptr.copy_from_slice(view.indptr());
        indices.copy_from_slice(view.indices());
        values.copy_from_slice(view.values());
        Ok(())
    })
}

/// The matrix as Matrix Market text (`real`; `symmetry` one of `FV_SYMMETRY_*`: a matrix
/// that does not have it is `FV_ERR_INVALID_ARGUMENT` naming the first entry that breaks it).
///
/// @param out_bytes receives a buffer owned by the caller (not NUL-terminated): free it with
///                  `fv_bytes_free(*out_bytes, *out_len)`.
/// @param out_len   receives its length.
///
/// # Safety
/// `matrix` NULL or live; the outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_to_matrix_market(
    matrix: *const fv_sparse_matrix,
    symmetry: i32,
    out_bytes: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let m = unsafe { matrix_ref(matrix)? };
        check_out(out_bytes, "out_bytes")?;
        check_out(out_len, "out_len")?;
        let text = m.to_matrix_market(self::symmetry(symmetry)?)?;
        let bytes = text.into_bytes().into_boxed_slice();
        let len = bytes.len();
        let ptr = Box::into_raw(bytes).cast::<u8>();
        // SAFETY: both checked non-null and aligned; writable by the contract.
        unsafe {
            out_bytes.write(ptr);
            out_len.write(len);
        }
        Ok(())
    })
}

/// Writes the matrix as a Matrix Market file at `path`, atomically (a temporary file in the
/// same directory, renamed over `path`). Errors as `fv_sparse_matrix_to_matrix_market`, plus
/// `FV_ERR_INVALID_ARGUMENT` with the OS error for I/O failures.
///
/// @param path borrowed for this call only (UTF-8, NUL-terminated).
///
/// # Safety
/// `matrix` NULL or live; `path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_write_matrix_market(
    matrix: *const fv_sparse_matrix,
    path: *const c_char,
    symmetry: i32,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (m, path) = unsafe { (matrix_ref(matrix)?, path_arg(path)?) };
        m.write_matrix_market(path, self::symmetry(symmetry)?)
    })
}

/// `y = A x`: `x` has `n_x` = columns values (finite or not: IEEE arithmetic), `y` room for
/// `n_y` = rows. Other lengths are `FV_ERR_DIMENSION_MISMATCH`; `y` must not overlap `x`.
///
/// @param x borrowed for this call only.
/// @param y caller-owned; written on success only.
///
/// # Safety
/// `matrix` NULL or live; `x` and `y` NULL or pointing to `n_x` / `n_y` elements.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_mul_vec(
    matrix: *const fv_sparse_matrix,
    x: *const f64,
    n_x: usize,
    y: *mut f64,
    n_y: usize,
) -> i32 {
    guard_status(|| {
        Regions::default()
            .input("x", x, n_x)
            .output("y", y, n_y)
            .check()?;
        // SAFETY: forwarded from this function's contract; disjoint (checked above).
        let (m, x, y) = unsafe {
            (
                matrix_ref(matrix)?,
                c_slice(x, n_x, "x")?,
                c_slice_mut(y, n_y, "y")?,
            )
        };
        m.mul_vec_into(x, y)
    })
}

/// Options of `fv_sparse_matrix_cg`, `_bicgstab` and `_jacobi`. Start from
/// `fv_solve_options_default()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_solve_options {
    /// Relative tolerance on the true `||b - A x|| / ||b||`, in `(0, 1)`. Default `1e-5`
    /// (scipy's).
    pub rtol: f64,
    /// Iteration budget; negative (the default): scipy's `10 n`. 0 only evaluates the initial
    /// guess.
    pub max_iterations: i64,
    /// Initial guess, `n_x0` = n finite values, borrowed for the call; NULL (default): zero.
    pub x0: *const f64,
    /// Length of `x0` (ignored when `x0` is NULL).
    pub n_x0: usize,
    /// `FV_PRECONDITIONER_*` (CG and BiCGSTAB; Jacobi ignores it). Default none.
    pub preconditioner: i32,
    /// CG only: before iterating, check that `A` is symmetric with this relative tolerance
    /// (`1e-10` is a good value); negative (the default): no check. NaN is an error.
    pub symmetry_tolerance: f64,
}

impl Default for fv_solve_options {
    fn default() -> Self {
        let d = SolveOptions::new();
        fv_solve_options {
            rtol: d.rtol,
            max_iterations: -1,
            x0: std::ptr::null(),
            n_x0: 0,
            preconditioner: FV_PRECONDITIONER_NONE,
            symmetry_tolerance: -1.0,
        }
    }
}

/// The default solve options: rtol `1e-5`, a budget of `10 n`, `x0 = 0`, no preconditioner,
/// no symmetry check.
#[no_mangle]
pub extern "C" fn fv_solve_options_default() -> fv_solve_options {
    fv_solve_options::default()
}

impl fv_solve_options {
    /// # Safety
    /// `x0` NULL or pointing to `n_x0` doubles for `'a`.
    unsafe fn to_options<'a>(self) -> Result<SolveOptions<'a>, Error> {
        let mut o = SolveOptions::new().rtol(self.rtol);
        if self.max_iterations >= 0 {
            let n = usize::try_from(self.max_iterations).map_err(|_| {
                Error::InvalidArgument(format!(
                    "max_iterations {} is too large",
                    self.max_iterations
                ))
            })?;
            o = o.max_iterations(n);
        }
        if !self.x0.is_null() {
            // SAFETY: forwarded from this function's contract.
            o = o.x0(unsafe { c_slice(self.x0, self.n_x0, "x0")? });
        }
        o = o.preconditioner(match self.preconditioner {
            FV_PRECONDITIONER_NONE => Preconditioner::None,
            FV_PRECONDITIONER_JACOBI => Preconditioner::Jacobi,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown preconditioner {other} (expected FV_PRECONDITIONER_NONE or \
                     FV_PRECONDITIONER_JACOBI)"
                )))
            }
        });
        // NaN is kept (not `< 0`), so the solver refuses it.
        let t = self.symmetry_tolerance;
        Ok(o.symmetry_tolerance(if t < 0.0 { None } else { Some(t) }))
    }
}

/// What CG, BiCGSTAB (and, inside `fv_jacobi_report`, Jacobi) report with their `x`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_solve_report {
    /// Iterations performed.
    pub iterations: usize,
    /// `||b - A x|| / ||b||` recomputed from the returned `x` (not the recurrence's estimate);
    /// 0 for `b = 0`.
    pub relative_residual: f64,
    /// Whether `relative_residual <= rtol`.
    pub converged: bool,
    /// `FV_STOP_*`: why the method stopped.
    pub stop: i32,
}

impl From<SolveReport> for fv_solve_report {
    fn from(r: SolveReport) -> Self {
        fv_solve_report {
            iterations: r.iterations,
            relative_residual: r.relative_residual,
            converged: r.converged,
            stop: stop_code(r.stop),
        }
    }
}

/// What `fv_sparse_matrix_jacobi` reports: the common report, the contraction factor and an
/// error bound.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_jacobi_report {
    /// Iterations, true residual, converged, why it stopped.
    pub solve: fv_solve_report,
    /// `q = max_i sum_{j != i} |a_ij| / |a_ii|`, in `[0, 1)` for a strictly diagonally
    /// dominant matrix: every step contracts the max-norm error by `q`.
    pub contraction: f64,
    /// `||x* - x||_inf <= error_bound` for the returned `x` (infinite if `q` rounds to 1).
    pub error_bound: f64,
}

impl From<JacobiReport> for fv_jacobi_report {
    fn from(r: JacobiReport) -> Self {
        fv_jacobi_report {
            solve: r.solve.into(),
            contraction: r.contraction,
            error_bound: r.error_bound,
        }
    }
}

/// Which solver `solve` runs.
#[derive(Clone, Copy)]
enum Krylov {
    Cg,
    BiCgStab,
}

/// Shared body of the solvers: checks every argument, solves, then writes `x` and `report`.
///
/// # Safety
/// As the public solver functions' contracts.
#[allow(clippy::too_many_arguments)]
unsafe fn solve<R: Copy>(
    matrix: *const fv_sparse_matrix,
    b: *const f64,
    n_b: usize,
    options: *const fv_solve_options,
    x: *mut f64,
    n_x: usize,
    report: *mut R,
    run: impl FnOnce(&SparseMatrix, &[f64], &SolveOptions<'_>) -> Result<(Vec<f64>, R), Error>,
) -> i32 {
    guard_status(|| {
        // SAFETY: NULL or valid, by the caller's contract.
        let c_options = unsafe { options.as_ref() }.copied().unwrap_or_default();
        Regions::default()
            .input("b", b, n_b)
            .input("options.x0", c_options.x0, c_options.n_x0)
            .output("x", x, n_x)
            .output("report", report, 1)
            .check()?;
        // SAFETY: forwarded from the caller's contract; outputs disjoint (checked above).
        let (m, b, x, report) = unsafe {
            (
                matrix_ref(matrix)?,
                c_slice(b, n_b, "b")?,
                c_slice_mut(x, n_x, "x")?,
                out_one(report, "report")?,
            )
        };
        // SAFETY: `x0` as the caller's contract says.
        let options = unsafe { c_options.to_options()? };
        if n_x != m.n_cols() {
            return Err(mismatch(m.n_cols(), n_x));
        }
        let (solution, r) = run(m, b, &options)?;
        x.copy_from_slice(&solution);
        report[0] = r;
        Ok(())
    })
}

/// Shared body of CG and BiCGSTAB.
///
/// # Safety
/// As the public solver functions' contracts.
#[allow(clippy::too_many_arguments)]
unsafe fn solve_krylov(
    method: Krylov,
    matrix: *const fv_sparse_matrix,
    b: *const f64,
    n_b: usize,
    options: *const fv_solve_options,
    x: *mut f64,
    n_x: usize,
    report: *mut fv_solve_report,
) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        solve(matrix, b, n_b, options, x, n_x, report, |m, b, o| {
            let s = match method {
                Krylov::Cg => m.cg(b, o)?,
                Krylov::BiCgStab => m.bicgstab(b, o)?,
            };
            Ok((s.x, s.report.into()))
        })
    }
}

/// Solves `A x = b` by the conjugate gradient method (symmetric positive definite `A`;
/// scipy's `cg` recurrences and stopping rule). `b` has `n_b` = rows values, `x` room for
/// `n_x` = columns; `options` NULL means the defaults.
///
/// A budget that runs out is not an error: `x` gets the last iterate and the report says
/// `converged = false`, `stop = FV_STOP_MAX_ITERATIONS` with the true residual reached.
/// Errors (nothing written): `FV_ERR_DIMENSION_MISMATCH` (non-square `A`, wrong `n_b`, `n_x`
/// or `n_x0`), `FV_ERR_INVALID_ARGUMENT` (NaN or infinite `b` / `x0`, rtol outside (0, 1), an
/// empty system, unknown preconditioner, overlapping buffers, loss of positive definiteness,
/// a failed symmetry check naming the entry), `FV_ERR_NULL_POINTER`.
///
/// @param b       borrowed for this call only.
/// @param options borrowed for this call only (with the `x0` it points to); NULL: defaults.
/// @param x       caller-owned room for the solution; written on success only.
/// @param report  caller-owned; written on success only.
///
/// # Safety
/// `matrix` NULL or live; `b`, `x` (and `options->x0`) NULL or pointing to their stated
/// lengths; `options` and `report` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_cg(
    matrix: *const fv_sparse_matrix,
    b: *const f64,
    n_b: usize,
    options: *const fv_solve_options,
    x: *mut f64,
    n_x: usize,
    report: *mut fv_solve_report,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { solve_krylov(Krylov::Cg, matrix, b, n_b, options, x, n_x, report) }
}

/// Solves `A x = b` by BiCGSTAB (general nonsymmetric `A`). Arguments, results and errors as
/// `fv_sparse_matrix_cg` (a Krylov breakdown ends with `stop = FV_STOP_BREAKDOWN` and the
/// last iterate, not an error).
///
/// # Safety
/// As `fv_sparse_matrix_cg`.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_bicgstab(
    matrix: *const fv_sparse_matrix,
    b: *const f64,
    n_b: usize,
    options: *const fv_solve_options,
    x: *mut f64,
    n_x: usize,
    report: *mut fv_solve_report,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { solve_krylov(Krylov::BiCgStab, matrix, b, n_b, options, x, n_x, report) }
}

/// Solves `A x = b` by the Jacobi iteration (the Neumann series of `D^-1 A`) for strictly
/// diagonally dominant `A`, with an a-posteriori max-norm error bound. The precondition is
/// checked: a row that is not strictly dominant is `FV_ERR_INVALID_ARGUMENT` naming the
/// first such row and its margin (a zero diagonal too). Otherwise as `fv_sparse_matrix_cg`.
///
/// # Safety
/// As `fv_sparse_matrix_cg`.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_jacobi(
    matrix: *const fv_sparse_matrix,
    b: *const f64,
    n_b: usize,
    options: *const fv_solve_options,
    x: *mut f64,
    n_x: usize,
    report: *mut fv_jacobi_report,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        solve(matrix, b, n_b, options, x, n_x, report, |m, b, o| {
            let s = m.jacobi(b, o)?;
            Ok((s.x, s.report.into()))
        })
    }
}

// ------------------------------------------------------------------------------ local

/// A right-hand side `b` for the local solves: dense or sparse. Build with `fv_rhs_dense` /
/// `fv_rhs_sparse`. The arrays are borrowed by the call it is passed to, never kept.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_rhs {
    /// `FV_RHS_DENSE` or `FV_RHS_SPARSE`.
    pub kind: i32,
    /// `FV_RHS_SPARSE`: `len` row indices (each once); ignored for dense.
    pub indices: *const u32,
    /// `len` values (dense: all rows).
    pub values: *const f64,
    /// Length of `values` (and `indices`).
    pub len: usize,
}

/// A dense right-hand side: `values[0..len]`, `len` = the matrix's rows.
#[no_mangle]
pub extern "C" fn fv_rhs_dense(values: *const f64, len: usize) -> fv_rhs {
    fv_rhs {
        kind: FV_RHS_DENSE,
        indices: std::ptr::null(),
        values,
        len,
    }
}

/// A sparse right-hand side: `b[indices[i]] = values[i]` for `i < len`, 0 elsewhere.
#[no_mangle]
pub extern "C" fn fv_rhs_sparse(indices: *const u32, values: *const f64, len: usize) -> fv_rhs {
    fv_rhs {
        kind: FV_RHS_SPARSE,
        indices,
        values,
        len,
    }
}

impl fv_rhs {
    fn regions(&self, regions: &mut Regions) {
        regions.input("b.values", self.values, self.len);
        if self.kind == FV_RHS_SPARSE {
            regions.input("b.indices", self.indices, self.len);
        }
    }

    /// # Safety
    /// The arrays NULL or pointing to `len` elements for `'a`.
    unsafe fn to_rhs<'a>(self) -> Result<Rhs<'a>, Error> {
        // SAFETY: forwarded from this function's contract.
        let values = unsafe { c_slice(self.values, self.len, "b.values")? };
        match self.kind {
            FV_RHS_DENSE => Ok(Rhs::Dense(values)),
            FV_RHS_SPARSE => Ok(Rhs::Sparse {
                // SAFETY: forwarded from this function's contract.
                indices: unsafe { c_slice(self.indices, self.len, "b.indices")? },
                values,
            }),
            other => Err(Error::InvalidArgument(format!(
                "unknown rhs kind {other} (expected FV_RHS_DENSE or FV_RHS_SPARSE)"
            ))),
        }
    }
}

/// Options of `fv_sparse_matrix_solve_entry` / `_solve_functional`. Start from
/// `fv_local_solve_options_default()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_local_solve_options {
    /// Push until the deterministic bound `push_bound <= tol` (finite, > 0). Default `1e-6`.
    pub tol: f64,
    /// The dominance factor `q` in `[0, 1)` if known; negative (default): computed from all
    /// of `A`, which is not sublinear. NaN is an error.
    pub dominance: f64,
    /// A bound `c_max >= |b_j / a_jj|` if known; negative (default): computed from the
    /// non-zeros of `b`. NaN is an error.
    pub c_max: f64,
    /// Push budget. Default `2^34`.
    pub max_pushes: u64,
    /// Random walks after the push (default 0: none).
    pub walks: u64,
    /// Seed of the walks (same seed, same bits on every backend). Default 0.
    pub seed: u64,
    /// Probability that the walk-refined `error_bound` is exceeded, in `(0, 1)`. Default
    /// `1e-3`.
    pub failure_probability: f64,
    /// Budget of walk steps over all walks. Default `2^34`.
    pub max_walk_steps: u64,
}

impl Default for fv_local_solve_options {
    fn default() -> Self {
        let d = LocalSolveOptions::default();
        fv_local_solve_options {
            tol: d.tol,
            dominance: -1.0,
            c_max: -1.0,
            max_pushes: d.max_pushes,
            walks: d.walks,
            seed: d.seed,
            failure_probability: d.failure_probability,
            max_walk_steps: d.max_walk_steps,
        }
    }
}

/// The default local-solve options (tol `1e-6`, `q` and `c_max` computed, no walks).
#[no_mangle]
pub extern "C" fn fv_local_solve_options_default() -> fv_local_solve_options {
    fv_local_solve_options::default()
}

impl fv_local_solve_options {
    fn to_options(self) -> LocalSolveOptions {
        // NaN is kept (not `< 0`), so the solver refuses it.
        let some = |v: f64| if v < 0.0 { None } else { Some(v) };
        LocalSolveOptions {
            tol: self.tol,
            dominance: some(self.dominance),
            c_max: some(self.c_max),
            max_pushes: self.max_pushes,
            walks: self.walks,
            seed: self.seed,
            failure_probability: self.failure_probability,
            max_walk_steps: self.max_walk_steps,
        }
    }
}

/// What a local solve returns: the estimate of `x_i` (or `u^T x`) with its bound and work.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_local_solve_report {
    /// The estimate: the push estimate, refined by the walks when they tighten the bound.
    pub estimate: f64,
    /// `|u^T x - estimate| <= error_bound`, with probability `>= 1 - failure_probability`.
    pub error_bound: f64,
    /// 0 when `error_bound` is deterministic, else the requested failure probability.
    pub failure_probability: f64,
    /// The push phase's estimate.
    pub push_estimate: f64,
    /// Deterministic: `|u^T x - push_estimate| <= push_bound`.
    pub push_bound: f64,
    /// `||residual||_1` after the push.
    pub residual_l1: f64,
    /// The dominance factor used in the bound.
    pub q: f64,
    /// The bound on `|b_j / a_jj|` used.
    pub c_max: f64,
    /// Pushes performed.
    pub pushes: u64,
    /// Walks completed.
    pub walks: u64,
    /// Transitions taken by the walks.
    pub walk_steps: u64,
    /// Stored entries of `A` read by pushes and walks (the work).
    pub work: u64,
    /// Distinct rows of `A` pushed.
    pub rows_read: usize,
    /// Entries of the residual map (memory grows with this, never with `n`).
    pub touched: usize,
    /// Whether `push_bound <= tol` (and every requested walk ran).
    pub converged: bool,
    /// `FV_STOP_CONVERGED`, `FV_STOP_MAX_WORK` or `FV_STOP_BREAKDOWN` (tol below what
    /// `double` resolves).
    pub stop: i32,
}

impl From<LocalSolve> for fv_local_solve_report {
    fn from(r: LocalSolve) -> Self {
        fv_local_solve_report {
            estimate: r.estimate,
            error_bound: r.error_bound,
            failure_probability: r.failure_probability,
            push_estimate: r.push_estimate,
            push_bound: r.push_bound,
            residual_l1: r.residual_l1,
            q: r.q,
            c_max: r.c_max,
            pushes: r.pushes,
            walks: r.walks,
            walk_steps: r.walk_steps,
            work: r.work,
            rows_read: r.rows_read,
            touched: r.touched,
            converged: r.converged,
            stop: stop_code(r.stop),
        }
    }
}

/// Estimates `u^T x` of `A x = b` for strictly diagonally dominant `A` and a sparse `u`
/// (`u[u_indices[i]] = u_values[i]`, `n_u` entries), locally: push on the Neumann series
/// (plus seeded walks if asked), reading only the rows it reaches. A budget that runs out
/// returns the estimate so far with `converged = false` and its (larger) bound.
///
/// Errors (nothing written): NULL pointers, `b` of the wrong length, NaN or infinite values,
/// indices out of range or repeated, a zero diagonal, a row that is not strictly dominant
/// (when `q` is computed), `tol <= 0`, options outside their domains.
///
/// @param b       borrowed for this call only (with its arrays).
/// @param options borrowed for this call only; NULL: defaults.
/// @param report  caller-owned; written on success only.
///
/// # Safety
/// `matrix` NULL or live; `b` NULL or valid with arrays of its `len`; `u_indices` and
/// `u_values` NULL or pointing to `n_u` elements; `options` and `report` NULL or valid.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_sparse_matrix_solve_functional(
    matrix: *const fv_sparse_matrix,
    b: *const fv_rhs,
    u_indices: *const u32,
    u_values: *const f64,
    n_u: usize,
    options: *const fv_local_solve_options,
    report: *mut fv_local_solve_report,
) -> i32 {
    guard_status(|| {
        // SAFETY: NULL or valid, by this function's contract.
        let b = unsafe { b.as_ref() }.ok_or(Error::NullPointer { arg: "b" })?;
        let mut regions = Regions::default();
        b.regions(&mut regions);
        regions
            .input("u_indices", u_indices, n_u)
            .input("u_values", u_values, n_u)
            .output("report", report, 1)
            .check()?;
        // SAFETY: forwarded from this function's contract; the report overlaps no input.
        let (m, u_indices, u_values, report, b) = unsafe {
            (
                matrix_ref(matrix)?,
                c_slice(u_indices, n_u, "u_indices")?,
                c_slice(u_values, n_u, "u_values")?,
                out_one(report, "report")?,
                b.to_rhs()?,
            )
        };
        // SAFETY: NULL or valid, by this function's contract.
        let options = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let r = m.solve_functional(&b, u_indices, u_values, &options.to_options())?;
        report[0] = r.into();
        Ok(())
    })
}

/// Estimates `x_i` of `A x = b` (`fv_sparse_matrix_solve_functional` with `u = e_i`); a row
/// `i` out of range is `FV_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// As `fv_sparse_matrix_solve_functional`.
#[no_mangle]
pub unsafe extern "C" fn fv_sparse_matrix_solve_entry(
    matrix: *const fv_sparse_matrix,
    b: *const fv_rhs,
    i: usize,
    options: *const fv_local_solve_options,
    report: *mut fv_local_solve_report,
) -> i32 {
    guard_status(|| {
        // SAFETY: NULL or valid, by this function's contract.
        let b = unsafe { b.as_ref() }.ok_or(Error::NullPointer { arg: "b" })?;
        let mut regions = Regions::default();
        b.regions(&mut regions);
        regions.output("report", report, 1).check()?;
        // SAFETY: forwarded from this function's contract; the report overlaps no input.
        let (m, report, b) =
            unsafe { (matrix_ref(matrix)?, out_one(report, "report")?, b.to_rhs()?) };
        // SAFETY: NULL or valid, by this function's contract.
        let options = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let r = m.solve_entry(&b, i, &options.to_options())?;
        report[0] = r.into();
        Ok(())
    })
}

// ------------------------------------------------------------------------------ graphs

/// Creates a graph of `n_nodes` nodes from `n_edges` edges `src[i] -> dst[i]`, with
/// optional weights (finite, `>= 0`); repeated edges are summed. `FV_ERR_INVALID_ARGUMENT`
/// names an out-of-range node or a bad weight; `*out` untouched.
///
/// @param src, dst `n_edges` nodes each; borrowed for this call only.
/// @param weights  NULL for an unweighted graph (every edge weight 1), else `n_edges`
///                 weights; borrowed for this call only.
/// @param out      receives a new graph owned by the caller: free it with `fv_graph_free`.
///
/// # Safety
/// `engine` NULL or live; `src` and `dst` NULL or pointing to `n_edges` nodes; `weights` NULL
/// or pointing to `n_edges` doubles; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_graph_from_edges(
    engine: *const fv_engine,
    n_nodes: usize,
    src: *const u32,
    dst: *const u32,
    weights: *const f64,
    n_edges: usize,
    out: *mut *mut fv_graph,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, src, dst) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(src, n_edges, "src")?,
                c_slice(dst, n_edges, "dst")?,
            )
        };
        // SAFETY: forwarded from this function's contract.
        let weights = unsafe { optional(weights, n_edges, "weights")? };
        check_out(out, "out")?;
        let graph = Graph::from_edges(engine, n_nodes, src, dst, weights)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { GRAPHS.publish(fv_graph { graph }, out) };
        Ok(())
    })
}

/// # Safety
/// `ptr` NULL or pointing to `n` elements.
unsafe fn optional<'a, T>(
    ptr: *const T,
    n: usize,
    arg: &'static str,
) -> Result<Option<&'a [T]>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from this function's contract.
    Ok(Some(unsafe { c_slice(ptr, n, arg)? }))
}

/// Creates a graph from CSR adjacency arrays: node `u`'s out-edges go to
/// `indices[indptr[u] .. indptr[u + 1]]` (`n_indptr` = `n_nodes + 1`), with optional
/// weights. Validated as `fv_sparse_matrix_from_csr` (any column order, repeats summed).
///
/// @param weights NULL (unweighted) or `n_edges` weights.
/// @param out     receives a new graph owned by the caller (`fv_graph_free`).
///
/// # Safety
/// `engine` NULL or live; each array NULL or pointing to its stated number of elements;
/// `out` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_graph_from_csr(
    engine: *const fv_engine,
    n_nodes: usize,
    indptr: *const u32,
    n_indptr: usize,
    indices: *const u32,
    weights: *const f64,
    n_edges: usize,
    out: *mut *mut fv_graph,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (engine, indptr, indices) = unsafe {
            (
                engine_ref(engine)?,
                c_slice(indptr, n_indptr, "indptr")?,
                c_slice(indices, n_edges, "indices")?,
            )
        };
        // SAFETY: forwarded from this function's contract.
        let weights = unsafe { optional(weights, n_edges, "weights")? };
        check_out(out, "out")?;
        check_indptr(n_nodes, n_indptr)?;
        let graph = Graph::from_csr(engine, n_nodes, indptr, indices, weights)?;
        // SAFETY: checked by `check_out`; writable by the contract.
        unsafe { GRAPHS.publish(fv_graph { graph }, out) };
        Ok(())
    })
}

/// Destroys a graph. NULL does nothing and returns `FV_OK`; a pointer that is not a live
/// graph returns `FV_ERR_INVALID_HANDLE` and frees nothing.
///
/// @param graph owned by the caller until this call; invalid afterwards.
///
/// # Safety
/// `graph` NULL or a pointer from this library; no other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn fv_graph_free(graph: *mut fv_graph) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { GRAPHS.free(graph) }
}

/// Writes the number of nodes and of distinct edges.
///
/// @param out_nodes, out_edges caller-owned; written on success only.
///
/// # Safety
/// `graph` NULL or live; the outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_graph_size(
    graph: *const fv_graph,
    out_nodes: *mut usize,
    out_edges: *mut usize,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let g = unsafe { graph_ref(graph)? };
        check_out(out_nodes, "out_nodes")?;
        check_out(out_edges, "out_edges")?;
        // SAFETY: both checked non-null and aligned; writable by the contract.
        unsafe {
            out_nodes.write(g.n_nodes());
            out_edges.write(g.n_edges());
        }
        Ok(())
    })
}

/// A distribution over the nodes (a personalization, a dangling distribution, a start
/// vector or a push source). Weights are relative (divided by their sum, as networkx does):
/// finite, `>= 0`, not all zero. Build with `fv_distribution_node` & co., or zero it for the
/// default. The arrays are borrowed by the call it is passed to, never kept.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_distribution {
    /// `FV_DIST_*`.
    pub kind: i32,
    /// `FV_DIST_NODE`: the node.
    pub node: u32,
    /// `FV_DIST_SPARSE`: `len` nodes.
    pub nodes: *const u32,
    /// `FV_DIST_DENSE` / `FV_DIST_SPARSE`: `len` weights.
    pub weights: *const f64,
    /// Length of `weights` (and `nodes`).
    pub len: usize,
}

impl Default for fv_distribution {
    fn default() -> Self {
        fv_distribution {
            kind: FV_DIST_DEFAULT,
            node: 0,
            nodes: std::ptr::null(),
            weights: std::ptr::null(),
            len: 0,
        }
    }
}

/// Every node weight 1.
#[no_mangle]
pub extern "C" fn fv_distribution_uniform() -> fv_distribution {
    fv_distribution {
        kind: FV_DIST_UNIFORM,
        ..Default::default()
    }
}

/// All weight on `node`: a single source.
#[no_mangle]
pub extern "C" fn fv_distribution_node(node: u32) -> fv_distribution {
    fv_distribution {
        kind: FV_DIST_NODE,
        node,
        ..Default::default()
    }
}

/// One weight per node: `weights[0..len]`, `len` = the graph's nodes.
#[no_mangle]
pub extern "C" fn fv_distribution_dense(weights: *const f64, len: usize) -> fv_distribution {
    fv_distribution {
        kind: FV_DIST_DENSE,
        weights,
        len,
        ..Default::default()
    }
}

/// Weight `weights[i]` on `nodes[i]` for `i < len`, 0 elsewhere.
#[no_mangle]
pub extern "C" fn fv_distribution_sparse(
    nodes: *const u32,
    weights: *const f64,
    len: usize,
) -> fv_distribution {
    fv_distribution {
        kind: FV_DIST_SPARSE,
        nodes,
        weights,
        len,
        ..Default::default()
    }
}

impl fv_distribution {
    fn regions(&self, regions: &mut Regions, arg: &'static str) {
        match self.kind {
            FV_DIST_DENSE => {
                regions.input(arg, self.weights, self.len);
            }
            FV_DIST_SPARSE => {
                regions
                    .input(arg, self.nodes, self.len)
                    .input(arg, self.weights, self.len);
            }
            _ => {}
        }
    }

    /// The distribution, `None` for `FV_DIST_DEFAULT`.
    ///
    /// # Safety
    /// The arrays NULL or pointing to `len` elements for `'a`.
    unsafe fn to_personalization<'a>(
        self,
        arg: &'static str,
    ) -> Result<Option<Personalization<'a>>, Error> {
        Ok(Some(match self.kind {
            FV_DIST_DEFAULT => return Ok(None),
            FV_DIST_UNIFORM => Personalization::Uniform,
            FV_DIST_NODE => Personalization::Node(self.node),
            // SAFETY: forwarded from this function's contract.
            FV_DIST_DENSE => {
                Personalization::Dense(unsafe { c_slice(self.weights, self.len, arg)? })
            }
            FV_DIST_SPARSE => Personalization::Sparse {
                // SAFETY: forwarded from this function's contract.
                nodes: unsafe { c_slice(self.nodes, self.len, arg)? },
                // SAFETY: forwarded from this function's contract.
                weights: unsafe { c_slice(self.weights, self.len, arg)? },
            },
            other => {
                return Err(Error::InvalidArgument(format!(
                    "`{arg}`: unknown distribution kind {other} (expected one of FV_DIST_*)"
                )))
            }
        }))
    }
}

/// Options of `fv_graph_pagerank`; `fv_pagerank_options_default()` is networkx's defaults.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_pagerank_options {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Where the walk restarts; default uniform.
    pub personalization: fv_distribution,
    /// Where a dangling node's walk goes; default: the personalization.
    pub dangling: fv_distribution,
    /// The starting vector (networkx's `nstart`); default uniform.
    pub start: fv_distribution,
    /// Stop once an iteration's L1 change is `< n * tol` (networkx's criterion). Default
    /// `1e-6`.
    pub tol: f64,
    /// Iteration budget. Default 100.
    pub max_iter: usize,
}

impl Default for fv_pagerank_options {
    fn default() -> Self {
        let d = PageRankOptions::default();
        fv_pagerank_options {
            alpha: d.alpha,
            personalization: Default::default(),
            dangling: Default::default(),
            start: Default::default(),
            tol: d.tol,
            max_iter: d.max_iter,
        }
    }
}

/// networkx's defaults: alpha 0.85, uniform personalization and start, dangling mass to the
/// personalization, tol `1e-6`, 100 iterations.
#[no_mangle]
pub extern "C" fn fv_pagerank_options_default() -> fv_pagerank_options {
    fv_pagerank_options::default()
}

/// What `fv_graph_pagerank` reports with the scores.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_pagerank_report {
    /// Iterations performed (networkx's count).
    pub iterations: usize,
    /// `||x_k - x_{k-1}||_1` of the last iteration (infinite if none ran).
    pub l1_change: f64,
    /// `||scores - pi||_1 <= error_bound = alpha / (1 - alpha) * l1_change`.
    pub error_bound: f64,
    /// Whether `l1_change < n * tol`.
    pub converged: bool,
    /// `FV_STOP_CONVERGED` or `FV_STOP_MAX_ITERATIONS`.
    pub stop: i32,
}

/// Global (optionally personalized) PageRank by power iteration, networkx's algorithm step
/// for step: every node's score into `scores` (`n_scores` = nodes; they sum to 1). A budget
/// that runs out is not an error (`converged = false`, `stop = FV_STOP_MAX_ITERATIONS`).
///
/// Errors (nothing written): NULL pointers, `n_scores` or a dense distribution of the wrong
/// length (`FV_ERR_DIMENSION_MISMATCH`), alpha outside (0, 1), `tol <= 0`, a distribution
/// with a negative / NaN weight, all zeros, a repeated or out-of-range node.
///
/// @param options borrowed for this call only (with its arrays); NULL: defaults.
/// @param scores  caller-owned room for `n_scores` doubles; written on success only.
/// @param report  caller-owned; written on success only.
///
/// # Safety
/// `graph` NULL or live; `options` NULL or valid with arrays of the stated lengths; `scores`
/// NULL or pointing to `n_scores` doubles; `report` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_graph_pagerank(
    graph: *const fv_graph,
    options: *const fv_pagerank_options,
    scores: *mut f64,
    n_scores: usize,
    report: *mut fv_pagerank_report,
) -> i32 {
    guard_status(|| {
        // SAFETY: NULL or valid, by this function's contract.
        let c = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let mut regions = Regions::default();
        c.personalization
            .regions(&mut regions, "options.personalization");
        c.dangling.regions(&mut regions, "options.dangling");
        c.start.regions(&mut regions, "options.start");
        regions
            .output("scores", scores, n_scores)
            .output("report", report, 1)
            .check()?;
        // SAFETY: forwarded from this function's contract; the outputs overlap nothing.
        let (g, scores, report) = unsafe {
            (
                graph_ref(graph)?,
                c_slice_mut(scores, n_scores, "scores")?,
                out_one(report, "report")?,
            )
        };
        let mut o = PageRankOptions {
            alpha: c.alpha,
            tol: c.tol,
            max_iter: c.max_iter,
            ..Default::default()
        };
        // SAFETY: the arrays as this function's contract says.
        unsafe {
            if let Some(p) = c.personalization.to_personalization("personalization")? {
                o.personalization = p;
            }
            o.dangling = c.dangling.to_personalization("dangling")?;
            o.start = c.start.to_personalization("start")?;
        }
        if n_scores != g.n_nodes() {
            return Err(mismatch(g.n_nodes(), n_scores));
        }
        let pr = g.pagerank(&o)?;
        scores.copy_from_slice(&pr.scores);
        report[0] = fv_pagerank_report {
            iterations: pr.iterations,
            l1_change: pr.l1_change,
            error_bound: pr.error_bound,
            converged: pr.converged,
            stop: stop_code(pr.stop),
        };
        Ok(())
    })
}

/// Options of `fv_graph_forward_push`. Start from `fv_push_options_default()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_push_options {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Push threshold: node `u` is pushed while its residual `r(u) >= eps * W(u)` (`W(u)`:
    /// weighted out-degree). Finite, `> 0`. Default `1e-4`.
    pub eps: f64,
    /// Push budget. Default `2^34`.
    pub max_pushes: u64,
}

impl Default for fv_push_options {
    fn default() -> Self {
        let d = PushOptions::default();
        fv_push_options {
            alpha: d.alpha,
            eps: d.eps,
            max_pushes: d.max_pushes,
        }
    }
}

/// alpha 0.85, eps `1e-4`, a push budget of `2^34`.
#[no_mangle]
pub extern "C" fn fv_push_options_default() -> fv_push_options {
    fv_push_options::default()
}

/// Options of `fv_graph_backward_push`. Start from `fv_backward_push_options_default()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_backward_push_options {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Push threshold, the additive error bound. Finite, `> 0`. Default `1e-4`.
    pub r_max: f64,
    /// Push budget. Default `2^34`.
    pub max_pushes: u64,
}

impl Default for fv_backward_push_options {
    fn default() -> Self {
        let d = BackwardPushOptions::default();
        fv_backward_push_options {
            alpha: d.alpha,
            r_max: d.r_max,
            max_pushes: d.max_pushes,
        }
    }
}

/// alpha 0.85, r_max `1e-4`, a push budget of `2^34`.
#[no_mangle]
pub extern "C" fn fv_backward_push_options_default() -> fv_backward_push_options {
    fv_backward_push_options::default()
}

/// What the push methods report with their estimates.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_push_report {
    /// The bound on `|true - estimate|` that holds for every node, listed or not (forward
    /// push: `0 <= pi(v) - p(v)`, summing to `residual_mass`; `<= eps * W(v)` on symmetric
    /// graphs).
    pub error_bound: f64,
    /// The residual mass left (forward push: exactly the L1 error `sum_v pi(v) - p(v)`).
    pub residual_mass: f64,
    /// The smallest `eps` (backward: `r_max`) for which the stopping rule holds now.
    pub eps_reached: f64,
    /// Push operations performed.
    pub pushes: u64,
    /// Residual updates made: the work, which bounds the running time.
    pub work: u64,
    /// Distinct nodes whose state was created (memory grows with this, never with `n`).
    pub touched: usize,
    /// Nodes with a non-zero estimate; `*out_count = min(cap, nonzero)` were written.
    pub nonzero: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
    /// `FV_STOP_CONVERGED` or `FV_STOP_MAX_WORK`.
    pub stop: i32,
}

impl fv_push_report {
    fn new(r: &PushReport, nonzero: usize) -> Self {
        fv_push_report {
            error_bound: r.error_bound,
            residual_mass: r.residual_mass,
            eps_reached: r.eps_reached,
            pushes: r.pushes,
            work: r.work,
            touched: r.touched,
            nonzero,
            converged: r.converged,
            stop: stop_code(r.stop),
        }
    }
}

/// The outputs of a push: `cap` (node, score) slots, the count and the report.
struct PushOutputs<'a> {
    nodes: &'a mut [u32],
    scores: &'a mut [f64],
    count: &'a mut [usize],
    report: &'a mut [fv_push_report],
}

impl<'a> PushOutputs<'a> {
    /// Checks the outputs against each other and against `regions` (the inputs), then
    /// borrows them.
    ///
    /// # Safety
    /// As the push functions' contracts.
    unsafe fn new(
        mut regions: Regions,
        out_nodes: *mut u32,
        out_scores: *mut f64,
        cap: usize,
        out_count: *mut usize,
        report: *mut fv_push_report,
    ) -> Result<Self, Error> {
        regions
            .output("out_nodes", out_nodes, cap)
            .output("out_scores", out_scores, cap)
            .output("out_count", out_count, 1)
            .output("report", report, 1)
            .check()?;
        // SAFETY: forwarded from the caller's contract; disjoint (checked above).
        let out = unsafe {
            PushOutputs {
                nodes: c_slice_mut(out_nodes, cap, "out_nodes")?,
                scores: c_slice_mut(out_scores, cap, "out_scores")?,
                count: out_one(out_count, "out_count")?,
                report: out_one(report, "report")?,
            }
        };
        Ok(out)
    }

    fn write(self, result: &PushResult) {
        let n = result.scores.len().min(self.nodes.len());
        for (i, &(node, score)) in result.scores[..n].iter().enumerate() {
            self.nodes[i] = node;
            self.scores[i] = score;
        }
        self.count[0] = n;
        self.report[0] = fv_push_report::new(&result.report, result.scores.len());
    }
}

/// Personalized PageRank by forward push (Andersen-Chung-Lang, networkx's model), reading
/// only the out-edges of the nodes it pushes. Writes the `cap` best (node, score) pairs, by
/// descending score (ties by increasing node), to `out_nodes` / `out_scores`, their number
/// (`min(cap, report->nonzero)`) to `*out_count`; `cap = 0` is allowed (the report alone).
/// Every estimate is a lower bound: `0 <= pi(v) - p(v)` for every node `v` (unlisted: `p =
/// 0`), the differences summing to `report->residual_mass`, and `pi(v) - p(v) <= eps * d(v)`
/// on symmetric graphs (`d`: weighted degree). A source whose degree exceeds `1 / eps` is
/// pushed once and the push ends with its neighbors below their thresholds; the bound holds
/// all the same. A budget that runs out is not an error (`converged = false`,
/// `FV_STOP_MAX_WORK`).
///
/// Errors (nothing written): NULL pointers, an out-of-range or invalid source, alpha
/// outside (0, 1), `eps <= 0` or not finite, overlapping outputs.
///
/// @param source     borrowed for this call only (with its arrays); `FV_DIST_DEFAULT`
///                   means uniform.
/// @param options    borrowed for this call only; NULL: defaults.
/// @param out_nodes  caller-owned room for `cap` nodes; written on success only.
/// @param out_scores caller-owned room for `cap` doubles; written on success only.
/// @param out_count  caller-owned; written on success only.
/// @param report     caller-owned; written on success only.
///
/// # Safety
/// `graph` NULL or live; `source` NULL or valid with arrays of its `len`; `options` NULL or
/// valid; the outputs NULL or pointing to their stated sizes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_graph_forward_push(
    graph: *const fv_graph,
    source: *const fv_distribution,
    options: *const fv_push_options,
    out_nodes: *mut u32,
    out_scores: *mut f64,
    cap: usize,
    out_count: *mut usize,
    report: *mut fv_push_report,
) -> i32 {
    guard_status(|| {
        // SAFETY: NULL or valid, by this function's contract.
        let source = unsafe { source.as_ref() }.ok_or(Error::NullPointer { arg: "source" })?;
        let mut regions = Regions::default();
        source.regions(&mut regions, "source");
        // SAFETY: forwarded from this function's contract.
        let (g, out) = unsafe {
            (
                graph_ref(graph)?,
                PushOutputs::new(regions, out_nodes, out_scores, cap, out_count, report)?,
            )
        };
        // SAFETY: the arrays as this function's contract says.
        let source =
            unsafe { source.to_personalization("source")? }.unwrap_or(Personalization::Uniform);
        // SAFETY: NULL or valid, by this function's contract.
        let c = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let options = PushOptions {
            alpha: c.alpha,
            eps: c.eps,
            max_pushes: c.max_pushes,
            top_k: None,
        };
        let result = g.forward_push(&source, &options)?;
        out.write(&result);
        Ok(())
    })
}

/// Every source's PageRank contribution to `target` by backward push: writes the `cap`
/// best (source, `pi_source(target)` estimate) pairs and their count as
/// `fv_graph_forward_push` does. For every source `s`: `0 <= pi_s(target) - p(s) <=
/// report->error_bound` (on graphs with dangling nodes the graph computes a per-alpha
/// correction once and includes its error). Errors as `fv_graph_forward_push`
/// (`r_max <= 0`, an out-of-range target).
///
/// # Safety
/// As `fv_graph_forward_push`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn fv_graph_backward_push(
    graph: *const fv_graph,
    target: u32,
    options: *const fv_backward_push_options,
    out_nodes: *mut u32,
    out_scores: *mut f64,
    cap: usize,
    out_count: *mut usize,
    report: *mut fv_push_report,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (g, out) = unsafe {
            (
                graph_ref(graph)?,
                PushOutputs::new(
                    Regions::default(),
                    out_nodes,
                    out_scores,
                    cap,
                    out_count,
                    report,
                )?,
            )
        };
        // SAFETY: NULL or valid, by this function's contract.
        let c = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let options = BackwardPushOptions {
            alpha: c.alpha,
            r_max: c.r_max,
            max_pushes: c.max_pushes,
            top_k: None,
        };
        let result = g.backward_push(target, &options)?;
        out.write(&result);
        Ok(())
    })
}

/// Options of `fv_graph_pair`. Start from `fv_pair_options_default()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_pair_options {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Backward push threshold. Default `1e-4`.
    pub r_max: f64,
    /// Random walks from the source. Default 10,000.
    pub walks: u64,
    /// Seed of the walks (same seed, same bits on every backend). Default 0.
    pub seed: u64,
    /// Probability that the reported bound is exceeded, in `(0, 1)`. Default `1e-3`.
    pub failure_probability: f64,
    /// Push budget. Default `2^34`.
    pub max_pushes: u64,
    /// Walk-step budget over all walks.
    pub max_walk_steps: u64,
}

impl Default for fv_pair_options {
    fn default() -> Self {
        let d = PairOptions::default();
        fv_pair_options {
            alpha: d.alpha,
            r_max: d.r_max,
            walks: d.walks,
            seed: d.seed,
            failure_probability: d.failure_probability,
            max_pushes: d.max_pushes,
            max_walk_steps: d.max_walk_steps,
        }
    }
}

/// alpha 0.85, r_max `1e-4`, 10,000 walks, seed 0, failure probability `1e-3`.
#[no_mangle]
pub extern "C" fn fv_pair_options_default() -> fv_pair_options {
    fv_pair_options::default()
}

/// What `fv_graph_pair` returns.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct fv_pair_report {
    /// The estimate of `pi_source(target)`.
    pub estimate: f64,
    /// The backward push's part alone: a lower bound of `pi_source(target)`.
    pub push_estimate: f64,
    /// Deterministic: `pi_source(target) - push_estimate` is in `[0, push_bound]`.
    pub push_bound: f64,
    /// `|pi_source(target) - estimate| <= error_bound` with probability at least
    /// `1 - failure_probability`.
    pub error_bound: f64,
    /// The requested probability, or 0 when the deterministic `push_bound` is reported.
    pub failure_probability: f64,
    /// Backward pushes performed.
    pub pushes: u64,
    /// Walks completed.
    pub walks: u64,
    /// Edges followed by the walks.
    pub walk_steps: u64,
    /// Residual updates plus out-edges scanned by the walks: the work.
    pub work: u64,
    /// Nodes with push state (the memory used).
    pub touched: usize,
    /// Whether the push met its stopping rule and every requested walk ran.
    pub converged: bool,
    /// `FV_STOP_CONVERGED` or `FV_STOP_MAX_WORK`.
    pub stop: i32,
}

impl From<PairEstimate> for fv_pair_report {
    fn from(r: PairEstimate) -> Self {
        fv_pair_report {
            estimate: r.estimate,
            push_estimate: r.push_estimate,
            push_bound: r.push_bound,
            error_bound: r.error_bound,
            failure_probability: r.failure_probability,
            pushes: r.pushes,
            walks: r.walks,
            walk_steps: r.walk_steps,
            work: r.work,
            touched: r.touched,
            converged: r.converged,
            stop: stop_code(r.stop),
        }
    }
}

/// `pi_source(target)` for one pair by backward push plus seeded random walks
/// (BiPPR-style), with a probabilistic bound; deterministic for a given seed. Errors
/// (nothing written): NULL pointers, out-of-range nodes, options outside their domains.
///
/// @param options borrowed for this call only; NULL: defaults.
/// @param report  caller-owned; written on success only.
///
/// # Safety
/// `graph` NULL or live; `options` NULL or valid; `report` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fv_graph_pair(
    graph: *const fv_graph,
    source: u32,
    target: u32,
    options: *const fv_pair_options,
    report: *mut fv_pair_report,
) -> i32 {
    guard_status(|| {
        // SAFETY: forwarded from this function's contract.
        let (g, report) = unsafe { (graph_ref(graph)?, out_one(report, "report")?) };
        // SAFETY: NULL or valid, by this function's contract.
        let c = unsafe { options.as_ref() }.copied().unwrap_or_default();
        let options = PairOptions {
            alpha: c.alpha,
            r_max: c.r_max,
            walks: c.walks,
            seed: c.seed,
            failure_probability: c.failure_probability,
            max_pushes: c.max_pushes,
            max_walk_steps: c.max_walk_steps,
        };
        report[0] = g.pair(source, target, &options)?.into();
        Ok(())
    })
}
