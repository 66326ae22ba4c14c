// Public model of a flat Parquet file: schema, column kinds and the values of one row group.

#if _endian(big)
#error("GASParquet stores numbers by copying host memory and assumes a little-endian host")
#endif

/// Physical storage type of a column (the subset this module reads and writes).
public enum ParquetPhysicalType: Sendable, Hashable, CustomStringConvertible {
    case boolean, int32, int64, float, double, byteArray

    public var description: String {
        switch self {
        case .boolean: return "BOOLEAN"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .float: return "FLOAT"
        case .double: return "DOUBLE"
        case .byteArray: return "BYTE_ARRAY"
        }
    }
}

/// Logical annotation. `.string` is BYTE_ARRAY with the UTF8 converted type and the STRING logical type.
public enum ParquetLogicalType: Sendable, Hashable {
    case none, string
}

/// Page compression codec. `.zstd` needs the optional `CZstd` system library target.
public enum ParquetCodec: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case uncompressed, snappy, gzip, zstd

    /// False only for `.zstd` when the package was built without the `CZstd` module.
    public var isAvailable: Bool {
        self != .zstd || zstdAvailable
    }

    /// The fixed compression level the writer uses (nil for codecs without levels).
    public var level: Int? {
        switch self {
        case .gzip: return Int(PageCompression.gzipLevel)
        case .zstd: return Int(PageCompression.zstdLevel)
        case .uncompressed, .snappy: return nil
        }
    }

    public var description: String {
        switch self {
        case .uncompressed: return "UNCOMPRESSED"
        case .snappy: return "SNAPPY"
        case .gzip: return "GZIP"
        case .zstd: return "ZSTD"
        }
    }
}

/// One leaf column of a flat schema.
public struct ParquetColumn: Sendable, Hashable {
    public var name: String
    public var type: ParquetPhysicalType
    public var logical: ParquetLogicalType
    /// OPTIONAL (nullable) when true, REQUIRED otherwise.
    public var optional: Bool
    /// Writer hint: dictionary-encode this column (falls back to PLAIN per row group when the
    /// dictionary grows past the writer's limit). Ignored for booleans. Readers report `false`.
    public var dictionary: Bool

    public init(name: String, type: ParquetPhysicalType, logical: ParquetLogicalType = .none,
                optional: Bool = false, dictionary: Bool = false) {
        self.name = name
        self.type = type
        self.logical = logical
        self.optional = optional
        self.dictionary = dictionary
    }

    /// A UTF-8 string column (BYTE_ARRAY + STRING), dictionary-encoded by default.
    public static func string(_ name: String, optional: Bool = false, dictionary: Bool = true) -> ParquetColumn {
        ParquetColumn(name: name, type: .byteArray, logical: .string, optional: optional, dictionary: dictionary)
    }
}

/// A top-level field of a file's schema: a plain column (`columns == [name]`) or a struct whose
/// leaves are named by dotted paths (`image` -> `image.bytes`, `image.path`).
public struct ParquetField: Sendable, Hashable {
    public var name: String
    /// Dotted names of the field's leaf columns, readable or not, in file order.
    public var columns: [String]
    public var isGroup: Bool

    public init(name: String, columns: [String], isGroup: Bool) {
        self.name = name
        self.columns = columns
        self.isGroup = isGroup
    }
}

/// A flat schema: an ordered list of leaf columns.
public struct ParquetSchema: Sendable, Hashable {
    public var columns: [ParquetColumn]

    public init(columns: [ParquetColumn]) {
        self.columns = columns
    }

    public func index(of name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// The values of one column in one row group. `nil` is a null and is only valid in optional columns.
/// BYTE_ARRAY columns accept `.string` or `.bytes`; the reader returns `.string` for STRING/UTF8 columns.
public enum ParquetColumnValues: Sendable, Equatable {
    case boolean([Bool?])
    case int32([Int32?])
    case int64([Int64?])
    case float([Float?])
    case double([Double?])
    case string([String?])
    case bytes([[UInt8]?])

    public var count: Int {
        switch self {
        case .boolean(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .string(let v): return v.count
        case .bytes(let v): return v.count
        }
    }

    /// Index of the first null, if any (used to reject nulls in required columns).
    public var firstNullIndex: Int? {
        switch self {
        case .boolean(let v): return v.firstIndex { $0 == nil }
        case .int32(let v): return v.firstIndex { $0 == nil }
        case .int64(let v): return v.firstIndex { $0 == nil }
        case .float(let v): return v.firstIndex { $0 == nil }
        case .double(let v): return v.firstIndex { $0 == nil }
        case .string(let v): return v.firstIndex { $0 == nil }
        case .bytes(let v): return v.firstIndex { $0 == nil }
        }
    }

    /// Name of the case, for error messages.
    var kindName: String {
        switch self {
        case .boolean: return "boolean"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float: return "float"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        }
    }

    /// Whether these values may be stored in a column of the given physical type.
    func fits(_ type: ParquetPhysicalType) -> Bool {
        switch (self, type) {
        case (.boolean, .boolean), (.int32, .int32), (.int64, .int64), (.float, .float),
             (.double, .double), (.string, .byteArray), (.bytes, .byteArray):
            return true
        default:
            return false
        }
    }
}

extension ParquetPhysicalType {
    /// The `ParquetColumnValues` case(s) a writer accepts for this type, for error messages.
    var expectedValuesName: String {
        switch self {
        case .boolean: return ".boolean"
        case .int32: return ".int32"
        case .int64: return ".int64"
        case .float: return ".float"
        case .double: return ".double"
        case .byteArray: return ".string or .bytes"
        }
    }
}
