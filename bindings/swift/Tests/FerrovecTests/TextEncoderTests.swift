// TextEncoder on the tiny random BERT model of `make tiny-model` (target/tiny-bert: 32 dims,
// vocab 50, max 40 tokens).
import Foundation
import XCTest
@testable import Ferrovec

final class TextEncoderTests: XCTestCase {
    let dir = repositoryRoot.appendingPathComponent("target/tiny-bert")
    let texts = [
        "the weather is lovely today.",
        "it's so sunny outside!",
        "he drove to the stadium.",
        "",
        "cafe 日本 ? , abcd e",
    ]

    func encoder() throws -> TextEncoder {
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
            XCTFail("\(dir.path) has no tiny model: run `make tiny-model`")
            throw CocoaError(.fileNoSuchFile)
        }
        return try TextEncoder(contentsOf: dir)
    }

    func testPropertiesAndTokenize() throws {
        let enc = try encoder()
        XCTAssertEqual(enc.dims, 32)
        XCTAssertEqual(enc.maxTokens, 40)
        XCTAssertNotEqual(enc.modelId, 0)
        XCTAssertEqual(enc.threads, 1)
        XCTAssertEqual(enc.backend, .native)
        XCTAssertEqual(try enc.tokenize("the weather is lovely today."), [2, 5, 6, 7, 8, 9, 10, 3])
        XCTAssertEqual(try enc.tokenize(""), [2, 3])
        XCTAssertEqual(try enc.tokenize(String(repeating: "the sunny ", count: 100)).count, 40)
    }

    func testEmbedUnitRowsEqualToSingleTexts() throws {
        let enc = try encoder()
        let flat = try enc.embedFlat(texts)
        XCTAssertEqual(flat.count, texts.count)
        XCTAssertEqual(flat.dims, 32)
        XCTAssertEqual(flat.vectors.count, texts.count * 32)
        let rows = try enc.embed(texts)
        XCTAssertEqual(rows, flat.rows)
        for (i, text) in texts.enumerated() {
            let norm = rows[i].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertEqual(norm, 1.0, accuracy: 1e-5)
            XCTAssertEqual(try enc.embed(text), rows[i])
        }
        XCTAssertEqual(try enc.embed([String]()).count, 0)
        // Threads: the same vectors.
        let many = (0..<64).map { texts[$0 % texts.count] + String(repeating: " sunny", count: $0 % 7) }
        let one = try enc.embedFlat(many)
        try enc.setThreads(2)
        XCTAssertEqual(enc.threads, 2)
        let two = try enc.embedFlat(many)
        for i in one.vectors.indices { XCTAssertEqual(one.vectors[i], two.vectors[i], accuracy: 1e-6) }
        // Into an index as they are, searched with flat arrays.
        let index = try VectorIndex(dims: enc.dims, metric: .cosine)
        try index.add(keys: [10, 11, 12], vectors: Array(rows[0..<3]))
        XCTAssertEqual(try index.search(try enc.embed(texts[1]), k: 1).first?.key, 11)
        let found = try index.searchArrays(flat: flat.vectors, k: 1)
        XCTAssertEqual(Array(found.keys[0..<3]), [10, 11, 12])
    }

    func testFromBytesMatchesLoad() throws {
        let enc = try encoder()
        func read(_ name: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(name)) }
        let e = try TextEncoder(
            safetensors: read("model.safetensors"), configJson: read("config.json"),
            tokenizerJson: read("tokenizer.json"), poolingJson: read("1_Pooling/config.json"),
            sentenceBertConfigJson: read("sentence_bert_config.json"))
        XCTAssertEqual(e.modelId, enc.modelId)
        XCTAssertEqual(try e.embedFlat(texts), try enc.embedFlat(texts))
    }

    func testRefusals() throws {
        XCTAssertThrowsError(try TextEncoder(contentsOf: dir.appendingPathComponent("nonexistent"))) {
            guard case FerrovecError.InvalidArgument = $0 else { return XCTFail("\($0)") }
        }
        let weights = try Data(contentsOf: dir.appendingPathComponent("model.safetensors"))
        let config = try Data(contentsOf: dir.appendingPathComponent("config.json"))
        let tok = try Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertThrowsError(try TextEncoder(safetensors: weights.prefix(weights.count / 2), configJson: config, tokenizerJson: tok)) {
            guard case FerrovecError.CorruptFile = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try TextEncoder(safetensors: weights, configJson: config))
        // The interpreted backend runs the encoder's wasm module: same id, same vectors.
        let wasm = try TextEncoder(contentsOf: dir, engine: try Engine.interpreted())
        let native = try encoder()
        XCTAssertEqual(wasm.modelId, native.modelId)
        let (a, b) = (try wasm.embed("the weather is lovely"), try native.embed("the weather is lovely"))
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        let enc = try encoder()
        enc.close()
        enc.close()
        XCTAssertTrue(enc.isClosed)
        XCTAssertEqual(enc.dims, 0)
        XCTAssertThrowsError(try enc.embed(texts)) {
            guard case FerrovecError.InvalidHandle = $0 else { return XCTFail("\($0)") }
        }
    }

    func testInt8KeepsTheModelIdAndAgreesWithF32() throws {
        let f32 = try encoder()
        XCTAssertEqual(f32.precision, .f32)
        let int8 = try TextEncoder(contentsOf: dir, precision: .int8)
        XCTAssertEqual(int8.precision, .int8)
        XCTAssertEqual(int8.modelId, f32.modelId)
        let (a, b) = (try f32.embedFlat(texts), try int8.embedFlat(texts))
        XCTAssertNotEqual(a, b)
        for i in 0..<a.count {
            let dot = zip(a[i], b[i]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertGreaterThanOrEqual(dot, 0.999, "text \(i)")
        }
        func read(_ name: String) throws -> Data { try Data(contentsOf: dir.appendingPathComponent(name)) }
        let fromBytes = try TextEncoder(
            safetensors: read("model.safetensors"), configJson: read("config.json"),
            tokenizerJson: read("tokenizer.json"), poolingJson: read("1_Pooling/config.json"),
            sentenceBertConfigJson: read("sentence_bert_config.json"), precision: .int8)
        XCTAssertEqual(try fromBytes.embedFlat(texts), b)
        // The interpreted backend's int8 within 1e-3 of native int8 (exact integer sums; a
        // quantization rounding boundary may go the other way without FMA).
        let wasm = try TextEncoder(contentsOf: dir, engine: try Engine.interpreted(), precision: .int8)
        XCTAssertEqual(wasm.precision, .int8)
        XCTAssertEqual(wasm.modelId, f32.modelId)
        let w = try wasm.embedFlat(texts)
        for (x, y) in zip(w.vectors, b.vectors) { XCTAssertEqual(x, y, accuracy: 1e-3) }
    }
}
