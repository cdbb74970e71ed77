//! `ferrovec::Index` on every backend (native, interpreted scalar and simd modules when
//! built): results against a brute-force reference, the filter forms, batches, and
//! save/load through bytes and files, across backends.

mod index_support;

use ferrovec::{
    BackendKind, Engine, Error, HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate,
    Storage,
};
use index_support::{engines, Rng};

const DIMS: usize = 12;
const N: usize = 300;

fn l2sq(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum()
}

fn key_of(i: usize) -> u64 {
    5 + 11 * i as u64
}

/// The exact top `k` among rows whose key passes `accept`, ties by key.
fn reference(data: &[f32], query: &[f32], k: usize, accept: impl Fn(u64) -> bool) -> Vec<u64> {
    let mut all: Vec<(f64, u64)> = (0..N)
        .filter(|&i| accept(key_of(i)))
        .map(|i| (l2sq(query, &data[i * DIMS..(i + 1) * DIMS]), key_of(i)))
        .collect();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    all.into_iter().take(k).map(|(_, key)| key).collect()
}

fn keys(matches: &[Match]) -> Vec<u64> {
    matches.iter().map(|m| m.key).collect()
}

fn filled(engine: &Engine, options: IndexOptions) -> (Index, Vec<f32>) {
    let index = Index::new(engine, options).unwrap();
    let data = Rng(3).clustered(N, DIMS, 10);
    let ks: Vec<u64> = (0..N).map(key_of).collect();
    index.add_batch(&ks, &data, OnDuplicate::Error).unwrap();
    (index, data)
}

fn hnsw() -> IndexOptions {
    IndexOptions::new(DIMS, IndexMetric::L2sq).hnsw(HnswParams {
        ef_search: 100,
        ..HnswParams::default()
    })
}

#[test]
fn exact_search_forms_match_the_reference() {
    for (name, engine) in engines() {
        let (index, data) = filled(&engine, IndexOptions::new(DIMS, IndexMetric::L2sq));
        assert_eq!(index.len(), N, "{name}");
        assert_eq!(index.dims(), DIMS);
        assert_eq!(
            index.backend_kind() == BackendKind::Native,
            name == "native"
        );
        let mut rng = Rng(8);
        let queries = rng.f32s(5 * DIMS);
        let lists = index.search_batch(&queries, 7).unwrap();
        assert_eq!(lists.len(), 5);
        for (qi, q) in queries.chunks(DIMS).enumerate() {
            let hits = index.search(q, 7).unwrap();
            assert_eq!(
                keys(&hits),
                reference(&data, q, 7, |_| true),
                "{name} q{qi}"
            );
            for m in &hits {
                let i = ((m.key - 5) / 11) as usize;
                let d = l2sq(q, &data[i * DIMS..(i + 1) * DIMS]);
                assert!(
                    (f64::from(m.distance) - d).abs() < 1e-4 * (1.0 + d),
                    "{name}"
                );
            }
            assert_eq!(lists[qi], hits, "{name}: batch vs single, q{qi}");

            let odd = |k: u64| k % 2 == 1;
            let filtered = index.search_filtered(q, 7, odd).unwrap();
            assert_eq!(
                keys(&filtered),
                reference(&data, q, 7, odd),
                "{name} filtered"
            );
            let allowed: Vec<u64> = (0..N).map(key_of).filter(|&k| odd(k)).collect();
            let mut shuffled = allowed.clone();
            shuffled.reverse();
            shuffled.extend_from_slice(&allowed[..10]); // duplicates are fine
            shuffled.push(4); // so are unknown keys
            let via_list = index.search_allowed(q, 7, &shuffled).unwrap();
            assert_eq!(via_list, filtered, "{name}: allow-list vs closure");
        }
        // A closure that captures state (counts its calls) works too.
        let calls = std::cell::Cell::new(0);
        let hits = index
            .search_filtered(&queries[..DIMS], 3, |k| {
                calls.set(calls.get() + 1);
                k < 1000
            })
            .unwrap();
        assert!(
            calls.get() > 0 && hits.iter().all(|m| m.key < 1000),
            "{name}"
        );
    }
}

#[test]
fn hnsw_filtered_search_still_returns_k() {
    for (name, engine) in engines() {
        let (index, data) = filled(&engine, hnsw());
        let q = &data[17 * DIMS..18 * DIMS];
        // One key in 10 passes: 30 keys, so k = 10 must come back full.
        let rare = |k: u64| (k / 11) % 10 == 3;
        let hits = index.search_filtered(q, 10, rare).unwrap();
        assert_eq!(hits.len(), 10, "{name}");
        assert!(hits.iter().all(|m| rare(m.key)), "{name}");
        let exact = reference(&data, q, 10, rare);
        let recall = keys(&hits).iter().filter(|k| exact.contains(k)).count();
        assert!(recall >= 9, "{name}: filtered recall {recall}/10");
    }
}

#[test]
fn save_and_load_bytes_and_files_on_every_backend() {
    let dir = std::env::temp_dir().join(format!("fv-index-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let all = engines();
    for (name, engine) in &all {
        for (kind, options) in [
            ("exact", IndexOptions::new(DIMS, IndexMetric::L2sq)),
            ("hnsw", hnsw()),
            (
                "i8",
                IndexOptions::new(DIMS, IndexMetric::Cosine).storage(Storage::I8),
            ),
            (
                "f16",
                IndexOptions::new(DIMS, IndexMetric::L2sq).storage(Storage::F16),
            ),
            ("bf16", hnsw().storage(Storage::BF16)),
        ] {
            let (index, data) = filled(engine, options.clone());
            index.remove(key_of(4)).unwrap();
            let bytes = index.to_bytes().unwrap();
            let queries = Rng(21).f32s(4 * DIMS);
            let expected = index.search_batch(&queries, 9).unwrap();
            // Load on every backend: the same bytes, the same results.
            for (other, other_engine) in &all {
                let loaded = Index::from_bytes(other_engine, &bytes).unwrap();
                assert_eq!(loaded.len(), N - 1, "{name}->{other}/{kind}");
                assert_eq!(loaded.options(), index.options(), "{name}->{other}/{kind}");
                assert!(!loaded.contains(key_of(4)).unwrap());
                let got = loaded.search_batch(&queries, 9).unwrap();
                for (a, b) in got.iter().zip(&expected) {
                    assert_eq!(keys(a), keys(b), "{name}->{other}/{kind}");
                }
            }
            // Files: save, load, save again over it, the same bytes.
            let path = dir.join(format!("{name}-{kind}.fvix"));
            index.save(&path).unwrap();
            let loaded = Index::load(engine, &path).unwrap();
            assert_eq!(
                loaded.to_bytes().unwrap(),
                bytes,
                "{name}/{kind}: file round trip"
            );
            assert_eq!(
                loaded.get(key_of(9)).unwrap(),
                index.get(key_of(9)).unwrap()
            );
            if kind == "exact" {
                assert_eq!(loaded.get(key_of(9)).unwrap(), &data[9 * DIMS..10 * DIMS]);
            }
            loaded.add(1, &[0.5; DIMS]).unwrap();
            loaded.save(&path).unwrap();
            assert_eq!(Index::load(engine, &path).unwrap().len(), N);

            // Corrupt files: a clear error, never a panic.
            let mut bad = bytes.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 1;
            let err = Index::from_bytes(engine, &bad).unwrap_err();
            assert!(matches!(err, Error::CorruptFile(_)), "{name}/{kind}: {err}");
            let err = Index::from_bytes(engine, &bytes[..bytes.len() - 1]).unwrap_err();
            assert!(matches!(err, Error::CorruptFile(_)), "{name}/{kind}: {err}");
            std::fs::write(&path, &bytes[..10]).unwrap();
            let err = Index::load(engine, &path).unwrap_err();
            assert!(matches!(err, Error::CorruptFile(_)), "{name}/{kind}: {err}");
        }
        let missing = Index::load(engine, dir.join("no-such-file.fvix")).unwrap_err();
        assert_eq!(missing.code(), -3, "{name}: {missing}");
        assert!(missing.to_string().contains("no-such-file"), "{missing}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replace_remove_compact_clear() {
    for (name, engine) in engines() {
        for options in [IndexOptions::new(DIMS, IndexMetric::L2sq), hnsw()] {
            let (index, data) = filled(&engine, options);
            let v = [0.25; DIMS];
            assert_eq!(
                index.add(key_of(2), &v).unwrap_err(),
                Error::DuplicateKey(key_of(2))
            );
            index.add_with(key_of(2), &v, OnDuplicate::Replace).unwrap();
            assert_eq!(index.len(), N, "{name}: replace keeps len");
            assert_eq!(index.get(key_of(2)).unwrap(), v);
            assert_eq!(index.search(&v, 1).unwrap()[0].key, key_of(2));
            for i in (0..N).step_by(3) {
                index.remove(key_of(i)).unwrap();
            }
            assert_eq!(index.len(), N - N.div_ceil(3));
            let q = &data[4 * DIMS..5 * DIMS];
            let before = index.search(q, 5).unwrap();
            assert!(before.iter().all(|m| (m.key - 5) / 11 % 3 != 0), "{name}");
            index.compact().unwrap();
            assert_eq!(index.len(), N - N.div_ceil(3));
            assert_eq!(index.search(q, 1).unwrap()[0].key, key_of(4), "{name}");
            index.reserve(100).unwrap();
            assert!(index.capacity() >= index.len() + 100, "{name}");
            index.clear().unwrap();
            assert!(index.is_empty());
            assert_eq!(index.search(q, 5).unwrap(), vec![]);
            index.add(key_of(4), q).unwrap();
            assert_eq!(index.search(q, 5).unwrap()[0].key, key_of(4));
        }
    }
}

/// A filter that panics ends that search only: the panic reaches the caller, and the index
/// (every backend: the interpreted one holds its instance while filtering) keeps working.
#[test]
fn a_panicking_filter_leaves_the_index_usable() {
    for (name, engine) in engines() {
        let index = Index::new(&engine, IndexOptions::new(DIMS, IndexMetric::L2sq)).unwrap();
        let data = Rng(4).f32s(20 * DIMS);
        let ks: Vec<u64> = (0..20).collect();
        index.add_batch(&ks, &data, OnDuplicate::Error).unwrap();
        let other = index.clone();
        let q = data[..DIMS].to_vec();
        let result = std::thread::spawn(move || {
            other.search_filtered(&q, 3, |key| {
                assert!(key > 100, "filter bug");
                true
            })
        })
        .join();
        assert!(result.is_err(), "{name}: the panic reaches the caller");
        index.add(99, &[0.5; DIMS]).unwrap();
        assert_eq!(index.len(), 21, "{name}");
        assert_eq!(index.search(&data[..DIMS], 1).unwrap()[0].key, 0, "{name}");
        let hits = index.search_filtered(&data[..DIMS], 2, |k| k != 0).unwrap();
        assert_eq!(hits.len(), 2, "{name}");
    }
}

/// One backend, one instruction set, one distance per pair: every exact search form returns,
/// for each (query, vector) pair, the bits of that backend's single-vector kernel (for
/// cosine, of `1 - dot` of the normalized query and the stored unit vector, clamped at 0).
/// Dimensions cover tails of every vector width (12, 100) and the common 384.
#[test]
fn exact_search_forms_return_the_single_vector_kernel_bits() {
    for (name, engine) in engines() {
        for metric in [
            IndexMetric::L2sq,
            IndexMetric::Cosine,
            IndexMetric::InnerProduct,
        ] {
            for dims in [12, 100, 384] {
                let n = 37; // 9 blocks of 4 rows and one row left over
                let index = Index::new(&engine, IndexOptions::new(dims, metric)).unwrap();
                let data = Rng(21).clustered(n, dims, 5);
                let ks: Vec<u64> = (0..n).map(key_of).collect();
                index.add_batch(&ks, &data, OnDuplicate::Error).unwrap();
                let queries = Rng(22).f32s(3 * dims);
                let batch = index.search_batch(&queries, n).unwrap();
                for (qi, q) in queries.chunks(dims).enumerate() {
                    let ctx = format!("{name} {metric:?} d={dims} q{qi}");
                    let hits = index.search(q, n).unwrap();
                    assert_eq!(hits.len(), n, "{ctx}");
                    let mut qn = q.to_vec();
                    engine.l2_normalize_f32(&mut qn).unwrap();
                    for m in &hits {
                        let row = index.get(m.key).unwrap();
                        let single = match metric {
                            IndexMetric::L2sq => engine.l2sq_f32(q, &row).unwrap(),
                            IndexMetric::Cosine => {
                                (1.0 - engine.dot_f32(&qn, &row).unwrap()).max(0.0)
                            }
                            _ => 1.0 - engine.dot_f32(q, &row).unwrap(),
                        };
                        assert_eq!(
                            m.distance.to_bits(),
                            single.to_bits(),
                            "{ctx} key {}: search {} vs kernel {single}",
                            m.key,
                            m.distance
                        );
                    }
                    assert_eq!(batch[qi], hits, "{ctx}: batch");
                    let all = index.search_filtered(q, n, |_| true).unwrap();
                    assert_eq!(all, hits, "{ctx}: filtered");
                    let allowed = index.search_allowed(q, n, &ks).unwrap();
                    assert_eq!(allowed, hits, "{ctx}: allow-list");
                    let few: Vec<u64> = ks.iter().copied().step_by(5).collect();
                    let some = index.search_allowed(q, n, &few).unwrap();
                    let expect: Vec<Match> = hits
                        .iter()
                        .filter(|m| few.contains(&m.key))
                        .cloned()
                        .collect();
                    assert_eq!(some, expect, "{ctx}: short allow-list");
                }
            }
        }
    }
}
