import Foundation
@testable import GASCore
import Testing

/// `PlanSnapshot` is the quick copy a reused plan is read from: it must give back samples equal to
/// the ones written (every kept form of `PlannedSampleTests.variants`) and the same execution order,
/// and refuse, never misread, a snapshot that is cut short, padded or damaged.
@Suite struct PlanSnapshotTests {
    static func encoded(_ samples: [PlannedSample], order: [Int], chunkSize: Int = 1 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try PlanSnapshot.encode(samples, executionOrder: order, chunkSize: chunkSize) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Decodes `bytes`, handed over `piece` bytes at a time (a file read in short reads).
    static func decoded(_ bytes: [UInt8], count: Int, piece: Int = 1 << 20) throws -> (samples: [PlannedSample], executionOrder: [Int]) {
        var at = 0
        return try PlanSnapshot.decode(count: count, size: bytes.count) { buffer in
            let n = min(piece, buffer.count, bytes.count - at)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + at, byteCount: n) }
            at += n
            return n
        }
    }

    /// The variants, plus samples of other files, kinds and labels, and URIs long and kept whole.
    static func samples() -> [PlannedSample] {
        var samples = PlannedSampleTests.variants
        var audited = PlannedSampleTests.sample()
        audited.label = 1  // a label other than the media type's
        samples.append(audited)
        samples.append(PlannedSample(id: "00000000000000000000000a", uri: "generated://sdxl/" + String(repeating: "long/", count: 400) + "#item=1",
                                     sha256: PlannedSampleTests.sha, byteCount: 1 << 40, dataset: "gen", sourceKind: .generator,
                                     mediaType: .synthetic, modality: .video, seed: .max, format: "mp4",
                                     mediaPath: PlannedSample.storePath(sha256: PlannedSampleTests.sha, format: "mp4")))
        samples.append(PlannedSample(id: "00000000000000000000000b", uri: "file-without-a-mark.png", sha256: PlannedSampleTests.sha,
                                     byteCount: 0, dataset: "a", sourceKind: .real, mediaType: .real, modality: .audio, seed: 0,
                                     format: "wav", mediaPath: "media/x.wav", skipReason: "unreadable"))
        samples.append(PlannedSample(id: "00000000000000000000000c", uri: "dataset://caf\u{E9}/x#\u{301}tail", sha256: "",
                                     byteCount: 1, dataset: "a", sourceKind: .real, mediaType: .semisynthetic, modality: .image,
                                     seed: 1, format: "png", mediaPath: ""))
        return samples
    }

    @Test func samplesAndOrderReadBackEqual() throws {
        let samples = Self.samples()
        let order = Array(samples.indices).reversed().map { $0 }
        for chunkSize in [1, 7, 1 << 20] {
            let bytes = try Self.encoded(samples, order: order, chunkSize: chunkSize)
            #expect(bytes == (try Self.encoded(samples, order: order)), "the pieces do not change the bytes")
            for piece in [1, 3, 4096, 1 << 20] {
                let back = try Self.decoded(bytes, count: samples.count, piece: piece)
                #expect(back.samples.count == samples.count && back.executionOrder == order, "chunk \(chunkSize), piece \(piece)")
                for (i, (a, b)) in zip(back.samples, samples).enumerated() {
                    #expect(a == b, "sample \(i), chunk \(chunkSize), piece \(piece)")
                    #expect(a.id == b.id && a.uri == b.uri && a.sha256 == b.sha256 && a.mediaPath == b.mediaPath && a.label == b.label
                            && a.dataset == b.dataset && a.format == b.format && a.skipReason == b.skipReason
                            && a.generatorFamily == b.generatorFamily && a.byteCount == b.byteCount && a.seed == b.seed)
                }
            }
        }
        let empty = try Self.decoded(try Self.encoded([], order: []), count: 0)
        #expect(empty.samples.isEmpty && empty.executionOrder.isEmpty)
    }

    @Test func sharedStringsAreWrittenOnce() throws {
        let one = PlannedSampleTests.sample()
        let many = Array(repeating: one, count: 1000)
        let bytes = try Self.encoded(many, order: Array(many.indices))
        let record = 1 + 12 + 32 + 8 + 8 + 4 + 6 * 4 + 4 + "row=7".utf8.count
        #expect(bytes.count < 200 + 1000 * (record + 4), "\(bytes.count) bytes")
    }

    @Test func damageIsRefusedNotMisread() throws {
        let samples = Self.samples()
        let bytes = try Self.encoded(samples, order: Array(samples.indices))
        func refused(_ damaged: [UInt8], count: Int? = nil, _ what: String) {
            #expect(throws: PlanSnapshot.Damage.self, "\(what)") { try Self.decoded(damaged, count: count ?? samples.count) }
        }
        refused(bytes, count: samples.count - 1, "another sample count")
        refused(bytes, count: samples.count + 1, "another sample count")
        refused(Array(bytes.dropLast()), "cut short")
        refused(Array(bytes.prefix(bytes.count / 2)), "cut in half")
        refused(bytes + [0], "a byte more")
        refused([UInt8](repeating: 0, count: bytes.count), "zeros")
        var magic = bytes
        magic[0] ^= 1
        refused(magic, "not the magic")
        // A string's length past the end (the first shared string's length, after magic, count, table size).
        var length = bytes
        length.replaceSubrange(20..<24, with: [0xFF, 0xFF, 0xFF, 0x7F])
        refused(length, "a length past the end")
        // The last execution-order entry naming a position twice, then out of range.
        var twice = bytes
        twice.replaceSubrange(bytes.count - 4..<bytes.count, with: [0, 0, 0, 0])
        refused(twice, "a position twice")
        var outside = bytes
        outside.replaceSubrange(bytes.count - 4..<bytes.count, with: withUnsafeBytes(of: UInt32(samples.count).littleEndian, Array.init))
        refused(outside, "a position out of range")
    }

    @Test func everySingleByteChangeIsRefusedOrReadAsSomeOtherPlan() throws {
        // The reader is not a checksum (its caller checks the file's sha256); what it must do with any
        // damage is end in an error or a plan, never a crash or a read past the bytes.
        let samples = Array(Self.samples().prefix(6))
        let bytes = try Self.encoded(samples, order: Array(samples.indices))
        var refusedCount = 0
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x80
            if (try? Self.decoded(damaged, count: samples.count, piece: 5)) == nil { refusedCount += 1 }
        }
        #expect(refusedCount > 0)
    }
}
