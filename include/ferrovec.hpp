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

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
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
    Cosine = FV_INDEX_METRIC_COSINE,              ///< `1 - cos(a, b)` (f32, f16, bf16 or i8 storage).
    L2sq = FV_INDEX_METRIC_L2SQ,                  ///< Squared Euclidean (f32, f16, bf16 or i8).
    InnerProduct = FV_INDEX_METRIC_INNER_PRODUCT, ///< `1 - a . b` (f32, f16, bf16 or i8).
    Hamming = FV_INDEX_METRIC_HAMMING,            ///< Of the sign bits (b1 storage only).
    Jaccard = FV_INDEX_METRIC_JACCARD,            ///< Of the sign bits (b1 storage only).
};

/** How an index stores its vectors. */
enum class Storage : int32_t {
    F32 = FV_STORAGE_F32,  ///< As given.
    I8 = FV_STORAGE_I8,    ///< 8-bit, one scale per vector.
    B1 = FV_STORAGE_B1,    ///< One sign bit per dimension.
    /** IEEE half, each value rounded to nearest even (2 bytes per dimension); with L2sq or
     *  InnerProduct a value that would round to infinity (|x| >= 65520) throws
     *  (`FV_ERR_INVALID_ARGUMENT`). Files are format version 3. */
    F16 = FV_STORAGE_F16,
    /** bfloat16 (8 significant bits, f32's range), otherwise as F16. */
    BF16 = FV_STORAGE_BF16,
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

class Encoder;

/**
 * A vector index (owns an `fv_index*`; movable, not copyable). Thread-safe like the C
 * handle: any number of threads may search while one adds or removes; only destruction
 * must not race with other calls.
 *
 * Text: an index made with an `Encoder` (or a handle from `with_encoder`) adds and
 * searches by text, and records the encoder's model id (kept in saved files; loading
 * with another model's encoder throws):
 *
 *     ferrovec::Encoder encoder = ferrovec::Encoder::load(engine, "models/all-minilm-l6-v2");
 *     ferrovec::Index index(engine, encoder,
 *                           ferrovec::IndexOptions(encoder.dims(), ferrovec::IndexMetric::Cosine));
 *     index.add_texts(keys, {"The weather is lovely today.", "He drove to the stadium."});
 *     auto hits = index.search_text("sunny", 5);
 */
class Index {
public:
    Index(const Engine& engine, const IndexOptions& options) {
        detail::check(fv_index_new(engine.get(), &options.c_options(), &index_));
    }
    /** An empty index for `encoder`'s vectors with the encoder attached and its model id
     *  recorded (`fv_index_new_text`): `options` must have `encoder.dims()` dims. The
     *  index keeps its own reference to the model; `encoder` may be destroyed first. */
    inline Index(const Engine& engine, const Encoder& encoder, const IndexOptions& options);
    /** `from_bytes` with `encoder` attached: the bytes' model id, if any, must be its. */
    static inline Index from_bytes(const Engine& engine, Span<const uint8_t> bytes,
                                   const Encoder& encoder);
    /** `load` with `encoder` attached: the file's model id, if any, must be its. */
    static inline Index load(const Engine& engine, const std::string& path,
                             const Encoder& encoder);
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

    /* ---- text (see the class comment) ---- */

    /** A new handle to the same index (vectors shared) carrying `encoder` for the text
     *  methods (`fv_index_with_encoder`); throws if the index holds another model's vectors
     *  or the dims differ. This handle is unchanged. */
    inline Index with_encoder(const Encoder& encoder) const;
    /** The model id recorded in the index (set by the first text added or by the text
     *  constructor; saved in files), or nothing for an index of plain vectors. */
    std::optional<uint64_t> model_id() const {
        uint64_t id = 0;
        bool has = false;
        detail::check(fv_index_model_id(index_, &id, &has));
        return has ? std::optional<uint64_t>(id) : std::nullopt;
    }
    /** Embeds `text` (bytes; invalid UTF-8 is read as U+FFFD) and adds it under `key`.
     *  Throws without an encoder, or when the index holds another model's vectors. */
    void add_text(uint64_t key, std::string_view text,
                  OnDuplicate on_duplicate = OnDuplicate::Error) {
        detail::check(fv_index_add_text(index_, key, text.data(), text.size(),
                                        static_cast<int32_t>(on_duplicate)));
    }
    /** Embeds `texts` in one batch and adds `texts[i]` under `keys[i]`, all or nothing. */
    void add_texts(Span<const uint64_t> keys, const std::vector<std::string_view>& texts,
                   OnDuplicate on_duplicate = OnDuplicate::Error) {
        if (keys.size() != texts.size()) detail::throw_dimension_mismatch(keys.size(), texts.size());
        TextArgs a(texts);
        detail::check(fv_index_add_texts(index_, keys.data(), a.ptrs.data(), a.lens.data(),
                                         texts.size(), static_cast<int32_t>(on_duplicate)));
    }
    /** `add_texts` for strings. */
    void add_texts(Span<const uint64_t> keys, const std::vector<std::string>& texts,
                   OnDuplicate on_duplicate = OnDuplicate::Error) {
        add_texts(keys, std::vector<std::string_view>(texts.begin(), texts.end()), on_duplicate);
    }
    /** `add_texts` for a braced list of literals. */
    void add_texts(Span<const uint64_t> keys, std::initializer_list<std::string_view> texts,
                   OnDuplicate on_duplicate = OnDuplicate::Error) {
        add_texts(keys, std::vector<std::string_view>(texts), on_duplicate);
    }
    /** The `k` nearest to the embedding of `text`, ascending by distance. */
    std::vector<Match> search_text(std::string_view text, std::size_t k) const {
        Results r(k);
        detail::check(fv_index_search_text(index_, text.data(), text.size(), k, r.keys.data(),
                                           r.distances.data(), &r.count));
        return r.matches();
    }
    /** One `search_text` per text, the texts embedded in one batch. */
    std::vector<std::vector<Match>> search_texts(const std::vector<std::string_view>& texts,
                                                 std::size_t k) const {
        std::size_t n = texts.size();
        TextArgs a(texts);
        Results r(n * k);
        std::vector<std::size_t> counts(n);
        detail::check(fv_index_search_texts(index_, a.ptrs.data(), a.lens.data(), n, k,
                                            r.keys.data(), r.distances.data(), counts.data()));
        std::vector<std::vector<Match>> out(n);
        for (std::size_t q = 0; q < n; q++)
            for (std::size_t i = 0; i < counts[q]; i++)
                out[q].push_back(Match{r.keys[q * k + i], r.distances[q * k + i]});
        return out;
    }
    /** `search_texts` for strings. */
    std::vector<std::vector<Match>> search_texts(const std::vector<std::string>& texts,
                                                 std::size_t k) const {
        return search_texts(std::vector<std::string_view>(texts.begin(), texts.end()), k);
    }
    /** `search_texts` for a braced list of literals. */
    std::vector<std::vector<Match>> search_texts(std::initializer_list<std::string_view> texts,
                                                 std::size_t k) const {
        return search_texts(std::vector<std::string_view>(texts), k);
    }

    /** The C handle, still owned by this object. */
    fv_index* get_handle() const noexcept { return index_; }

private:
    explicit Index(fv_index* index) : index_(index) {}

    /** Pointers and lengths of a batch of texts for the C calls. */
    struct TextArgs {
        explicit TextArgs(const std::vector<std::string_view>& texts)
            : ptrs(texts.size()), lens(texts.size()) {
            for (std::size_t i = 0; i < texts.size(); i++) {
                ptrs[i] = texts[i].data();
                lens[i] = texts[i].size();
            }
        }
        std::vector<const char*> ptrs;
        std::vector<std::size_t> lens;
    };

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

/* ------------------------------------------------------------------ text encoder */

/**
 * How an encoder holds its linear layers' weights. Int8: quantized per output channel while
 * loading (a quarter of the f32 linear weights; vectors within a cosine of about 0.998 of the
 * f32 ones for all-MiniLM-L6-v2; the same model id); the word embedding table too. Natively the
 * encoder then lets go of the loaded file: about a quarter of the f32 memory.
 */
enum class Precision : int32_t {
    F32 = FV_ENCODER_PRECISION_F32,    ///< The checkpoint's f32 values (the default).
    Int8 = FV_ENCODER_PRECISION_INT8,  ///< Int8, quantized at load.
};

/** Encoder options: `EncoderOptions().precision(Precision::Int8).threads(4)`. */
class EncoderOptions {
public:
    EncoderOptions() : options_(fv_encoder_options_default()) {}
    EncoderOptions& precision(Precision p) {
        options_.precision = static_cast<int32_t>(p);
        return *this;
    }
    /** Threads one `embed` call may use (at least 1; see `Encoder::set_threads` for 0). */
    EncoderOptions& threads(std::size_t n) {
        options_.threads = n;
        return *this;
    }
    const fv_encoder_options& c_options() const noexcept { return options_; }

private:
    fv_encoder_options options_;
};

/**
 * A sentence encoder (owns an `fv_encoder*`; movable, not copyable): text in, unit-length
 * vectors out (a BERT sentence-transformers model such as all-MiniLM-L6-v2). Thread-safe:
 * any number of threads may embed at once; only destruction must not race. Does not keep
 * its engine alive.
 *
 *     ferrovec::Engine engine = ferrovec::Engine::native();
 *     ferrovec::Encoder encoder = ferrovec::Encoder::load(engine, "models/all-minilm-l6-v2");
 *     std::vector<float> v = encoder.embed({"The weather is lovely today.", "Sunny!"});
 *     // v: 2 x encoder.dims() floats, row-major
 */
class Encoder {
public:
    /** The model in directory `dir` (see `fv_encoder_load`); the weights are read once. */
    static Encoder load(const Engine& engine, const std::string& dir) {
        fv_encoder* encoder = nullptr;
        detail::check(fv_encoder_load(engine.get(), dir.c_str(), &encoder));
        return Encoder(encoder);
    }
    /** The model in directory `dir` with `options` (see `fv_encoder_load_with`). */
    static Encoder load(const Engine& engine, const std::string& dir,
                        const EncoderOptions& options) {
        fv_encoder* encoder = nullptr;
        detail::check(
            fv_encoder_load_with(engine.get(), dir.c_str(), &options.c_options(), &encoder));
        return Encoder(encoder);
    }
    /** The model's files in memory (see `fv_encoder_files`: without a release callback the
     *  weights are copied once and may be freed when this returns). */
    static Encoder from_files(const Engine& engine, const fv_encoder_files& files) {
        fv_encoder* encoder = nullptr;
        detail::check(fv_encoder_from_files(engine.get(), &files, &encoder));
        return Encoder(encoder);
    }

    Encoder(Encoder&& other) noexcept : encoder_(std::exchange(other.encoder_, nullptr)) {}
    Encoder& operator=(Encoder&& other) noexcept {
        if (this != &other) {
            fv_encoder_free(encoder_);
            encoder_ = std::exchange(other.encoder_, nullptr);
        }
        return *this;
    }
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;
    ~Encoder() { fv_encoder_free(encoder_); }

    /** Length of the vectors. */
    std::size_t dims() const {
        std::size_t n = 0;
        detail::check(fv_encoder_dims(encoder_, &n));
        return n;
    }
    /** Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included. */
    std::size_t max_tokens() const {
        std::size_t n = 0;
        detail::check(fv_encoder_max_tokens(encoder_, &n));
        return n;
    }
    /** A 64-bit fingerprint of the model, the same on every surface. */
    uint64_t model_id() const {
        uint64_t id = 0;
        detail::check(fv_encoder_model_id(encoder_, &id));
        return id;
    }
    /** How the weights are held (as loaded). */
    Precision precision() const {
        int32_t p = 0;
        detail::check(fv_encoder_precision(encoder_, &p));
        return static_cast<Precision>(p);
    }
    /** Threads one `embed` call may use (default 1). */
    std::size_t threads() const {
        std::size_t n = 0;
        detail::check(fv_encoder_threads(encoder_, &n));
        return n;
    }
    /** Up to `n` threads per `embed` call (0: the machine's available parallelism). */
    void set_threads(std::size_t n) { detail::check(fv_encoder_set_threads(encoder_, n)); }

    /** The token ids of `text` (bytes; invalid UTF-8 is read as U+FFFD). */
    std::vector<uint32_t> tokenize(std::string_view text) const {
        std::vector<uint32_t> ids(max_tokens());
        std::size_t count = 0;
        detail::check(fv_encoder_tokenize(encoder_, text.data(), text.size(), ids.data(),
                                          ids.size(), &count));
        ids.resize(count);
        return ids;
    }

    /** The unit-length vectors of `texts`, row-major: `texts.size() * dims()` floats. */
    std::vector<float> embed(const std::vector<std::string_view>& texts) const {
        std::vector<const char*> ptrs(texts.size());
        std::vector<std::size_t> lens(texts.size());
        for (std::size_t i = 0; i < texts.size(); i++) {
            ptrs[i] = texts[i].data();
            lens[i] = texts[i].size();
        }
        std::vector<float> out(texts.size() * dims());
        detail::check(fv_encoder_embed(encoder_, ptrs.data(), lens.data(), texts.size(),
                                       out.data(), out.size()));
        return out;
    }
    /** `embed` for strings. */
    std::vector<float> embed(const std::vector<std::string>& texts) const {
        return embed(std::vector<std::string_view>(texts.begin(), texts.end()));
    }
    /** `embed` for a braced list of literals. */
    std::vector<float> embed(std::initializer_list<std::string_view> texts) const {
        return embed(std::vector<std::string_view>(texts));
    }
    /** The unit-length vector of one text (`dims()` floats). */
    std::vector<float> embed_one(std::string_view text) const { return embed({text}); }

    /** The C handle, still owned by this object. */
    fv_encoder* get_handle() const noexcept { return encoder_; }

private:
    explicit Encoder(fv_encoder* encoder) : encoder_(encoder) {}
    fv_encoder* encoder_ = nullptr;
};

inline Index::Index(const Engine& engine, const Encoder& encoder, const IndexOptions& options) {
    detail::check(fv_index_new_text(engine.get(), encoder.get_handle(), &options.c_options(),
                                    &index_));
}
inline Index Index::from_bytes(const Engine& engine, Span<const uint8_t> bytes,
                               const Encoder& encoder) {
    fv_index* index = nullptr;
    detail::check(fv_index_load_bytes_with_encoder(engine.get(), bytes.data(), bytes.size(),
                                                   encoder.get_handle(), &index));
    return Index(index);
}
inline Index Index::load(const Engine& engine, const std::string& path, const Encoder& encoder) {
    fv_index* index = nullptr;
    detail::check(
        fv_index_load_file_with_encoder(engine.get(), path.c_str(), encoder.get_handle(), &index));
    return Index(index);
}
inline Index Index::with_encoder(const Encoder& encoder) const {
    fv_index* index = nullptr;
    detail::check(fv_index_with_encoder(index_, encoder.get_handle(), &index));
    return Index(index);
}

/* ------------------------------------------------------------------ sparse solver */

/** Why an iterative or local method stopped (`FV_STOP_*`). */
enum class Stop : int32_t {
    Converged = FV_STOP_CONVERGED,          ///< The stopping criterion was met.
    MaxIterations = FV_STOP_MAX_ITERATIONS, ///< The iteration budget ran out (not an error).
    MaxWork = FV_STOP_MAX_WORK,             ///< The push / walk budget ran out (not an error).
    Breakdown = FV_STOP_BREAKDOWN,          ///< The method could not continue; last iterate.
    Other = FV_STOP_OTHER,                  ///< A reason newer than this header.
};

/** Preconditioner of CG and BiCGSTAB. */
enum class Preconditioner : int32_t {
    None = FV_PRECONDITIONER_NONE,      ///< scipy's `M = None`.
    Jacobi = FV_PRECONDITIONER_JACOBI,  ///< `M = D^-1`.
};

/** Symmetry of a Matrix Market file written by SparseMatrix::to_matrix_market(). */
enum class Symmetry : int32_t {
    General = FV_SYMMETRY_GENERAL,               ///< Every entry.
    Symmetric = FV_SYMMETRY_SYMMETRIC,           ///< Lower triangle; must be symmetric.
    SkewSymmetric = FV_SYMMETRY_SKEW_SYMMETRIC,  ///< Strict lower triangle.
};

/** What CG and BiCGSTAB report (`fv_solve_report`): `relative_residual` is the true one. */
struct SolveReport {
    std::size_t iterations;
    double relative_residual;
    bool converged;
    Stop stop;
};

/** What Jacobi reports (`fv_jacobi_report`): `||x* - x||_inf <= error_bound`. */
struct JacobiReport {
    SolveReport solve;
    double contraction;
    double error_bound;
};

/** An answer `x` and its report. */
template <typename Report>
struct Solution {
    std::vector<double> x;
    Report report;
};

/** A local solve's estimate with its bound and work (`fv_local_solve_report`). */
struct LocalSolveReport {
    double estimate, error_bound, failure_probability, push_estimate, push_bound, residual_l1, q,
        c_max;
    uint64_t pushes, walks, walk_steps, work;
    std::size_t rows_read, touched;
    bool converged;
    Stop stop;
};

namespace detail {

inline SolveReport to_report(const fv_solve_report& r) {
    return SolveReport{r.iterations, r.relative_residual, r.converged, static_cast<Stop>(r.stop)};
}

inline LocalSolveReport to_report(const fv_local_solve_report& r) {
    return LocalSolveReport{r.estimate,   r.error_bound, r.failure_probability, r.push_estimate,
                            r.push_bound, r.residual_l1, r.q,
                            r.c_max,      r.pushes,      r.walks,
                            r.walk_steps, r.work,        r.rows_read,
                            r.touched,    r.converged,   static_cast<Stop>(r.stop)};
}

template <typename A, typename B>
inline void same_size(const A& a, const B& b) {
    if (a.size() != b.size()) throw_dimension_mismatch(a.size(), b.size());
}

}  // namespace detail

/**
 * Options of the solvers of `A x = b`: `SolveOptions().rtol(1e-10).preconditioner(...)`.
 * `x0` is borrowed: it must outlive the solve call it is passed to.
 */
class SolveOptions {
public:
    SolveOptions() : options_(fv_solve_options_default()) {}
    /** Relative tolerance on the true residual, in (0, 1). Default 1e-5. */
    SolveOptions& rtol(double rtol) {
        options_.rtol = rtol;
        return *this;
    }
    /** Iteration budget (default: scipy's 10 n). */
    SolveOptions& max_iterations(std::size_t n) {
        constexpr auto most = static_cast<std::size_t>(std::numeric_limits<int64_t>::max());
        options_.max_iterations = static_cast<int64_t>(n < most ? n : most);
        return *this;
    }
    /** Initial guess (borrowed until the solve call returns). */
    SolveOptions& x0(Span<const double> x0) {
        options_.x0 = x0.data();
        options_.n_x0 = x0.size();
        return *this;
    }
    SolveOptions& preconditioner(Preconditioner p) {
        options_.preconditioner = static_cast<int32_t>(p);
        return *this;
    }
    /** CG only: check symmetry first, with this relative tolerance (1e-10 is a good value). */
    SolveOptions& check_symmetry(double tolerance = 1e-10) {
        options_.symmetry_tolerance = tolerance;
        return *this;
    }
    const fv_solve_options& c_options() const noexcept { return options_; }

private:
    fv_solve_options options_;
};

/** Options of the local solves (`fv_local_solve_options`). */
class LocalSolveOptions {
public:
    LocalSolveOptions() : options_(fv_local_solve_options_default()) {}
    /** Push until the deterministic bound is at most `tol` (> 0). Default 1e-6. */
    LocalSolveOptions& tol(double tol) {
        options_.tol = tol;
        return *this;
    }
    /** A known dominance factor q in [0, 1) (default: computed from all of A). */
    LocalSolveOptions& dominance(double q) {
        options_.dominance = q;
        return *this;
    }
    /** A known bound c_max >= |b_j / a_jj| (default: computed from b). */
    LocalSolveOptions& c_max(double c) {
        options_.c_max = c;
        return *this;
    }
    LocalSolveOptions& max_pushes(uint64_t n) {
        options_.max_pushes = n;
        return *this;
    }
    /** `n` seeded random walks after the push, failing their bound with probability `p`. */
    LocalSolveOptions& walks(uint64_t n, uint64_t seed = 0, double failure_probability = 1e-3) {
        options_.walks = n;
        options_.seed = seed;
        options_.failure_probability = failure_probability;
        return *this;
    }
    LocalSolveOptions& max_walk_steps(uint64_t n) {
        options_.max_walk_steps = n;
        return *this;
    }
    const fv_local_solve_options& c_options() const noexcept { return options_; }

private:
    fv_local_solve_options options_;
};

/** A right-hand side for the local solves; borrows its arrays (they must outlive the call). */
class Rhs {
public:
    static Rhs dense(Span<const double> values) { return Rhs(fv_rhs_dense(values.data(), values.size())); }
    static Rhs sparse(Span<const uint32_t> indices, Span<const double> values) {
        detail::same_size(indices, values);
        return Rhs(fv_rhs_sparse(indices.data(), values.data(), values.size()));
    }
    const fv_rhs& c_rhs() const noexcept { return rhs_; }

private:
    explicit Rhs(fv_rhs rhs) : rhs_(rhs) {}
    fv_rhs rhs_;
};

/** A matrix in CSR form, as SparseMatrix::to_csr() returns it. */
struct Csr {
    std::size_t rows = 0, cols = 0;
    std::vector<uint32_t> indptr, indices;
    std::vector<double> values;
};

/**
 * A sparse matrix (owns an `fv_sparse_matrix*`; movable, not copyable). Immutable, so every
 * method may run on many threads at once; only destruction must not race. Does not keep
 * its engine alive.
 */
class SparseMatrix {
public:
    /** From CSR arrays (`indptr`: rows + 1 entries). `sorted`: columns strictly increasing
     *  in each row (else any order, duplicates summed). */
    static SparseMatrix from_csr(const Engine& engine, std::size_t rows, std::size_t cols,
                                 Span<const uint32_t> indptr, Span<const uint32_t> indices,
                                 Span<const double> values, bool sorted = true) {
        detail::same_size(indices, values);
        fv_sparse_matrix* m = nullptr;
        auto make = sorted ? fv_sparse_matrix_from_csr : fv_sparse_matrix_from_csr_unsorted;
        detail::check(make(engine.get(), rows, cols, indptr.data(), indptr.size(),
                           indices.data(), values.data(), values.size(), &m));
        return SparseMatrix(m);
    }
    /** From (row, col, value) triplets in any order, duplicates summed. */
    static SparseMatrix from_triplets(const Engine& engine, std::size_t rows, std::size_t cols,
                                      Span<const uint32_t> row_indices,
                                      Span<const uint32_t> col_indices, Span<const double> values) {
        detail::same_size(row_indices, values);
        detail::same_size(col_indices, values);
        fv_sparse_matrix* m = nullptr;
        detail::check(fv_sparse_matrix_from_triplets(engine.get(), rows, cols, row_indices.data(),
                                                     col_indices.data(), values.data(),
                                                     values.size(), &m));
        return SparseMatrix(m);
    }
    /** From the text of a Matrix Market coordinate file. */
    static SparseMatrix from_matrix_market(const Engine& engine, const std::string& text) {
        fv_sparse_matrix* m = nullptr;
        detail::check(fv_sparse_matrix_from_matrix_market(
            engine.get(), reinterpret_cast<const uint8_t*>(text.data()), text.size(), &m));
        return SparseMatrix(m);
    }
    static SparseMatrix read_matrix_market(const Engine& engine, const std::string& path) {
        fv_sparse_matrix* m = nullptr;
        detail::check(fv_sparse_matrix_read_matrix_market(engine.get(), path.c_str(), &m));
        return SparseMatrix(m);
    }

    SparseMatrix(SparseMatrix&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}
    SparseMatrix& operator=(SparseMatrix&& other) noexcept {
        if (this != &other) {
            fv_sparse_matrix_free(m_);
            m_ = std::exchange(other.m_, nullptr);
        }
        return *this;
    }
    SparseMatrix(const SparseMatrix&) = delete;
    SparseMatrix& operator=(const SparseMatrix&) = delete;
    ~SparseMatrix() { fv_sparse_matrix_free(m_); }

    std::size_t rows() const { return shape()[0]; }
    std::size_t cols() const { return shape()[1]; }
    /** Stored entries (explicit zeros included). */
    std::size_t nnz() const { return shape()[2]; }

    /** The matrix in canonical CSR form. */
    Csr to_csr() const {
        auto s = shape();
        Csr out;
        out.rows = s[0];
        out.cols = s[1];
        out.indptr.resize(s[0] + 1);
        out.indices.resize(s[2]);
        out.values.resize(s[2]);
        detail::check(fv_sparse_matrix_to_csr(m_, out.indptr.data(), out.indptr.size(),
                                              out.indices.data(), out.values.data(), s[2]));
        return out;
    }
    /** Matrix Market text (`real`). */
    std::string to_matrix_market(Symmetry symmetry = Symmetry::General) const {
        uint8_t* bytes = nullptr;
        std::size_t len = 0;
        detail::check(fv_sparse_matrix_to_matrix_market(m_, static_cast<int32_t>(symmetry),
                                                        &bytes, &len));
        std::string out(reinterpret_cast<const char*>(bytes), len);
        fv_bytes_free(bytes, len);
        return out;
    }
    /** Writes a Matrix Market file atomically. */
    void write_matrix_market(const std::string& path, Symmetry symmetry = Symmetry::General) const {
        detail::check(
            fv_sparse_matrix_write_matrix_market(m_, path.c_str(), static_cast<int32_t>(symmetry)));
    }

    /** `y = A x` into `y` (rows() long). */
    void mul_vec(Span<const double> x, Span<double> y) const {
        detail::check(fv_sparse_matrix_mul_vec(m_, x.data(), x.size(), y.data(), y.size()));
    }
    std::vector<double> mul_vec(Span<const double> x) const {
        std::vector<double> y(rows());
        mul_vec(x, Span<double>(y));
        return y;
    }

    /** Conjugate gradient (SPD `A`); `x` gets the answer (cols() long), unchanged on error. */
    SolveReport cg(Span<const double> b, Span<double> x,
                   const SolveOptions& options = SolveOptions()) const {
        fv_solve_report r;
        detail::check(fv_sparse_matrix_cg(m_, b.data(), b.size(), &options.c_options(), x.data(),
                                          x.size(), &r));
        return detail::to_report(r);
    }
    Solution<SolveReport> cg(Span<const double> b, const SolveOptions& options = SolveOptions()) const {
        Solution<SolveReport> s{std::vector<double>(cols()), {}};
        s.report = cg(b, Span<double>(s.x), options);
        return s;
    }
    /** BiCGSTAB (general `A`). */
    SolveReport bicgstab(Span<const double> b, Span<double> x,
                         const SolveOptions& options = SolveOptions()) const {
        fv_solve_report r;
        detail::check(fv_sparse_matrix_bicgstab(m_, b.data(), b.size(), &options.c_options(),
                                                x.data(), x.size(), &r));
        return detail::to_report(r);
    }
    Solution<SolveReport> bicgstab(Span<const double> b,
                                   const SolveOptions& options = SolveOptions()) const {
        Solution<SolveReport> s{std::vector<double>(cols()), {}};
        s.report = bicgstab(b, Span<double>(s.x), options);
        return s;
    }
    /** Jacobi (strictly diagonally dominant `A`, checked), with a max-norm error bound. */
    JacobiReport jacobi(Span<const double> b, Span<double> x,
                        const SolveOptions& options = SolveOptions()) const {
        fv_jacobi_report r;
        detail::check(fv_sparse_matrix_jacobi(m_, b.data(), b.size(), &options.c_options(),
                                              x.data(), x.size(), &r));
        return JacobiReport{detail::to_report(r.solve), r.contraction, r.error_bound};
    }
    Solution<JacobiReport> jacobi(Span<const double> b,
                                  const SolveOptions& options = SolveOptions()) const {
        Solution<JacobiReport> s{std::vector<double>(cols()), {}};
        s.report = jacobi(b, Span<double>(s.x), options);
        return s;
    }

    /** `x_i` of `A x = b`, estimated locally (strictly diagonally dominant `A`). */
    LocalSolveReport solve_entry(const Rhs& b, std::size_t i,
                                 const LocalSolveOptions& options = LocalSolveOptions()) const {
        fv_local_solve_report r;
        detail::check(fv_sparse_matrix_solve_entry(m_, &b.c_rhs(), i, &options.c_options(), &r));
        return detail::to_report(r);
    }
    /** `u^T x` of `A x = b` for a sparse `u`. */
    LocalSolveReport solve_functional(const Rhs& b, Span<const uint32_t> u_indices,
                                      Span<const double> u_values,
                                      const LocalSolveOptions& options = LocalSolveOptions()) const {
        detail::same_size(u_indices, u_values);
        fv_local_solve_report r;
        detail::check(fv_sparse_matrix_solve_functional(m_, &b.c_rhs(), u_indices.data(),
                                                        u_values.data(), u_values.size(),
                                                        &options.c_options(), &r));
        return detail::to_report(r);
    }

    /** The C handle, still owned by this object (null after a move). */
    fv_sparse_matrix* get_handle() const noexcept { return m_; }

private:
    explicit SparseMatrix(fv_sparse_matrix* m) : m_(m) {}
    std::array<std::size_t, 3> shape() const {
        std::array<std::size_t, 3> s{};
        detail::check(fv_sparse_matrix_shape(m_, &s[0], &s[1], &s[2]));
        return s;
    }
    fv_sparse_matrix* m_ = nullptr;
};

/** A distribution over nodes (personalization, dangling, start, push source); borrows its
 *  arrays, which must outlive the call it is passed to. */
class Distribution {
public:
    /** The method's default (uniform; for `dangling`: the personalization). */
    Distribution() : d_() {}
    static Distribution uniform() { return Distribution(fv_distribution_uniform()); }
    static Distribution node(uint32_t node) { return Distribution(fv_distribution_node(node)); }
    static Distribution dense(Span<const double> weights) {
        return Distribution(fv_distribution_dense(weights.data(), weights.size()));
    }
    static Distribution sparse(Span<const uint32_t> nodes, Span<const double> weights) {
        detail::same_size(nodes, weights);
        return Distribution(fv_distribution_sparse(nodes.data(), weights.data(), weights.size()));
    }
    const fv_distribution& c_distribution() const noexcept { return d_; }

private:
    explicit Distribution(fv_distribution d) : d_(d) {}
    fv_distribution d_;
};

/** Options of Graph::pagerank(); the defaults are networkx's. */
class PageRankOptions {
public:
    PageRankOptions() : options_(fv_pagerank_options_default()) {}
    PageRankOptions& alpha(double alpha) {
        options_.alpha = alpha;
        return *this;
    }
    PageRankOptions& personalization(const Distribution& d) {
        options_.personalization = d.c_distribution();
        return *this;
    }
    PageRankOptions& dangling(const Distribution& d) {
        options_.dangling = d.c_distribution();
        return *this;
    }
    PageRankOptions& start(const Distribution& d) {
        options_.start = d.c_distribution();
        return *this;
    }
    PageRankOptions& tol(double tol) {
        options_.tol = tol;
        return *this;
    }
    PageRankOptions& max_iter(std::size_t n) {
        options_.max_iter = n;
        return *this;
    }
    const fv_pagerank_options& c_options() const noexcept { return options_; }

private:
    fv_pagerank_options options_;
};

/** Options of Graph::forward_push(). */
struct PushOptions {
    double alpha = 0.85;
    double eps = 1e-4;
    uint64_t max_pushes = fv_push_options_default().max_pushes;
};

/** Options of Graph::backward_push(). */
struct BackwardPushOptions {
    double alpha = 0.85;
    double r_max = 1e-4;
    uint64_t max_pushes = fv_backward_push_options_default().max_pushes;
};

/** Options of Graph::pair(). */
struct PairOptions {
    double alpha = 0.85;
    double r_max = 1e-4;
    uint64_t walks = 10000;
    uint64_t seed = 0;
    double failure_probability = 1e-3;
    uint64_t max_pushes = fv_pair_options_default().max_pushes;
    uint64_t max_walk_steps = fv_pair_options_default().max_walk_steps;
};

/** What Graph::pagerank() reports. */
struct PageRankReport {
    std::size_t iterations;
    double l1_change;
    double error_bound;  ///< `||scores - pi||_1 <= error_bound`.
    bool converged;
    Stop stop;
};

/** Every node's score (summing to 1) and the report. */
struct PageRankResult {
    std::vector<double> scores;
    PageRankReport report;
};

/** One (node, score) pair of a push result. */
struct Score {
    uint32_t node;
    double score;
    bool operator==(const Score& o) const { return node == o.node && score == o.score; }
};

/** What the push methods report (`fv_push_report`). */
struct PushReport {
    double error_bound, residual_mass, eps_reached;
    uint64_t pushes, work;
    std::size_t touched;
    std::size_t nonzero;  ///< Nodes with a non-zero estimate (the result may hold fewer: top k).
    bool converged;
    Stop stop;
};

/** Sparse estimates, by descending score (ties by node), and the report. */
struct PushResult {
    std::vector<Score> scores;
    PushReport report;
};

/** What Graph::pair() returns (`fv_pair_report`). */
struct PairReport {
    double estimate, push_estimate, push_bound, error_bound, failure_probability;
    uint64_t pushes, walks, walk_steps, work;
    std::size_t touched;
    bool converged;
    Stop stop;
};

/**
 * A directed, optionally weighted graph for PageRank, networkx's semantics (owns an
 * `fv_graph*`; movable, not copyable; immutable, so thread-safe; only destruction must not
 * race).
 */
class Graph {
public:
    /** All results of a push (see forward_push()). */
    static constexpr std::size_t all = static_cast<std::size_t>(-1);

    /** Edges `src[i] -> dst[i]`; `weights` empty: unweighted, else one per edge. */
    static Graph from_edges(const Engine& engine, std::size_t nodes, Span<const uint32_t> src,
                            Span<const uint32_t> dst, Span<const double> weights = {}) {
        detail::same_size(src, dst);
        if (!weights.empty()) detail::same_size(weights, src);
        fv_graph* g = nullptr;
        detail::check(fv_graph_from_edges(engine.get(), nodes, src.data(), dst.data(),
                                          weights.empty() ? nullptr : weights.data(), src.size(),
                                          &g));
        return Graph(g);
    }
    /** CSR adjacency (`indptr`: nodes + 1 entries); `weights` empty or one per edge. */
    static Graph from_csr(const Engine& engine, std::size_t nodes, Span<const uint32_t> indptr,
                          Span<const uint32_t> indices, Span<const double> weights = {}) {
        if (!weights.empty()) detail::same_size(weights, indices);
        fv_graph* g = nullptr;
        detail::check(fv_graph_from_csr(engine.get(), nodes, indptr.data(), indptr.size(),
                                        indices.data(), weights.empty() ? nullptr : weights.data(),
                                        indices.size(), &g));
        return Graph(g);
    }

    Graph(Graph&& other) noexcept : g_(std::exchange(other.g_, nullptr)) {}
    Graph& operator=(Graph&& other) noexcept {
        if (this != &other) {
            fv_graph_free(g_);
            g_ = std::exchange(other.g_, nullptr);
        }
        return *this;
    }
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;
    ~Graph() { fv_graph_free(g_); }

    std::size_t nodes() const { return size().first; }
    /** Distinct edges. */
    std::size_t edges() const { return size().second; }

    /** Global (optionally personalized) PageRank by power iteration. */
    PageRankResult pagerank(const PageRankOptions& options = PageRankOptions()) const {
        PageRankResult out{std::vector<double>(nodes()), {}};
        fv_pagerank_report r;
        detail::check(
            fv_graph_pagerank(g_, &options.c_options(), out.scores.data(), out.scores.size(), &r));
        out.report = PageRankReport{r.iterations, r.l1_change, r.error_bound, r.converged,
                                    static_cast<Stop>(r.stop)};
        return out;
    }

    /**
     * Personalized PageRank by forward push: the `k` best (node, score) pairs (default: all;
     * if more than 1024 are non-zero the push runs twice, to size the result).
     */
    PushResult forward_push(const Distribution& source, const PushOptions& options = PushOptions(),
                            std::size_t k = all) const {
        const fv_push_options o{options.alpha, options.eps, options.max_pushes};
        return run_push(k, [&](uint32_t* nodes, double* scores, std::size_t cap, std::size_t* count,
                               fv_push_report* report) {
            return fv_graph_forward_push(g_, &source.c_distribution(), &o, nodes, scores, cap,
                                         count, report);
        });
    }
    /** Every source's contribution to `target` by backward push (top `k`, as forward_push). */
    PushResult backward_push(uint32_t target,
                             const BackwardPushOptions& options = BackwardPushOptions(),
                             std::size_t k = all) const {
        const fv_backward_push_options o{options.alpha, options.r_max, options.max_pushes};
        return run_push(k, [&](uint32_t* nodes, double* scores, std::size_t cap, std::size_t* count,
                               fv_push_report* report) {
            return fv_graph_backward_push(g_, target, &o, nodes, scores, cap, count, report);
        });
    }
    /** `pi_source(target)` by backward push plus seeded walks. */
    PairReport pair(uint32_t source, uint32_t target,
                    const PairOptions& options = PairOptions()) const {
        const fv_pair_options o{options.alpha,      options.r_max,
                                options.walks,      options.seed,
                                options.failure_probability, options.max_pushes,
                                options.max_walk_steps};
        fv_pair_report r;
        detail::check(fv_graph_pair(g_, source, target, &o, &r));
        return PairReport{r.estimate, r.push_estimate, r.push_bound, r.error_bound,
                          r.failure_probability, r.pushes, r.walks, r.walk_steps, r.work,
                          r.touched, r.converged, static_cast<Stop>(r.stop)};
    }

    /** The C handle, still owned by this object (null after a move). */
    fv_graph* get_handle() const noexcept { return g_; }

private:
    explicit Graph(fv_graph* g) : g_(g) {}
    std::pair<std::size_t, std::size_t> size() const {
        std::size_t n = 0, m = 0;
        detail::check(fv_graph_size(g_, &n, &m));
        return {n, m};
    }
    template <typename Call>
    static PushResult run_push(std::size_t k, Call call) {
        std::size_t cap = k < 1024 ? k : 1024;
        for (;;) {
            std::vector<uint32_t> nodes(cap);
            std::vector<double> scores(cap);
            std::size_t count = 0;
            fv_push_report r;
            detail::check(call(nodes.data(), scores.data(), cap, &count, &r));
            std::size_t wanted = r.nonzero < k ? r.nonzero : k;
            if (count < wanted) {  // the deterministic push again, with room for all
                cap = wanted;
                continue;
            }
            PushResult out;
            out.scores.reserve(count);
            for (std::size_t i = 0; i < count; i++) out.scores.push_back(Score{nodes[i], scores[i]});
            out.report = PushReport{r.error_bound, r.residual_mass, r.eps_reached, r.pushes,
                                    r.work,        r.touched,       r.nonzero,     r.converged,
                                    static_cast<Stop>(r.stop)};
            return out;
        }
    }
    fv_graph* g_ = nullptr;
};

}  // namespace ferrovec

#endif  // FERROVEC_HPP
