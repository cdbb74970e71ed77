// The bundled items and the same HNSW index over them on both backends. Platform-neutral (no
// SwiftUI): compiled and tested on Linux too (Package.swift, `make test-swift`).

import Ferrovec
import Foundation

struct Item: Codable, Identifiable, Hashable, Sendable {
    let id: UInt64
    let title: String
    let subtitle: String
}

enum BackendChoice: String, CaseIterable, Identifiable, Sendable {
    case native = "Native"
    case interpreted = "Interpreted"
    var id: String { rawValue }
}

struct SearchHit: Identifiable, Hashable, Sendable {
    let item: Item
    let distance: Float
    var id: UInt64 { item.id }
}

enum ItemIndexError: Error, Equatable {
    case duplicateID(UInt64)
}

/// The items, vectorized by `vectorizer`, in one cosine HNSW index per backend: natively, and
/// inside the wasm interpreter (the bundled simd128 module, with a fuel budget per call so a
/// runaway call cannot hang the app). Immutable once built, so any number of tasks may search
/// it at once.
final class ItemIndex: Sendable {
    let items: [UInt64: Item]
    let vectorizer: TextVectorizer
    private let indexes: [BackendChoice: VectorIndex]

    /// The items of an items.json (an array of `{id, title, subtitle}`).
    static func items(from data: Data) throws -> [Item] {
        try JSONDecoder().decode([Item].self, from: data)
    }

    init(items list: [Item], vectorizer: TextVectorizer = TextVectorizer(dims: 256),
         interpretedFuel: UInt64 = 500_000_000) throws {
        var byID: [UInt64: Item] = [:]
        for item in list {
            guard byID.updateValue(item, forKey: item.id) == nil else { throw ItemIndexError.duplicateID(item.id) }
        }
        let keys = list.map(\.id)
        let vectors = list.map { vectorizer.vector($0.title + " " + $0.subtitle) }
        var indexes: [BackendChoice: VectorIndex] = [:]
        for choice in BackendChoice.allCases {
            let engine = choice == .native ? Engine.native() : try Engine.interpreted(fuel: interpretedFuel)
            let index = try VectorIndex(dims: vectorizer.dims, metric: .cosine, hnsw: .standard, engine: engine)
            try index.add(keys: keys, vectors: vectors)
            indexes[choice] = index
        }
        self.items = byID
        self.vectorizer = vectorizer
        self.indexes = indexes
    }

    var count: Int { items.count }

    /// The `k` items nearest to `text`, nearest first, searched off the calling actor.
    func search(_ text: String, on backend: BackendChoice, k: Int = 20) async throws -> [SearchHit] {
        guard let index = indexes[backend] else { return [] }
        let found = try await index.searchInBackground(vectorizer.vector(text), k: k)
        return found.compactMap { m in items[m.key].map { SearchHit(item: $0, distance: m.distance) } }
    }
}
