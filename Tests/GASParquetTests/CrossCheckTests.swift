// Cross-checks against real readers and writers: files we write are read back by pyarrow and
// DuckDB; files pyarrow (and DuckDB) write are read by us. Values are compared one by one.
// Python is GAS_TEST_PYTHON, else <package>/.venv/bin/python3, else python3; missing pyarrow or
// duckdb fails these tests with a hint to run ./install.sh --with-test-tools.

import Foundation
import Testing
@testable import GASParquet

@Suite struct CrossCheckTests {
    // MARK: Swift writes, pyarrow + DuckDB read

    private static let readScript = """
        out = {}
        con = duckdb.connect()
        con.execute("SET threads=1")
        for path in sys.argv[1:]:
            pf = pq.ParquetFile(path)
            table = pf.read()
            kinds = {name: kind_of(table.schema.field(name).type) for name in table.column_names}
            res = {"rows": table.num_rows, "row_groups": pf.metadata.num_row_groups, "pyarrow": {}, "duckdb": {},
                   "pa_stats": [], "duck_stats": [], "kv": {}}
            for name in table.column_names:
                res["pyarrow"][name] = [canon(v, kinds[name]) for v in table.column(name).to_pylist()]
            md = pf.metadata
            res["kv"] = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
            for rg in range(md.num_row_groups):
                stats = {}
                for ci in range(md.num_columns):
                    c = md.row_group(rg).column(ci)
                    s = c.statistics
                    name = c.path_in_schema
                    e = {"nulls": s.null_count if s is not None and s.has_null_count else None, "min": None, "max": None}
                    if s is not None and s.has_min_max:
                        e["min"] = canon(s.min, kinds[name])
                        e["max"] = canon(s.max, kinds[name])
                    stats[name] = e
                res["pa_stats"].append(stats)
            quoted = path.replace("'", "''")
            cur = con.execute(f"SELECT * FROM read_parquet('{quoted}', file_row_number=true) ORDER BY file_row_number")
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
            for i, name in enumerate(names):
                if name != "file_row_number":
                    res["duckdb"][name] = [canon(r[i], kinds[name]) for r in rows]
            meta = con.execute(f"SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('{quoted}') ORDER BY row_group_id, column_id").fetchall()
            res["duck_stats"] = [[r[0], str(r[1]), r[2], r[3], r[4]] for r in meta]
            out[path] = res
        print(json.dumps(out))
        """

    private struct ReadResult: Decodable {
        struct Stat: Decodable { let nulls: Int?; let min: String?; let max: String? }
        let rows: Int
        let row_groups: Int
        let pyarrow: [String: [String?]]
        let duckdb: [String: [String?]]
        let pa_stats: [[String: Stat]]
        let duck_stats: [[DuckValue]]
        let kv: [String: String]
    }

    /// DuckDB metadata rows mix ints, strings and nulls.
    private enum DuckValue: Decodable {
        case int(Int), string(String), null
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null } else if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
        }
        var string: String? { if case .string(let s) = self { return s }; if case .int(let i) = self { return String(i) }; return nil }
        var int: Int? { if case .int(let i) = self { return i }; return nil }
    }

    /// Statistics our writer must have recorded for a column chunk, in canonical string form.
    private func expectedStatistics(_ values: ParquetColumnValues) -> (nulls: Int, min: String?, max: String?) {
        let texts = canonical(values)
        let nulls = texts.filter { $0 == nil }.count
        switch values {
        case .boolean(let v):
            let present = v.compactMap { $0 }
            guard !present.isEmpty else { return (nulls, nil, nil) }
            return (nulls, present.contains(false) ? "false" : "true", present.contains(true) ? "true" : "false")
        case .int32(let v):
            let present = v.compactMap { $0 }
            return (nulls, present.min().map { String($0) }, present.max().map { String($0) })
        case .int64(let v):
            let present = v.compactMap { $0 }
            return (nulls, present.min().map { String($0) }, present.max().map { String($0) })
        case .float(let v):
            let present = v.compactMap { $0 }.filter { !$0.isNaN }
            guard let lo = present.min(), let hi = present.max() else { return (nulls, nil, nil) }
            return (nulls, String((lo == 0 ? -Float(0) : lo).bitPattern), String((hi == 0 ? Float(0) : hi).bitPattern))
        case .double(let v):
            let present = v.compactMap { $0 }.filter { !$0.isNaN }
            guard let lo = present.min(), let hi = present.max() else { return (nulls, nil, nil) }
            return (nulls, String((lo == 0 ? -Double(0) : lo).bitPattern), String((hi == 0 ? Double(0) : hi).bitPattern))
        case .string(let v):
            let present = v.compactMap { $0.map { Array($0.utf8) } }
            guard let lo = present.min(by: { $0.lexicographicallyPrecedes($1) }),
                  let hi = present.max(by: { $0.lexicographicallyPrecedes($1) }),
                  lo.count <= 4096, hi.count <= 4096 else { return (nulls, nil, nil) }
            return (nulls, String(decoding: lo, as: UTF8.self), String(decoding: hi, as: UTF8.self))
        case .bytes(let v):
            let present = v.compactMap { $0 }
            guard let lo = present.min(by: { $0.lexicographicallyPrecedes($1) }),
                  let hi = present.max(by: { $0.lexicographicallyPrecedes($1) }) else { return (nulls, nil, nil) }
            return (nulls, hex(lo), hex(hi))
        }
    }

    @Test func ourFilesReadByPyarrowAndDuckDB() throws {
        try withTemporaryDirectory { dir in
            let schema = ParquetSchema(columns: Samples.allColumns)
            struct Written { let path: String; let groups: [[ParquetColumnValues]]; let codec: ParquetCodec }
            var written: [Written] = []
            for (index, codec) in ParquetCodec.allCases.filter(\.isAvailable).enumerated() {
                let path = dir.appendingPathComponent("ours-\(codec).parquet").path
                let writer = try ParquetWriter(path: path, schema: schema, codec: codec,
                                               keyValueMetadata: [("gas.run", "cross-check ✓"), ("codec", "\(codec)")])
                if index % 2 == 1 { writer.targetPageBytes = 512 }  // multi-page chunks
                let groups = [Samples.rowGroup(schema, rows: 300, seed: UInt64(index) + 1),
                              Samples.rowGroup(schema, rows: 1, seed: 99),
                              Samples.rowGroup(schema, rows: 77, seed: UInt64(index) + 5)]
                for group in groups { try writer.writeRowGroup(group) }
                try writer.close()
                written.append(Written(path: path, groups: groups, codec: codec))
            }
            let output = try Python.run(Self.readScript, arguments: written.map(\.path), in: dir)
            let results = try JSONDecoder().decode([String: ReadResult].self, from: output)
            for file in written {
                let result = try #require(results[file.path], "no output for \(file.path)")
                let expectedRows = file.groups.reduce(0) { $0 + $1[0].count }
                #expect(result.rows == expectedRows)
                #expect(result.row_groups == file.groups.count)
                #expect(result.kv == ["gas.run": "cross-check ✓", "codec": "\(file.codec)"])
                for (c, column) in schema.columns.enumerated() {
                    let expected = file.groups.flatMap { canonical($0[c]) }
                    #expect(result.pyarrow[column.name] == expected, "pyarrow \(file.codec) \(column.name)")
                    #expect(result.duckdb[column.name] == expected, "duckdb \(file.codec) \(column.name)")
                }
                // Statistics, as pyarrow and DuckDB see them.
                for (g, group) in file.groups.enumerated() {
                    for (c, column) in schema.columns.enumerated() {
                        let want = expectedStatistics(group[c])
                        let pa = try #require(result.pa_stats[g][column.name])
                        #expect(pa.nulls == want.nulls, "pyarrow null_count \(column.name) rg \(g)")
                        if column.type != .byteArray || pa.min != nil {
                            #expect(pa.min == want.min && pa.max == want.max, "pyarrow min/max \(column.name) rg \(g)")
                        }
                        let duck = try #require(result.duck_stats.first { $0[0].int == g && $0[1].string == column.name })
                        #expect(duck[4].int == want.nulls, "duckdb null_count \(column.name) rg \(g)")
                        if column.type == .int64 || column.type == .int32 || column.logical == .string {
                            #expect(duck[2].string == want.min && duck[3].string == want.max, "duckdb min/max \(column.name) rg \(g)")
                        }
                    }
                }
            }
        }
    }

    // MARK: pyarrow / DuckDB write, Swift reads

    private static let writeScript = """
        import random
        out_dir = sys.argv[1]
        rng = random.Random(5)
        n = 2000
        def maybe(v, i, k):
            return None if (i * 7 + k) % 11 == 0 else v
        data = {
            "b": ([maybe(i % 3 == 0, i, 1) for i in range(n)], pa.bool_()),
            "i32": ([maybe((i * 2654435761) % 2**32 - 2**31, i, 2) for i in range(n)], pa.int32()),
            "i64": ([maybe(rng.randint(-2**63, 2**63 - 1), i, 3) for i in range(n)], pa.int64()),
            "f32": ([maybe(rng.random() * 1000 - 500, i, 4) for i in range(n)], pa.float32()),
            "f64": ([maybe(rng.random() * 1e6 - 5e5, i, 5) for i in range(n)], pa.float64()),
            "s": ([maybe(f"s{i % 37}-ü", i, 6) for i in range(n)], pa.string()),
            "s_unique": ([maybe(f"unique {i} {rng.random()}", i, 7) for i in range(n)], pa.string()),
            "bin": ([maybe(bytes(rng.getrandbits(8) for _ in range(i % 9)), i, 8) for i in range(n)], pa.binary()),
            "all_null": ([None] * n, pa.int32()),
            "req_i64": ([i * 1000003 for i in range(n)], pa.int64()),
            "req_s": ([f"r{i % 5}" for i in range(n)], pa.string()),
            "req_b": ([i % 7 == 0 for i in range(n)], pa.bool_()),
            "req_f64": ([i / 3 for i in range(n)], pa.float64()),
        }
        fields = [pa.field(k, t, nullable=not k.startswith("req_")) for k, (_, t) in data.items()]
        table = pa.Table.from_arrays([pa.array(v, t) for v, t in data.values()], schema=pa.schema(fields))
        kinds = {f.name: kind_of(f.type) for f in fields}
        expected = {name: [canon(v, kinds[name]) for v in table.column(name).to_pylist()] for name in table.column_names}
        files = []
        for comp in ["none", "snappy", "gzip", "zstd"]:
            for dictionary in [True, False]:
                for version in ["1.0", "2.0"]:
                    path = os.path.join(out_dir, f"pa-{comp}-{'dict' if dictionary else 'plain'}-v{version}.parquet")
                    pq.write_table(table, path, compression=comp, use_dictionary=dictionary, data_page_version=version,
                                   row_group_size=700, data_page_size=2048)
                    files.append(path)
        empty = os.path.join(out_dir, "pa-empty.parquet")
        pq.write_table(table.slice(0, 0), empty)
        con = duckdb.connect()
        duck = os.path.join(out_dir, "duckdb.parquet")
        con.register("t", table)
        con.execute(f"COPY (SELECT * FROM t) TO '{duck}' (FORMAT parquet, ROW_GROUP_SIZE 1000)")
        files.append(duck)
        errors = {}
        nested = os.path.join(out_dir, "nested.parquet")
        pq.write_table(pa.table({"ok": pa.array([1, 2], pa.int64()), "tags": pa.array([["a"], ["b", "c"]])}), nested)
        errors[nested] = "unsupportedSchema:tags"
        int96 = os.path.join(out_dir, "int96.parquet")
        pq.write_table(pa.table({"ts": pa.array([0, 1], pa.timestamp("ns"))}), int96, use_deprecated_int96_timestamps=True)
        errors[int96] = "unsupportedSchema:ts"
        delta = os.path.join(out_dir, "delta.parquet")
        pq.write_table(table.select(["req_i64"]), delta, use_dictionary=False, column_encoding={"req_i64": "DELTA_BINARY_PACKED"})
        errors[delta] = "unsupportedEncoding:req_i64"
        lz4 = os.path.join(out_dir, "lz4.parquet")
        pq.write_table(table.select(["i32"]), lz4, compression="lz4")
        errors[lz4] = "unsupportedCodec:i32"
        print(json.dumps({"expected": expected, "files": files, "empty": empty, "errors": errors}))
        """

    private struct WriteResult: Decodable {
        let expected: [String: [String?]]
        let files: [String]
        let empty: String
        let errors: [String: String]
    }

    @Test func pyarrowAndDuckDBFilesReadBySwift() throws {
        try withTemporaryDirectory { dir in
            let output = try Python.run(Self.writeScript, arguments: [dir.path], in: dir)
            let result = try JSONDecoder().decode(WriteResult.self, from: output)
            #expect(result.files.count == 17)
            for path in result.files {
                if path.contains("-zstd-") && !ParquetCodec.zstd.isAvailable {
                    do {
                        let reader = try ParquetReader(path: path)
                        _ = try reader.readRowGroup(0)
                        Issue.record("\(path): ZSTD read without the CZstd module")
                    } catch ParquetError.unsupportedCodec {
                    }
                    continue
                }
                let reader = try ParquetReader(path: path)
                #expect(reader.rowCount == 2000, "\(path)")
                var columns: [String: [String?]] = [:]
                for g in 0..<reader.rowGroupCount {
                    for (column, values) in zip(reader.schema.columns, try reader.readRowGroup(g)) {
                        columns[column.name, default: []] += canonical(values)
                    }
                }
                #expect(Set(columns.keys) == Set(result.expected.keys), "\(path)")
                // Byte-array columns handed over in place give the same rows, nulls included.
                for column in reader.schema.columns where column.type == .byteArray {
                    var visited: [String?] = []
                    for g in 0..<reader.rowGroupCount {
                        let first = visited.count
                        try reader.forEachByteArray(inRowGroup: g, column: column.name) { row, bytes in
                            #expect(row == visited.count - first)
                            visited.append(bytes.map { column.logical == .string ? String(decoding: $0, as: UTF8.self) : hex(Array($0)) })
                        }
                    }
                    #expect(visited == columns[column.name], "\(path) column \(column.name)")
                    if column.name == "s" { #expect(visited.contains(nil) && visited.contains { $0 != nil }, "\(path)") }
                }
                for (name, expected) in result.expected {
                    #expect(columns[name] == expected, "\(path) column \(name)")
                }
                if !path.hasSuffix("duckdb.parquet") {
                    let optional = Dictionary(uniqueKeysWithValues: reader.schema.columns.map { ($0.name, $0.optional) })
                    #expect(optional["req_i64"] == false && optional["i64"] == true, "\(path)")
                }
                #expect(reader.schema.columns.first { $0.name == "s" }?.logical == .string)
                #expect(reader.schema.columns.first { $0.name == "bin" }?.logical == ParquetLogicalType.none)
                // Column selection in requested order.
                let picked = try reader.readRowGroup(0, columns: ["req_s", "b"])
                let firstGroupRows = try reader.rowCount(ofRowGroup: 0)
                #expect(picked.count == 2 && picked[0].count == firstGroupRows)
            }

            let empty = try ParquetReader(path: result.empty)
            #expect(empty.rowCount == 0)
            for g in 0..<empty.rowGroupCount {
                #expect(try empty.readRowGroup(g).allSatisfy { $0.count == 0 })
            }

            for (path, expectation) in result.errors {
                let parts = expectation.split(separator: ":").map(String.init)
                do {
                    let reader = try ParquetReader(path: path)
                    for g in 0..<reader.rowGroupCount { _ = try reader.readRowGroup(g) }
                    Issue.record("\(path): expected \(expectation), read fine")
                } catch let error as ParquetError {
                    switch (parts[0], error) {
                    case ("unsupportedSchema", .unsupportedSchema(_, let column, _)),
                         ("unsupportedEncoding", .unsupportedEncoding(_, let column, _)),
                         ("unsupportedCodec", .unsupportedCodec(_, let column?, _)):
                        #expect(column == parts[1], "\(error)")
                    default:
                        Issue.record("\(path): expected \(expectation), got \(error)")
                    }
                }
            }
        }
    }
}
