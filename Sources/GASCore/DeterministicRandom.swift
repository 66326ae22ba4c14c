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

    /// Many draws below one bound: `nextInt(below:)` with the rejection limit and the modulo
    /// precomputed (the two 64-bit divisions dominate a bootstrap's inner loop). Same draws.
    public struct BoundedDraw: Sendable {
        public let bound: UInt64
        let limit: UInt64
        let modulo: FastModulo

        public init(below upperBound: Int) {
            precondition(upperBound > 0)
            bound = UInt64(upperBound)
            limit = UInt64.max - (UInt64.max % bound)
            modulo = FastModulo(bound)
        }

        @inline(__always)
        public func next(_ rng: inout SplitMix64) -> Int {
            while true {
                let x = rng.next()
                if x < limit { return Int(truncatingIfNeeded: modulo.remainder(x)) }
            }
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

/// x % d without a division: Lemire, Kaser & Kurz, "Faster Remainder by Direct Computation"
/// (2019), with a 128-bit magic number, exact for every 64-bit x and d > 0.
public struct FastModulo: Sendable {
    public let divisor: UInt64
    let magicHigh: UInt64
    let magicLow: UInt64

    public init(_ divisor: UInt64) {
        precondition(divisor > 0)
        self.divisor = divisor
        // M = floor((2^128 - 1) / d) + 1, as a 128-bit number (wraps to 0 for d = 1, which still
        // gives the right remainder, 0).
        let high = UInt64.max / divisor
        let (low, _) = divisor.dividingFullWidth((UInt64.max % divisor, UInt64.max))
        let (sum, carry) = low.addingReportingOverflow(1)
        magicLow = sum
        magicHigh = high &+ (carry ? 1 : 0)
    }

    @inline(__always)
    public func remainder(_ x: UInt64) -> UInt64 {
        // lowbits = M * x mod 2^128, then the remainder is (lowbits * d) >> 128.
        let (carryIntoHigh, lowLow) = magicLow.multipliedFullWidth(by: x)
        let lowHigh = magicHigh &* x &+ carryIntoHigh
        let (partial, _) = lowLow.multipliedFullWidth(by: divisor)
        let (top, middle) = lowHigh.multipliedFullWidth(by: divisor)
        let (_, overflow) = middle.addingReportingOverflow(partial)
        return top &+ (overflow ? 1 : 0)
    }
}

/// Platform-independent string hashing for seeds (Swift's `Hasher` is randomly seeded per process).
public enum StableHash {
    public static func fnv1a64(_ text: String) -> UInt64 {
        fnv1a64(text.utf8)
    }

    /// `from`: the hash of the bytes before these (FNV-1a runs byte by byte, so hashing a text in
    /// pieces gives the hash of the whole).
    @inline(__always)
    public static func fnv1a64(_ bytes: some Sequence<UInt8>, from start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = start
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
