import Foundation
import GASTestSupport

/// Runs the built `gascli` binary as a user would.
enum Gascli {
    static let binary: String = {
        if let p = ProcessInfo.processInfo.environment["GASCLI_BIN"], !p.isEmpty { return p }
        if let exe = Bundle.main.executablePath {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent("gascli").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                dir.deleteLastPathComponent()
            }
        }
        return TestSupport.repositoryRoot + "/.build/debug/gascli"
    }()

    static func run(_ arguments: [String], cwd: String = TestSupport.repositoryRoot) throws -> TestSupport.Result {
        try TestSupport.run(binary, arguments, cwd: cwd)
    }

    /// The run directory a successful `run --quiet` printed.
    static func runQuiet(_ spec: String, output: String, cwd: String = TestSupport.repositoryRoot) throws -> (dir: String, result: TestSupport.Result) {
        let r = try run(["run", spec, "--output", output, "--quiet"], cwd: cwd)
        return (r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), r)
    }
}

/// A throwaway round: a folder with a catalog, datasets and a spec, written per test.
struct RoundFixture {
    let root: String

    init(_ label: String = "round") throws {
        root = try TestSupport.temporaryDirectory(label)
    }

    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    func write(_ relative: String, _ text: String) throws {
        let p = path(relative)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
    }

    /// Copies a few bundled photos into `photos/` so rounds are small and fast.
    func copyPhotos(_ count: Int, to folder: String = "photos") throws {
        let source = TestSupport.repositoryRoot + "/datasets/photos"
        let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted().prefix(count)
        try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: true)
        for n in names { try FileManager.default.copyItem(atPath: source + "/" + n, toPath: path(folder + "/" + n)) }
    }

    /// Writes `slow.py`: a process detector that sleeps `seconds` per batch and answers a
    /// probability derived from a sha256 (of the file's bytes, or of the sample id), so runs are
    /// deterministic yet slow enough to be interrupted mid-run.
    func writeSlowDetector(seconds: Double, hashing: String = "open(item[\"path\"], \"rb\").read()") throws {
        try write("slow.py", """
        import json, sys, time, hashlib
        print(json.dumps({"hello": {"protocol": 1, "name": "slow", "modalities": ["image"]}}), flush=True)
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("shutdown"): break
            time.sleep(\(seconds))
            out = []
            for item in msg["items"]:
                h = hashlib.sha256(\(hashing)).digest()
                out.append({"id": item["id"], "probs": [h[0] / 255.0]})
            print(json.dumps({"batch": msg["batch"], "results": out}), flush=True)
        """)
    }

    func spec(catalog: String = "catalog.yaml", real: String = "samples: 6", synthetic: Int = 6, semishare: Double = 0,
              detectors: String = "  - {name: base, adapter: builtin, model: image-baseline}") -> String {
        """
        version: 1
        round: {name: t, seed: 5, modalities: [image]}
        catalogs: [\(catalog)]
        sources:
          - {kind: real, datasets: ["*"], \(real)}
          - {kind: synthetic, samples: \(synthetic), semisynthetic_share: \(semishare), width: 64, height: 64}
        detectors:
        \(detectors)
        outputs: {directory: runs}
        """
    }
}
