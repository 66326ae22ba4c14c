import Foundation
import GASCore
import GASMedia
import GASSpec
import GASTestSupport
import Testing
@testable import GASData

/// Parquet datasets as the hub publishes them, written here by pyarrow: the `datasets` library's
/// `image: struct<bytes, path>`, several media columns, base64 text, filters, bad shards.
@Suite struct ParquetDatasetTests {
    static let script = """
        import sys, os, base64, json
        import pyarrow as pa, pyarrow.parquet as pq
        out, photos = sys.argv[1], sys.argv[2]
        names = sorted(os.listdir(photos))[:6]
        pngs = [open(os.path.join(photos, n), "rb").read() for n in names]
        image_type = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
        os.makedirs(f"{out}/hf", exist_ok=True)
        rows = [{"bytes": pngs[i % 6], "path": names[i % 6]} for i in range(10)]
        rows[3] = None                                   # null struct: skipped while listing
        rows[7] = {"bytes": b"not an image at all", "path": "x.png"}  # undecodable: a skipped sample
        t = pa.table({"image": pa.array(rows, image_type),
                      "label": pa.array(["real" if i % 2 == 0 else "fake" for i in range(10)]),
                      "image_id": pa.array(list(range(10)), pa.int64())})
        t = t.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": {"image": {"_type": "Image"}}}})})
        pq.write_table(t.slice(0, 6), f"{out}/hf/train-00000-of-00002.parquet", row_group_size=4, compression="snappy")
        pq.write_table(t.slice(6), f"{out}/hf/train-00001-of-00002.parquet", compression="zstd", data_page_version="2.0")
        os.makedirs(f"{out}/pairs", exist_ok=True)
        pq.write_table(pa.table({"src_img": pa.array(pngs[:3], pa.binary()), "tgt_img": pa.array(pngs[3:6], pa.binary()),
                                 "prompt": pa.array(["a", "b", "c"])}), f"{out}/pairs/data.parquet", compression="gzip")
        os.makedirs(f"{out}/b64", exist_ok=True)
        pq.write_table(pa.table({"picture": pa.array([base64.b64encode(p).decode() for p in pngs[:2]] + ["%%%"])}),
                       f"{out}/b64/data.parquet", compression="none")
        os.makedirs(f"{out}/numbers", exist_ok=True)
        pq.write_table(pa.table({"score": pa.array([1, 2, 3], pa.int64())}), f"{out}/numbers/data.parquet")
        os.makedirs(f"{out}/mixed", exist_ok=True)
        pq.write_table(pa.table({"image": pa.array(pngs[:2], pa.binary())}), f"{out}/mixed/a.parquet")
        good = open(f"{out}/mixed/a.parquet", "rb").read()
        open(f"{out}/mixed/b.parquet", "wb").write(good[: len(good) // 2])   # truncated shard
        """

    static func fixture() throws -> String {
        let dir = try TestSupport.temporaryDirectory("parquet-ds")
        try TestSupport.requirePythonModules(["pyarrow"])
        let r = try TestSupport.python(script, [dir, TestSupport.repositoryRoot + "/datasets/photos"])
        guard r.status == 0 else { throw TestSupportError("pyarrow fixture failed: \(r.stderr)") }
        return dir
    }

    func entry(_ name: String, _ path: String, columns: [String] = [], filter: (String, String)? = nil,
               perFile: Int? = nil, format: String = "parquet") -> CatalogEntry {
        CatalogEntry(name: name, path: path, modality: .image, mediaType: .real, sourceFormat: format, maxSamples: nil,
                     mediaPerArchive: perFile, archivesPerDataset: nil, includePaths: [], excludePaths: [],
                     generatorFamily: nil, contentCategory: nil, catalogFile: "c.yaml", dataColumns: columns,
                     filterColumn: filter?.0, filterValue: filter?.1)
    }

    @Test func columnDetectionFollowsGasbench() {
        #expect(ParquetSource.detectColumns(fields: ["image_id", "image", "x"], modality: .image) == ["image"])
        #expect(ParquetSource.detectColumns(fields: ["image_id", "src_image"], modality: .image) == ["src_image"])
        #expect(ParquetSource.detectColumns(fields: ["image_id"], modality: .image) == ["image_id"])
        #expect(ParquetSource.detectColumns(fields: ["audio_bytes", "wav_data", "speaker_id"], modality: .audio) == ["audio_bytes", "wav_data"])
        #expect(ParquetSource.detectColumns(fields: ["audio", "bytes"], modality: .audio) == ["audio"])
        #expect(ParquetSource.detectColumns(fields: ["clip_content", "content"], modality: .video) == ["content"])
        #expect(ParquetSource.detectColumns(fields: ["video_id", "clip_data"], modality: .video) == ["clip_data"])
        #expect(ParquetSource.detectColumns(fields: ["pixels"], modality: .image, features: ["pixels": "Image"]) == ["pixels"])
        #expect(ParquetSource.detectColumns(fields: ["caption"], modality: .image).isEmpty)
    }

    @Test func hubStyleStructColumnRowsFilterAndSampling() async throws {
        try await offPool { try Self().hubStyleStructColumnRowsFilterAndSamplingBody() }
    }

    func hubStyleStructColumnRowsFilterAndSamplingBody() throws {
        let dir = try Self.fixture()
        let listing = try DatasetListing.listDetailed(entry("hf", dir + "/hf"))
        #expect(listing.files == 2)
        #expect(listing.candidates.count == 9, "10 rows, one null struct")
        #expect(listing.candidates.contains { $0.uri == "dataset://hf/train-00000-of-00002.parquet#row=0" })
        #expect(listing.candidates.contains { $0.uri == "dataset://hf/train-00001-of-00002.parquet#row=1" })
        #expect(!listing.candidates.contains { $0.uri.hasSuffix("train-00000-of-00002.parquet#row=3") })
        #expect(listing.problems.contains { $0.severity == .note && $0.reason.contains("1 null media cell") })
        #expect(listing.candidates.map(\.uri) == listing.candidates.map(\.uri).sorted())

        let real = try DatasetListing.list(entry("hf", dir + "/hf", filter: ("label", "real")))
        let first: [String] = ["0", "2", "4"].map { "dataset://hf/train-00000-of-00002.parquet#row=\($0)" }
        let second: [String] = ["0", "2"].map { "dataset://hf/train-00001-of-00002.parquet#row=\($0)" }
        let realURIs: [String] = real.map { $0.uri }
        #expect(realURIs == first + second, "rows 0, 2, 4, 6, 8 are real")

        let capped = try DatasetListing.list(entry("hf", dir + "/hf", perFile: 2))
        #expect(capped.count == 4)
        let cappedAgain: [String] = try DatasetListing.list(entry("hf", dir + "/hf", perFile: 2)).map { $0.uri }
        #expect(cappedAgain == capped.map { $0.uri })
        // The rows each file keeps are pinned: the same shuffle of rows on every machine and version.
        #expect(cappedAgain == ["dataset://hf/train-00000-of-00002.parquet#row=0", "dataset://hf/train-00000-of-00002.parquet#row=5",
                               "dataset://hf/train-00001-of-00002.parquet#row=1", "dataset://hf/train-00001-of-00002.parquet#row=2"])

        // Bytes: every chosen cell reaches the media store; the undecodable one is a skipped sample.
        let spec = try SpecLoader.parse(text: """
            version: 1
            round: {name: p, seed: 3}
            catalogs: [hf/train-00000-of-00002.parquet]
            sources: [{kind: real, datasets: [hf]}]
            detectors: [{name: b, adapter: builtin, model: image-baseline}]
            """, file: "s.yaml", directory: dir).spec
        let catalog = Catalog(entries: [entry("hf", dir + "/hf")], warnings: [])
        let store = MediaStore(root: dir + "/out")
        let report = CollectionReport()
        let samples = try SampleCollector.collect(spec: spec, catalog: catalog, store: store, report: report)
        #expect(samples.count == 9)
        let skipped = samples.filter { $0.skipReason != nil }
        #expect(skipped.count == 1)
        #expect(skipped.first?.uri == "dataset://hf/train-00001-of-00002.parquet#row=1")
        #expect(skipped.first?.skipReason?.contains("unreadable image") == true)
        #expect(samples.filter { $0.skipReason == nil }.allSatisfy { $0.format == "png" })
        for s in samples where s.skipReason == nil {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: store.absolutePath(s.mediaPath)))
            #expect(MediaStore.sha256Hex(bytes) == s.sha256)
        }
        // Same spec, same data: the same samples in the same order.
        let again = try SampleCollector.collect(spec: spec, catalog: catalog, store: MediaStore(root: dir + "/out2"))
        #expect(again.map(\.id) == samples.map(\.id))
    }

    /// Datasets are read in pieces (a row group, an archive, the plain files) spread over every
    /// core: the samples, their order and the progress each dataset reports are those of reading
    /// the pieces one after another on one thread.
    @Test func piecesReadSideBySideGiveTheSamplesOfOneThread() async throws {
        try await offPool { try Self().piecesReadSideBySideBody() }
    }

    func piecesReadSideBySideBody() throws {
        let dir = try TestSupport.temporaryDirectory("parquet-pieces")
        try TestSupport.requirePythonModules(["pyarrow"])
        let r = try TestSupport.python("""
            import sys, os, pyarrow as pa, pyarrow.parquet as pq
            out, photos = sys.argv[1], sys.argv[2]
            pngs = [open(os.path.join(photos, n), "rb").read() for n in sorted(os.listdir(photos))[:8]]
            for d in ("many", "more"):
                os.makedirs(f"{out}/{d}", exist_ok=True)
                rows = [pngs[i % 8] for i in range(300)]
                rows[41] = b"not an image"                      # a skipped sample inside one row group
                pq.write_table(pa.table({"image": pa.array(rows, pa.binary())}), f"{out}/{d}/a.parquet", row_group_size=7)
                pq.write_table(pa.table({"image": pa.array(rows[:50], pa.binary())}), f"{out}/{d}/b.parquet", row_group_size=16)
            """, [dir, TestSupport.repositoryRoot + "/datasets/photos"])
        guard r.status == 0 else { throw TestSupportError("pyarrow fixture failed: \(r.stderr)") }
        let spec = try SpecLoader.parse(text: """
            version: 1
            round: {name: p, seed: 3}
            catalogs: [many/a.parquet]
            sources: [{kind: real, datasets: ["*"], samples: 320}]
            detectors: [{name: b, adapter: builtin, model: image-baseline}]
            """, file: "s.yaml", directory: dir).spec
        let entries = [entry("many", dir + "/many"), entry("more", dir + "/more")]
        let catalog = Catalog(entries: entries, warnings: [])
        let reports = ProgressLog()
        let samples = try SampleCollector.collect(spec: spec, catalog: catalog, store: MediaStore(root: dir + "/out")) { step, done, total in
            reports.note(step, done, total)
        }
        // One thread, one piece after another, over the same chosen candidates.
        var expected: [PlannedSample] = []
        let store = MediaStore(root: dir + "/one")
        for e in entries {
            let listed = try SampleCollector.listDataset(e, count: 160, spec: spec, archiveLimits: .default)
            #expect(SampleCollector.readUnits(of: listed.chosen).count > 20, "the dataset is read in many pieces")
            var stored = [PlannedSample?](repeating: nil, count: listed.chosen.count)
            var validated = SampleCollector.ValidationCache()
            try SampleCollector.forEachBytes(of: listed.chosen, dataset: e.name, limits: .default) { index, bytes in
                stored[index] = try SampleCollector.storeCandidate(bytes: bytes, candidate: listed.chosen[index], entry: e, roundSeed: 3,
                                                                   store: store, imageLimits: .default, validated: &validated)
            }
            expected += stored.compactMap { $0 }
        }
        #expect(samples.count == 320)
        #expect(samples == expected)
        #expect(samples.filter { $0.skipReason != nil }.count == expected.filter { $0.skipReason != nil }.count)
        for name in ["many", "more"] {
            let counts = reports.counts(of: "reading \(name)")
            #expect(counts.last?.done == 160 && counts.allSatisfy { $0.total == 160 }, "\(name): \(counts)")
            #expect(counts.map(\.done) == counts.map(\.done).sorted(), "\(name): progress only goes forward")
        }
        // A piece that cannot store its media fails the collection with the reason and the fix, naming the folder.
        try Data("a file, not a folder".utf8).write(to: URL(fileURLWithPath: dir + "/blocked"))
        #expect {
            _ = try SampleCollector.collect(spec: spec, catalog: catalog, store: MediaStore(root: dir + "/blocked/out", syncsEachBlob: false))
        } throws: { error in
            "\(error)".contains("blocked/out/media") && "\(error)".contains("cannot create the media folder (Not a directory)")
        }
    }

    /// Progress reports from several threads, in the order they arrived.
    final class ProgressLog: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [(step: String, done: Int, total: Int)] = []
        func note(_ step: String, _ done: Int, _ total: Int) { lock.withLock { entries.append((step, done, total)) } }
        func counts(of step: String) -> [(done: Int, total: Int)] { lock.withLock { entries.filter { $0.step == step }.map { ($0.done, $0.total) } } }
    }

    @Test func dataColumnsBase64AndBadFiles() async throws {
        try await offPool { try Self().dataColumnsBase64AndBadFilesBody() }
    }

    func dataColumnsBase64AndBadFilesBody() throws {
        let dir = try Self.fixture()
        let pairs = try DatasetListing.list(entry("pairs", dir + "/pairs", columns: ["src_img", "tgt_img", "missing"]))
        #expect(pairs.count == 6)
        #expect(pairs.contains { $0.uri == "dataset://pairs/data.parquet#row=2&column=tgt_img" })
        let none = try DatasetListing.listDetailed(entry("pairs", dir + "/pairs", columns: ["nope"]))
        #expect(none.candidates.isEmpty && none.problems.first?.reason.contains("none of data_columns") == true)

        let b64 = try DatasetListing.list(entry("b64", dir + "/b64", columns: ["picture"]))
        #expect(b64.count == 3)
        let bytes = try SampleCollector.readBytes(of: b64, dataset: "b64", limits: .default)
        #expect(bytes.count == 2, "the '%%%' cell is not base64")
        #expect(bytes.values.allSatisfy { MediaFormat.sniff($0) == "png" })

        let numbers = try DatasetListing.listDetailed(entry("numbers", dir + "/numbers", columns: ["score"]))
        #expect(numbers.candidates.isEmpty)
        #expect(numbers.problems.first?.reason.contains("holds INT64 values, not media") == true, "\(numbers.problems)")
        #expect(numbers.problems.first?.file.hasSuffix("numbers/data.parquet") == true)

        let mixed = try DatasetListing.listDetailed(entry("mixed", dir + "/mixed"))
        #expect(mixed.candidates.count == 2)
        #expect(mixed.problems.contains { $0.file.hasSuffix("b.parquet") && $0.reason.contains("truncated") }, "\(mixed.problems)")

        // A round over a usable and an unusable dataset skips the unusable one with its reason.
        let spec = try SpecLoader.parse(text: """
            version: 1
            round: {name: p, seed: 3}
            catalogs: [hf/train-00000-of-00002.parquet]
            sources: [{kind: real, datasets: ["*"]}]
            detectors: [{name: b, adapter: builtin, model: image-baseline}]
            """, file: "s.yaml", directory: dir).spec
        let catalog = Catalog(entries: [entry("mixed", dir + "/mixed"), entry("numbers", dir + "/numbers", columns: ["score"])], warnings: [])
        let report = CollectionReport()
        let samples = try SampleCollector.collect(spec: spec, catalog: catalog, store: MediaStore(root: dir + "/o"), report: report)
        #expect(samples.count == 2)
        #expect(report.skippedDatasets.map(\.name) == ["numbers"])
        #expect(report.skippedDatasets.first?.reason.contains("not media") == true)
        #expect(report.warnings.contains { $0.contains("b.parquet") })
    }

    @Test func weightedQuotasMatchGasbenchGoldens() {
        func entries(_ regular: Int, _ gas: Int) -> [CatalogEntry] {
            (0..<regular).map { entry("r\($0)", "/") } + (0..<gas).map { entry("gasstation-\($0)", "/") }
        }
        // gasbench.md §1.7: image full 314 / gasstation 1571 (170 regular + 1 gasstation, T = 55000).
        let image = Sampler.weightedQuotas(total: 55000, datasets: entries(170, 1))
        #expect(image["r0"] == 314 && image["gasstation-0"] == 1571)
        // audio full: 106 regular datasets, T = 37000 -> 349.
        #expect(Sampler.weightedQuotas(total: 37000, datasets: entries(106, 0))["r5"] == 349)
        // video small: 255 + 1, T = 5000 -> 19 / 96.
        let video = Sampler.weightedQuotas(total: 5000, datasets: entries(255, 1))
        #expect(video["r0"] == 19 && video["gasstation-0"] == 96)
        // Caps at 2000 when few datasets share a large total.
        #expect(Sampler.weightedQuotas(total: 100_000, datasets: entries(2, 0))["r1"] == 2000)
    }
}
