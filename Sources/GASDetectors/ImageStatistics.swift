import GASMedia

/// Hand-made image statistics the builtin baseline scores: a few numbers that separate smooth,
/// rendered-looking images from camera photographs well enough to be a useful yardstick.
public enum ImageStatistics {
    public static let featureNames = ["laplacian_mean", "flat_fraction", "gray_std", "saturation_mean", "gradient_ratio", "noise_floor",
                                      "chroma_noise_ratio", "chroma_noise_block_p90"]

    public static func features(_ image: RGBImage) -> [Double] {
        let w = image.width, h = image.height
        guard w >= 3, h >= 3 else { return Array(repeating: 0, count: featureNames.count) }
        var gray = [Double](repeating: 0, count: w * h)
        var rg = [Double](repeating: 0, count: w * h), bg = [Double](repeating: 0, count: w * h)
        var saturation = 0.0
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<(w * h) {
                let r = Double(p[3 * i]), g = Double(p[3 * i + 1]), b = Double(p[3 * i + 2])
                gray[i] = 0.299 * r + 0.587 * g + 0.114 * b
                rg[i] = r - g
                bg[i] = b - g
                saturation += (max(r, g, b) - min(r, g, b)) / 255
            }
        }
        var mean = 0.0
        for v in gray { mean += v }
        mean /= Double(gray.count)
        var variance = 0.0
        for v in gray { variance += (v - mean) * (v - mean) }
        let std = (variance / Double(gray.count)).squareRoot()

        var lapSum = 0.0, flat = 0, gradSum = 0.0, interior = 0
        var smallest = [Double]()
        smallest.reserveCapacity((w - 2) * (h - 2))
        for y in 1..<(h - 1) {
            for x in 1..<(w - 1) {
                let i = y * w + x
                let lap = abs(4 * gray[i] - gray[i - 1] - gray[i + 1] - gray[i - w] - gray[i + w])
                lapSum += lap
                if lap < 6 { flat += 1 }
                gradSum += abs(gray[i + 1] - gray[i]) + abs(gray[i + w] - gray[i])
                smallest.append(lap)
                interior += 1
            }
        }
        // Chroma noise: generators that add per-channel noise leave high-frequency energy in the
        // colour differences; camera pipelines put it mostly in luma. Measured whole and per 16x16 block.
        let block = 16
        var chromaTotal = 0.0, lumaTotal = 0.0
        var blockRatios: [Double] = []
        var by = 1
        while by + block <= h - 1 {
            var bx = 1
            while bx + block <= w - 1 {
                var c = 0.0, l = 0.0
                for y in by..<(by + block) {
                    for x in bx..<(bx + block) {
                        let i = y * w + x
                        c += abs(4 * rg[i] - rg[i - 1] - rg[i + 1] - rg[i - w] - rg[i + w])
                            + abs(4 * bg[i] - bg[i - 1] - bg[i + 1] - bg[i - w] - bg[i + w])
                        l += abs(4 * gray[i] - gray[i - 1] - gray[i + 1] - gray[i - w] - gray[i + w])
                    }
                }
                chromaTotal += c
                lumaTotal += l
                blockRatios.append(c / (l + Double(block * block)))
                bx += block
            }
            by += block
        }
        blockRatios.sort()
        let chromaRatio = chromaTotal / (lumaTotal + 1)
        let blockP90 = blockRatios.isEmpty ? chromaRatio : blockRatios[min(blockRatios.count - 1, blockRatios.count * 9 / 10)]

        smallest.sort()
        let floor = smallest[smallest.count / 10]  // 10th percentile: the noise floor of flat regions
        let n = Double(interior)
        return [
            lapSum / n / 255,
            Double(flat) / n,
            std / 255,
            saturation / Double(w * h),
            (gradSum / n) / (std + 1),
            floor / 255,
            chromaRatio,
            blockP90,
        ]
    }
}
