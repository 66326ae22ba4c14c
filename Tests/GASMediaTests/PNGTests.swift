import Testing

@testable import GASMedia

@Suite("PNG")
struct PNGTests {
    @Test("encode → decode is lossless", arguments: [(1, 1), (3, 7), (257, 13), (64, 1), (1, 64)])
    func roundTrip(size: (Int, Int)) throws {
        let image = noiseImage(width: size.0, height: size.1, seed: UInt64(size.0 * 1000 + size.1))
        let png = try ImageCodec.encodePNG(image)
        #expect(ImageFormat.sniff(png) == .png)
        let decoded = try ImageCodec.decode(png)
        #expect(decoded == image)
        let header = try ImageCodec.dimensions(png)
        #expect(header.width == size.0 && header.height == size.1 && header.format == .png)
    }

    @Test("encodePNG is deterministic and writes only IHDR, IDAT and IEND")
    func deterministic() throws {
        let image = gradientImage(width: 97, height: 31)
        let first = try ImageCodec.encodePNG(image)
        let second = try ImageCodec.encodePNG(RGBImage(width: 97, height: 31, pixels: image.pixels))
        #expect(first == second)
        let types = Set(PNGFixture.chunkOffsets(first).map(\.type))
        #expect(types == ["IHDR", "IDAT", "IEND"])
    }

    @Test("8-bit grayscale becomes equal R, G and B")
    func gray8() throws {
        let png = PNGFixture.make(width: 5, height: 4, colorType: .gray, bitDepth: 8) { x, y, _ in x * 50 + y }
        let image = try ImageCodec.decode(png)
        #expect(image.width == 5 && image.height == 4)
        for y in 0..<4 {
            for x in 0..<5 {
                let i = (y * 5 + x) * 3
                let v = UInt8(x * 50 + y)
                #expect(Array(image.pixels[i..<i + 3]) == [v, v, v])
            }
        }
    }

    @Test("1-, 2- and 4-bit grayscale scale to the full 8-bit range", arguments: [1, 2, 4])
    func lowDepthGray(bitDepth: Int) throws {
        let maxValue = (1 << bitDepth) - 1
        let png = PNGFixture.make(width: 9, height: 2, colorType: .gray, bitDepth: bitDepth) { x, _, _ in x % (maxValue + 1) }
        let image = try ImageCodec.decode(png)
        for x in 0..<9 {
            let expected = UInt8((x % (maxValue + 1)) * 255 / maxValue)
            #expect(image.pixels[x * 3] == expected, "x=\(x)")
            #expect(image.pixels[(9 + x) * 3 + 2] == expected, "second row x=\(x)")
        }
    }

    @Test("palette images map indices to colours; tRNS is dropped", arguments: [(8, true), (4, false), (1, true)])
    func palette(bitDepth: Int, withTransparency: Bool) throws {
        let colours: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
        let count = min(colours.count, 1 << bitDepth)
        let png = PNGFixture.make(
            width: 7, height: 3, colorType: .palette, bitDepth: bitDepth,
            palette: Array(colours.prefix(count)), transparency: withTransparency ? [0, 128] : nil
        ) { x, y, _ in (x + y) % count }
        let image = try ImageCodec.decode(png)
        #expect(image.pixels.count == 7 * 3 * 3)
        for y in 0..<3 {
            for x in 0..<7 {
                let c = colours[(x + y) % count]
                let i = (y * 7 + x) * 3
                #expect(Array(image.pixels[i..<i + 3]) == [c.0, c.1, c.2])
            }
        }
    }

    @Test("16-bit RGB is scaled to 8 bits with rounding")
    func sixteenBit() throws {
        let values = [0x0000, 0xFFFF, 0x8080, 0x1234, 0x7F7F, 0x00FF]
        let png = PNGFixture.make(width: values.count, height: 1, colorType: .rgb, bitDepth: 16) { x, _, c in
            c == 0 ? values[x] : c == 1 ? 0xFFFF - values[x] : 0x4000
        }
        let image = try ImageCodec.decode(png)
        for (x, v) in values.enumerated() {
            let r = Int(image.pixels[x * 3]), g = Int(image.pixels[x * 3 + 1])
            #expect(r == (v * 255 + 32_767) / 65_535)
            #expect(g == ((0xFFFF - v) * 255 + 32_767) / 65_535)
            #expect(abs(r - (v >> 8)) <= 1)
        }
    }

    @Test("RGBA and gray+alpha drop the alpha channel without compositing")
    func alpha() throws {
        let rgba = PNGFixture.make(width: 4, height: 4, colorType: .rgba, bitDepth: 8) { x, y, c in
            c == 3 ? (x * 80) : (x * 10 + y * 3 + c * 60)
        }
        let image = try ImageCodec.decode(rgba)
        for y in 0..<4 {
            for x in 0..<4 {
                let i = (y * 4 + x) * 3
                #expect(Array(image.pixels[i..<i + 3]) == (0..<3).map { UInt8(x * 10 + y * 3 + $0 * 60) })
            }
        }
        let grayAlpha = PNGFixture.make(width: 3, height: 2, colorType: .grayAlpha, bitDepth: 16) { x, _, c in
            c == 1 ? 0 : x * 0x4040
        }
        let gray = try ImageCodec.decode(grayAlpha)
        #expect(gray.pixels == [0, 0, 0, 64, 64, 64, 128, 128, 128, 0, 0, 0, 64, 64, 64, 128, 128, 128])
    }

    @Test("Adam7-interlaced images decode to the same pixels", arguments: [(1, 1), (5, 3), (17, 9), (8, 8)])
    func interlaced(size: (Int, Int)) throws {
        let sample: (Int, Int, Int) -> Int = { x, y, c in (x * 31 + y * 17 + c * 89) % 256 }
        let plain = PNGFixture.make(width: size.0, height: size.1, colorType: .rgb, bitDepth: 8, sample: sample)
        let adam7 = PNGFixture.make(width: size.0, height: size.1, colorType: .rgb, bitDepth: 8, interlaced: true, sample: sample)
        #expect(plain != adam7)
        let expected = try ImageCodec.decode(plain)
        #expect(try ImageCodec.decode(adam7) == expected)
        #expect(expected.pixels[0..<3] == [0, 89, 178])
    }

    @Test("text, time and ICC chunks are skipped")
    func ancillaryChunks() throws {
        let png = PNGFixture.make(
            width: 2, height: 2, colorType: .rgb, bitDepth: 8,
            extraChunks: [("tEXt", Array("Comment\0hello".utf8)), ("tIME", [7, 233, 1, 1, 0, 0, 0]), ("zzZz", [1, 2, 3])]
        ) { x, y, c in x + y + c }
        let image = try ImageCodec.decode(png)
        #expect(image.pixels == [0, 1, 2, 1, 2, 3, 1, 2, 3, 2, 3, 4])
    }

    @Test("encodePNG refuses pixel buffers that do not match the size")
    func invalidImages() {
        let wrongCount = RGBImage(width: 2, height: 2, pixels: [1, 2, 3])
        guard case .invalidImage = mediaError({ _ = try ImageCodec.encodePNG(wrongCount) }) else {
            Issue.record("wrong pixel count was accepted")
            return
        }
        let empty = RGBImage(width: 0, height: 5, pixels: [])
        guard case .invalidImage = mediaError({ _ = try ImageCodec.encodePNG(empty) }) else {
            Issue.record("zero width was accepted")
            return
        }
    }
}
