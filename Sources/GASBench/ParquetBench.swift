import Foundation
import GASParquet
import GASStore

/// Parquet writing: the predictions table (10 columns) from memory to a file, against pyarrow's
/// `write_table` on the very same rows (it reads our file first, untimed) with the same codec,
/// compression level, dictionary columns, row group size and page size.
enum ParquetBench {
    /// The benchmark's columns: the predictions.parquet columns the issue names, with the same
    /// per-column settings ResultFiles uses (dictionary for low-cardinality strings, none for ids).
    static let schema = ParquetSchema(columns: [
        ParquetColumn(name: "sample_id", type: .byteArray, logical: .string, optional: false, dictionary: false),
        ParquetColumn(name: "sha256", type: .byteArray, logical: .string, optional: false, dictionary: false),
        ParquetColumn(name: "dataset", type: .byteArray, logical: .string, optional: false, dictionary: true),
        ParquetColumn(name: "detector", type: .byteArray, logical: .string, optional: false, dictionary: true),
        ParquetColumn(name: "label", type: .int32, optional: false, dictionary: false),
        ParquetColumn(name: "p_ai", type: .double, optional: true, dictionary: false),
        ParquetColumn(name: "predicted", type: .int32, optional: true, dictionary: false),
        ParquetColumn(name: "status", type: .byteArray, logical: .string, optional: false, dictionary: true),
        ParquetColumn(name: "latency_ms", type: .double, optional: false, dictionary: false),
        ParquetColumn(name: "batch", type: .int32, optional: false, dictionary: false),
    ])

    /// Row groups of the benchmark table, generated deterministically: 24-hex sample ids, 64-hex
    /// hashes, 12 datasets, 4 detectors, 1% errors (null p_ai and predicted), p_ai as float32 values.
    static func rowGroups(rows: Int, groupSize: Int = ResultFiles.rowGroupSize) -> [[ParquetColumnValues]] {
        var rng = BenchRandom(seed: 34)
        let datasets = (0..<12).map { "dataset-\($0)-" + ($0 % 2 == 0 ? "real" : "synthetic") }
        let detectors = ["baseline", "uid-17", "uid-42", "uid-99"]
        var groups: [[ParquetColumnValues]] = []
        var start = 0
        while start < rows {
            let n = min(groupSize, rows - start)
            var ids: [String?] = [], shas: [String?] = [], ds: [String?] = [], dets: [String?] = []
            var labels: [Int32?] = [], ps: [Double?] = [], preds: [Int32?] = [], statuses: [String?] = []
            var latencies: [Double?] = [], batches: [Int32?] = []
            for i in 0..<n {
                let row = start + i
                let sample = row / detectors.count
                ids.append(Hex.string(&rng, count: 24))
                shas.append(Hex.string(&rng, count: 64))
                let d = sample % datasets.count
                ds.append(datasets[d])
                dets.append(detectors[row % detectors.count])
                let label = Int32(d % 2)
                labels.append(label)
                if rng.below(100) == 0 {
                    ps.append(nil); preds.append(nil); statuses.append("error")
                } else {
                    let p = Double(Float(min(max(0.35 * Double(label) + 0.65 * rng.unit(), 0), 1)))
                    ps.append(p); preds.append(p > 0.5 ? 1 : 0); statuses.append("ok")
                }
                latencies.append(Double(Float(0.5 + rng.unit() * 3)))
                batches.append(Int32(sample / 64 + 1))
            }
            groups.append([.string(ids), .string(shas), .string(ds), .string(dets), .int32(labels), .double(ps), .int32(preds),
                           .string(statuses), .double(latencies), .int32(batches)])
            start += n
        }
        return groups
    }

    static func write(_ groups: [[ParquetColumnValues]], to path: String) throws {
        let writer = try ParquetWriter(path: path, schema: schema, codec: ResultFiles.predictionsCodec, createdBy: "gascli-bench")
        for g in groups { try writer.writeRowGroup(g) }
        try writer.close()
    }

    static func run(_ options: BenchOptions) throws -> BenchResult {
        let rows = options.scaled(1_000_000, minimum: 1000)
        options.log("parquet: generating \(rows) rows")
        let groups = rowGroups(rows: rows)
        let ours = (options.workDirectory as NSString).appendingPathComponent("bench-ours.parquet")
        var times: [Double] = [], cpu: [Double] = []
        for i in 0..<3 {
            options.log("parquet: writing with gascli's writer (\(i + 1)/3)")
            let m = try Stopwatch.measure { try write(groups, to: ours) }
            times.append(m.wall)
            cpu.append(m.cpu)
        }
        let ourSeconds = Stopwatch.median(times)
        let ourBytes = (try FileManager.default.attributesOfItem(atPath: ours)[.size] as? Int) ?? 0

        options.log("parquet: pyarrow write_table on the same rows")
        let theirs = (options.workDirectory as NSString).appendingPathComponent("bench-pyarrow.parquet")
        let codec = ResultFiles.predictionsCodec.description.lowercased()
        let ref = try PythonReference.run("parquet_write.py", [ours, theirs, codec, String(ResultFiles.predictionsCodec.level ?? 0), String(ResultFiles.rowGroupSize), "3"], options: options)
        guard let refSeconds = ref["median_seconds"] as? Double, let refBytes = ref["bytes"] as? Int else {
            throw BenchError("parquet_write.py returned \(ref)")
        }
        let sameRows = ref["same_rows"] as? Bool ?? false
        let sizeRatio = Double(ourBytes) / Double(max(refBytes, 1))
        let passed = ourSeconds <= refSeconds && sizeRatio <= 1.2 && sameRows
        return BenchResult(
            name: "parquet", title: "write the \(rows.formattedRows)-row predictions table, 10 columns, \(codec) level \(ResultFiles.predictionsCodec.level ?? 0), dictionary on dataset/detector/status, row groups of \(ResultFiles.rowGroupSize)",
            ours: ourSeconds, unit: "s", reference: refSeconds, referenceName: "pyarrow \(ref["version"] as? String ?? "?") write_table",
            target: "time ≤ pyarrow, size ≤ 1.2× pyarrow", passed: passed,
            notes: ["file size: ours \(ourBytes.formattedBytes), pyarrow \(refBytes.formattedBytes) (\(String(format: "%.2f", sizeRatio))×)",
                    "pyarrow read our file back and wrote the same rows: \(sameRows ? "identical tables" : "TABLES DIFFER")",
                    "median of 3 writes each; CPU time: ours \(String(format: "%.3f", Stopwatch.median(cpu))) s, pyarrow \(String(format: "%.3f", ref["median_cpu_seconds"] as? Double ?? 0)) s"])
    }
}

extension Int {
    var formattedRows: String { BenchReport.grouped(self) }
    var formattedBytes: String {
        if self >= 1 << 30 { return String(format: "%.2f GiB", Double(self) / Double(1 << 30)) }
        if self >= 1 << 20 { return String(format: "%.1f MiB", Double(self) / Double(1 << 20)) }
        return String(format: "%.1f KiB", Double(self) / 1024)
    }
}
