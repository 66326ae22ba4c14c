import GASCore

/// outcomes -> scores: joins each outcome with its sample and hands the rows to the pure scorer.
public enum RoundScoring {
    /// How the executor words a skip for a modality the detector's hello did not offer.
    public static let unhandledModalityPrefix = "detector does not handle "

    public static func score(samples: [PlannedSample], outcomes: [DetectorOutcome], detectors: [String], rule: ScoringRule) -> [DetectorScore] {
        let byID = Dictionary(samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let grouped = Dictionary(grouping: outcomes, by: \.detector)
        return detectors.map { name in
            let rows = (grouped[name] ?? []).compactMap { o -> ScoringRow? in
                guard let s = byID[o.sampleID] else { return nil }
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
}
