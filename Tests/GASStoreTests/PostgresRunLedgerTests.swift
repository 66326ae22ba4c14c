import Foundation
import Testing
import GASCore
import GASTestSupport
@testable import GASStore

/// The shared PostgreSQL ledger against a real server (hosts/postgres/local-server.sh on loopback),
/// compared with the SQLite ledger it stands in for. Each test works in a database of its own.
@Suite(.enabled(if: LocalPostgres.available, "needs PostgreSQL server binaries (./install.sh --with-test-tools)"))
struct PostgresRunLedgerTests {
    /// Doubles that print and parse awkwardly: each must come back with the same bits.
    static let awkward: [Double] = [0.1 + 0.2, 1.0 / 3.0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.5.nextUp,
                                    1e-300, 0.999_999_999_999_999_9, 2.0 / 7.0, 0.7]

    func sample(_ i: Int) -> PlannedSample {
        PlannedSample(id: "s\(i)", uri: "dataset://d/\(i).png", sha256: String(repeating: "a", count: 64), byteCount: 10 + i, dataset: "d",
                      sourceKind: i % 3 == 0 ? .synthetic : .real, mediaType: i % 2 == 0 ? .real : .synthetic, modality: .image,
                      seed: UInt64.max - UInt64(i), format: "png", mediaPath: "media/aa/\(i).png", skipReason: i == 2 ? "unreadable" : nil,
                      generatorFamily: i % 4 == 1 ? "gan" : nil)
    }

    var samples: [PlannedSample] { (0..<40).map(sample) }
    let detectors = [DetectorRecord(name: "zeta", adapter: "builtin", configJSON: "{\"b\":1}", artifactSHA256: "ab"),
                     DetectorRecord(name: "Alpha", adapter: "process", configJSON: "{}", artifactSHA256: nil)]

    func record(_ hash: String = "manifest-1") -> RunRecord {
        RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1\n", resolvedSpecJSON: "{}", manifestHash: hash,
                  toolVersion: "0", seed: UInt64.max - 7, startedAt: "2026-11-26T00:00:00.000Z")
    }

    /// Every (sample, detector) outcome of the plan, deterministic.
    func allOutcomes() -> [DetectorOutcome] {
        detectors.flatMap { d in
            samples.enumerated().map { i, s in
                let p = Self.awkward[i % Self.awkward.count].magnitude.truncatingRemainder(dividingBy: 1)
                switch i % 5 {
                case 0: return DetectorOutcome(sampleID: s.id, detector: d.name, status: .error, error: "boom \(i)", latencyMs: 0.25, batch: i / 8 + 1)
                case 1: return DetectorOutcome(sampleID: s.id, detector: d.name, status: .timeout, error: "slow", latencyMs: Self.awkward[i % 10].magnitude, batch: i / 8 + 1)
                default:
                    return DetectorOutcome(sampleID: s.id, detector: d.name, status: .ok, probs: [1 - p, p, Self.awkward[i % 10]], pAI: p,
                                           predicted: p >= 0.5 ? 1 : 0, latencyMs: 1.0 / Double(i + 3), batch: i / 8 + 1)
                }
            }
        }
    }

    func open(_ server: LocalPostgres, _ database: String, retry: PostgresRunLedger.RetryPolicy = .init(attempts: 4, firstDelay: .milliseconds(50)),
              beforeCommit: PostgresRunLedger.BeforeCommit? = nil) async throws -> PostgresRunLedger {
        guard case let .postgres(location) = try LedgerURL.parse(server.url(database)) else { throw TestSupportError("not a postgres URL") }
        return try await PostgresRunLedger.open(location, environment: [:], retry: retry, beforeCommit: beforeCommit)
    }

    func scores() -> [DetectorScore] {
        let a = Self.awkward
        let m = BinaryMetrics(samples: 40, truePositives: 11, trueNegatives: 12, falsePositives: 8, falseNegatives: 9, accuracy: a[0], mcc: a[1],
                              brier: a[5], crossEntropy: a[4], sn34: a[3], auc: a[6], ece: nil, recallReal: a[7], recallAI: a[8],
                              sn34CI: ConfidenceInterval(lower: a[2], upper: a[9]))
        return [DetectorScore(detector: "zeta", overall: m, statusCounts: ["ok": 24, "error": 8], coverage: a[8], invalidated: false,
                              invalidReason: nil, breakdowns: [BreakdownMetrics(scope: .dataset, key: "d", metrics: m)]),
                DetectorScore(detector: "Alpha", overall: m, statusCounts: [:], coverage: 0.5, invalidated: true, invalidReason: "too many errors",
                              breakdowns: [])]
    }

    @Test func storesAndReadsBackExactlyWhatSQLiteDoes() async throws {
        let server = try LocalPostgres.shared()
        let pg = try await open(server, try server.createDatabase())
        let sqlite = try RunLedger(path: try TestSupport.temporaryDirectory("pgcmp") + "/run.sqlite")
        let outcomes = allOutcomes()
        for ledger in [pg, sqlite] as [any OutcomeLedger] {
            #expect(try await ledger.openRun(record(), samples: samples, detectors: detectors) == .created)
            for batch in stride(from: 0, to: outcomes.count, by: 7) {
                try await ledger.commit(runID: "r1", outcomes: Array(outcomes[batch..<min(batch + 7, outcomes.count)]))
            }
            try await ledger.writeScores(runID: "r1", scores: scores())
            try await ledger.finishRun(id: "r1", status: "completed", finishedAt: "2026-11-26T00:01:00.000Z")
        }
        #expect(try await pg.run(id: "r1") == sqlite.run(id: "r1"))
        #expect(try await pg.samples(runID: "r1") == samples)
        #expect(try await pg.samples(runID: "r1") == sqlite.samples(runID: "r1"))
        #expect(try await pg.detectors(runID: "r1") == detectors)
        let fromPG = try await pg.outcomes(runID: "r1")
        #expect(try fromPG == sqlite.outcomes(runID: "r1"))
        #expect(fromPG.count == outcomes.count)
        // Bit for bit, -0.0 included: float8 and the probs text round-trip exactly.
        let bits = { (o: [DetectorOutcome]) in o.map { [$0.pAI?.bitPattern, $0.latencyMs.bitPattern] + ($0.probs ?? []).map(\.bitPattern) } }
        #expect(bits(fromPG) == bits(try sqlite.outcomes(runID: "r1")))
        let pgMetrics = try await pg.metricsRows(runID: "r1"), liteMetrics = try sqlite.metricsRows(runID: "r1")
        #expect(pgMetrics.map(\.detector) == liteMetrics.map(\.detector))
        #expect(pgMetrics.map(\.metrics) == liteMetrics.map(\.metrics))
        // -0.0 keeps its sign in float8 (SQLite's REAL stores it as 0.0; -0.0 == 0.0 all the same).
        #expect(pgMetrics.map { $0.metrics.sn34CI?.lower.bitPattern } == pgMetrics.map { _ in (-0.0).bitPattern })
        #expect(liteMetrics.map { $0.metrics.sn34CI?.lower } == pgMetrics.map { _ in 0.0 })
        let pgScores = try await pg.detectorScores(runID: "r1"), liteScores = try sqlite.detectorScores(runID: "r1")
        #expect(pgScores.map(\.detector) == liteScores.map(\.detector))
        #expect(pgScores.map(\.sn34) == liteScores.map(\.sn34))
        #expect(pgScores.map(\.invalidated) == liteScores.map(\.invalidated))
        #expect(try await pg.statusCounts(runID: "r1") == sqlite.statusCounts(runID: "r1"))
        #expect(try await pg.lastBatch(runID: "r1") == sqlite.lastBatch(runID: "r1"))
        #expect(try await pg.committedPairs(runID: "r1") == sqlite.committedPairs(runID: "r1"))
        for table in ["samples", "outcomes", "metrics", "detectors"] {
            #expect(try await pg.count(table, runID: "r1") == sqlite.count(table, runID: "r1"))
        }
        #expect(try await pg.appliedMigrations() == PostgresLedgerSchema.migrations.map(\.identifier))
        await pg.close()
    }

    /// Two writers (separate ledgers and connections, as two processes would have) open the same
    /// run at once and commit disjoint halves of the plan concurrently, plus overlapping batches
    /// that repeat pairs: the run ends with every pair exactly once, as a single writer leaves it.
    @Test func twoWritersCommitOneRunConcurrently() async throws {
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let first = try await open(server, database), second = try await open(server, database)
        async let a = first.openRun(record(), samples: samples, detectors: detectors)
        async let b = second.openRun(record(), samples: samples, detectors: detectors)
        let opened = try await [a, b]
        #expect(opened.filter { $0 == .created }.count == 1)
        #expect(opened.contains { if case .existing = $0 { true } else { false } })
        #expect(try await first.count("samples", runID: "r1") == samples.count)

        let outcomes = allOutcomes()
        let half = outcomes.count / 2
        // Each writer commits its half in batches of 5, and the 10 pairs around the middle again (the overlap).
        func batches(_ part: ArraySlice<DetectorOutcome>) -> [[DetectorOutcome]] {
            stride(from: part.startIndex, to: part.endIndex, by: 5).map { Array(part[$0..<min($0 + 5, part.endIndex)]) }
        }
        let overlap = Array(outcomes[(half - 5)..<(half + 5)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (ledger, part) in [(first, outcomes[..<half]), (second, outcomes[half...])] {
                group.addTask {
                    for batch in batches(part) + [overlap] { try await ledger.commit(runID: "r1", outcomes: batch) }
                }
            }
            try await group.waitForAll()
        }
        let single = try RunLedger(path: try TestSupport.temporaryDirectory("pgsingle") + "/run.sqlite")
        _ = try single.openRun(record(), samples: samples, detectors: detectors)
        try single.commit(runID: "r1", outcomes: outcomes)
        #expect(try await first.outcomes(runID: "r1") == single.outcomes(runID: "r1"))
        #expect(try await second.count("outcomes", runID: "r1") == outcomes.count)

        // A process with another plan is refused and changes nothing.
        await #expect(throws: ManifestMismatch.self) { try await second.openRun(record("manifest-2"), samples: [], detectors: []) }
        #expect(try await first.run(id: "r1")?.manifestHash == "manifest-1")
        await first.close()
        await second.close()
    }

    /// The server process serving the connection is killed (pg_terminate_backend from another
    /// connection) after the batch's rows were sent and before COMMIT: the transaction dies whole,
    /// and the retry on a new connection commits the whole batch once.
    @Test func aBatchCutOffByALostConnectionIsRetriedWhole() async throws {
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let killed = Counter()
        let ledger = try await open(server, database, beforeCommit: { operation, attempt, pid in
            guard operation.hasPrefix("committing"), attempt == 1 else { return }
            try? Self.terminate(server, pid: pid)
            killed.increment()
        })
        _ = try await ledger.openRun(record(), samples: samples, detectors: detectors)
        let outcomes = allOutcomes()
        try await ledger.commit(runID: "r1", outcomes: Array(outcomes[0..<30]))
        try await ledger.commit(runID: "r1", outcomes: Array(outcomes[30..<50]))
        #expect(killed.value == 2)
        #expect(try await ledger.count("outcomes", runID: "r1") == 50)
        // Read back ordered by detector ("Alpha" before "zeta"), then by plan position.
        #expect(try await ledger.outcomes(runID: "r1") == Array(outcomes[40..<50]) + Array(outcomes[0..<40]))
        await ledger.close()
    }

    /// When every try is cut off, the commit fails with a message naming the server (no password)
    /// and the fix, and nothing of the batch is in the database.
    @Test func aBatchThatNeverGetsThroughIsNotCommittedAtAll() async throws {
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let ledger = try await open(server, database, retry: .init(attempts: 3, firstDelay: .milliseconds(20)), beforeCommit: { operation, _, pid in
            guard operation.hasPrefix("committing") else { return }
            try? Self.terminate(server, pid: pid)
        })
        _ = try await ledger.openRun(record(), samples: samples, detectors: detectors)
        do {
            try await ledger.commit(runID: "r1", outcomes: Array(allOutcomes()[0..<25]))
            Issue.record("the commit should have failed")
        } catch let error as PostgresLedgerError {
            let text = error.description
            #expect(text.contains("127.0.0.1:\(server.port)/\(database)"))
            #expect(text.contains("3 tries"))
            #expect(text.contains("run the same command again"))
        }
        #expect(try await ledger.count("outcomes", runID: "r1") == 0)
        await ledger.close()
    }

    @Test func aDatabaseWithUnknownMigrationsIsRefusedUnchanged() async throws {
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let ledger = try await open(server, database)
        await ledger.close()
        try server.sql("INSERT INTO gascli_migrations (identifier) VALUES ('v9-from-the-future')", database: database)
        do {
            _ = try await open(server, database)
            Issue.record("a newer database should be refused")
        } catch let error as StoreError {
            #expect(error.description.contains("v9-from-the-future"))
            #expect(error.description.contains("newer gascli"))
        }
        #expect(try server.sql("SELECT count(*) FROM gascli_migrations", database: database) == "\(PostgresLedgerSchema.migrations.count + 1)")
    }

    @Test func unreachableServerAndMissingDatabaseSayWhatToDo() async throws {
        let server = try LocalPostgres.shared()
        // A port nothing listens on.
        let port = try TestSupport.run("/usr/bin/env", ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let down = LedgerURL.PostgresLocation(user: "gas", password: "s3cret-pw", host: "127.0.0.1", port: Int(port) ?? 1, database: "gas")
        do {
            _ = try await PostgresRunLedger.open(down, environment: [:])
            Issue.record("connecting to a closed port should fail")
        } catch let error as PostgresLedgerError {
            #expect(error.description.contains("postgres://gas:***@127.0.0.1:\(port)/gas"))
            #expect(!error.description.contains("s3cret-pw"))
            #expect(error.description.contains("is running and accepts TCP connections"))
        }
        let missing = LedgerURL.PostgresLocation(user: "postgres", password: nil, host: "127.0.0.1", port: server.port, database: "no_such_db")
        do {
            _ = try await PostgresRunLedger.open(missing, environment: [:])
            Issue.record("a missing database should fail")
        } catch let error as PostgresLedgerError {
            #expect(error.description.contains("no_such_db"))
            #expect(error.description.contains("createdb"))
        }
    }

    @Test func ledgerURLsParseAndRedact() throws {
        #expect(try LedgerURL.parse("sqlite") == .sqlite)
        guard case let .postgres(l) = try LedgerURL.parse("postgresql://gas:p%40ss@db.example:6543/rounds") else { Issue.record("not postgres"); return }
        #expect(l == .init(user: "gas", password: "p@ss", host: "db.example", port: 6543, database: "rounds"))
        #expect(l.redacted == "postgres://gas:***@db.example:6543/rounds")
        #expect(try LedgerURL.parse("postgres://u@[::1]/x").redacted == "postgres://u@[::1]:5432/x")
        for bad in ["mysql://u@h/db", "postgres://u@h:99999/db", "postgres:///db", "127.0.0.1:5432", "postgres://u:pw@h/db?sslmode=require"] {
            #expect(throws: LedgerURL.ParseError.self) { try LedgerURL.parse(bad) }
        }
        do {
            _ = try LedgerURL.parse("postgres://u:hunter2@h:port/db")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("postgres://u:***@h:port/db"))
        }
    }

    /// Terminates a server process from another connection and waits until it is gone.
    static func terminate(_ server: LocalPostgres, pid: Int) throws {
        try server.sql("SELECT pg_terminate_backend(\(pid))")
        for _ in 0..<100 {
            if try server.sql("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)") == "0" { return }
            usleep(20_000)
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
