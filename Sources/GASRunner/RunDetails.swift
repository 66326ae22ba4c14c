import Foundation
import GASStore

/// One run in detail, for `gascli runs show`.
public struct RunDetails: Sendable {
    public struct Detector: Sendable {
        public var name: String
        public var adapter: String
        public var counts: [String: Int]
        public var sn34: Double?
        public var coverage: Double?
    }

    public var entry: RunIndex.Entry
    public var detectors: [Detector]
    /// Generator rewards (highest first); empty for runs without generator sources or written before them.
    public var generators: [(generator: String, reward: Double, passRate: Double, foolRate: Double?)] = []
    /// Challenges by status.
    public var challenges: [String: Int] = [:]

    public static func load(run: String, outputs: String) throws -> RunDetails {
        let directory = try RunIndex.locate(run, outputs: outputs)
        guard let entry = try RunIndex.entry(directory: directory) else {
            throw RunnerError.unknownRun(run: run, hint: "\(directory) holds no recorded run")
        }
        let ledger = try RunLedger(path: (directory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
        let counts = try ledger.statusCounts(runID: entry.id)
        let scores = Dictionary(try ledger.detectorScores(runID: entry.id).map { ($0.detector, $0) }, uniquingKeysWith: { a, _ in a })
        let detectors = try ledger.detectors(runID: entry.id).map { d in
            Detector(name: d.name, adapter: d.adapter, counts: counts[d.name] ?? [:], sn34: scores[d.name]?.sn34, coverage: scores[d.name]?.coverage)
        }
        var details = RunDetails(entry: entry, detectors: detectors)
        // A database from before the generator tables is opened read-only and not migrated: no rows.
        details.generators = (try? ledger.generatorRewards(runID: entry.id)) ?? []
        details.challenges = Dictionary(grouping: (try? ledger.challenges(runID: entry.id)) ?? [], by: \.status).mapValues(\.count)
        return details
    }
}
