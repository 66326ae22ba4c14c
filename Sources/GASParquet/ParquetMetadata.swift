// Parquet footer and page-header structures (parquet.thrift field ids), with compact-protocol
// encoders for the writer and tolerant decoders for the reader. Only fields this module uses are
// modelled; everything else is skipped when decoding.

/// parquet.thrift `Type`.
enum PhysicalTypeID {
    static let boolean: Int32 = 0, int32: Int32 = 1, int64: Int32 = 2, int96: Int32 = 3
    static let float: Int32 = 4, double: Int32 = 5, byteArray: Int32 = 6, fixedLenByteArray: Int32 = 7

    static func of(_ type: ParquetPhysicalType) -> Int32 {
        switch type {
        case .boolean: return boolean
        case .int32: return int32
        case .int64: return int64
        case .float: return float
        case .double: return double
        case .byteArray: return byteArray
        }
    }

    static func physicalType(_ id: Int32) -> ParquetPhysicalType? {
        switch id {
        case boolean: return .boolean
        case int32: return .int32
        case int64: return .int64
        case float: return .float
        case double: return .double
        case byteArray: return .byteArray
        default: return nil
        }
    }

    private static let names = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"]

    static func name(_ id: Int32) -> String {
        names.indices.contains(Int(id)) ? names[Int(id)] : "type #\(id)"
    }
}

/// parquet.thrift `Encoding`.
enum EncodingID {
    static let plain: Int32 = 0, plainDictionary: Int32 = 2, rle: Int32 = 3, bitPacked: Int32 = 4
    static let deltaBinaryPacked: Int32 = 5, deltaLengthByteArray: Int32 = 6, deltaByteArray: Int32 = 7
    static let rleDictionary: Int32 = 8, byteStreamSplit: Int32 = 9

    static func name(_ id: Int32) -> String {
        switch id {
        case 0: return "PLAIN"
        case 2: return "PLAIN_DICTIONARY"
        case 3: return "RLE"
        case 4: return "BIT_PACKED"
        case 5: return "DELTA_BINARY_PACKED"
        case 6: return "DELTA_LENGTH_BYTE_ARRAY"
        case 7: return "DELTA_BYTE_ARRAY"
        case 8: return "RLE_DICTIONARY"
        case 9: return "BYTE_STREAM_SPLIT"
        default: return "encoding #\(id)"
        }
    }
}

/// parquet.thrift `CompressionCodec`.
enum CodecID {
    static let uncompressed: Int32 = 0, snappy: Int32 = 1, gzip: Int32 = 2, lzo: Int32 = 3
    static let brotli: Int32 = 4, lz4: Int32 = 5, zstd: Int32 = 6, lz4Raw: Int32 = 7

    static func of(_ codec: ParquetCodec) -> Int32 {
        switch codec {
        case .uncompressed: return uncompressed
        case .snappy: return snappy
        case .gzip: return gzip
        case .zstd: return zstd
        }
    }

    static func name(_ id: Int32) -> String {
        switch id {
        case 0: return "UNCOMPRESSED"
        case 1: return "SNAPPY"
        case 2: return "GZIP"
        case 3: return "LZO"
        case 4: return "BROTLI"
        case 5: return "LZ4"
        case 6: return "ZSTD"
        case 7: return "LZ4_RAW"
        default: return "codec #\(id)"
        }
    }
}

/// parquet.thrift `PageType`.
enum PageTypeID {
    static let dataPage: Int32 = 0, indexPage: Int32 = 1, dictionaryPage: Int32 = 2, dataPageV2: Int32 = 3
}

/// parquet.thrift `FieldRepetitionType`.
enum RepetitionID {
    static let required: Int32 = 0, optional: Int32 = 1, repeated: Int32 = 2
}

/// parquet.thrift `ConvertedType` values that mean "UTF-8 text".
enum ConvertedTypeID {
    static let utf8: Int32 = 0, enumeration: Int32 = 4, json: Int32 = 19
}

/// Field ids of the `LogicalType` union members that mean "UTF-8 text".
enum LogicalTypeID {
    static let string: Int16 = 1, enumeration: Int16 = 4, json: Int16 = 12
}

struct SchemaElement {
    var type: Int32?
    var typeLength: Int32?
    var repetition: Int32?
    var name = ""
    var numChildren: Int32?
    var convertedType: Int32?
    /// Field id of the `LogicalType` union member that is set (1 = STRING).
    var logicalType: Int16?

    func encode(_ w: inout ThriftWriter) {
        w.beginStructElement()
        if let type { w.i32(1, type) }
        if let typeLength { w.i32(2, typeLength) }
        if let repetition { w.i32(3, repetition) }
        w.string(4, name)
        if let numChildren { w.i32(5, numChildren) }
        if let convertedType { w.i32(6, convertedType) }
        if let logicalType {
            w.beginStruct(10)
            w.beginStruct(logicalType)
            w.endStruct()
            w.endStruct()
        }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftReader) throws -> SchemaElement {
        var e = SchemaElement()
        var hasName = false
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .i32): e.type = try r.i32()
            case (2, .i32): e.typeLength = try r.i32()
            case (3, .i32): e.repetition = try r.i32()
            case (4, .binary): e.name = try r.string(); hasName = true
            case (5, .i32): e.numChildren = try r.i32()
            case (6, .i32): e.convertedType = try r.i32()
            case (10, .structure):
                try r.readStruct { r, member, memberType in
                    if e.logicalType == nil { e.logicalType = member }
                    try r.skip(memberType)
                    return true
                }
            default: return false
            }
            return true
        }
        guard hasName else { throw FormatIssue.corrupt("schema element without a name") }
        return e
    }
}

struct Statistics: Equatable {
    var max: [UInt8]?
    var min: [UInt8]?
    var nullCount: Int64?
    var distinctCount: Int64?
    var maxValue: [UInt8]?
    var minValue: [UInt8]?

    func encode(_ w: inout ThriftWriter, fieldID: Int16) {
        w.beginStruct(fieldID)
        if let max { w.binary(1, max) }
        if let min { w.binary(2, min) }
        if let nullCount { w.i64(3, nullCount) }
        if let distinctCount { w.i64(4, distinctCount) }
        if let maxValue { w.binary(5, maxValue) }
        if let minValue { w.binary(6, minValue) }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftReader) throws -> Statistics {
        var s = Statistics()
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .binary): s.max = try r.binary()
            case (2, .binary): s.min = try r.binary()
            case (3, .i64): s.nullCount = try r.i64()
            case (4, .i64): s.distinctCount = try r.i64()
            case (5, .binary): s.maxValue = try r.binary()
            case (6, .binary): s.minValue = try r.binary()
            default: return false
            }
            return true
        }
        return s
    }
}

struct ColumnMetaData {
    var type: Int32 = 0
    var encodings: [Int32] = []
    var pathInSchema: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?

    func encode(_ w: inout ThriftWriter, fieldID: Int16) {
        w.beginStruct(fieldID)
        w.i32(1, type)
        w.list(2, of: .i32, count: encodings.count)
        for e in encodings { w.i32Element(e) }
        w.list(3, of: .binary, count: pathInSchema.count)
        for p in pathInSchema { w.stringElement(p) }
        w.i32(4, codec)
        w.i64(5, numValues)
        w.i64(6, totalUncompressedSize)
        w.i64(7, totalCompressedSize)
        w.i64(9, dataPageOffset)
        if let dictionaryPageOffset { w.i64(11, dictionaryPageOffset) }
        if let statistics { statistics.encode(&w, fieldID: 12) }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftReader) throws -> ColumnMetaData {
        var m = ColumnMetaData()
        var seen = Set<Int16>()
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .i32): m.type = try r.i32()
            case (2, .list): m.encodings = try r.readI32List()
            case (3, .list): m.pathInSchema = try r.readStringList()
            case (4, .i32): m.codec = try r.i32()
            case (5, .i64): m.numValues = try r.i64()
            case (6, .i64): m.totalUncompressedSize = try r.i64()
            case (7, .i64): m.totalCompressedSize = try r.i64()
            case (9, .i64): m.dataPageOffset = try r.i64()
            case (11, .i64): m.dictionaryPageOffset = try r.i64()
            case (12, .structure): m.statistics = try Statistics.decode(&r)
            default: return false
            }
            seen.insert(id)
            return true
        }
        for required: Int16 in [1, 4, 5, 7, 9] where !seen.contains(required) {
            throw FormatIssue.corrupt("ColumnMetaData is missing required field \(required)")
        }
        return m
    }
}

struct ColumnChunk {
    var filePath: String?
    var fileOffset: Int64 = 0
    var metaData: ColumnMetaData?

    func encode(_ w: inout ThriftWriter) {
        w.beginStructElement()
        if let filePath { w.string(1, filePath) }
        w.i64(2, fileOffset)
        metaData?.encode(&w, fieldID: 3)
        w.endStruct()
    }

    static func decode(_ r: inout ThriftReader) throws -> ColumnChunk {
        var c = ColumnChunk()
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .binary): c.filePath = try r.string()
            case (2, .i64): c.fileOffset = try r.i64()
            case (3, .structure): c.metaData = try ColumnMetaData.decode(&r)
            default: return false
            }
            return true
        }
        return c
    }
}

struct RowGroup {
    var columns: [ColumnChunk] = []
    var totalByteSize: Int64 = 0
    var numRows: Int64 = 0
    var fileOffset: Int64?
    var totalCompressedSize: Int64?
    var ordinal: Int16?

    func encode(_ w: inout ThriftWriter) {
        w.beginStructElement()
        w.list(1, of: .structure, count: columns.count)
        for c in columns { c.encode(&w) }
        w.i64(2, totalByteSize)
        w.i64(3, numRows)
        if let fileOffset { w.i64(5, fileOffset) }
        if let totalCompressedSize { w.i64(6, totalCompressedSize) }
        if let ordinal { w.i16(7, ordinal) }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftReader) throws -> RowGroup {
        var g = RowGroup()
        var hasRows = false
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .list): g.columns = try r.readStructList(ColumnChunk.decode)
            case (2, .i64): g.totalByteSize = try r.i64()
            case (3, .i64): g.numRows = try r.i64(); hasRows = true
            case (5, .i64): g.fileOffset = try r.i64()
            case (6, .i64): g.totalCompressedSize = try r.i64()
            case (7, .i16): g.ordinal = try r.i16()
            default: return false
            }
            return true
        }
        guard hasRows else { throw FormatIssue.corrupt("RowGroup is missing num_rows") }
        return g
    }
}

struct KeyValue {
    var key: String
    var value: String?
}

struct FileMetaData {
    var version: Int32 = 2
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroup] = []
    var keyValueMetadata: [KeyValue] = []
    var createdBy: String?
    /// Number of leaf columns to declare TYPE_DEFINED_ORDER for, so readers trust min/max statistics.
    var typeDefinedColumnOrders = 0

    func encode() -> [UInt8] {
        var w = ThriftWriter(reservingCapacity: 1024 + rowGroups.count * 512)
        w.i32(1, version)
        w.list(2, of: .structure, count: schema.count)
        for e in schema { e.encode(&w) }
        w.i64(3, numRows)
        w.list(4, of: .structure, count: rowGroups.count)
        for g in rowGroups { g.encode(&w) }
        if !keyValueMetadata.isEmpty {
            w.list(5, of: .structure, count: keyValueMetadata.count)
            for kv in keyValueMetadata {
                w.beginStructElement()
                w.string(1, kv.key)
                if let value = kv.value { w.string(2, value) }
                w.endStruct()
            }
        }
        if let createdBy { w.string(6, createdBy) }
        if typeDefinedColumnOrders > 0 {
            w.list(7, of: .structure, count: typeDefinedColumnOrders)
            for _ in 0..<typeDefinedColumnOrders {
                w.beginStructElement()
                w.beginStruct(1)  // ColumnOrder.TYPE_ORDER = TypeDefinedOrder {}
                w.endStruct()
                w.endStruct()
            }
        }
        w.endStruct()
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> FileMetaData {
        var r = ThriftReader(bytes)
        var m = FileMetaData()
        var seen = Set<Int16>()
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .i32): m.version = try r.i32()
            case (2, .list): m.schema = try r.readStructList(SchemaElement.decode)
            case (3, .i64): m.numRows = try r.i64()
            case (4, .list): m.rowGroups = try r.readStructList(RowGroup.decode)
            case (5, .list):
                m.keyValueMetadata = try r.readStructList { r in
                    var key: String?
                    var value: String?
                    try r.readStruct { r, id, type in
                        switch (id, type) {
                        case (1, .binary): key = try r.string()
                        case (2, .binary): value = try r.string()
                        default: return false
                        }
                        return true
                    }
                    guard let key else { throw FormatIssue.corrupt("key-value metadata entry without a key") }
                    return KeyValue(key: key, value: value)
                }
            case (6, .binary): m.createdBy = try r.string()
            default: return false
            }
            seen.insert(id)
            return true
        }
        for required: Int16 in [2, 3, 4] where !seen.contains(required) {
            throw FormatIssue.corrupt("FileMetaData is missing required field \(required)")
        }
        return m
    }
}

struct DataPageHeader {
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = EncodingID.rle
    var repetitionLevelEncoding: Int32 = EncodingID.rle
}

struct DictionaryPageHeader {
    var numValues: Int32 = 0
    var encoding: Int32 = EncodingID.plain
}

struct DataPageHeaderV2 {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true
}

struct PageHeader {
    var type: Int32 = 0
    var uncompressedPageSize: Int32 = 0
    var compressedPageSize: Int32 = 0
    var dataPage: DataPageHeader?
    var dictionaryPage: DictionaryPageHeader?
    var dataPageV2: DataPageHeaderV2?

    func encode() -> [UInt8] {
        var w = ThriftWriter(reservingCapacity: 48)
        w.i32(1, type)
        w.i32(2, uncompressedPageSize)
        w.i32(3, compressedPageSize)
        if let d = dataPage {
            w.beginStruct(5)
            w.i32(1, d.numValues)
            w.i32(2, d.encoding)
            w.i32(3, d.definitionLevelEncoding)
            w.i32(4, d.repetitionLevelEncoding)
            w.endStruct()
        }
        if let d = dictionaryPage {
            w.beginStruct(7)
            w.i32(1, d.numValues)
            w.i32(2, d.encoding)
            w.endStruct()
        }
        if let d = dataPageV2 {
            w.beginStruct(8)
            w.i32(1, d.numValues)
            w.i32(2, d.numNulls)
            w.i32(3, d.numRows)
            w.i32(4, d.encoding)
            w.i32(5, d.definitionLevelsByteLength)
            w.i32(6, d.repetitionLevelsByteLength)
            w.bool(7, d.isCompressed)
            w.endStruct()
        }
        w.endStruct()
        return w.bytes
    }

    static func decode(_ r: inout ThriftReader) throws -> PageHeader {
        var h = PageHeader()
        var seen = Set<Int16>()
        try r.readStruct { r, id, type in
            switch (id, type) {
            case (1, .i32): h.type = try r.i32()
            case (2, .i32): h.uncompressedPageSize = try r.i32()
            case (3, .i32): h.compressedPageSize = try r.i32()
            case (5, .structure):
                var d = DataPageHeader()
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, .i32): d.numValues = try r.i32()
                    case (2, .i32): d.encoding = try r.i32()
                    case (3, .i32): d.definitionLevelEncoding = try r.i32()
                    case (4, .i32): d.repetitionLevelEncoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dataPage = d
            case (7, .structure):
                var d = DictionaryPageHeader()
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, .i32): d.numValues = try r.i32()
                    case (2, .i32): d.encoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dictionaryPage = d
            case (8, .structure):
                var d = DataPageHeaderV2()
                try r.readStruct { r, id, type in
                    switch (id, type) {
                    case (1, .i32): d.numValues = try r.i32()
                    case (2, .i32): d.numNulls = try r.i32()
                    case (3, .i32): d.numRows = try r.i32()
                    case (4, .i32): d.encoding = try r.i32()
                    case (5, .i32): d.definitionLevelsByteLength = try r.i32()
                    case (6, .i32): d.repetitionLevelsByteLength = try r.i32()
                    case (7, .boolTrue), (7, .boolFalse): d.isCompressed = r.bool(type)
                    default: return false
                    }
                    return true
                }
                h.dataPageV2 = d
            default: return false
            }
            seen.insert(id)
            return true
        }
        for required: Int16 in [1, 2, 3] where !seen.contains(required) {
            throw FormatIssue.corrupt("page header is missing required field \(required)")
        }
        return h
    }
}
