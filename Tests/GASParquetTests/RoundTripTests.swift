// Writer -> reader round trips in pure Swift, plus writer validation errors.

import Foundation
import Testing
@testable import GASParquet

@Suite struct RoundTripTests {
    /// Equality that treats NaN as equal to NaN with the same bits (ParquetColumnValues == does not).
    private func expectSameValues(_ a: [ParquetColumnValues], _ b: [ParquetColumnValues],
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.map(canonical) == b.map(canonical), sourceLocation: sourceLocation)
    }

    private func writeAndRead(_ schema: ParquetSchema, _ groups: [[ParquetColumnValues]], codec: ParquetCodec,
                              in dir: URL, configure: (ParquetWriter) -> Void = { _ in }) throws -> ParquetReader {
        let path = dir.appendingPathComponent("t-\(codec).parquet").path
        let writer = try ParquetWriter(path: path, schema: schema, codec: codec, keyValueMetadata: [("k", "v")])
        configure(writer)
        for group in groups { try writer.writeRowGroup(group) }
        try writer.close()
        return try ParquetReader(path: path)
    }

    @Test(arguments: ParquetCodec.allCases.filter(\.isAvailable))
    func allTypesAllCodecs(codec: ParquetCodec) throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: Samples.allColumns)
            let groups = [Samples.rowGroup(schema, rows: 257, seed: 1), Samples.rowGroup(schema, rows: 3, seed: 2)]
            let reader = try writeAndRead(schema, groups, codec: codec, in: dir)
            #expect(reader.rowCount == 260)
            #expect(reader.rowGroupCount == 2)
            #expect(reader.keyValueMetadata == ["k": "v"])
            #expect(reader.createdBy == "gascli-parquet")
            #expect(reader.schema.columns.map(\.name) == schema.columns.map(\.name))
            #expect(reader.schema.columns.map(\.type) == schema.columns.map(\.type))
            #expect(reader.schema.columns.map(\.logical) == schema.columns.map(\.logical))
            #expect(reader.schema.columns.map(\.optional) == schema.columns.map(\.optional))
            for (index, group) in groups.enumerated() {
                expectSameValues(try reader.readRowGroup(index), group)
                #expect(try reader.rowCount(ofRowGroup: index) == group[0].count)
            }
        }
    }

    @Test func nanAndSignedZeroKeepTheirBits() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: [
                ParquetColumn(name: "d", type: .double, optional: true),
                ParquetColumn(name: "dd", type: .double, dictionary: true),
                ParquetColumn(name: "f", type: .float),
            ])
            let payloadNaN = Double(bitPattern: 0x7FF8_0000_0000_1234)
            let group: [ParquetColumnValues] = [
                .double([.nan, -0.0, 0.0, nil, payloadNaN]),
                .double([-0.0, 0.0, .nan, .nan, 1]),
                .float([.nan, -0.0, 0, .infinity, -1]),
            ]
            let reader = try writeAndRead(schema, [group], codec: .snappy, in: dir)
            expectSameValues(try reader.readRowGroup(0), group)
        }
    }

    @Test func multiPageColumnsAndDictionaryFallback() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: [
                .string("labels", optional: true),
                .string("unique", dictionary: true),
                ParquetColumn(name: "n", type: .int64, optional: true, dictionary: true),
                ParquetColumn(name: "b", type: .boolean, optional: true),
                ParquetColumn(name: "x", type: .double),
            ])
            let rows = 20_000
            let group: [ParquetColumnValues] = [
                .string((0..<rows).map { $0 % 7 == 0 ? nil : "label-\($0 % 13)" }),
                .string((0..<rows).map { "unique-value-\($0)" }),
                .int64((0..<rows).map { $0 % 11 == 0 ? nil : Int64($0 % 100) }),
                .boolean((0..<rows).map { $0 % 3 == 0 ? nil : $0 % 2 == 0 }),
                .double((0..<rows).map { Double($0) * 0.5 }),
            ]
            let reader = try writeAndRead(schema, [group, group], codec: .snappy, in: dir) { writer in
                writer.targetPageBytes = 2_000      // many pages per column chunk
                writer.dictionaryLimitBytes = 8_000 // "unique" falls back to PLAIN, "labels" stays dictionary
            }
            expectSameValues(try reader.readRowGroup(0), group)
            expectSameValues(try reader.readRowGroup(1), group)
        }
    }

    @Test func manyRowGroupsAndColumnSelection() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: [
                ParquetColumn(name: "id", type: .int32),
                .string("name", optional: true),
                ParquetColumn(name: "score", type: .float, optional: true),
            ])
            let path = dir.appendingPathComponent("many.parquet").path
            let writer = try ParquetWriter(path: path, schema: schema, codec: .gzip)
            var expected: [[ParquetColumnValues]] = []
            for g in 0..<200 {
                let rows = g % 4 + 1
                let group: [ParquetColumnValues] = [
                    .int32((0..<rows).map { Int32(g * 10 + $0) }),
                    .string((0..<rows).map { $0 == 1 ? nil : "g\(g)-\($0)" }),
                    .float((0..<rows).map { $0 == 2 ? nil : Float(g) + 0.25 }),
                ]
                try writer.writeRowGroup(group)
                expected.append(group)
                if g % 50 == 0 { try writer.writeRowGroup([.int32([]), .string([]), .float([])]) }  // skipped
            }
            try writer.close()
            try writer.close()  // idempotent
            let reader = try ParquetReader(path: path)
            #expect(reader.rowGroupCount == 200)
            #expect(reader.rowCount == expected.reduce(0) { $0 + $1[0].count })
            for (i, group) in expected.enumerated() {
                expectSameValues(try reader.readRowGroup(i), group)
                expectSameValues(try reader.readRowGroup(i, columns: ["score", "id"]), [group[2], group[0]])
            }
            #expect(throws: ParquetError.rowGroupOutOfRange(path: path, index: 200, count: 200)) {
                try reader.readRowGroup(200)
            }
            #expect(throws: ParquetError.self) { try reader.readRowGroup(0, columns: ["nope"]) }
        }
    }

    @Test func fileWithNoRowGroups() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: [.string("s", optional: true), ParquetColumn(name: "i", type: .int64)])
            let path = dir.appendingPathComponent("empty.parquet").path
            let writer = try ParquetWriter(path: path, schema: schema)
            try writer.writeRowGroup([.string([]), .int64([])])
            try writer.close()
            let reader = try ParquetReader(path: path)
            #expect(reader.rowCount == 0)
            #expect(reader.rowGroupCount == 0)
            #expect(reader.schema.columns.map(\.name) == ["s", "i"])
        }
    }

    @Test func outputIsDeterministic() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: Samples.allColumns)
            var files: [[UInt8]] = []
            let codecs = ParquetCodec.allCases.filter(\.isAvailable)
            for attempt in 0..<2 {
                for codec in codecs {
                    let url = dir.appendingPathComponent("det-\(attempt)-\(codec).parquet")
                    let writer = try ParquetWriter(path: url.path, schema: schema, codec: codec, keyValueMetadata: [("a", "1"), ("b", "2")])
                    try writer.writeRowGroup(Samples.rowGroup(schema, rows: 500, seed: 9))
                    try writer.close()
                    files.append(try readFile(url))
                }
            }
            for k in codecs.indices {
                #expect(files[k] == files[k + codecs.count], "\(codecs[k])")
            }
        }
    }

    @Test func writerValidationErrors() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("v.parquet").path
            let schema = ParquetSchema(columns: [ParquetColumn(name: "a", type: .int32), .string("b", optional: true)])
            let writer = try ParquetWriter(path: path, schema: schema)
            #expect(throws: ParquetError.columnCountMismatch(path: path, expected: 2, got: 1)) {
                try writer.writeRowGroup([.int32([1])])
            }
            #expect(throws: ParquetError.typeMismatch(path: path, column: "a", expected: ".int32 (INT32)", got: "int64")) {
                try writer.writeRowGroup([.int64([1]), .string(["x"])])
            }
            #expect(throws: ParquetError.rowCountMismatch(path: path, column: "b", expected: 1, got: 2)) {
                try writer.writeRowGroup([.int32([1]), .string(["x", "y"])])
            }
            #expect(throws: ParquetError.nullInRequiredColumn(path: path, column: "a", row: 1)) {
                try writer.writeRowGroup([.int32([1, nil]), .string(["x", nil])])
            }
            // The writer is still usable after rejected input.
            try writer.writeRowGroup([.int32([1, 2]), .string(["x", nil])])
            try writer.close()
            #expect(throws: ParquetError.writerClosed(path: path)) {
                try writer.writeRowGroup([.int32([1]), .string(["x"])])
            }
            let reader = try ParquetReader(path: path)
            expectSameValues(try reader.readRowGroup(0), [.int32([1, 2]), .string(["x", nil])])

            #expect(throws: ParquetError.self) { try ParquetWriter(path: path, schema: ParquetSchema(columns: [])) }
            #expect(throws: ParquetError.self) {
                try ParquetWriter(path: path, schema: ParquetSchema(columns: [ParquetColumn(name: "x", type: .int32),
                                                                             ParquetColumn(name: "x", type: .int64)]))
            }
            #expect(throws: ParquetError.self) {
                try ParquetWriter(path: path, schema: ParquetSchema(columns: [ParquetColumn(name: "x", type: .int32, logical: .string)]))
            }
            #expect(throws: ParquetError.self) {
                try ParquetWriter(path: dir.appendingPathComponent("missing/dir/x.parquet").path, schema: schema)
            }
        }
    }

    /// `groups` row groups whose even columns are `shared` in every one, the others their own.
    private func groupsSharingEvenColumns(_ schema: ParquetSchema, rows: Int, groups: Int,
                                          seed: UInt64) -> (shared: [ParquetColumnValues], groups: [[ParquetColumnValues]]) {
        let shared = Samples.rowGroup(schema, rows: rows, seed: seed)
        let own = (0..<groups).map { Samples.rowGroup(schema, rows: rows, seed: seed * 10 + UInt64($0)) }
        return (shared, own.map { group in group.indices.map { $0 % 2 == 0 ? shared[$0] : group[$0] } })
    }

    /// The file written from the values alone, to compare with.
    private func writePlain(_ groups: [[ParquetColumnValues]], schema: ParquetSchema, codec: ParquetCodec, in dir: URL,
                            pageBytes: Int? = nil) throws -> URL {
        let url = dir.appendingPathComponent("plain.parquet")
        let writer = try ParquetWriter(path: url.path, schema: schema, codec: codec)
        if let pageBytes { writer.targetPageBytes = pageBytes }
        for group in groups { try writer.writeRowGroup(group) }
        try writer.close()
        return url
    }

    /// Chunks encoded ahead (`ParquetColumnEncoder`) and written in several row groups give the
    /// file written from the values, byte for byte, for every type and codec.
    @Test(arguments: ParquetCodec.allCases.filter(\.isAvailable))
    func chunksEncodedAheadWriteTheSameBytesAsValues(codec: ParquetCodec) throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: Samples.allColumns)
            let (shared, rows) = groupsSharingEvenColumns(schema, rows: 300, groups: 3, seed: 4)
            let plain = try writePlain(rows, schema: schema, codec: codec, in: dir)
            let ahead = dir.appendingPathComponent("ahead.parquet")
            let b = try ParquetWriter(path: ahead.path, schema: schema, codec: codec)
            let encoder = b.columnEncoder()
            let chunks = try shared.indices.map { try encoder.encode(shared[$0], at: $0) }
            for group in rows {
                try b.writeRowGroup(group.indices.map { $0 % 2 == 0 ? .encoded(chunks[$0]) : .values(group[$0]) })
            }
            try b.close()
            #expect(try readFile(plain) == readFile(ahead))
            let reader = try ParquetReader(path: ahead.path)
            #expect(reader.rowGroupCount == 3)
            for (i, group) in rows.enumerated() { expectSameValues(try reader.readRowGroup(i), group) }
        }
    }

    /// The chunks `writeRowGroup` returns stand for the same columns in later row groups: read back
    /// from the file (nothing held in memory), they give the file written from the values, byte for
    /// byte, whether a repeat falls in the writer's buffer or past it.
    @Test(arguments: ParquetCodec.allCases.filter(\.isAvailable))
    func writtenChunksRepeatTheSameBytes(codec: ParquetCodec) throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: Samples.allColumns)
            let (_, rows) = groupsSharingEvenColumns(schema, rows: 3000, groups: 4, seed: 5)
            let plain = try writePlain(rows, schema: schema, codec: codec, in: dir, pageBytes: 1024)  // several pages per chunk
            let repeated = dir.appendingPathComponent("repeated.parquet")
            let b = try ParquetWriter(path: repeated.path, schema: schema, codec: codec)
            b.targetPageBytes = 1024
            var first: [EncodedColumnChunk] = []
            for (g, group) in rows.enumerated() {
                // The first repeat reads bytes still in the writer's buffer, later ones the file.
                let columns: [ParquetColumnInput] = group.indices.map { g > 0 && $0 % 2 == 0 ? .encoded(first[$0]) : .values(group[$0]) }
                let written = try b.writeRowGroup(columns)
                #expect(written.count == schema.columns.count && written.allSatisfy { $0.isWritten && $0.rows == 3000 })
                if g == 0 { first = written }
                for i in stride(from: 0, to: written.count, by: 2) { #expect(written[i].byteCount == first[i].byteCount) }
            }
            try b.close()
            #expect(try readFile(plain) == readFile(repeated))
            let reader = try ParquetReader(path: repeated.path)
            #expect(reader.rowGroupCount == 4)
            for (i, group) in rows.enumerated() { expectSameValues(try reader.readRowGroup(i), group) }
        }
    }

    @Test func writtenChunksOfAnotherFileAreRefused() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: [ParquetColumn(name: "a", type: .int32)])
            let one = try ParquetWriter(path: dir.appendingPathComponent("one.parquet").path, schema: schema)
            let two = try ParquetWriter(path: dir.appendingPathComponent("two.parquet").path, schema: schema)
            let written = try one.writeRowGroup([.values(.int32([1, 2, 3]))])
            #expect(throws: ParquetError.self) { try two.writeRowGroup([.encoded(written[0])]) }
            try two.writeRowGroup([.values(.int32([4]))])  // the refusal wrote nothing and left the writer usable
            try one.writeRowGroup([.encoded(written[0])])
            try one.close()
            try two.close()
            let reader = try ParquetReader(path: dir.appendingPathComponent("one.parquet").path)
            #expect(try reader.readRowGroup(1) == [.int32([1, 2, 3])])
            #expect(try ParquetReader(path: dir.appendingPathComponent("two.parquet").path).rowCount == 1)
        }
    }

    @Test func chunksEncodedAheadAreChecked() throws {
        try withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("c.parquet").path
            let schema = ParquetSchema(columns: [ParquetColumn(name: "a", type: .int32), .string("b", optional: true)])
            let writer = try ParquetWriter(path: path, schema: schema, codec: .snappy)
            let encoder = writer.columnEncoder()
            let a = try encoder.encode(.int32([1, 2]), at: 0)
            #expect(a.rows == 2)
            // Checked as values are: type, nulls in a required column, the column's place.
            #expect(throws: ParquetError.typeMismatch(path: path, column: "a", expected: ".int32 (INT32)", got: "int64")) {
                try encoder.encode(.int64([1]), at: 0)
            }
            #expect(throws: ParquetError.nullInRequiredColumn(path: path, column: "a", row: 0)) {
                try encoder.encode(.int32([nil]), at: 0)
            }
            #expect(throws: ParquetError.columnCountMismatch(path: path, expected: 2, got: 3)) {
                try encoder.encode(.int32([1]), at: 2)
            }
            // A chunk of another column, of another codec, or of another row count is refused.
            #expect(throws: ParquetError.self) { try writer.writeRowGroup([.values(.int32([1, 2])), .encoded(a)]) }
            let other = try ParquetWriter(path: dir.appendingPathComponent("o.parquet").path, schema: schema, codec: .gzip)
            let gzip = try other.columnEncoder().encode(.int32([1, 2]), at: 0)
            #expect(throws: ParquetError.self) { try writer.writeRowGroup([.encoded(gzip), .values(.string(["x", nil]))]) }
            #expect(throws: ParquetError.rowCountMismatch(path: path, column: "b", expected: 2, got: 3)) {
                try writer.writeRowGroup([.encoded(a), .values(.string(["x", nil, "z"]))])
            }
            try writer.writeRowGroup([.encoded(a), .values(.string(["x", nil]))])
            try writer.close()
            expectSameValues(try ParquetReader(path: path).readRowGroup(0), [.int32([1, 2]), .string(["x", nil])])
        }
    }

    @Test func unicodeIsStoredByteExact() throws {
        try withTemporaryDirectory { dir in
            // Canonically equivalent but byte-different strings must stay distinct in the dictionary.
            let values: [String?] = ["e\u{301}", "\u{e9}", "", nil, "\u{e9}", "e\u{301}", "🙂", ""]
            let schema = ParquetSchema(columns: [.string("s", optional: true, dictionary: true),
                                                 .string("p", optional: true, dictionary: false)])
            let reader = try writeAndRead(schema, [[.string(values), .string(values)]], codec: .snappy, in: dir)
            let read = try reader.readRowGroup(0)
            for column in read {
                guard case .string(let strings) = column else { Issue.record("expected strings"); return }
                #expect(strings.map { $0.map { Array($0.utf8) } } == values.map { $0.map { Array($0.utf8) } })
            }
        }
    }

    @Test func zstdWithoutLibraryIsATypedError() throws {
        try withTemporaryDirectory { dir in
            guard !ParquetCodec.zstd.isAvailable else { return }
            let path = dir.appendingPathComponent("z.parquet").path
            #expect(throws: ParquetError.unsupportedCodec(path: path, column: nil, codec: "ZSTD (built without the CZstd module)")) {
                try ParquetWriter(path: path, schema: ParquetSchema(columns: [ParquetColumn(name: "x", type: .int32)]), codec: .zstd)
            }
        }
    }

    @Test func errorMessagesAreActionable() {
        let e = ParquetError.nullInRequiredColumn(path: "/tmp/x.parquet", column: "label", row: 3)
        #expect(e.description.contains("/tmp/x.parquet") && e.description.contains("label") && e.description.contains("optional"))
        let u = ParquetError.unsupportedCodec(path: "/f", column: "c", codec: "LZ4")
        #expect(u.description.contains("LZ4") && u.description.contains("SNAPPY"))
    }
}
