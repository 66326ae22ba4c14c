/// The order detectors see a round's samples in: by sample id.
///
/// Sample ids are hashes, so this is a shuffle fixed by the data (a batch mixes datasets), and
/// outcomes reach the ledger in the order of its primary key (run, sample id, detector): a batch's
/// rows land next to the previous batch's instead of on random pages of an index that grows to
/// millions of entries, which is what keeps committing millions of outcomes fast. Shards are
/// contiguous ranges of this order and batches are cut on it, so sharded and unsharded runs put
/// the same samples in the same batch.
public enum ExecutionOrder {
    /// Positions of `samples` (plan positions) in execution order.
    public static func positions(of samples: [PlannedSample]) -> [Int] {
        positions(ofIDs: SampleIDs(of: samples))
    }

    /// Positions of `ids` sorted by their UTF-8 bytes (String's own order for these ids).
    public static func positions(ofIDs ids: [String]) -> [Int] {
        positions(ofIDs: SampleIDs(ids))
    }

    public static func positions(ofIDs ids: SampleIDs) -> [Int] {
        if let sorted = hexPrefixOrder(ids) { return sorted }
        return comparisonOrder(ids)
    }

    /// Sample ids are hex digests: when every id starts with 8 lowercase hex digits, those digits
    /// (32 bits, in the same order as their bytes) and the position fit one word; a radix sort of
    /// the words, then the few runs sharing a prefix sorted by their whole id, give the same order
    /// as comparing ids, in a fraction of the time. nil when an id does not start that way.
    static func hexPrefixOrder(_ ids: [String]) -> [Int]? { hexPrefixOrder(SampleIDs(ids)) }
    static func comparisonOrder(_ ids: [String]) -> [Int] { comparisonOrder(SampleIDs(ids)) }

    static func hexPrefixOrder(_ ids: SampleIDs) -> [Int]? {
        guard ids.count > 1, ids.count <= Int(UInt32.max) else { return nil }
        var words = [UInt64]()
        words.reserveCapacity(ids.count)
        for i in ids.indices {
            // The bytes in place (native strings are contiguous, packed ids are written out on the
            // stack): no string, view or index per id.
            let prefix = ids.withUTF8(at: i) { bytes -> UInt64? in
                guard bytes.count >= 8 else { return nil }
                var prefix: UInt64 = 0
                for k in 0..<8 {
                    guard let value = LowercaseHex.value(of: bytes[k]) else { return nil }
                    prefix = prefix << 4 | UInt64(value)
                }
                return prefix
            }
            guard let prefix else { return nil }
            words.append(prefix << 32 | UInt64(i))
        }
        RadixSort.sort(&words, from: 32, bits: 32)
        var order = words.map { Int($0 & 0xFFFF_FFFF) }
        // Ids sharing their first 8 digits: ordered by the rest of their bytes.
        var start = 0
        while start < words.count {
            var end = start + 1
            while end < words.count && words[end] >> 32 == words[start] >> 32 { end += 1 }
            if end - start > 1 {
                order[start..<end].sort { a, b in
                    let (x, y) = (ids[a], ids[b])
                    return x == y ? a < b : x.utf8.lexicographicallyPrecedes(y.utf8)
                }
            }
            start = end
        }
        return order
    }

    static func comparisonOrder(_ idList: SampleIDs) -> [Int] {
        let ids = Array(idList)
        // The first 8 bytes as a big-endian number order most pairs without touching the strings.
        let prefixes = ids.map { id -> UInt64 in
            var key: UInt64 = 0, taken = 0
            for byte in id.utf8.prefix(8) {
                key = key << 8 | UInt64(byte)
                taken += 1
            }
            return key << UInt64(8 * (8 - taken))
        }
        return ids.indices.sorted { a, b in
            prefixes[a] != prefixes[b] ? prefixes[a] < prefixes[b] : ids[a].utf8.lexicographicallyPrecedes(ids[b].utf8)
        }
    }
}
