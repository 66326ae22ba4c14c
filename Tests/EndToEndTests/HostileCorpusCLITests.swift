import Foundation
import GASTestSupport
import Testing

/// The hostile corpus (Tests/HostileCorpus) where a user meets it: through the gascli binary.
/// Each run must stop with a clear message and a non-zero exit, write nothing outside its
/// folder, and stay bounded in memory: gascli's peak resident size is measured with wait4.
@Suite struct HostileCorpusCLITests {
    static let corpus = TestSupport.repositoryRoot + "/Tests/HostileCorpus"

    /// Peak memory any of these commands may reach. A debug gascli peaks at 31-40 MiB on them; a
    /// YAML bomb expanded or the 200 MiB archive entry inflated in memory would go far past this.
    static let memoryBound = 96 << 20

    struct Measured {
        var status: Int32
        var stdout: String
        var stderr: String
        var peakBytes: Int
    }

    /// Runs gascli with its output in files and reaps it with wait4, which reports that one
    /// process's peak resident set size. A small Python process forks it: a process started
    /// straight from this (large) test process would inherit the test's own peak through exec.
    static func measure(_ arguments: [String], cwd: String) throws -> Measured {
        let out = cwd + "/.stdout-\(UUID().uuidString)", err = cwd + "/.stderr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        let script = """
        import os, sys
        out, err, cwd = sys.argv[1:4]
        argv = sys.argv[4:]
        pid = os.fork()
        if pid == 0:
            os.chdir(cwd)
            os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
            os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
            os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
            os.execv(argv[0], argv)
        _, status, usage = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print(code if code >= 0 else 128 - code, usage.ru_maxrss)
        """
        let r = try TestSupport.python(script, [out, err, cwd, Gascli.binary] + arguments)
        let fields = r.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard r.status == 0, fields.count == 2 else { throw TestSupportError("measuring gascli failed: \(r.stdout) \(r.stderr)") }
        return Measured(status: Int32(fields[0]), stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", peakBytes: fields[1] * 1024)
    }

    static func listing(_ dir: String) -> Set<String> {
        Set((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? [])
    }

    @Test(arguments: [
        ("billion-laughs.yaml", "billion laughs"), ("alias-key-bomb.yaml", "billion laughs"),
        ("deep-flow.yaml", "nesting deeper than 64 levels"), ("deep-block.yaml", "nesting deeper than 64 levels"),
        ("huge-numbers.yaml", "expected a whole number"), ("catalog-dev-zero.yaml", "not a regular file"),
    ])
    func validateRefusesHostileYAML(file: String, expected: String) async throws {
        try await offPool { try Self().validateRefusesHostileYAMLBody(file: file, expected: expected) }
    }

    func validateRefusesHostileYAMLBody(file: String, expected: String) throws {
        let f = try RoundFixture("hostile-yaml")
        try FileManager.default.copyItem(atPath: Self.corpus + "/yaml/" + file, toPath: f.path(file))
        let before = Self.listing(f.root)
        let start = Date()
        let r = try Self.measure(["validate", file], cwd: f.root)
        #expect(r.status == 2, "\(file): exit \(r.status): \(r.stdout) \(r.stderr)")
        let output = r.stdout + r.stderr
        #expect(output.contains(expected), "\(file): \(output)")
        #expect(output.contains(file), "names the file: \(output)")
        #expect(Date().timeIntervalSince(start) < 20, "\(file) took \(Date().timeIntervalSince(start)) s")
        print("hostile-cli validate \(file): exit \(r.status), peak \(r.peakBytes >> 20) MiB")
        #expect(r.peakBytes < Self.memoryBound, "\(file): peak \(r.peakBytes >> 20) MiB")
        #expect(Self.listing(f.root) == before, "nothing written")
    }

    @Test(arguments: ["tar-bomb.tar.bz2", "zip-bomb.zip", "declared-8gib.tar", "zip-slip.zip", "absolute.tar", "symlink-out.tar", "hardlink-out.tar"])
    func datasetsCheckRefusesHostileArchives(archive: String) async throws {
        try await offPool { try Self().datasetsCheckRefusesHostileArchivesBody(archive: archive) }
    }

    func datasetsCheckRefusesHostileArchivesBody(archive: String) throws {
        let f = try RoundFixture("hostile-archive")
        try FileManager.default.createDirectory(atPath: f.path("data/ds"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.corpus + "/archives/" + archive, toPath: f.path("data/ds/" + archive))
        try f.write("data/catalog.yaml", "datasets:\n  - {name: hostile-real, path: ds, modality: image, media_type: real}\n")
        let before = Self.listing(f.root)
        let r = try Self.measure(["datasets", "check", "data/catalog.yaml"], cwd: f.root)
        #expect(r.status == 1, "\(archive): exit \(r.status): \(r.stdout) \(r.stderr)")
        let output = r.stdout + r.stderr
        #expect(output.contains("hostile-real") && output.contains(archive), "\(archive): \(output)")
        #expect(output.contains("UNUSABLE") || output.contains("unusable"), "\(archive): \(output)")
        print("hostile-cli datasets check \(archive): exit \(r.status), peak \(r.peakBytes >> 20) MiB")
        #expect(r.peakBytes < Self.memoryBound, "\(archive): peak \(r.peakBytes >> 20) MiB")
        #expect(Self.listing(f.root) == before, "nothing written: \(Self.listing(f.root).subtracting(before))")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/gas-hostile-escape.txt"))
        #expect(!FileManager.default.fileExists(atPath: (f.root as NSString).deletingLastPathComponent + "/escape.txt"))
    }

    @Test func datasetsCheckRefusesLyingParquetFiles() async throws {
        try await offPool { try Self().datasetsCheckRefusesLyingParquetFilesBody() }
    }

    func datasetsCheckRefusesLyingParquetFilesBody() throws {
        let f = try RoundFixture("hostile-parquet")
        let names = ["rows-2^40", "page-size-2^31", "chunk-size-2^40", "footer-length-2^31", "thrift-nesting", "truncated"]
        var catalog = "datasets:\n"
        for name in names {
            try FileManager.default.createDirectory(atPath: f.path("data/\(name)"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.corpus + "/parquet/\(name).parquet", toPath: f.path("data/\(name)/part-0.parquet"))
            catalog += "  - {name: \(name)-real, path: \(name), modality: image, media_type: real, source_format: parquet}\n"
        }
        try f.write("data/catalog.yaml", catalog)
        let before = Self.listing(f.root)
        let r = try Self.measure(["datasets", "check", "data/catalog.yaml"], cwd: f.root)
        #expect(r.status == 1, "exit \(r.status): \(r.stdout) \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for name in names {
            #expect(lines.contains { $0.hasPrefix("  \(name)-real ") && $0.hasSuffix("UNUSABLE") }, "\(name): \(r.stdout)")
        }
        #expect(r.stdout.contains("\(names.count) unusable dataset(s)"), "\(r.stdout)")
        print("hostile-cli datasets check over lying Parquet files: exit \(r.status), peak \(r.peakBytes >> 20) MiB")
        #expect(r.peakBytes < Self.memoryBound, "peak \(r.peakBytes >> 20) MiB")
        #expect(Self.listing(f.root) == before, "nothing written")
    }

    @Test func aRoundSkipsDecompressionBombImagesWithAReason() async throws {
        try await offPool { try Self().aRoundSkipsDecompressionBombImagesWithAReasonBody() }
    }

    func aRoundSkipsDecompressionBombImagesWithAReasonBody() throws {
        let f = try RoundFixture("image-bombs")
        try f.copyPhotos(3)
        for name in ["png-100000x100000.png", "png-1x4000000000.png", "jpeg-60000x60000.jpg", "png-lying-idat.png"] {
            try FileManager.default.copyItem(atPath: Self.corpus + "/images/" + name, toPath: f.path("photos/" + name))
        }
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 7", synthetic: 3))
        let r = try Self.measure(["run", "spec.yaml", "--output", "runs", "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        print("hostile-cli run with image bombs: exit \(r.status), peak \(r.peakBytes >> 20) MiB")
        #expect(r.peakBytes < 160 << 20, "peak \(r.peakBytes >> 20) MiB")
        let dir = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let q = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        for row in db.execute("SELECT s.uri, o.error FROM outcomes o JOIN samples s USING (run_id, sample_id) WHERE o.status = 'skipped' ORDER BY s.uri"):
            print("|".join(map(str, row)))
        """
        let out = try TestSupport.python(q, [dir.hasPrefix("/") ? dir : f.path(dir)])
        #expect(out.status == 0, "\(out.stderr)")
        let skipped = out.stdout.split(separator: "\n").map(String.init)
        for name in ["png-100000x100000.png", "png-1x4000000000.png", "jpeg-60000x60000.jpg", "png-lying-idat.png"] {
            #expect(skipped.contains { $0.contains(name) }, "\(name) skipped: \(skipped)")
        }
        #expect(skipped.contains { $0.contains("png-100000x100000.png") && $0.contains("100000") }, "says why: \(skipped)")
    }

    @Test func pushRefusesAModelConfigBomb() async throws {
        try await offPool { try Self().pushRefusesAModelConfigBombBody() }
    }

    func pushRefusesAModelConfigBombBody() throws {
        let f = try PackageFixtures.make()
        let config = try String(contentsOfFile: Self.corpus + "/yaml/model-config-laughs.yaml", encoding: .utf8)
        let script = """
        import sys, zipfile
        src, dst, config = sys.argv[1], sys.argv[2], sys.argv[3]
        with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
            for info in a.infolist():
                b.writestr(info.filename, config if info.filename == "model_config.yaml" else a.read(info))
        """
        let made = try TestSupport.python(script, [f.path("pkgs/good.zip"), f.path("pkgs/laughs.zip"), config])
        #expect(made.status == 0, "\(made.stderr)")
        let r = try Self.measure(["d", "push", "--image-model", "pkgs/laughs.zip", "--registry", "reg"], cwd: f.root)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("laughs.zip") && r.stderr.contains("billion laughs"), "\(r.stderr)")
        print("hostile-cli d push with a model_config.yaml bomb: exit \(r.status), peak \(r.peakBytes >> 20) MiB")
        #expect(r.peakBytes < Self.memoryBound, "peak \(r.peakBytes >> 20) MiB")
        let packages = (try? FileManager.default.contentsOfDirectory(atPath: f.path("reg/packages"))) ?? []
        #expect(packages.isEmpty, "nothing stored for a rejected package")
    }
}
