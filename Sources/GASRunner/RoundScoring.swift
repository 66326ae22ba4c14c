import Dispatch
import GASCore

/// outcomes -> scores: joins each outcome with its sample and hands the rows to the pure scorer.
public enum RoundScoring {
    /// `seed` (the round seed) seeds the bootstrap of sn34's confidence intervals.
    public static func score(samples: [PlannedSample], outcomes: [DetectorOutcome], detectors: [String], rule: ScoringRule,
                             seed: UInt64) -> [DetectorScore] {
        let bootstrap = bootstrapSettings(seed: seed)
        let grouped = rows(samples: samples, outcomes: outcomes)
        // Detectors are scored side by side (the bootstrap dominates on large runs); each result
        // depends only on its own rows, so the numbers are the same as one by one.
        let results = UnsafeMutableBufferPointer<DetectorScore?>.allocate(capacity: detectors.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: detectors.count) { i in
            slots[i] = Scorer.score(detector: detectors[i], rows: grouped[detectors[i]] ?? [], rule: rule, bootstrap: bootstrap)
        }
        return results.map { $0! }
    }

    /// Each detector's outcomes joined with their samples, in plan order (whatever order the outcomes
    /// come in), so a row's position names the same sample for every detector.
    public static func rows(samples: [PlannedSample], outcomes: [DetectorOutcome]) -> [String: [ScoringRow]] {
        let byID = Dictionary(samples.enumerated().map { ($0.element.id, ($0.offset, $0.element)) }, uniquingKeysWith: { a, _ in a })
        var positioned: [String: [(Int, ScoringRow)]] = [:]
        for o in outcomes {
            guard let (position, s) = byID[o.sampleID] else { continue }
            positioned[o.detector, default: []].append((position, ScoringRow(
                label: s.label, dataset: s.dataset, mediaType: s.mediaType, sourceKind: s.sourceKind,
                modality: s.modality, status: o.status, pAI: o.pAI, inputSkipped: s.skipReason != nil)))
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
