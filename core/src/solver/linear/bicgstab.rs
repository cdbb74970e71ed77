//! BiCGSTAB, in the order of scipy's `bicgstab` (see the module documentation).

use alloc::format;

use super::{inverse_diagonal, ops, Preconditioner, Problem, SolveOptions, Workspace};
use crate::solver::{SolveReport, Stop};
use crate::{Error, Result};

/// Workspace vectors: `x, r, r_hat, p, v, t`, and `p_hat, s_hat, D^-1` with the Jacobi
/// preconditioner.
pub(super) fn vectors(jacobi: bool) -> usize {
    if jacobi {
        9
    } else {
        6
    }
}

/// The matrix check: a non-zero diagonal when the Jacobi preconditioner divides by it.
pub(super) fn check(p: &Problem<'_>, options: &SolveOptions<'_>) -> Result<()> {
    if options.preconditioner == Preconditioner::Jacobi {
        if let Some(zero) = p.a.find_zero_diagonal() {
            return Err(Error::InvalidArgument(format!(
                "bicgstab with the Jacobi preconditioner divides by the diagonal, but {zero}"
            )));
        }
    }
    Ok(())
}

/// The Jacobi preconditioner's vectors: `p_hat = D^-1 p`, `s_hat = D^-1 s` and `D^-1`.
struct Jacobi<'w> {
    phat: &'w mut [f64],
    shat: &'w mut [f64],
    dinv: &'w mut [f64],
}

pub(super) fn run(
    pb: &Problem<'_>,
    preconditioner: Preconditioner,
    ws: &mut Workspace,
    out: &mut [f64],
) -> Result<SolveReport> {
    let n = pb.n;
    // r holds r_k and, within an iteration, s = r_k - alpha v (as scipy's `r -= alpha*v`).
    let (x, r, rhat, p, v, t, mut pc) = match preconditioner {
        Preconditioner::Jacobi => {
            let [x, r, rhat, p, v, t, phat, shat, dinv] = ws.vectors::<9>(n)?;
            inverse_diagonal(pb.a, dinv);
            (x, r, rhat, p, v, t, Some(Jacobi { phat, shat, dinv }))
        }
        Preconditioner::None => {
            let [x, r, rhat, p, v, t] = ws.vectors::<6>(n)?;
            (x, r, rhat, p, v, t, None)
        }
    };

    let kern = pb.k;
    pb.start(x, r)?;
    ops::copy(r, rhat);
    let mut rr = kern.dot_f64(r, r)?;
    // r_hat . r when the last update computed it (and no restart replaced r since).
    let mut rho_next: Option<f64> = None;
    let (mut rho_prev, mut alpha, mut omega) = (0.0, 0.0, 0.0);
    let mut restart = true;
    let mut it = 0;
    loop {
        if pb.recurrence_met(rr) {
            let rel = pb.true_residual(x, t)?;
            if rel <= pb.rtol {
                return Ok(pb.finish(x, out, it, rel, Stop::Converged));
            }
            // The recurrence drifted: restart from the true residual (now in t).
            ops::copy(t, r);
            ops::copy(r, rhat);
            rho_next = None;
            restart = true;
        }
        if it >= pb.max_iterations {
            break;
        }
        let rho = match rho_next.take() {
            Some(rho) => rho,
            None => kern.dot_f64(rhat, r)?,
        };
        if !(rho.is_finite() && rho != 0.0) {
            return pb.conclude(x, t, out, it, Stop::Breakdown);
        }
        if restart {
            ops::copy(r, p);
            restart = false;
        } else {
            let beta = (rho / rho_prev) * (alpha / omega);
            if !(omega != 0.0 && beta.is_finite()) {
                return pb.conclude(x, t, out, it, Stop::Breakdown);
            }
            // scipy's `p -= omega v; p *= beta; p += r`: the same roundings.
            kern.bicgstab_p_f64(beta, omega, r, v, p)?;
        }
        let phat: &[f64] = match &mut pc {
            Some(j) => {
                ops::mul(j.dinv, p, j.phat);
                &*j.phat
            }
            None => &*p,
        };
        // v = A p_hat and r_hat . v in one pass over A.
        let [rv, _] = kern.spmv_dots_csr_f64(&pb.ak, phat, rhat, v)?;
        alpha = rho / rv;
        if !(rv != 0.0 && alpha.is_finite()) {
            return pb.conclude(x, t, out, it, Stop::Breakdown);
        }
        // The half step: x += alpha p_hat, s = r - alpha v.
        kern.axpy_f64(alpha, phat, x)?;
        let ss = kern.axpy_dot_f64(-alpha, v, r)?;
        it += 1;
        if pb.recurrence_met(ss) {
            // scipy returns here; the top of the loop verifies it (and goes on if it drifted).
            rr = ss;
            continue;
        }
        let shat: Option<&[f64]> = match &mut pc {
            Some(j) => {
                ops::mul(j.dinv, r, j.shat);
                Some(&*j.shat)
            }
            None => None,
        };
        // t = A s_hat, then s . t and t . t in the same pass.
        let [ts, tt] = kern.spmv_dots_csr_f64(&pb.ak, shat.unwrap_or(&*r), r, t)?;
        omega = ts / tt;
        if !omega.is_finite() {
            return pb.conclude(x, t, out, it, Stop::Breakdown);
        }
        // x += omega s_hat, r = s - omega t. omega = 0 leaves both as they are; the next
        // iteration reports the breakdown after its convergence test, as scipy does.
        // x first: without a preconditioner s_hat is s, which r holds until its update.
        kern.axpy_f64(omega, shat.unwrap_or(&*r), x)?;
        let [rho_new, rr_new] = kern.axpy_dots_f64(-omega, t, r, rhat)?;
        rr = rr_new;
        rho_next = Some(rho_new);
        rho_prev = rho;
    }
    pb.conclude(x, t, out, it, Stop::MaxIterations)
}
