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
                             grid: OutcomeGrid(sampleIDs: samples.map(\.id), outcomes: outcomes), metadata: metadata)
    }

    /// The same file from the compact outcome grid (detectors by name, then plan position), built
    /// one row group at a time: memory holds two row groups' columns, not a record per outcome.
    /// The next row group's columns are gathered while the current one is encoded and written.
    public static func writePredictions(path: String, runID: String, samples: [PlannedSample], grid: OutcomeGrid,
                                        metadata: [(String, String)]) throws {
        let partial = path + ".partial"
        let writer = try ParquetWriter(path: partial, schema: predictionsSchema, codec: predictionsCodec, keyValueMetadata: metadata,
                                       createdBy: "gascli")
        // The (detector, position) cells of each row group, in file order.
        var d = 0, p = 0
        func nextCells() -> [(d: Int, p: Int)]? {
            var cells: [(d: Int, p: Int)] = []
            cells.reserveCapacity(rowGroupSize)
            while d < grid.detectors.count && !samples.isEmpty && cells.count < rowGroupSize {
                if grid.has(detector: d, position: p) { cells.append((d, p)) }
                p += 1
                if p == samples.count { (d, p) = (d + 1, 0) }
            }
            return cells.isEmpty ? nil : cells
        }
        var current = nextCells().map { predictionColumns($0, runID: runID, samples: samples, grid: grid) }
        while let columns = current {
            // The next group's columns on a thread of their own (the writer encodes on the dispatch
            // pool's threads, which a nested parallel loop would leave it without).
            let gathered = nextCells().map { cells in
                GatheredColumns { predictionColumns(cells, runID: runID, samples: samples, grid: grid) }
            }
            do {
                try writer.writeRowGroup(columns)
            } catch {
                _ = gathered?.wait()
                throw error
            }
            FaultInjection.reach(.predictionsWriting)
            current = gathered?.wait()
        }
        try writer.close()
        FaultInjection.reach(.predictionsBeforeRename)
        try AtomicFile.publish(partial, as: path)
        FaultInjection.reach(.predictionsRenamed)
    }

    /// One row group's columns of predictions.parquet.
    static func predictionColumns(_ rows: [(d: Int, p: Int)], runID: String, samples: [PlannedSample], grid: OutcomeGrid) -> [ParquetColumnValues] {
        [
            .string(rows.map { _ in runID }),
            .string(rows.map { samples[$0.p].id }),
            .string(rows.map { samples[$0.p].uri }),
            .string(rows.map { samples[$0.p].sha256 }),
            .string(rows.map { grid.detectors[$0.d] }),
            .string(rows.map { samples[$0.p].dataset }),
            .string(rows.map { samples[$0.p].sourceKind.rawValue }),
            .string(rows.map { samples[$0.p].mediaType.rawValue }),
            .string(rows.map { samples[$0.p].modality.rawValue }),
            .int32(rows.map { Int32(samples[$0.p].label) }),
            .double(rows.map { grid.pAI(detector: $0.d, position: $0.p) }),
            .int32(rows.map { grid.predicted[$0.d][$0.p] < 0 ? nil : Int32(grid.predicted[$0.d][$0.p]) }),
            .string(rows.map { grid.status(detector: $0.d, position: $0.p)?.rawValue ?? "" }),
            .string(rows.map { grid.error(detector: $0.d, position: $0.p) }),
            .double(rows.map { grid.latencyMs[$0.d][$0.p] }),
            .int32(rows.map { grid.batch[$0.d][$0.p] }),
            .string(rows.map { samples[$0.p].sourceKind == .generator ? samples[$0.p].generatorFamily : nil }),
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
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
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
}

/// Columns gathered on a thread of their own while the caller writes the previous row group.
private final class GatheredColumns: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var columns: [ParquetColumnValues] = []

    init(_ gather: @escaping @Sendable () -> [ParquetColumnValues]) {
        Thread.detachNewThread { [self] in
            columns = gather()
            done.signal()
        }
    }

    /// The columns, once gathered (call once).
    func wait() -> [ParquetColumnValues] {
        done.wait()
        return columns
    }
}
