import Foundation
import GASTestSupport
import GASValidator
import Testing

/// The validator service as a user runs it: `gascli validator start` on a fast simulated clock
/// (12 s blocks at 600x: 20 ms per block), three rounds (blocks 30, 60, 90; `catch_up: all`, so
/// rounds that fall behind the clock still all run, in order) of a spec with a slow process
/// detector (0.5 s per single-sample batch, so "the middle of a round" lasts seconds even on a
/// loaded machine), and the weight set of block 100. Slow: about a minute. Killed with SIGKILL (or stopped with SIGTERM)
/// in the middle of the second round and started again, it ends with the same state database and
/// weights as an uninterrupted run.
@Suite(.serialized) struct ValidatorServiceTests {
    struct Service {
        let f: RoundFixture
        let state: String
        var config: String { f.path("validator.yaml") }
    }

    func setUp(_ label: String) throws -> Service {
        let f = try RoundFixture(label)
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.writeSlowDetector(seconds: 0.75, hashing: "item[\"id\"].encode()")
        try f.write("spec.yaml", f.spec(real: "samples: 4", synthetic: 4, semishare: 0.25, detectors: """
          - {name: base, adapter: builtin, model: image-baseline, batch_size: 4}
          - {name: slow, adapter: process, command: [python3, slow.py], batch_size: 1, timeout: 30s}
        """))
        try f.write("metagraph.yaml", """
        neurons:
          - {uid: 0, hotkey: hk-burn}
          - {uid: 1, hotkey: hk-slow}
          - {uid: 2, hotkey: hk-base}
          - {uid: 3, hotkey: hk-validator, validator: true}
        """)
        let state = f.path("state")
        try f.write("validator.yaml", """
        version: 1
        state_dir: \(state)
        start_block: 1
        clock: {kind: simulated, genesis: \(String(format: "%.3f", Date().timeIntervalSince1970)), block_time: 12s, speedup: 600}
        metagraph: {file: metagraph.yaml}
        schedules:
          - {name: r, spec: spec.yaml, every_blocks: 30, catch_up: all}
        weights:
          every_blocks: 100
          burn_uid: 0
          discriminators:
            roster:
              - {detector: slow, hotkey: hk-slow}
              - {detector: base, uid: 2}
          sinks: [{kind: file, path: weights.json}]
        """)
        return Service(f: f, state: state)
    }

    func start(_ s: Service) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["validator", "start", "--config", s.config, "--until-block", "100"]
        p.currentDirectoryURL = URL(fileURLWithPath: s.f.root)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return (p, err)
    }

    func runToEnd(_ s: Service) throws -> String {
        let (p, err) = try start(s)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "validator exited \(p.terminationStatus): \(text)")
        return text
    }

    /// Waits until the second round (block 60) has committed at least one batch of the slow detector.
    func waitForSecondRoundMidway(_ s: Service) throws {
        let deadline = Date().addingTimeInterval(90)
        let run = s.state + "/runs/r-b60/run.sqlite"
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: run) {
                let r = try TestSupport.run("/usr/bin/sqlite3", [run, "SELECT COUNT(*) FROM outcomes WHERE detector = 'slow'"])
                // Early in the round (at least 4 of its 8 slow batches, 3 s, still to go): on a loaded
                // machine the check and the kill that follows can be a second or more apart, and so can
                // two checks (the window they must hit is 3 s wide).
                if let n = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), n >= 1, n <= 4 { return }
            }
            usleep(20_000)
        }
        throw TestSupportError("the second round never reached the middle of its run")
    }

    /// The state that must not depend on interruptions (no times, attempts, paths or events).
    func digest(_ s: Service) throws -> [String: [[String]]] {
        let store = try StateStore(path: s.state + "/validator.sqlite", readOnly: true)
        var d: [String: [[String]]] = [:]
        d["rounds"] = try store.dump("SELECT schedule, occurrence, position, label, run_id, seed, status FROM rounds ORDER BY schedule, occurrence")
        d["entrants"] = try store.dump("SELECT * FROM round_entrants ORDER BY 1, 2, 3, 4")
        d["kings"] = try store.dump("SELECT * FROM kings ORDER BY 1, 2")
        d["king_events"] = try store.dump("SELECT * FROM king_events ORDER BY 1, 2, 3")
        d["generators"] = try store.dump("SELECT * FROM generator_state ORDER BY 1")
        d["weights"] = try store.dump("SELECT occurrence, status, path, uids_json, weights_json, inputs_json, vector_json, metagraph_sha256 FROM weight_sets ORDER BY 1")
        d["entries"] = try store.dump("SELECT * FROM weight_entries ORDER BY 1, 2")
        for label in ["b30", "b60", "b90"] {
            let r = try TestSupport.run("/usr/bin/sqlite3", [s.state + "/runs/r-\(label)/run.sqlite",
                                                             "SELECT detector, sample_id, status, p_ai FROM outcomes ORDER BY 1, 2; SELECT status FROM runs"])
            d["outcomes-\(label)"] = r.stdout.split(separator: "\n").map { [String($0)] }
        }
        let weights = try Data(contentsOf: URL(fileURLWithPath: s.state + "/weights.json"))
        var json = try #require(try JSONSerialization.jsonObject(with: weights) as? [String: Any])
        json["block"] = nil  // the head the set was emitted at depends on timing
        d["weights.json"] = [[String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)]]
        return d
    }

    @Test func killedOrStoppedMidRoundThenRestartedEqualsAnUninterruptedRun() throws {
        // 1. Uninterrupted.
        let clean = try setUp("vali-clean")
        let log = try runToEnd(clean)
        #expect(log.contains("round r b30 started"))
        #expect(log.contains("weights for block 100 computed"))
        #expect(log.contains("reached block 100"))
        let expected = try digest(clean)
        #expect(expected["rounds"]?.map { $0[6] } == ["completed", "completed", "completed"])
        #expect(expected["weights"]?.first?[1] == "emitted")
        #expect(expected["kings"]?.isEmpty == false)

        // 2. SIGKILL in the middle of the second round, then the same command again.
        let killed = try setUp("vali-kill")
        let (p, _) = try start(killed)
        try waitForSecondRoundMidway(killed)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let store = try StateStore(path: killed.state + "/validator.sqlite", readOnly: true)
        #expect(try store.rounds(status: ["running"]).map(\.label) == ["b60"])
        let restartLog = try runToEnd(killed)
        #expect(restartLog.contains("resuming interrupted round r b60"))
        #expect(try digest(killed) == expected)

        // 3. SIGTERM in the middle of the second round: a graceful stop after the current batch.
        let stopped = try setUp("vali-term")
        let (q, err) = try start(stopped)
        try waitForSecondRoundMidway(stopped)
        kill(q.processIdentifier, SIGTERM)
        let stopLog = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        q.waitUntilExit()
        #expect(q.terminationStatus == 0, "\(stopLog)")
        #expect(stopLog.contains("stopped after the current batch"))
        let stoppedStore = try StateStore(path: stopped.state + "/validator.sqlite", readOnly: true)
        #expect(try stoppedStore.rounds(status: ["interrupted"]).map(\.label) == ["b60"])
        _ = try runToEnd(stopped)
        #expect(try digest(stopped) == expected)

        // weights.parquet holds the set, readable by pyarrow.
        try TestSupport.requirePythonModules(["pyarrow"])
        let r = try TestSupport.python("""
        import pyarrow.parquet as pq, sys
        t = pq.read_table(sys.argv[1]).to_pydict()
        print(sorted(set(t["occurrence"])), len(t["uid"]), sum(t["u16"]) > 0)
        """, [clean.state + "/weights.parquet"])
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[100] 4 True", "\(r.stderr)")
    }

    @Test func statusShowsSchedulesRunsAndWeights() throws {
        let s = try setUp("vali-status")
        _ = try runToEnd(s)
        let r = try Gascli.run(["vali", "status", "--config", s.config])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("every 30 blocks") && r.stdout.contains("b90"))
        #expect(r.stdout.contains("last weights: block 100, emitted"))
        #expect(r.stdout.contains("kings (current first):"))
        let j = try Gascli.run(["v", "status", "--config", s.config, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect((json["lastWeights"] as? [String: Any])?["occurrence"] as? Int == 100)
    }

    @Test func anInvalidConfigExitsTwoAndIsRecorded() throws {
        let s = try setUp("vali-bad")
        let text = try String(contentsOfFile: s.config, encoding: .utf8)
            .replacingOccurrences(of: "spec: spec.yaml, every_blocks: 30", with: "spec: gone.yaml, every_blocks: 0")
        try text.write(toFile: s.config, atomically: true, encoding: .utf8)
        let r = try Gascli.run(["validator", "start", "--config", s.config])
        #expect(r.status == 2)
        #expect(r.stderr.contains("round spec 'gone.yaml' does not exist"))
        #expect(r.stderr.contains("every_blocks: must be at least 1, found 0"))
        let store = try StateStore(path: s.state + "/validator.sqlite", readOnly: true)
        let recorded = try store.events(kind: "config_error").map(\.message)
        #expect(recorded.count == 2 && recorded.contains { $0.contains("gone.yaml") })
    }
}
