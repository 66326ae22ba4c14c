import Foundation
import GRDB

/// A model package as registered by `gascli discriminator push`.
public struct RegisteredModel: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "models"

    /// sha256 over the package's sorted (path, sha256 of bytes) list: the same files give the same
    /// hash whatever zip tool, file order or timestamps packed them.
    public var contentHash: String
    public var name: String
    public var version: String?
    public var modality: String
    /// The file pushed (as given) and the sha256 of its bytes.
    public var sourceFile: String
    public var sourceSHA256: String
    public var sizeBytes: Int
    public var fileCount: Int
    public var tensorCount: Int
    public var parameterCount: Int
    public var configJSON: String
    public var pushedAt: String

    enum CodingKeys: String, CodingKey {
        case name, version, modality
        case contentHash = "content_hash", sourceFile = "source_file", sourceSHA256 = "source_sha256"
        case sizeBytes = "size_bytes", fileCount = "file_count", tensorCount = "tensor_count"
        case parameterCount = "parameter_count", configJSON = "config_json", pushedAt = "pushed_at"
    }

    public init(contentHash: String, name: String, version: String?, modality: String, sourceFile: String, sourceSHA256: String,
                sizeBytes: Int, fileCount: Int, tensorCount: Int, parameterCount: Int, configJSON: String, pushedAt: String) {
        self.contentHash = contentHash
        self.name = name
        self.version = version
        self.modality = modality
        self.sourceFile = sourceFile
        self.sourceSHA256 = sourceSHA256
        self.sizeBytes = sizeBytes
        self.fileCount = fileCount
        self.tensorCount = tensorCount
        self.parameterCount = parameterCount
        self.configJSON = configJSON
        self.pushedAt = pushedAt
    }
}

public enum RegistryError: Error, Sendable, CustomStringConvertible {
    case notFound(reference: String, registry: String, known: [String])
    case ambiguous(reference: String, matches: [String])
    case storage(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(reference, registry, known):
            let list = known.isEmpty ? "the registry is empty; push a package with 'gascli d push --image-model FILE.zip'" : "registered: \(known.joined(separator: ", "))"
            return "no model '\(reference)' in the registry \(registry); \(list)"
        case let .ambiguous(reference, matches):
            return "'\(reference)' matches several models (\(matches.joined(separator: ", "))); use a longer content-hash prefix"
        case let .storage(path, reason):
            return "model registry \(path): \(reason)"
        }
    }
}

/// The model registry: a folder with one sub-folder per package (`packages/<content hash>/`,
/// the validated files exactly as pushed) and `registry.sqlite` with one row per package.
public final class ModelRegistry: Sendable {
    public let root: String
    private let queue: DatabaseQueue

    /// Default location: `GASCLI_REGISTRY`, else `registry` in the current directory.
    public static var defaultRoot: String {
        if let r = ProcessInfo.processInfo.environment["GASCLI_REGISTRY"], !r.isEmpty { return r }
        return "registry"
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-models") { db in
            try db.execute(sql: """
                CREATE TABLE models (
                    content_hash TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    version TEXT,
                    modality TEXT NOT NULL CHECK (modality IN ('image', 'video', 'audio')),
                    source_file TEXT NOT NULL,
                    source_sha256 TEXT NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    file_count INTEGER NOT NULL,
                    tensor_count INTEGER NOT NULL,
                    parameter_count INTEGER NOT NULL,
                    config_json TEXT NOT NULL,
                    pushed_at TEXT NOT NULL
                );
                CREATE INDEX models_name ON models(name);
                """)
        }
        return m
    }

    public init(root: String, create: Bool) throws {
        self.root = root
        let fm = FileManager.default
        let db = (root as NSString).appendingPathComponent("registry.sqlite")
        if !create && !fm.fileExists(atPath: db) {
            throw RegistryError.notFound(reference: "", registry: root, known: [])
        }
        do {
            try fm.createDirectory(atPath: (root as NSString).appendingPathComponent("packages"), withIntermediateDirectories: true)
            queue = try DatabaseQueue(path: db)
            try Self.migrator.migrate(queue)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.storage(path: root, reason: "\(error)")
        }
    }

    public func directory(of model: RegisteredModel) -> String {
        ((root as NSString).appendingPathComponent("packages") as NSString).appendingPathComponent(model.contentHash)
    }

    /// Stores the files (relative paths already validated) under `packages/<hash>/` and records the
    /// row. Pushing the same content again changes nothing and returns the existing row.
    public func register(_ model: RegisteredModel, files: [(path: String, bytes: [UInt8])]) throws -> (model: RegisteredModel, added: Bool) {
        if let existing = try queue.read({ try RegisteredModel.fetchOne($0, key: model.contentHash) }),
           FileManager.default.fileExists(atPath: directory(of: existing)) {
            return (existing, false)
        }
        let fm = FileManager.default
        let target = directory(of: model)
        let staging = target + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? fm.removeItem(atPath: staging)
        do {
            for file in files {
                let path = (staging as NSString).appendingPathComponent(file.path)
                try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard fm.createFile(atPath: path, contents: Data(file.bytes), attributes: [.posixPermissions: 0o644]) else {
                    throw RegistryError.storage(path: path, reason: "cannot write (check free space and permissions)")
                }
            }
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            try fm.moveItem(atPath: staging, toPath: target)
            try queue.write { db in try model.save(db) }
        } catch let error as RegistryError {
            try? fm.removeItem(atPath: staging)
            throw error
        } catch {
            try? fm.removeItem(atPath: staging)
            throw RegistryError.storage(path: target, reason: "\(error)")
        }
        return (model, true)
    }

    public func all() throws -> [RegisteredModel] {
        try queue.read { try RegisteredModel.order(Column("pushed_at"), Column("content_hash")).fetchAll($0) }
    }

    /// A model by full content hash, unique hash prefix (8+ characters), or name (the most
    /// recently pushed package of that name).
    public func resolve(_ reference: String) throws -> RegisteredModel {
        let models = try all()
        if let exact = models.first(where: { $0.contentHash == reference }) { return exact }
        if reference.count >= 8 {
            let prefixed = models.filter { $0.contentHash.hasPrefix(reference.lowercased()) }
            if prefixed.count == 1 { return prefixed[0] }
            if prefixed.count > 1 { throw RegistryError.ambiguous(reference: reference, matches: prefixed.map { String($0.contentHash.prefix(16)) }) }
        }
        if let named = models.last(where: { $0.name == reference }) { return named }
        throw RegistryError.notFound(reference: reference, registry: root,
                                     known: models.map { "\($0.name) (\($0.contentHash.prefix(12)))" })
    }
}
