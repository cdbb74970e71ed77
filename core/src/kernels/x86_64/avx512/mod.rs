//! AVX-512 kernels (F + BW + VL, with VNNI / VPOPCNTDQ variants), one file per family.

pub(super) mod dense;
pub(super) mod dense_vnni;
pub(super) mod distance;
pub(super) mod sparse;
