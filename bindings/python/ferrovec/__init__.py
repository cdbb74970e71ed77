"""ferrovec: an embeddable on-device vector engine, from Python.

A thin layer over the UniFFI-generated module (``ferrovec._uniffi``) that

* takes vectors as ``bytes`` (little-endian float32), numpy arrays, ``array.array('f')``,
  ``memoryview``/``bytearray`` or plain sequences, passing buffers of the right layout to
  Rust without a copy;
* returns vectors as numpy float32 arrays when numpy is installed, else lists;
* raises :class:`FerrovecError` (one subclass per error kind, e.g.
  ``FerrovecError.DimensionMismatch``) with ferrovec's message;
* makes objects context managers that free their native memory on exit;
* embeds text on the device (:class:`Encoder`: a sentence-transformers model such as
  all-MiniLM-L6-v2, text to a float32 numpy array);
* solves sparse systems and PageRank (:class:`SparseMatrix`, :class:`Graph`), taking
  ``scipy.sparse`` matrices and numpy arrays directly.

>>> import ferrovec
>>> ferrovec.dot([1, 2, 3], [4, 5, 6])
32.0
>>> with ferrovec.Engine.interpreted() as engine, engine.index(3, "l2sq") as index:
...     index.add(7, [1, 0, 0])
...     index.search([0.9, 0, 0], k=1)[0].key
7
"""

from __future__ import annotations

from typing import Any, List, NamedTuple

from . import _buffers
from ._buffers import f32_arg, f32_result, i8_arg, bytes_arg
from ._uniffi import ferrovec as _ffi
from ._uniffi import ferrovec_core as _core

#: Every ferrovec error; catch a subclass (``FerrovecError.DimensionMismatch``, ...) to be
#: specific. ``str(err)`` is ferrovec's message.
FerrovecError = _core.FerrovecError
#: A panic inside ferrovec (a bug) surfaces as this instead of crashing the interpreter.
InternalError = _ffi.InternalError

Metric = _ffi.Metric
Isa = _ffi.Isa


class Hit(NamedTuple):
    """One selected score: its position in the input and its value."""

    index: int
    score: float

from ._engine import BackendKind, Engine  # noqa: E402
from ._index import (  # noqa: E402
    NO_KEY,
    BatchMatches,
    HnswConfig,
    Index,
    IndexConfig,
    IndexMetric,
    Match,
    Storage,
    default_engine,
)
from ._encoder import Encoder, Precision  # noqa: E402
from ._solver import (  # noqa: E402
    Graph,
    LocalEstimate,
    PageRank,
    PageRankReport,
    PairEstimate,
    PushReport,
    PushResult,
    Solution,
    SolveReport,
    SparseMatrix,
    StopReason,
)

__all__ = [
    "FerrovecError",
    "Engine",
    "BackendKind",
    "Encoder",
    "Precision",
    "Index",
    "IndexConfig",
    "IndexMetric",
    "Storage",
    "HnswConfig",
    "Match",
    "BatchMatches",
    "NO_KEY",
    "default_engine",
    "SparseMatrix",
    "Graph",
    "Solution",
    "SolveReport",
    "LocalEstimate",
    "PageRank",
    "PageRankReport",
    "PushResult",
    "PushReport",
    "PairEstimate",
    "StopReason",
    "InternalError",
    "Metric",
    "Isa",
    "Hit",
    "version",
    "active_isa",
    "available_isas",
    "force_isa",
    "dot",
    "cosine_distance",
    "l2sq",
    "l2_normalize",
    "scan",
    "top_k",
    "dot_i8",
    "l2sq_i8",
    "hamming",
    "jaccard",
]


def version() -> str:
    """The version of the native library, e.g. ``"0.1.0"``."""
    return _ffi.version()


def active_isa() -> Isa:
    """The instruction set the kernels run on in this process."""
    return _ffi.active_isa()


def available_isas() -> List[Isa]:
    """Every instruction set this machine can run, most portable first."""
    return _ffi.available_isas()


def force_isa(isa: Isa) -> None:
    """Run every kernel of this process on ``isa`` (for tests and benchmarks).

    Raises ``FerrovecError.UnsupportedIsa`` if the machine cannot run it."""
    _ffi.force_isa(isa)


def dot(a: Any, b: Any) -> float:
    """Inner product of two float32 vectors."""
    return _ffi.dot_f32(f32_arg(a, "a"), f32_arg(b, "b"))


def cosine_distance(a: Any, b: Any) -> float:
    """``1 - cos(a, b)`` in ``[0, 2]`` (two zero vectors: 0, exactly one: 1)."""
    return _ffi.cosine_distance_f32(f32_arg(a, "a"), f32_arg(b, "b"))


def l2sq(a: Any, b: Any) -> float:
    """Squared Euclidean distance of two float32 vectors."""
    return _ffi.l2sq_f32(f32_arg(a, "a"), f32_arg(b, "b"))


def l2_normalize(x: Any):
    """``(unit_vector, norm)``: ``x`` scaled to length 1 and its length before scaling.

    A vector of length zero, infinity or NaN comes back unchanged."""
    out = _ffi.l2_normalize_f32(f32_arg(x, "x"))
    return f32_result(out.vector), out.norm


def scan(query: Any, rows: Any, metric: Metric = Metric.COSINE):
    """Distances from ``query`` (d floats) to each row of ``rows`` (n*d floats, row-major,
    e.g. an ``(n, d)`` numpy array). Smaller is closer; ``Metric.DOT`` is the negated inner
    product."""
    return f32_result(_ffi.scan_f32(metric, f32_arg(query, "query"), f32_arg(rows, "rows")))


def top_k(scores: Any, k: int) -> List[Hit]:
    """The ``k`` smallest scores as :class:`Hit` ``(index, score)``, ascending, ties by
    lower index, NaN last."""
    if k < 0:
        raise ValueError("k must be >= 0")
    hits = _ffi.top_k(f32_arg(scores, "scores"), min(k, 2**32 - 1))
    return [Hit(h.index, h.score) for h in hits]


def dot_i8(a: Any, b: Any) -> int:
    """Inner product of two int8 vectors (bytes-like, or sequences of ints)."""
    return _ffi.dot_i8(i8_arg(a, "a"), i8_arg(b, "b"))


def l2sq_i8(a: Any, b: Any) -> int:
    """Squared Euclidean distance of two int8 vectors."""
    return _ffi.l2sq_i8(i8_arg(a, "a"), i8_arg(b, "b"))


def hamming(a: Any, b: Any) -> int:
    """Number of differing bits of two bit vectors packed in bytes."""
    return _ffi.hamming_b1(bytes_arg(a, "a"), bytes_arg(b, "b"))


def jaccard(a: Any, b: Any) -> float:
    """Jaccard distance of two bit vectors packed in bytes (0 if both are all zeros)."""
    return _ffi.jaccard_b1(bytes_arg(a, "a"), bytes_arg(b, "b"))


# Kept importable for tests that switch the numpy path off.
del _buffers
