import Foundation
import Testing
import GRDB
import GASCore
import GASTestSupport
@testable import GASStore

@Suite struct RunLedgerTests {
    func sample(_ i: Int, label: Int = 0) -> PlannedSample {
        PlannedSample(id: "s\(i)", uri: "dataset://d/\(i).png", sha256: String(repeating: "a", count: 64), byteCount: 10, dataset: "d",
                      sourceKind: .real, mediaType: label == 0 ? .real : .synthetic, modality: .image, seed: UInt64.max >> 1,
                      format: "png", mediaPath: "media/aa/x.png", skipReason: i == 2 ? "unreadable" : nil)
    }

    func ledger() throws -> (RunLedger, String) {
        let dir = try TestSupport.temporaryDirectory("ledger")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: (0..<3).map { sample($0, label: $0 % 2) },
                             detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])
        return (ledger, dir)
    }

    @Test func samplesAndOutcomesRoundTrip() throws {
        let (ledger, _) = try ledger()
        #expect(try ledger.samples(runID: "r1") == (0..<3).map { sample($0, label: $0 % 2) })
        let outcomes = [
            DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, probs: [0.1, 0.9], pAI: 0.9, predicted: 1, latencyMs: 1.5, batch: 1),
            DetectorOutcome(sampleID: "s1", detector: "d", status: .timeout, error: "no response", latencyMs: 0, batch: 1),
        ]
        try ledger.commit(runID: "r1", outcomes: outcomes)
        #expect(try ledger.outcomes(runID: "r1") == outcomes)
    }

    @Test func aPairIsWrittenOnceEvenIfCommittedTwice() throws {
        let (ledger, _) = try ledger()
        let first = DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, probs: [0.3], pAI: 0.3, predicted: 0, latencyMs: 1, batch: 1)
        try ledger.commit(runID: "r1", outcomes: [first])
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "s0", detector: "d", status: .error, error: "late")])
        #expect(try ledger.outcomes(runID: "r1") == [first])
        #expect(try ledger.count("outcomes", runID: "r1") == 1)
    }

    /// Foreign keys are declared but not enforced per row (the runner records only planned samples):
    /// an outcome of an unknown sample is what SQLite's foreign-key check reports.
    @Test func outcomesForUnknownSamplesFailTheForeignKeyCheck() throws {
        let (ledger, _) = try ledger()
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, pAI: 0.5)])
        #expect(try ledger.queue.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }.isEmpty)
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "ghost", detector: "d", status: .ok, pAI: 0.5)])
        let violations = try ledger.queue.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }
        #expect(violations.count == 1 && violations.first?["table"] as String? == "outcomes")
    }

    /// Batches longer than one INSERT statement's rows, and a tail, all land once.
    @Test func longBatchesAreCommittedWhole() throws {
        let (ledger, _) = try ledger()
        let outcomes = (0..<(RunLedger.rowsPerInsert * 2 + 5)).map { i in
            DetectorOutcome(sampleID: "s0", detector: "d\(i)", status: i % 3 == 0 ? .error : .ok, probs: i % 3 == 0 ? nil : [0.25, 0.75],
                            pAI: i % 3 == 0 ? nil : 0.75, predicted: i % 3 == 0 ? nil : 1, error: i % 3 == 0 ? "e\(i)" : nil,
                            latencyMs: Double(i), batch: i)
        }
        try ledger.commit(runID: "r1", outcomes: outcomes)
        try ledger.commit(runID: "r1", outcomes: outcomes)
        #expect(try ledger.count("outcomes", runID: "r1") == outcomes.count)
        #expect(Set(try ledger.outcomes(runID: "r1").map(\.detector)) == Set(outcomes.map(\.detector)))
        #expect(try ledger.outcomes(runID: "r1").sorted { $0.batch < $1.batch } == outcomes)
    }

    @Test func reopeningKeepsData() throws {
        let (ledger, dir) = try ledger()
        try ledger.finishRun(id: "r1", status: "completed", finishedAt: "later")
        let reopened = try RunLedger(path: dir + "/run.sqlite")
        #expect(try reopened.run(id: "r1")?.status == "completed")
        #expect(try reopened.run(id: "r1")?.seed == 34)
    }
}
