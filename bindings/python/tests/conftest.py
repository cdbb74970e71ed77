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
