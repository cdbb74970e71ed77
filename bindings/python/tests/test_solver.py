"""The sparse solver engine through the Python layer (native backend), against scipy and
networkx as references: CG / BiCGSTAB / Jacobi vs scipy.sparse.linalg on generated matrices
(the true residual recomputed here), local estimates vs an exact solve, PageRank vs
networkx.pagerank on generated graphs and on the small real graphs networkx ships, the push
guarantees checked on every node against an exact dense solve, zero-copy input, and every
kind of bad input."""

import array
import math

import networkx as nx
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import ferrovec
from ferrovec import FerrovecError, Graph, SparseMatrix, StopReason
from ferrovec import _buffers

# ------------------------------------------------------------------------------ generators


def spd(n, seed, density=0.02):
    """Symmetric, strictly diagonally dominant with a positive diagonal: SPD."""
    rng = np.random.default_rng(seed)
    b = sp.random(n, n, density=density, rng=rng, format="csr")
    b.data -= 0.5
    a = b + b.T
    d = np.ravel(abs(a).sum(axis=1)) + 1.0 + rng.random(n)
    return (a + sp.diags_array(d)).tocsr()


def poisson2d(m):
    t = sp.diags_array([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], offsets=[-1, 0, 1])
    i = sp.identity(m)
    return (sp.kron(t, i) + sp.kron(i, t)).tocsr()


def dominant(n, seed, density=0.03, margin=1.5):
    """Nonsymmetric, strictly diagonally dominant (by `margin` over the row's |sum|)."""
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, density=density, rng=rng, format="csr")
    a.data = rng.standard_normal(a.nnz)
    a.setdiag(0)
    a.eliminate_zeros()
    d = margin * np.ravel(np.abs(a).sum(axis=1)) + 0.1 + rng.random(n)
    d *= rng.choice([-1.0, 1.0], n)  # negative diagonals too
    return (a + sp.diags_array(d)).tocsr()


def nonsymmetric(n, seed):
    """Convection-diffusion-like: nonsymmetric, not diagonally dominant in every row."""
    rng = np.random.default_rng(seed)
    t = sp.diags_array([-1.6 * np.ones(n - 1), 2.1 * np.ones(n), -0.3 * np.ones(n - 1)],
                       offsets=[-1, 0, 1])
    noise = sp.random(n, n, density=2.0 / n, rng=rng, format="csr") * 0.2
    return (t + noise).tocsr()


def residual(a, x, b):
    return np.linalg.norm(b - a @ x) / np.linalg.norm(b)


def scipy_iterations(method, a, b, **kw):
    count = [0]

    def callback(_):
        count[0] += 1

    x, info = method(a, b, callback=callback, **kw)
    return x, info, count[0]


# ------------------------------------------------------------------------------ linear solvers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cg_matches_scipy(seed):
    a = spd(400, seed)
    b = np.random.default_rng(seed).standard_normal(400)
    m = SparseMatrix(a)
    assert m.shape == (400, 400) and m.nnz == a.nnz
    x, report = m.cg(b, rtol=1e-10)
    assert isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == (400,)
    true = residual(a, x, b)
    assert report.converged and report.stop == StopReason.CONVERGED
    assert true <= 1e-10
    assert report.relative_residual == pytest.approx(true, rel=1e-6, abs=1e-16)
    xs, info, iterations = scipy_iterations(spla.cg, a, b, rtol=1e-10)
    assert info == 0
    assert np.linalg.norm(x - xs) <= 1e-8 * np.linalg.norm(xs)
    # The same recurrences and stopping rule as scipy (rounding may move the last step).
    assert abs(report.iterations - iterations) <= 1, (report.iterations, iterations)


def test_cg_on_poisson_with_preconditioner_and_x0():
    a = poisson2d(30)
    n = a.shape[0]
    b = np.ones(n)
    with SparseMatrix(a) as m:
        plain = m.cg(b, rtol=1e-9)
        pre = m.cg(b, rtol=1e-9, preconditioner="jacobi", symmetry_tolerance=1e-10)
        assert plain.report.converged and pre.report.converged
        for s in (plain, pre):
            assert residual(a, s.x, b) <= 1e-9
        xs = spla.spsolve(a.tocsc(), b)
        assert np.allclose(plain.x, xs, rtol=1e-6, atol=1e-9)
        # Starting at the answer: converged before any iteration.
        again = m.cg(b, rtol=1e-9, x0=plain.x)
        assert again.report.converged and again.report.iterations <= 1
        np.testing.assert_allclose(again.x, plain.x, rtol=1e-9, atol=1e-12)


def test_budget_is_a_result_not_an_error():
    a = poisson2d(20)
    b = np.ones(a.shape[0])
    for solve in ("cg", "bicgstab"):
        x, report = getattr(SparseMatrix(a), solve)(b, rtol=1e-12, max_iterations=3)
        assert not report.converged and report.stop == StopReason.MAX_ITERATIONS
        assert report.iterations == 3
        # Honest: the reported residual is the true one of the returned x, above rtol.
        true = residual(a, x, b)
        assert report.relative_residual == pytest.approx(true, rel=1e-6)
        assert true > 1e-12
    x, report = SparseMatrix(dominant(100, 5)).jacobi(np.ones(100), rtol=1e-14, max_iterations=2)
    assert not report.converged and report.stop == StopReason.MAX_ITERATIONS


@pytest.mark.parametrize("seed", [4, 5])
def test_bicgstab_matches_scipy(seed):
    for a in (dominant(300, seed), nonsymmetric(300, seed)):
        b = np.random.default_rng(seed).standard_normal(300)
        x, report = SparseMatrix(a).bicgstab(b, rtol=1e-10)
        assert report.converged and residual(a, x, b) <= 1e-10
        assert report.relative_residual == pytest.approx(residual(a, x, b), rel=1e-6, abs=1e-16)
        xs, info = spla.bicgstab(a, b, rtol=1e-12)
        assert info == 0
        assert np.linalg.norm(x - xs) <= 1e-6 * np.linalg.norm(xs)
        xp, rp = SparseMatrix(a).bicgstab(b, rtol=1e-10, preconditioner="jacobi")
        assert rp.converged and residual(a, xp, b) <= 1e-10


@pytest.mark.parametrize("seed", [6, 7])
def test_jacobi_error_bound_against_exact(seed):
    a = dominant(250, seed)
    b = np.random.default_rng(seed).standard_normal(250)
    exact = spla.spsolve(a.tocsc(), b)
    for rtol in (1e-4, 1e-10):
        x, report = SparseMatrix(a).jacobi(b, rtol=rtol)
        assert report.converged and residual(a, x, b) <= rtol
        assert 0 <= report.contraction < 1
        err = np.max(np.abs(x - exact))
        assert err <= report.error_bound * (1 + 1e-9) + 1e-14, (err, report.error_bound)
        assert "error_bound=" in repr(report) and "contraction=" in repr(report)
    # CG and BiCGSTAB report no error bound.
    assert SparseMatrix(spd(50, 1)).cg(np.ones(50)).report.error_bound is None


def test_every_scipy_format_gives_the_same_matrix():
    a = dominant(60, 8)
    b = np.random.default_rng(8).standard_normal(60)
    want = SparseMatrix(a).bicgstab(b, rtol=1e-12).x
    forms = [
        sp.csr_array(a), sp.csr_matrix(a), sp.coo_array(a), sp.coo_matrix(a),
        sp.csc_array(a), sp.lil_matrix(a), a.toarray(),
    ]
    for form in forms:
        m = SparseMatrix(form)
        assert (m.to_scipy() != a).nnz == 0, type(form)
        np.testing.assert_array_equal(m.bicgstab(b, rtol=1e-12).x, want)
    # Unsorted columns and duplicates (non-canonical CSR; COO duplicates are summed).
    coo = sp.coo_array(a)
    rows = np.concatenate([coo.row, coo.row[:10]])
    cols = np.concatenate([coo.col, coo.col[:10]])
    half = coo.data.copy()
    half[:10] /= 2  # split exactly in two: the duplicate carries the other half
    vals = np.concatenate([half, coo.data[:10] / 2])
    dup = sp.coo_array((vals, (rows, cols)), shape=a.shape)
    assert (SparseMatrix(dup).to_scipy() != a).nnz == 0
    shuffled = a.copy()
    for i in range(a.shape[0]):
        lo, hi = shuffled.indptr[i], shuffled.indptr[i + 1]
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][::-1].copy()
        shuffled.data[lo:hi] = shuffled.data[lo:hi][::-1].copy()
    shuffled.has_sorted_indices = False
    assert not shuffled.has_canonical_format
    assert (SparseMatrix(shuffled).to_scipy() != a).nnz == 0
    # from_csr / from_triplets with plain lists.
    m = SparseMatrix.from_triplets([0, 1, 1], [0, 0, 1], [2.0, 1.0, 3.0], (2, 2))
    np.testing.assert_array_equal(m @ [1.0, 1.0], [2.0, 4.0])
    m = SparseMatrix.from_csr([0, 1, 3], [0, 1, 0], [2.0, 3.0, 1.0], (2, 2))
    np.testing.assert_array_equal(m.mul_vec(np.array([1.0, 1.0])), [2.0, 4.0])


def test_inputs_pass_without_a_copy_where_dtypes_allow():
    a = spd(100, 9)
    assert a.indices.dtype == np.int32 and a.data.dtype == np.float64
    for arr in (a.indptr, a.indices):
        assert _buffers.u32_arg(arr).address == arr.ctypes.data
    assert _buffers.f64_arg(a.data).address == a.data.ctypes.data
    u = a.indices.astype(np.uint32)
    assert _buffers.u32_arg(u).address == u.ctypes.data
    b = np.ones(100)
    assert _buffers.f64_arg(b).address == b.ctypes.data
    # Other dtypes are converted once, to the same values.
    for conv in (a.indices.astype(np.int64), a.indices.astype(np.uint16)):
        pinned = _buffers.u32_arg(conv)
        assert pinned.address != conv.ctypes.data
        assert np.frombuffer(bytes(pinned.owner), "<u4").tolist() == a.indices.tolist()
    f32 = np.ones(100, dtype=np.float32)
    assert bytes(_buffers.f64_arg(f32).owner) == np.ones(100).tobytes()
    assert bytes(_buffers.f64_arg(array.array("d", [1.0, 2.0])).owner) == np.array([1.0, 2.0]).tobytes()
    # int64 indices (scipy's choice for large matrices) give the same matrix.
    big = sp.csr_array((a.data, a.indices.astype(np.int64), a.indptr.astype(np.int64)), shape=a.shape)
    assert (SparseMatrix(big).to_scipy() != a).nnz == 0
    # A float32 right-hand side is converted and solves the same system.
    x32 = SparseMatrix(a).cg(np.ones(100, dtype=np.float32), rtol=1e-10).x
    np.testing.assert_array_equal(x32, SparseMatrix(a).cg(b, rtol=1e-10).x)


def test_matrix_market_round_trip(tmp_path):
    a = spd(40, 10)
    m = SparseMatrix(a)
    path = tmp_path / "a.mtx"
    m.write_matrix_market(path, symmetric=True)
    theirs = scipy.io.mmread(path)
    assert abs(sp.csr_array(theirs) - a).max() <= 1e-15 * abs(a).max()
    again = SparseMatrix.read_matrix_market(path)
    assert (again.to_scipy() != m.to_scipy()).nnz == 0
    text = m.to_matrix_market()
    assert text.startswith("%%MatrixMarket matrix coordinate real general")
    assert (SparseMatrix.from_matrix_market(text).to_scipy() != m.to_scipy()).nnz == 0
    with pytest.raises(FerrovecError.CorruptFile, match="line"):
        SparseMatrix.from_matrix_market("%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n")
    with pytest.raises(FerrovecError.InvalidArgument):
        SparseMatrix(dominant(5, 1)).to_matrix_market(symmetric=True)


# ------------------------------------------------------------------------------ local estimates


@pytest.mark.parametrize("seed", [11, 12])
def test_solve_entry_and_functional_within_their_bounds(seed):
    a = dominant(500, seed, density=0.006, margin=2.0)
    rng = np.random.default_rng(seed)
    b = rng.standard_normal(500)
    exact = spla.spsolve(a.tocsc(), b)
    m = SparseMatrix(a)
    for i in (0, 17, 499):
        for tol in (1e-4, 1e-9):
            e = m.solve_entry(b, i, tol=tol)
            assert e.converged and e.error_bound <= tol and e.failure_probability == 0
            assert abs(e.estimate - exact[i]) <= e.error_bound + 1e-12, (i, tol, e)
            assert e.touched >= 1 and e.work >= 1 and e.rows_read >= 1
    # With walks: a probabilistic bound (fixed seed: deterministic result).
    w = m.solve_entry(b, 3, tol=1e-2, walks=20_000, seed=7)
    assert w == m.solve_entry(b, 3, tol=1e-2, walks=20_000, seed=7)
    assert abs(w.estimate - exact[3]) <= w.error_bound
    # A sparse b (dict) and a functional u^T x.
    bs = {5: 1.0, 100: -2.0}
    dense_b = np.zeros(500)
    dense_b[[5, 100]] = [1.0, -2.0]
    exact_s = spla.spsolve(a.tocsc(), dense_b)
    e = m.solve_entry(bs, 5, tol=1e-10)
    assert abs(e.estimate - exact_s[5]) <= e.error_bound + 1e-12
    u = {0: 0.5, 9: 2.0, 400: -1.0}
    f = m.solve_functional(b, u, tol=1e-9)
    truth = 0.5 * exact[0] + 2.0 * exact[9] - exact[400]
    assert abs(f.estimate - truth) <= f.error_bound + 1e-12
    f2 = m.solve_functional(bs, (np.array([5]), np.array([1.0])), tol=1e-10)
    assert abs(f2.estimate - exact_s[5]) <= f2.error_bound + 1e-12
    # A promised dominance factor reads only part of the matrix.
    # (margin 2: every row's off-diagonal sum is below half its diagonal.)
    local = m.solve_entry(bs, 5, tol=1e-3, dominance=0.5)
    assert local.rows_read < 500 and abs(local.estimate - exact_s[5]) <= local.error_bound + 1e-12
    assert "LocalEstimate(estimate=" in repr(local)


def test_local_budget_is_reported():
    a = dominant(300, 13, margin=1.05)
    e = SparseMatrix(a).solve_entry(np.ones(300), 0, tol=1e-12, max_pushes=5)
    assert not e.converged and e.stop == StopReason.MAX_WORK and e.pushes == 5


# ------------------------------------------------------------------------------ PageRank


def exact_ppr(adj, s, alpha, dangling=None):
    """networkx's PageRank by a dense solve: s (and dangling) distributions, summing to 1."""
    a = adj.toarray() if sp.issparse(adj) else np.asarray(adj, dtype=float)
    n = a.shape[0]
    w = a.sum(axis=1)
    d = s if dangling is None else dangling
    p = np.zeros((n, n))
    for u in range(n):
        p[u] = a[u] / w[u] if w[u] > 0 else d
    pi = np.linalg.solve(np.eye(n) - alpha * p.T, (1 - alpha) * s)
    return pi / pi.sum()


def norm_dist(weights, n):
    v = np.zeros(n)
    for k, x in weights.items():
        v[k] = x
    return v / v.sum()


def directed_graphs():
    """Generated directed graphs with dangling nodes, weighted and not."""
    out = []
    for seed in range(4):
        g = nx.gnp_random_graph(60, 0.06, seed=seed, directed=True)
        g.add_node(60)  # isolated: dangling
        rng = np.random.default_rng(seed)
        if seed % 2:
            for u, v in g.edges:
                g[u][v]["weight"] = float(rng.uniform(0.1, 3.0))
        out.append((f"gnp{seed}", g))
    return out


def real_graphs():
    return [
        ("karate_club", nx.karate_club_graph()),
        ("les_miserables", nx.les_miserables_graph()),
        ("florentine_families", nx.florentine_families_graph()),
        ("davis_southern_women", nx.davis_southern_women_graph()),
    ]


def undirected_generated():
    out = []
    for seed in range(3):
        g = nx.connected_watts_strogatz_graph(80, 4, 0.3, seed=seed)
        rng = np.random.default_rng(seed)
        for u, v in g.edges:
            g[u][v]["weight"] = float(rng.uniform(0.5, 2.0))
        out.append((f"ws{seed}", g))
    return out


def as_ferrovec(g):
    nodes = list(g)
    adj = nx.to_scipy_sparse_array(g, nodelist=nodes, weight="weight", dtype=float)
    return nodes, adj, Graph(adj)


ALL_GRAPHS = directed_graphs() + real_graphs() + undirected_generated()


@pytest.mark.parametrize("name,g", ALL_GRAPHS, ids=[n for n, _ in ALL_GRAPHS])
def test_pagerank_matches_networkx(name, g):
    nodes, adj, graph = as_ferrovec(g)
    index = {u: i for i, u in enumerate(nodes)}
    assert graph.n_nodes == len(nodes) and graph.n_edges == adj.nnz
    pr = graph.pagerank()
    want = nx.pagerank(g)
    assert pr.report.converged and pr.report.stop == StopReason.CONVERGED
    assert abs(pr.scores.sum() - 1) <= 1e-12
    for u in nodes:
        assert pr.scores[index[u]] == pytest.approx(want[u], abs=1e-12), (name, u)
    # Personalization and dangling distributions (dicts keyed by node), other alpha, tol.
    rng = np.random.default_rng(len(nodes))
    chosen = [nodes[i] for i in rng.choice(len(nodes), 3, replace=False)]
    pers = {u: float(w) for u, w in zip(chosen, (1.0, 2.0, 0.5))}
    dang = {nodes[0]: 1.0, nodes[-1]: 3.0}
    want = nx.pagerank(g, alpha=0.7, personalization=pers, dangling=dang, tol=1e-10)
    got = graph.pagerank(
        alpha=0.7,
        personalization={index[u]: w for u, w in pers.items()},
        dangling={index[u]: w for u, w in dang.items()},
        tol=1e-10,
    )
    for u in nodes:
        assert got.scores[index[u]] == pytest.approx(want[u], abs=1e-12), (name, u)
    # The error bound holds against the exact fixed point.
    exact = exact_ppr(adj, norm_dist({index[u]: w for u, w in pers.items()}, len(nodes)), 0.7,
                      norm_dist({index[u]: w for u, w in dang.items()}, len(nodes)))
    assert np.abs(got.scores - exact).sum() <= got.report.error_bound + 1e-12
    # A dense personalization vector is the same as the dict.
    dense = np.zeros(len(nodes))
    for u, w in pers.items():
        dense[index[u]] = w
    np.testing.assert_array_equal(
        graph.pagerank(alpha=0.7, personalization=dense, dangling={index[u]: w for u, w in dang.items()},
                       tol=1e-10).scores,
        got.scores,
    )
    # top_k: by descending score, ties by node id.
    top = pr.top_k(3)
    assert [s for _, s in top] == sorted(pr.scores, reverse=True)[:3]


def test_pagerank_budget_and_networkx_failure():
    g = nx.karate_club_graph()
    _, _, graph = as_ferrovec(g)
    pr = graph.pagerank(max_iter=3)
    assert not pr.report.converged and pr.report.stop == StopReason.MAX_ITERATIONS
    assert pr.report.iterations == 3 and math.isfinite(pr.report.error_bound)
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(g, max_iter=3)


@pytest.mark.parametrize("name,g", ALL_GRAPHS, ids=[n for n, _ in ALL_GRAPHS])
def test_forward_push_guarantee_on_every_node(name, g):
    nodes, adj, graph = as_ferrovec(g)
    n = len(nodes)
    degree = np.ravel(adj.sum(axis=1))
    symmetric = not g.is_directed()
    for source in (0, n // 2, n - 2):
        for eps in (1e-3, 1e-6):
            r = graph.forward_push(source, eps=eps)
            assert r.report.converged and r.report.stop == StopReason.CONVERGED
            s = np.zeros(n)
            s[source] = 1.0
            exact = exact_ppr(adj, s, 0.85)
            p = r.dense(n)
            gap = exact - p
            slack = 1e-12
            assert np.all(gap >= -slack), (name, source, eps, gap.min())
            # Sum of the gaps is the residual mass (the L1 error), within the bound.
            assert gap.sum() == pytest.approx(r.report.residual_mass, abs=1e-10)
            assert r.report.residual_mass <= r.report.error_bound + slack
            if symmetric:
                assert np.all(gap <= eps * degree + slack), (name, source, eps)
            # Results sorted by descending score, ties by node id; nothing listed twice.
            pairs = list(r)
            assert pairs == sorted(pairs, key=lambda t: (-t[1], t[0]))
            assert len(set(r.nodes.tolist())) == len(r)
    # networkx with personalization={s: 1} agrees within the push's L1 error.
    r = graph.forward_push(1, eps=1e-7)
    want = nx.pagerank(g, personalization={nodes[1]: 1.0}, tol=1e-12, max_iter=1000)
    p = r.dense(n)
    assert sum(abs(want[u] - p[i]) for i, u in enumerate(nodes)) <= r.report.error_bound + 1e-9
    top = graph.forward_push(1, eps=1e-7, top_k=5)
    assert len(top) == 5 and top.nodes.tolist() == r.nodes[:5].tolist()
    assert top.to_dict() == dict(list(r)[:5])


def test_forward_push_budget_and_sparse_personalization():
    _, adj, graph = as_ferrovec(nx.les_miserables_graph())
    r = graph.forward_push(0, eps=1e-9, max_pushes=10)
    assert not r.report.converged and r.report.stop == StopReason.MAX_WORK
    assert r.report.pushes == 10
    n = adj.shape[0]
    r = graph.forward_push({0: 1.0, 5: 3.0}, eps=1e-7)
    exact = exact_ppr(adj, norm_dist({0: 1.0, 5: 3.0}, n), 0.85)
    gap = exact - r.dense(n)
    assert np.all(gap >= -1e-12) and gap.sum() <= r.report.error_bound + 1e-12


DANGLING_GRAPHS = directed_graphs()[:2] + real_graphs()[:2]


@pytest.mark.parametrize("name,g", DANGLING_GRAPHS, ids=[n for n, _ in DANGLING_GRAPHS])
def test_backward_push_and_pair_against_exact(name, g):
    nodes, adj, graph = as_ferrovec(g)
    n = len(nodes)
    # pi_s(t) for every source s (one exact solve per source: dangling mass returns to s).
    exact = np.array([exact_ppr(adj, np.eye(n)[s], 0.85) for s in range(n)])
    for target in (0, 7, n - 1):
        for r_max in (1e-3, 1e-6):
            r = graph.backward_push(target, r_max=r_max)
            assert r.report.converged
            p = r.dense(n)
            gap = exact[:, target] - p
            assert np.all(gap >= -1e-12), (name, target, gap.min())
            assert np.all(gap <= r.report.error_bound + 1e-12), (name, target, gap.max())
    for source, target in ((0, 7), (3, n - 1), (n - 1, 0)):
        e = graph.pair(source, target, walks=20_000, seed=1)
        truth = exact[source, target]
        assert e.converged and e.walks in (0, 20_000)  # 0: nothing left to walk for
        assert e.push_estimate - 1e-12 <= truth <= e.push_estimate + e.push_bound + 1e-12
        assert abs(e.estimate - truth) <= e.error_bound + 1e-12, (name, source, target, e)
        assert e == graph.pair(source, target, walks=20_000, seed=1)  # deterministic per seed


# ------------------------------------------------------------------------------ bad input


def test_bad_matrix_input_is_a_typed_error_and_changes_nothing():
    a = spd(30, 14)
    b = np.ones(30)
    m = SparseMatrix(a)
    before = m.cg(b, rtol=1e-10).x.copy()
    rect = SparseMatrix(sp.random(3, 4, density=0.5, rng=np.random.default_rng(1), format="csr"))
    for method in ("cg", "bicgstab", "jacobi"):
        # Non-square.
        with pytest.raises(FerrovecError.DimensionMismatch):
            getattr(rect, method)(np.ones(3))
        # Mismatched dimensions.
        with pytest.raises(FerrovecError.DimensionMismatch, match="expected 30, got 29"):
            getattr(m, method)(np.ones(29))
        with pytest.raises(FerrovecError.DimensionMismatch):
            getattr(m, method)(b, x0=np.ones(31))
        # NaN / infinity in b or x0.
        with pytest.raises(FerrovecError.InvalidArgument, match="not finite"):
            getattr(m, method)(np.where(np.arange(30) == 4, np.nan, 1.0))
        with pytest.raises(FerrovecError.InvalidArgument, match="not finite"):
            getattr(m, method)(b, x0=np.full(30, np.inf))
        # Empty system.
        with pytest.raises(FerrovecError.InvalidArgument, match="empty"):
            getattr(SparseMatrix(sp.csr_array((0, 0))), method)(np.ones(0))
        # rtol outside (0, 1).
        for rtol in (0.0, -1.0, 1.0, math.nan):
            with pytest.raises(FerrovecError.InvalidArgument, match="rtol"):
                getattr(m, method)(b, rtol=rtol)
    with pytest.raises(FerrovecError.DimensionMismatch):
        rect.solve_entry(np.ones(3), 0)
    with pytest.raises(FerrovecError.DimensionMismatch):
        m.mul_vec(np.ones(31))
    # NaN / infinity in the matrix.
    bad = a.copy()
    bad.data[3] = np.nan
    with pytest.raises(FerrovecError.InvalidArgument, match="NaN"):
        SparseMatrix(bad)
    with pytest.raises(FerrovecError.InvalidArgument, match="not finite"):
        SparseMatrix.from_triplets([0], [0], [math.inf], (1, 1))
    # Zero diagonal: Jacobi divides by it; CG's Jacobi preconditioner needs it positive.
    z = sp.csr_array(np.array([[4.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 4.0]]))
    with pytest.raises(FerrovecError.InvalidArgument, match="row 1"):
        SparseMatrix(z).jacobi(np.ones(3))
    with pytest.raises(FerrovecError.InvalidArgument, match="row 1"):
        SparseMatrix(z).cg(np.ones(3), preconditioner="jacobi")
    with pytest.raises(FerrovecError.InvalidArgument, match="row 1"):
        SparseMatrix(z).solve_entry(np.ones(3), 0)
    # Not diagonally dominant: named row and margin.
    nd = sp.csr_array(np.array([[1.0, 2.0], [1.0, 3.0]]))
    with pytest.raises(FerrovecError.InvalidArgument, match="row 0 is not strictly diagonally dominant"):
        SparseMatrix(nd).jacobi(np.ones(2))
    # Out-of-range row and tolerances.
    with pytest.raises(FerrovecError.InvalidArgument, match="row 30 is out of range"):
        m.solve_entry(b, 30)
    for tol in (0.0, -1e-3, math.nan):
        with pytest.raises(FerrovecError.InvalidArgument, match="tol"):
            m.solve_entry(b, 0, tol=tol)
    # Column or row out of range while building; negative or non-integer indices.
    with pytest.raises(FerrovecError.InvalidArgument):
        SparseMatrix.from_triplets([0], [2], [1.0], (2, 2))
    with pytest.raises(FerrovecError.InvalidArgument):
        SparseMatrix.from_csr([0, 1, 3], [0, 1], [1.0, 1.0], (2, 2))
    with pytest.raises(FerrovecError.InvalidArgument, match="negative"):
        SparseMatrix.from_csr(np.array([0, 1, 2]), np.array([0, -1]), np.ones(2), (2, 2))
    with pytest.raises(FerrovecError.InvalidArgument, match="integers"):
        SparseMatrix.from_csr(np.array([0, 1, 2]), np.array([0.0, 1.0]), np.ones(2), (2, 2))
    with pytest.raises(FerrovecError.InvalidArgument, match="preconditioner"):
        m.cg(b, preconditioner="ilu")
    with pytest.raises(FerrovecError.InvalidArgument, match="scipy.sparse"):
        SparseMatrix("not a matrix")
    # Nothing changed: the same solve gives the same bits.
    np.testing.assert_array_equal(m.cg(b, rtol=1e-10).x, before)
    m.close()
    m.close()
    assert m.closed and repr(m) == "SparseMatrix(closed)"
    with pytest.raises(FerrovecError.InvalidHandle):
        m.cg(b)


def test_bad_graph_input_is_a_typed_error():
    g = Graph.from_edges([0, 1, 2, 2], [1, 2, 0, 3])
    assert g.n_nodes == 4 and "Graph(n_nodes=4, n_edges=4" in repr(g)
    before = g.pagerank().scores.copy()
    # Out-of-range nodes, everywhere a node is named.
    for call in (
        lambda: g.forward_push(4),
        lambda: g.forward_push({0: 1.0, 9: 1.0}),
        lambda: g.backward_push(4),
        lambda: g.pair(0, 4),
        lambda: g.pair(4, 0),
        lambda: g.pagerank(personalization=4),
        lambda: g.pagerank(dangling={7: 1.0}),
        lambda: Graph.from_edges([0], [5], n_nodes=3),
    ):
        with pytest.raises(FerrovecError.InvalidArgument, match="is not a node"):
            call()
    # eps / r_max <= 0 or not finite.
    for bad in (0.0, -1e-4, math.nan, math.inf):
        with pytest.raises(FerrovecError.InvalidArgument, match="eps"):
            g.forward_push(0, eps=bad)
        with pytest.raises(FerrovecError.InvalidArgument, match="r_max"):
            g.backward_push(0, r_max=bad)
        with pytest.raises(FerrovecError.InvalidArgument, match="r_max"):
            g.pair(0, 1, r_max=bad)
    # alpha outside (0, 1).
    for alpha in (0.0, 1.0, -0.5, 1.5, math.nan):
        for call in (
            lambda: g.pagerank(alpha=alpha),
            lambda: g.forward_push(0, alpha=alpha),
            lambda: g.backward_push(0, alpha=alpha),
            lambda: g.pair(0, 1, alpha=alpha),
        ):
            with pytest.raises(FerrovecError.InvalidArgument, match="alpha"):
                call()
    # Personalization: negative / NaN / all-zero weights, wrong length.
    for pers in ({0: -1.0}, {0: math.nan}, {0: 0.0}, np.zeros(4)):
        with pytest.raises(FerrovecError.InvalidArgument):
            g.pagerank(personalization=pers)
    with pytest.raises(FerrovecError.DimensionMismatch):
        g.pagerank(personalization=np.ones(3))
    # Empty graph; non-square adjacency; negative and NaN weights.
    with pytest.raises(FerrovecError.InvalidArgument, match="no nodes"):
        Graph.from_edges([], [], n_nodes=0).pagerank()
    with pytest.raises(FerrovecError.DimensionMismatch, match="square"):
        Graph(sp.csr_array((2, 3)))
    for w in (-1.0, math.nan):
        with pytest.raises(FerrovecError.InvalidArgument):
            Graph.from_edges([0], [1], [w])
    with pytest.raises(FerrovecError.DimensionMismatch):
        Graph.from_edges([0, 1], [1])
    # Given weights must be one per edge (empty is not "unweighted").
    for w in ([], [1.0], [1.0, 2.0, 3.0]):
        with pytest.raises(FerrovecError.DimensionMismatch, match="one weight per edge"):
            Graph.from_edges([0, 1], [1, 0], w)
        with pytest.raises(FerrovecError.DimensionMismatch, match="one weight per edge"):
            Graph.from_csr([0, 1, 2], [1, 0], w)
    np.testing.assert_array_equal(g.pagerank().scores, before)
    with g:
        pass
    with pytest.raises(FerrovecError.InvalidHandle):
        g.pagerank()


def test_reprs_name_what_matters():
    m = SparseMatrix(spd(10, 1))
    s = m.cg(np.ones(10))
    assert repr(s).startswith("Solution(x=<10 values>, report=SolveReport(converged=True, stop=converged")
    assert "relative_residual=" in repr(s.report) and "iterations=" in repr(s.report)
    assert repr(m) == "SparseMatrix(shape=(10, 10), nnz=%d, backend=native)" % m.nnz
    g = Graph.from_edges([0, 1], [1, 0])
    r = g.forward_push(0)
    assert repr(r).startswith("PushResult(2 nodes {0: ")
    assert "error_bound=" in repr(r.report) and "touched=2" in repr(r.report)
    assert "PageRankReport(converged=True" in repr(g.pagerank())
    assert repr(g.pair(0, 1)).startswith("PairEstimate(estimate=")


def test_engine_argument_threads_and_closed_engine():
    import threading

    with ferrovec.Engine.native() as engine:
        m = SparseMatrix(spd(200, 15), engine=engine)
        g = Graph.from_edges([0, 1, 2], [1, 2, 0], engine=engine)
        assert m.backend == ferrovec.BackendKind.NATIVE and g.backend == ferrovec.BackendKind.NATIVE
    # Objects made from an engine keep working after it is closed; new ones cannot be made.
    with pytest.raises(FerrovecError.InvalidHandle):
        SparseMatrix(spd(5, 1), engine=engine)
    b = np.random.default_rng(15).standard_normal(200)
    want = m.cg(b, rtol=1e-10).x
    assert g.pagerank().report.converged
    # Concurrent solves on one matrix (read-only, &self in Rust) give the same bits.
    results = [None] * 4

    def solve(k):
        results[k] = m.cg(b, rtol=1e-10).x

    threads = [threading.Thread(target=solve, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x in results:
        np.testing.assert_array_equal(x, want)


def test_interpreted_backend_gives_the_native_bits():
    """The same solves on the Interpreted backend (the solver's wasm module under wasmi): the
    same bits as native for every method, seeded walks included."""
    interp = ferrovec.Engine.interpreted()
    a = spd(300, 21)
    d = dominant(300, 22, density=0.01, margin=2.0)
    b = np.random.default_rng(23).standard_normal(300)
    for mat in (a, d):
        n, i = SparseMatrix(mat), SparseMatrix(mat, engine=interp)
        assert i.backend == ferrovec.BackendKind.INTERPRETED
        np.testing.assert_array_equal(i.mul_vec(b), n.mul_vec(b))
        for method in ("bicgstab", "jacobi") if mat is d else ("cg", "bicgstab"):
            xn, rn = getattr(n, method)(b, rtol=1e-10)
            xi, ri = getattr(i, method)(b, rtol=1e-10)
            assert rn.converged and ri == rn, method
            np.testing.assert_array_equal(xi, xn)
    n, i = SparseMatrix(d), SparseMatrix(d, engine=interp)
    assert i.solve_entry(b, 7, tol=1e-3, walks=2_000, seed=5) == n.solve_entry(
        b, 7, tol=1e-3, walks=2_000, seed=5)
    name, g = directed_graphs()[1]  # weighted, with a dangling node
    _, adj, gn = as_ferrovec(g)
    gi = Graph(adj, engine=interp)
    np.testing.assert_array_equal(gi.pagerank().scores, gn.pagerank().scores)
    pn, pi = gn.forward_push(0, eps=1e-5), gi.forward_push(0, eps=1e-5)
    np.testing.assert_array_equal(pi.nodes, pn.nodes)
    np.testing.assert_array_equal(pi.scores, pn.scores)
    assert gi.pair(0, 5, walks=3_000, seed=9) == gn.pair(0, 5, walks=3_000, seed=9)
