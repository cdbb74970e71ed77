// The C++ solver wrapper (ferrovec::SparseMatrix, ferrovec::Graph in ferrovec.hpp) on the
// installed library: solutions checked by recomputing their residual here, Jacobi's bound
// against a reference solved here, local estimates within their bounds, PageRank against a
// power iteration done here (sums, the forward-push bound 0 <= pi - p <= eps * d on an
// undirected graph, backward push, pair), Matrix Market round trips, move-only RAII, and
// errors as ferrovec::Error carrying the C codes, with caller buffers untouched. The
// interpreted backend refuses the solver (FV_ERR_INVALID_MODULE) until the wasm module
// carries it. Run under ASan + UBSan by `make test-cpp`.
#include <ferrovec.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        ++checks;                                                                \
        if (!(cond)) {                                                           \
            ++failures;                                                          \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

void expect_code(int32_t code, const std::function<void()>& body, int line) {
    ++checks;
    try {
        body();
    } catch (const ferrovec::Error& e) {
        if (e.code() == code && e.what()[0] != '\0') return;
        ++failures;
        std::fprintf(stderr, "FAIL line %d: code %d (%s), expected %d\n", line, e.code(),
                     e.what(), code);
        return;
    }
    ++failures;
    std::fprintf(stderr, "FAIL line %d: no exception, expected code %d\n", line, code);
}
#define EXPECT_CODE(code, ...) expect_code(code, [&] { __VA_ARGS__; }, __LINE__)

/** A matrix as triplets plus its dense copy, for the references. */
struct Triplets {
    std::size_t n = 0;
    std::vector<uint32_t> rows, cols;
    std::vector<double> values;
    std::vector<std::vector<double>> dense;
    explicit Triplets(std::size_t n) : n(n), dense(n, std::vector<double>(n)) {}
    void add(uint32_t r, uint32_t c, double v) {
        rows.push_back(r);
        cols.push_back(c);
        values.push_back(v);
        dense[r][c] += v;
    }
    std::vector<double> times(const std::vector<double>& x) const {
        std::vector<double> y(n);
        for (std::size_t i = 0; i < n; i++)
            for (std::size_t j = 0; j < n; j++) y[i] += dense[i][j] * x[j];
        return y;
    }
    double residual(const std::vector<double>& b, const std::vector<double>& x) const {
        auto ax = times(x);
        double r = 0, nb = 0;
        for (std::size_t i = 0; i < n; i++) {
            r += (b[i] - ax[i]) * (b[i] - ax[i]);
            nb += b[i] * b[i];
        }
        return std::sqrt(r / nb);
    }
    /** x* of a strictly diagonally dominant system by 400 Jacobi sweeps done here. */
    std::vector<double> reference(const std::vector<double>& b) const {
        std::vector<double> x(n), next(n);
        for (int it = 0; it < 400; it++) {
            for (std::size_t i = 0; i < n; i++) {
                double s = b[i];
                for (std::size_t j = 0; j < n; j++)
                    if (j != i) s -= dense[i][j] * x[j];
                next[i] = s / dense[i][i];
            }
            x.swap(next);
        }
        return x;
    }
};

Triplets poisson(std::size_t g) {
    Triplets t(g * g);
    for (std::size_t i = 0; i < g; i++)
        for (std::size_t j = 0; j < g; j++) {
            auto k = uint32_t(i * g + j);
            t.add(k, k, 4.0);
            if (i > 0) t.add(k, k - uint32_t(g), -1.0);
            if (j > 0) t.add(k, k - 1, -1.0);
            if (j + 1 < g) t.add(k, k + 1, -1.0);
            if (i + 1 < g) t.add(k, k + uint32_t(g), -1.0);
        }
    return t;
}

Triplets dominant(std::size_t n) {
    Triplets t(n);
    for (uint32_t i = 0; i < n; i++) {
        t.add(i, i, 5.0);
        if (i + 1 < n) t.add(i, i + 1, -1.5);
        if (i > 0) t.add(i, i - 1, 0.75);
        t.add(i, uint32_t((i * 11 + 2) % n), 0.5);  // may land on the diagonal: still dominant
    }
    return t;
}

void test_matrices(const ferrovec::Engine& engine) {
    using ferrovec::SparseMatrix;
    Triplets p = poisson(6);
    SparseMatrix a = SparseMatrix::from_triplets(engine, p.n, p.n, p.rows, p.cols, p.values);
    CHECK(a.rows() == 36 && a.cols() == 36 && a.nnz() == p.values.size());
    std::vector<double> b(36);
    for (std::size_t i = 0; i < b.size(); i++) b[i] = std::sin(double(i)) + 2;

    // CG: the true residual, recomputed here
    auto s = a.cg(b, ferrovec::SolveOptions().rtol(1e-10));
    CHECK(s.report.converged && s.report.stop == ferrovec::Stop::Converged);
    double res = p.residual(b, s.x);
    CHECK(res <= 1e-10 && std::fabs(res - s.report.relative_residual) <= 1e-12 + 1e-6 * res);
    auto pcg = a.cg(b, ferrovec::SolveOptions()
                           .rtol(1e-10)
                           .preconditioner(ferrovec::Preconditioner::Jacobi)
                           .check_symmetry());
    CHECK(pcg.report.converged && p.residual(b, pcg.x) <= 1e-10);
    // a budget: not an error, and honest
    auto cut = a.cg(b, ferrovec::SolveOptions().rtol(1e-12).max_iterations(2));
    CHECK(!cut.report.converged && cut.report.stop == ferrovec::Stop::MaxIterations &&
          cut.report.iterations == 2);
    CHECK(std::fabs(p.residual(b, cut.x) - cut.report.relative_residual) < 1e-12);
    // into a caller's buffer (std::array), x0 from the answer
    std::array<double, 36> x{};
    auto r = a.cg(b, x, ferrovec::SolveOptions().rtol(1e-10).x0(s.x));
    CHECK(r.converged && r.iterations == 0);
    CHECK(p.residual(b, std::vector<double>(x.begin(), x.end())) <= 1e-10);

    // mul_vec against the dense product
    auto y = a.mul_vec(s.x);
    auto yref = p.times(s.x);
    double err = 0;
    for (std::size_t i = 0; i < y.size(); i++) err = std::max(err, std::fabs(y[i] - yref[i]));
    CHECK(err < 1e-13);

    // BiCGSTAB and Jacobi on a nonsymmetric dominant matrix, against the reference
    Triplets d = dominant(30);
    SparseMatrix m = SparseMatrix::from_triplets(engine, 30, 30, d.rows, d.cols, d.values);
    std::vector<double> bd(b.begin(), b.begin() + 30);
    auto xref = d.reference(bd);
    auto bi = m.bicgstab(bd, ferrovec::SolveOptions().rtol(1e-11));
    CHECK(bi.report.converged && d.residual(bd, bi.x) <= 1e-11);
    auto ja = m.jacobi(bd, ferrovec::SolveOptions().rtol(1e-7));
    CHECK(ja.report.solve.converged && d.residual(bd, ja.x) <= 1e-7);
    err = 0;
    for (std::size_t i = 0; i < 30; i++) err = std::max(err, std::fabs(ja.x[i] - xref[i]));
    CHECK(err <= ja.report.error_bound * (1 + 1e-9) && ja.report.contraction < 1);

    // local solves: dense and sparse b
    for (std::size_t i : {0u, 17u, 29u}) {
        auto e = m.solve_entry(ferrovec::Rhs::dense(bd), i, ferrovec::LocalSolveOptions().tol(1e-10));
        CHECK(e.converged && std::fabs(e.estimate - xref[i]) <= e.error_bound + 1e-12);
        CHECK(e.touched > 0 && e.work > 0);
    }
    std::vector<uint32_t> bi_idx{4, 20};
    std::vector<double> bi_val{1.0, -2.0};
    std::vector<double> bsp(30);
    bsp[4] = 1.0;
    bsp[20] = -2.0;
    auto xs = d.reference(bsp);
    std::vector<uint32_t> ui{3, 5};
    std::vector<double> uv{0.5, 0.5};
    auto f = m.solve_functional(ferrovec::Rhs::sparse(bi_idx, bi_val), ui, uv,
                                ferrovec::LocalSolveOptions().tol(1e-10));
    CHECK(std::fabs(f.estimate - 0.5 * (xs[3] + xs[5])) <= f.error_bound + 1e-13);

    // Matrix Market and CSR round trips
    std::string text = a.to_matrix_market(ferrovec::Symmetry::Symmetric);
    CHECK(text.rfind("%%MatrixMarket", 0) == 0);
    SparseMatrix a2 = SparseMatrix::from_matrix_market(engine, text);
    CHECK(a2.mul_vec(s.x) == y);
    auto csr = a.to_csr();
    SparseMatrix a3 = SparseMatrix::from_csr(engine, csr.rows, csr.cols, csr.indptr, csr.indices,
                                             csr.values);
    CHECK(a3.mul_vec(s.x) == y);

    // RAII: moves leave the source empty (its destructor a no-op), calls on it throw
    SparseMatrix moved = std::move(a3);
    CHECK(a3.get_handle() == nullptr && moved.get_handle() != nullptr);
    CHECK(moved.mul_vec(s.x) == y);
    EXPECT_CODE(FV_ERR_NULL_POINTER, a3.nnz());
    a3 = std::move(moved);
    CHECK(a3.mul_vec(s.x) == y && moved.get_handle() == nullptr);

    // errors: the C codes, and the caller's x untouched
    std::vector<double> guard(36, 12345.0);
    auto untouched = [&] {
        return std::all_of(guard.begin(), guard.end(), [](double v) { return v == 12345.0; });
    };
    std::vector<double> bnan = b;
    bnan[3] = std::nan("");
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, a.cg(bnan, guard));
    CHECK(untouched());
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH, a.cg(std::vector<double>(35, 1.0), guard));
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH, a.cg(b, ferrovec::Span<double>(guard.data(), 35)));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, a.cg(b, guard, ferrovec::SolveOptions().rtol(0)));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, a.cg(b, guard, ferrovec::SolveOptions().rtol(1.5)));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, a.jacobi(b, guard));  // Poisson: not strictly dominant
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, a.cg(b, ferrovec::Span<double>(guard.data(), 36),
                                              ferrovec::SolveOptions().x0(guard)));  // x0 aliases x
    CHECK(untouched());
    SparseMatrix rect = SparseMatrix::from_triplets(engine, 2, 3, std::vector<uint32_t>{0, 1},
                                                    std::vector<uint32_t>{0, 2},
                                                    std::vector<double>{1.0, 1.0});
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH, rect.cg(std::vector<double>{1, 1}));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT,
                m.solve_entry(ferrovec::Rhs::dense(bd), 30));  // row out of range
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT,
                m.solve_entry(ferrovec::Rhs::dense(bd), 0, ferrovec::LocalSolveOptions().tol(0)));
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH,
                ferrovec::Rhs::sparse(bi_idx, std::vector<double>{1.0}));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT,
                SparseMatrix::from_triplets(engine, 2, 2, std::vector<uint32_t>{0, 2},
                                            std::vector<uint32_t>{0, 0},
                                            std::vector<double>{1.0, 1.0}));
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH,
                SparseMatrix::from_triplets(engine, 2, 2, std::vector<uint32_t>{0, 1},
                                            std::vector<uint32_t>{0}, std::vector<double>{1, 1}));
    EXPECT_CODE(FV_ERR_CORRUPT_FILE, SparseMatrix::from_matrix_market(engine, "not a matrix"));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, m.to_matrix_market(ferrovec::Symmetry::Symmetric));
}

/** Personalized PageRank of one source by power iteration (networkx's model), here. */
std::vector<double> ppr(std::size_t n, const std::vector<uint32_t>& src,
                        const std::vector<uint32_t>& dst, uint32_t source, double alpha) {
    std::vector<double> deg(n), x(n), next(n);
    for (auto u : src) deg[u] += 1;
    x[source] = 1;
    for (int it = 0; it < 600; it++) {
        std::fill(next.begin(), next.end(), 0.0);
        double dangling = 0;
        for (std::size_t u = 0; u < n; u++)
            if (deg[u] == 0) dangling += x[u];
        for (std::size_t e = 0; e < src.size(); e++) next[dst[e]] += alpha * x[src[e]] / deg[src[e]];
        next[source] += alpha * dangling + (1 - alpha);
        x.swap(next);
    }
    return x;
}

void test_graphs(const ferrovec::Engine& engine) {
    using ferrovec::Graph;
    // networkx's value for 0->1, 1->2, 2->0, 2->3
    Graph small = Graph::from_edges(engine, 4, std::vector<uint32_t>{0, 1, 2, 2},
                                    std::vector<uint32_t>{1, 2, 0, 3});
    auto pr = small.pagerank();
    CHECK(pr.report.converged && std::fabs(pr.scores[2] - 0.3078526047028215) < 1e-12);
    double sum = 0;
    for (double v : pr.scores) sum += v;
    CHECK(std::fabs(sum - 1) < 1e-12);

    // an undirected graph: a ring of 20 with chords, both directions
    std::vector<uint32_t> src, dst;
    const std::size_t n = 20;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j : {uint32_t((i + 1) % n), uint32_t((i + 7) % n)}) {
            src.push_back(i);
            dst.push_back(j);
            src.push_back(j);
            dst.push_back(i);
        }
    }
    Graph g = Graph::from_edges(engine, n, src, dst);
    CHECK(g.nodes() == n && g.edges() == src.size());
    std::vector<double> deg(n);
    for (auto u : src) deg[u] += 1;
    for (double eps : {1e-2, 1e-5}) {
        auto pi = ppr(n, src, dst, 5, 0.85);
        ferrovec::PushOptions o;
        o.eps = eps;
        auto res = g.forward_push(ferrovec::Distribution::node(5), o);
        CHECK(res.report.converged && res.scores.size() == res.report.nonzero);
        std::vector<double> p(n);
        double psum = 0;
        for (auto& sc : res.scores) {
            p[sc.node] = sc.score;
            psum += sc.score;
        }
        bool bound = true;
        for (std::size_t v = 0; v < n; v++)
            bound = bound && pi[v] - p[v] >= -1e-13 && pi[v] - p[v] <= eps * deg[v] + 1e-13;
        CHECK(bound);
        CHECK(std::fabs(psum + res.report.residual_mass - 1) < 1e-12);
        CHECK(std::is_sorted(res.scores.begin(), res.scores.end(),
                             [](const ferrovec::Score& a, const ferrovec::Score& b) {
                                 return a.score > b.score;
                             }));
        auto top = g.forward_push(ferrovec::Distribution::node(5), o, 4);
        CHECK(top.scores.size() == std::min<std::size_t>(4, res.scores.size()) &&
              std::equal(top.scores.begin(), top.scores.end(), res.scores.begin()));
    }
    // backward push and pair against the reference
    ferrovec::BackwardPushOptions bo;
    bo.r_max = 1e-7;
    auto back = g.backward_push(9, bo);
    std::vector<double> pb(n);
    for (auto& sc : back.scores) pb[sc.node] = sc.score;
    bool ok = true;
    for (uint32_t s = 0; s < n; s++) {
        double truth = ppr(n, src, dst, s, 0.85)[9];
        ok = ok && truth - pb[s] >= -1e-12 && truth - pb[s] <= back.report.error_bound + 1e-12;
    }
    CHECK(ok && back.report.converged);
    ferrovec::PairOptions po;
    po.walks = 5000;
    po.seed = 3;
    auto pair = g.pair(2, 11, po);
    CHECK(std::fabs(pair.estimate - ppr(n, src, dst, 2, 0.85)[11]) <= pair.error_bound);

    // a personalized global PageRank equals the reference
    std::vector<uint32_t> nodes{5};
    std::vector<double> weights{2.0};
    auto pp = g.pagerank(ferrovec::PageRankOptions()
                             .personalization(ferrovec::Distribution::sparse(nodes, weights))
                             .tol(1e-15)
                             .max_iter(1000));
    auto pi5 = ppr(n, src, dst, 5, 0.85);
    double l1 = 0;
    for (std::size_t v = 0; v < n; v++) l1 += std::fabs(pp.scores[v] - pi5[v]);
    CHECK(l1 < 1e-12);

    // RAII
    Graph h = std::move(g);
    CHECK(g.get_handle() == nullptr && h.nodes() == n);
    EXPECT_CODE(FV_ERR_NULL_POINTER, g.nodes());

    // errors
    ferrovec::PushOptions bad;
    bad.eps = 0;
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.forward_push(ferrovec::Distribution::node(0), bad));
    bad.eps = -1;
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.forward_push(ferrovec::Distribution::node(0), bad));
    for (double alpha : {0.0, 1.0, 1.2, -0.1}) {
        ferrovec::PushOptions a;
        a.alpha = alpha;
        EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.forward_push(ferrovec::Distribution::node(0), a));
        EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.pagerank(ferrovec::PageRankOptions().alpha(alpha)));
    }
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.forward_push(ferrovec::Distribution::node(20)));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.backward_push(20));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, h.pair(0, 20));
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH,
                h.forward_push(ferrovec::Distribution::dense(std::vector<double>(19, 1.0))));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT,
                Graph::from_edges(engine, 3, std::vector<uint32_t>{0}, std::vector<uint32_t>{3}));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT,
                Graph::from_edges(engine, 3, std::vector<uint32_t>{0}, std::vector<uint32_t>{1},
                                  std::vector<double>{std::nan("")}));
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH,
                Graph::from_edges(engine, 3, std::vector<uint32_t>{0, 1}, std::vector<uint32_t>{1},
                                  std::vector<double>{}));
}

}  // namespace

int main() {
    ferrovec::Engine native = ferrovec::Engine::native();
    test_matrices(native);
    test_graphs(native);

    // the interpreted backend refuses the solver until its wasm module carries it
    ferrovec::Engine interpreted = ferrovec::Engine::interpreted();
    try {
        auto m = ferrovec::SparseMatrix::from_triplets(interpreted, 1, 1, std::vector<uint32_t>{0},
                                                       std::vector<uint32_t>{0},
                                                       std::vector<double>{2.0});
        std::printf("test_solver: the interpreted backend carries the solver: testing it too\n");
        test_matrices(interpreted);
        test_graphs(interpreted);
    } catch (const ferrovec::Error& e) {
        CHECK(e.code() == FV_ERR_INVALID_MODULE);
    }

    if (failures) {
        std::fprintf(stderr, "test_solver: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    std::printf("test_solver: all %d checks passed\n", checks);
    return 0;
}
