/**
 * @file ferrovec.hpp
 * @brief C++17 wrapper over the ferrovec C API (ferrovec.h): exceptions instead of status
 *        codes, RAII for every handle, containers instead of pointer + length.
 *
 * Header-only; link the same library as for C (`find_package(ferrovec)` then
 * `target_link_libraries(app PRIVATE ferrovec::ferrovec)`, or `pkg-config --libs ferrovec`).
 *
 * Errors: every failing call throws ferrovec::Error, carrying the C status code
 * (`code()`, one of the `FV_ERR_*` values) and ferrovec's message (`what()`).
 *
 * Vectors: any contiguous container of the right element type works (std::vector,
 * std::array, C arrays, ferrovec::Span), as does a (pointer, length) Span.
 */
#ifndef FERROVEC_HPP
#define FERROVEC_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferrovec.h"

namespace ferrovec {

/** A failed ferrovec call: the C status code and ferrovec's message. */
class Error : public std::runtime_error {
public:
    Error(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}

    /** The `FV_ERR_*` status code (always negative). */
    int32_t code() const noexcept { return code_; }

private:
    int32_t code_;
};

namespace detail {

/** Throws the calling thread's last ferrovec error with the given status. */
[[noreturn]] inline void throw_last(int32_t status) {
    const char* message = fv_last_error_message();
    throw Error(status, message != nullptr && message[0] != '\0' ? message : "ferrovec error");
}

inline void check(int32_t status) {
    if (status != FV_OK) throw_last(status);
}

[[noreturn]] inline void throw_dimension_mismatch(std::size_t expected, std::size_t actual) {
    // Same wording as the library's own DimensionMismatch.
    throw Error(FV_ERR_DIMENSION_MISMATCH, "dimension mismatch: expected " +
                                               std::to_string(expected) + ", got " +
                                               std::to_string(actual));
}

}  // namespace detail

/** A borrowed contiguous run of `T`: what every vector argument converts to. */
template <typename T>
class Span {
public:
    constexpr Span() noexcept = default;
    constexpr Span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}

    /**
     * Any container with `data()` and `size()` whose elements are `T` (a temporary too: the
     * Span then lives until the end of the full expression, e.g. the call it is passed to).
     */
    template <typename C,
              typename = std::enable_if_t<
                  std::is_convertible_v<decltype(std::declval<C&>().data()), T*> &&
                  !std::is_same_v<std::decay_t<C>, Span>>>
    constexpr Span(C&& c) noexcept : data_(c.data()), size_(c.size()) {}  // NOLINT: implicit

    template <std::size_t N>
    constexpr Span(T (&array)[N]) noexcept : data_(array), size_(N) {}  // NOLINT: implicit

    constexpr T* data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr T* begin() const noexcept { return data_; }
    constexpr T* end() const noexcept { return data_ + size_; }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
};

/** The distance a scan computes; smaller is always closer. */
enum class Metric : int32_t {
    Dot = FV_METRIC_DOT,        ///< Negated inner product, `-(a . b)`.
    Cosine = FV_METRIC_COSINE,  ///< Cosine distance `1 - cos(a, b)`, in [0, 2].
    L2sq = FV_METRIC_L2SQ,      ///< Squared Euclidean distance.
};

/** The library version, e.g. "0.1.0". */
inline std::string version() { return fv_version(); }

/** The instruction set the kernels currently run on ("scalar", "avx2", "avx512", "neon"). */
inline std::string isa_name() { return fv_isa_name(); }

/** Makes `name` the active instruction set for the whole process; throws if unavailable. */
inline void force_isa(const std::string& name) { detail::check(fv_force_isa(name.c_str())); }

namespace detail {

template <typename T>
inline void same_length(Span<const T> a, Span<const T> b) {
    if (a.size() != b.size()) throw_dimension_mismatch(a.size(), b.size());
}

/**
 * The C kernels report errors through sentinels that can also be legitimate results (NaN for
 * the f32 kernels), so everything they could reject is checked here first; anything left
 * is a bug and surfaces as FV_ERR_INTERNAL.
 */
template <typename T>
inline void well_formed(Span<const T> a, const char* name) {
    if (a.size() == 0) return;
    if (a.data() == nullptr)
        throw Error(FV_ERR_NULL_POINTER, std::string("null pointer passed for `") + name + "`");
    if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0)
        throw Error(FV_ERR_INVALID_ARGUMENT, std::string("invalid argument: `") + name +
                                                 "` is not aligned to " +
                                                 std::to_string(alignof(T)) + " bytes");
}

}  // namespace detail

/** Inner product of two f32 vectors of the same length. */
inline float dot(Span<const float> a, Span<const float> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    return fv_dot_f32(a.data(), b.data(), a.size());
}

/** Cosine distance `1 - cos(a, b)` in [0, 2]; two zero vectors give 0, exactly one gives 1. */
inline float cosine_distance(Span<const float> a, Span<const float> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    return fv_cosine_distance_f32(a.data(), b.data(), a.size());
}

/** Squared Euclidean distance of two f32 vectors of the same length. */
inline float l2sq(Span<const float> a, Span<const float> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    return fv_l2sq_f32(a.data(), b.data(), a.size());
}

/** Scales `x` to unit length in place; returns its length before (zero/inf/NaN: unchanged). */
inline float l2_normalize(Span<float> x) {
    detail::well_formed(Span<const float>(x.data(), x.size()), "x");
    return fv_l2_normalize_f32(x.data(), x.size());
}

/** Inner product of two i8 vectors (exact up to 65536 elements, wrapping beyond). */
inline int32_t dot_i8(Span<const int8_t> a, Span<const int8_t> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    return fv_dot_i8(a.data(), b.data(), a.size());
}

/** Squared Euclidean distance of two i8 vectors. */
inline uint32_t l2sq_i8(Span<const int8_t> a, Span<const int8_t> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    return fv_l2sq_i8(a.data(), b.data(), a.size());
}

/** Number of differing bits of two packed bit vectors. */
inline uint32_t hamming(Span<const uint8_t> a, Span<const uint8_t> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    uint32_t r = fv_hamming_b1(a.data(), b.data(), a.size());
    // A real distance is at most 8 * n_bytes, so FV_ERROR_U32 can only be an error.
    if (r == FV_ERROR_U32) detail::throw_last(FV_ERR_INVALID_ARGUMENT);
    return r;
}

/** Jaccard distance of two packed bit vectors (0 if both are all zeros). */
inline float jaccard(Span<const uint8_t> a, Span<const uint8_t> b) {
    detail::same_length(a, b);
    detail::well_formed(a, "a");
    detail::well_formed(b, "b");
    float r = fv_jaccard_b1(a.data(), b.data(), a.size());
    if (std::isnan(r)) detail::throw_last(FV_ERR_INVALID_ARGUMENT);  // never a real result
    return r;
}

/**
 * Distances from `query` (d floats) to each of the `rows.size() / d` rows of `rows`
 * (row-major), written to `out` (one float per row).
 */
inline void scan(Metric metric, Span<const float> query, Span<const float> rows,
                 Span<float> out) {
    detail::check(fv_scan_f32(static_cast<int32_t>(metric), query.data(), rows.data(),
                              out.size(), query.size(), out.data()));
}

/** Like scan(), returning a new vector; `rows.size()` must be a multiple of `query.size()`. */
inline std::vector<float> scan(Metric metric, Span<const float> query, Span<const float> rows) {
    if (query.empty()) {
        if (!rows.empty())
            throw Error(FV_ERR_INVALID_ARGUMENT,
                        "invalid argument: an empty query cannot be scanned against rows");
        return {};
    }
    if (rows.size() % query.size() != 0)
        detail::throw_dimension_mismatch((rows.size() / query.size() + 1) * query.size(),
                                         rows.size());
    std::vector<float> out(rows.size() / query.size());
    scan(metric, query, rows, Span<float>(out));
    return out;
}

}  // namespace ferrovec

#endif  // FERROVEC_HPP
