import Foundation
import Testing
import GASTestSupport

/// The same spec on the same data gives the same manifest hash and bit-identical metrics,
/// whatever folder the data sits in and whatever order its files were created in.
@Suite struct SamePlanEverywhereTests {
    /// Copies configs/, datasets/ and examples/ to a new place, creating files in reverse order.
    func reversedCopy() throws -> String {
        let root = try TestSupport.temporaryDirectory("elsewhere")
        let fm = FileManager.default
        for top in ["configs", "datasets", "examples"] {
            let source = TestSupport.repositoryRoot + "/" + top
            guard let walker = fm.enumerator(atPath: source) else { continue }
            var files: [String] = []
            while let item = walker.nextObject() as? String {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: source + "/" + item, isDirectory: &isDir), !isDir.boolValue, !item.contains("__pycache__") {
                    files.append(item)
                }
            }
            for item in files.sorted().reversed() {
                let target = root + "/" + top + "/" + item
                try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.copyItem(atPath: source + "/" + item, toPath: target)
            }
        }
        return root
    }

    func manifestHash(_ output: String, cwd: String) throws -> String {
        let r = try Gascli.run(["plan", "configs/quickstart.yaml", "--output", output], cwd: cwd)
        #expect(r.status == 0, "\(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.contains("manifest hash") } ?? ""
        return String(line.split(separator: " ").last ?? "")
    }

    @Test func sameManifestAndMetricsInAnotherFolderAndOrder() async throws {
        try await offPool { try Self().sameManifestAndMetricsInAnotherFolderAndOrderBody() }
    }

    func sameManifestAndMetricsInAnotherFolderAndOrderBody() throws {
        let copy = try reversedCopy()
        let here = try manifestHash(try TestSupport.temporaryDirectory("plan-here"), cwd: TestSupport.repositoryRoot)
        let there = try manifestHash(copy + "/runs", cwd: copy)
        #expect(here.count == 64)
        #expect(here == there)

        let a = try Gascli.runQuiet("configs/quickstart.yaml", output: try TestSupport.temporaryDirectory("run-here"))
        let b = try Gascli.runQuiet("configs/quickstart.yaml", output: copy + "/runs", cwd: copy)
        #expect(a.result.status == 0 && b.result.status == 0)
        let metrics = """
        import json, sys
        r = json.load(open(sys.argv[1] + "/results.json"))
        print(json.dumps({"hash": r["run"]["manifest_hash"], "detectors": {k: {x: v[x] for x in ("overall", "breakdowns", "sn34", "status_counts")} for k, v in r["detectors"].items()}}, sort_keys=True))
        """
        // `plan --json` streams the manifest: the run's manifest.json, byte for byte.
        let json = try Gascli.run(["plan", "configs/quickstart.yaml", "--output", copy + "/runs", "--json"], cwd: copy)
        let written = try String(contentsOfFile: b.dir + "/manifest.json", encoding: .utf8)
        #expect(json.status == 0 && json.stdout == written + "\n", "\(json.stderr)")
        let ma = try TestSupport.python(metrics, [a.dir]), mb = try TestSupport.python(metrics, [b.dir])
        #expect(ma.status == 0 && !ma.stdout.isEmpty)
        #expect(ma.stdout == mb.stdout)
        #expect(ma.stdout.contains(here))
    }
}
