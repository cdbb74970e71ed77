//! The tests' random numbers: splitmix64, the same sequence on every target (native, wasm32,
//! aarch64 under qemu), so a failure reproduces anywhere.

use alloc::vec::Vec;

/// splitmix64, deterministic everywhere.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[-1, 1)`, with a few exact zeros of either sign.
    pub fn value(&mut self) -> f64 {
        match self.below(40) {
            0 => 0.0,
            1 => -0.0,
            _ => (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0,
        }
    }

    pub fn values(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.value()).collect()
    }
}
