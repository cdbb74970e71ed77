// The C++ index wrapper (ferrovec::Engine, ferrovec::Index in ferrovec.hpp) on the native
// and the interpreted backend of the installed library: results against a brute-force
// reference, filters (lambdas, including one that throws), batches, save/load through
// bytes and files, errors as exceptions with the C status codes, moves, threads, and the
// f16 / bf16 storages.
// Run under ASan + UBSan by `make test-cpp`.
#include <ferrovec.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
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

constexpr std::size_t kDims = 10;
constexpr std::size_t kRows = 300;

std::vector<float> random_floats(std::mt19937& rng, std::size_t n) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> out(n);
    for (auto& x : out) x = dist(rng);
    return out;
}

double l2sq(const float* a, const float* b) {
    double s = 0;
    for (std::size_t i = 0; i < kDims; i++) {
        double d = double(a[i]) - double(b[i]);
        s += d * d;
    }
    return s;
}

std::vector<uint64_t> reference(const std::vector<float>& rows, const float* query,
                                std::size_t k, const std::function<bool(uint64_t)>& accept) {
    std::vector<std::pair<double, uint64_t>> all;
    for (std::size_t i = 0; i < kRows; i++)
        if (accept(i)) all.emplace_back(l2sq(query, &rows[i * kDims]), uint64_t(i));
    std::sort(all.begin(), all.end());
    std::vector<uint64_t> out;
    for (std::size_t i = 0; i < std::min(k, all.size()); i++) out.push_back(all[i].second);
    return out;
}

std::vector<uint64_t> keys_of(const std::vector<ferrovec::Match>& m) {
    std::vector<uint64_t> out;
    for (const auto& x : m) out.push_back(x.key);
    return out;
}

void test_backend(const ferrovec::Engine& engine) {
    std::mt19937 rng(5);
    auto rows = random_floats(rng, kRows * kDims);
    std::vector<uint64_t> keys(kRows);
    for (std::size_t i = 0; i < kRows; i++) keys[i] = i;

    ferrovec::Index index(engine, ferrovec::IndexOptions(kDims, ferrovec::IndexMetric::L2sq));
    CHECK(index.size() == 0 && index.dims() == kDims);
    index.reserve(kRows);
    index.add_batch(keys, rows);
    CHECK(index.size() == kRows);
    CHECK(index.contains(7) && !index.contains(kRows + 7));
    CHECK(index.get(9) == std::vector<float>(rows.begin() + 9 * kDims, rows.begin() + 10 * kDims));

    auto queries = random_floats(rng, 3 * kDims);
    auto batch = index.search_batch(queries, 6);
    CHECK(batch.size() == 3);
    for (std::size_t q = 0; q < 3; q++) {
        const float* query = &queries[q * kDims];
        ferrovec::Span<const float> qs(query, kDims);
        auto hits = index.search(qs, 6);
        CHECK(keys_of(hits) == reference(rows, query, 6, [](uint64_t) { return true; }));
        CHECK(batch[q] == hits);
        int calls = 0;
        auto multiple_of_3 = [&calls](uint64_t key) {
            ++calls;
            return key % 3 == 0;
        };
        auto filtered = index.search_filtered(qs, 6, multiple_of_3);
        CHECK(calls > 0);
        CHECK(keys_of(filtered) ==
              reference(rows, query, 6, [](uint64_t key) { return key % 3 == 0; }));
        std::vector<uint64_t> allowed;
        for (uint64_t key = 0; key < kRows; key += 3) allowed.push_back(key);
        CHECK(index.search_allowed(qs, 6, allowed) == filtered);
    }
    // A filter that throws: the exception comes back out, the index is fine.
    bool threw = false;
    try {
        index.search_filtered(ferrovec::Span<const float>(queries.data(), kDims), 6,
                              [](uint64_t key) -> bool {
                                  if (key > 0) throw std::runtime_error("filter failed");
                                  return true;
                              });
    } catch (const std::runtime_error& e) {
        threw = std::string(e.what()) == "filter failed";
    }
    CHECK(threw);
    CHECK(index.size() == kRows);

    // Errors, each with its code; none changes the index.
    auto before = index.search(ferrovec::Span<const float>(queries.data(), kDims), 5);
    std::vector<float> short_vec(kDims - 1, 0.5f), nan_vec(kDims, 0.5f);
    nan_vec[3] = std::nanf("");
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH, index.add(1000, short_vec));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, index.add(1000, nan_vec));
    EXPECT_CODE(FV_ERR_DUPLICATE_KEY, index.add(3, ferrovec::Span<const float>(rows.data(), kDims)));
    EXPECT_CODE(FV_ERR_KEY_NOT_FOUND, index.remove(123456));
    EXPECT_CODE(FV_ERR_KEY_NOT_FOUND, index.get(123456));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, index.search(ferrovec::Span<const float>(queries.data(), kDims), 0));
    EXPECT_CODE(FV_ERR_DIMENSION_MISMATCH, index.search(short_vec, 3));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, index.set_ef_search(10));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, ferrovec::Index(engine, ferrovec::IndexOptions(kDims, ferrovec::IndexMetric::Hamming)));
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, ferrovec::Index(engine, ferrovec::IndexOptions(0, ferrovec::IndexMetric::Cosine)));
    CHECK(index.size() == kRows);
    CHECK(index.search(ferrovec::Span<const float>(queries.data(), kDims), 5) == before);

    // Replace, remove, save/load (bytes and file), corrupt bytes.
    index.add(3, std::vector<float>(kDims, 0.25f), ferrovec::OnDuplicate::Replace);
    CHECK(index.get(3) == std::vector<float>(kDims, 0.25f));
    index.remove(4);
    CHECK(!index.contains(4) && index.size() == kRows - 1);
    auto bytes = index.to_bytes();
    auto copy = ferrovec::Index::from_bytes(engine, bytes);
    CHECK(copy.size() == kRows - 1);
    CHECK(copy.search_batch(queries, 7) == index.search_batch(queries, 7));
    std::string path = "ferrovec_cpp_index_" + engine.backend_name() + ".fvix";
    index.save(path);
    auto from_file = ferrovec::Index::load(engine, path);
    CHECK(from_file.to_bytes() == bytes);
    std::remove(path.c_str());
    EXPECT_CODE(FV_ERR_INVALID_ARGUMENT, ferrovec::Index::load(engine, path));
    bytes[bytes.size() / 3] ^= 0x40;
    EXPECT_CODE(FV_ERR_CORRUPT_FILE, ferrovec::Index::from_bytes(engine, bytes));
    bytes.resize(12);
    EXPECT_CODE(FV_ERR_CORRUPT_FILE, ferrovec::Index::from_bytes(engine, bytes));

    // Moves: the handle moves, the moved-from object is empty and safe to destroy.
    ferrovec::Index moved = std::move(copy);
    CHECK(moved.size() == kRows - 1);
    copy = std::move(moved);
    CHECK(copy.size() == kRows - 1);

    // HNSW: recall against the exact results; compact and clear.
    ferrovec::Index hnsw(engine,
                         ferrovec::IndexOptions(kDims, ferrovec::IndexMetric::L2sq).hnsw(16, 100, 80, 7));
    hnsw.add_batch(keys, rows);
    hnsw.set_ef_search(120);
    std::size_t found = 0, total = 0;
    for (std::size_t q = 0; q < 3; q++) {
        ferrovec::Span<const float> qs(&queries[q * kDims], kDims);
        auto approx = keys_of(hnsw.search(qs, 10));
        auto exact = reference(rows, &queries[q * kDims], 10, [](uint64_t) { return true; });
        for (auto key : approx) found += std::count(exact.begin(), exact.end(), key);
        total += exact.size();
    }
    CHECK(found * 100 >= total * 95);
    hnsw.remove(0);
    hnsw.compact();
    CHECK(hnsw.size() == kRows - 1);
    hnsw.clear();
    CHECK(hnsw.size() == 0);
    CHECK(hnsw.search(ferrovec::Span<const float>(queries.data(), kDims), 3).empty());

    // Threads: readers search while this thread adds and removes.
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; t++) {
        readers.emplace_back([&, t] {
            int n = 0;
            while (!stop.load() || n < 5) {
                const float* row = &rows[std::size_t(10 + t) * kDims];
                auto hits = index.search(ferrovec::Span<const float>(row, kDims), 3);
                if (hits.size() != 3 || hits[0].key != uint64_t(10 + t) || hits[0].distance != 0.0f)
                    bad++;
                n++;
            }
        });
    }
    for (int round = 0; round < 20; round++) {
        for (uint64_t key = 1000; key < 1020; key++)
            index.add(key, ferrovec::Span<const float>(&rows[(key - 1000 + 100) * kDims], kDims));
        for (uint64_t key = 1000; key < 1020; key++) index.remove(key);
    }
    stop = true;
    for (auto& r : readers) r.join();
    CHECK(bad.load() == 0);
}

// Storage::F16 / BF16 through the wrapper: values come back rounded to nearest even, the
// nearest row is the query's own, an out-of-range value throws FV_ERR_INVALID_ARGUMENT
// naming the storage, and the bytes (format version 3) load back identically.
void test_half_storage(const ferrovec::Engine& engine) {
    const std::pair<ferrovec::Storage, const char*> halves[] = {
        {ferrovec::Storage::F16, "out of f16 range"}, {ferrovec::Storage::BF16, "out of bf16 range"}};
    for (const auto& [storage, message] : halves) {
        ferrovec::Index index(engine, ferrovec::IndexOptions(4, ferrovec::IndexMetric::L2sq).storage(storage));
        // 1 + 2^-11 and 1 + 3 * 2^-11 are halfway between f16 neighbours (ties to even: 1 and
        // 1 + 2^-9); bf16 keeps 8 bits, so 1.00146484375 rounds to 1 and 300.7 to 300.
        index.add(1, std::vector<float>{1.00048828125f, 1.00146484375f, 300.7f, -0.5f});
        index.add(2, std::vector<float>{0.0f, 2.0f, -4.0f, 8.0f});
        auto got = index.get(1);
        if (storage == ferrovec::Storage::F16) {
            CHECK((got == std::vector<float>{1.0f, 1.001953125f, 300.75f, -0.5f}));
        } else {
            CHECK((got == std::vector<float>{1.0f, 1.0f, 300.0f, -0.5f}));
        }
        CHECK(index.search(std::vector<float>{1.0f, 1.0f, 300.0f, -0.5f}, 1).at(0).key == 1);
        bool refused = false;
        try {
            index.add(3, std::vector<float>{0.0f, storage == ferrovec::Storage::F16 ? 65520.0f : 3.4e38f, 0.0f, 0.0f});
        } catch (const ferrovec::Error& e) {
            refused = e.code() == FV_ERR_INVALID_ARGUMENT && std::string(e.what()).find(message) != std::string::npos;
        }
        CHECK(refused);
        CHECK(index.size() == 2 && !index.contains(3));
        auto bytes = index.to_bytes();
        CHECK(bytes.size() > 8 && bytes[4] == 3 && bytes[5] == 0);
        auto copy = ferrovec::Index::from_bytes(engine, bytes);
        CHECK(copy.get(1) == got);
        CHECK(copy.to_bytes() == bytes);
    }
}

}  // namespace

int main() {
    {
        auto native = ferrovec::Engine::native();
        CHECK(native.backend_name() == "native");
        test_backend(native);
        test_half_storage(native);
    }
    {
        auto interpreted = ferrovec::Engine::interpreted();
        CHECK(interpreted.backend_name() == "interpreted");
        test_backend(interpreted);
        test_half_storage(interpreted);
        // Indexes do not keep their engine alive.
        ferrovec::Engine temporary = ferrovec::Engine::interpreted();
        ferrovec::Index outlives(temporary, ferrovec::IndexOptions(4, ferrovec::IndexMetric::Cosine));
        temporary = ferrovec::Engine::native();
        outlives.add(1, std::vector<float>{1, 2, 3, 4});
        CHECK(outlives.search(std::vector<float>{1, 2, 3, 4}, 1).at(0).key == 1);
    }
    if (failures != 0) {
        std::fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    std::printf("test_index: all %d checks passed\n", checks);
    return 0;
}
