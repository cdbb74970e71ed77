/*
 * The sparse solver C API (fv_sparse_matrix_*, fv_graph_*) against references computed here,
 * in C, independently of the library:
 *   - CG / BiCGSTAB / Jacobi: the residual of the returned x recomputed from the matrix
 *     (matches the reported true residual, meets rtol when converged); Jacobi's error bound
 *     and contraction against a reference solution and q computed here; budgets that run out
 *     are reported, not errors;
 *   - local solves (solve_entry / solve_functional): |estimate - x_i| <= error_bound;
 *   - PageRank: global scores sum to 1 and lie within the reported L1 bound of a power
 *     iteration done here (networkx's model: dangling mass to the personalization), the
 *     networkx value of the documented example; forward push 0 <= pi - p <= eps * d on an
 *     undirected graph (a hub source of degree > 1/eps included), sum p + residual = 1;
 *     backward push 0 <= pi_s(t) - p(s) <= bound for every source; pair within its bound;
 *   - Matrix Market text and files round-trip; CSR export equals the input;
 *   - every bad input (NULL, wrong lengths, NaN, non-square, out-of-range node, eps <= 0,
 *     alpha outside (0, 1), unknown codes, overlapping buffers, double free, a handle of the
 *     wrong type) returns its code and a message and writes nothing to any output;
 *   - threads: one matrix and one graph used by 4 threads at once give the single-thread
 *     bits, and both outlive the engine they were made on.
 * On the interpreted backend the solver is not in the wasm module yet: creating a matrix or
 * graph there must fail with FV_ERR_INVALID_MODULE (or, once it is, pass the same checks).
 * Built with -std=c11 -Wall -Wextra -Werror, run under ASan + UBSan by `make test-c`:
 *
 *     ./target/c/build/test_solver [TMP_DIR]   (default target/c, for the Matrix Market file)
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "check.h"
#include "ferrovec.h"

#define MAXN 64
#define MAXNNZ 512

/* ---- outputs of every refused call: poisoned before, must still be poisoned after ---- */

static struct {
    double x[MAXN];
    double y[MAXN];
    fv_solve_report solve;
    fv_jacobi_report jacobi;
    fv_local_solve_report local;
    fv_pagerank_report pagerank;
    fv_push_report push;
    fv_pair_report pair;
    uint32_t nodes[MAXN];
    double scores[MAXN];
    size_t count, rows, cols, nnz;
    fv_sparse_matrix *matrix;
    fv_graph *graph;
    uint8_t *bytes;
    size_t len;
    uint32_t indptr[MAXN + 1];
    uint32_t indices[MAXNNZ];
    double values[MAXNNZ];
} O;

static bool poisoned(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != 0xA5) return false;
    return true;
}

/* Expects `call` to fail with `code` and a message, and to leave every output untouched. */
#define REFUSED(code, call)                                                                \
    do {                                                                                   \
        memset(&O, 0xA5, sizeof O);                                                        \
        int32_t rc_ = (call);                                                              \
        CHECK(rc_ == (code), "%s returned %d, expected %d", #call, rc_, code);            \
        CHECK(strlen(fv_last_error_message()) > 0, "%s: no message", #call);              \
        CHECK(poisoned(&O, sizeof O), "%s wrote to an output", #call);                    \
    } while (0)

#define OK(call) CHECK((call) == FV_OK, "%s failed", #call)

/* ---- matrices built here, as triplets, with their dense copies for the references ---- */

typedef struct {
    size_t n_rows, n_cols, nnz;
    uint32_t rows[MAXNNZ], cols[MAXNNZ];
    double values[MAXNNZ];
    double dense[MAXN][MAXN];
} triplets;

static void add(triplets *t, uint32_t r, uint32_t c, double v) {
    t->rows[t->nnz] = r;
    t->cols[t->nnz] = c;
    t->values[t->nnz] = v;
    t->nnz++;
    t->dense[r][c] += v;
}

/* The 2D Poisson matrix on a g x g grid (SPD, not strictly diagonally dominant); the
 * diagonal is given as two triplets each, so duplicates must be summed. */
static void poisson(triplets *t, size_t g) {
    memset(t, 0, sizeof *t);
    t->n_rows = t->n_cols = g * g;
    for (size_t i = 0; i < g; i++)
        for (size_t j = 0; j < g; j++) {
            uint32_t k = (uint32_t)(i * g + j);
            add(t, k, k, 3.0);
            if (i > 0) add(t, k, k - (uint32_t)g, -1.0);
            if (j > 0) add(t, k, k - 1, -1.0);
            add(t, k, k, 1.0);
            if (j + 1 < g) add(t, k, k + 1, -1.0);
            if (i + 1 < g) add(t, k, k + (uint32_t)g, -1.0);
        }
}

/* A nonsymmetric, strictly diagonally dominant n x n matrix (off-diagonal row sums <= 2.2,
 * diagonal >= 4). */
static void dominant(triplets *t, size_t n) {
    memset(t, 0, sizeof *t);
    t->n_rows = t->n_cols = n;
    for (uint32_t i = 0; i < n; i++) {
        add(t, i, i, 4.0 + (double)(i % 3));
        if (i + 1 < n) add(t, i, i + 1, -1.0);
        if (i > 0) add(t, i, i - 1, -0.5);
        uint32_t j = (uint32_t)((i * 7 + 3) % n);
        if (j != i) add(t, i, j, (i % 2) ? 0.7 : -0.7);
    }
}

static void matvec(const triplets *t, const double *x, double *y) {
    for (size_t i = 0; i < t->n_rows; i++) {
        double s = 0;
        for (size_t j = 0; j < t->n_cols; j++) s += t->dense[i][j] * x[j];
        y[i] = s;
    }
}

static double norm2(const double *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i] * v[i];
    return sqrt(s);
}

/* ||b - A x|| / ||b||, recomputed here. */
static double residual(const triplets *t, const double *b, const double *x) {
    double ax[MAXN], r[MAXN];
    matvec(t, x, ax);
    for (size_t i = 0; i < t->n_rows; i++) r[i] = b[i] - ax[i];
    return norm2(r, t->n_rows) / norm2(b, t->n_rows);
}

/* x* of a strictly diagonally dominant system by 400 Jacobi sweeps done here (the error
 * contracts by q <= 0.55 per sweep: far below rounding). */
static void reference_solve(const triplets *t, const double *b, double *x) {
    size_t n = t->n_rows;
    double next[MAXN];
    for (size_t i = 0; i < n; i++) x[i] = 0;
    for (int it = 0; it < 400; it++) {
        for (size_t i = 0; i < n; i++) {
            double s = b[i];
            for (size_t j = 0; j < n; j++)
                if (j != i) s -= t->dense[i][j] * x[j];
            next[i] = s / t->dense[i][i];
        }
        memcpy(x, next, n * sizeof *x);
    }
}

static fv_sparse_matrix *make_matrix(const fv_engine *engine, const triplets *t) {
    fv_sparse_matrix *m = NULL;
    int32_t rc = fv_sparse_matrix_from_triplets(engine, t->n_rows, t->n_cols, t->rows, t->cols,
                                                t->values, t->nnz, &m);
    CHECK(rc == FV_OK && m != NULL, "from_triplets = %d", rc);
    return m;
}

/* ---- matrices: construction, export, Matrix Market ---- */

static void test_matrix_basics(const fv_engine *engine, const char *tmp_dir) {
    triplets *t = calloc(1, sizeof *t);
    poisson(t, 5);
    fv_sparse_matrix *m = make_matrix(engine, t);
    size_t rows = 0, cols = 0, nnz = 0;
    OK(fv_sparse_matrix_shape(m, &rows, &cols, &nnz));
    /* 25 diagonal entries (duplicates summed) + 2 * 2 * 5 * 4 neighbours */
    CHECK(rows == 25 && cols == 25 && nnz == 25 + 80, "shape %zu x %zu, nnz %zu", rows, cols, nnz);

    /* the CSR export is canonical and equals the dense matrix built here */
    uint32_t indptr[26], indices[105];
    double values[105];
    OK(fv_sparse_matrix_to_csr(m, indptr, 26, indices, values, 105));
    bool same = indptr[0] == 0 && indptr[25] == 105;
    for (size_t r = 0; r < 25; r++)
        for (uint32_t k = indptr[r]; k < indptr[r + 1]; k++) {
            same = same && values[k] == t->dense[r][indices[k]];
            if (k > indptr[r]) same = same && indices[k] > indices[k - 1];
        }
    CHECK(same, "to_csr differs from the triplets");

    /* from_csr of that export: the same matrix (mul_vec gives the same bits) */
    fv_sparse_matrix *m2 = NULL;
    OK(fv_sparse_matrix_from_csr(engine, 25, 25, indptr, 26, indices, values, 105, &m2));
    double x[25], y1[25], y2[25], yref[25];
    for (size_t i = 0; i < 25; i++) x[i] = sin((double)i);
    OK(fv_sparse_matrix_mul_vec(m, x, 25, y1, 25));
    OK(fv_sparse_matrix_mul_vec(m2, x, 25, y2, 25));
    matvec(t, x, yref);
    CHECK(memcmp(y1, y2, sizeof y1) == 0, "from_csr and from_triplets differ");
    double err = 0;
    for (size_t i = 0; i < 25; i++) err = fmax(err, fabs(y1[i] - yref[i]));
    CHECK(err <= 1e-13, "mul_vec error %g", err);

    /* unsorted CSR (row 0 reversed, a duplicate in row 1) is refused by from_csr and
     * accepted, summed, by from_csr_unsorted */
    uint32_t up[3] = {0, 2, 4}, ui[4] = {1, 0, 1, 1};
    double uv[4] = {2.0, 1.0, 3.0, 4.0};
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_from_csr(engine, 2, 2, up, 3, ui, uv, 4, &O.matrix));
    fv_sparse_matrix *mu = NULL;
    OK(fv_sparse_matrix_from_csr_unsorted(engine, 2, 2, up, 3, ui, uv, 4, &mu));
    double e0[2] = {1, 0}, e1[2] = {0, 1}, c0[2], c1[2];
    OK(fv_sparse_matrix_mul_vec(mu, e0, 2, c0, 2));
    OK(fv_sparse_matrix_mul_vec(mu, e1, 2, c1, 2));
    CHECK(c0[0] == 1.0 && c0[1] == 0.0 && c1[0] == 2.0 && c1[1] == 7.0,
          "unsorted CSR: [[%g %g] [%g %g]]", c0[0], c1[0], c0[1], c1[1]);
    OK(fv_sparse_matrix_free(mu));

    /* Matrix Market: text round trip (general and symmetric), then a file */
    uint8_t *text = NULL;
    size_t len = 0;
    OK(fv_sparse_matrix_to_matrix_market(m, FV_SYMMETRY_SYMMETRIC, &text, &len));
    CHECK(text != NULL && len > 30 && memcmp(text, "%%MatrixMarket", 14) == 0,
          "matrix market header");
    fv_sparse_matrix *m3 = NULL;
    OK(fv_sparse_matrix_from_matrix_market(engine, text, len, &m3));
    fv_bytes_free(text, len);
    double y3[25];
    OK(fv_sparse_matrix_mul_vec(m3, x, 25, y3, 25));
    CHECK(memcmp(y1, y3, sizeof y1) == 0, "matrix market round trip changed the matrix");
    char path[512];
    snprintf(path, sizeof path, "%s/test_solver.mtx", tmp_dir);
    OK(fv_sparse_matrix_write_matrix_market(m, path, FV_SYMMETRY_GENERAL));
    fv_sparse_matrix *m4 = NULL;
    OK(fv_sparse_matrix_read_matrix_market(engine, path, &m4));
    OK(fv_sparse_matrix_mul_vec(m4, x, 25, y3, 25));
    CHECK(memcmp(y1, y3, sizeof y1) == 0, "matrix market file changed the matrix");
    remove(path);

    /* bad construction: nothing is created, *out untouched */
    uint32_t r3[3] = {0, 1, 2}, c3[3] = {0, 1, 2};
    double v3[3] = {1, 2, 3};
    REFUSED(FV_ERR_NULL_POINTER,
            fv_sparse_matrix_from_triplets(NULL, 3, 3, r3, c3, v3, 3, &O.matrix));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_from_triplets(engine, 3, 3, r3, c3, v3, 3, NULL));
    REFUSED(FV_ERR_NULL_POINTER,
            fv_sparse_matrix_from_triplets(engine, 3, 3, NULL, c3, v3, 3, &O.matrix));
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* row 2 out of range for 2 rows */
            fv_sparse_matrix_from_triplets(engine, 2, 3, r3, c3, v3, 3, &O.matrix));
    v3[1] = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_from_triplets(engine, 3, 3, r3, c3, v3, 3, &O.matrix));
    v3[1] = INFINITY;
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_from_triplets(engine, 3, 3, r3, c3, v3, 3, &O.matrix));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, /* indptr must have n_rows + 1 entries */
            fv_sparse_matrix_from_csr(engine, 25, 25, indptr, 25, indices, values, 105, &O.matrix));
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* indptr[25] = 105 != nnz */
            fv_sparse_matrix_from_csr(engine, 25, 25, indptr, 26, indices, values, 100, &O.matrix));
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* column 24 out of range for 20 columns */
            fv_sparse_matrix_from_csr(engine, 25, 20, indptr, 26, indices, values, 105, &O.matrix));
    values[7] = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_from_csr(engine, 25, 25, indptr, 26, indices, values, 105, &O.matrix));
    static const char corrupt[] = "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n";
    REFUSED(FV_ERR_CORRUPT_FILE, fv_sparse_matrix_from_matrix_market(
                                     engine, (const uint8_t *)corrupt, strlen(corrupt), &O.matrix));
    static const char bad_entry[] = "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n";
    REFUSED(FV_ERR_CORRUPT_FILE,
            fv_sparse_matrix_from_matrix_market(engine, (const uint8_t *)bad_entry,
                                                strlen(bad_entry), &O.matrix));
    snprintf(path, sizeof path, "%s/no/such/dir/x.mtx", tmp_dir);
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_read_matrix_market(engine, path, &O.matrix));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_read_matrix_market(engine, NULL, &O.matrix));

    /* bad queries */
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_shape(NULL, &O.rows, &O.cols, &O.nnz));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_shape(m, &O.rows, NULL, &O.nnz));
    REFUSED(FV_ERR_DIMENSION_MISMATCH,
            fv_sparse_matrix_to_csr(m, O.indptr, 25, O.indices, O.values, 105));
    REFUSED(FV_ERR_DIMENSION_MISMATCH,
            fv_sparse_matrix_to_csr(m, O.indptr, 26, O.indices, O.values, 104));
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* indices and values overlap */
            fv_sparse_matrix_to_csr(m, O.indptr, 26, (uint32_t *)O.values, O.values, 105));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_mul_vec(m, x, 24, O.y, 25));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_mul_vec(m, x, 25, O.y, 26));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_mul_vec(m, x, 25, NULL, 25));
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_mul_vec(m, O.y, 25, O.y + 3, 25));
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_to_matrix_market(m, 7, &O.bytes, &O.len)); /* unknown symmetry */
    REFUSED(FV_ERR_NULL_POINTER,
            fv_sparse_matrix_to_matrix_market(m, FV_SYMMETRY_GENERAL, NULL, &O.len));
    triplets *d = calloc(1, sizeof *d);
    dominant(d, 12);
    fv_sparse_matrix *nonsym = make_matrix(engine, d);
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* not symmetric: named entry */
            fv_sparse_matrix_to_matrix_market(nonsym, FV_SYMMETRY_SYMMETRIC, &O.bytes, &O.len));
    snprintf(path, sizeof path, "%s/test_solver_sym.mtx", tmp_dir);
    CHECK(fv_sparse_matrix_write_matrix_market(nonsym, path, FV_SYMMETRY_SYMMETRIC) ==
              FV_ERR_INVALID_ARGUMENT,
          "writing a nonsymmetric matrix as symmetric");
    FILE *f = fopen(path, "r");
    CHECK(f == NULL, "a refused write left a file behind");
    if (f) fclose(f);

    /* handles: NULL free is a no-op, a double free and a wrong-type handle are detected */
    CHECK(fv_sparse_matrix_free(NULL) == FV_OK, "free(NULL)");
    OK(fv_sparse_matrix_free(m4));
    CHECK(fv_sparse_matrix_free(m4) == FV_ERR_INVALID_HANDLE, "double free");
    REFUSED(FV_ERR_INVALID_HANDLE, fv_sparse_matrix_shape(m4, &O.rows, &O.cols, &O.nnz));
    REFUSED(FV_ERR_INVALID_HANDLE, fv_graph_size((const fv_graph *)m, &O.rows, &O.cols));
    CHECK(fv_graph_free((fv_graph *)m) == FV_ERR_INVALID_HANDLE, "graph_free(matrix)");

    fv_sparse_matrix_free(nonsym);
    fv_sparse_matrix_free(m3);
    fv_sparse_matrix_free(m2);
    fv_sparse_matrix_free(m);
    free(d);
    free(t);
}

/* ---- matrices: the solvers ---- */

static void check_solution(const char *what, const triplets *t, const double *b, const double *x,
                           const fv_solve_report *r, double rtol) {
    double res = residual(t, b, x);
    CHECK(fabs(res - r->relative_residual) <= 1e-12 + 1e-6 * res,
          "%s: reported residual %g, recomputed %g", what, r->relative_residual, res);
    if (r->converged) {
        CHECK(res <= rtol * (1 + 1e-6), "%s: converged with residual %g > rtol %g", what, res,
              rtol);
        CHECK(r->stop == FV_STOP_CONVERGED, "%s: converged but stop %d", what, r->stop);
    } else {
        CHECK(r->stop != FV_STOP_CONVERGED, "%s: not converged but stop CONVERGED", what);
    }
}

static void test_solvers(const fv_engine *engine) {
    triplets *p = calloc(1, sizeof *p), *d = calloc(1, sizeof *d);
    poisson(p, 6);   /* n = 36 */
    dominant(d, 40); /* n = 40 */
    fv_sparse_matrix *mp = make_matrix(engine, p), *md = make_matrix(engine, d);
    double b[MAXN], x[MAXN], xref[MAXN];
    for (size_t i = 0; i < MAXN; i++) b[i] = 1.0 + cos(0.3 * (double)i);

    /* CG on Poisson, with and without the Jacobi preconditioner */
    fv_solve_options o = fv_solve_options_default();
    CHECK(o.rtol == 1e-5 && o.max_iterations < 0 && o.x0 == NULL &&
              o.preconditioner == FV_PRECONDITIONER_NONE && o.symmetry_tolerance < 0,
          "solve defaults");
    o.rtol = 1e-10;
    fv_solve_report r;
    OK(fv_sparse_matrix_cg(mp, b, 36, &o, x, 36, &r));
    CHECK(r.converged && r.iterations > 0 && r.iterations <= 360, "cg: %zu iterations",
          r.iterations);
    check_solution("cg", p, b, x, &r, 1e-10);
    o.preconditioner = FV_PRECONDITIONER_JACOBI;
    o.symmetry_tolerance = 1e-10;
    OK(fv_sparse_matrix_cg(mp, b, 36, &o, x, 36, &r));
    CHECK(r.converged, "pcg converged");
    check_solution("pcg", p, b, x, &r, 1e-10);

    /* the default options (NULL): rtol 1e-5 */
    OK(fv_sparse_matrix_cg(mp, b, 36, NULL, x, 36, &r));
    CHECK(r.converged, "cg defaults");
    check_solution("cg defaults", p, b, x, &r, 1e-5);

    /* a budget that runs out: x is the last iterate, the report says so */
    o = fv_solve_options_default();
    o.rtol = 1e-12;
    o.max_iterations = 3;
    OK(fv_sparse_matrix_cg(mp, b, 36, &o, x, 36, &r));
    CHECK(!r.converged && r.stop == FV_STOP_MAX_ITERATIONS && r.iterations == 3,
          "cg budget: converged %d stop %d iterations %zu", r.converged, r.stop, r.iterations);
    check_solution("cg budget", p, b, x, &r, 1e-12);
    CHECK(r.relative_residual > 1e-12, "cg budget: residual %g", r.relative_residual);

    /* starting from the answer of a tight solve: converged at once */
    o = fv_solve_options_default();
    o.rtol = 1e-10;
    OK(fv_sparse_matrix_cg(mp, b, 36, &o, xref, 36, &r));
    o.x0 = xref;
    o.n_x0 = 36;
    OK(fv_sparse_matrix_cg(mp, b, 36, &o, x, 36, &r));
    CHECK(r.converged && r.iterations == 0, "cg from x*: %zu iterations", r.iterations);
    check_solution("cg from x*", p, b, x, &r, 1e-10);

    /* b = 0: x = 0 with residual 0 */
    double zero[36] = {0};
    OK(fv_sparse_matrix_cg(mp, zero, 36, NULL, x, 36, &r));
    bool all_zero = true;
    for (size_t i = 0; i < 36; i++) all_zero = all_zero && x[i] == 0;
    CHECK(all_zero && r.relative_residual == 0 && r.converged, "cg b = 0");

    /* BiCGSTAB on the nonsymmetric matrix, against the reference solution */
    o = fv_solve_options_default();
    o.rtol = 1e-11;
    OK(fv_sparse_matrix_bicgstab(md, b, 40, &o, x, 40, &r));
    CHECK(r.converged, "bicgstab converged");
    check_solution("bicgstab", d, b, x, &r, 1e-11);
    reference_solve(d, b, xref);
    double err = 0;
    for (size_t i = 0; i < 40; i++) err = fmax(err, fabs(x[i] - xref[i]));
    CHECK(err < 1e-9, "bicgstab vs reference: %g", err);

    /* Jacobi: residual, contraction and error bound checked here */
    fv_jacobi_report jr;
    o.rtol = 1e-6;
    OK(fv_sparse_matrix_jacobi(md, b, 40, &o, x, 40, &jr));
    CHECK(jr.solve.converged, "jacobi converged");
    check_solution("jacobi", d, b, x, &jr.solve, 1e-6);
    double q = 0;
    for (size_t i = 0; i < 40; i++) {
        double s = 0;
        for (size_t j = 0; j < 40; j++)
            if (j != i) s += fabs(d->dense[i][j]);
        q = fmax(q, s / fabs(d->dense[i][i]));
    }
    CHECK(fabs(jr.contraction - q) <= 1e-15, "jacobi contraction %g, computed %g", jr.contraction,
          q);
    err = 0;
    for (size_t i = 0; i < 40; i++) err = fmax(err, fabs(x[i] - xref[i]));
    CHECK(err <= jr.error_bound * (1 + 1e-9) + 1e-15, "jacobi error %g > bound %g", err,
          jr.error_bound);
    CHECK(jr.error_bound < 1e-4, "jacobi bound %g", jr.error_bound);
    o.max_iterations = 2;
    OK(fv_sparse_matrix_jacobi(md, b, 40, &o, x, 40, &jr));
    CHECK(!jr.solve.converged && jr.solve.stop == FV_STOP_MAX_ITERATIONS, "jacobi budget");
    err = 0;
    for (size_t i = 0; i < 40; i++) err = fmax(err, fabs(x[i] - xref[i]));
    CHECK(err <= jr.error_bound * (1 + 1e-9), "jacobi budget: error %g > bound %g", err,
          jr.error_bound);

    /* local solves: x_i and u^T x within their bounds, dense and sparse b */
    fv_local_solve_options lo = fv_local_solve_options_default();
    CHECK(lo.tol == 1e-6 && lo.dominance < 0 && lo.c_max < 0 && lo.walks == 0, "local defaults");
    lo.tol = 1e-9;
    fv_rhs rhs = fv_rhs_dense(b, 40);
    fv_local_solve_report lr;
    for (size_t i = 0; i < 40; i += 13) {
        OK(fv_sparse_matrix_solve_entry(md, &rhs, i, &lo, &lr));
        CHECK(lr.converged && lr.stop == FV_STOP_CONVERGED && lr.push_bound <= 1e-9,
              "solve_entry %zu: converged %d bound %g", i, lr.converged, lr.push_bound);
        CHECK(fabs(lr.estimate - xref[i]) <= lr.error_bound + 1e-12,
              "solve_entry %zu: |%g - %g| > %g", i, lr.estimate, xref[i], lr.error_bound);
        CHECK(lr.pushes > 0 && lr.work > 0 && lr.touched > 0 && lr.rows_read <= 40 &&
                  lr.q > 0 && lr.q < 1,
              "solve_entry %zu: report", i);
    }
    /* walks (seeded): deterministic, and still within the bound */
    lo.tol = 1e-3;
    lo.walks = 2000;
    lo.seed = 42;
    fv_local_solve_report lr2;
    OK(fv_sparse_matrix_solve_entry(md, &rhs, 5, &lo, &lr));
    OK(fv_sparse_matrix_solve_entry(md, &rhs, 5, &lo, &lr2));
    CHECK(lr.estimate == lr2.estimate && lr.walks == 2000, "walks: deterministic");
    CHECK(fabs(lr.estimate - xref[5]) <= lr.error_bound + 1e-12, "walks: |%g - %g| > %g",
          lr.estimate, xref[5], lr.error_bound);
    /* u^T x with a sparse b: b = e_3 + 2 e_17, u = e_0 - e_9 */
    uint32_t bi[2] = {17, 3}, ui[2] = {0, 9};
    double bv[2] = {2.0, 1.0}, uv[2] = {1.0, -1.0}, bdense[40] = {0};
    bdense[3] = 1.0;
    bdense[17] = 2.0;
    reference_solve(d, bdense, xref);
    fv_rhs sparse_rhs = fv_rhs_sparse(bi, bv, 2);
    lo = fv_local_solve_options_default();
    lo.tol = 1e-10;
    OK(fv_sparse_matrix_solve_functional(md, &sparse_rhs, ui, uv, 2, &lo, &lr));
    double truth = xref[0] - xref[9];
    CHECK(fabs(lr.estimate - truth) <= lr.error_bound + 1e-13, "functional: |%g - %g| > %g",
          lr.estimate, truth, lr.error_bound);
    /* a push budget: not converged, bound still honest */
    lo.max_pushes = 3;
    OK(fv_sparse_matrix_solve_functional(md, &sparse_rhs, ui, uv, 2, &lo, &lr));
    CHECK(!lr.converged && lr.stop == FV_STOP_MAX_WORK && lr.pushes == 3,
          "functional budget: converged %d stop %d pushes %llu", lr.converged, lr.stop,
          (unsigned long long)lr.pushes);
    CHECK(fabs(lr.estimate - truth) <= lr.error_bound + 1e-13, "functional budget bound");

    /* ---- every bad input: an error code, a message, and nothing written ---- */
    o = fv_solve_options_default();
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_cg(NULL, b, 36, &o, O.x, 36, &O.solve));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_cg(mp, NULL, 36, &o, O.x, 36, &O.solve));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_cg(mp, b, 36, &o, NULL, 36, &O.solve));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, NULL));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_cg(mp, b, 35, &o, O.x, 36, &O.solve));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 37, &O.solve));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_jacobi(md, b, 40, &o, O.x, 39, &O.jacobi));
    double bnan[40];
    memcpy(bnan, b, sizeof bnan);
    bnan[11] = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, bnan, 36, &o, O.x, 36, &O.solve));
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_bicgstab(md, bnan, 40, &o, O.x, 40, &O.solve));
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_jacobi(md, bnan, 40, &o, O.x, 40, &O.jacobi));
    bnan[11] = -INFINITY;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, bnan, 36, &o, O.x, 36, &O.solve));
    double bad_rtols[4] = {0.0, -1e-3, 1.0, NAN};
    for (int i = 0; i < 4; i++) {
        o.rtol = bad_rtols[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, &O.solve));
    }
    o = fv_solve_options_default();
    o.preconditioner = 5;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, &O.solve));
    o = fv_solve_options_default();
    o.symmetry_tolerance = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, &O.solve));
    o.symmetry_tolerance = 1e-10; /* the nonsymmetric matrix fails CG's symmetry check */
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(md, b, 40, &o, O.x, 40, &O.solve));
    o = fv_solve_options_default();
    o.x0 = b;
    o.n_x0 = 35;
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, &O.solve));
    o.x0 = bnan;
    o.n_x0 = 36;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, &O.solve));
    o.x0 = NULL;
    /* outputs overlapping inputs or each other */
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, O.x, 36, &o, O.x + 5, 36, &O.solve));
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, (fv_solve_report *)(O.x + 4)));
    o.x0 = O.x;
    o.n_x0 = 36;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mp, b, 36, &o, O.x, 36, &O.solve));
    o = fv_solve_options_default();
    /* non-square */
    triplets *ns = calloc(1, sizeof *ns);
    ns->n_rows = 3;
    ns->n_cols = 4;
    add(ns, 0, 0, 1.0);
    add(ns, 1, 1, 1.0);
    add(ns, 2, 3, 1.0);
    fv_sparse_matrix *mns = make_matrix(engine, ns);
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_cg(mns, b, 3, &o, O.x, 4, &O.solve));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_bicgstab(mns, b, 3, &o, O.x, 4, &O.solve));
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_jacobi(mns, b, 3, &o, O.x, 4, &O.jacobi));
    rhs = fv_rhs_dense(b, 3);
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_solve_entry(mns, &rhs, 0, NULL, &O.local));
    /* an empty system */
    fv_sparse_matrix *mempty = NULL;
    OK(fv_sparse_matrix_from_triplets(engine, 0, 0, NULL, NULL, NULL, 0, &mempty));
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_cg(mempty, NULL, 0, &o, O.x, 0, &O.solve));
    /* Jacobi's precondition: Poisson is not strictly diagonally dominant */
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_jacobi(mp, b, 36, &o, O.x, 36, &O.jacobi));
    /* a zero diagonal */
    triplets *zd = calloc(1, sizeof *zd);
    zd->n_rows = zd->n_cols = 2;
    add(zd, 0, 1, 1.0);
    add(zd, 1, 0, 1.0);
    add(zd, 1, 1, 3.0);
    fv_sparse_matrix *mzd = make_matrix(engine, zd);
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_jacobi(mzd, b, 2, &o, O.x, 2, &O.jacobi));
    rhs = fv_rhs_dense(b, 2);
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(mzd, &rhs, 0, NULL, &O.local));
    /* local solves */
    rhs = fv_rhs_dense(b, 40);
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 40, NULL, &O.local));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_solve_entry(md, NULL, 0, NULL, &O.local));
    REFUSED(FV_ERR_NULL_POINTER, fv_sparse_matrix_solve_entry(md, &rhs, 0, NULL, NULL));
    lo = fv_local_solve_options_default();
    double bad_tols[4] = {0.0, -1.0, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        lo.tol = bad_tols[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 0, &lo, &O.local));
    }
    lo = fv_local_solve_options_default();
    lo.dominance = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 0, &lo, &O.local));
    lo.dominance = 1.0;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 0, &lo, &O.local));
    lo = fv_local_solve_options_default();
    lo.failure_probability = 1.5;
    lo.walks = 10;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 0, &lo, &O.local));
    rhs = fv_rhs_dense(bnan, 40);
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 0, NULL, &O.local));
    rhs = fv_rhs_dense(b, 39);
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_sparse_matrix_solve_entry(md, &rhs, 0, NULL, &O.local));
    rhs.kind = 9;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_sparse_matrix_solve_entry(md, &rhs, 0, NULL, &O.local));
    uint32_t bad_idx[2] = {3, 40};
    sparse_rhs = fv_rhs_sparse(bad_idx, bv, 2);
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_solve_entry(md, &sparse_rhs, 0, NULL, &O.local));
    sparse_rhs = fv_rhs_sparse(bi, bv, 2);
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* u index out of range */
            fv_sparse_matrix_solve_functional(md, &sparse_rhs, bad_idx, uv, 2, NULL, &O.local));
    REFUSED(FV_ERR_NULL_POINTER,
            fv_sparse_matrix_solve_functional(md, &sparse_rhs, NULL, uv, 2, NULL, &O.local));
    sparse_rhs = fv_rhs_sparse(bi, O.values, 2); /* b's values overlap the report */
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_sparse_matrix_solve_entry(md, &sparse_rhs, 0, NULL,
                                         (fv_local_solve_report *)O.values));

    fv_sparse_matrix_free(mzd);
    fv_sparse_matrix_free(mempty);
    fv_sparse_matrix_free(mns);
    fv_sparse_matrix_free(md);
    fv_sparse_matrix_free(mp);
    free(zd);
    free(ns);
    free(d);
    free(p);
}

/* ---- graphs: references by power iteration done here ---- */

typedef struct {
    size_t n, m;
    uint32_t src[MAXNNZ], dst[MAXNNZ];
    double w[MAXNNZ];
} cgraph;

static void edge(cgraph *g, uint32_t u, uint32_t v, double w) {
    g->src[g->m] = u;
    g->dst[g->m] = v;
    g->w[g->m] = w;
    g->m++;
}

/* PageRank in networkx's model: x = alpha (P^T x + dangling mass * dang) + (1 - alpha) s,
 * by 600 iterations from s (error alpha^600: nothing). `s` and `dang` sum to 1. */
static void pagerank_ref(const cgraph *g, double alpha, const double *s, const double *dang,
                         double *x) {
    double W[MAXN] = {0}, next[MAXN];
    for (size_t e = 0; e < g->m; e++) W[g->src[e]] += g->w[e];
    memcpy(x, s, g->n * sizeof *x);
    for (int it = 0; it < 600; it++) {
        double dmass = 0;
        for (size_t u = 0; u < g->n; u++) {
            next[u] = 0;
            if (W[u] == 0) dmass += x[u];
        }
        for (size_t e = 0; e < g->m; e++)
            next[g->dst[e]] += alpha * x[g->src[e]] * g->w[e] / W[g->src[e]];
        for (size_t v = 0; v < g->n; v++) next[v] += alpha * dmass * dang[v] + (1 - alpha) * s[v];
        memcpy(x, next, g->n * sizeof *x);
    }
}

/* Personalized PageRank of one source (dangling mass back to the source, networkx's rule). */
static void ppr_ref(const cgraph *g, double alpha, uint32_t source, double *x) {
    double s[MAXN] = {0};
    s[source] = 1.0;
    pagerank_ref(g, alpha, s, s, x);
}

static fv_graph *make_graph(const fv_engine *engine, const cgraph *g, bool weighted) {
    fv_graph *h = NULL;
    int32_t rc = fv_graph_from_edges(engine, g->n, g->src, g->dst, weighted ? g->w : NULL, g->m, &h);
    CHECK(rc == FV_OK && h != NULL, "from_edges = %d", rc);
    return h;
}

/* Undirected, unweighted: a ring of 12 with chords, plus a hub (node 12) joined to 40 leaves
 * (nodes 13..52) and to node 0. Every node has out-degree = degree (d). */
static void undirected(cgraph *g) {
    memset(g, 0, sizeof *g);
    g->n = 53;
    for (uint32_t i = 0; i < 12; i++) {
        edge(g, i, (i + 1) % 12, 1);
        edge(g, (i + 1) % 12, i, 1);
        if (i % 3 == 0) {
            edge(g, i, (i + 5) % 12, 1);
            edge(g, (i + 5) % 12, i, 1);
        }
    }
    edge(g, 12, 0, 1);
    edge(g, 0, 12, 1);
    for (uint32_t leaf = 13; leaf < 53; leaf++) {
        edge(g, 12, leaf, 1);
        edge(g, leaf, 12, 1);
    }
}

/* Directed, weighted, with a repeated edge, a self-loop and two dangling nodes (7, 8). */
static void directed(cgraph *g) {
    memset(g, 0, sizeof *g);
    g->n = 9;
    static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 4}, {4, 5}, {5, 3},
                                    {5, 6}, {6, 0}, {6, 7}, {1, 8}, {4, 4}, {0, 1}, {3, 6}};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        edge(g, e[i][0], e[i][1], 0.5 + (double)((i * 5) % 7) / 4.0);
}

static void check_sorted(const char *what, const uint32_t *nodes, const double *scores,
                         size_t count) {
    for (size_t i = 1; i < count; i++)
        CHECK(scores[i] < scores[i - 1] || (scores[i] == scores[i - 1] && nodes[i] > nodes[i - 1]),
              "%s: not sorted at %zu", what, i);
}

static void test_graphs(const fv_engine *engine) {
    cgraph *u = calloc(1, sizeof *u), *dg = calloc(1, sizeof *dg);
    undirected(u);
    directed(dg);
    fv_graph *gu = make_graph(engine, u, false), *gd = make_graph(engine, dg, true);
    size_t nodes = 0, edges = 0;
    OK(fv_graph_size(gu, &nodes, &edges));
    CHECK(nodes == 53 && edges == u->m, "size %zu nodes %zu edges", nodes, edges);
    OK(fv_graph_size(gd, &nodes, &edges));
    CHECK(nodes == 9 && edges == dg->m - 1, "directed: %zu edges (one repeated)", edges);
    double deg[MAXN] = {0};
    for (size_t e = 0; e < u->m; e++) deg[u->src[e]] += 1;

    /* networkx's value for the documented example (0->1, 1->2, 2->0, 2->3) */
    uint32_t xs[4] = {0, 1, 2, 2}, xd[4] = {1, 2, 0, 3};
    fv_graph *gx = NULL;
    OK(fv_graph_from_edges(engine, 4, xs, xd, NULL, 4, &gx));
    double scores[MAXN];
    fv_pagerank_report pr;
    OK(fv_graph_pagerank(gx, NULL, scores, 4, &pr));
    CHECK(pr.converged && pr.stop == FV_STOP_CONVERGED && fabs(scores[2] - 0.3078526047028215) < 1e-12,
          "networkx example: %.16g", scores[2]);
    fv_graph_free(gx);

    /* global PageRank (weighted, dangling nodes): sums to 1, within its bound of the
     * reference; personalized by a sparse distribution, and the tight-tolerance run */
    double uni[MAXN], ref[MAXN];
    for (size_t v = 0; v < 9; v++) uni[v] = 1.0 / 9;
    pagerank_ref(dg, 0.85, uni, uni, ref);
    OK(fv_graph_pagerank(gd, NULL, scores, 9, &pr));
    double sum = 0, l1 = 0;
    for (size_t v = 0; v < 9; v++) {
        sum += scores[v];
        l1 += fabs(scores[v] - ref[v]);
    }
    CHECK(fabs(sum - 1) < 1e-12, "pagerank sum %.17g", sum);
    CHECK(pr.converged && l1 <= pr.error_bound + 1e-12, "pagerank: L1 %g > bound %g", l1,
          pr.error_bound);
    fv_pagerank_options po = fv_pagerank_options_default();
    CHECK(po.alpha == 0.85 && po.tol == 1e-6 && po.max_iter == 100 &&
              po.personalization.kind == FV_DIST_DEFAULT,
          "pagerank defaults");
    uint32_t pn[2] = {4, 1};
    double pw[2] = {3.0, 1.0}, s[MAXN] = {0};
    s[4] = 0.75;
    s[1] = 0.25;
    po.personalization = fv_distribution_sparse(pn, pw, 2);
    po.alpha = 0.7;
    po.tol = 1e-15;
    po.max_iter = 1000;
    pagerank_ref(dg, 0.7, s, s, ref);
    OK(fv_graph_pagerank(gd, &po, scores, 9, &pr));
    l1 = 0;
    sum = 0;
    for (size_t v = 0; v < 9; v++) {
        sum += scores[v];
        l1 += fabs(scores[v] - ref[v]);
    }
    CHECK(fabs(sum - 1) < 1e-12 && l1 < 1e-12 && l1 <= pr.error_bound + 1e-13,
          "personalized pagerank: sum %.17g, L1 %g, bound %g", sum, l1, pr.error_bound);
    /* a budget: not converged, the bound still holds */
    po.max_iter = 3;
    OK(fv_graph_pagerank(gd, &po, scores, 9, &pr));
    l1 = 0;
    for (size_t v = 0; v < 9; v++) l1 += fabs(scores[v] - ref[v]);
    CHECK(!pr.converged && pr.stop == FV_STOP_MAX_ITERATIONS && pr.iterations == 3 &&
              l1 <= pr.error_bound + 1e-13,
          "pagerank budget: L1 %g, bound %g", l1, pr.error_bound);

    /* from_csr gives the same graph as from_edges: the same bits */
    uint32_t indptr[10] = {0}, indices[MAXNNZ];
    double weights[MAXNNZ];
    for (size_t e = 0; e < dg->m; e++) indptr[dg->src[e] + 1]++;
    for (size_t v = 0; v < 9; v++) indptr[v + 1] += indptr[v];
    uint32_t fill[9];
    memcpy(fill, indptr, sizeof fill);
    for (size_t e = 0; e < dg->m; e++) {
        indices[fill[dg->src[e]]] = dg->dst[e];
        weights[fill[dg->src[e]]++] = dg->w[e];
    }
    fv_graph *gc = NULL;
    OK(fv_graph_from_csr(engine, 9, indptr, 10, indices, weights, dg->m, &gc));
    double scores2[MAXN];
    OK(fv_graph_pagerank(gd, NULL, scores, 9, &pr));
    OK(fv_graph_pagerank(gc, NULL, scores2, 9, &pr));
    CHECK(memcmp(scores, scores2, 9 * sizeof *scores) == 0, "from_csr != from_edges");
    fv_graph_free(gc);

    /* forward push on the undirected graph: 0 <= pi - p <= eps * d(v) for every node, the
     * gaps sum to the residual mass, sum p + residual = 1; sources: a ring node and the hub
     * (degree 41 > 1/eps = 20) */
    uint32_t sources[2] = {3, 12};
    double eps_list[2] = {0.05, 1e-4};
    for (size_t si = 0; si < 2; si++)
        for (size_t ei = 0; ei < 2; ei++) {
            uint32_t src = sources[si];
            double eps = eps_list[ei];
            double pi[MAXN], p[MAXN] = {0};
            ppr_ref(u, 0.85, src, pi);
            fv_push_options fo = fv_push_options_default();
            CHECK(fo.alpha == 0.85 && fo.eps == 1e-4, "push defaults");
            fo.eps = eps;
            fv_distribution source = fv_distribution_node(src);
            uint32_t out_nodes[MAXN];
            double out_scores[MAXN];
            size_t count = 0;
            fv_push_report rep;
            OK(fv_graph_forward_push(gu, &source, &fo, out_nodes, out_scores, MAXN, &count, &rep));
            CHECK(rep.converged && rep.stop == FV_STOP_CONVERGED && count == rep.nonzero &&
                      count > 0 && rep.touched >= count && rep.pushes > 0 && rep.work > 0,
                  "forward push %u eps %g: report", src, eps);
            check_sorted("forward push", out_nodes, out_scores, count);
            double psum = 0, gap = 0, worst = 0;
            for (size_t i = 0; i < count; i++) {
                p[out_nodes[i]] = out_scores[i];
                psum += out_scores[i];
            }
            bool bound = true;
            for (size_t v = 0; v < 53; v++) {
                double diff = pi[v] - p[v];
                gap += diff;
                bound = bound && diff >= -1e-13 && diff <= eps * deg[v] + 1e-13;
                worst = fmax(worst, diff / (eps * deg[v]));
            }
            CHECK(bound, "forward push %u eps %g: 0 <= pi - p <= eps d fails (worst ratio %g)",
                  src, eps, worst);
            CHECK(fabs(gap - rep.residual_mass) < 1e-12 && fabs(psum + rep.residual_mass - 1) < 1e-12,
                  "forward push %u eps %g: gap %g vs residual %g, sum %g", src, eps, gap,
                  rep.residual_mass, psum);
            /* the top-3 are the first three of the full list; cap 0 gives the report alone */
            uint32_t top_nodes[3];
            double top_scores[3];
            size_t top_count = 0;
            fv_push_report rep3;
            OK(fv_graph_forward_push(gu, &source, &fo, top_nodes, top_scores, 3, &top_count, &rep3));
            size_t top = count < 3 ? count : 3;
            CHECK(top_count == top &&
                      memcmp(top_nodes, out_nodes, top * sizeof *top_nodes) == 0 &&
                      memcmp(top_scores, out_scores, top * sizeof *top_scores) == 0 &&
                      rep3.nonzero == rep.nonzero,
                  "forward push %u eps %g top-3: count %zu of %zu", src, eps, top_count, count);
            if (src == 12 && eps == 0.05)
                CHECK(count == 1 && out_nodes[0] == 12 && out_scores[0] == 1 - 0.85 &&
                          rep.pushes == 1,
                      "hub: pushed once, count %zu", count);
            OK(fv_graph_forward_push(gu, &source, &fo, NULL, NULL, 0, &top_count, &rep3));
            CHECK(top_count == 0 && rep3.nonzero == rep.nonzero, "forward push cap 0");
        }

    /* a push budget: not converged, estimates still lower bounds */
    {
        fv_push_options fo = fv_push_options_default();
        fo.max_pushes = 2;
        fv_distribution source = fv_distribution_node(0);
        uint32_t out_nodes[MAXN];
        double out_scores[MAXN], pi[MAXN];
        size_t count = 0;
        fv_push_report rep;
        OK(fv_graph_forward_push(gu, &source, &fo, out_nodes, out_scores, MAXN, &count, &rep));
        ppr_ref(u, 0.85, 0, pi);
        bool lower = true;
        for (size_t i = 0; i < count; i++) lower = lower && out_scores[i] <= pi[out_nodes[i]] + 1e-13;
        CHECK(!rep.converged && rep.stop == FV_STOP_MAX_WORK && rep.pushes == 2 && lower,
              "forward push budget");
    }

    /* backward push to a target on the directed weighted graph with dangling nodes:
     * 0 <= pi_s(t) - p(s) <= bound for every source s */
    for (uint32_t target = 0; target < 9; target += 4) {
        fv_backward_push_options bo = fv_backward_push_options_default();
        bo.r_max = 1e-6;
        uint32_t out_nodes[MAXN];
        double out_scores[MAXN], p[MAXN] = {0};
        size_t count = 0;
        fv_push_report rep;
        OK(fv_graph_backward_push(gd, target, &bo, out_nodes, out_scores, MAXN, &count, &rep));
        CHECK(rep.converged && count == rep.nonzero, "backward push %u: report", target);
        check_sorted("backward push", out_nodes, out_scores, count);
        for (size_t i = 0; i < count; i++) p[out_nodes[i]] = out_scores[i];
        bool bound = true;
        for (uint32_t src = 0; src < 9; src++) {
            double pi[MAXN];
            ppr_ref(dg, 0.85, src, pi);
            double diff = pi[target] - p[src];
            bound = bound && diff >= -1e-12 && diff <= rep.error_bound + 1e-12;
        }
        CHECK(bound && rep.error_bound < 1e-4, "backward push %u: bound %g fails", target,
              rep.error_bound);
    }

    /* pair: within its bound (seeded, so deterministic) */
    {
        fv_pair_options pa = fv_pair_options_default();
        pa.walks = 20000;
        pa.seed = 7;
        pa.r_max = 1e-3;
        fv_pair_report a, b;
        OK(fv_graph_pair(gd, 1, 5, &pa, &a));
        OK(fv_graph_pair(gd, 1, 5, &pa, &b));
        double pi[MAXN];
        ppr_ref(dg, 0.85, 1, pi);
        CHECK(a.estimate == b.estimate && a.walks == 20000 && a.converged,
              "pair: deterministic and complete");
        CHECK(fabs(a.estimate - pi[5]) <= a.error_bound && a.push_estimate <= pi[5] + 1e-12 &&
                  pi[5] - a.push_estimate <= a.push_bound + 1e-12,
              "pair: estimate %g push %g truth %g bounds %g %g", a.estimate, a.push_estimate,
              pi[5], a.error_bound, a.push_bound);
    }

    /* ---- bad input: a code, a message, nothing written ---- */
    uint32_t bs[2] = {0, 9}, bd[2] = {1, 2};
    double bw[2] = {1.0, -1.0};
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_from_edges(engine, 9, bs, bd, NULL, 2, &O.graph));
    bs[1] = 1;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_from_edges(engine, 9, bs, bd, bw, 2, &O.graph));
    bw[1] = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_from_edges(engine, 9, bs, bd, bw, 2, &O.graph));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_from_edges(engine, 9, bs, NULL, NULL, 2, &O.graph));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_from_edges(NULL, 9, bs, bd, NULL, 2, &O.graph));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_from_edges(engine, 9, bs, bd, NULL, 2, NULL));
    REFUSED(FV_ERR_DIMENSION_MISMATCH,
            fv_graph_from_csr(engine, 9, indptr, 9, indices, NULL, dg->m, &O.graph));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_size(NULL, &O.rows, &O.cols));

    fv_distribution src0 = fv_distribution_node(0);
    fv_push_options fo = fv_push_options_default();
#define PUSH(g, src, opts) \
    fv_graph_forward_push(g, src, opts, O.nodes, O.scores, MAXN, &O.count, &O.push)
    REFUSED(FV_ERR_NULL_POINTER, PUSH(NULL, &src0, &fo));
    REFUSED(FV_ERR_NULL_POINTER, PUSH(gu, NULL, &fo));
    REFUSED(FV_ERR_NULL_POINTER,
            fv_graph_forward_push(gu, &src0, &fo, NULL, O.scores, MAXN, &O.count, &O.push));
    REFUSED(FV_ERR_NULL_POINTER,
            fv_graph_forward_push(gu, &src0, &fo, O.nodes, O.scores, MAXN, NULL, &O.push));
    REFUSED(FV_ERR_NULL_POINTER,
            fv_graph_forward_push(gu, &src0, &fo, O.nodes, O.scores, MAXN, &O.count, NULL));
    REFUSED(FV_ERR_INVALID_ARGUMENT, /* nodes and scores overlap */
            fv_graph_forward_push(gu, &src0, &fo, (uint32_t *)O.scores, O.scores, MAXN, &O.count,
                                  &O.push));
    fv_distribution bad_src = fv_distribution_node(53);
    REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &bad_src, &fo));
    double eps_bad[4] = {0.0, -1e-4, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        fo.eps = eps_bad[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &src0, &fo));
    }
    fo = fv_push_options_default();
    double alpha_bad[5] = {0.0, 1.0, -0.5, 1.5, NAN};
    for (int i = 0; i < 5; i++) {
        fo.alpha = alpha_bad[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &src0, &fo));
        fv_backward_push_options bo = fv_backward_push_options_default();
        bo.alpha = alpha_bad[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT,
                fv_graph_backward_push(gd, 0, &bo, O.nodes, O.scores, MAXN, &O.count, &O.push));
        fv_pair_options pa = fv_pair_options_default();
        pa.alpha = alpha_bad[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pair(gd, 0, 1, &pa, &O.pair));
        po = fv_pagerank_options_default();
        po.alpha = alpha_bad[i];
        REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pagerank(gd, &po, O.scores, 9, &O.pagerank));
    }
    fo = fv_push_options_default();
    double dense_w[MAXN];
    for (size_t v = 0; v < MAXN; v++) dense_w[v] = 1.0;
    fv_distribution dense_src = fv_distribution_dense(dense_w, 52);
    REFUSED(FV_ERR_DIMENSION_MISMATCH, PUSH(gu, &dense_src, &fo));
    dense_w[5] = -1.0;
    dense_src = fv_distribution_dense(dense_w, 53);
    REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &dense_src, &fo));
    dense_w[5] = 1.0;
    uint32_t rep_nodes[2] = {4, 4};
    fv_distribution sparse_src = fv_distribution_sparse(rep_nodes, pw, 2);
    REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &sparse_src, &fo)); /* repeated node */
    double zero_w[2] = {0.0, 0.0};
    uint32_t two_nodes[2] = {1, 2};
    sparse_src = fv_distribution_sparse(two_nodes, zero_w, 2);
    REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &sparse_src, &fo)); /* all zero */
    fv_distribution unknown = {.kind = 17};
    REFUSED(FV_ERR_INVALID_ARGUMENT, PUSH(gu, &unknown, &fo));

    po = fv_pagerank_options_default();
    REFUSED(FV_ERR_DIMENSION_MISMATCH, fv_graph_pagerank(gd, &po, O.scores, 8, &O.pagerank));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_pagerank(gd, &po, NULL, 9, &O.pagerank));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_pagerank(gd, &po, O.scores, 9, NULL));
    po.tol = 0;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pagerank(gd, &po, O.scores, 9, &O.pagerank));
    po = fv_pagerank_options_default();
    po.dangling = fv_distribution_node(9);
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pagerank(gd, &po, O.scores, 9, &O.pagerank));
    po = fv_pagerank_options_default();
    po.personalization = fv_distribution_dense(O.scores, 9); /* overlaps the output */
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pagerank(gd, &po, O.scores, 9, &O.pagerank));

    fv_backward_push_options bo = fv_backward_push_options_default();
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_graph_backward_push(gd, 9, &bo, O.nodes, O.scores, MAXN, &O.count, &O.push));
    bo.r_max = 0;
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_graph_backward_push(gd, 0, &bo, O.nodes, O.scores, MAXN, &O.count, &O.push));
    bo.r_max = NAN;
    REFUSED(FV_ERR_INVALID_ARGUMENT,
            fv_graph_backward_push(gd, 0, &bo, O.nodes, O.scores, MAXN, &O.count, &O.push));
    fv_pair_options pa = fv_pair_options_default();
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pair(gd, 9, 0, &pa, &O.pair));
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pair(gd, 0, 9, &pa, &O.pair));
    REFUSED(FV_ERR_NULL_POINTER, fv_graph_pair(gd, 0, 1, &pa, NULL));
    pa.r_max = -1;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pair(gd, 0, 1, &pa, &O.pair));
    pa = fv_pair_options_default();
    pa.failure_probability = 0;
    REFUSED(FV_ERR_INVALID_ARGUMENT, fv_graph_pair(gd, 0, 1, &pa, &O.pair));

    /* handles */
    CHECK(fv_graph_free(NULL) == FV_OK, "graph_free(NULL)");
    OK(fv_graph_free(gd));
    CHECK(fv_graph_free(gd) == FV_ERR_INVALID_HANDLE, "graph double free");
    REFUSED(FV_ERR_INVALID_HANDLE, PUSH(gd, &src0, &fo));
    REFUSED(FV_ERR_INVALID_HANDLE, fv_sparse_matrix_shape((const fv_sparse_matrix *)gu, &O.rows,
                                                          &O.cols, &O.nnz));
#undef PUSH
    fv_graph_free(gu);
    free(dg);
    free(u);
}

/* ---- threads: handles are immutable, so concurrent calls give the single-thread bits ---- */

#define THREADS 4

typedef struct {
    const fv_sparse_matrix *matrix;
    const fv_graph *graph;
    const double *b;
    double x[36];
    uint32_t nodes[MAXN];
    double scores[MAXN];
    size_t count;
    int rc;
} worker;

static int work(void *arg) {
    worker *w = arg;
    fv_solve_options o = fv_solve_options_default();
    o.rtol = 1e-10;
    fv_solve_report r;
    fv_push_report p;
    fv_distribution source = fv_distribution_node(3);
    for (int i = 0; i < 20 && w->rc == FV_OK; i++) {
        w->rc = fv_sparse_matrix_cg(w->matrix, w->b, 36, &o, w->x, 36, &r);
        if (w->rc == FV_OK)
            w->rc = fv_graph_forward_push(w->graph, &source, NULL, w->nodes, w->scores, MAXN,
                                          &w->count, &p);
    }
    return 0;
}

static void test_threads(void) {
    /* the handles outlive the engine they were made on */
    fv_engine *engine = NULL;
    OK(fv_engine_new(FV_BACKEND_NATIVE, NULL, &engine));
    triplets *p = calloc(1, sizeof *p);
    cgraph *u = calloc(1, sizeof *u);
    poisson(p, 6);
    undirected(u);
    fv_sparse_matrix *m = make_matrix(engine, p);
    fv_graph *g = make_graph(engine, u, false);
    fv_engine_free(engine);
    double b[36];
    for (size_t i = 0; i < 36; i++) b[i] = 1.0 / (1.0 + (double)i);
    worker single = {.matrix = m, .graph = g, .b = b, .rc = FV_OK};
    work(&single);
    CHECK(single.rc == FV_OK && single.count > 0, "after the engine was freed: %d", single.rc);
    worker *workers = calloc(THREADS, sizeof *workers);
    thrd_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){.matrix = m, .graph = g, .b = b, .rc = FV_OK};
        CHECK(thrd_create(&threads[t], work, &workers[t]) == thrd_success, "thrd_create");
    }
    for (int t = 0; t < THREADS; t++) {
        thrd_join(threads[t], NULL);
        CHECK(workers[t].rc == FV_OK && memcmp(workers[t].x, single.x, sizeof single.x) == 0 &&
                  workers[t].count == single.count &&
                  memcmp(workers[t].nodes, single.nodes, single.count * sizeof(uint32_t)) == 0 &&
                  memcmp(workers[t].scores, single.scores, single.count * sizeof(double)) == 0,
              "thread %d: rc %d, results differ from the single-thread run", t, workers[t].rc);
    }
    free(workers);
    fv_graph_free(g);
    fv_sparse_matrix_free(m);
    free(u);
    free(p);
}

int main(int argc, char **argv) {
    const char *tmp_dir = argc > 1 ? argv[1] : "target/c";
    fv_engine *native = NULL;
    int32_t rc = fv_engine_new(FV_BACKEND_NATIVE, NULL, &native);
    CHECK(rc == FV_OK && native, "fv_engine_new(native) = %d", rc);
    if (native) {
        test_matrix_basics(native, tmp_dir);
        test_solvers(native);
        test_graphs(native);
    }
    test_threads();

    /* interpreted: the solver is refused (honestly) until the wasm module carries it */
    fv_engine *interp = NULL;
    rc = fv_engine_new(FV_BACKEND_INTERPRETED, NULL, &interp);
    CHECK(rc == FV_OK && interp, "fv_engine_new(interpreted) = %d", rc);
    if (interp) {
        uint32_t r[1] = {0}, c[1] = {0};
        double v[1] = {2.0};
        fv_sparse_matrix *m = NULL;
        rc = fv_sparse_matrix_from_triplets(interp, 1, 1, r, c, v, 1, &m);
        if (rc == FV_OK) {
            printf("test_solver: the interpreted backend carries the solver: testing it too\n");
            fv_sparse_matrix_free(m);
            test_matrix_basics(interp, tmp_dir);
            test_solvers(interp);
            test_graphs(interp);
        } else {
            CHECK(rc == FV_ERR_INVALID_MODULE && m == NULL, "interpreted matrix: %d", rc);
            fv_graph *g = NULL;
            rc = fv_graph_from_edges(interp, 1, r, c, NULL, 1, &g);
            CHECK(rc == FV_ERR_INVALID_MODULE && g == NULL, "interpreted graph: %d", rc);
            printf("test_solver: interpreted backend refuses the solver (FV_ERR_INVALID_MODULE: "
                   "not in the wasm module yet): %s\n",
                   fv_last_error_message());
        }
        fv_engine_free(interp);
    }
    fv_engine_free(native);
    return check_summary("test_solver");
}
