import Foundation
import GASCore
import GASStore

/// The registry as the `gascli discriminator` commands see it.
public struct DiscriminatorRegistry {
    public struct Pushed: Sendable {
        public var name: String
        public var contentHash: String
        public var added: Bool
        public var files: Int
        public var bytes: Int
        public var tensors: Int
        public var parameters: Int
        public var directory: String
        public var warnings: [String]
    }

    public struct Listed: Sendable {
        public var name: String
        public var modality: String
        public var version: String?
        public var contentHash: String
        public var bytes: Int
        public var pushedAt: String
    }

    let registry: ModelRegistry

    public init(root: String?) throws {
        registry = try ModelPerformance.openRegistry(root)
    }

    public func push(path: String, modality: String, maxMegabytes: Int) throws -> Pushed {
        guard let m = Modality(rawValue: modality) else { throw PackageError.invalid(file: path, problem: "unknown modality \(modality)") }
        let limits = ModelPackage.Limits(maxBytes: maxMegabytes << 20)
        let r = try ModelPackage.push(path: PathResolutionShim.absolute(path), expected: m, registry: registry, limits: limits)
        return Pushed(name: r.model.name, contentHash: r.model.contentHash, added: r.added, files: r.model.fileCount, bytes: r.model.sizeBytes,
                      tensors: r.model.tensorCount, parameters: r.model.parameterCount, directory: registry.directory(of: r.model),
                      warnings: r.package.warnings)
    }

    public func list() throws -> [Listed] {
        try registry.all().map { Listed(name: $0.name, modality: $0.modality, version: $0.version, contentHash: $0.contentHash,
                                        bytes: $0.sizeBytes, pushedAt: $0.pushedAt) }
    }
}
