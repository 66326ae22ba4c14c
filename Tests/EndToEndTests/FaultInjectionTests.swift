import Foundation
import Testing
import GASCore
import GASStore
import GASTestSupport

/// kill -9 at 20 seeded points of a round (GASCLI_FAULT, see FaultInjection): planning, mid-batch,
/// between batches, inside the metrics transaction, mid Parquet write, around renames, mid
/// results.json, while finishing. After each, the same command again completes the run, and the
/// result equals an uninterrupted run's. Slow (~1-2 min in a debug build).
@Suite(.serialized) struct FaultInjectionTests {
    typealias Point = FaultInjection.Point

    /// The seed of the published schedule; change it and the README figures no longer match.
    static let seed: UInt64 = 20_261_126

    /// 20 (point, n) pairs: every single-visit point once, and 5 distinct batches each for the
    /// two per-batch points, drawn with SplitMix64 from `seed`.
    static func schedule(seed: UInt64, batches: Int) -> [(point: Point, n: Int)] {
        var random = SplitMix64(seed: seed)
        let once = Point.allCases.filter { $0 != .batchPredicted && $0 != .batchCommitted }.map { ($0, 1) }
        var perBatch: [(Point, Int)] = []
        for point in [Point.batchPredicted, .batchCommitted] {
            var ns = Array(1...batches)
            ns.shuffle(using: &random)
            perBatch += ns.prefix(5).sorted().map { (point, $0) }
        }
        var all = once + perBatch
        all.shuffle(using: &random)
        return all.map { (point: $0.0, n: $0.1) }
    }

    /// 8 photos + 8 synthetic images, two builtin detectors in batches of 3 and 5: 6 + 4 = 10 batches.
    func round() throws -> RoundFixture {
        let f = try RoundFixture("faults")
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 8", synthetic: 8, semishare: 0.25, detectors: """
          - {name: base, adapter: builtin, model: image-baseline, batch_size: 3}
          - {name: wide, adapter: builtin, model: image-baseline, batch_size: 5}
        """))
        return f
    }
    static let batches = 10

    /// Everything deterministic a run produced: ledger rows, both Parquet files (without run id and
    /// latency) and results.json (without ids, times and latencies).
    static let digest = ResumeTests.digest + """

    import pyarrow.parquet as pq
    d = sys.argv[1]
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in sorted(x.items()) if "latency" not in k and k not in ("run_id", "id", "started_at", "finished_at", "duration_seconds", "spec")}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x
    preds = clean(pq.read_table(d + "/predictions.parquet").to_pylist())
    mets = clean(pq.read_table(d + "/metrics.parquet").to_pylist())
    res = clean(json.load(open(d + "/results.json")))
    print(json.dumps({"predictions": preds, "metrics_parquet": mets, "results": res}, sort_keys=True))
    import os
    left = [n for root, _, names in os.walk(d) for n in names if n.endswith(".partial")]
    print("partial files:", left)
    """

    struct Death {
        var signaled: Bool
        var status: Int32
        var stderr: String
    }

    func run(_ f: RoundFixture, outputs: String, fault: String?) throws -> Death {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["run", "spec.yaml", "--output", outputs, "--quiet"]
        p.currentDirectoryURL = URL(fileURLWithPath: f.root)
        var env = ProcessInfo.processInfo.environment
        env["GASCLI_FAULT"] = fault
        p.environment = env
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Death(signaled: p.terminationReason == .uncaughtSignal, status: p.terminationStatus,
                     stderr: String(decoding: data, as: UTF8.self))
    }

    @Test func theScheduleIsSeededAndCoversEveryPhase() {
        let a = Self.schedule(seed: Self.seed, batches: Self.batches)
        let b = Self.schedule(seed: Self.seed, batches: Self.batches)
        #expect(a.count == 20)
        #expect(a.map { "\($0.point.rawValue):\($0.n)" } == b.map { "\($0.point.rawValue):\($0.n)" })
        #expect(Set(a.map(\.point)) == Set(Point.allCases))
        #expect(Set(a.map { "\($0.point.rawValue):\($0.n)" }).count == 20, "no pair twice")
    }

    /// predictions.parquet is written on a thread of its own while the run is scored: a failure
    /// there fails the run, and results.json (which says the run is complete) is not written.
    @Test func aPredictionsFileThatCannotBeWrittenFailsTheRunWithoutResults() throws {
        let f = try round()
        let outputs = f.path("runs")
        let killed = try run(f, outputs: outputs, fault: "results-writing:1")
        #expect(killed.signaled, "\(killed.stderr)")
        let directory = outputs + "/" + (try #require(ResumeTests.runDirectories(outputs).first))
        #expect(!FileManager.default.fileExists(atPath: directory + "/results.json"))
        // The rerun finds every outcome committed and finishes the run again; a directory where
        // the predictions file's partial copy goes makes writing it fail.
        try FileManager.default.createDirectory(atPath: directory + "/predictions.parquet.partial/x", withIntermediateDirectories: true)
        let failed = try run(f, outputs: outputs, fault: nil)
        #expect(!failed.signaled && failed.status != 0, "\(failed.stderr)")
        #expect(failed.stderr.contains("predictions.parquet"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/results.json"), "the run is not reported complete")
    }

    @Test(.timeLimit(.minutes(10))) func killedAtTwentySeededPointsThenRerunEqualsAnUninterruptedRun() async throws {
        try await offPool { try Self().killedAtTwentySeededPointsBody() }
    }

    func killedAtTwentySeededPointsBody() throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let f = try round()
        let reference = try run(f, outputs: f.path("reference"), fault: nil)
        #expect(!reference.signaled && reference.status == 0, "\(reference.stderr)")
        let referenceDirs = ResumeTests.runDirectories(f.path("reference"))
        let expected = try TestSupport.python(Self.digest, [f.path("reference/") + (referenceDirs.first ?? "")])
        #expect(expected.status == 0, "\(expected.stderr)")
        #expect(expected.stdout.contains("\"status\": \"completed\"") && expected.stdout.contains("partial files: []"))

        for (i, pair) in Self.schedule(seed: Self.seed, batches: Self.batches).enumerated() {
            let label = "\(pair.point.rawValue):\(pair.n)"
            let outputs = f.path("killed-\(i)")
            let killed = try run(f, outputs: outputs, fault: label)
            #expect(killed.signaled && killed.status == SIGKILL, "\(label): the run must die by SIGKILL, got \(killed.status): \(killed.stderr)")
            #expect(killed.stderr.contains("fault injection: SIGKILL at \(pair.point.rawValue) #\(pair.n)"), "\(label): \(killed.stderr)")

            let rerun = try run(f, outputs: outputs, fault: nil)
            #expect(!rerun.signaled && rerun.status == 0, "\(label): rerun failed: \(rerun.stderr)")
            let dirs = ResumeTests.runDirectories(outputs)
            #expect(dirs.count == 1, "\(label): one run directory, continued: \(dirs)")
            // A manifest written while hashing and left by the killed process is removed by the rerun.
            let drafts = (try? FileManager.default.contentsOfDirectory(atPath: outputs))?.filter { $0.hasPrefix(".manifest-draft-") }
            #expect(drafts == [], "\(label): manifest drafts left in the outputs folder: \(drafts ?? [])")
            let got = try TestSupport.python(Self.digest, [outputs + "/" + (dirs.first ?? "")])
            #expect(got.status == 0, "\(label): \(got.stderr)")
            #expect(got.stdout == expected.stdout, "\(label): the rerun differs from the uninterrupted run")
            print("fault \(i + 1)/20 \(label): killed by SIGKILL there; the rerun completed identical to the uninterrupted run")
        }
    }
}
