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
///
/// The first block is gasbench's (reference §3.2); `auc`, `ece`, `recallReal`, `recallAI` and
/// `sn34CI` are the analytics gasbench lacks (see `Analytics.swift` for their definitions). They are
/// nil when undefined for the slice (AUC and a class's recall need that class; the interval needs a
/// bootstrap, which `SN34.metrics` does not run) and are written as JSON null, never omitted.
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
    /// ROC AUC of p_ai (ties count one half); nil when the slice lacks a class.
    public var auc: Double?
    /// Expected calibration error over 10 equal-width bins of p_ai; nil for an empty slice.
    public var ece: Double?
    /// TN / (TN + FP): the share of real samples called real; nil without real samples.
    public var recallReal: Double?
    /// TP / (TP + FN): the share of AI samples called AI; nil without AI samples.
    public var recallAI: Double?
    /// Bootstrap percentile interval of sn34; nil when not computed.
    public var sn34CI: ConfidenceInterval?

    enum CodingKeys: String, CodingKey {
        case samples, accuracy, mcc, brier, sn34, auc, ece
        case truePositives = "tp", trueNegatives = "tn", falsePositives = "fp", falseNegatives = "fn"
        case crossEntropy = "cross_entropy", recallReal = "recall_real", recallAI = "recall_ai", sn34CI = "sn34_ci"
    }

    public init(samples: Int, truePositives: Int, trueNegatives: Int, falsePositives: Int, falseNegatives: Int,
                accuracy: Double, mcc: Double, brier: Double, crossEntropy: Double, sn34: Double,
                auc: Double? = nil, ece: Double? = nil, recallReal: Double? = nil, recallAI: Double? = nil,
                sn34CI: ConfidenceInterval? = nil) {
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
        self.auc = auc
        self.ece = ece
        self.recallReal = recallReal
        self.recallAI = recallAI
        self.sn34CI = sn34CI
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(samples: try c.decode(Int.self, forKey: .samples), truePositives: try c.decode(Int.self, forKey: .truePositives),
                  trueNegatives: try c.decode(Int.self, forKey: .trueNegatives), falsePositives: try c.decode(Int.self, forKey: .falsePositives),
                  falseNegatives: try c.decode(Int.self, forKey: .falseNegatives), accuracy: try c.decode(Double.self, forKey: .accuracy),
                  mcc: try c.decode(Double.self, forKey: .mcc), brier: try c.decode(Double.self, forKey: .brier),
                  crossEntropy: try c.decode(Double.self, forKey: .crossEntropy), sn34: try c.decode(Double.self, forKey: .sn34),
                  auc: try c.decodeIfPresent(Double.self, forKey: .auc), ece: try c.decodeIfPresent(Double.self, forKey: .ece),
                  recallReal: try c.decodeIfPresent(Double.self, forKey: .recallReal),
                  recallAI: try c.decodeIfPresent(Double.self, forKey: .recallAI),
                  sn34CI: try c.decodeIfPresent(ConfidenceInterval.self, forKey: .sn34CI))
    }

    /// Every key is always present; undefined analytics are null.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(samples, forKey: .samples)
        try c.encode(truePositives, forKey: .truePositives)
        try c.encode(trueNegatives, forKey: .trueNegatives)
        try c.encode(falsePositives, forKey: .falsePositives)
        try c.encode(falseNegatives, forKey: .falseNegatives)
        try c.encode(accuracy, forKey: .accuracy)
        try c.encode(mcc, forKey: .mcc)
        try c.encode(brier, forKey: .brier)
        try c.encode(crossEntropy, forKey: .crossEntropy)
        try c.encode(sn34, forKey: .sn34)
        try c.encode(auc, forKey: .auc)
        try c.encode(ece, forKey: .ece)
        try c.encode(recallReal, forKey: .recallReal)
        try c.encode(recallAI, forKey: .recallAI)
        try c.encode(sn34CI, forKey: .sn34CI)
    }

    /// gasbench's `compute_metrics_from_df` defaults for an empty slice.
    public static let empty = BinaryMetrics(
        samples: 0, truePositives: 0, trueNegatives: 0, falsePositives: 0, falseNegatives: 0,
        accuracy: 0, mcc: 0, brier: 0.25, crossEntropy: 0, sn34: 0)
}

/// Accumulates the predictions of one slice. Confusion counts, Brier and cross-entropy are summed as
/// they arrive; the predictions themselves are kept too (16 bytes each), because AUC and the
/// bootstrap need all of them.
public struct BinaryMetricsAccumulator: Sendable {
    public private(set) var count = 0
    var tp = 0, tn = 0, fp = 0, fn = 0
    var brierSum = 0.0, ceSum = 0.0
    public private(set) var predictions: [ScoredPrediction] = []
    /// Which samples the predictions are (their ordinals), for seeding the bootstrap by membership.
    public private(set) var ordinals: [Int] = []

    public init() {}

    /// Probabilities are clipped to [1e-7, 1 - 1e-7] for Brier and cross-entropy, as gasbench does.
    public static let clip = 1e-7

    /// p clipped to [clip, 1 - clip]: what Brier and cross-entropy are computed on.
    @inline(__always)
    static func clipped(_ p: Double) -> Double { min(max(p, clip), 1 - clip) }

    /// (q - y)², the Brier term of a clipped probability.
    @inline(__always)
    static func squaredError(label: Int, clipped q: Double) -> Double {
        let y = Double(label)
        return (q - y) * (q - y)
    }

    /// -(y log q + (1 - y) log(1 - q)) for y in {0, 1}, with one logarithm: the other term is
    /// exactly 0, so this is bit for bit the two-term formula.
    @inline(__always)
    static func crossEntropy(label: Int, clipped q: Double) -> Double {
        -Foundation.log(label == 1 ? q : 1 - q)
    }

    /// `ordinal` identifies the sample (its position among the detector's rows); by default the
    /// running count.
    public mutating func add(_ p: ScoredPrediction, ordinal: Int? = nil) {
        ordinals.append(ordinal ?? count)
        count += 1
        switch (p.label, p.predicted) {
        case (1, 1): tp += 1
        case (0, 0): tn += 1
        case (0, _): fp += 1
        default: fn += 1
        }
        let q = Self.clipped(p.pAI)
        brierSum += Self.squaredError(label: p.label, clipped: q)
        ceSum += Self.crossEntropy(label: p.label, clipped: q)
        predictions.append(p)
    }

    public mutating func merge(_ other: BinaryMetricsAccumulator) {
        count += other.count
        tp += other.tp; tn += other.tn; fp += other.fp; fn += other.fn
        brierSum += other.brierSum; ceSum += other.ceSum
        predictions += other.predictions
        ordinals += other.ordinals
    }

    /// The metrics of the slice; with `bootstrap`, also sn34's confidence interval (see `Bootstrap`).
    public func finish(_ parameters: SN34Parameters = .init(), bootstrap: BootstrapSettings? = nil) -> BinaryMetrics {
        guard count > 0 else { return .empty }
        let n = Double(count)
        let mcc = SN34.mcc(tp: tp, tn: tn, fp: fp, fn: fn)
        let brier = brierSum / n
        let labels = predictions.map(\.label), scores = predictions.map(\.pAI)
        return BinaryMetrics(
            samples: count, truePositives: tp, trueNegatives: tn, falsePositives: fp, falseNegatives: fn,
            accuracy: Double(tp + tn) / n, mcc: mcc, brier: brier, crossEntropy: ceSum / n,
            sn34: SN34.score(mcc: mcc, brier: brier, parameters: parameters),
            auc: ROC.auc(labels: labels, scores: scores),
            ece: Calibration.ece(labels: labels, scores: scores),
            recallReal: tn + fp == 0 ? nil : Double(tn) / Double(tn + fp),
            recallAI: tp + fn == 0 ? nil : Double(tp) / Double(tp + fn),
            sn34CI: bootstrap.flatMap { Bootstrap.sn34Interval(predictions, parameters: parameters, settings: $0, members: ordinals) })
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
