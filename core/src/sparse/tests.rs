//! Sparse layer tests: every constructor against a dense reference, every invariant broken
//! once (and the error naming it), the analyses on matrices whose answers are known, Matrix
//! Market text from the NIST specification and its error cases line by line, and graphs.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::matrix_market::{self, Field, ReadOptions, Symmetry};
use super::*;
use crate::Error;

/// splitmix64 stream for test data.
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

    /// Uniform in [-1, 1).
    fn f64(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

type Dense = Vec<Vec<f64>>;

fn dense(a: CsrRef<'_>) -> Dense {
    let mut d = vec![vec![0.0; a.n_cols()]; a.n_rows()];
    for (i, (cols, vals)) in a.rows().enumerate() {
        for (&c, &v) in cols.iter().zip(vals) {
            d[i][c as usize] = v;
        }
    }
    d
}

/// The positions a matrix stores, row-major.
fn structure(a: CsrRef<'_>) -> Vec<(usize, usize)> {
    let mut s = Vec::new();
    for (i, (cols, _)) in a.rows().enumerate() {
        s.extend(cols.iter().map(|&c| (i, c as usize)));
    }
    s
}

/// A matrix's arrays pass `CsrRef::new` (so every invariant holds).
fn assert_valid(a: &CsrMatrix) {
    CsrRef::new(a.n_rows(), a.n_cols(), a.indptr(), a.indices(), a.values())
        .expect("a constructed matrix must satisfy the invariants");
}

fn invalid_msg<T: core::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(Error::InvalidArgument(m)) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

fn corrupt_msg<T: core::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(Error::CorruptFile(m)) => m,
        other => panic!("expected CorruptFile, got {other:?}"),
    }
}

/// Random triplets with many repeats: positions drawn from a small pool.
fn random_triplets(
    rng: &mut Rng,
    n_rows: usize,
    n_cols: usize,
    t: usize,
) -> (Vec<u32>, Vec<u32>, Vec<f64>) {
    let pool: Vec<(u32, u32)> = (0..(t / 2).max(1))
        .map(|_| (rng.below(n_rows) as u32, rng.below(n_cols) as u32))
        .collect();
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..t {
        let (i, j) = pool[rng.below(pool.len())];
        r.push(i);
        c.push(j);
        // Some exact zeros, so explicit zeros and cancelling sums occur.
        v.push(if rng.below(8) == 0 { 0.0 } else { rng.f64() });
    }
    (r, c, v)
}

/// Dense reference of triplets: repeats summed in input order, plus the stored positions.
fn dense_of_triplets(
    n_rows: usize,
    n_cols: usize,
    r: &[u32],
    c: &[u32],
    v: &[f64],
) -> (Dense, Vec<(usize, usize)>) {
    let mut d = vec![vec![0.0; n_cols]; n_rows];
    let mut seen = vec![vec![false; n_cols]; n_rows];
    for k in 0..r.len() {
        let (i, j) = (r[k] as usize, c[k] as usize);
        d[i][j] = if seen[i][j] { d[i][j] + v[k] } else { v[k] };
        seen[i][j] = true;
    }
    let mut s = Vec::new();
    for (i, row) in seen.iter().enumerate() {
        for (j, &b) in row.iter().enumerate() {
            if b {
                s.push((i, j));
            }
        }
    }
    (d, s)
}

/// A random canonical matrix with about `density` of its entries stored.
fn random_matrix(rng: &mut Rng, n_rows: usize, n_cols: usize, density: f64) -> CsrMatrix {
    let mut coo = CooMatrix::new(n_rows, n_cols).unwrap();
    for i in 0..n_rows {
        for j in 0..n_cols {
            if (rng.f64() + 1.0) / 2.0 < density {
                coo.push(i, j, rng.f64() * 10.0).unwrap();
            }
        }
    }
    coo.to_csr().unwrap()
}

// ---------------------------------------------------------------- CSR validation

#[test]
fn csr_ref_borrows_valid_arrays_without_copying() {
    // [[1, 0, 2], [0, 0, 0], [0, 3, 0]]
    let indptr = [0u32, 2, 2, 3];
    let indices = [0u32, 2, 1];
    let values = [1.0, 2.0, 3.0];
    let a = CsrRef::new(3, 3, &indptr, &indices, &values).unwrap();
    assert_eq!(a.indptr().as_ptr(), indptr.as_ptr());
    assert_eq!(a.indices().as_ptr(), indices.as_ptr());
    assert_eq!(a.values().as_ptr(), values.as_ptr());
    assert_eq!((a.n_rows(), a.n_cols(), a.nnz()), (3, 3, 3));
    assert_eq!(
        dense(a),
        vec![
            vec![1.0, 0.0, 2.0],
            vec![0.0, 0.0, 0.0],
            vec![0.0, 3.0, 0.0]
        ]
    );
    // The owned constructor keeps the caller's buffers too.
    let (p, i, v) = (indptr.to_vec(), indices.to_vec(), values.to_vec());
    let ptrs = (p.as_ptr(), i.as_ptr(), v.as_ptr());
    let m = CsrMatrix::from_csr(3, 3, p, i, v).unwrap();
    assert_eq!(
        (
            m.indptr().as_ptr(),
            m.indices().as_ptr(),
            m.values().as_ptr()
        ),
        ptrs
    );
    assert_eq!(m.view(), a);
}

#[test]
fn csr_validation_names_every_broken_invariant() {
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    // (n_rows, n_cols, indptr, indices, values, expected message fragment)
    #[allow(clippy::type_complexity)]
    let cases: Vec<(usize, usize, Vec<u32>, Vec<u32>, Vec<f64>, &str)> = vec![
        (
            2,
            3,
            vec![1, 1, 2],
            vec![0, 1],
            vec![1.0, 1.0],
            "indptr[0] is 1",
        ),
        (
            3,
            3,
            vec![0, 2, 1, 3],
            vec![0, 1, 2],
            vec![1.0; 3],
            "row pointers decrease at row 1: indptr[1] = 2 > indptr[2] = 1",
        ),
        (
            2,
            3,
            vec![0, 1, 3],
            vec![0, 1],
            vec![1.0; 2],
            "indptr[2] = 3 does not match the 2 stored entries",
        ),
        (
            2,
            3,
            vec![0, 1, 3],
            vec![0, 1, 3],
            vec![1.0; 3],
            "row 1, entry 2: column 3 is out of range for 3 columns",
        ),
        (
            2,
            3,
            vec![0, 1, 3],
            vec![0, 2, 0],
            vec![1.0; 3],
            "row 1: columns are not sorted (entry 2: column 0 after column 2)",
        ),
        (
            2,
            3,
            vec![0, 2, 2],
            vec![1, 1],
            vec![1.0; 2],
            "row 0: column 1 is stored twice (entries 0 and 1)",
        ),
        (
            3,
            3,
            vec![0, 1, 2, 3],
            vec![0, 1, 2],
            vec![1.0, 2.0, nan],
            "row 2, column 2 (entry 2): value NaN is not finite",
        ),
        (
            1,
            3,
            vec![0, 1],
            vec![1],
            vec![-inf],
            "row 0, column 1 (entry 0): value -inf is not finite",
        ),
        // An int32 -1 seen as u32: never a valid column or row pointer.
        (
            1,
            3,
            vec![0, 1],
            vec![u32::MAX],
            vec![1.0],
            "column 4294967295 is out of range",
        ),
        (
            1,
            3,
            vec![0, u32::MAX],
            vec![0],
            vec![1.0],
            "indptr[1] = 4294967295 does not match the 1 stored entries",
        ),
        (
            MAX_DIM + 1,
            1,
            vec![],
            vec![],
            vec![],
            "rows exceed the limit",
        ),
        (
            1,
            MAX_DIM + 1,
            vec![0, 0],
            vec![],
            vec![],
            "columns exceed the limit",
        ),
    ];
    for (n_rows, n_cols, indptr, indices, values, want) in cases {
        let m = invalid_msg(CsrRef::new(n_rows, n_cols, &indptr, &indices, &values));
        assert!(m.contains(want), "{m:?} should contain {want:?}");
        // The owned constructor validates the same way.
        let m2 = invalid_msg(CsrMatrix::from_csr(n_rows, n_cols, indptr, indices, values));
        assert_eq!(m, m2);
    }
    // Length mismatches.
    assert_eq!(
        CsrRef::new(3, 3, &[0, 0, 0], &[], &[]).unwrap_err(),
        Error::DimensionMismatch {
            expected: 4,
            actual: 3
        }
    );
    assert_eq!(
        CsrRef::new(1, 3, &[0, 2], &[0, 1], &[1.0]).unwrap_err(),
        Error::DimensionMismatch {
            expected: 2,
            actual: 1
        }
    );
}

#[test]
fn empty_and_degenerate_shapes() {
    let a = CsrRef::new(0, 0, &[0], &[], &[]).unwrap();
    assert_eq!((a.n_rows(), a.n_cols(), a.nnz()), (0, 0, 0));
    assert!(a.transpose().unwrap().view() == a);
    assert_eq!(a.first_non_dominant_row(), None);
    assert_eq!(a.first_asymmetry(0.0).unwrap(), None);
    assert_eq!(a.find_zero_diagonal(), None);
    let mut y: [f64; 0] = [];
    a.mul_vec(&[], &mut y).unwrap();
    // 0 x 5 and 4 x 0.
    let b = CsrMatrix::zeros(0, 5).unwrap();
    assert_eq!(b.transpose().unwrap().n_rows(), 5);
    let c = CsrMatrix::zeros(4, 0).unwrap();
    let mut y = [7.0; 4];
    c.mul_vec(&[], &mut y).unwrap();
    assert_eq!(y, [0.0; 4]);
    assert_valid(&c.transpose().unwrap());
    assert!(CsrMatrix::zeros(MAX_DIM + 1, 1).is_err());
    assert!(CsrMatrix::identity(MAX_DIM + 1).is_err());
}

// ---------------------------------------------------------------- construction

#[test]
fn from_triplets_matches_a_dense_reference() {
    let mut rng = Rng(1);
    for round in 0..200 {
        let n_rows = 1 + rng.below(12);
        let n_cols = 1 + rng.below(12);
        let t = rng.below(60);
        let (r, c, v) = random_triplets(&mut rng, n_rows, n_cols, t);
        let a = CsrMatrix::from_triplets(n_rows, n_cols, &r, &c, &v).unwrap();
        assert_valid(&a);
        let (d, s) = dense_of_triplets(n_rows, n_cols, &r, &c, &v);
        // Bit-identical: repeats are summed in input order, like the reference.
        let got = dense(a.view());
        for i in 0..n_rows {
            for j in 0..n_cols {
                assert_eq!(
                    got[i][j].to_bits(),
                    d[i][j].to_bits(),
                    "round {round} ({i}, {j})"
                );
            }
        }
        // Every position given is stored, explicit zeros included.
        assert_eq!(structure(a.view()), s, "round {round}");
    }
}

#[test]
fn from_triplets_keeps_explicit_zeros_and_cancelled_sums() {
    let a = CsrMatrix::from_triplets(2, 2, &[0, 1, 1], &[1, 0, 0], &[0.0, 2.5, -2.5]).unwrap();
    assert_eq!(a.nnz(), 2);
    assert_eq!(a.row(0), Some((&[1u32][..], &[0.0][..])));
    assert_eq!(a.row(1), Some((&[0u32][..], &[0.0][..])));
    let mut b = a.clone();
    b.drop_zeros();
    assert_eq!(b.nnz(), 0);
    assert_eq!(b.indptr(), &[0, 0, 0]);
    assert_valid(&b);
}

#[test]
fn from_triplets_errors_name_the_triplet() {
    let m = invalid_msg(CsrMatrix::from_triplets(
        2,
        3,
        &[0, 2],
        &[0, 0],
        &[1.0, 1.0],
    ));
    assert!(
        m.contains("triplet 1: row 2 is out of range for 2 rows"),
        "{m}"
    );
    let m = invalid_msg(CsrMatrix::from_triplets(
        2,
        3,
        &[0, 1],
        &[3, 0],
        &[1.0, 1.0],
    ));
    assert!(
        m.contains("triplet 0: column 3 is out of range for 3 columns"),
        "{m}"
    );
    let m = invalid_msg(CsrMatrix::from_triplets(
        2,
        3,
        &[0, 1],
        &[0, 2],
        &[1.0, f64::NAN],
    ));
    assert!(
        m.contains("triplet 1 (1, 2): value NaN is not finite"),
        "{m}"
    );
    let m = invalid_msg(CsrMatrix::from_triplets(
        2,
        2,
        &[1, 0, 1],
        &[1, 0, 1],
        &[f64::MAX, 1.0, f64::MAX],
    ));
    assert!(
        m.contains("row 1, column 1: the repeated entries sum to inf"),
        "{m}"
    );
    assert_eq!(
        CsrMatrix::from_triplets(2, 2, &[0, 1], &[0], &[1.0, 1.0]).unwrap_err(),
        Error::DimensionMismatch {
            expected: 2,
            actual: 1
        }
    );
    assert_eq!(
        CsrMatrix::from_triplets(2, 2, &[0], &[0], &[]).unwrap_err(),
        Error::DimensionMismatch {
            expected: 1,
            actual: 0
        }
    );
}

#[test]
fn from_csr_unsorted_sorts_and_sums_like_triplets() {
    let mut rng = Rng(2);
    for _ in 0..100 {
        let n_rows = 1 + rng.below(10);
        let n_cols = 1 + rng.below(10);
        let t = rng.below(50);
        let (mut r, c, v) = random_triplets(&mut rng, n_rows, n_cols, t);
        // Group by row (stable, keeping each row's column order random) to get CSR arrays.
        let mut order: Vec<usize> = (0..r.len()).collect();
        order.sort_by_key(|&k| r[k]);
        let cols: Vec<u32> = order.iter().map(|&k| c[k]).collect();
        let vals: Vec<f64> = order.iter().map(|&k| v[k]).collect();
        let mut indptr = vec![0u32; n_rows + 1];
        for &k in &order {
            indptr[r[k] as usize + 1] += 1;
        }
        for i in 0..n_rows {
            indptr[i + 1] += indptr[i];
        }
        let a = CsrMatrix::from_csr_unsorted(n_rows, n_cols, &indptr, &cols, &vals).unwrap();
        assert_valid(&a);
        r = order.iter().map(|&k| r[k]).collect();
        let b = CsrMatrix::from_triplets(n_rows, n_cols, &r, &cols, &vals).unwrap();
        assert_eq!(a, b);
    }
    // Out-of-order and repeated columns are fine here, everything else is still checked.
    let a = CsrMatrix::from_csr_unsorted(1, 3, &[0, 3], &[2, 0, 2], &[1.0, 2.0, 3.0]).unwrap();
    assert_eq!(a.row(0), Some((&[0u32, 2][..], &[2.0, 4.0][..])));
    let m = invalid_msg(CsrMatrix::from_csr_unsorted(
        1,
        3,
        &[0, 2],
        &[2, 3],
        &[1.0, 2.0],
    ));
    assert!(
        m.contains("row 0, entry 1: column 3 is out of range"),
        "{m}"
    );
}

#[test]
fn coo_builder_refuses_bad_entries_and_keeps_the_rest() {
    let mut coo = CooMatrix::new(2, 2).unwrap();
    coo.push(0, 1, 1.0).unwrap();
    let m = invalid_msg(coo.push(2, 0, 1.0));
    assert!(
        m.contains("entry (2, 0) is outside the 2 x 2 matrix"),
        "{m}"
    );
    let m = invalid_msg(coo.push(0, 0, f64::INFINITY));
    assert!(m.contains("entry (0, 0): value inf is not finite"), "{m}");
    assert_eq!(coo.len(), 1);
    coo.try_reserve(10).unwrap();
    coo.push(0, 1, 2.0).unwrap();
    coo.push(1, 0, 3.0).unwrap();
    let a = coo.to_csr().unwrap();
    assert_eq!(a.get(0, 1), Some(3.0));
    assert_eq!(a.get(1, 0), Some(3.0));
    assert_eq!(a.nnz(), 2);
    assert!(CooMatrix::new(MAX_DIM + 1, 1).is_err());
    assert!(CooMatrix::new(0, 0).unwrap().to_csr().unwrap().nnz() == 0);
}

#[test]
fn identity_and_zeros() {
    let i = CsrMatrix::identity(4).unwrap();
    assert_valid(&i);
    assert_eq!(i.diagonal().unwrap(), vec![1.0; 4]);
    assert_eq!(i.find_zero_diagonal(), None);
    assert_eq!(i.first_asymmetry(0.0).unwrap(), None);
    let mut y = [0.0; 4];
    i.mul_vec(&[1.0, 2.0, 3.0, 4.0], &mut y).unwrap();
    assert_eq!(y, [1.0, 2.0, 3.0, 4.0]);
    let z = CsrMatrix::zeros(3, 2).unwrap();
    assert_valid(&z);
    assert_eq!(z.nnz(), 0);
    assert_eq!(
        z.find_zero_diagonal(),
        Some(ZeroDiagonal {
            row: 0,
            stored: false
        })
    );
}

// ---------------------------------------------------------------- accessors and analyses

#[test]
fn accessors_answer_none_outside_the_matrix() {
    let a = CsrMatrix::from_triplets(2, 3, &[0, 1], &[2, 0], &[5.0, 6.0]).unwrap();
    assert_eq!(a.row(2), None);
    assert_eq!(a.row(usize::MAX), None);
    assert_eq!(a.row_nnz(0), Some(1));
    assert_eq!(a.row_nnz(5), None);
    assert_eq!(a.get(0, 2), Some(5.0));
    assert_eq!(a.get(0, 1), Some(0.0));
    assert_eq!(a.get(0, 3), None);
    assert_eq!(a.get(2, 0), None);
    assert_eq!(a.get(usize::MAX, usize::MAX), None);
    assert_eq!(a.rows().len(), 2);
    assert_eq!(a.row_sums().unwrap(), vec![5.0, 6.0]);
}

/// A sum in the f64 kernels' order (`crate::kernels::sparse`): term `k` to partial sum
/// `k mod 16`, each from +0 in increasing `k`, then the 16 partials added by halving.
fn shared_order_sum(terms: &[f64]) -> f64 {
    let mut p = [0.0f64; 16];
    for (k, &t) in terms.iter().enumerate() {
        p[k % 16] += t;
    }
    let mut half = 8;
    while half > 0 {
        for k in 0..half {
            p[k] += p[k + half];
        }
        half /= 2;
    }
    p[0]
}

#[test]
fn mul_vec_and_transpose_match_a_dense_reference() {
    let mut rng = Rng(3);
    for _ in 0..100 {
        let n_rows = rng.below(15);
        let n_cols = rng.below(15);
        let a = random_matrix(&mut rng, n_rows, n_cols, 0.3);
        let d = dense(a.view());
        let x: Vec<f64> = (0..n_cols).map(|_| rng.f64()).collect();
        let mut y = vec![f64::NAN; n_rows];
        a.mul_vec(&x, &mut y).unwrap();
        for i in 0..n_rows {
            // The kernels' order over the row's stored entries, to the bit.
            let (cols, vals) = a.row(i).unwrap();
            let terms: Vec<f64> = cols
                .iter()
                .zip(vals)
                .map(|(&c, &v)| v * x[c as usize])
                .collect();
            assert_eq!(
                y[i].to_bits(),
                shared_order_sum(&terms).to_bits(),
                "row {i}"
            );
            // And the dense product in column order, to rounding.
            let (want, mag) = (0..n_cols).fold((0.0, 0.0), |(s, m), j| {
                (s + d[i][j] * x[j], m + (d[i][j] * x[j]).abs())
            });
            assert!((y[i] - want).abs() <= 8.0 * f64::EPSILON * mag, "row {i}");
        }
        let t = a.transpose().unwrap();
        assert_valid(&t);
        assert_eq!((t.n_rows(), t.n_cols()), (n_cols, n_rows));
        let dt = dense(t.view());
        for i in 0..n_rows {
            for j in 0..n_cols {
                assert_eq!(dt[j][i], d[i][j]);
            }
        }
        assert_eq!(t.transpose().unwrap(), a);
        // A^T x without the transpose agrees with the transpose's A x.
        let xr: Vec<f64> = (0..n_rows).map(|_| rng.f64()).collect();
        let mut y1 = vec![f64::NAN; n_cols];
        let mut y2 = vec![f64::NAN; n_cols];
        a.mul_vec_transpose(&xr, &mut y1).unwrap();
        t.mul_vec(&xr, &mut y2).unwrap();
        for j in 0..n_cols {
            // A scatter in row order against the kernels' order: equal to rounding.
            let mag: f64 = (0..n_rows).map(|i| (d[i][j] * xr[i]).abs()).sum();
            assert!(
                (y1[j] - y2[j]).abs() <= 8.0 * f64::EPSILON * mag,
                "column {j}"
            );
        }
    }
}

#[test]
fn kernel_view_borrows_the_arrays_and_every_table_gives_mul_vecs_bits() {
    let mut rng = Rng(17);
    // Rows from empty to longer than 16 entries (the kernels' short and long row paths),
    // plus every matrix the crate builds without `validate`: transpose, zeros, identity.
    for (n_rows, n_cols, density) in [(40, 37, 0.3), (9, 70, 0.6), (1, 1, 1.0), (50, 3, 0.5)] {
        let a = random_matrix(&mut rng, n_rows, n_cols, density);
        let t = a.transpose().unwrap();
        for m in [
            &a,
            &t,
            &CsrMatrix::zeros(n_rows, n_cols).unwrap(),
            &CsrMatrix::identity(n_cols).unwrap(),
        ] {
            let v = m.kernel_view();
            assert_eq!(
                (v.n_rows(), v.n_cols(), v.nnz()),
                (m.n_rows(), m.n_cols(), m.nnz())
            );
            assert_eq!(v.row_ptr().as_ptr(), m.indptr().as_ptr());
            assert_eq!(v.col_idx().as_ptr(), m.indices().as_ptr());
            assert_eq!(v.values().as_ptr(), m.values().as_ptr());
            // The view passes the kernels' own validation.
            crate::kernels::CsrRef::new(m.n_cols(), m.indptr(), m.indices(), m.values()).unwrap();
            let x: Vec<f64> = (0..m.n_cols()).map(|_| rng.f64()).collect();
            let mut want = vec![f64::NAN; m.n_rows()];
            m.mul_vec(&x, &mut want).unwrap();
            for k in crate::kernels::Kernels::variants() {
                let mut y = vec![f64::NAN; m.n_rows()];
                k.spmv_csr_f64(&v, &x, &mut y).unwrap();
                let bits = |y: &[f64]| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&y), bits(&want), "{}", k.variant());
            }
        }
    }
}

#[test]
fn mul_vec_checks_lengths() {
    let a = CsrMatrix::zeros(2, 3).unwrap();
    let mut y2 = [0.0; 2];
    let mut y3 = [0.0; 3];
    assert_eq!(
        a.mul_vec(&[0.0; 2], &mut y2).unwrap_err(),
        Error::DimensionMismatch {
            expected: 3,
            actual: 2
        }
    );
    assert_eq!(
        a.mul_vec(&[0.0; 3], &mut y3).unwrap_err(),
        Error::DimensionMismatch {
            expected: 2,
            actual: 3
        }
    );
    assert!(a.mul_vec_transpose(&[0.0; 3], &mut y3).is_err());
    assert!(a.mul_vec_transpose(&[0.0; 2], &mut y2).is_err());
    a.mul_vec_transpose(&[0.0; 2], &mut y3).unwrap();
}

#[test]
fn transpose_keeps_explicit_zeros() {
    let a = CsrMatrix::from_triplets(2, 3, &[0, 1, 1], &[2, 2, 0], &[0.0, 1.0, 2.0]).unwrap();
    let t = a.transpose().unwrap();
    assert_eq!(t.nnz(), 3);
    assert_eq!(t.row(2), Some((&[0u32, 1][..], &[0.0, 1.0][..])));
}

#[test]
fn zero_diagonal_names_the_row() {
    // Row 1 has no (1, 1); row 2 stores a zero there.
    let a = CsrMatrix::from_triplets(3, 3, &[0, 1, 2], &[0, 0, 2], &[1.0, 1.0, 0.0]).unwrap();
    let z = a.find_zero_diagonal().unwrap();
    assert_eq!(
        z,
        ZeroDiagonal {
            row: 1,
            stored: false
        }
    );
    assert_eq!(alloc::format!("{z}"), "row 1 has no diagonal entry");
    assert_eq!(a.diagonal().unwrap(), vec![1.0, 0.0, 0.0]);
    let b = CsrMatrix::from_triplets(3, 3, &[0, 1, 2], &[0, 1, 2], &[1.0, -1.0, 0.0]).unwrap();
    let z = b.find_zero_diagonal().unwrap();
    assert_eq!(
        z,
        ZeroDiagonal {
            row: 2,
            stored: true
        }
    );
    assert_eq!(alloc::format!("{z}"), "row 2 has a zero diagonal entry");
    // Rectangular: only the min(n_rows, n_cols) rows with a diagonal position count.
    let c = CsrMatrix::from_triplets(3, 2, &[0, 1], &[0, 1], &[1.0, 2.0]).unwrap();
    assert_eq!(c.find_zero_diagonal(), None);
    assert_eq!(c.diagonal().unwrap(), vec![1.0, 2.0]);
}

#[test]
fn diagonal_dominance_reports_the_first_row_and_its_margin() {
    // Row margins: 4 - 3 = 1, 5 - 4 = 1, 2 - 2 = 0 (not strict), 1 - 3 = -2.
    let a = CsrMatrix::from_triplets(
        4,
        4,
        &[0, 0, 0, 1, 1, 1, 2, 2, 3, 3],
        &[0, 1, 2, 0, 1, 3, 1, 2, 3, 0],
        &[4.0, 1.0, -2.0, 1.0, -5.0, 3.0, -2.0, 2.0, 1.0, 3.0],
    )
    .unwrap();
    let v = a.first_non_dominant_row().unwrap();
    assert_eq!(
        v,
        DominanceViolation {
            row: 2,
            margin: 0.0
        }
    );
    assert!(alloc::format!("{v}").contains("row 2 is not strictly diagonally dominant"));
    // Without row 2's off-diagonal entry, row 3 is next (margin -2).
    let b = CsrMatrix::from_triplets(
        4,
        4,
        &[0, 1, 2, 3, 3],
        &[0, 1, 2, 3, 0],
        &[1.0, 1.0, 1.0, 1.0, -3.0],
    )
    .unwrap();
    assert_eq!(
        b.first_non_dominant_row(),
        Some(DominanceViolation {
            row: 3,
            margin: -2.0
        })
    );
    // Strictly dominant.
    let c = CsrMatrix::from_triplets(2, 2, &[0, 0, 1, 1], &[0, 1, 0, 1], &[3.0, -2.9, 0.5, -1.0])
        .unwrap();
    assert_eq!(c.first_non_dominant_row(), None);
    // An empty row (margin 0) and a row without a diagonal position violate.
    let d = CsrMatrix::from_triplets(2, 2, &[0], &[0], &[1.0]).unwrap();
    assert_eq!(
        d.first_non_dominant_row(),
        Some(DominanceViolation {
            row: 1,
            margin: 0.0
        })
    );
    let e = CsrMatrix::from_triplets(2, 1, &[0, 1], &[0, 0], &[1.0, 1.0]).unwrap();
    assert_eq!(
        e.first_non_dominant_row(),
        Some(DominanceViolation {
            row: 1,
            margin: -1.0
        })
    );
    // Off-diagonal sums that overflow give -inf, still reported.
    let f =
        CsrMatrix::from_triplets(1, 3, &[0, 0, 0], &[0, 1, 2], &[1.0, f64::MAX, f64::MAX]).unwrap();
    assert_eq!(
        f.first_non_dominant_row().unwrap().margin,
        f64::NEG_INFINITY
    );
}

#[test]
fn symmetry_exact_and_within_tolerance() {
    let mut rng = Rng(4);
    let a = random_matrix(&mut rng, 8, 8, 0.4);
    // A + A^T is exactly symmetric.
    let t = a.transpose().unwrap();
    let (mut r, mut c, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for m in [&a, &t] {
        for (i, (cols, vals)) in m.rows().enumerate() {
            for (&j, &x) in cols.iter().zip(vals) {
                r.push(i as u32);
                c.push(j);
                v.push(x);
            }
        }
    }
    let s = CsrMatrix::from_triplets(8, 8, &r, &c, &v).unwrap();
    assert_eq!(s.first_asymmetry(0.0).unwrap(), None);
    // Perturb one off-diagonal entry by a relative 1e-12.
    let k = s
        .rows()
        .enumerate()
        .flat_map(|(i, (cols, _))| cols.iter().map(move |&j| (i, j as usize)))
        .position(|(i, j)| i != j)
        .unwrap();
    let (indptr, indices, mut values) = s.clone().into_arrays();
    values[k] *= 1.0 + 1e-12;
    let p = CsrMatrix::from_csr(8, 8, indptr, indices, values).unwrap();
    let asym = p.first_asymmetry(0.0).unwrap().unwrap();
    assert_eq!(
        p.get(asym.row, asym.col).unwrap(),
        asym.value,
        "the report carries the stored value"
    );
    assert_eq!(p.get(asym.col, asym.row).unwrap(), asym.mirror);
    assert_eq!(p.first_asymmetry(1e-9).unwrap(), None);
    // A missing mirror counts as 0; a stored zero mirrors a missing entry.
    let q = CsrMatrix::from_triplets(2, 2, &[0, 1], &[1, 1], &[2.0, 1.0]).unwrap();
    assert_eq!(
        q.first_asymmetry(0.5).unwrap(),
        Some(Asymmetry {
            row: 0,
            col: 1,
            value: 2.0,
            mirror: 0.0
        })
    );
    let z = CsrMatrix::from_triplets(2, 2, &[0], &[1], &[0.0]).unwrap();
    assert_eq!(z.first_asymmetry(0.0).unwrap(), None);
    // Argument checks.
    assert!(matches!(
        CsrMatrix::zeros(2, 3).unwrap().first_asymmetry(0.0),
        Err(Error::DimensionMismatch { .. })
    ));
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            s.first_asymmetry(bad),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn drop_zeros_compacts_every_row() {
    let mut rng = Rng(5);
    for _ in 0..50 {
        let (r, c, v) = random_triplets(&mut rng, 6, 7, 40);
        let mut a = CsrMatrix::from_triplets(6, 7, &r, &c, &v).unwrap();
        let before = dense(a.view());
        a.drop_zeros();
        assert_valid(&a);
        assert!(a.values().iter().all(|&x| x != 0.0));
        assert_eq!(dense(a.view()), before);
    }
}

// ---------------------------------------------------------------- Matrix Market

/// The 5 x 5 example of the NIST Matrix Market format description.
const NIST_GENERAL: &str = "%%MatrixMarket matrix coordinate real general
%=================================================================================
%
% This ASCII file represents a sparse MxN matrix with L
% nonzeros in the following Matrix Market format:
%
% +----------------------------------------------+
% |%%MatrixMarket matrix coordinate real general | <--- header line
% |%                                             | <--+
% |% comments                                    |    |-- 0 or more comment lines
% |%                                             | <--+
% |    M  N  L                                   | <--- rows, columns, entries
% |    I1  J1  A(I1, J1)                         | <--+
% |    I2  J2  A(I2, J2)                         |    |
% |    I3  J3  A(I3, J3)                         |    |-- L lines
% |        . . .                                 |    |
% |    IL JL  A(IL, JL)                          | <--+
% +----------------------------------------------+
%
% Indices are 1-based, i.e. A(1,1) is the first element.
%
%=================================================================================
  5  5  8
    1     1   1.000e+00
    2     2   1.050e+01
    3     3   1.500e-02
    1     4   6.000e+00
    4     2   2.505e+02
    4     4  -2.800e+02
    4     5   3.332e+01
    5     5   1.200e+01
";

#[test]
fn reads_the_nist_example() {
    let mm = matrix_market::read_with(NIST_GENERAL.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!((mm.field, mm.symmetry), (Field::Real, Symmetry::General));
    let a = mm.matrix;
    assert_valid(&a);
    assert_eq!((a.n_rows(), a.n_cols(), a.nnz()), (5, 5, 8));
    assert_eq!(
        dense(a.view()),
        vec![
            vec![1.0, 0.0, 0.0, 6.0, 0.0],
            vec![0.0, 10.5, 0.0, 0.0, 0.0],
            vec![0.0, 0.0, 0.015, 0.0, 0.0],
            vec![0.0, 250.5, 0.0, -280.0, 33.32],
            vec![0.0, 0.0, 0.0, 0.0, 12.0],
        ]
    );
}

#[test]
fn reads_symmetric_files_by_mirroring() {
    // A 4 x 4 SPD matrix (the 1-D Laplacian plus 2 I), lower triangle, with the usual
    // layout quirks: CRLF, tabs, a blank line and a comment between entries.
    let text = "%%MatrixMarket matrix coordinate real symmetric\r\n\
                % 1-D Laplacian + 2I\r\n\
                4 4 7\r\n\
                1 1 4.0\r\n\
                2 1 -1\r\n\
                2\t2\t4\r\n\
                \r\n\
                3 2 -1.0e0\r\n\
                % mid-body comment\r\n\
                3 3 4\r\n\
                4 3 -1\r\n\
                4 4 4.0";
    let mm = matrix_market::read_with(text.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(mm.symmetry, Symmetry::Symmetric);
    let a = mm.matrix;
    assert_valid(&a);
    assert_eq!(a.nnz(), 10);
    assert_eq!(
        dense(a.view()),
        vec![
            vec![4.0, -1.0, 0.0, 0.0],
            vec![-1.0, 4.0, -1.0, 0.0],
            vec![0.0, -1.0, 4.0, -1.0],
            vec![0.0, 0.0, -1.0, 4.0],
        ]
    );
    assert_eq!(a.first_asymmetry(0.0).unwrap(), None);
    assert_eq!(a.first_non_dominant_row(), None);
    // The same matrix stored as its upper triangle reads the same.
    let upper = "%%MatrixMarket matrix coordinate real symmetric\n4 4 7\n\
                 1 1 4\n1 2 -1\n2 2 4\n2 3 -1\n3 3 4\n3 4 -1\n4 4 4\n";
    assert_eq!(matrix_market::read(upper.as_bytes()).unwrap(), a);
}

#[test]
fn reads_pattern_integer_and_skew_symmetric_files() {
    let pattern = "%%MatrixMarket matrix coordinate pattern general\n3 4 3\n1 4\n3 1\n2 2\n";
    let mm = matrix_market::read_with(pattern.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(mm.field, Field::Pattern);
    assert_eq!(structure(mm.matrix.view()), vec![(0, 3), (1, 1), (2, 0)]);
    assert!(mm.matrix.values().iter().all(|&v| v == 1.0));

    let sym_pattern = "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 3\n";
    let a = matrix_market::read(sym_pattern.as_bytes()).unwrap();
    assert_eq!(structure(a.view()), vec![(0, 1), (1, 0), (2, 2)]);

    let integer = "%%MatrixMarket MATRIX Coordinate INTEGER General\n2 2 3\n1 1 -7\n2 2 +9\n\
                   1 1 9007199254740993\n";
    let mm = matrix_market::read_with(integer.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(mm.field, Field::Integer);
    // Repeats summed; a 64-bit integer rounds to the nearest f64.
    assert_eq!(mm.matrix.get(0, 0), Some(-7.0 + 9007199254740992.0));
    assert_eq!(mm.matrix.get(1, 1), Some(9.0));

    let skew = "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1.5\n3 2 -2\n";
    let mm = matrix_market::read_with(skew.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(mm.symmetry, Symmetry::SkewSymmetric);
    assert_eq!(
        dense(mm.matrix.view()),
        vec![
            vec![0.0, -1.5, 0.0],
            vec![1.5, 0.0, 2.0],
            vec![0.0, -2.0, 0.0]
        ]
    );

    let double = "%%MatrixMarket matrix coordinate double general\n1 1 1\n1 1 .5\n";
    assert_eq!(
        matrix_market::read(double.as_bytes()).unwrap().get(0, 0),
        Some(0.5)
    );

    // Comment lines may hold any bytes (old files carry Latin-1 names); no entries is fine.
    let mut latin1 = b"%%MatrixMarket matrix coordinate real general\n% Jos\xe9\n".to_vec();
    latin1.extend_from_slice(b"2 3 0\n");
    let a = matrix_market::read(&latin1).unwrap();
    assert_eq!((a.n_rows(), a.n_cols(), a.nnz()), (2, 3, 0));
}

#[test]
fn matrix_market_errors_name_the_line() {
    let h = "%%MatrixMarket matrix coordinate real general\n";
    let s = "%%MatrixMarket matrix coordinate real symmetric\n";
    // (input, fragment of the CorruptFile message)
    let corrupt_cases: Vec<(String, &str)> = vec![
        (String::new(), "line 1: the header must be"),
        (
            "%MatrixMarket matrix coordinate real general\n1 1 0\n".into(),
            "line 1: the header must be",
        ),
        (
            "%%MatrixMarket matrix coordinate real\n1 1 0\n".into(),
            "line 1: the header must be",
        ),
        (
            "%%MatrixMarket matrix coordinate real general extra\n".into(),
            "line 1: unexpected `extra`",
        ),
        (
            "%%MatrixMarket matrix coordinate quaternion general\n".into(),
            "line 1: unknown field `quaternion`",
        ),
        (
            "%%MatrixMarket matrix sparse real general\n".into(),
            "line 1: unknown format `sparse`",
        ),
        (
            "%%MatrixMarket tensor coordinate real general\n".into(),
            "line 1: unknown object `tensor`",
        ),
        (
            "%%MatrixMarket matrix coordinate real diagonal\n".into(),
            "line 1: unknown symmetry `diagonal`",
        ),
        (
            "%%MatrixMarket matrix coordinate pattern skew-symmetric\n".into(),
            "line 1: a `pattern` matrix cannot be",
        ),
        (
            format!("{h}% only comments\n\n"),
            "line 3: the file ends before the size line",
        ),
        (
            format!("{h}3 3\n"),
            "line 2: the size line needs three numbers",
        ),
        (
            format!("{h}3 3 1 1\n1 1 1\n"),
            "line 2: unexpected `1` after the size line",
        ),
        (
            format!("{h}3 -3 1\n1 1 1\n"),
            "line 2: the column count `-3` is not a non-negative integer",
        ),
        (
            format!("{h}3 3 x\n"),
            "line 2: the entry count `x` is not a non-negative integer",
        ),
        (
            format!("{h}3 3 99999999999999999999\n"),
            "line 2: the entry count `99999999999999999999`",
        ),
        (
            format!("{h}3 3 1000000000000\n1 1 1\n2 2 2\n"),
            "line 2: the size line declares 1000000000000 entries but only 2 data lines follow",
        ),
        (
            format!("{h}3 3 3\n1 1 1\n% comment\n\n2 2 2\n3 3 3\n3 3 4\n"),
            "line 8: more entries than the 3 declared on line 2",
        ),
        (
            format!("{h}3 3 3\n1 1 1\n2 2 2\n"),
            "the size line declares 3 entries but only 2 data lines follow",
        ),
        (
            format!("{h}3 3 2\n1 1 1\n0 2 2\n"),
            "line 4: row index 0: Matrix Market indices are 1-based",
        ),
        (
            format!("{h}3 3 2\n1 1 1\n2 4 2\n"),
            "line 4: column index 4 is out of range 1..=3",
        ),
        (
            format!("{h}3 3 1\n-1 1 2\n"),
            "line 3: the row index `-1` is not a positive integer",
        ),
        (
            format!("{h}3 3 1\n1.0 1 2\n"),
            "line 3: the row index `1.0` is not a positive integer",
        ),
        (
            format!("{h}3 3 1\n1 1 nan\n"),
            "line 3: the value `nan` is not finite",
        ),
        (
            format!("{h}3 3 1\n1 1 -inf\n"),
            "line 3: the value `-inf` is not finite",
        ),
        (
            format!("{h}3 3 1\n1 1 1e999\n"),
            "line 3: the value `1e999` is not finite",
        ),
        (
            format!("{h}3 3 1\n1 1 1,5\n"),
            "line 3: the value `1,5` is not a number",
        ),
        (format!("{h}3 3 1\n1 1\n"), "line 3: the value is missing"),
        (
            format!("{h}3 3 1\n1\n"),
            "line 3: the column index is missing",
        ),
        (
            format!("{h}3 3 1\n1 1 2 3\n"),
            "line 3: unexpected `3` after the entry (a real entry has 3 fields)",
        ),
        (
            "%%MatrixMarket matrix coordinate pattern general\n3 3 1\n1 1 2\n".into(),
            "line 3: unexpected `2` after the entry (a pattern entry has 2 fields)",
        ),
        (
            "%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 1.5\n".into(),
            "line 3: the value `1.5` is not a 64-bit integer",
        ),
        (
            format!("{s}3 4 1\n1 1 1\n"),
            "line 2: a symmetric matrix must be square, the size line says 3 x 4",
        ),
        (
            format!("{s}3 3 3\n2 1 1\n3 3 1\n1 3 1\n"),
            "line 5: entry (1, 3) is above the diagonal but line 3 stored one below it",
        ),
        (
            "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 1\n2 2 1\n".into(),
            "line 3: a skew-symmetric file cannot store the diagonal entry (2, 2)",
        ),
        (
            format!("{h}2 2 2\n1 1 1e308\n1 1 1e308\n"),
            "Matrix Market: row 0, column 0: the repeated entries sum to inf",
        ),
    ];
    for (text, want) in &corrupt_cases {
        let m = corrupt_msg(matrix_market::read(text.as_bytes()));
        assert!(
            m.contains(want),
            "{text:?}:\n  {m:?}\n  should contain {want:?}"
        );
    }
    // Non-UTF-8 data, and a line too long to quote whole.
    let mut bad = format!("{h}2 2 1\n").into_bytes();
    bad.extend_from_slice(b"1 1 \xff\n");
    let m = corrupt_msg(matrix_market::read(&bad));
    assert!(
        m.contains("line 3: not valid UTF-8 (at byte 4 of the line)"),
        "{m}"
    );
    let long = format!("{h}2 2 1\n1 1 {}\n", "9".repeat(10_000) + "x");
    let m = corrupt_msg(matrix_market::read(long.as_bytes()));
    assert!(
        m.len() < 200,
        "the message quotes at most 40 characters: {m}"
    );

    // Valid Matrix Market this reader does not support.
    let unsupported = [
        (
            "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
            "`array`",
        ),
        (
            "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
            "`complex`",
        ),
        (
            "%%MatrixMarket matrix coordinate real hermitian\n1 1 0\n",
            "`hermitian`",
        ),
        (
            "%%MatrixMarket vector coordinate real general\n",
            "`vector`",
        ),
    ];
    for (text, want) in unsupported {
        let m = invalid_msg(matrix_market::read(text.as_bytes()));
        assert!(m.contains("line 1") && m.contains(want), "{m}");
    }
    // Sizes beyond the limit, before anything is allocated for them.
    let big = format!("{h}20000000 3 0\n");
    let m = invalid_msg(matrix_market::read(big.as_bytes()));
    assert!(
        m.contains("line 2: 20000000 rows exceed the limit of 16777216"),
        "{m}"
    );
    let m = invalid_msg(matrix_market::read_with(
        format!("{h}3 11 0\n").as_bytes(),
        &ReadOptions { max_dim: 10 },
    ));
    assert!(m.contains("11 columns exceed the limit of 10"), "{m}");
    let ok = matrix_market::read_with(
        format!("{h}3 10 0\n").as_bytes(),
        &ReadOptions { max_dim: 10 },
    )
    .unwrap();
    assert_eq!((ok.matrix.n_rows(), ok.matrix.n_cols()), (3, 10));
}

#[test]
fn writes_the_documented_text() {
    let a = CsrMatrix::from_triplets(
        3,
        2,
        &[0, 2, 2, 1],
        &[1, 0, 1, 1],
        &[0.1, -2.0, 1e-300, 12345.0],
    )
    .unwrap();
    let text = matrix_market::write(a.view(), Symmetry::General).unwrap();
    assert_eq!(
        text,
        "%%MatrixMarket matrix coordinate real general\n\
         % written by ferrovec\n\
         3 2 4\n\
         1 2 0.1\n\
         2 2 12345\n\
         3 1 -2\n\
         3 2 1e-300\n"
    );
    let s = CsrMatrix::from_triplets(2, 2, &[0, 0, 1, 1], &[0, 1, 0, 1], &[2.0, 0.5, 0.5, 3.0])
        .unwrap();
    assert_eq!(
        matrix_market::write(s.view(), Symmetry::Symmetric).unwrap(),
        "%%MatrixMarket matrix coordinate real symmetric\n% written by ferrovec\n\
         2 2 3\n1 1 2\n2 1 0.5\n2 2 3\n"
    );
    assert!(matches!(
        matrix_market::write(a.view(), Symmetry::Symmetric),
        Err(Error::DimensionMismatch { .. })
    ));
    let n = CsrMatrix::from_triplets(2, 2, &[0, 1], &[1, 0], &[1.0, 2.0]).unwrap();
    let m = invalid_msg(matrix_market::write(n.view(), Symmetry::Symmetric));
    assert!(
        m.contains(
            "cannot write as symmetric: the matrix is not symmetric: a[0][1] = 1 but a[1][0] = 2"
        ),
        "{m}"
    );
    let m = invalid_msg(matrix_market::write(n.view(), Symmetry::SkewSymmetric));
    assert!(m.contains("a[0][1] = 1 but a[1][0] = 2"), "{m}");
    let d = CsrMatrix::identity(2).unwrap();
    let m = invalid_msg(matrix_market::write(d.view(), Symmetry::SkewSymmetric));
    assert!(
        m.contains("the diagonal entry a[0][0] = 1 is not zero"),
        "{m}"
    );
    assert!(matches!(
        matrix_market::write(a.view(), Symmetry::SkewSymmetric),
        Err(Error::DimensionMismatch { .. })
    ));
}

/// Values whose text form is easy to get wrong.
fn tricky(rng: &mut Rng) -> f64 {
    match rng.below(10) {
        0 => 0.0,
        1 => -0.0,
        2 => 5e-324,
        3 => f64::MAX,
        4 => -f64::MIN_POSITIVE,
        5 => 1.0 / 3.0,
        6 => 1e16,
        7 => 9.999_999_999_999_999e-6,
        8 => rng.f64() * 1e-200,
        _ => rng.f64() * 1e6,
    }
}

#[test]
fn matrix_market_round_trips_bit_for_bit() {
    let mut rng = Rng(6);
    for _ in 0..100 {
        let (n_rows, n_cols) = (1 + rng.below(9), 1 + rng.below(9));
        let t = rng.below(40);
        let (r, c, _) = random_triplets(&mut rng, n_rows, n_cols, t);
        let v: Vec<f64> = (0..r.len()).map(|_| tricky(&mut rng)).collect();
        // Repeats of f64::MAX may overflow: then the zero matrix round-trips instead.
        let a = CsrMatrix::from_triplets(n_rows, n_cols, &r, &c, &v)
            .unwrap_or_else(|_| CsrMatrix::zeros(n_rows, n_cols).unwrap());
        let text = matrix_market::write(a.view(), Symmetry::General).unwrap();
        let back = matrix_market::read(text.as_bytes()).unwrap();
        assert_eq!(back.indptr(), a.indptr());
        assert_eq!(back.indices(), a.indices());
        let bits = |m: &CsrMatrix| m.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&a), "{text}");

        // Symmetric and skew-symmetric: A + A^T and A - A^T, written as one triangle.
        let n = n_rows;
        let sq = random_matrix(&mut rng, n, n, 0.4);
        let t = sq.transpose().unwrap();
        for (sym, sign) in [(Symmetry::Symmetric, 1.0), (Symmetry::SkewSymmetric, -1.0)] {
            let mut coo = CooMatrix::new(n, n).unwrap();
            for i in 0..n {
                for j in 0..n {
                    let x = sq.get(i, j).unwrap() + sign * t.get(i, j).unwrap();
                    let stored = sq.get(i, j).unwrap() != 0.0 || t.get(i, j).unwrap() != 0.0;
                    if stored && !(sym == Symmetry::SkewSymmetric && i == j) {
                        coo.push(i, j, x).unwrap();
                    }
                }
            }
            let m = coo.to_csr().unwrap();
            let text = matrix_market::write(m.view(), sym).unwrap();
            let mm = matrix_market::read_with(text.as_bytes(), &ReadOptions::default()).unwrap();
            assert_eq!(mm.symmetry, sym);
            assert_eq!(mm.matrix, m, "{text}");
        }
    }
}

// ---------------------------------------------------------------- graphs

#[test]
fn graph_from_edges_sums_repeats_and_finds_dangling_nodes() {
    // 0 -> 1 (twice, weights 1 and 2), 0 -> 0 (self-loop), 1 -> 2, 3 isolated, 2 -> 1
    // with weight 0 only: nodes 2 and 3 are dangling.
    let g = Graph::from_edges(
        4,
        &[0, 1, 0, 0, 2],
        &[1, 2, 1, 0, 1],
        Some(&[1.0, 4.0, 2.0, 0.5, 0.0]),
    )
    .unwrap();
    assert_eq!((g.n_nodes(), g.n_edges()), (4, 4));
    assert_eq!(g.out_edges(0), Some((&[0u32, 1][..], &[0.5, 3.0][..])));
    assert_eq!(g.out_edges(2), Some((&[1u32][..], &[0.0][..])));
    assert_eq!(g.out_weights(), &[3.5, 4.0, 0.0, 0.0]);
    assert_eq!(g.out_weight(0), Some(3.5));
    assert_eq!(g.out_weight(4), None);
    assert_eq!(g.dangling(), &[2, 3]);
    assert_eq!(g.out_degree(0), Some(2));
    assert_eq!(g.out_degree(2), Some(1));
    assert_eq!(g.in_edges(1), Some((&[0u32, 2][..], &[3.0, 0.0][..])));
    assert_eq!(g.in_degree(3), Some(0));
    assert_eq!(g.in_edges(4), None);
    // The in-adjacency is the transpose; transition probabilities of non-dangling nodes
    // sum to 1.
    assert_eq!(g.in_adjacency(), g.adjacency().transpose().unwrap().view());
    for u in 0..g.n_nodes() {
        let (_, w) = g.out_edges(u).unwrap();
        let total = g.out_weight(u).unwrap();
        if total > 0.0 {
            assert!((w.iter().map(|x| x / total).sum::<f64>() - 1.0).abs() < 1e-15);
        }
    }
    // Unweighted: every edge 1.0, repeats count twice.
    let u = Graph::from_edges(3, &[0, 0, 1], &[1, 1, 2], None).unwrap();
    assert_eq!(u.out_edges(0), Some((&[1u32][..], &[2.0][..])));
    assert_eq!(u.dangling(), &[2]);
}

#[test]
fn graph_from_adjacency_equals_the_edge_list() {
    let mut rng = Rng(7);
    for _ in 0..30 {
        let n = 1 + rng.below(12);
        let m = rng.below(40);
        let src: Vec<u32> = (0..m).map(|_| rng.below(n) as u32).collect();
        let dst: Vec<u32> = (0..m).map(|_| rng.below(n) as u32).collect();
        let w: Vec<f64> = (0..m).map(|_| (rng.f64() + 1.0) * 2.0).collect();
        let g = Graph::from_edges(n, &src, &dst, Some(&w)).unwrap();
        let a = CsrMatrix::from_triplets(n, n, &src, &dst, &w).unwrap();
        let h = Graph::from_adjacency(a.clone()).unwrap();
        assert_eq!(g, h);
        assert_eq!(g.out_weights(), &a.row_sums().unwrap()[..]);
        let dangling: Vec<u32> = (0..n as u32)
            .filter(|&u| a.row_nnz(u as usize) == Some(0))
            .collect();
        assert_eq!(g.dangling(), &dangling[..]);
    }
}

#[test]
fn graph_from_csr_arrays_with_and_without_weights() {
    // Node 0: -> 2, -> 1, -> 2 again (any order, repeats summed); node 1: none; node 2: -> 0.
    let indptr = [0u32, 3, 3, 4];
    let indices = [2u32, 1, 2, 0];
    let g = Graph::from_csr(3, &indptr, &indices, Some(&[1.0, 0.5, 2.0, 4.0])).unwrap();
    let h =
        Graph::from_edges(3, &[0, 0, 0, 2], &[2, 1, 2, 0], Some(&[1.0, 0.5, 2.0, 4.0])).unwrap();
    assert_eq!(g, h);
    assert_eq!(g.out_edges(0), Some((&[1u32, 2][..], &[0.5, 3.0][..])));
    assert_eq!(g.dangling(), &[1]);
    let p = Graph::from_csr(3, &indptr, &indices, None).unwrap();
    assert_eq!(p.out_edges(0), Some((&[1u32, 2][..], &[1.0, 2.0][..])));
    assert_eq!(p.out_weights(), &[3.0, 0.0, 1.0]);
    // Every given weight is checked, even when the repeats would sum to a valid one.
    let m = invalid_msg(Graph::from_csr(
        3,
        &indptr,
        &indices,
        Some(&[1.0, 0.5, -0.5, 4.0]),
    ));
    assert!(
        m.contains("edge 0 -> 2 (entry 2): weight -0.5 is negative"),
        "{m}"
    );
    let m = invalid_msg(Graph::from_csr(
        3,
        &indptr,
        &indices,
        Some(&[1.0, f64::NAN, 1.0, 1.0]),
    ));
    assert!(
        m.contains("row 0, column 1 (entry 1): value NaN is not finite"),
        "{m}"
    );
    let m = invalid_msg(Graph::from_csr(3, &indptr, &[2, 1, 3, 0], None));
    assert!(
        m.contains("row 0, entry 2: column 3 is out of range"),
        "{m}"
    );
    assert!(matches!(
        Graph::from_csr(2, &indptr, &indices, None),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        Graph::from_csr(3, &indptr, &indices, Some(&[1.0])),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn graph_errors_name_the_edge_or_node() {
    let m = invalid_msg(Graph::from_edges(3, &[0, 3], &[1, 1], None));
    assert!(
        m.contains("edge 1: source 3 is not a node (the graph has 3 nodes)"),
        "{m}"
    );
    let m = invalid_msg(Graph::from_edges(3, &[0, 1], &[1, 7], None));
    assert!(m.contains("edge 1: target 7 is not a node"), "{m}");
    let m = invalid_msg(Graph::from_edges(3, &[0, 1], &[1, 2], Some(&[1.0, -0.5])));
    assert!(
        m.contains("edge 1 (1 -> 2): weight -0.5 is negative"),
        "{m}"
    );
    let m = invalid_msg(Graph::from_edges(3, &[0], &[1], Some(&[f64::NAN])));
    assert!(
        m.contains("edge 0 (0 -> 1): weight NaN is not finite"),
        "{m}"
    );
    let m = invalid_msg(Graph::from_edges(
        3,
        &[2, 2],
        &[0, 1],
        Some(&[f64::MAX, f64::MAX]),
    ));
    assert!(m.contains("node 2: its out-edge weights sum to inf"), "{m}");
    let m = invalid_msg(Graph::from_edges(MAX_DIM + 1, &[], &[], None));
    assert!(m.contains("nodes exceed the limit"), "{m}");
    assert_eq!(
        Graph::from_edges(3, &[0, 1], &[1], None).unwrap_err(),
        Error::DimensionMismatch {
            expected: 2,
            actual: 1
        }
    );
    assert_eq!(
        Graph::from_edges(3, &[0], &[1], Some(&[])).unwrap_err(),
        Error::DimensionMismatch {
            expected: 1,
            actual: 0
        }
    );
    let neg = CsrMatrix::from_triplets(2, 2, &[1], &[0], &[-1.0]).unwrap();
    let m = invalid_msg(Graph::from_adjacency(neg));
    assert!(m.contains("edge 1 -> 0: weight -1 is negative"), "{m}");
    assert!(matches!(
        Graph::from_adjacency(CsrMatrix::zeros(2, 3).unwrap()),
        Err(Error::DimensionMismatch { .. })
    ));
    // An empty graph is fine; every node is dangling.
    let g = Graph::from_edges(2, &[], &[], None).unwrap();
    assert_eq!(g.dangling(), &[0, 1]);
}
