import Foundation
import Testing
import GASTestSupport

/// The predictions adapter replays stored probabilities: fed a run's own predictions (as Parquet,
/// or as CSV), it must reproduce that run's metrics exactly.
@Suite struct PredictionsAdapterTests {
    @Test func replayingAPreviousRunReproducesItsMetrics() async throws {
        try await offPool { try Self().replayingAPreviousRunReproducesItsMetricsBody() }
    }

    func replayingAPreviousRunReproducesItsMetricsBody() throws {
        let f = try RoundFixture("replay")
        try f.copyPhotos(6)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("first.yaml", f.spec(real: "samples: 6", synthetic: 6))
        let (firstDir, r1) = try Gascli.runQuiet("first.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r1.status == 0, "\(r1.stderr)")

        // The same samples, scored from the stored predictions: once from Parquet, once from CSV.
        let toCSV = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        with open(sys.argv[2], "w", newline="") as out:
            out.write("sample_id,p_ai\\r\\n")
            for sid, p in db.execute("SELECT sample_id, p_ai FROM outcomes WHERE detector = 'base' AND status = 'ok'"):
                out.write(f"{sid},{p!r}\\r\\n")
        """
        let c = try TestSupport.python(toCSV, [firstDir, f.path("base.csv")])
        #expect(c.status == 0, "\(c.stderr)")
        let detectors = """
          - {name: from-parquet, adapter: predictions, path: \(firstDir)/predictions.parquet, detector: base}
          - {name: from-csv, adapter: predictions, path: base.csv}
        """
        try f.write("replay.yaml", f.spec(real: "samples: 6", synthetic: 6, detectors: detectors))
        let (dir, r2) = try Gascli.runQuiet("replay.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r2.status == 0, "\(r2.stderr)")

        let compare = """
        import json, sys
        a = json.load(open(sys.argv[1] + "/results.json"))["detectors"]["base"]["overall"]
        b = json.load(open(sys.argv[2] + "/results.json"))["detectors"]
        print(json.dumps([a == b["from-parquet"]["overall"], a == b["from-csv"]["overall"], a["samples"]]))
        """
        let out = try TestSupport.python(compare, [firstDir, dir])
        #expect(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[true, true, 12]", "\(out.stdout) \(out.stderr)")
    }

    @Test func aMultiDetectorFileWithoutASelectionIsExplained() async throws {
        try await offPool { try Self().aMultiDetectorFileWithoutASelectionIsExplainedBody() }
    }

    func aMultiDetectorFileWithoutASelectionIsExplainedBody() throws {
        let f = try RoundFixture("replay2")
        try f.copyPhotos(3)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("first.yaml", f.spec(real: "samples: 3", synthetic: 3, detectors: """
          - {name: a, adapter: builtin, model: image-baseline}
          - {name: b, adapter: builtin, model: image-baseline}
        """))
        let (firstDir, r1) = try Gascli.runQuiet("first.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r1.status == 0)
        try f.write("replay.yaml", f.spec(real: "samples: 3", synthetic: 3, detectors: "  - {name: r, adapter: predictions, path: \(firstDir)/predictions.parquet}"))
        let r = try Gascli.run(["run", "replay.yaml"], cwd: f.root)
        #expect(r.stderr.contains("choose one with 'detector:'") || r.stderr.contains("needs 'detector:'"), "\(r.stderr)")
    }
}
