//! The sparse solver engine for the foreign languages: [`SparseMatrix`] (CG, BiCGSTAB,
//! Jacobi, the local single-coordinate estimate) and [`Graph`] (PageRank: global, forward
//! push, backward push, one pair), wrapping [`crate::solver`] on the backend of the
//! [`Engine`] they were made from.
//!
//! Arrays cross as little-endian bytes (see `bytes.rs`): `f64` values, `u32` indices and
//! node ids. Borrowed `&[u8]` arguments reach Rust without a copy (the language layers pass
//! numpy arrays, direct `ByteBuffer`s and `Data` as they are); the matrix and graph
//! constructors then copy them once into the object's own storage. Every result carries the
//! report of the method (true residual, error bound, work, why it stopped); a budget that runs
//! out is a result with `converged = false`, bad input an error that changes nothing.

use std::sync::{Arc, RwLock};

use ferrovec_core::{Error, Result};

use super::bytes::{le_bytes, le_slice};
use super::engine::Engine;
use crate::solver as api;
use crate::BackendKind;

/// Why an iterative or local method stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum StopReason {
    /// The stopping criterion was met.
    Converged,
    /// The iteration budget ran out first.
    MaxIterations,
    /// The work budget (pushes, walks) ran out first.
    MaxWork,
    /// The method cannot continue (e.g. a Krylov breakdown); the answer is the last iterate.
    Breakdown,
}

fn stop(s: api::Stop) -> Result<StopReason> {
    Ok(match s {
        api::Stop::Converged => StopReason::Converged,
        api::Stop::MaxIterations => StopReason::MaxIterations,
        api::Stop::MaxWork => StopReason::MaxWork,
        api::Stop::Breakdown => StopReason::Breakdown,
        other => {
            return Err(Error::Internal(format!(
                "a stop reason this binding cannot name: {other:?}"
            )))
        }
    })
}

/// A preconditioner for CG and BiCGSTAB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Preconditioner {
    /// None.
    None,
    /// `M = D^-1`, the inverse of the diagonal (needs a non-zero diagonal, positive for CG).
    Jacobi,
}

/// Options of `cg`, `bicgstab` and `jacobi` (scipy's defaults).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct SolveConfig {
    /// Relative tolerance on the true residual `||b - A x|| / ||b||`, in `(0, 1)`.
    #[uniffi(default = 1e-5)]
    pub rtol: f64,
    /// Iteration budget; absent: `10 n`.
    #[uniffi(default = None)]
    pub max_iterations: Option<u64>,
    /// Preconditioner of CG and BiCGSTAB (Jacobi ignores it).
    #[uniffi(default = None)]
    pub preconditioner: Option<Preconditioner>,
    /// CG only: check that `A` is symmetric (entries within this relative tolerance of their
    /// mirror) before iterating; absent: no check (costs up to ~40 SpMVs on random patterns).
    #[uniffi(default = None)]
    pub symmetry_tolerance: Option<f64>,
}

fn to_usize(value: u64, what: &str) -> Result<usize> {
    usize::try_from(value)
        .map_err(|_| Error::InvalidArgument(format!("{what} {value} does not fit this platform")))
}

impl SolveConfig {
    fn to_core<'a>(self, x0: Option<&'a [f64]>) -> Result<api::SolveOptions<'a>> {
        let mut options = api::SolveOptions::new()
            .rtol(self.rtol)
            .preconditioner(match self.preconditioner {
                None | Some(Preconditioner::None) => api::Preconditioner::None,
                Some(Preconditioner::Jacobi) => api::Preconditioner::Jacobi,
            })
            .symmetry_tolerance(self.symmetry_tolerance);
        if let Some(m) = self.max_iterations {
            options = options.max_iterations(to_usize(m, "max_iterations")?);
        }
        if let Some(x0) = x0 {
            options = options.x0(x0);
        }
        Ok(options)
    }
}

/// What `cg`, `bicgstab` and `jacobi` report with their `x`.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct SolveReport {
    /// Iterations performed.
    pub iterations: u64,
    /// `||b - A x|| / ||b||` recomputed from the returned `x` (not the recurrence's estimate).
    pub relative_residual: f64,
    /// Whether `relative_residual <= rtol`.
    pub converged: bool,
    /// Why the method stopped.
    pub stop: StopReason,
    /// Jacobi only: a bound on `||x* - x||_inf` (infinite if the contraction rounds to 1).
    pub error_bound: Option<f64>,
    /// Jacobi only: the contraction factor `q = max_i sum_{j != i} |a_ij| / |a_ii|`.
    pub contraction: Option<f64>,
}

impl SolveReport {
    fn from_core(r: &api::SolveReport) -> Result<SolveReport> {
        Ok(SolveReport {
            iterations: r.iterations as u64,
            relative_residual: r.relative_residual,
            converged: r.converged,
            stop: stop(r.stop)?,
            error_bound: None,
            contraction: None,
        })
    }
}

/// `x` (little-endian f64, `n_cols` of them) and its report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LinearSolution {
    /// The answer, little-endian f64.
    pub x: Vec<u8>,
    /// How it was reached and how good it is.
    pub report: SolveReport,
}

/// Options of the local single-coordinate estimate (`solve_entry`, `solve_functional`).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LocalSolveConfig {
    /// Push until the deterministic bound is at most `tol` (finite, `> 0`).
    #[uniffi(default = 1e-6)]
    pub tol: f64,
    /// The dominance factor `q` in `[0, 1)` the caller promises for the rows reachable from
    /// `u` (checked on every row read); absent: computed from all of `A` (not sublinear).
    #[uniffi(default = None)]
    pub dominance: Option<f64>,
    /// A bound `>= |b_j / a_jj|` (checked on every row read); absent: computed from `b`.
    #[uniffi(default = None)]
    pub c_max: Option<f64>,
    /// Push budget.
    #[uniffi(default = 17179869184)]
    pub max_pushes: u64,
    /// Random walks after the push (0: none, deterministic bound).
    #[uniffi(default = 0)]
    pub walks: u64,
    /// Seed of the walks (same seed, same bits on every backend).
    #[uniffi(default = 0)]
    pub seed: u64,
    /// Probability that the walk-refined bound is exceeded, in `(0, 1)`.
    #[uniffi(default = 1e-3)]
    pub failure_probability: f64,
    /// Budget of walk steps over all walks.
    #[uniffi(default = 17179869184)]
    pub max_walk_steps: u64,
}

impl LocalSolveConfig {
    fn to_core(self) -> api::LocalSolveOptions {
        api::LocalSolveOptions {
            tol: self.tol,
            dominance: self.dominance,
            c_max: self.c_max,
            max_pushes: self.max_pushes,
            walks: self.walks,
            seed: self.seed,
            failure_probability: self.failure_probability,
            max_walk_steps: self.max_walk_steps,
        }
    }
}

/// A local estimate of `u^T x` (or `x_i`) with its bound and the work it took.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LocalEstimate {
    /// The estimate.
    pub estimate: f64,
    /// `|u^T x - estimate| <= error_bound`, with probability `>= 1 - failure_probability`.
    pub error_bound: f64,
    /// 0 when `error_bound` is deterministic, else the requested one.
    pub failure_probability: f64,
    /// The push phase's estimate.
    pub push_estimate: f64,
    /// Deterministic bound of the push estimate.
    pub push_bound: f64,
    /// `||rho||_1` after the push.
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
    /// Stored entries of `A` read (the work).
    pub work: u64,
    /// Distinct rows of `A` pushed.
    pub rows_read: u64,
    /// Entries of the residual map (memory grows with this, not with `n`).
    pub touched: u64,
    /// Whether the push bound met `tol` and every requested walk ran.
    pub converged: bool,
    /// Why it stopped.
    pub stop: StopReason,
}

impl LocalEstimate {
    fn from_core(r: &api::LocalSolve) -> Result<LocalEstimate> {
        Ok(LocalEstimate {
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
            rows_read: r.rows_read as u64,
            touched: r.touched as u64,
            converged: r.converged,
            stop: stop(r.stop)?,
        })
    }
}

/// A matrix as CSR arrays (little-endian: `indptr` and `indices` u32, `values` f64).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CsrArrays {
    /// Rows.
    pub n_rows: u64,
    /// Columns.
    pub n_cols: u64,
    /// `n_rows + 1` row offsets.
    pub indptr: Vec<u8>,
    /// Column of each stored entry, increasing within a row.
    pub indices: Vec<u8>,
    /// Value of each stored entry.
    pub values: Vec<u8>,
}

/// How `to_matrix_market` writes a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MatrixMarketSymmetry {
    /// Every stored entry.
    General,
    /// The lower triangle only (`InvalidArgument` if the matrix is not symmetric).
    Symmetric,
}

fn symmetry(s: MatrixMarketSymmetry) -> api::Symmetry {
    match s {
        MatrixMarketSymmetry::General => api::Symmetry::General,
        MatrixMarketSymmetry::Symmetric => api::Symmetry::Symmetric,
    }
}

/// A sparse matrix (CSR, f64 values) on the backend of the engine it was made from, with the
/// solvers of `A x = b` and the local single-coordinate estimate.
///
/// Immutable and thread-safe; `release()` frees it early (later calls fail with
/// `InvalidHandle`). Construction validates everything (row offsets, column ranges, finite
/// values); a bad entry is `InvalidArgument` naming its row and position.
#[derive(Debug, uniffi::Object)]
pub struct SparseMatrix {
    inner: RwLock<Option<api::SparseMatrix>>,
}

impl SparseMatrix {
    fn wrap(matrix: api::SparseMatrix) -> Arc<SparseMatrix> {
        Arc::new(SparseMatrix {
            inner: RwLock::new(Some(matrix)),
        })
    }

    /// The matrix (a cheap shared clone), or `InvalidHandle` once released.
    fn matrix(&self) -> Result<api::SparseMatrix> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::InvalidHandle)
    }

    /// Decodes `b` and `x0` (empty: start from zero), runs `method` and encodes its answer.
    fn linear<R>(
        &self,
        b: &[u8],
        x0: &[u8],
        config: &SolveConfig,
        method: impl FnOnce(
            &api::SparseMatrix,
            &[f64],
            &api::SolveOptions<'_>,
        ) -> Result<api::Solution<R>>,
        report: impl FnOnce(&R) -> Result<SolveReport>,
    ) -> Result<LinearSolution> {
        let matrix = self.matrix()?;
        let b = le_slice::<f64>(b, "b")?;
        let x0 = le_slice::<f64>(x0, "x0")?;
        let options = config.to_core((!x0.is_empty()).then_some(&*x0))?;
        let solution = method(&matrix, &b, &options)?;
        Ok(LinearSolution {
            x: le_bytes(&solution.x),
            report: report(&solution.report)?,
        })
    }

    fn local(
        &self,
        b: api::Rhs<'_>,
        u_indices: &[u32],
        u_values: &[f64],
        config: &LocalSolveConfig,
    ) -> Result<LocalEstimate> {
        let estimate =
            self.matrix()?
                .solve_functional(&b, u_indices, u_values, &config.to_core())?;
        LocalEstimate::from_core(&estimate)
    }
}

#[uniffi::export]
impl SparseMatrix {
    /// From `(row, col, value)` triplets in any order, duplicates summed: `rows` and `cols`
    /// little-endian u32, `values` little-endian f64, all of one length.
    #[uniffi::constructor]
    pub fn new(
        engine: &Arc<Engine>,
        n_rows: u64,
        n_cols: u64,
        rows: &[u8],
        cols: &[u8],
        values: &[u8],
    ) -> Result<Arc<SparseMatrix>> {
        Ok(SparseMatrix::wrap(api::SparseMatrix::from_triplets(
            &*engine.engine()?,
            to_usize(n_rows, "n_rows")?,
            to_usize(n_cols, "n_cols")?,
            &le_slice::<u32>(rows, "rows")?,
            &le_slice::<u32>(cols, "cols")?,
            &le_slice::<f64>(values, "values")?,
        )?))
    }

    /// From CSR arrays (`indptr`, `indices` little-endian u32, `values` f64). `canonical`:
    /// columns strictly increasing within each row (scipy's `has_canonical_format`), checked;
    /// otherwise columns may come in any order and repeat (summed).
    #[uniffi::constructor]
    pub fn from_csr(
        engine: &Arc<Engine>,
        n_rows: u64,
        n_cols: u64,
        indptr: &[u8],
        indices: &[u8],
        values: &[u8],
        canonical: bool,
    ) -> Result<Arc<SparseMatrix>> {
        let engine = engine.engine()?;
        let (n_rows, n_cols) = (to_usize(n_rows, "n_rows")?, to_usize(n_cols, "n_cols")?);
        let indptr = le_slice::<u32>(indptr, "indptr")?;
        let indices = le_slice::<u32>(indices, "indices")?;
        let values = le_slice::<f64>(values, "values")?;
        type FromCsr =
            fn(&crate::Engine, usize, usize, &[u32], &[u32], &[f64]) -> Result<api::SparseMatrix>;
        let make: FromCsr = if canonical {
            api::SparseMatrix::from_csr
        } else {
            api::SparseMatrix::from_csr_unsorted
        };
        Ok(SparseMatrix::wrap(make(
            &engine, n_rows, n_cols, &indptr, &indices, &values,
        )?))
    }

    /// From the text of a Matrix Market `coordinate` file (`CorruptFile` names the line).
    #[uniffi::constructor]
    pub fn from_matrix_market(engine: &Arc<Engine>, text: &[u8]) -> Result<Arc<SparseMatrix>> {
        Ok(SparseMatrix::wrap(api::SparseMatrix::from_matrix_market(
            &*engine.engine()?,
            text,
        )?))
    }

    /// Reads a Matrix Market file (`InvalidArgument` names the path if it cannot be read).
    #[uniffi::constructor]
    pub fn read_matrix_market(engine: &Arc<Engine>, path: String) -> Result<Arc<SparseMatrix>> {
        Ok(SparseMatrix::wrap(api::SparseMatrix::read_matrix_market(
            &*engine.engine()?,
            path,
        )?))
    }

    /// Frees the matrix now (calls in flight finish first). Later calls fail with
    /// `InvalidHandle`. Idempotent.
    pub fn release(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether [`release`](Self::release) was called.
    pub fn is_released(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Which backend holds the matrix.
    pub fn backend_kind(&self) -> Result<BackendKind> {
        Ok(self.matrix()?.backend())
    }

    /// Rows.
    pub fn n_rows(&self) -> Result<u64> {
        Ok(self.matrix()?.n_rows() as u64)
    }

    /// Columns.
    pub fn n_cols(&self) -> Result<u64> {
        Ok(self.matrix()?.n_cols() as u64)
    }

    /// Stored entries (explicit zeros included).
    pub fn nnz(&self) -> Result<u64> {
        Ok(self.matrix()?.nnz() as u64)
    }

    /// The matrix as canonical CSR arrays (a copy).
    pub fn to_csr(&self) -> Result<CsrArrays> {
        let csr = self.matrix()?.to_csr()?;
        let (n_rows, n_cols) = (csr.n_rows() as u64, csr.n_cols() as u64);
        let (indptr, indices, values) = csr.into_arrays();
        Ok(CsrArrays {
            n_rows,
            n_cols,
            indptr: le_bytes(&indptr),
            indices: le_bytes(&indices),
            values: le_bytes(&values),
        })
    }

    /// The matrix as Matrix Market text.
    pub fn to_matrix_market(&self, symmetry: MatrixMarketSymmetry) -> Result<String> {
        self.matrix()?.to_matrix_market(self::symmetry(symmetry))
    }

    /// Writes the matrix as a Matrix Market file, atomically.
    pub fn write_matrix_market(&self, path: String, symmetry: MatrixMarketSymmetry) -> Result<()> {
        self.matrix()?
            .write_matrix_market(path, self::symmetry(symmetry))
    }

    /// `A x` (`x`: `n_cols` little-endian f64), as little-endian f64.
    pub fn mul_vec(&self, x: &[u8]) -> Result<Vec<u8>> {
        let matrix = self.matrix()?;
        Ok(le_bytes(&matrix.mul_vec(&le_slice::<f64>(x, "x")?)?))
    }

    /// Conjugate gradient for symmetric positive definite `A`. `x0`: the initial guess
    /// (little-endian f64), empty to start from zero.
    pub fn cg(&self, b: &[u8], x0: &[u8], config: SolveConfig) -> Result<LinearSolution> {
        self.linear(
            b,
            x0,
            &config,
            api::SparseMatrix::cg,
            SolveReport::from_core,
        )
    }

    /// BiCGSTAB for general square `A`. `x0` as for `cg`.
    pub fn bicgstab(&self, b: &[u8], x0: &[u8], config: SolveConfig) -> Result<LinearSolution> {
        self.linear(
            b,
            x0,
            &config,
            api::SparseMatrix::bicgstab,
            SolveReport::from_core,
        )
    }

    /// Jacobi iteration for strictly diagonally dominant `A` (the precondition is checked:
    /// a violation names the first row and its margin), with its error bound. `x0` as for
    /// `cg`.
    pub fn jacobi(&self, b: &[u8], x0: &[u8], config: SolveConfig) -> Result<LinearSolution> {
        self.linear(b, x0, &config, api::SparseMatrix::jacobi, |r| {
            Ok(SolveReport {
                error_bound: Some(r.error_bound),
                contraction: Some(r.contraction),
                ..SolveReport::from_core(&r.solve)?
            })
        })
    }

    /// `x_i` of `A x = b` for strictly diagonally dominant `A`, estimated locally (dense `b`:
    /// `n_rows` little-endian f64, read only where needed).
    pub fn solve_entry(&self, b: &[u8], i: u64, config: LocalSolveConfig) -> Result<LocalEstimate> {
        let b = le_slice::<f64>(b, "b")?;
        let matrix = self.matrix()?;
        let i = to_usize(i, "row")?;
        let estimate = matrix.solve_entry(&api::Rhs::Dense(&b), i, &config.to_core())?;
        LocalEstimate::from_core(&estimate)
    }

    /// `solve_entry` with a sparse `b`: its non-zeros at `b_indices` (u32) with `b_values`
    /// (f64), each index once.
    pub fn solve_entry_sparse(
        &self,
        b_indices: &[u8],
        b_values: &[u8],
        i: u64,
        config: LocalSolveConfig,
    ) -> Result<LocalEstimate> {
        let indices = le_slice::<u32>(b_indices, "b_indices")?;
        let values = le_slice::<f64>(b_values, "b_values")?;
        let matrix = self.matrix()?;
        let i = to_usize(i, "row")?;
        let rhs = api::Rhs::Sparse {
            indices: &indices,
            values: &values,
        };
        LocalEstimate::from_core(&matrix.solve_entry(&rhs, i, &config.to_core())?)
    }

    /// `u^T x` of `A x = b` for a sparse `u` (`u_indices` u32, `u_values` f64) and a dense
    /// `b`, estimated locally.
    pub fn solve_functional(
        &self,
        b: &[u8],
        u_indices: &[u8],
        u_values: &[u8],
        config: LocalSolveConfig,
    ) -> Result<LocalEstimate> {
        let b = le_slice::<f64>(b, "b")?;
        let ui = le_slice::<u32>(u_indices, "u_indices")?;
        let uv = le_slice::<f64>(u_values, "u_values")?;
        self.local(api::Rhs::Dense(&b), &ui, &uv, &config)
    }

    /// `solve_functional` with a sparse `b` (as in `solve_entry_sparse`).
    pub fn solve_functional_sparse(
        &self,
        b_indices: &[u8],
        b_values: &[u8],
        u_indices: &[u8],
        u_values: &[u8],
        config: LocalSolveConfig,
    ) -> Result<LocalEstimate> {
        let bi = le_slice::<u32>(b_indices, "b_indices")?;
        let bv = le_slice::<f64>(b_values, "b_values")?;
        let ui = le_slice::<u32>(u_indices, "u_indices")?;
        let uv = le_slice::<f64>(u_values, "u_values")?;
        let rhs = api::Rhs::Sparse {
            indices: &bi,
            values: &bv,
        };
        self.local(rhs, &ui, &uv, &config)
    }
}

// ------------------------------------------------------------------------------ graph

/// A distribution over the nodes (personalization, dangling distribution, start vector).
/// Weights are relative (divided by their sum, as networkx does): finite, `>= 0`, not all
/// zero.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Personalization {
    /// Every node weight 1 (networkx's `personalization=None`).
    Uniform,
    /// All weight on one node.
    Node {
        /// The node.
        node: u32,
    },
    /// One weight per node (little-endian f64, `n_nodes` of them).
    Dense {
        /// The weights.
        weights: Vec<u8>,
    },
    /// Weights of some nodes (networkx's dict): `nodes` little-endian u32, each once,
    /// `weights` f64.
    Sparse {
        /// The nodes.
        nodes: Vec<u8>,
        /// Their weights.
        weights: Vec<u8>,
    },
}

/// A [`Personalization`] decoded into slices (owned only if the bytes were unaligned).
enum Decoded<'a> {
    Uniform,
    Node(u32),
    Dense(std::borrow::Cow<'a, [f64]>),
    Sparse(std::borrow::Cow<'a, [u32]>, std::borrow::Cow<'a, [f64]>),
}

impl Personalization {
    fn decode(&self, arg: &str) -> Result<Decoded<'_>> {
        Ok(match self {
            Personalization::Uniform => Decoded::Uniform,
            Personalization::Node { node } => Decoded::Node(*node),
            Personalization::Dense { weights } => Decoded::Dense(le_slice(weights, arg)?),
            Personalization::Sparse { nodes, weights } => {
                Decoded::Sparse(le_slice(nodes, arg)?, le_slice(weights, arg)?)
            }
        })
    }
}

impl Decoded<'_> {
    fn view(&self) -> api::Personalization<'_> {
        match self {
            Decoded::Uniform => api::Personalization::Uniform,
            Decoded::Node(node) => api::Personalization::Node(*node),
            Decoded::Dense(w) => api::Personalization::Dense(w),
            Decoded::Sparse(nodes, weights) => api::Personalization::Sparse { nodes, weights },
        }
    }
}

/// Options of `pagerank` (networkx's defaults).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PageRankConfig {
    /// Probability of following an edge, in `(0, 1)`.
    #[uniffi(default = 0.85)]
    pub alpha: f64,
    /// Stop once an iteration's L1 change is `< n * tol` (networkx's criterion).
    #[uniffi(default = 1e-6)]
    pub tol: f64,
    /// Iteration budget.
    #[uniffi(default = 100)]
    pub max_iter: u64,
}

/// Every node's PageRank and how far it can be from the fixed point.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PageRankResult {
    /// One score per node (little-endian f64), summing to 1.
    pub scores: Vec<u8>,
    /// Iterations performed.
    pub iterations: u64,
    /// L1 change of the last iteration (infinite if none ran).
    pub l1_change: f64,
    /// `||scores - pi||_1 <= error_bound = alpha / (1 - alpha) * l1_change`.
    pub error_bound: f64,
    /// Whether `l1_change < n * tol`.
    pub converged: bool,
    /// `Converged` or `MaxIterations`.
    pub stop: StopReason,
}

/// Options of `forward_push`.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PushConfig {
    /// Probability of following an edge, in `(0, 1)`.
    #[uniffi(default = 0.85)]
    pub alpha: f64,
    /// Push threshold: node `u` is pushed while `r(u) >= eps * W(u)`. Finite, `> 0`.
    #[uniffi(default = 1e-4)]
    pub eps: f64,
    /// Push budget.
    #[uniffi(default = 17179869184)]
    pub max_pushes: u64,
    /// Keep only the `k` best scores (the report still describes the whole run).
    #[uniffi(default = None)]
    pub top_k: Option<u64>,
}

/// Options of `backward_push`.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct BackwardPushConfig {
    /// Probability of following an edge, in `(0, 1)`.
    #[uniffi(default = 0.85)]
    pub alpha: f64,
    /// Push threshold, the additive error bound. Finite, `> 0`.
    #[uniffi(default = 1e-4)]
    pub r_max: f64,
    /// Push budget.
    #[uniffi(default = 17179869184)]
    pub max_pushes: u64,
    /// Keep only the `k` best scores.
    #[uniffi(default = None)]
    pub top_k: Option<u64>,
}

/// Options of `pair`.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PairConfig {
    /// Probability of following an edge, in `(0, 1)`.
    #[uniffi(default = 0.85)]
    pub alpha: f64,
    /// Backward push threshold.
    #[uniffi(default = 1e-4)]
    pub r_max: f64,
    /// Random walks from the source.
    #[uniffi(default = 10000)]
    pub walks: u64,
    /// Seed of the walks (same seed, same bits on every backend).
    #[uniffi(default = 0)]
    pub seed: u64,
    /// Probability that the reported bound is exceeded, in `(0, 1)`.
    #[uniffi(default = 1e-3)]
    pub failure_probability: f64,
    /// Push budget.
    #[uniffi(default = 17179869184)]
    pub max_pushes: u64,
    /// Walk-step budget over all walks.
    #[uniffi(default = 17179869184)]
    pub max_walk_steps: u64,
}

/// What a push reports with its estimates.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PushReport {
    /// The bound on `|true - estimate|` that holds for every node, listed or not (forward
    /// push: the L1 error, every estimate a lower bound; backward push: per source).
    pub error_bound: f64,
    /// Residual mass left (forward push: exactly `sum_v (pi(v) - p(v))`).
    pub residual_mass: f64,
    /// The smallest `eps` (backward: `r_max`) for which the stopping rule holds.
    pub eps_reached: f64,
    /// Pushes performed.
    pub pushes: u64,
    /// Residual updates made (the work).
    pub work: u64,
    /// Distinct nodes with state (the memory used).
    pub touched: u64,
    /// Whether every residual ended below its threshold.
    pub converged: bool,
    /// `Converged` or `MaxWork`.
    pub stop: StopReason,
}

/// Sparse estimates: `nodes` (little-endian u32) and `scores` (f64) by descending score,
/// ties by node id; nodes not listed have estimate 0.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PushOutcome {
    /// The nodes with a non-zero estimate.
    pub nodes: Vec<u8>,
    /// Their estimates.
    pub scores: Vec<u8>,
    /// How they were obtained and what they guarantee.
    pub report: PushReport,
}

fn push_outcome(result: api::PushResult) -> Result<PushOutcome> {
    let r = result.report;
    let mut nodes = Vec::with_capacity(result.scores.len() * 4);
    let mut scores = Vec::with_capacity(result.scores.len() * 8);
    for (node, score) in result.scores {
        nodes.extend_from_slice(&node.to_le_bytes());
        scores.extend_from_slice(&score.to_le_bytes());
    }
    Ok(PushOutcome {
        nodes,
        scores,
        report: PushReport {
            error_bound: r.error_bound,
            residual_mass: r.residual_mass,
            eps_reached: r.eps_reached,
            pushes: r.pushes,
            work: r.work,
            touched: r.touched as u64,
            converged: r.converged,
            stop: stop(r.stop)?,
        },
    })
}

/// One pair's personalized PageRank `pi_source(target)`.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PairEstimate {
    /// The estimate: push estimate plus the walks' mean residual.
    pub estimate: f64,
    /// The backward push's part alone, a lower bound.
    pub push_estimate: f64,
    /// Deterministic: `pi - push_estimate` is in `[0, push_bound]`.
    pub push_bound: f64,
    /// `|pi - estimate| <= error_bound` with probability `>= 1 - failure_probability`.
    pub error_bound: f64,
    /// 0 when the deterministic bound is reported, else the requested one.
    pub failure_probability: f64,
    /// Backward pushes performed.
    pub pushes: u64,
    /// Walks completed.
    pub walks: u64,
    /// Edges followed by the walks.
    pub walk_steps: u64,
    /// Residual updates plus edges scanned by the walks.
    pub work: u64,
    /// Nodes with push state.
    pub touched: u64,
    /// Whether the push met its rule and every requested walk ran.
    pub converged: bool,
    /// `Converged` or `MaxWork`.
    pub stop: StopReason,
}

fn top_k(k: Option<u64>) -> Result<Option<usize>> {
    k.map(|k| to_usize(k, "top_k")).transpose()
}

/// A directed, optionally weighted graph for PageRank with networkx's semantics (`alpha`
/// the probability of following an edge, a dangling node's mass to the personalization),
/// on the backend of the engine it was made from. Immutable and thread-safe; `release()`
/// frees it early.
#[derive(Debug, uniffi::Object)]
pub struct Graph {
    inner: RwLock<Option<api::Graph>>,
}

impl Graph {
    fn wrap(graph: api::Graph) -> Arc<Graph> {
        Arc::new(Graph {
            inner: RwLock::new(Some(graph)),
        })
    }

    fn graph(&self) -> Result<api::Graph> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::InvalidHandle)
    }
}

#[uniffi::export]
impl Graph {
    /// From edges `src[k] -> dst[k]` (little-endian u32) over `n_nodes` nodes, weighted by
    /// `weights` (little-endian f64, finite, `>= 0`; empty: 1 each). Repeated edges are
    /// summed.
    #[uniffi::constructor]
    pub fn new(
        engine: &Arc<Engine>,
        n_nodes: u64,
        src: &[u8],
        dst: &[u8],
        weights: &[u8],
    ) -> Result<Arc<Graph>> {
        let engine = engine.engine()?;
        let src = le_slice::<u32>(src, "src")?;
        let dst = le_slice::<u32>(dst, "dst")?;
        let weights = le_slice::<f64>(weights, "weights")?;
        let weights = (!weights.is_empty() || src.is_empty()).then_some(&*weights);
        Ok(Graph::wrap(api::Graph::from_edges(
            &engine,
            to_usize(n_nodes, "n_nodes")?,
            &src,
            &dst,
            weights,
        )?))
    }

    /// From a CSR adjacency (`indptr`, `indices` little-endian u32: node `u`'s out-edges are
    /// `indices[indptr[u]..indptr[u + 1]]`, any order, repeats summed), weighted by
    /// `weights` (f64 at the same positions; empty: 1 each).
    #[uniffi::constructor]
    pub fn from_csr(
        engine: &Arc<Engine>,
        n_nodes: u64,
        indptr: &[u8],
        indices: &[u8],
        weights: &[u8],
    ) -> Result<Arc<Graph>> {
        let engine = engine.engine()?;
        let indptr = le_slice::<u32>(indptr, "indptr")?;
        let indices = le_slice::<u32>(indices, "indices")?;
        let weights = le_slice::<f64>(weights, "weights")?;
        let weights = (!weights.is_empty() || indices.is_empty()).then_some(&*weights);
        Ok(Graph::wrap(api::Graph::from_csr(
            &engine,
            to_usize(n_nodes, "n_nodes")?,
            &indptr,
            &indices,
            weights,
        )?))
    }

    /// Frees the graph now. Later calls fail with `InvalidHandle`. Idempotent.
    pub fn release(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Whether [`release`](Self::release) was called.
    pub fn is_released(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Which backend holds the graph.
    pub fn backend_kind(&self) -> Result<BackendKind> {
        Ok(self.graph()?.backend())
    }

    /// Nodes.
    pub fn n_nodes(&self) -> Result<u64> {
        Ok(self.graph()?.n_nodes() as u64)
    }

    /// Distinct edges.
    pub fn n_edges(&self) -> Result<u64> {
        Ok(self.graph()?.n_edges() as u64)
    }

    /// Global (optionally personalized) PageRank by power iteration, networkx's algorithm
    /// step for step. `dangling`: where a dangling node's walk goes (absent: the
    /// personalization); `start`: the initial vector (absent: uniform).
    pub fn pagerank(
        &self,
        personalization: Personalization,
        dangling: Option<Personalization>,
        start: Option<Personalization>,
        config: PageRankConfig,
    ) -> Result<PageRankResult> {
        let graph = self.graph()?;
        let p = personalization.decode("personalization")?;
        let d = dangling
            .as_ref()
            .map(|d| d.decode("dangling"))
            .transpose()?;
        let s = start.as_ref().map(|s| s.decode("start")).transpose()?;
        let options = api::PageRankOptions {
            alpha: config.alpha,
            personalization: p.view(),
            dangling: d.as_ref().map(Decoded::view),
            start: s.as_ref().map(Decoded::view),
            tol: config.tol,
            max_iter: to_usize(config.max_iter, "max_iter")?,
        };
        let pr = graph.pagerank(&options)?;
        Ok(PageRankResult {
            scores: le_bytes(&pr.scores),
            iterations: pr.iterations as u64,
            l1_change: pr.l1_change,
            error_bound: pr.error_bound,
            converged: pr.converged,
            stop: stop(pr.stop)?,
        })
    }

    /// Personalized PageRank of `source` by forward push: every estimate a lower bound,
    /// `0 <= pi(v) - p(v)`, summing to the reported residual mass (and `<= eps * W(v)` on
    /// symmetric graphs).
    pub fn forward_push(&self, source: Personalization, config: PushConfig) -> Result<PushOutcome> {
        let graph = self.graph()?;
        let source = source.decode("source")?;
        let options = api::PushOptions {
            alpha: config.alpha,
            eps: config.eps,
            max_pushes: config.max_pushes,
            top_k: top_k(config.top_k)?,
        };
        push_outcome(graph.forward_push(&source.view(), &options)?)
    }

    /// Every source's PageRank contribution to `target` by backward push:
    /// `0 <= pi_s(target) - p(s) <= error_bound` for every source `s`.
    pub fn backward_push(&self, target: u32, config: BackwardPushConfig) -> Result<PushOutcome> {
        let graph = self.graph()?;
        let options = api::BackwardPushOptions {
            alpha: config.alpha,
            r_max: config.r_max,
            max_pushes: config.max_pushes,
            top_k: top_k(config.top_k)?,
        };
        push_outcome(graph.backward_push(target, &options)?)
    }

    /// `pi_source(target)` by backward push plus seeded random walks, with a probabilistic
    /// bound.
    pub fn pair(&self, source: u32, target: u32, config: PairConfig) -> Result<PairEstimate> {
        let graph = self.graph()?;
        let options = api::PairOptions {
            alpha: config.alpha,
            r_max: config.r_max,
            walks: config.walks,
            seed: config.seed,
            failure_probability: config.failure_probability,
            max_pushes: config.max_pushes,
            max_walk_steps: config.max_walk_steps,
        };
        let e = graph.pair(source, target, &options)?;
        Ok(PairEstimate {
            estimate: e.estimate,
            push_estimate: e.push_estimate,
            push_bound: e.push_bound,
            error_bound: e.error_bound,
            failure_probability: e.failure_probability,
            pushes: e.pushes,
            walks: e.walks,
            walk_steps: e.walk_steps,
            work: e.work,
            touched: e.touched as u64,
            converged: e.converged,
            stop: stop(e.stop)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(v: &[f64]) -> Vec<u8> {
        le_bytes(v)
    }

    fn u32s(v: &[u32]) -> Vec<u8> {
        le_bytes(v)
    }

    fn decode_f64(b: &[u8]) -> Vec<f64> {
        le_slice::<f64>(b, "x").unwrap().into_owned()
    }

    #[test]
    fn matrix_solves_and_reports_like_the_rust_api() {
        let engine = Engine::native();
        // [[4, 1], [1, 3]] from triplets; the same from CSR.
        let a = SparseMatrix::new(
            &engine,
            2,
            2,
            &u32s(&[0, 0, 1, 1]),
            &u32s(&[0, 1, 0, 1]),
            &f64s(&[4.0, 1.0, 1.0, 3.0]),
        )
        .unwrap();
        let c = a.to_csr().unwrap();
        assert_eq!(c.indptr, u32s(&[0, 2, 4]));
        let b =
            SparseMatrix::from_csr(&engine, 2, 2, &c.indptr, &c.indices, &c.values, true).unwrap();
        assert_eq!(b.nnz().unwrap(), 4);
        let config = SolveConfig {
            rtol: 1e-12,
            max_iterations: None,
            preconditioner: Some(Preconditioner::Jacobi),
            symmetry_tolerance: Some(1e-10),
        };
        let s = a.cg(&f64s(&[1.0, 2.0]), &[], config).unwrap();
        let x = decode_f64(&s.x);
        assert!((x[0] - 1.0 / 11.0).abs() < 1e-12 && (x[1] - 7.0 / 11.0).abs() < 1e-12);
        assert!(s.report.converged && s.report.relative_residual <= 1e-12);
        assert_eq!(s.report.stop, StopReason::Converged);
        assert_eq!(s.report.error_bound, None);
        // The same bits as the Rust API.
        let rust = api::SparseMatrix::from_triplets(
            &crate::Engine::native(),
            2,
            2,
            &[0, 0, 1, 1],
            &[0, 1, 0, 1],
            &[4.0, 1.0, 1.0, 3.0],
        )
        .unwrap()
        .cg(&[1.0, 2.0], &config.to_core(None).unwrap())
        .unwrap();
        assert_eq!(s.x, le_bytes(&rust.x));
        // Jacobi contracts by 1/3 per step here: 10 n = 20 steps cannot reach 1e-12.
        let short = b.jacobi(&f64s(&[1.0, 2.0]), &[], config).unwrap();
        assert!(!short.report.converged && short.report.stop == StopReason::MaxIterations);
        let long = SolveConfig {
            max_iterations: Some(200),
            ..config
        };
        let j = b
            .jacobi(&f64s(&[1.0, 2.0]), &f64s(&[1.0, 1.0]), long)
            .unwrap();
        assert!(j.report.converged);
        assert!(j.report.contraction.unwrap() < 1.0 && j.report.error_bound.unwrap() < 1e-10);
        let y = decode_f64(&a.mul_vec(&f64s(&[1.0, 1.0])).unwrap());
        assert_eq!(y, [5.0, 4.0]);
        let e = a
            .solve_entry(
                &f64s(&[1.0, 2.0]),
                1,
                LocalSolveConfig {
                    tol: 1e-10,
                    dominance: None,
                    c_max: None,
                    max_pushes: 1 << 34,
                    walks: 0,
                    seed: 0,
                    failure_probability: 1e-3,
                    max_walk_steps: 1 << 34,
                },
            )
            .unwrap();
        assert!((e.estimate - 7.0 / 11.0).abs() <= e.error_bound + 1e-15 && e.converged);
        // Bad input: a byte count that is no whole number of f64, a wrong length, release.
        assert!(matches!(
            a.cg(&[0u8; 9], &[], config),
            Err(Error::InvalidArgument(m)) if m.contains("`b`")
        ));
        assert!(matches!(
            a.cg(&f64s(&[1.0]), &[], config),
            Err(Error::DimensionMismatch { .. })
        ));
        a.release();
        assert_eq!(a.nnz(), Err(Error::InvalidHandle));
    }

    #[test]
    fn graph_push_and_pagerank() {
        let engine = Engine::native();
        // 0 -> 1, 1 -> 2, 2 -> 0, 2 -> 3; node 3 dangling.
        let g = Graph::new(&engine, 4, &u32s(&[0, 1, 2, 2]), &u32s(&[1, 2, 0, 3]), &[]).unwrap();
        assert_eq!((g.n_nodes().unwrap(), g.n_edges().unwrap()), (4, 4));
        let config = PageRankConfig {
            alpha: 0.85,
            tol: 1e-6,
            max_iter: 100,
        };
        let pr = g
            .pagerank(Personalization::Uniform, None, None, config)
            .unwrap();
        assert!((decode_f64(&pr.scores)[2] - 0.3078526047028215).abs() < 1e-12);
        let push = g
            .forward_push(
                Personalization::Node { node: 0 },
                PushConfig {
                    alpha: 0.85,
                    eps: 1e-6,
                    max_pushes: 1 << 34,
                    top_k: Some(2),
                },
            )
            .unwrap();
        assert_eq!(push.nodes.len(), 8);
        assert!(push.report.converged && push.report.error_bound < 1e-3);
        let bad = g.forward_push(
            Personalization::Node { node: 4 },
            PushConfig {
                alpha: 0.85,
                eps: 1e-6,
                max_pushes: 1 << 34,
                top_k: None,
            },
        );
        assert!(matches!(bad, Err(Error::InvalidArgument(_))));
    }
}
