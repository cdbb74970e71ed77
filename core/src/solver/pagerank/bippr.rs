//! One pair's personalized PageRank by a bidirectional estimate (BiPPR: Lofgren, Banerjee
//! and Goel 2016): a backward push from the target, then random walks from the source.

use alloc::format;

use super::backward::{push_from_target, DanglingCorrection, Scaling};
use super::forward::DEFAULT_MAX_PUSHES;
use super::{check_graph_alpha, check_positive};
use crate::solver::local::rng::{threshold, Rng};
use crate::solver::Stop;
use crate::sparse::Graph;
use crate::{Error, Result};

/// The walk-step budget the options start with (about a minute of walking).
pub const DEFAULT_MAX_WALK_STEPS: u64 = 1 << 34;

/// Options of [`pair`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairOptions<'a> {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Backward push threshold (see [`super::backward_push`]). Default `1e-4`.
    pub r_max: f64,
    /// Number of random walks from the source. Default 10,000.
    pub walks: u64,
    /// Seed of the walks: the same seed gives the same walks, hence the same estimate, on
    /// every platform and backend. Default 0.
    pub seed: u64,
    /// The probability with which the reported `error_bound` may be exceeded, in `(0, 1)`.
    /// Default `1e-3`.
    pub failure_probability: f64,
    /// Push budget of the backward phase.
    pub max_pushes: u64,
    /// Budget of walk steps (edges followed) over all walks.
    pub max_walk_steps: u64,
    /// Required if the graph has dangling nodes (see [`DanglingCorrection`]).
    pub correction: Option<&'a DanglingCorrection>,
}

impl Default for PairOptions<'_> {
    fn default() -> Self {
        PairOptions {
            alpha: 0.85,
            r_max: 1e-4,
            walks: 10_000,
            seed: 0,
            failure_probability: 1e-3,
            max_pushes: DEFAULT_MAX_PUSHES,
            max_walk_steps: DEFAULT_MAX_WALK_STEPS,
            correction: None,
        }
    }
}

/// What [`pair`] returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairEstimate {
    /// The estimate of `pi_s(t)`: `push_estimate` plus the walks' mean residual.
    pub estimate: f64,
    /// The backward push's part alone, `p(s) / z(s)`: a lower bound of `pi_s(t)` (up to
    /// the correction's `delta / (1 - alpha)`).
    pub push_estimate: f64,
    /// Deterministic: `pi_s(t) - push_estimate` is in `[0, push_bound]` (the largest
    /// residual left, plus the correction's error).
    pub push_bound: f64,
    /// `|pi_s(t) - estimate| <= error_bound` with probability at least
    /// `1 - failure_probability` over the walks (for a fixed seed the estimate is fixed:
    /// the probability is over seeds).
    pub error_bound: f64,
    /// The probability that `error_bound` is exceeded: the requested one, or 0 when the
    /// deterministic `push_bound` is the smaller bound (few walks) and is reported instead.
    pub failure_probability: f64,
    /// Backward pushes performed.
    pub pushes: u64,
    /// Walks completed (only those enter the estimate).
    pub walks: u64,
    /// Edges followed by the walks (a jump from a dangling node to the source counts).
    pub walk_steps: u64,
    /// Residual updates of the pushes plus out-edges scanned by the walks' neighbor draws.
    pub work: u64,
    /// Nodes with push state (the memory used).
    pub touched: usize,
    /// Whether the push met its stopping rule and every requested walk ran.
    pub converged: bool,
    /// [`Stop::Converged`], or [`Stop::MaxWork`] (push or walk-step budget).
    pub stop: Stop,
}

/// `pi_s(t)` for one pair (networkx: `pagerank(G, alpha, personalization={s: 1})[t]`),
/// with a probabilistic error bound, deterministic for a given seed.
///
/// # Algorithm and guarantee
///
/// A backward push from `t` (as [`super::backward_push`], threshold `r_max`) leaves
/// estimates `p` and residuals `r` with, for every source `s` (notation there),
/// `pi_s(t) = p(s) / z(s) + sum_u pi_s(u) r(u)`. The sum is `E[r(U)]` for `U` the end of
/// a PageRank walk from `s`: at each node it stops with probability `1 - alpha`; otherwise
/// it follows an out-edge chosen with probability `w(u, v) / W(u)` or, from a dangling
/// node, jumps to `s` (networkx's rule: the walk's end is then distributed exactly as
/// `pi_s`). `walks` independent walks give the mean `m` of `r(U_i)`, and `estimate =
/// p(s) / z(s) + m`.
///
/// Each `r(U_i)` lies in `[0, R]`, `R` the largest residual (`< r_max` once the push
/// converged), so Hoeffding's inequality gives `P(|m - E[r(U)]| >= tau) <=
/// 2 exp(-2 N tau^2 / R^2)`: with `N` walks and failure probability `f`,
/// **`|pi_s(t) - estimate| <= R sqrt(ln(2 / f) / (2 N))`** with probability `>= 1 - f`
/// (plus the correction's `delta / (1 - alpha)` on graphs with dangling nodes). As both
/// `estimate` and `pi_s(t)` lie in `[push_estimate, push_estimate + R]`, the error is also
/// at most `R` always; `error_bound` is the smaller of the two (with `failure_probability`
/// 0 when it is `R`).
///
/// Lofgren et al. balance the two phases: the push costs about `d / r_max` and the walks
/// `N / (1 - alpha)`, and `N ~ r_max / delta` walks estimate values `>= delta` with
/// constant relative error, so `r_max ~ sqrt(delta)` gives work `O(sqrt(d / delta))`.
/// Here `r_max` and `walks` are the caller's choice, and the bound above is what they buy.
///
/// # Determinism
///
/// The walks use xoshiro256** seeded with `seed` (see `solver::local::rng`): the stop
/// decision is an integer comparison and the neighbor draw uses only correctly rounded
/// IEEE operations in a fixed order, so native, wasmi and V8 builds take the same walks and
/// return the same bits.
///
/// Errors: see the [module docs](super); also `source` or `target` out of range,
/// `failure_probability` outside `(0, 1)`, or a missing or mismatched correction (as
/// [`super::backward_push`]).
pub fn pair(
    graph: &Graph,
    source: u32,
    target: u32,
    opts: &PairOptions<'_>,
) -> Result<PairEstimate> {
    let alpha = opts.alpha;
    check_graph_alpha(graph, alpha)?;
    check_positive(opts.r_max, "r_max")?;
    let n = graph.n_nodes();
    for (what, node) in [("source", source), ("target", target)] {
        if node as usize >= n {
            return Err(Error::InvalidArgument(format!(
                "{what}: node {node} is not a node (the graph has {n} nodes)"
            )));
        }
    }
    let f = opts.failure_probability;
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::InvalidArgument(format!(
            "failure_probability must be in (0, 1), got {f}"
        )));
    }
    let scaling = Scaling::new(graph, alpha, opts.correction)?;
    let pushed = push_from_target(graph, target, alpha, opts.r_max, opts.max_pushes)?;
    let p_s = pushed.map.get(source).map(|st| st.p).unwrap_or(0.0);
    let push_estimate = p_s / scaling.mass(source);
    let r_bound = pushed.max_residual;

    let mut rng = Rng::new(opts.seed);
    let go_on = threshold(alpha);
    let mut walks = 0u64;
    let mut steps = 0u64;
    let mut walk_work = 0u64;
    let mut sum = 0.0;
    let mut stop = pushed.stop;
    // A walk needs no residual to sample when none is left (R = 0): the sum is then 0.
    let wanted = if r_bound > 0.0 { opts.walks } else { 0 };
    'walks: while walks < wanted {
        let mut u = source;
        let mut walk_steps = 0u64;
        while rng.chance(go_on) {
            if steps + walk_steps >= opts.max_walk_steps {
                stop = Stop::MaxWork;
                break 'walks;
            }
            walk_steps += 1;
            let (next, scanned) = step(graph, u, source, &mut rng)?;
            walk_work += scanned;
            u = next;
        }
        steps += walk_steps;
        walks += 1;
        sum += pushed.map.get(u).map(|st| st.r).unwrap_or(0.0);
    }
    let mean = if walks > 0 { sum / walks as f64 } else { 0.0 };
    let hoeffding = if walks > 0 {
        r_bound * libm::sqrt(libm::log(2.0 / f) / (2.0 * walks as f64))
    } else {
        f64::INFINITY
    };
    let (error_bound, failure_probability) = if hoeffding < r_bound {
        (hoeffding + scaling.extra_error, f)
    } else {
        (r_bound + scaling.extra_error, 0.0)
    };
    Ok(PairEstimate {
        estimate: push_estimate + mean,
        push_estimate,
        push_bound: r_bound + scaling.extra_error,
        error_bound,
        failure_probability,
        pushes: pushed.pushes,
        walks,
        walk_steps: steps,
        work: pushed.work + walk_work,
        touched: pushed.map.len(),
        converged: stop == Stop::Converged,
        stop,
    })
}

/// One step of a PageRank walk from `u` that continues: an out-edge drawn by weight, or
/// from a dangling node a jump to `source`. Returns the next node and the edges scanned.
///
/// The draw: `x = unit * W(u)` and the first edge whose running weight sum exceeds `x`
/// (correctly rounded IEEE operations in a fixed order: the same choice on every
/// platform). Rounding can leave `x` at or above the last running sum; the last edge of
/// positive weight is taken then.
pub(crate) fn step(graph: &Graph, u: u32, source: u32, rng: &mut Rng) -> Result<(u32, u64)> {
    let w_u = graph.out_weight(u as usize).unwrap_or(0.0);
    if w_u <= 0.0 {
        return Ok((source, 0));
    }
    let (targets, weights) = graph
        .out_edges(u as usize)
        .ok_or_else(|| Error::Internal("walk: node out of range".into()))?;
    let x = rng.unit() * w_u;
    let mut acc = 0.0;
    let mut last = None;
    for (k, (&v, &w)) in targets.iter().zip(weights).enumerate() {
        if w == 0.0 {
            continue;
        }
        acc += w;
        last = Some(v);
        if x < acc {
            return Ok((v, k as u64 + 1));
        }
    }
    last.map(|v| (v, targets.len() as u64))
        .ok_or_else(|| Error::Internal("walk: a node of positive weight has no edge".into()))
}
