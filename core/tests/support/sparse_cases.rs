//! The checks of the f64 solver kernels (`ferrovec_core::kernels::sparse`), shared by the
//! native test suite (`core/tests/sparse_kernels.rs`, every table this machine runs; NEON
//! under qemu) and the wasm32 harness (`tests/wasm-kernels`, the scalar-wasm and simd128
//! tables inside a real module, run in Node and wasmi). Hence `no_std`-friendly: `alloc` and
//! `core` only, failures are panics.
//!
//! Every table must give the exact bits of [`s16`], an independent implementation of the
//! summation order the module documents, and stay within the documented error bound of a
//! compensated (twice the working precision) reference.

#![allow(dead_code)] // each user runs the checks it can

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use ferrovec_core::kernels::{CsrRef, Kernels};
use ferrovec_core::Error;

#[path = "rng.rs"]
mod rng;
pub use rng::Rng;

/// An owned CSR matrix for the tests.
pub struct Csr {
    pub n_cols: usize,
    pub row_ptr: Vec<u32>,
    pub col_idx: Vec<u32>,
    pub values: Vec<f64>,
}

impl Csr {
    pub fn n_rows(&self) -> usize {
        self.row_ptr.len() - 1
    }

    /// Row `i`'s entries as (column, value).
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (s, e) = (self.row_ptr[i] as usize, self.row_ptr[i + 1] as usize);
        self.col_idx[s..e]
            .iter()
            .zip(&self.values[s..e])
            .map(|(&c, &v)| (c as usize, v))
    }
}

/// Row lengths that cover the short-row path (0..=8), every tail of every register width
/// and of the 16 partial sums (up to 40), and long rows.
pub fn row_length(rng: &mut Rng, i: usize) -> usize {
    match i % 50 {
        0..=40 => i % 50,
        41 => 63,
        42 => 64,
        43 => 65,
        44 => 100 + rng.below(200),
        _ => rng.below(9),
    }
}

/// A random matrix: `length(rng, i)` entries in row `i` at random (possibly repeated)
/// columns.
pub fn random_csr(
    rng: &mut Rng,
    n_rows: usize,
    n_cols: usize,
    length: impl Fn(&mut Rng, usize) -> usize,
) -> Csr {
    let mut row_ptr = vec![0u32];
    let (mut col_idx, mut values) = (Vec::new(), Vec::new());
    for i in 0..n_rows {
        let m = if n_cols == 0 { 0 } else { length(rng, i) };
        for _ in 0..m {
            col_idx.push(rng.below(n_cols) as u32);
            values.push(rng.value());
        }
        row_ptr.push(col_idx.len() as u32);
    }
    Csr {
        n_cols,
        row_ptr,
        col_idx,
        values,
    }
}

/// The documented order: term `i` to partial sum `i mod 16` (from `+0`, in increasing
/// `i`), then halving `p[k] + p[k + 8]`, `+ [k + 4]`, `+ [k + 2]`, `+ [k + 1]`.
pub fn s16(terms: impl IntoIterator<Item = f64>) -> f64 {
    let mut p = [0.0f64; 16];
    for (i, t) in terms.into_iter().enumerate() {
        p[i % 16] += t;
    }
    for half in [8, 4, 2, 1] {
        for k in 0..half {
            p[k] += p[k + half];
        }
    }
    p[0]
}

// ---------------------------------------------------------------- compensated reference

fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let ((ah, al), (bh, bl)) = (split(a), split(b));
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

/// `sum a_i b_i` in twice the working precision (Ogita, Rump and Oishi's Dot2), and
/// `sum |a_i b_i|`.
pub fn dot2(pairs: impl IntoIterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut s, mut c, mut mag) = (0.0f64, 0.0f64, 0.0f64);
    for (a, b) in pairs {
        let (p, ep) = two_prod(a, b);
        let (t, es) = two_sum(s, p);
        s = t;
        c += ep + es;
        mag += abs(a * b);
    }
    (s + c, mag)
}

const U: f64 = 1.1102230246251565e-16; // 2^-53

/// The documented bound for a sum of `n` products: `gamma_m * sum |t_i|`,
/// `m = ceil(n / 16) + 4`, plus the reference's own rounding.
pub fn bound(n: usize, magnitude: f64, reference: f64) -> f64 {
    let m = n.div_ceil(16) as f64 + 4.0;
    m * U / (1.0 - m * U) * magnitude + 2.0 * U * reference.abs() + 1e-300
}

fn assert_close(what: &str, got: f64, (want, magnitude): (f64, f64), n: usize) {
    let tol = bound(n, magnitude, want);
    let err = abs(got - want);
    assert!(
        err <= tol,
        "{what}: got {got:e}, reference {want:e}, |err| {err:e} > bound {tol:e}"
    );
}

fn assert_bits(what: &str, got: f64, want: f64) {
    assert!(
        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
        "{what}: got {got:e} ({:#018x}), the documented order gives {want:e} ({:#018x})",
        got.to_bits(),
        want.to_bits()
    );
}

fn assert_all_bits(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_bits(&format!("{what} [{i}]"), g, w);
    }
}

// ---------------------------------------------------------------- buffers at offsets

/// Element offsets of the slices under test within larger buffers, so vector loads are
/// unaligned (8 bytes and up) and nothing before or after a slice may be touched.
pub const OFFSETS: [usize; 3] = [0, 1, 3];

/// `data` placed at `off` in a buffer with `fill` around it (4 elements after).
pub fn placed<T: Copy>(data: &[T], off: usize, fill: T) -> Vec<T> {
    let mut buf = vec![fill; off];
    buf.extend_from_slice(data);
    buf.extend([fill; 4]);
    buf
}

/// The guard elements around a slice placed by [`placed`] are still `fill`.
fn assert_guards(what: &str, buf: &[f64], off: usize, n: usize, fill: f64) {
    for (i, &v) in buf[..off].iter().chain(&buf[off + n..]).enumerate() {
        assert!(
            v.to_bits() == fill.to_bits(),
            "{what}: guard {i} overwritten: {v}"
        );
    }
}

const GUARD: f64 = 7.25;

// ---------------------------------------------------------------- reference kernels

/// Row sums of `A x` in the documented order.
pub fn spmv_ref(a: &Csr, x: &[f64]) -> Vec<f64> {
    (0..a.n_rows())
        .map(|i| s16(a.row(i).map(|(c, v)| v * x[c])))
        .collect()
}

/// Row sums of `A x` in twice the precision, with their magnitudes and lengths.
fn spmv_dot2(a: &Csr, x: &[f64]) -> Vec<((f64, f64), usize)> {
    (0..a.n_rows())
        .map(|i| (dot2(a.row(i).map(|(c, v)| (v, x[c]))), a.row(i).count()))
        .collect()
}

// `f64::abs` and `sqrt` are not in `core` on every toolchain this runs on.
fn abs(v: f64) -> f64 {
    f64::from_bits(v.to_bits() & !(1 << 63))
}

fn sqrt(v: f64) -> f64 {
    libm::sqrt(v)
}

/// `2^e` for `e` in `-1022..=1023`.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `2^e` for `e` in `-1074..=1023`, subnormals included.
fn pow2_any(e: i32) -> f64 {
    if e >= -1022 {
        pow2(e)
    } else {
        pow2(e + 52) * pow2(-52)
    }
}

/// Every matrix kernel of `k` on one matrix, its vectors at one offset.
fn check_matrix_kernels(k: &Kernels, a: &Csr, off: usize, rng: &mut Rng, ctx: &str) {
    let (n, m) = (a.n_rows(), a.n_cols);
    let (row_ptr, col_idx, values) = (
        placed(&a.row_ptr, off, 0u32),
        placed(&a.col_idx, off, u32::MAX),
        placed(&a.values, off, f64::NAN),
    );
    let nnz = a.values.len();
    let csr = CsrRef::new(
        m,
        &row_ptr[off..off + n + 1],
        &col_idx[off..off + nnz],
        &values[off..off + nnz],
    )
    .unwrap();
    let x = rng.values(m);
    let xb = placed(&x, off, f64::NAN);
    let x = &xb[off..off + m];
    let ax = spmv_ref(a, x);
    let exact = spmv_dot2(a, x);
    let what = |op: &str| format!("{} {op} {ctx} off={off}", k.variant());

    // y = A x
    let mut yb = placed(&vec![GUARD; n], off, GUARD);
    k.spmv_csr_f64(&csr, x, &mut yb[off..off + n]).unwrap();
    assert_all_bits(&what("spmv"), &yb[off..off + n], &ax);
    assert_guards(&what("spmv"), &yb, off, n, GUARD);
    for (i, (&got, &(want, len))) in yb[off..off + n].iter().zip(&exact).enumerate() {
        assert_close(&format!("{} row {i}", what("spmv")), got, want, len);
    }

    // y = A x; [w.y, y.y]
    let w = rng.values(n);
    let mut yb = placed(&vec![GUARD; n], off, GUARD);
    let dots = k
        .spmv_dots_csr_f64(&csr, x, &w, &mut yb[off..off + n])
        .unwrap();
    assert_all_bits(&what("spmv_dots y"), &yb[off..off + n], &ax);
    assert_guards(&what("spmv_dots"), &yb, off, n, GUARD);
    let want = [
        s16(w.iter().zip(&ax).map(|(a, b)| a * b)),
        s16(ax.iter().map(|v| v * v)),
    ];
    assert_bits(&what("spmv_dots w.y"), dots[0], want[0]);
    assert_bits(&what("spmv_dots y.y"), dots[1], want[1]);
    assert_close(
        &what("spmv_dots w.y"),
        dots[0],
        dot2(w.iter().copied().zip(ax.iter().copied())),
        n,
    );

    // r = b - A x; r.r
    let b = rng.values(n);
    let r_ref: Vec<f64> = b.iter().zip(&ax).map(|(b, s)| b - s).collect();
    let mut rb = placed(&vec![GUARD; n], off, GUARD);
    let rr = k
        .residual_csr_f64(&csr, x, &b, &mut rb[off..off + n])
        .unwrap();
    assert_all_bits(&what("residual r"), &rb[off..off + n], &r_ref);
    assert_guards(&what("residual"), &rb, off, n, GUARD);
    assert_bits(&what("residual r.r"), rr, s16(r_ref.iter().map(|v| v * v)));

    if n == m {
        // x' = x + d (b - A x); r.r
        let d = rng.values(n);
        let mut nb = placed(&vec![GUARD; n], off, GUARD);
        let rr = k
            .jacobi_csr_f64(&csr, &d, &b, x, &mut nb[off..off + n])
            .unwrap();
        let next: Vec<f64> = (0..n).map(|i| x[i] + d[i] * r_ref[i]).collect();
        assert_all_bits(&what("jacobi x'"), &nb[off..off + n], &next);
        assert_guards(&what("jacobi"), &nb, off, n, GUARD);
        assert_bits(&what("jacobi r.r"), rr, s16(r_ref.iter().map(|v| v * v)));

        // y = alpha A x + beta; sum |y - x|
        let (alpha, beta) = (0.85, 0.15 / n as f64);
        let mut yb = placed(&vec![GUARD; n], off, GUARD);
        let l1 = k
            .pagerank_csr_f64(&csr, alpha, beta, x, &mut yb[off..off + n])
            .unwrap();
        let y_ref: Vec<f64> = ax.iter().map(|s| alpha * s + beta).collect();
        assert_all_bits(&what("pagerank y"), &yb[off..off + n], &y_ref);
        assert_guards(&what("pagerank"), &yb, off, n, GUARD);
        assert_bits(
            &what("pagerank l1"),
            l1,
            s16(y_ref.iter().zip(x).map(|(y, x)| abs(y - x))),
        );
    }
}

/// Every matrix kernel against the reference on random matrices: empty, one row, square
/// and rectangular, all row lengths of [`row_length`], unaligned arrays.
pub fn matrix_kernels_match_reference(k: &Kernels) {
    let mut rng = Rng(12);
    let shapes: [(usize, usize); 8] = [
        (0, 0),
        (0, 5),
        (3, 0),
        (1, 1),
        (7, 7),
        (51, 51),
        (150, 150),
        (120, 37),
    ];
    for (n_rows, n_cols) in shapes {
        let a = random_csr(&mut rng, n_rows, n_cols, row_length);
        for off in OFFSETS {
            let ctx = format!("{n_rows}x{n_cols}");
            check_matrix_kernels(k, &a, off, &mut rng, &ctx);
        }
    }
    // Every row length 0..=40 at every starting alignment of its entries.
    for shift in 0..8 {
        let a = random_csr(&mut rng, 41, 23, |_, i| if i == 0 { shift } else { i });
        check_matrix_kernels(k, &a, 0, &mut rng, &format!("lengths shift={shift}"));
    }
}

/// Row lengths of a 2D Poisson matrix and 5 random columns per row, the shapes the
/// benchmarks use, on a small grid.
pub fn benchmark_shapes_match_reference(k: &Kernels) {
    let mut rng = Rng(13);
    let a = poisson_2d(9);
    check_matrix_kernels(k, &a, 1, &mut rng, "poisson 9x9");
    let a = random_csr(&mut rng, 200, 200, |_, _| 5);
    check_matrix_kernels(k, &a, 0, &mut rng, "random 5/row");
}

/// The 5-point Laplacian on a `g x g` grid (rows in grid order, columns sorted).
pub fn poisson_2d(g: usize) -> Csr {
    let mut row_ptr = vec![0u32];
    let (mut col_idx, mut values) = (Vec::new(), Vec::new());
    for r in 0..g {
        for c in 0..g {
            let i = r * g + c;
            let mut push = |j: usize, v: f64| {
                col_idx.push(j as u32);
                values.push(v);
            };
            if r > 0 {
                push(i - g, -1.0);
            }
            if c > 0 {
                push(i - 1, -1.0);
            }
            push(i, 4.0);
            if c + 1 < g {
                push(i + 1, -1.0);
            }
            if r + 1 < g {
                push(i + g, -1.0);
            }
            row_ptr.push(col_idx.len() as u32);
        }
    }
    Csr {
        n_cols: g * g,
        row_ptr,
        col_idx,
        values,
    }
}

// ---------------------------------------------------------------- vector kernels

/// Vector lengths: every tail of every register width and of the 16 partial sums, and
/// longer vectors.
pub fn vector_lengths() -> impl Iterator<Item = usize> {
    (0..=67).chain([100, 127, 128, 129, 1000, 4097])
}

/// Every vector kernel against the reference, at every length and offset.
pub fn vector_kernels_match_reference(k: &Kernels) {
    let mut rng = Rng(21);
    for n in vector_lengths() {
        for off in OFFSETS {
            let v = k.variant();
            let what = |op: &str| format!("{v} {op} n={n} off={off}");
            let [x, y, w, d, z] = [(); 5].map(|_| placed(&rng.values(n), off, f64::NAN));
            let (xs, ys, ws, ds) = (
                &x[off..off + n],
                &y[off..off + n],
                &w[off..off + n],
                &d[off..off + n],
            );
            let (a, b) = (rng.value() * 3.0, rng.value() * 3.0);

            let dot = k.dot_f64(xs, ys).unwrap();
            assert_bits(
                &what("dot"),
                dot,
                s16(xs.iter().zip(ys).map(|(p, q)| p * q)),
            );
            assert_close(
                &what("dot"),
                dot,
                dot2(xs.iter().copied().zip(ys.iter().copied())),
                n,
            );

            let nrm = k.nrm2_f64(xs);
            assert_bits(&what("nrm2"), nrm, sqrt(s16(xs.iter().map(|v| v * v))));

            // In-place kernels write into a copy of y (or z), guards included.
            let run = |f: &dyn Fn(&mut [f64]) -> Vec<f64>, init: &[f64]| {
                let mut buf = init.to_vec();
                let sums = f(&mut buf[off..off + n]);
                assert_guards("in-place kernel", &buf, off, n, f64::NAN);
                (buf[off..off + n].to_vec(), sums)
            };

            let (got, _) = run(
                &|out| {
                    k.axpy_f64(a, xs, out).unwrap();
                    vec![]
                },
                &y,
            );
            let axpy: Vec<f64> = ys.iter().zip(xs).map(|(y, x)| y + a * x).collect();
            assert_all_bits(&what("axpy"), &got, &axpy);

            let (got, _) = run(
                &|out| {
                    k.xpby_f64(xs, b, out).unwrap();
                    vec![]
                },
                &y,
            );
            let want: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| x + b * y).collect();
            assert_all_bits(&what("xpby"), &got, &want);

            let (got, sums) = run(&|out| vec![k.axpy_dot_f64(a, xs, out).unwrap()], &y);
            assert_all_bits(&what("axpy_dot y"), &got, &axpy);
            assert_bits(
                &what("axpy_dot y.y"),
                sums[0],
                s16(axpy.iter().map(|v| v * v)),
            );

            let (got, sums) = run(&|out| k.axpy_dots_f64(a, xs, out, ws).unwrap().to_vec(), &y);
            assert_all_bits(&what("axpy_dots y"), &got, &axpy);
            assert_bits(
                &what("axpy_dots w.y"),
                sums[0],
                s16(ws.iter().zip(&axpy).map(|(w, y)| w * y)),
            );
            assert_bits(
                &what("axpy_dots y.y"),
                sums[1],
                s16(axpy.iter().map(|v| v * v)),
            );

            let mut zb = z.clone();
            let mut yb = y.clone();
            let sums = k
                .axpy_jacobi_dots_f64(a, xs, &mut yb[off..off + n], ds, &mut zb[off..off + n])
                .unwrap();
            assert_guards(&what("axpy_jacobi_dots y"), &yb, off, n, f64::NAN);
            assert_guards(&what("axpy_jacobi_dots z"), &zb, off, n, f64::NAN);
            let zr: Vec<f64> = ds.iter().zip(&axpy).map(|(d, y)| d * y).collect();
            assert_all_bits(&what("axpy_jacobi_dots y"), &yb[off..off + n], &axpy);
            assert_all_bits(&what("axpy_jacobi_dots z"), &zb[off..off + n], &zr);
            assert_bits(
                &what("axpy_jacobi_dots z.y"),
                sums[0],
                s16(zr.iter().zip(&axpy).map(|(z, y)| z * y)),
            );
            assert_bits(
                &what("axpy_jacobi_dots y.y"),
                sums[1],
                s16(axpy.iter().map(|v| v * v)),
            );

            let (got, _) = run(
                &|out| {
                    k.axpy2_f64(a, xs, b, ws, out).unwrap();
                    vec![]
                },
                &z,
            );
            let want: Vec<f64> = (0..n)
                .map(|i| (z[off + i] + a * xs[i]) + b * ws[i])
                .collect();
            assert_all_bits(&what("axpy2"), &got, &want);

            let (got, _) = run(
                &|out| {
                    k.bicgstab_p_f64(a, b, xs, ws, out).unwrap();
                    vec![]
                },
                &z,
            );
            let want: Vec<f64> = (0..n)
                .map(|i| xs[i] + a * (z[off + i] - b * ws[i]))
                .collect();
            assert_all_bits(&what("bicgstab_p"), &got, &want);

            // x += a p and p = z + b p from the same old p (x: y's copy, p: w's copy).
            let mut xb = y.clone();
            let mut pb = w.clone();
            k.axpy_xpby_f64(a, b, xs, &mut xb[off..off + n], &mut pb[off..off + n])
                .unwrap();
            assert_guards(&what("axpy_xpby x"), &xb, off, n, f64::NAN);
            assert_guards(&what("axpy_xpby p"), &pb, off, n, f64::NAN);
            let want_x: Vec<f64> = ys.iter().zip(ws).map(|(y, p)| y + a * p).collect();
            let want_p: Vec<f64> = xs.iter().zip(ws).map(|(z, p)| z + b * p).collect();
            assert_all_bits(&what("axpy_xpby x"), &xb[off..off + n], &want_x);
            assert_all_bits(&what("axpy_xpby p"), &pb[off..off + n], &want_p);
        }
    }
}

/// `sqrt(sum x_i^2)` in twice the precision, scaled so nothing overflows: the reference
/// for [`nrm2_is_safe`].
fn nrm2_ref(x: &[f64]) -> f64 {
    let amax = x
        .iter()
        .fold(0.0f64, |m, &v| if abs(v) > m { abs(v) } else { m });
    if amax == 0.0 || amax.is_infinite() {
        return amax;
    }
    // Scale by 2^-e, e = amax's exponent, in two halves (each a normal power of two).
    let e = ((amax.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let (e1, e2) = (e / 2, e - e / 2);
    let scale = |v: f64| v * pow2(-e1) * pow2(-e2);
    let (s, _) = dot2(x.iter().map(|&v| (scale(v), scale(v))));
    sqrt(s) * pow2(e1) * pow2(e2)
}

/// The Euclidean norm neither overflows nor loses precision to underflow; NaN and infinity
/// propagate.
pub fn nrm2_is_safe(k: &Kernels) {
    let v = k.variant();
    let mut rng = Rng(31);
    for n in [1usize, 2, 3, 7, 16, 17, 100, 1001] {
        for scale in [1.0, 1e300, 1e160, 1e-160, 1e-300, 5e-324, 1.7e308] {
            let x: Vec<f64> = (0..n).map(|_| rng.value() * scale).collect();
            let got = k.nrm2_f64(&x);
            let want = nrm2_ref(&x);
            let tol = (n.div_ceil(16) as f64 + 6.0) * U * want + 5e-324;
            assert!(
                got == want || abs(got - want) <= tol,
                "{v} nrm2 n={n} scale={scale:e}: got {got:e}, want {want:e}"
            );
        }
        let zeros = vec![0.0f64; n];
        assert_eq!(k.nrm2_f64(&zeros), 0.0, "{v} n={n}");
        let mut x = vec![1.0f64; n];
        x[n / 2] = f64::INFINITY;
        assert_eq!(k.nrm2_f64(&x), f64::INFINITY, "{v} n={n}");
        x[n - 1] = f64::NAN;
        assert!(k.nrm2_f64(&x).is_nan(), "{v} n={n}");
    }
    assert_eq!(k.nrm2_f64(&[]), 0.0, "{v}");
    // 3-4-5 triangles far out of the plain sum of squares' range: exact.
    for e in [1000, 600, -600, -1000, -1070] {
        let (x, want) = ([3.0 * pow2_any(e), 4.0 * pow2_any(e)], 5.0 * pow2_any(e));
        assert_eq!(k.nrm2_f64(&x), want, "{v} 2^{e}");
    }
    assert_eq!(k.nrm2_f64(&[f64::MAX]), f64::MAX, "{v}");
    assert_eq!(k.nrm2_f64(&[f64::MAX, f64::MAX]), f64::INFINITY, "{v}");
}

/// NaN and infinity propagate through rows and sums; a row whose only product is `-0`
/// gives `+0` (the partial sums start at `+0`); empty rows give `+0`.
pub fn special_values(k: &Kernels) {
    let v = k.variant();
    // Rows: [nan], [inf, 1], [-1 at x=0 (-0 product)], [], [1, -1 (cancels)].
    let row_ptr = [0u32, 1, 3, 4, 4, 6];
    let col_idx = [0u32, 1, 2, 3, 1, 2];
    let values = [f64::NAN, f64::INFINITY, 1.0, -1.0, 1.0, -1.0];
    let a = CsrRef::new(5, &row_ptr, &col_idx, &values).unwrap();
    let x = [1.0, 1.0, 1.0, 0.0, 2.0];
    let mut y = [GUARD; 5];
    k.spmv_csr_f64(&a, &x, &mut y).unwrap();
    assert!(y[0].is_nan(), "{v}: {y:?}");
    assert_eq!(y[1], f64::INFINITY, "{v}");
    assert_eq!(y[2].to_bits(), 0.0f64.to_bits(), "{v}: -0 product gives +0");
    assert_eq!(y[3].to_bits(), 0.0f64.to_bits(), "{v}: empty row");
    assert_eq!(
        y[4].to_bits(),
        0.0f64.to_bits(),
        "{v}: cancellation gives +0"
    );
    let [wy, yy] = k.spmv_dots_csr_f64(&a, &x, &[1.0; 5], &mut y).unwrap();
    assert!(wy.is_nan() && yy.is_nan(), "{v}");

    // A NaN anywhere in a long vector (main loop or tail) reaches the sum.
    for n in [1, 15, 16, 17, 40] {
        for pos in [0, n / 2, n - 1] {
            let mut x = vec![1.0f64; n];
            x[pos] = f64::NAN;
            assert!(k.dot_f64(&x, &x).unwrap().is_nan(), "{v} n={n} pos={pos}");
            let mut y = vec![1.0f64; n];
            assert!(k.axpy_dot_f64(1.0, &x, &mut y).unwrap().is_nan(), "{v}");
            assert!(
                y[pos].is_nan() && y[(pos + 1) % n].is_nan() == (n == 1),
                "{v}"
            );
        }
    }
    // Negative zeros only: every sum is +0.
    let negz = vec![-0.0f64; 33];
    assert_eq!(k.dot_f64(&negz, &[1.0; 33]).unwrap().to_bits(), 0, "{v}");
    assert_eq!(k.dot_f64(&[], &[]).unwrap().to_bits(), 0, "{v}");
}

/// Length mismatches are errors, and the outputs stay untouched.
pub fn bad_lengths_are_errors(k: &Kernels) {
    let v = k.variant();
    let row_ptr = [0u32, 2, 3];
    let col_idx = [0u32, 2, 1];
    let values = [1.0, 2.0, 3.0];
    let a = CsrRef::new(3, &row_ptr, &col_idx, &values).unwrap(); // 2 x 3
    let sq = CsrRef::new(2, &[0, 1, 2], &[0, 1], &[1.0, 1.0]).unwrap();
    let mismatch = |expected, actual| Error::DimensionMismatch { expected, actual };
    let mut y2 = [GUARD; 2];
    let mut y3 = [GUARD; 3];
    assert_eq!(
        k.spmv_csr_f64(&a, &[1.0; 2], &mut y2),
        Err(mismatch(3, 2)),
        "{v}"
    );
    assert_eq!(
        k.spmv_csr_f64(&a, &[1.0; 3], &mut y3),
        Err(mismatch(2, 3)),
        "{v}"
    );
    let r = k.spmv_dots_csr_f64(&a, &[1.0; 3], &[1.0; 3], &mut y2);
    assert_eq!(r, Err(mismatch(2, 3)), "{v}");
    let r = k.residual_csr_f64(&a, &[1.0; 3], &[1.0; 1], &mut y2);
    assert_eq!(r, Err(mismatch(2, 1)), "{v}");
    let r = k.jacobi_csr_f64(&a, &[1.0; 2], &[1.0; 2], &[1.0; 3], &mut y2);
    assert!(
        matches!(r, Err(Error::InvalidArgument(_))),
        "{v}: not square"
    );
    let r = k.jacobi_csr_f64(&sq, &[1.0; 2], &[1.0; 3], &[1.0; 2], &mut y2);
    assert_eq!(r, Err(mismatch(2, 3)), "{v}");
    let r = k.pagerank_csr_f64(&a, 0.85, 0.1, &[1.0; 3], &mut y2);
    assert!(
        matches!(r, Err(Error::InvalidArgument(_))),
        "{v}: not square"
    );
    let r = k.pagerank_csr_f64(&sq, 0.85, 0.1, &[1.0; 2], &mut y3);
    assert_eq!(r, Err(mismatch(2, 3)), "{v}");
    assert_eq!(y2, [GUARD; 2], "{v}: untouched");
    assert_eq!(y3, [GUARD; 3], "{v}: untouched");

    assert_eq!(k.dot_f64(&[1.0; 3], &[1.0; 2]), Err(mismatch(3, 2)), "{v}");
    assert_eq!(k.axpy_f64(1.0, &[1.0; 3], &mut y2), Err(mismatch(3, 2)));
    assert_eq!(k.xpby_f64(&[1.0; 3], 1.0, &mut y2), Err(mismatch(3, 2)));
    assert_eq!(k.axpy_dot_f64(1.0, &[1.0; 3], &mut y2), Err(mismatch(3, 2)));
    let r = k.axpy_dots_f64(1.0, &[1.0; 2], &mut y2, &[1.0; 3]);
    assert_eq!(r, Err(mismatch(2, 3)));
    let r = k.axpy_jacobi_dots_f64(1.0, &[1.0; 2], &mut y2, &[1.0; 2], &mut y3);
    assert_eq!(r, Err(mismatch(2, 3)));
    let r = k.axpy2_f64(1.0, &[1.0; 2], 1.0, &[1.0; 2], &mut y3);
    assert_eq!(r, Err(mismatch(2, 3)));
    let r = k.bicgstab_p_f64(1.0, 1.0, &[1.0; 2], &[1.0; 3], &mut y2);
    assert_eq!(r, Err(mismatch(2, 3)));
    let mut y2b = [GUARD; 2];
    let r = k.axpy_xpby_f64(1.0, 1.0, &[1.0; 2], &mut y2b, &mut y3);
    assert_eq!(r, Err(mismatch(2, 3)));
    assert_eq!(y2b, [GUARD; 2], "{v}: untouched");
    assert_eq!(y2, [GUARD; 2], "{v}: untouched");
    assert_eq!(y3, [GUARD; 3], "{v}: untouched");
}

/// Malformed CSR arrays are refused by `CsrRef::new` (no table involved).
pub fn csr_validation() {
    let ok = CsrRef::new(3, &[0, 2, 3], &[0, 2, 1], &[1.0, 2.0, 3.0]).unwrap();
    assert_eq!((ok.n_rows(), ok.n_cols(), ok.nnz()), (2, 3, 3));
    // Zero rows: one row pointer.
    let empty = CsrRef::new(0, &[0], &[], &[]).unwrap();
    assert_eq!((empty.n_rows(), empty.nnz()), (0, 0));

    let invalid = |r: Result<CsrRef<'_>, Error>, what: &str| {
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{what}: {:?}",
            r.map(|_| ())
        )
    };
    invalid(CsrRef::new(3, &[], &[], &[]), "no row pointers");
    invalid(
        CsrRef::new(3, &[1, 2], &[0, 1], &[1.0, 1.0]),
        "not starting at 0",
    );
    invalid(
        CsrRef::new(3, &[0, 2, 1, 3], &[0, 1, 2], &[1.0; 3]),
        "decreasing",
    );
    invalid(CsrRef::new(3, &[0, 1], &[3], &[1.0]), "column == n_cols");
    invalid(
        CsrRef::new(3, &[0, 1], &[u32::MAX], &[1.0]),
        "column u32::MAX",
    );
    invalid(CsrRef::new(0, &[0, 1], &[0], &[1.0]), "no columns");
    let mismatch = |expected, actual| Err(Error::DimensionMismatch { expected, actual });
    let r = CsrRef::new(3, &[0, 2], &[0, 1, 2], &[1.0; 3]).map(|_| ());
    assert_eq!(r, mismatch(2, 3), "last row pointer vs col_idx");
    let r = CsrRef::new(3, &[0, 3], &[0, 1, 2], &[1.0; 2]).map(|_| ());
    assert_eq!(r, mismatch(3, 2), "col_idx vs values");
    let long: String = format!("{:?}", CsrRef::new(2, &[0, 1], &[7], &[1.0]).map(|_| ()));
    assert!(long.contains("column index 7"), "{long}");
}

/// Every check of this module on one table.
pub fn all(k: &Kernels) {
    matrix_kernels_match_reference(k);
    benchmark_shapes_match_reference(k);
    vector_kernels_match_reference(k);
    nrm2_is_safe(k);
    special_values(k);
    bad_lengths_are_errors(k);
}
