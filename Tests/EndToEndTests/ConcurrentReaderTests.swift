import Foundation
import Testing
import GASTestSupport

/// While a run writes its ledger, other processes read it: `gascli runs`, `runs show`, `report`,
/// and a Python sqlite3 reader that holds read transactions open. The run completes, no reader
/// fails with "database is locked" (WAL plus busy timeouts), and no reader ever sees part of a
/// batch (each batch is one transaction) or a snapshot that changes inside its transaction.
@Suite(.serialized) struct ConcurrentReaderTests {
    static let reader = """
    import json, os, sqlite3, sys, time
    d, stop = sys.argv[1], sys.argv[2]
    sizes = {"base": 4, "slow": 2}
    q = "SELECT detector, batch, COUNT(*) FROM outcomes GROUP BY 1, 2 ORDER BY 1, 2"
    snapshots, rows_seen, bad, errors = 0, 0, [], []
    while not os.path.exists(stop):
        if not os.path.exists(d + "/run.sqlite"):
            time.sleep(0.02); continue
        try:
            db = sqlite3.connect("file:" + d + "/run.sqlite?mode=ro", uri=True, timeout=5, isolation_level=None)
            db.execute("BEGIN")
            a = db.execute(q).fetchall()
            time.sleep(0.15)
            b = db.execute(q).fetchall()
            db.execute("COMMIT")
            db.close()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e): continue  # the ledger is being created
            errors.append(str(e)); continue
        if a != b: bad.append("snapshot changed inside a read transaction")
        for det, batch, n in a:
            if n != sizes.get(det): bad.append("%s batch %s has %d rows" % (det, batch, n))
        snapshots += 1
        rows_seen = max(rows_seen, sum(n for _, _, n in a))
    print(json.dumps({"snapshots": snapshots, "rows_seen": rows_seen, "bad": bad[:5], "errors": errors[:5]}))
    """

    @Test(.timeLimit(.minutes(5))) func readersDuringARunNeverFailOrSeePartialBatches() async throws {
        try await offPool { try Self().body() }
    }

    func body() throws {
        let f = try RoundFixture("readers")
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.writeSlowDetector(seconds: 1.0)  // a run of 8 s or more: time for the readers below on a slow machine
        try f.write("spec.yaml", f.spec(real: "samples: 8", synthetic: 8, detectors: """
          - {name: base, adapter: builtin, model: image-baseline, batch_size: 4}
          - {name: slow, adapter: process, command: [python3, slow.py], batch_size: 2, timeout: 30s}
        """))
        let outputs = f.path("runs")
        let run = Process()
        run.executableURL = URL(fileURLWithPath: Gascli.binary)
        run.arguments = ["run", "spec.yaml", "--output", outputs, "--quiet"]
        run.currentDirectoryURL = URL(fileURLWithPath: f.root)
        let runErr = Pipe()
        run.standardOutput = FileHandle.nullDevice
        run.standardError = runErr
        try run.run()
        defer { if run.isRunning { kill(run.processIdentifier, SIGKILL); run.waitUntilExit() } }

        let deadline = Date().addingTimeInterval(60)
        while ResumeTests.runDirectories(outputs).isEmpty && Date() < deadline { usleep(20_000) }
        let dirName = try #require(ResumeTests.runDirectories(outputs).first)
        let dir = outputs + "/" + dirName
        let stop = f.path("stop")
        nonisolated(unsafe) var python: TestSupport.Result?
        let pythonThread = Thread { python = try? TestSupport.python(Self.reader, [dir, stop]) }
        pythonThread.start()

        var commands = 0
        var failures: [String] = []
        while run.isRunning {
            for args in [["runs", "--output", outputs], ["runs", "show", dir], ["report", dir, "--out", f.path("report.html")]] {
                let r = try Gascli.run(args, cwd: f.root)
                commands += 1
                if r.status != 0 || r.stderr.localizedCaseInsensitiveContains("locked") || r.stderr.localizedCaseInsensitiveContains("busy") {
                    failures.append("\(args.joined(separator: " ")): \(r.status) \(r.stderr.prefix(300))")
                }
            }
        }
        let runStderr = String(decoding: runErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        FileManager.default.createFile(atPath: stop, contents: Data())
        while !pythonThread.isFinished { usleep(20_000) }

        #expect(run.terminationStatus == 0, "\(runStderr)")
        // At least one round of the three readers while the run wrote (each is a gascli process of
        // its own: over a second apiece on a slow, loaded machine); the Python reader's snapshots are
        // counted below.
        #expect(commands >= 3, "readers ran while the run wrote: \(commands)")
        #expect(failures.isEmpty, "\(failures)")
        let out = try #require(python)
        #expect(out.status == 0, "\(out.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect((report["snapshots"] as? Int ?? 0) >= 5, "\(out.stdout)")
        #expect((report["bad"] as? [String])?.isEmpty == true, "\(out.stdout)")
        #expect((report["errors"] as? [String])?.isEmpty == true, "\(out.stdout)")
        print("concurrent readers: \(commands) gascli reader commands and \(report["snapshots"] ?? 0) read transactions during the run, none failed")
    }
}
