import Foundation
import GASCore
import GASData
import GASDetectors
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
    /// The robustness pass per detector (empty without `augment.robustness_share`).
    public var robustness: [RoundScoring.Robustness] = []
    /// Generator rewards, highest first (empty without generator sources).
    public var generators: [GeneratorScore] = []
    /// Challenge outcomes by status (stored, failed, rejected, timed_out).
    public var challengeCounts: [String: Int] = [:]
}

public struct RunOptions: Sendable {
    /// Overrides the spec's `outputs.directory`.
    public var outputDirectory: String?
    /// Resume this run (an id or a run directory); refused when its plan differs.
    public var resume: String?
    /// Start a new run even when an unfinished run of the same round exists.
    public var forceNew: Bool
    public var observer: any RunObserver
    /// Use this id for the run: a run with this id under the outputs folder is resumed (refused when
    /// its plan differs), otherwise a new run gets it. The validator names runs after occurrences.
    public var runID: String?
    /// Replaces the spec's `round.seed` (the validator derives one per occurrence).
    public var seed: UInt64?
    /// Asked after every committed batch; when it returns true the run stops with
    /// `RunnerError.stopped`, its committed batches kept and its status `interrupted`.
    public var shouldStop: (@Sendable () -> Bool)?
    /// Where outcomes are committed; overrides the spec's `outputs.ledger`. nil: the spec's choice,
    /// else the run directory's run.sqlite.
    public var ledger: LedgerURL?
    /// How a PostgreSQL ledger retries a transaction cut off by a lost connection.
    public var ledgerRetry: PostgresRunLedger.RetryPolicy = .standard
    /// Plan from the data even when the run being resumed recorded a plan of unchanged inputs.
    public var replan = false
    public init(outputDirectory: String? = nil, resume: String? = nil, forceNew: Bool = false,
                observer: any RunObserver = SilentObserver(), runID: String? = nil, seed: UInt64? = nil,
                shouldStop: (@Sendable () -> Bool)? = nil, ledger: LedgerURL? = nil) {
        self.ledger = ledger
        self.outputDirectory = outputDirectory
        self.resume = resume
        self.forceNew = forceNew
        self.observer = observer
        self.runID = runID
        self.seed = seed
        self.shouldStop = shouldStop
    }
}

/// The library function behind `gascli run`: spec -> plan -> execute -> score -> files.
///
/// A run is resumable: outcomes are committed batch by batch, and running the same spec again
/// continues the newest unfinished run of that round when its plan (manifest hash) is unchanged.
public enum RoundRunner {
    public static func run(specPath: String, options: RunOptions = RunOptions()) async throws -> RunSummary {
        FreedMemory.mapLargeBlocks()
        var directory = options.outputDirectory ?? "the outputs folder"
        do {
            return try await execute(specPath: specPath, options: options, directory: &directory)
        } catch {
            // A full disk is named as such, with the fix; everything committed stays resumable.
            if DiskFull.matches(error) { throw RunnerError.diskFull(path: directory, detail: "\(error)") }
            throw error
        }
    }

    /// `directory` follows the run: the outputs folder once planned, then the run directory.
    static func execute(specPath: String, options: RunOptions, directory: inout String) async throws -> RunSummary {
        let observer = options.observer
        let clock = ContinuousClock()
        let began = clock.now

        var loaded = try SpecLoader.load(path: specPath)
        if let seed = options.seed { loaded.spec.round.seed = seed }
        let outputs = RoundPlanner.outputsDirectory(loaded, outputsOverride: options.outputDirectory)
        let snapshots = try await GeneratorRound.prepare(loaded: loaded, outputs: outputs, options: options)
        let ledgerChoice = options.ledger ?? loaded.spec.outputs.ledgerURL ?? .sqlite
        let reuse = snapshots.isEmpty && !options.replan && ledgerChoice == .sqlite
            ? resumeCandidate(round: loaded.spec.round.name, outputs: outputs, options: options) : nil
        // Predictions tables are read on another thread: beside the plan when a recorded plan may be
        // reused (quick to read, and the tables are needed right after), else once the datasets are
        // read (reading them holds the most memory; the tables would add to it), beside the
        // manifest's hashing, which leaves part of a core idle. The detectors start once they are read.
        let specAsLoaded = loaded
        func startPreload() -> BackgroundValue<[String: PredictionTable]> {
            BackgroundValue { PredictionsTable.preload(specAsLoaded.spec.detectors, loaded: specAsLoaded) }
        }
        var early = reuse == nil ? nil : startPreload()
        let planned = try RoundPlanner.plan(loaded, outputsOverride: options.outputDirectory, observer: observer,
                                            generatorMedia: snapshots.isEmpty ? nil : snapshots.mapValues(\.media), reuse: reuse,
                                            draftManifest: true, samplesRead: { early = early ?? startPreload() })
        // Moved into the run directory once it is known; whatever happens before, not left behind.
        let draft = planned.manifestDraft
        defer { if let draft { try? FileManager.default.removeItem(atPath: draft) } }
        let preloading = early ?? startPreload()
        if let from = planned.reusedFrom {
            observer.handle(.note("plan of \((from as NSString).lastPathComponent) reused: spec, catalogs, dataset files and detectors are unchanged since it was planned (--replan reads the data again)"))
        }
        let challenges = snapshots.keys.sorted().flatMap { snapshots[$0]!.challenges }
        for w in planned.warnings { observer.handle(.warning(w)) }
        directory = planned.outputs
        FaultInjection.reach(.planned)

        // The ledger: the run directory's run.sqlite, or a shared PostgreSQL database (--ledger or outputs.ledger).
        var shared: PostgresRunLedger?
        if case let .postgres(server) = ledgerChoice {
            guard snapshots.isEmpty else { throw RunnerError.ledgerUnsupported(url: server.redacted, what: "rounds with generator sources (their challenges are kept in the run's run.sqlite); run this round with the default SQLite ledger") }
            shared = try await PostgresRunLedger.open(server, retry: options.ledgerRetry)
        }
        do {
            let summary = try await run(loaded: loaded, planned: planned, snapshots: snapshots, challenges: challenges, shared: shared,
                                        preloading: preloading, options: options, clock: clock, began: began, directory: &directory)
            await shared?.close()
            FreedMemory.releaseInBackground(consume planned)
            return summary
        } catch {
            await shared?.close()
            throw error
        }
    }

    static func run(loaded: LoadedSpec, planned: RoundPlanner.Planned, snapshots: [Int: GeneratorSnapshot],
                    challenges: [ChallengeRecord], shared: PostgresRunLedger?, preloading: BackgroundValue<[String: PredictionTable]>,
                    options: RunOptions,
                    clock: ContinuousClock, began: ContinuousClock.Instant, directory: inout String) async throws -> RunSummary {
        let observer = options.observer
        let plan = planned.plan
        let target: (id: String, directory: String)
        if let shared {
            target = try await chooseSharedRun(plan: plan, manifestHash: planned.manifestHash, outputs: planned.outputs, options: options, ledger: shared)
        } else {
            target = try chooseRun(plan: plan, manifestHash: planned.manifestHash, outputs: planned.outputs, options: options)
        }
        let runID = target.id
        let runDirectory = target.directory
        directory = runDirectory
        let logDirectory = (runDirectory as NSString).appendingPathComponent("logs")
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw RunnerError.outputs(path: runDirectory, reason: error.localizedDescription)
        }
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }

        let lock = try RunLock(runDirectory: runDirectory)
        defer { withExtendedLifetime(lock) {} }
        let ledger: any OutcomeLedger
        // A local ledger's files are written out as the round goes (see LedgerWriteback).
        var writeback: LedgerWriteback?
        defer { writeback?.stop() }
        if let shared {
            ledger = shared
            // Where this run's outcomes are, for the commands that read the run directory (no password).
            var server = shared.server
            server.password = nil
            try AtomicFile.write(try SharedLedgerPointer(url: server.redacted, runID: runID).encoded(), to: file(SharedLedgerPointer.fileName))
        } else {
            ledger = try RunLedger(path: file("run.sqlite"))
            writeback = LedgerWriteback(databasePath: file("run.sqlite"))
        }
        // On disk before the run is recorded, so a recorded run always has its manifest: the copy
        // written while the plan was hashed, moved here, or else written on another thread while
        // the run is recorded, and waited for before its commit. A process joining a shared
        // run on another machine writes its own copy (the same bytes: same hash).
        // The order the samples are recorded in and go to the detectors in, sorted once.
        let executionOrder = planned.executionOrder ?? ExecutionOrder.positions(of: plan.samples)
        let fm = FileManager.default
        let manifestPath = file("manifest.json")
        let moved = !fm.fileExists(atPath: manifestPath) && planned.manifestDraft.map { rename($0, manifestPath) == 0 } ?? false
        let manifestWrite = moved || fm.fileExists(atPath: manifestPath) ? nil
            : BackgroundValue { Result<Void, any Error> { _ = try plan.writeCanonicalJSON(to: manifestPath) } }
        func manifestOnDisk() throws { try manifestWrite?.take()?.get() }  // once: later calls find it taken
        if !fm.fileExists(atPath: file("spec.yaml")) { try AtomicFile.write(Data(loaded.text.utf8), to: file("spec.yaml")) }
        let resolvedSpec = String(decoding: try JSONEncoder.sorted.encode(plan.spec), as: UTF8.self)
        let detectorRecords = plan.detectors.map { d in
            DetectorRecord(name: d.spec.name, adapter: d.spec.adapter.rawValue,
                           configJSON: String(decoding: (try? JSONEncoder.sorted.encode(d.spec)) ?? Data(), as: UTF8.self),
                           artifactSHA256: d.artifactSHA256)
        }
        let startedAt: String
        var resumed = false
        let record = RunRecord(id: runID, roundName: plan.spec.round.name, specPath: loaded.path, specText: loaded.text,
                               resolvedSpecJSON: resolvedSpec, manifestHash: planned.manifestHash, toolVersion: ToolInfo.version,
                               seed: plan.spec.round.seed, startedAt: timestamp(Date()))
        let opened: OpenedRun
        do {
            if let sqlite = ledger as? RunLedger {
                opened = try sqlite.openRun(record, samples: plan.samples, detectors: detectorRecords, executionOrder: executionOrder,
                                            withSamples: false, beforeCommit: manifestOnDisk)
            } else {
                try manifestOnDisk()
                opened = try await ledger.openRun(record, samples: plan.samples, detectors: detectorRecords)
            }
            try manifestOnDisk()  // a run found already recorded did not wait for it
        } catch {
            _ = manifestWrite?.take()  // no writer left running behind the error
            throw error
        }
        switch opened {
        case let .existing(existing):
            startedAt = existing.startedAt
            try await ledger.markRunning(id: runID)
            resumed = true
        case .created:
            guard let created = try await ledger.run(id: runID) else { throw StoreError.corrupt(path: ledger.location, what: "run \(runID) was recorded but cannot be read back") }
            startedAt = created.startedAt
            if !snapshots.isEmpty, let sqlite = ledger as? RunLedger {
                for snapshot in snapshots.values { for c in snapshot.collections { try sqlite.createCollection(c) } }
                try sqlite.upsertChallenges(challenges, runID: runID)
                try sqlite.importRejections(snapshots.keys.sorted().flatMap { snapshots[$0]!.rejections })
            }
            observer.handle(.note("run \(runID): \(plan.samples.count) samples x \(plan.detectors.count) detectors, manifest \(planned.manifestHash.prefix(16))"
                                  + (shared.map { ", ledger \($0.location)" } ?? "")))
        }

        // What the plan was made from, so that resuming this run can take the plan back from the
        // ledger: written once every sample is recorded there.
        var inputs: PlanInputs?
        if shared == nil, planned.reusedFrom == nil, let fingerprint = planned.inputsFingerprint {
            inputs = PlanInputs(fingerprint: fingerprint, manifestHash: planned.manifestHash, skippedDatasets: plan.skippedDatasets,
                                warnings: planned.warnings, mediaStamp: PlanInputs.mediaStamp(outputs: planned.outputs),
                                sampleCount: plan.samples.count)
        }
        // A new run's samples (or those a killed recording left out) are recorded on a thread of
        // their own while the detectors run: a million rows took 3 s of the one writer before the
        // first batch. Every way out of the run waits for the recording to end.
        var sampleRecording: BackgroundValue<Result<Void, any Error>>?
        func samplesMissing(_ sqlite: RunLedger) throws -> Bool {
            if !resumed { return true }
            if planned.reusedFrom == runDirectory { return false }  // the plan was read back from them
            return try sqlite.count("samples", runID: runID) < plan.samples.count
        }
        // plan-inputs.json last, naming the samples' quick copy (a copy that cannot be written is
        // left out: the ledger's rows are read instead).
        let samples = plan.samples, planInputs = inputs
        @Sendable func noteInputs() throws {
            guard var inputs = planInputs else { return }
            inputs.samplesSHA256 = try? PlanSamplesFile.write(samples, executionOrder: executionOrder, directory: runDirectory)
            try inputs.write(directory: runDirectory)
        }
        if shared == nil, let sqlite = ledger as? RunLedger, try samplesMissing(sqlite) {
            sampleRecording = BackgroundValue {
                Result {
                    try sqlite.recordSamples(samples, order: executionOrder, runID: runID)
                    try noteInputs()
                }
            }
        } else {
            try noteInputs()
        }
        defer { _ = sampleRecording?.take() }
        /// Waits for the samples to be recorded and the plan's inputs noted (a failure fails the run).
        func samplesRecorded() throws {
            guard let recording = sampleRecording else { return }
            sampleRecording = nil
            try recording.take()?.get()
        }
        FaultInjection.reach(.recorded)
        // What is already committed, per detector, as a mask over the plan (a resumed run skips it).
        let progress: CommittedProgress
        // A fresh run on a local ledger commits every outcome in this process: their grid is kept as
        // they are committed, and the run is scored from it without reading them back.
        var recorder: OutcomeGridRecorder?
        if planned.reusedFrom == runDirectory, let recorded = planned.recordedProgress?.take() ?? nil, let sqlite = ledger as? RunLedger,
           try sqlite.outcomeWatermark() == recorded.watermark {
            progress = recorded.progress  // nothing committed since it was read with the plan
        } else if !resumed && shared == nil {
            progress = CommittedProgress(masks: [:], lastBatch: [:])  // recorded just now, under this process's lock
            recorder = OutcomeGridRecorder(sampleIDs: SampleIDs(of: plan.samples), detectors: plan.detectors.map(\.spec.name))
        } else {
            progress = try await ledger.committedProgress(runID: runID, sampleIDs: SampleIDs(of: plan.samples))
        }
        let (committed, lastBatch) = (progress.masks, progress.lastBatch)
        let done = committed.mapValues { $0.filter { $0 }.count }
        if resumed {
            observer.handle(.note("resuming run \(runID): \(done.values.reduce(0, +)) of \(plan.samples.count * plan.detectors.count) outcomes already committed, manifest \(planned.manifestHash.prefix(16))"))
        }
        var jobs: [RoundExecutor.DetectorJob] = []
        // Tables of detectors with nothing left to do are dropped unused.
        var preloaded = preloading.take() ?? [:]
        for d in plan.detectors {
            let remaining = plan.samples.count - (done[d.spec.name] ?? 0)
            if remaining == 0 {
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: nil, setupFailure: nil))
                continue
            }
            do {
                let adapter = try DetectorFactory.make(d.spec, loaded: loaded, modalities: plan.spec.round.modalities, logDirectory: logDirectory,
                                                       preloaded: preloaded[d.spec.name])
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: adapter))
            } catch {
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: nil, setupFailure: "\(error)"))
            }
        }
        preloaded.removeAll()
        let store = MediaStore(root: planned.outputs)
        do {
            try await RoundExecutor.run(jobs: jobs, samples: plan.samples, store: store, ledger: ledger, runID: runID,
                                        committed: committed, lastBatch: lastBatch, observer: observer,
                                        shouldStop: options.shouldStop, executionOrder: executionOrder, recorder: recorder)
            try samplesRecorded()
        } catch RunnerError.stopped {
            try? samplesRecorded()  // a stopped run resumes from its recorded plan
            try? await ledger.finishRun(id: runID, status: "interrupted", finishedAt: timestamp(Date()))
            throw RunnerError.stopped
        } catch let error as PostgresLedgerError {
            // The ledger cannot be reached to record the failure; a rerun resumes the run all the same.
            throw error
        } catch {
            try? samplesRecorded()
            try? await ledger.finishRun(id: runID, status: "failed", finishedAt: timestamp(Date()))
            throw error
        }

        jobs.removeAll()  // the adapters (and predictions tables) are done; free them before finishing
        (ledger as? RunLedger)?.checkpointSoon()
        // What the detectors' threads and the grid's scan freed goes back before scoring, the last peak.
        FreedMemory.release()
        let grid: OutcomeGrid
        if let recorder { grid = recorder.grid() } else { grid = try await ledger.outcomeGrid(runID: runID, sampleIDs: SampleIDs(of: plan.samples)) }
        recorder = nil
        FreedMemory.release()
        let finishedAt = timestamp(Date())
        let elapsed = clock.now - began
        let duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (scores, generatorScores, robustness) = try await RunFinalizer.finalize(
            runID: runID, runDirectory: runDirectory, plan: plan, manifestHash: planned.manifestHash, specPath: loaded.path, ledger: ledger,
            grid: grid, startedAt: startedAt, finishedAt: finishedAt, durationSeconds: duration, challenges: snapshots.isEmpty ? nil : challenges)
        FaultInjection.reach(.finishing)
        try await ledger.finishRun(id: runID, status: "completed", finishedAt: finishedAt)
        var summary = RunSummary(runID: runID, runDirectory: runDirectory, manifestHash: planned.manifestHash, scores: RoundScoring.ranked(scores),
                          sampleCount: plan.samples.count, skippedInputs: plan.samples.indices.reduce(0) { $0 + (plan.samples[$1].skipReason != nil ? 1 : 0) },
                          outcomeCounts: grid.statusCounts,
                          files: RunFinalizer.files(runDirectory), warnings: planned.warnings, durationSeconds: duration,
                          generators: generatorScores, challengeCounts: Dictionary(grouping: challenges, by: \.status).mapValues(\.count))
        summary.robustness = robustness
        return summary
    }

    /// The run directory `chooseRun` would resume if the plan is unchanged: the one `--run-id` or
    /// `--resume` names, else the newest unfinished run of the round (none with `--new`).
    static func resumeCandidate(round: String, outputs: String, options: RunOptions) -> String? {
        if let id = options.runID { return (PathResolutionShim.absolute(outputs) as NSString).appendingPathComponent(id) }
        if let resume = options.resume { return try? RunIndex.locate(resume, outputs: outputs) }
        if options.forceNew { return nil }
        return (try? RunIndex.list(outputs: outputs, counting: false))?.last(where: { $0.roundName == round && $0.status != "completed" })?.directory
    }

    /// New run, explicit resume, or automatic resume of the newest unfinished run of the round.
    static func chooseRun(plan: RunPlan, manifestHash: String, outputs: String, options: RunOptions) throws -> (id: String, directory: String) {
        if let id = options.runID {
            let directory = (PathResolutionShim.absolute(outputs) as NSString).appendingPathComponent(id)
            if let entry = try RunIndex.entry(directory: directory, counting: false) {
                if entry.manifestHash != manifestHash {
                    throw RunnerError.resumeRefused(run: entry.id, changes: describeChanges(directory: directory, new: plan))
                }
                return (entry.id, directory)
            }
            return (id, directory)
        }
        if let resume = options.resume {
            let directory = try RunIndex.locate(resume, outputs: outputs)
            guard let entry = try RunIndex.entry(directory: directory, counting: false) else {
                throw RunnerError.unknownRun(run: resume, hint: "\(directory) holds no recorded run")
            }
            if entry.manifestHash != manifestHash {
                throw RunnerError.resumeRefused(run: entry.id, changes: describeChanges(directory: directory, new: plan))
            }
            return (entry.id, directory)
        }
        if !options.forceNew,
           let unfinished = try RunIndex.list(outputs: outputs, counting: false).last(where: { $0.roundName == plan.spec.round.name && $0.status != "completed" }) {
            if unfinished.manifestHash == manifestHash { return (unfinished.id, unfinished.directory) }
            throw RunnerError.unfinishedRunDiffers(run: unfinished.id, changes: describeChanges(directory: unfinished.directory, new: plan))
        }
        if !options.forceNew, let shell = RunIndex.unrecordedDirectory(outputs: outputs, round: plan.spec.round.name,
                                                                       hashPrefix: String(manifestHash.prefix(8))) {
            // A run killed before its first record: reuse its folder rather than leave it behind.
            return ((shell as NSString).lastPathComponent, shell)
        }
        let id = "\(plan.spec.round.name)-\(compactTimestamp(Date()))-\(manifestHash.prefix(8))"
        return (id, (outputs as NSString).appendingPathComponent(id))
    }

    /// The same choice with a shared PostgreSQL ledger, where the runs are rows of the database
    /// rather than folders: a given run id joins (or creates) that run, `resume` names a recorded
    /// run, and otherwise the newest unfinished run of the round with this plan is continued.
    /// Processes that must join one run (shards on several machines) pass the same `runID`.
    static func chooseSharedRun(plan: RunPlan, manifestHash: String, outputs: String, options: RunOptions,
                                ledger: PostgresRunLedger) async throws -> (id: String, directory: String) {
        func directory(_ id: String) -> String { (PathResolutionShim.absolute(outputs) as NSString).appendingPathComponent(id) }
        func changes(_ recorded: RunRecord) -> [String] {
            let local = directory(recorded.id)
            if FileManager.default.fileExists(atPath: (local as NSString).appendingPathComponent("manifest.json")) {
                return describeChanges(directory: local, new: plan)
            }
            return ["recorded manifest \(recorded.manifestHash.prefix(16)), this plan \(manifestHash.prefix(16)) (no manifest.json of the run on this machine to compare)"]
        }
        if let id = options.runID {
            if let recorded = try await ledger.run(id: id), recorded.manifestHash != manifestHash {
                throw RunnerError.resumeRefused(run: id, changes: changes(recorded))
            }
            return (id, directory(id))
        }
        if let resume = options.resume {
            let id = (resume as NSString).lastPathComponent
            guard let recorded = try await ledger.run(id: id) else {
                throw RunnerError.unknownRun(run: resume, hint: "the PostgreSQL ledger at \(ledger.location) holds no run \(id)")
            }
            if recorded.manifestHash != manifestHash { throw RunnerError.resumeRefused(run: id, changes: changes(recorded)) }
            return (id, directory(id))
        }
        if !options.forceNew, let unfinished = try await ledger.unfinishedRun(round: plan.spec.round.name) {
            if unfinished.manifestHash == manifestHash { return (unfinished.id, directory(unfinished.id)) }
            throw RunnerError.unfinishedRunDiffers(run: unfinished.id, changes: changes(unfinished))
        }
        let id = "\(plan.spec.round.name)-\(compactTimestamp(Date()))-\(manifestHash.prefix(8))"
        return (id, directory(id))
    }

    /// A run killed between creating its database and recording the run leaves a directory with a
    /// run.sqlite but no run in it, which no listing shows. The same plan run again adopts it
    /// (same round, same manifest hash prefix in the name) instead of leaving it behind.
    static func abandonedDirectory(round: String, manifestHash: String, outputs: String) -> (id: String, directory: String)? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outputs) else { return nil }
        let prefix = round + "-", suffix = "-" + manifestHash.prefix(8)
        for name in names.sorted().reversed() where name.hasPrefix(prefix) && name.hasSuffix(suffix)
            && name.count == prefix.count + "yyyyMMdd-HHmmss".count + suffix.count {
            let directory = (outputs as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("run.sqlite")) else { continue }
            if (try? RunIndex.entry(directory: directory)) ?? nil == nil { return (name, directory) }
        }
        return nil
    }

    static func describeChanges(directory: String, new: RunPlan) -> [String] {
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: path), let old = try? JSONDecoder().decode(RunPlan.self, from: data) else {
            return ["the stored manifest \(path) is missing or unreadable"]
        }
        return PlanDiff.describe(old: old, new: new)
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


