import GASTestSupport
// Snappy raw block compressor/decompressor.

import Testing
@testable import GASParquet

@Suite struct SnappyTests {
    private func roundTrip(_ input: [UInt8]) throws -> [UInt8] {
        let compressed = Snappy.compress(input)
        #expect(compressed.count <= Snappy.maxCompressedLength(input.count))
        let output = try compressed.withUnsafeBytes { try Snappy.decompress($0, expectedLength: input.count) }
        #expect(output == input)
        return compressed
    }

    @Test func emptyAndTiny() throws {
        #expect(try roundTrip([]) == [0])
        _ = try roundTrip([42])
        _ = try roundTrip(Array("hello world".utf8))
    }

    @Test func incompressibleRandomData() throws {
        var rng = SeededRandom(seed: 7)
        for size in [15, 16, 100, 65_535, 65_536, 65_537, 300_000] {
            let input = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let compressed = try roundTrip(input)
            #expect(compressed.count <= size + size / 50 + 16)
        }
    }

    @Test func highlyRepetitiveData() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let compressed = try roundTrip(zeros)
        #expect(compressed.count < zeros.count / 20)
        let pattern = Array(String(repeating: "abcabcabd", count: 20_000).utf8)
        #expect(try roundTrip(pattern).count < pattern.count / 10)
    }

    @Test func mixedTextAndBinary() throws {
        var rng = SeededRandom(seed: 11)
        var input: [UInt8] = []
        while input.count < 200_000 {
            if rng.next() % 2 == 0 {
                input += Array("label-\(rng.next() % 50),score=\(rng.next() % 1000);".utf8)
            } else {
                input += (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
        }
        _ = try roundTrip(input)
    }

    @Test func corruptInputThrowsNeverCrashes() throws {
        var rng = SeededRandom(seed: 3)
        let input = Array(String(repeating: "the quick brown fox ", count: 500).utf8)
        let compressed = Snappy.compress(input)
        for _ in 0..<500 {
            var bad = compressed
            let flips = 1 + Int(rng.next() % 4)
            for _ in 0..<flips { bad[Int(rng.next() % UInt64(bad.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            // Either decodes to something of the right length or throws; must never crash.
            _ = try? bad.withUnsafeBytes { try Snappy.decompress($0, expectedLength: input.count) }
        }
        for cut in stride(from: 0, to: compressed.count - 1, by: 7) {
            let prefix = Array(compressed[0..<cut])
            #expect(throws: FormatIssue.self) {
                try prefix.withUnsafeBytes { try Snappy.decompress($0, expectedLength: input.count) }
            }
        }
        // Copy reaching before the start of the output.
        let badOffset: [UInt8] = [4, 0b0000_0010 | (3 << 2), 0x10, 0x00]
        #expect(throws: FormatIssue.self) {
            try badOffset.withUnsafeBytes { try Snappy.decompress($0, expectedLength: 4) }
        }
        // Declared length disagrees with the page header.
        #expect(throws: FormatIssue.self) {
            try compressed.withUnsafeBytes { try Snappy.decompress($0, expectedLength: input.count + 1) }
        }
    }

    @Test func deterministic() {
        let input = Array(String(repeating: "determinism ", count: 10_000).utf8)
        #expect(Snappy.compress(input) == Snappy.compress(input))
    }
}
