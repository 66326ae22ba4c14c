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

    /// Streams our compressor never writes (every tag kind, short overlapping copies, literals and
    /// copies at the block's very end, where the decoder's word-at-a-time paths must not run),
    /// against a byte-by-byte reading of the format.
    @Test func everyTagKindAgainstAPlainReading() throws {
        var rng = SeededRandom(seed: 34)
        func random(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        for round in 0..<300 {
            var body: [UInt8] = [], expected: [UInt8] = []
            let ops = 1 + random(round < 100 ? 6 : 60)
            for _ in 0..<ops {
                if expected.isEmpty || random(3) == 0 {
                    let n = 1 + (random(4) == 0 ? random(300) : random(20))
                    if n - 1 < 60 {
                        body.append(UInt8((n - 1) << 2))
                    } else {
                        body += [UInt8((59 + 2) << 2), UInt8((n - 1) & 0xFF), UInt8((n - 1) >> 8)]
                    }
                    let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    body += bytes
                    expected += bytes
                } else {
                    let offset = 1 + random(min(expected.count, random(2) == 0 ? 12 : 3000))
                    var length: Int
                    switch random(3) {
                    case 0 where offset < 2048:
                        length = 4 + random(8)
                        body += [UInt8(1 | ((length - 4) << 2) | ((offset >> 8) << 5)), UInt8(offset & 0xFF)]
                    case 1:
                        length = 1 + random(64)
                        body += [UInt8(2 | ((length - 1) << 2)), UInt8(offset & 0xFF), UInt8(offset >> 8)]
                    default:
                        length = 1 + random(64)
                        body += [UInt8(3 | ((length - 1) << 2)), UInt8(offset & 0xFF), UInt8((offset >> 8) & 0xFF), 0, 0]
                    }
                    for _ in 0..<length { expected.append(expected[expected.count - offset]) }
                }
            }
            var block: [UInt8] = []
            var n = expected.count
            repeat {
                block.append(UInt8(n & 0x7F) | (n >= 0x80 ? 0x80 : 0))
                n >>= 7
            } while n > 0
            block += body
            let output = try block.withUnsafeBytes { try Snappy.decompress($0, expectedLength: expected.count) }
            #expect(output == expected, "round \(round)")
        }
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
