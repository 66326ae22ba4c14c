import Foundation
import GASCore
import GASMedia

/// The builtin procedural video generator: a procedural image (ProceduralImages) seen through a
/// slowly panning, zooming camera with a brightness flicker, encoded frame by frame as JPEG (q85)
/// into a Motion-JPEG AVI (see MJPEGAVI for why that container). Deterministic from the seed.
public enum ProceduralVideo {
    public static let fps = 8
    public static let quality = 85

    public static func generate(seed: UInt64, width: Int, height: Int, frames: Int) throws -> [UInt8] {
        var rng = SplitMix64(seed: seed, label: "procedural-video")
        let canvasW = width * 3 / 2, canvasH = height * 3 / 2
        let canvas = ProceduralImages.generate(seed: rng.next(), width: canvasW, height: canvasH)
        let dx = (rng.nextUnit() - 0.5) * Double(canvasW - width), dy = (rng.nextUnit() - 0.5) * Double(canvasH - height)
        let zoom = 0.08 * rng.nextUnit(), flicker = 0.04 + 0.06 * rng.nextUnit()
        var jpegs: [[UInt8]] = []
        for f in 0..<max(1, frames) {
            let u = frames > 1 ? Double(f) / Double(frames - 1) : 0
            let scale = 1 - zoom * u
            let ox = Double(canvasW - width) / 2 + dx * u, oy = Double(canvasH - height) / 2 + dy * u
            let gain = 1 + flicker * sin(Double(f) * 1.7)
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                let sy = min(canvasH - 1, max(0, Int(oy + Double(y) * scale)))
                for x in 0..<width {
                    let sx = min(canvasW - 1, max(0, Int(ox + Double(x) * scale)))
                    for c in 0..<3 {
                        let v = Double(canvas.pixels[(sy * canvasW + sx) * 3 + c]) * gain
                        pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, v.rounded())))
                    }
                }
            }
            jpegs.append(try ImageCodec.encodeJPEG(RGBImage(width: width, height: height, pixels: pixels), quality: quality))
        }
        return MJPEGAVI.encode(frames: jpegs, width: width, height: height, fps: fps)
    }
}
