/// One sample of a plan: what it is, where its bytes are, and how it must be labelled.
///
/// Identity is the source URI plus the sha256 of the bytes (`id` is derived from both), so two
/// different files never share an id and the same file is the same sample on every machine.
///
/// A plan holds one of these per sample for the whole run, so it is kept small: 112 bytes inline
/// and, usually, nothing on the heap of its own. The id and sha256 are kept as their 12 and 32
/// bytes, the media path is derived from the sha256 (`media/ab/<sha256>.<ext>`), the URI's head is
/// shared with its file's samples, the dataset name and format are numbers in a pool of names
/// (`SharedNames`), and the fields most samples leave empty share one optional box. Values that
/// do not fit that form (an id or sha256 that is not lowercase hex of that length, a media path
/// elsewhere, a name when the pool is full) are kept as given, so every property reads back
/// exactly what was set.
public struct PlannedSample: Sendable, Hashable {
    /// The id's 12 bytes when it is 24 lowercase hex digits (as `SampleCollector` makes them); zero
    /// when its text is kept in `rare`.
    var packedID: PackedSampleID
    var labelValue: Int32
    /// The source URI, kept as a head shared with the other samples of its file and a short tail
    /// (see `SampleURI`); `uri` is its text.
    public var sampleURI: SampleURI
    public var uri: String {
        get { sampleURI.description }
        set { sampleURI = SampleURI(newValue) }
    }
    /// The sha256's bytes when it is 64 lowercase hex digits; zero when its text is kept in `rare`.
    var digest: PackedSHA256
    public var byteCount: Int
    public var seed: UInt64
    var rare: RareSampleFields?
    /// `SharedNames` numbers of the dataset name and the format; `SharedNames.unpooled` when the
    /// text is kept in `rare`.
    var datasetCode: UInt16
    var formatCode: UInt16
    public var sourceKind: SourceKind
    public var mediaType: MediaType
    public var modality: Modality

    /// Name of the catalog dataset (or generator) the sample comes from.
    public var dataset: String {
        get { SharedNames.name(datasetCode) ?? rare?.dataset ?? "" }
        set { store(id: id, sha256: sha256, format: format, mediaPath: mediaPath, skipReason: skipReason, generatorFamily: generatorFamily, dataset: newValue) }
    }

    public var id: String {
        get { rare?.id ?? packedID.hex }
        set { store(id: newValue, sha256: sha256, format: format, mediaPath: mediaPath, skipReason: skipReason, generatorFamily: generatorFamily, dataset: dataset) }
    }

    public var sha256: String {
        get { rare?.sha256 ?? digest.hex }
        set { store(id: id, sha256: newValue, format: format, mediaPath: mediaPath, skipReason: skipReason, generatorFamily: generatorFamily, dataset: dataset) }
    }

    /// File extension of the stored media (png, jpg, ...).
    public var format: String {
        get { SharedNames.name(formatCode) ?? rare?.format ?? "" }
        set { store(id: id, sha256: sha256, format: newValue, mediaPath: mediaPath, skipReason: skipReason, generatorFamily: generatorFamily, dataset: dataset) }
    }

    /// Path of the stored bytes relative to the outputs directory (`media/ab/abcd….png`).
    /// Not part of the manifest hash: it depends on nothing but sha256 and format.
    public var mediaPath: String {
        get { rare?.mediaPath ?? Self.storePath(sha256: digest.hex, format: format) }
        set { store(id: id, sha256: sha256, format: format, mediaPath: newValue, skipReason: skipReason, generatorFamily: generatorFamily, dataset: dataset) }
    }

    /// Equal for samples whose media is the same stored file (same `mediaPath`), made without
    /// writing the path out: a plan checks each blob once this way.
    public struct MediaKey: Hashable, Sendable {
        fileprivate let digest: PackedSHA256
        fileprivate let formatCode: UInt16
        fileprivate let format: String?
        fileprivate let path: String?
    }

    public var mediaKey: MediaKey {
        MediaKey(digest: digest, formatCode: formatCode, format: rare?.format, path: rare?.mediaPath)
    }

    /// The label as recorded: the media type's, unless a ledger being audited says otherwise.
    public var label: Int {
        get { Int(labelValue) }
        set { labelValue = Int32(clamping: newValue) }
    }

    /// Set when the runner cannot hand the sample to detectors (unreadable image, unsupported format).
    public var skipReason: String? {
        get { rare?.skipReason }
        set { store(id: id, sha256: sha256, format: format, mediaPath: mediaPath, skipReason: newValue, generatorFamily: generatorFamily, dataset: dataset) }
    }

    public var generatorFamily: String? {
        get { rare?.generatorFamily }
        set { store(id: id, sha256: sha256, format: format, mediaPath: mediaPath, skipReason: skipReason, generatorFamily: newValue, dataset: dataset) }
    }

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
        self.init(sampleURI: sampleURI, byteCount: byteCount, sourceKind: sourceKind, mediaType: mediaType, modality: modality, seed: seed)
        store(id: id, sha256: sha256, format: format, mediaPath: mediaPath, skipReason: skipReason, generatorFamily: generatorFamily,
              dataset: dataset)
    }

    /// A sample whose media is the media store's own blob (`media/ab/<sha256>.<format>`), made
    /// from the bytes of its id (the first 12 of the id's digest) and of its media's sha256 (32).
    /// Planning makes one per row read, and text for either would be written only to be parsed
    /// back; the sample equals the one made from their lowercase hex.
    public init(idDigest: UnsafeRawBufferPointer, sampleURI: SampleURI, sha256Digest: UnsafeRawBufferPointer, byteCount: Int,
                dataset: String, sourceKind: SourceKind, mediaType: MediaType, modality: Modality, seed: UInt64, format: String,
                skipReason: String? = nil, generatorFamily: String? = nil) {
        precondition(idDigest.count >= 12 && sha256Digest.count >= 32, "a sample id takes 12 digest bytes and a sha256 32")
        self.init(sampleURI: sampleURI, byteCount: byteCount, sourceKind: sourceKind, mediaType: mediaType, modality: modality, seed: seed)
        // Big-endian words: the first hex digit is a word's highest nibble (see `LowercaseHex.words`).
        func word(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        packedID = PackedSampleID(high: word(idDigest, 0), low: UInt32(bigEndian: idDigest.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        digest = PackedSHA256(a: word(sha256Digest, 0), b: word(sha256Digest, 8), c: word(sha256Digest, 16), d: word(sha256Digest, 24))
        datasetCode = SharedNames.code(dataset)
        formatCode = SharedNames.code(format)
        rare = RareSampleFields(id: nil, skipReason: skipReason, generatorFamily: generatorFamily, mediaPath: nil, sha256: nil,
                                dataset: datasetCode == SharedNames.unpooled ? dataset : nil,
                                format: formatCode == SharedNames.unpooled ? format : nil)
    }

    /// A sample read back from stored text (a ledger's row): the id, sha256 and media path are
    /// packed from their UTF-8 bytes, and a string is made only of a value kept as given.
    public init(idUTF8: UnsafeBufferPointer<UInt8>, sampleURI: SampleURI, sha256UTF8: UnsafeBufferPointer<UInt8>, byteCount: Int,
                dataset: String, sourceKind: SourceKind, mediaType: MediaType, modality: Modality, seed: UInt64, format: String,
                mediaPathUTF8: UnsafeBufferPointer<UInt8>, skipReason: String? = nil, generatorFamily: String? = nil) {
        self.init(sampleURI: sampleURI, byteCount: byteCount, sourceKind: sourceKind, mediaType: mediaType, modality: modality, seed: seed)
        store(idUTF8: idUTF8, sha256UTF8: sha256UTF8, mediaPathUTF8: mediaPathUTF8, format: format, skipReason: skipReason,
              generatorFamily: generatorFamily, dataset: dataset) { field in
            switch field {
            case .id: String(decoding: idUTF8, as: UTF8.self)
            case .sha256: String(decoding: sha256UTF8, as: UTF8.self)
            case .mediaPath: String(decoding: mediaPathUTF8, as: UTF8.self)
            }
        }
    }

    /// The fields without a packed form set; `store` sets the others.
    private init(sampleURI: SampleURI, byteCount: Int, sourceKind: SourceKind, mediaType: MediaType, modality: Modality, seed: UInt64) {
        self.packedID = .zero
        self.sampleURI = sampleURI
        self.digest = .zero
        self.byteCount = byteCount
        self.seed = seed
        self.datasetCode = SharedNames.unpooled
        self.formatCode = SharedNames.unpooled
        self.sourceKind = sourceKind
        self.mediaType = mediaType
        self.modality = modality
        self.labelValue = Int32(mediaType.label)
        self.rare = nil
    }

    /// Sets the fields kept in packed form, each read back exactly as given.
    private mutating func store(id: String, sha256: String, format: String, mediaPath: String, skipReason: String?, generatorFamily: String?,
                                dataset: String) {
        var (idText, shaText, pathText) = (id, sha256, mediaPath)
        idText.withUTF8 { i in
            shaText.withUTF8 { s in
                pathText.withUTF8 { m in
                    store(idUTF8: i, sha256UTF8: s, mediaPathUTF8: m, format: format, skipReason: skipReason,
                          generatorFamily: generatorFamily, dataset: dataset) { field in
                        switch field {
                        case .id: id
                        case .sha256: sha256
                        case .mediaPath: mediaPath
                        }
                    }
                }
            }
        }
    }

    /// The fields that have a packed form, for `store` to ask for the text of one that has not.
    private enum PackedField { case id, sha256, mediaPath }

    private mutating func store(idUTF8: UnsafeBufferPointer<UInt8>, sha256UTF8: UnsafeBufferPointer<UInt8>,
                                mediaPathUTF8: UnsafeBufferPointer<UInt8>, format: String, skipReason: String?, generatorFamily: String?,
                                dataset: String, text: (PackedField) -> String) {
        let packedID = PackedSampleID(hexUTF8: idUTF8)
        self.packedID = packedID ?? .zero
        datasetCode = SharedNames.code(dataset)
        formatCode = SharedNames.code(format)
        let packed = PackedSHA256(hexUTF8: sha256UTF8)
        digest = packed ?? .zero
        // A media path is derived only from a packed sha256 (plain ASCII), so its text is exact.
        let derived = packed.map { digest in
            Self.withStorePathUTF8(digest: digest, format: format) { $0.hasSameBytes(as: mediaPathUTF8) }
        } ?? false
        rare = RareSampleFields(id: packedID == nil ? text(.id) : nil, skipReason: skipReason, generatorFamily: generatorFamily,
                                mediaPath: derived ? nil : text(.mediaPath), sha256: packed == nil ? text(.sha256) : nil,
                                dataset: datasetCode == SharedNames.unpooled ? dataset : nil,
                                format: formatCode == SharedNames.unpooled ? format : nil)
    }

    /// The media store's path of a blob: `media/ab/<sha256>.<ext>`.
    public static func storePath(sha256: String, format: String) -> String {
        "media/\(sha256.prefix(2))/\(sha256).\(format)"
    }

    /// `storePath`'s bytes for a packed sha256, written on the stack.
    private static func withStorePathUTF8<R>(digest: PackedSHA256, format: String,
                                             _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var format = format
        return try digest.withHexUTF8 { hex in
            try format.withUTF8 { f in
                try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 74 + f.count) { out in
                    // media/ab/<64 digits>.<format>, copied at fixed offsets (a generic loop here was 4% of a
                    // round, and a nested function bumping an index was checked for exclusive access).
                    let raw = UnsafeMutableRawBufferPointer(out)
                    (out[0], out[1], out[2], out[3], out[4], out[5]) = (0x6D, 0x65, 0x64, 0x69, 0x61, 0x2F)  // "media/"
                    out[6] = hex[0]; out[7] = hex[1]; out[8] = UInt8(ascii: "/")
                    UnsafeMutableRawBufferPointer(rebasing: raw[9..<73]).copyMemory(from: UnsafeRawBufferPointer(hex))
                    out[73] = UInt8(ascii: ".")
                    UnsafeMutableRawBufferPointer(rebasing: raw[74..<74 + f.count]).copyMemory(from: UnsafeRawBufferPointer(f))
                    return try body(UnsafeBufferPointer(rebasing: out[0..<74 + f.count]))
                }
            }
        }
    }

    /// The UTF-8 lengths of the id, sha256 and media path, without writing out their text (a writer
    /// making room for them).
    public var utf8Counts: (id: Int, sha256: Int, mediaPath: Int) {
        (rare?.id?.utf8.count ?? 24, rare?.sha256?.utf8.count ?? 64, rare?.mediaPath?.utf8.count ?? 74 + format.utf8.count)
    }

    /// The id, sha256 and media path as UTF-8, all three at once and without a generic call per
    /// field (from another module those are not specialised: a runtime type lookup each, which a
    /// writer of a million samples paid for three times a sample).
    public func withTextFieldsUTF8(_ body: (_ id: UnsafeBufferPointer<UInt8>, _ sha256: UnsafeBufferPointer<UInt8>,
                                            _ mediaPath: UnsafeBufferPointer<UInt8>) -> Void) {
        withIDUTF8 { id in withSHA256UTF8 { sha in withMediaPathUTF8 { path in body(id, sha, path) } } }
    }

    /// The id's UTF-8 bytes, without making a string when it is kept packed.
    public func withIDUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if var text = rare?.id { return try text.withUTF8(body) }
        return try packedID.withHexUTF8(body)
    }

    /// The sha256's UTF-8 bytes, without making a string when it is kept packed.
    public func withSHA256UTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if var text = rare?.sha256 { return try text.withUTF8(body) }
        return try digest.withHexUTF8(body)
    }

    /// The media path's UTF-8 bytes, without making a string when it is derived from the sha256.
    public func withMediaPathUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if var text = rare?.mediaPath { return try text.withUTF8(body) }
        return try Self.withStorePathUTF8(digest: digest, format: format, body)
    }
}

extension PlannedSample: Codable {
    enum CodingKeys: String, CodingKey {
        case id, uri, sha256, dataset, modality, label, seed, format
        case byteCount = "bytes", sourceKind = "source_kind", mediaType = "media_type"
        case mediaPath = "media_path", skipReason = "skip_reason", generatorFamily = "generator_family"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id), uri: try c.decode(String.self, forKey: .uri),
                  sha256: try c.decode(String.self, forKey: .sha256), byteCount: try c.decode(Int.self, forKey: .byteCount),
                  dataset: try c.decode(String.self, forKey: .dataset), sourceKind: try c.decode(SourceKind.self, forKey: .sourceKind),
                  mediaType: try c.decode(MediaType.self, forKey: .mediaType), modality: try c.decode(Modality.self, forKey: .modality),
                  seed: try c.decode(UInt64.self, forKey: .seed), format: try c.decode(String.self, forKey: .format),
                  mediaPath: try c.decode(String.self, forKey: .mediaPath),
                  skipReason: try c.decodeIfPresent(String.self, forKey: .skipReason),
                  generatorFamily: try c.decodeIfPresent(String.self, forKey: .generatorFamily))
        label = try c.decode(Int.self, forKey: .label)
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

/// A sha256 as its 32 bytes inline: a 64-character string is a heap allocation of its own (about
/// 96 bytes with malloc's overhead) for every sample whose media is its own.
struct PackedSHA256: Hashable, Sendable {
    var a: UInt64, b: UInt64, c: UInt64, d: UInt64
    static let zero = PackedSHA256(a: 0, b: 0, c: 0, d: 0)

    init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) {
        self.a = a; self.b = b; self.c = c; self.d = d
    }

    /// nil unless `hex` is exactly 64 lowercase hex digits (the form `hex` gives back).
    init?(hex: String) {
        var hex = hex
        guard let packed = hex.withUTF8({ PackedSHA256(hexUTF8: $0) }) else { return nil }
        self = packed
    }

    init?(hexUTF8: UnsafeBufferPointer<UInt8>) {
        guard let packed = LowercaseHex.words(hexUTF8, count: 4, { PackedSHA256(a: $0[0], b: $0[1], c: $0[2], d: $0[3]) }) else { return nil }
        self = packed
    }

    var hex: String { LowercaseHex.string(digits: 64) { write(into: $0) } }

    func withHexUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try LowercaseHex.withText(digits: 64, write: { write(into: $0) }, body)
    }

    private func write(into out: UnsafeMutableBufferPointer<UInt8>) {
        LowercaseHex.put(a, digits: 16, into: out, at: 0); LowercaseHex.put(b, digits: 16, into: out, at: 16)
        LowercaseHex.put(c, digits: 16, into: out, at: 32); LowercaseHex.put(d, digits: 16, into: out, at: 48)
    }
}

/// A sample id (24 hex digits, 96 bits) as 12 bytes inline rather than a heap string of its own
/// (about 80 bytes with malloc's overhead) for every sample of a plan.
struct PackedSampleID: Hashable, Sendable {
    var high: UInt64, low: UInt32
    static let zero = PackedSampleID(high: 0, low: 0)

    init(high: UInt64, low: UInt32) {
        self.high = high; self.low = low
    }

    /// nil unless `hex` is exactly 24 lowercase hex digits (the form `hex` gives back).
    init?(hex: String) {
        var hex = hex
        guard let packed = hex.withUTF8({ PackedSampleID(hexUTF8: $0) }) else { return nil }
        self = packed
    }

    init?(hexUTF8: UnsafeBufferPointer<UInt8>) {
        guard let packed = LowercaseHex.words(hexUTF8, count: 2, lastWordDigits: 8, { PackedSampleID(high: $0[0], low: UInt32($0[1])) })
        else { return nil }
        self = packed
    }

    var hex: String { LowercaseHex.string(digits: 24) { write(into: $0) } }

    func withHexUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try LowercaseHex.withText(digits: 24, write: { write(into: $0) }, body)
    }

    private func write(into out: UnsafeMutableBufferPointer<UInt8>) {
        LowercaseHex.put(high, digits: 16, into: out, at: 0)
        LowercaseHex.put(UInt64(low), digits: 8, into: out, at: 16)
    }
}

/// Lowercase hex digits to and from words, for the packed forms above.
enum LowercaseHex {
    /// The words of `bytes` when they are exactly the lowercase digits of `count` words, each of 16
    /// digits but the last, of `lastWordDigits`; nil otherwise. `make` gets the words in a buffer.
    static func words<T>(_ bytes: UnsafeBufferPointer<UInt8>, count: Int, lastWordDigits: Int = 16,
                         _ make: (UnsafeMutableBufferPointer<UInt64>) -> T) -> T? {
        guard bytes.count == 16 * (count - 1) + lastWordDigits, let digits = bytes.baseAddress else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { words -> T? in
            nibbles.withUnsafeBufferPointer { table -> T? in
                // Table lookups without a branch per digit; any byte that is not a digit sets a high bit.
                var at = 0, invalid: UInt8 = 0
                for w in 0..<count {
                    let end = at + (w == count - 1 ? lastWordDigits : 16)
                    var word: UInt64 = 0
                    while at < end {
                        let nibble = table[Int(digits[at])]
                        invalid |= nibble
                        word = word << 4 | UInt64(nibble & 15)
                        at += 1
                    }
                    words[w] = word
                }
                return invalid & 0xF0 == 0 ? make(words) : nil
            }
        }
    }

    /// Each byte's digit value, 0xFF for a byte that is not a lowercase hex digit.
    private static let nibbles: [UInt8] = (0...255).map { value(of: UInt8($0)) ?? 0xFF }

    /// The value of one lowercase hex digit, nil for any other byte.
    @inline(__always)
    static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        default: nil
        }
    }

    /// Writes the low `digits` hex digits of `word` at `start`.
    @inline(__always)
    static func put(_ word: UInt64, digits: Int, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        for i in 0..<digits {
            let nibble = UInt8(truncatingIfNeeded: word >> UInt64(4 * (digits - 1 - i))) & 15
            out[start + i] = nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
        }
    }

    static func string(digits: Int, write: (UnsafeMutableBufferPointer<UInt8>) -> Void) -> String {
        String(unsafeUninitializedCapacity: digits) { out in
            write(out)
            return digits
        }
    }

    static func withText<R>(digits: Int, write: (UnsafeMutableBufferPointer<UInt8>) -> Void,
                            _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: digits) { out in
            write(out)
            return try body(UnsafeBufferPointer(out))
        }
    }
}

/// The fields of a sample that are usually empty, boxed so that a sample without them holds one nil
/// pointer rather than four empty strings' worth of inline space.
final class RareSampleFields: Hashable, Sendable {
    /// Set only when the id is not 24 lowercase hex digits.
    let id: String?
    let skipReason: String?
    let generatorFamily: String?
    /// Set only when the media path is not the media store's path for the sha256 and format.
    let mediaPath: String?
    /// Set only when the sha256 is not 64 lowercase hex digits.
    let sha256: String?
    /// Set only when the pool of shared names is full (see `SharedNames`).
    let dataset: String?
    let format: String?

    /// nil when every field is.
    init?(id: String?, skipReason: String?, generatorFamily: String?, mediaPath: String?, sha256: String?,
          dataset: String?, format: String?) {
        if id == nil, skipReason == nil, generatorFamily == nil, mediaPath == nil, sha256 == nil, dataset == nil, format == nil { return nil }
        self.id = id
        self.skipReason = skipReason
        self.generatorFamily = generatorFamily
        self.mediaPath = mediaPath
        self.sha256 = sha256
        self.dataset = dataset
        self.format = format
    }

    static func == (l: RareSampleFields, r: RareSampleFields) -> Bool {
        l.id == r.id && l.skipReason == r.skipReason && l.generatorFamily == r.generatorFamily && l.mediaPath == r.mediaPath
            && l.sha256 == r.sha256 && l.dataset == r.dataset && l.format == r.format
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(skipReason)
        hasher.combine(generatorFamily)
        hasher.combine(mediaPath)
        hasher.combine(sha256)
        hasher.combine(dataset)
        hasher.combine(format)
    }
}

/// Per-sample seeds: derived from the round seed and the sample id only, so a sample keeps its
/// seed whatever else is in the round.
public enum SampleSeed {
    public static func derive(roundSeed: UInt64, sampleID: String) -> UInt64 {
        var g = SplitMix64(seed: roundSeed, label: "sample:" + sampleID)
        return g.next() >> 1  // 63 bits: survives SQLite's signed INTEGER and JSON readers.
    }

    /// The same seed from the id's UTF-8 bytes, without a string of the label.
    public static func derive(roundSeed: UInt64, sampleIDUTF8: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var g = SplitMix64(seed: roundSeed ^ StableHash.fnv1a64(sampleIDUTF8, from: StableHash.fnv1a64("sample:".utf8)))
        return g.next() >> 1
    }
}
