//! The f32 encoder kernels (GEMM, softmax, LayerNorm, GELU) on every table this machine
//! runs, against an f64 reference. The checks live in `support/dense_cases.rs`, written so a
//! wasm32 or qemu harness can run them on its own tables.

extern crate alloc;

#[path = "support/dense_cases.rs"]
mod cases;

use ferrovec_core::kernels::Kernels;

fn tables() -> Vec<&'static Kernels> {
    let tables: Vec<_> = Kernels::variants().collect();
    let names: Vec<_> = tables.iter().map(|k| k.variant()).collect();
    eprintln!("kernel tables under test: {names:?}");
    tables
}

#[test]
fn gemm_nt_matches_reference() {
    tables()
        .into_iter()
        .for_each(cases::gemm_nt_matches_reference);
}

#[test]
fn gemm_nt_encoder_shapes() {
    tables().into_iter().for_each(cases::gemm_nt_encoder_shapes);
}

#[test]
fn gemm_nt_propagates_nan_inf() {
    tables()
        .into_iter()
        .for_each(cases::gemm_nt_propagates_nan_inf);
}

#[test]
fn softmax_saturates() {
    tables().into_iter().for_each(cases::softmax_saturates);
}

#[test]
fn gemm_nt_overwrites() {
    tables().into_iter().for_each(cases::gemm_nt_overwrites);
}

#[test]
fn softmax_matches_reference() {
    tables()
        .into_iter()
        .for_each(cases::softmax_matches_reference);
}

#[test]
fn layer_norm_matches_reference() {
    tables()
        .into_iter()
        .for_each(cases::layer_norm_matches_reference);
}

#[test]
fn gelu_matches_reference() {
    tables().into_iter().for_each(cases::gelu_matches_reference);
}

#[test]
fn bad_shapes_are_errors() {
    tables().into_iter().for_each(cases::bad_shapes_are_errors);
}

#[test]
fn gemm_nt_i8_matches_reference() {
    tables()
        .into_iter()
        .for_each(cases::gemm_nt_i8_matches_reference);
}

#[test]
fn gemm_nt_i8_extremes() {
    tables().into_iter().for_each(cases::gemm_nt_i8_extremes);
}

#[test]
fn gemm_nt_i8_bad_shapes() {
    tables().into_iter().for_each(cases::gemm_nt_i8_bad_shapes);
}

#[test]
fn gemm_nt_i8_scratch_is_reused() {
    tables()
        .into_iter()
        .for_each(cases::gemm_nt_i8_scratch_is_reused);
}

#[test]
fn quantize_rows_i8_same_bits() {
    tables()
        .into_iter()
        .for_each(cases::quantize_rows_i8_same_bits);
}

#[test]
fn quantize_i8_round_trips() {
    cases::quantize_i8_round_trips();
}
