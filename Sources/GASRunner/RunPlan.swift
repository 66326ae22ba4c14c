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

    enum CodingKeys: String, CodingKey {
        case spec, samples, detectors
        case skippedDatasets = "skipped_datasets"
        case schemaVersion = "schema_version", toolVersion = "tool_version"
    }

    /// Sorted keys, no whitespace, slashes unescaped: the bytes that are hashed.
    public func canonicalJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public func manifestHash() throws -> String {
        SHA256.hash(data: try canonicalJSON()).map { String(format: "%02x", $0) }.joined()
    }
}

public enum ToolInfo {
    public static let version = "0.1.0"
}
