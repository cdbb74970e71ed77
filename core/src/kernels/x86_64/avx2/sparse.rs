//! AVX2 f64 solver kernels: the generic loops (`generic/`) over [`F64x4`], 4 lanes per
//! register, `vgatherdpd`-style gathers (64-bit indices: `vgatherqpd`) and masked tails.

use core::arch::x86_64::*;

use crate::kernels::generic::F64Vector;

/// `MASK64[4 - r ..][..4]` selects the first `r` of 4 f64 lanes.
static MASK64: [i64; 8] = [-1, -1, -1, -1, 0, 0, 0, 0];
/// `MASK32[4 - r ..][..4]` selects the first `r` of 4 u32 lanes.
static MASK32: [i32; 8] = [-1, -1, -1, -1, 0, 0, 0, 0];

/// A lane mask for the first `r` of 4 f64 lanes, `r` in `1..4`.
#[inline(always)]
unsafe fn mask_pd(r: usize) -> __m256i {
    debug_assert!((1..4).contains(&r));
    // SAFETY: 4 - r in 1..=3, so 4 i64 = 32 bytes are readable from there; the caller
    // vouches for AVX.
    unsafe { _mm256_loadu_si256(MASK64.as_ptr().add(4 - r).cast()) }
}

/// A lane mask for the first `r` of 4 u32 lanes, `r` in `1..4`.
#[inline(always)]
unsafe fn mask_epi32(r: usize) -> __m128i {
    // SAFETY: as in `mask_pd`, 16 bytes.
    unsafe { _mm_loadu_si128(MASK32.as_ptr().add(4 - r).cast()) }
}

/// An AVX2 register of 4 f64 lanes.
#[derive(Clone, Copy)]
pub(crate) struct F64x4(__m256d);

impl F64Vector for F64x4 {
    const LANES: usize = 4;

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

    #[inline(always)]
    unsafe fn gather(x: *const f64, idx: *const u32) -> Self {
        // SAFETY: the caller vouches for the 4 indices and the elements of `x` they name.
        // Zero-extended to 64 bits, so indices of 2^31 and more address forward.
        unsafe {
            let idx = _mm256_cvtepu32_epi64(_mm_loadu_si128(idx.cast()));
            F64x4(_mm256_i64gather_pd::<8>(x, idx))
        }
    }

    #[inline(always)]
    unsafe fn gather_first(x: *const f64, idx: *const u32, r: usize) -> Self {
        // SAFETY: the masked load reads only the first `r` indices, and the masked gather
        // touches only the elements those name (masked-off lanes neither load nor fault).
        unsafe {
            let idx = _mm_maskload_epi32(idx.cast(), mask_epi32(r));
            let idx = _mm256_cvtepu32_epi64(idx);
            let mask = _mm256_castsi256_pd(mask_pd(r));
            F64x4(_mm256_mask_i64gather_pd::<8>(
                _mm256_setzero_pd(),
                x,
                idx,
                mask,
            ))
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
    short_rows: 8,
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
    }
}
