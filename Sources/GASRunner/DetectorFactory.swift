import Foundation
import GASCore
import GASData
import GASDetectors
import GASParquet
import GASSpec
import GASStore

/// Turns detector specs into adapters and identifies what each will run (artifact hashes).
enum DetectorFactory {
    /// The bytes of a builtin model: a name of an embedded model, or a safetensors path.
    static func builtinWeights(_ model: String, loaded: LoadedSpec) throws -> (bytes: [UInt8], source: String) {
        if let embedded = EmbeddedModels.bytes(named: model) { return (embedded, "embedded:\(model)") }
        let path = loaded.resolve(model)
        guard model.hasSuffix(".safetensors") || model.contains("/") else {
            throw RunnerError.detectorSetup(name: model, reason: "unknown builtin model '\(model)'; available: \(EmbeddedModels.names.joined(separator: ", ")), or a path to a .safetensors file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunnerError.detectorSetup(name: model, reason: "weights file \(path) does not exist or is not readable")
        }
        return ([UInt8](data), path)
    }

    /// Every detector's artifact hash; a predictions file shared by several detectors is hashed once.
    static func artifactHashes(_ specs: [DetectorSpec], loaded: LoadedSpec) throws -> [String?] {
        var known: [String: String?] = [:]
        return try specs.map { spec in
            guard spec.adapter == .predictions else { return try artifactHash(spec, loaded: loaded) }
            let path = loaded.resolve(spec.path ?? "")
            if let hash = known[path] { return hash }
            let hash = try artifactHash(spec, loaded: loaded)
            known[path] = hash
            return hash
        }
    }

    static func artifactHash(_ spec: DetectorSpec, loaded: LoadedSpec) throws -> String? {
        switch spec.adapter {
        case .builtin:
            return MediaStore.sha256Hex(try builtinWeights(spec.model ?? "", loaded: loaded).bytes)
        case .predictions:
            let path = loaded.resolve(spec.path ?? "")
            // Streamed: a large predictions file is never read whole into memory.
            do {
                return try MediaStore.sha256(ofFile: path).sha256
            } catch {
                throw RunnerError.detectorSetup(name: spec.name, reason: "predictions file \(path) is not readable: \(DataError.reason(error))")
            }
        case .process:
            // Hash every argument that names an existing file (the script, model files), in order.
            let cwd = workingDirectory(spec, loaded: loaded)
            var parts: [String] = []
            for arg in spec.command ?? [] {
                let path = PathResolution.resolve(arg, against: cwd)
                var isDir: ObjCBool = false
                if !arg.isEmpty, FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                   let data = FileManager.default.contents(atPath: path) {
                    parts.append("\(arg)=\(MediaStore.sha256Hex(data))")
                }
            }
            return parts.isEmpty ? nil : MediaStore.sha256Hex(Array(parts.joined(separator: "\n").utf8))
        case .package:
            // The package's content hash: the same files are the same detector wherever they are.
            return try packageModel(spec, loaded: loaded).model.contentHash
        }
    }

    /// The registry a package detector reads: `registry:` (relative to the spec), else the default.
    static func registry(_ spec: DetectorSpec, loaded: LoadedSpec) throws -> ModelRegistry {
        let root = spec.registry.map { loaded.resolve($0) }
            ?? PathResolution.resolve(ModelRegistry.defaultRoot, against: FileManager.default.currentDirectoryPath)
        do {
            return try ModelRegistry(root: root, create: true)
        } catch {
            throw RunnerError.detectorSetup(name: spec.name, reason: "\(error)")
        }
    }

    /// A package detector's registered model and its folder. `model:` names a registered model
    /// (name or content-hash prefix) or a package zip/folder, which is validated and registered first.
    static func packageModel(_ spec: DetectorSpec, loaded: LoadedSpec) throws -> (model: RegisteredModel, directory: String) {
        let registry = try registry(spec, loaded: loaded)
        let reference = spec.model ?? ""
        let path = loaded.resolve(reference)
        do {
            let model: RegisteredModel
            if reference.lowercased().hasSuffix(".zip") || FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model_config.yaml")) {
                let package = try ModelPackage.validate(path: path)
                model = try ModelPackage.push(path: path, expected: package.config.modality, registry: registry).model
            } else {
                model = try registry.resolve(reference)
            }
            return (model, registry.directory(of: model))
        } catch let error as RunnerError {
            throw error
        } catch {
            throw RunnerError.detectorSetup(name: spec.name, reason: "\(error)")
        }
    }

    static func workingDirectory(_ spec: DetectorSpec, loaded: LoadedSpec) -> String {
        spec.workingDirectory.map { loaded.resolve($0) } ?? loaded.directory
    }

    /// `preloaded`: the predictions table when it was already read (see `PredictionsTable.preload`).
    static func make(_ spec: DetectorSpec, loaded: LoadedSpec, modalities: [Modality], logDirectory: String,
                     preloaded: PredictionTable? = nil) throws -> any DetectorAdapter {
        switch spec.adapter {
        case .builtin:
            let weights = try builtinWeights(spec.model ?? "", loaded: loaded)
            do {
                let tensors = try Safetensors(bytes: weights.bytes, file: weights.source)
                if tensors.metadata["format"] == BuiltinAudioBaseline.format {
                    return try BuiltinAudioBaseline(name: spec.name, weights: tensors)
                }
                return try BuiltinBaseline(name: spec.name, weights: tensors)
            } catch {
                throw RunnerError.detectorSetup(name: spec.name, reason: "\(error)")
            }
        case .package:
            let (model, directory) = try packageModel(spec, loaded: loaded)
            let host = (logDirectory as NSString).appendingPathComponent(EmbeddedHost.fileName)
            do {
                try (EmbeddedHost.script + "\n").write(toFile: host, atomically: true, encoding: .utf8)
            } catch {
                throw RunnerError.detectorSetup(name: spec.name, reason: "cannot write the package host to \(host): \(error)")
            }
            let config = ProcessDetectorConfig(
                name: spec.name, command: [spec.python ?? "python3", host, directory, "--config", model.configJSON],
                workingDirectory: directory, environment: spec.environment ?? [:], requiredModalities: [],
                batchTimeout: spec.timeoutSeconds, startupTimeout: max(60, spec.timeoutSeconds), maxRestarts: spec.maxRestarts,
                stderrLogPath: (logDirectory as NSString).appendingPathComponent("\(spec.name).stderr.log"),
                memoryLimitBytes: spec.memoryLimitMB.map { $0 * 1_048_576 })
            return ProcessDetector(config: config)
        case .process:
            // In a round of several modalities a detector may handle a subset: samples of the others
            // are skipped for it and left out of its metrics.
            let config = ProcessDetectorConfig(
                name: spec.name, command: spec.command ?? [], workingDirectory: workingDirectory(spec, loaded: loaded),
                environment: spec.environment ?? [:], requiredModalities: modalities.count == 1 ? modalities : [],
                batchTimeout: spec.timeoutSeconds, startupTimeout: max(30, spec.timeoutSeconds), maxRestarts: spec.maxRestarts,
                stderrLogPath: (logDirectory as NSString).appendingPathComponent("\(spec.name).stderr.log"),
                memoryLimitBytes: spec.memoryLimitMB.map { $0 * 1_048_576 })
            return ProcessDetector(config: config)
        case .predictions:
            let path = loaded.resolve(spec.path ?? "")
            do {
                let table = try preloaded ?? PredictionsTable.load(path: path, detector: spec.detector)
                return PredictionsFileDetector(name: spec.name, table: table, sourceName: path)
            } catch let error as RunnerError {
                throw error
            } catch {
                throw RunnerError.detectorSetup(name: spec.name, reason: "\(error)")
            }
        }
    }
}

/// Reads a predictions file (CSV or Parquet) into sample id -> probabilities.
enum PredictionsTable {
    static func load(path: String, detector: String?) throws -> PredictionTable {
        if path.lowercased().hasSuffix(".parquet") { return try loadParquet(path: path, detector: detector) }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RunnerError.detectorSetup(name: path, reason: "predictions file is missing or not UTF-8 text")
        }
        return PredictionTable(try parsePredictionsCSV(text: text, file: path))
    }

    /// Parquet with `sample_id` and `p_ai` (or `prob_ai`) columns; a run's predictions.parquet
    /// qualifies, with `detector` choosing whose rows to replay.
    static func loadParquet(path: String, detector: String?) throws -> PredictionTable {
        try loadParquet(path: path, selections: [detector])[0]
    }

    /// Reads the file once for several detectors' selections (`nil`: the file's only detector).
    static func loadParquet(path: String, selections: [String?]) throws -> [PredictionTable] {
        let reader = try ParquetReader(path: path)
        let names = reader.schema.columns.map(\.name)
        guard names.contains("sample_id"), let probColumn = ["p_ai", "prob_ai"].first(where: names.contains) else {
            throw RunnerError.detectorSetup(name: path, reason: "a predictions Parquet file needs columns sample_id and p_ai (found: \(names.joined(separator: ", ")))")
        }
        guard reader.schema.columns.contains(where: { $0.name == "sample_id" && $0.type == .byteArray && $0.logical == .string }) else {
            throw RunnerError.detectorSetup(name: path, reason: "column sample_id must be a string column")
        }
        let hasDetector = names.contains("detector")
        // A detector column that is not text names no detector on any row.
        let detectorsAsText = reader.schema.columns.contains { $0.name == "detector" && $0.type == .byteArray && $0.logical == .string }
        var tables = PredictionTables(count: selections.count, ids: reader.rowCount / max(1, selections.count))
        var seenDetectors: Set<String> = []
        for group in 0..<reader.rowGroupCount {
            // The ids are read as bytes in place (a string per row cost more than the table).
            let columns = try reader.readRowGroup(group, columns: [probColumn])
            let probs: [Double?]
            switch columns[0] {
            case let .double(v): probs = v
            case let .float(v): probs = v.map { $0.map(Double.init) }
            default: throw RunnerError.detectorSetup(name: path, reason: "column \(probColumn) must be float or double")
            }
            // The detector column as runs of rows naming the same detector (a file lists a
            // detector's rows together): a string per run, not per row.
            var runs: [(start: Int, detector: String?)] = []
            if hasDetector && detectorsAsText {
                var last: [UInt8]?, rows = 0
                try reader.forEachByteArray(inRowGroup: group, column: "detector") { row, bytes in
                    let same: Bool
                    switch (bytes, last) {
                    case (nil, nil): same = !runs.isEmpty
                    case let (bytes?, last?): same = last.withUnsafeBufferPointer { bytes.hasSameBytes(as: $0) }
                    default: same = false
                    }
                    if !same {
                        runs.append((row, bytes.map { String(decoding: $0, as: UTF8.self) }))
                        last = bytes.map(Array.init)
                    }
                    rows = row + 1
                }
                runs.append((rows, nil))  // rows past the column's (a damaged file) name none
            }
            // The tables a row goes to, worked out once per run of rows with the same detector. One
            // struct rather than several captured variables: Swift checks each captured variable for
            // exclusive access on every use, and the closure runs once a row.
            var routing = RowRouting(runs: runs, selections: selections, hasDetector: hasDetector)
            try reader.forEachByteArray(inRowGroup: group, column: "sample_id") { row, id in
                let targets = routing.targets(row: row)
                guard let id, row < probs.count, let p = probs[row] else { return }
                for t in targets where !tables.insert(bytes: id, probability: p, into: t) {
                    throw RunnerError.detectorSetup(name: path, reason: "sample_id \(String(decoding: id, as: UTF8.self)) appears more than once (a file with several detectors needs 'detector:' to choose one)")
                }
            }
            seenDetectors.formUnion(routing.seenDetectors)
        }
        for selection in selections {
            if let detector = selection, hasDetector, !seenDetectors.contains(detector) {
                throw RunnerError.detectorSetup(name: path, reason: "no rows for detector '\(detector)' (the file has: \(seenDetectors.sorted().joined(separator: ", ")))")
            }
            if selection == nil, seenDetectors.count > 1 {
                throw RunnerError.detectorSetup(name: path, reason: "the file holds predictions of several detectors (\(seenDetectors.sorted().joined(separator: ", "))); choose one with 'detector:'")
            }
        }
        return tables.finished()
    }

    /// Which tables each row of a predictions file's row group goes to, from the runs of rows that
    /// name one detector (`runs`: each run's first row and detector, rows in order).
    private struct RowRouting {
        let runs: [(start: Int, detector: String?)]
        let selections: [String?]
        let hasDetector: Bool
        private var nextRun = 0, detector: String?, lastDetector: String?? = .none
        private var current: [Int] = []
        private(set) var seenDetectors: Set<String> = []

        init(runs: [(start: Int, detector: String?)], selections: [String?], hasDetector: Bool) {
            self.runs = runs
            self.selections = selections
            self.hasDetector = hasDetector
        }

        mutating func targets(row: Int) -> [Int] {
            while nextRun < runs.count && runs[nextRun].start <= row {
                detector = runs[nextRun].detector
                nextRun += 1
            }
            if lastDetector != .some(detector) {
                current = selections.indices.filter { selections[$0] == nil || !hasDetector || selections[$0] == detector }
                lastDetector = .some(detector)
                if let detector { seenDetectors.insert(detector) }
            }
            return current
        }
    }

    /// Tables for predictions detectors that share a Parquet file, read in one pass (detector
    /// name -> table). Anything that fails here is left to each detector's own load, which
    /// reports it as that detector's setup failure.
    static func preload(_ specs: [DetectorSpec], loaded: LoadedSpec) -> [String: PredictionTable] {
        var byPath: [String: [DetectorSpec]] = [:]
        for spec in specs where spec.adapter == .predictions {
            let path = loaded.resolve(spec.path ?? "")
            if path.lowercased().hasSuffix(".parquet") { byPath[path, default: []].append(spec) }
        }
        var result: [String: PredictionTable] = [:]
        for (path, group) in byPath where group.count > 1 {
            guard let tables = try? loadParquet(path: path, selections: group.map(\.detector)) else { continue }
            for (spec, table) in zip(group, tables) { result[spec.name] = table }
        }
        FreedMemory.release()  // what reading and renumbering the tables left in this thread's arena
        return result
    }
}
