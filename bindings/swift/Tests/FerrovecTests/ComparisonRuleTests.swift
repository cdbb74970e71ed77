import XCTest
@testable import Ferrovec

/// The comparison rules the other tests rely on reject wrong results (a rule that accepts
/// everything would make those tests pass on anything).
final class ComparisonRuleTests: XCTestCase {
    private let want = [Match(key: 1, distance: 0.10), Match(key: 2, distance: 0.20),
                        Match(key: 3, distance: 0.30), Match(key: 4, distance: 0.40)]
    private let tol: Float = 1e-5

    func testNeighborRuleAcceptsTheContract() {
        XCTAssertEqual(neighborDifferences(want, want, tol: tol), [])
        // Last bits differ.
        let nudged = want.map { Match(key: $0.key, distance: $0.distance.nextUp) }
        XCTAssertEqual(neighborDifferences(nudged, want, tol: tol), [])
        // A near-tie swaps ranks.
        let tied = [Match(key: 1, distance: 0.1), Match(key: 2, distance: 0.2),
                    Match(key: 3, distance: 0.2 + 5e-6)]
        let swapped = [Match(key: 1, distance: 0.1), Match(key: 3, distance: 0.2 + 4e-6),
                       Match(key: 2, distance: 0.2 + 1e-6)]
        XCTAssertEqual(neighborDifferences(swapped, tied, tol: tol), [])
        // The last place goes to another key at (nearly) the same distance.
        var traded = want
        traded[3] = Match(key: 9, distance: 0.4 + 2e-6)
        XCTAssertEqual(neighborDifferences(traded, want, tol: tol), [])
    }

    func testNeighborRuleRejectsWrongResults() {
        // Swapped keys whose distances are not close.
        var swapped = want
        swapped.swapAt(0, 1)
        XCTAssertFalse(neighborDifferences(swapped, want, tol: tol).isEmpty)
        // One distance off by more than tol.
        var off = want
        off[2] = Match(key: 3, distance: 0.30 + 4 * tol)
        XCTAssertFalse(neighborDifferences(off, want, tol: tol).isEmpty)
        // A true neighbor missing, a far key in its place at the end.
        let missing = [want[0], want[2], want[3], Match(key: 9, distance: 0.4)]
        XCTAssertFalse(neighborDifferences(missing, want, tol: tol).isEmpty)
        // Too few.
        XCTAssertFalse(neighborDifferences(Array(want.prefix(3)), want, tol: tol).isEmpty)
    }

    func testGoldenRule() {
        XCTAssertTrue(Golden.ok(.nan, "NaN", tol: nil))
        XCTAssertFalse(Golden.ok(1, "NaN", tol: nil))
        XCTAssertTrue(Golden.ok(.infinity, "Infinity", tol: nil))
        XCTAssertFalse(Golden.ok(.infinity, "-Infinity", tol: nil))
        XCTAssertTrue(Golden.ok(1.0 + 1e-7, NSNumber(value: 1.0), tol: NSNumber(value: 1e-6)))
        XCTAssertFalse(Golden.ok(1.0 + 1e-5, NSNumber(value: 1.0), tol: NSNumber(value: 1e-6)))
        XCTAssertFalse(Golden.ok(.nan, NSNumber(value: 1.0), tol: NSNumber(value: 1e-6)))
        XCTAssertTrue(Golden.ok(7, NSNumber(value: 7), tol: nil), "integers: exact")
        XCTAssertFalse(Golden.ok(7.5, NSNumber(value: 7), tol: nil))
    }
}
