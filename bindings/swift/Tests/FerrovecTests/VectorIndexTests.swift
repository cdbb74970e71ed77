// NOT COMPILED OR RUN HERE (no Swift toolchain on the Linux machines); see README.md.
import XCTest
@testable import Ferrovec

final class VectorIndexTests: XCTestCase {
    private let dims = 16

    private func rows(_ n: Int, seed: UInt64) -> [[Float]] {
        var state = seed | 1
        func next() -> Float {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        return (0..<n).map { _ in (0..<dims).map { _ in next() } }
    }

    private func bruteForce(_ data: [[Float]], _ keys: [UInt64], _ q: [Float], k: Int) -> [UInt64] {
        let d = zip(keys, data).map { key, row in
            (key, zip(row, q).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) })
        }
        return d.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(k).map(\.0)
    }

    private func engines() throws -> [Engine] {
        [Engine.native(), try Engine.interpreted()]
    }

    func testExactSearchMatchesBruteForceOnBothBackends() throws {
        for engine in try engines() {
            let index = try VectorIndex(dims: dims, metric: .l2sq, engine: engine)
            let data = rows(200, seed: 1)
            let keys = (0..<200).map { UInt64(1000 + 3 * $0) }
            try index.add(keys: keys, vectors: data)
            XCTAssertEqual(index.count, 200)
            XCTAssertEqual(index.backend, engine.kind())
            for q in rows(5, seed: 2) {
                XCTAssertEqual(try index.search(q, k: 10).map(\.key), bruteForce(data, keys, q, k: 10))
            }
            let allowed = Array(keys.prefix(20))
            let q = rows(1, seed: 3)[0]
            let got = try index.search(q, k: 5, allowed: allowed)
            XCTAssertEqual(got.map(\.key), bruteForce(Array(data.prefix(20)), allowed, q, k: 5))
        }
    }

    func testAsyncSearchAndHnsw() async throws {
        let index = try VectorIndex(dims: dims, metric: .cosine, hnsw: .standard)
        try index.add(keys: (0..<500).map(UInt64.init), vectors: rows(500, seed: 4))
        let q = rows(1, seed: 5)[0]
        let sync = try index.search(q, k: 10)
        let async = try await index.search(q, k: 10)
        XCTAssertEqual(sync, async)
        XCTAssertEqual(sync.count, 10)
    }

    func testErrorsAreTypedAndLeaveTheIndexUnchanged() throws {
        let index = try VectorIndex(dims: dims, metric: .l2sq)
        try index.add(1, rows(1, seed: 6)[0])
        XCTAssertThrowsError(try index.add(1, rows(1, seed: 7)[0])) { error in
            guard case FerrovecError.DuplicateKey(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("1"))
        }
        XCTAssertThrowsError(try index.add(2, [1, 2, 3])) { error in
            guard case FerrovecError.DimensionMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try index.remove(99)) { error in
            guard case FerrovecError.KeyNotFound = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try index.search(rows(1, seed: 8)[0], k: 0))
        XCTAssertEqual(index.count, 1)
        XCTAssertThrowsError(try VectorIndex(dims: dims, metric: .hamming, storage: .f32))
    }

    func testSaveLoadAcrossBackends() throws {
        let index = try VectorIndex(dims: dims, metric: .cosine, hnsw: .standard)
        try index.add(keys: (0..<300).map(UInt64.init), vectors: rows(300, seed: 9))
        let queries = rows(4, seed: 10)
        let want = try index.search(batch: queries, k: 5)
        let data = try index.data()
        for engine in try engines() {
            let loaded = try VectorIndex.load(from: data, engine: engine)
            XCTAssertEqual(try loaded.search(batch: queries, k: 5), want)
            XCTAssertEqual(try loaded.data(), data)
        }
        var corrupt = data
        corrupt[corrupt.count / 2] ^= 0x40
        XCTAssertThrowsError(try VectorIndex.load(from: corrupt)) { error in
            guard case FerrovecError.CorruptFile = error else { return XCTFail("\(error)") }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ferrovec-\(UUID()).fvix")
        try index.save(to: url)
        XCTAssertEqual(try VectorIndex.load(contentsOf: url).count, 300)
        try? FileManager.default.removeItem(at: url)
        index.close()
        XCTAssertThrowsError(try index.search(queries[0], k: 1)) { error in
            guard case FerrovecError.InvalidHandle = error else { return XCTFail("\(error)") }
        }
    }

    func testEngineOptions() throws {
        let engine = try Engine.interpreted(fuel: 20_000)
        let big = [Float](repeating: 1, count: 200_000)
        XCTAssertThrowsError(try engine.dot(big, big)) { error in
            guard case FerrovecError.OutOfFuel = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try engine.dot([1, 2], [3, 4]), 11)
        XCTAssertThrowsError(try Engine.interpreted(module: Data([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])))
    }
}
