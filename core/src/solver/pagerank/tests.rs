//! PageRank tests: networkx's own numbers on small real graphs; an exact dense solve of
//! `(I - alpha (P^T + d 1_D^T)) pi = (1 - alpha) s` in f64 as the reference for every
//! method; each method's documented guarantee checked on many generated graphs
//! (Erdős–Rényi, Chung–Lu power-law, dangling nodes, self-loops, weights, disconnected
//! parts, symmetric and directed); budgets, hub sources, bad input, determinism.

// The dense references index rows and columns the way the formulas read.
#![allow(clippy::needless_range_loop)]

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::golden::*;
use super::*;
use crate::solver::local::rng::Rng;
use crate::solver::Stop;
use crate::sparse::Graph;
use crate::Error;

// ---------------------------------------------------------------------------------------
// Graphs

type Edges = Vec<(u32, u32, f64)>;

fn graph(n: usize, edges: &[(u32, u32, f64)]) -> Graph {
    let src: Vec<u32> = edges.iter().map(|e| e.0).collect();
    let dst: Vec<u32> = edges.iter().map(|e| e.1).collect();
    let w: Vec<f64> = edges.iter().map(|e| e.2).collect();
    Graph::from_edges(n, &src, &dst, Some(&w)).unwrap()
}

fn weight(rng: &mut Rng, weighted: bool) -> f64 {
    if weighted {
        // 0.25 .. 4.25, some exact zeros would make edges carry nothing: keep positive.
        0.25 + 4.0 * rng.unit()
    } else {
        1.0
    }
}

/// `m` edges with uniform endpoints (repeats merge when the graph is built).
fn erdos_renyi(rng: &mut Rng, n: usize, m: usize, weighted: bool, self_loops: bool) -> Edges {
    let mut e = Vec::new();
    while e.len() < m {
        let u = (rng.unit() * n as f64) as u32;
        let v = (rng.unit() * n as f64) as u32;
        if u == v && !self_loops {
            continue;
        }
        let w = weight(rng, weighted);
        e.push((u, v, w));
    }
    e
}

/// Chung–Lu: endpoints drawn proportionally to expected degrees `~ (i + 1)^(-1 / (gamma -
/// 1))` (a power law with exponent `gamma`), `m` edges.
fn chung_lu(rng: &mut Rng, n: usize, m: usize, gamma: f64, weighted: bool) -> Edges {
    let mut cum = Vec::with_capacity(n);
    let mut acc = 0.0;
    for i in 0..n {
        acc += libm::pow((i + 1) as f64, -1.0 / (gamma - 1.0));
        cum.push(acc);
    }
    let pick = |rng: &mut Rng| {
        let x = rng.unit() * acc;
        cum.partition_point(|&c| c <= x).min(n - 1) as u32
    };
    let mut e = Vec::new();
    for _ in 0..m {
        let u = pick(rng);
        let v = pick(rng);
        let w = weight(rng, weighted);
        e.push((u, v, w));
    }
    e
}

/// Both directions of every edge with the same weight (a self-loop once).
fn symmetrize(edges: &[(u32, u32, f64)]) -> Edges {
    let mut e = Vec::new();
    for &(u, v, w) in edges {
        e.push((u, v, w));
        if u != v {
            e.push((v, u, w));
        }
    }
    e
}

/// Removes every out-edge of about `frac` of the nodes (they become dangling), and turns
/// one more node's out-edges to weight zero (dangling with stored edges).
fn make_dangling(rng: &mut Rng, n: usize, edges: Edges, frac: f64) -> Edges {
    let dangling: Vec<bool> = (0..n).map(|_| rng.unit() < frac).collect();
    let zero = (rng.unit() * n as f64) as u32;
    edges
        .into_iter()
        .filter(|e| !dangling[e.0 as usize])
        .map(|(u, v, w)| if u == zero { (u, v, 0.0) } else { (u, v, w) })
        .collect()
}

/// A named test graph; `symmetric` when `w(u, v) = w(v, u)` for every pair.
struct Case {
    name: String,
    n: usize,
    edges: Edges,
    symmetric: bool,
}

/// The generated graphs every guarantee is checked on.
fn zoo() -> Vec<Case> {
    let mut rng = Rng::new(2024);
    let mut cases = Vec::new();
    for (k, &n) in [40usize, 60, 90].iter().enumerate() {
        let weighted = k % 2 == 1;
        cases.push(Case {
            name: format!("er-directed n={n} weighted={weighted}"),
            n,
            edges: erdos_renyi(&mut rng, n, 4 * n, weighted, true),
            symmetric: false,
        });
        let er = erdos_renyi(&mut rng, n, 2 * n, weighted, true);
        cases.push(Case {
            name: format!("er-undirected n={n} weighted={weighted}"),
            n,
            edges: symmetrize(&er),
            symmetric: true,
        });
        let cl = chung_lu(&mut rng, n, 3 * n, 2.3, !weighted);
        cases.push(Case {
            name: format!("chung-lu-directed n={n}"),
            n,
            edges: cl.clone(),
            symmetric: false,
        });
        cases.push(Case {
            name: format!("chung-lu-undirected n={n}"),
            n,
            edges: symmetrize(&cl),
            symmetric: true,
        });
        let er = erdos_renyi(&mut rng, n, 3 * n, weighted, true);
        cases.push(Case {
            name: format!("er-dangling n={n}"),
            n,
            edges: make_dangling(&mut rng, n, er, 0.2),
            symmetric: false,
        });
        let cl = chung_lu(&mut rng, n, 2 * n, 2.1, true);
        cases.push(Case {
            name: format!("chung-lu-dangling n={n}"),
            n,
            edges: make_dangling(&mut rng, n, cl, 0.3),
            symmetric: false,
        });
        // Two parts with no edge between them, plus isolated nodes at the end.
        let a = erdos_renyi(&mut rng, n / 2, n, weighted, false);
        let b: Edges = erdos_renyi(&mut rng, n / 3, n, weighted, true)
            .into_iter()
            .map(|(u, v, w)| (u + (n / 2) as u32, v + (n / 2) as u32, w))
            .collect();
        let mut parts = a;
        parts.extend(b);
        cases.push(Case {
            name: format!("disconnected n={n}"),
            n,
            edges: parts.clone(),
            symmetric: false,
        });
        cases.push(Case {
            name: format!("disconnected-undirected n={n}"),
            n,
            edges: symmetrize(&parts),
            symmetric: true,
        });
    }
    // A directed cycle (periodic: power iteration's hard case) and a star.
    let n = 25;
    cases.push(Case {
        name: "cycle".into(),
        n,
        edges: (0..n as u32)
            .map(|u| (u, (u + 1) % n as u32, 1.0))
            .collect(),
        symmetric: false,
    });
    cases.push(Case {
        name: "star-undirected".into(),
        n,
        edges: symmetrize(&(1..n as u32).map(|u| (0, u, 1.0)).collect::<Edges>()),
        symmetric: true,
    });
    cases
}

// ---------------------------------------------------------------------------------------
// References

/// Solves `a x = b` by Gaussian elimination with partial pivoting (f64, dense).
fn solve_dense(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))
            .unwrap();
        a.swap(k, p);
        b.swap(k, p);
        let pivot = a[k][k];
        assert!(pivot.abs() > 1e-300, "singular reference system");
        for i in k + 1..n {
            let f = a[i][k] / pivot;
            if f != 0.0 {
                for j in k..n {
                    a[i][j] -= f * a[k][j];
                }
                b[i] -= f * b[k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let mut s = b[k];
        for j in k + 1..n {
            s -= a[k][j] * x[j];
        }
        x[k] = s / a[k][k];
    }
    x
}

/// `P[u][v] = w(u, v) / W(u)` (dangling rows zero), dense.
fn transition(g: &Graph) -> Vec<Vec<f64>> {
    let n = g.n_nodes();
    let mut p = vec![vec![0.0; n]; n];
    for u in 0..n {
        let wu = g.out_weight(u).unwrap();
        if wu > 0.0 {
            let (t, w) = g.out_edges(u).unwrap();
            for (&v, &x) in t.iter().zip(w) {
                p[u][v as usize] += x / wu;
            }
        }
    }
    p
}

/// Exact PageRank: `(I - alpha (P^T + d 1_D^T)) pi = (1 - alpha) s`.
fn exact_pagerank(g: &Graph, alpha: f64, s: &[f64], d: &[f64]) -> Vec<f64> {
    let n = g.n_nodes();
    let p = transition(g);
    let dangling: Vec<bool> = (0..n).map(|u| g.out_weight(u).unwrap() == 0.0).collect();
    let mut a = vec![vec![0.0; n]; n];
    for v in 0..n {
        for u in 0..n {
            let t = p[u][v] + if dangling[u] { d[v] } else { 0.0 };
            a[v][u] = if u == v { 1.0 } else { 0.0 } - alpha * t;
        }
    }
    solve_dense(a, s.iter().map(|x| (1.0 - alpha) * x).collect())
}

fn unit_vec(n: usize, s: usize) -> Vec<f64> {
    let mut e = vec![0.0; n];
    e[s] = 1.0;
    e
}

/// networkx's single-source PageRank `pi_s` (personalization = dangling = `e_s`).
fn exact_ppr(g: &Graph, alpha: f64, s: usize) -> Vec<f64> {
    let e = unit_vec(g.n_nodes(), s);
    exact_pagerank(g, alpha, &e, &e)
}

/// Power iteration in plain dense form, to 1e-15: a second, independent reference.
fn power_reference(g: &Graph, alpha: f64, s: &[f64], d: &[f64]) -> Vec<f64> {
    let n = g.n_nodes();
    let p = transition(g);
    let dangling: Vec<bool> = (0..n).map(|u| g.out_weight(u).unwrap() == 0.0).collect();
    let mut x = vec![1.0 / n as f64; n];
    for _ in 0..100_000 {
        let dsum: f64 = (0..n).filter(|&u| dangling[u]).map(|u| x[u]).sum();
        let mut y = vec![0.0; n];
        for u in 0..n {
            for v in 0..n {
                y[v] += x[u] * p[u][v];
            }
        }
        for v in 0..n {
            y[v] = alpha * (y[v] + dsum * d[v]) + (1.0 - alpha) * s[v];
        }
        let change: f64 = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).sum();
        x = y;
        if change < 1e-15 {
            break;
        }
    }
    x
}

fn l1(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

/// A sparse result as a dense vector.
fn dense_of(n: usize, scores: &[(u32, f64)]) -> Vec<f64> {
    let mut v = vec![0.0; n];
    for &(u, x) in scores {
        assert_eq!(v[u as usize], 0.0, "node {u} listed twice");
        v[u as usize] = x;
    }
    v
}

/// Sorted by descending score, ties by increasing node, no zero scores.
fn assert_ranked(scores: &[(u32, f64)]) {
    for w in scores.windows(2) {
        assert!(
            w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0),
            "not ranked: {w:?}"
        );
    }
    assert!(scores.iter().all(|s| s.1 > 0.0 && s.1.is_finite()));
}

/// Slack for rounding in the comparisons with the references.
const ROUND: f64 = 1e-12;

// ---------------------------------------------------------------------------------------
// Global power iteration

#[test]
fn references_agree() {
    // The two references (direct solve, dense power iteration) agree, so either can judge.
    for case in zoo().iter().take(8) {
        let g = graph(case.n, &case.edges);
        let s = vec![1.0 / case.n as f64; case.n];
        let a = exact_pagerank(&g, 0.85, &s, &s);
        let b = power_reference(&g, 0.85, &s, &s);
        assert!(l1(&a, &b) < 1e-12, "{}: {}", case.name, l1(&a, &b));
        assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

fn assert_close(name: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (v, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{name}: node {v}: {g} vs {w}");
    }
}

fn karate() -> Graph {
    let mut e = Vec::new();
    for k in 0..KARATE_SRC.len() {
        e.push((KARATE_SRC[k], KARATE_DST[k], KARATE_W[k]));
    }
    graph(34, &symmetrize(&e))
}

fn karate_unweighted() -> Graph {
    let e: Edges = (0..KARATE_SRC.len())
        .map(|k| (KARATE_SRC[k], KARATE_DST[k], 1.0))
        .collect();
    graph(34, &symmetrize(&e))
}

fn directed_golden() -> Graph {
    graph(10, &DI_EDGES)
}

#[test]
fn matches_networkx_on_karate_club() {
    let g = karate();
    let r = pagerank(&g, &PageRankOptions::default()).unwrap();
    assert_close("karate", &r.scores, &KARATE_PR, 1e-14);
    assert_eq!(r.iterations, 20, "networkx needs 20 iterations");
    assert!(r.converged && r.stop == Stop::Converged);

    let r = pagerank(
        &g,
        &PageRankOptions {
            alpha: 0.9,
            personalization: Personalization::Node(0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_close("karate ppr", &r.scores, &KARATE_PPR0, 1e-14);
    assert_eq!(r.iterations, 36);

    let r = pagerank(
        &karate_unweighted(),
        &PageRankOptions {
            personalization: Personalization::Sparse {
                nodes: &[33, 5],
                weights: &[1.0, 2.0],
            },
            ..Default::default()
        },
    )
    .unwrap();
    assert_close("karate unweighted", &r.scores, &KARATE_PPR_UNW, 1e-14);
    assert_eq!(r.iterations, 29);
}

#[test]
fn matches_networkx_on_a_directed_graph_with_dangling_nodes() {
    let g = directed_golden();
    assert_eq!(g.dangling(), &[7, 8, 9]); // 8 has only a zero-weight edge
    let r = pagerank(&g, &PageRankOptions::default()).unwrap();
    assert_close("directed", &r.scores, &DI_PR, 1e-14);
    assert_eq!(r.iterations, 20);

    let r = pagerank(
        &g,
        &PageRankOptions {
            alpha: 0.7,
            personalization: Personalization::Dense(&[
                0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 1.0,
            ]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_close("directed ppr", &r.scores, &DI_PPR, 1e-14);
    assert_eq!(r.iterations, 17);

    let r = pagerank(
        &g,
        &PageRankOptions {
            personalization: Personalization::Node(2),
            dangling: Some(Personalization::Sparse {
                nodes: &[4, 0],
                weights: &[1.0, 3.0],
            }),
            tol: 1e-10,
            max_iter: 500,
            ..Default::default()
        },
    )
    .unwrap();
    assert_close("directed dangling", &r.scores, &DI_DANG, 1e-14);
    assert_eq!(r.iterations, 55);

    // An isolated source: networkx's iteration approaches e_9 from the uniform start.
    let r = pagerank(
        &g,
        &PageRankOptions {
            personalization: Personalization::Node(9),
            ..Default::default()
        },
    )
    .unwrap();
    assert_close("isolated", &r.scores, &DI_ISOLATED, 1e-15);
}

/// A personalization, a dangling distribution, and both as normalized dense vectors.
type Config<'a> = (
    Personalization<'a>,
    Option<Personalization<'a>>,
    Vec<f64>,
    Vec<f64>,
);

#[test]
fn power_iteration_error_bound_holds() {
    for case in zoo() {
        let g = graph(case.n, &case.edges);
        let n = case.n;
        let mut rng = Rng::new(n as u64);
        let pers: Vec<f64> = (0..n)
            .map(|_| if rng.unit() < 0.3 { rng.unit() } else { 0.0 })
            .collect();
        let dang: Vec<f64> = (0..n).map(|_| rng.unit()).collect();
        let norm = |v: &[f64]| {
            let s: f64 = v.iter().sum();
            v.iter().map(|x| x / s).collect::<Vec<f64>>()
        };
        let configs: [Config<'_>; 3] = [
            (
                Personalization::Uniform,
                None,
                vec![1.0 / n as f64; n],
                vec![1.0 / n as f64; n],
            ),
            (
                Personalization::Dense(&pers),
                None,
                norm(&pers),
                norm(&pers),
            ),
            (
                Personalization::Node(3),
                Some(Personalization::Dense(&dang)),
                unit_vec(n, 3),
                norm(&dang),
            ),
        ];
        for (p, d, s_vec, d_vec) in configs {
            let exact = exact_pagerank(&g, 0.85, &s_vec, &d_vec);
            for tol in [1e-3, 1e-6, 1e-12] {
                let r = pagerank(
                    &g,
                    &PageRankOptions {
                        personalization: p,
                        dangling: d,
                        tol,
                        max_iter: 10_000,
                        ..Default::default()
                    },
                )
                .unwrap();
                assert!(r.converged, "{}", case.name);
                assert!(r.l1_change < n as f64 * tol);
                let err = l1(&r.scores, &exact);
                assert!(
                    err <= r.error_bound + ROUND,
                    "{} tol {tol}: error {err} > bound {}",
                    case.name,
                    r.error_bound
                );
                assert!((r.scores.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn power_iteration_budget_is_reported_not_an_error() {
    // The cycle from a non-uniform start converges only geometrically (alpha per step).
    let n = 25;
    let edges: Edges = (0..n as u32)
        .map(|u| (u, (u + 1) % n as u32, 1.0))
        .collect();
    let g = graph(n, &edges);
    let r = pagerank(
        &g,
        &PageRankOptions {
            personalization: Personalization::Node(0),
            max_iter: 5,
            tol: 1e-12,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!r.converged);
    assert_eq!(r.stop, Stop::MaxIterations);
    assert_eq!(r.iterations, 5);
    let exact = exact_ppr(&g, 0.85, 0);
    assert!(l1(&r.scores, &exact) <= r.error_bound + ROUND);
    assert!(r.error_bound > 1e-3, "a 5-iteration answer is not tight");
    // max_iter = 0: the start vector, an infinite bound, not converged.
    let r = pagerank(
        &g,
        &PageRankOptions {
            max_iter: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!r.converged && r.iterations == 0 && r.error_bound.is_infinite());
}

#[test]
fn start_vector_is_normalized_like_nstart() {
    let g = karate();
    let start: Vec<f64> = (0..34).map(|u| (u + 1) as f64).collect();
    let r = pagerank(
        &g,
        &PageRankOptions {
            start: Some(Personalization::Dense(&start)),
            tol: 1e-13,
            max_iter: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_close("nstart", &r.scores, &KARATE_PR_TIGHT, 1e-11);
}

#[test]
fn top_k_orders_by_score_then_node() {
    let g = graph(4, &[(0, 1, 1.0), (1, 0, 1.0), (2, 3, 1.0), (3, 2, 1.0)]);
    let r = pagerank(&g, &PageRankOptions::default()).unwrap();
    // All four tie at 1/4 (up to identical rounding): ties by node id.
    let top = r.top_k(3).unwrap();
    assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), vec![0, 1, 2]);
    let r = pagerank(&karate(), &PageRankOptions::default()).unwrap();
    let top = r.top_k(5).unwrap();
    assert_eq!(top.len(), 5);
    assert_eq!(top[0].0, 33);
    assert_eq!(top[1].0, 0);
    assert_ranked(&top);
    assert_eq!(r.top_k(100).unwrap().len(), 34);
}

#[test]
fn bad_input_is_a_typed_error() {
    let g = karate();
    let invalid = |r: Result<PageRank>| matches!(r, Err(Error::InvalidArgument(_)));
    let with = |o: PageRankOptions<'_>| pagerank(&g, &o);
    let d = PageRankOptions::default;
    for alpha in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
        assert!(
            invalid(with(PageRankOptions { alpha, ..d() })),
            "alpha {alpha}"
        );
    }
    for tol in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(invalid(with(PageRankOptions { tol, ..d() })), "tol {tol}");
    }
    let empty = Graph::from_edges(0, &[], &[], None).unwrap();
    assert!(invalid(pagerank(&empty, &d())));
    let zeros = [0.0; 34];
    let mut neg = [1.0; 34];
    neg[3] = -1.0;
    let mut nan = [1.0; 34];
    nan[5] = f64::NAN;
    let mut inf = [1.0; 34];
    inf[5] = f64::INFINITY;
    let huge = [f64::MAX; 34];
    for p in [
        Personalization::Dense(&zeros),
        Personalization::Dense(&neg),
        Personalization::Dense(&nan),
        Personalization::Dense(&inf),
        Personalization::Dense(&huge), // sums to infinity
        Personalization::Node(34),
        Personalization::Sparse {
            nodes: &[1, 2],
            weights: &[0.0, 0.0],
        },
        Personalization::Sparse {
            nodes: &[1, 1],
            weights: &[1.0, 2.0],
        },
        Personalization::Sparse {
            nodes: &[40],
            weights: &[1.0],
        },
        Personalization::Sparse {
            nodes: &[1],
            weights: &[-1.0],
        },
        Personalization::Sparse {
            nodes: &[],
            weights: &[],
        },
    ] {
        assert!(
            invalid(with(PageRankOptions {
                personalization: p,
                ..d()
            })),
            "{p:?}"
        );
        assert!(
            invalid(with(PageRankOptions {
                dangling: Some(p),
                ..d()
            })),
            "{p:?}"
        );
        assert!(
            invalid(with(PageRankOptions {
                start: Some(p),
                ..d()
            })),
            "{p:?}"
        );
    }
    assert!(matches!(
        with(PageRankOptions {
            personalization: Personalization::Dense(&[1.0; 3]),
            ..d()
        }),
        Err(Error::DimensionMismatch {
            expected: 34,
            actual: 3
        })
    ));
    assert!(matches!(
        with(PageRankOptions {
            personalization: Personalization::Sparse {
                nodes: &[1, 2],
                weights: &[1.0]
            },
            ..d()
        }),
        Err(Error::DimensionMismatch { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Forward push

/// Sparse personalizations used with forward push: one node, and a few nodes that include
/// a dangling one when the graph has any.
fn sources(g: &Graph, rng: &mut Rng) -> Vec<(Vec<u32>, Vec<f64>)> {
    let n = g.n_nodes();
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push((vec![(rng.unit() * n as f64) as u32], vec![1.0]));
    }
    let mut nodes = vec![(rng.unit() * n as f64) as u32];
    if let Some(&d) = g.dangling().first() {
        nodes.push(d);
    }
    let other = (rng.unit() * n as f64) as u32;
    if !nodes.contains(&other) {
        nodes.push(other);
    }
    let weights = nodes.iter().map(|_| 0.5 + rng.unit()).collect();
    out.push((nodes, weights));
    out
}

#[test]
fn forward_push_guarantee_on_generated_graphs() {
    let mut rng = Rng::new(99);
    let mut checked = 0;
    let mut symmetric_checked = 0;
    for case in zoo() {
        let g = graph(case.n, &case.edges);
        let n = case.n;
        for (nodes, weights) in sources(&g, &mut rng) {
            let sum: f64 = weights.iter().sum();
            let mut s = vec![0.0; n];
            for (&u, &w) in nodes.iter().zip(&weights) {
                s[u as usize] = w / sum;
            }
            let exact = exact_pagerank(&g, 0.85, &s, &s);
            for eps in [1e-2, 1e-3, 1e-5] {
                let r = forward_push(
                    &g,
                    &Personalization::Sparse {
                        nodes: &nodes,
                        weights: &weights,
                    },
                    &PushOptions {
                        eps,
                        ..Default::default()
                    },
                )
                .unwrap();
                let rep = r.report;
                assert!(
                    rep.converged && rep.stop == Stop::Converged,
                    "{}",
                    case.name
                );
                assert!(rep.eps_reached < eps, "{}: {}", case.name, rep.eps_reached);
                assert_eq!(rep.error_bound, rep.residual_mass);
                assert_ranked(&r.scores);
                let p = dense_of(n, &r.scores);
                let mut total_gap = 0.0;
                for v in 0..n {
                    let gap = exact[v] - p[v];
                    assert!(
                        gap >= -ROUND,
                        "{} eps {eps}: node {v} overestimated by {}",
                        case.name,
                        -gap
                    );
                    assert!(gap <= rep.error_bound + ROUND, "{}: node {v}", case.name);
                    if case.symmetric {
                        let w = g.out_weight(v).unwrap();
                        assert!(
                            gap <= eps * w + ROUND,
                            "{} eps {eps}: node {v}: gap {gap} > eps W(v) = {}",
                            case.name,
                            eps * w
                        );
                    }
                    total_gap += gap;
                }
                // The L1 error is the residual mass.
                assert!(
                    (total_gap - rep.residual_mass).abs() < 1e-10,
                    "{}: {total_gap} vs {}",
                    case.name,
                    rep.residual_mass
                );
                assert!(rep.touched <= n && rep.pushes > 0);
                checked += 1;
                if case.symmetric {
                    symmetric_checked += 1;
                }
            }
        }
    }
    assert!(
        checked >= 300 && symmetric_checked >= 100,
        "{checked} {symmetric_checked}"
    );
}

#[test]
fn forward_push_matches_networkx_golden_values() {
    // Personalized runs of the golden graphs pushed to eps = 1e-12, against networkx run to
    // tol = 1e-15 (its default tol = 1e-6 stops ~1e-5 away from the fixed point).
    let r = forward_push(
        &karate(),
        &Personalization::Node(0),
        &PushOptions {
            alpha: 0.9,
            eps: 1e-12,
            ..Default::default()
        },
    )
    .unwrap();
    let p = dense_of(34, &r.scores);
    assert_close("karate push", &p, &KARATE_PPR0_TIGHT, 1e-9);
    let r = forward_push(
        &directed_golden(),
        &Personalization::Sparse {
            nodes: &[1, 7, 9],
            weights: &[1.0, 2.0, 1.0],
        },
        &PushOptions {
            alpha: 0.7,
            eps: 1e-12,
            ..Default::default()
        },
    )
    .unwrap();
    let p = dense_of(10, &r.scores);
    assert_close("directed push", &p, &DI_PPR_TIGHT, 1e-9);
}

#[test]
fn forward_push_isolated_and_dangling_sources_are_exact() {
    let g = directed_golden();
    // 9 is isolated: all mass stays there; the closed form needs one push.
    let r = forward_push(&g, &Personalization::Node(9), &PushOptions::default()).unwrap();
    assert_eq!(r.scores, vec![(9, 1.0)]);
    assert_eq!(r.report.pushes, 1);
    assert_eq!(r.report.residual_mass, 0.0);
    // 7 is dangling but reachable from others; as a source it is isolated in effect.
    let r = forward_push(&g, &Personalization::Node(7), &PushOptions::default()).unwrap();
    assert_eq!(r.scores, vec![(7, 1.0)]);
    // Two dangling nodes sharing the personalization: no ping-pong, exact in one round.
    let r = forward_push(
        &g,
        &Personalization::Sparse {
            nodes: &[7, 9],
            weights: &[1.0, 3.0],
        },
        &PushOptions::default(),
    )
    .unwrap();
    let p = dense_of(10, &r.scores);
    assert!(
        (p[7] - 0.25).abs() < 1e-15 && (p[9] - 0.75).abs() < 1e-15,
        "{p:?}"
    );
    assert!(r.report.converged && r.report.residual_mass == 0.0);
}

#[test]
fn forward_push_directed_graphs_can_break_the_per_node_bound() {
    // s -> a_1..a_k -> v -> s: each a_i gets alpha / k < eps * W(a_i) and is never pushed,
    // so v's estimate stays 0 while pi(v) is far above eps * W(v) = eps. The L1 bound holds.
    let k = 100u32;
    let s = 0u32;
    let v = k + 1;
    let mut e: Edges = (1..=k).map(|a| (s, a, 1.0)).collect();
    e.extend((1..=k).map(|a| (a, v, 1.0)));
    e.push((v, s, 1.0));
    let g = graph(k as usize + 2, &e);
    let eps = 0.01;
    let r = forward_push(
        &g,
        &Personalization::Node(s),
        &PushOptions {
            eps,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.report.converged);
    let p = dense_of(g.n_nodes(), &r.scores);
    let exact = exact_ppr(&g, 0.85, s as usize);
    assert_eq!(p[v as usize], 0.0);
    assert!(exact[v as usize] > 10.0 * eps * g.out_weight(v as usize).unwrap());
    let gap: f64 = exact.iter().zip(&p).map(|(x, y)| x - y).sum();
    assert!((gap - r.report.residual_mass).abs() < 1e-12);
    assert!(exact[v as usize] - p[v as usize] <= r.report.error_bound + ROUND);
}

#[test]
fn forward_push_hub_source_is_pushed_once() {
    // A star whose center has degree 1000 > 1 / eps = 100.
    let n = 1001;
    let e = symmetrize(&(1..n as u32).map(|u| (0, u, 1.0)).collect::<Edges>());
    let g = graph(n, &e);
    let eps = 0.01;
    let r = forward_push(
        &g,
        &Personalization::Node(0),
        &PushOptions {
            eps,
            ..Default::default()
        },
    )
    .unwrap();
    let rep = r.report;
    assert_eq!(rep.pushes, 1, "only the forced push of the source");
    assert_eq!(rep.work, 1000);
    assert!(rep.converged);
    assert_eq!(r.scores, vec![(0, 1.0 - 0.85)]);
    assert!((rep.residual_mass - 0.85).abs() < 1e-12);
    // Honest: the bound covers the truth, and the symmetric per-node bound holds too.
    let exact = exact_ppr(&g, 0.85, 0);
    let p = dense_of(n, &r.scores);
    for v in 0..n {
        let gap = exact[v] - p[v];
        assert!(gap >= -ROUND && gap <= rep.error_bound + ROUND);
        assert!(gap <= eps * g.out_weight(v).unwrap() + ROUND);
    }
    // A threshold above 1 everywhere: still the source's push, never an empty answer.
    let r = forward_push(
        &g,
        &Personalization::Node(5),
        &PushOptions {
            eps: 10.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.scores, vec![(5, 1.0 - 0.85)]);
}

#[test]
fn forward_push_budget_returns_a_valid_partial_answer() {
    let mut rng = Rng::new(5);
    let n = 80;
    let er = erdos_renyi(&mut rng, n, 400, true, true);
    let g = graph(n, &make_dangling(&mut rng, n, er, 0.2));
    // A source with out-edges (a dangling one is exact after its first push).
    let src = (0..n).find(|&u| g.out_weight(u).unwrap() > 0.0).unwrap();
    let exact = exact_ppr(&g, 0.85, src);
    for budget in [0u64, 1, 3, 10, 50] {
        let r = forward_push(
            &g,
            &Personalization::Node(src as u32),
            &PushOptions {
                eps: 1e-6,
                max_pushes: budget,
                ..Default::default()
            },
        )
        .unwrap();
        let rep = r.report;
        assert!(!rep.converged, "budget {budget}");
        assert_eq!(rep.stop, Stop::MaxWork);
        assert_eq!(rep.pushes, budget);
        let p = dense_of(n, &r.scores);
        for v in 0..n {
            let gap = exact[v] - p[v];
            assert!(gap >= -ROUND && gap <= rep.error_bound + ROUND);
        }
        if budget == 0 {
            assert!(r.scores.is_empty());
            assert_eq!(rep.error_bound, 1.0);
        }
    }
}

#[test]
fn forward_push_top_k_and_ties() {
    let g = karate();
    let all = forward_push(&g, &Personalization::Node(0), &PushOptions::default()).unwrap();
    let top = forward_push(
        &g,
        &Personalization::Node(0),
        &PushOptions {
            top_k: Some(5),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(top.scores.len(), 5);
    assert_eq!(&all.scores[..5], &top.scores[..]);
    assert_eq!(all.report, top.report);
    // A symmetric pair of leaves ties exactly: ordered by node id.
    let g = graph(3, &symmetrize(&[(0, 1, 1.0), (0, 2, 1.0)]));
    let r = forward_push(&g, &Personalization::Node(0), &PushOptions::default()).unwrap();
    assert_eq!(r.scores[0].0, 0);
    assert_eq!(r.scores[1].1, r.scores[2].1);
    assert!(r.scores[1].0 < r.scores[2].0);
}

#[test]
fn forward_push_is_local() {
    // 100,000 nodes, ~10 out-edges each: a push to eps = 1e-3 touches a sliver and never
    // allocates per node (the map's memory follows `touched`).
    let n = 100_000;
    let mut rng = Rng::new(77);
    let e = erdos_renyi(&mut rng, n, 10 * n, false, false);
    let g = graph(n, &e);
    let r = forward_push(
        &g,
        &Personalization::Node(12_345),
        &PushOptions {
            eps: 1e-3,
            ..Default::default()
        },
    )
    .unwrap();
    let rep = r.report;
    assert!(rep.converged);
    // The ACL bound: pushed weighted degree <= 1 / ((1 - alpha) eps) ~ 6,667 edges.
    assert!(rep.work as f64 <= 1.0 / (0.15 * 1e-3) + 1.0, "{}", rep.work);
    assert!(rep.touched < n / 10, "touched {}", rep.touched);
    assert!(rep.residual_mass < 1.0);
}

#[test]
fn forward_push_bad_input() {
    let g = karate();
    let bad = |p: Personalization<'_>, o: PushOptions| {
        matches!(forward_push(&g, &p, &o), Err(Error::InvalidArgument(_)))
    };
    let d = PushOptions::default;
    for eps in [0.0, -1e-3, f64::NAN, f64::INFINITY] {
        assert!(bad(Personalization::Node(0), PushOptions { eps, ..d() }));
    }
    for alpha in [0.0, 1.0, f64::NAN] {
        assert!(bad(Personalization::Node(0), PushOptions { alpha, ..d() }));
    }
    assert!(bad(Personalization::Node(34), d()));
    assert!(bad(
        Personalization::Sparse {
            nodes: &[2],
            weights: &[0.0]
        },
        d()
    ));
    assert!(bad(
        Personalization::Sparse {
            nodes: &[2],
            weights: &[f64::NAN]
        },
        d()
    ));
    let empty = Graph::from_edges(0, &[], &[], None).unwrap();
    assert!(matches!(
        forward_push(&empty, &Personalization::Node(0), &d()),
        Err(Error::InvalidArgument(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Backward push and the dangling correction

/// Exact `z(s) = sum_v pi0_s(v)`: `(I - alpha P) z = (1 - alpha) 1`.
fn exact_masses(g: &Graph, alpha: f64) -> Vec<f64> {
    let n = g.n_nodes();
    let p = transition(g);
    let a = (0..n)
        .map(|u| {
            (0..n)
                .map(|v| if u == v { 1.0 } else { 0.0 } - alpha * p[u][v])
                .collect()
        })
        .collect();
    solve_dense(a, vec![1.0 - alpha; n])
}

#[test]
fn dangling_correction_matches_the_exact_masses() {
    for case in zoo() {
        let g = graph(case.n, &case.edges);
        let c = DanglingCorrection::new(&g, 0.85, 1e-13, 10_000).unwrap();
        assert!(c.converged);
        let exact = exact_masses(&g, 0.85);
        for (s, (&got, &want)) in c.masses().iter().zip(&exact).enumerate() {
            assert!(
                got >= want - ROUND,
                "{}: masses are upper bounds (node {s})",
                case.name
            );
            assert!(
                got - want <= c.error_bound + ROUND,
                "{}: node {s}",
                case.name
            );
            assert!((1.0 - 0.85 - ROUND..=1.0 + ROUND).contains(&want));
        }
        if g.dangling().is_empty() {
            assert_eq!(c.iterations, 0);
            assert!(c.masses().iter().all(|&z| z == 1.0));
        }
        // pi_s = pi0_s / z(s): check for one source against the direct solve.
        let s = case.n / 2;
        let pi = exact_ppr(&g, 0.85, s);
        let p = transition(&g);
        let n = case.n;
        let a = (0..n)
            .map(|v| {
                (0..n)
                    .map(|u| if u == v { 1.0 } else { 0.0 } - 0.85 * p[u][v])
                    .collect()
            })
            .collect();
        let mut rhs = vec![0.0; n];
        rhs[s] = 1.0 - 0.85;
        let pi0 = solve_dense(a, rhs);
        for v in 0..n {
            assert!((pi0[v] / exact[s] - pi[v]).abs() < 1e-12, "{}", case.name);
        }
    }
}

#[test]
fn backward_push_guarantee_on_generated_graphs() {
    let mut checked = 0;
    for case in zoo() {
        let g = graph(case.n, &case.edges);
        let n = case.n;
        let corr = DanglingCorrection::new(&g, 0.85, 1e-13, 10_000).unwrap();
        // pi_s(t) for every source, from the exact single-source solves.
        let all: Vec<Vec<f64>> = (0..n).map(|s| exact_ppr(&g, 0.85, s)).collect();
        for t in [0, n / 3, n - 1] {
            for r_max in [1e-2, 1e-4] {
                let r = backward_push(
                    &g,
                    t as u32,
                    &BackwardOptions {
                        r_max,
                        correction: Some(&corr),
                        ..Default::default()
                    },
                )
                .unwrap();
                let rep = r.report;
                assert!(rep.converged, "{}", case.name);
                assert!(rep.eps_reached < r_max);
                assert_ranked(&r.scores);
                let est = dense_of(n, &r.scores);
                for s in 0..n {
                    let gap = all[s][t] - est[s];
                    assert!(
                        gap >= -ROUND,
                        "{} t={t}: source {s} overestimated by {}",
                        case.name,
                        -gap
                    );
                    assert!(
                        gap <= rep.error_bound + ROUND,
                        "{} t={t} r_max={r_max}: source {s}: gap {gap} > {}",
                        case.name,
                        rep.error_bound
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 100);
}

#[test]
fn backward_push_matches_networkx_golden_values() {
    // Karate (no dangling nodes): pi_0(t) for every t, one backward push per target.
    let g = karate();
    for t in 0..34u32 {
        let r = backward_push(
            &g,
            t,
            &BackwardOptions {
                alpha: 0.9,
                r_max: 1e-10,
                ..Default::default()
            },
        )
        .unwrap();
        let est = dense_of(34, &r.scores);
        assert!(
            (est[0] - KARATE_PPR0_TIGHT[t as usize]).abs() < 1e-9,
            "t = {t}"
        );
    }
}

#[test]
fn backward_push_needs_a_matching_correction_on_dangling_graphs() {
    let g = directed_golden();
    let bad =
        |o: BackwardOptions<'_>| matches!(backward_push(&g, 2, &o), Err(Error::InvalidArgument(_)));
    assert!(
        bad(BackwardOptions::default()),
        "dangling nodes and no correction"
    );
    let other_alpha = DanglingCorrection::new(&g, 0.8, 1e-12, 1000).unwrap();
    assert!(bad(BackwardOptions {
        correction: Some(&other_alpha),
        ..Default::default()
    }));
    let other_graph = DanglingCorrection::new(&karate(), 0.85, 1e-12, 1000).unwrap();
    assert!(bad(BackwardOptions {
        correction: Some(&other_graph),
        ..Default::default()
    }));
    assert!(bad(BackwardOptions {
        r_max: 0.0,
        ..Default::default()
    }));
    assert!(matches!(
        backward_push(&karate(), 34, &BackwardOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
    // Without dangling nodes no correction is needed.
    assert!(backward_push(&karate(), 3, &BackwardOptions::default()).is_ok());
}

#[test]
fn backward_push_with_an_unconverged_correction_widens_its_bound() {
    let g = directed_golden();
    let rough = DanglingCorrection::new(&g, 0.85, 1e-13, 3).unwrap();
    assert!(!rough.converged && rough.stop == Stop::MaxIterations);
    let all: Vec<Vec<f64>> = (0..10).map(|s| exact_ppr(&g, 0.85, s)).collect();
    for t in 0..10u32 {
        let r = backward_push(
            &g,
            t,
            &BackwardOptions {
                r_max: 1e-9,
                correction: Some(&rough),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(r.report.error_bound >= rough.error_bound / (1.0 - 0.85));
        let est = dense_of(10, &r.scores);
        for s in 0..10 {
            let gap = all[s][t as usize] - est[s];
            assert!(gap >= -ROUND && gap <= r.report.error_bound + ROUND);
        }
    }
}

#[test]
fn backward_push_budget_and_large_threshold() {
    let g = karate();
    let r = backward_push(
        &g,
        0,
        &BackwardOptions {
            max_pushes: 2,
            r_max: 1e-8,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!r.report.converged && r.report.stop == Stop::MaxWork && r.report.pushes == 2);
    let all: Vec<Vec<f64>> = (0..34).map(|s| exact_ppr(&g, 0.85, s)).collect();
    let est = dense_of(34, &r.scores);
    for s in 0..34 {
        let gap = all[s][0] - est[s];
        assert!(gap >= -ROUND && gap <= r.report.error_bound + ROUND);
    }
    // r_max above 1: the target is still pushed once, the answer is not empty.
    let r = backward_push(
        &g,
        7,
        &BackwardOptions {
            r_max: 2.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.report.pushes, 1);
    assert_eq!(r.scores.first().map(|s| s.0), Some(7));
}

// ---------------------------------------------------------------------------------------
// Bidirectional pair estimate

#[test]
fn pair_estimates_hold_their_bounds() {
    let mut failures = 0;
    let mut trials = 0;
    let mut rng = Rng::new(3);
    for case in zoo().iter().step_by(2) {
        let g = graph(case.n, &case.edges);
        let n = case.n;
        let corr = DanglingCorrection::new(&g, 0.85, 1e-13, 10_000).unwrap();
        for k in 0..6 {
            let s = (rng.unit() * n as f64) as u32;
            let t = if k % 2 == 0 {
                s
            } else {
                (rng.unit() * n as f64) as u32
            };
            let exact = exact_ppr(&g, 0.85, s as usize)[t as usize];
            let r = pair(
                &g,
                s,
                t,
                &PairOptions {
                    r_max: 0.02,
                    walks: 2000,
                    seed: k,
                    correction: Some(&corr),
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(r.converged, "{}", case.name);
            // No walks when the push left no residual (exact up to the correction's error).
            let correction_error = corr.error_bound / (1.0 - 0.85);
            assert!(
                r.walks == 2000 || r.push_bound <= correction_error * (1.0 + 1e-12),
                "{}",
                case.name
            );
            // Deterministic part.
            assert!(exact - r.push_estimate >= -ROUND);
            assert!(
                exact - r.push_estimate <= r.push_bound + ROUND,
                "{}",
                case.name
            );
            assert!(r.error_bound <= r.push_bound);
            if (exact - r.estimate).abs() > r.error_bound + ROUND {
                failures += 1;
            }
            trials += 1;
        }
    }
    // Each bound may fail with probability 1e-3; Hoeffding is loose, so none should.
    assert!(trials >= 60);
    assert_eq!(failures, 0, "{failures} of {trials}");
}

#[test]
fn pair_is_deterministic_for_a_seed() {
    let g = karate();
    let o = PairOptions {
        r_max: 0.05,
        walks: 500,
        seed: 11,
        ..Default::default()
    };
    let a = pair(&g, 0, 33, &o).unwrap();
    let b = pair(&g, 0, 33, &o).unwrap();
    assert_eq!(a.estimate.to_bits(), b.estimate.to_bits());
    assert_eq!(a, b);
    let c = pair(&g, 0, 33, &PairOptions { seed: 12, ..o }).unwrap();
    assert_ne!(a.estimate, c.estimate);
    assert_eq!(a.push_estimate, c.push_estimate);
    // The same bits on every platform and backend: this constant was computed on x86_64;
    // the aarch64 (qemu) and wasm32 runs of this test must reproduce it.
    assert_eq!(
        a.estimate.to_bits(),
        GOLDEN_PAIR_BITS,
        "{} = {:#x}",
        a.estimate,
        a.estimate.to_bits()
    );
}

/// `pair(karate, 0, 33, r_max 0.05, 500 walks, seed 11).estimate` on x86_64.
const GOLDEN_PAIR_BITS: u64 = 0x3fa6_b4b1_5661_68a2;

#[test]
fn pair_walk_budget_and_zero_walks() {
    let g = karate();
    let exact = exact_ppr(&g, 0.85, 2)[30];
    let r = pair(
        &g,
        2,
        30,
        &PairOptions {
            r_max: 0.05,
            walks: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.walks, 0);
    assert_eq!(r.estimate, r.push_estimate);
    assert_eq!(r.error_bound, r.push_bound);
    assert_eq!(r.failure_probability, 0.0);
    assert!(exact - r.estimate >= -ROUND && exact - r.estimate <= r.error_bound + ROUND);
    let r = pair(
        &g,
        2,
        30,
        &PairOptions {
            r_max: 0.05,
            walks: 1_000_000,
            max_walk_steps: 100,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!r.converged && r.stop == Stop::MaxWork);
    assert!(r.walk_steps <= 100 && r.walks < 1_000_000);
    assert!((exact - r.estimate).abs() <= r.push_bound + ROUND);
}

#[test]
fn pair_bad_input() {
    let g = karate();
    let bad = |s: u32, t: u32, o: PairOptions<'_>| {
        matches!(pair(&g, s, t, &o), Err(Error::InvalidArgument(_)))
    };
    let d = PairOptions::default;
    assert!(bad(34, 0, d()));
    assert!(bad(0, 34, d()));
    for f in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(bad(
            0,
            1,
            PairOptions {
                failure_probability: f,
                ..d()
            }
        ));
    }
    assert!(bad(
        0,
        1,
        PairOptions {
            r_max: f64::NAN,
            ..d()
        }
    ));
    assert!(bad(0, 1, PairOptions { alpha: 1.0, ..d() }));
    let dg = directed_golden();
    assert!(matches!(
        pair(&dg, 0, 1, &d()),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn extreme_inputs_end_in_a_result_or_a_typed_error() {
    // Subnormal, tiny and huge weights; alpha next to 0 and 1; tiny eps; small budgets.
    // Every call returns (no panic, no endless loop) and never claims more than it checked.
    let weights = [5e-324, 1e-300, 1e-10, 1.0, 1e10, 1e300];
    let mut rng = Rng::new(31);
    for &w in &weights {
        let e: Edges = erdos_renyi(&mut rng, 30, 90, false, true)
            .into_iter()
            .map(|(u, v, _)| (u, v, w))
            .collect();
        let src: Vec<u32> = e.iter().map(|x| x.0).collect();
        let dst: Vec<u32> = e.iter().map(|x| x.1).collect();
        let ws: Vec<f64> = e.iter().map(|x| x.2).collect();
        let Ok(g) = Graph::from_edges(30, &src, &dst, Some(&ws)) else {
            continue; // a weighted degree overflowing is refused by the graph
        };
        for alpha in [1e-12, 0.5, 1.0 - 1e-12] {
            for eps in [1e-300, 1e-8, 1.0] {
                let o = PushOptions {
                    alpha,
                    eps,
                    max_pushes: 20_000,
                    ..Default::default()
                };
                let r = forward_push(&g, &Personalization::Node(1), &o).unwrap();
                assert!(r.report.converged == (r.report.stop == Stop::Converged));
                assert!(r.report.pushes <= 20_000);
                assert!(r.report.error_bound.is_finite() && r.report.error_bound >= 0.0);
                assert!(r.scores.iter().all(|s| s.1.is_finite()));
                let b = BackwardOptions {
                    alpha,
                    r_max: eps,
                    max_pushes: 20_000,
                    ..Default::default()
                };
                match backward_push(&g, 2, &b) {
                    Ok(r) => assert!(r.report.pushes <= 20_000),
                    Err(Error::InvalidArgument(m)) => assert!(m.contains("dangling"), "{m}"),
                    Err(e) => panic!("{e:?}"),
                }
                let p = PairOptions {
                    alpha,
                    r_max: eps.max(1e-6),
                    walks: 50,
                    max_pushes: 20_000,
                    max_walk_steps: 20_000,
                    ..Default::default()
                };
                match pair(&g, 1, 2, &p) {
                    Ok(r) => {
                        assert!(r.walk_steps <= 20_000 && r.estimate.is_finite());
                        assert!(r.converged == (r.stop == Stop::Converged));
                    }
                    Err(Error::InvalidArgument(m)) => assert!(m.contains("dangling"), "{m}"),
                    Err(e) => panic!("{e:?}"),
                }
            }
            let r = pagerank(
                &g,
                &PageRankOptions {
                    alpha,
                    max_iter: 50,
                    ..Default::default()
                },
            );
            let r = r.unwrap();
            assert!(r.scores.iter().all(|x| x.is_finite()));
        }
    }
}

#[test]
fn subnormal_weights_rank_like_unit_weights() {
    // Every weight the smallest subnormal: W(u) has no finite inverse, yet the ratios
    // w / W(u) are exact, so every method must agree with the unit-weight graph.
    let mut rng = Rng::new(41);
    let e = erdos_renyi(&mut rng, 40, 160, false, true);
    let tiny: Edges = e.iter().map(|&(u, v, _)| (u, v, 5e-324)).collect();
    let (g1, gt) = (graph(40, &e), graph(40, &tiny));
    let o = PageRankOptions {
        tol: 1e-14,
        max_iter: 1000,
        ..Default::default()
    };
    let (a, b) = (pagerank(&g1, &o).unwrap(), pagerank(&gt, &o).unwrap());
    assert!(
        l1(&a.scores, &b.scores) < 1e-12,
        "{}",
        l1(&a.scores, &b.scores)
    );
    // Push thresholds are eps * W(u) ~ eps * 1e-323: eps = 1e300 makes them ~1e-23, and
    // the push's guarantee must hold against the unit-weight graph's exact values.
    let exact = exact_ppr(&g1, 0.85, 3);
    let r = forward_push(
        &gt,
        &Personalization::Node(3),
        &PushOptions {
            eps: 1e300,
            ..Default::default()
        },
    )
    .unwrap();
    let p = dense_of(40, &r.scores);
    for v in 0..40 {
        let gap = exact[v] - p[v];
        assert!(gap >= -ROUND && gap <= r.report.error_bound + ROUND);
    }
}
