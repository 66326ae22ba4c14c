import Foundation
import GASCore
import Yams

extension SpecLoader {
    static let generatorSourceKeys = ["kind", "from", "roster", "key", "prompts", "seed", "deadline", "modalities", "tiers",
                                      "webhook", "verify", "concurrency", "window", "samples"]

    static func readGeneratorSource(_ node: Node, _ field: String, _ r: YAMLReader, directory: String,
                                    roundModalities: [Modality]) -> SourceSpec? {
        guard let map = r.mapping(node, field, allowed: generatorSourceKeys) else { return nil }
        let from = map["from"].flatMap { r.enumValue($0, "\(field).from", GeneratorSource.Origin.self) } ?? .live
        func existingFile(_ key: String, hint: String) -> String? {
            guard let n = r.require(map, key, in: node, field, hint: hint), let s = r.nonEmptyString(n, "\(field).\(key)") else { return nil }
            let resolved = PathResolution.resolve(s, against: directory)
            if !FileManager.default.fileExists(atPath: resolved) {
                r.error(n, "\(field).\(key)", "file '\(s)' does not exist (looked at \(resolved)); paths are relative to the spec's folder")
            }
            return s
        }
        var source = GeneratorSource(from: from, roster: nil, key: nil, prompts: 4, seed: nil, deadlineSeconds: 60,
                                     modalities: roundModalities.filter { $0 != .audio }, tiers: nil, webhook: WebhookSpec(),
                                     verify: DeliveryChecks(), concurrency: 16, windowSeconds: nil, samples: nil)
        if source.modalities.isEmpty { source.modalities = [.image] }
        func onlyFor(_ key: String, _ origin: GeneratorSource.Origin) {
            if let n = map[key], from != origin { r.error(n, "\(field).\(key)", "'\(key)' only applies to 'from: \(origin.rawValue)'") }
        }
        switch from {
        case .live:
            source.roster = existingFile("roster", hint: "the roster of generator endpoints, e.g. 'roster: generators.yaml'")
            if let roster = source.roster {
                let path = PathResolution.resolve(roster, against: directory)
                if FileManager.default.fileExists(atPath: path) {
                    do { _ = try RosterLoader.load(path: path) } catch let e as SpecErrors { r.absorb(e.diagnostics) } catch {
                        r.error(map["roster"], "\(field).roster", "cannot read the roster: \(error)")
                    }
                }
            }
            source.key = existingFile("key", hint: "the validator's key file made by 'gascli keys new -o validator.key.json'")
            onlyFor("window", .store)
            onlyFor("samples", .store)
        case .store:
            for key in ["roster", "key", "prompts", "seed", "deadline", "tiers", "webhook", "concurrency"] { onlyFor(key, .live) }
            source.windowSeconds = 7 * 86_400
            if let w = map["window"], let d = r.duration(w, "\(field).window") {
                if d <= 0 { r.error(w, "\(field).window", "must be positive, e.g. 7d or 12h") } else { source.windowSeconds = d }
            }
            if let n = map["samples"] { source.samples = r.int(n, "\(field).samples", min: 1, max: 1_000_000) }
        }
        if let n = map["prompts"], let v = r.int(n, "\(field).prompts", min: 1, max: 10_000) { source.prompts = v }
        if let n = map["seed"], let v = r.uint64(n, "\(field).seed") { source.seed = v }
        if let n = map["deadline"], let v = r.duration(n, "\(field).deadline") {
            if v <= 0 || v > 86_400 { r.error(n, "\(field).deadline", "must be between 1s and 24h") } else { source.deadlineSeconds = v }
        }
        if let n = map["concurrency"], let v = r.int(n, "\(field).concurrency", min: 1, max: 1024) { source.concurrency = v }
        if let n = map["modalities"], let list = r.enumList(n, "\(field).modalities", Modality.self) {
            if list.isEmpty || list.contains(.audio) {
                r.error(n, "\(field).modalities", "list image and/or video (GAS has no audio generator track)")
            } else {
                source.modalities = Array(Set(list)).sorted()
                for m in source.modalities where !roundModalities.contains(m) {
                    r.error(n, "\(field).modalities", "'\(m.rawValue)' is not among round.modalities (\(roundModalities.map(\.rawValue).joined(separator: ", ")))")
                }
            }
        }
        if let n = map["tiers"], let list = r.stringList(n, "\(field).tiers") {
            var tiers: [String] = []
            for t in list {
                guard let tier = ResolutionTier.parse(t) else {
                    r.error(n, "\(field).tiers", "'\(t)' is not a resolution tier; allowed: \(ResolutionTier.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                tiers.append(tier.rawValue)
            }
            for m in source.modalities where !tiers.isEmpty && !tiers.contains(where: { ResolutionTier.parse($0)?.modality == m }) {
                r.error(n, "\(field).tiers", "no tier for modality \(m.rawValue); add one of \(ResolutionTier.tiers(for: m).map(\.rawValue).joined(separator: ", "))")
            }
            source.tiers = tiers
        }
        if let n = map["webhook"], let w = r.mapping(n, "\(field).webhook", allowed: ["host", "port", "max_body"]) {
            if let h = w["host"], let s = r.nonEmptyString(h, "\(field).webhook.host") { source.webhook.host = s }
            if let p = w["port"], let v = r.int(p, "\(field).webhook.port", min: 0, max: 65_535) { source.webhook.port = v }
            if let b = w["max_body"], let v = readSize(b, "\(field).webhook.max_body", r) { source.webhook.maxBodyBytes = v }
        }
        if let n = map["verify"],
           let v = r.mapping(n, "\(field).verify", allowed: ["min_side", "max_image_bytes", "max_video_bytes", "same_prompt_hamming",
                                                            "global_hamming", "require_tier"]) {
            if let x = v["min_side"], let i = r.int(x, "\(field).verify.min_side", min: 1, max: 20_000) { source.verify.minSide = i }
            if let x = v["max_image_bytes"], let i = readSize(x, "\(field).verify.max_image_bytes", r) { source.verify.maxImageBytes = i }
            if let x = v["max_video_bytes"], let i = readSize(x, "\(field).verify.max_video_bytes", r) { source.verify.maxVideoBytes = i }
            if let x = v["same_prompt_hamming"], let i = r.int(x, "\(field).verify.same_prompt_hamming", min: -1, max: 64) { source.verify.samePromptHamming = i }
            if let x = v["global_hamming"], let i = r.int(x, "\(field).verify.global_hamming", min: -1, max: 64) { source.verify.globalHamming = i }
            if let x = v["require_tier"], let b = r.bool(x, "\(field).verify.require_tier") { source.verify.requireTier = b }
        }
        return r.hasErrors ? nil : .generator(source)
    }

    /// A byte size: an integer or a string with a unit (64KB, 32MB, 1GB; powers of 1024).
    static func readSize(_ node: Node, _ field: String, _ r: YAMLReader) -> Int? {
        guard case let .scalar(scalar) = node else {
            r.error(node, field, "expected a size such as 65536, 64KB or 32MB, found \(r.describe(node))")
            return nil
        }
        if let size = ByteSize.parse(scalar.string), size > 0 { return size }
        r.error(node, field, "'\(scalar.string)' is not a size; write e.g. 65536, 64KB or 32MB")
        return nil
    }
}

public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        for (suffix, factor) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)] where t.hasSuffix(suffix) {
            guard let n = Int(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)) else { return nil }
            return n.multipliedReportingOverflow(by: factor).overflow ? nil : n * factor
        }
        return Int(t)
    }
}

// MARK: - Roster

/// One generator endpoint the validator challenges.
public struct RosterEntry: Codable, Sendable, Hashable {
    public var id: String
    /// Base URL, e.g. http://127.0.0.1:8091 (loopback in tests).
    public var url: String
    /// Ed25519 public key, 64 hex characters: verifies the generator's deliveries.
    public var publicKey: String
    /// The generator's signer id; default: derived from the public key.
    public var hotkey: String?
    public var uid: Int?
    enum CodingKeys: String, CodingKey {
        case id, url, hotkey, uid
        case publicKey = "public_key"
    }
}

public enum RosterLoader {
    public static func load(path: String) throws -> [RosterEntry] {
        let r = YAMLReader(file: path)
        let directory = (PathResolution.resolve(path, against: FileManager.default.currentDirectoryPath) as NSString).deletingLastPathComponent
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: "the roster file does not exist or is not UTF-8 text")])
        }
        var entries: [RosterEntry] = []
        if let root = r.compose(text), let top = r.mapping(root, "", allowed: ["generators"]),
           let list = r.require(top, "generators", in: root, "", hint: "list the generator endpoints").flatMap({ r.sequence($0, "generators", of: "generators") }) {
            var ids: Set<String> = []
            for (i, item) in list.enumerated() {
                let f = "generators[\(i)]"
                guard let m = r.mapping(item, f, allowed: ["id", "url", "public_key", "public_key_file", "hotkey", "uid"]) else { continue }
                let id = r.require(m, "id", in: item, f).flatMap { r.nonEmptyString($0, "\(f).id") }
                let url = r.require(m, "url", in: item, f, hint: "e.g. http://127.0.0.1:8091").flatMap { r.nonEmptyString($0, "\(f).url") }
                var key: String?
                if let n = m["public_key_file"] {
                    if m["public_key"] != nil { r.error(n, "\(f).public_key_file", "give public_key or public_key_file, not both") }
                    key = r.nonEmptyString(n, "\(f).public_key_file").flatMap {
                        KeyFileReference.publicKey(file: $0, relativeTo: directory, node: n, field: "\(f).public_key_file", r)
                    }
                } else {
                    key = r.require(m, "public_key", in: item, f, hint: "64 hex characters printed by 'gascli keys new', or public_key_file: a key file")
                        .flatMap { r.nonEmptyString($0, "\(f).public_key") }
                }
                if let id, id.contains("/") || id.contains(" ") { r.error(m["id"], "\(f).id", "must not contain '/' or spaces") }
                if let id, !ids.insert(id).inserted { r.error(m["id"], "\(f).id", "generator id '\(id)' is used twice") }
                if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) || URL(string: url)?.host == nil {
                    r.error(m["url"], "\(f).url", "'\(url)' is not an http(s) URL with a host")
                }
                if let key, !isHexKey(key) { r.error(m["public_key"], "\(f).public_key", "expected 64 hex characters (an Ed25519 public key)") }
                let hotkey = m["hotkey"].flatMap { r.nonEmptyString($0, "\(f).hotkey") }
                let uid = m["uid"].flatMap { r.int($0, "\(f).uid", min: 0, max: 65_535) }
                if let id, let url, let key {
                    entries.append(RosterEntry(id: id, url: url, publicKey: key.lowercased(), hotkey: hotkey, uid: uid))
                }
            }
            if list.isEmpty { r.error(root, "generators", "list at least one generator") }
        }
        if r.hasErrors { throw SpecErrors(r.diagnostics) }
        return entries
    }

    public static func isHexKey(_ s: String) -> Bool {
        s.count == 64 && s.allSatisfy { $0.isHexDigit }
    }
}

/// Reads the public key out of a key file made by `gascli keys new` (only `public_key` is read).
enum KeyFileReference {
    static func publicKey(file: String, relativeTo directory: String, node: Node, field: String, _ r: YAMLReader) -> String? {
        let path = PathResolution.resolve(file, against: directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            r.error(node, field, "key file '\(file)' does not exist (looked at \(path)); make one with 'gascli keys new -o \(path)'")
            return nil
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let key = object["public_key"] as? String,
              RosterLoader.isHexKey(key) else {
            r.error(node, field, "'\(file)' is not a key file with a 64-hex public_key")
            return nil
        }
        return key.lowercased()
    }
}

// MARK: - Generator server config

/// `gascli generator start --config FILE`: a generator miner's settings.
public struct GeneratorServerConfig: Sendable, Hashable {
    public enum Backend: Sendable, Hashable {
        /// Procedural images; `sizes` maps a tier to the square side rendered for it.
        case builtin(sizes: [ResolutionTier: Int])
        /// Runs argv with `{prompt}`, `{output}`, `{seed}`, `{resolution}`, `{modality}` substituted; sends the file it writes.
        case command(argv: [String], timeoutSeconds: Double, maxOutputBytes: Int, workingDirectory: String)
    }
    public var host: String = "127.0.0.1"
    public var port: Int = 8091
    /// Absolute path of the key file.
    public var keyFile: String = ""
    /// Ed25519 public keys (hex) of validators allowed to send challenges.
    public var validators: [String] = []
    public var backend: Backend = .builtin(sizes: GeneratorServerConfig.defaultSizes)
    public var maxBodyBytes: Int = 64 << 10
    public var maxPendingTasks: Int = 64
    public var maxConcurrentTasks: Int = 5
    public var headerTimeoutSeconds: Double = 5
    public var bodyTimeoutSeconds: Double = 10
    public var deliveryRetries: Int = 3
    public var deliveryRetryDelaySeconds: Double = 2
    public var deliveryTimeoutSeconds: Double = 30
    /// Hosts deliveries may go to (the X-Webhook-URL of a challenge). Loopback by default.
    public var webhookHosts: [String] = ["127.0.0.1", "localhost", "::1"]

    /// Squares per tier: 1K → 1024, 2K → 2048 (shorter side ≥ 1900), 4K → 3584 (≥ 3500).
    public static let defaultSizes: [ResolutionTier: Int] = [.image1K: 1024, .image2K: 2048, .image4K: 3584]

    public init() {}
}

public enum GeneratorConfigLoader {
    static let keys = ["listen", "key", "validators", "validator_key_files", "backend", "limits", "delivery", "webhook_hosts"]

    public static func load(path: String) throws -> GeneratorServerConfig {
        let absolute = PathResolution.resolve(path, against: FileManager.default.currentDirectoryPath)
        guard let data = FileManager.default.contents(atPath: absolute), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: "the config file does not exist or is not UTF-8 text")])
        }
        return try parse(text: text, file: path, directory: (absolute as NSString).deletingLastPathComponent)
    }

    public static func parse(text: String, file: String, directory: String) throws -> GeneratorServerConfig {
        let r = YAMLReader(file: file)
        var c = GeneratorServerConfig()
        if let root = r.compose(text), let top = r.mapping(root, "", allowed: keys) {
            if let n = top["listen"], let m = r.mapping(n, "listen", allowed: ["host", "port"]) {
                if let h = m["host"], let s = r.nonEmptyString(h, "listen.host") { c.host = s }
                if let p = m["port"], let v = r.int(p, "listen.port", min: 0, max: 65_535) { c.port = v }
            }
            if let n = r.require(top, "key", in: root, "", hint: "the generator's key file made by 'gascli keys new -o generator.key.json'"),
               let s = r.nonEmptyString(n, "key") {
                c.keyFile = PathResolution.resolve(s, against: directory)
                if !FileManager.default.fileExists(atPath: c.keyFile) {
                    r.error(n, "key", "key file '\(s)' does not exist; make one with 'gascli keys new -o \(c.keyFile)'")
                }
            }
            if let n = top["validators"], let list = r.stringList(n, "validators") {
                for k in list where !RosterLoader.isHexKey(k) { r.error(n, "validators", "'\(k)' is not 64 hex characters (an Ed25519 public key)") }
                c.validators = list.map { $0.lowercased() }
            }
            if let n = top["validator_key_files"], let list = r.stringList(n, "validator_key_files") {
                c.validators += list.compactMap { KeyFileReference.publicKey(file: $0, relativeTo: directory, node: n, field: "validator_key_files", r) }
            }
            if top["validators"] == nil && top["validator_key_files"] == nil {
                r.error(root, "validators", "missing required field 'validators' (public keys in hex) or 'validator_key_files' (key files); only these validators may challenge")
            }
            if let n = top["backend"] { readBackend(n, r, into: &c, directory: directory) }
            if let n = top["limits"], let m = r.mapping(n, "limits", allowed: ["max_body", "max_pending", "max_concurrent", "header_timeout", "body_timeout"]) {
                if let x = m["max_body"], let v = SpecLoader.readSize(x, "limits.max_body", r) { c.maxBodyBytes = v }
                if let x = m["max_pending"], let v = r.int(x, "limits.max_pending", min: 1, max: 100_000) { c.maxPendingTasks = v }
                if let x = m["max_concurrent"], let v = r.int(x, "limits.max_concurrent", min: 1, max: 256) { c.maxConcurrentTasks = v }
                if let x = m["header_timeout"], let v = r.duration(x, "limits.header_timeout") { c.headerTimeoutSeconds = v }
                if let x = m["body_timeout"], let v = r.duration(x, "limits.body_timeout") { c.bodyTimeoutSeconds = v }
            }
            if let n = top["delivery"], let m = r.mapping(n, "delivery", allowed: ["retries", "retry_delay", "timeout"]) {
                if let x = m["retries"], let v = r.int(x, "delivery.retries", min: 0, max: 20) { c.deliveryRetries = v }
                if let x = m["retry_delay"], let v = r.duration(x, "delivery.retry_delay") { c.deliveryRetryDelaySeconds = v }
                if let x = m["timeout"], let v = r.duration(x, "delivery.timeout") { c.deliveryTimeoutSeconds = v }
            }
            if let n = top["webhook_hosts"], let list = r.stringList(n, "webhook_hosts") { c.webhookHosts = list }
        }
        if r.hasErrors { throw SpecErrors(r.diagnostics) }
        return c
    }

    static func readBackend(_ node: Node, _ r: YAMLReader, into c: inout GeneratorServerConfig, directory: String) {
        guard let m = r.mapping(node, "backend", allowed: ["kind", "sizes", "command", "timeout", "max_output", "working_directory"]) else { return }
        let kind = r.require(m, "kind", in: node, "backend", hint: "builtin or command").flatMap { r.string($0, "backend.kind") }
        switch kind {
        case "builtin":
            var sizes = GeneratorServerConfig.defaultSizes
            if let n = m["sizes"], case let .mapping(map) = n {
                for (k, v) in map {
                    guard let name = k.scalar?.string, let tier = ResolutionTier.parse(name), tier.modality == .image else {
                        r.error(k, "backend.sizes", "keys are image tiers: 1K, 2K, 4K"); continue
                    }
                    guard let side = r.int(v, "backend.sizes.\(name)", min: 16, max: 8192) else { continue }
                    if ResolutionTier.observedImage(width: side, height: side) != tier {
                        r.error(v, "backend.sizes.\(name)", "\(side) px falls in tier \(ResolutionTier.observedImage(width: side, height: side)?.rawValue ?? "?"), not \(tier.rawValue) (1K < 1900 ≤ 2K < 3500 ≤ 4K, by the shorter side)")
                    }
                    sizes[tier] = side
                }
            } else if let n = m["sizes"] { r.error(n, "backend.sizes", "expected a mapping such as {1K: 1024}") }
            for key in ["command", "timeout", "max_output", "working_directory"] where m[key] != nil {
                r.error(m[key], "backend.\(key)", "'\(key)' only applies to kind: command")
            }
            c.backend = .builtin(sizes: sizes)
        case "command":
            var argv: [String] = []
            if let n = r.require(m, "command", in: node, "backend", hint: "argv with {prompt} and {output}, e.g. [python3, gen.py, '{prompt}', '{output}']"),
               let list = r.stringList(n, "backend.command") {
                if list.isEmpty { r.error(n, "backend.command", "must name a program") }
                if !list.contains(where: { $0.contains("{output}") }) { r.error(n, "backend.command", "must pass '{output}', the file the program writes") }
                argv = list
            }
            let timeout = m["timeout"].flatMap { r.duration($0, "backend.timeout") } ?? 300
            let maxOutput = m["max_output"].flatMap { SpecLoader.readSize($0, "backend.max_output", r) } ?? (64 << 20)
            let wd = m["working_directory"].flatMap { r.nonEmptyString($0, "backend.working_directory") }
                .map { PathResolution.resolve($0, against: directory) } ?? directory
            if m["sizes"] != nil { r.error(m["sizes"], "backend.sizes", "'sizes' only applies to kind: builtin") }
            c.backend = .command(argv: argv, timeoutSeconds: timeout, maxOutputBytes: maxOutput, workingDirectory: wd)
        case let other?:
            r.error(m["kind"], "backend.kind", "'\(other)' is not one of builtin, command")
        case nil:
            break
        }
    }
}
