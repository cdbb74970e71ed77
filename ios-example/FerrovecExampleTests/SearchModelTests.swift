// NOT COMPILED OR RUN HERE (no Swift toolchain on the Linux build machines).
import XCTest
@testable import FerrovecExample

@MainActor
final class SearchModelTests: XCTestCase {
    func testVectorizerIsStableAndSimilarForPrefixes() {
        let v = TextVectorizer(dims: 256)
        XCTAssertEqual(v.vector("python3"), v.vector("python3"))
        func cosine(_ a: [Float], _ b: [Float]) -> Float {
            let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return dot / (na * nb)
        }
        XCTAssertGreaterThan(cosine(v.vector("pyth"), v.vector("python3")),
                             cosine(v.vector("pyth"), v.vector("coreutils")))
    }

    func testBothBackendsFindTheSameTopItem() async throws {
        let model = SearchModel()
        await model.load()
        model.query = "python"
        try await Task.sleep(for: .milliseconds(300))
        let native = model.hits.first?.item.title
        XCTAssertNotNil(native)
        model.backend = .interpreted
        try await Task.sleep(for: .milliseconds(600))
        XCTAssertEqual(model.hits.first?.item.title, native)
        XCTAssertNotNil(model.lastSearch)
    }
}
