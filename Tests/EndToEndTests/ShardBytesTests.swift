import Foundation
import Testing
import GASTestSupport

/// With detectors whose answers do not depend on time (a predictions table replayed), a sharded
/// and merged round writes the very bytes of an unsharded run: predictions.parquet and
/// metrics.parquet compared byte for byte, not column by column.
@Suite struct ShardBytesTests {
    @Test func replayedPredictionsShardedAndMergedAreByteIdentical() async throws {
        try await offPool { try Self().body() }
    }

    func body() throws {
        let f = try RoundFixture("shard-bytes")
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        // A first run gives the stored predictions of two builtin detectors.
        try f.write("first.yaml", f.spec(real: "samples: 8", synthetic: 8, detectors: """
          - {name: a, adapter: builtin, model: image-baseline, batch_size: 3}
          - {name: b, adapter: builtin, model: image-baseline, batch_size: 5}
        """))
        let (firstDir, r0) = try Gascli.runQuiet("first.yaml", output: f.path("first"), cwd: f.root)
        #expect(r0.status == 0, "\(r0.stderr)")

        try f.write("replay.yaml", f.spec(real: "samples: 8", synthetic: 8, detectors: """
          - {name: from-a, adapter: predictions, path: \(firstDir)/predictions.parquet, detector: a, batch_size: 3}
          - {name: from-b, adapter: predictions, path: \(firstDir)/predictions.parquet, detector: b, batch_size: 4}
        """))
        let id = "t-bytes"
        var r = try Gascli.run(["run", "replay.yaml", "--output", f.path("single"), "--run-id", id, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        for i in [1, 0] {
            r = try Gascli.run(["run", "replay.yaml", "--shard", "\(i)/2", "--run-id", id, "--output", f.path("sharded"), "--quiet"], cwd: f.root)
            #expect(r.status == 0, "shard \(i): \(r.stderr)")
        }
        r = try Gascli.run(["merge", f.path("sharded/" + id), "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")

        for name in ["predictions.parquet", "metrics.parquet"] {
            let single = try Data(contentsOf: URL(fileURLWithPath: f.path("single/\(id)/\(name)")))
            let merged = try Data(contentsOf: URL(fileURLWithPath: f.path("sharded/\(id)/\(name)")))
            #expect(single.count > 0)
            #expect(single == merged, "\(name) differs between the unsharded and the merged run")
        }
    }
}
