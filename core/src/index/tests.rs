//! Index tests: exact results against an f64 reference, bad input leaving the index
//! unchanged, HNSW recall against the exact index, filters, removal and compaction.

use alloc::vec;
use alloc::vec::Vec;

use super::*;

/// `full` natively, `miri` under Miri: an interpreter thousands of times slower, which runs
/// the same storages, metrics, kinds and branches on fewer vectors, queries and rounds.
pub(crate) const fn sized(full: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        full
    }
}

/// splitmix64 stream for test data.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub(crate) fn f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// Roughly normal (sum of uniforms).
    pub(crate) fn gauss(&mut self) -> f32 {
        (0..4).map(|_| self.f32()).sum::<f32>() * 0.866
    }
}

/// `n` vectors around `clusters` random centers, row-major.
pub(crate) fn clustered(
    rng: &mut Rng,
    n: usize,
    dims: usize,
    clusters: usize,
    spread: f32,
) -> Vec<f32> {
    let centers: Vec<f32> = (0..clusters * dims).map(|_| rng.gauss()).collect();
    let mut out = Vec::with_capacity(n * dims);
    for _ in 0..n {
        let c = (rng.next_u64() % clusters as u64) as usize;
        for j in 0..dims {
            out.push(centers[c * dims + j] + spread * rng.gauss());
        }
    }
    out
}

fn reference_distance(metric: IndexMetric, a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    match metric {
        IndexMetric::Cosine => {
            let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            1.0 - dot / (na * nb)
        }
        IndexMetric::L2sq => a
            .iter()
            .zip(b)
            .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
            .sum(),
        IndexMetric::InnerProduct => 1.0 - dot,
        IndexMetric::Hamming => a
            .iter()
            .zip(b)
            .filter(|(x, y)| (**x > 0.0) != (**y > 0.0))
            .count() as f64,
        IndexMetric::Jaccard => {
            let inter = a
                .iter()
                .zip(b)
                .filter(|(x, y)| **x > 0.0 && **y > 0.0)
                .count();
            let union = a
                .iter()
                .zip(b)
                .filter(|(x, y)| **x > 0.0 || **y > 0.0)
                .count();
            if union == 0 {
                0.0
            } else {
                1.0 - inter as f64 / union as f64
            }
        }
    }
}

const PAIRS: [(IndexMetric, Storage); 8] = [
    (IndexMetric::Cosine, Storage::F32),
    (IndexMetric::L2sq, Storage::F32),
    (IndexMetric::InnerProduct, Storage::F32),
    (IndexMetric::Cosine, Storage::I8),
    (IndexMetric::L2sq, Storage::I8),
    (IndexMetric::InnerProduct, Storage::I8),
    (IndexMetric::Hamming, Storage::B1),
    (IndexMetric::Jaccard, Storage::B1),
];

fn build(options: IndexOptions, data: &[f32]) -> Index {
    let dims = options.dims;
    let mut index = Index::new(options).unwrap();
    let keys: Vec<u64> = (0..(data.len() / dims) as u64).map(|i| i * 3 + 1).collect();
    index.add_batch(&keys, data, OnDuplicate::Error).unwrap();
    index
}

#[test]
fn exact_search_matches_reference_for_every_pair() {
    let dims = 37;
    // Under Miri not a multiple of the f32 scan's 4 rows (the tail rows); more than one of
    // its 256-row blocks is exact_filters_return_only_accepted_keys's.
    let n = sized(300, 43);
    let mut rng = Rng(1);
    let data: Vec<f32> = (0..n * dims).map(|_| rng.f32()).collect();
    let queries: Vec<f32> = (0..sized(5, 2) * dims).map(|_| rng.f32()).collect();
    for (metric, storage) in PAIRS {
        let index = build(IndexOptions::new(dims, metric).storage(storage), &data);
        assert_eq!(index.len(), n);
        for q in queries.chunks_exact(dims) {
            let hits = index.search(q, 10).unwrap();
            assert_eq!(hits.len(), 10);
            // Ascending, ties by key.
            for w in hits.windows(2) {
                assert!(
                    w[0].distance < w[1].distance
                        || (w[0].distance == w[1].distance && w[0].key < w[1].key),
                    "{metric:?}/{storage:?}: not sorted: {w:?}"
                );
            }
            let mut reference: Vec<(f64, u64)> = data
                .chunks_exact(dims)
                .enumerate()
                .map(|(i, row)| (reference_distance(metric, q, row), i as u64 * 3 + 1))
                .collect();
            reference.sort_by(|a, b| a.partial_cmp(b).unwrap());
            // Distances: exact for f32 and b1 (to rounding), close for i8.
            let tol = if storage == Storage::I8 {
                0.05 * (1.0 + reference[0].0.abs())
            } else {
                1e-4 * (1.0 + reference[0].0.abs())
            };
            for h in &hits {
                let truth = reference.iter().find(|r| r.1 == h.key).unwrap().0;
                assert!(
                    (h.distance as f64 - truth).abs() <= tol,
                    "{metric:?}/{storage:?}: {} vs {truth}",
                    h.distance
                );
            }
            // The k-th distance matches the reference's k-th (for i8: within tolerance).
            assert!(
                (hits[9].distance as f64 - reference[9].0).abs() <= tol,
                "{metric:?}/{storage:?}"
            );
            if storage == Storage::F32 {
                let keys: Vec<u64> = hits.iter().map(|h| h.key).collect();
                let want: Vec<u64> = reference[..10].iter().map(|r| r.1).collect();
                assert_eq!(keys, want, "{metric:?}/{storage:?}");
            }
        }
    }
}

#[test]
fn unsupported_pairs_and_bad_options_are_refused() {
    for (metric, storage) in [
        (IndexMetric::Hamming, Storage::F32),
        (IndexMetric::Jaccard, Storage::I8),
        (IndexMetric::Cosine, Storage::B1),
        (IndexMetric::L2sq, Storage::B1),
        (IndexMetric::Hamming, Storage::F16),
        (IndexMetric::Jaccard, Storage::BF16),
    ] {
        let err = Index::new(IndexOptions::new(8, metric).storage(storage)).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    }
    assert!(Index::new(IndexOptions::new(0, IndexMetric::L2sq)).is_err());
    assert!(Index::new(IndexOptions::new(MAX_DIMS + 1, IndexMetric::L2sq)).is_err());
    for p in [
        HnswParams {
            m: 1,
            ..HnswParams::default()
        },
        HnswParams {
            m: MAX_M + 1,
            ..HnswParams::default()
        },
        HnswParams {
            ef_construction: 0,
            ..HnswParams::default()
        },
        HnswParams {
            ef_search: 0,
            ..HnswParams::default()
        },
    ] {
        assert!(
            Index::new(IndexOptions::new(4, IndexMetric::L2sq).hnsw(p)).is_err(),
            "{p:?}"
        );
    }
    assert!(IndexMetric::from_code(5).is_err());
    assert_eq!(Storage::from_code(3).unwrap(), Storage::F16);
    assert_eq!(Storage::from_code(4).unwrap(), Storage::BF16);
    assert!(Storage::from_code(5).is_err());
    assert!(Storage::from_code(-1).is_err());
}

fn snapshot(index: &Index, q: &[f32]) -> (usize, Vec<Match>) {
    (
        index.len(),
        if index.is_empty() {
            Vec::new()
        } else {
            index.search(q, 5).unwrap()
        },
    )
}

fn check_failures_leave_index_unchanged(options: IndexOptions) {
    let dims = options.dims;
    let mut rng = Rng(7);
    let data: Vec<f32> = (0..sized(50, 12) * dims).map(|_| rng.f32()).collect();
    let mut index = build(options, &data);
    let q: Vec<f32> = (0..dims).map(|_| rng.f32()).collect();
    let before = snapshot(&index, &q);
    let good: Vec<f32> = (0..dims).map(|_| rng.f32()).collect();
    let mut nan = good.clone();
    nan[dims / 2] = f32::NAN;
    let mut inf = good.clone();
    inf[0] = f32::INFINITY;

    assert!(matches!(index.add(1, &good), Err(Error::DuplicateKey(1))));
    assert!(matches!(
        index.add(1000, &good[1..]),
        Err(Error::DimensionMismatch { .. })
    ));
    match index.add(1000, &nan) {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains(&alloc::format!("at {}", dims / 2)), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert!(index.add(1000, &inf).is_err());
    // A batch with one bad row, a duplicate within the batch, or an existing key adds nothing.
    let mut batch = good.clone();
    batch.extend_from_slice(&nan);
    assert!(index
        .add_batch(&[1000, 1001], &batch, OnDuplicate::Replace)
        .is_err());
    let mut batch2 = good.clone();
    batch2.extend_from_slice(&good);
    assert!(matches!(
        index.add_batch(&[1000, 1000], &batch2, OnDuplicate::Error),
        Err(Error::DuplicateKey(1000))
    ));
    assert!(matches!(
        index.add_batch(&[1000, 4], &batch2, OnDuplicate::Error),
        Err(Error::DuplicateKey(4))
    ));
    assert!(index
        .add_batch(&[1000, 1001], &batch2[1..], OnDuplicate::Error)
        .is_err());
    assert!(matches!(index.remove(2), Err(Error::KeyNotFound(2))));
    assert!(matches!(index.get(2), Err(Error::KeyNotFound(2))));
    assert!(index.search(&q, 0).is_err());
    assert!(index.search(&q[1..], 3).is_err());
    assert!(index.search(&nan, 3).is_err());
    assert!(index.search_batch(&nan, 3).is_err());
    assert!(index.search_batch(&q[1..], 3).is_err());
    assert!(index.search_filtered(&nan, 3, &|_| true).is_err());
    assert!(index.search_allowed(&q, 0, &[1]).is_err());
    assert!(index.reserve(usize::MAX).is_err());
    assert!(index.set_ef_search(0).is_err());
    assert!(!index.contains(1000));
    assert_eq!(snapshot(&index, &q), before);
    // A filter that rejects everything: an empty answer, not an error.
    assert!(index.search_filtered(&q, 3, &|_| false).unwrap().is_empty());
    assert!(index.search_allowed(&q, 3, &[999_999]).unwrap().is_empty());
}

#[test]
fn failed_calls_leave_the_index_unchanged() {
    for (metric, storage) in PAIRS {
        check_failures_leave_index_unchanged(IndexOptions::new(9, metric).storage(storage));
        check_failures_leave_index_unchanged(IndexOptions::new(9, metric).storage(storage).hnsw(
            HnswParams {
                m: 4,
                ..HnswParams::default()
            },
        ));
    }
}

#[test]
fn duplicates_replace_remove_get_and_compact() {
    for kind in [
        IndexKind::Exact,
        IndexKind::Hnsw(HnswParams {
            m: 4,
            ..HnswParams::default()
        }),
    ] {
        let mut opts = IndexOptions::new(3, IndexMetric::L2sq);
        opts.kind = kind;
        let mut index = Index::new(opts).unwrap();
        assert!(index.is_empty());
        assert!(index.search(&[0.0; 3], 3).unwrap().is_empty());
        index.add(10, &[1.0, 0.0, 0.0]).unwrap();
        index.add(20, &[0.0, 1.0, 0.0]).unwrap();
        index.add(30, &[0.0, 0.0, 1.0]).unwrap();
        assert_eq!(index.get(20).unwrap(), vec![0.0, 1.0, 0.0]);
        index
            .add_with(20, &[5.0, 5.0, 5.0], OnDuplicate::Replace)
            .unwrap();
        assert_eq!(index.len(), 3);
        assert_eq!(index.get(20).unwrap(), vec![5.0, 5.0, 5.0]);
        // k > len returns every live vector, the replaced one only once.
        let all = index.search(&[0.0; 3], 10).unwrap();
        assert_eq!(
            all.iter().map(|m| m.key).collect::<Vec<_>>(),
            vec![10, 30, 20]
        );
        assert_eq!(all[2].distance, 75.0);
        index.remove(10).unwrap();
        assert!(!index.contains(10));
        assert!(matches!(index.remove(10), Err(Error::KeyNotFound(10))));
        assert_eq!(index.len(), 2);
        let hits = index.search(&[1.0, 0.0, 0.0], 3).unwrap();
        assert_eq!(hits.iter().map(|m| m.key).collect::<Vec<_>>(), vec![30, 20]);
        // Re-adding a removed key is a plain add.
        index.add(10, &[2.0, 0.0, 0.0]).unwrap();
        assert_eq!(index.len(), 3);
        index.compact().unwrap();
        assert_eq!(index.len(), 3);
        assert_eq!(index.keys.len(), 3);
        assert_eq!(index.search(&[1.0, 0.0, 0.0], 1).unwrap()[0].key, 10);
        assert_eq!(index.get(20).unwrap(), vec![5.0, 5.0, 5.0]);
        index.reserve(100).unwrap();
        assert!(index.capacity() >= 103);
        index.clear();
        assert!(index.is_empty());
        assert!(!index.contains(20));
        index.add(20, &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(index.len(), 1);
    }
}

#[test]
fn get_dequantizes_and_cosine_stores_unit_vectors() {
    let v = [3.0f32, -4.0, 0.5, 0.0, 1.0, -1.0, 2.0, 0.25, 9.0];
    let mut f = Index::new(IndexOptions::new(9, IndexMetric::Cosine)).unwrap();
    f.add(1, &v).unwrap();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    for (a, b) in f.get(1).unwrap().iter().zip(v) {
        assert!((a - b / norm).abs() < 1e-6);
    }
    let mut q = Index::new(IndexOptions::new(9, IndexMetric::L2sq).storage(Storage::I8)).unwrap();
    q.add(1, &v).unwrap();
    for (a, b) in q.get(1).unwrap().iter().zip(v) {
        assert!((a - b).abs() <= 9.0 / 127.0 / 2.0 + 1e-6, "{a} vs {b}");
    }
    let mut b =
        Index::new(IndexOptions::new(9, IndexMetric::Hamming).storage(Storage::B1)).unwrap();
    b.add(1, &v).unwrap();
    assert_eq!(
        b.get(1).unwrap(),
        vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    );
    // A vector's distance to itself is 0 (cosine clamps rounding below zero).
    assert_eq!(f.search(&v, 1).unwrap()[0].distance, 0.0);
    assert_eq!(b.search(&v, 1).unwrap()[0].distance, 0.0);
}

#[test]
fn exact_filters_return_only_accepted_keys() {
    let dims = 8;
    // 300 rows: the f32 scan's 256-row blocks, a full one and a partial one.
    let n = 300;
    let mut rng = Rng(3);
    let data: Vec<f32> = (0..n * dims).map(|_| rng.f32()).collect();
    let index = build(IndexOptions::new(dims, IndexMetric::L2sq), &data);
    let q: Vec<f32> = (0..dims).map(|_| rng.f32()).collect();
    let all = index.search(&q, n).unwrap();
    assert_eq!(all.len(), n);
    let want: Vec<Match> = all
        .iter()
        .copied()
        .filter(|m| m.key % 2 == 0)
        .take(7)
        .collect();
    assert_eq!(
        index.search_filtered(&q, 7, &|key| key % 2 == 0).unwrap(),
        want
    );
    let allowed: Vec<u64> = (0..3 * n as u64)
        .filter(|k| k % 2 == 0)
        .chain([4, 4, 1_000_000])
        .collect();
    assert_eq!(index.search_allowed(&q, 7, &allowed).unwrap(), want);
    let batch = index
        .search_batch(&[q.clone(), q.clone()].concat(), 4)
        .unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0], all[..4].to_vec());
    assert_eq!(batch[1], all[..4].to_vec());
    assert!(index.search_batch(&[], 4).unwrap().is_empty());
}

fn recall(approx: &[Match], exact: &[Match]) -> f64 {
    let hits = approx
        .iter()
        .filter(|a| exact.iter().any(|e| e.key == a.key))
        .count();
    hits as f64 / exact.len() as f64
}

/// Under Miri a smaller `m` and `ef_construction` (insertion cost grows with both); lists
/// still fill up and get pruned, and there are upper levels, on the smaller test graphs.
pub(crate) const HNSW_TEST: HnswParams = HnswParams {
    m: sized(16, 4),
    ef_construction: sized(100, 24),
    ef_search: 64,
    seed: 42,
};

#[test]
fn hnsw_recall_against_exact_on_clustered_data() {
    let (n, dims, nq) = (sized(3000, 200), 24, sized(100, 8));
    let mut rng = Rng(11);
    let data = clustered(&mut rng, n, dims, 30, 0.35);
    let queries = clustered(&mut Rng(12), nq, dims, 30, 0.35);
    for (metric, storage) in [
        (IndexMetric::Cosine, Storage::F32),
        (IndexMetric::L2sq, Storage::I8),
    ] {
        let exact = build(IndexOptions::new(dims, metric).storage(storage), &data);
        let hnsw = build(
            IndexOptions::new(dims, metric)
                .storage(storage)
                .hnsw(HNSW_TEST),
            &data,
        );
        let mut total = 0.0;
        for q in queries.chunks_exact(dims) {
            total += recall(&hnsw.search(q, 10).unwrap(), &exact.search(q, 10).unwrap());
        }
        let r = total / nq as f64;
        assert!(r >= 0.95, "{metric:?}/{storage:?}: recall@10 {r}");
    }
}

#[test]
fn hnsw_is_deterministic_and_filtered_search_finds_k() {
    let (n, dims) = (sized(1500, 200), 16);
    let data = clustered(&mut Rng(5), n, dims, 20, 0.3);
    let opts = IndexOptions::new(dims, IndexMetric::L2sq).hnsw(HnswParams {
        seed: 9,
        ..HNSW_TEST
    });
    let a = build(opts.clone(), &data);
    let b = build(opts, &data);
    assert_eq!(a.hnsw, b.hnsw);
    let exact = build(IndexOptions::new(dims, IndexMetric::L2sq), &data);
    let q = &data[..dims];
    // A selective filter (1 in 50 keys; 1 in 10 of Miri's fewer, still more than k): still
    // k results, and the right ones for most.
    let every = sized(50, 10) as u64;
    let filter = |key: u64| key % every == 7;
    let got = a.search_filtered(q, 10, &filter).unwrap();
    let want = exact.search_filtered(q, 10, &filter).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|m| filter(m.key)));
    assert!(recall(&got, &want) >= 0.8, "{got:?} vs {want:?}");
    // Fewer than k pass: all of them, exactly.
    let few = |key: u64| key < 30;
    let got = a.search_filtered(q, 20, &few).unwrap();
    assert_eq!(got, exact.search_filtered(q, 20, &few).unwrap());
    // Allow-lists small (exact scan) and large (graph walk).
    let small: Vec<u64> = (0..n as u64)
        .map(|i| i * 3 + 1)
        .filter(|k| k % 97 == 0)
        .collect();
    assert_eq!(
        a.search_allowed(q, 5, &small).unwrap(),
        exact.search_allowed(q, 5, &small).unwrap()
    );
    let large: Vec<u64> = (0..n as u64)
        .map(|i| i * 3 + 1)
        .filter(|k| k % 2 == 0)
        .collect();
    let got = a.search_allowed(q, 10, &large).unwrap();
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|m| m.key % 2 == 0));
    assert!(recall(&got, &exact.search_allowed(q, 10, &large).unwrap()) >= 0.8);
}

#[test]
fn hnsw_removals_and_compaction_keep_results_correct() {
    let (n, dims, nq) = (sized(1500, 240), 16, sized(30, 6));
    let data = clustered(&mut Rng(21), n, dims, 20, 0.3);
    let mut index = build(
        IndexOptions::new(dims, IndexMetric::L2sq).hnsw(HNSW_TEST),
        &data,
    );
    let mut exact = build(IndexOptions::new(dims, IndexMetric::L2sq), &data);
    // Remove two thirds of the keys.
    for i in 0..n as u64 {
        if i % 3 != 0 {
            index.remove(i * 3 + 1).unwrap();
            exact.remove(i * 3 + 1).unwrap();
        }
    }
    assert_eq!(index.len(), n / 3);
    let queries = clustered(&mut Rng(22), nq, dims, 20, 0.3);
    let check = |index: &Index, min: f64| {
        let mut total = 0.0;
        for q in queries.chunks_exact(dims) {
            let got = index.search(q, 10).unwrap();
            assert_eq!(got.len(), 10);
            assert!(got.iter().all(|m| index.contains(m.key)));
            total += recall(&got, &exact.search(q, 10).unwrap());
        }
        let r = total / nq as f64;
        assert!(r >= min, "recall {r}");
    };
    check(&index, 0.9);
    index.compact().unwrap();
    assert_eq!(index.keys.len(), n / 3);
    index.hnsw.as_ref().unwrap().validate(n / 3).unwrap();
    check(&index, 0.95);
    // k > len on a graph: every live key.
    let all = index.search(&queries[..dims], n).unwrap();
    assert_eq!(all.len(), n / 3);
    index.set_ef_search(16).unwrap();
    assert!(matches!(index.kind(), IndexKind::Hnsw(p) if p.ef_search == 16));
    assert!(exact.set_ef_search(16).is_err());
}

/// Level-0 lists fill up and take the one-step pruning of `Hnsw::link` (a small `m`, rows in
/// general position): on every storage (i8 copies for f32 and f16, i8 and bit rows
/// themselves) every list stays within its capacity, holds no duplicate and no self link,
/// the graph validates, the last node (no later node could link to it) keeps more than `m`
/// neighbors on level 0 (a new node gets up to 2M), and the results are still good.
#[test]
fn hnsw_pruned_lists_stay_within_capacity() {
    let (n, dims, nq) = (sized(1200, 150), 32, sized(40, 6));
    let m = 4;
    let data: Vec<f32> = {
        let mut rng = Rng(31);
        (0..n * dims).map(|_| rng.gauss()).collect()
    };
    let queries: Vec<f32> = {
        let mut rng = Rng(32);
        (0..nq * dims).map(|_| rng.gauss()).collect()
    };
    // Measured 0.91-0.93 on each storage.
    for (metric, storage) in [
        (IndexMetric::Cosine, Storage::F32),
        (IndexMetric::L2sq, Storage::F16),
        (IndexMetric::InnerProduct, Storage::I8),
        (IndexMetric::Hamming, Storage::B1),
    ] {
        let params = HnswParams {
            m,
            ef_construction: sized(64, 24),
            ef_search: 64,
            seed: 3,
        };
        let index = build(
            IndexOptions::new(dims, metric)
                .storage(storage)
                .hnsw(params),
            &data,
        );
        let g = index.hnsw.as_ref().unwrap();
        g.validate(n).unwrap();
        let mut full = 0;
        for slot in 0..n {
            for level in 0..=g.levels[slot] as usize {
                let list = g.neighbors(slot as u32, level);
                let cap = super::hnsw::max_neighbors(m, level);
                assert!(list.len() <= cap, "{storage:?} slot {slot} level {level}");
                full += usize::from(list.len() == cap);
                assert!(!list.contains(&(slot as u32)), "{storage:?} self link");
                let mut sorted = list.to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(sorted.len(), list.len(), "{storage:?} duplicate neighbor");
            }
        }
        assert!(full > n / 4, "{storage:?}: only {full} full lists");
        assert!(
            g.neighbors(n as u32 - 1, 0).len() > m,
            "{storage:?}: the last node keeps {:?}",
            g.neighbors(n as u32 - 1, 0)
        );
        let exact = build(IndexOptions::new(dims, metric).storage(storage), &data);
        let mut total = 0.0;
        for q in queries.chunks_exact(dims) {
            total += recall(&index.search(q, 10).unwrap(), &exact.search(q, 10).unwrap());
        }
        let r = total / nq as f64;
        assert!(r >= 0.85, "{storage:?}: recall@10 {r}");
    }
}

#[test]
fn hnsw_f32_walks_the_i8_copy_but_returns_f32_distances() {
    let (n, dims) = (sized(800, 120), 20);
    let data = clustered(&mut Rng(31), n, dims, 10, 0.3);
    let queries = clustered(&mut Rng(32), sized(20, 4), dims, 10, 0.3);
    for metric in [
        IndexMetric::Cosine,
        IndexMetric::L2sq,
        IndexMetric::InnerProduct,
    ] {
        let mut index = build(IndexOptions::new(dims, metric).hnsw(HNSW_TEST), &data);
        let exact = build(IndexOptions::new(dims, metric), &data);
        // The copy is derived: present after building, compacting and reloading.
        assert!(index.vecs.shadow);
        assert_eq!(index.vecs.i8s.len(), n * dims);
        index.remove(1).unwrap();
        index.compact().unwrap();
        assert_eq!(index.vecs.i8s.len(), (n - 1) * dims);
        let reloaded = Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
        assert!(reloaded.vecs.shadow);
        assert_eq!(reloaded.vecs.i8s, index.vecs.i8s);
        for q in queries.chunks_exact(dims) {
            let hits = index.search(q, 10).unwrap();
            assert_eq!(hits, reloaded.search(q, 10).unwrap());
            assert!(hits.windows(2).all(|w| w[0].distance <= w[1].distance));
            // Every distance is the f32 one (as the exact index computes it), not the i8
            // estimate that steered the walk.
            let all = exact.search(q, n).unwrap();
            for h in &hits {
                let want = all.iter().find(|m| m.key == h.key).unwrap().distance;
                assert!(
                    (h.distance - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{metric:?}: key {} distance {} vs exact {want}",
                    h.key,
                    h.distance
                );
            }
        }
    }
    // Exact indexes and quantized storage keep no copy.
    let exact = build(IndexOptions::new(dims, IndexMetric::Cosine), &data);
    assert!(!exact.vecs.shadow && exact.vecs.i8s.is_empty());
    // memory_usage counts rows, the copy, the graph and keys.
    let hnsw = build(
        IndexOptions::new(dims, IndexMetric::Cosine).hnsw(HNSW_TEST),
        &data,
    );
    let rows = n * dims * 4;
    assert!(exact.memory_usage() >= rows + n * 8);
    assert!(hnsw.memory_usage() >= rows + n * dims + n * (1 + 2 * HNSW_TEST.m) * 4);
}

/// An allow-list too large to scan (`a * a > 32 * max(ef_search, k) * len`, which the
/// other tests' lists never reach) walks the graph, accepting through a bitmap of allowed
/// slots: the same walk as a filter accepting the same keys.
#[test]
fn hnsw_large_allow_lists_walk_the_graph() {
    let (n, dims, k) = (sized(300, 120), 8, 2);
    let data = clustered(&mut Rng(51), n, dims, 6, 0.3);
    let mut index = build(
        IndexOptions::new(dims, IndexMetric::L2sq).hnsw(HNSW_TEST),
        &data,
    );
    index.set_ef_search(1).unwrap();
    let exact = build(IndexOptions::new(dims, IndexMetric::L2sq), &data);
    let allowed: Vec<u64> = (0..n as u64)
        .map(|i| i * 3 + 1)
        .filter(|key| key % 5 != 0)
        .collect();
    let a = allowed.len();
    assert!(a * a > 32 * k * n, "{a} allowed keys would be scanned");
    let queries = clustered(&mut Rng(52), sized(10, 3), dims, 6, 0.3);
    for q in queries.chunks_exact(dims) {
        let got = index.search_allowed(q, k, &allowed).unwrap();
        assert_eq!(got.len(), k);
        assert_eq!(
            got,
            index
                .search_filtered(q, k, &|key| allowed.binary_search(&key).is_ok())
                .unwrap()
        );
        let all = exact.search(q, n).unwrap();
        for h in &got {
            assert!(allowed.contains(&h.key));
            let want = all.iter().find(|m| m.key == h.key).unwrap().distance;
            assert!((h.distance - want).abs() <= 1e-5 * (1.0 + want.abs()));
        }
    }
}

/// Searches share the graph's scratch pool: many threads at once (more than the pool's
/// slots) must each get their own buffers and the same answers as one thread.
#[cfg(feature = "std")]
#[test]
fn concurrent_searches_share_the_scratch_pool() {
    let (n, dims) = (sized(1200, 60), 16);
    let data = clustered(&mut Rng(41), n, dims, 12, 0.3);
    let index = build(
        IndexOptions::new(dims, IndexMetric::Cosine).hnsw(HNSW_TEST),
        &data,
    );
    let queries = clustered(&mut Rng(42), sized(40, 2), dims, 12, 0.3);
    let want: Vec<Vec<Match>> = queries
        .chunks_exact(dims)
        .map(|q| index.search(q, 10).unwrap())
        .collect();
    std::thread::scope(|scope| {
        // More threads than the pool's 4 slots (some searches get a fresh scratch, some
        // returns free theirs), under Miri too.
        for t in 0..sized(8, 5) {
            let (index, queries, want) = (&index, &queries, &want);
            scope.spawn(move || {
                for round in 0..sized(20, 1) {
                    for (i, q) in queries.chunks_exact(dims).enumerate() {
                        let k = if (i + t + round) % 3 == 0 { 3 } else { 10 };
                        let got = index.search(q, k).unwrap();
                        assert_eq!(got[..], want[i][..k], "thread {t} query {i}");
                        let filtered = index.search_filtered(q, 5, &|key| key % 2 == 0).unwrap();
                        assert!(filtered.len() == 5 && filtered.iter().all(|m| m.key % 2 == 0));
                    }
                }
            });
        }
    });
}

#[test]
fn index_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Index>();
}

/// The vectorizable rounding of the i8 rows and walk queries equals `roundf` then clamp,
/// ties and the neighbors of ties included (a differing code would change stored i8 rows).
#[test]
fn round_to_i8_matches_roundf() {
    let check = |x: f32| {
        let want = libm::roundf(x).clamp(-127.0, 127.0) as i8;
        assert_eq!(vectors::round_to_i8(x), want, "x = {x:e}");
    };
    for k in -300i32..=300 {
        let half = k as f32 * 0.5;
        for x in [
            half,
            f32::from_bits(half.to_bits().wrapping_add(1)),
            f32::from_bits(half.to_bits().wrapping_sub(1)),
        ] {
            check(x);
        }
    }
    for x in [
        0.0f32,
        -0.0,
        0.49999997,
        -0.49999997,
        126.5,
        -126.5,
        127.49999,
        1e30,
        -1e30,
    ] {
        check(x);
    }
    let mut rng = Rng(7);
    for _ in 0..sized(200_000, 2_000) {
        let u = (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        check((u - 0.5) * 300.0);
    }
}
