import Dispatch
import Synchronization
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

/// A detector's scoring rows made one at a time from where they are kept (row `i` of `count`,
/// callable from two threads at once), so that scoring a million outcomes does not first copy them
/// into a million `ScoringRow`s. The scorer reads it in halves on two threads, as it reads an array.
public struct ScoringRowSource: Sequence, @unchecked Sendable {
    public let count: Int
    public let row: (Int) -> ScoringRow

    public init(count: Int, row: @escaping (Int) -> ScoringRow) {
        self.count = count
        self.row = row
    }

    /// Rows that are already in an array.
    public init(_ rows: [ScoringRow]) {
        self.init(count: rows.count) { rows[$0] }
    }

    public func makeIterator() -> AnyIterator<ScoringRow> {
        var i = 0
        return AnyIterator {
            guard i < count else { return nil }
            defer { i += 1 }
            return row(i)
        }
    }

    public var underestimatedCount: Int { count }
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
    public init(scope: BreakdownScope, key: String, metrics: BinaryMetrics) {
        self.scope = scope
        self.key = key
        self.metrics = metrics
    }
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

    public init(detector: String, overall: BinaryMetrics, statusCounts: [String: Int], coverage: Double, invalidated: Bool,
                invalidReason: String?, breakdowns: [BreakdownMetrics]) {
        self.detector = detector
        self.overall = overall
        self.statusCounts = statusCounts
        self.coverage = coverage
        self.invalidated = invalidated
        self.invalidReason = invalidReason
        self.breakdowns = breakdowns
    }

    /// The number that ranks detectors: sn34, or 0 when the detector was invalidated.
    public var sn34: Double { invalidated ? 0 : overall.sn34 }
}

/// Pure scoring over outcomes: no I/O, the same numbers from a live run or from stored predictions.
public enum Scorer {
    /// What one row contributes to the metrics: its p_ai when answered; a failure counts as wrong at
    /// p = 0.5 (`count_wrong`, `invalidate`) or not at all (`exclude`); an input skip never counts.
    public static func prediction(for row: ScoringRow, rule: ScoringRule) -> ScoredPrediction? {
        if row.inputSkipped { return nil }
        if row.status == .ok, let p = row.pAI { return ScoredPrediction(label: row.label, pAI: p) }
        switch rule.onFailure {
        case .exclude: return nil
        case .countWrong, .invalidate: return ScoredPrediction(label: row.label, pAI: 0.5, predicted: 1 - row.label)
        }
    }

    /// With `bootstrap`, every slice also gets a confidence interval for its sn34, resampled within the
    /// slice (see `Bootstrap`). Pass every detector's rows in the same sample order (the runner uses
    /// plan order) so the intervals are paired across detectors.
    public static func score(detector: String, rows: some Sequence<ScoringRow>, rule: ScoringRule,
                             bootstrap: BootstrapSettings? = nil) -> DetectorScore {
        // One pass over the rows for every slice, one sort for every AUC (see SliceScoring); the
        // numbers equal `BinaryMetricsAccumulator`'s slice by slice.
        SliceScoring.score(detector: detector, rows: rows, rule: rule, bootstrap: bootstrap)
    }

    /// Several detectors scored side by side (`rows(i)`: detector i's rows, in the same sample
    /// order for every detector). Equal to scoring each alone; the bootstrap draws each distinct
    /// slice membership's indices once for all detectors that share it.
    public static func score<Rows: Sequence<ScoringRow> & SendableMetatype>(detectors: [String], rule: ScoringRule, bootstrap: BootstrapSettings?,
                                                         rows: (Int) -> Rows) -> [DetectorScore] {
        let shared = SharedOrdinals()
        let all = withoutActuallyEscaping(rows) { rows in
            nonisolated(unsafe) let rows = rows  // called for distinct detectors, each on its own thread
            return Parallel.map(detectors.count) { i in
                var p = SliceScoring.prepare(detector: detectors[i], rows: rows(i), rule: rule, memberships: bootstrap != nil)
                shared.share(&p)
                return p
            }
        }
        let intervals = bootstrap.map { SliceScoring.intervalsBySlice(all, parameters: rule.parameters, settings: $0) }
        return all.enumerated().map { SliceScoring.assemble($1, intervals: intervals?[$0]) }
    }

    /// One copy of each distinct slice membership for all the detectors being scored: detectors
    /// that answered the same samples have the same memberships (a million ordinals each for the
    /// overall slice and every scope), and each kept its own until the bootstrap was done.
    final class SharedOrdinals: Sendable {
        private let arrays = Mutex(Set<[Int32]>())

        func share(_ prepared: inout SliceScoring.Prepared) {
            arrays.withLock { arrays in
                for m in prepared.memberships.indices {
                    prepared.memberships[m].ordinals = arrays.insert(prepared.memberships[m].ordinals).memberAfterInsert
                }
            }
        }
    }

    /// The reference definition, slice by slice through `BinaryMetricsAccumulator` (kept to check
    /// the engine against in tests).
    public static func scoreBySlices(detector: String, rows: some Sequence<ScoringRow>, rule: ScoringRule,
                                     bootstrap: BootstrapSettings? = nil) -> DetectorScore {
        var overall = BinaryMetricsAccumulator()
        var slices: [BreakdownScope: [String: BinaryMetricsAccumulator]] = [:]
        var statusCounts = Dictionary(uniqueKeysWithValues: OutcomeStatus.allCases.map { ($0.rawValue, 0) })
        var scorable = 0, answered = 0, failures = 0

        // A row's ordinal is its position in `rows`: the same sample for every detector of a run.
        for (ordinal, row) in rows.enumerated() {
            statusCounts[row.status.rawValue, default: 0] += 1
            if row.inputSkipped { continue }
            scorable += 1
            if row.status == .ok && row.pAI != nil { answered += 1 } else { failures += 1 }
            guard let prediction = prediction(for: row, rule: rule) else { continue }
            overall.add(prediction, ordinal: ordinal)
            slices[.modality, default: [:]][row.modality.rawValue, default: .init()].add(prediction, ordinal: ordinal)
            slices[.dataset, default: [:]][row.dataset, default: .init()].add(prediction, ordinal: ordinal)
            slices[.mediaType, default: [:]][row.mediaType.rawValue, default: .init()].add(prediction, ordinal: ordinal)
            slices[.source, default: [:]][row.sourceKind.rawValue, default: .init()].add(prediction, ordinal: ordinal)
        }

        var breakdowns: [BreakdownMetrics] = []
        for scope in BreakdownScope.allCases where scope != .overall {
            for (key, acc) in (slices[scope] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let metrics = acc.finish(rule.parameters, bootstrap: bootstrap)
                breakdowns.append(BreakdownMetrics(scope: scope, key: key, metrics: metrics))
            }
        }
        let invalid = rule.onFailure == .invalidate && failures > 0
        return DetectorScore(
            detector: detector,
            overall: overall.finish(rule.parameters, bootstrap: bootstrap),
            statusCounts: statusCounts,
            coverage: scorable == 0 ? 0 : Double(answered) / Double(scorable),
            invalidated: invalid,
            invalidReason: invalid ? "\(failures) sample(s) failed and on_failure is invalidate" : nil,
            breakdowns: breakdowns)
    }
}
