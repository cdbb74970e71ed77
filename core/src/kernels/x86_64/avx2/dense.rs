//! AVX2 + FMA f32 encoder kernels: the generic loops (`generic/dense.rs`) over [`F32x8`],
//! 8 lanes per register, masked tails. GEMM register tile: 2 registers (16 rows of `A`) by
//! 6 columns (rows of `B`), 12 accumulators of the 16 `ymm` registers.

use core::arch::x86_64::*;

use crate::kernels::generic::dense::F32Vector;

/// `MASK32[8 - r ..][..8]` selects the first `r` of 8 f32 lanes.
static MASK32: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

/// A lane mask for the first `r` of 8 f32 lanes, `r` in `1..8`.
#[inline(always)]
unsafe fn mask_ps(r: usize) -> __m256i {
    debug_assert!((1..8).contains(&r));
    // SAFETY: 8 - r in 1..=7, so 8 i32 = 32 bytes are readable from there; the caller
    // vouches for AVX.
    unsafe { _mm256_loadu_si256(MASK32.as_ptr().add(8 - r).cast()) }
}

/// An AVX2 register of 8 f32 lanes.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct F32x8(__m256);

impl F32Vector for F32x8 {
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX2 (trait contract).
        F32x8(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: as in `zero`.
        F32x8(unsafe { _mm256_set1_ps(v) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for AVX2 and 8 readable values at `p`.
        F32x8(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, r: usize) -> Self {
        // SAFETY: `maskload` reads only the first `r` lanes, which the caller vouches for.
        F32x8(unsafe { _mm256_maskload_ps(p, mask_ps(r)) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller vouches for AVX2 and 8 writable values at `p`.
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, r: usize) {
        // SAFETY: `maskstore` writes only the first `r` lanes, which the caller vouches for.
        unsafe { _mm256_maskstore_ps(p, mask_ps(r), self.0) }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: register arithmetic; the caller vouches for AVX2.
        F32x8(unsafe { _mm256_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: as in `add`; the caller vouches for FMA too (the table requires it).
        F32x8(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }
    #[inline(always)]
    unsafe fn select_lt(self, o: Self, t: Self, f: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe { _mm256_blendv_ps(f.0, t.0, _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, o.0)) })
    }
    #[inline(always)]
    unsafe fn keep_nan(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe {
            _mm256_blendv_ps(
                other.0,
                self.0,
                _mm256_cmp_ps::<_CMP_UNORD_Q>(self.0, self.0),
            )
        })
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe {
            _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: as in `add`.
        F32x8(unsafe {
            let n = _mm256_add_epi32(_mm256_cvtps_epi32(self.0), _mm256_set1_epi32(127));
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(n))
        })
    }
    #[inline(always)]
    unsafe fn transpose(regs: &mut [Self]) {
        // Always 8 registers (the generic loops pass `LANES`).
        let Ok(r) = <&mut [Self; 8]>::try_from(regs) else {
            return;
        };
        // SAFETY: register shuffles; the caller vouches for AVX2.
        unsafe {
            let lo2 = |a: __m256, b: __m256| {
                _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
            };
            let hi2 = |a: __m256, b: __m256| {
                _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b)))
            };
            // u[4g + q]: column 4h + q of rows 4g .. 4g + 4, in 128-bit half h.
            let mut u = [_mm256_setzero_ps(); 8];
            for g in 0..2 {
                let (r0, r1, r2, r3) = (r[4 * g].0, r[4 * g + 1].0, r[4 * g + 2].0, r[4 * g + 3].0);
                let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
                let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
                u[4 * g] = lo2(t0, t2);
                u[4 * g + 1] = hi2(t0, t2);
                u[4 * g + 2] = lo2(t1, t3);
                u[4 * g + 3] = hi2(t1, t3);
            }
            for q in 0..4 {
                r[q] = F32x8(_mm256_permute2f128_ps::<0x20>(u[q], u[4 + q]));
                r[4 + q] = F32x8(_mm256_permute2f128_ps::<0x31>(u[q], u[4 + q]));
            }
        }
    }
    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        // SAFETY: as in `add`.
        unsafe {
            let s = _mm_add_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
        }
    }
    #[inline(always)]
    unsafe fn reduce_max(self) -> f32 {
        // SAFETY: as in `add`.
        unsafe {
            let s = _mm_max_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
            _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)))
        }
    }
}

crate::kernels::generic::dense_kernels! {
    vector: F32x8,
    tile: (2, 6),
    // The packed outer product of `dense_i8.rs`, not the generic dot-product loop.
    int8: { super::dense_i8::gemm_nt_i8_packed } #[target_feature(enable = "avx2,fma")],
    #[target_feature(enable = "avx2,fma")]
    fn {
        gemm_nt_f32: gemm_nt_f32_avx2,
        softmax_rows_f32: softmax_rows_f32_avx2,
        layer_norm_rows_f32: layer_norm_rows_f32_avx2,
        gelu_f32: gelu_f32_avx2,
        gemm_nt_i8: gemm_nt_i8_avx2,
        quantize_rows_i8: quantize_rows_i8_avx2,
    }
}
