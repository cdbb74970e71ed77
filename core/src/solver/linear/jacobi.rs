//! The Jacobi iteration with its max-norm error bound (see the module documentation).

use alloc::format;

use super::{inverse_diagonal, ops, JacobiReport, Problem, Workspace};
use crate::solver::Stop;
use crate::{Error, Result};

/// Workspace vectors: three iterates (`x_{k-1}, x_k, x_{k+1}`, rotated) and `D^-1`.
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
    let [mut prev, mut x, mut next, dinv] = ws.vectors::<VECTORS>(pb.n)?;
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
    // The report of `solve`, whose true residual `b - A x` is in `r`: the step
    // `||D^-1 r||_inf` of the bound is formed from it.
    let report = |solve, r: &[f64]| JacobiReport {
        solve,
        contraction: q,
        error_bound: bound(ops::max_abs_mul(dinv, r)),
    };
    pb.initial_guess(x);
    let kern = pb.k;
    let mut k = 0;
    loop {
        // One pass over A: r = b - A x_k (the true residual of x_k: the test below needs no
        // recurrence), x_{k+1} = x_k + D^-1 r into `next`, and r . r.
        let rr = kern.jacobi_csr_f64(&pb.ak, dinv, pb.b, x, next)?;
        if !rr.is_finite() {
            // Overflow (values near f64::MAX) in x_k or its residual: x_k is no answer, so
            // the last one is x_{k-1} (`prev`), which had a finite residual; or x_0 itself.
            return Ok(if k == 0 {
                let solve = pb.conclude(x, prev, out, k, Stop::Breakdown)?;
                report(solve, prev)
            } else {
                let solve = pb.conclude(prev, x, out, k - 1, Stop::Breakdown)?;
                report(solve, x)
            });
        }
        if pb.recurrence_met(rr) {
            // Confirmed with the scaled norm the report uses (they differ only in rounding).
            // x_{k-1} is needed no more: `prev` takes the residual.
            let rel = pb.true_residual(x, prev)?;
            if rel <= pb.rtol {
                return Ok(report(pb.finish(x, out, k, rel, Stop::Converged), prev));
            }
        }
        if k >= pb.max_iterations {
            let solve = pb.conclude(x, prev, out, k, Stop::MaxIterations)?;
            return Ok(report(solve, prev));
        }
        // (x_{k-1}, x_k, x_{k+1}) -> (x_k, x_{k+1}, free).
        core::mem::swap(&mut prev, &mut x);
        core::mem::swap(&mut x, &mut next);
        k += 1;
    }
}
