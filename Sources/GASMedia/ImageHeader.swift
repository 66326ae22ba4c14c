/// Width and height read straight from the header bytes of formats whose pixels we do
/// not decode here (and of PNG, whose IHDR sits at a fixed place). Why by hand: callers
/// want sizes of every sniffed image for catalogs, without decoding anything.
enum ImageHeader {
    static func dimensions(of bytes: [UInt8], format: ImageFormat) throws(MediaError) -> (width: Int, height: Int) {
        let reader = ByteReader(bytes: bytes, format: format)
        let size: (Int, Int)
        switch format {
        case .png: size = try png(reader)
        case .gif: size = (try reader.le16(6), try reader.le16(8))
        case .bmp: size = try bmp(reader)
        case .webp: size = try webp(reader)
        case .tiff: size = try tiff(reader)
        case .jpeg: throw .unsupportedFormat("jpeg")  // read through libjpeg by ImageCodec
        }
        guard size.0 > 0, size.1 > 0 else {
            throw .corruptImage(reason: "the \(format.rawValue) header declares a zero or negative size")
        }
        return size
    }

    private static func png(_ r: ByteReader) throws(MediaError) -> (Int, Int) {
        // Signature (8), then the first chunk must be IHDR with 13 bytes of data.
        guard try r.be32(8) == 13, try r.bytes(12, 4) == Array("IHDR".utf8) else {
            throw .corruptImage(reason: "the PNG does not start with an IHDR chunk")
        }
        let width = try r.be32(16), height = try r.be32(20)
        guard width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw .corruptImage(reason: "the PNG header declares a size beyond 2^31-1")
        }
        return (width, height)
    }

    private static func bmp(_ r: ByteReader) throws(MediaError) -> (Int, Int) {
        let dibSize = try r.le32(14)
        if dibSize == 12 {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
            return (try r.le16(18), try r.le16(20))
        }
        let width = Int(Int32(truncatingIfNeeded: try r.le32(18)))
        let height = Int(Int32(truncatingIfNeeded: try r.le32(22)))
        return (width, height == Int(Int32.min) ? 0 : abs(height))  // negative height: top-down rows
    }

    private static func webp(_ r: ByteReader) throws(MediaError) -> (Int, Int) {
        let chunk = try r.bytes(12, 4)
        switch String(decoding: chunk, as: UTF8.self) {
        case "VP8 ":
            guard try r.bytes(23, 3) == [0x9D, 0x01, 0x2A] else {
                throw .corruptImage(reason: "the WebP VP8 frame has no start code")
            }
            return (try r.le16(26) & 0x3FFF, try r.le16(28) & 0x3FFF)
        case "VP8L":
            guard try r.bytes(20, 1) == [0x2F] else {
                throw .corruptImage(reason: "the WebP VP8L stream has no signature byte")
            }
            let bits = try r.le32(21)
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            return (try r.le24(24) + 1, try r.le24(27) + 1)
        default:
            throw .corruptImage(reason: "the WebP file has no VP8, VP8L or VP8X chunk first")
        }
    }

    private static func tiff(_ r: ByteReader) throws(MediaError) -> (Int, Int) {
        let little = try r.bytes(0, 2) == [0x49, 0x49]
        func u16(_ at: Int) throws(MediaError) -> Int { little ? try r.le16(at) : try r.be16(at) }
        func u32(_ at: Int) throws(MediaError) -> Int { little ? try r.le32(at) : try r.be32(at) }
        let ifd = try u32(4)
        let count = try u16(ifd)
        var width = 0, height = 0
        for index in 0..<count {
            let entry = ifd + 2 + index * 12
            let tag = try u16(entry)
            guard tag == 256 || tag == 257 else { continue }
            let value: Int
            switch try u16(entry + 2) {
            case 3: value = try u16(entry + 8)  // SHORT
            case 4: value = try u32(entry + 8)  // LONG
            default: throw .corruptImage(reason: "the TIFF size tag has an unexpected type")
            }
            if tag == 256 { width = value } else { height = value }
            if width > 0 && height > 0 { break }
        }
        return (width, height)
    }
}

/// Bounds-checked integer reads; running off the end means the header is truncated.
private struct ByteReader {
    let bytes: [UInt8]
    let format: ImageFormat

    func bytes(_ offset: Int, _ count: Int) throws(MediaError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= bytes.count - count else {
            throw .truncatedImage(reason: "the \(format.rawValue) header ends early")
        }
        return Array(bytes[offset..<offset + count])
    }

    func le16(_ at: Int) throws(MediaError) -> Int {
        let b = try bytes(at, 2)
        return Int(b[0]) | Int(b[1]) << 8
    }

    func be16(_ at: Int) throws(MediaError) -> Int {
        let b = try bytes(at, 2)
        return Int(b[0]) << 8 | Int(b[1])
    }

    func le24(_ at: Int) throws(MediaError) -> Int {
        let b = try bytes(at, 3)
        return Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16
    }

    func le32(_ at: Int) throws(MediaError) -> Int {
        let b = try bytes(at, 4)
        return Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
    }

    func be32(_ at: Int) throws(MediaError) -> Int {
        let b = try bytes(at, 4)
        return Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
    }
}
