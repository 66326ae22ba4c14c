// Page codecs: snappy (Snappy.swift), gzip through zlib, zstd through libzstd when the optional
// CZstd module is present. Decompression sizes come from untrusted page headers, so they are
// capped and checked against each codec's maximum expansion ratio before allocating.

import CZlib
#if canImport(CZstd)
import CZstd
let zstdAvailable = true
#else
let zstdAvailable = false
#endif

enum PageCompression {
    /// Largest uncompressed page the reader will allocate.
    static let maxUncompressedPageBytes = 256 << 20
    /// gzip level: fixed so output is deterministic for a given zlib.
    static let gzipLevel: Int32 = 6
    static let zstdLevel: Int32 = 3

    static func compress(_ input: [UInt8], codec: ParquetCodec) throws -> [UInt8] {
        switch codec {
        case .uncompressed: return input
        case .snappy: return Snappy.compress(input)
        case .gzip: return try gzip(input)
        case .zstd: return try zstdCompress(input)
        }
    }

    /// Decompresses `input` to exactly `uncompressedSize` bytes.
    static func decompress(_ input: UnsafeRawBufferPointer, codec: Int32, uncompressedSize: Int) throws -> [UInt8] {
        guard uncompressedSize >= 0 else { throw FormatIssue.corrupt("negative uncompressed page size \(uncompressedSize)") }
        guard uncompressedSize <= maxUncompressedPageBytes else {
            throw FormatIssue.limit(what: "uncompressed page size", value: Int64(uncompressedSize), limit: Int64(maxUncompressedPageBytes))
        }
        switch codec {
        case CodecID.uncompressed:
            guard input.count == uncompressedSize else {
                throw FormatIssue.corrupt("uncompressed page is \(input.count) bytes, header says \(uncompressedSize)")
            }
            return [UInt8](input)
        case CodecID.snappy:
            // A 3-byte snappy copy yields at most 64 bytes.
            guard uncompressedSize <= input.count * 22 + 64 else {
                throw FormatIssue.corrupt("page header claims \(uncompressedSize) bytes from a \(input.count)-byte snappy block")
            }
            return try Snappy.decompress(input, expectedLength: uncompressedSize)
        case CodecID.gzip:
            // Deflate cannot expand by more than ~1032:1.
            guard uncompressedSize <= input.count * 1100 + 1024 else {
                throw FormatIssue.corrupt("page header claims \(uncompressedSize) bytes from a \(input.count)-byte gzip stream")
            }
            return try gunzip(input, uncompressedSize: uncompressedSize)
        case CodecID.zstd:
            return try zstdDecompress(input, uncompressedSize: uncompressedSize)
        default:
            throw FormatIssue.unsupportedCodec(CodecID.name(codec))
        }
    }

    // MARK: gzip

    private static func gzip(_ input: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper (mtime 0, so the output is deterministic).
        let initStatus = deflateInit2_(&stream, gzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw FormatIssue.corrupt("zlib deflateInit2 failed (\(initStatus))") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var status: Int32 = Z_OK
        let output = [UInt8](unsafeUninitializedCapacity: bound) { out, written in
            input.withUnsafeBufferPointer { inp in
                stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                stream.avail_in = uInt(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                status = deflate(&stream, Z_FINISH)
            }
            written = status == Z_STREAM_END ? Int(stream.total_out) : 0
        }
        guard status == Z_STREAM_END else { throw FormatIssue.corrupt("zlib deflate failed (\(status))") }
        return output
    }

    private static func gunzip(_ input: UnsafeRawBufferPointer, uncompressedSize: Int) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 32 accepts both gzip and zlib wrappers.
        let initStatus = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { throw FormatIssue.corrupt("zlib inflateInit2 failed (\(initStatus))") }
        defer { inflateEnd(&stream) }
        // Capacity of at least 1 so zlib always gets a valid output pointer, even for empty pages.
        return try [UInt8](unsafeUninitializedCapacity: max(1, uncompressedSize)) { out, written in
            written = 0
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(uncompressedSize)
            let status = inflate(&stream, Z_FINISH)
            guard status == Z_STREAM_END else {
                if status == Z_BUF_ERROR && stream.avail_out == 0 && stream.avail_in > 0 {
                    throw FormatIssue.corrupt("gzip page expands beyond the declared \(uncompressedSize) bytes")
                }
                if status == Z_BUF_ERROR { throw FormatIssue.truncated("gzip stream") }
                throw FormatIssue.corrupt("gzip stream is invalid (zlib status \(status))")
            }
            guard Int(stream.total_out) == uncompressedSize else {
                throw FormatIssue.corrupt("gzip page expands to \(stream.total_out) bytes, header says \(uncompressedSize)")
            }
            written = uncompressedSize
        }
    }

    // MARK: zstd

    private static func zstdCompress(_ input: [UInt8]) throws -> [UInt8] {
        #if canImport(CZstd)
        let bound = ZSTD_compressBound(input.count)
        var failure: String?
        let output = [UInt8](unsafeUninitializedCapacity: bound) { out, written in
            let r = input.withUnsafeBytes { ZSTD_compress(out.baseAddress, out.count, $0.baseAddress, $0.count, zstdLevel) }
            if ZSTD_isError(r) != 0 {
                failure = String(cString: ZSTD_getErrorName(r))
                written = 0
            } else {
                written = r
            }
        }
        if let failure { throw FormatIssue.corrupt("zstd compression failed: \(failure)") }
        return output
        #else
        throw FormatIssue.unsupportedCodec("ZSTD (built without the CZstd module)")
        #endif
    }

    private static func zstdDecompress(_ input: UnsafeRawBufferPointer, uncompressedSize: Int) throws -> [UInt8] {
        #if canImport(CZstd)
        return try [UInt8](unsafeUninitializedCapacity: max(1, uncompressedSize)) { out, written in
            written = 0
            let r = ZSTD_decompress(out.baseAddress, uncompressedSize, input.baseAddress, input.count)
            if ZSTD_isError(r) != 0 {
                throw FormatIssue.corrupt("zstd page is invalid: \(String(cString: ZSTD_getErrorName(r)))")
            }
            guard r == uncompressedSize else {
                throw FormatIssue.corrupt("zstd page expands to \(r) bytes, header says \(uncompressedSize)")
            }
            written = r
        }
        #else
        throw FormatIssue.unsupportedCodec("ZSTD (built without the CZstd module)")
        #endif
    }
}
