"""Python vs Rust: k=10 search call cost and bulk add throughput (issue 5). Not a test.

    make bench-python     # runs `cargo bench -p ferrovec --bench bindings -- --json` first

The workload and data are those of ffi/benches/bindings.rs (read its docs): the same
vectors (a counter-based hash, generated here with numpy), the same indexes, the same
passes. `--rust '<json line>'` passes the Rust numbers to compare against; the checksum of
top-1 keys proves both sides searched the same graph.
"""

import argparse
import json
import sys
import time

import numpy as np

import ferrovec

DIMS, SEARCH_ROWS, QUERIES, K, ADD_ROWS = 384, 10_000, 200, 10, 100_000
QUERY_BASE, SMALL_ROWS, SMALL_CALLS = 1 << 40, 16, 2_000


def matrix(base, rows):
    """Element i: splitmix64's finalizer of i + 1, top 24 bits, in [-1, 1) (as in Rust)."""
    with np.errstate(over="ignore"):
        z = (np.arange(rows * DIMS, dtype=np.uint64) + np.uint64(base + 1)) * np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(40)).astype(np.float32) / np.float32(16_777_216.0) * np.float32(2) - np.float32(1)).reshape(rows, DIMS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rust", help="the JSON line of the Rust bench")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    passes = 5 if args.quick else 15
    engine = ferrovec.Engine.native()

    rows = matrix(0, SEARCH_ROWS)
    index = engine.index(DIMS, "cosine", hnsw=True)
    index.add_batch(np.arange(SEARCH_ROWS, dtype=np.uint64), rows)
    queries = matrix(QUERY_BASE, QUERIES)
    checksum = sum(index.search(q, K)[0].key for q in queries)
    samples = []
    for _ in range(passes):
        t = time.perf_counter()
        for q in queries:
            index.search(q, K)
        samples.append((time.perf_counter() - t) * 1e9 / QUERIES)
    search_ns = float(np.median(samples))

    small = engine.index(DIMS, "cosine")
    small.add_batch(np.arange(SMALL_ROWS, dtype=np.uint64), rows[:SMALL_ROWS])
    q = queries[0]
    samples = []
    for _ in range(passes):
        t = time.perf_counter()
        for _ in range(SMALL_CALLS):
            small.search(q, K)
        samples.append((time.perf_counter() - t) * 1e9 / SMALL_CALLS)
    small_ns = float(np.median(samples))
    # The same call on the generated object (bytes in, records out), without the pythonic
    # layer's argument conversion and NamedTuple results.
    raw, qb = small.raw, q.tobytes()
    samples = []
    for _ in range(passes):
        t = time.perf_counter()
        for _ in range(SMALL_CALLS):
            raw.search(qb, K)
        samples.append((time.perf_counter() - t) * 1e9 / SMALL_CALLS)
    raw_ns = float(np.median(samples))
    del rows

    data = matrix(0, ADD_ROWS)
    keys = np.arange(ADD_ROWS, dtype=np.uint64)
    best = float("inf")
    for _ in range(3):
        with engine.index(DIMS, "cosine") as fresh:
            t = time.perf_counter()
            fresh.add_batch(keys, data)
            best = min(best, time.perf_counter() - t)
    add_vps = ADD_ROWS / best

    mine = {"language": "python", "search_ns": search_ns, "small_search_ns": small_ns,
            "small_search_raw_ns": raw_ns, "add_vectors_per_s": add_vps, "checksum": checksum}
    print(f"python: k={K} search on {SEARCH_ROWS} x {DIMS} HNSW: {search_ns / 1e3:.2f} us/call")
    print(f"python: k={K} search on {SMALL_ROWS} x {DIMS} exact: {small_ns / 1e3:.2f} us/call "
          f"(generated API, bytes in: {raw_ns / 1e3:.2f} us)")
    print(f"python: add_batch {ADD_ROWS} x {DIMS} (numpy, zero-copy): {add_vps:,.0f} vectors/s")
    if args.rust:
        rust = json.loads(args.rust)
        same = rust["checksum"] == checksum
        print(f"rust:   {rust['search_ns'] / 1e3:.2f} us/call (10k HNSW), {rust['small_search_ns'] / 1e3:.2f} us/call "
              f"(16 exact), {rust['add_vectors_per_s']:,.0f} vectors/s; same results: {same}")
        print(f"overhead per search call (16 exact): {(small_ns - rust['small_search_ns']) / 1e3:+.2f} us "
              f"(generated API {(raw_ns - rust['small_search_ns']) / 1e3:+.2f} us; target <= 10 us)")
        print(f"10k HNSW search: python / rust = {search_ns / rust['search_ns']:.3f} "
              f"({(search_ns - rust['search_ns']) / 1e3:+.1f} us, includes run-to-run noise)")
        print(f"bulk add: python / rust = {add_vps / rust['add_vectors_per_s']:.2f} (target >= 0.80)")
        if not same:
            print("WARNING: checksums differ: the two sides did not build the same index", file=sys.stderr)
    print(json.dumps(mine))


if __name__ == "__main__":
    main()
