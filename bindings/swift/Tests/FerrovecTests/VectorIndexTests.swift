import Foundation
import XCTest
@testable import Ferrovec

/// `VectorIndex` on the Native and Interpreted backends: results against a brute force, HNSW
/// recall, allow-lists, batches, typed errors that leave the index unchanged, save/load across
/// backends (bit-identical on one backend, within the documented bound across), close(),
/// searches from concurrent tasks.
final class VectorIndexTests: XCTestCase {
    private let dims = 16

    private func rows(_ n: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededRandom(seed: seed)
        return rng.rows(n, dims: dims)
    }

    private func filled(
        _ engine: Engine, n: Int = 300, metric: IndexMetric = .l2sq, hnsw: HnswConfig? = nil
    ) throws -> (VectorIndex, [[Float]], [UInt64]) {
        let index = try VectorIndex(dims: dims, metric: metric, hnsw: hnsw, engine: engine)
        let data = rows(n, seed: 1)
        let keys = (0..<n).map { UInt64(1000 + 3 * $0) }
        try index.add(keys: keys, vectors: data)
        return (index, data, keys)
    }

    /// What a failed call must leave alone: size, search results, a stored vector.
    private struct State: Equatable {
        let count: Int
        let results: [[Match]]
        let vector: [Float]
    }

    private func state(_ index: VectorIndex) throws -> State {
        State(count: index.count, results: try rows(3, seed: 77).map { try index.search($0, k: 7) },
              vector: try index.vector(for: 1000))
    }

    func testExactSearchMatchesBruteForceOnBothBackends() throws {
        for backend in Backend.forIndex {
            let engine = try backend.engine()
            let (index, data, keys) = try filled(engine)
            XCTAssertEqual(index.count, 300)
            XCTAssertEqual(index.dims, dims)
            XCTAssertEqual(index.backend, engine.kind())
            let queries = rows(10, seed: 5)
            for q in queries {
                let got = try index.search(q, k: 10)
                XCTAssertEqual(got.map(\.key), Reference.nearest(data, keys: keys, to: q, k: 10), backend.rawValue)
                for m in got {
                    let row = data[Int((m.key - 1000) / 3)]
                    let exact = Reference.l2sq(row, q)
                    XCTAssertEqual(Double(m.distance), exact, accuracy: 1e-5 * exact + 1e-6)
                }
            }
            let allowed = keys.enumerated().filter { $0.offset % 7 == 0 }.map(\.element)
            let q = queries[0]
            let filtered = try index.search(q, k: 5, allowed: allowed + [999_999])  // unknown keys are ignored
            let allowedRows = keys.indices.filter { $0 % 7 == 0 }.map { data[$0] }
            XCTAssertEqual(filtered.map(\.key), Reference.nearest(allowedRows, keys: allowed, to: q, k: 5))
            XCTAssertEqual(try index.search(q, k: 5, allowed: []), [])
            // One batch call = one search per query, bit for bit (same backend).
            XCTAssertEqual(try index.search(batch: queries, k: 4), try queries.map { try index.search($0, k: 4) })
            // The same as flat arrays (issue 15), padded past the index's size.
            let flat = try index.searchArrays(batch: queries, k: 4)
            XCTAssertEqual(flat.allMatches, try index.search(batch: queries, k: 4))
            XCTAssertEqual(try index.searchArrays(flat: queries.flatMap { $0 }, k: 4), flat)
            let padded = try index.searchArrays(batch: [q], k: 301)
            XCTAssertEqual(padded.counts, [300])
            XCTAssertEqual(padded.keys.last, BatchMatches.noKey)
            XCTAssertEqual(padded.distances.last, Float.infinity)
            // k beyond the size returns everything.
            XCTAssertEqual(try index.search(q, k: 1000).count, 300)
        }
    }

    func testHnswRecallAgainstExactOnBothBackends() throws {
        for backend in Backend.forIndex {
            let engine = try backend.engine()
            let (index, data, keys) = try filled(engine, n: 1500, hnsw: HnswConfig(m: 12, efConstruction: 128, efSearch: 64, seed: 7))
            XCTAssertEqual(index.config?.hnsw?.m, 12)
            var hits = 0
            let queries = rows(30, seed: 9)
            for q in queries {
                let truth = Set(Reference.nearest(data, keys: keys, to: q, k: 10))
                hits += try index.search(q, k: 10).filter { truth.contains($0.key) }.count
            }
            let recall = Double(hits) / Double(10 * queries.count)
            XCTAssertGreaterThanOrEqual(recall, 0.9, "\(backend.rawValue) recall")
            try index.setEfSearch(200)
            XCTAssertEqual(index.config?.hnsw?.efSearch, 200)
        }
    }

    func testErrorsAreTypedAndLeaveTheIndexUnchanged() throws {
        for backend in Backend.forIndex {
            for hnsw in [nil, HnswConfig.standard] {
                let engine = try backend.engine()
                let (index, data, keys) = try filled(engine, n: 60, hnsw: hnsw)
                let before = try state(index)
                let what = "\(backend.rawValue) \(hnsw == nil ? "exact" : "hnsw")"
                func expect(_ name: String, _ check: (Error) -> Bool, _ call: () throws -> Void) {
                    XCTAssertThrowsError(try call(), "\(what): \(name)") { error in
                        XCTAssertTrue(check(error), "\(what): \(name): \(error)")
                        XCTAssertFalse((error as? FerrovecError)?.message.isEmpty ?? true, "errors carry ferrovec's message")
                    }
                    XCTAssertEqual(try? state(index), before, "\(what): \(name) changed the index")
                }
                func isDimension(_ e: Error) -> Bool { if case FerrovecError.DimensionMismatch = e { return true }; return false }
                func isInvalid(_ e: Error) -> Bool { if case FerrovecError.InvalidArgument = e { return true }; return false }
                func isDuplicate(_ e: Error) -> Bool { if case FerrovecError.DuplicateKey = e { return true }; return false }
                func isNotFound(_ e: Error) -> Bool { if case FerrovecError.KeyNotFound = e { return true }; return false }
                expect("short vector", isDimension) { try index.add(1, [Float](repeating: 0, count: self.dims - 1)) }
                expect("NaN vector", isInvalid) { try index.add(1, [Float](repeating: .nan, count: self.dims)) }
                expect("batch with a present key", isDuplicate) { try index.add(keys: [1, 2, keys[0]], vectors: self.rows(3, seed: 4)) }
                expect("batch with a repeated key", isDuplicate) { try index.add(keys: [1, 1], vectors: self.rows(2, seed: 4)) }
                expect("batch with too few rows", isDimension) { try index.add(keys: [1, 2], vectors: self.rows(1, seed: 4)) }
                expect("ragged rows", isDimension) { try index.add(keys: [1, 2], vectors: [data[0], [1, 2]]) }
                expect("k = 0", isInvalid) { _ = try index.search(data[0], k: 0) }
                expect("short query", isDimension) { _ = try index.search(Array(data[0].prefix(3)), k: 3) }
                expect("infinite query", isInvalid) { _ = try index.search([Float](repeating: .infinity, count: self.dims), k: 3) }
                expect("remove absent", isNotFound) { try index.remove(5) }
                expect("get absent", isNotFound) { _ = try index.vector(for: 5) }
                XCTAssertThrowsError(try index.add(keys[0], data[1])) { error in
                    guard case FerrovecError.DuplicateKey(let message) = error else { return XCTFail("\(error)") }
                    XCTAssertTrue(message.contains(String(keys[0])), message)
                }

                // The writers do what they say.
                XCTAssertEqual(try index.vector(for: keys[3]), data[3])
                try index.add(keys[3], data[0], replace: true)
                XCTAssertEqual(try index.vector(for: keys[3]), data[0])
                try index.remove(keys[4])
                XCTAssertFalse(index.contains(keys[4]))
                XCTAssertTrue(index.contains(keys[5]))
                try index.compact()
                XCTAssertEqual(index.count, 59)
                XCTAssertFalse(try index.search(data[4], k: 1000).contains { $0.key == keys[4] })
                try index.reserve(1000)
                XCTAssertGreaterThanOrEqual(index.capacity, 1059)
                try index.removeAll()
                XCTAssertTrue(index.isEmpty)
                XCTAssertEqual(try index.search(data[0], k: 3), [])
            }
        }
    }

    func testDefaultEngineIsNative() throws {
        XCTAssertEqual(Engine.shared.kind(), .native)
        XCTAssertEqual(try VectorIndex(dims: 3).backend, .native)
        XCTAssertEqual(try VectorIndex(dims: 3, engine: try Engine.interpreted()).backend, .interpreted)
    }

    func testUnsupportedOptionsAndQuantizedStorage() throws {
        for backend in Backend.forIndex {
            let engine = try backend.engine()
            XCTAssertThrowsError(try VectorIndex(dims: dims, metric: .hamming, storage: .f32, engine: engine)) { error in
                guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try VectorIndex(dims: 0, engine: engine)) { error in
                guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try VectorIndex(dims: dims, engine: engine).setEfSearch(10)) { error in
                guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(error)") }
            }
            let data = rows(200, seed: 2)
            let b1 = try VectorIndex(dims: dims, metric: .hamming, storage: .b1, engine: engine)
            try b1.add(keys: (0..<200).map(UInt64.init), vectors: data)
            XCTAssertEqual(try b1.search(data[17], k: 1).first, Match(key: 17, distance: 0))
            XCTAssertEqual(try b1.vector(for: 17), data[17].map { $0 > 0 ? 1 : 0 })
            let i8 = try VectorIndex(dims: dims, metric: .cosine, storage: .i8, engine: engine)
            try i8.add(keys: (0..<200).map(UInt64.init), vectors: data)
            for i in stride(from: 0, to: 200, by: 20) {
                XCTAssertEqual(try i8.search(data[i], k: 1).first?.key, UInt64(i), "\(backend.rawValue) i8")
            }
        }
    }

    /// f16 / bf16: values come back rounded to nearest even, searches rank the rounded rows,
    /// an out-of-range value throws `.InvalidArgument` naming the storage and adds nothing, and
    /// the bytes (file format version 3) load on both backends and save back the same.
    func testHalfStorages() throws {
        // 1 + 2^-11 and 1 + 3 * 2^-11 are halfway between f16 neighbours (ties to even: 1 and
        // 1 + 2^-9); bf16 keeps 8 significant bits.
        let input: [Float] = [1.00048828125, 1.00146484375, 300.7, -0.5]
        let cases: [(Storage, String, [Float], Float)] = [
            (.f16, "f16", [1, 1.001953125, 300.75, -0.5], 65520),
            (.bf16, "bf16", [1, 1, 300, -0.5], 3.4e38),
        ]
        for backend in Backend.forIndex {
            for (storage, name, stored, big) in cases {
                let what = "\(backend.rawValue) \(name)"
                let index = try VectorIndex(dims: 4, metric: .l2sq, storage: storage, engine: try backend.engine())
                try index.add(1, input)
                try index.add(2, [0, 2, -4, 8])
                XCTAssertEqual(index.config?.storage, storage, what)
                XCTAssertEqual(try index.vector(for: 1), stored, what)
                let hit = try XCTUnwrap(try index.search([1, 1, 300, -0.5], k: 1).first, what)
                XCTAssertEqual(hit.key, 1, what)
                // The distance is over the stored row.
                let want = zip(stored, [Float(1), 1, 300, -0.5]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                XCTAssertEqual(hit.distance, want, accuracy: 1e-6, what)
                XCTAssertThrowsError(try index.add(keys: [3, 4], vectors: [input, [0, big, 0, 0]])) { error in
                    guard case FerrovecError.InvalidArgument(let message) = error else { return XCTFail("\(what): \(error)") }
                    XCTAssertTrue(message.contains("out of \(name) range"), "\(what): \(message)")
                }
                XCTAssertEqual(index.count, 2, what)
                let data = try index.data()
                XCTAssertEqual(data[data.startIndex + 4], 3, "\(what): file format version")
                for to in Backend.forIndex {
                    let loaded = try VectorIndex.load(from: data, engine: try to.engine())
                    XCTAssertEqual(try loaded.vector(for: 1), stored, "\(what) -> \(to.rawValue)")
                    XCTAssertEqual(try loaded.data(), data, "\(what) -> \(to.rawValue): re-saved bytes")
                }
            }
        }
    }

    /// Saved bytes load on every backend and save back to the same bytes. On the backend that
    /// saved them, the loaded index answers bit for bit as the original; on the other, within
    /// the documented bound, keys equal except near-ties.
    func testSaveLoadAcrossBackends() throws {
        let queries = rows(5, seed: 8)
        for (metric, hnsw) in [(IndexMetric.cosine, HnswConfig.standard), (.cosine, nil), (.l2sq, HnswConfig.standard)] {
            for from in Backend.forIndex {
                let (index, _, _) = try filled(try from.engine(), metric: metric, hnsw: hnsw)
                let want = try index.search(batch: queries, k: 5)
                let data = try index.data()
                XCTAssertEqual(String(decoding: data.prefix(4), as: UTF8.self), "FVIX")
                for to in Backend.forIndex {
                    let what = "\(metric) \(hnsw == nil ? "exact" : "hnsw") \(from.rawValue) -> \(to.rawValue)"
                    let engine = try to.engine()
                    let loaded = try VectorIndex.load(from: data, engine: engine)
                    XCTAssertEqual(loaded.backend, engine.kind())
                    XCTAssertEqual(loaded.config, index.config)
                    let got = try loaded.search(batch: queries, k: 5)
                    if from == to {
                        XCTAssertEqual(got, want, what)
                    } else {
                        // Distances of at most 2 (cosine) or ~10 (l2sq of [-1,1]^16 rows):
                        // twice the bound of each side.
                        let tol: Float = metric == .cosine ? 4e-5 : 2e-4
                        for (g, w) in zip(got, want) { assertSameNeighbors(g, w, tol: tol, what) }
                    }
                    XCTAssertEqual(try loaded.data(), data, "\(what): re-saved bytes")
                }
            }
        }
        // Where every distance is exact (not cosine, whose normalization rounds per
        // instruction set; here: squared L2 of quarter-integer vectors), both backends build
        // the same index and write the same bytes for the same inserts.
        var rng = SeededRandom(seed: 11)
        let grid = (0..<300).map { _ in (0..<dims).map { _ in Float(Int(rng.next() % 9) - 4) / 4 } }
        var saved: [Data] = []
        for backend in Backend.forIndex {
            let index = try VectorIndex(dims: dims, metric: .l2sq, hnsw: .standard, engine: try backend.engine())
            try index.add(keys: (0..<300).map(UInt64.init), vectors: grid)
            saved.append(try index.data())
        }
        XCTAssertEqual(saved[0], saved[1], "native and interpreted bytes of an exact-distance index")
    }

    func testFilesCorruptionAndClose() throws {
        let (index, _, _) = try filled(Engine.native(), hnsw: .standard)
        let queries = rows(4, seed: 10)
        let want = try index.search(batch: queries, k: 5)
        let data = try index.data()
        var flipped = data
        flipped[flipped.count / 2] ^= 0x40
        for backend in Backend.forIndex {
            let engine = try backend.engine()
            XCTAssertThrowsError(try VectorIndex.load(from: data.dropLast(), engine: engine)) { error in
                guard case FerrovecError.CorruptFile = error else { return XCTFail("\(backend.rawValue): \(error)") }
            }
            XCTAssertThrowsError(try VectorIndex.load(from: flipped, engine: engine)) { error in
                guard case FerrovecError.CorruptFile = error else { return XCTFail("\(backend.rawValue): \(error)") }
            }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferrovec-swift-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("index.fvix")
        try index.save(to: url)
        XCTAssertEqual(try Data(contentsOf: url), data)
        let fromFile = try VectorIndex.load(contentsOf: url)
        XCTAssertEqual(try fromFile.search(batch: queries, k: 5), want)
        XCTAssertThrowsError(try VectorIndex.load(contentsOf: dir.appendingPathComponent("missing/x.fvix"))) { error in
            guard case FerrovecError.InvalidArgument = error else { return XCTFail("\(error)") }
        }
        index.close()
        index.close()
        XCTAssertTrue(index.isClosed)
        XCTAssertThrowsError(try index.search(queries[0], k: 1)) { error in
            guard case FerrovecError.InvalidHandle = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(index.count, 0)
        // An index outlives its engine.
        let engine = try Engine.interpreted()
        let survivor = try VectorIndex(dims: 2, engine: engine)
        engine.release()
        try survivor.add(9, [1, 0])
        XCTAssertEqual(try survivor.search([1, 0], k: 1).first?.key, 9)
        XCTAssertThrowsError(try VectorIndex(dims: 2, engine: engine)) { error in
            guard case FerrovecError.InvalidHandle = error else { return XCTFail("\(error)") }
        }
    }

    /// The synchronous search is callable from async code, and `searchInBackground` returns the
    /// same bits (same backend) on both backends.
    func testSearchFromAsyncCode() async throws {
        for backend in Backend.forIndex {
            let index = try VectorIndex(dims: dims, metric: .cosine, hnsw: .standard, engine: try backend.engine())
            try index.add(keys: (0..<500).map(UInt64.init), vectors: rows(500, seed: 4))
            let q = rows(1, seed: 5)[0]
            let sync = try index.search(q, k: 10)
            let background = try await index.searchInBackground(q, k: 10)
            XCTAssertEqual(sync.count, 10)
            XCTAssertEqual(background, sync, backend.rawValue)
            let allowed: [UInt64] = [1, 3, 5, 7, 400]
            let filtered = try await index.searchInBackground(q, k: 3, allowed: allowed, priority: .low)
            XCTAssertEqual(filtered, try index.search(q, k: 3, allowed: allowed))
            XCTAssertTrue(filtered.allSatisfy { allowed.contains($0.key) })
            do {
                _ = try await index.searchInBackground(q, k: 0)
                XCTFail("k = 0 must throw")
            } catch FerrovecError.InvalidArgument {
                // the error crosses the task boundary typed
            }
        }
    }

    func testCancelledTaskDoesNotStartASearch() async throws {
        let index = try VectorIndex(dims: dims)
        try index.add(1, rows(1, seed: 1)[0])
        let task = Task { () -> [Match] in
            while !Task.isCancelled { await Task.yield() }
            return try await index.searchInBackground(self.rows(1, seed: 2)[0], k: 1)
        }
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("a cancelled task must not search")
        } catch is CancellationError {}
    }

    /// Many tasks search one index at once (a fixed index: every answer equals the one-at-a-time
    /// answer, bit for bit), then while another task adds vectors.
    func testConcurrentSearchesFromTasks() async throws {
        for backend in Backend.forIndex {
            let index = try VectorIndex(dims: dims, metric: .l2sq, hnsw: .standard, engine: try backend.engine())
            try index.add(keys: (0..<500).map(UInt64.init), vectors: rows(500, seed: 1))
            let queries = rows(40, seed: 3)
            let expected = try queries.map { try index.search($0, k: 5) }
            let results = try await withThrowingTaskGroup(of: (Int, [Match]).self) { group in
                for (i, q) in queries.enumerated() {
                    group.addTask { (i, try await index.searchInBackground(q, k: 5)) }
                    group.addTask { (i, try index.search(q, k: 5)) }
                }
                var out: [(Int, [Match])] = []
                for try await r in group { out.append(r) }
                return out
            }
            XCTAssertEqual(results.count, 80)
            for (i, got) in results { XCTAssertEqual(got, expected[i], "\(backend.rawValue) query \(i)") }

            // Readers while a writer adds: every search sees the index before or after an add.
            let extra = rows(200, seed: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for (i, v) in extra.enumerated() { try index.add(UInt64(500 + i), v) }
                }
                for t in 0..<3 {
                    group.addTask {
                        for q in self.rows(30, seed: UInt64(100 + t)) {
                            let found = try await index.searchInBackground(q, k: 5)
                            XCTAssertEqual(found.count, 5)
                            XCTAssertTrue(found.allSatisfy { $0.key < 700 })
                            XCTAssertEqual(found.map(\.distance), found.map(\.distance).sorted())
                        }
                    }
                }
                try await group.waitForAll()
            }
            XCTAssertEqual(index.count, 700, backend.rawValue)
        }
    }
}
