import Foundation

/// One selected score: its position in the input and its value.
public struct ScoredIndex: Equatable, Hashable, Sendable {
    public let index: Int
    public let score: Float
}

/// Distance kernels on `[Float]` (borrowed, not copied) or little-endian f32 `Data`.
///
/// Every function throws `FerrovecError` on bad input, e.g. `.DimensionMismatch`.
public enum Kernels {
    /// Inner product.
    public static func dot(_ a: [Float], _ b: [Float]) throws -> Float {
        try Vectors.withData(a, b) { try dotF32(a: $0, b: $1) }
    }

    /// Cosine distance `1 - cos(a, b)` in [0, 2] (two zero vectors: 0, exactly one: 1).
    public static func cosineDistance(_ a: [Float], _ b: [Float]) throws -> Float {
        try Vectors.withData(a, b) { try cosineDistanceF32(a: $0, b: $1) }
    }

    /// Squared Euclidean distance.
    public static func l2sq(_ a: [Float], _ b: [Float]) throws -> Float {
        try Vectors.withData(a, b) { try l2sqF32(a: $0, b: $1) }
    }

    /// `x` scaled to unit length and its length before scaling (zero/inf/NaN: unchanged).
    public static func l2Normalize(_ x: [Float]) throws -> (vector: [Float], norm: Float) {
        let out = try Vectors.withData(x) { try l2NormalizeF32(x: $0) }
        return (Vectors.floats(out.vector), out.norm)
    }

    /// Distances from `query` (d floats) to each row of `rows` (n * d floats, row-major).
    public static func scan(_ query: [Float], rows: [Float], metric: Metric = .cosine) throws -> [Float] {
        try Vectors.withData(query, rows) { q, r in
            Vectors.floats(try scanF32(metric: metric, query: q, rows: r))
        }
    }

    /// `scan` over rows already in little-endian f32 `Data` (no conversion at all).
    public static func scan(_ query: [Float], rowData: Data, metric: Metric = .cosine) throws -> [Float] {
        try Vectors.withData(query) { q in
            Vectors.floats(try scanF32(metric: metric, query: q, rows: rowData))
        }
    }

    /// The `k` smallest scores, ascending, ties broken by lower index, NaN last.
    public static func topK(_ scores: [Float], k: Int) throws -> [ScoredIndex] {
        precondition(k >= 0, "k must be >= 0")
        let hits = try Vectors.withData(scores) {
            try Ferrovec.topK(scores: $0, k: UInt32(clamping: k))
        }
        return hits.map { ScoredIndex(index: Int($0.index), score: $0.score) }
    }

    /// Inner product of two int8 vectors.
    public static func dotI8(_ a: [Int8], _ b: [Int8]) throws -> Int32 {
        try Ferrovec.dotI8(a: Vectors.int8Data(a), b: Vectors.int8Data(b))
    }

    /// Squared Euclidean distance of two int8 vectors.
    public static func l2sqI8(_ a: [Int8], _ b: [Int8]) throws -> UInt32 {
        try Ferrovec.l2sqI8(a: Vectors.int8Data(a), b: Vectors.int8Data(b))
    }

    /// Number of differing bits of two bit vectors packed in bytes.
    public static func hamming(_ a: Data, _ b: Data) throws -> UInt32 {
        try hammingB1(a: a, b: b)
    }

    /// Jaccard distance of two bit vectors packed in bytes (0 if both are all zeros).
    public static func jaccard(_ a: Data, _ b: Data) throws -> Float {
        try jaccardB1(a: a, b: b)
    }
}
