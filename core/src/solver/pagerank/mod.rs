//! PageRank, global and personalized, with networkx's semantics, so results compare
//! directly with `networkx.pagerank(G, alpha, personalization=...)`.
//!
//! | method | computes | cost | guarantee |
//! | --- | --- | --- | --- |
//! | [`pagerank`] | every node's score, any personalization | `O(m)` per iteration, `O(n)` memory | `\|\|x - pi\|\|_1 <= alpha / (1 - alpha) * l1_change` |
//! | [`forward_push`] | `pi_s(v)` for one source (or a sparse personalization), every `v` | local: at most `1 / ((1 - alpha) eps)` weighted degree pushed | `0 <= pi(v) - p(v)`, summing to the reported residual mass; `<= eps * W(v)` on symmetric graphs |
//! | [`backward_push`] | `pi_s(t)` for one target, every source `s` | local | `0 <= pi_s(t) - p(s) <= error_bound` for every `s` |
//! | [`pair`] | `pi_s(t)` for one pair | backward push + random walks | additive, with a stated probability (Hoeffding) |
//!
//! ```
//! use ferrovec_core::solver::pagerank::{
//!     forward_push, pagerank, PageRankOptions, Personalization, PushOptions,
//! };
//! use ferrovec_core::sparse::Graph;
//! // 0 -> 1, 1 -> 2, 2 -> 0, 2 -> 3; node 3 is dangling.
//! let g = Graph::from_edges(4, &[0, 1, 2, 2], &[1, 2, 0, 3], None)?;
//! // networkx.pagerank(G): power iteration with networkx's defaults
//! // ({0: 0.2138, 1: 0.2646, 2: 0.3079, 3: 0.2138}).
//! let pr = pagerank(&g, &PageRankOptions::default())?;
//! assert!(pr.converged && (pr.scores[2] - 0.3078526047028215).abs() < 1e-12);
//! assert_eq!(pr.top_k(2)?.iter().map(|s| s.0).collect::<Vec<_>>(), [2, 1]);
//! // networkx.pagerank(G, personalization={0: 1}), locally, by forward push: every
//! // estimate is a lower bound, at most `error_bound` below the true value.
//! let ppr = forward_push(&g, &Personalization::Node(0), &PushOptions::default())?;
//! let exact = pagerank(&g, &PageRankOptions {
//!     personalization: Personalization::Node(0),
//!     tol: 1e-15,
//!     max_iter: 1000,
//!     ..Default::default()
//! })?;
//! for &(v, p) in &ppr.scores {
//!     let truth = exact.scores[v as usize];
//!     assert!(p <= truth + 1e-12 && truth - p <= ppr.report.error_bound + 1e-12);
//! }
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
//!
//! # The model (networkx's, exactly)
//!
//! `alpha` is the damping factor: the probability of following an edge (networkx's
//! convention, default 0.85). From node `u` with weighted out-degree `W(u) > 0` a step
//! follows edge `u -> v` with probability `alpha * w(u, v) / W(u)` (weights normalized by
//! the weighted out-degree, networkx's `stochastic_graph` / `_pagerank_scipy`'s `Q @ A`);
//! with probability `1 - alpha` it jumps to a node drawn from the personalization `s`. A
//! **dangling** node (`W(u) == 0`: no out-edges or only zero-weight ones, see
//! [`Graph`]) instead follows, with probability `alpha`, the dangling distribution, which is
//! the personalization unless one is given (networkx's `dangling=None`). PageRank `pi` is
//! the stationary distribution:
//!
//! ```text
//! pi = alpha * (P^T pi + (sum_{u dangling} pi(u)) d) + (1 - alpha) s
//! ```
//!
//! with `P = D_W^{-1} A` (dangling rows zero), `s` the personalization and `d` the dangling
//! distribution, both normalized to sum 1 (networkx divides by the sum). `pi` sums to 1.
//! `pi_s` below is the personalized PageRank of a single source `s` (`s = e_s`, and so
//! `d = e_s` as well).
//!
//! # Numbers and errors
//!
//! Inputs are validated first, nothing panics, and bad input is a typed error:
//! [`Error::InvalidArgument`] for an empty graph, `alpha` outside `(0, 1)` or not finite,
//! `eps`, `r_max`, `tol` not finite or `<= 0`, a node out of range, a personalization (or
//! dangling or start vector) with a negative, NaN or infinite weight, a repeated node, or
//! all weights zero; [`Error::DimensionMismatch`] for a dense vector of the wrong length.
//! A budget that runs out (iterations, pushes, walk steps) is **not** an error: the result
//! carries the best estimate, `converged = false` and the [`Stop`] that names the budget.
//!
//! Results of the local methods are sparse: `(node, score)` pairs of the nodes with a
//! non-zero estimate, sorted by descending score, ties by increasing node id, optionally cut
//! to the top `k`. A node not listed has estimate 0 (and the same error bound).
//!
//! Floating point: every guarantee below is a statement about exact arithmetic applied to
//! the method's own invariant; the computed values carry the rounding of the `O(work)`
//! additions that produced them (relative `~1e-16` each), which the tests allow for.

mod backward;
mod bippr;
mod forward;
mod global;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;

pub use backward::{backward_push, BackwardOptions, DanglingCorrection};
pub use bippr::{pair, PairEstimate, PairOptions, DEFAULT_MAX_WALK_STEPS};
pub use forward::{forward_push, PushOptions, DEFAULT_MAX_PUSHES};
pub use global::{pagerank, PageRank, PageRankOptions};

use alloc::format;
use alloc::vec::Vec;

use super::Stop;
use crate::sparse::Graph;
use crate::{Error, Result};

/// A distribution over the nodes: a personalization, a dangling distribution or a start
/// vector. Weights are relative: they are divided by their sum (as networkx does), so they
/// must be finite, `>= 0`, and not all zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Personalization<'a> {
    /// Every node weight 1 (networkx's `personalization=None`).
    Uniform,
    /// All weight on one node (a single source).
    Node(u32),
    /// One weight per node, `n_nodes` of them.
    Dense(&'a [f64]),
    /// Weights for some nodes (networkx's dict: missing nodes weigh 0). `nodes` and
    /// `weights` have the same length; a node may appear once.
    Sparse {
        /// The nodes, in any order.
        nodes: &'a [u32],
        /// Their weights.
        weights: &'a [f64],
    },
}

/// What every push-based method reports with its estimates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushReport {
    /// The bound on `|true - estimate|` that holds for **every** node (listed or not),
    /// in exact arithmetic; each method documents which invariant gives it.
    pub error_bound: f64,
    /// The residual mass `sum_u r(u)` left when the method stopped. For [`forward_push`]
    /// this is exactly `sum_v (pi(v) - p(v))`, the L1 error.
    pub residual_mass: f64,
    /// The smallest `eps` (for [`backward_push`]: `r_max`) for which the method's stopping
    /// rule holds at the returned state: [`forward_push`]: `max_u r(u) / W(u)` (infinite if
    /// a dangling node holds residual); [`backward_push`]: `max_u r(u)`. Converged runs
    /// have it below the requested value.
    pub eps_reached: f64,
    /// Push operations performed.
    pub pushes: u64,
    /// Residual updates made (one per edge scanned by a push, one per node a dangling
    /// node's mass was redistributed to): the work, which bounds the running time.
    pub work: u64,
    /// Distinct nodes whose state was created (estimate or residual): the memory used
    /// grows with this, never with the number of nodes.
    pub touched: usize,
    /// Whether the stopping rule was met (every residual below its threshold).
    pub converged: bool,
    /// Why the method stopped: [`Stop::Converged`] or [`Stop::MaxWork`] (push budget).
    pub stop: Stop,
}

/// Sparse estimates with their report: what [`forward_push`] and [`backward_push`] return.
#[derive(Debug, Clone, PartialEq)]
pub struct PushResult {
    /// `(node, estimate)` for every node with a non-zero estimate, by descending estimate
    /// (ties by increasing node id), cut to the top `k` if asked.
    pub scores: Vec<(u32, f64)>,
    /// How the estimates were obtained and what they guarantee.
    pub report: PushReport,
}

/// A validated distribution, normalized to sum 1.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dist {
    Uniform(usize),
    /// Sorted by node, duplicates refused, zero weights dropped.
    Sparse(Vec<(u32, f64)>),
    Dense(Vec<f64>),
}

impl Dist {
    /// The dense vector (`n` entries).
    pub(crate) fn to_dense(&self, n: usize) -> Result<Vec<f64>> {
        let mut v = zeros(n)?;
        match self {
            Dist::Uniform(_) => v.fill(1.0 / n as f64),
            Dist::Sparse(entries) => {
                for &(u, w) in entries {
                    if let Some(x) = v.get_mut(u as usize) {
                        *x = w;
                    }
                }
            }
            Dist::Dense(d) => {
                // Same length by construction; zip so a mismatch could not panic anyway.
                for (x, &w) in v.iter_mut().zip(d) {
                    *x = w;
                }
            }
        }
        Ok(v)
    }

    /// The non-zero entries, by increasing node (for a uniform or dense distribution this
    /// is `O(n)`: the local methods then stop being local, as documented).
    pub(crate) fn to_sparse(&self) -> Result<Vec<(u32, f64)>> {
        let mut out = Vec::new();
        match self {
            Dist::Uniform(n) => {
                out.try_reserve_exact(*n)
                    .map_err(|_| oom("the personalization"))?;
                let w = 1.0 / *n as f64;
                // n <= MAX_DIM < 2^32.
                out.extend((0..*n).map(|u| (u as u32, w)));
            }
            Dist::Sparse(entries) => {
                out.try_reserve_exact(entries.len())
                    .map_err(|_| oom("the personalization"))?;
                out.extend_from_slice(entries);
            }
            Dist::Dense(d) => {
                let nnz = d.iter().filter(|w| **w != 0.0).count();
                out.try_reserve_exact(nnz)
                    .map_err(|_| oom("the personalization"))?;
                out.extend(
                    d.iter()
                        .enumerate()
                        .filter(|(_, w)| **w != 0.0)
                        .map(|(u, &w)| (u as u32, w)),
                );
            }
        }
        Ok(out)
    }
}

/// Validates and normalizes a distribution over `n` nodes; `what` names it in errors.
pub(crate) fn validate_dist(p: &Personalization<'_>, n: usize, what: &str) -> Result<Dist> {
    match *p {
        Personalization::Uniform => Ok(Dist::Uniform(n)),
        Personalization::Node(u) => {
            check_node(u as usize, n, what)?;
            let mut v = Vec::new();
            v.try_reserve_exact(1).map_err(|_| oom(what))?;
            v.push((u, 1.0));
            Ok(Dist::Sparse(v))
        }
        Personalization::Dense(w) => {
            if w.len() != n {
                return Err(Error::DimensionMismatch {
                    expected: n,
                    actual: w.len(),
                });
            }
            for (u, &x) in w.iter().enumerate() {
                check_weight(x, what, u)?;
            }
            let sum = checked_sum(w.iter().copied(), what)?;
            let mut v = zeros(n)?;
            for (x, &wu) in v.iter_mut().zip(w) {
                *x = wu / sum;
            }
            Ok(Dist::Dense(v))
        }
        Personalization::Sparse { nodes, weights } => {
            if weights.len() != nodes.len() {
                return Err(Error::DimensionMismatch {
                    expected: nodes.len(),
                    actual: weights.len(),
                });
            }
            let mut v: Vec<(u32, f64)> = Vec::new();
            v.try_reserve_exact(nodes.len()).map_err(|_| oom(what))?;
            for (&u, &x) in nodes.iter().zip(weights) {
                check_node(u as usize, n, what)?;
                check_weight(x, what, u as usize)?;
                v.push((u, x));
            }
            v.sort_unstable_by_key(|e| e.0);
            if let Some(w) = v.windows(2).find(|w| matches!(w, [a, b] if a.0 == b.0)) {
                let u = w.first().map(|e| e.0).unwrap_or(0);
                return Err(Error::InvalidArgument(format!(
                    "{what}: node {u} appears more than once"
                )));
            }
            let sum = checked_sum(v.iter().map(|e| e.1), what)?;
            v.retain(|e| e.1 != 0.0);
            for e in v.iter_mut() {
                e.1 /= sum;
            }
            Ok(Dist::Sparse(v))
        }
    }
}

fn check_node(u: usize, n: usize, what: &str) -> Result<()> {
    if u >= n {
        return Err(Error::InvalidArgument(format!(
            "{what}: node {u} is not a node (the graph has {n} nodes)"
        )));
    }
    Ok(())
}

fn check_weight(x: f64, what: &str, u: usize) -> Result<()> {
    if !x.is_finite() || x < 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{what}: node {u} has weight {x} (weights must be finite and >= 0)"
        )));
    }
    Ok(())
}

/// The sum of non-negative finite weights: positive and finite, or an error.
fn checked_sum(w: impl Iterator<Item = f64>, what: &str) -> Result<f64> {
    let sum: f64 = w.sum();
    if sum == 0.0 {
        return Err(Error::InvalidArgument(format!(
            "{what}: every weight is zero (the weights are divided by their sum)"
        )));
    }
    if !sum.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "{what}: the weights sum to {sum}, which is not finite"
        )));
    }
    Ok(sum)
}

/// The checks every PageRank method makes first: a non-empty graph, `alpha` in `(0, 1)`.
pub(crate) fn check_graph_alpha(graph: &Graph, alpha: f64) -> Result<()> {
    if graph.n_nodes() == 0 {
        return Err(Error::InvalidArgument("the graph has no nodes".into()));
    }
    if !(alpha.is_finite() && alpha > 0.0 && alpha < 1.0) {
        return Err(Error::InvalidArgument(format!(
            "alpha must be in (0, 1) (the probability of following an edge), got {alpha}"
        )));
    }
    Ok(())
}

/// A positive finite parameter (`eps`, `r_max`, `tol`).
pub(crate) fn check_positive(x: f64, name: &str) -> Result<()> {
    if !(x.is_finite() && x > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "{name} must be finite and > 0, got {x}"
        )));
    }
    Ok(())
}

/// `(node, score)` pairs by descending score, ties by increasing node, cut to `top_k`.
/// Scores are finite, so `total_cmp` is the numeric order.
pub(crate) fn ranking(
    entries: impl Iterator<Item = (u32, f64)>,
    top_k: Option<usize>,
) -> Result<Vec<(u32, f64)>> {
    let mut v: Vec<(u32, f64)> = Vec::new();
    for e in entries {
        v.try_reserve(1).map_err(|_| oom("the results"))?;
        v.push(e);
    }
    v.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(k) = top_k {
        v.truncate(k);
    }
    Ok(v)
}

/// `n` zeros, or [`Error::OutOfMemory`].
pub(crate) fn zeros(n: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| oom("a vector of node values"))?;
    v.resize(n, 0.0);
    Ok(v)
}

pub(crate) fn oom(what: &str) -> Error {
    Error::OutOfMemory(format!("could not allocate {what}"))
}
