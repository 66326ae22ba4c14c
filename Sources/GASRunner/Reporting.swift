import Foundation
import GASCore
import GASReport
import GASSpec
import GASStore

/// The library behind `gascli report`: gathers a run's stored numbers and predictions, renders
/// them with `GASReport`, and writes the page.
public enum Reporting {
    /// Gathers everything the run report shows. The scores are the stored ones (the numbers of
    /// results.json); for a run that has not finished scoring, they are computed from the outcomes
    /// committed so far.
    public static func loadRun(run: String, outputs: String) throws -> RunReport {
        let directory = try RunIndex.locate(run, outputs: outputs)
        let ledger = try RunLedger(path: (directory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
        guard let runID = try ledger.runIDs().last, let record = try ledger.run(id: runID) else {
            throw RunnerError.unknownRun(run: run, hint: "the database holds no run")
        }
        let status = (try? RunIndex.entry(directory: directory))??.status ?? record.status
        let spec = try JSONDecoder().decode(RoundSpec.self, from: Data(record.resolvedSpecJSON.utf8))
        let rule = spec.scoring
        let samples = try ledger.samples(runID: runID)
        let outcomes = try ledger.outcomes(runID: runID)
        let detectorRecords = try ledger.detectors(runID: runID)
        var scores = try ledger.storedScores(runID: runID)
        if scores.isEmpty {
            scores = RoundScoring.score(samples: samples, outcomes: outcomes, detectors: detectorRecords.map(\.name), rule: rule, seed: record.seed)
        }
        let byName = Dictionary(scores.map { ($0.detector, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = RoundScoring.rows(samples: samples, outcomes: outcomes)
        let outcomesByDetector = Dictionary(grouping: outcomes, by: \.detector)

        let detectors = detectorRecords.compactMap { d -> RunReport.Detector? in
            guard let score = byName[d.name] else { return nil }
            let predictions = (rows[d.name] ?? []).compactMap { Scorer.prediction(for: $0, rule: rule) }
            let labels = predictions.map(\.label), probabilities = predictions.map(\.pAI)
            let mine = outcomesByDetector[d.name] ?? []
            let latencies = mine.filter { $0.status == .ok }.map(\.latencyMs).sorted()
            return RunReport.Detector(
                name: d.name, adapter: d.adapter, artifactSHA256: d.artifactSHA256, score: score,
                roc: ROC.curve(labels: labels, scores: probabilities),
                calibration: Calibration.bins(labels: labels, scores: probabilities),
                failures: failureReasons(mine),
                meanLatencyMs: latencies.isEmpty ? nil : latencies.reduce(0, +) / Double(latencies.count),
                p95LatencyMs: latencies.isEmpty ? nil : Bootstrap.quantile(latencies, 0.95))
        }
        let generators = try ledger.generatorScores(runID: runID)?.map { g in
            RunReport.Generator(generator: g.generator, hotkey: g.hotkey, uid: g.uid, modality: g.modality, challenges: g.challenges,
                                accepted: g.accepted, passRate: g.passRate, foolRate: g.foolRate, samples: g.samples,
                                volumeFactor: g.volumeFactor, resolutionFactor: g.resolutionFactor, foolBonus: g.foolBonus, reward: g.reward)
        }
        return RunReport(
            run: .init(id: runID, round: record.roundName, status: status, manifestHash: record.manifestHash, toolVersion: record.toolVersion,
                       specPath: record.specPath, startedAt: record.startedAt, finishedAt: record.finishedAt, seed: record.seed,
                       outputs: (directory as NSString).deletingLastPathComponent),
            scoring: rule, bootstrap: RoundScoring.bootstrapSettings(seed: record.seed),
            sampleCount: samples.count, skippedInputs: samples.filter { $0.skipReason != nil }.count,
            samplesByLabel: Dictionary(grouping: samples, by: { $0.label == 0 ? "real" : "ai" }).mapValues(\.count),
            samplesByDataset: Dictionary(grouping: samples, by: \.dataset).mapValues(\.count),
            detectors: detectors, generators: generators)
    }

    /// Failed outcomes grouped by status and message, most frequent first.
    static func failureReasons(_ outcomes: [DetectorOutcome]) -> [RunReport.FailureReason] {
        var counts: [String: [String: Int]] = [:]
        for o in outcomes where o.status != .ok {
            counts[o.status.rawValue, default: [:]][o.error ?? "(no message)", default: 0] += 1
        }
        return counts.flatMap { status, reasons in reasons.map { RunReport.FailureReason(status: status, reason: $0.key, count: $0.value) } }
            .sorted { ($1.count, $0.status, $0.reason) < ($0.count, $1.status, $1.reason) }
    }

    /// Writes the run report; returns its path (default `<run directory>/report.html`).
    public static func writeRun(run: String, outputs: String, to file: String?) throws -> String {
        let report = try loadRun(run: run, outputs: outputs)
        let path = file.map(PathResolutionShim.absolute)
            ?? ((report.run.outputs as NSString).appendingPathComponent(report.run.id) as NSString).appendingPathComponent("report.html")
        try write(RunReportPage.render(report), to: path)
        return path
    }

    /// sn34 of every detector in every completed run under `outputs`, oldest first. Weight vectors
    /// come from the validator's state when there is one; none are recorded by a plain run.
    public static func loadHistory(outputs: String, weights: [HistoryReport.WeightVector] = []) throws -> HistoryReport {
        var points: [HistoryReport.Point] = []
        for entry in try RunIndex.list(outputs: outputs) where entry.status == "completed" {
            let ledger = try RunLedger(path: (entry.directory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
            for s in try ledger.detectorScores(runID: entry.id) {
                points.append(.init(runID: entry.id, round: entry.roundName, startedAt: entry.startedAt, detector: s.detector,
                                    sn34: s.sn34, invalidated: s.invalidated))
            }
        }
        return HistoryReport(outputs: PathResolutionShim.absolute(outputs), toolVersion: ToolInfo.version, points: points, weights: weights)
    }

    /// Writes the history page; returns its path (default `<outputs>/history.html`).
    public static func writeHistory(outputs: String, to file: String?, weights: [HistoryReport.WeightVector] = []) throws -> String {
        let history = try loadHistory(outputs: outputs, weights: weights)
        let path = file.map(PathResolutionShim.absolute) ?? (PathResolutionShim.absolute(outputs) as NSString).appendingPathComponent("history.html")
        try write(HistoryPage.render(history), to: path)
        return path
    }

    static func write(_ html: String, to path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(Data(html.utf8), to: path)
        } catch {
            throw RunnerError.outputs(path: path, reason: "cannot write the report: \(error.localizedDescription)")
        }
    }
}
