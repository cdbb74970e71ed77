"""The kernel functions through the Python layer: results against a float64 reference,
every accepted input type, errors as typed exceptions, zero-copy argument passing."""

import array
import math
import random
import struct
import tracemalloc

import numpy as np
import pytest

import ferrovec
from ferrovec import FerrovecError, Metric


def rand_vec(rng, n):
    return [rng.uniform(-1, 1) for _ in range(n)]


def f32(values):
    """Round to float32, as the kernels see the inputs."""
    return list(array.array("f", values))


def ref_dot(a, b):
    return math.fsum(x * y for x, y in zip(f32(a), f32(b)))


def ref_l2sq(a, b):
    return math.fsum((x - y) ** 2 for x, y in zip(f32(a), f32(b)))


def ref_cosine(a, b):
    aa, bb = ref_dot(a, a), ref_dot(b, b)
    if aa == 0 and bb == 0:
        return 0.0
    if aa == 0 or bb == 0:
        return 1.0
    return 1 - ref_dot(a, b) / math.sqrt(aa * bb)


@pytest.mark.parametrize("n", [0, 1, 7, 16, 33, 384, 1000])
def test_pairwise_f32_match_reference(n):
    rng = random.Random(n)
    a, b = rand_vec(rng, n), rand_vec(rng, n)
    scale = math.fsum(abs(x * y) for x, y in zip(f32(a), f32(b))) + 1e-30
    assert abs(ferrovec.dot(a, b) - ref_dot(a, b)) <= 1e-5 * scale
    assert abs(ferrovec.l2sq(a, b) - ref_l2sq(a, b)) <= 1e-5 * (ref_l2sq(a, b) + 1e-30) + 1e-6
    assert abs(ferrovec.cosine_distance(a, b) - ref_cosine(a, b)) <= 2e-5


def test_every_input_type_gives_the_same_result():
    rng = random.Random(1)
    a, b = rand_vec(rng, 100), rand_vec(rng, 100)
    want = ferrovec.dot(a, b)
    a32 = np.array(a, dtype=np.float32)
    forms = [
        a,
        tuple(a),
        a32,
        a32.astype(np.float64),  # converted
        a32.astype(">f4"),  # big-endian: converted
        np.stack([a32, a32])[:, :][0],  # a row view
        np.repeat(a32, 2)[::2],  # strided: converted
        array.array("f", a),
        array.array("d", a),
        a32.tobytes(),
        bytearray(a32.tobytes()),
        memoryview(a32.tobytes()),  # read-only memoryview
        memoryview(bytearray(a32.tobytes())),
        memoryview(array.array("f", a)),
    ]
    for form in forms:
        assert ferrovec.dot(form, b) == want, type(form)


def test_scan_against_reference_and_shapes():
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((50, 24), dtype=np.float32)
    q = rng.standard_normal(24, dtype=np.float32)
    for metric, ref in [
        (Metric.DOT, lambda r: -ref_dot(q, r)),
        (Metric.L2SQ, lambda r: ref_l2sq(q, r)),
        (Metric.COSINE, lambda r: ref_cosine(q, r)),
    ]:
        got = ferrovec.scan(q, rows, metric)
        assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (50,)
        want = np.array([ref(r) for r in rows])
        assert np.allclose(got, want, rtol=1e-5, atol=1e-5), metric
    # flat rows and 2-D rows are the same thing
    assert np.array_equal(ferrovec.scan(q, rows.ravel()), ferrovec.scan(q, rows))
    with pytest.raises(FerrovecError.DimensionMismatch):
        ferrovec.scan(q, rows.ravel()[:-1])


def test_top_k_orders_and_breaks_ties():
    hits = ferrovec.top_k([3.0, 1.0, 2.0, 1.0, float("nan")], 4)
    assert [h.index for h in hits] == [1, 3, 2, 0]
    assert hits[0] == ferrovec.Hit(1, 1.0)
    index, score = hits[2]
    assert (index, score) == (2, 2.0)
    assert ferrovec.top_k([1.0], 0) == []
    with pytest.raises(ValueError):
        ferrovec.top_k([1.0], -1)


def test_normalize():
    vec, norm = ferrovec.l2_normalize(np.array([3, 4], dtype=np.float32))
    assert norm == 5.0
    assert np.allclose(vec, [0.6, 0.8])
    zero, norm0 = ferrovec.l2_normalize([0.0, 0.0])
    assert norm0 == 0.0 and list(zero) == [0.0, 0.0]


def test_int8_and_binary_kernels():
    a = [-128, -1, 0, 5, 127]
    b = [127, 3, -7, 5, -128]
    assert ferrovec.dot_i8(a, b) == sum(x * y for x, y in zip(a, b))
    assert ferrovec.l2sq_i8(a, b) == sum((x - y) ** 2 for x, y in zip(a, b))
    assert ferrovec.dot_i8(np.array(a, dtype=np.int8), bytes(array.array("b", b))) == sum(
        x * y for x, y in zip(a, b)
    )
    with pytest.raises(ValueError):
        ferrovec.dot_i8([128], [1])
    x, y = bytes([0b1111_0000, 0xFF]), bytes([0b1010_0000, 0x0F])
    assert ferrovec.hamming(x, y) == 2 + 4
    assert ferrovec.jaccard(x, y) == pytest.approx(1 - 6 / 12)
    assert ferrovec.jaccard(b"\0\0", b"\0\0") == 0.0


def test_errors_are_typed_with_messages():
    with pytest.raises(FerrovecError.DimensionMismatch, match="expected 2, got 3"):
        ferrovec.dot([1, 2], [1, 2, 3])
    with pytest.raises(FerrovecError.InvalidArgument, match="multiple of 4"):
        ferrovec.l2sq(b"\0" * 8, b"\0" * 7)
    with pytest.raises(FerrovecError) as info:
        ferrovec.hamming(b"\0", b"\0\0")
    assert isinstance(info.value, FerrovecError.DimensionMismatch)
    with pytest.raises(TypeError, match="`a` must be a float32 buffer"):
        ferrovec.dot(object(), [1.0])


def test_isa_selection_round_trip():
    original = ferrovec.active_isa()
    available = ferrovec.available_isas()
    assert ferrovec.Isa.SCALAR in available and original in available
    a, b = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    try:
        for isa in available:
            ferrovec.force_isa(isa)
            assert ferrovec.active_isa() == isa
            assert ferrovec.dot(a, b) == 32.0
        missing = [i for i in ferrovec.Isa if i not in available]
        for isa in missing:
            with pytest.raises(FerrovecError.UnsupportedIsa):
                ferrovec.force_isa(isa)
    finally:
        ferrovec.force_isa(original)


def test_results_are_lists_without_numpy(monkeypatch):
    import ferrovec._buffers as buffers

    monkeypatch.setattr(buffers, "_np", None)
    got = ferrovec.scan([1.0, 0.0], [1.0, 0.0, 0.0, 1.0], Metric.L2SQ)
    assert got == [0.0, 2.0]
    vec, _ = ferrovec.l2_normalize([0.0, 2.0])
    assert vec == [0.0, 1.0]


def test_numpy_arguments_are_not_copied():
    # 4 MB of rows: a copy into `bytes` would show up in tracemalloc (numpy and CPython both
    # report their allocations to it); the zero-copy path allocates only small objects.
    rows = np.ones((4096, 256), dtype=np.float32)
    q = np.ones(256, dtype=np.float32)
    ferrovec.scan(q, rows)  # warm up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        scores = ferrovec.scan(q, rows, Metric.DOT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scores[0] == -256.0
    # the result (16 KB) is allowed; the 4 MB input is not
    assert peak < rows.nbytes // 8, peak


def test_bytes_input_is_little_endian_f32():
    packed = struct.pack("<3f", 1.0, 2.0, 3.0)
    assert ferrovec.dot(packed, packed) == 14.0


def test_version():
    assert ferrovec.version().count(".") == 2
