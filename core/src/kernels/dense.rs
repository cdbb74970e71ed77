//! f32 kernels of the text encoder: the matrix product every layer of a transformer is made
//! of, and the row-wise pieces between the products.
//!
//! | kernel | computes | used for |
//! | --- | --- | --- |
//! | [`gemm_nt_f32`](Kernels::gemm_nt_f32) | `C = [C +] act(alpha A Bᵀ + bias)` | every linear layer (`B` is a weight, `[out, in]` as checkpoints store it), attention scores `Q Kᵀ` and `P V` (with `V` transposed) |
//! | [`softmax_rows_f32`](Kernels::softmax_rows_f32) | each row `x = exp(x - max x) / sum` | attention probabilities |
//! | [`layer_norm_rows_f32`](Kernels::layer_norm_rows_f32) | each row `(x - mean) / sqrt(var + eps) * gamma + beta` | LayerNorm |
//! | [`gelu_f32`](Kernels::gelu_f32) | `x = x/2 (1 + erf(x / sqrt 2))` (the exact form, not tanh) | the feed-forward activation |
//! | [`gemm_nt_i8`](Kernels::gemm_nt_i8) | `C = [C +] act(sa sb (A - za) Bᵀ + bias)`, i8 operands, i32 sums | the linear layers of an int8 (quantized) encoder |
//!
//! # The int8 product
//!
//! [`gemm_nt_i8`](Kernels::gemm_nt_i8) multiplies quantized rows: `A` (activations,
//! quantized per row at run time by [`quantize_rows_i8`], asymmetric: `x = sa (q - za)`) by
//! `B` (weights, quantized per output channel once by [`quantize_weights_i8`], symmetric:
//! `w = sb q`). Sums are exact in i32; only the epilogue is f32. Quantized values must lie in
//! `-127..=127` (the quantizers guarantee it; `-128` lets the AVX2/AVX-512 sign trick
//! overflow, so its result is unspecified, though never out of bounds), `k` must be a
//! multiple of [`I8_K_ALIGN`] (the quantizers pad rows with zeros) and at most
//! [`I8_MAX_K`] (so every sum fits an i32).
//!
//! The AVX-512 VNNI and AVX2 tables pack 16 or 32 columns of `B` at a time into a scratch
//! buffer and multiply by outer products (no horizontal sums; `x86_64/avx512/dense_vnni.rs`,
//! `x86_64/avx2/dense_i8.rs`); the other tables take dot products along `k`. A caller making
//! many products passes its scratch to [`gemm_nt_i8_in`](Kernels::gemm_nt_i8_in).
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
use alloc::vec::Vec;

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

/// Rows of quantized operands of [`Kernels::gemm_nt_i8`] are a multiple of this many
/// elements (`k`, the padded inner dimension); the quantizers pad with zeros.
pub const I8_K_ALIGN: usize = 64;

/// The largest `k` of [`Kernels::gemm_nt_i8`]: every sum `sum (qa - za) qb`, at most
/// `k * 254 * 127` in magnitude, fits an i32.
pub const I8_MAX_K: usize = 65_536;

/// `k` rounded up to a multiple of [`I8_K_ALIGN`] (the row length of quantized rows).
pub const fn i8_padded_len(k: usize) -> usize {
    k.div_ceil(I8_K_ALIGN) * I8_K_ALIGN
}

/// One product `C = [C +] act(sa[i] sb[j] sum_p (A[i][p] - za[i]) B[j][p] + bias[j])` of
/// quantized rows, for [`Kernels::gemm_nt_i8`].
///
/// `A` is `m x k` i8 with row stride `lda`, row `i` the quantized activations
/// `x = a_scale[i] * (q - a_zero[i])`; `B` is `n x k` i8 with row stride `ldb`, row `j`
/// the quantized weights `w = b_scale[j] * q` of output `j`, and `b_sum[j]` the sum of its
/// `k` quantized values (which makes the zero point a per-element correction). Values in
/// `-127..=127`, `k` a multiple of [`I8_K_ALIGN`], at most [`I8_MAX_K`].
#[derive(Debug, Clone, Copy)]
pub struct GemmNtI8<'a> {
    /// Rows of `A` and `C`.
    pub m: usize,
    /// Rows of `B`, columns of `C`.
    pub n: usize,
    /// The shared inner dimension (padded: a multiple of [`I8_K_ALIGN`]).
    pub k: usize,
    /// `A`, `m x k`, row stride `lda`.
    pub a: &'a [i8],
    /// Row stride of `A` (`>= k`).
    pub lda: usize,
    /// Per row of `A`: the scale (`m` values).
    pub a_scale: &'a [f32],
    /// Per row of `A`: the zero point (`m` values, in `-127..=127`).
    pub a_zero: &'a [i32],
    /// `B`, `n x k`, row stride `ldb`.
    pub b: &'a [i8],
    /// Row stride of `B` (`>= k`).
    pub ldb: usize,
    /// Per row of `B`: the scale (`n` values).
    pub b_scale: &'a [f32],
    /// Per row of `B`: the sum of its `k` values (`n` values).
    pub b_sum: &'a [i32],
    /// Added to every row of the product, one value per column (`n` values).
    pub bias: Option<&'a [f32]>,
    /// Apply the exact GELU after the bias.
    pub gelu: bool,
    /// Add into `C` (a residual connection) instead of overwriting it.
    pub accumulate: bool,
}

impl<'a> GemmNtI8<'a> {
    /// `C = A Bᵀ` of quantized rows (`A` from [`quantize_rows_i8`], `B` from
    /// [`quantize_weights_i8`]), contiguous rows of `k` elements; set the other fields with
    /// struct update syntax.
    pub fn new(m: usize, n: usize, k: usize, a: QuantizedRows<'a>, b: QuantizedRows<'a>) -> Self {
        GemmNtI8 {
            m,
            n,
            k,
            a: a.values,
            lda: k,
            a_scale: a.scale,
            a_zero: a.offset,
            b: b.values,
            ldb: k,
            b_scale: b.scale,
            b_sum: b.offset,
            bias: None,
            gelu: false,
            accumulate: false,
        }
    }

    /// Checks the shapes against `c` (`m x n`, row stride `ldc`).
    fn check(&self, c_len: usize, ldc: usize) -> Result<()> {
        if !self.k.is_multiple_of(I8_K_ALIGN) || self.k > I8_MAX_K {
            return Err(Error::InvalidArgument(format!(
                "int8 product: k = {} must be a multiple of {I8_K_ALIGN} and at most {I8_MAX_K}",
                self.k
            )));
        }
        check_matrix("A", self.a.len(), self.m, self.k, self.lda)?;
        check_matrix("B", self.b.len(), self.n, self.k, self.ldb)?;
        check_matrix("C", c_len, self.m, self.n, ldc)?;
        for (len, want) in [
            (self.a_scale.len(), self.m),
            (self.a_zero.len(), self.m),
            (self.b_scale.len(), self.n),
            (self.b_sum.len(), self.n),
            (self.bias.map_or(self.n, <[f32]>::len), self.n),
        ] {
            if len != want {
                return Err(Error::DimensionMismatch {
                    expected: want,
                    actual: len,
                });
            }
        }
        Ok(())
    }
}

/// Quantized rows and their per-row parameters, as [`quantize_rows_i8`] and
/// [`quantize_weights_i8`] write them: `values` (rows of a padded length), one `scale` per
/// row and one `offset` per row (the zero point for activations, the sum of the values for
/// weights).
#[derive(Debug, Clone, Copy)]
pub struct QuantizedRows<'a> {
    /// The quantized values, row after row.
    pub values: &'a [i8],
    /// One scale per row.
    pub scale: &'a [f32],
    /// One zero point (activations) or value sum (weights) per row.
    pub offset: &'a [i32],
}

/// Rounds to the nearest integer, ties to even, for `|v| < 2^22` (the quantizers' range);
/// plain f32 arithmetic, so every target gets the same bits.
#[inline(always)]
fn round_i32(v: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    ((v + MAGIC) - MAGIC) as i32
}

/// Checks the shared arguments of the quantizers: `x` is whole rows of `k > 0`, `out` holds
/// those rows at stride `ld` (a multiple of [`I8_K_ALIGN`], `>= k`), one parameter per row.
fn check_quantize(
    x: usize,
    k: usize,
    out: usize,
    ld: usize,
    scale: usize,
    off: usize,
) -> Result<usize> {
    if k == 0 || !x.is_multiple_of(k) {
        return Err(Error::InvalidArgument(format!(
            "{x} elements are not a whole number of rows of width {k}"
        )));
    }
    if ld < k || !ld.is_multiple_of(I8_K_ALIGN) || ld > I8_MAX_K {
        return Err(Error::InvalidArgument(format!(
            "quantized row stride {ld} must be >= {k}, a multiple of {I8_K_ALIGN} and at most {I8_MAX_K}"
        )));
    }
    let rows = x / k;
    let need = rows
        .checked_mul(ld)
        .ok_or_else(|| Error::InvalidArgument("too many rows".into()))?;
    if out != need {
        return Err(Error::DimensionMismatch {
            expected: need,
            actual: out,
        });
    }
    for len in [scale, off] {
        if len != rows {
            return Err(Error::DimensionMismatch {
                expected: rows,
                actual: len,
            });
        }
    }
    Ok(rows)
}

/// Quantizes each row of `x` (rows of `k`) to i8, asymmetrically: with `lo = min(row, 0)`,
/// `hi = max(row, 0)`, `scale = (hi - lo) / 254` and a zero point `z` in `-127..=127`,
/// `q = clamp(round(x / scale) + z, -127, 127)`, so `x ≈ scale (q - z)` with the row's
/// whole range over all 255 levels and 0 exact. Row `r` goes to `out[r * ld ..][..k]` and
/// the rest of its `ld` (a multiple of [`I8_K_ALIGN`]) is zeroed; `scale[r]`, `zero[r]`.
///
/// A row of zeros gets scale 0; a row holding NaN or an infinity gets scale NaN, so its
/// products are NaN (as the f32 product would be). Plain f32 arithmetic: the same bits on
/// every target. The activations of [`Kernels::gemm_nt_i8`].
pub fn quantize_rows_i8(
    x: &[f32],
    k: usize,
    out: &mut [i8],
    ld: usize,
    scale: &mut [f32],
    zero: &mut [i32],
) -> Result<()> {
    check_quantize(x.len(), k, out.len(), ld, scale.len(), zero.len())?;
    // SAFETY: shapes checked above.
    unsafe { quantize_rows_i8_unchecked(x, k, out, ld, scale, zero) };
    Ok(())
}

/// The loop of [`quantize_rows_i8`], instantiated by every kernel table with its
/// instruction set (`Kernels::quantize_rows_i8`): plain f32 arithmetic the compiler
/// vectorizes, so every table writes the same bits.
///
/// # Safety
/// The shapes must have passed `check_quantize`; the CPU must support the instruction set
/// of the function it is inlined into.
#[inline(always)]
pub(crate) unsafe fn quantize_rows_i8_unchecked(
    x: &[f32],
    k: usize,
    out: &mut [i8],
    ld: usize,
    scale: &mut [f32],
    zero: &mut [i32],
) {
    for (((row, q), s), z) in x
        .chunks_exact(k)
        .zip(out.chunks_exact_mut(ld))
        .zip(scale.iter_mut())
        .zip(zero.iter_mut())
    {
        // Min, max and a finiteness probe (`v * 0` is NaN for NaN and infinities) in 16
        // lanes, so the loop vectorizes (one AVX-512 register, several narrower ones).
        let (mut lo8, mut hi8, mut probe8) = ([0.0f32; 16], [0.0f32; 16], [0.0f32; 16]);
        let mut chunks = row.chunks_exact(16);
        for c in &mut chunks {
            for l in 0..16 {
                lo8[l] = if c[l] < lo8[l] { c[l] } else { lo8[l] };
                hi8[l] = if c[l] > hi8[l] { c[l] } else { hi8[l] };
                probe8[l] += c[l] * 0.0;
            }
        }
        for (l, &v) in chunks.remainder().iter().enumerate() {
            lo8[l] = if v < lo8[l] { v } else { lo8[l] };
            hi8[l] = if v > hi8[l] { v } else { hi8[l] };
            probe8[l] += v * 0.0;
        }
        let lo = lo8.iter().fold(0.0f32, |a, &b| a.min(b));
        let hi = hi8.iter().fold(0.0f32, |a, &b| a.max(b));
        let finite = probe8.iter().all(|p| *p == 0.0);
        let range = hi - lo;
        if !finite || !range.is_finite() {
            *s = f32::NAN;
            *z = 0;
            q.fill(0);
            continue;
        }
        if range == 0.0 {
            *s = 0.0;
            *z = 0;
            q.fill(0);
            continue;
        }
        let inv = 254.0 / range;
        *s = range / 254.0;
        let zp = (-127 - round_i32(lo * inv)).clamp(-127, 127);
        *z = zp;
        let zpf = zp as f32;
        let (body, pad) = q.split_at_mut(k);
        for (o, &v) in body.iter_mut().zip(row) {
            // round(v / scale) + zp, clamped; in f32 (zp is a small integer, so adding it
            // before rounding is exact) so the loop vectorizes.
            let t = (v * inv + zpf).clamp(-127.0, 127.0);
            let r = (t + 12_582_912.0) - 12_582_912.0;
            // SAFETY: `r` is an integer in -127..=127 (the row is finite, checked above).
            *o = unsafe { r.to_int_unchecked::<i32>() } as i8;
        }
        pad.fill(0);
    }
}

/// Quantizes each row of `w` (rows of `k`: one output channel of a weight matrix) to i8,
/// symmetrically: `scale = max |w| / 127`, `q = round(w / scale)` in `-127..=127`. Row `r`
/// goes to `out[r * ld ..][..k]`, the rest of its `ld` zeroed; `scale[r]` and `sum[r]` (the
/// sum of its values, which [`Kernels::gemm_nt_i8`] needs). A row of zeros gets scale 0; a
/// non-finite weight is an error.
pub fn quantize_weights_i8(
    w: &[f32],
    k: usize,
    out: &mut [i8],
    ld: usize,
    scale: &mut [f32],
    sum: &mut [i32],
) -> Result<()> {
    check_quantize(w.len(), k, out.len(), ld, scale.len(), sum.len())?;
    if let Some(p) = w.iter().position(|v| !v.is_finite()) {
        // What `{}` prints for these values, without linking float printing (about 14 KB
        // of wasm) into the encoder modules.
        let what = if w[p].is_nan() {
            "NaN"
        } else if w[p] > 0.0 {
            "inf"
        } else {
            "-inf"
        };
        return Err(Error::InvalidArgument(format!(
            "weight {p} is {what}: only finite weights can be quantized"
        )));
    }
    for (((row, q), s), total) in w
        .chunks_exact(k)
        .zip(out.chunks_exact_mut(ld))
        .zip(scale.iter_mut())
        .zip(sum.iter_mut())
    {
        let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let inv = if max > 0.0 { 127.0 / max } else { 0.0 };
        *s = max / 127.0;
        let (body, pad) = q.split_at_mut(k);
        let mut acc = 0i32;
        for (o, &v) in body.iter_mut().zip(row) {
            let r = round_i32(v * inv).clamp(-127, 127);
            acc += r;
            *o = r as i8;
        }
        pad.fill(0);
        *total = acc;
    }
    Ok(())
}

/// Scratch memory of [`Kernels::gemm_nt_f32_in`] and [`Kernels::gemm_nt_i8_in`]: the buffer
/// a product packs blocks of `A` (f32) or columns of `B` (int8, AVX-512 VNNI and AVX2) into (at most about
/// 256 KiB for the shapes of an encoder), kept between products so that
/// a caller making many of them (an encoder's forward pass makes dozens) allocates only for
/// the first.
#[derive(Debug, Default)]
pub struct GemmScratch {
    pack: Vec<f32>,
}

#[cfg(feature = "std")]
std::thread_local! {
    /// The scratch of this thread's last [`Kernels::gemm_nt_f32`], kept for the next.
    static CACHED_SCRATCH: core::cell::Cell<Vec<f32>> = const { core::cell::Cell::new(Vec::new()) };
}

impl GemmScratch {
    /// Empty scratch; the first product sizes it.
    pub fn new() -> GemmScratch {
        GemmScratch::default()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        4 * self.pack.capacity()
    }

    /// This thread's cached scratch (with `std`), or a new one.
    fn take_cached() -> GemmScratch {
        #[cfg(feature = "std")]
        let pack = CACHED_SCRATCH.try_with(|b| b.take()).unwrap_or_default();
        #[cfg(not(feature = "std"))]
        let pack = Vec::new();
        GemmScratch { pack }
    }

    /// Keeps `self` as this thread's cached scratch (with `std`; frees it otherwise).
    fn put_cached(self) {
        #[cfg(feature = "std")]
        {
            let pack = self.pack;
            // A thread being torn down just frees it.
            let _ = CACHED_SCRATCH.try_with(move |b| b.set(pack));
        }
    }
}

// Called only with checked shapes; the row-wise kernels only with a non-empty `x` of whole
// rows of a non-zero width.
type GemmNtFn = unsafe fn(&GemmNt<'_>, &mut [f32], usize, &mut Vec<f32>);
type GemmNtI8Fn = unsafe fn(&GemmNtI8<'_>, &mut [f32], usize, &mut Vec<f32>);
type QuantizeRowsI8Fn = unsafe fn(&[f32], usize, &mut [i8], usize, &mut [f32], &mut [i32]);
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
    pub gemm_nt_i8: GemmNtI8Fn,
    /// `None`: the portable [`quantize_rows_i8`] (the same bits).
    pub quantize_rows_i8: Option<QuantizeRowsI8Fn>,
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
        let mut scratch = GemmScratch::take_cached();
        let result = self.gemm_nt_f32_in(op, c, ldc, &mut scratch);
        scratch.put_cached();
        result
    }

    /// [`Kernels::gemm_nt_f32_in`], on this table.
    #[inline]
    pub fn gemm_nt_f32_in(
        &self,
        op: &GemmNt<'_>,
        c: &mut [f32],
        ldc: usize,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        op.check(c.len(), ldc)?;
        // SAFETY: the shapes fit the slices (checked above) and `self` belongs to a table
        // this CPU supports.
        unsafe { (self.gemm_nt_f32)(op, c, ldc, &mut scratch.pack) };
        Ok(())
    }

    /// [`Kernels::gemm_nt_i8`], on this table.
    #[inline]
    pub fn gemm_nt_i8(&self, op: &GemmNtI8<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
        let mut scratch = GemmScratch::take_cached();
        let result = self.gemm_nt_i8_in(op, c, ldc, &mut scratch);
        scratch.put_cached();
        result
    }

    /// [`Kernels::gemm_nt_i8_in`], on this table.
    #[inline]
    pub fn gemm_nt_i8_in(
        &self,
        op: &GemmNtI8<'_>,
        c: &mut [f32],
        ldc: usize,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        op.check(c.len(), ldc)?;
        // SAFETY: the shapes fit the slices (checked above) and `self` belongs to a table
        // this CPU supports.
        unsafe { (self.gemm_nt_i8)(op, c, ldc, &mut scratch.pack) };
        Ok(())
    }

    /// [`Kernels::quantize_rows_i8`], on this table.
    #[inline]
    pub fn quantize_rows_i8(
        &self,
        x: &[f32],
        k: usize,
        out: &mut [i8],
        ld: usize,
        scale: &mut [f32],
        zero: &mut [i32],
    ) -> Result<()> {
        let quantize = self.quantize_rows_i8.unwrap_or(quantize_rows_i8_unchecked);
        check_quantize(x.len(), k, out.len(), ld, scale.len(), zero.len())?;
        // SAFETY: shapes checked above; `self` belongs to a table this CPU supports.
        unsafe { quantize(x, k, out, ld, scale, zero) };
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
            // Described, not printed: formatting a float would link core's float printing
            // (about 18 KB) into the wasm encoder modules for this one message.
            let got = if eps.is_nan() {
                "NaN"
            } else if eps < 0.0 {
                "a negative value"
            } else {
                "infinity"
            };
            return Err(Error::InvalidArgument(format!(
                "layer norm eps must be finite and >= 0, got {got}"
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
    ///
    /// The product packs blocks of `A` into a buffer: with `std` this thread keeps one
    /// between calls, without `std` every call allocates its own. A caller making many
    /// products passes its own buffer to [`gemm_nt_f32_in`](Self::gemm_nt_f32_in) instead.
    #[inline]
    pub fn gemm_nt_f32(&self, op: &GemmNt<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
        self.dense.gemm_nt_f32(op, c, ldc)
    }

    /// [`gemm_nt_f32`](Self::gemm_nt_f32) with the caller's scratch memory: once `scratch`
    /// has served a product of this `k` (or a larger one), no call allocates. The result is
    /// the same.
    #[inline]
    pub fn gemm_nt_f32_in(
        &self,
        op: &GemmNt<'_>,
        c: &mut [f32],
        ldc: usize,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        self.dense.gemm_nt_f32_in(op, c, ldc, scratch)
    }

    /// `C = [C +] act(sa sb (A - za) Bᵀ + bias)` of quantized rows: see [`GemmNtI8`] for the
    /// operands and the module docs for the contract. The integer sums are exact (the same
    /// on every table); the epilogue is f32 (`sa * sb * sum + bias`, then GELU), so tables
    /// differ only by their GELU. `C` is `m x n` with row stride `ldc`, as for
    /// [`gemm_nt_f32`](Self::gemm_nt_f32).
    #[inline]
    pub fn gemm_nt_i8(&self, op: &GemmNtI8<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
        self.dense.gemm_nt_i8(op, c, ldc)
    }

    /// [`gemm_nt_i8`](Self::gemm_nt_i8) with the caller's scratch memory (the AVX-512 VNNI
    /// and AVX2 tables pack columns of `B` into it): once `scratch` has served a product of this `k`
    /// and `m` (or larger ones), no call allocates. The result is the same.
    #[inline]
    pub fn gemm_nt_i8_in(
        &self,
        op: &GemmNtI8<'_>,
        c: &mut [f32],
        ldc: usize,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        self.dense.gemm_nt_i8_in(op, c, ldc, scratch)
    }

    /// [`quantize_rows_i8`] with this table's instruction set: the same checks, the same
    /// bits, fewer cycles (the activations of every int8 product of an encoder pass).
    #[inline]
    pub fn quantize_rows_i8(
        &self,
        x: &[f32],
        k: usize,
        out: &mut [i8],
        ld: usize,
        scale: &mut [f32],
        zero: &mut [i32],
    ) -> Result<()> {
        self.dense.quantize_rows_i8(x, k, out, ld, scale, zero)
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

/// The kernels the text encoder runs on: one table's dense family and its L2 normalization,
/// without the rest of the table.
///
/// A [`Kernels`] table names every kernel of its instruction set, so whatever holds one
/// links all of them; a wasm module that carries only the encoder takes its kernels from
/// [`EncoderKernels::active`], which on wasm32 names only these (issue 13's size budget).
/// Made from a table with `From<&Kernels>`.
#[derive(Clone, Copy)]
pub struct EncoderKernels {
    dense: &'static DenseKernels,
    l2_normalize_f32: super::F32NormalizeFn,
}

impl core::fmt::Debug for EncoderKernels {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncoderKernels").finish_non_exhaustive()
    }
}

impl From<&Kernels> for EncoderKernels {
    fn from(kernels: &Kernels) -> EncoderKernels {
        EncoderKernels {
            dense: kernels.dense,
            l2_normalize_f32: kernels.l2_normalize_f32,
        }
    }
}

/// As from `&Kernels`, for a table borrowed from a list (`for k in Kernels::variants()`), which
/// a `&Kernels` parameter took by auto-deref.
impl From<&&Kernels> for EncoderKernels {
    fn from(kernels: &&Kernels) -> EncoderKernels {
        EncoderKernels::from(*kernels)
    }
}

impl EncoderKernels {
    /// The encoder kernels of one table's dense family and L2 normalization.
    #[cfg_attr(
        not(all(target_arch = "wasm32", not(feature = "host-kernels"))),
        allow(dead_code)
    )]
    pub(crate) const fn new(
        dense: &'static DenseKernels,
        l2_normalize_f32: super::F32NormalizeFn,
    ) -> EncoderKernels {
        EncoderKernels {
            dense,
            l2_normalize_f32,
        }
    }

    /// The active table's encoder kernels: `Kernels::active().into()`, except in a wasm32
    /// build without host kernels, where the module has exactly one table and this names
    /// its encoder kernels directly (so the module does not link the others).
    pub fn active() -> EncoderKernels {
        #[cfg(all(target_arch = "wasm32", not(feature = "host-kernels")))]
        {
            super::wasm32::ENCODER
        }
        #[cfg(not(all(target_arch = "wasm32", not(feature = "host-kernels"))))]
        {
            Kernels::active().into()
        }
    }

    /// [`Kernels::gemm_nt_f32_in`] on this table.
    #[inline]
    pub fn gemm_nt_f32_in(
        &self,
        op: &GemmNt<'_>,
        c: &mut [f32],
        ldc: usize,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        self.dense.gemm_nt_f32_in(op, c, ldc, scratch)
    }

    /// [`Kernels::gemm_nt_i8`] on this table.
    #[inline]
    pub fn gemm_nt_i8(&self, op: &GemmNtI8<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
        self.dense.gemm_nt_i8(op, c, ldc)
    }

    /// [`Kernels::gemm_nt_i8_in`] on this table.
    #[inline]
    pub fn gemm_nt_i8_in(
        &self,
        op: &GemmNtI8<'_>,
        c: &mut [f32],
        ldc: usize,
        scratch: &mut GemmScratch,
    ) -> Result<()> {
        self.dense.gemm_nt_i8_in(op, c, ldc, scratch)
    }

    /// [`Kernels::quantize_rows_i8`] on this table.
    #[inline]
    pub fn quantize_rows_i8(
        &self,
        x: &[f32],
        k: usize,
        out: &mut [i8],
        ld: usize,
        scale: &mut [f32],
        zero: &mut [i32],
    ) -> Result<()> {
        self.dense.quantize_rows_i8(x, k, out, ld, scale, zero)
    }

    /// [`Kernels::softmax_rows_f32`] on this table.
    #[inline]
    pub fn softmax_rows_f32(&self, x: &mut [f32], width: usize) -> Result<()> {
        self.dense.softmax_rows_f32(x, width)
    }

    /// [`Kernels::layer_norm_rows_f32`] on this table.
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

    /// [`Kernels::gelu_f32`] on this table.
    #[inline]
    pub fn gelu_f32(&self, x: &mut [f32]) {
        self.dense.gelu_f32(x)
    }

    /// [`Kernels::l2_normalize_f32`] on this table.
    #[inline]
    pub fn l2_normalize_f32(&self, x: &mut [f32]) -> f32 {
        // SAFETY: the table this was made from is one this CPU supports.
        unsafe { (self.l2_normalize_f32)(x) }
    }
}

/// `C = [C +] act(alpha A Bᵀ + bias)` on the active kernel table. See [`Kernels::gemm_nt_f32`].
#[inline]
pub fn gemm_nt_f32(op: &GemmNt<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
    DenseKernels::active().gemm_nt_f32(op, c, ldc)
}

/// The int8 product on the active table. See [`Kernels::gemm_nt_i8`].
#[inline]
pub fn gemm_nt_i8(op: &GemmNtI8<'_>, c: &mut [f32], ldc: usize) -> Result<()> {
    DenseKernels::active().gemm_nt_i8(op, c, ldc)
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
