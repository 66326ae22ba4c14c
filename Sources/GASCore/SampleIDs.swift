/// A plan's sample ids in plan order, read from its samples in place.
///
/// A sample keeps its id packed (see `PlannedSample`); a million ids made into strings of their
/// own would take about 96 bytes each for as long as a grid or recorder held them. This list holds
/// the plan's own array instead, which the plan holds anyway.
public struct SampleIDs: RandomAccessCollection, Sendable {
    private enum Storage: Sendable {
        case strings([String])
        case samples([PlannedSample])
    }

    private let storage: Storage

    public init(_ ids: [String]) { storage = .strings(ids) }
    public init(of samples: [PlannedSample]) { storage = .samples(samples) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .strings(let ids): ids.count
        case .samples(let samples): samples.count
        }
    }

    public subscript(position: Int) -> String {
        switch storage {
        case .strings(let ids): ids[position]
        case .samples(let samples): samples[position].id
        }
    }

    /// The id's UTF-8 bytes at `position`, without making a string of a packed id.
    @inline(__always)
    public func withUTF8<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch storage {
        case .strings(let ids):
            var id = ids[position]
            return try id.withUTF8(body)
        case .samples(let samples):
            return try samples[position].withIDUTF8(body)
        }
    }
}

/// The sample ids a plan has taken so far, for dropping a sample whose id came before.
///
/// A packed id (24 lowercase hex digits, the form every id the runner makes has) is kept as its
/// 12 bytes in a set of its own; any other id by its text. The two never meet: an id of 24
/// lowercase hex digits is always packed. Writing out each packed id's text to look it up took
/// about a third of a second of a million-sample plan, on one core.
public struct SampleIDSet: Sendable {
    private var packed = Set<PackedSampleID>()
    private var texts = ByteKeyIndex()

    public init() {}

    public var count: Int { packed.count + texts.count }

    /// Room for `more` ids beyond those already taken.
    public mutating func reserveCapacity(more: Int) {
        packed.reserveCapacity(packed.count + more)
    }

    /// Takes `sample`'s id; false when it was taken before.
    @inline(__always)
    public mutating func insert(idOf sample: PlannedSample) -> Bool {
        if var text = sample.rare?.id { return text.withUTF8 { texts.insert($0).inserted } }
        return packed.insert(sample.packedID).inserted
    }
}
