//! Personalized PageRank of one source (or a sparse personalization) by forward push
//! (Andersen, Chung and Lang 2006), with networkx's dangling-node rule.

use alloc::collections::VecDeque;

use super::{
    check_graph_alpha, check_positive, oom, ranking, validate_dist, Personalization, PushReport,
    PushResult,
};
use crate::solver::local::map::NodeMap;
use crate::solver::Stop;
use crate::sparse::Graph;
use crate::{Error, Result};

/// The push budget the options start with: far above what any `eps >= 1e-9` needs on a
/// graph with weighted degrees `>= 1` (`1 / ((1 - alpha) eps)` pushes), but finite, so
/// that pathological weights (degrees so small that `eps * W(u)` underflows) end in
/// [`Stop::MaxWork`] instead of running forever.
pub const DEFAULT_MAX_PUSHES: u64 = 1 << 34;

/// Options of [`forward_push`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushOptions {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Push threshold: node `u` is pushed while its residual `r(u) >= eps * W(u)`
    /// (`W(u)`: weighted out-degree). Finite, `> 0`. Default `1e-4`.
    pub eps: f64,
    /// Push budget. Default [`DEFAULT_MAX_PUSHES`].
    pub max_pushes: u64,
    /// Keep only the `k` best scores (the report still describes the whole run).
    pub top_k: Option<usize>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            alpha: 0.85,
            eps: 1e-4,
            max_pushes: DEFAULT_MAX_PUSHES,
            top_k: None,
        }
    }
}

/// A node's state during a push: estimate, residual, and whether it waits in the queue.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    p: f64,
    r: f64,
    queued: bool,
}

/// Personalized PageRank `pi` for the personalization `source` (usually
/// [`Personalization::Node`]; networkx: `pagerank(G, alpha, personalization={s: 1})`)
/// by forward push, reading only the out-edges of the nodes it pushes.
///
/// # Algorithm
///
/// Estimates `p` and residuals `r` live in a hash map of the touched nodes; initially
/// `p = 0`, `r = s` (the normalized personalization). Pushing node `u`:
///
/// * `p(u) += (1 - alpha) r(u)`, then `r(u) = 0`;
/// * if `W(u) > 0`: `r(v) += alpha r(u) w(u, v) / W(u)` for each out-edge `u -> v`;
/// * if `u` is dangling, its `alpha r(u)` follows the personalization (networkx's rule).
///   Part of that lands on dangling nodes of the personalization, whose pushes send it
///   back to the personalization, and so on; that geometric series is summed in closed
///   form, so that dangling nodes never keep residual and never loop: with
///   `sigma_D = sum_{v dangling} s(v)` and `beta = alpha r(u) / (1 - alpha sigma_D)`,
///   each dangling `v` in the personalization gets `p(v) += (1 - alpha) beta s(v)` and
///   each other `v` gets `r(v) += beta s(v)` (mass is conserved: `(1 - alpha) r(u) +
///   beta ((1 - alpha) sigma_D + 1 - sigma_D) = r(u)`).
///
/// Nodes are pushed in FIFO order while `r(u) >= eps * W(u)` and `r(u) > 0` (a dangling
/// node, `W(u) = 0`, whenever it holds residual). Every node of the personalization is
/// pushed once at the start, due or not (see "hub source" below).
///
/// # Guarantee
///
/// Let `T(x) = alpha (P^T x + (sum_D x) s)`, the linear map of networkx's iteration, and
/// `R(x) = (1 - alpha) sum_k T^k x`. Then `pi = R(s)`, `R` maps non-negative vectors to
/// non-negative vectors and preserves sums. Each push keeps the invariant
/// **`pi = p + R(r)`** (a push moves `r(u) e_u = (1 - alpha) r(u) e_u + T(r(u) e_u)`
/// through one term of the series), with `r >= 0`. Hence, for **every** graph (directed,
/// weighted, self-loops, dangling nodes, any stopping point, budget exhausted or not):
///
/// * `0 <= pi(v) - p(v)` for every node `v` (listed or not), and
/// * `sum_v (pi(v) - p(v)) = sum_u r(u) = residual_mass`, so every node's error is at most
///   `error_bound = residual_mass`, and the L1 error is exactly that.
///
/// On a **symmetric** graph (`w(u, v) = w(v, u)` for all pairs: an undirected graph) the
/// classical bound holds as well: **`0 <= pi(v) - p(v) <= eps * W(v)`** for every `v`
/// once converged (`eps_reached` in place of `eps` at any stopping point). Proof: in a
/// symmetric graph a dangling node has no positive-weight edge at all, so walks from a
/// non-dangling node never reach one and `R(e_u) = pi_u`, the PageRank of source `u`; a
/// converged run leaves `r(u) < eps W(u)` on non-dangling nodes and `r = 0` on dangling
/// ones; and symmetry gives `W(u) pi_u(v) = W(v) pi_v(u)`, so `pi(v) - p(v) = sum_u r(u)
/// pi_u(v) <= eps sum_u W(v) pi_v(u) = eps W(v)`. On a directed graph that reversibility
/// fails and so can the per-node bound (a test shows a node exceeding it); only the two
/// bullets above hold. With dangling nodes redirected to the personalization there is no
/// per-node `eps`-bound either: `R(e_u)` then depends on the source, not only on `u`.
///
/// `eps` is relative to weighted degree, so scaling every weight by `c` acts like
/// `eps / c`; an unweighted graph has `W(u) =` out-degree.
///
/// # Cost
///
/// A push of `u` moves `(1 - alpha) r(u) >= (1 - alpha) eps W(u)` of residual into `p`
/// (a dangling node's at least `(1 - alpha) r(u)`), and the residual mass starts at 1, so
/// the pushes of non-dangling nodes have `sum W(u) <= 1 / ((1 - alpha) eps)`: on an
/// unweighted graph at most that many edges are scanned (66,667 for `eps = 1e-4`, `alpha =
/// 0.85`), whatever `n` is. A dangling push costs one update per personalization node.
/// Memory: the touched nodes (`touched`, at most the work plus the personalization).
///
/// **Hub source.** If the source's weighted degree exceeds `1 / eps`, its residual 1 is
/// already below `eps * W(s)`: the stopping rule holds before any push and the answer
/// would be empty. The personalization's nodes are therefore always pushed once, so
/// `p(s) = (1 - alpha) s(s)` at least and the source's neighbors get residual; the
/// guarantee is unchanged (it depends only on the final residuals), the first push costs
/// `out_degree(s)` updates (above the `1 / ((1 - alpha) eps)` bound), and the reported
/// `residual_mass` (then about `alpha`) says how little such a run knows.
///
/// A [`Personalization::Uniform`] or dense one starts with residual on every node and is
/// not local (`O(n + m)` for the initial pushes); it is accepted for completeness.
///
/// Errors: see the [module docs](super). Budget: [`PushOptions::max_pushes`]; when it runs
/// out the estimates so far are returned with `converged = false`, [`Stop::MaxWork`], and
/// the same (valid) bounds.
pub fn forward_push(
    graph: &Graph,
    source: &Personalization<'_>,
    opts: &PushOptions,
) -> Result<PushResult> {
    let alpha = opts.alpha;
    check_graph_alpha(graph, alpha)?;
    check_positive(opts.eps, "eps")?;
    let n = graph.n_nodes();
    let eps = opts.eps;
    let seeds = validate_dist(source, n, "personalization")?.to_sparse()?;
    let out_w = graph.out_weights();
    let weight_of = |u: u32| out_w.get(u as usize).copied().unwrap_or(0.0);
    let sigma_d: f64 = seeds
        .iter()
        .filter(|e| weight_of(e.0) == 0.0)
        .map(|e| e.1)
        .sum();
    // 1 - alpha sigma_D >= 1 - alpha > 0.
    let inject = alpha / (1.0 - alpha * sigma_d);
    let due = |r: f64, w: f64| r > 0.0 && r >= eps * w;

    let mut map: NodeMap<State> = NodeMap::with_capacity(seeds.len().saturating_add(64))?;
    let mut queue: VecDeque<u32> = VecDeque::new();
    queue
        .try_reserve(seeds.len())
        .map_err(|_| oom("the push queue"))?;
    for &(u, w) in &seeds {
        let st = map.entry(u)?;
        st.r = w;
        st.queued = true;
        queue.push_back(u);
    }
    let forced = seeds.len();
    let mut popped = 0usize;
    let mut pushes = 0u64;
    let mut work = 0u64;
    let mut stop = Stop::Converged;

    while let Some(u) = queue.pop_front() {
        popped += 1;
        let w_u = weight_of(u);
        let st = map.entry(u)?;
        st.queued = false;
        let r = st.r;
        if !(r > 0.0 && (popped <= forced || due(r, w_u))) {
            continue;
        }
        if pushes >= opts.max_pushes {
            st.queued = true;
            stop = Stop::MaxWork;
            break;
        }
        pushes += 1;
        st.p += (1.0 - alpha) * r;
        st.r = 0.0;
        if w_u > 0.0 {
            let (targets, weights) = graph
                .out_edges(u as usize)
                .ok_or_else(|| Error::Internal("forward push: node out of range".into()))?;
            let moved = alpha * r;
            work += targets.len() as u64;
            for (&v, &w) in targets.iter().zip(weights) {
                if w == 0.0 {
                    continue;
                }
                // w / W(u) first: a ratio in [0, 1] even when W(u) is subnormal (where
                // alpha r / W(u) would overflow).
                add_residual(
                    &mut map,
                    &mut queue,
                    v,
                    moved * (w / w_u),
                    weight_of(v),
                    due,
                )?;
            }
        } else {
            let beta = r * inject;
            work += seeds.len() as u64;
            for &(v, sv) in &seeds {
                let w_v = weight_of(v);
                if w_v == 0.0 {
                    map.entry(v)?.p += (1.0 - alpha) * beta * sv;
                } else {
                    add_residual(&mut map, &mut queue, v, beta * sv, w_v, due)?;
                }
            }
        }
    }

    let mut residual_mass = 0.0;
    let mut eps_reached = 0.0f64;
    for (u, st) in map.iter() {
        if st.r > 0.0 {
            residual_mass += st.r;
            let w = weight_of(u);
            let ratio = if w > 0.0 { st.r / w } else { f64::INFINITY };
            eps_reached = eps_reached.max(ratio);
        }
    }
    let scores = ranking(
        map.iter()
            .filter(|(_, st)| st.p > 0.0)
            .map(|(u, st)| (u, st.p)),
        opts.top_k,
    )?;
    Ok(PushResult {
        scores,
        report: PushReport {
            error_bound: residual_mass,
            residual_mass,
            eps_reached,
            pushes,
            work,
            touched: map.len(),
            converged: stop == Stop::Converged,
            stop,
        },
    })
}

/// `r(v) += amount`, queueing `v` if that makes it due.
fn add_residual(
    map: &mut NodeMap<State>,
    queue: &mut VecDeque<u32>,
    v: u32,
    amount: f64,
    w_v: f64,
    due: impl Fn(f64, f64) -> bool,
) -> Result<()> {
    let sv = map.entry(v)?;
    sv.r += amount;
    if !sv.queued && due(sv.r, w_v) {
        queue.try_reserve(1).map_err(|_| oom("the push queue"))?;
        sv.queued = true;
        queue.push_back(v);
    }
    Ok(())
}
