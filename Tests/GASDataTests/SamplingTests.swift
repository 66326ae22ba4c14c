import Foundation
import Testing
import GASCore
import GASMedia
import GASSpec
import GASTestSupport
@testable import GASData

@Suite struct SamplingTests {
    func entry(_ name: String, path: String, cap: Int? = nil, include: [String] = [], exclude: [String] = []) -> CatalogEntry {
        CatalogEntry(name: name, path: path, modality: .image, mediaType: .real, sourceFormat: "", maxSamples: cap,
                     mediaPerArchive: nil, archivesPerDataset: nil, includePaths: include, excludePaths: exclude,
                     generatorFamily: nil, contentCategory: nil, catalogFile: "c.yaml")
    }

    /// Writes the same files in two different creation orders into two folders.
    func twoFolders(_ names: [String]) throws -> (String, String) {
        let a = try TestSupport.temporaryDirectory("orderA"), b = try TestSupport.temporaryDirectory("orderB")
        for n in names { try FileManager.default.createDirectory(atPath: a + "/" + (n as NSString).deletingLastPathComponent, withIntermediateDirectories: true); try Data(n.utf8).write(to: URL(fileURLWithPath: a + "/" + n)) }
        for n in names.reversed() { try FileManager.default.createDirectory(atPath: b + "/" + (n as NSString).deletingLastPathComponent, withIntermediateDirectories: true); try Data(n.utf8).write(to: URL(fileURLWithPath: b + "/" + n)) }
        return (a, b)
    }

    @Test func selectionIgnoresFilesystemOrderAndLocation() throws {
        let names = (0..<40).map { "sub\($0 % 3)/img\($0).png" } + ["notes.txt", ".hidden.png"]
        let (a, b) = try twoFolders(names)
        let la = try DatasetListing.list(entry("ds", path: a)), lb = try DatasetListing.list(entry("ds", path: b))
        #expect(la.map(\.uri) == lb.map(\.uri))
        #expect(la.count == 40)
        #expect(la.allSatisfy { $0.uri.hasPrefix("dataset://ds/sub") })
        let sa = Sampler.select(la, count: 10, seed: 34, dataset: "ds"), sb = Sampler.select(lb.reversed(), count: 10, seed: 34, dataset: "ds")
        #expect(sa.map(\.uri) == sb.map(\.uri))
        let other = Sampler.select(la, count: 10, seed: 35, dataset: "ds")
        #expect(other.map(\.uri) != sa.map(\.uri))
    }

    @Test func includeExcludeFilters() throws {
        let (a, _) = try twoFolders(["keep/a.png", "keep/b.jpg", "drop/c.png", "keep/__MACOSX/d.png"])
        let l = try DatasetListing.list(entry("ds", path: a, include: ["keep/"], exclude: ["b.jpg"]))
        #expect(l.map(\.uri) == ["dataset://ds/keep/a.png"])
    }

    @Test func quotasSplitEvenlyAndRespectCaps() {
        let ds = [entry("b", path: "/"), entry("a", path: "/"), entry("c", path: "/", cap: 2)]
        let q = Sampler.quotas(total: 10, datasets: ds)
        #expect(q["a"] == 4 && q["b"] == 3 && q["c"] == 2)
        let all = Sampler.quotas(total: nil, datasets: ds)
        #expect(all["a"] == .some(nil) && all["c"] == 2)
    }

    @Test func globs() {
        #expect(NamePattern.matches("*-real", "photos-real"))
        #expect(!NamePattern.matches("*-real", "photos-fake"))
        #expect(NamePattern.matches("ph?tos*", "photos-real"))
        #expect(NamePattern.matches("*", ""))
    }

    @Test func archivesAreListedSortedWithMemberURIs() throws {
        let dir = try TestSupport.temporaryDirectory("arch")
        let script = """
        import tarfile, io, sys
        with tarfile.open(sys.argv[1] + "/a.tar.gz", "w:gz") as t:
            for n in ["./z/2.png", "./a/1.png", "./readme.txt"]:
                i = tarfile.TarInfo(n); i.size = 3; t.addfile(i, io.BytesIO(b"abc"))
        """
        let r = try TestSupport.python(script, [dir])
        #expect(r.status == 0, "\(r.stderr)")
        let l = try DatasetListing.list(entry("t", path: dir))
        #expect(l.map(\.uri) == ["dataset://t/a.tar.gz#a/1.png", "dataset://t/a.tar.gz#z/2.png"])
    }
}

@Suite struct ProceduralImageTests {
    @Test func sameSeedSameBytesDifferentSeedDifferentImage() throws {
        let a = ProceduralImages.generate(seed: 1, width: 48, height: 32)
        let b = ProceduralImages.generate(seed: 1, width: 48, height: 32)
        let c = ProceduralImages.generate(seed: 2, width: 48, height: 32)
        #expect(a == b)
        #expect(a != c)
        #expect(a.pixels.count == 48 * 32 * 3)
        #expect(try ImageCodec.encodePNG(a) == ImageCodec.encodePNG(b))
    }

    @Test func knownHashPinsTheGenerator() throws {
        // Pins the generator's output: if this changes, every plan hash changes too.
        let png = try ImageCodec.encodePNG(ProceduralImages.generate(seed: 34, width: 32, height: 32))
        let decoded = try ImageCodec.decode(png)
        #expect(decoded == ProceduralImages.generate(seed: 34, width: 32, height: 32))
        #expect(MediaStore.sha256Hex(ProceduralImages.generate(seed: 34, width: 32, height: 32).pixels)
                == ProceduralImageTests.pinnedPixelHash)
    }
    static let pinnedPixelHash = "c9a88cf78ac007435b6276ccfd77fbba3ec8e80a1d582612352b81d46bdc76cb"

    @Test func semisyntheticChangesOnlyARegion() {
        let base = ProceduralImages.generate(seed: 9, width: 64, height: 64)
        let altered = ProceduralImages.alterRegion(of: base, seed: 3)
        #expect(altered != base)
        let changed = zip(base.pixels, altered.pixels).filter { $0 != $1 }.count
        #expect(changed > 64 * 3 && changed < base.pixels.count * 3 / 4)
    }
}

@Suite struct MediaStoreTests {
    @Test func contentAddressedAndIdempotent() throws {
        let root = try TestSupport.temporaryDirectory("store")
        let store = MediaStore(root: root)
        let (sha, rel) = try store.put([1, 2, 3], format: "png")
        #expect(sha == "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81")
        #expect(rel == "media/03/\(sha).png")
        let again = try store.put([1, 2, 3], format: "png")
        #expect(again.relativePath == rel)
        #expect(FileManager.default.contents(atPath: store.absolutePath(rel)) == Data([1, 2, 3]))
    }

    /// Blobs are written to a temporary name and renamed: the bytes arrive whole (a large one too),
    /// nothing temporary is left beside them, and a blob found cut short is written again.
    @Test func blobsArriveWholeAndAShortOneIsWrittenAgain() throws {
        let root = try TestSupport.temporaryDirectory("store-write")
        let store = MediaStore(root: root)
        let big = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let (_, rel) = try store.put(big, format: "bin")
        let path = store.absolutePath(rel)
        #expect(FileManager.default.contents(atPath: path) == Data(big))
        let folder = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [(path as NSString).lastPathComponent])
        try Data(big.prefix(10)).write(to: URL(fileURLWithPath: path))
        _ = try MediaStore(root: root).put(big, format: "bin")
        #expect(FileManager.default.contents(atPath: path) == Data(big))
    }

    /// A planning store writes blobs without a sync each and syncs them together: the blobs are
    /// whole at once, `syncStored()` succeeds, and a store whose folder is gone says so by name.
    @Test func blobsSyncedTogetherAreWholeAndAFailedSyncIsNamed() throws {
        let root = try TestSupport.temporaryDirectory("store-deferred")
        let store = MediaStore(root: root, syncsEachBlob: false)
        let blobs = (0..<20).map { i in (0..<(1000 + i)).map { UInt8(truncatingIfNeeded: $0 &+ i) } }
        let paths = try blobs.map { store.absolutePath(try store.put($0, format: "bin").relativePath) }
        for (path, bytes) in zip(paths, blobs) { #expect(FileManager.default.contents(atPath: path) == Data(bytes)) }
        try store.syncStored()
        try store.syncStored()  // nothing new: no sync

        let gone = MediaStore(root: root + "/gone", syncsEachBlob: false)
        _ = try gone.put([1, 2, 3], format: "bin")
        try FileManager.default.removeItem(atPath: root + "/gone")
        #expect {
            try gone.syncStored()
        } throws: { error in
            "\(error)".contains(root + "/gone") && "\(error)".contains("sync the stored media")
        }
    }

    /// A sample id is the first 24 hex digits of sha256("<uri>\n<sha256>") (values from Python's
    /// hashlib), whatever the strings hold.
    @Test func sampleIDsAreTheHashOfURIAndContent() {
        #expect(SampleCollector.sampleID(uri: "dataset://hf/train-00000-of-00002.parquet#row=4",
                                         sha256: "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81") == "9579b8ef4bb83530ea6e03d0")
        #expect(SampleCollector.sampleID(uri: "dataset://ü/é.png", sha256: "") == "e2a797c9ce0b08887c88b6da")
        #expect(MediaStore.hex([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }

    /// Planning makes a stored blob's sample from the digests' bytes (`sample(storedAs:)`); it is
    /// the sample the hex text makes: id, sha256, media path, seed, and equal as a whole.
    @Test func aSampleFromDigestsIsTheSampleFromTheirText() throws {
        let store = MediaStore(root: try TestSupport.temporaryDirectory("digest-sample"), syncsEachBlob: false)
        for (i, bytes) in [[UInt8](), Array("a".utf8), Array(repeating: 0xff, count: 4096), (0..<255).map { UInt8($0) }].enumerated() {
            let uri = i == 1 ? "dataset://ü/é.png" : "dataset://bench-real/real.parquet#row=\(i * 48213)"
            let (sha, relative) = try store.put(bytes, format: "png")
            let id = SampleCollector.sampleID(uri: uri, sha256: sha)
            let text = PlannedSample(id: id, uri: uri, sha256: sha, byteCount: bytes.count, dataset: "bench-real", sourceKind: .real,
                                     mediaType: .real, modality: .image, seed: SampleSeed.derive(roundSeed: 34, sampleID: id), format: "png",
                                     mediaPath: relative, skipReason: i == 2 ? "unreadable image" : nil, generatorFamily: i == 3 ? "flux" : nil)
            let packed = SampleCollector.sample(storedAs: try store.store(bytes, format: "png"), uri: SampleURI(uri), byteCount: bytes.count,
                                                dataset: "bench-real", sourceKind: .real, mediaType: .real, modality: .image, roundSeed: 34,
                                                format: "png", skipReason: i == 2 ? "unreadable image" : nil, generatorFamily: i == 3 ? "flux" : nil)
            #expect(packed.id == id)
            #expect(packed.sha256 == sha)
            #expect(packed.mediaPath == relative)
            #expect(packed.seed == text.seed && packed.seed != SampleSeed.derive(roundSeed: 35, sampleID: id))
            #expect(packed.skipReason == text.skipReason && packed.generatorFamily == text.generatorFamily)
            #expect(packed == text)
        }
    }
}
