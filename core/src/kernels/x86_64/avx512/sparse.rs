//! AVX-512 f64 solver kernels: the generic loops (`generic/`) over [`F64x8`], 8 lanes per
//! register and mask-register tails, for the vector operations; the rows of a matrix
//! product use AVX2's 4-lane [`F64x4`], which measured faster (see there).

use core::arch::x86_64::*;

use super::super::avx2::sparse::F64x4;
use crate::kernels::generic::F64Vector;

/// `lo` in lanes 0..4, `hi` in lanes 4..8.
#[inline(always)]
unsafe fn combine(lo: F64x4, hi: F64x4) -> F64x8 {
    // SAFETY: the caller vouches for AVX-512F.
    unsafe { F64x8(_mm512_insertf64x4::<1>(_mm512_castpd256_pd512(lo.0), hi.0)) }
}

/// Mask of the first `r` of 8 lanes, `r < 8`.
#[inline(always)]
fn mask8(r: usize) -> __mmask8 {
    ((1u32 << r) - 1) as __mmask8
}

/// An AVX-512 register of 8 f64 lanes.
#[derive(Clone, Copy)]
pub(crate) struct F64x8(__m512d);

impl F64Vector for F64x8 {
    const LANES: usize = 8;
    const STANDALONE: bool = false;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX-512F (trait contract).
        F64x8(unsafe { _mm512_setzero_pd() })
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        // SAFETY: as in `zero`.
        F64x8(unsafe { _mm512_set1_pd(v) })
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller vouches for AVX-512F and 8 readable values at `p`.
        F64x8(unsafe { _mm512_loadu_pd(p) })
    }

    #[inline(always)]
    unsafe fn load_first(p: *const f64, r: usize) -> Self {
        // SAFETY: masked-off lanes are neither read nor able to fault; the caller vouches
        // for the first `r`.
        F64x8(unsafe { _mm512_maskz_loadu_pd(mask8(r), p) })
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller vouches for AVX-512F and 8 writable values at `p`.
        unsafe { _mm512_storeu_pd(p, self.0) }
    }

    #[inline(always)]
    unsafe fn store_first(self, p: *mut f64, r: usize) {
        // SAFETY: masked-off lanes are not written; the caller vouches for the first `r`.
        unsafe { _mm512_mask_storeu_pd(p, mask8(r), self.0) }
    }

    /// Two [`F64x4`] gathers (scalar loads). Not used by the table: its matrix rows use
    /// `F64x4` (see there), which measured faster than 8 lanes and than `vgatherqpd`.
    #[inline(always)]
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self {
        // SAFETY: the caller vouches for the 8 indices and the elements they name.
        unsafe { combine(F64x4::gather(x, idx), F64x4::gather(x, idx.add(4))) }
    }

    #[inline(always)]
    unsafe fn gather_first(x: *const f64, idx: *const u32, r: usize) -> Self {
        // SAFETY: only the first `r` indices (and the elements they name) are read, which
        // the caller vouches for.
        unsafe {
            match r {
                1..=3 => combine(F64x4::gather_first(x, idx, r), F64x4::zero()),
                4 => combine(F64x4::gather(x, idx), F64x4::zero()),
                _ => combine(
                    F64x4::gather(x, idx),
                    F64x4::gather_first(x, idx.add(4), r - 4),
                ),
            }
        }
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F64x8(unsafe { _mm512_add_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F64x8(unsafe { _mm512_sub_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F64x8(unsafe { _mm512_mul_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: the caller vouches for AVX-512F.
        F64x8(unsafe { _mm512_abs_pd(self.0) })
    }

    /// Halves 8 -> 4 -> 2 -> 1, written out so the order is the shared one whatever the
    /// compiler (`_mm512_reduce_add_pd` leaves it to LLVM).
    #[inline(always)]
    unsafe fn reduce_add(self) -> f64 {
        // SAFETY: the caller vouches for AVX-512F (which implies AVX).
        unsafe {
            let v = _mm256_add_pd(
                _mm512_castpd512_pd256(self.0),
                _mm512_extractf64x4_pd::<1>(self.0),
            );
            let sum2 = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
            _mm_cvtsd_f64(_mm_add_sd(sum2, _mm_unpackhi_pd(sum2, sum2)))
        }
    }
}

crate::kernels::generic::sparse_kernels! {
    vector: F64x8,
    rows: F64x4,
    #[target_feature(enable = "avx512f")]
    [unsafe] fn {
        spmv_csr_f64: spmv_csr_f64_avx512,
        spmv_dots_csr_f64: spmv_dots_csr_f64_avx512,
        residual_csr_f64: residual_csr_f64_avx512,
        jacobi_csr_f64: jacobi_csr_f64_avx512,
        pagerank_csr_f64: pagerank_csr_f64_avx512,
        dot_f64: dot_f64_avx512,
        nrm2_f64: nrm2_f64_avx512,
        axpy_f64: axpy_f64_avx512,
        xpby_f64: xpby_f64_avx512,
        axpy_dot_f64: axpy_dot_f64_avx512,
        axpy_dots_f64: axpy_dots_f64_avx512,
        axpy_jacobi_dots_f64: axpy_jacobi_dots_f64_avx512,
        axpy2_f64: axpy2_f64_avx512,
        bicgstab_p_f64: bicgstab_p_f64_avx512,
        axpy_xpby_f64: axpy_xpby_f64_avx512,
    }
}
