import Foundation
import Testing
import GASTestSupport

/// Detectors that attack the runner's resources rather than its protocol: one leaks memory without
/// bound, one forks children that would outlive it, one writes 2 GiB on one stdout line, one
/// writes 2 GiB to stderr. Each is bounded and reported, the run completes, the other detector is
/// unharmed, no process survives the run, and the runner's own peak RSS stays under 300 MB.
@Suite struct HostileDetectorTests {
    static let hello = """
    import json, os, subprocess, sys, time
    print(json.dumps({"hello": {"protocol": 1, "name": "hostile", "modalities": ["image"]}}), flush=True)

    """
    static let answer = "    print(json.dumps({'batch': msg['batch'], 'results': [{'id': i['id'], 'probs': [0.5]} for i in msg['items']]}), flush=True)\n"
    static let loop = "for line in sys.stdin:\n    msg = json.loads(line)\n    if msg.get('shutdown'): break\n"

    static let scripts: [String: String] = [
        // Allocates 16 MiB blocks for ever (touching them, so they are real).
        "leaks": hello + loop + "    hog = []\n    while True: hog.append(bytearray(16 * 1024 * 1024))\n",
        // Starts children and a grandchild that sleep for an hour, records their pids, answers.
        "forks": hello + """
        pids = [subprocess.Popen(["sleep", "3600"]).pid for _ in range(3)]
        pids.append(subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; open(sys.argv[1], 'w').write(str(subprocess.Popen(['sleep', '3600']).pid)); time.sleep(3600)", sys.argv[1] + ".grandchild"]).pid)
        open(sys.argv[1], "w").write(" ".join(map(str, pids)))
        for _ in range(100):
            if os.path.exists(sys.argv[1] + ".grandchild") and os.path.getsize(sys.argv[1] + ".grandchild") > 0: break
            time.sleep(0.05)

        """ + loop + answer,
        // 2 GiB on one line, in 1 MiB writes.
        "stdout": hello + loop + "    sys.stdout.write('{\"batch\": %d, \"results\": [' % msg['batch'])\n    block = 'x' * (1 << 20)\n    for _ in range(2048): sys.stdout.write(block)\n    sys.stdout.flush()\n",
        // 2 GiB of stderr over the run (512 MiB per batch, 4 batches), then normal answers.
        "stderr": hello + "block = b'e' * (4 << 20)\n" + loop + "    for _ in range(128): sys.stderr.buffer.write(block)\n    sys.stderr.flush()\n" + answer,
    ]

    @Test(arguments: ["leaks", "forks", "stdout", "stderr"])
    func hostileDetectorIsBoundedAndReported(kind: String) async throws {
        try await offPool { try Self().body(kind: kind) }
    }

    func body(kind: String) throws {
        let f = try RoundFixture("hostile")
        try f.copyPhotos(4)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("hostile.py", Self.scripts[kind] ?? "")
        let limits = kind == "leaks" ? ", limits: {memory_mb: 200}" : ""
        try f.write("spec.yaml", f.spec(real: "samples: 4", synthetic: 4, detectors: """
          - {name: base, adapter: builtin, model: image-baseline}
          - {name: hostile, adapter: process, command: [python3, hostile.py, \(f.path("pids"))], batch_size: 2, timeout: 60s, max_restarts: 1\(limits)}
        """))

        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["run", "spec.yaml", "--output", f.path("runs"), "--quiet"]
        p.currentDirectoryURL = URL(fileURLWithPath: f.root)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let started = Date()
        try p.run()
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        // The runner's peak resident set (VmHWM), read while it runs.
        var peakKB = 0
        while p.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
                peakKB = max(peakKB, kb)
            }
            usleep(20_000)
        }
        p.waitUntilExit()
        let dir = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        while !reader.isFinished { usleep(10_000) }
        let stderr = String(decoding: errData, as: UTF8.self)
        let seconds = Date().timeIntervalSince(started)
        #expect(p.terminationStatus == 0, "\(kind): \(stderr)")
        #expect(peakKB > 0 && peakKB < 300 * 1024, "\(kind): runner peak RSS \(peakKB / 1024) MB")
        #expect(seconds < 240, "\(kind): bounded time, took \(Int(seconds)) s")
        print("hostile detector \(kind): run took \(String(format: "%.1f", seconds)) s, runner peak RSS \(peakKB / 1024) MB")

        let q = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        n = db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        for det in ("base", "hostile"):
            rows = db.execute("SELECT status, COALESCE(error, '') FROM outcomes WHERE detector = ?", (det,)).fetchall()
            print(det, len(rows) == n, ",".join(sorted({r[0] for r in rows})), " / ".join(sorted({r[1][:160] for r in rows if r[1]})))
        """
        let rows = try TestSupport.python(q, [dir])
        #expect(rows.status == 0, "\(rows.stderr)")
        let lines = rows.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first { $0.hasPrefix("base ") } == "base True ok ", "\(kind): \(lines)")
        let hostile = lines.first { $0.hasPrefix("hostile ") } ?? ""
        #expect(hostile.hasPrefix("hostile True "), "one outcome per sample: \(hostile)")
        switch kind {
        case "leaks":
            #expect(hostile.contains("error") && hostile.contains("memory limit of 200 MiB"), "\(hostile)")
        case "forks":
            #expect(hostile == "hostile True ok ", "\(hostile)")
            let pids = ((try? String(contentsOfFile: f.path("pids"), encoding: .utf8)) ?? "").split(separator: " ").compactMap { Int32($0) }
            #expect(pids.count == 4)
            let grandchild = Int32(((try? String(contentsOfFile: f.path("pids.grandchild"), encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespaces))
            let all = pids + (grandchild.map { [$0] } ?? [])
            #expect(all.count == 5, "children and grandchild recorded: \(all)")
            var survivors = all
            for _ in 0..<50 where !survivors.isEmpty {
                survivors = survivors.filter(InterruptTests.isAlive)
                if !survivors.isEmpty { usleep(100_000) }
            }
            #expect(survivors.isEmpty, "processes outlived the run: \(survivors)")
        case "stdout":
            #expect(hostile.contains("error") && hostile.contains("stdout line longer than 8388608 bytes"), "\(hostile)")
        default:
            #expect(hostile == "hostile True ok ", "\(hostile)")
            let log = (try? FileManager.default.attributesOfItem(atPath: dir + "/logs/hostile.stderr.log")[.size] as? Int) ?? -1
            #expect(log > 0 && log <= 16 * 1024 * 1024 + 4096, "stderr log capped: \(log) bytes")
        }
    }
}
