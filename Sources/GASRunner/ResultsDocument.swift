import Foundation
import GASCore

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

    /// One detector's standing within one modality (GAS scores discriminators per modality).
    struct ModalityRow: Encodable {
        var rank: Int
        var detector: String
        var sn34: Double
        var accuracy: Double
        var mcc: Double
        var brier: Double
        var samples: Int
    }

    var run: RunInfo
    var scoring: ScoringRule
    var counts: Counts
    var leaderboard: [LeaderboardRow]
    var detectors: [String: DetectorResults]
    var files: [String: String]
    /// Per modality, the detectors that were scored on it, ranked by that modality's sn34.
    var leaderboardsByModality: [String: [ModalityRow]] = [:]
    /// With `augment.robustness_share`: each detector's robustness pass, keyed by detector.
    var robustness: [String: RoundScoring.Robustness]? = nil

    enum CodingKeys: String, CodingKey {
        case run, scoring, counts, leaderboard, detectors, files, robustness
        case leaderboardsByModality = "leaderboards_by_modality"
    }

    static func modalityLeaderboards(_ scores: [DetectorScore]) -> [String: [ModalityRow]] {
        var byModality: [String: [(String, BinaryMetrics, Bool)]] = [:]
        for s in scores {
            for b in s.breakdowns where b.scope == .modality && b.metrics.samples > 0 {
                byModality[b.key, default: []].append((s.detector, b.metrics, s.invalidated))
            }
        }
        return byModality.mapValues { rows in
            rows.sorted { a, b in
                let sa = a.2 ? 0 : a.1.sn34, sb = b.2 ? 0 : b.1.sn34
                return (sa, b.0) > (sb, a.0)
            }.enumerated().map { i, r in
                ModalityRow(rank: i + 1, detector: r.0, sn34: r.2 ? 0 : r.1.sn34, accuracy: r.1.accuracy, mcc: r.1.mcc,
                            brier: r.1.brier, samples: r.1.samples)
            }
        }
    }

    static func make(run: RunInfo, plan: RunPlan, outcomes: [DetectorOutcome], scores: [DetectorScore], files: [String: String]) -> ResultsDocument {
        let samples = plan.samples
        let counts = Counts(
            samples: samples.count,
            skippedInputs: samples.filter { $0.skipReason != nil }.count,
            byLabel: Dictionary(grouping: samples, by: { $0.label == 0 ? "real" : "ai" }).mapValues(\.count),
            byDataset: Dictionary(grouping: samples, by: \.dataset).mapValues(\.count),
            outcomes: Dictionary(grouping: outcomes, by: \.status.rawValue).mapValues(\.count))
        let ranked = RoundScoring.ranked(scores)
        let leaderboard = ranked.enumerated().map { i, s in
            LeaderboardRow(rank: i + 1, detector: s.detector, sn34: s.sn34, accuracy: s.overall.accuracy, mcc: s.overall.mcc,
                           brier: s.overall.brier, coverage: s.coverage, invalidated: s.invalidated)
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
        var document = ResultsDocument(run: run, scoring: plan.spec.scoring, counts: counts, leaderboard: leaderboard,
                                       detectors: detectors, files: files, leaderboardsByModality: modalityLeaderboards(scores))
        let robustness = RoundScoring.robustness(samples: samples, outcomes: outcomes, scores: scores, rule: plan.spec.scoring)
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
