// The C++ wrapper (ferrovec.hpp) and, through it and directly, the C API of the installed
// library: results against a double-precision reference, every error as an exception with
// the right code and message, and the C misuse cases (null pointers, overlapping buffers,
// unknown names, per-thread error messages). Run under ASan + UBSan by `make test-cpp`.
#include <ferrovec.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        ++checks;                                                            \
        if (!(cond)) {                                                       \
            ++failures;                                                      \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

/// Runs `body`, expecting a ferrovec::Error with `code` whose message contains `needle`.
void expect_error(int32_t code, const std::string& needle, const std::function<void()>& body,
                  int line) {
    ++checks;
    try {
        body();
    } catch (const ferrovec::Error& e) {
        if (e.code() == code && std::string(e.what()).find(needle) != std::string::npos) return;
        ++failures;
        std::fprintf(stderr, "FAIL line %d: got code %d message \"%s\", wanted code %d with \"%s\"\n",
                     line, e.code(), e.what(), code, needle.c_str());
        return;
    }
    ++failures;
    std::fprintf(stderr, "FAIL line %d: no exception, wanted code %d\n", line, code);
}
#define EXPECT_ERROR(code, needle, ...) expect_error(code, needle, [&] { __VA_ARGS__; }, __LINE__)

std::vector<float> random_vector(std::mt19937& rng, std::size_t n) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

double ref_dot(const std::vector<float>& a, const std::vector<float>& b, double* magnitude) {
    double s = 0, m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        s += double(a[i]) * double(b[i]);
        m += std::fabs(double(a[i]) * double(b[i]));
    }
    if (magnitude != nullptr) *magnitude = m;
    return s;
}

double ref_l2sq(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return s;
}

double ref_cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double aa = ref_dot(a, a, nullptr), bb = ref_dot(b, b, nullptr);
    if (aa == 0 && bb == 0) return 0;
    if (aa == 0 || bb == 0) return 1;
    return 1 - ref_dot(a, b, nullptr) / std::sqrt(aa * bb);
}

void test_kernels_match_reference() {
    std::mt19937 rng(42);
    for (std::size_t n : {0u, 1u, 7u, 16u, 33u, 384u, 1000u}) {
        auto a = random_vector(rng, n), b = random_vector(rng, n);
        double magnitude = 0;
        double want = ref_dot(a, b, &magnitude);
        CHECK(std::fabs(ferrovec::dot(a, b) - want) <= 1e-5 * magnitude + 1e-30);
        double l2 = ref_l2sq(a, b);
        CHECK(std::fabs(ferrovec::l2sq(a, b) - l2) <= 1e-5 * l2 + 1e-6);
        CHECK(std::fabs(ferrovec::cosine_distance(a, b) - ref_cosine(a, b)) <= 2e-5);
    }
    // Containers of every kind.
    std::array<float, 3> x{1, 2, 3};
    float y[3] = {4, 5, 6};
    CHECK(ferrovec::dot(x, y) == 32.0f);
    CHECK(ferrovec::dot(std::vector<float>{1, 2, 3}, ferrovec::Span<const float>(y, 3)) == 32.0f);

    std::vector<float> v{3, 4};
    CHECK(ferrovec::l2_normalize(v) == 5.0f);
    CHECK(std::fabs(v[0] - 0.6f) < 1e-7f && std::fabs(v[1] - 0.8f) < 1e-7f);

    std::vector<int8_t> i8a{-128, -1, 0, 5, 127}, i8b{127, 3, -7, 5, -128};
    int32_t dot8 = 0;
    uint32_t l2_8 = 0;
    for (std::size_t i = 0; i < i8a.size(); ++i) {
        dot8 += i8a[i] * i8b[i];
        l2_8 += uint32_t((i8a[i] - i8b[i]) * (i8a[i] - i8b[i]));
    }
    CHECK(ferrovec::dot_i8(i8a, i8b) == dot8);
    CHECK(ferrovec::l2sq_i8(i8a, i8b) == l2_8);

    std::vector<uint8_t> bx{0xF0, 0xFF}, by{0xA0, 0x0F};
    CHECK(ferrovec::hamming(bx, by) == 6u);
    CHECK(std::fabs(ferrovec::jaccard(bx, by) - 0.5f) < 1e-6f);
    std::vector<uint8_t> zeros(2, 0);
    CHECK(ferrovec::jaccard(zeros, zeros) == 0.0f);
}

void test_scan() {
    std::mt19937 rng(7);
    const std::size_t dims = 24, n = 50;
    auto rows = random_vector(rng, dims * n);
    auto q = random_vector(rng, dims);
    for (auto metric : {ferrovec::Metric::Dot, ferrovec::Metric::Cosine, ferrovec::Metric::L2sq}) {
        auto got = ferrovec::scan(metric, q, rows);
        CHECK(got.size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            std::vector<float> row(rows.begin() + long(i * dims), rows.begin() + long((i + 1) * dims));
            double want = metric == ferrovec::Metric::Dot      ? -ref_dot(q, row, nullptr)
                          : metric == ferrovec::Metric::Cosine ? ref_cosine(q, row)
                                                               : ref_l2sq(q, row);
            CHECK(std::fabs(got[i] - want) <= 1e-5 * (std::fabs(want) + 1));
        }
    }
    CHECK(ferrovec::scan(ferrovec::Metric::Dot, std::vector<float>{}, std::vector<float>{}).empty());
}

void test_wrapper_errors() {
    std::vector<float> two{1, 2}, three{1, 2, 3};
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, "expected 2, got 3", ferrovec::dot(two, three));
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, "dimension mismatch", ferrovec::l2sq(three, two));
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, "", ferrovec::cosine_distance(two, three));
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, "", ferrovec::hamming(std::vector<uint8_t>(1), std::vector<uint8_t>(2)));
    EXPECT_ERROR(FV_ERR_DIMENSION_MISMATCH, "expected 6, got 5",
                 ferrovec::scan(ferrovec::Metric::Dot, two, std::vector<float>(5)));
    EXPECT_ERROR(FV_ERR_NULL_POINTER, "`a`",
                 ferrovec::dot(ferrovec::Span<const float>(nullptr, 3), three));
    EXPECT_ERROR(FV_ERR_NULL_POINTER, "`b`",
                 ferrovec::dot_i8(std::vector<int8_t>(2), ferrovec::Span<const int8_t>(nullptr, 2)));
    // A float pointer one byte into a buffer: misaligned.
    alignas(4) unsigned char raw[20] = {};
    const float* skewed = reinterpret_cast<const float*>(raw + 1);
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, "aligned", ferrovec::dot(ferrovec::Span<const float>(skewed, 2), two));
    // Errors reported by the library itself (scan checks in Rust).
    std::vector<float> out(1);
    EXPECT_ERROR(FV_ERR_UNKNOWN_METRIC, "unknown metric code 9",
                 ferrovec::scan(static_cast<ferrovec::Metric>(9), two, two, out));
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, "overlaps",
                 ferrovec::scan(ferrovec::Metric::Dot, two, ferrovec::Span<const float>(out.data(), 1),
                                ferrovec::Span<float>(out.data(), 1)));
    EXPECT_ERROR(FV_ERR_INVALID_ARGUMENT, "", ferrovec::force_isa("no-such-isa"));
    CHECK(std::string(ferrovec::Error(-3, "x").what()) == "x");
}

void test_isa_selection() {
    const std::string original = ferrovec::isa_name();
    CHECK(!original.empty());
    ferrovec::force_isa("scalar");
    CHECK(ferrovec::isa_name() == "scalar");
    CHECK(ferrovec::dot(std::vector<float>{1, 2, 3}, std::vector<float>{4, 5, 6}) == 32.0f);
    ferrovec::force_isa(original);
    CHECK(ferrovec::isa_name() == original);
    // This is an x86_64 test machine: NEON can never run here.
    EXPECT_ERROR(FV_ERR_UNSUPPORTED_ISA, "neon", ferrovec::force_isa("neon"));
    CHECK(ferrovec::isa_name() == original);
}

void test_c_api_misuse() {
    const float b[3] = {1, 2, 3};
    float out[2] = {-7, -7};
    // Null with a length: NaN / sentinel / status plus a message naming the argument.
    CHECK(std::isnan(fv_dot_f32(nullptr, b, 3)));
    CHECK(std::strstr(fv_last_error_message(), "`a`") != nullptr);
    CHECK(std::isnan(fv_l2sq_f32(b, nullptr, 3)));
    CHECK(std::strstr(fv_last_error_message(), "`b`") != nullptr);
    CHECK(fv_dot_i8(nullptr, nullptr, 1) == FV_ERROR_I32);
    CHECK(fv_hamming_b1(nullptr, nullptr, 4) == FV_ERROR_U32);
    CHECK(std::isnan(fv_l2_normalize_f32(nullptr, 2)));
    CHECK(fv_scan_f32(FV_METRIC_DOT, b, b, 1, 3, nullptr) == FV_ERR_NULL_POINTER);
    CHECK(fv_scan_f32(FV_METRIC_DOT, nullptr, b, 1, 3, out) == FV_ERR_NULL_POINTER);
    CHECK(out[0] == -7 && out[1] == -7);  // untouched on error
    CHECK(fv_scan_f32(FV_METRIC_DOT, b, b, SIZE_MAX / 2, 3, out) == FV_ERR_INVALID_ARGUMENT);
    CHECK(fv_force_isa(nullptr) == FV_ERR_NULL_POINTER);
    // Null with length 0 is fine.
    CHECK(fv_dot_f32(nullptr, nullptr, 0) == 0.0f);
    CHECK(fv_scan_f32(FV_METRIC_COSINE, nullptr, nullptr, 0, 0, nullptr) == FV_OK);
    // Strings are static and non-null.
    CHECK(fv_version() != nullptr && std::strlen(fv_version()) > 0);
}

void test_errors_are_per_thread() {
    fv_force_isa("definitely-not-an-isa");
    const std::string here = fv_last_error_message();
    std::string there;
    std::thread worker([&] {
        there = fv_last_error_message();  // nothing failed on this thread yet
        fv_dot_f32(nullptr, nullptr, 1);
    });
    worker.join();
    CHECK(there.empty());
    CHECK(here == fv_last_error_message());
    CHECK(here.find("definitely-not-an-isa") != std::string::npos);
}

}  // namespace

int main() {
    test_kernels_match_reference();
    test_scan();
    test_wrapper_errors();
    test_isa_selection();
    test_c_api_misuse();
    test_errors_are_per_thread();
    if (failures != 0) {
        std::fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    std::printf("all %d checks passed (ferrovec %s, %s)\n", checks, ferrovec::version().c_str(),
                ferrovec::isa_name().c_str());
    return 0;
}
