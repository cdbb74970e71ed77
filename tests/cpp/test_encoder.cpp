// The C++ encoder wrapper (ferrovec::Encoder in ferrovec.hpp) on the tiny random BERT model
// of `make tiny-model` (argv[1], e.g. target/tiny-bert: 32 dims, max 40 tokens): load,
// embed (string_view / string / literals), tokenize, threads, moves, errors as exceptions
// with the C status codes, int8 weights (EncoderOptions, Precision: the f32 model id, cosine
// >= 0.999 vs f32, interpreted within 1e-3 of native), and the vectors searched in an Index. Run under ASan + UBSan by
// `make test-cpp`.
#include <ferrovec.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
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

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL_DIR (make tiny-model writes target/tiny-bert)\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    auto engine = ferrovec::Engine::native();
    auto encoder = ferrovec::Encoder::load(engine, dir);
    const std::size_t dims = encoder.dims();
    CHECK(dims == 32);
    CHECK(encoder.max_tokens() == 40);
    CHECK(encoder.model_id() != 0);
    CHECK(encoder.threads() == 1);

    CHECK((encoder.tokenize("the weather is lovely today.") ==
           std::vector<uint32_t>{2, 5, 6, 7, 8, 9, 10, 3}));
    CHECK((encoder.tokenize("") == std::vector<uint32_t>{2, 3}));
    CHECK(encoder.tokenize(std::string(1000, 'a')).size() <= 40);

    const std::vector<std::string> texts = {"the weather is lovely today.", "it's so sunny outside!",
                                            "he drove to the stadium.", ""};
    const std::vector<float> v = encoder.embed(texts);
    CHECK(v.size() == texts.size() * dims);
    for (std::size_t i = 0; i < texts.size(); i++) {
        double norm = 0;
        for (std::size_t j = 0; j < dims; j++) norm += double(v[i * dims + j]) * v[i * dims + j];
        CHECK(std::fabs(std::sqrt(norm) - 1.0) < 1e-5);
        const auto one = encoder.embed_one(texts[i]);
        CHECK(std::vector<float>(v.begin() + long(i * dims), v.begin() + long((i + 1) * dims)) == one);
    }
    CHECK(encoder.embed({"the weather is lovely today.", "it's so sunny outside!"}) ==
          std::vector<float>(v.begin(), v.begin() + long(2 * dims)));
    CHECK(encoder.embed(std::vector<std::string_view>{}).empty());
    // Invalid UTF-8 is U+FFFD, not an error.
    CHECK(encoder.embed_one("the \xff weather") == encoder.embed_one("the \xEF\xBF\xBD weather"));

    encoder.set_threads(2);
    CHECK(encoder.threads() == 2);
    CHECK(encoder.embed(texts) == v);
    encoder.set_threads(1);

    // Into an index as they are.
    ferrovec::Index index(engine, ferrovec::IndexOptions(dims, ferrovec::IndexMetric::Cosine));
    index.add_batch(std::vector<uint64_t>{10, 11, 12, 13}, v);
    CHECK(index.search(encoder.embed_one("it's so sunny outside!"), 1).at(0).key == 11);

    // Moves; a moved-from encoder throws instead of crashing.
    ferrovec::Encoder moved = std::move(encoder);
    CHECK(moved.dims() == dims);
    EXPECT_CODE(FV_ERR_NULL_POINTER, encoder.dims());  // NOLINT: use after move on purpose
    EXPECT_CODE(FV_ERR_NULL_POINTER, encoder.embed_one("x"));

    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, ferrovec::Encoder::load(engine, dir + "/nonexistent"));
    {
        // The interpreted backend runs the encoder's wasm module: same id, same vectors.
        auto interpreted = ferrovec::Engine::interpreted();
        auto wasm = ferrovec::Encoder::load(interpreted, dir);
        CHECK(wasm.model_id() == moved.model_id());
        auto a = wasm.embed_one("the weather is lovely");
        auto b = moved.embed_one("the weather is lovely");
        CHECK(a.size() == b.size());
        float worst = 0;
        for (size_t i = 0; i < a.size(); i++) worst = std::max(worst, std::fabs(a[i] - b[i]));
        CHECK(worst <= 1e-5f);
    }
    fv_encoder_files files = fv_encoder_files_default();
    EXPECT_CODE(FV_ERR_NULL_POINTER, ferrovec::Encoder::from_files(engine, files));

    // Int8 weights: reported, the f32 model id, vectors close to the f32 ones; the
    // interpreted backend's int8 within 1e-3 of native int8 (exact integer sums, but an
    // activation on a quantization rounding boundary may round the other way without FMA).
    {
        CHECK(moved.precision() == ferrovec::Precision::F32);
        const auto options = ferrovec::EncoderOptions().precision(ferrovec::Precision::Int8).threads(2);
        auto int8 = ferrovec::Encoder::load(engine, dir, options);
        CHECK(int8.precision() == ferrovec::Precision::Int8);
        CHECK(int8.threads() == 2);
        CHECK(int8.model_id() == moved.model_id());
        const std::vector<float> q = int8.embed(texts);
        CHECK(q.size() == v.size());
        CHECK(q != v);
        for (std::size_t i = 0; i < texts.size(); i++) {
            double dot = 0;
            for (std::size_t j = 0; j < dims; j++) dot += double(q[i * dims + j]) * v[i * dims + j];
            CHECK(dot >= 0.999);  // both unit length
        }
        auto interpreted = ferrovec::Engine::interpreted();
        auto wasm8 = ferrovec::Encoder::load(interpreted, dir, options);
        CHECK(wasm8.precision() == ferrovec::Precision::Int8);
        CHECK(wasm8.model_id() == moved.model_id());
        const std::vector<float> w = wasm8.embed(texts);
        float worst = 0;
        for (std::size_t i = 0; i < w.size(); i++) worst = std::max(worst, std::fabs(w[i] - q[i]));
        CHECK(worst <= 1e-3f);
        EXPECT_CODE(FV_ERR_INVALID_ARGUMENT,
                    ferrovec::Encoder::load(engine, dir,
                                            ferrovec::EncoderOptions().precision(
                                                static_cast<ferrovec::Precision>(9))));
    }

    if (failures) {
        std::fprintf(stderr, "test_encoder: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    std::printf("test_encoder: all %d checks passed\n", checks);
    return 0;
}
