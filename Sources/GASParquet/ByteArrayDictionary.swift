// Dictionary builder for BYTE_ARRAY columns. Keys are raw bytes (not Swift String equality,
// which would merge canonically-equivalent but byte-different strings). Each value is hashed once;
// slots keep a 32-bit hash tag, so growing the table never rehashes bytes. Entries are kept
// directly in PLAIN form so the dictionary page body needs no second pass.

struct ByteArrayDictionary {
    /// PLAIN encoding of all entries, in first-seen order: the dictionary page body.
    private(set) var plain: [UInt8] = []
    /// Offset (after the length prefix) and length of each entry's bytes in `plain`.
    private var starts: [Int] = []
    private var lengths: [Int] = []
    /// Open-addressing slots: 0 when empty, else (32-bit hash << 32) | (entry index + 1), so most
    /// probes are settled without touching the entry bytes.
    private var slots: [UInt64]
    private var mask: Int
    /// Maximum size of `plain`; insertion fails beyond it so the caller can fall back to PLAIN.
    let limitBytes: Int

    var count: Int { starts.count }

    /// Starts small and grows: most columns have few distinct values, and a small table stays in cache.
    init(limitBytes: Int) {
        self.limitBytes = limitBytes
        slots = [UInt64](repeating: 0, count: 256)
        mask = 255
        plain.reserveCapacity(min(limitBytes, 1 << 16))
    }

    /// Returns the entry index for `bytes`, adding it if new; nil when the dictionary would exceed its limit.
    mutating func index(of bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        let h = Self.hash(bytes)
        let tag = UInt64(UInt32(truncatingIfNeeded: h ^ (h >> 32)))
        var slot = Int(truncatingIfNeeded: tag) & mask
        while true {
            let value = slots[slot]
            if value == 0 { break }
            if value >> 32 == tag {
                let entry = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                if entryEquals(entry, bytes) { return UInt32(entry) }
            }
            slot = (slot + 1) & mask
        }
        guard plain.count + 4 + bytes.count <= limitBytes, count < Int(Int32.max) - 1 else { return nil }
        let entry = count
        appendLE32(UInt32(bytes.count), to: &plain)
        starts.append(plain.count)
        lengths.append(bytes.count)
        plain.append(contentsOf: bytes)
        slots[slot] = tag << 32 | UInt64(entry + 1)
        if count * 2 > slots.count { grow() }
        return UInt32(entry)
    }

    /// Calls `body` with the bytes of entry `i`.
    func withEntry<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let range = starts[i]..<(starts[i] + lengths[i])
        return try plain.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    private func entryEquals(_ i: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[i]
        let n = bytes.count
        guard lengths[i] == n else { return false }
        guard n > 0, let b = bytes.baseAddress else { return true }
        return plain.withUnsafeBytes { p in
            guard let base = p.baseAddress else { return false }
            return Self.equal(base + start, UnsafeRawPointer(b), n)
        }
    }

    /// Byte equality with 8-byte loads (short keys dominate, where a memcmp call costs more).
    @inline(__always) private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 8 {
            var k = 0
            while k + 8 <= n {
                if a.loadUnaligned(fromByteOffset: k, as: UInt64.self) != b.loadUnaligned(fromByteOffset: k, as: UInt64.self) { return false }
                k += 8
            }
            return k == n || a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        for k in 0..<n where a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) {
            return false
        }
        return true
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        var fresh = [UInt64](repeating: 0, count: capacity)
        let newMask = capacity - 1
        for value in slots where value != 0 {
            var slot = Int(truncatingIfNeeded: value >> 32) & newMask
            while fresh[slot] != 0 { slot = (slot + 1) & newMask }
            fresh[slot] = value
        }
        slots = fresh
        mask = newMask
    }

    /// Fast deterministic 64-bit hash (8 bytes per step, overlapping tail load, murmur finalizer).
    /// No per-process seed, so dictionary order, and therefore file bytes, never depend on the run.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(n) &* 0xFF51_AFD7_ED55_8CCD)
        guard n > 0, let base = bytes.baseAddress else { return finalize(h) }
        let raw = UnsafeRawPointer(base)
        var tail: UInt64
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                let k = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                h = (h ^ (k &* 0x87C3_7B91_1142_53D5)) &* 0x4CF5_AD43_2745_937F
                h = (h << 29) | (h >> 35)
                i += 8
            }
            tail = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            tail = UInt64(raw.loadUnaligned(as: UInt32.self)) << 32 | UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else {
            tail = UInt64(base[0]) << 16 | UInt64(base[n >> 1]) << 8 | UInt64(base[n - 1])
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
