import GASCore

/// sample id → probabilities, compact: the ids in a `ByteKeyIndex`, the probabilities in one
/// buffer. About 50 bytes per entry instead of a dictionary of strings and arrays (over 130), so
/// a round replaying several detectors' predictions for a million samples keeps them all in
/// memory cheaply.
public struct PredictionTable: Sendable {
    private var ids = ByteKeyIndex()
    private var valueStart: [Int32] = [0]  // entry i's probabilities are values[valueStart[i]..<valueStart[i + 1]]
    private var values: [Double] = []

    public init() {}

    public init(_ dictionary: [String: [Double]]) {
        self.init()
        for key in dictionary.keys.sorted() { _ = insert(key, dictionary[key]!) }
    }

    public var count: Int { ids.count }

    /// Adds an entry; returns false (and changes nothing) when the id is already there.
    public mutating func insert(_ id: String, _ probabilities: [Double]) -> Bool {
        var id = id
        return id.withUTF8 { insert(bytes: $0, probabilities) }
    }

    public mutating func insert(bytes: UnsafeBufferPointer<UInt8>, _ probabilities: [Double]) -> Bool {
        guard ids.insert(bytes).inserted else { return false }
        values.append(contentsOf: probabilities)
        valueStart.append(Int32(values.count))
        return true
    }

    /// One probability (a predictions file's p_ai), without an array per entry.
    public mutating func insert(bytes: UnsafeBufferPointer<UInt8>, probability: Double) -> Bool {
        guard ids.insert(bytes).inserted else { return false }
        values.append(probability)
        valueStart.append(Int32(values.count))
        return true
    }

    public mutating func reserveCapacity(_ entries: Int) {
        ids.reserveCapacity(entries)
        valueStart.reserveCapacity(entries + 1)
        values.reserveCapacity(entries)
    }

    public func probabilities(for id: String) -> [Double]? {
        var id = id
        guard let entry = id.withUTF8({ ids.id(of: $0) }) else { return nil }
        return Array(values[Int(valueStart[entry])..<Int(valueStart[entry + 1])])
    }

    public func contains(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { ids.id(of: $0) != nil }
    }
}
