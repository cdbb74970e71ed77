//! WebAssembly 128-bit SIMD kernels, one file per family.

pub(super) mod dense;
pub(super) mod distance;
pub(in crate::kernels) mod sparse;
