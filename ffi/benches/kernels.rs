//! Kernel benchmark: `cargo bench -p ferrovec --bench kernels`. Not a test: it prints.
//!
//! * f32 kernels (dot, cosine distance, squared L2; L2 normalization for information) at
//!   d = 128, 384, 768, 1536 with both vectors in L1, for every instruction set this machine
//!   runs, against the simsimd crate, a naive loop, and an AVX-512 "load bound" that only
//!   loads the two vectors (the L1 load-bandwidth floor of any kernel that reads them).
//! * i8 and binary kernels against simsimd (information only).
//! * f32-query x f16 / bf16-row dot against the f32 dot of the same table (information only).
//! * The one-to-many scan over rows that do not fit the caches, against the memory read
//!   bandwidth measured over the same buffer in the same run (best of a few read loops).
//!
//! Targets (from the issue): every f32 kernel on AVX-512 at least 1.10x simsimd, on AVX2 at
//! least 3x a naive loop, and the scan at least 90% of the read bandwidth.
//!
//! Timing: each sample repeats one operation for about a millisecond; the candidates of one
//! table are sampled round-robin (rotating the starting point) so drift on a shared machine
//! hits them alike, and the median sample is reported. `--quick` (or `FERROVEC_BENCH_QUICK=1`)
//! takes fewer samples.
//!
//! The scan runs twice: over the issue's 100,000 x 384 rows (153.6 MB) and over twice the
//! last-level cache, since on a large-L3 server the former may still be partly cached.
//! `FERROVEC_BENCH_SCAN_MB` replaces both with one size.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::*;
use ferrovec::capi;
use ferrovec_core::kernels::{Bf16, Isa, Kernels, Metric, F16};
use simsimd::{BinarySimilarity, SpatialSimilarity};

const F32_DIMS: [usize; 4] = [128, 384, 768, 1536];
const BYTE_DIMS: [usize; 2] = [384, 1536];
const F32_ISAS: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];
const METRICS: [Metric; 3] = [Metric::Dot, Metric::Cosine, Metric::L2sq];

/// Dimensions of the scanned rows (a common embedding size).
const SCAN_DIMS: usize = 384;
/// The issue's example of "out of cache": 100,000 rows (153.6 MB, at least 100 MB).
const ISSUE_SCAN_BYTES: usize = 100_000 * SCAN_DIMS * 4;

const TARGET_VS_SIMSIMD: f64 = 1.10;
const TARGET_VS_NAIVE: f64 = 3.0;
const TARGET_SCAN_OF_BANDWIDTH: f64 = 0.90;

fn main() {
    let config = Config::from_env_and_args();
    print_header(&config);
    let mut verdicts = Verdicts::default();
    bench_f32(&config, &mut verdicts);
    bench_normalize(&config);
    bench_bytes(&config);
    bench_half(&config);
    for &bytes in &config.scan_bytes {
        bench_scan(&config, bytes, &mut verdicts);
    }
    verdicts.print_summary();
}

// ------------------------------------------------------------------------------ settings

struct Config {
    quick: bool,
    /// Samples per candidate for in-cache kernels.
    samples: usize,
    /// Samples per candidate for the scan (each one a full pass over the rows).
    scan_samples: usize,
    /// Target duration of one sample.
    sample_time: Duration,
    /// Sizes of the scanned rows buffers, one scan table each.
    scan_bytes: Vec<usize>,
}

impl Config {
    fn from_env_and_args() -> Config {
        // `cargo bench` passes `--bench`; anything else but `--quick` is ignored.
        let quick = std::env::args().any(|arg| arg == "--quick")
            || std::env::var("FERROVEC_BENCH_QUICK").is_ok_and(|v| v != "0");
        let scan_bytes = match std::env::var("FERROVEC_BENCH_SCAN_MB")
            .ok()
            .and_then(|mb| mb.trim().parse::<usize>().ok())
        {
            Some(mb) => vec![mb * 1_000_000],
            None => default_scan_bytes(),
        };
        Config {
            quick,
            samples: if quick { 15 } else { 61 },
            scan_samples: if quick { 5 } else { 15 },
            sample_time: Duration::from_millis(1),
            scan_bytes,
        }
    }
}

/// The issue's size, and twice the last-level cache if that is larger (so the rows really
/// stream from memory).
fn default_scan_bytes() -> Vec<usize> {
    let llc = last_level_cache_bytes().unwrap_or(0);
    if 2 * llc > ISSUE_SCAN_BYTES {
        vec![ISSUE_SCAN_BYTES, 2 * llc]
    } else {
        vec![ISSUE_SCAN_BYTES]
    }
}

fn print_header(config: &Config) {
    println!("ferrovec kernel benchmark");
    let llc =
        last_level_cache_bytes().map_or("unknown".to_string(), |b| format!("{} MB", b / 1_000_000));
    println!("cpu: {} (last-level cache {llc})", cpu_model());
    let variants: Vec<&str> = Kernels::variants().map(Kernels::variant).collect();
    println!(
        "ferrovec tables: {} (active: {})",
        variants.join(", "),
        Kernels::active().variant()
    );
    println!(
        "simsimd 6.5.16 backends the CPU offers: {}",
        simsimd_backends()
    );
    if simsimd_is_haswell_only() {
        println!(
            "simsimd runs its AVX2 (haswell) kernels: the f32 verdicts compare ferrovec's avx2"
        );
    }
    println!(
        "timing: median of {} samples of ~{:?} (scan: {} passes), round-robin{}",
        config.samples,
        config.sample_time,
        config.scan_samples,
        if config.quick { ", quick mode" } else { "" }
    );
    println!("noise: interquartile range / median of the samples (worst of a row's candidates)");
    if X86::detect_avx512().is_none() {
        println!("!! this CPU has no AVX-512F: the load-bound and AVX-512 columns are skipped");
    }
}

fn simsimd_backends() -> String {
    use simsimd::capabilities as caps;
    let backends = [
        ("haswell", caps::uses_haswell()),
        ("skylake", caps::uses_skylake()),
        ("ice", caps::uses_ice()),
        ("genoa", caps::uses_genoa()),
        ("sapphire", caps::uses_sapphire()),
        ("turin", caps::uses_turin()),
        ("sierra", caps::uses_sierra()),
        ("neon", caps::uses_neon()),
        ("sve", caps::uses_sve()),
    ];
    let used: Vec<&str> = backends
        .iter()
        .filter(|(_, used)| *used)
        .map(|(name, _)| *name)
        .collect();
    if used.is_empty() {
        "serial".to_string()
    } else {
        used.join(", ")
    }
}

fn random_f32(len: usize, rng: &mut Rng) -> Aligned<f32> {
    Aligned::new(len, || rng.unit_f32())
}

/// The f32 tables this machine runs, from the list the targets talk about.
fn f32_tables() -> Vec<&'static Kernels> {
    F32_ISAS
        .iter()
        .filter_map(|&isa| Kernels::for_isa(isa).ok())
        .collect()
}

// ------------------------------------------------------------------------------ naive loops

// The loops a first implementation would write: one serial f32 sum each.

#[inline(never)]
fn naive_dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()
}

#[inline(never)]
fn naive_l2sq(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>()
}

#[inline(never)]
fn naive_cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    1.0 - ab / (aa * bb).sqrt()
}

#[inline(never)]
fn naive_normalize(x: &mut [f32]) -> f32 {
    let norm = x.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        x.iter_mut().for_each(|v| *v /= norm);
    }
    norm
}

// ------------------------------------------------------------------------------ f32 kernels

/// One f32 pair kernel as ferrovec, simsimd and a naive loop compute it.
struct F32Kernel<FV, SS, NV> {
    name: &'static str,
    ferrovec: FV,
    /// The same kernel through the C ABI (`fv_*`, the active table): what C, C++ and the
    /// language bindings' callers pay per call.
    c_abi: unsafe extern "C" fn(*const f32, *const f32, usize) -> f32,
    simsimd: SS,
    naive: NV,
    /// Largest acceptable difference between implementations, given `d` (inputs in [-1, 1]).
    tolerance: fn(usize) -> f64,
}

fn bench_f32(config: &Config, verdicts: &mut Verdicts) {
    bench_f32_kernel(
        config,
        verdicts,
        F32Kernel {
            name: "dot",
            ferrovec: |k: &Kernels, a: &[f32], b: &[f32]| k.dot_f32(a, b).unwrap(),
            c_abi: capi::fv_dot_f32,
            simsimd: |a: &[f32], b: &[f32]| <f32 as SpatialSimilarity>::dot(a, b).unwrap(),
            naive: naive_dot,
            tolerance: |d| 1e-4 * d as f64,
        },
    );
    bench_f32_kernel(
        config,
        verdicts,
        F32Kernel {
            name: "cosine",
            ferrovec: |k: &Kernels, a: &[f32], b: &[f32]| k.cosine_distance_f32(a, b).unwrap(),
            c_abi: capi::fv_cosine_distance_f32,
            simsimd: |a: &[f32], b: &[f32]| <f32 as SpatialSimilarity>::cos(a, b).unwrap(),
            naive: naive_cosine,
            tolerance: |_| 1e-3,
        },
    );
    bench_f32_kernel(
        config,
        verdicts,
        F32Kernel {
            name: "l2sq",
            ferrovec: |k: &Kernels, a: &[f32], b: &[f32]| k.l2sq_f32(a, b).unwrap(),
            c_abi: capi::fv_l2sq_f32,
            simsimd: |a: &[f32], b: &[f32]| <f32 as SpatialSimilarity>::l2sq(a, b).unwrap(),
            naive: naive_l2sq,
            tolerance: |d| 1e-4 * d as f64,
        },
    );
}

fn bench_f32_kernel<FV, SS, NV>(
    config: &Config,
    verdicts: &mut Verdicts,
    kernel: F32Kernel<FV, SS, NV>,
) where
    FV: Fn(&Kernels, &[f32], &[f32]) -> f32 + Copy,
    SS: Fn(&[f32], &[f32]) -> f64 + Copy,
    NV: Fn(&[f32], &[f32]) -> f32 + Copy,
{
    let tables = f32_tables();
    let avx512 = X86::detect_avx512();
    let mut rng = Rng(0xf32);
    let mut times = Vec::new();
    for d in F32_DIMS {
        let (a, b) = (random_f32(d, &mut rng), random_f32(d, &mut rng));
        let (a, b) = (a.get(), b.get());
        check_f32_agreement(&kernel, &tables, a, b);

        let mut candidates = Vec::new();
        for &k in &tables {
            let ferrovec = kernel.ferrovec;
            candidates.push(Candidate::new(k.isa().name(), move || {
                ferrovec(k, black_box(a), black_box(b))
            }));
        }
        let c_abi = kernel.c_abi;
        candidates.push(Candidate::new("C ABI", move || {
            let (a, b) = (black_box(a), black_box(b));
            // SAFETY: both slices have `d` readable floats.
            unsafe { c_abi(a.as_ptr(), b.as_ptr(), a.len()) }
        }));
        let simsimd = kernel.simsimd;
        candidates.push(Candidate::new("simsimd", move || {
            simsimd(black_box(a), black_box(b))
        }));
        let naive = kernel.naive;
        candidates.push(Candidate::new("naive", move || {
            naive(black_box(a), black_box(b))
        }));
        if let Some(avx512) = avx512 {
            candidates.push(Candidate::new("load-bound", move || {
                avx512.load_both(black_box(a), black_box(b))
            }));
        }
        times.push((
            d,
            time_round_robin(&mut candidates, config.samples, config.sample_time),
        ));
    }
    print_f32_tables(kernel.name, &tables, &times, verdicts);
}

/// Every implementation must compute the same thing, or the comparison means nothing.
fn check_f32_agreement<FV, SS, NV>(
    kernel: &F32Kernel<FV, SS, NV>,
    tables: &[&Kernels],
    a: &[f32],
    b: &[f32],
) where
    FV: Fn(&Kernels, &[f32], &[f32]) -> f32,
    SS: Fn(&[f32], &[f32]) -> f64,
    NV: Fn(&[f32], &[f32]) -> f32,
{
    let reference = (kernel.simsimd)(a, b);
    let tolerance = (kernel.tolerance)(a.len());
    let mut results: Vec<(String, f64)> = tables
        .iter()
        .map(|k| (k.variant().to_string(), (kernel.ferrovec)(k, a, b) as f64))
        .collect();
    results.push(("naive".to_string(), (kernel.naive)(a, b) as f64));
    // SAFETY: both slices have `a.len()` readable floats.
    let c_abi = unsafe { (kernel.c_abi)(a.as_ptr(), b.as_ptr(), a.len()) };
    results.push(("C ABI".to_string(), c_abi as f64));
    for (name, value) in results {
        assert!(
            (value - reference).abs() <= tolerance,
            "{} d={}: {name} gives {value}, simsimd {reference}",
            kernel.name,
            a.len()
        );
    }
}

fn print_f32_tables(
    name: &str,
    tables: &[&Kernels],
    times: &[(usize, Timings)],
    verdicts: &mut Verdicts,
) {
    println!("\n== f32 {name}: ns per call, vectors in L1 ==");
    let mut columns: Vec<&str> = tables.iter().map(|k| k.isa().name()).collect();
    columns.extend(["C ABI", "simsimd", "naive", "load-bound"]);
    let mut rows = vec![header_row("d", &columns, &["noise"])];
    for (d, t) in times {
        let mut row = vec![d.to_string()];
        row.extend(columns.iter().map(|c| ns_cell(t.ns(c))));
        row.push(format!("{:.0}%", 100.0 * t.worst_spread()));
        rows.push(row);
    }
    print_grid(&rows);

    println!("  ratios (higher is better for ferrovec):");
    // simsimd's AVX2 kernels (its "haswell" backend) are the peer of ferrovec's AVX2 table
    // only when simsimd runs them: on an AVX2-only CPU, or in `make bench-avx2`, which
    // builds simsimd without its AVX-512 backends.
    let haswell = simsimd_is_haswell_only();
    let (peer, peer_target) = if haswell {
        ("avx2", "f32 avx2 >= 1.10x simsimd (haswell)")
    } else {
        ("avx512", "f32 avx512 >= 1.10x simsimd")
    };
    let c_abi_target = if haswell {
        "f32 C ABI (avx2) >= 1.10x simsimd"
    } else {
        "f32 C ABI >= 1.10x simsimd"
    };
    let mut rows = vec![vec![
        "d".to_string(),
        format!("simsimd/{peer}"),
        "(>= 1.10)".to_string(),
        "simsimd/C ABI".to_string(),
        "(>= 1.10)".to_string(),
        "naive/avx2".to_string(),
        "(>= 3.00)".to_string(),
        "load-bound/avx512".to_string(),
        "load-bound/simsimd".to_string(),
    ]];
    for (d, t) in times {
        let what = format!("{name} d={d}");
        let vs_simsimd = ratio(t.ns("simsimd"), t.ns(peer));
        let c_vs_simsimd = ratio(t.ns("simsimd"), t.ns("C ABI"));
        let vs_naive = ratio(t.ns("naive"), t.ns("avx2"));
        rows.push(vec![
            d.to_string(),
            ratio_cell(t.ns("simsimd"), t.ns(peer)),
            verdict_cell(verdicts, peer_target, &what, vs_simsimd, TARGET_VS_SIMSIMD),
            ratio_cell(t.ns("simsimd"), t.ns("C ABI")),
            verdict_cell(
                verdicts,
                c_abi_target,
                &what,
                c_vs_simsimd,
                TARGET_VS_SIMSIMD,
            ),
            ratio_cell(t.ns("naive"), t.ns("avx2")),
            verdict_cell(
                verdicts,
                "f32 avx2 >= 3x naive",
                &what,
                vs_naive,
                TARGET_VS_NAIVE,
            ),
            ratio_cell(t.ns("load-bound"), t.ns("avx512")),
            ratio_cell(t.ns("load-bound"), t.ns("simsimd")),
        ]);
    }
    print_grid(&rows);
}

/// Whether simsimd runs its AVX2 kernels: the CPU has no AVX-512, or simsimd was built
/// without its AVX-512 backends (`make bench-avx2` sets `SIMSIMD_TARGET_SKYLAKE=0` for the
/// build; simsimd's `uses_skylake()` reports the CPU, not what was compiled).
fn simsimd_is_haswell_only() -> bool {
    use simsimd::capabilities as caps;
    let skylake_compiled_out = matches!(option_env!("SIMSIMD_TARGET_SKYLAKE"), Some("0"));
    caps::uses_haswell() && (!caps::uses_skylake() || skylake_compiled_out)
}

/// `PASS` / `MISS` for a measured ratio (recorded for the summary), `-` if not measured.
/// L2 normalization in place (information only: simsimd has no equivalent).
fn bench_normalize(config: &Config) {
    let tables = f32_tables();
    let mut rng = Rng(0x0a11);
    let mut rows = Vec::new();
    let mut columns: Vec<&str> = tables.iter().map(|k| k.isa().name()).collect();
    columns.push("naive");
    for d in F32_DIMS {
        let x = random_f32(d, &mut rng);
        let mut candidates = Vec::new();
        for &k in &tables {
            let mut own = Aligned::new(d, || 0.0f32);
            own.get_mut().copy_from_slice(x.get());
            candidates.push(Candidate::new(k.isa().name(), move || {
                k.l2_normalize_f32(black_box(own.get_mut()))
            }));
        }
        let mut own = Aligned::new(d, || 0.0f32);
        own.get_mut().copy_from_slice(x.get());
        candidates.push(Candidate::new("naive", move || {
            naive_normalize(black_box(own.get_mut()))
        }));
        let t = time_round_robin(&mut candidates, config.samples, config.sample_time);
        let mut row = vec![d.to_string()];
        row.extend(columns.iter().map(|c| ns_cell(t.ns(c))));
        row.push(ratio_cell(t.ns("naive"), t.ns("avx2")));
        row.push(ratio_cell(t.ns("naive"), t.ns("avx512")));
        row.push(format!("{:.0}%", 100.0 * t.worst_spread()));
        rows.push(row);
    }
    println!("\n== f32 l2-normalize in place (information): ns per call, vector in L1 ==");
    rows.insert(
        0,
        header_row("d", &columns, &["naive/avx2", "naive/avx512", "noise"]),
    );
    print_grid(&rows);
}

// ------------------------------------------------------------------------------ f16 and bf16

const HALF_DIMS: [usize; 2] = [384, 1536];

/// The dot of an f32 query with an f16 and a bf16 row (half the bytes of an f32 row), next to
/// the f32 dot on the same table: ns per call, vectors in L1 (information only).
fn bench_half(config: &Config) {
    let tables = f32_tables();
    let mut rng = Rng(0x0f16);
    let columns = ["f32", "f16", "bf16"];
    let mut rows = vec![header_row(
        "table",
        &columns,
        &["f16/f32", "bf16/f32", "noise"],
    )];
    rows[0].insert(1, "d".to_string());
    for d in HALF_DIMS {
        let q = random_f32(d, &mut rng);
        let b = random_f32(d, &mut rng);
        let h = Aligned::new(d, || F16::from_f32(rng.unit_f32()));
        let bf = Aligned::new(d, || Bf16::from_f32(rng.unit_f32()));
        for &k in &tables {
            let mut candidates = vec![
                Candidate::new("f32", || k.dot_f32(black_box(q.get()), black_box(b.get()))),
                Candidate::new("f16", || k.dot_f16(black_box(q.get()), black_box(h.get()))),
                Candidate::new("bf16", || {
                    k.dot_bf16(black_box(q.get()), black_box(bf.get()))
                }),
            ];
            let t = time_round_robin(&mut candidates, config.samples, config.sample_time);
            let mut row = vec![k.variant().to_string(), d.to_string()];
            row.extend(columns.iter().map(|c| ns_cell(t.ns(c))));
            row.push(ratio_cell(t.ns("f16"), t.ns("f32")));
            row.push(ratio_cell(t.ns("bf16"), t.ns("f32")));
            row.push(format!("{:.0}%", 100.0 * t.worst_spread()));
            rows.push(row);
        }
    }
    println!(
        "\n== f32 query x half-precision row dot (information): ns per call, vectors in L1 =="
    );
    print_grid(&rows);
}

// ------------------------------------------------------------------------------ i8 and binary

/// One byte-vector kernel as ferrovec and simsimd compute it (both as f64, for comparison).
struct ByteKernel<T, FV, SS> {
    name: &'static str,
    a: Aligned<T>,
    b: Aligned<T>,
    ferrovec: FV,
    simsimd: SS,
}

/// i8 dot / squared L2 and binary hamming / jaccard, against simsimd (information only).
fn bench_bytes(config: &Config) {
    let tables = byte_tables();
    let mut columns: Vec<&str> = tables.iter().map(|k| k.variant()).collect();
    columns.push("simsimd");
    let mut rows = vec![header_row("kernel", &columns, &["simsimd/best", "noise"])];
    rows[0].insert(1, "bytes".to_string());
    let mut rng = Rng(0xb17e);
    for n in BYTE_DIMS {
        let mut i8s = || Aligned::new(n, || rng.byte() as i8);
        let (a, b) = (i8s(), i8s());
        let dot = ByteKernel {
            name: "i8 dot",
            a,
            b,
            ferrovec: |k: &Kernels, a: &[i8], b: &[i8]| k.dot_i8(a, b).unwrap() as f64,
            simsimd: |a: &[i8], b: &[i8]| <i8 as SpatialSimilarity>::dot(a, b).unwrap(),
        };
        rows.push(bench_byte_kernel(config, &tables, &columns, dot));
        let (a, b) = (i8s(), i8s());
        let l2sq = ByteKernel {
            name: "i8 l2sq",
            a,
            b,
            ferrovec: |k: &Kernels, a: &[i8], b: &[i8]| k.l2sq_i8(a, b).unwrap() as f64,
            simsimd: |a: &[i8], b: &[i8]| <i8 as SpatialSimilarity>::l2sq(a, b).unwrap(),
        };
        rows.push(bench_byte_kernel(config, &tables, &columns, l2sq));
        let mut bits = || Aligned::new(n, || rng.byte());
        let (a, b) = (bits(), bits());
        let hamming = ByteKernel {
            name: "b1 hamming",
            a,
            b,
            ferrovec: |k: &Kernels, a: &[u8], b: &[u8]| k.hamming_b1(a, b).unwrap() as f64,
            simsimd: |a: &[u8], b: &[u8]| <u8 as BinarySimilarity>::hamming(a, b).unwrap(),
        };
        rows.push(bench_byte_kernel(config, &tables, &columns, hamming));
        let (a, b) = (bits(), bits());
        let jaccard = ByteKernel {
            name: "b1 jaccard",
            a,
            b,
            ferrovec: |k: &Kernels, a: &[u8], b: &[u8]| k.jaccard_b1(a, b).unwrap() as f64,
            simsimd: |a: &[u8], b: &[u8]| <u8 as BinarySimilarity>::jaccard(a, b).unwrap(),
        };
        rows.push(bench_byte_kernel(config, &tables, &columns, jaccard));
    }
    println!("\n== i8 and binary kernels (information): ns per call, vectors in L1 ==");
    print_grid(&rows);
}

/// Scalar, AVX2, the plain AVX-512 table and the best one (VNNI / VPOPCNTDQ): together they
/// cover every byte-kernel code path.
fn byte_tables() -> Vec<&'static Kernels> {
    let mut tables: Vec<&'static Kernels> = Vec::new();
    for isa in F32_ISAS {
        let mut variants = Kernels::variants().filter(|k| k.isa() == isa);
        let (first, last) = (variants.next(), variants.last());
        tables.extend(first.into_iter().chain(last));
    }
    tables
}

fn bench_byte_kernel<T, FV, SS>(
    config: &Config,
    tables: &[&'static Kernels],
    columns: &[&str],
    kernel: ByteKernel<T, FV, SS>,
) -> Vec<String>
where
    T: Copy,
    FV: Fn(&Kernels, &[T], &[T]) -> f64 + Copy,
    SS: Fn(&[T], &[T]) -> f64 + Copy,
{
    let (a, b) = (kernel.a.get(), kernel.b.get());
    let expected = (kernel.simsimd)(a, b);
    for k in tables {
        let got = (kernel.ferrovec)(k, a, b);
        assert!(
            (got - expected).abs() <= 1e-6 * expected.abs().max(1.0),
            "{} n={}: {} gives {got}, simsimd {expected}",
            kernel.name,
            a.len(),
            k.variant()
        );
    }
    let mut candidates = Vec::new();
    for &k in tables {
        let ferrovec = kernel.ferrovec;
        candidates.push(Candidate::new(k.variant(), move || {
            ferrovec(k, black_box(a), black_box(b))
        }));
    }
    let simsimd = kernel.simsimd;
    candidates.push(Candidate::new("simsimd", move || {
        simsimd(black_box(a), black_box(b))
    }));
    let t = time_round_robin(&mut candidates, config.samples, config.sample_time);

    let best = tables
        .iter()
        .filter_map(|k| t.ns(k.variant()))
        .fold(f64::INFINITY, f64::min);
    let mut row = vec![kernel.name.to_string(), a.len().to_string()];
    row.extend(columns.iter().map(|c| ns_cell(t.ns(c))));
    row.push(ratio_cell(t.ns("simsimd"), Some(best)));
    row.push(format!("{:.0}%", 100.0 * t.worst_spread()));
    row
}

// ------------------------------------------------------------------------------ scan

/// The one-to-many scan over `scan_bytes` of rows, against the read bandwidth of the same
/// buffer measured in the same run.
fn bench_scan(config: &Config, scan_bytes: usize, verdicts: &mut Verdicts) {
    let row_count = (scan_bytes / (SCAN_DIMS * size_of::<f32>())).max(1);
    let mut rng = Rng(0x5ca9);
    let rows = random_f32(row_count * SCAN_DIMS, &mut rng);
    let query = random_f32(SCAN_DIMS, &mut rng);
    let (rows, query) = (rows.get(), query.get());
    let bytes = size_of_val(rows) as f64;

    let mut candidates = read_bandwidth_candidates(rows);
    let bandwidth_names: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
    for metric in METRICS {
        for &k in &f32_tables() {
            let mut out = vec![0.0f32; row_count];
            candidates.push(Candidate::new(
                scan_name(metric, k.isa().name()),
                move || {
                    k.scan_f32(metric, black_box(query), black_box(rows), &mut out)
                        .unwrap();
                    black_box(&mut out);
                },
            ));
        }
        let mut out = vec![0.0f32; row_count];
        candidates.push(Candidate::new(scan_name(metric, "simsimd"), move || {
            simsimd_scan(metric, black_box(query), black_box(rows), &mut out);
            black_box(&mut out);
        }));
    }
    let t = time_round_robin(&mut candidates, config.scan_samples, config.sample_time);
    print_scan(&t, &bandwidth_names, bytes, row_count, verdicts);
}

fn scan_name(metric: Metric, implementation: &str) -> String {
    let metric = match metric {
        Metric::Dot => "dot",
        Metric::Cosine => "cosine",
        Metric::L2sq => "l2sq",
    };
    format!("scan {metric} {implementation}")
}

/// The scan a simsimd user writes: one call per row.
fn simsimd_scan(metric: Metric, query: &[f32], rows: &[f32], out: &mut [f32]) {
    let distance: fn(&[f32], &[f32]) -> f32 = match metric {
        Metric::Dot => |q, r| -<f32 as SpatialSimilarity>::dot(q, r).unwrap() as f32,
        Metric::Cosine => |q, r| <f32 as SpatialSimilarity>::cos(q, r).unwrap() as f32,
        Metric::L2sq => |q, r| <f32 as SpatialSimilarity>::l2sq(q, r).unwrap() as f32,
    };
    for (row, o) in rows.chunks_exact(query.len()).zip(out) {
        *o = distance(query, row);
    }
}

fn print_scan(
    t: &Timings,
    bandwidth_names: &[String],
    bytes: f64,
    row_count: usize,
    verdicts: &mut Verdicts,
) {
    let gb_per_s = |name: &str| t.ns(name).map(|ns| bytes / ns);
    let best_read = bandwidth_names
        .iter()
        .filter_map(|name| gb_per_s(name))
        .fold(0.0, f64::max);
    println!(
        "\n== scan: {row_count} rows x {SCAN_DIMS} f32 = {:.1} MB, one query; GB/s of rows read ==",
        bytes / 1e6
    );
    let active = Kernels::active().isa().name();
    let mut rows = vec![["", "ms/pass", "GB/s", "of read bw", "", "noise"]
        .map(String::from)
        .to_vec()];
    for (i, name) in t.names.iter().enumerate() {
        let gbs = gb_per_s(name).unwrap_or(0.0);
        let fraction = gbs / best_read;
        let verdict = if name.starts_with("scan ") && name.ends_with(&format!(" {active}")) {
            let what = format!(
                "{name} {:.0} MB ({gbs:.1} vs {best_read:.1} GB/s)",
                bytes / 1e6
            );
            verdicts.check(
                "scan >= 90% of read bandwidth",
                what,
                fraction,
                TARGET_SCAN_OF_BANDWIDTH,
            )
        } else {
            ""
        };
        rows.push(vec![
            name.clone(),
            format!("{:.2}", t.median_ns[i] / 1e6),
            format!("{gbs:.1}"),
            format!("{:.0}%", 100.0 * fraction),
            verdict.to_string(),
            format!("{:.0}%", 100.0 * t.spread[i]),
        ]);
    }
    print_grid(&rows);
    println!("  read bandwidth = best of the 'read' rows: {best_read:.1} GB/s");
}
