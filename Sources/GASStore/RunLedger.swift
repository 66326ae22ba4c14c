import Foundation
import GASCore
import GRDB
import GRDBSQLite

/// What a run is, as recorded when it starts.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var roundName: String
    public var specPath: String
    public var specText: String
    public var resolvedSpecJSON: String
    public var manifestHash: String
    public var toolVersion: String
    public var seed: UInt64
    public var startedAt: String
    public var finishedAt: String?
    public var status: String

    public init(id: String, roundName: String, specPath: String, specText: String, resolvedSpecJSON: String,
                manifestHash: String, toolVersion: String, seed: UInt64, startedAt: String, finishedAt: String? = nil,
                status: String = "running") {
        self.id = id
        self.roundName = roundName
        self.specPath = specPath
        self.specText = specText
        self.resolvedSpecJSON = resolvedSpecJSON
        self.manifestHash = manifestHash
        self.toolVersion = toolVersion
        self.seed = seed
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
    }
}

public struct DetectorRecord: Sendable, Equatable {
    public var name: String
    public var adapter: String
    public var configJSON: String
    public var artifactSHA256: String?
    public init(name: String, adapter: String, configJSON: String, artifactSHA256: String?) {
        self.name = name
        self.adapter = adapter
        self.configJSON = configJSON
        self.artifactSHA256 = artifactSHA256
    }
}

/// One generator miner's scores in a round (`generator_scores`).
public struct GeneratorScoreRecord: Sendable, Equatable {
    public var generator: String
    public var hotkey: String?
    public var uid: Int?
    public var modality: String?
    public var challenges: Int?
    public var accepted: Int?
    public var passRate: Double?
    public var foolRate: Double?
    public var samples: Int?
    public var volumeFactor: Double?
    public var resolutionFactor: Double?
    public var foolBonus: Double?
    public var reward: Double?
}

public enum StoreError: Error, CustomStringConvertible {
    case database(path: String, underlying: String)
    case corrupt(path: String, what: String)
    case newerSchema(path: String, unknown: [String])
    case notALedger(path: String)
    /// A result file could not be written (errno `code`).
    case fileWrite(path: String, code: Int32)

    public var description: String {
        switch self {
        case let .database(path, underlying): "database \(path): \(underlying)"
        case let .corrupt(path, what): "database \(path) holds an invalid value: \(what)"
        case let .newerSchema(path, unknown):
            "database \(path) was written by a newer gascli (unknown schema migrations: \(unknown.joined(separator: ", "))); open it with that version or newer. It was not changed."
        case let .notALedger(path): "\(path) is not a gascli run database"
        case let .fileWrite(path, code): "cannot write \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// The run ledger: one SQLite file per run directory. Outcomes are committed batch by batch in
/// one transaction each, so whatever was committed survives a crash.
public final class RunLedger: Sendable {
    public let path: String
    let queue: DatabaseQueue

    /// Opens (creating when `create`) and migrates a ledger. A database written by a newer gascli
    /// is refused before anything is written to it, never migrated down.
    public init(path: String, create: Bool = true, readOnly: Bool = false) throws {
        self.path = path
        if !create && !FileManager.default.fileExists(atPath: path) { throw StoreError.notALedger(path: path) }
        do {
            var config = Configuration()
            config.readonly = readOnly
            // Foreign keys are declared but not enforced row by row: the runner only records outcomes
            // of the plan's samples (and `audit verify` checks coverage), and the parent-key probe
            // per inserted outcome was a sixth of the cost of committing one.
            config.foreignKeysEnabled = false
            if !readOnly {
                config.prepareDatabase { db in
                    // A new ledger gets 16 KiB pages (SQLite's default is 4 KiB): fewer pages and b-tree
                    // levels for millions of outcome rows. An existing file keeps its own page size.
                    try db.execute(sql: "PRAGMA page_size = 16384")
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                    try db.execute(sql: "PRAGMA synchronous = NORMAL")
                    // Up to 32 MiB of cached pages instead of SQLite's 2 MiB (outcomes arrive in key order,
                    // so the pages a commit touches are mostly the last ones), and checkpointing every
                    // 16,384 pages of WAL (256 MiB of 16 KiB pages) instead of 1,000 writes a page once
                    // for many commits.
                    try db.execute(sql: "PRAGMA cache_size = -32768")
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
                }
            }
            config.busyMode = .timeout(10)
            queue = try DatabaseQueue(path: path, configuration: config)
            let migrator = LedgerSchema.migrator
            let unknown = try queue.read { db -> [String] in
                guard try db.tableExists("grdb_migrations") else { return [] }
                let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                return applied.filter { !migrator.migrations.contains($0) }
            }
            if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknown: unknown) }
            if !readOnly { try migrator.migrate(queue) }
        } catch let error as DatabaseError {
            throw StoreError.database(path: path, underlying: error.description)
        }
    }

    /// (sample, detector) pairs that already have an outcome: what a resumed run skips.
    public func committedPairs(runID: String) throws -> [String: Set<String>] {
        try queue.read { db in
            var pairs: [String: Set<String>] = [:]
            if try scanStoredOutcomes(runID: runID, db: db, { detector, id, _ in
                pairs[detector, default: []].insert(String(decoding: id, as: UTF8.self))
            }) {
                return pairs
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT detector, sample_id FROM outcomes WHERE run_id = ?", arguments: [runID])
            while let row = try rows.next() {
                pairs[row[0], default: []].insert(row[1])
            }
            return pairs
        }
    }

    /// The highest batch number committed per detector, so a resumed run numbers on.
    public func lastBatch(runID: String) throws -> [String: Int] {
        try queue.read { db in
            var result: [String: Int] = [:]
            if try scanStoredOutcomes(runID: runID, db: db, { detector, _, value in
                result[detector] = max(result[detector] ?? Int.min, Int(value.batch))
            }) {
                return result
            }
            for row in try Row.fetchAll(db, sql: "SELECT detector, MAX(batch) FROM outcomes WHERE run_id = ? GROUP BY detector", arguments: [runID]) {
                result[row[0]] = row[1]
            }
            return result
        }
    }

    public func runIDs() throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT id FROM runs ORDER BY started_at") }
    }

    public func detectorScores(runID: String) throws -> [(detector: String, sn34: Double, coverage: Double, invalidated: Bool)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT detector, sn34, coverage, invalidated FROM detector_scores WHERE run_id = ? ORDER BY sn34 DESC, detector",
                             arguments: [runID]).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    /// Every detector's stored scores, rebuilt from the `detector_scores` and `metrics` tables
    /// (the numbers results.json holds), in the order the detectors were recorded.
    public func storedScores(runID: String) throws -> [DetectorScore] {
        let rows = try metricsRows(runID: runID)
        let records = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT detector, coverage, invalidated, invalid_reason, status_counts_json FROM detector_scores WHERE run_id = ?",
                             arguments: [runID])
        }
        let order = try detectors(runID: runID).map(\.name)
        var scores: [String: DetectorScore] = [:]
        for record in records {
            let name: String = record["detector"]
            let countsText: String = record["status_counts_json"]
            let counts = (try? JSONSerialization.jsonObject(with: Data(countsText.utf8))) as? [String: Int] ?? [:]
            let mine = rows.filter { $0.detector == name }
            guard let overall = mine.first(where: { $0.scope == "overall" })?.metrics else {
                throw StoreError.corrupt(path: path, what: "detector \(name) has scores but no overall metrics row")
            }
            var breakdowns: [BreakdownMetrics] = []
            for scope in BreakdownScope.allCases where scope != .overall {
                for row in mine where row.scope == scope.rawValue {
                    breakdowns.append(BreakdownMetrics(scope: scope, key: row.key, metrics: row.metrics))
                }
            }
            scores[name] = DetectorScore(detector: name, overall: overall, statusCounts: counts, coverage: record["coverage"],
                                         invalidated: record["invalidated"], invalidReason: record["invalid_reason"], breakdowns: breakdowns)
        }
        return order.compactMap { scores[$0] } + scores.keys.filter { !order.contains($0) }.sorted().compactMap { scores[$0] }
    }

    /// Rows of `generator_scores` (written when generator miners' media entered the round), or nil
    /// when the database has no such table. Columns this version does not know are ignored, and
    /// missing ones read as nil.
    public func generatorScores(runID: String) throws -> [GeneratorScoreRecord]? {
        try queue.read { db in
            guard try db.tableExists("generator_scores") else { return nil }
            return try Row.fetchAll(db, sql: "SELECT * FROM generator_scores WHERE run_id = ?", arguments: [runID]).map { row in
                func text(_ c: String) -> String? {
                    guard row.hasColumn(c) else { return nil }
                    let v: DatabaseValue = row[c]
                    switch v.storage {
                    case .string(let s): return s
                    case .int64(let i): return String(i)
                    case .double(let d): return String(d)
                    default: return nil
                    }
                }
                // Lenient conversions: a value of an unexpected type reads as nil instead of trapping.
                func int(_ c: String) -> Int? { row.hasColumn(c) ? Int.fromDatabaseValue(row[c] as DatabaseValue) : nil }
                func double(_ c: String) -> Double? { row.hasColumn(c) ? Double.fromDatabaseValue(row[c] as DatabaseValue) : nil }
                return GeneratorScoreRecord(
                    generator: text("generator") ?? text("hotkey") ?? text("uid") ?? "?", hotkey: text("hotkey"), uid: int("uid"),
                    modality: text("modality"), challenges: int("challenges"), accepted: int("accepted"), passRate: double("pass_rate"),
                    foolRate: double("fool_rate"), samples: int("samples"), volumeFactor: double("volume_factor"),
                    resolutionFactor: double("resolution_factor"), foolBonus: double("fool_bonus"), reward: double("reward"))
            }
        }
    }

    public func statusCounts(runID: String) throws -> [String: [String: Int]] {
        try queue.read { db in
            var result: [String: [String: Int]] = [:]
            if try scanStoredOutcomes(runID: runID, db: db, { detector, _, value in
                result[detector, default: [:]][value.status.rawValue, default: 0] += 1
            }) {
                return result
            }
            for row in try Row.fetchAll(db, sql: "SELECT detector, status, COUNT(*) FROM outcomes WHERE run_id = ? GROUP BY detector, status", arguments: [runID]) {
                result[row[0], default: [:]][row[1]] = row[2]
            }
            return result
        }
    }

    public func detectors(runID: String) throws -> [DetectorRecord] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT name, adapter, config_json, artifact_sha256 FROM detectors WHERE run_id = ? ORDER BY rowid", arguments: [runID])
                .map { DetectorRecord(name: $0[0], adapter: $0[1], configJSON: $0[2], artifactSHA256: $0[3]) }
        }
    }

    /// The stored metrics rows, for comparing a rescore with what the run wrote.
    public func metricsRows(runID: String) throws -> [(detector: String, scope: String, key: String, metrics: BinaryMetrics)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM metrics WHERE run_id = ? ORDER BY detector, scope, key", arguments: [runID]).map { r in
                (r["detector"], r["scope"], r["key"],
                 BinaryMetrics(samples: r["samples"], truePositives: r["tp"], trueNegatives: r["tn"], falsePositives: r["fp"],
                               falseNegatives: r["fn"], accuracy: r["accuracy"], mcc: r["mcc"], brier: r["brier"],
                               crossEntropy: r["cross_entropy"], sn34: r["sn34"], auc: r["auc"], ece: r["ece"],
                               recallReal: r["recall_real"], recallAI: r["recall_ai"],
                               sn34CI: Self.interval(lower: r["sn34_ci_lower"], upper: r["sn34_ci_upper"])))
            }
        }
    }

    static func interval(lower: Double?, upper: Double?) -> ConfidenceInterval? {
        guard let lower, let upper else { return nil }
        return ConfidenceInterval(lower: lower, upper: upper)
    }

    /// `executionOrder`: the samples' `ExecutionOrder` (the order their rows are inserted in), when the caller has it.
    /// `withSamples` false: the samples are left to `recordSamples`, which the caller runs beside the detectors.
    public func createRun(_ run: RunRecord, samples: [PlannedSample], detectors: [DetectorRecord], executionOrder: [Int]? = nil,
                          withSamples: Bool = true, beforeCommit: () throws -> Void = {}) throws {
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, round_name, spec_path, spec_text, resolved_spec_json, manifest_hash, tool_version, seed, started_at, finished_at, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [run.id, run.roundName, run.specPath, run.specText, run.resolvedSpecJSON, run.manifestHash,
                                 run.toolVersion, Int64(bitPattern: run.seed), run.startedAt, run.finishedAt, run.status])
            if withSamples {
                let order = executionOrder ?? ExecutionOrder.positions(of: samples)
                try insertSamples(samples, order: order, range: order.indices, runID: run.id, db: db)
            }
            for d in detectors {
                try db.execute(sql: "INSERT INTO detectors (run_id, name, adapter, config_json, artifact_sha256) VALUES (?, ?, ?, ?, ?)",
                               arguments: [run.id, d.name, d.adapter, d.configJSON, d.artifactSHA256])
                try db.execute(sql: "INSERT OR IGNORE INTO outcome_lanes (run_id, detector) VALUES (?, ?)", arguments: [run.id, d.name])
            }
            try beforeCommit()
        }
    }

    /// Sample rows in sample-id order (the primary key's: each row lands next to the last),
    /// `rowsPerInsert` to a statement.
    private func insertSamples(_ samples: [PlannedSample], order: [Int], range: Range<Int>, runID: String, db: Database) throws {
        for start in stride(from: range.lowerBound, to: range.upperBound, by: Self.sampleChunk) {
            try insertSamples(SampleRows(samples, order: order, range: start..<min(start + Self.sampleChunk, range.upperBound)), runID: runID, db: db)
        }
    }

    /// Rows made by `SampleRows` (before the transaction), bound from its buffer in place.
    private func insertSamples(_ rows: SampleRows, runID: String, db: Database) throws {
        let run = Array(runID.utf8)
        try rows.text.bytes.withUnsafeBufferPointer { bytes in
            try run.withUnsafeBufferPointer { run in
                func bind(_ h: OpaquePointer, _ index: Int32, _ span: OutcomeRows.Span) { Self.bindText(h, index, span, in: bytes) }
                let runSpan = OutcomeRows.Span(start: 0, count: Int32(run.count))
                var first = 0
                while first < rows.count {
                    let n = min(Self.rowsPerInsert, rows.count - first)
                    let insert = try db.cachedStatement(sql: n == Self.rowsPerInsert ? Self.fullSampleInsert : Self.sampleInsert(rows: n))
                    let h = insert.sqliteStatement
                    sqlite3_reset(h)
                    for k in 0..<n {
                        let r = first + k
                        let numbers = rows.numbers[r]
                        let c = Int32(16 * k), t = 11 * r
                        Self.bindText(h, c + 1, runSpan, in: run)
                        sqlite3_bind_int64(h, c + 2, numbers.position)
                        bind(h, c + 3, rows.text.spans[t]); bind(h, c + 4, rows.text.spans[t + 1]); bind(h, c + 5, rows.text.spans[t + 2])
                        sqlite3_bind_int64(h, c + 6, numbers.byteCount)
                        bind(h, c + 7, rows.text.spans[t + 3]); bind(h, c + 8, rows.text.spans[t + 4])
                        bind(h, c + 9, rows.text.spans[t + 5]); bind(h, c + 10, rows.text.spans[t + 6])
                        sqlite3_bind_int64(h, c + 11, numbers.label)
                        sqlite3_bind_int64(h, c + 12, numbers.seed)
                        bind(h, c + 13, rows.text.spans[t + 7]); bind(h, c + 14, rows.text.spans[t + 8])
                        bind(h, c + 15, rows.text.spans[t + 9]); bind(h, c + 16, rows.text.spans[t + 10])
                    }
                    try finishInsert(h, sqlite3_step(h), db: db, "samples \(rows.text.text(t: 11 * first)) … \(rows.text.text(t: 11 * (first + n - 1)))")
                    first += n
                }
            }
        }
    }

    /// Starts copying the write-ahead log into the database file without waiting for it (and
    /// without waiting on readers: passive). A run's last commit can leave hundreds of MiB there,
    /// which closing the ledger would otherwise copy while the process waits to exit; the copy
    /// runs on the ledger's queue while the run is scored, before its scores are written.
    public func checkpointSoon() {
        queue.asyncWriteWithoutTransaction { db in _ = try? db.checkpoint(.passive) }
    }

    /// Records the samples of a run created without them (`createRun(withSamples: false)`), or
    /// those a run's interrupted recording left out, `chunk` rows per transaction in `order`:
    /// the detectors' commits take turns with the chunks, so a fresh round's detectors start
    /// without waiting for a million sample rows. A sample already recorded is left as it is.
    public func recordSamples(_ samples: [PlannedSample], order: [Int], runID: String, chunk: Int = sampleChunk) throws {
        var start = 0
        while start < order.count {
            let range = start..<min(start + max(chunk, 1), order.count)
            // Made before the transaction: reading the samples in id order is a cache miss per
            // string, which inside it held the ledger from the detectors' commits.
            let rows = SampleRows(samples, order: order, range: range)
            try queue.write { db in try insertSamples(rows, runID: runID, db: db) }
            start = range.upperBound
        }
    }

    /// Binds text at `span` of `bytes` (NULL for `OutcomeRows.Span.null`) without a copy:
    /// SQLITE_STATIC, so `bytes` must stay as it is until the statement has stepped.
    @inline(__always)
    static func bindText(_ h: OpaquePointer, _ index: Int32, _ span: OutcomeRows.Span, in bytes: UnsafeBufferPointer<UInt8>) {
        if span.count < 0 {
            sqlite3_bind_null(h, index)
        } else if let base = bytes.baseAddress {
            sqlite3_bind_text(h, index, UnsafeRawPointer(base + Int(span.start)).assumingMemoryBound(to: CChar.self), span.count, nil)
        } else {
            sqlite3_bind_text(h, index, UnsafeRawPointer(emptyText.utf8Start).assumingMemoryBound(to: CChar.self), 0, nil)
        }
    }

    /// What an empty buffer binds: static, so it outlives any statement.
    private static let emptyText: StaticString = ""

    /// Commits one batch of outcomes atomically. A (sample, detector) pair is written once: a
    /// second commit of the same pair is ignored, never duplicated.
    public func commit(runID: String, outcomes: [DetectorOutcome]) throws {
        try commit(runID: runID, batches: [OutcomeRows(outcomes)])
    }

    /// Commits several encoded batches in one transaction (all or nothing).
    public func commit(runID: String, batches: [OutcomeRows]) throws {
        try queue.write { db in
            var lanes = OutcomeLanes(runID: runID)
            for batch in batches {
                try insert(batch, lanes: &lanes, db: db)
            }
            try db.execute(sql: "UPDATE outcome_commits SET count = count + 1 WHERE id = 1")
        }
    }

    /// Commits batches of outcomes whose (sample, detector) pairs have no outcome yet (a run's
    /// executor knows which from its grid), in one transaction (all or nothing). A detector's
    /// batch is one `outcome_batches` row. Unlike `commit(runID:outcomes:)`, a pair given again
    /// here would be stored twice.
    public func commitNew(runID: String, _ batches: [NewOutcomes]) throws {
        try queue.write { db in
            var lanes = OutcomeLanes(runID: runID)
            for batch in batches {
                switch batch {
                case .rows(let rows):
                    try insert(rows, lanes: &lanes, db: db)
                case .batches(let parts):
                    for part in parts { try insert(part, lanes: &lanes, db: db) }
                }
            }
            try db.execute(sql: "UPDATE outcome_commits SET count = count + 1 WHERE id = 1")
        }
    }

    private func insert(_ part: OutcomeBatchJSON, lanes: inout OutcomeLanes, db: Database) throws {
        let lane = try lanes.lane(of: part.detector, db: db)
        let insert = try db.cachedStatement(sql: "INSERT INTO outcome_batches (lane, outcomes) VALUES (?, ?)")
        let h = insert.sqliteStatement
        sqlite3_reset(h)
        try part.text.withUnsafeBufferPointer { bytes in
            sqlite3_bind_int64(h, 1, lane)
            Self.bindText(h, 2, OutcomeRows.Span(start: 0, count: Int32(bytes.count)), in: bytes)
            try finishInsert(h, sqlite3_step(h), db: db, "a batch of \(part.count) outcomes of \(part.detector)")
        }
    }

    /// The lane (`outcome_lanes`) of each detector of one run, created on its first outcome; looked
    /// up once per change of detector within a batch, and only inside one transaction (a lane
    /// created by a transaction that rolls back is gone again).
    struct OutcomeLanes {
        let runID: String
        private var known: [String: Int64] = [:]

        init(runID: String) { self.runID = runID }

        mutating func lane(of detector: String, db: Database) throws -> Int64 {
            if let lane = known[detector] { return lane }
            // Read first: the lane exists from `createRun` for every planned detector, so a
            // commit writes no lane row unless a detector is new.
            let select = "SELECT lane FROM outcome_lanes WHERE run_id = ? AND detector = ?"
            var lane = try Int64.fetchOne(db, sql: select, arguments: [runID, detector])
            if lane == nil {
                try db.execute(sql: "INSERT INTO outcome_lanes (run_id, detector) VALUES (?, ?)", arguments: [runID, detector])
                lane = db.lastInsertedRowID
            }
            guard let lane else { throw DatabaseError(message: "no outcome lane for detector \(detector) of run \(runID)") }
            known[detector] = lane
            return lane
        }
    }

    /// Rows go in `rowsPerInsert` at a time (one statement per row cost more in opening and closing
    /// its cursors than the row itself), bound straight through SQLite's C API with the text in
    /// place (GRDB's argument arrays, and SQLite's copies of the text, cost more than the insert).
    private func insert(_ batch: OutcomeRows, lanes: inout OutcomeLanes, db: Database) throws {
        try batch.bytes.withUnsafeBufferPointer { bytes in
            guard !batch.rows.isEmpty else { return }
            guard bytes.baseAddress != nil else {
                throw StoreError.database(path: path, underlying: "cannot record outcomes without values")
            }
            func text(_ h: OpaquePointer, _ index: Int32, _ span: OutcomeRows.Span) { Self.bindText(h, index, span, in: bytes) }
            // Rows of a batch share their detector's text (one span): its lane is found once.
            var lastDetector = OutcomeRows.Span.null, lastLane: Int64 = 0
            var start = 0
            let rows = batch.rows
            while start < rows.count {
                let n = min(Self.rowsPerInsert, rows.count - start)
                let insert = try db.cachedStatement(sql: n == Self.rowsPerInsert ? Self.fullOutcomeInsert : Self.outcomeInsert(rows: n))
                let h = insert.sqliteStatement
                sqlite3_reset(h)
                for k in 0..<n {
                    let o = rows[start + k]
                    if o.detector != lastDetector {
                        lastDetector = o.detector
                        lastLane = try lanes.lane(of: batch.text(o.detector), db: db)
                    }
                    let c = Int32(9 * k)
                    text(h, c + 1, o.sampleID)
                    sqlite3_bind_int64(h, c + 2, lastLane)
                    text(h, c + 3, o.status)
                    text(h, c + 4, o.probs)
                    if let p = o.pAI { sqlite3_bind_double(h, c + 5, p) } else { sqlite3_bind_null(h, c + 5) }
                    if let p = o.predicted { sqlite3_bind_int64(h, c + 6, p) } else { sqlite3_bind_null(h, c + 6) }
                    text(h, c + 7, o.error)
                    sqlite3_bind_double(h, c + 8, o.latencyMs)
                    sqlite3_bind_int64(h, c + 9, o.batch)
                }
                try finishInsert(h, sqlite3_step(h), db: db,
                                 "the outcomes of samples \(batch.text(rows[start].sampleID)) ... for \(batch.text(rows[start].detector))")
                start += n
            }
        }
    }

    /// Readies a stepped INSERT for its next rows; a step that failed (`rc`) is an error naming `what`.
    private func finishInsert(_ h: OpaquePointer, _ rc: Int32, db: Database, _ what: @autoclosure () -> String) throws {
        sqlite3_reset(h)
        sqlite3_clear_bindings(h)
        guard rc == SQLITE_DONE else {
            throw StoreError.database(path: path, underlying: "cannot record \(what()): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
        }
    }

    /// Outcome rows per INSERT statement (9 parameters each, far below SQLite's limit of 32,766).
    static let rowsPerInsert = 64
    /// Sample rows made (and, recording beside the detectors, committed) at a time.
    public static let sampleChunk = 2048

    /// The INSERT statements' text, the full-size ones built once (not once per 64 rows).
    static func outcomeInsert(rows n: Int) -> String {
        """
        INSERT OR IGNORE INTO outcome_rows (sample_id, lane, status, probs_json, p_ai, predicted, error, latency_ms, batch)
        VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: n).joined(separator: ", "))
        """
    }
    static let fullOutcomeInsert = outcomeInsert(rows: rowsPerInsert)

    static func sampleInsert(rows n: Int) -> String {
        """
        INSERT OR IGNORE INTO samples (run_id, position, sample_id, uri, sha256, bytes, dataset, source_kind, media_type, modality,
                             label, seed, format, media_path, skip_reason, generator_family)
        VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: n).joined(separator: ", "))
        """
    }
    static let fullSampleInsert = sampleInsert(rows: rowsPerInsert)

    /// SQLITE_TRANSIENT: SQLite copies the text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func bind(_ h: OpaquePointer, _ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            if let base = bytes.baseAddress, bytes.count > 0 {
                _ = sqlite3_bind_text(h, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
            } else {
                _ = sqlite3_bind_text(h, index, "", 0, transient)
            }
        }
    }

    /// A resumed run is running again until it finishes.
    public func markRunning(id: String) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'running', finished_at = NULL WHERE id = ?", arguments: [id])
        }
    }

    public func finishRun(id: String, status: String, finishedAt: String) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", arguments: [status, finishedAt, id])
        }
    }

    public func writeScores(runID: String, scores: [DetectorScore]) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM metrics WHERE run_id = ?", arguments: [runID])
            try db.execute(sql: "DELETE FROM detector_scores WHERE run_id = ?", arguments: [runID])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO metrics (run_id, detector, scope, key, samples, tp, tn, fp, fn, accuracy, mcc, brier, cross_entropy, sn34,
                                     auc, ece, recall_real, recall_ai, sn34_ci_lower, sn34_ci_upper)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for score in scores {
                for (scope, key, m) in Self.metricRows(score) {
                    try insert.execute(arguments: [runID, score.detector, scope, key, m.samples, m.truePositives, m.trueNegatives,
                                                   m.falsePositives, m.falseNegatives, m.accuracy, m.mcc, m.brier, m.crossEntropy, m.sn34,
                                                   m.auc, m.ece, m.recallReal, m.recallAI, m.sn34CI?.lower, m.sn34CI?.upper])
                }
                let counts = String(decoding: try JSONSerialization.data(withJSONObject: score.statusCounts, options: [.sortedKeys]), as: UTF8.self)
                try db.execute(sql: """
                    INSERT INTO detector_scores (run_id, detector, sn34, coverage, invalidated, invalid_reason, status_counts_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [runID, score.detector, score.sn34, score.coverage, score.invalidated, score.invalidReason, counts])
            }
            FaultInjection.reach(.metricsWriting)
        }
    }

    /// Rows of the metrics table for one detector: the overall slice first, then the breakdowns.
    public static func metricRows(_ score: DetectorScore) -> [(scope: String, key: String, metrics: BinaryMetrics)] {
        [("overall", "all", score.overall)] + score.breakdowns.map { ($0.scope.rawValue, $0.key, $0.metrics) }
    }

    // MARK: Reading

    public func outcomes(runID: String) throws -> [DetectorOutcome] {
        try queue.read { db in
            let byLane = try Self.outcomesAreBatched(db)
            let batched = try byLane && Self.hasBatchedOutcomes(runID: runID, db: db)
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.* FROM \(byLane ? Self.outcomeRows : "outcomes") o JOIN samples s ON s.run_id = o.run_id AND s.sample_id = o.sample_id
                WHERE o.run_id = ? ORDER BY o.detector, s.position
                """, arguments: [runID]).map { row in
                guard let status = OutcomeStatus(rawValue: row["status"]) else {
                    throw StoreError.corrupt(path: path, what: "outcome status '\(String(describing: row["status"] as String?))'")
                }
                let probsText: String? = row["probs_json"]
                return DetectorOutcome(sampleID: row["sample_id"], detector: row["detector"], status: status,
                                       probs: probsText.flatMap(Self.parseArray), pAI: row["p_ai"], predicted: row["predicted"],
                                       error: row["error"], latencyMs: row["latency_ms"], batch: row["batch"])
            }
            return batched ? try Self.addingBatchedOutcomes(to: rows, runID: runID, db: db, path: path) : rows
        }
    }

    /// The run's samples in plan order. The table is scanned in storage order and each row put at
    /// its position (the primary-key index would cost a lookup per row and a sort); the few
    /// distinct datasets, formats and kinds share one string each. A resumed large round reads its
    /// plan from here.
    public func samples(runID: String) throws -> [PlannedSample] {
        try samplesInStorageOrder(runID: runID).samples
    }

    /// The samples, and their execution order when the table holds them in it (rows are inserted
    /// by sample id, so a run recorded by this version reads back sorted): the order then comes
    /// with the scan instead of a sort over ids scattered in memory. nil when the rows are not
    /// strictly by id. `count`: the plan's sample count when the caller knows it (plan reuse), so
    /// each row is put in its place as it is read (`RowPlacement`); a table that disagrees is damaged.
    public func samplesInStorageOrder(runID: String, count: Int? = nil) throws -> (samples: [PlannedSample], executionOrder: [Int]?) {
        try queue.read { db in
            let statement = try db.makeStatement(sql: """
                SELECT position, sample_id, uri, sha256, bytes, dataset, source_kind, media_type, modality, seed, format, media_path,
                       skip_reason, generator_family
                FROM samples NOT INDEXED WHERE run_id = ?
                """)
            try statement.setArguments([runID])
            var rows = RecordedSampleRows(statement.sqliteStatement, path: path)
            if let count {
                let samples = try [PlannedSample](unsafeUninitializedCapacity: count) { buffer, initialized in
                    var placement = RowPlacement(buffer, path: path)
                    do {
                        while let (position, sample) = try rows.next() { try placement.place(sample, at: position) }
                        initialized = try placement.finish()
                    } catch {
                        placement.discard()
                        initialized = 0
                        throw error
                    }
                }
                return (samples, rows.order.positions)
            }
            // Rows in the order read, then moved to their positions (counting first would be one more
            // scan of the whole table: the rows are the key's b-tree, there is no smaller index).
            var scanned: [PlannedSample] = [], positions: [Int] = []
            while let (position, sample) = try rows.next() {
                positions.append(position)
                scanned.append(sample)
            }
            try Self.checkPositions(positions, path: path) { scanned[$0].id }
            Self.moveToPositions(&scanned, positions)
            return (scanned, rows.order.positions)
        }
    }

    /// The rows of `samplesInStorageOrder`'s statement as samples, one step at a time. The id,
    /// sha256 and media path are packed from SQLite's bytes in place (no string each); the few
    /// distinct datasets, formats and kinds share one value each. A struct, not local functions
    /// over captured variables, which Swift checked for exclusive access on every call.
    struct RecordedSampleRows {
        private let h: OpaquePointer
        private let path: String
        private var strings = RecentValues<String>(), kinds = RecentValues<SourceKind>(), mediaTypes = RecentValues<MediaType>(),
                    modalities = RecentValues<Modality>()
        private var uris = SampleURISplitter()
        private(set) var order = StorageOrder()

        init(_ statement: OpaquePointer, path: String) {
            h = statement
            self.path = path
        }

        /// A text column's bytes, valid until the next step.
        private func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
            guard let pointer = sqlite3_column_text(h, column) else { return nil }
            return UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(h, column)))
        }

        private static func common<Value>(_ bytes: UnsafeBufferPointer<UInt8>?, _ recent: inout RecentValues<Value>,
                                          _ make: (String) -> Value?) -> Value? {
            bytes.flatMap { recent.value($0, make) }
        }

        mutating func next() throws -> (position: Int, sample: PlannedSample)? {
            let rc = sqlite3_step(h)
            if rc == SQLITE_DONE { return nil }
            guard rc == SQLITE_ROW else { throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(sqlite3_db_handle(h)))) }
            guard let id = bytes(1), let uriBytes = bytes(2), let sha = bytes(3),
                  let dataset = Self.common(bytes(5), &strings, { $0 }),
                  let kind = Self.common(bytes(6), &kinds, SourceKind.init(rawValue:)),
                  let media = Self.common(bytes(7), &mediaTypes, MediaType.init(rawValue:)),
                  let modality = Self.common(bytes(8), &modalities, Modality.init(rawValue:)),
                  let format = Self.common(bytes(10), &strings, { $0 }), let mediaPath = bytes(11) else {
                throw StoreError.corrupt(path: path, what: "sample \(RunLedger.text(h, 1) ?? "NULL") has a missing field or an unknown kind, media type or modality")
            }
            let position = Int(sqlite3_column_int64(h, 0))
            order.add(position, id: id)
            let sample = PlannedSample(idUTF8: id, sampleURI: uris.split(uriBytes), sha256UTF8: sha, byteCount: Int(sqlite3_column_int64(h, 4)),
                                       dataset: dataset, sourceKind: kind, mediaType: media, modality: modality,
                                       seed: UInt64(bitPattern: sqlite3_column_int64(h, 9)), format: format, mediaPathUTF8: mediaPath,
                                       skipReason: RunLedger.text(h, 12), generatorFamily: Self.common(bytes(13), &strings, { $0 }))
            return (position, sample)
        }
    }

    /// Rows put straight into their places in an array's uninitialized storage as they are read:
    /// no array in the order read, no moves after. A position outside the storage or taken twice,
    /// or fewer rows than it holds, is a damaged ledger; `discard` then undoes what was placed.
    struct RowPlacement {
        private let base: UnsafeMutablePointer<PlannedSample>?
        private let count: Int
        private let path: String
        private var placed: [Bool]
        private var filled = 0

        init(_ storage: UnsafeMutableBufferPointer<PlannedSample>, path: String) {
            base = storage.baseAddress
            count = storage.count
            self.path = path
            placed = [Bool](repeating: false, count: storage.count)
        }

        mutating func place(_ sample: consuming PlannedSample, at position: Int) throws {
            guard position >= 0, position < count, !placed[position], let base else {
                throw StoreError.corrupt(path: path, what: "sample \(sample.id) has position \(position), outside 0..<\(count) or taken twice")
            }
            (base + position).initialize(to: sample)
            placed[position] = true
            filled += 1
        }

        /// The count of rows placed, which must be every one.
        func finish() throws -> Int {
            guard filled == count else { throw StoreError.corrupt(path: path, what: "\(filled) samples recorded where the plan had \(count)") }
            return count
        }

        mutating func discard() {
            guard let base else { return }
            for position in 0..<count where placed[position] { (base + position).deinitialize(count: 1) }
            placed = []
            filled = 0
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map { row in
                let seed: Int64 = row["seed"]
                return RunRecord(id: row["id"], roundName: row["round_name"], specPath: row["spec_path"], specText: row["spec_text"],
                                 resolvedSpecJSON: row["resolved_spec_json"], manifestHash: row["manifest_hash"],
                                 toolVersion: row["tool_version"], seed: UInt64(bitPattern: seed), startedAt: row["started_at"],
                                 finishedAt: row["finished_at"], status: row["status"])
            }
        }
    }

    /// How many outcome commits the file has seen: unchanged means nothing was committed since it was read.
    public func outcomeWatermark() throws -> Int64 {
        try queue.read { db in try Int64.fetchOne(db, sql: "SELECT count FROM outcome_commits WHERE id = 1") ?? 0 }
    }

    /// The run's sample ids in plan order, without the rest of the samples, and their execution
    /// order when the table holds them in it (see `samplesInStorageOrder`).
    public func sampleIDs(runID: String) throws -> (ids: [String], executionOrder: [Int]?) {
        try queue.read { db in
            var scanned: [String] = [], positions: [Int] = []
            var order = StorageOrder()
            let statement = try db.makeStatement(sql: "SELECT position, sample_id FROM samples NOT INDEXED WHERE run_id = ?")
            try statement.setArguments([runID])
            let h = statement.sqliteStatement
            while true {
                let rc = sqlite3_step(h)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(db.sqliteConnection))) }
                let position = Int(sqlite3_column_int64(h, 0))
                guard let idPointer = sqlite3_column_text(h, 1) else {
                    throw StoreError.corrupt(path: path, what: "the sample at position \(position) has no id")
                }
                let bytes = UnsafeBufferPointer(start: idPointer, count: Int(sqlite3_column_bytes(h, 1)))
                order.add(position, id: bytes)
                scanned.append(String(decoding: bytes, as: UTF8.self))
                positions.append(position)
            }
            try Self.checkPositions(positions, path: path) { scanned[$0] }
            Self.moveToPositions(&scanned, positions)
            return (scanned, order.positions)
        }
    }

    /// Positions are 0..<n, each once (the plan's order); anything else is a damaged ledger.
    /// `id(k)`: the id of the k-th row read, for the message.
    static func checkPositions(_ positions: [Int], path: String, id: (Int) -> String) throws {
        var placed = [Bool](repeating: false, count: positions.count)
        for (k, position) in positions.enumerated() {
            guard position >= 0, position < positions.count, !placed[position] else {
                throw StoreError.corrupt(path: path, what: "sample \(id(k)) has position \(position), outside 0..<\(positions.count) or taken twice")
            }
            placed[position] = true
        }
    }

    /// Moves row k to `positions[k]` in place, cycle by cycle (`positions` is a permutation, as
    /// `checkPositions` made sure): no second array of every row is made and filled.
    static func moveToPositions<Row>(_ rows: inout [Row], _ positions: [Int]) {
        var positions = positions
        for start in rows.indices {
            while positions[start] != start {
                let target = positions[start]
                rows.swapAt(start, target)
                positions.swapAt(start, target)
            }
        }
    }

    public func count(_ table: String, runID: String) throws -> Int {
        precondition(["samples", "outcomes", "metrics", "detectors"].contains(table))
        return try queue.read { db in
            if table == "outcomes" {
                var count = 0
                if try scanStoredOutcomes(runID: runID, db: db, { _, _, _ in count += 1 }) { return count }
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE run_id = ?", arguments: [runID]) ?? 0
        }
    }

    /// Positions in the order rows are read, kept while each id is greater than the last: then
    /// they are the execution order (`ExecutionOrder`, sample ids by their bytes).
    struct StorageOrder {
        private var order: [Int] = []
        private var previous: [UInt8] = []
        private var sorted = true

        init(count: Int = 0) { order.reserveCapacity(count) }

        mutating func add(_ position: Int, id: UnsafeBufferPointer<UInt8>) {
            guard sorted else { return }
            if !order.isEmpty {
                guard previous.withUnsafeBufferPointer({ $0.compareBytes(id) }) < 0 else {
                    sorted = false
                    order = []
                    return
                }
            }
            previous.removeAll(keepingCapacity: true)
            previous.append(contentsOf: id)
            order.append(position)
        }

        var positions: [Int]? { sorted ? order : nil }
    }

    /// Values of a column with few distinct values (datasets, kinds, formats), made once each:
    /// the last few seen are compared by their bytes before a new one is made.
    struct RecentValues<Value> {
        private var known: [(bytes: [UInt8], value: Value)] = []
        private var next = 0

        mutating func value(_ bytes: UnsafeBufferPointer<UInt8>, _ make: (String) -> Value?) -> Value? {
            for entry in known where entry.bytes.withUnsafeBufferPointer({ $0.hasSameBytes(as: bytes) }) {
                return entry.value
            }
            guard let value = make(String(decoding: bytes, as: UTF8.self)) else { return nil }
            if known.count < 16 {
                known.append((Array(bytes), value))
            } else {
                known[next] = (Array(bytes), value)
                next = (next + 1) % 16
            }
            return value
        }
    }

    // MARK: JSON arrays of doubles, round-trippable

    static func jsonArray(_ values: [Double]) -> String {
        var bytes: [UInt8] = []
        OutcomeRows.appendJSONArray(values, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func parseArray(_ text: String) -> [Double]? {
        // Split on commas, ignoring brackets and spaces (what trimming did, without CharacterSet).
        var values: [Double] = []
        for part in text.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            let token = part.filter { $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: " ") }
            if let v = Double(String(decoding: token, as: UTF8.self)) { values.append(v) }
        }
        return values
    }
}

/// Sample rows ready to bind: the text of each (11 values a row, `SampleRowText`) and its numbers.
struct SampleRows {
    struct Numbers {
        var position: Int64
        var byteCount: Int64
        var label: Int64
        var seed: Int64
    }
    var text = SampleRowText()
    var numbers: [Numbers] = []
    var count: Int { numbers.count }

    /// The rows of `samples[order[range]]`, the samples read in place (a copy retains every string of one).
    init(_ samples: [PlannedSample], order: [Int], range: Range<Int>) {
        numbers.reserveCapacity(range.count)
        text.bytes.reserveCapacity(range.count * 256)
        text.spans.reserveCapacity(range.count * 11)
        samples.withUnsafeBufferPointer { samples in
            for k in range {
                let p = order[k]
                samples[p].withIDUTF8 { text.append(utf8: $0) }; text.append(samples[p].sampleURI); samples[p].withSHA256UTF8 { text.append(utf8: $0) }; text.append(samples[p].dataset)
                text.append(samples[p].sourceKind.rawValue); text.append(samples[p].mediaType.rawValue); text.append(samples[p].modality.rawValue)
                text.append(samples[p].format); samples[p].withMediaPathUTF8 { text.append(utf8: $0) }
                text.appendOptional(samples[p].skipReason); text.appendOptional(samples[p].generatorFamily)
                numbers.append(Numbers(position: Int64(p), byteCount: Int64(samples[p].byteCount), label: Int64(samples[p].label),
                                       seed: Int64(bitPattern: samples[p].seed)))
            }
        }
    }
}

/// The text of a chunk of sample rows in one buffer, for binding in place (see `insertSamples`).
struct SampleRowText {
    typealias Span = OutcomeRows.Span
    var bytes: [UInt8] = []
    var spans: [Span] = []

    init() {
        bytes.reserveCapacity(64 * 512)
        spans.reserveCapacity(64 * 11)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func append(_ value: String) {
        var value = value
        value.withUTF8 { append(utf8: $0) }
    }

    @inline(__always)
    mutating func append(utf8 value: UnsafeBufferPointer<UInt8>) {
        let start = Int32(bytes.count)
        bytes.append(contentsOf: value)
        spans.append(Span(start: start, count: Int32(bytes.count) - start))
    }

    /// A split URI as one value.
    @inline(__always)
    mutating func append(_ uri: SampleURI) {
        let start = Int32(bytes.count)
        uri.forEachPiece { bytes.append(contentsOf: $0) }
        spans.append(Span(start: start, count: Int32(bytes.count) - start))
    }

    @inline(__always)
    mutating func appendOptional(_ value: String?) {
        if let value { append(value) } else { spans.append(.null) }
    }

    /// The text of span `t` (error messages).
    func text(t: Int) -> String {
        let span = spans[t]
        return span.count < 0 ? "NULL" : String(decoding: bytes[Int(span.start)..<Int(span.start + span.count)], as: UTF8.self)
    }
}
