import Foundation
import GASTestSupport
import GASMedia
import GASParquet
import GASSpec
import GASDetectors
import GASNetwork
import Testing

/// The committed hostile corpus (Tests/HostileCorpus, written by scripts/make-hostile-corpus.py):
/// every file is refused by its reader with that reader's typed error and a message that says
/// what is wrong, nothing is written next to it, and nothing huge is allocated on the way.
/// The same files through the gascli binary: EndToEndTests/HostileCorpusCLITests.swift.
@Suite("Hostile corpus (library level)")
struct HostileCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("HostileCorpus").path

    static func file(_ relative: String) -> String { root + "/" + relative }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: file(relative), encoding: .utf8)
    }

    /// A copy of a corpus file alone in a fresh folder, inside another fresh folder: after reading
    /// it, both listings must be unchanged (nothing extracted next to it or above it).
    struct Sandbox {
        let outer: String
        let dir: String
        let path: String

        init(_ relative: String) throws {
            outer = try TestSupport.temporaryDirectory("gas-hostile")
            dir = outer + "/run"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            path = dir + "/" + (relative as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: HostileCorpusTests.file(relative), toPath: path)
        }

        func listing() -> [String] {
            ((try? FileManager.default.subpathsOfDirectory(atPath: outer)) ?? []).sorted()
        }

        func remove() { try? FileManager.default.removeItem(atPath: outer) }
    }

    // MARK: YAML

    @Test("YAML bombs and deep nesting are refused at their line and column", arguments: [
        ("yaml/billion-laughs.yaml", "billion laughs", 7),
        ("yaml/alias-key-bomb.yaml", "billion laughs", 6),
        ("yaml/deep-flow.yaml", "nesting deeper than 64 levels", 2),
        ("yaml/deep-block.yaml", "nesting deeper than 64 levels", 3),
    ])
    func yamlBombs(file: String, expected: String, line: Int) throws {
        let text = try Self.text(file)
        let start = Date()
        do {
            _ = try SpecLoader.parse(text: text, file: file, directory: Self.root)
            Issue.record("\(file) was accepted")
        } catch let error as SpecErrors {
            let first = try #require(error.errors.first)
            #expect(first.message.contains(expected), "\(error)")
            #expect(first.line == line, "\(error)")
            #expect(error.description.contains("\(file):\(line):"), "file:line:col in \(error)")
        }
        // The same document as a catalog and as a generator config: the same refusal.
        #expect(throws: SpecErrors.self) { _ = try CatalogLoader.parse(text: text, file: file, directory: Self.root) }
        #expect(throws: SpecErrors.self) { _ = try GeneratorConfigLoader.parse(text: text, file: file, directory: Self.root) }
        #expect(Date().timeIntervalSince(start) < 5, "refused quickly")
    }

    @Test("a miner's model_config.yaml with a billion-laughs alias is refused before Yams expands it")
    func modelConfigBomb() throws {
        let start = Date()
        do {
            _ = try ModelConfig.parse(text: try Self.text("yaml/model-config-laughs.yaml"), file: "model_config.yaml")
            Issue.record("accepted")
        } catch let error as ModelConfigError {
            #expect(error.description.contains("billion laughs") && error.description.contains("line "), "\(error)")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("ordinary anchors and aliases still load")
    func anchorsStillWork() throws {
        let spec = """
        version: 1
        round: {name: a, seed: 1, modalities: &m [image]}
        sources:
          - {kind: synthetic, samples: &n 4, width: 64, height: 64}
        detectors:
          - {name: one, adapter: builtin, model: &b image-baseline, batch_size: *n}
          - {name: two, adapter: builtin, model: *b}
        """
        let loaded = try SpecLoader.parse(text: spec, file: "spec.yaml", directory: Self.root)
        #expect(loaded.spec.detectors.count == 2)
        #expect(YAMLBounds.check(spec) == nil)
        // Just under and just over the expansion limit.
        // root 1 + key a 1 + [1,1,1,1] 5 + key b 1 + [*a, *a] 11 = 19 nodes; a third alias makes 24.
        #expect(YAMLBounds.check("a: &a [1, 1, 1, 1]\nb: [*a, *a]\n", maxExpandedNodes: 19) == nil)
        #expect(YAMLBounds.check("a: &a [1, 1, 1, 1]\nb: [*a, *a, *a]\n", maxExpandedNodes: 19)?.line == 2)
    }

    @Test("huge numbers and huge strings give one-line messages")
    func hugeScalars() throws {
        do {
            _ = try SpecLoader.parse(text: try Self.text("yaml/huge-numbers.yaml"), file: "huge.yaml", directory: Self.root)
            Issue.record("accepted")
        } catch let error as SpecErrors {
            #expect(error.errors.count >= 2, "\(error)")
            #expect(error.description.count < 4_000, "messages stay short")
        }
        let long = String(repeating: "A", count: 1_000_000)
        do {
            _ = try SpecLoader.parse(text: "version: 1\nround: {name: x, seed: \(long)}\n", file: "long.yaml", directory: Self.root)
            Issue.record("accepted")
        } catch let error as SpecErrors {
            #expect(error.description.contains("(1000000 characters)"), "\(error.description.prefix(500))")
            #expect(error.description.count < 2_000)
        }
    }

    @Test("a catalog that is a device, a FIFO or too big is refused without reading it")
    func catalogNotARegularFile() throws {
        for path in ["/dev/zero", "/dev/urandom"] {
            do {
                _ = try CatalogLoader.load(path: path)
                Issue.record("\(path) accepted")
            } catch let error as SpecErrors {
                #expect(error.description.contains("not a regular file"), "\(error)")
            }
        }
        let dir = try TestSupport.temporaryDirectory("gas-fifo")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/catalog.yaml", 0o600) == 0)
        do {
            _ = try CatalogLoader.load(path: dir + "/catalog.yaml")
            Issue.record("FIFO accepted")
        } catch let error as SpecErrors {
            #expect(error.description.contains("not a regular file"), "\(error)")
        }
        let big = dir + "/big.yaml"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: UInt64(TextFile.maxBytes) + 1)  // sparse: no disk used
        try handle.close()
        do {
            _ = try SpecLoader.load(path: big)
            Issue.record("oversized spec accepted")
        } catch let error as SpecErrors {
            #expect(error.description.contains("larger than"), "\(error)")
        }
    }

    // MARK: Archives

    @Test("hostile archives are refused; nothing appears next to or above them", arguments: [
        ("archives/zip-slip.zip", "'..' path component"),
        ("archives/absolute.tar", "absolute path"),
        ("archives/symlink-out.tar", "symbolic link to '../../../../etc/passwd'"),
        ("archives/hardlink-out.tar", "hard link to '/etc/shadow'"),
        ("archives/tar-bomb.tar.bz2", "maxCompressionRatio"),
        ("archives/zip-bomb.zip", "maxCompressionRatio"),
        ("archives/declared-8gib.tar", "maxEntryBytes"),
    ])
    func archives(file: String, expected: String) throws {
        let sandbox = try Sandbox(file)
        defer { sandbox.remove() }
        let before = sandbox.listing()
        var read = 0
        do {
            try ArchiveReader(path: sandbox.path).forEachEntry { _, readData in read += try readData().count }
            Issue.record("\(file) was read whole")
        } catch let error as MediaError {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.contains(sandbox.path), "names the archive: \(error)")
        }
        #expect(read <= 32 << 20, "read \(read) bytes before stopping")
        #expect(sandbox.listing() == before)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/gas-hostile-escape.txt"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.outer + "/escape.txt"))
    }

    // MARK: Safetensors

    @Test("truncated and lying safetensors headers are refused", arguments: [
        ("header-length-2^63", "above the 104857600-byte limit"),
        ("header-longer-than-file", "header claims 4096 bytes"),
        ("shape-2^80", "invalid dimension 1099511627776"),
        ("offsets-outside", "fall outside"),
        ("overlap", "overlap"),
        ("lying-size", "needs 32"),
        ("deep-json", "header is not a JSON object"),
        ("truncated", "fall outside"),
    ])
    func safetensors(name: String, expected: String) throws {
        let path = Self.file("safetensors/\(name).safetensors")
        do {
            let file = try Safetensors(path: path)
            try file.checkLayout(file: path)
            Issue.record("\(name) accepted")
        } catch {
            #expect(error.description.contains(expected), "\(name): \(error)")
        }
    }

    // MARK: Parquet

    @Test("the hand-written Parquet file the lying ones are made from is valid")
    func parquetBaseline() throws {
        let reader = try ParquetReader(path: Self.file("parquet/valid-3-rows.parquet"))
        #expect(reader.rowCount == 3)
        #expect(try reader.readRowGroup(0) == [.int64([1, 2, 3])])
    }

    @Test("truncated and lying Parquet headers are refused with ParquetError", arguments: [
        ("rows-2^40", "row"), ("page-size-2^31", "page"), ("chunk-size-2^40", "chunk"),
        ("negative-chunk-size", "chunk"), ("footer-length-2^31", "footer"), ("schema-children-lie", "schema"),
        ("page-values-lie", "values"), ("truncated", "PAR1"), ("thrift-nesting", "nested deeper"),
    ])
    func parquet(name: String, expected: String) throws {
        let path = Self.file("parquet/\(name).parquet")
        do {
            let reader = try ParquetReader(path: path)
            for g in 0..<reader.rowGroupCount { _ = try reader.readRowGroup(g) }
            Issue.record("\(name) accepted")
        } catch let error as ParquetError {
            #expect(error.description.lowercased().contains(expected.lowercased()), "\(name): \(error)")
        }
    }

    // MARK: Images

    @Test("images with absurd dimensions are refused from the header, before any allocation", arguments: [
        ("png-100000x100000.png", "100000"), ("png-1x4000000000.png", "beyond 2^31-1"), ("jpeg-60000x60000.jpg", "60000"),
    ])
    func imageBombs(name: String, expected: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.file("images/\(name)"))))
        do {
            _ = try ImageCodec.decode(bytes)
            Issue.record("\(name) decoded")
        } catch {
            switch error {
            case .imageTooLarge, .corruptImage: #expect(error.description.contains(expected), "\(error)")
            default: Issue.record("\(name): \(error)")
            }
        }
    }

    @Test("a PNG whose pixel data is far shorter than its header claims is truncatedImage")
    func lyingIDAT() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.file("images/png-lying-idat.png"))))
        #expect(throws: MediaError.self) { _ = try ImageCodec.decode(bytes) }
    }
}

/// Findings of the fuzzer, each kept as a named test (the inputs are also in
/// Tests/FuzzCorpus/<target>/regressions, replayed by FuzzTests).
@Suite("Fuzzing findings (regressions)")
struct FuzzFindingTests {
    @Test("model_config.yaml with a list or mapping as a key is refused, not a crash in Yams' constructor", arguments: [
        "{[a]: b}\n", "name: x\nmodality: image\n? {nested: key}\n: value\n", "model: {preprocessing: [{? [1] : 2}]}\n",
    ])
    func modelConfigComplexKey(text: String) {
        do {
            _ = try ModelConfig.parse(text: text, file: "model_config.yaml")
            Issue.record("accepted")
        } catch let error as ModelConfigError {
            #expect(error.description.contains("mapping keys must be plain strings"), "\(error)")
        } catch {
            Issue.record("untyped: \(error)")
        }
    }
}

extension FuzzFindingTests {
    @Test("an over-long signer id is refused before the quadratic base58 decode")
    func longSignerID() {
        let start = Date()
        #expect(SignerID.publicKey(of: String(repeating: "9Ub", count: 30_000)) == nil)
        // Refused in microseconds; decoding it would take minutes. 3 s leaves room for a loaded machine.
        #expect(Date().timeIntervalSince(start) < 3)
        // A real id still decodes.
        let id = SignerID.make(publicKey: [UInt8](repeating: 7, count: 32))
        #expect(id.utf8.count <= SignerID.maxLength && SignerID.publicKey(of: id) == [UInt8](repeating: 7, count: 32))
    }
}
