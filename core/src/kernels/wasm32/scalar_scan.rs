//! The scan of the scalar wasm module (built without simd128), shaped for an interpreter like
//! the simd128 one (see `simd128/distance.rs`): the query is held in wasm locals 32 elements at a time
//! and only the rows are loaded, so a dot costs `f32.load` + `f32.mul` + `f32.add` per
//! element (the portable kernel's loop, which loads both vectors, takes more), and cosine
//! gets the row's squared norm in the same pass instead of a second one.
//!
//! Same bits as the portable scalar scan: element `i` of a row goes to lane `i % 8` in order,
//! and the lanes are reduced pairwise exactly as `scalar/distance.rs` does.

use super::super::scalar::distance::dot_f32_scalar;
use super::super::{CosineParts, Metric};

/// Query elements a block holds in locals. 64 made cosine ~9% and squared L2 ~5% faster in
/// wasmi, for twice the code (+13.7 KB instead of +6.3 KB of module).
const BLOCK: usize = 32;
/// Rows whose partial sums are kept on the stack while the query blocks go by.
const GROUP: usize = 32;
const LANES: usize = 8;

/// `scalar/distance.rs`'s pairwise reduction of its 8 lanes.
#[inline(always)]
fn reduce_lanes(acc: [f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

trait ScanMetric {
    /// The sums of one of the 8 lanes.
    type Lane: Copy;
    /// Per-call data for `finish` (the query's squared norm for cosine).
    type Ctx: Copy;
    const ZERO: Self::Lane;
    fn step(lane: &mut Self::Lane, q: f32, x: f32);
    fn finish(acc: [Self::Lane; LANES], ctx: Self::Ctx) -> f32;
}

struct DotScan;
impl ScanMetric for DotScan {
    type Lane = f32;
    type Ctx = ();
    const ZERO: f32 = 0.0;
    #[inline(always)]
    fn step(lane: &mut f32, q: f32, x: f32) {
        *lane += q * x;
    }
    #[inline(always)]
    fn finish(acc: [f32; LANES], (): ()) -> f32 {
        -reduce_lanes(acc)
    }
}

struct L2sqScan;
impl ScanMetric for L2sqScan {
    type Lane = f32;
    type Ctx = ();
    const ZERO: f32 = 0.0;
    #[inline(always)]
    fn step(lane: &mut f32, q: f32, x: f32) {
        *lane += (q - x) * (q - x);
    }
    #[inline(always)]
    fn finish(acc: [f32; LANES], (): ()) -> f32 {
        reduce_lanes(acc)
    }
}

struct CosineScan;
impl ScanMetric for CosineScan {
    /// `[query . row, row . row]`.
    type Lane = [f32; 2];
    type Ctx = f32;
    const ZERO: [f32; 2] = [0.0; 2];
    #[inline(always)]
    fn step([ab, bb]: &mut [f32; 2], q: f32, x: f32) {
        *ab += q * x;
        *bb += x * x;
    }
    #[inline(always)]
    fn finish(acc: [[f32; 2]; LANES], aa: f32) -> f32 {
        CosineParts {
            ab: reduce_lanes(acc.map(|l| l[0])),
            aa,
            bb: reduce_lanes(acc.map(|l| l[1])),
        }
        .distance()
    }
}

/// One query against many rows, as `scalar::scan_f32_scalar` computes it.
pub(super) fn scan_f32_wasm_scalar(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    match metric {
        Metric::Dot => scan_with::<DotScan>(query, rows, out, ()),
        Metric::L2sq => scan_with::<L2sqScan>(query, rows, out, ()),
        Metric::Cosine => {
            let aa = dot_f32_scalar(query, query);
            scan_with::<CosineScan>(query, rows, out, aa)
        }
    }
}

#[inline(always)]
fn scan_with<M: ScanMetric>(query: &[f32], rows: &[f32], out: &mut [f32], ctx: M::Ctx) {
    let dims = query.len();
    if dims == 0 {
        return;
    }
    let n_rows = out.len().min(rows.len() / dims);
    let blocks = dims / BLOCK;
    let done = blocks * BLOCK;
    let mut parts = [[M::ZERO; LANES]; GROUP];
    for (outs, group) in out[..n_rows]
        .chunks_mut(GROUP)
        .zip(rows.chunks(GROUP * dims))
    {
        let parts = &mut parts[..outs.len()];
        parts.fill([M::ZERO; LANES]);
        for b in 0..blocks {
            // SAFETY: the group holds `parts.len()` rows of `dims` elements, and block `b`
            // reads elements `32 b .. 32 (b + 1) <= dims` of them and of the query.
            unsafe { scan_block32::<M>(query.as_ptr(), group.as_ptr(), dims, b * BLOCK, parts) };
        }
        for ((o, acc), row) in outs
            .iter_mut()
            .zip(parts.iter_mut())
            .zip(group.chunks(dims))
        {
            // The rest of the row; `done` is a multiple of 8, so element i is lane i % 8.
            for (i, (&q, &x)) in query[done..].iter().zip(&row[done..]).enumerate() {
                M::step(&mut acc[i % LANES], q, x);
            }
            *o = M::finish(*acc, ctx);
        }
    }
}

/// Defines `$name`, which adds query elements `at .. at + B` (`B` = the number of indices
/// listed, a multiple of 8; `at` a multiple of 8) against the same elements of each of
/// `parts.len()` rows (`dims` apart, the first at `rows`), two rows per iteration, with the
/// query elements in locals. See `scan_block!` in `simd128/distance.rs`.
///
/// # Safety (of the defined function)
/// Elements `at .. at + B` of the query and of each of the `parts.len()` rows must be
/// readable.
macro_rules! scan_block {
    ($name:ident: $($k:literal)+) => {
        #[inline(always)]
        unsafe fn $name<M: ScanMetric>(
            query: *const f32,
            rows: *const f32,
            dims: usize,
            at: usize,
            parts: &mut [[M::Lane; LANES]],
        ) {
            // SAFETY: the caller's contract.
            let qv = unsafe { [$(*query.add(at + $k)),+] };
            let mut p = rows.wrapping_add(at);
            let mut pairs = parts.chunks_exact_mut(2);
            for pair in &mut pairs {
                let (mut a, mut b) = (pair[0], pair[1]);
                let q = p.wrapping_add(dims);
                $(
                    // SAFETY: element k of both rows is readable (the caller's contract).
                    let (xa, xb) = unsafe { (*p.add($k), *q.add($k)) };
                    M::step(&mut a[$k % LANES], qv[$k], xa);
                    M::step(&mut b[$k % LANES], qv[$k], xb);
                )+
                (pair[0], pair[1]) = (a, b);
                p = p.wrapping_add(2 * dims);
            }
            if let [last] = pairs.into_remainder() {
                let mut a = *last;
                $(
                    // SAFETY: element k of this row is readable (the caller's contract).
                    let xa = unsafe { *p.add($k) };
                    M::step(&mut a[$k % LANES], qv[$k], xa);
                )+
                *last = a;
            }
        }
    };
}

scan_block!(scan_block32: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
