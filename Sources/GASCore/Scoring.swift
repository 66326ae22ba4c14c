/// What happens to a sample whose detector failed (error or timeout).
///
/// Why `count_wrong` is the default: gasbench excluded failed samples from every metric, so a
/// detector could crash on hard samples and lose nothing (reference §7.4).
public enum FailurePolicy: String, Codable, Sendable, CaseIterable {
    /// The sample counts as a wrong prediction at p = 0.5.
    case countWrong = "count_wrong"
    /// The sample is left out of the metrics (gasbench's behaviour); coverage reports the loss.
    case exclude
    /// Any failure sets the detector's sn34 to 0 and marks it invalid.
    case invalidate
}

/// Scoring configuration as frozen in a plan.
public struct ScoringRule: Codable, Sendable, Hashable {
    public var rule: String
    public var parameters: SN34Parameters
    public var onFailure: FailurePolicy
    public init(rule: String = "sn34", parameters: SN34Parameters = .init(), onFailure: FailurePolicy = .countWrong) {
        self.rule = rule
        self.parameters = parameters
        self.onFailure = onFailure
    }

    enum CodingKeys: String, CodingKey {
        case rule, parameters
        case onFailure = "on_failure"
    }
}

/// One (sample, detector) outcome with the sample attributes the breakdowns need.
public struct ScoringRow: Sendable, Equatable {
    public var label: Int
    public var dataset: String
    public var mediaType: MediaType
    public var sourceKind: SourceKind
    public var modality: Modality
    public var status: OutcomeStatus
    public var pAI: Double?
    /// True when the runner skipped the sample before any detector saw it (unreadable input).
    /// Such samples are not the detector's fault and never enter its metrics.
    public var inputSkipped: Bool

    public init(label: Int, dataset: String, mediaType: MediaType, sourceKind: SourceKind, modality: Modality,
                status: OutcomeStatus, pAI: Double?, inputSkipped: Bool) {
        self.label = label
        self.dataset = dataset
        self.mediaType = mediaType
        self.sourceKind = sourceKind
        self.modality = modality
        self.status = status
        self.pAI = pAI
        self.inputSkipped = inputSkipped
    }
}

/// How a breakdown slices the samples.
public enum BreakdownScope: String, Codable, Sendable, CaseIterable {
    case overall, modality, dataset, mediaType = "media_type", source
}

public struct BreakdownMetrics: Codable, Sendable, Equatable {
    public var scope: BreakdownScope
    public var key: String
    public var metrics: BinaryMetrics
}

/// Everything scoring says about one detector.
public struct DetectorScore: Codable, Sendable, Equatable {
    public var detector: String
    public var overall: BinaryMetrics
    public var statusCounts: [String: Int]
    /// Share of scorable samples (not skipped for input reasons) that got an `ok` answer.
    public var coverage: Double
    public var invalidated: Bool
    public var invalidReason: String?
    public var breakdowns: [BreakdownMetrics]

    enum CodingKeys: String, CodingKey {
        case detector, overall, coverage, invalidated, breakdowns
        case statusCounts = "status_counts", invalidReason = "invalid_reason"
    }

    /// The number that ranks detectors: sn34, or 0 when the detector was invalidated.
    public var sn34: Double { invalidated ? 0 : overall.sn34 }
}

/// Pure scoring over outcomes: no I/O, the same numbers from a live run or from stored predictions.
public enum Scorer {
    public static func score(detector: String, rows: some Sequence<ScoringRow>, rule: ScoringRule) -> DetectorScore {
        var overall = BinaryMetricsAccumulator()
        var slices: [BreakdownScope: [String: BinaryMetricsAccumulator]] = [:]
        var statusCounts = Dictionary(uniqueKeysWithValues: OutcomeStatus.allCases.map { ($0.rawValue, 0) })
        var scorable = 0, answered = 0, failures = 0

        for row in rows {
            statusCounts[row.status.rawValue, default: 0] += 1
            if row.inputSkipped { continue }
            scorable += 1
            let prediction: ScoredPrediction
            if row.status == .ok, let p = row.pAI {
                answered += 1
                prediction = ScoredPrediction(label: row.label, pAI: p)
            } else {
                failures += 1
                switch rule.onFailure {
                case .exclude: continue
                case .countWrong, .invalidate:
                    prediction = ScoredPrediction(label: row.label, pAI: 0.5, predicted: 1 - row.label)
                }
            }
            overall.add(prediction)
            slices[.modality, default: [:]][row.modality.rawValue, default: .init()].add(prediction)
            slices[.dataset, default: [:]][row.dataset, default: .init()].add(prediction)
            slices[.mediaType, default: [:]][row.mediaType.rawValue, default: .init()].add(prediction)
            slices[.source, default: [:]][row.sourceKind.rawValue, default: .init()].add(prediction)
        }

        var breakdowns: [BreakdownMetrics] = []
        for scope in BreakdownScope.allCases where scope != .overall {
            for (key, acc) in (slices[scope] ?? [:]).sorted(by: { $0.key < $1.key }) {
                breakdowns.append(BreakdownMetrics(scope: scope, key: key, metrics: acc.finish(rule.parameters)))
            }
        }
        let invalid = rule.onFailure == .invalidate && failures > 0
        return DetectorScore(
            detector: detector, overall: overall.finish(rule.parameters), statusCounts: statusCounts,
            coverage: scorable == 0 ? 0 : Double(answered) / Double(scorable),
            invalidated: invalid,
            invalidReason: invalid ? "\(failures) sample(s) failed and on_failure is invalidate" : nil,
            breakdowns: breakdowns)
    }
}
