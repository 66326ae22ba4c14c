import Dispatch

// Streaming Parquet writer: row groups are encoded and written as they arrive, only the footer
// metadata accumulates. Output is deterministic byte for byte (no timestamps, no hash seeds).

/// Writes a flat Parquet file one row group at a time. The file is complete only after `close()`.
/// Not thread-safe: use one writer from one task.
public final class ParquetWriter {
    public let path: String
    public let schema: ParquetSchema
    public let codec: ParquetCodec
    /// Target uncompressed size of a data page; large column chunks are split into pages of about
    /// this size (clamped to 1 byte ... 128 MiB).
    public var targetPageBytes = 1 << 20
    /// A row group's column falls back from dictionary to PLAIN when its dictionary page would
    /// exceed this many bytes (clamped to at most 1 GiB).
    public var dictionaryLimitBytes = 1 << 20

    private let keyValueMetadata: [(String, String)]
    private let createdBy: String
    private var sink: FileSink?
    private var failure: ParquetError?
    private var rowGroups: [RowGroup] = []
    private var totalRows: Int64 = 0
    private let file: WrittenFile

    private static let magic: [UInt8] = Array("PAR1".utf8)

    public init(path: String, schema: ParquetSchema, codec: ParquetCodec = .snappy,
                keyValueMetadata: [(String, String)] = [], createdBy: String = "gascli-parquet") throws {
        self.path = path
        self.schema = schema
        self.codec = codec
        self.keyValueMetadata = keyValueMetadata
        self.createdBy = createdBy
        self.file = WrittenFile(path: path)
        try Self.validate(schema, path: path)
        if !codec.isAvailable {
            throw ParquetError.unsupportedCodec(path: path, column: nil, codec: "ZSTD (built without the CZstd module)")
        }
        let sink = try FileSink(path: path)
        try sink.write(Self.magic)
        self.sink = sink
    }

    private static func validate(_ schema: ParquetSchema, path: String) throws {
        guard !schema.columns.isEmpty else {
            throw ParquetError.invalidSchema(path: path, reason: "the schema has no columns")
        }
        var seen = Set<String>()
        for column in schema.columns {
            guard !column.name.isEmpty else {
                throw ParquetError.invalidSchema(path: path, reason: "a column has an empty name")
            }
            guard seen.insert(column.name).inserted else {
                throw ParquetError.invalidSchema(path: path, reason: "column name '\(column.name)' appears twice")
            }
            if column.logical == .string && column.type != .byteArray {
                throw ParquetError.invalidSchema(path: path, reason: "column '\(column.name)' is logical STRING but physical \(column.type); STRING needs BYTE_ARRAY")
            }
        }
    }

    /// Validates and writes one row group: one `ParquetColumnValues` per schema column, in schema
    /// order, all of the same length. Throws before writing anything when the input is invalid.
    /// A row group with zero rows is skipped (readers disagree on how to treat empty row groups).
    public func writeRowGroup(_ columns: [ParquetColumnValues]) throws {
        try writeRowGroup(columns.map { .values($0) })
    }

    /// An encoder of this writer's columns with its settings, for chunks encoded ahead of their
    /// row groups (on any thread).
    public func columnEncoder() -> ParquetColumnEncoder {
        ParquetColumnEncoder(path: path, schema: schema, codec: codec, pageBytes: targetPageBytes, dictionaryLimit: dictionaryLimitBytes)
    }

    /// Writes one row group whose columns are values or chunks encoded ahead (`columnEncoder()`);
    /// the values are encoded on all cores. Returns its chunks as written: each can stand for the
    /// same column in a later row group of this file, without its bytes held in memory.
    @discardableResult
    public func writeRowGroup(_ columns: [ParquetColumnInput]) throws -> [EncodedColumnChunk] {
        if let failure { throw failure }
        guard let sink else { throw ParquetError.writerClosed(path: path) }
        let rows = try validate(columns)
        guard rows > 0 else { return [] }
        // Chunks written earlier in this file are read back from it (which may flush the buffer:
        // a failure there leaves the file as a failed write would).
        let given = columns, columns: [ParquetColumnInput]
        do {
            columns = try given.map { input -> ParquetColumnInput in
                guard case .encoded(let chunk) = input, case let .written(_, offset, count) = chunk.storage else { return input }
                return .encoded(EncodedColumnChunk(column: chunk.column, codec: chunk.codec, rows: chunk.rows, chunk: chunk.chunk,
                                                   storage: .bytes(try sink.read(at: offset, count: count))))
            }
        } catch {
            throw failed(error, sink: sink)
        }
        let start = sink.offset
        // Columns are encoded and compressed in parallel, each into its own buffer, then written in
        // schema order: the same bytes as one after the other, nothing written if one fails.
        let encoded = Self.encode(columns, schema: schema, codec: codec, pageBytes: targetPageBytes, dictionaryLimit: dictionaryLimitBytes)
        var chunks: [ColumnChunk] = []
        var written: [EncodedColumnChunk] = []
        chunks.reserveCapacity(columns.count)
        written.reserveCapacity(columns.count)
        var offset = start
        for (column, result) in zip(schema.columns, encoded) {
            switch result {
            case let .success((relative, bytes)):
                var chunk = relative
                chunk.fileOffset += offset
                chunk.metaData?.dataPageOffset += offset
                if let d = chunk.metaData?.dictionaryPageOffset { chunk.metaData?.dictionaryPageOffset = d + offset }
                chunks.append(chunk)
                written.append(EncodedColumnChunk(column: column, codec: codec, rows: rows, chunk: relative,
                                                  storage: .written(file: file, offset: offset, count: bytes.count)))
                offset += Int64(bytes.count)
            case .failure(let issue as FormatIssue):
                throw issue.parquetError(path: path, column: column.name)
            case .failure(let error):
                throw error as? ParquetError ?? .corrupt(path: path, column: column.name, detail: "\(error)")
            }
        }
        do {
            for case let .success((_, bytes)) in encoded { try sink.write(bytes) }
            let uncompressed = chunks.reduce(Int64(0)) { $0 + ($1.metaData?.totalUncompressedSize ?? 0) }
            let compressed = chunks.reduce(Int64(0)) { $0 + ($1.metaData?.totalCompressedSize ?? 0) }
            rowGroups.append(RowGroup(columns: chunks, totalByteSize: uncompressed, numRows: Int64(rows),
                                      fileOffset: start, totalCompressedSize: compressed,
                                      ordinal: Int16(exactly: rowGroups.count)))
            totalRows += Int64(rows)
            return written
        } catch {
            // Part of a row group may be on disk; the file cannot be completed any more.
            throw failed(error, sink: sink)
        }
    }

    /// Marks the writer failed for good after `error` while writing, and closes its file.
    private func failed(_ error: any Error, sink: FileSink) -> ParquetError {
        let parquetError = error as? ParquetError ?? .corrupt(path: path, column: nil, detail: "\(error)")
        failure = parquetError
        try? sink.close()
        self.sink = nil
        return parquetError
    }

    /// Every column's chunk (offsets from the chunk's start) and bytes, the values encoded on all
    /// cores (a chunk encoded ahead is taken as it is).
    private static func encode(_ columns: [ParquetColumnInput], schema: ParquetSchema, codec: ParquetCodec, pageBytes: Int,
                               dictionaryLimit: Int) -> [Result<(ColumnChunk, [UInt8]), any Error>] {
        let results = UnsafeMutableBufferPointer<Result<(ColumnChunk, [UInt8]), any Error>?>.allocate(capacity: columns.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }  // released on the way out: `deallocate` alone leaks what the slots hold
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: columns.count) { i in
            switch columns[i] {
            case .values(let values):
                slots[i] = encode(values, column: schema.columns[i], codec: codec, pageBytes: pageBytes, dictionaryLimit: dictionaryLimit)
            case .encoded(let chunk):
                switch chunk.storage {
                case .bytes(let bytes): slots[i] = .success((chunk.chunk, bytes))
                case let .written(file, _, _):  // read back by `writeRowGroup` before this
                    slots[i] = .failure(ParquetError.corrupt(path: file.path, column: chunk.column.name, detail: "a written chunk was not read back"))
                }
            }
        }
        return results.map { $0! }
    }

    static func encode(_ values: ParquetColumnValues, column: ParquetColumn, codec: ParquetCodec, pageBytes: Int,
                       dictionaryLimit: Int) -> Result<(ColumnChunk, [UInt8]), any Error> {
        let buffer = ChunkBuffer()
        var writer = ColumnChunkWriter(column: column, codec: codec, sink: buffer, pageBytes: pageBytes, dictionaryLimit: dictionaryLimit)
        return Result { (try writer.write(values), buffer.bytes) }
    }

    /// Checks column count, value kinds, lengths and nulls (and that a chunk encoded ahead was
    /// encoded for this column and codec); returns the row count.
    private func validate(_ columns: [ParquetColumnInput]) throws -> Int {
        guard columns.count == schema.columns.count else {
            throw ParquetError.columnCountMismatch(path: path, expected: schema.columns.count, got: columns.count)
        }
        let rows = columns.first?.count ?? 0
        for (column, input) in zip(schema.columns, columns) {
            switch input {
            case .values(let values):
                try Self.validate(values, for: column, rows: rows, path: path)
            case .encoded(let chunk):
                guard chunk.column == column, chunk.codec == codec else {
                    throw ParquetError.invalidSchema(path: path, reason: "column '\(column.name)' was given a chunk encoded for column '\(chunk.column.name)' (\(chunk.codec)); encode it with this writer")
                }
                if case let .written(other, _, _) = chunk.storage, other !== file {
                    throw ParquetError.invalidSchema(path: path, reason: "column '\(column.name)' was given a chunk written to another file (\(other.path)); only this writer's own written chunks can be repeated")
                }
                guard chunk.rows == rows else {
                    throw ParquetError.rowCountMismatch(path: path, column: column.name, expected: rows, got: chunk.rows)
                }
            }
        }
        return rows
    }

    static func validate(_ values: ParquetColumnValues, for column: ParquetColumn, rows: Int, path: String) throws {
        guard values.fits(column.type) else {
            throw ParquetError.typeMismatch(path: path, column: column.name,
                                            expected: "\(column.type.expectedValuesName) (\(column.type))",
                                            got: values.kindName)
        }
        guard values.count == rows else {
            throw ParquetError.rowCountMismatch(path: path, column: column.name, expected: rows, got: values.count)
        }
        if !column.optional, let row = values.firstNullIndex {
            throw ParquetError.nullInRequiredColumn(path: path, column: column.name, row: row)
        }
    }

    /// Writes the footer and closes the file. Calling it again does nothing.
    public func close() throws {
        if let failure { throw failure }
        guard let sink else { return }
        self.sink = nil
        var meta = FileMetaData()
        meta.version = 1
        meta.schema = [SchemaElement(name: "schema", numChildren: Int32(schema.columns.count))]
        for column in schema.columns {
            var element = SchemaElement(type: PhysicalTypeID.of(column.type),
                                        repetition: column.optional ? RepetitionID.optional : RepetitionID.required,
                                        name: column.name)
            if column.logical == .string {
                element.convertedType = ConvertedTypeID.utf8
                element.logicalType = LogicalTypeID.string
            }
            meta.schema.append(element)
        }
        meta.numRows = totalRows
        meta.rowGroups = rowGroups
        meta.keyValueMetadata = keyValueMetadata.map { KeyValue(key: $0.0, value: $0.1) }
        meta.createdBy = createdBy
        meta.typeDefinedColumnOrders = schema.columns.count
        let footer = meta.encode()
        do {
            try sink.write(footer)
            var tail: [UInt8] = []
            appendLE32(UInt32(footer.count), to: &tail)
            tail.append(contentsOf: Self.magic)
            try sink.write(tail)
            try sink.close()
        } catch {
            let parquetError = error as? ParquetError ?? .corrupt(path: path, column: nil, detail: "\(error)")
            failure = parquetError
            throw parquetError
        }
    }
}

/// One column of a row group: its values, or a chunk encoded ahead by a `ParquetColumnEncoder`.
public enum ParquetColumnInput: Sendable {
    case values(ParquetColumnValues)
    case encoded(EncodedColumnChunk)

    var count: Int {
        switch self {
        case .values(let values): return values.count
        case .encoded(let chunk): return chunk.rows
        }
    }
}

/// A column chunk's bytes (pages) and metadata, offsets relative to the chunk's start: written as
/// it is in any row group of the same column and row count.
///
/// A chunk that `writeRowGroup` has written keeps only where its bytes are in the file: a row
/// group that repeats it has the writer read them back, so a caller that writes the same columns
/// in many row groups (predictions.parquet's sample columns, once per detector) holds none of
/// their bytes in between.
public struct EncodedColumnChunk: @unchecked Sendable {
    let column: ParquetColumn
    let codec: ParquetCodec
    public let rows: Int
    let chunk: ColumnChunk
    let storage: Storage

    enum Storage {
        case bytes([UInt8])
        /// `count` bytes at `offset` of the file `file` stands for.
        case written(file: WrittenFile, offset: Int64, count: Int)
    }

    /// The chunk's size in the file.
    public var byteCount: Int {
        switch storage {
        case .bytes(let bytes): bytes.count
        case let .written(_, _, count): count
        }
    }

    /// Whether its bytes are in a file rather than in memory.
    public var isWritten: Bool {
        if case .written = storage { true } else { false }
    }
}

/// The identity of one writer's file, for the chunks written there.
final class WrittenFile: Sendable {
    let path: String
    init(path: String) { self.path = path }
}

/// Encodes a writer's columns ahead of the row groups that hold them: what several row groups
/// share is encoded once, and the work can run on another thread while the writer writes.
public struct ParquetColumnEncoder: Sendable {
    let path: String
    let schema: ParquetSchema
    let codec: ParquetCodec
    let pageBytes: Int
    let dictionaryLimit: Int

    /// The chunk of the schema's column `index` holding `values`, encoded and compressed on the
    /// calling thread: the bytes `writeRowGroup` writes for these values.
    public func encode(_ values: ParquetColumnValues, at index: Int) throws -> EncodedColumnChunk {
        guard schema.columns.indices.contains(index) else {
            throw ParquetError.columnCountMismatch(path: path, expected: schema.columns.count, got: index + 1)
        }
        let column = schema.columns[index]
        try ParquetWriter.validate(values, for: column, rows: values.count, path: path)
        switch ParquetWriter.encode(values, column: column, codec: codec, pageBytes: pageBytes, dictionaryLimit: dictionaryLimit) {
        case let .success((chunk, bytes)):
            return EncodedColumnChunk(column: column, codec: codec, rows: values.count, chunk: chunk, storage: .bytes(bytes))
        case .failure(let issue as FormatIssue):
            throw issue.parquetError(path: path, column: column.name)
        case .failure(let error):
            throw error as? ParquetError ?? .corrupt(path: path, column: column.name, detail: "\(error)")
        }
    }
}
