import Foundation
import Testing
import GASTestSupport
@testable import GASRunner
@testable import GASCore

/// A round split with `--shard I/N` and merged with `gascli merge` gives the predictions, metrics
/// and scores of the same round run on one machine; merging refuses parts that do not fit.
@Suite(.serialized) struct ShardingTests {
    /// 16 samples (8 photos, 8 synthetic), a builtin detector in batches of 3 and a real process
    /// detector in batches of 2, so shard edges cut through batches of both. The process detector
    /// sleeps `slowSeconds` per batch, so a run can be cut mid-way.
    static func round(_ label: String, alpha: String = "1.2", slowSeconds: Double = 0) throws -> RoundFixture {
        let f = try RoundFixture(label)
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.writeSlowDetector(seconds: slowSeconds)
        try f.write("spec.yaml", f.spec(real: "samples: 8", synthetic: 8, semishare: 0.25, detectors: """
          - {name: base, adapter: builtin, model: image-baseline, batch_size: 3}
          - {name: slow, adapter: process, command: [python3, slow.py], batch_size: 2, timeout: 30s}
        """) + "\nscoring: {alpha: \(alpha)}\n")
        return f
    }

    /// Compares a merged run with an unsharded one: metrics.parquet byte for byte; every
    /// predictions.parquet column but latency_ms (wall-clock time, different in any two runs),
    /// with schema and file metadata; results.json but its `run` timing; the scores weights use.
    static let compare = """
    import json, sys, pyarrow.parquet as pq
    a, b = sys.argv[1], sys.argv[2]
    out = {}
    out["metrics_bytes_equal"] = open(a + "/metrics.parquet", "rb").read() == open(b + "/metrics.parquet", "rb").read()
    ta, tb = pq.read_table(a + "/predictions.parquet"), pq.read_table(b + "/predictions.parquet")
    out["predictions_schema_equal"] = ta.schema.equals(tb.schema, check_metadata=True)
    cols = [c for c in ta.column_names if c != "latency_ms"]
    out["predictions_equal_but_latency"] = ta.select(cols).equals(tb.select(cols))
    out["rows"] = ta.num_rows
    out["batches"] = sorted(set(tb.column("batch").to_pylist()))
    ra, rb = json.load(open(a + "/results.json")), json.load(open(b + "/results.json"))
    for key in ("id", "manifest_hash", "round", "status"):
        out["run_" + key + "_equal"] = ra["run"][key] == rb["run"][key]
    ra.pop("run"); rb.pop("run")
    if len(sys.argv) > 3:  # a run in a PostgreSQL ledger lists ledger.json where others list run.sqlite
        ra["files"].pop("database", None); rb["files"].pop("database", None)
    out["results_equal_but_run"] = ra == rb
    out["scores"] = {d: v["sn34"] for d, v in rb["detectors"].items()}
    print(json.dumps(out, sort_keys=True))
    """

    /// `sharedLedger`: the merged run's outcomes are in PostgreSQL, so results.json lists its
    /// ledger.json instead of run.sqlite; every other field must still be equal.
    static func expectSame(unsharded: String, merged: String, sharedLedger: Bool = false) throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let r = try TestSupport.python(compare, [unsharded, merged] + (sharedLedger ? ["shared-ledger"] : []))
        #expect(r.status == 0, "\(r.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        for key in ["metrics_bytes_equal", "predictions_schema_equal", "predictions_equal_but_latency", "results_equal_but_run",
                    "run_id_equal", "run_manifest_hash_equal", "run_round_equal", "run_status_equal"] {
            #expect(out[key] as? Bool == true, "\(key): \(r.stdout)")
        }
        #expect(out["rows"] as? Int == 32)
        #expect((out["scores"] as? [String: Any])?.count == 2)
    }

    @Test func threeShardsMergedEqualAnUnshardedRun() async throws {
        try await offPool { try Self().threeShardsMergedEqualAnUnshardedRunBody() }
    }

    func threeShardsMergedEqualAnUnshardedRunBody() throws {
        let f = try Self.round("shards")
        let id = "t-sharded"
        var r = try Gascli.run(["run", "spec.yaml", "--output", f.path("single"), "--run-id", id, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        // Shards in any order; each writes only its own part.
        for i in [2, 0, 1] {
            r = try Gascli.run(["run", "spec.yaml", "--shard", "\(i)/3", "--run-id", id, "--output", f.path("sharded"), "--quiet"], cwd: f.root)
            #expect(r.status == 0, "shard \(i): \(r.stderr)")
            #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("/\(id)/shards/\(i)-of-3"))
        }
        let run = f.path("sharded/" + id)
        #expect(FileManager.default.fileExists(atPath: run + "/shards/1-of-3/predictions.parquet"))
        #expect(!FileManager.default.fileExists(atPath: run + "/results.json"))
        // Running a finished shard again resumes it: nothing is evaluated twice.
        r = try Gascli.run(["run", "spec.yaml", "--shard", "1/3", "--run-id", id, "--output", f.path("sharded")], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(resumed)"))
        #expect(r.stdout.contains("5 of 16 samples"))

        r = try Gascli.run(["merge", run], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Leaderboard"))
        try Self.expectSame(unsharded: f.path("single/" + id), merged: run)

        // The merged run is an ordinary run: listed, rescored exactly, exported and verified.
        r = try Gascli.run(["rescore", run], cwd: f.root)
        #expect(r.status == 0 && r.stderr.contains("reproduced exactly"), "\(r.stderr)")
        let bundle = f.path("bundle.tar.gz")
        r = try Gascli.run(["audit", "export", run, "-o", bundle], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        r = try Gascli.run(["audit", "verify", bundle], cwd: f.root)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        r = try Gascli.run(["runs", "--output", f.path("sharded")], cwd: f.root)
        #expect(r.status == 0 && r.stdout.contains(id), "\(r.stdout)\(r.stderr)")

        // Merging again rebuilds the same run from the parts.
        let before = try Data(contentsOf: URL(fileURLWithPath: run + "/metrics.parquet"))
        r = try Gascli.run(["merge", run, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/metrics.parquet")) == before)
    }

    @Test func badShardOptionsExitTwoNamingTheRange() async throws {
        try await offPool { try Self().badShardOptionsExitTwoNamingTheRangeBody() }
    }

    func badShardOptionsExitTwoNamingTheRangeBody() throws {
        let f = try Self.round("badshard")
        for bad in ["4/4", "0/0", "x/3", "-1/3", "1"] {
            let r = try Gascli.run(["run", "spec.yaml", "--shard", bad, "--output", f.path("runs")], cwd: f.root)
            #expect(r.status == 2, "--shard \(bad): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--shard \(bad)"), "\(r.stderr)")
            #expect(r.stderr.contains("0 <= I <= N-1"), "\(r.stderr)")
        }
        let r = try Gascli.run(["run", "spec.yaml", "--shard", "4/4", "--output", f.path("runs")], cwd: f.root)
        #expect(r.stderr.contains("between 0 and 3"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: f.path("runs")), "nothing is planned or written for a bad --shard")
    }

    @Test func mergeRefusesMissingDuplicateForeignAndUnfinishedParts() async throws {
        try await offPool { try Self().mergeRefusesMissingDuplicateForeignAndUnfinishedPartsBody() }
    }

    func mergeRefusesMissingDuplicateForeignAndUnfinishedPartsBody() throws {
        let f = try Self.round("refuse")
        let id = "t-parts"
        func shard(_ i: Int, _ n: Int, spec: String = "spec.yaml", runID: String = "t-parts") throws {
            let r = try Gascli.run(["run", spec, "--shard", "\(i)/\(n)", "--run-id", runID, "--output", f.path("runs"), "--quiet"], cwd: f.root)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let run = f.path("runs/" + id)
        try shard(0, 3)
        try shard(2, 3)

        // Missing: names the shard and the command that produces it.
        var r = try Gascli.run(["merge", run], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("missing shard 1/3"), "\(r.stderr)")
        #expect(r.stderr.contains("--shard 1/3 --run-id \(id)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run + "/results.json"))

        // Duplicate: the same shard passed twice.
        let copy = f.path("elsewhere/0-of-3")
        try FileManager.default.createDirectory(atPath: f.path("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: run + "/shards/0-of-3", toPath: copy)
        r = try Gascli.run(["merge", run, "--part", run + "/shards/0-of-3", "--part", copy, "--part", run + "/shards/2-of-3"], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("shard 0/3 is present twice"), "\(r.stderr)")
        #expect(r.stderr.contains(copy), "\(r.stderr)")

        // Different manifests: a part of the same round with another scoring rule.
        try f.write("other.yaml", (try String(contentsOfFile: f.path("spec.yaml"), encoding: .utf8)).replacingOccurrences(of: "alpha: 1.2", with: "alpha: 1.5"))
        try shard(1, 3, spec: "other.yaml", runID: "t-other")
        let foreign = f.path("runs/t-other/shards/1-of-3")
        r = try Gascli.run(["merge", run, "--part", run + "/shards/0-of-3", "--part", foreign, "--part", run + "/shards/2-of-3"], cwd: f.root)
        #expect(r.status == 1)
        let ours = try String(contentsOfFile: run + "/shards/0-of-3/shard.json", encoding: .utf8)
        let theirs = try String(contentsOfFile: foreign + "/shard.json", encoding: .utf8)
        func hash(_ json: String) -> String {
            ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any])?["manifest_hash"] as? String ?? "?"
        }
        #expect(hash(ours) != hash(theirs))
        #expect(r.stderr.contains("parts of different plans"), "\(r.stderr)")
        #expect(r.stderr.contains(hash(ours)) && r.stderr.contains(hash(theirs)) && r.stderr.contains(foreign), "\(r.stderr)")

        // A shard of another plan cannot write into this run directory either.
        r = try Gascli.run(["run", "other.yaml", "--shard", "1/3", "--run-id", id, "--output", f.path("runs")], cwd: f.root)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("scoring"), "\(r.stderr)")

        // Unfinished: a part whose run failed (as when its task was killed) is named with the fix.
        try shard(1, 3)
        let sql = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE runs SET status = 'failed'\"); db.execute(\"DELETE FROM outcomes WHERE (sample_id, detector) IN (SELECT sample_id, detector FROM outcomes LIMIT 3)\"); db.commit()"
        var p = try TestSupport.python(sql, [run + "/shards/1-of-3/run.sqlite"])
        #expect(p.status == 0, "\(p.stderr)")
        r = try Gascli.run(["merge", run], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("shard 1/3"), "\(r.stderr)")
        #expect(r.stderr.contains("status failed") && r.stderr.contains("7 of 10 outcomes"), "\(r.stderr)")
        #expect(r.stderr.contains("resume it with `gascli run"), "\(r.stderr)")

        // Resuming the shard completes it (only the missing outcomes), and the merge succeeds.
        try shard(1, 3)
        r = try Gascli.run(["merge", run, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        p = try TestSupport.python("import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*), COUNT(DISTINCT sample_id || detector) FROM outcomes').fetchone())",
                                   [run + "/run.sqlite"])
        #expect(p.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "(32, 32)", "\(p.stdout)\(p.stderr)")

        // Parts of two shard counts.
        try shard(0, 2)
        r = try Gascli.run(["merge", run, "--part", run + "/shards/0-of-2", "--part", run + "/shards/1-of-3"], cwd: f.root)
        #expect(r.status == 1)
        #expect(r.stderr.contains("different shard counts"), "\(r.stderr)")
    }

    @Test func shardRangesCoverThePlanOnceAndBatchesKeepTheirNumbers() throws {
        for n in 1...7 {
            for count in [0, 1, 5, 16, 101] {
                var covered: [Int] = []
                for i in 0..<n { covered += Array(try Shard(index: i, count: n).sampleRange(of: count)) }
                #expect(covered == Array(0..<count), "n \(n), count \(count)")
            }
        }
        #expect(throws: ShardError.self) { try Shard.parse("3/3") }
        #expect(throws: ShardError.self) { try Shard.parse("0/0") }
        #expect(throws: ShardError.self) { try Shard.parse("a/b") }
        #expect(try Shard.parse("2/5") == (try Shard(index: 2, count: 5)))

        // Samples 4..<9 of a plan in batches of 3 are batches 2 (4, 5), 3 (6, 7, 8): the unsharded numbers.
        let samples = (0..<12).map { i in
            PlannedSample(id: "s\(i)", uri: "u\(i)", sha256: "h", byteCount: 1, dataset: "d", sourceKind: .real, mediaType: .real,
                          modality: .image, seed: 0, format: "png", mediaPath: "m")
        }
        let positions = Dictionary(uniqueKeysWithValues: samples.enumerated().map { ($0.element.id, $0.offset) })
        let grid = RoundExecutor.gridBatches(Array(4..<9), of: samples, batchSize: 3, positions: positions)
        #expect(grid.map(\.number) == [2, 3])
        #expect(grid.map { $0.positions.map { samples[$0].id } } == [["s4", "s5"], ["s6", "s7", "s8"]])
        let plain = RoundExecutor.batches(Array(samples.indices), batchSize: 5, firstBatch: 1)
        #expect(plain.map(\.number) == [1, 2, 3] && plain.map(\.positions.count) == [5, 5, 2])
    }

    /// Detectors see the samples by sample id (String order), whatever the plan's order.
    @Test func executionOrderIsSampleIDOrder() {
        var g = SplitMix64(seed: 3)
        let alphabet = Array("0123456789abcdef") + ["z", "é", "\u{1F600}"]
        let ids: [String] = (0..<3000).map { i in
            let length = i % 50 == 0 ? g.nextInt(below: 10) : 24  // short ids share 8-byte prefixes
            return String((0..<length).map { _ in alphabet[g.nextInt(below: i % 7 == 0 ? alphabet.count : 16)] }) + "#\(i)"
        }
        let order = ExecutionOrder.positions(ofIDs: ids)
        #expect(order.map { ids[$0] } == ids.sorted())
        #expect(Set(order).count == ids.count)
    }

    /// Hex ids (every real sample id) take the radix path: the same order as comparing the ids,
    /// with ids sharing their first 8 digits, ids of 8 digits only and repeated ids.
    @Test func hexIDsTakeTheRadixPathToTheSameOrder() {
        var g = SplitMix64(seed: 5)
        let hex = Array("0123456789abcdef")
        func digits(_ n: Int) -> String { String((0..<n).map { _ in hex[g.nextInt(below: 16)] }) }
        var ids: [String] = (0..<20_000).map { _ in digits(24) }
        let shared = digits(8)
        ids += (0..<300).map { i in shared + (i % 3 == 0 ? "" : digits(i % 20)) }  // one prefix, many tails
        ids += Array(ids.prefix(50))  // repeats
        ids.shuffle(using: &g)
        let radix = try? #require(ExecutionOrder.hexPrefixOrder(ids))
        #expect(radix == ExecutionOrder.comparisonOrder(ids), "identical positions, repeats in plan order")
        #expect(ExecutionOrder.positions(ofIDs: ids).map { ids[$0] } == ids.sorted())
        #expect(ExecutionOrder.hexPrefixOrder(ids + ["ABCDEF0123"]) == nil, "upper-case hex is not the radix path's")
        #expect(ExecutionOrder.hexPrefixOrder(ids + ["0123"]) == nil, "shorter than 8 digits")
        // Read from samples, whose 24-digit ids are kept packed and the others as text: the same order.
        let samples = ids.map { id in
            PlannedSample(id: id, uri: "u", sha256: "s", byteCount: 0, dataset: "d", sourceKind: .real, mediaType: .real,
                          modality: .image, seed: 0, format: "png", mediaPath: "m")
        }
        #expect(samples.map(\.id) == ids)
        #expect(ExecutionOrder.positions(of: samples) == ExecutionOrder.positions(ofIDs: ids))
        #expect(ExecutionOrder.positions(of: samples + [samples[0]]) == ExecutionOrder.positions(ofIDs: ids + [ids[0]]))
    }
}
