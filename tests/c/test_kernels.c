/*
 * The C kernel API against a C reference, on every instruction set this machine runs,
 * plus every misuse the header documents. Built with -std=c11 -Wall -Wextra -Werror and run
 * under AddressSanitizer + UBSan by `make test`.
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

static int64_t ref_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += (int64_t)a[i] * b[i];
    return s;
}

static int64_t ref_l2sq_i8(const int8_t *a, const int8_t *b, size_t n) {
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += ((int64_t)a[i] - b[i]) * ((int64_t)a[i] - b[i]);
    return s;
}

static unsigned popcount8(unsigned v) {
    unsigned c = 0;
    for (; v; v >>= 1) c += v & 1u;
    return c;
}

/* ---- sweeps ---- */

static const size_t EXTRA_LENGTHS[] = {127, 128, 129, 383, 384, 385, 1536, 4097};
static const size_t OFFSETS[] = {0, 1, 3};
#define MAX_LEN 4097
#define MAX_OFF 3

static size_t length_at(size_t i) { return i <= 67 ? i : EXTRA_LENGTHS[i - 68]; }
#define N_LENGTHS (68 + sizeof(EXTRA_LENGTHS) / sizeof(EXTRA_LENGTHS[0]))

static void test_f32(const char *isa) {
    float *abuf = malloc((MAX_LEN + MAX_OFF) * sizeof(float));
    float *bbuf = malloc((MAX_LEN + MAX_OFF) * sizeof(float));
    for (size_t li = 0; li < N_LENGTHS; li++) {
        size_t n = length_at(li);
        for (size_t oi = 0; oi < sizeof(OFFSETS) / sizeof(OFFSETS[0]); oi++) {
            float *a = abuf + OFFSETS[oi], *b = bbuf + OFFSETS[oi];
            for (size_t i = 0; i < n; i++) {
                a[i] = next_unit();
                b[i] = next_unit();
            }
            double mag;
            double want = ref_dot(a, b, n, &mag);
            float got = fv_dot_f32(a, b, n);
            CHECK(fabs(got - want) <= 1e-5 * mag + 1e-30, "%s dot n=%zu: %g vs %g", isa, n, got, want);

            want = ref_l2sq(a, b, n);
            got = fv_l2sq_f32(a, b, n);
            CHECK(fabs(got - want) <= 1e-5 * want + 1e-30, "%s l2sq n=%zu: %g vs %g", isa, n, got, want);

            want = ref_cosine(a, b, n);
            got = fv_cosine_distance_f32(a, b, n);
            CHECK(fabs(got - want) <= 2e-5, "%s cosine n=%zu: %g vs %g", isa, n, got, want);

            double norm = sqrt(ref_dot(a, a, n, NULL));
            got = fv_l2_normalize_f32(a, n);
            CHECK(fabs(got - norm) <= 1e-5 * norm, "%s normalize n=%zu: %g vs %g", isa, n, got, norm);
            if (n > 0) CHECK(fabs(sqrt(ref_dot(a, a, n, NULL)) - 1.0) <= 1e-5, "%s unit n=%zu", isa, n);
        }
    }
    free(abuf);
    free(bbuf);
}

static void test_scan(const char *isa) {
    enum { ROWS = 7 };
    for (size_t li = 0; li < N_LENGTHS; li++) {
        size_t dims = length_at(li);
        float *query = malloc((dims + 1) * sizeof(float));
        float *rows = malloc((ROWS * dims + 1) * sizeof(float));
        float out[ROWS];
        for (size_t i = 0; i < dims; i++) query[i] = next_unit();
        for (size_t i = 0; i < ROWS * dims; i++) rows[i] = next_unit();
        const int metrics[] = {FV_METRIC_DOT, FV_METRIC_COSINE, FV_METRIC_L2SQ};
        for (int mi = 0; mi < 3; mi++) {
            int rc = fv_scan_f32(metrics[mi], query, rows, ROWS, dims, out);
            CHECK(rc == FV_OK, "%s scan rc=%d: %s", isa, rc, fv_last_error_message());
            for (size_t r = 0; r < ROWS; r++) {
                const float *row = rows + r * dims;
                double mag, want, tol;
                if (metrics[mi] == FV_METRIC_DOT) {
                    want = -ref_dot(query, row, dims, &mag);
                    tol = 1e-5 * mag + 1e-30;
                } else if (metrics[mi] == FV_METRIC_L2SQ) {
                    want = ref_l2sq(query, row, dims);
                    tol = 1e-5 * want + 1e-30;
                } else {
                    want = ref_cosine(query, row, dims);
                    tol = 2e-5;
                }
                CHECK(fabs(out[r] - want) <= tol, "%s scan metric=%d d=%zu row=%zu: %g vs %g", isa,
                      metrics[mi], dims, r, out[r], want);
            }
        }
        free(query);
        free(rows);
    }
}

static void test_i8_and_b1(const char *isa) {
    int8_t *a = malloc(MAX_LEN + MAX_OFF), *b = malloc(MAX_LEN + MAX_OFF);
    uint8_t *p = malloc(MAX_LEN + MAX_OFF), *q = malloc(MAX_LEN + MAX_OFF);
    for (size_t li = 0; li < N_LENGTHS; li++) {
        size_t n = length_at(li);
        for (size_t oi = 0; oi < sizeof(OFFSETS) / sizeof(OFFSETS[0]); oi++) {
            size_t off = OFFSETS[oi];
            for (size_t i = 0; i < n; i++) {
                a[off + i] = (int8_t)(next_u64() & 0xff);
                b[off + i] = (int8_t)(next_u64() & 0xff);
                p[off + i] = (uint8_t)next_u64();
                q[off + i] = (i % 3 == 0) ? p[off + i] : (uint8_t)next_u64();
            }
            CHECK(fv_dot_i8(a + off, b + off, n) == ref_dot_i8(a + off, b + off, n), "%s dot_i8 n=%zu", isa, n);
            CHECK(fv_l2sq_i8(a + off, b + off, n) == ref_l2sq_i8(a + off, b + off, n), "%s l2sq_i8 n=%zu", isa, n);
            uint32_t ham = 0, inter = 0, uni = 0;
            for (size_t i = 0; i < n; i++) {
                ham += popcount8(p[off + i] ^ q[off + i]);
                inter += popcount8(p[off + i] & q[off + i]);
                uni += popcount8(p[off + i] | q[off + i]);
            }
            CHECK(fv_hamming_b1(p + off, q + off, n) == ham, "%s hamming n=%zu", isa, n);
            float want = uni == 0 ? 0.0f : (float)(1.0 - (double)inter / (double)uni);
            CHECK(fv_jaccard_b1(p + off, q + off, n) == want, "%s jaccard n=%zu", isa, n);
        }
    }
    /* 2^16 extreme values: the documented exact range. */
    size_t big = 65536;
    int8_t *lo = malloc(big), *hi = malloc(big);
    memset(lo, 0x80, big); /* -128 */
    memset(hi, 0x7f, big); /* 127 */
    CHECK(fv_dot_i8(lo, lo, big) == (1 << 30), "%s dot_i8 extreme", isa);
    CHECK(fv_l2sq_i8(lo, hi, big) == 65536u * 255u * 255u, "%s l2sq_i8 extreme", isa);
    free(lo);
    free(hi);
    free(a);
    free(b);
    free(p);
    free(q);
}

static void test_special_values(const char *isa) {
    float ones[37], zeros[37], nan[37];
    for (int i = 0; i < 37; i++) {
        ones[i] = 1.0f;
        zeros[i] = 0.0f;
        nan[i] = 1.0f;
    }
    nan[36] = NAN;
    CHECK(fv_cosine_distance_f32(zeros, zeros, 37) == 0.0f, "%s cos(0,0)", isa);
    CHECK(fv_cosine_distance_f32(zeros, ones, 37) == 1.0f, "%s cos(0,1)", isa);
    CHECK(isnan(fv_dot_f32(nan, ones, 37)), "%s NaN dot", isa);
    CHECK(isnan(fv_l2sq_f32(ones, nan, 37)), "%s NaN l2sq", isa);
    CHECK(isnan(fv_cosine_distance_f32(nan, ones, 37)), "%s NaN cosine", isa);
    CHECK(fv_dot_f32(ones, ones, 0) == 0.0f, "%s empty dot", isa);
}

/* ---- misuse: every documented error path ---- */

static void test_errors(void) {
    float v[4] = {1, 2, 3, 4};
    float out[2] = {7, 7};

    CHECK(isnan(fv_dot_f32(NULL, v, 4)), "null a");
    CHECK(strstr(fv_last_error_message(), "null pointer") != NULL, "message: %s", fv_last_error_message());
    CHECK(strstr(fv_last_error_message(), "`a`") != NULL, "message names the argument: %s", fv_last_error_message());
    CHECK(isnan(fv_cosine_distance_f32(v, NULL, 4)), "null b");
    CHECK(strstr(fv_last_error_message(), "`b`") != NULL, "message: %s", fv_last_error_message());
    CHECK(isnan(fv_l2sq_f32(NULL, NULL, 1)), "null l2sq");
    CHECK(isnan(fv_l2_normalize_f32(NULL, 3)), "null normalize");
    CHECK(fv_dot_i8(NULL, NULL, 5) == FV_ERROR_I32, "null dot_i8");
    CHECK(fv_l2sq_i8(NULL, NULL, 5) == FV_ERROR_U32, "null l2sq_i8");
    CHECK(fv_hamming_b1(NULL, (const uint8_t *)"x", 1) == FV_ERROR_U32, "null hamming");
    CHECK(isnan(fv_jaccard_b1((const uint8_t *)"x", NULL, 1)), "null jaccard");

    /* Null with n = 0 is fine. */
    CHECK(fv_dot_f32(NULL, NULL, 0) == 0.0f, "null empty");
    CHECK(fv_hamming_b1(NULL, NULL, 0) == 0, "null empty hamming");
    CHECK(fv_scan_f32(FV_METRIC_DOT, NULL, NULL, 0, 0, NULL) == FV_OK, "empty scan");

    /* Scan errors leave the output untouched. */
    CHECK(fv_scan_f32(7, v, v, 1, 2, out) == FV_ERR_UNKNOWN_METRIC, "bad metric");
    CHECK(strstr(fv_last_error_message(), "metric") != NULL, "message: %s", fv_last_error_message());
    CHECK(fv_scan_f32(FV_METRIC_L2SQ, v, NULL, 2, 2, out) == FV_ERR_NULL_POINTER, "null rows");
    CHECK(fv_scan_f32(FV_METRIC_L2SQ, NULL, v, 2, 2, out) == FV_ERR_NULL_POINTER, "null query");
    CHECK(fv_scan_f32(FV_METRIC_L2SQ, v, v, 2, 2, NULL) == FV_ERR_NULL_POINTER, "null out");
    CHECK(fv_scan_f32(FV_METRIC_L2SQ, v, v, SIZE_MAX / 2, 4, out) == FV_ERR_INVALID_ARGUMENT, "overflow");
    CHECK(strstr(fv_last_error_message(), "overflows") != NULL, "message: %s", fv_last_error_message());
    CHECK(fv_scan_f32(FV_METRIC_L2SQ, v, v, 2, 2, v + 1) == FV_ERR_INVALID_ARGUMENT, "out aliases rows");
    CHECK(out[0] == 7 && out[1] == 7, "out untouched after errors");
    CHECK(v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 4, "inputs untouched after errors");

    /* Oversized binary vectors are refused before anything is read. */
    CHECK(fv_hamming_b1((const uint8_t *)v, (const uint8_t *)v, (size_t)1 << 30) == FV_ERROR_U32, "huge");
    CHECK(strstr(fv_last_error_message(), "limited") != NULL, "message: %s", fv_last_error_message());

    /* Forcing an instruction set. */
    const char *before = fv_isa_name();
    CHECK(fv_force_isa(NULL) == FV_ERR_NULL_POINTER, "force null");
    CHECK(fv_force_isa("sse9") == FV_ERR_INVALID_ARGUMENT, "force unknown");
    CHECK(strcmp(fv_isa_name(), before) == 0, "failed force changes nothing");

    CHECK(strlen(fv_version()) > 0, "version");
}

/* The last error is per thread. */
static int other_thread(void *arg) {
    (void)arg;
    int clean = strcmp(fv_last_error_message(), "") == 0;
    (void)fv_dot_f32(NULL, NULL, 1);
    return clean && strstr(fv_last_error_message(), "null") != NULL;
}

static void test_thread_local_error(void) {
    fv_force_isa("sse9");
    thrd_t t;
    int result = 0;
    CHECK(thrd_create(&t, other_thread, NULL) == thrd_success, "thread");
    thrd_join(t, &result);
    CHECK(result == 1, "a new thread starts with no error and gets its own");
    CHECK(strstr(fv_last_error_message(), "sse9") != NULL, "this thread's message is intact: %s",
          fv_last_error_message());
}

int main(void) {
    rng_seed(42);
    const char *isas[] = {"scalar", "avx2", "avx512", "neon", "simd128"};
    int ran = 0;
    for (size_t i = 0; i < sizeof(isas) / sizeof(isas[0]); i++) {
        int rc = fv_force_isa(isas[i]);
        if (rc == FV_ERR_UNSUPPORTED_ISA) {
            printf("skip %-8s (not available here: %s)\n", isas[i], fv_last_error_message());
            continue;
        }
        CHECK(rc == FV_OK, "force %s: %d", isas[i], rc);
        CHECK(strcmp(fv_isa_name(), isas[i]) == 0, "isa name %s vs %s", fv_isa_name(), isas[i]);
        long before = checks;
        test_f32(isas[i]);
        test_scan(isas[i]);
        test_i8_and_b1(isas[i]);
        test_special_values(isas[i]);
        printf("ok   %-8s (%ld checks)\n", isas[i], checks - before);
        ran++;
    }
    CHECK(ran >= 1, "at least scalar ran");
    test_errors();
    test_thread_local_error();
    return check_summary("test_kernels");
}
