//! simd128 f32 encoder kernels: the generic loops (`generic/dense.rs`) over [`F32x4`], 4
//! lanes per register, no fused multiply-add (plain simd128 has none; relaxed-simd is
//! avoided, see DESIGN.md). GEMM register tile: 2 registers (8 rows of `A`) by 4 columns
//! (rows of `B`): 8 accumulators, which V8 keeps in `xmm` registers and wasmi in locals.

use core::arch::wasm32::*;

use crate::kernels::generic::dense::{F32Vector, I8Dot};

/// A simd128 register of 4 f32 lanes.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct F32x4(v128);

impl F32Vector for F32x4 {
    const LANES: usize = 4;
    const ESTRIN: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        F32x4(f32x4_splat(0.0))
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        F32x4(f32x4_splat(v))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for 4 readable values at `p` (no alignment needed).
        F32x4(unsafe { v128_load(p.cast()) })
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, r: usize) -> Self {
        let mut buf = [0.0f32; 4];
        // SAFETY: the caller vouches for `r < 4` readable values at `p`.
        unsafe {
            core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), r);
            F32x4(v128_load(buf.as_ptr().cast()))
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller vouches for 4 writable values at `p`.
        unsafe { v128_store(p.cast(), self.0) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, r: usize) {
        let mut buf = [0.0f32; 4];
        // SAFETY: the caller vouches for `r < 4` writable values at `p`.
        unsafe {
            v128_store(buf.as_mut_ptr().cast(), self.0);
            core::ptr::copy_nonoverlapping(buf.as_ptr(), p, r);
        }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        F32x4(f32x4_add(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        F32x4(f32x4_sub(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        F32x4(f32x4_mul(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        F32x4(f32x4_div(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // With relaxed-simd (the JIT engines' encoder module): a fused multiply-add where the
        // CPU has one, as the native tables use.
        #[cfg(target_feature = "relaxed-simd")]
        {
            F32x4(f32x4_relaxed_madd(self.0, b.0, c.0))
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            F32x4(f32x4_add(f32x4_mul(self.0, b.0), c.0))
        }
    }
    // The pseudo-minimum and -maximum: `self > o ? self : o` and `self < o ? self : o`, the
    // scalar table's convention (NaN or equal zeros: `o`). One `maxps` / `minps` in V8 on x64,
    // where `f32x4.max` / `min` (NaN propagating, -0 < +0) take it eight instructions.
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        F32x4(f32x4_pmax(o.0, self.0))
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        F32x4(f32x4_pmin(o.0, self.0))
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        F32x4(f32x4_abs(self.0))
    }
    #[inline(always)]
    unsafe fn select_lt(self, o: Self, t: Self, f: Self) -> Self {
        F32x4(v128_bitselect(t.0, f.0, f32x4_lt(self.0, o.0)))
    }
    #[inline(always)]
    unsafe fn keep_nan(self, other: Self) -> Self {
        F32x4(v128_bitselect(other.0, self.0, f32x4_eq(self.0, self.0)))
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        F32x4(f32x4_nearest(self.0))
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // `n + (2^23 + 127)` is exact for integer-valued `n` in -126..=127 and holds
        // `n + 127` in its low mantissa bits; shifted left 23 they are the exponent field of
        // `2^n` (the sum's own exponent bits shift out). Two instructions where
        // `i32x4.trunc_sat_f32x4_s` alone takes V8 about seven on x64 (its saturation
        // fix-ups), for the same bits.
        F32x4(i32x4_shl(f32x4_add(self.0, f32x4_splat(8_388_735.0)), 23))
    }
    #[inline(always)]
    unsafe fn transpose(regs: &mut [Self]) {
        // Always 4 registers (the generic loops pass `LANES`).
        let Ok(r) = <&mut [Self; 4]>::try_from(regs) else {
            return;
        };
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(r[0].0, r[1].0);
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(r[0].0, r[1].0);
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(r[2].0, r[3].0);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(r[2].0, r[3].0);
        r[0] = F32x4(i64x2_shuffle::<0, 2>(t0, t2));
        r[1] = F32x4(i64x2_shuffle::<1, 3>(t0, t2));
        r[2] = F32x4(i64x2_shuffle::<0, 2>(t1, t3));
        r[3] = F32x4(i64x2_shuffle::<1, 3>(t1, t3));
    }
    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        let v = self.0;
        (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<2>(v))
            + (f32x4_extract_lane::<1>(v) + f32x4_extract_lane::<3>(v))
    }
    #[inline(always)]
    unsafe fn reduce_max(self) -> f32 {
        let v = self.0;
        f32x4_extract_lane::<0>(v)
            .max(f32x4_extract_lane::<1>(v))
            .max(f32x4_extract_lane::<2>(v).max(f32x4_extract_lane::<3>(v)))
    }
}

/// 4 i32 sums for the int8 GEMM: 16 i8 products per step, widened to i16 and summed in
/// pairs by `i32x4.dot_i16x8_s` (exact).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct I32x4(v128);

impl I8Dot for I32x4 {
    const STEP: usize = 16;
    const A_OFFSET: i32 = 0;
    type Data = v128;

    #[inline(always)]
    unsafe fn zero() -> Self {
        I32x4(i32x4_splat(0))
    }
    #[inline(always)]
    unsafe fn load_a(p: *const i8) -> v128 {
        // SAFETY: the caller vouches for 16 readable bytes at `p` (no alignment needed).
        unsafe { v128_load(p.cast()) }
    }
    #[inline(always)]
    unsafe fn load_b(p: *const i8) -> v128 {
        // SAFETY: as in `load_a`.
        unsafe { v128_load(p.cast()) }
    }
    #[inline(always)]
    unsafe fn madd(self, a: v128, b: v128) -> Self {
        let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(a), i16x8_extend_low_i8x16(b));
        let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(a), i16x8_extend_high_i8x16(b));
        I32x4(i32x4_add(self.0, i32x4_add(lo, hi)))
    }
    #[inline(always)]
    unsafe fn reduce4(v: [Self; 4]) -> [i32; 4] {
        v.map(|x| {
            let s = i32x4_add(x.0, i32x4_shuffle::<2, 3, 0, 1>(x.0, x.0));
            let s = i32x4_add(s, i32x4_shuffle::<1, 0, 3, 2>(s, s));
            i32x4_extract_lane::<0>(s)
        })
    }
}

// No quantizer of its own: the whole module is built with simd128, so the portable
// `quantize_rows_i8` is this table's already, and the index modules (which link the tables but
// not the encoder) do not carry a copy.
crate::kernels::generic::dense_kernels! {
    vector: F32x4,
    tile: (2, 4),
    int8: (I32x4, 2) #[target_feature(enable = "simd128")],
    #[target_feature(enable = "simd128")]
    fn {
        gemm_nt_f32: gemm_nt_f32_simd128,
        softmax_rows_f32: softmax_rows_f32_simd128,
        layer_norm_rows_f32: layer_norm_rows_f32_simd128,
        gelu_f32: gelu_f32_simd128,
        gemm_nt_i8: gemm_nt_i8_simd128,
    }
}
