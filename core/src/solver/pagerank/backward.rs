//! Single-target PageRank contributions by backward push (Andersen, Borgs, Chayes,
//! Hopcroft, Mirrokni, Teng 2008; Lofgren and Goel), and the per-source correction that
//! networkx's dangling rule needs.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::vec::Vec;

use super::forward::DEFAULT_MAX_PUSHES;
use super::{check_graph_alpha, check_positive, oom, ranking, zeros, PushReport, PushResult};
use crate::solver::local::map::NodeMap;
use crate::solver::Stop;
use crate::sparse::Graph;
use crate::{Error, Result};

/// Options of [`backward_push`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackwardOptions<'a> {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Push threshold: node `v` is pushed while its residual `r(v) >= r_max`; the additive
    /// error bound. Finite, `> 0`. Default `1e-4`.
    pub r_max: f64,
    /// Push budget. Default [`DEFAULT_MAX_PUSHES`](super::DEFAULT_MAX_PUSHES).
    pub max_pushes: u64,
    /// Keep only the `k` best scores.
    pub top_k: Option<usize>,
    /// Required if the graph has dangling nodes (see [`DanglingCorrection`]); computed for
    /// this graph and this `alpha`.
    pub correction: Option<&'a DanglingCorrection>,
}

impl Default for BackwardOptions<'_> {
    fn default() -> Self {
        BackwardOptions {
            alpha: 0.85,
            r_max: 1e-4,
            max_pushes: DEFAULT_MAX_PUSHES,
            top_k: None,
            correction: None,
        }
    }
}

/// Each source's PageRank mass that does not leak through dangling nodes: what turns
/// target-side (backward) estimates into networkx's values on graphs with dangling nodes.
///
/// networkx sends a dangling node's mass to the personalization, which for the source `s`
/// is `s` itself: the transition matrix differs per source, so one backward push cannot
/// follow it. But `pi_s = pi0_s / z(s)` exactly, where `pi0_s` is the PageRank of `s`
/// with dangling nodes absorbing (their `alpha` share lost) and `z(s) = sum_v pi0_s(v)`
/// (with `d = s`, the fixed point equation of `pi_s` is that of `pi0_s` scaled by the
/// dangling mass returned to `s`). `z` is a property of the graph and `alpha`, the same
/// for every target, and solves
///
/// ```text
/// z = (1 - alpha) 1 + alpha P z      (P: row-normalized adjacency, dangling rows zero)
/// ```
///
/// This computes it globally once (`O(m)` per iteration, `O(n)` memory; not local): the
/// iteration from `z_0 = 1` is an `alpha`-contraction in the max norm and decreases
/// monotonically to `z`, so each iterate is an upper bound and `||z_k - z||_inf <=
/// alpha / (1 - alpha) ||z_k - z_{k-1}||_inf`, the reported `error_bound`. `z(s) = 1`
/// exactly for sources that reach no dangling node and `z(s) >= 1 - alpha` always. On a
/// graph without dangling nodes `z = 1` and no iteration runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DanglingCorrection {
    mass: Vec<f64>,
    alpha: f64,
    n_nodes: usize,
    n_edges: usize,
    /// Iterations performed.
    pub iterations: usize,
    /// `max_s |masses()[s] - z(s)|` is at most this (the masses are upper bounds).
    pub error_bound: f64,
    /// Whether `error_bound <= tol`.
    pub converged: bool,
    /// [`Stop::Converged`] or [`Stop::MaxIterations`].
    pub stop: Stop,
}

impl DanglingCorrection {
    /// Iterates until the error bound is `<= tol` or `max_iter` iterations ran (then
    /// `converged = false`; the masses are still valid upper bounds with the reported
    /// bound, which [`backward_push`] adds to its own).
    ///
    /// Errors: an empty graph, `alpha` outside `(0, 1)`, `tol` not finite or `<= 0`.
    pub fn new(graph: &Graph, alpha: f64, tol: f64, max_iter: usize) -> Result<Self> {
        check_graph_alpha(graph, alpha)?;
        check_positive(tol, "tol")?;
        let n = graph.n_nodes();
        let mut z = zeros(n)?;
        z.fill(1.0);
        let mut result = DanglingCorrection {
            mass: Vec::new(),
            alpha,
            n_nodes: n,
            n_edges: graph.n_edges(),
            iterations: 0,
            error_bound: 0.0,
            converged: true,
            stop: Stop::Converged,
        };
        if graph.dangling().is_empty() {
            result.mass = z;
            return Ok(result);
        }
        let mut y = zeros(n)?;
        let adj = graph.adjacency();
        let mut bound = f64::INFINITY;
        while result.iterations < max_iter {
            result.iterations += 1;
            adj.mul_vec(&z, &mut y)?;
            let mut diff = 0.0f64;
            for ((yu, zu), &w) in y.iter_mut().zip(&z).zip(graph.out_weights()) {
                let pz = if w > 0.0 { *yu / w } else { 0.0 };
                let next = (1.0 - alpha) + alpha * pz;
                diff = diff.max((next - zu).abs());
                *yu = next;
            }
            core::mem::swap(&mut z, &mut y);
            bound = alpha / (1.0 - alpha) * diff;
            if bound <= tol {
                break;
            }
        }
        result.mass = z;
        result.error_bound = bound;
        result.converged = bound <= tol;
        result.stop = if result.converged {
            Stop::Converged
        } else {
            Stop::MaxIterations
        };
        Ok(result)
    }

    /// `z(s)`, or `None` if `s` is not a node.
    pub fn mass(&self, s: usize) -> Option<f64> {
        self.mass.get(s).copied()
    }

    /// `z(s)` for every node.
    pub fn masses(&self) -> &[f64] {
        &self.mass
    }

    /// The `alpha` it was computed for.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Refuses a correction computed for another graph (node or edge count) or `alpha`.
    fn check(&self, graph: &Graph, alpha: f64) -> Result<()> {
        if self.n_nodes != graph.n_nodes() || self.n_edges != graph.n_edges() {
            return Err(Error::InvalidArgument(format!(
                "the dangling correction was computed for a graph of {} nodes and {} edges, \
                 not this one ({} nodes, {} edges)",
                self.n_nodes,
                self.n_edges,
                graph.n_nodes(),
                graph.n_edges()
            )));
        }
        if self.alpha != alpha {
            return Err(Error::InvalidArgument(format!(
                "the dangling correction was computed for alpha = {}, not {alpha}",
                self.alpha
            )));
        }
        Ok(())
    }
}

/// The per-source scaling a backward estimate needs: `z(s)` from the correction (1 on a
/// graph without dangling nodes), and the error its approximation adds.
pub(crate) struct Scaling<'a> {
    correction: Option<&'a DanglingCorrection>,
    pub(crate) extra_error: f64,
}

impl<'a> Scaling<'a> {
    pub(crate) fn new(
        graph: &Graph,
        alpha: f64,
        correction: Option<&'a DanglingCorrection>,
    ) -> Result<Self> {
        if graph.dangling().is_empty() {
            return Ok(Scaling {
                correction: None,
                extra_error: 0.0,
            });
        }
        let Some(c) = correction else {
            return Err(Error::InvalidArgument(format!(
                "the graph has {} dangling nodes: networkx sends their mass back to each \
                 source, so target-side estimates need a DanglingCorrection (computed once \
                 per graph and alpha)",
                graph.dangling().len()
            )));
        };
        c.check(graph, alpha)?;
        // p(s) / z_hat(s) differs from p(s) / z(s) by at most delta / z_hat <= delta /
        // (1 - alpha) (see backward_push).
        Ok(Scaling {
            correction: Some(c),
            extra_error: c.error_bound / (1.0 - alpha),
        })
    }

    pub(crate) fn mass(&self, s: u32) -> f64 {
        self.correction
            .and_then(|c| c.mass(s as usize))
            .unwrap_or(1.0)
    }
}

/// A node's state during a backward push.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct State {
    pub(crate) p: f64,
    pub(crate) r: f64,
    queued: bool,
}

/// The push phase shared by [`backward_push`] and [`super::pair`].
pub(crate) struct Pushed {
    pub(crate) map: NodeMap<State>,
    pub(crate) pushes: u64,
    pub(crate) work: u64,
    pub(crate) stop: Stop,
    pub(crate) max_residual: f64,
    pub(crate) residual_mass: f64,
}

/// Backward push from `target` with absorbing dangling nodes (see [`backward_push`]).
pub(crate) fn push_from_target(
    graph: &Graph,
    target: u32,
    alpha: f64,
    r_max: f64,
    max_pushes: u64,
) -> Result<Pushed> {
    let out_w = graph.out_weights();
    let mut map: NodeMap<State> = NodeMap::with_capacity(64)?;
    let mut queue: VecDeque<u32> = VecDeque::new();
    queue.try_reserve(1).map_err(|_| oom("the push queue"))?;
    {
        let st = map.entry(target)?;
        st.r = 1.0;
        st.queued = true;
    }
    queue.push_back(target);
    let mut first = true;
    let mut pushes = 0u64;
    let mut work = 0u64;
    let mut stop = Stop::Converged;
    while let Some(v) = queue.pop_front() {
        let st = map.entry(v)?;
        st.queued = false;
        let r = st.r;
        // The target is pushed once whatever r_max is, so the answer is never empty.
        if !(r > 0.0 && (first || r >= r_max)) {
            continue;
        }
        first = false;
        if pushes >= max_pushes {
            st.queued = true;
            stop = Stop::MaxWork;
            break;
        }
        pushes += 1;
        st.p += (1.0 - alpha) * r;
        st.r = 0.0;
        let (sources, weights) = graph
            .in_edges(v as usize)
            .ok_or_else(|| Error::Internal("backward push: node out of range".into()))?;
        work += sources.len() as u64;
        for (&u, &w) in sources.iter().zip(weights) {
            let w_u = out_w.get(u as usize).copied().unwrap_or(0.0);
            if w == 0.0 || w_u <= 0.0 {
                continue;
            }
            let su = map.entry(u)?;
            su.r += alpha * r * (w / w_u);
            if !su.queued && su.r >= r_max {
                queue.try_reserve(1).map_err(|_| oom("the push queue"))?;
                su.queued = true;
                queue.push_back(u);
            }
        }
    }
    let mut max_residual = 0.0f64;
    let mut residual_mass = 0.0;
    for (_, st) in map.iter() {
        max_residual = max_residual.max(st.r);
        residual_mass += st.r;
    }
    Ok(Pushed {
        map,
        pushes,
        work,
        stop,
        max_residual,
        residual_mass,
    })
}

/// Every source's PageRank contribution to one target: estimates of `pi_s(t)` (networkx:
/// `pagerank(G, alpha, personalization={s: 1})[t]`) for all sources `s` at once, reading
/// only the in-edges of the nodes it pushes.
///
/// # Algorithm
///
/// Estimates `p` and residuals `r` in a hash map of touched nodes; initially `r = e_t`.
/// Pushing `v`: `p(v) += (1 - alpha) r(v)`, `r(v) = 0`, and `r(u) += alpha r(v) w(u, v) /
/// W(u)` for each in-edge `u -> v`. Nodes are pushed in FIFO order while `r(v) >= r_max`
/// (the target once whatever `r_max` is). Dangling nodes have no out-edges, so they only
/// ever receive estimates here: the push follows the graph with dangling nodes
/// *absorbing*, and the [`DanglingCorrection`] restores networkx's rule per source.
///
/// # Guarantee
///
/// With `pi0_s` the PageRank of source `s` with absorbing dangling nodes
/// (`pi0_s = (1 - alpha) e_s + alpha P^T pi0_s`), each push keeps, for **every** source
/// `s`, the invariant `pi0_s(t) = p(s) + sum_u pi0_s(u) r(u)`. As `r >= 0` and
/// `sum_u pi0_s(u) = z(s)`, and `pi_s = pi0_s / z(s)`:
///
/// **`0 <= pi_s(t) - p(s) / z(s) <= max_u r(u)`** for every source `s` (listed or not;
/// `max_u r(u) < r_max` once converged). The estimate returned for `s` is `p(s) / z(s)`
/// (`z = 1` without dangling nodes); with the correction's masses `z_hat >= z`, `z_hat -
/// z <= delta`, the lower bound stays and the upper one grows by `delta / (1 - alpha)`.
/// `error_bound = max_u r(u) + delta / (1 - alpha)` (`delta = 0` on graphs without
/// dangling nodes). This holds on directed, weighted graphs, with self-loops, at any
/// stopping point (budget exhausted or not).
///
/// # Cost
///
/// A push of `v` costs its in-degree and puts at least `(1 - alpha) r_max` into `p(v)`,
/// and `p(v) <= pi0_v(t) <= 1`, so each node is pushed at most `1 / ((1 - alpha) r_max)`
/// times; on average over targets the work is `O(avg degree / ((1 - alpha) r_max))`
/// (Lofgren), independent of `n`. A target of huge in-degree costs its in-degree for the
/// first push. Memory: the touched nodes.
///
/// Errors: see the [module docs](super); also a `target` out of range, a graph with
/// dangling nodes and no correction, or a correction for another graph (different node
/// or edge count) or another `alpha`.
pub fn backward_push(graph: &Graph, target: u32, opts: &BackwardOptions<'_>) -> Result<PushResult> {
    let alpha = opts.alpha;
    check_graph_alpha(graph, alpha)?;
    check_positive(opts.r_max, "r_max")?;
    let n = graph.n_nodes();
    if target as usize >= n {
        return Err(Error::InvalidArgument(format!(
            "target: node {target} is not a node (the graph has {n} nodes)"
        )));
    }
    let scaling = Scaling::new(graph, alpha, opts.correction)?;
    let pushed = push_from_target(graph, target, alpha, opts.r_max, opts.max_pushes)?;
    let scores = ranking(
        pushed
            .map
            .iter()
            .filter(|(_, st)| st.p > 0.0)
            .map(|(s, st)| (s, st.p / scaling.mass(s))),
        opts.top_k,
    )?;
    Ok(PushResult {
        scores,
        report: PushReport {
            error_bound: pushed.max_residual + scaling.extra_error,
            residual_mass: pushed.residual_mass,
            eps_reached: pushed.max_residual,
            pushes: pushed.pushes,
            work: pushed.work,
            touched: pushed.map.len(),
            converged: pushed.stop == Stop::Converged,
            stop: pushed.stop,
        },
    })
}
