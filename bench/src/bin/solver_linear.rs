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
//! Usage: solver_linear [--rtol 1e-8] [--only poisson2d|sdd] [--dump DIR]
//!
//! `--dump DIR` writes each system as raw little-endian arrays (`NAME.indptr.u32`,
//! `NAME.indices.u32`, `NAME.data.f64`, `NAME.b.f64`) for `bench/solver/scipy_linear.py`,
//! which runs scipy's `cg` / `bicgstab` on the same bytes.

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

fn run_system(name: &str, a: &CsrMatrix, b: &[f64], rtol: f64, jacobi_too: bool) {
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
    let solve = |method: &str, f: &dyn Fn() -> Result<SolveReport, ferrovec_core::Error>| {
        let t = Instant::now();
        match f() {
            Ok(r) => print(name, method, t.elapsed().as_secs_f64(), &r),
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
}

fn main() -> ExitCode {
    let (mut rtol, mut only, mut dump_dir) = (1e-8, None::<String>, None::<PathBuf>);
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
            _ => {
                eprintln!("usage: solver_linear [--rtol 1e-8] [--only poisson2d|sdd] [--dump DIR]");
                return ExitCode::FAILURE;
            }
        }
    }
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
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
        // The Laplacian is not strictly dominant (its interior rows have margin 0).
        run_system(name, &a, &b, rtol, name == "sdd");
    }
    ExitCode::SUCCESS
}
