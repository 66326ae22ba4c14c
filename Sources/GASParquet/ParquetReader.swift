// Parquet reader for flat files and structs (nested groups without repetition). Reads the footer once at open; each `readRowGroup` reads the
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
    /// The top-level fields in schema order, each with the dotted names of its leaf columns.
    public let fields: [ParquetField]
    /// Leaf columns present in the file that this reader cannot decode, with the reason.
    public let unsupportedColumns: [String: String]

    /// Largest footer the reader will load.
    public static let maxFooterBytes = 64 << 20
    /// Largest row group (in rows) the reader will decode; guards against tiny files that claim
    /// billions of rows through run-length encoding.
    public static let maxRowsPerRowGroup = 1 << 27
    /// Largest column chunk (compressed bytes of one column in one row group) the reader loads:
    /// memory stays bounded by one row group's requested columns at a time.
    public static let maxColumnChunkBytes = 1 << 30

    private let file: FileSource
    private let rowGroups: [RowGroup]
    /// The readable leaves, parallel to `schema.columns`.
    private let readableLeaves: [Leaf]
    private let leafCount: Int
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
        let tree = try Self.schemaTree(meta.schema, path: path)
        let readable = tree.leaves.filter { $0.column != nil }
        let schema = ParquetSchema(columns: readable.compactMap(\.column))
        self.schema = schema
        self.readableLeaves = readable
        self.leafCount = tree.leaves.count
        self.fields = tree.fields
        self.unsupportedColumns = Dictionary(tree.leaves.compactMap { leaf in leaf.unsupported.map { (leaf.name, $0) } },
                                             uniquingKeysWith: { a, _ in a })
        guard meta.numRows >= 0 else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "negative row count \(meta.numRows)")
        }
        rowCount = Int(meta.numRows)
        try Self.validate(meta.rowGroups, leaves: readable, leafCount: tree.leaves.count, path: path)
        rowGroups = meta.rowGroups
        keyValueMetadata = Dictionary(meta.keyValueMetadata.map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        createdBy = meta.createdBy
    }

    /// One leaf of the schema tree as the reader needs it: where its chunk is in every row group
    /// and how deep its definition and repetition levels go.
    struct Leaf: Sendable {
        var name: String
        var chunkIndex: Int
        var maxDefinitionLevel: Int
        var maxRepetitionLevel: Int
        var physicalType: Int32?
        /// Why the leaf cannot be read, nil when it can.
        var unsupported: String?
        var column: ParquetColumn?
    }

    /// Deepest schema nesting the reader follows (structs of structs ...).
    static let maxSchemaDepth = 32

    /// Walks the footer's schema tree. Every leaf becomes a column named by its dotted path
    /// (`image.bytes` for the `datasets` library's `image: struct<bytes, path>`); structs of any
    /// depth are read through their definition levels. Leaves that cannot be read (repeated values
    /// of lists and maps, INT96, FIXED_LEN_BYTE_ARRAY) are listed in `unsupportedColumns` and
    /// throw only when asked for, so the other columns of such a file stay readable.
    private static func schemaTree(_ elements: [SchemaElement], path: String) throws -> (leaves: [Leaf], fields: [ParquetField]) {
        guard let root = elements.first else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "the schema is empty")
        }
        let childCount = Int(root.numChildren ?? 0)
        guard childCount >= 0, childCount <= elements.count - 1 else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "root declares \(childCount) columns, schema has \(elements.count - 1) elements")
        }
        var leaves: [Leaf] = []
        var fields: [ParquetField] = []
        var index = 1
        func walk(prefix: [String], definition: Int, repetition: Int, count: Int, depth: Int) throws {
            guard depth <= maxSchemaDepth else {
                throw ParquetError.limitExceeded(path: path, what: "schema nesting depth", value: Int64(depth), limit: Int64(maxSchemaDepth))
            }
            for _ in 0..<count {
                guard index < elements.count else {
                    throw ParquetError.corrupt(path: path, column: prefix.joined(separator: "."), detail: "group declares more children than the schema holds")
                }
                let element = elements[index]
                index += 1
                var def = definition, rep = repetition
                if element.repetition == RepetitionID.optional { def += 1 }
                if element.repetition == RepetitionID.repeated { def += 1; rep += 1 }
                let names = prefix + [element.name]
                let name = names.joined(separator: ".")
                let children = Int(element.numChildren ?? 0)
                if depth == 0 { fields.append(ParquetField(name: element.name, columns: [], isGroup: children > 0 || element.type == nil)) }
                let firstLeaf = leaves.count
                if children > 0 {
                    guard children <= elements.count - index else {
                        throw ParquetError.corrupt(path: path, column: name, detail: "group declares \(children) children, \(elements.count - index) schema elements remain")
                    }
                    try walk(prefix: names, definition: def, repetition: rep, count: children, depth: depth + 1)
                } else {
                    var leaf = Leaf(name: name, chunkIndex: leaves.count, maxDefinitionLevel: def, maxRepetitionLevel: rep,
                                    physicalType: element.type)
                    if element.type == nil {
                        leaf.unsupported = "empty group"
                    } else if rep > 0 {
                        leaf.unsupported = "repeated (list or map) values are not supported"
                    } else if let typeID = element.type, let type = PhysicalTypeID.physicalType(typeID) {
                        let textual = [LogicalTypeID.string, LogicalTypeID.enumeration, LogicalTypeID.json].contains(element.logicalType ?? -1)
                            || [ConvertedTypeID.utf8, ConvertedTypeID.enumeration, ConvertedTypeID.json].contains(element.convertedType ?? -1)
                        leaf.column = ParquetColumn(name: name, type: type, logical: type == .byteArray && textual ? .string : .none,
                                                    optional: def > 0, dictionary: false)
                    } else {
                        leaf.unsupported = "physical type \(PhysicalTypeID.name(element.type ?? -1)) is not supported"
                    }
                    leaves.append(leaf)
                }
                if depth == 0, !fields.isEmpty {
                    fields[fields.count - 1].columns = leaves[firstLeaf...].map(\.name)
                }
            }
        }
        try walk(prefix: [], definition: 0, repetition: 0, count: childCount, depth: 0)
        guard index == elements.count else {
            throw ParquetError.corrupt(path: path, column: nil, detail: "schema has \(elements.count - index) elements beyond the root's children")
        }
        return (leaves, fields)
    }

    private static func validate(_ rowGroups: [RowGroup], leaves: [Leaf], leafCount: Int, path: String) throws {
        for (index, group) in rowGroups.enumerated() {
            guard group.numRows >= 0 else {
                throw ParquetError.corrupt(path: path, column: nil, detail: "row group \(index) has \(group.numRows) rows")
            }
            guard group.columns.count == leafCount else {
                throw ParquetError.corrupt(path: path, column: nil, detail: "row group \(index) has \(group.columns.count) column chunks, schema has \(leafCount) columns")
            }
            for leaf in leaves {
                guard let column = leaf.column else { continue }
                let chunk = group.columns[leaf.chunkIndex]
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
            indices = try names.map(index(ofColumn:))
        } else {
            if let (name, reason) = unsupportedColumns.min(by: { $0.key < $1.key }) {
                throw ParquetError.unsupportedSchema(path: path, column: Self.topLevel(name), reason: reason)
            }
            indices = Array(schema.columns.indices)
        }
        return try indices.map { try readColumn($0, of: group) }
    }

    /// Hands each row's bytes of a byte-array (string or binary) column of one row group to
    /// `body`, nil for a null, without a value per row: for columns read only to look values up.
    public func forEachByteArray(inRowGroup index: Int, column name: String,
                                 _ body: (_ row: Int, _ bytes: UnsafeBufferPointer<UInt8>?) throws -> Void) throws {
        guard rowGroups.indices.contains(index) else {
            throw ParquetError.rowGroupOutOfRange(path: path, index: index, count: rowGroups.count)
        }
        let group = rowGroups[index]
        guard group.numRows <= Int64(Self.maxRowsPerRowGroup) else {
            throw ParquetError.limitExceeded(path: path, what: "rows in row group \(index)", value: group.numRows, limit: Int64(Self.maxRowsPerRowGroup))
        }
        let columnIndex = try self.index(ofColumn: name)
        guard let (reader, bytes) = try chunk(columnIndex, of: group) else { return }
        do {
            try reader.forEachByteArray(bytes, body)
        } catch let issue as FormatIssue {
            throw issue.parquetError(path: path, column: name)
        }
    }

    /// A readable column's index, or why the column cannot be read.
    private func index(ofColumn name: String) throws -> Int {
        guard let i = schema.index(of: name) else {
            if let reason = unsupportedColumns[name] ?? unsupportedColumns.first(where: { $0.key.hasPrefix(name + ".") })?.value {
                throw ParquetError.unsupportedSchema(path: path, column: name, reason: reason)
            }
            throw ParquetError.unknownColumn(path: path, column: name, available: schema.columns.map(\.name))
        }
        return i
    }

    /// The first component of a dotted column name.
    static func topLevel(_ name: String) -> String {
        String(name.split(separator: ".", maxSplits: 1).first ?? Substring(name))
    }

    private func readColumn(_ columnIndex: Int, of group: RowGroup) throws -> ParquetColumnValues {
        guard let (reader, bytes) = try chunk(columnIndex, of: group) else {
            // pyarrow writes zero-row groups with empty, offset-0 column chunks: nothing to read.
            let leaf = readableLeaves[columnIndex]
            return try ColumnChunkReader(column: schema.columns[columnIndex], codec: 0, rowCount: 0, maxDefinitionLevel: leaf.maxDefinitionLevel).decode([])
        }
        do {
            return try reader.decode(bytes)
        } catch let issue as FormatIssue {
            throw issue.parquetError(path: path, column: schema.columns[columnIndex].name)
        }
    }

    /// A column chunk's bytes, checked against the file, and the reader for them; nil for a row
    /// group without rows.
    private func chunk(_ columnIndex: Int, of group: RowGroup) throws -> (ColumnChunkReader, [UInt8])? {
        let column = schema.columns[columnIndex]
        let leaf = readableLeaves[columnIndex]
        guard let meta = group.columns[leaf.chunkIndex].metaData else {
            throw ParquetError.corrupt(path: path, column: column.name, detail: "missing column metadata")
        }
        guard meta.numValues == group.numRows else {
            throw ParquetError.corrupt(path: path, column: column.name, detail: "column chunk has \(meta.numValues) values, row group has \(group.numRows) rows")
        }
        if group.numRows == 0 { return nil }
        var start = meta.dataPageOffset
        if let dictionaryOffset = meta.dictionaryPageOffset, dictionaryOffset > 0, dictionaryOffset < start {
            start = dictionaryOffset
        }
        let length = meta.totalCompressedSize
        guard length <= Int64(Self.maxColumnChunkBytes) else {
            throw ParquetError.limitExceeded(path: path, what: "column '\(column.name)' chunk size", value: length, limit: Int64(Self.maxColumnChunkBytes))
        }
        guard start >= 4, length >= 0, length <= footerStart - start else {
            throw ParquetError.corrupt(path: path, column: column.name, detail: "column chunk bytes \(start)..<\(start &+ length) lie outside the data region 4..<\(footerStart)")
        }
        let bytes = try file.read(offset: start, count: Int(length))
        return (ColumnChunkReader(column: column, codec: meta.codec, rowCount: Int(group.numRows), maxDefinitionLevel: leaf.maxDefinitionLevel), bytes)
    }
}
