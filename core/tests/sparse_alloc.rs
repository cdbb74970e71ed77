//! The sparse constructors allocate what their documentation says, never what an input
//! merely declares: a counting allocator measures the peak heap use of
//!
//! * `CsrRef::new` on a million-row matrix: zero bytes (validation without a copy);
//! * `CsrMatrix::from_triplets`: at most `4 (n_rows + 1) + 28 t` bytes, result included;
//! * the Matrix Market reader, on valid files and on files whose declared sizes lie: at most
//!   `22 (len + 1) + 4 (rows + 1)` bytes (plus a little for error messages), and nothing
//!   large when the declared counts do not fit the input.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::peak_of;

use ferrovec_core::sparse::matrix_market::{self, ReadOptions, DEFAULT_MAX_DIM};
use ferrovec_core::sparse::{CsrMatrix, CsrRef};

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

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[test]
fn csr_ref_validates_a_million_rows_without_allocating() {
    let n = 1_000_000usize;
    // A tridiagonal matrix, built before measuring.
    let mut indptr = vec![0u32];
    let mut indices = Vec::new();
    let mut values = Vec::new();
    for i in 0..n {
        for j in i.saturating_sub(1)..(i + 2).min(n) {
            indices.push(j as u32);
            values.push(if i == j { 4.0 } else { -1.0 });
        }
        indptr.push(indices.len() as u32);
    }
    let (r, peak) = peak_of(|| CsrRef::new(n, n, &indptr, &indices, &values).map(|a| a.nnz()));
    assert_eq!(r.unwrap(), 3 * n - 2);
    assert_eq!(peak, 0, "validation must not copy or allocate");
    let (r, peak) = peak_of(|| {
        let a = CsrRef::new(n, n, &indptr, &indices, &values).unwrap();
        (a.first_non_dominant_row(), a.first_asymmetry(0.0).unwrap())
    });
    assert_eq!(r, (None, None));
    assert_eq!(peak, 0, "dominance and symmetry checks allocate nothing");
}

#[test]
fn from_triplets_peak_is_as_documented() {
    let mut rng = Rng(21);
    for &(n_rows, n_cols, t) in &[
        (1usize, 1usize, 0usize),
        (100, 100, 1000),
        (10_000, 50, 30_000),
        (50, 10_000, 30_000),
        (100_000, 100_000, 10),
    ] {
        let rows: Vec<u32> = (0..t).map(|_| rng.below(n_rows) as u32).collect();
        let cols: Vec<u32> = (0..t).map(|_| rng.below(n_cols) as u32).collect();
        let vals: Vec<f64> = (0..t).map(|k| k as f64).collect();
        let (a, peak) = peak_of(|| CsrMatrix::from_triplets(n_rows, n_cols, &rows, &cols, &vals));
        let a = a.unwrap();
        let bound = 4 * (n_rows + 1) + 28 * t;
        assert!(
            peak <= bound,
            "{n_rows} x {n_cols}, {t} triplets: {peak} > {bound}"
        );
        // And at least the result itself.
        assert!(peak >= 4 * (n_rows + 1) + 12 * a.nnz());
    }
}

/// A Matrix Market file of `n x n` with `entries` random entries (lower triangle when
/// symmetric), shortest possible lines for pattern files.
fn file(rng: &mut Rng, n: usize, entries: usize, field: &str, symmetry: &str) -> Vec<u8> {
    let mut s = format!("%%MatrixMarket matrix coordinate {field} {symmetry}\n{n} {n} {entries}\n");
    for _ in 0..entries {
        let (a, b) = (1 + rng.below(n), 1 + rng.below(n));
        let (i, j) = match symmetry {
            "general" => (a, b),
            "symmetric" => (a.max(b), a.min(b)),
            _ => {
                let i = 2 + rng.below(n - 1);
                (i, 1 + rng.below(i - 1))
            }
        };
        if field == "pattern" {
            s += &format!("{i} {j}\n");
        } else {
            s += &format!("{i} {j} {}\n", rng.below(100));
        }
    }
    s.into_bytes()
}

/// The documented bound for reading `bytes` declaring `rows` rows.
fn read_bound(bytes: &[u8], rows: usize) -> usize {
    22 * (bytes.len() + 1) + 4 * (rows + 1) + 1024
}

#[test]
fn matrix_market_peak_is_bounded_by_the_input() {
    let mut rng = Rng(22);
    let mut worst = 0.0f64;
    for &(field, symmetry) in &[
        ("real", "general"),
        ("pattern", "general"),
        ("pattern", "symmetric"),
        ("integer", "symmetric"),
        ("real", "skew-symmetric"),
    ] {
        for &(n, entries) in &[(9usize, 40usize), (9, 5000), (300, 20_000), (5000, 100)] {
            let bytes = file(&mut rng, n, entries, field, symmetry);
            let (r, peak) = peak_of(|| matrix_market::read(&bytes));
            let a = r.unwrap_or_else(|e| panic!("{field} {symmetry}: {e}"));
            assert_eq!(a.n_rows(), n);
            let bound = read_bound(&bytes, n);
            assert!(
                peak <= bound,
                "{field} {symmetry} {n} {entries}: {peak} > {bound}"
            );
            // Beyond the row pointers, bytes per input byte.
            worst = worst.max((peak - 4 * (n + 1)) as f64 / bytes.len() as f64);
        }
    }
    // The tightest case (2-field symmetric lines) approaches the documented factor.
    assert!(
        worst > 10.0 && worst <= 22.0,
        "worst {worst:.1} bytes per input byte"
    );
    println!("Matrix Market reader: at most {worst:.1} heap bytes per input byte");
}

#[test]
fn lying_sizes_allocate_nothing_large() {
    let mut rng = Rng(23);
    let body = file(&mut rng, 50, 200, "pattern", "symmetric");
    let text = String::from_utf8(body).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    let (_, entries) = rest.split_once('\n').unwrap();
    let sizes = [
        "50 50 1000000000000".to_string(),
        "50 50 18446744073709551615".to_string(),
        "50 50 201".to_string(),
        "50 50 199".to_string(),
        "50 50 0".to_string(),
        "4294967296 4294967296 200".to_string(),
        format!("{} {} 200", DEFAULT_MAX_DIM + 1, DEFAULT_MAX_DIM + 1),
    ];
    for size in &sizes {
        let bytes = format!("{header}\n{size}\n{entries}").into_bytes();
        let (r, peak) = peak_of(|| matrix_market::read(&bytes));
        assert!(r.is_err(), "{size}");
        // A wrong count is found before or while reading entries: never more than the
        // entries of the real body cost, and nothing large for sizes refused up front.
        assert!(peak <= read_bound(&bytes, 50), "{size}: peak {peak}");
        if size.len() > 12 {
            assert!(
                peak <= 1024,
                "{size}: peak {peak} for a size refused up front"
            );
        }
    }
    // Declared rows do cost 4 bytes each, up to the caller's limit, and nothing else.
    let empty_rows = format!("{header}\n{DEFAULT_MAX_DIM} {DEFAULT_MAX_DIM} 0\n").into_bytes();
    let (r, peak) = peak_of(|| matrix_market::read(&empty_rows));
    assert_eq!(r.unwrap().n_rows(), DEFAULT_MAX_DIM);
    assert!(peak <= 4 * (DEFAULT_MAX_DIM + 1) + 1024, "peak {peak}");
    let (r, peak) =
        peak_of(|| matrix_market::read_with(&empty_rows, &ReadOptions { max_dim: 1000 }));
    assert!(r.is_err());
    assert!(peak <= 1024, "peak {peak}");
}
