import Crypto
import Foundation
import GASCore
import GASSpec

/// A detector as frozen in a plan: its spec plus the hash of what it will run.
public struct PlannedDetector: Codable, Sendable, Hashable {
    public var spec: DetectorSpec
    /// sha256 over the detector's artifacts: builtin weights, the files a process command names,
    /// or the predictions file. nil when nothing on disk identifies it (a bare system command).
    public var artifactSHA256: String?

    public init(spec: DetectorSpec, artifactSHA256: String?) {
        self.spec = spec
        self.artifactSHA256 = artifactSHA256
    }

    enum CodingKeys: String, CodingKey {
        case spec
        case artifactSHA256 = "artifact_sha256"
    }
}

/// Everything a run will do, decided before anything runs. Its canonical JSON hashes to the
/// manifest hash: same spec + same data = same hash on any machine.
public struct RunPlan: Codable, Sendable {
    public static let schemaVersion = 1

    public var schemaVersion: Int
    public var toolVersion: String
    public var spec: RoundSpec
    public var samples: [PlannedSample]
    public var detectors: [PlannedDetector]
    /// Catalog datasets the round matched but could not read, with the reason (nil when none, so
    /// plans without skipped datasets hash as before).
    public var skippedDatasets: [SkippedDataset]? = nil

    public init(schemaVersion: Int, toolVersion: String, spec: RoundSpec, samples: [PlannedSample], detectors: [PlannedDetector],
                skippedDatasets: [SkippedDataset]? = nil) {
        self.schemaVersion = schemaVersion
        self.toolVersion = toolVersion
        self.spec = spec
        self.samples = samples
        self.detectors = detectors
        self.skippedDatasets = skippedDatasets
    }

    enum CodingKeys: String, CodingKey {
        case spec, samples, detectors
        case skippedDatasets = "skipped_datasets"
        case schemaVersion = "schema_version", toolVersion = "tool_version"
    }

    /// Sorted keys, no whitespace, slashes unescaped: the bytes that are hashed (see ManifestJSON).
    public func canonicalJSON() throws -> Data {
        var data = Data()
        try ManifestJSON.write(self) { data.append(contentsOf: $0) }
        return data
    }

    /// sha256 of the canonical JSON, streamed (the JSON is never held whole), its samples written on all cores.
    public func manifestHash() throws -> String {
        var hasher = SHA256()
        try ManifestJSON.write(self, onAllCores: true) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The same hash, the JSON also written to `path` as it is hashed (the file is removed if
    /// that fails): the manifest is serialised once, not again for the file.
    public func manifestHash(writingTo path: String, onAllCores: Bool = true) throws -> String {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RunnerError.outputs(path: path, reason: "cannot create the file")
        }
        var hasher = SHA256()
        // Written on another thread while this one hashes (see WriteBehindFile).
        let file = WriteBehindFile(handle: handle)
        do {
            try ManifestJSON.write(self, onAllCores: onAllCores) { chunk in
                hasher.update(bufferPointer: chunk)
                try file.write(chunk)
            }
            try file.finish()
            try handle.close()
        } catch {
            try? file.finish()
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

public enum ToolInfo {
    public static let version = "0.1.0"
}
