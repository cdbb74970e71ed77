//! The random numbers of the walk-based estimates: xoshiro256** seeded by SplitMix64, and
//! the few ways the walks draw from it.
//!
//! # Same numbers everywhere
//!
//! A walk must take the same path for a given seed natively (x86_64, aarch64), in wasmi
//! and in V8, so the estimates agree to the bit. The generator is integer arithmetic only
//! (wrapping adds, xors, shifts, rotations, a multiply), identical on every target. The
//! draws that decide a walk are:
//!
//! * **continue or stop** with probability `p`: an integer comparison `next_u64() <
//!   threshold(p)`, where `threshold(p) = p * 2^64` is computed once by scaling with a
//!   power of two (exact in IEEE-754) and a float-to-int conversion (defined by Rust);
//! * **a neighbor chosen by weight**: `x = unit() * total` and a scan of running sums of
//!   the weights for the first one above `x`. This one uses floats, but only IEEE-754 basic
//!   operations (`+`, `*`, comparisons), each correctly rounded and in a fixed order; Rust
//!   never contracts `a * b + c` into an FMA on its own and no libm function is involved,
//!   so the rounded values, and hence the branch taken, are the same on every conforming
//!   target (x86_64 SSE2, aarch64, wasm32). No `f32`, no x87.

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64 as its authors recommend.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

/// One SplitMix64 step: the seeding generator.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator for `seed` (any value, 0 included: SplitMix64 never yields the
    /// all-zero state xoshiro must avoid from four consecutive outputs).
    pub(crate) fn new(seed: u64) -> Rng {
        let mut st = seed;
        Rng {
            s: [
                splitmix64(&mut st),
                splitmix64(&mut st),
                splitmix64(&mut st),
                splitmix64(&mut st),
            ],
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        let s2 = s2 ^ t;
        let s3 = s3.rotate_left(45);
        self.s = [s0, s1, s2, s3];
        result
    }

    /// `true` with probability `threshold / 2^64` (see [`threshold`]).
    pub(crate) fn chance(&mut self, threshold: u64) -> bool {
        self.next_u64() < threshold
    }

    /// Uniform in `[0, 1)`, a multiple of `2^-53` (exact: 53 random bits scaled by a power
    /// of two).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// `p * 2^64` as an integer, for [`Rng::chance`]: multiplying by a power of two is exact
/// and `as u64` saturates (defined in Rust), so the threshold is the same everywhere. `p`
/// in `[0, 1]`; `p = 1` saturates to `u64::MAX` (probability `1 - 2^-64`).
pub(crate) fn threshold(p: f64) -> u64 {
    (p * 18_446_744_073_709_551_616.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_stream() {
        // SplitMix64(0)'s first output is a published test value.
        let mut st = 0u64;
        assert_eq!(splitmix64(&mut st), 0xe220_a839_7b1d_cdaf);
        // The stream is a function of the seed only.
        let a: alloc::vec::Vec<u64> = (0..8)
            .scan(Rng::new(42), |r, _| Some(r.next_u64()))
            .collect();
        let b: alloc::vec::Vec<u64> = (0..8)
            .scan(Rng::new(42), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(
            a,
            (0..8)
                .scan(Rng::new(43), |r, _| Some(r.next_u64()))
                .collect::<alloc::vec::Vec<_>>()
        );
    }

    #[test]
    fn draws_are_in_range_and_roughly_uniform() {
        let mut r = Rng::new(7);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[(r.unit() * 7.0) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
        for _ in 0..1000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(0.5), 1 << 63);
        assert_eq!(threshold(1.0), u64::MAX);
        let hits = (0..100_000).filter(|_| r.chance(threshold(0.85))).count();
        assert!((84_000..86_000).contains(&hits), "{hits}");
    }
}
