/// SplitMix64: the one PRNG behind every random choice in a plan.
///
/// Why this one: it is tiny, fully specified (Steele, Lea & Flood 2014), identical on every
/// platform and Swift version, and its state is a single UInt64 we can derive from strings.
/// `SystemRandomNumberGenerator` and `Int.random` are never used for anything that reaches a plan.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator whose seed is derived from a root seed and a label (a dataset name, a sample id),
    /// so that adding a dataset does not change the draws of another one.
    public init(seed: UInt64, label: String) {
        self.init(seed: seed ^ StableHash.fnv1a64(label))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, upperBound) by rejection: no modulo bias, same results everywhere.
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0)
        let bound = UInt64(upperBound)
        let limit = UInt64.max - (UInt64.max % bound)
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// Uniform double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Fisher-Yates from the back, drawing with `nextInt(below:)`.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }
}

/// Platform-independent string hashing for seeds (Swift's `Hasher` is randomly seeded per process).
public enum StableHash {
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
