import Foundation
import GASCore
import GASSpec
import GASTestSupport
import GRDB
import Testing
@testable import GASValidator

/// The engine in-process against a loopback JSON-RPC chain: weights wait for a fresh head and the
/// rate limit, sinks are retried and recorded, and generator rewards come from runs' ledgers.
@Suite(.serialized) struct EngineTests {
    /// `staleAfter`: how long a constant head counts as fresh (the recovery test keeps its head at one
    /// block, so on a loaded machine a short limit would leave it waiting for a block that never comes).
    func config(dir: String, chain: String, sinks: String, staleAfter: String = "300ms") throws -> ValidatorConfig {
        _ = try writeMinimalSpec(in: dir)
        try "neurons:\n  - {uid: 0, hotkey: burn}\n  - {uid: 1, hotkey: g1}\n  - {uid: 2, hotkey: g2}\n"
            .write(toFile: dir + "/metagraph.yaml", atomically: true, encoding: .utf8)
        try """
        version: 1
        state_dir: \(dir)/state
        start_block: 1
        clock: {kind: substrate, url: "\(chain)", poll: 50ms, timeout: 2s, stale_after: \(staleAfter)}
        metagraph: {file: metagraph.yaml}
        schedules: [{name: never, spec: tiny.yaml, every_blocks: 1000000}]
        weights:
          every_blocks: 100
          sink_attempts: 3
          sink_backoff: 50ms
          sinks:
        \(sinks)
        """.write(toFile: dir + "/validator.yaml", atomically: true, encoding: .utf8)
        return try ValidatorConfigLoader.load(path: dir + "/validator.yaml", currentDirectory: dir)
    }

    @Test func weightsWaitForAFreshHeadAndTheRateLimit() async throws {
        let server = try LoopbackServer(mode: "block 100")
        defer { server.stop() }
        let dir = try TestSupport.temporaryDirectory("engine")
        let c = try config(dir: dir, chain: server.url, sinks: """
            - {kind: file, path: weights.json}
            - {kind: command, command: [/bin/sh, -c, "exit 7"]}
            - {kind: command, command: [/bin/sh, -c, "sleep 30"], timeout: 200ms}
        """)
        let engine = try ValidatorEngine(config: c)
        let first = try #require(await engine.waitForHead())
        try engine.initializeCursors(first)
        try await engine.computeWeights(occurrence: 100, tick: first)
        #expect(try engine.store.weightSet(100)?.status == "computed")

        // The chain answers garbage: nothing is emitted, the wait is recorded.
        try server.set("garbage")
        try await engine.emitPending()
        #expect(try engine.store.weightSet(100)?.status == "computed")
        #expect(try engine.store.events(kind: "weights_waiting").first?.message.contains("answered garbage") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/weights.json"))

        // The head stops advancing: stale, still nothing emitted.
        try server.set("block 100")
        try await Task.sleep(nanoseconds: 400_000_000)
        try await engine.emitPending()
        #expect(try engine.store.weightSet(100)?.status == "computed")
        #expect(try engine.store.events(kind: "weights_waiting").first?.message.contains("stale") == true)

        // A fresh head: emitted; one sink fails 3 times, one hangs and is killed 3 times.
        try server.set("block 103")
        try await engine.emitPending()
        let set = try #require(try engine.store.weightSet(100))
        #expect(set.status == "partial" && set.emittedBlock == 103)
        #expect(set.uids == [0] && set.weights == [65535])  // no kings, no generators: all to burn
        let attempts = try engine.store.sinkAttempts(occurrence: 100)
        #expect(attempts.map(\.outcome) == ["ok", "failed", "failed", "failed", "timeout", "timeout", "timeout"])
        #expect(attempts[1].detail == "exited with status 7")
        #expect(try engine.store.events(kind: "sink_failed").count == 1)
        #expect(FileManager.default.fileExists(atPath: dir + "/state/weights.json"))

        // The next set waits for the rate limit (100 blocks after 103).
        try await engine.computeWeights(occurrence: 200, tick: ChainTick(block: 200, time: Date().timeIntervalSince1970))
        try server.set("block 150")
        try await engine.emitPending()
        #expect(try engine.store.weightSet(200)?.status == "computed")
        #expect(try engine.store.events(kind: "rate_limited").first?.message.contains("next at 203") == true)
        try server.set("block 203")
        try await engine.emitPending()
        #expect(try engine.store.weightSet(200)?.emittedBlock == 203)
        await engine.closeConnections()
    }

    @Test func theServiceWaitsForADownChainThenCarriesOn() async throws {
        let server = try LoopbackServer(mode: "garbage")
        defer { server.stop() }
        let dir = try TestSupport.temporaryDirectory("engine")
        let c = try config(dir: dir, chain: server.url, sinks: "    - {kind: file, path: weights.json}", staleAfter: "60s")
        let lines = LineSink()
        let engine = try ValidatorEngine(config: c, options: EngineOptions(untilBlock: 100, log: lines.append))
        let task = Task { try await engine.run() }
        var waited = 0
        while try engine.store.events(kind: "chain_error").isEmpty && waited < 100 {
            try await Task.sleep(nanoseconds: 50_000_000)
            waited += 1
        }
        #expect(try engine.store.events(kind: "chain_error").first?.message.contains("answered garbage") == true)
        try server.set("block 120")
        try await task.value
        #expect(try engine.store.weightSet(100)?.status == "emitted")
        #expect(try engine.store.events(kind: "chain_recovered").count == 1)
        #expect(lines.all.contains { $0.contains("retrying in") })
    }

    @Test func generatorRewardsComeFromTheRunsLedger() throws {
        let dir = try TestSupport.temporaryDirectory("genscores")
        let q = try DatabaseQueue(path: dir + "/run.sqlite")
        #expect(try ValidatorEngine.generatorRewards(runDirectory: dir, runID: "r1").isEmpty)  // no table: absent
        try q.write { db in
            try db.execute(sql: """
                CREATE TABLE generator_scores (run_id TEXT, generator TEXT, hotkey TEXT, uid INTEGER, modality TEXT, challenges INTEGER,
                    accepted INTEGER, pass_rate REAL, fool_rate REAL, samples INTEGER, volume_factor REAL, resolution_factor REAL,
                    fool_bonus REAL, reward REAL);
                INSERT INTO generator_scores VALUES ('r1', 'gen-a', 'g1', 1, 'image', 10, 8, 0.8, 0.1, 8, 8, 1, 0.1, 2.0);
                INSERT INTO generator_scores VALUES ('r1', 'gen-a', 'g1', 1, 'video', 10, 5, 0.5, 0.0, 5, 5, 1, 0.0, 4.0);
                INSERT INTO generator_scores VALUES ('r1', 'gen-b', 'g2', 2, 'image', 10, 0, 0.0, 0.0, 0, 0, 1, 0.0, 0.0);
                INSERT INTO generator_scores VALUES ('r0', 'gen-c', 'g3', 3, 'image', 1, 1, 1, 0, 1, 1, 1, 0, 9.0);
                """)
        }
        let rows = try ValidatorEngine.generatorRewards(runDirectory: dir, runID: "r1")
        #expect(rows.map(\.hotkey) == ["g1", "g1", "g2"])
        #expect(rows.map(\.reward) == [2.0, 4.0, 0.0])
        // Window aggregation: modality weights .30/.70 within a round, the mean over rounds, last block seen.
        let window = ValidatorEngine.windowRewards([
            ("s", 10, 10, rows[0]), ("s", 10, 10, rows[1]), ("s", 10, 10, rows[2]),
            ("s", 20, 20, GeneratorRewardRow(hotkey: "g1", uid: 1, modality: "image", generator: "gen-a", accepted: 0, reward: 1.0)),
        ], modalityWeights: ["image": 0.3, "video": 0.7])
        #expect(abs(window.rewards["g1"]! - (0.3 * 2 + 0.7 * 4 + 0.3 * 1) / 2) < 1e-12)
        #expect(window.rewards["g2"] == 0)
        #expect(window.seen == ["g1": 10])
    }
}

final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
