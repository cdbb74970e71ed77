//! Garbage in, a typed error or a valid matrix out, never a panic: random and mutated
//! arrays fed to every sparse constructor, random and mutated bytes fed to the Matrix Market
//! reader. Whatever is accepted must satisfy every CSR invariant, survive every analysis,
//! and round-trip through the Matrix Market writer. Each generator is also checked to reach
//! both outcomes, so a test cannot pass by only ever producing errors.

use ferrovec_core::sparse::matrix_market::{self, Symmetry};
use ferrovec_core::sparse::{CooMatrix, CsrMatrix, CsrRef, Graph, MAX_DIM};
use ferrovec_core::Error;

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
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    /// Mostly small, sometimes a boundary value.
    fn index(&mut self, small: usize) -> u32 {
        match self.below(20) {
            0 => u32::MAX,
            1 => i32::MAX as u32,
            2 => 1 << 31,
            3 => small as u32,
            _ => self.below(small.max(1)) as u32,
        }
    }

    fn value(&mut self) -> f64 {
        match self.below(24) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => f64::MAX,
            4 => 0.0,
            5 => -0.0,
            6 => 5e-324,
            _ => (self.below(2001) as f64 - 1000.0) / 8.0,
        }
    }

    fn dim(&mut self) -> usize {
        match self.below(40) {
            0 => MAX_DIM + 1,
            1 => usize::MAX,
            _ => self.below(7),
        }
    }
}

/// Only input errors are acceptable failures for small inputs.
fn assert_input_error(e: &Error, what: &str) {
    assert!(
        matches!(
            e,
            Error::InvalidArgument(_) | Error::DimensionMismatch { .. } | Error::CorruptFile(_)
        ),
        "{what}: unexpected error {e:?}"
    );
}

/// Everything a valid matrix must support, exercised once.
fn check_matrix(a: &CsrMatrix) {
    let v = CsrRef::new(a.n_rows(), a.n_cols(), a.indptr(), a.indices(), a.values())
        .expect("an accepted matrix satisfies the invariants");
    assert_eq!(v, a.view());
    let x = vec![1.0; a.n_cols()];
    let mut y = vec![0.0; a.n_rows()];
    a.mul_vec(&x, &mut y).unwrap();
    let mut yt = vec![0.0; a.n_cols()];
    a.mul_vec_transpose(&y, &mut yt).unwrap();
    let t = a.transpose().unwrap();
    assert_eq!(&t.transpose().unwrap(), a);
    assert_eq!(a.diagonal().unwrap().len(), a.n_rows().min(a.n_cols()));
    assert_eq!(a.row_sums().unwrap().len(), a.n_rows());
    let _ = a.find_zero_diagonal();
    let _ = a.first_non_dominant_row();
    if a.is_square() {
        let _ = a.first_asymmetry(0.0).unwrap();
    }
    // Anything accepted round-trips through a general Matrix Market file.
    let text = matrix_market::write(a.view(), Symmetry::General).unwrap();
    let back = matrix_market::read_with(
        text.as_bytes(),
        &matrix_market::ReadOptions { max_dim: MAX_DIM },
    )
    .unwrap();
    assert_eq!(&back.matrix, a);
}

/// Random row pointers: usually non-decreasing from 0 (so some inputs are valid).
fn random_indptr(rng: &mut Rng, n_rows: usize, nnz: usize) -> Vec<u32> {
    let len = match rng.below(10) {
        0 => n_rows,
        1 => n_rows + 2,
        _ => n_rows.saturating_add(1).min(8),
    };
    let mut p = Vec::with_capacity(len);
    let mut at = 0u32;
    for k in 0..len {
        if k > 0 {
            at += rng.below(3) as u32;
        }
        p.push(if rng.chance(25) {
            rng.index(nnz + 2)
        } else {
            at
        });
    }
    if rng.below(3) > 0 {
        if let Some(last) = p.last_mut() {
            *last = nnz as u32;
        }
    }
    p
}

#[test]
fn random_csr_arrays_never_panic() {
    let mut rng = Rng(11);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..30_000 {
        let n_rows = rng.dim();
        let n_cols = rng.dim();
        let nnz = rng.below(10);
        let indptr = random_indptr(&mut rng, n_rows.min(7), nnz);
        let mut indices: Vec<u32> = (0..nnz).map(|_| rng.index(n_cols.min(7))).collect();
        if rng.chance(2) {
            indices.sort_unstable();
        }
        let vlen = if rng.chance(15) { nnz + 1 } else { nnz };
        let values: Vec<f64> = (0..vlen)
            .map(|_| {
                if rng.chance(4) {
                    rng.value()
                } else {
                    rng.below(9) as f64 - 4.0
                }
            })
            .collect();

        let borrowed = CsrRef::new(n_rows, n_cols, &indptr, &indices, &values);
        let owned = CsrMatrix::from_csr(
            n_rows,
            n_cols,
            indptr.clone(),
            indices.clone(),
            values.clone(),
        );
        let unsorted = CsrMatrix::from_csr_unsorted(n_rows, n_cols, &indptr, &indices, &values);
        assert_eq!(borrowed.is_ok(), owned.is_ok());
        // The same arrays as a graph adjacency (square, weights >= 0), weighted or not.
        let weights = if rng.chance(2) {
            Some(&values[..])
        } else {
            None
        };
        match Graph::from_csr(n_rows, &indptr, &indices, weights) {
            Ok(g) => {
                assert_eq!(g.in_adjacency(), g.adjacency().transpose().unwrap().view());
                assert!(g.out_weights().iter().all(|w| w.is_finite() && *w >= 0.0));
                check_matrix(&g.adjacency().to_matrix().unwrap());
            }
            Err(e) => assert_input_error(&e, "Graph::from_csr"),
        }
        match (&owned, &unsorted) {
            (Ok(a), Ok(b)) => {
                // Canonical input comes back unchanged from the sorting constructor.
                assert_eq!(a, b);
                check_matrix(a);
                ok += 1;
            }
            (Ok(_), Err(e)) => panic!("canonical input refused by from_csr_unsorted: {e:?}"),
            (Err(e), Ok(b)) => {
                assert_input_error(e, "from_csr");
                check_matrix(b);
                ok += 1;
            }
            (Err(e1), Err(e2)) => {
                assert_input_error(e1, "from_csr");
                assert_input_error(e2, "from_csr_unsorted");
                err += 1;
            }
        }
    }
    assert!(ok > 1000 && err > 1000, "ok {ok}, err {err}");
}

#[test]
fn mutated_valid_csr_arrays_never_panic() {
    let mut rng = Rng(12);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..5_000 {
        let (n_rows, n_cols) = (1 + rng.below(8), 1 + rng.below(8));
        let mut coo = CooMatrix::new(n_rows, n_cols).unwrap();
        for _ in 0..rng.below(30) {
            coo.push(
                rng.below(n_rows),
                rng.below(n_cols),
                rng.below(7) as f64 - 3.0,
            )
            .unwrap();
        }
        let (mut indptr, mut indices, mut values) = coo.to_csr().unwrap().into_arrays();
        match rng.below(3) {
            0 => {
                let k = rng.below(indptr.len());
                indptr[k] = rng.index(indices.len() + 1);
            }
            1 if !indices.is_empty() => {
                let k = rng.below(indices.len());
                indices[k] = rng.index(n_cols + 1);
            }
            _ if !values.is_empty() => {
                let k = rng.below(values.len());
                values[k] = rng.value();
            }
            _ => {}
        }
        match CsrMatrix::from_csr(n_rows, n_cols, indptr, indices, values) {
            Ok(a) => {
                check_matrix(&a);
                ok += 1;
            }
            Err(e) => {
                assert_input_error(&e, "mutated from_csr");
                err += 1;
            }
        }
    }
    assert!(ok > 500 && err > 500, "ok {ok}, err {err}");
}

#[test]
fn random_triplets_and_edges_never_panic() {
    let mut rng = Rng(13);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let n_rows = rng.dim();
        let n_cols = rng.dim();
        let t = rng.below(12);
        let len = |rng: &mut Rng| if rng.chance(20) { t + 1 } else { t };
        let rl = len(&mut rng);
        let rows: Vec<u32> = (0..rl).map(|_| rng.index(n_rows.min(7))).collect();
        let cl = len(&mut rng);
        let cols: Vec<u32> = (0..cl).map(|_| rng.index(n_cols.min(7))).collect();
        let vl = len(&mut rng);
        let values: Vec<f64> = (0..vl).map(|_| rng.value()).collect();
        match CsrMatrix::from_triplets(n_rows, n_cols, &rows, &cols, &values) {
            Ok(a) => {
                check_matrix(&a);
                ok += 1;
            }
            Err(e) => {
                assert_input_error(&e, "from_triplets");
                err += 1;
            }
        }
        // The same triplets pushed one by one: the builder refuses exactly the bad ones.
        if let Ok(mut coo) = CooMatrix::new(n_rows, n_cols) {
            for ((&r, &c), &v) in rows.iter().zip(&cols).zip(&values) {
                let before = coo.len();
                match coo.push(r as usize, c as usize, v) {
                    Ok(()) => assert_eq!(coo.len(), before + 1),
                    Err(e) => {
                        assert_input_error(&e, "CooMatrix::push");
                        assert_eq!(coo.len(), before);
                    }
                }
            }
            match coo.to_csr() {
                Ok(a) => check_matrix(&a),
                Err(e) => assert_input_error(&e, "CooMatrix::to_csr"),
            }
        }
        let weights = if rng.chance(2) {
            Some(&values[..])
        } else {
            None
        };
        match Graph::from_edges(n_rows, &rows, &cols, weights) {
            Ok(g) => {
                check_matrix(&g.adjacency().to_matrix().unwrap());
                assert_eq!(g.in_adjacency(), g.adjacency().transpose().unwrap().view());
                assert!(g.out_weights().iter().all(|w| w.is_finite() && *w >= 0.0));
            }
            Err(e) => assert_input_error(&e, "Graph::from_edges"),
        }
    }
    assert!(ok > 1000 && err > 1000, "ok {ok}, err {err}");
}

const GENERAL: &str = "%%MatrixMarket matrix coordinate real general\n\
% a comment\n\
5 5 8\n\
1 1 1.000e+00\n\
2 2 1.050e+01\n\
3 3 1.500e-02\n\
1 4 6.000e+00\n\
4 2 2.505e+02\n\
4 4 -2.800e+02\n\
4 5 3.332e+01\n\
5 5 1.200e+01\n";

const SYMMETRIC: &str = "%%MatrixMarket matrix coordinate integer symmetric\r\n\
4 4 6\r\n\
1 1 4\r\n\
2 1 -1\r\n\
2 2 4\r\n\
\r\n\
3 2 -1\r\n\
3 3 4\r\n\
4 4 4\r\n";

const PATTERN: &str =
    "%%MatrixMarket matrix coordinate pattern general\n3 4 4\n1 4\n3 1\n2 2\n3 1\n";

const SKEW: &str = "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1.5\n3 2 -2\n";

fn read_checked(bytes: &[u8], what: &str) -> bool {
    match matrix_market::read(bytes) {
        Ok(a) => {
            check_matrix(&a);
            true
        }
        Err(e) => {
            assert_input_error(&e, what);
            false
        }
    }
}

#[test]
fn matrix_market_truncations_and_byte_edits_never_panic() {
    let interesting = [
        b'0', b'1', b'9', b' ', b'\t', b'\n', b'\r', b'%', b'-', b'+', b'.', b'e', b'x', 0x00,
        0x80, 0xff,
    ];
    let (mut ok, mut err) = (0, 0);
    for file in [GENERAL, SYMMETRIC, PATTERN, SKEW] {
        let bytes = file.as_bytes();
        assert!(read_checked(bytes, "the unmodified file"));
        for cut in 0..bytes.len() {
            if read_checked(&bytes[..cut], "truncated") {
                ok += 1;
            } else {
                err += 1;
            }
        }
        for at in 0..bytes.len() {
            for &b in &interesting {
                let mut edited = bytes.to_vec();
                edited[at] = b;
                if read_checked(&edited, "edited") {
                    ok += 1;
                } else {
                    err += 1;
                }
                // Insertions shift everything after them.
                let mut inserted = bytes.to_vec();
                inserted.insert(at, b);
                if read_checked(&inserted, "inserted") {
                    ok += 1;
                } else {
                    err += 1;
                }
            }
        }
    }
    assert!(ok > 1000 && err > 1000, "ok {ok}, err {err}");
}

#[test]
fn matrix_market_token_and_line_edits_never_panic() {
    let nasty = [
        "0",
        "-1",
        "1",
        "2",
        "5",
        "6",
        "4294967296",
        "2147483648",
        "18446744073709551616",
        "99999999999999999999999",
        "1e999",
        "-1e-999",
        "nan",
        "inf",
        "+3",
        "0x10",
        "1.5",
        "",
        "%",
        "é",
        "9007199254740993",
    ];
    let mut rng = Rng(14);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..20_000 {
        let file = [GENERAL, SYMMETRIC, PATTERN, SKEW][rng.below(4)];
        let mut lines: Vec<Vec<String>> = file
            .lines()
            .map(|l| l.split(' ').map(str::to_owned).collect())
            .collect();
        for _ in 0..1 + rng.below(3) {
            let li = rng.below(lines.len());
            match rng.below(4) {
                0 => {
                    let line = &mut lines[li];
                    let ti = rng.below(line.len());
                    line[ti] = nasty[rng.below(nasty.len())].to_owned();
                }
                1 => {
                    lines.remove(li);
                    if lines.is_empty() {
                        break;
                    }
                }
                2 => {
                    let copy = lines[li].clone();
                    lines.insert(li, copy);
                }
                _ => {
                    let extra = nasty[rng.below(nasty.len())].to_owned();
                    lines[li].push(extra);
                }
            }
        }
        let text: String = lines.iter().map(|l| l.join(" ") + "\n").collect();
        if read_checked(text.as_bytes(), "token-edited") {
            ok += 1;
        } else {
            err += 1;
        }
    }
    assert!(ok > 1000 && err > 1000, "ok {ok}, err {err}");
}

#[test]
fn random_bytes_and_token_soup_never_panic() {
    let headers = [
        "%%MatrixMarket matrix coordinate real general\n",
        "%%MatrixMarket matrix coordinate pattern symmetric\n",
        "%%MatrixMarket matrix coordinate integer skew-symmetric\n",
    ];
    let alphabet = b"0123456789 \t\n\r%-+.eE";
    let tokens = [
        "1", "1", "2", "2", "3", "0", "-1", "2.5", "1e3", "x", "%", "\u{fffd}",
    ];
    let mut rng = Rng(15);
    let (mut ok, mut err) = (0, 0);
    for round in 0..40_000 {
        let mut bytes: Vec<u8> = Vec::new();
        if round % 2 == 1 || rng.chance(2) {
            bytes.extend_from_slice(headers[rng.below(3)].as_bytes());
        }
        if round % 2 == 0 {
            // Raw bytes, mostly from the format's own alphabet.
            for _ in 0..rng.below(120) {
                bytes.push(if rng.chance(10) {
                    rng.next_u64() as u8
                } else {
                    alphabet[rng.below(alphabet.len())]
                });
            }
        } else {
            // Lines of 0-4 plausible tokens: reaches the body parser and sometimes forms a
            // valid file.
            for line_no in 0..rng.below(6) {
                // Mostly a three-number size line, then two- or three-field entries.
                let n = match (line_no, rng.below(8)) {
                    (0, 0..=5) => 3,
                    (_, 0..=2) => 2,
                    (_, 3..=5) => 3,
                    (_, 6) => 0,
                    _ => 4,
                };
                let line: Vec<&str> = (0..n)
                    .map(|_| {
                        if rng.chance(8) {
                            tokens[rng.below(tokens.len())]
                        } else {
                            tokens[rng.below(3) * 2]
                        }
                    })
                    .collect();
                bytes.extend_from_slice(line.join(" ").as_bytes());
                bytes.push(b'\n');
            }
        }
        if read_checked(&bytes, "random input") {
            ok += 1;
        } else {
            err += 1;
        }
    }
    // Few random inputs form a valid file (the declared count must match the entries);
    // those that do show the generator reaches the end of the parser.
    assert!(ok > 40 && err > 20_000, "ok {ok}, err {err}");
}
