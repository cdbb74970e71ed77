// The C++ text index (ferrovec::Index with a ferrovec::Encoder) on the tiny random BERT
// models of `make tiny-model`: argv[1] (target/tiny-bert) and argv[2]
// (target/tiny-bert-seed2: same shape, another model id). A text finds itself first, the
// results equal embed + search, save + load keep the model id, another model's encoder is
// refused with a message naming both ids, a handle without an encoder throws, and the
// interpreted backend gives the same top keys. Run under ASan + UBSan by `make test-cpp`.
#include <ferrovec.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

// Expects a ferrovec::Error with `code` whose message contains every string of `needles`.
void expect_error(int32_t code, const std::vector<std::string>& needles,
                  const std::function<void()>& body, int line) {
    ++checks;
    try {
        body();
    } catch (const ferrovec::Error& e) {
        bool ok = e.code() == code;
        for (const auto& n : needles) ok = ok && std::string(e.what()).find(n) != std::string::npos;
        if (ok) return;
        ++failures;
        std::fprintf(stderr, "FAIL line %d: code %d (%s), expected %d\n", line, e.code(), e.what(),
                     code);
        return;
    }
    ++failures;
    std::fprintf(stderr, "FAIL line %d: no exception, expected code %d\n", line, code);
}
#define EXPECT_ERROR(code, needles, ...) expect_error(code, needles, [&] { __VA_ARGS__; }, __LINE__)

const std::vector<std::string> TEXTS = {
    "The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium.",
    "a cafe today",                 "日本 is so lovely",      "the stadium is outside",
};

std::vector<uint64_t> keys() {
    std::vector<uint64_t> k;
    for (std::size_t i = 0; i < TEXTS.size(); i++) k.push_back(100 + i);
    return k;
}

std::string hex(uint64_t id) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
    return buf;
}

ferrovec::IndexOptions options() { return ferrovec::IndexOptions(32, ferrovec::IndexMetric::Cosine); }

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s MODEL_DIR OTHER_MODEL_DIR\n", argv[0]);
        return 2;
    }
    auto engine = ferrovec::Engine::native();
    auto encoder = ferrovec::Encoder::load(engine, argv[1]);
    auto other = ferrovec::Encoder::load(engine, argv[2]);
    CHECK(encoder.model_id() != other.model_id());

    ferrovec::Index index(engine, encoder, options());
    CHECK(index.model_id() == std::optional<uint64_t>(encoder.model_id()));
    const auto k = keys();
    index.add_text(k[0], TEXTS[0]);
    index.add_texts(ferrovec::Span<const uint64_t>(k.data() + 1, k.size() - 1),
                    std::vector<std::string>(TEXTS.begin() + 1, TEXTS.end()));
    CHECK(index.size() == TEXTS.size());
    for (std::size_t i = 0; i < TEXTS.size(); i++) {
        auto hits = index.search_text(TEXTS[i], 3);
        CHECK(hits.size() == 3 && hits[0].key == k[i] && hits[0].distance < 1e-5f);
        CHECK(hits == index.search(encoder.embed_one(TEXTS[i]), 3));
    }
    auto batch = index.search_texts(TEXTS, 2);
    CHECK(batch.size() == TEXTS.size());
    for (std::size_t i = 0; i < TEXTS.size(); i++) CHECK(batch[i] == index.search_text(TEXTS[i], 2));
    CHECK(index.search_texts({"so sunny", "the stadium"}, 1).size() == 2);

    // Duplicates throw and change nothing; replace on request; mismatched lengths.
    EXPECT_ERROR(FV_ERR_DUPLICATE_KEY, {}, index.add_text(k[0], "so sunny"));
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, {}, index.add_texts(k, {"a", "b"}));
    CHECK(index.size() == TEXTS.size());
    index.add_text(k[0], "so sunny", ferrovec::OnDuplicate::Replace);
    CHECK(index.search_text("so sunny", 1)[0].key == k[0]);

    // Save + load keep the model id; another model's encoder is refused naming both ids.
    const auto bytes = index.to_bytes();
    auto plain = ferrovec::Index::from_bytes(engine, bytes);
    CHECK(plain.model_id() == std::optional<uint64_t>(encoder.model_id()));
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, {"no text encoder"}, plain.search_text("x", 1));
    const std::vector<std::string> both = {hex(encoder.model_id()), hex(other.model_id())};
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, both, ferrovec::Index::from_bytes(engine, bytes, other));
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, both, plain.with_encoder(other));
    auto attached = plain.with_encoder(encoder);
    CHECK(attached.search_text(TEXTS[2], 1)[0].key == k[2]);
    attached.add_text(7, "a new text");
    CHECK(plain.size() == TEXTS.size() + 1);  // the handles share one index

    const std::string path = std::string(argv[0]) + ".fvix";
    index.save(path);
    auto loaded = ferrovec::Index::load(engine, path, encoder);
    CHECK(loaded.model_id() == std::optional<uint64_t>(encoder.model_id()));
    CHECK(loaded.search_text(TEXTS[4], 1)[0].key == k[4]);
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, both, ferrovec::Index::load(engine, path, other));
    std::remove(path.c_str());

    // A plain index has no model id until the first text.
    ferrovec::Index vectors(engine, options());
    CHECK(!vectors.model_id().has_value());
    auto text_view = vectors.with_encoder(other);
    text_view.add_texts(k, TEXTS);
    CHECK(vectors.model_id() == std::optional<uint64_t>(other.model_id()));
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, {},
                 ferrovec::Index(engine, encoder, ferrovec::IndexOptions(8, ferrovec::IndexMetric::Cosine)));

    // The interpreted backend (the bundled wasm module): the same top keys as native, and
    // its saved bytes keep the model id.
    {
        auto interp = ferrovec::Engine::interpreted();
        auto wasm_encoder = ferrovec::Encoder::load(interp, argv[1]);
        ferrovec::Index wasm_index(interp, wasm_encoder, options());
        wasm_index.add_texts(k, TEXTS);
        ferrovec::Index native_index(engine, encoder, options());
        native_index.add_texts(k, TEXTS);
        for (const auto& t : TEXTS) {
            auto a = native_index.search_text(t, 3);
            auto b = wasm_index.search_text(t, 3);
            CHECK(a.size() == b.size() && a[0].key == b[0].key);
        }
        auto from_wasm = ferrovec::Index::from_bytes(engine, wasm_index.to_bytes(), encoder);
        CHECK(from_wasm.model_id() == std::optional<uint64_t>(encoder.model_id()));
    }

    if (failures) {
        std::fprintf(stderr, "cpp_text_index: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    std::printf("cpp_text_index: all %d checks passed\n", checks);
    return 0;
}
