//! The f64 solver kernels (SpMV over CSR, the fused vector operations) on every table this
//! machine runs, against an independent implementation of their documented summation order
//! (exact bits) and a compensated reference (the documented error bound). The checks live
//! in `support/sparse_cases.rs`, which the wasm32 harness (`tests/wasm-kernels`) runs on the
//! scalar-wasm and simd128 tables too.

extern crate alloc;

#[path = "support/sparse_cases.rs"]
mod cases;

use ferrovec_core::kernels::{self, CsrRef, Kernels};

fn tables() -> Vec<&'static Kernels> {
    let tables: Vec<_> = Kernels::variants().collect();
    let names: Vec<_> = tables.iter().map(|k| k.variant()).collect();
    eprintln!("kernel tables under test: {names:?}");
    tables
}

#[test]
fn matrix_kernels_match_reference() {
    tables()
        .into_iter()
        .for_each(cases::matrix_kernels_match_reference);
}

#[test]
fn benchmark_shapes_match_reference() {
    tables()
        .into_iter()
        .for_each(cases::benchmark_shapes_match_reference);
}

#[test]
fn vector_kernels_match_reference() {
    tables()
        .into_iter()
        .for_each(cases::vector_kernels_match_reference);
}

#[test]
fn nrm2_is_safe() {
    tables().into_iter().for_each(cases::nrm2_is_safe);
}

#[test]
fn special_values() {
    tables().into_iter().for_each(cases::special_values);
}

#[test]
fn bad_lengths_are_errors() {
    tables().into_iter().for_each(cases::bad_lengths_are_errors);
}

#[test]
fn csr_validation() {
    cases::csr_validation();
}

/// Every table returns the scalar table's bits on a larger problem (a 2D Poisson matrix and
/// random columns), for every kernel: the promise the solvers' cross-backend tests rely on.
#[test]
fn every_table_gives_the_scalar_bits() {
    let mut rng = cases::Rng(41);
    let scalar = Kernels::for_isa(kernels::Isa::Scalar).unwrap();
    let poisson = cases::poisson_2d(60);
    let random = cases::random_csr(&mut rng, 3000, 3000, |rng, _| 1 + rng.below(12));
    for m in [&poisson, &random] {
        let a = CsrRef::new(m.n_cols, &m.row_ptr, &m.col_idx, &m.values).unwrap();
        let n = m.n_rows();
        let (x, w) = (rng.values(n), rng.values(n));
        let run = |k: &Kernels| {
            let mut y = vec![0.0; n];
            let mut out = vec![];
            out.extend(k.spmv_dots_csr_f64(&a, &x, &w, &mut y).unwrap());
            out.extend(y.iter().copied());
            let mut next = vec![0.0; n];
            out.push(k.jacobi_csr_f64(&a, &w, &x, &y, &mut next).unwrap());
            out.extend(next.iter().copied());
            out.push(k.nrm2_f64(&next));
            out.extend(k.axpy_dots_f64(-0.3, &x, &mut y, &w).unwrap());
            out.extend(y);
            out.iter().map(|v| v.to_bits()).collect::<Vec<u64>>()
        };
        let want = run(scalar);
        for k in tables() {
            assert!(run(k) == want, "{} differs from scalar", k.variant());
        }
    }
}

/// The free functions run on the active table (FERROVEC_ISA, `force`).
#[test]
fn free_functions_use_the_active_table() {
    let a = CsrRef::new(2, &[0, 2, 3], &[0, 1, 1], &[1.0, 2.0, 3.0]).unwrap();
    let mut y = [0.0; 2];
    kernels::spmv_csr_f64(&a, &[1.0, 10.0], &mut y).unwrap();
    assert_eq!(y, [21.0, 30.0]);
    let x: Vec<f64> = (0..37).map(|i| i as f64 * 0.1).collect();
    let active = Kernels::active();
    assert_eq!(
        kernels::dot_f64(&x, &x).unwrap().to_bits(),
        active.dot_f64(&x, &x).unwrap().to_bits()
    );
    assert_eq!(kernels::nrm2_f64(&[3.0, 4.0]), 5.0);
}
