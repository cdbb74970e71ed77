//! AVX-512F f32 encoder kernels: the generic loops (`generic/dense.rs`) over [`F32x16`],
//! 16 lanes per register, mask-register tails. GEMM register tile: 2 registers (32 rows of
//! `A`) by 12 columns (rows of `B`), 24 accumulators of the 32 `zmm` registers.

use core::arch::x86_64::*;

use crate::kernels::generic::dense::{F32Vector, I8Dot};

/// Mask of the first `r` of 16 lanes, `r < 16`.
#[inline(always)]
fn mask16(r: usize) -> __mmask16 {
    ((1u32 << r) - 1) as __mmask16
}

/// An AVX-512 register of 16 f32 lanes.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct F32x16(__m512);

impl F32Vector for F32x16 {
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX-512F (trait contract).
        F32x16(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        // SAFETY: as in `zero`.
        F32x16(unsafe { _mm512_set1_ps(v) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for AVX-512F and 16 readable values at `p`.
        F32x16(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_first(p: *const f32, r: usize) -> Self {
        // SAFETY: a masked load reads only the first `r` lanes, which the caller vouches for.
        F32x16(unsafe { _mm512_maskz_loadu_ps(mask16(r), p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller vouches for AVX-512F and 16 writable values at `p`.
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, r: usize) {
        // SAFETY: a masked store writes only the first `r` lanes, which the caller vouches
        // for.
        unsafe { _mm512_mask_storeu_ps(p, mask16(r), self.0) }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: register arithmetic; the caller vouches for AVX-512F.
        F32x16(unsafe { _mm512_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe { _mm512_abs_ps(self.0) })
    }
    #[inline(always)]
    unsafe fn select_lt(self, o: Self, t: Self, f: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe {
            _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, o.0), f.0, t.0)
        })
    }
    #[inline(always)]
    unsafe fn keep_nan(self, other: Self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe {
            _mm512_mask_blend_ps(
                _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(self.0, self.0),
                other.0,
                self.0,
            )
        })
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe {
            _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: as in `add`.
        F32x16(unsafe {
            let n = _mm512_add_epi32(_mm512_cvtps_epi32(self.0), _mm512_set1_epi32(127));
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(n))
        })
    }
    #[inline(always)]
    unsafe fn transpose(regs: &mut [Self]) {
        // Always 16 registers (the generic loops pass `LANES`).
        let Ok(r) = <&mut [Self; 16]>::try_from(regs) else {
            return;
        };
        // SAFETY: register shuffles; the caller vouches for AVX-512F.
        unsafe {
            let lo = |a: __m512, b: __m512| _mm512_unpacklo_ps(a, b);
            let hi = |a: __m512, b: __m512| _mm512_unpackhi_ps(a, b);
            let lo2 = |a: __m512, b: __m512| {
                _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
            };
            let hi2 = |a: __m512, b: __m512| {
                _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
            };
            // u[4g + q]: column 4b + q of rows 4g .. 4g + 4, in 128-bit block b.
            let mut u = [_mm512_setzero_ps(); 16];
            for g in 0..4 {
                let (r0, r1, r2, r3) = (r[4 * g].0, r[4 * g + 1].0, r[4 * g + 2].0, r[4 * g + 3].0);
                let (t0, t1, t2, t3) = (lo(r0, r1), hi(r0, r1), lo(r2, r3), hi(r2, r3));
                u[4 * g] = lo2(t0, t2);
                u[4 * g + 1] = hi2(t0, t2);
                u[4 * g + 2] = lo2(t1, t3);
                u[4 * g + 3] = hi2(t1, t3);
            }
            for q in 0..4 {
                let v01 = _mm512_shuffle_f32x4::<0x44>(u[q], u[4 + q]);
                let v23 = _mm512_shuffle_f32x4::<0xee>(u[q], u[4 + q]);
                let w01 = _mm512_shuffle_f32x4::<0x44>(u[8 + q], u[12 + q]);
                let w23 = _mm512_shuffle_f32x4::<0xee>(u[8 + q], u[12 + q]);
                r[q] = F32x16(_mm512_shuffle_f32x4::<0x88>(v01, w01));
                r[4 + q] = F32x16(_mm512_shuffle_f32x4::<0xdd>(v01, w01));
                r[8 + q] = F32x16(_mm512_shuffle_f32x4::<0x88>(v23, w23));
                r[12 + q] = F32x16(_mm512_shuffle_f32x4::<0xdd>(v23, w23));
            }
        }
    }
    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        // SAFETY: as in `add`.
        unsafe { _mm512_reduce_add_ps(self.0) }
    }
    #[inline(always)]
    unsafe fn reduce_max(self) -> f32 {
        // SAFETY: as in `add`.
        unsafe { _mm512_reduce_max_ps(self.0) }
    }
}

/// The sums of four registers of 16 i32 lanes: halves added, then the AVX2 `hadd` tree.
#[inline(always)]
unsafe fn reduce4_epi32(v: [__m512i; 4]) -> [i32; 4] {
    // SAFETY: register arithmetic; the caller vouches for AVX-512F (which implies AVX2).
    unsafe {
        let half = |x: __m512i| {
            _mm256_add_epi32(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64::<1>(x))
        };
        let s01 = _mm256_hadd_epi32(half(v[0]), half(v[1]));
        let s23 = _mm256_hadd_epi32(half(v[2]), half(v[3]));
        let s = _mm256_hadd_epi32(s01, s23);
        let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
        let mut out = [0i32; 4];
        _mm_storeu_si128(out.as_mut_ptr().cast(), s);
        out
    }
}

/// 16 i32 sums for the int8 GEMM without VNNI: 64 i8 products per step by `vpmaddubsw`
/// with the sign trick (`|b|` by `a` negated where `b < 0`, both within 127, so an i16
/// pair never saturates), then `vpmaddwd` by ones. Needs AVX-512BW.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct I32x16(__m512i);

impl I8Dot for I32x16 {
    const STEP: usize = 64;
    const A_OFFSET: i32 = 0;
    type Data = __m512i;

    #[inline(always)]
    unsafe fn zero() -> Self {
        // SAFETY: the caller vouches for AVX-512F (trait contract).
        I32x16(unsafe { _mm512_setzero_si512() })
    }
    #[inline(always)]
    unsafe fn load_a(p: *const i8) -> __m512i {
        // SAFETY: the caller vouches for AVX-512F and 64 readable bytes at `p`.
        unsafe { _mm512_loadu_si512(p.cast()) }
    }
    #[inline(always)]
    unsafe fn load_b(p: *const i8) -> __m512i {
        // SAFETY: as in `load_a`.
        unsafe { _mm512_loadu_si512(p.cast()) }
    }
    #[inline(always)]
    unsafe fn madd(self, a: __m512i, b: __m512i) -> Self {
        // SAFETY: register arithmetic; the caller vouches for AVX-512BW.
        unsafe {
            let negative = _mm512_movepi8_mask(b);
            let signed_a = _mm512_mask_sub_epi8(a, negative, _mm512_setzero_si512(), a);
            let pairs = _mm512_maddubs_epi16(_mm512_abs_epi8(b), signed_a);
            let quads = _mm512_madd_epi16(pairs, _mm512_set1_epi16(1));
            I32x16(_mm512_add_epi32(self.0, quads))
        }
    }
    #[inline(always)]
    unsafe fn reduce4(v: [Self; 4]) -> [i32; 4] {
        // SAFETY: the caller vouches for AVX-512F.
        unsafe { reduce4_epi32(v.map(|x| x.0)) }
    }
}

/// The dense kernels of the AVX-512 tables with VNNI: the int8 GEMM by `vpdpbusd`
/// (`dense_vnni.rs`).
pub(crate) static DENSE_VNNI: DenseKernels = DenseKernels {
    gemm_nt_i8: super::dense_vnni::gemm_nt_i8_avx512vnni,
    ..DENSE_FNS
};

crate::kernels::generic::dense_kernels! {
    vector: F32x16,
    tile: (2, 12),
    int8: (I32x16, 4) #[target_feature(enable = "avx512f,avx512bw,avx512vl")],
    #[target_feature(enable = "avx512f")]
    fn {
        gemm_nt_f32: gemm_nt_f32_avx512,
        softmax_rows_f32: softmax_rows_f32_avx512,
        layer_norm_rows_f32: layer_norm_rows_f32_avx512,
        gelu_f32: gelu_f32_avx512,
        gemm_nt_i8: gemm_nt_i8_avx512,
        quantize_rows_i8: quantize_rows_i8_avx512,
    }
}
