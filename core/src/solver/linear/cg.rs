//! Conjugate gradient, in the order of scipy's `cg` (see the module documentation).

use alloc::format;

use super::{inverse_diagonal, ops, Preconditioner, Problem, SolveOptions, Workspace};
use crate::solver::{SolveReport, Stop};
use crate::{Error, Result};

/// Workspace vectors: `x, r, p, q`, and `z, D^-1` with the Jacobi preconditioner.
pub(super) fn vectors(jacobi: bool) -> usize {
    if jacobi {
        6
    } else {
        4
    }
}

/// The matrix checks: symmetry (if asked) and a positive diagonal.
pub(super) fn check(p: &Problem<'_>, options: &SolveOptions<'_>) -> Result<()> {
    if let Some(tol) = options.symmetry_tolerance {
        if let Some(asym) = p.a.first_asymmetry(tol)? {
            return Err(Error::InvalidArgument(format!(
                "cg needs a symmetric matrix: {asym} (relative tolerance {tol})"
            )));
        }
    }
    // a_ii = e_i^T A e_i > 0 for a positive definite A: a cheap proof of the opposite, and
    // what makes the Jacobi preconditioner positive definite too. (Values are finite.)
    for i in 0..p.n {
        let d = p.a.get(i, i).unwrap_or(0.0);
        if d <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "cg needs a positive definite matrix, but row {i} has diagonal entry {d} \
                 (not positive; a missing entry is 0)"
            )));
        }
    }
    Ok(())
}

/// The Jacobi preconditioner's vectors: `z = D^-1 r` and `D^-1`.
struct Jacobi<'w> {
    z: &'w mut [f64],
    dinv: &'w mut [f64],
}

pub(super) fn run(
    pb: &Problem<'_>,
    preconditioner: Preconditioner,
    ws: &mut Workspace,
    out: &mut [f64],
) -> Result<SolveReport> {
    let n = pb.n;
    let (x, r, p, q, mut pc) = match preconditioner {
        Preconditioner::Jacobi => {
            let [x, r, p, q, z, dinv] = ws.vectors::<6>(n)?;
            inverse_diagonal(pb.a, dinv);
            (x, r, p, q, Some(Jacobi { z, dinv }))
        }
        Preconditioner::None => {
            let [x, r, p, q] = ws.vectors::<4>(n)?;
            (x, r, p, q, None)
        }
    };

    pb.start(x, r)?;
    // (r . r, r . z): the squared residual norm for the stopping test and rho = r^T M r.
    let precondition = |r: &[f64], pc: &mut Option<Jacobi<'_>>| match pc {
        Some(j) => ops::mul_dots(j.dinv, r, j.z),
        None => {
            let rr = ops::dot(r, r);
            (rr, rr)
        }
    };
    let (mut rr, mut rz) = precondition(r, &mut pc);
    let mut rz_prev = 0.0;
    let mut restart = true;
    let mut k = 0;
    loop {
        if pb.recurrence_met(rr) {
            let rel = pb.true_residual(x, q)?;
            if rel <= pb.rtol {
                return Ok(pb.finish(x, out, k, rel, Stop::Converged));
            }
            // The recurrence drifted from the truth: go on from the true residual (now in
            // q), with a fresh search direction.
            ops::copy(q, r);
            rz = precondition(r, &mut pc).1;
            restart = true;
        }
        if k >= pb.max_iterations {
            break;
        }
        if !(rz.is_finite() && rz != 0.0) {
            // No direction can be formed (overflow, or a residual that underflowed).
            return pb.conclude(x, q, out, k, Stop::Breakdown);
        }
        let z: &[f64] = match &pc {
            Some(j) => &*j.z,
            None => &*r,
        };
        if restart {
            ops::copy(z, p);
            restart = false;
        } else {
            ops::xpby(z, rz / rz_prev, p);
        }
        pb.a.mul_vec(p, q)?;
        let pq = ops::dot(p, q);
        if pq.is_nan() || pq.is_infinite() {
            return pb.conclude(x, q, out, k, Stop::Breakdown);
        }
        if pq <= 0.0 {
            return Err(Error::InvalidArgument(format!(
                "cg needs a positive definite matrix, but p^T A p = {pq} <= 0 at iteration {} \
                 (bicgstab solves indefinite systems)",
                k + 1
            )));
        }
        let alpha = rz / pq;
        if !alpha.is_finite() {
            return pb.conclude(x, q, out, k, Stop::Breakdown);
        }
        rz_prev = rz;
        (rr, rz) = match &mut pc {
            Some(j) => ops::update_xr_mul(alpha, p, q, j.dinv, x, r, j.z),
            None => {
                let rr = ops::update_xr(alpha, p, q, x, r);
                (rr, rr)
            }
        };
        k += 1;
    }
    pb.conclude(x, q, out, k, Stop::MaxIterations)
}
