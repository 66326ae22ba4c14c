import AsyncHTTPClient
import Foundation
import GASSpec
import GASTestSupport
import Testing
@testable import GASValidator

@Suite(.serialized) struct ClockTests {
    @Test func simulatedBlocksFollowWallTime() async throws {
        let clock = SimulatedClock(SimulatedClockConfig(genesis: 1000, blockSeconds: 12, speedup: 1), now: { 1000 + 12 * 50 + 5 })
        let tick = try await clock.head()
        #expect(tick == ChainTick(block: 50, time: 1600))
        #expect(clock.position(ofTime: 1601, at: tick) == 51)
        #expect(clock.position(ofTime: 1600, at: tick) == 50)
        let fast = SimulatedClock(SimulatedClockConfig(genesis: 1000, blockSeconds: 12, speedup: 600), now: { 1001 })
        #expect(try await fast.head().block == 50)  // 20 ms blocks
        let early = SimulatedClock(SimulatedClockConfig(genesis: 2000), now: { 1000 })
        await #expect(throws: ClockError.beforeGenesis(seconds: 1000)) { try await early.head() }
    }

    @Test func substrateHeadAndItsFailures() async throws {
        let server = try LoopbackServer(mode: "block 6699")
        defer { server.stop() }
        let clock = SubstrateClock(SubstrateClockConfig(url: server.url, poll: 0.05, timeout: 2, staleAfter: 0.3))
        #expect(try await clock.head().block == 6699)
        #expect(server.bodies.last?.contains("chain_getHeader") == true)
        try server.set("int-block")
        #expect(try await clock.head().block == 77)
        for (mode, expected) in [("garbage", "not a JSON-RPC reply"), ("rpc-error", "JSON-RPC error -32601: Method not found"),
                                 ("bad-number", "not a hex block number"), ("status 503", "HTTP 503")] {
            try server.set(mode)
            do {
                _ = try await clock.head()
                Issue.record("\(mode) was accepted")
            } catch let e as ClockError {
                guard case let .garbage(m) = e else { Issue.record("\(mode): \(e)"); continue }
                #expect(m.contains(expected), "\(mode): \(m)")
            }
        }
        // Stale: the same block for longer than stale_after.
        try server.set("block 7000")
        #expect(try await clock.head().block == 7000)
        try await Task.sleep(nanoseconds: 400_000_000)
        await #expect(throws: ClockError.self) { try await clock.head() }
        try server.set("block 7001")
        #expect(try await clock.head().block == 7001)
        await clock.shutdown()
    }

    @Test func unreachableEndpoint() async throws {
        let server = try LoopbackServer(mode: "block 1")
        let url = server.url
        server.stop()  // nothing listens on that port any more
        let clock = SubstrateClock(SubstrateClockConfig(url: url, poll: 0.05, timeout: 1, staleAfter: 10))
        do {
            _ = try await clock.head()
            Issue.record("a closed port answered")
        } catch let e as ClockError {
            guard case .unreachable = e else { Issue.record("\(e)"); return }
        }
        await clock.shutdown()
    }
}

@Suite(.serialized) struct SinkTests {
    let payload = WeightPayload(netuid: 34, versionKey: 409_090, occurrence: 360, block: 362, uids: [0, 2], weights: [65535, 1234], hotkeys: ["a", "c"])

    func withClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let r = try await body(client)
            try await client.shutdown()
            return r
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func fileSinkWritesJSON() async throws {
        let dir = try TestSupport.temporaryDirectory("sink")
        let r = try await withClient { await WeightSinks.emitOnce(.file(path: "out/w.json"), payload: payload, stateDirectory: dir, configDirectory: dir, http: $0) }
        #expect(r.outcome == "ok")
        let text = try String(contentsOfFile: dir + "/out/w.json", encoding: .utf8)
        #expect(text == #"{"block":362,"hotkeys":["a","c"],"netuid":34,"occurrence":360,"uids":[0,2],"version_key":409090,"weights":[65535,1234]}"# + "\n")
    }

    @Test func commandSinkGetsStdinAndEnvironment() async throws {
        let dir = try TestSupport.temporaryDirectory("sink")
        try "import os, sys\nopen('got', 'w').write(sys.stdin.read() + '|' + os.environ['GAS_UIDS'] + '|' + os.environ['GAS_WEIGHTS'])\n"
            .write(toFile: dir + "/sink.py", atomically: true, encoding: .utf8)
        let r = try await withClient {
            await WeightSinks.emitOnce(.command(argv: ["python3", "sink.py"], timeout: 10), payload: payload, stateDirectory: dir, configDirectory: dir, http: $0)
        }
        #expect(r.outcome == "ok", "\(r.detail ?? "")")
        let got = try String(contentsOfFile: dir + "/got", encoding: .utf8)
        #expect(got.hasSuffix("|0,2|65535,1234") && got.hasPrefix("{\"block\":362"))
    }

    @Test func aHangingCommandIsKilledWithItsChildren() async throws {
        let dir = try TestSupport.temporaryDirectory("sink")
        let began = Date()
        let r = try await withClient {
            await WeightSinks.emitOnce(.command(argv: ["/bin/sh", "-c", "sleep 60 & echo $! > child; wait"], timeout: 0.5), payload: payload,
                                       stateDirectory: dir, configDirectory: dir, http: $0)
        }
        #expect(r.outcome == "timeout")
        #expect(r.detail?.contains("timed out after 0.50s and was killed") == true, "\(r.detail ?? "")")
        #expect(Date().timeIntervalSince(began) < 10)
        let child = try #require(Int32(try String(contentsOfFile: dir + "/child", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<50 where alive {
            alive = kill(child, 0) == 0 && !(((try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? "").contains(") Z"))
            if alive { usleep(50_000) }
        }
        #expect(!alive, "the sink's child \(child) survived the timeout")
    }

    @Test func failingCommandsAndMissingPrograms() async throws {
        let dir = try TestSupport.temporaryDirectory("sink")
        let r = try await withClient {
            await WeightSinks.emitOnce(.command(argv: ["/bin/sh", "-c", "echo no wallet >&2; exit 3"], timeout: 5), payload: payload,
                                       stateDirectory: dir, configDirectory: dir, http: $0)
        }
        #expect(r.outcome == "failed" && r.detail == "exited with status 3: no wallet")
        let missing = try await withClient {
            await WeightSinks.emitOnce(.command(argv: ["./no-such-program"], timeout: 5), payload: payload, stateDirectory: dir, configDirectory: dir, http: $0)
        }
        #expect(missing.outcome == "failed")
    }

    @Test func httpSinkPostsAndReportsFailures() async throws {
        let server = try LoopbackServer(mode: "ok")
        defer { server.stop() }
        let dir = try TestSupport.temporaryDirectory("sink")
        let ok = try await withClient { await WeightSinks.emitOnce(.http(url: server.url + "weights", timeout: 5), payload: payload, stateDirectory: dir, configDirectory: dir, http: $0) }
        #expect(ok.outcome == "ok" && ok.detail == "HTTP 200")
        #expect(server.bodies.last?.contains(#""weights":[65535,1234]"#) == true)
        try server.set("status 500")
        let bad = try await withClient { await WeightSinks.emitOnce(.http(url: server.url, timeout: 5), payload: payload, stateDirectory: dir, configDirectory: dir, http: $0) }
        #expect(bad.outcome == "failed" && bad.detail?.hasPrefix("HTTP 500") == true)
        try server.set("hang")
        let slow = try await withClient { await WeightSinks.emitOnce(.http(url: server.url, timeout: 0.5), payload: payload, stateDirectory: dir, configDirectory: dir, http: $0) }
        #expect(slow.outcome == "timeout", "\(slow.detail ?? "")")
    }
}
