import Foundation
import Testing
import GRDB
import GASCore
import GASTestSupport
@testable import GASStore

/// Outcomes the executor commits a batch per row (`outcome_batches`, `OutcomeBatchJSON`): every
/// reader gets them back exactly, SQL sees them through the `outcomes` view, edits through the
/// view still work, and damage is named.
@Suite struct OutcomeBatchTests {
    func ledger() throws -> (RunLedger, String) {
        let dir = try TestSupport.temporaryDirectory("batches")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        let samples = (0..<4).map { i in
            PlannedSample(id: "s\(i)", uri: "dataset://d/\(i).png", sha256: String(repeating: "a", count: 64), byteCount: 10, dataset: "d",
                          sourceKind: .real, mediaType: i % 2 == 0 ? .real : .synthetic, modality: .image, seed: 1,
                          format: "png", mediaPath: "media/aa/x.png")
        }
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples, detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])
        return (ledger, dir)
    }

    /// Values JSON and SQLite could get wrong: escapes, non-ASCII text, doubles whose shortest form
    /// has 17 digits, the smallest subnormal, exponents, negative zero, and absent fields.
    var outcomes: [DetectorOutcome] {
        [
            DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, probs: [0.1 + 0.2, .leastNonzeroMagnitude], pAI: 0.1 + 0.2, predicted: 0,
                            latencyMs: 1e-05, batch: 7),
            DetectorOutcome(sampleID: "s1", detector: "d", status: .error, error: "quote \" backslash \\ newline \n tab \t bell \u{07} détecteur ✗ 🎉",
                            latencyMs: 123.456, batch: 7),
            DetectorOutcome(sampleID: "s2", detector: "d", status: .timeout, error: "", latencyMs: 0, batch: 8),
            DetectorOutcome(sampleID: "s3", detector: "d", status: .skipped, error: "not handled", latencyMs: -0.0, batch: 8),
            DetectorOutcome(sampleID: "s0", detector: "é \"e\"", status: .ok, probs: [0.5575212240219116], pAI: 0.5575212240219116, predicted: 1,
                            latencyMs: 2.5e300, batch: 1),
            DetectorOutcome(sampleID: "s2", detector: "é \"e\"", status: .ok, probs: [1e-7, 0.9999999], pAI: 0.9999999, predicted: 1,
                            latencyMs: 3, batch: 1),
        ]
    }

    @Test func batchedOutcomesReadBackExactlyEverywhere() throws {
        let (ledger, dir) = try ledger()
        let encoded = NewOutcomes(outcomes)
        guard case .batches(let parts) = encoded else {
            Issue.record("finite values were not encoded as batches")
            return
        }
        #expect(parts.map(\.detector) == ["d", "é \"e\""] && parts.map(\.count) == [4, 2])
        // Plain JSON: Python's json module (what an auditor's script would use) reads it too.
        for (i, part) in parts.enumerated() {
            let file = dir + "/part\(i).json"
            try Data(part.text).write(to: URL(fileURLWithPath: file))
            let r = try TestSupport.python("import json, sys; rows = json.load(open(sys.argv[1], encoding='utf-8')); print(len(rows), rows[0][0])", [file])
            #expect(r.status == 0 && r.stdout.hasPrefix("\(part.count) s0"), "\(r.stdout)\(r.stderr)")
        }
        try ledger.commitNew(runID: "r1", [encoded])
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outcome_batches") } == 2)
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outcome_rows") } == 0)

        // By detector (bytes), then plan position: what the view joined to the samples gave.
        let expected = outcomes.filter { $0.detector == "d" } + outcomes.filter { $0.detector != "d" }
        #expect(try ledger.outcomes(runID: "r1") == expected)
        let grid = try ledger.outcomeGrid(runID: "r1", sampleIDs: ["s0", "s1", "s2", "s3"])
        #expect(grid.outcomes() == expected.map { var o = $0; o.probs = nil; return o })
        #expect(try ledger.committedProgressOfRecordedPlan(runID: "r1") == CommittedProgress(grid))
        #expect(try ledger.committedProgress(runID: "r1", sampleIDs: ["s0", "s1", "s2", "s3"]) == CommittedProgress(grid))

        // SQL through the view: every column, with SQLite's own reading of the numbers.
        let viewed = try ledger.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outcomes WHERE run_id = 'r1' ORDER BY detector, sample_id")
        }
        #expect(viewed.count == expected.count)
        for (row, o) in zip(viewed, expected) {
            #expect(row["sample_id"] as String? == o.sampleID && row["detector"] as String? == o.detector)
            #expect(row["status"] as String? == o.status.rawValue && row["error"] as String? == o.error)
            #expect(row["probs_json"] as String? == o.probs.map(RunLedger.jsonArray))
            #expect(row["predicted"] as Int? == o.predicted && row["batch"] as Int? == o.batch)
            let pAI = row["p_ai"] as Double?
            #expect((pAI == nil) == (o.pAI == nil))
            if let pAI, let want = o.pAI { #expect(abs(pAI - want) <= want.ulp) }
            #expect(abs((row["latency_ms"] as Double? ?? .nan) - o.latencyMs) <= o.latencyMs.magnitude.ulp)
        }
        #expect(try ledger.count("outcomes", runID: "r1") == expected.count)
        #expect(try ledger.statusCounts(runID: "r1") == ["d": ["ok": 1, "error": 1, "timeout": 1, "skipped": 1], "é \"e\"": ["ok": 2]])
        #expect(try ledger.lastBatch(runID: "r1") == ["d": 8, "é \"e\"": 1])
        #expect(try ledger.committedPairs(runID: "r1") == ["d": ["s0", "s1", "s2", "s3"], "é \"e\"": ["s0", "s2"]])

        // An audit's snapshot, read with an untrusted schema (no JSON functions in views).
        let copy = dir + "/snapshot.sqlite"
        try LedgerSnapshot.copy(ledgerAt: dir + "/run.sqlite", to: copy)
        #expect(try LedgerSnapshot(path: copy).outcomes(runID: "r1") == expected)
    }

    /// A number JSON cannot hold (an infinite latency) sends its batch to `outcome_rows`, as before.
    @Test func aNumberWithoutJSONFormIsCommittedAsRows() throws {
        let (ledger, _) = try ledger()
        var odd = outcomes
        odd[1].latencyMs = .infinity
        guard case .rows = NewOutcomes(odd) else {
            Issue.record("an infinite latency was encoded as JSON")
            return
        }
        try ledger.commitNew(runID: "r1", [NewOutcomes(odd), NewOutcomes([DetectorOutcome(sampleID: "s1", detector: "f", status: .ok, pAI: 1, batch: 2)])])
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outcome_rows") } == odd.count)
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outcome_batches") } == 1)
        let read = try ledger.outcomes(runID: "r1")
        #expect(read.count == odd.count + 1)
        #expect(read.first { $0.sampleID == "s1" && $0.detector == "d" }?.latencyMs == .infinity)
        // "f" sorts between "d" and "é" (by bytes).
        #expect(read.map(\.detector) == ["d", "d", "d", "d", "f", "é \"e\"", "é \"e\""])
        #expect(read[4] == DetectorOutcome(sampleID: "s1", detector: "f", status: .ok, pAI: 1, batch: 2))
    }

    /// Changing or deleting a batched outcome through the view moves that detector's batches into
    /// `outcome_rows` first; the other detector's batch and every other value stay as they were.
    @Test func editsThroughTheViewReachBatchedOutcomes() throws {
        let (ledger, _) = try ledger()
        try ledger.commitNew(runID: "r1", [NewOutcomes(outcomes)])
        try ledger.queue.write { db in
            try db.execute(sql: "UPDATE outcomes SET p_ai = 0.75 WHERE detector = 'd' AND sample_id = 's0'")
        }
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outcome_batches") } == 1)
        var expected = outcomes.filter { $0.detector == "d" } + outcomes.filter { $0.detector != "d" }
        expected[0].pAI = 0.75
        let afterUpdate = try ledger.outcomes(runID: "r1")
        #expect(afterUpdate.map(\.sampleID) == expected.map(\.sampleID) && afterUpdate.map(\.pAI) == expected.map(\.pAI))
        #expect(afterUpdate.map(\.error) == expected.map(\.error) && afterUpdate.map(\.status) == expected.map(\.status))
        try ledger.queue.write { db in
            try db.execute(sql: "DELETE FROM outcomes WHERE detector = 'é \"e\"' AND sample_id = 's2'")
        }
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outcome_batches") } == 0)
        #expect(try ledger.outcomes(runID: "r1").map { "\($0.detector)/\($0.sampleID)" } == ["d/s0", "d/s1", "d/s2", "d/s3", "é \"e\"/s0"])
        #expect(try ledger.count("outcomes", runID: "r1") == 5)
    }

    /// A batch whose text is not what gascli writes is a damaged ledger, named with its row.
    @Test func aDamagedBatchIsNamedNotTrusted() throws {
        let damaged = [
            #"[["s0","ok",null,0.5,1,null,0.0]]"#,  // a field short
            #"[["s0","maybe",null,0.5,1,null,0.0,1]]"#,  // unknown status
            #"[["s0","ok",null,0.5,1,null,0.0,1]"#,  // unterminated
            #"[["s0","ok",null,"0.5",1,null,0.0,1]]"#,  // a string for a number
            #"[["s0","ok",null,0.5,1,null,0.0,1]] x"#,  // trailing text
            #"[["s\u00","ok",null,0.5,1,null,0.0,1]]"#,  // a broken escape
            "[[\"s\n0\",\"ok\",null,0.5,1,null,0.0,1]]",  // an unescaped control character
            #"[["s0","ok",null,+0.5,1,null,0.0,1]]"#,  // numbers JSON does not allow (Swift would read them)
            #"[["s0","ok",null,.5,1,null,0.0,1]]"#,
            #"[["s0","ok",null,0.5,1,null,0.,1]]"#,
            #"[["s0","ok",null,0.5,01,null,0.0,1]]"#,
            #"[["s0","ok",null,0.5,1,null,1e,1]]"#,
        ]
        for text in damaged {
            let (ledger, _) = try ledger()
            try ledger.commitNew(runID: "r1", [NewOutcomes([DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, pAI: 0.5, batch: 1)])])
            try ledger.queue.write { db in try db.execute(sql: "UPDATE outcome_batches SET outcomes = ?", arguments: [text]) }
            do {
                _ = try ledger.outcomes(runID: "r1")
                Issue.record("read \(text)")
            } catch let error as StoreError {
                #expect("\(error)".contains("outcome batch 1 of d"), "\(error)")
            }
            #expect(throws: StoreError.self, "\(text)") { try ledger.outcomeGrid(runID: "r1", sampleIDs: ["s0"]) }
            #expect(throws: StoreError.self, "\(text)") { try ledger.committedProgressOfRecordedPlan(runID: "r1") }
        }
    }
}
