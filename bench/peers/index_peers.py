"""ferrovec's index against the strongest HNSW libraries, from Python, as a user choosing one
would (issue 15): faiss-cpu (IndexHNSWFlat, IndexHNSWSQ8), hnswlib, usearch and ferrovec's
wheel (f32, f16 and i8 storage: `ferrovec`, `ferrovec-f16`, `ferrovec-i8`), one thread each, same data, same parameters (M = 16, ef_construction = 128, cosine),
k = 10, ef_search swept.

    python bench/peers/index_peers.py [--data debian] [--data mixture] [--ef 16,32,...]

Per library and dataset, in a fresh subprocess (so memory is measured cleanly and one
library's allocator state does not bleed into the next):

* build: vectors/s of one add of the whole base (process CPU time);
* memory: bytes per vector as the RSS growth over the build (the data is loaded before the
  baseline), and the serialized index size per vector;
* per ef: recall@10 ann-benchmarks style (a returned key counts if its true distance is
  within 1e-3 of the true 10th distance) and QPS of one batch search of every held-out query
  (process CPU time, best of 3 passes: on a shared machine CPU time is steadier than wall).

Then the frontier table, and at recall 0.95 and 0.99 ferrovec's QPS over the best peer's,
each interpolated linearly along its own (recall, QPS) frontier.

Datasets (cached in $FERROVEC_DATA, else ~/.cache/ferrovec):

* debian: bench/data/prepare.sh's set, all-MiniLM-L6-v2 embeddings of ~60k Debian package
  descriptions, 1,000 held-out queries (debian-base.npy, debian-queries.npy);
* mixture: generated here, deterministic: 100,000 base + 1,000 query vectors of 384 dims from
  a Gaussian mixture (1,000 centers), normalized; see make_mixture.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

# One thread everywhere, before numpy / faiss load their thread pools.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

M, EF_CONSTRUCTION, K = 16, 128, 10
# "ferrovec" stores f32 rows; "ferrovec-f16" and "ferrovec-i8" the storages of those names
# (i8: the memory class of faiss HNSWSQ8).
LIBS = ["faiss-hnsw-flat", "faiss-hnsw-sq8", "hnswlib", "usearch", "ferrovec", "ferrovec-f16", "ferrovec-i8"]
DATA = pathlib.Path(os.environ.get("FERROVEC_DATA", pathlib.Path.home() / ".cache" / "ferrovec"))


def make_mixture(path: pathlib.Path, n=100_000, nq=1_000, dims=384, centers=1_000, seed=20261203):
    """A clustered set: 1,000 centers ~ N(0, I), points = center + 1.5 * N(0, I), normalized
    to unit rows; queries drawn the same way (not from the base). Squared distances inside a
    cluster are ~4.5 d against ~6.5 d across: low contrast, so recall at small ef is well
    below 1 (hnswlib: 0.89 at ef 16). Deterministic (numpy PCG64, fixed seed)."""
    base_f, q_f = path / "mixture-base.npy", path / "mixture-queries.npy"
    if base_f.exists() and q_f.exists():
        return
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, dims), dtype=np.float32)

    def draw(m):
        x = c[rng.integers(0, centers, m)] + 1.5 * rng.standard_normal((m, dims), dtype=np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    base, queries = draw(n), draw(nq)
    path.mkdir(parents=True, exist_ok=True)
    np.save(path / "mixture-base.tmp.npy", base)
    np.save(path / "mixture-queries.tmp.npy", queries)
    os.replace(path / "mixture-base.tmp.npy", base_f)
    os.replace(path / "mixture-queries.tmp.npy", q_f)


def load(name):
    if name == "mixture":
        make_mixture(DATA)
    base_f, q_f = DATA / f"{name}-base.npy", DATA / f"{name}-queries.npy"
    if not base_f.exists():
        return None
    base = np.ascontiguousarray(np.load(base_f), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(q_f), dtype=np.float32)
    # Unit rows (the Debian set is already normalized; this is a no-op there): cosine = 1 - dot.
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return base, queries


def true_tenth(name, base, queries):
    """The exact 10th-nearest cosine distance per query (cached; f32 GEMM, then f64 re-scoring
    of the top 100 candidates)."""
    f = DATA / f"{name}-gt10.npy"
    if f.exists():
        return np.load(f)
    out = np.empty(len(queries))
    for s in range(0, len(queries), 100):
        q = queries[s : s + 100]
        sims = q @ base.T
        cand = np.argpartition(-sims, 100, axis=1)[:, :100]
        exact = 1 - np.einsum("qd,qcd->qc", q.astype(np.float64), base[cand].astype(np.float64))
        out[s : s + 100] = np.sort(exact, axis=1)[:, K - 1]
    np.save(f, out)
    return out


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu():
    return time.process_time()


class Lib:
    """One library behind the same four calls."""

    def __init__(self, name, dims, n):
        self.name, self.dims, self.n = name, dims, n
        if name.startswith("faiss"):
            import faiss

            faiss.omp_set_num_threads(1)
            self.faiss = faiss
            ip = faiss.METRIC_INNER_PRODUCT
            if name == "faiss-hnsw-flat":
                self.index = faiss.IndexHNSWFlat(dims, M, ip)
            else:
                self.index = faiss.IndexHNSWSQ(dims, faiss.ScalarQuantizer.QT_8bit, M, ip)
            self.index.hnsw.efConstruction = EF_CONSTRUCTION
        elif name == "hnswlib":
            import hnswlib

            self.index = hnswlib.Index(space="ip", dim=dims)
            self.index.init_index(max_elements=n, ef_construction=EF_CONSTRUCTION, M=M, random_seed=100)
            self.index.set_num_threads(1)
        elif name == "usearch":
            from usearch.index import Index

            self.index = Index(ndim=dims, metric="ip", dtype="f32", connectivity=M,
                               expansion_add=EF_CONSTRUCTION, expansion_search=64)
        elif name.startswith("ferrovec"):
            import ferrovec

            storage = name.partition("-")[2] or "f32"
            self.index = ferrovec.Index(dims, "cosine", storage,
                                        hnsw={"m": M, "ef_construction": EF_CONSTRUCTION, "ef_search": 64})
        else:
            raise SystemExit(f"unknown library {name}")

    def build(self, base):
        keys = np.arange(len(base), dtype=np.uint64)
        if self.name.startswith("faiss"):
            if self.name == "faiss-hnsw-sq8":
                self.index.train(base)
            self.index.add(base)
        elif self.name == "hnswlib":
            self.index.add_items(base, keys.astype(np.int64), num_threads=1)
        elif self.name == "usearch":
            self.index.add(keys, base, threads=1)
        else:
            self.index.add_batch(keys, base)

    def set_ef(self, ef):
        if self.name.startswith("faiss"):
            self.index.hnsw.efSearch = ef
        elif self.name == "hnswlib":
            self.index.set_ef(ef)
        elif self.name == "usearch":
            self.index.expansion_search = ef
        else:
            self.index.set_ef_search(ef)

    def search(self, queries):
        """keys [n, K] (int64, -1 where missing) of one batch search."""
        if self.name.startswith("faiss"):
            _, ids = self.index.search(queries, K)
            return ids
        if self.name == "hnswlib":
            ids, _ = self.index.knn_query(queries, k=K, num_threads=1)
            return ids.astype(np.int64)
        if self.name == "usearch":
            m = self.index.search(queries, K, threads=1)
            ids = m.keys.astype(np.int64)
            ids[np.arange(K)[None, :] >= m.counts[:, None]] = -1
            return ids
        keys, _, counts = self.index.search_batch(queries, K)
        ids = keys.view(np.int64).copy()
        ids[np.arange(K)[None, :] >= counts[:, None]] = -1
        return ids

    def file_bytes(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "index")
            if self.name.startswith("faiss"):
                self.faiss.write_index(self.index, p)
            elif self.name == "hnswlib":
                self.index.save_index(p)
            elif self.name == "usearch":
                self.index.save(p)
            else:
                self.index.save(p)
            return os.path.getsize(p)


def recall(ids, base, queries, tenth):
    """ann-benchmarks k-NN recall: a returned id counts if its true distance is within 1e-3
    of the true 10th distance."""
    valid = ids >= 0
    safe = np.where(valid, ids, 0)
    d = 1 - np.einsum("qd,qkd->qk", queries.astype(np.float64), base[safe].astype(np.float64))
    hits = (d <= tenth[:, None] + 1e-3) & valid
    return hits.sum() / (len(queries) * K)


def run_one(lib_name, data_name, efs):
    """The child: one library on one dataset; prints one JSON line."""
    base, queries = load(data_name)
    tenth = true_tenth(data_name, base, queries)
    lib = Lib(lib_name, base.shape[1], len(base))
    before = rss()
    t = cpu()
    lib.build(base)
    build_s = cpu() - t
    grown = rss() - before
    points = []
    for ef in efs:
        lib.set_ef(ef)
        best = float("inf")
        for _ in range(3):
            t = cpu()
            ids = lib.search(queries)
            best = min(best, cpu() - t)
        points.append({"ef": ef, "recall": recall(ids, base, queries, tenth), "qps": len(queries) / best})
    out = {
        "lib": lib_name, "data": data_name, "n": len(base), "nq": len(queries), "dims": base.shape[1],
        "build_vps": len(base) / build_s, "rss_per_vec": grown / len(base),
        "file_per_vec": lib.file_bytes() / len(base), "points": points,
    }
    if lib_name.startswith("ferrovec"):
        import ferrovec

        out["isa"] = str(ferrovec.active_isa())
    print(json.dumps(out), flush=True)


def interpolate(points, target):
    """QPS at `target` recall along a frontier: linear between the two points that bracket
    it (points sorted by recall); None if the frontier never reaches it."""
    pts = sorted((p["recall"], p["qps"]) for p in points)
    if not pts or pts[-1][0] < target:
        return None
    if pts[0][0] >= target:
        return max(q for r, q in pts if r >= target)  # every point is above: the fastest
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            return q0 if r1 == r0 else q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return None


def report(results, efs):
    by_data = {}
    for r in results:
        by_data.setdefault(r["data"], {})[r["lib"]] = r
    for data_name, libs in by_data.items():
        any_r = next(iter(libs.values()))
        print(f"\n## {data_name}: {any_r['n']} x {any_r['dims']}, {any_r['nq']} queries, k = {K}, "
              f"M = {M}, ef_construction = {EF_CONSTRUCTION}, cosine, one thread")
        names = [n for n in LIBS if n in libs]
        print("\nrecall@10 / QPS (batch search of every query, process CPU time, best of 3)\n")
        print("| ef | " + " | ".join(names) + " |")
        print("|---:|" + "---|" * len(names))
        for i, ef in enumerate(efs):
            cells = []
            for n in names:
                p = libs[n]["points"][i]
                cells.append(f"{p['recall']:.3f} / {p['qps']:,.0f}")
            print(f"| {ef} | " + " | ".join(cells) + " |")
        print("\n| | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        print("| build (vectors/s) | " + " | ".join(f"{libs[n]['build_vps']:,.0f}" for n in names) + " |")
        print("| memory (RSS growth over the build, B/vector) | "
              + " | ".join(f"{libs[n]['rss_per_vec']:,.0f}" for n in names) + " |")
        print("| file (serialized index, B/vector) | "
              + " | ".join(f"{libs[n]['file_per_vec']:,.0f}" for n in names) + " |")
        ours_names = [n for n in names if n.startswith("ferrovec")]
        peer_names = [n for n in names if not n.startswith("ferrovec")]
        for mine in ours_names:
            print()
            for target in (0.95, 0.99):
                ours = interpolate(libs[mine]["points"], target)
                peers = {n: interpolate(libs[n]["points"], target) for n in peer_names}
                reached = {n: q for n, q in peers.items() if q is not None}
                peer_txt = ", ".join(f"{n} {q:,.0f}" if q else f"{n} n/a" for n, q in peers.items())
                if ours is None or not reached:
                    print(f"recall {target}: {mine} {'n/a' if ours is None else f'{ours:,.0f}'} QPS; "
                          f"peers: {peer_txt} (not reached within the ef sweep)")
                    continue
                best = max(reached, key=reached.get)
                print(f"recall {target}: {mine} {ours:,.0f} QPS, best peer {best} {reached[best]:,.0f}: "
                      f"{ours / reached[best]:.2f}x (interpolated; {peer_txt})")
            if "faiss-hnsw-sq8" in libs:
                sq8 = libs["faiss-hnsw-sq8"]["rss_per_vec"]
                print(f"memory: {mine} {libs[mine]['rss_per_vec']:,.0f} B/vector, faiss HNSWSQ8 {sq8:,.0f}: "
                      f"{libs[mine]['rss_per_vec'] / sq8:.2f}x")
        for mine in ours_names:
            if "isa" in libs[mine]:
                print(f"ferrovec kernels: {libs[mine]['isa']}")
                break


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", choices=["debian", "mixture"])
    ap.add_argument("--ef", default="16,32,64,128,256")
    ap.add_argument("--libs", default=",".join(LIBS))
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--child", nargs=2, metavar=("LIB", "DATA"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    efs = [int(e) for e in a.ef.split(",")]
    if a.child:
        run_one(a.child[0], a.child[1], efs)
        return
    results = []
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}", flush=True)
    for data_name in a.data or ["debian", "mixture"]:
        loaded = load(data_name)
        if loaded is None:
            print(f"SKIPPED {data_name}: {DATA}/{data_name}-base.npy missing "
                  "(bench/data/prepare.sh makes the Debian set)", flush=True)
            continue
        true_tenth(data_name, *loaded)  # cache once, outside the timed children
        del loaded
        for lib in a.libs.split(","):
            t = time.time()
            out = subprocess.run([sys.executable, __file__, "--child", lib, data_name, "--ef", a.ef],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{lib} on {data_name} failed:\n{out.stderr[-2000:]}", flush=True)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            print(f"{data_name} {lib}: build {r['build_vps']:,.0f}/s, "
                  + ", ".join(f"ef {p['ef']} {p['recall']:.3f}/{p['qps']:,.0f}" for p in r["points"])
                  + f" ({time.time() - t:.0f} s)", flush=True)
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(results, indent=1))
    report(results, efs)


if __name__ == "__main__":
    main()
