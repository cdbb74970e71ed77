//! ferrovec's vector index against usearch (issue 4), in one run, one thread, same
//! parameters: HNSW with M = 16, ef_construction = 128, cosine, f32.
//!
//! Prints the build rate, recall@10 (ann-benchmarks' definition, distances recomputed by
//! the harness in f64) and queries per second for ef_search 16..512, bytes per vector and
//! exact-search throughput for both, the ratios ferrovec/usearch, and a verdict per target
//! of issue 4 (QPS >= 1.2x at recall@10 >= 0.95, build >= 1.0x, exact >= 1.0x).
//! ferrovec's i8 and b1 storage are measured too, for information.
//!
//!     cargo bench -p ferrovec-bench --features usearch --bench index -- [--data debian|synthetic] [--quick] [--no-quantized] [--reps N]
//!
//! `make bench-index` (real data, prepared by bench/data/prepare.sh) and
//! `make bench-index-synthetic` run it. Timings on a shared machine are noisy: read the
//! ratios (both libraries measured alternately within one run), not absolute numbers.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrovec_bench::{
    clock_kind, data_dir, debian_is_prepared, load_debian, mean_recall, synthetic, BenchError,
    CpuClock, Dataset, DebianFiles, SyntheticSpec,
};
use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, Storage};
use usearch::{Index as UIndex, IndexOptions as UOptions, MetricKind, ScalarKind};

const M: usize = 16;
const EF_CONSTRUCTION: usize = 128;
const EF_SWEEP: [usize; 6] = [16, 32, 64, 128, 256, 512];
const K: usize = 10;
const RECALL_TARGET: f64 = 0.95;
const QPS_TARGET: f64 = 1.2;
const BUILD_TARGET: f64 = 1.0;
const EXACT_TARGET: f64 = 1.0;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    Debian,
    Synthetic,
}

struct Args {
    source: Source,
    quick: bool,
    quantized: bool,
    reps: usize,
}

fn parse_args() -> Result<Args, BenchError> {
    let mut args = Args {
        source: Source::Debian,
        quick: false,
        quantized: true,
        reps: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            // cargo bench passes --bench to every harness = false target.
            "--bench" => {}
            "--quick" => args.quick = true,
            "--no-quantized" => args.quantized = false,
            "--data" => {
                args.source = match it.next().as_deref() {
                    Some("debian") => Source::Debian,
                    Some("synthetic") => Source::Synthetic,
                    other => {
                        return Err(BenchError::new(format!(
                            "--data takes debian or synthetic, not {other:?}"
                        )))
                    }
                }
            }
            "--reps" => {
                args.reps = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| BenchError::new("--reps takes a positive number"))?
            }
            "-h" | "--help" => {
                println!(
                    "usage: index [--data debian|synthetic] [--quick] [--no-quantized] [--reps N]"
                );
                std::process::exit(0);
            }
            other => return Err(BenchError::new(format!("unknown argument {other}"))),
        }
    }
    if args.reps == 0 {
        args.reps = if args.quick { 1 } else { 3 };
    }
    if args.quick {
        args.quantized = false;
    }
    Ok(args)
}

fn load(args: &Args) -> Result<Dataset, BenchError> {
    match args.source {
        Source::Synthetic => {
            let spec = if args.quick {
                SyntheticSpec {
                    n_base: 5_000,
                    n_queries: 200,
                    ..SyntheticSpec::default()
                }
            } else {
                SyntheticSpec::default()
            };
            Ok(synthetic(spec))
        }
        Source::Debian => {
            let files = DebianFiles::in_dir(&data_dir());
            if !debian_is_prepared(&files) {
                return Err(BenchError::new(format!(
                    "the real set is not prepared in {}: run bench/data/prepare.sh (or make bench-index)",
                    data_dir().display()
                )));
            }
            let data = load_debian(&files)?;
            Ok(if args.quick {
                data.truncated(10_000, 200)
            } else {
                data
            })
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

// ---------------------------------------------------------------- the two libraries

fn usearch_options(dims: usize) -> UOptions {
    UOptions {
        dimensions: dims,
        metric: MetricKind::Cos,
        quantization: ScalarKind::F32,
        connectivity: M,
        expansion_add: EF_CONSTRUCTION,
        expansion_search: 64,
        multi: false,
    }
}

fn usearch_error(e: impl std::fmt::Display) -> BenchError {
    BenchError::new(format!("usearch: {e}"))
}

fn build_usearch(data: &Dataset) -> Result<(UIndex, Duration), BenchError> {
    let err = usearch_error;
    let index = UIndex::new(&usearch_options(data.dims)).map_err(err)?;
    // One thread's worth of search contexts: usearch sizes per-thread scratch by this.
    index
        .reserve_capacity_and_threads(data.n_base(), 1)
        .map_err(err)?;
    let start = CpuClock::now();
    for i in 0..data.n_base() {
        index.add(i as u64, data.base_row(i)).map_err(err)?;
    }
    Ok((index, start.elapsed()))
}

fn ferrovec_options(dims: usize, storage: Storage) -> IndexOptions {
    let metric = if storage == Storage::B1 {
        IndexMetric::Hamming
    } else {
        IndexMetric::Cosine
    };
    IndexOptions::new(dims, metric)
        .storage(storage)
        .hnsw(HnswParams {
            m: M,
            ef_construction: EF_CONSTRUCTION,
            ..HnswParams::default()
        })
}

fn build_ferrovec(data: &Dataset, options: IndexOptions) -> Result<(Index, Duration), BenchError> {
    let err = |e: ferrovec_core::Error| BenchError::new(format!("ferrovec: {e}"));
    let mut index = Index::new(options).map_err(err)?;
    index.reserve(data.n_base()).map_err(err)?;
    let start = CpuClock::now();
    for i in 0..data.n_base() {
        index.add(i as u64, data.base_row(i)).map_err(err)?;
    }
    Ok((index, start.elapsed()))
}

/// One pass over `n` queries: (keys per query, elapsed).
fn pass<F>(data: &Dataset, n: usize, mut search: F) -> Result<(Vec<Vec<u64>>, Duration), BenchError>
where
    F: FnMut(&[f32]) -> Result<Vec<u64>, BenchError>,
{
    let mut out = Vec::with_capacity(n);
    let start = CpuClock::now();
    for q in 0..n {
        out.push(search(data.query(q))?);
    }
    let elapsed = start.elapsed();
    black_box(&out);
    Ok((out, elapsed))
}

fn usearch_search(
    index: &UIndex,
    exact: bool,
) -> impl FnMut(&[f32]) -> Result<Vec<u64>, BenchError> + '_ {
    move |q| {
        let m = if exact {
            index.exact_search(q, K)
        } else {
            index.search(q, K)
        };
        m.map(|m| m.keys).map_err(usearch_error)
    }
}

fn ferrovec_search(index: &Index) -> impl FnMut(&[f32]) -> Result<Vec<u64>, BenchError> + '_ {
    move |q| {
        index
            .search(q, K)
            .map(|hits| hits.into_iter().map(|m| m.key).collect())
            .map_err(|e| BenchError::new(format!("ferrovec: {e}")))
    }
}

/// Recall and best-of-`reps` QPS of both searches, passes alternating so machine noise
/// hits both alike.
struct Point {
    recall: f64,
    qps: f64,
}

fn measure_pair<A, B>(
    data: &Dataset,
    n: usize,
    reps: usize,
    mut a: A,
    mut b: B,
) -> Result<(Point, Point), BenchError>
where
    A: FnMut(&[f32]) -> Result<Vec<u64>, BenchError>,
    B: FnMut(&[f32]) -> Result<Vec<u64>, BenchError>,
{
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    let (mut rec_a, mut rec_b) = (0.0, 0.0);
    for rep in 0..reps {
        let (ra, ta) = pass(data, n, &mut a)?;
        let (rb, tb) = pass(data, n, &mut b)?;
        if rep == 0 {
            rec_a = mean_recall(data, &ra, K);
            rec_b = mean_recall(data, &rb, K);
        }
        best_a = best_a.min(ta);
        best_b = best_b.min(tb);
    }
    Ok((
        Point {
            recall: rec_a,
            qps: n as f64 / secs(best_a),
        },
        Point {
            recall: rec_b,
            qps: n as f64 / secs(best_b),
        },
    ))
}

fn measure_one<A>(data: &Dataset, n: usize, reps: usize, mut a: A) -> Result<Point, BenchError>
where
    A: FnMut(&[f32]) -> Result<Vec<u64>, BenchError>,
{
    let mut best = Duration::MAX;
    let mut recall = 0.0;
    for rep in 0..reps {
        let (r, t) = pass(data, n, &mut a)?;
        if rep == 0 {
            recall = mean_recall(data, &r, K);
        }
        best = best.min(t);
    }
    Ok(Point {
        recall,
        qps: n as f64 / secs(best),
    })
}

fn file_bytes_per_vector(index: &Index) -> Result<f64, ferrovec_core::Error> {
    Ok(index.to_bytes()?.len() as f64 / index.len().max(1) as f64)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn run(args: &Args) -> Result<(), BenchError> {
    let t0 = Instant::now();
    let data = load(args)?;
    let (n, nq) = (data.n_base(), data.n_queries());
    let fv_err = |e: ferrovec_core::Error| BenchError::new(format!("ferrovec: {e}"));

    println!("ferrovec index vs usearch {}", usearch::version());
    println!(
        "machine: {}, {} cores; ferrovec kernels: {}; usearch: {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        ferrovec_core::kernels::Kernels::active().variant(),
        usearch::hardware_acceleration_available(),
    );
    println!(
        "data: {} ({n} base x {} dims, {nq} held-out queries, loaded in {:.1} s)",
        data.name,
        data.dims,
        secs(t0.elapsed())
    );
    println!(
        "parameters: HNSW M={M}, ef_construction={EF_CONSTRUCTION}, cosine, f32, k={K}, one thread; \
         QPS = best of {} alternating passes; times are {}",
        args.reps,
        clock_kind()
    );
    println!("recall@{K}: ann-benchmarks k-NN recall (returned distance <= 10th true distance + 1e-3, distances recomputed in f64)\n");

    // ---- build
    let (uidx, ubuild) = build_usearch(&data)?;
    let (mut fidx, fbuild) = build_ferrovec(&data, ferrovec_options(data.dims, Storage::F32))?;
    let urate = n as f64 / secs(ubuild);
    let frate = n as f64 / secs(fbuild);
    if fidx.len() != n || uidx.size() != n {
        return Err(BenchError::new(format!(
            "index sizes differ from the data: ferrovec {}, usearch {}, data {n}",
            fidx.len(),
            uidx.size()
        )));
    }

    // ---- sizes
    let u_mem = uidx.memory_usage() as f64 / n as f64;
    let u_ser = uidx.serialized_length() as f64 / n as f64;
    // to_bytes may not exist yet in a work-in-progress core: report it, measure the rest.
    let f_ser = file_bytes_per_vector(&fidx);

    println!("build ({n} vectors, one add() per vector)");
    println!(
        "  {:<24} {:>12} {:>12} {:>10}",
        "", "usearch", "ferrovec", "f/u"
    );
    println!(
        "  {:<24} {:>12.0} {:>12.0} {:>9.2}x",
        "vectors/s",
        urate,
        frate,
        frate / urate
    );
    println!(
        "  {:<24} {:>12.1} {:>12.1}",
        "build time (s)",
        secs(ubuild),
        secs(fbuild)
    );
    match f_ser {
        Ok(f) => println!(
            "  {:<24} {:>12.0} {:>12.0} {:>9.2}x",
            "bytes/vector (file)",
            u_ser,
            f,
            f / u_ser
        ),
        Err(e) => println!(
            "  {:<24} {:>12.0} {:>12}  (ferrovec to_bytes: {e})",
            "bytes/vector (file)", u_ser, "n/a"
        ),
    }
    let f_mem = fidx.memory_usage() as f64 / n as f64;
    println!(
        "  {:<24} {:>12.0} {:>12.0} {:>9.2}x",
        "bytes/vector (memory)",
        u_mem,
        f_mem,
        f_mem / u_mem
    );
    println!(
        "  (file = usearch serialized_length() / n, ferrovec to_bytes().len() / n; memory = memory_usage() / n of each; raw f32 is {} bytes)\n",
        data.dims * 4
    );

    // ---- recall / QPS sweep
    println!("search: recall@{K} and queries/s over {nq} queries");
    println!(
        "  {:>4} | {:>8} {:>9} | {:>8} {:>9} | {:>7}",
        "ef", "u recall", "u QPS", "f recall", "f QPS", "f/u QPS"
    );
    let mut sweep = Vec::new();
    for ef in EF_SWEEP {
        uidx.change_expansion_search(ef);
        fidx.set_ef_search(ef).map_err(fv_err)?;
        let (u, f) = measure_pair(
            &data,
            nq,
            args.reps,
            usearch_search(&uidx, false),
            ferrovec_search(&fidx),
        )?;
        println!(
            "  {ef:>4} | {:>8.4} {:>9.0} | {:>8.4} {:>9.0} | {:>6.2}x",
            u.recall,
            u.qps,
            f.recall,
            f.qps,
            f.qps / u.qps
        );
        sweep.push((ef, u, f));
    }
    println!();

    // ---- exact search
    let n_exact = nq.min(if args.quick { 50 } else { 300 });
    let mut exact =
        Index::new(IndexOptions::new(data.dims, IndexMetric::Cosine)).map_err(fv_err)?;
    let keys: Vec<u64> = (0..n as u64).collect();
    let t = CpuClock::now();
    exact
        .add_batch(&keys, &data.base, Default::default())
        .map_err(fv_err)?;
    let exact_load = t.elapsed();
    let (ue, fe) = measure_pair(
        &data,
        n_exact,
        args.reps,
        usearch_search(&uidx, true),
        ferrovec_search(&exact),
    )?;
    println!("exact search (brute force over all {n} vectors, {n_exact} queries)");
    println!(
        "  usearch exact_search: {:>8.1} QPS, recall {:.4}",
        ue.qps, ue.recall
    );
    println!(
        "  ferrovec Exact kind:  {:>8.1} QPS, recall {:.4}  ({:.2}x; add_batch of {n} took {:.2} s)",
        fe.qps,
        fe.recall,
        fe.qps / ue.qps,
        secs(exact_load)
    );
    drop(exact);
    println!();

    // ---- quantized storage (information only)
    if args.quantized {
        println!("ferrovec half-precision and quantized storage (information; same HNSW parameters, recall against the f32 truth)");
        for storage in [Storage::F16, Storage::BF16, Storage::I8, Storage::B1] {
            let (q, qbuild) = build_ferrovec(&data, ferrovec_options(data.dims, storage))?;
            let mut q = q;
            let bytes = file_bytes_per_vector(&q).map_or("n/a".into(), |b| format!("{b:.0}"));
            println!(
                "  {storage:?} ({}): build {:.0} vectors/s, {bytes} bytes/vector (file)",
                if storage == Storage::B1 {
                    "hamming on sign bits"
                } else {
                    "cosine"
                },
                n as f64 / secs(qbuild)
            );
            for ef in EF_SWEEP {
                q.set_ef_search(ef).map_err(fv_err)?;
                let p = measure_one(&data, nq, 1, ferrovec_search(&q))?;
                println!("    ef {ef:>4}: recall {:.4}, {:>7.0} QPS", p.recall, p.qps);
            }
        }
        println!();
    }

    // ---- verdict
    println!("verdict (issue 4 targets)");
    let first = |pick: fn(&(usize, Point, Point)) -> &Point| {
        sweep
            .iter()
            .find(|s| pick(s).recall >= RECALL_TARGET)
            .map(|s| (s.0, pick(s).qps, pick(s).recall))
    };
    match (first(|s| &s.1), first(|s| &s.2)) {
        (Some((ue, uq, ur)), Some((fe, fq, fr))) => {
            let ratio = fq / uq;
            println!(
                "  QPS at recall@{K} >= {RECALL_TARGET}: ferrovec {fq:.0} (ef {fe}, recall {fr:.4}) vs usearch {uq:.0} (ef {ue}, recall {ur:.4}) = {ratio:.2}x, target >= {QPS_TARGET}x: {}",
                verdict(ratio >= QPS_TARGET)
            );
        }
        (u, f) => println!(
            "  QPS at recall@{K} >= {RECALL_TARGET}: not comparable, reached by usearch: {}, by ferrovec: {} (ef <= {}): MISS",
            u.map_or("no".to_string(), |x| format!("ef {}", x.0)),
            f.map_or("no".to_string(), |x| format!("ef {}", x.0)),
            EF_SWEEP[EF_SWEEP.len() - 1]
        ),
    }
    let b = frate / urate;
    println!(
        "  build rate: {b:.2}x usearch, target >= {BUILD_TARGET}x: {}",
        verdict(b >= BUILD_TARGET)
    );
    let e = fe.qps / ue.qps;
    println!(
        "  exact search: {e:.2}x usearch, target >= {EXACT_TARGET}x: {}",
        verdict(e >= EXACT_TARGET)
    );
    println!("total time {:.0} s", secs(t0.elapsed()));
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench index: {e}");
            ExitCode::FAILURE
        }
    }
}
