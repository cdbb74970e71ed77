//! The solver's parsers: Matrix Market text and CSR / triplet / edge arrays.

use ferrovec_core::sparse::matrix_market::{self, ReadOptions, Symmetry};
use ferrovec_core::sparse::{CsrMatrix, Graph};

use crate::input::Input;

/// The invariants of every matrix the core hands out.
fn check_csr(m: &CsrMatrix) {
    let v = m.view();
    let (indptr, indices, values) = (v.indptr(), v.indices(), v.values());
    assert_eq!(indptr.len(), m.n_rows() + 1);
    assert_eq!(indptr[0], 0);
    assert_eq!(*indptr.last().unwrap() as usize, m.nnz());
    assert_eq!(indices.len(), m.nnz());
    assert_eq!(values.len(), m.nnz());
    for w in indptr.windows(2) {
        assert!(w[0] <= w[1]);
        let row = &indices[w[0] as usize..w[1] as usize];
        assert!(
            row.windows(2).all(|p| p[0] < p[1]),
            "columns sorted, unique"
        );
        assert!(row.iter().all(|&j| (j as usize) < m.n_cols()));
    }
}

/// Multiplies by a vector of ones (when small): a result or a typed error, never a panic.
fn exercise(m: &CsrMatrix) {
    if m.n_rows() <= 1 << 16 && m.n_cols() <= 1 << 16 {
        let x = vec![1.0; m.n_cols()];
        let mut y = vec![0.0; m.n_rows()];
        m.mul_vec(&x, &mut y).expect("shapes match");
        if let Ok(t) = m.transpose() {
            check_csr(&t);
            assert_eq!(t.transpose().expect("transposes back"), *m);
        }
    }
}

/// Matrix Market text: `read` and `read_with` (small and default limits) refuse with an
/// error or return a valid matrix; a matrix read writes back as text that reads back to the
/// same matrix.
pub fn matrix_market(data: &[u8]) {
    let small = matrix_market::read_with(data, &ReadOptions { max_dim: 1000 });
    let full = matrix_market::read(data);
    if let Ok(mm) = &small {
        assert_eq!(
            full.as_ref().ok(),
            Some(&mm.matrix),
            "the limit changed the result"
        );
    }
    let Ok(m) = full else { return };
    check_csr(&m);
    exercise(&m);
    if let Ok(text) = matrix_market::write(m.view(), Symmetry::General) {
        let back = matrix_market::read(text.as_bytes()).expect("written text reads back");
        assert_eq!(back.n_rows(), m.n_rows());
        assert_eq!(back.n_cols(), m.n_cols());
        assert_eq!(back.view().indptr(), m.view().indptr());
        assert_eq!(back.view().indices(), m.view().indices());
        let same = back
            .view()
            .values()
            .iter()
            .zip(m.view().values())
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        assert!(same, "values round trip");
    }
}

fn u32s(input: &mut Input<'_>, n: usize, max: u32) -> Vec<u32> {
    (0..n).map(|_| input.small(max)).collect()
}

fn f64s(input: &mut Input<'_>, n: usize) -> Vec<f64> {
    (0..n).map(|_| input.f64()).collect()
}

/// CSR arrays, triplets and edge lists with arbitrary shapes, offsets, indices and values,
/// through every constructor of matrices and graphs: an error, or a value whose invariants
/// hold.
pub fn csr(data: &[u8]) {
    let mut input = Input::new(data);
    let kind = input.u8();
    let n_rows = input.len(24);
    let n_cols = input.small(24) as usize;
    let nnz = input.len(48);
    let n_indptr = if kind & 0x10 != 0 {
        input.len(26)
    } else {
        n_rows + 1
    };
    let mut indptr = u32s(&mut input, n_indptr, 48);
    if kind & 0x20 == 0 {
        // Mostly monotone offsets ending at nnz, so the parser gets past its first checks.
        indptr.sort_unstable();
        if let Some(last) = indptr.last_mut() {
            *last = nnz as u32;
        }
        if let Some(first) = indptr.first_mut() {
            *first = 0;
        }
    }
    let indices = u32s(&mut input, nnz, 26);
    let values = f64s(&mut input, nnz);
    match kind % 5 {
        0 => {
            if let Ok(m) = CsrMatrix::from_csr(n_rows, n_cols, indptr, indices, values) {
                check_csr(&m);
                exercise(&m);
            }
        }
        1 => {
            if let Ok(m) = CsrMatrix::from_csr_unsorted(n_rows, n_cols, &indptr, &indices, &values)
            {
                check_csr(&m);
                exercise(&m);
            }
        }
        2 => {
            let rows = u32s(&mut input, nnz, 26);
            if let Ok(m) = CsrMatrix::from_triplets(n_rows, n_cols, &rows, &indices, &values) {
                check_csr(&m);
                exercise(&m);
            }
        }
        3 => {
            let src = u32s(&mut input, nnz, 26);
            let weighted = kind & 0x40 != 0;
            let g = Graph::from_edges(n_rows, &src, &indices, weighted.then_some(&values[..]));
            if let Ok(g) = g {
                check_graph(&g);
            }
        }
        _ => {
            let weighted = kind & 0x40 != 0;
            let g = Graph::from_csr(n_rows, &indptr, &indices, weighted.then_some(&values[..]));
            if let Ok(g) = g {
                check_graph(&g);
            }
        }
    }
}

fn check_graph(g: &Graph) {
    assert_eq!(g.adjacency().n_rows(), g.n_nodes());
    assert_eq!(g.in_adjacency().n_rows(), g.n_nodes());
    assert_eq!(g.adjacency().nnz(), g.n_edges());
    assert_eq!(g.in_adjacency().nnz(), g.n_edges());
    let mut total_out = 0;
    for u in 0..g.n_nodes() {
        let (dst, w) = g.out_edges(u).expect("a node");
        assert_eq!(dst.len(), w.len());
        assert!(dst.iter().all(|&v| (v as usize) < g.n_nodes()));
        assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0));
        total_out += dst.len();
    }
    assert_eq!(total_out, g.n_edges());
    assert!(g.dangling().iter().all(|&d| (d as usize) < g.n_nodes()));
}
