import Foundation

/// The sn34 exponents. Defaults are the subnet's (alpha 1.2 on MCC, beta 1.8 on Brier).
public struct SN34Parameters: Codable, Sendable, Hashable {
    public var alpha: Double
    public var beta: Double
    public init(alpha: Double = 1.2, beta: Double = 1.8) {
        self.alpha = alpha
        self.beta = beta
    }
}

/// One prediction as the metrics see it. `predicted` is carried separately from `pAI` so a failed
/// sample can count as wrong at p = 0.5 (the `count_wrong` policy).
public struct ScoredPrediction: Sendable, Equatable {
    public var label: Int
    public var pAI: Double
    public var predicted: Int
    public init(label: Int, pAI: Double, predicted: Int) {
        self.label = label
        self.pAI = pAI
        self.predicted = predicted
    }
    public init(label: Int, pAI: Double) {
        self.init(label: label, pAI: pAI, predicted: BinaryProbability.predictedLabel(pAI: pAI))
    }
}

/// Binary metrics of one detector over one slice of samples.
public struct BinaryMetrics: Codable, Sendable, Equatable {
    public var samples: Int
    public var truePositives: Int
    public var trueNegatives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    public var accuracy: Double
    public var mcc: Double
    public var brier: Double
    public var crossEntropy: Double
    public var sn34: Double

    enum CodingKeys: String, CodingKey {
        case samples, accuracy, mcc, brier, sn34
        case truePositives = "tp", trueNegatives = "tn", falsePositives = "fp", falseNegatives = "fn"
        case crossEntropy = "cross_entropy"
    }

    public init(samples: Int, truePositives: Int, trueNegatives: Int, falsePositives: Int, falseNegatives: Int,
                accuracy: Double, mcc: Double, brier: Double, crossEntropy: Double, sn34: Double) {
        self.samples = samples
        self.truePositives = truePositives
        self.trueNegatives = trueNegatives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        self.accuracy = accuracy
        self.mcc = mcc
        self.brier = brier
        self.crossEntropy = crossEntropy
        self.sn34 = sn34
    }

    /// gasbench's `compute_metrics_from_df` defaults for an empty slice.
    public static let empty = BinaryMetrics(
        samples: 0, truePositives: 0, trueNegatives: 0, falsePositives: 0, falseNegatives: 0,
        accuracy: 0, mcc: 0, brier: 0.25, crossEntropy: 0, sn34: 0)
}

/// Streaming accumulator: constant memory however many predictions flow through.
public struct BinaryMetricsAccumulator: Sendable {
    public private(set) var count = 0
    var tp = 0, tn = 0, fp = 0, fn = 0
    var brierSum = 0.0, ceSum = 0.0

    public init() {}

    /// Probabilities are clipped to [1e-7, 1 - 1e-7] for Brier and cross-entropy, as gasbench does.
    public static let clip = 1e-7

    public mutating func add(_ p: ScoredPrediction) {
        count += 1
        switch (p.label, p.predicted) {
        case (1, 1): tp += 1
        case (0, 0): tn += 1
        case (0, _): fp += 1
        default: fn += 1
        }
        let q = min(max(p.pAI, Self.clip), 1 - Self.clip)
        let y = Double(p.label)
        brierSum += (q - y) * (q - y)
        ceSum += -(y * Foundation.log(q) + (1 - y) * Foundation.log(1 - q))
    }

    public mutating func merge(_ other: BinaryMetricsAccumulator) {
        count += other.count
        tp += other.tp; tn += other.tn; fp += other.fp; fn += other.fn
        brierSum += other.brierSum; ceSum += other.ceSum
    }

    public func finish(_ parameters: SN34Parameters = .init()) -> BinaryMetrics {
        guard count > 0 else { return .empty }
        let n = Double(count)
        let mcc = SN34.mcc(tp: tp, tn: tn, fp: fp, fn: fn)
        let brier = brierSum / n
        return BinaryMetrics(
            samples: count, truePositives: tp, trueNegatives: tn, falsePositives: fp, falseNegatives: fn,
            accuracy: Double(tp + tn) / n, mcc: mcc, brier: brier, crossEntropy: ceSum / n,
            sn34: SN34.score(mcc: mcc, brier: brier, parameters: parameters))
    }
}

/// The subnet's detector score (gasbench `metrics.py`, reference §3.2).
public enum SN34 {
    /// Matthews correlation; 0 when any marginal is empty (a single-class slice or constant predictions).
    public static func mcc(tp: Int, tn: Int, fp: Int, fn: Int) -> Double {
        let (tp, tn, fp, fn) = (Double(tp), Double(tn), Double(fp), Double(fn))
        let denominator = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).squareRoot()
        guard denominator > 0 else { return 0 }
        return (tp * tn - fp * fn) / denominator
    }

    /// sqrt(max(1e-12, m * b)) with m = clamp((mcc+1)/2)^alpha and b = max(0, (0.25-brier)/0.25)^beta,
    /// so Brier >= 0.25 gives 1e-6, never 0.
    public static func score(mcc: Double, brier: Double, parameters: SN34Parameters = .init()) -> Double {
        let m = Foundation.pow(min(max((mcc + 1) / 2, 0), 1), parameters.alpha)
        let b = Foundation.pow(max(0, (0.25 - brier) / 0.25), parameters.beta)
        return min(max(max(1e-12, m * b).squareRoot(), 0), 1)
    }

    public static func metrics(_ predictions: some Sequence<ScoredPrediction>,
                               parameters: SN34Parameters = .init()) -> BinaryMetrics {
        var accumulator = BinaryMetricsAccumulator()
        for p in predictions { accumulator.add(p) }
        return accumulator.finish(parameters)
    }
}
