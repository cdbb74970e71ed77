// The idiomatic layer over the UniFFI-generated code in Generated/ (same module).
//
// Vectors cross the FFI as little-endian f32 bytes in `Data`; UniFFI passes a `Data` argument
// to Rust by pointer, without a copy. These helpers turn `[Float]` into such `Data` (every
// Apple platform is little-endian, so it is the array's own memory) and back.

import Foundation

/// Conversions between `[Float]` and the little-endian f32 `Data` the native library takes.
public enum Vectors {
    /// The floats as little-endian bytes (a copy; see `withData` for a borrowed view).
    public static func data(_ values: [Float]) -> Data {
        values.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    /// Rows of equal length, back to back.
    public static func data(rows: [[Float]]) throws -> Data {
        let dims = rows.first?.count ?? 0
        var out = Data(capacity: rows.count * dims * MemoryLayout<Float>.size)
        for (i, row) in rows.enumerated() {
            guard row.count == dims else {
                throw FerrovecError.DimensionMismatch(
                    message: "dimension mismatch: row \(i) has \(row.count) floats, expected \(dims)")
            }
            row.withUnsafeBufferPointer { out.append($0) }
        }
        return out
    }

    /// Little-endian f32 bytes as floats.
    public static func floats(_ data: Data) -> [Float] {
        let count = data.count / MemoryLayout<Float>.size
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            // copyBytes handles any alignment of the source.
            _ = data.copyBytes(to: buffer)
            initialized = count
        }
    }

    /// Calls `body` with a `Data` that borrows the array's memory (no copy). The `Data` must
    /// not escape `body`; ferrovec only reads it during the call.
    public static func withData<R>(_ values: [Float], _ body: (Data) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return try body(Data()) }
            let borrowed = Data(
                bytesNoCopy: UnsafeMutableRawPointer(mutating: base),
                count: buffer.count * MemoryLayout<Float>.size,
                deallocator: .none)
            return try body(borrowed)
        }
    }

    /// `withData` for two arrays.
    static func withData<R>(_ a: [Float], _ b: [Float], _ body: (Data, Data) throws -> R) rethrows -> R {
        try withData(a) { da in try withData(b) { db in try body(da, db) } }
    }
}

extension FerrovecError {
    /// ferrovec's message, e.g. "dimension mismatch: expected 3, got 4".
    ///
    /// Every case carries exactly one `message: String`; reading it by reflection keeps this
    /// correct when the core error enum gains variants.
    public var message: String {
        guard let payload = Mirror(reflecting: self).children.first?.value else {
            return String(describing: self)
        }
        if let text = payload as? String { return text }
        if let text = Mirror(reflecting: payload).children.first?.value as? String { return text }
        return String(describing: self)
    }
}
