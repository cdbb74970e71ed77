// The SwiftUI view (Apple platforms only; not compiled on Linux, see README.md). The state
// lives in SearchModel, which is compiled and tested on Linux too.

import SwiftUI

struct ContentView: View {
    @State private var model = SearchModel()

    var body: some View {
        NavigationStack {
            VStack(spacing: 8) {
                Picker("Backend", selection: $model.backend) {
                    ForEach(BackendChoice.allCases) { Text($0.rawValue).tag($0) }
                }
                .pickerStyle(.segmented)
                .padding(.horizontal)

                HStack {
                    Text(model.status).font(.footnote).foregroundStyle(.secondary)
                    Spacer()
                    if let t = model.lastSearch {
                        Text("\(model.backend.rawValue): \(t.formatted(.units(allowed: [.microseconds, .milliseconds], width: .abbreviated)))")
                            .font(.footnote.monospacedDigit())
                            .accessibilityIdentifier("searchTime")
                    }
                }
                .padding(.horizontal)

                List(model.hits) { hit in
                    VStack(alignment: .leading) {
                        HStack {
                            Text(hit.item.title).font(.headline)
                            Spacer()
                            Text(String(format: "%.3f", hit.distance))
                                .font(.caption.monospacedDigit())
                                .foregroundStyle(.secondary)
                        }
                        Text(hit.item.subtitle).font(.subheadline).foregroundStyle(.secondary)
                    }
                }
                .listStyle(.plain)
            }
            .navigationTitle("ferrovec")
            .searchable(text: $model.query, prompt: "Search packages")
            .autocorrectionDisabled()
            .task { await model.load() }
        }
    }
}
