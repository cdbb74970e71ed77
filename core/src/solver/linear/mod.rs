//! Iterative solvers for `A x = b` with a sparse square [`CsrRef`]: conjugate gradient
//! ([`cg`]), BiCGSTAB ([`bicgstab`]) and the Jacobi iteration ([`jacobi`]).
//!
//! ```
//! use ferrovec_core::solver::linear::{self, Preconditioner, SolveOptions};
//! use ferrovec_core::solver::Stop;
//! use ferrovec_core::sparse::CsrMatrix;
//! // [[4, 1], [1, 3]] x = [1, 2]  =>  x = [1/11, 7/11]
//! let a = CsrMatrix::from_triplets(2, 2, &[0, 0, 1, 1], &[0, 1, 0, 1], &[4.0, 1.0, 1.0, 3.0])?;
//! let opts = SolveOptions::new().rtol(1e-10).preconditioner(Preconditioner::Jacobi);
//! let sol = linear::cg(a.view(), &[1.0, 2.0], &opts)?;
//! assert!(sol.report.converged && sol.report.stop == Stop::Converged);
//! assert!(sol.report.relative_residual <= 1e-10);
//! assert!((sol.x[0] - 1.0 / 11.0).abs() < 1e-12 && (sol.x[1] - 7.0 / 11.0).abs() < 1e-12);
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
//!
//! # The methods
//!
//! | method | for | per iteration | workspace (f64 values) |
//! | --- | --- | --- | --- |
//! | [`cg`] | symmetric positive definite `A` | 1 SpMV, 2 inner products, 3 axpys (+1 diagonal scaling with Jacobi) | `4n` (`6n` with Jacobi) |
//! | [`bicgstab`] | any nonsingular `A` | 2 SpMVs, 4 inner products + 2 squared norms, 6 axpys (+2 diagonal scalings with Jacobi) | `6n` (`9n` with Jacobi) |
//! | [`jacobi`] | strictly diagonally dominant `A` | 1 SpMV, 1 squared norm, 1 axpy-like pass | `4n` |
//!
//! "axpy" counts vector updates as BLAS would; the code fuses them into fewer passes over
//! memory with the f64 kernels of [`crate::kernels`] (CG: the SpMV returns `p . q`, the
//! update of `r` returns `r . r` (with Jacobi also forms `z = D^-1 r` and `r . z`), one more
//! pass updates `x` and forms the next `p`; BiCGSTAB: both SpMVs return their inner products,
//! the last update of `r` returns the next `rho`; Jacobi: one pass over `A` computes the
//! residual, its norm and the next iterate).
//! Setup costs one SpMV when `x0` is non-zero, and every solve ends with one SpMV to check
//! its answer (below). The matrix checks run once per solve: CG's positive diagonal
//! (O(n log)), its optional symmetry check ([`SolveOptions::symmetry_tolerance`], off by
//! default: a binary search per stored entry, from a few to about 40 SpMVs' worth depending on
//! the pattern), the Jacobi method's dominance (one pass over the entries).
//!
//! # What a result guarantees
//!
//! Each method returns `x` with a [`SolveReport`] (the Jacobi method wraps it in a
//! [`JacobiReport`] that adds an error bound):
//!
//! * `relative_residual` is the **true** `||b - A x||_2 / ||b||_2`, recomputed from the `x`
//!   returned (one SpMV, norms scaled so they neither overflow nor underflow), never the
//!   recurrence's estimate;
//! * `converged` is `relative_residual <= rtol`, and `stop` is [`Stop::Converged`] exactly
//!   when `converged` is true (also when the budget ran out or a breakdown came right after
//!   the last iterate met the tolerance);
//! * otherwise `stop` says why it ended: [`Stop::MaxIterations`] (the budget ran out: not an
//!   error, `x` is the last iterate) or [`Stop::Breakdown`] (BiCGSTAB's `rho = 0` or
//!   `omega = 0`, or a non-finite scalar from overflow in any method: `x` is the last iterate,
//!   never NaN from the breakdown itself);
//! * `iterations` is the number of iterations whose update reached `x` (the `x` returned is
//!   `x_iterations`). A BiCGSTAB iteration that ends after its first half (its half-step
//!   residual met the tolerance, or its `omega` broke down) counts as one.
//!
//! `b = 0` returns `x = 0` (the exact solution, whatever `x0`) with 0 iterations,
//! `relative_residual = 0` and `converged`. An `x0` that already meets the tolerance returns
//! after 0 iterations.
//!
//! # Stopping, and scipy
//!
//! CG and BiCGSTAB mirror `scipy.sparse.linalg.cg` / `bicgstab` (scipy >= 1.12) with
//! `atol = 0` (its default): the same initial guess (`x0`, or zero; the residual is `b`
//! without an SpMV when `x0` is absent or all zeros), the same recurrences in the same order,
//! the same test `||r|| < max(rtol ||b||, atol)` on the recurrence residual at the top of each
//! iteration (here `<=`, which differs only when the two are equal), scipy's default budget
//! of `10 n` iterations, and its Jacobi preconditioner is `M = diags(1 / A.diagonal())`. So the
//! iteration counts agree with scipy's (the number of times its `callback` runs) up to the
//! rounding of differently ordered sums: exactly, for CG on the 2D Poisson systems of the
//! tests; BiCGSTAB is more sensitive (on a 1D convection-diffusion system, 108 here and 112
//! in scipy, whose algorithm replayed with this module's summation order gives 108).
//! Three differences, each toward an honest report:
//!
//! * **Drift.** When the recurrence residual meets the tolerance, the true residual is
//!   computed; if it does not meet it too, the recurrence has drifted from the truth, and
//!   the method replaces its residual by the true one, restarts its search directions from
//!   there (CG: `p = M r`; BiCGSTAB: also `r_hat = r`) and goes on within the same budget.
//!   scipy would stop and report success. (When `rtol` is below the attainable accuracy,
//!   this repeats until the budget runs out and the report says so.)
//! * The budget's last iterate is checked too: scipy reports failure when it converged on its
//!   last allowed iteration; here the true residual decides.
//! * BiCGSTAB's breakdown tests are exact (`rho == 0`, `r_hat . v == 0`, `omega == 0`, plus
//!   non-finite values), where scipy compares `|rho|` and `|omega|` with `eps^2`, a fixed
//!   absolute threshold its own source calls meaningless; and an iteration that ends at its
//!   half step counts here (scipy's callback does not run for it).
//!
//! The Jacobi method stops on the same criterion, but its residual is the true one at every
//! iteration (it computes `b - A x_k` to take its step).
//!
//! # Errors
//!
//! Checked before iterating, in this order: the options ([`SolveOptions`]:
//! `rtol` in `(0, 1)`, a symmetry tolerance finite and `>= 0`), a square matrix
//! ([`Error::DimensionMismatch`] of rows and columns), `n > 0` (an empty system is
//! [`Error::InvalidArgument`], as the project treats empty input; `b = 0` with `n > 0` is
//! not empty and is solved), the lengths of `b`, `x0` and the output
//! ([`Error::DimensionMismatch`]), NaN or infinity in `b` or `x0` (naming the index), then
//! what the method needs of `A`:
//!
//! * CG: symmetry within the tolerance if asked (naming the entry and its mirror), and a positive
//!   diagonal (a positive definite matrix has one: `a_ii = e_i^T A e_i`), naming the row.
//!   During the iteration, `p^T A p <= 0` proves `A` is not positive definite (up to rounding:
//!   a numerically singular SPD matrix can get there too) and is an
//!   [`Error::InvalidArgument`] naming the iteration and the value, as the issue asks: the
//!   caller asked for a method whose precondition failed, and a partial answer would look
//!   like a solution.
//! * BiCGSTAB: with the Jacobi preconditioner, a zero (or missing) diagonal entry, naming
//!   the row.
//! * Jacobi: a zero diagonal entry, then strict diagonal dominance, naming the first row that
//!   lacks it and its margin `|a_ii| - sum_{j != i} |a_ij|`.
//!
//! Allocation failure is [`Error::OutOfMemory`] (workspaces grow with `try_reserve`). On any
//! error the caller's output buffer is untouched: the methods iterate in their workspace and
//! copy the answer out at the end.
//!
//! # Output, workspace, memory
//!
//! [`cg`], [`bicgstab`] and [`jacobi`] return a [`Solution`] with a fresh `Vec`;
//! [`cg_into`], [`bicgstab_into`] and [`jacobi_into`] write into the caller's `&mut [f64]`
//! (what the C and wasm ABIs pass) and take a [`Workspace`] that keeps its O(n) vectors
//! between calls: once it is large enough ([`Workspace::reserve`]), a solve allocates
//! nothing (only an error's message allocates).
//!
//! # Numbers
//!
//! Every SpMV, inner product, norm and update runs on the f64 kernel family of
//! [`crate::kernels`] (the table active when the solve starts, one for the whole solve). Its
//! fixed summation order and the absence of FMA give the same bits on every instruction set
//! (scalar, AVX2, AVX-512, NEON, simd128) and so on every backend: a solve takes the same
//! iterates, the same number of iterations and returns the same `x` and report everywhere
//! (`core/tests/solver_isa.rs` checks it on every table this machine runs). The remaining
//! element-wise passes (`ops.rs`: copies, `D^-1 r`, a maximum) have no sums to order. Inside
//! the iterations, inner products are plain sums of products:
//! vectors whose squares overflow or underflow (entries beyond about `1e±150`) make the
//! iteration break down or stall, which the report then shows honestly (its final check
//! is scaled); scale such a system first.

mod bicgstab;
mod cg;
mod jacobi;
mod ops;
#[cfg(test)]
mod tests;

use alloc::format;
use alloc::vec::Vec;

use super::{SolveReport, Stop};
use crate::kernels::{self, sparse::SparseKernels};
use crate::sparse::CsrRef;
use crate::{Error, Result};

/// The default relative tolerance, scipy's: `1e-5`.
pub const DEFAULT_RTOL: f64 = 1e-5;

/// A relative tolerance for CG's optional symmetry check, `1e-10`: above the rounding of
/// assembled matrices (see [`SolveOptions::symmetry_tolerance`]).
pub const DEFAULT_SYMMETRY_TOLERANCE: f64 = 1e-10;

/// A preconditioner for [`cg`] and [`bicgstab`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preconditioner {
    /// None (scipy's `M = None`).
    #[default]
    None,
    /// Jacobi: `M = D^-1`, the inverse of `A`'s diagonal (scipy's
    /// `M = diags(1 / A.diagonal())`). Costs one pass over `A` to set up, one elementwise
    /// product per application and `n` values of workspace (plus the preconditioned
    /// vectors). Needs a non-zero diagonal (positive for CG).
    Jacobi,
}

/// The solvers of this module, to size a [`Workspace`] ahead of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// [`cg`].
    Cg,
    /// [`bicgstab`].
    BiCgStab,
    /// [`jacobi`].
    Jacobi,
}

impl Method {
    /// How many vectors of length `n` the method's workspace holds (see the
    /// [module documentation](self)); [`Method::Jacobi`] ignores the preconditioner.
    pub fn workspace_vectors(self, preconditioner: Preconditioner) -> usize {
        let jacobi = preconditioner == Preconditioner::Jacobi;
        match self {
            // x, r, p, q (+ z, D^-1)
            Method::Cg => cg::vectors(jacobi),
            // x, r, r_hat, p, v, t (+ p_hat, s_hat, D^-1)
            Method::BiCgStab => bicgstab::vectors(jacobi),
            // x, x_next, A x, D^-1
            Method::Jacobi => jacobi::VECTORS,
        }
    }
}

/// Options of [`cg`], [`bicgstab`] and [`jacobi`]; build with [`SolveOptions::new`] and the
/// setters, or change the fields of an existing value.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SolveOptions<'a> {
    /// The relative tolerance on `||b - A x|| / ||b||`, in `(0, 1)` (a tolerance of 1 or more
    /// would accept `x = 0` for every `b`). Default [`DEFAULT_RTOL`].
    pub rtol: f64,
    /// The iteration budget; `None` is scipy's default, `10 n`. `Some(0)` only evaluates the
    /// initial guess.
    pub max_iterations: Option<usize>,
    /// The initial guess (length `n`, finite); `None` starts from zero.
    pub x0: Option<&'a [f64]>,
    /// The preconditioner of [`cg`] and [`bicgstab`]; [`jacobi`] ignores it (it divides by
    /// the diagonal by construction). Default none.
    pub preconditioner: Preconditioner,
    /// [`cg`] only: check before iterating that `A` is symmetric, every stored entry within
    /// this relative tolerance of its mirror ([`CsrRef::first_asymmetry`]); `None` (the
    /// default) skips the check. [`DEFAULT_SYMMETRY_TOLERANCE`] is a good value: it allows
    /// the rounding of assembled matrices, not genuine asymmetry.
    ///
    /// Off by default because its cost depends on the pattern and can exceed the solve's,
    /// while the report stays honest without it (a nonsymmetric `A` makes CG fail to
    /// converge or hit `p^T A p <= 0`; it is never reported converged unless the true
    /// residual meets `rtol`, in which case `x` does solve the system). Measured on a million
    /// rows: 0.02 s on the 2D Poisson matrix (banded: the mirror is in cache), 1.1 s on a
    /// random sparse pattern, about 40 SpMVs, more than its 32-iteration CG solve. Turn it
    /// on to get a clear error naming the entry instead.
    pub symmetry_tolerance: Option<f64>,
}

impl Default for SolveOptions<'_> {
    fn default() -> Self {
        SolveOptions {
            rtol: DEFAULT_RTOL,
            max_iterations: None,
            x0: None,
            preconditioner: Preconditioner::None,
            symmetry_tolerance: None,
        }
    }
}

impl<'a> SolveOptions<'a> {
    /// The defaults: `rtol = 1e-5`, a budget of `10 n`, `x0 = 0`, no preconditioner, no
    /// symmetry check.
    pub fn new() -> Self {
        Self::default()
    }

    /// With relative tolerance `rtol`.
    pub fn rtol(mut self, rtol: f64) -> Self {
        self.rtol = rtol;
        self
    }

    /// With a budget of `max_iterations` iterations.
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = Some(max_iterations);
        self
    }

    /// Starting from `x0`.
    pub fn x0(mut self, x0: &'a [f64]) -> Self {
        self.x0 = Some(x0);
        self
    }

    /// With preconditioner `p`.
    pub fn preconditioner(mut self, p: Preconditioner) -> Self {
        self.preconditioner = p;
        self
    }

    /// With CG's symmetry check at relative tolerance `tol`, or without it (`None`).
    pub fn symmetry_tolerance(mut self, tol: Option<f64>) -> Self {
        self.symmetry_tolerance = tol;
        self
    }
}

/// An answer and its report, from [`cg`], [`bicgstab`] (`R = SolveReport`) or [`jacobi`]
/// (`R = JacobiReport`).
#[derive(Clone, Debug, PartialEq)]
pub struct Solution<R = SolveReport> {
    /// The answer `x`.
    pub x: Vec<f64>,
    /// How it was reached and how good it is.
    pub report: R,
}

/// What [`jacobi`] reports: the common report and an error bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JacobiReport {
    /// Iterations, true residual, converged, why it stopped.
    pub solve: SolveReport,
    /// `q = max_i sum_{j != i} |a_ij| / |a_ii|`, in `[0, 1)` for a strictly diagonally
    /// dominant matrix: the max-norm of the iteration matrix `I - D^-1 A`, by which every
    /// step contracts the error. (It can round to 1 when a row's margin is tiny.)
    pub contraction: f64,
    /// A bound on the max-norm error of the returned `x`:
    /// `||x* - x_k||_inf <= ||D^-1 (b - A x_k)||_inf / (1 - q) = error_bound`.
    ///
    /// It follows from `x* - x_k = D^-1 r_k + (I - D^-1 A)(x* - x_k)`. Since
    /// `D^-1 r_k = x_{k+1} - x_k` is the next step and shrinks by at least `q` per step, it
    /// is at most the a-priori bound `q / (1 - q) ||x_k - x_{k-1}||_inf`, and unlike that one
    /// holds at `k = 0` too. Exact up to the rounding of the computed residual; infinite if
    /// `q` rounds to 1.
    pub error_bound: f64,
}

/// Reusable O(n) workspace of the `*_into` solvers: one buffer that grows (with
/// `try_reserve`) to the largest solve it has served and is reused, not cleared (every
/// vector is written before it is read).
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    buf: Vec<f64>,
}

impl Workspace {
    /// An empty workspace; the first solve sizes it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grows the workspace now to what `method` needs for `n` unknowns with
    /// `preconditioner`, so the solve itself allocates nothing. [`Error::OutOfMemory`] if it
    /// cannot.
    pub fn reserve(
        &mut self,
        method: Method,
        n: usize,
        preconditioner: Preconditioner,
    ) -> Result<()> {
        let len = method
            .workspace_vectors(preconditioner)
            .checked_mul(n)
            .ok_or_else(|| too_large(n))?;
        self.grow(len)
    }

    /// The number of f64 values held (8 bytes each).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    fn grow(&mut self, len: usize) -> Result<()> {
        if let Some(more) = len.checked_sub(self.buf.len()).filter(|&m| m > 0) {
            self.buf
                .try_reserve_exact(more)
                .map_err(|_| too_large(len))?;
            self.buf.resize(len, 0.0);
        }
        Ok(())
    }

    /// `K` disjoint vectors of length `n > 0`, growing the buffer if needed.
    fn vectors<const K: usize>(&mut self, n: usize) -> Result<[&mut [f64]; K]> {
        let len = K.checked_mul(n).ok_or_else(|| too_large(n))?;
        if n == 0 {
            return Err(Error::Internal(
                "solver workspace: zero-length vectors".into(),
            ));
        }
        self.grow(len)?;
        let buf = self
            .buf
            .get_mut(..len)
            .ok_or_else(|| Error::Internal("solver workspace: too short".into()))?;
        let mut chunks = buf.chunks_exact_mut(n);
        // The buffer holds exactly K chunks, so the default (empty) is never used.
        Ok(core::array::from_fn(|_| chunks.next().unwrap_or_default()))
    }
}

fn too_large(n: usize) -> Error {
    Error::OutOfMemory(format!(
        "could not allocate the solver workspace for {n} unknowns"
    ))
}

/// Conjugate gradient for a symmetric positive definite `A`; see [`cg_into`], which this
/// calls with a fresh workspace and output vector.
pub fn cg(a: CsrRef<'_>, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
    let mut x = zeros(a.n_rows())?;
    let report = cg_into(a, b, options, &mut x, &mut Workspace::new())?;
    Ok(Solution { x, report })
}

/// Conjugate gradient (Hestenes-Stiefel, as scipy's `cg`) for a symmetric positive definite
/// `A`, optionally Jacobi-preconditioned, writing the answer into `x`.
///
/// Per iteration: one SpMV, two inner products, three vector updates (`p . q` computed by
/// the SpMV's pass, `r . r` by the update of `r`, `x += alpha p` done in the pass that forms
/// the next `p`: two passes besides the SpMV). The iterate returned when the budget runs out is the last one, which among all
/// iterates has the smallest error in the `A`-norm. Checks and errors, including `p^T A p <= 0`
/// (not positive definite, an error) and the symmetry check, are in the
/// [module documentation](self), as are the guarantees of the report. `x` is untouched on
/// error.
pub fn cg_into(
    a: CsrRef<'_>,
    b: &[f64],
    options: &SolveOptions<'_>,
    x: &mut [f64],
    workspace: &mut Workspace,
) -> Result<SolveReport> {
    let p = Problem::new("cg", a, b, options, x.len())?;
    cg::check(&p, options)?;
    if p.b_norm == 0.0 {
        return Ok(p.zero_solution(x));
    }
    cg::run(&p, options.preconditioner, workspace, x)
}

/// BiCGSTAB for a general (nonsymmetric) `A`; see [`bicgstab_into`], which this calls with a
/// fresh workspace and output vector.
pub fn bicgstab(a: CsrRef<'_>, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
    let mut x = zeros(a.n_rows())?;
    let report = bicgstab_into(a, b, options, &mut x, &mut Workspace::new())?;
    Ok(Solution { x, report })
}

/// BiCGSTAB (van der Vorst 1992, in scipy's form) for a general nonsingular `A`, optionally
/// Jacobi-preconditioned (right preconditioning, as scipy), writing the answer into `x`.
///
/// Per iteration: two SpMVs, four inner products and two squared norms, six vector updates
/// (the inner products computed by the SpMVs' and the updates' passes: five passes besides
/// the SpMVs). A breakdown (`rho = r_hat . r = 0`, `r_hat . v = 0`,
/// `omega = 0`, or a non-finite scalar) ends the run with [`Stop::Breakdown`], the last
/// iterate and its true residual: not an error. The rest is in the
/// [module documentation](self). `x` is untouched on error.
pub fn bicgstab_into(
    a: CsrRef<'_>,
    b: &[f64],
    options: &SolveOptions<'_>,
    x: &mut [f64],
    workspace: &mut Workspace,
) -> Result<SolveReport> {
    let p = Problem::new("bicgstab", a, b, options, x.len())?;
    bicgstab::check(&p, options)?;
    if p.b_norm == 0.0 {
        return Ok(p.zero_solution(x));
    }
    bicgstab::run(&p, options.preconditioner, workspace, x)
}

/// The Jacobi iteration for a strictly diagonally dominant `A`; see [`jacobi_into`], which
/// this calls with a fresh workspace and output vector.
pub fn jacobi(
    a: CsrRef<'_>,
    b: &[f64],
    options: &SolveOptions<'_>,
) -> Result<Solution<JacobiReport>> {
    let mut x = zeros(a.n_rows())?;
    let report = jacobi_into(a, b, options, &mut x, &mut Workspace::new())?;
    Ok(Solution { x, report })
}

/// The Jacobi iteration `x_{k+1} = x_k + D^-1 (b - A x_k) = D^-1 (b - (A - D) x_k)` (the
/// partial sums of the Neumann series of `(D^-1 A)^-1 = sum_k (I - D^-1 A)^k` applied to
/// `D^-1 b`, from `x0 = 0`) for a strictly diagonally dominant `A`, writing the answer into
/// `x`.
///
/// Strict dominance (checked first: an error names the first row that lacks it and its
/// margin) makes the iteration a contraction in the max-norm with factor
/// [`JacobiReport::contraction`] `< 1`, so it converges for every `b` and `x0`, and gives the
/// error bound [`JacobiReport::error_bound`] of the returned iterate. Per iteration: one
/// SpMV and one fused pass; the residual it tests is the true one. The preconditioner and
/// symmetry options do not apply and are ignored. `x` is untouched on error.
pub fn jacobi_into(
    a: CsrRef<'_>,
    b: &[f64],
    options: &SolveOptions<'_>,
    x: &mut [f64],
    workspace: &mut Workspace,
) -> Result<JacobiReport> {
    let p = Problem::new("jacobi", a, b, options, x.len())?;
    jacobi::check(&p)?;
    if p.b_norm == 0.0 {
        return Ok(JacobiReport {
            solve: p.zero_solution(x),
            contraction: jacobi::contraction(&p),
            error_bound: 0.0,
        });
    }
    jacobi::run(&p, workspace, x)
}

/// `n` zeros, or [`Error::OutOfMemory`].
fn zeros(n: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| too_large(n))?;
    v.resize(n, 0.0);
    Ok(v)
}

/// A validated system and the numbers every method derives from it.
struct Problem<'p> {
    a: CsrRef<'p>,
    /// The same matrix for the kernels (`A x` and its fused forms).
    ak: kernels::CsrRef<'p>,
    /// The kernel table of the whole solve (chosen once: every iterate from one table).
    k: &'static SparseKernels,
    b: &'p [f64],
    x0: Option<&'p [f64]>,
    n: usize,
    rtol: f64,
    /// `||b||_2`, scaled (never over- or underflows: [`Kernels::nrm2_f64`](crate::kernels::Kernels::nrm2_f64)).
    b_norm: f64,
    /// `rtol ||b||`: the recurrence residual's threshold (scipy's `atol` after
    /// `_get_atol_rtol` with `atol = 0`).
    threshold: f64,
    max_iterations: usize,
}

impl<'p> Problem<'p> {
    /// Every check common to the methods, in the documented order.
    fn new(
        method: &'static str,
        a: CsrRef<'p>,
        b: &'p [f64],
        options: &SolveOptions<'p>,
        out_len: usize,
    ) -> Result<Problem<'p>> {
        let rtol = options.rtol;
        if !(rtol > 0.0 && rtol < 1.0) {
            return Err(Error::InvalidArgument(format!(
                "{method}: rtol must be in (0, 1), got {rtol}"
            )));
        }
        if let Some(t) = options.symmetry_tolerance {
            if !(t.is_finite() && t >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "{method}: the symmetry tolerance must be finite and >= 0, got {t}"
                )));
            }
        }
        if !a.is_square() {
            return Err(Error::DimensionMismatch {
                expected: a.n_rows(),
                actual: a.n_cols(),
            });
        }
        let n = a.n_rows();
        if n == 0 {
            return Err(Error::InvalidArgument(format!(
                "{method}: the system is empty (a 0 x 0 matrix)"
            )));
        }
        for len in [Some(b.len()), options.x0.map(<[f64]>::len), Some(out_len)]
            .into_iter()
            .flatten()
        {
            if len != n {
                return Err(Error::DimensionMismatch {
                    expected: n,
                    actual: len,
                });
            }
        }
        finite(method, "b", b)?;
        if let Some(x0) = options.x0 {
            finite(method, "x0", x0)?;
        }
        let k = SparseKernels::active();
        let b_norm = k.nrm2_f64(b);
        Ok(Problem {
            a,
            ak: a.kernel_view(),
            k,
            b,
            x0: options.x0,
            n,
            rtol,
            b_norm,
            threshold: rtol * b_norm,
            max_iterations: options.max_iterations.unwrap_or(n.saturating_mul(10)),
        })
    }

    /// `b = 0`: `x = 0` solves it exactly.
    fn zero_solution(&self, out: &mut [f64]) -> SolveReport {
        out.fill(0.0);
        SolveReport {
            iterations: 0,
            relative_residual: 0.0,
            converged: true,
            stop: Stop::Converged,
        }
    }

    /// Sets `x` to `x0`, or to zero; returns whether it is non-zero.
    fn initial_guess(&self, x: &mut [f64]) -> bool {
        match self.x0 {
            Some(x0) if x0.iter().any(|&v| v != 0.0) => {
                ops::copy(x0, x);
                true
            }
            _ => {
                x.fill(0.0);
                false
            }
        }
    }

    /// Sets `x` to the initial guess and `r` to `b - A x`, skipping the SpMV when `x` is
    /// zero, as scipy does.
    fn start(&self, x: &mut [f64], r: &mut [f64]) -> Result<()> {
        if self.initial_guess(x) {
            self.k.residual_csr_f64(&self.ak, x, self.b, r)?;
        } else {
            ops::copy(self.b, r);
        }
        Ok(())
    }

    /// The true relative residual `||b - A x|| / ||b||` of `x`, leaving `b - A x` in `r`
    /// (the norms scaled: [`Kernels::nrm2_f64`](crate::kernels::Kernels::nrm2_f64)).
    fn true_residual(&self, x: &[f64], r: &mut [f64]) -> Result<f64> {
        self.k.residual_csr_f64(&self.ak, x, self.b, r)?;
        Ok(self.k.nrm2_f64(r) / self.b_norm)
    }

    /// Whether the recurrence's squared residual norm `rr` meets the threshold (scipy's
    /// test, a candidate to verify).
    fn recurrence_met(&self, rr: f64) -> bool {
        crate::kernels::sqrt_f64(rr) <= self.threshold
    }

    /// The report of a run that ends with `x` after `iterations` for `reason`: its true
    /// residual (computed in `tmp`) decides whether it converged.
    fn conclude(
        &self,
        x: &[f64],
        tmp: &mut [f64],
        out: &mut [f64],
        iterations: usize,
        reason: Stop,
    ) -> Result<SolveReport> {
        let rel = self.true_residual(x, tmp)?;
        Ok(self.finish(x, out, iterations, rel, reason))
    }

    /// The report of a run that returns `x` (copied to `out`) with true residual `rel` after
    /// `iterations`, stopped for `reason` unless `rel` meets the tolerance.
    fn finish(
        &self,
        x: &[f64],
        out: &mut [f64],
        iterations: usize,
        rel: f64,
        reason: Stop,
    ) -> SolveReport {
        ops::copy(x, out);
        let converged = rel <= self.rtol;
        SolveReport {
            iterations,
            relative_residual: rel,
            converged,
            stop: if converged { Stop::Converged } else { reason },
        }
    }
}

/// [`Error::InvalidArgument`] naming the first non-finite entry of `v`.
fn finite(method: &str, name: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|e| !e.is_finite()) {
        Some(i) => Err(Error::InvalidArgument(format!(
            "{method}: {name}[{i}] = {} is not finite",
            v.get(i).copied().unwrap_or(f64::NAN)
        ))),
        None => Ok(()),
    }
}

/// `d[i] = 1 / a_ii` for every row (one binary search per row). The caller has checked
/// that no diagonal entry is zero.
fn inverse_diagonal(a: CsrRef<'_>, d: &mut [f64]) {
    for (i, di) in d.iter_mut().enumerate() {
        *di = 1.0 / a.get(i, i).unwrap_or(0.0);
    }
}
