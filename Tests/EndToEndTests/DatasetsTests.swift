import Foundation
import GASTestSupport
import Testing

/// gasbench catalogs as they are, Parquet shards as the hub publishes them, `gascli datasets`.
@Suite struct DatasetsCommandTests {
    /// A data root laid out like `huggingface-cli download --local-dir <root>/<org>/<name>`, and a
    /// catalog in gasbench's own format (hub ids as paths, fields gascli does not use).
    func fixture() throws -> RoundFixture {
        let f = try RoundFixture("gasbench-catalog")
        try f.copyPhotos(6, to: "src")
        try TestSupport.requirePythonModules(["pyarrow"])
        let script = """
            import sys, os, json
            import pyarrow as pa, pyarrow.parquet as pq
            root = sys.argv[1]
            src = os.path.join(root, "src")
            pngs = [open(os.path.join(src, n), "rb").read() for n in sorted(os.listdir(src))]
            image_type = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
            d = os.path.join(root, "hub", "34data", "Shooter-real", "data")
            os.makedirs(d, exist_ok=True)
            rows = [{"bytes": p, "path": f"{i}.png"} for i, p in enumerate(pngs)]
            pq.write_table(pa.table({"image": pa.array(rows, image_type)}), os.path.join(d, "train-00000-of-00001.parquet"), row_group_size=4)
            d = os.path.join(root, "hub", "ComplexDataLab", "OpenFake")
            os.makedirs(d, exist_ok=True)
            pq.write_table(pa.table({"image": pa.array(pngs, pa.binary()), "label": pa.array(["real", "fake"] * 3)}),
                           os.path.join(d, "part-0.parquet"), compression="zstd")
            d = os.path.join(root, "hub", "34data", "numbers")
            os.makedirs(d, exist_ok=True)
            pq.write_table(pa.table({"score": pa.array([1, 2], pa.int64())}), os.path.join(d, "x.parquet"))
            """
        let r = try TestSupport.python(script, [f.root])
        #expect(r.status == 0, "\(r.stderr)")
        try f.write("real_images.yaml", """
            datasets:
            - {name: Shooter-real, path: 34data/Shooter-real, modality: image, media_type: real,
               source_format: parquet, media_per_archive: -1, archives_per_dataset: -1,
               notes: Released from v14 bmcore holdouts, generator_family: real, content_category: action}
            - {name: openfake-real, path: ComplexDataLab/OpenFake, modality: image, media_type: real,
               source_format: parquet, media_per_archive: 1000, archives_per_dataset: 1,
               filter_column: label, filter_value: real}
            - {name: openfake-fake, path: ComplexDataLab/OpenFake, modality: image, media_type: synthetic,
               source_format: parquet, media_per_archive: 1000, archives_per_dataset: 1,
               filter_column: label, filter_value: fake, generator_variant: sdxl, source: huggingface}
            - {name: numbers-real, path: 34data/numbers, modality: image, media_type: real, source_format: parquet,
               data_columns: [score]}
            - {name: not-downloaded, path: 34data/elsewhere, modality: image, media_type: real, source_format: parquet,
               include_paths: null, exclude_paths: null}
            """)
        return f
    }

    @Test func listLoadsAGasbenchCatalogAsItIs() async throws {
        try await offPool { try Self().listLoadsAGasbenchCatalogAsItIsBody() }
    }

    func listLoadsAGasbenchCatalogAsItIsBody() throws {
        let f = try fixture()
        var r = try Gascli.run(["datasets", "list", "real_images.yaml"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("generator_variant") && r.stderr.contains("'source' is not used"), "warnings name unused fields: \(r.stderr)")
        #expect(r.stdout.contains("5 dataset(s)"))
        #expect(r.stdout.contains("5 not on this machine"), "\(r.stdout)")
        r = try Gascli.run(["datasets", "list", "real_images.yaml", "--data-root", "hub", "--json"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["datasets"] as? [[String: Any]])
        #expect(rows.count == 5)
        #expect(rows.filter { $0["available"] as? Bool == true }.count == 4)
        #expect(rows.first { $0["name"] as? String == "openfake-real" }?["filter"] as? String == "label == real")
        // Grouped form and a bad entry.
        try f.write("grouped.yaml", """
            image:
              - {name: a, path: src, media_type: real, source_format: png}
            audio:
              - {name: b, path: src, modality: image, media_type: real}
            """)
        r = try Gascli.run(["datasets", "list", "grouped.yaml"], cwd: f.root)
        #expect(r.status == 2 && r.stderr.contains("contradicts the 'audio:' group"), "\(r.stderr)")
    }

    @Test func checkReportsCountsLabelsFormatsAndUnusableDatasets() async throws {
        try await offPool { try Self().checkReportsCountsLabelsFormatsAndUnusableDatasetsBody() }
    }

    func checkReportsCountsLabelsFormatsAndUnusableDatasetsBody() throws {
        let f = try fixture()
        let r = try Gascli.run(["datasets", "check", "real_images.yaml", "--data-root", "hub"], cwd: f.root)
        #expect(r.status == 1, "numbers-real and not-downloaded are unusable: \(r.stdout) \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        func row(_ name: String) -> String { lines.first { $0.hasPrefix("  \(name) ") } ?? "" }
        #expect(row("Shooter-real").contains("png 6") && row("Shooter-real").hasSuffix("ok"), "\(r.stdout)")
        #expect(row("openfake-real").contains("png 3"), "\(r.stdout)")
        #expect(row("openfake-fake").contains("1 (synthetic)") && row("openfake-fake").contains("png 3"))
        #expect(row("numbers-real").hasSuffix("UNUSABLE"))
        #expect(r.stdout.contains("holds INT64 values, not media"))
        #expect(r.stdout.contains("numbers/x.parquet"), "names the file: \(r.stdout)")
        #expect(r.stdout.contains("not-downloaded: unusable: not downloaded"))
        #expect(r.stdout.contains("samples: 9 real (label 0), 3 AI-generated (label 1); 2 unusable dataset(s)"), "\(r.stdout)")
        let ok = try Gascli.run(["datasets", "check", "real_images.yaml", "--data-root", "hub", "--datasets", "openfake-*", "Shooter-real"], cwd: f.root)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
    }

    @Test func aRoundOverParquetShardsRunsAndRecordsTheSkippedDataset() async throws {
        try await offPool { try Self().aRoundOverParquetShardsRunsAndRecordsTheSkippedDatasetBody() }
    }

    func aRoundOverParquetShardsRunsAndRecordsTheSkippedDatasetBody() throws {
        let f = try fixture()
        try f.write("spec.yaml", """
            version: 1
            round: {name: pq, seed: 9, modalities: [image]}
            catalogs: [real_images.yaml]
            sources:
              - {kind: real, datasets: ["openfake-*", "Shooter-real", "numbers-real"], samples: 12, sampling: weighted}
            detectors:
              - {name: base, adapter: builtin, model: image-baseline}
            outputs: {directory: runs}
            """)
        // Strict loading: a catalog entry that is not on this machine is an error for a run.
        var r = try Gascli.run(["validate", "spec.yaml"], cwd: f.root)
        #expect(r.status == 2 && r.stderr.contains("looks like a hub repository id"), "\(r.stderr)")
        try f.write("real_images.yaml", (try String(contentsOfFile: f.path("real_images.yaml"), encoding: .utf8))
            .replacingOccurrences(of: "- {name: not-downloaded", with: "# - {name: not-downloaded")
            .replacingOccurrences(of: "   include_paths: null, exclude_paths: null}", with: "#"))
        let run = try TestSupport.run(Gascli.binary, ["run", "spec.yaml", "--quiet"], cwd: f.root, environment: ["GASCLI_DATA_ROOT": f.path("hub")])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let dir = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as? [String: Any])
        let skipped = try #require(manifest["skipped_datasets"] as? [[String: String]])
        #expect(skipped.first?["name"] == "numbers-real" && skipped.first?["reason"]?.contains("not media") == true)
        let samples = try #require(manifest["samples"] as? [[String: Any]])
        #expect(samples.count == 9, "4 datasets matched: 12 / 4 = 3 each; numbers-real gives none")
        #expect(samples.allSatisfy { ($0["uri"] as? String)?.contains(".parquet#row=") == true })
        #expect(samples.filter { $0["label"] as? Int == 1 }.count == 3)
        r = try Gascli.run(["runs", "--output", "runs"], cwd: f.root)
        #expect(r.stdout.contains("completed"))
    }
}
