//! The checks of the one-to-many f32 scan in every loop shape a table has: the wasm32 simd128
//! scan takes one shape for a compiling engine (several rows at a time, the default) and
//! another for an interpreter (the query held in locals), chosen by
//! `kernels::set_engine_hint`. Both must return the bits of the scalar scan and of the
//! table's own single-vector kernels, whatever the row count (fewer rows than a group, a
//! group and a remainder), the dimension (every tail of the 8-element steps and of the
//! 64-element query blocks) and the alignment. Written for `alloc` and `core` only (failures
//! are panics), so the wasm32 harness (`tests/wasm-kernels`, run in V8 and in wasmi) runs
//! them where the simd128 table exists; natively the hint is ignored and the same checks
//! still hold.

#![allow(dead_code)] // each user runs the checks it can

use alloc::vec;
use alloc::vec::Vec;

use ferrovec_core::kernels::{engine_hint, set_engine_hint, EngineHint, Isa, Kernels, Metric};

#[path = "rng.rs"]
mod rng;
use rng::Rng;

/// Both hints, each followed by the checks; the hint is left at the default afterwards.
pub fn all(k: &Kernels) {
    for hint in [EngineHint::Interpreter, EngineHint::Compiler] {
        set_engine_hint(hint);
        assert_eq!(engine_hint(), hint);
        scan_bits_match_scalar_and_pairwise(k, hint);
        scan_zero_norm_rows(k, hint);
    }
    set_engine_hint(EngineHint::default());
    assert_eq!(engine_hint(), EngineHint::Compiler);
}

/// Every tail of the 8-element steps (0..=17), around the loop unrolled by 2 or 4 steps
/// (15..=17, 31..=33) and the interpreter shape's 64-element query blocks (63..=65,
/// 127..=129), an embedding size and its neighbours.
const DIMS: [usize; 30] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128,
    129, 200, 383, 384, 385,
];

/// Fewer rows than a group of 2 or 4, whole groups, and groups with every remainder; 70
/// rows also fill the compiler shape's batch of pending cosine pairs (8) four times and leave 2.
const ROWS: [usize; 15] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 17, 70];

const METRICS: [Metric; 3] = [Metric::Dot, Metric::Cosine, Metric::L2sq];

fn f32s(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.value() as f32).collect()
}

/// The table's single-vector kernel for one row (the scan's promised bits).
fn pairwise(k: &Kernels, metric: Metric, query: &[f32], row: &[f32]) -> f32 {
    match metric {
        Metric::Dot => -k.dot_f32(query, row).unwrap(),
        Metric::L2sq => k.l2sq_f32(query, row).unwrap(),
        Metric::Cosine => k.cosine_distance_f32(query, row).unwrap(),
    }
}

fn scan(k: &Kernels, metric: Metric, query: &[f32], rows: &[f32], n_rows: usize) -> Vec<f32> {
    let mut out = vec![f32::NAN; n_rows];
    k.scan_f32(metric, query, rows, &mut out).unwrap();
    out
}

fn scan_bits_match_scalar_and_pairwise(k: &Kernels, hint: EngineHint) {
    let scalar = Kernels::for_isa(Isa::Scalar).unwrap();
    // The scalar table defines the bits for the tables without FMA (scalar and simd128);
    // the x86_64 and aarch64 tables fuse multiply-adds and only match themselves.
    let same_as_scalar = matches!(k.isa(), Isa::Scalar | Isa::Simd128);
    let mut rng = Rng(0x5ca9);
    for dims in DIMS {
        let query = f32s(&mut rng, dims);
        let max_rows = ROWS[ROWS.len() - 1];
        let all_rows = f32s(&mut rng, max_rows * dims + 3);
        for n_rows in ROWS {
            // Offsets 1 and 3 leave the rows unaligned to 16 bytes.
            for off in [0, 1, 3] {
                let rows = &all_rows[off..off + n_rows * dims];
                for metric in METRICS {
                    let got = scan(k, metric, &query, rows, n_rows);
                    let want_scalar = scan(scalar, metric, &query, rows, n_rows);
                    for (r, &g) in got.iter().enumerate() {
                        let single = match dims {
                            0 => got[r],
                            _ => pairwise(k, metric, &query, &rows[r * dims..(r + 1) * dims]),
                        };
                        assert_eq!(
                            g.to_bits(),
                            single.to_bits(),
                            "{} {hint:?} {metric:?} d={dims} rows={n_rows} off={off} row={r}: \
                             scan {g} vs single-vector kernel {single}",
                            k.variant()
                        );
                        if same_as_scalar {
                            let w = want_scalar[r];
                            assert_eq!(
                                g.to_bits(),
                                w.to_bits(),
                                "{} {hint:?} {metric:?} d={dims} rows={n_rows} off={off} \
                                 row={r}: scan {g} vs scalar scan {w}",
                                k.variant()
                            );
                        }
                    }
                    if dims == 0 {
                        let empty = match metric {
                            Metric::Dot => -0.0f32,
                            Metric::Cosine | Metric::L2sq => 0.0,
                        };
                        assert!(got.iter().all(|g| g.to_bits() == empty.to_bits()));
                    }
                }
            }
        }
    }
}

/// A zero row (cosine distance 1 by convention) and a zero query, in every position of a
/// group of rows, and rows holding an infinity and a NaN (which must stay in their own row).
fn scan_zero_norm_rows(k: &Kernels, hint: EngineHint) {
    let mut rng = Rng(0x2e80);
    for dims in [5, 8, 19, 70] {
        let n_rows = 7;
        for special in 0..n_rows {
            let query = f32s(&mut rng, dims);
            let mut rows = f32s(&mut rng, n_rows * dims);
            rows[special * dims..(special + 1) * dims].fill(0.0);
            let inf_row = (special + 3) % n_rows;
            rows[inf_row * dims + dims / 2] = f32::INFINITY;
            let nan_row = (special + 5) % n_rows;
            rows[nan_row * dims + dims - 1] = f32::NAN;
            let zero_query = vec![0.0f32; dims];
            for q in [&query, &zero_query] {
                for metric in METRICS {
                    let got = scan(k, metric, q, &rows, n_rows);
                    for (r, &g) in got.iter().enumerate() {
                        let single = pairwise(k, metric, q, &rows[r * dims..(r + 1) * dims]);
                        assert_eq!(
                            g.to_bits(),
                            single.to_bits(),
                            "{} {hint:?} {metric:?} d={dims} special row {special}, row {r}: \
                             scan {g} vs single-vector kernel {single}",
                            k.variant()
                        );
                    }
                    assert!(
                        got[nan_row].is_nan(),
                        "{} {hint:?} {metric:?}: NaN row",
                        k.variant()
                    );
                    for (r, g) in got.iter().enumerate() {
                        if r != nan_row && r != inf_row {
                            assert!(!g.is_nan(), "{} {hint:?} {metric:?} row {r}", k.variant());
                        }
                    }
                }
            }
        }
    }
}
