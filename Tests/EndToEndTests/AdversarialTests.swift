import Foundation
import GASTestSupport
import Testing
@testable import GASCore
@testable import GASData
@testable import GASMedia
@testable import GASNetwork
@testable import GASSpec
@testable import GASStore

/// Issue 4, item 5: two generator servers on loopback — an honest builtin one and one that returns
/// duplicates, garbage bytes, undersized media, bad signatures and failures — challenged by a round
/// run through the real gascli binary; detectors are evaluated on what passed.
@Suite("Adversarial loop on loopback", .serialized)
struct AdversarialTests {
    /// gascli on a GCD thread: blocking the test's cooperative pool would hold up other tests.
    static func gascli(_ arguments: [String], cwd: String = TestSupport.repositoryRoot) async throws -> TestSupport.Result {
        try await offload { try Gascli.run(arguments, cwd: cwd) }
    }

    static var testGenerator: String { (Gascli.binary as NSString).deletingLastPathComponent + "/gas-test-generator" }

    @Test("Two generators, one misbehaving: rejections recorded with reasons, honest generator ranked higher")
    func adversarialRound() async throws {
        let f = try RoundFixture("adversarial")
        try f.copyPhotos(6)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")

        // The validator's key through the real command; generator keys in-process.
        let keyRun = try await Self.gascli(["keys", "new", "-o", f.path("validator.json")])
        #expect(keyRun.status == 0 && keyRun.stdout.contains("public key:"), "\(keyRun.stderr)")
        #expect(try await Self.gascli(["keys", "new", "-o", f.path("validator.json")]).status == 1)  // no overwrite without --force
        #expect(try KeyFile.load(path: f.path("validator.json")).scheme == "ed25519")

        // Both generators run as their own processes: the honest one is `gascli generator start`
        // (builtin backend), the misbehaving one the test helper gas-test-generator.
        #expect(try await Self.gascli(["keys", "new", "-o", f.path("honest.json")]).status == 0)
        #expect(try await Self.gascli(["keys", "new", "-o", f.path("misbehaving.json")]).status == 0)
        try f.write("honest.yaml", """
            listen: {host: 127.0.0.1, port: 0}
            key: honest.json
            validator_key_files: [validator.json]
            backend: {kind: builtin, sizes: {1K: 192}}
            delivery: {retries: 0}
            """)
        let honestConfig = f.path("honest.yaml"), misbehavingKey = f.path("misbehaving.json"), validatorKey = f.path("validator.json")
        let honest = try await offload { try ServerProcess(Gascli.binary, ["generator", "start", "--config", honestConfig]) }
        let misbehaving = try await offload { try ServerProcess(Self.testGenerator, ["--key", misbehavingKey, "--validator-key", validatorKey]) }
        defer {
            honest.terminate()
            misbehaving.terminate()
        }
        let honestKey = try KeyFile.load(path: f.path("honest.json"))
        try f.write("generators.yaml", """
            generators:
              - {id: honest, url: '\(honest.url)', public_key: \(honestKey.publicKey), uid: 11}
              - {id: misbehaving, url: '\(misbehaving.url)', public_key_file: misbehaving.json, uid: 12}
            """)
        try f.write("adversarial.yaml", """
            version: 1
            round: {name: adv, seed: 34, modalities: [image]}
            catalogs: [catalog.yaml]
            sources:
              - {kind: real, datasets: ["*"], samples: 6}
              - kind: generator
                roster: generators.yaml
                key: validator.json
                prompts: 6
                deadline: 20s               # the badly signed delivery keeps one challenge open until then
                tiers: [1K]
                verify: {min_side: 64}
            detectors:
              - {name: base, adapter: builtin, model: image-baseline}
            outputs: {directory: runs}
            """)
        #expect(try await Self.gascli(["validate", "adversarial.yaml"], cwd: f.root).status == 0)

        let root = f.root
        let r = try await offload { try Gascli.run(["run", "adversarial.yaml"], cwd: root) }
        #expect(r.status == 0, "run failed: \(r.stderr)\n\(r.stdout)")
        #expect(r.stdout.contains("Generators (reward"), "\(r.stdout)")
        let runDir = try #require(r.stdout.split(separator: "\n").first { $0.contains("results.json") }
            .map { String($0.split(separator: " ").last!).replacingOccurrences(of: "/results.json", with: "") })

        let ledger = try RunLedger(path: runDir + "/run.sqlite", create: false, readOnly: true)
        let runID = try #require(try ledger.runIDs().first)
        let challenges = try ledger.challenges(runID: runID)
        let byGenerator = Dictionary(grouping: challenges, by: \.generator)
        #expect(byGenerator["honest"]?.count == 6 && byGenerator["misbehaving"]?.count == 6)
        #expect(byGenerator["honest"]?.allSatisfy { $0.status == "stored" && $0.observedTier == "1K" && $0.mediaSHA256 != nil } == true,
                "\(byGenerator["honest"]?.map { "\($0.status) \($0.reason ?? "")" } ?? [])")
        let bad = byGenerator["misbehaving"] ?? []
        let reasons = bad.compactMap(\.reason).joined(separator: "\n")
        #expect(bad.filter { $0.status == "stored" }.count == 1, "\(reasons)")
        #expect(bad.contains { $0.status == "rejected" && ($0.reason ?? "").contains("duplicate") }, "\(reasons)")
        #expect(bad.contains { $0.status == "rejected" && ($0.reason ?? "").contains("corrupted or unreadable") }, "\(reasons)")
        #expect(bad.contains { $0.status == "rejected" && ($0.reason ?? "").contains("undersized") }, "\(reasons)")
        #expect(bad.contains { $0.status == "rejected" && ($0.reason ?? "").contains("bad signature") }, "\(reasons)")
        #expect(bad.contains { $0.status == "failed" && ($0.reason ?? "").contains("miner reported failure") }, "\(reasons)")
        #expect(bad.filter { $0.status != "stored" }.allSatisfy { !($0.reason ?? "").isEmpty })
        let rejections = try ledger.rejections()
        #expect(rejections.contains { $0.httpStatus == 401 && $0.reason == "bad signature" && $0.generator == "misbehaving" })
        #expect(rejections.filter { $0.httpStatus == 400 }.count >= 3)

        // Scores: the honest generator earns more; stored under the agreed column names.
        let rewards = try ledger.generatorRewards(runID: runID)
        #expect(rewards.count == 2 && rewards[0].generator == "honest" && rewards[0].reward > rewards[1].reward, "\(rewards)")
        #expect(rewards[0].passRate == 1 && abs(rewards[1].passRate - 1.0 / 6.0) < 1e-12)

        // Accepted media are samples carrying their generator id, in SQLite and predictions.parquet.
        let samples = try ledger.samples(runID: runID).filter { $0.sourceKind == .generator }
        #expect(samples.count == 7 && samples.allSatisfy { $0.mediaType == .synthetic && $0.label == 1 })
        #expect(Set(samples.compactMap(\.generatorFamily)) == ["honest", "misbehaving"])
        try TestSupport.requirePythonModules(["pyarrow"])
        let check = try await offload { try TestSupport.python("""
            import sys, json, pyarrow.parquet as pq
            t = pq.read_table(sys.argv[1] + "/predictions.parquet").to_pydict()
            gen = [(k, g) for k, g in zip(t["source_kind"], t["generator"]) if k == "generator"]
            assert len(gen) == 7 and {g for _, g in gen} == {"honest", "misbehaving"}, gen
            assert all(g is None for k, g in zip(t["source_kind"], t["generator"]) if k != "generator")
            res = json.load(open(sys.argv[1] + "/results.json"))
            board = res["generators"]["leaderboard"]
            assert board[0]["generator"] == "honest" and board[0]["reward"] > board[1]["reward"], board
            print("ok")
            """, [runDir]) }
        #expect(check.status == 0 && check.stdout.contains("ok"), "\(check.stderr)")

        // from: store plans the same samples (and manifest hash) from the same stored media.
        try f.write("from-store.yaml", """
            version: 1
            round: {name: stored, seed: 34, modalities: [image]}
            sources:
              - {kind: generator, from: store, window: 1d}
            detectors:
              - {name: base, adapter: builtin, model: image-baseline}
            outputs: {directory: runs}
            """)
        let p1 = try await Self.gascli(["plan", "from-store.yaml", "--json"], cwd: f.root)
        let p2 = try await Self.gascli(["plan", "from-store.yaml", "--json"], cwd: f.root)
        #expect(p1.status == 0 && p1.stdout == p2.stdout, "\(p1.stderr)")
        #expect(p1.stdout.components(separatedBy: "generator://").count - 1 == 7)
        let stored = try await offload { try Gascli.run(["run", "from-store.yaml", "--quiet"], cwd: root) }
        #expect(stored.status == 0, "\(stored.stderr)")
    }

    @Test("A live round killed mid-run resumes on its recorded collection without challenging again")
    func liveRoundResumes() async throws {
        let f = try RoundFixture("live-resume")
        try f.copyPhotos(4)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        for k in ["validator", "gen"] { #expect(try await Self.gascli(["keys", "new", "-o", f.path(k + ".json")]).status == 0) }
        try f.write("gen.yaml", """
            listen: {host: 127.0.0.1, port: 0}
            key: gen.json
            validator_key_files: [validator.json]
            backend: {kind: builtin, sizes: {1K: 128}}
            """)
        let genConfig = f.path("gen.yaml")
        let generator = try await offload { try ServerProcess(Gascli.binary, ["generator", "start", "--config", genConfig]) }
        defer { generator.terminate() }
        try f.write("roster.yaml", "generators:\n  - {id: g, url: '\(generator.url)', public_key_file: gen.json}\n")
        try f.write("slow.py", """
            import json, sys, time
            print(json.dumps({"hello": {"protocol": 1, "name": "slow", "modalities": ["image"]}}), flush=True)
            for line in sys.stdin:
                msg = json.loads(line)
                if msg.get("shutdown"): break
                time.sleep(0.4)
                print(json.dumps({"batch": msg["batch"], "results": [{"id": i["id"], "probs": [0.3]} for i in msg["items"]]}), flush=True)
            """)
        try f.write("spec.yaml", """
            version: 1
            round: {name: live, seed: 8, modalities: [image]}
            catalogs: [catalog.yaml]
            sources:
              - {kind: real, datasets: ["*"], samples: 4}
              - {kind: generator, roster: roster.yaml, key: validator.json, prompts: 4, deadline: 30s, tiers: [1K], verify: {min_side: 64}}
            detectors:
              - {name: slow, adapter: process, command: [python3, slow.py], batch_size: 1, timeout: 30s}
            """)
        let first = Process()
        first.executableURL = URL(fileURLWithPath: Gascli.binary)
        first.arguments = ["run", "spec.yaml", "--quiet"]
        first.currentDirectoryURL = URL(fileURLWithPath: f.root)
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        // Kill -9 once some outcomes are committed (the collection is over by then). Up to 2 minutes:
        // under the full suite's load the live collection alone can take most of a 30 s window.
        var killed = false
        for _ in 0..<2400 {
            if let dir = ResumeTests.runDirectories(f.path("runs")).first,
               let ledger = try? RunLedger(path: f.path("runs/\(dir)/run.sqlite"), create: false, readOnly: true),
               let id = try? ledger.runIDs().first, (try? ledger.count("outcomes", runID: id)) ?? 0 >= 1 {
                kill(first.processIdentifier, SIGKILL)
                killed = true
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        try await offload { first.waitUntilExit() }
        #expect(killed, "the first run ended before it could be killed")
        let accepted = try await Loopback.get(generator.url + "/health")
        #expect(accepted.contains("\"accepted\":4"), "\(accepted)")

        let root = f.root
        let second = try await offload { try Gascli.run(["run", "spec.yaml", "--quiet"], cwd: root) }
        #expect(second.status == 0, "\(second.stderr)")
        let dirs = ResumeTests.runDirectories(f.path("runs"))
        #expect(dirs.count == 1)
        let after = try await Loopback.get(generator.url + "/health")
        #expect(after.contains("\"accepted\":4"), "challenged again: \(after)")
        let ledger = try RunLedger(path: f.path("runs/\(dirs[0])/run.sqlite"), create: false, readOnly: true)
        let id = try #require(try ledger.runIDs().first)
        #expect(try ledger.run(id: id)?.status == "completed")
        #expect(try ledger.challenges(runID: id).count == 4)
        #expect(try ledger.count("outcomes", runID: id) == 8)
        #expect(try ledger.generatorRewards(runID: id).first?.generator == "g")
    }

    @Test("gascli generator start serves /health and stops cleanly on SIGTERM")
    func generatorCommand() async throws {
        let f = try RoundFixture("gen-cmd")
        #expect(try await Self.gascli(["keys", "new", "-o", f.path("g.json")]).status == 0)
        let v = KeyFile.generate()
        let port = Self.freePort()
        try f.write("generator.yaml", """
            listen: {host: 127.0.0.1, port: \(port)}
            key: g.json
            validators: [\(v.publicKey)]
            backend: {kind: builtin, sizes: {1K: 128}}
            """)
        let config = f.path("generator.yaml")
        let server = try await offload { try ServerProcess(Gascli.binary, ["generator", "start", "--config", config]) }
        #expect(server.url == "http://127.0.0.1:\(port)")
        let health = try await Loopback.get(server.url + "/health")
        #expect(health.contains("\"status\":\"ok\"") && health.contains("\"backend\":\"builtin\""))
        #expect(try await offload { server.stop() } == 0)  // SIGTERM: graceful shutdown, exit 0
        #expect(server.remainingOutput().contains("generator stopped"))
        let bad = try await Self.gascli(["generator", "start", "--config", f.path("nope.yaml")])
        #expect(bad.status == 2 && bad.stderr.contains("does not exist"))
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
