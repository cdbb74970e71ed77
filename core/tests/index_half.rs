//! f16 and bf16 storage: what is stored (values rounded to nearest even, out-of-range values
//! refused), what searches return (the f32 kernels' distances on the stored values, recall
//! next to f32), memory, and format version 3 (written only for these storages, refused
//! cleanly when edited).

use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, OnDuplicate, Storage};
use ferrovec_core::kernels::{self, Bf16, F16};
use ferrovec_core::Error;

#[path = "support/index_file.rs"]
mod index_file;
use index_file::{get_u32, get_u64, reseal, set_u32, set_u64};

const VERSION: usize = 4;
const STORAGE: usize = 16;
const MODEL_ID: usize = 88;
const FLAGS: usize = 96;
const HEADER_V3: usize = 104;

extern crate alloc;

#[allow(dead_code)] // the Rng helpers this binary does not use
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

fn vecs(rng: &mut Rng, n: usize, dims: usize) -> Vec<f32> {
    (0..n * dims).map(|_| rng.value() as f32).collect()
}

/// `n` points around `centers` random centers: neighbors that an approximate search can
/// miss, unlike uniform noise.
fn clustered(rng: &mut Rng, n: usize, dims: usize, centers: usize) -> Vec<f32> {
    let c = vecs(rng, centers, dims);
    let mut out = Vec::with_capacity(n * dims);
    for _ in 0..n {
        let k = rng.below(centers);
        for j in 0..dims {
            out.push(c[k * dims + j] + 0.4 * rng.value() as f32);
        }
    }
    out
}

fn corrupt_message(bytes: &[u8]) -> String {
    match Index::from_bytes(bytes) {
        Err(Error::CorruptFile(m)) => m,
        Err(other) => panic!("expected CorruptFile, got {other:?}"),
        Ok(_) => panic!("an edited file loaded"),
    }
}

fn stored(storage: Storage, x: f32) -> f32 {
    match storage {
        Storage::F16 => F16::from_f32(x).to_f32(),
        Storage::BF16 => Bf16::from_f32(x).to_f32(),
        _ => unreachable!(),
    }
}

const HALVES: [Storage; 2] = [Storage::F16, Storage::BF16];

#[test]
fn stored_values_are_the_rounded_inputs() {
    let dims = 21;
    let mut rng = Rng(1);
    for storage in HALVES {
        for metric in [IndexMetric::L2sq, IndexMetric::InnerProduct] {
            let mut index = Index::new(IndexOptions::new(dims, metric).storage(storage)).unwrap();
            let rows: Vec<f32> = vecs(&mut rng, 50, dims).iter().map(|x| x * 300.0).collect();
            let keys: Vec<u64> = (0..50).collect();
            index.add_batch(&keys, &rows, OnDuplicate::Error).unwrap();
            for (key, row) in keys.iter().zip(rows.chunks_exact(dims)) {
                let got = index.get(*key).unwrap();
                for (g, &x) in got.iter().zip(row) {
                    assert_eq!(g.to_bits(), stored(storage, x).to_bits(), "{storage:?}");
                }
                // Rounding, not truncation: within half an ulp of the stored precision
                // (10 mantissa bits for f16, 7 for bf16).
                let bits = if storage == Storage::F16 { 11 } else { 8 };
                for (g, &x) in got.iter().zip(row) {
                    assert!(
                        (g - x).abs() <= x.abs() / (1u32 << bits) as f32,
                        "{x} -> {g}"
                    );
                }
            }
        }
        // Cosine stores the normalized vector.
        let mut index =
            Index::new(IndexOptions::new(dims, IndexMetric::Cosine).storage(storage)).unwrap();
        let row = vecs(&mut rng, 1, dims);
        index.add(7, &row).unwrap();
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        for (g, x) in index.get(7).unwrap().iter().zip(&row) {
            assert!(
                (g - x / norm).abs() <= 2e-3,
                "{storage:?}: {g} vs {}",
                x / norm
            );
        }
    }
}

#[test]
fn exact_search_distances_are_the_f32_kernels_on_the_stored_rows() {
    let dims = 37;
    let mut rng = Rng(2);
    for storage in HALVES {
        for metric in [IndexMetric::L2sq, IndexMetric::InnerProduct] {
            let mut index = Index::new(IndexOptions::new(dims, metric).storage(storage)).unwrap();
            let keys: Vec<u64> = (100..400).collect();
            index
                .add_batch(&keys, &vecs(&mut rng, keys.len(), dims), OnDuplicate::Error)
                .unwrap();
            for q in vecs(&mut rng, 8, dims).chunks_exact(dims) {
                let mut want: Vec<(f32, u64)> = keys
                    .iter()
                    .map(|&k| {
                        let row = index.get(k).unwrap();
                        let d = match metric {
                            IndexMetric::L2sq => kernels::l2sq_f32(q, &row).unwrap(),
                            _ => 1.0 - kernels::dot_f32(q, &row).unwrap(),
                        };
                        (d, k)
                    })
                    .collect();
                want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let got = index.search(q, 10).unwrap();
                assert_eq!(got.len(), 10);
                for (g, w) in got.iter().zip(&want) {
                    // Same bits: the half kernels sum like the f32 kernel of their table.
                    assert_eq!(
                        g.distance.to_bits(),
                        w.0.to_bits(),
                        "{storage:?} {metric:?}"
                    );
                    assert_eq!(g.key, w.1, "{storage:?} {metric:?}");
                }
            }
        }
    }
}

#[test]
fn values_beyond_the_storage_range_are_refused_and_nothing_changes() {
    let dims = 4;
    let cases = [
        (Storage::F16, 65520.0f32),
        (Storage::F16, -1.0e6),
        (Storage::BF16, f32::MAX),
        (Storage::BF16, -3.4e38),
    ];
    for (storage, big) in cases {
        let mut index =
            Index::new(IndexOptions::new(dims, IndexMetric::L2sq).storage(storage)).unwrap();
        index.add(1, &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let before = index.to_bytes().unwrap();
        let err = index.add(2, &[0.0, big, 0.0, 0.0]).unwrap_err();
        match &err {
            Error::InvalidArgument(m) => assert!(m.contains("range") && m.contains(" 1"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A batch with one bad row adds nothing.
        let rows = [0.5, 0.5, 0.5, 0.5, 1.0, 1.0, big, 1.0];
        let err = index
            .add_batch(&[3, 4], &rows, OnDuplicate::Error)
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("vector 1")),
            "{err:?}"
        );
        assert_eq!(index.len(), 1);
        assert_eq!(index.to_bytes().unwrap(), before, "{storage:?}");
    }
    // The refusal starts exactly where the conversion gives infinity.
    for (storage, first_inf) in [(Storage::F16, 0x477f_f000u32), (Storage::BF16, 0x7f7f_8000)] {
        for (bits, refused) in [(first_inf - 1, false), (first_inf, true)] {
            for sign in [0, 0x8000_0000] {
                let x = f32::from_bits(bits | sign);
                assert_eq!(stored(storage, x).is_infinite(), refused, "{storage:?} {x}");
                let mut index =
                    Index::new(IndexOptions::new(1, IndexMetric::L2sq).storage(storage)).unwrap();
                assert_eq!(index.add(1, &[x]).is_err(), refused, "{storage:?} {x}");
            }
        }
    }
    // The largest finite values are kept, and cosine normalizes first.
    let mut f16 =
        Index::new(IndexOptions::new(2, IndexMetric::L2sq).storage(Storage::F16)).unwrap();
    f16.add(1, &[65504.0, 65519.0]).unwrap();
    assert_eq!(f16.get(1).unwrap(), vec![65504.0, 65504.0]);
    let mut cos =
        Index::new(IndexOptions::new(2, IndexMetric::Cosine).storage(Storage::F16)).unwrap();
    cos.add(1, &[3.0e18, 4.0e18]).unwrap();
    let got = cos.get(1).unwrap();
    assert!(
        (got[0] - 0.6).abs() < 1e-3 && (got[1] - 0.8).abs() < 1e-3,
        "{got:?}"
    );
}

#[test]
fn half_storage_takes_half_the_row_memory() {
    let (dims, n) = (96, 2000);
    let rows = vecs(&mut Rng(3), n, dims);
    let keys: Vec<u64> = (0..n as u64).collect();
    let usage = |storage: Storage| {
        let mut index =
            Index::new(IndexOptions::new(dims, IndexMetric::L2sq).storage(storage)).unwrap();
        index.reserve(n).unwrap();
        index.add_batch(&keys, &rows, OnDuplicate::Error).unwrap();
        index.memory_usage()
    };
    let (f32_bytes, f16_bytes, bf16_bytes) = (
        usage(Storage::F32),
        usage(Storage::F16),
        usage(Storage::BF16),
    );
    let row_saving = n * dims * 2;
    assert!(
        f32_bytes - f16_bytes >= row_saving,
        "{f32_bytes} vs {f16_bytes}"
    );
    assert_eq!(f16_bytes, bf16_bytes);
}

/// recall@10 of an HNSW index against the exact search of the same storage.
fn recall(options: IndexOptions, rows: &[f32], queries: &[f32]) -> f64 {
    let dims = options.dims;
    let keys: Vec<u64> = (0..(rows.len() / dims) as u64).collect();
    let mut exact = Index::new(options.clone().exact()).unwrap();
    exact.add_batch(&keys, rows, OnDuplicate::Error).unwrap();
    let mut hnsw = Index::new(options.hnsw(HnswParams::default())).unwrap();
    hnsw.add_batch(&keys, rows, OnDuplicate::Error).unwrap();
    let mut hits = 0;
    let mut total = 0;
    for q in queries.chunks_exact(dims) {
        let want = exact.search(q, 10).unwrap();
        let got = hnsw.search(q, 10).unwrap();
        hits += got
            .iter()
            .filter(|g| want.iter().any(|w| w.key == g.key))
            .count();
        total += want.len();
    }
    hits as f64 / total as f64
}

#[test]
fn hnsw_recall_matches_f32() {
    let dims = 48;
    let mut rng = Rng(4);
    let rows = clustered(&mut rng, 3000, dims, 30);
    let queries = clustered(&mut rng, 60, dims, 30);
    let base = recall(
        IndexOptions::new(dims, IndexMetric::Cosine),
        &rows,
        &queries,
    );
    for storage in HALVES {
        let r = recall(
            IndexOptions::new(dims, IndexMetric::Cosine).storage(storage),
            &rows,
            &queries,
        );
        assert!(
            r >= 0.9 && r >= base - 0.02,
            "{storage:?}: {r} vs f32 {base}"
        );
    }
}

fn half_file(storage: Storage, model_id: Option<u64>) -> Vec<u8> {
    let mut index = Index::new(
        IndexOptions::new(5, IndexMetric::L2sq)
            .storage(storage)
            .hnsw(HnswParams {
                m: 4,
                ef_construction: 16,
                ef_search: 16,
                seed: 9,
            }),
    )
    .unwrap();
    let keys: Vec<u64> = (0..20).collect();
    index
        .add_batch(&keys, &vecs(&mut Rng(5), 20, 5), OnDuplicate::Error)
        .unwrap();
    index.set_model_id(model_id).unwrap();
    index.to_bytes().unwrap()
}

#[test]
fn version_3_carries_the_model_id_behind_a_flag() {
    for storage in HALVES {
        let plain = half_file(storage, None);
        assert_eq!(get_u32(&plain, VERSION), 3);
        assert_eq!((get_u64(&plain, MODEL_ID), get_u64(&plain, FLAGS)), (0, 0));
        assert_eq!(Index::from_bytes(&plain).unwrap().model_id(), None);
        for id in [0u64, 42, u64::MAX] {
            let b = half_file(storage, Some(id));
            assert_eq!(get_u32(&b, VERSION), 3);
            assert_eq!((get_u64(&b, MODEL_ID), get_u64(&b, FLAGS)), (id, 1));
            let loaded = Index::from_bytes(&b).unwrap();
            assert_eq!(loaded.model_id(), Some(id));
            assert_eq!(loaded.to_bytes().unwrap(), b);
            // Everything after the flags is the v1 body: same length as without an id.
            assert_eq!(b.len(), plain.len());
        }
    }
}

#[test]
fn edited_version_3_files_are_refused() {
    let f16 = half_file(Storage::F16, None);
    let mut b = f16.clone();
    set_u64(&mut b, FLAGS, 2);
    reseal(&mut b);
    assert!(corrupt_message(&b).contains("flags"));
    let mut b = f16.clone();
    set_u64(&mut b, MODEL_ID, 5);
    reseal(&mut b);
    assert!(corrupt_message(&b).contains("model id"));
    // A v3 file relabeled f32 (its rows are 2 bytes per value) and an f32 file relabeled v3.
    let mut b = f16.clone();
    set_u32(&mut b, STORAGE, 0);
    reseal(&mut b);
    assert!(corrupt_message(&b).contains("version 3"));
    let mut index = Index::new(IndexOptions::new(5, IndexMetric::L2sq)).unwrap();
    index.add(1, &[1.0; 5]).unwrap();
    let mut v1 = index.to_bytes().unwrap();
    set_u32(&mut v1, STORAGE, 3);
    reseal(&mut v1);
    assert!(
        corrupt_message(&v1).contains("version 3"),
        "{}",
        corrupt_message(&v1)
    );
    // A NaN or infinite stored value (no writer makes one).
    let rows_at = HEADER_V3 + 8 * 20 + 20usize.div_ceil(8);
    for (storage, bad) in [
        (Storage::F16, 0x7e00u16),
        (Storage::F16, 0xfc00),
        (Storage::BF16, 0x7f80),
        (Storage::BF16, 0xffc1),
    ] {
        let mut b = half_file(storage, None);
        b[rows_at + 6..rows_at + 8].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        let m = corrupt_message(&b);
        assert!(
            m.contains("rows") && m.contains("value 3"),
            "{storage:?}: {m}"
        );
    }
}

#[test]
fn every_flipped_byte_of_a_version_3_file_is_an_error() {
    for storage in HALVES {
        let bytes = half_file(storage, Some(77));
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0x10;
            match Index::from_bytes(&b) {
                Err(Error::CorruptFile(_)) => {}
                Err(Error::UnsupportedVersion(v)) if (VERSION..VERSION + 4).contains(&at) => {
                    assert!(v > 3)
                }
                other => panic!("byte {at}: {:?}", other.map(|_| ())),
            }
        }
    }
}

/// Cosine rows and queries whose squared length overflows or underflows f32 are still
/// normalized (else an f16 row of 3e20 became infinity and its file would not load, and f32
/// rows kept lengths that made `1 - a.b` meaningless).
#[test]
fn cosine_normalizes_vectors_of_extreme_length() {
    for storage in [Storage::F32, Storage::F16, Storage::BF16, Storage::I8] {
        for kind in [None, Some(HnswParams::default())] {
            let mut options = IndexOptions::new(2, IndexMetric::Cosine).storage(storage);
            if let Some(p) = kind {
                options = options.hnsw(p);
            }
            let mut index = Index::new(options).unwrap();
            for (key, scale) in [(1u64, 1.0e20f32), (2, 1.0e-30), (3, 1.0)] {
                index.add(key, &[3.0 * scale, 4.0 * scale]).unwrap();
                let got = index.get(key).unwrap();
                assert!(
                    (got[0] - 0.6).abs() < 0.01 && (got[1] - 0.8).abs() < 0.01,
                    "{storage:?} {kind:?} scale {scale}: {got:?}"
                );
            }
            index.add(4, &[-4.0e25, 3.0e25]).unwrap();
            for q in [[6.0e30f32, 8.0e30], [6.0e-35, 8.0e-35]] {
                let hits = index.search(&q, 4).unwrap();
                assert_eq!(hits.len(), 4, "{storage:?}");
                for h in &hits[..3] {
                    assert!(h.distance.abs() < 0.02, "{storage:?} {kind:?}: {hits:?}");
                }
                assert_eq!(hits[3].key, 4);
                assert!((hits[3].distance - 1.0).abs() < 0.02, "{hits:?}");
            }
            let loaded = Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
            assert_eq!(loaded.len(), 4);
        }
    }
}
