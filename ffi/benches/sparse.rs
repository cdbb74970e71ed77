//! Sparse-solver kernel benchmark: `cargo bench -p ferrovec --bench sparse`. Not a test: it
//! prints.
//!
//! * SpMV over CSR (`y = A x`, and CG's fused `y = A x; [x.y, y.y]`) on the matrices,
//!   the 5-point Laplacian of a 1000 x 1000 grid (1M rows, 5M entries) and 1M rows of 5
//!   random columns, for every table this machine runs, in GB/s of the bytes a product must
//!   move (values, column indices, row pointers, `x` and `y`, each once) against the read
//!   bandwidth measured over a buffer of the same size in the same run (the best of several
//!   read loops, software-prefetching ones included: the product prefetches too). A naive
//!   CSR loop (one sequential sum per row, no prefetch: the algorithm of scipy's
//!   `csr_matvec`) runs alongside.
//! * The vector operations on 1M elements (8 MB per vector, the CG vectors of the Poisson
//!   matrix) and 8M (out of cache), against naive loops and the same read bandwidth.
//! * One CG iteration on the Poisson matrix with the fused kernels and with plain ones.
//!
//! Targets (issue 12), on the active (best) table: SpMV on the Poisson matrix at least 90% of
//! the read bandwidth; on the random matrix at least as fast as scipy's `A @ x`. scipy's
//! side is `benches/scipy_spmv.py`, run right after each matrix's own timings when
//! `FERROVEC_BENCH_PYTHON` names a Python with scipy (`make bench-sparse` sets one up in
//! target/); without it the scipy rows are skipped, loudly. (CG against scipy's `cg` comes
//! with the solvers.)
//!
//! Timing as in `kernels.rs` (`common/`): round-robin samples, the median reported, noise
//! as interquartile range over median. `--quick` (or `FERROVEC_BENCH_QUICK=1`) takes fewer
//! samples; `--spmv-only` stops after the two SpMV targets (what `make bench-solver` runs).

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::*;
use ferrovec_core::kernels::{CsrRef, Isa, Kernels};

const TARGET_SPMV_OF_BANDWIDTH: f64 = 0.90;
const TARGET_SPMV_VS_SCIPY: f64 = 1.0;
const GRID: usize = 1000;
const RANDOM_ROWS: usize = 1_000_000;
const RANDOM_PER_ROW: usize = 5;

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick")
        || std::env::var("FERROVEC_BENCH_QUICK").is_ok_and(|v| v != "0");
    let samples = if quick { 5 } else { 15 };
    println!("ferrovec sparse-solver kernel benchmark");
    println!("cpu: {}", cpu_model());
    let names: Vec<&str> = tables().iter().map(|k| k.variant()).collect();
    println!(
        "tables: {} (active: {})",
        names.join(", "),
        Kernels::active().variant()
    );
    println!(
        "timing: median of {samples} passes per candidate, round-robin{}",
        if quick { ", quick mode" } else { "" }
    );
    let mut verdicts = Verdicts::default();
    let mut rng = Rng(0x5ba5e);
    let poisson = Csr::poisson_2d(GRID);
    let random = Csr::random(RANDOM_ROWS, RANDOM_PER_ROW, &mut rng);
    let poisson_target = Target {
        name: "SpMV Poisson >= 90% of read bandwidth",
        of_read_bandwidth: Some(TARGET_SPMV_OF_BANDWIDTH),
        vs_scipy: None,
    };
    bench_spmv(
        ("2D Poisson 1000 x 1000", "poisson"),
        &poisson,
        samples,
        &mut rng,
        (&poisson_target, &mut verdicts),
    );
    let random_target = Target {
        name: "SpMV random >= 1.0x scipy A @ x",
        of_read_bandwidth: None,
        vs_scipy: Some(TARGET_SPMV_VS_SCIPY),
    };
    bench_spmv(
        ("1M rows x 5 random columns", "random"),
        &random,
        samples,
        &mut rng,
        (&random_target, &mut verdicts),
    );
    if !std::env::args().any(|arg| arg == "--spmv-only") {
        for n in [1 << 20, 8 << 20] {
            bench_vectors(n, samples, &mut rng);
        }
        bench_cg(&poisson, samples, &mut rng);
    }
    verdicts.print_summary();
}

/// Scalar, AVX2 and the best AVX-512 table: every f64 code path (the AVX-512 variants share
/// their f64 kernels).
fn tables() -> Vec<&'static Kernels> {
    [Isa::Scalar, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter_map(|isa| Kernels::for_isa(isa).ok())
        .collect()
}

/// An owned CSR matrix.
struct Csr {
    n_cols: usize,
    row_ptr: Vec<u32>,
    col_idx: Vec<u32>,
    values: Vec<f64>,
}

impl Csr {
    /// The 5-point Laplacian on a `g x g` grid.
    fn poisson_2d(g: usize) -> Csr {
        let mut m = Csr {
            n_cols: g * g,
            row_ptr: vec![0],
            col_idx: Vec::with_capacity(5 * g * g),
            values: Vec::with_capacity(5 * g * g),
        };
        for r in 0..g {
            for c in 0..g {
                let i = r * g + c;
                let neighbours = [
                    (r > 0, i.wrapping_sub(g), -1.0),
                    (c > 0, i.wrapping_sub(1), -1.0),
                    (true, i, 4.0),
                    (c + 1 < g, i + 1, -1.0),
                    (r + 1 < g, i + g, -1.0),
                ];
                for (present, j, v) in neighbours {
                    if present {
                        m.col_idx.push(j as u32);
                        m.values.push(v);
                    }
                }
                m.row_ptr.push(m.col_idx.len() as u32);
            }
        }
        m
    }

    /// `n` rows of `per_row` uniformly random columns (sorted within a row), values in
    /// `[-1, 1)`.
    fn random(n: usize, per_row: usize, rng: &mut Rng) -> Csr {
        let mut m = Csr {
            n_cols: n,
            row_ptr: vec![0],
            col_idx: Vec::with_capacity(per_row * n),
            values: Vec::with_capacity(per_row * n),
        };
        for _ in 0..n {
            let mut cols: Vec<u32> = (0..per_row)
                .map(|_| (rng.next_u64() % n as u64) as u32)
                .collect();
            cols.sort_unstable();
            for c in cols {
                m.col_idx.push(c);
                m.values.push(rng.unit_f64());
            }
            m.row_ptr.push(m.col_idx.len() as u32);
        }
        m
    }

    fn n_rows(&self) -> usize {
        self.row_ptr.len() - 1
    }

    fn view(&self) -> CsrRef<'_> {
        CsrRef::new(self.n_cols, &self.row_ptr, &self.col_idx, &self.values)
            .expect("the benchmark's matrices are valid")
    }

    /// Bytes a product moves at the least: every array once, `x` and `y` once.
    fn product_bytes(&self) -> usize {
        12 * self.values.len() + 4 * self.row_ptr.len() + 8 * self.n_cols + 8 * self.n_rows()
    }
}

/// scipy's `csr_matvec`: one sequential sum per row, no prefetch, no unrolling.
#[inline(never)]
fn naive_spmv(a: &Csr, x: &[f64], y: &mut [f64]) {
    for (i, yi) in y.iter_mut().enumerate() {
        let (s, e) = (a.row_ptr[i] as usize, a.row_ptr[i + 1] as usize);
        *yi = a.col_idx[s..e]
            .iter()
            .zip(&a.values[s..e])
            .fold(0.0, |sum, (&c, &v)| sum + v * x[c as usize]);
    }
}

fn f64_buffer(n: usize, rng: &mut Rng) -> Aligned<f64> {
    Aligned::new(n, || rng.unit_f64())
}

/// The read loops over `bytes` of memory (one `f32` buffer), as candidates.
fn read_buffer(bytes: usize) -> Aligned<f32> {
    let mut k = 0u32;
    Aligned::new(bytes / 4, || {
        k = k.wrapping_add(1);
        k as f32
    })
}

fn best_read_gbs(t: &Timings, read_names: &[String], bytes: f64) -> f64 {
    read_names
        .iter()
        .filter_map(|name| t.ns(name))
        .map(|ns| bytes / ns)
        .fold(0.0, f64::max)
}

/// What the active table's product on one matrix is held to.
struct Target {
    name: &'static str,
    of_read_bandwidth: Option<f64>,
    vs_scipy: Option<f64>,
}

/// scipy's `A @ x` on the benchmark matrix `name` (`poisson`, `random`), or its `cg` per
/// iteration: median ms, noise and scipy's version, from `benches/scipy_spmv.py` run by
/// `FERROVEC_BENCH_PYTHON`.
fn scipy_matvec(name: &str, samples: usize) -> Result<(f64, f64, String), String> {
    let python = std::env::var_os("FERROVEC_BENCH_PYTHON")
        .ok_or("FERROVEC_BENCH_PYTHON is not set (make bench-sparse sets it)")?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scipy_spmv.py");
    let output = std::process::Command::new(&python)
        .args([script, name, "--samples", &samples.to_string()])
        .output()
        .map_err(|e| format!("cannot run {python:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let line = String::from_utf8_lossy(&output.stdout);
    match line.split_whitespace().collect::<Vec<_>>()[..] {
        [matrix, ms, spread, version] if matrix == name => Ok((
            ms.parse().map_err(|e| format!("{ms}: {e}"))?,
            spread.parse().map_err(|e| format!("{spread}: {e}"))?,
            version.to_string(),
        )),
        _ => Err(format!("unexpected output of {script}: {line}")),
    }
}

fn bench_spmv(
    (what, name): (&str, &str),
    m: &Csr,
    samples: usize,
    rng: &mut Rng,
    (target, verdicts): (&Target, &mut Verdicts),
) {
    let a = m.view();
    let x = f64_buffer(m.n_cols, rng);
    let x = x.get();
    let bytes = m.product_bytes();

    // Every table must agree to the bit (the documented order), and the naive loop to a
    // few ulps, or the comparison means nothing.
    let mut reference = vec![0.0; m.n_rows()];
    Kernels::for_isa(Isa::Scalar)
        .unwrap()
        .spmv_csr_f64(&a, x, &mut reference)
        .unwrap();
    for k in tables() {
        let mut y = vec![0.0; m.n_rows()];
        k.spmv_csr_f64(&a, x, &mut y).unwrap();
        assert!(y == reference, "{}: not the scalar bits", k.variant());
    }
    let mut y = vec![0.0; m.n_rows()];
    naive_spmv(m, x, &mut y);
    for (got, want) in y.iter().zip(&reference) {
        assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0));
    }

    let buffer = read_buffer(bytes);
    let mut candidates = read_bandwidth_candidates(buffer.get());
    let read_names: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
    for k in tables() {
        let mut y = vec![0.0; m.n_rows()];
        candidates.push(Candidate::new(format!("spmv {}", k.isa()), move || {
            k.spmv_csr_f64(black_box(&a), black_box(x), &mut y).unwrap();
            black_box(&mut y);
        }));
        let mut y = vec![0.0; m.n_rows()];
        candidates.push(Candidate::new(
            format!("spmv+dots {}", k.isa()),
            move || {
                let dots = k.spmv_dots_csr_f64(black_box(&a), black_box(x), x, &mut y);
                black_box(&mut y);
                dots.unwrap()
            },
        ));
    }
    let mut y = vec![0.0; m.n_rows()];
    candidates.push(Candidate::new("spmv naive", move || {
        naive_spmv(black_box(m), black_box(x), &mut y);
        black_box(&mut y);
    }));
    let t = time_round_robin(&mut candidates, samples, Duration::from_millis(1));
    let scipy = scipy_matvec(name, samples);

    let best_read = best_read_gbs(&t, &read_names, bytes as f64);
    println!(
        "\n== SpMV, {what}: {} rows, {} entries, {:.1} MB moved per product ==",
        m.n_rows(),
        m.values.len(),
        bytes as f64 / 1e6
    );
    let active = format!("spmv {}", Kernels::active().isa());
    let scipy_ns = scipy.as_ref().ok().map(|(ms, _, _)| ms * 1e6);
    let mut rows = vec![[
        "",
        "ms",
        "GB/s",
        "of read bw",
        "naive/this",
        "scipy/this",
        "",
        "noise",
    ]
    .map(String::from)
    .to_vec()];
    let mut row = |name: String, ns: f64, spread: f64, verdict: &str| {
        let gbs = bytes as f64 / ns;
        let compare = |other: Option<f64>| match name.starts_with("read") {
            true => String::new(),
            false => ratio_cell(other, Some(ns)),
        };
        rows.push(vec![
            name.clone(),
            format!("{:.2}", ns / 1e6),
            format!("{gbs:.1}"),
            format!("{:.0}%", 100.0 * gbs / best_read),
            compare(t.ns("spmv naive")),
            compare(scipy_ns),
            verdict.to_string(),
            format!("{:.0}%", 100.0 * spread),
        ]);
    };
    for (i, name) in t.names.iter().enumerate() {
        let ns = t.median_ns[i];
        let gbs = bytes as f64 / ns;
        let mut verdict = "";
        if *name == active {
            if let Some(threshold) = target.of_read_bandwidth {
                let what = format!("{name} ({gbs:.1} vs {best_read:.1} GB/s)");
                verdict = verdicts.check(target.name, what, gbs / best_read, threshold);
            }
            if let (Some(threshold), Some(scipy_ns)) = (target.vs_scipy, scipy_ns) {
                let what = format!("{name} ({:.2} vs {:.2} ms)", ns / 1e6, scipy_ns / 1e6);
                verdict = verdicts.check(target.name, what, scipy_ns / ns, threshold);
            }
        }
        row(name.clone(), ns, t.spread[i], verdict);
    }
    match &scipy {
        Ok((ms, spread, version)) => row(format!("scipy {version} A @ x"), ms * 1e6, *spread, ""),
        Err(why) => println!("  !! no scipy row: {why}"),
    }
    print_grid(&rows);
    println!("  read bandwidth = best of the 'read' rows: {best_read:.1} GB/s");
    if scipy.is_ok() {
        println!("  (scipy timed in its own process right after the other rows)");
    }
}

/// One vector operation: its name, bytes moved per element, and how each table and a naive
/// loop run it on `n` elements.
struct VectorOp {
    name: &'static str,
    bytes_per_element: usize,
    table: fn(&Kernels, &mut Vectors) -> f64,
    naive: fn(&mut Vectors) -> f64,
}

/// The operands of the vector benchmarks.
struct Vectors {
    x: Aligned<f64>,
    y: Aligned<f64>,
    w: Aligned<f64>,
    z: Aligned<f64>,
}

fn vector_ops() -> [VectorOp; 5] {
    [
        VectorOp {
            name: "dot",
            bytes_per_element: 16,
            table: |k, v| k.dot_f64(v.x.get(), v.y.get()).unwrap(),
            naive: |v| v.x.get().iter().zip(v.y.get()).map(|(a, b)| a * b).sum(),
        },
        VectorOp {
            name: "axpy",
            bytes_per_element: 24,
            table: |k, v| {
                k.axpy_f64(1e-9, v.x.get(), v.y.get_mut()).unwrap();
                0.0
            },
            naive: |v| {
                for (y, x) in v.y.get_mut().iter_mut().zip(v.x.get()) {
                    *y += 1e-9 * x;
                }
                0.0
            },
        },
        VectorOp {
            name: "axpy_dot",
            bytes_per_element: 24,
            table: |k, v| k.axpy_dot_f64(1e-9, v.x.get(), v.y.get_mut()).unwrap(),
            naive: |v| {
                for (y, x) in v.y.get_mut().iter_mut().zip(v.x.get()) {
                    *y += 1e-9 * x;
                }
                v.y.get().iter().map(|y| y * y).sum()
            },
        },
        VectorOp {
            name: "xpby",
            bytes_per_element: 24,
            table: |k, v| {
                k.xpby_f64(v.x.get(), 0.5, v.y.get_mut()).unwrap();
                0.0
            },
            naive: |v| {
                for (y, x) in v.y.get_mut().iter_mut().zip(v.x.get()) {
                    *y = x + 0.5 * *y;
                }
                0.0
            },
        },
        VectorOp {
            name: "axpy_jacobi_dots",
            bytes_per_element: 40,
            table: |k, v| {
                let Vectors { x, y, w, z } = v;
                let [zy, yy] = k
                    .axpy_jacobi_dots_f64(1e-9, x.get(), y.get_mut(), w.get(), z.get_mut())
                    .unwrap();
                zy + yy
            },
            naive: |v| {
                let Vectors { x, y, w, z } = v;
                for (y, x) in y.get_mut().iter_mut().zip(x.get()) {
                    *y += 1e-9 * x;
                }
                for ((z, d), y) in z.get_mut().iter_mut().zip(w.get()).zip(y.get()) {
                    *z = d * y;
                }
                let zy: f64 = z.get().iter().zip(y.get()).map(|(a, b)| a * b).sum();
                zy + y.get().iter().map(|y| y * y).sum::<f64>()
            },
        },
    ]
}

fn bench_vectors(n: usize, samples: usize, rng: &mut Rng) {
    let buffer = read_buffer(16 * n);
    let mut candidates = read_bandwidth_candidates(buffer.get());
    let read_names: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
    let ops = vector_ops();
    for op in &ops {
        for k in tables() {
            let mut v = Vectors {
                x: f64_buffer(n, rng),
                y: f64_buffer(n, rng),
                w: f64_buffer(n, rng),
                z: f64_buffer(n, rng),
            };
            let run = op.table;
            candidates.push(Candidate::new(
                format!("{} {}", op.name, k.isa()),
                move || run(k, black_box(&mut v)),
            ));
        }
        let mut v = Vectors {
            x: f64_buffer(n, rng),
            y: f64_buffer(n, rng),
            w: f64_buffer(n, rng),
            z: f64_buffer(n, rng),
        };
        let naive = op.naive;
        candidates.push(Candidate::new(format!("{} naive", op.name), move || {
            naive(black_box(&mut v))
        }));
    }
    let t = time_round_robin(&mut candidates, samples, Duration::from_millis(1));
    let best_read = best_read_gbs(&t, &read_names, 16.0 * n as f64);
    println!(
        "\n== vector operations, n = {n} ({} MB per vector); GB/s of the bytes read and written ==",
        8 * n / 1_000_000
    );
    let mut columns: Vec<String> = tables().iter().map(|k| k.isa().to_string()).collect();
    columns.push("naive".into());
    let mut header = vec!["op".to_string()];
    header.extend(columns.iter().cloned());
    header.extend(["best/naive", "best of read bw", "noise"].map(String::from));
    let mut rows = vec![header];
    for op in &ops {
        let bytes = (op.bytes_per_element * n) as f64;
        let gbs = |c: &str| t.ns(&format!("{} {c}", op.name)).map(|ns| bytes / ns);
        let best = tables()
            .iter()
            .filter_map(|k| gbs(k.isa().name()))
            .fold(0.0, f64::max);
        let mut row = vec![op.name.to_string()];
        row.extend(
            columns
                .iter()
                .map(|c| format!("{:.1}", gbs(c).unwrap_or(0.0))),
        );
        row.push(ratio_cell(Some(best), gbs("naive")));
        row.push(format!("{:.0}%", 100.0 * best / best_read));
        let noise = t
            .names
            .iter()
            .zip(&t.spread)
            .filter(|(name, _)| name.starts_with(&format!("{} ", op.name)))
            .map(|(_, s)| *s)
            .fold(0.0, f64::max);
        row.push(format!("{:.0}%", 100.0 * noise));
        rows.push(row);
    }
    print_grid(&rows);
    println!(
        "  read bandwidth over {} MB: {best_read:.1} GB/s",
        16 * n / 1_000_000
    );
}

/// The vectors of a CG iteration.
struct Cg {
    x: Vec<f64>,
    r: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
}

impl Cg {
    fn new(n: usize, rng: &mut Rng) -> Cg {
        let mut v = || (0..n).map(|_| rng.unit_f64()).collect::<Vec<f64>>();
        Cg {
            x: v(),
            r: v(),
            p: v(),
            q: v(),
        }
    }
}

/// One CG iteration with the fused kernels: `q = A p` with `p.q`; `x += alpha p`;
/// `r -= alpha q` with `r.r`; `p = r + beta p`. (alpha and beta fixed small, so the
/// vectors stay bounded over the samples.)
fn cg_fused(k: &Kernels, a: &CsrRef<'_>, v: &mut Cg) -> f64 {
    let [pq, _] = k.spmv_dots_csr_f64(a, &v.p, &v.p, &mut v.q).unwrap();
    let alpha = 1e-3;
    k.axpy_f64(alpha, &v.p, &mut v.x).unwrap();
    let rr = k.axpy_dot_f64(-alpha, &v.q, &mut v.r).unwrap();
    k.xpby_f64(&v.r, 0.5, &mut v.p).unwrap();
    pq + rr
}

/// The same iteration with one kernel per BLAS-1 step (two more passes: `p.q`, `r.r`).
fn cg_plain(k: &Kernels, a: &CsrRef<'_>, v: &mut Cg) -> f64 {
    k.spmv_csr_f64(a, &v.p, &mut v.q).unwrap();
    let pq = k.dot_f64(&v.p, &v.q).unwrap();
    let alpha = 1e-3;
    k.axpy_f64(alpha, &v.p, &mut v.x).unwrap();
    k.axpy_f64(-alpha, &v.q, &mut v.r).unwrap();
    let rr = k.dot_f64(&v.r, &v.r).unwrap();
    k.xpby_f64(&v.r, 0.5, &mut v.p).unwrap();
    pq + rr
}

fn bench_cg(m: &Csr, samples: usize, rng: &mut Rng) {
    let a = m.view();
    let a = &a;
    let mut candidates = Vec::new();
    for k in tables() {
        let mut v = Cg::new(m.n_rows(), rng);
        candidates.push(Candidate::new(format!("fused {}", k.isa()), move || {
            cg_fused(k, a, black_box(&mut v))
        }));
        let mut v = Cg::new(m.n_rows(), rng);
        candidates.push(Candidate::new(format!("plain {}", k.isa()), move || {
            cg_plain(k, a, black_box(&mut v))
        }));
    }
    let t = time_round_robin(&mut candidates, samples, Duration::from_millis(1));
    let scipy = scipy_matvec("cg", samples);
    println!(
        "\n== one CG iteration on the Poisson matrix ({} rows): ms ==",
        m.n_rows()
    );
    let scipy_ns = scipy.as_ref().ok().map(|(ms, _, _)| ms * 1e6);
    let mut rows = vec![[
        "table",
        "fused",
        "plain",
        "plain/fused",
        "scipy/fused",
        "noise",
    ]
    .map(String::from)
    .to_vec()];
    for k in tables() {
        let (f, p) = (
            t.ns(&format!("fused {}", k.isa())),
            t.ns(&format!("plain {}", k.isa())),
        );
        rows.push(vec![
            k.isa().to_string(),
            format!("{:.2}", f.unwrap_or(0.0) / 1e6),
            format!("{:.2}", p.unwrap_or(0.0) / 1e6),
            ratio_cell(p, f),
            ratio_cell(scipy_ns, f),
            format!("{:.0}%", 100.0 * t.worst_spread()),
        ]);
    }
    print_grid(&rows);
    match scipy {
        Ok((ms, spread, version)) => println!(
            "  scipy {version} cg: {ms:.2} ms per iteration (noise {:.0}%; information: the \
             solvers' benchmark compares whole solves)",
            100.0 * spread
        ),
        Err(why) => println!("  !! no scipy row: {why}"),
    }
}
