//! Every solver gives the same bits on every kernel table this machine runs: the answer,
//! the iteration count and the report. The solvers run on the f64 kernel family, whose
//! fixed summation order makes that hold (its own test binary: it switches the process-wide
//! table with `kernels::force`).

use ferrovec_core::kernels::{self, Isa};
use ferrovec_core::solver::linear::{self, Preconditioner, SolveOptions};
use ferrovec_core::solver::pagerank::{self, PageRankOptions, Personalization};
use ferrovec_core::sparse::{CsrMatrix, Graph};

/// splitmix64 stream.
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

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A strictly diagonally dominant matrix with rows of 0 to 40 off-diagonal entries (the
/// kernels' short and long row paths), symmetric (so SPD with its positive diagonal) or not.
fn sdd(rng: &mut Rng, n: usize, symmetric: bool) -> CsrMatrix {
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    let mut off = vec![0.0f64; n];
    for i in 0..n {
        let m = if rng.below(10) == 0 { 40 } else { rng.below(8) };
        for _ in 0..m {
            let j = rng.below(n);
            if j == i {
                continue;
            }
            let x = rng.f64();
            r.push(i as u32);
            c.push(j as u32);
            v.push(x);
            off[i] += x.abs();
            if symmetric {
                r.push(j as u32);
                c.push(i as u32);
                v.push(x);
                off[j] += x.abs();
            }
        }
    }
    for (i, o) in off.iter().enumerate() {
        r.push(i as u32);
        c.push(i as u32);
        // Barely dominant: dozens of iterations, so rounding has room to differ.
        v.push(o * 1.05 + 1e-3);
    }
    CsrMatrix::from_triplets(n, n, &r, &c, &v).unwrap()
}

/// Everything a solve returns, as bits.
fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn every_solver_gives_the_same_bits_on_every_kernel_table() {
    let best = kernels::active_isa();
    let isas: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .collect();
    let mut rng = Rng(12);
    let n = 3000;
    let spd = sdd(&mut rng, n, true);
    let general = sdd(&mut rng, n, false);
    let b: Vec<f64> = (0..n).map(|_| rng.f64()).collect();
    let x0: Vec<f64> = (0..n).map(|_| rng.f64()).collect();
    let src: Vec<u32> = (0..6 * n).map(|_| rng.below(n) as u32).collect();
    let dst: Vec<u32> = (0..6 * n).map(|_| rng.below(n) as u32).collect();
    let graph = Graph::from_edges(n, &src, &dst, None).unwrap();

    let run = || {
        let mut out: Vec<(String, Vec<u64>, String)> = Vec::new();
        for pre in [Preconditioner::None, Preconditioner::Jacobi] {
            for x0 in [None, Some(&x0[..])] {
                let mut o = SolveOptions::new().rtol(1e-11).preconditioner(pre);
                if let Some(x0) = x0 {
                    o = o.x0(x0);
                }
                let cg = linear::cg(spd.view(), &b, &o).unwrap();
                assert!(cg.report.converged, "{cg:?}");
                out.push((
                    format!("cg {pre:?} {}", x0.is_some()),
                    bits(&cg.x),
                    format!("{:?}", cg.report),
                ));
                let bi = linear::bicgstab(general.view(), &b, &o).unwrap();
                assert!(bi.report.converged, "{:?}", bi.report);
                out.push((
                    format!("bicgstab {pre:?} {}", x0.is_some()),
                    bits(&bi.x),
                    format!("{:?}", bi.report),
                ));
            }
        }
        let ja = linear::jacobi(general.view(), &b, &SolveOptions::new().rtol(1e-11)).unwrap();
        assert!(ja.report.solve.converged, "{:?}", ja.report);
        assert!(ja.report.solve.iterations > 20, "{:?}", ja.report);
        out.push(("jacobi".into(), bits(&ja.x), format!("{:?}", ja.report)));
        let pr = pagerank::pagerank(
            &graph,
            &PageRankOptions {
                personalization: Personalization::Sparse {
                    nodes: &[0, 7],
                    weights: &[1.0, 2.0],
                },
                tol: 1e-12,
                ..PageRankOptions::default()
            },
        )
        .unwrap();
        out.push((
            "pagerank".into(),
            bits(&pr.scores),
            format!("{} {}", pr.iterations, pr.l1_change),
        ));
        out
    };

    kernels::force(Isa::Scalar).unwrap();
    let reference = run();
    for &isa in &isas {
        kernels::force(isa).unwrap();
        let got = run();
        for ((name, x, report), (_, x_ref, report_ref)) in got.iter().zip(&reference) {
            assert_eq!(report, report_ref, "{isa}: {name}");
            assert!(
                x == x_ref,
                "{isa}: {name}: x differs from the scalar table's"
            );
        }
    }
    kernels::force(best).unwrap();
    eprintln!("same bits on {isas:?}");
}
