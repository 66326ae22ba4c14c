/// Hand-written PNG files, independent of libpng: chunks, CRC-32 and a zlib stream of
/// stored (uncompressed) deflate blocks, with Adam7 interlacing done here. Why: the
/// decoder must be tested against files it did not write itself, including odd colour
/// types, bit depths and broken ones.
enum PNGFixture {
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        var channels: Int {
            switch self {
            case .gray, .palette: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A PNG whose sample (channel c of pixel x, y) is `sample(x, y, c)`.
    static func make(
        width: Int, height: Int, colorType: ColorType, bitDepth: Int, interlaced: Bool = false,
        palette: [(UInt8, UInt8, UInt8)] = [], transparency: [UInt8]? = nil,
        extraChunks: [(String, [UInt8])] = [],
        sample: (Int, Int, Int) -> Int
    ) -> [UInt8] {
        var raw: [UInt8] = []
        let passes: [(x0: Int, y0: Int, dx: Int, dy: Int)] =
            interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        for pass in passes {
            let xs = Array(stride(from: pass.x0, to: width, by: pass.dx))
            let ys = Array(stride(from: pass.y0, to: height, by: pass.dy))
            if xs.isEmpty || ys.isEmpty { continue }
            for y in ys {
                raw.append(0)  // filter: none
                var samples: [Int] = []
                for x in xs {
                    for c in 0..<colorType.channels { samples.append(sample(x, y, c)) }
                }
                raw += pack(samples, bitDepth: bitDepth)
            }
        }
        var ihdr = be32(width) + be32(height)
        ihdr += [UInt8(bitDepth), colorType.rawValue, 0, 0, interlaced ? 1 : 0]
        var file = signature + chunk("IHDR", ihdr)
        if !palette.isEmpty { file += chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if let transparency { file += chunk("tRNS", transparency) }
        for (type, data) in extraChunks { file += chunk(type, data) }
        file += chunk("IDAT", zlibStored(raw))
        file += chunk("IEND", [])
        return file
    }

    /// Just a signature, an IHDR and IEND: a header that promises any size.
    static func headerOnly(width: UInt32, height: UInt32) -> [UInt8] {
        var ihdr = be32(Int(width)) + be32(Int(height))
        ihdr += [8, ColorType.rgb.rawValue, 0, 0, 0]
        return signature + chunk("IHDR", ihdr) + chunk("IDAT", zlibStored([0, 0, 0, 0])) + chunk("IEND", [])
    }

    static func pack(_ samples: [Int], bitDepth: Int) -> [UInt8] {
        switch bitDepth {
        case 8: return samples.map { UInt8($0) }
        case 16: return samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        default:
            var out: [UInt8] = []
            var current = 0, used = 0
            for s in samples {
                current = (current << bitDepth) | s
                used += bitDepth
                if used == 8 {
                    out.append(UInt8(current))
                    current = 0
                    used = 0
                }
            }
            if used > 0 { out.append(UInt8(current << (8 - used))) }
            return out
        }
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return be32(data.count) + typed + be32(Int(crc32(typed)))
    }

    static func be32(_ value: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// A zlib stream of stored deflate blocks (no compression).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        return out + be32(Int(adler32(data)))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    /// Byte offsets of each chunk (length field) in a PNG, by type.
    static func chunkOffsets(_ png: [UInt8]) -> [(type: String, offset: Int, length: Int)] {
        var result: [(String, Int, Int)] = []
        var at = 8
        while at + 8 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            result.append((String(decoding: png[at + 4..<at + 8], as: UTF8.self), at, length))
            at += 12 + length
        }
        return result
    }
}
