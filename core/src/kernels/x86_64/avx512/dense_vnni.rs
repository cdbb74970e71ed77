//! The int8 GEMM of the AVX-512 VNNI tables (`Kernels::gemm_nt_i8`): weight columns packed
//! per call into panels, and an outer-product register tile of `vpdpbusd`.
//!
//! The generic int8 loop (`generic/dense.rs`) computes each element as a dot product along
//! `k` and pays a horizontal reduction per element; at the encoder's `k = 384` that
//! reduction and the zero-point bias per load cost as much as the multiplies. Here each
//! `zmm` accumulator holds 16 *columns* of one row of `C`, so no reduction is needed: for
//! every group of 4 values of `k`, one `vpdpbusd` multiplies 16 columns' 4 weights (a
//! 64-byte group of the packed panel) by one row's 4 activations broadcast from memory.
//!
//! Packing: `B`'s rows are contiguous along `k` (checkpoint order), so a panel of 32
//! columns is transposed in 16 x 16 blocks of 4-byte groups into
//! `[k / 4][32 columns][4 bytes]`, biased to unsigned (`b ^ 0x80 = b + 128`, the operand
//! `vpdpbusd` takes unsigned); the activations stay signed, the operand that can be
//! broadcast from memory. The bias comes out in the epilogue:
//! `sum (b + 128) a = sum a b + 128 sum a`, with `sum a` per row of `A` computed once per
//! row block. Packing costs one pass over a panel per row block (a few percent of the
//! multiplies at the encoder's shapes) and needs no layout change of the weights, so
//! every kernel table reads the same model.

use alloc::vec::Vec;
use core::arch::x86_64::*;

use super::dense::gelu_f32_avx512;
use crate::kernels::dense::GemmNtI8;
use crate::kernels::generic::dense::gelu_rows;

/// Rows of `A` per register tile.
const MR: usize = 8;
/// Columns per register tile and per packed panel: two 16-lane registers.
const NR: usize = 32;
/// About this many bytes of `A` per row block, so a block stays in L2 while every panel
/// of `B` passes over it.
const A_BLOCK_BYTES: usize = 192 * 1024;

/// Mask of the first `r` of 16 lanes (all 16 for `r >= 16`).
#[inline(always)]
fn mask_first(r: usize) -> __mmask16 {
    if r >= 16 {
        0xFFFF
    } else {
        ((1u32 << r) - 1) as __mmask16
    }
}

/// `C = [C +] act(sa sb (A - za) Bᵀ + bias)` of quantized rows with `vpdpbusd`.
///
/// # Safety
/// The CPU must support AVX-512 F, BW, VL and VNNI; `op` and `c`/`ldc` must satisfy the
/// checks of `Kernels::gemm_nt_i8`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub(crate) unsafe fn gemm_nt_i8_avx512vnni(
    op: &GemmNtI8<'_>,
    c: &mut [f32],
    ldc: usize,
    pack: &mut Vec<f32>,
) {
    let (m, n, k) = (op.m, op.n, op.k);
    if m == 0 || n == 0 {
        return;
    }
    let groups = k / 4;
    let mc = ((A_BLOCK_BYTES / k.max(1)) / MR).max(1) * MR;
    // The scratch holds the packed panel (32 k bytes: 8 k f32 slots) and the row sums of a
    // row block of `A` (i32 in f32 slots); it only grows, so a caller's second product of
    // the same shape allocates nothing.
    let panel_len = 8 * k;
    let need = panel_len + mc.min(m);
    if pack.len() < need {
        pack.resize(need, 0.0);
    }
    let panel = pack.as_mut_ptr().cast::<__m512i>();
    // SAFETY: `need` slots exist; f32 and i32 have the same size and alignment.
    let a_sum = unsafe {
        core::slice::from_raw_parts_mut(pack.as_mut_ptr().add(panel_len).cast::<i32>(), mc.min(m))
    };
    let pc = c.as_mut_ptr();
    let mut ic = 0;
    while ic < m {
        let m_end = (ic + mc).min(m);
        for (i, s) in (ic..m_end).zip(a_sum.iter_mut()) {
            // SAFETY: row `i < m` of `A` has `k` readable values (checked shapes).
            *s = unsafe { row_sum(op.a.as_ptr().add(i * op.lda), k) };
        }
        let mut j0 = 0;
        while j0 < n {
            // SAFETY: `panel` holds `2 * groups` registers (unaligned); rows `j0 .. min(j0 + 32, n)` of
            // `B` exist with `k` values each (checked shapes).
            unsafe { pack_panel(op, j0, panel) };
            // SAFETY: masked loads of the `n`-long parameter slices.
            let cols = unsafe { Cols::load(op, j0) };
            // The weights are read once per row block, from memory (a model's are larger
            // than L2) in 32 streams, which hardware prefetchers follow poorly: each tile
            // prefetches its share of the next panel's cache lines instead.
            let next = NextPanel::new(op, j0 + NR, (m_end - ic).div_ceil(MR));
            let mut i0 = ic;
            while i0 < m_end {
                next.prefetch((i0 - ic) / MR);
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
                    // SAFETY: row `i < m` of `C` holds columns `j0 .. min(j0 + 32, n)` at
                    // stride `ldc` (checked shapes); `gelu_f32_avx512` needs only AVX-512F.
                    unsafe {
                        epilogue(
                            op,
                            &cols,
                            acc,
                            a_sum[i - ic],
                            i,
                            pc.add(i * ldc + j0),
                            n - j0,
                        )
                    };
                }
                i0 += MR;
            }
            j0 += NR;
        }
        ic = m_end;
    }
    if op.gelu && !op.accumulate {
        // SAFETY: `C` is `m x n` at stride `ldc` (checked shapes); this table's GELU.
        unsafe { gelu_rows(pc, m, n, ldc, gelu_f32_avx512) };
    }
}

/// The cache lines of the rows `j .. min(j + 32, n)` of `B`, prefetched a share per tile.
struct NextPanel {
    base: *const i8,
    ldb: usize,
    lines_per_row: usize,
    lines: usize,
    per_tile: usize,
}

impl NextPanel {
    fn new(op: &GemmNtI8<'_>, j: usize, tiles: usize) -> NextPanel {
        let rows = op.n.saturating_sub(j).min(NR);
        let lines_per_row = op.k / 64;
        let lines = rows * lines_per_row;
        NextPanel {
            // `wrapping_add`: past the last panel there is nothing to prefetch (`lines` is 0).
            base: op.b.as_ptr().wrapping_add(j.min(op.n) * op.ldb),
            ldb: op.ldb,
            lines_per_row,
            lines,
            per_tile: lines.div_ceil(tiles.max(1)),
        }
    }

    #[inline(always)]
    fn prefetch(&self, tile: usize) {
        let start = (tile * self.per_tile).min(self.lines);
        let end = (start + self.per_tile).min(self.lines);
        for line in start..end {
            let (row, col) = (line / self.lines_per_row, line % self.lines_per_row);
            // SAFETY: `line < lines`, so the address is inside row `j + row < n` of `B`
            // (`k` values each); a prefetch never faults anyway.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(self.base.add(row * self.ldb + 64 * col));
            }
        }
    }
}

/// The sum of a row's `k` values (a multiple of 64), by `vpdpbusd` against ones.
#[inline(always)]
unsafe fn row_sum(p: *const i8, k: usize) -> i32 {
    // SAFETY: the caller vouches for AVX-512 VNNI and `k` readable bytes at `p`.
    unsafe {
        let ones = _mm512_set1_epi8(1);
        let mut acc = _mm512_setzero_si512();
        let mut q = 0;
        while q < k {
            acc = _mm512_dpbusd_epi32(acc, ones, _mm512_loadu_si512(p.add(q).cast()));
            q += 64;
        }
        _mm512_reduce_add_epi32(acc)
    }
}

/// Packs columns `j0 .. j0 + 32` of `B` (rows of `B`; zeros past `n`) into `dst`:
/// register `2 g + h` holds group `g` (values `4 g .. 4 g + 4`) of columns
/// `j0 + 16 h .. j0 + 16 h + 16`, one column per 4-byte lane, biased by 128.
///
/// # Safety
/// AVX-512 F/BW; `dst` has room for `2 * k / 4` registers (any alignment); rows `j0 .. min(j0 + 32, n)`
/// of `B` have `k` readable values.
#[inline(always)]
unsafe fn pack_panel(op: &GemmNtI8<'_>, j0: usize, dst: *mut __m512i) {
    let (n, k) = (op.n, op.k);
    // SAFETY: loads from rows that exist (the others are zero registers), stores to the
    // `2 * k / 4` registers of `dst` (`g < k / 4`).
    unsafe {
        let bias = _mm512_set1_epi8(-128);
        for h in 0..2 {
            let mut blk = 0;
            while blk < k {
                let mut r: [__m512i; 16] = core::array::from_fn(|c| {
                    let j = j0 + 16 * h + c;
                    if j < n {
                        _mm512_loadu_si512(op.b.as_ptr().add(j * op.ldb + blk).cast())
                    } else {
                        _mm512_setzero_si512()
                    }
                });
                transpose_16x16(&mut r);
                let g0 = blk / 4;
                for (d, v) in r.iter().enumerate() {
                    _mm512_storeu_si512(
                        dst.add(2 * (g0 + d) + h).cast(),
                        _mm512_xor_si512(*v, bias),
                    );
                }
                blk += 64;
            }
        }
    }
}

/// Transposes 16 registers of 16 four-byte lanes: lane `c` of register `r` goes to lane
/// `r` of register `c`.
#[inline(always)]
unsafe fn transpose_16x16(r: &mut [__m512i; 16]) {
    // SAFETY: register shuffles; the caller vouches for AVX-512F.
    unsafe {
        // Within each 128-bit lane `l`: u[4 q + s] = column 4 l + s of rows 4 q .. 4 q + 4.
        let mut u = [_mm512_setzero_si512(); 16];
        for q in 0..4 {
            let t0 = _mm512_unpacklo_epi32(r[4 * q], r[4 * q + 1]);
            let t1 = _mm512_unpackhi_epi32(r[4 * q], r[4 * q + 1]);
            let t2 = _mm512_unpacklo_epi32(r[4 * q + 2], r[4 * q + 3]);
            let t3 = _mm512_unpackhi_epi32(r[4 * q + 2], r[4 * q + 3]);
            u[4 * q] = _mm512_unpacklo_epi64(t0, t2);
            u[4 * q + 1] = _mm512_unpackhi_epi64(t0, t2);
            u[4 * q + 2] = _mm512_unpacklo_epi64(t1, t3);
            u[4 * q + 3] = _mm512_unpackhi_epi64(t1, t3);
        }
        // Column 4 l + s is 128-bit lane `l` of u[s], u[4 + s], u[8 + s], u[12 + s].
        for s in 0..4 {
            let w0 = _mm512_shuffle_i32x4::<0x44>(u[s], u[4 + s]);
            let w1 = _mm512_shuffle_i32x4::<0xEE>(u[s], u[4 + s]);
            let w2 = _mm512_shuffle_i32x4::<0x44>(u[8 + s], u[12 + s]);
            let w3 = _mm512_shuffle_i32x4::<0xEE>(u[8 + s], u[12 + s]);
            r[s] = _mm512_shuffle_i32x4::<0x88>(w0, w2);
            r[4 + s] = _mm512_shuffle_i32x4::<0xDD>(w0, w2);
            r[8 + s] = _mm512_shuffle_i32x4::<0x88>(w1, w3);
            r[12 + s] = _mm512_shuffle_i32x4::<0xDD>(w1, w3);
        }
    }
}

/// The `MR x 32` tile: `acc[r][h]` lane `c` = `sum_p a[r][p] (b[j0 + 16 h + c][p] + 128)`.
#[inline(always)]
unsafe fn tile(rows: &[*const i8; MR], panel: *const __m512i, groups: usize) -> [[__m512i; 2]; MR] {
    // SAFETY: the caller vouches for AVX-512 VNNI, `4 * groups` readable bytes in each row
    // and `2 * groups` packed registers.
    unsafe {
        let mut acc = [[_mm512_setzero_si512(); 2]; MR];
        for g in 0..groups {
            let b0 = _mm512_loadu_si512(panel.add(2 * g).cast());
            let b1 = _mm512_loadu_si512(panel.add(2 * g + 1).cast());
            for r in 0..MR {
                let a = _mm512_set1_epi32(rows[r].add(4 * g).cast::<i32>().read_unaligned());
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, a);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, a);
            }
        }
        acc
    }
}

/// A panel's per-column parameters, 16 columns per register (zeros past `n`).
struct Cols {
    scale: [__m512; 2],
    sum: [__m512i; 2],
    bias: [__m512; 2],
}

impl Cols {
    #[inline(always)]
    unsafe fn load(op: &GemmNtI8<'_>, j0: usize) -> Cols {
        // SAFETY: masked loads read only columns `< n` of the `n`-long parameter slices.
        unsafe {
            let at = |h: usize| (mask_first(op.n.saturating_sub(j0 + 16 * h)), j0 + 16 * h);
            let f = |s: &[f32], h: usize| {
                let (mk, j) = at(h);
                if mk == 0 {
                    _mm512_setzero_ps()
                } else {
                    _mm512_maskz_loadu_ps(mk, s.as_ptr().add(j))
                }
            };
            let i = |s: &[i32], h: usize| {
                let (mk, j) = at(h);
                if mk == 0 {
                    _mm512_setzero_si512()
                } else {
                    _mm512_maskz_loadu_epi32(mk, s.as_ptr().add(j))
                }
            };
            let bias = op.bias.unwrap_or(&[]);
            Cols {
                scale: [f(op.b_scale, 0), f(op.b_scale, 1)],
                sum: [i(op.b_sum, 0), i(op.b_sum, 1)],
                bias: if op.bias.is_some() {
                    [f(bias, 0), f(bias, 1)]
                } else {
                    [_mm512_setzero_ps(); 2]
                },
            }
        }
    }
}

/// Finishes one tile row: `v = (sa sb) (S - 128 a_sum - za b_sum) + bias`, then stores
/// (or adds) the first `min(left, 32)` columns at `dst`.
#[inline(always)]
unsafe fn epilogue(
    op: &GemmNtI8<'_>,
    cols: &Cols,
    acc: &[__m512i; 2],
    a_sum: i32,
    i: usize,
    dst: *mut f32,
    left: usize,
) {
    // SAFETY: the caller vouches for AVX-512F and `min(left, 32)` writable values at `dst`.
    unsafe {
        let za = _mm512_set1_epi32(op.a_zero[i]);
        let off = _mm512_set1_epi32(a_sum.wrapping_mul(128));
        let sa = _mm512_set1_ps(op.a_scale[i]);
        let mut row = [0.0f32; NR];
        for (h, &acc) in acc.iter().enumerate() {
            let corr = _mm512_add_epi32(off, _mm512_mullo_epi32(za, cols.sum[h]));
            let s = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, corr));
            let mut v = _mm512_mul_ps(_mm512_mul_ps(sa, cols.scale[h]), s);
            if op.bias.is_some() {
                v = _mm512_add_ps(v, cols.bias[h]);
            }
            _mm512_storeu_ps(row.as_mut_ptr().add(16 * h), v);
        }
        let w = left.min(NR);
        if op.gelu && op.accumulate {
            gelu_f32_avx512(&mut row[..w]);
        }
        for h in 0..2 {
            let mk = mask_first(w.saturating_sub(16 * h));
            if mk == 0 {
                break;
            }
            let d = dst.add(16 * h);
            let mut v = _mm512_loadu_ps(row.as_ptr().add(16 * h));
            if op.accumulate {
                v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, d));
            }
            _mm512_mask_storeu_ps(d, mk, v);
        }
    }
}
