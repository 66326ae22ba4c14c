#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte strings (sample ids, dataset names) to dense ids 0, 1, ... in order of insertion: the keys'
/// bytes in one buffer and an open-addressing index over them (FNV-1a, linear probing, compared
/// with memcmp). Far smaller and cheaper per lookup than a `[String: Int]` when there are
/// millions of keys or a lookup on every row.
public struct ByteKeyIndex: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyStart: [Int32] = [0]  // key i is keyBytes[keyStart[i]..<keyStart[i + 1]]
    private var slots = [Int32](repeating: 0, count: 16)  // id + 1, 0 = empty

    public init() {}

    public var count: Int { keyStart.count - 1 }

    /// Room for `keys` keys without growing the index on the way (a known row count).
    public mutating func reserveCapacity(_ keys: Int) {
        keyStart.reserveCapacity(keys + 1)
        var size = slots.count
        while size < keys * 2 + 2 { size *= 2 }
        if size > slots.count {
            slots = [Int32](repeating: 0, count: size / 2)  // grow() doubles it and re-inserts the keys
            grow()
        }
    }

    /// The id of `bytes`, or nil.
    @inline(__always)
    public func id(of bytes: UnsafeBufferPointer<UInt8>) -> Int? { find(bytes).id }

    /// The id of `bytes`, added with the next id when absent (`inserted` then true).
    @inline(__always)
    public mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> (id: Int, inserted: Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        let (slot, existing) = find(bytes)
        if let existing { return (existing, false) }
        keyBytes.append(contentsOf: bytes)
        keyStart.append(Int32(keyBytes.count))
        slots[slot] = Int32(count)
        return (count - 1, true)
    }

    /// Whether key `id` is `bytes`.
    @inline(__always)
    public func key(_ id: Int, equals bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(keyStart[id]), end = Int(keyStart[id + 1])
        guard end - start == bytes.count else { return false }
        return keyBytes.withUnsafeBufferPointer { UnsafeBufferPointer(rebasing: $0[start..<end]).hasSameBytes(as: bytes) }
    }

    /// Key `id`'s bytes.
    public func key(_ id: Int) -> ArraySlice<UInt8> { keyBytes[Int(keyStart[id])..<Int(keyStart[id + 1])] }

    @inline(__always)
    static func slot(_ bytes: UnsafeBufferPointer<UInt8>, mask: Int) -> Int {
        let h = StableHash.fnv1a64(bytes)
        return Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
    }

    /// The slot holding `bytes` and its id, or the empty slot where it belongs.
    @inline(__always)
    private func find(_ bytes: UnsafeBufferPointer<UInt8>) -> (slot: Int, id: Int?) {
        let mask = slots.count - 1
        var slot = Self.slot(bytes, mask: mask)
        while true {
            let e = Int(slots[slot])
            if e == 0 { return (slot, nil) }
            if key(e - 1, equals: bytes) { return (slot, e - 1) }
            slot = (slot + 1) & mask
        }
    }

    /// The same keys with ids in the order of their bytes (memcmp order; a key before its
    /// extensions), and the new id of each old id. Lookups made in that order (as a run's, by
    /// sample id) then find each key right after the last one, in memory read front to back.
    public func sortedByBytes() -> (index: ByteKeyIndex, newID: [Int32]) {
        var sorted = self
        let newID = sorted.sortByBytes()
        return (sorted, newID)
    }

    /// The same, in place: each old array is freed as its new one is made, so an index of a
    /// million keys is not held twice. Returns the new id of each old id.
    public mutating func sortByBytes() -> [Int32] {
        let n = count
        guard n > 0 else { return [] }
        let order = keyBytes.withUnsafeBufferPointer { all -> [Int32] in
            guard let base = all.baseAddress else { return (0..<Int32(n)).map { $0 } }
            // The first 8 bytes as one big-endian word, radix-sorted 16 bits at a time (stable),
            // decide nearly every place; keys sharing those 8 bytes are then sorted among themselves.
            var words = [UInt64](repeating: 0, count: n), ids = (0..<Int32(n)).map { $0 }
            for i in 0..<n {
                let start = Int(keyStart[i]), end = Int(keyStart[i + 1])
                var word: UInt64 = 0
                for k in 0..<8 { word = word << 8 | (start + k < end ? UInt64(base[start + k]) : 0) }
                words[i] = word
            }
            var otherWords = words, otherIDs = ids
            var counts = [Int](repeating: 0, count: 1 << 16)
            for shift in stride(from: 0, to: 64, by: 16) {
                for i in counts.indices { counts[i] = 0 }
                for w in words { counts[Int(truncatingIfNeeded: w >> UInt64(shift)) & 0xFFFF] += 1 }
                var total = 0
                for i in counts.indices { (counts[i], total) = (total, total + counts[i]) }
                for i in 0..<n {
                    let digit = Int(truncatingIfNeeded: words[i] >> UInt64(shift)) & 0xFFFF
                    otherWords[counts[digit]] = words[i]
                    otherIDs[counts[digit]] = ids[i]
                    counts[digit] += 1
                }
                swap(&words, &otherWords)
                swap(&ids, &otherIDs)
            }
            var runStart = 0
            for i in 1...n where i == n || words[i] != words[runStart] {
                if i - runStart > 1 {
                    ids[runStart..<i].sort { a, b in
                        let sa = Int(keyStart[Int(a)]), la = Int(keyStart[Int(a) + 1]) - sa
                        let sb = Int(keyStart[Int(b)]), lb = Int(keyStart[Int(b) + 1]) - sb
                        let common = memcmp(base + sa, base + sb, min(la, lb))
                        return common != 0 ? common < 0 : la < lb
                    }
                }
                runStart = i
            }
            return ids
        }
        // The keys laid out in their new order, the slots built anew (no key can repeat).
        var sortedBytes = [UInt8](), sortedStart = [Int32]()
        sortedBytes.reserveCapacity(keyBytes.count)
        sortedStart.reserveCapacity(n + 1)
        sortedStart.append(0)
        var newID = [Int32](repeating: 0, count: n)
        for (rank, old) in order.enumerated() {
            sortedBytes.append(contentsOf: keyBytes[Int(keyStart[Int(old)])..<Int(keyStart[Int(old) + 1])])
            sortedStart.append(Int32(sortedBytes.count))
            newID[Int(old)] = Int32(rank)
        }
        let slotCount = slots.count
        slots = []
        keyBytes = sortedBytes
        keyStart = sortedStart
        fillSlots(slotCount)
        return newID
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = []
        fillSlots(size)
    }

    /// `size` slots (a power of two) holding every key.
    private mutating func fillSlots(_ size: Int) {
        slots = [Int32](repeating: 0, count: size)
        let mask = slots.count - 1
        keyBytes.withUnsafeBufferPointer { all in
            for i in 0..<count {
                var slot = Self.slot(UnsafeBufferPointer(rebasing: all[Int(keyStart[i])..<Int(keyStart[i + 1])]), mask: mask)
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(i + 1)
            }
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether the two runs hold the same bytes (one memcmp; `elementsEqual` compares a byte at a time).
    public func hasSameBytes(as other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard count == other.count else { return false }
        guard let x = baseAddress, let y = other.baseAddress else { return true }  // both empty
        return memcmp(x, y, count) == 0
    }

    /// Byte order (memcmp's, a run before its extensions): negative, zero or positive as this run
    /// sorts before, with or after `other`.
    public func compareBytes(_ other: UnsafeBufferPointer<UInt8>) -> Int {
        let common = Swift.min(count, other.count)
        if common > 0, let x = baseAddress, let y = other.baseAddress {
            let c = memcmp(x, y, common)
            if c != 0 { return Int(c) }
        }
        return count - other.count
    }
}
