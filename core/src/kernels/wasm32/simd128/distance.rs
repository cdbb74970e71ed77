//! WebAssembly 128-bit SIMD distance kernels.
//!
//! `simd128` is a compile-time feature (this module only exists when it is on), so unlike the
//! x86_64 kernels these are plain safe functions: the only `unsafe` is the raw-pointer loads.
//! Every function accepts slices of different lengths and works on the common prefix, so no
//! caller can make it read out of bounds, and none of them can panic.
//!
//! # Shaped for an interpreter
//!
//! These kernels run at native speed under V8, but their main customer is the wasmi
//! interpreter, where every wasm operator costs a dispatch (and a unit of fuel). So the loops
//! are shaped by what measured fastest in wasmi 2.0, not by what a superscalar CPU likes
//! (the one exception is the one-to-many scan, which has a second shape for compiling engines,
//! chosen with [`engine_hint`]; see [`scan_f32_simd128`]):
//!
//! * Every hot loop is [`for_each_block`]: loads with folded offsets, two address bumps, a
//!   counter and a branch, and no other address arithmetic.
//! * f32 loops take 16 elements per iteration into two `f32x4` accumulators (the dot loop is
//!   8 loads, 4 `f32x4.mul`, 4 `f32x4.add`, 3 `i32.add`, 1 `br_if`: 1.25 operators per
//!   element). In wasmi that beat 8 per iteration by ~15% and 32 per iteration by ~10%; 4
//!   accumulators instead of 2 made no difference. Plain simd128 has no FMA; relaxed-simd
//!   was slower in wasmi and is not used.
//! * The integer kernels use the operators that are cheap in wasmi (see [`dot_i8x16`] and
//!   [`popcount128`]).
//!
//! # Same results as the scalar kernels
//!
//! The two f32 accumulators hold the same 8 partial sums as the scalar kernel (element `i`
//! goes to lane `i % 8`, tails included, zero-padded lanes add `+0`), multiply and add are
//! rounded separately in both, and the final reduction adds the lanes in the same pairwise
//! order. The f32 results are therefore bit-identical to [`scalar`](crate::kernels::scalar::distance),
//! which keeps the interpreted and native-scalar backends in exact agreement. Integer and
//! bit-count results are exact (wrapping modulo 2^32 past 65536 i8 elements, as scalar).

use core::arch::wasm32::*;
use core::ptr::with_exposed_provenance;

use crate::kernels::scalar::distance::{
    dot_i8_scalar, l2sq_i8_scalar, popcount_with, scale_to_unit,
};
use crate::kernels::{engine_hint, Bf16, CosineParts, EngineHint, Metric, F16};

/// Loads 4 f32 starting at `p`.
///
/// # Safety
/// `p .. p + 4` must be readable. There is no alignment requirement.
#[inline(always)]
unsafe fn load4(p: *const f32) -> v128 {
    // SAFETY: the caller's contract; `v128.load` is a 1-aligned load.
    unsafe { v128_load(p.cast()) }
}

/// Loads the first `r` (1..=3) f32 at `p` into lanes `0..r` and zeroes the other lanes.
///
/// # Safety
/// `p .. p + r` must be readable.
#[inline(always)]
unsafe fn load_partial(p: *const f32, r: usize) -> v128 {
    debug_assert!((1..=3).contains(&r));
    // SAFETY: the caller's contract: lanes 0..r are readable, nothing past them is read.
    // `load32_zero` / `load64_zero` are 1-aligned loads.
    unsafe {
        match r {
            1 => v128_load32_zero(p.cast()),
            2 => v128_load64_zero(p.cast()),
            _ => f32x4_replace_lane::<2>(v128_load64_zero(p.cast()), *p.add(2)),
        }
    }
}

/// `(v0 + v2) + (v1 + v3)`: with `v = acc0 + acc1` this is exactly the scalar kernel's
/// pairwise reduction of its 8 lanes.
#[inline(always)]
fn reduce_f32(v: v128) -> f32 {
    let s = f32x4_add(v, i32x4_shuffle::<2, 3, 2, 3>(v, v));
    f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s)
}

/// Calls `body` on `blocks` consecutive blocks of `BYTES` bytes of each input, starting at
/// `pa` and at `pb`.
///
/// This is the one loop every hot kernel runs, written so that LLVM emits what an
/// interpreter runs fastest: each load is a `v128.load offset=k` from the block's address
/// and the loop adds only two address bumps, a counter and a branch. A plain pointer loop
/// does not get there: loop strength reduction rewrites pointer induction variables and drops
/// the `nuw` flags that let the wasm backend fold `p + 16` into a load's offset immediate,
/// which costs an `i32.add` per load. Carrying the addresses as integers (re-derived with
/// their exposed provenance, see [`Block`]) keeps them out of that rewrite. Bumping the
/// addresses before the loads rather than after keeps the old and the new address from being
/// live at once, which would cost a `local.tee` copy per address per iteration.
///
/// # Safety
/// `blocks * BYTES` bytes must be readable from both `pa` and `pb`.
#[inline(always)]
unsafe fn for_each_block<const BYTES: usize, T>(
    pa: *const T,
    pb: *const T,
    blocks: usize,
    mut body: impl FnMut(Block<BYTES>),
) {
    let mut a = pa.expose_provenance().wrapping_sub(BYTES);
    let mut b = pb.expose_provenance().wrapping_sub(BYTES);
    for _ in 0..blocks {
        a = a.wrapping_add(BYTES);
        b = b.wrapping_add(BYTES);
        body(Block { a, b });
    }
}

/// The addresses of one block of `BYTES` bytes of each input, as [`for_each_block`] hands
/// them out.
///
/// Invariant: `BYTES` bytes are readable at both addresses, whose provenance is exposed. The
/// addresses are plain integers (passed in registers) rather than pointers so that LLVM's
/// argument promotion cannot rebuild the loads' address arithmetic without its `nuw` flag
/// before the body is inlined.
#[derive(Clone, Copy)]
struct Block<const BYTES: usize> {
    a: usize,
    b: usize,
}

impl<const BYTES: usize> Block<BYTES> {
    /// The 16 bytes at byte offset `OFF` of this block of `a` and of `b`.
    #[inline(always)]
    fn load<const OFF: usize>(self) -> (v128, v128) {
        const { assert!(OFF + 16 <= BYTES) };
        let pa = with_exposed_provenance::<u8>(self.a);
        let pb = with_exposed_provenance::<u8>(self.b);
        // SAFETY: by the type's invariant `BYTES` bytes are readable at both addresses, and
        // OFF + 16 <= BYTES. `v128.load` is a 1-aligned load.
        unsafe { (v128_load(pa.add(OFF).cast()), v128_load(pb.add(OFF).cast())) }
    }
}

/// Runs `step(acc, x, y)` over the common prefix of `a` and `b`, 4 elements at a time and 16
/// per loop iteration, with elements `8k .. 8k + 4` going to `acc[0]` and `8k + 4 .. 8k + 8`
/// to `acc[1]` (the scalar kernel's lane assignment). A tail of 1..=3 elements is
/// zero-padded.
#[inline(always)]
fn fold_f32<A>(a: &[f32], b: &[f32], mut acc: [A; 2], step: impl Fn(&mut A, v128, v128)) -> [A; 2] {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let [acc0, acc1] = &mut acc;
    // SAFETY: n / 16 blocks of 16 f32 lie within the common prefix; the body reads only
    // elements 0..16 of each block.
    unsafe {
        for_each_block::<64, f32>(pa, pb, n / 16, |block| {
            let (x, y) = block.load::<0>();
            step(acc0, x, y);
            let (x, y) = block.load::<16>();
            step(acc1, x, y);
            let (x, y) = block.load::<32>();
            step(acc0, x, y);
            let (x, y) = block.load::<48>();
            step(acc1, x, y);
        })
    };
    let mut done = n & !15;
    if n - done >= 8 {
        // SAFETY: elements done..done + 8 are within the common prefix.
        let (x0, y0, x1, y1) = unsafe {
            let (qa, qb) = (pa.add(done), pb.add(done));
            (load4(qa), load4(qb), load4(qa.add(4)), load4(qb.add(4)))
        };
        step(acc0, x0, y0);
        step(acc1, x1, y1);
        done += 8;
    }
    let rest = n - done;
    if rest >= 4 {
        // SAFETY: elements done..done + 4 are within the common prefix.
        let (x, y) = unsafe { (load4(pa.add(done)), load4(pb.add(done))) };
        step(acc0, x, y);
        if rest > 4 {
            // SAFETY: elements done + 4..n (1..=3 of them) are within the common prefix.
            let (x, y) = unsafe {
                (
                    load_partial(pa.add(done + 4), rest - 4),
                    load_partial(pb.add(done + 4), rest - 4),
                )
            };
            step(acc1, x, y);
        }
    } else if rest > 0 {
        // SAFETY: elements done..n (1..=3 of them) are within the common prefix.
        let (x, y) = unsafe {
            (
                load_partial(pa.add(done), rest),
                load_partial(pb.add(done), rest),
            )
        };
        step(acc0, x, y);
    }
    acc
}

/// Inner product.
#[inline]
pub(crate) fn dot_f32_simd128(a: &[f32], b: &[f32]) -> f32 {
    let zero = f32x4_splat(0.0);
    let [acc0, acc1] = fold_f32(a, b, [zero; 2], |acc, x, y| {
        *acc = f32x4_add(*acc, f32x4_mul(x, y))
    });
    reduce_f32(f32x4_add(acc0, acc1))
}

/// Half-precision row elements, converted exactly to f32 lanes on load.
trait HalfElem: Copy + Default {
    /// 4 elements from `p` as f32 lanes.
    ///
    /// # Safety
    /// `p` must have 4 readable elements.
    unsafe fn load4(p: *const Self) -> v128;
}

impl HalfElem for F16 {
    #[inline(always)]
    unsafe fn load4(p: *const F16) -> v128 {
        // SAFETY: the caller vouches for 4 readable elements (`F16` is a transparent u16);
        // the load is 1-aligned.
        let h = unsafe { u32x4_load_extend_u16x4(p.cast()) };
        // `F16::to_f32` lane-wise, in the same steps (so the same bits, NaNs included).
        let shifted_exp = u32x4_splat(0x7c00 << 13);
        let o = i32x4_shl(v128_and(h, u32x4_splat(0x7fff)), 13);
        let exp = v128_and(o, shifted_exp);
        let o = i32x4_add(o, u32x4_splat((127 - 15) << 23));
        let inf_nan = i32x4_add(o, u32x4_splat((128 - 16) << 23));
        let is_nan = v128_and(
            i32x4_eq(exp, shifted_exp),
            v128_not(i32x4_eq(
                v128_and(inf_nan, u32x4_splat(0x7f_ffff)),
                u32x4_splat(0),
            )),
        );
        let inf_nan = v128_or(inf_nan, v128_and(is_nan, u32x4_splat(0x40_0000)));
        let sub = f32x4_sub(
            i32x4_add(o, u32x4_splat(1 << 23)),
            f32x4_splat(f32::from_bits(113 << 23)),
        );
        let o = v128_bitselect(inf_nan, o, i32x4_eq(exp, shifted_exp));
        let o = v128_bitselect(sub, o, i32x4_eq(exp, u32x4_splat(0)));
        v128_or(o, i32x4_shl(v128_and(h, u32x4_splat(0x8000)), 16))
    }
}

impl HalfElem for Bf16 {
    #[inline(always)]
    unsafe fn load4(p: *const Bf16) -> v128 {
        // SAFETY: the caller vouches for 4 readable elements (`Bf16` is a transparent u16);
        // the load is 1-aligned. A bf16 is the top half of an f32.
        i32x4_shl(unsafe { u32x4_load_extend_u16x4(p.cast()) }, 16)
    }
}

/// The first `r < 4` elements at `p`, zero-padded.
#[inline(always)]
fn load_half_tail<T: HalfElem>(chunk: &[T]) -> v128 {
    let mut lanes = [T::default(); 4];
    lanes[..chunk.len()].copy_from_slice(chunk);
    // SAFETY: `lanes` is 4 readable elements.
    unsafe { T::load4(lanes.as_ptr()) }
}

/// Elements per conversion block: a multiple of [`fold_f32`]'s 16, so that every element
/// keeps its accumulator, lane and place in that lane's order.
const HALF_BLOCK: usize = 64;

/// Writes the f32 values of `src` (at most [`HALF_BLOCK`] elements) into `dst`.
///
/// Not inlined: one copy per element type, called once per block, instead of the conversion
/// inside every kernel's loop (that cost 4.5 KB of wasm for six kernels).
#[inline(never)]
fn convert_block<T: HalfElem>(src: &[T], dst: &mut [f32; HALF_BLOCK]) {
    let chunks = src.chunks_exact(4);
    let tail = chunks.remainder();
    let mut out = dst.chunks_exact_mut(4);
    for (s, d) in chunks.zip(&mut out) {
        // SAFETY: `s` is 4 readable elements, `d` 4 writable f32.
        unsafe { v128_store(d.as_mut_ptr().cast(), T::load4(s.as_ptr())) };
    }
    if !tail.is_empty() {
        if let Some(d) = out.next() {
            // SAFETY: `d` is 4 writable f32.
            unsafe { v128_store(d.as_mut_ptr().cast(), load_half_tail(tail)) };
        }
    }
}

/// [`fold_f32`] over `a` and the f32 values of the half-precision `b`, converted a block at a
/// time and handed to `fold` (a [`fold_f32`] instance): the same accumulators, lanes and
/// order, so the same bits as the f32 kernel on the converted row.
#[inline(always)]
fn fold_half<T: HalfElem, A>(
    a: &[f32],
    b: &[T],
    mut acc: A,
    fold: impl Fn(&[f32], &[f32], A) -> A,
) -> A {
    let n = a.len().min(b.len());
    let mut buf = [0.0f32; HALF_BLOCK];
    for (ca, cb) in a[..n].chunks(HALF_BLOCK).zip(b[..n].chunks(HALF_BLOCK)) {
        convert_block(cb, &mut buf);
        acc = fold(ca, &buf[..cb.len()], acc);
    }
    acc
}

// The folds the half kernels of both element types share (not inlined: one copy each).

#[inline(never)]
fn fold_dot_f32(a: &[f32], b: &[f32], acc: [v128; 2]) -> [v128; 2] {
    fold_f32(a, b, acc, |acc, x, y| {
        *acc = f32x4_add(*acc, f32x4_mul(x, y))
    })
}

#[inline(never)]
fn fold_l2sq_f32(a: &[f32], b: &[f32], acc: [v128; 2]) -> [v128; 2] {
    fold_f32(a, b, acc, |acc, x, y| {
        let d = f32x4_sub(x, y);
        *acc = f32x4_add(*acc, f32x4_mul(d, d))
    })
}

#[inline(never)]
fn fold_cosine_f32(a: &[f32], b: &[f32], acc: [[v128; 3]; 2]) -> [[v128; 3]; 2] {
    fold_f32(a, b, acc, |[ab, aa, bb], x, y| {
        *ab = f32x4_add(*ab, f32x4_mul(x, y));
        *aa = f32x4_add(*aa, f32x4_mul(x, x));
        *bb = f32x4_add(*bb, f32x4_mul(y, y));
    })
}

/// The half-precision kernels: the f32 kernels' arithmetic over rows converted a block at a
/// time, so the same bits as the scalar kernels.
macro_rules! half_kernels_simd128 {
    ($t:ty, $dot:ident, $l2sq:ident, $cosine:ident) => {
        /// Inner product of an f32 query and a half-precision row.
        #[inline]
        pub(crate) fn $dot(a: &[f32], b: &[$t]) -> f32 {
            let [acc0, acc1] = fold_half(a, b, [f32x4_splat(0.0); 2], fold_dot_f32);
            reduce_f32(f32x4_add(acc0, acc1))
        }

        /// Squared Euclidean distance of an f32 query and a half-precision row.
        #[inline]
        pub(crate) fn $l2sq(a: &[f32], b: &[$t]) -> f32 {
            let [acc0, acc1] = fold_half(a, b, [f32x4_splat(0.0); 2], fold_l2sq_f32);
            reduce_f32(f32x4_add(acc0, acc1))
        }

        /// The three sums of a cosine distance of an f32 query and a half-precision row.
        #[inline]
        pub(crate) fn $cosine(a: &[f32], b: &[$t]) -> CosineParts {
            let [p0, p1] = fold_half(a, b, [[f32x4_splat(0.0); 3]; 2], fold_cosine_f32);
            let part = |k: usize| reduce_f32(f32x4_add(p0[k], p1[k]));
            CosineParts {
                ab: part(0),
                aa: part(1),
                bb: part(2),
            }
        }
    };
}

half_kernels_simd128!(
    F16,
    dot_f16_simd128,
    l2sq_f16_simd128,
    cosine_parts_f16_simd128
);
half_kernels_simd128!(
    Bf16,
    dot_bf16_simd128,
    l2sq_bf16_simd128,
    cosine_parts_bf16_simd128
);

/// Squared Euclidean distance.
#[inline]
pub(crate) fn l2sq_f32_simd128(a: &[f32], b: &[f32]) -> f32 {
    let zero = f32x4_splat(0.0);
    let [acc0, acc1] = fold_f32(a, b, [zero; 2], |acc, x, y| {
        let d = f32x4_sub(x, y);
        *acc = f32x4_add(*acc, f32x4_mul(d, d));
    });
    reduce_f32(f32x4_add(acc0, acc1))
}

/// The three sums of a cosine distance, 8 partial sums each.
pub(crate) fn cosine_parts_f32_simd128(a: &[f32], b: &[f32]) -> CosineParts {
    let zero = f32x4_splat(0.0);
    let [s0, s1] = fold_f32(a, b, [[zero; 3]; 2], |[ab, aa, bb], x, y| {
        *ab = f32x4_add(*ab, f32x4_mul(x, y));
        *aa = f32x4_add(*aa, f32x4_mul(x, x));
        *bb = f32x4_add(*bb, f32x4_mul(y, y));
    });
    CosineParts {
        ab: reduce_f32(f32x4_add(s0[0], s1[0])),
        aa: reduce_f32(f32x4_add(s0[1], s1[1])),
        bb: reduce_f32(f32x4_add(s0[2], s1[2])),
    }
}

/// Multiplies every element by `s`.
#[inline(always)]
fn scale_f32(x: &mut [f32], s: f32) {
    let vs = f32x4_splat(s);
    let mut chunks = x.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let p = chunk.as_mut_ptr();
        // SAFETY: `chunk` is 4 f32 = 16 bytes we borrow mutably; both accesses are 1-aligned.
        unsafe { v128_store(p.cast(), f32x4_mul(v128_load(p.cast()), vs)) };
    }
    chunks.into_remainder().iter_mut().for_each(|v| *v *= s);
}

/// In-place L2 normalization; returns the norm before scaling.
pub(crate) fn l2_normalize_f32_simd128(x: &mut [f32]) -> f32 {
    let norm_sq = dot_f32_simd128(x, x);
    scale_to_unit(x, norm_sq, scale_f32)
}

/// One query against many rows, in the loop shape that suits what runs the module
/// ([`engine_hint`]); both shapes return the same bits.
///
/// * Compiled (V8, wasmtime; the default): [`scan_rows_with`] keeps several rows' partial
///   sums in registers and loads each query chunk once for all of them.
/// * Interpreted (wasmi): [`scan_f32_with`] holds 64 query elements at a time in wasm locals
///   (wasmi slots) and only loads the rows: per 4 elements a dot costs `v128.load` +
///   `f32x4.mul` + `f32x4.add` (3 operators, the pairwise loop takes 5), squared L2 one
///   `f32x4.sub` more, and cosine gets the dot and the row's squared norm in the same pass (5
///   operators instead of 10 over two passes). See `scan_block!` for the loop. In V8 that
///   shape ran 6-12x slower than the compiled one (dot, 20,000 x 384: 8.3-16.5 against
///   1.3-1.4 ms; 16 query locals do not fit x64's vector registers), and the compiled one
///   costs wasmi up to 20% (wasm/README.md, "Scan speed").
///
/// Either way the query's cosine norm is computed once per call, and the results are the bits
/// of the scalar scan: each row's sums use the same lanes and the same order (query chunks
/// are taken in order, element `8k + j` into lane `j`).
pub(crate) fn scan_f32_simd128(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    let interpreted = engine_hint() == EngineHint::Interpreter;
    match metric {
        Metric::Dot if interpreted => scan_f32_with::<DotScan>(query, rows, out, ()),
        Metric::Dot => scan_rows_with::<DotScan, 2, 4>(query, rows, out, ()),
        Metric::L2sq if interpreted => scan_f32_with::<L2sqScan>(query, rows, out, ()),
        Metric::L2sq => scan_rows_with::<L2sqScan, 2, 4>(query, rows, out, ()),
        Metric::Cosine => {
            let aa = dot_f32_simd128(query, query);
            match interpreted {
                true => scan_f32_with::<CosineScan>(query, rows, out, aa),
                false => scan_rows_with::<CosineScan, 2, 4>(query, rows, out, aa),
            }
        }
    }
}

/// The scan for a compiling engine: `R` rows at a time (2 for every metric), walking the
/// query 8 elements per step (one `v128.load` per query chunk, shared by the `R` rows), with
/// every row's two partial-sum vectors in locals, which a JIT keeps in registers. The rows
/// come from `STREAMS` streams `per` rows apart, each read front to back: row `i` of streams
/// 0 and 1, then row `i` of streams 2 and 3, and so on. Each row's last 1..=7 elements, and
/// the rows after the last whole group, go through [`fold_f32`].
///
/// What V8 (x64) needs, measured in Node 20 on hand-written loops and on this one (20,000 x
/// 384 and, compute-bound, 1,000 x 384; `bindings/js/bench/scan.mjs`):
///
/// * One step per loop iteration, addresses as exposed integers bumped by 32 and loads with
///   immediate offsets. V8 schedules a basic block's loads first, so unrolled steps (or 4
///   rows at a time) keep more loaded vectors live than x64's 16 vector registers hold and
///   spill the accumulators every iteration: cosine with 2 rows and 2 steps per iteration
///   took 1.3-1.4 ms, with 1 step 0.95. (LLVM and V8 may still unroll the loop; their copies
///   are separated by the exit test, which keeps the loads in their own step.)
/// * 2 rows at a time beat 4 in V8 for every metric (dot 27 against 37-44 ns per row, squared
///   L2 31 against 39-44, hand-written loops), and 4 streams beat 2 (cosine 36 against 45 ns
///   per row at 20,000 rows, the same at 1,000): more rows in flight for the hardware
///   prefetcher, with no more registers. Neighbouring rows instead of streams ran 5-6x slower.
/// * Cosine finishes its rows a pair at a time, in batches ([`ScanMetric::PAIRS`],
///   [`finish_pairs`]).
#[inline(never)]
fn scan_rows_with<M: ScanMetric, const R: usize, const STREAMS: usize>(
    query: &[f32],
    rows: &[f32],
    out: &mut [f32],
    ctx: M::Ctx,
) {
    let dims = query.len();
    if dims == 0 {
        return;
    }
    let n_rows = out.len().min(rows.len() / dims);
    // STREAMS streams of `per` consecutive rows each; the `tail` rows after them go one by one.
    let per = n_rows / STREAMS;
    let tail = per * STREAMS;
    let seg = per * dims;
    let steps = dims / 8;
    let done = steps * 8;
    // Pairs of rows whose distances are pending: their reduced sums and the first row's
    // index (the second is `per` rows later).
    let mut pending = [(f32x4_splat(0.0), 0); FINISH_BATCH];
    let mut n_pending = 0;
    for i in 0..per {
        for group in 0..STREAMS / R {
            let mut acc = [[M::ZERO; 2]; R];
            // Row `i` of streams `group R .. group R + R`, and the query, as exposed addresses
            // (see `Block`): the loads below take their offsets as immediates, and each
            // iteration only bumps the `R + 1` addresses.
            // SAFETY: row `i` of stream `s < STREAMS` starts at `s seg + i dims`, and its
            // `dims` elements end at or before `tail * dims <= rows.len()`.
            let mut at: [usize; R] = core::array::from_fn(|r| unsafe {
                rows.as_ptr()
                    .add((group * R + r) * seg + i * dims)
                    .expose_provenance()
            });
            let mut qa = query.as_ptr().expose_provenance();
            for _ in 0..steps {
                // SAFETY: step `j` reads elements `8 j .. 8 j + 8 <= done <= dims` of the query
                // and of each row.
                unsafe {
                    let pq = with_exposed_provenance::<u8>(qa);
                    let (q0, q1) = (v128_load(pq.cast()), v128_load(pq.add(16).cast()));
                    for (acc, &a) in acc.iter_mut().zip(&at) {
                        let p = with_exposed_provenance::<u8>(a);
                        M::step(&mut acc[0], q0, v128_load(p.cast()));
                        M::step(&mut acc[1], q1, v128_load(p.add(16).cast()));
                    }
                }
                qa = qa.wrapping_add(32);
                for a in &mut at {
                    *a = a.wrapping_add(32);
                }
            }
            if M::PAIRS && done == dims && R % 2 == 0 {
                for (r, pair) in acc.chunks_exact(2).enumerate() {
                    if let Some(slot) = pending.get_mut(n_pending) {
                        *slot = (
                            M::reduce_pair([pair[0], pair[1]], ctx),
                            (group * R + 2 * r) * per + i,
                        );
                    }
                    n_pending += 1;
                    if n_pending == FINISH_BATCH {
                        finish_pairs::<M>(&pending, out, per, ctx);
                        n_pending = 0;
                    }
                }
                continue;
            }
            for (r, acc) in acc.into_iter().enumerate() {
                let row = (group * R + r) * per + i;
                out[row] = match done < dims {
                    true => fold_finish::<M>(
                        &query[done..],
                        &rows[row * dims + done..(row + 1) * dims],
                        acc,
                        ctx,
                    ),
                    false => M::finish(acc, ctx),
                };
            }
        }
    }
    finish_pairs::<M>(&pending[..n_pending.min(FINISH_BATCH)], out, per, ctx);
    for (o, row) in out[tail..n_rows]
        .iter_mut()
        .zip(rows[tail * dims..].chunks_exact(dims))
    {
        *o = fold_finish::<M>(query, row, [M::ZERO; 2], ctx);
    }
}

/// Pairs of rows [`scan_rows_with`] reduces before it computes their distances
/// ([`finish_pairs`]). 8, 16 and 32 ran as fast in V8; LLVM unrolls the loop over a whole
/// batch, so 8 is the smallest (16 took 0.8 KB more of the module, 32 2.4 KB).
const FINISH_BATCH: usize = 8;

/// The distances of the `pending` pairs of rows (reduced sums, first row's index; the second
/// row is `per` rows later), written to `out`. The square roots and divisions of a batch
/// are independent and overlap in the CPU, where the one chain right after each row's loop
/// stalled it. In V8 (cosine, 20,000 x 384, one run): 0.91 ms finishing each row after its
/// loop, 0.88 finishing each pair on an `f64x2`, 0.80-0.82 in batches, 0.75 with no finish
/// at all.
#[inline(never)]
fn finish_pairs<M: ScanMetric>(
    pending: &[(v128, usize)],
    out: &mut [f32],
    per: usize,
    ctx: M::Ctx,
) {
    for &(sums, row) in pending {
        let [a, b] = M::finish_pair(sums, ctx);
        out[row] = a;
        out[row + per] = b;
    }
}

/// [`fold_f32`] of `query` and `row` into `acc`, then the distance: the tails of
/// [`scan_rows_with`], out of line so that its `R` unrolled rows share one copy (inlined,
/// they made the simd module 1.8 KB larger, past its size budget).
#[inline(never)]
fn fold_finish<M: ScanMetric>(query: &[f32], row: &[f32], acc: [M::Lane; 2], ctx: M::Ctx) -> f32 {
    M::finish(fold_f32(query, row, acc, M::step), ctx)
}

/// Query chunks (of 4 f32) a scan block holds in locals: 64 elements. Each block costs a
/// row its partial sums in and out once; the elements past the last whole block (and all of
/// a query shorter than one) go through [`fold_f32`]. Measured in wasmi (scan of 20,000 x
/// 384, thread CPU time): 16 chunks beat 32 by ~4% (each accumulator's dependency chain per
/// block is shorter; see `scan_block!`) and 8 chunks by 15-25% (more partial sums traffic).
const SCAN_BLOCK: usize = 16;
/// Rows whose partial sums a scan keeps on the stack while it walks the query blocks (2 KB
/// of `v128` for cosine); their data (48 KB at d = 384) stays in cache meanwhile.
const SCAN_GROUP: usize = 32;

/// What a scan metric accumulates per row and how that becomes a distance.
trait ScanMetric {
    /// The sums of one parity: `f32x4` accumulators of the even chunks (elements `8k..8k+4`)
    /// or of the odd ones (`8k+4..8k+8`), as in the scalar kernel's 8 lanes.
    type Lane: Copy;
    /// Per-call data for [`finish`](Self::finish) (the query's squared norm for cosine).
    type Ctx: Copy;
    const ZERO: Self::Lane;
    /// Adds row chunk `x` against query chunk `q`.
    fn step(lane: &mut Self::Lane, q: v128, x: v128);
    /// The distance from a row's even and odd sums.
    fn finish(acc: [Self::Lane; 2], ctx: Self::Ctx) -> f32;
    /// Whether [`scan_rows_with`] computes this metric's distances a batch of pairs of rows
    /// at a time ([`reduce_pair`](Self::reduce_pair), [`finish_pairs`]) rather than per row.
    const PAIRS: bool = false;
    /// What [`finish_pair`](Self::finish_pair) needs of two rows' sums, as one vector.
    #[inline(always)]
    fn reduce_pair([a, b]: [[Self::Lane; 2]; 2], ctx: Self::Ctx) -> v128 {
        f32x4(Self::finish(a, ctx), Self::finish(b, ctx), 0.0, 0.0)
    }
    /// The two rows' distances (the bits of [`finish`](Self::finish)) from
    /// [`reduce_pair`](Self::reduce_pair)'s vector.
    #[inline(always)]
    fn finish_pair(sums: v128, _ctx: Self::Ctx) -> [f32; 2] {
        [f32x4_extract_lane::<0>(sums), f32x4_extract_lane::<1>(sums)]
    }
}

struct DotScan;
impl ScanMetric for DotScan {
    type Lane = v128;
    type Ctx = ();
    const ZERO: v128 = f32x4(0.0, 0.0, 0.0, 0.0);
    #[inline(always)]
    fn step(lane: &mut v128, q: v128, x: v128) {
        *lane = f32x4_add(*lane, f32x4_mul(q, x));
    }
    #[inline(always)]
    fn finish([a0, a1]: [v128; 2], (): ()) -> f32 {
        -reduce_f32(f32x4_add(a0, a1))
    }
}

struct L2sqScan;
impl ScanMetric for L2sqScan {
    type Lane = v128;
    type Ctx = ();
    const ZERO: v128 = f32x4(0.0, 0.0, 0.0, 0.0);
    #[inline(always)]
    fn step(lane: &mut v128, q: v128, x: v128) {
        let d = f32x4_sub(q, x);
        *lane = f32x4_add(*lane, f32x4_mul(d, d));
    }
    #[inline(always)]
    fn finish([a0, a1]: [v128; 2], (): ()) -> f32 {
        reduce_f32(f32x4_add(a0, a1))
    }
}

struct CosineScan;
impl ScanMetric for CosineScan {
    /// `[query . row, row . row]`.
    type Lane = [v128; 2];
    /// The query's squared norm.
    type Ctx = f32;
    const ZERO: [v128; 2] = [f32x4(0.0, 0.0, 0.0, 0.0); 2];
    #[inline(always)]
    fn step([ab, bb]: &mut [v128; 2], q: v128, x: v128) {
        *ab = f32x4_add(*ab, f32x4_mul(q, x));
        *bb = f32x4_add(*bb, f32x4_mul(x, x));
    }
    #[inline(always)]
    fn finish([[ab0, bb0], [ab1, bb1]]: [[v128; 2]; 2], aa: f32) -> f32 {
        CosineParts {
            ab: reduce_f32(f32x4_add(ab0, ab1)),
            aa,
            bb: reduce_f32(f32x4_add(bb0, bb1)),
        }
        .distance()
    }
    const PAIRS: bool = true;
    /// Both rows' three sums reduced in one vector, `[ab_a, ab_b, bb_a, bb_b]`, each in
    /// [`reduce_f32`]'s order.
    #[inline(always)]
    fn reduce_pair([[a0, a1], [b0, b1]]: [[[v128; 2]; 2]; 2], _aa: f32) -> v128 {
        let (ab_a, bb_a) = (f32x4_add(a0[0], a1[0]), f32x4_add(a0[1], a1[1]));
        let (ab_b, bb_b) = (f32x4_add(b0[0], b1[0]), f32x4_add(b0[1], b1[1]));
        // `[v0 + v2, v1 + v3]` of each sum, then the sum of those two lanes.
        let ta = f32x4_add(
            i32x4_shuffle::<0, 1, 4, 5>(ab_a, bb_a),
            i32x4_shuffle::<2, 3, 6, 7>(ab_a, bb_a),
        );
        let tb = f32x4_add(
            i32x4_shuffle::<0, 1, 4, 5>(ab_b, bb_b),
            i32x4_shuffle::<2, 3, 6, 7>(ab_b, bb_b),
        );
        f32x4_add(
            i32x4_shuffle::<0, 4, 2, 6>(ta, tb),
            i32x4_shuffle::<1, 5, 3, 7>(ta, tb),
        )
    }
    /// [`CosineParts::distance`]'s f64 arithmetic for both rows on an `f64x2`: one square
    /// root and one division per pair. The special cases (a NaN, a zero norm) take the
    /// scalar path.
    #[inline(always)]
    fn finish_pair(sums: v128, aa: f32) -> [f32; 2] {
        let ab = f64x2_promote_low_f32x4(sums);
        let bb = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(sums, sums));
        let zero = f64x2_splat(0.0);
        // `aa > 0`, `bb > 0` and `ab == ab` rule out every special case of `distance`.
        if aa > 0.0 && i64x2_all_true(v128_and(f64x2_gt(bb, zero), f64x2_eq(ab, ab))) {
            let cos = f64x2_div(ab, f64x2_sqrt(f64x2_mul(f64x2_splat(aa as f64), bb)));
            // `pmax(d, 0)` is `d < 0 ? 0 : d` and `pmin(d, 2)` is `2 < d ? 2 : d`: the
            // clamp of `distance`, which lets a NaN through.
            let d = f64x2_sub(f64x2_splat(1.0), cos);
            let d = f64x2_pmin(f64x2_pmax(d, zero), f64x2_splat(2.0));
            let d = f32x4_demote_f64x2_zero(d);
            [f32x4_extract_lane::<0>(d), f32x4_extract_lane::<1>(d)]
        } else {
            let parts = |ab, bb| CosineParts { ab, aa, bb }.distance();
            [
                parts(f32x4_extract_lane::<0>(sums), f32x4_extract_lane::<2>(sums)),
                parts(f32x4_extract_lane::<1>(sums), f32x4_extract_lane::<3>(sums)),
            ]
        }
    }
}

/// The scan for one metric: rows in groups of [`SCAN_GROUP`]; each group is swept by the
/// whole query blocks (an even number of chunks each, so chunk parity is block-local), then
/// each row's remaining 0..=63 elements are folded in, then the distances are written.
#[inline(always)]
fn scan_f32_with<M: ScanMetric>(query: &[f32], rows: &[f32], out: &mut [f32], ctx: M::Ctx) {
    let dims = query.len();
    if dims == 0 {
        return;
    }
    let n_rows = out.len().min(rows.len() / dims);
    let blocks = dims / (4 * SCAN_BLOCK);
    let done = blocks * 4 * SCAN_BLOCK;
    let mut parts = [[M::ZERO; 2]; SCAN_GROUP];
    for (outs, group) in out[..n_rows]
        .chunks_mut(SCAN_GROUP)
        .zip(rows.chunks(SCAN_GROUP * dims))
    {
        let parts = &mut parts[..outs.len()];
        parts.fill([M::ZERO; 2]);
        for b in 0..blocks {
            // SAFETY: the group holds `parts.len()` rows of `dims` elements, and block `b`
            // reads elements `64 b .. 64 (b + 1) <= dims` of them and of the query.
            unsafe {
                scan_block16::<M>(
                    query.as_ptr(),
                    group.as_ptr(),
                    dims,
                    b * 4 * SCAN_BLOCK,
                    parts,
                )
            };
        }
        for ((o, acc), row) in outs.iter_mut().zip(parts.iter()).zip(group.chunks(dims)) {
            let acc = match done < dims {
                true => fold_f32(&query[done..], &row[done..], *acc, M::step),
                false => *acc,
            };
            *o = M::finish(acc, ctx);
        }
    }
}

/// Defines `$name`, which adds query elements `at .. at + 4 B` (`B` = the number of chunk
/// indices listed) against the same elements of each of `parts.len()` rows (`dims` f32
/// apart, the first at `rows`) to the rows' partial sums. `at` must be a multiple of 8.
///
/// The query chunks are loaded once into locals. The row loop then takes two rows at a time
/// and, per chunk and row, one `v128.load offset=16k` from the row's address and the
/// metric's arithmetic against a local; per pair of rows, the partial sums in and out, the
/// address bump and one compare-and-branch (which wasmi fuses). In the emitted wasm each
/// accumulator's adds form one expression tree (LLVM's stackifier builds trees from
/// single-use values, whatever the source order), i.e. a dependency chain through wasmi's
/// slots in memory (a store-to-load forward plus the add per step). Its latency is why
/// `f32x4.add` costs ~3x an `f32x4.mul` in a profile, and why 16-chunk blocks (shorter
/// chains) beat 32. The chunks are spelled out because LLVM does not fully unroll such a
/// loop, and then keeps the query in memory.
///
/// # Safety (of the defined function)
/// Elements `at .. at + 4 B` of the query and of each of the `parts.len()` rows must be
/// readable.
macro_rules! scan_block {
    ($name:ident: $($k:literal)+) => {
        #[inline(always)]
        unsafe fn $name<M: ScanMetric>(
            query: *const f32,
            rows: *const f32,
            dims: usize,
            at: usize,
            parts: &mut [[M::Lane; 2]],
        ) {
            // SAFETY: the caller's contract.
            let qv = unsafe { [$(load4(query.add(at + 4 * $k))),+] };
            let stride = dims * 4;
            let mut addr = rows.wrapping_add(at).expose_provenance();
            let mut pairs = parts.chunks_exact_mut(2);
            for pair in &mut pairs {
                let (mut a, mut b) = (pair[0], pair[1]);
                let pa = with_exposed_provenance::<u8>(addr);
                let pb = with_exposed_provenance::<u8>(addr.wrapping_add(stride));
                $(
                    // SAFETY: chunk k of both rows is readable (the caller's contract).
                    let (xa, xb) = unsafe {
                        (v128_load(pa.add(16 * $k).cast()), v128_load(pb.add(16 * $k).cast()))
                    };
                    M::step(&mut a[$k % 2], qv[$k], xa);
                    M::step(&mut b[$k % 2], qv[$k], xb);
                )+
                (pair[0], pair[1]) = (a, b);
                addr = addr.wrapping_add(2 * stride);
            }
            if let [last] = pairs.into_remainder() {
                let mut a = *last;
                let pa = with_exposed_provenance::<u8>(addr);
                $(
                    // SAFETY: chunk k of this row is readable (the caller's contract).
                    let xa = unsafe { v128_load(pa.add(16 * $k).cast()) };
                    M::step(&mut a[$k % 2], qv[$k], xa);
                )+
                *last = a;
            }
        }
    };
}

scan_block!(scan_block16: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);

/// `(v0 + v2) + (v1 + v3)`, wrapping.
#[inline(always)]
fn reduce_i32(v: v128) -> i32 {
    let s = i32x4_add(v, i32x4_shuffle::<2, 3, 2, 3>(v, v));
    i32x4_extract_lane::<0>(s).wrapping_add(i32x4_extract_lane::<1>(s))
}

/// The elements `from..` of the common prefix of `a` and `b` (empty if `from` is past it).
#[inline(always)]
fn tails<'a, T>(a: &'a [T], b: &'a [T], from: usize) -> (&'a [T], &'a [T]) {
    let n = a.len().min(b.len());
    (
        a.get(from..n).unwrap_or_default(),
        b.get(from..n).unwrap_or_default(),
    )
}

/// Loads 16 bytes starting at `p`.
///
/// # Safety
/// `p .. p + 16` must be readable. There is no alignment requirement.
#[inline(always)]
unsafe fn load16<T>(p: *const T) -> v128 {
    // SAFETY: the caller's contract; `v128.load` is a 1-aligned load.
    unsafe { v128_load(p.cast()) }
}

/// `sum x_i * y_i` of 16 i8 lanes as 4 i32 lanes. Products of i8 fit i16 and the sum of two
/// (at most 2 * 16384) fits i32.
///
/// wasmi's integer SIMD operators differ a lot in cost. Sign-extending both halves and
/// `i32x4.dot_i16x8_s` measured 12-20% faster there than `i16x8.extmul_*_i8x16_s` +
/// `i32x4.extadd_pairwise_i16x8_s` (though it takes 4 more operators, i.e. fuel, per 32
/// bytes), and faster than `i16x8.load8x8_s` + `i32x4.dot_i16x8_s`. V8 compiles all of them
/// to a few native instructions.
#[inline(always)]
fn dot_i8x16(x: v128, y: v128) -> v128 {
    let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(x), i16x8_extend_low_i8x16(y));
    let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(x), i16x8_extend_high_i8x16(y));
    i32x4_add(lo, hi)
}

/// `sum (x_i - y_i)^2` of 16 i8 lanes as 4 i32 lanes. Differences of i8 fit i16
/// (|d| <= 255), and the sum of two squares (at most 130050) fits i32. In wasmi this beat
/// the unsigned `|x - y|` (`max - min`) forms.
#[inline(always)]
fn l2sq_i8x16(x: v128, y: v128) -> v128 {
    let lo = i16x8_sub(i16x8_extend_low_i8x16(x), i16x8_extend_low_i8x16(y));
    let hi = i16x8_sub(i16x8_extend_high_i8x16(x), i16x8_extend_high_i8x16(y));
    i32x4_add(i32x4_dot_i16x8(lo, lo), i32x4_dot_i16x8(hi, hi))
}

/// Sum of `pair(x, y)` (4 i32 lanes per 16 bytes) over the common prefix of `a` and `b` in
/// 16-byte chunks, 32 bytes per loop iteration; returns the lanes and the bytes covered.
#[inline(always)]
fn fold_i8(a: &[i8], b: &[i8], pair: impl Fn(v128, v128) -> v128) -> (v128, usize) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = i32x4_splat(0);
    // SAFETY: n / 32 blocks of 32 bytes lie within the common prefix; the body reads only
    // bytes 0..32 of each block.
    unsafe {
        for_each_block::<32, i8>(pa, pb, n / 32, |block| {
            let ((x0, y0), (x1, y1)) = (block.load::<0>(), block.load::<16>());
            acc = i32x4_add(acc, i32x4_add(pair(x0, y0), pair(x1, y1)));
        })
    };
    let mut done = n & !31;
    if n - done >= 16 {
        // SAFETY: bytes done..done + 16 are within the common prefix.
        let (x, y) = unsafe { (load16(pa.add(done)), load16(pb.add(done))) };
        acc = i32x4_add(acc, pair(x, y));
        done += 16;
    }
    (acc, done)
}

/// i8 inner product (wrapping modulo 2^32 past 65536 elements).
pub(crate) fn dot_i8_simd128(a: &[i8], b: &[i8]) -> i32 {
    let (acc, done) = fold_i8(a, b, dot_i8x16);
    let (ta, tb) = tails(a, b, done);
    reduce_i32(acc).wrapping_add(dot_i8_scalar(ta, tb))
}

/// i8 squared Euclidean distance (wrapping modulo 2^32 past 65536 elements).
pub(crate) fn l2sq_i8_simd128(a: &[i8], b: &[i8]) -> u32 {
    let (acc, done) = fold_i8(a, b, l2sq_i8x16);
    let (ta, tb) = tails(a, b, done);
    (reduce_i32(acc) as u32).wrapping_add(l2sq_i8_scalar(ta, tb))
}

/// Population count of the 128 bits of `v`: `i64.popcnt` on both halves, which in wasmi is
/// ~2.5x faster than `i8x16.popcnt` with byte-wise accumulators (and needs no widening
/// every 31 chunks). V8 turns it into two `popcnt`.
#[inline(always)]
fn popcount128(v: v128) -> u64 {
    u64::from(u64x2_extract_lane::<0>(v).count_ones() + u64x2_extract_lane::<1>(v).count_ones())
}

/// For each of the `K` words `ops(a, b)` makes per 16-byte chunk, its population count summed
/// over the whole chunks of the common prefix (32 bytes per loop iteration); also returns the
/// bytes covered.
#[inline(always)]
fn popcount_chunks<const K: usize>(
    a: &[u8],
    b: &[u8],
    ops: impl Fn(v128, v128) -> [v128; K],
) -> ([u64; K], usize) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut sums = [0u64; K];
    // SAFETY: n / 32 blocks of 32 bytes lie within the common prefix; the body reads only
    // bytes 0..32 of each block.
    unsafe {
        for_each_block::<32, u8>(pa, pb, n / 32, |block| {
            let ((x0, y0), (x1, y1)) = (block.load::<0>(), block.load::<16>());
            let (w0, w1) = (ops(x0, y0), ops(x1, y1));
            sums = core::array::from_fn(|k| sums[k] + popcount128(w0[k]) + popcount128(w1[k]));
        })
    };
    let mut done = n & !31;
    if n - done >= 16 {
        // SAFETY: bytes done..done + 16 are within the common prefix.
        let (x, y) = unsafe { (load16(pa.add(done)), load16(pb.add(done))) };
        let w = ops(x, y);
        sums = core::array::from_fn(|k| sums[k] + popcount128(w[k]));
        done += 16;
    }
    (sums, done)
}

/// Hamming distance of packed bits.
pub(crate) fn hamming_b1_simd128(a: &[u8], b: &[u8]) -> u64 {
    let ([diff], done) = popcount_chunks(a, b, |x, y| [v128_xor(x, y)]);
    let (ta, tb) = tails(a, b, done);
    diff + popcount_with(ta, tb, |x, y| x ^ y)
}

/// Intersection and union bit counts of packed bits, in one pass.
pub(crate) fn jaccard_b1_simd128(a: &[u8], b: &[u8]) -> (u64, u64) {
    let ([inter, union], done) = popcount_chunks(a, b, |x, y| [v128_and(x, y), v128_or(x, y)]);
    let (ta, tb) = tails(a, b, done);
    (
        inter + popcount_with(ta, tb, |x, y| x & y),
        union + popcount_with(ta, tb, |x, y| x | y),
    )
}
