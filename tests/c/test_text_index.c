/*
 * Text on the index (fv_index_new_text, fv_index_with_encoder, fv_index_add_text(s),
 * fv_index_search_text(s), fv_index_model_id, fv_index_load_*_with_encoder) on the tiny
 * random BERT models of `make tiny-model`: target/tiny-bert (seed 1) and
 * target/tiny-bert-seed2 (same shape, other weights, so another model id). Checks: a text
 * finds itself first and the results equal embedding by hand + fv_index_search; a save and
 * load keeps the model id; loading with the other model's encoder fails with a message
 * naming both ids; a handle without an encoder, NULLs, invalid UTF-8 (read as U+FFFD);
 * the interpreted backend gives the same top keys. Outputs must be untouched after every
 * failed call. Built with -std=c11 -Wall -Wextra -Werror, ASan + UBSan by `make test-c`:
 *
 *     ./target/c/build/test_text_index MODEL_DIR OTHER_MODEL_DIR BUILD_DIR
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ferrovec.h"

#define DIMS 32
#define K 3

static const char *TEXTS[] = {
    "The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium.",
    "a cafe today",                 "日本 is so lovely",      "the stadium is outside",
};
#define N_TEXTS (sizeof TEXTS / sizeof TEXTS[0])

static uint64_t key_of(size_t i) { return 100 + i; }

static fv_index_options text_options(void) {
    fv_index_options o = fv_index_options_default();
    o.dims = DIMS;
    o.metric = FV_INDEX_METRIC_COSINE;
    return o;
}

/* Adds TEXTS under key_of(i): the first one alone, the rest in one batch. */
static void add_all(fv_index *index) {
    CHECK(fv_index_add_text(index, key_of(0), TEXTS[0], strlen(TEXTS[0]), FV_ON_DUPLICATE_ERROR) ==
              FV_OK,
          "add_text");
    uint64_t keys[N_TEXTS - 1];
    size_t lens[N_TEXTS - 1];
    for (size_t i = 1; i < N_TEXTS; i++) {
        keys[i - 1] = key_of(i);
        lens[i - 1] = strlen(TEXTS[i]);
    }
    CHECK(fv_index_add_texts(index, keys, TEXTS + 1, lens, N_TEXTS - 1, FV_ON_DUPLICATE_ERROR) ==
              FV_OK,
          "add_texts");
}

/* The top key of a text search (UINT64_MAX on failure). */
static uint64_t top_key(const fv_index *index, const char *text) {
    uint64_t keys[K];
    float distances[K];
    size_t count = 0;
    int rc = fv_index_search_text(index, text, strlen(text), K, keys, distances, &count);
    CHECK(rc == FV_OK && count >= 1, "search_text %s: rc %d count %zu", text, rc, count);
    return rc == FV_OK && count ? keys[0] : UINT64_MAX;
}

static uint64_t model_id_of(const fv_encoder *enc) {
    uint64_t id = 0;
    CHECK(fv_encoder_model_id(enc, &id) == FV_OK, "encoder model id");
    return id;
}

static void test_add_and_search(fv_engine *engine, fv_encoder *enc) {
    fv_index_options o = text_options();
    fv_index *index = NULL;
    CHECK(fv_index_new_text(engine, enc, &o, &index) == FV_OK && index, "new_text");
    if (!index) return;
    uint64_t id = 0;
    bool has = false;
    CHECK(fv_index_model_id(index, &id, &has) == FV_OK && has && id == model_id_of(enc),
          "new_text records the model id: %d %llx", has, (unsigned long long)id);
    add_all(index);
    size_t len = 0;
    CHECK(fv_index_len(index, &len) == FV_OK && len == N_TEXTS, "len %zu", len);

    /* Each text finds itself first, and equals embedding by hand + fv_index_search. */
    for (size_t i = 0; i < N_TEXTS; i++) {
        uint64_t keys[K], want_keys[K];
        float distances[K], want_distances[K], query[DIMS];
        size_t count = 0, want_count = 0, tlen = strlen(TEXTS[i]);
        CHECK(fv_index_search_text(index, TEXTS[i], tlen, K, keys, distances, &count) == FV_OK,
              "search_text %zu", i);
        CHECK(count == K && keys[0] == key_of(i) && distances[0] < 1e-5f,
              "text %zu: count %zu top %llu distance %g", i, count, (unsigned long long)keys[0],
              (double)distances[0]);
        CHECK(fv_encoder_embed(enc, &TEXTS[i], &tlen, 1, query, DIMS) == FV_OK, "embed %zu", i);
        CHECK(fv_index_search(index, query, DIMS, K, want_keys, want_distances, &want_count) ==
                  FV_OK,
              "search %zu", i);
        CHECK(want_count == count && memcmp(keys, want_keys, sizeof keys) == 0 &&
                  memcmp(distances, want_distances, sizeof distances) == 0,
              "text %zu: search_text differs from embed + search", i);
    }

    /* The batch form equals the single searches; NUL-terminated texts (lens NULL) too. */
    uint64_t bkeys[N_TEXTS * K];
    float bdist[N_TEXTS * K];
    size_t counts[N_TEXTS];
    CHECK(fv_index_search_texts(index, TEXTS, NULL, N_TEXTS, K, bkeys, bdist, counts) == FV_OK,
          "search_texts");
    for (size_t i = 0; i < N_TEXTS; i++)
        CHECK(counts[i] == K && bkeys[i * K] == key_of(i), "batch %zu: %zu %llu", i, counts[i],
              (unsigned long long)bkeys[i * K]);

    /* Duplicates: an error leaving the index as it was, or a replacement on request. */
    const char *sunny = "so sunny";
    CHECK(fv_index_add_text(index, key_of(0), sunny, strlen(sunny), FV_ON_DUPLICATE_ERROR) ==
              FV_ERR_DUPLICATE_KEY,
          "duplicate key");
    uint64_t dup_keys[2] = {7, key_of(1)};
    const char *dup_texts[2] = {"a", "b"};
    CHECK(fv_index_add_texts(index, dup_keys, dup_texts, NULL, 2, FV_ON_DUPLICATE_ERROR) ==
              FV_ERR_DUPLICATE_KEY,
          "batch with a duplicate");
    int found = 1;
    CHECK(fv_index_contains(index, 7, &found) == FV_OK && found == 0, "failed batch added 7");
    CHECK(fv_index_add_text(index, key_of(0), sunny, strlen(sunny), FV_ON_DUPLICATE_REPLACE) ==
              FV_OK,
          "replace");
    CHECK(top_key(index, sunny) == key_of(0), "replaced text not found first");

    /* Invalid UTF-8 is read as U+FFFD, as by the encoder. */
    const char bad[] = "so \xff sunny";
    const char replaced[] = "so \xef\xbf\xbd sunny";
    CHECK(fv_index_add_text(index, 50, bad, sizeof bad - 1, FV_ON_DUPLICATE_ERROR) == FV_OK,
          "add invalid UTF-8");
    float a[DIMS], b[DIMS];
    CHECK(fv_index_get(index, 50, a, DIMS) == FV_OK, "get 50");
    const char *pr = replaced;
    size_t lr = sizeof replaced - 1;
    CHECK(fv_encoder_embed(enc, &pr, &lr, 1, b, DIMS) == FV_OK, "embed U+FFFD");
    CHECK(memcmp(a, b, sizeof a) == 0, "invalid UTF-8 indexed unlike U+FFFD");

    CHECK(fv_index_free(index) == FV_OK, "free");
}

static void test_files_and_models(fv_engine *engine, fv_encoder *enc, fv_encoder *other,
                                  const char *build_dir) {
    uint64_t id = model_id_of(enc), other_id = model_id_of(other);
    CHECK(id != other_id, "the two tiny models share an id %llx", (unsigned long long)id);

    /* A plain index takes an encoder through a second handle sharing its vectors; the first
     * text records the model id. */
    fv_index_options o = text_options();
    fv_index *plain = NULL, *text = NULL;
    CHECK(fv_index_new(engine, &o, &plain) == FV_OK, "new");
    uint64_t got = 7;
    bool has = true;
    CHECK(fv_index_model_id(plain, &got, &has) == FV_OK && !has && got == 0, "plain: no id");
    CHECK(fv_index_with_encoder(plain, enc, &text) == FV_OK && text, "with_encoder");
    if (!text) {
        fv_index_free(plain);
        return;
    }
    add_all(text);
    size_t len = 0;
    CHECK(fv_index_len(plain, &len) == FV_OK && len == N_TEXTS, "shared: len %zu", len);
    CHECK(fv_index_model_id(plain, &got, &has) == FV_OK && has && got == id,
          "the first text records the id (seen through both handles)");

    /* The handle without an encoder refuses text, leaving its outputs alone. */
    uint64_t keys[K] = {9, 9, 9};
    float distances[K] = {9, 9, 9};
    size_t count = 99;
    CHECK(fv_index_search_text(plain, "sunny", 5, K, keys, distances, &count) ==
              FV_ERR_INVALID_ARGUMENT,
          "no encoder: search_text");
    CHECK(strstr(fv_last_error_message(), "no text encoder") != NULL, "message: %s",
          fv_last_error_message());
    CHECK(count == 99 && keys[0] == 9 && distances[0] == 9, "failed search wrote its outputs");
    CHECK(fv_index_add_text(plain, 1, "sunny", 5, FV_ON_DUPLICATE_ERROR) ==
              FV_ERR_INVALID_ARGUMENT,
          "no encoder: add_text");

    /* Another model's encoder: refused, naming both ids. */
    fv_index *wrong = NULL;
    CHECK(fv_index_with_encoder(plain, other, &wrong) == FV_ERR_INVALID_ARGUMENT && !wrong,
          "with_encoder of another model");
    char id_hex[17], other_hex[17];
    snprintf(id_hex, sizeof id_hex, "%016llx", (unsigned long long)id);
    snprintf(other_hex, sizeof other_hex, "%016llx", (unsigned long long)other_id);
    CHECK(strstr(fv_last_error_message(), id_hex) && strstr(fv_last_error_message(), other_hex),
          "message names both ids: %s", fv_last_error_message());

    /* Bytes and files keep the model id; loading with the other model fails clearly. */
    uint8_t *bytes = NULL;
    size_t n_bytes = 0;
    CHECK(fv_index_save_bytes(text, &bytes, &n_bytes) == FV_OK, "save_bytes");
    char path[4096];
    snprintf(path, sizeof path, "%s/text_index.fvix", build_dir);
    CHECK(fv_index_save_file(text, path) == FV_OK, "save_file %s", path);

    fv_index *loaded = NULL;
    CHECK(fv_index_load_bytes(engine, bytes, n_bytes, &loaded) == FV_OK, "load_bytes");
    CHECK(fv_index_model_id(loaded, &got, &has) == FV_OK && has && got == id,
          "loaded bytes keep the id");
    fv_index_free(loaded);
    loaded = NULL;
    CHECK(fv_index_load_file_with_encoder(engine, path, enc, &loaded) == FV_OK && loaded,
          "load_file_with_encoder");
    if (loaded) {
        CHECK(fv_index_model_id(loaded, &got, &has) == FV_OK && has && got == id,
              "loaded file keeps the id");
        CHECK(top_key(loaded, TEXTS[2]) == key_of(2), "search after load");
        fv_index_free(loaded);
    }
    loaded = NULL;
    CHECK(fv_index_load_bytes_with_encoder(engine, bytes, n_bytes, enc, &loaded) == FV_OK &&
              loaded,
          "load_bytes_with_encoder");
    fv_index_free(loaded);

    fv_index *sentinel = (fv_index *)&got;
    loaded = sentinel;
    CHECK(fv_index_load_file_with_encoder(engine, path, other, &loaded) ==
                  FV_ERR_INVALID_ARGUMENT &&
              loaded == sentinel,
          "load_file_with_encoder of another model");
    CHECK(strstr(fv_last_error_message(), "models are not comparable") &&
              strstr(fv_last_error_message(), other_hex),
          "mismatch message: %s", fv_last_error_message());
    CHECK(fv_index_load_bytes_with_encoder(engine, bytes, n_bytes, other, &loaded) ==
                  FV_ERR_INVALID_ARGUMENT &&
              loaded == sentinel,
          "load_bytes_with_encoder of another model");
    fv_bytes_free(bytes, n_bytes);

    CHECK(fv_index_free(text) == FV_OK, "free text handle");
    CHECK(fv_index_search_text(plain, "x", 1, K, keys, distances, &count) ==
              FV_ERR_INVALID_ARGUMENT,
          "the plain handle still has no encoder");
    CHECK(fv_index_free(plain) == FV_OK, "free plain handle");
}

static void test_misuse(fv_engine *engine, fv_encoder *enc) {
    fv_index_options o = text_options();
    fv_index *index = NULL;
    CHECK(fv_index_new_text(NULL, enc, &o, &index) == FV_ERR_NULL_POINTER && !index,
          "NULL engine");
    CHECK(fv_index_new_text(engine, NULL, &o, &index) == FV_ERR_NULL_POINTER && !index,
          "NULL encoder");
    CHECK(fv_index_new_text(engine, enc, NULL, &index) == FV_ERR_NULL_POINTER && !index,
          "NULL options");
    CHECK(fv_index_new_text(engine, enc, &o, NULL) == FV_ERR_NULL_POINTER, "NULL out");
    o.dims = DIMS + 1;
    CHECK(fv_index_new_text(engine, enc, &o, &index) == FV_ERR_DIMENSION_MISMATCH && !index,
          "dims differ from the encoder's");
    o.dims = DIMS;
    CHECK(fv_index_new_text(engine, enc, &o, &index) == FV_OK && index, "new_text");
    if (!index) return;

    fv_index *other = NULL;
    CHECK(fv_index_with_encoder(NULL, enc, &other) == FV_ERR_NULL_POINTER, "NULL index");
    CHECK(fv_index_with_encoder(index, NULL, &other) == FV_ERR_NULL_POINTER, "NULL encoder");
    CHECK(fv_index_with_encoder(index, enc, NULL) == FV_ERR_NULL_POINTER, "NULL out");
    CHECK(fv_index_add_text(index, 1, NULL, 3, FV_ON_DUPLICATE_ERROR) == FV_ERR_NULL_POINTER,
          "NULL text with a length");
    CHECK(fv_index_add_text(index, 1, "x", 1, 7) == FV_ERR_INVALID_ARGUMENT, "bad on_duplicate");
    CHECK(fv_index_add_texts(index, NULL, TEXTS, NULL, 2, FV_ON_DUPLICATE_ERROR) ==
              FV_ERR_NULL_POINTER,
          "NULL keys");
    uint64_t keys[2] = {1, 2};
    const char *with_null[2] = {"a", NULL};
    CHECK(fv_index_add_texts(index, keys, with_null, NULL, 2, FV_ON_DUPLICATE_ERROR) ==
              FV_ERR_NULL_POINTER,
          "NULL text in a NUL-terminated batch");
    size_t len = 9;
    CHECK(fv_index_len(index, &len) == FV_OK && len == 0, "failed adds added %zu", len);
    CHECK(fv_index_add_texts(index, NULL, NULL, NULL, 0, FV_ON_DUPLICATE_ERROR) == FV_OK,
          "empty batch");
    /* The empty text (NULL, 0) is a text like any other. */
    CHECK(fv_index_add_text(index, 3, NULL, 0, FV_ON_DUPLICATE_ERROR) == FV_OK, "empty text");

    uint64_t out_keys[K];
    float out_d[K];
    size_t count = 0;
    CHECK(fv_index_search_text(index, "x", 1, 0, out_keys, out_d, &count) ==
              FV_ERR_INVALID_ARGUMENT,
          "k = 0");
    CHECK(fv_index_search_text(index, "x", 1, K, NULL, out_d, &count) == FV_ERR_NULL_POINTER,
          "NULL out_keys");
    CHECK(fv_index_search_text(index, "x", 1, K, out_keys, out_d, NULL) == FV_ERR_NULL_POINTER,
          "NULL out_count");
    CHECK(fv_index_search_texts(index, TEXTS, NULL, 1, K, out_keys, out_d, NULL) ==
              FV_ERR_NULL_POINTER,
          "NULL out_counts");
    uint64_t id = 0;
    bool has = false;
    CHECK(fv_index_model_id(index, NULL, &has) == FV_ERR_NULL_POINTER, "NULL model id out");
    CHECK(fv_index_model_id(index, &id, NULL) == FV_ERR_NULL_POINTER, "NULL has");
    CHECK(fv_index_model_id(NULL, &id, &has) == FV_ERR_NULL_POINTER, "NULL index");
    CHECK(fv_index_load_bytes_with_encoder(engine, NULL, 0, enc, &other) == FV_ERR_CORRUPT_FILE,
          "empty bytes");

    CHECK(fv_index_free(index) == FV_OK, "free");
    CHECK(fv_index_add_text(index, 1, "x", 1, FV_ON_DUPLICATE_ERROR) == FV_ERR_INVALID_HANDLE,
          "freed index");
}

/* The interpreted backend gives the same top keys as native (vectors agree to rounding). */
static void test_interpreted(const char *dir, fv_engine *native, fv_encoder *enc) {
    fv_engine *interp = NULL;
    if (fv_engine_new(FV_BACKEND_INTERPRETED, NULL, &interp) != FV_OK) {
        printf("test_text_index: no bundled wasm module; interpreted case skipped\n");
        return;
    }
    fv_encoder *wasm_enc = NULL;
    CHECK(fv_encoder_load(interp, dir, &wasm_enc) == FV_OK && wasm_enc, "interpreted encoder");
    fv_index_options o = text_options();
    fv_index *a = NULL, *b = NULL;
    CHECK(fv_index_new_text(native, enc, &o, &a) == FV_OK, "native index");
    CHECK(wasm_enc && fv_index_new_text(interp, wasm_enc, &o, &b) == FV_OK, "interpreted index");
    if (a && b) {
        add_all(a);
        add_all(b);
        for (size_t i = 0; i < N_TEXTS; i++)
            CHECK(top_key(a, TEXTS[i]) == top_key(b, TEXTS[i]) && top_key(b, TEXTS[i]) == key_of(i),
                  "text %zu: native and interpreted top keys differ", i);
        /* The interpreted index saves the model id, and native loads it. */
        uint8_t *bytes = NULL;
        size_t n = 0;
        CHECK(fv_index_save_bytes(b, &bytes, &n) == FV_OK, "interpreted save");
        fv_index *c = NULL;
        CHECK(fv_index_load_bytes_with_encoder(native, bytes, n, enc, &c) == FV_OK,
              "native loads the interpreted bytes");
        uint64_t id = 0;
        bool has = false;
        CHECK(c && fv_index_model_id(c, &id, &has) == FV_OK && has && id == model_id_of(enc),
              "interpreted bytes keep the id");
        fv_index_free(c);
        fv_bytes_free(bytes, n);
    }
    fv_index_free(a);
    fv_index_free(b);
    fv_encoder_free(wasm_enc);
    fv_engine_free(interp);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr,
                "usage: %s MODEL_DIR OTHER_MODEL_DIR BUILD_DIR (make tiny-model writes "
                "target/tiny-bert and target/tiny-bert-seed2)\n",
                argv[0]);
        return 2;
    }
    fv_engine *engine = NULL;
    CHECK(fv_engine_new(FV_BACKEND_NATIVE, NULL, &engine) == FV_OK, "native engine");
    fv_encoder *enc = NULL, *other = NULL;
    CHECK(fv_encoder_load(engine, argv[1], &enc) == FV_OK && enc, "load %s", argv[1]);
    CHECK(fv_encoder_load(engine, argv[2], &other) == FV_OK && other, "load %s", argv[2]);
    if (!enc || !other) return check_summary(argv[0]);

    test_add_and_search(engine, enc);
    test_files_and_models(engine, enc, other, argv[3]);
    test_misuse(engine, enc);
    test_interpreted(argv[1], engine, enc);

    fv_encoder_free(other);
    fv_encoder_free(enc);
    fv_engine_free(engine);
    return check_summary(argv[0]);
}
