// Shared by the test cases: the golden files (tests/golden), the backends, a seeded RNG, the
// cross-backend comparison rule and SHA-256 (Foundation on Linux has no CryptoKit).
import Foundation
import XCTest
@testable import Ferrovec

enum Backend: String, CaseIterable {
    case native
    case interpretedSimd = "interpreted-simd"
    case interpretedScalar = "interpreted-scalar"

    /// The backends an index runs on (the scalar module runs the same index code).
    static let forIndex: [Backend] = [.native, .interpretedSimd]

    func engine() throws -> Engine {
        switch self {
        case .native: return Engine.native()
        case .interpretedSimd: return try Engine.interpreted()
        case .interpretedScalar: return try Engine.interpreted(simd: false)
        }
    }
}

/// The repository root: from `FERROVEC_ROOT`, else three levels above this file
/// (bindings/swift/Tests/FerrovecTests/Support.swift).
let repositoryRoot: URL = {
    if let root = ProcessInfo.processInfo.environment["FERROVEC_ROOT"] {
        return URL(fileURLWithPath: root)
    }
    return URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}()

/// tests/golden (README.md there has the schema and the comparison rule).
enum Golden {
    static let dir = repositoryRoot.appendingPathComponent("tests/golden")

    static func load(_ name: String) throws -> [String: Any] {
        let url = dir.appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        guard let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw GoldenError.malformed("\(url.path) is not a JSON object")
        }
        return doc
    }

    /// A JSON number (JSONSerialization returns NSNumber, Double or Int depending on the
    /// platform and the literal).
    static func number(_ v: Any?) -> Double? {
        switch v {
        case let d as Double: return d
        case let i as Int: return Double(i)
        case let n as NSNumber: return n.doubleValue
        default: return nil
        }
    }

    /// A golden f32 value: a number, or "NaN" / "Infinity" / "-Infinity".
    static func value(_ v: Any?) -> Double {
        if let d = number(v) { return d }
        switch v as? String {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: fatalError("not a golden number: \(String(describing: v))")
        }
    }

    static func int(_ v: Any?) -> Int {
        guard let d = number(v), let i = Int(exactly: d) else { fatalError("not an integer: \(String(describing: v))") }
        return i
    }

    static func uint64(_ v: Any?) -> UInt64 { UInt64(int(v)) }
    static func floats(_ v: Any?) -> [Float] { (v as! [Any]).map { Float(value($0)) } }
    static func ints(_ v: Any?) -> [Int] { (v as! [Any]).map { int($0) } }
    static func int8s(_ v: Any?) -> [Int8] { ints(v).map { Int8($0) } }
    static func bytes(_ v: Any?) -> Data { Data(ints(v).map { UInt8($0) }) }
    static func keys(_ v: Any?) -> [UInt64] { (v as! [Any]).map { uint64($0) } }

    /// The comparison rule of tests/golden/README.md.
    static func ok(_ got: Double, _ expected: Any?, tol: Any?) -> Bool {
        switch expected as? String {
        case "NaN": return got.isNaN
        case "Infinity", "-Infinity": return got == value(expected)
        default:
            guard let tol = number(tol) else { return got == value(expected) }
            return !got.isNaN && abs(got - value(expected)) <= tol
        }
    }
}

enum GoldenError: Error { case malformed(String) }

/// xorshift64*: the same vectors on every run and platform.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    mutating func vector(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }

    mutating func rows(_ n: Int, dims: Int) -> [[Float]] { (0..<n).map { _ in vector(dims) } }
}

/// f64 references for the f32 kernels.
enum Reference {
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    static func l2sq(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        let aa = dot(a, a), bb = dot(b, b)
        if aa == 0 && bb == 0 { return 0 }
        if aa == 0 || bb == 0 { return 1 }
        return 1 - dot(a, b) / (aa * bb).squareRoot()
    }

    /// Keys of the `k` nearest rows by squared L2, ties by key (the index's order).
    static func nearest(_ rows: [[Float]], keys: [UInt64], to q: [Float], k: Int) -> [UInt64] {
        let scored: [(key: UInt64, distance: Double)] = zip(keys, rows).map { key, row in (key, l2sq(row, q)) }
        let sorted = scored.sorted { a, b in a.distance != b.distance ? a.distance < b.distance : a.key < b.key }
        return sorted.prefix(k).map { $0.key }
    }
}

/// The cross-backend contract (DESIGN.md "Numbers"; bound: "Accuracy of f32 results" in
/// core/src/kernels/mod.rs): two backends (FMA natively, none in wasm simd128) each compute a
/// distance within the documented bound of the exact value, so they agree within twice it,
/// and return the same keys except where two candidates' distances are that close (a near-tie
/// may swap ranks, or trade the last place for another key at the same distance). `tol` is
/// that absolute bound for the distances at hand. Returns what breaks the contract.
func neighborDifferences(_ got: [Match], _ want: [Match], tol: Float) -> [String] {
    guard got.count == want.count else { return ["\(got.count) matches, expected \(want.count)"] }
    var problems: [String] = []
    let wantDistance = Dictionary(want.map { ($0.key, $0.distance) }, uniquingKeysWith: { a, _ in a })
    let gotDistance = Dictionary(got.map { ($0.key, $0.distance) }, uniquingKeysWith: { a, _ in a })
    for (i, (g, w)) in zip(got, want).enumerated() {
        // Rank by rank the distances agree (swapped near-ties have near-equal distances).
        if abs(g.distance - w.distance) > tol {
            problems.append("rank \(i): distance \(g.distance), expected \(w.distance) +- \(tol)")
        }
        // A key both sides returned has the same distance on both.
        if let d = wantDistance[g.key], abs(d - g.distance) > tol {
            problems.append("key \(g.key) at \(g.distance), expected \(d) +- \(tol)")
        }
    }
    // A key only one side returned must sit at that side's last distance: a near-tie for the
    // last place, not a missed neighbor.
    if let lastWant = want.last?.distance, let lastGot = got.last?.distance {
        for g in got where wantDistance[g.key] == nil && g.distance < lastWant - tol {
            problems.append("key \(g.key) at \(g.distance) is not among the expected matches (last \(lastWant))")
        }
        for w in want where gotDistance[w.key] == nil && w.distance < lastGot - tol {
            problems.append("expected key \(w.key) at \(w.distance) is missing (last \(lastGot))")
        }
    }
    return problems
}

func assertSameNeighbors(
    _ got: [Match], _ want: [Match], tol: Float, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    for problem in neighborDifferences(got, want, tol: tol) {
        XCTFail("\(what): \(problem)", file: file, line: line)
    }
}

/// SHA-256 (FIPS 180-4) in hex, for Engine.interpreted(module:sha256:).
func sha256Hex(_ data: Data) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var message = [UInt8](data)
    let bitLength = UInt64(message.count) * 8
    message.append(0x80)
    while message.count % 64 != 56 { message.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: message.count, by: 64) {
        for i in 0..<16 {
            w[i] = (0..<4).reduce(0) { $0 << 8 | UInt32(message[chunk + 4 * i + $1]) }
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }
    return h.map { String(format: "%08x", $0) }.joined()
}
