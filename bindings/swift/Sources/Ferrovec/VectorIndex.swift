// Engine and index in Swift idiom: [Float] / Data arguments, throwing FerrovecError,
// Sendable objects, and a search that can leave the calling actor (e.g. the main actor) free
// while a large index is scanned.

import Foundation

public extension Engine {
    /// The process-wide native engine that `VectorIndex` uses when none is given.
    static let shared: Engine = Engine.native()

    /// ferrovec's wasm module inside the wasmi interpreter: `module` bytes (default: the
    /// bundled simd128 module, or the scalar one with `simd: false`), a `fuel` budget per
    /// call, a `memoryLimit` in bytes and the `sha256` (64 hex digits) the module must have.
    static func interpreted(
        module: Data? = nil,
        simd: Bool = true,
        fuel: UInt64? = nil,
        memoryLimit: UInt64? = nil,
        sha256: String? = nil
    ) throws -> Engine {
        try Engine.interpreted(config: InterpretedConfig(
            module: module, simd: simd, fuel: fuel, memoryLimit: memoryLimit, sha256: sha256))
    }

    /// The native backend pinned to one instruction set (`.UnsupportedIsa` if this CPU
    /// lacks it); `availableIsas()` lists the usable ones.
    static func native(isa: Isa) throws -> Engine {
        try Engine.nativeWithIsa(isa: isa)
    }

    /// Inner product of two vectors on this engine's backend.
    func dot(_ a: [Float], _ b: [Float]) throws -> Float {
        try Vectors.withData(a, b) { try dotF32(a: $0, b: $1) }
    }

    /// Cosine distance on this engine's backend.
    func cosineDistance(_ a: [Float], _ b: [Float]) throws -> Float {
        try Vectors.withData(a, b) { try cosineDistanceF32(a: $0, b: $1) }
    }

    /// Squared Euclidean distance on this engine's backend.
    func l2sq(_ a: [Float], _ b: [Float]) throws -> Float {
        try Vectors.withData(a, b) { try l2sqF32(a: $0, b: $1) }
    }

    /// Distances from `query` to each row of `rows` (n * d floats, row-major).
    func scan(_ query: [Float], rows: [Float], metric: Metric = .cosine) throws -> [Float] {
        try Vectors.withData(query, rows) { q, r in
            Vectors.floats(try scanF32(metric: metric, query: q, rows: r))
        }
    }

    /// `x` scaled to unit length and its length before scaling, on this engine's backend.
    func l2Normalize(_ x: [Float]) throws -> (vector: [Float], norm: Float) {
        let out = try Vectors.withData(x) { try l2NormalizeF32(x: $0) }
        return (Vectors.floats(out.vector), out.norm)
    }

    /// The `k` smallest scores, ascending, ties broken by lower index, NaN last.
    func topK(_ scores: [Float], k: Int) throws -> [ScoredIndex] {
        precondition(k >= 0, "k must be >= 0")
        let hits = try Vectors.withData(scores) { try topK(scores: $0, k: UInt32(clamping: k)) }
        return hits.map { ScoredIndex(index: Int($0.index), score: $0.score) }
    }

    /// Inner product of two int8 vectors on this engine's backend.
    func dotI8(_ a: [Int8], _ b: [Int8]) throws -> Int32 {
        try dotI8(a: Vectors.int8Data(a), b: Vectors.int8Data(b))
    }

    /// Squared Euclidean distance of two int8 vectors on this engine's backend.
    func l2sqI8(_ a: [Int8], _ b: [Int8]) throws -> UInt32 {
        try l2sqI8(a: Vectors.int8Data(a), b: Vectors.int8Data(b))
    }

    /// Differing bits of two bit vectors packed in bytes, on this engine's backend.
    func hamming(_ a: Data, _ b: Data) throws -> UInt32 {
        try hammingB1(a: a, b: b)
    }

    /// Jaccard distance of two packed bit vectors, on this engine's backend.
    func jaccard(_ a: Data, _ b: Data) throws -> Float {
        try jaccardB1(a: a, b: b)
    }
}

public extension HnswConfig {
    /// The core's defaults: m 16, efConstruction 128, efSearch 64.
    static let standard = HnswConfig()
}

/// A vector index: `dims`-float vectors under `UInt64` keys, searched exactly (`hnsw: nil`)
/// or with HNSW, on the backend of `engine`.
///
/// Storage: `.f32` (default); `.f16` (IEEE half) or `.bf16` (bfloat16), half the memory,
/// each value rounded to nearest even (`vector(for:)` returns the rounded values; with `.l2sq`
/// or `.innerProduct` a value that would round to infinity throws `.InvalidArgument`; their
/// files are format version 3, which older versions refuse); `.i8` (int8, a scale per
/// vector); `.b1` (sign bits, for `.hamming` and `.jaccard`). Queries are always `Float`.
///
/// Thread-safe and `Sendable`: any number of tasks may search while one adds or removes (the
/// Rust side locks). Every failure throws `FerrovecError` and leaves the index unchanged.
///
/// Searching: `search(_:k:allowed:)` is synchronous and callable from anywhere, async code
/// included (a native search of a small index takes microseconds, less than a task hop);
/// `searchInBackground(_:k:allowed:priority:)` runs the same search on a detached task so
/// the calling actor stays free (large indexes, the Interpreted backend, the main actor).
///
/// Text: an index made with a `TextEncoder` (`init(encoder:...)`, or a handle from
/// `withEncoder(_:)`) adds and searches by text (`add(_:text:)`, `add(keys:texts:)`,
/// `search(text:k:)`, `search(texts:k:)`). It records the encoder's `modelId`, which files
/// keep; loading or attaching another model's encoder throws `.InvalidArgument` naming both
/// ids.
///
///     let index = try VectorIndex(encoder: encoder)
///     try index.add(keys: [1, 2], texts: ["The weather is lovely today.", "He drove to the stadium."])
///     let hits = try index.search(text: "sunny", k: 1)
public final class VectorIndex: Sendable {
    /// The generated object (every method of the Rust `Index`).
    public let raw: Index

    public init(
        dims: Int,
        metric: IndexMetric = .cosine,
        storage: Storage = .f32,
        hnsw: HnswConfig? = nil,
        engine: Engine = .shared
    ) throws {
        precondition(dims >= 0, "dims must be >= 0")
        raw = try Index(engine: engine, config: IndexConfig(
            dims: UInt32(clamping: dims), metric: metric, storage: storage, hnsw: hnsw))
    }

    /// An empty index for `encoder`'s vectors (`encoder.dims` dims) with the encoder attached
    /// and its model id recorded. The vectors have unit length, so `.cosine` (or
    /// `.innerProduct`, the same ranking) fits.
    public init(
        encoder: TextEncoder,
        metric: IndexMetric = .cosine,
        storage: Storage = .f32,
        hnsw: HnswConfig? = nil,
        engine: Engine = .shared
    ) throws {
        raw = try Index.newText(engine: engine, encoder: encoder.raw, config: IndexConfig(
            dims: UInt32(clamping: encoder.dims), metric: metric, storage: storage, hnsw: hnsw))
    }

    private init(raw: Index) {
        self.raw = raw
    }

    /// `load(from:engine:)` with `encoder` attached: the data's model id, if any, must be the
    /// encoder's (`.InvalidArgument` naming both otherwise).
    public static func load(from data: Data, encoder: TextEncoder, engine: Engine = .shared) throws -> VectorIndex {
        VectorIndex(raw: try Index.fromBytesWithEncoder(engine: engine, bytes: data, encoder: encoder.raw))
    }

    /// `load(contentsOf:engine:)` with `encoder` attached (see `load(from:encoder:engine:)`).
    public static func load(contentsOf url: URL, encoder: TextEncoder, engine: Engine = .shared) throws -> VectorIndex {
        VectorIndex(raw: try Index.loadWithEncoder(engine: engine, path: url.path, encoder: encoder.raw))
    }

    /// An index from `data()` output (written by any surface or backend).
    public static func load(from data: Data, engine: Engine = .shared) throws -> VectorIndex {
        VectorIndex(raw: try Index.fromBytes(engine: engine, bytes: data))
    }

    /// An index from a file written by `save(to:)`.
    public static func load(contentsOf url: URL, engine: Engine = .shared) throws -> VectorIndex {
        VectorIndex(raw: try Index.load(engine: engine, path: url.path))
    }

    /// Live vectors (0 after `close()`).
    public var count: Int { Int((try? raw.len()) ?? 0) }

    /// Whether the index holds no live vectors.
    public var isEmpty: Bool { count == 0 }

    /// Vectors the index holds without growing (live, removed-but-not-compacted, and room).
    public var capacity: Int { Int((try? raw.capacity()) ?? 0) }

    /// Dimension, metric, storage and HNSW parameters (`nil` after `close()`).
    public var config: IndexConfig? { try? raw.config() }

    /// Dimension of every vector.
    public var dims: Int { Int((try? raw.dims()) ?? 0) }

    /// Which backend runs this index.
    public var backend: BackendKind? { try? raw.backendKind() }

    /// Adds `vector` under `key`; an existing key throws `.DuplicateKey` unless `replace`.
    public func add(_ key: UInt64, _ vector: [Float], replace: Bool = false) throws {
        try Vectors.withData(vector) { try raw.add(key: key, vector: $0, replace: replace) }
    }

    /// Adds one row per key (all rows `dims` long), all or nothing.
    public func add(keys: [UInt64], vectors: [[Float]], replace: Bool = false) throws {
        try raw.addBatch(keys: Vectors.keyData(keys), vectors: Vectors.data(rows: vectors), replace: replace)
    }

    /// Adds `keys.count` vectors stored back to back in `flat` (row-major), all or nothing.
    public func add(keys: [UInt64], flat: [Float], replace: Bool = false) throws {
        try Vectors.withData(flat) {
            try raw.addBatch(keys: Vectors.keyData(keys), vectors: $0, replace: replace)
        }
    }

    /// Removes `key` (`.KeyNotFound` if absent); `compact()` reclaims the space.
    public func remove(_ key: UInt64) throws { try raw.remove(key: key) }

    /// Reclaims removed vectors' space and repairs the HNSW graph.
    public func compact() throws { try raw.compact() }

    /// Removes every vector.
    public func removeAll() throws { try raw.clear() }

    /// Makes room for `additional` more vectors.
    public func reserve(_ additional: Int) throws {
        precondition(additional >= 0, "additional must be >= 0")
        try raw.reserve(additional: UInt64(additional))
    }

    /// Whether `key` is live.
    public func contains(_ key: UInt64) -> Bool { (try? raw.contains(key: key)) ?? false }

    /// The stored vector (dequantized).
    public func vector(for key: UInt64) throws -> [Float] { Vectors.floats(try raw.get(key: key)) }

    /// HNSW search beam width (`.InvalidArgument` on an exact index).
    public func setEfSearch(_ ef: Int) throws { try raw.setEfSearch(ef: UInt32(clamping: ef)) }

    /// The `k` nearest vectors to `query`, ascending by distance (ties by key); only keys in
    /// `allowed` when given.
    public func search(_ query: [Float], k: Int = 10, allowed: [UInt64]? = nil) throws -> [Match] {
        precondition(k >= 0, "k must be >= 0")
        let k32 = UInt32(clamping: k)
        return try Vectors.withData(query) { q in
            if let allowed {
                return try raw.searchAllowed(query: q, k: k32, allowed: Vectors.keyData(allowed))
            }
            return try raw.search(query: q, k: k32)
        }
    }

    /// `search(_:k:allowed:)` off the calling actor: the same search (same results, bit for
    /// bit) on a detached task at `priority` (default: the caller's), so a search of a large
    /// index or on the Interpreted backend does not block, e.g., the main actor. Throws
    /// `CancellationError` if the calling task is cancelled before the search starts (a
    /// started search runs to the end: the native call cannot be interrupted).
    ///
    /// (A separate name, not an `async` overload of `search`: with both, Swift picks the async
    /// one in every async context, and the synchronous search could not be called there.)
    public func searchInBackground(
        _ query: [Float], k: Int = 10, allowed: [UInt64]? = nil, priority: TaskPriority? = nil
    ) async throws -> [Match] {
        try Task.checkCancellation()
        return try await Task.detached(priority: priority ?? Task.currentPriority) { [self] in
            try self.search(query, k: k, allowed: allowed)
        }.value
    }

    /// One `search` per query.
    public func search(batch queries: [[Float]], k: Int = 10) throws -> [[Match]] {
        precondition(k >= 0, "k must be >= 0")
        return try raw.searchBatch(queries: Vectors.data(rows: queries), k: UInt32(clamping: k))
    }

    /// `search(batch:k:)` as flat arrays (`BatchMatches`): `queries.count * k` keys and
    /// distances, row-major, padded with `BatchMatches.noKey` / `+infinity` where a query has
    /// fewer than `k` matches, and the count per query. The same matches, in the same order,
    /// without an object per match.
    public func searchArrays(batch queries: [[Float]], k: Int = 10) throws -> BatchMatches {
        precondition(k >= 0, "k must be >= 0")
        return BatchMatches(try raw.searchBatchArrays(queries: Vectors.data(rows: queries), k: UInt32(clamping: k)))
    }

    /// `searchArrays(batch:k:)` for queries given as one flat array (`n * dims` floats,
    /// row-major), e.g. `TextEncoder.embedFlat(_:).vectors`.
    public func searchArrays(flat queries: [Float], k: Int = 10) throws -> BatchMatches {
        precondition(k >= 0, "k must be >= 0")
        return try Vectors.withData(queries) {
            BatchMatches(try raw.searchBatchArrays(queries: $0, k: UInt32(clamping: k)))
        }
    }

    // MARK: text

    /// A new `VectorIndex` on the same index (the vectors are shared) carrying `encoder` for
    /// the text methods; this one is unchanged. Throws `.DimensionMismatch` when the dims
    /// differ and `.InvalidArgument` (naming both ids) when the index holds another model's
    /// vectors.
    public func withEncoder(_ encoder: TextEncoder) throws -> VectorIndex {
        VectorIndex(raw: try raw.withEncoder(encoder: encoder.raw))
    }

    /// Whether this object carries an encoder (the text methods need one).
    public var hasEncoder: Bool { (try? raw.hasEncoder()) ?? false }

    /// The model id of the encoder that made the vectors (recorded by the first text added or
    /// by `init(encoder:...)`, kept by `save(to:)`), or `nil` for an index of plain vectors.
    public var modelId: UInt64? { (try? raw.modelId()) ?? nil }

    /// Embeds `text` with the encoder and adds it under `key` (`.DuplicateKey` unless
    /// `replace`).
    public func add(_ key: UInt64, text: String, replace: Bool = false) throws {
        try raw.addText(key: key, text: text, replace: replace)
    }

    /// Embeds `texts` in one batch and adds `texts[i]` under `keys[i]`, all or nothing.
    public func add(keys: [UInt64], texts: [String], replace: Bool = false) throws {
        try raw.addTexts(keys: keys, texts: texts, replace: replace)
    }

    /// The `k` nearest vectors to the embedding of `text`.
    public func search(text: String, k: Int = 10) throws -> [Match] {
        precondition(k >= 0, "k must be >= 0")
        return try raw.searchText(text: text, k: UInt32(clamping: k))
    }

    /// One `search(text:k:)` per text, the texts embedded in one batch.
    public func search(texts: [String], k: Int = 10) throws -> [[Match]] {
        precondition(k >= 0, "k must be >= 0")
        return try raw.searchTexts(texts: texts, k: UInt32(clamping: k))
    }

    /// The index in ferrovec's portable file format.
    public func data() throws -> Data { try raw.toBytes() }

    /// Writes `data()` to `url` atomically.
    public func save(to url: URL) throws { try raw.save(path: url.path) }

    /// Frees the index now; later calls throw `.InvalidHandle`. (Otherwise it is freed when
    /// the last reference goes.) Idempotent.
    public func close() { raw.release() }

    /// Whether `close()` was called.
    public var isClosed: Bool { raw.isReleased() }
}

public extension Vectors {
    /// Keys as the little-endian u64 bytes the native library takes.
    static func keyData(_ keys: [UInt64]) -> Data {
        keys.map { $0.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    /// int8 values as bytes (internal: a public `data([Int8])` would make `data([1, 2])`
    /// ambiguous).
    internal static func int8Data(_ values: [Int8]) -> Data {
        values.withUnsafeBufferPointer { Data(buffer: $0) }
    }
}

/// Batch search results in flat arrays, row-major: `queries` rows by `k` columns, row `i`
/// holding query `i`'s matches ascending by distance (ties by key). A row with fewer than `k`
/// matches is padded with `noKey` and `+infinity`; `counts` says how many entries of each row
/// are matches.
public struct BatchMatches: Equatable, Sendable {
    /// The padding key (`UInt64.max`, faiss's -1). A live key may equal it: `counts` is the
    /// authority.
    public static let noKey = UInt64.max

    /// Queries (rows).
    public let queries: Int
    /// Columns per row.
    public let k: Int
    /// `queries * k` keys.
    public let keys: [UInt64]
    /// `queries * k` distances.
    public let distances: [Float]
    /// Matches per query (`<= k`).
    public let counts: [Int]

    init(_ raw: BatchResultBytes) {
        queries = Int(raw.n)
        k = Int(raw.k)
        keys = BatchMatches.decode(raw.keys, as: UInt64.self).map { UInt64(littleEndian: $0) }
        distances = Vectors.floats(raw.distances)
        counts = BatchMatches.decode(raw.counts, as: UInt32.self).map { Int(UInt32(littleEndian: $0)) }
    }

    private static func decode<T: FixedWidthInteger>(_ data: Data, as type: T.Type) -> [T] {
        let count = data.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = data.copyBytes(to: buffer)
            initialized = count
        }
    }

    /// Row `row` as `Match`es without the padding: what `search` returns for that query.
    public func matches(_ row: Int) -> [Match] {
        (0..<counts[row]).map { Match(key: keys[row * k + $0], distance: distances[row * k + $0]) }
    }

    /// Every row as `matches`: what `search(batch:k:)` returns.
    public var allMatches: [[Match]] { (0..<queries).map { matches($0) } }
}
