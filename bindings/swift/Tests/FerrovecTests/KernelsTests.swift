import XCTest
@testable import Ferrovec

final class KernelsTests: XCTestCase {
    private func refDot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    func testPairwiseKernelsMatchReference() throws {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 7, 16, 33, 384] {
            let a = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            let scale = zip(a, b).reduce(1e-30) { $0 + abs(Double($1.0) * Double($1.1)) }
            XCTAssertEqual(Double(try Kernels.dot(a, b)), refDot(a, b), accuracy: 1e-5 * scale)
            let l2 = zip(a, b).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) }
            XCTAssertEqual(Double(try Kernels.l2sq(a, b)), l2, accuracy: 1e-5 * l2 + 1e-6)
        }
    }

    func testScanAndTopK() throws {
        let rows: [Float] = [1, 0, 0, 1, -1, 0]
        let scores = try Kernels.scan([1, 0], rows: rows, metric: .cosine)
        XCTAssertEqual(scores, [0, 1, 2])
        XCTAssertEqual(try Kernels.scan([1, 0], rowData: Vectors.data(rows), metric: .cosine), scores)
        let best = try Kernels.topK(scores, k: 2)
        XCTAssertEqual(best.map(\.index), [0, 1])
    }

    func testErrorsAreTypedWithMessages() {
        XCTAssertThrowsError(try Kernels.dot([1, 2], [1, 2, 3])) { error in
            guard let e = error as? FerrovecError, case .DimensionMismatch = e else {
                return XCTFail("expected DimensionMismatch, got \(error)")
            }
            XCTAssertEqual(e.message, "dimension mismatch: expected 2, got 3")
        }
        let rows: [Float] = [1, 2, 3]
        XCTAssertThrowsError(try Kernels.scan([1, 2], rows: rows)) { error in
            guard let e = error as? FerrovecError, case .DimensionMismatch = e else {
                return XCTFail("expected DimensionMismatch, got \(error)")
            }
        }
    }

    func testDataRoundTrip() throws {
        let values: [Float] = [1.5, -0.0, .infinity, 3.25e-7]
        XCTAssertEqual(Vectors.floats(Vectors.data(values)), values)
        XCTAssertEqual(try Vectors.data(rows: [[1, 2], [3, 4]]).count, 16)
        XCTAssertThrowsError(try Vectors.data(rows: [[1, 2], [3]]))
    }

    func testNormalizeAndIntegerKernels() throws {
        let (unit, norm) = try Kernels.l2Normalize([3, 4])
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(unit[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(try Kernels.dotI8([-128, 2], [1, 3]), -122)
        XCTAssertEqual(try Kernels.hamming(Data([0xF0, 0xFF]), Data([0xA0, 0x0F])), 6)
    }

    func testIsaSelection() throws {
        let original = activeIsa()
        XCTAssertTrue(availableIsas().contains(original))
        try forceIsa(isa: .scalar)
        XCTAssertEqual(activeIsa(), .scalar)
        try forceIsa(isa: original)
    }
}
