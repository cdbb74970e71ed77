//! The f32 encoder kernels (GEMM, softmax, LayerNorm, GELU), written once over
//! [`F32Vector`]; each instruction set instantiates them with its own register type and
//! register tile (see `dense_kernels!`).
//!
//! # The GEMM: `C = [C +] act(alpha A Bᵀ + bias)`
//!
//! `B` is a weight matrix `[n, k]` borrowed from the model file: it is never copied. `A`
//! (the activations) is packed per call, a block of `MC` rows at a time (into the caller's
//! buffer, `GemmScratch`, reused across calls), into micro-panels
//! of `MR = MV * LANES` rows stored k-major (`panel[p * MR + i] = A[i][p]`, rows past `m`
//! zero). The micro-kernel then holds an `MR x NR` tile of `C` in `MV * NR` vector
//! registers, lanes along `i`: for each `p` it loads the `MV` vectors of `A[.., p]` and
//! broadcasts `B[j][p]` straight from each of the `NR` weight rows (`NR` streams, each
//! cache line of a row serving `16` steps), one fused multiply-add per register. Per step
//! that is `MV + NR` loads for `MV * NR` multiply-adds, so the kernel is bound by the FMA
//! units, not by the caches, even when the rows of `B` come from L2 or L3 (`k = 1536`).
//!
//! The epilogue runs on the registers (alpha, bias as a per-register broadcast, the
//! vectorized GELU); the tile is then transposed in registers, `LANES x LANES` at a time,
//! into the rows of `C` (plain or masked stores, or adds with `accumulate`). Packing `A`
//! uses the same register transpose. There is no blocking over `k`: every
//! element's sum runs over the whole of `k` in one register lane, so the epilogue sees the
//! finished sum, and the working set of one micro-kernel, `(MR + NR) * k` floats, stays
//! within L2 for every encoder shape.
//!
//! Edges: a last block of rows that fits one register (`<= LANES` rows) uses a 1-register
//! tile (`MV = 1`) where the tile has more than 8 rows (AVX2, AVX-512); a last block of columns (`n mod NR`) repeats the last row of `B` in
//! the unused columns and stores only the valid ones. Nothing outside the checked shapes
//! is read or written.

use alloc::vec::Vec;

use crate::kernels::dense::{GemmNt, GemmNtI8};

/// One register of f32 lanes on one instruction set, for the loops of this module.
///
/// Every method is `unsafe` because the CPU must support the instruction set, the pointer
/// methods also because the caller vouches for the memory. They are `#[inline(always)]`
/// without `#[target_feature]`, so they inline into the `#[target_feature]` kernels.
pub(crate) trait F32Vector: Copy {
    /// f32 lanes per register.
    const LANES: usize;
    /// Whether the polynomials of [`exp`] and [`gelu`] are evaluated by Estrin's scheme
    /// (a dependency chain of about half the length, other roundings) rather than Horner's.
    const ESTRIN: bool = false;
    /// All lanes `+0.0`.
    unsafe fn zero() -> Self;
    /// All lanes `v`.
    unsafe fn splat(v: f32) -> Self;
    /// `LANES` values from `p` (no alignment needed).
    unsafe fn load(p: *const f32) -> Self;
    /// The first `r` values from `p` (`0 < r < LANES`), the other lanes `+0.0`; reads
    /// nothing past them.
    unsafe fn load_first(p: *const f32, r: usize) -> Self;
    /// Stores all lanes to `p`.
    unsafe fn store(self, p: *mut f32);
    /// Stores the first `r` lanes to `p` (`0 < r < LANES`); writes nothing past them.
    unsafe fn store_first(self, p: *mut f32, r: usize);
    /// Lane-wise `self + o`.
    unsafe fn add(self, o: Self) -> Self;
    /// Lane-wise `self - o`.
    unsafe fn sub(self, o: Self) -> Self;
    /// Lane-wise `self * o`.
    unsafe fn mul(self, o: Self) -> Self;
    /// Lane-wise `self / o`.
    unsafe fn div(self, o: Self) -> Self;
    /// Lane-wise `self * b + c`, fused where the instruction set has it.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    /// Lane-wise maximum (either NaN convention).
    unsafe fn max(self, o: Self) -> Self;
    /// Lane-wise minimum (either NaN convention).
    unsafe fn min(self, o: Self) -> Self;
    /// Lane-wise `|self|`.
    unsafe fn abs(self) -> Self;
    /// Lane-wise `if self < o { t } else { f }` (false for NaN).
    unsafe fn select_lt(self, o: Self, t: Self, f: Self) -> Self;
    /// Lane-wise `if self is NaN { self } else { other }`.
    unsafe fn keep_nan(self, other: Self) -> Self;
    /// Lane-wise round to the nearest integer, ties to even (`|self| < 2^22`).
    unsafe fn round(self) -> Self;
    /// Lane-wise `2^n` for integer-valued lanes `n` in `-126..=127`.
    unsafe fn pow2i(self) -> Self;
    /// The sum of the lanes (any order).
    unsafe fn reduce_add(self) -> f32;
    /// The maximum of the lanes (either NaN convention).
    unsafe fn reduce_max(self) -> f32;
    /// Transposes a square block of `LANES` registers (`regs.len() == LANES`) in place:
    /// lane `l` of register `r` goes to lane `r` of register `l`.
    unsafe fn transpose(regs: &mut [Self]);
}

/// A plain `f32` as a 1-lane vector: the scalar table's GEMM (a register-blocked scalar
/// kernel, which an interpreter such as wasmi runs with far fewer instructions than one
/// dot product per element). No fused multiply-add: wasm has none.
impl F32Vector for f32 {
    const LANES: usize = 1;

    #[inline(always)]
    unsafe fn zero() -> Self {
        0.0
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        v
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller vouches for one readable value at `p`.
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn load_first(_: *const f32, _: usize) -> Self {
        // `0 < r < 1` is impossible: never called for one lane.
        0.0
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller vouches for one writable value at `p`.
        unsafe { *p = self }
    }
    #[inline(always)]
    unsafe fn store_first(self, _: *mut f32, _: usize) {}
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        self * o
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        self * b + c
    }
    #[inline(always)]
    unsafe fn max(self, o: Self) -> Self {
        if self > o {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    unsafe fn min(self, o: Self) -> Self {
        if self < o {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    unsafe fn abs(self) -> Self {
        f32::from_bits(self.to_bits() & 0x7fff_ffff)
    }
    #[inline(always)]
    unsafe fn select_lt(self, o: Self, t: Self, f: Self) -> Self {
        if self < o {
            t
        } else {
            f
        }
    }
    #[inline(always)]
    unsafe fn keep_nan(self, other: Self) -> Self {
        if self.is_nan() {
            self
        } else {
            other
        }
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        (self + ROUND_MAGIC) - ROUND_MAGIC
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        f32::from_bits((((self as i32) + 127) as u32) << 23)
    }
    #[inline(always)]
    unsafe fn reduce_add(self) -> f32 {
        self
    }
    #[inline(always)]
    unsafe fn reduce_max(self) -> f32 {
        self
    }
    #[inline(always)]
    unsafe fn transpose(_: &mut [Self]) {}
}

/// `1.5 * 2^23`: adding and subtracting it rounds an f32 of magnitude below `2^22` to the
/// nearest integer (ties to even), in the default rounding mode.
const ROUND_MAGIC: f32 = 12_582_912.0;

// ------------------------------------------------------------------ exp, erf, GELU

/// `ln 2` split for Cody-Waite reduction (Cephes): `C1` has 9 significant bits, so
/// `n * C1` is exact for `|n| < 2^15`, with or without a fused multiply-add.
const LN2_C1: f32 = 0.693_359_4;
const LN2_C2: f32 = -2.121_944_4e-4;
/// Above this, `e^x` overflows f32: `+inf`.
const EXP_HI: f32 = 88.722_84;
/// Below this, `e^x` is below the smallest normal f32: `+0`. Flushing the subnormal results
/// keeps every step in the normal range (subnormal operands and results cost microcode
/// assists on x86), and changes results by less than `1.2e-38` absolute.
const EXP_LO: f32 = -87.336_55;

/// `e^x` lane-wise: Cody-Waite reduction to `|r| <= ln2/2`, Cephes' degree-7 polynomial
/// (relative error about 1 ulp), scaled by `2^n`. Saturates: `+inf` above [`EXP_HI`], `+0`
/// below [`EXP_LO`] (and for `-inf`); NaN stays NaN.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn exp<V: F32Vector>(x: V) -> V {
    // SAFETY: register arithmetic only; the caller vouches for the CPU.
    unsafe {
        let xc = x.max(V::splat(EXP_LO)).min(V::splat(EXP_HI));
        // n in -126..=127 (128 only within 0.35 of EXP_HI, where r grows to ln 2: the
        // polynomial stays within a few ulp there).
        let n = xc
            .mul(V::splat(core::f32::consts::LOG2_E))
            .round()
            .min(V::splat(127.0));
        let r = n.mul_add(V::splat(-LN2_C1), xc);
        let r = n.mul_add(V::splat(-LN2_C2), r);
        let y = exp_poly(r).mul(n.pow2i());
        let y = x.select_lt(V::splat(EXP_LO), V::zero(), y);
        let y = V::splat(EXP_HI).select_lt(x, V::splat(f32::INFINITY), y);
        x.keep_nan(y)
    }
}

/// `e^r` for `|r| <= ln2/2` (a little beyond, slightly less accurate): Cephes' expf
/// polynomial.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn exp_poly<V: F32Vector>(r: V) -> V {
    // SAFETY: register arithmetic only; the caller vouches for the CPU.
    unsafe {
        let r2 = r.mul(r);
        let p = if V::ESTRIN {
            let c = |hi: f32, lo: f32| V::splat(hi).mul_add(r, V::splat(lo));
            let q0 = c(1.666_666_5e-1, 0.5);
            let q1 = c(8.333_452e-3, 4.166_579_6e-2);
            let q2 = c(1.987_569_1e-4, 1.398_199_9e-3);
            q2.mul_add(r2.mul(r2), q1.mul_add(r2, q0))
        } else {
            let mut p = V::splat(1.987_569_1e-4);
            p = p.mul_add(r, V::splat(1.398_199_9e-3));
            p = p.mul_add(r, V::splat(8.333_452e-3));
            p = p.mul_add(r, V::splat(4.166_579_6e-2));
            p = p.mul_add(r, V::splat(1.666_666_5e-1));
            p.mul_add(r, V::splat(0.5))
        };
        p.mul_add(r2, r).add(V::splat(1.0))
    }
}

/// `e^x` for the arguments of [`gelu`] (`x <= 0.01`, or NaN): [`exp`] without the
/// overflow and NaN handling, the argument clamped at `-80` (`gelu` zeroes the lanes where
/// that matters, and every intermediate stays a normal number).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn exp_nonpositive<V: F32Vector>(x: V) -> V {
    // SAFETY: register arithmetic only; the caller vouches for the CPU.
    unsafe {
        let xc = x.max(V::splat(-80.0));
        let n = xc.mul(V::splat(core::f32::consts::LOG2_E)).round();
        let r = n.mul_add(V::splat(-LN2_C1), xc);
        let r = n.mul_add(V::splat(-LN2_C2), r);
        exp_poly(r).mul(n.pow2i())
    }
}

/// The exact GELU lane-wise, `x Φ(x)` with `Φ(x) = (1 + erf(x / sqrt 2)) / 2`, through
/// `erfc(z)` for `z = |x| / sqrt 2`: `erfc(z) = t exp(-z^2 + P(t))`, `t = 1 / (1 + z/2)`
/// (Numerical Recipes' `erfcc`, relative error below `1.2e-7` for every `z >= 0`), then
/// `Φ = erfc/2` for negative `x` and `1 - erfc/2` otherwise (`erfc = 0` past `z = 9.5`,
/// where it is below `1e-40`). Going through `erfc` keeps
/// the relative accuracy of the small values of negative inputs, where `1 + erf` would
/// cancel. Saturates (`erfc(+inf) = 0`: `gelu(+inf) = +inf`, `gelu(-large) = -0`); NaN
/// stays NaN; `gelu(-inf) = -inf * 0 = NaN`, as the definition gives.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn gelu<V: F32Vector>(x: V) -> V {
    // SAFETY: register arithmetic only; the caller vouches for the CPU.
    unsafe {
        let z = x.abs().mul(V::splat(core::f32::consts::FRAC_1_SQRT_2));
        let one = V::splat(1.0);
        let t = one.div(z.mul_add(V::splat(0.5), one));
        let p = if V::ESTRIN {
            let c = |hi: f32, lo: f32| V::splat(hi).mul_add(t, V::splat(lo));
            let t2 = t.mul(t);
            let t4 = t2.mul(t2);
            let q0 = c(1.000_023_7, -1.265_512_2);
            let q1 = c(0.096_784_18, 0.374_091_96);
            let q2 = c(0.278_868_07, -0.186_288_06);
            let q3 = c(1.488_515_9, -1.135_204);
            let q4 = c(0.170_872_77, -0.822_152_23);
            let r0 = q1.mul_add(t2, q0);
            let r1 = q3.mul_add(t2, q2);
            q4.mul_add(t4.mul(t4), r1.mul_add(t4, r0))
        } else {
            let mut p = V::splat(0.170_872_77);
            p = p.mul_add(t, V::splat(-0.822_152_23));
            p = p.mul_add(t, V::splat(1.488_515_9));
            p = p.mul_add(t, V::splat(-1.135_204));
            p = p.mul_add(t, V::splat(0.278_868_07));
            p = p.mul_add(t, V::splat(-0.186_288_06));
            p = p.mul_add(t, V::splat(0.096_784_18));
            p = p.mul_add(t, V::splat(0.374_091_96));
            p = p.mul_add(t, V::splat(1.000_023_7));
            p.mul_add(t, V::splat(-1.265_512_2))
        };
        let half_erfc = t.mul(exp_nonpositive(p.sub(z.mul(z)))).mul(V::splat(0.5));
        // erfc(z) < 1e-40 past z = 9.5 (|x| > 13.4): exactly 0 there, where the clamped
        // exponential would overstate it.
        let half_erfc = z.select_lt(V::splat(9.5), half_erfc, V::zero());
        let phi = x.select_lt(V::zero(), half_erfc, one.sub(half_erfc));
        x.mul(phi)
    }
}

// ------------------------------------------------------------------ row-wise kernels

/// GELU in place.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn gelu_slice<V: F32Vector>(x: &mut [f32]) {
    let w = V::LANES;
    let len = x.len();
    let p = x.as_mut_ptr();
    // SAFETY: every access is within `0..len` of `x` (full registers, then the last
    // `r < w` elements with the partial forms). One loop body for both, so `gelu` is inlined
    // once (code size of the wasm modules).
    unsafe {
        let mut i = 0;
        while i < len {
            let r = (len - i).min(w);
            let x = if r == w {
                V::load(p.add(i))
            } else {
                V::load_first(p.add(i), r)
            };
            let y = gelu(x);
            if r == w {
                y.store(p.add(i));
            } else {
                y.store_first(p.add(i), r);
            }
            i += w;
        }
    }
}

/// Softmax of each row of `width` elements, in place (`x` is whole rows, `width > 0`).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn softmax_rows<V: F32Vector>(x: &mut [f32], width: usize) {
    let w = V::LANES;
    let full = width - width % w;
    for row in x.chunks_exact_mut(width) {
        let p = row.as_mut_ptr();
        // SAFETY: accesses stay within the row: full registers below `full`, the partial
        // forms for the `width - full < w` elements after it.
        unsafe {
            let mut max = f32::NEG_INFINITY;
            if full > 0 {
                let mut m = V::load(p);
                let mut i = w;
                while i < full {
                    m = V::load(p.add(i)).max(m);
                    i += w;
                }
                max = m.reduce_max();
            }
            for &v in &row[full..] {
                max = max.max(v);
            }
            let vmax = V::splat(max);
            // One loop body for full and partial registers, so `exp` is inlined once (code
            // size of the wasm modules); the partial register's padding lanes are never
            // added: its sum is taken from the stored elements.
            let mut acc = V::zero();
            let mut sum = 0.0f32;
            let mut i = 0;
            while i < width {
                let r = (width - i).min(w);
                let x = if r == w {
                    V::load(p.add(i))
                } else {
                    V::load_first(p.add(i), r)
                };
                let e = exp(x.sub(vmax));
                if r == w {
                    e.store(p.add(i));
                    acc = acc.add(e);
                } else {
                    e.store_first(p.add(i), r);
                    for &v in &row[i..] {
                        sum += v;
                    }
                }
                i += w;
            }
            sum += acc.reduce_add();
            let inv = V::splat(1.0 / sum);
            let mut i = 0;
            while i < full {
                V::load(p.add(i)).mul(inv).store(p.add(i));
                i += w;
            }
            if full < width {
                let r = width - full;
                V::load_first(p.add(full), r)
                    .mul(inv)
                    .store_first(p.add(full), r);
            }
        }
    }
}

/// LayerNorm of each row (rows of `gamma.len() > 0`, `beta` as long), in place: the mean,
/// then the biased variance as the mean of `(x - mean)^2` (two passes), then
/// `(x - mean) / sqrt(var + eps) * gamma + beta`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn layer_norm_rows<V: F32Vector>(
    x: &mut [f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let w = V::LANES;
    let width = gamma.len().min(beta.len());
    if width == 0 {
        return;
    }
    let full = width - width % w;
    let inv_width = 1.0 / width as f32;
    let (g, b) = (gamma.as_ptr(), beta.as_ptr());
    for row in x.chunks_exact_mut(width) {
        let p = row.as_mut_ptr();
        // SAFETY: accesses stay within the row and within `gamma` and `beta` (as long as
        // the row): full registers below `full`, the partial forms after it.
        unsafe {
            let mut acc = V::zero();
            let mut i = 0;
            while i < full {
                acc = acc.add(V::load(p.add(i)));
                i += w;
            }
            let mut sum = acc.reduce_add();
            for &v in &row[full..] {
                sum += v;
            }
            let mean = sum * inv_width;
            let vmean = V::splat(mean);
            let mut acc = V::zero();
            let mut i = 0;
            while i < full {
                let d = V::load(p.add(i)).sub(vmean);
                acc = d.mul_add(d, acc);
                i += w;
            }
            let mut ss = acc.reduce_add();
            for &v in &row[full..] {
                ss += (v - mean) * (v - mean);
            }
            let inv_std = 1.0 / crate::kernels::sqrt_f32(ss * inv_width + eps);
            let vinv = V::splat(inv_std);
            let mut i = 0;
            while i < full {
                let y = V::load(p.add(i))
                    .sub(vmean)
                    .mul(vinv)
                    .mul_add(V::load(g.add(i)), V::load(b.add(i)));
                y.store(p.add(i));
                i += w;
            }
            if full < width {
                let r = width - full;
                let y = V::load_first(p.add(full), r)
                    .sub(vmean)
                    .mul(vinv)
                    .mul_add(V::load_first(g.add(full), r), V::load_first(b.add(full), r));
                y.store_first(p.add(full), r);
            }
        }
    }
}

// ------------------------------------------------------------------ GEMM

/// The packed block of `A` aims at this many bytes (a quarter of a Zen 3 core's L2), so it
/// stays in L2 while every column block of `B` streams past it.
const PACK_BYTES: usize = 256 * 1024;

/// `C = [C +] act(alpha A Bᵀ + bias)` with an `MV`-register by `NR`-column tile (see the
/// module docs). Shapes must have been checked (`GemmNt::check`).
///
/// # Safety
/// The CPU must support `V`'s instruction set; `op` and `c`/`ldc` must satisfy the checks
/// of `Kernels::gemm_nt_f32`.
#[inline(always)]
pub(crate) unsafe fn gemm_nt<V: F32Vector, const MV: usize, const NR: usize>(
    op: &GemmNt<'_>,
    c: &mut [f32],
    ldc: usize,
    pack: &mut Vec<f32>,
    gelu_fn: GeluSliceFn,
) {
    let (m, n, k) = (op.m, op.n, op.k);
    if m == 0 || n == 0 {
        return;
    }
    let mr = MV * V::LANES;
    // Rows per packed block: a multiple of MR, at least one panel.
    let mc_max = (PACK_BYTES / (4 * k.max(1)) / mr).max(1) * mr;
    let mc = mc_max.min(m.div_ceil(mr) * mr);
    // The caller's buffer (`GemmScratch`), kept between products: it is at most ~256 KiB
    // unless `k` is huge (then `MR` rows of it). If even that cannot be had, compute without
    // packing rather than abort.
    pack.clear();
    if mc
        .checked_mul(k)
        .is_none_or(|len| pack.try_reserve_exact(len).is_err())
    {
        // SAFETY: the caller's contract (checked shapes, the CPU).
        unsafe { gemm_nt_unpacked(op, c, ldc, gelu_fn) };
        return;
    }
    let pack_ptr = pack.spare_capacity_mut().as_mut_ptr().cast::<f32>();
    let mut ic = 0;
    while ic < m {
        let rows = (m - ic).min(mc);
        // Panels of MR rows; a last panel of at most LANES rows gets a 1-register tile.
        let mut panels: [(usize, usize, usize); 2] = [(0, 0, 0); 2]; // (first row, rows, mr)
        let full_panels = rows / mr;
        let rest = rows - full_panels * mr;
        // SAFETY: `pack` holds `mc * k >= rows_padded * k` floats (the padded rows of a
        // block never exceed `mc`, a multiple of `mr`); `pack_a` reads rows `ic..ic + rows`
        // of `A` (checked shapes) and writes within its panel.
        unsafe {
            for q in 0..full_panels {
                pack_a::<V>(op, ic + q * mr, mr, mr, pack_ptr.add(q * mr * k));
            }
            let mut tail_mr = 0;
            if rest > 0 {
                tail_mr = if rest <= V::LANES && mr > SMALL_TILE_ROWS {
                    V::LANES
                } else {
                    mr
                };
                pack_a::<V>(
                    op,
                    ic + full_panels * mr,
                    rest,
                    tail_mr,
                    pack_ptr.add(full_panels * mr * k),
                );
            }
            panels[0] = (0, full_panels * mr, mr);
            panels[1] = (full_panels * mr, rest, tail_mr);
        }
        let mut j0 = 0;
        while j0 < n {
            let nr = (n - j0).min(NR);
            // Rows of B for this column block; the unused columns repeat the last one.
            let mut b_rows = [op.b.as_ptr(); NR];
            for (j, b) in b_rows.iter_mut().enumerate() {
                // SAFETY: row `min(j0 + j, n - 1) < n` starts within `B` (checked shape).
                *b = unsafe { op.b.as_ptr().add((j0 + j).min(n - 1) * op.ldb) };
            }
            for &(first, count, pmr) in &panels {
                if count == 0 {
                    continue;
                }
                let mut i = 0;
                while i < count {
                    let valid = (count - i).min(pmr);
                    let panel = first * k + i * k;
                    // The first tile of a column block also brings the next block's rows of
                    // B into L2 (they follow at `NR * ldb`): at small `m` a block has one
                    // tile, and its weights stream from memory (0: no such prefetch).
                    let ahead = if first == 0 && i == 0 && j0 + NR < n {
                        NR * op.ldb
                    } else {
                        0
                    };
                    // SAFETY: the panel at `panel` holds `pmr * k` packed floats (written
                    // above); `b_rows` point at `k` readable floats each; rows
                    // `ic + first + i .. + valid` and columns `j0 .. j0 + nr` are within C.
                    unsafe {
                        let cp = c.as_mut_ptr().add((ic + first + i) * ldc + j0);
                        if pmr == mr || mr <= SMALL_TILE_ROWS {
                            tile::<V, MV, NR>(
                                op,
                                gelu_fn,
                                pack_ptr.add(panel),
                                &b_rows,
                                ahead,
                                j0,
                                cp,
                                ldc,
                                valid,
                                nr,
                            );
                        } else {
                            tile::<V, 1, NR>(
                                op,
                                gelu_fn,
                                pack_ptr.add(panel),
                                &b_rows,
                                ahead,
                                j0,
                                cp,
                                ldc,
                                valid,
                                nr,
                            );
                        }
                    }
                    i += pmr;
                }
            }
            j0 += NR;
        }
        ic += rows;
    }
}

/// Tiles of at most this many rows (scalar, NEON, simd128) have no 1-register variant for
/// the last rows: padding them wastes little, and a second instance of the tile (with its
/// inlined GELU) would cost the wasm modules code size.
const SMALL_TILE_ROWS: usize = 8;

/// How far ahead of the micro-kernel the rows of `B` are prefetched, in floats.
const B_PREFETCH: usize = 128;

/// A hint to bring the line at `p` into L1 (x86_64; nothing elsewhere).
#[inline(always)]
fn prefetch(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86_64 baseline; a prefetch does not access memory
    // architecturally, so any address is fine.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A hint to bring the line at `p` into L2 (x86_64; nothing elsewhere).
#[inline(always)]
fn prefetch_l2(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `prefetch`.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T1 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A table's GELU kernel over a slice, which the GEMM calls on each tile.
pub(crate) type GeluSliceFn = unsafe fn(&mut [f32]);

/// The most lanes of any [`F32Vector`] (AVX-512): the size of the register blocks that
/// [`F32Vector::transpose`] works on.
const MAX_LANES: usize = 16;

/// The product one element at a time (one sequential sum over `k`, the same epilogue), for
/// when the packing buffer cannot be allocated.
///
/// # Safety
/// As [`gemm_nt`].
#[cold]
#[inline(never)]
unsafe fn gemm_nt_unpacked(op: &GemmNt<'_>, c: &mut [f32], ldc: usize, gelu_fn: GeluSliceFn) {
    for i in 0..op.m {
        for j in 0..op.n {
            let a = &op.a[i * op.lda..i * op.lda + op.k];
            let b = &op.b[j * op.ldb..j * op.ldb + op.k];
            let s = a.iter().zip(b).fold(0.0f32, |s, (x, y)| s + x * y);
            let mut t = op.alpha * s + op.bias.map_or(0.0, |bias| bias[j]);
            if op.gelu {
                let mut one = [t];
                // SAFETY: the caller vouches for the CPU `gelu_fn` was compiled for.
                unsafe { gelu_fn(&mut one) };
                t = one[0];
            }
            let dst = &mut c[i * ldc + j];
            *dst = if op.accumulate { *dst + t } else { t };
        }
    }
}

/// Packs rows `i0 .. i0 + rows` of `A` into one micro-panel of `mr` rows at `dst`,
/// k-major: `dst[p * mr + i] = A[i0 + i][p]`, zero for `rows <= i < mr`. Whole
/// `LANES x LANES` blocks go through registers and [`F32Vector::transpose`]; the last
/// `k mod LANES` columns element by element.
///
/// # Safety
/// The CPU must support `V`'s instruction set; rows `i0 .. i0 + rows` of `A` must exist
/// (checked shape), `rows <= mr`, `mr` a multiple of `LANES`, and `mr * k` floats must be
/// writable at `dst`.
#[inline(always)]
unsafe fn pack_a<V: F32Vector>(op: &GemmNt<'_>, i0: usize, rows: usize, mr: usize, dst: *mut f32) {
    let (k, lda) = (op.k, op.lda);
    let w = V::LANES;
    let a = op.a.as_ptr();
    let k_full = k - k % w;
    // SAFETY: the caller's contract: reads `A[i0 + i][p]` for `i < rows`, `p < k`; writes
    // `dst[p * mr + i]` for `i < mr`, `p < k`.
    unsafe {
        let mut regs = [V::zero(); MAX_LANES];
        let mut p = 0;
        while p < k_full {
            let mut v0 = 0;
            while v0 < mr {
                for (r, reg) in regs.iter_mut().enumerate().take(w) {
                    *reg = if v0 + r < rows {
                        V::load(a.add((i0 + v0 + r) * lda + p))
                    } else {
                        V::zero()
                    };
                }
                V::transpose(&mut regs[..w]);
                for (q, reg) in regs.iter().enumerate().take(w) {
                    reg.store(dst.add((p + q) * mr + v0));
                }
                v0 += w;
            }
            p += w;
        }
        for p in k_full..k {
            for i in 0..mr {
                *dst.add(p * mr + i) = if i < rows {
                    *a.add((i0 + i) * lda + p)
                } else {
                    0.0
                };
            }
        }
    }
}

/// One `MV * LANES` by `NR` tile: the sums over `k`, the epilogue on the registers, and
/// the transposed store of the first `valid` rows and `nr` columns.
///
/// # Safety
/// The CPU must support `V`'s instruction set; `ap` must hold a packed panel of
/// `MV * LANES` rows (`k` steps), each `b_rows[j]` `k` readable floats, and `cp` the first
/// element of `valid` rows of `C` (stride `ldc`) with `nr` writable columns each.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<V: F32Vector, const MV: usize, const NR: usize>(
    op: &GemmNt<'_>,
    gelu_fn: GeluSliceFn,
    ap: *const f32,
    b_rows: &[*const f32; NR],
    ahead: usize,
    j0: usize,
    cp: *mut f32,
    ldc: usize,
    valid: usize,
    nr: usize,
) {
    let w = V::LANES;
    let mr = MV * w;
    // SAFETY: the caller's contract covers every pointer access; the rest is register
    // arithmetic.
    unsafe {
        let mut acc = [[V::zero(); MV]; NR];
        let mut a_ptr = ap;
        for p in 0..op.k {
            // The rows of B are NR streams, each one line per 16 steps: prefetch the line
            // B_PREFETCH floats ahead as each stream enters a new line.
            // (Not for the scalar table: its 4 x 4 tile is bound by arithmetic, and there the
            // check per step measured slower.)
            if V::LANES > 1 && p % 16 == 0 {
                for b in b_rows {
                    prefetch(b.wrapping_add(p + B_PREFETCH));
                }
                if ahead != 0 {
                    for b in b_rows {
                        prefetch_l2(b.wrapping_add(ahead + p));
                    }
                }
            }
            let mut a = [V::zero(); MV];
            for (v, a) in a.iter_mut().enumerate() {
                *a = V::load(a_ptr.add(v * w));
            }
            for j in 0..NR {
                let bj = V::splat(*b_rows[j].add(p));
                for v in 0..MV {
                    acc[j][v] = a[v].mul_add(bj, acc[j][v]);
                }
            }
            a_ptr = a_ptr.add(mr);
        }
        // The epilogue and the transpose index the tile in loops LLVM may not unroll: they
        // work on a copy, so the accumulators of the k loop above are only ever indexed by
        // constants and stay in registers (indexing `acc` itself at run time made LLVM store
        // every accumulator on every step of the k loop).
        let mut tile = acc;
        let alpha = V::splat(op.alpha);
        for (j, acc) in tile.iter_mut().enumerate() {
            let bias = match op.bias {
                Some(bias) => V::splat(*bias.as_ptr().add((j0 + j).min(op.n - 1))),
                None => V::zero(),
            };
            for acc in acc.iter_mut() {
                *acc = acc.mul_add(alpha, bias);
            }
        }
        if op.gelu {
            // One out-of-line call per tile (the table's own GELU kernel): the same speed as
            // inlining it (the tile is in memory by now), and one copy of the code, which
            // the wasm modules' size budget needs.
            let all = MV * w * NR;
            gelu_fn(core::slice::from_raw_parts_mut(
                tile.as_mut_ptr().cast::<f32>(),
                all,
            ));
        }
        // Transpose in registers, `LANES x LANES` blocks: register `v` of columns
        // `jb .. jb + LANES` becomes `LANES` rows of those columns.
        let mut regs = [V::zero(); MAX_LANES];
        #[allow(clippy::needless_range_loop)]
        for v in 0..MV {
            let mut jb = 0;
            while jb < NR {
                if jb >= nr {
                    break;
                }
                for (q, reg) in regs.iter_mut().enumerate().take(w) {
                    *reg = if jb + q < NR {
                        tile[jb + q][v]
                    } else {
                        V::zero()
                    };
                }
                V::transpose(&mut regs[..w]);
                let cols = (nr - jb).min(w);
                for (r, reg) in regs.iter().enumerate().take(w) {
                    let i = v * w + r;
                    if i >= valid {
                        break;
                    }
                    let dst = cp.add(i * ldc + jb);
                    if cols == w {
                        let x = if op.accumulate {
                            V::load(dst).add(*reg)
                        } else {
                            *reg
                        };
                        x.store(dst);
                    } else {
                        let x = if op.accumulate {
                            V::load_first(dst, cols).add(*reg)
                        } else {
                            *reg
                        };
                        x.store_first(dst, cols);
                    }
                }
                jb += w;
            }
        }
    }
}

// ------------------------------------------------------------------ int8 GEMM

/// The integer multiply-accumulate of [`gemm_nt_i8`] on one instruction set: a register of
/// i32 partial sums and the step that adds `STEP` products of i8 values into it.
///
/// Every method is `unsafe`: the CPU must support the instruction set, and the caller
/// vouches for `STEP` readable bytes at each pointer. `#[inline(always)]` without
/// `#[target_feature]`, as [`F32Vector`].
pub(crate) trait I8Dot: Copy {
    /// Elements of `k` per step; divides [`I8_K_ALIGN`](crate::kernels::dense::I8_K_ALIGN).
    const STEP: usize;
    /// What the step adds to every value of `A` before multiplying (VNNI's unsigned
    /// operand: 128); the epilogue subtracts `A_OFFSET * b_sum[j]`.
    const A_OFFSET: i32;
    /// `STEP` values of a row, loaded (and transformed) once and used by several steps.
    type Data: Copy;
    unsafe fn zero() -> Self;
    unsafe fn load_a(p: *const i8) -> Self::Data;
    unsafe fn load_b(p: *const i8) -> Self::Data;
    /// `self` plus the `STEP` products `(a + A_OFFSET) b`, in some of its lanes. Exact for
    /// values in `-127..=127` (lanes wrap in i32; the final sum is exact).
    unsafe fn madd(self, a: Self::Data, b: Self::Data) -> Self;
    /// The sums of four registers' lanes (wrapping).
    unsafe fn reduce4(v: [Self; 4]) -> [i32; 4];
}

/// `C = [C +] act(sa sb (A - za) Bᵀ + bias)` of quantized rows (`Kernels::gemm_nt_i8`), with
/// an `MR x 4` tile of dot products: each of the `MR * 4` sums in its own register, over the
/// whole of `k` (rows of `A` and `B` are both contiguous along `k`, so no packing), then
/// reduced four at a time. Column blocks of 4 weight rows (`4 k` bytes, in L1) are the
/// outer loop; the rows of `A` stream past each. Edges repeat the last row of `A` or `B`
/// and store only the valid results.
///
/// The epilogue is plain f32 arithmetic, the same on every table:
/// `v = (sa[i] * sb[j]) * (sum - (A_OFFSET + za[i]) * b_sum[j]) as f32 + bias[j]`, then
/// store or add; GELU runs over each finished row of `C` at the end (with `accumulate`,
/// over each tile row before the add).
///
/// # Safety
/// The CPU must support `D`'s instruction set; `op` and `c`/`ldc` must satisfy the checks
/// of `Kernels::gemm_nt_i8`.
#[inline(always)]
pub(crate) unsafe fn gemm_nt_i8<D: I8Dot, const MR: usize>(
    op: &GemmNtI8<'_>,
    c: &mut [f32],
    ldc: usize,
    gelu_fn: GeluSliceFn,
) {
    const NR: usize = 4;
    let (m, n, k) = (op.m, op.n, op.k);
    if m == 0 || n == 0 {
        return;
    }
    let (pa, pb, pc) = (op.a.as_ptr(), op.b.as_ptr(), c.as_mut_ptr());
    // Blocks of rows of `A` of about 16 KiB (a multiple of MR), so a block stays in L1
    // while every column block of `B` passes it: each row of `A` is read from L1, each row
    // of `B` from L2 once per block.
    let mc = ((16 * 1024 / k.max(1)) / MR).max(1) * MR;
    let mut ic = 0;
    while ic < m {
        let m_end = (ic + mc).min(m);
        let mut j0 = 0;
        while j0 < n {
            let nr = (n - j0).min(NR);
            let col = |q: usize| (j0 + q).min(n - 1);
            let cols: Cols<NR> = Cols {
                scale: core::array::from_fn(|q| op.b_scale[col(q)]),
                sum: core::array::from_fn(|q| op.b_sum[col(q)]),
                bias: core::array::from_fn(|q| op.bias.map_or(0.0, |b| b[col(q)])),
            };
            let mut i0 = ic;
            while i0 < m_end {
                let mr = (m_end - i0).min(MR);
                // SAFETY: rows `min(i, m - 1)` and `min(j, n - 1)` exist (checked shapes), each
                // with `k` readable values (a multiple of `STEP`) from its row start.
                let sums = unsafe {
                    let ra: [*const i8; MR] =
                        core::array::from_fn(|r| pa.add((i0 + r).min(m - 1) * op.lda));
                    let rb: [*const i8; NR] =
                        core::array::from_fn(|q| pb.add((j0 + q).min(n - 1) * op.ldb));
                    let mut acc = [[D::zero(); NR]; MR];
                    let mut p = 0;
                    while p < k {
                        let b: [D::Data; NR] = core::array::from_fn(|q| D::load_b(rb[q].add(p)));
                        for r in 0..MR {
                            let a = D::load_a(ra[r].add(p));
                            for q in 0..NR {
                                acc[r][q] = acc[r][q].madd(a, b[q]);
                            }
                        }
                        p += D::STEP;
                    }
                    acc.map(|row| D::reduce4(row))
                };
                // The epilogue, 4 columns at a time (plain f32 lane arithmetic the compiler
                // vectorizes); columns past `n` repeat the last one and are not stored.
                for (r, sum) in sums.iter().enumerate().take(mr) {
                    let i = i0 + r;
                    let (sa, za) = (op.a_scale[i], op.a_zero[i]);
                    let off = D::A_OFFSET.wrapping_add(za);
                    let mut row = [0.0f32; NR];
                    for q in 0..NR {
                        let corr = off.wrapping_mul(cols.sum[q]);
                        row[q] = (sa * cols.scale[q]) * sum[q].wrapping_sub(corr) as f32;
                        if op.bias.is_some() {
                            row[q] += cols.bias[q];
                        }
                    }
                    if op.gelu && op.accumulate {
                        // SAFETY: `gelu_fn` is this table's GELU; any slice is valid input.
                        unsafe { gelu_fn(&mut row) };
                    }
                    // SAFETY: row `i < m` of `C` holds columns `j0 .. j0 + nr <= n` at stride
                    // `ldc` (checked shapes).
                    let dst = unsafe { core::slice::from_raw_parts_mut(pc.add(i * ldc + j0), nr) };
                    if op.accumulate {
                        dst.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                    } else {
                        dst.copy_from_slice(&row[..nr]);
                    }
                }
                i0 += MR;
            }
            j0 += NR;
        }
        ic = m_end;
    }
    if op.gelu && !op.accumulate {
        // The accumulating case applied GELU per tile, before the add.
        // SAFETY: `C` is `m x n` at stride `ldc` (checked shapes); this table's GELU.
        unsafe { gelu_rows(pc, m, n, ldc, gelu_fn) };
    }
}

/// GELU over each of the `m` finished rows of `C` (`n` columns, stride `ldc`), one call per
/// row: the int8 products' last step when they do not accumulate.
///
/// # Safety
/// `c` must hold `m` rows of `n` values at stride `ldc`; `gelu_fn` must be a GELU of a table
/// this CPU supports.
#[inline(always)]
pub(crate) unsafe fn gelu_rows(c: *mut f32, m: usize, n: usize, ldc: usize, gelu_fn: GeluSliceFn) {
    for i in 0..m {
        // SAFETY: row `i < m` holds `n` values at `c + i * ldc` (the caller's contract).
        unsafe { gelu_fn(core::slice::from_raw_parts_mut(c.add(i * ldc), n)) };
    }
}

/// One column block's per-column parameters of [`gemm_nt_i8`] (the last column repeated
/// past `n`; bias 0 without one).
struct Cols<const NR: usize> {
    scale: [f32; NR],
    sum: [i32; NR],
    bias: [f32; NR],
}

/// Defines one instruction set's dense kernels over its [`F32Vector`] and register tile,
/// and the table of them, `DENSE`. `int8:` is `(I8Dot type, MR)` for the generic
/// dot-product loop ([`gemm_nt_i8`]) or `{ path }` for the instruction set's own int8
/// product, which gets the packing scratch too.
///
/// The functions are `unsafe` on every instruction set: the loops rely on the shapes the
/// `Kernels` methods check.
macro_rules! dense_kernels {
    (
        vector: $v:ty,
        tile: ($mv:literal, $nr:literal),
        int8: $int8:tt $(#[$iattr:meta])*,
        $(#[$attr:meta])*
        fn {
            gemm_nt_f32: $gemm:ident,
            softmax_rows_f32: $softmax:ident,
            layer_norm_rows_f32: $layer_norm:ident,
            gelu_f32: $gelu:ident,
            gemm_nt_i8: $gemm_i8:ident,
            $(quantize_rows_i8: $quant:ident,)?
        }
    ) => {
        use $crate::kernels::dense::{DenseKernels, GemmNt, GemmNtI8};
        use $crate::kernels::generic::dense as g_dense;

        /// This instruction set's dense (encoder) kernels, as a constant other tables can
        /// start from (`..DENSE_FNS`).
        #[allow(dead_code)]
        pub(crate) const DENSE_FNS: DenseKernels = DenseKernels {
            gemm_nt_f32: $gemm,
            softmax_rows_f32: $softmax,
            layer_norm_rows_f32: $layer_norm,
            gelu_f32: $gelu,
            gemm_nt_i8: $gemm_i8,
            quantize_rows_i8: $crate::kernels::generic::dense_kernels!(@quant $($quant)?),
        };

        /// This instruction set's dense (encoder) kernels.
        pub(crate) static DENSE: DenseKernels = DENSE_FNS;

        $crate::kernels::generic::dense_kernels!(
            @fn $(#[$iattr])*
            $gemm_i8(op: &GemmNtI8<'_>, c: &mut [f32], ldc: usize, pack: &mut alloc::vec::Vec<f32>)
            => $crate::kernels::generic::dense_kernels!(@int8 $int8 op, c, ldc, pack, $gelu)
        );

        $crate::kernels::generic::dense_kernels!(
            @fn $(#[$attr])*
            $gemm(op: &GemmNt<'_>, c: &mut [f32], ldc: usize, pack: &mut alloc::vec::Vec<f32>)
            => g_dense::gemm_nt::<$v, $mv, $nr>(op, c, ldc, pack, $gelu)
        );
        $crate::kernels::generic::dense_kernels!(@quant_fn [$(#[$attr])*] $($quant)?);
        $crate::kernels::generic::dense_kernels!(
            @fn $(#[$attr])*
            $softmax(x: &mut [f32], width: usize)
            => g_dense::softmax_rows::<$v>(x, width)
        );
        $crate::kernels::generic::dense_kernels!(
            @fn $(#[$attr])*
            $layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32)
            => g_dense::layer_norm_rows::<$v>(x, gamma, beta, eps)
        );
        $crate::kernels::generic::dense_kernels!(
            @fn $(#[$attr])*
            $gelu(x: &mut [f32])
            => g_dense::gelu_slice::<$v>(x)
        );
    };
    // The int8 product: `(I8Dot type, MR)` for the generic dot-product loop
    // (`gemm_nt_i8`), or `{ path }` for an instruction set's own loop with the same
    // contract and the packing scratch (AVX2's packed outer product).
    (@int8 ($d:ty, $imr:literal) $op:ident, $c:ident, $ldc:ident, $pack:ident, $gelu:ident) => {{
        let _ = $pack;
        g_dense::gemm_nt_i8::<$d, $imr>($op, $c, $ldc, $gelu)
    }};
    (@int8 { $own:path } $op:ident, $c:ident, $ldc:ident, $pack:ident, $gelu:ident) => {
        $own($op, $c, $ldc, $pack, $gelu)
    };
    // A table without its own quantizer uses the portable one (`quantize_rows_i8`).
    (@quant) => { None };
    (@quant $quant:ident) => { Some($quant) };
    (@quant_fn [$($attr:tt)*]) => {};
    (@quant_fn [$($attr:tt)*] $quant:ident) => {
        $crate::kernels::generic::dense_kernels!(
            @fn $($attr)*
            $quant(
                x: &[f32],
                k: usize,
                out: &mut [i8],
                ld: usize,
                scale: &mut [f32],
                zero: &mut [i32],
            ) => $crate::kernels::dense::quantize_rows_i8_unchecked(x, k, out, ld, scale, zero)
        );
    };
    (
        @fn $(#[$attr:meta])*
        $name:ident($($arg:ident: $ty:ty),* $(,)?) => $body:expr
    ) => {
        #[doc = concat!("`", stringify!($name), "`: see the `Kernels` method of that name ",
            "without the ISA suffix.")]
        ///
        /// # Safety
        /// The CPU must support the instruction set this function is compiled for, and the
        /// shapes must have passed the checks of the `Kernels` method.
        $(#[$attr])*
        #[inline(never)]
        pub(crate) unsafe fn $name($($arg: $ty),*) {
            // SAFETY: the generic loops need only the CPU features this function is compiled
            // with and checked shapes, both of which its own contract guarantees.
            unsafe { $body }
        }
    };
}
pub(crate) use dense_kernels;

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::kernels::scalar::dense::gelu_f32_scalar;

    /// The fallback for a packing buffer that cannot be allocated agrees with the packed
    /// scalar GEMM (both one sequential sum per element, no FMA: the same bits).
    #[test]
    fn unpacked_fallback_matches_packed() {
        let vals = |n: usize, seed: u32| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32
                        / (1 << 24) as f32
                        - 0.5
                })
                .collect()
        };
        for &(m, n, k) in &[(1usize, 1usize, 1usize), (5, 7, 9), (13, 6, 33), (4, 4, 0)] {
            let (a, b, bias) = (vals(m * k, 1), vals(n * k, 2), vals(n, 3));
            for (gelu, accumulate) in [(false, false), (true, false), (true, true)] {
                let op = GemmNt {
                    gelu,
                    accumulate,
                    alpha: 0.5,
                    ..GemmNt::new(m, n, k, &a, &b).bias(&bias)
                };
                let mut packed = vals(m * n, 4);
                let mut unpacked = packed.clone();
                // SAFETY: the shapes are consistent (m x k, n x k, m x n contiguous).
                unsafe {
                    gemm_nt::<f32, 4, 4>(&op, &mut packed, n, &mut Vec::new(), gelu_f32_scalar);
                    gemm_nt_unpacked(&op, &mut unpacked, n, gelu_f32_scalar);
                }
                assert_eq!(packed, unpacked, "{m}x{n}x{k} gelu {gelu} acc {accumulate}");
            }
        }
    }
}
