//! Generates tests/golden/solver.json (`make golden`; schema in tests/golden/README.md):
//! small matrices and graphs with every solver method's inputs, run on the native engine
//! through the public Rust API. Deterministic (fixed inputs and seeds).

#[path = "solver_cases.rs"]
mod solver_cases;

use std::process::ExitCode;

use ferrovec::Engine;
use serde_json::{json, Value};
use solver_cases::{nums, run_case, TOL};

/// 2D Poisson on a `k x k` grid plus `shift` on the diagonal, as CSR.
fn poisson(k: usize, shift: f64) -> (usize, Vec<u32>, Vec<u32>, Vec<f64>) {
    let n = k * k;
    let (mut indptr, mut indices, mut values) = (vec![0u32], Vec::new(), Vec::new());
    for i in 0..k {
        for j in 0..k {
            let mut row: Vec<(u32, f64)> = vec![((i * k + j) as u32, 4.0 + shift)];
            if i > 0 {
                row.push((((i - 1) * k + j) as u32, -1.0));
            }
            if i + 1 < k {
                row.push((((i + 1) * k + j) as u32, -1.0));
            }
            if j > 0 {
                row.push(((i * k + j - 1) as u32, -1.0));
            }
            if j + 1 < k {
                row.push(((i * k + j + 1) as u32, -1.0));
            }
            row.sort_by_key(|e| e.0);
            for (c, v) in row {
                indices.push(c);
                values.push(v);
            }
            indptr.push(indices.len() as u32);
        }
    }
    (n, indptr, indices, values)
}

/// A strictly diagonally dominant, nonsymmetric matrix with irregular values.
fn dominant(n: usize) -> (usize, Vec<u32>, Vec<u32>, Vec<f64>) {
    let (mut indptr, mut indices, mut values) = (vec![0u32], Vec::new(), Vec::new());
    for i in 0..n {
        let mut row: Vec<(u32, f64)> = Vec::new();
        let mut off = 0.0;
        for (k, j) in [(i + 1) % n, (i + 4) % n, (i * 5 + 3) % n]
            .into_iter()
            .enumerate()
        {
            if j != i && !row.iter().any(|e| e.0 == j as u32) {
                let w = -(0.2 + 0.15 * k as f64 + 0.013 * (i % 7) as f64);
                off += f64::abs(w);
                row.push((j as u32, w));
            }
        }
        row.push((i as u32, off * 1.25 + 0.1 * (i % 3) as f64));
        row.sort_by_key(|e| e.0);
        for (c, v) in row {
            indices.push(c);
            values.push(v);
        }
        indptr.push(indices.len() as u32);
    }
    (n, indptr, indices, values)
}

fn rhs(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((i * 7919) % 13) as f64 / 3.0 - 2.0)
        .collect()
}

fn matrix_case(name: &str, m: (usize, Vec<u32>, Vec<u32>, Vec<f64>), ops: Vec<Value>) -> Value {
    let (n, indptr, indices, values) = m;
    json!({
        "name": name, "kind": "matrix", "n_rows": n, "n_cols": n,
        "indptr": indptr, "indices": indices, "values": nums(&values), "ops": ops,
    })
}

fn local(tol: f64, walks: u64, seed: u64) -> Value {
    json!({ "tol": tol, "walks": walks, "seed": seed })
}

fn cases() -> Vec<Value> {
    let spd = poisson(4, 0.5);
    let b = rhs(spd.0);
    let x: Vec<f64> = (0..spd.0).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let dense_b = json!({ "values": nums(&b) });
    let spd_ops = vec![
        json!({"op": "mul_vec", "x": nums(&x)}),
        json!({"op": "cg", "b": nums(&b), "rtol": 1e-10}),
        json!({"op": "cg", "b": nums(&b), "rtol": 1e-10, "preconditioner": "jacobi"}),
        json!({"op": "cg", "b": nums(&b), "rtol": 1e-12, "max_iterations": 3}),
        json!({"op": "cg", "b": nums(&b), "rtol": 1e-9, "x0": nums(&x)}),
        json!({"op": "bicgstab", "b": nums(&b), "rtol": 1e-10}),
        json!({"op": "jacobi", "b": nums(&b), "rtol": 1e-10}),
        json!({"op": "solve_entry", "b": dense_b, "row": 5, "options": local(1e-9, 0, 0)}),
        json!({"op": "solve_entry", "b": dense_b, "row": 5, "options": local(1e-3, 500, 7)}),
    ];
    let dom = dominant(30);
    let b = rhs(30);
    let sparse_b = json!({ "indices": [2, 11, 29], "values": [1.5, -0.5, 2.0] });
    let dom_ops = vec![
        json!({"op": "bicgstab", "b": nums(&b), "rtol": 1e-11}),
        json!({"op": "jacobi", "b": nums(&b), "rtol": 1e-11}),
        json!({"op": "jacobi", "b": nums(&b), "rtol": 1e-11, "max_iterations": 4}),
        json!({"op": "solve_entry", "b": {"values": nums(&b)}, "row": 11, "options": local(1e-8, 0, 0)}),
        json!({"op": "solve_entry", "b": sparse_b, "row": 0, "options": local(1e-2, 2000, 99)}),
        json!({"op": "solve_functional", "b": sparse_b, "u_indices": [0, 7, 20],
               "u_values": [1.0, -2.0, 0.5], "options": local(1e-3, 1000, 3)}),
    ];

    // A weighted directed graph: dangling nodes, a self-loop, a zero-weight edge, repeats.
    let n = 24u32;
    let (mut src, mut dst, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for v in 0..n {
        if v % 7 == 3 {
            continue;
        }
        for k in 1..=(1 + v % 3) {
            src.push(v);
            dst.push((v * 5 + k * 3) % n);
            w.push(0.5 + f64::from((v + k) % 4));
        }
    }
    src.extend([2, 6, 9, 9]);
    dst.extend([2, 7, 10, 10]);
    w.extend([1.0, 0.0, 0.25, 0.75]);
    let pagerank = |extra: Value| {
        let mut op = json!({"op": "pagerank", "alpha": 0.85, "tol": 1e-12, "max_iter": 200,
                            "personalization": {"kind": "uniform"}});
        for (k, v) in extra.as_object().unwrap() {
            op[k] = v.clone();
        }
        op
    };
    let dense: Vec<f64> = (0..n).map(|i| 1.0 + f64::from(i % 4)).collect();
    let graph_ops = vec![
        pagerank(json!({})),
        pagerank(
            json!({"personalization": {"kind": "sparse", "nodes": [1, 8, 20], "weights": [1.0, 2.0, 0.5]},
                        "dangling": {"kind": "dense", "weights": nums(&dense)}, "alpha": 0.7}),
        ),
        pagerank(json!({"max_iter": 3})),
        json!({"op": "forward_push", "alpha": 0.85, "eps": 1e-7, "source": {"kind": "node", "node": 1}, "top_k": null}),
        json!({"op": "forward_push", "alpha": 0.5, "eps": 1e-5,
               "source": {"kind": "sparse", "nodes": [0, 5], "weights": [1.0, 3.0]}, "top_k": 5}),
        json!({"op": "backward_push", "alpha": 0.85, "r_max": 1e-7, "target": 10, "top_k": null}),
        json!({"op": "backward_push", "alpha": 0.6, "r_max": 1e-4, "target": 3, "top_k": 4}),
        json!({"op": "pair", "alpha": 0.85, "r_max": 1e-3, "walks": 3000, "seed": 42, "source": 1, "target": 10}),
    ];
    // Unweighted: a cycle with a hub and one dangling node.
    let (mut us_, mut vs) = (Vec::new(), Vec::new());
    for v in 0..12u32 {
        us_.push(v);
        vs.push((v + 1) % 12);
        if v != 0 {
            us_.push(0);
            vs.push(v);
        }
    }
    us_.push(5);
    vs.push(12);
    let hub_ops = vec![
        pagerank(json!({})),
        json!({"op": "forward_push", "alpha": 0.85, "eps": 1e-6, "source": {"kind": "node", "node": 0}, "top_k": null}),
        json!({"op": "backward_push", "alpha": 0.85, "r_max": 1e-6, "target": 12, "top_k": null}),
        json!({"op": "pair", "alpha": 0.85, "r_max": 1e-2, "walks": 1000, "seed": 5, "source": 3, "target": 12}),
    ];
    vec![
        matrix_case("matrix/spd/poisson-4x4+0.5", spd, spd_ops),
        matrix_case("matrix/nonsymmetric/dominant-30", dom, dom_ops),
        json!({"name": "graph/weighted/directed-dangling-24", "kind": "graph", "n_nodes": n,
               "src": src, "dst": dst, "weights": nums(&w), "ops": graph_ops}),
        json!({"name": "graph/unweighted/cycle-hub-13", "kind": "graph", "n_nodes": 13,
               "src": us_, "dst": vs, "weights": null, "ops": hub_ops}),
    ]
}

fn main() -> ExitCode {
    let engine = Engine::native();
    let mut out = format!(
        "{{\"format\":\"ferrovec-golden-solver\",\"version\":1,\"tol\":{TOL:e},\"cases\":[\n"
    );
    for (i, mut case) in cases().into_iter().enumerate() {
        let results = match run_case(&engine, &case) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("gen_solver: {}: {e}", case["name"]);
                return ExitCode::FAILURE;
            }
        };
        for (op, expected) in case["ops"].as_array_mut().unwrap().iter_mut().zip(results) {
            op["expected"] = expected;
        }
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str(&serde_json::to_string(&case).unwrap());
    }
    out.push_str("\n]}\n");
    print!("{out}");
    ExitCode::SUCCESS
}
