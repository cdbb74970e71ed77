/*
 * What every C test program shares: the CHECK macro and its counters, a seeded generator of
 * deterministic inputs, the f64 references of the f32 kernels, and the summary that sets the
 * exit status. Each test program is one translation unit, so the counters are per program.
 */
#ifndef FERROVEC_TESTS_CHECK_H
#define FERROVEC_TESTS_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ferrovec.h"

static int failures = 0;
static long checks = 0;

/* Counts a check; on failure prints the condition, the formatted context and ferrovec's
 * last error message (the first 30 failures only, so one bug does not bury the others). */
#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        checks++;                                                                   \
        if (!(cond)) {                                                              \
            failures++;                                                             \
            if (failures <= 30) {                                                   \
                fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
                fprintf(stderr, __VA_ARGS__);                                       \
                fprintf(stderr, " (last error: %s)\n", fv_last_error_message());    \
            }                                                                       \
        }                                                                           \
    } while (0)

/* Prints the summary; returns the process exit status (0 when every check passed). */
static inline int check_summary(const char *program) {
    if (failures) {
        fprintf(stderr, "%s: %d of %ld checks FAILED\n", program, failures, checks);
        return 1;
    }
    printf("%s: all %ld checks passed\n", program, checks);
    return 0;
}

/* ---- deterministic inputs: xorshift64, seeded per program ---- */

static inline uint64_t *rng_state(void) {
    static uint64_t state = 1;
    return &state;
}

static inline void rng_seed(uint64_t seed) { *rng_state() = seed ? seed : 1; }

static inline uint64_t next_u64(void) {
    uint64_t x = *rng_state();
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *rng_state() = x;
}

static inline float next_unit(void) { /* uniform in [-1, 1) */
    return (float)((double)(next_u64() >> 40) / (double)(1ull << 23) - 1.0);
}

/* ---- f64 references of the f32 kernels ---- */

static inline double ref_dot(const float *a, const float *b, size_t n, double *magnitude) {
    double s = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        s += (double)a[i] * (double)b[i];
        m += fabs((double)a[i] * (double)b[i]);
    }
    if (magnitude) *magnitude = m;
    return s;
}

static inline double ref_l2sq(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return s;
}

static inline double ref_cosine(const float *a, const float *b, size_t n) {
    double ab = ref_dot(a, b, n, NULL), aa = ref_dot(a, a, n, NULL), bb = ref_dot(b, b, n, NULL);
    if (aa == 0 && bb == 0) return 0;
    if (aa == 0 || bb == 0) return 1;
    double d = 1 - ab / sqrt(aa * bb);
    return d < 0 ? 0 : (d > 2 ? 2 : d);
}

#endif
