import GASCore
import GASParquet

/// One row of predictions.parquet, every column as written.
public struct PredictionRow: Sendable, Equatable {
    public var runID: String
    public var sampleID: String
    public var uri: String
    public var sha256: String
    public var detector: String
    public var dataset: String
    public var sourceKind: String
    public var mediaType: String
    public var modality: String
    public var label: Int32
    public var pAI: Double?
    public var predicted: Int32?
    public var status: String
    public var error: String?
    public var latencyMs: Double
    public var batch: Int32
}

/// One row of metrics.parquet.
public struct MetricsFileRow: Sendable, Equatable {
    public var runID: String
    public var detector: String
    public var scope: String
    public var key: String
    public var metrics: BinaryMetrics
}

/// A result file that does not have the shape gascli writes.
public enum ResultFileError: Error, Sendable, CustomStringConvertible {
    case schema(path: String, detail: String)
    case value(path: String, row: Int, column: String, detail: String)

    public var description: String {
        switch self {
        case let .schema(path, detail): "\(path): not a gascli result file: \(detail)"
        case let .value(path, row, column, detail): "\(path): row \(row), column '\(column)': \(detail)"
        }
    }
}

/// Reads back the files `ResultFiles` writes. Why strict: audits read these from bundles that
/// may have been edited, so the schema must be exactly the writer's (names, types, nullability)
/// and a null where the writer never puts one is an error, not a default.
extension ResultFiles {
    public static func readPredictions(path: String) throws -> [PredictionRow] {
        var rows: [PredictionRow] = []
        try readColumns(path: path, schema: predictionsSchema) { c in
            let runIDs = try c.strings("run_id"), samples = try c.strings("sample_id"), uris = try c.strings("uri")
            let hashes = try c.strings("sha256"), detectors = try c.strings("detector"), datasets = try c.strings("dataset")
            let kinds = try c.strings("source_kind"), mediaTypes = try c.strings("media_type"), modalities = try c.strings("modality")
            let labels = try c.int32s("label"), pAIs = try c.optionalDoubles("p_ai")
            let predicted = try c.optionalInt32s("predicted"), statuses = try c.strings("status")
            let errors = try c.optionalStrings("error"), latencies = try c.doubles("latency_ms"), batches = try c.int32s("batch")
            for i in 0..<c.rowCount {
                rows.append(PredictionRow(
                    runID: runIDs[i], sampleID: samples[i], uri: uris[i], sha256: hashes[i], detector: detectors[i],
                    dataset: datasets[i], sourceKind: kinds[i], mediaType: mediaTypes[i], modality: modalities[i],
                    label: labels[i], pAI: pAIs[i], predicted: predicted[i], status: statuses[i], error: errors[i],
                    latencyMs: latencies[i], batch: batches[i]))
            }
        }
        return rows
    }

    public static func readMetrics(path: String) throws -> [MetricsFileRow] {
        var rows: [MetricsFileRow] = []
        try readColumns(path: path, schema: metricsSchema) { c in
            let runIDs = try c.strings("run_id"), detectors = try c.strings("detector"), scopes = try c.strings("scope")
            let keys = try c.strings("key"), samples = try c.int64s("samples")
            let tp = try c.int64s("tp"), tn = try c.int64s("tn"), fp = try c.int64s("fp"), fn = try c.int64s("fn")
            let accuracy = try c.doubles("accuracy"), mcc = try c.doubles("mcc"), brier = try c.doubles("brier")
            let crossEntropy = try c.doubles("cross_entropy"), sn34 = try c.doubles("sn34")
            for i in 0..<c.rowCount {
                let metrics = BinaryMetrics(
                    samples: Int(samples[i]), tp: Int(tp[i]), tn: Int(tn[i]), fp: Int(fp[i]), fn: Int(fn[i]),
                    accuracy: accuracy[i], mcc: mcc[i], brier: brier[i], crossEntropy: crossEntropy[i], sn34: sn34[i])
                rows.append(MetricsFileRow(runID: runIDs[i], detector: detectors[i], scope: scopes[i], key: keys[i], metrics: metrics))
            }
        }
        return rows
    }

    /// Opens the file, checks its schema against the writer's, and hands each row group's columns to `body`.
    private static func readColumns(path: String, schema: ParquetSchema, _ body: (RowGroupColumns) throws -> Void) throws {
        let reader = try ParquetReader(path: path)
        let found = reader.schema.columns.map { "\($0.name) \($0.type)\($0.optional ? "?" : "")" }
        let expected = schema.columns.map { "\($0.name) \($0.type)\($0.optional ? "?" : "")" }
        guard found == expected else {
            throw ResultFileError.schema(path: path, detail: "columns [\(found.joined(separator: ", "))], expected [\(expected.joined(separator: ", "))]")
        }
        var firstRow = 0
        for group in 0..<reader.rowGroupCount {
            let values = try reader.readRowGroup(group)
            let count = try reader.rowCount(ofRowGroup: group)
            let columns = RowGroupColumns(path: path, firstRow: firstRow, rowCount: count,
                                          values: Dictionary(zip(schema.columns.map(\.name), values), uniquingKeysWith: { a, _ in a }))
            try body(columns)
            firstRow += count
        }
    }
}

/// The columns of one row group, by name. Each accessor checks the value kind and the length, and
/// the required ones reject nulls (a null where the writer never puts one is an error, not a default).
private struct RowGroupColumns {
    let path: String
    let firstRow: Int
    let rowCount: Int
    let values: [String: ParquetColumnValues]

    func strings(_ name: String) throws -> [String] { try required(name, "string", Self.string) }
    func optionalStrings(_ name: String) throws -> [String?] { try optional(name, "string", Self.string) }
    func doubles(_ name: String) throws -> [Double] { try required(name, "double", Self.double) }
    func optionalDoubles(_ name: String) throws -> [Double?] { try optional(name, "double", Self.double) }
    func int32s(_ name: String) throws -> [Int32] { try required(name, "int32", Self.int32) }
    func optionalInt32s(_ name: String) throws -> [Int32?] { try optional(name, "int32", Self.int32) }
    func int64s(_ name: String) throws -> [Int64] { try required(name, "int64", Self.int64) }

    private static func string(_ v: ParquetColumnValues) -> [String?]? { if case .string(let x) = v { x } else { nil } }
    private static func double(_ v: ParquetColumnValues) -> [Double?]? { if case .double(let x) = v { x } else { nil } }
    private static func int32(_ v: ParquetColumnValues) -> [Int32?]? { if case .int32(let x) = v { x } else { nil } }
    private static func int64(_ v: ParquetColumnValues) -> [Int64?]? { if case .int64(let x) = v { x } else { nil } }

    private func optional<T>(_ name: String, _ kind: String, _ extract: (ParquetColumnValues) -> [T?]?) throws -> [T?] {
        guard let column = values[name], let v = extract(column) else {
            throw ResultFileError.schema(path: path, detail: "column '\(name)' does not hold \(kind) values")
        }
        guard v.count == rowCount else {
            throw ResultFileError.value(path: path, row: firstRow + 1, column: name, detail: "\(v.count) values in a row group of \(rowCount) rows")
        }
        return v
    }

    private func required<T>(_ name: String, _ kind: String, _ extract: (ParquetColumnValues) -> [T?]?) throws -> [T] {
        let v = try optional(name, kind, extract)
        let present = v.compactMap { $0 }
        if present.count != v.count, let i = v.firstIndex(where: { $0 == nil }) {
            throw ResultFileError.value(path: path, row: firstRow + i + 1, column: name, detail: "null in a column gascli never leaves empty")
        }
        return present
    }
}
