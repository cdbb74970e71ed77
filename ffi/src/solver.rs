//! The sparse solver engine on a backend chosen at run time: [`SparseMatrix`] (solve
//! `A x = b` by CG, BiCGSTAB or Jacobi; estimate one coordinate of `x` locally) and [`Graph`]
//! (PageRank: global, personalized by forward push, single-target by backward push, one
//! pair by push + walks).
//!
//! The algorithms are the core's ([`ferrovec_core::solver`], [`ferrovec_core::sparse`]);
//! this module adds the choice of backend (through an [`Engine`]), files, and what a caller
//! should not have to manage (the dangling-node correction of backward estimates).
//!
//! Every method returns its answer with a report that never claims more than was checked:
//! the true residual, the error bound, the work done, whether it converged and why it
//! stopped ([`Stop`]). A budget that runs out is not an error: the best estimate comes back
//! with `converged = false`. Bad input is a typed [`Error`] and leaves the caller's buffers
//! untouched.
//!
//! ```
//! use ferrovec::solver::{SolveOptions, SparseMatrix};
//! use ferrovec::Engine;
//!
//! // [[4, 1], [1, 3]] x = [1, 2]
//! let a = SparseMatrix::from_triplets(&Engine::native(), 2, 2, &[0, 0, 1, 1], &[0, 1, 0, 1],
//!                                     &[4.0, 1.0, 1.0, 3.0])?;
//! let solution = a.cg(&[1.0, 2.0], &SolveOptions::new().rtol(1e-12))?;
//! assert!(solution.report.converged && solution.report.relative_residual <= 1e-12);
//! assert!((solution.x[0] - 1.0 / 11.0).abs() < 1e-12);
//! # Ok::<(), ferrovec::Error>(())
//! ```

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use ferrovec_core::solver::pagerank::{
    self, BackwardOptions, DanglingCorrection, DEFAULT_MAX_PUSHES, DEFAULT_MAX_WALK_STEPS,
};
use ferrovec_core::solver::{linear, local};
use ferrovec_core::sparse::{self, matrix_market, CsrMatrix};
use ferrovec_core::{Error, Result};

use crate::{files, BackendKind, Engine};

pub use ferrovec_core::solver::linear::{JacobiReport, Preconditioner, Solution, SolveOptions};
pub use ferrovec_core::solver::local::{LocalSolve, LocalSolveOptions, Rhs};
pub use ferrovec_core::solver::pagerank::{
    PageRank, PageRankOptions, PairEstimate, Personalization, PushOptions, PushReport, PushResult,
};
pub use ferrovec_core::solver::{SolveReport, Stop};
pub use ferrovec_core::sparse::matrix_market::Symmetry;

/// What a [`Backend`](crate::backend::Backend) implements to hold a sparse matrix: the
/// core's methods on an immutable CSR matrix, every one fallible (an interpreted matrix can
/// run out of fuel or memory in any call). Implementations validate arguments exactly as
/// the core does, so a bad call fails identically on every backend.
pub trait MatrixBackend: Send + Sync + fmt::Debug {
    /// `(n_rows, n_cols)`.
    fn shape(&self) -> (usize, usize);
    /// Stored entries.
    fn nnz(&self) -> usize;
    /// The matrix, copied out.
    fn to_csr(&self) -> Result<CsrMatrix>;
    /// `y = A x`. On failure `y` is unchanged.
    fn mul_vec(&self, x: &[f64], y: &mut [f64]) -> Result<()>;
    /// See [`linear::cg`].
    fn cg(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution>;
    /// See [`linear::bicgstab`].
    fn bicgstab(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution>;
    /// See [`linear::jacobi`].
    fn jacobi(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution<JacobiReport>>;
    /// See [`local::solve_functional`].
    fn solve_functional(
        &self,
        b: &Rhs<'_>,
        u_indices: &[u32],
        u_values: &[f64],
        options: &LocalSolveOptions,
    ) -> Result<LocalSolve>;
}

/// What a [`Backend`](crate::backend::Backend) implements to hold a graph for PageRank:
/// the core's methods on an immutable [`sparse::Graph`], every one fallible.
pub trait GraphBackend: Send + Sync + fmt::Debug {
    /// Nodes.
    fn n_nodes(&self) -> usize;
    /// Distinct edges.
    fn n_edges(&self) -> usize;
    /// See [`pagerank::pagerank`].
    fn pagerank(&self, options: &PageRankOptions<'_>) -> Result<PageRank>;
    /// See [`pagerank::forward_push`].
    fn forward_push(
        &self,
        source: &Personalization<'_>,
        options: &PushOptions,
    ) -> Result<PushResult>;
    /// See [`Graph::backward_push`].
    fn backward_push(&self, target: u32, options: &BackwardPushOptions) -> Result<PushResult>;
    /// See [`Graph::pair`].
    fn pair(&self, source: u32, target: u32, options: &PairOptions) -> Result<PairEstimate>;
}

/// Options of [`Graph::backward_push`]: the core's [`BackwardOptions`] without the
/// dangling-node correction, which the graph computes and caches itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackwardPushOptions {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Push threshold, the additive error bound (before the correction's share). Finite,
    /// `> 0`. Default `1e-4`.
    pub r_max: f64,
    /// Push budget.
    pub max_pushes: u64,
    /// Keep only the `k` best scores.
    pub top_k: Option<usize>,
}

impl Default for BackwardPushOptions {
    fn default() -> Self {
        BackwardPushOptions {
            alpha: 0.85,
            r_max: 1e-4,
            max_pushes: DEFAULT_MAX_PUSHES,
            top_k: None,
        }
    }
}

/// Options of [`Graph::pair`]: the core's [`pagerank::PairOptions`] without the
/// dangling-node correction, which the graph computes and caches itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairOptions {
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
    /// Push budget.
    pub max_pushes: u64,
    /// Walk-step budget over all walks.
    pub max_walk_steps: u64,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            alpha: 0.85,
            r_max: 1e-4,
            walks: 10_000,
            seed: 0,
            failure_probability: 1e-3,
            max_pushes: DEFAULT_MAX_PUSHES,
            max_walk_steps: DEFAULT_MAX_WALK_STEPS,
        }
    }
}

/// The tolerance and budget of the dangling-node correction a graph computes for backward
/// estimates ([`DanglingCorrection`]): its error adds `tol / (1 - alpha)` to their bounds,
/// negligible next to any useful `r_max`; the iteration contracts by `alpha` per step, so
/// the budget covers `alpha` up to `1 - 1e-3`.
const CORRECTION_TOL: f64 = 1e-13;
const CORRECTION_MAX_ITER: usize = 100_000;

// ------------------------------------------------------------------------------ native

/// The native backend's matrix: the core's, run in this process.
#[derive(Debug)]
pub(crate) struct NativeMatrix(pub(crate) CsrMatrix);

impl MatrixBackend for NativeMatrix {
    fn shape(&self) -> (usize, usize) {
        (self.0.n_rows(), self.0.n_cols())
    }
    fn nnz(&self) -> usize {
        self.0.nnz()
    }
    fn to_csr(&self) -> Result<CsrMatrix> {
        self.0.view().to_matrix()
    }
    fn mul_vec(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.0.mul_vec(x, y)
    }
    fn cg(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
        linear::cg(self.0.view(), b, options)
    }
    fn bicgstab(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
        linear::bicgstab(self.0.view(), b, options)
    }
    fn jacobi(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution<JacobiReport>> {
        linear::jacobi(self.0.view(), b, options)
    }
    fn solve_functional(
        &self,
        b: &Rhs<'_>,
        u_indices: &[u32],
        u_values: &[f64],
        options: &LocalSolveOptions,
    ) -> Result<LocalSolve> {
        local::solve_functional(self.0.view(), b, u_indices, u_values, options)
    }
}

/// The native backend's graph: the core's, with the dangling-node corrections computed so
/// far (one per `alpha`).
#[derive(Debug)]
pub(crate) struct NativeGraph {
    graph: sparse::Graph,
    corrections: Mutex<Vec<Arc<DanglingCorrection>>>,
}

impl NativeGraph {
    pub(crate) fn new(graph: sparse::Graph) -> NativeGraph {
        NativeGraph {
            graph,
            corrections: Mutex::new(Vec::new()),
        }
    }

    /// The correction for `alpha`, computed once per `alpha` and only for a graph with
    /// dangling nodes (without them backward estimates need none).
    fn correction(&self, alpha: f64) -> Result<Option<Arc<DanglingCorrection>>> {
        if self.graph.dangling().is_empty() {
            return Ok(None);
        }
        // A panic elsewhere cannot leave the cache half-written: entries are pushed whole.
        let mut cache = self
            .corrections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = cache
            .iter()
            .find(|c| c.alpha().to_bits() == alpha.to_bits())
        {
            return Ok(Some(Arc::clone(found)));
        }
        let made = Arc::new(DanglingCorrection::new(
            &self.graph,
            alpha,
            CORRECTION_TOL,
            CORRECTION_MAX_ITER,
        )?);
        cache.push(Arc::clone(&made));
        Ok(Some(made))
    }
}

impl GraphBackend for NativeGraph {
    fn n_nodes(&self) -> usize {
        self.graph.n_nodes()
    }
    fn n_edges(&self) -> usize {
        self.graph.n_edges()
    }
    fn pagerank(&self, options: &PageRankOptions<'_>) -> Result<PageRank> {
        pagerank::pagerank(&self.graph, options)
    }
    fn forward_push(
        &self,
        source: &Personalization<'_>,
        options: &PushOptions,
    ) -> Result<PushResult> {
        pagerank::forward_push(&self.graph, source, options)
    }
    fn backward_push(&self, target: u32, options: &BackwardPushOptions) -> Result<PushResult> {
        let correction = self.correction(options.alpha)?;
        let core = BackwardOptions {
            alpha: options.alpha,
            r_max: options.r_max,
            max_pushes: options.max_pushes,
            top_k: options.top_k,
            correction: correction.as_deref(),
        };
        pagerank::backward_push(&self.graph, target, &core)
    }
    fn pair(&self, source: u32, target: u32, options: &PairOptions) -> Result<PairEstimate> {
        let correction = self.correction(options.alpha)?;
        let core = pagerank::PairOptions {
            alpha: options.alpha,
            r_max: options.r_max,
            walks: options.walks,
            seed: options.seed,
            failure_probability: options.failure_probability,
            max_pushes: options.max_pushes,
            max_walk_steps: options.max_walk_steps,
            correction: correction.as_deref(),
        };
        pagerank::pair(&self.graph, source, target, &core)
    }
}

// ------------------------------------------------------------------------------ matrix

/// A sparse matrix (CSR, `f64` values) on the backend of the [`Engine`] it was created
/// from, with the solvers of `A x = b` and the local single-coordinate estimate.
///
/// The matrix is immutable: every method takes `&self`, `SparseMatrix` is `Send + Sync`,
/// and clones share one matrix. Native calls run concurrently; interpreted calls on one
/// engine's module run one at a time.
///
/// Construction validates everything (see [`ferrovec_core::sparse`]): row pointers,
/// column ranges, canonical order where required, finite values; a bad entry is
/// [`Error::InvalidArgument`] naming its row and position.
#[derive(Clone)]
pub struct SparseMatrix {
    inner: Arc<dyn MatrixBackend>,
    backend: BackendKind,
}

impl fmt::Debug for SparseMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rows, cols) = self.inner.shape();
        f.debug_struct("SparseMatrix")
            .field("backend", &self.backend)
            .field("shape", &(rows, cols))
            .field("nnz", &self.inner.nnz())
            .finish()
    }
}

impl SparseMatrix {
    /// The matrix `matrix` on `engine`'s backend.
    pub fn from_matrix(engine: &Engine, matrix: CsrMatrix) -> Result<SparseMatrix> {
        Ok(SparseMatrix {
            inner: Arc::from(engine.backend().new_matrix(matrix)?),
            backend: engine.kind(),
        })
    }

    /// From CSR arrays in canonical form (columns strictly increasing within each row, as
    /// scipy's `has_canonical_format`); see [`SparseMatrix::from_csr_unsorted`] otherwise.
    /// The arrays are copied.
    pub fn from_csr(
        engine: &Engine,
        n_rows: usize,
        n_cols: usize,
        indptr: &[u32],
        indices: &[u32],
        values: &[f64],
    ) -> Result<SparseMatrix> {
        let view = sparse::CsrRef::new(n_rows, n_cols, indptr, indices, values)?;
        SparseMatrix::from_matrix(engine, view.to_matrix()?)
    }

    /// From CSR arrays whose columns may come in any order within a row, duplicates summed.
    pub fn from_csr_unsorted(
        engine: &Engine,
        n_rows: usize,
        n_cols: usize,
        indptr: &[u32],
        indices: &[u32],
        values: &[f64],
    ) -> Result<SparseMatrix> {
        let matrix = CsrMatrix::from_csr_unsorted(n_rows, n_cols, indptr, indices, values)?;
        SparseMatrix::from_matrix(engine, matrix)
    }

    /// From `(row, col, value)` triplets in any order, duplicates summed.
    pub fn from_triplets(
        engine: &Engine,
        n_rows: usize,
        n_cols: usize,
        rows: &[u32],
        cols: &[u32],
        values: &[f64],
    ) -> Result<SparseMatrix> {
        let matrix = CsrMatrix::from_triplets(n_rows, n_cols, rows, cols, values)?;
        SparseMatrix::from_matrix(engine, matrix)
    }

    /// From the text of a Matrix Market `coordinate` file (see
    /// [`matrix_market::read`]); [`Error::CorruptFile`] names the offending line.
    pub fn from_matrix_market(engine: &Engine, text: &[u8]) -> Result<SparseMatrix> {
        SparseMatrix::from_matrix(engine, matrix_market::read(text)?)
    }

    /// Reads a Matrix Market file. An unreadable file is [`Error::InvalidArgument`] naming
    /// the path and the reason.
    pub fn read_matrix_market(engine: &Engine, path: impl AsRef<Path>) -> Result<SparseMatrix> {
        SparseMatrix::from_matrix_market(engine, &files::read(path.as_ref())?)
    }

    /// Which backend holds the matrix.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Rows.
    pub fn n_rows(&self) -> usize {
        self.inner.shape().0
    }

    /// Columns.
    pub fn n_cols(&self) -> usize {
        self.inner.shape().1
    }

    /// Stored entries (explicit zeros included).
    pub fn nnz(&self) -> usize {
        self.inner.nnz()
    }

    /// The matrix as an owned CSR copy.
    pub fn to_csr(&self) -> Result<CsrMatrix> {
        self.inner.to_csr()
    }

    /// The matrix as Matrix Market text (`real`, `general` or `symmetric`; see
    /// [`matrix_market::write`]).
    pub fn to_matrix_market(&self, symmetry: Symmetry) -> Result<String> {
        matrix_market::write(self.to_csr()?.view(), symmetry)
    }

    /// Writes the matrix as a Matrix Market file, atomically (a temporary file in the same
    /// directory, renamed over `path`): a crash leaves the old file or the new one.
    pub fn write_matrix_market(&self, path: impl AsRef<Path>, symmetry: Symmetry) -> Result<()> {
        let text = self.to_matrix_market(symmetry)?;
        files::write_atomic(path.as_ref(), text.as_bytes())
    }

    /// `A x`.
    pub fn mul_vec(&self, x: &[f64]) -> Result<Vec<f64>> {
        let mut y = vec![0.0; self.n_rows()];
        self.inner.mul_vec(x, &mut y)?;
        Ok(y)
    }

    /// `y = A x` into the caller's buffer (`n_rows` long); unchanged on failure.
    pub fn mul_vec_into(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.inner.mul_vec(x, y)
    }

    /// Conjugate gradient for symmetric positive definite `A` (see [`linear::cg`]: scipy's
    /// `cg` recurrences and stopping rule, the true residual reported).
    pub fn cg(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
        self.inner.cg(b, options)
    }

    /// BiCGSTAB for general `A` (see [`linear::bicgstab`]).
    pub fn bicgstab(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
        self.inner.bicgstab(b, options)
    }

    /// Jacobi iteration (the Neumann series of `D^-1 A`) for strictly diagonally dominant
    /// `A`, with its a-posteriori error bound (see [`linear::jacobi`]).
    pub fn jacobi(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution<JacobiReport>> {
        self.inner.jacobi(b, options)
    }

    /// `x_i` of `A x = b` for strictly diagonally dominant `A`, estimated locally by push
    /// on the Neumann series (plus seeded walks if asked), reading only the rows it
    /// reaches (see [`local::solve_entry`]).
    pub fn solve_entry(
        &self,
        b: &Rhs<'_>,
        i: usize,
        options: &LocalSolveOptions,
    ) -> Result<LocalSolve> {
        let row = u32::try_from(i)
            .ok()
            .filter(|_| i < self.n_rows())
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "row {i} is out of range for a matrix of {} rows",
                    self.n_rows()
                ))
            })?;
        self.inner.solve_functional(b, &[row], &[1.0], options)
    }

    /// `u^T x` of `A x = b` for a sparse `u` (see [`local::solve_functional`]).
    pub fn solve_functional(
        &self,
        b: &Rhs<'_>,
        u_indices: &[u32],
        u_values: &[f64],
        options: &LocalSolveOptions,
    ) -> Result<LocalSolve> {
        self.inner.solve_functional(b, u_indices, u_values, options)
    }
}

// ------------------------------------------------------------------------------ graph

/// A directed, optionally weighted graph for PageRank, on the backend of the [`Engine`] it
/// was created from. Semantics are networkx's (`networkx.pagerank`): `alpha` is the
/// probability of following an edge, weights are divided by the weighted out-degree, a
/// dangling node's mass goes to the personalization (see [`ferrovec_core::solver::pagerank`]
/// and [`sparse::Graph`] for repeated edges, self-loops and zero weights).
///
/// Immutable, `Send + Sync`, clones share one graph. Backward estimates
/// ([`backward_push`](Self::backward_push), [`pair`](Self::pair)) on a graph with dangling
/// nodes need a per-`alpha` correction ([`DanglingCorrection`]): the graph computes it on
/// first use of each `alpha` (an `O(edges)`-per-iteration global pass, to `1e-13`) and keeps
/// it, and its error is included in the reported bounds.
#[derive(Clone)]
pub struct Graph {
    inner: Arc<dyn GraphBackend>,
    backend: BackendKind,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("backend", &self.backend)
            .field("n_nodes", &self.inner.n_nodes())
            .field("n_edges", &self.inner.n_edges())
            .finish()
    }
}

impl Graph {
    /// The graph `graph` on `engine`'s backend.
    pub fn from_graph(engine: &Engine, graph: sparse::Graph) -> Result<Graph> {
        Ok(Graph {
            inner: Arc::from(engine.backend().new_graph(graph)?),
            backend: engine.kind(),
        })
    }

    /// From an edge list `src[i] -> dst[i]` over `n_nodes` nodes, with optional weights
    /// (finite, `>= 0`; repeated edges summed).
    pub fn from_edges(
        engine: &Engine,
        n_nodes: usize,
        src: &[u32],
        dst: &[u32],
        weights: Option<&[f64]>,
    ) -> Result<Graph> {
        Graph::from_graph(
            engine,
            sparse::Graph::from_edges(n_nodes, src, dst, weights)?,
        )
    }

    /// From CSR adjacency arrays (row `u` lists `u`'s out-edges), with optional weights.
    pub fn from_csr(
        engine: &Engine,
        n_nodes: usize,
        indptr: &[u32],
        indices: &[u32],
        weights: Option<&[f64]>,
    ) -> Result<Graph> {
        Graph::from_graph(
            engine,
            sparse::Graph::from_csr(n_nodes, indptr, indices, weights)?,
        )
    }

    /// Which backend holds the graph.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Nodes.
    pub fn n_nodes(&self) -> usize {
        self.inner.n_nodes()
    }

    /// Distinct edges.
    pub fn n_edges(&self) -> usize {
        self.inner.n_edges()
    }

    /// Global (optionally personalized) PageRank by power iteration, networkx's algorithm
    /// step for step (see [`pagerank::pagerank`]).
    pub fn pagerank(&self, options: &PageRankOptions<'_>) -> Result<PageRank> {
        self.inner.pagerank(options)
    }

    /// Personalized PageRank by forward push, reading only the out-edges of the nodes it
    /// pushes (see [`pagerank::forward_push`] for the guarantee).
    pub fn forward_push(
        &self,
        source: &Personalization<'_>,
        options: &PushOptions,
    ) -> Result<PushResult> {
        self.inner.forward_push(source, options)
    }

    /// Every source's PageRank contribution to `target` by backward push (see
    /// [`pagerank::backward_push`]).
    pub fn backward_push(&self, target: u32, options: &BackwardPushOptions) -> Result<PushResult> {
        self.inner.backward_push(target, options)
    }

    /// `pi_source(target)` by backward push plus seeded random walks, with a probabilistic
    /// bound (see [`pagerank::pair`]).
    pub fn pair(&self, source: u32, target: u32, options: &PairOptions) -> Result<PairEstimate> {
        self.inner.pair(source, target, options)
    }
}
