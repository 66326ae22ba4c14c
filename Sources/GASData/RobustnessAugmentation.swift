import Foundation
import GASCore
import GASMedia

/// gasbench's image robustness suite (`apply_robustness_augmentations`, reference §5.3), applied to
/// a share of a round's images to make extra samples scored separately as "robustness":
///
/// 1. downscale by 0.5 with a 256 px floor per side (skipped unless both sides shrink), area
///    averaging down and bilinear (half-pixel centres) back up to the original size;
/// 2. JPEG quality 55, 4:2:0 chroma subsampling, decoded again;
/// 3. (gasbench: WebP quality 75, method 4; skipped here because this build has no WebP encoder,
///    which gasbench itself does when Pillow lacks WebP);
/// 4. JPEG quality 80, 4:2:0: these bytes are the augmented sample.
///
/// The suite is deterministic (gasbench's ignores its seed too); which samples get augmented is
/// decided by each sample's own seed, so adding or removing other samples changes nothing.
public enum RobustnessAugmentation {
    public static let version = "robustness-v1"
    public static let uriPrefix = "augment://\(version)/"
    public static let scaleFactor = 0.5
    public static let minimumSide = 256

    /// Whether a sample with this per-sample seed is augmented at `share` (0...1).
    public static func selects(seed: UInt64, share: Double) -> Bool {
        guard share > 0 else { return false }
        var rng = SplitMix64(seed: seed, label: version)
        return rng.nextUnit() < share
    }

    /// The URI of the augmented copy of a sample, and back.
    public static func uri(base sampleID: String) -> String { uriPrefix + sampleID }
    public static func baseID(of uri: String) -> String? {
        uri.hasPrefix(uriPrefix) ? String(uri.dropFirst(uriPrefix.count)) : nil
    }

    /// Whether a sample is an augmented copy (its URI read in place).
    public static func isCopy(_ uri: SampleURI) -> Bool { uri.hasPrefix(uriPrefix) }

    public static func apply(_ image: RGBImage) throws -> [UInt8] {
        var current = image
        let w = image.width, h = image.height
        let nw = max(minimumSide, Int((Double(w) * scaleFactor).rounded(.down)))
        let nh = max(minimumSide, Int((Double(h) * scaleFactor).rounded(.down)))
        if nw < w && nh < h {
            current = resizeBilinear(resizeArea(current, width: nw, height: nh), width: w, height: h)
        }
        current = try ImageCodec.decode(ImageCodec.encodeJPEG(current, quality: 55))
        return try ImageCodec.encodeJPEG(current, quality: 80)
    }

    /// Box-filter (area) downscale: each output pixel averages the input area it covers, with
    /// fractional weights at the edges (OpenCV INTER_AREA's definition for shrinking).
    static func resizeArea(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let y0 = Double(y) * sy, y1 = y0 + sy
            for x in 0..<width {
                let x0 = Double(x) * sx, x1 = x0 + sx
                var acc = [0.0, 0.0, 0.0], area = 0.0
                var iy = Int(y0)
                while Double(iy) < y1 && iy < image.height {
                    let wy = min(y1, Double(iy + 1)) - max(y0, Double(iy))
                    var ix = Int(x0)
                    while Double(ix) < x1 && ix < image.width {
                        let wx = min(x1, Double(ix + 1)) - max(x0, Double(ix))
                        let weight = wx * wy
                        let i = (iy * image.width + ix) * 3
                        for c in 0..<3 { acc[c] += weight * Double(image.pixels[i + c]) }
                        area += weight
                        ix += 1
                    }
                    iy += 1
                }
                for c in 0..<3 { out[(y * width + x) * 3 + c] = UInt8(max(0, min(255, (acc[c] / max(area, 1e-12)).rounded()))) }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Bilinear resize with half-pixel centres (OpenCV INTER_LINEAR's geometry), in doubles.
    static func resizeBilinear(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
        for y in 0..<height {
            let fy = min(max((Double(y) + 0.5) * sy - 0.5, 0), Double(image.height - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, image.height - 1), wy = fy - Double(y0)
            for x in 0..<width {
                let fx = min(max((Double(x) + 0.5) * sx - 0.5, 0), Double(image.width - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, image.width - 1), wx = fx - Double(x0)
                for c in 0..<3 {
                    func p(_ xx: Int, _ yy: Int) -> Double { Double(image.pixels[(yy * image.width + xx) * 3 + c]) }
                    let v = (p(x0, y0) * (1 - wx) + p(x1, y0) * wx) * (1 - wy) + (p(x0, y1) * (1 - wx) + p(x1, y1) * wx) * wy
                    out[(y * width + x) * 3 + c] = UInt8(max(0, min(255, v.rounded())))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
