//! The vector operations of the linear solvers: plain scalar loops with kernel-like
//! signatures, kept in this one file so that switching them to the f64 SIMD kernels of
//! [`crate::kernels`] (`dot_f64`, `axpy_f64`, `nrm2_f64`, the fused updates) is mechanical.
//!
//! Summation order: every sum (dot products, squared norms) adds its terms one at a time in
//! index order into a single accumulator, starting from 0.0. That is deterministic (the same
//! inputs give the same bits on every machine, native or wasm) and is the reference a SIMD
//! kernel may differ from in the last bits. Maxima ignore nothing: a NaN term makes the
//! result NaN, so a broken iterate can never look small.
//!
//! Callers pass slices of equal length (the solvers size every vector from one `n`). The
//! loops zip their arguments, so unequal lengths would only shorten the loop: nothing here
//! can panic.

use crate::kernels::sqrt_f64;

/// `a . b`.
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (&ai, &bi) in a.iter().zip(b) {
        s += ai * bi;
    }
    s
}

/// `(t . s, t . t)` in one pass (BiCGSTAB's `omega`).
pub(super) fn dot2(t: &[f64], s: &[f64]) -> (f64, f64) {
    let (mut ts, mut tt) = (0.0, 0.0);
    for (&ti, &si) in t.iter().zip(s) {
        ts += ti * si;
        tt += ti * ti;
    }
    (ts, tt)
}

/// `max(m, |v|)`, NaN if either is NaN (`f64::max` would drop the NaN).
fn max_abs_nan(m: f64, v: f64) -> f64 {
    if m.is_nan() || v.is_nan() {
        f64::NAN
    } else {
        m.max(v.abs())
    }
}

/// `max_i |x_i|`, NaN if any entry is NaN, 0.0 for an empty slice.
fn max_abs(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |m, &v| max_abs_nan(m, v))
}

/// `||x||_2`, scaled so that it neither overflows nor underflows: `m sqrt(sum (x_i / m)^2)`
/// with `m = max_i |x_i|` (two passes). Used where an honest number matters more than speed:
/// `||b||` once per solve and the true residual of the answer. Infinite if an entry is,
/// NaN if an entry is NaN.
pub(super) fn nrm2(x: &[f64]) -> f64 {
    let m = max_abs(x);
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    let mut s = 0.0;
    for &v in x {
        let t = v / m;
        s += t * t;
    }
    m * sqrt_f64(s)
}

/// `dst = src`.
pub(super) fn copy(src: &[f64], dst: &mut [f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// `y = b - y` (a residual from `y = A x`).
pub(super) fn sub_from(b: &[f64], y: &mut [f64]) {
    for (yi, &bi) in y.iter_mut().zip(b) {
        *yi = bi - *yi;
    }
}

/// `y = d * x` elementwise (the Jacobi preconditioner `D^-1 x` with `d = 1 / diag(A)`).
pub(super) fn mul(d: &[f64], x: &[f64], y: &mut [f64]) {
    for ((yi, &di), &xi) in y.iter_mut().zip(d).zip(x) {
        *yi = di * xi;
    }
}

/// `z = d * r` and `(r . r, r . z)`, in one pass (the preconditioned CG's start).
pub(super) fn mul_dots(d: &[f64], r: &[f64], z: &mut [f64]) -> (f64, f64) {
    let (mut rr, mut rz) = (0.0, 0.0);
    for ((zi, &di), &ri) in z.iter_mut().zip(d).zip(r) {
        let v = di * ri;
        *zi = v;
        rr += ri * ri;
        rz += ri * v;
    }
    (rr, rz)
}

/// `y = x + beta y` (CG's new search direction `p = z + beta p`, as scipy's
/// `p *= beta; p += z`).
pub(super) fn xpby(x: &[f64], beta: f64, y: &mut [f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = xi + beta * *yi;
    }
}

/// `x += alpha p; r -= alpha q`, returning the new `r . r`: one pass for CG's update and
/// both of BiCGSTAB's half steps.
pub(super) fn update_xr(alpha: f64, p: &[f64], q: &[f64], x: &mut [f64], r: &mut [f64]) -> f64 {
    let mut rr = 0.0;
    for (((xi, ri), &pi), &qi) in x.iter_mut().zip(r.iter_mut()).zip(p).zip(q) {
        *xi += alpha * pi;
        *ri -= alpha * qi;
        rr += *ri * *ri;
    }
    rr
}

/// `x += alpha r; r -= alpha q`, returning the new `r . r`: [`update_xr`] with `p = r`
/// (BiCGSTAB's second half step without a preconditioner, where `s_hat = s` is `r`).
pub(super) fn update_xs(alpha: f64, q: &[f64], x: &mut [f64], r: &mut [f64]) -> f64 {
    let mut rr = 0.0;
    for ((xi, ri), &qi) in x.iter_mut().zip(r.iter_mut()).zip(q) {
        *xi += alpha * *ri;
        *ri -= alpha * qi;
        rr += *ri * *ri;
    }
    rr
}

/// [`update_xr`] followed by `z = d * r`, returning `(r . r, r . z)`: the Jacobi-
/// preconditioned CG's update in one pass.
pub(super) fn update_xr_mul(
    alpha: f64,
    p: &[f64],
    q: &[f64],
    d: &[f64],
    x: &mut [f64],
    r: &mut [f64],
    z: &mut [f64],
) -> (f64, f64) {
    let (mut rr, mut rz) = (0.0, 0.0);
    for (((((xi, ri), zi), &pi), &qi), &di) in x
        .iter_mut()
        .zip(r.iter_mut())
        .zip(z.iter_mut())
        .zip(p)
        .zip(q)
        .zip(d)
    {
        *xi += alpha * pi;
        *ri -= alpha * qi;
        let zv = di * *ri;
        *zi = zv;
        rr += *ri * *ri;
        rz += *ri * zv;
    }
    (rr, rz)
}

/// `p = r + beta (p - omega v)`: BiCGSTAB's new direction, in scipy's order
/// (`p -= omega v; p *= beta; p += r`).
pub(super) fn bicgstab_direction(beta: f64, omega: f64, r: &[f64], v: &[f64], p: &mut [f64]) {
    for ((pi, &ri), &vi) in p.iter_mut().zip(r).zip(v) {
        *pi = ri + beta * (*pi - omega * vi);
    }
}

/// One Jacobi sweep from `ax = A x`: `r = b - ax`, `x_next = x + d * r`; returns
/// `(r . r, max_i |d_i r_i|)`, the squared residual norm of `x` and the step's max-norm.
pub(super) fn jacobi_sweep(
    b: &[f64],
    ax: &[f64],
    d: &[f64],
    x: &[f64],
    x_next: &mut [f64],
) -> (f64, f64) {
    let (mut rr, mut step) = (0.0, 0.0f64);
    for ((((xn, &bi), &axi), &di), &xi) in x_next.iter_mut().zip(b).zip(ax).zip(d).zip(x) {
        let ri = bi - axi;
        let si = di * ri;
        *xn = xi + si;
        rr += ri * ri;
        // A NaN step stays NaN, so the bound cannot look finite.
        step = max_abs_nan(step, si);
    }
    (rr, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_run_in_index_order() {
        // 1e16 + 1 - 1e16 in order is 0 (the 1 is absorbed), any other grouping gives 1.
        assert_eq!(dot(&[1e16, 1.0, -1e16], &[1.0, 1.0, 1.0]), 0.0);
        assert_eq!(dot2(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), (32.0, 14.0));
    }

    #[test]
    fn nrm2_neither_overflows_nor_underflows() {
        assert_eq!(nrm2(&[3.0, 4.0]), 5.0);
        assert!((nrm2(&[3e200, 4e200]) - 5e200).abs() <= 1e185);
        assert!((nrm2(&[3e-200, 4e-200]) - 5e-200).abs() <= 1e-215);
        assert_eq!(nrm2(&[0.0, -0.0]), 0.0);
        assert_eq!(nrm2(&[]), 0.0);
        assert!(nrm2(&[1.0, f64::NAN, 2.0]).is_nan());
        assert!(nrm2(&[f64::NAN, f64::INFINITY]).is_nan());
        assert_eq!(nrm2(&[1.0, f64::NEG_INFINITY]), f64::INFINITY);
    }

    #[test]
    fn fused_updates_match_their_definitions() {
        let p = [1.0, -2.0, 0.5];
        let q = [0.25, 4.0, -1.0];
        let d = [2.0, 0.5, -1.0];
        let mut x = [1.0, 1.0, 1.0];
        let mut r = [3.0, -1.0, 2.0];
        let rr = update_xr(2.0, &p, &q, &mut x, &mut r);
        assert_eq!(x, [3.0, -3.0, 2.0]);
        assert_eq!(r, [2.5, -9.0, 4.0]);
        assert_eq!(rr, 2.5 * 2.5 + 81.0 + 16.0);

        let mut x2 = [1.0, 1.0, 1.0];
        let mut r2 = [3.0, -1.0, 2.0];
        let mut z = [0.0; 3];
        let (rr2, rz) = update_xr_mul(2.0, &p, &q, &d, &mut x2, &mut r2, &mut z);
        assert_eq!((x2, r2, rr2), (x, r, rr));
        assert_eq!(z, [5.0, -4.5, -4.0]);
        assert_eq!(rz, 12.5 + 40.5 - 16.0);
        let mut z2 = [0.0; 3];
        assert_eq!(mul_dots(&d, &r, &mut z2), (rr, rz));
        assert_eq!(z2, z);
        let mut y = [0.0; 3];
        mul(&d, &r, &mut y);
        assert_eq!(y, z);

        let mut xs = [1.0, 1.0, 1.0];
        let mut rs = [3.0, -1.0, 2.0];
        let rrs = update_xs(2.0, &q, &mut xs, &mut rs);
        assert_eq!(xs, [7.0, -1.0, 5.0]);
        assert_eq!(rs, [2.5, -9.0, 4.0]);
        assert_eq!(rrs, rr);

        let mut y = [1.0, 2.0, 3.0];
        xpby(&[1.0, 1.0, 1.0], 0.5, &mut y);
        assert_eq!(y, [1.5, 2.0, 2.5]);

        let mut p = [1.0, 2.0, 3.0];
        bicgstab_direction(2.0, 0.5, &[1.0, 0.0, -1.0], &[2.0, 2.0, 2.0], &mut p);
        assert_eq!(p, [1.0, 2.0, 3.0]);

        let mut y = [1.0, 5.0];
        sub_from(&[3.0, 3.0], &mut y);
        assert_eq!(y, [2.0, -2.0]);
        let mut c = [0.0; 2];
        copy(&y, &mut c);
        assert_eq!(c, y);
    }

    #[test]
    fn jacobi_sweep_returns_residual_and_step() {
        let mut xn = [0.0; 2];
        let (rr, step) = jacobi_sweep(&[5.0, 1.0], &[1.0, 2.0], &[0.5, 0.25], &[1.0, 1.0], &mut xn);
        assert_eq!(xn, [3.0, 0.75]);
        assert_eq!(rr, 17.0);
        assert_eq!(step, 2.0);
        let (_, step) = jacobi_sweep(
            &[f64::NAN, 1.0],
            &[0.0, 9.0],
            &[1.0, 1.0],
            &[0.0, 0.0],
            &mut xn,
        );
        assert!(step.is_nan());
    }
}
