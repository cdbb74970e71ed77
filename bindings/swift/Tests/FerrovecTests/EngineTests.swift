import Foundation
import XCTest
@testable import Ferrovec

/// Engines on every backend: the golden kernel cases (tests/golden/kernels.json) on each,
/// typed errors after which the engine keeps working, the Interpreted options (fuel, memory
/// cap, module bytes, SHA-256), release().
final class EngineTests: XCTestCase {
    private func run(_ e: Engine, _ c: [String: Any]) throws -> [Double] {
        let a = c["a"], b = c["b"]
        switch c["op"] as? String {
        case "dot_f32": return [Double(try e.dot(Golden.floats(a), Golden.floats(b)))]
        case "cosine_distance_f32": return [Double(try e.cosineDistance(Golden.floats(a), Golden.floats(b)))]
        case "l2sq_f32": return [Double(try e.l2sq(Golden.floats(a), Golden.floats(b)))]
        case "dot_i8": return [Double(try e.dotI8(Golden.int8s(a), Golden.int8s(b)))]
        case "l2sq_i8": return [Double(try e.l2sqI8(Golden.int8s(a), Golden.int8s(b)))]
        case "hamming_b1": return [Double(try e.hamming(Golden.bytes(a), Golden.bytes(b)))]
        case "jaccard_b1": return [Double(try e.jaccard(Golden.bytes(a), Golden.bytes(b)))]
        case "scan_f32":
            let metric: Metric = [.dot, .cosine, .l2sq][Golden.int(c["metric"])]
            return try e.scan(Golden.floats(c["query"]), rows: Golden.floats(c["rows"]), metric: metric).map(Double.init)
        case let op: throw GoldenError.malformed("unknown golden op \(String(describing: op))")
        }
    }

    private func goldenKernelCases(on backend: Backend) throws {
        let golden = try Golden.load("kernels.json")
        XCTAssertEqual(golden["format"] as? String, "ferrovec-golden-kernels")
        let cases = try XCTUnwrap(golden["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 200)
        let engine = try backend.engine()
        var failures: [String] = []
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let got = try run(engine, c)
            if c["op"] as? String == "scan_f32" {
                if Golden.int(c["dims"]) == 0 && Golden.int(c["n_rows"]) > 0 {
                    // Bytes carry no row count: with dims 0 there are no rows to send.
                    if !got.isEmpty { failures.append("\(name): \(got.count) rows from empty input") }
                    continue
                }
                let expected = c["expected"] as! [Any]
                let tol = c["tol"] as? [Any]
                guard got.count == expected.count else {
                    failures.append("\(name): \(got.count) rows, expected \(expected.count)")
                    continue
                }
                for i in got.indices where !Golden.ok(got[i], expected[i], tol: tol?[i]) {
                    failures.append("\(name)[\(i)]: got \(got[i]), expected \(expected[i])")
                }
            } else if !Golden.ok(got[0], c["expected"], tol: c["tol"]) {
                failures.append("\(name): got \(got[0]), expected \(String(describing: c["expected"]))")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(backend.rawValue): \(failures.count) failures: \(failures.prefix(10))")
    }

    func testGoldenKernelCasesNative() throws { try goldenKernelCases(on: .native) }
    func testGoldenKernelCasesInterpretedSimd() throws { try goldenKernelCases(on: .interpretedSimd) }
    func testGoldenKernelCasesInterpretedScalar() throws { try goldenKernelCases(on: .interpretedScalar) }

    func testErrorsAreTypedAndTheEngineKeepsWorking() throws {
        for backend in Backend.allCases {
            let e = try backend.engine()
            XCTAssertEqual(e.kind(), backend == .native ? .native : .interpreted)
            XCTAssertThrowsError(try e.dot([1, 2], [1])) { error in
                guard let f = error as? FerrovecError, case .DimensionMismatch = f else { return XCTFail("\(error)") }
                XCTAssertEqual(f.message, "dimension mismatch: expected 2, got 1")
            }
            XCTAssertThrowsError(try e.l2sqF32(a: Data(count: 8), b: Data(count: 7))) { error in
                guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(backend): \(error)") }
            }
            XCTAssertThrowsError(try e.scan([1, 2], rows: [1, 2, 3])) { error in
                guard case FerrovecError.DimensionMismatch = error else { return XCTFail("\(backend): \(error)") }
            }
            XCTAssertEqual(try e.dot([1, 2], [3, 4]), 11, "\(backend) after errors")
            XCTAssertTrue(try e.dot([.nan, 1], [1, 1]).isNaN, "NaN propagates, no error")
        }
    }

    func testFuelRunsOutAndTheEngineRecovers() throws {
        let e = try Engine.interpreted(fuel: 20_000)
        let big = [Float](repeating: 1, count: 200_000)
        XCTAssertThrowsError(try e.dot(big, big)) { error in
            guard case FerrovecError.OutOfFuel(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("fuel"), message)
        }
        XCTAssertEqual(try e.dot([1, 2], [3, 4]), 11)
    }

    func testMemoryCapAndModuleChecks() throws {
        XCTAssertThrowsError(try Engine.interpreted(memoryLimit: 4096)) { error in
            guard case FerrovecError.OutOfMemory = error else { return XCTFail("\(error)") }
        }
        let capped = try Engine.interpreted(memoryLimit: 8 << 20)
        let big = [Float](repeating: 1, count: 4 << 20)  // 2 x 16 MiB must fit in the module
        XCTAssertThrowsError(try capped.dot(big, big)) { error in
            guard case FerrovecError.OutOfMemory = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try capped.dot([1], [2]), 2)
        XCTAssertThrowsError(try Engine.interpreted(module: Data([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))) { error in
            guard case FerrovecError.InvalidModule = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Engine.interpreted(fuel: 0)) { error in
            guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Engine.interpreted(sha256: "not hex")) { error in
            guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(error)") }
        }
    }

    func testModuleBytesAndSha256() throws {
        XCTAssertEqual(sha256Hex(Data("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let url = repositoryRoot.appendingPathComponent("target/wasm/ferrovec.wasm")
        guard let module = try? Data(contentsOf: url) else {
            throw XCTSkip("\(url.path) not built (make wasm)")
        }
        let e = try Engine.interpreted(module: module, sha256: sha256Hex(module))
        XCTAssertEqual(e.kind(), .interpreted)
        XCTAssertEqual(try e.dot([1, 2], [3, 4]), 11)
        XCTAssertThrowsError(try Engine.interpreted(module: module, sha256: String(repeating: "00", count: 32))) { error in
            guard case FerrovecError.InvalidModule(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("SHA-256"), message)
        }
    }

    func testReleasedEngineThrowsAndIsaPinning() throws {
        let e = try Engine.interpreted()
        e.release()
        e.release()
        XCTAssertTrue(e.isReleased())
        XCTAssertThrowsError(try e.dot([1], [1])) { error in
            guard case FerrovecError.InvalidHandle = error else { return XCTFail("\(error)") }
        }
        for isa in availableIsas() {
            let pinned = try Engine.native(isa: isa)
            XCTAssertEqual(try pinned.dot([1, 2], [3, 4]), 11)
            let description = try pinned.describe()
            XCTAssertTrue(description.lowercased().contains("native"), description)
        }
        let all: [Isa] = [.scalar, .avx2, .avx512, .neon, .simd128]
        if let missing = all.first(where: { !availableIsas().contains($0) }) {
            XCTAssertThrowsError(try Engine.native(isa: missing)) { error in
                guard case FerrovecError.UnsupportedIsa = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testEngineKernelsAgreeWithFreeFunctions() throws {
        var rng = SeededRandom(seed: 3)
        let q = rng.vector(64), rows = rng.vector(50 * 64)
        let native = Engine.native()
        XCTAssertEqual(try native.scan(q, rows: rows, metric: .l2sq), try Kernels.scan(q, rows: rows, metric: .l2sq))
        XCTAssertEqual(try native.topK([3, 1, 2], k: 2), try Kernels.topK([3, 1, 2], k: 2))
        let (v, n) = try native.l2Normalize([3, 4])
        XCTAssertEqual(n, 5)
        XCTAssertEqual(v[0], 0.6, accuracy: 1e-7)
        // The interpreted engine within the documented bound of the native one.
        let interpreted = try Engine.interpreted()
        let a = try native.scan(q, rows: rows, metric: .cosine)
        let b = try interpreted.scan(q, rows: rows, metric: .cosine)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 4e-5) }
        XCTAssertEqual(try interpreted.topK([3, 1, 2], k: 2), try native.topK([3, 1, 2], k: 2))
    }
}
