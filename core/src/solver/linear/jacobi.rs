//! The Jacobi iteration with its max-norm error bound (see the module documentation).

use alloc::format;

use super::{inverse_diagonal, ops, JacobiReport, Problem, Workspace};
use crate::solver::Stop;
use crate::{Error, Result};

/// Workspace vectors: `x, x_next, A x, D^-1`.
pub(super) const VECTORS: usize = 4;

/// The matrix checks: a non-zero diagonal (named as such, the clearest message), then
/// strict diagonal dominance.
pub(super) fn check(p: &Problem<'_>) -> Result<()> {
    if let Some(zero) = p.a.find_zero_diagonal() {
        return Err(Error::InvalidArgument(format!(
            "jacobi divides by the diagonal, but {zero}"
        )));
    }
    if let Some(row) = p.a.first_non_dominant_row() {
        return Err(Error::InvalidArgument(format!(
            "jacobi needs a strictly diagonally dominant matrix: {row}"
        )));
    }
    Ok(())
}

/// `q = max_i sum_{j != i} |a_ij| / |a_ii|` (the caller checked strict dominance, so every
/// `|a_ii| > 0`). One pass over the entries.
pub(super) fn contraction(p: &Problem<'_>) -> f64 {
    let mut q = 0.0f64;
    for (i, (cols, vals)) in p.a.rows().enumerate() {
        let (mut diag, mut off) = (0.0f64, 0.0f64);
        for (&c, &v) in cols.iter().zip(vals) {
            if c as usize == i {
                diag = v.abs();
            } else {
                off += v.abs();
            }
        }
        q = q.max(off / diag);
    }
    q
}

pub(super) fn run(pb: &Problem<'_>, ws: &mut Workspace, out: &mut [f64]) -> Result<JacobiReport> {
    let [mut x, mut x_next, ax, dinv] = ws.vectors::<VECTORS>(pb.n)?;
    inverse_diagonal(pb.a, dinv);
    let q = contraction(pb);
    // ||x* - x_k|| <= ||D^-1 r_k|| / (1 - q); q rounded to 1 leaves no finite bound.
    let bound = |step: f64| {
        if q < 1.0 {
            step / (1.0 - q)
        } else {
            f64::INFINITY
        }
    };
    let report = |solve, step| JacobiReport {
        solve,
        contraction: q,
        error_bound: bound(step),
    };
    pb.initial_guess(x);
    let mut k = 0;
    loop {
        pb.a.mul_vec(x, ax)?;
        // r = b - A x is the true residual of x: the test below needs no recurrence.
        let (rr, step) = ops::jacobi_sweep(pb.b, ax, dinv, x, x_next);
        if pb.recurrence_met(rr) {
            // Confirmed with the scaled norm the report uses (they differ only in rounding).
            let rel = pb.true_residual(x, ax)?;
            if rel <= pb.rtol {
                return Ok(report(pb.finish(x, out, k, rel, Stop::Converged), step));
            }
        }
        let stop = if k >= pb.max_iterations {
            Stop::MaxIterations
        } else if !(rr.is_finite() && step.is_finite()) {
            // Overflow (values near f64::MAX): x_next would be no better.
            Stop::Breakdown
        } else {
            core::mem::swap(&mut x, &mut x_next);
            k += 1;
            continue;
        };
        return Ok(report(pb.conclude(x, ax, out, k, stop)?, step));
    }
}
