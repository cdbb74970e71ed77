//! The half-precision distance kernels on every table this machine runs. The checks live in
//! `support/half_cases.rs`, written so the wasm32 harness can run them on its own tables.

extern crate alloc;

#[path = "support/half_cases.rs"]
mod cases;

use ferrovec_core::kernels::Kernels;

#[test]
fn every_table_passes_the_half_cases() {
    let tables: Vec<_> = Kernels::variants().collect();
    let names: Vec<_> = tables.iter().map(|k| k.variant()).collect();
    eprintln!("kernel tables under test: {names:?}");
    assert!(!tables.is_empty());
    for k in tables {
        cases::all(k);
    }
}
