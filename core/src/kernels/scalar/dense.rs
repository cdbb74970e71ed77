//! Portable f32 encoder kernels: the reference every instruction set is tested against, and
//! the table of targets without one (the scalar wasm module).

use super::distance::dot_f32_scalar;
use crate::kernels::dense::{DenseKernels, GemmNt};

pub(crate) static DENSE: DenseKernels = DenseKernels {
    gemm_nt_f32: gemm_nt_f32_scalar,
    softmax_rows_f32: softmax_rows_f32_scalar,
    layer_norm_rows_f32: layer_norm_rows_f32_scalar,
    gelu_f32: gelu_f32_scalar,
};

/// `x/2 (1 + erf(x / sqrt 2))`.
#[inline]
pub(crate) fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2))
}

/// The epilogue of one element of a product: scale, bias, activation, accumulation.
#[inline(always)]
pub(crate) fn finish_element(op: &GemmNt<'_>, j: usize, sum: f32, c: &mut f32) {
    let mut t = op.alpha * sum;
    if let Some(bias) = op.bias {
        t += bias[j];
    }
    if op.gelu {
        t = gelu_scalar(t);
    }
    *c = if op.accumulate { *c + t } else { t };
}

/// Each element is the scalar dot product of a row of `A` and a row of `B`.
pub(crate) fn gemm_nt_f32_scalar(op: &GemmNt<'_>, c: &mut [f32], ldc: usize) {
    let k = op.k;
    for i in 0..op.m {
        let a_row = &op.a[i * op.lda..i * op.lda + k];
        let c_row = &mut c[i * ldc..i * ldc + op.n];
        for (j, c) in c_row.iter_mut().enumerate() {
            let b_row = &op.b[j * op.ldb..j * op.ldb + k];
            finish_element(op, j, dot_f32_scalar(a_row, b_row), c);
        }
    }
}

pub(crate) fn softmax_rows_f32_scalar(x: &mut [f32], width: usize) {
    for row in x.chunks_exact_mut(width) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for v in row.iter_mut() {
            *v = libm::expf(*v - max);
            sum += *v;
        }
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|v| *v *= inv);
    }
}

pub(crate) fn layer_norm_rows_f32_scalar(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let width = gamma.len();
    let inv_width = 1.0 / width as f32;
    for row in x.chunks_exact_mut(width) {
        let mean = row.iter().sum::<f32>() * inv_width;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() * inv_width;
        let inv_std = 1.0 / libm::sqrtf(var + eps);
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv_std * g + b;
        }
    }
}

pub(crate) fn gelu_f32_scalar(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = gelu_scalar(*v));
}
