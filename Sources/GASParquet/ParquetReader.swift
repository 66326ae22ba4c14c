// Parquet reader for flat files. Reads the footer once at open; each `readRowGroup` reads the
// requested column chunks with positional reads. Input is untrusted: sizes are capped, offsets
// bounds-checked, and every failure is a typed `ParquetError`.

public final class ParquetReader: Sendable {
    public let path: String
    public let schema: ParquetSchema
    public let rowCount: Int
    public let keyValueMetadata: [String: String]
    /// The writer's `created_by` string, if any.
    public let createdBy: String?
    public var rowGroupCount: Int { rowGroups.count }

    /// Largest footer the reader will load.
    public static let maxFooterBytes = 64 << 20
    /// Largest row group (in rows) the reader will decode; guards against tiny files that claim
    /// billions of rows through run-length encoding.
    public static let maxRowsPerRowGroup = 1 << 27

    private let file: FileSource
    private let rowGroups: [RowGroup]
    /// Start of the footer: column chunks must lie in 4..<footerStart.
    private let footerStart: Int64

    private static let magic: [UInt8] = Array("PAR1".utf8)
    private static let encryptedMagic: [UInt8] = Array("PARE".utf8)

    public init(path: String) throws {
        self.path = path
        let file = try FileSource(path: path)
        self.file = file
        let size = file.size
        let startsWithMagic = try size >= 4 && file.read(offset: 0, count: 4) == Self.magic
        guard size >= 12 else {
            if startsWithMagic {
                throw ParquetError.truncated(path: path, detail: "only \(size) bytes, ends before the footer")
            }
            throw ParquetError.notParquet(path: path, reason: "only \(size) bytes; a Parquet file has at least 12")
        }
        guard startsWithMagic else {
            throw ParquetError.notParquet(path: path, reason: "does not start with the PAR1 magic bytes")
        }
        let tail = try file.read(offset: size - 8, count: 8)
        let tailMagic = Array(tail[4..<8])
        if tailMagic == Self.encryptedMagic {
            throw ParquetError.notParquet(path: path, reason: "encrypted footer (PARE) is not supported")
        }
        guard tailMagic == Self.magic else {
            throw ParquetError.truncated(path: path, detail: "does not end with the PAR1 magic bytes (incomplete copy, or the writer was never closed)")
        }
        let footerLength = Int64(tail.withUnsafeBytes { readLE32($0, at: 0) })
        guard footerLength <= Int64(Self.maxFooterBytes) else {
            throw ParquetError.limitExceeded(path: path, what: "footer length", value: footerLength, limit: Int64(Self.maxFooterBytes))
        }
        guard footerLength <= size - 12 else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "footer length \(footerLength) exceeds the \(size)-byte file")
        }
        footerStart = size - 8 - footerLength
        let footer = try file.read(offset: footerStart, count: Int(footerLength))
        let meta: FileMetaData
        do {
            meta = try FileMetaData.decode(footer)
        } catch let issue as FormatIssue {
            throw issue.parquetError(path: path, column: nil)
        }
        let schema = try Self.flatSchema(meta.schema, path: path)
        self.schema = schema
        guard meta.numRows >= 0 else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "negative row count \(meta.numRows)")
        }
        rowCount = Int(meta.numRows)
        try Self.validate(meta.rowGroups, schema: schema, path: path)
        rowGroups = meta.rowGroups
        keyValueMetadata = Dictionary(meta.keyValueMetadata.map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        createdBy = meta.createdBy
    }

    /// Converts the footer's schema tree into flat columns, rejecting nesting and unsupported types.
    private static func flatSchema(_ elements: [SchemaElement], path: String) throws -> ParquetSchema {
        guard let root = elements.first else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "the schema is empty")
        }
        let childCount = Int(root.numChildren ?? 0)
        guard childCount >= 0, childCount <= elements.count - 1 else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "root declares \(childCount) columns, schema has \(elements.count - 1) elements")
        }
        var columns: [ParquetColumn] = []
        for element in elements.dropFirst().prefix(childCount) {
            let name = element.name
            if (element.numChildren ?? 0) > 0 || element.type == nil {
                throw ParquetError.unsupportedSchema(path: path, column: name, reason: "nested group (struct, list or map) columns are not supported yet")
            }
            if element.repetition == RepetitionID.repeated {
                throw ParquetError.unsupportedSchema(path: path, column: name, reason: "repeated (list) columns are not supported yet")
            }
            guard let typeID = element.type, let type = PhysicalTypeID.physicalType(typeID) else {
                throw ParquetError.unsupportedSchema(path: path, column: name, reason: "physical type \(PhysicalTypeID.name(element.type ?? -1)) is not supported")
            }
            let textual = [LogicalTypeID.string, LogicalTypeID.enumeration, LogicalTypeID.json].contains(element.logicalType ?? -1)
                || [ConvertedTypeID.utf8, ConvertedTypeID.enumeration, ConvertedTypeID.json].contains(element.convertedType ?? -1)
            columns.append(ParquetColumn(name: name, type: type, logical: type == .byteArray && textual ? .string : .none,
                                         optional: element.repetition == RepetitionID.optional, dictionary: false))
        }
        guard elements.count == childCount + 1 else {
            // Extra elements can only be children of groups, which were rejected above.
            throw ParquetError.corrupt(path: path, column: nil, detail: "schema has \(elements.count - 1 - childCount) elements beyond the root's children")
        }
        return ParquetSchema(columns: columns)
    }

    private static func validate(_ rowGroups: [RowGroup], schema: ParquetSchema, path: String) throws {
        for (index, group) in rowGroups.enumerated() {
            guard group.numRows >= 0 else {
                throw ParquetError.corrupt(path: path, column: nil, detail: "row group \(index) has \(group.numRows) rows")
            }
            guard group.columns.count == schema.columns.count else {
                throw ParquetError.corrupt(path: path, column: nil, detail: "row group \(index) has \(group.columns.count) column chunks, schema has \(schema.columns.count) columns")
            }
            for (chunk, column) in zip(group.columns, schema.columns) {
                guard chunk.filePath == nil else {
                    throw ParquetError.unsupportedSchema(path: path, column: column.name, reason: "column chunk stored in another file (\(chunk.filePath ?? ""))")
                }
                guard let meta = chunk.metaData else {
                    throw ParquetError.corrupt(path: path, column: column.name, detail: "row group \(index) has no column metadata")
                }
                guard meta.type == PhysicalTypeID.of(column.type) else {
                    throw ParquetError.corrupt(path: path, column: column.name, detail: "column chunk type \(PhysicalTypeID.name(meta.type)) differs from schema type \(column.type)")
                }
            }
        }
    }

    /// Number of rows in one row group.
    public func rowCount(ofRowGroup index: Int) throws -> Int {
        guard rowGroups.indices.contains(index) else {
            throw ParquetError.rowGroupOutOfRange(path: path, index: index, count: rowGroups.count)
        }
        return Int(rowGroups[index].numRows)
    }

    /// Reads the given columns (default: all, in schema order) of one row group, in the order requested.
    public func readRowGroup(_ index: Int, columns names: [String]? = nil) throws -> [ParquetColumnValues] {
        guard rowGroups.indices.contains(index) else {
            throw ParquetError.rowGroupOutOfRange(path: path, index: index, count: rowGroups.count)
        }
        let group = rowGroups[index]
        guard group.numRows <= Int64(Self.maxRowsPerRowGroup) else {
            throw ParquetError.limitExceeded(path: path, what: "rows in row group \(index)", value: group.numRows, limit: Int64(Self.maxRowsPerRowGroup))
        }
        let indices: [Int]
        if let names {
            indices = try names.map { name in
                guard let i = schema.index(of: name) else {
                    throw ParquetError.unknownColumn(path: path, column: name, available: schema.columns.map(\.name))
                }
                return i
            }
        } else {
            indices = Array(schema.columns.indices)
        }
        return try indices.map { try readColumn($0, of: group) }
    }

    private func readColumn(_ columnIndex: Int, of group: RowGroup) throws -> ParquetColumnValues {
        let column = schema.columns[columnIndex]
        guard let meta = group.columns[columnIndex].metaData else {
            throw ParquetError.corrupt(path: path, column: column.name, detail: "missing column metadata")
        }
        guard meta.numValues == group.numRows else {
            throw ParquetError.corrupt(path: path, column: column.name, detail: "column chunk has \(meta.numValues) values, row group has \(group.numRows) rows")
        }
        if group.numRows == 0 {
            // pyarrow writes zero-row groups with empty, offset-0 column chunks: nothing to read.
            return try ColumnChunkReader(column: column, codec: meta.codec, rowCount: 0).decode([])
        }
        var start = meta.dataPageOffset
        if let dictionaryOffset = meta.dictionaryPageOffset, dictionaryOffset > 0, dictionaryOffset < start {
            start = dictionaryOffset
        }
        let length = meta.totalCompressedSize
        guard start >= 4, length >= 0, length <= footerStart - start else {
            throw ParquetError.corrupt(path: path, column: column.name, detail: "column chunk bytes \(start)..<\(start &+ length) lie outside the data region 4..<\(footerStart)")
        }
        let bytes = try file.read(offset: start, count: Int(length))
        do {
            return try ColumnChunkReader(column: column, codec: meta.codec, rowCount: Int(group.numRows)).decode(bytes)
        } catch let issue as FormatIssue {
            throw issue.parquetError(path: path, column: column.name)
        }
    }
}
