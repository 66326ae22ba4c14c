import Foundation
import GASCore
import GASParquet
import Testing
@testable import GASBench

/// The bench's own logic, without timing anything: data generators, the comparison with the numpy
/// reference, and the table.
@Suite struct BenchTests {
    @Test func parquetRowsAreDeterministicAndShaped() {
        let a = ParquetBench.rowGroups(rows: 1000, groupSize: 300)
        let b = ParquetBench.rowGroups(rows: 1000, groupSize: 300)
        #expect(a == b)
        #expect(a.count == 4 && a.map { $0[0].count } == [300, 300, 300, 100])
        #expect(a[0].count == ParquetBench.schema.columns.count)
        guard case let .string(ids) = a[0][0], case let .double(p) = a[0][5], case let .string(status) = a[0][7] else {
            Issue.record("unexpected column kinds")
            return
        }
        #expect(ids.allSatisfy { $0?.utf8.count == 24 })
        #expect(zip(p, status).allSatisfy { ($0 == nil) == ($1 == "error") })
    }

    @Test func scoringComparisonFindsDisagreements() {
        let (rows, columns) = ScoringBench.rows(count: 2000)
        #expect(columns.labels.count == 2000 && columns.pAI.filter(\.isNaN).count == rows.filter { $0.status == .error }.count)
        let score = Scorer.score(detector: "x", rows: rows, rule: ScoringRule())
        func slice(_ m: BinaryMetrics, _ scope: String, _ key: String) -> [String: Any] {
            ["scope": scope, "key": key, "samples": m.samples, "tp": m.truePositives, "tn": m.trueNegatives, "fp": m.falsePositives,
             "fn": m.falseNegatives, "accuracy": m.accuracy, "mcc": m.mcc, "brier": m.brier, "cross_entropy": m.crossEntropy,
             "sn34": m.sn34, "auc": m.auc as Any, "ece": m.ece as Any, "recall_real": m.recallReal as Any, "recall_ai": m.recallAI as Any]
        }
        var slices = [slice(score.overall, "overall", "all")] + score.breakdowns.map { slice($0.metrics, $0.scope.rawValue, $0.key) }
        #expect(ScoringBench.compare(score, slices).isEmpty)
        slices[0]["mcc"] = score.overall.mcc + 1e-6
        slices.removeLast()
        let problems = ScoringBench.compare(score, slices)
        #expect(problems.count == 2 && problems.contains { $0.contains("overall/all mcc") } && problems.contains { $0.contains("missing in numpy") })
    }

    @Test func tablesShowRatiosAndVerdicts() throws {
        let report = BenchReport(
            machine: MachineFacts(cpu: "cpu", cores: 2, memoryGiB: 24, os: "Linux", date: "2026-11-26", build: "release build"),
            command: "gascli bench",
            results: [BenchResult(name: "parquet", title: "t", ours: 0.5, unit: "s", reference: 1.0, referenceName: "pyarrow",
                                  target: "≤ pyarrow", passed: true, notes: ["size"]),
                      BenchResult(name: "process", title: "p", ours: 25_000, unit: "samples/s", reference: 10_000,
                                  target: "≥ 20,000 samples/s", passed: true),
                      BenchResult(name: "e2e", title: "e", ours: 20, unit: "s", target: "< 15 s", passed: false),
                      BenchResult(name: "growth", title: "g", ours: 706.6, unit: "B/sample", target: "≤ 88 B/sample", passed: false)])
        #expect(report.results[0].speedup == 2 && report.results[1].speedup == 2.5 && report.results[2].speedup == nil)
        let md = report.markdown()
        #expect(md.contains("| parquet: t | 500 ms | 1.00 s (pyarrow) | 2.00× faster | ≤ pyarrow | pass |"))
        #expect(md.contains("25,000 samples/s") && md.contains("**fail**") && md.contains("2 cores"))
        #expect(md.contains("| growth: g | 707 B/sample | — | — | ≤ 88 B/sample | **fail** |"))
        #expect(report.text().contains("FAIL") && !report.allPassed)
        let back = try JSONDecoder().decode(BenchReport.self, from: Data(try report.json().utf8))
        #expect(back == report)
    }
}
