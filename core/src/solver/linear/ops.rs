//! The vector operations of the linear solvers that the f64 kernel family of
//! [`crate::kernels`] does not provide: element-wise passes with no sum in them (copies, the
//! Jacobi preconditioner's product, a maximum), so their results are the same bits however
//! the compiler vectorizes them. Every inner product, norm, update with a norm and matrix
//! product of the solvers runs on a kernel table ([`Kernels`](crate::kernels::Kernels)),
//! whose fixed summation order gives the same bits on every instruction set.
//!
//! Maxima ignore nothing: a NaN term makes the result NaN, so a broken iterate can never look
//! small. Callers pass slices of equal length (the solvers size every vector from one `n`).
//! The loops zip their arguments, so unequal lengths would only shorten the loop: nothing
//! here can panic.

/// `max(m, |v|)`, NaN if either is NaN (`f64::max` would drop the NaN).
#[inline]
fn max_abs_nan(m: f64, v: f64) -> f64 {
    if m.is_nan() || v.is_nan() {
        f64::NAN
    } else {
        m.max(v.abs())
    }
}

/// `dst = src`.
pub(super) fn copy(src: &[f64], dst: &mut [f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// `y = d * x` elementwise (the Jacobi preconditioner `D^-1 x` with `d = 1 / diag(A)`).
pub(super) fn mul(d: &[f64], x: &[f64], y: &mut [f64]) {
    for ((yi, &di), &xi) in y.iter_mut().zip(d).zip(x) {
        *yi = di * xi;
    }
}

/// `max_i |d_i r_i|`, NaN if any product is NaN, 0.0 for empty slices: the max-norm of the
/// Jacobi step `D^-1 r` (each product rounded as the step's own).
pub(super) fn max_abs_mul(d: &[f64], r: &[f64]) -> f64 {
    d.iter()
        .zip(r)
        .fold(0.0, |m, (&di, &ri)| max_abs_nan(m, di * ri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elementwise_passes_match_their_definitions() {
        let d = [2.0, 0.5, -1.0];
        let r = [2.5, -9.0, 4.0];
        let mut z = [0.0; 3];
        mul(&d, &r, &mut z);
        assert_eq!(z, [5.0, -4.5, -4.0]);
        assert_eq!(max_abs_mul(&d, &r), 5.0);
        assert_eq!(max_abs_mul(&[], &[]), 0.0);
        assert!(max_abs_mul(&[1.0, f64::NAN], &[1.0, 0.0]).is_nan());
        assert!(max_abs_mul(&[f64::INFINITY, 1.0], &[0.0, 1.0]).is_nan());
        assert_eq!(max_abs_mul(&[f64::MAX, 1.0], &[4.0, 1.0]), f64::INFINITY);
        let mut c = [0.0; 3];
        copy(&z, &mut c);
        assert_eq!(c, z);
    }
}
