import Foundation
import GASCore
import GRDB

/// One row of the `metrics` table as stored.
public struct StoredMetricRow: Sendable, Equatable {
    public var detector: String
    public var scope: String
    public var key: String
    public var metrics: BinaryMetrics
}

/// One row of the `detector_scores` table as stored.
public struct StoredDetectorScore: Sendable, Equatable {
    public var detector: String
    public var sn34: Double
    public var coverage: Double
    public var invalidated: Bool
    public var invalidReason: String?
    public var statusCountsJSON: String
}

/// A ledger file that came from elsewhere (an audit bundle), opened read-only. Why a separate
/// reader: `RunLedger` trusts its own file (it migrates it, and a NULL in a NOT NULL column would
/// trap); here every value is decoded with a typed error naming the table and column, the schema
/// is never trusted (`trusted_schema = OFF`), and nothing is ever written.
public final class LedgerSnapshot: Sendable {
    public let path: String
    private let queue: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.readonly = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA trusted_schema = OFF")
            try db.execute(sql: "PRAGMA cell_size_check = ON")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            let tables = try queue.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            }
            let missing = ["runs", "samples", "detectors", "outcomes", "metrics", "detector_scores"].filter { !tables.contains($0) }
            if !missing.isEmpty {
                throw StoreError.corrupt(path: path, what: "no table \(missing.joined(separator: ", ")) (not a gascli run ledger)")
            }
        } catch let error as DatabaseError {
            throw StoreError.database(path: path, underlying: error.description)
        }
    }

    public func close() throws {
        try queue.close()
    }

    /// Writes a consistent, self-contained copy of the ledger at `source` to `destination` (which
    /// must not exist) with `VACUUM INTO`. Why not a file copy: a WAL database's committed pages may
    /// still sit in `-wal`, and a copy taken mid-write is torn. The copy uses a rollback journal, so
    /// it is one file that opens read-only anywhere, and the same ledger gives the same bytes.
    /// `source` is opened like the run opens it (read-write, nothing is written) because a read-only
    /// connection to a WAL database would leave `-wal` and `-shm` files behind in the run directory.
    public static func copy(ledgerAt source: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: source) else {
            throw StoreError.database(path: source, underlying: "no such file")
        }
        do {
            // Other gascli processes may hold the ledger (a run writing, a reader closing and
            // checkpointing): wait for them like the run does instead of failing with "locked".
            var config = Configuration()
            config.busyMode = .timeout(10)
            let queue = try DatabaseQueue(path: source, configuration: config)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
            }
            try queue.close()
            let copy = try DatabaseQueue(path: destination)
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
        } catch let error as DatabaseError {
            throw StoreError.database(path: source, underlying: error.description)
        }
    }

    public func runIDs() throws -> [String] {
        try read("runs") { db in
            try Row.fetchAll(db, sql: "SELECT id FROM runs ORDER BY rowid").map { try $0.decode(String.self, forColumn: "id") }
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try read("runs") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map { row in
                RunRecord(id: try row.decode(forColumn: "id"), roundName: try row.decode(forColumn: "round_name"),
                          specPath: try row.decode(forColumn: "spec_path"), specText: try row.decode(forColumn: "spec_text"),
                          resolvedSpecJSON: try row.decode(forColumn: "resolved_spec_json"),
                          manifestHash: try row.decode(forColumn: "manifest_hash"), toolVersion: try row.decode(forColumn: "tool_version"),
                          seed: UInt64(bitPattern: try row.decode(Int64.self, forColumn: "seed")),
                          startedAt: try row.decode(forColumn: "started_at"), finishedAt: try row.decode(forColumn: "finished_at"),
                          status: try row.decode(forColumn: "status"))
            }
        }
    }

    /// Samples in plan order (`position`).
    public func samples(runID: String) throws -> [PlannedSample] {
        try read("samples") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM samples WHERE run_id = ? ORDER BY position", arguments: [runID]).map { row in
                let id: String = try row.decode(forColumn: "sample_id")
                let kind: String = try row.decode(forColumn: "source_kind")
                let media: String = try row.decode(forColumn: "media_type")
                let modality: String = try row.decode(forColumn: "modality")
                guard let sourceKind = SourceKind(rawValue: kind), let mediaType = MediaType(rawValue: media),
                      let modality = Modality(rawValue: modality) else {
                    throw StoreError.corrupt(path: path, what: "sample \(id): unknown source_kind '\(kind)', media_type '\(media)' or modality '\(modality)'")
                }
                var sample = PlannedSample(
                    id: id, uri: try row.decode(forColumn: "uri"), sha256: try row.decode(forColumn: "sha256"),
                    byteCount: try row.decode(forColumn: "bytes"), dataset: try row.decode(forColumn: "dataset"),
                    sourceKind: sourceKind, mediaType: mediaType, modality: modality,
                    seed: UInt64(bitPattern: try row.decode(Int64.self, forColumn: "seed")), format: try row.decode(forColumn: "format"),
                    mediaPath: try row.decode(forColumn: "media_path"), skipReason: try row.decode(forColumn: "skip_reason"),
                    generatorFamily: try row.decode(forColumn: "generator_family"))
                // The stored label, not the one the media type implies: the audit compares what was recorded.
                sample.label = try row.decode(forColumn: "label")
                return sample
            }
        }
    }

    /// Outcomes in the order the run scored and wrote them: detector, then sample position.
    public func outcomes(runID: String) throws -> [DetectorOutcome] {
        try read("outcomes") { db in
            // The view's batched outcomes go through JSON functions, which an untrusted schema may
            // not call: they are read from their table.
            let byLane = try RunLedger.outcomesAreBatched(db)
            let batched = try byLane && RunLedger.hasBatchedOutcomes(runID: runID, db: db)
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.* FROM \(byLane ? RunLedger.outcomeRows : "outcomes") o JOIN samples s ON s.run_id = o.run_id AND s.sample_id = o.sample_id
                WHERE o.run_id = ? ORDER BY o.detector, s.position
                """, arguments: [runID]).map { row in
                let sampleID: String = try row.decode(forColumn: "sample_id")
                let statusText: String = try row.decode(forColumn: "status")
                guard let status = OutcomeStatus(rawValue: statusText) else {
                    throw StoreError.corrupt(path: path, what: "outcome of sample \(sampleID): unknown status '\(statusText)'")
                }
                let probsText: String? = try row.decode(forColumn: "probs_json")
                return DetectorOutcome(sampleID: sampleID, detector: try row.decode(forColumn: "detector"), status: status,
                                       probs: probsText.flatMap(RunLedger.parseArray), pAI: try row.decode(forColumn: "p_ai"),
                                       predicted: try row.decode(forColumn: "predicted"), error: try row.decode(forColumn: "error"),
                                       latencyMs: try row.decode(forColumn: "latency_ms"), batch: try row.decode(forColumn: "batch"))
            }
            return batched ? try RunLedger.addingBatchedOutcomes(to: rows, runID: runID, db: db, path: path) : rows
        }
    }

    /// Metric rows in insertion order.
    public func metricRows(runID: String) throws -> [StoredMetricRow] {
        try read("metrics") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM metrics WHERE run_id = ? ORDER BY rowid", arguments: [runID]).map { row in
                StoredMetricRow(
                    detector: try row.decode(forColumn: "detector"), scope: try row.decode(forColumn: "scope"),
                    key: try row.decode(forColumn: "key"),
                    metrics: BinaryMetrics(
                        samples: try row.decode(forColumn: "samples"), tp: try row.decode(forColumn: "tp"),
                        tn: try row.decode(forColumn: "tn"), fp: try row.decode(forColumn: "fp"),
                        fn: try row.decode(forColumn: "fn"), accuracy: try row.decode(forColumn: "accuracy"),
                        mcc: try row.decode(forColumn: "mcc"), brier: try row.decode(forColumn: "brier"),
                        crossEntropy: try row.decode(forColumn: "cross_entropy"), sn34: try row.decode(forColumn: "sn34")))
            }
        }
    }

    public func detectorScores(runID: String) throws -> [StoredDetectorScore] {
        try read("detector_scores") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM detector_scores WHERE run_id = ? ORDER BY rowid", arguments: [runID]).map { row in
                StoredDetectorScore(
                    detector: try row.decode(forColumn: "detector"), sn34: try row.decode(forColumn: "sn34"),
                    coverage: try row.decode(forColumn: "coverage"), invalidated: try row.decode(forColumn: "invalidated"),
                    invalidReason: try row.decode(forColumn: "invalid_reason"),
                    statusCountsJSON: try row.decode(forColumn: "status_counts_json"))
            }
        }
    }

    /// Runs a read, turning GRDB's errors into one that names the file and the table.
    private func read<T>(_ table: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.corrupt(path: path, what: "table \(table): \(error)")
        }
    }
}
