"""`Index`: ferrovec's vector index (exact or HNSW) on a Native or Interpreted engine."""

from __future__ import annotations

import ctypes
import os
import threading
from itertools import repeat
from typing import Any, Iterable, List, NamedTuple, Optional, Union

from ._buffers import Pinned, _np, f32_arg, f32_result, u64_arg
from ._engine import Engine, _closed
from ._uniffi import ferrovec as _ffi

IndexMetric = _ffi.IndexMetric
Storage = _ffi.Storage
HnswConfig = _ffi.HnswConfig
IndexConfig = _ffi.IndexConfig

_METRICS = {
    "cosine": IndexMetric.COSINE,
    "l2sq": IndexMetric.L2SQ,
    "l2": IndexMetric.L2SQ,
    "ip": IndexMetric.INNER_PRODUCT,
    "inner_product": IndexMetric.INNER_PRODUCT,
    "hamming": IndexMetric.HAMMING,
    "jaccard": IndexMetric.JACCARD,
}
_STORAGES = {
    "f32": Storage.F32,
    "f16": Storage.F16,
    "bf16": Storage.BF16,
    "i8": Storage.I8,
    "b1": Storage.B1,
}

_default_engine: Optional[Engine] = None


def default_engine() -> Engine:
    """The process-wide native engine that indexes use when no ``engine`` is given."""
    global _default_engine
    if _default_engine is None or _default_engine.closed:
        _default_engine = Engine.native()
    return _default_engine


class Match(NamedTuple):
    """One search result: the key and its distance to the query (smaller is closer)."""

    key: int
    distance: float


def _metric(m: Any) -> "IndexMetric":
    if isinstance(m, IndexMetric):
        return m
    try:
        return _METRICS[str(m).lower()]
    except KeyError:
        raise ValueError(f"unknown metric {m!r}; expected one of {sorted(_METRICS)}") from None


def _storage(s: Any) -> "Storage":
    if isinstance(s, Storage):
        return s
    try:
        return _STORAGES[str(s).lower()]
    except KeyError:
        raise ValueError(f"unknown storage {s!r}; expected one of {sorted(_STORAGES)}") from None


def _hnsw(h: Any) -> Optional["HnswConfig"]:
    if h is None or h is False:
        return None
    if h is True:
        return HnswConfig()
    if isinstance(h, HnswConfig):
        return h
    if isinstance(h, dict):
        return HnswConfig(**h)
    raise TypeError("hnsw must be None/False (exact), True (defaults), a dict or HnswConfig")


def _matches(found) -> List[Match]:
    return [Match(m.key, m.distance) for m in found]


#: The key that pads :meth:`Index.search_batch` rows with fewer than ``k`` matches:
#: ``2**64 - 1`` (``numpy.uint64`` max; the bits of ``-1`` as int64, faiss's padding, so
#: ``keys.view(np.int64) == -1`` finds it too). Keys are full u64, so a live key may equal
#: it: ``counts`` is the authority on how many entries of a row are matches.
NO_KEY = 2**64 - 1


class BatchMatches(NamedTuple):
    """:meth:`Index.search_batch` results: ``n`` queries by ``k`` columns, row ``i`` holding
    query ``i``'s matches ascending by distance (ties by key).

    ``keys``: ``uint64 [n, k]``, padded with :data:`NO_KEY` where a query has fewer than
    ``k`` matches (fewer than ``k`` live vectors). ``distances``: ``float32 [n, k]``, padded
    with ``+inf``. ``counts``: ``uint32 [n]``, matches per row. Without numpy, nested lists of
    the same shape. Unpacks as ``keys, distances, counts = index.search_batch(q, 10)``.
    """

    keys: Any
    distances: Any
    counts: Any

    def matches(self, row: int) -> List[Match]:
        """Row ``row`` as :class:`Match` objects (padding dropped), as :meth:`Index.search`
        returns them."""
        n = int(self.counts[row])
        return [Match(int(k), float(d)) for k, d in zip(self.keys[row][:n], self.distances[row][:n])]


def _batch_arrays(raw) -> BatchMatches:
    """Wraps the flat little-endian buffers of ``search_batch_arrays`` (bindings/index.rs,
    ``BatchResultBytes``) without an object per match: one copy into writable arrays."""
    n, k = raw.n, raw.k
    if _np is not None:
        keys = _np.frombuffer(raw.keys, dtype="<u8").reshape(n, k).astype(_np.uint64)
        dists = _np.frombuffer(raw.distances, dtype="<f4").reshape(n, k).astype(_np.float32)
        counts = _np.frombuffer(raw.counts, dtype="<u4").astype(_np.uint32)
        return BatchMatches(keys, dists, counts)
    import struct

    flat_k = struct.unpack(f"<{n * k}Q", raw.keys)
    flat_d = struct.unpack(f"<{n * k}f", raw.distances)
    return BatchMatches(
        [list(flat_k[i * k : (i + 1) * k]) for i in range(n)],
        [list(flat_d[i * k : (i + 1) * k]) for i in range(n)],
        list(struct.unpack(f"<{n}I", raw.counts)),
    )


# The search fast path (ffi/src/bindings/fast.rs): one C call through ctypes instead of a
# UniFFI method call (handle clone, call, buffer free, records lifted field by field), which
# costs 40-50 us per k=10 search here against a budget of 10 us. Failures are repeated
# through UniFFI for the typed exception.
_ndarray = _np.ndarray if _np is not None else type(None)
_LIB = _ffi._UniffiLib
_FAST = getattr(_LIB, "ferrovec_fast_index_search", None)
_FAST_ALLOWED = getattr(_LIB, "ferrovec_fast_index_search_allowed", None)
if _FAST is not None and _FAST_ALLOWED is not None:
    _FAST.argtypes = (ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p)
    _FAST.restype = ctypes.c_int32
    _FAST_ALLOWED.argtypes = (
        ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32,
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p,
    )
    _FAST_ALLOWED.restype = ctypes.c_int32
else:  # an older library: everything goes through UniFFI
    _FAST = None
_FAST_MAX_K = 4096
_scratch = threading.local()
_tuple_new = tuple.__new__


def _outputs(k):
    """Per-thread result block with room for ``k`` matches (layout: fast.rs): (count, u64
    view, f32 view, address)."""
    out = getattr(_scratch, "out", None)
    if out is None or out[4] < k:
        cap = max(k, 64)
        block = (ctypes.c_uint64 * (1 + 2 * cap))()  # 8-byte aligned
        words = (ctypes.c_uint64 * (1 + 2 * cap)).from_buffer(block)
        floats = (ctypes.c_float * (2 + 4 * cap)).from_buffer(block)
        count = ctypes.c_uint32.from_buffer(block, 0)
        out = (count, words, floats, ctypes.addressof(block), cap, block)
        _scratch.out = out
    return out


def _address(arg):
    """(address or bytes, byte length, keep-alive) of an argument made by f32_arg / u64_arg."""
    if isinstance(arg, Pinned):
        return arg.address, arg.nbytes, arg
    return arg, len(arg), arg


class Index:
    """A vector index: vectors of ``dims`` floats under integer keys in ``[0, 2**64)``.

    >>> import numpy as np
    >>> with Index(3, "l2sq") as index:
    ...     index.add_batch([10, 11], np.array([[0, 0, 1], [1, 0, 0]], dtype=np.float32))
    ...     index.search([1, 0, 0.1], k=1)
    [Match(key=11, distance=0.010000...)]

    Text: give an :class:`ferrovec.Encoder` (``Index(encoder=enc)``, ``dims`` then defaults
    to ``enc.dims``, or :meth:`for_encoder`) and add and search by text with
    :meth:`add_text`, :meth:`add_texts`, :meth:`search_text` and :meth:`search_texts`. The
    index records the encoder's :attr:`model_id` and files keep it; loading (``load(path,
    encoder=enc)``) or attaching (:meth:`with_encoder`) another model's encoder raises
    ``FerrovecError.InvalidArgument`` naming both ids.

    >>> enc = ferrovec.Encoder.load("models/all-minilm-l6-v2")    # doctest: +SKIP
    >>> index = Index.for_encoder(enc)                            # doctest: +SKIP
    >>> index.add_texts([1, 2], ["The weather is lovely.", "He drove to the stadium."])  # doctest: +SKIP
    >>> index.search_text("sunny", k=1)                           # doctest: +SKIP
    [Match(key=1, distance=0.33...)]

    ``metric``: ``"cosine"`` (default), ``"l2sq"``, ``"ip"`` (``1 - a.b``), ``"hamming"``,
    ``"jaccard"`` (the last two with ``storage="b1"``). ``storage``: ``"f32"``, ``"f16"``
    (IEEE half), ``"bf16"`` (bfloat16), ``"i8"`` (int8, a scale per vector), ``"b1"`` (sign
    bits). f16 and bf16 keep 2 bytes per value, rounded to nearest even, and :meth:`get`
    returns the rounded values; with ``"l2sq"`` / ``"ip"`` a value that would round to
    infinity (f16: ``abs(x) >= 65520``; bf16: past about 3.39e38) raises
    ``FerrovecError.InvalidArgument`` and nothing is added. Their files are format version 3,
    which older ferrovec versions refuse (``UnsupportedVersion``). ``hnsw``: ``None`` for
    exact search,
    ``True`` for HNSW with default parameters, or a dict / :class:`HnswConfig` with ``m``,
    ``ef_construction``, ``ef_search``, ``seed``. ``engine``: the backend (default: native).

    Vectors may be numpy arrays (float32, C-contiguous: passed without a copy), ``bytes``
    (little-endian float32), ``array('f')`` or sequences of numbers; keys may be a uint64
    numpy array (no copy) or a sequence of ints. Errors raise :class:`ferrovec.FerrovecError`
    subclasses and leave the index unchanged. Thread-safe (searches run in parallel on the
    native backend while the GIL is released in the call).
    """

    __slots__ = ("_raw", "_fast_id", "__weakref__")

    def __init__(
        self,
        dims: Optional[int] = None,
        metric: Any = "cosine",
        storage: Any = "f32",
        *,
        hnsw: Any = None,
        engine: Optional[Engine] = None,
        encoder: Any = None,
    ):
        if dims is None:
            if encoder is None:
                raise TypeError("Index() needs dims (or an encoder, whose dims it takes)")
            dims = encoder.dims
        config = IndexConfig(
            dims=dims, metric=_metric(metric), storage=_storage(storage), hnsw=_hnsw(hnsw)
        )
        engine = engine or default_engine()
        if encoder is None:
            self._raw = _ffi.Index(engine.raw, config)
        else:
            self._raw = _ffi.Index.new_text(engine.raw, encoder.raw, config)
        self._fast_id = self._raw.fast_path_id() if _FAST is not None else 0

    @classmethod
    def for_encoder(
        cls,
        encoder: Any,
        metric: Any = "cosine",
        storage: Any = "f32",
        *,
        hnsw: Any = None,
        engine: Optional[Engine] = None,
    ) -> "Index":
        """An empty index for ``encoder``'s vectors (``encoder.dims`` dims) with the encoder
        attached and its model id recorded: the same as ``Index(encoder=encoder, ...)``. The
        vectors have unit length, so ``"cosine"`` (or ``"ip"``, the same ranking) fits."""
        return cls(None, metric, storage, hnsw=hnsw, engine=engine, encoder=encoder)

    @classmethod
    def _wrap(cls, raw: "_ffi.Index") -> "Index":
        self = cls.__new__(cls)
        self._raw = raw
        self._fast_id = raw.fast_path_id() if _FAST is not None else 0
        return self

    @classmethod
    def from_bytes(
        cls, data: Any, engine: Optional[Engine] = None, *, encoder: Any = None
    ) -> "Index":
        """An index from :meth:`to_bytes` output (from any backend or language). With
        ``encoder``, attached as by :meth:`with_encoder`: the bytes' model id, if they record
        one, must be the encoder's (``FerrovecError.InvalidArgument`` otherwise)."""
        data = data if isinstance(data, bytes) else bytes(data)
        engine = (engine or default_engine()).raw
        if encoder is None:
            return cls._wrap(_ffi.Index.from_bytes(engine, data))
        return cls._wrap(_ffi.Index.from_bytes_with_encoder(engine, data, encoder.raw))

    @classmethod
    def load(
        cls, path: Union[str, os.PathLike], engine: Optional[Engine] = None, *, encoder: Any = None
    ) -> "Index":
        """An index from a file written by :meth:`save`; ``encoder`` as in
        :meth:`from_bytes`."""
        engine = (engine or default_engine()).raw
        if encoder is None:
            return cls._wrap(_ffi.Index.load(engine, os.fspath(path)))
        return cls._wrap(_ffi.Index.load_with_encoder(engine, os.fspath(path), encoder.raw))

    @property
    def raw(self) -> "_ffi.Index":
        """The generated object (raises ``FerrovecError.InvalidHandle`` once closed)."""
        if self._raw is None:
            raise _closed()
        return self._raw

    def close(self) -> None:
        """Frees the index (idempotent); later calls raise ``FerrovecError.InvalidHandle``."""
        raw, self._raw = self._raw, None
        self._fast_id = 0
        if raw is not None:
            raw.release()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._raw is None:
            return "Index(closed)"
        c = self.config
        kind = "exact" if c.hnsw is None else f"hnsw(m={c.hnsw.m})"
        return (
            f"Index(dims={c.dims}, metric={c.metric.name.lower()}, "
            f"storage={c.storage.name.lower()}, {kind}, len={len(self)}, "
            f"backend={self.backend.name.lower()})"
        )

    # Properties.

    @property
    def config(self) -> "IndexConfig":
        """The options the index was created or loaded with."""
        return self.raw.config()

    @property
    def dims(self) -> int:
        return self.raw.dims()

    @property
    def backend(self) -> "_ffi.BackendKind":
        return self.raw.backend_kind()

    @property
    def capacity(self) -> int:
        return self.raw.capacity()

    def __len__(self) -> int:
        return self.raw.len()

    def __contains__(self, key: int) -> bool:
        return self.raw.contains(key)

    # Writers.

    def reserve(self, additional: int) -> None:
        """Make room for ``additional`` more vectors."""
        self.raw.reserve(additional)

    def add(self, key: int, vector: Any, *, replace: bool = False) -> None:
        """Add ``vector`` under ``key``; an existing key raises
        ``FerrovecError.DuplicateKey`` unless ``replace=True``."""
        self.raw.add(key, f32_arg(vector, "vector"), replace)

    def add_batch(self, keys: Any, vectors: Any, *, replace: bool = False) -> None:
        """Add ``len(keys)`` vectors (``vectors``: an ``(n, dims)`` array or n*dims floats),
        all or nothing."""
        self.raw.add_batch(u64_arg(keys, "keys"), f32_arg(vectors, "vectors"), replace)

    def remove(self, key: int) -> None:
        """Remove ``key`` (``FerrovecError.KeyNotFound`` if absent); see :meth:`compact`."""
        self.raw.remove(key)

    def compact(self) -> None:
        """Reclaim removed vectors' space and repair the HNSW graph."""
        self.raw.compact()

    def clear(self) -> None:
        """Remove every vector."""
        self.raw.clear()

    def set_ef_search(self, ef: int) -> None:
        """HNSW search beam width (``FerrovecError.InvalidArgument`` on an exact index)."""
        self.raw.set_ef_search(ef)

    # Readers.

    def get(self, key: int):
        """The stored vector (dequantized) as float32 numpy array (a list without numpy)."""
        return f32_result(self.raw.get(key))

    def search(self, query: Any, k: int = 10, *, allowed: Optional[Iterable[int]] = None) -> List[Match]:
        """The ``k`` nearest vectors as :class:`Match` ``(key, distance)``, ascending
        (ties by key). ``allowed``: only these keys (a uint64 array or ints)."""
        if self._fast_id and 0 < k <= _FAST_MAX_K:
            # numpy float32 rows: one 4*dims-byte copy (cheaper than asking numpy for the
            # address); bytes go as they are.
            if isinstance(query, _ndarray):
                qb = query.astype("<f4", copy=False).tobytes()
                qn = len(qb)
            else:
                qb, qn, _keep_q = _address(f32_arg(query, "query"))
            if qn % 4 == 0:
                count, words, floats, out, _, _ = _outputs(k)
                if allowed is None:
                    status = _FAST(self._fast_id, qb, qn >> 2, k, out)
                else:
                    aa, an, _keep_a = _address(u64_arg(allowed, "allowed"))
                    status = (
                        _FAST_ALLOWED(self._fast_id, qb, qn >> 2, k, aa, an >> 3, out)
                        if an % 8 == 0
                        else -1
                    )
                if status == 0:
                    n = count.value
                    # Record i: key = words[1 + 2i], distance = floats[4 + 4i].
                    keys = words[1 : 1 + 2 * n : 2]
                    dists = floats[4 : 4 + 4 * n : 4]
                    return list(map(_tuple_new, repeat(Match, n), zip(keys, dists)))
            # Otherwise the UniFFI call below raises the typed error (or succeeds after a
            # concurrent change: a search changes nothing, so repeating it is harmless).
        q = f32_arg(query, "query")
        allow = None if allowed is None else u64_arg(allowed, "allowed")
        if allow is None:
            return _matches(self.raw.search(q, k))
        return _matches(
            self.raw.search_allowed(q, k, allow)
        )

    def search_batch(self, queries: Any, k: int = 10) -> BatchMatches:
        """The ``k`` nearest vectors to each row of ``queries`` (an ``(n, dims)`` array, or
        n*dims floats) as numpy arrays, the way faiss and usearch return them:
        :class:`BatchMatches` ``(keys, distances, counts)`` with ``keys`` ``uint64 [n, k]``,
        ``distances`` ``float32 [n, k]`` and ``counts`` ``uint32 [n]``.

        Keys are unsigned (ferrovec keys are any u64), so a row with fewer than ``k`` matches
        is padded with :data:`NO_KEY` (``2**64 - 1``, i.e. ``-1`` as int64, faiss's padding)
        and ``+inf`` distances; ``counts`` says how many entries of each row are real. The
        results are the same as ``k`` calls of :meth:`search`; no Python object is made per
        match (Rust returns flat buffers, wrapped with ``np.frombuffer``).
        :meth:`search_batch_matches` gives the lists of :class:`Match` instead.
        """
        return _batch_arrays(self.raw.search_batch_arrays(f32_arg(queries, "queries"), k))

    def search_batch_matches(self, queries: Any, k: int = 10) -> List[List[Match]]:
        """One :meth:`search` per row of ``queries``: a list of :class:`Match` lists (what
        ``search_batch`` returned before it returned arrays; no padding)."""
        return [_matches(r) for r in self.raw.search_batch(f32_arg(queries, "queries"), k)]

    # Text.

    def with_encoder(self, encoder: Any) -> "Index":
        """A new :class:`Index` object on the same index (the vectors are shared) that
        carries ``encoder`` for the text methods; this object is unchanged. Raises
        ``FerrovecError.DimensionMismatch`` when the dims differ and
        ``FerrovecError.InvalidArgument`` (naming both ids) when the index holds vectors of
        another model."""
        return Index._wrap(self.raw.with_encoder(encoder.raw))

    @property
    def has_encoder(self) -> bool:
        """Whether this object carries an encoder (the text methods need one)."""
        return self.raw.has_encoder()

    @property
    def model_id(self) -> Optional[int]:
        """The model id of the encoder that made the vectors (recorded by the first text
        added, or when made with an encoder; kept by :meth:`save`), or ``None`` for an index
        of plain vectors."""
        return self.raw.model_id()

    def add_text(self, key: int, text: str, *, replace: bool = False) -> None:
        """Embed ``text`` with the encoder and add it under ``key`` (an existing key raises
        ``FerrovecError.DuplicateKey`` unless ``replace=True``)."""
        self.raw.add_text(key, text, replace)

    def add_texts(self, keys: Iterable[int], texts: Iterable[str], *, replace: bool = False) -> None:
        """Embed ``texts`` in one batch and add ``texts[i]`` under ``keys[i]``, all or
        nothing."""
        self.raw.add_texts([int(k) for k in keys], list(texts), replace)

    def search_text(self, text: str, k: int = 10) -> List[Match]:
        """The ``k`` nearest vectors to the embedding of ``text`` (see :meth:`search`)."""
        return _matches(self.raw.search_text(text, k))

    def search_texts(self, texts: Iterable[str], k: int = 10) -> List[List[Match]]:
        """One :meth:`search_text` per text, the texts embedded in one batch."""
        return [_matches(r) for r in self.raw.search_texts(list(texts), k)]

    def to_bytes(self) -> bytes:
        """The index in ferrovec's portable file format."""
        return self.raw.to_bytes()

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write :meth:`to_bytes` to ``path`` atomically."""
        self.raw.save(os.fspath(path))
