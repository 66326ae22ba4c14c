// Structs as the Hugging Face `datasets` library writes them (`image: struct<bytes: binary,
// path: string>`), deeper structs, and files that mix readable columns with lists: written by
// pyarrow in every codec, dictionary setting and data page version, read here value by value.

import Foundation
import Testing
@testable import GASParquet

@Suite struct NestedColumnTests {
    private static let writeScript = """
        out_dir = sys.argv[1]
        n = 230
        def image_cell(i):
            if i % 17 == 3:
                return None                                   # the whole struct is null
            data = None if i % 13 == 5 else bytes([0x89, 0x50, 0x4E, 0x47]) + bytes((i * 7 + k) % 256 for k in range(i % 40))
            path = None if i % 11 == 0 else f"img_{i:05d}.png"
            return {"bytes": data, "path": path}
        image_type = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
        nested_type = pa.struct([pa.field("a", pa.struct([pa.field("b", pa.int32())]), nullable=True), pa.field("c", pa.string(), nullable=False)])
        table = pa.table({
            "image": pa.array([image_cell(i) for i in range(n)], image_type),
            "label": pa.array([i % 2 for i in range(n)], pa.int64()),
            "tags": pa.array([[f"t{i % 3}"] * (i % 3) for i in range(n)], pa.list_(pa.string())),
            "nested": pa.array([None if i % 19 == 0 else {"a": None if i % 7 == 0 else {"b": None if i % 5 == 0 else i}, "c": f"c{i % 4}"} for i in range(n)], nested_type),
            "caption": pa.array([None if i % 9 == 0 else f"caption {i % 6}" for i in range(n)], pa.string()),
        })
        features = {"image": {"_type": "Image"}, "label": {"dtype": "int64", "_type": "Value"}}
        table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
        def flat(v, *path):
            for p in path:
                if v is None:
                    return None
                v = v.get(p)
            return v
        rows = table.to_pylist()
        expected = {
            "image.bytes": [canon(flat(r["image"], "bytes"), "bytes") for r in rows],
            "image.path": [flat(r["image"], "path") for r in rows],
            "label": [canon(r["label"], "int") for r in rows],
            "nested.a.b": [canon(flat(r["nested"], "a", "b"), "int") for r in rows],
            "nested.c": [flat(r["nested"], "c") for r in rows],
            "caption": [r["caption"] for r in rows],
        }
        files = []
        for comp in ["none", "snappy", "gzip", "zstd"]:
            for dictionary in [True, False]:
                for version in ["1.0", "2.0"]:
                    path = os.path.join(out_dir, f"nested-{comp}-{'dict' if dictionary else 'plain'}-v{version}.parquet")
                    pq.write_table(table, path, compression=comp, use_dictionary=dictionary, data_page_version=version,
                                   row_group_size=100, data_page_size=1024)
                    files.append(path)
        print(json.dumps({"expected": expected, "files": files}))
        """

    private struct WriteResult: Decodable {
        let expected: [String: [String?]]
        let files: [String]
    }

    @Test func structColumnsWrittenByPyarrowReadValueByValue() throws {
        try withTemporaryDirectory { dir in
            let output = try Python.run(Self.writeScript, arguments: [dir.path], in: dir)
            let result = try JSONDecoder().decode(WriteResult.self, from: output)
            #expect(result.files.count == 16)
            for path in result.files {
                let reader = try ParquetReader(path: path)
                #expect(reader.rowCount == 230)
                #expect(reader.rowGroupCount == 3)
                #expect(reader.fields.map(\.name) == ["image", "label", "tags", "nested", "caption"])
                #expect(reader.fields[0].isGroup && reader.fields[0].columns == ["image.bytes", "image.path"])
                #expect(!reader.fields[1].isGroup && reader.fields[1].columns == ["label"])
                #expect(reader.unsupportedColumns.keys.sorted() == ["tags.list.element"], "\(path)")
                #expect(reader.schema.columns.map(\.name) == ["image.bytes", "image.path", "label", "nested.a.b", "nested.c", "caption"])
                #expect(reader.schema.columns.first { $0.name == "nested.c" }?.optional == true, "a required leaf of an optional struct is nullable")
                #expect(reader.schema.columns.first { $0.name == "label" }?.optional == true)
                #expect(reader.keyValueMetadata["huggingface"]?.contains("Image") == true)
                let names = Array(result.expected.keys).sorted()
                var columns: [String: [String?]] = [:]
                for g in 0..<reader.rowGroupCount {
                    for (name, values) in zip(names, try reader.readRowGroup(g, columns: names)) {
                        columns[name, default: []] += canonical(values)
                    }
                }
                for name in names {
                    #expect(columns[name] == result.expected[name], "\(path) column \(name)")
                }
                // The list column is named in a typed error; the rest of the file stays readable.
                do {
                    _ = try reader.readRowGroup(0, columns: ["tags"])
                    Issue.record("reading a list column should fail")
                } catch let ParquetError.unsupportedSchema(file, column, reason) {
                    #expect(file == path && column == "tags" && reason.contains("repeated"))
                }
                #expect(throws: ParquetError.self) { try reader.readRowGroup(0) }
            }
        }
    }

    @Test func definitionLevelsAboveTheMaximumAreCorrupt() throws {
        // A v1 page of a struct leaf (maximum level 2, two bits per level) whose levels say 3.
        let column = ParquetColumn(name: "s.x", type: .int32, optional: true)
        var levels: [UInt8] = []
        RLEHybrid.encode([2, 3, 2], bitWidth: 2, into: &levels)
        var body: [UInt8] = []
        withUnsafeBytes(of: UInt32(levels.count).littleEndian) { body += $0 }
        body += levels
        for v: Int32 in [1, 2, 3] { withUnsafeBytes(of: v.littleEndian) { body += $0 } }
        let header = PageHeader(type: PageTypeID.dataPage, uncompressedPageSize: Int32(body.count), compressedPageSize: Int32(body.count),
                                dataPage: DataPageHeader(numValues: 3, encoding: EncodingID.plain))
        let reader = ColumnChunkReader(column: column, codec: CodecID.uncompressed, rowCount: 3, maxDefinitionLevel: 2)
        #expect(throws: FormatIssue.corrupt("definition level 3 above the column's maximum 2")) { try reader.decode(header.encode() + body) }
        // The same levels without the 3 read as values at level 2 and nulls below it.
        var good: [UInt8] = []
        RLEHybrid.encode([2, 1, 0, 2], bitWidth: 2, into: &good)
        var body2: [UInt8] = []
        withUnsafeBytes(of: UInt32(good.count).littleEndian) { body2 += $0 }
        body2 += good
        for v: Int32 in [7, 9] { withUnsafeBytes(of: v.littleEndian) { body2 += $0 } }
        let header2 = PageHeader(type: PageTypeID.dataPage, uncompressedPageSize: Int32(body2.count), compressedPageSize: Int32(body2.count),
                                 dataPage: DataPageHeader(numValues: 4, encoding: EncodingID.plain))
        let four = ColumnChunkReader(column: column, codec: CodecID.uncompressed, rowCount: 4, maxDefinitionLevel: 2)
        #expect(try four.decode(header2.encode() + body2) == .int32([7, nil, nil, 9]))
    }
}
