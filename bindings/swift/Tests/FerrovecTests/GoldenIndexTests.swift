import Foundation
import XCTest
@testable import Ferrovec

/// tests/golden/index.json (the shared index cases): after the inserts and removals, the exact
/// index returns exactly the expected keys (distances within the case's tol) and HNSW built
/// from the same inserts reaches the case's recall, on both backends.
final class GoldenIndexTests: XCTestCase {
    private static let metrics: [String: IndexMetric] = [
        "cosine": .cosine, "l2sq": .l2sq, "ip": .innerProduct, "hamming": .hamming, "jaccard": .jaccard,
    ]
    private static let storages: [String: Storage] = ["f32": .f32, "f16": .f16, "bf16": .bf16, "i8": .i8, "b1": .b1]

    private func goldenIndexCases(on backend: Backend) throws {
        let golden = try Golden.load("index.json")
        XCTAssertEqual(golden["format"] as? String, "ferrovec-golden-index")
        let cases = try XCTUnwrap(golden["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 7)
        let engine = try backend.engine()
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let dims = Golden.int(c["dims"]), k = Golden.int(c["k"])
            let tol = Golden.value(c["tol"])
            let keys = Golden.keys(c["keys"])
            let vectors = Golden.floats(c["vectors"])
            let queries = Golden.floats(c["queries"])
            let expected = try XCTUnwrap(c["expected"] as? [[String: Any]])
            let removed = Golden.keys(c["removed"])
            let metric = try XCTUnwrap(Self.metrics[c["metric_name"] as? String ?? ""], name)
            let storage = try XCTUnwrap(Self.storages[c["storage_name"] as? String ?? ""], name)
            let h = try XCTUnwrap(c["hnsw"] as? [String: Any])
            let hnsw = HnswConfig(
                m: UInt32(Golden.int(h["m"])), efConstruction: UInt32(Golden.int(h["ef_construction"])),
                efSearch: UInt32(Golden.int(h["ef_search"])), seed: Golden.uint64(h["seed"]))
            XCTAssertEqual(queries.count, expected.count * dims, name)
            for config in [nil, hnsw] {
                let index = try VectorIndex(dims: dims, metric: metric, storage: storage, hnsw: config, engine: engine)
                try index.add(keys: keys, flat: vectors)
                for key in removed { try index.remove(key) }
                XCTAssertEqual(index.count, keys.count - removed.count, name)
                var found = 0
                for (i, want) in expected.enumerated() {
                    let q = Array(queries[i * dims..<(i + 1) * dims])
                    let got = try index.search(q, k: k)
                    let wantKeys = Golden.keys(want["keys"])
                    if config == nil {
                        XCTAssertEqual(got.map(\.key), wantKeys, "\(backend.rawValue) \(name) query \(i)")
                        let wantDistances = (want["distances"] as! [Any]).map(Golden.value)
                        for (m, d) in zip(got, wantDistances) where abs(Double(m.distance) - d) > tol + 1e-12 {
                            XCTFail("\(backend.rawValue) \(name) query \(i): key \(m.key) at \(m.distance), expected \(d) +- \(tol)")
                        }
                    }
                    found += got.filter { wantKeys.contains($0.key) }.count
                }
                if config != nil {
                    let recall = Double(found) / Double(k * expected.count)
                    XCTAssertGreaterThanOrEqual(recall, Golden.value(c["min_hnsw_recall"]),
                                                "\(backend.rawValue) \(name): HNSW recall")
                }
            }
        }
    }

    func testGoldenIndexCasesNative() throws { try goldenIndexCases(on: .native) }
    func testGoldenIndexCasesInterpretedSimd() throws { try goldenIndexCases(on: .interpretedSimd) }
}
