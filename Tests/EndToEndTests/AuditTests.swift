import Foundation
import Testing
import GASTestSupport

/// `gascli audit export` and `audit verify` as an auditor uses them: a bundle verifies on its own,
/// is byte-identical when exported twice, and any change to it fails the check that names it.
@Suite struct AuditTests {
    /// One tiny completed run (3 photos + 3 synthetic images, two detectors), made once and only
    /// read by the tests: export never writes into a run.
    static let shared = Result { () throws -> (root: String, run: String) in
        let f = try RoundFixture("audit")
        try f.copyPhotos(3)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("round.yaml", f.spec(real: "samples: 3", synthetic: 3, detectors: """
          - {name: base, adapter: builtin, model: image-baseline}
          - {name: twin, adapter: builtin, model: image-baseline, batch_size: 2}
        """))
        let (dir, r) = try Gascli.runQuiet("round.yaml", output: f.path("runs"), cwd: f.root)
        guard r.status == 0 else { throw TestSupportError("the audit fixture run failed: \(r.stderr)") }
        return (f.root, dir)
    }

    func run() throws -> String { try Self.shared.get().run }

    /// Exports the shared run and returns the bundle path and the printed sha256.
    func export(_ arguments: [String] = [], to name: String = "bundle.tar.gz") throws -> (bundle: String, sha256: String, folder: String) {
        let folder = try TestSupport.temporaryDirectory("bundle")
        let bundle = folder + "/" + name
        let r = try Gascli.run(["audit", "export", try run(), "-o", bundle] + arguments, cwd: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let sha = r.stdout.split(separator: "\n").first { $0.hasPrefix("sha256 ") }.map { String($0.dropFirst(7).prefix(64)) } ?? ""
        return (bundle, sha, folder)
    }

    /// The check lines with this status (the verdict, the last line, is not a check).
    func lines(_ text: String, _ status: String) -> [String] {
        text.split(separator: "\n").dropLast().map(String.init).filter { $0.hasPrefix(status + "  ") }
    }

    /// Rewrites a bundle with Python's tarfile, flipping one byte of one member (at its middle);
    /// with "rehash", checksums.json is updated too, so only the deeper checks can notice.
    static let tamper = """
    import hashlib, io, json, sys, tarfile
    src, dst, member, rehash = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "rehash"
    with tarfile.open(src) as t:
        items = [(m, t.extractfile(m).read()) for m in t.getmembers()]
    top = items[0][0].name.split("/")[0]
    out, hit = [], False
    for m, data in items:
        if m.name == top + "/" + member:
            b = bytearray(data); b[len(b) // 2] ^= 0x01; data = bytes(b); hit = True
        out.append((m, data))
    assert hit, member
    if rehash:
        sums = json.loads([d for m, d in out if m.name == top + "/checksums.json"][0])
        for m, d in out:
            rel = m.name[len(top) + 1:]
            if rel in sums["files"]: sums["files"][rel] = hashlib.sha256(d).hexdigest()
        new = json.dumps(sums, sort_keys=True, indent=2).encode()
        out = [(m, new if m.name == top + "/checksums.json" else d) for m, d in out]
    with tarfile.open(dst, "w:gz") as t:
        for m, d in out:
            m.size = len(d); t.addfile(m, io.BytesIO(d))
    """

    func tampered(_ bundle: String, member: String, rehash: Bool = false) throws -> String {
        let out = bundle.replacingOccurrences(of: ".tar.gz", with: "-tampered.tar.gz")
        let r = try TestSupport.python(Self.tamper, [bundle, out, member, rehash ? "rehash" : "no"])
        #expect(r.status == 0, "\(r.stderr)")
        return out
    }

    @Test func anExportedBundleVerifiesWithEveryCheckPassing() async throws {
        try await offPool { try Self().anExportedBundleVerifiesWithEveryCheckPassingBody() }
    }

    func anExportedBundleVerifiesWithEveryCheckPassingBody() throws {
        let (bundle, sha, folder) = try export()
        #expect(sha.count == 64)
        let tmp = try TestSupport.temporaryDirectory("verify-tmp")
        let r = try TestSupport.run(Gascli.binary, ["audit", "verify", bundle], cwd: folder, environment: ["TMPDIR": tmp])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("sha256 \(sha)"))
        for name in ["file checksums", "run identity", "manifest hash", "spec", "samples vs ledger and data-hashes",
                     "predictions cover the plan", "predictions.parquet rows vs ledger", "metrics.parquet vs re-derived metrics",
                     "ledger metrics vs re-derived metrics", "results.json vs re-derived metrics"] {
            #expect(lines(r.stdout, "PASS").contains { $0.contains(name) }, "no PASS line for \(name):\n\(r.stdout)")
        }
        #expect(lines(r.stdout, "FAIL").isEmpty)
        #expect(lines(r.stdout, "SKIP").first?.contains("media") == true)
        #expect(r.stdout.split(separator: "\n").last?.hasPrefix("PASS") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty, "verify left files in TMPDIR")
    }

    @Test func exportingTwiceGivesTheSameBytes() async throws {
        try await offPool { try Self().exportingTwiceGivesTheSameBytesBody() }
    }

    func exportingTwiceGivesTheSameBytesBody() throws {
        let one = try export(), two = try export()
        #expect(try Data(contentsOf: URL(fileURLWithPath: one.bundle)) == (try Data(contentsOf: URL(fileURLWithPath: two.bundle))))
        #expect(one.sha256 == two.sha256)
        let m1 = try export(["--with-media"]), m2 = try export(["--with-media"])
        #expect(m1.sha256 == m2.sha256 && m1.sha256 != one.sha256)
        #expect(try Data(contentsOf: URL(fileURLWithPath: m1.bundle)) == (try Data(contentsOf: URL(fileURLWithPath: m2.bundle))))
    }

    @Test func aBundleVerifiesElsewhereWithoutTheRun() async throws {
        try await offPool { try Self().aBundleVerifiesElsewhereWithoutTheRunBody() }
    }

    func aBundleVerifiesElsewhereWithoutTheRunBody() throws {
        // Export from a copy of the outputs folder, delete the copy, verify the bundle from another folder.
        let copy = try TestSupport.temporaryDirectory("outputs-copy")
        let run = try run()
        let outputs = (run as NSString).deletingLastPathComponent
        for item in try FileManager.default.contentsOfDirectory(atPath: outputs) {
            try FileManager.default.copyItem(atPath: outputs + "/" + item, toPath: copy + "/" + item)
        }
        let runID = (run as NSString).lastPathComponent
        // SQLite's -wal/-shm side files come and go with whoever has the database open (other tests
        // read the shared run concurrently); the run's own files must not change.
        func snapshot() throws -> [String: Data] {
            let dir = copy + "/" + runID
            var files: [String: Data] = [:]
            for name in try FileManager.default.subpathsOfDirectory(atPath: dir) where !name.hasSuffix("-wal") && !name.hasSuffix("-shm") {
                files[name] = FileManager.default.contents(atPath: dir + "/" + name) ?? Data()
            }
            return files
        }
        let before = try snapshot()
        let made = try TestSupport.temporaryDirectory("made")
        let e = try Gascli.run(["audit", "export", runID, "--outputs", copy, "-o", "b.tar.gz", "--with-media"], cwd: made)
        #expect(e.status == 0, "\(e.stderr)")
        #expect(try snapshot() == before, "export changed the run directory")
        try FileManager.default.removeItem(atPath: copy)

        let elsewhere = try TestSupport.temporaryDirectory("auditor")
        try FileManager.default.moveItem(atPath: made + "/b.tar.gz", toPath: elsewhere + "/b.tar.gz")
        let r = try Gascli.run(["audit", "verify", "b.tar.gz"], cwd: elsewhere)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(lines(r.stdout, "PASS").contains { $0.contains("media") && $0.contains("files hash to their") }, "\(r.stdout)")
    }

    @Test func aFlippedByteInPredictionsFailsNamingTheFileAndTheCheck() async throws {
        try await offPool { try Self().aFlippedByteInPredictionsFailsNamingTheFileAndTheCheckBody() }
    }

    func aFlippedByteInPredictionsFailsNamingTheFileAndTheCheckBody() throws {
        let (bundle, _, folder) = try export()
        let bad = try tampered(bundle, member: "predictions.parquet")
        let r = try Gascli.run(["audit", "verify", bad], cwd: folder)
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        let fails = lines(r.stdout, "FAIL")
        #expect(fails.contains { $0.contains("file checksums") && $0.contains("predictions.parquet: sha256") }, "\(r.stdout)")
        // Where the flipped byte lands (a value, a page header, statistics) decides which deeper checks
        // also fail; the checksum always does. Deeper checks on a re-hashed bundle are tested below.
        #expect(r.stdout.split(separator: "\n").last?.hasPrefix("FAIL") == true)
    }

    @Test func anEditedPredictionWithRecomputedChecksumsIsCaughtByTheRowAndMetricChecks() async throws {
        try await offPool { try Self().anEditedPredictionWithRecomputedChecksumsIsCaughtByTheRowAndMetricChecksBody() }
    }

    func anEditedPredictionWithRecomputedChecksumsIsCaughtByTheRowAndMetricChecksBody() throws {
        try TestSupport.requirePythonModules(["pyarrow"])
        let (bundle, _, folder) = try export()
        let edit = """
        import hashlib, io, json, sys, tarfile
        import pyarrow as pa, pyarrow.parquet as pq
        src, dst = sys.argv[1], sys.argv[2]
        with tarfile.open(src) as t:
            items = [(m, t.extractfile(m).read()) for m in t.getmembers()]
        top = items[0][0].name.split("/")[0]
        def edit(name, data):
            if name != top + "/predictions.parquet": return data
            table = pq.read_table(io.BytesIO(data))
            p = table.column("p_ai").to_pylist(); p[1] = 1.0 - p[1]
            print(table.column("sample_id")[1].as_py(), table.column("detector")[1].as_py())
            table = table.set_column(table.schema.get_field_index("p_ai"), "p_ai", pa.array(p, pa.float64()))
            out = io.BytesIO(); pq.write_table(table, out); return out.getvalue()
        out = [(m, edit(m.name, d)) for m, d in items]
        sums = json.loads([d for m, d in out if m.name == top + "/checksums.json"][0])
        for m, d in out:
            rel = m.name[len(top) + 1:]
            if rel in sums["files"]: sums["files"][rel] = hashlib.sha256(d).hexdigest()
        new = json.dumps(sums, sort_keys=True, indent=2).encode()
        with tarfile.open(dst, "w:gz") as t:
            for m, d in out:
                d = new if m.name == top + "/checksums.json" else d
                m.size = len(d); t.addfile(m, io.BytesIO(d))
        """
        let bad = folder + "/edited.tar.gz"
        let p = try TestSupport.python(edit, [bundle, bad])
        #expect(p.status == 0, "\(p.stderr)")
        let parts = p.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let r = try Gascli.run(["audit", "verify", bad], cwd: folder)
        #expect(r.status == 1)
        #expect(lines(r.stdout, "PASS").contains { $0.contains("file checksums") }, "\(r.stdout)")
        let row = lines(r.stdout, "FAIL").first { $0.contains("predictions.parquet rows vs ledger") } ?? ""
        #expect(parts.count == 2 && row.contains("sample \(parts[0]) detector \(parts[1]): p_ai"), "\(r.stdout)")
        for name in ["metrics.parquet vs re-derived metrics", "ledger metrics vs re-derived metrics", "results.json vs re-derived metrics"] {
            #expect(lines(r.stdout, "FAIL").contains { $0.contains(name) }, "\(name) did not fail:\n\(r.stdout)")
        }
    }

    @Test func aFlippedByteInTheManifestFailsTheManifestHash() async throws {
        try await offPool { try Self().aFlippedByteInTheManifestFailsTheManifestHashBody() }
    }

    func aFlippedByteInTheManifestFailsTheManifestHashBody() throws {
        let (bundle, _, folder) = try export()
        let bad = try tampered(bundle, member: "manifest.json")
        let r = try Gascli.run(["audit", "verify", bad], cwd: folder)
        #expect(r.status == 1)
        let fails = lines(r.stdout, "FAIL")
        #expect(fails.contains { $0.contains("file checksums") && $0.contains("manifest.json: sha256") }, "\(r.stdout)")
        #expect(fails.contains { $0.contains("manifest hash") && $0.contains("sha256(manifest.json)") }, "\(r.stdout)")
    }

    @Test func anAlteredMediaFileFailsNamingItsSample() async throws {
        try await offPool { try Self().anAlteredMediaFileFailsNamingItsSampleBody() }
    }

    func anAlteredMediaFileFailsNamingItsSampleBody() throws {
        let (bundle, _, folder) = try export(["--with-media"])
        // The first synthetic sample's media, and its id, from the run's own ledger.
        let query = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        print(*db.execute("SELECT sample_id, media_path FROM samples WHERE source_kind = 'synthetic' ORDER BY position LIMIT 1").fetchone())
        """
        let q = try TestSupport.python(query, [try run() + "/run.sqlite"])
        let parts = q.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(parts.count == 2, "\(q.stdout) \(q.stderr)")
        guard parts.count == 2 else { return }
        let bad = try tampered(bundle, member: parts[1], rehash: true)
        let r = try Gascli.run(["audit", "verify", bad], cwd: folder)
        #expect(r.status == 1)
        let fails = lines(r.stdout, "FAIL")
        #expect(fails.count == 1, "only the media check should notice:\n\(r.stdout)")
        #expect(fails.first?.contains("media") == true && fails.first?.contains("sample \(parts[0]): \(parts[1]) hashes to") == true, "\(r.stdout)")
    }

    @Test func aBundleThatEscapesItsFolderIsRejectedAndNothingIsWritten() async throws {
        try await offPool { try Self().aBundleThatEscapesItsFolderIsRejectedAndNothingIsWrittenBody() }
    }

    func aBundleThatEscapesItsFolderIsRejectedAndNothingIsWrittenBody() throws {
        let outer = try TestSupport.temporaryDirectory("escape")
        let inner = outer + "/inner"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        let make = """
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w:gz") as t:
            for name in ["run/manifest.json", "../evil", "run/../../evil2"]:
                info = tarfile.TarInfo(name); info.size = 4; t.addfile(info, io.BytesIO(b"evil"))
        with tarfile.open(sys.argv[2], "w:gz") as t:
            for name in ["run/manifest.json", "run/install.sh"]:
                info = tarfile.TarInfo(name); info.size = 4; t.addfile(info, io.BytesIO(b"evil"))
        """
        let m = try TestSupport.python(make, [inner + "/evil.tar.gz", inner + "/extra.tar.gz"])
        #expect(m.status == 0, "\(m.stderr)")
        let tmp = try TestSupport.temporaryDirectory("escape-tmp")

        let r = try TestSupport.run(Gascli.binary, ["audit", "verify", "evil.tar.gz"], cwd: inner, environment: ["TMPDIR": tmp])
        #expect(r.status == 2, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("../evil") && r.stderr.contains("unsafe"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)

        let x = try TestSupport.run(Gascli.binary, ["audit", "verify", "extra.tar.gz"], cwd: inner, environment: ["TMPDIR": tmp])
        #expect(x.status == 2)
        #expect(x.stderr.contains("run/install.sh") && x.stderr.contains("unexpected member"), "\(x.stderr)")

        #expect(try FileManager.default.contentsOfDirectory(atPath: outer).sorted() == ["inner"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: inner).sorted() == ["evil.tar.gz", "extra.tar.gz"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }

    @Test func exportExplainsAMissingRunAndVerifyAMissingBundle() async throws {
        try await offPool { try Self().exportExplainsAMissingRunAndVerifyAMissingBundleBody() }
    }

    func exportExplainsAMissingRunAndVerifyAMissingBundleBody() throws {
        let folder = try TestSupport.temporaryDirectory("nothing")
        let e = try Gascli.run(["audit", "export", "no-such-run", "-o", "b.tar.gz"], cwd: folder)
        #expect(e.status == 1)
        #expect(e.stderr.contains("no run 'no-such-run'") && e.stderr.contains("--outputs"), "\(e.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/b.tar.gz"))
        let v = try Gascli.run(["audit", "verify", "b.tar.gz"], cwd: folder)
        #expect(v.status == 2)
        #expect(v.stderr.contains("b.tar.gz"), "\(v.stderr)")
    }
}
