#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// sample id → probabilities, compact: the ids' bytes in one buffer, the probabilities in
/// another, an open-addressing index over both. About 50 bytes per entry instead of a
/// dictionary of strings and arrays (over 130), so a round replaying several detectors'
/// predictions for a million samples keeps them all in memory cheaply.
public struct PredictionTable: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyStart: [Int32] = []  // entry i's id is keyBytes[keyStart[i]..<keyStart[i + 1]]
    private var valueStart: [Int32] = []  // entry i's probabilities are values[valueStart[i]..<valueStart[i + 1]]
    private var values: [Double] = []
    private var slots: [Int32] = []  // entry index + 1, 0 = empty

    public init() {
        keyStart = [0]
        valueStart = [0]
        slots = [Int32](repeating: 0, count: 16)
    }

    public init(_ dictionary: [String: [Double]]) {
        self.init()
        for key in dictionary.keys.sorted() { _ = insert(key, dictionary[key]!) }
    }

    public var count: Int { keyStart.count - 1 }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        return h ^ (h >> 29)
    }

    /// Whether entry i's id is `bytes` (memcmp: the generic slice comparison cost more than the probe).
    @inline(__always)
    private func keyEquals(_ i: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(keyStart[i]), end = Int(keyStart[i + 1])
        guard end - start == bytes.count else { return false }
        guard let other = bytes.baseAddress, bytes.count > 0 else { return true }
        return keyBytes.withUnsafeBufferPointer { keys in
            guard let base = keys.baseAddress else { return false }
            return memcmp(base + start, other, bytes.count) == 0
        }
    }

    /// The slot holding `bytes`, or the empty slot where it belongs.
    private func find(_ bytes: UnsafeBufferPointer<UInt8>) -> (slot: Int, entry: Int?) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        while true {
            let e = Int(slots[slot])
            if e == 0 { return (slot, nil) }
            if keyEquals(e - 1, bytes) { return (slot, e - 1) }
            slot = (slot + 1) & mask
        }
    }

    /// Adds an entry; returns false (and changes nothing) when the id is already there.
    public mutating func insert(_ id: String, _ probabilities: [Double]) -> Bool {
        var id = id
        return id.withUTF8 { insert(bytes: $0, probabilities) }
    }

    public mutating func insert(bytes: UnsafeBufferPointer<UInt8>, _ probabilities: [Double]) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        let (slot, existing) = find(bytes)
        if existing != nil { return false }
        keyBytes.append(contentsOf: bytes)
        keyStart.append(Int32(keyBytes.count))
        values.append(contentsOf: probabilities)
        valueStart.append(Int32(values.count))
        slots[slot] = Int32(count)
        return true
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for i in 0..<count {
            let h = keyBytes.withUnsafeBufferPointer { all in
                Self.hash(UnsafeBufferPointer(rebasing: all[Int(keyStart[i])..<Int(keyStart[i + 1])]))
            }
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i + 1)
        }
    }

    public func probabilities(for id: String) -> [Double]? {
        var id = id
        guard let entry = id.withUTF8({ find($0).entry }) else { return nil }
        return Array(values[Int(valueStart[entry])..<Int(valueStart[entry + 1])])
    }

    public func contains(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { find($0).entry != nil }
    }
}
