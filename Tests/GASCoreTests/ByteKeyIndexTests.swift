import Testing
@testable import GASCore

/// The byte-string index: dense ids in insertion order, and the same keys renumbered in byte order.
@Suite struct ByteKeyIndexTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func idsFollowInsertionAndLookupsFindEveryKey() {
        var index = ByteKeyIndex()
        var keys: [[UInt8]] = []
        for i in 0..<3000 { keys.append(Self.bytes(String(i &* 2_654_435_761 & 0xFFFF_FFFF, radix: 16))) }
        keys += [[], [0], [0, 0], Self.bytes("ünï"), Self.bytes(String(repeating: "x", count: 300))]
        for (i, k) in keys.enumerated() {
            let r = k.withUnsafeBufferPointer { index.insert($0) }
            #expect(r.inserted && r.id == i)
        }
        let again = keys[5].withUnsafeBufferPointer { index.insert($0) }
        #expect(!again.inserted && again.id == 5)
        #expect(index.count == keys.count)
        for (i, k) in keys.enumerated() { #expect(k.withUnsafeBufferPointer { index.id(of: $0) } == i && Array(index.key(i)) == k) }
        #expect(Self.bytes("absent").withUnsafeBufferPointer { index.id(of: $0) } == nil)
    }

    @Test func sortedByBytesRenumbersInMemcmpOrder() {
        var index = ByteKeyIndex()
        // Shared 8-byte prefixes, keys that extend others, bytes above 0x7f and empty keys.
        var keys = ["abcdefgh", "abcdefghi", "abcdefgh\u{0}", "abcdefg", "", "b", "a", "abcdefgz", "ÿ", "é", "abcdefgha"].map(Self.bytes)
        var rng = SplitMix64(seed: 7, label: "keys")
        for _ in 0..<2000 { keys.append((0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 4 + 97) }) }
        var unique: [[UInt8]] = []
        for k in keys where k.withUnsafeBufferPointer({ index.insert($0).inserted }) { unique.append(k) }
        let (sorted, newID) = index.sortedByBytes()
        let expected = unique.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(sorted.count == unique.count && newID.count == unique.count)
        #expect((0..<sorted.count).map { Array(sorted.key($0)) } == expected)
        for (old, k) in unique.enumerated() {
            #expect(k.withUnsafeBufferPointer { sorted.id(of: $0) } == Int(newID[old]))
        }
        #expect(ByteKeyIndex().sortedByBytes().index.count == 0)
    }
}
