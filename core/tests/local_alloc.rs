//! The local methods allocate with what they touch, never with `n`: a counting allocator
//! measures the peak heap use of one query on a million-node graph / million-row matrix
//! (forward push, backward push, the pair estimate, the single-coordinate solve) and
//! checks it against the touched count, and against one byte per node (an `n`-sized
//! buffer of `f64` would be 8 MB).
//!
//! (The allocator is the one `sparse_alloc.rs` uses; integration tests are separate
//! crates, so each keeps its own copy.)

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::peak_of;

use ferrovec_core::solver::local::{solve_entry, LocalSolveOptions, Rhs};
use ferrovec_core::solver::pagerank::{
    backward_push, forward_push, pair, BackwardOptions, PairOptions, Personalization, PushOptions,
};
use ferrovec_core::sparse::{CsrMatrix, Graph};

/// splitmix64 stream.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> u32 {
        (self.next_u64() % n as u64) as u32
    }
}

const N: usize = 1_000_000;
const DEG: usize = 4;

/// A million nodes with 4 random out-edges each, as CSR arrays.
fn adjacency(seed: u64) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng(seed);
    let indptr: Vec<u32> = (0..=N).map(|u| (u * DEG) as u32).collect();
    let indices: Vec<u32> = (0..N * DEG).map(|_| rng.below(N)).collect();
    (indptr, indices)
}

/// Bytes a local method may hold per touched node: the map's slots (4-byte key + state of
/// at most 24 bytes, at most 4 slots per entry: load <= 1/2, doubling), the queue and
/// the sorted results (each with doubling slack).
const PER_TOUCHED: usize = 4 * 28 + 2 * 4 + 2 * 16;

#[test]
fn pagerank_queries_allocate_with_what_they_touch() {
    let (indptr, indices) = adjacency(1);
    let g = Graph::from_csr(N, &indptr, &indices, None).unwrap();
    drop((indptr, indices));

    let (r, peak) = peak_of(|| {
        forward_push(
            &g,
            &Personalization::Node(4242),
            &PushOptions {
                eps: 1e-4,
                ..Default::default()
            },
        )
        .unwrap()
    });
    let touched = r.report.touched;
    assert!(r.report.converged && touched < N / 20, "touched {touched}");
    assert!(
        peak <= PER_TOUCHED * touched + 65_536,
        "forward push: {peak} bytes for {touched} touched"
    );
    assert!(
        peak < N,
        "forward push: {peak} bytes is not below one byte per node"
    );

    let (r, peak) = peak_of(|| {
        backward_push(
            &g,
            777,
            &BackwardOptions {
                r_max: 1e-4,
                ..Default::default()
            },
        )
        .unwrap()
    });
    let touched = r.report.touched;
    assert!(r.report.converged);
    assert!(
        peak <= PER_TOUCHED * touched + 65_536,
        "backward push: {peak} bytes for {touched}"
    );
    assert!(peak < N, "backward push: {peak} bytes");

    let (r, peak) = peak_of(|| {
        pair(
            &g,
            4242,
            777,
            &PairOptions {
                r_max: 1e-3,
                walks: 2000,
                ..Default::default()
            },
        )
        .unwrap()
    });
    assert!(r.converged);
    assert!(
        peak <= PER_TOUCHED * r.touched + 65_536,
        "pair: {peak} bytes for {}",
        r.touched
    );
    assert!(peak < N, "pair: {peak} bytes");
}

#[test]
fn a_local_solve_allocates_with_what_it_touches() {
    // A = 10 I - (adjacency with entries 1): rows have 4 off-diagonal ones and a diagonal of
    // 10, so q = 0.4 and |b_j / a_jj| = 0.1 for b = 1.
    let (indptr, indices) = adjacency(2);
    let mut r = Vec::with_capacity(N * (DEG + 1));
    let mut c = Vec::with_capacity(N * (DEG + 1));
    let mut v = Vec::with_capacity(N * (DEG + 1));
    for u in 0..N {
        r.push(u as u32);
        c.push(u as u32);
        v.push(10.0);
        for &t in &indices[indptr[u] as usize..indptr[u + 1] as usize] {
            r.push(u as u32);
            c.push(t);
            v.push(-1.0);
        }
    }
    drop((indptr, indices));
    let a = CsrMatrix::from_triplets(N, N, &r, &c, &v).unwrap();
    drop((r, c, v));
    let b = vec![1.0; N];
    // Every row has ratio ~0.4 and 4 neighbors: the support grows 4x per step while the
    // residual shrinks 2.5x, so a moderate tolerance, refined by walks.
    let o = LocalSolveOptions {
        tol: 1e-2,
        dominance: Some(0.4),
        c_max: Some(0.2), // loose: diagonal entries may add up where a row repeats itself
        walks: 1000,
        ..Default::default()
    };
    let (res, peak) = peak_of(|| solve_entry(a.view(), &Rhs::Dense(&b), 31_337, &o).unwrap());
    assert!(res.converged, "{res:?}");
    assert!(res.rows_read < N / 100);
    // The map (4 slots x (4 + 17 bytes) per entry at most), a round's queue and due list,
    // and the walks' start table (24 bytes per residual entry), with doubling slack.
    assert!(
        peak <= 200 * res.touched + 65_536,
        "{peak} bytes for {} touched",
        res.touched
    );
    assert!(peak < N, "{peak} bytes");
}
