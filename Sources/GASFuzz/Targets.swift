import Crypto
import Foundation
import GASCore
import GASDetectors
import GASMedia
import GASNetwork
import GASParquet
import GASSpec
import GASStore

/// The readers that take input from outside (miners, datasets, detector processes, HTTP peers),
/// each wrapped so that the module's own error type counts as a clean rejection and anything
/// else is a finding.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = [yaml, parquet, archive, safetensors, detectorReplies, epistula, delivery, outcomeBatch]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// A per-process scratch folder: readers that take a path get the input as a file there.
    /// It doubles as the run directory whose listing must not change (nothing extracted).
    static let scratch: String = {
        let dir = NSTemporaryDirectory() + "gas-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func writeInput(_ bytes: [UInt8], name: String) -> String? {
        let path = scratch + "/" + name
        if FileManager.default.createFile(atPath: path, contents: Data(bytes)) { return path }
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        return FileManager.default.createFile(atPath: path, contents: Data(bytes)) ? path : nil
    }

    /// Removes the scratch folder (it is made again when a target needs it).
    public static func removeScratch() { try? FileManager.default.removeItem(atPath: scratch) }

    static func describe(_ error: any Error) -> String { "\(type(of: error)): \(String(describing: error).prefix(300))" }

    // MARK: Spec loader

    /// Every YAML reader on the same text: round spec, catalog, model_config.yaml (from miners'
    /// packages), metagraph and generator-server config. Each must accept or throw its own error.
    public static let yaml = FuzzTarget(
        name: "yaml",
        summary: "YAML readers: round spec, catalog, model_config.yaml, metagraph, generator config",
        dictionary: ["&a ", "*a", "<<: *a", "[", "]", "{", "}", "- ", ": ", "? ", "!!binary ", "!!str ", "!!int ", "|\n", ">\n",
                     "\"\\u0000\"", "'", "#", "\n  ", "\n- ", "---\n", "...\n", "%YAML 1.1\n", "1e400", "-0", "0x7fffffffffffffff",
                     "99999999999999999999999", ".nan", ".inf", "~", "null", "true", "catalogs: [", "/dev/zero", "../../",
                     "version: 1\n", "detectors:\n", "datasets:\n", "modality: image\n", "name: x\n", "\t", "\u{FEFF}"]
    ) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let dir = scratch
        var outcomes: [FuzzOutcome] = []
        func attempt(_ body: () throws -> Void) {
            do { try body(); outcomes.append(.accepted) }
            catch let e as SpecErrors { outcomes.append(.rejected(e.description)) }
            catch let e as ModelConfigError { outcomes.append(.rejected(e.description)) }
            catch { outcomes.append(.untypedError(describe(error))) }
        }
        attempt { _ = try SpecLoader.parse(text: text, file: "spec.yaml", directory: dir) }
        attempt { _ = try CatalogLoader.parse(text: text, file: "catalog.yaml", directory: dir) }
        attempt { _ = try ModelConfig.parse(text: text, file: "model_config.yaml") }
        attempt { _ = try MetagraphLoader.parse(text: text, file: "metagraph.yaml") }
        attempt { _ = try GeneratorConfigLoader.parse(text: text, file: "generator.yaml", directory: dir) }
        return combine(outcomes)
    }

    static func combine(_ outcomes: [FuzzOutcome]) -> FuzzOutcome {
        if let bad = outcomes.first(where: { if case .untypedError = $0 { true } else { false } }) { return bad }
        if outcomes.contains(.accepted) { return .accepted }
        return outcomes.first ?? .accepted
    }

    // MARK: Parquet

    public static let parquet = FuzzTarget(
        name: "parquet",
        summary: "Parquet reader: footer (Thrift compact), schema, page headers, every column of every row group",
        dictionary: ["PAR1", "PARE", "\u{15}\u{00}", "\u{15}\u{04}", "\u{19}\u{1c}", "\u{19}\u{3c}", "\u{ff}\u{ff}\u{ff}\u{ff}\u{0f}",
                     "\u{00}", "\u{18}\u{04}", "\u{16}", "\u{26}", "\u{1c}", "\u{2c}"]
    ) { bytes in
        guard let path = writeInput(bytes, name: "input.parquet") else { return .untypedError("cannot write the input file") }
        do {
            let reader = try ParquetReader(path: path)
            for group in 0..<reader.rowGroupCount { _ = try reader.readRowGroup(group) }
            return .accepted
        } catch let e as ParquetError {
            return .rejected(e.description)
        } catch {
            return .untypedError(describe(error))
        }
    }

    // MARK: Archives

    /// Archives are read with their limits scaled down (1 MiB entries, 4 MiB total) so a bomb
    /// the mutator builds is stopped quickly; the checks are the same code as with the defaults.
    public static let archive = FuzzTarget(
        name: "archive",
        summary: "archive reader (libarchive): zip, tar, tar.gz; paths, links, sizes, bombs",
        dictionary: ["PK\u{03}\u{04}", "PK\u{01}\u{02}", "PK\u{05}\u{06}", "PK\u{06}\u{06}", "ustar\u{00}00", "ustar  \u{00}",
                     "../", "/etc/passwd", "\u{1f}\u{8b}\u{08}", "././@LongLink", "0000777", "00000000000", "77777777777",
                     "1", "2", "5", "K", "L", "x", "g"]
    ) { bytes in
        guard let path = writeInput(bytes, name: "input.archive") else { return .untypedError("cannot write the input file") }
        var limits = ArchiveLimits.default
        limits.maxEntryBytes = 1 << 20
        limits.maxTotalBytes = 4 << 20
        limits.ratioGraceBytes = 256 << 10
        limits.maxEntries = 10_000
        do {
            try ArchiveReader(path: path, limits: limits).forEachEntry { _, readData in _ = try readData() }
            return .accepted
        } catch let e as MediaError {
            return .rejected(e.description)
        } catch {
            return .untypedError(describe(error))
        }
    }

    // MARK: Safetensors

    public static let safetensors = FuzzTarget(
        name: "safetensors",
        summary: "safetensors parser: header length, JSON header, dtypes, shapes, offsets, strict layout, values",
        dictionary: ["{\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"F64\"", "\"BF16\"", "\"__metadata__\"",
                     "[0,0]", "[0,4]", "[4294967296,1]", "-1", "1e308", "9223372036854775807", "18446744073709551616", "[[[[",
                     "{}", "null", "true", "\\u0000"]
    ) { bytes in
        do throws(SafetensorsError) {
            let file = try Safetensors(bytes: bytes, file: "model.safetensors")
            try file.checkLayout(file: "model.safetensors")
            for name in file.tensors.keys.sorted() where ["F32", "F64"].contains(file.tensors[name]?.dtype) {
                _ = try file.doubles(name)
            }
            _ = file.parameterCount
            return .accepted
        } catch {
            return .rejected(error.description)
        }
    }

    // MARK: Detector process protocol

    public static let detectorReplies = FuzzTarget(
        name: "detector-replies",
        summary: "process-protocol reader: stdout lines (LineChannel), JSON (MiniJSON), hello/response decoding, probs",
        dictionary: ["{\"hello\":", "{\"batch\":", "\"results\":[", "\"probs\":[", "\"id\":\"a\"", "\"id\":\"b\"", "\"error\":",
                     "\"protocol\":1", "\"modalities\":[\"image\"]", "NaN", "Infinity", "-Infinity", "1e999", "-0.0", "\\ud800",
                     "\\u0000", "[[[[[[[[", "\n", "\r\n", "null", "true", "9223372036854775808"]
    ) { bytes in
        do throws(DetectorReplyError) {
            _ = try DetectorReplyReader.read(bytes, ids: ["a", "b", "c"], maxLineBytes: 16 << 10)
            return .accepted
        } catch {
            return .rejected(error.description)
        }
    }

    // MARK: Ledger outcome batches

    /// A ledger's `outcome_batches` text comes from elsewhere in an audit bundle. What is read must
    /// also come back the same through the encoder (the text a run writes).
    public static let outcomeBatch = FuzzTarget(
        name: "outcome-batch",
        summary: "a ledger's batched outcomes (OutcomeBatchJSON): arrays, strings and escapes, numbers, statuses",
        dictionary: ["[", "]", ",", "\"ok\"", "\"error\"", "\"timeout\"", "\"skipped\"", "null", "\"[0.5]\"", "1e308", "1e309",
                     "-0.0", "5e-324", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "\\u0000",
                     "\\ud83d\\ude00", "\\ud800", "\\\"", "\\n", "\\/", " ", "[[[[", "\"s0\""]
    ) { bytes in
        let outcomes: [DetectorOutcome]
        do {
            outcomes = try OutcomeBatchJSON.decode(bytes, detector: "d", path: "fuzz.sqlite")
        } catch let error as StoreError {
            return .rejected(error.description)
        } catch {
            return .untypedError(describe(error))
        }
        guard let text = OutcomeBatchJSON.encode(outcomes)?.first?.text ?? (outcomes.isEmpty ? Array("[]".utf8) : nil) else {
            return .untypedError("read outcomes the encoder refuses: \(outcomes.prefix(2))")
        }
        do {
            let again = try OutcomeBatchJSON.decode(text, detector: "d", path: "fuzz.sqlite")
            return again == outcomes ? .accepted : .untypedError("read back differently after encoding: \(outcomes.prefix(2))")
        } catch {
            return .untypedError("the encoding of what was read is refused: \(describe(error))")
        }
    }

    // MARK: Signed requests

    /// A fixed key, so seed requests carry valid signatures and every run is the same.
    static let signer: Ed25519Signer = {
        let key = (try? Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))) ?? Curve25519.Signing.PrivateKey()
        return Ed25519Signer(privateKey: key)
    }()
    public static let epistulaNowMs: Int64 = 1_750_000_000_000
    public static let epistulaOwnIdentity = "validator-under-test"

    /// A signed request as the epistula target reads it: `Name: value` lines, a blank line, the body.
    public static func epistulaRequest(body: [UInt8], uuid: String = "0b7e0f7e-0000-4000-8000-000000000001",
                                       timestampMs: Int64 = epistulaNowMs, signedFor: String? = epistulaOwnIdentity) -> [UInt8] {
        let message = Epistula.message(bodySHA256Hex: Epistula.bodyHash(body), uuid: uuid, timestampMs: timestampMs, signedFor: signedFor)
        let signature = (try? signer.sign(message)) ?? []
        var lines = [
            "\(Epistula.versionHeader): \(Epistula.version)", "\(Epistula.timestampHeader): \(timestampMs)",
            "\(Epistula.uuidHeader): \(uuid)", "\(Epistula.signedByHeader): \(signer.identity)",
            "\(Epistula.signatureHeader): 0x\(Hex.encode(signature))",
        ]
        if let signedFor { lines.append("\(Epistula.signedForHeader): \(signedFor)") }
        return Array((lines.joined(separator: "\n") + "\n\n").utf8) + body
    }

    /// Valid requests (with and without a body, signed for us and for nobody), one stale one.
    public static var epistulaSeeds: [[UInt8]] {
        [
            epistulaRequest(body: Array("{\"prompt\":\"a cat\",\"modality\":\"image\",\"tier\":\"1K\"}".utf8)),
            epistulaRequest(body: []),
            epistulaRequest(body: [0x89, 0x50, 0x4E, 0x47, 0, 1, 2], uuid: "x"),
            epistulaRequest(body: Array("{}".utf8), signedFor: nil),
            epistulaRequest(body: Array("late".utf8), timestampMs: epistulaNowMs - 60_000),
        ]
    }

    public static let epistula = FuzzTarget(
        name: "epistula",
        summary: "signed-request verifier: Epistula headers, timestamp, signer id, hex signature, Ed25519, replay cache",
        dictionary: ["Epistula-Version: ", "Epistula-Timestamp: ", "Epistula-Uuid: ", "Epistula-Signed-By: ", "Epistula-Signed-For: ",
                     "Epistula-Request-Signature: ", "0x", "\n\n", "\n", "-9223372036854775808", "9223372036854775807", "+1",
                     "0000000000000000000000000000000000000000000000000000000000000000", "5", "z", "1111", "\u{0}"],
        generatedSeeds: { epistulaSeeds }
    ) { bytes in
        // Headers end at the first blank line; header names are case-insensitive, the last one wins.
        var headers: [String: String] = [:]
        var bodyStart = bytes.count
        var lineStart = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i == lineStart { bodyStart = i + 1; break }
                let line = String(decoding: bytes[lineStart..<i], as: UTF8.self)
                if let colon = line.firstIndex(of: ":") {
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                lineStart = i + 1
            }
            i += 1
        }
        let body = Array(bytes[min(bodyStart, bytes.count)...])
        guard let ring = try? Ed25519KeyRing(publicKeysHex: [signer.publicKeyHex]) else { return .untypedError("key ring") }
        let verifier = EpistulaVerifier(ownIdentity: epistulaOwnIdentity, verifier: ring, replay: ReplayCache(capacity: 4))
        // The signer id is also decoded on its own (rosters name generators by it).
        if let by = headers[Epistula.signedByHeader.lowercased()] { _ = SignerID.publicKey(of: by) }
        switch verifier.check(body: body, header: { headers[$0.lowercased()] }, nowMs: epistulaNowMs) {
        case .success:
            // The same request again is a replay.
            if case .success = verifier.check(body: body, header: { headers[$0.lowercased()] }, nowMs: epistulaNowMs) {
                return .untypedError("a replayed request was accepted twice")
            }
            return .accepted
        case let .failure(rejection):
            return .rejected(rejection.description)
        }
    }

    // MARK: Generator deliveries

    public static let delivery = FuzzTarget(
        name: "delivery",
        summary: "generator delivery check: PNG/JPEG sniffing, decoding under ImageLimits, size and tier checks",
        dictionary: ["\u{89}PNG\r\n\u{1a}\n", "IHDR", "IDAT", "IEND", "PLTE", "tRNS", "\u{ff}\u{d8}\u{ff}", "\u{ff}\u{c0}", "\u{ff}\u{c4}",
                     "\u{ff}\u{da}", "\u{ff}\u{d9}", "\u{00}\u{01}\u{86}\u{a0}", "\u{7f}\u{ff}\u{ff}\u{ff}", "\u{ff}\u{ff}"]
    ) { bytes in
        let checks = DeliveryChecks(minSide: 8, requireTier: true)
        switch DeliveryVerifier.check(bytes, modality: .image, requested: .image1K, checks: checks) {
        case .success: return .accepted
        case let .failure(rejection): return .rejected(rejection.description)
        }
    }
}
