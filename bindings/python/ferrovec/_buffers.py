"""Turning Python buffers into the byte arguments of the generated bindings, without copies
where the memory already has the right layout.

The generated module takes ``&[u8]`` arguments as zero-copy borrows, but only from ``bytes``
objects. This module teaches its converter one more argument type, :class:`Pinned`: the
address and length of memory kept alive by an owning object (a numpy array, an
``array.array``, a ``bytearray`` or a writable ``memoryview``), so those reach Rust without
being copied into a ``bytes`` first. Rust only reads these buffers, during the call.
"""

from __future__ import annotations

import array
import ctypes
import struct
import sys
from typing import Any

from ._uniffi import ferrovec as _ffi

try:  # numpy is optional: without it, results are plain lists.
    import numpy as _np
except ImportError:  # pragma: no cover - exercised by the "no numpy" tests via monkeypatch
    _np = None

_LITTLE = sys.byteorder == "little"


class Pinned:
    """Memory at ``address`` of ``nbytes`` bytes that stays valid while ``owner`` lives (and
    is not resized: buffer exports held by ``owner`` prevent that for bytearrays)."""

    __slots__ = ("address", "nbytes", "owner")

    def __init__(self, address: int, nbytes: int, owner: Any):
        self.address = address
        self.nbytes = nbytes
        self.owner = owner

    def __len__(self) -> int:
        return self.nbytes


_Generated = _ffi._UniffiFfiConverterByRefBytes


class _PinnedAwareByRefBytes(_Generated):
    """The generated zero-copy converter, extended to :class:`Pinned` memory."""

    @staticmethod
    def check_lower(value):
        if isinstance(value, Pinned):
            return
        _Generated.check_lower(value)

    @staticmethod
    def lower(value):
        if not isinstance(value, Pinned):
            return _Generated.lower(value)
        fb = _ffi._UniffiForeignBytes()
        fb.len = value.nbytes
        fb.data = (
            None
            if value.nbytes == 0
            else ctypes.cast(ctypes.c_void_p(value.address), ctypes.POINTER(ctypes.c_char))
        )
        return fb


# Generated functions look the converter up as a module global at call time.
_ffi._UniffiFfiConverterByRefBytes = _PinnedAwareByRefBytes


def _pin_writable(obj: Any, nbytes: int) -> Pinned:
    # from_buffer holds a buffer export on `obj` (so a bytearray cannot be resized) for as
    # long as the ctypes array lives; the Pinned keeps both alive.
    holder = (ctypes.c_char * nbytes).from_buffer(obj)
    return Pinned(ctypes.addressof(holder), nbytes, (obj, holder))


def f32_arg(x: Any, name: str = "vector") -> bytes | Pinned:
    """A float32 vector (or a 2-D block of rows, row-major) as the little-endian bytes the
    bindings take.

    Zero-copy for ``bytes`` (taken as little-endian f32 already), C-contiguous float32 numpy
    arrays, ``array.array('f')`` and writable float32 buffers; other inputs (lists, float64
    arrays, strided views, big-endian data) are converted once.
    """
    if isinstance(x, bytes):
        return x
    if _np is not None and isinstance(x, _np.ndarray):
        arr = _np.ascontiguousarray(x, dtype="<f4")  # a no-op for the right layout
        return Pinned(arr.ctypes.data, arr.nbytes, arr)
    if isinstance(x, array.array):
        return array_to_arg(x if x.typecode == "f" else array.array("f", x))
    if isinstance(x, (bytearray, memoryview)):
        view = memoryview(x)
        if view.format in ("B", "b", "c") and view.ndim == 1:
            raw = view  # raw bytes: little-endian f32 by contract
        elif view.format == "f" and view.c_contiguous and _LITTLE:
            raw = view.cast("B")
        elif view.ndim == 1:
            return array_to_arg(array.array("f", view.tolist()))
        else:
            raise TypeError(f"`{name}`: pass multi-dimensional buffers as numpy arrays")
        if not raw.readonly and raw.c_contiguous:
            return _pin_writable(raw, raw.nbytes)
        return raw.tobytes()
    try:
        values = [float(v) for v in x]
    except TypeError:
        raise TypeError(
            f"`{name}` must be a float32 buffer (bytes, numpy array, array('f'), memoryview) "
            f"or a sequence of numbers, not {type(x).__name__}"
        ) from None
    return array_to_arg(array.array("f", values))


def array_to_arg(arr: array.array) -> Pinned | bytes:
    if not _LITTLE:
        return struct.pack(f"<{len(arr)}{arr.typecode}", *arr)
    address, count = arr.buffer_info()
    return Pinned(address, count * arr.itemsize, arr)


def bytes_arg(x: Any, name: str = "data") -> bytes | Pinned:
    """Raw bytes (i8 or packed-bit vectors): zero-copy for ``bytes``, numpy int8/uint8
    arrays and writable buffers."""
    if isinstance(x, bytes):
        return x
    if _np is not None and isinstance(x, _np.ndarray):
        if x.dtype.itemsize != 1:
            raise TypeError(f"`{name}` must have 1-byte elements, got dtype {x.dtype}")
        arr = _np.ascontiguousarray(x)
        return Pinned(arr.ctypes.data, arr.nbytes, arr)
    if isinstance(x, (bytearray, memoryview, array.array)):
        view = memoryview(x).cast("B") if memoryview(x).c_contiguous else None
        if view is not None and not view.readonly:
            return _pin_writable(view, view.nbytes)
        return bytes(x)
    try:
        return bytes(x)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be bytes-like, not {type(x).__name__}") from None


def i8_arg(x: Any, name: str = "vector") -> bytes | Pinned:
    """An int8 vector: a bytes-like object (two's complement) or a sequence of ints in
    [-128, 127]."""
    if isinstance(x, (list, tuple)):
        try:
            return array.array("b", x).tobytes()
        except OverflowError:
            raise ValueError(f"`{name}` values must be in [-128, 127]") from None
    return bytes_arg(x, name)


def f32_result(data: bytes):
    """Little-endian f32 bytes from Rust as a numpy float32 array (a view of ``data``, no
    copy) if numpy is installed, else a list of floats."""
    if _np is not None:
        return _np.frombuffer(data, dtype="<f4")
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def u64_arg(x: Any, name: str = "keys") -> bytes | Pinned:
    """A list of u64 keys as little-endian bytes: zero-copy for C-contiguous uint64 numpy
    arrays and ``array.array('Q')``; sequences of ints are converted once."""
    if isinstance(x, bytes):
        return x
    if _np is not None and isinstance(x, _np.ndarray):
        if x.dtype.kind not in "ui":
            raise TypeError(f"`{name}` must hold integers, got dtype {x.dtype}")
        if x.dtype.kind == "i" and x.size and int(x.min()) < 0:
            raise ValueError(f"`{name}` must be non-negative (u64 keys)")
        arr = _np.ascontiguousarray(x, dtype="<u8")  # a no-op for the right layout
        return Pinned(arr.ctypes.data, arr.nbytes, arr)
    if isinstance(x, array.array) and x.typecode in ("Q", "L") and x.itemsize == 8 and _LITTLE:
        address, count = x.buffer_info()
        return Pinned(address, count * 8, x)
    try:
        keys = array.array("Q", x if isinstance(x, (list, tuple, range)) else list(x))
    except (TypeError, OverflowError) as err:
        raise TypeError(f"`{name}` must be a sequence of ints in [0, 2**64): {err}") from None
    if not _LITTLE:
        return struct.pack(f"<{len(keys)}Q", *keys)
    address, count = keys.buffer_info()
    return Pinned(address, count * 8, keys)


# The solver's arrays: f64 values and u32 indices / node ids. Errors are FerrovecError's
# InvalidArgument (imported lazily: the error module is generated next to this one).


def _invalid(message: str) -> Exception:
    from ._uniffi import ferrovec_core as _core

    return _core.FerrovecError.InvalidArgument(f"invalid argument: {message}")


# array.array's 4-byte unsigned type: "I" on every platform CPython runs on (checked).
_U32 = "I" if array.array("I").itemsize == 4 else "L"


def f64_arg(x: Any, name: str = "values") -> bytes | Pinned:
    """A float64 vector as the little-endian bytes the bindings take.

    Zero-copy for C-contiguous float64 numpy arrays (native little-endian) and
    ``array.array('d')``; other numbers (float32 or integer arrays, lists, strided views)
    are converted once. ``bytes`` are taken as little-endian float64 already.
    """
    if isinstance(x, bytes):
        return x
    if _np is not None and isinstance(x, _np.ndarray):
        if x.dtype.kind not in "fiub":
            raise _invalid(f"`{name}` must hold real numbers, got dtype {x.dtype}")
        arr = _np.ascontiguousarray(x, dtype="<f8").reshape(-1)  # no-op for the right layout
        return Pinned(arr.ctypes.data, arr.nbytes, arr)
    if isinstance(x, array.array) and x.typecode == "d":
        return array_to_arg(x)
    if isinstance(x, (str, dict)):
        raise _invalid(f"`{name}` must be a sequence of numbers, not {type(x).__name__}")
    try:
        values = array.array("d", [float(v) for v in x])
    except (TypeError, ValueError):
        raise _invalid(
            f"`{name}` must be a float64 numpy array, array('d') or a sequence of numbers, "
            f"not {type(x).__name__}"
        ) from None
    return array_to_arg(values)


def u32_arg(x: Any, name: str = "indices") -> bytes | Pinned:
    """Indices or node ids in ``[0, 2**32)`` as little-endian u32 bytes.

    Zero-copy for C-contiguous int32/uint32 numpy arrays (scipy's index dtype; int32 is
    checked for negative entries, without a copy); int64 arrays and sequences of ints are
    range-checked and converted once.
    """
    if isinstance(x, bytes):
        return x
    if _np is not None and isinstance(x, _np.ndarray):
        if x.dtype.kind not in "iu":
            raise _invalid(f"`{name}` must hold integers, got dtype {x.dtype}")
        x = x.reshape(-1)
        if x.size:
            lo, hi = int(x.min()), int(x.max())
            if lo < 0:
                pos = int(_np.argmax(x < 0))
                raise _invalid(f"`{name}` has a negative entry: {lo} (first at position {pos})")
            if hi > 0xFFFFFFFF:
                raise _invalid(f"`{name}` has an entry {hi} >= 2**32")
        if x.dtype.itemsize == 4 and x.dtype.byteorder in ("=", "<", "|") and _LITTLE:
            arr = _np.ascontiguousarray(x).view("<u4")  # int32 -> uint32: same bytes
        else:
            arr = _np.ascontiguousarray(x, dtype="<u4")
        return Pinned(arr.ctypes.data, arr.nbytes, arr)
    if isinstance(x, array.array) and x.typecode == _U32:
        return array_to_arg(x)
    try:
        values = [int(v) for v in x]
    except (TypeError, ValueError):
        raise _invalid(
            f"`{name}` must be an int32/uint32 numpy array or a sequence of ints, "
            f"not {type(x).__name__}"
        ) from None
    for i, v in enumerate(values):
        if not 0 <= v <= 0xFFFFFFFF:
            raise _invalid(f"`{name}` entry {v} at position {i} is not in [0, 2**32)")
    return array_to_arg(array.array(_U32, values))


def f64_result(data: bytes):
    """Little-endian f64 bytes from Rust as a numpy float64 array (a read-only view of
    ``data``, no copy) if numpy is installed, else a list of floats."""
    if _np is not None:
        return _np.frombuffer(data, dtype="<f8")
    return list(struct.unpack(f"<{len(data) // 8}d", data))


def u32_result(data: bytes):
    """Little-endian u32 bytes from Rust as a numpy uint32 array (a read-only view), else a
    list of ints."""
    if _np is not None:
        return _np.frombuffer(data, dtype="<u4")
    return list(struct.unpack(f"<{len(data) // 4}I", data))
