// The sparse solver engine in Swift idiom: [Double] / [Int] in and out, throwing
// FerrovecError, on the generated `SparseMatrix` and `Graph` classes (their raw methods take
// little-endian bytes in `Data`; these take arrays and borrow their memory, no copy on the way
// in). Every result carries its report: the true residual, the error bound, the work, whether
// it converged and why it stopped. A budget that runs out is a result with
// `converged == false`, bad input a thrown `FerrovecError` that changes nothing.

import Foundation

/// The answer `x` of `A x = b` and how it was reached (`report.relativeResidual` is the true
/// residual of this `x`).
public struct Solution: Equatable {
    public let x: [Double]
    public let report: SolveReport
}

/// Every node's PageRank (summing to 1) and how far it can be from the fixed point:
/// `||scores - pi||_1 <= errorBound`.
public struct PageRank: Equatable {
    public let scores: [Double]
    public let iterations: Int
    public let l1Change: Double
    public let errorBound: Double
    public let converged: Bool
    public let stop: StopReason

    /// The `k` best `(node, score)`, by descending score, ties by node id.
    public func top(_ k: Int) -> [(node: Int, score: Double)] {
        scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(k).map { ($0, scores[$0]) }
    }
}

/// Sparse estimates of a push: `nodes` and their `scores` by descending score, ties by node
/// id; a node not listed has estimate 0. `report.errorBound` holds for every node.
public struct PushResult: Equatable {
    public let nodes: [Int]
    public let scores: [Double]
    public let report: PushReport

    /// `node -> score`.
    public var dictionary: [Int: Double] {
        Dictionary(uniqueKeysWithValues: zip(nodes, scores))
    }

    /// The estimates as a vector of `nodeCount` (zeros where not listed).
    public func dense(nodeCount: Int) -> [Double] {
        var out = [Double](repeating: 0, count: nodeCount)
        for (u, s) in zip(nodes, scores) { out[u] = s }
        return out
    }
}

/// The budgets the core starts with (pushes, walk steps): 2^34.
private let defaultBudget: UInt64 = 1 << 34

enum SolverBytes {
    /// Borrows the array's memory as `Data` for the duration of `body` (no copy).
    static func with<T, R>(_ values: [T], _ body: (Data) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return try body(Data()) }
            let borrowed = Data(
                bytesNoCopy: UnsafeMutableRawPointer(mutating: base),
                count: buffer.count * MemoryLayout<T>.stride,
                deallocator: .none)
            return try body(borrowed)
        }
    }

    /// Indices / node ids as u32, refusing what does not fit (naming `name`).
    static func indices(_ values: [Int], _ name: String) throws -> [UInt32] {
        try values.enumerated().map { i, v in
            guard let u = UInt32(exactly: v) else {
                throw FerrovecError.InvalidArgument(
                    message: "invalid argument: `\(name)` entry \(v) at position \(i) is not in [0, 2^32)")
            }
            return u
        }
    }

    static func count(_ v: Int, _ name: String) throws -> UInt64 {
        guard v >= 0 else {
            throw FerrovecError.InvalidArgument(message: "invalid argument: \(name) must be >= 0, got \(v)")
        }
        return UInt64(v)
    }

    static func node(_ v: Int, _ name: String) throws -> UInt32 {
        guard let u = UInt32(exactly: v) else {
            throw FerrovecError.InvalidArgument(message: "invalid argument: \(name): node \(v) is not a node id")
        }
        return u
    }

    static func doubles(_ data: Data) -> [Double] {
        let count = data.count / MemoryLayout<Double>.size
        return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = data.copyBytes(to: buffer)  // any alignment of the source
            initialized = count
        }
    }

    static func ints(_ data: Data) -> [Int] {
        let count = data.count / MemoryLayout<UInt32>.size
        let raw = [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = data.copyBytes(to: buffer)
            initialized = count
        }
        return raw.map { Int(UInt32(littleEndian: $0)) }
    }

    /// A sparse vector `index -> value` as (u32 indices, f64 values) bytes.
    static func sparse(_ values: [Int: Double], _ name: String) throws -> (Data, Data) {
        let keys = values.keys.sorted()
        let idx = try indices(keys, name)
        return (with(idx) { Data($0) }, with(keys.map { values[$0]! }) { Data($0) })
    }
}

private func solveConfig(
    rtol: Double, maxIterations: Int?, preconditioner: Preconditioner, symmetryTolerance: Double?
) throws -> SolveConfig {
    SolveConfig(
        rtol: rtol, maxIterations: try maxIterations.map { try SolverBytes.count($0, "maxIterations") },
        preconditioner: preconditioner, symmetryTolerance: symmetryTolerance)
}

/// Options of the local estimates (`solveEntry`, `solveFunctional`).
public struct LocalSolveOptions {
    /// Push until the deterministic bound is at most `tol`.
    public var tol: Double = 1e-6
    /// A promised dominance factor `q` (checked on every row read); nil: computed from all of A.
    public var dominance: Double?
    /// A promised bound on `|b_j / a_jj|`; nil: computed from b.
    public var cMax: Double?
    /// Random walks after the push (0: none, a deterministic bound).
    public var walks: UInt64 = 0
    /// Seed of the walks.
    public var seed: UInt64 = 0
    /// Probability that the walk-refined bound is exceeded.
    public var failureProbability: Double = 1e-3
    /// Push budget.
    public var maxPushes: UInt64 = 1 << 34
    /// Walk-step budget.
    public var maxWalkSteps: UInt64 = defaultBudget

    public init(tol: Double = 1e-6, dominance: Double? = nil, cMax: Double? = nil, walks: UInt64 = 0, seed: UInt64 = 0) {
        self.tol = tol
        self.dominance = dominance
        self.cMax = cMax
        self.walks = walks
        self.seed = seed
    }

    var config: LocalSolveConfig {
        LocalSolveConfig(
            tol: tol, dominance: dominance, cMax: cMax, maxPushes: maxPushes, walks: walks, seed: seed,
            failureProbability: failureProbability, maxWalkSteps: maxWalkSteps)
    }
}

public extension SparseMatrix {
    /// From `(rowIndices[k], columnIndices[k], values[k])` triplets in any order, duplicates
    /// summed, on `engine`'s backend.
    convenience init(
        rows: Int, columns: Int, rowIndices: [Int], columnIndices: [Int], values: [Double],
        engine: Engine = .shared
    ) throws {
        let r = try SolverBytes.indices(rowIndices, "rowIndices")
        let c = try SolverBytes.indices(columnIndices, "columnIndices")
        let nRows = try SolverBytes.count(rows, "rows")
        let nCols = try SolverBytes.count(columns, "columns")
        try self.init(
            engine: engine, nRows: nRows, nCols: nCols,
            rows: SolverBytes.with(r) { Data($0) }, cols: SolverBytes.with(c) { Data($0) },
            values: SolverBytes.with(values) { Data($0) })
    }

    /// From CSR arrays: row `i`'s entries are at `rowOffsets[i]..<rowOffsets[i + 1]`. Columns
    /// may come in any order and repeat (summed); `canonical: true` requires them strictly
    /// increasing (checked).
    static func csr(
        rows: Int, columns: Int, rowOffsets: [Int], columnIndices: [Int], values: [Double],
        canonical: Bool = false, engine: Engine = .shared
    ) throws -> SparseMatrix {
        let p = try SolverBytes.indices(rowOffsets, "rowOffsets")
        let c = try SolverBytes.indices(columnIndices, "columnIndices")
        let nRows = try SolverBytes.count(rows, "rows")
        let nCols = try SolverBytes.count(columns, "columns")
        return try SolverBytes.with(p) { pd in
            try SolverBytes.with(c) { cd in
                try SolverBytes.with(values) { vd in
                    try SparseMatrix.fromCsr(
                        engine: engine, nRows: nRows, nCols: nCols, indptr: pd, indices: cd, values: vd,
                        canonical: canonical)
                }
            }
        }
    }

    /// From the text of a Matrix Market `coordinate` file (`.CorruptFile` names the bad line).
    static func matrixMarket(_ text: String, engine: Engine = .shared) throws -> SparseMatrix {
        try SparseMatrix.fromMatrixMarket(engine: engine, text: Data(text.utf8))
    }

    /// `(rows, columns)` (zeros once released).
    var shape: (rows: Int, columns: Int) {
        (Int((try? nRows()) ?? 0), Int((try? nCols()) ?? 0))
    }

    /// The matrix as canonical CSR arrays (a copy).
    func csrArrays() throws -> (rowOffsets: [Int], columnIndices: [Int], values: [Double]) {
        let c = try toCsr()
        return (SolverBytes.ints(c.indptr), SolverBytes.ints(c.indices), SolverBytes.doubles(c.values))
    }

    /// `A x`.
    func multiply(_ x: [Double]) throws -> [Double] {
        try SolverBytes.doubles(SolverBytes.with(x) { try mulVec(x: $0) })
    }

    /// Conjugate gradient for symmetric positive definite A (scipy's recurrences and stopping
    /// rule). `maxIterations` nil: 10 n. `symmetryTolerance`: check symmetry first.
    func cg(
        _ b: [Double], rtol: Double = 1e-5, maxIterations: Int? = nil, x0: [Double]? = nil,
        preconditioner: Preconditioner = .none, symmetryTolerance: Double? = nil
    ) throws -> Solution {
        let config = try solveConfig(
            rtol: rtol, maxIterations: maxIterations, preconditioner: preconditioner,
            symmetryTolerance: symmetryTolerance)
        return try solve(b, x0) { try cg(b: $0, x0: $1, config: config) }
    }

    /// BiCGSTAB for general square A.
    func bicgstab(
        _ b: [Double], rtol: Double = 1e-5, maxIterations: Int? = nil, x0: [Double]? = nil,
        preconditioner: Preconditioner = .none
    ) throws -> Solution {
        let config = try solveConfig(
            rtol: rtol, maxIterations: maxIterations, preconditioner: preconditioner, symmetryTolerance: nil)
        return try solve(b, x0) { try bicgstab(b: $0, x0: $1, config: config) }
    }

    /// Jacobi iteration for strictly diagonally dominant A (checked: a violation names the first
    /// row), with `report.errorBound` on `||x* - x||_inf`.
    func jacobi(_ b: [Double], rtol: Double = 1e-5, maxIterations: Int? = nil, x0: [Double]? = nil) throws -> Solution {
        let config = try solveConfig(
            rtol: rtol, maxIterations: maxIterations, preconditioner: .none, symmetryTolerance: nil)
        return try solve(b, x0) { try jacobi(b: $0, x0: $1, config: config) }
    }

    /// `x_i` of `A x = b` for strictly diagonally dominant A, by push on the Neumann series,
    /// reading only rows near `row`.
    func solveEntry(_ b: [Double], row: Int, options: LocalSolveOptions = LocalSolveOptions()) throws -> LocalEstimate {
        let i = try SolverBytes.count(row, "row")
        return try SolverBytes.with(b) { try solveEntry(b: $0, i: i, config: options.config) }
    }

    /// `solveEntry` with a sparse b (`row -> value` for its non-zeros).
    func solveEntry(_ b: [Int: Double], row: Int, options: LocalSolveOptions = LocalSolveOptions()) throws -> LocalEstimate {
        let (bi, bv) = try SolverBytes.sparse(b, "b")
        return try solveEntrySparse(bIndices: bi, bValues: bv, i: try SolverBytes.count(row, "row"), config: options.config)
    }

    /// `u^T x` of `A x = b` for a sparse `u` (`index -> weight`), estimated locally.
    func solveFunctional(
        _ b: [Double], u: [Int: Double], options: LocalSolveOptions = LocalSolveOptions()
    ) throws -> LocalEstimate {
        let (ui, uv) = try SolverBytes.sparse(u, "u")
        return try SolverBytes.with(b) { try solveFunctional(b: $0, uIndices: ui, uValues: uv, config: options.config) }
    }

    private func solve(
        _ b: [Double], _ x0: [Double]?, _ body: (Data, Data) throws -> LinearSolution
    ) throws -> Solution {
        let s = try SolverBytes.with(b) { bd in try SolverBytes.with(x0 ?? []) { try body(bd, $0) } }
        return Solution(x: SolverBytes.doubles(s.x), report: s.report)
    }
}

public extension Graph {
    /// Edges `sources[k] -> targets[k]` over `nodeCount` nodes, weighted by `weights` (finite,
    /// `>= 0`; nil: 1 each). Repeated edges are summed.
    convenience init(
        nodeCount: Int, sources: [Int], targets: [Int], weights: [Double]? = nil, engine: Engine = .shared
    ) throws {
        let s = try SolverBytes.indices(sources, "sources")
        let t = try SolverBytes.indices(targets, "targets")
        // Empty weights read as "unweighted" on the Rust side: given ones must be one per edge.
        if let weights, weights.count != sources.count {
            throw FerrovecError.DimensionMismatch(
                message: "dimension mismatch: expected \(sources.count), got \(weights.count) (one weight per edge)")
        }
        try self.init(
            engine: engine, nNodes: try SolverBytes.count(nodeCount, "nodeCount"),
            src: SolverBytes.with(s) { Data($0) }, dst: SolverBytes.with(t) { Data($0) },
            weights: SolverBytes.with(weights ?? []) { Data($0) })
    }

    /// Nodes (0 once released).
    var nodeCount: Int { Int((try? nNodes()) ?? 0) }

    /// Distinct edges (0 once released).
    var edgeCount: Int { Int((try? nEdges()) ?? 0) }

    /// PageRank by power iteration, networkx's algorithm step for step; `personalization` /
    /// `dangling`: `node -> weight` (nil: uniform / the personalization). Not converging
    /// within `maxIterations` is `converged == false` (networkx raises), with the bound reached.
    func pagerank(
        alpha: Double = 0.85, personalization: [Int: Double]? = nil, dangling: [Int: Double]? = nil,
        tol: Double = 1e-6, maxIterations: Int = 100
    ) throws -> PageRank {
        func dist(_ w: [Int: Double]?, _ name: String) throws -> Personalization? {
            guard let w else { return nil }
            let (nodes, weights) = try SolverBytes.sparse(w, name)
            return .sparse(nodes: nodes, weights: weights)
        }
        let r = try pagerank(
            personalization: try dist(personalization, "personalization") ?? .uniform,
            dangling: try dist(dangling, "dangling"), start: nil,
            config: PageRankConfig(alpha: alpha, tol: tol, maxIter: try SolverBytes.count(maxIterations, "maxIterations")))
        return PageRank(
            scores: SolverBytes.doubles(r.scores), iterations: Int(r.iterations), l1Change: r.l1Change,
            errorBound: r.errorBound, converged: r.converged, stop: r.stop)
    }

    /// Personalized PageRank of `source` by forward push: every estimate a lower bound,
    /// `0 <= pi(v) - p(v)`, summing to `report.residualMass` (`<= eps * W(v)` per node on
    /// symmetric graphs).
    func forwardPush(
        from source: Int, alpha: Double = 0.85, eps: Double = 1e-4, maxPushes: UInt64 = 1 << 34, topK: Int? = nil
    ) throws -> PushResult {
        let config = PushConfig(
            alpha: alpha, eps: eps, maxPushes: maxPushes, topK: try topK.map { try SolverBytes.count($0, "topK") })
        return result(try forwardPush(source: .node(node: try SolverBytes.node(source, "source")), config: config))
    }

    /// Every source's PageRank of `target` by backward push:
    /// `0 <= pi_s(target) - p(s) <= report.errorBound` for every source `s`.
    func backwardPush(
        to target: Int, alpha: Double = 0.85, rMax: Double = 1e-4, maxPushes: UInt64 = 1 << 34, topK: Int? = nil
    ) throws -> PushResult {
        let config = BackwardPushConfig(
            alpha: alpha, rMax: rMax, maxPushes: maxPushes, topK: try topK.map { try SolverBytes.count($0, "topK") })
        return result(try backwardPush(target: try SolverBytes.node(target, "target"), config: config))
    }

    /// `pi_source(target)` by backward push plus seeded random walks (same seed, same result).
    func pair(
        from source: Int, to target: Int, alpha: Double = 0.85, rMax: Double = 1e-4, walks: UInt64 = 10_000,
        seed: UInt64 = 0, failureProbability: Double = 1e-3
    ) throws -> PairEstimate {
        try pair(
            source: try SolverBytes.node(source, "source"), target: try SolverBytes.node(target, "target"),
            config: PairConfig(
                alpha: alpha, rMax: rMax, walks: walks, seed: seed, failureProbability: failureProbability,
                maxPushes: defaultBudget, maxWalkSteps: defaultBudget))
    }

    private func result(_ r: PushOutcome) -> PushResult {
        PushResult(nodes: SolverBytes.ints(r.nodes), scores: SolverBytes.doubles(r.scores), report: r.report)
    }
}
