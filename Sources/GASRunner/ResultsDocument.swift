import Foundation
import GASCore
import GASStore

/// results.json: the run's headline numbers in one file a script can read without SQL or Parquet.
struct ResultsDocument: Encodable {
    struct RunInfo: Encodable {
        var id: String
        var round: String
        var manifestHash: String
        var toolVersion: String
        var spec: String
        var startedAt: String
        var finishedAt: String
        var durationSeconds: Double
        var status: String
        enum CodingKeys: String, CodingKey {
            case id, round, spec, status
            case manifestHash = "manifest_hash", toolVersion = "tool_version", startedAt = "started_at"
            case finishedAt = "finished_at", durationSeconds = "duration_seconds"
        }
    }
    struct Counts: Encodable {
        var samples: Int
        var skippedInputs: Int
        var byLabel: [String: Int]
        var byDataset: [String: Int]
        var outcomes: [String: Int]
        enum CodingKeys: String, CodingKey {
            case samples, outcomes
            case skippedInputs = "skipped_inputs", byLabel = "by_label", byDataset = "by_dataset"
        }
    }
    struct LeaderboardRow: Encodable {
        var rank: Int
        var detector: String
        var sn34: Double
        var accuracy: Double
        var mcc: Double
        var brier: Double
        var coverage: Double
        var invalidated: Bool
        var sn34CI: ConfidenceInterval?
        var auc: Double?
        var ece: Double?
        enum CodingKeys: String, CodingKey {
            case rank, detector, sn34, accuracy, mcc, brier, coverage, invalidated, auc, ece
            case sn34CI = "sn34_ci"
        }
        /// Undefined analytics are written as null, never left out.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(rank, forKey: .rank); try c.encode(detector, forKey: .detector); try c.encode(sn34, forKey: .sn34)
            try c.encode(accuracy, forKey: .accuracy); try c.encode(mcc, forKey: .mcc); try c.encode(brier, forKey: .brier)
            try c.encode(coverage, forKey: .coverage); try c.encode(invalidated, forKey: .invalidated)
            try c.encode(sn34CI, forKey: .sn34CI); try c.encode(auc, forKey: .auc); try c.encode(ece, forKey: .ece)
        }
    }
    struct ModalityRank: Encodable {
        var rank: Int
        var detector: String
        var sn34: Double
    }
    struct DetectorResults: Encodable {
        var overall: BinaryMetrics
        var sn34: Double
        var coverage: Double
        var invalidated: Bool
        var invalidReason: String?
        var statusCounts: [String: Int]
        var breakdowns: [String: [String: BinaryMetrics]]
        var artifactSHA256: String?
        enum CodingKeys: String, CodingKey {
            case overall, sn34, coverage, invalidated, breakdowns
            case invalidReason = "invalid_reason", statusCounts = "status_counts", artifactSHA256 = "artifact_sha256"
        }
    }

    var run: RunInfo
    var scoring: ScoringRule
    /// How sn34's confidence intervals were computed (`sn34_ci` in every metrics object).
    var bootstrap: BootstrapSettings
    var counts: Counts
    var leaderboard: [LeaderboardRow]
    /// Per modality: detectors ranked by their sn34 on that modality; the first is the winner.
    /// (Named as its JSON key so this type needs no CodingKeys: a property added later is encoded
    /// without having to be listed anywhere.)
    var modality_leaderboards: [String: [ModalityRank]]
    var detectors: [String: DetectorResults]
    var files: [String: String]
    /// With `augment.robustness_share`: each detector's robustness pass, keyed by detector.
    var robustness: [String: RoundScoring.Robustness]? = nil
    /// Generator rewards, highest first; absent when the round has no generator source.
    var generators: GeneratorSection?

    struct GeneratorSection: Encodable {
        var leaderboard: [GeneratorScore]
        /// Challenge outcomes by status, over all generators.
        var challenges: [String: Int]
        /// Rejected and failed challenges: generator, challenge id, status, reason.
        var problems: [[String: String]]
    }

    static func make(run: RunInfo, plan: RunPlan, outcomes: [DetectorOutcome], scores: [DetectorScore],
                     generators: [GeneratorScore]? = nil, challenges: [ChallengeRecord]? = nil, files: [String: String]) -> ResultsDocument {
        make(run: run, plan: plan, outcomeCounts: Dictionary(grouping: outcomes, by: \.status.rawValue).mapValues(\.count),
             robustness: RoundScoring.robustness(samples: plan.samples, outcomes: outcomes, scores: scores, rule: plan.spec.scoring),
             scores: scores, generators: generators, challenges: challenges, files: files)
    }

    /// `outcomeCounts`: outcomes per status; `robustness`: the robustness pass (empty without augmentation).
    static func make(run: RunInfo, plan: RunPlan, outcomeCounts: [String: Int], robustness: [RoundScoring.Robustness], scores: [DetectorScore],
                     generators: [GeneratorScore]? = nil, challenges: [ChallengeRecord]? = nil, files: [String: String]) -> ResultsDocument {
        let samples = plan.samples
        // Counted field by field: grouping copied every sample (a million of them at the top end).
        var skipped = 0
        var byLabel: [String: Int] = [:], byDataset: [String: Int] = [:]
        for i in samples.indices {
            if samples[i].skipReason != nil { skipped += 1 }
            byLabel[samples[i].label == 0 ? "real" : "ai", default: 0] += 1
            byDataset[samples[i].dataset, default: 0] += 1
        }
        let counts = Counts(samples: samples.count, skippedInputs: skipped, byLabel: byLabel, byDataset: byDataset,
                            outcomes: outcomeCounts)
        let ranked = RoundScoring.ranked(scores)
        let leaderboard = ranked.enumerated().map { i, s in
            LeaderboardRow(rank: i + 1, detector: s.detector, sn34: s.sn34, accuracy: s.overall.accuracy, mcc: s.overall.mcc,
                           brier: s.overall.brier, coverage: s.coverage, invalidated: s.invalidated,
                           sn34CI: s.overall.sn34CI, auc: s.overall.auc, ece: s.overall.ece)
        }
        var modalityLeaderboards: [String: [ModalityRank]] = [:]
        for (modality, ranking) in RoundScoring.modalityLeaderboards(scores) {
            modalityLeaderboards[modality] = ranking.enumerated().map { ModalityRank(rank: $0.offset + 1, detector: $0.element.detector, sn34: $0.element.sn34) }
        }
        let artifacts = Dictionary(plan.detectors.map { ($0.spec.name, $0.artifactSHA256) }, uniquingKeysWith: { a, _ in a })
        var detectors: [String: DetectorResults] = [:]
        for s in scores {
            var breakdowns: [String: [String: BinaryMetrics]] = [:]
            for b in s.breakdowns { breakdowns[b.scope.rawValue, default: [:]][b.key] = b.metrics }
            detectors[s.detector] = DetectorResults(overall: s.overall, sn34: s.sn34, coverage: s.coverage, invalidated: s.invalidated,
                                                    invalidReason: s.invalidReason, statusCounts: s.statusCounts,
                                                    breakdowns: breakdowns, artifactSHA256: artifacts[s.detector] ?? nil)
        }
        var section: GeneratorSection?
        if let generators {
            let list = challenges ?? []
            section = GeneratorSection(
                leaderboard: generators, challenges: Dictionary(grouping: list, by: \.status).mapValues(\.count),
                problems: list.filter { $0.status != "stored" }.map {
                    ["generator": $0.generator, "challenge": $0.challengeID, "status": $0.status, "reason": $0.reason ?? ""]
                })
        }
        var document = ResultsDocument(run: run, scoring: plan.spec.scoring, bootstrap: RoundScoring.bootstrapSettings(seed: plan.spec.round.seed),
                                       counts: counts, leaderboard: leaderboard, modality_leaderboards: modalityLeaderboards,
                                       detectors: detectors, files: files, generators: section)
        if !robustness.isEmpty {
            document.robustness = Dictionary(robustness.map { ($0.detector, $0) }, uniquingKeysWith: { a, _ in a })
        }
        return document
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
