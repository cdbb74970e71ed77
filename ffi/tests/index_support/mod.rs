//! Shared by the index tests: the engines to run them on, and deterministic data.

#![allow(dead_code)] // each test crate uses a different part

use ferrovec::backend::{BundledModule, InterpretedOptions};
use ferrovec::Engine;

#[path = "../interpreted_support/mod.rs"]
mod interpreted_support;

pub use interpreted_support::built_module;

/// Native, then Interpreted with the scalar and the simd module (when built; `make test`
/// requires them), each with a name for messages.
pub fn engines() -> Vec<(&'static str, Engine)> {
    let mut out = vec![("native", Engine::native())];
    let modules = [
        ("interpreted-scalar", BundledModule::Scalar),
        ("interpreted-simd", BundledModule::Simd),
    ];
    for (name, which) in modules {
        if let Some(bytes) = built_module(which) {
            let engine = Engine::interpreted(&InterpretedOptions::new().module(bytes))
                .expect("the built module loads");
            out.push((name, engine));
        }
    }
    out
}

/// An interpreted engine on the simd module with these limits, if built.
pub fn interpreted_with(fuel: Option<u64>, memory_limit: Option<usize>) -> Option<Engine> {
    let bytes = built_module(BundledModule::Simd)?;
    Some(
        Engine::interpreted(
            &InterpretedOptions::new()
                .module(bytes)
                .fuel(fuel)
                .memory_limit(memory_limit),
        )
        .expect("the built module loads"),
    )
}

/// Deterministic pseudo-random numbers (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    pub fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.unit()).collect()
    }

    /// `n` points around `clusters` random centres (a rough stand-in for embeddings).
    pub fn clustered(&mut self, n: usize, dims: usize, clusters: usize) -> Vec<f32> {
        let centres: Vec<Vec<f32>> = (0..clusters).map(|_| self.f32s(dims)).collect();
        let mut out = Vec::with_capacity(n * dims);
        for i in 0..n {
            let c = &centres[(self.next() as usize + i) % clusters];
            out.extend(c.iter().map(|x| x + 0.25 * self.unit()));
        }
        out
    }
}
