import Foundation
import GASCore
import GASSpec
import GASStore

/// The library function behind `gascli rescore`: every metric again from the stored predictions alone.
public enum Rescoring {
    public struct Report: Sendable {
        public var runID: String
        public var rule: ScoringRule
        public var scores: [DetectorScore]
        /// Differences from the metrics stored with the run (empty when the stored rule is used and
        /// everything reproduces bit for bit).
        public var differences: [String]
        public var usedStoredRule: Bool
    }

    /// Reads the run's own run.sqlite, or, for a run in a shared PostgreSQL ledger (ledger.json in
    /// its directory), that database (password from PGPASSWORD).
    public static func rescore(run: String, outputs: String, scoringFile: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Report {
        let directory = try RunIndex.locate(run, outputs: outputs, sharedLedger: true)
        if let pointer = SharedLedgerPointer.read(directory: directory),
           !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("run.sqlite")) {
            guard case let .postgres(server) = try LedgerURL.parse(pointer.url) else {
                throw RunnerError.unknownRun(run: run, hint: "\(directory)/\(SharedLedgerPointer.fileName) names no PostgreSQL ledger")
            }
            let ledger = try await PostgresRunLedger.open(server, environment: environment)
            do {
                let report = try await rescore(ledger: ledger, runID: pointer.runID, run: run, scoringFile: scoringFile)
                await ledger.close()
                return report
            } catch {
                await ledger.close()
                throw error
            }
        }
        let ledger = try RunLedger(path: (directory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
        guard let runID = try ledger.runIDs().last else {
            throw RunnerError.unknownRun(run: run, hint: "the database holds no run")
        }
        return try await rescore(ledger: ledger, runID: runID, run: run, scoringFile: scoringFile)
    }

    static func rescore(ledger: any OutcomeLedger, runID: String, run: String, scoringFile: String?) async throws -> Report {
        guard let record = try await ledger.run(id: runID) else {
            throw RunnerError.unknownRun(run: run, hint: "the ledger \(ledger.location) holds no run \(runID)")
        }
        let stored = try JSONDecoder().decode(RoundSpec.self, from: Data(record.resolvedSpecJSON.utf8))
        let rule = try scoringFile.map { try ScoringLoader.load(path: $0) } ?? stored.scoring
        let samples = try await ledger.samples(runID: runID)
        let outcomes = try await ledger.outcomes(runID: runID)
        let detectors = try await ledger.detectors(runID: runID).map(\.name)
        let scores = RoundScoring.score(samples: samples, outcomes: outcomes, detectors: detectors, rule: rule, seed: record.seed)

        var differences: [String] = []
        if scoringFile == nil {
            let storedRows = try await ledger.metricsRows(runID: runID)
            let fresh = scores.flatMap { s in RunLedger.metricRows(s).map { (s.detector, $0.scope, $0.key, $0.metrics) } }
                .sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
            if storedRows.count != fresh.count {
                differences.append("stored \(storedRows.count) metric rows, recomputed \(fresh.count)")
            }
            for (a, b) in zip(storedRows, fresh) {
                // Rows written before the analytics existed (migration v2-metrics-auc-ece) hold NULL
                // there: compare what they do hold.
                let recomputed = a.metrics.ece == nil && a.metrics.sn34CI == nil ? withoutAnalytics(b.3) : b.3
                guard a.detector != b.0 || a.scope != b.1 || a.key != b.2 || a.metrics != recomputed else { continue }
                differences.append("\(b.0) \(b.1)=\(b.2): " + describe(stored: a.metrics, recomputed: recomputed))
            }
        }
        return Report(runID: runID, rule: rule, scores: RoundScoring.ranked(scores), differences: differences, usedStoredRule: scoringFile == nil)
    }

    static func withoutAnalytics(_ m: BinaryMetrics) -> BinaryMetrics {
        var m = m
        m.auc = nil; m.ece = nil; m.recallReal = nil; m.recallAI = nil; m.sn34CI = nil
        return m
    }

    /// "field: stored X, recomputed Y" for every field that differs.
    static func describe(stored a: BinaryMetrics, recomputed b: BinaryMetrics) -> String {
        func text(_ v: Any?) -> String { v.map { "\($0)" } ?? "null" }
        let fields: [(String, Any?, Any?, Bool)] = [
            ("samples", a.samples, b.samples, a.samples == b.samples), ("sn34", a.sn34, b.sn34, a.sn34 == b.sn34),
            ("brier", a.brier, b.brier, a.brier == b.brier), ("mcc", a.mcc, b.mcc, a.mcc == b.mcc),
            ("accuracy", a.accuracy, b.accuracy, a.accuracy == b.accuracy),
            ("cross_entropy", a.crossEntropy, b.crossEntropy, a.crossEntropy == b.crossEntropy),
            ("auc", a.auc, b.auc, a.auc == b.auc), ("ece", a.ece, b.ece, a.ece == b.ece),
            ("recall_real", a.recallReal, b.recallReal, a.recallReal == b.recallReal),
            ("recall_ai", a.recallAI, b.recallAI, a.recallAI == b.recallAI),
            ("sn34_ci", a.sn34CI.map { "[\($0.lower), \($0.upper)]" }, b.sn34CI.map { "[\($0.lower), \($0.upper)]" }, a.sn34CI == b.sn34CI),
        ]
        let differing = fields.filter { !$0.3 }.map { "\($0.0) stored \(text($0.1)), recomputed \(text($0.2))" }
        return differing.isEmpty ? "confusion counts differ" : differing.joined(separator: "; ")
    }
}
