//! AVX2 f64 solver kernels: the generic loops (`generic/`) over [`F64x4`], 4 lanes per
//! register, masked tails.

use core::arch::x86_64::*;

use crate::kernels::generic::F64Vector;

/// `MASK64[4 - r ..][..4]` selects the first `r` of 4 f64 lanes.
static MASK64: [i64; 8] = [-1, -1, -1, -1, 0, 0, 0, 0];

/// A lane mask for the first `r` of 4 f64 lanes, `r` in `1..4`.
#[inline(always)]
unsafe fn mask_pd(r: usize) -> __m256i {
    debug_assert!((1..4).contains(&r));
    // SAFETY: 4 - r in 1..=3, so 4 i64 = 32 bytes are readable from there; the caller
    // vouches for AVX.
    unsafe { _mm256_loadu_si256(MASK64.as_ptr().add(4 - r).cast()) }
}

/// An AVX2 register of 4 f64 lanes. Also the row register of the AVX-512 table's matrix
/// kernels: a product is bound by memory, and on every matrix measured (1M-row 2D Poisson,
/// 5 and 12 random columns per row, 12- and 100-wide bands) 4-lane rows with scalar loads of
/// `x` were as fast as or faster than 8-lane ones and than `vgatherqpd` (masked 8-lane
/// gathers: 2x slower on 12-entry rows).
#[derive(Clone, Copy)]
pub(crate) struct F64x4(pub(in crate::kernels::x86_64) __m256d);

impl F64Vector for F64x4 {
    const LANES: usize = 4;
    const STANDALONE: bool = false;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX2 (trait contract).
        F64x4(unsafe { _mm256_setzero_pd() })
    }

    #[inline(always)]
    unsafe fn splat(v: f64) -> Self {
        // SAFETY: as in `zero`.
        F64x4(unsafe { _mm256_set1_pd(v) })
    }

    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        // SAFETY: the caller vouches for AVX2 and 4 readable values at `p`.
        F64x4(unsafe { _mm256_loadu_pd(p) })
    }

    #[inline(always)]
    unsafe fn load_first(p: *const f64, r: usize) -> Self {
        // SAFETY: `maskload` reads only the first `r` lanes, which the caller vouches for.
        F64x4(unsafe { _mm256_maskload_pd(p, mask_pd(r)) })
    }

    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        // SAFETY: the caller vouches for AVX2 and 4 writable values at `p`.
        unsafe { _mm256_storeu_pd(p, self.0) }
    }

    #[inline(always)]
    unsafe fn store_first(self, p: *mut f64, r: usize) {
        // SAFETY: `maskstore` writes only the first `r` lanes, which the caller vouches for.
        unsafe { _mm256_maskstore_pd(p, mask_pd(r), self.0) }
    }

    /// Four scalar loads, not `vgatherqpd`: on the rows of the benchmarks (Zen 5) the
    /// hardware gather was slower everywhere, up to 1.5x on banded rows whose `x` is in L1
    /// (see `F64x4`).
    #[inline(always)]
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self {
        // SAFETY: the caller vouches for the 4 indices and the elements of `x` they name.
        unsafe {
            let at = |l: usize| *x.add(*idx.add(l) as usize);
            F64x4(_mm256_set_pd(at(3), at(2), at(1), at(0)))
        }
    }

    #[inline(always)]
    unsafe fn gather_first(x: *const f64, idx: *const u32, r: usize) -> Self {
        // SAFETY: only the first `r` indices are read, and the elements they name, which
        // the caller vouches for.
        unsafe {
            let at = |l: usize| *x.add(*idx.add(l) as usize);
            F64x4(match r {
                1 => _mm256_set_pd(0.0, 0.0, 0.0, at(0)),
                2 => _mm256_set_pd(0.0, 0.0, at(1), at(0)),
                _ => _mm256_set_pd(0.0, at(2), at(1), at(0)),
            })
        }
    }

    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX2.
        F64x4(unsafe { _mm256_add_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn sub(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX2.
        F64x4(unsafe { _mm256_sub_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn mul(self, other: Self) -> Self {
        // SAFETY: the caller vouches for AVX2.
        F64x4(unsafe { _mm256_mul_pd(self.0, other.0) })
    }

    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: the caller vouches for AVX2.
        F64x4(unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0) })
    }

    /// `(l0 + l2) + (l1 + l3)`.
    #[inline(always)]
    unsafe fn reduce_add(self) -> f64 {
        // SAFETY: the caller vouches for AVX2.
        unsafe {
            let sum2 = _mm_add_pd(
                _mm256_castpd256_pd128(self.0),
                _mm256_extractf128_pd::<1>(self.0),
            );
            _mm_cvtsd_f64(_mm_add_sd(sum2, _mm_unpackhi_pd(sum2, sum2)))
        }
    }
}

crate::kernels::generic::sparse_kernels! {
    vector: F64x4,
    rows: F64x4,
    #[target_feature(enable = "avx2")]
    [unsafe] fn {
        spmv_csr_f64: spmv_csr_f64_avx2,
        spmv_dots_csr_f64: spmv_dots_csr_f64_avx2,
        residual_csr_f64: residual_csr_f64_avx2,
        jacobi_csr_f64: jacobi_csr_f64_avx2,
        pagerank_csr_f64: pagerank_csr_f64_avx2,
        dot_f64: dot_f64_avx2,
        nrm2_f64: nrm2_f64_avx2,
        axpy_f64: axpy_f64_avx2,
        xpby_f64: xpby_f64_avx2,
        axpy_dot_f64: axpy_dot_f64_avx2,
        axpy_dots_f64: axpy_dots_f64_avx2,
        axpy_jacobi_dots_f64: axpy_jacobi_dots_f64_avx2,
        axpy2_f64: axpy2_f64_avx2,
        bicgstab_p_f64: bicgstab_p_f64_avx2,
        axpy_xpby_f64: axpy_xpby_f64_avx2,
    }
}
