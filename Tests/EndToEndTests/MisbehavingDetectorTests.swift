import Foundation
import Testing
import GASTestSupport

/// Detectors that crash, print garbage, answer for unknown ids or never answer: each yields
/// error/timeout outcomes for its samples, the run completes, and the other detectors are unharmed.
@Suite struct MisbehavingDetectorTests {
    static let header = """
    import json, sys, time
    print(json.dumps({"hello": {"protocol": 1, "name": "bad", "modalities": ["image"]}}), flush=True)
    batches = 0
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("shutdown"): break
        batches += 1
        items = msg["items"]

    """
    static let behaviours: [String: String] = [
        "exits": "    if batches == 2: sys.exit(3)\n    print(json.dumps({'batch': msg['batch'], 'results': [{'id': i['id'], 'probs': [0.5, 0.5]} for i in items]}), flush=True)\n",
        "garbage": "    print('this is not json at all', flush=True)\n",
        "unknown": "    print(json.dumps({'batch': msg['batch'], 'results': [{'id': 'nope-' + i['id'], 'probs': [0.1, 0.9]} for i in items]}), flush=True)\n",
        "silent": "    time.sleep(3600)\n",
    ]

    @Test(arguments: ["exits", "garbage", "unknown", "silent"])
    func runCompletesWithFailureOutcomes(behaviour: String) async throws {
        try await offPool { try Self().runCompletesWithFailureOutcomesBody(behaviour: behaviour) }
    }

    func runCompletesWithFailureOutcomesBody(behaviour: String) throws {
        let f = try RoundFixture("baddet")
        try f.copyPhotos(4)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("bad.py", Self.header + (Self.behaviours[behaviour] ?? ""))
        let detectors = """
          - {name: base, adapter: builtin, model: image-baseline}
          - {name: bad, adapter: process, command: [python3, bad.py], batch_size: 3, timeout: 2s, max_restarts: 1}
        """
        try f.write("spec.yaml", f.spec(real: "samples: 4", synthetic: 5, detectors: detectors))
        let started = Date()
        let (dir, r) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(r.status == 0, "\(behaviour): \(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 60, "bounded waits")
        let q = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        n = db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        for det in ("base", "bad"):
            rows = db.execute("SELECT status, COALESCE(error, '') FROM outcomes WHERE detector = ?", (det,)).fetchall()
            print(det, len(rows) == n, ",".join(sorted({r[0] for r in rows})), " / ".join(sorted({r[1][:60] for r in rows if r[1]})))
        """
        let out = try TestSupport.python(q, [dir])
        #expect(out.status == 0, "\(out.stderr)")
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first { $0.hasPrefix("base ") } == "base True ok ", "\(lines)")
        let bad = try #require(lines.first { $0.hasPrefix("bad ") })
        #expect(bad.hasPrefix("bad True "), "one outcome per sample: \(bad)")
        switch behaviour {
        case "exits": #expect(bad.contains("error") && bad.contains("exited"), "\(bad)")
        case "garbage": #expect(bad.contains("error") && bad.contains("protocol violation"), "\(bad)")
        case "unknown": #expect(bad.contains("error") && bad.contains("no result"), "\(bad)")
        default: #expect(bad.contains("timeout"), "\(bad)")
        }
    }
}
