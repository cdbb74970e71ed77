//! Bad input to `ferrovec::Index` on every backend (native, interpreted scalar and simd
//! modules): each gets a defined answer or a clear error, the *same* error on every backend,
//! and a failed call leaves the index unchanged (its len and search results are compared
//! before and after every failure).

mod index_support;

use ferrovec::{
    Engine, Error, HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate, Storage,
};
use index_support::{engines, interpreted_with, Rng};

const DIMS: usize = 8;
const N: usize = 60;

fn kinds() -> [(&'static str, IndexOptions); 2] {
    let base = IndexOptions::new(DIMS, IndexMetric::L2sq);
    [
        ("exact", base.clone().exact()),
        ("hnsw", base.hnsw(HnswParams::default())),
    ]
}

fn filled(engine: &Engine, options: IndexOptions) -> (Index, Vec<f32>) {
    let index = Index::new(engine, options).unwrap();
    let data = Rng(11).f32s(N * DIMS);
    let keys: Vec<u64> = (0..N as u64).map(|i| 1000 + 3 * i).collect();
    index.add_batch(&keys, &data, OnDuplicate::Error).unwrap();
    (index, data)
}

/// What must not change: len, contents of a few keys, results of a few searches.
fn state(index: &Index) -> (usize, Vec<Vec<Match>>, Vec<Vec<f32>>) {
    let mut rng = Rng(99);
    let searches = (0..4)
        .map(|_| index.search(&rng.f32s(DIMS), 7).unwrap())
        .collect();
    let vectors = [1000u64, 1003, 1000 + 3 * (N as u64 - 1)]
        .iter()
        .map(|&k| index.get(k).unwrap())
        .collect();
    (index.len(), searches, vectors)
}

/// Runs `f` on a fresh filled index for every engine and kind, checks it fails, that the
/// index is unchanged, and that every backend failed with the same error as native.
fn refused(what: &str, f: impl Fn(&Index, &[f32]) -> ferrovec::Result<()>) -> Error {
    let mut first: Option<Error> = None;
    for (name, engine) in engines() {
        for (kind, options) in kinds() {
            let (index, data) = filled(&engine, options);
            let before = state(&index);
            let err = match f(&index, &data) {
                Err(err) => err,
                Ok(()) => panic!("{what} on {name}/{kind}: succeeded"),
            };
            assert_eq!(
                state(&index),
                before,
                "{what} on {name}/{kind} changed the index"
            );
            match &first {
                None => first = Some(err),
                Some(expected) => assert_eq!(&err, expected, "{what} on {name}/{kind}"),
            }
        }
    }
    first.unwrap()
}

#[test]
fn wrong_dimension() {
    let err = refused("add of 7 floats", |ix, _| ix.add(1, &[0.5; 7]));
    assert_eq!(
        err,
        Error::DimensionMismatch {
            expected: 8,
            actual: 7
        }
    );
    refused("add of 9 floats", |ix, _| ix.add(1, &[0.5; 9]));
    refused("add of none", |ix, _| ix.add(1, &[]));
    let err = refused("search with 9", |ix, _| ix.search(&[0.5; 9], 3).map(drop));
    assert_eq!(err.code(), -2);
    refused("batch of 2 keys, 1.5 rows", |ix, _| {
        ix.add_batch(&[1, 2], &[0.5; 12], OnDuplicate::Error)
    });
    refused("search_batch of 1.5 rows", |ix, _| {
        ix.search_batch(&[0.5; 12], 3).map(drop)
    });
    refused("search_allowed with 7", |ix, _| {
        ix.search_allowed(&[0.5; 7], 3, &[1000]).map(drop)
    });
}

#[test]
fn nan_and_infinity() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut v = vec![0.25f32; DIMS];
        v[5] = bad;
        let err = refused("add with a non-finite value", |ix, _| ix.add(1, &v));
        assert_eq!(err.code(), -3, "{err}");
        refused("search with a non-finite value", |ix, _| {
            ix.search(&v, 3).map(drop)
        });
        // The bad value in the last row of a batch: nothing of the batch is added.
        let mut rows = vec![0.5f32; 3 * DIMS];
        rows[2 * DIMS + 1] = bad;
        refused("batch with a non-finite value", |ix, _| {
            ix.add_batch(&[1, 2, 3], &rows, OnDuplicate::Error)
        });
        refused("replace with a non-finite value", |ix, _| {
            ix.add_with(1000, &v, OnDuplicate::Replace)
        });
    }
}

#[test]
fn k_zero_and_k_above_len() {
    let err = refused("k = 0", |ix, _| ix.search(&[0.5; DIMS], 0).map(drop));
    assert_eq!(err.code(), -3);
    refused("batch k = 0", |ix, _| {
        ix.search_batch(&[0.5; DIMS], 0).map(drop)
    });
    refused("allowed k = 0", |ix, _| {
        ix.search_allowed(&[0.5; DIMS], 0, &[1000]).map(drop)
    });
    refused("filtered k = 0", |ix, _| {
        ix.search_filtered(&[0.5; DIMS], 0, |_| true).map(drop)
    });
    for (name, engine) in engines() {
        for (kind, options) in kinds() {
            let (index, _) = filled(&engine, options);
            let all = index.search(&[0.1; DIMS], N + 50).unwrap();
            assert_eq!(all.len(), N, "{name}/{kind}: k > len returns every vector");
            assert!(all.windows(2).all(|w| w[0].distance <= w[1].distance));
            let huge = index.search(&[0.1; DIMS], usize::MAX).unwrap();
            assert_eq!(huge.len(), N, "{name}/{kind}: k = usize::MAX");
        }
    }
}

#[test]
fn empty_index() {
    for (name, engine) in engines() {
        for (kind, options) in kinds() {
            let index = Index::new(&engine, options).unwrap();
            assert!(index.is_empty());
            assert_eq!(
                index.search(&[0.5; DIMS], 5).unwrap(),
                vec![],
                "{name}/{kind}"
            );
            assert_eq!(
                index.search_batch(&[0.5; 2 * DIMS], 5).unwrap(),
                vec![vec![], vec![]]
            );
            assert_eq!(
                index.search_allowed(&[0.5; DIMS], 5, &[1, 2]).unwrap(),
                vec![]
            );
            assert_eq!(index.remove(1), Err(Error::KeyNotFound(1)));
            assert_eq!(index.get(1), Err(Error::KeyNotFound(1)));
            assert!(!index.contains(1).unwrap());
            assert_eq!(index.search(&[0.5; DIMS], 0).unwrap_err().code(), -3);
            // Remove the only vector: empty again.
            index.add(4, &[0.5; DIMS]).unwrap();
            index.remove(4).unwrap();
            assert_eq!(
                index.search(&[0.5; DIMS], 3).unwrap(),
                vec![],
                "{name}/{kind}"
            );
            index.compact().unwrap();
            assert_eq!(index.len(), 0);
        }
    }
}

#[test]
fn unknown_and_duplicate_keys() {
    assert_eq!(
        refused("remove unknown", |ix, _| ix.remove(7)),
        Error::KeyNotFound(7)
    );
    assert_eq!(
        refused("get unknown", |ix, _| ix.get(u64::MAX).map(drop)),
        Error::KeyNotFound(u64::MAX)
    );
    assert_eq!(
        refused("add duplicate", |ix, _| ix.add(1003, &[0.5; DIMS])),
        Error::DuplicateKey(1003)
    );
    assert_eq!(
        refused("batch with a key already in", |ix, _| {
            ix.add_batch(&[1, 1006], &[0.5; 2 * DIMS], OnDuplicate::Error)
        }),
        Error::DuplicateKey(1006)
    );
    assert_eq!(
        refused("batch repeating a key", |ix, _| {
            ix.add_batch(&[5, 6, 5], &[0.5; 3 * DIMS], OnDuplicate::Error)
        })
        .code(),
        -11
    );
    // Removing twice: the second is KeyNotFound and changes nothing.
    for (name, engine) in engines() {
        for (kind, options) in kinds() {
            let (index, _) = filled(&engine, options);
            index.remove(1000).unwrap();
            let before = state_without_1000(&index);
            assert_eq!(
                index.remove(1000),
                Err(Error::KeyNotFound(1000)),
                "{name}/{kind}"
            );
            assert_eq!(state_without_1000(&index), before, "{name}/{kind}");
            assert!(!index.contains(1000).unwrap());
        }
    }
}

fn state_without_1000(index: &Index) -> (usize, Vec<Match>) {
    (index.len(), index.search(&[0.2; DIMS], 10).unwrap())
}

/// f16 / bf16 rows refuse values that would be stored as infinity, with the same error on
/// every backend, one row or a batch, and nothing added; the largest finite values are kept.
#[test]
fn values_out_of_half_range() {
    for (storage, big, name) in [
        (Storage::F16, 65520.0f32, "f16"),
        (Storage::F16, -1.0e9, "f16"),
        (Storage::BF16, 3.4e38, "bf16"),
    ] {
        for metric in [IndexMetric::L2sq, IndexMetric::InnerProduct] {
            let mut first: Option<Error> = None;
            for (engine_name, engine) in engines() {
                let what = format!("{engine_name} {storage:?} {metric:?} {big}");
                let (index, _) = filled(&engine, IndexOptions::new(DIMS, metric).storage(storage));
                let before = state(&index);
                let bytes = index.to_bytes().unwrap();
                let mut row = [0.25f32; DIMS];
                row[6] = big;
                let err = index.add(1, &row).unwrap_err();
                match &err {
                    Error::InvalidArgument(m) => assert!(
                        m.contains(&format!("out of {name} range")) && m.contains("at 6"),
                        "{what}: {m}"
                    ),
                    other => panic!("{what}: {other:?}"),
                }
                let mut rows = [0.5f32; 2 * DIMS];
                rows[DIMS + 6] = big;
                let batch = index
                    .add_batch(&[1, 2], &rows, OnDuplicate::Error)
                    .unwrap_err();
                assert!(
                    matches!(&batch, Error::InvalidArgument(m) if m.contains("vector 1")),
                    "{what}: {batch:?}"
                );
                assert_eq!(state(&index), before, "{what}");
                assert_eq!(index.to_bytes().unwrap(), bytes, "{what}");
                match &first {
                    None => first = Some(err),
                    Some(expected) => assert_eq!(&err, expected, "{what}"),
                }
            }
        }
    }
    for (engine_name, engine) in engines() {
        let index = Index::new(
            &engine,
            IndexOptions::new(2, IndexMetric::L2sq).storage(Storage::F16),
        )
        .unwrap();
        index.add(1, &[65504.0, -65519.0]).unwrap();
        assert_eq!(index.get(1).unwrap(), [65504.0, -65504.0], "{engine_name}");
        // Cosine stores the unit vector, which always fits.
        let cos = Index::new(
            &engine,
            IndexOptions::new(2, IndexMetric::Cosine).storage(Storage::F16),
        )
        .unwrap();
        cos.add(1, &[3.0e18, 4.0e18]).unwrap();
        let got = cos.get(1).unwrap();
        assert!(
            (got[0] - 0.6).abs() < 1e-3 && (got[1] - 0.8).abs() < 1e-3,
            "{engine_name}: {got:?}"
        );
    }
}

#[test]
fn unsupported_metric_storage_pairs() {
    for (name, engine) in engines() {
        for (metric, storage) in [
            (IndexMetric::Hamming, Storage::F32),
            (IndexMetric::Jaccard, Storage::I8),
            (IndexMetric::Cosine, Storage::B1),
            (IndexMetric::L2sq, Storage::B1),
            (IndexMetric::InnerProduct, Storage::B1),
            (IndexMetric::Hamming, Storage::F16),
            (IndexMetric::Jaccard, Storage::BF16),
        ] {
            let err =
                Index::new(&engine, IndexOptions::new(16, metric).storage(storage)).unwrap_err();
            assert_eq!(err.code(), -3, "{name}: {metric:?} on {storage:?}: {err}");
        }
        for options in [
            IndexOptions::new(0, IndexMetric::L2sq),
            IndexOptions::new(4, IndexMetric::L2sq).hnsw(HnswParams {
                m: 0,
                ..HnswParams::default()
            }),
        ] {
            let err = Index::new(&engine, options.clone()).unwrap_err();
            assert_eq!(err.code(), -3, "{name}: {options:?}: {err}");
        }
        let exact = Index::new(&engine, IndexOptions::new(4, IndexMetric::L2sq)).unwrap();
        assert_eq!(exact.set_ef_search(10).unwrap_err().code(), -3, "{name}");
    }
}

#[test]
fn filters_that_reject_everything() {
    for (name, engine) in engines() {
        for (kind, options) in kinds() {
            let (index, _) = filled(&engine, options);
            let before = state(&index);
            let q = [0.3; DIMS];
            assert_eq!(index.search_filtered(&q, 5, |_| false).unwrap(), vec![]);
            assert_eq!(
                index.search_allowed(&q, 5, &[]).unwrap(),
                vec![],
                "{name}/{kind}"
            );
            assert_eq!(index.search_allowed(&q, 5, &[1, 2, 3]).unwrap(), vec![]);
            // One accepted key among many: found whatever the kind.
            let one = index
                .search_filtered(&q, 5, |k| k == 1000 + 3 * 17)
                .unwrap();
            assert_eq!(one.len(), 1, "{name}/{kind}");
            assert_eq!(one[0].key, 1000 + 3 * 17);
            let some = index
                .search_allowed(&q, 3, &[1000, 1003, 1003, 1006, 1009, 5])
                .unwrap();
            assert_eq!(some.len(), 3, "{name}/{kind}");
            assert!(some
                .iter()
                .all(|m| [1000, 1003, 1006, 1009].contains(&m.key)));
            assert_eq!(state(&index), before);
        }
    }
}

/// The interpreted backend's own failures (fuel, memory) leave the index unchanged too,
/// and the index keeps working afterwards.
#[test]
fn interpreted_out_of_fuel_and_memory_change_nothing() {
    // Enough fuel for small calls, not for a big batch.
    let Some(engine) = interpreted_with(Some(20_000_000), None) else {
        return;
    };
    for (kind, options) in kinds() {
        let (index, _) = filled(&engine, options);
        let before = state(&index);
        // Valid (keys disjoint from `filled`'s), so it fails only for fuel; big enough that
        // even the exact index (a copy per vector, no graph) needs more than the budget.
        let n = 60_000;
        let big = Rng(5).f32s(n * DIMS);
        let keys: Vec<u64> = (1_000_000..1_000_000 + n as u64).collect();
        let err = index
            .add_batch(&keys, &big, OnDuplicate::Error)
            .unwrap_err();
        assert!(matches!(err, Error::OutOfFuel { .. }), "{kind}: {err}");
        assert_eq!(
            state(&index),
            before,
            "{kind}: out of fuel changed the index"
        );
        index.add(1, &[0.5; DIMS]).unwrap();
        assert_eq!(index.len(), N + 1);
        assert_eq!(index.search(&[0.5; DIMS], 1).unwrap()[0].key, 1);
    }

    let Some(engine) = interpreted_with(None, Some(4 << 20)) else {
        return;
    };
    for (kind, options) in kinds() {
        let (index, _) = filled(&engine, options);
        let before = state(&index);
        let big = Rng(5).f32s(100_000 * DIMS);
        let keys: Vec<u64> = (1_000_000..1_100_000).collect();
        let err = index
            .add_batch(&keys, &big, OnDuplicate::Error)
            .unwrap_err();
        assert!(
            matches!(err, Error::OutOfMemory(_) | Error::Trap(_)),
            "{kind}: {err}"
        );
        assert_eq!(
            state(&index),
            before,
            "{kind}: the memory cap changed the index"
        );
        index.add(1, &[0.5; DIMS]).unwrap();
        assert_eq!(index.len(), N + 1);
    }
}

/// Requests no index can satisfy: a clear error, the index unchanged and still usable.
#[test]
fn impossible_reserve_and_ef_search() {
    for (name, engine) in engines() {
        for (kind, options) in kinds() {
            let (index, _) = filled(&engine, options);
            let before = state(&index);
            let err = index.reserve(usize::MAX).unwrap_err();
            assert!(
                matches!(err, Error::OutOfMemory(_) | Error::InvalidArgument(_)),
                "{name}/{kind}: reserve(usize::MAX): {err}"
            );
            assert_eq!(
                state(&index),
                before,
                "{name}/{kind}: reserve changed the index"
            );
            let err = index.reserve(usize::MAX / 2).unwrap_err();
            assert!(
                matches!(err, Error::OutOfMemory(_) | Error::InvalidArgument(_)),
                "{name}/{kind}: reserve(usize::MAX / 2): {err}"
            );
            assert_eq!(
                index.set_ef_search(0).unwrap_err().code(),
                -3,
                "{name}/{kind}"
            );
            assert_eq!(
                state(&index),
                before,
                "{name}/{kind}: ef 0 changed the index"
            );
            index.add(1, &[0.5; DIMS]).unwrap();
            assert_eq!(index.len(), N + 1, "{name}/{kind}");
        }
    }
}
