"""scipy's side of `cargo bench -p ferrovec --bench sparse` (make bench-sparse runs both).

Builds the benchmark's matrices with scipy.sparse (the 5-point Laplacian of a 1000 x 1000
grid; 1M rows of 5 random columns, sorted, values in [-1, 1)) and times `A @ x`, the call
the issue compares against; `cg` times scipy.sparse.linalg.cg on the Poisson matrix, per
iteration (rtol = atol = 0, so it runs all of maxiter = 50 iterations). Prints one line per
item:

    <item> <median ms> <interquartile range / median> <scipy version>

Usage: python scipy_spmv.py [poisson|random|cg ...] [--samples N]
"""

import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla

GRID = 1000
RANDOM_ROWS = 1_000_000
RANDOM_PER_ROW = 5


def poisson_2d(g):
    one_d = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(g, g))
    eye = sp.identity(g)
    a = (sp.kron(eye, one_d) + sp.kron(one_d, eye)).tocsr()
    a.sort_indices()
    return a


def random_rows(n, per_row, rng):
    cols = np.sort(rng.integers(0, n, size=(n, per_row), dtype=np.int32), axis=1)
    values = rng.uniform(-1.0, 1.0, size=n * per_row)
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int32)
    return sp.csr_matrix((values, cols.ravel(), indptr), shape=(n, n))


def time_matvec(a, x, samples):
    a @ x  # warm up (page faults of the result, caches)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        y = a @ x
        times.append(time.perf_counter() - start)
    assert y.shape == (a.shape[0],)
    times.sort()
    q = lambda f: times[round((len(times) - 1) * f)]
    return q(0.5) * 1e3, (q(0.75) - q(0.25)) / q(0.5)


CG_ITERATIONS = 50


def time_cg(a, b, samples):
    """Median and spread of scipy's cg, in ms per iteration."""
    times = []
    for _ in range(max(3, samples // 3)):
        start = time.perf_counter()
        spla.cg(a, b, rtol=0.0, atol=0.0, maxiter=CG_ITERATIONS)
        times.append((time.perf_counter() - start) / CG_ITERATIONS)
    times.sort()
    q = lambda f: times[round((len(times) - 1) * f)]
    return q(0.5) * 1e3, (q(0.75) - q(0.25)) / q(0.5)


def main():
    args = sys.argv[1:]
    samples = 15
    if "--samples" in args:
        at = args.index("--samples")
        samples = int(args[at + 1])
        del args[at : at + 2]
    which = args or ["poisson", "random"]
    rng = np.random.default_rng(0x5BA5E)
    for name in which:
        if name == "poisson":
            a = poisson_2d(GRID)
        elif name == "random":
            a = random_rows(RANDOM_ROWS, RANDOM_PER_ROW, rng)
        elif name == "cg":
            a = poisson_2d(GRID)
        else:
            raise SystemExit(f"unknown item {name!r}")
        x = rng.uniform(-1.0, 1.0, size=a.shape[1])
        if name == "cg":
            ms, spread = time_cg(a, x, samples)
        else:
            ms, spread = time_matvec(a, x, samples)
        print(f"{name} {ms:.4f} {spread:.4f} {scipy.__version__}", flush=True)


if __name__ == "__main__":
    main()
