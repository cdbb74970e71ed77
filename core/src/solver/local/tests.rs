//! Local solve tests: random strictly diagonally dominant matrices (non-symmetric, mixed
//! signs) against an exact dense solve in f64; the deterministic bound, the walks'
//! probabilistic bound, the caller's `q` and `c_max` checked on the rows read (and trusted
//! elsewhere), budgets, locality on a large matrix, bad input, determinism.

// The dense reference indexes rows and columns the way the formulas read.
#![allow(clippy::needless_range_loop)]

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::rng::Rng;
use super::*;
use crate::sparse::CsrMatrix;

/// A random `n x n` matrix with about `per_row` off-diagonal entries per row (random signs
/// and sizes) and a diagonal of random sign with `sum_{l != j} |a_jl| = q_j |a_jj|`,
/// `q_j` uniform in `[0, q]` (row 0 exactly `q` when `tight_row0`).
fn sdd(rng: &mut Rng, n: usize, per_row: usize, q: f64, tight_row0: bool) -> CsrMatrix {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..n {
        let mut off = 0.0;
        for _ in 0..per_row {
            let l = (rng.unit() * n as f64) as usize;
            if l == j {
                continue;
            }
            let x = (rng.unit() - 0.5) * 4.0;
            off += x.abs();
            r.push(j as u32);
            c.push(l as u32);
            v.push(x);
        }
        let qj = if j == 0 && tight_row0 {
            q
        } else {
            q * rng.unit()
        };
        let mut d = if off == 0.0 {
            1.0 + rng.unit()
        } else {
            off / qj.max(1e-3)
        };
        if rng.unit() < 0.3 {
            d = -d;
        }
        r.push(j as u32);
        c.push(j as u32);
        v.push(d);
    }
    // Repeated (j, l) pairs are summed: |sum| <= sum of |.|, dominance only improves.
    CsrMatrix::from_triplets(n, n, &r, &c, &v).unwrap()
}

fn dense_solve(a: &CsrMatrix, b: &[f64]) -> Vec<f64> {
    let n = a.n_rows();
    let mut m = vec![vec![0.0; n]; n];
    for (i, (cols, vals)) in a.rows().enumerate() {
        for (&j, &x) in cols.iter().zip(vals) {
            m[i][j as usize] = x;
        }
    }
    let mut b = b.to_vec();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| m[i][k].abs().total_cmp(&m[j][k].abs()))
            .unwrap();
        m.swap(k, p);
        b.swap(k, p);
        for i in k + 1..n {
            let f = m[i][k] / m[k][k];
            if f != 0.0 {
                for j in k..n {
                    m[i][j] -= f * m[k][j];
                }
                b[i] -= f * b[k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let mut s = b[k];
        for j in k + 1..n {
            s -= m[k][j] * x[j];
        }
        x[k] = s / m[k][k];
    }
    x
}

fn random_b(rng: &mut Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| (rng.unit() - 0.5) * 10.0).collect()
}

/// Rounding slack, relative to the scale of the solution.
fn slack(x: &[f64]) -> f64 {
    1e-11 * x.iter().fold(1.0f64, |m, v| m.max(v.abs()))
}

#[test]
fn push_bound_holds_on_random_matrices() {
    let mut rng = Rng::new(1);
    let mut checked = 0;
    for (k, &(n, per_row, q)) in [(30, 3, 0.5), (60, 5, 0.8), (90, 8, 0.95), (50, 2, 0.2)]
        .iter()
        .enumerate()
    {
        for rep in 0..3 {
            let a = sdd(&mut rng, n, per_row, q, false);
            let b = random_b(&mut rng, n);
            let x = dense_solve(&a, &b);
            for i in [0, n / 2, n - 1] {
                for tol in [1e-1, 1e-4, 1e-9] {
                    // Computed q and c_max, and the caller's (looser) q.
                    for dominance in [None, Some(q)] {
                        let o = LocalSolveOptions {
                            tol,
                            dominance,
                            ..Default::default()
                        };
                        let r = solve_entry(a.view(), &Rhs::Dense(&b), i, &o).unwrap();
                        let err = (x[i] - r.estimate).abs();
                        assert!(r.converged && r.stop == Stop::Converged, "case {k}.{rep}");
                        assert!(r.push_bound <= tol);
                        assert!(
                            err <= r.error_bound + slack(&x),
                            "case {k}.{rep} i={i} tol={tol}: error {err} > bound {}",
                            r.error_bound
                        );
                        assert_eq!(r.failure_probability, 0.0);
                        assert!(r.q <= q + 1e-15 && r.c_max > 0.0);
                        assert!(r.rows_read as u64 <= r.pushes && r.touched <= n);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked >= 200, "{checked}");
}

#[test]
fn functionals_and_sparse_b() {
    let mut rng = Rng::new(2);
    let n = 70;
    let a = sdd(&mut rng, n, 4, 0.7, false);
    // A sparse b (few non-zeros) and its dense twin give the same answer.
    let bi = [3u32, 40, 17];
    let bv = [2.0, -1.5, 0.25];
    let mut b = vec![0.0; n];
    for (&i, &v) in bi.iter().zip(&bv) {
        b[i as usize] = v;
    }
    let x = dense_solve(&a, &b);
    let ui = [5u32, 40, 69];
    let uv = [1.0, -2.0, 0.5];
    let want: f64 = ui.iter().zip(&uv).map(|(&i, &w)| w * x[i as usize]).sum();
    let o = LocalSolveOptions {
        tol: 1e-8,
        ..Default::default()
    };
    let sparse = solve_functional(
        a.view(),
        &Rhs::Sparse {
            indices: &bi,
            values: &bv,
        },
        &ui,
        &uv,
        &o,
    )
    .unwrap();
    let dense = solve_functional(a.view(), &Rhs::Dense(&b), &ui, &uv, &o).unwrap();
    assert_eq!(sparse.estimate.to_bits(), dense.estimate.to_bits());
    assert_eq!(sparse.c_max, dense.c_max);
    assert!((want - sparse.estimate).abs() <= sparse.error_bound + slack(&x));
    // b = 0: x = 0, exactly, with a zero bound.
    let r = solve_entry(
        a.view(),
        &Rhs::Sparse {
            indices: &[],
            values: &[],
        },
        4,
        &o,
    )
    .unwrap();
    assert_eq!((r.estimate, r.error_bound, r.converged), (0.0, 0.0, true));
    // u = 0: nothing to estimate.
    let r = solve_functional(a.view(), &Rhs::Dense(&b), &[], &[], &o).unwrap();
    assert_eq!((r.estimate, r.error_bound, r.pushes), (0.0, 0.0, 0));
}

#[test]
fn callers_bounds_are_checked_on_rows_read_and_trusted_elsewhere() {
    // Two blocks with no entry between them: rows 0..20 (row 0 has ratio 0.9), rows
    // 20..40 (ratios <= 0.5).
    let mut rng = Rng::new(3);
    let a1 = sdd(&mut rng, 20, 4, 0.9, true);
    let a2 = sdd(&mut rng, 20, 4, 0.5, false);
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for (off, m) in [(0u32, &a1), (20, &a2)] {
        for (i, (cols, vals)) in m.rows().enumerate() {
            for (&j, &x) in cols.iter().zip(vals) {
                r.push(i as u32 + off);
                c.push(j + off);
                v.push(x);
            }
        }
    }
    let a = CsrMatrix::from_triplets(40, 40, &r, &c, &v).unwrap();
    let b = random_b(&mut rng, 40);
    let x = dense_solve(&a, &b);
    let o = LocalSolveOptions {
        tol: 1e-6,
        dominance: Some(0.6),
        ..Default::default()
    };
    // From row 25 only the second block is reachable: q = 0.6 is true there; row 0 is
    // never read, and the bound holds.
    let ok = solve_entry(a.view(), &Rhs::Dense(&b), 25, &o).unwrap();
    assert!((x[25] - ok.estimate).abs() <= ok.error_bound + slack(&x));
    // From row 0 the violating row is read: an error naming it.
    match solve_entry(a.view(), &Rhs::Dense(&b), 0, &o) {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("row 0") && m.contains("q = 0.6"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // A c_max below some |b_j / a_jj| on a row read: an error; a valid one: the bound.
    let c_true: f64 = (20..40)
        .map(|j| (b[j] / a.get(j, j).unwrap()).abs())
        .fold(0.0, f64::max);
    let small = LocalSolveOptions {
        c_max: Some(c_true * 0.5),
        ..o
    };
    assert!(matches!(
        solve_entry(a.view(), &Rhs::Dense(&b), 25, &small),
        Err(Error::InvalidArgument(m)) if m.contains("c_max")
    ));
    let given = LocalSolveOptions {
        c_max: Some(c_true * 2.0),
        ..o
    };
    let r = solve_entry(a.view(), &Rhs::Dense(&b), 25, &given).unwrap();
    assert_eq!(r.c_max, c_true * 2.0);
    assert!((x[25] - r.estimate).abs() <= r.error_bound + slack(&x));
    // With dominance = None the global q (0.9) is computed and used.
    let r = solve_entry(a.view(), &Rhs::Dense(&b), 0, &LocalSolveOptions::default()).unwrap();
    assert!((r.q - 0.9).abs() < 1e-12, "{}", r.q);
}

#[test]
fn walks_refine_within_their_probabilistic_bound() {
    let mut rng = Rng::new(4);
    let mut trials = 0;
    let mut tighter = 0;
    for &(n, q) in &[(40usize, 0.5), (80, 0.8), (60, 0.3)] {
        for rep in 0..4 {
            let a = sdd(&mut rng, n, 4, q, false);
            let b = random_b(&mut rng, n);
            let x = dense_solve(&a, &b);
            for i in [1, n / 3] {
                let o = LocalSolveOptions {
                    tol: 0.5,
                    dominance: Some(q),
                    walks: 4000,
                    seed: rep,
                    ..Default::default()
                };
                let r = solve_entry(a.view(), &Rhs::Dense(&b), i, &o).unwrap();
                // The push part keeps its deterministic bound.
                assert!((x[i] - r.push_estimate).abs() <= r.push_bound + slack(&x));
                if r.push_bound > 0.0 {
                    assert_eq!(r.walks, 4000);
                }
                assert!(r.error_bound <= r.push_bound);
                if r.failure_probability > 0.0 {
                    tighter += 1;
                }
                // Probability of exceeding: at most 1e-3 each; Hoeffding is loose.
                assert!(
                    (x[i] - r.estimate).abs() <= r.error_bound + slack(&x),
                    "n={n} rep={rep} i={i}: {} vs {} +- {}",
                    x[i],
                    r.estimate,
                    r.error_bound
                );
                trials += 1;
            }
        }
    }
    assert!(
        trials >= 24 && tighter >= trials / 2,
        "{tighter} of {trials}"
    );
}

#[test]
fn walks_alone_are_unbiased() {
    // No push at all (budget 0): the whole series is left to the walks, so a biased walk
    // (a wrong sign, a wrong transition probability) shows as an error far outside the
    // bound. Over the cases the mean error must also be a small fraction of the bound.
    let mut rng = Rng::new(12);
    let mut ratio_sum = 0.0;
    let mut cases = 0;
    for &(n, q) in &[(40usize, 0.8), (60, 0.9), (30, 0.6)] {
        for rep in 0..5 {
            let a = sdd(&mut rng, n, 4, q, true);
            let b = random_b(&mut rng, n);
            let x = dense_solve(&a, &b);
            let i = rep as usize % n;
            let o = LocalSolveOptions {
                dominance: Some(q),
                max_pushes: 0,
                walks: 20_000,
                seed: rep,
                ..Default::default()
            };
            let r = solve_entry(a.view(), &Rhs::Dense(&b), i, &o).unwrap();
            assert_eq!((r.pushes, r.push_estimate), (0, 0.0));
            assert!(r.failure_probability > 0.0 && r.walks == 20_000);
            let err = (x[i] - r.estimate).abs();
            assert!(
                err <= r.error_bound,
                "n={n} rep={rep}: {err} > {}",
                r.error_bound
            );
            ratio_sum += err / r.push_bound;
            cases += 1;
        }
    }
    // Standard error of the mean is ~ B / sqrt(20,000) ~ 0.007 B at most.
    assert!(
        ratio_sum / (cases as f64) < 0.01,
        "{}",
        ratio_sum / cases as f64
    );
}

#[test]
fn walks_are_deterministic_for_a_seed() {
    let mut rng = Rng::new(5);
    let a = sdd(&mut rng, 50, 4, 0.6, false);
    let b = random_b(&mut rng, 50);
    let o = LocalSolveOptions {
        tol: 0.5,
        dominance: Some(0.6),
        walks: 300,
        seed: 9,
        ..Default::default()
    };
    let r1 = solve_entry(a.view(), &Rhs::Dense(&b), 7, &o).unwrap();
    let r2 = solve_entry(a.view(), &Rhs::Dense(&b), 7, &o).unwrap();
    assert_eq!(r1, r2);
    let r3 = solve_entry(
        a.view(),
        &Rhs::Dense(&b),
        7,
        &LocalSolveOptions { seed: 10, ..o },
    )
    .unwrap();
    assert_ne!(r1.estimate, r3.estimate);
    // The same bits on every platform (computed on x86_64; the aarch64 and wasm32 runs of
    // the core tests must reproduce it).
    let walk_part = r1.estimate - r1.push_estimate;
    assert_eq!(
        (r1.estimate.to_bits(), r1.walk_steps),
        GOLDEN,
        "{} ({:#x}), walk part {walk_part}, steps {}",
        r1.estimate,
        r1.estimate.to_bits(),
        r1.walk_steps
    );
}

/// `(estimate bits, walk steps)` of `walks_are_deterministic_for_a_seed` on x86_64.
const GOLDEN: (u64, u64) = (0x3f85_7073_b5d2_7168, 241);

#[test]
fn budgets_end_in_an_honest_partial_answer() {
    let mut rng = Rng::new(6);
    let a = sdd(&mut rng, 60, 5, 0.9, false);
    let b = random_b(&mut rng, 60);
    let x = dense_solve(&a, &b);
    for budget in [0u64, 1, 5, 20] {
        let o = LocalSolveOptions {
            tol: 1e-12,
            max_pushes: budget,
            ..Default::default()
        };
        let r = solve_entry(a.view(), &Rhs::Dense(&b), 3, &o).unwrap();
        assert!(!r.converged && r.stop == Stop::MaxWork, "budget {budget}");
        assert_eq!(r.pushes, budget);
        assert!((x[3] - r.estimate).abs() <= r.error_bound + slack(&x));
    }
    let o = LocalSolveOptions {
        tol: 1.0,
        dominance: Some(0.9),
        walks: 1_000_000,
        max_walk_steps: 50,
        ..Default::default()
    };
    let r = solve_entry(a.view(), &Rhs::Dense(&b), 3, &o).unwrap();
    assert!(!r.converged && r.stop == Stop::MaxWork);
    assert!(r.walk_steps <= 50 && r.walks < 1_000_000);
    assert!((x[3] - r.estimate).abs() <= r.error_bound + slack(&x));
}

#[test]
fn an_unreachable_tolerance_stops_instead_of_looping() {
    let mut rng = Rng::new(8);
    let a = sdd(&mut rng, 30, 4, 0.99, false);
    let b = random_b(&mut rng, 30);
    let o = LocalSolveOptions {
        tol: 1e-320,
        max_pushes: 5_000_000,
        ..Default::default()
    };
    let r = solve_entry(a.view(), &Rhs::Dense(&b), 0, &o).unwrap();
    assert!(r.converged == (r.push_bound <= 1e-320));
    if !r.converged {
        assert!(
            matches!(r.stop, Stop::Breakdown | Stop::MaxWork),
            "{:?}",
            r.stop
        );
    }
}

#[test]
fn the_solve_is_local() {
    // 200,000 rows, ~6 entries each, q = 0.5. The residual's support grows like 5^k while
    // its mass shrinks like (mean ratio)^k, so a moderate tolerance reads a sliver of A; a
    // tiny one would read it all (see the module docs).
    let n = 200_000;
    let mut rng = Rng::new(9);
    let a = sdd(&mut rng, n, 5, 0.5, false);
    let b = vec![1.0; n];
    // The caller knows its bounds (here: from the construction, computed by the test).
    let c_true = (0..n)
        .map(|j| 1.0 / a.get(j, j).unwrap().abs())
        .fold(0.0, f64::max);
    let o = LocalSolveOptions {
        tol: 1e-3,
        dominance: Some(0.5),
        c_max: Some(c_true),
        ..Default::default()
    };
    let r = solve_entry(a.view(), &Rhs::Dense(&b), 123_456, &o).unwrap();
    assert!(r.converged);
    // Every entry was created by an entry read (or is u's); here ~5,000 of 200,000, from
    // ~1,000 rows read.
    assert!(r.touched as u64 <= r.work + 1);
    assert!(r.touched < n / 20, "touched {}", r.touched);
    assert!(r.rows_read < n / 100, "rows read {}", r.rows_read);
    assert!(r.work < (n / 10) as u64, "work {}", r.work);
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut rng = Rng::new(10);
    let a = sdd(&mut rng, 10, 3, 0.5, false);
    let b = random_b(&mut rng, 10);
    let d = LocalSolveOptions::default;
    let invalid = |r: Result<LocalSolve>| matches!(r, Err(Error::InvalidArgument(_)));
    let dense = Rhs::Dense(&b);
    assert!(invalid(solve_entry(a.view(), &dense, 10, &d())));
    for tol in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(invalid(solve_entry(
            a.view(),
            &dense,
            0,
            &LocalSolveOptions { tol, ..d() }
        )));
    }
    for q in [-0.1, 1.0, 2.0, f64::NAN] {
        let o = LocalSolveOptions {
            dominance: Some(q),
            ..d()
        };
        assert!(invalid(solve_entry(a.view(), &dense, 0, &o)), "q {q}");
    }
    for c in [-1.0, f64::NAN, f64::INFINITY] {
        let o = LocalSolveOptions {
            c_max: Some(c),
            ..d()
        };
        assert!(invalid(solve_entry(a.view(), &dense, 0, &o)), "c_max {c}");
    }
    for f in [0.0, 1.0, f64::NAN] {
        let o = LocalSolveOptions {
            failure_probability: f,
            ..d()
        };
        assert!(invalid(solve_entry(a.view(), &dense, 0, &o)));
    }
    assert!(matches!(
        solve_entry(a.view(), &Rhs::Dense(&b[..9]), 0, &d()),
        Err(Error::DimensionMismatch {
            expected: 10,
            actual: 9
        })
    ));
    let mut nan = b.clone();
    nan[4] = f64::NAN;
    assert!(invalid(solve_entry(a.view(), &Rhs::Dense(&nan), 0, &d())));
    let sparse = |i: &'static [u32], v: &'static [f64]| Rhs::Sparse {
        indices: i,
        values: v,
    };
    assert!(invalid(solve_entry(
        a.view(),
        &sparse(&[10], &[1.0]),
        0,
        &d()
    )));
    assert!(invalid(solve_entry(
        a.view(),
        &sparse(&[2, 2], &[1.0, 1.0]),
        0,
        &d()
    )));
    assert!(invalid(solve_entry(
        a.view(),
        &sparse(&[2], &[f64::INFINITY]),
        0,
        &d()
    )));
    assert!(invalid(solve_functional(
        a.view(),
        &dense,
        &[1, 1],
        &[1.0, 1.0],
        &d()
    )));
    assert!(invalid(solve_functional(
        a.view(),
        &dense,
        &[11],
        &[1.0],
        &d()
    )));
    assert!(invalid(solve_functional(
        a.view(),
        &dense,
        &[1],
        &[f64::NAN],
        &d()
    )));
    assert!(matches!(
        solve_functional(a.view(), &dense, &[1], &[], &d()),
        Err(Error::DimensionMismatch { .. })
    ));
    // Not square, empty.
    let rect = CsrMatrix::from_triplets(2, 3, &[0, 1], &[0, 1], &[1.0, 1.0]).unwrap();
    assert!(matches!(
        solve_entry(rect.view(), &Rhs::Dense(&[1.0, 1.0]), 0, &d()),
        Err(Error::DimensionMismatch { .. })
    ));
    let empty = CsrMatrix::zeros(0, 0).unwrap();
    assert!(invalid(solve_functional(
        empty.view(),
        &Rhs::Dense(&[]),
        &[],
        &[],
        &d()
    )));
    // Not dominant: refused when q is computed, and a zero diagonal read is refused too.
    let nd = CsrMatrix::from_triplets(2, 2, &[0, 0, 1], &[0, 1, 1], &[1.0, 2.0, 1.0]).unwrap();
    match solve_entry(nd.view(), &Rhs::Dense(&[1.0, 1.0]), 0, &d()) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("row 0"), "{m}"),
        other => panic!("{other:?}"),
    }
    let zd = CsrMatrix::from_triplets(2, 2, &[0, 1], &[1, 1], &[0.1, 1.0]).unwrap();
    let o = LocalSolveOptions {
        dominance: Some(0.5),
        c_max: Some(10.0),
        ..d()
    };
    assert!(invalid(solve_entry(
        zd.view(),
        &Rhs::Dense(&[1.0, 1.0]),
        0,
        &o
    )));
    let _ = format!("{:?}", d());
}
