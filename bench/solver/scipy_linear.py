"""scipy's cg / bicgstab on the systems `solver_linear --dump DIR` wrote, for reference.

Usage: OPENBLAS_NUM_THREADS=1 python bench/solver/scipy_linear.py DIR [--rtol 1e-8]

Prints, per system and method, the wall time of the call, the iterations (times scipy's
callback ran), the true relative residual ||b - A x|| / ||b|| of the returned x and scipy's
info (0 = it claims convergence). One run each, like the Rust side.
"""
import argparse
import os
import time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as sla


def load(d, name):
    indptr = np.fromfile(os.path.join(d, f"{name}.indptr.u32"), dtype="<u4").astype(np.int32)
    indices = np.fromfile(os.path.join(d, f"{name}.indices.u32"), dtype="<u4").astype(np.int32)
    data = np.fromfile(os.path.join(d, f"{name}.data.f64"), dtype="<f8")
    b = np.fromfile(os.path.join(d, f"{name}.b.f64"), dtype="<f8")
    n = len(indptr) - 1
    return sp.csr_array((data, indices, indptr), shape=(n, n)), b


def run(name, label, f, a, b, **kw):
    count = [0]

    def cb(_x):
        count[0] += 1

    t = time.perf_counter()
    x, info = f(a, b, callback=cb, **kw)
    secs = time.perf_counter() - t
    res = np.linalg.norm(b - a @ x) / np.linalg.norm(b)
    per = 1e3 * secs / count[0] if count[0] else 0.0
    print(f"{name:<10} {label:<16} {secs:9.3f} s {count[0]:6d} it {per:8.2f} ms/it  "
          f"residual {res:.3e}  info {info}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--rtol", type=float, default=1e-8)
    args = p.parse_args()
    print(f"scipy {scipy.__version__}, numpy {np.__version__}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    for name in ("poisson2d", "sdd"):
        if not os.path.exists(os.path.join(args.dir, f"{name}.b.f64")):
            continue
        a, b = load(args.dir, name)
        print(f"{name}: n = {a.shape[0]}, nnz = {a.nnz}, rtol = {args.rtol:g}")
        m = sp.diags_array(1.0 / a.diagonal())
        run(name, "cg", sla.cg, a, b, rtol=args.rtol)
        run(name, "cg+jacobi", sla.cg, a, b, rtol=args.rtol, M=m)
        run(name, "bicgstab", sla.bicgstab, a, b, rtol=args.rtol)


if __name__ == "__main__":
    main()
