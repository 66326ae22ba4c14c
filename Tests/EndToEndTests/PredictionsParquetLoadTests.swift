import Foundation
import Testing
import GASParquet
import GASTestSupport
@testable import GASRunner

/// A predictions Parquet file shared by several detectors is read once for all of them
/// (`PredictionsTable.loadParquet(path:selections:)`): each row goes to the detectors its
/// `detector` value selects, whether the rows come grouped by detector or interleaved, across row
/// groups, with rows that name no detector (null) left to a selection of none.
@Suite struct PredictionsParquetLoadTests {
    @Test func rowsGoToTheDetectorTheyName() throws {
        let dir = try TestSupport.temporaryDirectory("predictions-load")
        let path = dir + "/p.parquet"
        let schema = ParquetSchema(columns: [.string("sample_id"), .string("detector", optional: true),
                                             ParquetColumn(name: "p_ai", type: .double)])
        // (id, detector, p): grouped runs, then interleaved rows, then nulls, in two row groups.
        let groups: [[(String, String?, Double)]] = [
            [("a", "d1", 0.1), ("b", "d1", 0.2), ("a", "d2", 0.3), ("b", "d2", 0.4), ("c", "d1", 0.5)],
            [("c", "d2", 0.6), ("d", "d1", 0.7), ("d", "d2", 0.8), ("e", nil, 0.9), ("f", nil, 0.15), ("e", "d1", 0.25)],
        ]
        let writer = try ParquetWriter(path: path, schema: schema, codec: .snappy)
        for rows in groups {
            try writer.writeRowGroup([.string(rows.map { $0.0 }), .string(rows.map { $0.1 }), .double(rows.map { $0.2 })])
        }
        try writer.close()
        let tables = try PredictionsTable.loadParquet(path: path, selections: ["d1", "d2"])
        let d1 = ["a": 0.1, "b": 0.2, "c": 0.5, "d": 0.7, "e": 0.25], d2 = ["a": 0.3, "b": 0.4, "c": 0.6, "d": 0.8]
        for (table, expected) in zip(tables, [d1, d2]) {
            for id in ["a", "b", "c", "d", "e", "f", "g"] {
                #expect(table.probabilities(for: id)?.last == expected[id], "\(id)")
            }
        }
        #expect(throws: (any Error).self, "a file of several detectors needs a selection") {
            try PredictionsTable.loadParquet(path: path, selections: [nil])
        }
    }
}
