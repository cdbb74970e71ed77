//! WebAssembly 128-bit SIMD kernels, one file per family.

pub(super) mod dense;
pub(crate) mod distance;
pub(in crate::kernels) mod sparse;
