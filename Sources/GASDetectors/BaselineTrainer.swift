import Foundation

/// Fits the builtin baseline's logistic regression: standardise features, then full-batch gradient
/// descent with a small L2 penalty. Deterministic (fixed order, fixed iterations), so the same
/// images always give the same weights file.
public enum BaselineTrainer {
    public struct Fit: Sendable {
        public var mean: [Double]
        public var scale: [Double]
        public var weight: [Double]
        public var bias: Double
        public var trainingAccuracy: Double
    }

    public static func fit(features: [[Double]], labels: [Int], iterations: Int = 4000, learningRate: Double = 0.5, l2: Double = 1e-3) -> Fit {
        let n = features.count
        let d = features.first?.count ?? 0
        guard n > 0, d > 0 else { return Fit(mean: [], scale: [], weight: [], bias: 0, trainingAccuracy: 0) }
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 0, count: d)
        for row in features { for j in 0..<d { mean[j] += row[j] / Double(n) } }
        for row in features { for j in 0..<d { scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / Double(n) } }
        scale = scale.map { max($0.squareRoot(), 1e-9) }
        let x = features.map { row in (0..<d).map { (row[$0] - mean[$0]) / scale[$0] } }
        var w = [Double](repeating: 0, count: d), b = 0.0
        for _ in 0..<iterations {
            var gw = [Double](repeating: 0, count: d), gb = 0.0
            for i in 0..<n {
                var z = b
                for j in 0..<d { z += w[j] * x[i][j] }
                let err = 1 / (1 + Foundation.exp(-z)) - Double(labels[i])
                for j in 0..<d { gw[j] += err * x[i][j] / Double(n) }
                gb += err / Double(n)
            }
            for j in 0..<d { w[j] -= learningRate * (gw[j] + l2 * w[j]) }
            b -= learningRate * gb
        }
        var correct = 0
        for i in 0..<n {
            var z = b
            for j in 0..<d { z += w[j] * x[i][j] }
            if (z > 0 ? 1 : 0) == labels[i] { correct += 1 }
        }
        return Fit(mean: mean, scale: scale, weight: w, bias: b, trainingAccuracy: Double(correct) / Double(n))
    }

    public static func safetensors(_ fit: Fit, metadata: [String: String] = [:]) -> [UInt8] {
        let d = fit.mean.count
        var meta = metadata
        meta["features"] = ImageStatistics.featureNames.joined(separator: ",")
        meta["format"] = "gascli-image-baseline-v1"
        return Safetensors.encodeF32([
            "mean": ([d], fit.mean.map(Float.init)),
            "scale": ([d], fit.scale.map(Float.init)),
            "weight": ([d], fit.weight.map(Float.init)),
            "bias": ([1], [Float(fit.bias)]),
        ], metadata: meta)
    }
}
