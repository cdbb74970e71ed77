//! WebAssembly simd128 f64 solver kernels: the generic loops (`generic/`) over [`F64x2`],
//! 2 lanes per register. There is no gather: `x` is loaded lane by lane. `simd128` is a
//! compile-time feature (this module only exists when it is on), so these are safe
//! functions.

use core::arch::wasm32::*;

use crate::kernels::generic::F64Vector;

/// A simd128 register as 2 f64 lanes.
#[derive(Clone, Copy)]
pub(crate) struct F64x2(v128);

// Every method: simd128 is on wherever this compiles, so only the pointers need vouching
// for, which the trait's contract leaves to the caller.
impl F64Vector for F64x2 {
    const LANES: usize = 2;
    const STANDALONE: bool = true;

    #[inline(always)]
    unsafe fn zero() -> Self {
        F64x2(f64x2_splat(0.0))
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        F64x2(f64x2_splat(v))
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller vouches for 2 readable values at `p`; `v128.load` is 1-aligned.
        F64x2(unsafe { v128_load(p.cast()) })
    }

    #[inline(always)]
    unsafe fn load_first(p: *const f64, _r: usize) -> Self {
        // SAFETY: r = 1: the caller vouches for one readable value at `p`.
        F64x2(unsafe { v128_load64_zero(p.cast()) })
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller vouches for 2 writable values at `p`; 1-aligned store.
        unsafe { v128_store(p.cast(), self.0) }
    }

    #[inline(always)]
    unsafe fn store_first(self, p: *mut f64, _r: usize) {
        // SAFETY: r = 1: the caller vouches for one writable value at `p`.
        unsafe { v128_store64_lane::<0>(self.0, p.cast()) }
    }

    #[inline(always)]
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self {
        // SAFETY: the caller vouches for 2 indices and the elements of `x` they name.
        unsafe {
            let lo = v128_load64_zero(x.add(*idx as usize).cast());
            F64x2(f64x2_replace_lane::<1>(lo, *x.add(*idx.add(1) as usize)))
        }
    }

    #[inline(always)]
    unsafe fn gather_first(x: *const f64, idx: *const u32, _r: usize) -> Self {
        // SAFETY: r = 1: the caller vouches for one index and the element it names.
        F64x2(unsafe { v128_load64_zero(x.add(*idx as usize).cast()) })
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        F64x2(f64x2_add(self.0, other.0))
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        F64x2(f64x2_sub(self.0, other.0))
    }

    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        F64x2(f64x2_mul(self.0, other.0))
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        F64x2(f64x2_abs(self.0))
    }

    #[inline(always)]
    unsafe fn reduce_add(self) -> f64 {
        f64x2_extract_lane::<0>(self.0) + f64x2_extract_lane::<1>(self.0)
    }
}

crate::kernels::generic::sparse_kernels! {
    vector: F64x2,
    rows: F64x2,
    [] fn {
        spmv_csr_f64: spmv_csr_f64_simd128,
        spmv_dots_csr_f64: spmv_dots_csr_f64_simd128,
        residual_csr_f64: residual_csr_f64_simd128,
        jacobi_csr_f64: jacobi_csr_f64_simd128,
        pagerank_csr_f64: pagerank_csr_f64_simd128,
        dot_f64: dot_f64_simd128,
        nrm2_f64: nrm2_f64_simd128,
        axpy_f64: axpy_f64_simd128,
        xpby_f64: xpby_f64_simd128,
        axpy_dot_f64: axpy_dot_f64_simd128,
        axpy_dots_f64: axpy_dots_f64_simd128,
        axpy_jacobi_dots_f64: axpy_jacobi_dots_f64_simd128,
        axpy2_f64: axpy2_f64_simd128,
        bicgstab_p_f64: bicgstab_p_f64_simd128,
        axpy_xpby_f64: axpy_xpby_f64_simd128,
    }
}
