import Foundation
import XCTest
@testable import Ferrovec

/// The sparse solver engine through the Swift layer (native backend): solutions against a
/// dense Gaussian elimination with the true residual recomputed here, PageRank against
/// networkx's numbers and an exact dense solve, the push guarantees on every node, bad input.
final class SolverTests: XCTestCase {
    private struct Triplets {
        let n: Int
        let rows: [Int]
        let cols: [Int]
        let values: [Double]

        var dense: [[Double]] {
            var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for k in rows.indices { a[rows[k]][cols[k]] += values[k] }
            return a
        }
    }

    private func unit(_ rng: inout SeededRandom) -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// A random sparse matrix with a dominant diagonal; `spd`: symmetric with a positive diagonal.
    private func generate(_ n: Int, seed: UInt64, spd: Bool, margin: Double = 1.5) -> Triplets {
        var rng = SeededRandom(seed: seed)
        var entries: [Int: Double] = [:]  // i * n + j
        for _ in 0..<(4 * n) {
            let i = Int(rng.next() % UInt64(n)), j = Int(rng.next() % UInt64(n))
            guard i != j else { continue }
            let v = unit(&rng) * 2 - 1
            entries[i * n + j] = v
            if spd { entries[j * n + i] = v }
        }
        var rowSum = [Double](repeating: 0, count: n)
        for (k, v) in entries { rowSum[k / n] += abs(v) }
        for i in 0..<n {
            let d = margin * rowSum[i] + 0.5 + unit(&rng)
            entries[i * n + i] = spd || rng.next() % 2 == 0 ? d : -d
        }
        let keys = entries.keys.sorted()
        return Triplets(n: n, rows: keys.map { $0 / n }, cols: keys.map { $0 % n }, values: keys.map { entries[$0]! })
    }

    private func matrix(_ t: Triplets) throws -> SparseMatrix {
        try SparseMatrix(rows: t.n, columns: t.n, rowIndices: t.rows, columnIndices: t.cols, values: t.values)
    }

    private func mul(_ a: [[Double]], _ x: [Double]) -> [Double] {
        a.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    private func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    private func trueResidual(_ a: [[Double]], _ x: [Double], _ b: [Double]) -> Double {
        norm(zip(b, mul(a, x)).map { $0 - $1 }) / norm(b)
    }

    /// Gaussian elimination with partial pivoting.
    private func denseSolve(_ a0: [[Double]], _ b0: [Double]) -> [Double] {
        var a = a0, b = b0
        let n = b.count
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, p)
            b.swapAt(c, p)
            for r in (c + 1)..<max(n, c + 1) where a[r][c] != 0 {
                let f = a[r][c] / a[c][c]
                for k in c..<n { a[r][k] -= f * a[c][k] }
                b[r] -= f * b[c]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for k in (r + 1)..<max(n, r + 1) { s -= a[r][k] * x[k] }
            x[r] = s / a[r][r]
        }
        return x
    }

    private func rhs(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in unit(&rng) * 2 - 1 }
    }

    func testCgBicgstabJacobiWithTheTrueResidual() throws {
        let t = generate(100, seed: 1, spd: true)
        let a = t.dense, b = rhs(100, seed: 1)
        let exact = denseSolve(a, b)
        let m = try matrix(t)
        XCTAssertEqual(m.shape.rows, 100)
        let s = try m.cg(b, rtol: 1e-10)
        let r = trueResidual(a, s.x, b)
        XCTAssertTrue(s.report.converged)
        XCTAssertEqual(s.report.stop, .converged)
        XCTAssertLessThanOrEqual(r, 1e-10)
        XCTAssertEqual(s.report.relativeResidual, r, accuracy: 1e-6 * r + 1e-16)
        XCTAssertNil(s.report.errorBound)
        for i in exact.indices { XCTAssertEqual(s.x[i], exact[i], accuracy: 1e-8 * (1 + abs(exact[i]))) }
        let pre = try m.cg(b, rtol: 1e-10, preconditioner: .jacobi, symmetryTolerance: 1e-10)
        XCTAssertTrue(pre.report.converged)
        XCTAssertLessThanOrEqual(trueResidual(a, pre.x, b), 1e-10)

        let n = generate(120, seed: 2, spd: false)
        let an = n.dense, bn = rhs(120, seed: 2)
        let exactN = denseSolve(an, bn)
        let mn = try matrix(n)
        let bi = try mn.bicgstab(bn, rtol: 1e-10)
        XCTAssertTrue(bi.report.converged)
        XCTAssertLessThanOrEqual(trueResidual(an, bi.x, bn), 1e-10)
        let j = try mn.jacobi(bn, rtol: 1e-9)
        XCTAssertTrue(j.report.converged)
        let err = zip(exactN, j.x).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(err, j.report.errorBound! * (1 + 1e-9) + 1e-14)
        XCTAssertLessThan(j.report.contraction!, 1)
        // A budget is a result, not an error, and its residual is the true one.
        let short = try m.cg(b, rtol: 1e-14, maxIterations: 2)
        XCTAssertFalse(short.report.converged)
        XCTAssertEqual(short.report.stop, .maxIterations)
        XCTAssertEqual(short.report.relativeResidual, trueResidual(a, short.x, b), accuracy: 1e-6 * short.report.relativeResidual)
    }

    func testLocalEstimatesAndConversions() throws {
        let t = generate(200, seed: 3, spd: false, margin: 2)
        let a = t.dense, b = rhs(200, seed: 3)
        let exact = denseSolve(a, b)
        let m = try matrix(t)
        for i in [0, 77, 199] {
            let e = try m.solveEntry(b, row: i, options: LocalSolveOptions(tol: 1e-9))
            XCTAssertTrue(e.converged)
            XCTAssertLessThanOrEqual(abs(e.estimate - exact[i]), e.errorBound + 1e-12)
        }
        let f = try m.solveFunctional(b, u: [0: 0.5, 9: 2], options: LocalSolveOptions(tol: 1e-9))
        XCTAssertLessThanOrEqual(abs(f.estimate - (0.5 * exact[0] + 2 * exact[9])), f.errorBound + 1e-12)
        var sparse = [Double](repeating: 0, count: 200)
        sparse[5] = 1
        let e = try m.solveEntry([5: 1.0], row: 5, options: LocalSolveOptions(tol: 1e-10, dominance: 0.5))
        XCTAssertLessThanOrEqual(abs(e.estimate - denseSolve(a, sparse)[5]), e.errorBound + 1e-12)

        // [[2, 0], [1, 3]] from CSR, multiplied, out as CSR and Matrix Market.
        let csr = try SparseMatrix.csr(rows: 2, columns: 2, rowOffsets: [0, 1, 3], columnIndices: [0, 1, 0], values: [2, 3, 1])
        XCTAssertEqual(try csr.multiply([1, 1]), [2, 4])
        let arrays = try csr.csrArrays()
        XCTAssertEqual(arrays.rowOffsets, [0, 1, 3])
        XCTAssertEqual(arrays.columnIndices, [0, 0, 1])
        XCTAssertEqual(arrays.values, [2, 1, 3])
        let again = try SparseMatrix.matrixMarket(try csr.toMatrixMarket(symmetry: .general))
        XCTAssertEqual(try again.csrArrays().values, arrays.values)
    }

    // ------------------------------------------------------------------ PageRank

    private struct Edges {
        let n: Int
        let src: [Int]
        let dst: [Int]
        let w: [Double]
    }

    private func randomGraph(_ n: Int, seed: UInt64, symmetric: Bool) -> Edges {
        var rng = SeededRandom(seed: seed)
        var s: [Int] = [], d: [Int] = [], w: [Double] = []
        for u in 0..<n {
            for v in 0..<n where u != v && (!symmetric || u < v) && unit(&rng) < 0.08 {
                let x = 0.2 + 2 * unit(&rng)
                s.append(u); d.append(v); w.append(x)
                if symmetric { s.append(v); d.append(u); w.append(x) }
            }
        }
        if symmetric {
            for u in 0..<(n - 1) { s += [u, u + 1]; d += [u + 1, u]; w += [1, 1] }
        }
        return Edges(n: n, src: s, dst: d, w: w)
    }

    /// networkx's PageRank by a dense solve: dangling rows go to the personalization `s`.
    private func exactPpr(_ e: Edges, _ s: [Double], alpha: Double) -> [Double] {
        let n = e.n
        var adj = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for k in e.src.indices { adj[e.src[k]][e.dst[k]] += e.w[k] }
        var m = (0..<n).map { i in (0..<n).map { j in i == j ? 1.0 : 0.0 } }
        for u in 0..<n {
            let out = adj[u].reduce(0, +)
            for v in 0..<n { m[v][u] -= alpha * (out > 0 ? adj[u][v] / out : s[v]) }
        }
        let pi = denseSolve(m, s.map { (1 - alpha) * $0 })
        let total = pi.reduce(0, +)
        return pi.map { $0 / total }
    }

    func testPagerankMatchesNetworkx() throws {
        // 0 -> 1, 1 -> 2, 2 -> 0, 2 -> 3 (3 dangling): networkx.pagerank(G) (networkx 3.6.1).
        let g = try Graph(nodeCount: 4, sources: [0, 1, 2, 2], targets: [1, 2, 0, 3])
        let pr = try g.pagerank()
        XCTAssertTrue(pr.converged)
        XCTAssertEqual(pr.scores[2], 0.3078526047028215, accuracy: 1e-12)
        XCTAssertEqual(pr.top(2).map(\.node), [2, 1])
        let budget = try g.pagerank(maxIterations: 2)
        XCTAssertFalse(budget.converged)
        XCTAssertEqual(budget.stop, .maxIterations)

        let e = randomGraph(50, seed: 5, symmetric: false)
        let h = try Graph(nodeCount: e.n, sources: e.src, targets: e.dst, weights: e.w)
        var s = [Double](repeating: 0, count: e.n)
        s[3] = 0.25
        s[7] = 0.75
        let exact = exactPpr(e, s, alpha: 0.7)
        let p = try h.pagerank(alpha: 0.7, personalization: [3: 1, 7: 3], tol: 1e-10)
        let l1 = zip(exact, p.scores).map { abs($0 - $1) }.reduce(0, +)
        XCTAssertLessThanOrEqual(l1, p.errorBound + 1e-12)
    }

    func testPushGuaranteesOnEveryNode() throws {
        for (seed, symmetric) in [(UInt64(1), true), (2, false)] {
            let e = randomGraph(60, seed: seed, symmetric: symmetric)
            var degree = [Double](repeating: 0, count: e.n)
            for k in e.src.indices { degree[e.src[k]] += e.w[k] }
            let g = try Graph(nodeCount: e.n, sources: e.src, targets: e.dst, weights: e.w)
            for source in [0, 31] {
                for eps in [1e-3, 1e-6] {
                    let r = try g.forwardPush(from: source, eps: eps)
                    XCTAssertTrue(r.report.converged)
                    var unitS = [Double](repeating: 0, count: e.n)
                    unitS[source] = 1
                    let exact = exactPpr(e, unitS, alpha: 0.85)
                    let p = r.dense(nodeCount: e.n)
                    var gapSum = 0.0
                    for v in 0..<e.n {
                        let gap = exact[v] - p[v]
                        gapSum += gap
                        XCTAssertGreaterThanOrEqual(gap, -1e-12, "node \(v)")
                        if symmetric { XCTAssertLessThanOrEqual(gap, eps * degree[v] + 1e-12, "node \(v)") }
                    }
                    XCTAssertEqual(gapSum, r.report.residualMass, accuracy: 1e-10)
                }
            }
            if !symmetric {
                let all = (0..<e.n).map { s -> [Double] in
                    var u = [Double](repeating: 0, count: e.n)
                    u[s] = 1
                    return exactPpr(e, u, alpha: 0.85)
                }
                let r = try g.backwardPush(to: 13, rMax: 1e-6)
                let p = r.dense(nodeCount: e.n)
                for s in 0..<e.n {
                    let gap = all[s][13] - p[s]
                    XCTAssertGreaterThanOrEqual(gap, -1e-12)
                    XCTAssertLessThanOrEqual(gap, r.report.errorBound + 1e-12)
                }
                let est = try g.pair(from: 0, to: 13, walks: 20_000, seed: 1)
                XCTAssertLessThanOrEqual(abs(est.estimate - all[0][13]), est.errorBound + 1e-12)
                XCTAssertEqual(est, try g.pair(from: 0, to: 13, walks: 20_000, seed: 1))
            }
        }
    }

    // ------------------------------------------------------------------ bad input

    private func assertThrowsFerrovec(
        _ expression: @autoclosure () throws -> Any, containing text: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let e = error as? FerrovecError else { return XCTFail("not a FerrovecError: \(error)", file: file, line: line) }
            XCTAssertTrue(e.message.contains(text), "\(e.message) lacks \(text)", file: file, line: line)
        }
    }

    func testBadInputThrowsTypedErrors() throws {
        let t = generate(20, seed: 4, spd: true)
        let m = try matrix(t)
        let b = rhs(20, seed: 4)
        let before = try m.cg(b, rtol: 1e-10).x
        let rect = try SparseMatrix(rows: 3, columns: 4, rowIndices: [0, 1], columnIndices: [3, 1], values: [1, 2])
        assertThrowsFerrovec(try rect.cg([1, 1, 1]), containing: "dimension mismatch")
        assertThrowsFerrovec(try m.bicgstab([Double](repeating: 1, count: 19)), containing: "expected 20, got 19")
        var nan = b
        nan[3] = .nan
        assertThrowsFerrovec(try m.cg(nan), containing: "not finite")
        assertThrowsFerrovec(try SparseMatrix(rows: 1, columns: 1, rowIndices: [0], columnIndices: [0], values: [.infinity]), containing: "not finite")
        let empty = try SparseMatrix(rows: 0, columns: 0, rowIndices: [], columnIndices: [], values: [])
        assertThrowsFerrovec(try empty.cg([]), containing: "empty")
        let zeroDiag = try SparseMatrix(rows: 2, columns: 2, rowIndices: [0, 0, 1], columnIndices: [0, 1, 0], values: [4, 1, 1])
        assertThrowsFerrovec(try zeroDiag.jacobi([1, 1]), containing: "row 1")
        assertThrowsFerrovec(try m.solveEntry(b, row: 20), containing: "out of range")
        assertThrowsFerrovec(try m.solveEntry(b, row: 0, options: LocalSolveOptions(tol: 0)), containing: "tol")
        assertThrowsFerrovec(try SparseMatrix(rows: 2, columns: 2, rowIndices: [-1], columnIndices: [0], values: [1]), containing: "rowIndices")
        XCTAssertEqual(try m.cg(b, rtol: 1e-10).x, before)

        let g = try Graph(nodeCount: 4, sources: [0, 1, 2, 2], targets: [1, 2, 0, 3])
        assertThrowsFerrovec(try g.forwardPush(from: 4), containing: "is not a node")
        assertThrowsFerrovec(try g.backwardPush(to: 4), containing: "is not a node")
        assertThrowsFerrovec(try g.pair(from: 0, to: 4), containing: "is not a node")
        assertThrowsFerrovec(try g.pagerank(personalization: [9: 1]), containing: "is not a node")
        assertThrowsFerrovec(try g.forwardPush(from: -1), containing: "not a node")
        for bad in [0.0, -1e-4, .nan] {
            assertThrowsFerrovec(try g.forwardPush(from: 0, eps: bad), containing: "eps")
            assertThrowsFerrovec(try g.backwardPush(to: 0, rMax: bad), containing: "r_max")
        }
        for alpha in [0.0, 1.0, 1.5, -0.1] {
            assertThrowsFerrovec(try g.pagerank(alpha: alpha), containing: "alpha")
            assertThrowsFerrovec(try g.forwardPush(from: 0, alpha: alpha), containing: "alpha")
            assertThrowsFerrovec(try g.backwardPush(to: 0, alpha: alpha), containing: "alpha")
            assertThrowsFerrovec(try g.pair(from: 0, to: 1, alpha: alpha), containing: "alpha")
        }
        assertThrowsFerrovec(try Graph(nodeCount: 0, sources: [], targets: []).pagerank(), containing: "no nodes")
        assertThrowsFerrovec(try Graph(nodeCount: 2, sources: [0], targets: [1], weights: []), containing: "one weight per edge")
        XCTAssertTrue(try g.pagerank().converged)
        g.release()
        XCTAssertThrowsError(try g.pagerank()) { XCTAssertEqual(($0 as? FerrovecError).map { "\($0)" }?.contains("InvalidHandle"), true) }
    }
}
