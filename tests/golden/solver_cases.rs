//! The golden solver cases (tests/golden/solver.json, schema in tests/golden/README.md):
//! their inputs, how to run one on an engine, and the comparison rule. Shared by the
//! generator (`gen_solver.rs`, `make golden`) and the test that runs the file on every
//! backend (`ffi/tests/golden_solver.rs`).

#![allow(dead_code)] // each user needs a different part

use ferrovec::solver::{
    BackwardPushOptions, Graph, LocalSolveOptions, PageRankOptions, PairOptions, Personalization,
    Preconditioner, PushOptions, PushResult, Rhs, SolveOptions, SolveReport, SparseMatrix, Stop,
};
use ferrovec::{Engine, Result};
use serde_json::{json, Map, Value};

/// Relative tolerance of every floating-point field (per array: relative to the array's
/// largest magnitude).
pub const TOL: f64 = 1e-12;

/// Fields that measure an error (residuals, bounds): near convergence they are rounding
/// noise (a relative residual of 2e-16), so they are compared within [`TOL`] absolute as
/// well as relative.
pub const ERROR_FIELDS: [&str; 7] = [
    "relative_residual",
    "residual_mass",
    "residual_l1",
    "eps_reached",
    "error_bound",
    "push_bound",
    "l1_change",
];

/// A JSON number for an f64 (shortest round-trip decimal), or "NaN" / "Infinity" /
/// "-Infinity".
pub fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("NaN")
    } else if x > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

pub fn nums(xs: &[f64]) -> Value {
    Value::Array(xs.iter().map(|&x| num(x)).collect())
}

/// "NaN", "Infinity" or "-Infinity".
fn special(v: &Value) -> bool {
    matches!(v.as_str(), Some("NaN" | "Infinity" | "-Infinity"))
}

fn f(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn fs(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

fn us(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("u32") as u32)
        .collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn stop_name(s: Stop) -> &'static str {
    match s {
        Stop::Converged => "converged",
        Stop::MaxIterations => "max_iterations",
        Stop::MaxWork => "max_work",
        Stop::Breakdown => "breakdown",
        _ => "other",
    }
}

fn report(r: &SolveReport) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("iterations".into(), json!(r.iterations));
    m.insert("relative_residual".into(), num(r.relative_residual));
    m.insert("converged".into(), json!(r.converged));
    m.insert("stop".into(), json!(stop_name(r.stop)));
    m
}

fn pers<'a>(v: &'a Value, buf: &'a (Vec<u32>, Vec<f64>)) -> Personalization<'a> {
    match v["kind"].as_str().expect("kind") {
        "uniform" => Personalization::Uniform,
        "node" => Personalization::Node(u(&v["node"]) as u32),
        "dense" => Personalization::Dense(&buf.1),
        "sparse" => Personalization::Sparse {
            nodes: &buf.0,
            weights: &buf.1,
        },
        k => panic!("unknown personalization {k}"),
    }
}

fn pers_buf(v: &Value) -> (Vec<u32>, Vec<f64>) {
    (
        v.get("nodes").map(us).unwrap_or_default(),
        v.get("weights").map(fs).unwrap_or_default(),
    )
}

fn push(r: &PushResult) -> Value {
    json!({
        "nodes": r.scores.iter().map(|s| s.0).collect::<Vec<_>>(),
        "scores": nums(&r.scores.iter().map(|s| s.1).collect::<Vec<_>>()),
        "error_bound": num(r.report.error_bound),
        "residual_mass": num(r.report.residual_mass),
        "eps_reached": num(r.report.eps_reached),
        "pushes": r.report.pushes,
        "work": r.report.work,
        "touched": r.report.touched,
        "converged": r.report.converged,
        "stop": stop_name(r.report.stop),
    })
}

fn opt_usize(v: &Value) -> Option<usize> {
    v.as_u64().map(|x| x as usize)
}

/// Runs one op of a matrix case.
pub fn run_matrix_op(m: &SparseMatrix, op: &Value) -> Result<Value> {
    let name = op["op"].as_str().expect("op");
    if name == "mul_vec" {
        return Ok(json!({ "y": nums(&m.mul_vec(&fs(&op["x"]))?) }));
    }
    if matches!(name, "solve_entry" | "solve_functional") {
        let b = &op["b"];
        let (bi, bv) = (
            b.get("indices").map(us).unwrap_or_default(),
            fs(&b["values"]),
        );
        let rhs = if b.get("indices").is_some() {
            Rhs::Sparse {
                indices: &bi,
                values: &bv,
            }
        } else {
            Rhs::Dense(&bv)
        };
        let o = &op["options"];
        let opts = LocalSolveOptions {
            tol: f(&o["tol"]),
            walks: u(&o["walks"]),
            seed: u(&o["seed"]),
            ..Default::default()
        };
        let r = if name == "solve_entry" {
            m.solve_entry(&rhs, u(&op["row"]) as usize, &opts)?
        } else {
            m.solve_functional(&rhs, &us(&op["u_indices"]), &fs(&op["u_values"]), &opts)?
        };
        return Ok(json!({
            "estimate": num(r.estimate),
            "error_bound": num(r.error_bound),
            "push_estimate": num(r.push_estimate),
            "push_bound": num(r.push_bound),
            "residual_l1": num(r.residual_l1),
            "q": num(r.q),
            "c_max": num(r.c_max),
            "pushes": r.pushes,
            "walks": r.walks,
            "walk_steps": r.walk_steps,
            "work": r.work,
            "rows_read": r.rows_read,
            "touched": r.touched,
            "converged": r.converged,
            "stop": stop_name(r.stop),
        }));
    }
    let b = fs(&op["b"]);
    let x0 = op.get("x0").filter(|v| !v.is_null()).map(fs);
    let mut opts = SolveOptions::new().rtol(f(&op["rtol"]));
    if let Some(n) = op.get("max_iterations").and_then(opt_usize) {
        opts = opts.max_iterations(n);
    }
    if op.get("preconditioner").and_then(Value::as_str) == Some("jacobi") {
        opts = opts.preconditioner(Preconditioner::Jacobi);
    }
    if let Some(x0) = &x0 {
        opts = opts.x0(x0);
    }
    Ok(match name {
        "cg" | "bicgstab" => {
            let s = if name == "cg" {
                m.cg(&b, &opts)?
            } else {
                m.bicgstab(&b, &opts)?
            };
            let mut out = report(&s.report);
            out.insert("x".into(), nums(&s.x));
            Value::Object(out)
        }
        "jacobi" => {
            let s = m.jacobi(&b, &opts)?;
            let mut out = report(&s.report.solve);
            out.insert("x".into(), nums(&s.x));
            out.insert("contraction".into(), num(s.report.contraction));
            out.insert("error_bound".into(), num(s.report.error_bound));
            Value::Object(out)
        }
        other => panic!("unknown matrix op {other}"),
    })
}

/// Runs one op of a graph case.
pub fn run_graph_op(g: &Graph, op: &Value) -> Result<Value> {
    let name = op["op"].as_str().expect("op");
    let alpha = f(&op["alpha"]);
    Ok(match name {
        "pagerank" => {
            let pb = pers_buf(&op["personalization"]);
            let nulls = Value::Null;
            let dv = op.get("dangling").unwrap_or(&nulls);
            let db = pers_buf(dv);
            let opts = PageRankOptions {
                alpha,
                personalization: pers(&op["personalization"], &pb),
                dangling: (!dv.is_null()).then(|| pers(dv, &db)),
                tol: f(&op["tol"]),
                max_iter: u(&op["max_iter"]) as usize,
                ..Default::default()
            };
            let r = g.pagerank(&opts)?;
            json!({
                "scores": nums(&r.scores),
                "iterations": r.iterations,
                "error_bound": num(r.error_bound),
                "converged": r.converged,
                "stop": stop_name(r.stop),
            })
        }
        "forward_push" => {
            let sb = pers_buf(&op["source"]);
            let opts = PushOptions {
                alpha,
                eps: f(&op["eps"]),
                top_k: opt_usize(&op["top_k"]),
                ..Default::default()
            };
            push(&g.forward_push(&pers(&op["source"], &sb), &opts)?)
        }
        "backward_push" => {
            let opts = BackwardPushOptions {
                alpha,
                r_max: f(&op["r_max"]),
                top_k: opt_usize(&op["top_k"]),
                ..Default::default()
            };
            push(&g.backward_push(u(&op["target"]) as u32, &opts)?)
        }
        "pair" => {
            let opts = PairOptions {
                alpha,
                r_max: f(&op["r_max"]),
                walks: u(&op["walks"]),
                seed: u(&op["seed"]),
                ..Default::default()
            };
            let r = g.pair(u(&op["source"]) as u32, u(&op["target"]) as u32, &opts)?;
            json!({
                "estimate": num(r.estimate),
                "push_estimate": num(r.push_estimate),
                "push_bound": num(r.push_bound),
                "error_bound": num(r.error_bound),
                "pushes": r.pushes,
                "walks": r.walks,
                "walk_steps": r.walk_steps,
                "work": r.work,
                "touched": r.touched,
                "converged": r.converged,
                "stop": stop_name(r.stop),
            })
        }
        other => panic!("unknown graph op {other}"),
    })
}

/// Builds a case's object on `engine` and runs every op.
pub fn run_case(engine: &Engine, case: &Value) -> Result<Vec<Value>> {
    let ops = case["ops"].as_array().expect("ops");
    match case["kind"].as_str().expect("kind") {
        "matrix" => {
            let m = SparseMatrix::from_csr(
                engine,
                u(&case["n_rows"]) as usize,
                u(&case["n_cols"]) as usize,
                &us(&case["indptr"]),
                &us(&case["indices"]),
                &fs(&case["values"]),
            )?;
            ops.iter().map(|op| run_matrix_op(&m, op)).collect()
        }
        "graph" => {
            let w = case.get("weights").filter(|v| !v.is_null()).map(fs);
            let g = Graph::from_edges(
                engine,
                u(&case["n_nodes"]) as usize,
                &us(&case["src"]),
                &us(&case["dst"]),
                w.as_deref(),
            )?;
            ops.iter().map(|op| run_graph_op(&g, op)).collect()
        }
        k => panic!("unknown case kind {k}"),
    }
}

/// Compares `actual` with `expected` by the file's rule: floating-point fields within
/// [`TOL`] relative (arrays: to their largest magnitude), everything else exactly. Returns
/// the first difference.
pub fn compare(path: &str, actual: &Value, expected: &Value) -> std::result::Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            if a.len() != e.len() {
                return Err(format!("{path}: fields differ"));
            }
            for (k, ev) in e {
                let av = a.get(k).ok_or_else(|| format!("{path}.{k} missing"))?;
                compare(&format!("{path}.{k}"), av, ev)?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!("{path}: length {} != {}", a.len(), e.len()));
            }
            let floats = e.iter().any(|v| v.is_f64() || special(v));
            if floats {
                let (av, ev) = (fs(actual), fs(expected));
                let scale = ev.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for (i, (x, y)) in av.iter().zip(&ev).enumerate() {
                    if !(x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= TOL * scale) {
                        return Err(format!("{path}[{i}]: {x:e} != {y:e} (scale {scale:e})"));
                    }
                }
                Ok(())
            } else {
                (a == e)
                    .then_some(())
                    .ok_or_else(|| format!("{path}: {actual} != {expected}"))
            }
        }
        _ if expected.is_f64() || special(expected) => {
            let (x, y) = (f(actual), f(expected));
            let error_field = ERROR_FIELDS
                .iter()
                .any(|e| path.ends_with(&format!(".{e}")));
            let floor = if error_field { 1.0 } else { 0.0 };
            if x == y
                || (x.is_nan() && y.is_nan())
                || (x - y).abs() <= TOL * x.abs().max(y.abs()).max(floor)
            {
                Ok(())
            } else {
                Err(format!("{path}: {x:e} != {y:e}"))
            }
        }
        _ => (actual == expected)
            .then_some(())
            .ok_or_else(|| format!("{path}: {actual} != {expected}")),
    }
}
