"""Shared fixtures: the two backends and the golden kernel cases (tests/golden/)."""

import json
import math
import os
import pathlib

import pytest

import ferrovec

ROOT = pathlib.Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"

BACKENDS = ["native", "interpreted-simd", "interpreted-scalar"]


def make_engine(name):
    if name == "native":
        return ferrovec.Engine.native()
    return ferrovec.Engine.interpreted(simd=name.endswith("simd"))


@pytest.fixture(params=BACKENDS)
def engine(request):
    with make_engine(request.param) as e:
        yield e


@pytest.fixture(params=["native", "interpreted-simd"])
def index_engine(request):
    """The backends an index runs on (the scalar module runs the same index code)."""
    with make_engine(request.param) as e:
        yield e


# Across backends (and instruction sets) distances are not bit-identical by design: each
# kernel table sums in its own order (core/src/kernels/mod.rs, "Accuracy of f32 results").
# They agree within that bound (1e-5 of the sum's magnitude, 2e-5 absolute for cosine), and
# keys agree except where two candidates are that close (near-ties). One backend on one
# instruction set, in contrast, returns the same bits on every path: compare those with ==.
CROSS_BACKEND_TOL = 2e-5


def assert_matches_agree(got, want, tol=CROSS_BACKEND_TOL):
    """`got` and `want` (lists of Match, or lists of such lists) agree as results of one
    search on two backends: same length, distances within `tol` (relative above 1) rank by
    rank, and every key that only one side has is a near-tie at the boundary."""
    if want and isinstance(want[0], list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_matches_agree(g, w, tol)
        return
    assert len(got) == len(want), (got, want)
    close = lambda a, b: abs(a - b) <= tol * max(1.0, abs(b))  # noqa: E731
    for g, w in zip(got, want):
        assert close(g.distance, w.distance), (g, w)
    want_by_key = {m.key: m.distance for m in want}
    for m in got:
        if m.key in want_by_key:
            assert close(m.distance, want_by_key[m.key]), (m, want_by_key[m.key])
        else:
            # Only a tie with the last one kept can swap a key in or out.
            assert close(m.distance, want[-1].distance), (m, want[-1])


def golden_value(v):
    """A golden-file f32 value: numbers are exact f32s, non-finite ones are strings."""
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
    return float(v)


def load_golden(name):
    path = GOLDEN / name
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def golden_ok(got, expected, tol):
    """The comparison rule of tests/golden/README.md."""
    if expected == "NaN":
        return math.isnan(got)
    if expected in ("Infinity", "-Infinity"):
        return got == golden_value(expected)
    if tol is None:
        return got == expected
    return not math.isnan(got) and abs(got - expected) <= tol


def require(path):
    """Skip loudly when an optional golden file has not landed yet (FERROVEC_REQUIRE_GOLDEN=1
    turns that into a failure)."""
    if os.environ.get("FERROVEC_REQUIRE_GOLDEN") == "1":
        pytest.fail(f"{path} is missing")
    pytest.skip(f"{path} not present yet")
