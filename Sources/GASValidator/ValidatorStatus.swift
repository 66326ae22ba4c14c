import Foundation
import GASCore
import GASSpec

/// What `gascli validator status` shows: schedules with their last and next runs, kings,
/// generator averages, the last weights, and recent problems.
public struct ValidatorStatus: Codable, Sendable {
    public struct Schedule: Codable, Sendable {
        public var name: String
        public var spec: String
        public var cadence: String
        public var catchUp: String
        public var lastRun: String?
        public var lastStatus: String?
        public var lastRunID: String?
        public var next: String?
        public var nextBlock: Int64?
        public var completed: Int
        public var failed: Int
        public var skipped: Int
    }
    public struct Weights: Codable, Sendable {
        public var occurrence: Int64
        public var status: String
        public var reason: String?
        public var computedBlock: Int64?
        public var emittedBlock: Int64?
        public var uids: [Int]
        public var weights: [Int]
    }
    public struct Problem: Codable, Sendable {
        public var at: String
        public var block: Int64?
        public var level: String
        public var kind: String
        public var message: String
    }

    public var state: String
    public var clock: String
    public var head: Int64?
    public var headError: String?
    public var schedules: [Schedule]
    public var running: [String]
    public var kings: [String: [String]]
    public var generators: [String: Double]
    public var lastWeights: Weights?
    public var nextWeightsBlock: Int64?
    public var problems: [Problem]

    /// Reads the state (read-only) and, best effort, the chain head.
    public static func collect(config: ValidatorConfig, clock: any ChainClock) async throws -> ValidatorStatus {
        let store = try StateStore(path: ValidatorEngine.statePath(config), readOnly: true)
        var head: ChainTick?
        var headError: String?
        do { head = try await clock.head() } catch { headError = "\(error)" }
        await clock.shutdown()
        var schedules: [Schedule] = []
        let known = Dictionary(try store.schedules().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for s in config.schedules {
            let rounds = try store.rounds(schedule: s.name, limit: 1_000_000)
            let last = try store.lastRound(schedule: s.name)
            var next: String?, nextBlock: Int64?
            let nowKey = s.cadence.isBlockBased ? head?.block ?? 0 : Int64(head?.time ?? 0)
            if let head, let cursor = known[s.name]?.cursor,
               let key = s.cadence.next(after: s.catchUp == .all ? cursor : max(cursor, nowKey)) {
                next = ValidatorEngine.label(s, key: key)
                nextBlock = s.cadence.isBlockBased ? key : clock.position(ofTime: Double(key), at: head)
            }
            schedules.append(Schedule(name: s.name, spec: s.spec, cadence: s.cadence.description, catchUp: s.catchUp.rawValue,
                                      lastRun: last?.label, lastStatus: last?.status, lastRunID: last?.runID, next: next, nextBlock: nextBlock,
                                      completed: rounds.filter { $0.status == "completed" }.count, failed: rounds.filter { $0.status == "failed" }.count,
                                      skipped: rounds.filter { $0.status == "skipped" }.count))
        }
        let running = try store.rounds(status: ["running", "interrupted"]).map { "\($0.schedule) \($0.label) (\($0.status))" }
        let last = try store.weightSets(limit: 20).first { $0.status != "skipped" && $0.status != "superseded" }
        let nextWeights = head.map { Cadence.everyBlocks(config.weights.everyBlocks).next(after: $0.block) } ?? nil
        let problems = try store.events(limit: 200).filter { $0.level != "info" }.prefix(8).map {
            Problem(at: $0.at, block: $0.block, level: $0.level, kind: $0.kind, message: $0.message)
        }
        return ValidatorStatus(
            state: store.path, clock: clock.label, head: head?.block, headError: headError, schedules: schedules, running: running,
            kings: try store.kings(), generators: try store.generatorState().filter { $0.value.ema > 0 }.mapValues(\.ema),
            lastWeights: last.map { Weights(occurrence: $0.occurrence, status: $0.status, reason: $0.reason, computedBlock: $0.computedBlock,
                                            emittedBlock: $0.emittedBlock, uids: $0.uids, weights: $0.weights) },
            nextWeightsBlock: nextWeights, problems: Array(problems))
    }

    public func render() -> String {
        var lines: [String] = []
        lines.append("state:  \(state)")
        lines.append("clock:  \(clock)" + (head.map { ", head block \($0)" } ?? ", head unknown: \(headError ?? "?")"))
        lines.append("")
        let header = ["SCHEDULE", "CADENCE", "CATCH-UP", "LAST RUN", "STATUS", "NEXT", "DONE/FAILED/SKIPPED"]
        var rows = [header]
        for s in schedules {
            rows.append([s.name, s.cadence, s.catchUp, s.lastRun ?? "-", s.lastStatus ?? "-",
                         s.next.map { n in s.nextBlock.map { "\(n) (block \($0))" } ?? n } ?? "-", "\(s.completed)/\(s.failed)/\(s.skipped)"])
        }
        lines += Self.table(rows)
        if !running.isEmpty { lines.append("unfinished: " + running.joined(separator: ", ") + " (resumed at the next start)") }
        lines.append("")
        if kings.isEmpty {
            lines.append("kings: none yet")
        } else {
            lines.append("kings (current first):")
            for (m, list) in kings.sorted(by: { $0.key < $1.key }) { lines.append("  \(m): " + list.joined(separator: ", ")) }
        }
        if !generators.isEmpty {
            lines.append("generators (moving average): " + generators.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(8)
                .map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", "))
        }
        lines.append("")
        if let w = lastWeights {
            var line = "last weights: block \(w.occurrence), \(w.status)"
            if let e = w.emittedBlock { line += " at block \(e)" }
            if let r = w.reason { line += " (\(r))" }
            lines.append(line)
            let pairs = zip(w.uids, w.weights).map { "\($0):\($1)" }
            lines.append("  uid:u16  " + pairs.prefix(16).joined(separator: " ") + (pairs.count > 16 ? " … (\(pairs.count) uids)" : ""))
        } else {
            lines.append("last weights: none yet")
        }
        if let n = nextWeightsBlock { lines.append("next weights: block \(n)") }
        if !problems.isEmpty {
            lines.append("")
            lines.append("recent problems:")
            for p in problems { lines.append("  \(p.at) \(p.block.map { "block \($0) " } ?? "")\(p.level) \(p.kind): \(p.message)") }
        }
        return lines.joined(separator: "\n")
    }

    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = first.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
    }
}
