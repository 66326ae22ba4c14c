/// One sample of a plan: what it is, where its bytes are, and how it must be labelled.
///
/// Identity is the source URI plus the sha256 of the bytes (`id` is derived from both), so two
/// different files never share an id and the same file is the same sample on every machine.
public struct PlannedSample: Codable, Sendable, Hashable {
    public var id: String
    public var uri: String
    public var sha256: String
    public var byteCount: Int
    public var dataset: String
    public var sourceKind: SourceKind
    public var mediaType: MediaType
    public var modality: Modality
    public var label: Int
    public var seed: UInt64
    /// File extension of the stored media (png, jpg, ...).
    public var format: String
    /// Path of the stored bytes relative to the outputs directory (`media/ab/abcd….png`).
    /// Not part of the manifest hash: it depends on nothing but sha256 and format.
    public var mediaPath: String
    /// Set when the runner cannot hand the sample to detectors (unreadable image, unsupported format).
    public var skipReason: String?
    public var generatorFamily: String?

    public init(id: String, uri: String, sha256: String, byteCount: Int, dataset: String, sourceKind: SourceKind,
                mediaType: MediaType, modality: Modality, seed: UInt64, format: String, mediaPath: String,
                skipReason: String? = nil, generatorFamily: String? = nil) {
        self.id = id
        self.uri = uri
        self.sha256 = sha256
        self.byteCount = byteCount
        self.dataset = dataset
        self.sourceKind = sourceKind
        self.mediaType = mediaType
        self.modality = modality
        self.label = mediaType.label
        self.seed = seed
        self.format = format
        self.mediaPath = mediaPath
        self.skipReason = skipReason
        self.generatorFamily = generatorFamily
    }

    enum CodingKeys: String, CodingKey {
        case id, uri, sha256, dataset, modality, label, seed, format
        case byteCount = "bytes", sourceKind = "source_kind", mediaType = "media_type"
        case mediaPath = "media_path", skipReason = "skip_reason", generatorFamily = "generator_family"
    }
}

/// Per-sample seeds: derived from the round seed and the sample id only, so a sample keeps its
/// seed whatever else is in the round.
public enum SampleSeed {
    public static func derive(roundSeed: UInt64, sampleID: String) -> UInt64 {
        var g = SplitMix64(seed: roundSeed, label: "sample:" + sampleID)
        return g.next() >> 1  // 63 bits: survives SQLite's signed INTEGER and JSON readers.
    }
}
