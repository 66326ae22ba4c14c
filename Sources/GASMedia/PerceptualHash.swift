import Foundation

/// 64-bit perceptual hash (pHash) of a decoded image, for duplicate detection of generator deliveries.
///
/// Algorithm (the `imagehash.phash` recipe with hash_size 8, highfreq_factor 4): convert to luma
/// (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B), shrink to 32×32 by area averaging (imagehash uses a
/// PIL LANCZOS resize, so hashes are close to but not bit-identical with Python's), take the 2-D
/// DCT-II, keep the 8×8 lowest frequencies (DC included) and set bit i when coefficient i is above
/// their median. Bits are packed row-major, most significant first.
///
/// GAS itself hashes with phash(hash_size=16) (256 bits) plus crop-resistant segment hashes
/// (gas-subnet.md §3.4); the Hamming thresholds 8 (same prompt) and 4 (global) are applied here to
/// the 64-bit hash, which makes them stricter per bit than in the original.
public enum PerceptualHash {
    public static let side = 32
    public static let lowFrequencies = 8

    public static func phash(_ image: RGBImage) -> UInt64 {
        let small = shrinkLuma(image, to: side)
        let dct = dct2(small, n: side)
        var low: [Double] = []
        low.reserveCapacity(lowFrequencies * lowFrequencies)
        for v in 0..<lowFrequencies { for u in 0..<lowFrequencies { low.append(dct[v * side + u]) } }
        let sorted = low.sorted()
        let median = (sorted[31] + sorted[32]) / 2
        var hash: UInt64 = 0
        for value in low { hash = (hash << 1) | (value > median ? 1 : 0) }
        return hash
    }

    public static func hamming(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

    public static func hex(_ hash: UInt64) -> String {
        let s = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public static func parse(hex: String) -> UInt64? { UInt64(hex, radix: 16) }

    /// Area-average shrink to n×n luma. Every source pixel contributes to the output cell its centre falls in.
    static func shrinkLuma(_ image: RGBImage, to n: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: n * n)
        var counts = [Double](repeating: 0, count: n * n)
        let w = image.width, h = image.height
        guard w > 0, h > 0, image.pixels.count >= w * h * 3 else { return sums }
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<h {
                let cy = min(n - 1, y * n / h)
                for x in 0..<w {
                    let cx = min(n - 1, x * n / w)
                    let i = (y * w + x) * 3
                    let luma = 0.299 * Double(px[i]) + 0.587 * Double(px[i + 1]) + 0.114 * Double(px[i + 2])
                    sums[cy * n + cx] += luma
                    counts[cy * n + cx] += 1
                }
            }
        }
        // Images smaller than n in a dimension leave empty cells: fill them from the nearest filled source.
        for cy in 0..<n {
            for cx in 0..<n where counts[cy * n + cx] == 0 {
                let sx = min(w - 1, cx * w / n), sy = min(h - 1, cy * h / n)
                let i = (sy * w + sx) * 3
                sums[cy * n + cx] = 0.299 * Double(image.pixels[i]) + 0.587 * Double(image.pixels[i + 1]) + 0.114 * Double(image.pixels[i + 2])
                counts[cy * n + cx] = 1
            }
        }
        return zip(sums, counts).map { $0 / $1 }
    }

    /// Unnormalised 2-D DCT-II (scipy `dct(dct(x, axis=0), axis=1)` with norm=None, up to a constant
    /// factor, which does not change the median comparison).
    static func dct2(_ input: [Double], n: Int) -> [Double] {
        var cosines = [Double](repeating: 0, count: n * n)
        for k in 0..<n { for i in 0..<n { cosines[k * n + i] = cos(Double.pi * Double(k) * (2 * Double(i) + 1) / Double(2 * n)) } }
        var rows = [Double](repeating: 0, count: n * n)
        for y in 0..<n {
            for k in 0..<n {
                var s = 0.0
                for x in 0..<n { s += input[y * n + x] * cosines[k * n + x] }
                rows[y * n + k] = s
            }
        }
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            for x in 0..<n {
                var s = 0.0
                for y in 0..<n { s += rows[y * n + x] * cosines[k * n + y] }
                out[k * n + x] = s
            }
        }
        return out
    }
}
