// Thrift compact protocol: just what Parquet's FileMetaData and PageHeader need.
// Written by hand so the package has no Thrift dependency. The reader treats its input as
// untrusted: every length is checked against the remaining bytes and nesting depth is capped.

/// Compact-protocol wire types.
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6
    case double = 7, binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// ZigZag maps signed integers to unsigned so small magnitudes stay short as varints.
enum ZigZag {
    @inline(__always) static func encode(_ v: Int64) -> UInt64 {
        UInt64(bitPattern: (v << 1) ^ (v >> 63))
    }

    @inline(__always) static func decode(_ v: UInt64) -> Int64 {
        Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }
}

/// Appends ULEB128 varints, shared by Thrift and the RLE hybrid encoding.
@inline(__always) func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    bytes.append(UInt8(truncatingIfNeeded: v))
}

/// Serializes structs field by field. Field ids must be written in increasing order per struct.
struct ThriftWriter {
    private(set) var bytes: [UInt8] = []
    private var lastFieldID: Int16 = 0
    private var savedFieldIDs: [Int16] = []

    init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func varint(_ v: UInt64) {
        appendVarint(v, to: &bytes)
    }

    private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let delta = Int(id) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(ZigZag.encode(Int64(id)))
        }
        lastFieldID = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) {
        fieldHeader(id, .i32)
        varint(ZigZag.encode(Int64(v)))
    }

    mutating func i64(_ id: Int16, _ v: Int64) {
        fieldHeader(id, .i64)
        varint(ZigZag.encode(v))
    }

    mutating func i16(_ id: Int16, _ v: Int16) {
        fieldHeader(id, .i16)
        varint(ZigZag.encode(Int64(v)))
    }

    mutating func bool(_ id: Int16, _ v: Bool) {
        fieldHeader(id, v ? .boolTrue : .boolFalse)
    }

    mutating func binary(_ id: Int16, _ v: [UInt8]) {
        fieldHeader(id, .binary)
        binaryElement(v)
    }

    mutating func string(_ id: Int16, _ v: String) {
        binary(id, Array(v.utf8))
    }

    /// Starts a struct-valued field; close it with `endStruct()`.
    mutating func beginStruct(_ id: Int16) {
        fieldHeader(id, .structure)
        beginStructElement()
    }

    /// Starts a struct that is a list element (no field header); close it with `endStruct()`.
    mutating func beginStructElement() {
        savedFieldIDs.append(lastFieldID)
        lastFieldID = 0
    }

    /// Writes STOP. Also used to terminate the top-level struct.
    mutating func endStruct() {
        bytes.append(ThriftType.stop.rawValue)
        lastFieldID = savedFieldIDs.popLast() ?? 0
    }

    mutating func list(_ id: Int16, of elementType: ThriftType, count: Int) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func i32Element(_ v: Int32) {
        varint(ZigZag.encode(Int64(v)))
    }

    mutating func binaryElement(_ v: [UInt8]) {
        varint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    mutating func stringElement(_ v: String) {
        binaryElement(Array(v.utf8))
    }
}

/// Decodes compact-protocol structs from a byte array region, bounds-checking everything.
struct ThriftReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    private var lastFieldID: Int16 = 0
    private var depth = 0
    /// Parquet metadata nests at most ~6 deep; anything deeper is hostile input.
    static let maxDepth = 32

    init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = max(0, min(start, bytes.count))
        self.end = max(self.position, min(end ?? bytes.count, bytes.count))
    }

    var remaining: Int { end - position }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw FormatIssue.truncated("thrift value at byte \(position)") }
        let b = bytes[position]
        position += 1
        return b
    }

    mutating func advance(_ n: Int) throws {
        guard n >= 0, n <= remaining else { throw FormatIssue.truncated("thrift value of \(n) bytes at byte \(position)") }
        position += n
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw FormatIssue.corrupt("thrift varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw FormatIssue.corrupt("thrift varint longer than 10 bytes") }
        }
    }

    mutating func i64() throws -> Int64 {
        ZigZag.decode(try varint())
    }

    mutating func i32() throws -> Int32 {
        let v = try i64()
        guard let r = Int32(exactly: v) else { throw FormatIssue.corrupt("thrift i32 out of range: \(v)") }
        return r
    }

    mutating func i16() throws -> Int16 {
        let v = try i64()
        guard let r = Int16(exactly: v) else { throw FormatIssue.corrupt("thrift i16 out of range: \(v)") }
        return r
    }

    mutating func binary() throws -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(remaining) else {
            throw FormatIssue.truncated("thrift binary of \(n) bytes with \(remaining) left")
        }
        let start = position
        position += Int(n)
        return Array(bytes[start..<position])
    }

    mutating func string() throws -> String {
        String(decoding: try binary(), as: UTF8.self)
    }

    /// Reads a bool field's value (compact protocol keeps it in the field type).
    func bool(_ type: ThriftType) -> Bool {
        type == .boolTrue
    }

    /// Reads the next field header; nil at STOP.
    private mutating func fieldHeader() throws -> (id: Int16, type: ThriftType)? {
        let b = try byte()
        if b == 0 { return nil }
        guard let type = ThriftType(rawValue: b & 0x0F), type != .stop else {
            throw FormatIssue.corrupt("unknown thrift field type \(b & 0x0F)")
        }
        let delta = Int16(b >> 4)
        let id: Int16
        if delta != 0 {
            guard lastFieldID <= Int16.max - delta else { throw FormatIssue.corrupt("thrift field id overflow") }
            id = lastFieldID + delta
        } else {
            id = try i16()
        }
        lastFieldID = id
        return (id, type)
    }

    /// Reads a list/set header. The count is checked against the remaining bytes (every element
    /// takes at least one byte), so a hostile count cannot trigger a large allocation.
    mutating func listHeader() throws -> (type: ThriftType, count: Int) {
        let b = try byte()
        guard let type = ThriftType(rawValue: b & 0x0F), type != .stop else {
            throw FormatIssue.corrupt("unknown thrift list element type \(b & 0x0F)")
        }
        var count = UInt64(b >> 4)
        if count == 15 { count = try varint() }
        guard count <= UInt64(remaining) else {
            throw FormatIssue.truncated("thrift list of \(count) elements with \(remaining) bytes left")
        }
        return (type, Int(count))
    }

    /// Reads a struct, calling `field` for each field; `field` returns false to have it skipped.
    mutating func readStruct(_ field: (inout ThriftReader, Int16, ThriftType) throws -> Bool) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw FormatIssue.corrupt("thrift structs nested deeper than \(Self.maxDepth)") }
        let saved = lastFieldID
        lastFieldID = 0
        while let (id, type) = try fieldHeader() {
            if try !field(&self, id, type) {
                try skip(type)
            }
        }
        lastFieldID = saved
        depth -= 1
    }

    /// Reads a list whose elements are structs.
    mutating func readStructList<T>(_ element: (inout ThriftReader) throws -> T) throws -> [T] {
        let (type, count) = try listHeader()
        guard type == .structure else {
            for _ in 0..<count { try skipElement(type) }
            return []
        }
        var out: [T] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try element(&self)) }
        return out
    }

    mutating func readI32List() throws -> [Int32] {
        let (type, count) = try listHeader()
        guard type == .i32 else {
            for _ in 0..<count { try skipElement(type) }
            return []
        }
        var out: [Int32] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try i32()) }
        return out
    }

    mutating func readStringList() throws -> [String] {
        let (type, count) = try listHeader()
        guard type == .binary else {
            for _ in 0..<count { try skipElement(type) }
            return []
        }
        var out: [String] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try string()) }
        return out
    }

    /// Skips a field value of the given type.
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .boolTrue, .boolFalse:
            return
        case .byte:
            _ = try byte()
        case .i16, .i32, .i64:
            _ = try varint()
        case .double:
            try advance(8)
        case .binary:
            let n = try varint()
            guard n <= UInt64(remaining) else { throw FormatIssue.truncated("thrift binary of \(n) bytes") }
            position += Int(n)
        case .list, .set:
            try nested {
                let (elementType, count) = try $0.listHeader()
                for _ in 0..<count { try $0.skipElement(elementType) }
            }
        case .map:
            try nested {
                let count = try $0.varint()
                guard count > 0 else { return }
                guard count <= UInt64($0.remaining) else { throw FormatIssue.truncated("thrift map of \(count) entries") }
                let kinds = try $0.byte()
                guard let keyType = ThriftType(rawValue: kinds >> 4), let valueType = ThriftType(rawValue: kinds & 0x0F) else {
                    throw FormatIssue.corrupt("unknown thrift map types \(kinds)")
                }
                for _ in 0..<count {
                    try $0.skipElement(keyType)
                    try $0.skipElement(valueType)
                }
            }
        case .structure:
            try readStruct { _, _, _ in false }
        case .stop:
            throw FormatIssue.corrupt("unexpected thrift STOP")
        }
    }

    /// Collection elements store bools as a whole byte, unlike fields.
    private mutating func skipElement(_ type: ThriftType) throws {
        switch type {
        case .boolTrue, .boolFalse: _ = try byte()
        case .stop: throw FormatIssue.corrupt("thrift collection of STOP elements")
        default: try skip(type)
        }
    }

    private mutating func nested(_ body: (inout ThriftReader) throws -> Void) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw FormatIssue.corrupt("thrift values nested deeper than \(Self.maxDepth)") }
        try body(&self)
        depth -= 1
    }
}
