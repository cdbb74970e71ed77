# Prints networkx PageRank values as Rust constants for core/src/solver/pagerank/golden.rs:
#   python3 tests/golden/pagerank_networkx.py > golden.rs  (needs networkx, scipy, numpy)
import networkx as nx
def fmt(xs): return ", ".join(repr(float(x)) for x in xs)
def iters(G, **kw):
    for k in range(1, 1000):
        try:
            nx.pagerank(G, max_iter=k, **kw); return k
        except nx.PowerIterationFailedConvergence:
            pass
K = nx.karate_club_graph()
src=[];dst=[];w=[]
for u,v,d in K.edges(data=True):
    src.append(u); dst.append(v); w.append(d.get('weight',1))
print("pub(super) const KARATE_SRC: [u32; %d] = [%s];" % (len(src), ", ".join(map(str,src))))
print("pub(super) const KARATE_DST: [u32; %d] = [%s];" % (len(dst), ", ".join(map(str,dst))))
print("pub(super) const KARATE_W: [f64; %d] = [%s];" % (len(w), fmt(w)))
pr = nx.pagerank(K); print("// nx.pagerank(K): %d iterations" % iters(K))
print("pub(super) const KARATE_PR: [f64; 34] = [%s];" % fmt(pr[i] for i in range(34)))
pr = nx.pagerank(K, alpha=0.9, personalization={0:1}); print("// nx.pagerank(K, alpha=0.9, personalization={0: 1}): %d iterations" % iters(K, alpha=0.9, personalization={0:1}))
print("pub(super) const KARATE_PPR0: [f64; 34] = [%s];" % fmt(pr[i] for i in range(34)))
pr = nx.pagerank(K, weight=None, personalization={33: 1, 5: 2}); print("// unweighted, personalization={33: 1, 5: 2}: %d iterations" % iters(K, weight=None, personalization={33:1,5:2}))
print("pub(super) const KARATE_PPR_UNW: [f64; 34] = [%s];" % fmt(pr[i] for i in range(34)))
# a directed graph: weights, a self-loop, dangling nodes (7: no out-edges, 8: only a zero-weight edge), isolated 9
D = nx.DiGraph()
D.add_nodes_from(range(10))
E = [(0,1,1.0),(0,2,2.0),(1,2,1.0),(2,0,0.5),(2,3,1.5),(3,3,1.0),(3,4,1.0),(4,5,3.0),(5,6,1.0),(5,7,1.0),(6,4,2.0),(6,8,1.0),(8,0,0.0),(1,7,0.25)]
for u,v,x in E: D.add_edge(u,v,weight=x)
print("pub(super) const DI_EDGES: [(u32, u32, f64); %d] = [%s];" % (len(E), ", ".join("(%d, %d, %r)" % e for e in E)))
pr = nx.pagerank(D); print("// nx.pagerank(D): %d iterations" % iters(D))
print("pub(super) const DI_PR: [f64; 10] = [%s];" % fmt(pr[i] for i in range(10)))
pers={1:1.0, 7:2.0, 9:1.0}
pr = nx.pagerank(D, alpha=0.7, personalization=pers); print("// nx.pagerank(D, alpha=0.7, personalization={1: 1, 7: 2, 9: 1}): %d iterations" % iters(D, alpha=0.7, personalization=pers))
print("pub(super) const DI_PPR: [f64; 10] = [%s];" % fmt(pr[i] for i in range(10)))
dang={4:1.0, 0:3.0}
pr = nx.pagerank(D, alpha=0.85, personalization={2:1.0}, dangling=dang, tol=1e-10, max_iter=500); print("// nx.pagerank(D, personalization={2: 1}, dangling={4: 1, 0: 3}, tol=1e-10, max_iter=500): %d iterations" % iters(D, personalization={2:1.0}, dangling=dang, tol=1e-10))
print("pub(super) const DI_DANG: [f64; 10] = [%s];" % fmt(pr[i] for i in range(10)))
pr = nx.pagerank(D, personalization={9:1.0}); print("// isolated source 9")
print("pub(super) const DI_ISOLATED: [f64; 10] = [%s];" % fmt(pr[i] for i in range(10)))
# Tight runs (tol=1e-15: L1 change < n * 1e-15 at the end), to compare the push methods with.
T = dict(tol=1e-15, max_iter=100000)
pr = nx.pagerank(K, **T); print("// nx.pagerank(K, tol=1e-15, max_iter=100000)")
print("pub(super) const KARATE_PR_TIGHT: [f64; 34] = [%s];" % fmt(pr[i] for i in range(34)))
pr = nx.pagerank(K, alpha=0.9, personalization={0:1}, **T); print("// nx.pagerank(K, alpha=0.9, personalization={0: 1}, tol=1e-15, max_iter=100000)")
print("pub(super) const KARATE_PPR0_TIGHT: [f64; 34] = [%s];" % fmt(pr[i] for i in range(34)))
pr = nx.pagerank(D, alpha=0.7, personalization=pers, **T); print("// nx.pagerank(D, alpha=0.7, personalization={1: 1, 7: 2, 9: 1}, tol=1e-15, max_iter=100000)")
print("pub(super) const DI_PPR_TIGHT: [f64; 10] = [%s];" % fmt(pr[i] for i in range(10)))
