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

    let kern = pb.k;
    pb.start(x, r)?;
    // (r . r, r . z): the squared residual norm for the stopping test and rho = r^T M r.
    let precondition = |r: &[f64], pc: &mut Option<Jacobi<'_>>| -> Result<(f64, f64)> {
        let rr = kern.dot_f64(r, r)?;
        Ok(match pc {
            Some(j) => {
                ops::mul(j.dinv, r, j.z);
                (rr, kern.dot_f64(r, j.z)?)
            }
            None => (rr, rr),
        })
    };
    let (mut rr, mut rz) = precondition(r, &mut pc)?;
    let mut rz_prev = 0.0;
    let mut restart = true;
    // The step `x += alpha p` of the last iteration, not yet applied: it goes with the next
    // direction `p = z + beta p` in one pass over `p` (axpy_xpby_f64, the same bits as the
    // two updates apart), or alone wherever `x` is read or `p` replaced first.
    let mut pending: Option<f64> = None;
    let flush = |pending: &mut Option<f64>, p: &[f64], x: &mut [f64]| -> Result<()> {
        match pending.take() {
            Some(alpha) => kern.axpy_f64(alpha, p, x),
            None => Ok(()),
        }
    };
    let mut k = 0;
    loop {
        if pb.recurrence_met(rr) {
            flush(&mut pending, p, x)?;
            let rel = pb.true_residual(x, q)?;
            if rel <= pb.rtol {
                return Ok(pb.finish(x, out, k, rel, Stop::Converged));
            }
            // The recurrence drifted from the truth: go on from the true residual (now in
            // q), with a fresh search direction.
            ops::copy(q, r);
            rz = precondition(r, &mut pc)?.1;
            restart = true;
        }
        if k >= pb.max_iterations {
            break;
        }
        if !(rz.is_finite() && rz != 0.0) {
            // No direction can be formed (overflow, or a residual that underflowed).
            flush(&mut pending, p, x)?;
            return pb.conclude(x, q, out, k, Stop::Breakdown);
        }
        let z: &[f64] = match &pc {
            Some(j) => &*j.z,
            None => &*r,
        };
        if restart {
            flush(&mut pending, p, x)?;
            ops::copy(z, p);
            restart = false;
        } else {
            // scipy's `p *= beta; p += z`: the same two roundings (and x += alpha p first).
            let beta = rz / rz_prev;
            match pending.take() {
                Some(alpha) => kern.axpy_xpby_f64(alpha, beta, z, x, p)?,
                None => kern.xpby_f64(z, beta, p)?,
            }
        }
        // q = A p and p . q in one pass over A.
        let [pq, _] = kern.spmv_dots_csr_f64(&pb.ak, p, p, q)?;
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
        // r -= alpha q (as r + (-alpha) q: the same bits) with r . r, and with Jacobi
        // z = D^-1 r and r . z in the same pass; x += alpha p waits for the next p.
        pending = Some(alpha);
        (rr, rz) = match &mut pc {
            Some(j) => {
                let [zr, rr] = kern.axpy_jacobi_dots_f64(-alpha, q, r, j.dinv, j.z)?;
                (rr, zr)
            }
            None => {
                let rr = kern.axpy_dot_f64(-alpha, q, r)?;
                (rr, rr)
            }
        };
        k += 1;
    }
    flush(&mut pending, p, x)?;
    pb.conclude(x, q, out, k, Stop::MaxIterations)
}
