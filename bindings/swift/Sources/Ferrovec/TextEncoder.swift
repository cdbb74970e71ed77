// The sentence encoder in Swift idiom: [String] in, [[Float]] or one flat [Float] out,
// throwing FerrovecError. (`Encoder` is the generated object, as `Index` is under
// `VectorIndex`; this wrapper is `TextEncoder`.)

import Foundation

/// The vectors of a batch of texts in one flat array, row-major: `count` rows of `dims`
/// floats, row `i` the unit-length vector of text `i` (as `VectorIndex.add(keys:vectors:)`
/// takes rows).
public struct Embeddings: Equatable, Sendable {
    /// Texts (rows).
    public let count: Int
    /// Floats per row.
    public let dims: Int
    /// `count * dims` floats.
    public let vectors: [Float]

    /// Row `i` as its own array.
    public subscript(i: Int) -> [Float] { Array(vectors[(i * dims)..<((i + 1) * dims)]) }

    /// Every row as its own array.
    public var rows: [[Float]] { (0..<count).map { self[$0] } }
}

/// A sentence encoder (a BERT sentence-transformers model such as all-MiniLM-L6-v2): text in,
/// unit-length vectors out, so cosine similarity is a dot product.
///
/// ```swift
/// let encoder = try TextEncoder(contentsOf: modelDirectory)
/// let v = try encoder.embed(["The weather is lovely today.", "It's so sunny outside!"])
/// ```
///
/// `precision: .int8` quantizes the linear layers to int8 while loading (`Precision`, the
/// generated enum): a quarter of their f32 size, vectors within a cosine of about 0.998 of the
/// f32 ones for all-MiniLM-L6-v2, the same `modelId`; the word embedding table too, and
/// natively the loaded file is let go: about a quarter of the f32 memory.
///
/// Thread-safe and `Sendable`. Every failure throws `FerrovecError`.
public final class TextEncoder: Sendable {
    /// The generated object (every method of the Rust `Encoder`).
    public let raw: Encoder

    /// The model in directory `url` (`model.safetensors`, `config.json`, `tokenizer.json` or
    /// `vocab.txt`, optionally `1_Pooling/config.json` and `sentence_bert_config.json`) on
    /// `engine`, its weights at `precision`; the weights are read once. `.InvalidArgument`
    /// for a missing file, `.CorruptFile` for an invalid one, `.InvalidModule` for int8 on an
    /// interpreted engine whose encoder module cannot hold it.
    public init(contentsOf url: URL, engine: Engine = .shared, precision: Precision = .f32) throws {
        raw = try Encoder.loadWithPrecision(engine: engine, dir: url.path, precision: precision)
    }

    /// An encoder from the model's files in memory: `safetensors` is copied once into memory
    /// the encoder shares; give `tokenizerJson` or `vocabTxt`; no `poolingJson` means mean
    /// pooling, no `sentenceBertConfigJson` the model's own maximum length; `precision` as
    /// for `init(contentsOf:engine:precision:)`.
    public init(
        safetensors: Data,
        configJson: Data,
        tokenizerJson: Data? = nil,
        vocabTxt: Data? = nil,
        poolingJson: Data? = nil,
        sentenceBertConfigJson: Data? = nil,
        engine: Engine = .shared,
        precision: Precision = .f32
    ) throws {
        raw = try Encoder.fromBytesWithPrecision(
            engine: engine, safetensors: safetensors, configJson: configJson,
            tokenizerJson: tokenizerJson ?? Data(), vocabTxt: vocabTxt ?? Data(),
            poolingJson: poolingJson ?? Data(), sentenceBertConfigJson: sentenceBertConfigJson ?? Data(),
            precision: precision)
    }

    /// Length of the vectors (384 for all-MiniLM-L6-v2; 0 after `close()`).
    public var dims: Int { Int((try? raw.dims()) ?? 0) }

    /// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included.
    public var maxTokens: Int { Int((try? raw.maxTokens()) ?? 0) }

    /// A 64-bit fingerprint of the model, the same on every surface (0 after `close()`).
    public var modelId: UInt64 { (try? raw.modelId()) ?? 0 }

    /// Which backend runs this encoder.
    public var backend: BackendKind? { try? raw.kind() }

    /// How the weights are held, as loaded (nil after `close()`).
    public var precision: Precision? { try? raw.precision() }

    /// Threads one `embed` call may use (default 1).
    public var threads: Int { Int((try? raw.threads()) ?? 0) }

    /// Lets each later `embed` split its batch over up to `threads` threads (0: the
    /// machine's available parallelism).
    public func setThreads(_ threads: Int) throws {
        precondition(threads >= 0, "threads must be >= 0")
        try raw.setThreads(threads: UInt32(clamping: threads))
    }

    /// The token ids the model sees for `text` (`[CLS]` ... `[SEP]`), truncated to
    /// `maxTokens`.
    public func tokenize(_ text: String) throws -> [UInt32] {
        try raw.tokenize(text: text)
    }

    /// The unit-length vectors of `texts` in one flat array (`Embeddings`).
    public func embedFlat(_ texts: [String]) throws -> Embeddings {
        let out = try raw.embedArrays(texts: texts)
        return Embeddings(count: Int(out.n), dims: Int(out.dims), vectors: Vectors.floats(out.vectors))
    }

    /// The unit-length vector of each text.
    public func embed(_ texts: [String]) throws -> [[Float]] {
        try embedFlat(texts).rows
    }

    /// The unit-length vector of `text`.
    public func embed(_ text: String) throws -> [Float] {
        Vectors.floats(try raw.embedOne(text: text))
    }

    /// Frees the model now; later calls throw `.InvalidHandle`. Idempotent.
    public func close() { raw.release() }

    /// Whether `close()` was called.
    public var isClosed: Bool { raw.isReleased() }
}
