// A small, strict, allocation-light JSON reader and writer for the detector line protocol.
//
// Why not JSONSerialization / JSONEncoder: per-batch overhead matters (the runner talks to detectors
// hundreds of times per second), the input is untrusted (nesting depth must be bounded so a hostile
// line cannot overflow the stack), and Python's `json.dumps` writes the non-standard tokens `NaN`,
// `Infinity` and `-Infinity`, which we accept as numbers so that a bad probability becomes a
// per-item error instead of failing the whole batch.

/// A parsed JSON value. Objects keep their key order; lookups take the first matching key.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        for (k, v) in pairs where k == key { return v }
        return nil
    }

    var objectPairs: [(String, JSONValue)]? {
        if case .object(let p) = self { return p }
        return nil
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var numberValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The number as an exact integer, if it is one.
    var integerValue: Int? {
        guard case .number(let d) = self, d.isFinite, d == d.rounded(),
              d >= -9_007_199_254_740_992, d <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// A short name of the JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

struct JSONParseError: Error, Equatable, CustomStringConvertible {
    var message: String
    var offset: Int
    var description: String { "\(message) at byte \(offset)" }
}

enum MiniJSON {
    static let maxDepth = 32

    /// Parses one complete JSON document (surrounding whitespace allowed).
    static func parse<C: Collection>(_ bytes: C) throws(JSONParseError) -> JSONValue where C.Element == UInt8 {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buf in
            Self.parseBuffer(buf)
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { Self.parseBuffer($0) }.get()
    }

    private static func parseBuffer(_ buf: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        var p = Parser(buf: buf)
        do throws(JSONParseError) {
            p.skipWhitespace()
            let v = try p.parseValue(depth: 0)
            p.skipWhitespace()
            if p.pos != buf.count { throw p.error("unexpected data after the JSON value") }
            return .success(v)
        } catch {
            return .failure(error)
        }
    }

    private struct Parser {
        let buf: UnsafeBufferPointer<UInt8>
        var pos = 0

        init(buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

        func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: pos) }

        mutating func skipWhitespace() {
            while pos < buf.count {
                switch buf[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func expectLiteral(_ lit: StaticString) throws(JSONParseError) {
            let n = lit.utf8CodeUnitCount
            guard pos + n <= buf.count else { throw error("invalid literal") }
            let lp = lit.utf8Start
            for i in 0..<n where buf[pos + i] != lp[i] { throw error("invalid literal") }
            pos += n
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
            guard pos < buf.count else { throw error("unexpected end of input") }
            switch buf[pos] {
            case UInt8(ascii: "{"):
                guard depth < MiniJSON.maxDepth else { throw error("nesting deeper than \(MiniJSON.maxDepth) levels") }
                return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["):
                guard depth < MiniJSON.maxDepth else { throw error("nesting deeper than \(MiniJSON.maxDepth) levels") }
                return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""):
                return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "N"): try expectLiteral("NaN"); return .number(.nan)
            case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .number(.infinity)
            case UInt8(ascii: "-"):
                if pos + 1 < buf.count, buf[pos + 1] == UInt8(ascii: "I") {
                    pos += 1
                    try expectLiteral("Infinity")
                    return .number(-.infinity)
                }
                return .number(try parseNumber())
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try parseNumber())
            default:
                throw error("unexpected character")
            }
        }

        mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
            pos += 1  // {
            var pairs: [(String, JSONValue)] = []
            skipWhitespace()
            if pos < buf.count, buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
            while true {
                skipWhitespace()
                guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                pairs.append((key, value))
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of input in object") }
                if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
                throw error("expected ',' or '}'")
            }
        }

        mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
            pos += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if pos < buf.count, buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth))
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of input in list") }
                if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        }

        mutating func parseNumber() throws(JSONParseError) -> Double {
            let start = pos
            if buf[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number") }
            if buf[pos] == UInt8(ascii: "0") {
                pos += 1
            } else {
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            }
            if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
                pos += 1
                guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number") }
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            }
            if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
                pos += 1
                if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
                guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number") }
                while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
            guard let d = Double(text) else { throw JSONParseError(message: "invalid number", offset: start) }
            return d
        }

        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        mutating func parseHex4() throws(JSONParseError) -> UInt32 {
            guard pos + 4 <= buf.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = buf[pos]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | d
                pos += 1
            }
            return v
        }

        mutating func parseString() throws(JSONParseError) -> String {
            pos += 1  // opening quote
            let start = pos
            // Fast path: no escapes.
            while pos < buf.count {
                let c = buf[pos]
                if c == UInt8(ascii: "\"") {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
                    pos += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw error("control character in string") }
                pos += 1
            }
            guard pos < buf.count else { throw error("unterminated string") }
            // Slow path with escapes.
            var out = Array(UnsafeBufferPointer(rebasing: buf[start..<pos]))
            while pos < buf.count {
                let c = buf[pos]
                if c == UInt8(ascii: "\"") {
                    pos += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if c < 0x20 { throw error("control character in string") }
                if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
                pos += 1
                guard pos < buf.count else { throw error("unterminated string") }
                let e = buf[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        // High surrogate: a low surrogate should follow; otherwise use U+FFFD.
                        if pos + 6 <= buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") {
                            let save = pos
                            pos += 2
                            let low = try parseHex4()
                            if low >= 0xDC00 && low < 0xE000 {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                pos = save
                                scalar = 0xFFFD
                            }
                        } else {
                            scalar = 0xFFFD
                        }
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        scalar = 0xFFFD
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
                default:
                    throw error("invalid escape")
                }
            }
            throw error("unterminated string")
        }
    }
}

/// Appends JSON text to a byte buffer. Hand-written to keep request building cheap.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    @inline(__always) mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func integer<I: BinaryInteger>(_ value: I) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a finite double in a form every JSON reader accepts (non-finite values become null).
    mutating func number(_ value: Double) {
        guard value.isFinite else { raw("null"); return }
        bytes.append(contentsOf: "\(value)".utf8)
    }

    /// Writes `s` as a quoted, ASCII-only JSON string: quotes, backslashes and control characters
    /// are escaped, and every non-ASCII character becomes `\uXXXX` (a surrogate pair above U+FFFF),
    /// so the detector can decode the line whatever its stdin encoding is.
    mutating func string(_ s: String) {
        bytes.append(0x22)
        var s = s
        let plain = s.withUTF8 { utf8 -> Bool in
            for c in utf8 where c < 0x20 || c >= 0x80 || c == 0x22 || c == 0x5C { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if !plain {
            for scalar in s.unicodeScalars {
                let v = scalar.value
                switch v {
                case 0x22: bytes.append(0x5C); bytes.append(0x22)
                case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
                case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(0x5C); bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(0x5C); bytes.append(UInt8(ascii: "f"))
                case 0x20..<0x80: bytes.append(UInt8(v))
                case 0x10000...:
                    let u = v - 0x10000
                    unicodeEscape(0xD800 + (u >> 10))
                    unicodeEscape(0xDC00 + (u & 0x3FF))
                default: unicodeEscape(v)
                }
            }
        }
        bytes.append(0x22)
    }

    private mutating func unicodeEscape(_ v: UInt32) {
        let hex: StaticString = "0123456789abcdef"
        let h = hex.utf8Start
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "u"))
        bytes.append(h[Int((v >> 12) & 0xF)])
        bytes.append(h[Int((v >> 8) & 0xF)])
        bytes.append(h[Int((v >> 4) & 0xF)])
        bytes.append(h[Int(v & 0xF)])
    }
}
