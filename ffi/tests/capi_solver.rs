//! The solver's C ABI from Rust: its defaults are the Rust API's, its results are the Rust
//! API's bit for bit, and the checks C cannot do itself (misaligned pointers).

use std::ffi::CStr;
use std::ptr;

use ferrovec::capi::*;
use ferrovec::solver::{
    BackwardPushOptions, Graph, LocalSolveOptions, PageRankOptions, PairOptions, Personalization,
    PushOptions, Rhs, SolveOptions, SparseMatrix,
};
use ferrovec::Engine;

fn last_error() -> String {
    // SAFETY: fv_last_error_message never returns null and the text is NUL-terminated.
    unsafe { CStr::from_ptr(fv_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// A strictly diagonally dominant, nonsymmetric n x n matrix as triplets.
fn dominant(n: u32) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
    let (mut r, mut c, mut v) = (vec![], vec![], vec![]);
    for i in 0..n {
        r.push(i);
        c.push(i);
        v.push(4.0 + f64::from(i % 3));
        if i + 1 < n {
            r.push(i);
            c.push(i + 1);
            v.push(-1.0);
        }
        if i > 0 {
            r.push(i);
            c.push(i - 1);
            v.push(-0.5);
        }
    }
    (r, c, v)
}

#[test]
fn defaults_match_the_rust_api() {
    let s = fv_solve_options_default();
    let d = SolveOptions::new();
    assert_eq!(s.rtol, d.rtol);
    assert!(s.max_iterations < 0 && d.max_iterations.is_none());
    assert!(s.x0.is_null() && s.symmetry_tolerance < 0.0);
    assert_eq!(s.preconditioner, FV_PRECONDITIONER_NONE);

    let l = fv_local_solve_options_default();
    let d = LocalSolveOptions::default();
    assert_eq!(
        (
            l.tol,
            l.max_pushes,
            l.walks,
            l.seed,
            l.failure_probability,
            l.max_walk_steps
        ),
        (
            d.tol,
            d.max_pushes,
            d.walks,
            d.seed,
            d.failure_probability,
            d.max_walk_steps
        )
    );
    assert!(l.dominance < 0.0 && l.c_max < 0.0);

    let p = fv_pagerank_options_default();
    let d = PageRankOptions::default();
    assert_eq!((p.alpha, p.tol, p.max_iter), (d.alpha, d.tol, d.max_iter));
    assert_eq!(p.personalization.kind, FV_DIST_DEFAULT);

    let f = fv_push_options_default();
    let d = PushOptions::default();
    assert_eq!(
        (f.alpha, f.eps, f.max_pushes),
        (d.alpha, d.eps, d.max_pushes)
    );
    let b = fv_backward_push_options_default();
    let d = BackwardPushOptions::default();
    assert_eq!(
        (b.alpha, b.r_max, b.max_pushes),
        (d.alpha, d.r_max, d.max_pushes)
    );
    let q = fv_pair_options_default();
    let d = PairOptions::default();
    assert_eq!(
        (q.alpha, q.r_max, q.walks, q.seed, q.failure_probability),
        (d.alpha, d.r_max, d.walks, d.seed, d.failure_probability)
    );
    assert_eq!(
        (q.max_pushes, q.max_walk_steps),
        (d.max_pushes, d.max_walk_steps)
    );
}

#[test]
fn results_match_the_rust_api_bit_for_bit() {
    let engine = Engine::native();
    let (r, c, v) = dominant(50);
    let b: Vec<f64> = (0..50).map(|i| f64::from(i).sin() + 1.5).collect();
    let rust = SparseMatrix::from_triplets(&engine, 50, 50, &r, &c, &v).unwrap();

    let mut e: *mut fv_engine = ptr::null_mut();
    let mut m: *mut fv_sparse_matrix = ptr::null_mut();
    let mut x = vec![0.0; 50];
    // SAFETY: every pointer points to the stated number of elements; handles are live until
    // freed at the end.
    unsafe {
        assert_eq!(fv_engine_new(FV_BACKEND_NATIVE, ptr::null(), &mut e), FV_OK);
        assert_eq!(
            fv_sparse_matrix_from_triplets(
                e,
                50,
                50,
                r.as_ptr(),
                c.as_ptr(),
                v.as_ptr(),
                v.len(),
                &mut m
            ),
            FV_OK
        );
        let mut o = fv_solve_options_default();
        o.rtol = 1e-11;
        let mut report = std::mem::zeroed::<fv_solve_report>();
        assert_eq!(
            fv_sparse_matrix_bicgstab(m, b.as_ptr(), 50, &o, x.as_mut_ptr(), 50, &mut report),
            FV_OK
        );
        let s = rust.bicgstab(&b, &SolveOptions::new().rtol(1e-11)).unwrap();
        assert_eq!(x, s.x);
        assert_eq!(report.iterations, s.report.iterations);
        assert_eq!(
            report.relative_residual.to_bits(),
            s.report.relative_residual.to_bits()
        );
        assert!(report.converged && report.stop == FV_STOP_CONVERGED);

        let mut jr = std::mem::zeroed::<fv_jacobi_report>();
        assert_eq!(
            fv_sparse_matrix_jacobi(m, b.as_ptr(), 50, &o, x.as_mut_ptr(), 50, &mut jr),
            FV_OK
        );
        let s = rust.jacobi(&b, &SolveOptions::new().rtol(1e-11)).unwrap();
        assert_eq!(x, s.x);
        assert_eq!(jr.error_bound.to_bits(), s.report.error_bound.to_bits());
        assert_eq!(jr.contraction.to_bits(), s.report.contraction.to_bits());

        let rhs = fv_rhs_dense(b.as_ptr(), 50);
        let mut lr = std::mem::zeroed::<fv_local_solve_report>();
        let lo = fv_local_solve_options_default();
        assert_eq!(
            fv_sparse_matrix_solve_entry(m, &rhs, 7, &lo, &mut lr),
            FV_OK
        );
        let l = rust
            .solve_entry(&Rhs::Dense(&b), 7, &LocalSolveOptions::default())
            .unwrap();
        assert_eq!(lr.estimate.to_bits(), l.estimate.to_bits());
        assert_eq!(
            (lr.pushes, lr.work, lr.touched),
            (l.pushes, l.work, l.touched)
        );

        // misaligned output: refused, nothing written
        let mut raw = [0u8; 8 * 51];
        let misaligned = raw.as_mut_ptr().wrapping_add(1).cast::<f64>();
        assert_eq!(
            fv_sparse_matrix_bicgstab(m, b.as_ptr(), 50, &o, misaligned, 50, &mut report),
            FV_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("not aligned"), "{}", last_error());
        assert!(raw.iter().all(|&byte| byte == 0));
        assert_eq!(fv_sparse_matrix_free(m), FV_OK);
    }

    // graphs: forward push, backward push, pagerank, pair
    let src: Vec<u32> = (0..30)
        .flat_map(|i| [i, (i + 1) % 30, (i * 7) % 30])
        .collect();
    let dst: Vec<u32> = (0..30)
        .flat_map(|i| [(i + 1) % 30, i, (i * 3 + 1) % 30])
        .collect();
    let rust = Graph::from_edges(&engine, 31, &src, &dst, None).unwrap(); // node 30 dangling
    let mut g: *mut fv_graph = ptr::null_mut();
    let mut nodes = vec![0u32; 31];
    let mut scores = vec![0.0; 31];
    let mut count = 0usize;
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            fv_graph_from_edges(
                e,
                31,
                src.as_ptr(),
                dst.as_ptr(),
                ptr::null(),
                src.len(),
                &mut g
            ),
            FV_OK
        );
        let source = fv_distribution_node(4);
        let mut pr = std::mem::zeroed::<fv_push_report>();
        assert_eq!(
            fv_graph_forward_push(
                g,
                &source,
                ptr::null(),
                nodes.as_mut_ptr(),
                scores.as_mut_ptr(),
                31,
                &mut count,
                &mut pr
            ),
            FV_OK
        );
        let f = rust
            .forward_push(&Personalization::Node(4), &PushOptions::default())
            .unwrap();
        let want: Vec<(u32, f64)> = nodes[..count]
            .iter()
            .copied()
            .zip(scores[..count].iter().copied())
            .collect();
        assert_eq!(want, f.scores);
        assert_eq!(pr.residual_mass.to_bits(), f.report.residual_mass.to_bits());
        assert_eq!(pr.nonzero, f.scores.len());

        assert_eq!(
            fv_graph_backward_push(
                g,
                30,
                ptr::null(),
                nodes.as_mut_ptr(),
                scores.as_mut_ptr(),
                31,
                &mut count,
                &mut pr
            ),
            FV_OK
        );
        let bp = rust
            .backward_push(30, &BackwardPushOptions::default())
            .unwrap();
        let want: Vec<(u32, f64)> = nodes[..count]
            .iter()
            .copied()
            .zip(scores[..count].iter().copied())
            .collect();
        assert_eq!(want, bp.scores);
        assert_eq!(pr.error_bound.to_bits(), bp.report.error_bound.to_bits());

        let mut prr = std::mem::zeroed::<fv_pagerank_report>();
        assert_eq!(
            fv_graph_pagerank(g, ptr::null(), scores.as_mut_ptr(), 31, &mut prr),
            FV_OK
        );
        let p = rust.pagerank(&PageRankOptions::default()).unwrap();
        assert_eq!(scores, p.scores);
        assert_eq!(
            (prr.iterations, prr.error_bound.to_bits()),
            (p.iterations, p.error_bound.to_bits())
        );

        let mut pair = std::mem::zeroed::<fv_pair_report>();
        assert_eq!(fv_graph_pair(g, 2, 30, ptr::null(), &mut pair), FV_OK);
        let q = rust.pair(2, 30, &PairOptions::default()).unwrap();
        assert_eq!(pair.estimate.to_bits(), q.estimate.to_bits());
        assert_eq!(pair.error_bound.to_bits(), q.error_bound.to_bits());

        assert_eq!(fv_graph_free(g), FV_OK);
        fv_engine_free(e);
    }
}
