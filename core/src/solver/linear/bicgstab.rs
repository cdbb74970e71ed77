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

    pb.start(x, r)?;
    ops::copy(r, rhat);
    let mut rr = ops::dot(r, r);
    let (mut rho_prev, mut alpha, mut omega) = (0.0, 0.0, 0.0);
    let mut restart = true;
    let mut k = 0;
    loop {
        if pb.recurrence_met(rr) {
            let rel = pb.true_residual(x, t)?;
            if rel <= pb.rtol {
                return Ok(pb.finish(x, out, k, rel, Stop::Converged));
            }
            // The recurrence drifted: restart from the true residual (now in t).
            ops::copy(t, r);
            ops::copy(r, rhat);
            restart = true;
        }
        if k >= pb.max_iterations {
            break;
        }
        let rho = ops::dot(rhat, r);
        if !(rho.is_finite() && rho != 0.0) {
            return pb.conclude(x, t, out, k, Stop::Breakdown);
        }
        if restart {
            ops::copy(r, p);
            restart = false;
        } else {
            let beta = (rho / rho_prev) * (alpha / omega);
            if !(omega != 0.0 && beta.is_finite()) {
                return pb.conclude(x, t, out, k, Stop::Breakdown);
            }
            ops::bicgstab_direction(beta, omega, r, v, p);
        }
        let phat: &[f64] = match &mut pc {
            Some(j) => {
                ops::mul(j.dinv, p, j.phat);
                &*j.phat
            }
            None => &*p,
        };
        pb.a.mul_vec(phat, v)?;
        let rv = ops::dot(rhat, v);
        alpha = rho / rv;
        if !(rv != 0.0 && alpha.is_finite()) {
            return pb.conclude(x, t, out, k, Stop::Breakdown);
        }
        // The half step: x += alpha p_hat, s = r - alpha v.
        let ss = ops::update_xr(alpha, phat, v, x, r);
        k += 1;
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
        pb.a.mul_vec(shat.unwrap_or(&*r), t)?;
        let (ts, tt) = ops::dot2(t, r);
        omega = ts / tt;
        if !omega.is_finite() {
            return pb.conclude(x, t, out, k, Stop::Breakdown);
        }
        // x += omega s_hat, r = s - omega t. omega = 0 leaves both as they are; the next
        // iteration reports the breakdown after its convergence test, as scipy does.
        rr = match shat {
            Some(shat) => ops::update_xr(omega, shat, t, x, r),
            None => ops::update_xs(omega, t, x, r),
        };
        rho_prev = rho;
    }
    pb.conclude(x, t, out, k, Stop::MaxIterations)
}
