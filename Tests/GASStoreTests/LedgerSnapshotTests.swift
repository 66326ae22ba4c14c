import Foundation
import Testing
import GASCore
import GASTestSupport
@testable import GASStore

/// The ledger copy that goes into audit bundles, and the reader that must survive a hostile one.
@Suite struct LedgerSnapshotTests {
    func ledger() throws -> (RunLedger, String) {
        let dir = try TestSupport.temporaryDirectory("snapshot")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        let samples = (0..<3).map { i in
            PlannedSample(id: "s\(i)", uri: "u\(i)", sha256: String(repeating: "b", count: 64), byteCount: 7, dataset: "d",
                          sourceKind: .real, mediaType: .real, modality: .image, seed: 1, format: "png", mediaPath: "media/bb/x.png")
        }
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples, detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])
        try ledger.commit(runID: "r1", outcomes: samples.map {
            DetectorOutcome(sampleID: $0.id, detector: "d", status: .ok, probs: [0.25], pAI: 0.25, predicted: 0, latencyMs: 1, batch: 1)
        })
        return (ledger, dir)
    }

    @Test func theSnapshotIsOneDeterministicFileWithTheSameRows() throws {
        let (ledger, dir) = try ledger()
        try LedgerSnapshot.copy(ledgerAt: dir + "/run.sqlite", to: dir + "/a.sqlite")
        try LedgerSnapshot.copy(ledgerAt: dir + "/run.sqlite", to: dir + "/b.sqlite")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.sqlite"))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir + "/b.sqlite"))))
        #expect(a[18] == 1 && a[19] == 1, "rollback journal, not WAL: the copy must open read-only on its own")
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.sqlite-wal"))

        let copy = try LedgerSnapshot(path: dir + "/a.sqlite")
        #expect(try copy.runIDs() == ["r1"])
        #expect(try copy.samples(runID: "r1") == (try ledger.samples(runID: "r1")))
        #expect(try copy.outcomes(runID: "r1") == (try ledger.outcomes(runID: "r1")))
    }

    @Test func aHostileLedgerGivesErrorsNotTraps() throws {
        let (_, dir) = try ledger()
        let path = dir + "/hostile.sqlite"
        try LedgerSnapshot.copy(ledgerAt: dir + "/run.sqlite", to: path)
        // A NULL and a wrong type where the schema says NOT NULL TEXT / REAL: rewrite the table without its constraints.
        let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        db.executescript('''
            ALTER TABLE samples RENAME TO old_samples;
            CREATE TABLE samples AS SELECT * FROM old_samples;
            UPDATE samples SET uri = NULL WHERE sample_id = 's1';
            CREATE TABLE old_outcomes AS SELECT * FROM outcomes;
            DROP VIEW outcomes;
            CREATE TABLE outcomes AS SELECT * FROM old_outcomes;
            UPDATE outcomes SET latency_ms = 'slow';
        ''')
        db.commit()
        """
        let r = try TestSupport.python(script, [path])
        #expect(r.status == 0, "\(r.stderr)")
        let copy = try LedgerSnapshot(path: path)
        #expect(throws: StoreError.self) { try copy.samples(runID: "r1") }
        #expect(throws: StoreError.self) { try copy.outcomes(runID: "r1") }

        let empty = dir + "/empty.sqlite"
        #expect(try TestSupport.python("import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE t (x)')", [empty]).status == 0)
        do {
            _ = try LedgerSnapshot(path: empty)
            Issue.record("opened a database without ledger tables")
        } catch let error as StoreError {
            #expect(error.description.contains("not a gascli run ledger"))
        }
    }

    @Test func theReaderNeverWrites() throws {
        let (_, dir) = try ledger()
        let path = dir + "/ro.sqlite"
        try LedgerSnapshot.copy(ledgerAt: dir + "/run.sqlite", to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let copy = try LedgerSnapshot(path: path)
        _ = try copy.outcomes(runID: "r1")
        try copy.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["ro.sqlite", "run.sqlite", "run.sqlite-shm", "run.sqlite-wal"].filter {
            FileManager.default.fileExists(atPath: dir + "/" + $0)
        })
    }
}
