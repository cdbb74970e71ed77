//! The int8 GEMM of the AVX2 table (`Kernels::gemm_nt_i8`): weight columns packed per call
//! into 16-column panels, and an outer-product register tile, as the AVX-512 VNNI kernel
//! (`avx512/dense_vnni.rs`) but without `vpdpbusd`.
//!
//! Each `ymm` accumulator holds 8 *columns* of one row of `C`, so no horizontal reduction is
//! needed. Per group of 4 values of `k` and row: the row's 4 activations broadcast, and for
//! each 8 columns of the panel `vpmaddubsw(|a|, sign(b, a))` (the sign trick: both operands
//! within 127, so a pair `2 * 127 * 127` never saturates i16) then `vpmaddwd` by ones sums
//! the 4 products of a column into its i32 lane. The sums are exact; `|a|` is shared by the
//! panel's two registers.
//!
//! Packing: `B`'s rows are contiguous along `k`, so a panel of 16 columns is transposed in
//! 8 x 8 blocks of 4-byte groups into `[k / 4][16 columns][4 bytes]`. It costs one pass over
//! a panel per row block, a few percent of the multiplies at the encoder's shapes.

use alloc::vec::Vec;
use core::arch::x86_64::*;

use crate::kernels::dense::GemmNtI8;
use crate::kernels::generic::dense::{gelu_rows, GeluSliceFn};

/// Rows of `A` per register tile.
const MR: usize = 4;
/// Columns per register tile and per packed panel: two 8-lane registers.
const NR: usize = 16;
/// About this many bytes of `A` per row block (it stays in L2 while the panels pass).
const A_BLOCK_BYTES: usize = 192 * 1024;

/// `C = [C +] act(sa sb (A - za) Bᵀ + bias)` of quantized rows, packed.
///
/// # Safety
/// The CPU must support AVX2; `op` and `c`/`ldc` must satisfy the checks of
/// `Kernels::gemm_nt_i8`.
#[inline(always)]
pub(crate) unsafe fn gemm_nt_i8_packed(
    op: &GemmNtI8<'_>,
    c: &mut [f32],
    ldc: usize,
    pack: &mut Vec<f32>,
    gelu_fn: GeluSliceFn,
) {
    let (m, n, k) = (op.m, op.n, op.k);
    if m == 0 || n == 0 {
        return;
    }
    let groups = k / 4;
    let mc = ((A_BLOCK_BYTES / k.max(1)) / MR).max(1) * MR;
    // The panel: 16 k bytes, 4 k f32 slots of the caller's scratch, which only grows.
    if pack.len() < 4 * k {
        pack.resize(4 * k, 0.0);
    }
    let panel = pack.as_mut_ptr().cast::<__m256i>();
    let pc = c.as_mut_ptr();
    let mut ic = 0;
    while ic < m {
        let m_end = (ic + mc).min(m);
        let mut j0 = 0;
        while j0 < n {
            // SAFETY: `panel` holds `2 * groups` registers (any alignment); rows
            // `j0 .. min(j0 + 16, n)` of `B` exist with `k` values each (checked shapes).
            unsafe { pack_panel(op, j0, panel) };
            let mut i0 = ic;
            while i0 < m_end {
                let mr = (m_end - i0).min(MR);
                // SAFETY: rows `min(i, m - 1)` of `A` exist with `k` values; the panel is
                // packed for `groups` groups.
                let acc = unsafe {
                    let rows: [*const i8; MR] =
                        core::array::from_fn(|r| op.a.as_ptr().add((i0 + r).min(m - 1) * op.lda));
                    tile(&rows, panel, groups)
                };
                for (r, acc) in acc.iter().enumerate().take(mr) {
                    let i = i0 + r;
                    // SAFETY: row `i < m` of `C` holds columns `j0 .. min(j0 + 16, n)` at
                    // stride `ldc` (checked shapes).
                    unsafe { epilogue(op, acc, i, j0, pc.add(i * ldc + j0), gelu_fn) };
                }
                i0 += MR;
            }
            j0 += NR;
        }
        ic = m_end;
    }
    if op.gelu && !op.accumulate {
        // SAFETY: `C` is `m x n` at stride `ldc` (checked shapes); this table's GELU.
        unsafe { gelu_rows(pc, m, n, ldc, gelu_fn) };
    }
}

/// Packs columns `j0 .. j0 + 16` of `B` (zeros past `n`) into `dst`: register `2 g + h`
/// holds group `g` (values `4 g .. 4 g + 4`) of columns `j0 + 8 h .. j0 + 8 h + 8`, one
/// column per 4-byte lane.
///
/// # Safety
/// AVX2; `dst` has room for `2 * k / 4` registers (any alignment); rows
/// `j0 .. min(j0 + 16, n)` of `B` have `k` readable values.
#[inline(always)]
unsafe fn pack_panel(op: &GemmNtI8<'_>, j0: usize, dst: *mut __m256i) {
    let (n, k) = (op.n, op.k);
    // SAFETY: loads from rows that exist (the others are zero registers), stores to the
    // `2 * k / 4` registers of `dst` (`g < k / 4`).
    unsafe {
        for h in 0..2 {
            let mut blk = 0;
            while blk < k {
                let mut r: [__m256i; 8] = core::array::from_fn(|c| {
                    let j = j0 + 8 * h + c;
                    if j < n {
                        _mm256_loadu_si256(op.b.as_ptr().add(j * op.ldb + blk).cast())
                    } else {
                        _mm256_setzero_si256()
                    }
                });
                transpose_8x8(&mut r);
                let g0 = blk / 4;
                for (d, v) in r.iter().enumerate() {
                    _mm256_storeu_si256(dst.add(2 * (g0 + d) + h), *v);
                }
                blk += 32;
            }
        }
    }
}

/// Transposes 8 registers of 8 four-byte lanes: lane `c` of register `r` goes to lane `r`
/// of register `c`.
#[inline(always)]
unsafe fn transpose_8x8(r: &mut [__m256i; 8]) {
    // SAFETY: register shuffles; the caller vouches for AVX2.
    unsafe {
        // Within each 128-bit half `l`: u[4 q + s] = column 4 l + s of rows 4 q .. 4 q + 4.
        let mut u = [_mm256_setzero_si256(); 8];
        for q in 0..2 {
            let t0 = _mm256_unpacklo_epi32(r[4 * q], r[4 * q + 1]);
            let t1 = _mm256_unpackhi_epi32(r[4 * q], r[4 * q + 1]);
            let t2 = _mm256_unpacklo_epi32(r[4 * q + 2], r[4 * q + 3]);
            let t3 = _mm256_unpackhi_epi32(r[4 * q + 2], r[4 * q + 3]);
            u[4 * q] = _mm256_unpacklo_epi64(t0, t2);
            u[4 * q + 1] = _mm256_unpackhi_epi64(t0, t2);
            u[4 * q + 2] = _mm256_unpacklo_epi64(t1, t3);
            u[4 * q + 3] = _mm256_unpackhi_epi64(t1, t3);
        }
        // Column 4 l + s: half `l` of u[s] (rows 0..4) and of u[4 + s] (rows 4..8).
        for s in 0..4 {
            r[s] = _mm256_permute2x128_si256::<0x20>(u[s], u[4 + s]);
            r[4 + s] = _mm256_permute2x128_si256::<0x31>(u[s], u[4 + s]);
        }
    }
}

/// The `MR x 16` tile: `acc[r][h]` lane `c` = `sum_p a[r][p] b[j0 + 8 h + c][p]`.
#[inline(always)]
unsafe fn tile(rows: &[*const i8; MR], panel: *const __m256i, groups: usize) -> [[__m256i; 2]; MR] {
    // SAFETY: the caller vouches for AVX2, `4 * groups` readable bytes in each row and
    // `2 * groups` packed registers.
    unsafe {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_si256(); 2]; MR];
        for g in 0..groups {
            let b = [
                _mm256_loadu_si256(panel.add(2 * g)),
                _mm256_loadu_si256(panel.add(2 * g + 1)),
            ];
            for r in 0..MR {
                let a = _mm256_set1_epi32(rows[r].add(4 * g).cast::<i32>().read_unaligned());
                let ua = _mm256_abs_epi8(a);
                for h in 0..2 {
                    let pairs = _mm256_maddubs_epi16(ua, _mm256_sign_epi8(b[h], a));
                    acc[r][h] = _mm256_add_epi32(acc[r][h], _mm256_madd_epi16(pairs, ones));
                }
            }
        }
        acc
    }
}

/// Finishes one tile row: `v = (sa sb) (S - za b_sum) + bias` for the columns
/// `j0 .. min(j0 + 16, n)`, then stores (or adds) them at `dst`.
#[inline(always)]
unsafe fn epilogue(
    op: &GemmNtI8<'_>,
    acc: &[__m256i; 2],
    i: usize,
    j0: usize,
    dst: *mut f32,
    gelu_fn: GeluSliceFn,
) {
    let w = (op.n - j0).min(NR);
    let mut sums = [0i32; NR];
    // SAFETY: stores to a local array of 16 i32.
    unsafe {
        _mm256_storeu_si256(sums.as_mut_ptr().cast(), acc[0]);
        _mm256_storeu_si256(sums.as_mut_ptr().add(8).cast(), acc[1]);
    }
    let (sa, za) = (op.a_scale[i], op.a_zero[i]);
    let mut row = [0.0f32; NR];
    for q in 0..w {
        let j = j0 + q;
        let sum = sums[q].wrapping_sub(za.wrapping_mul(op.b_sum[j]));
        row[q] = (sa * op.b_scale[j]) * sum as f32;
        if let Some(bias) = op.bias {
            row[q] += bias[j];
        }
    }
    if op.gelu && op.accumulate {
        // SAFETY: `gelu_fn` is this table's GELU; any slice is valid input.
        unsafe { gelu_fn(&mut row[..w]) };
    }
    // SAFETY: the caller vouches for `w` writable values at `dst`.
    let dst = unsafe { core::slice::from_raw_parts_mut(dst, w) };
    if op.accumulate {
        dst.iter_mut().zip(row).for_each(|(d, v)| *d += v);
    } else {
        dst.copy_from_slice(&row[..w]);
    }
}
