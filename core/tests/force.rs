//! Forcing the process-wide instruction set (its own test binary: it changes global state).

use ferrovec_core::kernels::{self, Isa, Kernels};

#[test]
fn force_switches_the_active_table_and_back() {
    let best = kernels::active_isa();
    let a: Vec<f32> = (0..300).map(|i| i as f32 * 0.01).collect();
    let reference = Kernels::for_isa(Isa::Scalar)
        .unwrap()
        .dot_f32(&a, &a)
        .unwrap();
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_available()) {
        kernels::force(isa).unwrap();
        assert_eq!(kernels::active_isa(), isa);
        assert_eq!(Kernels::active().isa(), isa);
        let got = kernels::dot_f32(&a, &a).unwrap();
        assert!(
            (got - reference).abs() <= 1e-5 * reference,
            "{isa}: {got} vs {reference}"
        );
    }
    kernels::force(best).unwrap();
    assert_eq!(kernels::active_isa(), best);
}
