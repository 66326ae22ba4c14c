import Foundation
import GASStore

/// The runs under an outputs directory: one folder each, holding its own ledger.
public enum RunIndex {
    public struct Entry: Sendable {
        public var id: String
        public var directory: String
        public var roundName: String
        public var status: String
        public var startedAt: String
        public var finishedAt: String?
        public var manifestHash: String
        public var specPath: String
        public var samples: Int
        public var outcomes: Int
        public var detectors: Int
        public var best: (detector: String, sn34: Double)?
        /// True when the status says running but no gascli holds the run's lock (it was killed).
        public var interrupted: Bool
    }

    /// Finds a run by directory path or by id under `outputs`. A run whose outcomes are in a shared
    /// PostgreSQL ledger (ledger.json, no run.sqlite) is found only when the caller reads such
    /// runs (`sharedLedger`); otherwise the command is refused with where the run's results are.
    public static func locate(_ run: String, outputs: String, sharedLedger: Bool = false) throws -> String {
        let fm = FileManager.default
        let candidates = [run, (outputs as NSString).appendingPathComponent(run)]
        for c in candidates {
            let absolute = PathResolutionShim.absolute(c)
            if fm.fileExists(atPath: (absolute as NSString).appendingPathComponent("run.sqlite")) { return absolute }
            if let pointer = SharedLedgerPointer.read(directory: absolute) {
                if sharedLedger { return absolute }
                throw RunnerError.ledgerUnsupported(url: pointer.url, what: """
                    this command yet: it reads a run's run.sqlite, and run \(pointer.runID) keeps its outcomes in PostgreSQL. \
                    Its results.json, predictions.parquet and metrics.parquet are in \(absolute); `gascli rescore` reads it from the database
                    """)
            }
        }
        let known = (try? list(outputs: outputs).map(\.id)) ?? []
        let matches = known.filter { $0.hasPrefix(run) }
        if matches.count == 1, let only = matches.first { return (PathResolutionShim.absolute(outputs) as NSString).appendingPathComponent(only) }
        let hint = known.isEmpty ? "no runs exist under \(outputs)" : "known runs: \(known.suffix(5).joined(separator: ", "))"
        throw RunnerError.unknownRun(run: run, hint: hint + "; pass a run directory or --output with the folder that holds it")
    }

    /// `counting: false` leaves the sample, outcome and detector counts at 0: choosing which run
    /// to resume needs none of them, and counting a million outcomes takes a while.
    public static func list(outputs: String, counting: Bool = true) throws -> [Entry] {
        let root = PathResolutionShim.absolute(outputs)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        var entries: [Entry] = []
        for name in names.sorted() {
            let dir = (root as NSString).appendingPathComponent(name)
            if let entry = try? entry(directory: dir, counting: counting) { entries.append(entry) }
        }
        return entries.sorted { $0.startedAt < $1.startedAt }
    }

    /// Run folders whose outcomes are in a shared PostgreSQL ledger (they hold ledger.json instead
    /// of run.sqlite), which `list` does not read.
    public static func sharedLedgerRuns(outputs: String) -> [(directory: String, pointer: SharedLedgerPointer)] {
        let root = PathResolutionShim.absolute(outputs)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.sorted().compactMap { name in
            let dir = (root as NSString).appendingPathComponent(name)
            guard !FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("run.sqlite")),
                  let pointer = SharedLedgerPointer.read(directory: dir) else { return nil }
            return (dir, pointer)
        }
    }

    /// A run folder of this round and plan that holds no recorded run: what a run killed between
    /// creating its folder and committing its first record leaves behind.
    static func unrecordedDirectory(outputs: String, round: String, hashPrefix: String) -> String? {
        let root = PathResolutionShim.absolute(outputs)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        for name in names.sorted() where name.hasPrefix(round + "-") && name.hasSuffix("-" + hashPrefix) {
            let dir = (root as NSString).appendingPathComponent(name)
            let db = (dir as NSString).appendingPathComponent("run.sqlite")
            // A run in a shared PostgreSQL ledger has no run.sqlite either, but it is recorded there.
            if SharedLedgerPointer.read(directory: dir) != nil { continue }
            if !FileManager.default.fileExists(atPath: db) { return dir }
            // Killed while the ledger was being created: a file without the run (or without its
            // tables yet) holds nothing to keep; the run reopens it and migrates.
            guard let ledger = try? RunLedger(path: db, create: false, readOnly: true) else { return dir }
            if (try? ledger.runIDs())?.isEmpty ?? true { return dir }
        }
        return nil
    }

    public static func entry(directory: String, counting: Bool = true) throws -> Entry? {
        let db = (directory as NSString).appendingPathComponent("run.sqlite")
        guard FileManager.default.fileExists(atPath: db) else { return nil }
        let ledger = try RunLedger(path: db, create: false, readOnly: true)
        guard let id = try ledger.runIDs().last, let run = try ledger.run(id: id) else { return nil }
        let samples = counting ? try ledger.count("samples", runID: id) : 0
        let detectors = counting ? try ledger.count("detectors", runID: id) : 0
        var interrupted = false
        if run.status == "running" {
            interrupted = (try? RunLock(runDirectory: directory)) != nil
        }
        let best = try ledger.detectorScores(runID: id).first.map { ($0.detector, $0.sn34) }
        return Entry(id: id, directory: directory, roundName: run.roundName, status: interrupted ? "interrupted" : run.status,
                     startedAt: run.startedAt, finishedAt: run.finishedAt, manifestHash: run.manifestHash, specPath: run.specPath,
                     samples: samples, outcomes: counting ? try ledger.count("outcomes", runID: id) : 0, detectors: detectors,
                     best: best, interrupted: interrupted)
    }
}

enum PathResolutionShim {
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? (path as NSString).standardizingPath
            : ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }
}
