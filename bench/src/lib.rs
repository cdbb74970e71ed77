//! ferrovec's index benchmarks (issue 4): datasets with held-out queries and exact ground
//! truth, and ann-benchmarks' recall. The benchmark itself is `benches/index.rs` (it needs
//! the `usearch` feature); `src/bin/prepare.rs` writes the cached split and ground truth.
//!
//! Everything here is deterministic: the same inputs give the same split, the same
//! synthetic set and the same ground truth on every machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod npy;
pub mod peak;

/// Neighbours kept per query in the ground truth (ann-benchmarks keeps 100).
pub const GT_K: usize = 100;

/// ann-benchmarks' distance slack for k-NN recall (`knn_threshold`'s epsilon).
pub const RECALL_EPSILON: f64 = 1e-3;

/// A benchmark error: a message for the person running it.
#[derive(Debug)]
pub struct BenchError(String);

impl BenchError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> BenchError {
        BenchError(message.into())
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

/// Base vectors, held-out queries and their exact nearest neighbours among the base.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Short name for reports.
    pub name: String,
    /// Dimensions.
    pub dims: usize,
    /// `n_base * dims`, row-major; row `i` is stored under key `i`.
    pub base: Vec<f32>,
    /// `n_queries * dims`, row-major.
    pub queries: Vec<f32>,
    /// `n_queries * GT_K` base row indices, nearest first (ties by index).
    pub gt: Vec<u32>,
    /// The cosine distances (1 - cos, computed in f64) of `gt`.
    pub gt_dist: Vec<f32>,
}

impl Dataset {
    /// Number of base vectors.
    pub fn n_base(&self) -> usize {
        self.base.len() / self.dims
    }

    /// Number of queries.
    pub fn n_queries(&self) -> usize {
        self.queries.len() / self.dims
    }

    /// Base row `i`.
    pub fn base_row(&self, i: usize) -> &[f32] {
        &self.base[i * self.dims..(i + 1) * self.dims]
    }

    /// Query `i`.
    pub fn query(&self, i: usize) -> &[f32] {
        &self.queries[i * self.dims..(i + 1) * self.dims]
    }

    /// The true `GT_K` neighbours of query `i` (indices, distances).
    pub fn truth(&self, i: usize) -> (&[u32], &[f32]) {
        (
            &self.gt[i * GT_K..(i + 1) * GT_K],
            &self.gt_dist[i * GT_K..(i + 1) * GT_K],
        )
    }

    /// Builds a dataset from base rows and queries, computing the exact ground truth.
    pub fn with_ground_truth(
        name: impl Into<String>,
        dims: usize,
        base: Vec<f32>,
        queries: Vec<f32>,
    ) -> Dataset {
        let (gt, gt_dist) = ground_truth(dims, &base, &queries, GT_K);
        Dataset {
            name: name.into(),
            dims,
            base,
            queries,
            gt,
            gt_dist,
        }
    }

    /// A smaller copy: the first `n_base` base rows and the first `n_queries` queries. The
    /// ground truth is recomputed when the base shrinks (neighbours may have been cut off).
    pub fn truncated(&self, n_base: usize, n_queries: usize) -> Dataset {
        let n_base = n_base.min(self.n_base());
        let n_queries = n_queries.min(self.n_queries());
        let queries = self.queries[..n_queries * self.dims].to_vec();
        if n_base == self.n_base() {
            return Dataset {
                name: self.name.clone(),
                dims: self.dims,
                base: self.base.clone(),
                queries,
                gt: self.gt[..n_queries * GT_K].to_vec(),
                gt_dist: self.gt_dist[..n_queries * GT_K].to_vec(),
            };
        }
        Dataset::with_ground_truth(
            format!("{} (first {n_base})", self.name),
            self.dims,
            self.base[..n_base * self.dims].to_vec(),
            queries,
        )
    }
}

/// splitmix64: a tiny, well-mixed, platform-independent generator and hash.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Deterministic normal deviates (Box-Muller over splitmix64).
pub struct Gaussian {
    state: u64,
    spare: Option<f64>,
}

impl Gaussian {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Gaussian {
        Gaussian {
            state: seed,
            spare: None,
        }
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((splitmix64(&mut self.state) >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal deviate.
    pub fn sample(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Uniform index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (splitmix64(&mut self.state) % n as u64) as usize
    }
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
    }
}

/// Parameters of the synthetic clustered set.
#[derive(Clone, Copy, Debug)]
pub struct SyntheticSpec {
    /// Base vectors.
    pub n_base: usize,
    /// Held-out queries (drawn from the same mixture).
    pub n_queries: usize,
    /// Dimensions.
    pub dims: usize,
    /// Gaussian clusters.
    pub clusters: usize,
    /// Spread of a point around its centre relative to the spread of the centres. Near 1 the
    /// clusters overlap, like real sentence embeddings; small values make search trivial.
    pub noise: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for SyntheticSpec {
    /// 20,000 x 384 in 64 overlapping clusters, 1,000 queries: small enough for CI.
    fn default() -> Self {
        SyntheticSpec {
            n_base: 20_000,
            n_queries: 1_000,
            dims: 384,
            clusters: 64,
            noise: 0.75,
            seed: 0xfe44_0ec0,
        }
    }
}

/// Unit vectors around `clusters` random gaussian centres (base rows and queries drawn from
/// the same mixture, queries after the base), with exact ground truth.
pub fn synthetic(spec: SyntheticSpec) -> Dataset {
    let mut g = Gaussian::new(spec.seed);
    let d = spec.dims;
    let centres: Vec<f64> = (0..spec.clusters * d).map(|_| g.sample()).collect();
    let mut draw = |count: usize| {
        let mut out = Vec::with_capacity(count * d);
        for _ in 0..count {
            let c = g.below(spec.clusters);
            let start = out.len();
            out.extend(
                centres[c * d..(c + 1) * d]
                    .iter()
                    .map(|&x| (x + spec.noise * g.sample()) as f32),
            );
            normalize(&mut out[start..]);
        }
        out
    };
    let base = draw(spec.n_base);
    let queries = draw(spec.n_queries);
    Dataset::with_ground_truth(
        format!("synthetic {}x{d}, {} clusters", spec.n_base, spec.clusters),
        d,
        base,
        queries,
    )
}

/// Cosine distance `1 - a.b / (|a| |b|)` accumulated in f64: the yardstick every
/// returned neighbour is measured with (as ann-benchmarks recomputes distances itself).
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    // Four independent accumulators so the compiler keeps several lanes in flight.
    let (mut dot, mut na, mut nb) = ([0f64; 4], [0f64; 4], [0f64; 4]);
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..4 {
            let (x, y) = (x[j] as f64, y[j] as f64);
            dot[j] += x * y;
            na[j] += x * x;
            nb[j] += y * y;
        }
    }
    let (mut d, mut sa, mut sb) = (
        dot.iter().sum::<f64>(),
        na.iter().sum::<f64>(),
        nb.iter().sum::<f64>(),
    );
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        let (x, y) = (x as f64, y as f64);
        d += x * y;
        sa += x * x;
        sb += y * y;
    }
    if sa == 0.0 || sb == 0.0 {
        return 1.0;
    }
    1.0 - d / (sa.sqrt() * sb.sqrt())
}

/// Exact top-`k` of every query among `base` by [`cosine_distance`], ties broken by the
/// lower index: (`n_queries * k` indices, their distances as f32). Uses every core.
pub fn ground_truth(dims: usize, base: &[f32], queries: &[f32], k: usize) -> (Vec<u32>, Vec<f32>) {
    let n_base = base.len() / dims;
    let n_queries = queries.len() / dims;
    let k = k.min(n_base);
    let mut idx = vec![0u32; n_queries * k];
    let mut dist = vec![0f32; n_queries * k];
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(n_queries.max(1));
    let per = n_queries.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for ((qs, ids), ds) in queries
            .chunks(per * dims)
            .zip(idx.chunks_mut(per * k))
            .zip(dist.chunks_mut(per * k))
        {
            s.spawn(move || {
                let mut all: Vec<(f64, u32)> = Vec::with_capacity(n_base);
                for ((q, ids), ds) in qs
                    .chunks_exact(dims)
                    .zip(ids.chunks_exact_mut(k))
                    .zip(ds.chunks_exact_mut(k))
                {
                    all.clear();
                    all.extend(
                        base.chunks_exact(dims)
                            .enumerate()
                            .map(|(i, row)| (cosine_distance(q, row), i as u32)),
                    );
                    let by =
                        |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                    if k < all.len() {
                        all.select_nth_unstable_by(k, by);
                    }
                    all[..k].sort_unstable_by(by);
                    for (j, &(d, i)) in all[..k].iter().enumerate() {
                        ids[j] = i;
                        ds[j] = d as f32;
                    }
                }
            });
        }
    });
    (idx, dist)
}

/// ann-benchmarks' k-NN recall for one query: how many of the first `count` returned
/// distances are within `true_dist[count - 1] + RECALL_EPSILON` (so ties and float noise
/// at the boundary do not count as misses), out of `count`. `run_dist` are the distances
/// of the returned items recomputed by the harness, in returned order; fewer than `count`
/// returned items simply count less.
pub fn knn_recall(true_dist: &[f32], run_dist: &[f64], count: usize) -> f64 {
    let threshold = true_dist[count - 1] as f64 + RECALL_EPSILON;
    let hits = run_dist
        .iter()
        .take(count)
        .filter(|&&d| d <= threshold)
        .count();
    hits as f64 / count as f64
}

/// Mean [`knn_recall`] at `count` over all queries, for result lists of base row keys.
pub fn mean_recall(data: &Dataset, results: &[Vec<u64>], count: usize) -> f64 {
    let total: f64 = results
        .iter()
        .enumerate()
        .map(|(q, keys)| {
            let run: Vec<f64> = keys
                .iter()
                .map(|&k| cosine_distance(data.query(q), data.base_row(k as usize)))
                .collect();
            knn_recall(data.truth(q).1, &run, count)
        })
        .sum();
    total / results.len().max(1) as f64
}

/// Where cached datasets live: `$FERROVEC_DATA`, else `~/.cache/ferrovec` (outside git).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERROVEC_DATA") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    Path::new(&home).join(".cache").join("ferrovec")
}

/// Held-out queries split off the real set.
pub const DEBIAN_QUERIES: usize = 1_000;

/// Seed of the held-out split (rows ordered by `splitmix64(seed ^ row)`).
pub const SPLIT_SEED: u64 = 0x000d_e1a4_2026;

/// The cached files of the real set's split.
pub struct DebianFiles {
    /// `embed.py`'s output: (n, 384) f32, unit rows.
    pub source: PathBuf,
    /// Base rows (source order, queries removed).
    pub base: PathBuf,
    /// Held-out queries.
    pub queries: PathBuf,
    /// Source row of every base row then every query (u32), to map hits back to texts.
    pub rows: PathBuf,
    /// Ground-truth indices (n_queries, 100) u32.
    pub gt: PathBuf,
    /// Ground-truth distances (n_queries, 100) f32.
    pub gt_dist: PathBuf,
}

impl DebianFiles {
    /// The files under `dir`.
    pub fn in_dir(dir: &Path) -> DebianFiles {
        DebianFiles {
            source: dir.join("debian.npy"),
            base: dir.join("debian-base.npy"),
            queries: dir.join("debian-queries.npy"),
            rows: dir.join("debian-rows.npy"),
            gt: dir.join("debian-gt.npy"),
            gt_dist: dir.join("debian-gt-dist.npy"),
        }
    }
}

/// Which source rows become queries: the `n_queries` rows with the smallest
/// `splitmix64(SPLIT_SEED ^ row)`, in ascending row order. Independent of the data.
pub fn split_rows(n: usize, n_queries: usize) -> Vec<usize> {
    let mut order: Vec<(u64, usize)> = (0..n)
        .map(|i| {
            let mut s = SPLIT_SEED ^ i as u64;
            (splitmix64(&mut s), i)
        })
        .collect();
    order.sort_unstable();
    let mut q: Vec<usize> = order[..n_queries.min(n)].iter().map(|&(_, i)| i).collect();
    q.sort_unstable();
    q
}

/// Splits `embed.py`'s output and computes the ground truth, writing the cached files.
pub fn prepare_debian(files: &DebianFiles) -> Result<Dataset, BenchError> {
    let src = npy::read(&files.source)?;
    let (n, dims) = (src.rows, src.cols);
    if n <= DEBIAN_QUERIES * 2 {
        return Err(BenchError::new(format!(
            "{}: only {n} rows",
            files.source.display()
        )));
    }
    let all = src.to_f32()?;
    if let Some(i) = all.iter().position(|x| !x.is_finite()) {
        return Err(BenchError::new(format!(
            "{}: non-finite value at row {}",
            files.source.display(),
            i / dims
        )));
    }
    let q_rows = split_rows(n, DEBIAN_QUERIES);
    let mut is_query = vec![false; n];
    q_rows.iter().for_each(|&r| is_query[r] = true);
    let mut base = Vec::with_capacity((n - q_rows.len()) * dims);
    let mut rows = Vec::with_capacity(n);
    for r in (0..n).filter(|&r| !is_query[r]) {
        base.extend_from_slice(&all[r * dims..(r + 1) * dims]);
        rows.push(r as u32);
    }
    let mut queries = Vec::with_capacity(q_rows.len() * dims);
    for &r in &q_rows {
        queries.extend_from_slice(&all[r * dims..(r + 1) * dims]);
        rows.push(r as u32);
    }
    let data = Dataset::with_ground_truth("debian MiniLM", dims, base, queries);
    let (nb, nq) = (data.n_base(), data.n_queries());
    npy::write_f32(&files.base, nb, dims, &data.base)?;
    npy::write_f32(&files.queries, nq, dims, &data.queries)?;
    npy::write_u32(&files.rows, n, 1, &rows)?;
    npy::write_f32(&files.gt_dist, nq, GT_K, &data.gt_dist)?;
    // Written last: its presence marks a complete split.
    npy::write_u32(&files.gt, nq, GT_K, &data.gt)?;
    Ok(data)
}

/// Loads the cached split of the real set (written by [`prepare_debian`]).
pub fn load_debian(files: &DebianFiles) -> Result<Dataset, BenchError> {
    let base = npy::read(&files.base)?;
    let queries = npy::read(&files.queries)?;
    let gt = npy::read(&files.gt)?;
    let gt_dist = npy::read(&files.gt_dist)?;
    if base.cols != queries.cols
        || gt.rows != queries.rows
        || gt_dist.rows != queries.rows
        || gt.cols != GT_K
        || gt_dist.cols != GT_K
    {
        return Err(BenchError::new(
            "the cached debian split is inconsistent: delete debian-*.npy and run bench/data/prepare.sh",
        ));
    }
    let data = Dataset {
        name: "debian MiniLM".into(),
        dims: base.cols,
        base: base.to_f32()?,
        queries: queries.to_f32()?,
        gt: gt.to_u32()?,
        gt_dist: gt_dist.to_f32()?,
    };
    if data.gt.iter().any(|&i| i as usize >= data.n_base()) {
        return Err(BenchError::new("ground truth index out of range"));
    }
    Ok(data)
}

/// Whether every cached file of the split exists and agrees with the source's row count.
pub fn debian_is_prepared(files: &DebianFiles) -> bool {
    let head = |p: &Path| npy::read_shape(p).ok();
    let (Some((n, _)), Some((nb, _)), Some((nq, _)), Some((ng, _))) = (
        head(&files.source),
        head(&files.base),
        head(&files.queries),
        head(&files.gt),
    ) else {
        return false;
    };
    files.gt_dist.exists() && files.rows.exists() && nb + nq == n && nq == ng
}

/// This thread's CPU time (Linux `CLOCK_THREAD_CPUTIME_ID`), wall time elsewhere. Both
/// libraries run in the calling thread, so CPU time measures their work and not the other
/// processes sharing the machine (a loaded 2-core box would otherwise decide the ratios).
#[derive(Clone, Copy)]
pub struct CpuClock(Duration);

// The struct below is the 64-bit Linux `timespec`; 32-bit targets fall back to wall time.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_time() -> Option<Duration> {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    cpu_clock(CLOCK_THREAD_CPUTIME_ID)
}

/// This process's CPU time, all its threads (Linux `CLOCK_PROCESS_CPUTIME_ID`; `None`
/// elsewhere): for peers that run part of their work on a thread pool.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn process_cpu_time() -> Option<Duration> {
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    cpu_clock(CLOCK_PROCESS_CPUTIME_ID)
}

/// See the Linux version.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn process_cpu_time() -> Option<Duration> {
    None
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn cpu_clock(clock: i32) -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (two 64-bit fields on x86_64/aarch64
    // Linux) and clock_gettime writes nothing else.
    let rc = unsafe { clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

impl CpuClock {
    /// The current reading.
    pub fn now() -> CpuClock {
        static WALL: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        CpuClock(thread_cpu_time().unwrap_or_else(|| WALL.get_or_init(Instant::now).elapsed()))
    }

    /// Time since this reading.
    pub fn elapsed(self) -> Duration {
        CpuClock::now().0.saturating_sub(self.0)
    }
}

/// What [`CpuClock`] measures here, for reports.
pub fn clock_kind() -> &'static str {
    if thread_cpu_time().is_some() {
        "thread CPU time"
    } else {
        "wall time"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_distance_matches_definition() {
        let a = [1.0f32, 0.0, 0.0, 0.0, 2.0];
        let b = [0.0f32, 1.0, 0.0, 0.0, 0.0];
        assert!((cosine_distance(&a, &b) - 1.0).abs() < 1e-12);
        assert!(cosine_distance(&a, &a).abs() < 1e-12);
        let neg: Vec<f32> = a.iter().map(|x| -x).collect();
        assert!((cosine_distance(&a, &neg) - 2.0).abs() < 1e-12);
        // Scale does not matter.
        let a2: Vec<f32> = a.iter().map(|x| 3.0 * x).collect();
        let c = [0.3f32, -0.1, 0.7, 0.2, 0.9];
        assert!((cosine_distance(&a, &c) - cosine_distance(&a2, &c)).abs() < 1e-12);
    }

    #[test]
    fn recall_follows_ann_benchmarks() {
        let truth = [0.1f32, 0.2, 0.3, 0.4];
        // Exact answer: full recall.
        assert_eq!(knn_recall(&truth, &[0.1, 0.2, 0.3], 3), 1.0);
        // A different item at the boundary distance (+ less than epsilon) still counts.
        assert_eq!(knn_recall(&truth, &[0.1, 0.2, 0.3 + 0.0009], 3), 1.0);
        // One item beyond the threshold: 2 of 3.
        assert!((knn_recall(&truth, &[0.1, 0.2, 0.302], 3) - 2.0 / 3.0).abs() < 1e-12);
        // Fewer results than count.
        assert!((knn_recall(&truth, &[0.1], 3) - 1.0 / 3.0).abs() < 1e-12);
        // Only the first `count` returned items are considered.
        assert!((knn_recall(&truth, &[0.5, 0.5, 0.1, 0.1], 2)).abs() < 1e-12);
    }

    #[test]
    fn ground_truth_is_sorted_exact_and_tie_broken() {
        let spec = SyntheticSpec {
            n_base: 500,
            n_queries: 7,
            dims: 16,
            clusters: 4,
            ..SyntheticSpec::default()
        };
        let data = synthetic(spec);
        assert_eq!((data.n_base(), data.n_queries()), (500, 7));
        for q in 0..data.n_queries() {
            let (ids, dists) = data.truth(q);
            // Brute force with a full sort.
            let mut all: Vec<(f64, u32)> = (0..data.n_base())
                .map(|i| (cosine_distance(data.query(q), data.base_row(i)), i as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let want: Vec<u32> = all[..GT_K].iter().map(|p| p.1).collect();
            assert_eq!(ids, &want[..]);
            assert!(dists.windows(2).all(|w| w[0] <= w[1]));
        }
        // Duplicated base rows tie: the lower index comes first.
        let dims = 4;
        let base = vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let (ids, _) = ground_truth(dims, &base, &[1.0, 0.1, 0.0, 0.0], 3);
        assert_eq!(ids, vec![0, 2, 1]);
    }

    #[test]
    fn synthetic_is_deterministic_and_normalized() {
        let spec = SyntheticSpec {
            n_base: 300,
            n_queries: 5,
            dims: 32,
            clusters: 8,
            ..SyntheticSpec::default()
        };
        let a = synthetic(spec);
        let b = synthetic(spec);
        assert_eq!(a.base, b.base);
        assert_eq!(a.queries, b.queries);
        assert_eq!(a.gt, b.gt);
        for i in 0..a.n_base() {
            let n: f64 = a.base_row(i).iter().map(|&x| x as f64 * x as f64).sum();
            assert!((n - 1.0).abs() < 1e-5);
        }
        let c = synthetic(SyntheticSpec { seed: 1, ..spec });
        assert_ne!(a.base, c.base, "the seed must matter");
    }

    #[test]
    fn split_is_deterministic_and_disjoint() {
        let q = split_rows(10_000, 1_000);
        assert_eq!(q.len(), 1_000);
        assert!(q.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        assert_eq!(q, split_rows(10_000, 1_000));
        // Spread over the whole range, not a prefix.
        assert!(q[0] < 100 && *q.last().unwrap() > 9_900);
    }

    #[test]
    fn truncation_recomputes_truth() {
        let spec = SyntheticSpec {
            n_base: 400,
            n_queries: 6,
            dims: 8,
            clusters: 3,
            ..SyntheticSpec::default()
        };
        let data = synthetic(spec);
        let small = data.truncated(150, 4);
        assert_eq!((small.n_base(), small.n_queries()), (150, 4));
        assert!(small.gt.iter().all(|&i| i < 150));
        let (want, _) = ground_truth(8, &small.base, &small.queries, GT_K);
        assert_eq!(small.gt, want);
        let fewer = data.truncated(400, 2);
        assert_eq!(fewer.gt, data.gt[..2 * GT_K]);
    }

    #[test]
    fn prepare_and_load_round_trip() {
        let dir = std::env::temp_dir().join(format!("ferrovec-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = DebianFiles::in_dir(&dir);
        let spec = SyntheticSpec {
            n_base: 2_500,
            n_queries: 0,
            dims: 8,
            clusters: 5,
            ..SyntheticSpec::default()
        };
        let src = synthetic(spec);
        npy::write_f32(&files.source, 2_500, 8, &src.base).unwrap();
        assert!(!debian_is_prepared(&files));
        let made = prepare_debian(&files).unwrap();
        assert!(debian_is_prepared(&files));
        let loaded = load_debian(&files).unwrap();
        assert_eq!((loaded.n_base(), loaded.n_queries()), (1_500, 1_000));
        assert_eq!(loaded.base, made.base);
        assert_eq!(loaded.gt, made.gt);
        // Every query is a source row that is not in the base.
        let rows = npy::read(&files.rows).unwrap().to_u32().unwrap();
        let q_rows = split_rows(2_500, DEBIAN_QUERIES);
        assert_eq!(
            &rows[1_500..],
            q_rows.iter().map(|&r| r as u32).collect::<Vec<_>>()
        );
        assert_eq!(loaded.query(3), src.base_row(q_rows[3]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
