// Text on VectorIndex (init(encoder:), withEncoder, add(_:text:), add(keys:texts:),
// search(text:), search(texts:), modelId) on the tiny random models of `make tiny-model`:
// target/tiny-bert and its seed-2 twin target/tiny-bert-seed2 (same shape, another model id).
// The behaviour every surface asserts: a text finds itself first and equals embed + search,
// save + load keep the model id, another model's encoder is refused naming both ids, and the
// interpreted backend gives the same top keys as native.
import Foundation
import XCTest
@testable import Ferrovec

final class TextIndexTests: XCTestCase {
    let dir = repositoryRoot.appendingPathComponent("target/tiny-bert")
    let seed2 = repositoryRoot.appendingPathComponent("target/tiny-bert-seed2")
    let texts = [
        "The weather is lovely today.",
        "It's so sunny outside!",
        "He drove to the stadium.",
        "a cafe today",
        "日本 is so lovely",
        "the stadium is outside",
    ]
    var keys: [UInt64] { (0..<texts.count).map { 100 + UInt64($0) } }

    func encoder(_ d: URL, engine: Engine = .shared) throws -> TextEncoder {
        guard FileManager.default.fileExists(atPath: d.appendingPathComponent("model.safetensors").path) else {
            XCTFail("\(d.path) has no tiny model: run `make tiny-model`")
            throw CocoaError(.fileNoSuchFile)
        }
        return try TextEncoder(contentsOf: d, engine: engine)
    }

    func filled(_ enc: TextEncoder, engine: Engine = .shared) throws -> VectorIndex {
        let index = try VectorIndex(encoder: enc, engine: engine)
        try index.add(keys[0], text: texts[0])
        try index.add(keys: Array(keys.dropFirst()), texts: Array(texts.dropFirst()))
        return index
    }

    func hex(_ id: UInt64) -> String {
        let s = String(id, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    func assertInvalid(_ body: @autoclosure () throws -> Any, _ needles: [String], line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) {
            guard case FerrovecError.InvalidArgument(let message) = $0 else { return XCTFail("\($0)", line: line) }
            for n in needles { XCTAssertTrue(message.contains(n), message, line: line) }
        }
    }

    func testAddAndSearchByText() throws {
        let enc = try encoder(dir)
        let index = try filled(enc)
        XCTAssertEqual(index.count, texts.count)
        XCTAssertEqual(index.modelId, enc.modelId)
        XCTAssertTrue(index.hasEncoder)
        for (i, text) in texts.enumerated() {
            let hits = try index.search(text: text, k: 3)
            XCTAssertEqual(hits[0].key, keys[i], text)
            XCTAssertLessThan(hits[0].distance, 1e-5)
            XCTAssertEqual(hits, try index.search(try enc.embed(text), k: 3))
        }
        let batch = try index.search(texts: texts, k: 2)
        XCTAssertEqual(batch.map { $0[0].key }, keys)
        XCTAssertEqual(batch[2], try index.search(text: texts[2], k: 2))

        XCTAssertThrowsError(try index.add(keys[0], text: "so sunny")) {
            guard case FerrovecError.DuplicateKey = $0 else { return XCTFail("\($0)") }
        }
        let before = try index.data()
        XCTAssertThrowsError(try index.add(keys: [7, keys[1]], texts: ["a", "b"]))
        XCTAssertThrowsError(try index.add(keys: [7, 8], texts: ["a"])) {
            guard case FerrovecError.DimensionMismatch = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try index.data(), before, "failed adds changed the index")
        try index.add(keys[0], text: "so sunny", replace: true)
        XCTAssertEqual(try index.search(text: "so sunny", k: 1)[0].key, keys[0])
    }

    func testPlainIndexTakesAnEncoder() throws {
        let enc = try encoder(dir)
        let plain = try VectorIndex(dims: enc.dims)
        XCTAssertNil(plain.modelId)
        XCTAssertFalse(plain.hasEncoder)
        assertInvalid(try plain.search(text: "sunny"), ["no text encoder"])
        try plain.withEncoder(enc).add(keys: keys, texts: texts)
        XCTAssertEqual(plain.count, texts.count, "the handles share one index")
        XCTAssertEqual(plain.modelId, enc.modelId)
    }

    func testFilesKeepTheModelIdAndRefuseAnotherModel() throws {
        let enc = try encoder(dir)
        let other = try encoder(seed2)
        XCTAssertNotEqual(enc.modelId, other.modelId)
        let ids = [hex(enc.modelId), hex(other.modelId)]
        let index = try filled(enc)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID()).fvix")
        defer { try? FileManager.default.removeItem(at: url) }
        try index.save(to: url)
        let loaded = try VectorIndex.load(contentsOf: url, encoder: enc)
        XCTAssertEqual(loaded.modelId, enc.modelId)
        XCTAssertEqual(try loaded.search(text: texts[4], k: 1)[0].key, keys[4])
        assertInvalid(try VectorIndex.load(contentsOf: url, encoder: other), ["models are not comparable"] + ids)
        assertInvalid(try VectorIndex.load(from: try index.data(), encoder: other), ids)
        assertInvalid(try VectorIndex.load(contentsOf: url).withEncoder(other), ids)
    }

    func testInterpretedBackendGivesTheSameTopKeys() throws {
        let enc = try encoder(dir)
        let engine = try Engine.interpreted()
        let wasm = try filled(try encoder(dir, engine: engine), engine: engine)
        let native = try filled(enc)
        XCTAssertEqual(wasm.backend, .interpreted)
        for text in texts {
            XCTAssertEqual(try native.search(text: text, k: 3)[0].key, try wasm.search(text: text, k: 3)[0].key, text)
        }
        XCTAssertEqual(wasm.modelId, enc.modelId)
        XCTAssertEqual(try VectorIndex.load(from: try wasm.data(), encoder: enc).modelId, enc.modelId)
    }
}
