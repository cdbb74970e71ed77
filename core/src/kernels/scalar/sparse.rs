//! Portable f64 solver kernels (SpMV over CSR and the solvers' vector operations): the
//! generic loops with a plain `f64` as a 1-lane vector. Their order is the one every
//! instruction set shares (`kernels::sparse` docs), so this is also the reference the others
//! must match bit for bit.

crate::kernels::generic::sparse_kernels! {
    vector: f64,
    rows: f64,
    [] fn {
        spmv_csr_f64: spmv_csr_f64_scalar,
        spmv_dots_csr_f64: spmv_dots_csr_f64_scalar,
        residual_csr_f64: residual_csr_f64_scalar,
        jacobi_csr_f64: jacobi_csr_f64_scalar,
        pagerank_csr_f64: pagerank_csr_f64_scalar,
        dot_f64: dot_f64_scalar,
        nrm2_f64: nrm2_f64_scalar,
        axpy_f64: axpy_f64_scalar,
        xpby_f64: xpby_f64_scalar,
        axpy_dot_f64: axpy_dot_f64_scalar,
        axpy_dots_f64: axpy_dots_f64_scalar,
        axpy_jacobi_dots_f64: axpy_jacobi_dots_f64_scalar,
        axpy2_f64: axpy2_f64_scalar,
        bicgstab_p_f64: bicgstab_p_f64_scalar,
        axpy_xpby_f64: axpy_xpby_f64_scalar,
    }
}
