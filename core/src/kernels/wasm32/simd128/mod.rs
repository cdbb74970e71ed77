//! WebAssembly 128-bit SIMD kernels, one file per family.

pub(super) mod distance;
pub(in crate::kernels) mod sparse;
