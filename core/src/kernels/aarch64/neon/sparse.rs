//! NEON f64 solver kernels: the generic loops (`generic/`) over [`F64x2`], 2 lanes per
//! register. NEON has no gather: `x` is loaded lane by lane.
//!
//! NEON is always present on aarch64, so these are safe functions; `#[target_feature]` only
//! because intrinsics demand it be listed even when the target enables it.

use core::arch::aarch64::*;

use crate::kernels::generic::F64Vector;

/// A NEON register of 2 f64 lanes.
#[derive(Clone, Copy)]
pub(crate) struct F64x2(float64x2_t);

impl F64Vector for F64x2 {
    const LANES: usize = 2;
    const STANDALONE: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F64x2(unsafe { vdupq_n_f64(0.0) })
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F64x2(unsafe { vdupq_n_f64(v) })
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller vouches for 2 readable values at `p`.
        F64x2(unsafe { vld1q_f64(p) })
    }

    #[inline(always)]
    unsafe fn load_first(p: *const f64, _r: usize) -> Self {
        // SAFETY: r = 1: the caller vouches for one readable value at `p`.
        F64x2(unsafe { vsetq_lane_f64::<0>(*p, vdupq_n_f64(0.0)) })
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller vouches for 2 writable values at `p`.
        unsafe { vst1q_f64(p, self.0) }
    }

    #[inline(always)]
    unsafe fn store_first(self, p: *mut f64, _r: usize) {
        // SAFETY: r = 1: the caller vouches for one writable value at `p`.
        unsafe { *p = vgetq_lane_f64::<0>(self.0) }
    }

    #[inline(always)]
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self {
        // SAFETY: the caller vouches for 2 indices and the elements of `x` they name.
        unsafe {
            let lo = vld1_f64(x.add(*idx as usize));
            let hi = vld1_f64(x.add(*idx.add(1) as usize));
            F64x2(vcombine_f64(lo, hi))
        }
    }

    #[inline(always)]
    unsafe fn gather_first(x: *const f64, idx: *const u32, _r: usize) -> Self {
        // SAFETY: r = 1: the caller vouches for one index and the element it names.
        F64x2(unsafe { vsetq_lane_f64::<0>(*x.add(*idx as usize), vdupq_n_f64(0.0)) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F64x2(unsafe { vaddq_f64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F64x2(unsafe { vsubq_f64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F64x2(unsafe { vmulq_f64(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: NEON is baseline on aarch64.
        F64x2(unsafe { vabsq_f64(self.0) })
    }

    #[inline(always)]
    unsafe fn reduce_add(self) -> f64 {
        // SAFETY: NEON is baseline on aarch64.
        unsafe { vgetq_lane_f64::<0>(self.0) + vgetq_lane_f64::<1>(self.0) }
    }
}

crate::kernels::generic::sparse_kernels! {
    vector: F64x2,
    rows: F64x2,
    #[target_feature(enable = "neon")]
    [] fn {
        spmv_csr_f64: spmv_csr_f64_neon,
        spmv_dots_csr_f64: spmv_dots_csr_f64_neon,
        residual_csr_f64: residual_csr_f64_neon,
        jacobi_csr_f64: jacobi_csr_f64_neon,
        pagerank_csr_f64: pagerank_csr_f64_neon,
        dot_f64: dot_f64_neon,
        nrm2_f64: nrm2_f64_neon,
        axpy_f64: axpy_f64_neon,
        xpby_f64: xpby_f64_neon,
        axpy_dot_f64: axpy_dot_f64_neon,
        axpy_dots_f64: axpy_dots_f64_neon,
        axpy_jacobi_dots_f64: axpy_jacobi_dots_f64_neon,
        axpy2_f64: axpy2_f64_neon,
        bicgstab_p_f64: bicgstab_p_f64_neon,
        axpy_xpby_f64: axpy_xpby_f64_neon,
    }
}
