// The app's state: the item index, the search as you type, the backend switch. Observable
// with the Observation framework (no SwiftUI, no Combine), so it compiles and is tested on
// Linux too (Package.swift, `make test-swift`); ContentView binds to it.

import Foundation
import Observation

@MainActor
@Observable
final class SearchModel {
    /// The search text (the search field's binding); every change starts a new search and
    /// cancels the previous one.
    var query: String {
        get { queryText }
        set { queryText = newValue; scheduleSearch() }
    }

    /// The backend to search on (the segmented picker's binding); a change searches again.
    var backend: BackendChoice {
        get { backendChoice }
        set { backendChoice = newValue; scheduleSearch() }
    }

    private(set) var hits: [SearchHit] = []
    /// How long the last search took (nil while there is none).
    private(set) var lastSearch: Duration?
    private(set) var status = "Loading…"
    private(set) var index: ItemIndex?

    private var queryText = ""
    private var backendChoice = BackendChoice.native
    @ObservationIgnored private var searchTask: Task<Void, Never>?

    /// Nonisolated, so a view can create it in a property initializer (`@State private var
    /// model = SearchModel()`), which does not run on the main actor.
    nonisolated init() {}

    /// Loads the app bundle's items.json and builds the index on both backends.
    func load() async {
        await load(itemsAt: Bundle.main.url(forResource: "items", withExtension: "json"))
    }

    /// Loads the items at `url` and builds the index on both backends, off the main actor.
    func load(itemsAt url: URL?) async {
        guard let url else {
            status = "items.json is missing from the app bundle"
            return
        }
        do {
            let built = try await Task.detached(priority: .userInitiated) {
                try ItemIndex(items: ItemIndex.items(from: Data(contentsOf: url)))
            }.value
            index = built
            status = "\(built.count) items indexed"
            scheduleSearch()
        } catch {
            status = "Could not build the index: \(error)"
        }
    }

    /// Returns when the search started by the last change has finished (tests, previews).
    func searchFinished() async {
        await searchTask?.value
    }

    private func scheduleSearch() {
        searchTask?.cancel()
        let text = queryText.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, let index else {
            searchTask = nil
            hits = []
            lastSearch = nil
            return
        }
        let backend = backendChoice
        searchTask = Task {
            let clock = ContinuousClock()
            let start = clock.now
            do {
                // ItemIndex.search runs the search off the main actor.
                let found = try await index.search(text, on: backend)
                guard !Task.isCancelled else { return }
                hits = found
                lastSearch = start.duration(to: clock.now)
            } catch is CancellationError {
                // superseded by a newer keystroke before it started
            } catch {
                status = "Search failed: \(error)"
            }
        }
    }
}
