//! The solvers' dense f64 vector operations, written once over [`F64Vector`]: one
//! element-wise pass ([`fused`]) that loads, stores and accumulates up to a few sums in the
//! order every instruction set shares (term `i` to partial sum `i mod 16`, see the `sparse`
//! module docs).
//!
//! Every function here works on the common prefix of its slices, so no caller can make it
//! read or write out of bounds; each is `unsafe` only because the CPU must support `V`'s
//! instruction set.

use super::{reduce_partials, F64Vector, PARTIALS};

/// Elements `at .. at + len` of every stream of a pass, `len <= V::LANES`: a whole register
/// or the last, partial one.
#[derive(Clone, Copy)]
pub(crate) struct Chunk {
    pub(crate) at: usize,
    pub(crate) len: usize,
}

impl Chunk {
    /// The chunk's elements of `p`, zero-padded to a register.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set; elements `at .. at + len` of `p` must be
    /// readable.
    #[inline(always)]
    pub(crate) unsafe fn load<V: F64Vector>(self, p: *const f64) -> V {
        // SAFETY: the caller's contract; `load_first` reads only `len < LANES` elements.
        unsafe {
            if self.len == V::LANES {
                V::load(p.add(self.at))
            } else {
                V::load_first(p.add(self.at), self.len)
            }
        }
    }

    /// Stores the chunk's lanes of `v` to `p`.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set; elements `at .. at + len` of `p` must be
    /// writable.
    #[inline(always)]
    pub(crate) unsafe fn store<V: F64Vector>(self, p: *mut f64, v: V) {
        // SAFETY: the caller's contract; `store_first` writes only `len < LANES` elements.
        unsafe {
            if self.len == V::LANES {
                v.store(p.add(self.at))
            } else {
                v.store_first(p.add(self.at), self.len)
            }
        }
    }
}

/// `K` sums accumulated in the shared order: term `i` goes to partial sum `i mod 16`, each
/// partial adds its terms in increasing `i` starting from `+0`, and [`reduce_partials`]
/// adds the partials. The terms come a register (a [`Chunk`]) at a time, 16 elements (one
/// block, `16 / LANES` chunks) after another, through [`Partials::block`].
pub(crate) struct Partials<V: F64Vector, const K: usize> {
    /// Partial sum `k` lives in register `k / LANES`, lane `k mod LANES` (the first
    /// `16 / LANES` registers are used).
    acc: [[V; K]; PARTIALS],
    /// The terms of the last, short block, lane by lane (the first `tail_len` count): the
    /// last terms of their partial sums, added in [`finish`](Self::finish).
    tail: [[f64; PARTIALS]; K],
    tail_len: usize,
}

impl<V: F64Vector, const K: usize> Partials<V, K> {
    /// All partial sums `+0`.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn new() -> Self {
        Partials {
            // SAFETY: the caller vouches for the CPU.
            acc: [[unsafe { V::zero() }; K]; PARTIALS],
            tail: [[0.0; PARTIALS]; K],
            tail_len: 0,
        }
    }

    /// Runs `body` on the chunks of the block of elements `at .. at + count` (`at` a
    /// multiple of 16, `count <= 16`; only the last block may be short) in order and adds
    /// the terms it yields. Lanes of a partial chunk past `at + count` are dropped, so
    /// `body` need not care what it computes there.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set, and `body` must be safe to call on every
    /// chunk of the block.
    #[inline(always)]
    pub(crate) unsafe fn block(
        &mut self,
        at: usize,
        count: usize,
        mut body: impl FnMut(Chunk) -> [V; K],
    ) {
        let w = V::LANES;
        let regs = PARTIALS / w;
        // SAFETY (all of this function): the caller vouches for the CPU and for `body`;
        // a tail chunk's lanes go to tail[k][first .. first + w], first + w <= 16.
        unsafe {
            if count == PARTIALS {
                for (j, acc) in self.acc.iter_mut().enumerate().take(regs) {
                    let terms = body(Chunk {
                        at: at + j * w,
                        len: w,
                    });
                    for (a, t) in acc.iter_mut().zip(terms) {
                        *a = a.add(t);
                    }
                }
                return;
            }
            // The last, short block (once per call): a chunk at a time, its terms kept
            // lane by lane, in a loop rather than the unrolled registers above, so the
            // body's code is not repeated once more per register.
            let mut first = 0;
            while first < count {
                let terms = body(Chunk {
                    at: at + first,
                    len: (count - first).min(w),
                });
                for (tail, t) in self.tail.iter_mut().zip(terms) {
                    t.store(tail.as_mut_ptr().add(first));
                }
                first += w;
            }
            self.tail_len = count;
        }
    }

    /// The `K` sums.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    pub(crate) unsafe fn finish(self) -> [f64; K] {
        let w = V::LANES;
        let regs = PARTIALS / w;
        core::array::from_fn(|k| {
            let mut partials = [0.0f64; PARTIALS];
            // SAFETY: each store writes `w` lanes within `partials` (j * w + w <= 16); the
            // caller vouches for the CPU.
            unsafe {
                for (j, a) in self.acc.iter().enumerate().take(regs) {
                    a[k].store(partials.as_mut_ptr().add(j * w));
                }
            }
            if V::STANDALONE {
                add_tail_and_reduce_shared(partials, &self.tail[k], self.tail_len)
            } else {
                add_tail_and_reduce(partials, &self.tail[k], self.tail_len)
            }
        })
    }
}

/// Adds the first `len` terms of `tail` to `partials` (the last terms of their partial
/// sums), then [`reduce_partials`].
#[inline(always)]
fn add_tail_and_reduce(mut partials: [f64; PARTIALS], tail: &[f64; PARTIALS], len: usize) -> f64 {
    for (p, t) in partials.iter_mut().zip(tail).take(len) {
        *p += t;
    }
    reduce_partials(partials)
}

/// [`add_tail_and_reduce`] as one function for every sum of a module, for the vector types
/// that need no `#[target_feature]` context (`STANDALONE`): keeps the wasm modules small.
#[inline(never)]
fn add_tail_and_reduce_shared(
    partials: [f64; PARTIALS],
    tail: &[f64; PARTIALS],
    len: usize,
) -> f64 {
    add_tail_and_reduce(partials, tail, len)
}

/// Runs `body` over elements `0..n` in chunks of `V::LANES` (the last one maybe partial), in
/// order, and returns the `K` sums of the terms it yields, in the shared order
/// ([`Partials`]).
///
/// # Safety
/// The CPU must support `V`'s instruction set, and `body` must be safe to call on every
/// chunk of `0..n`.
#[inline(always)]
pub(crate) unsafe fn fused<V: F64Vector, const K: usize>(
    n: usize,
    mut body: impl FnMut(Chunk) -> [V; K],
) -> [f64; K] {
    // SAFETY: the caller vouches for the CPU and for `body` on every chunk of 0..n, which
    // is what the blocks hand out.
    unsafe {
        let mut sums = Partials::<V, K>::new();
        let mut at = 0;
        while at < n {
            let count = (n - at).min(PARTIALS);
            sums.block(at, count, &mut body);
            at += PARTIALS;
        }
        sums.finish()
    }
}

/// `sum a_i * b_i`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn dot<V: F64Vector>(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    // SAFETY: every chunk lies in the common prefix of both slices.
    let [ab] = unsafe {
        fused::<V, 1>(n, |c| {
            let (x, y) = (c.load::<V>(pa), c.load::<V>(pb));
            [x.mul(y)]
        })
    };
    ab
}

/// `sum (s * x_i)^2`: the sum of squares (`s = 1`: exact, so the same bits as without it),
/// or with `s` a power of two, of exactly scaled values.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
unsafe fn sum_squares<V: F64Vector>(x: &[f64], s: f64) -> f64 {
    let p = x.as_ptr();
    // SAFETY: every chunk lies in `x`.
    let [ss] = unsafe {
        let s = V::splat(s);
        fused::<V, 1>(x.len(), |c| {
            let v = c.load::<V>(p).mul(s);
            [v.mul(v)]
        })
    };
    ss
}

/// [`sum_squares`] as one function for both of [`nrm2`]'s passes, for the vector types that
/// need no `#[target_feature]` context (`STANDALONE`): keeps the wasm modules small.
///
/// # Safety
/// As [`sum_squares`].
#[inline(never)]
unsafe fn sum_squares_shared<V: F64Vector>(x: &[f64], s: f64) -> f64 {
    // SAFETY: the caller's contract.
    unsafe { sum_squares::<V>(x, s) }
}

/// Below this (`2^-900`), a sum of squares may have lost precision to underflow (a square
/// under `2^-1022` is subnormal): [`nrm2`] then rescales.
const NRM2_SMALL: f64 = f64::from_bits((1023 - 900) << 52);

/// The Euclidean norm without spurious overflow or underflow: the plain sum of squares when
/// it is finite and at least `2^-900`; otherwise one more pass over the values scaled by
/// the power of two that brings the largest magnitude near 1 (exact, so the result is as
/// accurate as the plain one). NaN in, NaN out; an infinity gives infinity.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn nrm2<V: F64Vector>(x: &[f64]) -> f64 {
    // SAFETY (both passes): the caller vouches for the CPU.
    let pass = |s: f64| unsafe {
        if V::STANDALONE {
            sum_squares_shared::<V>(x, s)
        } else {
            sum_squares::<V>(x, s)
        }
    };
    let ss = pass(1.0);
    if ss.is_nan() {
        return ss;
    }
    if ss.is_finite() && ss >= NRM2_SMALL {
        return crate::kernels::sqrt_f64(ss);
    }
    // Rare: overflow, underflow, or all zeros. No NaN is left (it would have made `ss` NaN).
    let amax = x
        .iter()
        .fold(0.0f64, |m, &v| if abs(v) > m { abs(v) } else { m });
    if amax == 0.0 || amax.is_infinite() {
        return amax;
    }
    // amax = 2^e * [1, 2), e in -1074..=1023; scale by 2^k, k = -e clamped so that both
    // 2^k and 2^-k are normal numbers (subnormal amax: 2^1022 gets it to at least 2^-52).
    let biased = ((amax.to_bits() >> 52) & 0x7ff) as i32;
    let k = (1023 - biased.max(1)).clamp(-1022, 1022);
    let pow2 = |e: i32| f64::from_bits(((e + 1023) as u64) << 52);
    let ss = pass(pow2(k));
    crate::kernels::sqrt_f64(ss) * pow2(-k)
}

#[inline(always)]
fn abs(v: f64) -> f64 {
    f64::from_bits(v.to_bits() & !(1 << 63))
}

/// `y <- y + a * x` (two roundings per element).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy<V: F64Vector>(a: f64, x: &[f64], y: &mut [f64]) {
    let n = x.len().min(y.len());
    let (px, py) = (x.as_ptr(), y.as_mut_ptr());
    // SAFETY: every chunk lies in the common prefix; `y` is borrowed mutably.
    unsafe {
        let a = V::splat(a);
        fused::<V, 0>(n, |c| {
            let y = c.load::<V>(py).add(a.mul(c.load::<V>(px)));
            c.store(py, y);
            []
        });
    }
}

/// `y <- x + b * y`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn xpby<V: F64Vector>(x: &[f64], b: f64, y: &mut [f64]) {
    let n = x.len().min(y.len());
    let (px, py) = (x.as_ptr(), y.as_mut_ptr());
    // SAFETY: as in `axpy`.
    unsafe {
        let b = V::splat(b);
        fused::<V, 0>(n, |c| {
            let y = c.load::<V>(px).add(b.mul(c.load::<V>(py)));
            c.store(py, y);
            []
        });
    }
}

/// `y <- y + a * x`, then `[w . y, y . y]` of the new `y` (`W = false`: `w` is not read and
/// the first sum is 0).
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy_dots<V: F64Vector, const W: bool>(
    a: f64,
    x: &[f64],
    y: &mut [f64],
    w: &[f64],
) -> [f64; 2] {
    let mut n = x.len().min(y.len());
    if W {
        n = n.min(w.len());
    }
    let (px, py, pw) = (x.as_ptr(), y.as_mut_ptr(), w.as_ptr());
    // SAFETY: as in `axpy`; `w` is read only when `W`, and then `n <= w.len()`.
    unsafe {
        let a = V::splat(a);
        fused::<V, 2>(n, |c| {
            let y = c.load::<V>(py).add(a.mul(c.load::<V>(px)));
            c.store(py, y);
            let wy = if W { c.load::<V>(pw).mul(y) } else { V::zero() };
            [wy, y.mul(y)]
        })
    }
}

/// `y <- y + a * x`; `z <- d * y` (Jacobi preconditioning, `d` the inverse diagonal); then
/// `[z . y, y . y]`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy_jacobi_dots<V: F64Vector>(
    a: f64,
    x: &[f64],
    y: &mut [f64],
    d: &[f64],
    z: &mut [f64],
) -> [f64; 2] {
    let n = x.len().min(y.len()).min(d.len()).min(z.len());
    let (px, py, pd, pz) = (x.as_ptr(), y.as_mut_ptr(), d.as_ptr(), z.as_mut_ptr());
    // SAFETY: as in `axpy`; `y` and `z` are distinct mutable borrows.
    unsafe {
        let a = V::splat(a);
        fused::<V, 2>(n, |c| {
            let y = c.load::<V>(py).add(a.mul(c.load::<V>(px)));
            c.store(py, y);
            let z = c.load::<V>(pd).mul(y);
            c.store(pz, z);
            [z.mul(y), y.mul(y)]
        })
    }
}

/// `x <- x + a * p`, then `p <- z + b * p` (the old `p` in both): CG's two vector updates in
/// one pass, `p` read once.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy_xpby<V: F64Vector>(
    a: f64,
    b: f64,
    z: &[f64],
    x: &mut [f64],
    p: &mut [f64],
) {
    let n = z.len().min(x.len()).min(p.len());
    let (pz, px, pp) = (z.as_ptr(), x.as_mut_ptr(), p.as_mut_ptr());
    // SAFETY: as in `axpy`; `x` and `p` are distinct mutable borrows.
    unsafe {
        let (a, b) = (V::splat(a), V::splat(b));
        fused::<V, 0>(n, |c| {
            let p = c.load::<V>(pp);
            c.store(px, c.load::<V>(px).add(a.mul(p)));
            c.store(pp, c.load::<V>(pz).add(b.mul(p)));
            []
        });
    }
}

/// `z <- (z + a * x) + b * y`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn axpy2<V: F64Vector>(a: f64, x: &[f64], b: f64, y: &[f64], z: &mut [f64]) {
    let n = x.len().min(y.len()).min(z.len());
    let (px, py, pz) = (x.as_ptr(), y.as_ptr(), z.as_mut_ptr());
    // SAFETY: as in `axpy`.
    unsafe {
        let (a, b) = (V::splat(a), V::splat(b));
        fused::<V, 0>(n, |c| {
            let z = c.load::<V>(pz).add(a.mul(c.load::<V>(px)));
            let z = z.add(b.mul(c.load::<V>(py)));
            c.store(pz, z);
            []
        });
    }
}

/// `p <- r + beta * (p - omega * v)`.
///
/// # Safety
/// The CPU must support `V`'s instruction set.
#[inline(always)]
pub(crate) unsafe fn bicgstab_p<V: F64Vector>(
    beta: f64,
    omega: f64,
    r: &[f64],
    v: &[f64],
    p: &mut [f64],
) {
    let n = r.len().min(v.len()).min(p.len());
    let (pr, pv, pp) = (r.as_ptr(), v.as_ptr(), p.as_mut_ptr());
    // SAFETY: as in `axpy`.
    unsafe {
        let (beta, omega) = (V::splat(beta), V::splat(omega));
        fused::<V, 0>(n, |c| {
            let d = c.load::<V>(pp).sub(omega.mul(c.load::<V>(pv)));
            let p = c.load::<V>(pr).add(beta.mul(d));
            c.store(pp, p);
            []
        });
    }
}
