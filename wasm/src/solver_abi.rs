//! The `fv_matrix_*` and `fv_graph_*` exports of ABI version 3 (wasm/README.md, "Sparse
//! solver"), in the modules built with the `solver` feature: thin wrappers over
//! `solver_ops.rs` that hold the module's registries of matrices and graphs and report
//! errors.

use core::cell::UnsafeCell;

use ferrovec_core::sparse::CsrMatrix;
use ferrovec_core::{Error, Result};

use crate::abi::{begin, fv_alloc, status, Global};
use crate::handles::Registry;
use crate::memory::{Memory, WasmMemory};
use crate::solver_ops::{self as ops, SolverGraph, SparseOut};

static MATRICES: Global<Registry<CsrMatrix>> = Global(UnsafeCell::new(Registry::new()));
static GRAPHS: Global<Registry<SolverGraph>> = Global(UnsafeCell::new(Registry::new()));

/// Runs a matrix function: clears the last error, reports a failure.
fn matrices(f: impl FnOnce(&mut Registry<CsrMatrix>) -> Result<()>) -> i32 {
    begin();
    // SAFETY: single-threaded (see `Global`), and no export re-enters while `f` runs (the
    // module calls nothing outside itself).
    status(f(unsafe { &mut *MATRICES.0.get() }))
}

/// Runs a graph function: clears the last error, reports a failure.
fn graphs(f: impl FnOnce(&mut Registry<SolverGraph>) -> Result<()>) -> i32 {
    begin();
    // SAFETY: as in `matrices`.
    status(f(unsafe { &mut *GRAPHS.0.get() }))
}

/// Copies sparse results into a new block (`fv_alloc(12 n)`: `n` f64 scores, then `n` u32
/// nodes) and writes its offset and `n`; the host frees it with `fv_free(ptr, 12 n)`.
fn hand_out(out: SparseOut) -> Result<()> {
    let bytes = ops::sparse_block(&out.scores);
    let len = u32::try_from(bytes.len())
        .map_err(|_| Error::OutOfMemory("the results are larger than 4 GiB".into()))?;
    let block = fv_alloc(len);
    if block == 0 {
        return Err(Error::OutOfMemory(alloc::format!(
            "cannot allocate {len} bytes for the results"
        )));
    }
    let mem = WasmMemory;
    // SAFETY: `block` is a fresh `len`-byte block from fv_alloc that nothing else refers
    // to; the out regions were checked (in bounds, aligned, disjoint from each other and
    // the inputs) and memory never shrinks. (A host that named free heap memory as an out
    // region can only corrupt its own sandbox.)
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.at(block), bytes.len());
        mem.slice_mut::<u32>(out.out_ptr)[0] = block;
        mem.slice_mut::<u32>(out.out_n)[0] = out.scores.len() as u32;
    }
    out.write_report(&mem);
    Ok(())
}

/// A matrix from CSR arrays; writes its handle (u32) to `out_handle`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_matrix_from_csr(
    n_rows: u32,
    n_cols: u32,
    indptr: u32,
    indices: u32,
    values: u32,
    nnz: u32,
    sorted: u32,
    out_handle: u32,
) -> i32 {
    matrices(|reg| {
        ops::matrix_from_csr(
            &WasmMemory,
            reg,
            n_rows,
            n_cols,
            indptr,
            indices,
            values,
            nnz,
            sorted,
            out_handle,
        )
    })
}

/// A matrix from triplets; writes its handle (u32) to `out_handle`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_matrix_from_triplets(
    n_rows: u32,
    n_cols: u32,
    rows: u32,
    cols: u32,
    values: u32,
    nnz: u32,
    out_handle: u32,
) -> i32 {
    matrices(|reg| {
        ops::matrix_from_triplets(
            &WasmMemory,
            reg,
            n_rows,
            n_cols,
            rows,
            cols,
            values,
            nnz,
            out_handle,
        )
    })
}

/// Frees a matrix; its handle is stale afterwards.
#[no_mangle]
pub extern "C" fn fv_matrix_free(h: u32) -> i32 {
    matrices(|reg| ops::matrix_free(reg, h))
}

/// Writes 4 u32 (n_rows, n_cols, nnz, 0) to `out`.
#[no_mangle]
pub extern "C" fn fv_matrix_info(h: u32, out: u32) -> i32 {
    matrices(|reg| ops::matrix_info(&WasmMemory, reg, h, out))
}

/// `y = A x`.
#[no_mangle]
pub extern "C" fn fv_matrix_mul_vec(h: u32, x: u32, n_x: u32, y: u32, n_y: u32) -> i32 {
    matrices(|reg| ops::matrix_mul_vec(&WasmMemory, reg, h, x, n_x, y, n_y))
}

/// CG (0), BiCGSTAB (1) or Jacobi (2) on `b`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_matrix_solve(
    h: u32,
    method: i32,
    b: u32,
    n_b: u32,
    x0: u32,
    n_x0: u32,
    options: u32,
    x_out: u32,
    n_x: u32,
    report: u32,
) -> i32 {
    matrices(|reg| {
        ops::matrix_solve(
            &WasmMemory,
            reg,
            h,
            method,
            b,
            n_b,
            x0,
            n_x0,
            options,
            x_out,
            n_x,
            report,
        )
    })
}

/// The local estimate of `x_row` (`row != u32::MAX`) or of `u^T x`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_matrix_solve_local(
    h: u32,
    b_kind: u32,
    b_indices: u32,
    b_values: u32,
    n_b: u32,
    row: u32,
    u_indices: u32,
    u_values: u32,
    n_u: u32,
    options: u32,
    report: u32,
) -> i32 {
    matrices(|reg| {
        ops::matrix_solve_local(
            &WasmMemory,
            reg,
            h,
            b_kind,
            b_indices,
            b_values,
            n_b,
            row,
            u_indices,
            u_values,
            n_u,
            options,
            report,
        )
    })
}

/// A graph from an edge list; writes its handle (u32) to `out_handle`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_graph_from_edges(
    n_nodes: u32,
    src: u32,
    dst: u32,
    weights: u32,
    n_edges: u32,
    out_handle: u32,
) -> i32 {
    graphs(|reg| {
        ops::graph_from_edges(
            &WasmMemory,
            reg,
            n_nodes,
            src,
            dst,
            weights,
            n_edges,
            out_handle,
        )
    })
}

/// A graph from CSR adjacency arrays; writes its handle (u32) to `out_handle`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_graph_from_csr(
    n_nodes: u32,
    indptr: u32,
    indices: u32,
    weights: u32,
    n_indices: u32,
    out_handle: u32,
) -> i32 {
    graphs(|reg| {
        ops::graph_from_csr(
            &WasmMemory,
            reg,
            n_nodes,
            indptr,
            indices,
            weights,
            n_indices,
            out_handle,
        )
    })
}

/// Frees a graph; its handle is stale afterwards.
#[no_mangle]
pub extern "C" fn fv_graph_free(h: u32) -> i32 {
    graphs(|reg| ops::graph_free(reg, h))
}

/// Writes 4 u32 (n_nodes, n_edges, dangling nodes, 0) to `out`.
#[no_mangle]
pub extern "C" fn fv_graph_info(h: u32, out: u32) -> i32 {
    graphs(|reg| ops::graph_info(&WasmMemory, reg, h, out))
}

/// Global PageRank by power iteration.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn fv_graph_pagerank(
    h: u32,
    alpha: f64,
    tol: f64,
    max_iter: u32,
    personalization: u32,
    dangling: u32,
    start: u32,
    out_scores: u32,
    n_out: u32,
    report: u32,
) -> i32 {
    graphs(|reg| {
        ops::graph_pagerank(
            &WasmMemory,
            reg,
            h,
            alpha,
            tol,
            max_iter,
            personalization,
            dangling,
            start,
            out_scores,
            n_out,
            report,
        )
    })
}

/// Personalized PageRank by forward push; results in a block the host frees.
#[no_mangle]
pub extern "C" fn fv_graph_forward_push(
    h: u32,
    source: u32,
    options: u32,
    out_ptr: u32,
    out_n: u32,
    report: u32,
) -> i32 {
    graphs(|reg| {
        let out =
            ops::graph_forward_push(&WasmMemory, reg, h, source, options, out_ptr, out_n, report)?;
        hand_out(out)
    })
}

/// Single-target PageRank contributions by backward push; results in a block the host
/// frees.
#[no_mangle]
pub extern "C" fn fv_graph_backward_push(
    h: u32,
    target: u32,
    options: u32,
    out_ptr: u32,
    out_n: u32,
    report: u32,
) -> i32 {
    graphs(|reg| {
        let out =
            ops::graph_backward_push(&WasmMemory, reg, h, target, options, out_ptr, out_n, report)?;
        hand_out(out)
    })
}

/// `pi_source(target)` by backward push and seeded walks.
#[no_mangle]
pub extern "C" fn fv_graph_pair(
    h: u32,
    source: u32,
    target: u32,
    options: u32,
    report: u32,
) -> i32 {
    graphs(|reg| ops::graph_pair(&WasmMemory, reg, h, source, target, options, report))
}
