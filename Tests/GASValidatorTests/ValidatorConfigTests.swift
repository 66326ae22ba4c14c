import Foundation
import GASCore
import GASSpec
import GASTestSupport
import Testing

@Suite struct ValidatorConfigTests {
    func write(_ text: String, spec: Bool = true) throws -> (dir: String, path: String) {
        let dir = try TestSupport.temporaryDirectory("vconfig")
        if spec { _ = try writeMinimalSpec(in: dir) }
        try "neurons:\n  - {uid: 0, hotkey: a}\n  - {uid: 1, hotkey: b}\n".write(toFile: dir + "/metagraph.yaml", atomically: true, encoding: .utf8)
        try text.write(toFile: dir + "/validator.yaml", atomically: true, encoding: .utf8)
        return (dir, dir + "/validator.yaml")
    }

    func errors(_ text: String) throws -> [String] {
        let (dir, path) = try write(text)
        do {
            _ = try ValidatorConfigLoader.load(path: path, currentDirectory: dir)
            return []
        } catch let e as SpecErrors {
            return e.errors.map(\.description)
        }
    }

    @Test func theBundledExampleLoads() throws {
        let c = try ValidatorConfigLoader.load(path: TestSupport.repositoryRoot + "/configs/validator.yaml")
        #expect(c.schedules.map(\.name) == ["quickstart"])
        #expect(c.schedules[0].cadence == .everyBlocks(25))
        #expect(c.weights.split == WeightSplit())
        #expect(c.weights.shares == [0.85, 0.10, 0.05])
        #expect(c.weights.roster.count == 2)
        #expect(c.weights.sinks.map(\.kind) == ["file", "command"])
        #expect(c.weights.rateLimitBlocks == 100)
        #expect(c.versionKey == 409_090)
        if case let .simulated(s) = c.clock { #expect(s.blockSeconds == 12 && s.genesis == 1_767_225_600) } else { Issue.record("expected the simulated clock") }
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let errs = try errors("""
        version: 1
        metagraph: {file: metagraph.yaml}
        schedules:
          - {name: a, spec: missing.yaml, every_blocks: 10}
          - {name: b, spec: tiny.yaml, every_blocks: 0}
          - {name: c, spec: tiny.yaml, every_blocks: 10, cron: "* * * * *"}
          - {name: d, spec: tiny.yaml, cron: "61 * * * *"}
          - {name: e, spec: tiny.yaml, every: 0s}
        weights:
          rate_limit_blocks: 50
          split: {image: 0.5, video: 0.4, audio: 0.04, generators: 0.16}
          discriminators:
            roster:
              - {detector: base, hotkey: a, uid: 1}
          sinks:
            - {kind: carrier-pigeon}
        """)
        let all = errs.joined(separator: "\n")
        #expect(all.contains("schedules[0].spec: round spec 'missing.yaml' does not exist"))
        #expect(all.contains("schedules[1].every_blocks: must be at least 1, found 0"))
        #expect(all.contains("give exactly one cadence, found every_blocks and cron"))
        #expect(all.contains("schedules[3].cron: invalid cron expression '61 * * * *'"))
        #expect(all.contains("schedules[4].every: expected a positive duration"))
        #expect(all.contains("weights.rate_limit_blocks: must be at least 100"))
        #expect(all.contains("weights.split: the shares must sum to 1"))
        #expect(all.contains("give exactly one of 'hotkey'"))
        #expect(all.contains("'carrier-pigeon' is not one of file, command, http"))
        #expect(errs.allSatisfy { $0.contains("validator.yaml:") })
    }

    @Test func overlappingSchedulesAreRefused() throws {
        let errs = try errors("""
        version: 1
        metagraph: {file: metagraph.yaml}
        schedules:
          - {name: fast, spec: tiny.yaml, every_blocks: 10}
          - {name: fast, spec: tiny.yaml, every_blocks: 20}
        """)
        #expect(errs.contains { $0.contains("schedule name 'fast' is already used") })
        #expect(errs.contains { $0.contains("both run round 'tiny'") })
    }

    @Test func weightsFasterThanTheRateLimitAreRefused() throws {
        let errs = try errors("""
        version: 1
        metagraph: {file: metagraph.yaml}
        schedules: [{name: s, spec: tiny.yaml, every_blocks: 10}]
        weights: {every_blocks: 50}
        """)
        #expect(errs.contains { $0.contains("weights every 50 blocks is faster than the rate limit of 100 blocks") })
    }

    @Test func aBrokenSpecIsNamed() throws {
        let (dir, path) = try write("""
        version: 1
        metagraph: {file: metagraph.yaml}
        schedules: [{name: s, spec: broken.yaml, every_blocks: 10}]
        """)
        try "version: 1\nround: {name: x}\nsources: []\ndetectors: []\n".write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
        #expect {
            _ = try ValidatorConfigLoader.load(path: path, currentDirectory: dir)
        } throws: { e in
            "\(e)".contains("round spec 'broken.yaml' has") && "\(e)".contains("gascli validate")
        }
    }

    @Test func cadencesAndClocksParse() throws {
        let (dir, path) = try write("""
        version: 1
        state_dir: st
        start_block: 5
        clock: {kind: substrate, url: "http://127.0.0.1:9944", poll: 2s, stale_after: 60s}
        metagraph: {command: [python3, dump.py], timeout: 20s}
        schedules:
          - {name: blocks, spec: tiny.yaml, every_blocks: 110, catch_up: all, seed: fixed}
        weights:
          every_blocks: 360
          discriminators: {rule: winner_take_all}
          generators: {alpha: 0.25, window_blocks: 100, liveness_blocks: 200, modality_weights: {image: 1}}
          sinks:
            - {kind: http, url: "http://127.0.0.1:8080/w", timeout: 3s}
            - {kind: command, command: [./set.sh]}
        """)
        let c = try ValidatorConfigLoader.load(path: path, currentDirectory: dir)
        #expect(c.stateDirectory == dir + "/st")
        #expect(c.startBlock == 5)
        #expect(c.clock == .substrate(SubstrateClockConfig(url: "http://127.0.0.1:9944", poll: 2, timeout: 10, staleAfter: 60)))
        #expect(c.metagraph == .command(["python3", "dump.py"], timeout: 20))
        #expect(c.schedules[0].catchUp == .all && c.schedules[0].seed == .fixed)
        #expect(c.weights.rule == .winnerTakeAll)
        #expect(c.weights.generators == GeneratorWeightsConfig(alpha: 0.25, windowBlocks: 100, livenessBlocks: 200, modalityWeights: ["image": 1]))
        #expect(c.weights.sinks == [.http(url: "http://127.0.0.1:8080/w", timeout: 3), .command(argv: ["./set.sh"], timeout: 30)])
    }

    @Test func intervalAndCronSchedules() throws {
        let (dir, path) = try write("""
        version: 1
        metagraph: {file: metagraph.yaml}
        schedules:
          - {name: half-hour, spec: tiny.yaml, every: 30m}
        """)
        let c = try ValidatorConfigLoader.load(path: path, currentDirectory: dir)
        #expect(c.schedules[0].cadence == .interval(seconds: 1800))
        let (dir2, path2) = try write("""
        version: 1
        metagraph: {file: metagraph.yaml}
        schedules:
          - {name: nightly, spec: tiny.yaml, cron: "0 3 * * *", catch_up: skip}
        """)
        let c2 = try ValidatorConfigLoader.load(path: path2, currentDirectory: dir2)
        #expect(c2.schedules[0].cadence == .cron(try CronExpression("0 3 * * *")))
    }
}

@Suite struct MetagraphTests {
    @Test func bothShapesParse() throws {
        let a = try MetagraphLoader.parse(text: "neurons:\n  - {uid: 1, hotkey: b, validator: true}\n  - {uid: 0, hotkey: a}\n", file: "m.yaml")
        #expect(a.neurons == [Neuron(uid: 0, hotkey: "a"), Neuron(uid: 1, hotkey: "b", validator: true)])
        let b = try MetagraphLoader.parse(text: #"{"uids": [0, 1], "hotkeys": ["a", "b"], "validator_permit": [false, true], "block": 12}"#, file: "m.json")
        #expect(b.neurons == a.neurons && b.block == 12)
    }

    func problems(_ text: String) -> String {
        do { _ = try MetagraphLoader.parse(text: text, file: "m.yaml"); return "" } catch { return "\(error)" }
    }

    @Test func duplicatesAndGapsAreRefused() {
        #expect(problems("neurons:\n  - {uid: 0, hotkey: a}\n  - {uid: 0, hotkey: b}\n").contains("uid 0 is listed twice"))
        #expect(problems("neurons:\n  - {uid: 0, hotkey: a}\n  - {uid: 1, hotkey: a}\n").contains("hotkey a is listed twice (uids 0 and 1)"))
        #expect(problems("neurons:\n  - {uid: 0, hotkey: a}\n  - {uid: 2, hotkey: b}\n").contains("uids must be 0..1 like the chain's; missing: 1"))
        #expect(problems(#"{"uids": [0, 1], "hotkeys": ["a"]}"#).contains("2 uids but 1 hotkeys"))
        #expect(problems("neurons: []\n").contains("lists no neurons"))
        #expect(problems("neurons:\n  - {uid: -1, hotkey: a}\n").contains("must be at least 0"))
    }
}
