//! The checks of the f32 encoder kernels (`ferrovec_core::kernels::dense`): every table
//! against an f64 reference within a relative tolerance, and every bad shape refused. Written
//! for `alloc` and `core` only (failures are panics), so a wasm32 or qemu harness can run the
//! same checks on its tables.

#![allow(dead_code)] // each user runs the checks it can

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use ferrovec_core::kernels::{
    i8_padded_len, quantize_rows_i8, quantize_weights_i8, GemmNt, GemmNtI8, GemmScratch, Kernels,
};
use ferrovec_core::Error;

#[path = "rng.rs"]
mod rng;
pub use rng::Rng;

fn values_f32(rng: &mut Rng, n: usize, scale: f64) -> Vec<f32> {
    (0..n).map(|_| (rng.value() * scale) as f32).collect()
}

fn gelu_f64(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x / core::f64::consts::SQRT_2))
}

/// Every check of this file on one table (the wasm32 harness, `tests/wasm-kernels`).
pub fn all(k: &Kernels) {
    gemm_nt_matches_reference(k);
    gemm_nt_encoder_shapes(k);
    gemm_nt_propagates_nan_inf(k);
    gemm_nt_overwrites(k);
    softmax_matches_reference(k);
    softmax_saturates(k);
    layer_norm_matches_reference(k);
    gelu_matches_reference(k);
    bad_shapes_are_errors(k);
    gemm_nt_i8_matches_reference(k);
    gemm_nt_i8_extremes(k);
    gemm_nt_i8_bad_shapes(k);
    gemm_nt_i8_scratch_is_reused(k);
    quantize_rows_i8_same_bits(k);
    quantize_i8_round_trips();
}

/// Every shape class a GEMM kernel blocks by: empty, 1, below/at/above a vector width and a
/// micro-tile, and the encoder's own (384 = hidden, 1536 = feed-forward, 32 = head).
const GEMM_SHAPES: &[(usize, usize, usize)] = &[
    (0, 0, 0),
    (0, 5, 3),
    (3, 0, 7),
    (2, 3, 0),
    (1, 1, 1),
    (1, 7, 5),
    (3, 5, 17),
    (4, 16, 16),
    (5, 17, 33),
    (6, 31, 64),
    (8, 48, 65),
    (13, 29, 127),
    (16, 64, 32),
    (17, 33, 384),
    (31, 96, 32),
    (7, 130, 31),
    (24, 384, 96),
    // The register tiles' edges (rows per tile: 4 scalar, 8 NEON/simd128, 16 AVX2, 32
    // AVX-512, and one register's worth, 16 / 8 / 4, for a last block; columns per tile: 4,
    // 6, 8, 12), one either side of each.
    (9, 5, 8),
    (15, 11, 9),
    (16, 12, 16),
    (17, 13, 17),
    (31, 23, 3),
    (32, 24, 48),
    (33, 25, 20),
    (47, 37, 64),
    (48, 6, 5),
    (65, 49, 7),
    // Packed blocks of A (a multiple of the tile's rows holding ~256 KiB: 32-40 rows at
    // k = 1536, 160-168 at k = 384): one row past, one panel past, and a 1-row tail.
    (33, 14, 1536),
    (41, 9, 1536),
    (169, 13, 384),
];

/// The encoder's own shapes (all-MiniLM-L6-v2: hidden 384, feed-forward 1536, 12 heads of
/// 32 in a 1152-wide QKV matrix), each with the epilogue it gets there.
/// `(m, n, k, lda, ldb, bias, gelu, accumulate)`.
type EncoderShape = (usize, usize, usize, usize, usize, bool, bool, bool);
const ENCODER_SHAPES: &[EncoderShape] = &[
    (128, 384, 384, 384, 384, true, false, true), // attention output + residual
    (16, 1536, 384, 384, 384, true, true, false), // feed-forward up + GELU
    (16, 384, 1536, 1536, 1536, true, false, true), // feed-forward down + residual
    (128, 128, 32, 1152, 1152, false, false, false), // scores Q Kᵀ of one head
    (128, 32, 128, 128, 128, false, false, false), // context P V (V transposed)
];

/// `op` applied to `c0` in f64, element by element, with the tolerance of each: `2e-6`
/// relative to the magnitude of the terms, plus `1e-6`.
fn check_gemm(k: &Kernels, op: &GemmNt<'_>, c0: &[f32], c: &[f32], ldc: usize, what: &str) {
    let (m, n, kk) = (op.m, op.n, op.k);
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut mag) = (0.0f64, 0.0f64);
            for p in 0..kk {
                let t = op.a[i * op.lda + p] as f64 * op.b[j * op.ldb + p] as f64;
                s += t;
                mag += t.abs();
            }
            let alpha = op.alpha as f64;
            let bias_j = op.bias.map_or(0.0, |bias| bias[j] as f64);
            let mut t = alpha * s + bias_j;
            if op.gelu {
                t = gelu_f64(t);
            }
            let old = c0[i * ldc + j] as f64;
            let expected = if op.accumulate { old + t } else { t };
            let tol = 2e-6 * (alpha * mag + bias_j.abs() + old.abs()) + 1e-6;
            let got = c[i * ldc + j] as f64;
            assert!(
                (got - expected).abs() <= tol,
                "{}: gemm {m}x{n}x{kk} {what} C[{i}][{j}] = {got}, expected {expected} (tol {tol})",
                k.variant()
            );
        }
        for j in n..ldc.min(c.len() - i * ldc) {
            assert_eq!(
                c[i * ldc + j].to_bits(),
                c0[i * ldc + j].to_bits(),
                "{}: gemm {what} wrote C[{i}][{j}] past its {n} columns",
                k.variant()
            );
        }
    }
}

/// The encoder's shapes with their strides and epilogues, against f64.
pub fn gemm_nt_encoder_shapes(k: &Kernels) {
    let mut rng = Rng(17);
    for &(m, n, kk, lda, ldb, bias, gelu, accumulate) in ENCODER_SHAPES {
        let a = values_f32(&mut rng, (m - 1) * lda + kk, 1.0);
        let b = values_f32(&mut rng, (n - 1) * ldb + kk, 0.1);
        let bias_v = values_f32(&mut rng, n, 1.0);
        let ldc = n + 5;
        let c0 = values_f32(&mut rng, m * ldc, 1.0);
        let op = GemmNt {
            m,
            n,
            k: kk,
            a: &a,
            lda,
            b: &b,
            ldb,
            alpha: if kk == 32 { 0.176_776_7 } else { 1.0 },
            bias: bias.then_some(&bias_v[..]),
            gelu,
            accumulate,
        };
        let mut c = c0.clone();
        k.gemm_nt_f32(&op, &mut c, ldc).unwrap();
        check_gemm(k, &op, &c0, &c, ldc, "encoder shape");
    }
}

/// NaN and infinities in A or B reach exactly the elements of C they touch, with and
/// without the GELU epilogue, on shapes spanning several register tiles.
pub fn gemm_nt_propagates_nan_inf(k: &Kernels) {
    let mut rng = Rng(19);
    for &(m, n, kk) in &[(5usize, 7usize, 19usize), (37, 14, 33), (70, 26, 40)] {
        for gelu in [false, true] {
            let mut a = values_f32(&mut rng, m * kk, 1.0);
            let mut b: Vec<f32> = (0..n * kk)
                .map(|_| (rng.value() * 0.5 + 1.0) as f32)
                .collect();
            let bias = values_f32(&mut rng, n, 1.0);
            let (nan_row, inf_row, nan_col) = (3, m - 1, n / 2);
            a[nan_row * kk + kk / 2] = f32::NAN;
            // B's column 2 is positive, so `+inf * B[j][2]` is `+inf` in every sum.
            a[inf_row * kk + 2] = f32::INFINITY;
            b[nan_col * kk + 1] = f32::NAN;
            let op = GemmNt {
                gelu,
                ..GemmNt::new(m, n, kk, &a, &b).bias(&bias)
            };
            let mut c = vec![0.0f32; m * n];
            k.gemm_nt_f32(&op, &mut c, n).unwrap();
            for i in 0..m {
                for j in 0..n {
                    let got = c[i * n + j];
                    if i == nan_row || j == nan_col {
                        assert!(
                            got.is_nan(),
                            "{}: gemm {m}x{n}x{kk} gelu {gelu}: C[{i}][{j}] = {got}, expected NaN",
                            k.variant()
                        );
                    } else if i == inf_row {
                        assert!(
                            got == f32::INFINITY,
                            "{}: gemm {m}x{n}x{kk} gelu {gelu}: C[{i}][{j}] = {got}, expected +inf",
                            k.variant()
                        );
                    } else {
                        assert!(
                            got.is_finite(),
                            "{}: gemm {m}x{n}x{kk} gelu {gelu}: C[{i}][{j}] = {got}, expected finite",
                            k.variant()
                        );
                    }
                }
            }
        }
    }
}

/// `C = [C +] act(alpha A Bᵀ + bias)` with strides, every epilogue, against f64.
pub fn gemm_nt_matches_reference(k: &Kernels) {
    let mut rng = Rng(7);
    for &(m, n, kk) in GEMM_SHAPES {
        for variant in 0..4 {
            // Strides wider than the rows in half the variants (one head of a wider matrix).
            let pad = if variant % 2 == 1 { 3 } else { 0 };
            let (lda, ldb, ldc) = (kk + pad, kk + 2 * pad, n + pad);
            let a = values_f32(&mut rng, m * lda, 1.0);
            let b = values_f32(&mut rng, n * ldb, 0.5);
            let bias = values_f32(&mut rng, n, 1.0);
            let c0 = values_f32(&mut rng, m * ldc, 1.0);
            let op = GemmNt {
                m,
                n,
                k: kk,
                a: &a,
                lda,
                b: &b,
                ldb,
                alpha: if variant == 2 { 0.176_776_7 } else { 1.0 },
                bias: if variant >= 1 { Some(&bias) } else { None },
                gelu: variant == 3,
                accumulate: variant >= 2,
            };
            let mut c = c0.clone();
            k.gemm_nt_f32(&op, &mut c, ldc).unwrap();
            check_gemm(k, &op, &c0, &c, ldc, &format!("variant {variant}"));
        }
    }
}

/// A product whose `C` starts as NaN is fully overwritten unless it accumulates.
pub fn gemm_nt_overwrites(k: &Kernels) {
    let a = [1.0f32, 2.0, 3.0, 4.0];
    let b = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    let mut c = [f32::NAN; 6];
    k.gemm_nt_f32(&GemmNt::new(2, 3, 2, &a, &b), &mut c, 3)
        .unwrap();
    assert_eq!(c, [1.0, 2.0, 3.0, 3.0, 4.0, 7.0], "{}", k.variant());
}

pub fn softmax_matches_reference(k: &Kernels) {
    let mut rng = Rng(11);
    for width in [1usize, 2, 3, 7, 8, 15, 16, 17, 31, 64, 100, 128, 257] {
        for scale in [1.0, 30.0, 1000.0] {
            let rows = 3;
            let x = values_f32(&mut rng, rows * width, scale);
            let mut y = x.clone();
            k.softmax_rows_f32(&mut y, width).unwrap();
            for r in 0..rows {
                let row = &x[r * width..(r + 1) * width];
                let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let sum: f64 = row.iter().map(|&v| libm::exp(v as f64 - max)).sum();
                for (j, &v) in row.iter().enumerate() {
                    let expected = libm::exp(v as f64 - max) / sum;
                    let got = y[r * width + j] as f64;
                    assert!(
                        (got - expected).abs() <= 2e-6 * expected + 1e-9,
                        "{}: softmax width {width} scale {scale} [{r}][{j}] = {got}, expected {expected}",
                        k.variant()
                    );
                }
            }
        }
    }
}

/// Masked entries (large finite negatives, as the encoder masks padding) become exactly 0,
/// through every tail length; a row holding NaN becomes NaN.
pub fn softmax_saturates(k: &Kernels) {
    for width in [1usize, 3, 4, 5, 8, 9, 16, 17, 33, 128] {
        let mut x: Vec<f32> = (0..width)
            .map(|j| {
                if j % 3 == 1 {
                    -1e30
                } else {
                    (j % 5) as f32 * 0.25
                }
            })
            .collect();
        x[0] = 0.5;
        let orig = x.clone();
        k.softmax_rows_f32(&mut x, width).unwrap();
        let sum: f32 = x.iter().sum();
        assert!(
            (sum - 1.0).abs() < 1e-5,
            "{}: softmax width {width} sums to {sum}",
            k.variant()
        );
        for (j, (&v, &o)) in x.iter().zip(&orig).enumerate() {
            if o == -1e30 {
                assert_eq!(
                    v,
                    0.0,
                    "{}: softmax width {width} masked [{j}] = {v}",
                    k.variant()
                );
            } else {
                assert!(
                    v > 0.0,
                    "{}: softmax width {width} [{j}] = {v}",
                    k.variant()
                );
            }
        }
        let mut y: Vec<f32> = (0..width).map(|j| j as f32).collect();
        y[width / 2] = f32::NAN;
        k.softmax_rows_f32(&mut y, width).unwrap();
        assert!(
            y.iter().all(|v| v.is_nan()),
            "{}: softmax width {width} with a NaN: {y:?}",
            k.variant()
        );
    }
}

pub fn layer_norm_matches_reference(k: &Kernels) {
    let mut rng = Rng(13);
    for width in [1usize, 2, 5, 8, 16, 17, 32, 33, 384, 385] {
        for (offset, eps) in [(0.0f64, 1e-12f32), (50.0, 1e-5), (0.0, 0.0)] {
            let rows = 3;
            let x: Vec<f32> = (0..rows * width)
                .map(|_| (rng.value() * 3.0 + offset) as f32)
                .collect();
            let gamma = values_f32(&mut rng, width, 2.0);
            let beta = values_f32(&mut rng, width, 1.0);
            let mut y = x.clone();
            k.layer_norm_rows_f32(&mut y, &gamma, &beta, eps).unwrap();
            for r in 0..rows {
                let row = &x[r * width..(r + 1) * width];
                let mean = row.iter().map(|&v| v as f64).sum::<f64>() / width as f64;
                let var = row
                    .iter()
                    .map(|&v| (v as f64 - mean) * (v as f64 - mean))
                    .sum::<f64>()
                    / width as f64;
                let inv_std = 1.0 / libm::sqrt(var + eps as f64);
                for j in 0..width {
                    let got = y[r * width + j] as f64;
                    if width == 1 && eps == 0.0 {
                        // 0/0: any table may give NaN; nothing to compare.
                        continue;
                    }
                    let expected =
                        (row[j] as f64 - mean) * inv_std * gamma[j] as f64 + beta[j] as f64;
                    // f32 cancellation in the mean of rows far from zero: the error scales with
                    // |x| / std, which `offset` makes large.
                    let cond = (offset + 3.0) * inv_std.min(1e6);
                    let tol = 1e-5 * cond * (gamma[j] as f64).abs()
                        + 1e-5 * (beta[j] as f64).abs()
                        + 1e-5;
                    assert!(
                        (got - expected).abs() <= tol,
                        "{}: layer norm width {width} offset {offset} eps {eps} [{r}][{j}] = {got}, expected {expected}",
                        k.variant()
                    );
                }
            }
        }
    }
}

pub fn gelu_matches_reference(k: &Kernels) {
    let mut x: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.005).collect();
    x.extend([
        -1e4f32, -30.0, -9.0, 9.0, 30.0, 1e4, 0.0, -0.0, 1e-30, -1e-30,
    ]);
    let mut y = x.clone();
    k.gelu_f32(&mut y);
    for (&v, &got) in x.iter().zip(&y) {
        let expected = gelu_f64(v as f64);
        assert!(
            (got as f64 - expected).abs() <= 2e-6 * expected.abs() + 2e-7,
            "{}: gelu({v}) = {got}, expected {expected}",
            k.variant()
        );
    }
    // Saturation and NaN through every tail length: erf(+-large) = +-1.
    for len in 1..=17 {
        let mut v = vec![f32::NAN; len];
        v[0] = f32::INFINITY;
        if len > 1 {
            v[1] = -1e30;
        }
        if len > 2 {
            v[2] = 1e30;
        }
        k.gelu_f32(&mut v);
        assert_eq!(
            v[0],
            f32::INFINITY,
            "{}: gelu(+inf) = {}",
            k.variant(),
            v[0]
        );
        if len > 1 {
            assert_eq!(v[1], 0.0, "{}: gelu(-1e30) = {}", k.variant(), v[1]);
        }
        if len > 2 {
            assert_eq!(v[2], 1e30, "{}: gelu(1e30) = {}", k.variant(), v[2]);
        }
        assert!(
            v[3.min(len)..].iter().all(|x| x.is_nan()),
            "{}: gelu(NaN) must be NaN",
            k.variant()
        );
    }
}

/// Bad shapes are errors that name the operand, and nothing is written.
pub fn bad_shapes_are_errors(k: &Kernels) {
    let a = vec![1.0f32; 12];
    let b = vec![1.0f32; 12];
    let mut c = vec![7.0f32; 12];
    let cases: [(GemmNt<'_>, usize, &str); 6] = [
        (GemmNt::new(4, 3, 4, &a, &b), 3, "A"), // A needs 16
        (GemmNt::new(3, 4, 4, &a, &b), 4, "B"), // B needs 16
        (GemmNt::new(3, 3, 4, &a, &b), 5, "C"), // C needs 2*5+3 = 13
        (
            GemmNt {
                lda: 3,
                ..GemmNt::new(1, 1, 4, &a, &b)
            },
            1,
            "A",
        ),
        (GemmNt::new(2, 2, 2, &a, &b), 1, "C"),
        (
            GemmNt {
                lda: usize::MAX,
                ..GemmNt::new(2, 1, 1, &a, &b)
            },
            1,
            "A",
        ),
    ];
    for (op, ldc, operand) in cases {
        match k.gemm_nt_f32(&op, &mut c, ldc) {
            Err(Error::InvalidArgument(msg)) => {
                assert!(
                    msg.starts_with(operand),
                    "{}: {msg:?} should name {operand}",
                    k.variant()
                )
            }
            other => panic!(
                "{}: expected an error naming {operand}, got {other:?}",
                k.variant()
            ),
        }
    }
    let bias = [0.0f32; 2];
    let op = GemmNt::new(3, 3, 4, &a, &b).bias(&bias);
    assert!(matches!(
        k.gemm_nt_f32(&op, &mut c, 3),
        Err(Error::DimensionMismatch {
            expected: 3,
            actual: 2
        })
    ));
    assert!(
        c.iter().all(|&v| v == 7.0),
        "{}: a failed call wrote",
        k.variant()
    );

    let mut x = vec![1.0f32; 10];
    assert!(k.softmax_rows_f32(&mut x, 3).is_err());
    assert!(k.softmax_rows_f32(&mut x, 0).is_err());
    assert!(k.softmax_rows_f32(&mut [], 0).is_ok());
    assert!(k.layer_norm_rows_f32(&mut [], &[], &[], 1e-5).is_ok());
    assert!(k
        .layer_norm_rows_f32(&mut x, &[1.0; 3], &[0.0; 3], 1e-5)
        .is_err());
    assert!(k
        .layer_norm_rows_f32(&mut x, &[1.0; 5], &[0.0; 4], 1e-5)
        .is_err());
    assert!(k
        .layer_norm_rows_f32(&mut x, &[1.0; 5], &[0.0; 5], -1.0)
        .is_err());
    assert!(k
        .layer_norm_rows_f32(&mut x, &[1.0; 5], &[0.0; 5], f32::NAN)
        .is_err());
    assert!(
        x.iter().all(|&v| v == 1.0),
        "{}: a failed call wrote",
        k.variant()
    );
    let err = k
        .layer_norm_rows_f32(&mut x, &[1.0; 3], &[0.0; 3], 1e-5)
        .unwrap_err();
    assert!(format!("{err}").contains("width 3"), "{err}");
}

// ------------------------------------------------------------------ int8 GEMM

fn values_i8(rng: &mut Rng, n: usize) -> Vec<i8> {
    (0..n)
        .map(|_| (rng.below(255) as i32 - 127) as i8)
        .collect()
}

/// Checks `c` (from `c0`) against the product computed in i64 + f64, and against the scalar
/// table's result: the integer sums are exact everywhere and the epilogue is shared code, so
/// without GELU every table must give the scalar table's bits; with GELU, within the SIMD
/// GELU's accuracy. Columns past `n` are untouched.
fn check_gemm_i8(k: &Kernels, op: &GemmNtI8<'_>, c0: &[f32], c: &[f32], ldc: usize, what: &str) {
    let (m, n, kk) = (op.m, op.n, op.k);
    let scalar = Kernels::for_isa(ferrovec_core::kernels::Isa::Scalar).unwrap();
    let mut want = c0.to_vec();
    scalar.gemm_nt_i8(op, &mut want, ldc).unwrap();
    for i in 0..m {
        for j in 0..n {
            let mut s = 0i64;
            for p in 0..kk {
                s += (op.a[i * op.lda + p] as i64 - op.a_zero[i] as i64)
                    * op.b[j * op.ldb + p] as i64;
            }
            let v = op.a_scale[i] as f64 * op.b_scale[j] as f64 * s as f64;
            let bias_j = op.bias.map_or(0.0, |bias| bias[j] as f64);
            let mut t = v + bias_j;
            if op.gelu {
                t = gelu_f64(t);
            }
            let old = c0[i * ldc + j] as f64;
            let expected = if op.accumulate { old + t } else { t };
            let tol = 1e-6 * (v.abs() + bias_j.abs() + old.abs()) + 1e-6;
            let got = c[i * ldc + j];
            assert!(
                (got as f64 - expected).abs() <= tol,
                "{}: gemm_i8 {m}x{n}x{kk} {what} C[{i}][{j}] = {got}, expected {expected} (tol {tol})",
                k.variant()
            );
            if !op.gelu {
                assert_eq!(
                    got.to_bits(),
                    want[i * ldc + j].to_bits(),
                    "{}: gemm_i8 {m}x{n}x{kk} {what} C[{i}][{j}] = {got}, scalar table {}",
                    k.variant(),
                    want[i * ldc + j]
                );
            }
        }
        for j in n..ldc.min(c.len() - i * ldc) {
            assert_eq!(
                c[i * ldc + j].to_bits(),
                c0[i * ldc + j].to_bits(),
                "{}: gemm_i8 {what} wrote C[{i}][{j}] past its {n} columns",
                k.variant()
            );
        }
    }
}

/// Random quantized operands over the tile edges (4 columns; 2, 3 or 4 rows per tile) and
/// the encoder's `k` (384, 1536), with strides, bias, GELU and accumulation.
pub fn gemm_nt_i8_matches_reference(k: &Kernels) {
    let mut rng = Rng(23);
    const SHAPES: &[(usize, usize, usize)] = &[
        (0, 0, 0),
        (0, 3, 64),
        (3, 0, 64),
        (2, 3, 0),
        (1, 1, 64),
        (2, 5, 64),
        (3, 4, 128),
        (4, 7, 64),
        (5, 8, 192),
        (7, 9, 64),
        (9, 13, 384),
        (17, 6, 1536),
        (24, 33, 384),
        // More than one row block and a partial second panel in the VNNI kernel.
        (140, 40, 1536),
    ];
    for (case, &(m, n, kk)) in SHAPES.iter().enumerate() {
        let wide = case % 2 == 1;
        let (lda, ldb, ldc) = if wide {
            (kk + 64, kk + 128, n + 3)
        } else {
            (kk, kk, n)
        };
        let a = values_i8(&mut rng, m * lda);
        let b = values_i8(&mut rng, n * ldb);
        let a_scale = values_f32(&mut rng, m, 0.1);
        let a_zero: Vec<i32> = (0..m).map(|_| rng.below(255) as i32 - 127).collect();
        let b_scale = values_f32(&mut rng, n, 0.01);
        let b_sum: Vec<i32> = (0..n)
            .map(|j| (0..kk).map(|p| b[j * ldb + p] as i32).sum())
            .collect();
        let bias = values_f32(&mut rng, n, 1.0);
        let c0 = values_f32(&mut rng, m * ldc, 1.0);
        for (bias_on, gelu, accumulate) in [
            (false, false, false),
            (true, false, false),
            (true, true, false),
            (true, false, true),
            (false, true, true),
        ] {
            let op = GemmNtI8 {
                m,
                n,
                k: kk,
                a: &a,
                lda,
                a_scale: &a_scale,
                a_zero: &a_zero,
                b: &b,
                ldb,
                b_scale: &b_scale,
                b_sum: &b_sum,
                bias: bias_on.then_some(&bias[..]),
                gelu,
                accumulate,
            };
            let mut c = c0.clone();
            k.gemm_nt_i8(&op, &mut c, ldc).unwrap();
            let what = format!("bias {bias_on} gelu {gelu} acc {accumulate} wide {wide}");
            check_gemm_i8(k, &op, &c0, &c, ldc, &what);
        }
    }
}

/// The largest sums: every value at +-127 and zero points at both ends, `k = 1536`.
pub fn gemm_nt_i8_extremes(k: &Kernels) {
    let (m, n, kk) = (5, 6, 1536);
    let a: Vec<i8> = (0..m * kk)
        .map(|i| if (i / kk) % 2 == 0 { 127 } else { -127 })
        .collect();
    let b: Vec<i8> = (0..n * kk)
        .map(|i| if (i / kk) % 3 == 0 { -127 } else { 127 })
        .collect();
    let a_scale = vec![1.0f32; m];
    let a_zero = vec![-127, 127, 127, -127, 0];
    let b_scale = vec![1.0f32; n];
    let b_sum: Vec<i32> = (0..n)
        .map(|j| (0..kk).map(|p| b[j * kk + p] as i32).sum())
        .collect();
    let op = GemmNtI8 {
        m,
        n,
        k: kk,
        a: &a,
        lda: kk,
        a_scale: &a_scale,
        a_zero: &a_zero,
        b: &b,
        ldb: kk,
        b_scale: &b_scale,
        b_sum: &b_sum,
        bias: None,
        gelu: false,
        accumulate: false,
    };
    let c0 = vec![0.0f32; m * n];
    let mut c = c0.clone();
    k.gemm_nt_i8(&op, &mut c, n).unwrap();
    check_gemm_i8(k, &op, &c0, &c, n, "extremes");
    // |(127 - (-127)) * 127 * 1536| = 49,549,824: exact in i32, rounded once to f32.
    assert_eq!(c[0], (254i64 * -127 * 1536) as f32, "{}", k.variant());
}

/// Wrong `k` alignment, short operands and parameter vectors: errors, `C` untouched.
pub fn gemm_nt_i8_bad_shapes(k: &Kernels) {
    let a = vec![1i8; 256];
    let b = vec![1i8; 256];
    let (s1, z1, sums) = (vec![1.0f32; 4], vec![0i32; 4], vec![64i32; 2]);
    let base = GemmNtI8 {
        m: 2,
        n: 2,
        k: 64,
        a: &a,
        lda: 64,
        a_scale: &s1[..2],
        a_zero: &z1[..2],
        b: &b,
        ldb: 64,
        b_scale: &s1[..2],
        b_sum: &sums,
        bias: None,
        gelu: false,
        accumulate: false,
    };
    let bad = [
        GemmNtI8 {
            k: 32,
            lda: 32,
            ldb: 32,
            ..base
        },
        GemmNtI8 {
            m: 5,
            a_scale: &s1,
            a_zero: &z1,
            ..base
        },
        GemmNtI8 {
            a_scale: &s1[..1],
            ..base
        },
        GemmNtI8 {
            a_zero: &z1,
            ..base
        },
        GemmNtI8 {
            b_sum: &z1[..1],
            ..base
        },
        GemmNtI8 {
            bias: Some(&s1[..3]),
            ..base
        },
        GemmNtI8 { ldb: 63, ..base },
        GemmNtI8 {
            k: 1 << 20,
            lda: 1 << 20,
            ldb: 1 << 20,
            ..base
        },
    ];
    for (i, op) in bad.iter().enumerate() {
        let mut c = vec![7.0f32; 4];
        assert!(
            k.gemm_nt_i8(op, &mut c, 2).is_err(),
            "{}: bad case {i} accepted",
            k.variant()
        );
        assert!(
            c.iter().all(|&v| v == 7.0),
            "{}: bad case {i} wrote C",
            k.variant()
        );
    }
    let mut short = vec![7.0f32; 3];
    assert!(k.gemm_nt_i8(&base, &mut short, 2).is_err());
    let mut c = vec![0.0f32; 4];
    k.gemm_nt_i8(&base, &mut c, 2).unwrap();
    assert_eq!(c, [64.0; 4], "{}", k.variant());
}

/// The quantizers: activations within half a step of the input (with 0 exact), weights
/// within half a step and their sums, padding zeroed, zero and non-finite rows.
/// `gemm_nt_i8_in` gives the bits of `gemm_nt_i8`, and a scratch that served a product
/// serves it again (and a smaller one) without growing.
pub fn gemm_nt_i8_scratch_is_reused(k: &Kernels) {
    let mut rng = Rng(31);
    let mut scratch = GemmScratch::new();
    let mut held = None;
    for &(m, n, kk) in &[(40, 70, 448), (40, 70, 448), (7, 33, 64)] {
        let a = values_i8(&mut rng, m * kk);
        let b = values_i8(&mut rng, n * kk);
        let a_scale = values_f32(&mut rng, m, 0.1);
        let a_zero: Vec<i32> = (0..m).map(|_| rng.below(255) as i32 - 127).collect();
        let b_scale = values_f32(&mut rng, n, 0.01);
        let b_sum: Vec<i32> = (0..n)
            .map(|j| (0..kk).map(|p| b[j * kk + p] as i32).sum())
            .collect();
        let bias = values_f32(&mut rng, n, 1.0);
        let op = GemmNtI8 {
            bias: Some(&bias),
            gelu: true,
            ..GemmNtI8::new(
                m,
                n,
                kk,
                ferrovec_core::kernels::QuantizedRows {
                    values: &a,
                    scale: &a_scale,
                    offset: &a_zero,
                },
                ferrovec_core::kernels::QuantizedRows {
                    values: &b,
                    scale: &b_scale,
                    offset: &b_sum,
                },
            )
        };
        let mut want = vec![0.0f32; m * n];
        k.gemm_nt_i8(&op, &mut want, n).unwrap();
        let mut got = vec![f32::NAN; m * n];
        k.gemm_nt_i8_in(&op, &mut got, n, &mut scratch).unwrap();
        assert!(
            want.iter()
                .zip(&got)
                .all(|(w, g)| w.to_bits() == g.to_bits()),
            "{}: gemm_nt_i8_in differs from gemm_nt_i8 at {m}x{n}x{kk}",
            k.variant()
        );
        match held {
            None => held = Some(scratch.bytes()),
            Some(bytes) => assert_eq!(
                scratch.bytes(),
                bytes,
                "{}: the scratch grew for a product no larger than the first",
                k.variant()
            ),
        }
    }
}

/// A table's `quantize_rows_i8` writes the bits of the portable `quantize_rows_i8`, for
/// widths below, at and past a vector's, rows of zeros, NaN, infinities and outliers; a bad
/// shape is an error that writes nothing.
pub fn quantize_rows_i8_same_bits(k: &Kernels) {
    let mut rng = Rng(37);
    for kk in [1usize, 7, 15, 16, 17, 33, 100, 384, 1536] {
        let rows = 7;
        let ld = i8_padded_len(kk);
        let mut x = values_f32(&mut rng, rows * kk, 4.0);
        x[kk..2 * kk].iter_mut().for_each(|v| *v = v.abs() + 0.25);
        x[2 * kk..3 * kk].fill(0.0);
        x[3 * kk + kk / 2] = f32::NAN;
        x[4 * kk + kk / 3] = f32::INFINITY;
        x[5 * kk + kk - 1] = -3.0e5;
        x[6 * kk] = 1.0e-30;
        type Quantize<'a> = &'a dyn Fn(&mut [i8], &mut [f32], &mut [i32]);
        let run = |f: Quantize<'_>| {
            let (mut q, mut scale, mut zero) =
                (vec![55i8; rows * ld], vec![9.0f32; rows], vec![9i32; rows]);
            f(&mut q, &mut scale, &mut zero);
            (
                q,
                scale.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                zero,
            )
        };
        let want = run(&|q, s, z| quantize_rows_i8(&x, kk, q, ld, s, z).unwrap());
        let got = run(&|q, s, z| k.quantize_rows_i8(&x, kk, q, ld, s, z).unwrap());
        assert!(
            want == got,
            "{}: quantize_rows_i8 bits differ at k = {kk}",
            k.variant()
        );
    }
    let x = [1.0f32; 10];
    let (mut q, mut scale, mut zero) = (vec![3i8; 64], vec![2.0f32; 2], vec![5i32; 2]);
    assert!(k
        .quantize_rows_i8(&x, 4, &mut q, 64, &mut scale, &mut zero)
        .is_err());
    assert!(k
        .quantize_rows_i8(&x, 5, &mut q, 32, &mut scale, &mut zero)
        .is_err());
    assert!(q.iter().all(|&v| v == 3) && scale == [2.0, 2.0] && zero == [5, 5]);
}

pub fn quantize_i8_round_trips() {
    let mut rng = Rng(29);
    let k = 100;
    let ld = i8_padded_len(k);
    assert_eq!(ld, 128);
    let rows = 6;
    let mut x = values_f32(&mut rng, rows * k, 3.0);
    x[k..2 * k].iter_mut().for_each(|v| *v = v.abs() + 0.5); // all positive
    x[2 * k..3 * k].iter_mut().for_each(|v| *v = -v.abs()); // all non-positive
    x[3 * k..4 * k].fill(0.0);
    x[4 * k + 7] = f32::NAN;
    x[5 * k + 3] = 1000.0; // an outlier
    let mut q = vec![99i8; rows * ld];
    let (mut scale, mut zero) = (vec![0.0f32; rows], vec![0i32; rows]);
    quantize_rows_i8(&x, k, &mut q, ld, &mut scale, &mut zero).unwrap();
    for r in 0..rows {
        let row = &q[r * ld..(r + 1) * ld];
        assert!(row[k..].iter().all(|&v| v == 0), "row {r} padding");
        assert!(row.iter().all(|&v| v != -128), "row {r} has -128");
        assert!((-127..=127).contains(&zero[r]));
        if r == 3 {
            assert_eq!((scale[r], zero[r]), (0.0, 0));
            continue;
        }
        if r == 4 {
            assert!(scale[r].is_nan());
            continue;
        }
        for p in 0..k {
            let back = scale[r] * (row[p] as i32 - zero[r]) as f32;
            assert!(
                (back - x[r * k + p]).abs() <= 0.5001 * scale[r],
                "row {r}[{p}]: {} -> {back} (scale {})",
                x[r * k + p],
                scale[r]
            );
        }
    }
    let mut w = values_f32(&mut rng, rows * k, 0.2);
    w[3 * k..4 * k].fill(0.0);
    let mut sum = vec![0i32; rows];
    quantize_weights_i8(&w, k, &mut q, ld, &mut scale, &mut sum).unwrap();
    for r in 0..rows {
        let row = &q[r * ld..(r + 1) * ld];
        assert!(row[k..].iter().all(|&v| v == 0));
        assert_eq!(sum[r], row.iter().map(|&v| v as i32).sum::<i32>());
        assert!(row.iter().all(|&v| v != -128));
        for p in 0..k {
            let back = scale[r] * row[p] as f32;
            assert!((back - w[r * k + p]).abs() <= 0.5001 * scale[r]);
        }
    }
    // A non-finite weight is refused, named as `{}` prints it.
    for (bad, shown) in [
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
        (f32::NAN, "NaN"),
    ] {
        w[5] = bad;
        let err = quantize_weights_i8(&w, k, &mut q, ld, &mut scale, &mut sum).unwrap_err();
        assert!(
            format!("{err}").contains(&format!("weight 5 is {shown}:")),
            "{err}"
        );
    }
    // Bad strides and lengths.
    assert!(quantize_rows_i8(&x, k, &mut q, 100, &mut scale, &mut zero).is_err());
    assert!(quantize_rows_i8(&x[..k + 1], k, &mut q, ld, &mut scale, &mut zero).is_err());
    assert!(quantize_rows_i8(&x, k, &mut q[..ld], ld, &mut scale, &mut zero).is_err());
    assert!(quantize_rows_i8(&x, k, &mut q, ld, &mut scale[..2], &mut zero).is_err());
}
