import Foundation
import GASCore
import Yams

/// A spec as loaded from a file: the typed spec, where it came from, and any warnings.
public struct LoadedSpec: Sendable {
    public var spec: RoundSpec
    /// Absolute path of the spec file.
    public var path: String
    /// The folder relative paths in the spec are resolved against.
    public var directory: String
    /// The file's bytes exactly as read, kept for the run record.
    public var text: String
    public var warnings: [SpecDiagnostic]

    public init(spec: RoundSpec, path: String, directory: String, text: String, warnings: [SpecDiagnostic] = []) {
        self.spec = spec
        self.path = path
        self.directory = directory
        self.text = text
        self.warnings = warnings
    }

    /// Resolves a path written in the spec against the spec's folder.
    public func resolve(_ path: String) -> String {
        PathResolution.resolve(path, against: directory)
    }
}

public enum PathResolution {
    public static func resolve(_ path: String, against directory: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        return ((directory as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }
}

/// Reads and validates round specs. Every problem is reported at once with file:line:column.
public enum SpecLoader {
    public static let currentVersion = 1

    public static func load(path: String) throws -> LoadedSpec {
        let absolute = PathResolution.resolve(path, against: FileManager.default.currentDirectoryPath)
        let text: String
        do { text = try TextFile.read(absolute) } catch {
            let message = error == .notUTF8 ? "the file is not UTF-8 text"
                : "the spec file \(error.description); pass the path of a round spec such as configs/quickstart.yaml"
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: message)])
        }
        return try parse(text: text, file: path, directory: (absolute as NSString).deletingLastPathComponent, absolutePath: absolute)
    }

    public static func parse(text: String, file: String, directory: String, absolutePath: String? = nil) throws -> LoadedSpec {
        let reader = YAMLReader(file: file)
        let spec = reader.compose(text).flatMap { build(root: $0, reader: reader, directory: directory) }
        guard let spec, !reader.hasErrors else { throw SpecErrors(reader.diagnostics) }
        return LoadedSpec(spec: spec, path: absolutePath ?? file, directory: directory, text: text,
                          warnings: reader.diagnostics.filter { $0.severity == .warning })
    }

    static let topKeys = ["version", "round", "catalogs", "sources", "detectors", "scoring", "outputs", "augment"]

    static func build(root: Node, reader r: YAMLReader, directory: String) -> RoundSpec? {
        guard let top = r.mapping(root, "", allowed: topKeys) else { return nil }

        var version = currentVersion
        if let v = r.require(top, "version", in: root, "", hint: "add 'version: 1' at the top"), let n = r.int(v, "version") {
            if n != currentVersion { r.error(v, "version", "unsupported spec version \(n); this gascli reads version \(currentVersion)") }
            version = n
        }

        let round = r.require(top, "round", in: root, "").flatMap { readRound($0, r) }
        var catalogs: [String] = []
        if let node = top["catalogs"], let list = r.stringList(node, "catalogs") {
            catalogs = list
            if case let .sequence(items) = node {
                for (i, (item, path)) in zip(items, list).enumerated() {
                    let resolved = PathResolution.resolve(path, against: directory)
                    if !FileManager.default.fileExists(atPath: resolved) {
                        r.error(item, "catalogs[\(i)]", "catalog file '\(path)' does not exist (looked at \(resolved)); paths are relative to the spec's folder")
                    }
                }
            }
        }

        var sources: [SourceSpec] = []
        if let node = r.require(top, "sources", in: root, "", hint: "list at least one source (kind: real or kind: synthetic)"),
           let items = r.sequence(node, "sources", of: "sources") {
            if items.isEmpty { r.error(node, "sources", "list at least one source") }
            for (i, item) in items.enumerated() {
                if let s = readSource(item, "sources[\(i)]", r, directory: directory, roundModalities: round?.modalities ?? [.image]) {
                    sources.append(s)
                }
            }
            if sources.contains(where: { if case .real = $0 { true } else { false } }) && catalogs.isEmpty {
                r.error(node, "sources", "a 'real' source needs at least one catalog under 'catalogs'")
            }
        }

        var detectors: [DetectorSpec] = []
        if let node = r.require(top, "detectors", in: root, "", hint: "list at least one detector"),
           let items = r.sequence(node, "detectors", of: "detectors") {
            if items.isEmpty { r.error(node, "detectors", "list at least one detector") }
            var seen: Set<String> = []
            for (i, item) in items.enumerated() {
                guard let d = readDetector(item, "detectors[\(i)]", r, directory: directory) else { continue }
                if !seen.insert(d.name).inserted { r.error(item, "detectors[\(i)].name", "detector name '\(d.name)' is used twice; names must be unique") }
                detectors.append(d)
            }
        }

        let scoring = top["scoring"].map { readScoring($0, r) } ?? ScoringRule()
        var outputs = OutputSpec(directory: "runs")
        if let node = top["outputs"], let map = r.mapping(node, "outputs", allowed: ["directory", "ledger"]) {
            if let d = map["directory"], let s = r.nonEmptyString(d, "outputs.directory") { outputs.directory = s }
            if let l = map["ledger"], let text = r.nonEmptyString(l, "outputs.ledger") {
                do {
                    let url = try LedgerURL.parse(text)
                    if case let .postgres(server) = url, server.password != nil {
                        r.error(l, "outputs.ledger", "must not hold a password (the spec is copied into the run directory and the ledger): remove it from the URL and set PGPASSWORD")
                    } else {
                        outputs.ledgerURL = url
                    }
                } catch {
                    r.error(l, "outputs.ledger", error.description)
                }
            }
        }

        var augment: AugmentSpec?
        if let node = top["augment"], let map = r.mapping(node, "augment", allowed: ["robustness_share"]) {
            if let n = map["robustness_share"], let share = r.double(n, "augment.robustness_share", min: 0, max: 1) {
                augment = share > 0 ? AugmentSpec(robustnessShare: share) : nil
            }
        }
        guard let round else { return nil }
        if augment != nil && !round.modalities.contains(.image), let node = top["augment"] {
            r.error(node, "augment.robustness_share", "the robustness suite augments images; add image to round.modalities or remove 'augment'")
        }
        if case let .sequence(items) = top["sources"], items.count == sources.count {
            for (i, (item, source)) in zip(items, sources).enumerated() {
                if case let .synthetic(synthetic) = source, !round.modalities.contains(synthetic.modality) {
                    r.error(item, "sources[\(i)].generator", "builtin/\(synthetic.generator) makes \(synthetic.modality.rawValue), which is not in round.modalities [\(round.modalities.map(\.rawValue).joined(separator: ", "))]")
                }
            }
        }
        var spec = RoundSpec(version: version, round: round, catalogs: catalogs, sources: sources,
                             detectors: detectors, scoring: scoring ?? ScoringRule(), outputs: outputs)
        spec.augment = augment
        return spec
    }

    static func readRound(_ node: Node, _ r: YAMLReader) -> RoundInfo? {
        guard let map = r.mapping(node, "round", allowed: ["name", "seed", "modalities", "benchmark_version"]) else { return nil }
        let name = r.require(map, "name", in: node, "round").flatMap { r.nonEmptyString($0, "round.name") }
        if let name, name.contains("/") || name.contains("..") {
            r.error(map["name"], "round.name", "must not contain '/' or '..' (it names the run directory)")
        }
        let seed = map["seed"].flatMap { r.uint64($0, "round.seed") } ?? 0
        var modalities: [Modality] = [.image]
        if let m = map["modalities"], let list = r.enumList(m, "round.modalities", Modality.self) {
            if list.isEmpty { r.error(m, "round.modalities", "list at least one of image, video, audio") }
            modalities = Array(Set(list)).sorted()
        }
        let benchmark = map["benchmark_version"].flatMap { r.int($0, "round.benchmark_version", min: 0) } ?? 1
        guard let name else { return nil }
        return RoundInfo(name: name, seed: seed, modalities: modalities, benchmarkVersion: benchmark)
    }

    static func readSource(_ node: Node, _ field: String, _ r: YAMLReader, directory: String = ".",
                           roundModalities: [Modality] = [.image]) -> SourceSpec? {
        guard case .mapping = node else {
            r.error(node, field, "expected a mapping with 'kind: real', 'kind: synthetic' or 'kind: generator', found \(r.describe(node))")
            return nil
        }
        let kindNode = node["kind"]
        guard let kindNode else {
            r.error(node, "\(field).kind", "missing required field 'kind' (real, synthetic or generator)")
            return nil
        }
        guard let kind = r.string(kindNode, "\(field).kind") else { return nil }
        switch kind {
        case "real":
            guard let map = r.mapping(node, field, allowed: ["kind", "datasets", "samples", "sampling"]) else { return nil }
            let datasets = map["datasets"].flatMap { r.stringList($0, "\(field).datasets") } ?? ["*"]
            let samples = map["samples"].flatMap { r.int($0, "\(field).samples", min: 1) }
            var sampling: RealSampling?
            if let n = map["sampling"], let v = r.enumValue(n, "\(field).sampling", RealSampling.self) {
                sampling = v == .even ? nil : v
                if v == .weighted && samples == nil {
                    r.error(n, "\(field).sampling", "weighted sampling splits a total: set 'samples' (gasbench's totals are 55000 image, 26000 video, 37000 audio in full mode)")
                }
            }
            return .real(RealSource(datasets: datasets, samples: samples, sampling: sampling))
        case "synthetic":
            guard let map = r.mapping(node, field, allowed: ["kind", "generator", "samples", "semisynthetic_share", "width", "height", "duration", "frames"]) else { return nil }
            var generator = "procedural"
            if let g = map["generator"], let s = r.string(g, "\(field).generator") {
                let name = s.hasPrefix("builtin/") ? String(s.dropFirst("builtin/".count)) : s
                if SyntheticSource.generators.contains(name) { generator = name } else {
                    r.error(g, "\(field).generator", "unknown generator '\(s)'; available: \(SyntheticSource.generators.map { "builtin/\($0)" }.joined(separator: ", "))")
                }
            }
            let samples = r.require(map, "samples", in: node, field, hint: "say how many images to generate").flatMap { r.int($0, "\(field).samples", min: 1, max: 1_000_000) }
            let share = map["semisynthetic_share"].flatMap { r.double($0, "\(field).semisynthetic_share", min: 0, max: 1) } ?? 0
            let width = map["width"].flatMap { r.int($0, "\(field).width", min: 16, max: 4096) } ?? 128
            let height = map["height"].flatMap { r.int($0, "\(field).height", min: 16, max: 4096) } ?? 128
            guard let samples else { return nil }
            var source = SyntheticSource(generator: generator, samples: samples, semisyntheticShare: share, width: width, height: height)
            if let d = map["duration"] {
                source.duration = r.double(d, "\(field).duration", min: 0.1, max: 60)
                if source.modality != .audio { r.error(d, "\(field).duration", "'duration' applies to builtin/procedural-speech only") }
            }
            if let n = map["frames"] {
                source.frames = r.int(n, "\(field).frames", min: 1, max: 256)
                if source.modality != .video { r.error(n, "\(field).frames", "'frames' applies to builtin/procedural-video only") }
            }
            if share > 0 && source.modality != .image, let n = map["semisynthetic_share"] {
                r.error(n, "\(field).semisynthetic_share", "semisynthetic media are made from real images only; use 0 with \(generator)")
            }
            return .synthetic(source)
        case "generator":
            return readGeneratorSource(node, field, r, directory: directory, roundModalities: roundModalities)
        default:
            r.error(kindNode, "\(field).kind", "'\(kind)' is not one of real, synthetic, generator")
            return nil
        }
    }

    static let detectorKeys = ["name", "adapter", "model", "command", "working_directory", "environment", "path", "detector",
                               "batch_size", "timeout", "max_restarts", "python", "registry", "limits"]

    static func readDetector(_ node: Node, _ field: String, _ r: YAMLReader, directory: String) -> DetectorSpec? {
        guard let map = r.mapping(node, field, allowed: detectorKeys) else { return nil }
        let name = r.require(map, "name", in: node, field).flatMap { r.nonEmptyString($0, "\(field).name") }
        if let name, name.contains("/") || name.contains("\n") {
            r.error(map["name"], "\(field).name", "must not contain '/' or line breaks")
        }
        let adapter = r.require(map, "adapter", in: node, field, hint: "one of builtin, process, predictions, package")
            .flatMap { r.enumValue($0, "\(field).adapter", DetectorAdapterKind.self) }
        var spec = DetectorSpec(name: name ?? "", adapter: adapter ?? .builtin, model: nil, command: nil,
                                workingDirectory: nil, environment: nil, path: nil, detector: nil,
                                batchSize: 16, timeoutSeconds: 60, maxRestarts: 2)
        if let b = map["batch_size"], let n = r.int(b, "\(field).batch_size", min: 1, max: 4096) { spec.batchSize = n }
        if let t = map["timeout"], let s = r.duration(t, "\(field).timeout") { spec.timeoutSeconds = s }
        if let m = map["max_restarts"], let n = r.int(m, "\(field).max_restarts", min: 0, max: 100) { spec.maxRestarts = n }
        if let l = map["limits"], let limits = r.mapping(l, "\(field).limits", allowed: ["memory_mb"]) {
            if let m = limits["memory_mb"], let n = r.int(m, "\(field).limits.memory_mb", min: 16, max: 16_777_216) { spec.memoryLimitMB = n }
            if adapter != .process && adapter != .package {
                r.error(l, "\(field).limits", "'limits' only applies to adapters process and package (they run as child processes)")
            }
        }

        func misplaced(_ key: String, _ wanted: String) {
            if let n = map[key] { r.error(n, "\(field).\(key)", "'\(key)' only applies to adapter \(wanted)") }
        }
        switch adapter {
        case .builtin:
            spec.model = r.require(map, "model", in: node, field, hint: "for example 'model: image-baseline'")
                .flatMap { r.nonEmptyString($0, "\(field).model") }
            misplaced("command", "process"); misplaced("path", "predictions"); misplaced("detector", "predictions")
        case .process:
            if let c = r.require(map, "command", in: node, field, hint: "the program and its arguments, e.g. [python3, detector.py]"),
               let argv = r.stringList(c, "\(field).command") {
                if argv.isEmpty { r.error(c, "\(field).command", "must name a program") }
                spec.command = argv
            }
            if let w = map["working_directory"], let s = r.nonEmptyString(w, "\(field).working_directory") {
                let resolved = PathResolution.resolve(s, against: directory)
                var isDir: ObjCBool = false
                if !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDir) || !isDir.boolValue {
                    r.error(w, "\(field).working_directory", "folder '\(s)' does not exist (looked at \(resolved))")
                }
                spec.workingDirectory = s
            }
            if let e = map["environment"], case let .mapping(env) = e {
                var vars: [String: String] = [:]
                for (k, v) in env {
                    if let key = k.scalar?.string, let value = r.string(v, "\(field).environment.\(key)") { vars[key] = value }
                }
                spec.environment = vars
            } else if let e = map["environment"] {
                r.error(e, "\(field).environment", "expected a mapping of variable names to values")
            }
            misplaced("model", "builtin"); misplaced("path", "predictions"); misplaced("detector", "predictions")
        case .predictions:
            if let p = r.require(map, "path", in: node, field, hint: "a CSV or Parquet file with sample_id and p_ai columns"),
               let s = r.nonEmptyString(p, "\(field).path") {
                let resolved = PathResolution.resolve(s, against: directory)
                if !FileManager.default.fileExists(atPath: resolved) {
                    r.error(p, "\(field).path", "predictions file '\(s)' does not exist (looked at \(resolved))")
                }
                let lower = s.lowercased()
                if !(lower.hasSuffix(".csv") || lower.hasSuffix(".parquet")) {
                    r.error(p, "\(field).path", "expected a .csv or .parquet file")
                }
                spec.path = s
            }
            if let d = map["detector"] { spec.detector = r.nonEmptyString(d, "\(field).detector") }
            misplaced("model", "builtin"); misplaced("command", "process")
        case .package:
            spec.model = r.require(map, "model", in: node, field, hint: "a registered model: its name or content-hash prefix (gascli d push), or a package .zip or folder")
                .flatMap { r.nonEmptyString($0, "\(field).model") }
            if let p = map["python"] { spec.python = r.nonEmptyString(p, "\(field).python") }
            if let g = map["registry"] { spec.registry = r.nonEmptyString(g, "\(field).registry") }
            if let e = map["environment"], case let .mapping(env) = e {
                var vars: [String: String] = [:]
                for (k, v) in env {
                    if let key = k.scalar?.string, let value = r.string(v, "\(field).environment.\(key)") { vars[key] = value }
                }
                spec.environment = vars
            }
            misplaced("command", "process"); misplaced("path", "predictions"); misplaced("detector", "predictions")
        case nil:
            break
        }
        if adapter != .package {
            for key in ["python", "registry"] { misplaced(key, "package") }
        }
        guard name != nil, adapter != nil else { return nil }
        return spec
    }

    static func readScoring(_ node: Node, _ r: YAMLReader) -> ScoringRule? {
        guard let map = r.mapping(node, "scoring", allowed: ["rule", "alpha", "beta", "on_failure"]) else { return nil }
        var rule = ScoringRule()
        if let n = map["rule"], let s = r.string(n, "scoring.rule") {
            if s != "sn34" { r.error(n, "scoring.rule", "'\(s)' is not one of sn34") }
        }
        if let n = map["alpha"], let v = r.double(n, "scoring.alpha", min: 0, max: 100) { rule.parameters.alpha = v }
        if let n = map["beta"], let v = r.double(n, "scoring.beta", min: 0, max: 100) { rule.parameters.beta = v }
        if let n = map["on_failure"], let v = r.enumValue(n, "scoring.on_failure", FailurePolicy.self) { rule.onFailure = v }
        return rule
    }
}

/// Reads a scoring block from its own file (`gascli rescore --scoring FILE`): either a mapping
/// with a top-level `scoring:` key or the bare scoring mapping (`rule`, `alpha`, `beta`, `on_failure`).
public enum ScoringLoader {
    public static func load(path: String) throws -> ScoringRule {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: "the scoring file does not exist or is not UTF-8 text")])
        }
        let r = YAMLReader(file: path)
        var rule: ScoringRule?
        if let root = r.compose(text) {
            if case let .mapping(map) = root, map["scoring"] != nil {
                if let top = r.mapping(root, "", allowed: ["scoring"]), let node = top["scoring"] { rule = SpecLoader.readScoring(node, r) }
            } else {
                rule = SpecLoader.readScoring(root, r)
            }
        }
        guard let rule, !r.hasErrors else { throw SpecErrors(r.diagnostics) }
        return rule
    }
}
