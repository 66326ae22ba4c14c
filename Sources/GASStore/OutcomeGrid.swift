import Foundation
import GASCore
import GRDB
import GRDBSQLite

/// A run's committed outcomes, compact: one column per field, per detector, indexed by sample
/// position in the plan. About 25 bytes per outcome instead of a `DetectorOutcome` with its strings
/// (over 200), so finishing a run of millions of outcomes stays within memory; probabilities other
/// than p_ai stay in the ledger (`probs_json`).
///
/// Order: detectors by name (UTF-8 bytes, as SQLite sorts them), then plan position: the order of
/// `RunLedger.outcomes(runID:)` and of predictions.parquet.
public struct OutcomeGrid: Sendable {
    /// Sample ids in plan order (position = index).
    public let sampleIDs: SampleIDs
    /// Detector names, sorted by their UTF-8 bytes.
    public fileprivate(set) var detectors: [String] = []
    /// Per detector, per position: the status as an index into `OutcomeGrid.statuses`, or `none`.
    var status: [[UInt8]] = []
    var pAI: [[Double]] = []  // NaN: no p_ai
    var predicted: [[Int8]] = []  // -1: none
    var latencyMs: [[Double]] = []
    var batch: [[Int32]] = []
    /// Error messages by (detector index, position).
    var errors: [Int: String] = [:]

    static let statuses = OutcomeStatus.allCases
    static let none: UInt8 = 255

    /// What one outcome takes in the grid (status, p_ai, predicted label, latency, batch), errors aside.
    public static let bytesPerOutcome = MemoryLayout<UInt8>.size + MemoryLayout<Double>.size + MemoryLayout<Int8>.size
        + MemoryLayout<Double>.size + MemoryLayout<Int32>.size

    /// A status's index in `statuses` (what the status column holds).
    @inline(__always)
    static func code(_ status: OutcomeStatus) -> UInt8? {
        statuses.firstIndex(of: status).map { UInt8($0) }
    }

    public init(sampleIDs: SampleIDs) { self.sampleIDs = sampleIDs }
    public init(sampleIDs: [String]) { self.init(sampleIDs: SampleIDs(sampleIDs)) }

    public init(sampleIDs: [String], outcomes: [DetectorOutcome]) {
        self.init(sampleIDs: SampleIDs(sampleIDs), outcomes: outcomes)
    }

    /// A grid holding `outcomes` (those of samples not in `sampleIDs` are left out).
    public init(sampleIDs: SampleIDs, outcomes: [DetectorOutcome]) {
        self.init(sampleIDs: sampleIDs)
        var positions: [String: Int] = [:]
        positions.reserveCapacity(sampleIDs.count)
        for (i, id) in sampleIDs.enumerated() { positions[id] = i }
        let n = sampleIDs.count
        for o in outcomes {
            guard let p = positions[o.sampleID], let code = Self.code(o.status) else { continue }
            let d = detectorIndex(o.detector) ?? addDetector(o.detector)
            if status[d][p] == Self.none { count += 1 }
            status[d][p] = code
            pAI[d][p] = o.pAI ?? .nan
            predicted[d][p] = o.predicted.map { Int8(clamping: $0) } ?? -1
            if let e = o.error { errors[d * n + p] = e }
            latencyMs[d][p] = o.latencyMs
            batch[d][p] = Int32(clamping: o.batch)
        }
        sortDetectors()
    }

    /// Number of outcomes held.
    public internal(set) var count = 0

    /// Outcomes per status name (every status present, as results.json counts them).
    public var statusCounts: [String: Int] {
        var counts = [Int](repeating: 0, count: Self.statuses.count)
        for column in status { for s in column where s != Self.none { counts[Int(s)] += 1 } }
        var result: [String: Int] = [:]
        for (i, n) in counts.enumerated() where n > 0 { result[Self.statuses[i].rawValue] = n }
        return result
    }

    public func detectorIndex(_ name: String) -> Int? { detectors.firstIndex(of: name) }

    /// Whether (detector, position) has an outcome.
    public func has(detector d: Int, position p: Int) -> Bool { status[d][p] != Self.none }

    /// Positions of the samples detector `d` has an outcome for, as a mask over the plan.
    public func committedMask(detector name: String) -> [Bool] {
        guard let d = detectorIndex(name) else { return [Bool](repeating: false, count: sampleIDs.count) }
        return status[d].map { $0 != Self.none }
    }

    public func highestBatch(detector name: String) -> Int? {
        guard let d = detectorIndex(name) else { return nil }
        var best: Int32?
        for (p, s) in status[d].enumerated() where s != Self.none { best = max(best ?? batch[d][p], batch[d][p]) }
        return best.map(Int.init)
    }

    @inline(__always)
    public func status(detector d: Int, position p: Int) -> OutcomeStatus? {
        let s = status[d][p]
        return s == Self.none ? nil : Self.statuses[Int(s)]
    }

    @inline(__always)
    public func pAI(detector d: Int, position p: Int) -> Double? {
        let v = pAI[d][p]
        return v.isNaN ? nil : v
    }

    /// (An empty dictionary's lookup still hashes the key: most runs have no error at all.)
    public func error(detector d: Int, position p: Int) -> String? { errors.isEmpty ? nil : errors[d * sampleIDs.count + p] }

    /// The fields of one outcome.
    public struct Entry {
        public var status: OutcomeStatus
        public var pAI: Double?
        public var predicted: Int?
        public var error: String?
        public var latencyMs: Double
        public var batch: Int
    }

    public func entry(detector d: Int, position p: Int) -> Entry? {
        let s = status[d][p]
        guard s != Self.none else { return nil }
        let probability = pAI[d][p]
        let guess = predicted[d][p]
        return Entry(status: Self.statuses[Int(s)], pAI: probability.isNaN ? nil : probability, predicted: guess < 0 ? nil : Int(guess),
                     error: errors[d * sampleIDs.count + p], latencyMs: latencyMs[d][p], batch: Int(batch[d][p]))
    }

    /// Every outcome in order, as `DetectorOutcome`s (without `probs`): for the small consumers
    /// that want the full records (generator rewards, robustness).
    public func outcomes() -> [DetectorOutcome] {
        var result: [DetectorOutcome] = []
        result.reserveCapacity(count)
        for d in detectors.indices {
            for p in sampleIDs.indices {
                guard let e = entry(detector: d, position: p) else { continue }
                result.append(DetectorOutcome(sampleID: sampleIDs[p], detector: detectors[d], status: e.status, pAI: e.pAI,
                                              predicted: e.predicted, error: e.error, latencyMs: e.latencyMs, batch: e.batch))
            }
        }
        return result
    }

    mutating func addDetector(_ name: String) -> Int {
        let n = sampleIDs.count
        detectors.append(name)
        status.append([UInt8](repeating: Self.none, count: n))
        pAI.append([Double](repeating: .nan, count: n))
        predicted.append([Int8](repeating: -1, count: n))
        latencyMs.append([Double](repeating: 0, count: n))
        batch.append([Int32](repeating: 0, count: n))
        return detectors.count - 1
    }

    /// Puts the detectors in name order (UTF-8 bytes), moving their columns along.
    mutating func sortDetectors() {
        let order = detectors.indices.sorted { Array(detectors[$0].utf8).lexicographicallyPrecedes(Array(detectors[$1].utf8)) }
        guard order != Array(detectors.indices) else { return }
        var moved: [Int: String] = [:]
        let n = sampleIDs.count
        for (new, old) in order.enumerated() {
            for p in 0..<n { if let e = errors[old * n + p] { moved[new * n + p] = e } }
        }
        detectors = order.map { detectors[$0] }
        status = order.map { status[$0] }
        pAI = order.map { pAI[$0] }
        predicted = order.map { predicted[$0] }
        latencyMs = order.map { latencyMs[$0] }
        batch = order.map { batch[$0] }
        errors = moved
    }
}

extension OutcomeGrid {
    /// Takes one detector's columns in as the next detector (before `sortDetectors`), and frees them.
    mutating func append(detector name: String, columns c: OutcomeColumns) {
        detectors.append(name)
        status.append(Array(c.status))
        pAI.append(Array(c.pAI))
        predicted.append(Array(c.predicted))
        latencyMs.append(Array(c.latencyMs))
        batch.append(Array(c.batch))
        c.deallocate()
    }
}

/// One detector's grid columns while they are filled (by a ledger scan or as outcomes are
/// committed): plain buffers, then moved into the grid with `OutcomeGrid.append`.
struct OutcomeColumns: @unchecked Sendable {
    let status: UnsafeMutableBufferPointer<UInt8>
    let pAI: UnsafeMutableBufferPointer<Double>
    let predicted: UnsafeMutableBufferPointer<Int8>
    let latencyMs: UnsafeMutableBufferPointer<Double>
    let batch: UnsafeMutableBufferPointer<Int32>

    init(count n: Int) {
        status = .allocate(capacity: n); status.initialize(repeating: OutcomeGrid.none)
        pAI = .allocate(capacity: n); pAI.initialize(repeating: .nan)
        predicted = .allocate(capacity: n); predicted.initialize(repeating: -1)
        latencyMs = .allocate(capacity: n); latencyMs.initialize(repeating: 0)
        batch = .allocate(capacity: n); batch.initialize(repeating: 0)
    }

    func deallocate() {
        status.deallocate(); pAI.deallocate(); predicted.deallocate(); latencyMs.deallocate(); batch.deallocate()
    }
}

/// The grid of a run's outcomes, filled as they are committed. A run this process recorded and
/// committed every outcome of (a fresh run on a local ledger, under its lock) is scored from it
/// instead of reading millions of rows back: the same values, as `RunLedger.outcomeGrid` reads
/// them (tests compare the two).
///
/// Each detector's columns are written only by that detector's task (`record(detector:…)` with
/// its own index), so the tasks need no lock.
public final class OutcomeGridRecorder: @unchecked Sendable {
    private let sampleIDs: SampleIDs
    private let names: [String]
    private let columns: [RecordedColumns]

    private final class RecordedColumns {
        var columns: OutcomeColumns?
        var errors: [Int: String] = [:]  // by plan position
        var count = 0
        let size: Int
        init(size: Int) { self.size = size }
        /// Allocated with the detector's first outcome: a detector with none is not in the grid (as in a scan).
        var filled: OutcomeColumns {
            if let columns { return columns }
            let made = OutcomeColumns(count: size)
            columns = made
            return made
        }
        deinit { columns?.deallocate() }
    }


    /// `sampleIDs` in plan order; `detectors`: the run's detector names.
    public convenience init(sampleIDs: [String], detectors: [String]) {
        self.init(sampleIDs: SampleIDs(sampleIDs), detectors: detectors)
    }

    public init(sampleIDs: SampleIDs, detectors: [String]) {
        self.sampleIDs = sampleIDs
        names = detectors
        columns = detectors.map { _ in RecordedColumns(size: sampleIDs.count) }
    }

    /// Records committed outcomes of one detector: `outcomes[i]` is the outcome of the sample at
    /// plan position `positions[i]`. Only that detector's task calls this for it.
    public func record(detector name: String, positions: [Int], outcomes: [DetectorOutcome]) {
        guard let d = names.firstIndex(of: name) else { return }
        let recorded = columns[d]
        let c = recorded.filled
        let n = sampleIDs.count
        // By index, field by field: iterating the outcomes copies each, retaining its strings.
        for i in 0..<min(positions.count, outcomes.count) {
            let p = positions[i]
            // The ledger keeps a pair's first commit and ignores any later one: so does the grid.
            guard p >= 0 && p < n, c.status[p] == OutcomeGrid.none, let code = OutcomeGrid.code(outcomes[i].status) else { continue }
            recorded.count += 1
            c.status[p] = code
            c.pAI[p] = outcomes[i].pAI ?? .nan
            c.predicted[p] = outcomes[i].predicted.map { Int8(clamping: $0) } ?? -1
            c.latencyMs[p] = outcomes[i].latencyMs
            c.batch[p] = Int32(clamping: outcomes[i].batch)
            if outcomes[i].error != nil { recorded.errors[p] = outcomes[i].error }
        }
    }

    /// The grid, once every task has finished recording; the recorder is empty afterwards.
    public func grid() -> OutcomeGrid {
        var grid = OutcomeGrid(sampleIDs: sampleIDs)
        let n = sampleIDs.count
        for (name, recorded) in zip(names, columns) {
            guard let c = recorded.columns else { continue }
            recorded.columns = nil
            let index = grid.detectors.count
            for (p, e) in recorded.errors { grid.errors[index * n + p] = e }
            recorded.errors = [:]
            grid.count += recorded.count
            grid.append(detector: name, columns: c)
        }
        grid.sortDetectors()
        return grid
    }
}

extension RunLedger {
    /// The run's outcomes for the plan's samples (`sampleIDs` in plan order), read straight from
    /// SQLite (no join, no sort, no per-row objects). Outcomes of samples not in the list are left out.
    public func outcomeGrid(runID: String, sampleIDs: [String]) throws -> OutcomeGrid {
        try outcomeGrid(runID: runID, sampleIDs: SampleIDs(sampleIDs))
    }

    public func outcomeGrid(runID: String, sampleIDs: SampleIDs) throws -> OutcomeGrid {
        var matcher = SamplePositions(sampleIDs)
        let n = sampleIDs.count
        var grid = OutcomeGrid(sampleIDs: sampleIDs)
        // Filled through plain buffers, one set per detector in order of appearance, and moved into
        // the grid after the scan: writing the grid's nested arrays cost a uniqueness check and a
        // retain per value, more than reading the row.
        var columns: [OutcomeColumns] = [], names: [String] = []
        defer { for c in columns { c.deallocate() } }
        var errors: [Int: String] = [:], count = 0
        try queue.read { db in
            try scanOutcomes(runID: runID, matcher: &matcher, db: db) { p, d, newName, value in
                if let newName {
                    names.append(newName)
                    columns.append(OutcomeColumns(count: n))
                }
                let c = columns[d]
                if c.status[p] == OutcomeGrid.none { count += 1 }
                c.status[p] = OutcomeGrid.code(value.status) ?? OutcomeGrid.none
                c.pAI[p] = value.pAI ?? .nan
                c.predicted[p] = value.predicted.map { Int8(clamping: $0) } ?? -1
                if let e = value.error { errors[d * n + p] = e }
                c.latencyMs[p] = value.latencyMs
                c.batch[p] = Int32(clamping: value.batch)
            }
        }
        grid.count = count
        grid.errors = errors  // keyed by the scan's detector index, which is the grid's before sorting
        for (name, c) in zip(names, columns) { grid.append(detector: name, columns: c) }
        columns.removeAll()
        grid.sortDetectors()
        return grid
    }

    /// Which plan positions have an outcome per detector, and each detector's highest batch: what
    /// a resumed run needs before its first batch, read in one scan of the table without the
    /// outcomes' values (the grid with them is read when the run is scored).
    /// `executionOrder`: the ids' `ExecutionOrder` when the caller has it already.
    public func committedProgress(runID: String, sampleIDs: [String], executionOrder: [Int]? = nil) throws -> CommittedProgress {
        try committedProgress(runID: runID, sampleIDs: SampleIDs(sampleIDs), executionOrder: executionOrder)
    }

    public func committedProgress(runID: String, sampleIDs: SampleIDs, executionOrder: [Int]? = nil) throws -> CommittedProgress {
        var matcher = SamplePositions(sampleIDs, executionOrder: executionOrder)
        let scanned = try queue.read { db in try scanCommitted(runID: runID, positions: &matcher, db: db) }
        return try scanned.progress(count: sampleIDs.count, path: path)
    }

    /// `committedProgress` for a plan read back from this ledger (`samplesInStorageOrder`: plan
    /// reuse, resume): each outcome's plan position comes from the run's samples table, scanned
    /// beside the outcomes (`RecordedPositions`). No id is kept, placed or looked up, where the
    /// call with the plan's ids keeps a string and an index entry per sample. A ledger written
    /// before outcomes were kept by lane is read by its ids.
    public func committedProgressOfRecordedPlan(runID: String) throws -> CommittedProgress {
        // The samples table and `outcome_rows` are both in sample-id order, so they can be
        // stepped side by side; batched outcomes are in commit order, so their ids are looked up.
        let stepped = try queue.read { db in
            try db.tableExists("outcome_rows") && !(try Self.hasBatchedOutcomes(runID: runID, db: db))
        }
        guard stepped else {
            let ids = try sampleIDs(runID: runID)
            return try committedProgress(runID: runID, sampleIDs: ids.ids, executionOrder: ids.executionOrder)
        }
        return try queue.read { db in
            var positions = try RecordedPositions(runID: runID, db: db, path: path)
            let scanned = try scanCommitted(runID: runID, positions: &positions, db: db)
            return try scanned.progress(count: try positions.count(), path: path)
        }
    }

    /// Which positions each detector has an outcome at (masks as long as the highest one), and its highest batch.
    private func scanCommitted<Positions: PlanPositions>(runID: String, positions: inout Positions, db: Database) throws -> ScannedProgress {
        var scanned = ScannedProgress()
        try scanOutcomes(runID: runID, matcher: &positions, values: false, db: db) { p, d, newName, value in
            if let newName {
                scanned.names.append(newName)
                scanned.masks.append([])
                scanned.highest.append(0)
            }
            if p >= scanned.masks[d].count { scanned.masks[d].append(contentsOf: repeatElement(false, count: p + 1 - scanned.masks[d].count)) }
            scanned.masks[d][p] = true
            scanned.highest[d] = max(scanned.highest[d], Int(value.batch))
        }
        return scanned
    }

    private struct ScannedProgress {
        var names: [String] = [], masks: [[Bool]] = [], highest: [Int] = []

        /// The masks filled out to the plan's `count` samples.
        consuming func progress(count n: Int, path: String) throws -> CommittedProgress {
            for d in masks.indices {
                guard masks[d].count <= n else {
                    throw StoreError.corrupt(path: path, what: "an outcome of \(names[d]) is at position \(masks[d].count - 1), outside the plan's \(n) samples")
                }
                masks[d].append(contentsOf: repeatElement(false, count: n - masks[d].count))
            }
            return CommittedProgress(masks: Dictionary(uniqueKeysWithValues: zip(names, masks)),
                                     lastBatch: Dictionary(uniqueKeysWithValues: zip(names, highest)))
        }
    }

    /// Whether the run has outcomes in `outcome_batches`.
    static func hasBatchedOutcomes(runID: String, db: Database) throws -> Bool {
        guard try db.tableExists("outcome_batches") else { return false }
        return try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM outcome_batches b JOIN outcome_lanes l ON l.lane = b.lane WHERE l.run_id = ?)
            """, arguments: [runID]) ?? false
    }

    /// Scans the run's outcomes in storage order (through the primary-key index every row would
    /// cost a lookup): `row` gets the sample's plan position, the detector as 0, 1, ... in order
    /// of first appearance, its name on that first row, and the outcome's values (without its
    /// probability and latency when `values` is false, for batched outcomes). Rows of samples
    /// outside the plan are skipped. A ledger of the current schema is read from its
    /// `outcome_rows` and `outcome_batches` (a lane per run and detector); one written before
    /// them and opened read-only, from its `outcomes` table.
    private func scanOutcomes<Positions: PlanPositions>(runID: String, matcher: inout Positions, values: Bool = true, db: Database,
                                                        row: (_ position: Int, _ detector: Int, _ newName: String?, _ value: StoredOutcomeValues) throws -> Void) throws {
        if try db.tableExists("outcome_rows") {
            try scanLanes(runID: runID, matcher: &matcher, values: values, db: db, row: row)
        } else {
            try scanOutcomesTable(runID: runID, matcher: &matcher, db: db, row: row)
        }
    }

    private func scanLanes<Positions: PlanPositions>(runID: String, matcher: inout Positions, values: Bool, db: Database,
                                                     row: (_ position: Int, _ detector: Int, _ newName: String?, _ value: StoredOutcomeValues) throws -> Void) throws {
        var lanes = RunLanes(try Row.fetchAll(db, sql: "SELECT lane, detector FROM outcome_lanes WHERE run_id = ?", arguments: [runID])
            .map { (lane: $0[0], name: $0[1]) })
        guard !lanes.isEmpty else { return }
        let statement = try db.makeStatement(sql: "SELECT sample_id, lane, \(StoredOutcomeValues.columns) FROM outcome_rows NOT INDEXED")
        let handle = statement.sqliteStatement
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            guard let slot = lanes.slot(of: sqlite3_column_int64(handle, 1)) else { continue }  // another run's outcome
            guard let idPointer = sqlite3_column_text(handle, 0),
                  let p = try matcher.position(of: UnsafeBufferPointer(start: idPointer, count: Int(sqlite3_column_bytes(handle, 0)))) else {
                continue  // not a sample of this plan
            }
            let (detector, newName) = lanes.detector(at: slot)
            try row(p, detector, newName, try StoredOutcomeValues(handle, from: 2, path: path))
        }
        guard try db.tableExists("outcome_batches") else { return }
        try Self.forEachBatchedOutcome(runID: runID, db: db, path: path, values: values) { lane, _, o, scratch in
            guard let slot = lanes.slot(of: lane),
                  let p = try matcher.position(of: BatchedOutcome.bytes(o.sampleID, in: scratch)) else { return }
            let (detector, newName) = lanes.detector(at: slot)
            try row(p, detector, newName, StoredOutcomeValues(o, scratch: scratch))
        }
    }

    /// A run's lanes, each given its detector's index when its first row is read. The rows come
    /// by sample id, so the lane changes on nearly every row: the lanes are searched in a small
    /// sorted array (two dictionary lookups a row cost more than the rest of the row's handling).
    private struct RunLanes {
        private let lanes: [Int64]
        private let names: [String]
        private var detectors: [Int]
        private var seen = 0

        init(_ rows: [(lane: Int64, name: String)]) {
            let sorted = rows.sorted { $0.lane < $1.lane }
            lanes = sorted.map(\.lane)
            names = sorted.map(\.name)
            detectors = Array(repeating: -1, count: sorted.count)
        }

        var isEmpty: Bool { lanes.isEmpty }

        /// Where `lane` is among the run's lanes; nil for another run's.
        func slot(of lane: Int64) -> Int? {
            var low = 0, high = lanes.count
            while low < high {
                let mid = (low + high) / 2
                if lanes[mid] < lane { low = mid + 1 } else { high = mid }
            }
            return low < lanes.count && lanes[low] == lane ? low : nil
        }

        /// The detector index of the lane at `slot`, numbered in order of first use, with its name on that first use.
        mutating func detector(at slot: Int) -> (index: Int, newName: String?) {
            if detectors[slot] >= 0 { return (detectors[slot], nil) }
            detectors[slot] = seen
            seen += 1
            return (detectors[slot], names[slot])
        }
    }

    private func scanOutcomesTable<Positions: PlanPositions>(runID: String, matcher: inout Positions, db: Database,
                                                             row: (_ position: Int, _ detector: Int, _ newName: String?, _ value: StoredOutcomeValues) throws -> Void) throws {
        let statement = try db.makeStatement(sql: "SELECT sample_id, detector, \(StoredOutcomeValues.columns) FROM outcomes NOT INDEXED WHERE run_id = ?")
        try statement.setArguments([runID])
        let handle = statement.sqliteStatement
        var names: [[UInt8]] = [], last = -1
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            guard let idPointer = sqlite3_column_text(handle, 0),
                  let p = try matcher.position(of: UnsafeBufferPointer(start: idPointer, count: Int(sqlite3_column_bytes(handle, 0)))) else {
                continue  // not a sample of this plan
            }
            let detectorBytes = UnsafeBufferPointer(start: sqlite3_column_text(handle, 1), count: Int(sqlite3_column_bytes(handle, 1)))
            var newName: String?
            if last < 0 || !detectorBytes.elementsEqual(names[last]) {
                if let known = names.firstIndex(where: { $0.elementsEqual(detectorBytes) }) {
                    last = known
                } else {
                    last = names.count
                    names.append(Array(detectorBytes))
                    newName = String(decoding: detectorBytes, as: UTF8.self)
                }
            }
            try row(p, last, newName, try StoredOutcomeValues(handle, from: 2, path: path))
        }
    }

    static func text(_ handle: OpaquePointer, _ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }
}

/// One outcome's values as a ledger holds them: from a row (`outcome_rows`, or an old ledger's
/// `outcomes`) or from a batch (`outcome_batches`).
struct StoredOutcomeValues {
    var status: OutcomeStatus
    var pAI: Double?
    var predicted: Int64?
    var error: String?
    var latencyMs: Double
    var batch: Int64

    /// The columns `init(_:from:path:)` reads, in its order.
    static let columns = "status, p_ai, predicted, error, latency_ms, batch"

    /// From a row's `columns`, the first at index `c`.
    init(_ h: OpaquePointer, from c: Int32, path: String) throws {
        let text = UnsafeBufferPointer(start: sqlite3_column_text(h, c), count: Int(sqlite3_column_bytes(h, c)))
        guard let status = OutcomeBatchReader.status(text) else {
            throw StoreError.corrupt(path: path, what: "outcome status '\(RunLedger.text(h, c) ?? "NULL")'")
        }
        self.status = status
        pAI = sqlite3_column_type(h, c + 1) == SQLITE_NULL ? nil : sqlite3_column_double(h, c + 1)
        predicted = sqlite3_column_type(h, c + 2) == SQLITE_NULL ? nil : sqlite3_column_int64(h, c + 2)
        error = sqlite3_column_type(h, c + 3) == SQLITE_NULL ? nil : RunLedger.text(h, c + 3)
        latencyMs = sqlite3_column_double(h, c + 4)
        batch = sqlite3_column_int64(h, c + 5)
    }

    init(_ o: BatchedOutcome, scratch: UnsafeBufferPointer<UInt8>) {
        status = o.status
        pAI = o.pAI
        predicted = o.predicted
        error = BatchedOutcome.text(o.error, in: scratch)
        latencyMs = o.latencyMs
        batch = o.batch
    }
}

/// Per detector, the plan positions that already have an outcome and the highest batch number
/// committed (a resumed run skips those positions and numbers its batches on from there).
public struct CommittedProgress: Sendable, Equatable {
    public var masks: [String: [Bool]]
    public var lastBatch: [String: Int]

    public init(masks: [String: [Bool]], lastBatch: [String: Int]) {
        self.masks = masks
        self.lastBatch = lastBatch
    }

    public init(_ grid: OutcomeGrid) {
        var masks: [String: [Bool]] = [:], batches: [String: Int] = [:]
        for name in grid.detectors {
            masks[name] = grid.committedMask(detector: name)
            batches[name] = grid.highestBatch(detector: name)
        }
        self.init(masks: masks, lastBatch: batches)
    }
}

/// Plan positions of sample ids given as bytes (a ledger row's), without a string per row. The
/// ids are keyed in execution order: outcomes are committed batch by batch in that order, so a
/// row's sample is nearly always the previous row's or the one after it, and that guess costs one
/// comparison with a neighbouring key instead of a hash lookup.
struct SamplePositions: PlanPositions {
    private var index = ByteKeyIndex()
    private var positionOfKey: [Int32] = []
    private var lastKey = -1

    init(_ sampleIDs: SampleIDs, executionOrder: [Int]? = nil) {
        positionOfKey.reserveCapacity(sampleIDs.count)
        index.reserveCapacity(sampleIDs.count)
        for i in executionOrder ?? ExecutionOrder.positions(ofIDs: sampleIDs) {
            if sampleIDs.withUTF8(at: i, { index.insert($0).inserted }) { positionOfKey.append(Int32(i)) }
        }
    }

    /// The position of the sample with these id bytes, or nil when it is not in the plan.
    @inline(__always)
    mutating func position(of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if lastKey >= 0 && index.key(lastKey, equals: bytes) { return Int(positionOfKey[lastKey]) }
        if lastKey + 1 < positionOfKey.count && index.key(lastKey + 1, equals: bytes) {
            lastKey += 1
        } else {
            guard let key = index.id(of: bytes) else { return nil }
            lastKey = key
        }
        return Int(positionOfKey[lastKey])
    }
}

/// Where an outcome row's sample sits in the plan, from its id's bytes; nil when it is not in the plan.
protocol PlanPositions {
    mutating func position(of bytes: UnsafeBufferPointer<UInt8>) throws -> Int?
}

/// Plan positions read from the run's samples table, stepped beside a scan of its outcome rows:
/// both tables are keyed by sample id and scanned in key (byte) order, so each outcome's sample
/// is the cursor's row or one further on. The rows' positions are checked as they pass (each in
/// 0..<count, once), as `samplesInStorageOrder` checks them.
struct RecordedPositions: PlanPositions {
    private let statement: Statement
    private let handle: OpaquePointer
    private let path: String
    private var id: UnsafeBufferPointer<UInt8>?  // the current row's, valid until the next step; nil past the last
    private var rowPosition = 0
    private var placed: [Bool] = []
    private var rows = 0

    init(runID: String, db: Database, path: String) throws {
        statement = try db.makeStatement(sql: "SELECT position, sample_id FROM samples NOT INDEXED WHERE run_id = ?")
        try statement.setArguments([runID])
        handle = statement.sqliteStatement
        self.path = path
        try step()
    }

    private mutating func step() throws {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_DONE {
            id = nil
            return
        }
        guard rc == SQLITE_ROW else {
            throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))
        }
        let position = sqlite3_column_int64(handle, 0)
        guard let text = sqlite3_column_text(handle, 1) else {
            throw StoreError.corrupt(path: path, what: "the sample at position \(position) has no id")
        }
        let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 1)))
        guard position >= 0, position < Int32.max else {
            throw StoreError.corrupt(path: path, what: "sample \(String(decoding: bytes, as: UTF8.self)) has position \(position)")
        }
        rowPosition = Int(position)
        if rowPosition >= placed.count { placed.append(contentsOf: repeatElement(false, count: rowPosition + 1 - placed.count)) }
        guard !placed[rowPosition] else {
            throw StoreError.corrupt(path: path, what: "sample \(String(decoding: bytes, as: UTF8.self)) has position \(position), taken twice")
        }
        placed[rowPosition] = true
        rows += 1
        id = bytes
    }

    mutating func position(of bytes: UnsafeBufferPointer<UInt8>) throws -> Int? {
        while let id {
            let order = id.compareBytes(bytes)
            if order == 0 { return rowPosition }
            if order > 0 { return nil }  // past it: the outcome's sample is not in the plan
            try step()
        }
        return nil
    }

    /// The run's sample count, once the rest of its rows are read; their positions must be 0..<count.
    mutating func count() throws -> Int {
        while id != nil { try step() }
        guard placed.count == rows else {
            throw StoreError.corrupt(path: path, what: "the samples' positions go up to \(placed.count - 1) for \(rows) samples")
        }
        return rows
    }
}
