import Foundation
import GASCore
import GASStore

/// The library function behind `gascli merge`: the finished parts of one sharded run become one
/// run in the run directory (run.sqlite, predictions.parquet, metrics.parquet, results.json),
/// scored exactly as an unsharded run of the same plan is. The parts are left as they were, so a
/// merge can be repeated.
public enum ShardMerge {
    /// `parts`: part directories to merge; empty means every part under `<run dir>/shards/`.
    public static func merge(runDirectory given: String, parts given2: [String] = [], observer: any RunObserver = SilentObserver(),
                             environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> RunSummary {
        FreedMemory.mapLargeBlocks()
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

        let infos = try readInfos(runDirectory: runDirectory, explicit: given2.map(PathResolutionShim.absolute))
        let ledgers = Dictionary(grouping: infos, by: { $0.info.ledger ?? "sqlite" })
        if ledgers.count > 1 {
            throw ShardError.unreadablePart(path: infos.map(\.path).joined(separator: ", "), reason: "the parts keep their outcomes in different ledgers ("
                                            + ledgers.keys.sorted().map { "\($0): \((ledgers[$0] ?? []).map(\.path).joined(separator: ", "))" }.joined(separator: "; ")
                                            + "); merge parts of one run only")
        }
        if let url = infos.first?.info.ledger {
            guard case let .postgres(server) = try LedgerURL.parse(url) else {
                throw ShardError.unreadablePart(path: infos[0].path, reason: "its shard.json names the ledger \(url), which is not a PostgreSQL URL")
            }
            let ledger = try await PostgresRunLedger.open(server, environment: environment)
            do {
                let summary = try await mergeShared(runDirectory: runDirectory, plan: plan, hash: hash, runID: runID, infos: infos,
                                                    ledger: ledger, observer: observer, began: began)
                await ledger.close()
                return summary
            } catch {
                await ledger.close()
                throw error
            }
        }
        let parts = try readParts(infos)
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
        let order = ExecutionOrder.positions(of: plan.samples)
        for part in parts.sorted(by: { $0.info.index < $1.info.index }) {
            let mine = Set(order[part.info.firstSample..<part.info.endSample].map { plan.samples[$0].id })
            try ledger.commit(runID: runID, outcomes: part.outcomes.filter { mine.contains($0.sampleID) })
            observer.handle(.note("merged shard \(part.info.index)/\(part.info.count) from \(part.path): \(part.outcomes.count) outcomes"))
        }
        let grid = try await ledger.outcomeGrid(runID: runID, sampleIDs: SampleIDs(of: plan.samples))
        let expected = plan.samples.count * plan.detectors.count
        guard grid.count == expected else {
            throw ShardError.incompleteShards(problems: ["the parts hold \(grid.count) of \(expected) outcomes of the plan; rerun the shards to complete them"])
        }
        let finishedAt = RoundRunner.timestamp(Date())
        let elapsed = clock.now - began
        let duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (scores, _, robustness) = try await RunFinalizer.finalize(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: hash,
                                                                specPath: first.specPath, ledger: ledger, grid: grid,
                                                                startedAt: startedAt, finishedAt: finishedAt, durationSeconds: duration)
        try ledger.finishRun(id: runID, status: "completed", finishedAt: finishedAt)
        var summary = RunSummary(runID: runID, runDirectory: runDirectory, manifestHash: hash, scores: RoundScoring.ranked(scores),
                                 sampleCount: plan.samples.count, skippedInputs: plan.samples.filter { $0.skipReason != nil }.count,
                                 outcomeCounts: grid.statusCounts,
                                 files: RunFinalizer.files(runDirectory), warnings: [], durationSeconds: duration)
        summary.robustness = robustness
        return summary
    }

    struct Part {
        var path: String
        var info: ShardPartInfo
        var record: RunRecord
        var status: String
        /// The part's own outcomes (empty for a part in a shared ledger, whose outcomes are read there).
        var outcomes: [DetectorOutcome]
        /// How many (sample, detector) pairs of the part's range are committed.
        var committed: Int
    }

    /// Every part directory (one holding shard.json) under `<run>/shards/`, or the given ones.
    static func readInfos(runDirectory: String, explicit: [String]) throws -> [(path: String, info: ShardPartInfo)] {
        var paths = explicit
        if paths.isEmpty {
            let shards = (runDirectory as NSString).appendingPathComponent("shards")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: shards)) ?? []
            paths = names.sorted().map { (shards as NSString).appendingPathComponent($0) }
                .filter { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent(ShardPartInfo.fileName)) }
        }
        guard !paths.isEmpty else { throw ShardError.noParts(directory: runDirectory) }
        return try paths.map { path in
            guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(ShardPartInfo.fileName)) else {
                throw ShardError.unreadablePart(path: path, reason: "it has no \(ShardPartInfo.fileName); pass a directory under <run>/shards/")
            }
            do { return (path, try JSONDecoder().decode(ShardPartInfo.self, from: data)) } catch {
                throw ShardError.unreadablePart(path: path, reason: "\(ShardPartInfo.fileName): \(error)")
            }
        }
    }

    /// The parts with their own run.sqlite.
    static func readParts(_ infos: [(path: String, info: ShardPartInfo)]) throws -> [Part] {
        try infos.map { path, info in
            do {
                let ledger = try RunLedger(path: (path as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
                guard let record = try ledger.run(id: info.runID) else {
                    throw ShardError.unreadablePart(path: path, reason: "its run.sqlite records no run \(info.runID)")
                }
                var status = record.status
                // Running without a live gascli holding its lock: it was killed.
                if status == "running", (try? RunLock(runDirectory: path)) != nil { status = "interrupted" }
                let outcomes = try ledger.outcomes(runID: info.runID)
                return Part(path: path, info: info, record: record, status: status, outcomes: outcomes, committed: outcomes.count)
            } catch let error as ShardError {
                throw error
            } catch {
                throw ShardError.unreadablePart(path: path, reason: "\(error)")
            }
        }
    }

    /// The parts of a run in a shared PostgreSQL ledger: the run's record and outcomes are in the
    /// database, each part's status in its status.json.
    static func sharedParts(_ infos: [(path: String, info: ShardPartInfo)], record: RunRecord, grid: OutcomeGrid) -> [Part] {
        let order = ExecutionOrder.positions(ofIDs: grid.sampleIDs)
        return infos.map { path, info in
            let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(ShardPartStatus.fileName))
            var status = data.flatMap { try? JSONDecoder().decode(ShardPartStatus.self, from: $0) }?.status ?? "interrupted"
            if status == "running", (try? RunLock(runDirectory: path)) != nil { status = "interrupted" }
            var committed = 0
            let range = max(0, info.firstSample)..<min(grid.sampleIDs.count, max(info.firstSample, info.endSample))
            for d in grid.detectors.indices { for p in order[range] where grid.has(detector: d, position: p) { committed += 1 } }
            return Part(path: path, info: info, record: record, status: status, outcomes: [], committed: committed)
        }
    }

    /// `merge` for parts whose outcomes are in a shared PostgreSQL ledger: the same checks, then
    /// the run's outcomes are read from the database and the files written into the run directory.
    static func mergeShared(runDirectory: String, plan: RunPlan, hash: String, runID: String, infos: [(path: String, info: ShardPartInfo)],
                            ledger: PostgresRunLedger, observer: any RunObserver, began: ContinuousClock.Instant) async throws -> RunSummary {
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }
        guard let record = try await ledger.run(id: runID) else {
            throw ShardError.notARun(directory: runDirectory, reason: "the PostgreSQL ledger \(ledger.location) holds no run \(runID); run the shards first")
        }
        let grid = try await ledger.outcomeGrid(runID: runID, sampleIDs: SampleIDs(of: plan.samples))
        let parts = sharedParts(infos, record: record, grid: grid)
        try check(parts: parts, runDirectory: runDirectory, runID: runID, manifestHash: hash, plan: plan)
        let lock = try RunLock(runDirectory: runDirectory)
        defer { withExtendedLifetime(lock) {} }
        try FileManager.default.createDirectory(atPath: file("logs"), withIntermediateDirectories: true)
        var server = ledger.server
        server.password = nil
        try AtomicFile.write(try SharedLedgerPointer(url: server.redacted, runID: runID).encoded(), to: file(SharedLedgerPointer.fileName))
        for part in parts.sorted(by: { $0.info.index < $1.info.index }) {
            observer.handle(.note("merged shard \(part.info.index)/\(part.info.count) from \(part.path): \(part.committed) outcomes in \(ledger.location)"))
        }
        let expected = plan.samples.count * plan.detectors.count
        guard grid.count == expected else {
            throw ShardError.incompleteShards(problems: ["the ledger holds \(grid.count) of \(expected) outcomes of the plan; rerun the shards to complete them"])
        }
        let finishedAt = RoundRunner.timestamp(Date())
        let elapsed = ContinuousClock().now - began
        let duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (scores, _, robustness) = try await RunFinalizer.finalize(runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: hash,
                                                                      specPath: record.specPath, ledger: ledger as any OutcomeLedger, grid: grid,
                                                                      startedAt: record.startedAt, finishedAt: finishedAt, durationSeconds: duration)
        try await ledger.finishRun(id: runID, status: "completed", finishedAt: finishedAt)
        var summary = RunSummary(runID: runID, runDirectory: runDirectory, manifestHash: hash, scores: RoundScoring.ranked(scores),
                                 sampleCount: plan.samples.count, skippedInputs: plan.samples.filter { $0.skipReason != nil }.count,
                                 outcomeCounts: grid.statusCounts,
                                 files: RunFinalizer.files(runDirectory), warnings: [], durationSeconds: duration)
        summary.robustness = robustness
        return summary
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
            guard part.status != "completed" || part.committed != expected else { continue }
            let state = part.status == "running" ? "still running (a gascli holds its lock)" : "status \(part.status)"
            problems.append("shard \(part.info.index)/\(n) (\(part.path)) is not finished: \(state), \(part.committed) of \(expected) outcomes committed; "
                            + (part.status == "running" ? "wait for it" : "resume it with `\(resume(part.info.index))`"))
        }
        if !problems.isEmpty { throw ShardError.incompleteShards(problems: problems) }
    }
}
