//! `ferrovec::solver` on the Interpreted backend (the solver modules of ABI v3, scalar and
//! simd128, in wasmi) against the native engine: every method on small matrices and graphs
//! (deterministic results within 1e-12 relative, iteration and work counts equal, seeded
//! walks identical), the same typed errors for the same bad input, and recovery after a
//! call that ran out of fuel.

mod index_support;

use ferrovec::backend::{BundledModule, InterpretedOptions};
use ferrovec::solver::{
    BackwardPushOptions, Graph, LocalSolveOptions, PageRankOptions, PairOptions, Personalization,
    Preconditioner, PushOptions, PushResult, Rhs, SolveOptions, SparseMatrix,
};
use ferrovec::{Engine, Error};
use index_support::built_module;

/// The bytes of `which`'s solver module from `make wasm` (None, loudly, if not built).
fn built_solver_module(which: BundledModule) -> Option<Vec<u8>> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm")
        .join(which.solver_file_name());
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(err) => {
            let required = std::env::var_os("FERROVEC_REQUIRE_WASM").is_some_and(|v| v == "1");
            assert!(
                !required,
                "{} is required but unreadable: {err}",
                path.display()
            );
            eprintln!("SKIPPING the checks that need {}: {err}", path.display());
            None
        }
    }
}

fn options(which: BundledModule) -> Option<InterpretedOptions> {
    Some(
        InterpretedOptions::new()
            .module(built_module(which)?)
            .solver_module(built_solver_module(which)?),
    )
}

/// Both interpreted engines (scalar and simd modules), when built.
fn interpreted() -> Vec<(&'static str, Engine)> {
    [
        ("scalar", BundledModule::Scalar),
        ("simd", BundledModule::Simd),
    ]
    .into_iter()
    .filter_map(|(name, which)| {
        Some((
            name,
            Engine::interpreted(&options(which)?).expect("the built modules load"),
        ))
    })
    .collect()
}

/// A strictly diagonally dominant, nonsymmetric `n x n` matrix (deterministic).
fn dominant(n: usize) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let mut off = 0.0;
        for (k, j) in [(i + 1) % n, (i + 3) % n, (i * 7 + 2) % n]
            .into_iter()
            .enumerate()
        {
            if j != i {
                let w = -0.3 - 0.1 * k as f64 - 0.01 * (i % 5) as f64;
                r.push(i as u32);
                c.push(j as u32);
                v.push(w);
                off += f64::abs(w);
            }
        }
        r.push(i as u32);
        c.push(i as u32);
        v.push(off + 1.0 + (i % 3) as f64);
    }
    (r, c, v)
}

/// The 2D Poisson matrix plus `shift` on the diagonal (SPD).
fn poisson(k: usize, shift: f64) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    let id = |i: usize, j: usize| (i * k + j) as u32;
    for i in 0..k {
        for j in 0..k {
            let mut put = |col: u32, val: f64| {
                r.push(id(i, j));
                c.push(col);
                v.push(val);
            };
            put(id(i, j), 4.0 + shift);
            if i > 0 {
                put(id(i - 1, j), -1.0);
            }
            if i + 1 < k {
                put(id(i + 1, j), -1.0);
            }
            if j > 0 {
                put(id(i, j - 1), -1.0);
            }
            if j + 1 < k {
                put(id(i, j + 1), -1.0);
            }
        }
    }
    (r, c, v)
}

fn rhs(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect()
}

/// A weighted directed graph with dangling nodes, a self-loop and a zero-weight edge.
fn graph_edges() -> (usize, Vec<u32>, Vec<u32>, Vec<f64>) {
    let n = 40;
    let (mut s, mut d, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for u in 0..n as u32 {
        if u % 9 == 4 {
            continue; // dangling
        }
        for k in 1..=(1 + u % 4) {
            s.push(u);
            d.push((u * 7 + k * 5) % n as u32);
            w.push(0.5 + f64::from((u + k) % 3));
        }
    }
    s.push(3);
    d.push(3);
    w.push(1.0);
    s.push(5);
    d.push(6);
    w.push(0.0);
    (n, s, d, w)
}

#[track_caller]
fn close(what: &str, a: f64, b: f64) {
    let scale = a.abs().max(b.abs());
    assert!(
        a == b || (a - b).abs() <= 1e-12 * scale,
        "{what}: {a:e} vs {b:e} (rel {:e})",
        (a - b).abs() / scale
    );
}

#[track_caller]
fn close_all(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x == y || (x - y).abs() <= 1e-12 * scale,
            "{what}[{i}]: {x:e} vs {y:e}"
        );
    }
}

#[track_caller]
fn same_push(what: &str, a: &PushResult, b: &PushResult) {
    assert_eq!(a.report.pushes, b.report.pushes, "{what}: pushes");
    assert_eq!(a.report.work, b.report.work, "{what}: work");
    assert_eq!(a.report.touched, b.report.touched, "{what}: touched");
    assert_eq!(a.report.converged, b.report.converged, "{what}");
    assert_eq!(a.report.stop, b.report.stop, "{what}");
    close(what, a.report.error_bound, b.report.error_bound);
    close(what, a.report.residual_mass, b.report.residual_mass);
    assert_eq!(a.scores.len(), b.scores.len(), "{what}: result count");
    for (x, y) in a.scores.iter().zip(&b.scores) {
        assert_eq!(x.0, y.0, "{what}: node order");
        close(what, x.1, y.1);
    }
}

#[test]
fn linear_solvers_match_native() {
    let native = Engine::native();
    let (r, c, v) = poisson(7, 0.5);
    let (dr, dc, dv) = dominant(60);
    let spd_n = SparseMatrix::from_triplets(&native, 49, 49, &r, &c, &v).unwrap();
    let dom_n = SparseMatrix::from_triplets(&native, 60, 60, &dr, &dc, &dv).unwrap();
    for (name, engine) in interpreted() {
        let spd = SparseMatrix::from_triplets(&engine, 49, 49, &r, &c, &v).unwrap();
        let dom = SparseMatrix::from_triplets(&engine, 60, 60, &dr, &dc, &dv).unwrap();
        assert_eq!(spd.to_csr().unwrap(), spd_n.to_csr().unwrap());
        assert_eq!((dom.n_rows(), dom.nnz()), (dom_n.n_rows(), dom_n.nnz()));
        let b = rhs(49);
        close_all(name, &spd.mul_vec(&b).unwrap(), &spd_n.mul_vec(&b).unwrap());
        let x0 = vec![0.25; 49];
        for opts in [
            SolveOptions::new().rtol(1e-10),
            SolveOptions::new()
                .rtol(1e-10)
                .preconditioner(Preconditioner::Jacobi),
            SolveOptions::new().rtol(1e-12).max_iterations(3),
            SolveOptions::new().rtol(1e-9).x0(&x0),
        ] {
            let (a, e) = (spd.cg(&b, &opts).unwrap(), spd_n.cg(&b, &opts).unwrap());
            assert_eq!(a.report.iterations, e.report.iterations, "{name} cg");
            assert_eq!(a.report.converged, e.report.converged);
            assert_eq!(a.report.stop, e.report.stop);
            close(name, a.report.relative_residual, e.report.relative_residual);
            close_all(name, &a.x, &e.x);
            let (a, e) = (
                spd.bicgstab(&b, &opts).unwrap(),
                spd_n.bicgstab(&b, &opts).unwrap(),
            );
            assert_eq!(a.report.iterations, e.report.iterations, "{name} bicgstab");
            assert_eq!(a.report.stop, e.report.stop);
            close_all(name, &a.x, &e.x);
        }
        let b = rhs(60);
        let opts = SolveOptions::new().rtol(1e-11);
        let (a, e) = (
            dom.jacobi(&b, &opts).unwrap(),
            dom_n.jacobi(&b, &opts).unwrap(),
        );
        assert_eq!(
            a.report.solve.iterations, e.report.solve.iterations,
            "{name}"
        );
        assert!(a.report.solve.converged);
        close(name, a.report.contraction, e.report.contraction);
        close(name, a.report.error_bound, e.report.error_bound);
        close_all(name, &a.x, &e.x);
    }
}

#[test]
fn local_solves_match_native_and_walks_are_identical() {
    let native = Engine::native();
    let (r, c, v) = dominant(80);
    let m_n = SparseMatrix::from_triplets(&native, 80, 80, &r, &c, &v).unwrap();
    let b = rhs(80);
    let (bi, bv) = (vec![3u32, 17, 40], vec![1.0, -2.0, 0.5]);
    for (name, engine) in interpreted() {
        let m = SparseMatrix::from_triplets(&engine, 80, 80, &r, &c, &v).unwrap();
        for (rhs, walks) in [
            (Rhs::Dense(&b), 0),
            (Rhs::Dense(&b), 3000),
            (
                Rhs::Sparse {
                    indices: &bi,
                    values: &bv,
                },
                2000,
            ),
        ] {
            let opts = LocalSolveOptions {
                tol: 1e-4,
                walks,
                seed: 11,
                ..Default::default()
            };
            let (a, e) = (
                m.solve_entry(&rhs, 17, &opts).unwrap(),
                m_n.solve_entry(&rhs, 17, &opts).unwrap(),
            );
            assert_eq!(
                (a.pushes, a.walks, a.walk_steps, a.rows_read, a.touched),
                (e.pushes, e.walks, e.walk_steps, e.rows_read, e.touched),
                "{name}"
            );
            assert_eq!((a.converged, a.stop), (e.converged, e.stop));
            close(name, a.estimate, e.estimate);
            close(name, a.error_bound, e.error_bound);
            close(name, a.push_bound, e.push_bound);
            let u = ([5u32, 17, 60], [1.0, 0.5, -1.0]);
            let (a, e) = (
                m.solve_functional(&rhs, &u.0, &u.1, &opts).unwrap(),
                m_n.solve_functional(&rhs, &u.0, &u.1, &opts).unwrap(),
            );
            assert_eq!(
                (a.walks, a.walk_steps, a.work),
                (e.walks, e.walk_steps, e.work)
            );
            close(name, a.estimate, e.estimate);
        }
    }
}

#[test]
fn pagerank_methods_match_native() {
    let native = Engine::native();
    let (n, s, d, w) = graph_edges();
    let g_n = Graph::from_edges(&native, n, &s, &d, Some(&w)).unwrap();
    let pers_nodes = [1u32, 8, 20];
    let pers_w = [1.0, 2.0, 0.5];
    let dense: Vec<f64> = (0..n).map(|i| 1.0 + (i % 4) as f64).collect();
    for (name, engine) in interpreted() {
        let g = Graph::from_edges(&engine, n, &s, &d, Some(&w)).unwrap();
        assert_eq!((g.n_nodes(), g.n_edges()), (g_n.n_nodes(), g_n.n_edges()));
        let sparse = Personalization::Sparse {
            nodes: &pers_nodes,
            weights: &pers_w,
        };
        for opts in [
            PageRankOptions::default(),
            PageRankOptions {
                personalization: sparse,
                dangling: Some(Personalization::Dense(&dense)),
                start: Some(Personalization::Node(3)),
                tol: 1e-12,
                ..Default::default()
            },
            PageRankOptions {
                max_iter: 4,
                ..Default::default()
            },
        ] {
            let (a, e) = (g.pagerank(&opts).unwrap(), g_n.pagerank(&opts).unwrap());
            assert_eq!(a.iterations, e.iterations, "{name}");
            assert_eq!((a.converged, a.stop), (e.converged, e.stop));
            close(name, a.error_bound, e.error_bound);
            close_all(name, &a.scores, &e.scores);
        }
        for (source, top_k) in [(Personalization::Node(2), None), (sparse, Some(5))] {
            let opts = PushOptions {
                eps: 1e-6,
                top_k,
                ..Default::default()
            };
            same_push(
                name,
                &g.forward_push(&source, &opts).unwrap(),
                &g_n.forward_push(&source, &opts).unwrap(),
            );
        }
        for alpha in [0.85, 0.5] {
            let opts = BackwardPushOptions {
                alpha,
                r_max: 1e-6,
                ..Default::default()
            };
            same_push(
                name,
                &g.backward_push(12, &opts).unwrap(),
                &g_n.backward_push(12, &opts).unwrap(),
            );
            let opts = PairOptions {
                alpha,
                r_max: 1e-3,
                walks: 5000,
                seed: 42,
                ..Default::default()
            };
            let (a, e) = (
                g.pair(2, 12, &opts).unwrap(),
                g_n.pair(2, 12, &opts).unwrap(),
            );
            assert_eq!(
                (a.pushes, a.walks, a.walk_steps, a.touched),
                (e.pushes, e.walks, e.walk_steps, e.touched),
                "{name}"
            );
            close(name, a.estimate, e.estimate);
            close(name, a.error_bound, e.error_bound);
        }
    }
}

#[test]
fn bad_input_fails_identically() {
    let native = Engine::native();
    let (r, c, v) = poisson(4, 0.0);
    let m_n = SparseMatrix::from_triplets(&native, 16, 16, &r, &c, &v).unwrap();
    let (n, s, d, w) = graph_edges();
    let g_n = Graph::from_edges(&native, n, &s, &d, Some(&w)).unwrap();
    for (name, engine) in interpreted() {
        let m = SparseMatrix::from_triplets(&engine, 16, 16, &r, &c, &v).unwrap();
        let g = Graph::from_edges(&engine, n, &s, &d, Some(&w)).unwrap();
        let short = vec![1.0; 15];
        let mut y = vec![7.0; 16];
        let err = m.mul_vec_into(&short, &mut y).unwrap_err();
        assert_eq!(err, m_n.mul_vec_into(&short, &mut y.clone()).unwrap_err());
        assert_eq!(y, vec![7.0; 16], "{name}: y untouched");
        let b = rhs(16);
        let opts = SolveOptions::new();
        // Poisson is only weakly dominant: Jacobi refuses it, naming the row.
        assert_eq!(
            m.jacobi(&b, &opts).unwrap_err(),
            m_n.jacobi(&b, &opts).unwrap_err(),
            "{name}"
        );
        assert_eq!(
            m.cg(&short, &opts).unwrap_err(),
            m_n.cg(&short, &opts).unwrap_err()
        );
        let nan = SolveOptions::new().rtol(f64::NAN);
        assert_eq!(m.cg(&b, &nan).unwrap_err(), m_n.cg(&b, &nan).unwrap_err());
        let lopts = LocalSolveOptions::default();
        assert_eq!(
            m.solve_entry(&Rhs::Dense(&b), 3, &lopts).unwrap_err(),
            m_n.solve_entry(&Rhs::Dense(&b), 3, &lopts).unwrap_err(),
            "{name}"
        );
        let bad_alpha = PageRankOptions {
            alpha: 1.5,
            ..Default::default()
        };
        assert_eq!(
            g.pagerank(&bad_alpha).unwrap_err(),
            g_n.pagerank(&bad_alpha).unwrap_err()
        );
        let out_of_range = Personalization::Node(n as u32);
        let p = PushOptions::default();
        assert_eq!(
            g.forward_push(&out_of_range, &p).unwrap_err(),
            g_n.forward_push(&out_of_range, &p).unwrap_err()
        );
        let bp = BackwardPushOptions {
            alpha: 0.0,
            ..Default::default()
        };
        assert_eq!(
            g.backward_push(1, &bp).unwrap_err(),
            g_n.backward_push(1, &bp).unwrap_err(),
            "{name}"
        );
        assert_eq!(
            g.pair(0, n as u32 + 3, &PairOptions::default())
                .unwrap_err(),
            g_n.pair(0, n as u32 + 3, &PairOptions::default())
                .unwrap_err()
        );
        // Still usable after all that.
        assert!(m.cg(&b, &opts).unwrap().report.converged);
    }
}

#[test]
fn out_of_fuel_and_memory_leave_objects_usable() {
    let Some(opts) = options(BundledModule::Simd) else {
        return;
    };
    let native = Engine::native();
    let (r, c, v) = poisson(30, 0.0);
    let n = 900;
    let m_n = SparseMatrix::from_triplets(&native, n, n, &r, &c, &v).unwrap();
    // A budget the bounded calls below fit in (a first backward push on the 40-node graph,
    // its dangling-node correction included, takes between 6M and 10M fuel on the SpMV
    // kernel) and the unbounded ones do not.
    let engine = Engine::interpreted(&opts.clone().fuel(Some(20_000_000))).unwrap();
    let m = SparseMatrix::from_triplets(&engine, n, n, &r, &c, &v).unwrap();
    let b = rhs(n);
    let tight = SolveOptions::new().rtol(1e-12);
    assert!(
        matches!(m.cg(&b, &tight), Err(Error::OutOfFuel { .. })),
        "a long solve runs out of fuel"
    );
    // The instance was discarded; the matrix comes back from the host's copy.
    close_all(
        "after fuel",
        &m.mul_vec(&b).unwrap(),
        &m_n.mul_vec(&b).unwrap(),
    );
    let quick = SolveOptions::new().rtol(1e-12).max_iterations(2);
    close_all(
        "after fuel",
        &m.cg(&b, &quick).unwrap().x,
        &m_n.cg(&b, &quick).unwrap().x,
    );

    // The same for a graph: a long push runs out, the graph comes back with its
    // dangling-node correction recomputed to the same bits.
    let (gn, gs, gd, gw) = graph_edges();
    let g_n = Graph::from_edges(&native, gn, &gs, &gd, Some(&gw)).unwrap();
    let g = Graph::from_edges(&engine, gn, &gs, &gd, Some(&gw)).unwrap();
    let endless = PushOptions {
        eps: 1e-300,
        alpha: 0.999,
        ..Default::default()
    };
    let err = g
        .forward_push(&Personalization::Node(1), &endless)
        .unwrap_err();
    assert!(matches!(err, Error::OutOfFuel { .. }), "{err:?}");
    let bp = BackwardPushOptions {
        r_max: 1e-6,
        ..Default::default()
    };
    same_push(
        "after fuel",
        &g.backward_push(12, &bp).unwrap(),
        &g_n.backward_push(12, &bp).unwrap(),
    );

    // A memory cap that holds the module and the matrix, not a large right-hand side.
    let capped = Engine::interpreted(&opts.memory_limit(Some(4 << 20))).unwrap();
    let m = SparseMatrix::from_triplets(&capped, n, n, &r, &c, &v).unwrap();
    let g = Graph::from_edges(&capped, 3, &[0, 1], &[1, 2], None).unwrap();
    let big: Vec<f64> = vec![1.0; 1 << 20];
    assert!(matches!(m.mul_vec(&big), Err(Error::OutOfMemory(_))));
    let huge_dense: Vec<f64> = vec![1.0; 1 << 20];
    let err = g
        .pagerank(&PageRankOptions {
            personalization: Personalization::Dense(&huge_dense),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, Error::OutOfMemory(_)), "{err:?}");
    close_all(
        "after memory",
        &m.mul_vec(&b).unwrap(),
        &m_n.mul_vec(&b).unwrap(),
    );
    assert!(g.pagerank(&PageRankOptions::default()).unwrap().converged);
}

#[test]
fn no_solver_module_is_a_clear_error() {
    let Some(bytes) = built_module(BundledModule::Simd) else {
        return;
    };
    let engine = Engine::interpreted(&InterpretedOptions::new().module(bytes.clone())).unwrap();
    let err = SparseMatrix::from_triplets(&engine, 1, 1, &[0], &[0], &[1.0]).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidModule(m) if m.contains("solver_module")),
        "{err:?}"
    );
    // The index module given as the solver module: refused (no capability bit), also
    // for graphs.
    let engine = Engine::interpreted(
        &InterpretedOptions::new()
            .module(bytes.clone())
            .solver_module(bytes),
    )
    .unwrap();
    let err = Graph::from_edges(&engine, 2, &[0], &[1], None).unwrap_err();
    assert!(matches!(err, Error::InvalidModule(_)), "{err:?}");
    // The solver module cannot stand in for the kernel module.
    if let Some(solver) = built_solver_module(BundledModule::Simd) {
        let err = Engine::interpreted(&InterpretedOptions::new().module(solver)).unwrap_err();
        assert!(matches!(err, Error::InvalidModule(_)), "{err:?}");
    }
}

/// With the modules embedded (`bundled-wasm`, as `make test-rust` builds it), the default
/// engine finds the solver module of its own build (simd for simd, scalar for scalar).
#[cfg(feature = "bundled-wasm")]
#[test]
fn the_bundled_engine_carries_its_solver_module() {
    use ferrovec::backend::bundled_solver_module;
    let native = Engine::native();
    let (r, c, v) = dominant(20);
    let m_n = SparseMatrix::from_triplets(&native, 20, 20, &r, &c, &v).unwrap();
    for which in [BundledModule::Simd, BundledModule::Scalar] {
        assert!(bundled_solver_module(which).is_some_and(|b| b.len() > 10_000));
        let engine = Engine::interpreted(&InterpretedOptions::new().bundled(which)).unwrap();
        let m = SparseMatrix::from_triplets(&engine, 20, 20, &r, &c, &v).unwrap();
        let b = rhs(20);
        let opts = SolveOptions::new().rtol(1e-10);
        close_all(
            "bundled",
            &m.jacobi(&b, &opts).unwrap().x,
            &m_n.jacobi(&b, &opts).unwrap().x,
        );
    }
}
