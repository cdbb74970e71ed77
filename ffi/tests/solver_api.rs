//! `ferrovec::solver` (SparseMatrix, Graph) on the native engine: the wrappers return what
//! the core computes, bit for bit; files round-trip; backward estimates on graphs with
//! dangling nodes need no correction from the caller and agree with global PageRank within
//! their bounds; bad input is a typed error that leaves buffers untouched.

use ferrovec::solver::{
    BackwardPushOptions, Graph, LocalSolveOptions, PageRankOptions, PairOptions, Personalization,
    PushOptions, Rhs, SolveOptions, SparseMatrix, Stop, Symmetry,
};
use ferrovec::{BackendKind, Engine, Error};
use ferrovec_core::solver::{linear, pagerank};
use ferrovec_core::sparse::{self, CsrMatrix};

/// The 2D Poisson matrix (5-point stencil) on a `k x k` grid: symmetric positive definite,
/// weakly diagonally dominant.
fn poisson(k: usize) -> CsrMatrix {
    let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    let id = |i: usize, j: usize| (i * k + j) as u32;
    for i in 0..k {
        for j in 0..k {
            let mut put = |c: u32, v: f64| {
                rows.push(id(i, j));
                cols.push(c);
                vals.push(v);
            };
            put(id(i, j), 4.0);
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
    CsrMatrix::from_triplets(k * k, k * k, &rows, &cols, &vals).unwrap()
}

/// Poisson plus 1 on the diagonal: strictly diagonally dominant (q = 0.8).
fn dominant(k: usize) -> CsrMatrix {
    let p = poisson(k);
    let n = p.n_rows();
    let (indptr, indices, mut values) = p.into_arrays();
    for row in 0..n {
        for at in indptr[row] as usize..indptr[row + 1] as usize {
            if indices[at] as usize == row {
                values[at] += 1.0;
            }
        }
    }
    CsrMatrix::from_csr(n, n, indptr, indices, values).unwrap()
}

fn rhs(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect()
}

#[test]
fn solvers_return_the_core_results_bit_for_bit() {
    let engine = Engine::native();
    for core in [poisson(12), dominant(9)] {
        let a = SparseMatrix::from_matrix(&engine, core.clone()).unwrap();
        assert_eq!(a.backend(), BackendKind::Native);
        assert_eq!(
            (a.n_rows(), a.n_cols(), a.nnz()),
            (core.n_rows(), core.n_cols(), core.nnz())
        );
        let b = rhs(a.n_rows());
        let options = SolveOptions::new().rtol(1e-10);
        let cg = a.cg(&b, &options).unwrap();
        assert_eq!(cg, linear::cg(core.view(), &b, &options).unwrap());
        assert!(cg.report.converged && cg.report.relative_residual <= 1e-10);
        assert_eq!(cg.report.stop, Stop::Converged);
        let bi = a.bicgstab(&b, &options).unwrap();
        assert_eq!(bi, linear::bicgstab(core.view(), &b, &options).unwrap());
        // The true residual of the returned x, computed here independently.
        let ax = a.mul_vec(&bi.x).unwrap();
        let num: f64 = ax
            .iter()
            .zip(&b)
            .map(|(y, b)| (b - y).powi(2))
            .sum::<f64>()
            .sqrt();
        let den: f64 = b.iter().map(|b| b * b).sum::<f64>().sqrt();
        assert!((num / den - bi.report.relative_residual).abs() <= 1e-12 * (1.0 + num / den));
    }
    let core = dominant(9);
    let a = SparseMatrix::from_matrix(&engine, core.clone()).unwrap();
    let b = rhs(81);
    let jacobi = a.jacobi(&b, &SolveOptions::new().rtol(1e-9)).unwrap();
    assert_eq!(
        jacobi,
        linear::jacobi(core.view(), &b, &SolveOptions::new().rtol(1e-9)).unwrap()
    );
    assert!(jacobi.report.solve.converged && jacobi.report.contraction < 1.0);
    // Jacobi refuses a matrix that is not strictly dominant, naming the row.
    let weak = SparseMatrix::from_matrix(&engine, poisson(4)).unwrap();
    match weak.jacobi(&rhs(16), &SolveOptions::new()) {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("row"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn local_estimates_match_the_global_solution() {
    let engine = Engine::native();
    let core = dominant(20);
    let a = SparseMatrix::from_matrix(&engine, core.clone()).unwrap();
    let b = rhs(400);
    let exact = a.jacobi(&b, &SolveOptions::new().rtol(1e-14)).unwrap().x;
    let options = LocalSolveOptions {
        tol: 1e-8,
        dominance: Some(0.8),
        ..LocalSolveOptions::default()
    };
    for i in [0, 57, 399] {
        let est = a.solve_entry(&Rhs::Dense(&b), i, &options).unwrap();
        assert!(est.converged, "{est:?}");
        assert!(
            (est.estimate - exact[i]).abs() <= est.error_bound + 1e-12,
            "{i}: {est:?}"
        );
        assert!(
            est.rows_read < 400,
            "a local solve reads a part of A: {}",
            est.rows_read
        );
    }
    // uᵀx for a sparse u.
    let est = a
        .solve_functional(&Rhs::Dense(&b), &[3, 5], &[2.0, -1.0], &options)
        .unwrap();
    let want = 2.0 * exact[3] - exact[5];
    assert!((est.estimate - want).abs() <= est.error_bound + 1e-12);
    match a.solve_entry(&Rhs::Dense(&b), 400, &options) {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("400"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn matrix_market_files_round_trip() {
    let engine = Engine::native();
    let a = SparseMatrix::from_matrix(&engine, poisson(5)).unwrap();
    let dir = std::env::temp_dir().join(format!("ferrovec-solver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for symmetry in [Symmetry::General, Symmetry::Symmetric] {
        let path = dir.join("a.mtx");
        a.write_matrix_market(&path, symmetry).unwrap();
        let back = SparseMatrix::read_matrix_market(&engine, &path).unwrap();
        assert_eq!(back.to_csr().unwrap(), a.to_csr().unwrap(), "{symmetry:?}");
    }
    match SparseMatrix::read_matrix_market(&engine, dir.join("missing.mtx")) {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("missing.mtx")),
        other => panic!("{other:?}"),
    }
    match SparseMatrix::from_matrix_market(
        &engine,
        b"%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n",
    ) {
        Err(Error::CorruptFile(message)) => assert!(message.contains("line 3"), "{message}"),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn constructors_validate_and_buffers_stay_untouched() {
    let engine = Engine::native();
    // Unsorted columns: refused by from_csr (naming the row), accepted by from_csr_unsorted.
    let (indptr, indices, values) = ([0u32, 2, 3], [1u32, 0, 1], [1.0, 2.0, 3.0]);
    match SparseMatrix::from_csr(&engine, 2, 2, &indptr, &indices, &values) {
        Err(Error::InvalidArgument(message)) => assert!(message.contains("row 0"), "{message}"),
        other => panic!("{other:?}"),
    }
    let a = SparseMatrix::from_csr_unsorted(&engine, 2, 2, &indptr, &indices, &values).unwrap();
    assert_eq!(a.mul_vec(&[1.0, 10.0]).unwrap(), vec![12.0, 30.0]);
    let mut y = [7.0; 2];
    assert!(matches!(
        a.mul_vec_into(&[1.0], &mut y),
        Err(Error::DimensionMismatch { .. })
    ));
    assert_eq!(y, [7.0; 2], "a failed call leaves the output alone");
    assert!(SparseMatrix::from_triplets(&engine, 2, 2, &[0], &[0], &[f64::NAN]).is_err());
    // A non-square matrix: the solvers say so.
    let rect = SparseMatrix::from_triplets(&engine, 2, 3, &[0, 1], &[0, 2], &[1.0, 1.0]).unwrap();
    assert!(rect.cg(&[1.0, 1.0], &SolveOptions::new()).is_err());
}

/// A directed graph with dangling nodes (3 and 5), a self-loop and weights.
fn small_graph(engine: &Engine) -> (Graph, sparse::Graph) {
    let src = [0u32, 0, 1, 2, 2, 4, 4, 6, 6, 1];
    let dst = [1u32, 2, 2, 0, 3, 4, 5, 0, 4, 6];
    let w = [1.0, 2.0, 1.0, 1.0, 0.5, 1.0, 3.0, 1.0, 1.0, 2.0];
    let core = sparse::Graph::from_edges(7, &src, &dst, Some(&w)).unwrap();
    let graph = Graph::from_edges(engine, 7, &src, &dst, Some(&w)).unwrap();
    (graph, core)
}

#[test]
fn pagerank_and_pushes_match_the_core_and_each_other() {
    let engine = Engine::native();
    let (graph, core) = small_graph(&engine);
    assert_eq!((graph.n_nodes(), graph.n_edges()), (7, core.n_edges()));
    let options = PageRankOptions {
        tol: 1e-15,
        max_iter: 10_000,
        ..PageRankOptions::default()
    };
    let global = graph.pagerank(&options).unwrap();
    assert_eq!(global, pagerank::pagerank(&core, &options).unwrap());
    assert!(global.converged);

    // Exact personalized PageRank of every source, by power iteration.
    let exact: Vec<Vec<f64>> = (0..7)
        .map(|s| {
            let opts = PageRankOptions {
                personalization: Personalization::Node(s),
                ..options
            };
            graph.pagerank(&opts).unwrap().scores
        })
        .collect();

    let push = PushOptions {
        eps: 1e-7,
        ..PushOptions::default()
    };
    let forward = graph
        .forward_push(&Personalization::Node(2), &push)
        .unwrap();
    assert_eq!(
        forward,
        pagerank::forward_push(&core, &Personalization::Node(2), &push).unwrap()
    );
    for &(v, p) in &forward.scores {
        let gap = exact[2][v as usize] - p;
        assert!(
            (-1e-12..=forward.report.residual_mass + 1e-12).contains(&gap),
            "{v}: {gap}"
        );
    }

    // Backward push on a graph with dangling nodes: the graph brings the correction.
    let backward = graph
        .backward_push(
            0,
            &BackwardPushOptions {
                r_max: 1e-9,
                ..BackwardPushOptions::default()
            },
        )
        .unwrap();
    assert!(backward.report.converged);
    for &(s, est) in &backward.scores {
        let gap = exact[s as usize][0] - est;
        assert!(
            gap.abs() <= backward.report.error_bound + 1e-12,
            "{s}: {gap}"
        );
    }

    let pair = graph
        .pair(
            6,
            0,
            &PairOptions {
                walks: 20_000,
                seed: 7,
                ..PairOptions::default()
            },
        )
        .unwrap();
    assert!(
        (pair.estimate - exact[6][0]).abs() <= pair.error_bound,
        "{pair:?}"
    );
    // Same seed, same bits.
    let again = graph
        .pair(
            6,
            0,
            &PairOptions {
                walks: 20_000,
                seed: 7,
                ..PairOptions::default()
            },
        )
        .unwrap();
    assert_eq!(pair.estimate.to_bits(), again.estimate.to_bits());

    // Bad input: an out-of-range node and alpha outside (0, 1).
    assert!(graph
        .backward_push(7, &BackwardPushOptions::default())
        .is_err());
    assert!(graph
        .pair(
            0,
            1,
            &PairOptions {
                alpha: 1.0,
                ..PairOptions::default()
            }
        )
        .is_err());
}

#[test]
fn engine_objects_are_send_sync_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<SparseMatrix>();
    assert_send_sync::<Graph>();
    let engine = Engine::native();
    let (graph, _) = small_graph(&engine);
    let other = graph.clone();
    let handle = std::thread::spawn(move || other.pagerank(&PageRankOptions::default()).unwrap());
    let there = handle.join().unwrap();
    assert_eq!(there, graph.pagerank(&PageRankOptions::default()).unwrap());
}
