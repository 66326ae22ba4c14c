// Dictionary builder for BYTE_ARRAY columns. Keys are raw bytes (not Swift String equality,
// which would merge canonically-equivalent but byte-different strings). Each value is hashed once;
// the open-addressing table rehashes from stored hashes when it grows. Entries are kept directly
// in PLAIN form so the dictionary page body needs no second pass.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct ByteArrayDictionary {
    /// PLAIN encoding of all entries, in first-seen order: the dictionary page body.
    private(set) var plain: [UInt8] = []
    private var starts: [Int] = []
    private var hashes: [UInt64] = []
    /// Open-addressing slots holding entry indices, -1 when empty.
    private var slots: [Int32]
    private var mask: Int
    /// Maximum size of `plain`; insertion fails beyond it so the caller can fall back to PLAIN.
    let limitBytes: Int

    var count: Int { starts.count }

    init(limitBytes: Int, expectedCount: Int = 0) {
        self.limitBytes = limitBytes
        var capacity = 1024
        while capacity < min(expectedCount, 1 << 16) * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        plain.reserveCapacity(min(limitBytes, 1 << 16))
    }

    /// Returns the entry index for `bytes`, adding it if new; nil when the dictionary would exceed its limit.
    mutating func index(of bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        let h = Self.hash(bytes)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { break }
            if hashes[entry] == h && entryEquals(entry, bytes) { return UInt32(entry) }
            slot = (slot + 1) & mask
        }
        guard plain.count + 4 + bytes.count <= limitBytes, count < Int(Int32.max) else { return nil }
        let entry = starts.count
        appendLE32(UInt32(bytes.count), to: &plain)
        starts.append(plain.count)
        plain.append(contentsOf: bytes)
        hashes.append(h)
        slots[slot] = Int32(entry)
        if count * 2 > slots.count { grow() }
        return UInt32(entry)
    }

    /// Calls `body` with the bytes of entry `i`.
    func withEntry<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = starts[i]
        let end = i + 1 < starts.count ? starts[i + 1] - 4 : plain.count
        return try plain.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    private func entryEquals(_ i: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[i]
        let end = i + 1 < starts.count ? starts[i + 1] - 4 : plain.count
        guard end - start == bytes.count else { return false }
        guard bytes.count > 0, let b = bytes.baseAddress else { return true }
        return plain.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return false }
            return memcmp(base + start, b, bytes.count) == 0
        }
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (entry, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry)
        }
    }

    /// Fast deterministic 64-bit hash (8 bytes per step, murmur-style finalizer). No per-process
    /// seed, so dictionary order, and therefore file bytes, never depend on the run.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(n) &* 0xFF51_AFD7_ED55_8CCD)
        guard n > 0, let base = bytes.baseAddress else { return finalize(h) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= n {
            let k = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ (k &* 0x87C3_7B91_1142_53D5)) &* 0x4CF5_AD43_2745_937F
            h = (h << 29) | (h >> 35)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        h ^= tail &* 0xC4CE_B9FE_1A85_EC53
        return finalize(h)
    }

    @inline(__always) private static func finalize(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}
