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
#include <exception>
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

/* ------------------------------------------------------------------ engine and index */

/** Which implementation runs the kernels and indexes. */
enum class Backend : int32_t {
    Native = FV_BACKEND_NATIVE,            ///< Compiled Rust with the best SIMD of this CPU.
    Interpreted = FV_BACKEND_INTERPRETED,  ///< The wasm module in an embedded interpreter.
};

/**
 * An engine (owns an `fv_engine*`; movable, not copyable). Thread-safe: share one by
 * reference. Indexes made from it do not keep it alive and may outlive it.
 */
class Engine {
public:
    /** `options` as `fv_engine_new` takes them (NULL: the defaults, e.g. the bundled module). */
    explicit Engine(Backend backend, const fv_engine_options* options = nullptr) {
        detail::check(fv_engine_new(static_cast<int32_t>(backend), options, &engine_));
    }
    static Engine native() { return Engine(Backend::Native); }
    static Engine interpreted() { return Engine(Backend::Interpreted); }

    Engine(Engine&& other) noexcept : engine_(std::exchange(other.engine_, nullptr)) {}
    Engine& operator=(Engine&& other) noexcept {
        if (this != &other) {
            fv_engine_free(engine_);
            engine_ = std::exchange(other.engine_, nullptr);
        }
        return *this;
    }
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine() { fv_engine_free(engine_); }

    /** "native" or "interpreted". */
    std::string backend_name() const { return fv_engine_backend_name(engine_); }
    /** The C handle, still owned by this object. */
    const fv_engine* get() const noexcept { return engine_; }

private:
    fv_engine* engine_ = nullptr;
};

/** An index's distance; smaller is closer. */
enum class IndexMetric : int32_t {
    Cosine = FV_INDEX_METRIC_COSINE,              ///< `1 - cos(a, b)` (f32 or i8 storage).
    L2sq = FV_INDEX_METRIC_L2SQ,                  ///< Squared Euclidean (f32 or i8).
    InnerProduct = FV_INDEX_METRIC_INNER_PRODUCT, ///< `1 - a . b` (f32 or i8).
    Hamming = FV_INDEX_METRIC_HAMMING,            ///< Of the sign bits (b1 storage only).
    Jaccard = FV_INDEX_METRIC_JACCARD,            ///< Of the sign bits (b1 storage only).
};

/** How an index stores its vectors. */
enum class Storage : int32_t {
    F32 = FV_STORAGE_F32,  ///< As given.
    I8 = FV_STORAGE_I8,    ///< 8-bit, one scale per vector.
    B1 = FV_STORAGE_B1,    ///< One sign bit per dimension.
};

/** What adding an existing key does. */
enum class OnDuplicate : int32_t {
    Error = FV_ON_DUPLICATE_ERROR,      ///< Throws (`FV_ERR_DUPLICATE_KEY`).
    Replace = FV_ON_DUPLICATE_REPLACE,  ///< Replaces the key's vector.
};

/** Index options: `IndexOptions(384, IndexMetric::Cosine).hnsw().storage(Storage::I8)`. */
class IndexOptions {
public:
    IndexOptions(std::size_t dims, IndexMetric metric) : options_(fv_index_options_default()) {
        options_.dims = dims;
        options_.metric = static_cast<int32_t>(metric);
    }
    IndexOptions& storage(Storage s) {
        options_.storage = static_cast<int32_t>(s);
        return *this;
    }
    IndexOptions& exact() {
        options_.kind = FV_INDEX_EXACT;
        return *this;
    }
    /** HNSW with links per node `m`, build and search candidate lists, and a seed. */
    IndexOptions& hnsw(std::size_t m = 16, std::size_t ef_construction = 128,
                       std::size_t ef_search = 64, uint64_t seed = 0x5eed) {
        options_.kind = FV_INDEX_HNSW;
        options_.m = m;
        options_.ef_construction = ef_construction;
        options_.ef_search = ef_search;
        options_.seed = seed;
        return *this;
    }
    const fv_index_options& c_options() const noexcept { return options_; }

private:
    fv_index_options options_;
};

/** One search result. */
struct Match {
    uint64_t key;
    float distance;
    bool operator==(const Match& o) const { return key == o.key && distance == o.distance; }
};

/**
 * A vector index (owns an `fv_index*`; movable, not copyable). Thread-safe like the C
 * handle: any number of threads may search while one adds or removes; only destruction
 * must not race with other calls.
 */
class Index {
public:
    Index(const Engine& engine, const IndexOptions& options) {
        detail::check(fv_index_new(engine.get(), &options.c_options(), &index_));
    }
    /** An index from `to_bytes()` output (any backend's). */
    static Index from_bytes(const Engine& engine, Span<const uint8_t> bytes) {
        fv_index* index = nullptr;
        detail::check(fv_index_load_bytes(engine.get(), bytes.data(), bytes.size(), &index));
        return Index(index);
    }
    static Index load(const Engine& engine, const std::string& path) {
        fv_index* index = nullptr;
        detail::check(fv_index_load_file(engine.get(), path.c_str(), &index));
        return Index(index);
    }

    Index(Index&& other) noexcept : index_(std::exchange(other.index_, nullptr)) {}
    Index& operator=(Index&& other) noexcept {
        if (this != &other) {
            fv_index_free(index_);
            index_ = std::exchange(other.index_, nullptr);
        }
        return *this;
    }
    Index(const Index&) = delete;
    Index& operator=(const Index&) = delete;
    ~Index() { fv_index_free(index_); }

    void add(uint64_t key, Span<const float> vector, OnDuplicate on_duplicate = OnDuplicate::Error) {
        detail::check(fv_index_add(index_, key, vector.data(), vector.size(),
                                   static_cast<int32_t>(on_duplicate)));
    }
    /** `vectors`: `keys.size() * dims()` floats, row-major. All or nothing. */
    void add_batch(Span<const uint64_t> keys, Span<const float> vectors,
                   OnDuplicate on_duplicate = OnDuplicate::Error) {
        detail::check(fv_index_add_batch(index_, keys.data(), keys.size(), vectors.data(),
                                         vectors.size(), static_cast<int32_t>(on_duplicate)));
    }
    void remove(uint64_t key) { detail::check(fv_index_remove(index_, key)); }
    void compact() { detail::check(fv_index_compact(index_)); }
    void clear() { detail::check(fv_index_clear(index_)); }
    void reserve(std::size_t additional) { detail::check(fv_index_reserve(index_, additional)); }
    void set_ef_search(std::size_t ef) { detail::check(fv_index_set_ef_search(index_, ef)); }

    bool contains(uint64_t key) const {
        int32_t found = 0;
        detail::check(fv_index_contains(index_, key, &found));
        return found != 0;
    }
    std::size_t size() const {
        std::size_t n = 0;
        detail::check(fv_index_len(index_, &n));
        return n;
    }
    std::size_t dims() const {
        std::size_t n = 0;
        detail::check(fv_index_dims(index_, &n));
        return n;
    }
    /** The stored vector (dequantized). */
    std::vector<float> get(uint64_t key) const {
        std::vector<float> out(dims());
        detail::check(fv_index_get(index_, key, out.data(), out.size()));
        return out;
    }

    /** The `k` nearest, ascending by distance (ties by key). */
    std::vector<Match> search(Span<const float> query, std::size_t k) const {
        Results r(k);
        detail::check(fv_index_search(index_, query.data(), query.size(), k, r.keys.data(),
                                      r.distances.data(), &r.count));
        return r.matches();
    }
    /** Only keys with `filter(key)` true. An exception thrown by `filter` ends the search
     *  (the rest of the candidates are rejected) and is rethrown here. */
    template <typename F>
    std::vector<Match> search_filtered(Span<const float> query, std::size_t k, F&& filter) const {
        struct Ctx {
            std::remove_reference_t<F>* filter;
            std::exception_ptr error;
        } ctx{&filter, nullptr};
        // Exceptions must not unwind through the library's frames: caught here.
        auto trampoline = [](uint64_t key, void* user) -> bool {
            auto* c = static_cast<Ctx*>(user);
            if (c->error) return false;
            try {
                return static_cast<bool>((*c->filter)(key));
            } catch (...) {
                c->error = std::current_exception();
                return false;
            }
        };
        Results r(k);
        int32_t status = fv_index_search_filtered(index_, query.data(), query.size(), k,
                                                  trampoline, &ctx, r.keys.data(),
                                                  r.distances.data(), &r.count);
        if (ctx.error) std::rethrow_exception(ctx.error);
        detail::check(status);
        return r.matches();
    }
    /** Only keys in `allowed` (any order, duplicates and unknown keys fine). */
    std::vector<Match> search_allowed(Span<const float> query, std::size_t k,
                                      Span<const uint64_t> allowed) const {
        Results r(k);
        detail::check(fv_index_search_allowed(index_, query.data(), query.size(), k,
                                              allowed.data(), allowed.size(), r.keys.data(),
                                              r.distances.data(), &r.count));
        return r.matches();
    }
    /** One search per query (`queries`: `n * dims()` floats, row-major). */
    std::vector<std::vector<Match>> search_batch(Span<const float> queries, std::size_t k) const {
        std::size_t d = dims();
        std::size_t n = d == 0 ? 0 : queries.size() / d;
        if (n * d != queries.size()) detail::throw_dimension_mismatch((n + 1) * d, queries.size());
        Results r(n * k);
        std::vector<std::size_t> counts(n);
        detail::check(fv_index_search_batch(index_, queries.data(), n, queries.size(), k,
                                            r.keys.data(), r.distances.data(), counts.data()));
        std::vector<std::vector<Match>> out(n);
        for (std::size_t q = 0; q < n; q++)
            for (std::size_t i = 0; i < counts[q]; i++)
                out[q].push_back(Match{r.keys[q * k + i], r.distances[q * k + i]});
        return out;
    }

    /** The portable file format (loads on every backend and surface). */
    std::vector<uint8_t> to_bytes() const {
        uint8_t* bytes = nullptr;
        std::size_t len = 0;
        detail::check(fv_index_save_bytes(index_, &bytes, &len));
        std::vector<uint8_t> out(bytes, bytes + len);
        fv_bytes_free(bytes, len);
        return out;
    }
    /** Saves atomically (temporary file, then rename). */
    void save(const std::string& path) const {
        detail::check(fv_index_save_file(index_, path.c_str()));
    }

    /** The C handle, still owned by this object. */
    fv_index* get_handle() const noexcept { return index_; }

private:
    explicit Index(fv_index* index) : index_(index) {}

    struct Results {
        explicit Results(std::size_t k) : keys(k), distances(k) {}
        std::vector<uint64_t> keys;
        std::vector<float> distances;
        std::size_t count = 0;
        std::vector<Match> matches() const {
            std::vector<Match> out;
            out.reserve(count);
            for (std::size_t i = 0; i < count; i++) out.push_back(Match{keys[i], distances[i]});
            return out;
        }
    };

    fv_index* index_ = nullptr;
};

}  // namespace ferrovec

#endif  // FERROVEC_HPP
