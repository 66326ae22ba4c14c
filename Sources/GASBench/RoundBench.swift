import Foundation
import GASCore
import GASMedia
import GASParquet
import GASRunner
import GASSpec
import GASStore

/// A synthetic round for the end-to-end and resume benchmarks: two Parquet datasets (real and
/// synthetic 8×8 PNGs, hub-style `image` binary column), a catalog, a predictions file for the
/// detectors and a spec using `adapter: predictions`.
///
/// The rows draw their bytes from a pool of `distinctImages` PNGs: every row is still its own
/// sample (its own URI, sha256 of its bytes, validation, ledger and Parquet rows), but the media
/// store holds only the pool, because creating a million tiny files measures the filesystem
/// (about 0.3 ms per file here), not the runner.
public struct BenchRound: Sendable {
    public var directory: String
    public var specPath: String
    public var samples: Int
    public var detectors: [String]

    public static let distinctImages = 1000
    public static let rowGroupSize = 65_536

    /// The PNG pool: 8×8 images with seeded pixels.
    static func imagePool(count: Int, seed: UInt64) throws -> [[UInt8]] {
        var rng = BenchRandom(seed: seed)
        return try (0..<count).map { _ in
            let pixels = (0..<(8 * 8 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            return try ImageCodec.encodePNG(RGBImage(width: 8, height: 8, pixels: pixels))
        }
    }

    /// Writes the datasets, catalog and spec for `samples` samples (half real, half synthetic).
    /// The predictions file is written by `writePredictions` once the plan's sample ids are known.
    public static func create(in directory: String, samples: Int, detectors: [String] = ["d1", "d2", "d3", "d4"],
                              batchSize: Int = 1024) throws -> BenchRound {
        let fm = FileManager.default
        let half = [samples / 2, samples - samples / 2]
        for (i, kind) in ["real", "synthetic"].enumerated() {
            let folder = (directory as NSString).appendingPathComponent("data/\(kind)")
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let pool = try imagePool(count: distinctImages / 2, seed: UInt64(100 + i))
            let schema = ParquetSchema(columns: [
                ParquetColumn(name: "image", type: .byteArray, optional: false, dictionary: false),
                ParquetColumn(name: "row", type: .int64, optional: false, dictionary: false),
            ])
            let writer = try ParquetWriter(path: (folder as NSString).appendingPathComponent("train-00000-of-00001.parquet"),
                                           schema: schema, codec: .snappy)
            var start = 0
            var rng = BenchRandom(seed: UInt64(7 + i))
            while start < half[i] {
                let n = min(rowGroupSize, half[i] - start)
                let images: [[UInt8]?] = (0..<n).map { _ in pool[rng.below(pool.count)] }
                try writer.writeRowGroup([.bytes(images), .int64((start..<(start + n)).map { Int64($0) })])
                start += n
            }
            try writer.close()
        }
        try """
            datasets:
              - {name: bench-real, path: data/real, modality: image, media_type: real, source_format: parquet}
              - {name: bench-synthetic, path: data/synthetic, modality: image, media_type: synthetic, source_format: parquet}

            """.write(toFile: (directory as NSString).appendingPathComponent("catalog.yaml"), atomically: true, encoding: .utf8)
        let detectorLines = detectors.map {
            "  - {name: \($0), adapter: predictions, path: predictions.parquet, detector: \($0), batch_size: \(batchSize)}"
        }.joined(separator: "\n")
        let specPath = (directory as NSString).appendingPathComponent("spec.yaml")
        func spec(_ detectors: String) -> String {
            """
            version: 1
            round: {name: bench, seed: 34, modalities: [image]}
            catalogs: [catalog.yaml]
            sources:
              - {kind: real, datasets: ["bench-*"]}
            detectors:
            \(detectors)
            outputs: {directory: runs}

            """
        }
        try spec(detectorLines).write(toFile: specPath, atomically: true, encoding: .utf8)
        // The same samples with a builtin detector: planned before predictions.parquet exists.
        try spec("  - {name: plan-only, adapter: builtin, model: image-baseline}")
            .write(toFile: (directory as NSString).appendingPathComponent("plan-spec.yaml"), atomically: true, encoding: .utf8)
        return BenchRound(directory: directory, specPath: specPath, samples: samples, detectors: detectors)
    }

    /// Plans the round (into a scratch outputs folder) and writes predictions.parquet: one row per
    /// sample and detector, p_ai leaning towards the label, 0.5% of samples missing per detector
    /// (they become `skipped` outcomes, as with a real replay).
    public func writePredictions() throws {
        let scratch = (directory as NSString).appendingPathComponent("plan-scratch")
        let loaded = try SpecLoader.load(path: (directory as NSString).appendingPathComponent("plan-spec.yaml"))
        let planned = try RoundPlanner.plan(loaded, outputsOverride: scratch)
        let samples = planned.plan.samples
        let schema = ParquetSchema(columns: [
            ParquetColumn(name: "sample_id", type: .byteArray, logical: .string, optional: false, dictionary: false),
            ParquetColumn(name: "detector", type: .byteArray, logical: .string, optional: false, dictionary: true),
            ParquetColumn(name: "p_ai", type: .double, optional: false, dictionary: false),
        ])
        let writer = try ParquetWriter(path: (directory as NSString).appendingPathComponent("predictions.parquet"), schema: schema, codec: .snappy)
        var rng = BenchRandom(seed: 99)
        for (k, detector) in detectors.enumerated() {
            let skill = 0.2 + 0.1 * Double(k)
            var start = 0
            while start < samples.count {
                let chunk = samples[start..<min(start + BenchRound.rowGroupSize, samples.count)]
                var ids: [String?] = [], ps: [Double?] = []
                for s in chunk where rng.below(200) != 0 {
                    ids.append(s.id)
                    ps.append(Double(Float(min(max(skill * Double(s.label) + (1 - skill) * rng.unit(), 0), 1))))
                }
                try writer.writeRowGroup([.string(ids), .string(ids.map { _ in detector }), .double(ps)])
                start += chunk.count
            }
        }
        try writer.close()
        try? FileManager.default.removeItem(atPath: scratch)
    }
}

/// End to end: `gascli run` of a 1,000,000-sample round with 4 replayed detectors, as a child
/// process: planning (reading, hashing, validating every sample), 4 M outcomes committed to SQLite,
/// predictions.parquet and metrics.parquet, every metric with its bootstrap interval, results.json.
enum EndToEndBench {
    /// Timed runs of the round: the figure is their median, as for the other benchmarks (one run
    /// on a shared 2-core machine moves by a quarter with the machine's own speed).
    static let repeats = 3

    static func run(_ options: BenchOptions) throws -> BenchResult {
        let samples = options.scaled(1_000_000, minimum: 1000)
        let round = try MeasuredRound.prepare(samples: samples, folder: "e2e", options: options)
        var runs: [MeasuredRound] = []
        for i in 1...repeats {
            options.log("e2e: gascli run \(i) of \(repeats) (timed, in a child process)")
            runs.append(try MeasuredRound.measure(round, samples: samples, outputs: "runs-\(i)", options: options))
        }
        let byTime = runs.sorted { $0.seconds < $1.seconds }
        let r = byTime[byTime.count / 2]
        let peak = runs.map(\.peakBytes).max() ?? r.peakBytes
        let passed = r.seconds < 15 && peak < 1 << 30 && runs.allSatisfy { $0.outcomes == $0.expectedOutcomes }
        return BenchResult(
            name: "e2e", title: "gascli run: \(samples.formattedRows) samples (Parquet dataset) × \(r.detectors) predictions detectors, batch size 1024",
            ours: r.seconds, unit: "s", target: "< 15 s and < 1 GiB peak memory", passed: passed,
            notes: ["median of \(repeats) runs: \(byTime.map { String(format: "%.2f", $0.seconds) }.joined(separator: ", ")) s",
                    "peak memory (\(r.peakSource)), the highest of the runs: \(peak.formattedBytes); CPU time of the median run \(String(format: "%.2f", r.cpuSeconds)) s (user + system, both cores)",
                    "\(r.outcomes.formattedRows) outcomes committed (expected \(r.expectedOutcomes.formattedRows)); \(r.files)",
                    "media: \(BenchRound.distinctImages) distinct 8×8 PNGs shared by the rows (every row is still read, hashed, validated and planned)"])
    }
}

/// Memory growth: the same round at two sizes, and what each further sample adds to the peak,
/// against what the outcome rows alone take (the compact outcome grid the run keeps for scoring).
/// The target is the issue's: memory must not grow with the samples beyond the outcome rows.
enum GrowthBench {
    static func run(_ options: BenchOptions) throws -> BenchResult {
        // Half a million samples apart: the peak of one run moves by 10-20 MiB with the timing of
        // its phases, which over a smaller step would swamp the per-sample figure.
        let small = options.scaled(500_000, minimum: 1000), large = options.scaled(1_000_000, minimum: 2000)
        let a = try MeasuredRound.run(samples: small, folder: "growth-small", options: options)
        let b = try MeasuredRound.run(samples: large, folder: "growth-large", options: options)
        guard a.outcomes == a.expectedOutcomes, b.outcomes == b.expectedOutcomes else {
            throw BenchError("growth: a round committed \(a.outcomes) and \(b.outcomes) outcomes, expected \(a.expectedOutcomes) and \(b.expectedOutcomes)")
        }
        let perSample = Double(b.peakBytes - a.peakBytes) / Double(large - small)
        let allowance = Double(b.detectors * OutcomeGrid.bytesPerOutcome)
        return BenchResult(
            name: "growth",
            title: "peak memory added per sample between rounds of \(small.formattedRows) and \(large.formattedRows) samples × \(b.detectors) predictions detectors",
            ours: perSample, unit: "B/sample",
            target: "≤ the outcome rows: \(Int(allowance)) B/sample (\(b.detectors) outcomes × \(OutcomeGrid.bytesPerOutcome) B in the outcome grid)",
            passed: perSample <= allowance,
            notes: ["peak memory (\(b.peakSource)): \(a.peakBytes.formattedBytes) at \(small.formattedRows) samples, \(b.peakBytes.formattedBytes) at \(large.formattedRows); wall \(String(format: "%.2f", a.seconds)) s and \(String(format: "%.2f", b.seconds)) s",
                    "at this slope a round of 2,000,000 samples would peak near \((b.peakBytes + Int(perSample * Double(2_000_000 - large))).formattedBytes)"])
    }
}

/// One `gascli run` of a `BenchRound` in a child process: wall and CPU time, the run's own peak
/// memory, what it committed and wrote.
struct MeasuredRound {
    var seconds: Double
    var cpuSeconds: Double
    var peakBytes: Int
    var peakSource: String
    var outcomes: Int
    var expectedOutcomes: Int
    var detectors: Int
    /// The run's file sizes, in words.
    var files: String

    static func run(samples: Int, folder: String, options: BenchOptions) throws -> MeasuredRound {
        let round = try prepare(samples: samples, folder: folder, options: options)
        options.log("\(folder): gascli run (timed, in a child process)")
        return try measure(round, samples: samples, outputs: "runs", options: options)
    }

    /// The round's datasets, catalog, spec and predictions file, written once (untimed).
    static func prepare(samples: Int, folder: String, options: BenchOptions) throws -> BenchRound {
        let directory = (options.workDirectory as NSString).appendingPathComponent(folder)
        options.log("\(folder): writing a \(samples)-sample round (datasets, catalog, spec)")
        let round = try BenchRound.create(in: directory, samples: samples)
        options.log("\(folder): planning once to write the predictions file (untimed)")
        try round.writePredictions()
        return round
    }

    /// One timed `gascli run` of `round` into a new outputs folder `outputs` of the round's
    /// directory (media store included, so every run plans and stores from nothing). The folder
    /// of the run before is removed first.
    static func measure(_ round: BenchRound, samples: Int, outputs name: String, options: BenchOptions) throws -> MeasuredRound {
        let directory = round.directory
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where entry == "runs" || entry.hasPrefix("runs-") {
            try? fm.removeItem(atPath: (directory as NSString).appendingPathComponent(entry))
        }
        let outputs = (directory as NSString).appendingPathComponent(name)
        // The files just written (or removed) go to disk first: their writeback is the setup's cost, not the run's.
        sync()
        let peakFile = (directory as NSString).appendingPathComponent("peak-memory")
        let r = try ChildRunner.run([options.executable, "run", round.specPath, "--output", outputs, "--quiet"], in: options.workDirectory,
                                    extra: [PeakMemory.variable: peakFile])
        guard r.status == 0 else { throw BenchError("gascli run failed (exit \(r.status)): \(r.stderr.suffix(3000))") }
        let runDirectory = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        let ledger = try RunLedger(path: (runDirectory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
        let outcomes = try ledger.count("outcomes", runID: (runDirectory as NSString).lastPathComponent)
        func size(_ name: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: (runDirectory as NSString).appendingPathComponent(name)))?[.size] as? Int) ?? 0
        }
        // The run's own VmHWM; wait4's figure counts the benchmark process's memory too (see PeakMemory).
        let reported = (try? String(contentsOfFile: peakFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return MeasuredRound(
            seconds: r.seconds, cpuSeconds: r.cpuSeconds, peakBytes: reported ?? r.maxRSSBytes,
            peakSource: reported == nil ? "max RSS from wait4, which includes the benchmark process's own" : "VmHWM of the gascli process",
            outcomes: outcomes, expectedOutcomes: samples * round.detectors.count, detectors: round.detectors.count,
            files: "run.sqlite \(size("run.sqlite").formattedBytes), predictions.parquet \(size("predictions.parquet").formattedBytes), manifest.json \(size("manifest.json").formattedBytes)")
    }
}

/// Resume: a run with about 1,000,000 committed outcomes, interrupted, then run again: the time
/// from the call to the first new batch committed (planning again, verifying the manifest,
/// loading what is committed, starting the detectors).
enum ResumeBench {
    final class FirstBatch: RunObserver, @unchecked Sendable {
        let lock = NSLock()
        var initial: [String: Int] = [:]
        var committed = 0
        var stopAfter: Int
        var firstNewBatch: ContinuousClock.Instant?
        init(stopAfter: Int) { self.stopAfter = stopAfter }
        func handle(_ event: RunEvent) {
            guard case let .detector(name, done, _) = event else { return }
            lock.withLock {
                if let first = initial[name] {
                    committed += done - first
                    initial[name] = done
                    if firstNewBatch == nil && done > first { firstNewBatch = ContinuousClock.now }
                } else {
                    initial[name] = done
                }
            }
        }
        var shouldStop: Bool { lock.withLock { stopAfter > 0 ? committed >= stopAfter : firstNewBatch != nil } }
    }

    static func run(_ options: BenchOptions) async throws -> BenchResult {
        let target = options.scaled(1_000_000, minimum: 4000)
        let samples = target / 4 + max(target / 40, 1024)
        let directory = (options.workDirectory as NSString).appendingPathComponent("resume")
        options.log("resume: writing a \(samples)-sample round")
        let round = try BenchRound.create(in: directory, samples: samples, batchSize: 256)
        try round.writePredictions()
        let outputs = (directory as NSString).appendingPathComponent("runs")

        options.log("resume: committing about \(target) outcomes, then interrupting (untimed)")
        let setup = FirstBatch(stopAfter: target)
        do {
            _ = try await RoundRunner.run(specPath: round.specPath, options: RunOptions(outputDirectory: outputs, observer: setup,
                                                                                        shouldStop: { setup.shouldStop }))
            throw BenchError("the setup run finished instead of stopping")
        } catch RunnerError.stopped {}
        guard let entry = try RunIndex.list(outputs: outputs).last else { throw BenchError("the setup run left no run") }
        let ledger = try RunLedger(path: (entry.directory as NSString).appendingPathComponent("run.sqlite"), create: false, readOnly: true)
        let committed = try ledger.count("outcomes", runID: entry.id)

        sync()  // the setup's writes reach the disk before the clock starts, not while it runs
        options.log("resume: resuming (timed until the first new batch is committed)")
        let observer = FirstBatch(stopAfter: 0)
        let began = ContinuousClock.now
        do {
            _ = try await RoundRunner.run(specPath: round.specPath, options: RunOptions(outputDirectory: outputs, observer: observer,
                                                                                        shouldStop: { observer.shouldStop }))
        } catch RunnerError.stopped {}
        guard let first = observer.lock.withLock({ observer.firstNewBatch }) else { throw BenchError("the resumed run committed no batch") }
        let seconds = Stopwatch.seconds(first - began)
        return BenchResult(
            name: "resume", title: "reopen a run with \(committed.formattedRows) committed outcomes (\(samples.formattedRows) samples × 4 detectors) and continue",
            ours: seconds, unit: "s", target: "< 1 s to the first new batch", passed: seconds < 1,
            notes: ["measured from the RoundRunner.run call (fingerprint the inputs, take the recorded plan back, load the committed pairs, start the adapters) to the first new batch committed, batch size 256; the setup's files are synced to disk before"])
    }
}
