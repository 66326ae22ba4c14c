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
        positions(ofIDs: samples.map(\.id))
    }

    /// Positions of `ids` sorted by their UTF-8 bytes (String's own order for these ids).
    public static func positions(ofIDs ids: [String]) -> [Int] {
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
