import Foundation
import GASCore
import GASParquet

/// Writes the row-level Parquet files of a run, streaming in row groups so memory stays bounded.
public enum ResultFiles {
    public static let rowGroupSize = 65_536
    /// The codec of predictions.parquet (and the Parquet benchmark's, which measures it against pyarrow).
    public static let predictionsCodec: ParquetCodec = .zstd

    static func stringColumn(_ name: String, optional: Bool = false, dictionary: Bool = true) -> ParquetColumn {
        ParquetColumn(name: name, type: .byteArray, logical: .string, optional: optional, dictionary: dictionary)
    }
    static func column(_ name: String, _ type: ParquetPhysicalType, optional: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, type: type, logical: .none, optional: optional, dictionary: false)
    }

    public static let predictionsSchema = ParquetSchema(columns: [
        stringColumn("run_id"), stringColumn("sample_id", dictionary: false), stringColumn("uri", dictionary: false),
        stringColumn("sha256", dictionary: false), stringColumn("detector"), stringColumn("dataset"),
        stringColumn("source_kind"), stringColumn("media_type"), stringColumn("modality"),
        column("label", .int32), column("p_ai", .double, optional: true), column("predicted", .int32, optional: true),
        stringColumn("status"), stringColumn("error", optional: true), column("latency_ms", .double), column("batch", .int32),
        stringColumn("generator", optional: true),
    ])

    /// One row per (sample, detector), in the ledger's order (detector, then sample position).
    public static func writePredictions(path: String, runID: String, samples: [PlannedSample], outcomes: [DetectorOutcome],
                                        metadata: [(String, String)]) throws {
        try writePredictions(path: path, runID: runID, samples: samples,
                             grid: OutcomeGrid(sampleIDs: SampleIDs(of: samples), outcomes: outcomes), metadata: metadata)
    }

    /// The same file from the compact outcome grid (detectors by name, then plan position), built
    /// one row group at a time: memory holds two row groups' columns, not a record per outcome.
    /// A row group holds one detector's outcomes of up to `rowGroupSize` consecutive positions, so
    /// the columns that depend on the sample alone (ids, uri, dataset, label, …) are the same for
    /// every detector that has all of them: encoded once and written for each. The next row group's
    /// columns are gathered (and those encoded) while the current one is encoded and written.
    public static func writePredictions(path: String, runID: String, samples: [PlannedSample], grid: OutcomeGrid,
                                        metadata: [(String, String)]) throws {
        try writePredictions(path: path, runID: runID, samples: samples, grid: grid, metadata: metadata, rowGroupSize: rowGroupSize)
    }

    static func writePredictions(path: String, runID: String, samples: [PlannedSample], grid: OutcomeGrid,
                                 metadata: [(String, String)], rowGroupSize: Int) throws {
        let partial = path + ".partial"
        let writer = try ParquetWriter(path: partial, schema: predictionsSchema, codec: predictionsCodec, keyValueMetadata: metadata,
                                       createdBy: "gascli")
        let sampleChunks = SampleColumnChunks(encoder: writer.columnEncoder(), shared: grid.detectors.count > 1)
        let groups = grid.detectors.indices.flatMap { d in
            stride(from: 0, to: samples.count, by: rowGroupSize).map { (d: d, range: $0..<min($0 + rowGroupSize, samples.count)) }
        }
        var next = 0
        /// The next row group with outcomes: its range and columns, gathered on a thread of their own
        /// (the writer encodes on the dispatch pool's threads, which a nested parallel loop would leave it without).
        func gatherNext() -> (range: Range<Int>, columns: GatheredColumns)? {
            while next < groups.count {
                let (d, range) = groups[next]
                next += 1
                let positions = range.filter { grid.has(detector: d, position: $0) }
                if positions.isEmpty { continue }
                let last = d == grid.detectors.count - 1
                return (range, GatheredColumns {
                    try predictionColumns(detector: d, positions: positions, range: range, lastUse: last, runID: runID, samples: samples,
                                          grid: grid, sampleChunks: sampleChunks)
                })
            }
            return nil
        }
        var current = gatherNext()
        while let (range, gathering) = current {
            let columns = try gathering.wait()
            current = gatherNext()
            do {
                let written = try writer.writeRowGroup(columns)
                // From here on the range's sample columns are read back from the file, not held.
                if written.first?.rows == range.count { sampleChunks.keep(sampleColumnIndices.map { written[$0] }, for: range) }
            } catch {
                _ = try? current?.columns.wait()
                throw error
            }
            FaultInjection.reach(.predictionsWriting)
        }
        try writer.close()
        FaultInjection.reach(.predictionsBeforeRename)
        try AtomicFile.publish(partial, as: path)
        FaultInjection.reach(.predictionsRenamed)
    }

    /// One row group's columns of predictions.parquet: detector `d`'s outcomes at `positions`, all
    /// in `range`. The sample columns come encoded from `sampleChunks` when `positions` is the whole range.
    static func predictionColumns(detector d: Int, positions: [Int], range: Range<Int>, lastUse: Bool, runID: String,
                                  samples: [PlannedSample], grid: OutcomeGrid, sampleChunks: SampleColumnChunks) throws -> [ParquetColumnInput] {
        var columns: [ParquetColumnInput?] = Array(repeating: nil, count: predictionsSchema.columns.count)
        if positions.count == range.count, let chunks = try sampleChunks.chunks(for: range, lastUse: lastUse, samples: samples, runID: runID) {
            for (i, chunk) in zip(sampleColumnIndices, chunks) { columns[i] = .encoded(chunk) }
        } else {
            for (i, values) in zip(sampleColumnIndices, sampleColumns(positions, runID: runID, samples: samples)) { columns[i] = .values(values) }
        }
        for (i, values) in zip(outcomeColumnIndices, outcomeColumns(detector: d, positions: positions, grid: grid)) { columns[i] = .values(values) }
        return columns.map { $0! }
    }

    /// predictions.parquet's columns that depend on the sample alone, and the others.
    static let sampleColumnIndices = [0, 1, 2, 3, 5, 6, 7, 8, 9, 16]
    static let outcomeColumnIndices = [4, 10, 11, 12, 13, 14, 15]

    static func sampleColumns(_ positions: [Int], runID: String, samples: [PlannedSample]) -> [ParquetColumnValues] {
        sampleColumnIndices.indices.map { sampleColumn($0, positions, runID: runID, samples: samples) }
    }

    /// The `k`th of the sample columns (`sampleColumnIndices[k]` in the schema).
    static func sampleColumn(_ k: Int, _ positions: [Int], runID: String, samples: [PlannedSample]) -> ParquetColumnValues {
        switch k {
        case 0: .string(positions.map { _ in runID })
        case 1: .string(positions.map { samples[$0].id })
        case 2: .string(positions.map { samples[$0].uri })
        case 3: .string(positions.map { samples[$0].sha256 })
        case 4: .string(positions.map { samples[$0].dataset })
        case 5: .string(positions.map { samples[$0].sourceKind.rawValue })
        case 6: .string(positions.map { samples[$0].mediaType.rawValue })
        case 7: .string(positions.map { samples[$0].modality.rawValue })
        case 8: .int32(positions.map { Int32(samples[$0].label) })
        default: .string(positions.map { samples[$0].sourceKind == .generator ? samples[$0].generatorFamily : nil })
        }
    }

    static func outcomeColumns(detector d: Int, positions: [Int], grid: OutcomeGrid) -> [ParquetColumnValues] {
        [
            .string(positions.map { _ in grid.detectors[d] }),
            .double(positions.map { grid.pAI(detector: d, position: $0) }),
            .int32(positions.map { grid.predicted[d][$0] < 0 ? nil : Int32(grid.predicted[d][$0]) }),
            .string(positions.map { grid.status(detector: d, position: $0)?.rawValue ?? "" }),
            .string(positions.map { grid.error(detector: d, position: $0) }),
            .double(positions.map { grid.latencyMs[d][$0] }),
            .int32(positions.map { grid.batch[d][$0] }),
        ]
    }

    public static let metricsSchema = ParquetSchema(columns: [
        stringColumn("run_id"), stringColumn("detector"), stringColumn("scope"), stringColumn("key"),
        column("samples", .int64), column("tp", .int64), column("tn", .int64), column("fp", .int64), column("fn", .int64),
        column("accuracy", .double), column("mcc", .double), column("brier", .double), column("cross_entropy", .double),
        column("sn34", .double),
        column("auc", .double, optional: true), column("ece", .double, optional: true),
        column("recall_real", .double, optional: true), column("recall_ai", .double, optional: true),
        column("sn34_ci_lower", .double, optional: true), column("sn34_ci_upper", .double, optional: true),
    ])

    public static func writeMetrics(path: String, runID: String, scores: [DetectorScore], metadata: [(String, String)]) throws {
        let rows = scores.flatMap { score in RunLedger.metricRows(score).map { (score.detector, $0.scope, $0.key, $0.metrics) } }
        let partial = path + ".partial"
        let writer = try ParquetWriter(path: partial, schema: metricsSchema, codec: .gzip, keyValueMetadata: metadata, createdBy: "gascli")
        try writer.writeRowGroup([
            .string(rows.map { _ in runID }), .string(rows.map { $0.0 }), .string(rows.map { $0.1 }), .string(rows.map { $0.2 }),
            .int64(rows.map { Int64($0.3.samples) }), .int64(rows.map { Int64($0.3.truePositives) }),
            .int64(rows.map { Int64($0.3.trueNegatives) }), .int64(rows.map { Int64($0.3.falsePositives) }),
            .int64(rows.map { Int64($0.3.falseNegatives) }),
            .double(rows.map { $0.3.accuracy }), .double(rows.map { $0.3.mcc }), .double(rows.map { $0.3.brier }),
            .double(rows.map { $0.3.crossEntropy }), .double(rows.map { $0.3.sn34 }),
            .double(rows.map { $0.3.auc }), .double(rows.map { $0.3.ece }),
            .double(rows.map { $0.3.recallReal }), .double(rows.map { $0.3.recallAI }),
            .double(rows.map { $0.3.sn34CI?.lower }), .double(rows.map { $0.3.sn34CI?.upper }),
        ])
        FaultInjection.reach(.metricsParquetWriting)
        try writer.close()
        try AtomicFile.publish(partial, as: path)
        FaultInjection.reach(.metricsParquetRenamed)
    }
}

/// Files appear complete or not at all: written beside their final name, then renamed over it,
/// so a run killed while writing results never leaves a truncated file under the real name.
public enum AtomicFile {
    public static func publish(_ temporary: String, as path: String) throws {
        guard rename(temporary, path) == 0 else {
            throw StoreError.database(path: path, underlying: "cannot move \(temporary) into place: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `path.partial`, then renames it over `path`; a leftover `.partial` from a killed
    /// writer is simply overwritten next time. `fault` names the test fault point reached halfway.
    /// `sharedFolder`: other processes (concurrent shards) may write the same file at the same
    /// time, so each writes its own `path.partial-<pid>`; with one name, one process's rename
    /// would take the file the other is about to rename.
    public static func write(_ data: Data, to path: String, fault: FaultInjection.Point? = nil, sharedFolder: Bool = false) throws {
        let partial = sharedFolder ? path + ".partial-\(getpid())" : path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.fileWrite(path: partial, code: errno) }
        defer { close(fd) }
        let half = data.count / 2
        try writeAll(fd, data.prefix(half), path: partial)
        if let fault { FaultInjection.reach(fault) }
        try writeAll(fd, data.dropFirst(half), path: partial)
        try publish(partial, as: path)
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    /// Writes every byte to `fd` (short writes and interrupted calls continued); `path` names the
    /// file in the error.
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.fileWrite(path: path, code: errno)
            }
            done += n
        }
    }
}

/// Columns gathered on a thread of their own while the caller writes the previous row group.
final class GatheredColumns: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var columns: Result<[ParquetColumnInput], any Error> = .success([])

    init(_ gather: @escaping @Sendable () throws -> [ParquetColumnInput]) {
        Thread.detachNewThread { [self] in
            columns = Result { try gather() }
            done.signal()
        }
    }

    /// The columns, once gathered (call once).
    func wait() throws -> [ParquetColumnInput] {
        done.wait()
        return try columns.get()
    }
}

/// The encoded sample columns of each range of positions, kept from the first detector's row
/// group of the range to the last one's. Used by one gathering thread at a time.
final class SampleColumnChunks: @unchecked Sendable {
    private let encoder: ParquetColumnEncoder
    private let shared: Bool
    private let lock = NSLock()
    private var byRange: [Int: [EncodedColumnChunk]] = [:]

    /// `shared`: whether more than one detector's row groups will use them.
    init(encoder: ParquetColumnEncoder, shared: Bool) {
        self.encoder = encoder
        self.shared = shared
    }

    /// The chunks of `range`, encoded on first use; nil when only one detector would use them.
    func chunks(for range: Range<Int>, lastUse: Bool, samples: [PlannedSample], runID: String) throws -> [EncodedColumnChunk]? {
        guard shared else { return nil }
        if let known = lock.withLock({ lastUse ? byRange.removeValue(forKey: range.lowerBound) : byRange[range.lowerBound] }) { return known }
        // Each column made and encoded on a core of its own: the first detector's row groups wait
        // for these (the later detectors' read them back from the file), while the writer is idle.
        let positions = Array(range), indices = ResultFiles.sampleColumnIndices, encoder = encoder
        let chunks = try Parallel.map(indices.count) { k in
            try encoder.encode(ResultFiles.sampleColumn(k, positions, runID: runID, samples: samples), at: indices[k])
        }
        if !lastUse { lock.withLock { byRange[range.lowerBound] = chunks } }
        return chunks
    }

    /// The chunks of `range` as written to the file, in place of their bytes (a range whose last
    /// use has come stays gone).
    func keep(_ written: [EncodedColumnChunk], for range: Range<Int>) {
        lock.withLock {
            if byRange[range.lowerBound] != nil { byRange[range.lowerBound] = written }
        }
    }
}
