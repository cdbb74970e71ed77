//! The FMA peak of one core per instruction set, and the timing loop the kernel benchmarks
//! share (`bin/gemm.rs`, `bin/encoder.rs`).

use std::hint::black_box;
use std::time::Duration;

use ferrovec_core::kernels::Isa;

use crate::CpuClock;

/// Best seconds per call of `f` over `runs` timed runs of about `budget` each.
pub fn best_time(mut f: impl FnMut(), budget: Duration, runs: usize) -> f64 {
    f(); // warm caches and the pack buffer's allocation
    let start = CpuClock::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-7);
    let reps = ((budget.as_secs_f64() / once) as usize).clamp(1, 1_000_000);
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = CpuClock::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use std::arch::x86_64::*;

    /// FLOPs of `iters` steps of 12 independent 8-lane FMAs.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn avx2(iters: usize) -> f32 {
        let mut acc = [_mm256_set1_ps(0.0); 12];
        let a = _mm256_set1_ps(0.999_999);
        let b = _mm256_set1_ps(1e-7);
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut s = _mm256_setzero_ps();
        for x in acc {
            s = _mm256_add_ps(s, x);
        }
        _mm256_cvtss_f32(s)
    }

    /// FLOPs of `iters` steps of 12 independent 16-lane FMAs.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn avx512(iters: usize) -> f32 {
        let mut acc = [_mm512_set1_ps(0.0); 12];
        let a = _mm512_set1_ps(0.999_999);
        let b = _mm512_set1_ps(1e-7);
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let mut s = _mm512_setzero_ps();
        for x in acc {
            s = _mm512_add_ps(s, x);
        }
        _mm512_reduce_add_ps(s)
    }
}

/// Measured peak f32 GFLOP/s of one core for an instruction set (None: not measured).
pub fn peak_gflops(isa: Isa) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let iters = 2_000_000usize;
        let (lanes, f): (f64, fn(usize) -> f32) = match isa {
            // SAFETY: only called when the table (and so the CPU feature) is available.
            Isa::Avx2 => (8.0, |n| unsafe { fma::avx2(n) }),
            // SAFETY: as above.
            Isa::Avx512 => (16.0, |n| unsafe { fma::avx512(n) }),
            _ => return None,
        };
        let t = best_time(
            || {
                black_box(f(black_box(iters)));
            },
            Duration::from_millis(60),
            5,
        );
        Some(iters as f64 * 12.0 * lanes * 2.0 / t / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = isa;
        None
    }
}
