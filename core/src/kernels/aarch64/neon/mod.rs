//! NEON kernels, one file per family.

pub(super) mod dense;
pub(super) mod distance;
pub(super) mod sparse;
