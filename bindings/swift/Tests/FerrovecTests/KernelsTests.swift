import Foundation
import XCTest
@testable import Ferrovec

/// The free kernel functions (`Kernels`, native backend) against f64 references, every input
/// form, typed errors with ferrovec's messages, ISA selection.
final class KernelsTests: XCTestCase {
    func testPairwiseKernelsMatchFloat64Reference() throws {
        var rng = SeededRandom(seed: 42)
        for n in [0, 1, 7, 16, 33, 384, 1000] {
            let a = rng.vector(n), b = rng.vector(n)
            // The documented bound (core/src/kernels/mod.rs): 1e-5 * sum|a_i * b_i|.
            let scale = zip(a, b).reduce(1e-30) { $0 + abs(Double($1.0) * Double($1.1)) }
            XCTAssertEqual(Double(try Kernels.dot(a, b)), Reference.dot(a, b), accuracy: 1e-5 * scale, "dot n=\(n)")
            let l2 = Reference.l2sq(a, b)
            XCTAssertEqual(Double(try Kernels.l2sq(a, b)), l2, accuracy: 1e-5 * (l2 + 1e-30) + 1e-6, "l2sq n=\(n)")
            XCTAssertEqual(Double(try Kernels.cosineDistance(a, b)), Reference.cosine(a, b), accuracy: 2e-5, "cosine n=\(n)")
        }
    }

    func testScanMatchesReferenceForEveryMetric() throws {
        var rng = SeededRandom(seed: 7)
        let dims = 24
        let rows = rng.rows(50, dims: dims)
        let q = rng.vector(dims)
        let flat = rows.flatMap { $0 }
        let references: [(Metric, ([Float]) -> Double)] = [
            (.dot, { -Reference.dot(q, $0) }),  // the dot scan is the negated inner product
            (.l2sq, { Reference.l2sq(q, $0) }),
            (.cosine, { Reference.cosine(q, $0) }),
        ]
        for (metric, reference) in references {
            let got = try Kernels.scan(q, rows: flat, metric: metric)
            XCTAssertEqual(got.count, 50)
            for (i, row) in rows.enumerated() {
                XCTAssertEqual(Double(got[i]), reference(row), accuracy: 1e-5, "\(metric) row \(i)")
            }
            // Rows as Data: the same call, the same bits.
            XCTAssertEqual(try Kernels.scan(q, rowData: try Vectors.data(rows: rows), metric: metric), got)
        }
        XCTAssertThrowsError(try Kernels.scan(q, rows: Array(flat.dropLast()))) { error in
            guard case FerrovecError.DimensionMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testTopKOrdersAndBreaksTies() throws {
        let hits = try Kernels.topK([3, 1, 2, 1, .nan], k: 4)
        XCTAssertEqual(hits.map(\.index), [1, 3, 2, 0])
        XCTAssertEqual(hits[0], ScoredIndex(index: 1, score: 1))
        let all = try Kernels.topK([3, 1, 2, 1, .nan], k: 10)
        XCTAssertEqual(all.map(\.index), [1, 3, 2, 0, 4], "NaN last")
        XCTAssertTrue(all[4].score.isNaN)
        XCTAssertEqual(try Kernels.topK([1], k: 0), [])
        let scores = try Kernels.scan([1, 0], rows: [1, 0, 0, 1, -1, 0], metric: .cosine)
        XCTAssertEqual(scores, [0, 1, 2])
    }

    func testNormalize() throws {
        let (unit, norm) = try Kernels.l2Normalize([3, 4])
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(unit[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(unit[1], 0.8, accuracy: 1e-7)
        let (zero, zeroNorm) = try Kernels.l2Normalize([0, 0])
        XCTAssertEqual(zeroNorm, 0)
        XCTAssertEqual(zero, [0, 0])
    }

    func testInt8AndBinaryKernels() throws {
        let a: [Int8] = [-128, -1, 0, 5, 127]
        let b: [Int8] = [127, 3, -7, 5, -128]
        XCTAssertEqual(try Kernels.dotI8(a, b), zip(a, b).reduce(Int32(0)) { $0 + Int32($1.0) * Int32($1.1) })
        XCTAssertEqual(try Kernels.l2sqI8(a, b),
                       zip(a, b).reduce(UInt32(0)) { $0 + UInt32((Int32($1.0) - Int32($1.1)) * (Int32($1.0) - Int32($1.1))) })
        let x = Data([0xF0, 0xFF]), y = Data([0xA0, 0x0F])
        XCTAssertEqual(try Kernels.hamming(x, y), 6)
        XCTAssertEqual(try Kernels.jaccard(x, y), 0.5, accuracy: 1e-6)
        XCTAssertEqual(try Kernels.jaccard(Data(count: 2), Data(count: 2)), 0)
    }

    func testErrorsAreTypedWithMessages() {
        XCTAssertThrowsError(try Kernels.dot([1, 2], [1, 2, 3])) { error in
            guard let e = error as? FerrovecError, case .DimensionMismatch = e else {
                return XCTFail("expected DimensionMismatch, got \(error)")
            }
            XCTAssertEqual(e.message, "dimension mismatch: expected 2, got 3")
            XCTAssertEqual(e.localizedDescription.isEmpty, false)
        }
        // Bytes that are not whole floats.
        XCTAssertThrowsError(try l2sqF32(a: Data(count: 8), b: Data(count: 7))) { error in
            guard case FerrovecError.InvalidArgument(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("multiple of 4"), message)
        }
        XCTAssertThrowsError(try Kernels.hamming(Data(count: 1), Data(count: 2))) { error in
            guard case FerrovecError.DimensionMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testDataRoundTrip() throws {
        let values: [Float] = [1.5, -0.0, .infinity, 3.25e-7]
        let data = Vectors.data(values)
        XCTAssertEqual(data.count, 16)
        XCTAssertEqual(Vectors.floats(data).map(\.bitPattern), values.map(\.bitPattern))
        // Little-endian, as the library reads it.
        XCTAssertEqual([UInt8](data.prefix(4)), [0x00, 0x00, 0xC0, 0x3F])
        XCTAssertEqual(try Vectors.data(rows: [[1, 2], [3, 4]]), Vectors.data([1, 2, 3, 4]))
        XCTAssertThrowsError(try Vectors.data(rows: [[1, 2], [3]])) { error in
            guard case FerrovecError.DimensionMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(Vectors.keyData([1, 0x0102_0304_0506_0708]),
                       Data([1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]))
        // A borrowed view of an empty array.
        XCTAssertEqual(try Kernels.dot([], []), 0)
    }

    func testArraysAreBorrowedNotCopied() throws {
        let values: [Float] = (0..<1000).map(Float.init)
        let arrayBase = values.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
        Vectors.withData(values) { data in
            XCTAssertEqual(data.count, 4000)
            XCTAssertEqual(data.withUnsafeBytes { $0.baseAddress }, arrayBase, "the Data views the array's memory")
        }
    }

    /// `FERROVEC_ISA=avx2 make test-swift` runs every case on that kernel level: check it
    /// took effect (without the variable: the best level this CPU has).
    func testIsaFromEnvironment() {
        if let name = ProcessInfo.processInfo.environment["FERROVEC_ISA"] {
            XCTAssertEqual("\(activeIsa())", name.lowercased())
        } else {
            XCTAssertEqual(activeIsa(), availableIsas().last, "available ISAs are listed best last")
        }
    }

    func testIsaSelectionRoundTrip() throws {
        let original = activeIsa()
        let available = availableIsas()
        XCTAssertTrue(available.contains(.scalar) && available.contains(original))
        defer { XCTAssertNoThrow(try forceIsa(isa: original)) }
        for isa in available {
            try forceIsa(isa: isa)
            XCTAssertEqual(activeIsa(), isa)
            XCTAssertEqual(try Kernels.dot([1, 2, 3], [4, 5, 6]), 32)
        }
        let all: [Isa] = [.scalar, .avx2, .avx512, .neon, .simd128]
        for isa in all where !available.contains(isa) {
            XCTAssertThrowsError(try forceIsa(isa: isa)) { error in
                guard case FerrovecError.UnsupportedIsa = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testVersion() {
        XCTAssertEqual(version().filter { $0 == "." }.count, 2, version())
    }
}
