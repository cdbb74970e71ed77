//! The index on every instruction set this machine runs (its own test binary: forcing the
//! kernel table changes global state). The index picks its kernels per call, so forcing a
//! table runs the whole index (quantization, exact scan, HNSW walk and re-scoring) on it.

use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, Match, Storage};
use ferrovec_core::kernels::{self, Isa};

const DIMS: usize = 67; // not a multiple of any vector width: every kernel tail runs
const ROWS: usize = 400;
const QUERIES: usize = 16;
const K: usize = 10;

fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            // splitmix64
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn build(options: IndexOptions, rows: &[f32]) -> Index {
    let mut index = Index::new(options).unwrap();
    let keys: Vec<u64> = (0..ROWS as u64).map(|k| k * 7 + 3).collect();
    index.add_batch(&keys, rows, Default::default()).unwrap();
    index
}

fn search_all(index: &Index, queries: &[f32]) -> Vec<Vec<Match>> {
    queries
        .chunks_exact(DIMS)
        .map(|q| index.search(q, K).unwrap())
        .collect()
}

/// Results of every configuration on the current table.
fn run(rows: &[f32], queries: &[f32]) -> Vec<(String, Vec<Vec<Match>>)> {
    let configs = [
        (
            "exact cosine f32",
            IndexOptions::new(DIMS, IndexMetric::Cosine),
        ),
        ("exact l2sq f32", IndexOptions::new(DIMS, IndexMetric::L2sq)),
        (
            "exact ip i8",
            IndexOptions::new(DIMS, IndexMetric::InnerProduct).storage(Storage::I8),
        ),
        (
            "exact l2sq i8",
            IndexOptions::new(DIMS, IndexMetric::L2sq).storage(Storage::I8),
        ),
        (
            "exact hamming b1",
            IndexOptions::new(DIMS, IndexMetric::Hamming).storage(Storage::B1),
        ),
        (
            "exact jaccard b1",
            IndexOptions::new(DIMS, IndexMetric::Jaccard).storage(Storage::B1),
        ),
        (
            "exact cosine f16",
            IndexOptions::new(DIMS, IndexMetric::Cosine).storage(Storage::F16),
        ),
        (
            "exact l2sq bf16",
            IndexOptions::new(DIMS, IndexMetric::L2sq).storage(Storage::BF16),
        ),
        (
            "exact ip bf16",
            IndexOptions::new(DIMS, IndexMetric::InnerProduct).storage(Storage::BF16),
        ),
        (
            "hnsw cosine f32",
            IndexOptions::new(DIMS, IndexMetric::Cosine).hnsw(HnswParams::default()),
        ),
        (
            "hnsw l2sq f16",
            IndexOptions::new(DIMS, IndexMetric::L2sq)
                .storage(Storage::F16)
                .hnsw(HnswParams::default()),
        ),
    ];
    configs
        .into_iter()
        .map(|(name, options)| (name.to_string(), search_all(&build(options, rows), queries)))
        .collect()
}

#[test]
fn every_table_gives_the_scalar_results() {
    let best = kernels::active_isa();
    let rows = values(1, ROWS * DIMS);
    let queries = values(2, QUERIES * DIMS);
    kernels::force(Isa::Scalar).unwrap();
    let reference = run(&rows, &queries);
    let isas: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .collect();
    for &isa in &isas {
        kernels::force(isa).unwrap();
        for ((name, got), (_, want)) in run(&rows, &queries).iter().zip(&reference) {
            for (q, (got, want)) in got.iter().zip(want).enumerate() {
                assert_eq!(got.len(), K, "{isa} {name} query {q}");
                if name.starts_with("hnsw") {
                    // Graphs built on other tables may differ in the last bits of their
                    // distances; the neighbors found must still be the scalar ones.
                    let hits = got.iter().filter(|m| want.iter().any(|w| w.key == m.key));
                    assert!(
                        hits.count() >= K - 1,
                        "{isa} {name} query {q}: {got:?} vs {want:?}"
                    );
                    continue;
                }
                for (rank, (g, w)) in got.iter().zip(want).enumerate() {
                    let tol = 1e-5 * w.distance.abs().max(1.0);
                    assert!(
                        (g.distance - w.distance).abs() <= tol,
                        "{isa} {name} query {q} rank {rank}: {g:?} vs {w:?}"
                    );
                    // Keys agree unless the neighbors are tied within the tolerance.
                    let tied = want
                        .iter()
                        .any(|o| o.key != w.key && (o.distance - w.distance).abs() <= tol);
                    assert!(
                        g.key == w.key || tied,
                        "{isa} {name} query {q} rank {rank}: {g:?} vs {w:?}"
                    );
                }
            }
        }
    }
    kernels::force(best).unwrap();
}
