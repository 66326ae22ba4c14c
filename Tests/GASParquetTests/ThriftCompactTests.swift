// Thrift compact protocol: varints, zigzag, field headers, nesting and hostile input.

import Testing
@testable import GASParquet

@Suite struct ThriftCompactTests {
    @Test(arguments: [Int64.min, -1_000_000_000_000, -65, -64, -1, 0, 1, 63, 64, 300, Int64(Int32.max), .max])
    func zigzagRoundTrip(_ value: Int64) {
        #expect(ZigZag.decode(ZigZag.encode(value)) == value)
    }

    @Test func zigzagKnownValues() {
        #expect(ZigZag.encode(0) == 0)
        #expect(ZigZag.encode(-1) == 1)
        #expect(ZigZag.encode(1) == 2)
        #expect(ZigZag.encode(-2) == 3)
        #expect(ZigZag.encode(Int64.max) == UInt64.max - 1)
        #expect(ZigZag.encode(Int64.min) == UInt64.max)
    }

    @Test func varintEncoding() throws {
        var bytes: [UInt8] = []
        appendVarint(0, to: &bytes)
        appendVarint(127, to: &bytes)
        appendVarint(128, to: &bytes)
        appendVarint(300, to: &bytes)
        appendVarint(UInt64.max, to: &bytes)
        #expect(Array(bytes[0..<5]) == [0x00, 0x7F, 0x80, 0x01, 0xAC])
        var reader = ThriftReader(bytes)
        #expect(try reader.varint() == 0)
        #expect(try reader.varint() == 127)
        #expect(try reader.varint() == 128)
        #expect(try reader.varint() == 300)
        #expect(try reader.varint() == UInt64.max)
        #expect(reader.remaining == 0)
    }

    @Test func varintOverflowAndTruncationAreErrors() {
        var tooLong = ThriftReader([UInt8](repeating: 0xFF, count: 11) + [0x01])
        #expect(throws: FormatIssue.self) { try tooLong.varint() }
        var truncated = ThriftReader([0x80, 0x80])
        #expect(throws: FormatIssue.self) { try truncated.varint() }
    }

    @Test func structRoundTripWithLongFieldDeltasAndNesting() throws {
        var w = ThriftWriter()
        w.i32(1, -7)
        w.i64(20, Int64.min)           // delta > 15: long-form header
        w.beginStruct(21)
        w.string(1, "inner ✓")
        w.bool(2, true)
        w.bool(3, false)
        w.endStruct()
        w.list(22, of: .i32, count: 20)
        for k in 0..<20 { w.i32Element(Int32(k) - 10) }
        w.i16(30, -300)
        w.endStruct()

        var r = ThriftReader(w.bytes)
        var seen: [Int16] = []
        var inner: (String, Bool, Bool)?
        var list: [Int32] = []
        try r.readStruct { r, id, type in
            seen.append(id)
            switch (id, type) {
            case (1, .i32): #expect(try r.i32() == -7)
            case (20, .i64): #expect(try r.i64() == Int64.min)
            case (21, .structure):
                var text = ""
                var flags: [Bool] = []
                try r.readStruct { r, id, type in
                    if id == 1 { text = try r.string() } else { flags.append(r.bool(type)) }
                    return true
                }
                inner = (text, flags[0], flags[1])
            case (22, .list): list = try r.readI32List()
            case (30, .i16): #expect(try r.i16() == -300)
            default: return false
            }
            return true
        }
        #expect(seen == [1, 20, 21, 22, 30])
        #expect(inner?.0 == "inner ✓" && inner?.1 == true && inner?.2 == false)
        #expect(list == (0..<20).map { Int32($0) - 10 })
        #expect(r.remaining == 0)
    }

    @Test func unknownFieldsAreSkipped() throws {
        var w = ThriftWriter()
        w.beginStruct(1)
        w.list(1, of: .binary, count: 2)
        w.stringElement("a")
        w.stringElement("b")
        w.endStruct()
        w.i32(2, 99)
        w.endStruct()
        var r = ThriftReader(w.bytes)
        var value: Int32?
        try r.readStruct { r, id, _ in
            guard id == 2 else { return false }
            value = try r.i32()
            return true
        }
        #expect(value == 99)
    }

    @Test func hostileListCountIsRejectedWithoutAllocating() {
        // List header claims 2^40 elements with 2 bytes left.
        var bytes: [UInt8] = [0x19, 0xF5]
        appendVarint(1 << 40, to: &bytes)
        bytes += [0x00, 0x00]
        var r = ThriftReader(bytes)
        #expect(throws: FormatIssue.self) {
            try r.readStruct { r, _, type in
                try r.skip(type)
                return true
            }
        }
    }

    @Test func deepNestingIsRejected() {
        // 100 nested struct fields (id 1, type 12) never closed.
        let bytes = [UInt8](repeating: 0x1C, count: 100)
        var r = ThriftReader(bytes)
        #expect(throws: FormatIssue.self) { try r.readStruct { _, _, _ in false } }
    }

    @Test func footerMetadataRoundTrip() throws {
        var meta = FileMetaData()
        meta.schema = [SchemaElement(name: "schema", numChildren: 1),
                       SchemaElement(type: PhysicalTypeID.byteArray, repetition: RepetitionID.optional, name: "s",
                                     convertedType: ConvertedTypeID.utf8, logicalType: LogicalTypeID.string)]
        meta.numRows = 3
        let stats = Statistics(nullCount: 1, maxValue: Array("b".utf8), minValue: Array("a".utf8))
        let column = ColumnMetaData(type: PhysicalTypeID.byteArray, encodings: [0, 3, 8], pathInSchema: ["s"], codec: 1,
                                    numValues: 3, totalUncompressedSize: 10, totalCompressedSize: 9,
                                    dataPageOffset: 40, dictionaryPageOffset: 4, statistics: stats)
        meta.rowGroups = [RowGroup(columns: [ColumnChunk(fileOffset: 4, metaData: column)], totalByteSize: 10, numRows: 3,
                                   fileOffset: 4, totalCompressedSize: 9, ordinal: 0)]
        meta.keyValueMetadata = [KeyValue(key: "k", value: "v")]
        meta.createdBy = "test"
        meta.typeDefinedColumnOrders = 1
        let decoded = try FileMetaData.decode(meta.encode())
        #expect(decoded.schema.count == 2)
        #expect(decoded.schema[1].logicalType == LogicalTypeID.string)
        #expect(decoded.schema[1].convertedType == ConvertedTypeID.utf8)
        #expect(decoded.numRows == 3)
        let decodedColumn = try #require(decoded.rowGroups.first?.columns.first?.metaData)
        #expect(decodedColumn.encodings == [0, 3, 8])
        #expect(decodedColumn.pathInSchema == ["s"])
        #expect(decodedColumn.dictionaryPageOffset == 4)
        #expect(decodedColumn.statistics == stats)
        #expect(decoded.rowGroups[0].ordinal == 0)
        #expect(decoded.keyValueMetadata.first?.value == "v")
        #expect(decoded.createdBy == "test")
    }
}
