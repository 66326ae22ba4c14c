import Foundation
import GASCore

/// What the runner needs from a run ledger: record a run with its samples and detectors, commit
/// outcomes batch by batch (each batch atomically, a (sample, detector) pair at most once), and
/// read everything back to score. `RunLedger` keeps it in the run directory's SQLite file;
/// `PostgresRunLedger` in a PostgreSQL database that processes on several machines share.
public protocol OutcomeLedger: Sendable {
    /// Where the ledger lives, safe to print: a file path or a URL without its password.
    var location: String { get }

    /// Records the run with its samples and detectors, or finds it already recorded (another
    /// process of the same plan created it, or this is a resume). Refuses a recorded run whose
    /// manifest hash differs.
    func openRun(_ run: RunRecord, samples: [PlannedSample], detectors: [DetectorRecord]) async throws -> OpenedRun
    func run(id: String) async throws -> RunRecord?
    func markRunning(id: String) async throws
    func finishRun(id: String, status: String, finishedAt: String) async throws

    /// Commits one batch in one transaction; pairs already committed are left as they are.
    func commit(runID: String, outcomes: [DetectorOutcome]) async throws
    /// (sample, detector) pairs that already have an outcome, by detector.
    func committedPairs(runID: String) async throws -> [String: Set<String>]
    /// The highest batch number committed per detector.
    func lastBatch(runID: String) async throws -> [String: Int]
    /// Rows of `samples`, `outcomes`, `metrics` or `detectors` for the run.
    func count(_ table: String, runID: String) async throws -> Int

    /// Replaces the run's metrics and detector scores.
    func writeScores(runID: String, scores: [DetectorScore]) async throws
    /// Every outcome, ordered by detector, then by the sample's position in the plan.
    func outcomes(runID: String) async throws -> [DetectorOutcome]
    func samples(runID: String) async throws -> [PlannedSample]
    func detectors(runID: String) async throws -> [DetectorRecord]
    func metricsRows(runID: String) async throws -> [(detector: String, scope: String, key: String, metrics: BinaryMetrics)]
    func detectorScores(runID: String) async throws -> [(detector: String, sn34: Double, coverage: Double, invalidated: Bool)]
    func statusCounts(runID: String) async throws -> [String: [String: Int]]
    /// The run's outcomes for the plan's samples (`sampleIDs` in plan order), compact.
    func outcomeGrid(runID: String, sampleIDs: SampleIDs) async throws -> OutcomeGrid
    /// What is committed per detector, as masks over the plan: what a resumed run skips.
    func committedProgress(runID: String, sampleIDs: SampleIDs) async throws -> CommittedProgress
}

extension OutcomeLedger {
    /// From the outcome records; `RunLedger` reads SQLite straight into the grid instead.
    public func outcomeGrid(runID: String, sampleIDs: SampleIDs) async throws -> OutcomeGrid {
        OutcomeGrid(sampleIDs: sampleIDs, outcomes: try await outcomes(runID: runID))
    }

    /// From the outcome grid; `RunLedger` reads only the columns it needs.
    public func committedProgress(runID: String, sampleIDs: SampleIDs) async throws -> CommittedProgress {
        CommittedProgress(try await outcomeGrid(runID: runID, sampleIDs: sampleIDs))
    }

    public func outcomeGrid(runID: String, sampleIDs: [String]) async throws -> OutcomeGrid {
        try await outcomeGrid(runID: runID, sampleIDs: SampleIDs(sampleIDs))
    }

    public func committedProgress(runID: String, sampleIDs: [String]) async throws -> CommittedProgress {
        try await committedProgress(runID: runID, sampleIDs: SampleIDs(sampleIDs))
    }
}

/// What `openRun` found.
public enum OpenedRun: Sendable, Equatable {
    /// This call recorded the run.
    case created
    /// The run was already recorded with the same manifest hash; this is its record.
    case existing(RunRecord)
}

/// The ledger refused to open a run recorded with another plan.
public struct ManifestMismatch: Error, CustomStringConvertible {
    public var runID: String
    public var location: String
    public var recorded: String
    public var planned: String

    public var description: String {
        "run \(runID) in \(location) was recorded with manifest \(recorded.prefix(16)), this plan is \(planned.prefix(16)): the spec or its data changed. Start a new run (--new, or another run id) or restore the spec and data of that run."
    }
}

extension RunLedger: OutcomeLedger {
    public var location: String { path }

    public func openRun(_ run: RunRecord, samples: [PlannedSample], detectors: [DetectorRecord]) throws -> OpenedRun {
        try openRun(run, samples: samples, detectors: detectors, beforeCommit: {})
    }

    /// `beforeCommit` runs when a new run's rows are written and before they are committed (the
    /// runner waits there for the run's manifest file, written meanwhile on another thread).
    /// `executionOrder`: the samples' `ExecutionOrder` when the caller has it already.
    /// `withSamples`: as `createRun`'s, for a run created now.
    public func openRun(_ run: RunRecord, samples: [PlannedSample], detectors: [DetectorRecord], executionOrder: [Int]? = nil,
                        withSamples: Bool = true, beforeCommit: () throws -> Void) throws -> OpenedRun {
        if let existing = try self.run(id: run.id) {
            guard existing.manifestHash == run.manifestHash else {
                throw ManifestMismatch(runID: run.id, location: path, recorded: existing.manifestHash, planned: run.manifestHash)
            }
            return .existing(existing)
        }
        try createRun(run, samples: samples, detectors: detectors, executionOrder: executionOrder, withSamples: withSamples,
                      beforeCommit: beforeCommit)
        return .created
    }
}
