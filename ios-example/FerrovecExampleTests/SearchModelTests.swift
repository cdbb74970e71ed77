// The app's non-UI part: the vectorizer, the item index on both backends, the search model.
// Runs in the Xcode project's test target (iOS) and with `swift test` (Package.swift; on
// Linux in `make test-swift`).
import Foundation
import XCTest
@testable import FerrovecExample

// Not `@MainActor` on the class: swift-corelibs-xctest (Linux) calls synchronous test methods
// from a nonisolated context. The tests that touch the model are `@MainActor` each.
final class SearchModelTests: XCTestCase {
    /// items.json: from the app bundle when the tests run inside the app, else from the source
    /// tree (swift test).
    private let itemsURL: URL = Bundle.main.url(forResource: "items", withExtension: "json")
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FerrovecExample/Resources/items.json")

    private func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return dot / (na * nb)
    }

    func testVectorizerIsStableAndSimilarForPrefixesAndTypos() {
        let v = TextVectorizer(dims: 256)
        XCTAssertEqual(v.vector("python3").count, 256)
        XCTAssertEqual(v.vector("python3"), v.vector("python3"))
        XCTAssertEqual(v.vector("Python3"), v.vector("python3"), "case-insensitive")
        // FNV-1a, not Swift's per-process seeded Hasher: the same buckets in every process.
        // " ab" / "ab " are the only trigrams of "ab"; pinned so a hashing change (which would
        // invalidate stored vectors) fails here.
        let ab = v.vector("ab")
        XCTAssertEqual(ab.filter { $0 != 0 }.count, 2)
        XCTAssertEqual(ab.map(abs).reduce(0, +), 2)
        XCTAssertEqual(v.vector("a"), v.vector("A"))
        XCTAssertEqual(v.vector(""), [Float](repeating: 0, count: 256), "\"\" is two spaces of padding: no trigram")
        XCTAssertGreaterThan(cosine(v.vector("pyth"), v.vector("python3")),
                             cosine(v.vector("pyth"), v.vector("coreutils")))
        XCTAssertGreaterThan(cosine(v.vector("pyhton"), v.vector("python")),
                             cosine(v.vector("pyhton"), v.vector("openssh-client")))
    }

    func testItemIndexFindsItemsOnBothBackends() async throws {
        let items = try ItemIndex.items(from: Data(contentsOf: itemsURL))
        XCTAssertEqual(items.count, 289)
        let index = try ItemIndex(items: items)
        XCTAssertEqual(index.count, 289)
        // An item's own text finds that item first (the same vector: distance 0), on both
        // backends.
        for item in stride(from: 0, to: items.count, by: 17).map({ items[$0] }) {
            let text = item.title + " " + item.subtitle
            for backend in BackendChoice.allCases {
                let hits = try await index.search(text, on: backend)
                XCTAssertEqual(hits.count, 20)
                XCTAssertEqual(hits.first?.item, item, "\(backend) \(text)")
                XCTAssertEqual(Double(hits.first?.distance ?? 1), 0, accuracy: 1e-5, "\(backend) \(text)")
                XCTAssertEqual(hits.map(\.distance), hits.map(\.distance).sorted(), "nearest first")
            }
        }
        // A prefix: the same top item on both backends, distances within the documented bound
        // across backends (cosine: 2e-5 each).
        let native = try await index.search("pyth", on: .native)
        let interpreted = try await index.search("pyth", on: .interpreted)
        XCTAssertTrue(native.first?.item.title.contains("python") ?? false, "\(native.first?.item.title ?? "nothing")")
        XCTAssertEqual(interpreted.first?.item, native.first?.item)
        XCTAssertEqual(Double(interpreted.first?.distance ?? -1), Double(native.first?.distance ?? 1), accuracy: 4e-5)
        XCTAssertThrowsError(try ItemIndex(items: [items[0], items[0]])) { error in
            XCTAssertEqual(error as? ItemIndexError, .duplicateID(items[0].id))
        }
    }

    @MainActor
    func testModelSearchesAsYouTypeOnBothBackends() async throws {
        let model = SearchModel()
        XCTAssertEqual(model.status, "Loading…")
        await model.load(itemsAt: itemsURL)
        XCTAssertEqual(model.status, "289 items indexed")
        let index = try XCTUnwrap(model.index)

        // Keystrokes faster than the searches: the last one wins.
        for prefix in ["p", "py", "pyt", "pyth", "pytho", "python"] { model.query = prefix }
        await model.searchFinished()
        let native = model.hits
        let direct = try await index.search("python", on: .native)
        XCTAssertEqual(native, direct)
        XCTAssertTrue(native.first?.item.title.contains("python") ?? false, "\(native.first?.item.title ?? "nothing")")
        XCTAssertNotNil(model.lastSearch)

        model.backend = .interpreted
        await model.searchFinished()
        XCTAssertEqual(model.hits.first?.item, native.first?.item)
        let interpreted = try await index.search("python", on: .interpreted)
        XCTAssertEqual(model.hits, interpreted)

        model.query = "   "
        await model.searchFinished()
        XCTAssertEqual(model.hits, [])
        XCTAssertNil(model.lastSearch)
    }

    @MainActor
    func testLoadFailuresAreReported() async {
        let model = SearchModel()
        await model.load(itemsAt: nil)
        XCTAssertEqual(model.status, "items.json is missing from the app bundle")
        await model.load(itemsAt: URL(fileURLWithPath: "/nonexistent/items.json"))
        XCTAssertTrue(model.status.hasPrefix("Could not build the index"), model.status)
        model.query = "python"
        await model.searchFinished()
        XCTAssertEqual(model.hits, [], "no index, no hits")
    }
}
