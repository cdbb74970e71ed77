"""`Engine`: the kernels on a backend chosen at run time (Native, or Interpreted: ferrovec's
wasm module inside the wasmi interpreter, with fuel and a memory cap)."""

from __future__ import annotations

from typing import Any, List, Optional, Union

from ._buffers import bytes_arg, f32_arg, f32_result, i8_arg
from ._uniffi import ferrovec as _ffi
from ._uniffi import ferrovec_core as _core

BackendKind = _ffi.BackendKind


def _closed() -> Exception:
    return _core.FerrovecError.InvalidHandle("invalid handle: stale, freed, or never issued")


def _not_bundled(simd: bool) -> Exception:
    """What a wheel built without the wasm modules (`pip install ./bindings/python` without
    ``--features bundled-wasm``) says when asked for its default module."""
    name = "ferrovec-simd.wasm" if simd else "ferrovec.wasm"
    return _core.FerrovecError.InvalidArgument(
        f"invalid argument: this ferrovec package has no bundled {name} (its libferrovec was "
        "built without the `bundled-wasm` feature). Pass the module: "
        f"Engine.interpreted(module=<path or bytes of {name}>; `make wasm` writes it to "
        "target/wasm/), or reinstall with the modules bundled: `make wasm`, then "
        "`pip install ./bindings/python "
        "--config-settings=maturin.build-args=\"--features bundled-wasm\"` "
        "(bindings/python/README.md)"
    )


class Engine:
    """Every kernel on one backend. Make one with :meth:`native` or :meth:`interpreted`.

    Thread-safe. Use it as a context manager (or call :meth:`close`) to free it at a known
    point; indexes made from it keep working after it is closed.

    >>> with Engine.interpreted(fuel=10_000_000) as engine:
    ...     engine.dot([1, 2], [3, 4])
    11.0
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: "_ffi.Engine"):
        # Private: use Engine.native() / Engine.interpreted().
        self._raw = raw

    @classmethod
    def native(cls, isa: Optional["_ffi.Isa"] = None) -> "Engine":
        """The compiled kernels, on the process-wide active instruction set or pinned to
        ``isa`` (``FerrovecError.UnsupportedIsa`` if this machine cannot run it)."""
        if isa is None:
            return cls(_ffi.Engine.native())
        return cls(_ffi.Engine.native_with_isa(isa))

    @classmethod
    def interpreted(
        cls,
        module: Optional[Union[bytes, bytearray, memoryview, str]] = None,
        *,
        simd: bool = True,
        fuel: Optional[int] = None,
        memory_limit: Optional[int] = None,
        sha256: Optional[str] = None,
    ) -> "Engine":
        """ferrovec's wasm module inside wasmi.

        ``module``: the bytes (or a path) of a ``.wasm`` module to run; default the bundled
        simd128 module (``simd=False``: the scalar one). A package built without the modules
        (README.md, "Install") raises ``FerrovecError.InvalidArgument`` saying how to get them
        when ``module`` is not given. ``fuel``: instruction budget per
        call (``FerrovecError.OutOfFuel`` when spent; the engine keeps working).
        ``memory_limit``: cap on the module's memory in bytes. ``sha256``: refuse a module
        with another digest (64 hex digits)."""
        if isinstance(module, str):
            with open(module, "rb") as f:
                module = f.read()
        config = _ffi.InterpretedConfig(
            module=None if module is None else bytes(module),
            simd=simd,
            fuel=fuel,
            memory_limit=memory_limit,
            sha256=sha256,
        )
        try:
            raw = _ffi.Engine.interpreted(config)
        except _core.FerrovecError.InvalidArgument as err:
            if module is None and "bundled-wasm" in str(err):
                raise _not_bundled(simd) from None
            raise
        return cls(raw)

    @property
    def raw(self) -> "_ffi.Engine":
        """The generated object (raises ``FerrovecError.InvalidHandle`` once closed)."""
        if self._raw is None:
            raise _closed()
        return self._raw

    @property
    def kind(self) -> BackendKind:
        """``BackendKind.NATIVE`` or ``BackendKind.INTERPRETED``."""
        return self.raw.kind()

    def describe(self) -> str:
        """A description of the backend, e.g. ``"native (avx512+vnni+vpopcntdq)"``."""
        return self.raw.describe()

    def close(self) -> None:
        """Frees the engine (idempotent); later calls raise ``FerrovecError.InvalidHandle``."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.release()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._raw is None:
            return "Engine(closed)"
        return f"Engine({self.describe()!r})"

    # Kernels: the same arguments, results and errors as the module-level functions.

    def dot(self, a: Any, b: Any) -> float:
        """Inner product of two float32 vectors."""
        return self.raw.dot_f32(f32_arg(a, "a"), f32_arg(b, "b"))

    def cosine_distance(self, a: Any, b: Any) -> float:
        """``1 - cos(a, b)`` in ``[0, 2]``."""
        return self.raw.cosine_distance_f32(f32_arg(a, "a"), f32_arg(b, "b"))

    def l2sq(self, a: Any, b: Any) -> float:
        """Squared Euclidean distance."""
        return self.raw.l2sq_f32(f32_arg(a, "a"), f32_arg(b, "b"))

    def l2_normalize(self, x: Any):
        """``(unit_vector, norm)``."""
        out = self.raw.l2_normalize_f32(f32_arg(x, "x"))
        return f32_result(out.vector), out.norm

    def scan(self, query: Any, rows: Any, metric: "_ffi.Metric" = _ffi.Metric.COSINE):
        """Distances from ``query`` to each row of ``rows`` (an ``(n, d)`` array or n*d
        floats)."""
        return f32_result(
            self.raw.scan_f32(metric, f32_arg(query, "query"), f32_arg(rows, "rows"))
        )

    def top_k(self, scores: Any, k: int) -> List[Any]:
        """The ``k`` smallest scores as ``Hit(index, score)``, ascending."""
        from . import Hit  # the NamedTuple of the package

        if k < 0:
            raise ValueError("k must be >= 0")
        hits = self.raw.top_k(f32_arg(scores, "scores"), min(k, 2**32 - 1))
        return [Hit(h.index, h.score) for h in hits]

    def dot_i8(self, a: Any, b: Any) -> int:
        """Inner product of two int8 vectors."""
        return self.raw.dot_i8(i8_arg(a, "a"), i8_arg(b, "b"))

    def l2sq_i8(self, a: Any, b: Any) -> int:
        """Squared Euclidean distance of two int8 vectors."""
        return self.raw.l2sq_i8(i8_arg(a, "a"), i8_arg(b, "b"))

    def hamming(self, a: Any, b: Any) -> int:
        """Differing bits of two packed bit vectors."""
        return self.raw.hamming_b1(bytes_arg(a, "a"), bytes_arg(b, "b"))

    def jaccard(self, a: Any, b: Any) -> float:
        """Jaccard distance of two packed bit vectors."""
        return self.raw.jaccard_b1(bytes_arg(a, "a"), bytes_arg(b, "b"))

    # Indexes on this engine's backend.

    def index(self, dims: int, metric: Any = "cosine", storage: Any = "f32", *, hnsw: Any = None):
        """A new, empty :class:`~ferrovec.Index` on this backend (see its constructor)."""
        from ._index import Index

        return Index(dims, metric, storage, hnsw=hnsw, engine=self)
