import Crypto
import Foundation
import GASCore
import GASData
import GASSpec
import GASStore

/// What one shard of a round did, for the CLI to print.
public struct ShardSummary: Sendable {
    public var runID: String
    public var runDirectory: String
    public var partDirectory: String
    public var manifestHash: String
    public var shard: Shard
    public var samples: Int
    public var totalSamples: Int
    public var detectors: Int
    public var outcomeCounts: [String: Int]
    public var resumed: Bool
    public var warnings: [String]
    public var durationSeconds: Double
}

/// The library function behind `gascli run SPEC --shard I/N`: plans the whole round (every shard
/// plans the same, so all share one manifest hash), then evaluates only its range of samples into
/// `<run dir>/shards/I-of-N/` (its own run.sqlite, predictions.parquet, logs and lock).
/// Running the same shard again continues its part; `gascli merge` combines the parts.
/// With a PostgreSQL ledger every shard commits into the one shared run in the database instead,
/// and its part keeps only shard.json and status.json.
public enum ShardRunner {
    /// The run id shards use without `--run-id`: the same on every machine for the same plan.
    public static func defaultRunID(round: String, manifestHash: String) -> String {
        "\(round)-\(manifestHash.prefix(8))-sharded"
    }

    public static func partDirectory(runDirectory: String, shard: Shard) -> String {
        ((runDirectory as NSString).appendingPathComponent("shards") as NSString).appendingPathComponent(shard.directoryName)
    }

    public static func run(specPath: String, shard: Shard, options: RunOptions = RunOptions()) async throws -> ShardSummary {
        FreedMemory.mapLargeBlocks()
        let observer = options.observer
        let clock = ContinuousClock()
        let began = clock.now

        var loaded = try SpecLoader.load(path: specPath)
        if let seed = options.seed { loaded.spec.round.seed = seed }
        if loaded.spec.sources.contains(where: { $0.kind == .generator }) { throw ShardError.generatorSources(spec: loaded.path) }
        // With a shared PostgreSQL ledger every shard commits into the one run in the database and
        // keeps only its shard.json and status.json in its part; `gascli merge` reads the database.
        var server: LedgerURL.PostgresLocation?
        if case let .postgres(s) = options.ledger ?? loaded.spec.outputs.ledgerURL ?? .sqlite { server = s }
        let planned = try RoundPlanner.plan(loaded, outputsOverride: options.outputDirectory, observer: observer)
        for w in planned.warnings { observer.handle(.warning(w)) }
        let plan = planned.plan
        let hash = planned.manifestHash

        let runID = options.runID ?? defaultRunID(round: plan.spec.round.name, manifestHash: hash)
        let runDirectory = (PathResolutionShim.absolute(planned.outputs) as NSString).appendingPathComponent(runID)
        let manifestPath = (runDirectory as NSString).appendingPathComponent("manifest.json")
        // The run directory belongs to one plan: a part of another plan is refused before it writes.
        if let entry = try RunIndex.entry(directory: runDirectory), entry.manifestHash != hash {
            throw RunnerError.resumeRefused(run: entry.id, changes: RoundRunner.describeChanges(directory: runDirectory, new: plan))
        }
        if let stored = FileManager.default.contents(atPath: manifestPath), Self.sha256(stored) != hash {
            throw RunnerError.resumeRefused(run: runID, changes: RoundRunner.describeChanges(directory: runDirectory, new: plan))
        }
        let partDirectory = partDirectory(runDirectory: runDirectory, shard: shard)
        let logDirectory = (partDirectory as NSString).appendingPathComponent("logs")
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        } catch {
            var isFolder: ObjCBool = false
            let blocked = [runDirectory, (partDirectory as NSString).deletingLastPathComponent, partDirectory, logDirectory].first {
                FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && !isFolder.boolValue
            }
            throw RunnerError.outputs(path: partDirectory, reason: blocked.map { "\($0) is a file, not a folder; move it away and run the shard again" }
                                      ?? error.localizedDescription)
        }
        func file(_ name: String) -> String { (partDirectory as NSString).appendingPathComponent(name) }
        if !FileManager.default.fileExists(atPath: manifestPath) {
            // Every shard writes the same bytes, each through its own temporary file renamed into
            // place, so concurrent shards are harmless.
            try AtomicFile.write(try plan.canonicalJSON(), to: manifestPath, sharedFolder: true)
            try AtomicFile.write(Data(loaded.text.utf8), to: (runDirectory as NSString).appendingPathComponent("spec.yaml"), sharedFolder: true)
        }

        let lock = try RunLock(runDirectory: partDirectory)
        defer { withExtendedLifetime(lock) {} }
        let ledger: any OutcomeLedger
        var pointer: String?
        if let server {
            ledger = try await PostgresRunLedger.open(server, retry: options.ledgerRetry)
            var clean = server
            clean.password = nil
            pointer = clean.redacted
        } else {
            ledger = try RunLedger(path: file("run.sqlite"))
        }
        do {
            let summary = try await evaluate(loaded: loaded, planned: planned, shard: shard, runID: runID, runDirectory: runDirectory,
                                             partDirectory: partDirectory, ledger: ledger, pointer: pointer, options: options)
            await (ledger as? PostgresRunLedger)?.close()
            let elapsed = clock.now - began
            var result = summary
            result.durationSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return result
        } catch {
            await (ledger as? PostgresRunLedger)?.close()
            throw error
        }
    }

    /// Records the shard's part and evaluates its samples into `ledger` (the part's run.sqlite, or
    /// the shared PostgreSQL run when `pointer`, its URL without password, is set).
    static func evaluate(loaded: LoadedSpec, planned: RoundPlanner.Planned, shard: Shard, runID: String, runDirectory: String,
                         partDirectory: String, ledger: any OutcomeLedger, pointer: String?, options: RunOptions) async throws -> ShardSummary {
        let observer = options.observer
        let plan = planned.plan
        let hash = planned.manifestHash
        func file(_ name: String) -> String { (partDirectory as NSString).appendingPathComponent(name) }
        let logDirectory = file("logs")
        let order = ExecutionOrder.positions(of: plan.samples)
        let range = shard.sampleRange(of: plan.samples.count)
        let samples = order[range].map { plan.samples[$0] }
        let shared = pointer != nil
        if let pointer {
            try AtomicFile.write(try SharedLedgerPointer(url: pointer, runID: runID).encoded(),
                                 to: (runDirectory as NSString).appendingPathComponent(SharedLedgerPointer.fileName), sharedFolder: true)
        }
        func setStatus(_ status: String) throws {
            guard shared else { return }
            try AtomicFile.write(try JSONEncoder.sorted.encode(ShardPartStatus(status: status, updatedAt: RoundRunner.timestamp(Date()))),
                                 to: file(ShardPartStatus.fileName))
        }
        let resolvedSpec = String(decoding: try JSONEncoder.sorted.encode(plan.spec), as: UTF8.self)
        let record = RunRecord(id: runID, roundName: plan.spec.round.name, specPath: loaded.path, specText: loaded.text,
                               resolvedSpecJSON: resolvedSpec, manifestHash: hash, toolVersion: ToolInfo.version,
                               seed: plan.spec.round.seed, startedAt: RoundRunner.timestamp(Date()))
        let partExisted = FileManager.default.fileExists(atPath: file(ShardPartInfo.fileName))
        if partExisted, let data = FileManager.default.contents(atPath: file(ShardPartInfo.fileName)),
           let existing = try? JSONDecoder().decode(ShardPartInfo.self, from: data), existing.ledger != pointer {
            // A part's outcomes are in one ledger only; switching would evaluate the shard again elsewhere.
            throw RunnerError.outputs(path: partDirectory, reason: "this part was started with the ledger \(existing.ledger ?? "sqlite (its run.sqlite)"), not \(pointer ?? "sqlite"); run the shard with that ledger again, or delete the part to start it over")
        }
        if !partExisted {
            let info = ShardPartInfo(runID: runID, manifestHash: hash, index: shard.index, count: shard.count,
                                     firstSample: range.lowerBound, endSample: range.upperBound, spec: loaded.path, ledger: pointer)
            try AtomicFile.write(try JSONEncoder.sorted.encode(info), to: file(ShardPartInfo.fileName))
        }
        let opened: OpenedRun
        do {
            opened = try await ledger.openRun(record, samples: plan.samples, detectors: detectorRecords(plan))
        } catch let mismatch as ManifestMismatch {
            throw RunnerError.resumeRefused(run: runID, changes: ["\(shared ? "the shared ledger \(ledger.location)" : "shard part \(partDirectory)") holds manifest \(mismatch.recorded), this plan is \(hash)"])
        }
        let resumed: Bool
        if case .existing = opened, partExisted || !shared {
            resumed = true
            try await ledger.markRunning(id: runID)
        } else {
            resumed = false
        }
        try setStatus("running")

        let committed = try await ledger.committedPairs(runID: runID)
        let done = plan.detectors.reduce(0) { sum, d in sum + samples.filter { committed[d.spec.name]?.contains($0.id) == true }.count }
        if resumed {
            observer.handle(.note("resuming shard \(shard) of run \(runID): \(done) of \(samples.count * plan.detectors.count) outcomes already committed"))
        } else {
            observer.handle(.note("shard \(shard) of run \(runID): samples \(range.lowerBound)..<\(range.upperBound) of \(plan.samples.count) x \(plan.detectors.count) detectors, manifest \(hash.prefix(16))"
                                  + (shared ? ", ledger \(ledger.location)" : "")))
        }
        var jobs: [RoundExecutor.DetectorJob] = []
        for d in plan.detectors {
            if samples.allSatisfy({ committed[d.spec.name]?.contains($0.id) == true }) {
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: nil, setupFailure: nil))
                continue
            }
            do {
                let adapter = try DetectorFactory.make(d.spec, loaded: loaded, modalities: plan.spec.round.modalities, logDirectory: logDirectory)
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: adapter))
            } catch {
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: nil, setupFailure: "\(error)"))
            }
        }
        // Batches stay on the whole plan's grid (its execution order), so batch numbers match an unsharded run.
        var positions: [String: Int] = [:]
        for p in order where plan.samples[p].skipReason == nil { positions[plan.samples[p].id] = positions.count }
        do {
            // Only this shard's samples: in a shared ledger the other shards' outcomes are theirs.
            let masks = committed.mapValues { done in samples.map { done.contains($0.id) } }
            try await RoundExecutor.run(jobs: jobs, samples: samples, store: MediaStore(root: planned.outputs), ledger: ledger, runID: runID,
                                        committed: masks, observer: observer, shouldStop: options.shouldStop, globalPositions: positions)
        } catch RunnerError.stopped {
            try? setStatus("interrupted")
            if !shared { try? await ledger.finishRun(id: runID, status: "interrupted", finishedAt: RoundRunner.timestamp(Date())) }
            throw RunnerError.stopped
        } catch {
            // The shared run stays open for the other shards; only this part is marked failed.
            try? setStatus("failed")
            if !shared { try? await ledger.finishRun(id: runID, status: "failed", finishedAt: RoundRunner.timestamp(Date())) }
            throw error
        }

        let counts: [String: Int]
        if shared {
            let grid = try await ledger.outcomeGrid(runID: runID, sampleIDs: SampleIDs(of: plan.samples))
            var c: [String: Int] = [:]
            for d in grid.detectors.indices { for p in order[range] { if let s = grid.status(detector: d, position: p) { c[s.rawValue, default: 0] += 1 } } }
            counts = c
            try setStatus("completed")
        } else {
            let outcomes = try await ledger.outcomes(runID: runID)
            let metadata = [("gascli.run_id", runID), ("gascli.manifest_hash", hash), ("gascli.tool_version", ToolInfo.version),
                            ("gascli.shard", shard.description)]
            try ResultFiles.writePredictions(path: file("predictions.parquet"), runID: runID, samples: plan.samples, outcomes: outcomes, metadata: metadata)
            try await ledger.finishRun(id: runID, status: "completed", finishedAt: RoundRunner.timestamp(Date()))
            counts = Dictionary(grouping: outcomes, by: \.status.rawValue).mapValues(\.count)
        }
        return ShardSummary(runID: runID, runDirectory: runDirectory, partDirectory: partDirectory, manifestHash: hash, shard: shard,
                            samples: samples.count, totalSamples: plan.samples.count, detectors: plan.detectors.count,
                            outcomeCounts: counts, resumed: resumed, warnings: planned.warnings, durationSeconds: 0)
    }

    static func detectorRecords(_ plan: RunPlan) -> [DetectorRecord] {
        plan.detectors.map { d in
            DetectorRecord(name: d.spec.name, adapter: d.spec.adapter.rawValue,
                           configJSON: String(decoding: (try? JSONEncoder.sorted.encode(d.spec)) ?? Data(), as: UTF8.self),
                           artifactSHA256: d.artifactSHA256)
        }
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
