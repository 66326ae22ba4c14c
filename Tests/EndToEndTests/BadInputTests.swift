import Foundation
import Testing
import GASTestSupport

/// Bad input through the real binary: a clear message naming the thing and the fix, a non-zero
/// exit where the run cannot go on, no crash, nothing written outside the run's folders.
@Suite struct BadSpecTests {
    func validate(_ yaml: String) throws -> TestSupport.Result {
        let f = try RoundFixture("badspec")
        try f.copyPhotos(2)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", yaml)
        return try Gascli.run(["validate", "spec.yaml"], cwd: f.root)
    }

    @Test func malformedYAML() async throws {
        try await offPool { try Self().malformedYAMLBody() }
    }

    func malformedYAMLBody() throws {
        let r = try validate("version: 1\nround: {name: t\nsources: [\n")
        #expect(r.status == 2)
        #expect(r.stderr.contains("spec.yaml:"))
        #expect(r.stderr.contains("malformed YAML"))
    }

    @Test func unknownKeyWrongTypeAndMissingCatalogAllAtOnce() async throws {
        try await offPool { try Self().unknownKeyWrongTypeAndMissingCatalogAllAtOnceBody() }
    }

    func unknownKeyWrongTypeAndMissingCatalogAllAtOnceBody() throws {
        let f = try RoundFixture()
        let spec = f.spec(catalog: "missing.yaml", detectors: "  - {name: base, adapter: builtin, model: image-baseline, batch_size: lots, colour: red}")
        let r = try validate(spec)
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown key 'colour'"))
        #expect(r.stderr.contains("detectors[0].batch_size: expected a whole number, found the string 'lots'"))
        #expect(r.stderr.contains("catalog file 'missing.yaml' does not exist"))
        #expect(r.stderr.contains("3 error(s)"))
        // Every diagnostic carries file:line:column.
        for line in r.stderr.split(separator: "\n") where line.contains("error:") {
            #expect(line.range(of: #"^spec\.yaml:\d+:\d+: error: "#, options: .regularExpression) != nil, "\(line)")
        }
    }

    @Test func runRefusesAnInvalidSpecWithExitTwo() async throws {
        try await offPool { try Self().runRefusesAnInvalidSpecWithExitTwoBody() }
    }

    func runRefusesAnInvalidSpecWithExitTwoBody() throws {
        let f = try RoundFixture()
        try f.write("spec.yaml", "version: 1\nround: {name: t, seed: x}\n")
        let r = try Gascli.run(["run", "spec.yaml"], cwd: f.root)
        #expect(r.status == 2)
        #expect(r.stderr.contains("round.seed"))
        #expect(r.stderr.contains("gascli validate"))
        #expect(!FileManager.default.fileExists(atPath: f.path("runs")))
    }

    @Test func missingSpecFile() async throws {
        try await offPool { try Self().missingSpecFileBody() }
    }

    func missingSpecFileBody() throws {
        let r = try Gascli.run(["run", "/nonexistent/spec.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("does not exist"))
    }

    @Test func everyCommandHasHelpWithAnExample() async throws {
        try await offPool { try Self().everyCommandHasHelpWithAnExampleBody() }
    }

    func everyCommandHasHelpWithAnExampleBody() throws {
        #expect(try Gascli.run(["--help"]).stdout.contains("gascli run configs/quickstart.yaml"))
        let commands = [["run"], ["validate"], ["plan"], ["runs"], ["runs", "list"], ["runs", "show"], ["rescore"], ["replay"],
                        ["report"], ["baseline"], ["baseline", "train"], ["audit"], ["audit", "export"], ["audit", "verify"],
                        ["datasets"], ["datasets", "list"], ["datasets", "check"], ["discriminator"], ["discriminator", "push"],
                        ["discriminator", "perf"], ["generator", "start"], ["generator", "bench"], ["keys", "new"], ["keys", "show"],
                        ["validator", "start"], ["validator", "status"]]
        for command in commands {
            let r = try Gascli.run(command + ["--help"])
            #expect(r.status == 0, "\(command)")
            // `discriminator` is usually typed by its alias `d`, and its examples use that.
            let shown = command.first == "discriminator" ? ["d"] + command.dropFirst() : command
            #expect(r.stdout.contains("Example") && r.stdout.contains("gascli " + shown.joined(separator: " ")), "\(command): \(r.stdout)")
        }
    }
}

@Suite struct HostileArchiveTests {
    /// Builds an archive with Python's tarfile/zipfile holding one hostile entry next to a real photo.
    func round(kind: String) throws -> RoundFixture {
        let f = try RoundFixture("hostile")
        try f.copyPhotos(1, to: "src")
        let photo = try #require(try FileManager.default.contentsOfDirectory(atPath: f.path("src")).first)
        let script = """
        import io, sys, tarfile, zipfile
        kind, root, photo = sys.argv[1], sys.argv[2], sys.argv[3]
        data = open(f"{root}/src/{photo}", "rb").read()
        if kind == "zip-slip":
            with zipfile.ZipFile(f"{root}/ds/bad.zip", "w") as z:
                z.writestr("ok/a.png", data); z.writestr("../../escape.png", data)
        else:
            with tarfile.open(f"{root}/ds/bad.tar.gz", "w:gz") as t:
                i = tarfile.TarInfo("ok/a.png"); i.size = len(data); t.addfile(i, io.BytesIO(data))
                if kind == "absolute":
                    i = tarfile.TarInfo("/tmp/gas-escape.png"); i.size = len(data); t.addfile(i, io.BytesIO(data))
                elif kind == "symlink":
                    i = tarfile.TarInfo("ok/link.png"); i.type = tarfile.SYMTYPE; i.linkname = "/etc/passwd"; t.addfile(i)
                elif kind == "hardlink":
                    i = tarfile.TarInfo("ok/hard.png"); i.type = tarfile.LNKTYPE; i.linkname = "../../outside.png"; t.addfile(i)
        """
        try FileManager.default.createDirectory(atPath: f.path("ds"), withIntermediateDirectories: true)
        let r = try TestSupport.python(script, [kind, f.root, photo])
        #expect(r.status == 0, "\(r.stderr)")
        try f.write("catalog.yaml", "datasets:\n  - {name: bad-real, path: ds, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec())
        return f
    }

    @Test(arguments: ["zip-slip", "absolute", "symlink", "hardlink"])
    func archiveEntryIsRejectedAndNothingEscapes(kind: String) async throws {
        try await offPool { try Self().archiveEntryIsRejectedAndNothingEscapesBody(kind: kind) }
    }

    func archiveEntryIsRejectedAndNothingEscapesBody(kind: String) throws {
        let f = try round(kind: kind)
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()))
        let r = try Gascli.run(["run", "spec.yaml"], cwd: f.root)
        #expect(r.status == 1, "\(kind): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("bad-real"), "names the dataset: \(r.stderr)")
        #expect(r.stderr.contains("bad."), "names the archive: \(r.stderr)")
        #expect(r.stderr.contains("nothing was extracted"))
        #expect(!FileManager.default.fileExists(atPath: f.path("escape.png")))
        #expect(!FileManager.default.fileExists(atPath: (f.root as NSString).deletingLastPathComponent + "/escape.png"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/gas-escape.png"))
        // No image appeared in the temporary folder (other suites running meanwhile add folders
        // there, some named "escape-…").
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()))
        let appeared = after.subtracting(before).filter { $0.hasSuffix(".png") }
        #expect(appeared.isEmpty, "\(kind): \(appeared.sorted())")
    }
}

@Suite struct CorruptImageTests {
    @Test func corruptAndTruncatedImagesAreSkippedWithAReason() async throws {
        try await offPool { try Self().corruptAndTruncatedImagesAreSkippedWithAReasonBody() }
    }

    func corruptAndTruncatedImagesAreSkippedWithAReasonBody() throws {
        let f = try RoundFixture("corrupt")
        try f.copyPhotos(4)
        let names = try FileManager.default.contentsOfDirectory(atPath: f.path("photos")).sorted()
        // Truncate one PNG, overwrite another with garbage.
        let first = try Data(contentsOf: URL(fileURLWithPath: f.path("photos/" + names[0])))
        try first.prefix(first.count / 2).write(to: URL(fileURLWithPath: f.path("photos/" + names[0])))
        try Data("this is not a png".utf8).write(to: URL(fileURLWithPath: f.path("photos/" + names[1])))
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 4", synthetic: 4))
        let (dir, r) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let q = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        for row in db.execute("SELECT s.uri, o.status, o.error FROM outcomes o JOIN samples s USING (run_id, sample_id) WHERE o.status != 'ok' ORDER BY s.uri"):
            print("|".join(map(str, row)))
        print("metrics-samples", db.execute("SELECT samples FROM metrics WHERE scope='overall'").fetchone()[0])
        """
        let out = try TestSupport.python(q, [dir])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        let skipped = lines.filter { $0.contains("|skipped|") }
        #expect(skipped.count == 2)
        #expect(skipped.contains { $0.contains(names[0]) && $0.contains("unreadable image") })
        #expect(skipped.contains { $0.contains(names[1]) && $0.contains("unreadable image") })
        #expect(lines.contains("metrics-samples 6"), "skipped inputs never enter the metrics: \(lines)")
    }
}
