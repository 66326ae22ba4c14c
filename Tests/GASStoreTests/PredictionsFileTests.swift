import Foundation
import Testing
import GASCore
import GASParquet
@testable import GASStore

/// predictions.parquet from an outcome grid: one detector per row group, sample columns encoded
/// once per range of positions and shared by the detectors that have every sample of it.
@Suite struct PredictionsFileTests {
    func sample(_ i: Int) -> PlannedSample {
        let generated = i == 7
        return PlannedSample(id: String(format: "%02x-sample", 37 * i % 101), uri: "dataset://d/\(i).png", sha256: String(repeating: "\(i % 10)", count: 64),
                             byteCount: 100 + i, dataset: i < 5 ? "first" : "second", sourceKind: generated ? .generator : .real,
                             mediaType: i % 2 == 0 ? .real : .synthetic, modality: .image, seed: UInt64(i), format: "png",
                             mediaPath: "media/\(i).png", generatorFamily: generated ? "family-x" : nil)
    }

    @Test func everyRowIsWrittenOnceInDetectorThenPositionOrder() throws {
        let samples = (0..<10).map(sample)
        var outcomes: [DetectorOutcome] = []
        for detector in ["c", "a", "b"] {
            for (p, s) in samples.enumerated() {
                if detector == "b" && p == 5 { continue }  // b lacks a sample: its range is written from values
                if detector == "b" && p == 2 {
                    outcomes.append(DetectorOutcome(sampleID: s.id, detector: detector, status: .error, error: "boom", latencyMs: 2, batch: 1))
                } else {
                    let pAI = Double(p) / 10 + (detector == "c" ? 0.05 : 0)
                    outcomes.append(DetectorOutcome(sampleID: s.id, detector: detector, status: .ok, probs: [pAI], pAI: pAI,
                                                    predicted: pAI > 0.5 ? 1 : 0, latencyMs: Double(p), batch: p / 3 + 1))
                }
            }
        }
        let grid = OutcomeGrid(sampleIDs: samples.map(\.id), outcomes: outcomes)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("predictions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("predictions.parquet").path
        try ResultFiles.writePredictions(path: path, runID: "run-1", samples: samples, grid: grid, metadata: [], rowGroupSize: 4)

        let reader = try ParquetReader(path: path)
        // a: 0-3, 4-7, 8-9; b: 0-3, 4 6 7, 8-9; c: as a.
        #expect(reader.rowGroupCount == 9)
        var columns = [ParquetColumnValues]()
        for g in 0..<reader.rowGroupCount {
            let group = try reader.readRowGroup(g)
            guard case let .string(detectors) = group[4] else { Issue.record("detector column"); return }
            #expect(Set(detectors).count == 1, "row group \(g) holds one detector")
            columns = columns.isEmpty ? group : zip(columns, group).map { Self.concatenated($0, $1) }
        }
        let position = Dictionary(uniqueKeysWithValues: samples.enumerated().map { ($1.id, $0) })
        let expected = outcomes.sorted { a, b in (a.detector, position[a.sampleID] ?? -1) < (b.detector, position[b.sampleID] ?? -1) }
        let at = expected.map { o in samples[position[o.sampleID] ?? 0] }
        #expect(columns[0] == .string(expected.map { _ in "run-1" }))
        #expect(columns[1] == .string(at.map { $0.id }))
        #expect(columns[2] == .string(at.map { $0.uri }))
        #expect(columns[3] == .string(at.map { $0.sha256 }))
        #expect(columns[4] == .string(expected.map { $0.detector }))
        #expect(columns[5] == .string(at.map { $0.dataset }))
        #expect(columns[6] == .string(at.map { $0.sourceKind.rawValue }))
        #expect(columns[7] == .string(at.map { $0.mediaType.rawValue }))
        #expect(columns[8] == .string(at.map { $0.modality.rawValue }))
        #expect(columns[9] == .int32(at.map { Int32($0.label) }))
        #expect(columns[10] == .double(expected.map { $0.pAI }))
        #expect(columns[11] == .int32(expected.map { $0.predicted.map(Int32.init) }))
        #expect(columns[12] == .string(expected.map { $0.status.rawValue }))
        #expect(columns[13] == .string(expected.map { $0.error }))
        #expect(columns[14] == .double(expected.map { $0.latencyMs }))
        #expect(columns[15] == .int32(expected.map { Int32($0.batch) }))
        #expect(columns[16] == .string(at.map { $0.generatorFamily }))
    }

    static func concatenated(_ a: ParquetColumnValues, _ b: ParquetColumnValues) -> ParquetColumnValues {
        switch (a, b) {
        case let (.string(x), .string(y)): return .string(x + y)
        case let (.int32(x), .int32(y)): return .int32(x + y)
        case let (.double(x), .double(y)): return .double(x + y)
        default: return a
        }
    }
}
