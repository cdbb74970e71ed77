//! Linear solver tests. Every method is checked against an independent reference written
//! here (dense LU with partial pivoting and Cholesky in f64, a textbook dense CG, known exact
//! solutions, iteration counts measured with scipy), on generated matrices: 1D and 2D
//! Poisson, random strictly diagonally dominant (nonsymmetric), random SPD `B^T B + delta I`,
//! badly scaled and ill-conditioned ones; every report is checked against a residual
//! recomputed densely here; every error leaves the output buffer as it was.

// Dense LU and Cholesky read as the textbook writes them, with indices.
#![allow(clippy::needless_range_loop)]

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::sparse::CsrMatrix;

/// splitmix64 stream for test data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [-1, 1).
    fn f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.f64()).collect()
    }
}

type Dense = Vec<Vec<f64>>;

fn dense(a: &CsrMatrix) -> Dense {
    let mut d = vec![vec![0.0; a.n_cols()]; a.n_rows()];
    for (i, (cols, vals)) in a.rows().enumerate() {
        for (&c, &v) in cols.iter().zip(vals) {
            d[i][c as usize] = v;
        }
    }
    d
}

fn from_dense(d: &Dense) -> CsrMatrix {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for (i, row) in d.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            if x != 0.0 {
                r.push(i as u32);
                c.push(j as u32);
                v.push(x);
            }
        }
    }
    CsrMatrix::from_triplets(d.len(), d.len(), &r, &c, &v).unwrap()
}

fn from_triplets(n: usize, t: &[(usize, usize, f64)]) -> CsrMatrix {
    let r: Vec<u32> = t.iter().map(|e| e.0 as u32).collect();
    let c: Vec<u32> = t.iter().map(|e| e.1 as u32).collect();
    let v: Vec<f64> = t.iter().map(|e| e.2).collect();
    CsrMatrix::from_triplets(n, n, &r, &c, &v).unwrap()
}

fn norm(v: &[f64]) -> f64 {
    libm::sqrt(v.iter().map(|x| x * x).sum())
}

fn norm_inf(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn rel_err(x: &[f64], reference: &[f64]) -> f64 {
    let d: Vec<f64> = x.iter().zip(reference).map(|(a, b)| a - b).collect();
    norm(&d) / norm(reference)
}

fn matvec(a: &Dense, x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum())
        .collect()
}

/// Gaussian elimination with partial pivoting.
fn lu_solve(a: &Dense, b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut m = a.clone();
    let mut x = b.to_vec();
    for k in 0..n {
        let piv = (k..n)
            .max_by(|&i, &j| m[i][k].abs().total_cmp(&m[j][k].abs()))
            .unwrap();
        assert!(m[piv][k] != 0.0, "singular reference matrix");
        m.swap(k, piv);
        x.swap(k, piv);
        for i in k + 1..n {
            let f = m[i][k] / m[k][k];
            for j in k..n {
                m[i][j] -= f * m[k][j];
            }
            x[i] -= f * x[k];
        }
    }
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| m[k][j] * x[j]).sum();
        x[k] = (x[k] - s) / m[k][k];
    }
    x
}

/// Cholesky `A = L L^T`, then two triangular solves; panics unless `A` is SPD.
fn cholesky_solve(a: &Dense, b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        assert!(d > 0.0, "reference matrix not positive definite");
        l[j][j] = libm::sqrt(d);
        for i in j + 1..n {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = (a[i][j] - s) / l[j][j];
        }
    }
    let mut y = b.to_vec();
    for i in 0..n {
        y[i] = (y[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    for i in (0..n).rev() {
        y[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * y[k]).sum::<f64>()) / l[i][i];
    }
    y
}

/// Checks a report against this file's own residual of the returned `x`: the numbers
/// agree up to the rounding of computing `b - A x`, `converged` is exactly "the residual
/// meets rtol", and `Stop::Converged` goes with `converged`. Returns the residual.
fn assert_honest(a: &Dense, b: &[f64], x: &[f64], report: &SolveReport, rtol: f64) -> f64 {
    let ax = matvec(a, x);
    let r: Vec<f64> = b.iter().zip(&ax).map(|(b, y)| b - y).collect();
    let own = norm(&r) / norm(b);
    // |A| |x|: the scale of the rounding in b - A x.
    let abs_ax: Vec<f64> = a
        .iter()
        .map(|row| row.iter().zip(x).map(|(a, x)| (a * x).abs()).sum())
        .collect();
    let slack = 1e-13 * (norm(&abs_ax) + norm(b)) / norm(b);
    assert!(
        (report.relative_residual - own).abs() <= slack,
        "reported residual {} vs recomputed {own} (slack {slack})",
        report.relative_residual
    );
    assert_eq!(
        report.converged,
        report.relative_residual <= rtol,
        "{report:?}"
    );
    assert_eq!(
        report.stop == Stop::Converged,
        report.converged,
        "{report:?}"
    );
    if report.converged {
        assert!(own <= rtol + slack, "converged but residual {own} > {rtol}");
    }
    own
}

/// tridiag(-1, 2, -1).
fn poisson_1d(n: usize) -> CsrMatrix {
    let mut t = Vec::new();
    for i in 0..n {
        t.push((i, i, 2.0));
        if i > 0 {
            t.push((i, i - 1, -1.0));
            t.push((i - 1, i, -1.0));
        }
    }
    from_triplets(n, &t)
}

/// The 5-point Laplacian on an m x m grid (Dirichlet), m^2 unknowns: scipy's
/// `kron(I, T) + kron(T, I)` with `T = tridiag(-1, 2, -1)`.
fn poisson_2d(m: usize) -> CsrMatrix {
    let mut t = Vec::new();
    for i in 0..m {
        for j in 0..m {
            let k = i * m + j;
            t.push((k, k, 4.0));
            if j > 0 {
                t.push((k, k - 1, -1.0));
            }
            if j + 1 < m {
                t.push((k, k + 1, -1.0));
            }
            if i > 0 {
                t.push((k, k - m, -1.0));
            }
            if i + 1 < m {
                t.push((k, k + m, -1.0));
            }
        }
    }
    from_triplets(m * m, &t)
}

/// A random strictly diagonally dominant matrix: `per_row` off-diagonal entries in
/// `[-1, 1)` per row, and a diagonal of random sign with `|a_ii| = off_i / q_i`, every
/// `q_i <= q` (so the Jacobi contraction is at most `q`; equal to it in row 0).
fn random_sdd(rng: &mut Rng, n: usize, per_row: usize, q: f64) -> CsrMatrix {
    let mut t = Vec::new();
    for i in 0..n {
        let mut off = 0.0;
        for _ in 0..per_row {
            let j = rng.below(n);
            if j != i {
                let v = rng.f64();
                off += v.abs();
                t.push((i, j, v));
            }
        }
        let qi = if i == 0 {
            q
        } else {
            q * (0.5 + 0.5 * rng.f64().abs())
        };
        let d = if off > 0.0 { off / qi } else { 1.0 };
        t.push((i, i, if rng.f64() < 0.0 { -d } else { d }));
    }
    // Duplicate positions are summed by from_triplets, which can only lower the
    // off-diagonal sums: still dominant, contraction at most q.
    from_triplets(n, &t)
}

/// `B^T B + delta I` with a random dense `B`.
fn random_spd(rng: &mut Rng, n: usize, delta: f64) -> Dense {
    let b: Dense = (0..n).map(|_| rng.vec(n)).collect();
    let mut a = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            a[i][j] = (0..n).map(|k| b[k][i] * b[k][j]).sum();
        }
        a[i][i] += delta;
    }
    a
}

fn opts(rtol: f64) -> SolveOptions<'static> {
    SolveOptions::new().rtol(rtol)
}

/// The three methods behind one signature, for tests that hold for each.
type Into =
    fn(CsrRef<'_>, &[f64], &SolveOptions<'_>, &mut [f64], &mut Workspace) -> Result<SolveReport>;

fn jacobi_solve(
    a: CsrRef<'_>,
    b: &[f64],
    o: &SolveOptions<'_>,
    x: &mut [f64],
    w: &mut Workspace,
) -> Result<SolveReport> {
    jacobi_into(a, b, o, x, w).map(|r| r.solve)
}

const METHODS: [(&str, Into); 3] = [
    ("cg", cg_into),
    ("bicgstab", bicgstab_into),
    ("jacobi", jacobi_solve),
];

fn message(e: Error) -> String {
    match e {
        Error::InvalidArgument(m) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

// ---------------------------------------------------------------- conjugate gradient

#[test]
fn cg_on_1d_poisson_matches_cholesky_and_an_exact_solution() {
    let mut rng = Rng(1);
    for n in [1, 2, 3, 10, 100] {
        let a = poisson_1d(n);
        let d = dense(&a);
        let b = rng.vec(n);
        let sol = cg(a.view(), &b, &opts(1e-10)).unwrap();
        assert_honest(&d, &b, &sol.x, &sol.report, 1e-10);
        assert!(sol.report.converged, "n = {n}: {:?}", sol.report);
        // In exact arithmetic CG ends within n iterations; rounding may add a few.
        assert!(sol.report.iterations <= n + 5, "n = {n}: {:?}", sol.report);
        // cond(A) < 4 (n + 1)^2 / pi^2 < 0.5 (n + 1)^2: the error is at most cond * rtol.
        let cond = 0.5 * ((n + 1) * (n + 1)) as f64;
        let err = rel_err(&sol.x, &cholesky_solve(&d, &b));
        assert!(err <= cond * 1e-10, "n = {n}: error {err}");
    }
    // A x = b with x = (1, 2, ..., n): b = (0, ..., 0, n + 1).
    let n = 50;
    let mut b = vec![0.0; n];
    b[n - 1] = (n + 1) as f64;
    let sol = cg(poisson_1d(n).view(), &b, &opts(1e-13)).unwrap();
    for (i, &xi) in sol.x.iter().enumerate() {
        assert!((xi - (i + 1) as f64).abs() < 1e-9, "x[{i}] = {xi}");
    }
}

/// A textbook CG on a dense matrix, written independently of the solver: x0 = 0, stop when
/// `||r|| <= rtol ||b||` at the top of an iteration.
fn textbook_cg(a: &Dense, b: &[f64], rtol: f64) -> (Vec<f64>, usize) {
    let n = b.len();
    let mut x = vec![0.0; n];
    let mut r = b.to_vec();
    let mut p = r.clone();
    let mut rs: f64 = r.iter().map(|v| v * v).sum();
    let tol = rtol * norm(b);
    for k in 0..10 * n {
        if libm::sqrt(rs) <= tol {
            return (x, k);
        }
        let ap = matvec(a, &p);
        let alpha = rs / p.iter().zip(&ap).map(|(a, b)| a * b).sum::<f64>();
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * ap[i];
        }
        let rs_new: f64 = r.iter().map(|v| v * v).sum();
        for i in 0..n {
            p[i] = r[i] + rs_new / rs * p[i];
        }
        rs = rs_new;
    }
    (x, 10 * n)
}

#[test]
fn cg_iterations_match_scipy_and_a_textbook_cg_on_2d_poisson() {
    // scipy 1.17.1: `cg(kron(I,T) + kron(T,I), ones(m*m), rtol=1e-8, callback=count)` runs
    // 28 iterations for m = 16 and 59 for m = 32, with M = diags(1/A.diagonal()) too.
    for (m, scipy) in [(16, 28), (32, 59)] {
        let a = poisson_2d(m);
        let d = dense(&a);
        let b = vec![1.0; m * m];
        let (x_ref, k_ref) = textbook_cg(&d, &b, 1e-8);
        for pre in [Preconditioner::None, Preconditioner::Jacobi] {
            let sol = cg(a.view(), &b, &opts(1e-8).preconditioner(pre)).unwrap();
            assert_honest(&d, &b, &sol.x, &sol.report, 1e-8);
            assert!(sol.report.converged);
            assert_eq!(sol.report.iterations, scipy, "m = {m}, {pre:?}");
            assert!(
                sol.report.iterations.abs_diff(k_ref) <= 1,
                "textbook: {k_ref}"
            );
            assert!(rel_err(&sol.x, &x_ref) < 1e-6);
        }
    }
}

#[test]
fn cg_on_random_spd_matches_cholesky() {
    let mut rng = Rng(2);
    for (n, delta) in [(5, 1.0), (40, 0.1), (80, 1e-2)] {
        let d = random_spd(&mut rng, n, delta);
        let a = from_dense(&d);
        let b = rng.vec(n);
        let sol = cg(a.view(), &b, &opts(1e-12).max_iterations(50 * n)).unwrap();
        assert_honest(&d, &b, &sol.x, &sol.report, 1e-12);
        assert!(sol.report.converged, "n = {n}: {:?}", sol.report);
        // cond(A) <= (||B||^2 + delta) / delta <= (n^2 + delta) / delta (entries < 1).
        let cond = ((n * n) as f64 + delta) / delta;
        let err = rel_err(&sol.x, &cholesky_solve(&d, &b));
        assert!(err <= cond * 1e-12, "n = {n}: error {err}");
    }
}

#[test]
fn jacobi_preconditioner_fixes_a_badly_scaled_spd_matrix() {
    // S P S with P the 1D Laplacian and S = diag(10^(3 u)), u in [-1, 1): SPD, with
    // diagonal entries spread over 12 orders of magnitude.
    let mut rng = Rng(3);
    let n = 100;
    let s: Vec<f64> = (0..n).map(|_| libm::pow(10.0, 3.0 * rng.f64())).collect();
    let p = dense(&poisson_1d(n));
    let d: Dense = (0..n)
        .map(|i| (0..n).map(|j| s[i] * p[i][j] * s[j]).collect())
        .collect();
    let a = from_dense(&d);
    let b = rng.vec(n);
    let reference = cholesky_solve(&d, &b);
    let o = opts(1e-8).max_iterations(2000);
    let plain = cg(a.view(), &b, &o).unwrap();
    let pre = cg(a.view(), &b, &o.preconditioner(Preconditioner::Jacobi)).unwrap();
    assert_honest(&d, &b, &plain.x, &plain.report, 1e-8);
    assert_honest(&d, &b, &pre.x, &pre.report, 1e-8);
    assert!(pre.report.converged, "{:?}", pre.report);
    // D^-1/2 A D^-1/2 is the Laplacian again (cond ~ 4000), so preconditioned CG needs
    // about n iterations; without it, many times more, or it runs out.
    assert!(pre.report.iterations <= n + 10, "{:?}", pre.report);
    assert!(
        !plain.report.converged || plain.report.iterations > 3 * pre.report.iterations,
        "plain {:?} vs preconditioned {:?}",
        plain.report,
        pre.report
    );
    // A residual of 1e-8 bounds the error by cond(D^-1/2 A D^-1/2) only in the scaled norm;
    // in plain terms the preconditioned answer must still be close.
    let err = rel_err(&pre.x, &reference);
    assert!(err < 1e-3, "error {err}");
}

#[test]
fn cg_refuses_what_is_not_symmetric_positive_definite() {
    let mut sentinel = [7.0; 2];
    let mut ws = Workspace::new();
    let b = [1.0, -1.0];
    // Not symmetric, with the check on: the entry and its mirror are named.
    let a = from_triplets(2, &[(0, 0, 4.0), (0, 1, 1.0), (1, 0, 2.0), (1, 1, 4.0)]);
    let checked = opts(1e-8).symmetry_tolerance(Some(DEFAULT_SYMMETRY_TOLERANCE));
    let e = cg_into(a.view(), &b, &checked, &mut sentinel, &mut ws).unwrap_err();
    let m = message(e);
    assert!(
        m.contains("a[0][1] = 1") && m.contains("a[1][0] = 2"),
        "{m}"
    );
    // Within the tolerance, or with the check off (the default), it runs and reports
    // honestly.
    for o in [opts(1e-8).symmetry_tolerance(Some(0.7)), opts(1e-8)] {
        let rep = cg_into(a.view(), &b, &o, &mut sentinel, &mut ws).unwrap();
        assert_honest(&dense(&a), &b, &sentinel, &rep, 1e-8);
    }
    sentinel = [7.0; 2];
    // Symmetric with a negative diagonal: the row is named before iterating.
    let a = from_triplets(2, &[(0, 0, 4.0), (1, 1, -3.0)]);
    let m = message(cg_into(a.view(), &b, &opts(1e-8), &mut sentinel, &mut ws).unwrap_err());
    assert!(m.contains("row 1") && m.contains("-3"), "{m}");
    // A missing diagonal entry counts as 0.
    let a = from_triplets(2, &[(0, 0, 4.0), (0, 1, 1.0), (1, 0, 1.0)]);
    let m = message(cg_into(a.view(), &b, &opts(1e-8), &mut sentinel, &mut ws).unwrap_err());
    assert!(m.contains("row 1") && m.contains("diagonal entry 0"), "{m}");
    // Symmetric, positive diagonal, indefinite (eigenvalues 3 and -1): p^T A p = -2 at the
    // first iteration, for either preconditioner.
    let a = from_triplets(2, &[(0, 0, 1.0), (0, 1, 2.0), (1, 0, 2.0), (1, 1, 1.0)]);
    for pre in [Preconditioner::None, Preconditioner::Jacobi] {
        let o = opts(1e-8).preconditioner(pre);
        let m = message(cg_into(a.view(), &b, &o, &mut sentinel, &mut ws).unwrap_err());
        assert!(
            m.contains("p^T A p = -2") && m.contains("iteration 1"),
            "{m}"
        );
    }
    assert_eq!(sentinel, [7.0; 2]);
}

// ---------------------------------------------------------------- BiCGSTAB

#[test]
fn bicgstab_on_random_nonsymmetric_matrices_matches_lu() {
    let mut rng = Rng(4);
    // Strictly diagonally dominant, and I + R / sqrt(n) (R dense random: eigenvalues near 1,
    // not dominant, far from symmetric).
    let n = 120;
    let sdd = random_sdd(&mut rng, n, 7, 0.8);
    let near_identity: Dense = (0..60)
        .map(|i| {
            (0..60)
                .map(|j| f64::from(u8::from(i == j)) + rng.f64() / libm::sqrt(60.0))
                .collect()
        })
        .collect();
    for a in [sdd, from_dense(&near_identity)] {
        let d = dense(&a);
        let b = rng.vec(a.n_rows());
        let reference = lu_solve(&d, &b);
        for pre in [Preconditioner::None, Preconditioner::Jacobi] {
            let sol = bicgstab(a.view(), &b, &opts(1e-10).preconditioner(pre)).unwrap();
            assert_honest(&d, &b, &sol.x, &sol.report, 1e-10);
            assert!(sol.report.converged, "{pre:?}: {:?}", sol.report);
            let err = rel_err(&sol.x, &reference);
            assert!(err < 1e-7, "{pre:?}: error {err}");
        }
    }
}

/// 1D convection-diffusion, tridiag(-(1 + c), 2 + c, -1): nonsymmetric.
fn convection_diffusion(n: usize, c: f64) -> CsrMatrix {
    let mut t = Vec::new();
    for i in 0..n {
        t.push((i, i, 2.0 + c));
        if i > 0 {
            t.push((i, i - 1, -(1.0 + c)));
            t.push((i - 1, i, -1.0));
        }
    }
    from_triplets(n, &t)
}

#[test]
fn bicgstab_iterations_match_scipy_and_drift_is_not_success() {
    // scipy 1.17.1, bicgstab(convection_diffusion(100, 0.5), ones(100), rtol=1e-8): 112
    // callbacks, true residual 9.2e-9; with M = diags(1/A.diagonal()): 107 callbacks and
    // info = 0 ("converged"), but a true residual of 1.11e-8 > rtol: its recurrence drifted.
    let a = convection_diffusion(100, 0.5);
    let d = dense(&a);
    let b = vec![1.0; 100];
    let sol = bicgstab(a.view(), &b, &opts(1e-8)).unwrap();
    assert_honest(&d, &b, &sol.x, &sol.report, 1e-8);
    assert!(sol.report.converged);
    // BiCGSTAB's count is sensitive to rounding here: scipy's algorithm replayed in Python
    // with sums in index order (as ops.rs) runs 107 callbacks and stops at the next half
    // step, which counts here: 108. With numpy's sums, 112. Either is in range.
    assert!(
        (107..=113).contains(&sol.report.iterations),
        "{:?}",
        sol.report
    );
    let pre = bicgstab(
        a.view(),
        &b,
        &opts(1e-8).preconditioner(Preconditioner::Jacobi),
    )
    .unwrap();
    assert_honest(&d, &b, &pre.x, &pre.report, 1e-8);
    assert!(pre.report.converged, "{:?}", pre.report);
    // The same replay with M: 107 callbacks, then a top-of-loop stop whose true residual
    // (1.1e-8 in scipy) may fail, so one more iteration or a few.
    assert!(
        (107..=115).contains(&pre.report.iterations),
        "{:?}",
        pre.report
    );
    assert!(rel_err(&pre.x, &lu_solve(&d, &b)) < 1e-4);
}

#[test]
fn bicgstab_breakdowns_return_the_last_iterate() {
    let mut ws = Workspace::new();
    // A rotation: r_hat . A r_hat = 0, so the very first alpha divides by zero.
    let a = from_triplets(2, &[(0, 1, 1.0), (1, 0, -1.0)]);
    let b = [1.0, 0.0];
    let mut x = [7.0; 2];
    let rep = bicgstab_into(a.view(), &b, &opts(1e-8), &mut x, &mut ws).unwrap();
    assert_eq!(x, [0.0, 0.0]);
    assert_eq!(
        rep,
        SolveReport {
            iterations: 0,
            relative_residual: 1.0,
            converged: false,
            stop: Stop::Breakdown
        }
    );
    // [[-2, -2], [-2, 0]], b = (1, 2): alpha = -1/2, s = (-2, 1), t = A s = (2, 4), so
    // omega = t . s / t . t = 0 exactly (found by search over small integer systems). The
    // half step is kept: x = (-1/2, -1), residual s, ||s|| = ||b||.
    let a = from_triplets(2, &[(0, 0, -2.0), (0, 1, -2.0), (1, 0, -2.0)]);
    let b = [1.0, 2.0];
    let rep = bicgstab_into(a.view(), &b, &opts(1e-8), &mut x, &mut ws).unwrap();
    assert_eq!(x, [-0.5, -1.0]);
    assert_eq!(
        rep,
        SolveReport {
            iterations: 1,
            relative_residual: 1.0,
            converged: false,
            stop: Stop::Breakdown
        }
    );
    // The Jacobi preconditioner needs the diagonal the rotation lacks.
    let a = from_triplets(2, &[(0, 1, 1.0), (1, 0, -1.0)]);
    let o = opts(1e-8).preconditioner(Preconditioner::Jacobi);
    let m = message(bicgstab_into(a.view(), &b, &o, &mut x, &mut ws).unwrap_err());
    assert!(m.contains("row 0 has no diagonal entry"), "{m}");
    assert_eq!(x, [-0.5, -1.0]);
}

// ---------------------------------------------------------------- Jacobi

#[test]
fn jacobi_matches_lu_and_its_error_bound_holds() {
    let mut rng = Rng(5);
    let n = 200;
    for q in [0.3, 0.8, 0.97] {
        let a = random_sdd(&mut rng, n, 6, q);
        let d = dense(&a);
        let b = rng.vec(n);
        let exact = lu_solve(&d, &b);
        // Converged, and after a budget far too small: the bound holds for both.
        for (budget, rtol) in [(None, 1e-10), (Some(3), 1e-10)] {
            let mut o = opts(rtol);
            o.max_iterations = budget;
            let sol = jacobi(a.view(), &b, &o).unwrap();
            let rep = sol.report;
            assert_honest(&d, &b, &sol.x, &rep.solve, rtol);
            assert!(
                (rep.contraction - q).abs() <= 1e-15,
                "row 0 has the largest ratio"
            );
            let err: Vec<f64> = sol.x.iter().zip(&exact).map(|(x, e)| x - e).collect();
            let err = norm_inf(&err);
            assert!(
                err <= rep.error_bound * (1.0 + 1e-9) + 1e-14,
                "q = {q}: error {err} above the bound {}",
                rep.error_bound
            );
            if budget.is_none() {
                assert!(rep.solve.converged, "q = {q}: {rep:?}");
                assert!(
                    err < 1e-8 * norm_inf(&exact) / (1.0 - q),
                    "q = {q}: error {err}"
                );
                // The iteration contracts the error by q per step: log(1e-10)/log(q) steps
                // (plus the gap between residual and error) suffice.
                let steps = (libm::log(1e-10) / libm::log(q)) as usize + 40;
                assert!(rep.solve.iterations <= steps, "q = {q}: {rep:?}");
            } else {
                assert_eq!(rep.solve.stop, Stop::MaxIterations);
                assert_eq!(rep.solve.iterations, 3);
                assert!(!rep.solve.converged);
            }
        }
    }
}

#[test]
fn jacobi_refuses_matrices_that_are_not_strictly_dominant() {
    let mut x = [7.0; 2];
    let mut ws = Workspace::new();
    let b = [1.0, 1.0];
    let a = from_triplets(2, &[(0, 0, 3.0), (0, 1, 1.0), (1, 0, 2.5), (1, 1, 2.0)]);
    let m = message(jacobi_into(a.view(), &b, &opts(1e-8), &mut x, &mut ws).unwrap_err());
    assert!(m.contains("row 1") && m.contains("= -0.5"), "{m}");
    // Equality is not strict dominance.
    let a = from_triplets(2, &[(0, 0, 3.0), (0, 1, 1.0), (1, 0, 2.0), (1, 1, 2.0)]);
    let m = message(jacobi_into(a.view(), &b, &opts(1e-8), &mut x, &mut ws).unwrap_err());
    assert!(m.contains("row 1") && m.contains("= 0"), "{m}");
    // A zero diagonal is named as such, stored or missing.
    let a = from_triplets(2, &[(0, 0, 3.0), (1, 0, 1.0), (1, 1, 0.0)]);
    let m = message(jacobi_into(a.view(), &b, &opts(1e-8), &mut x, &mut ws).unwrap_err());
    assert!(m.contains("row 1 has a zero diagonal entry"), "{m}");
    let a = from_triplets(2, &[(0, 1, 3.0), (1, 1, 1.0)]);
    let m = message(jacobi_into(a.view(), &b, &opts(1e-8), &mut x, &mut ws).unwrap_err());
    assert!(m.contains("row 0 has no diagonal entry"), "{m}");
    assert_eq!(x, [7.0; 2]);
}

// ---------------------------------------------------------------- every method

#[test]
fn tiny_systems_and_trivial_right_hand_sides() {
    let mut ws = Workspace::new();
    let one = from_triplets(1, &[(0, 0, 4.0)]);
    let a = poisson_1d(5);
    let d = dense(&a);
    // 5 x 5 Poisson with x = (1, 2, 3, 4, 5): b = (0, 0, 0, 0, 6).
    let exact = [1.0, 2.0, 3.0, 4.0, 5.0];
    let b = [0.0, 0.0, 0.0, 0.0, 6.0];
    for (name, solve) in METHODS {
        let o = opts(1e-12);
        // 1 x 1: one iteration, exact (the Jacobi step is b / a itself).
        let mut x = [0.0];
        let rep = solve(one.view(), &[2.0], &o, &mut x, &mut ws).unwrap();
        assert_eq!(
            (x, rep.iterations, rep.stop),
            ([0.5], 1, Stop::Converged),
            "{name}"
        );
        assert_eq!(rep.relative_residual, 0.0, "{name}");
        if name == "jacobi" {
            continue; // the Laplacian is not strictly dominant
        }
        // b = 0: x = 0 exactly, whatever x0, with nothing to iterate.
        let mut x = [7.0; 5];
        let o0 = o.x0(&exact);
        let rep = solve(a.view(), &[0.0; 5], &o0, &mut x, &mut ws).unwrap();
        assert_eq!(x, [0.0; 5], "{name}");
        let zero = SolveReport {
            iterations: 0,
            relative_residual: 0.0,
            converged: true,
            stop: Stop::Converged,
        };
        assert_eq!(rep, zero, "{name}");
        // x0 already the solution: 0 iterations, converged.
        let rep = solve(a.view(), &b, &o0, &mut x, &mut ws).unwrap();
        assert_eq!((x, rep), (exact, zero), "{name}");
        // A budget of 0 evaluates x0 honestly.
        let guess = [1.0, 1.0, 1.0, 1.0, 1.0];
        let o1 = o.x0(&guess).max_iterations(0);
        let rep = solve(a.view(), &b, &o1, &mut x, &mut ws).unwrap();
        assert_eq!(x, guess, "{name}");
        assert_eq!(
            (rep.iterations, rep.stop),
            (0, Stop::MaxIterations),
            "{name}"
        );
        assert_honest(&d, &b, &x, &rep, 1e-12);
        // From a good guess, fewer iterations than from zero.
        let from_zero = solve(a.view(), &b, &o, &mut x, &mut ws).unwrap();
        let near = [1.0, 2.0, 3.0, 4.0, 5.001];
        let from_near = solve(a.view(), &b, &o.x0(&near).rtol(1e-4), &mut x, &mut ws).unwrap();
        assert!(from_near.iterations < from_zero.iterations, "{name}");
        assert_honest(&d, &b, &x, &from_near, 1e-4);
    }
    // The Jacobi method on b = 0 and on a dominant 1 x 1 with x0 = the answer.
    let mut x = [7.0];
    let rep = jacobi_into(one.view(), &[0.0], &opts(1e-8), &mut x, &mut ws).unwrap();
    assert_eq!((x, rep.solve.iterations, rep.error_bound), ([0.0], 0, 0.0));
    let rep = jacobi_into(one.view(), &[2.0], &opts(1e-8).x0(&[0.5]), &mut x, &mut ws).unwrap();
    assert_eq!((x, rep.solve.iterations, rep.error_bound), ([0.5], 0, 0.0));
}

#[test]
fn bad_input_is_a_typed_error_and_leaves_the_output_alone() {
    let a = from_triplets(
        3,
        &[
            (0, 0, 4.0),
            (1, 1, 4.0),
            (2, 2, 4.0),
            (0, 1, 1.0),
            (1, 0, 1.0),
        ],
    );
    let b = [1.0, 2.0, 3.0];
    let rect = CsrMatrix::from_triplets(2, 3, &[0, 1], &[0, 1], &[1.0, 1.0]).unwrap();
    let empty = CsrMatrix::zeros(0, 0).unwrap();
    let mut ws = Workspace::new();
    for (name, solve) in METHODS {
        let mut x = [7.0; 3];
        let mut run = |a: &CsrMatrix, b: &[f64], o: &SolveOptions<'_>, x: &mut [f64]| {
            solve(a.view(), b, o, x, &mut ws)
        };
        let dim = |expected, actual| Error::DimensionMismatch { expected, actual };
        let o = opts(1e-8);
        assert_eq!(run(&rect, &b, &o, &mut x[..2]), Err(dim(2, 3)), "{name}");
        let m = message(run(&empty, &[], &o, &mut []).unwrap_err());
        assert!(m.contains("empty"), "{name}: {m}");
        assert_eq!(run(&a, &b[..2], &o, &mut x), Err(dim(3, 2)), "{name}");
        assert_eq!(
            run(&a, &b, &o.x0(&[0.0; 4]), &mut x),
            Err(dim(3, 4)),
            "{name}"
        );
        assert_eq!(run(&a, &b, &o, &mut [0.0; 2]), Err(dim(3, 2)), "{name}");
        let m = message(run(&a, &[1.0, f64::NAN, 0.0], &o, &mut x).unwrap_err());
        assert!(m.contains("b[1] = NaN"), "{name}: {m}");
        let m = message(run(&a, &b, &o.x0(&[f64::INFINITY, 0.0, 0.0]), &mut x).unwrap_err());
        assert!(m.contains("x0[0] = inf"), "{name}: {m}");
        for rtol in [0.0, -1e-8, 1.0, 2.0, f64::NAN, f64::INFINITY] {
            let m = message(run(&a, &b, &opts(rtol), &mut x).unwrap_err());
            assert!(m.contains("rtol must be in (0, 1)"), "{name}: {m}");
        }
        for tol in [-1.0, f64::NAN, f64::INFINITY] {
            let o = o.symmetry_tolerance(Some(tol));
            let m = message(run(&a, &b, &o, &mut x).unwrap_err());
            assert!(m.contains("symmetry tolerance"), "{name}: {m}");
        }
        assert_eq!(x, [7.0; 3], "{name}");
        // The same matrix and options solve once the input is right.
        assert!(run(&a, &b, &o, &mut x).unwrap().converged, "{name}");
    }
}

#[test]
fn non_convergence_is_reported_honestly() {
    let mut rng = Rng(6);
    // A budget far too small for an ill-conditioned system (1D Poisson, cond ~ 1.6e5).
    let n = 400;
    let a = poisson_1d(n);
    let d = dense(&a);
    let b = rng.vec(n);
    let mut ws = Workspace::new();
    for (name, solve) in METHODS[..2].iter() {
        let mut x = vec![0.0; n];
        let rep = solve(
            a.view(),
            &b,
            &opts(1e-10).max_iterations(20),
            &mut x,
            &mut ws,
        )
        .unwrap();
        let res = assert_honest(&d, &b, &x, &rep, 1e-10);
        assert_eq!(
            (rep.iterations, rep.stop),
            (20, Stop::MaxIterations),
            "{name}"
        );
        assert!(
            res < 1.0 && res > 1e-3,
            "{name}: {res} (progress, far from converged)"
        );
        assert!(x.iter().any(|&v| v != 0.0));
    }
    // A tolerance below the attainable accuracy: the recurrence residual of CG reaches it,
    // the true one cannot; the solver keeps going from the true residual until the budget
    // is spent, and says so.
    let a = poisson_1d(60);
    let d = dense(&a);
    let b = rng.vec(60);
    for pre in [Preconditioner::None, Preconditioner::Jacobi] {
        let o = opts(1e-17).max_iterations(400).preconditioner(pre);
        let sol = cg(a.view(), &b, &o).unwrap();
        let res = assert_honest(&d, &b, &sol.x, &sol.report, 1e-17);
        assert_eq!(sol.report.stop, Stop::MaxIterations, "{pre:?}");
        assert!(
            res < 1e-13,
            "{pre:?}: {res}: still the best answer to rounding"
        );
        let sol = bicgstab(a.view(), &b, &o).unwrap();
        assert_honest(&d, &b, &sol.x, &sol.report, 1e-17);
        assert!(!sol.report.converged);
    }
    // An ill-conditioned SPD matrix (B^T B + 1e-9 I, cond ~ 1e12) within a modest budget.
    let d = random_spd(&mut rng, 30, 1e-9);
    let a = from_dense(&d);
    let b = rng.vec(30);
    let sol = cg(a.view(), &b, &opts(1e-12).max_iterations(30)).unwrap();
    assert_honest(&d, &b, &sol.x, &sol.report, 1e-12);
    assert!(!sol.report.converged, "{:?}", sol.report);
    // The Jacobi iteration with q close to 1 and a budget of 5.
    let a = random_sdd(&mut rng, 100, 5, 0.999);
    let d = dense(&a);
    let b = rng.vec(100);
    let sol = jacobi(a.view(), &b, &opts(1e-12).max_iterations(5)).unwrap();
    assert_honest(&d, &b, &sol.x, &sol.report.solve, 1e-12);
    assert_eq!(sol.report.solve.stop, Stop::MaxIterations);
    let err: Vec<f64> = sol
        .x
        .iter()
        .zip(lu_solve(&d, &b))
        .map(|(x, e)| x - e)
        .collect();
    assert!(norm_inf(&err) <= sol.report.error_bound);
    assert!(sol.report.error_bound.is_finite());
}

#[test]
fn a_workspace_is_reused_and_gives_the_same_bits() {
    let mut rng = Rng(7);
    let big = random_sdd(&mut rng, 300, 5, 0.7);
    let small = random_sdd(&mut rng, 40, 5, 0.7);
    let spd = poisson_2d(12);
    let mut ws = Workspace::new();
    let o = opts(1e-9);
    for pre in [Preconditioner::None, Preconditioner::Jacobi] {
        let o = o.preconditioner(pre);
        for a in [&big, &small, &spd, &big] {
            let n = a.n_rows();
            let b = rng.vec(n);
            let fresh = [
                cg(a.view(), &b, &o),
                bicgstab(a.view(), &b, &o),
                jacobi(a.view(), &b, &o).map(|s| Solution {
                    x: s.x,
                    report: s.report.solve,
                }),
            ];
            for ((name, solve), fresh) in METHODS.iter().zip(fresh) {
                let mut x = vec![0.0; n];
                let reused = solve(a.view(), &b, &o, &mut x, &mut ws);
                match (fresh, reused) {
                    (Ok(f), Ok(r)) => {
                        assert_eq!(f.report, r, "{name}");
                        assert!(f.x.iter().zip(&x).all(|(a, b)| a.to_bits() == b.to_bits()));
                    }
                    // CG on the nonsymmetric ones, Jacobi on the Laplacian: the same error.
                    (Err(f), Err(r)) => assert_eq!(f, r, "{name}"),
                    (f, r) => panic!("{name}: fresh {f:?}, reused {r:?}"),
                }
            }
        }
    }
    // The workspace grew to the largest need and stayed there.
    assert_eq!(ws.capacity(), 9 * 300);
    let mut ws = Workspace::new();
    ws.reserve(Method::Cg, 10, Preconditioner::Jacobi).unwrap();
    assert_eq!(ws.capacity(), 60);
    ws.reserve(Method::Jacobi, 5, Preconditioner::None).unwrap();
    assert_eq!(ws.capacity(), 60);
    assert!(matches!(
        ws.reserve(Method::BiCgStab, usize::MAX / 4, Preconditioner::None),
        Err(Error::OutOfMemory(_))
    ));
    assert_eq!(ws.capacity(), 60);
}
