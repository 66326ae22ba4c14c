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
    var counts: Counts
    var leaderboard: [LeaderboardRow]
    var detectors: [String: DetectorResults]
    var files: [String: String]
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
        var section: GeneratorSection?
        if let generators {
            let list = challenges ?? []
            section = GeneratorSection(
                leaderboard: generators, challenges: Dictionary(grouping: list, by: \.status).mapValues(\.count),
                problems: list.filter { $0.status != "stored" }.map {
                    ["generator": $0.generator, "challenge": $0.challengeID, "status": $0.status, "reason": $0.reason ?? ""]
                })
        }
        return ResultsDocument(run: run, scoring: plan.spec.scoring, counts: counts, leaderboard: leaderboard,
                               detectors: detectors, files: files, generators: section)
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
