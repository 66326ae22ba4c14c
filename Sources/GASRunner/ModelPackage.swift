import Crypto
import Foundation
import GASCore
import GASDetectors
import GASMedia
import GASSpec
import GASStore

/// A GAS model package (the format miners submit: `model_config.yaml`, `model.py`, `*.safetensors`)
/// checked file by file before anything of it is stored or run.
public struct ValidatedPackage: Sendable {
    public struct File: Sendable {
        public var path: String
        public var sha256: String
        public var bytes: [UInt8]
    }

    public var source: String
    public var sourceSHA256: String
    public var config: ModelConfig
    /// Sorted by path.
    public var files: [File]
    public var contentHash: String
    public var tensorCount: Int
    public var parameterCount: Int
    public var warnings: [String]

    public var totalBytes: Int { files.reduce(0) { $0 + $1.bytes.count } }
}

public enum PackageError: Error, Sendable, CustomStringConvertible {
    case invalid(file: String, problem: String)

    public var description: String {
        switch self {
        case let .invalid(file, problem): "\(file): \(problem)"
        }
    }
}

public enum ModelPackage {
    /// Bounds on an untrusted package.
    public struct Limits: Sendable {
        /// Largest package (the zip file, and the sum of its expanded files).
        public var maxBytes: Int = 2 << 30
        public var maxFiles: Int = 256
        /// Most bytes expanded per byte of zip (weights barely compress; a high ratio is a bomb).
        public var maxCompressionRatio: Double = 50
        public init(maxBytes: Int = 2 << 30, maxFiles: Int = 256, maxCompressionRatio: Double = 50) {
            self.maxBytes = maxBytes
            self.maxFiles = maxFiles
            self.maxCompressionRatio = maxCompressionRatio
        }
    }

    /// Files that run code when loaded (pickles) or are native code: a GAS package carries its
    /// weights as safetensors and its code as Python source only.
    static let forbiddenExtensions = [".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".so", ".dylib", ".dll", ".pyd", ".exe", ".npy", ".npz", ".joblib", ".onnx"]
    static let ignoredNames = ["__MACOSX", ".DS_Store"]

    /// Validates a package zip (or, for development, a folder): safe entries, size and ratio
    /// limits, the required files, a parseable `model_config.yaml`, and every safetensors header.
    public static func validate(path: String, limits: Limits = Limits()) throws -> ValidatedPackage {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PackageError.invalid(file: path, problem: "does not exist")
        }
        var raw: [(path: String, bytes: [UInt8])] = []
        let sourceHash: String
        if isDirectory.boolValue {
            raw = try readFolder(path, limits: limits)
            sourceHash = contentHash(raw.map { ($0.path, sha256($0.bytes)) })
        } else {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? Int) ?? 0
            guard size <= limits.maxBytes else {
                throw PackageError.invalid(file: path, problem: "the package is \(size) bytes, above the \(limits.maxBytes)-byte limit")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PackageError.invalid(file: path, problem: "cannot be read")
            }
            sourceHash = sha256([UInt8](data))
            let archiveLimits = ArchiveLimits(maxEntries: limits.maxFiles * 4, maxEntryBytes: limits.maxBytes, maxTotalBytes: limits.maxBytes,
                                              maxCompressionRatio: limits.maxCompressionRatio, ratioGraceBytes: 1 << 20)
            do {
                let reader = try ArchiveReader(path: path, limits: archiveLimits)
                try reader.forEachEntry { entry, readData in
                    guard entry.kind == .regular else { return }
                    raw.append((entry.path, try readData()))
                }
            } catch let error as MediaError {
                throw PackageError.invalid(file: path, problem: "rejected: \(error.description)")
            }
        }
        var warnings: [String] = []
        raw.removeAll { file in
            let ignored = file.path.split(separator: "/").contains { ignoredNames.contains(String($0)) }
            if ignored { warnings.append("ignored \(file.path)") }
            return ignored
        }
        // A zip of a folder: every file under one top-level folder and no config at the root.
        let tops = Set(raw.map { $0.path.split(separator: "/").first.map(String.init) ?? "" })
        if tops.count == 1, let top = tops.first, !raw.contains(where: { $0.path == "model_config.yaml" }),
           raw.allSatisfy({ $0.path.hasPrefix(top + "/") }) {
            raw = raw.map { (String($0.path.dropFirst(top.count + 1)), $0.bytes) }
        }
        guard raw.count <= limits.maxFiles else {
            throw PackageError.invalid(file: path, problem: "\(raw.count) files, above the limit of \(limits.maxFiles)")
        }
        var seen: Set<String> = []
        for file in raw {
            guard seen.insert(file.path).inserted else { throw PackageError.invalid(file: path, problem: "'\(file.path)' appears twice") }
            let lower = file.path.lowercased()
            if let ext = forbiddenExtensions.first(where: { lower.hasSuffix($0) }) {
                throw PackageError.invalid(file: path, problem: "'\(file.path)' is a \(ext) file: packages carry weights as .safetensors and code as Python source only (pickles and native code can run arbitrary code when loaded)")
            }
        }
        let byPath = Dictionary(uniqueKeysWithValues: raw.map { ($0.path, $0.bytes) })
        let listing = raw.map(\.path).sorted().prefix(12).joined(separator: ", ")
        guard let configBytes = byPath["model_config.yaml"] else {
            throw PackageError.invalid(file: path, problem: "no model_config.yaml at the package root (found: \(listing.isEmpty ? "nothing" : listing))")
        }
        guard let configText = String(bytes: configBytes, encoding: .utf8) else {
            throw PackageError.invalid(file: path + ":model_config.yaml", problem: "not UTF-8 text")
        }
        let config: ModelConfig
        do {
            config = try ModelConfig.parse(text: configText, file: path + ":model_config.yaml")
        } catch {
            throw PackageError.invalid(file: path, problem: "\(error)")
        }
        guard let code = byPath["model.py"] else {
            throw PackageError.invalid(file: path, problem: "no model.py at the package root (found: \(listing))")
        }
        guard String(bytes: code, encoding: .utf8) != nil else {
            throw PackageError.invalid(file: path + ":model.py", problem: "not UTF-8 text")
        }
        guard byPath[config.weightsFile] != nil else {
            throw PackageError.invalid(file: path, problem: "model_config.yaml names weights_file '\(config.weightsFile)', which is not in the package (found: \(listing))")
        }
        var tensors = 0, parameters = 0
        for file in raw where file.path.lowercased().hasSuffix(".safetensors") {
            let name = path + ":" + file.path
            do {
                let weights = try Safetensors(bytes: file.bytes, file: name)
                try weights.checkLayout(file: name)
                tensors += weights.tensors.count
                parameters += weights.parameterCount
            } catch let SafetensorsError.invalid(_, reason) {
                throw PackageError.invalid(file: name, problem: "not a valid safetensors file: \(reason)")
            } catch {
                throw PackageError.invalid(file: name, problem: "\(error)")
            }
        }
        let files = raw.map { ValidatedPackage.File(path: $0.path, sha256: sha256($0.bytes), bytes: $0.bytes) }.sorted { $0.path < $1.path }
        return ValidatedPackage(source: path, sourceSHA256: sourceHash, config: config, files: files,
                                contentHash: contentHash(files.map { ($0.path, $0.sha256) }), tensorCount: tensors,
                                parameterCount: parameters, warnings: warnings)
    }

    static func readFolder(_ root: String, limits: Limits) throws -> [(path: String, bytes: [UInt8])] {
        var result: [(String, [UInt8])] = []
        var total = 0
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw PackageError.invalid(file: root, problem: "cannot list the folder")
        }
        while let item = walker.nextObject() as? String {
            let full = (root as NSString).appendingPathComponent(item)
            let attributes = try FileManager.default.attributesOfItem(atPath: full)
            let type = attributes[.type] as? FileAttributeType
            if type == .typeDirectory { continue }
            guard type == .typeRegular else {
                throw PackageError.invalid(file: full, problem: type == .typeSymbolicLink ? "is a symbolic link; packages hold regular files only" : "is not a regular file")
            }
            guard let data = FileManager.default.contents(atPath: full) else { throw PackageError.invalid(file: full, problem: "cannot be read") }
            total += data.count
            guard total <= limits.maxBytes else { throw PackageError.invalid(file: root, problem: "the package is larger than the \(limits.maxBytes)-byte limit") }
            result.append((item, [UInt8](data)))
        }
        return result
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// sha256 over "path\0sha256\n" lines sorted by path.
    static func contentHash(_ files: [(String, String)]) -> String {
        sha256(Array(files.sorted { $0.0 < $1.0 }.map { "\($0.0)\u{0}\($0.1)\n" }.joined().utf8))
    }

    /// Validates and registers a package; `expected` is the modality of the push flag used.
    public static func push(path: String, expected: Modality, registry: ModelRegistry, limits: Limits = Limits(),
                            now: Date = Date()) throws -> (model: RegisteredModel, added: Bool, package: ValidatedPackage) {
        let package = try validate(path: path, limits: limits)
        guard package.config.modality == expected else {
            throw PackageError.invalid(file: path, problem: "model_config.yaml says modality '\(package.config.modality.rawValue)' but it was pushed with --\(expected.rawValue)-model")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let configJSON = String(decoding: try encoder.encode(package.config), as: UTF8.self)
        let formatter = ISO8601DateFormatter()
        let model = RegisteredModel(contentHash: package.contentHash, name: package.config.name, version: package.config.version,
                                    modality: package.config.modality.rawValue, sourceFile: path, sourceSHA256: package.sourceSHA256,
                                    sizeBytes: package.totalBytes, fileCount: package.files.count, tensorCount: package.tensorCount,
                                    parameterCount: package.parameterCount, configJSON: configJSON, pushedAt: formatter.string(from: now))
        let result = try registry.register(model, files: package.files.map { ($0.path, $0.bytes) })
        return (result.model, result.added, package)
    }
}
