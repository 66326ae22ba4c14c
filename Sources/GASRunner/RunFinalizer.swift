import Foundation
import GASCore
import GASData
import GASStore

/// outcomes -> scores -> files: the last step of a run, shared by fresh and resumed runs.
/// Every file is written beside its final name and renamed into place.
enum RunFinalizer {
    static func finalize(runID: String, runDirectory: String, plan: RunPlan, manifestHash: String, specPath: String,
                         ledger: any OutcomeLedger, grid: OutcomeGrid, startedAt: String, finishedAt: String,
                         durationSeconds: Double, challenges: [ChallengeRecord]? = nil) async throws -> Finished {
        // predictions.parquet needs no score: it is written on a thread of its own while the
        // detectors are scored (each of the two left a core mostly idle).
        let predictions = BackgroundValue {
            Result { try writePredictions(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: manifestHash, grid: grid) }
        }
        defer { _ = predictions.take() }  // every way out waits for the file
        // Scores come from what the ledger holds, so live runs and rescoring read the same rows.
        let scores = score(plan: plan, grid: grid)
        try await ledger.writeScores(runID: runID, scores: scores)
        // The other files and the results document are made while predictions.parquet is still
        // being written; results.json, which says the run is complete, waits for it.
        return try writeFiles(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: manifestHash, specPath: specPath, ledger: ledger,
                              grid: grid, scores: scores, startedAt: startedAt, finishedAt: finishedAt,
                              durationSeconds: durationSeconds, challenges: challenges,
                              predictionsWritten: { try predictions.take()?.get() })
    }

    static func writePredictions(runID: String, runDirectory: String, plan: RunPlan, manifestHash: String, grid: OutcomeGrid) throws {
        try ResultFiles.writePredictions(path: (runDirectory as NSString).appendingPathComponent("predictions.parquet"), runID: runID,
                                         samples: plan.samples, grid: grid, metadata: metadata(runID: runID, manifestHash: manifestHash))
    }

    /// Key-value metadata of the run's Parquet files.
    static func metadata(runID: String, manifestHash: String) -> [(String, String)] {
        [("gascli.run_id", runID), ("gascli.manifest_hash", manifestHash), ("gascli.tool_version", ToolInfo.version)]
    }

    typealias Finished = (detectors: [DetectorScore], generators: [GeneratorScore], robustness: [RoundScoring.Robustness])

    /// The same with the SQLite ledger, for callers that are not async (`gascli merge`).
    static func finalize(runID: String, runDirectory: String, plan: RunPlan, manifestHash: String, specPath: String,
                         ledger: RunLedger, grid: OutcomeGrid, startedAt: String, finishedAt: String,
                         durationSeconds: Double, challenges: [ChallengeRecord]? = nil) throws -> Finished {
        let scores = score(plan: plan, grid: grid)
        try ledger.writeScores(runID: runID, scores: scores)
        return try writeFiles(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: manifestHash, specPath: specPath, ledger: ledger,
                              grid: grid, scores: scores, startedAt: startedAt, finishedAt: finishedAt,
                              durationSeconds: durationSeconds, challenges: challenges)
    }

    static func score(plan: RunPlan, grid: OutcomeGrid) -> [DetectorScore] {
        RoundScoring.score(samples: plan.samples, grid: grid, detectors: plan.detectors.map(\.spec.name),
                           rule: plan.spec.scoring, seed: plan.spec.round.seed)
    }

    /// `predictionsWritten`: waits for predictions.parquet written elsewhere (nil: written here first).
    static func writeFiles(runID: String, runDirectory: String, plan: RunPlan, manifestHash: String, specPath: String,
                           ledger: any OutcomeLedger, grid: OutcomeGrid, scores: [DetectorScore], startedAt: String,
                           finishedAt: String, durationSeconds: Double, challenges: [ChallengeRecord]?,
                           predictionsWritten: (() throws -> Void)? = nil) throws -> Finished {
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }
        // Full outcome records only where they are needed: generator media and robustness copies.
        // By index: iterating the samples themselves copies each one, retaining every string in it.
        let needsRecords = challenges != nil || plan.samples.indices.contains { RobustnessAugmentation.isCopy(plan.samples[$0].sampleURI) }
        let outcomes = needsRecords ? grid.outcomes() : []
        var generatorScores: [GeneratorScore] = []
        if let challenges, let sqlite = ledger as? RunLedger {
            generatorScores = GeneratorRound.scores(samples: plan.samples, outcomes: outcomes, challenges: challenges)
            try sqlite.writeGeneratorScores(runID: runID, scores: generatorScores)
        }
        let robustness = needsRecords ? RoundScoring.robustness(samples: plan.samples, outcomes: outcomes, scores: scores, rule: plan.spec.scoring) : []
        if predictionsWritten == nil {
            try writePredictions(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: manifestHash, grid: grid)
        }
        try ResultFiles.writeMetrics(path: file("metrics.parquet"), runID: runID, scores: scores,
                                     metadata: metadata(runID: runID, manifestHash: manifestHash))
        let document = ResultsDocument.make(
            run: .init(id: runID, round: plan.spec.round.name, manifestHash: manifestHash, toolVersion: ToolInfo.version,
                       spec: specPath, startedAt: startedAt, finishedAt: finishedAt, durationSeconds: durationSeconds, status: "completed"),
            plan: plan, outcomeCounts: grid.statusCounts, robustness: robustness, scores: scores, generators: challenges == nil ? nil : generatorScores,
            challenges: challenges,
            files: Dictionary(files(runDirectory).map { ($0.label, ($0.path as NSString).lastPathComponent) }, uniquingKeysWith: { a, _ in a }))
        let results = try document.encoded()
        try predictionsWritten?()  // waits for the file written on another thread; its error is the run's
        try AtomicFile.write(results, to: file("results.json"), fault: .resultsWriting)
        return (scores, generatorScores, robustness)
    }

    static func files(_ runDirectory: String) -> [(label: String, path: String)] {
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }
        return [
            ("results", file("results.json")), ("predictions", file("predictions.parquet")), ("metrics", file("metrics.parquet")),
            // A run in a shared PostgreSQL ledger has ledger.json, saying where, instead of run.sqlite.
            ("database", FileManager.default.fileExists(atPath: file(SharedLedgerPointer.fileName)) ? file(SharedLedgerPointer.fileName) : file("run.sqlite")),
            ("manifest", file("manifest.json")), ("logs", file("logs")),
        ]
    }
}
