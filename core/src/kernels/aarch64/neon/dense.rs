//! NEON f32 encoder kernels: the generic loops (`generic/dense.rs`) over [`F32x4`], 4 lanes
//! per register. GEMM register tile: 2 registers (8 rows of `A`) by 8 columns (rows of
//! `B`), 16 accumulators of the 32 `v` registers.

use core::arch::aarch64::*;

use crate::kernels::generic::dense::{F32Vector, I8Dot};

/// A NEON register of 4 f32 lanes.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct F32x4(float32x4_t);

impl F32Vector for F32x4 {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F32x4(unsafe { vdupq_n_f32(0.0) })
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: as in `zero`.
        F32x4(unsafe { vdupq_n_f32(v) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for 4 readable values at `p`.
        F32x4(unsafe { vld1q_f32(p) })
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, r: usize) -> Self {
        let mut buf = [0.0f32; 4];
        // SAFETY: the caller vouches for `r < 4` readable values at `p`.
        unsafe {
            core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), r);
            F32x4(vld1q_f32(buf.as_ptr()))
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller vouches for 4 writable values at `p`.
        unsafe { vst1q_f32(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, r: usize) {
        let mut buf = [0.0f32; 4];
        // SAFETY: the caller vouches for `r < 4` writable values at `p`.
        unsafe {
            vst1q_f32(buf.as_mut_ptr(), self.0);
            core::ptr::copy_nonoverlapping(buf.as_ptr(), p, r);
        }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: register arithmetic (NEON baseline).
        F32x4(unsafe { vaddq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vsubq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vmulq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vdivq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vfmaq_f32(c.0, self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vmaxq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vminq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vabsq_f32(self.0) })
    }
    #[inline(always)]
    unsafe fn select_lt(self, o: Self, t: Self, f: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vbslq_f32(vcltq_f32(self.0, o.0), t.0, f.0) })
    }
    #[inline(always)]
    unsafe fn keep_nan(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vbslq_f32(vceqq_f32(self.0, self.0), other.0, self.0) })
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe { vrndnq_f32(self.0) })
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: as in `add`.
        F32x4(unsafe {
            let n = vaddq_s32(vcvtnq_s32_f32(self.0), vdupq_n_s32(127));
            vreinterpretq_f32_s32(vshlq_n_s32::<23>(n))
        })
    }
    #[inline(always)]
    unsafe fn transpose(regs: &mut [Self]) {
        // Always 4 registers (the generic loops pass `LANES`).
        let Ok(r) = <&mut [Self; 4]>::try_from(regs) else {
            return;
        };
        // SAFETY: register shuffles (NEON baseline).
        unsafe {
            let t0 = vreinterpretq_f64_f32(vtrn1q_f32(r[0].0, r[1].0));
            let t1 = vreinterpretq_f64_f32(vtrn2q_f32(r[0].0, r[1].0));
            let t2 = vreinterpretq_f64_f32(vtrn1q_f32(r[2].0, r[3].0));
            let t3 = vreinterpretq_f64_f32(vtrn2q_f32(r[2].0, r[3].0));
            r[0] = F32x4(vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
            r[1] = F32x4(vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
            r[2] = F32x4(vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
            r[3] = F32x4(vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
        }
    }
    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        // SAFETY: as in `add`.
        unsafe { vaddvq_f32(self.0) }
    }
    #[inline(always)]
    unsafe fn reduce_max(self) -> f32 {
        // SAFETY: as in `add`.
        unsafe { vmaxvq_f32(self.0) }
    }
}

/// 4 i32 sums for the int8 GEMM: 16 i8 products per step by `smull`/`smull2` (i8 by i8
/// into i16, exact: at most 128 * 128) and `sadalp` (pairs added into the i32 lanes). Plain
/// NEON, no `sdot` (an optional ARMv8.2 extension).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct I32x4(int32x4_t);

impl I8Dot for I32x4 {
    const STEP: usize = 16;
    const A_OFFSET: i32 = 0;
    type Data = int8x16_t;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: NEON is baseline on aarch64.
        I32x4(unsafe { vdupq_n_s32(0) })
    }
    #[inline(always)]
    unsafe fn load_a(p: *const i8) -> int8x16_t {
        // SAFETY: the caller vouches for 16 readable bytes at `p`.
        unsafe { vld1q_s8(p) }
    }
    #[inline(always)]
    unsafe fn load_b(p: *const i8) -> int8x16_t {
        // SAFETY: as in `load_a`.
        unsafe { vld1q_s8(p) }
    }
    #[inline(always)]
    unsafe fn madd(self, a: int8x16_t, b: int8x16_t) -> Self {
        // SAFETY: register arithmetic; NEON is baseline.
        unsafe {
            let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
            let hi = vmull_high_s8(a, b);
            I32x4(vpadalq_s16(vpadalq_s16(self.0, lo), hi))
        }
    }
    #[inline(always)]
    unsafe fn reduce4(v: [Self; 4]) -> [i32; 4] {
        // SAFETY: register arithmetic; NEON is baseline.
        unsafe {
            let s = vpaddq_s32(vpaddq_s32(v[0].0, v[1].0), vpaddq_s32(v[2].0, v[3].0));
            let mut out = [0i32; 4];
            vst1q_s32(out.as_mut_ptr(), s);
            out
        }
    }
}

crate::kernels::generic::dense_kernels! {
    vector: F32x4,
    tile: (2, 8),
    int8: (I32x4, 4) #[target_feature(enable = "neon")],
    #[target_feature(enable = "neon")]
    fn {
        gemm_nt_f32: gemm_nt_f32_neon,
        softmax_rows_f32: softmax_rows_f32_neon,
        layer_norm_rows_f32: layer_norm_rows_f32_neon,
        gelu_f32: gelu_f32_neon,
        gemm_nt_i8: gemm_nt_i8_neon,
        quantize_rows_i8: quantize_rows_i8_neon,
    }
}
