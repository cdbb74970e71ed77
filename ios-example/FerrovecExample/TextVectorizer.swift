// Turns text into vectors on device without a model: hashed character trigrams (feature
// hashing into `dims` buckets, L2-normalized by the cosine index). A stand-in for a real
// embedding model (ferrovec's roadmap has an on-device MiniLM encoder); it makes
// search-as-you-type meaningful for typos and prefixes ("pyth" finds python3).
// Platform-neutral: compiled and tested on Linux too (Package.swift, `make test-swift`).

import Foundation

struct TextVectorizer: Sendable {
    let dims: Int

    func vector(_ text: String) -> [Float] {
        var v = [Float](repeating: 0, count: dims)
        let chars = Array(" " + text.lowercased() + " ")
        guard chars.count >= 3 else { return v }
        for i in 0...(chars.count - 3) {
            // FNV-1a over the trigram's scalars: stable across launches (Swift's Hasher is
            // seeded per process, so it cannot be used for stored vectors).
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for c in chars[i..<i + 3] {
                for s in c.unicodeScalars {
                    h ^= UInt64(s.value)
                    h = h &* 0x0000_0100_0000_01b3
                }
            }
            let bucket = Int(h % UInt64(dims))
            v[bucket] += (h >> 63) == 0 ? 1 : -1
        }
        return v
    }
}
