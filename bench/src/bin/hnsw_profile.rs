//! ferrovec's HNSW alone, for profiling (`perf record -e cpu-clock`) and quick A/B runs
//! without building usearch: builds the index over the real set (or loads a graph saved by
//! an earlier run, to time searches only), then prints recall@10 and queries/s per ef.
//! Times are this thread's CPU time. Comparisons with usearch belong to `benches/index.rs`.
//!
//! `--storage f32,f16,bf16,i8` builds and measures one index per storage in this one run
//! (cosine; recall against the f32 truth), with the index's memory per vector.
//!
//! `--npy PREFIX` measures on `PREFIX-base.npy` and `PREFIX-queries.npy` (f32, one row per
//! vector), e.g. the `mixture` set of bench/peers/index_peers.py; the exact top-100 is computed
//! once and cached as `PREFIX-gt.npy` and `PREFIX-gt-dist.npy`. `--queries N` keeps the first
//! N queries (fixed work for `valgrind --tool=callgrind`). `--seed S` builds with the level
//! generator seeded by S (the graph's variance between seeds).
//!
//! Usage: hnsw_profile [--synthetic | --npy PREFIX] [--save FILE | --load FILE] [--reps N]
//!        [--ef 16,32,..] [--storage f32,f16,..] [--n-base N (with --synthetic)] [--queries N]
//!        [--seed S]

use std::process::ExitCode;

use ferrovec_bench::{
    clock_kind, data_dir, debian_is_prepared, ground_truth, load_debian, mean_recall, npy,
    synthetic, BenchError, CpuClock, Dataset, DebianFiles, SyntheticSpec, GT_K,
};
use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, Storage};

const K: usize = 10;

fn run() -> Result<(), BenchError> {
    let (mut save, mut load, mut reps, mut use_synthetic) = (None, None, 3usize, false);
    let mut efs = vec![16usize, 32, 64, 128];
    let mut storages = vec![Storage::F32];
    let mut spec = SyntheticSpec::default();
    let (mut npy_prefix, mut n_queries, mut seed) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--synthetic" => use_synthetic = true,
            "--n-base" => {
                spec.n_base = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| BenchError::new("--n-base takes a positive number"))?
            }
            "--npy" => npy_prefix = args.next(),
            "--seed" => {
                seed = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| BenchError::new("--seed takes a number"))?,
                )
            }
            "--queries" => {
                n_queries = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|&n: &usize| n > 0)
                        .ok_or_else(|| BenchError::new("--queries takes a positive number"))?,
                )
            }
            "--save" => save = args.next(),
            "--load" => load = args.next(),
            "--reps" => {
                reps = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| BenchError::new("--reps takes a positive number"))?
            }
            "--ef" => {
                efs = args
                    .next()
                    .map(|l| l.split(',').filter_map(|x| x.parse().ok()).collect())
                    .filter(|l: &Vec<usize>| !l.is_empty() && l.iter().all(|&e| e > 0))
                    .ok_or_else(|| BenchError::new("--ef takes a list like 16,32,64"))?
            }
            "--storage" => {
                storages = args
                    .next()
                    .map(|l| {
                        l.split(',')
                            .map(parse_storage)
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .ok_or_else(|| BenchError::new("--storage takes a list like f32,f16"))??
            }
            other => return Err(BenchError::new(format!("unknown argument {other}"))),
        }
    }
    let data = if let Some(prefix) = &npy_prefix {
        load_npy_set(prefix)?
    } else if use_synthetic {
        synthetic(spec)
    } else {
        let files = DebianFiles::in_dir(&data_dir());
        if !debian_is_prepared(&files) {
            return Err(BenchError::new(
                "the real set is not prepared: run bench/data/prepare.sh",
            ));
        }
        load_debian(&files)?
    };
    let data = match n_queries {
        Some(nq) if nq < data.n_queries() => data.truncated(data.n_base(), nq),
        _ => data,
    };
    if load.is_some() && storages.len() > 1 {
        return Err(BenchError::new(
            "--load measures one saved index: no --storage list",
        ));
    }
    for storage in storages {
        if let Some(s) = storage_name(storage) {
            println!("storage {s}");
        }
        measure(
            &data,
            storage,
            load.as_deref(),
            save.as_deref(),
            reps,
            &efs,
            seed,
        )?;
    }
    Ok(())
}

/// `PREFIX-base.npy` and `PREFIX-queries.npy` with their exact top-`GT_K`, read from
/// `PREFIX-gt.npy` / `PREFIX-gt-dist.npy` when they match, else computed and written there.
fn load_npy_set(prefix: &str) -> Result<Dataset, BenchError> {
    let path = |suffix: &str| std::path::PathBuf::from(format!("{prefix}-{suffix}.npy"));
    let base = npy::read(&path("base"))?;
    let queries = npy::read(&path("queries"))?;
    if base.cols != queries.cols {
        return Err(BenchError::new("base and queries differ in dimensions"));
    }
    let (dims, base, queries) = (base.cols, base.to_f32()?, queries.to_f32()?);
    let nq = queries.len() / dims;
    let cached = match (npy::read(&path("gt")), npy::read(&path("gt-dist"))) {
        (Ok(gt), Ok(gd))
            if gt.rows == nq && gd.rows == nq && gt.cols == GT_K && gd.cols == GT_K =>
        {
            Some((gt.to_u32()?, gd.to_f32()?))
        }
        _ => None,
    };
    let (gt, gt_dist) = match cached {
        Some(c) => c,
        None => {
            let (gt, gd) = ground_truth(dims, &base, &queries, GT_K);
            npy::write_u32(&path("gt"), nq, GT_K, &gt)?;
            npy::write_f32(&path("gt-dist"), nq, GT_K, &gd)?;
            (gt, gd)
        }
    };
    if gt.iter().any(|&i| i as usize >= base.len() / dims) {
        return Err(BenchError::new("ground truth index out of range"));
    }
    Ok(Dataset {
        name: prefix.to_string(),
        dims,
        base,
        queries,
        gt,
        gt_dist,
    })
}

fn parse_storage(name: &str) -> Result<Storage, BenchError> {
    Ok(match name {
        "f32" => Storage::F32,
        "f16" => Storage::F16,
        "bf16" => Storage::BF16,
        "i8" => Storage::I8,
        other => return Err(BenchError::new(format!("unknown storage {other}"))),
    })
}

fn storage_name(storage: Storage) -> Option<&'static str> {
    Some(match storage {
        Storage::F32 => "f32",
        Storage::F16 => "f16",
        Storage::BF16 => "bf16",
        Storage::I8 => "i8",
        _ => return None,
    })
}

fn measure(
    data: &Dataset,
    storage: Storage,
    load: Option<&str>,
    save: Option<&str>,
    reps: usize,
    efs: &[usize],
    seed: Option<u64>,
) -> Result<(), BenchError> {
    let fv = |e: ferrovec_core::Error| BenchError::new(format!("ferrovec: {e}"));
    let mut index = match load {
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| BenchError::new(format!("reading {path}: {e}")))?;
            let index = Index::from_bytes(&bytes).map_err(fv)?;
            // Recall is checked against this run's data set: a graph saved from another
            // (say `--synthetic` without the same `--n-base`) would index rows it lacks.
            if index.len() != data.n_base() || index.dims() != data.dims {
                return Err(BenchError::new(format!(
                    "{path} holds {} vectors of {} dims, the data set {} of {} \
                     (pass the --n-base / data set it was saved with)",
                    index.len(),
                    index.dims(),
                    data.n_base(),
                    data.dims
                )));
            }
            index
        }
        None => {
            let options = IndexOptions::new(data.dims, IndexMetric::Cosine)
                .storage(storage)
                .hnsw(HnswParams {
                    m: 16,
                    ef_construction: 128,
                    seed: seed.unwrap_or(HnswParams::default().seed),
                    ..HnswParams::default()
                });
            let mut index = Index::new(options).map_err(fv)?;
            index.reserve(data.n_base()).map_err(fv)?;
            let t = CpuClock::now();
            for i in 0..data.n_base() {
                index.add(i as u64, data.base_row(i)).map_err(fv)?;
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "build: {} vectors in {s:.2} s = {:.0} vectors/s ({})",
                data.n_base(),
                data.n_base() as f64 / s,
                clock_kind()
            );
            index
        }
    };
    println!(
        "memory: {:.0} bytes/vector (Index::memory_usage)",
        index.memory_usage() as f64 / index.len().max(1) as f64
    );
    if let Some(path) = save {
        let bytes = index.to_bytes().map_err(fv)?;
        std::fs::write(path, bytes).map_err(|e| BenchError::new(format!("writing {path}: {e}")))?;
    }
    for &ef in efs {
        index.set_ef_search(ef).map_err(fv)?;
        let mut best = f64::MAX;
        let mut recall = 0.0;
        for rep in 0..reps {
            let mut out = Vec::with_capacity(data.n_queries());
            let t = CpuClock::now();
            for q in 0..data.n_queries() {
                let hits = index.search(data.query(q), K).map_err(fv)?;
                out.push(hits.into_iter().map(|m| m.key).collect::<Vec<u64>>());
            }
            best = best.min(t.elapsed().as_secs_f64());
            if rep == 0 {
                recall = mean_recall(data, &out, K);
            }
        }
        println!(
            "ef {ef:>4}: recall@{K} {recall:.4}, {:>8.0} QPS",
            data.n_queries() as f64 / best
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hnsw_profile: {e}");
            ExitCode::FAILURE
        }
    }
}
