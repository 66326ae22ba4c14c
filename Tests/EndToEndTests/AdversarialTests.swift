import Crypto
import Foundation
import GASTestSupport
import Logging
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
    static func logger() -> Logger {
        var l = Logger(label: "e2e")
        l.logLevel = .critical
        return l
    }

    @Test("Two generators, one misbehaving: rejections recorded with reasons, honest generator ranked higher")
    func adversarialRound() async throws {
        let f = try RoundFixture("adversarial")
        try f.copyPhotos(6)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")

        // The validator's key through the real command; generator keys in-process.
        let keyRun = try Gascli.run(["keys", "new", "-o", f.path("validator.json")])
        #expect(keyRun.status == 0 && keyRun.stdout.contains("public key:"), "\(keyRun.stderr)")
        #expect(try Gascli.run(["keys", "new", "-o", f.path("validator.json")]).status == 1)  // no overwrite without --force
        let validator = try KeyFile.load(path: f.path("validator.json"))

        var config = GeneratorServerConfig()
        config.port = 0
        config.validators = [validator.publicKey]
        config.deliveryRetries = 0
        let honestKey = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let honest = try await GeneratorServer.start(config: config, signer: honestKey, backend: BuiltinBackend(sizes: [.image1K: 192]),
                                                     logger: Self.logger())
        let badKey = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let badSet = BadSignatureSet()
        let misbehaving = try await GeneratorServer.start(config: config, signer: badKey, backend: MisbehavingBackend(badlySigned: badSet, side: 192),
                                                          deliverySigner: FaultySigner(inner: badKey, bad: badSet), logger: Self.logger())
        defer {
            Task {
                await honest.stop(drainSeconds: 0)
                await misbehaving.stop(drainSeconds: 0)
            }
        }
        try f.write("generators.yaml", """
            generators:
              - {id: honest, url: '\(honest.baseURL)', public_key: \(honestKey.publicKeyHex), uid: 11}
              - {id: misbehaving, url: '\(misbehaving.baseURL)', public_key: \(badKey.publicKeyHex), uid: 12}
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
                deadline: 10s
                tiers: [1K]
                verify: {min_side: 64}
            detectors:
              - {name: base, adapter: builtin, model: image-baseline}
            outputs: {directory: runs}
            """)
        #expect(try Gascli.run(["validate", "adversarial.yaml"], cwd: f.root).status == 0)

        let r = try Gascli.run(["run", "adversarial.yaml"], cwd: f.root)
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
        let check = try TestSupport.python("""
            import sys, json, pyarrow.parquet as pq
            t = pq.read_table(sys.argv[1] + "/predictions.parquet").to_pydict()
            gen = [(k, g) for k, g in zip(t["source_kind"], t["generator"]) if k == "generator"]
            assert len(gen) == 7 and {g for _, g in gen} == {"honest", "misbehaving"}, gen
            assert all(g is None for k, g in zip(t["source_kind"], t["generator"]) if k != "generator")
            res = json.load(open(sys.argv[1] + "/results.json"))
            board = res["generators"]["leaderboard"]
            assert board[0]["generator"] == "honest" and board[0]["reward"] > board[1]["reward"], board
            print("ok")
            """, [runDir])
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
        let p1 = try Gascli.run(["plan", "from-store.yaml", "--json"], cwd: f.root)
        let p2 = try Gascli.run(["plan", "from-store.yaml", "--json"], cwd: f.root)
        #expect(p1.status == 0 && p1.stdout == p2.stdout, "\(p1.stderr)")
        #expect(p1.stdout.components(separatedBy: "generator://").count - 1 == 7)
        let stored = try Gascli.run(["run", "from-store.yaml", "--quiet"], cwd: f.root)
        #expect(stored.status == 0, "\(stored.stderr)")
    }

    @Test("gascli generator start serves /health and stops cleanly on SIGTERM")
    func generatorCommand() async throws {
        let f = try RoundFixture("gen-cmd")
        #expect(try Gascli.run(["keys", "new", "-o", f.path("g.json")]).status == 0)
        let v = KeyFile.generate()
        let port = Self.freePort()
        try f.write("generator.yaml", """
            listen: {host: 127.0.0.1, port: \(port)}
            key: g.json
            validators: [\(v.publicKey)]
            backend: {kind: builtin, sizes: {1K: 128}}
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Gascli.binary)
        process.arguments = ["generator", "start", "--config", f.path("generator.yaml")]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var healthy = false
        for _ in 0..<100 {
            if let r = try? await Loopback.get("http://127.0.0.1:\(port)/health"), r.contains("\"status\":\"ok\"") { healthy = true; break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(healthy)
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.contains("listening on http://127.0.0.1:\(port)") && printed.contains("generator stopped"))
        let bad = try Gascli.run(["generator", "start", "--config", f.path("nope.yaml")])
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
