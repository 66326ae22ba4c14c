import Foundation
import Testing
import GASCore
import GASTestSupport
@testable import GASStore

/// The thread that starts a ledger's disk writes early: it finds SQLite's own descriptors (it never
/// opens the database, whose POSIX locks a close would drop), stops when asked, and leaves the
/// ledger's rows and locks as they were.
@Suite struct LedgerWritebackTests {
    @Test func itFindsTheLedgersOwnDescriptorsAndLeavesTheLedgerIntact() throws {
        let dir = try TestSupport.temporaryDirectory("writeback")
        let path = dir + "/run.sqlite"
        let ledger = try RunLedger(path: path)
        let samples = (0..<200).map { i in
            PlannedSample(id: String(format: "%024x", i), uri: "u\(i)", sha256: String(repeating: "b", count: 64), byteCount: 7, dataset: "d",
                          sourceKind: .real, mediaType: .real, modality: .image, seed: 1, format: "png", mediaPath: "media/bb/x.png")
        }
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples, detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])

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
}
