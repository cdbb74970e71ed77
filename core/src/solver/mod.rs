//! The sparse solver engine: iterative solvers for `A x = b`, sublinear local estimates of
//! single coordinates, and PageRank (global and personalized), on the matrices and graphs
//! of [`crate::sparse`].
//!
//! * [`pagerank`]: PageRank with networkx's semantics: global power iteration, and the
//!   local methods (forward push from a source, backward push to a target, a bidirectional
//!   pair estimate), each with its guarantee.
//! * [`local`]: `x_i` (or `u^T x`) of a strictly diagonally dominant `A x = b` by push on
//!   the Neumann series and seeded random walks, reading only rows near `i`.
//!
//! # Honest results
//!
//! Every method returns its answer together with a report of how it got there, and the
//! report never claims more than was checked:
//!
//! * iterative solvers recompute the **true** relative residual `||b - A x|| / ||b||` from the
//!   `x` they return (not the recurrence's estimate, which drifts), and say converged only
//!   if that residual meets the tolerance;
//! * local (push / walk) methods report the error bound their invariant guarantees, the work
//!   done and the entries touched;
//! * a run that exhausts its budget (iterations, pushes, walks) returns its best estimate
//!   with `converged = false` and [`Stop`] naming the budget: not an error, and never a
//!   silent "converged".
//!
//! Bad input (non-square, mismatched lengths, NaN or infinity, an empty system, a zero
//! diagonal where one is needed, an out-of-range node, `eps <= 0`, `alpha` outside `(0, 1)`)
//! is a typed [`crate::Error`]; nothing panics, and the caller's output buffers are left
//! untouched.
//!
//! # Modules
//!
//! * [`linear`]: conjugate gradient, BiCGSTAB and the Jacobi iteration for `A x = b`.

pub mod linear;

pub mod local;
pub mod pagerank;

/// Why an iterative or local method stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stop {
    /// The stopping criterion was met (see the method's docs for which one; for solvers of
    /// `A x = b`, the true relative residual at most the tolerance).
    Converged,
    /// The iteration budget ran out first.
    MaxIterations,
    /// The work budget (pushes, walks, touched entries) ran out first.
    MaxWork,
    /// The method cannot continue (e.g. a Krylov breakdown: a zero denominator); the answer
    /// is the last iterate.
    Breakdown,
}

/// What an iterative solver of `A x = b` reports with its `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveReport {
    /// Iterations performed (matrix-vector products with `A`, for the Krylov methods one
    /// or two per iteration as each method documents).
    pub iterations: usize,
    /// `||b - A x|| / ||b||` recomputed from the returned `x` (2-norms). For `b = 0` the
    /// solution is `x = 0` and this is 0.
    pub relative_residual: f64,
    /// Whether `relative_residual <= tolerance`.
    pub converged: bool,
    /// Why the method stopped.
    pub stop: Stop,
}
