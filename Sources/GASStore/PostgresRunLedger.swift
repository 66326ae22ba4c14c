import Foundation
import GASCore
import Logging
import PostgresNIO

/// The run ledger in a shared PostgreSQL database, so processes on several machines commit the
/// outcomes of one run into one place. Same tables and queries as the SQLite `RunLedger` (see
/// `PostgresLedgerSchema`); every write is one transaction and idempotent (`ON CONFLICT DO
/// NOTHING`), so a transaction cut off by a lost connection is retried whole on a new
/// connection, a bounded number of times with backoff, and is never half-committed.
public final class PostgresRunLedger: OutcomeLedger {
    /// How often an operation cut off by a lost connection is tried, and how long to wait between
    /// tries (doubling each time).
    public struct RetryPolicy: Sendable {
        public var attempts: Int
        public var firstDelay: Duration
        public init(attempts: Int, firstDelay: Duration) {
            self.attempts = max(1, attempts)
            self.firstDelay = firstDelay
        }
        /// 6 tries over about 6 seconds.
        public static let standard = RetryPolicy(attempts: 6, firstDelay: .milliseconds(200))
    }

    public let server: LedgerURL.PostgresLocation
    /// The URL without its password.
    public let location: String
    let retry: RetryPolicy
    let connections: ConnectionCache
    let logger: Logger
    /// Called inside each try of a write transaction, after its statements and before COMMIT,
    /// with the try's number and the server process serving it: tests cut the connection there,
    /// in the middle of a batch.
    let beforeCommit: BeforeCommit?
    public typealias BeforeCommit = @Sendable (_ operation: String, _ attempt: Int, _ backendPID: Int) async -> Void

    init(server: LedgerURL.PostgresLocation, environment: [String: String], retry: RetryPolicy, beforeCommit: BeforeCommit?) {
        self.server = server
        self.location = server.redacted
        self.retry = retry
        self.beforeCommit = beforeCommit
        var logger = Logger(label: "gascli.ledger.postgres")
        logger.logLevel = .critical
        self.logger = logger
        let user = server.user ?? environment["PGUSER"] ?? "postgres"
        var configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: user,
            password: server.password ?? environment["PGPASSWORD"],
            database: server.database ?? environment["PGDATABASE"] ?? user, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        // Lets an operator find (and a test cut) gascli's sessions in pg_stat_activity.
        configuration.options.additionalStartupParameters = [("application_name", "gascli")]
        self.connections = ConnectionCache(configuration: configuration, logger: logger)
    }

    /// Connects (once: a server that cannot be reached is reported at once, with the fix), then
    /// applies the migrations this gascli knows, refusing a database with migrations it does not.
    /// The password comes from the URL or `PGPASSWORD`; a missing user from `PGUSER`.
    public static func open(_ server: LedgerURL.PostgresLocation,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            retry: RetryPolicy = .standard,
                            beforeCommit: BeforeCommit? = nil)
        async throws -> PostgresRunLedger {
        let ledger = PostgresRunLedger(server: server, environment: environment, retry: retry, beforeCommit: beforeCommit)
        let connection: PostgresConnection
        do {
            connection = try await ledger.connections.take()
        } catch {
            throw PostgresLedgerError.cannotConnect(url: ledger.location, reason: describe(error), fix: connectFix(error, server: server))
        }
        await ledger.connections.giveBack(connection)
        try await ledger.migrate()
        return ledger
    }

    /// Closes the idle connections. Safe to call more than once.
    public func close() async {
        await connections.closeAll()
    }

    // MARK: Schema

    func migrate() async throws {
        try await transaction("applying schema migrations") { c in
            // One migrating process at a time; the others wait here and then find nothing to do.
            try await c.run("SELECT pg_advisory_xact_lock(7431000034)")
            try await c.run("CREATE TABLE IF NOT EXISTS \(unescaped: PostgresLedgerSchema.versionTable) (identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            var applied: [String] = []
            for try await row in try await c.rows("SELECT identifier FROM \(unescaped: PostgresLedgerSchema.versionTable)") {
                applied.append(try row.decode(String.self))
            }
            let known = PostgresLedgerSchema.migrations.map(\.identifier)
            let unknown = applied.filter { !known.contains($0) }
            if !unknown.isEmpty { throw StoreError.newerSchema(path: self.location, unknown: unknown.sorted()) }
            for migration in PostgresLedgerSchema.migrations where !applied.contains(migration.identifier) {
                for statement in migration.sql { try await c.run(PostgresQuery(unsafeSQL: statement)) }
                try await c.run("INSERT INTO \(unescaped: PostgresLedgerSchema.versionTable) (identifier) VALUES (\(migration.identifier))")
            }
        }
    }

    /// Migration identifiers recorded in the database, in the order applied.
    public func appliedMigrations() async throws -> [String] {
        try await read("reading the schema version") { c in
            var result: [String] = []
            for try await row in try await c.rows("SELECT identifier FROM \(unescaped: PostgresLedgerSchema.versionTable) ORDER BY applied_at, identifier") {
                result.append(try row.decode(String.self))
            }
            return result
        }
    }

    // MARK: Runs

    public func openRun(_ run: RunRecord, samples: [PlannedSample], detectors: [DetectorRecord]) async throws -> OpenedRun {
        try await transaction("recording run \(run.id)") { c in
            // Processes opening the same run wait for each other: the first records it, the rest find it.
            try await c.run("SELECT pg_advisory_xact_lock(hashtext(\(run.id)))")
            if let existing = try await Self.fetchRun(c, id: run.id) {
                guard existing.manifestHash == run.manifestHash else {
                    throw ManifestMismatch(runID: run.id, location: self.location, recorded: existing.manifestHash, planned: run.manifestHash)
                }
                return .existing(existing)
            }
            try await c.run("""
                INSERT INTO runs (id, round_name, spec_path, spec_text, resolved_spec_json, manifest_hash, tool_version, seed, started_at, finished_at, status)
                VALUES (\(run.id), \(run.roundName), \(run.specPath), \(run.specText), \(run.resolvedSpecJSON), \(run.manifestHash),
                        \(run.toolVersion), \(Int64(bitPattern: run.seed)), \(run.startedAt), \(run.finishedAt), \(run.status))
                """)
            let sampleRows: [[any Bindable]] = samples.enumerated().map { position, s in
                [run.id, position, s.id, s.uri, s.sha256, s.byteCount, s.dataset, s.sourceKind.rawValue, s.mediaType.rawValue,
                 s.modality.rawValue, s.label, Int64(bitPattern: s.seed), s.format, s.mediaPath, s.skipReason, s.generatorFamily]
            }
            try await c.insert(into: "samples", columns: ["run_id", "position", "sample_id", "uri", "sha256", "bytes", "dataset", "source_kind",
                                                          "media_type", "modality", "label", "seed", "format", "media_path", "skip_reason",
                                                          "generator_family"], rows: sampleRows)
            let detectorRows: [[any Bindable]] = detectors.enumerated().map { position, d in
                [run.id, position, d.name, d.adapter, d.configJSON, d.artifactSHA256]
            }
            try await c.insert(into: "detectors", columns: ["run_id", "position", "name", "adapter", "config_json", "artifact_sha256"], rows: detectorRows)
            return .created
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await read("reading run \(id)") { c in try await Self.fetchRun(c, id: id) }
    }

    /// The newest run of the round that has not completed, if any: what a rerun of the same spec resumes.
    public func unfinishedRun(round: String) async throws -> RunRecord? {
        try await read("looking for an unfinished run of \(round)") { c in
            var found: RunRecord?
            for try await row in try await c.rows("""
                SELECT * FROM runs WHERE round_name = \(round) AND status <> 'completed' ORDER BY started_at DESC, id DESC LIMIT 1
                """) {
                found = try Self.runRecord(row)
            }
            return found
        }
    }

    public func runIDs() async throws -> [String] {
        try await read("listing runs") { c in
            var ids: [String] = []
            for try await row in try await c.rows("SELECT id FROM runs ORDER BY started_at, id") { ids.append(try row.decode(String.self)) }
            return ids
        }
    }

    static func fetchRun(_ c: Session, id: String) async throws -> RunRecord? {
        var found: RunRecord?
        for try await row in try await c.rows("SELECT * FROM runs WHERE id = \(id)") { found = try runRecord(row) }
        return found
    }

    static func runRecord(_ row: PostgresRow) throws -> RunRecord {
        let r = row.makeRandomAccess()
        return RunRecord(id: try r["id"].decode(String.self), roundName: try r["round_name"].decode(String.self),
                         specPath: try r["spec_path"].decode(String.self), specText: try r["spec_text"].decode(String.self),
                         resolvedSpecJSON: try r["resolved_spec_json"].decode(String.self),
                         manifestHash: try r["manifest_hash"].decode(String.self), toolVersion: try r["tool_version"].decode(String.self),
                         seed: UInt64(bitPattern: try r["seed"].decode(Int64.self)), startedAt: try r["started_at"].decode(String.self),
                         finishedAt: try r["finished_at"].decode(String?.self), status: try r["status"].decode(String.self))
    }

    public func markRunning(id: String) async throws {
        try await transaction("marking run \(id) running") { c in
            try await c.run("UPDATE runs SET status = 'running', finished_at = NULL WHERE id = \(id)")
        }
    }

    public func finishRun(id: String, status: String, finishedAt: String) async throws {
        try await transaction("marking run \(id) \(status)") { c in
            try await c.run("UPDATE runs SET status = \(status), finished_at = \(finishedAt) WHERE id = \(id)")
        }
    }

    // MARK: Outcomes

    public func commit(runID: String, outcomes: [DetectorOutcome]) async throws {
        guard !outcomes.isEmpty else { return }
        let rows: [[any Bindable]] = outcomes.map { o in
            [runID, o.sampleID, o.detector, o.status.rawValue, o.probs.map(RunLedger.jsonArray), o.pAI, o.predicted, o.error, o.latencyMs, o.batch]
        }
        try await transaction("committing a batch of \(outcomes.count) outcomes of run \(runID)") { c in
            try await c.insert(into: "outcomes", columns: ["run_id", "sample_id", "detector", "status", "probs_json", "p_ai", "predicted", "error",
                                                           "latency_ms", "batch"], rows: rows, ignoringConflicts: true)
        }
    }

    public func committedPairs(runID: String) async throws -> [String: Set<String>] {
        try await read("reading committed outcomes of run \(runID)") { c in
            var pairs: [String: Set<String>] = [:]
            for try await (detector, sample) in try await c.rows("SELECT detector, sample_id FROM outcomes WHERE run_id = \(runID)").decode((String, String).self) {
                pairs[detector, default: []].insert(sample)
            }
            return pairs
        }
    }

    public func lastBatch(runID: String) async throws -> [String: Int] {
        try await read("reading batch numbers of run \(runID)") { c in
            var result: [String: Int] = [:]
            for try await (detector, batch) in try await c.rows("SELECT detector, MAX(batch) FROM outcomes WHERE run_id = \(runID) GROUP BY detector").decode((String, Int).self) {
                result[detector] = batch
            }
            return result
        }
    }

    public func count(_ table: String, runID: String) async throws -> Int {
        precondition(["samples", "outcomes", "metrics", "detectors"].contains(table))
        return try await read("counting \(table) of run \(runID)") { c in
            var n = 0
            for try await row in try await c.rows("SELECT COUNT(*) FROM \(unescaped: table) WHERE run_id = \(runID)") { n = try row.decode(Int.self) }
            return n
        }
    }

    public func statusCounts(runID: String) async throws -> [String: [String: Int]] {
        try await read("counting outcomes of run \(runID)") { c in
            var result: [String: [String: Int]] = [:]
            for try await (detector, status, n) in try await c.rows("SELECT detector, status, COUNT(*) FROM outcomes WHERE run_id = \(runID) GROUP BY detector, status").decode((String, String, Int).self) {
                result[detector, default: [:]][status] = n
            }
            return result
        }
    }

    // MARK: Scores

    public func writeScores(runID: String, scores: [DetectorScore]) async throws {
        var metricRows: [[any Bindable]] = []
        var scoreRows: [[any Bindable]] = []
        for score in scores {
            for (scope, key, m) in RunLedger.metricRows(score) {
                metricRows.append([runID, score.detector, scope, key, m.samples, m.truePositives, m.trueNegatives, m.falsePositives,
                                   m.falseNegatives, m.accuracy, m.mcc, m.brier, m.crossEntropy, m.sn34, m.auc, m.ece, m.recallReal,
                                   m.recallAI, m.sn34CI?.lower, m.sn34CI?.upper])
            }
            let counts = String(decoding: try JSONSerialization.data(withJSONObject: score.statusCounts, options: [.sortedKeys]), as: UTF8.self)
            scoreRows.append([runID, score.detector, score.sn34, score.coverage, score.invalidated, score.invalidReason, counts])
        }
        let metrics = metricRows, detectorScores = scoreRows
        try await transaction("writing the scores of run \(runID)") { c in
            try await c.run("DELETE FROM metrics WHERE run_id = \(runID)")
            try await c.run("DELETE FROM detector_scores WHERE run_id = \(runID)")
            try await c.insert(into: "metrics", columns: ["run_id", "detector", "scope", "key", "samples", "tp", "tn", "fp", "fn", "accuracy", "mcc",
                                                          "brier", "cross_entropy", "sn34", "auc", "ece", "recall_real", "recall_ai",
                                                          "sn34_ci_lower", "sn34_ci_upper"], rows: metrics)
            try await c.insert(into: "detector_scores", columns: ["run_id", "detector", "sn34", "coverage", "invalidated", "invalid_reason",
                                                                  "status_counts_json"], rows: detectorScores)
        }
    }

    public func metricsRows(runID: String) async throws -> [(detector: String, scope: String, key: String, metrics: BinaryMetrics)] {
        try await read("reading the metrics of run \(runID)") { c in
            var result: [(detector: String, scope: String, key: String, metrics: BinaryMetrics)] = []
            for try await row in try await c.rows("""
                SELECT * FROM metrics WHERE run_id = \(runID) ORDER BY detector COLLATE "C", scope COLLATE "C", key COLLATE "C"
                """) {
                let r = row.makeRandomAccess()
                func double(_ name: String) throws -> Double { try r[name].decode(Double.self) }
                func optional(_ name: String) throws -> Double? { try r[name].decode(Double?.self) }
                let metrics = BinaryMetrics(
                    samples: try r["samples"].decode(Int.self), truePositives: try r["tp"].decode(Int.self),
                    trueNegatives: try r["tn"].decode(Int.self), falsePositives: try r["fp"].decode(Int.self),
                    falseNegatives: try r["fn"].decode(Int.self), accuracy: try double("accuracy"), mcc: try double("mcc"),
                    brier: try double("brier"), crossEntropy: try double("cross_entropy"), sn34: try double("sn34"),
                    auc: try optional("auc"), ece: try optional("ece"), recallReal: try optional("recall_real"),
                    recallAI: try optional("recall_ai"),
                    sn34CI: RunLedger.interval(lower: try optional("sn34_ci_lower"), upper: try optional("sn34_ci_upper")))
                result.append((try r["detector"].decode(String.self), try r["scope"].decode(String.self), try r["key"].decode(String.self), metrics))
            }
            return result
        }
    }

    public func detectorScores(runID: String) async throws -> [(detector: String, sn34: Double, coverage: Double, invalidated: Bool)] {
        try await read("reading the scores of run \(runID)") { c in
            var result: [(detector: String, sn34: Double, coverage: Double, invalidated: Bool)] = []
            for try await (detector, sn34, coverage, invalidated) in try await c.rows("""
                SELECT detector, sn34, coverage, invalidated FROM detector_scores WHERE run_id = \(runID) ORDER BY sn34 DESC, detector COLLATE "C"
                """).decode((String, Double, Double, Bool).self) {
                result.append((detector, sn34, coverage, invalidated))
            }
            return result
        }
    }

    // MARK: Reading a run back

    public func outcomes(runID: String) async throws -> [DetectorOutcome] {
        try await read("reading the outcomes of run \(runID)") { c in
            var result: [DetectorOutcome] = []
            for try await row in try await c.rows("""
                SELECT o.sample_id, o.detector, o.status, o.probs_json, o.p_ai, o.predicted, o.error, o.latency_ms, o.batch
                FROM outcomes o JOIN samples s ON s.run_id = o.run_id AND s.sample_id = o.sample_id
                WHERE o.run_id = \(runID) ORDER BY o.detector COLLATE "C", s.position
                """) {
                let (sample, detector, statusText, probsText, pAI, predicted, error, latency, batch) =
                    try row.decode((String, String, String, String?, Double?, Int?, String?, Double, Int).self)
                guard let status = OutcomeStatus(rawValue: statusText) else {
                    throw StoreError.corrupt(path: self.location, what: "outcome status '\(statusText)'")
                }
                result.append(DetectorOutcome(sampleID: sample, detector: detector, status: status, probs: probsText.flatMap(RunLedger.parseArray),
                                              pAI: pAI, predicted: predicted, error: error, latencyMs: latency, batch: batch))
            }
            return result
        }
    }

    public func samples(runID: String) async throws -> [PlannedSample] {
        try await read("reading the samples of run \(runID)") { c in
            var result: [PlannedSample] = []
            for try await row in try await c.rows("SELECT * FROM samples WHERE run_id = \(runID) ORDER BY position") {
                let r = row.makeRandomAccess()
                let id = try r["sample_id"].decode(String.self)
                guard let kind = SourceKind(rawValue: try r["source_kind"].decode(String.self)),
                      let media = MediaType(rawValue: try r["media_type"].decode(String.self)),
                      let modality = Modality(rawValue: try r["modality"].decode(String.self)) else {
                    throw StoreError.corrupt(path: self.location, what: "sample \(id) has an unknown kind, media type or modality")
                }
                result.append(PlannedSample(
                    id: id, uri: try r["uri"].decode(String.self), sha256: try r["sha256"].decode(String.self),
                    byteCount: try r["bytes"].decode(Int.self), dataset: try r["dataset"].decode(String.self), sourceKind: kind,
                    mediaType: media, modality: modality, seed: UInt64(bitPattern: try r["seed"].decode(Int64.self)),
                    format: try r["format"].decode(String.self), mediaPath: try r["media_path"].decode(String.self),
                    skipReason: try r["skip_reason"].decode(String?.self), generatorFamily: try r["generator_family"].decode(String?.self)))
            }
            return result
        }
    }

    public func detectors(runID: String) async throws -> [DetectorRecord] {
        try await read("reading the detectors of run \(runID)") { c in
            var result: [DetectorRecord] = []
            for try await (name, adapter, config, artifact) in try await c.rows("""
                SELECT name, adapter, config_json, artifact_sha256 FROM detectors WHERE run_id = \(runID) ORDER BY position
                """).decode((String, String, String, String?).self) {
                result.append(DetectorRecord(name: name, adapter: adapter, configJSON: config, artifactSHA256: artifact))
            }
            return result
        }
    }

    // MARK: Transactions with retry

    /// Runs `body` in one transaction on a cached connection. When the connection is lost (or
    /// the server cuts it), the transaction is gone as a whole and is tried again from the
    /// start on a new connection; other errors are thrown at once.
    func transaction<T: Sendable>(_ operation: String, _ body: @Sendable (Session) async throws -> T) async throws -> T {
        try await withRetry(operation) { c, attempt in
            try await c.run("BEGIN")
            let value = try await body(c)
            if let beforeCommit {
                var pid = 0
                for try await row in try await c.rows("SELECT pg_backend_pid()") { pid = try row.decode(Int.self) }
                await beforeCommit(operation, attempt, pid)
            }
            try await c.run("COMMIT")
            return value
        }
    }

    func read<T: Sendable>(_ operation: String, _ body: @Sendable (Session) async throws -> T) async throws -> T {
        try await withRetry(operation) { c, _ in try await body(c) }
    }

    func withRetry<T: Sendable>(_ operation: String, _ body: @Sendable (Session, Int) async throws -> T) async throws -> T {
        var delay = retry.firstDelay
        var attempt = 0
        while true {
            attempt += 1
            var connection: PostgresConnection?
            do {
                let c = try await connections.take()
                connection = c
                let value = try await body(Session(connection: c, logger: logger), attempt)
                await connections.giveBack(c)
                return value
            } catch {
                // A connection that saw an error is never reused: an open transaction on it dies with it.
                if let connection { try? await connection.close() }
                guard Self.isConnectionLoss(error) else {
                    if error is ManifestMismatch || error is StoreError || error is PostgresLedgerError { throw error }
                    throw PostgresLedgerError.server(url: location, operation: operation, message: Self.describe(error))
                }
                guard attempt < retry.attempts else {
                    throw PostgresLedgerError.connectionLost(url: location, operation: operation, attempts: attempt, reason: Self.describe(error))
                }
                try await Task.sleep(for: delay)
                delay = delay * 2
            }
        }
    }

    /// A connection that broke, or a server that ended the session (shutdown, terminated
    /// backend): the transaction in flight was rolled back by the server and can be tried again.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if let p = error as? PSQLError {
            switch p.code {
            case .serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection: return true
            case .server:
                let state = p.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "40001", "40P01"].contains(state)
            default: return false
            }
        }
        return error is ConnectionClosed || error is ChannelError || error is IOError
    }

    static func describe(_ error: any Error) -> String {
        if let p = error as? PSQLError {
            if let info = p.serverInfo {
                let message = info[.message] ?? "server error"
                let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + state
            }
            if let underlying = p.underlying { return "\(p.code): \(underlying)" }
            return "\(p.code)"
        }
        if let e = error as? PostgresDecodingError { return "cannot read a column: \(String(reflecting: e))" }
        return "\(error)"
    }

    static func connectFix(_ error: any Error, server: LedgerURL.PostgresLocation) -> String {
        let state = (error as? PSQLError)?.serverInfo?[.sqlState] ?? ""
        switch state {
        case "3D000":
            return "create the database (createdb -h \(server.host) -p \(server.port) \(server.database ?? "NAME")) or name an existing one in the URL"
        case "28P01", "28000":
            return "check the user name in the URL and the password (PGPASSWORD, or the URL), and the server's pg_hba.conf"
        default:
            return "check that PostgreSQL is running and accepts TCP connections on \(server.host):\(server.port) (listen_addresses, port, pg_hba.conf, firewall)"
        }
    }
}

/// Errors of the PostgreSQL ledger; each names the server (without its password) and the fix.
public enum PostgresLedgerError: Error, CustomStringConvertible {
    case cannotConnect(url: String, reason: String, fix: String)
    case connectionLost(url: String, operation: String, attempts: Int, reason: String)
    case server(url: String, operation: String, message: String)

    public var description: String {
        switch self {
        case let .cannotConnect(url, reason, fix):
            "cannot open the PostgreSQL ledger at \(url): \(reason). Fix: \(fix)."
        case let .connectionLost(url, operation, attempts, reason):
            "lost the connection to the PostgreSQL ledger at \(url) while \(operation), and \(attempts) tries did not get it back (last error: \(reason)). Nothing of that transaction was committed: a batch is committed whole or not at all. Once the server is reachable, run the same command again: the run resumes from its committed batches."
        case let .server(url, operation, message):
            "the PostgreSQL ledger at \(url) refused \(operation): \(message)"
        }
    }
}

/// The connection was closed before a statement could be sent.
struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the server closed the connection" }
}

/// Values a row of a bulk insert can hold.
protocol Bindable: Sendable {
    func bind(into bindings: inout PostgresBindings)
}

extension String: Bindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Int: Bindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Int64: Bindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Double: Bindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Bool: Bindable { func bind(into b: inout PostgresBindings) { b.append(self) } }
extension Optional: Bindable where Wrapped: Bindable {
    func bind(into b: inout PostgresBindings) {
        switch self {
        case .none: b.appendNull()
        case let .some(value): value.bind(into: &b)
        }
    }
}

/// One connection lent to one operation.
struct Session: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement and drains whatever rows it returns.
    func run(_ query: PostgresQuery) async throws {
        for try await _ in try await rows(query) {}
    }

    func rows(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        // postgres-nio never answers a query written to a connection already closed (the server
        // ended the session between two statements): ask first.
        guard !connection.isClosed else { throw ConnectionClosed() }
        return try await connection.query(query, logger: logger)
    }

    /// Multi-row INSERTs, as many rows per statement as stay under PostgreSQL's 65535 parameters.
    func insert(into table: String, columns: [String], rows: [[any Bindable]], ignoringConflicts: Bool = false) async throws {
        guard !rows.isEmpty else { return }
        let perStatement = max(1, min(1000, 60000 / columns.count))
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            start += chunk.count
            var bindings = PostgresBindings(capacity: chunk.count * columns.count)
            var values: [String] = []
            values.reserveCapacity(chunk.count)
            var n = 0
            for row in chunk {
                precondition(row.count == columns.count, "a row of \(table) has \(row.count) values for \(columns.count) columns")
                var placeholders: [String] = []
                for value in row {
                    n += 1
                    placeholders.append("$\(n)")
                    value.bind(into: &bindings)
                }
                values.append("(" + placeholders.joined(separator: ",") + ")")
            }
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + values.joined(separator: ",")
                + (ignoringConflicts ? " ON CONFLICT DO NOTHING" : "")
            try await run(PostgresQuery(unsafeSQL: sql, binds: bindings))
        }
    }
}

/// Connections kept open between operations, one per operation in flight: several detectors
/// commit their batches concurrently, each on its own connection and transaction.
actor ConnectionCache {
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    private var idle: [PostgresConnection] = []
    private var nextID = 0

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func take() async throws -> PostgresConnection {
        while let connection = idle.popLast() {
            if !connection.isClosed { return connection }
        }
        nextID += 1
        return try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
    }

    func giveBack(_ connection: PostgresConnection) {
        if !connection.isClosed { idle.append(connection) }
    }

    func closeAll() async {
        let all = idle
        idle = []
        for connection in all { try? await connection.close() }
    }
}
