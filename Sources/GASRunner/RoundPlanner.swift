import Foundation
import GASCore
import GASData
import GASSpec
import GASStore

/// spec -> plan: loads catalogs, collects and stores the samples, identifies the detectors.
public enum RoundPlanner {
    public struct Planned: Sendable {
        public var plan: RunPlan
        public var manifestHash: String
        public var outputs: String
        public var warnings: [String]
        /// The fingerprint of the plan's inputs (`PlanInputs`); nil for rounds with generator sources.
        public var inputsFingerprint: String?
        /// The run directory whose recorded plan was taken instead of planning from the data.
        public var reusedFrom: String?
        /// With `reusedFrom`: that run's committed outcomes, read beside its samples (see `RecordedProgress`).
        var recordedProgress: BackgroundValue<RecordedProgress?>?
        /// The samples' `ExecutionOrder` when it came with reading them.
        var executionOrder: [Int]?
        /// With `draftManifest`: the plan's manifest.json, written while it was hashed, in the
        /// outputs folder for the runner to move into the run directory (`ManifestDraft`).
        var manifestDraft: String?
    }

    /// What a reused run had committed when its plan was read, and the ledger's newest outcome row
    /// then: the runner takes it only when that row is still the newest once the run is locked.
    struct RecordedProgress: Sendable {
        var progress: CommittedProgress
        var watermark: Int64
    }

    /// The outputs folder a spec writes to (`outputs.directory` or `--output`), absolute.
    public static func outputsDirectory(_ loaded: LoadedSpec, outputsOverride: String?) -> String {
        PathResolution.resolve(outputsOverride ?? loaded.spec.outputs.directory, against: FileManager.default.currentDirectoryPath)
    }

    /// `generatorMedia[i]`: the accepted media of generator source i (live: collected before planning;
    /// store: read from the generator store). A live source without media plans no samples.
    /// `reuse`: a run directory whose recorded plan is taken when the inputs' fingerprint equals
    /// the one recorded there (`PlanInputs`); otherwise the round is planned from the data.
    /// `draftManifest`: the manifest is also written to a file while it is hashed (`Planned.manifestDraft`).
    /// `samplesRead`: called once the datasets are read and their buffers freed, before the
    /// manifest is hashed (not when a recorded plan is reused).
    public static func plan(_ loaded: LoadedSpec, outputsOverride: String? = nil, observer: any RunObserver = SilentObserver(),
                            generatorMedia: [Int: [GeneratorMedia]]? = nil, reuse: String? = nil, draftManifest: Bool = false,
                            samplesRead: (() -> Void)? = nil) throws -> Planned {
        let spec = loaded.spec
        let catalog = try CatalogLoader.load(paths: spec.catalogs.map { loaded.resolve($0) })
        let outputs = outputsDirectory(loaded, outputsOverride: outputsOverride)
        do {
            try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        } catch {
            throw RunnerError.outputs(path: outputs, reason: "\(error.localizedDescription); choose another folder with outputs.directory or --output")
        }
        let detectors = zip(spec.detectors, try DetectorFactory.artifactHashes(spec.detectors, loaded: loaded)).map {
            PlannedDetector(spec: $0, artifactSHA256: $1)
        }
        let fingerprint = try PlanInputs.fingerprint(loaded, catalog: catalog, outputs: outputs, detectors: detectors)
        if let reuse, let fingerprint,
           let planned = recorded(directory: reuse, fingerprint: fingerprint, spec: spec, detectors: detectors, outputs: outputs) {
            return planned
        }
        // Blobs are synced to disk together once the datasets are read, not one by one.
        let store = MediaStore(root: outputs, syncsEachBlob: false)
        var planWarnings: [String] = []
        var media = generatorMedia ?? [:]
        if generatorMedia == nil {
            for (i, source) in spec.sources.enumerated() {
                guard case let .generator(g) = source else { continue }
                switch g.from {
                case .live:
                    planWarnings.append("sources[\(i)]: a live generator source is collected when the round runs; this plan has none of its samples")
                case .store:
                    let path = GeneratorRound.storePath(outputs: outputs)
                    if FileManager.default.fileExists(atPath: path) {
                        let snapshot = try GeneratorRound.fromStore(try RunLedger(path: path), source: g, sourceIndex: i, roundSeed: spec.round.seed)
                        media[i] = snapshot.media
                    }
                }
            }
        }
        let report = CollectionReport()
        let samples = try SampleCollector.collect(spec: spec, catalog: catalog, store: store, generatorMedia: media, report: report) { step, done, total in
            observer.handle(.step(step, done: done, total: total))
        }
        // The blobs' sync waits on the disk (a third of a second for a million-sample round): it
        // runs beside the manifest's hashing, which does not read them, and the plan is returned
        // only once both are done.
        let mediaSync = BackgroundValue { Result<Void, any Error> { try store.syncStored() } }
        defer { _ = mediaSync.take() }  // on the way out by an error too: nothing left writing
        func mediaSynced() throws { try mediaSync.take()?.get() }
        FreedMemory.release()  // what reading the datasets side by side left in the threads' arenas
        samplesRead?()
        var plan = RunPlan(schemaVersion: RunPlan.schemaVersion, toolVersion: ToolInfo.version, spec: spec,
                           samples: samples, detectors: detectors)
        if !report.skippedDatasets.isEmpty { plan.skippedDatasets = report.skippedDatasets }
        let warnings = (loaded.warnings + catalog.warnings).map(\.description) + planWarnings + report.warnings
            + report.skippedDatasets.map { "skipped dataset '\($0.name)': \($0.reason)" }
        guard draftManifest else {
            let hash = try plan.manifestHash()
            try mediaSynced()
            return Planned(plan: plan, manifestHash: hash, outputs: outputs, warnings: warnings, inputsFingerprint: fingerprint)
        }
        ManifestDraft.removeAbandoned(in: outputs)
        let draft = ManifestDraft.path(in: outputs)
        let hash = try plan.manifestHash(writingTo: draft)
        do { try mediaSynced() } catch {
            try? FileManager.default.removeItem(atPath: draft)
            throw error
        }
        var planned = Planned(plan: plan, manifestHash: hash, outputs: outputs, warnings: warnings, inputsFingerprint: fingerprint)
        planned.manifestDraft = draft
        return planned
    }

    /// The plan recorded in `directory` when its inputs had this fingerprint: samples from its
    /// plan-samples.bin when intact, else from the run's ledger; manifest hash, skipped datasets
    /// and warnings from plan-inputs.json. nil (plan from the data) when anything is missing or
    /// does not match the recorded run.
    static func recorded(directory: String, fingerprint: String, spec: RoundSpec, detectors: [PlannedDetector], outputs: String) -> Planned? {
        let path = (directory as NSString).appendingPathComponent("run.sqlite")
        guard let inputs = PlanInputs.read(directory: directory), inputs.fingerprint == fingerprint,
              let ledger = try? RunLedger(path: path, create: false, readOnly: true),
              let id = try? ledger.runIDs().last, let run = try? ledger.run(id: id), run.manifestHash == inputs.manifestHash else { return nil }
        // The committed outcomes are read on another connection and core meanwhile (the runner
        // needs them next, and reading either takes a while for a large round).
        let progress = BackgroundValue { () -> RecordedProgress? in
            guard let other = try? RunLedger(path: path, create: false, readOnly: true), let watermark = try? other.outcomeWatermark(),
                  let progress = try? other.committedProgressOfRecordedPlan(runID: id) else { return nil }
            return RecordedProgress(progress: progress, watermark: watermark)
        }
        let snapshot = inputs.sampleCount.flatMap { count in
            inputs.samplesSHA256.flatMap { PlanSamplesFile.read(directory: directory, count: count, sha256: $0) }
        }
        guard let (samples, order) = snapshot.map({ ($0.samples, Optional($0.executionOrder)) })
                ?? (try? ledger.samplesInStorageOrder(runID: id, count: inputs.sampleCount)) else { return nil }
        // Planning stores every blob; a reused plan must find them still there (else plan, which
        // restores them). Unchanged media folders since the plan was recorded say so at once.
        if inputs.mediaStamp != PlanInputs.mediaStamp(outputs: outputs) {
            let store = MediaStore(root: outputs)
            var checked = Set<PlannedSample.MediaKey>()
            for sample in samples where sample.skipReason == nil && checked.insert(sample.mediaKey).inserted {
                guard access(store.absolutePath(sample.mediaPath), F_OK) == 0 else { return nil }
            }
        }
        let plan = RunPlan(schemaVersion: RunPlan.schemaVersion, toolVersion: ToolInfo.version, spec: spec, samples: samples,
                           detectors: detectors, skippedDatasets: inputs.skippedDatasets)
        return Planned(plan: plan, manifestHash: inputs.manifestHash, outputs: outputs, warnings: inputs.warnings,
                       inputsFingerprint: fingerprint, reusedFrom: directory, recordedProgress: progress, executionOrder: order)
    }
}

/// A manifest.json written while its plan was hashed, before the run directory (named after the
/// hash) exists: a hidden file of the outputs folder named after the process, moved into the run
/// directory by the runner. One left by a process that was killed is removed by the next plan.
enum ManifestDraft {
    static let prefix = ".manifest-draft-"

    static func path(in outputs: String) -> String {
        (outputs as NSString).appendingPathComponent("\(prefix)\(getpid()).json")
    }

    /// Drafts of processes that are no longer running.
    static func removeAbandoned(in outputs: String) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: outputs)) ?? [] where name.hasPrefix(prefix) && name.hasSuffix(".json") {
            guard let pid = Int32(name.dropFirst(prefix.count).dropLast(".json".count)) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                try? fm.removeItem(atPath: (outputs as NSString).appendingPathComponent(name))
            }
        }
    }
}
