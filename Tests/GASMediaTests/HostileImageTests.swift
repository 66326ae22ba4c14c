import Foundation
import GASTestSupport
import Testing

@testable import GASMedia

/// Broken, truncated, lying and random inputs: each must give a typed error, never a
/// crash, a grey-padded image or a huge allocation.
@Suite("Hostile images")
struct HostileImageTests {
    static let png: [UInt8] = PNGFixture.make(width: 40, height: 30, colorType: .rgb, bitDepth: 8) { x, y, c in
        (x * 7 + y * 13 + c * 50) % 256
    }

    static var jpeg: [UInt8] {
        (try? ImageCodec.encodeJPEG(noiseImage(width: 48, height: 40, seed: 11), quality: 90)) ?? []
    }

    @Test("a PNG cut anywhere is truncatedImage")
    func truncatedPNG() {
        let png = Self.png
        let idat = PNGFixture.chunkOffsets(png).first { $0.type == "IDAT" }
        let cuts = [8, 12, 16, 20, 29, 33, (idat?.offset ?? 40) + 20, png.count / 2, png.count - 12, png.count - 1]
        for cut in cuts {
            let error = mediaError { _ = try ImageCodec.decode(Array(png.prefix(cut))) }
            guard case .truncatedImage = error else {
                Issue.record("cut at \(cut) of \(png.count): \(String(describing: error))")
                continue
            }
        }
    }

    @Test("a JPEG cut anywhere is truncatedImage, never grey-padded")
    func truncatedJPEG() throws {
        let jpeg = Self.jpeg
        #expect(!jpeg.isEmpty)
        for cut in [3, 4, 10, 100, 300, jpeg.count / 2, jpeg.count - 100, jpeg.count - 2, jpeg.count - 1] {
            let error = mediaError { _ = try ImageCodec.decode(Array(jpeg.prefix(cut))) }
            guard case .truncatedImage = error else {
                Issue.record("cut at \(cut) of \(jpeg.count): \(String(describing: error))")
                continue
            }
        }
    }

    @Test("an IDAT whose zlib stream stops early is truncatedImage")
    func shortIDAT() {
        // A complete, well-formed file whose pixel data is missing its last rows.
        var raw: [UInt8] = []
        for _ in 0..<10 { raw += [0] + [UInt8](repeating: 9, count: 30) }
        let ihdr = PNGFixture.be32(10) + PNGFixture.be32(20) + [8, 2, 0, 0, 0]
        let png = PNGFixture.signature + PNGFixture.chunk("IHDR", ihdr)
            + PNGFixture.chunk("IDAT", PNGFixture.zlibStored(raw)) + PNGFixture.chunk("IEND", [])
        let error = mediaError { _ = try ImageCodec.decode(png) }
        guard case .truncatedImage = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
    }

    @Test("a CRC error in IHDR or IDAT is corruptImage", arguments: ["IHDR", "IDAT"])
    func crcError(chunk: String) {
        var png = Self.png
        guard let at = PNGFixture.chunkOffsets(png).first(where: { $0.type == chunk }) else {
            Issue.record("no \(chunk)")
            return
        }
        png[at.offset + 8 + at.length] ^= 0xFF  // first CRC byte
        let error = mediaError { _ = try ImageCodec.decode(png) }
        guard case .corruptImage = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
    }

    @Test("a PNG claiming 100000×100000 is refused before any allocation")
    func pngBomb() throws {
        let bomb = PNGFixture.headerOnly(width: 100_000, height: 100_000)
        #expect(bomb.count < 100)
        let header = try ImageCodec.dimensions(bomb)
        #expect(header.width == 100_000 && header.height == 100_000)
        #expect(mediaError { _ = try ImageCodec.decode(bomb) } == .imageTooLarge(width: 100_000, height: 100_000, limit: 20_000))
        // Within the side limit but over the pixel limit.
        let wide = PNGFixture.headerOnly(width: 10_000, height: 10_000)
        #expect(mediaError { _ = try ImageCodec.decode(wide) } == .imageTooLarge(width: 10_000, height: 10_000, limit: 40_000_000))
        // Custom limits apply too.
        let small = ImageLimits(maxPixels: 100, maxDimension: 1_000)
        let fine = try ImageCodec.encodePNG(gradientImage(width: 20, height: 20))
        #expect(mediaError { _ = try ImageCodec.decode(fine, limits: small) } == .imageTooLarge(width: 20, height: 20, limit: 100))
    }

    @Test("a JPEG claiming 60000×60000 is refused before any allocation")
    func jpegBomb() throws {
        var jpeg = Self.jpeg
        // Patch the SOF0 marker's height and width.
        guard let sof = (2..<jpeg.count - 9).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) else {
            Issue.record("no SOF0")
            return
        }
        for offset in [5, 7] {  // height, then width: 60000 = 0xEA60
            jpeg[sof + offset] = 0xEA
            jpeg[sof + offset + 1] = 0x60
        }
        #expect(try ImageCodec.dimensions(jpeg).width == 60_000)
        #expect(mediaError { _ = try ImageCodec.decode(jpeg) } == .imageTooLarge(width: 60_000, height: 60_000, limit: 20_000))
    }

    @Test("random bytes and empty input are unrecognizedImage")
    func randomBytes() {
        var random = SeededBytes(seed: 99)
        for length in [0, 1, 2, 7, 100, 5_000] {
            var bytes = random.bytes(length)
            if bytes.first == 0x89 || bytes.first == 0xFF || bytes.first == 0x42 { bytes[0] = 0 }
            #expect(mediaError { _ = try ImageCodec.decode(bytes) } == .unrecognizedImage)
            #expect(mediaError { _ = try ImageCodec.dimensions(bytes) } == .unrecognizedImage)
        }
    }

    /// More rounds with GAS_FUZZ_ITERATIONS (e.g. under --sanitize=address).
    static let mutationRounds = ProcessInfo.processInfo.environment["GAS_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 150

    @Test("mutated PNG and JPEG files never crash and fail only with MediaError")
    func mutations() {
        var random = SeededBytes(seed: 2024)
        var failures = 0, successes = 0
        let originals = [
            Self.png, Self.jpeg, (try? ImageCodec.encodePNG(gradientImage(width: 50, height: 20))) ?? [],
            PNGFixture.make(width: 13, height: 11, colorType: .palette, bitDepth: 4, interlaced: true,
                            palette: [(1, 2, 3), (200, 100, 0)], transparency: [7]) { x, y, _ in (x ^ y) & 1 },
        ]
        for original in originals {
            for _ in 0..<Self.mutationRounds {
                var bytes = original
                for _ in 0..<(1 + random.below(8)) {
                    let at = random.below(bytes.count)
                    bytes[at] = UInt8(truncatingIfNeeded: random.next())
                }
                if random.below(4) == 0 { bytes = Array(bytes.prefix(random.below(bytes.count))) }
                do {
                    let image = try ImageCodec.decode(bytes)
                    #expect(image.pixels.count == image.width * image.height * 3)
                    successes += 1
                } catch {
                    failures += 1
                }
            }
        }
        #expect(failures + successes == originals.count * Self.mutationRounds)
        #expect(failures > 0)
    }

    @Test("GIF, BMP, WebP and TIFF: dimensions from the header, decode is unsupportedFormat")
    func otherFormats() throws {
        let gif: [UInt8] = Array("GIF89a".utf8) + [0x40, 0x01, 0xF0, 0x00] + [UInt8](repeating: 0, count: 10)
        var bmp: [UInt8] = Array("BM".utf8) + [UInt8](repeating: 0, count: 12) + [40, 0, 0, 0]
        bmp += [0x20, 0x03, 0, 0] + [0x38, 0xFF, 0xFF, 0xFF] + [1, 0, 24, 0]  // 800 × -200 (top-down)
        let vp8x: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0, 0, 0, 0, 0]
            + [0x7F, 0x02, 0x00] + [0xDF, 0x01, 0x00]  // 640 × 480
        let tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0, 2, 0]
            + [0, 1, 3, 0, 1, 0, 0, 0, 0x2C, 0x01, 0, 0]  // width SHORT 300
            + [1, 1, 4, 0, 1, 0, 0, 0, 0xC8, 0, 0, 0]  // height LONG 200
        let cases: [([UInt8], ImageFormat, Int, Int)] = [
            (gif, .gif, 320, 240), (bmp, .bmp, 800, 200), (vp8x, .webp, 640, 480), (tiff, .tiff, 300, 200),
        ]
        for (bytes, format, width, height) in cases {
            let header = try ImageCodec.dimensions(bytes)
            #expect(header.format == format && header.width == width && header.height == height, "\(format)")
            #expect(mediaError { _ = try ImageCodec.decode(bytes) } == .unsupportedFormat(format.rawValue))
            // Cut headers are truncated, not crashes.
            guard case .truncatedImage = mediaError({ _ = try ImageCodec.dimensions(Array(bytes.prefix(format == .gif ? 8 : 12))) }) else {
                Issue.record("cut \(format) header")
                continue
            }
        }
    }

    @Test("errors describe themselves with an action and can name their source")
    func descriptions() {
        let error = MediaError.truncatedImage(reason: "the data ends inside a chunk").located(at: "s3://bucket/a.png")
        #expect(error.description.hasPrefix("s3://bucket/a.png: The image data ends early"))
        #expect(error.underlying == .truncatedImage(reason: "the data ends inside a chunk"))
        let limit = MediaError.archiveLimitExceeded(archive: "x.zip", entry: "big.bin", limit: .entryBytes(max: 10))
        #expect(limit.description.contains("ArchiveLimits.maxEntryBytes"))
        #expect(limit.description.contains("big.bin"))
    }
}
