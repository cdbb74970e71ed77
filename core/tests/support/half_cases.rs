//! The checks of the half-precision distance kernels (f32 query against an f16 or bf16 row)
//! on one table: bit-equal to the table's f32 kernels on the converted row, within the f32
//! bound of an f64 reference, NaN and infinity as f32, every bit pattern converted as
//! `to_f32` says. Written for `alloc` and `core` only (failures are panics), so the wasm32
//! harness (`tests/wasm-kernels`) runs the same checks on its tables.

#![allow(dead_code)] // each user runs the checks it can

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use ferrovec_core::kernels::{Bf16, Isa, Kernels, F16};
use ferrovec_core::Error;

#[path = "rng.rs"]
mod rng;
pub use rng::Rng;

type Res = ferrovec_core::Result<f32>;

/// The kernels and conversions of one row type.
pub struct HalfOps<T> {
    pub name: &'static str,
    pub from_f32: fn(f32) -> T,
    pub to_f32: fn(T) -> f32,
    pub from_bits: fn(u16) -> T,
    pub dot: fn(&Kernels, &[f32], &[T]) -> Res,
    pub l2sq: fn(&Kernels, &[f32], &[T]) -> Res,
    pub cosine: fn(&Kernels, &[f32], &[T]) -> Res,
}

pub const F16_OPS: HalfOps<F16> = HalfOps {
    name: "f16",
    from_f32: F16::from_f32,
    to_f32: F16::to_f32,
    from_bits: F16::from_bits,
    dot: Kernels::dot_f16,
    l2sq: Kernels::l2sq_f16,
    cosine: Kernels::cosine_distance_f16,
};

pub const BF16_OPS: HalfOps<Bf16> = HalfOps {
    name: "bf16",
    from_f32: Bf16::from_f32,
    to_f32: Bf16::to_f32,
    from_bits: Bf16::from_bits,
    dot: Kernels::dot_bf16,
    l2sq: Kernels::l2sq_bf16,
    cosine: Kernels::cosine_distance_bf16,
};

/// Every check of this file on one table.
pub fn all(k: &Kernels) {
    matches_f32_kernels(k, &F16_OPS);
    matches_f32_kernels(k, &BF16_OPS);
    every_bit_pattern_loads_as_to_f32(k, &F16_OPS);
    every_bit_pattern_loads_as_to_f32(k, &BF16_OPS);
}

fn lengths() -> impl Iterator<Item = usize> {
    (0..=67).chain([127, 128, 129, 383, 384, 385, 1536])
}

/// `(sum x*y, sum |x*y|)` and `sum (x-y)^2` in f64.
fn reference(a: &[f32], b: &[f32]) -> (f64, f64, f64) {
    let mut dot = 0.0;
    let mut mag = 0.0;
    let mut l2 = 0.0;
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        dot += x * y;
        mag += (x * y).abs();
        l2 += (x - y) * (x - y);
    }
    (dot, mag, l2)
}

fn close(what: &str, got: f32, want: f64, tol: f64) {
    let err = (got as f64 - want).abs();
    assert!(
        err <= tol,
        "{what}: got {got}, want {want}, |err| {err:e} > {tol:e}"
    );
}

/// Bit-equal to the table's f32 kernels on the converted row (and, on simd128, to the scalar
/// table, as its f32 kernels are), within the f32 bound of f64, at unaligned offsets.
pub fn matches_f32_kernels<T: Copy + Default>(k: &Kernels, ops: &HalfOps<T>) {
    let scalar = Kernels::for_isa(Isa::Scalar).unwrap();
    let mut rng = Rng(23);
    for n in lengths() {
        let a: Vec<f32> = (0..n).map(|_| rng.value() as f32).collect();
        // Scaled so subnormal and large f16 elements are in play too.
        let b: Vec<T> = (0..n)
            .map(|i| (ops.from_f32)((rng.value() * [1.0, 1e-6, 300.0][i % 3]) as f32))
            .collect();
        for off in [0usize, 1, 3, 7] {
            let mut ba = vec![0.0f32; off];
            ba.extend_from_slice(&a);
            let mut bb = vec![T::default(); off];
            bb.extend_from_slice(&b);
            let (x, y) = (&ba[off..], &bb[off..]);
            let yf: Vec<f32> = y.iter().map(|&v| (ops.to_f32)(v)).collect();
            let ctx = |op: &str| format!("{} {op}_{} n={n} off={off}", k.variant(), ops.name);
            let (dot, mag, l2) = reference(x, &yf);

            let got = (ops.dot)(k, x, y).unwrap();
            let want = k.dot_f32(x, &yf).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{}", ctx("dot"));
            close(&ctx("dot"), got, dot, 1e-5 * mag + 1e-30);

            let got = (ops.l2sq)(k, x, y).unwrap();
            let want = k.l2sq_f32(x, &yf).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{}", ctx("l2sq"));
            close(&ctx("l2sq"), got, l2, 1e-5 * l2 + 1e-30);

            let got = (ops.cosine)(k, x, y).unwrap();
            let want = k.cosine_distance_f32(x, &yf).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{}", ctx("cosine"));
            assert!((0.0..=2.0).contains(&got), "{}: {got}", ctx("cosine range"));

            if k.isa() == Isa::Simd128 {
                let s = (ops.dot)(scalar, x, y).unwrap();
                assert_eq!(
                    (ops.dot)(k, x, y).unwrap().to_bits(),
                    s.to_bits(),
                    "{}",
                    ctx("dot vs scalar")
                );
                let s = (ops.l2sq)(scalar, x, y).unwrap();
                assert_eq!(
                    (ops.l2sq)(k, x, y).unwrap().to_bits(),
                    s.to_bits(),
                    "{}",
                    ctx("l2sq vs scalar")
                );
            }
        }
    }
    let e = Error::DimensionMismatch {
        expected: 3,
        actual: 2,
    };
    let two = [(ops.from_f32)(1.0); 2];
    assert_eq!((ops.dot)(k, &[1.0; 3], &two).unwrap_err(), e);
    assert_eq!((ops.l2sq)(k, &[1.0; 3], &two).unwrap_err(), e);
    assert_eq!((ops.cosine)(k, &[1.0; 3], &two).unwrap_err(), e);
}

/// Every one of the 65,536 bit patterns, as the tail element of a row and inside a whole
/// vector, enters the sums as `to_f32` says: a finite value exactly, infinity as infinity,
/// NaN as NaN.
pub fn every_bit_pattern_loads_as_to_f32<T: Copy + Default>(k: &Kernels, ops: &HalfOps<T>) {
    // The pattern at position 5 of 37 elements: in a whole vector on every table (4, 8 or
    // 16 lanes) for the query e_5; as the tail for the 1-element query.
    let mut e5 = vec![0.0f32; 37];
    e5[5] = 1.0;
    let mut row = vec![(ops.from_f32)(0.0); 37];
    for bits in 0..=u16::MAX {
        let h = (ops.from_bits)(bits);
        let want = (ops.to_f32)(h);
        let ctx = || format!("{} {} {bits:#06x}", k.variant(), ops.name);
        row[5] = h;
        let tail = (ops.dot)(k, &[1.0], &[h]).unwrap();
        // Only the pattern meets the query's 1: zeros meet zeros, so infinity stays one.
        let whole = (ops.dot)(k, &e5, &row).unwrap();
        for got in [tail, whole] {
            if want.is_nan() {
                assert!(got.is_nan(), "{}: {got}", ctx());
            } else {
                // A zero pattern's sign is lost to the +0 accumulators; every other value is
                // exact.
                assert_eq!(got, want, "{}", ctx());
            }
        }
    }
}
