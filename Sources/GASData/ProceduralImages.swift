import Foundation
import GASCore
import GASMedia

/// The builtin procedural image generator: smooth gradients, soft shapes and waves, a stand-in for
/// a generative model that needs no GPU and no weights. Every pixel is a function of the seed alone
/// (integer and IEEE double arithmetic only), so the bytes are the same on every machine.
public enum ProceduralImages {
    struct Colour { var r, g, b: Double }

    static func colour(_ rng: inout SplitMix64) -> Colour {
        Colour(r: rng.nextUnit() * 255, g: rng.nextUnit() * 255, b: rng.nextUnit() * 255)
    }

    public static func generate(seed: UInt64, width: Int, height: Int) -> RGBImage {
        var rng = SplitMix64(seed: seed, label: "procedural")
        var buffer = [Double](repeating: 0, count: width * height * 3)

        // Background: bilinear blend of four corner colours plus a low-frequency wave.
        let corners = (0..<4).map { _ in colour(&rng) }
        let waveX = 1 + rng.nextUnit() * 3, waveY = 1 + rng.nextUnit() * 3, phase = rng.nextUnit() * 6.283
        let waveAmp = 10 + rng.nextUnit() * 25
        for y in 0..<height {
            let v = Double(y) / Double(max(1, height - 1))
            for x in 0..<width {
                let u = Double(x) / Double(max(1, width - 1))
                let wave = waveAmp * sin(phase + 6.283 * (waveX * u + waveY * v))
                let i = (y * width + x) * 3
                let c00 = corners[0], c10 = corners[1], c01 = corners[2], c11 = corners[3]
                buffer[i] = (1 - u) * (1 - v) * c00.r + u * (1 - v) * c10.r + (1 - u) * v * c01.r + u * v * c11.r + wave
                buffer[i + 1] = (1 - u) * (1 - v) * c00.g + u * (1 - v) * c10.g + (1 - u) * v * c01.g + u * v * c11.g + wave
                buffer[i + 2] = (1 - u) * (1 - v) * c00.b + u * (1 - v) * c10.b + (1 - u) * v * c01.b + u * v * c11.b + wave
            }
        }

        // Soft-edged ellipses with a radial shade.
        let shapes = 3 + rng.nextInt(below: 6)
        for _ in 0..<shapes {
            let cx = rng.nextUnit() * Double(width), cy = rng.nextUnit() * Double(height)
            let rx = (0.08 + rng.nextUnit() * 0.3) * Double(width), ry = (0.08 + rng.nextUnit() * 0.3) * Double(height)
            let c = colour(&rng)
            let opacity = 0.5 + rng.nextUnit() * 0.5
            let x0 = max(0, Int(cx - rx) - 2), x1 = min(width - 1, Int(cx + rx) + 2)
            let y0 = max(0, Int(cy - ry) - 2), y1 = min(height - 1, Int(cy + ry) + 2)
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let dx = (Double(x) - cx) / rx, dy = (Double(y) - cy) / ry
                    let d = (dx * dx + dy * dy).squareRoot()
                    let edge = min(max((1 - d) * min(rx, ry) / 1.5, 0), 1)  // ~1.5 px antialiased edge
                    guard edge > 0 else { continue }
                    let a = edge * opacity
                    let shade = 1 - 0.35 * d
                    let i = (y * width + x) * 3
                    buffer[i] = buffer[i] * (1 - a) + c.r * shade * a
                    buffer[i + 1] = buffer[i + 1] * (1 - a) + c.g * shade * a
                    buffer[i + 2] = buffer[i + 2] * (1 - a) + c.b * shade * a
                }
            }
        }

        // A little sensor-like noise so the images are not trivially flat.
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<pixels.count {
            let noise = (rng.nextUnit() - 0.5) * 4
            pixels[i] = UInt8(min(max((buffer[i] + noise).rounded(.toNearestOrEven), 0), 255))
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Semisynthetic: a real image with a procedurally generated region blended in (feathered edges).
    /// The region covers 25–50% of each side, placed by the seed.
    public static func alterRegion(of base: RGBImage, seed: UInt64) -> RGBImage {
        var rng = SplitMix64(seed: seed, label: "semisynthetic")
        let w = max(4, Int(Double(base.width) * (0.25 + rng.nextUnit() * 0.25)))
        let h = max(4, Int(Double(base.height) * (0.25 + rng.nextUnit() * 0.25)))
        let ox = rng.nextInt(below: max(1, base.width - w + 1))
        let oy = rng.nextInt(below: max(1, base.height - h + 1))
        let patch = generate(seed: rng.next(), width: w, height: h)
        var out = base
        let feather = 4.0
        for y in 0..<h {
            for x in 0..<w {
                let edge = min(Double(min(x, w - 1 - x)), Double(min(y, h - 1 - y)))
                let a = min(1, (edge + 1) / feather)
                let src = (y * w + x) * 3
                let dst = ((oy + y) * base.width + (ox + x)) * 3
                for c in 0..<3 {
                    let blended = Double(out.pixels[dst + c]) * (1 - a) + Double(patch.pixels[src + c]) * a
                    out.pixels[dst + c] = UInt8(min(max(blended.rounded(.toNearestOrEven), 0), 255))
                }
            }
        }
        return out
    }
}
