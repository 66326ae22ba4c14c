import GASTestSupport
// RLE / bit-packed hybrid encoding.

import Testing
@testable import GASParquet

@Suite struct RLETests {
    private func roundTrip(_ values: [UInt32], bitWidth: Int) throws -> [UInt8] {
        var encoded: [UInt8] = []
        RLEHybrid.encode(values, bitWidth: bitWidth, into: &encoded)
        let decoded = try encoded.withUnsafeBytes { try RLEHybrid.decode($0, bitWidth: bitWidth, count: values.count) }
        #expect(decoded == values)
        return encoded
    }

    @Test func specExampleBitPacked() throws {
        // parquet-format Encodings.md: 0..7 at bit width 3 packs to 0x88 0xC6 0xFA.
        let encoded = try roundTrip(Array(0..<8), bitWidth: 3)
        #expect(encoded == [0x03, 0x88, 0xC6, 0xFA])
    }

    @Test func longRunBecomesOneRLERun() throws {
        let encoded = try roundTrip([UInt32](repeating: 1, count: 100_000), bitWidth: 1)
        #expect(encoded.count <= 4)
    }

    @Test(arguments: [0, 1, 2, 3, 7, 8, 13, 16, 17, 24, 31, 32])
    func randomRoundTrip(bitWidth: Int) throws {
        var rng = SeededRandom(seed: UInt64(bitWidth) + 1)
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        for count in [0, 1, 7, 8, 9, 100, 1001] {
            var values: [UInt32] = []
            while values.count < count {
                let v = UInt32(rng.next() & mask)
                // Mix isolated values with runs of varying length.
                let run = rng.next() % 4 == 0 ? Int(rng.next() % 30) + 1 : 1
                values += [UInt32](repeating: v, count: min(run, count - values.count))
            }
            _ = try roundTrip(values, bitWidth: bitWidth)
        }
    }

    @Test func truncatedInputThrows() throws {
        var encoded: [UInt8] = []
        RLEHybrid.encode((0..<64).map { UInt32($0 % 5) }, bitWidth: 3, into: &encoded)
        for cut in 0..<(encoded.count - 1) {
            let prefix = Array(encoded[0..<cut])
            #expect(throws: FormatIssue.self) {
                try prefix.withUnsafeBytes { try RLEHybrid.decode($0, bitWidth: 3, count: 64) }
            }
        }
    }

    @Test func valueWiderThanBitWidthThrows() {
        let bytes: [UInt8] = [0x10, 0x05]  // RLE run of 8 x value 5 at bit width 1
        #expect(throws: FormatIssue.self) {
            try bytes.withUnsafeBytes { try RLEHybrid.decode($0, bitWidth: 1, count: 8) }
        }
    }

    @Test func hugeRunIsClampedToRequestedCount() throws {
        var bytes: [UInt8] = []
        appendVarint(UInt64(1) << 60, to: &bytes)
        bytes.append(1)
        let decoded = try bytes.withUnsafeBytes { try RLEHybrid.decode($0, bitWidth: 1, count: 10) }
        #expect(decoded == [UInt32](repeating: 1, count: 10))
    }

    @Test func bitWidths() {
        #expect(RLEHybrid.bitWidth(forMax: 0) == 0)
        #expect(RLEHybrid.bitWidth(forMax: 1) == 1)
        #expect(RLEHybrid.bitWidth(forMax: 255) == 8)
        #expect(RLEHybrid.bitWidth(forMax: 256) == 9)
        #expect(RLEHybrid.bitWidth(forMax: .max) == 32)
    }
}
