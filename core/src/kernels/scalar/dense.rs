//! Portable f32 encoder kernels: the reference every instruction set is tested against, and
//! the table of targets without one (the scalar wasm module).

use crate::kernels::dense::{DenseKernels, GemmNt, GemmNtI8};
use crate::kernels::generic::dense::I8Dot;

pub(crate) static DENSE: DenseKernels = DenseKernels {
    gemm_nt_f32: gemm_nt_f32_scalar,
    softmax_rows_f32: softmax_rows_f32_scalar,
    layer_norm_rows_f32: layer_norm_rows_f32_scalar,
    gelu_f32: gelu_f32_scalar,
    gemm_nt_i8: gemm_nt_i8_scalar,
    // The portable `quantize_rows_i8` is this table's.
    quantize_rows_i8: None,
};

/// `x/2 (1 + erf(x / sqrt 2))`.
#[inline]
pub(crate) fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2))
}

/// The generic GEMM (`generic/dense.rs`) with plain `f32` registers and a 4 x 4 tile: 16
/// sums in locals, 8 loads per 16 multiply-adds (one dot product per element needs 2), so
/// an interpreter (the scalar wasm module in wasmi) runs far fewer instructions. Each
/// element is still one sequential f32 sum over `k` (no fused multiply-add), finished by
/// the plain epilogue (`alpha * sum + bias`, [`gelu_scalar`] with `libm`'s `erff`, then
/// store or add); the tests hold it to an f64 reference.
///
/// # Safety
/// Shapes checked by `Kernels::gemm_nt_f32`.
pub(crate) unsafe fn gemm_nt_f32_scalar(
    op: &GemmNt<'_>,
    c: &mut [f32],
    ldc: usize,
    pack: &mut alloc::vec::Vec<f32>,
) {
    // SAFETY: the caller checked the shapes; `f32` needs no CPU feature.
    unsafe {
        crate::kernels::generic::dense::gemm_nt::<f32, 4, 4>(op, c, ldc, pack, gelu_f32_scalar)
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

/// A plain i32 sum of i8 products, 4 per step.
#[derive(Clone, Copy)]
pub(crate) struct I32Sum(i32);

impl I8Dot for I32Sum {
    const STEP: usize = 4;
    const A_OFFSET: i32 = 0;
    type Data = [i32; 4];

    #[inline(always)]
    unsafe fn zero() -> Self {
        I32Sum(0)
    }
    #[inline(always)]
    unsafe fn load_a(p: *const i8) -> [i32; 4] {
        // SAFETY: the caller vouches for 4 readable values at `p`.
        unsafe { p.cast::<[i8; 4]>().read_unaligned() }.map(i32::from)
    }
    #[inline(always)]
    unsafe fn load_b(p: *const i8) -> [i32; 4] {
        // SAFETY: as in `load_a`.
        unsafe { Self::load_a(p) }
    }
    #[inline(always)]
    unsafe fn madd(self, a: [i32; 4], b: [i32; 4]) -> Self {
        let s = (a[0] * b[0] + a[1] * b[1]) + (a[2] * b[2] + a[3] * b[3]);
        I32Sum(self.0.wrapping_add(s))
    }
    #[inline(always)]
    unsafe fn reduce4(v: [Self; 4]) -> [i32; 4] {
        v.map(|s| s.0)
    }
}

/// The generic int8 GEMM (`generic/dense.rs`) with plain i32 sums and a 4 x 4 tile; the
/// epilogue's GELU is [`gelu_f32_scalar`] (`libm`'s `erff`). The reference of the int8
/// tables: their integer sums must be identical, so only the GELU may differ.
///
/// # Safety
/// Shapes checked by `Kernels::gemm_nt_i8`.
pub(crate) unsafe fn gemm_nt_i8_scalar(
    op: &GemmNtI8<'_>,
    c: &mut [f32],
    ldc: usize,
    _pack: &mut alloc::vec::Vec<f32>,
) {
    // SAFETY: the caller checked the shapes; plain integers need no CPU feature.
    unsafe { crate::kernels::generic::dense::gemm_nt_i8::<I32Sum, 4>(op, c, ldc, gelu_f32_scalar) }
}
