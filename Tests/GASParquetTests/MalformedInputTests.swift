// Untrusted input: truncation, bad magic, garbage footer lengths, random byte flips and hostile
// page headers must give typed errors, never a crash or a huge allocation.

import Foundation
import GASTestSupport
import Testing
@testable import GASParquet

@Suite struct MalformedInputTests {
    /// A valid file with every column kind, two row groups and multiple pages.
    private func validFile(in dir: URL, codec: ParquetCodec = .snappy) throws -> [UInt8] {
        let url = dir.appendingPathComponent("valid-\(codec).parquet")
        let schema = ParquetSchema(columns: Samples.allColumns)
        let writer = try ParquetWriter(path: url.path, schema: schema, codec: codec)
        writer.targetPageBytes = 700
        try writer.writeRowGroup(Samples.rowGroup(schema, rows: 120, seed: 4))
        try writer.writeRowGroup(Samples.rowGroup(schema, rows: 40, seed: 5))
        try writer.close()
        return try readFile(url)
    }

    /// Opens and fully reads `bytes`; returns the ParquetError thrown, nil if everything read.
    /// Any other error type fails the test.
    @discardableResult
    private func readAll(_ bytes: [UInt8], in dir: URL, name: String = "bad.parquet") -> ParquetError? {
        let url = dir.appendingPathComponent(name)
        do {
            try Data(bytes).write(to: url)
            let reader = try ParquetReader(path: url.path)
            for g in 0..<reader.rowGroupCount { _ = try reader.readRowGroup(g) }
            return nil
        } catch let error as ParquetError {
            #expect(!error.description.isEmpty)
            return error
        } catch {
            Issue.record("untyped error: \(error)")
            return nil
        }
    }

    @Test func truncatedFiles() throws {
        try withTemporaryDirectory { dir in
            let bytes = try validFile(in: dir)
            var cuts = Set(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)))
            cuts.formUnion([0, 1, 3, 4, 5, 11, 12, bytes.count - 1, bytes.count - 4, bytes.count - 5, bytes.count - 8, bytes.count - 9])
            for cut in cuts.sorted() where cut < bytes.count {
                let error = readAll(Array(bytes[0..<cut]), in: dir)
                switch error {
                case .truncated?, .notParquet?: break
                default: Issue.record("cut at \(cut): expected truncated/notParquet, got \(String(describing: error))")
                }
            }
        }
    }

    @Test func badMagic() throws {
        try withTemporaryDirectory { dir in
            var bytes = try validFile(in: dir)
            bytes[0] = UInt8(ascii: "X")
            guard case .notParquet? = readAll(bytes, in: dir) else { Issue.record("bad head magic accepted"); return }
            var tail = try validFile(in: dir)
            tail[tail.count - 1] = UInt8(ascii: "X")
            guard case .truncated? = readAll(tail, in: dir) else { Issue.record("bad tail magic accepted"); return }
            var encrypted = try validFile(in: dir)
            encrypted.replaceSubrange((encrypted.count - 4)..., with: Array("PARE".utf8))
            guard case .notParquet? = readAll(encrypted, in: dir) else { Issue.record("encrypted footer accepted"); return }
            guard case .notParquet? = readAll([], in: dir) else { Issue.record("empty file accepted"); return }
            guard case .notParquet? = readAll([UInt8](repeating: 0, count: 4096), in: dir) else { Issue.record("zeros accepted"); return }
        }
    }

    @Test func garbageFooterLength() throws {
        try withTemporaryDirectory { dir in
            let bytes = try validFile(in: dir)
            let lengthAt = bytes.count - 8
            for length: UInt32 in [0, 1, 2, 7, UInt32(bytes.count - 12), UInt32(bytes.count - 11), UInt32(bytes.count), 100_000_000, .max] {
                var bad = bytes
                for k in 0..<4 { bad[lengthAt + k] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(k))) }
                let error = readAll(bad, in: dir)
                switch error {
                case .corrupt?, .limitExceeded?, .unsupportedSchema?, .truncated?: break
                default: Issue.record("footer length \(length): got \(String(describing: error))")
                }
            }
        }
    }

    @Test(arguments: [ParquetCodec.uncompressed, .snappy, .gzip])
    func randomByteFlips(codec: ParquetCodec) throws {
        try withTemporaryDirectory { dir in
            let bytes = try validFile(in: dir, codec: codec)
            var rng = SeededRandom(seed: 0xF11F + UInt64(codec.description.count))
            var failures = 0
            for iteration in 0..<150 {
                var bad = bytes
                let flips = 1 + Int(rng.next() % 6)
                // Half the time aim at the footer, where metadata parsing is most exposed.
                let footerOnly = iteration % 2 == 0
                for _ in 0..<flips {
                    let lower = footerOnly ? max(4, bytes.count - 1500) : 0
                    let position = lower + Int(rng.next() % UInt64(bytes.count - lower))
                    bad[position] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                }
                if readAll(bad, in: dir, name: "flip.parquet") != nil { failures += 1 }
            }
            #expect(failures > 0)
        }
    }

    @Test func hostilePageHeaders() throws {
        let column = ParquetColumn(name: "x", type: .int64, optional: true)
        func chunk(_ header: PageHeader, body: [UInt8]) -> [UInt8] { header.encode() + body }
        let reader = ColumnChunkReader(column: column, codec: CodecID.snappy, rowCount: 5)
        // Claims a 2 GiB page.
        var huge = PageHeader(type: PageTypeID.dataPage, uncompressedPageSize: .max, compressedPageSize: 4,
                              dataPage: DataPageHeader(numValues: 5, encoding: EncodingID.plain))
        #expect(throws: FormatIssue.self) { try reader.decode(chunk(huge, body: [1, 2, 3, 4])) }
        // Compressed size beyond the chunk.
        huge.uncompressedPageSize = 10
        huge.compressedPageSize = 1_000_000
        #expect(throws: FormatIssue.self) { try reader.decode(chunk(huge, body: [1, 2, 3, 4])) }
        // More values than the row group has rows.
        let tooMany = PageHeader(type: PageTypeID.dataPage, uncompressedPageSize: 1, compressedPageSize: 1,
                                 dataPage: DataPageHeader(numValues: 1_000_000_000, encoding: EncodingID.plain))
        #expect(throws: FormatIssue.self) { try ColumnChunkReader(column: column, codec: CodecID.uncompressed, rowCount: 5).decode(chunk(tooMany, body: [0])) }
        // Negative sizes.
        let negative = PageHeader(type: PageTypeID.dataPage, uncompressedPageSize: -1, compressedPageSize: -5,
                                  dataPage: DataPageHeader(numValues: 5, encoding: EncodingID.plain))
        #expect(throws: FormatIssue.self) { try reader.decode(chunk(negative, body: [])) }
        // Dictionary index beyond the dictionary.
        let dictionary = PageHeader(type: PageTypeID.dictionaryPage, uncompressedPageSize: 8, compressedPageSize: 8,
                                    dictionaryPage: DictionaryPageHeader(numValues: 1, encoding: EncodingID.plain))
        var data: [UInt8] = [2, 0, 0, 0, 0x02, 0x01]  // def levels: 2 bytes, RLE run of 1 x 1
        data += [4, 0x02, 0x07]                       // bit width 4, RLE run of 1 x index 7
        let page = PageHeader(type: PageTypeID.dataPage, uncompressedPageSize: Int32(data.count), compressedPageSize: Int32(data.count),
                              dataPage: DataPageHeader(numValues: 1, encoding: EncodingID.rleDictionary))
        let one = ColumnChunkReader(column: column, codec: CodecID.uncompressed, rowCount: 1)
        let bytes = chunk(dictionary, body: [UInt8](repeating: 9, count: 8)) + chunk(page, body: data)
        #expect(throws: FormatIssue.corrupt("dictionary index 7 but the dictionary has 1 entries")) { try one.decode(bytes) }
        // Unsupported codec id.
        let lzo = ColumnChunkReader(column: column, codec: CodecID.lzo, rowCount: 1)
        #expect(throws: FormatIssue.unsupportedCodec("LZO")) { try lzo.decode(chunk(page, body: data)) }
    }

    @Test func notAFile() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: ParquetError.self) { try ParquetReader(path: dir.path) }
            let missing = dir.appendingPathComponent("missing.parquet").path
            do {
                _ = try ParquetReader(path: missing)
                Issue.record("missing file opened")
            } catch let error as ParquetError {
                guard case .io(let path, _, let code) = error, path == missing, code == ENOENT else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(error.description.contains("No such file"))
            }
        }
    }
}
