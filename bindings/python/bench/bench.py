"""Python vs Rust: k=10 search call cost and bulk add throughput (issue 5). Not a test.

    make bench-python

The Rust baseline is timed in Rust, inside the same library and process, on the same index
and the same memory (`ferrovec_fast_bench_search` / `ferrovec_fast_bench_add` in
ffi/src/bindings/fast.rs), interleaved pass by pass with the Python calls, so the ratios do
not mix builds or moments of a shared machine. (`cargo bench -p ferrovec --bench bindings`
is the same workload as a standalone Rust program.)

* search: an HNSW index (cosine, f32, defaults) of 10,000 x 384 vectors, 200 queries, k = 10:
  ns per call, median over passes. The same on an exact index of 16 vectors, where the
  search itself is cheap and the difference is the binding's cost per call.
* bulk add: 100,000 x 384 vectors into a fresh exact cosine index in one call, best of 3.
"""

import argparse
import ctypes
import json
import time

import numpy as np

import ferrovec
from ferrovec._uniffi import ferrovec as _ffi

DIMS, SEARCH_ROWS, QUERIES, K, ADD_ROWS = 384, 10_000, 200, 10, 100_000
QUERY_BASE, SMALL_ROWS, SMALL_CALLS = 1 << 40, 16, 2_000

LIB = _ffi._UniffiLib
LIB.ferrovec_fast_bench_search.argtypes = (ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
LIB.ferrovec_fast_bench_search.restype = ctypes.c_double
LIB.ferrovec_fast_bench_add.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32)
LIB.ferrovec_fast_bench_add.restype = ctypes.c_double


def matrix(base, rows):
    """Element i: splitmix64's finalizer of i + 1, top 24 bits, in [-1, 1) (as in
    ffi/benches/bindings.rs)."""
    with np.errstate(over="ignore"):
        z = (np.arange(rows * DIMS, dtype=np.uint64) + np.uint64(base + 1)) * np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    f = (z >> np.uint64(40)).astype(np.float32) / np.float32(16_777_216.0) * np.float32(2) - np.float32(1)
    return f.reshape(rows, DIMS)


def rust_search_ns(index, queries, rounds):
    ns = LIB.ferrovec_fast_bench_search(index._fast_id, queries.ctypes.data, len(queries), DIMS, K, rounds)
    if ns < 0:
        raise RuntimeError(f"ferrovec_fast_bench_search failed with status {ns}")
    return ns


def interleaved(index, queries, rounds, passes, python_pass):
    """Median ns per call of the Python loop and of the same calls timed in Rust."""
    py, rs = [], []
    for _ in range(passes):
        t = time.perf_counter()
        python_pass()
        py.append((time.perf_counter() - t) * 1e9 / (len(queries) * rounds))
        rs.append(rust_search_ns(index, queries, rounds))
    return float(np.median(py)), float(np.median(rs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    passes = 5 if args.quick else 15
    engine = ferrovec.Engine.native()

    rows = matrix(0, SEARCH_ROWS)
    queries = matrix(QUERY_BASE, QUERIES)
    index = engine.index(DIMS, "cosine", hnsw=True)
    index.add_batch(np.arange(SEARCH_ROWS, dtype=np.uint64), rows)

    def hnsw_pass():
        for q in queries:
            index.search(q, K)

    hnsw_pass()  # warm-up
    py_hnsw, rs_hnsw = interleaved(index, queries, 1, passes, hnsw_pass)

    small = engine.index(DIMS, "cosine")
    small.add_batch(np.arange(SMALL_ROWS, dtype=np.uint64), rows[:SMALL_ROWS])
    q = queries[0]

    def small_pass():
        for _ in range(SMALL_CALLS):
            small.search(q, K)

    small_pass()
    py_small, rs_small = interleaved(small, queries[:1], SMALL_CALLS, passes, small_pass)
    # The generated UniFFI method (no fast path), for reference.
    raw, qb = small.raw, q.tobytes()
    t = time.perf_counter()
    for _ in range(SMALL_CALLS):
        raw.search(qb, K)
    uniffi_small = (time.perf_counter() - t) * 1e9 / SMALL_CALLS
    del rows

    data = matrix(0, ADD_ROWS)
    keys = np.arange(ADD_ROWS, dtype=np.uint64)
    py_add, rs_add = float("inf"), float("inf")
    for _ in range(3):
        with engine.index(DIMS, "cosine") as fresh:
            t = time.perf_counter()
            fresh.add_batch(keys, data)
            py_add = min(py_add, time.perf_counter() - t)
        s = LIB.ferrovec_fast_bench_add(keys.ctypes.data, data.ctypes.data, ADD_ROWS, DIMS)
        if s < 0:
            raise RuntimeError(f"ferrovec_fast_bench_add failed with status {s}")
        rs_add = min(rs_add, s)

    print(f"search k={K}, {SEARCH_ROWS} x {DIMS} HNSW:  python {py_hnsw / 1e3:8.2f} us/call   rust {rs_hnsw / 1e3:8.2f} us/call"
          f"   extra {(py_hnsw - rs_hnsw) / 1e3:+.2f} us")
    print(f"search k={K}, {SMALL_ROWS} x {DIMS} exact:     python {py_small / 1e3:8.2f} us/call   rust {rs_small / 1e3:8.2f} us/call"
          f"   extra {(py_small - rs_small) / 1e3:+.2f} us   (target <= 10 us; plain UniFFI method: {uniffi_small / 1e3:.2f} us/call)")
    print(f"add_batch {ADD_ROWS} x {DIMS} (numpy, zero-copy): python {ADD_ROWS / py_add:,.0f} vectors/s   rust {ADD_ROWS / rs_add:,.0f} vectors/s"
          f"   python/rust {rs_add / py_add:.2f} (target >= 0.80)")
    print(json.dumps({
        "language": "python", "passes": passes,
        "hnsw_search_ns": py_hnsw, "hnsw_search_rust_ns": rs_hnsw,
        "small_search_ns": py_small, "small_search_rust_ns": rs_small, "small_search_uniffi_ns": uniffi_small,
        "add_vectors_per_s": ADD_ROWS / py_add, "add_rust_vectors_per_s": ADD_ROWS / rs_add,
    }))


if __name__ == "__main__":
    main()
