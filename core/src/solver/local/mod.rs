//! Sublinear single-coordinate solves: `x_i` (or `u^T x` for a sparse `u`) of `A x = b`
//! for a strictly diagonally dominant `A`, without reading all of `A`, by local push on
//! the Neumann series and optional random-walk refinement.
//!
//! ```
//! use ferrovec_core::solver::local::{solve_entry, LocalSolveOptions, Rhs};
//! use ferrovec_core::sparse::CsrMatrix;
//! // [[4, -1, 0], [-1, 4, -1], [0, -1, 4]] x = [1, 2, 3]: x = [0.4643, 0.8571, 0.9643].
//! let a = CsrMatrix::from_triplets(3, 3, &[0, 0, 1, 1, 1, 2, 2], &[0, 1, 0, 1, 2, 1, 2],
//!                                  &[4.0, -1.0, -1.0, 4.0, -1.0, -1.0, 4.0])?;
//! let opts = LocalSolveOptions { tol: 1e-9, dominance: Some(0.5), ..Default::default() };
//! let r = solve_entry(a.view(), &Rhs::Dense(&[1.0, 2.0, 3.0]), 1, &opts)?;
//! assert!(r.converged && (r.estimate - 6.0 / 7.0).abs() <= r.error_bound + 1e-15);
//! # Ok::<(), ferrovec_core::Error>(())
//! ```
//!
//! # The series, and why rows suffice
//!
//! Split `A = D (I - M)` with `D = diag(A)` and `M = I - D^{-1} A` (`m_jl = -a_jl / a_jj`
//! off the diagonal, `m_jj = 0`). With `c = D^{-1} b`, `x = c + M x`, so
//! `x = sum_k M^k c` and
//!
//! ```text
//! u^T x = sum_k (u^T M^k) c.
//! ```
//!
//! The row vectors `u^T M^k` propagate along **rows** of `M`: `(e_j^T M)` is row `j` of
//! `M`, i.e. row `j` of `A` divided by `-a_jj`. So a push that holds a sparse residual row
//! vector `rho` (initially `u`) and an estimate `est` (initially 0), and pushes entry `j`
//! by
//!
//! ```text
//! est += rho_j c_j;   rho += rho_j (e_j^T M);   rho_j = 0
//! ```
//!
//! reads only row `j` of `A` (its diagonal and off-diagonal entries) and `b_j`: CSR row
//! access is exactly what it needs. It keeps the invariant **`u^T x = est + rho^T x`**
//! (because `e_j^T x = c_j + e_j^T M x`). (Estimating every coordinate of `x`, or a
//! column-side quantity, would need columns; this one does not.)
//!
//! # The error bound, and what it needs
//!
//! `|u^T x - est| = |rho^T x| <= ||rho||_1 max_j |x_j|`. Bounding `max |x_j|` needs
//! something global: with `q >= sum_{l != j} |a_jl| / |a_jj|` (the row dominance factor,
//! `||M||_inf <= q < 1`) and `c_max >= |b_j / a_jj|`, `x = c + M x` gives
//! `max |x_j| <= c_max / (1 - q)`, hence
//!
//! ```text
//! |u^T x - est| <= ||rho||_1 c_max / (1 - q)          (push_bound)
//! ```
//!
//! It is enough that `q` and `c_max` hold on the rows **reachable from `u`** in the graph
//! of `A` (`j -> l` when `a_jl != 0`): `rho` and all `rho^T M^k` live there, and so does
//! the recursion for `x` restricted to them. The rows a solve reads are only part of that
//! set, and their dominance says nothing about the others (a row never read can make
//! `x` arbitrarily large), so **the touched rows alone cannot give a rigorous bound**.
//! Hence:
//!
//! * [`LocalSolveOptions::dominance`] = `Some(q)`: the caller's promise that every
//!   reachable row has `sum_{l != j} |a_jl| <= q |a_jj|`. Every row the solve reads is
//!   checked against it, and a violation is an [`Error::InvalidArgument`] naming the row;
//!   the rows it does not read are trusted. `None`: `q` is computed over all of `A`
//!   (`O(nnz)`, not sublinear), refusing a matrix that is not strictly dominant.
//! * [`LocalSolveOptions::c_max`] = `Some(c)`: the caller's bound on `|b_j / a_jj|`,
//!   checked on every row read. `None`: computed exactly over the non-zeros of `b`
//!   (`O(nnz(b))` diagonal look-ups: sublinear for a sparse `b`, `O(n)` rows for a dense
//!   one).
//!
//! With both valid the bound is rigorous (in exact arithmetic; the computed `est` carries
//! the rounding of its `pushes` additions). The reports name the `q` and `c_max` used.
//!
//! # Random-walk refinement (optional, seeded)
//!
//! `rho^T x = sum_k rho^T M^k c` is estimated by walks: start at `j` with probability
//! `|rho_j| / ||rho||_1`; at each state stop with probability `1 - q`, otherwise move to
//! `l` with probability `|m_jl|` (and die, contributing 0, with the remaining `q -
//! sum_l |m_jl| >= 0`), multiplying a sign by `sign(m_jl)`; on stopping at `l`, the walk
//! contributes `Z = ||rho||_1 sign(rho_j) sign c_l / (1 - q)`. Summing over paths,
//! `E[Z] = rho^T x` exactly, and `|Z| <= B = push_bound`. With `N` walks, Hoeffding's
//! inequality on the mean (range `2B`) gives `|u^T x - (est + mean)| <= B sqrt(2 ln(2 /
//! f) / N)` with probability at least `1 - f`. The walks are deterministic for a seed on
//! every platform (xoshiro256**, integer stop decisions, correctly rounded IEEE
//! operations in a fixed order for the transition draw; see `rng.rs`). The transition
//! probabilities are realized on a `2^-53` grid and the stop decision on a `2^-64` grid,
//! a bias far below any bound reported.
//!
//! # Memory and work
//!
//! The residual lives in a hash map of the entries touched (`map.rs`): memory grows with
//! `touched`, never with `n`, and no `n`-sized buffer is allocated per query (a dense `b`
//! is read where needed, not copied). Each push of `j` reads row `j`; each pushed `|rho_j|`
//! shrinks `||rho||_1` by at least `(1 - q) |rho_j|`.
//!
//! How much is read depends on `A` and `tol`, not on `n`: after `k` rounds the residual
//! lives on rows within `k` steps of `u` (up to `d^k` of them with `d` entries per row)
//! and its mass has shrunk by about `q^k`, so `tol` needs `k ~ log(tol) / log(q)` steps:
//! a sliver of a large, well-dominated matrix at a moderate tolerance (a test reads 1,013
//! of 200,000 rows for `tol = 1e-3`, `q = 0.5`, 6 entries per row), and all of it for a
//! tiny tolerance on an expander. The walks trade the deterministic bound for a
//! probabilistic one whose cost does not grow with the support.

pub(crate) mod map;
pub(crate) mod rng;

#[cfg(test)]
mod tests;

use alloc::format;
use alloc::vec::Vec;

use self::map::NodeMap;
use self::rng::{threshold, Rng};
use super::Stop;
use crate::sparse::CsrRef;
use crate::{Error, Result};

/// The right-hand side `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rhs<'a> {
    /// All `n` entries.
    Dense(&'a [f64]),
    /// The non-zero entries (any order, each index once); the rest are zero.
    Sparse {
        /// Row indices.
        indices: &'a [u32],
        /// Their values.
        values: &'a [f64],
    },
}

/// Options of [`solve_entry`] and [`solve_functional`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalSolveOptions {
    /// Push until the deterministic bound `push_bound <= tol` (finite, `> 0`). Default
    /// `1e-6`.
    pub tol: f64,
    /// The dominance factor `q` in `[0, 1)` (see the [module docs](self)); `None`
    /// (default): computed from all of `A`, which is not sublinear.
    pub dominance: Option<f64>,
    /// A bound `c_max >= |b_j / a_jj|` (finite, `>= 0`); `None` (default): computed from
    /// the non-zeros of `b`.
    pub c_max: Option<f64>,
    /// Push budget. Default `2^34`.
    pub max_pushes: u64,
    /// Random walks after the push (0, the default: none).
    pub walks: u64,
    /// Seed of the walks. Default 0.
    pub seed: u64,
    /// Probability that the walk-refined `error_bound` is exceeded, in `(0, 1)`.
    /// Default `1e-3`.
    pub failure_probability: f64,
    /// Budget of walk steps over all walks. Default `2^34`.
    pub max_walk_steps: u64,
}

impl Default for LocalSolveOptions {
    fn default() -> Self {
        LocalSolveOptions {
            tol: 1e-6,
            dominance: None,
            c_max: None,
            max_pushes: 1 << 34,
            walks: 0,
            seed: 0,
            failure_probability: 1e-3,
            max_walk_steps: 1 << 34,
        }
    }
}

/// What a local solve returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalSolve {
    /// The estimate of `u^T x`: the push estimate, refined by the walks when they tighten
    /// the bound.
    pub estimate: f64,
    /// `|u^T x - estimate| <= error_bound`, with probability `>= 1 - failure_probability`.
    pub error_bound: f64,
    /// 0 when `error_bound` is deterministic (no walks, or walks too few to beat
    /// `push_bound`: the estimate is then the push estimate), else the requested one.
    pub failure_probability: f64,
    /// The push phase's estimate `est`.
    pub push_estimate: f64,
    /// Deterministic: `|u^T x - push_estimate| <= push_bound = residual_l1 * c_max / (1 - q)`.
    pub push_bound: f64,
    /// `||rho||_1` after the push.
    pub residual_l1: f64,
    /// The dominance factor used in the bound.
    pub q: f64,
    /// The bound on `|b_j / a_jj|` used.
    pub c_max: f64,
    /// Pushes performed.
    pub pushes: u64,
    /// Walks completed.
    pub walks: u64,
    /// Transitions taken by the walks.
    pub walk_steps: u64,
    /// Stored entries of `A` read by pushes and walks (the work).
    pub work: u64,
    /// Distinct rows of `A` pushed.
    pub rows_read: usize,
    /// Entries of the residual map (the memory used grows with this, not with `n`).
    pub touched: usize,
    /// Whether `push_bound <= tol` (and every requested walk ran).
    pub converged: bool,
    /// [`Stop::Converged`]; [`Stop::MaxWork`] (push or walk budget); [`Stop::Breakdown`]
    /// when `tol` is below what `f64` can resolve (the push threshold underflowed).
    pub stop: Stop,
}

/// `x_i` of `A x = b`: [`solve_functional`] with `u = e_i`.
pub fn solve_entry(
    a: CsrRef<'_>,
    b: &Rhs<'_>,
    i: usize,
    opts: &LocalSolveOptions,
) -> Result<LocalSolve> {
    if i >= a.n_rows() {
        return Err(Error::InvalidArgument(format!(
            "row {i} is out of range (the matrix has {} rows)",
            a.n_rows()
        )));
    }
    // i < n_rows <= MAX_DIM.
    solve_functional(a, b, &[i as u32], &[1.0], opts)
}

/// A residual entry: its value, whether it waits in the queue, whether its row was read.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    rho: f64,
    queued: bool,
    read: bool,
}

/// What the solve needs of one row: its entries and diagonal, checked against `q` and
/// `c_max`.
struct Row<'a> {
    cols: &'a [u32],
    vals: &'a [f64],
    diag: f64,
    c: f64,
}

struct Problem<'a> {
    a: CsrRef<'a>,
    b: Rhs<'a>,
    b_map: Option<NodeMap<f64>>,
    q: f64,
    c_max: f64,
    /// Whether `c_max` came from the caller (then every `c_j` read is checked).
    check_c: bool,
    /// Whether `q` came from the caller (then every row read is checked).
    check_q: bool,
}

impl<'a> Problem<'a> {
    fn b_at(&self, j: u32) -> f64 {
        match (&self.b, &self.b_map) {
            (Rhs::Dense(b), _) => b.get(j as usize).copied().unwrap_or(0.0),
            (Rhs::Sparse { .. }, Some(m)) => m.get(j).copied().unwrap_or(0.0),
            (Rhs::Sparse { .. }, None) => 0.0,
        }
    }

    fn row(&self, j: u32) -> Result<Row<'a>> {
        let (cols, vals) = self
            .a
            .row(j as usize)
            .ok_or_else(|| Error::Internal("local solve: row out of range".into()))?;
        let mut diag = 0.0;
        let mut off = 0.0;
        for (&l, &v) in cols.iter().zip(vals) {
            if l == j {
                diag = v;
            } else {
                off += v.abs();
            }
        }
        if diag == 0.0 {
            return Err(Error::InvalidArgument(format!(
                "row {j} has a zero diagonal: A is not strictly diagonally dominant"
            )));
        }
        if self.check_q && off > self.q * diag.abs() {
            return Err(Error::InvalidArgument(format!(
                "row {j}: sum_(l != j) |a_jl| / |a_jj| = {} exceeds the dominance bound q = {}",
                off / diag.abs(),
                self.q
            )));
        }
        let c = self.b_at(j) / diag;
        if self.check_c && c.abs() > self.c_max {
            return Err(Error::InvalidArgument(format!(
                "row {j}: |b_j / a_jj| = {} exceeds the bound c_max = {}",
                c.abs(),
                self.c_max
            )));
        }
        if !c.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "row {j}: b_j / a_jj = {c} is not finite"
            )));
        }
        Ok(Row {
            cols,
            vals,
            diag,
            c,
        })
    }
}

/// Validates a sparse vector's indices (`< n`, each once) and values (finite); `what`
/// names it in errors.
fn check_sparse(indices: &[u32], values: &[f64], n: usize, what: &str) -> Result<()> {
    if values.len() != indices.len() {
        return Err(Error::DimensionMismatch {
            expected: indices.len(),
            actual: values.len(),
        });
    }
    for (k, (&j, &v)) in indices.iter().zip(values).enumerate() {
        if j as usize >= n {
            return Err(Error::InvalidArgument(format!(
                "{what}: entry {k} has index {j}, out of range (n = {n})"
            )));
        }
        if !v.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "{what}: entry {k} (index {j}) is {v}, not finite"
            )));
        }
    }
    Ok(())
}

/// `u^T x` for `A x = b`, `u` sparse (`u_indices`, `u_values`: each index once), by local
/// push on the Neumann series, optionally refined by random walks. The method, the bound
/// and what it needs are in the [module docs](self).
///
/// Push schedule: rounds with a threshold `theta` that starts at `max |u_j|` and halves
/// (or drops to the largest residual left, if smaller) after each round; a round pushes,
/// FIFO, every entry with `|rho_j| >= theta`. After each round the solve stops if
/// `push_bound <= tol`.
///
/// Errors ([`Error::InvalidArgument`] unless noted): a non-square or empty `A`
/// ([`Error::DimensionMismatch`] for non-square); `b` of the wrong length
/// ([`Error::DimensionMismatch`]) or with a non-finite entry, a sparse `b` or `u` with an
/// index out of range or repeated or a non-finite value; `tol` not finite or `<= 0`; `q`
/// outside `[0, 1)`; `c_max` negative or not finite; `failure_probability` outside
/// `(0, 1)`; a row read that has a zero diagonal or violates `q` or `c_max`; with
/// `dominance = None`, a matrix that is not strictly diagonally dominant.
pub fn solve_functional(
    a: CsrRef<'_>,
    b: &Rhs<'_>,
    u_indices: &[u32],
    u_values: &[f64],
    opts: &LocalSolveOptions,
) -> Result<LocalSolve> {
    let n = a.n_rows();
    if !a.is_square() {
        return Err(Error::DimensionMismatch {
            expected: a.n_rows(),
            actual: a.n_cols(),
        });
    }
    if n == 0 {
        return Err(Error::InvalidArgument("the system is empty (0 x 0)".into()));
    }
    check_sparse(u_indices, u_values, n, "u")?;
    if !(opts.tol.is_finite() && opts.tol > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "tol must be finite and > 0, got {}",
            opts.tol
        )));
    }
    let f = opts.failure_probability;
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::InvalidArgument(format!(
            "failure_probability must be in (0, 1), got {f}"
        )));
    }
    let b_map = match *b {
        Rhs::Dense(v) => {
            if v.len() != n {
                return Err(Error::DimensionMismatch {
                    expected: n,
                    actual: v.len(),
                });
            }
            if let Some((j, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "b: entry {j} is {x}, not finite"
                )));
            }
            None
        }
        Rhs::Sparse { indices, values } => {
            check_sparse(indices, values, n, "b")?;
            let mut m: NodeMap<f64> = NodeMap::with_capacity(indices.len())?;
            for (&j, &v) in indices.iter().zip(values) {
                let before = m.len();
                *m.entry(j)? = v;
                if m.len() == before {
                    return Err(Error::InvalidArgument(format!(
                        "b: index {j} appears more than once"
                    )));
                }
            }
            Some(m)
        }
    };
    let (q, check_q) = match opts.dominance {
        Some(q) => {
            if !(q.is_finite() && (0.0..1.0).contains(&q)) {
                return Err(Error::InvalidArgument(format!(
                    "the dominance factor q must be in [0, 1), got {q}"
                )));
            }
            (q, true)
        }
        None => (global_dominance(a)?, false),
    };
    let mut problem = Problem {
        a,
        b: *b,
        b_map,
        q,
        c_max: 0.0,
        check_c: false,
        check_q,
    };
    let c_max = match opts.c_max {
        Some(c) => {
            if !(c.is_finite() && c >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "c_max must be finite and >= 0, got {c}"
                )));
            }
            problem.check_c = true;
            c
        }
        None => exact_c_max(&problem)?,
    };
    problem.c_max = c_max;
    let scale = c_max / (1.0 - q);

    // The residual, initially u (duplicates refused).
    let mut map: NodeMap<Entry> = NodeMap::with_capacity(u_indices.len().saturating_add(16))?;
    let mut theta = 0.0f64;
    for (&j, &v) in u_indices.iter().zip(u_values) {
        let before = map.len();
        map.entry(j)?.rho = v;
        if map.len() == before {
            return Err(Error::InvalidArgument(format!(
                "u: index {j} appears more than once"
            )));
        }
        theta = theta.max(v.abs());
    }

    let mut est = 0.0;
    let mut pushes = 0u64;
    let mut work = 0u64;
    let mut stop = Stop::Converged;
    let mut queue: Vec<u32> = Vec::new();
    let mut residual_l1;
    loop {
        residual_l1 = map.iter().map(|(_, e)| e.rho.abs()).sum::<f64>();
        if residual_l1 * scale <= opts.tol {
            break;
        }
        if stop != Stop::Converged {
            break;
        }
        if theta.is_nan() || theta < f64::MIN_POSITIVE {
            stop = Stop::Breakdown;
            break;
        }
        // One round: every entry >= theta, FIFO (a Vec used as a queue with a head index,
        // cleared per round).
        queue.clear();
        let mut due: Vec<u32> = Vec::new();
        for (j, e) in map.iter() {
            if e.rho != 0.0 && e.rho.abs() >= theta {
                due.try_reserve(1).map_err(|_| oom())?;
                due.push(j);
            }
        }
        for &j in &due {
            map.entry(j)?.queued = true;
        }
        queue.try_reserve(due.len()).map_err(|_| oom())?;
        queue.extend_from_slice(&due);
        let mut head = 0;
        while let Some(&j) = queue.get(head) {
            head += 1;
            let rho = {
                let e = map.entry(j)?;
                e.queued = false;
                e.rho
            };
            if rho == 0.0 || rho.abs() < theta {
                continue;
            }
            if pushes >= opts.max_pushes {
                stop = Stop::MaxWork;
                break;
            }
            let row = problem.row(j)?;
            pushes += 1;
            work += row.cols.len() as u64;
            est += rho * row.c;
            {
                let e = map.entry(j)?;
                e.rho = 0.0;
                e.read = true;
            }
            for (&l, &v) in row.cols.iter().zip(row.vals) {
                if l == j || v == 0.0 {
                    continue;
                }
                let e = map.entry(l)?;
                // rho_j m_jl with m_jl = -a_jl / a_jj formed first: |m_jl| <= q < 1, so no
                // overflow even when a_jj is tiny.
                e.rho -= rho * (v / row.diag);
                if !e.queued && e.rho.abs() >= theta {
                    e.queued = true;
                    queue.try_reserve(1).map_err(|_| oom())?;
                    queue.push(l);
                }
            }
        }
        let largest = map.iter().map(|(_, e)| e.rho.abs()).fold(0.0, f64::max);
        theta = (theta * 0.5).min(largest);
    }
    let push_bound = residual_l1 * scale;
    let converged_push = push_bound <= opts.tol;

    let mut result = LocalSolve {
        estimate: est,
        error_bound: push_bound,
        failure_probability: 0.0,
        push_estimate: est,
        push_bound,
        residual_l1,
        q,
        c_max,
        pushes,
        walks: 0,
        walk_steps: 0,
        work,
        rows_read: map.iter().filter(|(_, e)| e.read).count(),
        touched: map.len(),
        converged: converged_push,
        stop: if converged_push {
            Stop::Converged
        } else {
            stop
        },
    };
    if opts.walks > 0 && push_bound > 0.0 {
        refine_by_walks(&problem, &map, opts, &mut result)?;
    }
    Ok(result)
}

/// The random-walk phase (see the [module docs](self)); updates `result` in place.
fn refine_by_walks(
    problem: &Problem<'_>,
    map: &NodeMap<Entry>,
    opts: &LocalSolveOptions,
    result: &mut LocalSolve,
) -> Result<()> {
    let q = problem.q;
    // Start distribution: running sums of |rho| in map order (deterministic).
    let mut starts: Vec<(u32, f64, f64)> = Vec::new();
    let mut total = 0.0;
    for (j, e) in map.iter() {
        if e.rho != 0.0 {
            total += e.rho.abs();
            starts.try_reserve(1).map_err(|_| oom())?;
            starts.push((j, total, e.rho.signum()));
        }
    }
    if starts.is_empty() || total.is_nan() || total <= 0.0 {
        return Ok(());
    }
    // |Z| <= total * c_max / (1 - q): the Hoeffding range is [-bound, bound].
    let z_scale = total / (1.0 - q);
    let range = z_scale * problem.c_max;
    let go_on = threshold(q);
    let mut rng = Rng::new(opts.seed);
    let mut sum = 0.0;
    let mut walks = 0u64;
    let mut steps = 0u64;
    let mut work = 0u64;
    let mut out_of_steps = false;
    'walks: while walks < opts.walks {
        let x = rng.unit() * total;
        let k = starts.partition_point(|s| s.1 <= x).min(starts.len() - 1);
        let Some(&(mut cur, _, mut sign)) = starts.get(k) else {
            break;
        };
        let mut walk_steps = 0u64;
        let z = loop {
            let row = problem.row(cur)?;
            work += row.cols.len() as u64;
            if !rng.chance(go_on) {
                break sign * row.c * z_scale;
            }
            if steps + walk_steps >= opts.max_walk_steps {
                out_of_steps = true;
                break 'walks;
            }
            walk_steps += 1;
            // Move to l with probability |m_jl| = |a_jl| / |a_jj| (given that the walk
            // continues: y uniform in [0, q)); die with the rest.
            let y = rng.unit() * q;
            let inv = 1.0 / row.diag.abs();
            let mut acc = 0.0;
            let mut next = None;
            for (&l, &v) in row.cols.iter().zip(row.vals) {
                if l == cur || v == 0.0 {
                    continue;
                }
                acc += v.abs() * inv;
                if y < acc {
                    next = Some((l, v));
                    break;
                }
            }
            match next {
                Some((l, v)) => {
                    // m_jl = -a_jl / a_jj.
                    if (v < 0.0) == (row.diag < 0.0) {
                        sign = -sign;
                    }
                    cur = l;
                }
                None => break 0.0,
            }
        };
        steps += walk_steps;
        walks += 1;
        sum += z;
    }
    result.walks = walks;
    result.walk_steps = steps;
    result.work += work;
    if out_of_steps {
        result.converged = false;
        result.stop = Stop::MaxWork;
    }
    if walks == 0 {
        return Ok(());
    }
    let f = opts.failure_probability;
    let mean = sum / walks as f64;
    let hoeffding = range * libm::sqrt(2.0 * libm::log(2.0 / f) / walks as f64);
    if hoeffding < result.push_bound {
        result.estimate = result.push_estimate + mean;
        result.error_bound = hoeffding;
        result.failure_probability = f;
    }
    Ok(())
}

/// `max_j sum_{l != j} |a_jl| / |a_jj|` over all rows; an error if some row is not
/// strictly dominant.
fn global_dominance(a: CsrRef<'_>) -> Result<f64> {
    if let Some(v) = a.first_non_dominant_row() {
        return Err(Error::InvalidArgument(format!(
            "{v}; the local solve needs a strictly diagonally dominant matrix"
        )));
    }
    let mut q = 0.0f64;
    for (j, (cols, vals)) in a.rows().enumerate() {
        let mut diag = 0.0;
        let mut off = 0.0;
        for (&l, &v) in cols.iter().zip(vals) {
            if l as usize == j {
                diag = v;
            } else {
                off += v.abs();
            }
        }
        q = q.max(off / diag.abs());
    }
    if q.is_nan() || q >= 1.0 {
        return Err(Error::InvalidArgument(format!(
            "the dominance factor max_j sum_(l != j) |a_jl| / |a_jj| = {q} is not below 1"
        )));
    }
    Ok(q)
}

/// `max |b_j / a_jj|` over the non-zeros of `b`.
fn exact_c_max(problem: &Problem<'_>) -> Result<f64> {
    let mut c_max = 0.0f64;
    let mut visit = |j: usize, bj: f64| -> Result<()> {
        if bj == 0.0 {
            return Ok(());
        }
        let d = problem.a.get(j, j).unwrap_or(0.0);
        if d == 0.0 {
            return Err(Error::InvalidArgument(format!(
                "row {j} has a zero diagonal: A is not strictly diagonally dominant"
            )));
        }
        let c = (bj / d).abs();
        if !c.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "row {j}: b_j / a_jj = {c} is not finite"
            )));
        }
        c_max = c_max.max(c);
        Ok(())
    };
    match problem.b {
        Rhs::Dense(b) => {
            for (j, &bj) in b.iter().enumerate() {
                visit(j, bj)?;
            }
        }
        Rhs::Sparse { indices, values } => {
            for (&j, &bj) in indices.iter().zip(values) {
                visit(j as usize, bj)?;
            }
        }
    }
    Ok(c_max)
}

fn oom() -> Error {
    Error::OutOfMemory("could not grow a local solve's buffers".into())
}
