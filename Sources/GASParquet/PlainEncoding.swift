// PLAIN encoding traits shared by writer and reader: fixed-width numbers are their little-endian
// bytes, booleans are bit-packed LSB first, byte arrays are a 4-byte little-endian length + bytes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Numbers stored PLAIN as raw little-endian memory (INT32, INT64, FLOAT, DOUBLE).
protocol FixedWidthValue: BitwiseCopyable, Comparable, PlainDecodable {
    associatedtype DictionaryKey: Hashable
    /// Key for dictionary deduplication: the bit pattern, so -0.0/+0.0 and NaN payloads survive.
    var dictionaryKey: DictionaryKey { get }
    /// NaN never takes part in min/max statistics.
    var excludedFromStatistics: Bool { get }
    /// Parquet asks writers to store a zero min as -0.0 and a zero max as +0.0.
    var normalizedForMin: Self { get }
    var normalizedForMax: Self { get }
}

extension Int32: FixedWidthValue {
    var dictionaryKey: Int32 { self }
    var excludedFromStatistics: Bool { false }
    var normalizedForMin: Int32 { self }
    var normalizedForMax: Int32 { self }
}

extension Int64: FixedWidthValue {
    var dictionaryKey: Int64 { self }
    var excludedFromStatistics: Bool { false }
    var normalizedForMin: Int64 { self }
    var normalizedForMax: Int64 { self }
}

extension Float: FixedWidthValue {
    var dictionaryKey: UInt32 { bitPattern }
    var excludedFromStatistics: Bool { isNaN }
    var normalizedForMin: Float { self == 0 ? -0.0 : self }
    var normalizedForMax: Float { self == 0 ? 0.0 : self }
}

extension Double: FixedWidthValue {
    var dictionaryKey: UInt64 { bitPattern }
    var excludedFromStatistics: Bool { isNaN }
    var normalizedForMin: Double { self == 0 ? -0.0 : self }
    var normalizedForMax: Double { self == 0 ? 0.0 : self }
}

/// Little-endian bytes of a value, for statistics.
@inline(__always) func littleEndianBytes<T: BitwiseCopyable>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v) { Array($0) }
}

@inline(__always) func appendLE32(_ v: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: v))
    out.append(UInt8(truncatingIfNeeded: v >> 8))
    out.append(UInt8(truncatingIfNeeded: v >> 16))
    out.append(UInt8(truncatingIfNeeded: v >> 24))
}

@inline(__always) func readLE32(_ p: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
    p.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
}

/// Unsigned lexicographic byte order, which Parquet uses for BYTE_ARRAY statistics.
func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let n = min(a.count, b.count)
    if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
        let c = memcmp(pa, pb, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

// MARK: Decoding

/// Values the reader can decode from a page.
protocol PlainDecodable {
    /// Decodes `count` PLAIN values from the start of `p`.
    static func decodePlain(_ p: UnsafeRawBufferPointer, count: Int) throws -> [Self]
    /// Decodes `count` RLE-encoded values (4-byte length + hybrid runs); only booleans support it.
    static func decodeRLE(_ p: UnsafeRawBufferPointer, count: Int) throws -> [Self]
}

extension PlainDecodable {
    static func decodeRLE(_ p: UnsafeRawBufferPointer, count: Int) throws -> [Self] {
        throw FormatIssue.unsupportedEncoding("RLE for \(Self.self) values")
    }
}

extension FixedWidthValue {
    static func decodePlain(_ p: UnsafeRawBufferPointer, count: Int) throws -> [Self] {
        let width = MemoryLayout<Self>.size
        guard count >= 0, count <= p.count / width else {
            throw FormatIssue.truncated("\(count) PLAIN \(Self.self) values need \(count) x \(width) bytes, page has \(p.count)")
        }
        guard count > 0 else { return [] }
        return [Self](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: p[0..<(count * width)]))
            initialized = count
        }
    }
}

extension Bool: PlainDecodable {
    static func decodePlain(_ p: UnsafeRawBufferPointer, count: Int) throws -> [Bool] {
        guard count >= 0, count <= p.count * 8 else {
            throw FormatIssue.truncated("\(count) PLAIN booleans need \((count + 7) / 8) bytes, page has \(p.count)")
        }
        var out: [Bool] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            out.append(p[i >> 3] & (1 << UInt8(i & 7)) != 0)
        }
        return out
    }

    static func decodeRLE(_ p: UnsafeRawBufferPointer, count: Int) throws -> [Bool] {
        guard count > 0 else { return [] }
        guard p.count >= 4 else { throw FormatIssue.truncated("RLE boolean length prefix") }
        let length = Int(readLE32(p, at: 0))
        guard length <= p.count - 4 else { throw FormatIssue.truncated("RLE booleans declare \(length) bytes, page has \(p.count - 4)") }
        let bits = try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: p[4..<(4 + length)]), bitWidth: 1, count: count)
        return bits.map { $0 != 0 }
    }
}

/// Walks `count` length-prefixed byte arrays, handing each one's bytes to `body`.
func forEachPlainByteArray(_ p: UnsafeRawBufferPointer, count: Int,
                           _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
    guard count >= 0, count <= p.count / 4 else {
        throw FormatIssue.truncated("\(count) PLAIN byte arrays need at least \(count) x 4 bytes, page has \(p.count)")
    }
    guard count > 0, let base = p.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    var offset = 0
    for i in 0..<count {
        guard p.count - offset >= 4 else { throw FormatIssue.truncated("byte array \(i) of \(count): length prefix") }
        let length = Int(readLE32(p, at: offset))
        offset += 4
        guard length <= p.count - offset else {
            throw FormatIssue.truncated("byte array \(i) of \(count) declares \(length) bytes, \(p.count - offset) left")
        }
        try body(UnsafeBufferPointer(start: base + offset, count: length))
        offset += length
    }
}

extension String: PlainDecodable {
    static func decodePlain(_ p: UnsafeRawBufferPointer, count: Int) throws -> [String] {
        var out: [String] = []
        out.reserveCapacity(Swift.min(count, p.count / 4))
        try forEachPlainByteArray(p, count: count) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }
}

extension Array: PlainDecodable where Element == UInt8 {
    static func decodePlain(_ p: UnsafeRawBufferPointer, count: Int) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(Swift.min(count, p.count / 4))
        try forEachPlainByteArray(p, count: count) { out.append(Array($0)) }
        return out
    }
}
