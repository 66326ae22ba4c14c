import Foundation
import GASCore
import GASStore

/// The metrics, re-derived from predictions.parquet and the manifest alone with the same pure
/// scoring a run uses, then compared bit for bit with every place the run recorded them.
extension AuditEvidence {
    /// Scores from the predictions rows (in file order, which is the order the run scored them,
    /// so floating-point sums are the same) joined with the manifest's samples, detectors and rule.
    func rederivedScores() -> Loaded<[DetectorScore]> {
        let rows: [PredictionRow], plan: RunPlan
        switch (predictions, self.plan) {
        case (.failure(let problem), _), (_, .failure(let problem)):
            return .failure(LoadProblem(message: "cannot re-derive metrics: \(problem.message)"))
        case (.success(let r), .success(let p)):
            rows = r
            plan = p
        }
        var outcomes: [DetectorOutcome] = []
        outcomes.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            guard let status = OutcomeStatus(rawValue: row.status) else {
                return .failure(LoadProblem(message: "cannot re-derive metrics: predictions.parquet row \(i + 1) has unknown status '\(row.status)'"))
            }
            outcomes.append(DetectorOutcome(sampleID: row.sampleID, detector: row.detector, status: status, pAI: row.pAI,
                                            predicted: row.predicted.map(Int.init), error: row.error, latencyMs: row.latencyMs,
                                            batch: Int(row.batch)))
        }
        return .success(RoundScoring.score(samples: plan.samples, outcomes: outcomes, detectors: plan.detectors.map(\.spec.name),
                                           rule: plan.spec.scoring, seed: plan.spec.round.seed))
    }

    static func metricRows(_ scores: [DetectorScore]) -> [(detector: String, scope: String, key: String, metrics: BinaryMetrics)] {
        scores.flatMap { score in RunLedger.metricRows(score).map { (score.detector, $0.scope, $0.key, $0.metrics) } }
    }

    /// metrics.parquet, row by row in the order the run wrote it.
    func metricsFileItem(_ derived: Loaded<[DetectorScore]>) -> AuditItem {
        var f = Findings()
        var count = 0
        if let scores = f.need(derived), let file = f.need(metricsFile) {
            let expected = Self.metricRows(scores)
            count = expected.count
            if file.count != expected.count { f.add("metrics.parquet has \(file.count) rows, re-derived \(expected.count)") }
            for (i, (row, want)) in zip(file, expected).enumerated() {
                var d = Differences(other: "re-derived ")
                d.compare("run_id", row.runID, runID)
                d.compare("detector", row.detector, want.detector)
                d.compare("scope", row.scope, want.scope)
                d.compare("key", row.key, want.key)
                d.compare("", row.metrics, want.metrics)
                if !d.items.isEmpty {
                    f.add("row \(i + 1) detector \(want.detector) \(want.scope)/\(want.key): \(d.summary)")
                }
            }
        }
        return f.item("metrics.parquet vs re-derived metrics", passed: "\(count) rows equal bit for bit")
    }

    /// The ledger's metrics and detector_scores tables.
    func ledgerMetricsItem(_ derived: Loaded<[DetectorScore]>) -> AuditItem {
        var f = Findings()
        var count = 0
        if let scores = f.need(derived), let ledger = f.need(ledger) {
            let expected = Self.metricRows(scores)
            count = expected.count
            var stored: [String: StoredMetricRow] = [:]
            for row in ledger.metrics {
                let key = row.detector + "\u{0}" + row.scope + "\u{0}" + row.key
                if stored.updateValue(row, forKey: key) != nil { f.add("ledger metrics: detector \(row.detector) \(row.scope)/\(row.key) appears twice") }
            }
            if ledger.metrics.count != expected.count { f.add("the ledger has \(ledger.metrics.count) metric rows, re-derived \(expected.count)") }
            for want in expected {
                guard let row = stored[want.detector + "\u{0}" + want.scope + "\u{0}" + want.key] else {
                    f.add("the ledger has no metrics for detector \(want.detector) \(want.scope)/\(want.key)")
                    continue
                }
                var d = Differences(other: "re-derived ")
                d.compare("", row.metrics, want.metrics)
                if !d.items.isEmpty { f.add("ledger metrics detector \(want.detector) \(want.scope)/\(want.key): \(d.summary)") }
            }
            let storedScores = Dictionary(ledger.scores.map { ($0.detector, $0) }, uniquingKeysWith: { a, _ in a })
            if ledger.scores.count != scores.count { f.add("the ledger has \(ledger.scores.count) detector_scores rows, re-derived \(scores.count)") }
            for score in scores {
                guard let row = storedScores[score.detector] else {
                    f.add("the ledger has no detector_scores row for detector \(score.detector)")
                    continue
                }
                var d = Differences(other: "re-derived ")
                d.compare("sn34", row.sn34, score.sn34)
                d.compare("coverage", row.coverage, score.coverage)
                d.compare("invalidated", row.invalidated, score.invalidated)
                d.compare("invalid_reason", row.invalidReason, score.invalidReason)
                d.compare("status_counts", row.statusCountsJSON, Self.statusCountsJSON(score.statusCounts))
                if !d.items.isEmpty { f.add("ledger detector_scores detector \(score.detector): \(d.summary)") }
            }
        }
        return f.item("ledger metrics vs re-derived metrics", passed: "\(count) metric rows and the detector scores equal bit for bit")
    }

    /// results.json: every detector's overall and breakdown metrics, scores and the leaderboard.
    func resultsItem(_ derived: Loaded<[DetectorScore]>) -> AuditItem {
        var f = Findings()
        var count = 0
        if let scores = f.need(derived), let results = f.need(results) {
            count = scores.count
            for extra in Set(results.detectors.keys).subtracting(scores.map(\.detector)).sorted() {
                f.add("results.json has detector \(extra), which the manifest does not")
            }
            for score in scores {
                guard let recorded = results.detectors[score.detector] else {
                    f.add("results.json has no detector \(score.detector)")
                    continue
                }
                var d = Differences(other: "re-derived ")
                d.compare("overall ", recorded.overall, score.overall)
                d.compare("sn34", recorded.sn34, score.sn34)
                d.compare("coverage", recorded.coverage, score.coverage)
                d.compare("invalidated", recorded.invalidated, score.invalidated)
                d.compare("invalid_reason", recorded.invalidReason, score.invalidReason)
                d.compare("status_counts", recorded.statusCounts, score.statusCounts)
                var expected: [String: [String: BinaryMetrics]] = [:]
                for b in score.breakdowns { expected[b.scope.rawValue, default: [:]][b.key] = b.metrics }
                for scope in Set(expected.keys).union(recorded.breakdowns.keys).sorted() {
                    let want = expected[scope] ?? [:], have = recorded.breakdowns[scope] ?? [:]
                    for key in Set(want.keys).union(have.keys).sorted() {
                        guard let w = want[key], let h = have[key] else {
                            d.items.append("breakdown \(scope)/\(key) \(want[key] == nil ? "is extra" : "is missing")")
                            continue
                        }
                        d.compare("\(scope)/\(key) ", h, w)
                    }
                }
                if !d.items.isEmpty { f.add("results.json detector \(score.detector): \(d.summary)") }
            }
            let ranked = RoundScoring.ranked(scores)
            if results.leaderboard.count != ranked.count {
                f.add("results.json leaderboard has \(results.leaderboard.count) rows, re-derived \(ranked.count)")
            }
            for (i, (row, score)) in zip(results.leaderboard, ranked).enumerated() {
                var d = Differences(other: "re-derived ")
                d.compare("rank", row.rank, i + 1)
                d.compare("detector", row.detector, score.detector)
                d.compare("sn34", row.sn34, score.sn34)
                d.compare("accuracy", row.accuracy, score.overall.accuracy)
                d.compare("mcc", row.mcc, score.overall.mcc)
                d.compare("brier", row.brier, score.overall.brier)
                d.compare("coverage", row.coverage, score.coverage)
                d.compare("invalidated", row.invalidated, score.invalidated)
                if !d.items.isEmpty { f.add("results.json leaderboard rank \(i + 1): \(d.summary)") }
            }
        }
        return f.item("results.json vs re-derived metrics", passed: "\(count) detector(s): metrics, scores and leaderboard equal bit for bit")
    }

    /// The exact text `RunLedger.writeScores` stores for status counts.
    static func statusCountsJSON(_ counts: [String: Int]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: counts, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
