import AsyncHTTPClient
import Foundation
import GASCore
import GASRunner
import GASSpec
import GASStore
import GRDB

/// A thread-safe flag: set once by graceful shutdown, read between batches and polls.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.lock(); value = true; lock.unlock() }
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

public struct EngineOptions: Sendable {
    /// Stop once every occurrence up to this block is handled (tests, replays of a block range).
    public var untilBlock: Int64?
    /// One line per thing that happened, for stderr.
    public var log: @Sendable (String) -> Void
    public init(untilBlock: Int64? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.untilBlock = untilBlock
        self.log = log
    }
}

/// The validator: rounds on cadences, scores across rounds, weights at a fixed interval.
///
/// Everything due is handled in one sequence ordered by block position (rounds before the weight
/// set of the same block), so the same rounds and the same clock give the same weights. Rounds of
/// all schedules run one at a time; an occurrence that comes due while a round runs is handled
/// after it, by its schedule's catch-up policy. See docs/validator.md.
public final class ValidatorEngine: @unchecked Sendable {
    public let config: ValidatorConfig
    public let store: StateStore
    public let clock: any ChainClock
    public let stop = StopFlag()
    let options: EngineOptions
    let http: HTTPClient
    /// The head at this start (for catch_up: skip).
    var startBlock: Int64 = 0
    private var lastTick: ChainTick?
    /// Messages already recorded, to keep repeated errors from flooding the events table.
    private var recorded: [String: (message: String, at: Date)] = [:]

    public static func statePath(_ config: ValidatorConfig) -> String {
        (config.stateDirectory as NSString).appendingPathComponent("validator.sqlite")
    }

    public var runsDirectory: String { (config.stateDirectory as NSString).appendingPathComponent("runs") }
    public var parquetPath: String { (config.stateDirectory as NSString).appendingPathComponent("weights.parquet") }

    public init(config: ValidatorConfig, clock: (any ChainClock)? = nil, options: EngineOptions = EngineOptions()) throws {
        self.config = config
        self.store = try StateStore(path: Self.statePath(config))
        self.clock = clock ?? Clocks.make(config.clock)
        self.options = options
        self.http = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    func log(_ line: String) { options.log(line) }

    /// Records an event, once per kind+subject while its message stays the same (and at most once a minute after).
    func record(_ level: String, _ kind: String, subject: String? = nil, block: Int64? = nil, _ message: String, dedupe: Bool = false) {
        if dedupe {
            let key = kind + "|" + (subject ?? "")
            if let last = recorded[key], last.message == message, Date().timeIntervalSince(last.at) < 60 { return }
            recorded[key] = (message, Date())
        }
        do { try store.event(level, kind, subject: subject, block: block, message) } catch { log("cannot record event: \(error)") }
    }

    // MARK: run

    /// Runs until asked to stop (graceful shutdown) or until `untilBlock` is handled.
    public func run() async throws {
        do {
            try await loop()
        } catch {
            record("error", "service_failed", block: lastTick?.block, "\(error)")
            await closeConnections()
            throw error
        }
        await closeConnections()
    }

    func closeConnections() async {
        try? await http.shutdown()
        await clock.shutdown()
    }

    func loop() async throws {
        record("info", "start", "service started with \(config.path) (\(config.schedules.count) schedule(s), clock \(clock.label))")
        log("validator: state \(store.path), clock \(clock.label)")
        guard let first = await waitForHead() else { return finish("stopped before the first block was read") }
        startBlock = first.block
        log("block \(first.block): \(config.schedules.count) schedule(s): " + config.schedules.map { "\($0.name) (\($0.cadence))" }.joined(separator: ", ")
            + "; weights every \(config.weights.everyBlocks) blocks")
        try initializeCursors(first)
        do {
            let m = try await MetagraphReader.read(config.metagraph, workingDirectory: config.directory).metagraph
            log("metagraph: \(m.neurons.count) neurons, \(m.neurons.filter(\.validator).count) validator(s)")
        } catch {
            record("error", "metagraph_error", block: first.block, "\(error)")
            log("metagraph: \(error) (weight sets wait until it is valid)")
        }
        try await resumeUnfinished(first)

        while !stop.isSet {
            guard let tick = await waitForHead() else { break }
            lastTick = tick
            let limit = options.untilBlock.map { min($0, tick.block) } ?? tick.block
            let events = try dueEvents(tick: tick, limitBlock: limit)
            for event in events where !stop.isSet {
                switch event.kind {
                case let .round(schedule, key, label):
                    try await runRound(schedule: schedule, key: key, position: event.position, label: label, resume: nil)
                case .weights:
                    try await computeWeights(occurrence: event.position, tick: lastTick ?? tick)
                    try await emitPending()
                }
            }
            if stop.isSet { break }
            try await emitPending()
            if let until = options.untilBlock, tick.block >= until, events.isEmpty, try store.pendingWeightSets().isEmpty {
                return finish("reached block \(until)")
            }
            if events.isEmpty { await sleep(clock.pollSeconds) }
        }
        finish("stopped (graceful shutdown): committed batches are kept; an interrupted round resumes at the next start")
    }

    private func finish(_ why: String) {
        record("info", "stop", block: lastTick?.block, why)
        log("validator: \(why)")
    }

    func sleep(_ seconds: Double) async {
        let end = Date().addingTimeInterval(seconds)
        while !stop.isSet {
            let left = end.timeIntervalSinceNow
            if left <= 0 { return }
            try? await Task.sleep(nanoseconds: UInt64(min(left, 0.05) * 1e9))
        }
    }

    /// Reads the head, waiting and retrying (backoff up to 30 s) while the chain is down, answers
    /// garbage or is stale. Every distinct error is recorded. Nil when asked to stop.
    func waitForHead() async -> ChainTick? {
        var delay = max(clock.pollSeconds, 0.05)
        while !stop.isSet {
            do {
                let tick = try await clock.head()
                if recorded["chain_error|"] != nil {
                    recorded["chain_error|"] = nil
                    record("info", "chain_recovered", block: tick.block, "chain head readable again at block \(tick.block)")
                    log("chain: head readable again at block \(tick.block)")
                }
                return tick
            } catch {
                let message = "\(error)"
                let level = (error as? ClockError).map { if case .beforeGenesis = $0 { return "info" } else { return "error" } } ?? "error"
                if recorded["chain_error|"]?.message != message { log("chain: \(message); retrying in \(String(format: "%.1f", delay))s") }
                record(level, "chain_error", message, dedupe: true)
                await sleep(delay)
                delay = min(delay * 2, 30)
            }
        }
        return nil
    }

    // MARK: occurrences

    struct Due {
        enum Kind { case round(ScheduleConfig, key: Int64, label: String), weights }
        var kind: Kind
        var position: Int64
        var order: Int
    }

    func nowKey(_ schedule: ScheduleConfig, limitBlock: Int64, tick: ChainTick) -> Int64 {
        schedule.cadence.isBlockBased ? limitBlock : Int64(clock.time(ofBlock: limitBlock, at: tick).rounded(.down))
    }

    func position(_ schedule: ScheduleConfig, key: Int64, tick: ChainTick) -> Int64 {
        schedule.cadence.isBlockBased ? key : clock.position(ofTime: Double(key), at: tick)
    }

    static func label(_ schedule: ScheduleConfig, key: Int64) -> String {
        if schedule.cadence.isBlockBased { return "b\(key)" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "t" + f.string(from: Date(timeIntervalSince1970: Double(key)))
    }

    func initializeCursors(_ tick: ChainTick) throws {
        let base = config.startBlock.map { $0 - 1 } ?? tick.block
        for s in config.schedules {
            let initial = nowKey(s, limitBlock: base, tick: tick)
            try store.registerSchedule(name: s.name, spec: s.spec, cadence: s.cadence.description, catchUp: s.catchUp.rawValue, initialCursor: initial)
        }
        if try store.value("weights_cursor") == nil { try store.setValue("weights_cursor", String(base)) }
    }

    func dueEvents(tick: ChainTick, limitBlock: Int64) throws -> [Due] {
        var due: [Due] = []
        for (index, s) in config.schedules.enumerated() {
            guard let cursor = try store.cursor(schedule: s.name) else { continue }
            let (keys, omitted) = s.cadence.occurrences(after: cursor, upTo: nowKey(s, limitBlock: limitBlock, tick: tick))
            guard let newest = keys.last else { continue }
            let items = keys.map { (key: $0, position: position(s, key: $0, tick: tick), label: Self.label(s, key: $0)) }
            var run = items
            var skipped: [(key: Int64, position: Int64, label: String)] = []
            var reason = ""
            switch s.catchUp {
            case .all:
                break
            case .latest:
                run = [items.last!]
                skipped = Array(items.dropLast())
                reason = "missed: catch_up latest runs only the newest due occurrence"
            case .skip:
                skipped = items.filter { $0.position < startBlock }
                reason = "came due before this start of the service (catch_up skip)"
                let fresh = items.filter { $0.position >= startBlock }
                run = fresh.last.map { [$0] } ?? []
                skipped += fresh.dropLast()
            }
            if !skipped.isEmpty || omitted > 0 {
                let cursor = run.isEmpty ? newest : (skipped.map(\.key).max() ?? cursor)
                try store.skipRounds(schedule: s.name, occurrences: skipped, reason: reason, cursor: cursor)
                let count = Int64(skipped.count) + omitted
                let range = skipped.isEmpty ? "" : " (\(skipped.first!.label) … \(skipped.last!.label))"
                record("warning", "rounds_skipped", subject: s.name, block: tick.block, "\(count) occurrence(s) of \(s.name) skipped\(range): \(reason)")
                log("block \(tick.block): \(s.name): \(count) occurrence(s) skipped\(range): \(reason)")
            }
            for item in run {
                due.append(Due(kind: .round(s, key: item.key, label: item.label), position: item.position, order: index))
            }
        }
        let weightsCursor = Int64(try store.value("weights_cursor") ?? "") ?? tick.block
        let (wkeys, womitted) = Cadence.everyBlocks(config.weights.everyBlocks).occurrences(after: weightsCursor, upTo: limitBlock)
        if let newest = wkeys.last {
            let older = wkeys.dropLast()
            for w in older {
                try store.recordWeightStatus(occurrence: w, status: "skipped", reason: "missed: a newer weight occurrence (\(newest)) was due")
            }
            if let last = older.last { try store.setValue("weights_cursor", String(last)) }
            if !older.isEmpty || womitted > 0 {
                record("warning", "weights_skipped", block: tick.block, "\(Int64(older.count) + womitted) weight occurrence(s) before \(newest) skipped: only the newest due weight set is computed")
            }
            due.append(Due(kind: .weights, position: newest, order: Int.max))
        }
        return due.sorted { ($0.position, $0.order) < ($1.position, $1.order) }
    }

    // MARK: rounds

    func resumeUnfinished(_ tick: ChainTick) async throws {
        for r in try store.rounds(status: ["running", "interrupted"]) where !stop.isSet {
            guard let s = config.schedules.first(where: { $0.name == r.schedule }) else {
                try store.finishRound(schedule: r.schedule, occurrence: r.occurrence, status: "failed",
                                      reason: "schedule \(r.schedule) is no longer in the config", block: tick.block)
                record("warning", "round_abandoned", subject: r.runID, block: tick.block, "round \(r.schedule) \(r.label) was unfinished but its schedule was removed")
                continue
            }
            log("block \(tick.block): resuming interrupted round \(r.schedule) \(r.label) (run \(r.runID ?? "?"))")
            try await runRound(schedule: s, key: r.occurrence, position: r.position, label: r.label, resume: r)
        }
    }

    func roundSeed(_ schedule: ScheduleConfig, label: String, specSeed: UInt64) -> UInt64 {
        switch schedule.seed {
        case .fixed: return specSeed
        case .perOccurrence:
            var rng = SplitMix64(seed: specSeed, label: "\(schedule.name)/\(label)")
            return rng.next()
        }
    }

    func runRound(schedule s: ScheduleConfig, key: Int64, position: Int64, label: String, resume: RoundRow?) async throws {
        let block = lastTick?.block ?? position
        let runID = "\(s.name)-\(label)"
        let runDirectory = (runsDirectory as NSString).appendingPathComponent(runID)
        let seed: UInt64
        if let resumed = resume?.seed {
            seed = resumed
        } else {
            do {
                seed = roundSeed(s, label: label, specSeed: try SpecLoader.load(path: s.spec).spec.round.seed)
            } catch {
                let row = RoundRow(schedule: s.name, occurrence: key, position: position, label: label, runID: runID, runDirectory: runDirectory,
                                   seed: nil, status: "running", reason: nil, attempts: 0)
                try store.startRound(row, block: block)
                try store.finishRound(schedule: s.name, occurrence: key, status: "failed", reason: "spec \(s.spec): \(error)", block: block)
                record("error", "round_failed", subject: runID, block: block, "round \(s.name) \(label) did not start: spec \(s.spec): \(error)")
                log("block \(block): round \(s.name) \(label) failed to start: \(error)")
                return
            }
        }
        let row = RoundRow(schedule: s.name, occurrence: key, position: position, label: label, runID: runID, runDirectory: runDirectory,
                           seed: seed, status: "running", reason: nil, attempts: 0)
        try store.startRound(row, block: block)
        if resume == nil { log("block \(block): round \(s.name) \(label) started (run \(runID))") }
        let summary: RunSummary
        do {
            let stop = self.stop
            summary = try await RoundRunner.run(specPath: s.spec, options: RunOptions(
                outputDirectory: runsDirectory, observer: EngineObserver(log: options.log, prefix: "\(s.name) \(label)"),
                runID: runID, seed: seed, shouldStop: { stop.isSet }))
        } catch RunnerError.stopped {
            _ = await currentBlock()
            try store.finishRound(schedule: s.name, occurrence: key, status: "interrupted",
                                  reason: "service stopped between batches; resumes at the next start", block: lastTick?.block)
            record("info", "round_interrupted", subject: runID, block: lastTick?.block, "round \(s.name) \(label) stopped by graceful shutdown after a committed batch")
            log("round \(s.name) \(label): stopped after the current batch; it resumes at the next start")
            return
        } catch {
            _ = await currentBlock()
            try store.finishRound(schedule: s.name, occurrence: key, status: "failed", reason: "\(error)", block: lastTick?.block)
            record("error", "round_failed", subject: runID, block: lastTick?.block, "round \(s.name) \(label) failed: \(error)")
            log("round \(s.name) \(label) failed: \(error)")
            return
        }
        try await completeRound(s, key: key, position: position, label: label, summary: summary)
    }

    /// The head now, best effort (for recording when something finished).
    func currentBlock() async -> Int64? {
        if let t = try? await clock.head() { lastTick = t }
        return lastTick?.block
    }

    func completeRound(_ s: ScheduleConfig, key: Int64, position: Int64, label: String, summary: RunSummary) async throws {
        let block = await currentBlock() ?? position
        // Rostered detectors -> hotkeys (uid entries are looked up in the current metagraph).
        var metagraph: Metagraph?
        if config.weights.roster.contains(where: { $0.uid != nil }) || config.weights.roster.contains(where: { $0.hotkey != nil }) {
            do { metagraph = try await MetagraphReader.read(config.metagraph, workingDirectory: config.directory).metagraph } catch {
                record("error", "metagraph_error", subject: summary.runID, block: block, "\(error)")
                log("metagraph: \(error)")
            }
        }
        let roster = Dictionary(config.weights.roster.map { ($0.detector, $0) }, uniquingKeysWith: { a, _ in a })
        let modalities = Set(summary.scores.flatMap { $0.breakdowns.filter { $0.scope == .modality }.map(\.key) })
        var entrants: [(modality: String, detector: String, hotkey: String, uid: Int?, sn34: Double)] = []
        for score in summary.scores.sorted(by: { $0.detector < $1.detector }) {
            guard let entry = roster[score.detector] else { continue }
            var hotkey = entry.hotkey
            var uid = entry.uid
            if let u = entry.uid { hotkey = metagraph?.hotkey(of: u) } else if let h = entry.hotkey { uid = metagraph?.uid(of: h) }
            guard let hotkey else {
                record("warning", "roster_unresolved", subject: score.detector, block: block,
                       "detector \(score.detector) is rostered as uid \(entry.uid ?? -1), which is not in the metagraph; it does not compete in \(summary.runID)")
                continue
            }
            for b in score.breakdowns where b.scope == .modality {
                entrants.append((b.key, score.detector, hotkey, uid, score.invalidated ? 0 : b.metrics.sn34))
            }
        }
        let history = try store.kings()
        var updates: [(modality: String, event: KingEvent, winner: Entrant?, kings: [String])] = []
        for m in modalities.sorted() {
            let list = entrants.filter { $0.modality == m }.map { Entrant(hotkey: $0.hotkey, score: $0.sn34) }
            let depth = config.weights.rule == .winnerTakeAll ? 1 : config.weights.shares.count
            let result = KingOfTheHill.advance(history: history[m] ?? [], entrants: list, rule: config.weights.rule, depth: depth,
                                               margin: config.weights.margin)
            updates.append((m, result.event, result.winner, result.history))
        }
        let rewards = try Self.generatorRewards(runDirectory: summary.runDirectory, runID: summary.runID)
        try store.completeRound(schedule: s.name, occurrence: key, position: position, runID: summary.runID, block: block,
                                entrants: entrants, rewards: rewards, kingUpdates: updates)
        let best = summary.scores.first.map { "best \($0.detector) sn34 \(String(format: "%.4f", $0.sn34))" } ?? "no scores"
        let kings = updates.map { u in "\(u.modality): \(u.event.rawValue)\(u.kings.first.map { " → \($0)" } ?? "")" }.joined(separator: ", ")
        log("block \(block): round \(s.name) \(label) completed (\(summary.sampleCount) samples, \(best))" + (kings.isEmpty ? "" : "; kings \(kings)")
            + (rewards.isEmpty ? "" : "; \(Set(rewards.map(\.hotkey)).count) generator(s) rewarded"))
    }

    /// The run's `generator_scores` rows, when the run has that table (rounds with generator miners).
    public static func generatorRewards(runDirectory: String, runID: String) throws -> [GeneratorRewardRow] {
        let path = (runDirectory as NSString).appendingPathComponent("run.sqlite")
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var config = Configuration()
        config.readonly = true
        do {
            let q = try DatabaseQueue(path: path, configuration: config)
            let rows = try q.read { db -> [GeneratorRewardRow] in
                guard try String.fetchOne(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'generator_scores'") != nil else { return [] }
                return try Row.fetchAll(db, sql: """
                    SELECT hotkey, uid, modality, generator, accepted, reward FROM generator_scores WHERE run_id = ?
                    ORDER BY hotkey, modality, generator
                    """, arguments: [runID]).map {
                    GeneratorRewardRow(hotkey: $0[0], uid: $0[1], modality: $0[2], generator: ($0[3] as String?) ?? "",
                                       accepted: ($0[4] as Int?) ?? 0, reward: ($0[5] as Double?) ?? 0)
                }
            }
            // A generator's `modality = 'all'` row is its final reward (the per-modality rows are its
            // parts): when present it is the only row used, so the reward is never counted twice.
            let withTotal = Set(rows.filter { $0.modality == "all" }.map { "\($0.hotkey)\u{0}\($0.generator)" })
            return rows.filter { $0.modality == "all" || !withTotal.contains("\($0.hotkey)\u{0}\($0.generator)") }
        } catch let e as DatabaseError {
            throw StoreError.database(path: path, underlying: e.description)
        }
    }

    // MARK: weights

    /// Per-hotkey reward over the window: each round's rewards combined with the modality weights,
    /// then the mean over the rounds in which the hotkey was scored; and the last block seen.
    public static func windowRewards(_ rows: [(schedule: String, occurrence: Int64, position: Int64, row: GeneratorRewardRow)],
                                     modalityWeights: [String: Double]) -> (rewards: [String: Double], seen: [String: Int64]) {
        var perRound: [String: [String: Double]] = [:]  // hotkey -> round key -> reward
        var seen: [String: Int64] = [:]
        for r in rows {
            let roundKey = "\(r.schedule)#\(r.occurrence)"
            let weight = r.row.modality == "all" ? 1.0 : (modalityWeights[r.row.modality] ?? 0)
            perRound[r.row.hotkey, default: [:]][roundKey, default: 0] += weight * r.row.reward
            if r.row.accepted > 0 { seen[r.row.hotkey] = max(seen[r.row.hotkey] ?? Int64.min, r.position) }
        }
        var rewards: [String: Double] = [:]
        for (hotkey, rounds) in perRound {
            let values = rounds.keys.sorted().map { rounds[$0]! }
            rewards[hotkey] = values.reduce(0, +) / Double(values.count)
        }
        return (rewards, seen)
    }

    func computeWeights(occurrence w: Int64, tick: ChainTick) async throws {
        if let existing = try store.weightSet(w), existing.status != "skipped" { return }
        let metagraph: Metagraph, sha: String
        do {
            (metagraph, sha) = try await MetagraphReader.read(config.metagraph, workingDirectory: config.directory)
        } catch {
            record("error", "metagraph_error", subject: "weights \(w)", block: tick.block, "weights for block \(w) wait: \(error)", dedupe: true)
            log("block \(tick.block): weights for block \(w) wait for a valid metagraph: \(error)")
            return
        }
        let g = config.weights.generators
        let window = Self.windowRewards(try store.generatorRewards(from: w - g.windowBlocks, to: w), modalityWeights: g.modalityWeights)
        let state = GeneratorScores.step(state: try store.generatorState(), rewards: window.rewards, seen: window.seen, alpha: g.alpha,
                                         block: w, livenessBlocks: g.livenessBlocks)
        let active = state.filter { window.rewards[$0.key] != nil }.mapValues(\.ema)
        let inputs = WeightInputs(split: config.weights.split, burnUID: config.weights.burnUID, rule: config.weights.rule,
                                  shares: config.weights.shares, kings: try store.kings(), generators: active, neurons: metagraph.neurons,
                                  minAllowedWeights: config.weights.minAllowedWeights, maxWeightLimit: config.weights.maxWeightLimit)
        let vector: WeightVector
        do {
            vector = try Weights.compute(inputs)
        } catch {
            try store.recordWeightStatus(occurrence: w, status: "failed", reason: "\(error)")
            try store.setValue("weights_cursor", String(w))
            record("error", "weights_failed", subject: "weights \(w)", block: tick.block, "weights for block \(w) not computed: \(error)")
            log("block \(tick.block): weights for block \(w) not computed: \(error)")
            return
        }
        try store.storeComputedWeights(occurrence: w, block: tick.block, inputs: inputs, vector: vector, metagraphSHA256: sha, generatorState: state)
        try writeParquet()
        let burned = vector.allocations.filter { $0.note != nil && $0.uid == config.weights.burnUID }.map(\.amount).reduce(0, +)
        log("block \(tick.block): weights for block \(w) computed: \(vector.uids.count) uid(s) \(Self.describe(uids: vector.uids, weights: vector.weights))"
            + (burned > 0 ? String(format: "; %.3f of the split went to burn uid %d", burned, config.weights.burnUID) : ""))
    }

    static func describe(uids: [Int], weights: [UInt16]) -> String {
        let pairs = zip(uids, weights).map { "\($0):\($1)" }
        return "[" + pairs.prefix(8).joined(separator: " ") + (pairs.count > 8 ? " …" : "") + "]"
    }

    /// Emits computed sets: only on a fresh head, only when the rate limit allows, through every sink.
    func emitPending() async throws {
        for set in try store.pendingWeightSets() where !stop.isSet {
            let head: ChainTick
            do {
                head = try await clock.head()
            } catch {
                record("error", "weights_waiting", subject: "weights \(set.occurrence)", "not setting weights for block \(set.occurrence): \(error)", dedupe: true)
                return
            }
            if let last = try store.lastEmittedBlock(), head.block - last < config.weights.rateLimitBlocks {
                record("warning", "rate_limited", subject: "weights \(set.occurrence)", block: head.block,
                       "weights for block \(set.occurrence) wait: last set at block \(last), rate limit \(config.weights.rateLimitBlocks) blocks (next at \(last + config.weights.rateLimitBlocks))",
                       dedupe: true)
                return
            }
            let neurons = try store.weightInputs(set.occurrence)?.neurons ?? []
            let hotkeys = Dictionary(neurons.map { ($0.uid, $0.hotkey) }, uniquingKeysWith: { a, _ in a })
            let payload = WeightPayload(netuid: config.netuid, versionKey: config.versionKey, occurrence: set.occurrence, block: head.block,
                                        uids: set.uids, weights: set.weights, hotkeys: set.uids.map { hotkeys[$0] ?? "" })
            var ok = 0, failed: [String] = []
            for (index, sink) in config.weights.sinks.enumerated() {
                if try await emit(sink, index: index, payload: payload) { ok += 1 } else { failed.append("\(sink.kind) \(sink.target)") }
            }
            let status = failed.isEmpty ? "emitted" : (ok > 0 ? "partial" : "failed")
            let reason = failed.isEmpty ? (config.weights.sinks.isEmpty ? "no sinks configured: recorded only" : nil)
                : "sink(s) failed after \(config.weights.sinkAttempts) attempt(s): " + failed.joined(separator: ", ")
            try store.finishWeights(occurrence: set.occurrence, status: status, reason: reason, emittedBlock: status == "failed" ? nil : head.block)
            try writeParquet()
            if !failed.isEmpty { record("error", "sink_failed", subject: "weights \(set.occurrence)", block: head.block, reason ?? "") }
            log("block \(head.block): weights for block \(set.occurrence) \(status)" + (config.weights.sinks.isEmpty ? "" : " (\(ok)/\(config.weights.sinks.count) sinks)")
                + (failed.isEmpty ? "" : ": \(reason ?? "")"))
        }
    }

    /// One sink with retries: backoff doubles after each failure; every attempt is recorded.
    func emit(_ sink: SinkConfig, index: Int, payload: WeightPayload) async throws -> Bool {
        var backoff = config.weights.sinkBackoff
        for attempt in 1...config.weights.sinkAttempts {
            let result = await WeightSinks.emitOnce(sink, payload: payload, stateDirectory: config.stateDirectory,
                                                    configDirectory: config.directory, http: http)
            try store.recordSinkAttempt(SinkAttemptRow(occurrence: payload.occurrence, sink: index, kind: sink.kind, target: sink.target,
                                                       attempt: attempt, outcome: result.outcome, detail: result.detail, seconds: result.seconds,
                                                       block: payload.block))
            if result.outcome == "ok" { return true }
            log("sink \(sink.kind) \(sink.target): attempt \(attempt)/\(config.weights.sinkAttempts) \(result.outcome): \(result.detail ?? "")")
            if attempt < config.weights.sinkAttempts && !stop.isSet {
                await sleep(backoff)
                backoff *= 2
            }
        }
        return false
    }

    /// `<state_dir>/weights.parquet`: every entry of every computed weight set, rewritten whole.
    func writeParquet() throws {
        try WeightsParquet.write(path: parquetPath, rows: try store.weightEntries())
    }
}

struct EngineObserver: RunObserver {
    let log: @Sendable (String) -> Void
    let prefix: String
    func handle(_ event: RunEvent) {
        switch event {
        case let .warning(w): log("round \(prefix): warning: \(w)")
        case let .note(n): log("round \(prefix): \(n)")
        case .step, .detector: break
        }
    }
}
