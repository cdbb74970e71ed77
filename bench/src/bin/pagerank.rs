//! Personalized PageRank by forward push on generated million-node graphs: time, pushes,
//! work, fraction of nodes touched, and whether the top-10 equals that of an exact
//! power-iteration reference. Optionally writes a smaller graph for the networkx
//! comparison (`bench/pagerank_networkx.py`).
//!
//! ```text
//! cargo run --release -p ferrovec-bench --bin pagerank -- [--nodes 1000000] [--degree 10]
//!     [--sources 5] [--eps 1e-4 | --eps-list 1e-4,1e-5] [--export target/pagerank/er100k.bin --export-nodes 100000]
//! ```
//!
//! Times are this thread's CPU time (`ferrovec_bench::CpuClock`).

use std::time::Duration;

use ferrovec_bench::{clock_kind, CpuClock};
use ferrovec_core::solver::pagerank::{
    forward_push, pagerank, PageRankOptions, Personalization, PushOptions,
};
use ferrovec_core::sparse::Graph;

/// splitmix64: the graphs are the same on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> u32 {
        (self.next_u64() % n as u64) as u32
    }
}

/// Directed Erdős–Rényi: `n * degree` edges with uniform endpoints.
fn erdos_renyi(n: usize, degree: usize, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng(seed);
    let m = n * degree;
    let mut src = Vec::with_capacity(m);
    let mut dst = Vec::with_capacity(m);
    for _ in 0..m {
        src.push(rng.below(n));
        dst.push(rng.below(n));
    }
    (src, dst)
}

/// Directed Chung–Lu: `n * degree` edges whose endpoints are drawn proportionally to
/// `(i + 1)^(-1 / (gamma - 1))` (degree distribution with a power-law tail of exponent
/// `gamma`); source and target weights use two different node orders, so hubs of
/// in-degree and of out-degree differ.
fn chung_lu(n: usize, degree: usize, gamma: f64, seed: u64) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng(seed);
    let mut cum = Vec::with_capacity(n);
    let mut acc = 0.0;
    for i in 0..n {
        acc += ((i + 1) as f64).powf(-1.0 / (gamma - 1.0));
        cum.push(acc);
    }
    // A fixed permutation for the targets (multiplicative, invertible mod n when odd).
    let perm = |i: u32| ((i as u64 * 2_654_435_761) % n as u64) as u32;
    let m = n * degree;
    let mut src = Vec::with_capacity(m);
    let mut dst = Vec::with_capacity(m);
    for _ in 0..m {
        let a = rng.unit() * acc;
        let b = rng.unit() * acc;
        src.push(cum.partition_point(|&c| c <= a).min(n - 1) as u32);
        dst.push(perm(cum.partition_point(|&c| c <= b).min(n - 1) as u32));
    }
    (src, dst)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn top(scores: &[(u32, f64)], k: usize) -> Vec<u32> {
    scores.iter().take(k).map(|s| s.0).collect()
}

fn run(name: &str, n: usize, src: &[u32], dst: &[u32], sources: usize, eps_list: &[f64]) {
    let t = CpuClock::now();
    let g = Graph::from_edges(n, src, dst, None).expect("graph");
    let build = t.elapsed();
    let max_deg = (0..n)
        .map(|u| g.out_degree(u).unwrap_or(0))
        .max()
        .unwrap_or(0);
    let max_in = (0..n)
        .map(|u| g.in_degree(u).unwrap_or(0))
        .max()
        .unwrap_or(0);
    println!(
        "\n## {name}: {n} nodes, {} distinct edges, {} dangling, max out-degree {max_deg}, \
         max in-degree {max_in} (built in {:.0} ms)",
        g.n_edges(),
        g.dangling().len(),
        ms(build)
    );
    println!(
        "| source (out-deg) | eps | push ms | pushes | work (edges) | touched | touched % \
         | residual mass | top-10 equal | same set | top-10 true-score ratio | max error | \
         0 <= error <= bound |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|");
    #[cfg(feature = "solver-peers")]
    let peer = ruvector::graph(&g);
    let mut rng = Rng(99);
    let mut summary: Vec<(f64, Vec<f64>, f64, usize)> =
        eps_list.iter().map(|&e| (e, Vec::new(), 0.0, 0)).collect();
    for _ in 0..sources {
        // A source with out-edges (a dangling source is trivially exact).
        let s = loop {
            let s = rng.below(n);
            if g.out_weight(s as usize).unwrap_or(0.0) > 0.0 {
                break s;
            }
        };
        let t = CpuClock::now();
        let reference = pagerank(
            &g,
            &PageRankOptions {
                personalization: Personalization::Node(s),
                tol: 1e-17, // L1 change < n * 1e-17 (1e-11 at n = 1e6)
                max_iter: 1000,
                ..Default::default()
            },
        )
        .expect("reference");
        let ref_time = t.elapsed();
        assert!(reference.converged, "reference did not converge");
        let mut ref_top = reference.top_k(11).expect("top-k");
        // How far apart the 10th and 11th are: below the push's per-node error the top-10
        // set is a coin toss among near-ties.
        let gap_10_11 = ref_top[9].1 - ref_top[10].1;
        ref_top.truncate(10);
        let ref_ids: Vec<u32> = ref_top.iter().map(|x| x.0).collect();
        let ref_sum: f64 = ref_top.iter().map(|x| x.1).sum();
        println!(
            "| {s} ({}) | reference: power iteration {:.0} ms, {} iterations, L1 bound {:.1e}, \
             10th - 11th score {:.1e} | | | | | | | | | | | |",
            g.out_degree(s as usize).unwrap_or(0),
            ms(ref_time),
            reference.iterations,
            reference.error_bound,
            gap_10_11
        );
        for (k, &eps) in eps_list.iter().enumerate() {
            let opts = PushOptions {
                eps,
                ..Default::default()
            };
            let t = CpuClock::now();
            let r = forward_push(&g, &Personalization::Node(s), &opts).expect("push");
            let push = t.elapsed();
            let push_ids = top(&r.scores, 10);
            let mut a = ref_ids.clone();
            let mut b = push_ids.clone();
            a.sort_unstable();
            b.sort_unstable();
            // The true scores of the push's top-10, against the best possible.
            let got_sum: f64 = push_ids.iter().map(|&u| reference.scores[u as usize]).sum();
            // The guarantee: 0 <= pi - p <= residual mass for every node (with the
            // reference's own error bound as slack).
            let mut p = vec![0.0; n];
            for &(u, x) in &r.scores {
                p[u as usize] = x;
            }
            let mut max_err = 0.0f64;
            let mut min_gap = 0.0f64;
            for (x, y) in reference.scores.iter().zip(&p) {
                max_err = max_err.max(x - y);
                min_gap = min_gap.min(x - y);
            }
            let slack = reference.error_bound + 1e-12;
            let ok = min_gap >= -slack && max_err <= r.report.error_bound + slack;
            let touched_pct = 100.0 * r.report.touched as f64 / n as f64;
            let entry = &mut summary[k];
            entry.1.push(ms(push));
            entry.2 = entry.2.max(touched_pct);
            if ref_ids == push_ids {
                entry.3 += 1;
            }
            println!(
                "| {s} | {eps:.0e} | {:.2} | {} | {} | {} | {:.3} | {:.4} | {} | {} | {:.6} | \
                 {:.2e} | {} |",
                ms(push),
                r.report.pushes,
                r.report.work,
                r.report.touched,
                touched_pct,
                r.report.residual_mass,
                ref_ids == push_ids,
                a == b,
                got_sum / ref_sum,
                max_err,
                ok
            );
            #[cfg(feature = "solver-peers")]
            ruvector::push(&peer, s, eps, &reference.scores, &ref_ids, ms(push));
        }
    }
    for (eps, mut times, touched_max, equal) in summary {
        times.sort_by(f64::total_cmp);
        println!(
            "{name}, eps {eps:.0e}: median push {:.2} ms, max touched {:.3} % of nodes, top-10 \
             equal (order too) in {equal} of {sources}",
            times[times.len() / 2],
            touched_max
        );
    }
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--nodes", 1_000_000);
    let degree: usize = arg(&args, "--degree", 10);
    let sources: usize = arg(&args, "--sources", 5);
    let eps: f64 = arg(&args, "--eps", 1e-4);
    let eps_list: Vec<f64> = args
        .iter()
        .position(|a| a == "--eps-list")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![eps]);
    println!(
        "# forward push, eps {eps_list:?}, alpha = 0.85; reference: power iteration to L1 \
         change < n * 1e-17; times: {}",
        clock_kind()
    );
    let (src, dst) = erdos_renyi(n, degree, 1);
    run("Erdős–Rényi", n, &src, &dst, sources, &eps_list);
    drop((src, dst));
    let (src, dst) = chung_lu(n, degree, 2.5, 2);
    run("Chung–Lu (gamma 2.5)", n, &src, &dst, sources, &eps_list);
    drop((src, dst));

    if let Some(path) = args
        .iter()
        .position(|a| a == "--export")
        .and_then(|i| args.get(i + 1))
    {
        // A smaller graph for networkx: little-endian u32 pairs (src, dst).
        let nodes: usize = arg(&args, "--export-nodes", 100_000);
        let (src, dst) = erdos_renyi(nodes, degree, 3);
        let mut bytes = Vec::with_capacity(src.len() * 8);
        for (s, d) in src.iter().zip(&dst) {
            bytes.extend_from_slice(&s.to_le_bytes());
            bytes.extend_from_slice(&d.to_le_bytes());
        }
        std::fs::write(path, bytes).expect("write the exported graph");
        let g = Graph::from_edges(nodes, &src, &dst, None).expect("graph");
        let s = 0u32;
        let t = CpuClock::now();
        let global = pagerank(
            &g,
            &PageRankOptions {
                personalization: Personalization::Node(s),
                ..Default::default()
            },
        )
        .expect("pagerank");
        let power = t.elapsed();
        let t = CpuClock::now();
        let r = forward_push(
            &g,
            &Personalization::Node(s),
            &PushOptions {
                eps,
                ..Default::default()
            },
        )
        .expect("push");
        let push = t.elapsed();
        println!(
            "\n## export: {nodes} nodes, {} distinct edges -> {path}\nsource {s}: ferrovec \
             pagerank (networkx defaults: tol 1e-6) {:.1} ms, {} iterations; forward push \
             eps {eps} {:.2} ms, {} touched; top-5 power {:?}, push {:?}",
            g.n_edges(),
            ms(power),
            global.iterations,
            ms(push),
            r.report.touched,
            global.top_k(5).expect("top"),
            &r.scores[..5.min(r.scores.len())]
        );
    }
}

/// ruvector-solver 2.3.0's forward push on the same graph, source and eps (`make
/// bench-solver`, feature `solver-peers`): its `alpha` is the restart probability, so 0.15
/// here is networkx's and ferrovec's damping 0.85; it ignores edge weights (the generated
/// graphs' repeated edges weigh 2 in ferrovec's graph and in the reference).
#[cfg(feature = "solver-peers")]
mod ruvector {
    use ferrovec_bench::CpuClock;
    use ferrovec_core::sparse::Graph;
    use ruvector_solver::forward_push::ForwardPushSolver;
    use ruvector_solver::types::CsrMatrix;

    /// The out-adjacency (row u: u's out-neighbors) as ruvector's CSR.
    pub fn graph(g: &Graph) -> CsrMatrix<f64> {
        let a = g.adjacency();
        CsrMatrix {
            row_ptr: a.indptr().iter().map(|&p| p as usize).collect(),
            col_indices: a.indices().iter().map(|&c| c as usize).collect(),
            values: a.values().to_vec(),
            rows: a.n_rows(),
            cols: a.n_cols(),
        }
    }

    pub fn push(
        g: &CsrMatrix<f64>,
        s: u32,
        eps: f64,
        reference: &[f64],
        ref_ids: &[u32],
        ours_ms: f64,
    ) {
        let solver = ForwardPushSolver::new(1.0 - 0.85, eps);
        let t = CpuClock::now();
        let r = solver.ppr_from_source(g, s as usize);
        let secs = t.elapsed().as_secs_f64();
        match r {
            Ok(scores) => {
                let ids: Vec<u32> = scores.iter().take(10).map(|x| x.0 as u32).collect();
                let mut p = vec![0.0; reference.len()];
                for &(u, x) in &scores {
                    if let Some(pu) = p.get_mut(u) {
                        *pu = x;
                    }
                }
                // Its error against the exact reference, both signs (a push should only
                // under-estimate).
                let (mut under, mut over) = (0.0f64, 0.0f64);
                for (x, y) in reference.iter().zip(&p) {
                    under = under.max(x - y);
                    over = over.max(y - x);
                }
                println!(
                    "| {s} ruvector-solver | {eps:.0e} | {:.2} ({:.1}x ferrovec's time) | | | {} | | \
                     | | top-10 equal {} | | max under {under:.2e}, max over {over:.2e} | |",
                    secs * 1e3,
                    secs * 1e3 / ours_ms,
                    scores.len(),
                    ids == ref_ids
                );
            }
            Err(e) => {
                println!("| {s} ruvector-solver | {eps:.0e} | error: {e} | | | | | | | | | | |")
            }
        }
    }
}
