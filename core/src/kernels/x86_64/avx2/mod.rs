//! AVX2 + FMA kernels, one file per family.

pub(super) mod dense;
pub(super) mod dense_i8;
pub(super) mod distance;
pub(super) mod sparse;
