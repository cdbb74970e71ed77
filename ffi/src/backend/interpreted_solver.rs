//! The Interpreted backend's sparse solver: a matrix or a graph living inside a wasm
//! instance of the solver module, driven through the `fv_matrix_*` / `fv_graph_*` functions
//! of ABI v3 (wasm/README.md, "Sparse solver").
//!
//! # One instance per object
//!
//! As for indexes (`interpreted_index.rs`), each matrix and each graph gets its own instance
//! of the solver module (compiled once per backend, on first use; see
//! [`Interpreted::solver_sandbox`]), with the backend's fuel budget per call and memory cap.
//!
//! # Surviving a trap
//!
//! Matrices and graphs are immutable, so the recovery log of an index reduces to the
//! object's own arrays: the host keeps the validated core matrix or graph it was given (so
//! [`MatrixBackend::to_csr`] answers without the module), and after a call that ran out of
//! fuel or trapped, the next call instantiates afresh and loads them again. A graph's
//! dangling-node corrections are recomputed in the new instance, with the same bits.
//!
//! # Threads
//!
//! One instance runs one call at a time: calls on one interpreted object are serialized by
//! a mutex.

use std::fmt;
use std::sync::Mutex;

use ferrovec_core::solver::linear::{JacobiReport, Preconditioner, Solution, SolveOptions};
use ferrovec_core::solver::local::{LocalSolve, LocalSolveOptions, Rhs};
use ferrovec_core::solver::pagerank::{
    PageRank, PageRankOptions, PairEstimate, Personalization, PushOptions, PushReport, PushResult,
};
use ferrovec_core::solver::{SolveReport, Stop};
use ferrovec_core::sparse::{CsrMatrix, Graph};
use ferrovec_core::{Error, Result};
use wasmi::TypedFunc;

use super::interpreted::Interpreted;
use super::module_call::{export, fits, CallResult, Fail, Inst, Sandbox};
use crate::solver::{BackwardPushOptions, GraphBackend, MatrixBackend, PairOptions};

const WHAT: &str = "the sparse solver functions of ABI version 3";

/// A matrix on `backend`, in a fresh instance of its solver module.
pub(crate) fn new_matrix(
    backend: &Interpreted,
    matrix: CsrMatrix,
) -> Result<Box<dyn MatrixBackend>> {
    Ok(Box::new(Held::create(backend.solver_sandbox()?, matrix)?))
}

/// A graph on `backend`, in a fresh instance of its solver module.
pub(crate) fn new_graph(backend: &Interpreted, graph: Graph) -> Result<Box<dyn GraphBackend>> {
    Ok(Box::new(Held::create(backend.solver_sandbox()?, graph)?))
}

/// An object the module can hold: how to look up its exports and load it into a fresh
/// instance.
trait Object: Sized {
    type Funcs;
    fn lookup(i: &wasmi::Instance, s: &wasmi::Store<wasmi::StoreLimits>) -> Result<Self::Funcs>;
    /// Loads `self` into `inst` and returns its handle.
    fn load(&self, inst: &mut Inst<Self::Funcs>) -> CallResult<u32>;
}

/// An immutable object (its host copy, the recovery source) and the instance holding it.
struct Held<T: Object> {
    sandbox: Sandbox,
    object: T,
    /// `None` after a call abandoned the instance; the next call rebuilds it.
    inst: Mutex<Option<Inst<T::Funcs>>>,
}

impl<T: Object> Held<T> {
    fn create(sandbox: Sandbox, object: T) -> Result<Held<T>> {
        let held = Held {
            sandbox,
            object,
            inst: Mutex::new(None),
        };
        let inst = held.rebuild()?;
        *held.inst.lock().unwrap_or_else(|p| p.into_inner()) = Some(inst);
        Ok(held)
    }

    /// A fresh instance holding the object.
    fn rebuild(&self) -> Result<Inst<T::Funcs>> {
        let mut inst = self.sandbox.instantiate(T::lookup)?;
        let handle = self
            .sandbox
            .call(&mut inst, |inst| self.object.load(inst))?;
        inst.handle = handle;
        Ok(inst)
    }

    /// Runs `body` on the live instance (rebuilding it first if an earlier call discarded
    /// it), discarding the instance if wasmi stopped the call.
    fn run<R>(&self, body: impl FnOnce(&mut Inst<T::Funcs>) -> CallResult<R>) -> Result<R> {
        let mut slot = self.inst.lock().unwrap_or_else(|p| {
            // A panic mid-call (a bug) may have left the instance mid-call: rebuild it.
            let mut guard = p.into_inner();
            *guard = None;
            guard
        });
        let inst = match &mut *slot {
            Some(inst) => inst,
            None => slot.insert(self.rebuild()?),
        };
        match self.sandbox.call_raw(inst, body) {
            Ok(value) => Ok(value),
            Err((err, discard)) => {
                if discard {
                    *slot = None;
                }
                Err(err)
            }
        }
    }
}

fn stop(code: u64) -> CallResult<Stop> {
    Ok(match code {
        0 => Stop::Converged,
        1 => Stop::MaxIterations,
        2 => Stop::MaxWork,
        3 => Stop::Breakdown,
        _ => return Err(Fail::Broken(format!("unknown stop code {code}"))),
    })
}

fn flag(word: u64) -> CallResult<bool> {
    match word {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Fail::Broken(format!("a report flag of {word}"))),
    }
}

fn fl(word: u64) -> f64 {
    f64::from_bits(word)
}

fn count(word: u64) -> usize {
    usize::try_from(word).unwrap_or(usize::MAX)
}

fn optional(value: Option<usize>) -> u64 {
    value.map_or(u64::MAX, |v| (v as u64).min(u64::MAX - 1))
}

/// A slice's length as the module's u32, inside a call.
fn len32<T>(s: &[T], what: &str) -> CallResult<u32> {
    fits(s.len(), what)
}

// ------------------------------------------------------------------------------ matrix

// The wasm signatures spelled out as the ABI lists them (wasm/README.md).
#[allow(clippy::type_complexity)]
struct MatrixFuncs {
    from_csr: TypedFunc<(u32, u32, u32, u32, u32, u32, u32, u32), i32>,
    mul_vec: TypedFunc<(u32, u32, u32, u32, u32), i32>,
    solve: TypedFunc<(u32, i32, u32, u32, u32, u32, u32, u32, u32, u32), i32>,
    solve_local: TypedFunc<(u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32), i32>,
}

impl Object for CsrMatrix {
    type Funcs = MatrixFuncs;

    fn lookup(i: &wasmi::Instance, s: &wasmi::Store<wasmi::StoreLimits>) -> Result<MatrixFuncs> {
        Ok(MatrixFuncs {
            from_csr: export(i, s, "fv_matrix_from_csr", WHAT)?,
            mul_vec: export(i, s, "fv_matrix_mul_vec", WHAT)?,
            solve: export(i, s, "fv_matrix_solve", WHAT)?,
            solve_local: export(i, s, "fv_matrix_solve_local", WHAT)?,
        })
    }

    fn load(&self, inst: &mut Inst<MatrixFuncs>) -> CallResult<u32> {
        let v = self.view();
        let (p, i, x) = (v.indptr(), v.indices(), v.values());
        let [pp, pi, px, out] = inst.stage([p.len() * 4, i.len() * 4, x.len() * 8, 4])?;
        inst.write(pp, p)?;
        inst.write(pi, i)?;
        inst.write(px, x)?;
        let args = (
            fits(self.n_rows(), "n_rows")?,
            fits(self.n_cols(), "n_cols")?,
            pp,
            pi,
            px,
            len32(i, "nnz")?,
            1,
            out,
        );
        let f = inst.f.from_csr;
        let status = f.call(&mut inst.store, args)?;
        inst.check(status)?;
        inst.read_u32(out)
    }
}

type InterpretedMatrix = Held<CsrMatrix>;

impl fmt::Debug for InterpretedMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterpretedMatrix")
            .field("n_rows", &self.object.n_rows())
            .field("n_cols", &self.object.n_cols())
            .field("nnz", &self.object.nnz())
            .field("fuel", &self.sandbox.fuel)
            .field("memory_limit", &self.sandbox.memory_limit)
            .finish_non_exhaustive()
    }
}

const SOLVE_REPORT_WORDS: usize = 6;
const LOCAL_OPTION_WORDS: usize = 10;
const LOCAL_REPORT_WORDS: usize = 16;

impl InterpretedMatrix {
    /// Runs `fv_matrix_solve` with `method` (0 CG, 1 BiCGSTAB, 2 Jacobi): `x` and the
    /// report words.
    fn solve(
        &self,
        method: i32,
        b: &[f64],
        options: &SolveOptions<'_>,
    ) -> Result<(Vec<f64>, [u64; SOLVE_REPORT_WORDS])> {
        let preconditioner = match options.preconditioner {
            Preconditioner::None => 0,
            Preconditioner::Jacobi => 1,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "the interpreted backend does not know the preconditioner {other:?}"
                )))
            }
        };
        let words: [u64; 6] = [
            options.rtol.to_bits(),
            optional(options.max_iterations),
            preconditioner,
            u64::from(options.symmetry_tolerance.is_some()),
            options.symmetry_tolerance.unwrap_or(0.0).to_bits(),
            0,
        ];
        let n = self.object.n_cols();
        self.run(|inst| {
            let x0 = options.x0.unwrap_or(&[]);
            let [pb, px0, po, px, pr] = inst.stage([
                b.len() * 8,
                x0.len() * 8,
                words.len() * 8,
                n * 8,
                SOLVE_REPORT_WORDS * 8,
            ])?;
            inst.write(pb, b)?;
            inst.write(px0, x0)?;
            inst.write(po, &words)?;
            let x0_ptr = if options.x0.is_some() { px0 } else { 0 };
            let args = (
                inst.handle,
                method,
                pb,
                len32(b, "b")?,
                x0_ptr,
                len32(x0, "x0")?,
                po,
                px,
                fits(n, "n")?,
                pr,
            );
            let f = inst.f.solve;
            let status = f.call(&mut inst.store, args)?;
            inst.check(status)?;
            let x = inst.read::<f64>(px, n)?;
            let r = inst.read::<u64>(pr, SOLVE_REPORT_WORDS)?;
            Ok((x, r.try_into().expect("SOLVE_REPORT_WORDS words")))
        })
    }
}

fn solve_report(r: &[u64; SOLVE_REPORT_WORDS]) -> Result<SolveReport> {
    let broken = |e: Fail| match e {
        Fail::Broken(what) => Error::Trap(format!("the module broke its ABI: {what}")),
        _ => Error::Internal("unexpected failure decoding a report".into()),
    };
    Ok(SolveReport {
        iterations: count(r[0]),
        relative_residual: fl(r[1]),
        converged: flag(r[2]).map_err(broken)?,
        stop: stop(r[3]).map_err(broken)?,
    })
}

impl MatrixBackend for InterpretedMatrix {
    fn shape(&self) -> (usize, usize) {
        (self.object.n_rows(), self.object.n_cols())
    }

    fn nnz(&self) -> usize {
        self.object.nnz()
    }

    /// The host's copy: the matrix is immutable, so it is what the module holds.
    fn to_csr(&self) -> Result<CsrMatrix> {
        self.object.view().to_matrix()
    }

    fn mul_vec(&self, x: &[f64], y: &mut [f64]) -> Result<()> {
        let out = self.run(|inst| {
            let [px, py] = inst.stage([x.len() * 8, y.len() * 8])?;
            inst.write(px, x)?;
            let args = (inst.handle, px, len32(x, "x")?, py, len32(y, "y")?);
            let f = inst.f.mul_vec;
            let status = f.call(&mut inst.store, args)?;
            inst.check(status)?;
            inst.read::<f64>(py, y.len())
        })?;
        y.copy_from_slice(&out);
        Ok(())
    }

    fn cg(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
        let (x, r) = self.solve(0, b, options)?;
        Ok(Solution {
            x,
            report: solve_report(&r)?,
        })
    }

    fn bicgstab(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution> {
        let (x, r) = self.solve(1, b, options)?;
        Ok(Solution {
            x,
            report: solve_report(&r)?,
        })
    }

    fn jacobi(&self, b: &[f64], options: &SolveOptions<'_>) -> Result<Solution<JacobiReport>> {
        let (x, r) = self.solve(2, b, options)?;
        Ok(Solution {
            x,
            report: JacobiReport {
                solve: solve_report(&r)?,
                contraction: fl(r[4]),
                error_bound: fl(r[5]),
            },
        })
    }

    fn solve_functional(
        &self,
        b: &Rhs<'_>,
        u_indices: &[u32],
        u_values: &[f64],
        options: &LocalSolveOptions,
    ) -> Result<LocalSolve> {
        let words: [u64; LOCAL_OPTION_WORDS] = [
            options.tol.to_bits(),
            u64::from(options.dominance.is_some()),
            options.dominance.unwrap_or(0.0).to_bits(),
            u64::from(options.c_max.is_some()),
            options.c_max.unwrap_or(0.0).to_bits(),
            options.max_pushes,
            options.walks,
            options.seed,
            options.failure_probability.to_bits(),
            options.max_walk_steps,
        ];
        let (kind, b_idx, b_val): (u32, &[u32], &[f64]) = match b {
            Rhs::Dense(values) => (0, &[], values),
            Rhs::Sparse { indices, values } => (1, indices, values),
        };
        self.run(|inst| {
            let [pbi, pbv, pui, puv, po, pr] = inst.stage([
                b_idx.len() * 4,
                b_val.len() * 8,
                u_indices.len() * 4,
                u_values.len() * 8,
                LOCAL_OPTION_WORDS * 8,
                LOCAL_REPORT_WORDS * 8,
            ])?;
            inst.write(pbi, b_idx)?;
            inst.write(pbv, b_val)?;
            inst.write(pui, u_indices)?;
            inst.write(puv, u_values)?;
            inst.write(po, &words)?;
            // Sparse b: the lengths must agree (as the core requires); the module takes one
            // count, so a mismatch is the core's error here.
            if kind == 1 && b_idx.len() != b_val.len() {
                return Err(Fail::Clean(Error::DimensionMismatch {
                    expected: b_idx.len(),
                    actual: b_val.len(),
                }));
            }
            if u_indices.len() != u_values.len() {
                return Err(Fail::Clean(Error::DimensionMismatch {
                    expected: u_indices.len(),
                    actual: u_values.len(),
                }));
            }
            let args = (
                inst.handle,
                kind,
                pbi,
                pbv,
                len32(b_val, "b")?,
                u32::MAX,
                pui,
                puv,
                len32(u_indices, "u")?,
                po,
                pr,
            );
            let f = inst.f.solve_local;
            let status = f.call(&mut inst.store, args)?;
            inst.check(status)?;
            let r = inst.read::<u64>(pr, LOCAL_REPORT_WORDS)?;
            Ok(LocalSolve {
                estimate: fl(r[0]),
                error_bound: fl(r[1]),
                failure_probability: fl(r[2]),
                push_estimate: fl(r[3]),
                push_bound: fl(r[4]),
                residual_l1: fl(r[5]),
                q: fl(r[6]),
                c_max: fl(r[7]),
                pushes: r[8],
                walks: r[9],
                walk_steps: r[10],
                work: r[11],
                rows_read: count(r[12]),
                touched: count(r[13]),
                converged: flag(r[14])?,
                stop: stop(r[15])?,
            })
        })
    }
}

// ------------------------------------------------------------------------------ graph

#[allow(clippy::type_complexity)]
struct GraphFuncs {
    from_csr: TypedFunc<(u32, u32, u32, u32, u32, u32), i32>,
    pagerank: TypedFunc<(u32, f64, f64, u32, u32, u32, u32, u32, u32, u32), i32>,
    forward_push: TypedFunc<(u32, u32, u32, u32, u32, u32), i32>,
    backward_push: TypedFunc<(u32, u32, u32, u32, u32, u32), i32>,
    pair: TypedFunc<(u32, u32, u32, u32, u32), i32>,
}

impl Object for Graph {
    type Funcs = GraphFuncs;

    fn lookup(i: &wasmi::Instance, s: &wasmi::Store<wasmi::StoreLimits>) -> Result<GraphFuncs> {
        Ok(GraphFuncs {
            from_csr: export(i, s, "fv_graph_from_csr", WHAT)?,
            pagerank: export(i, s, "fv_graph_pagerank", WHAT)?,
            forward_push: export(i, s, "fv_graph_forward_push", WHAT)?,
            backward_push: export(i, s, "fv_graph_backward_push", WHAT)?,
            pair: export(i, s, "fv_graph_pair", WHAT)?,
        })
    }

    fn load(&self, inst: &mut Inst<GraphFuncs>) -> CallResult<u32> {
        // The adjacency as the graph stores it (canonical, repeats already summed), so the
        // module's graph is the same graph.
        let a = self.adjacency();
        let (p, i, w) = (a.indptr(), a.indices(), a.values());
        let [pp, pi, pw, out] = inst.stage([p.len() * 4, i.len() * 4, w.len() * 8, 4])?;
        inst.write(pp, p)?;
        inst.write(pi, i)?;
        inst.write(pw, w)?;
        let args = (
            fits(self.n_nodes(), "n_nodes")?,
            pp,
            pi,
            pw,
            len32(i, "edges")?,
            out,
        );
        let f = inst.f.from_csr;
        let status = f.call(&mut inst.store, args)?;
        inst.check(status)?;
        inst.read_u32(out)
    }
}

type InterpretedGraph = Held<Graph>;

impl fmt::Debug for InterpretedGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InterpretedGraph")
            .field("n_nodes", &self.object.n_nodes())
            .field("n_edges", &self.object.n_edges())
            .field("fuel", &self.sandbox.fuel)
            .field("memory_limit", &self.sandbox.memory_limit)
            .finish_non_exhaustive()
    }
}

const PAGERANK_REPORT_WORDS: usize = 5;
const PUSH_REPORT_WORDS: usize = 8;
const PAIR_REPORT_WORDS: usize = 12;

/// A personalization staged in module memory: its 4-word descriptor's contents and the
/// arrays it points to.
struct Staged<'a> {
    kind: u32,
    node: u32,
    nodes: &'a [u32],
    weights: &'a [f64],
}

impl<'a> Staged<'a> {
    fn new(p: &Personalization<'a>) -> Staged<'a> {
        match *p {
            Personalization::Uniform => Staged {
                kind: 0,
                node: 0,
                nodes: &[],
                weights: &[],
            },
            Personalization::Node(node) => Staged {
                kind: 1,
                node,
                nodes: &[],
                weights: &[],
            },
            Personalization::Dense(weights) => Staged {
                kind: 2,
                node: 0,
                nodes: &[],
                weights,
            },
            Personalization::Sparse { nodes, weights } => Staged {
                kind: 3,
                node: 0,
                nodes,
                weights,
            },
        }
    }

    /// Byte sizes to stage: descriptor, nodes, weights.
    fn sizes(&self) -> [usize; 3] {
        [16, self.nodes.len() * 4, self.weights.len() * 8]
    }

    /// Writes the arrays and the descriptor at the staged offsets; returns the descriptor's
    /// offset.
    fn write<F>(&self, inst: &mut Inst<F>, at: [u32; 3]) -> CallResult<u32> {
        let [pd, pn, pw] = at;
        if self.kind == 3 && self.nodes.len() != self.weights.len() {
            return Err(Fail::Clean(Error::DimensionMismatch {
                expected: self.nodes.len(),
                actual: self.weights.len(),
            }));
        }
        inst.write(pn, self.nodes)?;
        inst.write(pw, self.weights)?;
        let n = match self.kind {
            2 => len32(self.weights, "weights")?,
            3 => len32(self.nodes, "nodes")?,
            _ => 0,
        };
        let a = if self.kind == 1 { self.node } else { pn };
        inst.write(pd, &[self.kind, a, pw, n])?;
        Ok(pd)
    }
}

fn push_report(r: &[u64]) -> CallResult<PushReport> {
    Ok(PushReport {
        error_bound: fl(r[0]),
        residual_mass: fl(r[1]),
        eps_reached: fl(r[2]),
        pushes: r[3],
        work: r[4],
        touched: count(r[5]),
        converged: flag(r[6])?,
        stop: stop(r[7])?,
    })
}

impl InterpretedGraph {
    /// Runs a push export whose results come in a block the module allocates: `extra` are
    /// the byte sizes of the call's own inputs, staged with the outputs; `call` writes them
    /// (at the offsets it is given) and calls the export with the out pointer, count and
    /// report offsets.
    fn push(
        &self,
        extra: [usize; 4],
        call: impl FnOnce(&mut Inst<GraphFuncs>, [u32; 4], u32, u32, u32) -> CallResult<i32>,
    ) -> Result<PushResult> {
        self.run(|inst| {
            let [e0, e1, e2, e3] = extra;
            let [a0, a1, a2, a3, pp, pn, pr] =
                inst.stage([e0, e1, e2, e3, 4, 4, PUSH_REPORT_WORDS * 8])?;
            let status = call(inst, [a0, a1, a2, a3], pp, pn, pr)?;
            inst.check(status)?;
            let (ptr, n) = (inst.read_u32(pp)?, inst.read_u32(pn)? as usize);
            let len = n
                .checked_mul(12)
                .and_then(|l| u32::try_from(l).ok())
                .ok_or_else(|| Fail::Broken(format!("{n} results")))?;
            let block = inst.take_block(ptr, len)?;
            let (scores, nodes) = block.split_at(n * 8);
            let scores = scores
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")));
            let nodes = nodes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")));
            let r = inst.read::<u64>(pr, PUSH_REPORT_WORDS)?;
            Ok(PushResult {
                scores: nodes.zip(scores).collect(),
                report: push_report(&r)?,
            })
        })
    }
}

impl GraphBackend for InterpretedGraph {
    fn n_nodes(&self) -> usize {
        self.object.n_nodes()
    }

    fn n_edges(&self) -> usize {
        self.object.n_edges()
    }

    fn pagerank(&self, options: &PageRankOptions<'_>) -> Result<PageRank> {
        let n = self.object.n_nodes();
        let pers = Staged::new(&options.personalization);
        let dangling = options.dangling.as_ref().map(Staged::new);
        let start = options.start.as_ref().map(Staged::new);
        let none = Staged::new(&Personalization::Uniform);
        let max_iter = u32::try_from(options.max_iter).unwrap_or(u32::MAX);
        self.run(|inst| {
            let [s0, s1, s2] = pers.sizes();
            let [d0, d1, d2] = dangling.as_ref().unwrap_or(&none).sizes();
            let [t0, t1, t2] = start.as_ref().unwrap_or(&none).sizes();
            let [p0, p1, p2, q0, q1, q2, r0, r1, r2, ps, pr] = inst.stage([
                s0,
                s1,
                s2,
                d0,
                d1,
                d2,
                t0,
                t1,
                t2,
                n * 8,
                PAGERANK_REPORT_WORDS * 8,
            ])?;
            let pp = pers.write(inst, [p0, p1, p2])?;
            let pd = match &dangling {
                Some(d) => d.write(inst, [q0, q1, q2])?,
                None => 0,
            };
            let pt = match &start {
                Some(t) => t.write(inst, [r0, r1, r2])?,
                None => 0,
            };
            let args = (
                inst.handle,
                options.alpha,
                options.tol,
                max_iter,
                pp,
                pd,
                pt,
                ps,
                fits(n, "n_nodes")?,
                pr,
            );
            let f = inst.f.pagerank;
            let status = f.call(&mut inst.store, args)?;
            inst.check(status)?;
            let scores = inst.read::<f64>(ps, n)?;
            let r = inst.read::<u64>(pr, PAGERANK_REPORT_WORDS)?;
            Ok(PageRank {
                scores,
                iterations: count(r[0]),
                l1_change: fl(r[1]),
                error_bound: fl(r[2]),
                converged: flag(r[3])?,
                stop: stop(r[4])?,
            })
        })
    }

    fn forward_push(
        &self,
        source: &Personalization<'_>,
        options: &PushOptions,
    ) -> Result<PushResult> {
        let src = Staged::new(source);
        let words = [
            options.alpha.to_bits(),
            options.eps.to_bits(),
            options.max_pushes,
            optional(options.top_k),
        ];
        let [s0, s1, s2] = src.sizes();
        self.push([s0, s1, s2, 32], |inst, [a0, a1, a2, po], pp, pn, pr| {
            let ps = src.write(inst, [a0, a1, a2])?;
            inst.write(po, &words)?;
            let f = inst.f.forward_push;
            Ok(f.call(&mut inst.store, (inst.handle, ps, po, pp, pn, pr))?)
        })
    }

    fn backward_push(&self, target: u32, options: &BackwardPushOptions) -> Result<PushResult> {
        let words = [
            options.alpha.to_bits(),
            options.r_max.to_bits(),
            options.max_pushes,
            optional(options.top_k),
        ];
        self.push([0, 0, 0, 32], |inst, [_, _, _, po], pp, pn, pr| {
            inst.write(po, &words)?;
            let f = inst.f.backward_push;
            Ok(f.call(&mut inst.store, (inst.handle, target, po, pp, pn, pr))?)
        })
    }

    fn pair(&self, source: u32, target: u32, options: &PairOptions) -> Result<PairEstimate> {
        let words = [
            options.alpha.to_bits(),
            options.r_max.to_bits(),
            options.walks,
            options.seed,
            options.failure_probability.to_bits(),
            options.max_pushes,
            options.max_walk_steps,
        ];
        self.run(|inst| {
            let [po, pr] = inst.stage([words.len() * 8, PAIR_REPORT_WORDS * 8])?;
            inst.write(po, &words)?;
            let f = inst.f.pair;
            let status = f.call(&mut inst.store, (inst.handle, source, target, po, pr))?;
            inst.check(status)?;
            let r = inst.read::<u64>(pr, PAIR_REPORT_WORDS)?;
            Ok(PairEstimate {
                estimate: fl(r[0]),
                push_estimate: fl(r[1]),
                push_bound: fl(r[2]),
                error_bound: fl(r[3]),
                failure_probability: fl(r[4]),
                pushes: r[5],
                walks: r[6],
                walk_steps: r[7],
                work: r[8],
                touched: count(r[9]),
                converged: flag(r[10])?,
                stop: stop(r[11])?,
            })
        })
    }
}
