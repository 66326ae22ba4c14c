import Foundation
import GASCore
import GASData
import GASNetwork
import GASSpec
import GASStore

/// The generator side of a round: for each `kind: generator` source, the challenges it stands on
/// and the accepted media the planner samples from.
public struct GeneratorSnapshot: Sendable {
    public var sourceIndex: Int
    public var collections: [CollectionRecord]
    /// Every challenge that counts for the generators' scores.
    public var challenges: [ChallengeRecord]
    public var rejections: [WebhookRejection]
    /// Accepted media in the plan.
    public var media: [GeneratorMedia]
}

public enum GeneratorRound {
    /// The generator store of an outputs folder: every collection ever made there.
    public static func storePath(outputs: String) -> String { (outputs as NSString).appendingPathComponent("generators.sqlite") }

    /// Collects live sources (or reuses the collection of the run being resumed) and reads store sources.
    static func prepare(loaded: LoadedSpec, outputs: String, options: RunOptions) async throws -> [Int: GeneratorSnapshot] {
        let spec = loaded.spec
        var result: [Int: GeneratorSnapshot] = [:]
        let indices = spec.sources.indices.filter { if case .generator = spec.sources[$0] { true } else { false } }
        guard !indices.isEmpty else { return [:] }
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let store = try RunLedger(path: storePath(outputs: outputs))
        let media = MediaStore(root: outputs)
        let resumable = resumableRun(roundName: spec.round.name, outputs: outputs, options: options)
        for index in indices {
            guard case let .generator(source) = spec.sources[index] else { continue }
            switch source.from {
            case .live:
                if let resumable, let snapshot = try fromRun(directory: resumable, sourceIndex: index), !snapshot.challenges.isEmpty {
                    options.observer.handle(.note("reusing the generator collection of the run being resumed (\(snapshot.challenges.count) challenges)"))
                    result[index] = snapshot
                    continue
                }
                let rosterPath = loaded.resolve(source.roster ?? "")
                let roster = try RosterLoader.load(path: rosterPath)
                let key = try KeyFile.load(path: loaded.resolve(source.key ?? ""))
                let plan = CollectionPlan(roundName: spec.round.name, sourceIndex: index, source: source, roster: roster,
                                          seed: source.seed ?? spec.round.seed, validatorKey: key)
                let observer = options.observer
                let outcome = try await ChallengeCollector.collect(plan, store: store, media: media) { observer.handle(.note($0)) }
                let counts = Dictionary(grouping: outcome.challenges, by: \.status).mapValues(\.count)
                observer.handle(.note("collection \(outcome.collection.id): " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                                      + (outcome.rejections.isEmpty ? "" : "; \(outcome.rejections.count) webhook request(s) refused")))
                result[index] = GeneratorSnapshot(sourceIndex: index, collections: [outcome.collection], challenges: outcome.challenges,
                                                  rejections: outcome.rejections, media: acceptedMedia(outcome.challenges))
            case .store:
                result[index] = try fromStore(store, source: source, sourceIndex: index, roundSeed: spec.round.seed)
            }
        }
        return result
    }

    static func acceptedMedia(_ challenges: [ChallengeRecord]) -> [GeneratorMedia] {
        var seen: Set<String> = []
        return challenges.compactMap { c -> GeneratorMedia? in
            guard c.status == "stored", let sha = c.mediaSHA256, let path = c.mediaPath, let task = c.taskID,
                  seen.insert(sha).inserted else { return nil }
            return GeneratorMedia(generator: c.generator, collectionID: c.collectionID, taskID: task, sha256: sha, mediaPath: path,
                                  format: c.format ?? "bin", bytes: c.bytes ?? 0, modality: c.modality)
        }.sorted { $0.uri < $1.uri }
    }

    /// `from: store`: media accepted within the window; the same stored media always give the same samples.
    static func fromStore(_ store: RunLedger, source: GeneratorSource, sourceIndex: Int, roundSeed: UInt64) throws -> GeneratorSnapshot {
        let since = Timestamp.string(Date(timeIntervalSinceNow: -(source.windowSeconds ?? 7 * 86_400)))
        let challenges = try store.challengesResolved(since: since).filter { source.modalities.contains($0.modality) }
        var media = acceptedMedia(challenges)
        if let cap = source.samples, media.count > cap {
            var rng = SplitMix64(seed: roundSeed, label: "generator-store:\(sourceIndex)")
            rng.shuffle(&media)
            media = Array(media.prefix(cap)).sorted { $0.uri < $1.uri }
        }
        let ids = Set(challenges.map(\.collectionID))
        let rejections = try store.rejections().filter { ids.contains($0.collectionID) }
        return GeneratorSnapshot(sourceIndex: sourceIndex, collections: [], challenges: challenges, rejections: rejections, media: media)
    }

    /// The collection recorded in a run's own database (resuming a live round must not challenge again).
    static func fromRun(directory: String, sourceIndex: Int) throws -> GeneratorSnapshot? {
        let path = (directory as NSString).appendingPathComponent("run.sqlite")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let ledger = try RunLedger(path: path, create: false, readOnly: true)
        let challenges = try ledger.challenges().filter { $0.sourceIndex == sourceIndex }
        let ids = Set(challenges.map(\.collectionID))
        let rejections = try ledger.rejections().filter { ids.contains($0.collectionID) }
        return GeneratorSnapshot(sourceIndex: sourceIndex, collections: [], challenges: challenges, rejections: rejections,
                                 media: acceptedMedia(challenges))
    }

    static func resumableRun(roundName: String, outputs: String, options: RunOptions) -> String? {
        if let resume = options.resume { return try? RunIndex.locate(resume, outputs: outputs) }
        if options.forceNew { return nil }
        return (try? RunIndex.list(outputs: outputs))?.last(where: { $0.roundName == roundName && $0.status != "completed" })?.directory
    }

    /// Scores every generator of the round's snapshots from its challenges and the detectors'
    /// verdicts on its media (a sample judged real, `predicted == 0`, fooled that detector).
    public static func scores(samples: [PlannedSample], outcomes: [DetectorOutcome], challenges: [ChallengeRecord]) -> [GeneratorScore] {
        var unique: [String: ChallengeRecord] = [:]
        for c in challenges { unique[c.collectionID + "|" + c.challengeID] = c }
        let byGenerator = Dictionary(grouping: unique.values, by: \.generator)
        let generatorSamples = Dictionary(grouping: samples.filter { $0.sourceKind == .generator }, by: { $0.generatorFamily ?? "" })
        var verdicts: [String: (fooled: Int, notFooled: Int)] = [:]
        let sampleGenerator = Dictionary(samples.filter { $0.sourceKind == .generator }.map { ($0.id, $0.generatorFamily ?? "") },
                                         uniquingKeysWith: { a, _ in a })
        for o in outcomes where o.status == .ok {
            guard let g = sampleGenerator[o.sampleID], let predicted = o.predicted else { continue }
            if predicted == 0 { verdicts[g, default: (0, 0)].fooled += 1 } else { verdicts[g, default: (0, 0)].notFooled += 1 }
        }
        var scores: [GeneratorScore] = []
        for (generator, list) in byGenerator {
            var tallies: [Modality: GeneratorTally] = [:]
            for modality in Set(list.map(\.modality)) {
                let own = list.filter { $0.modality == modality }
                let evaluated = own.filter { $0.phase == "delivery" && $0.status != "pending" }
                let stored = own.filter { $0.status == "stored" }
                tallies[modality] = GeneratorTally(
                    evaluated: evaluated.count, verified: stored.count,
                    generations: stored.map { VerifiedGeneration(modality: modality, requested: $0.requestedTier.flatMap(ResolutionTier.parse),
                                                                 observed: $0.observedTier.flatMap(ResolutionTier.parse)) })
            }
            let first = list.sorted { $0.challengeID < $1.challengeID }.first
            let v = verdicts[generator] ?? (0, 0)
            scores.append(GeneratorScore.compute(generator: generator, hotkey: first?.hotkey, uid: first?.uid, tallies: tallies,
                                                 fooled: v.fooled, notFooled: v.notFooled, samples: generatorSamples[generator]?.count ?? 0))
        }
        return scores.sorted { ($0.reward, $1.generator) > ($1.reward, $0.generator) }
    }
}
