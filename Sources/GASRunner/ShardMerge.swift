import Foundation
import GASCore
import GASStore

/// The library function behind `gascli merge`: the finished parts of one sharded run become one
/// run in the run directory (run.sqlite, predictions.parquet, metrics.parquet, results.json),
/// scored exactly as an unsharded run of the same plan is. The parts are left as they were, so a
/// merge can be repeated.
public enum ShardMerge {
    /// `parts`: part directories to merge; empty means every part under `<run dir>/shards/`.
    public static func merge(runDirectory given: String, parts given2: [String] = [], observer: any RunObserver = SilentObserver()) throws -> RunSummary {
        let clock = ContinuousClock()
        let began = clock.now
        let runDirectory = PathResolutionShim.absolute(given)
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }
        guard let manifest = FileManager.default.contents(atPath: file("manifest.json")) else {
            throw ShardError.notARun(directory: runDirectory, reason: "it has no manifest.json (shards write it when they start)")
        }
        let plan: RunPlan
        do { plan = try JSONDecoder().decode(RunPlan.self, from: manifest) } catch {
            throw ShardError.notARun(directory: runDirectory, reason: "manifest.json cannot be read: \(error)")
        }
        let hash = ShardRunner.sha256(manifest)
        let runID = (runDirectory as NSString).lastPathComponent

        let parts = try readParts(runDirectory: runDirectory, explicit: given2.map(PathResolutionShim.absolute))
        try check(parts: parts, runDirectory: runDirectory, runID: runID, manifestHash: hash, plan: plan)

        let lock = try RunLock(runDirectory: runDirectory)
        defer { withExtendedLifetime(lock) {} }
        try FileManager.default.createDirectory(atPath: file("logs"), withIntermediateDirectories: true)
        // A merge rebuilds the run from its parts: an earlier (or interrupted) merge is replaced.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file("run.sqlite" + suffix)) }
        let first = parts[0].record
        let ledger = try RunLedger(path: file("run.sqlite"))
        let startedAt = parts.map(\.record.startedAt).min() ?? RoundRunner.timestamp(Date())
        try ledger.createRun(RunRecord(id: runID, roundName: first.roundName, specPath: first.specPath, specText: first.specText,
                                       resolvedSpecJSON: first.resolvedSpecJSON, manifestHash: hash, toolVersion: ToolInfo.version,
                                       seed: first.seed, startedAt: startedAt),
                             samples: plan.samples, detectors: ShardRunner.detectorRecords(plan))
        for part in parts.sorted(by: { $0.info.index < $1.info.index }) {
            let mine = Set(plan.samples[part.info.firstSample..<part.info.endSample].map(\.id))
            try ledger.commit(runID: runID, outcomes: part.outcomes.filter { mine.contains($0.sampleID) })
            observer.handle(.note("merged shard \(part.info.index)/\(part.info.count) from \(part.path): \(part.outcomes.count) outcomes"))
        }
        let outcomes = try ledger.outcomes(runID: runID)
        let expected = plan.samples.count * plan.detectors.count
        guard outcomes.count == expected else {
            throw ShardError.incompleteShards(problems: ["the parts hold \(outcomes.count) of \(expected) outcomes of the plan; rerun the shards to complete them"])
        }
        let finishedAt = RoundRunner.timestamp(Date())
        let elapsed = clock.now - began
        let duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (scores, _) = try RunFinalizer.finalize(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: hash,
                                                    specPath: first.specPath, ledger: ledger, outcomes: outcomes,
                                                    startedAt: startedAt, finishedAt: finishedAt, durationSeconds: duration)
        try ledger.finishRun(id: runID, status: "completed", finishedAt: finishedAt)
        var summary = RunSummary(runID: runID, runDirectory: runDirectory, manifestHash: hash, scores: RoundScoring.ranked(scores),
                                 sampleCount: plan.samples.count, skippedInputs: plan.samples.filter { $0.skipReason != nil }.count,
                                 outcomeCounts: Dictionary(grouping: outcomes, by: \.status.rawValue).mapValues(\.count),
                                 files: RunFinalizer.files(runDirectory), warnings: [], durationSeconds: duration)
        summary.robustness = RoundScoring.robustness(samples: plan.samples, outcomes: outcomes, scores: scores, rule: plan.spec.scoring)
        return summary
    }

    struct Part {
        var path: String
        var info: ShardPartInfo
        var record: RunRecord
        var status: String
        var outcomes: [DetectorOutcome]
    }

    /// Every part directory (one holding shard.json) under `<run>/shards/`, or the given ones.
    static func readParts(runDirectory: String, explicit: [String]) throws -> [Part] {
        var paths = explicit
        if paths.isEmpty {
            let shards = (runDirectory as NSString).appendingPathComponent("shards")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: shards)) ?? []
            paths = names.sorted().map { (shards as NSString).appendingPathComponent($0) }
                .filter { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent(ShardPartInfo.fileName)) }
        }
        guard !paths.isEmpty else { throw ShardError.noParts(directory: runDirectory) }
        return try paths.map { path in
            func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
            guard let data = FileManager.default.contents(atPath: file(ShardPartInfo.fileName)) else {
                throw ShardError.unreadablePart(path: path, reason: "it has no \(ShardPartInfo.fileName); pass a directory under <run>/shards/")
            }
            let info: ShardPartInfo
            do { info = try JSONDecoder().decode(ShardPartInfo.self, from: data) } catch {
                throw ShardError.unreadablePart(path: path, reason: "\(ShardPartInfo.fileName): \(error)")
            }
            do {
                let ledger = try RunLedger(path: file("run.sqlite"), create: false, readOnly: true)
                guard let record = try ledger.run(id: info.runID) else {
                    throw ShardError.unreadablePart(path: path, reason: "its run.sqlite records no run \(info.runID)")
                }
                var status = record.status
                // Running without a live gascli holding its lock: it was killed.
                if status == "running", (try? RunLock(runDirectory: path)) != nil { status = "interrupted" }
                return Part(path: path, info: info, record: record, status: status, outcomes: try ledger.outcomes(runID: info.runID))
            } catch let error as ShardError {
                throw error
            } catch {
                throw ShardError.unreadablePart(path: path, reason: "\(error)")
            }
        }
    }

    /// Refuses parts of other plans, other shard counts, duplicates, gaps and unfinished parts.
    static func check(parts: [Part], runDirectory: String, runID: String, manifestHash: String, plan: RunPlan) throws {
        let foreign = Dictionary(grouping: parts.filter { $0.info.manifestHash != manifestHash || $0.record.manifestHash != manifestHash },
                                 by: { $0.info.manifestHash != manifestHash ? $0.info.manifestHash : $0.record.manifestHash })
            .mapValues { $0.map(\.path) }
        if !foreign.isEmpty {
            throw ShardError.differentManifests(runDirectory: runDirectory, expected: manifestHash, foreign: foreign)
        }
        for part in parts where part.info.runID != runID {
            throw ShardError.unreadablePart(path: part.path, reason: "it is a part of run \(part.info.runID), not of \(runID) (run directories must keep their names)")
        }
        let counts = Dictionary(grouping: parts, by: { String($0.info.count) }).mapValues { $0.map(\.path) }
        if counts.count > 1 { throw ShardError.differentCounts(parts: counts) }
        let n = parts[0].info.count
        for (index, group) in Dictionary(grouping: parts, by: \.info.index) where group.count > 1 {
            throw ShardError.duplicateShards(shard: "\(index)/\(n)", parts: group.map(\.path))
        }
        let spec = parts[0].info.spec
        let outputs = (runDirectory as NSString).deletingLastPathComponent
        func resume(_ index: Int) -> String { "gascli run \(spec) --shard \(index)/\(n) --run-id \(runID) --output \(outputs)" }
        let present = Set(parts.map(\.info.index))
        let missing = (0..<n).filter { !present.contains($0) }
        if !missing.isEmpty {
            throw ShardError.missingShards(shards: missing.map { "\($0)/\(n)" }, count: n, resume: missing.map(resume))
        }
        var problems: [String] = []
        for part in parts.sorted(by: { $0.info.index < $1.info.index }) {
            let range = (try? Shard(index: part.info.index, count: n))?.sampleRange(of: plan.samples.count)
            guard let range, range.lowerBound == part.info.firstSample, range.upperBound == part.info.endSample else {
                problems.append("shard \(part.info.index)/\(n) (\(part.path)) records samples \(part.info.firstSample)..<\(part.info.endSample), not its range of this plan; delete it and run `\(resume(part.info.index))`")
                continue
            }
            let expected = range.count * plan.detectors.count
            guard part.status != "completed" || part.outcomes.count != expected else { continue }
            let state = part.status == "running" ? "still running (a gascli holds its lock)" : "status \(part.status)"
            problems.append("shard \(part.info.index)/\(n) (\(part.path)) is not finished: \(state), \(part.outcomes.count) of \(expected) outcomes committed; "
                            + (part.status == "running" ? "wait for it" : "resume it with `\(resume(part.info.index))`"))
        }
        if !problems.isEmpty { throw ShardError.incompleteShards(problems: problems) }
    }
}
