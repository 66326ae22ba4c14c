import Foundation
import GASCore
import GASData
import GASSpec
import GASStore

/// What a finished run produced, for the CLI to print.
public struct RunSummary: Sendable {
    public var runID: String
    public var runDirectory: String
    public var manifestHash: String
    public var scores: [DetectorScore]
    public var sampleCount: Int
    public var skippedInputs: Int
    public var outcomeCounts: [String: Int]
    public var files: [(label: String, path: String)]
    public var warnings: [String]
    public var durationSeconds: Double
}

public struct RunOptions: Sendable {
    /// Overrides the spec's `outputs.directory`.
    public var outputDirectory: String?
    public var observer: any RunObserver
    public init(outputDirectory: String? = nil, observer: any RunObserver = SilentObserver()) {
        self.outputDirectory = outputDirectory
        self.observer = observer
    }
}

/// The library function behind `gascli run`: spec -> plan -> execute -> score -> files.
public enum RoundRunner {
    public static func run(specPath: String, options: RunOptions = RunOptions()) async throws -> RunSummary {
        let observer = options.observer
        let clock = ContinuousClock()
        let began = clock.now
        let startedAt = timestamp(Date())

        let loaded = try SpecLoader.load(path: specPath)
        let planned = try RoundPlanner.plan(loaded, outputsOverride: options.outputDirectory, observer: observer)
        for w in planned.warnings { observer.handle(.warning(w)) }
        let plan = planned.plan

        let runID = "\(plan.spec.round.name)-\(compactTimestamp(Date()))-\(planned.manifestHash.prefix(8))"
        let runDirectory = (planned.outputs as NSString).appendingPathComponent(runID)
        let logDirectory = (runDirectory as NSString).appendingPathComponent("logs")
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw RunnerError.outputs(path: runDirectory, reason: error.localizedDescription)
        }
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }

        let manifest = try plan.canonicalJSON()
        try manifest.write(to: URL(fileURLWithPath: file("manifest.json")))
        try Data(loaded.text.utf8).write(to: URL(fileURLWithPath: file("spec.yaml")))

        let ledger = try RunLedger(path: file("run.sqlite"))
        let resolvedSpec = String(decoding: try JSONEncoder.sorted.encode(plan.spec), as: UTF8.self)
        let detectorRecords = plan.detectors.map { d in
            DetectorRecord(name: d.spec.name, adapter: d.spec.adapter.rawValue,
                           configJSON: String(decoding: (try? JSONEncoder.sorted.encode(d.spec)) ?? Data(), as: UTF8.self),
                           artifactSHA256: d.artifactSHA256)
        }
        try ledger.createRun(RunRecord(id: runID, roundName: plan.spec.round.name, specPath: loaded.path, specText: loaded.text,
                                       resolvedSpecJSON: resolvedSpec, manifestHash: planned.manifestHash, toolVersion: ToolInfo.version,
                                       seed: plan.spec.round.seed, startedAt: startedAt),
                             samples: plan.samples, detectors: detectorRecords)
        observer.handle(.note("run \(runID): \(plan.samples.count) samples x \(plan.detectors.count) detectors, manifest \(planned.manifestHash.prefix(16))"))

        var jobs: [RoundExecutor.DetectorJob] = []
        for d in plan.detectors {
            do {
                let adapter = try DetectorFactory.make(d.spec, loaded: loaded, modalities: plan.spec.round.modalities, logDirectory: logDirectory)
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: adapter))
            } catch {
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: nil, setupFailure: "\(error)"))
            }
        }
        let store = MediaStore(root: planned.outputs)
        do {
            try await RoundExecutor.run(jobs: jobs, samples: plan.samples, store: store, ledger: ledger, runID: runID, observer: observer)
        } catch {
            try? ledger.finishRun(id: runID, status: "failed", finishedAt: timestamp(Date()))
            throw error
        }

        // Score from what the ledger holds, so live runs and rescoring read the same rows.
        let outcomes = try ledger.outcomes(runID: runID)
        let scores = RoundScoring.score(samples: plan.samples, outcomes: outcomes, detectors: plan.detectors.map(\.spec.name),
                                        rule: plan.spec.scoring)
        try ledger.writeScores(runID: runID, scores: scores)
        let metadata = [("gascli.run_id", runID), ("gascli.manifest_hash", planned.manifestHash), ("gascli.tool_version", ToolInfo.version)]
        try ResultFiles.writePredictions(path: file("predictions.parquet"), runID: runID, samples: plan.samples, outcomes: outcomes, metadata: metadata)
        try ResultFiles.writeMetrics(path: file("metrics.parquet"), runID: runID, scores: scores, metadata: metadata)

        let finishedAt = timestamp(Date())
        let elapsed = clock.now - began
        let duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        try ledger.finishRun(id: runID, status: "completed", finishedAt: finishedAt)
        let files: [(String, String)] = [
            ("results", file("results.json")), ("predictions", file("predictions.parquet")), ("metrics", file("metrics.parquet")),
            ("database", file("run.sqlite")), ("manifest", file("manifest.json")), ("logs", logDirectory),
        ]
        let document = ResultsDocument.make(
            run: .init(id: runID, round: plan.spec.round.name, manifestHash: planned.manifestHash, toolVersion: ToolInfo.version,
                       spec: loaded.path, startedAt: startedAt, finishedAt: finishedAt, durationSeconds: duration, status: "completed"),
            plan: plan, outcomes: outcomes, scores: scores,
            files: Dictionary(files.map { ($0.0, ($0.1 as NSString).lastPathComponent) }, uniquingKeysWith: { a, _ in a }))
        try document.encoded().write(to: URL(fileURLWithPath: file("results.json")))

        return RunSummary(runID: runID, runDirectory: runDirectory, manifestHash: planned.manifestHash, scores: RoundScoring.ranked(scores),
                          sampleCount: plan.samples.count, skippedInputs: plan.samples.filter { $0.skipReason != nil }.count,
                          outcomeCounts: Dictionary(grouping: outcomes, by: \.status.rawValue).mapValues(\.count),
                          files: files, warnings: planned.warnings, durationSeconds: duration)
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    static func compactTimestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: date)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
