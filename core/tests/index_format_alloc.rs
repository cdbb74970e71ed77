//! Loading allocates in proportion to the file, never to a length it declares: a counting
//! allocator measures the peak heap use of `Index::from_bytes` on valid files and on files
//! with random edits (checksum recomputed, so they reach the validation), and checks it
//! against the bound FORMAT.md states: at most `64 KiB + len * (m + 16)` bytes, `m` being
//! the HNSW parameter the file declares (0 for an exact index).

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::peak_of;

#[allow(dead_code)] // the field helpers this binary does not use
#[path = "support/index_file.rs"]
mod index_file;
use index_file::{get_u32, reseal, set_u64};

use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, OnDuplicate, Storage};

/// Peak heap bytes allocated (beyond what was live before) while loading `bytes`.
fn peak_of_load(bytes: &[u8]) -> (usize, bool) {
    let (ok, peak) = peak_of(|| Index::from_bytes(bytes).is_ok());
    (peak, ok)
}

fn bound(bytes: &[u8]) -> usize {
    let kind = get_u32(bytes, 20);
    let m = if kind == 1 {
        get_u32(bytes, 28) as usize
    } else {
        0
    };
    65536 + bytes.len() * (m.min(512) + 16)
}

fn files() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut seed = 1u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let p = HnswParams {
        m: 8,
        ef_construction: 32,
        ef_search: 16,
        seed: 3,
    };
    let sets = [
        (IndexOptions::new(8, IndexMetric::L2sq).hnsw(p), 300),
        (
            IndexOptions::new(1, IndexMetric::Hamming)
                .storage(Storage::B1)
                .hnsw(p),
            300,
        ),
        (
            IndexOptions::new(12, IndexMetric::Cosine).storage(Storage::I8),
            200,
        ),
        (IndexOptions::new(3, IndexMetric::L2sq), 200),
    ];
    for (options, n) in sets {
        let dims = options.dims;
        let mut index = Index::new(options).unwrap();
        let keys: Vec<u64> = (0..n).collect();
        let v: Vec<f32> = (0..n as usize * dims).map(|_| next()).collect();
        index.add_batch(&keys, &v, OnDuplicate::Error).unwrap();
        for k in (0..n).step_by(5) {
            index.remove(k).unwrap();
        }
        out.push(index.to_bytes().unwrap());
    }
    out
}

#[test]
fn loading_allocates_in_proportion_to_the_file() {
    let mut rng = 99u64;
    let mut next = move || {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        rng >> 16
    };
    let mut loaded = 0;
    for file in files() {
        let (peak, ok) = peak_of_load(&file);
        assert!(ok);
        assert!(
            peak <= bound(&file),
            "valid file: {peak} > {}",
            bound(&file)
        );
        for _ in 0..400 {
            let mut b = file.clone();
            // Header fields are the interesting targets: hit them half the time.
            for _ in 0..1 + next() % 3 {
                let at = if next() % 2 == 0 {
                    next() as usize % 88
                } else {
                    next() as usize % (b.len() - 4)
                };
                b[at] = next() as u8;
            }
            reseal(&mut b);
            let (peak, ok) = peak_of_load(&b);
            loaded += ok as usize;
            assert!(
                peak <= bound(&b),
                "edited file of {} bytes: peak {peak} > bound {}",
                b.len(),
                bound(&b)
            );
        }
    }
    assert!(loaded > 0);
}

#[test]
fn hostile_counts_allocate_nothing_large() {
    let file = &files()[0];
    for (at, value) in [
        (56usize, 1u64 << 60),
        (56, (1 << 32) - 2),
        (80, 1 << 62),
        (80, u64::MAX),
    ] {
        let mut b = file.clone();
        set_u64(&mut b, at, value);
        reseal(&mut b);
        let (peak, ok) = peak_of_load(&b);
        assert!(!ok);
        assert!(peak <= b.len() * 8, "offset {at} = {value}: peak {peak}");
    }
}
