// The app's state: the bundled items, one index per backend, and the search as you type.
//
// NOT COMPILED HERE (no Swift toolchain on the Linux build machines).

import Ferrovec
import Foundation

struct Item: Codable, Identifiable, Sendable {
    let id: UInt64
    let title: String
    let subtitle: String
}

enum BackendChoice: String, CaseIterable, Identifiable {
    case native = "Native"
    case interpreted = "Interpreted"
    var id: String { rawValue }
}

struct SearchHit: Identifiable {
    let item: Item
    let distance: Float
    var id: UInt64 { item.id }
}

@MainActor
final class SearchModel: ObservableObject {
    @Published var query = "" { didSet { scheduleSearch() } }
    @Published var backend: BackendChoice = .native { didSet { scheduleSearch() } }
    @Published private(set) var hits: [SearchHit] = []
    @Published private(set) var lastSearch: Duration?
    @Published private(set) var status = "Loading…"

    private let vectorizer = TextVectorizer(dims: 256)
    private var items: [UInt64: Item] = [:]
    private var indexes: [BackendChoice: VectorIndex] = [:]
    private var searchTask: Task<Void, Never>?

    /// Loads the bundled items and builds the same HNSW index on both backends: natively,
    /// and inside the wasm interpreter (the bundled simd128 module, with a fuel budget so a
    /// runaway call cannot hang the UI).
    func load() async {
        do {
            guard let url = Bundle.main.url(forResource: "items", withExtension: "json") else {
                status = "items.json is missing from the app bundle"
                return
            }
            let list = try JSONDecoder().decode([Item].self, from: Data(contentsOf: url))
            items = Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
            let keys = list.map(\.id)
            let vectors = list.map { vectorizer.vector($0.title + " " + $0.subtitle) }
            let engines: [(BackendChoice, Engine)] = [
                (.native, Engine.native()),
                (.interpreted, try Engine.interpreted(fuel: 500_000_000)),
            ]
            for (choice, engine) in engines {
                let index = try VectorIndex(
                    dims: vectorizer.dims, metric: .cosine, hnsw: .standard, engine: engine)
                try index.add(keys: keys, vectors: vectors)
                indexes[choice] = index
            }
            status = "\(list.count) items indexed"
            scheduleSearch()
        } catch {
            status = "Could not build the index: \(error)"
        }
    }

    private func scheduleSearch() {
        searchTask?.cancel()
        let text = query.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, let index = indexes[backend] else {
            hits = []
            lastSearch = nil
            return
        }
        let q = vectorizer.vector(text)
        searchTask = Task {
            let clock = ContinuousClock()
            do {
                var found: [Match] = []
                // The async search runs off the main actor.
                let elapsed = try await clock.measure {
                    found = try await index.search(q, k: 20)
                }
                guard !Task.isCancelled else { return }
                hits = found.compactMap { m in items[m.key].map { SearchHit(item: $0, distance: m.distance) } }
                lastSearch = elapsed
            } catch {
                status = "Search failed: \(error)"
            }
        }
    }
}
