"""The sparse solver engine: :class:`SparseMatrix` (CG, BiCGSTAB, Jacobi, local estimates of
one coordinate) and :class:`Graph` (PageRank: global, forward push, backward push, one pair),
on a Native engine (the Interpreted backend's solver is not in the wasm module yet).

Matrices come from ``scipy.sparse`` directly (CSR and COO arrays or matrices; other formats
through ``tocsr()``), from CSR arrays or triplets, or from Matrix Market text. Arrays are
passed to Rust without a copy when their dtypes allow (float64 values, int32/uint32 indices,
C-contiguous) and converted once otherwise; the matrix then keeps its own copy. Vectors come
back as numpy float64 arrays (read-only views of the returned buffer; ``.copy()`` for a
writable one), lists without numpy.

Every result carries a report that never claims more than was checked: the true residual
recomputed from the returned ``x``, the error bound, the work done, whether it converged and
why it stopped. A budget that runs out is a result with ``converged=False``; bad input raises
:class:`ferrovec.FerrovecError` (``InvalidArgument``, ``DimensionMismatch``, ...) naming the
problem.

>>> import numpy as np, scipy.sparse as sp
>>> A = SparseMatrix(sp.csr_array(np.array([[4.0, 1.0], [1.0, 3.0]])))
>>> x, report = A.cg([1.0, 2.0], rtol=1e-12)
>>> report.converged, np.allclose(x, [1 / 11, 7 / 11])
(True, True)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ._buffers import _invalid, _np, f64_arg, f64_result, u32_arg, u32_result
from ._engine import Engine, _closed
from ._uniffi import ferrovec as _ffi

StopReason = _ffi.StopReason

#: The default budgets of the core (pushes and walk steps): 2**34.
_DEFAULT_BUDGET = 1 << 34


def _engine(engine: Optional[Engine]) -> "_ffi.Engine":
    if engine is None:
        from ._index import default_engine

        engine = default_engine()
    return engine.raw


def _stop(s: "StopReason") -> str:
    return s.name.lower()


def _g(v: float) -> str:
    return f"{v:.3g}"


# ---------------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class SolveReport:
    """How ``cg``, ``bicgstab`` or ``jacobi`` reached its ``x`` and how good it is.

    ``relative_residual`` is ``||b - A x|| / ||b||`` recomputed from the returned ``x`` (not
    the recurrence's estimate); ``converged`` is ``relative_residual <= rtol``. Jacobi also
    reports ``error_bound`` (on ``||x* - x||_inf``) and its ``contraction`` factor; the
    Krylov methods have ``None`` there."""

    iterations: int
    relative_residual: float
    converged: bool
    stop: StopReason
    error_bound: Optional[float] = None
    contraction: Optional[float] = None

    @classmethod
    def _of(cls, r: "_ffi.SolveReport") -> "SolveReport":
        return cls(r.iterations, r.relative_residual, r.converged, r.stop, r.error_bound,
                   r.contraction)

    def __repr__(self) -> str:
        extra = ""
        if self.error_bound is not None:
            extra = f", error_bound={_g(self.error_bound)}, contraction={_g(self.contraction)}"
        return (
            f"SolveReport(converged={self.converged}, stop={_stop(self.stop)}, "
            f"iterations={self.iterations}, relative_residual={_g(self.relative_residual)}"
            f"{extra})"
        )


class Solution(NamedTuple):
    """``x`` and its :class:`SolveReport`; unpacks as ``x, report = A.cg(b)``."""

    x: Any
    report: SolveReport

    def __repr__(self) -> str:
        return f"Solution(x=<{len(self.x)} values>, report={self.report!r})"


@dataclass(frozen=True)
class LocalEstimate:
    """A local estimate of ``x_i`` (or ``u^T x``): ``|truth - estimate| <= error_bound``
    with probability at least ``1 - failure_probability`` (0: deterministic), read from
    ``rows_read`` rows (``work`` stored entries, ``touched`` residual entries)."""

    estimate: float
    error_bound: float
    failure_probability: float
    push_estimate: float
    push_bound: float
    residual_l1: float
    q: float
    c_max: float
    pushes: int
    walks: int
    walk_steps: int
    work: int
    rows_read: int
    touched: int
    converged: bool
    stop: StopReason

    @classmethod
    def _of(cls, r: "_ffi.LocalEstimate") -> "LocalEstimate":
        return cls(
            r.estimate, r.error_bound, r.failure_probability, r.push_estimate, r.push_bound,
            r.residual_l1, r.q, r.c_max, r.pushes, r.walks, r.walk_steps, r.work,
            r.rows_read, r.touched, r.converged, r.stop,
        )

    def __repr__(self) -> str:
        return (
            f"LocalEstimate(estimate={self.estimate!r}, error_bound={_g(self.error_bound)}, "
            f"converged={self.converged}, stop={_stop(self.stop)}, pushes={self.pushes}, "
            f"walks={self.walks}, work={self.work}, touched={self.touched})"
        )


@dataclass(frozen=True)
class PageRankReport:
    """How :meth:`Graph.pagerank` ended: ``||scores - pi||_1 <= error_bound``."""

    iterations: int
    l1_change: float
    error_bound: float
    converged: bool
    stop: StopReason

    def __repr__(self) -> str:
        return (
            f"PageRankReport(converged={self.converged}, stop={_stop(self.stop)}, "
            f"iterations={self.iterations}, error_bound={_g(self.error_bound)})"
        )


class PageRank(NamedTuple):
    """Every node's score (a float64 array summing to 1) and the :class:`PageRankReport`."""

    scores: Any
    report: PageRankReport

    def top_k(self, k: int) -> List[Tuple[int, float]]:
        """The ``k`` best ``(node, score)``, by descending score, ties by node id."""
        order = sorted(range(len(self.scores)), key=lambda u: (-self.scores[u], u))
        return [(u, float(self.scores[u])) for u in order[:k]]

    def __repr__(self) -> str:
        return f"PageRank(scores=<{len(self.scores)} nodes>, report={self.report!r})"


@dataclass(frozen=True)
class PushReport:
    """What a push guarantees: ``error_bound`` holds for every node, listed or not."""

    error_bound: float
    residual_mass: float
    eps_reached: float
    pushes: int
    work: int
    touched: int
    converged: bool
    stop: StopReason

    @classmethod
    def _of(cls, r: "_ffi.PushReport") -> "PushReport":
        return cls(r.error_bound, r.residual_mass, r.eps_reached, r.pushes, r.work, r.touched,
                   r.converged, r.stop)

    def __repr__(self) -> str:
        return (
            f"PushReport(converged={self.converged}, stop={_stop(self.stop)}, "
            f"error_bound={_g(self.error_bound)}, residual_mass={_g(self.residual_mass)}, "
            f"pushes={self.pushes}, work={self.work}, touched={self.touched})"
        )


class PushResult:
    """Sparse estimates of a push: ``nodes`` (uint32) and ``scores`` (float64) by descending
    score, ties by node id; a node not listed has estimate 0. Iterates as ``(node, score)``."""

    __slots__ = ("nodes", "scores", "report")

    def __init__(self, nodes: Any, scores: Any, report: PushReport):
        self.nodes = nodes
        self.scores = scores
        self.report = report

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Tuple[int, float]]:
        return ((int(u), float(s)) for u, s in zip(self.nodes, self.scores))

    def to_dict(self) -> Dict[int, float]:
        """``{node: score}`` (networkx's shape)."""
        return dict(self)

    def dense(self, n_nodes: int):
        """The estimates as a vector of ``n_nodes`` (zeros where not listed)."""
        if _np is not None:
            out = _np.zeros(n_nodes)
            out[_np.asarray(self.nodes, dtype=_np.intp)] = self.scores
            return out
        out = [0.0] * n_nodes
        for u, s in self:
            out[u] = s
        return out

    def __repr__(self) -> str:
        head = ", ".join(f"{u}: {_g(s)}" for u, s in list(self)[:3])
        more = ", ..." if len(self) > 3 else ""
        return f"PushResult({len(self)} nodes {{{head}{more}}}, report={self.report!r})"


@dataclass(frozen=True)
class PairEstimate:
    """``pi_source(target)``: ``|truth - estimate| <= error_bound`` with probability at
    least ``1 - failure_probability`` over seeds (0: the deterministic push bound);
    ``push_estimate`` alone is a lower bound within ``push_bound``."""

    estimate: float
    push_estimate: float
    push_bound: float
    error_bound: float
    failure_probability: float
    pushes: int
    walks: int
    walk_steps: int
    work: int
    touched: int
    converged: bool
    stop: StopReason

    @classmethod
    def _of(cls, e: "_ffi.PairEstimate") -> "PairEstimate":
        return cls(e.estimate, e.push_estimate, e.push_bound, e.error_bound,
                   e.failure_probability, e.pushes, e.walks, e.walk_steps, e.work, e.touched,
                   e.converged, e.stop)

    def __repr__(self) -> str:
        return (
            f"PairEstimate(estimate={self.estimate!r}, error_bound={_g(self.error_bound)}, "
            f"failure_probability={_g(self.failure_probability)}, converged={self.converged}, "
            f"stop={_stop(self.stop)}, walks={self.walks}, work={self.work}, "
            f"touched={self.touched})"
        )


# ---------------------------------------------------------------------------------- inputs


def _count(v: Any, name: str) -> int:
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise _invalid(f"`{name}` must be an int, not {type(v).__name__}") from None
    if n < 0:
        raise _invalid(f"`{name}` must be >= 0, got {n}")
    return n


def _shape(shape: Any) -> Tuple[int, int]:
    try:
        rows, cols = shape
    except (TypeError, ValueError):
        raise _invalid(f"`shape` must be (n_rows, n_cols), got {shape!r}") from None
    return _count(rows, "shape[0]"), _count(cols, "shape[1]")


def _budget(v: Optional[int], name: str) -> int:
    return _DEFAULT_BUDGET if v is None else _count(v, name)


def _top_k(v: Optional[int]) -> Optional[int]:
    return None if v is None else _count(v, "top_k")


def _node(v: Any, name: str) -> int:
    n = _count(v, name)
    if n > 0xFFFFFFFF:
        raise _invalid(f"`{name}` {n} is not a node id (< 2**32)")
    return n


def _is_sparse(x: Any) -> bool:
    return hasattr(x, "format") and hasattr(x, "tocsr") and hasattr(x, "shape")


def _sparse_pairs(u: Any, name: str):
    """A sparse vector: ``{index: value}`` or a pair ``(indices, values)``."""
    if isinstance(u, Mapping):
        return u32_arg(list(u.keys()), f"{name} indices"), f64_arg(list(u.values()), name)
    if isinstance(u, tuple) and len(u) == 2:
        return u32_arg(u[0], f"{name} indices"), f64_arg(u[1], name)
    raise _invalid(f"`{name}` must be a dict {{index: value}} or (indices, values)")


def _personalization(p: Any, name: str) -> "_ffi.Personalization":
    """None: uniform; an int: one node; a dict ``{node: weight}``; else one weight per
    node (a float64 array or a sequence)."""
    if p is None:
        return _ffi.Personalization.UNIFORM()
    if isinstance(p, bool):
        raise _invalid(f"`{name}` must be None, a node, a dict or a weight vector, not bool")
    if isinstance(p, int) or (_np is not None and isinstance(p, _np.integer)):
        return _ffi.Personalization.NODE(_node(p, name))
    if isinstance(p, Mapping):
        nodes, weights = _sparse_pairs(p, name)
        return _ffi.Personalization.SPARSE(bytes(_as_bytes(nodes)), bytes(_as_bytes(weights)))
    return _ffi.Personalization.DENSE(bytes(_as_bytes(f64_arg(p, name))))


def _as_bytes(arg: Any) -> bytes:
    """The bytes of an argument made by f64_arg / u32_arg (for the enum payloads, which UniFFI
    copies anyway)."""
    if isinstance(arg, bytes):
        return arg
    import ctypes

    return ctypes.string_at(arg.address, arg.nbytes) if arg.nbytes else b""


def _solve_config(rtol, max_iterations, preconditioner, symmetry_tolerance) -> "_ffi.SolveConfig":
    pre = None
    if preconditioner is not None:
        if isinstance(preconditioner, _ffi.Preconditioner):
            pre = preconditioner
        elif str(preconditioner).lower() == "jacobi":
            pre = _ffi.Preconditioner.JACOBI
        elif str(preconditioner).lower() == "none":
            pre = _ffi.Preconditioner.NONE
        else:
            raise _invalid(f"unknown preconditioner {preconditioner!r}; expected None or 'jacobi'")
    return _ffi.SolveConfig(
        rtol=float(rtol),
        max_iterations=None if max_iterations is None else _count(max_iterations, "max_iterations"),
        preconditioner=pre,
        symmetry_tolerance=None if symmetry_tolerance is None else float(symmetry_tolerance),
    )


def _local_config(tol, dominance, c_max, walks, seed, failure_probability, max_pushes,
                  max_walk_steps) -> "_ffi.LocalSolveConfig":
    return _ffi.LocalSolveConfig(
        tol=float(tol),
        dominance=None if dominance is None else float(dominance),
        c_max=None if c_max is None else float(c_max),
        max_pushes=_budget(max_pushes, "max_pushes"),
        walks=_count(walks, "walks"),
        seed=_count(seed, "seed"),
        failure_probability=float(failure_probability),
        max_walk_steps=_budget(max_walk_steps, "max_walk_steps"),
    )


# ---------------------------------------------------------------------------------- matrix


class SparseMatrix:
    """A sparse matrix (CSR, float64) with the solvers of ``A x = b``.

    ``SparseMatrix(m)`` takes a ``scipy.sparse`` matrix or array (CSR and COO without an
    intermediate copy when the dtypes allow; other formats through ``m.tocsr()``) or a dense
    2-D numpy array; see also :meth:`from_csr`, :meth:`from_triplets` and
    :meth:`from_matrix_market`. Duplicate entries are summed. ``engine``: the backend
    (default: native).

    Immutable and thread-safe; a context manager (or :meth:`close`) frees it at a known point.
    """

    __slots__ = ("_raw", "__weakref__")

    def __init__(self, matrix: Any, *, engine: Optional[Engine] = None):
        raw = _engine(engine)
        if isinstance(matrix, SparseMatrix):
            c = matrix.raw.to_csr()
            self._raw = _ffi.SparseMatrix.from_csr(raw, c.n_rows, c.n_cols, c.indptr, c.indices,
                                                   c.values, True)
            return
        if _is_sparse(matrix):
            n_rows, n_cols = _shape(matrix.shape)
            fmt = matrix.format
            if fmt == "coo":
                row, col = _coo_coords(matrix)
                self._raw = _ffi.SparseMatrix(
                    raw, n_rows, n_cols, u32_arg(row, "row"), u32_arg(col, "col"),
                    f64_arg(matrix.data, "data"),
                )
                return
            if fmt != "csr":
                matrix = matrix.tocsr()
            self._raw = _ffi.SparseMatrix.from_csr(
                raw, n_rows, n_cols, u32_arg(matrix.indptr, "indptr"),
                u32_arg(matrix.indices, "indices"), f64_arg(matrix.data, "data"),
                bool(matrix.has_canonical_format),
            )
            return
        if _np is not None and isinstance(matrix, _np.ndarray):
            if matrix.ndim != 2:
                raise _invalid(f"a dense matrix must be 2-D, got shape {matrix.shape}")
            rows, cols = _np.nonzero(matrix)
            self._raw = _ffi.SparseMatrix(
                raw, matrix.shape[0], matrix.shape[1], u32_arg(rows, "rows"),
                u32_arg(cols, "cols"), f64_arg(matrix[rows, cols], "values"),
            )
            return
        raise _invalid(
            "SparseMatrix takes a scipy.sparse matrix or array, a 2-D numpy array or a "
            f"SparseMatrix, not {type(matrix).__name__} (see also from_csr / from_triplets)"
        )

    @classmethod
    def _wrap(cls, raw: "_ffi.SparseMatrix") -> "SparseMatrix":
        self = cls.__new__(cls)
        self._raw = raw
        return self

    @classmethod
    def from_csr(cls, indptr: Any, indices: Any, values: Any, shape: Tuple[int, int], *,
                 canonical: bool = False, engine: Optional[Engine] = None) -> "SparseMatrix":
        """From CSR arrays (scipy's ``indptr``, ``indices``, ``data``). Columns may come in
        any order within a row and repeat (summed); ``canonical=True`` requires them strictly
        increasing (checked) and skips the sort."""
        n_rows, n_cols = _shape(shape)
        return cls._wrap(_ffi.SparseMatrix.from_csr(
            _engine(engine), n_rows, n_cols, u32_arg(indptr, "indptr"),
            u32_arg(indices, "indices"), f64_arg(values, "values"), bool(canonical),
        ))

    @classmethod
    def from_triplets(cls, rows: Any, cols: Any, values: Any, shape: Tuple[int, int], *,
                      engine: Optional[Engine] = None) -> "SparseMatrix":
        """From ``(rows[k], cols[k], values[k])`` triplets in any order, duplicates summed."""
        n_rows, n_cols = _shape(shape)
        return cls._wrap(_ffi.SparseMatrix(
            _engine(engine), n_rows, n_cols, u32_arg(rows, "rows"), u32_arg(cols, "cols"),
            f64_arg(values, "values"),
        ))

    @classmethod
    def from_matrix_market(cls, text: Union[str, bytes], *,
                           engine: Optional[Engine] = None) -> "SparseMatrix":
        """From the text of a Matrix Market ``coordinate`` file (``FerrovecError.CorruptFile``
        names the offending line)."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        return cls._wrap(_ffi.SparseMatrix.from_matrix_market(_engine(engine), data))

    @classmethod
    def read_matrix_market(cls, path: Union[str, os.PathLike], *,
                           engine: Optional[Engine] = None) -> "SparseMatrix":
        """Reads a Matrix Market file."""
        return cls._wrap(_ffi.SparseMatrix.read_matrix_market(_engine(engine), os.fspath(path)))

    @property
    def raw(self) -> "_ffi.SparseMatrix":
        """The generated object (raises ``FerrovecError.InvalidHandle`` once closed)."""
        if self._raw is None:
            raise _closed()
        return self._raw

    def close(self) -> None:
        """Frees the matrix (idempotent); later calls raise ``FerrovecError.InvalidHandle``."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.release()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def __enter__(self) -> "SparseMatrix":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._raw is None:
            return "SparseMatrix(closed)"
        r, c = self.shape
        return f"SparseMatrix(shape=({r}, {c}), nnz={self.nnz}, backend={self.backend.name.lower()})"

    @property
    def shape(self) -> Tuple[int, int]:
        return self.raw.n_rows(), self.raw.n_cols()

    @property
    def nnz(self) -> int:
        """Stored entries (explicit zeros included)."""
        return self.raw.nnz()

    @property
    def backend(self) -> "_ffi.BackendKind":
        return self.raw.backend_kind()

    def to_csr(self):
        """``(indptr, indices, data)``: canonical CSR arrays (uint32, uint32, float64)."""
        c = self.raw.to_csr()
        return u32_result(c.indptr), u32_result(c.indices), f64_result(c.values)

    def to_scipy(self):
        """The matrix as a ``scipy.sparse.csr_array`` (needs scipy)."""
        import scipy.sparse

        indptr, indices, data = self.to_csr()
        return scipy.sparse.csr_array((data, indices, indptr), shape=self.shape)

    def to_matrix_market(self, *, symmetric: bool = False) -> str:
        """Matrix Market text (``symmetric=True``: the lower triangle of a symmetric matrix,
        ``FerrovecError.InvalidArgument`` otherwise)."""
        return self.raw.to_matrix_market(_mm(symmetric))

    def write_matrix_market(self, path: Union[str, os.PathLike], *, symmetric: bool = False) -> None:
        """Writes :meth:`to_matrix_market` to ``path`` atomically."""
        self.raw.write_matrix_market(os.fspath(path), _mm(symmetric))

    def mul_vec(self, x: Any):
        """``A @ x`` as a float64 array."""
        return f64_result(self.raw.mul_vec(f64_arg(x, "x")))

    def __matmul__(self, x: Any):
        return self.mul_vec(x)

    def cg(self, b: Any, *, rtol: float = 1e-5, max_iterations: Optional[int] = None,
           x0: Any = None, preconditioner: Any = None,
           symmetry_tolerance: Optional[float] = None) -> Solution:
        """Conjugate gradient for symmetric positive definite ``A`` (scipy's ``cg``
        recurrences and stopping rule). ``max_iterations`` default ``10 n``;
        ``preconditioner``: ``None`` or ``"jacobi"``; ``symmetry_tolerance``: check symmetry
        first (off by default: the report stays honest without it)."""
        config = _solve_config(rtol, max_iterations, preconditioner, symmetry_tolerance)
        return _solution(self.raw.cg(f64_arg(b, "b"), _x0(x0), config))

    def bicgstab(self, b: Any, *, rtol: float = 1e-5, max_iterations: Optional[int] = None,
                 x0: Any = None, preconditioner: Any = None) -> Solution:
        """BiCGSTAB for general square ``A``."""
        config = _solve_config(rtol, max_iterations, preconditioner, None)
        return _solution(self.raw.bicgstab(f64_arg(b, "b"), _x0(x0), config))

    def jacobi(self, b: Any, *, rtol: float = 1e-5, max_iterations: Optional[int] = None,
               x0: Any = None) -> Solution:
        """Jacobi iteration for strictly diagonally dominant ``A`` (checked; a violation
        names the first row), reporting an ``error_bound`` on ``||x* - x||_inf``."""
        config = _solve_config(rtol, max_iterations, None, None)
        return _solution(self.raw.jacobi(f64_arg(b, "b"), _x0(x0), config))

    def solve_entry(self, b: Any, i: int, *, tol: float = 1e-6,
                    dominance: Optional[float] = None, c_max: Optional[float] = None,
                    walks: int = 0, seed: int = 0, failure_probability: float = 1e-3,
                    max_pushes: Optional[int] = None,
                    max_walk_steps: Optional[int] = None) -> LocalEstimate:
        """``x_i`` of ``A x = b`` for strictly diagonally dominant ``A``, estimated by push
        on the Neumann series (plus ``walks`` seeded random walks), reading only rows near
        ``i``. ``b``: one value per row, or sparse as ``{row: value}``. ``dominance``: a
        promised ``q`` (checked on every row read; ``None`` computes it from all of ``A``,
        which is not sublinear); ``c_max``: a promised bound on ``|b_j / a_jj|``."""
        config = _local_config(tol, dominance, c_max, walks, seed, failure_probability,
                               max_pushes, max_walk_steps)
        i = _count(i, "i")
        if isinstance(b, Mapping):
            bi, bv = _sparse_pairs(b, "b")
            return LocalEstimate._of(self.raw.solve_entry_sparse(bi, bv, i, config))
        return LocalEstimate._of(self.raw.solve_entry(f64_arg(b, "b"), i, config))

    def solve_functional(self, b: Any, u: Any, *, tol: float = 1e-6,
                         dominance: Optional[float] = None, c_max: Optional[float] = None,
                         walks: int = 0, seed: int = 0, failure_probability: float = 1e-3,
                         max_pushes: Optional[int] = None,
                         max_walk_steps: Optional[int] = None) -> LocalEstimate:
        """``u^T x`` of ``A x = b`` for a sparse ``u`` (``{index: weight}`` or ``(indices,
        weights)``); otherwise as :meth:`solve_entry`."""
        config = _local_config(tol, dominance, c_max, walks, seed, failure_probability,
                               max_pushes, max_walk_steps)
        ui, uv = _sparse_pairs(u, "u")
        if isinstance(b, Mapping):
            bi, bv = _sparse_pairs(b, "b")
            return LocalEstimate._of(self.raw.solve_functional_sparse(bi, bv, ui, uv, config))
        return LocalEstimate._of(self.raw.solve_functional(f64_arg(b, "b"), ui, uv, config))


def _coo_coords(m: Any):
    coords = getattr(m, "coords", None)  # scipy >= 1.13
    if coords is not None and len(coords) == 2:
        return coords
    return m.row, m.col


def _mm(symmetric: bool) -> "_ffi.MatrixMarketSymmetry":
    return _ffi.MatrixMarketSymmetry.SYMMETRIC if symmetric else _ffi.MatrixMarketSymmetry.GENERAL


def _x0(x0: Any):
    return b"" if x0 is None else f64_arg(x0, "x0")


def _solution(s: "_ffi.LinearSolution") -> Solution:
    return Solution(f64_result(s.x), SolveReport._of(s.report))


# ---------------------------------------------------------------------------------- graph


class Graph:
    """A directed, optionally weighted graph for PageRank, with networkx's semantics:
    ``alpha`` is the probability of following an edge, weights are divided by the weighted
    out-degree, a dangling node's mass goes to the personalization, repeated edges are
    summed. Results compare directly with ``networkx.pagerank``.

    ``Graph(adjacency)`` takes a square ``scipy.sparse`` adjacency (row ``u`` holds ``u``'s
    out-edges, values their weights: ``networkx.to_scipy_sparse_array(G)``) or a dense
    2-D numpy array; see also :meth:`from_edges` and :meth:`from_csr`.

    Immutable and thread-safe; a context manager (or :meth:`close`) frees it.
    """

    __slots__ = ("_raw", "__weakref__")

    def __init__(self, adjacency: Any, *, engine: Optional[Engine] = None):
        raw = _engine(engine)
        if _np is not None and isinstance(adjacency, _np.ndarray) and adjacency.ndim == 2:
            import numpy as np

            src, dst = np.nonzero(adjacency)
            n = _square(adjacency.shape)
            self._raw = _ffi.Graph(raw, n, u32_arg(src, "src"), u32_arg(dst, "dst"),
                                   f64_arg(adjacency[src, dst], "weights"))
            return
        if not _is_sparse(adjacency):
            raise _invalid(
                "Graph takes a scipy.sparse adjacency or a 2-D numpy array, not "
                f"{type(adjacency).__name__} (see also Graph.from_edges / Graph.from_csr)"
            )
        n = _square(adjacency.shape)
        if adjacency.format == "coo":
            row, col = _coo_coords(adjacency)
            self._raw = _ffi.Graph(raw, n, u32_arg(row, "row"), u32_arg(col, "col"),
                                   f64_arg(adjacency.data, "weights"))
            return
        if adjacency.format != "csr":
            adjacency = adjacency.tocsr()
        self._raw = _ffi.Graph.from_csr(raw, n, u32_arg(adjacency.indptr, "indptr"),
                                        u32_arg(adjacency.indices, "indices"),
                                        f64_arg(adjacency.data, "weights"))

    @classmethod
    def _wrap(cls, raw: "_ffi.Graph") -> "Graph":
        self = cls.__new__(cls)
        self._raw = raw
        return self

    @classmethod
    def from_edges(cls, src: Any, dst: Any, weights: Any = None, *,
                   n_nodes: Optional[int] = None, engine: Optional[Engine] = None) -> "Graph":
        """Edges ``src[k] -> dst[k]`` (weights finite, ``>= 0``; ``None``: 1 each) over
        ``n_nodes`` nodes (default: one more than the largest endpoint)."""
        s, d = u32_arg(src, "src"), u32_arg(dst, "dst")
        if n_nodes is None:
            ends = [int(v) for v in (_max_u32(s), _max_u32(d)) if v is not None]
            n_nodes = max(ends) + 1 if ends else 0
        w = b"" if weights is None else _weights(weights, len(s) // 4)
        return cls._wrap(_ffi.Graph(_engine(engine), _count(n_nodes, "n_nodes"), s, d, w))

    @classmethod
    def from_csr(cls, indptr: Any, indices: Any, weights: Any = None, *,
                 engine: Optional[Engine] = None) -> "Graph":
        """From a CSR adjacency: node ``u``'s out-edges are
        ``indices[indptr[u]:indptr[u + 1]]`` (any order, repeats summed), weighted by
        ``weights`` at the same positions (``None``: 1 each)."""
        ip = u32_arg(indptr, "indptr")
        n = max(len(ip) // 4 - 1, 0)
        ix = u32_arg(indices, "indices")
        w = b"" if weights is None else _weights(weights, len(ix) // 4)
        return cls._wrap(_ffi.Graph.from_csr(_engine(engine), n, ip, ix, w))

    @property
    def raw(self) -> "_ffi.Graph":
        """The generated object (raises ``FerrovecError.InvalidHandle`` once closed)."""
        if self._raw is None:
            raise _closed()
        return self._raw

    def close(self) -> None:
        """Frees the graph (idempotent); later calls raise ``FerrovecError.InvalidHandle``."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.release()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def __enter__(self) -> "Graph":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._raw is None:
            return "Graph(closed)"
        return (f"Graph(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
                f"backend={self.backend.name.lower()})")

    @property
    def n_nodes(self) -> int:
        return self.raw.n_nodes()

    @property
    def n_edges(self) -> int:
        """Distinct edges."""
        return self.raw.n_edges()

    @property
    def backend(self) -> "_ffi.BackendKind":
        return self.raw.backend_kind()

    def pagerank(self, *, alpha: float = 0.85, personalization: Any = None,
                 dangling: Any = None, nstart: Any = None, tol: float = 1e-6,
                 max_iter: int = 100) -> PageRank:
        """PageRank by power iteration, ``networkx.pagerank``'s algorithm step for step (same
        arguments; ``personalization``/``dangling``/``nstart``: ``None``, a node, a dict
        ``{node: weight}`` or one weight per node). Not converging within ``max_iter`` is
        ``report.converged == False`` (networkx raises), with the error bound reached."""
        r = self.raw.pagerank(
            _personalization(personalization, "personalization"),
            None if dangling is None else _personalization(dangling, "dangling"),
            None if nstart is None else _personalization(nstart, "nstart"),
            _ffi.PageRankConfig(alpha=float(alpha), tol=float(tol),
                                max_iter=_count(max_iter, "max_iter")),
        )
        report = PageRankReport(r.iterations, r.l1_change, r.error_bound, r.converged, r.stop)
        return PageRank(f64_result(r.scores), report)

    def forward_push(self, source: Any, *, alpha: float = 0.85, eps: float = 1e-4,
                     max_pushes: Optional[int] = None, top_k: Optional[int] = None) -> PushResult:
        """Personalized PageRank of ``source`` (a node, or a sparse personalization as a dict)
        by forward push, reading only the out-edges of the nodes it pushes. Every estimate is
        a lower bound: ``0 <= pi(v) - p(v)``, summing to ``report.residual_mass``
        (``<= eps * W(v)`` per node on symmetric graphs)."""
        config = _ffi.PushConfig(alpha=float(alpha), eps=float(eps),
                                 max_pushes=_budget(max_pushes, "max_pushes"), top_k=_top_k(top_k))
        return _push(self.raw.forward_push(_personalization(source, "source"), config))

    def backward_push(self, target: int, *, alpha: float = 0.85, r_max: float = 1e-4,
                      max_pushes: Optional[int] = None, top_k: Optional[int] = None) -> PushResult:
        """Every source's personalized PageRank of ``target`` by backward push:
        ``0 <= pi_s(target) - p(s) <= report.error_bound`` for every source ``s``."""
        config = _ffi.BackwardPushConfig(alpha=float(alpha), r_max=float(r_max),
                                         max_pushes=_budget(max_pushes, "max_pushes"),
                                         top_k=_top_k(top_k))
        return _push(self.raw.backward_push(_node(target, "target"), config))

    def pair(self, source: int, target: int, *, alpha: float = 0.85, r_max: float = 1e-4,
             walks: int = 10_000, seed: int = 0, failure_probability: float = 1e-3,
             max_pushes: Optional[int] = None, max_walk_steps: Optional[int] = None) -> PairEstimate:
        """``pi_source(target)`` by backward push plus seeded random walks (same seed, same
        result on every backend), with a probabilistic bound."""
        config = _ffi.PairConfig(
            alpha=float(alpha), r_max=float(r_max), walks=_count(walks, "walks"),
            seed=_count(seed, "seed"), failure_probability=float(failure_probability),
            max_pushes=_budget(max_pushes, "max_pushes"),
            max_walk_steps=_budget(max_walk_steps, "max_walk_steps"),
        )
        return PairEstimate._of(self.raw.pair(_node(source, "source"), _node(target, "target"), config))


def _square(shape: Sequence[int]) -> int:
    n_rows, n_cols = _shape(shape)
    if n_rows != n_cols:
        from ._uniffi import ferrovec_core as _core

        raise _core.FerrovecError.DimensionMismatch(
            f"dimension mismatch: an adjacency matrix must be square, got shape ({n_rows}, {n_cols})"
        )
    return n_rows


def _weights(weights: Any, n_edges: int):
    """Edge weights, one per edge: the bindings read empty weights as "unweighted", so a
    given but empty (or short) list must fail here rather than pass as unweighted."""
    w = f64_arg(weights, "weights")
    if len(w) // 8 != n_edges:
        from ._uniffi import ferrovec_core as _core

        raise _core.FerrovecError.DimensionMismatch(
            f"dimension mismatch: expected {n_edges}, got {len(w) // 8} (one weight per edge)"
        )
    return w


def _max_u32(arg: Any) -> Optional[int]:
    data = _as_bytes(arg)
    if not data:
        return None
    if _np is not None:
        return int(_np.frombuffer(data, dtype="<u4").max())
    import struct

    return max(struct.unpack(f"<{len(data) // 4}I", data))


def _push(r: "_ffi.PushOutcome") -> PushResult:
    return PushResult(u32_result(r.nodes), f64_result(r.scores), PushReport._of(r.report))
