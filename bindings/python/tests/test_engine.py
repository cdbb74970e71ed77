"""Engine on every backend: the golden kernel cases (tests/golden/kernels.json), options
(fuel, memory cap, SHA-256, module bytes), errors as typed exceptions, close()."""

import hashlib
import math

import numpy as np
import pytest

import ferrovec
from ferrovec import BackendKind, Engine, FerrovecError, Metric
from conftest import ROOT, golden_ok, golden_value, load_golden

GOLDEN = load_golden("kernels.json")
CASES = GOLDEN["cases"]


def f32s(values):
    return np.array([golden_value(v) for v in values], dtype=np.float32)


def run_case(engine, case):
    op = case["op"]
    if op in ("dot_f32", "cosine_distance_f32", "l2sq_f32"):
        fn = {"dot_f32": engine.dot, "cosine_distance_f32": engine.cosine_distance,
              "l2sq_f32": engine.l2sq}[op]
        return fn(f32s(case["a"]), f32s(case["b"]))
    if op in ("dot_i8", "l2sq_i8"):
        fn = engine.dot_i8 if op == "dot_i8" else engine.l2sq_i8
        return fn(np.array(case["a"], dtype=np.int8), np.array(case["b"], dtype=np.int8))
    if op == "hamming_b1":
        return engine.hamming(bytes(case["a"]), bytes(case["b"]))
    if op == "jaccard_b1":
        return engine.jaccard(bytes(case["a"]), bytes(case["b"]))
    if op == "scan_f32":
        metric = [Metric.DOT, Metric.COSINE, Metric.L2SQ][case["metric"]]
        return engine.scan(f32s(case["query"]), f32s(case["rows"]), metric)
    raise AssertionError(f"unknown golden op {op}")


def test_golden_file_is_the_known_format():
    assert GOLDEN["format"] == "ferrovec-golden-kernels" and GOLDEN["version"] == 1
    assert len(CASES) > 200


def test_every_golden_case(engine):
    failures = []
    for case in CASES:
        got = run_case(engine, case)
        if case["op"] == "scan_f32" and case["dims"] == 0 and case["n_rows"] > 0:
            # Bytes carry no row count: with dims = 0 the rows are empty, so n_rows is
            # inexpressible here and the scan returns no rows (the C/wasm ABIs take n_rows).
            if len(got) != 0:
                failures.append(f"{case['name']}: {len(got)} rows from empty input")
            continue
        if case["op"] == "scan_f32":
            got = [float(x) for x in got]
            tol = case.get("tol") or [None] * len(got)
            if len(got) != len(case["expected"]):
                failures.append(f"{case['name']}: {len(got)} rows")
                continue
            for i, (g, e) in enumerate(zip(got, case["expected"])):
                t = tol[i] if isinstance(tol, list) else tol
                if not golden_ok(g, e, t):
                    failures.append(f"{case['name']}[{i}]: got {g}, expected {e} +- {t}")
        elif not golden_ok(float(got), case["expected"], case.get("tol")):
            failures.append(f"{case['name']}: got {got}, expected {case['expected']}")
    assert not failures, f"{engine.kind}: {len(failures)} failures: {failures[:10]}"


def test_module_functions_agree_with_native_engine():
    rng = np.random.default_rng(3)
    q, rows = rng.standard_normal(64, dtype=np.float32), rng.standard_normal((50, 64), dtype=np.float32)
    with Engine.native() as e:
        assert e.kind == BackendKind.NATIVE
        np.testing.assert_array_equal(e.scan(q, rows, Metric.L2SQ), ferrovec.scan(q, rows, Metric.L2SQ))
        assert e.top_k([3.0, 1.0, 2.0], 2) == ferrovec.top_k([3.0, 1.0, 2.0], 2)
        v, n = e.l2_normalize([3, 4])
        assert n == 5.0 and list(v) == pytest.approx([0.6, 0.8])


def test_errors_are_typed_on_every_backend(engine):
    with pytest.raises(FerrovecError.DimensionMismatch, match="expected 2, got 3"):
        engine.dot([1, 2], [1, 2, 3])
    with pytest.raises(FerrovecError.InvalidArgument, match="multiple of 4"):
        engine.l2sq(b"\0" * 8, b"\0" * 7)
    with pytest.raises(FerrovecError.DimensionMismatch):
        engine.scan([1, 2], [1, 2, 3])
    # The engine still works after a failed call.
    assert engine.dot([1, 2], [3, 4]) == 11.0


def test_interpreted_fuel_runs_out_and_recovers():
    with Engine.interpreted(fuel=20_000) as e:
        big = np.ones(200_000, dtype=np.float32)
        with pytest.raises(FerrovecError.OutOfFuel, match="fuel"):
            e.dot(big, big)
        assert e.dot([1, 2], [3, 4]) == 11.0


def test_interpreted_memory_cap():
    with pytest.raises(FerrovecError.OutOfMemory):
        Engine.interpreted(memory_limit=4096)
    with Engine.interpreted(memory_limit=8 << 20) as e:
        big = np.ones(4 << 20, dtype=np.float32)  # 2 x 16 MiB must fit in the module
        with pytest.raises(FerrovecError.OutOfMemory):
            e.dot(big, big)
        assert e.dot([1.0], [2.0]) == 2.0


def test_interpreted_module_bytes_and_sha256():
    path = ROOT / "target" / "wasm" / "ferrovec.wasm"
    if not path.exists():
        pytest.skip(f"{path} not built (make wasm)")
    module = path.read_bytes()
    digest = hashlib.sha256(module).hexdigest()
    with Engine.interpreted(str(path), sha256=digest) as e:
        assert e.kind == BackendKind.INTERPRETED
        assert "simd" not in e.describe().split(";")[1] if ";" in e.describe() else True
        assert e.dot([1, 2], [3, 4]) == 11.0
    with pytest.raises(FerrovecError.InvalidModule, match="SHA-256"):
        Engine.interpreted(module, sha256="00" * 32)
    with pytest.raises(FerrovecError.InvalidArgument, match="sha256"):
        Engine.interpreted(module, sha256="not hex")
    with pytest.raises(FerrovecError.InvalidModule):
        Engine.interpreted(b"\0asm\x01\0\0\0")
    with pytest.raises(FerrovecError.InvalidArgument, match="fuel"):
        Engine.interpreted(fuel=0)


def test_a_build_without_bundled_modules_says_what_to_do(monkeypatch):
    """A package built without the wasm modules (`pip install ./bindings/python` without
    --features bundled-wasm): the library refuses the default module with an InvalidArgument
    naming the feature (asserted in ffi/tests/interpreted.rs); Python turns that into a
    message saying how to pass a module or reinstall, same exception type."""
    from ferrovec import _engine

    calls = []

    def unbundled(cls, config):
        calls.append(config)
        if config.module is None:
            name = "ferrovec-simd.wasm" if config.simd else "ferrovec.wasm"
            raise FerrovecError.InvalidArgument(
                f"invalid argument: this build of ferrovec has no bundled {name} (it was "
                "built without the `bundled-wasm` feature): pass the module bytes"
            )
        raise FerrovecError.InvalidModule("invalid module: not wasm")

    monkeypatch.setattr(_engine._ffi.Engine, "interpreted", classmethod(unbundled))
    with pytest.raises(FerrovecError.InvalidArgument) as err:
        Engine.interpreted()
    message = str(err.value)
    assert "no bundled ferrovec-simd.wasm" in message
    assert "Engine.interpreted(module=" in message and "make wasm" in message
    assert 'pip install ./bindings/python --config-settings=maturin.build-args="--features bundled-wasm"' in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    with pytest.raises(FerrovecError.InvalidArgument, match="no bundled ferrovec.wasm "):
        Engine.interpreted(simd=False)
    # With a module given, the library's own errors pass through untouched.
    with pytest.raises(FerrovecError.InvalidModule, match="not wasm"):
        Engine.interpreted(b"junk")
    assert [c.module for c in calls] == [None, None, b"junk"]


def test_native_isa_pinning():
    for isa in ferrovec.available_isas():
        with Engine.native(isa) as e:
            assert e.dot([1, 2], [3, 4]) == 11.0
            assert isa.name.lower() in e.describe().lower() or isa == ferrovec.Isa.SCALAR
    missing = [i for i in ferrovec.Isa if i not in ferrovec.available_isas()]
    if missing:
        with pytest.raises(FerrovecError.UnsupportedIsa):
            Engine.native(missing[0])


def test_close_is_idempotent_and_later_calls_raise():
    e = Engine.interpreted()
    with e:
        assert not e.closed
    assert e.closed
    e.close()
    with pytest.raises(FerrovecError.InvalidHandle):
        e.dot([1.0], [1.0])
    assert "closed" in repr(e)


def test_nan_in_inputs_propagates_not_raises():
    with Engine.interpreted() as e:
        assert math.isnan(e.dot([math.nan, 1], [1, 1]))
