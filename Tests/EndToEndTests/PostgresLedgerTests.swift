import Foundation
import Testing
import GASTestSupport

/// `gascli run` with a shared PostgreSQL ledger against a real server on loopback
/// (hosts/postgres/local-server.sh): the same results as the SQLite ledger, a lost connection in
/// the middle of a run, bad URLs, and what the other commands do with such a run. Slow (~40 s).
@Suite(.serialized, .enabled(if: LocalPostgres.available, "needs PostgreSQL server binaries (./install.sh --with-test-tools)"))
struct PostgresLedgerTests {
    /// A small round (that of ShardingTests): two detectors, one of them a process slow enough to be cut mid-run.
    func round(slowSeconds: Double = 0) throws -> RoundFixture {
        try ShardingTests.round("pgledger", slowSeconds: slowSeconds)
    }

    /// Everything a run produced that does not depend on when or where it ran: predictions and
    /// metrics (every column but run_id and the wall-clock latency_ms) and results.json without
    /// its run id, times and file names.
    static let digest = """
    import json, sys
    import pyarrow.parquet as pq
    d = sys.argv[1]
    pred = pq.read_table(d + "/predictions.parquet").drop_columns(["run_id", "latency_ms"]).to_pylist()
    metrics = pq.read_table(d + "/metrics.parquet").drop_columns(["run_id"]).to_pylist()
    res = json.load(open(d + "/results.json"))
    for k in ["id", "started_at", "finished_at", "duration_seconds"]:
        res["run"].pop(k, None)
    res.pop("files", None)
    print(json.dumps({"predictions": pred, "metrics": metrics, "results": res}, sort_keys=True))
    """

    static func digest(_ directory: String) throws -> String {
        let r = try TestSupport.python(digest, [directory])
        if r.status != 0 { throw TestSupportError("digest of \(directory) failed: \(r.stderr)") }
        return r.stdout
    }

    static func runIn(_ f: RoundFixture, _ arguments: [String], environment: [String: String] = [:]) throws -> TestSupport.Result {
        try TestSupport.run(Gascli.binary, arguments, cwd: f.root, environment: environment)
    }

    @Test func aPostgresLedgerRunGivesTheSameResultsAsSQLite() async throws {
        try await offPool { try Self().sameResultsBody() }
    }

    func sameResultsBody() throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let f = try round()
        let reference = try Gascli.runQuiet("spec.yaml", output: f.path("sqlite"), cwd: f.root)
        #expect(reference.result.status == 0, "\(reference.result.stderr)")

        // A password in the URL (trust authentication ignores it) must never be printed or stored.
        let url = "postgres://postgres:pw-never-shown@127.0.0.1:\(server.port)/\(database)"
        let r = try Self.runIn(f, ["run", "spec.yaml", "--output", f.path("pg"), "--ledger", url])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains("pw-never-shown"))
        #expect(r.stderr.contains("ledger postgres://postgres:***@127.0.0.1:\(server.port)/\(database)"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: f.path("pg"))
        let pgDir = f.path("pg/" + (runs.first { $0.hasPrefix("t-") } ?? "?"))
        #expect(!FileManager.default.fileExists(atPath: pgDir + "/run.sqlite"))
        for file in try FileManager.default.contentsOfDirectory(atPath: pgDir) where !file.hasSuffix(".parquet") && file != "logs" {
            let text = (try? String(contentsOfFile: pgDir + "/" + file, encoding: .utf8)) ?? ""
            #expect(!text.contains("pw-never-shown"), "\(file) holds the password")
        }
        let pointer = try String(contentsOfFile: pgDir + "/ledger.json", encoding: .utf8)
        #expect(pointer.contains("postgres://postgres@127.0.0.1:\(server.port)/\(database)"))

        #expect(try Self.digest(pgDir) == Self.digest(reference.dir))
        // The database holds the completed run: 16 samples x 2 detectors, each pair once.
        #expect(try server.sql("SELECT status, (SELECT count(*) FROM outcomes), (SELECT count(DISTINCT (sample_id, detector)) FROM outcomes) FROM runs",
                               database: database) == "completed|32|32")

        // rescore reads the run from the database and reproduces the stored metrics exactly.
        let rescored = try Self.runIn(f, ["rescore", pgDir])
        #expect(rescored.status == 0, "\(rescored.stderr)")
        #expect(rescored.stderr.contains("reproduced exactly"))
        // The commands that read run.sqlite say so, and where the results are.
        let shown = try Self.runIn(f, ["runs", "show", pgDir])
        #expect(shown.status == 1)
        #expect(shown.stderr.contains("PostgreSQL"))
        #expect(shown.stderr.contains("results.json"))
        let listed = try Self.runIn(f, ["runs", "--output", f.path("pg")])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains((pgDir as NSString).lastPathComponent))
        #expect(listed.stdout.contains("PostgreSQL ledger"))

        // The same spec run again with the same ledger completes nothing new: the run is complete,
        // so a new run starts (as with SQLite) and gives the same results.
        let again = try Self.runIn(f, ["run", "spec.yaml", "--output", f.path("pg2"), "--quiet"],
                                   environment: ["GASCLI_LEDGER_URL": server.url(database)])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.digest(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == Self.digest(reference.dir))
        #expect(try server.sql("SELECT count(*) FROM runs", database: database) == "2")
    }

    @Test func theSpecSelectsTheLedgerAndABadURLPointsAtTheLine() async throws {
        try await offPool { try Self().specBody() }
    }

    func specBody() throws {
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let f = try round()
        let base = try String(contentsOfFile: f.path("spec.yaml"), encoding: .utf8)
        let withLedger = base.replacingOccurrences(of: "outputs: {directory: runs}",
                                                   with: "outputs: {directory: runs, ledger: \"\(server.url(database))\"}")
        try f.write("pg.yaml", withLedger)
        let r = try Self.runIn(f, ["run", "pg.yaml", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try server.sql("SELECT count(*) FROM outcomes", database: database) == "32")
        // The ledger is not part of the plan: the manifest hash is the one the SQLite ledger gets.
        let sqlite = try Self.runIn(f, ["run", "spec.yaml", "--quiet", "--output", "lite"])
        #expect(sqlite.status == 0, "\(sqlite.stderr)")
        let pgManifest = try server.sql("SELECT manifest_hash FROM runs", database: database)
        let liteManifest = try String(contentsOfFile: sqlite.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/results.json", encoding: .utf8)
        #expect(pgManifest.count == 64)
        #expect(liteManifest.contains(pgManifest))

        // A malformed URL and a password in the spec are spec errors at the value's line and column.
        try f.write("bad.yaml", base.replacingOccurrences(of: "outputs: {directory: runs}",
                                                           with: "outputs:\n  directory: runs\n  ledger: \"postgres://gas@db:notaport/gas\""))
        let bad = try Self.runIn(f, ["run", "bad.yaml"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.yaml:"))
        #expect(bad.stderr.contains("outputs.ledger"))
        #expect(bad.stderr.contains("notaport"))
        try f.write("pw.yaml", base.replacingOccurrences(of: "outputs: {directory: runs}",
                                                          with: "outputs:\n  directory: runs\n  ledger: \"postgres://gas:hunter2@db/gas\""))
        let pw = try Self.runIn(f, ["validate", "pw.yaml"])
        #expect(pw.status != 0)
        #expect(pw.stderr.contains("PGPASSWORD") || pw.stdout.contains("PGPASSWORD"))
        #expect(!(pw.stderr + pw.stdout).contains("hunter2"))
    }

    @Test func badLedgerURLsExitWithTheFix() async throws {
        try await offPool { try Self().badURLBody() }
    }

    func badURLBody() throws {
        let server = try LocalPostgres.shared()
        let f = try round()
        let malformed = try Self.runIn(f, ["run", "spec.yaml", "--ledger", "mysql://root:topsecret@db/gas"])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("--ledger"))
        #expect(malformed.stderr.contains("postgres://user@host:5432/database"))
        #expect(!malformed.stderr.contains("topsecret"))

        let port = try TestSupport.run("/usr/bin/env", ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let down = try Self.runIn(f, ["run", "spec.yaml", "--ledger", "postgres://gas:topsecret@127.0.0.1:\(port)/gas"])
        #expect(down.status == 1)
        #expect(down.stderr.contains("postgres://gas:***@127.0.0.1:\(port)/gas"))
        #expect(down.stderr.contains("is running and accepts TCP connections"))
        #expect(!down.stderr.contains("topsecret"))

        let missing = try Self.runIn(f, ["run", "spec.yaml", "--ledger", "postgres://postgres@127.0.0.1:\(server.port)/no_such_database"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no_such_database"))
        #expect(missing.stderr.contains("createdb"))
        // Nothing was recorded anywhere.
        let written = ((try? FileManager.default.contentsOfDirectory(atPath: f.path("runs"))) ?? []).filter {
            FileManager.default.fileExists(atPath: f.path("runs/\($0)/results.json"))
        }
        #expect(written.isEmpty)
    }

    /// Mid-run, every server process serving gascli is terminated (as a failover or an admin
    /// would): the batches in flight are retried and the run completes with the results of an
    /// uninterrupted run. Then the server is stopped mid-run: gascli gives up after its retries
    /// with a message saying what to do, and running the same command again after the server is
    /// back completes the run, again with identical results.
    @Test func aLostConnectionMidRunIsRetriedOrFailsCleanlyAndTheRerunCompletes() async throws {
        try await offPool { try Self().lostConnectionBody() }
    }

    func lostConnectionBody() throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let f = try round(slowSeconds: 0.25)
        let reference = try Gascli.runQuiet("spec.yaml", output: f.path("sqlite"), cwd: f.root)
        #expect(reference.result.status == 0, "\(reference.result.stderr)")
        let expected = try Self.digest(reference.dir)

        // This test stops its server: it gets one of its own.
        let server = try LocalPostgres.start()
        defer { server.stop() }

        // 1. Terminated backends: retried, the run completes.
        let terminatedDB = try server.createDatabase()
        let first = try start(f, ledger: server.url(terminatedDB), output: f.path("terminated"))
        try waitFor("a committed batch") { (Int(try server.sql("SELECT count(*) FROM outcomes", database: terminatedDB)) ?? 0) >= 4 }
        let killed = try server.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(terminatedDB)' AND application_name = 'gascli'")
        #expect((Int(killed) ?? 0) >= 1)
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 0, "\(first.stderr())")
        let done = try server.sql("SELECT runs.status, count(*) FROM runs JOIN outcomes ON outcomes.run_id = runs.id GROUP BY runs.status", database: terminatedDB)
        #expect(done == "completed|32")
        #expect(try Self.digest(first.directory()) == expected)

        // 2. The server goes away mid-run: a clean failure, nothing half-written, and the rerun completes.
        let stoppedDB = try server.createDatabase()
        let second = try start(f, ledger: server.url(stoppedDB), output: f.path("stopped"))
        try waitFor("a committed batch") { (Int(try server.sql("SELECT count(*) FROM outcomes", database: stoppedDB)) ?? 0) >= 4 }
        try server.stopImmediately()
        second.process.waitUntilExit()
        let message = second.stderr()
        #expect(second.process.terminationStatus == 1)
        #expect(message.contains("lost the connection to the PostgreSQL ledger at postgres://postgres@127.0.0.1:\(server.port)/\(stoppedDB)"), "\(message)")
        #expect(message.contains("run the same command again"))
        try server.restart()
        let committed = Int(try server.sql("SELECT count(*) FROM outcomes", database: stoppedDB)) ?? -1
        #expect(committed < 32)
        // Whole batches only: the slow detector commits 2 at a time, the builtin 3 at a time (skips at once).
        let rerun = try Self.runIn(f, ["run", "spec.yaml", "--output", f.path("stopped"), "--quiet", "--ledger", server.url(stoppedDB)])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try server.sql("SELECT status, (SELECT count(*) FROM outcomes) FROM runs", database: stoppedDB) == "completed|32")
        #expect(try Self.digest(rerun.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == expected)
    }

    struct Started {
        var process: Process
        var output: String
        var errors: Pipe
        func stderr() -> String { String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        func directory() -> String {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
            return output + "/" + (names.first { $0.hasPrefix("t-") } ?? "?")
        }
    }

    func start(_ f: RoundFixture, ledger: String, output: String) throws -> Started {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["run", "spec.yaml", "--output", output, "--quiet", "--ledger", ledger]
        p.currentDirectoryURL = URL(fileURLWithPath: f.root)
        let errors = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = errors
        try p.run()
        return Started(process: p, output: output, errors: errors)
    }

    func waitFor(_ what: String, seconds: Double = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        throw TestSupportError("timed out waiting for \(what)")
    }
}
