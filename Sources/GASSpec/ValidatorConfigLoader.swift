import Foundation
import GASCore
import Yams

/// Reads and validates a validator config; every problem at once with file:line:column, like specs.
public enum ValidatorConfigLoader {
    public static let currentVersion = 1
    /// GAS 4.9.9 `__spec_version__` (100000*4 + 1000*9 + 10*9).
    public static let defaultVersionKey = 409_090
    /// The simulated clock's default block 0: 2026-01-01T00:00:00Z.
    public static let defaultGenesis: Double = 1_767_225_600
    /// Bittensor's `weights_rate_limit` on SN34 (blocks); the floor for `rate_limit_blocks`.
    public static let minimumRateLimit: Int64 = 100

    public static func load(path: String, currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> ValidatorConfig {
        let absolute = PathResolution.resolve(path, against: currentDirectory)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            let why = FileManager.default.fileExists(atPath: absolute) ? "cannot be read (check permissions)" : "does not exist"
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "",
                                             message: "the validator config \(why); pass one such as configs/validator.yaml")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: "the file is not UTF-8 text")])
        }
        let r = YAMLReader(file: path)
        let directory = (absolute as NSString).deletingLastPathComponent
        guard let root = r.compose(text), let config = build(root: root, r: r, path: absolute, directory: directory, text: text,
                                                              currentDirectory: currentDirectory), !r.hasErrors else {
            throw SpecErrors(r.diagnostics)
        }
        var result = config
        result.warnings = r.diagnostics.filter { $0.severity == .warning }
        return result
    }

    /// The state directory a config names, read leniently so a broken config's problems can still
    /// be recorded in its state database. Nil when even that cannot be read.
    public static func stateDirectory(path: String, currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        let absolute = PathResolution.resolve(path, against: currentDirectory)
        guard let data = FileManager.default.contents(atPath: absolute), let text = String(data: data, encoding: .utf8),
              YAMLBounds.check(text) == nil, let node = try? Yams.compose(yaml: text), case let .mapping(map) = node else { return nil }
        let dir = map["state_dir"]?.scalar?.string ?? "validator-state"
        return PathResolution.resolve(dir, against: currentDirectory)
    }

    static let topKeys = ["version", "netuid", "version_key", "state_dir", "start_block", "clock", "metagraph", "schedules", "weights"]

    static func build(root: Node, r: YAMLReader, path: String, directory: String, text: String, currentDirectory: String) -> ValidatorConfig? {
        guard let top = r.mapping(root, "", allowed: topKeys) else { return nil }
        if let v = r.require(top, "version", in: root, "", hint: "add 'version: 1' at the top"), let n = r.int(v, "version"), n != currentVersion {
            r.error(v, "version", "unsupported validator config version \(n); this gascli reads version \(currentVersion)")
        }
        let netuid = top["netuid"].flatMap { r.int($0, "netuid", min: 0, max: 65535) } ?? 34
        let versionKey = top["version_key"].flatMap { r.int($0, "version_key", min: 0) } ?? defaultVersionKey
        let stateDir = top["state_dir"].flatMap { r.nonEmptyString($0, "state_dir") } ?? "validator-state"
        let startBlock = top["start_block"].flatMap { r.int($0, "start_block", min: 0) }.map(Int64.init)
        let clock = top["clock"].map { readClock($0, r) } ?? .simulated(SimulatedClockConfig(genesis: defaultGenesis))
        let metagraph = r.require(top, "metagraph", in: root, "", hint: "'metagraph: {file: metagraph.yaml}' or '{command: [...]}'")
            .flatMap { readMetagraph($0, r, directory: directory) }

        var schedules: [ScheduleConfig] = []
        var specDetectors: Set<String> = []
        if let node = r.require(top, "schedules", in: root, "", hint: "list at least one schedule (name, spec, every_blocks)"),
           let items = r.sequence(node, "schedules", of: "schedules") {
            if items.isEmpty { r.error(node, "schedules", "list at least one schedule") }
            var names: [String: Int] = [:]
            var rounds: [String: String] = [:]
            for (i, item) in items.enumerated() {
                guard let (schedule, roundName, detectors) = readSchedule(item, "schedules[\(i)]", r, directory: directory) else { continue }
                if let j = names[schedule.name] {
                    r.error(item, "schedules[\(i)].name", "schedule name '\(schedule.name)' is already used by schedules[\(j)]; names must be unique")
                }
                names[schedule.name] = i
                if let roundName {
                    if let other = rounds[roundName] {
                        r.error(item, "schedules[\(i)].spec",
                                "schedules '\(other)' and '\(schedule.name)' both run round '\(roundName)': their rounds would overlap in one run history; give each schedule its own spec (round.name)")
                    }
                    rounds[roundName] = schedule.name
                }
                specDetectors.formUnion(detectors)
                schedules.append(schedule)
            }
        }

        var weights = WeightsConfig()
        if let node = top["weights"] { readWeights(node, r, into: &weights, specDetectors: specDetectors) }

        guard let metagraph else { return nil }
        return ValidatorConfig(path: path, directory: directory, text: text, netuid: netuid, versionKey: versionKey,
                               stateDirectory: PathResolution.resolve(stateDir, against: currentDirectory), startBlock: startBlock,
                               clock: clock, metagraph: metagraph, schedules: schedules, weights: weights)
    }

    static func readClock(_ node: Node, _ r: YAMLReader) -> ClockConfig {
        let fallback = ClockConfig.simulated(SimulatedClockConfig(genesis: defaultGenesis))
        guard let map = r.mapping(node, "clock", allowed: ["kind", "genesis", "block_time", "speedup", "url", "poll", "timeout", "stale_after"]) else {
            return fallback
        }
        let kind = map["kind"].flatMap { r.string($0, "clock.kind") } ?? "simulated"
        func misplaced(_ keys: [String], _ wanted: String) {
            for k in keys { if let n = map[k] { r.error(n, "clock.\(k)", "'\(k)' only applies to clock kind \(wanted)") } }
        }
        switch kind {
        case "simulated":
            misplaced(["url", "poll", "timeout", "stale_after"], "substrate")
            var c = SimulatedClockConfig(genesis: defaultGenesis)
            if let g = map["genesis"] {
                if let s = g.scalar?.string, let t = parseTime(s) { c.genesis = t } else {
                    r.error(g, "clock.genesis", "expected a UTC time like 2026-01-01T00:00:00Z or Unix seconds, found \(r.describe(g))")
                }
            }
            if let b = map["block_time"], let s = r.duration(b, "clock.block_time") { c.blockSeconds = s }
            if let s = map["speedup"], let v = r.double(s, "clock.speedup", min: 0.001, max: 1_000_000) { c.speedup = v }
            return .simulated(c)
        case "substrate":
            misplaced(["genesis", "block_time", "speedup"], "simulated")
            var url = ""
            if let u = r.require(map, "url", in: node, "clock", hint: "the node's HTTP JSON-RPC endpoint, e.g. http://127.0.0.1:9944"),
               let s = r.nonEmptyString(u, "clock.url") {
                if !(s.hasPrefix("http://") || s.hasPrefix("https://")) {
                    r.error(u, "clock.url", "expected an http:// or https:// JSON-RPC endpoint (WebSocket endpoints are not supported), found '\(s)'")
                }
                url = s
            }
            var c = SubstrateClockConfig(url: url)
            if let n = map["poll"], let s = r.duration(n, "clock.poll") { c.poll = s }
            if let n = map["timeout"], let s = r.duration(n, "clock.timeout") { c.timeout = s }
            if let n = map["stale_after"], let s = r.duration(n, "clock.stale_after") { c.staleAfter = s }
            return .substrate(c)
        default:
            r.error(map["kind"], "clock.kind", "'\(kind)' is not one of simulated, substrate")
            return fallback
        }
    }

    static func parseTime(_ s: String) -> Double? {
        if let v = Double(s), v.isFinite { return v }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)?.timeIntervalSince1970
    }

    static func readMetagraph(_ node: Node, _ r: YAMLReader, directory: String) -> MetagraphSource? {
        guard let map = r.mapping(node, "metagraph", allowed: ["file", "command", "timeout"]) else { return nil }
        switch (map["file"], map["command"]) {
        case let (f?, nil):
            guard let s = r.nonEmptyString(f, "metagraph.file") else { return nil }
            let resolved = PathResolution.resolve(s, against: directory)
            if !FileManager.default.fileExists(atPath: resolved) {
                r.error(f, "metagraph.file", "metagraph file '\(s)' does not exist (looked at \(resolved)); paths are relative to the config's folder")
            }
            if let t = map["timeout"] { r.error(t, "metagraph.timeout", "'timeout' only applies to a metagraph command") }
            return .file(resolved)
        case let (nil, c?):
            guard let argv = r.stringList(c, "metagraph.command") else { return nil }
            if argv.isEmpty { r.error(c, "metagraph.command", "must name a program") }
            let timeout = map["timeout"].flatMap { r.duration($0, "metagraph.timeout") } ?? 60
            return .command(argv, timeout: timeout)
        case (_?, _?):
            r.error(node, "metagraph", "give either 'file' or 'command', not both")
            return nil
        case (nil, nil):
            r.error(node, "metagraph", "give 'file: PATH' (YAML or JSON) or 'command: [program, args...]' that prints it")
            return nil
        }
    }

    static let scheduleKeys = ["name", "spec", "every_blocks", "every", "cron", "catch_up", "seed"]

    static func readSchedule(_ node: Node, _ field: String, _ r: YAMLReader, directory: String)
        -> (ScheduleConfig, String?, Set<String>)? {
        guard let map = r.mapping(node, field, allowed: scheduleKeys) else { return nil }
        let name = r.require(map, "name", in: node, field).flatMap { r.nonEmptyString($0, "\(field).name") }
        if let name, name.range(of: "^[A-Za-z0-9._-]+$", options: .regularExpression) == nil {
            r.error(map["name"], "\(field).name", "use letters, digits, '.', '_' and '-' only (it names run directories)")
        }
        var specPath: String?
        var roundName: String?
        var detectors: Set<String> = []
        if let s = r.require(map, "spec", in: node, field, hint: "the round spec this schedule runs, e.g. quickstart.yaml"),
           let p = r.nonEmptyString(s, "\(field).spec") {
            let resolved = PathResolution.resolve(p, against: directory)
            specPath = resolved
            if !FileManager.default.fileExists(atPath: resolved) {
                r.error(s, "\(field).spec", "round spec '\(p)' does not exist (looked at \(resolved)); paths are relative to the config's folder")
            } else {
                do {
                    let loaded = try SpecLoader.load(path: resolved)
                    roundName = loaded.spec.round.name
                    detectors = Set(loaded.spec.detectors.map(\.name))
                } catch let e as SpecErrors {
                    let first = e.errors.prefix(3).map(\.description).joined(separator: "; ")
                    r.error(s, "\(field).spec", "round spec '\(p)' has \(e.errors.count) error(s): \(first) (check it with gascli validate \(resolved))")
                } catch {
                    r.error(s, "\(field).spec", "round spec '\(p)' cannot be read: \(error)")
                }
            }
        }
        let cadenceKeys = ["every_blocks", "every", "cron"].filter { map[$0] != nil }
        var cadence: Cadence?
        if cadenceKeys.count > 1 {
            r.error(node, field, "give exactly one cadence, found \(cadenceKeys.joined(separator: " and ")): two cadences in one schedule would overlap")
        } else if cadenceKeys.isEmpty {
            r.error(node, field, "missing a cadence: 'every_blocks: N' (fires when block % N == 0), 'every: 30m' or 'cron: \"*/30 * * * *\"'")
        } else if let n = map["every_blocks"] {
            if let v = r.int(n, "\(field).every_blocks") {
                if v < 1 { r.error(n, "\(field).every_blocks", "must be at least 1, found \(v): a zero or negative cadence never advances") } else { cadence = .everyBlocks(Int64(v)) }
            }
        } else if let n = map["every"] {
            if case let .scalar(s) = n, let seconds = Duration.parseSeconds(s.string), seconds > 0 {
                if seconds < 1 || seconds.rounded() != seconds {
                    r.error(n, "\(field).every", "must be a whole number of seconds, at least 1s, found '\(s.string)'")
                } else { cadence = .interval(seconds: Int64(seconds)) }
            } else {
                r.error(n, "\(field).every", "expected a positive duration like 30m or 1h, found \(r.describe(n)): a zero cadence never advances")
            }
        } else if let n = map["cron"], let s = r.nonEmptyString(n, "\(field).cron") {
            do { cadence = .cron(try CronExpression(s)) } catch { r.error(n, "\(field).cron", "invalid cron expression '\(s)': \(error)") }
        }
        let catchUp = map["catch_up"].flatMap { r.enumValue($0, "\(field).catch_up", CatchUpPolicy.self) } ?? .latest
        let seed = map["seed"].flatMap { r.enumValue($0, "\(field).seed", SeedPolicy.self) } ?? .perOccurrence
        guard let name, let specPath, let cadence else { return nil }
        return (ScheduleConfig(name: name, spec: specPath, cadence: cadence, catchUp: catchUp, seed: seed), roundName, detectors)
    }

    static let weightKeys = ["every_blocks", "rate_limit_blocks", "split", "burn_uid", "discriminators", "generators",
                             "min_allowed_weights", "max_weight_limit", "sinks", "sink_attempts", "sink_backoff"]

    static func readWeights(_ node: Node, _ r: YAMLReader, into w: inout WeightsConfig, specDetectors: Set<String>) {
        guard let map = r.mapping(node, "weights", allowed: weightKeys) else { return }
        if let n = map["every_blocks"], let v = r.int(n, "weights.every_blocks") {
            if v < 1 { r.error(n, "weights.every_blocks", "must be at least 1, found \(v)") } else { w.everyBlocks = Int64(v) }
        }
        if let n = map["rate_limit_blocks"], let v = r.int(n, "weights.rate_limit_blocks") {
            if Int64(v) < minimumRateLimit {
                r.error(n, "weights.rate_limit_blocks", "must be at least \(minimumRateLimit) (the chain refuses weight sets closer than its weights_rate_limit), found \(v)")
            } else { w.rateLimitBlocks = Int64(v) }
        }
        if w.everyBlocks < w.rateLimitBlocks {
            r.error(map["every_blocks"] ?? node, "weights.every_blocks",
                    "weights every \(w.everyBlocks) blocks is faster than the rate limit of \(w.rateLimitBlocks) blocks between sets; use at least \(w.rateLimitBlocks)")
        }
        if let n = map["split"], let m = r.mapping(n, "weights.split", allowed: ["image", "video", "audio", "generators", "burn"]) {
            var s = WeightSplit()
            if let v = m["image"].flatMap({ r.double($0, "weights.split.image", min: 0, max: 1) }) { s.image = v }
            if let v = m["video"].flatMap({ r.double($0, "weights.split.video", min: 0, max: 1) }) { s.video = v }
            if let v = m["audio"].flatMap({ r.double($0, "weights.split.audio", min: 0, max: 1) }) { s.audio = v }
            if let v = m["generators"].flatMap({ r.double($0, "weights.split.generators", min: 0, max: 1) }) { s.generators = v }
            if let v = m["burn"].flatMap({ r.double($0, "weights.split.burn", min: 0, max: 1) }) { s.burn = v }
            if abs(s.total - 1) > 1e-6 {
                r.error(n, "weights.split", "the shares must sum to 1, they sum to \(s.total) (image \(s.image) + video \(s.video) + audio \(s.audio) + generators \(s.generators) + burn \(s.burn))")
            }
            w.split = s
        }
        if let n = map["burn_uid"], let v = r.int(n, "weights.burn_uid", min: 0, max: 65535) { w.burnUID = v }
        if let n = map["discriminators"], let m = r.mapping(n, "weights.discriminators", allowed: ["rule", "shares", "margin", "roster"]) {
            if let v = m["rule"].flatMap({ r.enumValue($0, "weights.discriminators.rule", DiscriminatorRule.self) }) { w.rule = v }
            if let s = m["shares"], let items = r.sequence(s, "weights.discriminators.shares", of: "numbers") {
                let values = items.enumerated().compactMap { i, x in r.double(x, "weights.discriminators.shares[\(i)]", min: 0, max: 1) }
                if values.isEmpty { r.error(s, "weights.discriminators.shares", "list at least one share, e.g. [0.85, 0.10, 0.05]") }
                if values.reduce(0, +) > 1 + 1e-9 {
                    r.error(s, "weights.discriminators.shares", "the shares of one lane must sum to at most 1, they sum to \(values.reduce(0, +)); the rest of a lane goes to the burn uid")
                }
                if w.rule == .winnerTakeAll { r.warning(s, "weights.discriminators.shares", "winner_take_all gives the whole lane to the winner; shares are ignored") }
                w.shares = values
            }
            if let v = m["margin"].flatMap({ r.double($0, "weights.discriminators.margin", min: 0, max: 1) }) { w.margin = v }
            if let s = m["roster"], let items = r.sequence(s, "weights.discriminators.roster", of: "entries") {
                var seen: [String: Int] = [:]
                for (i, item) in items.enumerated() {
                    let f = "weights.discriminators.roster[\(i)]"
                    guard let e = r.mapping(item, f, allowed: ["detector", "hotkey", "uid"]) else { continue }
                    guard let detector = r.require(e, "detector", in: item, f, hint: "the detector's name in the round specs").flatMap({ r.nonEmptyString($0, "\(f).detector") }) else { continue }
                    if let j = seen[detector] { r.error(item, "\(f).detector", "detector '\(detector)' is already in the roster at roster[\(j)]") }
                    seen[detector] = i
                    let hotkey = e["hotkey"].flatMap { r.nonEmptyString($0, "\(f).hotkey") }
                    let uid = e["uid"].flatMap { r.int($0, "\(f).uid", min: 0, max: 65535) }
                    if (e["hotkey"] == nil) == (e["uid"] == nil) {
                        r.error(item, f, "give exactly one of 'hotkey' (stable across re-registrations) or 'uid' (looked up in the metagraph)")
                    }
                    if !specDetectors.isEmpty && !specDetectors.contains(detector) {
                        r.warning(item, "\(f).detector", "detector '\(detector)' is in no schedule's spec; it will never score")
                    }
                    w.roster.append(DetectorRosterEntry(detector: detector, hotkey: hotkey, uid: uid))
                }
            }
        }
        if let n = map["generators"], let m = r.mapping(n, "weights.generators", allowed: ["alpha", "window_blocks", "liveness_blocks", "modality_weights"]) {
            if let v = m["alpha"].flatMap({ r.double($0, "weights.generators.alpha", min: 0, max: 1) }) {
                if v == 0 { r.error(m["alpha"], "weights.generators.alpha", "must be above 0, or the average never moves") } else { w.generators.alpha = v }
            }
            if let v = m["window_blocks"].flatMap({ r.int($0, "weights.generators.window_blocks", min: 1) }) { w.generators.windowBlocks = Int64(v) }
            if let v = m["liveness_blocks"].flatMap({ r.int($0, "weights.generators.liveness_blocks", min: 1) }) { w.generators.livenessBlocks = Int64(v) }
            if let mw = m["modality_weights"], let mm = r.mapping(mw, "weights.generators.modality_weights", allowed: Modality.allCases.map(\.rawValue)) {
                var weights: [String: Double] = [:]
                for (k, v) in mm { if let d = r.double(v, "weights.generators.modality_weights.\(k)", min: 0) { weights[k] = d } }
                w.generators.modalityWeights = weights
            }
        }
        if let n = map["min_allowed_weights"], let v = r.int(n, "weights.min_allowed_weights", min: 0, max: 65535) { w.minAllowedWeights = v }
        if let n = map["max_weight_limit"], let v = r.double(n, "weights.max_weight_limit", min: 0, max: 1) {
            if v == 0 { r.error(n, "weights.max_weight_limit", "must be above 0 (it is the largest share one uid may get, 1 = no cap)") } else { w.maxWeightLimit = v }
        }
        if let n = map["sink_attempts"], let v = r.int(n, "weights.sink_attempts", min: 1, max: 100) { w.sinkAttempts = v }
        if let n = map["sink_backoff"], let v = r.duration(n, "weights.sink_backoff") { w.sinkBackoff = v }
        if let s = map["sinks"], let items = r.sequence(s, "weights.sinks", of: "sinks") {
            for (i, item) in items.enumerated() {
                if let sink = readSink(item, "weights.sinks[\(i)]", r) { w.sinks.append(sink) }
            }
        }
    }

    static func readSink(_ node: Node, _ field: String, _ r: YAMLReader) -> SinkConfig? {
        guard let map = r.mapping(node, field, allowed: ["kind", "path", "command", "url", "timeout"]) else { return nil }
        guard let kind = r.require(map, "kind", in: node, field, hint: "file, command or http").flatMap({ r.string($0, "\(field).kind") }) else { return nil }
        func misplaced(_ keys: [String], _ wanted: String) {
            for k in keys { if let n = map[k] { r.error(n, "\(field).\(k)", "'\(k)' only applies to sink kind \(wanted)") } }
        }
        switch kind {
        case "file":
            misplaced(["command", "url", "timeout"], "command/http")
            guard let p = r.require(map, "path", in: node, field, hint: "where to write the JSON, relative to the state directory").flatMap({ r.nonEmptyString($0, "\(field).path") }) else { return nil }
            return .file(path: p)
        case "command":
            misplaced(["path"], "file"); misplaced(["url"], "http")
            guard let c = r.require(map, "command", in: node, field, hint: "the program and its arguments"), let argv = r.stringList(c, "\(field).command") else { return nil }
            if argv.isEmpty { r.error(c, "\(field).command", "must name a program"); return nil }
            let timeout = map["timeout"].flatMap { r.duration($0, "\(field).timeout") } ?? 30
            return .command(argv: argv, timeout: timeout)
        case "http":
            misplaced(["path"], "file"); misplaced(["command"], "command")
            guard let u = r.require(map, "url", in: node, field), let url = r.nonEmptyString(u, "\(field).url") else { return nil }
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                r.error(u, "\(field).url", "expected an http:// or https:// URL, found '\(url)'")
            }
            let timeout = map["timeout"].flatMap { r.duration($0, "\(field).timeout") } ?? 10
            return .http(url: url, timeout: timeout)
        default:
            r.error(map["kind"], "\(field).kind", "'\(kind)' is not one of file, command, http")
            return nil
        }
    }
}
