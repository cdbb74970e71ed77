/*
 * The encoder C API (fv_encoder_*) on the tiny random BERT model of `make tiny-model`
 * (32 dims, vocab 50, max 40 tokens): loading a directory and in-memory files (copied and
 * borrowed weights, whose release callback must run exactly once), embedding (unit rows, a
 * batch equal to single texts, NUL-terminated texts, threads, concurrent callers),
 * tokenizing with the size protocol, invalid UTF-8 read as U+FFFD, and misuse: NULLs, wrong
 * sizes, a missing directory, corrupt weights, no vocabulary, the interpreted backend,
 * a double free; int8 weights (fv_encoder_load_with, fv_encoder_files.precision): reported,
 * the f32 model id, vectors within a cosine of 0.999 of f32, the interpreted backend's within
 * 1e-3 of native. Outputs must be untouched after every failed call. Built with -std=c11
 * -Wall -Wextra -Werror and run under AddressSanitizer + UBSan by `make test-c`:
 *
 *     ./target/c/build/test_encoder MODEL_DIR     (make tiny-model writes target/tiny-bert)
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

#define DIMS 32
#define MAX_TOKENS 40
#define CLS 2
#define SEP 3

static const char *TEXTS[] = {
    "the weather is lovely today.",
    "it's so sunny outside!",
    "he drove to the stadium.",
    "",
    "cafe 日本 ? , abcd e",
};
#define N_TEXTS (sizeof TEXTS / sizeof TEXTS[0])

/* ---- helpers ---- */

static unsigned char *read_file(const char *dir, const char *name, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc(size > 0 ? (size_t)size : 1);
    size_t got = fread(bytes, 1, (size_t)size, f);
    fclose(f);
    *len = got;
    return bytes;
}

static void embed_texts(fv_encoder *enc, const char *const *texts, size_t n, float *out) {
    size_t lens[64];
    for (size_t i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    int rc = fv_encoder_embed(enc, texts, lens, n, out, n * DIMS);
    CHECK(rc == FV_OK, "embed %zu texts: rc %d", n, rc);
}

static double norm(const float *x) {
    double s = 0;
    for (size_t i = 0; i < DIMS; i++) s += (double)x[i] * x[i];
    return sqrt(s);
}

static bool all_equal(const float *a, float value, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != value) return false;
    return true;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static int released = 0;
static void release_counter(void *user) {
    released++;
    free(user);
}

/* ---- loading and embedding ---- */

static void test_load_and_embed(fv_encoder *enc) {
    size_t dims = 0, max_tokens = 0, threads = 0;
    uint64_t id = 0;
    CHECK(fv_encoder_dims(enc, &dims) == FV_OK && dims == DIMS, "dims %zu", dims);
    CHECK(fv_encoder_max_tokens(enc, &max_tokens) == FV_OK && max_tokens == MAX_TOKENS,
          "max_tokens %zu", max_tokens);
    CHECK(fv_encoder_model_id(enc, &id) == FV_OK && id != 0, "model id %llx",
          (unsigned long long)id);
    CHECK(fv_encoder_threads(enc, &threads) == FV_OK && threads == 1, "threads %zu", threads);

    float batch[N_TEXTS * DIMS];
    embed_texts(enc, TEXTS, N_TEXTS, batch);
    for (size_t i = 0; i < N_TEXTS; i++) {
        CHECK(fabs(norm(batch + i * DIMS) - 1.0) < 1e-5, "row %zu norm %f", i,
              norm(batch + i * DIMS));
        float one[DIMS];
        embed_texts(enc, &TEXTS[i], 1, one);
        CHECK(max_diff(one, batch + i * DIMS, DIMS) < 1e-6, "text %zu alone vs in batch: %g", i,
              max_diff(one, batch + i * DIMS, DIMS));
    }
    /* Different texts, different vectors. */
    CHECK(max_diff(batch, batch + DIMS, DIMS) > 1e-3, "texts 0 and 1 embed alike");

    /* lens NULL: NUL-terminated texts, the same vectors. */
    float nul[N_TEXTS * DIMS];
    CHECK(fv_encoder_embed(enc, TEXTS, NULL, N_TEXTS, nul, N_TEXTS * DIMS) == FV_OK,
          "NUL-terminated embed");
    CHECK(memcmp(nul, batch, sizeof nul) == 0, "NUL-terminated texts embed differently");

    /* An empty batch: nothing to do, NULLs allowed. */
    CHECK(fv_encoder_embed(enc, NULL, NULL, 0, NULL, 0) == FV_OK, "empty batch");

    /* Threads: a larger batch split over 2 threads gives the same vectors. */
    enum { BIG = 48 };
    const char *big[BIG];
    for (size_t i = 0; i < BIG; i++) big[i] = TEXTS[i % N_TEXTS];
    static float one_thread[BIG * DIMS], two_threads[BIG * DIMS];
    embed_texts(enc, big, BIG, one_thread);
    CHECK(fv_encoder_set_threads(enc, 2) == FV_OK, "set_threads 2");
    CHECK(fv_encoder_threads(enc, &threads) == FV_OK && threads == 2, "threads %zu", threads);
    embed_texts(enc, big, BIG, two_threads);
    CHECK(max_diff(one_thread, two_threads, BIG * DIMS) < 1e-6, "2 threads differ: %g",
          max_diff(one_thread, two_threads, BIG * DIMS));
    CHECK(fv_encoder_set_threads(enc, 0) == FV_OK, "set_threads 0");
    CHECK(fv_encoder_threads(enc, &threads) == FV_OK && threads >= 1, "threads %zu", threads);
    CHECK(fv_encoder_set_threads(enc, 1) == FV_OK, "set_threads 1");
}

/* ---- tokenize ---- */

static void test_tokenize(fv_encoder *enc) {
    const char *text = "the weather is lovely today.";
    size_t count = 0;
    /* Size query. */
    CHECK(fv_encoder_tokenize(enc, text, strlen(text), NULL, 0, &count) == FV_OK && count == 8,
          "size query: %zu", count);
    uint32_t ids[MAX_TOKENS];
    const uint32_t expected[8] = {CLS, 5, 6, 7, 8, 9, 10, SEP};
    CHECK(fv_encoder_tokenize(enc, text, strlen(text), ids, MAX_TOKENS, &count) == FV_OK &&
              count == 8 && memcmp(ids, expected, sizeof expected) == 0,
          "ids of '%s'", text);
    /* Too small: an error naming the size, nothing written. */
    uint32_t small[4] = {77, 77, 77, 77};
    count = 99;
    int rc = fv_encoder_tokenize(enc, text, strlen(text), small, 4, &count);
    CHECK(rc == FV_ERR_DIMENSION_MISMATCH, "cap 4: rc %d", rc);
    CHECK(count == 99 && small[0] == 77 && small[3] == 77, "cap 4 wrote its outputs");
    CHECK(strstr(fv_last_error_message(), "8") != NULL, "message: %s", fv_last_error_message());

    /* Empty text: [CLS] [SEP]; NULL with length 0 is empty. */
    CHECK(fv_encoder_tokenize(enc, NULL, 0, ids, MAX_TOKENS, &count) == FV_OK && count == 2 &&
              ids[0] == CLS && ids[1] == SEP,
          "empty text: %zu ids", count);

    /* Truncation: never more than max_tokens, ending in [SEP]. */
    char long_text[2000] = "";
    for (int i = 0; i < 100; i++) strcat(long_text, "the sunny ");
    CHECK(fv_encoder_tokenize(enc, long_text, strlen(long_text), ids, MAX_TOKENS, &count) ==
                  FV_OK &&
              count == MAX_TOKENS && ids[MAX_TOKENS - 1] == SEP,
          "truncated to %zu", count);

    /* Invalid UTF-8 is read as U+FFFD, in tokenize and embed alike. */
    const char bad[] = "the \xff\xfe weather \xc3";
    const char replaced[] = "the \xEF\xBF\xBD\xEF\xBF\xBD weather \xEF\xBF\xBD";
    uint32_t a[MAX_TOKENS], b[MAX_TOKENS];
    size_t na = 0, nb = 0;
    CHECK(fv_encoder_tokenize(enc, bad, sizeof bad - 1, a, MAX_TOKENS, &na) == FV_OK,
          "tokenize invalid UTF-8");
    CHECK(fv_encoder_tokenize(enc, replaced, sizeof replaced - 1, b, MAX_TOKENS, &nb) == FV_OK,
          "tokenize U+FFFD");
    CHECK(na == nb && memcmp(a, b, na * sizeof a[0]) == 0, "invalid UTF-8 != U+FFFD (%zu, %zu)",
          na, nb);
    float va[DIMS], vb[DIMS];
    const char *pa[1] = {bad}, *pb[1] = {replaced};
    size_t la[1] = {sizeof bad - 1}, lb[1] = {sizeof replaced - 1};
    CHECK(fv_encoder_embed(enc, pa, la, 1, va, DIMS) == FV_OK, "embed invalid UTF-8");
    CHECK(fv_encoder_embed(enc, pb, lb, 1, vb, DIMS) == FV_OK, "embed U+FFFD");
    CHECK(memcmp(va, vb, sizeof va) == 0, "invalid UTF-8 embeds unlike U+FFFD");
    /* An embedded NUL is just a byte when lengths are given. */
    const char with_nul[] = "the\0weather";
    const char *pn[1] = {with_nul};
    size_t ln[1] = {sizeof with_nul - 1};
    CHECK(fv_encoder_embed(enc, pn, ln, 1, va, DIMS) == FV_OK, "embed a text with a NUL byte");
}

/* ---- misuse ---- */

static void test_misuse(const fv_engine *engine, fv_encoder *enc, const char *dir) {
    fv_encoder *out = (fv_encoder *)(uintptr_t)0x1;
    int rc;
    rc = fv_encoder_load(NULL, dir, &out);
    CHECK(rc == FV_ERR_NULL_POINTER && out == (fv_encoder *)(uintptr_t)0x1, "NULL engine: %d", rc);
    rc = fv_encoder_load(engine, NULL, &out);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL dir: %d", rc);
    rc = fv_encoder_load(engine, dir, NULL);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL out: %d", rc);
    rc = fv_encoder_load(engine, "/nonexistent/ferrovec-model", &out);
    CHECK(rc == FV_ERR_INVALID_ARGUMENT && out == (fv_encoder *)(uintptr_t)0x1,
          "missing dir: %d", rc);
    CHECK(strstr(fv_last_error_message(), "/nonexistent/ferrovec-model") != NULL,
          "message names the path: %s", fv_last_error_message());
    rc = fv_encoder_load(engine, "\xff\xfe", &out);
    CHECK(rc == FV_ERR_INVALID_ARGUMENT, "non-UTF-8 path: %d", rc);

    size_t n = 0;
    uint64_t id = 0;
    CHECK(fv_encoder_dims(NULL, &n) == FV_ERR_NULL_POINTER, "dims NULL encoder");
    CHECK(fv_encoder_dims(enc, NULL) == FV_ERR_NULL_POINTER, "dims NULL out");
    CHECK(fv_encoder_max_tokens(NULL, &n) == FV_ERR_NULL_POINTER, "max_tokens NULL");
    CHECK(fv_encoder_model_id(NULL, &id) == FV_ERR_NULL_POINTER, "model_id NULL");
    CHECK(fv_encoder_set_threads(NULL, 2) == FV_ERR_NULL_POINTER, "set_threads NULL");
    /* A pointer that is not an encoder (here: an engine) is refused, not dereferenced. */
    CHECK(fv_encoder_dims((const fv_encoder *)(const void *)engine, &n) == FV_ERR_INVALID_HANDLE,
          "an engine passed as an encoder");

    /* tokenize */
    uint32_t ids[MAX_TOKENS];
    CHECK(fv_encoder_tokenize(enc, "abc", 3, ids, MAX_TOKENS, NULL) == FV_ERR_NULL_POINTER,
          "tokenize NULL out_count");
    CHECK(fv_encoder_tokenize(enc, NULL, 3, ids, MAX_TOKENS, &n) == FV_ERR_NULL_POINTER,
          "tokenize NULL text with a length");
    CHECK(fv_encoder_tokenize(enc, "abc", 3, NULL, 5, &n) == FV_ERR_NULL_POINTER,
          "tokenize NULL out_ids with a cap");
    CHECK(fv_encoder_tokenize(NULL, "abc", 3, ids, MAX_TOKENS, &n) == FV_ERR_NULL_POINTER,
          "tokenize NULL encoder");

    /* embed: outputs untouched after each failure. */
    float out_v[2 * DIMS];
    for (size_t i = 0; i < 2 * DIMS; i++) out_v[i] = 42.0f;
    const char *two[2] = {"the weather", "sunny"};
    size_t lens[2] = {11, 5};
    rc = fv_encoder_embed(enc, two, lens, 2, out_v, 2 * DIMS - 1);
    CHECK(rc == FV_ERR_DIMENSION_MISMATCH, "n_floats too small: %d", rc);
    rc = fv_encoder_embed(enc, two, lens, 2, out_v, 2 * DIMS + 1);
    CHECK(rc == FV_ERR_DIMENSION_MISMATCH, "n_floats too large: %d", rc);
    rc = fv_encoder_embed(enc, NULL, lens, 2, out_v, 2 * DIMS);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL texts: %d", rc);
    rc = fv_encoder_embed(enc, two, lens, 2, NULL, 2 * DIMS);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL out: %d", rc);
    const char *with_null[2] = {"the weather", NULL};
    rc = fv_encoder_embed(enc, with_null, lens, 2, out_v, 2 * DIMS);
    CHECK(rc == FV_ERR_NULL_POINTER, "a NULL text with a length: %d", rc);
    rc = fv_encoder_embed(enc, with_null, NULL, 2, out_v, 2 * DIMS);
    CHECK(rc == FV_ERR_NULL_POINTER, "a NULL NUL-terminated text: %d", rc);
    rc = fv_encoder_embed(NULL, two, lens, 2, out_v, 2 * DIMS);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL encoder: %d", rc);
    rc = fv_encoder_embed(enc, two, lens, SIZE_MAX / 2, out_v, 2 * DIMS);
    CHECK(rc != FV_OK, "n = SIZE_MAX / 2: %d", rc);
    CHECK(all_equal(out_v, 42.0f, 2 * DIMS), "a failed embed wrote its output");
    /* A NULL text with length 0 is an empty text. */
    const char *empty_null[2] = {NULL, "sunny"};
    size_t empty_lens[2] = {0, 5};
    CHECK(fv_encoder_embed(enc, empty_null, empty_lens, 2, out_v, 2 * DIMS) == FV_OK,
          "NULL text with length 0");
}

/* ---- in-memory files, copied and borrowed ---- */

static void test_from_files(const fv_engine *engine, const char *dir, uint64_t dir_id,
                            const float *dir_vectors) {
    size_t wlen = 0, clen = 0, tlen = 0, vlen = 0, plen = 0, slen = 0;
    unsigned char *weights = read_file(dir, "model.safetensors", &wlen);
    unsigned char *config = read_file(dir, "config.json", &clen);
    unsigned char *tokenizer = read_file(dir, "tokenizer.json", &tlen);
    unsigned char *vocab = read_file(dir, "vocab.txt", &vlen);
    unsigned char *pooling = read_file(dir, "1_Pooling/config.json", &plen);
    unsigned char *sbert = read_file(dir, "sentence_bert_config.json", &slen);
    CHECK(weights && config && tokenizer && vocab && pooling && sbert, "model files in %s", dir);
    if (!(weights && config && tokenizer && vocab && pooling && sbert)) return;

    fv_encoder_files files = fv_encoder_files_default();
    files.safetensors = weights;
    files.safetensors_len = wlen;
    files.config_json = config;
    files.config_json_len = clen;
    files.tokenizer_json = tokenizer;
    files.tokenizer_json_len = tlen;
    files.pooling_json = pooling;
    files.pooling_json_len = plen;
    files.sentence_bert_config_json = sbert;
    files.sentence_bert_config_json_len = slen;

    /* Copied: the caller's buffer can be scribbled on right after. */
    fv_encoder *copied = NULL;
    CHECK(fv_encoder_from_files(engine, &files, &copied) == FV_OK, "from_files (copy)");
    unsigned char *scratch = malloc(wlen);
    memcpy(scratch, weights, wlen);
    memset(weights, 0xAB, wlen);
    float v[N_TEXTS * DIMS];
    uint64_t id = 0;
    if (copied) {
        embed_texts(copied, TEXTS, N_TEXTS, v);
        CHECK(memcmp(v, dir_vectors, sizeof v) == 0, "from_files != load");
        CHECK(fv_encoder_model_id(copied, &id) == FV_OK && id == dir_id, "model id %llx",
              (unsigned long long)id);
        CHECK(fv_encoder_free(copied) == FV_OK, "free copied");
    }
    memcpy(weights, scratch, wlen);
    free(scratch);

    /* Borrowed: no copy; the release callback runs once, at free. */
    unsigned char *lent = malloc(wlen);
    memcpy(lent, weights, wlen);
    files.safetensors = lent;
    files.safetensors_release = release_counter;
    files.safetensors_user = lent;
    released = 0;
    fv_encoder *borrowed = NULL;
    CHECK(fv_encoder_from_files(engine, &files, &borrowed) == FV_OK, "from_files (borrowed)");
    CHECK(released == 0, "released while in use");
    if (borrowed) {
        embed_texts(borrowed, TEXTS, N_TEXTS, v);
        CHECK(memcmp(v, dir_vectors, sizeof v) == 0, "borrowed != load");
        CHECK(fv_encoder_free(borrowed) == FV_OK, "free borrowed");
    }
    CHECK(released == 1, "release called %d times", released);

    /* Borrowed and corrupt (truncated): refused, and released once all the same. */
    lent = malloc(wlen);
    memcpy(lent, weights, wlen);
    files.safetensors = lent;
    files.safetensors_len = wlen / 2;
    files.safetensors_user = lent;
    released = 0;
    fv_encoder *bad = NULL;
    int rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc == FV_ERR_CORRUPT_FILE && bad == NULL, "truncated weights: %d", rc);
    CHECK(released == 1, "release after a refused load: %d", released);
    /* Borrowed, refused before the weights are read (NULL config, NULL out, NULL engine):
     * released once all the same, so the caller never has to guess. */
    files.safetensors_len = wlen;
    for (int which = 0; which < 3; which++) {
        lent = malloc(wlen);
        memcpy(lent, weights, wlen);
        files.safetensors = lent;
        files.safetensors_user = lent;
        files.config_json = which == 0 ? NULL : config;
        released = 0;
        rc = fv_encoder_from_files(which == 2 ? NULL : engine, &files, which == 1 ? NULL : &bad);
        CHECK(rc == FV_ERR_NULL_POINTER && bad == NULL, "borrowed, case %d: %d", which, rc);
        CHECK(released == 1, "borrowed, case %d: release called %d times", which, released);
    }
    files.config_json = config;
    files.safetensors = weights;
    files.safetensors_len = wlen;
    files.safetensors_release = NULL;
    files.safetensors_user = NULL;

    /* Garbage weights (copied). */
    unsigned char garbage[64];
    memset(garbage, 0xFF, sizeof garbage);
    files.safetensors = garbage;
    files.safetensors_len = sizeof garbage;
    rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc == FV_ERR_CORRUPT_FILE && bad == NULL, "garbage weights: %d", rc);
    files.safetensors = weights;
    files.safetensors_len = wlen;

    /* vocab.txt instead of tokenizer.json: the same token ids. */
    files.tokenizer_json = NULL;
    files.tokenizer_json_len = 0;
    files.vocab_txt = vocab;
    files.vocab_txt_len = vlen;
    fv_encoder *from_vocab = NULL;
    CHECK(fv_encoder_from_files(engine, &files, &from_vocab) == FV_OK, "from vocab.txt");
    if (from_vocab) {
        uint32_t ids[MAX_TOKENS];
        size_t count = 0;
        CHECK(fv_encoder_tokenize(from_vocab, "it's so sunny outside!", 22, ids, MAX_TOKENS,
                                  &count) == FV_OK &&
                  count == 9 && ids[0] == CLS && ids[8] == SEP,
              "vocab.txt ids: %zu", count);
        fv_encoder_free(from_vocab);
    }

    /* Neither vocabulary; NULL pointers with lengths; NULL required files. */
    files.vocab_txt = NULL;
    files.vocab_txt_len = 0;
    rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc != FV_OK && bad == NULL, "no vocabulary: %d", rc);
    files.vocab_txt_len = 10;
    rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL vocab_txt with a length: %d", rc);
    files.vocab_txt_len = 0;
    files.tokenizer_json = tokenizer;
    files.tokenizer_json_len = tlen;
    files.config_json = NULL;
    rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL config_json: %d", rc);
    files.config_json = config;
    files.safetensors = NULL;
    rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL safetensors: %d", rc);
    files.safetensors = weights;
    rc = fv_encoder_from_files(engine, NULL, &bad);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL files: %d", rc);
    rc = fv_encoder_from_files(engine, &files, NULL);
    CHECK(rc == FV_ERR_NULL_POINTER, "NULL out: %d", rc);
    /* Corrupt config. */
    files.config_json = (const uint8_t *)"{\"hidden_size\": 3";
    files.config_json_len = 17;
    rc = fv_encoder_from_files(engine, &files, &bad);
    CHECK(rc != FV_OK && bad == NULL, "corrupt config: %d", rc);

    free(weights);
    free(config);
    free(tokenizer);
    free(vocab);
    free(pooling);
    free(sbert);
}

/* ---- int8 weights ---- */

static double cosine(const float *a, const float *b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < DIMS; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return dot / sqrt(na * nb);
}

/* An int8 encoder of `dir` on `engine`, checked against the f32 vectors; its vectors go to
 * `out`. Returns whether it loaded. */
static bool check_int8(const fv_engine *engine, const char *dir, uint64_t f32_id,
                       const float *f32_vectors, float *out, const char *what) {
    fv_encoder_options options = fv_encoder_options_default();
    CHECK(options.precision == FV_ENCODER_PRECISION_F32 && options.threads == 1,
          "default options: %d %zu", options.precision, options.threads);
    options.precision = FV_ENCODER_PRECISION_INT8;
    options.threads = 2;
    fv_encoder *enc = NULL;
    int rc = fv_encoder_load_with(engine, dir, &options, &enc);
    CHECK(rc == FV_OK && enc != NULL, "%s: int8 load: %d", what, rc);
    if (!enc) return false;
    int32_t precision = -1;
    size_t threads = 0;
    uint64_t id = 0;
    CHECK(fv_encoder_precision(enc, &precision) == FV_OK &&
              precision == FV_ENCODER_PRECISION_INT8,
          "%s: precision %d", what, precision);
    CHECK(fv_encoder_threads(enc, &threads) == FV_OK && threads == 2, "%s: threads %zu", what,
          threads);
    CHECK(fv_encoder_model_id(enc, &id) == FV_OK && id == f32_id, "%s: int8 model id %llx",
          what, (unsigned long long)id);
    embed_texts(enc, TEXTS, N_TEXTS, out);
    for (size_t i = 0; i < N_TEXTS; i++) {
        double c = cosine(out + i * DIMS, f32_vectors + i * DIMS);
        CHECK(c >= 0.999, "%s: text %zu: int8 vs f32 cosine %f", what, i, c);
        CHECK(fabs(norm(out + i * DIMS) - 1.0) < 1e-5, "%s: row %zu norm", what, i);
    }
    CHECK(max_diff(out, f32_vectors, N_TEXTS * DIMS) > 0, "%s: int8 gave the f32 vectors", what);
    CHECK(fv_encoder_free(enc) == FV_OK, "%s: free int8", what);
    return true;
}

static void test_int8(const fv_engine *engine, const char *dir, uint64_t f32_id,
                      const float *f32_vectors, float *int8_vectors) {
    int32_t precision = -1;
    fv_encoder *enc = NULL;
    /* NULL options: the defaults, f32. */
    CHECK(fv_encoder_load_with(engine, dir, NULL, &enc) == FV_OK, "load_with NULL options");
    if (enc) {
        CHECK(fv_encoder_precision(enc, &precision) == FV_OK &&
                  precision == FV_ENCODER_PRECISION_F32,
              "default precision %d", precision);
        float v[N_TEXTS * DIMS];
        embed_texts(enc, TEXTS, N_TEXTS, v);
        CHECK(memcmp(v, f32_vectors, sizeof v) == 0, "load_with(NULL) != load");
        CHECK(fv_encoder_precision(enc, NULL) == FV_ERR_NULL_POINTER, "precision NULL out");
        fv_encoder_free(enc);
    }
    CHECK(fv_encoder_precision(NULL, &precision) == FV_ERR_NULL_POINTER, "precision NULL");
    check_int8(engine, dir, f32_id, f32_vectors, int8_vectors, "native");

    /* An unknown precision: refused, *out untouched. */
    fv_encoder_options options = fv_encoder_options_default();
    options.precision = 7;
    enc = (fv_encoder *)(uintptr_t)0x1;
    int rc = fv_encoder_load_with(engine, dir, &options, &enc);
    CHECK(rc == FV_ERR_INVALID_ARGUMENT && enc == (fv_encoder *)(uintptr_t)0x1,
          "precision 7: %d", rc);
    CHECK(strstr(fv_last_error_message(), "precision") != NULL, "message: %s",
          fv_last_error_message());
    rc = fv_encoder_load_with(NULL, dir, &options, &enc);
    CHECK(rc == FV_ERR_NULL_POINTER, "load_with NULL engine: %d", rc);

    /* In memory: fv_encoder_files.precision gives the same vectors as the directory. */
    size_t wlen = 0, clen = 0, tlen = 0, plen = 0, slen = 0;
    unsigned char *weights = read_file(dir, "model.safetensors", &wlen);
    unsigned char *config = read_file(dir, "config.json", &clen);
    unsigned char *tokenizer = read_file(dir, "tokenizer.json", &tlen);
    unsigned char *pooling = read_file(dir, "1_Pooling/config.json", &plen);
    unsigned char *sbert = read_file(dir, "sentence_bert_config.json", &slen);
    if (weights && config && tokenizer && pooling && sbert) {
        fv_encoder_files files = fv_encoder_files_default();
        CHECK(files.precision == FV_ENCODER_PRECISION_F32, "files default precision");
        files.safetensors = weights;
        files.safetensors_len = wlen;
        files.config_json = config;
        files.config_json_len = clen;
        files.tokenizer_json = tokenizer;
        files.tokenizer_json_len = tlen;
        files.pooling_json = pooling;
        files.pooling_json_len = plen;
        files.sentence_bert_config_json = sbert;
        files.sentence_bert_config_json_len = slen;
        files.precision = FV_ENCODER_PRECISION_INT8;
        CHECK(fv_encoder_from_files(engine, &files, &enc) == FV_OK, "from_files int8");
        if (enc) {
            float v[N_TEXTS * DIMS];
            embed_texts(enc, TEXTS, N_TEXTS, v);
            CHECK(memcmp(v, int8_vectors, sizeof v) == 0, "from_files int8 != load_with int8");
            CHECK(fv_encoder_precision(enc, &precision) == FV_OK &&
                      precision == FV_ENCODER_PRECISION_INT8,
                  "from_files precision %d", precision);
            fv_encoder_free(enc);
        }
        files.precision = -1;
        enc = NULL;
        rc = fv_encoder_from_files(engine, &files, &enc);
        CHECK(rc == FV_ERR_INVALID_ARGUMENT && enc == NULL, "files precision -1: %d", rc);
    }
    free(weights);
    free(config);
    free(tokenizer);
    free(pooling);
    free(sbert);
}

/* ---- concurrent callers ---- */

typedef struct {
    fv_encoder *enc;
    const float *expected;
    int failures;
} worker_arg;

static int worker(void *p) {
    worker_arg *arg = p;
    float v[N_TEXTS * DIMS];
    size_t lens[N_TEXTS];
    for (size_t i = 0; i < N_TEXTS; i++) lens[i] = strlen(TEXTS[i]);
    for (int round = 0; round < 20; round++) {
        if (fv_encoder_embed(arg->enc, TEXTS, lens, N_TEXTS, v, sizeof v / sizeof v[0]) != FV_OK ||
            memcmp(v, arg->expected, sizeof v) != 0)
            arg->failures++;
    }
    return 0;
}

static void test_threads(fv_encoder *enc, const float *expected) {
    thrd_t threads[3];
    worker_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (worker_arg){enc, expected, 0};
        CHECK(thrd_create(&threads[i], worker, &args[i]) == thrd_success, "thread %d", i);
    }
    for (int i = 0; i < 3; i++) {
        thrd_join(threads[i], NULL);
        CHECK(args[i].failures == 0, "thread %d: %d failed rounds", i, args[i].failures);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR (make tiny-model writes target/tiny-bert)\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    fv_engine *engine = NULL;
    CHECK(fv_engine_new(FV_BACKEND_NATIVE, NULL, &engine) == FV_OK, "native engine");
    fv_encoder *enc = NULL;
    int rc = fv_encoder_load(engine, dir, &enc);
    CHECK(rc == FV_OK && enc != NULL, "load %s: %d", dir, rc);
    if (!enc) return check_summary(argv[0]);

    test_load_and_embed(enc);
    test_tokenize(enc);
    test_misuse(engine, enc, dir);

    float vectors[N_TEXTS * DIMS];
    embed_texts(enc, TEXTS, N_TEXTS, vectors);
    uint64_t id = 0;
    fv_encoder_model_id(enc, &id);
    test_from_files(engine, dir, id, vectors);
    test_threads(enc, vectors);
    float int8_vectors[N_TEXTS * DIMS];
    test_int8(engine, dir, id, vectors, int8_vectors);

    /* The engine may go first: the encoder does not keep it. */
    fv_engine_free(engine);
    float again[N_TEXTS * DIMS];
    embed_texts(enc, TEXTS, N_TEXTS, again);
    CHECK(memcmp(again, vectors, sizeof again) == 0, "after the engine was freed");

    /* The interpreted backend runs the encoder in its wasm module: the same model id and
     * (to float rounding) the same vectors as native. */
    fv_engine *interp = NULL;
    if (fv_engine_new(FV_BACKEND_INTERPRETED, NULL, &interp) == FV_OK) {
        fv_encoder *wasm_enc = NULL;
        rc = fv_encoder_load(interp, dir, &wasm_enc);
        CHECK(rc == FV_OK && wasm_enc != NULL, "interpreted load: %d %s", rc,
              fv_last_error_message());
        if (wasm_enc) {
            uint64_t wasm_id = 0;
            fv_encoder_model_id(wasm_enc, &wasm_id);
            CHECK(wasm_id == id, "interpreted model id %llx vs %llx",
                  (unsigned long long)wasm_id, (unsigned long long)id);
            float interpreted[N_TEXTS * DIMS];
            embed_texts(wasm_enc, TEXTS, N_TEXTS, interpreted);
            float worst = 0.0f;
            for (size_t i = 0; i < N_TEXTS * DIMS; i++) {
                float d = interpreted[i] - vectors[i];
                if (d < 0) d = -d;
                if (d > worst) worst = d;
            }
            CHECK(worst <= 1e-5f, "interpreted vectors differ by %g", (double)worst);
            CHECK(fv_encoder_free(wasm_enc) == FV_OK, "free interpreted");
        }
        /* Int8 in the module: integer sums are exact on every ISA, so only the float parts
         * differ from native int8. */
        float interpreted8[N_TEXTS * DIMS];
        if (check_int8(interp, dir, id, vectors, interpreted8, "interpreted")) {
            double worst8 = max_diff(interpreted8, int8_vectors, N_TEXTS * DIMS);
            /* Not exact: an activation on a rounding boundary of its int8 quantization goes
             * one way with FMA and the other without (1.9e-4 measured on these texts). */
            CHECK(worst8 <= 1e-3, "interpreted int8 differs from native int8 by %g", worst8);
        }
        fv_engine_free(interp);
    } else {
        printf("test_encoder: no bundled wasm module; interpreted case skipped\n");
    }

    CHECK(fv_encoder_free(enc) == FV_OK, "free");
    CHECK(fv_encoder_free(enc) == FV_ERR_INVALID_HANDLE, "double free");
    CHECK(fv_encoder_free(NULL) == FV_OK, "free NULL");
    return check_summary(argv[0]);
}
