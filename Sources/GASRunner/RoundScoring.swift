import GASCore
import GASData

/// outcomes -> scores: joins each outcome with its sample and hands the rows to the pure scorer.
public enum RoundScoring {
    /// How the executor words a skip for a modality the detector's hello did not offer.
    public static let unhandledModalityPrefix = "detector does not handle "

    public static func score(samples: [PlannedSample], outcomes: [DetectorOutcome], detectors: [String], rule: ScoringRule) -> [DetectorScore] {
        let byID = Dictionary(samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let grouped = Dictionary(grouping: outcomes, by: \.detector)
        return detectors.map { name in
            let rows = (grouped[name] ?? []).compactMap { o -> ScoringRow? in
                // Robustness copies are scored apart (`robustness`), never in the base metrics.
                guard let s = byID[o.sampleID], RobustnessAugmentation.baseID(of: s.uri) == nil else { return nil }
                // Samples of a modality the detector does not handle are not its to judge (a
                // round of several modalities scores each detector on its own modality).
                let unhandled = o.status == .skipped && (o.error ?? "").hasPrefix(unhandledModalityPrefix)
                return ScoringRow(label: s.label, dataset: s.dataset, mediaType: s.mediaType, sourceKind: s.sourceKind,
                                  modality: s.modality, status: o.status, pAI: o.pAI, inputSkipped: s.skipReason != nil || unhandled)
            }
            return Scorer.score(detector: name, rows: rows, rule: rule)
        }
    }

    /// Leaderboard order: sn34 descending, then name, so ties are stable.
    public static func ranked(_ scores: [DetectorScore]) -> [DetectorScore] {
        scores.sorted { ($0.sn34, $1.detector) > ($1.sn34, $0.detector) }
    }

    /// The robustness pass of one detector: its metrics on the augmented copies, next to its base
    /// sn34, and the paired change in the probability it gave the true label.
    public struct Robustness: Sendable, Equatable, Encodable {
        public var detector: String
        public var metrics: BinaryMetrics
        /// Base-pass sn34 of the detector (all its base samples, as in gasbench).
        public var baseSN34: Double
        /// aug sn34 / base sn34 (0 when the base is 0), gasbench's `augmentation_robustness`.
        public var augmentationRobustness: Double
        /// Pairs (base sample, its augmented copy) both answered.
        public var pairedSamples: Int
        /// Mean and 95th percentile (linear interpolation) of p_true(base) − p_true(augmented),
        /// where p_true is the probability given to the true label.
        public var meanProbDegradation: Double
        public var p95ProbDegradation: Double

        enum CodingKeys: String, CodingKey {
            case detector, metrics
            case baseSN34 = "base_sn34", augmentationRobustness = "augmentation_robustness", pairedSamples = "paired_samples"
            case meanProbDegradation = "mean_prob_degradation", p95ProbDegradation = "p95_prob_degradation"
        }
    }

    /// Robustness of every detector that answered augmented samples; empty without augmentation.
    public static func robustness(samples: [PlannedSample], outcomes: [DetectorOutcome], scores: [DetectorScore], rule: ScoringRule) -> [Robustness] {
        let byID = Dictionary(samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        guard samples.contains(where: { RobustnessAugmentation.baseID(of: $0.uri) != nil }) else { return [] }
        let grouped = Dictionary(grouping: outcomes, by: \.detector)
        var result: [Robustness] = []
        for score in scores {
            let mine = grouped[score.detector] ?? []
            let byOutcome = Dictionary(mine.map { ($0.sampleID, $0) }, uniquingKeysWith: { a, _ in a })
            var rows: [ScoringRow] = []
            var degradations: [Double] = []
            for o in mine {
                guard let s = byID[o.sampleID], let baseID = RobustnessAugmentation.baseID(of: s.uri) else { continue }
                let unhandled = o.status == .skipped && (o.error ?? "").hasPrefix(unhandledModalityPrefix)
                rows.append(ScoringRow(label: s.label, dataset: s.dataset, mediaType: s.mediaType, sourceKind: s.sourceKind,
                                       modality: s.modality, status: o.status, pAI: o.pAI, inputSkipped: s.skipReason != nil || unhandled))
                if o.status == .ok, let pa = o.pAI, let base = byOutcome[baseID], base.status == .ok, let pb = base.pAI {
                    let trueBase = s.label == 1 ? pb : 1 - pb, trueAug = s.label == 1 ? pa : 1 - pa
                    degradations.append(trueBase - trueAug)
                }
            }
            let aug = Scorer.score(detector: score.detector, rows: rows, rule: rule)
            guard aug.overall.samples > 0 else { continue }
            let augSN34 = aug.invalidated ? 0 : aug.overall.sn34
            let sorted = degradations.sorted()
            var p95 = 0.0
            if !sorted.isEmpty {
                let position = 0.95 * Double(sorted.count - 1)
                let lower = Int(position), upper = min(lower + 1, sorted.count - 1)
                p95 = sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
            }
            result.append(Robustness(detector: score.detector, metrics: aug.overall, baseSN34: score.sn34,
                                     augmentationRobustness: score.sn34 > 0 ? augSN34 / score.sn34 : 0,
                                     pairedSamples: degradations.count,
                                     meanProbDegradation: degradations.isEmpty ? 0 : degradations.reduce(0, +) / Double(degradations.count),
                                     p95ProbDegradation: p95))
        }
        return result
    }
}
