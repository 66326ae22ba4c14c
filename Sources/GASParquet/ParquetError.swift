// Typed errors. Every case carries enough context (file, column, expectation) to render one
// actionable line, because these surface directly in `gascli` output.

public enum ParquetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call failed (`operation` is e.g. "open", "read", "write"); `code` is errno.
    case io(path: String, operation: String, code: Int32)
    /// The file is not Parquet at all (wrong magic bytes, too small, encrypted footer).
    case notParquet(path: String, reason: String)
    /// The file ends early: incomplete copy or a writer that was never closed.
    case truncated(path: String, detail: String)
    /// Structurally invalid metadata or page data.
    case corrupt(path: String, column: String?, detail: String)
    /// A declared size or count is beyond what this reader is willing to allocate.
    case limitExceeded(path: String, what: String, value: Int64, limit: Int64)
    /// Nested, repeated or otherwise unsupported schema element.
    case unsupportedSchema(path: String, column: String, reason: String)
    case unsupportedEncoding(path: String, column: String, encoding: String)
    case unsupportedCodec(path: String, column: String?, codec: String)
    /// The schema given to the writer is not valid.
    case invalidSchema(path: String, reason: String)
    case columnCountMismatch(path: String, expected: Int, got: Int)
    case typeMismatch(path: String, column: String, expected: String, got: String)
    case rowCountMismatch(path: String, column: String, expected: Int, got: Int)
    case nullInRequiredColumn(path: String, column: String, row: Int)
    case writerClosed(path: String)
    case rowGroupOutOfRange(path: String, index: Int, count: Int)
    case unknownColumn(path: String, column: String, available: [String])

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(systemErrorMessage(code)) (errno \(code))"
        case let .notParquet(path, reason):
            return "\(path): not a Parquet file: \(reason)"
        case let .truncated(path, detail):
            return "\(path): truncated Parquet file: \(detail); re-copy the file or re-run the writer to completion"
        case let .corrupt(path, column, detail):
            let where_ = column.map { " column '\($0)':" } ?? ""
            return "\(path):\(where_) corrupt Parquet data: \(detail)"
        case let .limitExceeded(path, what, value, limit):
            return "\(path): \(what) is \(value), above the reader's limit of \(limit); the file is corrupt or too large for this reader"
        case let .unsupportedSchema(path, column, reason):
            return "\(path): column '\(column)': unsupported schema: \(reason); only flat schemas of BOOLEAN, INT32, INT64, FLOAT, DOUBLE and BYTE_ARRAY columns are supported"
        case let .unsupportedEncoding(path, column, encoding):
            return "\(path): column '\(column)': unsupported encoding \(encoding); rewrite the file with PLAIN or dictionary encoding (e.g. pyarrow use_dictionary=True, column_encoding unset)"
        case let .unsupportedCodec(path, column, codec):
            let where_ = column.map { " column '\($0)':" } ?? ""
            return "\(path):\(where_) unsupported compression codec \(codec); supported: UNCOMPRESSED, SNAPPY, GZIP\(zstdAvailable ? ", ZSTD" : "")"
        case let .invalidSchema(path, reason):
            return "\(path): invalid schema: \(reason)"
        case let .columnCountMismatch(path, expected, got):
            return "\(path): row group has \(got) columns but the schema has \(expected); pass one ParquetColumnValues per schema column, in schema order"
        case let .typeMismatch(path, column, expected, got):
            return "\(path): column '\(column)': expected \(expected) values, got .\(got)"
        case let .rowCountMismatch(path, column, expected, got):
            return "\(path): column '\(column)' has \(got) values but the row group's first column has \(expected); all columns of a row group must have the same length"
        case let .nullInRequiredColumn(path, column, row):
            return "\(path): column '\(column)' is required but row \(row) is null; declare the column optional or supply a value"
        case let .writerClosed(path):
            return "\(path): the Parquet writer is already closed"
        case let .rowGroupOutOfRange(path, index, count):
            return "\(path): row group \(index) does not exist (the file has \(count) row groups)"
        case let .unknownColumn(path, column, available):
            return "\(path): no column named '\(column)'; available: \(available.joined(separator: ", "))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

private func systemErrorMessage(_ code: Int32) -> String {
    guard let cString = strerror(code) else { return "unknown error" }
    return String(cString: cString)
}

/// Problems found while decoding bytes, before the reader knows which file/column they belong to.
/// The reader maps these onto `ParquetError` with path and column context.
enum FormatIssue: Error, Equatable {
    case truncated(String)
    case corrupt(String)
    case limit(what: String, value: Int64, limit: Int64)
    case unsupportedEncoding(String)
    case unsupportedCodec(String)

    func parquetError(path: String, column: String?) -> ParquetError {
        switch self {
        case .truncated(let detail):
            if let column { return .corrupt(path: path, column: column, detail: "data ends early: \(detail)") }
            return .corrupt(path: path, column: nil, detail: "metadata ends early: \(detail)")
        case .corrupt(let detail):
            return .corrupt(path: path, column: column, detail: detail)
        case let .limit(what, value, limit):
            return .limitExceeded(path: path, what: column.map { "column '\($0)': \(what)" } ?? what, value: value, limit: limit)
        case .unsupportedEncoding(let name):
            return .unsupportedEncoding(path: path, column: column ?? "?", encoding: name)
        case .unsupportedCodec(let name):
            return .unsupportedCodec(path: path, column: column, codec: name)
        }
    }
}
