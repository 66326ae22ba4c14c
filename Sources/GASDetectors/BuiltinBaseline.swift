import Foundation
import GASCore
import GASMedia

/// The builtin image baseline: logistic regression over `ImageStatistics`, weights from safetensors.
///
/// Why it exists: every round has a reference detector that needs no Python, no GPU and no network,
/// so a spec always runs and a miner's score can be read against a known floor.
public final class BuiltinBaseline: DetectorAdapter {
    public let name: String
    let mean: [Double]
    let scale: [Double]
    let weight: [Double]
    let bias: Double
    let imageLimits: ImageLimits

    /// Tensors: `mean`, `scale`, `weight` (one value per feature) and `bias` (one value).
    public init(name: String, weights: Safetensors, imageLimits: ImageLimits = .default) throws {
        self.name = name
        let n = ImageStatistics.featureNames.count
        mean = try weights.doubles("mean")
        scale = try weights.doubles("scale")
        weight = try weights.doubles("weight")
        let b = try weights.doubles("bias")
        guard mean.count == n, scale.count == n, weight.count == n, b.count == 1 else {
            throw SafetensorsError.invalid(file: "baseline weights",
                                           reason: "expected \(n) values in mean/scale/weight and 1 in bias (features: \(ImageStatistics.featureNames.joined(separator: ", ")))")
        }
        guard scale.allSatisfy({ $0 != 0 && $0.isFinite }), mean.allSatisfy(\.isFinite), weight.allSatisfy(\.isFinite), b[0].isFinite else {
            throw SafetensorsError.invalid(file: "baseline weights", reason: "values must be finite and scale non-zero")
        }
        bias = b[0]
        self.imageLimits = imageLimits
    }

    public func start() async throws -> DetectorHello {
        DetectorHello(name: name, protocolVersion: 1, modalities: [.image])
    }

    public func probability(_ image: RGBImage) -> Double {
        let f = ImageStatistics.features(image)
        var z = bias
        for i in 0..<f.count { z += weight[i] * (f[i] - mean[i]) / scale[i] }
        return 1 / (1 + Foundation.exp(-z))
    }

    public func predict(_ batch: [DetectorInput]) async -> [DetectorResult] {
        batch.map { input in
            guard input.modality == .image else {
                return .failure(.skipped, "the builtin image baseline does not handle \(input.modality.rawValue)")
            }
            guard let data = FileManager.default.contents(atPath: input.path) else {
                return .failure(.error, "cannot read \(input.path)")
            }
            do {
                let image = try ImageCodec.decode([UInt8](data), limits: imageLimits)
                let p = probability(image)
                return .probabilities([1 - p, p])
            } catch {
                return .failure(.error, "cannot decode image: \(error)")
            }
        }
    }

    public func stop() async {}
}
