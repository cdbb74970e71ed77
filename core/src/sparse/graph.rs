//! A directed, weighted graph for PageRank and push algorithms: out-adjacency, in-adjacency,
//! weighted out-degrees and dangling nodes, all computed once at construction.

use alloc::format;
use alloc::vec::Vec;

use super::csr::{csr_entries, validate, Columns};
use super::{coo, invalid, oom, vec_with_capacity, CsrMatrix, CsrRef, MAX_DIM, MAX_NNZ};
use crate::{Error, Result};

/// A directed graph over nodes `0..n_nodes` with finite, non-negative edge weights.
///
/// ```
/// use ferrovec_core::sparse::Graph;
/// // 0 -> 1, 0 -> 2, 1 -> 2; node 2 has no out-edges.
/// let g = Graph::from_edges(3, &[0, 0, 1], &[1, 2, 2], None)?;
/// assert_eq!(g.out_edges(0), Some((&[1u32, 2][..], &[1.0, 1.0][..])));
/// assert_eq!(g.in_edges(2), Some((&[0u32, 1][..], &[1.0, 1.0][..])));
/// assert_eq!(g.out_weight(0), Some(2.0));
/// assert_eq!(g.dangling(), &[2]);
/// # Ok::<(), ferrovec_core::Error>(())
/// ```
///
/// # Semantics (chosen to match networkx's and scipy's PageRank)
///
/// * **Weights** are used as given: a walk leaves node `u` along edge `u -> v` with
///   probability `w(u, v) / out_weight(u)`, where `out_weight(u)` is the weighted
///   out-degree, the sum of `u`'s out-edge weights (networkx's `stochastic_graph`,
///   scipy's row sums). Weights must be finite and `>= 0`; an unweighted graph has weight
///   1.0 on every edge.
/// * **Dangling** nodes are those whose weighted out-degree is 0: no out-edges, or only
///   edges of weight zero (networkx: `out_degree(n, weight) == 0`). Zero-weight edges stay
///   stored (they appear in [`Graph::out_edges`] and count in [`Graph::out_degree`]) but
///   carry no probability.
/// * **Repeated edges are summed** into one edge, as scipy's CSR and networkx's
///   `MultiDiGraph` (whose PageRank adds parallel edges) do. networkx's `DiGraph.add_edge`
///   instead keeps the last weight: to reproduce a `DiGraph`, pass each edge once.
/// * **Self-loops** are ordinary edges: they count in the out-degree and a walk may take
///   them (as in networkx).
///
/// Memory: both adjacencies, `2 (4 (n + 1) + 12 m)` bytes for `n` nodes and `m` distinct
/// edges, plus `8 n` for the weighted out-degrees and 4 bytes per dangling node. Both are
/// kept because forward push and power iteration walk out-edges while backward push walks
/// in-edges.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    out: CsrMatrix,
    inn: CsrMatrix,
    out_weight: Vec<f64>,
    dangling: Vec<u32>,
}

impl Graph {
    /// A graph over `n_nodes` nodes with the edges `src[k] -> dst[k]`, weighted by
    /// `weights[k]` (1.0 each when `None`), in any order (see the type's documentation for
    /// repeats and self-loops).
    ///
    /// [`Error::DimensionMismatch`] if `dst` or `weights` is not as long as `src`;
    /// [`Error::InvalidArgument`] naming the edge if an endpoint is not a node or a weight
    /// is negative, NaN or infinite, naming the node if its weighted out-degree overflows,
    /// or if `n_nodes > MAX_DIM` or there are more than `MAX_NNZ` edges.
    pub fn from_edges(
        n_nodes: usize,
        src: &[u32],
        dst: &[u32],
        weights: Option<&[f64]>,
    ) -> Result<Graph> {
        check_nodes(n_nodes)?;
        if dst.len() != src.len() {
            return Err(Error::DimensionMismatch {
                expected: src.len(),
                actual: dst.len(),
            });
        }
        if let Some(w) = weights {
            if w.len() != src.len() {
                return Err(Error::DimensionMismatch {
                    expected: src.len(),
                    actual: w.len(),
                });
            }
        }
        if src.len() > MAX_NNZ {
            return Err(invalid(format!(
                "{} edges exceed the limit of {MAX_NNZ} (MAX_NNZ)",
                src.len()
            )));
        }
        let weight = |k: usize| weights.and_then(|w| w.get(k).copied()).unwrap_or(1.0);
        for (k, (&s, &d)) in src.iter().zip(dst).enumerate() {
            for (end, node) in [("source", s), ("target", d)] {
                if node as usize >= n_nodes {
                    return Err(invalid(format!(
                        "edge {k}: {end} {node} is not a node (the graph has {n_nodes} nodes)"
                    )));
                }
            }
            check_weight(weight(k), || format!("edge {k} ({s} -> {d})"))?;
        }
        let entries = src
            .iter()
            .zip(dst)
            .enumerate()
            .map(move |(k, (&s, &d))| (s, d, weight(k)));
        let out = coo::assemble(n_nodes, n_nodes, src.len(), entries)?;
        Graph::build(out)
    }

    /// The graph of a CSR adjacency given as arrays (scipy's `indptr`, `indices` and
    /// optionally `data`; a C or wasm caller's buffers): node `u`'s out-edges go to
    /// `indices[indptr[u]..indptr[u + 1]]`, weighted by `weights` at the same positions, or
    /// 1.0 each when `None` (a pattern adjacency). Targets within a node may be in any order
    /// and repeated (summed, see the type's documentation). The arrays are copied.
    ///
    /// Errors as [`CsrMatrix::from_csr_unsorted`] for the arrays, naming the row (node) and
    /// position, and as [`Graph::from_edges`] for the weights (every given weight is checked,
    /// before repeats are summed).
    pub fn from_csr(
        n_nodes: usize,
        indptr: &[u32],
        indices: &[u32],
        weights: Option<&[f64]>,
    ) -> Result<Graph> {
        check_nodes(n_nodes)?;
        validate(
            n_nodes,
            n_nodes,
            indptr,
            indices,
            weights,
            Columns::AnyOrder,
        )?;
        if let Some(w) = weights {
            for (entry, (u, v, _)) in csr_entries(indptr, indices, None).enumerate() {
                let wk = w.get(entry).copied().unwrap_or(0.0);
                check_weight(wk, || format!("edge {u} -> {v} (entry {entry})"))?;
            }
        }
        let out = coo::assemble(
            n_nodes,
            n_nodes,
            indices.len(),
            csr_entries(indptr, indices, weights),
        )?;
        Graph::build(out)
    }

    /// The graph whose adjacency matrix is `adjacency`: row `u` holds `u`'s out-edges, the
    /// stored values their weights (a scipy CSR adjacency, or a matrix read from a Matrix
    /// Market file). Explicit zeros are edges of weight zero.
    ///
    /// [`Error::DimensionMismatch`] if the matrix is not square; [`Error::InvalidArgument`]
    /// naming the edge if a weight is negative, or the node if its weighted out-degree
    /// overflows.
    pub fn from_adjacency(adjacency: CsrMatrix) -> Result<Graph> {
        if !adjacency.is_square() {
            return Err(Error::DimensionMismatch {
                expected: adjacency.n_rows(),
                actual: adjacency.n_cols(),
            });
        }
        for (u, (cols, vals)) in adjacency.rows().enumerate() {
            for (&v, &w) in cols.iter().zip(vals) {
                check_weight(w, || format!("edge {u} -> {v}"))?;
            }
        }
        Graph::build(adjacency)
    }

    fn build(out: CsrMatrix) -> Result<Graph> {
        let n = out.n_rows();
        let mut out_weight = vec_with_capacity(n, "the weighted out-degrees")?;
        let mut n_dangling = 0usize;
        for (u, (_, vals)) in out.rows().enumerate() {
            let w: f64 = vals.iter().sum();
            if !w.is_finite() {
                return Err(invalid(format!(
                    "node {u}: its out-edge weights sum to {w}, which is not finite"
                )));
            }
            if w == 0.0 {
                n_dangling += 1;
            }
            out_weight.push(w);
        }
        let mut dangling = vec_with_capacity(n_dangling, "the dangling nodes")?;
        // u < n <= MAX_DIM.
        dangling.extend(
            out_weight
                .iter()
                .enumerate()
                .filter(|(_, w)| **w == 0.0)
                .map(|(u, _)| u as u32),
        );
        let inn = out.transpose().map_err(|e| match e {
            Error::OutOfMemory(_) => oom("the in-adjacency"),
            other => other,
        })?;
        Ok(Graph {
            out,
            inn,
            out_weight,
            dangling,
        })
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.out.n_rows()
    }

    /// Number of distinct edges (repeats merged, self-loops and zero-weight edges counted).
    pub fn n_edges(&self) -> usize {
        self.out.nnz()
    }

    /// `u`'s out-neighbors (increasing) and the edge weights; `None` if `u` is not a node.
    pub fn out_edges(&self, u: usize) -> Option<(&[u32], &[f64])> {
        self.out.row(u)
    }

    /// `v`'s in-neighbors (increasing) and the edge weights; `None` if `v` is not a node.
    pub fn in_edges(&self, v: usize) -> Option<(&[u32], &[f64])> {
        self.inn.row(v)
    }

    /// Number of `u`'s distinct out-edges; `None` if `u` is not a node.
    pub fn out_degree(&self, u: usize) -> Option<usize> {
        self.out.row_nnz(u)
    }

    /// Number of `v`'s distinct in-edges; `None` if `v` is not a node.
    pub fn in_degree(&self, v: usize) -> Option<usize> {
        self.inn.row_nnz(v)
    }

    /// `u`'s weighted out-degree (the sum of its out-edge weights); `None` if `u` is not a
    /// node.
    pub fn out_weight(&self, u: usize) -> Option<f64> {
        self.out_weight.get(u).copied()
    }

    /// Every node's weighted out-degree.
    pub fn out_weights(&self) -> &[f64] {
        &self.out_weight
    }

    /// The dangling nodes (weighted out-degree 0), increasing.
    pub fn dangling(&self) -> &[u32] {
        &self.dangling
    }

    /// The adjacency matrix (row `u`: `u`'s out-edges).
    pub fn adjacency(&self) -> CsrRef<'_> {
        self.out.view()
    }

    /// The in-adjacency, the transpose of [`Graph::adjacency`] (row `v`: `v`'s in-edges).
    pub fn in_adjacency(&self) -> CsrRef<'_> {
        self.inn.view()
    }
}

fn check_nodes(n_nodes: usize) -> Result<()> {
    if n_nodes > MAX_DIM {
        return Err(invalid(format!(
            "{n_nodes} nodes exceed the limit of {MAX_DIM} (MAX_DIM)"
        )));
    }
    Ok(())
}

/// A weight is finite and `>= 0`; `edge` names it in the error.
fn check_weight(w: f64, edge: impl FnOnce() -> alloc::string::String) -> Result<()> {
    if !w.is_finite() {
        return Err(invalid(format!("{}: weight {w} is not finite", edge())));
    }
    if w < 0.0 {
        return Err(invalid(format!(
            "{}: weight {w} is negative (weights must be >= 0)",
            edge()
        )));
    }
    Ok(())
}
