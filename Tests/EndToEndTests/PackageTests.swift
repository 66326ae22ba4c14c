import Foundation
import GASTestSupport
import Testing

/// GAS model packages: `gascli d push` validation, the registry, `adapter: package` through
/// hosts/gas_model_host.py (a numpy model, since the test machine has no PyTorch), `d perf`.
enum PackageFixtures {
    /// Writes `<dir>/<name>.zip` packages; each kind breaks one rule.
    static let script = #"""
        import io, json, os, stat, struct, sys, zipfile
        import numpy as np
        out = sys.argv[1]

        def safetensors(tensors, lie=None):
            header, body = {}, b""
            for name in sorted(tensors):
                a = np.asarray(tensors[name], dtype=np.float32)
                header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [len(body), len(body) + a.nbytes]}
                body += a.tobytes()
            if lie == "size":
                header["w"]["shape"] = [4]           # 4 values claimed, 2 stored
            if lie == "gap":
                body += b"\0" * 8                    # bytes that belong to no tensor
            h = json.dumps(header).encode()
            h += b" " * (-len(h) % 8)
            return struct.pack("<Q", len(h)) + h + body

        CONFIG = """name: tiny-numpy
        version: "1.0"
        modality: {modality}
        dtype: float32
        preprocessing:
          resize: [32, 48]
        model:
          num_classes: 2
          weights_file: model.safetensors
          temperature: 0.5
        """
        MODEL = '''
        import json, struct
        import numpy as np

        def read_safetensors(path):
            with open(path, "rb") as f:
                data = f.read()
            (n,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8:8 + n])
            out = {}
            for name, t in header.items():
                if name == "__metadata__":
                    continue
                a, b = t["data_offsets"]
                out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=np.float32).reshape(t["shape"])
            return out

        class Tiny:
            """Logistic model over brightness: two logits from mean and contrast."""
            def __init__(self, w, b, temperature):
                self.w, self.b, self.t = w, b, temperature
            def __call__(self, x):
                if x.dtype == np.uint8 and x.ndim == 5:
                    assert x.shape[1:] == (4, 3, 32, 48), x.shape      # [B, T, 3, H, W]
                    f = x.astype(np.float32) / 255.0
                    feats = np.stack([f.mean(axis=(1, 2, 3, 4)), f.std(axis=(1, 2, 3, 4))], axis=1)
                elif x.dtype == np.uint8:
                    assert x.ndim == 4 and x.shape[1:] == (3, 32, 48), x.shape
                    f = x.astype(np.float32) / 255.0
                    feats = np.stack([f.mean(axis=(1, 2, 3)), f.std(axis=(1, 2, 3))], axis=1)
                else:
                    assert x.ndim == 2 and x.shape[1] == 96000 and x.dtype == np.float32, (x.shape, x.dtype)
                    feats = np.stack([np.abs(x).mean(axis=1), x.std(axis=1)], axis=1)
                z = (feats @ self.w + self.b[0]) / self.t
                return {"logits": np.stack([-z, z], axis=1)}

        def load_model(weights_path, num_classes=2, temperature=1.0):
            t = read_safetensors(weights_path)
            return Tiny(t["w"], t["b"], temperature)
        '''

        def package(name, files, symlink=None):
            with zipfile.ZipFile(os.path.join(out, name + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
                for path, data in files.items():
                    z.writestr(path, data)
                if symlink:
                    info = zipfile.ZipInfo(symlink[0])
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    z.writestr(info, symlink[1])

        weights = safetensors({"w": [3.0, -2.0], "b": [-1.0]})
        good = {"model_config.yaml": CONFIG.format(modality="image"), "model.py": MODEL, "model.safetensors": weights}
        package("good", good)
        package("good-in-folder", {"tiny/" + k: v for k, v in good.items()})
        package("audio", {**good, "model_config.yaml": CONFIG.format(modality="audio")})
        package("video", {**good, "model_config.yaml": CONFIG.format(modality="video").replace("resize: [32, 48]", "resize: [32, 48]\n  num_frames: 4")})
        package("escape", {**good, "../../evil.py": "print('x')"})
        package("symlink", good, symlink=("weights2.safetensors", "/etc/passwd"))
        package("no-config", {k: v for k, v in good.items() if k != "model_config.yaml"})
        package("lying-header", {**good, "model.safetensors": safetensors({"w": [3.0, -2.0], "b": [-1.0]}, lie="size")})
        package("gap", {**good, "model.safetensors": safetensors({"w": [3.0, -2.0], "b": [-1.0]}, lie="gap")})
        package("pickle", {**good, "extra.pt": b"\x80\x04K\x01."})
        package("bad-config", {**good, "model_config.yaml": "name: x\nmodality: smell\ndtype: int8\n"})
        with zipfile.ZipFile(os.path.join(out, "bomb.zip"), "w", zipfile.ZIP_DEFLATED) as z:
            for k, v in good.items():
                z.writestr(k, v)
            z.writestr("padding.txt", b"\0" * (8 << 20))
        """#

    /// The packages are written once per test process (Python start-up and the bomb's deflate are
    /// not free on a loaded machine) and copied into each test's own folder.
    static let built: (dir: String?, error: String?) = {
        do {
            let dir = try TestSupport.temporaryDirectory("package-zips")
            try TestSupport.requirePythonModules(["numpy", "PIL"])
            let r = try TestSupport.python(script, [dir])
            guard r.status == 0 else { return (nil, "package fixture failed: \(r.stderr)") }
            return (dir, nil)
        } catch {
            return (nil, "\(error)")
        }
    }()

    static func make() throws -> RoundFixture {
        let f = try RoundFixture("packages")
        guard let dir = built.dir else { throw TestSupportError(built.error ?? "package fixture failed") }
        try FileManager.default.copyItem(atPath: dir, toPath: f.path("pkgs"))
        return f
    }
}

@Suite struct PackagePushTests {
    @Test func aGoodPackageIsRegisteredOnceUnderItsContentHash() async throws {
        try await offPool { try Self().aGoodPackageIsRegisteredOnceUnderItsContentHashBody() }
    }

    func aGoodPackageIsRegisteredOnceUnderItsContentHashBody() throws {
        let f = try PackageFixtures.make()
        var r = try Gascli.run(["d", "push", "--image-model", "pkgs/good.zip", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("registered tiny-numpy (image)"))
        let hash = try #require(r.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        #expect(hash.count == 64)
        #expect(r.stdout.contains("3 files") && r.stdout.contains("2 tensors, 3 parameters"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: f.path("reg/packages/\(hash)/model.py")))
        #expect(FileManager.default.fileExists(atPath: f.path("reg/registry.sqlite")))
        // The same files zipped inside a folder are the same package.
        r = try Gascli.run(["discriminator", "push", "--image-model", "pkgs/good-in-folder.zip", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 0 && r.stdout.contains("already registered tiny-numpy (image) \(hash)"), "\(r.stdout) \(r.stderr)")
        r = try Gascli.run(["d", "list", "--registry", "reg"], cwd: f.root)
        #expect(r.stdout.contains("tiny-numpy") && r.stdout.contains(String(hash.prefix(16))))
        // Pushed with the wrong flag.
        r = try Gascli.run(["d", "push", "--video-model", "pkgs/good.zip", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("modality 'image' but it was pushed with --video-model"), "\(r.stderr)")
    }

    @Test(arguments: [
        ("escape", "'../../evil.py'"), ("symlink", "symbolic link"), ("no-config", "no model_config.yaml"),
        ("lying-header", "needs 16"), ("gap", "the tensors cover 12 bytes but the data section has 20"), ("pickle", "'extra.pt' is a .pt file"),
        ("bad-config", "'modality' must be image, video or audio"), ("bomb", "exceeds"),
    ])
    func aBadPackageIsRejectedNamingTheFileAndTheProblem(kind: String, expected: String) async throws {
        try await offPool { try Self().aBadPackageIsRejectedNamingTheFileAndTheProblemBody(kind: kind, expected: expected) }
    }

    func aBadPackageIsRejectedNamingTheFileAndTheProblemBody(kind: String, expected: String) throws {
        let f = try PackageFixtures.make()
        let r = try Gascli.run(["d", "push", "--image-model", "pkgs/\(kind).zip", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 1, "\(kind): \(r.stdout)")
        #expect(r.stderr.contains("\(kind).zip"), "names the file: \(r.stderr)")
        #expect(r.stderr.contains(expected), "\(kind): \(r.stderr)")
        let packages = (try? FileManager.default.contentsOfDirectory(atPath: f.path("reg/packages"))) ?? []
        #expect(packages.isEmpty, "nothing stored for a rejected package")
        #expect(!FileManager.default.fileExists(atPath: f.path("evil.py")) && !FileManager.default.fileExists(atPath: (f.root as NSString).deletingLastPathComponent + "/evil.py"))
    }
}

@Suite struct PackageRunTests {
    @Test func aRegisteredPackageRunsThroughTheHostAndShowsUpInPerf() async throws {
        try await offPool { try Self().aRegisteredPackageRunsThroughTheHostAndShowsUpInPerfBody() }
    }

    func aRegisteredPackageRunsThroughTheHostAndShowsUpInPerfBody() throws {
        let f = try PackageFixtures.make()
        try f.copyPhotos(6)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        var r = try Gascli.run(["d", "push", "--image-model", "pkgs/good.zip", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let py: String = TestSupport.python
        let detectors = """
              - {name: tiny, adapter: package, model: tiny-numpy, registry: reg, python: \(py), batch_size: 4}
              - {name: base, adapter: builtin, model: image-baseline}
            """
        try f.write("spec.yaml", f.spec(real: "samples: 6", synthetic: 6, detectors: detectors))
        let (dir, run) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as? [String: Any])
        let tiny = try #require((results["detectors"] as? [String: Any])?["tiny"] as? [String: Any])
        let counts = try #require(tiny["status_counts"] as? [String: Int])
        #expect(counts["ok"] == 12, "every image answered by the numpy model: \(counts); log: \((try? String(contentsOfFile: dir + "/logs/tiny.stderr.log", encoding: .utf8)) ?? "")")
        let hash = try #require(tiny["artifact_sha256"] as? String)
        #expect(hash.count == 64)
        // The same package given as a zip path in the spec is the same artifact.
        try f.write("spec2.yaml", f.spec(real: "samples: 6", synthetic: 6, detectors: """
              - {name: tiny-zip, adapter: package, model: pkgs/good.zip, registry: reg, python: \(py)}
            """).replacingOccurrences(of: "name: t,", with: "name: t2,"))
        let second = try Gascli.runQuiet("spec2.yaml", output: f.path("runs"), cwd: f.root)
        #expect(second.result.status == 0, "\(second.result.stderr)")
        r = try Gascli.run(["d", "perf", "tiny-numpy", "--registry", "reg", "--outputs", "runs"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("tiny-numpy (image) \(hash)"))
        #expect(r.stdout.contains("2 run(s)"), "\(r.stdout)")
        #expect(r.stdout.contains(" tiny ") && r.stdout.contains(" tiny-zip "), "\(r.stdout)")
        r = try Gascli.run(["d", "perf", "nope", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 1 && r.stderr.contains("no model 'nope'") && r.stderr.contains("tiny-numpy"))
    }

    @Test func theHostPreparesInputsAsGasbenchAndFailsItemsAlone() async throws {
        try await offPool { try Self().theHostPreparesInputsAsGasbenchAndFailsItemsAloneBody() }
    }

    func theHostPreparesInputsAsGasbenchAndFailsItemsAloneBody() throws {
        let f = try PackageFixtures.make()
        try f.copyPhotos(1)
        let r0 = try TestSupport.python("import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", [f.path("pkgs/good.zip"), f.path("pkg")])
        #expect(r0.status == 0)
        let photo = try #require(try FileManager.default.contentsOfDirectory(atPath: f.path("photos")).first)
        let config = #"{"name":"tiny-numpy","modality":"image","resize":[32,48],"num_classes":2,"weights_file":"model.safetensors","model_arguments":{"temperature":"0.5"}}"#
        let requests = """
            {"batch":1,"items":[{"id":"a","path":"\(f.path("photos/" + photo))","modality":"image","seed":1},{"id":"b","path":"\(f.path("missing.png"))","modality":"image","seed":2},{"id":"c","path":"x.wav","modality":"audio","seed":3}]}
            {"shutdown":true}

            """
        let py: String = TestSupport.python
        let r = try TestSupport.run(py, [TestSupport.repositoryRoot + "/hosts/gas_model_host.py", f.path("pkg"), "--config", config], stdin: requests)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].contains(#""modalities": ["image"]"#))
        let response = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        let results = try #require(response["results"] as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: results.map { ($0["id"] as? String ?? "", $0) })
        let probs = try #require(byID["a"]?["probs"] as? [Double])
        #expect(probs.count == 2 && abs(probs[0] + probs[1] - 1) < 1e-6)
        #expect((byID["b"]?["error"] as? String)?.contains("cannot prepare") == true)
        #expect((byID["c"]?["error"] as? String)?.contains("does not handle audio") == true)
        // The embedded copy gascli writes for `adapter: package` is this file.
        let shipped = try String(contentsOfFile: TestSupport.repositoryRoot + "/hosts/gas_model_host.py", encoding: .utf8)
        let embedded = try String(contentsOfFile: TestSupport.repositoryRoot + "/Sources/GASDetectors/EmbeddedHost.swift", encoding: .utf8)
        #expect(embedded.contains(shipped), "run scripts/embed-host.sh after editing hosts/gas_model_host.py")
    }
}
