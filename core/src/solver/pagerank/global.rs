//! Global PageRank by power iteration: networkx's `_pagerank_scipy`, step for step.

use alloc::vec::Vec;

use super::{
    check_graph_alpha, check_positive, oom, ranking, validate_dist, zeros, Personalization,
};
use crate::solver::Stop;
use crate::sparse::Graph;
use crate::{Error, Result};

/// Options of [`pagerank`]; [`Default`] is networkx's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRankOptions<'a> {
    /// Probability of following an edge, in `(0, 1)`. Default 0.85.
    pub alpha: f64,
    /// Where the walk restarts. Default [`Personalization::Uniform`].
    pub personalization: Personalization<'a>,
    /// Where a dangling node's walk goes; `None` (default): the personalization.
    pub dangling: Option<Personalization<'a>>,
    /// The starting vector (networkx's `nstart`, normalized); `None` (default): uniform.
    pub start: Option<Personalization<'a>>,
    /// Tolerance: the iteration stops once the L1 change of an iteration is `< n * tol`
    /// (networkx's criterion). Default `1e-6`.
    pub tol: f64,
    /// Iteration budget. Default 100.
    pub max_iter: usize,
}

impl Default for PageRankOptions<'_> {
    fn default() -> Self {
        PageRankOptions {
            alpha: 0.85,
            personalization: Personalization::Uniform,
            dangling: None,
            start: None,
            tol: 1e-6,
            max_iter: 100,
        }
    }
}

/// What [`pagerank`] returns: every node's score and how far it can be from PageRank.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRank {
    /// The score of each node, `n_nodes` of them, summing to 1 (up to rounding).
    pub scores: Vec<f64>,
    /// Iterations performed (networkx's count: the loop ran this many times).
    pub iterations: usize,
    /// `||x_k - x_{k-1}||_1` of the last iteration (networkx's `err`); infinite if no
    /// iteration ran (`max_iter == 0`).
    pub l1_change: f64,
    /// `||scores - pi||_1 <= error_bound = alpha / (1 - alpha) * l1_change`: the iteration
    /// map is an `alpha`-contraction in the L1 norm (see [`pagerank`]).
    pub error_bound: f64,
    /// Whether `l1_change < n * tol` (networkx would have returned instead of raising
    /// `PowerIterationFailedConvergence`).
    pub converged: bool,
    /// [`Stop::Converged`] or [`Stop::MaxIterations`].
    pub stop: Stop,
}

impl PageRank {
    /// The `k` highest-scoring nodes as `(node, score)`, by descending score, ties by
    /// increasing node id.
    pub fn top_k(&self, k: usize) -> Result<Vec<(u32, f64)>> {
        // n <= MAX_DIM < 2^32.
        ranking(
            self.scores.iter().enumerate().map(|(u, &x)| (u as u32, x)),
            Some(k),
        )
    }
}

/// PageRank by power iteration, exactly as networkx's `pagerank` (its `_pagerank_scipy`):
///
/// ```text
/// x_0 = start (default uniform 1/n)
/// x_{k+1} = alpha * (P^T x_k + (sum_{u dangling} x_k(u)) d) + (1 - alpha) s
/// stop when ||x_{k+1} - x_k||_1 < n * tol, at most max_iter times
/// ```
///
/// (model and notation: [module docs](super)). The loop, the start vector, the
/// normalizations and the criterion are networkx's, so `iterations` is the count networkx
/// makes and `scores` agree with `networkx.pagerank(G, alpha, personalization, max_iter,
/// tol, nstart, weight, dangling)` to rounding (the products are formed in a different
/// order: `x(u) / W(u) * w(u, v)` here, `x(u) * (w(u, v) / W(u))` in scipy).
///
/// Where networkx raises `PowerIterationFailedConvergence`, this returns the last iterate
/// with `converged = false` and [`Stop::MaxIterations`].
///
/// **Guarantee.** With `T` the iteration map, `T(x) - T(y) = alpha (P^T e + (sum_D e) d)`
/// for `e = x - y`, whose L1 norm is at most `alpha ||e||_1` (rows of `P` sum to 1 or are
/// dangling, and `d` sums to 1). Hence `||x_{k+1} - pi||_1 <= alpha ||x_k - pi||_1` and
/// `||x_{k+1} - pi||_1 <= alpha / (1 - alpha) ||x_{k+1} - x_k||_1`, reported as
/// `error_bound` (it bounds every node's error too).
///
/// Cost: `O(m + n)` per iteration, `O(n)` memory (five vectors of `n` floats, six with a
/// dangling distribution).
///
/// Errors (see the [module docs](super)): an empty graph, `alpha`, `tol` (finite, `> 0`),
/// or an invalid personalization, dangling or start vector.
pub fn pagerank(graph: &Graph, opts: &PageRankOptions<'_>) -> Result<PageRank> {
    let alpha = opts.alpha;
    check_graph_alpha(graph, alpha)?;
    check_positive(opts.tol, "tol")?;
    let n = graph.n_nodes();
    let s = validate_dist(&opts.personalization, n, "personalization")?.to_dense(n)?;
    let d = match &opts.dangling {
        Some(d) => Some(validate_dist(d, n, "dangling")?.to_dense(n)?),
        None => None,
    };
    let d = d.as_deref().unwrap_or(&s);
    let mut x = match &opts.start {
        Some(x0) => validate_dist(x0, n, "start")?.to_dense(n)?,
        None => {
            let mut x = zeros(n)?;
            x.fill(1.0 / n as f64);
            x
        }
    };
    // 1 / W(u), 0 for a dangling node: x(u) * inv(u) is the mass u sends per unit weight.
    // A subnormal W(u) has no finite inverse: such nodes (weights scaled absurdly small)
    // are left out of the gather and scattered separately with the ratios w / W(u).
    let mut inv = zeros(n)?;
    let mut tiny: Vec<u32> = Vec::new();
    for (u, (iu, &w)) in inv.iter_mut().zip(graph.out_weights()).enumerate() {
        if w > 0.0 {
            let i = 1.0 / w;
            if i.is_finite() {
                *iu = i;
            } else {
                tiny.try_reserve(1).map_err(|_| oom("the node list"))?;
                // u < n <= MAX_DIM.
                tiny.push(u as u32);
            }
        }
    }
    let mut z = zeros(n)?;
    let mut y = zeros(n)?;
    let in_adj = graph.in_adjacency();
    let threshold = n as f64 * opts.tol;
    let mut l1_change = f64::INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iter {
        iterations += 1;
        for ((zu, &xu), &iu) in z.iter_mut().zip(&x).zip(&inv) {
            *zu = xu * iu;
        }
        // y(v) = sum_{u -> v} w(u, v) x(u) / W(u): a gather over v's in-edges, on the f64
        // SpMV kernel (mul_vec). The fused `pagerank_csr_f64` kernel does not fit here: its
        // `alpha (A x) + beta` adds one scalar to every node, while networkx's step adds a
        // per-node `alpha dangling_sum d(v) + (1 - alpha) s(v)` in its own order, which these
        // results reproduce.
        in_adj.mul_vec(&z, &mut y)?;
        for &u in &tiny {
            let (Some((targets, weights)), Some(&w_u), Some(&x_u)) = (
                graph.out_edges(u as usize),
                graph.out_weights().get(u as usize),
                x.get(u as usize),
            ) else {
                continue;
            };
            for (&v, &w) in targets.iter().zip(weights) {
                if let Some(yv) = y.get_mut(v as usize) {
                    *yv += x_u * (w / w_u);
                }
            }
        }
        let dangling_sum: f64 = graph
            .dangling()
            .iter()
            .map(|&u| x.get(u as usize).copied().unwrap_or(0.0))
            .sum();
        let mut change = 0.0;
        for (((yv, xv), &dv), &sv) in y.iter_mut().zip(&x).zip(d).zip(&s) {
            let next = alpha * (*yv + dangling_sum * dv) + (1.0 - alpha) * sv;
            change += (next - xv).abs();
            *yv = next;
        }
        core::mem::swap(&mut x, &mut y);
        l1_change = change;
        if change < threshold {
            converged = true;
            break;
        }
    }
    if !l1_change.is_finite() && iterations > 0 {
        return Err(Error::Internal(
            "pagerank: the iteration left the finite numbers".into(),
        ));
    }
    Ok(PageRank {
        scores: x,
        iterations,
        l1_change,
        error_bound: alpha / (1.0 - alpha) * l1_change,
        converged,
        stop: if converged {
            Stop::Converged
        } else {
            Stop::MaxIterations
        },
    })
}
