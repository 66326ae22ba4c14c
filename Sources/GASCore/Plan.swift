/// One sample of a plan: what it is, where its bytes are, and how it must be labelled.
///
/// Identity is the source URI plus the sha256 of the bytes (`id` is derived from both), so two
/// different files never share an id and the same file is the same sample on every machine.
public struct PlannedSample: Codable, Sendable, Hashable {
    public var id: String
    /// The source URI, kept as a head shared with the other samples of its file and a short tail
    /// (see `SampleURI`); `uri` is its text.
    public var sampleURI: SampleURI
    public var uri: String {
        get { sampleURI.description }
        set { sampleURI = SampleURI(newValue) }
    }
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
        self.init(id: id, sampleURI: SampleURI(uri), sha256: sha256, byteCount: byteCount, dataset: dataset, sourceKind: sourceKind,
                  mediaType: mediaType, modality: modality, seed: seed, format: format, mediaPath: mediaPath,
                  skipReason: skipReason, generatorFamily: generatorFamily)
    }

    public init(id: String, sampleURI: SampleURI, sha256: String, byteCount: Int, dataset: String, sourceKind: SourceKind,
                mediaType: MediaType, modality: Modality, seed: UInt64, format: String, mediaPath: String,
                skipReason: String? = nil, generatorFamily: String? = nil) {
        self.id = id
        self.sampleURI = sampleURI
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

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        sampleURI = SampleURI(try c.decode(String.self, forKey: .uri))
        sha256 = try c.decode(String.self, forKey: .sha256)
        byteCount = try c.decode(Int.self, forKey: .byteCount)
        dataset = try c.decode(String.self, forKey: .dataset)
        sourceKind = try c.decode(SourceKind.self, forKey: .sourceKind)
        mediaType = try c.decode(MediaType.self, forKey: .mediaType)
        modality = try c.decode(Modality.self, forKey: .modality)
        label = try c.decode(Int.self, forKey: .label)
        seed = try c.decode(UInt64.self, forKey: .seed)
        format = try c.decode(String.self, forKey: .format)
        mediaPath = try c.decode(String.self, forKey: .mediaPath)
        skipReason = try c.decodeIfPresent(String.self, forKey: .skipReason)
        generatorFamily = try c.decodeIfPresent(String.self, forKey: .generatorFamily)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(uri, forKey: .uri)
        try c.encode(sha256, forKey: .sha256)
        try c.encode(byteCount, forKey: .byteCount)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(sourceKind, forKey: .sourceKind)
        try c.encode(mediaType, forKey: .mediaType)
        try c.encode(modality, forKey: .modality)
        try c.encode(label, forKey: .label)
        try c.encode(seed, forKey: .seed)
        try c.encode(format, forKey: .format)
        try c.encode(mediaPath, forKey: .mediaPath)
        try c.encodeIfPresent(skipReason, forKey: .skipReason)
        try c.encodeIfPresent(generatorFamily, forKey: .generatorFamily)
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
