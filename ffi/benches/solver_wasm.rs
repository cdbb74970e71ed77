//! The sparse solver natively, in wasmi (the Interpreted backend, both solver modules) and
//! in V8 (Node, through bindings/js), on the same data: one table with each method's time
//! and its ratio to native (`make bench-solver-wasm`; not a test: one run, best of 3).
//!
//! The workloads (bindings/js/bench/solver.mjs builds the same data in JS): CG on the 2D
//! Poisson matrix on a 200 x 200 grid (40,000 rows, rtol 1e-8), Jacobi on Poisson + 1, one
//! local `solve_entry`, forward push on a 100,000-node graph (5 out-edges per node, eps
//! 1e-5), and a BiPPR pair estimate with 10,000 walks. Each backend's `check` (iterations,
//! pushes, walk steps) must equal native's, so the timings compare the same work.
//!
//! Needs `make wasm` (target/wasm/, or FERROVEC_WASM_DIR) and Node (`FERROVEC_BENCH_NODE`,
//! default /usr/bin/node) for the V8 column.

use std::path::PathBuf;
use std::time::Instant;

use ferrovec::backend::InterpretedOptions;
use ferrovec::solver::{Graph, LocalSolveOptions, PairOptions, Personalization, PushOptions, Rhs};
use ferrovec::solver::{SolveOptions, SparseMatrix};
use ferrovec::Engine;

const K: usize = 200;
const GRAPH_NODES: usize = 100_000;

fn poisson(k: usize, shift: f64) -> (usize, Vec<u32>, Vec<u32>, Vec<f64>) {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..k {
        for j in 0..k {
            let id = (i * k + j) as u32;
            let mut put = |col: u32, val: f64| {
                r.push(id);
                c.push(col);
                v.push(val);
            };
            put(id, 4.0 + shift);
            if i > 0 {
                put(id - k as u32, -1.0);
            }
            if i + 1 < k {
                put(id + k as u32, -1.0);
            }
            if j > 0 {
                put(id - 1, -1.0);
            }
            if j + 1 < k {
                put(id + 1, -1.0);
            }
        }
    }
    (k * k, r, c, v)
}

fn graph(n: usize) -> (Vec<u32>, Vec<u32>) {
    let (mut s, mut d) = (Vec::new(), Vec::new());
    for u in 0..n {
        if u % 10 == 7 {
            continue;
        }
        for k in 1..=5 {
            s.push(u as u32);
            d.push(((u * 7919 + k * 104_729) % n) as u32);
        }
    }
    (s, d)
}

fn rhs(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 7919) % 13) as f64 / 3.0 - 2.0)
        .collect()
}

type Run = (&'static str, Box<dyn Fn() -> u64>);

fn runs(engine: &Engine) -> Vec<Run> {
    let (n, r, c, v) = poisson(K, 0.0);
    let (_, dr, dc, dv) = poisson(K, 1.0);
    let spd = SparseMatrix::from_triplets(engine, n, n, &r, &c, &v).unwrap();
    let dom = SparseMatrix::from_triplets(engine, n, n, &dr, &dc, &dv).unwrap();
    let (s, d) = graph(GRAPH_NODES);
    let g = Graph::from_edges(engine, GRAPH_NODES, &s, &d, None).unwrap();
    let b = rhs(n);
    let (b1, b2, b3) = (b.clone(), b.clone(), b);
    let (spd, dom2, g2) = (spd, dom.clone(), g.clone());
    vec![
        (
            "cg poisson 200x200 rtol 1e-8",
            Box::new(move || {
                spd.cg(&b1, &SolveOptions::new().rtol(1e-8))
                    .unwrap()
                    .report
                    .iterations as u64
            }),
        ),
        (
            "jacobi poisson+1 200x200 rtol 1e-8",
            Box::new(move || {
                dom.jacobi(&b2, &SolveOptions::new().rtol(1e-8))
                    .unwrap()
                    .report
                    .solve
                    .iterations as u64
            }),
        ),
        (
            "solve_entry poisson+1 tol 1e-8",
            Box::new(move || {
                let o = LocalSolveOptions {
                    tol: 1e-8,
                    ..Default::default()
                };
                dom2.solve_entry(&Rhs::Dense(&b3), 20_100, &o)
                    .unwrap()
                    .pushes
            }),
        ),
        (
            "forward_push 100k nodes eps 1e-5",
            Box::new(move || {
                let o = PushOptions {
                    eps: 1e-5,
                    ..Default::default()
                };
                g.forward_push(&Personalization::Node(3), &o)
                    .unwrap()
                    .report
                    .pushes
            }),
        ),
        (
            "pair 100k nodes 10k walks",
            Box::new(move || {
                let o = PairOptions {
                    r_max: 1e-4,
                    walks: 10_000,
                    seed: 1,
                    ..Default::default()
                };
                g2.pair(3, 12_345, &o).unwrap().walk_steps
            }),
        ),
    ]
}

/// Best of 3 (after one warm-up), in ms, and the run's check value.
fn time(f: &dyn Fn() -> u64) -> (f64, u64) {
    let check = f();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(f(), check);
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    (best, check)
}

fn main() {
    let dir = std::env::var_os("FERROVEC_WASM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm"));
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e} (run `make wasm`)", dir.join(name).display()))
    };
    let mut columns: Vec<(String, Vec<(f64, u64)>)> = Vec::new();
    let native = Engine::native();
    println!("native backend: {}", native.backend().describe());
    columns.push((
        "native".to_string(),
        runs(&native).iter().map(|(_, f)| time(f)).collect(),
    ));
    for (name, kernels, solver) in [
        (
            "wasmi simd",
            "ferrovec-simd.wasm",
            "ferrovec-solver-simd.wasm",
        ),
        ("wasmi scalar", "ferrovec.wasm", "ferrovec-solver.wasm"),
    ] {
        let engine = Engine::interpreted(
            &InterpretedOptions::new()
                .module(read(kernels))
                .solver_module(read(solver)),
        )
        .unwrap();
        columns.push((
            name.to_string(),
            runs(&engine).iter().map(|(_, f)| time(f)).collect(),
        ));
    }
    let node = std::env::var("FERROVEC_BENCH_NODE").unwrap_or_else(|_| "/usr/bin/node".into());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bindings/js/bench/solver.mjs");
    match std::process::Command::new(&node)
        .arg(&script)
        .arg(&dir)
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            for module in ["simd", "scalar"] {
                let mut col = Vec::new();
                for line in text.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
                    if v["module"] == module {
                        col.push((v["ms"].as_f64().unwrap(), v["check"].as_u64().unwrap()));
                    }
                }
                columns.push((format!("V8 {module}"), col));
            }
        }
        other => eprintln!("SKIPPING V8: {node} {}: {other:?}", script.display()),
    }
    let names: Vec<&str> = runs(&native).iter().map(|(n, _)| *n).collect();
    println!("sparse solver: time (ms, best of 3) and ratio to native, same data and checks");
    print!("{:<38}", "workload");
    for (name, _) in &columns {
        print!(" | {name:>22}");
    }
    println!();
    for (i, name) in names.iter().enumerate() {
        print!("{name:<38}");
        let (base, check) = columns[0].1[i];
        for (col_name, col) in &columns {
            let (ms, c) = col[i];
            assert_eq!(
                c, check,
                "{name}: {col_name} did different work ({c} vs {check})"
            );
            print!(" | {:>10.2} ({:>7.1}x)", ms, ms / base);
        }
        println!("   [check {check}]");
    }
}
