//! The linear solvers of `ferrovec_core::solver::linear` on two million-row systems, one
//! run each (release build, one thread, wall time):
//!
//! * `poisson2d`: the 5-point Laplacian on a 1000 x 1000 grid (1,000,000 rows, 4,996,000
//!   stored entries; scipy's `kron(I, T) + kron(T, I)`), `b = 1`;
//! * `sdd`: a random symmetric strictly diagonally dominant matrix with a positive diagonal
//!   (so SPD): 2,500,000 random off-diagonal pairs in `[-1, 1)` mirrored, diagonal
//!   `sum_j |a_ij| + 1` (1,000,000 rows, about 6,000,000 entries), `b` uniform in `[-1, 1)`.
//!
//! Prints, per method, the time of the solve (its checks included), iterations, the true
//! relative residual and the stop reason; and the time of CG's symmetry check alone.
//!
//! Usage: solver_linear [--rtol 1e-8] [--only poisson2d|sdd] [--dump DIR] [--scipy PYTHON]
//!
//! `--dump DIR` writes each system as raw little-endian arrays (`NAME.indptr.u32`,
//! `NAME.indices.u32`, `NAME.data.f64`, `NAME.b.f64`) for `bench/solver/scipy_linear.py`,
//! which runs scipy's `cg` / `bicgstab` on the same bytes. `--scipy PYTHON` (a Python with
//! scipy; `make bench-solver` passes its venv's) runs that script on the dumped systems (in
//! `target/solver-bench` unless `--dump` says otherwise) in the same run and prints the
//! comparison: iterations side by side and the time ratio, against the targets
//! (CG >= 1.5x scipy's `cg`, iteration counts within 1%).
//!
//! With the `solver-peers` feature (`make bench-solver`), the Jacobi / Neumann solvers of the
//! `sublinear` 0.3.3 and `ruvector-solver` 2.3.0 crates run on the same systems, same
//! right-hand side, same tolerance (scaled to their absolute `||r||` tests), with the **true**
//! relative residual of the `x` each returns computed here (ferrovec's f64 SpMV), next to
//! ferrovec's Jacobi iteration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use ferrovec_core::solver::linear::{self, Preconditioner, SolveOptions};
use ferrovec_core::solver::SolveReport;
use ferrovec_core::sparse::CsrMatrix;

/// splitmix64 stream (the same generator as the tests).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// The 5-point Laplacian on an m x m grid, row by row in CSR (columns ascending).
fn poisson_2d(m: usize) -> CsrMatrix {
    let n = m * m;
    let (mut indptr, mut indices, mut values) = (vec![0u32], Vec::new(), Vec::new());
    for i in 0..m {
        for j in 0..m {
            let k = i * m + j;
            let mut push = |c: usize, v: f64| {
                indices.push(c as u32);
                values.push(v);
            };
            if i > 0 {
                push(k - m, -1.0);
            }
            if j > 0 {
                push(k - 1, -1.0);
            }
            push(k, 4.0);
            if j + 1 < m {
                push(k + 1, -1.0);
            }
            if i + 1 < m {
                push(k + m, -1.0);
            }
            indptr.push(indices.len() as u32);
        }
    }
    CsrMatrix::from_csr(n, n, indptr, indices, values).expect("valid Laplacian")
}

/// The random symmetric strictly diagonally dominant matrix described above.
fn random_sdd(rng: &mut Rng, n: usize, pairs: usize) -> CsrMatrix {
    let (mut r, mut c, mut v) = (
        Vec::with_capacity(2 * pairs + n),
        Vec::with_capacity(2 * pairs + n),
        Vec::with_capacity(2 * pairs + n),
    );
    let mut off = vec![0.0f64; n];
    for _ in 0..pairs {
        let i = (rng.next_u64() % n as u64) as usize;
        let j = (rng.next_u64() % n as u64) as usize;
        if i == j {
            continue;
        }
        let x = rng.f64();
        r.extend([i as u32, j as u32]);
        c.extend([j as u32, i as u32]);
        v.extend([x, x]);
        off[i] += x.abs();
        off[j] += x.abs();
    }
    for (i, o) in off.iter().enumerate() {
        r.push(i as u32);
        c.push(i as u32);
        // Summed duplicates only lower |off|: still strictly dominant.
        v.push(o + 1.0);
    }
    CsrMatrix::from_triplets(n, n, &r, &c, &v).expect("valid triplets")
}

fn dump(dir: &PathBuf, name: &str, a: &CsrMatrix, b: &[f64]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let bytes_u32 = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let bytes_f64 = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(
        dir.join(format!("{name}.indptr.u32")),
        bytes_u32(a.indptr()),
    )?;
    std::fs::write(
        dir.join(format!("{name}.indices.u32")),
        bytes_u32(a.indices()),
    )?;
    std::fs::write(dir.join(format!("{name}.data.f64")), bytes_f64(a.values()))?;
    std::fs::write(dir.join(format!("{name}.b.f64")), bytes_f64(b))?;
    Ok(())
}

/// One solve, for the comparison with scipy.
struct Row {
    system: String,
    method: String,
    secs: f64,
    iterations: usize,
    residual: f64,
}

fn print(name: &str, method: &str, secs: f64, r: &SolveReport) {
    println!(
        "{name:<10} {method:<16} {secs:>9.3} s {:>6} it {:>8.2} ms/it  residual {:.3e}  converged {:<5}  {:?}",
        r.iterations,
        if r.iterations > 0 { 1e3 * secs / r.iterations as f64 } else { 0.0 },
        r.relative_residual,
        r.converged,
        r.stop
    );
}

fn run_system(
    name: &str,
    a: &CsrMatrix,
    b: &[f64],
    rtol: f64,
    jacobi_too: bool,
    rows: &mut Vec<Row>,
) {
    println!(
        "{name}: n = {}, nnz = {}, rtol = {rtol:e}",
        a.n_rows(),
        a.nnz()
    );
    let t = Instant::now();
    let asym = a.first_asymmetry(linear::DEFAULT_SYMMETRY_TOLERANCE);
    println!(
        "{name:<10} {:<16} {:>9.3} s (symmetric: {})",
        "symmetry check",
        t.elapsed().as_secs_f64(),
        matches!(asym, Ok(None))
    );
    let base = SolveOptions::new().rtol(rtol);
    let mut solve = |method: &str, f: &dyn Fn() -> Result<SolveReport, ferrovec_core::Error>| {
        let t = Instant::now();
        match f() {
            Ok(r) => {
                let secs = t.elapsed().as_secs_f64();
                print(name, method, secs, &r);
                rows.push(Row {
                    system: name.into(),
                    method: method.into(),
                    secs,
                    iterations: r.iterations,
                    residual: r.relative_residual,
                });
            }
            Err(e) => println!("{name:<10} {method:<16} error: {e}"),
        }
    };
    solve("cg", &|| linear::cg(a.view(), b, &base).map(|s| s.report));
    let jac = base.preconditioner(Preconditioner::Jacobi);
    solve("cg+jacobi", &|| {
        linear::cg(a.view(), b, &jac).map(|s| s.report)
    });
    solve("bicgstab", &|| {
        linear::bicgstab(a.view(), b, &base).map(|s| s.report)
    });
    if jacobi_too {
        let t = Instant::now();
        match linear::jacobi(a.view(), b, &base) {
            Ok(s) => {
                print(name, "jacobi", t.elapsed().as_secs_f64(), &s.report.solve);
                println!(
                    "{name:<10} {:<16} contraction q = {:.4}, error bound ||x* - x||_inf <= {:.3e}",
                    "jacobi", s.report.contraction, s.report.error_bound
                );
            }
            Err(e) => println!("{name:<10} jacobi           error: {e}"),
        }
    }
    #[cfg(feature = "solver-peers")]
    peers::run(name, a, b, rtol);
}

/// scipy's side: `scipy_linear.py` on the dumped systems, its lines printed and parsed.
fn scipy_rows(python: &str, dir: &std::path::Path, rtol: f64) -> Result<Vec<Row>, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/solver/scipy_linear.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(dir)
        .arg("--rtol")
        .arg(format!("{rtol:e}"))
        .env("OPENBLAS_NUM_THREADS", "1")
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    if !out.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // `<system> <method> <secs> s <it> it <ms> ms/it  residual <r>  info <i>`
    Ok(text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let at = |k: usize| f.get(k).copied();
            if at(3) != Some("s") || at(5) != Some("it") || at(8) != Some("residual") {
                return None;
            }
            Some(Row {
                system: at(0)?.into(),
                method: at(1)?.into(),
                secs: at(2)?.parse().ok()?,
                iterations: at(4)?.parse().ok()?,
                residual: at(9)?.parse().ok()?,
            })
        })
        .collect())
}

/// ferrovec against scipy, method by method, with the targets for CG.
fn compare(ours: &[Row], scipy: &[Row]) {
    println!(
        "\n| system | method | ferrovec it | ferrovec s | true residual | scipy it | scipy s \
         | scipy residual | iterations diff | speed-up | target |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for o in ours {
        let Some(s) = scipy
            .iter()
            .find(|s| s.system == o.system && s.method == o.method)
        else {
            continue;
        };
        let diff = 100.0 * (o.iterations as f64 - s.iterations as f64) / s.iterations as f64;
        let ratio = s.secs / o.secs;
        let target = if o.method == "cg" {
            let ok = ratio >= 1.5 && diff.abs() <= 1.0;
            format!(
                ">= 1.5x, iterations within 1%: {}",
                if ok { "met" } else { "MISSED" }
            )
        } else {
            "-".into()
        };
        println!(
            "| {} | {} | {} | {:.3} | {:.3e} | {} | {:.3} | {:.3e} | {diff:+.1}% | {ratio:.2}x | {target} |",
            o.system, o.method, o.iterations, o.secs, o.residual, s.iterations, s.secs, s.residual
        );
    }
}

fn main() -> ExitCode {
    let (mut rtol, mut only, mut dump_dir) = (1e-8, None::<String>, None::<PathBuf>);
    let mut python = None::<String>;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--rtol", Some(v)) => match v.parse() {
                Ok(v) => rtol = v,
                Err(_) => {
                    eprintln!("--rtol: not a number: {v}");
                    return ExitCode::FAILURE;
                }
            },
            ("--only", Some(v)) => only = Some(v),
            ("--dump", Some(v)) => dump_dir = Some(PathBuf::from(v)),
            ("--scipy", Some(v)) => python = Some(v),
            _ => {
                eprintln!(
                    "usage: solver_linear [--rtol 1e-8] [--only poisson2d|sdd] [--dump DIR] \
                     [--scipy PYTHON]"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    if python.is_some() && dump_dir.is_none() {
        dump_dir = Some(PathBuf::from("target/solver-bench"));
    }
    println!(
        "kernel table: {} (FERROVEC_ISA forces one)",
        ferrovec_core::kernels::Kernels::active().variant()
    );
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let mut rows = Vec::new();
    let mut rng = Rng(2024);
    for name in ["poisson2d", "sdd"] {
        if !wanted(name) {
            continue;
        }
        let t = Instant::now();
        let (a, b) = if name == "poisson2d" {
            (poisson_2d(1000), vec![1.0; 1_000_000])
        } else {
            let a = random_sdd(&mut rng, 1_000_000, 2_500_000);
            (a, (0..1_000_000).map(|_| rng.f64()).collect())
        };
        println!("{name}: built in {:.2} s", t.elapsed().as_secs_f64());
        if let Some(dir) = &dump_dir {
            if let Err(e) = dump(dir, name, &a, &b) {
                eprintln!("--dump {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
        // The Laplacian is not strictly dominant (its interior rows have margin 0): the Jacobi
        // iteration refuses it (a line saying so), the peers get it all the same.
        run_system(name, &a, &b, rtol, true, &mut rows);
    }
    if let (Some(python), Some(dir)) = (&python, &dump_dir) {
        match scipy_rows(python, dir, rtol) {
            Ok(scipy) => compare(&rows, &scipy),
            Err(e) => {
                eprintln!("scipy: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The Jacobi / Neumann solvers of the `sublinear` and `ruvector-solver` crates on the same
/// system, with the true residual of what they return.
#[cfg(feature = "solver-peers")]
mod peers {
    use std::time::Instant;

    use ferrovec_core::sparse::CsrMatrix;

    /// A budget on the peers' iterations, 3x what ferrovec's Jacobi needs on the SDD system
    /// (33); the Laplacian would need millions (its Jacobi contraction is 1 - 5e-6).
    /// ruvector-solver's f32 iteration stalls above the tolerance on the SDD system: 1000
    /// iterations took 122 s there and ended in the same error.
    const MAX_ITERATIONS: usize = 100;

    /// `||b - A x|| / ||b||` in f64, with ferrovec's SpMV.
    fn true_residual(a: &CsrMatrix, b: &[f64], x: &[f64]) -> f64 {
        let mut ax = vec![0.0; b.len()];
        a.mul_vec(x, &mut ax).expect("lengths");
        let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|e| e * e).sum::<f64>().sqrt();
        norm(&mut b.iter().zip(&ax).map(|(b, ax)| b - ax)) / norm(&mut b.iter().copied())
    }

    fn line(
        name: &str,
        method: &str,
        secs: f64,
        claim: &str,
        x: Option<(&CsrMatrix, &[f64], &[f64])>,
    ) {
        let truth = match x {
            Some((a, b, x)) if x.len() == b.len() => format!("{:.3e}", true_residual(a, b, x)),
            Some((_, b, x)) => format!("- (returned {} values for {} unknowns)", x.len(), b.len()),
            None => "-".into(),
        };
        println!("{name:<10} {method:<16} {secs:>9.3} s  true residual {truth:<12} {claim}");
    }

    pub fn run(name: &str, a: &CsrMatrix, b: &[f64], rtol: f64) {
        let n = a.n_rows();
        let b_norm = b.iter().map(|e| e * e).sum::<f64>().sqrt();
        // Both peers test an absolute ||r||: the same relative tolerance, scaled.
        let tol = rtol * b_norm;
        let triplets = || -> Vec<(usize, usize, f64)> {
            a.rows()
                .enumerate()
                .flat_map(|(i, (cols, vals))| {
                    cols.iter()
                        .zip(vals)
                        .map(move |(&c, &v)| (i, c as usize, v))
                })
                .collect()
        };

        // sublinear 0.3.3: NeumannSolver over its SparseMatrix (f64).
        {
            use sublinear_solver::{NeumannSolver, SolverAlgorithm, SolverOptions, SparseMatrix};
            let t = Instant::now();
            let m = SparseMatrix::from_triplets(triplets(), n, n);
            let build = t.elapsed().as_secs_f64();
            match m {
                Err(e) => println!("{name:<10} {:<16} matrix refused: {e}", "sublinear"),
                Ok(m) => {
                    let solver = NeumannSolver::new(MAX_ITERATIONS, rtol).with_power_caching(false);
                    let opts = SolverOptions {
                        tolerance: tol,
                        max_iterations: MAX_ITERATIONS,
                        ..SolverOptions::default()
                    };
                    let t = Instant::now();
                    let r = solver.solve(&m, b, &opts);
                    let secs = t.elapsed().as_secs_f64();
                    match r {
                        Ok(r) => line(
                            name,
                            "sublinear neumann",
                            secs,
                            &format!(
                                "(claims: {} iterations, residual {:.3e} abs, converged {}; \
                                 matrix built in {build:.2} s)",
                                r.iterations, r.residual_norm, r.converged
                            ),
                            Some((a, b, &r.solution)),
                        ),
                        Err(e) => line(
                            name,
                            "sublinear neumann",
                            secs,
                            &format!("error: {e}"),
                            None,
                        ),
                    }
                }
            }
        }

        // ruvector-solver 2.3.0: NeumannSolver through its f64 SolverEngine interface (it
        // converts to f32 inside and returns f32).
        {
            use ruvector_solver::neumann::NeumannSolver;
            use ruvector_solver::traits::SolverEngine;
            use ruvector_solver::types::{ComputeBudget, CsrMatrix as RuCsr};
            let m = RuCsr::<f64> {
                row_ptr: a.indptr().iter().map(|&p| p as usize).collect(),
                col_indices: a.indices().iter().map(|&c| c as usize).collect(),
                values: a.values().to_vec(),
                rows: n,
                cols: n,
            };
            let solver = NeumannSolver::new(tol, MAX_ITERATIONS);
            let budget = ComputeBudget {
                max_time: std::time::Duration::from_secs(600),
                max_iterations: MAX_ITERATIONS,
                tolerance: tol,
            };
            let t = Instant::now();
            let r = SolverEngine::solve(&solver, &m, b, &budget);
            let secs = t.elapsed().as_secs_f64();
            match r {
                Ok(r) => {
                    let x: Vec<f64> = r.solution.iter().map(|&v| v as f64).collect();
                    line(
                        name,
                        "ruvector neumann",
                        secs,
                        &format!(
                            "(claims: {} iterations, residual {:.3e} abs; f32 inside, x returned \
                             as f32)",
                            r.iterations, r.residual_norm
                        ),
                        Some((a, b, &x)),
                    )
                }
                Err(e) => line(name, "ruvector neumann", secs, &format!("error: {e}"), None),
            }
        }
    }
}
