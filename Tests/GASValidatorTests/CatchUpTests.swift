import Foundation
import GASSpec
import GASTestSupport
import Testing
@testable import GASValidator

/// Which occurrences run after downtime, per catch-up policy (docs/validator.md).
@Suite struct CatchUpTests {
    func engine(_ policy: String, startBlock: String = "start_block: 1") throws -> ValidatorEngine {
        let dir = try TestSupport.temporaryDirectory("catchup")
        _ = try writeMinimalSpec(in: dir)
        try "neurons:\n  - {uid: 0, hotkey: burn}\n".write(toFile: dir + "/metagraph.yaml", atomically: true, encoding: .utf8)
        try """
        version: 1
        state_dir: \(dir)/state
        \(startBlock)
        metagraph: {file: metagraph.yaml}
        schedules: [{name: s, spec: tiny.yaml, every_blocks: 10, catch_up: \(policy)}]
        weights: {every_blocks: 100}
        """.write(toFile: dir + "/validator.yaml", atomically: true, encoding: .utf8)
        return try ValidatorEngine(config: try ValidatorConfigLoader.load(path: dir + "/validator.yaml", currentDirectory: dir))
    }

    func due(_ e: ValidatorEngine, head: Int64) throws -> [String] {
        try e.dueEvents(tick: ChainTick(block: head, time: 0), limitBlock: head).map { d in
            switch d.kind {
            case let .round(_, key, _): "round \(key)"
            case .weights: "weights \(d.position)"
            }
        }
    }

    @Test func latestRunsOnlyTheNewest() async throws {
        let e = try engine("latest")
        e.startBlock = 35
        try e.initializeCursors(ChainTick(block: 35, time: 0))
        #expect(try due(e, head: 35) == ["round 30"])
        #expect(try e.store.rounds(status: ["skipped"]).map(\.occurrence) == [10, 20])
        #expect(try e.store.events(kind: "rounds_skipped").first?.message.contains("2 occurrence(s) of s skipped (b10 … b20)") == true)
        // The cursor moved past the skipped ones; 30 stays due until the service starts it.
        #expect(try due(e, head: 39) == ["round 30"])
        await e.closeConnections()
    }

    @Test func allRunsEveryMissedOccurrenceInBlockOrderBeforeWeights() async throws {
        let e = try engine("all")
        e.startBlock = 105
        try e.initializeCursors(ChainTick(block: 105, time: 0))
        #expect(try due(e, head: 105) == ["round 10", "round 20", "round 30", "round 40", "round 50", "round 60", "round 70",
                                          "round 80", "round 90", "round 100", "weights 100"])
        await e.closeConnections()
    }

    @Test func skipWaitsForTheNextOccurrenceAfterTheStart() async throws {
        let e = try engine("skip")
        e.startBlock = 35
        try e.initializeCursors(ChainTick(block: 35, time: 0))
        #expect(try due(e, head: 35) == [])
        #expect(try e.store.rounds(status: ["skipped"]).map(\.occurrence) == [10, 20, 30])
        #expect(try due(e, head: 41) == ["round 40"])
        await e.closeConnections()
    }

    @Test func withoutStartBlockTheFirstStartMissesNothing() async throws {
        let e = try engine("latest", startBlock: "")
        e.startBlock = 1234
        try e.initializeCursors(ChainTick(block: 1234, time: 0))
        #expect(try due(e, head: 1239) == [])
        #expect(try due(e, head: 1240) == ["round 1240"])
        #expect(try e.store.rounds(status: ["skipped"]).isEmpty)
        await e.closeConnections()
    }

    @Test func olderWeightOccurrencesAreSkipped() async throws {
        let e = try engine("latest")
        e.startBlock = 350
        try e.initializeCursors(ChainTick(block: 350, time: 0))
        #expect(try due(e, head: 350).suffix(2) == ["weights 300", "round 350"])  // block order: the set at 300 first
        #expect(try e.store.weightSet(100)?.status == "skipped")
        #expect(try e.store.weightSet(200)?.status == "skipped")
        await e.closeConnections()
    }
}
