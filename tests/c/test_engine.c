/*
 * The engine C API: every kernel through the native backend (each instruction set) and the
 * interpreted backend (the bundled SIMD module, and the scalar module read from a file),
 * checked against a C reference and against each other, plus misuse: NULL engine, bad
 * options, wrong SHA-256, a malformed module, out of fuel, the memory cap, and threads
 * sharing one engine. Built with -std=c11 -Wall -Wextra -Werror and run under
 * AddressSanitizer + UBSan by `make test` (target test-c):
 *
 *     ./target/c/test_engine [WASM_DIR]     (default target/wasm, as `make wasm` writes)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "check.h"
#include "ferrovec.h"


/* ---- deterministic inputs (seeded in main) ---- */

/* ---- the C reference ---- */

/* ---- helpers ---- */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(size > 0 ? (size_t)size : 1);
    if (bytes && fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return bytes;
}

static fv_engine *make_engine(int32_t backend, const fv_engine_options *opts) {
    fv_engine *engine = NULL;
    int32_t rc = fv_engine_new(backend, opts, &engine);
    CHECK(rc == FV_OK && engine != NULL, "fv_engine_new(%d) = %d", backend, rc);
    return engine;
}

/* ---- every kernel on one engine, against the reference ---- */

static void test_kernels(const fv_engine *engine, const char *what) {
    static const size_t lengths[] = {0, 1, 3, 8, 15, 16, 17, 64, 100, 384, 1000};
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        size_t n = lengths[li];
        float *a = malloc((n + 1) * sizeof(float)), *b = malloc((n + 1) * sizeof(float));
        int8_t *ia = malloc(n + 1), *ib = malloc(n + 1);
        uint8_t *ba = malloc(n + 1), *bb = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            a[i] = next_unit();
            b[i] = next_unit();
            ia[i] = (int8_t)(next_u64() & 0xff);
            ib[i] = (int8_t)(next_u64() & 0xff);
            ba[i] = (uint8_t)next_u64();
            bb[i] = (uint8_t)next_u64();
        }
        double magnitude;
        double want = ref_dot(a, b, n, &magnitude);
        float got = fv_engine_dot_f32(engine, a, b, n);
        CHECK(fabs(got - want) <= 1e-5 * magnitude + 1e-30, "%s dot n=%zu: %g vs %g", what, n, got, want);
        want = ref_l2sq(a, b, n);
        got = fv_engine_l2sq_f32(engine, a, b, n);
        CHECK(fabs(got - want) <= 1e-5 * want + 1e-30, "%s l2sq n=%zu: %g vs %g", what, n, got, want);
        want = ref_cosine(a, b, n);
        got = fv_engine_cosine_distance_f32(engine, a, b, n);
        CHECK(fabs(got - want) <= 2e-5, "%s cosine n=%zu: %g vs %g", what, n, got, want);

        int64_t dot_i8 = 0, l2_i8 = 0, ham = 0, inter = 0, uni = 0;
        for (size_t i = 0; i < n; i++) {
            dot_i8 += (int64_t)ia[i] * ib[i];
            l2_i8 += ((int64_t)ia[i] - ib[i]) * ((int64_t)ia[i] - ib[i]);
            ham += __builtin_popcount(ba[i] ^ bb[i]);
            inter += __builtin_popcount(ba[i] & bb[i]);
            uni += __builtin_popcount(ba[i] | bb[i]);
        }
        CHECK(fv_engine_dot_i8(engine, ia, ib, n) == dot_i8, "%s dot_i8 n=%zu", what, n);
        CHECK(fv_engine_l2sq_i8(engine, ia, ib, n) == (uint32_t)l2_i8, "%s l2sq_i8 n=%zu", what, n);
        CHECK(fv_engine_hamming_b1(engine, ba, bb, n) == (uint32_t)ham, "%s hamming n=%zu", what, n);
        float jac = uni == 0 ? 0.0f : (float)(1.0 - (double)inter / (double)uni);
        CHECK(fv_engine_jaccard_b1(engine, ba, bb, n) == jac, "%s jaccard n=%zu", what, n);

        double norm = sqrt(ref_dot(a, a, n, NULL));
        float before = n > 0 ? a[0] : 0;
        got = fv_engine_l2_normalize_f32(engine, a, n);
        CHECK(fabs(got - norm) <= 1e-5 * norm + 1e-30, "%s normalize n=%zu: %g vs %g", what, n, got, norm);
        if (n > 0) {
            CHECK(fabsf(a[0] - (float)(before / norm)) <= 1e-6f, "%s normalized n=%zu", what, n);
        }
        free(a), free(b), free(ia), free(ib), free(ba), free(bb);
    }

    /* the scan, every metric */
    enum { DIMS = 384, ROWS = 37 };
    float *query = malloc(DIMS * sizeof(float)), *rows = malloc(DIMS * ROWS * sizeof(float));
    float out[ROWS];
    for (size_t i = 0; i < DIMS; i++) query[i] = next_unit();
    for (size_t i = 0; i < DIMS * ROWS; i++) rows[i] = next_unit();
    for (int32_t metric = FV_METRIC_DOT; metric <= FV_METRIC_L2SQ; metric++) {
        CHECK(fv_engine_scan_f32(engine, metric, query, rows, ROWS, DIMS, out) == FV_OK, "%s scan", what);
        for (size_t r = 0; r < ROWS; r++) {
            const float *row = rows + r * DIMS;
            double magnitude, want;
            if (metric == FV_METRIC_DOT) {
                want = -ref_dot(query, row, DIMS, &magnitude);
            } else if (metric == FV_METRIC_L2SQ) {
                want = ref_l2sq(query, row, DIMS);
                magnitude = want;
            } else {
                want = ref_cosine(query, row, DIMS);
                magnitude = 2.0; /* 1e-5 * 2 = 2e-5 absolute */
            }
            CHECK(fabs(out[r] - want) <= 1e-5 * magnitude + 1e-30, "%s scan metric %d row %zu: %g vs %g",
                  what, metric, r, out[r], want);
        }
    }
    /* errors are the same on every backend, and leave the output alone */
    out[0] = 123.0f;
    CHECK(fv_engine_scan_f32(engine, 7, query, rows, ROWS, DIMS, out) == FV_ERR_UNKNOWN_METRIC, "%s metric", what);
    CHECK(fv_engine_scan_f32(engine, 0, NULL, rows, ROWS, DIMS, out) == FV_ERR_NULL_POINTER, "%s null query", what);
    CHECK(strstr(fv_last_error_message(), "query") != NULL, "%s message", what);
    CHECK(fv_engine_scan_f32(engine, 0, query, rows, ROWS, DIMS, rows + 5) == FV_ERR_INVALID_ARGUMENT,
          "%s overlap", what);
    CHECK(fv_engine_scan_f32(engine, 0, query, rows, SIZE_MAX, 2, out) == FV_ERR_INVALID_ARGUMENT,
          "%s overflow", what);
    CHECK(out[0] == 123.0f, "%s out written on error", what);
    CHECK(isnan(fv_engine_dot_f32(engine, NULL, query, 3)), "%s dot null", what);
    CHECK(fv_engine_dot_i8(engine, NULL, NULL, 3) == FV_ERROR_I32, "%s dot_i8 null", what);
    CHECK(fv_engine_hamming_b1(engine, NULL, NULL, 3) == FV_ERROR_U32, "%s hamming null", what);
    CHECK(fabsf(fv_engine_dot_f32(engine, NULL, NULL, 0)) == 0.0f, "%s empty dot", what);
    free(query), free(rows);
}

/* ---- interpreted-only: fuel, memory cap, module checks ---- */

static void test_fuel(void) {
    fv_engine_options opts = fv_engine_options_default();
    opts.fuel = 20000;
    fv_engine *engine = make_engine(FV_BACKEND_INTERPRETED, &opts);
    if (!engine) return;
    enum { N = 200000 };
    float *big = malloc(N * sizeof(float));
    for (size_t i = 0; i < N; i++) big[i] = 0.5f;
    float small[3] = {1, 2, 3};
    CHECK(fv_engine_dot_f32(engine, small, small, 3) == 14.0f, "small call within the budget");
    CHECK(isnan(fv_engine_dot_f32(engine, big, big, N)), "big call runs out of fuel");
    CHECK(strstr(fv_last_error_message(), "out of fuel") != NULL, "fuel message");
    float out[2] = {9, 9};
    CHECK(fv_engine_scan_f32(engine, FV_METRIC_DOT, big, big, 2, N / 2, out) == FV_ERR_OUT_OF_FUEL, "scan fuel");
    CHECK(out[0] == 9 && out[1] == 9, "out written when out of fuel");
    CHECK(fv_engine_dot_f32(engine, small, small, 3) == 14.0f, "usable after running out of fuel");
    fv_engine_free(engine);
    free(big);
}

static void test_memory_cap(void) {
    fv_engine_options opts = fv_engine_options_default();
    opts.memory_limit = 4u << 20; /* the module starts near 1 MiB */
    fv_engine *engine = make_engine(FV_BACKEND_INTERPRETED, &opts);
    if (!engine) return;
    enum { N = 1 << 20 }; /* 2 x 4 MiB does not fit */
    float *big = calloc(N, sizeof(float));
    float out[1];
    CHECK(fv_engine_scan_f32(engine, FV_METRIC_L2SQ, big, big, 1, N, out) == FV_ERR_OUT_OF_MEMORY, "cap");
    CHECK(strstr(fv_last_error_message(), "out of memory") != NULL, "cap message");
    CHECK(fv_engine_scan_f32(engine, FV_METRIC_L2SQ, big, big, 1, 1000, out) == FV_OK && out[0] == 0,
          "usable after the cap");
    fv_engine_free(engine);
    free(big);

    opts.memory_limit = 1000; /* below the module's initial memory */
    fv_engine *none = NULL;
    CHECK(fv_engine_new(FV_BACKEND_INTERPRETED, &opts, &none) == FV_ERR_OUT_OF_MEMORY && none == NULL,
          "cap below initial memory");
}

static void test_bad_options(const uint8_t *scalar, size_t scalar_len) {
    fv_engine *engine = (fv_engine *)(uintptr_t)1; /* must stay untouched on failure */
    CHECK(fv_engine_new(FV_BACKEND_NATIVE, NULL, NULL) == FV_ERR_NULL_POINTER, "null out");
    CHECK(fv_engine_new(42, NULL, &engine) == FV_ERR_INVALID_ARGUMENT, "unknown backend");
    CHECK(strstr(fv_last_error_message(), "unknown backend 42") != NULL, "backend message");

    fv_engine_options opts = fv_engine_options_default();
    opts.isa = "sse9";
    CHECK(fv_engine_new(FV_BACKEND_NATIVE, &opts, &engine) == FV_ERR_INVALID_ARGUMENT, "unknown isa");
    opts.isa = "neon";
    CHECK(fv_engine_new(FV_BACKEND_NATIVE, &opts, &engine) == FV_ERR_UNSUPPORTED_ISA, "neon on x86_64");

    static const uint8_t garbage[] = "definitely not wasm";
    opts = fv_engine_options_default();
    opts.module = garbage;
    opts.module_len = sizeof garbage;
    CHECK(fv_engine_new(FV_BACKEND_INTERPRETED, &opts, &engine) == FV_ERR_INVALID_MODULE, "malformed module");
    CHECK(strstr(fv_last_error_message(), "invalid wasm module") != NULL, "module message");
    opts.module = NULL;
    opts.module_len = 5;
    CHECK(fv_engine_new(FV_BACKEND_INTERPRETED, &opts, &engine) == FV_ERR_NULL_POINTER, "null module, len 5");

    if (scalar) {
        static const uint8_t wrong_digest[32] = {1, 2, 3};
        opts = fv_engine_options_default();
        opts.module = scalar;
        opts.module_len = scalar_len;
        opts.sha256 = wrong_digest;
        CHECK(fv_engine_new(FV_BACKEND_INTERPRETED, &opts, &engine) == FV_ERR_INVALID_MODULE, "wrong sha256");
        CHECK(strstr(fv_last_error_message(), "SHA-256") != NULL, "sha256 message");
        opts.module_len = scalar_len / 2;
        opts.sha256 = NULL;
        CHECK(fv_engine_new(FV_BACKEND_INTERPRETED, &opts, &engine) == FV_ERR_INVALID_MODULE, "truncated");
    }
    CHECK(engine == (fv_engine *)(uintptr_t)1, "out written on failure");

    /* a NULL engine */
    float x[2] = {1, 2}, out[1];
    CHECK(isnan(fv_engine_dot_f32(NULL, x, x, 2)), "null engine dot");
    CHECK(strstr(fv_last_error_message(), "engine") != NULL, "null engine message");
    CHECK(isnan(fv_engine_l2_normalize_f32(NULL, x, 2)) && x[0] == 1, "null engine normalize");
    CHECK(fv_engine_scan_f32(NULL, 0, x, x, 1, 2, out) == FV_ERR_NULL_POINTER, "null engine scan");
    CHECK(fv_engine_l2sq_i8(NULL, NULL, NULL, 0) == FV_ERROR_U32, "null engine l2sq_i8");
    CHECK(fv_engine_backend_name(NULL) == NULL, "null engine name");
    fv_engine_free(NULL);
}

/* ---- threads sharing one engine ---- */

struct job {
    const fv_engine *engine;
    int ok;
};

static int worker(void *arg) {
    struct job *job = arg;
    float a[100], b[100];
    job->ok = 1;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100; i++) {
            a[i] = (float)(i % 7) - 3.0f;
            b[i] = (float)((i + round) % 5);
        }
        double want = ref_dot(a, b, 100, NULL);
        if (fv_engine_dot_f32(job->engine, a, b, 100) != (float)want) job->ok = 0;
    }
    return 0;
}

static void test_threads(const fv_engine *engine, const char *what) {
    enum { THREADS = 4 };
    thrd_t threads[THREADS];
    struct job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (struct job){engine, 0};
        CHECK(thrd_create(&threads[t], worker, &jobs[t]) == thrd_success, "thread");
    }
    for (int t = 0; t < THREADS; t++) {
        thrd_join(threads[t], NULL);
        CHECK(jobs[t].ok, "%s thread %d got a wrong result", what, t);
    }
}

int main(int argc, char **argv) {
    rng_seed(7);
    const char *wasm_dir = argc > 1 ? argv[1] : "target/wasm";

    /* native: the process-wide table and every instruction set this machine runs */
    fv_engine *native = make_engine(FV_BACKEND_NATIVE, NULL);
    if (native) {
        CHECK(strcmp(fv_engine_backend_name(native), "native") == 0, "native name");
        test_kernels(native, "native");
        test_threads(native, "native");
        fv_engine_free(native);
    }
    static const char *isas[] = {"scalar", "avx2", "avx512", "neon", "simd128"};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        fv_engine_options opts = fv_engine_options_default();
        opts.isa = isas[i];
        fv_engine *engine = NULL;
        int32_t rc = fv_engine_new(FV_BACKEND_NATIVE, &opts, &engine);
        if (rc == FV_ERR_UNSUPPORTED_ISA) {
            printf("test_engine: %s is not available here, skipped\n", isas[i]);
            continue;
        }
        CHECK(rc == FV_OK, "native %s", isas[i]);
        if (rc == FV_OK) {
            test_kernels(engine, isas[i]);
            fv_engine_free(engine);
        }
    }

    /* interpreted: the bundled SIMD module */
    fv_engine *bundled = make_engine(FV_BACKEND_INTERPRETED, NULL);
    if (bundled) {
        CHECK(strcmp(fv_engine_backend_name(bundled), "interpreted") == 0, "interpreted name");
        test_kernels(bundled, "interpreted simd (bundled)");
        test_threads(bundled, "interpreted simd (bundled)");
        fv_engine_free(bundled);
    }

    /* interpreted: the scalar module, from its file */
    char path[4096];
    snprintf(path, sizeof path, "%s/ferrovec.wasm", wasm_dir);
    size_t scalar_len = 0;
    uint8_t *scalar = read_file(path, &scalar_len);
    CHECK(scalar != NULL, "cannot read %s (run `make wasm`)", path);
    if (scalar) {
        fv_engine_options opts = fv_engine_options_default();
        opts.module = scalar;
        opts.module_len = scalar_len;
        fv_engine *engine = make_engine(FV_BACKEND_INTERPRETED, &opts);
        if (engine) {
            test_kernels(engine, "interpreted scalar");
            fv_engine_free(engine);
        }
    }

    test_fuel();
    test_memory_cap();
    test_bad_options(scalar, scalar_len);
    free(scalar);

    return check_summary("test_engine");
}
