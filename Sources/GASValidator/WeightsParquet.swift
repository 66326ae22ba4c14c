import Foundation
import GASParquet
import GASStore

/// `weights.parquet`: one row per (weight set, uid) with the raw, processed and u16 weight.
/// Rewritten whole after every change (a few thousand rows per year of sets), atomically.
public enum WeightsParquet {
    public static let schema = ParquetSchema(columns: [
        ParquetColumn(name: "occurrence", type: .int64, logical: .none, optional: false, dictionary: false),
        ParquetColumn(name: "status", type: .byteArray, logical: .string, optional: false, dictionary: true),
        ParquetColumn(name: "computed_block", type: .int64, logical: .none, optional: true, dictionary: false),
        ParquetColumn(name: "emitted_block", type: .int64, logical: .none, optional: true, dictionary: false),
        ParquetColumn(name: "uid", type: .int32, logical: .none, optional: false, dictionary: false),
        ParquetColumn(name: "hotkey", type: .byteArray, logical: .string, optional: false, dictionary: true),
        ParquetColumn(name: "raw", type: .double, logical: .none, optional: false, dictionary: false),
        ParquetColumn(name: "processed", type: .double, logical: .none, optional: false, dictionary: false),
        ParquetColumn(name: "u16", type: .int32, logical: .none, optional: false, dictionary: false),
    ])

    public static func write(path: String, rows: [(occurrence: Int64, status: String, computedBlock: Int64?, emittedBlock: Int64?, uid: Int,
                                                   hotkey: String, raw: Double, processed: Double, u16: Int)]) throws {
        let partial = path + ".partial"
        let writer = try ParquetWriter(path: partial, schema: schema, codec: .gzip, keyValueMetadata: [("gascli.table", "weights")], createdBy: "gascli")
        if !rows.isEmpty {
            try writer.writeRowGroup([
                .int64(rows.map { $0.occurrence }), .string(rows.map { $0.status }),
                .int64(rows.map { $0.computedBlock }), .int64(rows.map { $0.emittedBlock }),
                .int32(rows.map { Int32($0.uid) }), .string(rows.map { $0.hotkey }),
                .double(rows.map { $0.raw }), .double(rows.map { $0.processed }), .int32(rows.map { Int32($0.u16) }),
            ])
        }
        try writer.close()
        try AtomicFile.publish(partial, as: path)
    }
}
