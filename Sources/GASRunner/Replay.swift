import Foundation
import GASCore
import GASData
import GASSpec
import GASStore

/// The library function behind `gascli replay`: run a stored plan again and compare, sample by
/// sample, with what the run recorded.
public enum Replay {
    public struct Difference: Sendable {
        public var sampleID: String
        public var uri: String
        public var detector: String
        public var stored: String
        public var replayed: String
    }

    public struct Report: Sendable {
        public var runID: String
        public var compared: Int
        public var differences: [Difference]
        public var notes: [String]
        public var storedScores: [DetectorScore]
        public var replayedScores: [DetectorScore]
        public var matches: Bool { differences.isEmpty }
    }

    public static func replay(run: String, outputs: String, tolerance: Double, observer: any RunObserver = SilentObserver()) async throws -> Report {
        let directory = try RunIndex.locate(run, outputs: outputs)
        let ledger = try RunLedger(path: (directory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
        guard let runID = try ledger.runIDs().last, let record = try ledger.run(id: runID) else {
            throw RunnerError.unknownRun(run: run, hint: "the database holds no run")
        }
        let manifestPath = (directory as NSString).appendingPathComponent("manifest.json")
        guard let manifest = FileManager.default.contents(atPath: manifestPath) else {
            throw RunnerError.unknownRun(run: run, hint: "\(manifestPath) is missing")
        }
        guard MediaStore.sha256Hex(manifest) == record.manifestHash else {
            throw RunnerError.outputs(path: manifestPath, reason: "its sha256 does not match the manifest hash recorded in the database (\(record.manifestHash.prefix(16))); the file was changed")
        }
        let plan = try JSONDecoder().decode(RunPlan.self, from: manifest)
        let store = MediaStore(root: (directory as NSString).deletingLastPathComponent)

        // Every sample's bytes must be exactly the ones planned.
        var missing: [String] = []
        for s in plan.samples where s.skipReason == nil {
            let path = store.absolutePath(s.mediaPath)
            guard let data = FileManager.default.contents(atPath: path), MediaStore.sha256Hex(data) == s.sha256 else {
                missing.append("\(s.id) (\(s.uri))")
                continue
            }
        }
        if !missing.isEmpty { throw RunnerError.mediaMissing(samples: missing) }

        let loaded = LoadedSpec(spec: plan.spec, path: record.specPath, directory: (record.specPath as NSString).deletingLastPathComponent,
                                text: record.specText)
        var notes: [String] = []
        for d in plan.detectors {
            let now: String? = (try? DetectorFactory.artifactHash(d.spec, loaded: loaded)) ?? nil
            if now != d.artifactSHA256 {
                notes.append("detector '\(d.spec.name)' artifacts changed since the run (sha256 \(d.artifactSHA256?.prefix(12) ?? "none") -> \(now?.prefix(12) ?? "none"))")
            }
        }

        // Execute into a scratch ledger, never touching the stored run.
        let scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("gascli-replay-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let replayLedger = try RunLedger(path: (scratch as NSString).appendingPathComponent("replay.sqlite"))
        try replayLedger.createRun(RunRecord(id: runID, roundName: record.roundName, specPath: record.specPath, specText: record.specText,
                                             resolvedSpecJSON: record.resolvedSpecJSON, manifestHash: record.manifestHash,
                                             toolVersion: ToolInfo.version, seed: record.seed, startedAt: RoundRunner.timestamp(Date())),
                                   samples: plan.samples, detectors: [])
        var jobs: [RoundExecutor.DetectorJob] = []
        for d in plan.detectors {
            do {
                let adapter = try DetectorFactory.make(d.spec, loaded: loaded, modalities: plan.spec.round.modalities, logDirectory: scratch)
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: adapter))
            } catch {
                jobs.append(.init(name: d.spec.name, batchSize: d.spec.batchSize, adapter: nil, setupFailure: "\(error)"))
            }
        }
        try await RoundExecutor.run(jobs: jobs, samples: plan.samples, store: store, ledger: replayLedger, runID: runID, observer: observer)

        let stored = try ledger.outcomes(runID: runID)
        let replayed = try replayLedger.outcomes(runID: runID)
        let storedByKey = Dictionary(stored.map { ("\($0.detector)\u{0}\($0.sampleID)", $0) }, uniquingKeysWith: { a, _ in a })
        let uris = Dictionary(plan.samples.map { ($0.id, $0.uri) }, uniquingKeysWith: { a, _ in a })
        var differences: [Difference] = []
        for r in replayed {
            let s = storedByKey["\(r.detector)\u{0}\(r.sampleID)"]
            if let s, s.status == r.status, equal(s.pAI, r.pAI, tolerance: tolerance) { continue }
            differences.append(Difference(sampleID: r.sampleID, uri: uris[r.sampleID] ?? "", detector: r.detector,
                                          stored: s.map(describe) ?? "no outcome", replayed: describe(r)))
        }
        if stored.count != replayed.count {
            notes.append("the run stored \(stored.count) outcomes, the replay produced \(replayed.count)")
        }
        let names = plan.detectors.map(\.spec.name)
        return Report(runID: runID, compared: replayed.count, differences: differences, notes: notes,
                      storedScores: RoundScoring.score(samples: plan.samples, outcomes: stored, detectors: names, rule: plan.spec.scoring, seed: plan.spec.round.seed),
                      replayedScores: RoundScoring.score(samples: plan.samples, outcomes: replayed, detectors: names, rule: plan.spec.scoring, seed: plan.spec.round.seed))
    }

    static func equal(_ a: Double?, _ b: Double?, tolerance: Double) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (x?, y?): x == y || abs(x - y) <= tolerance
        default: false
        }
    }

    static func describe(_ o: DetectorOutcome) -> String {
        if let p = o.pAI { return "\(o.status.rawValue) p_ai=\(p)" }
        return "\(o.status.rawValue)" + (o.error.map { ": \($0.prefix(80))" } ?? "")
    }
}
