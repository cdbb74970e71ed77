"""networkx.pagerank(personalization={0: 1}) on the graph `--export` of the pagerank bench
wrote (little-endian u32 pairs src, dst), for the time ratio against ferrovec:

    cargo run --release -p ferrovec-bench --bin pagerank -- --export target/pagerank/er100k.bin
    python3 bench/pagerank_networkx.py target/pagerank/er100k.bin 100000

Prints the time of networkx's call (CPU time of this process, graph construction excluded),
its top-5, and how much of the time is the conversion to a scipy matrix.
"""
import sys
import time

import networkx as nx
import numpy as np

path, n = sys.argv[1], int(sys.argv[2])
pairs = np.fromfile(path, dtype="<u4").reshape(-1, 2)
G = nx.DiGraph()
G.add_nodes_from(range(n))
# Repeated edges: the Rust graph sums them (weight 2); DiGraph keeps one, so add weights.
w = {}
for s, d in pairs.tolist():
    w[(s, d)] = w.get((s, d), 0) + 1
G.add_weighted_edges_from((s, d, c) for (s, d), c in w.items())
print(f"networkx {nx.__version__}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges")
best = None
for _ in range(3):
    t = time.process_time()
    pr = nx.pagerank(G, alpha=0.85, personalization={0: 1})
    dt = time.process_time() - t
    best = dt if best is None else min(best, dt)
top = sorted(pr.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print(f"nx.pagerank(personalization={{0: 1}}): best of 3 {best * 1e3:.1f} ms CPU; top-5 {top}")
# How much of that is networkx turning its dict-of-dicts graph into a scipy matrix.
t = time.process_time()
nx.to_scipy_sparse_array(G, nodelist=list(G), weight="weight", dtype=float)
conv = time.process_time() - t
print(f"nx.to_scipy_sparse_array alone (pagerank does it first, every call): {conv * 1e3:.1f} ms CPU")
