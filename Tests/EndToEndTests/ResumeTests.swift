import Foundation
import GASRunner
import Testing
import GASTestSupport

/// kill -9 at several moments, then the same command again: the run continues, nothing is
/// evaluated twice or lost, and the results equal an uninterrupted run's. Slow (~30 s).
@Suite(.serialized) struct ResumeTests {
    /// A round with a detector slow enough to be killed mid-run (0.15 s per batch of 2).
    func slowRound() throws -> RoundFixture {
        let f = try RoundFixture("resume")
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.writeSlowDetector(seconds: 0.15)
        try f.write("spec.yaml", spec(f))
        return f
    }

    func spec(_ f: RoundFixture, alpha: String = "1.2") -> String {
        f.spec(real: "samples: 8", synthetic: 8, semishare: 0.25, detectors: """
          - {name: base, adapter: builtin, model: image-baseline, batch_size: 3}
          - {name: slow, adapter: process, command: [python3, slow.py], batch_size: 2, timeout: 30s}
        """) + "\nscoring: {alpha: \(alpha)}\n"
    }

    /// Outcomes and metrics without run-specific columns, for comparing two runs.
    static let digest = """
    import sqlite3, sys, json
    db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
    runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    outcomes = db.execute("SELECT detector, sample_id, status, p_ai, predicted FROM outcomes ORDER BY 1, 2").fetchall()
    metrics = db.execute("SELECT detector, scope, key, samples, tp, tn, fp, fn, accuracy, mcc, brier, cross_entropy, sn34, auc, ece, recall_real, recall_ai, sn34_ci_lower, sn34_ci_upper FROM metrics ORDER BY 1, 2, 3").fetchall()
    status = db.execute("SELECT status FROM runs").fetchone()[0]
    print(json.dumps({"runs": runs, "status": status, "outcomes": outcomes, "metrics": metrics}))
    """

    static func runDirectories(_ outputs: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outputs)) ?? [])
            .filter { FileManager.default.fileExists(atPath: outputs + "/" + $0 + "/run.sqlite") }.sorted()
    }

    func start(_ f: RoundFixture, outputs: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["run", "spec.yaml", "--output", outputs, "--quiet"]
        p.currentDirectoryURL = URL(fileURLWithPath: f.root)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test func killNineAtSeveralPointsThenResumeEqualsAnUninterruptedRun() async throws {
        try await offPool { try Self().killNineAtSeveralPointsThenResumeEqualsAnUninterruptedRunBody() }
    }

    func killNineAtSeveralPointsThenResumeEqualsAnUninterruptedRunBody() throws {
        let f = try slowRound()
        let reference = try Gascli.runQuiet("spec.yaml", output: f.path("reference"), cwd: f.root)
        #expect(reference.result.status == 0, "\(reference.result.stderr)")

        // Kill at growing delays: during planning, while detectors start, mid-batch, near the end.
        let outputs = f.path("killed")
        var completed = false
        var kills = 0
        for delay in [0.05, 0.4, 0.9, 1.3, 1.8, 2.4, 3.0] {
            let p = try start(f, outputs: outputs)
            usleep(useconds_t(delay * 1_000_000))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                // A kill that lands after the run was marked completed (while the process was still
                // printing its summary) ends a finished run: running again would start a new one.
                if (try? RunIndex.list(outputs: outputs, counting: false))?.last?.status == "completed" {
                    completed = true
                    break
                }
                kills += 1
            } else {
                completed = p.terminationStatus == 0
                break
            }
        }
        if !completed {
            let last = try Gascli.runQuiet("spec.yaml", output: outputs, cwd: f.root)
            #expect(last.result.status == 0, "\(last.result.stderr)")
        }
        #expect(kills >= 3, "the run was killed \(kills) times")
        let dirs = Self.runDirectories(outputs)
        #expect(dirs.count == 1, "one run, continued each time: \(dirs)")
        let a = try TestSupport.python(Self.digest, [reference.dir])
        let b = try TestSupport.python(Self.digest, [outputs + "/" + (dirs.last ?? "")])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(a.stdout == b.stdout, "resumed run differs from the uninterrupted one")
        #expect(b.stdout.contains("\"status\": \"completed\""))
    }

    @Test func resumeIsRefusedWhenSpecDataOrDetectorChanged() async throws {
        try await offPool { try Self().resumeIsRefusedWhenSpecDataOrDetectorChangedBody() }
    }

    func resumeIsRefusedWhenSpecDataOrDetectorChangedBody() throws {
        let f = try slowRound()
        let outputs = f.path("runs")
        let p = try start(f, outputs: outputs)
        // Wait until the run is recorded, then kill it.
        let deadline = Date().addingTimeInterval(60)
        while Self.runDirectories(outputs).isEmpty && Date() < deadline { usleep(50_000) }
        usleep(600_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let run = try #require(Self.runDirectories(outputs).first)

        // The spec changed.
        try f.write("spec.yaml", spec(f, alpha: "1.5"))
        var r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("unfinished run \(run)") && r.stderr.contains("the spec changed (scoring)"), "\(r.stderr)")
        r = try Gascli.run(["run", "spec.yaml", "--output", outputs, "--resume", run], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("cannot resume run \(run)") && r.stderr.contains("--new"), "\(r.stderr)")
        try f.write("spec.yaml", spec(f))

        // The detector changed.
        let script = try String(contentsOfFile: f.path("slow.py"), encoding: .utf8)
        try f.write("slow.py", script + "\n# changed\n")
        r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("detector 'slow' changed"), "\(r.stderr)")
        try f.write("slow.py", script)

        // The data changed.
        let photo = f.path("photos/" + (try FileManager.default.contentsOfDirectory(atPath: f.path("photos")).sorted()[0]))
        let original = try Data(contentsOf: URL(fileURLWithPath: photo))
        try (original + Data([0])).write(to: URL(fileURLWithPath: photo))
        r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("the data changed") && r.stderr.contains("different bytes"), "\(r.stderr)")
        try original.write(to: URL(fileURLWithPath: photo))

        // Inputs restored: the run resumes and completes; --new would have started another.
        r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("resuming run \(run)"))
        #expect(Self.runDirectories(outputs) == [run])
    }

    @Test func aSecondGascliOnAnActiveRunIsRefused() async throws {
        try await offPool { try Self().aSecondGascliOnAnActiveRunIsRefusedBody() }
    }

    func aSecondGascliOnAnActiveRunIsRefusedBody() throws {
        let f = try slowRound()
        let outputs = f.path("runs")
        let p = try start(f, outputs: outputs)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        let deadline = Date().addingTimeInterval(60)
        while Self.runDirectories(outputs).isEmpty && Date() < deadline { usleep(50_000) }
        usleep(300_000)
        let r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        if p.isRunning {
            #expect(r.status == 1)
            #expect(r.stderr.contains("being executed by another gascli"), "\(r.stderr)")
        }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        // Listing while and after running is safe (WAL, read-only opens).
        let list = try Gascli.run(["runs", "--output", outputs], cwd: f.root)
        #expect(list.status == 0 && list.stdout.contains("completed"))
    }

    @Test func aDatabaseFromANewerSchemaIsRefusedAndLeftUntouched() async throws {
        try await offPool { try Self().aDatabaseFromANewerSchemaIsRefusedAndLeftUntouchedBody() }
    }

    func aDatabaseFromANewerSchemaIsRefusedAndLeftUntouchedBody() throws {
        let f = try slowRound()
        let (dir, r) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r.status == 0)
        let bump = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        db.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        """
        #expect(try TestSupport.python(bump, [dir]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/run.sqlite"))
        for command in [["runs", "show", dir], ["rescore", dir], ["run", "spec.yaml", "--output", f.path("runs"), "--resume", dir]] {
            let x = try Gascli.run(command, cwd: f.root)
            #expect(x.status != 0, "\(command)")
            #expect(x.stderr.contains("newer gascli") && x.stderr.contains("v99-from-the-future"), "\(command): \(x.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/run.sqlite")) == before)
    }
}
