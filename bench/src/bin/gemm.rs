//! GEMM (`C = [C +] act(alpha A Bᵀ + bias)`, ferrovec's `gemm_nt_f32`) per kernel table on
//! the shapes of all-MiniLM-L6-v2 (issue 13), single thread, in GFLOP/s and in % of this
//! core's measured FMA peak, against the `gemm` crate (faer's GEMM, 0.19.0, single thread)
//! and `matrixmultiply` (0.3.11) on the same operands in the same run; plus the row-wise
//! kernels (softmax, LayerNorm, GELU) in elements per ns.
//!
//! ```text
//! cargo run --release -p ferrovec-bench --features gemm-peers --bin gemm [-- --quick]
//! ```
//! (`make bench-gemm`). Peak: a loop of independent FMAs per instruction set (12
//! accumulators, no memory operands), timed on this thread's CPU time: the FLOP/s the
//! core's FMA units reach at the clock it runs at now, which is what a GEMM competes with.
//! Each figure is the best of several timed runs of ~60 ms (thread CPU time), so other
//! processes on the machine cost less; ratios within one run are what to compare.

use std::time::Duration;

use ferrovec_bench::clock_kind;
use ferrovec_bench::peak::{best_time, peak_gflops};
use ferrovec_core::kernels::{GemmNt, Isa, Kernels};

/// splitmix64 values in [-1, 1).
struct Rng(u64);

impl Rng {
    fn value(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

// ---------------------------------------------------------------- shapes

struct Shape {
    name: &'static str,
    m: usize,
    n: usize,
    k: usize,
    /// Row strides of A and B (attention heads read 32 columns of a wider matrix).
    lda: usize,
    ldb: usize,
    bias: bool,
    gelu: bool,
}

const fn linear(name: &'static str, m: usize, n: usize, k: usize, gelu: bool) -> Shape {
    Shape {
        name,
        m,
        n,
        k,
        lda: k,
        ldb: k,
        bias: true,
        gelu,
    }
}

const SHAPES: &[Shape] = &[
    linear("qkv/out 16 tok", 16, 384, 384, false),
    linear("ffn-up 16 tok", 16, 1536, 384, true),
    linear("ffn-down 16 tok", 16, 384, 1536, false),
    linear("qkv/out 128 tok", 128, 384, 384, false),
    linear("ffn-up 128 tok (no gelu)", 128, 1536, 384, false),
    linear("ffn-up 128 tok +gelu", 128, 1536, 384, true),
    linear("ffn-down 128 tok", 128, 384, 1536, false),
    linear("qkv/out 1536 tok", 1536, 384, 384, false),
    linear("ffn-up 1536 tok +gelu", 1536, 1536, 384, true),
    linear("ffn-down 1536 tok", 1536, 384, 1536, false),
    Shape {
        name: "scores QK^T 128 (ld 1152)",
        m: 128,
        n: 128,
        k: 32,
        lda: 1152,
        ldb: 1152,
        bias: false,
        gelu: false,
    },
    Shape {
        name: "scores QK^T 256 (ld 1152)",
        m: 256,
        n: 256,
        k: 32,
        lda: 1152,
        ldb: 1152,
        bias: false,
        gelu: false,
    },
    Shape {
        name: "context PV 128",
        m: 128,
        n: 32,
        k: 128,
        lda: 128,
        ldb: 128,
        bias: false,
        gelu: false,
    },
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 20 } else { 60 });
    let runs = if quick { 2 } else { 4 };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "# GEMM C = act(alpha A B^T + bias), single thread, {} (best of {runs} runs)",
        clock_kind()
    );
    println!(
        "# load average at start: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let tables: Vec<&'static Kernels> = {
        // One table per ISA (the AVX-512 sub-variants share the dense kernels).
        let mut seen = Vec::new();
        for k in Kernels::variants() {
            if !seen.iter().any(|s: &&Kernels| s.isa() == k.isa()) {
                seen.push(k);
            }
        }
        seen
    };
    let mut peaks = Vec::new();
    for k in &tables {
        if let Some(p) = peak_gflops(k.isa()) {
            peaks.push((k.isa(), p));
        }
    }
    // AVX2 issues 2 x 8-lane FMAs per cycle on every x86 core this runs on (Zen 3-5, Intel
    // since Haswell): 32 FLOP/cycle, so its loop gives the clock; AVX-512's FLOP/cycle at
    // that clock says whether the core has full-width (64) or double-pumped (32) units.
    let clock = peaks.iter().find(|p| p.0 == Isa::Avx2).map(|p| p.1 / 32.0);
    for &(isa, p) in &peaks {
        match (isa, clock) {
            (Isa::Avx2, Some(ghz)) => {
                println!("# peak avx2: {p:.1} GFLOP/s (FMA loop) = 32 FLOP/cycle at {ghz:.2} GHz")
            }
            (_, Some(ghz)) => println!(
                "# peak {isa}: {p:.1} GFLOP/s (FMA loop) = {:.0} FLOP/cycle at {ghz:.2} GHz",
                p / ghz
            ),
            _ => println!("# peak {isa}: {p:.1} GFLOP/s (FMA loop)"),
        }
    }
    #[cfg_attr(not(feature = "gemm-peers"), allow(unused_variables))]
    let best_peak = peaks.iter().map(|p| p.1).fold(0.0, f64::max);

    print!("{:<28} {:>6} {:>5} {:>5}", "shape", "m", "n", "k");
    for k in &tables {
        print!(" {:>14}", k.isa().name());
    }
    #[cfg(feature = "gemm-peers")]
    print!(" {:>14} {:>14}", "gemm 0.19", "matrixmul 0.3");
    println!("   best ferrovec / gemm");

    let mut rng = Rng(42);
    for s in SHAPES {
        if quick && s.m > 1000 {
            continue;
        }
        let a = rng.vec((s.m - 1) * s.lda + s.k);
        let b = rng.vec((s.n - 1) * s.ldb + s.k);
        let bias = rng.vec(s.n);
        let mut c = vec![0.0f32; s.m * s.n];
        let flops = 2.0 * (s.m * s.n * s.k) as f64;
        let op = GemmNt {
            m: s.m,
            n: s.n,
            k: s.k,
            a: &a,
            lda: s.lda,
            b: &b,
            ldb: s.ldb,
            alpha: 1.0,
            bias: s.bias.then_some(&bias[..]),
            gelu: s.gelu,
            accumulate: false,
        };
        print!("{:<28} {:>6} {:>5} {:>5}", s.name, s.m, s.n, s.k);
        let mut best_ours = 0.0f64;
        for k in &tables {
            let scalar = k.isa() == Isa::Scalar;
            if scalar && flops > 2e9 {
                print!(" {:>14}", "-");
                continue;
            }
            let t = best_time(
                || k.gemm_nt_f32(&op, &mut c, s.n).unwrap(),
                budget,
                if scalar { 1 } else { runs },
            );
            let g = flops / t / 1e9;
            best_ours = best_ours.max(g);
            match peaks.iter().find(|p| p.0 == k.isa()) {
                Some(&(_, p)) => print!(" {:>6.1} ({:>3.0}%)", g, 100.0 * g / p),
                None => print!(" {:>14.2}", g),
            }
        }
        #[cfg(feature = "gemm-peers")]
        {
            // The peers compute alpha A Bᵀ only (no bias / GELU epilogue), a lower bar.
            let t = best_time(
                || {
                    // SAFETY: the pointers and strides describe `a` (m x k, row stride
                    // lda), `b` read as Bᵀ (k x n: row stride 1, column stride ldb) and
                    // `c` (m x n, row stride n), all within their vectors.
                    unsafe {
                        gemm::gemm(
                            s.m,
                            s.n,
                            s.k,
                            c.as_mut_ptr(),
                            1,
                            s.n as isize,
                            false,
                            a.as_ptr(),
                            1,
                            s.lda as isize,
                            b.as_ptr(),
                            s.ldb as isize,
                            1,
                            0.0,
                            1.0,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        )
                    }
                },
                budget,
                runs,
            );
            let g_peer = flops / t / 1e9;
            print!(" {:>6.1} ({:>3.0}%)", g_peer, 100.0 * g_peer / best_peak);
            let t = best_time(
                || {
                    // SAFETY: as above, in matrixmultiply's (rows, cols) stride order.
                    unsafe {
                        matrixmultiply::sgemm(
                            s.m,
                            s.k,
                            s.n,
                            1.0,
                            a.as_ptr(),
                            s.lda as isize,
                            1,
                            b.as_ptr(),
                            1,
                            s.ldb as isize,
                            0.0,
                            c.as_mut_ptr(),
                            s.n as isize,
                            1,
                        )
                    }
                },
                budget,
                runs,
            );
            let g_mm = flops / t / 1e9;
            print!(" {:>6.1} ({:>3.0}%)", g_mm, 100.0 * g_mm / best_peak);
            print!("   {:.2}x", best_ours / g_peer);
        }
        println!();
    }
    println!("# (%) = of the table's own FMA peak; peers' (%) = of the best peak above. gemm/matrixmultiply compute alpha A B^T without bias/GELU.");

    // Row-wise kernels, elements per ns.
    println!(
        "\n{:<28} {:>12}",
        "row-wise (128 x width)", "Gelem/s per table"
    );
    let x0 = rng.vec(128 * 1536);
    let gamma = rng.vec(384);
    let beta = rng.vec(384);
    for (name, width) in [
        ("softmax 128x128", 128usize),
        ("layernorm 128x384", 384),
        ("gelu 128x1536", 1536),
    ] {
        print!("{name:<28}");
        for k in &tables {
            let mut x = x0[..128 * width].to_vec();
            let t = best_time(
                || match name.as_bytes()[0] {
                    b's' => {
                        x.copy_from_slice(&x0[..128 * width]);
                        k.softmax_rows_f32(&mut x, width).unwrap()
                    }
                    b'l' => {
                        x.copy_from_slice(&x0[..128 * width]);
                        k.layer_norm_rows_f32(&mut x, &gamma, &beta, 1e-12).unwrap()
                    }
                    _ => {
                        x.copy_from_slice(&x0[..128 * width]);
                        k.gelu_f32(&mut x)
                    }
                },
                budget,
                runs,
            );
            print!(" {}={:.2}", k.isa().name(), (128 * width) as f64 / t / 1e9);
        }
        println!();
    }
}
