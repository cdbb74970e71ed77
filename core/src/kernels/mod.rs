//! Kernels: one portable scalar implementation and one module per instruction set, each
//! with one file per family: the distance kernels (f32, i8, binary; documented here), the
//! f64 kernels of the sparse solvers (SpMV and fused vector operations; see [`sparse`]) and
//! the f32 kernels of the text encoder (GEMM, softmax, LayerNorm, GELU; see [`dense`]).
//!
//! Every kernel is reachable three ways:
//! - the free functions here ([`dot_f32`], [`scan_f32`], [`spmv_csr_f64`], ...) run on the
//!   *active* kernel table,
//!   chosen once per process (the best the CPU supports, unless [`force`]d or overridden by the
//!   `FERROVEC_ISA` environment variable when the `std` feature is on);
//! - [`Kernels::for_isa`] hands out the table of one instruction set, if this machine runs it;
//! - [`Kernels::variants`] lists every table this machine can run, including sub-variants such
//!   as AVX-512 with and without VNNI, so tests and benchmarks can reach every code path.
//!
//! # Conventions
//!
//! * Distances are "smaller is closer": [`Metric::Dot`] in [`scan_f32`] is the *negated* inner
//!   product; cosine distance is `1 - cos(a, b)`, in `[0, 2]`.
//! * Empty inputs are valid: dot = 0, squared L2 = 0, cosine distance = 0, hamming = 0,
//!   jaccard = 0.
//! * Cosine with zero vectors: both zero gives 0 (identical); exactly one zero gives 1.
//! * NaN in any f32 input gives NaN out of `dot`, `cosine`, `l2sq` and the scan; infinities
//!   follow IEEE 754 (`inf * 0 = NaN`, `inf - inf = NaN`). No kernel clamps a NaN away.
//! * Half-precision rows ([`F16`], [`Bf16`]) are compared with f32 queries: each element is
//!   converted exactly to f32 and summed in the table's f32 order, so a half kernel returns
//!   the same bits as the f32 kernel of its table on the converted row (and obeys the same
//!   error bound and special-value rules: an f16 or bf16 NaN or infinity is one in f32).
//! * i8 kernels are exact for `n <= 65536` (the dot fits `i32`, the squared L2 fits `u32`).
//!   Longer inputs get the exact result reduced modulo 2^32 (two's-complement wrapping),
//!   identically on every instruction set.
//! * Binary vectors are bits packed in bytes; both kernels count bits over whole bytes, so
//!   bit order within a byte does not matter. Inputs are limited to [`MAX_B1_BYTES`] so the
//!   hamming distance fits `u32`. Jaccard distance is `1 - |a & b| / |a | b|`, 0 when both
//!   vectors are all zeros.
//!
//! # Accuracy of f32 results
//!
//! Every instruction set accumulates in f32 into `L >= 8` independent partial sums, then adds
//! the partial sums pairwise: `L` is 8 for scalar and simd128, 16 for NEON, 32 for AVX2 and
//! 64 for AVX-512. With `u = 2^-24` and `m = ceil(n / L) + log2(L) + 1`, the
//! rounding error of `dot` is at most `m * u * sum|a_i * b_i|` (to first order), and `l2sq`
//! likewise against `sum (a_i - b_i)^2` plus one rounding per subtraction. That worst case
//! needs every rounding to go the same way; for `n = 4096` and `L = 8` it is
//! `3.1e-5 * sum|a_i * b_i|`. On real data roundings partly cancel (the error grows like
//! `sqrt(m) * u`), and the test suite holds every instruction set, for `n` up to 4097, to
//! `|err| <= 1e-5 * sum|a_i * b_i| + 1e-30` against an f64 reference. Cosine distance
//! combines three such sums in f64; the tests hold it to `2e-5` absolute.
//!
//! # One summation order per instruction set
//!
//! On one table, every path that computes the distance of one pair returns the same bits:
//! the single-vector kernels ([`dot_f32`], [`l2sq_f32`], [`cosine_distance_f32`]), every row
//! of [`scan_f32`] whatever its position in the scan's blocks, and so every search form of
//! the index (exact scan, filtered, allow-list, batch). Each table fixes one order and every
//! sum follows it (dot, squared L2, and the three sums of cosine, whose query norm in a scan
//! is the same sum as `dot(query, query)`):
//!
//! | table | partial sums | element `i` goes to | fold | final reduction |
//! | --- | --- | --- | --- | --- |
//! | scalar | 8 | `i mod 8` | `acc + x*y` (two roundings) | `((p0+p4)+(p2+p6)) + ((p1+p5)+(p3+p7))` |
//! | simd128 | 8 (2 x f32x4) | as scalar | as scalar (no FMA) | as scalar |
//! | NEON | 16 (4 x 4 lanes) | vector `(i/4) mod 4`, lane `i mod 4` | FMA | `(v0+v1)+(v2+v3)`, then `vaddvq` |
//! | AVX2 | 32 (4 x 8 lanes) | vector `(i/8) mod 4`, lane `i mod 8` | FMA | `(v0+v1)+(v2+v3)`, then halves: 8 -> 4 -> 2 -> 1 |
//! | AVX-512 | 64 (4 x 16 lanes) | vector `(i/16) mod 4`, lane `i mod 16` | FMA | `(v0+v1)+(v2+v3)`, then halves: 16 -> 8 -> 4 -> 2 -> 1 |
//!
//! Each partial sum adds its elements in increasing `i`; squared L2 subtracts first. The
//! x86_64 loops are written once over a vector trait (`x86_64/sums_f32.rs`), so the scans,
//! which keep several rows in flight, and the single-vector kernels cannot drift apart.
//!
//! Across tables (and so across backends: the wasm module runs scalar or simd128 code, a
//! native build the CPU's best table) the order differs and so may the last bits: results
//! agree within the bound above, and nearest-neighbour keys agree except where two distances
//! are within that bound of each other (near-ties).

pub mod dense;
mod dispatch;
mod generic;
mod half;
mod scalar;
pub mod sparse;
mod topk;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "wasm32")]
mod wasm32;
#[cfg(target_arch = "x86_64")]
mod x86_64;

use alloc::string::ToString;
use core::fmt;

use crate::{Error, Result};

pub use dense::{
    gelu_f32, gemm_nt_f32, gemm_nt_i8, i8_padded_len, layer_norm_rows_f32, quantize_rows_i8,
    quantize_weights_i8, softmax_rows_f32, EncoderKernels, GemmNt, GemmNtI8, GemmScratch,
    QuantizedRows, I8_K_ALIGN, I8_MAX_K,
};
pub use dispatch::{active_isa, engine_hint, force, set_engine_hint, EngineHint};
pub use half::{Bf16, F16};
pub use sparse::{
    axpy2_f64, axpy_dot_f64, axpy_dots_f64, axpy_f64, axpy_jacobi_dots_f64, axpy_xpby_f64,
    bicgstab_p_f64, dot_f64, jacobi_csr_f64, nrm2_f64, pagerank_csr_f64, residual_csr_f64,
    spmv_csr_f64, spmv_dots_csr_f64, xpby_f64, CsrRef,
};
pub use topk::{top_k, Hit};

/// The longest binary vector (in bytes) the b1 kernels accept: its hamming distance still
/// fits a `u32`.
pub const MAX_B1_BYTES: usize = (u32::MAX / 8) as usize;

/// An instruction set ferrovec has kernels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Portable Rust, the reference every other path is tested against.
    Scalar,
    /// x86_64 AVX2 with FMA and F16C.
    Avx2,
    /// x86_64 AVX-512 F/BW/VL, using VNNI and VPOPCNTDQ where the CPU has them.
    Avx512,
    /// aarch64 Advanced SIMD (baseline on every aarch64 CPU).
    Neon,
    /// WebAssembly 128-bit SIMD, chosen at compile time.
    Simd128,
}

impl Isa {
    /// Every instruction set, from the most portable to the most specialised.
    pub const ALL: [Isa; 5] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon, Isa::Simd128];

    /// The lowercase name used by `fv_isa_name()` and `FERROVEC_ISA`:
    /// `"scalar"`, `"avx2"`, `"avx512"`, `"neon"` or `"simd128"`.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
            Isa::Simd128 => "simd128",
        }
    }

    /// The name as a NUL-terminated C string, for the C ABI.
    pub const fn c_name(self) -> &'static core::ffi::CStr {
        match self {
            Isa::Scalar => c"scalar",
            Isa::Avx2 => c"avx2",
            Isa::Avx512 => c"avx512",
            Isa::Neon => c"neon",
            Isa::Simd128 => c"simd128",
        }
    }

    /// Parses a name produced by [`Isa::name`] (ASCII case-insensitive).
    #[inline]
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this machine (and this build) can run the instruction set.
    #[inline]
    pub fn is_available(self) -> bool {
        Kernels::for_isa(self).is_ok()
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The distance a one-to-many scan computes. Smaller is always closer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Metric {
    /// Negated inner product, `-(a . b)`.
    Dot = 0,
    /// Cosine distance, `1 - cos(a, b)`.
    Cosine = 1,
    /// Squared Euclidean distance.
    L2sq = 2,
}

impl Metric {
    /// The metric with the given ABI code (0 dot, 1 cosine, 2 squared L2).
    #[inline]
    pub fn from_code(code: i32) -> Result<Metric> {
        match code {
            0 => Ok(Metric::Dot),
            1 => Ok(Metric::Cosine),
            2 => Ok(Metric::L2sq),
            other => Err(Error::UnknownMetric(other)),
        }
    }

    /// The ABI code of this metric.
    pub const fn code(self) -> i32 {
        self as i32
    }
}

type F32PairFn = unsafe fn(&[f32], &[f32]) -> f32;
type F32PartsFn = unsafe fn(&[f32], &[f32]) -> CosineParts;
pub(crate) type F32NormalizeFn = unsafe fn(&mut [f32]) -> f32;
type F32ScanFn = unsafe fn(Metric, &[f32], &[f32], &mut [f32]);
type F16PairFn = unsafe fn(&[f32], &[F16]) -> f32;
type F16PartsFn = unsafe fn(&[f32], &[F16]) -> CosineParts;
type Bf16PairFn = unsafe fn(&[f32], &[Bf16]) -> f32;
type Bf16PartsFn = unsafe fn(&[f32], &[Bf16]) -> CosineParts;
type I8DotFn = unsafe fn(&[i8], &[i8]) -> i32;
type I8L2sqFn = unsafe fn(&[i8], &[i8]) -> u32;
type B1HammingFn = unsafe fn(&[u8], &[u8]) -> u64;
type B1JaccardFn = unsafe fn(&[u8], &[u8]) -> (u64, u64);

/// Function pointers of one supported table (see [`Kernels::raw`]): call them only with
/// `unsafe`, which is sound because the table they came from runs on this CPU.
#[derive(Clone, Copy)]
pub(crate) struct RawKernels {
    pub dot_f32: F32PairFn,
    pub l2sq_f32: F32PairFn,
    pub dot_f16: F16PairFn,
    pub l2sq_f16: F16PairFn,
    pub dot_bf16: Bf16PairFn,
    pub l2sq_bf16: Bf16PairFn,
    pub dot_i8: I8DotFn,
    pub hamming_b1: B1HammingFn,
    pub jaccard_b1: B1JaccardFn,
}

/// `1 - intersection / union` as the jaccard kernels define it, for [`RawKernels`] users.
#[inline]
pub(crate) fn jaccard_distance(intersection: u64, union: u64) -> f32 {
    jaccard_from_counts(intersection, union)
}

/// The three sums a cosine distance is made of: `a.b`, `a.a`, `b.b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CosineParts {
    pub ab: f32,
    pub aa: f32,
    pub bb: f32,
}

/// Square root, as one instruction encoded like the code around it.
///
/// On x86_64 `libm::sqrt` is inline assembly with the legacy-SSE `sqrtsd`; inlined into an
/// AVX kernel (the cosine scan) that costs an SSE/AVX state transition per row, which
/// measured at about a third of the cosine scan's time. The intrinsic lets LLVM emit
/// `vsqrtsd` there instead.
#[inline(always)]
pub(crate) fn sqrt_f64(x: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_cvtsd_f64, _mm_set_sd, _mm_sqrt_sd};
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            let v = _mm_set_sd(x);
            _mm_cvtsd_f64(_mm_sqrt_sd(v, v))
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        libm::sqrt(x)
    }
}

/// Single-precision [`sqrt_f64`].
#[inline(always)]
pub(crate) fn sqrt_f32(x: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_cvtss_f32, _mm_set_ss, _mm_sqrt_ss};
        // SAFETY: SSE is part of the x86_64 baseline.
        unsafe { _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        libm::sqrtf(x)
    }
}

impl CosineParts {
    /// `1 - ab / sqrt(aa * bb)` in f64, with the zero-vector conventions of this module.
    #[inline]
    pub(crate) fn distance(self) -> f32 {
        let (ab, aa, bb) = (self.ab as f64, self.aa as f64, self.bb as f64);
        if ab.is_nan() || aa.is_nan() || bb.is_nan() {
            return f32::NAN;
        }
        if aa == 0.0 && bb == 0.0 {
            return 0.0;
        }
        if aa == 0.0 || bb == 0.0 {
            return 1.0;
        }
        let d = 1.0 - ab / sqrt_f64(aa * bb);
        // Rounding can push |cos| a hair past 1; NaN (inf/inf) must pass through untouched.
        if d < 0.0 {
            0.0
        } else if d > 2.0 {
            2.0
        } else {
            d as f32
        }
    }
}

/// One instruction set's table of kernels.
///
/// A `&'static Kernels` is only ever handed out for a table this machine can run, which is
/// what makes calling its functions sound; get one from [`Kernels::active`],
/// [`Kernels::for_isa`] or [`Kernels::variants`].
pub struct Kernels {
    isa: Isa,
    variant: &'static str,
    /// Whether the running CPU (or the compile-time target) supports this table.
    supported: fn() -> bool,
    dot_f32: F32PairFn,
    cosine_parts_f32: F32PartsFn,
    l2sq_f32: F32PairFn,
    l2_normalize_f32: F32NormalizeFn,
    scan_f32: F32ScanFn,
    dot_f16: F16PairFn,
    l2sq_f16: F16PairFn,
    cosine_parts_f16: F16PartsFn,
    dot_bf16: Bf16PairFn,
    l2sq_bf16: Bf16PairFn,
    cosine_parts_bf16: Bf16PartsFn,
    dot_i8: I8DotFn,
    l2sq_i8: I8L2sqFn,
    hamming_b1: B1HammingFn,
    jaccard_b1: B1JaccardFn,
    /// The f32 encoder kernels (GEMM, softmax, LayerNorm, GELU).
    dense: &'static dense::DenseKernels,
    /// The f64 solver kernels (SpMV, vector operations).
    sparse: &'static sparse::SparseKernels,
}

impl fmt::Debug for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernels")
            .field("isa", &self.isa)
            .field("variant", &self.variant)
            .finish_non_exhaustive()
    }
}

#[inline]
fn check_same_len(a: usize, b: usize) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            expected: a,
            actual: b,
        })
    }
}

impl Kernels {
    /// The table in use by the free functions of this module.
    #[inline]
    pub fn active() -> &'static Kernels {
        dispatch::active()
    }

    /// The best table of `isa` this machine can run.
    #[inline]
    pub fn for_isa(isa: Isa) -> Result<&'static Kernels> {
        dispatch::variants()
            .filter(|k| k.isa == isa)
            .last()
            .ok_or_else(|| Error::UnsupportedIsa(isa.name().to_string()))
    }

    /// Every table this machine can run, from the most portable to the best. Sub-variants
    /// (e.g. AVX-512 with and without VNNI/VPOPCNTDQ) are listed separately.
    #[inline]
    pub fn variants() -> impl Iterator<Item = &'static Kernels> {
        dispatch::variants()
    }

    /// The instruction set of this table.
    #[inline]
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// A precise name of this table, e.g. `"avx512+vnni+vpopcntdq"`.
    #[inline]
    pub fn variant(&self) -> &'static str {
        self.variant
    }

    /// The raw kernels for hot loops that have already checked their lengths (the index).
    /// Every kernel works on the common prefix of its inputs, so a wrong length gives a
    /// wrong number, never an out-of-bounds read; calling them is sound because a
    /// `&'static Kernels` only exists for a table this CPU supports.
    #[inline]
    pub(crate) fn raw(&self) -> RawKernels {
        RawKernels {
            dot_f32: self.dot_f32,
            l2sq_f32: self.l2sq_f32,
            dot_f16: self.dot_f16,
            l2sq_f16: self.l2sq_f16,
            dot_bf16: self.dot_bf16,
            l2sq_bf16: self.l2sq_bf16,
            dot_i8: self.dot_i8,
            hamming_b1: self.hamming_b1,
            jaccard_b1: self.jaccard_b1,
        }
    }

    /// Inner product `sum a_i * b_i`.
    #[inline]
    pub fn dot_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports (see the type's docs).
        Ok(unsafe { (self.dot_f32)(a, b) })
    }

    /// Cosine distance `1 - cos(a, b)` in `[0, 2]`.
    #[inline]
    pub fn cosine_distance_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.cosine_parts_f32)(a, b) }.distance())
    }

    /// The three sums of [`cosine_distance_f32`](Self::cosine_distance_f32), `[a.b, a.a,
    /// b.b]`, over the common prefix: for hosts that supply kernels to ferrovec's wasm module
    /// (its host-kernels build computes the distance from them itself).
    #[doc(hidden)]
    #[inline]
    pub fn cosine_parts_f32(&self, a: &[f32], b: &[f32]) -> [f32; 3] {
        // SAFETY: `self` is a table this CPU supports.
        let p = unsafe { (self.cosine_parts_f32)(a, b) };
        [p.ab, p.aa, p.bb]
    }

    /// The intersection and union bit counts of [`jaccard_b1`](Self::jaccard_b1), for the
    /// same hosts as [`cosine_parts_f32`](Self::cosine_parts_f32).
    #[doc(hidden)]
    #[inline]
    pub fn jaccard_counts_b1(&self, a: &[u8], b: &[u8]) -> Result<(u64, u64)> {
        check_b1(a, b)?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.jaccard_b1)(a, b) })
    }

    /// Squared Euclidean distance `sum (a_i - b_i)^2`.
    #[inline]
    pub fn l2sq_f32(&self, a: &[f32], b: &[f32]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.l2sq_f32)(a, b) })
    }

    /// Scales `x` to unit Euclidean length in place and returns its length before scaling.
    ///
    /// A vector whose length is zero, infinite or NaN is left unchanged (its length is still
    /// returned, so the caller can tell).
    #[inline]
    pub fn l2_normalize_f32(&self, x: &mut [f32]) -> f32 {
        // SAFETY: `self` is a table this CPU supports.
        unsafe { (self.l2_normalize_f32)(x) }
    }

    /// One query against many rows: `out[i] = metric(query, rows[i*d .. (i+1)*d])` with
    /// `d = query.len()`.
    ///
    /// `rows.len()` must be `out.len() * query.len()`. For `Metric::Cosine` the query's norm
    /// is computed once.
    #[inline]
    pub fn scan_f32(
        &self,
        metric: Metric,
        query: &[f32],
        rows: &[f32],
        out: &mut [f32],
    ) -> Result<()> {
        let dims = query.len();
        let expected = out
            .len()
            .checked_mul(dims)
            .ok_or_else(|| Error::InvalidArgument("n_rows * dims overflows".to_string()))?;
        check_same_len(expected, rows.len())?;
        if dims == 0 {
            // Empty vectors: every metric's value for two empty vectors.
            out.fill(match metric {
                Metric::Dot => -0.0,
                Metric::Cosine | Metric::L2sq => 0.0,
            });
            return Ok(());
        }
        // SAFETY: `self` is a table this CPU supports.
        unsafe { (self.scan_f32)(metric, query, rows, out) };
        Ok(())
    }

    /// Inner product of an f32 query and an f16 row: the bits of [`dot_f32`](Self::dot_f32)
    /// on the row's exact f32 values.
    #[inline]
    pub fn dot_f16(&self, a: &[f32], b: &[F16]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.dot_f16)(a, b) })
    }

    /// Squared Euclidean distance of an f32 query and an f16 row.
    #[inline]
    pub fn l2sq_f16(&self, a: &[f32], b: &[F16]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.l2sq_f16)(a, b) })
    }

    /// Cosine distance of an f32 query and an f16 row, in `[0, 2]`.
    #[inline]
    pub fn cosine_distance_f16(&self, a: &[f32], b: &[F16]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.cosine_parts_f16)(a, b) }.distance())
    }

    /// Inner product of an f32 query and a bf16 row: the bits of
    /// [`dot_f32`](Self::dot_f32) on the row's exact f32 values.
    #[inline]
    pub fn dot_bf16(&self, a: &[f32], b: &[Bf16]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.dot_bf16)(a, b) })
    }

    /// Squared Euclidean distance of an f32 query and a bf16 row.
    #[inline]
    pub fn l2sq_bf16(&self, a: &[f32], b: &[Bf16]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.l2sq_bf16)(a, b) })
    }

    /// Cosine distance of an f32 query and a bf16 row, in `[0, 2]`.
    #[inline]
    pub fn cosine_distance_bf16(&self, a: &[f32], b: &[Bf16]) -> Result<f32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.cosine_parts_bf16)(a, b) }.distance())
    }

    /// Inner product of i8 vectors, exact for `n <= 65536`, wrapping modulo 2^32 beyond.
    #[inline]
    pub fn dot_i8(&self, a: &[i8], b: &[i8]) -> Result<i32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.dot_i8)(a, b) })
    }

    /// Squared Euclidean distance of i8 vectors, exact for `n <= 65536`, wrapping modulo
    /// 2^32 beyond.
    #[inline]
    pub fn l2sq_i8(&self, a: &[i8], b: &[i8]) -> Result<u32> {
        check_same_len(a.len(), b.len())?;
        // SAFETY: `self` is a table this CPU supports.
        Ok(unsafe { (self.l2sq_i8)(a, b) })
    }

    /// Number of differing bits between two packed binary vectors.
    #[inline]
    pub fn hamming_b1(&self, a: &[u8], b: &[u8]) -> Result<u32> {
        check_b1(a, b)?;
        // SAFETY: `self` is a table this CPU supports.
        let bits = unsafe { (self.hamming_b1)(a, b) };
        // check_b1 bounds the length so the count fits.
        Ok(bits as u32)
    }

    /// Jaccard distance `1 - |a & b| / |a | b|` of two packed binary vectors (0 if both are
    /// all zeros).
    #[inline]
    pub fn jaccard_b1(&self, a: &[u8], b: &[u8]) -> Result<f32> {
        check_b1(a, b)?;
        // SAFETY: `self` is a table this CPU supports.
        let (intersection, union) = unsafe { (self.jaccard_b1)(a, b) };
        Ok(jaccard_from_counts(intersection, union))
    }
}

#[inline]
fn check_b1(a: &[u8], b: &[u8]) -> Result<()> {
    check_same_len(a.len(), b.len())?;
    if a.len() > MAX_B1_BYTES {
        return Err(Error::InvalidArgument(alloc::format!(
            "binary vectors are limited to {MAX_B1_BYTES} bytes, got {}",
            a.len()
        )));
    }
    Ok(())
}

#[inline]
fn jaccard_from_counts(intersection: u64, union: u64) -> f32 {
    if union == 0 {
        0.0
    } else {
        (1.0 - intersection as f64 / union as f64) as f32
    }
}

/// Inner product on the active kernel table. See [`Kernels::dot_f32`].
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> Result<f32> {
    Kernels::active().dot_f32(a, b)
}

/// Cosine distance on the active kernel table. See [`Kernels::cosine_distance_f32`].
#[inline]
pub fn cosine_distance_f32(a: &[f32], b: &[f32]) -> Result<f32> {
    Kernels::active().cosine_distance_f32(a, b)
}

/// Squared Euclidean distance on the active kernel table. See [`Kernels::l2sq_f32`].
#[inline]
pub fn l2sq_f32(a: &[f32], b: &[f32]) -> Result<f32> {
    Kernels::active().l2sq_f32(a, b)
}

/// In-place L2 normalization on the active kernel table. See [`Kernels::l2_normalize_f32`].
#[inline]
pub fn l2_normalize_f32(x: &mut [f32]) -> f32 {
    Kernels::active().l2_normalize_f32(x)
}

/// Scales a vector of finite values to unit length with `normalize` (a table's
/// `l2_normalize_f32`), also when its squared length overflows f32 (values beyond about
/// 1.8e19), underflows to 0 (below about 1e-23), which that kernel leaves alone, or lands
/// among f32's subnormals, whose few significant bits make the kernel's length inexact (a
/// vector of length 5e-20 came out 0.36% too long): dividing by the largest magnitude first
/// brings it into range. A zero vector stays zero; a vector holding a NaN or an infinity is
/// left to `normalize`'s rules.
pub(crate) fn normalize_to_unit(x: &mut [f32], normalize: impl Fn(&mut [f32]) -> f32) {
    // A length of at least 1e-15 has a squared length of at least 1e-30: rounding each of
    // even a million squares to the nearest subnormal (steps of 1.4e-45) moves it by at
    // most 1e-9 relative.
    const SMALLEST_EXACT: f32 = 1.0e-15;
    let norm = normalize(x);
    if norm.is_finite() && norm >= SMALLEST_EXACT {
        return;
    }
    let max = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 && max.is_finite() && x.iter().all(|v| v.is_finite()) {
        x.iter_mut().for_each(|v| *v /= max);
        normalize(x);
    }
}

/// One-to-many scan on the active kernel table. See [`Kernels::scan_f32`].
#[inline]
pub fn scan_f32(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<()> {
    Kernels::active().scan_f32(metric, query, rows, out)
}

/// f32-by-f16 inner product on the active kernel table. See [`Kernels::dot_f16`].
#[inline]
pub fn dot_f16(a: &[f32], b: &[F16]) -> Result<f32> {
    Kernels::active().dot_f16(a, b)
}

/// f32-by-f16 squared Euclidean distance on the active kernel table. See [`Kernels::l2sq_f16`].
#[inline]
pub fn l2sq_f16(a: &[f32], b: &[F16]) -> Result<f32> {
    Kernels::active().l2sq_f16(a, b)
}

/// f32-by-f16 cosine distance on the active kernel table. See
/// [`Kernels::cosine_distance_f16`].
#[inline]
pub fn cosine_distance_f16(a: &[f32], b: &[F16]) -> Result<f32> {
    Kernels::active().cosine_distance_f16(a, b)
}

/// f32-by-bf16 inner product on the active kernel table. See [`Kernels::dot_bf16`].
#[inline]
pub fn dot_bf16(a: &[f32], b: &[Bf16]) -> Result<f32> {
    Kernels::active().dot_bf16(a, b)
}

/// f32-by-bf16 squared Euclidean distance on the active kernel table. See
/// [`Kernels::l2sq_bf16`].
#[inline]
pub fn l2sq_bf16(a: &[f32], b: &[Bf16]) -> Result<f32> {
    Kernels::active().l2sq_bf16(a, b)
}

/// f32-by-bf16 cosine distance on the active kernel table. See
/// [`Kernels::cosine_distance_bf16`].
#[inline]
pub fn cosine_distance_bf16(a: &[f32], b: &[Bf16]) -> Result<f32> {
    Kernels::active().cosine_distance_bf16(a, b)
}

/// i8 inner product on the active kernel table. See [`Kernels::dot_i8`].
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> Result<i32> {
    Kernels::active().dot_i8(a, b)
}

/// i8 squared Euclidean distance on the active kernel table. See [`Kernels::l2sq_i8`].
#[inline]
pub fn l2sq_i8(a: &[i8], b: &[i8]) -> Result<u32> {
    Kernels::active().l2sq_i8(a, b)
}

/// Hamming distance on the active kernel table. See [`Kernels::hamming_b1`].
#[inline]
pub fn hamming_b1(a: &[u8], b: &[u8]) -> Result<u32> {
    Kernels::active().hamming_b1(a, b)
}

/// Jaccard distance on the active kernel table. See [`Kernels::jaccard_b1`].
#[inline]
pub fn jaccard_b1(a: &[u8], b: &[u8]) -> Result<f32> {
    Kernels::active().jaccard_b1(a, b)
}

#[cfg(test)]
mod tests {
    use super::{normalize_to_unit, Isa, Kernels};

    /// Every table's normalization, wrapped, gives unit vectors for lengths whose square
    /// overflows or underflows f32 (the kernels alone leave those unchanged), keeps zero and
    /// non-finite vectors as the kernels do, and does not touch ordinary ones.
    #[test]
    fn normalize_to_unit_handles_extreme_lengths() {
        for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
            let k = Kernels::for_isa(isa).unwrap();
            let norm = |x: &mut [f32]| k.l2_normalize_f32(x);
            // 3e-20 and 1e-21: squares below f32's normal range (1.2e-38), with few significant
            // bits, but not zero.
            for scale in [
                1.0e30f32, 1.0e20, 1.0, 3.0e-20, 1.0e-21, 1.0e-25, 1.0e-38, 1.0e-44,
            ] {
                let mut x = [3.0 * scale, 0.0, -4.0 * scale];
                normalize_to_unit(&mut x, norm);
                let len = x.iter().map(|v| v * v).sum::<f32>().sqrt();
                assert!((len - 1.0).abs() < 1e-5, "{isa} {scale}: {x:?}");
                assert!(
                    (x[0] - 0.6).abs() < 1e-3 && (x[2] + 0.8).abs() < 1e-3,
                    "{x:?}"
                );
            }
            let mut plain = [1.0f32, 2.0, 2.0];
            let mut reference = plain;
            normalize_to_unit(&mut plain, norm);
            k.l2_normalize_f32(&mut reference);
            assert_eq!(
                plain, reference,
                "{isa}: an ordinary vector is the kernel's"
            );
            let mut zero = [0.0f32; 3];
            normalize_to_unit(&mut zero, norm);
            assert_eq!(zero, [0.0; 3]);
            let mut inf = [f32::INFINITY, 1.0, 0.0];
            normalize_to_unit(&mut inf, norm);
            assert_eq!(inf, [f32::INFINITY, 1.0, 0.0], "{isa}");
        }
    }
}
