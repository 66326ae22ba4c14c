import Testing

@testable import GASMedia

@Suite("JPEG")
struct JPEGTests {
    static func maxAndMeanDifference(_ a: RGBImage, _ b: RGBImage) -> (max: Int, mean: Double) {
        var maxDiff = 0, sum = 0
        for (x, y) in zip(a.pixels, b.pixels) {
            let d = abs(Int(x) - Int(y))
            maxDiff = max(maxDiff, d)
            sum += d
        }
        return (maxDiff, Double(sum) / Double(max(a.pixels.count, 1)))
    }

    @Test("encode → decode stays close to the original", arguments: [(64, 48), (257, 13), (16, 16)])
    func roundTrip(size: (Int, Int)) throws {
        let image = gradientImage(width: size.0, height: size.1)
        let jpeg = try ImageCodec.encodeJPEG(image, quality: 95)
        #expect(ImageFormat.sniff(jpeg) == .jpeg)
        let header = try ImageCodec.dimensions(jpeg)
        #expect(header.width == size.0 && header.height == size.1 && header.format == .jpeg)
        let decoded = try ImageCodec.decode(jpeg)
        #expect(decoded.width == size.0 && decoded.height == size.1)
        let diff = Self.maxAndMeanDifference(image, decoded)
        #expect(diff.mean < 2.5, "mean difference \(diff.mean)")
        #expect(diff.max <= 24, "max difference \(diff.max)")
    }

    @Test("tiny images of one colour survive exactly or nearly", arguments: [(1, 1), (3, 7), (9, 2)])
    func tiny(size: (Int, Int)) throws {
        let image = RGBImage(width: size.0, height: size.1, pixels: Array([UInt8]([180, 90, 40]).repeated(size.0 * size.1)))
        let decoded = try ImageCodec.decode(ImageCodec.encodeJPEG(image, quality: 90))
        #expect(decoded.width == size.0 && decoded.height == size.1)
        #expect(Self.maxAndMeanDifference(image, decoded).max <= 3)
    }

    @Test("encodeJPEG is deterministic")
    func deterministic() throws {
        let image = noiseImage(width: 33, height: 17, seed: 7)
        #expect(try ImageCodec.encodeJPEG(image, quality: 80) == ImageCodec.encodeJPEG(image, quality: 80))
    }

    @Test("higher quality gives larger files")
    func qualityAffectsSize() throws {
        let image = noiseImage(width: 64, height: 64, seed: 3)
        let sizes = try [10, 50, 90, 100].map { try ImageCodec.encodeJPEG(image, quality: $0).count }
        #expect(sizes == sizes.sorted() && Set(sizes).count == sizes.count, "sizes \(sizes)")
    }

    @Test("quality outside 1...100 is refused", arguments: [0, 101, -5])
    func badQuality(quality: Int) {
        let error = mediaError { _ = try ImageCodec.encodeJPEG(gradientImage(width: 4, height: 4), quality: quality) }
        guard case .invalidImage = error else {
            Issue.record("quality \(quality) gave \(String(describing: error))")
            return
        }
    }

    @Test("grayscale JPEG decodes to equal R, G and B")
    func grayscale() throws {
        let width = 40, height = 24
        let samples = (0..<width * height).map { UInt8(($0 % width) * 6) }
        let jpeg = try ImageCodec.encodeJPEG(samples: samples, width: width, height: height, components: 1, quality: 95, progressive: false)
        let image = try ImageCodec.decode(jpeg)
        #expect(image.width == width && image.height == height)
        var worst = 0
        for i in 0..<width * height {
            let (r, g, b) = (image.pixels[i * 3], image.pixels[i * 3 + 1], image.pixels[i * 3 + 2])
            #expect(r == g && g == b)
            worst = max(worst, abs(Int(r) - Int(samples[i])))
        }
        #expect(worst <= 12, "worst gray difference \(worst)")
    }

    @Test("progressive JPEG decodes like baseline; cut progressive files are truncatedImage")
    func progressive() throws {
        let image = gradientImage(width: 80, height: 60)
        let jpeg = try ImageCodec.encodeJPEG(samples: image.pixels, width: 80, height: 60, components: 3, quality: 90, progressive: true)
        let baseline = try ImageCodec.encodeJPEG(image, quality: 90)
        #expect(jpeg != baseline)
        let decoded = try ImageCodec.decode(jpeg)
        #expect(Self.maxAndMeanDifference(image, decoded).mean < 3)
        for cut in [jpeg.count / 4, jpeg.count / 2, jpeg.count - 3] {
            guard case .truncatedImage = mediaError({ _ = try ImageCodec.decode(Array(jpeg.prefix(cut))) }) else {
                Issue.record("progressive cut at \(cut)")
                continue
            }
        }
    }

    @Test("12-bit and lossless JPEG processes are unsupportedFormat", arguments: [UInt8(0xC3), UInt8(0xC0)])
    func unsupportedProcesses(marker: UInt8) throws {
        var jpeg = try ImageCodec.encodeJPEG(gradientImage(width: 16, height: 16), quality: 90)
        guard let sof = (2..<jpeg.count - 9).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) else {
            Issue.record("no SOF0")
            return
        }
        jpeg[sof + 1] = marker
        if marker == 0xC0 { jpeg[sof + 4] = 12 }  // sample precision
        guard case .unsupportedFormat(let what) = mediaError({ _ = try ImageCodec.decode(jpeg) }) else {
            Issue.record("marker \(marker) was not unsupportedFormat")
            return
        }
        #expect(what.hasPrefix("jpeg variant ("))
    }

    @Test("Adobe CMYK JPEG decodes to RGB")
    func cmyk() throws {
        let width = 16, height = 16
        // Adobe's inverted convention: (r, g, b, 255) means exactly that colour.
        var samples: [UInt8] = []
        for _ in 0..<width * height { samples += [200, 100, 30, 255] }
        let jpeg = try ImageCodec.encodeJPEG(samples: samples, width: width, height: height, components: 4, quality: 95, progressive: false)
        let image = try ImageCodec.decode(jpeg)
        for i in 0..<width * height {
            #expect(abs(Int(image.pixels[i * 3]) - 200) <= 3)
            #expect(abs(Int(image.pixels[i * 3 + 1]) - 100) <= 3)
            #expect(abs(Int(image.pixels[i * 3 + 2]) - 30) <= 3)
        }
    }
}

extension Array {
    func repeated(_ times: Int) -> [Element] { (0..<times).flatMap { _ in self } }
}
