import Foundation
import Testing
import GASTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Shards committing into one shared PostgreSQL ledger (a real server on loopback, started by
/// hosts/postgres/local-server.sh): two `gascli run --shard` processes at once, then `gascli merge`,
/// give what an unsharded SQLite run of the spec gives; a missing shard is refused by name; a
/// shard killed mid-run is refused as unfinished and its rerun completes it. Slow (~20 s).
@Suite(.serialized, .enabled(if: LocalPostgres.available, "needs PostgreSQL server binaries (./install.sh --with-test-tools)"))
struct ShardedPostgresTests {
    /// The round of ShardingTests, the process detector sleeping `slowSeconds` per batch.
    static func round(_ label: String, slowSeconds: Double) throws -> RoundFixture {
        try ShardingTests.round(label, slowSeconds: slowSeconds)
    }

    /// A `gascli run --shard` process running in the background, its stderr going to a file.
    struct Started {
        var process: Process
        var log: String
        func stderr() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    }

    static func startShard(_ f: RoundFixture, _ shard: String, runID: String, ledger: String, output: String) throws -> Started {
        let log = f.path("shard-\(shard.replacingOccurrences(of: "/", with: "-of-"))-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["run", "spec.yaml", "--shard", shard, "--run-id", runID, "--output", output, "--quiet", "--ledger", ledger]
        p.currentDirectoryURL = URL(fileURLWithPath: f.root)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try p.run()
        return Started(process: p, log: log)
    }

    static func waitFor(_ what: String, seconds: Double = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        throw TestSupportError("timed out waiting for \(what)")
    }

    @Test func twoShardsCommittingConcurrentlyIntoPostgresMergeLikeAnUnshardedRun() async throws {
        try await offPool { try Self().concurrentBody() }
    }

    func concurrentBody() throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let f = try Self.round("pgshards", slowSeconds: 0.1)
        let id = "t-pgsharded"
        var r = try Gascli.run(["run", "spec.yaml", "--output", f.path("single"), "--run-id", id, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")

        // Both shards at once, into one database.
        let ledger = "postgres://postgres:pw-never-shown@127.0.0.1:\(server.port)/\(database)"
        let shards = try ["0/2", "1/2"].map { try Self.startShard(f, $0, runID: id, ledger: ledger, output: f.path("sharded")) }
        for (i, s) in shards.enumerated() {
            s.process.waitUntilExit()
            #expect(s.process.terminationStatus == 0, "shard \(i)/2: \(s.stderr())")
            #expect(!s.stderr().contains("pw-never-shown"))
        }
        let run = f.path("sharded/" + id)
        for i in 0..<2 {
            let part = run + "/shards/\(i)-of-2"
            #expect(!FileManager.default.fileExists(atPath: part + "/run.sqlite"), "a part in a shared ledger keeps no run.sqlite")
            let status = try String(contentsOfFile: part + "/status.json", encoding: .utf8)
            #expect(status.contains("\"completed\""), "\(status)")
            let info = try String(contentsOfFile: part + "/shard.json", encoding: .utf8)
            #expect(info.contains("postgres://postgres@127.0.0.1:\(server.port)/\(database)") && !info.contains("pw-never-shown"), "\(info)")
        }
        // One run in the database, every (sample, detector) pair once, still open until the merge.
        #expect(try server.sql("SELECT count(*), string_agg(status, ',') FROM runs", database: database) == "1|running")
        #expect(try server.sql("SELECT count(*), count(DISTINCT (sample_id, detector)) FROM outcomes", database: database) == "32|32")
        #expect(!FileManager.default.fileExists(atPath: run + "/results.json"))

        r = try Gascli.run(["merge", run], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Leaderboard"), "\(r.stdout)")
        try ShardingTests.expectSame(unsharded: f.path("single/" + id), merged: run, sharedLedger: true)
        #expect(!FileManager.default.fileExists(atPath: run + "/run.sqlite"))
        #expect(try String(contentsOfFile: run + "/ledger.json", encoding: .utf8).contains("\"run_id\":\"\(id)\""))
        #expect(try server.sql("SELECT status FROM runs", database: database) == "completed")

        // The merged run is rescored from the database, reproducing the stored metrics exactly.
        r = try Gascli.run(["rescore", run], cwd: f.root)
        #expect(r.status == 0 && r.stderr.contains("reproduced exactly"), "\(r.stderr)")
    }

    @Test func mergeNamesAMissingOrKilledShardAndTheRerunCompletesIt() async throws {
        try await offPool { try Self().killedBody() }
    }

    func killedBody() throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let server = try LocalPostgres.shared()
        let database = try server.createDatabase()
        let f = try Self.round("pgkilled", slowSeconds: 1.0)  // 4 slow batches: seconds between the first commit and the last, even under load
        let id = "t-pgkilled"
        var r = try Gascli.run(["run", "spec.yaml", "--output", f.path("single"), "--run-id", id, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let ledger = server.url(database)
        func shard(_ s: String) throws -> TestSupport.Result {
            try Gascli.run(["run", "spec.yaml", "--shard", s, "--run-id", id, "--output", f.path("sharded"), "--ledger", ledger], cwd: f.root)
        }
        let run = f.path("sharded/" + id)
        r = try shard("0/2")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("8 of 16 samples"), "\(r.stdout)")

        // Shard 1/2 never ran: named, with the command that runs it.
        r = try Gascli.run(["merge", run], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing shard 1/2"), "\(r.stderr)")
        #expect(r.stderr.contains("--shard 1/2 --run-id \(id)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run + "/results.json"))

        // Shard 1/2 killed (SIGKILL) after some of its batches are committed.
        let started = try Self.startShard(f, "1/2", runID: id, ledger: ledger, output: f.path("sharded"))
        try Self.waitFor("a committed batch of shard 1/2") {
            (Int(try server.sql("SELECT count(*) FROM outcomes", database: database)) ?? 0) >= 20
        }
        kill(started.process.processIdentifier, SIGKILL)
        started.process.waitUntilExit()
        let committed = Int(try server.sql("SELECT count(*) FROM outcomes", database: database)) ?? -1
        #expect(committed >= 20 && committed < 32, "\(committed)")
        r = try Gascli.run(["merge", run], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("shard 1/2") && r.stderr.contains("status interrupted"), "\(r.stderr)")
        #expect(r.stderr.contains("\(committed - 16) of 16 outcomes committed"), "\(r.stderr)")
        #expect(r.stderr.contains("resume it with `gascli run"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run + "/results.json"))

        // The rerun evaluates only what is missing; every pair is committed once; the merge matches.
        r = try shard("1/2")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(resumed)"), "\(r.stdout)")
        #expect(r.stderr.contains("\(committed - 16) of 16 outcomes already committed"), "\(r.stderr)")
        #expect(try server.sql("SELECT count(*), count(DISTINCT (sample_id, detector)) FROM outcomes", database: database) == "32|32")
        r = try Gascli.run(["merge", run, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        try ShardingTests.expectSame(unsharded: f.path("single/" + id), merged: run, sharedLedger: true)
    }
}
