import GASCore

/// sample id → probabilities, compact: the ids in a `ByteKeyIndex`, the probabilities in one
/// buffer. About 50 bytes per entry instead of a dictionary of strings and arrays (over 130), so
/// a round replaying several detectors' predictions for a million samples keeps them all in
/// memory cheaply. Tables read from one file (`PredictionTables`) share one copy of the ids.
public struct PredictionTable: Sendable {
    /// Every id of the file the table was read from (shared, copy-on-write, with the file's other tables).
    fileprivate var ids = ByteKeyIndex()
    /// Per id: this table's entry, or -1 (ids past the end have none either). Empty in a table of
    /// `PredictionTables` whose every id has an entry: the entry is then the id.
    private var entryOfID: [Int32] = []
    /// Entry i's probabilities are values[valueStart[i]..<valueStart[i + 1]]. Empty in a table of
    /// `PredictionTables` (one probability per entry): entry i's is values[i].
    private var valueStart: [Int32] = [0]
    private var values: [Double] = []
    /// Whether `entryOfID` and `valueStart` are left empty as above (4 bytes each per id saved).
    private var isDense: Bool { valueStart.isEmpty }

    public init() {}

    public init(_ dictionary: [String: [Double]]) {
        self.init()
        for key in dictionary.keys.sorted() { _ = insert(key, dictionary[key]!) }
    }

    public private(set) var count = 0

    /// Adds an entry; returns false (and changes nothing) when the id is already there.
    public mutating func insert(_ id: String, _ probabilities: [Double]) -> Bool {
        var id = id
        return id.withUTF8 { insert(bytes: $0, probabilities) }
    }

    public mutating func insert(bytes: UnsafeBufferPointer<UInt8>, _ probabilities: [Double]) -> Bool {
        guard addEntry(id: ids.insert(bytes).id) else { return false }
        values.append(contentsOf: probabilities)
        valueStart.append(Int32(values.count))
        return true
    }

    /// One probability (a predictions file's p_ai), without an array per entry.
    public mutating func insert(bytes: UnsafeBufferPointer<UInt8>, probability: Double) -> Bool {
        insert(id: ids.insert(bytes).id, probability: probability)
    }

    /// Makes `id` (of `ids`) this table's next entry; false when it has one already.
    fileprivate mutating func addEntry(id: Int) -> Bool {
        if isDense { expand() }
        if id < entryOfID.count {
            guard entryOfID[id] < 0 else { return false }
        } else {
            entryOfID.append(contentsOf: repeatElement(-1, count: id + 1 - entryOfID.count))
        }
        entryOfID[id] = Int32(count)
        count += 1
        return true
    }

    /// One probability for an id of the shared index (see `PredictionTables`).
    fileprivate mutating func insert(id: Int, probability: Double) -> Bool {
        guard addEntry(id: id) else { return false }
        values.append(probability)
        valueStart.append(Int32(values.count))
        return true
    }

    public mutating func reserveCapacity(_ entries: Int) {
        ids.reserveCapacity(entries)
        reserveEntries(entries)
    }

    /// The dense form written out, before an entry is added to it.
    private mutating func expand() {
        if entryOfID.isEmpty { entryOfID = (0..<Int32(count)).map { $0 } }
        valueStart = (0...Int32(count)).map { $0 }
    }

    fileprivate mutating func reserveEntries(_ entries: Int) {
        entryOfID.reserveCapacity(entries)
        valueStart.reserveCapacity(entries + 1)
        values.reserveCapacity(entries)
    }

    /// This table's entry for key `key` of `ids`, or nil.
    @inline(__always)
    private func entry(key: Int) -> Int? {
        if entryOfID.isEmpty && isDense { return key < count ? key : nil }
        guard key < entryOfID.count else { return nil }
        let entry = Int(entryOfID[key])
        return entry < 0 ? nil : entry
    }

    @inline(__always)
    private func probabilities(entry: Int) -> [Double] {
        if isDense { return [values[entry]] }
        return Array(values[Int(valueStart[entry])..<Int(valueStart[entry + 1])])
    }

    public func probabilities(for id: String) -> [Double]? {
        var id = id
        guard let key = id.withUTF8({ ids.id(of: $0) }), let entry = entry(key: key) else { return nil }
        return probabilities(entry: entry)
    }

    /// The same, trying the id after the one `cursor` last found first: a caller asking in id
    /// order (a run's execution order) over a table from `PredictionTables` (ids sorted) reads
    /// the table front to back instead of one random place per id.
    public func probabilities(for id: String, cursor: inout Int) -> [Double]? {
        guard let key = Self.key(of: id, in: ids, from: cursor) else { return nil }
        cursor = key + 1
        // Not `.map(probabilities(entry:))`: that method value would capture a copy of the table.
        guard let entry = entry(key: key) else { return nil }
        return probabilities(entry: entry)
    }

    /// This table over `sorted` (its ids renumbered, `newIDOfOld[old]` = new id), its entries
    /// laid out in the new id order. The old entries are read front to back and each written to
    /// its new place: reading them in the new order instead was a chain of cache misses per entry.
    /// For the tables of `PredictionTables`, which hold one probability per entry.
    fileprivate func renumbered(_ sorted: ByteKeyIndex, newIDOfOld: [Int32]) -> PredictionTable {
        precondition(values.count == count, "a table of PredictionTables holds one probability per entry")
        var table = PredictionTable()
        table.ids = sorted
        // Per new id, its entry: the ids with one, numbered in the new order.
        var entryOfNew = [Int32](repeating: -1, count: sorted.count)
        for old in entryOfID.indices where entryOfID[old] >= 0 { entryOfNew[Int(newIDOfOld[old])] = 0 }
        var next: Int32 = 0
        for new in entryOfNew.indices where entryOfNew[new] == 0 {
            entryOfNew[new] = next
            next += 1
        }
        var moved = [Double](repeating: 0, count: count)
        for old in entryOfID.indices where entryOfID[old] >= 0 {
            moved[Int(entryOfNew[Int(newIDOfOld[old])])] = values[Int(entryOfID[old])]
        }
        // Every id with an entry (the usual file: each detector answers every sample): the entry is the id.
        table.entryOfID = count == sorted.count ? [] : entryOfNew
        table.valueStart = []
        table.values = moved
        table.count = count
        return table
    }

    /// The id's key, `from` tried first. The id's bytes are read in place and the index passed
    /// as it is: a closure over `self` copied the whole table (retaining each of its arrays) per id.
    @inline(__always)
    private static func key(of id: String, in ids: ByteKeyIndex, from cursor: Int) -> Int? {
        func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
            if cursor < ids.count && ids.key(cursor, equals: bytes) { return cursor }
            return ids.id(of: bytes)
        }
        if let found = id.utf8.withContiguousStorageIfAvailable(find) { return found }
        var copy = id
        return copy.withUTF8(find)
    }

    public func contains(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { ids.id(of: $0) }.flatMap(entry(key:)) != nil
    }
}

/// Several tables read from one file (one per detector chosen from it): each id is stored once
/// for all of them, instead of once per table.
public struct PredictionTables {
    private var ids = ByteKeyIndex()
    private var tables: [PredictionTable]
    /// The id of the row before: checked (with the one after it) before the id is hashed. A file
    /// written detector by detector names the ids again in the order the first detector did, one
    /// written sample by sample names an id once per detector in a row.
    private var lastID = -1

    /// `count` empty tables; `ids`: how many distinct ids (and entries per table) to expect.
    public init(count: Int, ids expected: Int = 0) {
        tables = [PredictionTable](repeating: PredictionTable(), count: count)
        ids.reserveCapacity(expected)
        for t in tables.indices { tables[t].reserveEntries(expected) }
    }

    /// Adds `probability` for the id to table `table`; false (nothing changed) when that table has it already.
    public mutating func insert(bytes: UnsafeBufferPointer<UInt8>, probability: Double, into table: Int) -> Bool {
        let id: Int
        if lastID + 1 < ids.count && ids.key(lastID + 1, equals: bytes) {
            id = lastID + 1
        } else if lastID >= 0 && ids.key(lastID, equals: bytes) {
            id = lastID
        } else {
            id = ids.insert(bytes).id
        }
        lastID = id
        return tables[table].insert(id: id, probability: probability)
    }

    /// The tables, sharing the ids, numbered in the order of their bytes (see
    /// `PredictionTable.probabilities(for:cursor:)`).
    public consuming func finished() -> [PredictionTable] {
        var sorted = ids
        ids = ByteKeyIndex()  // sorted in place, so the old keys are freed as the new ones are laid out
        let newID = sorted.sortByBytes()
        var result: [PredictionTable] = []
        for t in tables.indices {
            result.append(tables[t].renumbered(sorted, newIDOfOld: newID))
            tables[t] = PredictionTable()  // each old table freed as soon as it is renumbered
        }
        return result
    }
}
