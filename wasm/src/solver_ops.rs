//! The bodies of the ABI's sparse solver functions (`fv_matrix_*`, `fv_graph_*`, new in ABI
//! v3), over any [`Memory`] and the registries of matrices and graphs: every argument is
//! checked here (natively unit-tested), and `solver_abi.rs` exports them on wasm32 (in the
//! modules built with the `solver` feature) with error reporting.
//!
//! Order of checks in every function: the handle (`InvalidHandle`), then each buffer (null /
//! bounds / alignment, see `memory.rs`), then outputs overlapping inputs or each other, then
//! the core's own checks (dimensions, NaN, dominance, alpha, ...). Outputs are written only
//! on success. Matrices and graphs are immutable: a failed call changes nothing.
//!
//! Options and reports cross as arrays of 64-bit words (8-byte aligned): a float field is
//! an f64, an integer field a u64, a flag 0 or 1, an optional integer `u64::MAX` for "none".
//! wasm/README.md lists every layout.

use alloc::format;
use alloc::vec::Vec;

use ferrovec_core::solver::linear::{self, JacobiReport, Preconditioner, Solution, SolveOptions};
use ferrovec_core::solver::local::{self, LocalSolve, LocalSolveOptions, Rhs};
use ferrovec_core::solver::pagerank::{
    self, BackwardOptions, DanglingCorrection, PageRankOptions, PairEstimate, PairOptions,
    Personalization, PushOptions, PushReport, PushResult,
};
use ferrovec_core::solver::{SolveReport, Stop};
use ferrovec_core::sparse::{CsrMatrix, CsrRef, Graph};
use ferrovec_core::{Error, Result};

use crate::handles::{Handle, Registry};
use crate::memory::{check_disjoint, Memory, Region};

/// `method` code of [`linear::cg`].
pub const METHOD_CG: i32 = 0;
/// `method` code of [`linear::bicgstab`].
pub const METHOD_BICGSTAB: i32 = 1;
/// `method` code of [`linear::jacobi`].
pub const METHOD_JACOBI: i32 = 2;

/// Words of a solve's options: rtol, max_iterations (`u64::MAX`: the default `10 n`),
/// preconditioner (0 none, 1 Jacobi), has_symmetry_tolerance, symmetry_tolerance, 0.
pub const SOLVE_OPTION_WORDS: u32 = 6;
/// Words of a solve's report: iterations, relative_residual, converged, stop, and for
/// Jacobi contraction and error_bound (0 for the Krylov methods).
pub const SOLVE_REPORT_WORDS: u32 = 6;
/// Words of a local solve's options: tol, has_dominance, dominance, has_c_max, c_max,
/// max_pushes, walks, seed, failure_probability, max_walk_steps.
pub const LOCAL_OPTION_WORDS: u32 = 10;
/// Words of a local solve's report: estimate, error_bound, failure_probability,
/// push_estimate, push_bound, residual_l1, q, c_max, pushes, walks, walk_steps, work,
/// rows_read, touched, converged, stop.
pub const LOCAL_REPORT_WORDS: u32 = 16;
/// Words of a PageRank report: iterations, l1_change, error_bound, converged, stop.
pub const PAGERANK_REPORT_WORDS: u32 = 5;
/// Words of push options: alpha, eps (forward) or r_max (backward), max_pushes, top_k
/// (`u64::MAX`: all).
pub const PUSH_OPTION_WORDS: u32 = 4;
/// Words of a push report: error_bound, residual_mass, eps_reached, pushes, work, touched,
/// converged, stop.
pub const PUSH_REPORT_WORDS: u32 = 8;
/// Words of pair options: alpha, r_max, walks, seed, failure_probability, max_pushes,
/// max_walk_steps.
pub const PAIR_OPTION_WORDS: u32 = 7;
/// Words of a pair report: estimate, push_estimate, push_bound, error_bound,
/// failure_probability, pushes, walks, walk_steps, work, touched, converged, stop.
pub const PAIR_REPORT_WORDS: u32 = 12;
/// Words (u32) of a personalization descriptor: kind, a, b, n (see [`personalization`]).
pub const PERSONALIZATION_WORDS: u32 = 4;
/// Words (u32) `fv_matrix_info` and `fv_graph_info` write.
pub const INFO_WORDS: u32 = 4;

/// The tolerance and budget of the dangling-node correction a graph computes for backward
/// estimates: the same as the native library's (`ffi/src/solver.rs`), so both give the
/// same numbers.
pub const CORRECTION_TOL: f64 = 1e-13;
/// See [`CORRECTION_TOL`].
pub const CORRECTION_MAX_ITER: usize = 100_000;

/// A graph with the dangling-node corrections computed so far (one per `alpha`).
pub struct SolverGraph {
    graph: Graph,
    corrections: Vec<DanglingCorrection>,
}

impl SolverGraph {
    /// A graph without corrections yet.
    pub fn new(graph: Graph) -> SolverGraph {
        SolverGraph {
            graph,
            corrections: Vec::new(),
        }
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

/// The correction for `alpha` of `graph` (computed once per `alpha` and kept in
/// `corrections`, only for a graph with dangling nodes), as the native library does.
fn correction<'c>(
    graph: &Graph,
    corrections: &'c mut Vec<DanglingCorrection>,
    alpha: f64,
) -> Result<Option<&'c DanglingCorrection>> {
    if graph.dangling().is_empty() {
        return Ok(None);
    }
    let found = corrections
        .iter()
        .position(|c| c.alpha().to_bits() == alpha.to_bits());
    let at = match found {
        Some(at) => at,
        None => {
            let made = DanglingCorrection::new(graph, alpha, CORRECTION_TOL, CORRECTION_MAX_ITER)?;
            corrections.try_reserve(1).map_err(|_| {
                Error::OutOfMemory("no room for the dangling-node correction".into())
            })?;
            corrections.push(made);
            corrections.len() - 1
        }
    };
    Ok(Some(&corrections[at]))
}

/// The code of a [`Stop`] in a report: 0 converged, 1 max iterations, 2 max work,
/// 3 breakdown.
pub fn stop_code(stop: Stop) -> u64 {
    match stop {
        Stop::Converged => 0,
        Stop::MaxIterations => 1,
        Stop::MaxWork => 2,
        Stop::Breakdown => 3,
        _ => 255,
    }
}

fn get<T>(reg: &Registry<T>, h: u32) -> Result<&T> {
    reg.get(Handle::from_raw(h))
}

fn get_mut<T>(reg: &mut Registry<T>, h: u32) -> Result<&mut T> {
    reg.get_mut(Handle::from_raw(h))
}

/// Fails if any two of `regions` share a byte. The first of each pair names the output.
fn disjoint(regions: &[(Region, &'static str)]) -> Result<()> {
    for (i, &(a, an)) in regions.iter().enumerate() {
        for &(b, bn) in &regions[i + 1..] {
            check_disjoint(a, an, b, bn)?;
        }
    }
    Ok(())
}

/// Reads `N` option words from a checked region.
fn words<const N: usize, M: Memory>(mem: &M, region: Region) -> [u64; N] {
    let mut out = [0u64; N];
    // SAFETY: a checked region of N u64, only read, for this call only.
    out.copy_from_slice(unsafe { mem.slice::<u64>(region) });
    out
}

/// Writes report words to a checked region.
fn put_words<M: Memory>(mem: &M, region: Region, values: &[u64]) {
    // SAFETY: a checked region of `values.len()` u64 that overlaps no input still borrowed
    // (checked by the caller).
    unsafe { mem.slice_mut::<u64>(region) }.copy_from_slice(values);
}

fn put_u32<M: Memory>(mem: &M, region: Region, value: u32) {
    // SAFETY: a checked region of one u32, overlapping no borrowed input.
    unsafe { mem.slice_mut::<u32>(region)[0] = value };
}

fn f(word: u64) -> f64 {
    f64::from_bits(word)
}

fn flag(word: u64, what: &str) -> Result<bool> {
    match word {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::InvalidArgument(format!(
            "{what} must be 0 or 1, got {word}"
        ))),
    }
}

fn optional_usize(word: u64) -> Option<usize> {
    (word != u64::MAX).then(|| usize::try_from(word).unwrap_or(usize::MAX))
}

fn b(value: bool) -> u64 {
    u64::from(value)
}

// ------------------------------------------------------------------------------ matrices

/// `fv_matrix_from_csr`: `n_rows + 1` row pointers (u32), `nnz` column indices (u32) and
/// values (f64). `sorted` 1: canonical CSR (columns strictly increasing in each row);
/// 0: any order within a row, duplicates summed.
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn matrix_from_csr(
    mem: &impl Memory,
    reg: &mut Registry<CsrMatrix>,
    n_rows: u32,
    n_cols: u32,
    indptr: u32,
    indices: u32,
    values: u32,
    nnz: u32,
    sorted: u32,
    out_handle: u32,
) -> Result<()> {
    let n_ptr = n_rows.checked_add(1).ok_or_else(|| {
        Error::InvalidArgument(format!("n_rows {n_rows} is too large for the row pointers"))
    })?;
    let rp = mem.region::<u32>(indptr, n_ptr, "indptr")?;
    let ri = mem.region::<u32>(indices, nnz, "indices")?;
    let rv = mem.region::<f64>(values, nnz, "values")?;
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    disjoint(&[
        (out, "out_handle"),
        (rp, "indptr"),
        (ri, "indices"),
        (rv, "values"),
    ])?;
    let sorted = flag(u64::from(sorted), "sorted")?;
    // SAFETY: checked regions, only read, for this call only.
    let (p, i, v) = unsafe {
        (
            mem.slice::<u32>(rp),
            mem.slice::<u32>(ri),
            mem.slice::<f64>(rv),
        )
    };
    let (rows, cols) = (n_rows as usize, n_cols as usize);
    let matrix = if sorted {
        CsrRef::new(rows, cols, p, i, v)?.to_matrix()?
    } else {
        CsrMatrix::from_csr_unsorted(rows, cols, p, i, v)?
    };
    let handle = reg.insert(matrix).map_err(|(err, _)| err)?;
    put_u32(mem, out, handle.raw());
    Ok(())
}

/// `fv_matrix_from_triplets`: `nnz` rows (u32), columns (u32) and values (f64), any order,
/// duplicates summed.
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn matrix_from_triplets(
    mem: &impl Memory,
    reg: &mut Registry<CsrMatrix>,
    n_rows: u32,
    n_cols: u32,
    rows: u32,
    cols: u32,
    values: u32,
    nnz: u32,
    out_handle: u32,
) -> Result<()> {
    let rr = mem.region::<u32>(rows, nnz, "rows")?;
    let rc = mem.region::<u32>(cols, nnz, "cols")?;
    let rv = mem.region::<f64>(values, nnz, "values")?;
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    disjoint(&[
        (out, "out_handle"),
        (rr, "rows"),
        (rc, "cols"),
        (rv, "values"),
    ])?;
    // SAFETY: checked regions, only read, for this call only.
    let (r, c, v) = unsafe {
        (
            mem.slice::<u32>(rr),
            mem.slice::<u32>(rc),
            mem.slice::<f64>(rv),
        )
    };
    let matrix = CsrMatrix::from_triplets(n_rows as usize, n_cols as usize, r, c, v)?;
    let handle = reg.insert(matrix).map_err(|(err, _)| err)?;
    put_u32(mem, out, handle.raw());
    Ok(())
}

/// `fv_matrix_free`.
pub fn matrix_free(reg: &mut Registry<CsrMatrix>, h: u32) -> Result<()> {
    reg.remove(Handle::from_raw(h)).map(drop)
}

/// `fv_matrix_info`: writes [`INFO_WORDS`] u32: n_rows, n_cols, nnz, 0.
pub fn matrix_info(mem: &impl Memory, reg: &Registry<CsrMatrix>, h: u32, out: u32) -> Result<()> {
    let m = get(reg, h)?;
    let ro = mem.region::<u32>(out, INFO_WORDS, "out")?;
    let words = [m.n_rows() as u32, m.n_cols() as u32, m.nnz() as u32, 0];
    // SAFETY: a checked region of INFO_WORDS u32, no input borrowed.
    unsafe { mem.slice_mut::<u32>(ro) }.copy_from_slice(&words);
    Ok(())
}

/// `fv_matrix_mul_vec`: `y = A x`, `n_x` (= n_cols) f64 at `x`, `n_y` (= n_rows) at `y`.
pub fn matrix_mul_vec(
    mem: &impl Memory,
    reg: &Registry<CsrMatrix>,
    h: u32,
    x: u32,
    n_x: u32,
    y: u32,
    n_y: u32,
) -> Result<()> {
    let m = get(reg, h)?;
    let rx = mem.region::<f64>(x, n_x, "x")?;
    let ry = mem.region::<f64>(y, n_y, "y")?;
    check_disjoint(ry, "y", rx, "x")?;
    // SAFETY: checked, disjoint regions; `x` only read, `y` written by this call only.
    let (xs, ys) = unsafe { (mem.slice::<f64>(rx), mem.slice_mut::<f64>(ry)) };
    // The core checks both lengths before writing anything.
    m.mul_vec(xs, ys)
}

/// `fv_matrix_solve`: `method` ([`METHOD_CG`], [`METHOD_BICGSTAB`], [`METHOD_JACOBI`]) on
/// `n_b` f64 at `b`, optional initial guess (`x0 = 0`: none; else `n_x0` f64), options
/// ([`SOLVE_OPTION_WORDS`]); writes `n_x` (= n_cols) f64 to `x_out` and
/// [`SOLVE_REPORT_WORDS`] to `report`.
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn matrix_solve(
    mem: &impl Memory,
    reg: &Registry<CsrMatrix>,
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
) -> Result<()> {
    let m = get(reg, h)?;
    let rb = mem.region::<f64>(b, n_b, "b")?;
    let rx0 = if x0 == 0 {
        None
    } else {
        Some(mem.region::<f64>(x0, n_x0, "x0")?)
    };
    let ro = mem.region::<u64>(options, SOLVE_OPTION_WORDS, "options")?;
    let rx = mem.region::<f64>(x_out, n_x, "x_out")?;
    let rr = mem.region::<u64>(report, SOLVE_REPORT_WORDS, "report")?;
    let mut regions = alloc::vec![(rx, "x_out"), (rr, "report"), (rb, "b"), (ro, "options"),];
    if let Some(r) = rx0 {
        regions.push((r, "x0"));
    }
    disjoint(&regions)?;
    let w: [u64; SOLVE_OPTION_WORDS as usize] = words(mem, ro);
    let preconditioner = match w[2] {
        0 => Preconditioner::None,
        1 => Preconditioner::Jacobi,
        p => {
            return Err(Error::InvalidArgument(format!(
                "unknown preconditioner {p} (expected 0 = none, 1 = jacobi)"
            )))
        }
    };
    let has_symmetry = flag(w[3], "has_symmetry_tolerance")?;
    // SAFETY: checked regions, only read, for this call only.
    let bs = unsafe { mem.slice::<f64>(rb) };
    // SAFETY: as above.
    let x0s = rx0.map(|r| unsafe { mem.slice::<f64>(r) });
    let mut opts = SolveOptions::new().rtol(f(w[0]));
    opts.max_iterations = optional_usize(w[1]);
    opts.x0 = x0s;
    opts.preconditioner = preconditioner;
    opts.symmetry_tolerance = has_symmetry.then(|| f(w[4]));
    let a = m.view();
    let (x, words) = match method {
        METHOD_CG => {
            let Solution { x, report } = linear::cg(a, bs, &opts)?;
            (x, solve_report(&report, 0.0, 0.0))
        }
        METHOD_BICGSTAB => {
            let Solution { x, report } = linear::bicgstab(a, bs, &opts)?;
            (x, solve_report(&report, 0.0, 0.0))
        }
        METHOD_JACOBI => {
            let Solution { x, report } = linear::jacobi(a, bs, &opts)?;
            let JacobiReport {
                solve,
                contraction,
                error_bound,
                ..
            } = report;
            (x, solve_report(&solve, contraction, error_bound))
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "unknown method {method} (expected 0 = cg, 1 = bicgstab, 2 = jacobi)"
            )))
        }
    };
    if x.len() != n_x as usize {
        return Err(Error::DimensionMismatch {
            expected: x.len(),
            actual: n_x as usize,
        });
    }
    // SAFETY: a checked region of n_x f64 overlapping no input (checked above).
    unsafe { mem.slice_mut::<f64>(rx) }.copy_from_slice(&x);
    put_words(mem, rr, &words);
    Ok(())
}

fn solve_report(r: &SolveReport, contraction: f64, error_bound: f64) -> [u64; 6] {
    [
        r.iterations as u64,
        r.relative_residual.to_bits(),
        b(r.converged),
        stop_code(r.stop),
        contraction.to_bits(),
        error_bound.to_bits(),
    ]
}

/// The right-hand side of a local solve: `b_kind` 0: `n_b` f64 at `b_values` (dense);
/// 1: `n_b` indices (u32) at `b_indices` with their values (sparse).
fn rhs_regions<M: Memory>(
    mem: &M,
    b_kind: u32,
    b_indices: u32,
    b_values: u32,
    n_b: u32,
) -> Result<(bool, Option<Region>, Region)> {
    let rv = mem.region::<f64>(b_values, n_b, "b_values")?;
    match b_kind {
        0 => Ok((false, None, rv)),
        1 => Ok((
            true,
            Some(mem.region::<u32>(b_indices, n_b, "b_indices")?),
            rv,
        )),
        _ => Err(Error::InvalidArgument(format!(
            "unknown right-hand side kind {b_kind} (expected 0 = dense, 1 = sparse)"
        ))),
    }
}

fn local_options(w: &[u64; LOCAL_OPTION_WORDS as usize]) -> Result<LocalSolveOptions> {
    let has_q = flag(w[1], "has_dominance")?;
    let has_c = flag(w[3], "has_c_max")?;
    Ok(LocalSolveOptions {
        tol: f(w[0]),
        dominance: has_q.then(|| f(w[2])),
        c_max: has_c.then(|| f(w[4])),
        max_pushes: w[5],
        walks: w[6],
        seed: w[7],
        failure_probability: f(w[8]),
        max_walk_steps: w[9],
    })
}

fn local_report(r: &LocalSolve) -> [u64; LOCAL_REPORT_WORDS as usize] {
    [
        r.estimate.to_bits(),
        r.error_bound.to_bits(),
        r.failure_probability.to_bits(),
        r.push_estimate.to_bits(),
        r.push_bound.to_bits(),
        r.residual_l1.to_bits(),
        r.q.to_bits(),
        r.c_max.to_bits(),
        r.pushes,
        r.walks,
        r.walk_steps,
        r.work,
        r.rows_read as u64,
        r.touched as u64,
        b(r.converged),
        stop_code(r.stop),
    ]
}

/// `fv_matrix_solve_local`: `u^T x` for the sparse `u` (`n_u` indices (u32) and values
/// (f64)), or with `row != u32::MAX` and `n_u = 0` the entry `x_row` ([`local::solve_entry`]);
/// right-hand side as [`rhs_regions`], options [`LOCAL_OPTION_WORDS`], report
/// [`LOCAL_REPORT_WORDS`].
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn matrix_solve_local(
    mem: &impl Memory,
    reg: &Registry<CsrMatrix>,
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
) -> Result<()> {
    let m = get(reg, h)?;
    let (sparse, rbi, rbv) = rhs_regions(mem, b_kind, b_indices, b_values, n_b)?;
    let rui = mem.region::<u32>(u_indices, n_u, "u_indices")?;
    let ruv = mem.region::<f64>(u_values, n_u, "u_values")?;
    let ro = mem.region::<u64>(options, LOCAL_OPTION_WORDS, "options")?;
    let rr = mem.region::<u64>(report, LOCAL_REPORT_WORDS, "report")?;
    let mut regions = alloc::vec![
        (rr, "report"),
        (rbv, "b_values"),
        (rui, "u_indices"),
        (ruv, "u_values"),
        (ro, "options"),
    ];
    if let Some(r) = rbi {
        regions.push((r, "b_indices"));
    }
    disjoint(&regions)?;
    let opts = local_options(&words(mem, ro))?;
    // SAFETY: checked regions, only read, for this call only.
    let (bv, ui, uv) = unsafe {
        (
            mem.slice::<f64>(rbv),
            mem.slice::<u32>(rui),
            mem.slice::<f64>(ruv),
        )
    };
    let rhs = match rbi {
        // SAFETY: as above.
        Some(r) if sparse => Rhs::Sparse {
            indices: unsafe { mem.slice::<u32>(r) },
            values: bv,
        },
        _ => Rhs::Dense(bv),
    };
    let result = if row != u32::MAX {
        if n_u != 0 {
            return Err(Error::InvalidArgument(
                "give either a row or a functional u, not both".into(),
            ));
        }
        local::solve_entry(m.view(), &rhs, row as usize, &opts)?
    } else {
        local::solve_functional(m.view(), &rhs, ui, uv, &opts)?
    };
    put_words(mem, rr, &local_report(&result));
    Ok(())
}

// ------------------------------------------------------------------------------ graphs

/// `fv_graph_from_edges`: `n_edges` sources and targets (u32), weights (f64; `weights = 0`:
/// 1.0 each).
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn graph_from_edges(
    mem: &impl Memory,
    reg: &mut Registry<SolverGraph>,
    n_nodes: u32,
    src: u32,
    dst: u32,
    weights: u32,
    n_edges: u32,
    out_handle: u32,
) -> Result<()> {
    let rs = mem.region::<u32>(src, n_edges, "src")?;
    let rd = mem.region::<u32>(dst, n_edges, "dst")?;
    let rw = if weights == 0 {
        None
    } else {
        Some(mem.region::<f64>(weights, n_edges, "weights")?)
    };
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    let mut regions = alloc::vec![(out, "out_handle"), (rs, "src"), (rd, "dst")];
    if let Some(r) = rw {
        regions.push((r, "weights"));
    }
    disjoint(&regions)?;
    // SAFETY: checked regions, only read, for this call only.
    let (s, d) = unsafe { (mem.slice::<u32>(rs), mem.slice::<u32>(rd)) };
    // SAFETY: as above.
    let w = rw.map(|r| unsafe { mem.slice::<f64>(r) });
    let graph = Graph::from_edges(n_nodes as usize, s, d, w)?;
    let handle = reg
        .insert(SolverGraph::new(graph))
        .map_err(|(err, _)| err)?;
    put_u32(mem, out, handle.raw());
    Ok(())
}

/// `fv_graph_from_csr`: `n_nodes + 1` row pointers, `n_indices` targets (u32) and weights
/// (f64; `weights = 0`: 1.0 each).
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn graph_from_csr(
    mem: &impl Memory,
    reg: &mut Registry<SolverGraph>,
    n_nodes: u32,
    indptr: u32,
    indices: u32,
    weights: u32,
    n_indices: u32,
    out_handle: u32,
) -> Result<()> {
    let n_ptr = n_nodes.checked_add(1).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "n_nodes {n_nodes} is too large for the row pointers"
        ))
    })?;
    let rp = mem.region::<u32>(indptr, n_ptr, "indptr")?;
    let ri = mem.region::<u32>(indices, n_indices, "indices")?;
    let rw = if weights == 0 {
        None
    } else {
        Some(mem.region::<f64>(weights, n_indices, "weights")?)
    };
    let out = mem.region::<u32>(out_handle, 1, "out_handle")?;
    let mut regions = alloc::vec![(out, "out_handle"), (rp, "indptr"), (ri, "indices")];
    if let Some(r) = rw {
        regions.push((r, "weights"));
    }
    disjoint(&regions)?;
    // SAFETY: checked regions, only read, for this call only.
    let (p, i) = unsafe { (mem.slice::<u32>(rp), mem.slice::<u32>(ri)) };
    // SAFETY: as above.
    let w = rw.map(|r| unsafe { mem.slice::<f64>(r) });
    let graph = Graph::from_csr(n_nodes as usize, p, i, w)?;
    let handle = reg
        .insert(SolverGraph::new(graph))
        .map_err(|(err, _)| err)?;
    put_u32(mem, out, handle.raw());
    Ok(())
}

/// `fv_graph_free`.
pub fn graph_free(reg: &mut Registry<SolverGraph>, h: u32) -> Result<()> {
    reg.remove(Handle::from_raw(h)).map(drop)
}

/// `fv_graph_info`: writes [`INFO_WORDS`] u32: n_nodes, n_edges, dangling nodes, 0.
pub fn graph_info(mem: &impl Memory, reg: &Registry<SolverGraph>, h: u32, out: u32) -> Result<()> {
    let g = &get(reg, h)?.graph;
    let ro = mem.region::<u32>(out, INFO_WORDS, "out")?;
    let words = [
        g.n_nodes() as u32,
        g.n_edges() as u32,
        g.dangling().len() as u32,
        0,
    ];
    // SAFETY: a checked region of INFO_WORDS u32, no input borrowed.
    unsafe { mem.slice_mut::<u32>(ro) }.copy_from_slice(&words);
    Ok(())
}

/// The regions of a personalization descriptor ([`PERSONALIZATION_WORDS`] u32 at `desc`:
/// kind, a, b, n): kind 0 uniform; 1 one node (`a`); 2 dense (`n` f64 at `b`); 3 sparse
/// (`n` nodes (u32) at `a`, `n` weights (f64) at `b`). The regions are added to `inputs`.
fn personalization<'m, M: Memory>(
    mem: &'m M,
    desc: u32,
    name: &'static str,
    inputs: &mut Vec<(Region, &'static str)>,
) -> Result<Personalization<'m>> {
    let rd = mem.region::<u32>(desc, PERSONALIZATION_WORDS, name)?;
    let mut d = [0u32; 4];
    // SAFETY: a checked region of 4 u32, only read.
    d.copy_from_slice(unsafe { mem.slice::<u32>(rd) });
    inputs.push((rd, name));
    let [kind, a, b, n] = d;
    Ok(match kind {
        0 => Personalization::Uniform,
        1 => Personalization::Node(a),
        2 => {
            let rw = mem.region::<f64>(b, n, "weights")?;
            inputs.push((rw, "weights"));
            // SAFETY: a checked region, only read, for this call only.
            Personalization::Dense(unsafe { mem.slice::<f64>(rw) })
        }
        3 => {
            let rn = mem.region::<u32>(a, n, "nodes")?;
            let rw = mem.region::<f64>(b, n, "weights")?;
            inputs.push((rn, "nodes"));
            inputs.push((rw, "weights"));
            // SAFETY: checked regions, only read, for this call only.
            unsafe {
                Personalization::Sparse {
                    nodes: mem.slice::<u32>(rn),
                    weights: mem.slice::<f64>(rw),
                }
            }
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "unknown personalization kind {kind} (expected 0 = uniform, 1 = node, \
                 2 = dense, 3 = sparse)"
            )))
        }
    })
}

/// Fails if an output overlaps any input.
fn outputs_clear(
    outputs: &[(Region, &'static str)],
    inputs: &[(Region, &'static str)],
) -> Result<()> {
    disjoint(outputs)?;
    for &(o, on) in outputs {
        for &(i, inn) in inputs {
            check_disjoint(o, on, i, inn)?;
        }
    }
    Ok(())
}

/// `fv_graph_pagerank`: options (`alpha`, `tol`, `max_iter`), personalization, dangling and
/// start descriptors (`dangling` / `start` 0: none); writes `n_out` (= n_nodes) f64 scores
/// and [`PAGERANK_REPORT_WORDS`].
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn graph_pagerank(
    mem: &impl Memory,
    reg: &Registry<SolverGraph>,
    h: u32,
    alpha: f64,
    tol: f64,
    max_iter: u32,
    pers: u32,
    dangling: u32,
    start: u32,
    out_scores: u32,
    n_out: u32,
    report: u32,
) -> Result<()> {
    let g = &get(reg, h)?.graph;
    let mut inputs = Vec::new();
    let restart = personalization(mem, pers, "personalization", &mut inputs)?;
    let dangling = match dangling {
        0 => None,
        d => Some(personalization(mem, d, "dangling", &mut inputs)?),
    };
    let start = match start {
        0 => None,
        s => Some(personalization(mem, s, "start", &mut inputs)?),
    };
    let rs = mem.region::<f64>(out_scores, n_out, "out_scores")?;
    let rr = mem.region::<u64>(report, PAGERANK_REPORT_WORDS, "report")?;
    outputs_clear(&[(rs, "out_scores"), (rr, "report")], &inputs)?;
    if n_out as usize != g.n_nodes() {
        return Err(Error::DimensionMismatch {
            expected: g.n_nodes(),
            actual: n_out as usize,
        });
    }
    let opts = PageRankOptions {
        alpha,
        personalization: restart,
        dangling,
        start,
        tol,
        max_iter: max_iter as usize,
    };
    let pr = pagerank::pagerank(g, &opts)?;
    // SAFETY: a checked region of n_out f64, overlapping no input.
    unsafe { mem.slice_mut::<f64>(rs) }.copy_from_slice(&pr.scores);
    put_words(
        mem,
        rr,
        &[
            pr.iterations as u64,
            pr.l1_change.to_bits(),
            pr.error_bound.to_bits(),
            b(pr.converged),
            stop_code(pr.stop),
        ],
    );
    Ok(())
}

/// Sparse push results, for the ABI layer to copy into a block it allocates: the scores
/// and the regions where the block's offset and the count go.
pub struct SparseOut {
    /// `(node, score)` by descending score.
    pub scores: Vec<(u32, f64)>,
    /// Where the block's offset (u32) goes.
    pub out_ptr: Region,
    /// Where the number of results (u32) goes.
    pub out_n: Region,
    /// Where the report goes ([`PUSH_REPORT_WORDS`]), written with the results.
    pub report: Region,
    /// The report.
    pub report_words: [u64; PUSH_REPORT_WORDS as usize],
}

impl SparseOut {
    /// Writes the report (call once the results are handed out).
    pub fn write_report<M: Memory>(&self, mem: &M) {
        put_words(mem, self.report, &self.report_words);
    }
}

fn push_report(r: &PushReport) -> [u64; PUSH_REPORT_WORDS as usize] {
    [
        r.error_bound.to_bits(),
        r.residual_mass.to_bits(),
        r.eps_reached.to_bits(),
        r.pushes,
        r.work,
        r.touched as u64,
        b(r.converged),
        stop_code(r.stop),
    ]
}

/// Checks the regions every sparse-result function writes.
fn sparse_outputs<M: Memory>(
    mem: &M,
    out_ptr: u32,
    out_n: u32,
    report: u32,
    report_words: u32,
    inputs: &[(Region, &'static str)],
) -> Result<(Region, Region, Region)> {
    let rp = mem.region::<u32>(out_ptr, 1, "out_ptr")?;
    let rn = mem.region::<u32>(out_n, 1, "out_n")?;
    let rr = mem.region::<u64>(report, report_words, "report")?;
    outputs_clear(&[(rp, "out_ptr"), (rn, "out_n"), (rr, "report")], inputs)?;
    Ok((rp, rn, rr))
}

/// `fv_graph_forward_push`: from the source descriptor, options [`PUSH_OPTION_WORDS`]
/// (alpha, eps, max_pushes, top_k); writes the report here and returns the scores for the
/// ABI layer.
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn graph_forward_push(
    mem: &impl Memory,
    reg: &Registry<SolverGraph>,
    h: u32,
    source: u32,
    options: u32,
    out_ptr: u32,
    out_n: u32,
    report: u32,
) -> Result<SparseOut> {
    let g = &get(reg, h)?.graph;
    let mut inputs = Vec::new();
    let src = personalization(mem, source, "source", &mut inputs)?;
    let ro = mem.region::<u64>(options, PUSH_OPTION_WORDS, "options")?;
    inputs.push((ro, "options"));
    let (rp, rn, rr) = sparse_outputs(mem, out_ptr, out_n, report, PUSH_REPORT_WORDS, &inputs)?;
    let w: [u64; PUSH_OPTION_WORDS as usize] = words(mem, ro);
    let opts = PushOptions {
        alpha: f(w[0]),
        eps: f(w[1]),
        max_pushes: w[2],
        top_k: optional_usize(w[3]),
    };
    let PushResult { scores, report } = pagerank::forward_push(g, &src, &opts)?;
    Ok(SparseOut {
        scores,
        out_ptr: rp,
        out_n: rn,
        report: rr,
        report_words: push_report(&report),
    })
}

/// `fv_graph_backward_push`: to `target`, options [`PUSH_OPTION_WORDS`] (alpha, r_max,
/// max_pushes, top_k), with the graph's dangling-node correction for `alpha`.
#[allow(clippy::too_many_arguments)] // one per ABI parameter
pub fn graph_backward_push(
    mem: &impl Memory,
    reg: &mut Registry<SolverGraph>,
    h: u32,
    target: u32,
    options: u32,
    out_ptr: u32,
    out_n: u32,
    report: u32,
) -> Result<SparseOut> {
    let SolverGraph { graph, corrections } = get_mut(reg, h)?;
    let ro = mem.region::<u64>(options, PUSH_OPTION_WORDS, "options")?;
    let (rp, rn, rr) = sparse_outputs(
        mem,
        out_ptr,
        out_n,
        report,
        PUSH_REPORT_WORDS,
        &[(ro, "options")],
    )?;
    let w: [u64; PUSH_OPTION_WORDS as usize] = words(mem, ro);
    let alpha = f(w[0]);
    // As natively (ffi/src/solver.rs): the correction first, which checks alpha.
    let correction = correction(graph, corrections, alpha)?;
    let opts = BackwardOptions {
        alpha,
        r_max: f(w[1]),
        max_pushes: w[2],
        top_k: optional_usize(w[3]),
        correction,
    };
    let PushResult { scores, report } = pagerank::backward_push(graph, target, &opts)?;
    Ok(SparseOut {
        scores,
        out_ptr: rp,
        out_n: rn,
        report: rr,
        report_words: push_report(&report),
    })
}

/// `fv_graph_pair`: `pi_source(target)`, options [`PAIR_OPTION_WORDS`], report
/// [`PAIR_REPORT_WORDS`].
pub fn graph_pair(
    mem: &impl Memory,
    reg: &mut Registry<SolverGraph>,
    h: u32,
    source: u32,
    target: u32,
    options: u32,
    report: u32,
) -> Result<()> {
    let SolverGraph { graph, corrections } = get_mut(reg, h)?;
    let ro = mem.region::<u64>(options, PAIR_OPTION_WORDS, "options")?;
    let rr = mem.region::<u64>(report, PAIR_REPORT_WORDS, "report")?;
    check_disjoint(rr, "report", ro, "options")?;
    let w: [u64; PAIR_OPTION_WORDS as usize] = words(mem, ro);
    let alpha = f(w[0]);
    let correction = correction(graph, corrections, alpha)?;
    let opts = PairOptions {
        alpha,
        r_max: f(w[1]),
        walks: w[2],
        seed: w[3],
        failure_probability: f(w[4]),
        max_pushes: w[5],
        max_walk_steps: w[6],
        correction,
    };
    let p: PairEstimate = pagerank::pair(graph, source, target, &opts)?;
    put_words(
        mem,
        rr,
        &[
            p.estimate.to_bits(),
            p.push_estimate.to_bits(),
            p.push_bound.to_bits(),
            p.error_bound.to_bits(),
            p.failure_probability.to_bits(),
            p.pushes,
            p.walks,
            p.walk_steps,
            p.work,
            p.touched as u64,
            b(p.converged),
            stop_code(p.stop),
        ],
    );
    Ok(())
}

/// The bytes of a sparse result block: `n` f64 scores, then `n` u32 nodes.
pub fn sparse_block(scores: &[(u32, f64)]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(scores.len() * 12);
    for &(_, s) in scores {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    for &(node, _) in scores {
        bytes.extend_from_slice(&node.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::TestMemory;

    const INVALID_HANDLE: i32 = -14;

    /// [[4, 1], [1, 3]] as a matrix in `reg`; its handle.
    fn two_by_two(mem: &TestMemory, reg: &mut Registry<CsrMatrix>) -> u32 {
        mem.write(64, &[0u32, 0, 1, 1]);
        mem.write(80, &[0u32, 1, 0, 1]);
        mem.write(96, &[4.0f64, 1.0, 1.0, 3.0]);
        matrix_from_triplets(mem, reg, 2, 2, 64, 80, 96, 4, 128).unwrap();
        mem.read::<u32>(128, 1)[0]
    }

    fn solve_options(mem: &TestMemory, at: u32, rtol: f64) {
        mem.write(at, &[rtol.to_bits(), u64::MAX, 0, 0, 0, 0]);
    }

    #[test]
    fn matrix_round_trip_and_solve() {
        let mem = TestMemory::new(4096);
        let mut reg = Registry::new();
        let h = two_by_two(&mem, &mut reg);
        matrix_info(&mem, &reg, h, 256).unwrap();
        assert_eq!(mem.read::<u32>(256, 4), [2, 2, 4, 0]);
        mem.write(512, &[1.0f64, 2.0]);
        matrix_mul_vec(&mem, &reg, h, 512, 2, 544, 2).unwrap();
        assert_eq!(mem.read::<f64>(544, 2), [6.0, 7.0]);
        solve_options(&mem, 600, 1e-12);
        matrix_solve(&mem, &reg, h, METHOD_CG, 512, 2, 0, 0, 600, 704, 2, 800).unwrap();
        let x = mem.read::<f64>(704, 2);
        assert!((x[0] - 1.0 / 11.0).abs() < 1e-14 && (x[1] - 7.0 / 11.0).abs() < 1e-14);
        let report = mem.read::<u64>(800, 6);
        assert_eq!(
            (report[2], report[3]),
            (1, 0),
            "converged, stop = converged"
        );
        assert!(f64::from_bits(report[1]) <= 1e-12);
    }

    #[test]
    fn bad_calls_are_errors_and_write_nothing() {
        let mem = TestMemory::new(4096);
        let mut reg = Registry::new();
        let h = two_by_two(&mem, &mut reg);
        mem.write(512, &[1.0f64, 2.0]);
        mem.write(544, &[9.0f64, 9.0, 9.0]);
        // Stale / forged handles.
        let e = matrix_mul_vec(&mem, &reg, h + (1 << 16), 512, 2, 544, 2).unwrap_err();
        assert_eq!(e.code(), INVALID_HANDLE);
        // Null input with a length, output overlapping the input, wrong lengths.
        assert_eq!(
            matrix_mul_vec(&mem, &reg, h, 0, 2, 544, 2)
                .unwrap_err()
                .code(),
            -1
        );
        assert_eq!(
            matrix_mul_vec(&mem, &reg, h, 512, 2, 520, 2)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(
            matrix_mul_vec(&mem, &reg, h, 512, 2, 544, 3)
                .unwrap_err()
                .code(),
            -2
        );
        // Out of bounds.
        assert_eq!(
            matrix_mul_vec(&mem, &reg, h, 4090, 2, 544, 2)
                .unwrap_err()
                .code(),
            -3
        );
        assert_eq!(mem.read::<f64>(544, 3), [9.0, 9.0, 9.0], "y untouched");
        // An unknown method, a bad flag: nothing written.
        solve_options(&mem, 600, 1e-10);
        mem.write(704, &[5.0f64, 5.0]);
        let e = matrix_solve(&mem, &reg, h, 7, 512, 2, 0, 0, 600, 704, 2, 800).unwrap_err();
        assert_eq!(e.code(), -3);
        mem.write(600 + 3 * 8, &[2u64]);
        let e = matrix_solve(&mem, &reg, h, 0, 512, 2, 0, 0, 600, 704, 2, 800).unwrap_err();
        assert_eq!(e.code(), -3);
        assert_eq!(mem.read::<f64>(704, 2), [5.0, 5.0], "x_out untouched");
        // Free, then the handle is stale; a double free too.
        matrix_free(&mut reg, h).unwrap();
        assert_eq!(matrix_free(&mut reg, h).unwrap_err().code(), INVALID_HANDLE);
        let e = matrix_mul_vec(&mem, &reg, h, 512, 2, 544, 2).unwrap_err();
        assert_eq!(e.code(), INVALID_HANDLE);
    }

    #[test]
    fn graph_push_results_and_descriptors() {
        let mem = TestMemory::new(8192);
        let mut reg = Registry::new();
        // 0 -> 1, 1 -> 2, 2 -> 0, 2 -> 3 (3 dangling).
        mem.write(64, &[0u32, 1, 2, 2]);
        mem.write(96, &[1u32, 2, 0, 3]);
        graph_from_edges(&mem, &mut reg, 4, 64, 96, 0, 4, 128).unwrap();
        let h = mem.read::<u32>(128, 1)[0];
        graph_info(&mem, &reg, h, 160).unwrap();
        assert_eq!(mem.read::<u32>(160, 4), [4, 4, 1, 0]);
        // Source descriptor: node 0.
        mem.write(256, &[1u32, 0, 0, 0]);
        mem.write(
            512,
            &[0.85f64.to_bits(), 1e-9f64.to_bits(), u64::MAX, u64::MAX],
        );
        let out = graph_forward_push(&mem, &reg, h, 256, 512, 600, 608, 640).unwrap();
        assert!(
            out.scores.len() == 4 && out.scores[0].0 == 0,
            "{:?}",
            out.scores
        );
        assert_eq!(
            mem.read::<u64>(640, 8),
            [0; 8],
            "report written only with the results"
        );
        out.write_report(&mem);
        assert_eq!(mem.read::<u64>(640, 8)[6], 1, "converged");
        // Unknown descriptor kind; report overlapping the options; out of range node.
        mem.write(256, &[9u32, 0, 0, 0]);
        let e = graph_forward_push(&mem, &reg, h, 256, 512, 600, 608, 640).err();
        assert_eq!(e.map(|e| e.code()), Some(-3));
        mem.write(256, &[1u32, 0, 0, 0]);
        let e = graph_forward_push(&mem, &reg, h, 256, 512, 600, 608, 520).err();
        assert_eq!(e.map(|e| e.code()), Some(-3));
        mem.write(256, &[1u32, 4, 0, 0]);
        let e = graph_forward_push(&mem, &reg, h, 256, 512, 600, 608, 640).err();
        assert_eq!(e.map(|e| e.code()), Some(-3));
        // Backward push and pair use the graph's cached correction (dangling node 3).
        let out = graph_backward_push(&mem, &mut reg, h, 3, 512, 600, 608, 640).unwrap();
        assert!(out.scores.iter().any(|&(v, _)| v == 2));
        assert_eq!(reg.get(Handle::from_raw(h)).unwrap().corrections.len(), 1);
        mem.write(
            704,
            &[
                0.85f64.to_bits(),
                1e-4f64.to_bits(),
                100,
                7,
                1e-3f64.to_bits(),
                u64::MAX,
                u64::MAX,
            ],
        );
        graph_pair(&mem, &mut reg, h, 0, 3, 704, 800).unwrap();
        assert_eq!(mem.read::<u64>(800, 12)[6], 100, "walks");
        assert_eq!(
            reg.get(Handle::from_raw(h)).unwrap().corrections.len(),
            1,
            "cached"
        );
    }
}
