import Foundation
import Testing
import GASTestSupport

/// Auditors' commands on a finished run: rescore from stored predictions, replay the plan.
@Suite struct RescoreReplayTests {
    func finishedRun(_ label: String, detectors: String = "  - {name: base, adapter: builtin, model: image-baseline}") throws -> (RoundFixture, String) {
        let f = try RoundFixture(label)
        try f.copyPhotos(5)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 5", synthetic: 5, detectors: detectors))
        let (dir, r) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        return (f, dir)
    }

    @Test func rescoreReproducesStoredMetricsAndTriesOtherParameters() async throws {
        try await offPool { try Self().rescoreReproducesStoredMetricsAndTriesOtherParametersBody() }
    }

    func rescoreReproducesStoredMetricsAndTriesOtherParametersBody() throws {
        let (f, dir) = try finishedRun("rescore")
        let id = (dir as NSString).lastPathComponent
        var r = try Gascli.run(["rescore", id, "--output", f.path("runs")], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("reproduced exactly"))
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as? [String: Any]
        let sn34 = try #require(((stored?["detectors"] as? [String: Any])?["base"] as? [String: Any])?["sn34"] as? Double)
        #expect(r.stdout.contains(String(format: "%.6f", sn34)))

        try f.write("other.yaml", "scoring:\n  alpha: 1\n  beta: 1\n  on_failure: exclude\n")
        r = try Gascli.run(["rescore", dir, "--scoring", "other.yaml", "--json"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let scores = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let overall = try #require(scores.first?["overall"] as? [String: Any])
        let mcc = try #require(overall["mcc"] as? Double), brier = try #require(overall["brier"] as? Double)
        let expected = (((mcc + 1) / 2) * max(0, (0.25 - brier) / 0.25)).squareRoot()
        #expect(abs((overall["sn34"] as? Double ?? -1) - max(expected, 1e-6)) < 1e-12)

        try f.write("bad.yaml", "scoring:\n  alpha: high\n")
        r = try Gascli.run(["rescore", dir, "--scoring", "bad.yaml"], cwd: f.root)
        #expect(r.status == 2 && r.stderr.contains("bad.yaml:2:10") && r.stderr.contains("scoring.alpha"), "\(r.stderr)")
    }

    /// Metrics rows written before migration v2-metrics-auc-ece hold NULL analytics: rescore compares
    /// what they hold; a changed interval is still caught.
    @Test func rescoreComparesRowsWrittenBeforeTheAnalytics() throws {
        let (f, dir) = try finishedRun("pre-v2")
        let strip = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        db.execute("UPDATE metrics SET auc = NULL, ece = NULL, recall_real = NULL, recall_ai = NULL, sn34_ci_lower = NULL, sn34_ci_upper = NULL")
        db.commit()
        """
        #expect(try TestSupport.python(strip, [dir]).status == 0)
        var r = try Gascli.run(["rescore", dir], cwd: f.root)
        #expect(r.status == 0 && r.stderr.contains("reproduced exactly"), "\(r.stderr)")
        let tamper = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        db.execute("UPDATE metrics SET sn34_ci_lower = 0.01, sn34_ci_upper = 0.99 WHERE scope = 'overall'")
        db.commit()
        """
        #expect(try TestSupport.python(tamper, [dir]).status == 0)
        r = try Gascli.run(["rescore", dir], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("sn34_ci stored [0.01, 0.99]"), "\(r.stderr)")
    }

    @Test func rescoreDetectsTamperedMetrics() async throws {
        try await offPool { try Self().rescoreDetectsTamperedMetricsBody() }
    }

    func rescoreDetectsTamperedMetricsBody() throws {
        let (f, dir) = try finishedRun("tamper")
        let tamper = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        db.execute("UPDATE metrics SET sn34 = sn34 + 0.01 WHERE scope = 'overall'")
        db.commit()
        """
        #expect(try TestSupport.python(tamper, [dir]).status == 0)
        let r = try Gascli.run(["rescore", dir], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("differ") && r.stderr.contains("base overall=all"), "\(r.stderr)")
    }

    @Test func replayMatchesAndNamesMissingMedia() async throws {
        try await offPool { try Self().replayMatchesAndNamesMissingMediaBody() }
    }

    func replayMatchesAndNamesMissingMediaBody() throws {
        let (f, dir) = try finishedRun("replay", detectors: """
          - {name: base, adapter: builtin, model: image-baseline}
          - {name: py, adapter: process, command: [python3, \(TestSupport.repositoryRoot)/examples/detectors/example_detector.py]}
        """)
        var r = try Gascli.run(["replay", dir], cwd: f.root)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("20 outcomes compared, 0 differ") && r.stdout.contains("MATCH"), "\(r.stdout)")

        // Change one stored probability: replay lists that sample.
        let edit = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        sid = db.execute("SELECT sample_id FROM outcomes WHERE detector = 'py' AND status = 'ok' ORDER BY sample_id LIMIT 1").fetchone()[0]
        db.execute("UPDATE outcomes SET p_ai = p_ai / 2 + 0.001 WHERE detector = 'py' AND sample_id = ?", (sid,))
        db.commit()
        print(sid)
        """
        let changed = try TestSupport.python(edit, [dir]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        r = try Gascli.run(["replay", dir], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stdout.contains("1 differ") && r.stdout.contains(changed) && r.stdout.contains("DIFFERENT"), "\(r.stdout)")
        r = try Gascli.run(["replay", dir, "--tolerance", "0.6"], cwd: f.root)
        #expect(r.status == 0, "a loose tolerance accepts it: \(r.stdout)")

        // Remove one sample's media: replay refuses and names it.
        let media = """
        import sqlite3, sys, os
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        sid, path = db.execute("SELECT sample_id, media_path FROM samples ORDER BY position LIMIT 1").fetchone()
        os.remove(os.path.join(os.path.dirname(sys.argv[1]), path))
        print(sid)
        """
        let gone = try TestSupport.python(media, [dir]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        r = try Gascli.run(["replay", dir], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing or changed") && r.stderr.contains(gone), "\(r.stderr)")
    }

    @Test func runsListsAndShows() async throws {
        try await offPool { try Self().runsListsAndShowsBody() }
    }

    func runsListsAndShowsBody() throws {
        let (f, dir) = try finishedRun("runs")
        let id = (dir as NSString).lastPathComponent
        var r = try Gascli.run(["runs", "--output", f.path("runs")], cwd: f.root)
        #expect(r.status == 0 && r.stdout.contains(id) && r.stdout.contains("completed") && r.stdout.contains("10/10"), "\(r.stdout)")
        r = try Gascli.run(["runs", "show", String(id.prefix(8)), "--output", f.path("runs")], cwd: f.root)
        #expect(r.status == 0 && r.stdout.contains("manifest hash") && r.stdout.contains("base"), "\(r.stdout) \(r.stderr)")
        r = try Gascli.run(["runs", "show", "nope", "--output", f.path("runs")], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("no run 'nope'"))
    }

    @Test func twoDifferentRoundsAtOnceInOneOutputsFolder() async throws {
        try await offPool { try Self().twoDifferentRoundsAtOnceInOneOutputsFolderBody() }
    }

    func twoDifferentRoundsAtOnceInOneOutputsFolderBody() throws {
        let f = try RoundFixture("concurrent")
        try f.copyPhotos(4)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("a.yaml", f.spec(real: "samples: 4", synthetic: 6))
        try f.write("b.yaml", f.spec(real: "samples: 4", synthetic: 6).replacingOccurrences(of: "name: t,", with: "name: u,"))
        let group = DispatchGroup()
        nonisolated(unsafe) var results: [TestSupport.Result] = []
        let lock = NSLock()
        for spec in ["a.yaml", "b.yaml"] {
            group.enter()
            DispatchQueue.global().async {
                if let r = try? Gascli.run(["run", spec, "--output", f.path("runs"), "--quiet"], cwd: f.root) {
                    lock.lock(); results.append(r); lock.unlock()
                }
                group.leave()
            }
        }
        group.wait()
        #expect(results.count == 2 && results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        let list = try Gascli.run(["runs", "--output", f.path("runs")], cwd: f.root)
        #expect(list.stdout.components(separatedBy: "completed").count == 3, "\(list.stdout)")
    }
}
