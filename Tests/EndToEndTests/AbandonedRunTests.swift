import Foundation
import GASStore
import GASTestSupport
import Testing

/// A run killed after creating its run.sqlite but before recording the run leaves a directory no
/// listing shows; running the same plan again adopts it instead of leaving it behind.
@Suite struct AbandonedRunTests {
    @Test func aRunDirectoryWithoutARunIsAdoptedByTheSamePlan() async throws {
        let f = try RoundFixture("abandoned")
        try f.copyPhotos(3)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 3", synthetic: 2))
        let runs = f.path("runs"), root = f.root
        let summary = try await offload { try Gascli.run(["plan", "spec.yaml", "--output", runs], cwd: root) }
        let hash = try #require(summary.stdout.split(separator: "\n").first { $0.contains("manifest hash") }?.split(separator: " ").last)
        let name = "t-20260101-000000-\(hash.prefix(8))"
        try FileManager.default.createDirectory(atPath: f.path("runs/\(name)"), withIntermediateDirectories: true)
        _ = try RunLedger(path: f.path("runs/\(name)/run.sqlite"))  // the database exists, no run in it

        let r = try await offload { try Gascli.runQuiet("spec.yaml", output: runs, cwd: root) }
        #expect(r.result.status == 0, "\(r.result.stderr)")
        #expect(r.dir.hasSuffix("/" + name), "\(r.dir)")
        let dirs = try FileManager.default.contentsOfDirectory(atPath: f.path("runs")).filter { $0.hasPrefix("t-") }
        #expect(dirs == [name])
        // A different plan never adopts it.
        try f.write("spec.yaml", f.spec(real: "samples: 2", synthetic: 2))
        let other = try await offload { try Gascli.runQuiet("spec.yaml", output: runs, cwd: root) }
        #expect(other.result.status == 0 && !other.dir.hasSuffix("/" + name))
    }
}
