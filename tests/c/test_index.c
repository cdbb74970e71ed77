/*
 * The index C API (fv_index_*) on the native backend and the interpreted one (the bundled
 * SIMD module): every function checked against a brute-force C reference, save/load through
 * bytes and files, and misuse: NULL pointers, wrong dimension, NaN, k = 0, unknown keys,
 * unsupported metric/storage pairs, corrupt and truncated bytes, a double free. After every
 * failed call the index must be unchanged (same len, same search results). f16 and bf16
 * storage: the stored values are the inputs rounded to nearest even (a C reference), searches
 * rank by the rounded rows, files (format version 3) load on both backends, and values out of
 * the storage's range are refused with FV_ERR_INVALID_ARGUMENT. Also threads:
 * readers search while a writer adds and removes. Built with -std=c11 -Wall -Wextra -Werror
 * and run under AddressSanitizer + UBSan by `make test` (target test-c):
 *
 *     ./target/c/test_index [TMP_DIR]     (default target/c, for the saved files)
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

#define DIMS 8
#define N 200
#define K 10

/* ---- deterministic inputs (seeded in main) ---- */

static void fill(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = next_unit();
}

/* ---- the C reference: exact squared L2 top-k, ties by key ---- */

typedef struct {
    uint64_t key;
    double distance;
} ref_match;

static int cmp_match(const void *pa, const void *pb) {
    const ref_match *a = pa, *b = pb;
    if (a->distance != b->distance) return a->distance < b->distance ? -1 : 1;
    return (a->key > b->key) - (a->key < b->key);
}

/* The data set of one test: keys[i] holds rows[i * DIMS ..], live[i] says if it is in. */
typedef struct {
    uint64_t keys[N];
    float rows[N * DIMS];
    bool live[N];
} dataset;

static bool accept_even(uint64_t key, void *user) {
    long *calls = user;
    (*calls)++;
    return key % 2 == 0;
}

static bool accept_none(uint64_t key, void *user) {
    (void)key;
    (void)user;
    return false;
}

/* Exact top-k of `query` among the live rows (optionally only even keys); returns count. */
static size_t ref_search(const dataset *d, const float *query, size_t k, bool even_only,
                         ref_match *out) {
    ref_match all[N];
    size_t n = 0;
    for (size_t i = 0; i < N; i++) {
        if (!d->live[i] || (even_only && d->keys[i] % 2 != 0)) continue;
        all[n].key = d->keys[i];
        all[n].distance = ref_l2sq(query, &d->rows[i * DIMS], DIMS);
        n++;
    }
    qsort(all, n, sizeof all[0], cmp_match);
    size_t m = n < k ? n : k;
    memcpy(out, all, m * sizeof all[0]);
    return m;
}

/* Checks an exact search's output against the reference: same keys in the same order
 * (where the reference distances are not near-ties) and matching distances. */
static void check_exact(const char *what, const dataset *d, const float *query, size_t k,
                        bool even_only, const uint64_t *keys, const float *dist,
                        size_t count) {
    ref_match ref[N];
    size_t m = ref_search(d, query, k, even_only, ref);
    CHECK(count == m, "%s: count %zu, expected %zu", what, count, m);
    for (size_t i = 0; i < count && i < m; i++) {
        CHECK(fabs((double)dist[i] - ref[i].distance) <= 1e-4 * (1 + ref[i].distance),
              "%s: distance %zu: %g vs %g", what, i, (double)dist[i], ref[i].distance);
        bool tie = (i > 0 && fabs(ref[i].distance - ref[i - 1].distance) < 1e-5) ||
                   (i + 1 < m && fabs(ref[i + 1].distance - ref[i].distance) < 1e-5);
        CHECK(tie || keys[i] == ref[i].key, "%s: key %zu: %llu vs %llu", what, i,
              (unsigned long long)keys[i], (unsigned long long)ref[i].key);
        if (i > 0) CHECK(dist[i] >= dist[i - 1], "%s: not ascending at %zu", what, i);
    }
}

/* ---- what must not change after a failed call ---- */

typedef struct {
    size_t len;
    size_t count;
    uint64_t keys[K];
    float dist[K];
} snapshot;

static const float probe[DIMS] = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f, 0.7f, -0.8f};

static snapshot snap(const fv_index *index) {
    snapshot s;
    memset(&s, 0, sizeof s);
    CHECK(fv_index_len(index, &s.len) == FV_OK, "len");
    if (s.len > 0) {
        CHECK(fv_index_search(index, probe, DIMS, K, s.keys, s.dist, &s.count) == FV_OK,
              "search");
    }
    return s;
}

static bool same(const snapshot *a, const snapshot *b) {
    return a->len == b->len && a->count == b->count &&
           memcmp(a->keys, b->keys, sizeof a->keys) == 0 &&
           memcmp(a->dist, b->dist, sizeof a->dist) == 0;
}

/* Expects `call` to return `code` and the index to be unchanged by it. */
#define REFUSED(index, code, call, what)                                              \
    do {                                                                              \
        snapshot before_ = snap(index);                                               \
        int32_t rc_ = (call);                                                         \
        CHECK(rc_ == (code), "%s: %s returned %d, expected %d", what, #call, rc_, code); \
        CHECK(strlen(fv_last_error_message()) > 0, "%s: no message", what);          \
        snapshot after_ = snap(index);                                                \
        CHECK(same(&before_, &after_), "%s: %s changed the index", what, #call);     \
    } while (0)

static fv_index *new_index(const fv_engine *engine, int32_t metric, int32_t storage,
                           int32_t kind) {
    fv_index_options opts = fv_index_options_default();
    opts.dims = DIMS;
    opts.metric = metric;
    opts.storage = storage;
    opts.kind = kind;
    fv_index *index = NULL;
    int32_t rc = fv_index_new(engine, &opts, &index);
    CHECK(rc == FV_OK && index != NULL, "fv_index_new = %d", rc);
    return index;
}

/* ---- the whole API on one engine ---- */

static void test_api(const fv_engine *engine, const char *backend, const char *tmp_dir) {
    char what[128];
    dataset *d = calloc(1, sizeof *d);
    for (size_t i = 0; i < N; i++) d->keys[i] = 1000 + 7 * i;
    fill(d->rows, N * DIMS);
    fv_index *index = new_index(engine, FV_INDEX_METRIC_L2SQ, FV_STORAGE_F32, FV_INDEX_EXACT);
    if (!index) {
        free(d);
        return;
    }
    size_t len = 99, dims = 0, count = 99;
    uint64_t keys[N + 50]; /* room for the k > len search below */
    float dist[N + 50];

    /* empty index: a search finds nothing, it is not an error */
    CHECK(fv_index_search(index, probe, DIMS, K, keys, dist, &count) == FV_OK && count == 0,
          "%s: empty search count %zu", backend, count);
    CHECK(fv_index_dims(index, &dims) == FV_OK && dims == DIMS, "%s: dims", backend);

    /* add: one by one for the first half, a batch for the rest */
    CHECK(fv_index_reserve(index, N) == FV_OK, "%s: reserve", backend);
    for (size_t i = 0; i < N / 2; i++) {
        CHECK(fv_index_add(index, d->keys[i], &d->rows[i * DIMS], DIMS,
                           FV_ON_DUPLICATE_ERROR) == FV_OK,
              "%s: add %zu", backend, i);
        d->live[i] = true;
    }
    CHECK(fv_index_add_batch(index, &d->keys[N / 2], N / 2, &d->rows[(N / 2) * DIMS],
                             (N / 2) * DIMS, FV_ON_DUPLICATE_ERROR) == FV_OK,
          "%s: add_batch", backend);
    for (size_t i = N / 2; i < N; i++) d->live[i] = true;
    CHECK(fv_index_len(index, &len) == FV_OK && len == N, "%s: len %zu", backend, len);

    /* contains / get */
    int32_t found = -1;
    CHECK(fv_index_contains(index, d->keys[5], &found) == FV_OK && found == 1, "%s: contains",
          backend);
    CHECK(fv_index_contains(index, 3, &found) == FV_OK && found == 0, "%s: !contains", backend);
    float got[DIMS];
    CHECK(fv_index_get(index, d->keys[17], got, DIMS) == FV_OK &&
              memcmp(got, &d->rows[17 * DIMS], sizeof got) == 0,
          "%s: get returns the stored vector", backend);

    /* search, filtered, allowed, batch: against the reference */
    float queries[4 * DIMS];
    fill(queries, 4 * DIMS);
    for (size_t q = 0; q < 4; q++) {
        snprintf(what, sizeof what, "%s: search %zu", backend, q);
        CHECK(fv_index_search(index, &queries[q * DIMS], DIMS, K, keys, dist, &count) == FV_OK,
              "%s", what);
        check_exact(what, d, &queries[q * DIMS], K, false, keys, dist, count);

        snprintf(what, sizeof what, "%s: filtered %zu", backend, q);
        long calls = 0;
        CHECK(fv_index_search_filtered(index, &queries[q * DIMS], DIMS, K, accept_even, &calls,
                                       keys, dist, &count) == FV_OK,
              "%s", what);
        CHECK(calls > 0, "%s: the filter was never called", what);
        check_exact(what, d, &queries[q * DIMS], K, true, keys, dist, count);

        /* the allow-list form with every even key (and some unknown ones): same answer */
        uint64_t allowed[N + 2];
        size_t n_allowed = 0;
        for (size_t i = 0; i < N; i++)
            if (d->keys[i] % 2 == 0) allowed[n_allowed++] = d->keys[i];
        allowed[n_allowed++] = 2;
        allowed[n_allowed++] = 4;
        snprintf(what, sizeof what, "%s: allowed %zu", backend, q);
        CHECK(fv_index_search_allowed(index, &queries[q * DIMS], DIMS, K, allowed, n_allowed,
                                      keys, dist, &count) == FV_OK,
              "%s", what);
        check_exact(what, d, &queries[q * DIMS], K, true, keys, dist, count);
    }
    {
        uint64_t bkeys[4 * K];
        float bdist[4 * K];
        size_t counts[4];
        CHECK(fv_index_search_batch(index, queries, 4, 4 * DIMS, K, bkeys, bdist, counts) == FV_OK,
              "%s: batch", backend);
        for (size_t q = 0; q < 4; q++) {
            snprintf(what, sizeof what, "%s: batch %zu", backend, q);
            check_exact(what, d, &queries[q * DIMS], K, false, &bkeys[q * K], &bdist[q * K],
                        counts[q]);
        }
    }
    /* k > len returns everything; a filter that rejects everything returns nothing */
    CHECK(fv_index_search(index, probe, DIMS, N + 50, keys, dist, &count) == FV_OK && count == N,
          "%s: k > len gave %zu", backend, count);
    CHECK(fv_index_search_filtered(index, probe, DIMS, K, accept_none, NULL, keys, dist,
                                   &count) == FV_OK &&
              count == 0,
          "%s: reject-all filter gave %zu", backend, count);
    CHECK(fv_index_search_allowed(index, probe, DIMS, K, NULL, 0, keys, dist, &count) == FV_OK &&
              count == 0,
          "%s: empty allow-list gave %zu", backend, count);

    /* remove, replace, compact */
    CHECK(fv_index_remove(index, d->keys[3]) == FV_OK, "%s: remove", backend);
    d->live[3] = false;
    CHECK(fv_index_contains(index, d->keys[3], &found) == FV_OK && found == 0,
          "%s: removed key still there", backend);
    float replacement[DIMS];
    fill(replacement, DIMS);
    CHECK(fv_index_add(index, d->keys[4], replacement, DIMS, FV_ON_DUPLICATE_REPLACE) == FV_OK,
          "%s: replace", backend);
    memcpy(&d->rows[4 * DIMS], replacement, sizeof replacement);
    CHECK(fv_index_get(index, d->keys[4], got, DIMS) == FV_OK &&
              memcmp(got, replacement, sizeof got) == 0,
          "%s: get after replace", backend);
    CHECK(fv_index_compact(index) == FV_OK, "%s: compact", backend);
    CHECK(fv_index_len(index, &len) == FV_OK && len == N - 1, "%s: len after remove", backend);
    snprintf(what, sizeof what, "%s: search after remove/replace/compact", backend);
    CHECK(fv_index_search(index, probe, DIMS, K, keys, dist, &count) == FV_OK, "%s", what);
    check_exact(what, d, probe, K, false, keys, dist, count);

    /* ---- misuse: each refused with its code, the index unchanged ---- */
    float nan_vec[DIMS];
    memcpy(nan_vec, probe, sizeof nan_vec);
    nan_vec[5] = NAN;
    float inf_vec[DIMS];
    memcpy(inf_vec, probe, sizeof inf_vec);
    inf_vec[0] = INFINITY;
    REFUSED(index, FV_ERR_DIMENSION_MISMATCH,
            fv_index_add(index, 1, probe, DIMS - 1, FV_ON_DUPLICATE_ERROR), backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_add(index, 1, nan_vec, DIMS, FV_ON_DUPLICATE_ERROR), backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_add(index, 1, inf_vec, DIMS, FV_ON_DUPLICATE_ERROR), backend);
    REFUSED(index, FV_ERR_DUPLICATE_KEY,
            fv_index_add(index, d->keys[0], probe, DIMS, FV_ON_DUPLICATE_ERROR), backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT, fv_index_add(index, 1, probe, DIMS, 7), backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_add(index, 1, NULL, DIMS, FV_ON_DUPLICATE_ERROR), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_add(NULL, 1, probe, DIMS, FV_ON_DUPLICATE_ERROR),
            backend);
    {
        /* a batch with one bad row in the middle adds nothing */
        uint64_t bk[3] = {1, 2, 3};
        float bv[3 * DIMS];
        fill(bv, 3 * DIMS);
        bv[DIMS + 2] = NAN;
        REFUSED(index, FV_ERR_INVALID_ARGUMENT,
                fv_index_add_batch(index, bk, 3, bv, 3 * DIMS, FV_ON_DUPLICATE_ERROR), backend);
        bv[DIMS + 2] = 0.5f;
        REFUSED(index, FV_ERR_DIMENSION_MISMATCH,
                fv_index_add_batch(index, bk, 3, bv, 3 * DIMS - 1, FV_ON_DUPLICATE_ERROR),
                backend);
        bk[2] = d->keys[9];
        REFUSED(index, FV_ERR_DUPLICATE_KEY,
                fv_index_add_batch(index, bk, 3, bv, 3 * DIMS, FV_ON_DUPLICATE_ERROR), backend);
        REFUSED(index, FV_ERR_NULL_POINTER,
                fv_index_add_batch(index, NULL, 3, bv, 3 * DIMS, FV_ON_DUPLICATE_ERROR), backend);
    }
    REFUSED(index, FV_ERR_KEY_NOT_FOUND, fv_index_remove(index, 424242), backend);
    REFUSED(index, FV_ERR_KEY_NOT_FOUND, fv_index_remove(index, d->keys[3]), backend);
    REFUSED(index, FV_ERR_KEY_NOT_FOUND, fv_index_get(index, 424242, got, DIMS), backend);
    REFUSED(index, FV_ERR_DIMENSION_MISMATCH, fv_index_get(index, d->keys[0], got, DIMS + 1),
            backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_get(index, d->keys[0], NULL, DIMS), backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT, fv_index_set_ef_search(index, 32), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_contains(index, 1, NULL), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_len(index, NULL), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_len(NULL, &len), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_dims(index, NULL), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_remove(NULL, 1), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_compact(NULL), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_clear(NULL), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_reserve(NULL, 1), backend);
    /* searches: k = 0, wrong dimension, NaN, NULL outputs, NULL filter */
    count = 77;
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_search(index, probe, DIMS, 0, keys, dist, &count), backend);
    CHECK(count == 77, "%s: out_count written on failure", backend);
    REFUSED(index, FV_ERR_DIMENSION_MISMATCH,
            fv_index_search(index, probe, DIMS - 2, K, keys, dist, &count), backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_search(index, nan_vec, DIMS, K, keys, dist, &count), backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search(index, NULL, DIMS, K, keys, dist, &count), backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search(index, probe, DIMS, K, NULL, dist, &count), backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search(index, probe, DIMS, K, keys, NULL, &count), backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search(index, probe, DIMS, K, keys, dist, NULL), backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search(NULL, probe, DIMS, K, keys, dist, &count), backend);
    /* outputs sized k: an impossible k, and the two outputs overlapping */
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_search(index, probe, DIMS, SIZE_MAX, keys, dist, &count), backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_search(index, probe, DIMS, 2, keys, (float *)(void *)keys, &count),
            backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search_filtered(index, probe, DIMS, K, NULL, NULL, keys, dist, &count),
            backend);
    REFUSED(index, FV_ERR_INVALID_ARGUMENT,
            fv_index_search_filtered(index, probe, DIMS, 0, accept_none, NULL, keys, dist,
                                     &count),
            backend);
    REFUSED(index, FV_ERR_NULL_POINTER,
            fv_index_search_allowed(index, probe, DIMS, K, NULL, 3, keys, dist, &count), backend);
    {
        uint64_t bkeys[2 * K];
        float bdist[2 * K];
        size_t counts[2];
        REFUSED(index, FV_ERR_DIMENSION_MISMATCH,
                fv_index_search_batch(index, queries, 2, 2 * DIMS - 1, K, bkeys, bdist, counts),
                backend);
        REFUSED(index, FV_ERR_INVALID_ARGUMENT,
                fv_index_search_batch(index, queries, 2, 2 * DIMS, 0, bkeys, bdist, counts),
                backend);
        REFUSED(index, FV_ERR_NULL_POINTER,
                fv_index_search_batch(index, queries, 2, 2 * DIMS, K, bkeys, bdist, NULL),
                backend);
    }

    /* ---- save / load: bytes and files, identical search results ---- */
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    CHECK(fv_index_save_bytes(index, &bytes, &n_bytes) == FV_OK && bytes && n_bytes > 4,
          "%s: save_bytes", backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_save_bytes(index, NULL, &n_bytes), backend);
    REFUSED(index, FV_ERR_NULL_POINTER, fv_index_save_bytes(index, &bytes, NULL), backend);
    if (bytes) {
        CHECK(memcmp(bytes, "FVIX", 4) == 0, "%s: magic", backend);
        snapshot original = snap(index);
        fv_index *loaded = NULL;
        CHECK(fv_index_load_bytes(engine, bytes, n_bytes, &loaded) == FV_OK && loaded,
              "%s: load_bytes", backend);
        if (loaded) {
            snapshot copy = snap(loaded);
            CHECK(same(&original, &copy), "%s: loaded index searches differently", backend);
            CHECK(fv_index_free(loaded) == FV_OK, "%s: free loaded", backend);
        }
        /* every truncation and some flipped bytes: a clear error, *out untouched */
        fv_index *sentinel = (fv_index *)&failures, *out = sentinel;
        int bad_codes = 0;
        for (size_t cut = 0; cut < n_bytes; cut += (cut < 256 ? 1 : 97)) {
            int32_t rc = fv_index_load_bytes(engine, bytes, cut, &out);
            bad_codes += rc != FV_ERR_CORRUPT_FILE && rc != FV_ERR_UNSUPPORTED_VERSION;
        }
        CHECK(bad_codes == 0, "%s: %d truncations not refused as corrupt", backend, bad_codes);
        for (size_t at = 0; at < n_bytes; at += 1 + n_bytes / 97) {
            bytes[at] ^= 0x20;
            int32_t rc = fv_index_load_bytes(engine, bytes, n_bytes, &out);
            bytes[at] ^= 0x20;
            CHECK(rc == FV_ERR_CORRUPT_FILE || rc == FV_ERR_UNSUPPORTED_VERSION,
                  "%s: byte %zu flipped loaded with %d", backend, at, rc);
        }
        CHECK(out == sentinel, "%s: *out written by a failed load", backend);
        CHECK(fv_index_load_bytes(engine, NULL, 10, &out) == FV_ERR_NULL_POINTER,
              "%s: load NULL bytes", backend);
        CHECK(fv_index_load_bytes(engine, bytes, n_bytes, NULL) == FV_ERR_NULL_POINTER,
              "%s: load NULL out", backend);
        CHECK(fv_index_load_bytes(NULL, bytes, n_bytes, &out) == FV_ERR_NULL_POINTER,
              "%s: load NULL engine", backend);
        fv_bytes_free(bytes, n_bytes);
    }
    fv_bytes_free(NULL, 0);

    char path[4096];
    snprintf(path, sizeof path, "%s/test_index_%s.fvix", tmp_dir, backend);
    CHECK(fv_index_save_file(index, path) == FV_OK, "%s: save_file %s", backend, path);
    {
        fv_index *loaded = NULL;
        CHECK(fv_index_load_file(engine, path, &loaded) == FV_OK && loaded, "%s: load_file",
              backend);
        if (loaded) {
            snapshot a = snap(index), b = snap(loaded);
            CHECK(same(&a, &b), "%s: file round trip searches differently", backend);
            fv_index_free(loaded);
        }
        /* a file of garbage, a missing file, a directory as a path */
        FILE *f = fopen(path, "wb");
        if (f) {
            fputs("this is not an index at all", f);
            fclose(f);
        }
        fv_index *out = NULL;
        CHECK(fv_index_load_file(engine, path, &out) == FV_ERR_CORRUPT_FILE && out == NULL,
              "%s: garbage file", backend);
        remove(path);
        CHECK(fv_index_load_file(engine, path, &out) == FV_ERR_INVALID_ARGUMENT && out == NULL,
              "%s: missing file", backend);
        CHECK(fv_index_load_file(engine, NULL, &out) == FV_ERR_NULL_POINTER, "%s: NULL path",
              backend);
        char bad_dir[4200];
        snprintf(bad_dir, sizeof bad_dir, "%s/no/such/dir/x.fvix", tmp_dir);
        REFUSED(index, FV_ERR_INVALID_ARGUMENT, fv_index_save_file(index, bad_dir), backend);
        REFUSED(index, FV_ERR_NULL_POINTER, fv_index_save_file(index, NULL), backend);
    }

    /* clear keeps the options */
    CHECK(fv_index_clear(index) == FV_OK, "%s: clear", backend);
    CHECK(fv_index_len(index, &len) == FV_OK && len == 0, "%s: len after clear", backend);
    CHECK(fv_index_add(index, 5, probe, DIMS, FV_ON_DUPLICATE_ERROR) == FV_OK,
          "%s: add after clear", backend);
    CHECK(fv_index_search(index, probe, DIMS, K, keys, dist, &count) == FV_OK && count == 1 &&
              keys[0] == 5 && dist[0] == 0.0f,
          "%s: search after clear", backend);

    /* free: NULL is fine, a double free is detected */
    CHECK(fv_index_free(index) == FV_OK, "%s: free", backend);
    CHECK(fv_index_free(index) == FV_ERR_INVALID_HANDLE, "%s: double free", backend);
    CHECK(fv_index_free(NULL) == FV_OK, "%s: free NULL", backend);
    free(d);
}

/* ---- options: every code refused or accepted as documented ---- */

static void test_options(const fv_engine *engine, const char *backend) {
    fv_index *out = NULL;
    fv_index_options opts = fv_index_options_default();
    CHECK(opts.metric == FV_INDEX_METRIC_COSINE && opts.storage == FV_STORAGE_F32 &&
              opts.kind == FV_INDEX_EXACT && opts.m == 16 && opts.ef_construction == 128 &&
              opts.ef_search == 64,
          "%s: defaults", backend);
    CHECK(fv_index_new(engine, &opts, &out) == FV_ERR_INVALID_ARGUMENT && out == NULL,
          "%s: dims 0", backend);
    opts.dims = DIMS;
    CHECK(fv_index_new(NULL, &opts, &out) == FV_ERR_NULL_POINTER, "%s: NULL engine", backend);
    CHECK(fv_index_new(engine, NULL, &out) == FV_ERR_NULL_POINTER, "%s: NULL options", backend);
    CHECK(fv_index_new(engine, &opts, NULL) == FV_ERR_NULL_POINTER, "%s: NULL out", backend);
    opts.metric = 42;
    CHECK(fv_index_new(engine, &opts, &out) == FV_ERR_UNKNOWN_METRIC, "%s: metric 42", backend);
    opts.metric = FV_INDEX_METRIC_COSINE;
    opts.storage = 9;
    CHECK(fv_index_new(engine, &opts, &out) == FV_ERR_INVALID_ARGUMENT, "%s: storage 9", backend);
    opts.storage = FV_STORAGE_F32;
    opts.kind = 5;
    CHECK(fv_index_new(engine, &opts, &out) == FV_ERR_INVALID_ARGUMENT, "%s: kind 5", backend);
    CHECK(out == NULL, "%s: out written by a failed new", backend);

    /* the metric/storage table: which pairs exist */
    static const int32_t metrics[] = {FV_INDEX_METRIC_COSINE, FV_INDEX_METRIC_L2SQ,
                                      FV_INDEX_METRIC_INNER_PRODUCT, FV_INDEX_METRIC_HAMMING,
                                      FV_INDEX_METRIC_JACCARD};
    static const int32_t storages[] = {FV_STORAGE_F32, FV_STORAGE_I8, FV_STORAGE_B1,
                                       FV_STORAGE_F16, FV_STORAGE_BF16};
    for (size_t m = 0; m < 5; m++) {
        for (size_t s = 0; s < 5; s++) {
            for (int32_t kind = FV_INDEX_EXACT; kind <= FV_INDEX_HNSW; kind++) {
                fv_index_options o = fv_index_options_default();
                o.dims = DIMS;
                o.metric = metrics[m];
                o.storage = storages[s];
                o.kind = kind;
                bool binary_metric = metrics[m] == FV_INDEX_METRIC_HAMMING ||
                                     metrics[m] == FV_INDEX_METRIC_JACCARD;
                bool ok = binary_metric == (storages[s] == FV_STORAGE_B1);
                fv_index *ix = NULL;
                int32_t rc = fv_index_new(engine, &o, &ix);
                CHECK(rc == (ok ? FV_OK : FV_ERR_INVALID_ARGUMENT),
                      "%s: metric %d storage %d kind %d: %d", backend, metrics[m], storages[s],
                      kind, rc);
                if (rc != FV_OK) continue;
                /* a tiny add + search works on every valid pair; the exact match is first */
                float rows[3 * DIMS];
                fill(rows, 3 * DIMS);
                uint64_t ks[3] = {10, 20, 30};
                CHECK(fv_index_add_batch(ix, ks, 3, rows, 3 * DIMS, FV_ON_DUPLICATE_ERROR) ==
                          FV_OK,
                      "%s: add to pair %zu/%zu", backend, m, s);
                uint64_t keys[3];
                float dist[3];
                size_t count = 0;
                CHECK(fv_index_search(ix, &rows[DIMS], DIMS, 3, keys, dist, &count) == FV_OK &&
                          count == 3,
                      "%s: search pair %zu/%zu kind %d: count %zu", backend, m, s, kind, count);
                /* the row itself is nearest (ties aside: two rows may share sign bits), except
                 * for the inner product, where a longer row can beat it */
                bool self_nearest = false;
                for (size_t j = 0; j < count; j++)
                    self_nearest |= keys[j] == 20 && dist[j] <= dist[0] + 1e-6f;
                CHECK(metrics[m] == FV_INDEX_METRIC_INNER_PRODUCT || self_nearest,
                      "%s: pair %zu/%zu kind %d: the query's own row is not nearest", backend, m,
                      s, kind);
                fv_index_free(ix);
            }
        }
    }
}

/* ---- f16 and bf16 storage ---- */

/* `x` rounded to nearest even with `bits` significant bits and no ulp below 2^min_ulp_exp
 * (subnormals), in f64 where every step is exact: the value an f16 (11 bits, 2^-24) or bf16
 * (8 bits, 2^-133) row holds, for finite `x` inside the storage's range. */
static float round_to_bits(float x, int bits, int min_ulp_exp) {
    if (x == 0.0f) return x;
    int e;
    frexp((double)x, &e); /* |x| in [2^(e-1), 2^e) */
    int ulp_exp = e - bits;
    if (ulp_exp < min_ulp_exp) ulp_exp = min_ulp_exp;
    /* nearbyint rounds half to even in the default rounding mode */
    return (float)ldexp(nearbyint(ldexp((double)x, -ulp_exp)), ulp_exp);
}

static float stored_value(int32_t storage, float x) {
    return storage == FV_STORAGE_F16 ? round_to_bits(x, 11, -24) : round_to_bits(x, 8, -133);
}

static void test_half(const fv_engine *engine, const char *backend) {
    static const int32_t halves[] = {FV_STORAGE_F16, FV_STORAGE_BF16};
    static const char *half_names[] = {"f16", "bf16"};
    char what[160];
    fv_engine *native = NULL;
    CHECK(fv_engine_new(FV_BACKEND_NATIVE, NULL, &native) == FV_OK && native,
          "%s: native engine", backend);
    dataset *d = calloc(1, sizeof *d);
    dataset *rounded = calloc(1, sizeof *rounded);
    for (size_t h = 0; h < 2 && native; h++) {
        const int32_t storage = halves[h];
        const char *name = half_names[h];
        fv_index *index = new_index(engine, FV_INDEX_METRIC_L2SQ, storage, FV_INDEX_EXACT);
        if (!index) continue;
        for (size_t i = 0; i < N; i++) {
            d->keys[i] = rounded->keys[i] = 500 + 3 * i;
            d->live[i] = rounded->live[i] = true;
        }
        fill(d->rows, N * DIMS);
        size_t changed = 0;
        for (size_t i = 0; i < N * DIMS; i++) {
            rounded->rows[i] = stored_value(storage, d->rows[i]);
            changed += rounded->rows[i] != d->rows[i];
        }
        /* the inputs have 23-bit mantissas: almost all of them round */
        CHECK(changed > N * DIMS / 2, "%s %s: only %zu of the inputs round", backend, name,
              changed);
        CHECK(fv_index_add_batch(index, d->keys, N, d->rows, N * DIMS, FV_ON_DUPLICATE_ERROR) ==
                  FV_OK,
              "%s %s: add_batch", backend, name);
        float got[DIMS];
        for (size_t i = 0; i < N; i += 37) {
            CHECK(fv_index_get(index, d->keys[i], got, DIMS) == FV_OK &&
                      memcmp(got, &rounded->rows[i * DIMS], sizeof got) == 0,
                  "%s %s: get %zu is not the rounded input (%.9g vs %.9g)", backend, name, i,
                  (double)got[0], (double)rounded->rows[i * DIMS]);
        }
        /* exact search ranks the rounded rows */
        float queries[4 * DIMS];
        fill(queries, 4 * DIMS);
        uint64_t keys[K];
        float dist[K];
        size_t count = 0;
        for (size_t q = 0; q < 4; q++) {
            snprintf(what, sizeof what, "%s %s: search %zu", backend, name, q);
            CHECK(fv_index_search(index, &queries[q * DIMS], DIMS, K, keys, dist, &count) ==
                      FV_OK,
                  "%s", what);
            check_exact(what, rounded, &queries[q * DIMS], K, false, keys, dist, count);
        }

        /* out of range: refused with the documented status and message, nothing added */
        float big[DIMS];
        memcpy(big, probe, sizeof big);
        big[2] = storage == FV_STORAGE_F16 ? 65520.0f : -3.4e38f;
        char expected[32];
        snprintf(expected, sizeof expected, "out of %s range", name);
        REFUSED(index, FV_ERR_INVALID_ARGUMENT,
                fv_index_add(index, 1, big, DIMS, FV_ON_DUPLICATE_ERROR), backend);
        CHECK(strstr(fv_last_error_message(), expected) != NULL, "%s %s: message '%s'", backend,
              name, fv_last_error_message());
        {
            uint64_t bk[2] = {1, 2};
            float bv[2 * DIMS];
            memcpy(bv, probe, sizeof probe);
            memcpy(&bv[DIMS], big, sizeof big);
            REFUSED(index, FV_ERR_INVALID_ARGUMENT,
                    fv_index_add_batch(index, bk, 2, bv, 2 * DIMS, FV_ON_DUPLICATE_ERROR),
                    backend);
            CHECK(strstr(fv_last_error_message(), "vector 1") != NULL &&
                      strstr(fv_last_error_message(), expected) != NULL,
                  "%s %s: batch message '%s'", backend, name, fv_last_error_message());
            int32_t found = -1;
            CHECK(fv_index_contains(index, 1, &found) == FV_OK && found == 0,
                  "%s %s: a refused batch added its first row", backend, name);
        }
        if (storage == FV_STORAGE_F16) {
            /* the largest finite f16 and what rounds to it are kept */
            big[2] = 65504.0f;
            big[3] = -65519.0f;
            CHECK(fv_index_add(index, 2, big, DIMS, FV_ON_DUPLICATE_ERROR) == FV_OK &&
                      fv_index_get(index, 2, got, DIMS) == FV_OK && got[2] == 65504.0f &&
                      got[3] == -65504.0f,
                  "%s f16: 65504 / -65519 not kept as +-65504", backend);
            CHECK(fv_index_remove(index, 2) == FV_OK, "%s f16: remove", backend);
        }

        /* save / load: format version 3, same results and bytes on both backends */
        uint8_t *bytes = NULL;
        size_t n_bytes = 0;
        CHECK(fv_index_save_bytes(index, &bytes, &n_bytes) == FV_OK && bytes && n_bytes > 8,
              "%s %s: save_bytes", backend, name);
        if (bytes) {
            uint32_t version = (uint32_t)bytes[4] | (uint32_t)bytes[5] << 8 |
                               (uint32_t)bytes[6] << 16 | (uint32_t)bytes[7] << 24;
            CHECK(version == 3, "%s %s: file version %u", backend, name, version);
            snapshot original = snap(index);
            const fv_engine *targets[2] = {engine, native};
            for (size_t t = 0; t < 2; t++) {
                fv_index *loaded = NULL;
                CHECK(fv_index_load_bytes(targets[t], bytes, n_bytes, &loaded) == FV_OK && loaded,
                      "%s %s: load_bytes %zu", backend, name, t);
                if (!loaded) continue;
                snapshot copy = snap(loaded);
                snprintf(what, sizeof what, "%s %s: loaded (%zu)", backend, name, t);
                if (t == 0) {
                    CHECK(same(&original, &copy), "%s: searches differently", what);
                } else {
                    check_exact(what, rounded, probe, K, false, copy.keys, copy.dist, copy.count);
                }
                CHECK(fv_index_get(loaded, d->keys[5], got, DIMS) == FV_OK &&
                          memcmp(got, &rounded->rows[5 * DIMS], sizeof got) == 0,
                      "%s: get", what);
                uint8_t *again = NULL;
                size_t n_again = 0;
                CHECK(fv_index_save_bytes(loaded, &again, &n_again) == FV_OK &&
                          n_again == n_bytes && memcmp(again, bytes, n_bytes) == 0,
                      "%s: re-saved bytes differ", what);
                fv_bytes_free(again, n_again);
                fv_index_free(loaded);
            }
            fv_bytes_free(bytes, n_bytes);
        }
        CHECK(fv_index_free(index) == FV_OK, "%s %s: free", backend, name);
    }
    free(rounded);
    free(d);
    fv_engine_free(native);
}

/* ---- HNSW: recall against exact search, ef_search, save/load ---- */

static void test_hnsw(const fv_engine *engine, const char *backend) {
    enum { HN = 1000, HQ = 20 };
    fv_index_options opts = fv_index_options_default();
    opts.dims = DIMS;
    opts.metric = FV_INDEX_METRIC_L2SQ;
    opts.kind = FV_INDEX_HNSW;
    opts.seed = 99;
    fv_index *hnsw = NULL, *exact = NULL;
    CHECK(fv_index_new(engine, &opts, &hnsw) == FV_OK, "%s: hnsw", backend);
    opts.kind = FV_INDEX_EXACT;
    CHECK(fv_index_new(engine, &opts, &exact) == FV_OK, "%s: exact", backend);
    if (!hnsw || !exact) return;
    float *rows = malloc(HN * DIMS * sizeof(float));
    uint64_t *ks = malloc(HN * sizeof(uint64_t));
    fill(rows, HN * DIMS);
    for (size_t i = 0; i < HN; i++) ks[i] = i * 3 + 1;
    CHECK(fv_index_add_batch(hnsw, ks, HN, rows, HN * DIMS, FV_ON_DUPLICATE_ERROR) == FV_OK,
          "%s: hnsw add", backend);
    CHECK(fv_index_add_batch(exact, ks, HN, rows, HN * DIMS, FV_ON_DUPLICATE_ERROR) == FV_OK,
          "%s: exact add", backend);
    CHECK(fv_index_set_ef_search(hnsw, 0) == FV_ERR_INVALID_ARGUMENT, "%s: ef 0", backend);
    CHECK(fv_index_set_ef_search(hnsw, 128) == FV_OK, "%s: ef 128", backend);
    size_t hits = 0;
    for (size_t q = 0; q < HQ; q++) {
        float query[DIMS];
        fill(query, DIMS);
        uint64_t ak[K], ek[K];
        float ad[K], ed[K];
        size_t an = 0, en = 0;
        CHECK(fv_index_search(hnsw, query, DIMS, K, ak, ad, &an) == FV_OK && an == K,
              "%s: hnsw search", backend);
        CHECK(fv_index_search(exact, query, DIMS, K, ek, ed, &en) == FV_OK && en == K,
              "%s: exact search", backend);
        for (size_t i = 0; i < an; i++)
            for (size_t j = 0; j < en; j++) hits += ak[i] == ek[j];
        /* filtered HNSW still returns k when >= k keys pass */
        long calls = 0;
        CHECK(fv_index_search_filtered(hnsw, query, DIMS, K, accept_even, &calls, ak, ad, &an) ==
                      FV_OK &&
                  an == K,
              "%s: filtered hnsw returned %zu", backend, an);
        for (size_t i = 0; i < an; i++) CHECK(ak[i] % 2 == 0, "%s: odd key passed", backend);
    }
    double recall = (double)hits / (HQ * K);
    CHECK(recall >= 0.95, "%s: hnsw recall@%d %.3f", backend, K, recall);

    /* save -> load -> identical results */
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    CHECK(fv_index_save_bytes(hnsw, &bytes, &n_bytes) == FV_OK, "%s: hnsw save", backend);
    fv_index *loaded = NULL;
    if (bytes) {
        CHECK(fv_index_load_bytes(engine, bytes, n_bytes, &loaded) == FV_OK, "%s: hnsw load",
              backend);
        fv_bytes_free(bytes, n_bytes);
    }
    if (loaded) {
        CHECK(fv_index_set_ef_search(loaded, 128) == FV_OK, "%s: ef on loaded", backend);
        snapshot a = snap(hnsw), b = snap(loaded);
        CHECK(same(&a, &b), "%s: loaded hnsw searches differently", backend);
        fv_index_free(loaded);
    }
    free(rows);
    free(ks);
    fv_index_free(hnsw);
    fv_index_free(exact);
}

/* ---- threads: readers search while a writer adds and removes ---- */

#define FIXED 50     /* keys 0..49: never removed */
#define CHURN 200    /* keys 1000..: added and removed by the writer */
#define READERS 3

typedef struct {
    fv_index *index;
    const float *fixed_rows;
    _Atomic int *stop;
    int bad;
    long searches;
} reader_ctx;

static int reader(void *arg) {
    reader_ctx *ctx = arg;
    uint64_t keys[K];
    float dist[K];
    size_t count;
    size_t i = 0;
    /* at least some searches even if the writer finishes first */
    while (!*ctx->stop || ctx->searches < 20) {
        /* an exact copy of a never-removed vector: found at distance 0 */
        size_t which = i++ % FIXED;
        const float *q = &ctx->fixed_rows[which * DIMS];
        if (fv_index_search(ctx->index, q, DIMS, K, keys, dist, &count) != FV_OK) {
            ctx->bad++;
            continue;
        }
        ctx->searches++;
        bool found = false;
        for (size_t j = 0; j < count; j++) {
            found |= keys[j] == which && dist[j] == 0.0f;
            if (j > 0 && dist[j] < dist[j - 1]) ctx->bad++;
            /* only keys the test ever adds */
            if (!(keys[j] < FIXED || (keys[j] >= 1000 && keys[j] < 1000 + CHURN))) ctx->bad++;
        }
        if (count != K || !found) ctx->bad++;
    }
    return 0;
}

static void test_threads(const fv_engine *engine, const char *backend) {
    fv_index *index = new_index(engine, FV_INDEX_METRIC_L2SQ, FV_STORAGE_F32, FV_INDEX_EXACT);
    if (!index) return;
    float *fixed_rows = malloc(FIXED * DIMS * sizeof(float));
    float *churn_rows = malloc(CHURN * DIMS * sizeof(float));
    /* fixed rows far apart from each other and the churn (which sits near the origin), so
     * a fixed row's exact copy always has itself first */
    fill(fixed_rows, FIXED * DIMS);
    for (size_t i = 0; i < FIXED * DIMS; i++) fixed_rows[i] *= 10.0f;
    fill(churn_rows, CHURN * DIMS);
    for (uint64_t k = 0; k < FIXED; k++)
        CHECK(fv_index_add(index, k, &fixed_rows[k * DIMS], DIMS, FV_ON_DUPLICATE_ERROR) == FV_OK,
              "%s: add fixed", backend);
    _Atomic int stop = 0;
    reader_ctx ctx[READERS];
    thrd_t threads[READERS];
    for (int t = 0; t < READERS; t++) {
        ctx[t] = (reader_ctx){index, fixed_rows, &stop, 0, 0};
        CHECK(thrd_create(&threads[t], reader, &ctx[t]) == thrd_success, "thread %d", t);
    }
    int writer_bad = 0;
    for (int round = 0; round < 3; round++) {
        for (uint64_t k = 0; k < CHURN; k++)
            writer_bad += fv_index_add(index, 1000 + k, &churn_rows[k * DIMS], DIMS,
                                       FV_ON_DUPLICATE_ERROR) != FV_OK;
        for (uint64_t k = 0; k < CHURN; k += 2) writer_bad += fv_index_remove(index, 1000 + k) != FV_OK;
        writer_bad += fv_index_compact(index) != FV_OK;
        for (uint64_t k = 1; k < CHURN; k += 2) writer_bad += fv_index_remove(index, 1000 + k) != FV_OK;
    }
    stop = 1;
    long searches = 0;
    for (int t = 0; t < READERS; t++) {
        thrd_join(threads[t], NULL);
        CHECK(ctx[t].bad == 0, "%s: reader %d saw %d wrong results", backend, t, ctx[t].bad);
        searches += ctx[t].searches;
    }
    CHECK(writer_bad == 0, "%s: %d writes failed", backend, writer_bad);
    size_t len = 0;
    CHECK(fv_index_len(index, &len) == FV_OK && len == FIXED, "%s: len after churn %zu", backend,
          len);
    printf("test_index: %s: %ld concurrent searches, all correct\n", backend, searches);
    fv_index_free(index);
    free(fixed_rows);
    free(churn_rows);
}

int main(int argc, char **argv) {
    rng_seed(11);
    const char *tmp_dir = argc > 1 ? argv[1] : "target/c";
    static const int32_t backends[] = {FV_BACKEND_NATIVE, FV_BACKEND_INTERPRETED};
    static const char *names[] = {"native", "interpreted"};
    for (size_t b = 0; b < 2; b++) {
        fv_engine *engine = NULL;
        int32_t rc = fv_engine_new(backends[b], NULL, &engine);
        CHECK(rc == FV_OK && engine, "fv_engine_new(%s) = %d", names[b], rc);
        if (!engine) continue;
        test_options(engine, names[b]);
        test_api(engine, names[b], tmp_dir);
        test_half(engine, names[b]);
        test_hnsw(engine, names[b]);
        test_threads(engine, names[b]);
        fv_engine_free(engine);
    }
    return check_summary("test_index");
}
