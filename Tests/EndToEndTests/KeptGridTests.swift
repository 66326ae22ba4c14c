import Foundation
import Testing
import GASTestSupport
import GASData
import GASDetectors
import GASStore
@testable import GASRunner
@testable import GASCore

/// A fresh run is scored from the grid kept while its outcomes were committed
/// (`OutcomeGridRecorder`) instead of reading them back: that grid must hold exactly what the
/// ledger holds, for every status and field.
@Suite struct KeptGridTests {
    /// Stands in for a detector process that only handles images and answers some samples with
    /// invalid probabilities (a real process would need a Python script per case).
    actor ImagesOnly: DetectorAdapter {
        nonisolated let name = "images-only"
        nonisolated var measuresLatency: Bool { true }
        func start() async throws -> DetectorHello { DetectorHello(name: name, protocolVersion: 1, modalities: [.image]) }
        func predict(_ batch: [DetectorInput]) async -> [DetectorResult] {
            batch.map { input in
                let n = Int(input.sampleID.dropFirst()) ?? 0
                switch n % 5 {
                case 0: return .probabilities([1.5])  // invalid: an error outcome
                case 1: return .failure(.timeout, "no answer in 1 s")
                default: return .probabilities([Double(n % 7) / 7, 1 - Double(n % 7) / 7])
                }
            }
        }
        func stop() async {}
    }

    static func sample(_ i: Int) -> PlannedSample {
        PlannedSample(id: "s\(i)", uri: "dataset://d/\(i)", sha256: String(repeating: "b", count: 64), byteCount: 10, dataset: "d",
                      sourceKind: .real, mediaType: i % 2 == 0 ? .real : .synthetic, modality: i % 4 == 3 ? .audio : .image,
                      seed: UInt64(i), format: i % 4 == 3 ? "wav" : "png", mediaPath: "media/bb/\(i)", skipReason: i % 9 == 4 ? "unreadable" : nil)
    }

    /// Every field of every outcome in the grid, in grid order (NaN and nil written out).
    static func fields(_ grid: OutcomeGrid) -> [String] {
        var rows: [String] = []
        for d in grid.detectors.indices {
            for p in grid.sampleIDs.indices {
                guard let e = grid.entry(detector: d, position: p) else { continue }
                rows.append("\(grid.detectors[d]) \(grid.sampleIDs[p]) \(e.status.rawValue) \(e.pAI.map { "\($0)" } ?? "-") "
                            + "\(e.predicted.map { "\($0)" } ?? "-") \(e.error ?? "-") \(e.latencyMs) \(e.batch)")
            }
        }
        return rows
    }

    @Test func theKeptGridEqualsTheLedgersForEveryStatus() async throws {
        let dir = try TestSupport.temporaryDirectory("kept-grid")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        let samples = (0..<60).map(Self.sample)
        let names = ["zeta", "alpha", "images-only", "broken"]
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples,
                             detectors: names.map { DetectorRecord(name: $0, adapter: "builtin", configJSON: "{}", artifactSHA256: nil) })
        // zeta: predictions for most samples (the rest are skipped as missing); alpha: other values.
        var zeta: [String: [Double]] = [:], alpha: [String: [Double]] = [:]
        for i in 0..<60 where i % 6 != 5 { zeta["s\(i)"] = [Double(i) / 60] }
        for i in 0..<60 { alpha["s\(i)"] = i == 7 ? [-0.5] : [0.25, 0.75] }
        let jobs: [RoundExecutor.DetectorJob] = [
            .init(name: "zeta", batchSize: 7, adapter: PredictionsFileDetector(name: "zeta", table: zeta)),
            .init(name: "alpha", batchSize: 64, adapter: PredictionsFileDetector(name: "alpha", table: alpha)),
            .init(name: "images-only", batchSize: 4, adapter: ImagesOnly()),
            .init(name: "broken", batchSize: 5, adapter: nil, setupFailure: "model file missing"),
        ]
        let recorder = OutcomeGridRecorder(sampleIDs: samples.map(\.id), detectors: names)
        try await RoundExecutor.run(jobs: jobs, samples: samples, store: MediaStore(root: dir), ledger: ledger, runID: "r1",
                                    observer: SilentObserver(), recorder: recorder)
        let kept = recorder.grid()
        let read = try await ledger.outcomeGrid(runID: "r1", sampleIDs: samples.map(\.id))
        #expect(kept.detectors == ["alpha", "broken", "images-only", "zeta"])
        #expect(kept.detectors == read.detectors)
        #expect(kept.count == 240 && read.count == 240)
        #expect(kept.statusCounts == read.statusCounts)
        #expect(Set(kept.statusCounts.keys) == ["ok", "error", "skipped", "timeout"])
        let (keptRows, readRows) = (Self.fields(kept), Self.fields(read))
        #expect(keptRows.count == 240 && readRows.count == 240)
        let differing = zip(keptRows, readRows).filter { $0 != $1 }
        #expect(differing.isEmpty, "kept vs ledger, first differences: \(differing.prefix(3))")
    }

    @Test func aDetectorWithoutOutcomesIsNotInTheKeptGrid() {
        let recorder = OutcomeGridRecorder(sampleIDs: ["a", "b"], detectors: ["x", "y"])
        recorder.record(detector: "y", positions: [1], outcomes: [DetectorOutcome(sampleID: "b", detector: "y", status: .error, error: "e", batch: 3)])
        recorder.record(detector: "unknown", positions: [0], outcomes: [DetectorOutcome(sampleID: "a", detector: "unknown", status: .ok, pAI: 0.5)])
        // A second outcome for the same pair is ignored, as the ledger ignores a second commit.
        recorder.record(detector: "y", positions: [1], outcomes: [DetectorOutcome(sampleID: "b", detector: "y", status: .ok, pAI: 0.9, batch: 4)])
        let grid = recorder.grid()
        #expect(grid.detectors == ["y"])
        #expect(grid.count == 1)
        #expect(grid.error(detector: 0, position: 1) == "e" && grid.entry(detector: 0, position: 1)?.batch == 3)
        #expect(grid.entry(detector: 0, position: 0) == nil)
    }
}
