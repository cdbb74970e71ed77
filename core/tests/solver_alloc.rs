//! The linear solvers allocate what their documentation says: with a [`Workspace`] grown by
//! `Workspace::reserve`, `cg_into`, `bicgstab_into` and `jacobi_into` make no heap
//! allocation at all (the interpreted backend and the wasm module size memory once), and a
//! fresh workspace grows to exactly `Method::workspace_vectors * n` values.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations_of;

use ferrovec_core::solver::linear::{
    bicgstab_into, cg_into, jacobi_into, Method, Preconditioner, SolveOptions, Workspace,
};
use ferrovec_core::sparse::CsrMatrix;

/// A strictly diagonally dominant, symmetric, positive definite tridiagonal matrix
/// (tridiag(-1, 3, -1)): every method applies.
fn tridiagonal(n: usize) -> CsrMatrix {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n as u32 {
        r.push(i);
        c.push(i);
        v.push(3.0);
        if i > 0 {
            r.extend([i, i - 1]);
            c.extend([i - 1, i]);
            v.extend([-1.0, -1.0]);
        }
    }
    CsrMatrix::from_triplets(n, n, &r, &c, &v).unwrap()
}

#[test]
fn a_reserved_workspace_makes_solves_allocation_free() {
    // The kernel table is chosen at its first use, once per process; reading FERROVEC_ISA
    // (when set) allocates its value. Choose it before counting.
    ferrovec_core::kernels::active_isa();
    let n = 1000;
    let a = tridiagonal(n);
    let b: Vec<f64> = (0..n).map(|i| (i % 7) as f64 - 3.0).collect();
    let x0 = vec![0.5; n];
    let mut x = vec![0.0; n];
    for pre in [Preconditioner::None, Preconditioner::Jacobi] {
        let opts = SolveOptions::new().rtol(1e-10).x0(&x0).preconditioner(pre);
        for method in [Method::Cg, Method::BiCgStab, Method::Jacobi] {
            let mut ws = Workspace::new();
            let ((), grew) = allocations_of(|| ws.reserve(method, n, pre).unwrap());
            assert_eq!(grew, 1, "{method:?}: one allocation sizes the workspace");
            assert_eq!(ws.capacity(), method.workspace_vectors(pre) * n);
            let (converged, calls) = allocations_of(|| match method {
                Method::Cg => {
                    cg_into(a.view(), &b, &opts, &mut x, &mut ws)
                        .unwrap()
                        .converged
                }
                Method::BiCgStab => {
                    bicgstab_into(a.view(), &b, &opts, &mut x, &mut ws)
                        .unwrap()
                        .converged
                }
                _ => {
                    jacobi_into(a.view(), &b, &opts, &mut x, &mut ws)
                        .unwrap()
                        .solve
                        .converged
                }
            });
            assert!(converged, "{method:?} {pre:?}");
            assert_eq!(calls, 0, "{method:?} {pre:?} allocated");
        }
    }
}

#[test]
fn a_fresh_workspace_grows_to_the_documented_size() {
    let n = 500;
    let a = tridiagonal(n);
    let b = vec![1.0; n];
    let mut x = vec![0.0; n];
    for pre in [Preconditioner::None, Preconditioner::Jacobi] {
        let opts = SolveOptions::new().preconditioner(pre);
        let mut ws = Workspace::new();
        cg_into(a.view(), &b, &opts, &mut x, &mut ws).unwrap();
        assert_eq!(ws.capacity(), Method::Cg.workspace_vectors(pre) * n);
        let mut ws = Workspace::new();
        bicgstab_into(a.view(), &b, &opts, &mut x, &mut ws).unwrap();
        assert_eq!(ws.capacity(), Method::BiCgStab.workspace_vectors(pre) * n);
        let mut ws = Workspace::new();
        jacobi_into(a.view(), &b, &opts, &mut x, &mut ws).unwrap();
        assert_eq!(ws.capacity(), Method::Jacobi.workspace_vectors(pre) * n);
    }
    assert_eq!(Method::Cg.workspace_vectors(Preconditioner::None), 4);
    assert_eq!(Method::Cg.workspace_vectors(Preconditioner::Jacobi), 6);
    assert_eq!(Method::BiCgStab.workspace_vectors(Preconditioner::None), 6);
    assert_eq!(
        Method::BiCgStab.workspace_vectors(Preconditioner::Jacobi),
        9
    );
    assert_eq!(Method::Jacobi.workspace_vectors(Preconditioner::Jacobi), 4);
}
