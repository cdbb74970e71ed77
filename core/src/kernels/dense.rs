//! f32 kernels of the text encoder: the matrix product every layer of a transformer is made
//! of, and the row-wise pieces between the products.
//!
//! | kernel | computes | used for |
//! | --- | --- | --- |
//! | [`gemm_nt_f32`](Kernels::gemm_nt_f32) | `C = [C +] act(alpha A Bᵀ + bias)` | every linear layer (`B` is a weight, `[out, in]` as checkpoints store it), attention scores `Q Kᵀ` and `P V` (with `V` transposed) |
//! | [`softmax_rows_f32`](Kernels::softmax_rows_f32) | each row `x = exp(x - max x) / sum` | attention probabilities |
//! | [`layer_norm_rows_f32`](Kernels::layer_norm_rows_f32) | each row `(x - mean) / sqrt(var + eps) * gamma + beta` | LayerNorm |
//! | [`gelu_f32`](Kernels::gelu_f32) | `x = x/2 (1 + erf(x / sqrt 2))` (the exact form, not tanh) | the feed-forward activation |
//!
//! # Why `A Bᵀ`
//!
//! Checkpoints store a linear layer's weight as `[out_features, in_features]`, row-major: row
//! `j` of `B` is the weights of output `j`, contiguous over the input dimension, as row `i`
//! of the activations `A` is. With both operands contiguous along `k`, a product reads the
//! weights where they lie in the caller's model bytes, with no transposed copy.
//!
//! # Accuracy
//!
//! Results are not bit-identical across instruction sets (the order of the sums differs, and
//! the SIMD tables may use fused multiply-adds and polynomial `exp`/`erf`): every table is
//! held by the tests to an f64 reference within a small relative tolerance, as the distance
//! kernels are. The scalar table is the reference: each element of a product one
//! sequential f32 sum over `k` (a register-blocked 4 x 4 tile, no fused multiply-add), and
//! `libm`'s `expf` and `erff`. The SIMD tables (`generic/dense.rs`) sum each element in one
//! register lane with fused multiply-adds (simd128: without), and use a polynomial `exp`
//! (about 1 ulp) and `erfc` (relative error below `1.2e-7`).
//!
//! # Checks
//!
//! Every method checks shapes, strides and lengths (in `O(1)`, with overflow-checked
//! arithmetic) and writes nothing on error: a wrong shape is an
//! [`Error::DimensionMismatch`] or [`Error::InvalidArgument`] naming the operand, never a
//! panic or an out-of-bounds access.

use alloc::format;

use super::Kernels;
use crate::{Error, Result};

/// One product `C = [C +] act(alpha * A * Bᵀ + bias)` for [`Kernels::gemm_nt_f32`].
///
/// `A` is `m x k` with row stride `lda` (row `i` is `a[i*lda .. i*lda + k]`), `B` is `n x k`
/// with row stride `ldb`; `C` (passed separately) is `m x n` with row stride `ldc`. Strides
/// let a product read one attention head's columns of a wider matrix.
#[derive(Debug, Clone, Copy)]
pub struct GemmNt<'a> {
    /// Rows of `A` and `C`.
    pub m: usize,
    /// Rows of `B`, columns of `C`.
    pub n: usize,
    /// The shared inner dimension.
    pub k: usize,
    /// `A`, `m x k`, row stride `lda`.
    pub a: &'a [f32],
    /// Row stride of `A` (`>= k`).
    pub lda: usize,
    /// `B`, `n x k`, row stride `ldb`.
    pub b: &'a [f32],
    /// Row stride of `B` (`>= k`).
    pub ldb: usize,
    /// Scales the product (before the bias): `1 / sqrt(head_dim)` for attention scores.
    pub alpha: f32,
    /// Added to every row of the product, one value per column (`n` values).
    pub bias: Option<&'a [f32]>,
    /// Apply the exact GELU after the bias.
    pub gelu: bool,
    /// Add into `C` (a residual connection) instead of overwriting it.
    pub accumulate: bool,
}

impl<'a> GemmNt<'a> {
    /// `C = A Bᵀ` for contiguous `A` (`m x k`) and `B` (`n x k`); set the other fields with
    /// struct update syntax or the builder methods.
    pub fn new(m: usize, n: usize, k: usize, a: &'a [f32], b: &'a [f32]) -> GemmNt<'a> {
        GemmNt {
            m,
            n,
            k,
            a,
            lda: k,
            b,
            ldb: k,
            alpha: 1.0,
            bias: None,
            gelu: false,
            accumulate: false,
        }
    }

    /// The same product with a per-column bias.
    pub fn bias(self, bias: &'a [f32]) -> GemmNt<'a> {
        GemmNt {
            bias: Some(bias),
            ..self
        }
    }

    /// Checks the shapes against `c` (`m x n`, row stride `ldc`).
    fn check(&self, c_len: usize, ldc: usize) -> Result<()> {
        check_matrix("A", self.a.len(), self.m, self.k, self.lda)?;
        check_matrix("B", self.b.len(), self.n, self.k, self.ldb)?;
        check_matrix("C", c_len, self.m, self.n, ldc)?;
        if let Some(bias) = self.bias {
            if bias.len() != self.n {
                return Err(Error::DimensionMismatch {
                    expected: self.n,
                    actual: bias.len(),
                });
            }
        }
        Ok(())
    }
}

/// `rows x cols` with row stride `ld` fits in `len` elements, and `ld >= cols`.
fn check_matrix(name: &str, len: usize, rows: usize, cols: usize, ld: usize) -> Result<()> {
    if ld < cols {
        return Err(Error::InvalidArgument(format!(
            "{name}: row stride {ld} is less than its {cols} columns"
        )));
    }
    if rows == 0 {
        return Ok(());
    }
    let needed = (rows - 1)
        .checked_mul(ld)
        .and_then(|x| x.checked_add(cols))
        .ok_or_else(|| {
            Error::InvalidArgument(format!("{name}: {rows} rows of stride {ld} overflow"))
        })?;
    if len < needed {
        return Err(Error::InvalidArgument(format!(
            "{name}: {rows} x {cols} with row stride {ld} needs {needed} elements, got {len}"
        )));
    }
    Ok(())
}

/// `x.len()` is a whole number of rows of `width` (an empty `x` is zero rows of any width).
fn check_rows(len: usize, width: usize) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    if width == 0 || !len.is_multiple_of(width) {
        return Err(Error::InvalidArgument(format!(
            "{len} elements are not a whole number of rows of width {width}"
        )));
    }
    Ok(())
}

// Called only with checked shapes; the row-wise kernels only with a non-empty `x` of whole
// rows of a non-zero width.
type GemmNtFn = unsafe fn(&GemmNt<'_>, &mut [f32], usize);
type SoftmaxRowsFn = unsafe fn(&mut [f32], usize);
type LayerNormRowsFn = unsafe fn(&mut [f32], &[f32], &[f32], f32);
type GeluFn = unsafe fn(&mut [f32]);

/// The dense family's functions of one kernel table. Each is called only after the checks
/// of the methods below, with a table this CPU supports.
pub(crate) struct DenseKernels {
    pub gemm_nt_f32: GemmNtFn,
    pub softmax_rows_f32: SoftmaxRowsFn,
    pub layer_norm_rows_f32: LayerNormRowsFn,
    pub gelu_f32: GeluFn,
}

impl DenseKernels {
    /// The active table's dense kernels.
    #[inline]
    pub(crate) fn active() -> &'static DenseKernels {
        Kernels::active().dense
    }

    /// [`Kernels::gemm_nt_f32`], on this table.
    #[inline]
    pub fn gemm_nt_f32(&self, op: &GemmNt<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
        op.check(c.len(), ldc)?;
        // SAFETY: the shapes fit the slices (checked above) and `self` belongs to a table
        // this CPU supports.
        unsafe { (self.gemm_nt_f32)(op, c, ldc) };
        Ok(())
    }

    /// [`Kernels::softmax_rows_f32`], on this table.
    #[inline]
    pub fn softmax_rows_f32(&self, x: &mut [f32], width: usize) -> Result<()> {
        check_rows(x.len(), width)?;
        if !x.is_empty() {
            // SAFETY: `x` is whole rows of a non-zero width (checked); supported table.
            unsafe { (self.softmax_rows_f32)(x, width) };
        }
        Ok(())
    }

    /// [`Kernels::layer_norm_rows_f32`], on this table.
    #[inline]
    pub fn layer_norm_rows_f32(
        &self,
        x: &mut [f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
    ) -> Result<()> {
        if gamma.len() != beta.len() {
            return Err(Error::DimensionMismatch {
                expected: gamma.len(),
                actual: beta.len(),
            });
        }
        check_rows(x.len(), gamma.len())?;
        if !(eps >= 0.0 && eps.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "layer norm eps must be finite and >= 0, got {eps}"
            )));
        }
        if !x.is_empty() {
            // SAFETY: `x` is whole rows of `gamma.len() > 0` (checked); supported table.
            unsafe { (self.layer_norm_rows_f32)(x, gamma, beta, eps) };
        }
        Ok(())
    }

    /// [`Kernels::gelu_f32`], on this table.
    #[inline]
    pub fn gelu_f32(&self, x: &mut [f32]) {
        // SAFETY: any slice is valid input; supported table.
        unsafe { (self.gelu_f32)(x) }
    }
}

impl Kernels {
    /// `C = [C +] act(alpha A Bᵀ + bias)`: see [`GemmNt`] for the operands. `C` is `m x n`
    /// with row stride `ldc` (`>= n`); elements of `C` between rows are left untouched.
    ///
    /// With `accumulate` the result is added to `C` (a residual connection); otherwise `C`
    /// is overwritten and may hold anything, NaN included. `k = 0` gives `act(bias)` (or 0).
    #[inline]
    pub fn gemm_nt_f32(&self, op: &GemmNt<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
        self.dense.gemm_nt_f32(op, c, ldc)
    }

    /// Softmax of each row of `width` elements of `x`, in place. The row maximum is
    /// subtracted first, so large inputs do not overflow; a row of `-inf` becomes NaN, a row
    /// holding `+inf` NaN too (as in `exp(inf - inf)`): callers mask with large finite
    /// negatives, not infinities.
    #[inline]
    pub fn softmax_rows_f32(&self, x: &mut [f32], width: usize) -> Result<()> {
        self.dense.softmax_rows_f32(x, width)
    }

    /// LayerNorm of each row of `x` (rows of `gamma.len()`), in place: the mean and the
    /// biased variance of the row, then `(x - mean) / sqrt(var + eps) * gamma + beta`.
    #[inline]
    pub fn layer_norm_rows_f32(
        &self,
        x: &mut [f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
    ) -> Result<()> {
        self.dense.layer_norm_rows_f32(x, gamma, beta, eps)
    }

    /// The exact GELU, `x/2 (1 + erf(x / sqrt 2))`, in place (BERT's `"gelu"`, not the tanh
    /// approximation).
    #[inline]
    pub fn gelu_f32(&self, x: &mut [f32]) {
        self.dense.gelu_f32(x)
    }
}

/// `C = [C +] act(alpha A Bᵀ + bias)` on the active kernel table. See [`Kernels::gemm_nt_f32`].
#[inline]
pub fn gemm_nt_f32(op: &GemmNt<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
    DenseKernels::active().gemm_nt_f32(op, c, ldc)
}

/// Row-wise softmax on the active table. See [`Kernels::softmax_rows_f32`].
#[inline]
pub fn softmax_rows_f32(x: &mut [f32], width: usize) -> Result<()> {
    DenseKernels::active().softmax_rows_f32(x, width)
}

/// Row-wise LayerNorm on the active table. See [`Kernels::layer_norm_rows_f32`].
#[inline]
pub fn layer_norm_rows_f32(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) -> Result<()> {
    DenseKernels::active().layer_norm_rows_f32(x, gamma, beta, eps)
}

/// The exact GELU in place on the active table. See [`Kernels::gelu_f32`].
#[inline]
pub fn gelu_f32(x: &mut [f32]) {
    DenseKernels::active().gelu_f32(x)
}
