"""`Encoder`: text to unit-length sentence vectors (a BERT sentence-transformers model such as
all-MiniLM-L6-v2), on a Native engine."""

from __future__ import annotations

import os
import struct
from typing import Any, List, Optional, Sequence, Union

from ._buffers import _np
from ._engine import Engine, _closed
from ._index import default_engine
from ._uniffi import ferrovec as _ffi

_PathLike = Union[str, "os.PathLike[str]"]

Precision = _ffi.Precision
_PRECISIONS = {"f32": Precision.F32, "int8": Precision.INT8}


def _precision(p: Any) -> "Precision":
    if isinstance(p, Precision):
        return p
    try:
        return _PRECISIONS[str(p).lower()]
    except KeyError:
        raise ValueError(f"unknown precision {p!r}; expected one of {sorted(_PRECISIONS)}") from None


def _read(path: Optional[_PathLike]) -> bytes:
    if path is None:
        return b""
    with open(path, "rb") as f:
        return f.read()


def _rows(data: bytes, n: int, dims: int):
    """``n * dims`` little-endian f32 as a writable ``(n, dims)`` float32 numpy array (one
    copy), or a list of lists without numpy."""
    if _np is not None:
        return _np.frombuffer(data, dtype="<f4").reshape(n, dims).astype(_np.float32)
    flat = struct.unpack(f"<{n * dims}f", data)
    return [list(flat[i * dims : (i + 1) * dims]) for i in range(n)]


class Encoder:
    """A sentence encoder: text in, unit-length float32 vectors out (cosine similarity is a
    dot product).

    Load a model directory (``model.safetensors``, ``config.json``, ``tokenizer.json`` or
    ``vocab.txt``, optionally ``1_Pooling/config.json`` and ``sentence_bert_config.json``:
    the sentence-transformers layout) with :meth:`load`, or the files' bytes with
    :meth:`from_bytes`. Thread-safe; a context manager (or :meth:`close`) frees the model at
    a known point.

    ``precision="int8"`` quantizes the linear layers to int8 while loading: a quarter of
    their f32 size (10.7 MB instead of 42.5 MB for all-MiniLM-L6-v2), vectors within a
    cosine of about 0.998 of the f32 ones, the same :attr:`model_id`, faster where the CPU
    has integer dot products. The word embedding table is quantized too and, on the native
    backend, the loaded file let go: about a quarter of the f32 encoder's memory (23.5 MB
    instead of 90.9 MB).

    >>> enc = Encoder.load("models/all-minilm-l6-v2")             # doctest: +SKIP
    >>> v = enc.embed(["The weather is lovely today.", "It's so sunny outside!"])
    >>> v.shape, float(v[0] @ v[1])                               # doctest: +SKIP
    ((2, 384), 0.666...)
    """

    __slots__ = ("_raw", "_dims")

    def __init__(self, raw: "_ffi.Encoder"):
        # Private: use Encoder.load() / Encoder.from_bytes().
        self._raw = raw
        self._dims = raw.dims()

    @classmethod
    def load(
        cls,
        path: _PathLike,
        engine: Optional[Engine] = None,
        *,
        precision: Union[str, "Precision"] = "f32",
    ) -> "Encoder":
        """The model in directory ``path`` on ``engine`` (default: the process-wide native
        engine), its weights at ``precision`` (``"f32"`` or ``"int8"``, or a
        :class:`Precision`). The weights are read once and never copied again.

        Raises ``ValueError`` for an unknown precision, ``FerrovecError.InvalidArgument``
        for a missing file (naming it) and ``FerrovecError.CorruptFile`` for an invalid
        one."""
        p = _precision(precision)
        engine = engine if engine is not None else default_engine()
        return cls(_ffi.Encoder.load_with_precision(engine.raw, os.fspath(path), p))

    @classmethod
    def from_bytes(
        cls,
        safetensors: Union[bytes, bytearray, memoryview],
        config_json: Union[bytes, str],
        tokenizer_json: Union[bytes, str, None] = None,
        *,
        vocab_txt: Union[bytes, str, None] = None,
        pooling_json: Union[bytes, str, None] = None,
        sentence_bert_config_json: Union[bytes, str, None] = None,
        engine: Optional[Engine] = None,
        precision: Union[str, "Precision"] = "f32",
    ) -> "Encoder":
        """An encoder from the model's files in memory. ``safetensors`` is copied once into
        memory the encoder shares; give ``tokenizer_json`` or ``vocab_txt``; no
        ``pooling_json`` means mean pooling, no ``sentence_bert_config_json`` the model's own
        maximum length. ``precision`` as for :meth:`load`."""

        def b(x: Union[bytes, str, None]) -> bytes:
            if x is None:
                return b""
            return x.encode() if isinstance(x, str) else bytes(x)

        p = _precision(precision)
        engine = engine if engine is not None else default_engine()
        return cls(
            _ffi.Encoder.from_bytes_with_precision(
                engine.raw,
                bytes(safetensors),
                b(config_json),
                b(tokenizer_json),
                b(vocab_txt),
                b(pooling_json),
                b(sentence_bert_config_json),
                p,
            )
        )

    @property
    def raw(self) -> "_ffi.Encoder":
        """The generated object (raises ``FerrovecError.InvalidHandle`` once closed)."""
        if self._raw is None:
            raise _closed()
        return self._raw

    @property
    def dims(self) -> int:
        """Length of the vectors (384 for all-MiniLM-L6-v2)."""
        self.raw
        return self._dims

    @property
    def max_tokens(self) -> int:
        """Texts are truncated to this many tokens, ``[CLS]`` and ``[SEP]`` included."""
        return self.raw.max_tokens()

    @property
    def model_id(self) -> int:
        """A 64-bit fingerprint of the model (weights, shape, pooling, vocabulary,
        truncation): the same on every surface; an index records it."""
        return self.raw.model_id()

    @property
    def precision(self) -> "Precision":
        """How the weights are held: ``Precision.F32`` or ``Precision.INT8`` (as loaded)."""
        return self.raw.precision()

    @property
    def threads(self) -> int:
        """Threads one :meth:`embed` call may use (default 1). Set it to split large batches
        over several threads; 0 means the machine's available parallelism."""
        return self.raw.threads()

    @threads.setter
    def threads(self, n: int) -> None:
        if n < 0:
            raise ValueError("threads must be >= 0")
        self.raw.set_threads(n)

    @property
    def kind(self) -> "_ffi.BackendKind":
        """The backend the encoder runs on."""
        return self.raw.kind()

    def tokenize(self, text: str) -> List[int]:
        """The token ids the model sees for ``text`` (``[CLS]`` ... ``[SEP]``), truncated to
        :attr:`max_tokens`."""
        return self.raw.tokenize(text)

    def embed(self, texts: Union[str, Sequence[str]]):
        """The unit-length vectors of ``texts``: a float32 numpy array of shape
        ``(len(texts), dims)`` (a list of lists without numpy). One ``str`` gives one vector
        of shape ``(dims,)``. Rust returns one flat buffer, so no Python float is made per
        element."""
        if isinstance(texts, str):
            return self.embed([texts])[0]
        if isinstance(texts, (bytes, bytearray)):
            raise TypeError("embed takes str or a sequence of str, not bytes")
        texts = list(texts)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"embed takes str texts, not {type(t).__name__}")
        raw = self.raw.embed_arrays(texts)
        return _rows(raw.vectors, raw.n, raw.dims)

    def close(self) -> None:
        """Frees the model (idempotent); later calls raise ``FerrovecError.InvalidHandle``."""
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.release()

    @property
    def closed(self) -> bool:
        return self._raw is None

    def __enter__(self) -> "Encoder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._raw is None:
            return "Encoder(closed)"
        return (
            f"Encoder(dims={self._dims}, max_tokens={self.max_tokens}, "
            f"model_id={self.model_id:#018x}, precision={self.precision.name.lower()})"
        )
