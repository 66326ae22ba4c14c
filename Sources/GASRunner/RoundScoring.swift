import Dispatch
import GASCore
import GASData
import GASStore

/// outcomes -> scores: joins each outcome with its sample and hands the rows to the pure scorer.
public enum RoundScoring {
    /// How the executor words a skip for a modality the detector's hello did not offer.
    public static let unhandledModalityPrefix = "detector does not handle "

    /// `seed` (the round seed) seeds the bootstrap of sn34's confidence intervals.
    public static func score(samples: [PlannedSample], outcomes: [DetectorOutcome], detectors: [String], rule: ScoringRule,
                             seed: UInt64) -> [DetectorScore] {
        let bootstrap = bootstrapSettings(seed: seed)
        let grouped = rows(samples: samples, outcomes: outcomes)
        // Detectors are scored side by side; each result depends only on its own rows, so the
        // numbers are the same as one by one.
        return Scorer.score(detectors: detectors, rule: rule, bootstrap: bootstrap) { grouped[detectors[$0]] ?? [] }
    }

    /// The same scores from the compact outcome grid (plan order already), without building
    /// per-outcome records: what a run of millions of outcomes finishes with.
    public static func score(samples: [PlannedSample], grid: OutcomeGrid, detectors: [String], rule: ScoringRule,
                             seed: UInt64) -> [DetectorScore] {
        let bootstrap = bootstrapSettings(seed: seed)
        let isCopy = samples.indices.map { RobustnessAugmentation.isCopy(samples[$0].sampleURI) }  // by index: no copy of each sample
        let indices = detectors.map { grid.detectorIndex($0) }
        // Each detector's rows made as the scorer reads them, from the grid and the plan (an array
        // of a million rows per detector, two detectors at a time, was most of the run's peak).
        return Scorer.score(detectors: detectors, rule: rule, bootstrap: bootstrap) { i -> ScoringRowSource in
            guard let d = indices[i] else { return ScoringRowSource([]) }
            // The positions this detector has an outcome for, robustness copies aside.
            var positions: [Int32] = []
            positions.reserveCapacity(samples.count)
            for p in samples.indices where !isCopy[p] && grid.status(detector: d, position: p) != nil { positions.append(Int32(p)) }
            return ScoringRowSource(count: positions.count) { k in
                let p = Int(positions[k])
                let status = grid.status(detector: d, position: p) ?? .skipped  // every position here has a status
                // Field by field: copying the whole sample retained every one of its strings.
                let unhandled = status == .skipped && (grid.error(detector: d, position: p) ?? "").hasPrefix(unhandledModalityPrefix)
                return ScoringRow(label: samples[p].label, dataset: samples[p].dataset, mediaType: samples[p].mediaType,
                                  sourceKind: samples[p].sourceKind, modality: samples[p].modality, status: status,
                                  pAI: grid.pAI(detector: d, position: p), inputSkipped: samples[p].skipReason != nil || unhandled)
            }
        }
    }

    /// Each detector's outcomes joined with their samples, in plan order (whatever order the outcomes
    /// come in), so a row's position names the same sample for every detector.
    public static func rows(samples: [PlannedSample], outcomes: [DetectorOutcome]) -> [String: [ScoringRow]] {
        let byID = Dictionary(samples.enumerated().map { ($0.element.id, ($0.offset, $0.element)) }, uniquingKeysWith: { a, _ in a })
        var positioned: [String: [(Int, ScoringRow)]] = [:]
        for o in outcomes {
            // Robustness copies are scored apart (`robustness`), never in the base metrics.
            guard let (position, s) = byID[o.sampleID], !RobustnessAugmentation.isCopy(s.sampleURI) else { continue }
            // Samples of a modality the detector does not handle are not its to judge (a round of
            // several modalities scores each detector on its own modality).
            let unhandled = o.status == .skipped && (o.error ?? "").hasPrefix(unhandledModalityPrefix)
            positioned[o.detector, default: []].append((position, ScoringRow(
                label: s.label, dataset: s.dataset, mediaType: s.mediaType, sourceKind: s.sourceKind,
                modality: s.modality, status: o.status, pAI: o.pAI, inputSkipped: s.skipReason != nil || unhandled)))
        }
        return positioned.mapValues { list in list.sorted { $0.0 < $1.0 }.map(\.1) }
    }

    /// The bootstrap every run uses: B = 1000 resamples, 95% percentile intervals, the round seed.
    public static func bootstrapSettings(seed: UInt64) -> BootstrapSettings {
        BootstrapSettings(resamples: 1000, level: 0.95, seed: seed)
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
        guard samples.contains(where: { RobustnessAugmentation.isCopy($0.sampleURI) }) else { return [] }
        let byID = Dictionary(samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
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

extension RoundScoring {
    /// Per modality, the detectors ranked by their sn34 on that modality's samples (0 when
    /// invalidated), then by name. A detector without samples of a modality is not ranked on it.
    public static func modalityLeaderboards(_ scores: [DetectorScore]) -> [(modality: String, ranking: [(detector: String, sn34: Double)])] {
        var byModality: [String: [(detector: String, sn34: Double)]] = [:]
        for s in scores {
            for b in s.breakdowns where b.scope == .modality && b.metrics.samples > 0 {
                byModality[b.key, default: []].append((s.detector, s.invalidated ? 0 : b.metrics.sn34))
            }
        }
        return byModality.keys.sorted().map { m in
            (m, byModality[m]!.sorted { ($0.sn34, $1.detector) > ($1.sn34, $0.detector) })
        }
    }
}
