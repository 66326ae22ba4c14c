import Foundation
import Testing
import GASCore
import GASTestSupport
@testable import GASStore

/// The thread that starts a ledger's disk writes early: it finds SQLite's own descriptors (it never
/// opens the database, whose POSIX locks a close would drop), stops when asked, and leaves the
/// ledger's rows and locks as they were.
@Suite struct LedgerWritebackTests {
    /// A ledger at `path` with run r1 and its 200 samples recorded (in the log: far below a checkpoint).
    static func ledgerWithSamples(_ path: String) throws -> (RunLedger, [PlannedSample]) {
        let ledger = try RunLedger(path: path)
        let samples = (0..<200).map { i in
            PlannedSample(id: String(format: "%024x", i), uri: "u\(i)", sha256: String(repeating: "b", count: 64), byteCount: 7, dataset: "d",
                          sourceKind: .real, mediaType: .real, modality: .image, seed: 1, format: "png", mediaPath: "media/bb/x.png")
        }
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples, detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])
        return (ledger, samples)
    }

    @Test func itFindsTheLedgersOwnDescriptorsAndLeavesTheLedgerIntact() throws {
        let dir = try TestSupport.temporaryDirectory("writeback")
        let path = dir + "/run.sqlite"
        let (ledger, samples) = try Self.ledgerWithSamples(path)

        // A path through a symbolic link names the same files as /proc/self/fd shows them.
        let link = dir + "/via-link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir)
        let canonical = LedgerWriteback.canonical(link + "/run.sqlite")
        #expect(canonical.hasSuffix("/run.sqlite") && !canonical.contains("via-link"))
        let found = LedgerWriteback.descriptors(of: [canonical, canonical + "-wal"])
        #expect(found.count >= 2, "SQLite's descriptors of the database and its log: \(found)")
        #expect(LedgerWriteback.descriptors(of: [dir + "/nothing-open-here"]).isEmpty)

        let writeback = LedgerWriteback(databasePath: link + "/run.sqlite", interval: 0.001)
        for (n, chunk) in stride(from: 0, to: samples.count, by: 20).enumerated() {
            try ledger.commit(runID: "r1", outcomes: samples[chunk..<chunk + 20].map {
                DetectorOutcome(sampleID: $0.id, detector: "d", status: .ok, probs: [0.25], pAI: 0.25, predicted: 0, latencyMs: 1, batch: n + 1)
            })
            Thread.sleep(forTimeInterval: 0.002)
        }

        // SQLite's locks still hold while it runs: inside this ledger's write, another writer is refused.
        let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], timeout=0)
        try:
            db.execute("BEGIN IMMEDIATE")
            print("acquired")
        except sqlite3.OperationalError as e:
            print("busy:", e)
        """
        let refused = try ledger.queue.write { db in
            try db.execute(sql: "UPDATE runs SET status = status WHERE id = 'r1'")
            return try TestSupport.python(script, [path])
        }
        #expect(refused.stdout.contains("busy"), "\(refused.stdout) \(refused.stderr)")
        writeback.stop()
        #expect(try ledger.outcomes(runID: "r1").count == samples.count)
        let python = try TestSupport.python(script, [path])
        #expect(python.stdout.contains("acquired"), "\(python.stdout) \(python.stderr)")
    }

    /// The thread's own connection copies what was committed into the database file while the
    /// ledger stays open and keeps committing, once the log is large enough: the database file
    /// alone (without its log) then holds the run. No commit here comes near the committing
    /// connection's own checkpoint (256 MiB).
    @Test func itCopiesCommittedRowsIntoTheDatabaseFileWhileTheLedgerCommits() throws {
        let dir = try TestSupport.temporaryDirectory("writeback-checkpoint")
        let path = dir + "/run.sqlite"
        let (ledger, samples) = try Self.ledgerWithSamples(path)
        let count = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM samples').fetchone()[0])"
        let copy = dir + "/alone.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let before = try TestSupport.python(count, [copy])
        #expect(before.stdout.isEmpty && before.stderr.contains("no such table"), "the samples are only in the log: \(before.stdout) \(before.stderr)")

        func commit(_ range: Range<Int>, batch: Int) throws {
            try ledger.commit(runID: "r1", outcomes: samples[range].map {
                DetectorOutcome(sampleID: $0.id, detector: "d", status: .ok, probs: [0.25], pAI: 0.25, predicted: 0, latencyMs: 1, batch: batch)
            })
            Thread.sleep(forTimeInterval: 0.005)
        }
        // A log far below `checkpointFromLogBytes` (64 MiB by default) is left to the ledger.
        let small = LedgerWriteback(databasePath: path, interval: 0.001, checkpointEvery: 1)
        for n in 0..<5 { try commit(20 * n..<20 * n + 20, batch: n + 1) }
        small.stop()
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let left = try TestSupport.python(count, [copy])
        #expect(left.stdout.isEmpty && left.stderr.contains("no such table"), "a small log is not checkpointed: \(left.stdout) \(left.stderr)")

        let writeback = LedgerWriteback(databasePath: path, interval: 0.001, checkpointEvery: 1, checkpointFromLogBytes: 0)
        for n in 5..<10 { try commit(20 * n..<20 * n + 20, batch: n + 1) }
        writeback.stop()
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let after = try TestSupport.python(count, [copy])
        #expect(after.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "200", "\(after.stdout) \(after.stderr)")
        #expect(try ledger.outcomes(runID: "r1").count == samples.count)

        // On a file that is not in WAL mode there is no log to copy, and nothing fails.
        let plain = dir + "/plain.sqlite"
        _ = try TestSupport.python("import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE t (x)')", [plain])
        let checkpointer = try #require(LedgerWriteback.Checkpointer(databasePath: plain))
        #expect(checkpointer.checkpoint() == (-1, -1))
        checkpointer.close()
        #expect(LedgerWriteback.Checkpointer(databasePath: dir + "/missing/run.sqlite") == nil)
    }
}
