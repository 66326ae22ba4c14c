/// The kind of media a sample or detector deals with.
public enum Modality: String, Codable, Sendable, CaseIterable, Comparable {
    case image, video, audio
    public static func < (a: Modality, b: Modality) -> Bool { a.rawValue < b.rawValue }
}

/// How a piece of media came to be. Decides the binary label (gasbench `MEDIA_TYPE_TO_LABEL`).
public enum MediaType: String, Codable, Sendable, CaseIterable {
    case real, synthetic, semisynthetic

    /// 0 = real, 1 = AI-generated (synthetic or semisynthetic).
    public var label: Int { self == .real ? 0 : 1 }
}

/// Where a sample entered the round from. Breakdowns and generator rewards key on it.
public enum SourceKind: String, Codable, Sendable, CaseIterable {
    /// A catalog dataset.
    case real
    /// Made locally by a builtin generator.
    case synthetic
    /// Delivered by a generator miner.
    case generator
}

/// Every planned (sample, detector) pair ends in exactly one of these.
public enum OutcomeStatus: String, Codable, Sendable, CaseIterable {
    case ok, error, timeout, skipped
}

/// One sample handed to a detector: the media is a file on disk.
public struct DetectorInput: Sendable, Hashable {
    public var sampleID: String
    public var path: String
    public var modality: Modality
    public var seed: UInt64
    public init(sampleID: String, path: String, modality: Modality, seed: UInt64) {
        self.sampleID = sampleID
        self.path = path
        self.modality = modality
        self.seed = seed
    }
}

/// What a detector said about one sample: class probabilities, or why it could not answer.
public enum DetectorResult: Sendable, Equatable {
    case probabilities([Double])
    case failure(OutcomeStatus, String)
}

/// The handshake a detector answers with, so the runner can refuse a mismatched detector early.
public struct DetectorHello: Sendable, Equatable {
    public var name: String?
    public var protocolVersion: Int
    public var modalities: [Modality]
    public init(name: String?, protocolVersion: Int, modalities: [Modality]) {
        self.name = name
        self.protocolVersion = protocolVersion
        self.modalities = modalities
    }
}

/// The seam between the runner and every kind of detector (builtin, process, http, predictions file).
public protocol DetectorAdapter: Sendable {
    func start() async throws -> DetectorHello
    /// Always returns exactly one result per input, in input order. Never throws: failures become `.failure` results.
    func predict(_ batch: [DetectorInput]) async -> [DetectorResult]
    func stop() async
    /// Whether the time a batch takes says something about the detector. A predictions table
    /// answers by lookup: its outcomes record latency 0, so replaying it, sharded or not, gives
    /// byte-identical predictions files.
    var measuresLatency: Bool { get }
    /// Whether the detector opens the samples' media. A predictions table answers by sample id
    /// alone: its inputs carry no path, which spares building a million path strings per detector.
    var readsMedia: Bool { get }
}

extension DetectorAdapter {
    public var measuresLatency: Bool { true }
    public var readsMedia: Bool { true }
}
