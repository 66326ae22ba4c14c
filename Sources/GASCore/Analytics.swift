import Foundation

// Metrics gasbench does not compute (reference §3.5, §7.11): ROC AUC, expected calibration error,
// per-class recall and bootstrap confidence intervals for sn34. All are pure functions of the
// (label, p_ai, predicted) triples the other metrics use, so a failed sample scored as p = 0.5 under
// `count_wrong` enters them exactly as it enters Brier and MCC.

/// One point of an ROC curve: predicting AI when p_ai >= threshold gives these rates.
public struct ROCPoint: Codable, Sendable, Equatable {
    public var threshold: Double
    public var falsePositiveRate: Double
    public var truePositiveRate: Double
    public init(threshold: Double, falsePositiveRate: Double, truePositiveRate: Double) {
        self.threshold = threshold
        self.falsePositiveRate = falsePositiveRate
        self.truePositiveRate = truePositiveRate
    }
    enum CodingKeys: String, CodingKey {
        case threshold, falsePositiveRate = "fpr", truePositiveRate = "tpr"
    }
}

/// Receiver operating characteristic over p(AI), label 1 = AI as the positive class.
public enum ROC {
    /// Exact ROC AUC: the probability that a random AI sample gets a higher p_ai than a random real
    /// one, ties counting one half. Computed as the Mann-Whitney U statistic with average ranks for
    /// tied scores, which equals the trapezoidal area under `curve`. Nil when either class is absent.
    public static func auc(labels: [Int], scores: [Double]) -> Double? {
        precondition(labels.count == scores.count)
        let positives = labels.filter { $0 == 1 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Sum of the (1-based, tie-averaged) ranks of the positives.
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j + 2) / 2
            for k in i...j where labels[order[k]] == 1 { rankSum += averageRank }
            i = j + 1
        }
        let p = Double(positives), n = Double(negatives)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }

    /// The ROC curve at every distinct score, from (0, 0) (threshold +inf) to (1, 1). Empty when either
    /// class is absent.
    public static func curve(labels: [Int], scores: [Double]) -> [ROCPoint] {
        precondition(labels.count == scores.count)
        let positives = labels.filter { $0 == 1 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return [] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [ROCPoint(threshold: .infinity, falsePositiveRate: 0, truePositiveRate: 0)]
        var tp = 0, fp = 0, i = 0
        while i < order.count {
            let threshold = scores[order[i]]
            while i < order.count && scores[order[i]] == threshold {
                if labels[order[i]] == 1 { tp += 1 } else { fp += 1 }
                i += 1
            }
            points.append(ROCPoint(threshold: threshold, falsePositiveRate: Double(fp) / Double(negatives),
                                   truePositiveRate: Double(tp) / Double(positives)))
        }
        return points
    }

    /// Trapezoidal area under a curve's points (equals `auc` for the curve of the same data).
    public static func area(_ points: [ROCPoint]) -> Double {
        zip(points, points.dropFirst()).reduce(0) { sum, pair in
            sum + (pair.1.falsePositiveRate - pair.0.falsePositiveRate) * (pair.0.truePositiveRate + pair.1.truePositiveRate) / 2
        }
    }
}

/// One bin of a reliability diagram.
public struct CalibrationBin: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    /// Mean p_ai of the bin's samples (nil when the bin is empty).
    public var meanPredicted: Double?
    /// Share of AI samples (label 1) in the bin (nil when the bin is empty).
    public var observedAIShare: Double?
    enum CodingKeys: String, CodingKey {
        case lower, upper, count
        case meanPredicted = "mean_predicted", observedAIShare = "observed_ai_share"
    }
}

/// Calibration of p(AI): does "0.8" mean AI four times out of five?
///
/// Bins: `binCount` (10) equal-width bins over [0, 1]; a probability p falls in bin
/// `min(floor(p * binCount), binCount - 1)`, so the bins are [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]
/// (the last one closed). ECE = sum over non-empty bins of (n_b / N) * |mean p_ai in b - share of AI in b|,
/// the binary (p(AI) against frequency of AI) form that the reliability diagram draws.
public enum Calibration {
    public static let binCount = 10

    static func bin(_ p: Double, bins: Int) -> Int {
        min(max(Int((p * Double(bins)).rounded(.down)), 0), bins - 1)
    }

    public static func bins(labels: [Int], scores: [Double], bins binCount: Int = binCount) -> [CalibrationBin] {
        precondition(labels.count == scores.count && binCount > 0)
        var count = [Int](repeating: 0, count: binCount)
        var sum = [Double](repeating: 0, count: binCount)
        var ai = [Int](repeating: 0, count: binCount)
        for (y, p) in zip(labels, scores) {
            let b = bin(p, bins: binCount)
            count[b] += 1
            sum[b] += p
            ai[b] += y
        }
        return (0..<binCount).map { b in
            CalibrationBin(lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount), count: count[b],
                           meanPredicted: count[b] == 0 ? nil : sum[b] / Double(count[b]),
                           observedAIShare: count[b] == 0 ? nil : Double(ai[b]) / Double(count[b]))
        }
    }

    /// Expected calibration error over `bins`; nil when there are no samples.
    public static func ece(_ bins: [CalibrationBin]) -> Double? {
        let total = bins.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        var sum = 0.0
        for b in bins where b.count > 0 {
            sum += Double(b.count) / Double(total) * abs((b.meanPredicted ?? 0) - (b.observedAIShare ?? 0))
        }
        return sum
    }

    public static func ece(labels: [Int], scores: [Double], bins binCount: Int = binCount) -> Double? {
        ece(bins(labels: labels, scores: scores, bins: binCount))
    }
}

/// A two-sided confidence interval.
public struct ConfidenceInterval: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

/// How sn34's confidence intervals are computed. Not part of the plan (and so not of the manifest
/// hash): the seed is the round seed, the other values are the documented defaults.
public struct BootstrapSettings: Codable, Sendable, Hashable {
    public var resamples: Int
    public var level: Double
    public var seed: UInt64
    public init(resamples: Int = 1000, level: Double = 0.95, seed: UInt64) {
        self.resamples = resamples
        self.level = level
        self.seed = seed
    }
    public var method: String { "percentile" }

    enum CodingKeys: String, CodingKey { case resamples, level, seed, method }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(resamples, forKey: .resamples)
        try c.encode(level, forKey: .level)
        try c.encode(seed, forKey: .seed)
        try c.encode(method, forKey: .method)
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(resamples: try c.decode(Int.self, forKey: .resamples), level: try c.decode(Double.self, forKey: .level),
                  seed: try c.decode(UInt64.self, forKey: .seed))
    }
}

/// Seeded nonparametric bootstrap of sn34, percentile method.
///
/// For a slice of n predictions: draw `resamples` (B = 1000) samples of size n with replacement from
/// the slice's own predictions, compute sn34 of each, and take the (1 - level)/2 and (1 + level)/2
/// quantiles of the B values (linear interpolation between order statistics, numpy's default).
///
/// The indices come from SplitMix64 seeded with `settings.seed` (the round seed) XOR a hash of the
/// slice's membership: FNV-1a over the slice's sample ordinals (each as 8 little-endian bytes).
/// So the same set of samples is always resampled the same way: every detector gets the same
/// indices on a slice (paired, comparable intervals), and a slice that holds the same samples as
/// another (the only modality of a round and the overall slice, a dataset that is a whole source)
/// gets the same interval.
public enum Bootstrap {
    /// FNV-1a over the ordinals, 8 little-endian bytes each.
    public static func membershipHash(_ ordinals: [Int]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for ordinal in ordinals {
            var v = UInt64(bitPattern: Int64(ordinal))
            for _ in 0..<8 {
                hash ^= v & 0xFF
                hash &*= 0x0000_0100_0000_01B3
                v >>= 8
            }
        }
        return hash
    }

    /// `members`: the ordinals of the slice's samples (nil: 0..<n).
    public static func sn34Interval(_ predictions: [ScoredPrediction], parameters: SN34Parameters,
                                    settings: BootstrapSettings, members: [Int]? = nil) -> ConfidenceInterval? {
        sn34Intervals([predictions], parameters: parameters, settings: settings, members: members)[0]
    }

    /// Slices of at least this many predictions use the large-sample method (`CellSummary`):
    /// resampling a million predictions a thousand times, index by index, takes minutes.
    public static let largeSampleThreshold = 20_000

    /// The intervals of several detectors on the same slice (same members, so the same resampling
    /// indices): each is exactly what `sn34Interval` gives for that detector alone, but the indices
    /// are drawn once and each draw reads every detector's prediction from one place.
    public static func sn34Intervals(_ predictionSets: [[ScoredPrediction]], parameters: SN34Parameters,
                                     settings: BootstrapSettings, members: [Int]? = nil) -> [ConfidenceInterval?] {
        sn34Intervals(predictionSets.map(BootstrapInput.init), parameters: parameters, settings: settings, members: members)
    }

    static func sn34Intervals(_ inputs: [BootstrapInput], parameters: SN34Parameters, settings: BootstrapSettings,
                              members: [Int]?) -> [ConfidenceInterval?] {
        guard let n = inputs.first?.count, n > 0, settings.resamples > 0 else { return Array(repeating: nil, count: inputs.count) }
        let seed = settings.seed ^ membershipHash(members ?? Array(0..<n))
        var predictionSets: [[ScoredPrediction]] = []
        var results: [ConfidenceInterval?] = []
        for input in inputs {
            switch input {
            case let .predictions(p): predictionSets.append(p)
            case let .summary(s): results.append(largeSampleInterval(s, parameters: parameters, settings: settings, seed: seed))
            }
        }
        return predictionSets.isEmpty ? results : exactIntervals(predictionSets, parameters: parameters, settings: settings, seed: seed)
    }

    /// Resampling index by index (slices under `largeSampleThreshold`).
    static func exactIntervals(_ predictionSets: [[ScoredPrediction]], parameters: SN34Parameters,
                               settings: BootstrapSettings, seed: UInt64) -> [ConfidenceInterval?] {
        let k = predictionSets.count
        let n = predictionSets[0].count
        precondition(predictionSets.allSatisfy { $0.count == n }, "every detector needs the slice's n predictions")
        // Sample-major: the k detectors' clipped squared errors of sample i side by side (one
        // cache line for up to 8 detectors), their confusion cells (0 tp, 1 tn, 2 fp, 3 fn) in a
        // small array of their own, so a draw costs one cache miss for all detectors.
        var squared = [Double](repeating: 0, count: n * k)
        var cells = [UInt8](repeating: 0, count: n * k)
        for (j, predictions) in predictionSets.enumerated() {
            for (i, p) in predictions.enumerated() {
                let cell: UInt8
                switch (p.label, p.predicted) {
                case (1, 1): cell = 0
                case (0, 0): cell = 1
                case (0, _): cell = 2
                default: cell = 3
                }
                squared[i * k + j] = BinaryMetricsAccumulator.squaredError(label: p.label, clipped: BinaryMetricsAccumulator.clipped(p.pAI))
                cells[i * k + j] = cell
            }
        }
        var rng = SplitMix64(seed: seed)
        let draw = SplitMix64.BoundedDraw(below: n)
        var values = [[Double]](repeating: [Double](repeating: 0, count: settings.resamples), count: k)
        var counts = [Int](repeating: 0, count: 4 * k)
        var brier = [Double](repeating: 0, count: k)
        squared.withUnsafeBufferPointer { squared in
            cells.withUnsafeBufferPointer { cells in
                counts.withUnsafeMutableBufferPointer { counts in
                    brier.withUnsafeMutableBufferPointer { brier in
                        for r in 0..<settings.resamples {
                            for j in 0..<(4 * k) { counts[j] = 0 }
                            for j in 0..<k { brier[j] = 0 }
                            if k == 1 {
                                // Counts indexed by cell (no branch on the random cell); Brier summed in draw order.
                                var sum = 0.0
                                for _ in 0..<n {
                                    let i = draw.next(&rng)
                                    counts[Int(cells[i])] &+= 1
                                    sum += squared[i]
                                }
                                brier[0] = sum
                            } else {
                                for _ in 0..<n {
                                    let base = draw.next(&rng) &* k
                                    for j in 0..<k {
                                        counts[4 &* j &+ Int(cells[base &+ j])] &+= 1
                                        brier[j] += squared[base &+ j]
                                    }
                                }
                            }
                            for j in 0..<k {
                                let mcc = SN34.mcc(tp: counts[4 * j], tn: counts[4 * j + 1], fp: counts[4 * j + 2], fn: counts[4 * j + 3])
                                values[j][r] = SN34.score(mcc: mcc, brier: brier[j] / Double(n), parameters: parameters)
                            }
                        }
                    }
                }
            }
        }
        let tail = (1 - settings.level) / 2
        return values.map { v in
            let sorted = v.sorted()
            return ConfidenceInterval(lower: quantile(sorted, tail), upper: quantile(sorted, 1 - tail))
        }
    }

    /// The large-sample bootstrap: the same resampling distribution of (cell counts, Brier sum)
    /// drawn from the slice's summary instead of index by index. Per resample, the four cell
    /// counts are Multinomial(n, observed shares), drawn as a chain of binomials; the Brier sum is,
    /// per cell, the sum of that many draws from the cell's squared errors. Binomials whose smaller
    /// side expects at most `exactLimit` successes, and cells of at most `exactLimit` predictions,
    /// are drawn exactly (waiting times; indices into the cell's errors); larger ones by the normal
    /// distribution with the same mean and variance, a sum of over `exactLimit` independent draws.
    static func largeSampleInterval(_ s: CellSummary, parameters: SN34Parameters, settings: BootstrapSettings,
                                    seed: UInt64) -> ConfidenceInterval? {
        let n = s.n
        guard n > 0 else { return nil }
        var rng = SplitMix64(seed: seed)
        var values = [Double](repeating: 0, count: settings.resamples)
        var counts = [Int](repeating: 0, count: 4)
        let draws = (0..<4).map { SplitMix64.BoundedDraw(below: max(s.errors[$0].count, 1)) }
        for r in 0..<settings.resamples {
            var remaining = n
            for c in 0..<3 {
                let later = s.count[c...].reduce(0, +)
                counts[c] = later == 0 ? 0 : binomial(remaining, Double(s.count[c]) / Double(later), &rng)
                remaining -= counts[c]
            }
            counts[3] = remaining
            var brier = 0.0
            for c in 0..<4 where counts[c] > 0 && s.count[c] > 0 {
                if s.count[c] <= CellSummary.exactLimit {
                    for _ in 0..<counts[c] { brier += s.errors[c][draws[c].next(&rng)] }
                } else {
                    let m = Double(s.count[c])
                    let mean = s.sum[c] / m
                    let variance = max(0, s.sumSquares[c] / m - mean * mean)
                    brier += Double(counts[c]) * mean + (Double(counts[c]) * variance).squareRoot() * normal(&rng)
                }
            }
            let mcc = SN34.mcc(tp: counts[0], tn: counts[1], fp: counts[2], fn: counts[3])
            values[r] = SN34.score(mcc: mcc, brier: max(0, brier) / Double(n), parameters: parameters)
        }
        values.sort()
        let tail = (1 - settings.level) / 2
        return ConfidenceInterval(lower: quantile(values, tail), upper: quantile(values, 1 - tail))
    }

    /// Uniform in (0, 1].
    @inline(__always)
    static func uniform(_ rng: inout SplitMix64) -> Double {
        Double((rng.next() >> 11) + 1) * 0x1p-53
    }

    /// Standard normal (Box-Muller, one of the pair).
    static func normal(_ rng: inout SplitMix64) -> Double {
        let u = uniform(&rng), v = uniform(&rng)
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// Binomial(trials, p): exact by geometric waiting times when the smaller side expects at most
    /// `CellSummary.exactLimit` successes, otherwise the rounded normal with the same mean and variance.
    static func binomial(_ trials: Int, _ p: Double, _ rng: inout SplitMix64) -> Int {
        if trials == 0 || p <= 0 { return 0 }
        if p >= 1 { return trials }
        let small = min(p, 1 - p)
        let successes: Int
        if Double(trials) * small <= Double(CellSummary.exactLimit) {
            let logFailure = Foundation.log1p(-small)
            var count = 0, position = 0
            while true {
                position += Int((Foundation.log(uniform(&rng)) / logFailure).rounded(.down)) + 1
                if position > trials { break }
                count += 1
            }
            successes = count
        } else {
            let mean = Double(trials) * small, sd = (Double(trials) * small * (1 - small)).squareRoot()
            successes = min(max(Int((mean + sd * normal(&rng)).rounded()), 0), trials)
        }
        return p <= 0.5 ? successes : trials - successes
    }

    /// Linear interpolation between order statistics (numpy `percentile`'s default): h = (n-1)q.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        let h = Double(sorted.count - 1) * min(max(q, 0), 1)
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}

/// What the bootstrap resamples of one detector on one slice: its predictions, or for slices of
/// `Bootstrap.largeSampleThreshold` or more, their `CellSummary`.
enum BootstrapInput: Sendable {
    case predictions([ScoredPrediction])
    case summary(CellSummary)

    /// The input for `count` predictions, `prediction(i)` in slice order.
    init(count: Int, prediction: (Int) -> ScoredPrediction) {
        if count < Bootstrap.largeSampleThreshold {
            self = .predictions((0..<count).map(prediction))
        } else {
            var summary = CellSummary()
            for i in 0..<count { summary.add(prediction(i)) }
            self = .summary(summary)
        }
    }

    /// The input for these predictions (kept as they are under the threshold).
    init(_ predictions: [ScoredPrediction]) {
        self = predictions.count < Bootstrap.largeSampleThreshold ? .predictions(predictions)
                                                                 : BootstrapInput(count: predictions.count) { predictions[$0] }
    }

    var count: Int {
        switch self {
        case let .predictions(p): p.count
        case let .summary(s): s.n
        }
    }
}

/// A slice's predictions as the large-sample bootstrap sees them: per confusion cell (tp, tn, fp,
/// fn), the count and the sum and sum of squares of the clipped squared errors, in slice order,
/// and the errors themselves while the cell holds at most `exactLimit` of them.
struct CellSummary: Sendable {
    static let exactLimit = 2000
    var n = 0
    var count = [Int](repeating: 0, count: 4)
    var sum = [Double](repeating: 0, count: 4)
    var sumSquares = [Double](repeating: 0, count: 4)
    var errors: [[Double]] = [[], [], [], []]

    mutating func add(_ p: ScoredPrediction) {
        let c = Int(SliceScoring.cell(label: p.label, predicted: p.predicted))
        let squared = BinaryMetricsAccumulator.squaredError(label: p.label, clipped: BinaryMetricsAccumulator.clipped(p.pAI))
        n += 1
        count[c] += 1
        sum[c] += squared
        sumSquares[c] += squared * squared
        if count[c] <= Self.exactLimit {
            errors[c].append(squared)
        } else if !errors[c].isEmpty {
            errors[c] = []
        }
    }
}
