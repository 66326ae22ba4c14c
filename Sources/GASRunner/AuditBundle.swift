import Foundation
import GASData
import GASMedia

/// An audit bundle: one past run packed so that an auditor on another machine can re-derive every
/// metric and check every hash without the original run directory.
///
/// Layout (a deterministic tar.gz, one top folder named after the run):
///
///     <run-id>/manifest.json        the frozen plan; its sha256 is the manifest hash
///     <run-id>/spec.yaml            the spec as written
///     <run-id>/resolved-spec.json   the spec with defaults, from the ledger
///     <run-id>/predictions.parquet  one row per sample × detector
///     <run-id>/metrics.parquet      one row per detector × slice
///     <run-id>/results.json         headline numbers
///     <run-id>/ledger.sqlite        a consistent copy of run.sqlite (VACUUM INTO)
///     <run-id>/data-hashes.json     sample id → sha256 and bytes of its media
///     <run-id>/checksums.json       sha256 of every other file in the bundle
///     <run-id>/media/ab/<sha256>.<ext>   with --with-media: the media, as the run stored them
///
/// `export` writes one (`AuditExport`), `verify` checks one (`AuditVerifier`).
public enum AuditBundle {
    public static let format = "gascli-audit-bundle"
    public static let version = 1

    /// The fixed members, in the order they are described above.
    public enum Member: String, CaseIterable, Sendable {
        case manifest = "manifest.json"
        case spec = "spec.yaml"
        case resolvedSpec = "resolved-spec.json"
        case predictions = "predictions.parquet"
        case metrics = "metrics.parquet"
        case results = "results.json"
        case ledger = "ledger.sqlite"
        case dataHashes = "data-hashes.json"
        case checksums = "checksums.json"
    }

    public static func export(run: String, outputs: String?, to bundle: String, withMedia: Bool) throws -> AuditExportSummary {
        try AuditExport.export(run: run, outputs: outputs, to: bundle, withMedia: withMedia)
    }

    /// Checks a bundle without trusting any of it. Throws only when the file cannot be read as a
    /// bundle at all (not an archive, unsafe or unknown entries); every content problem is a FAIL item.
    public static func verify(bundle: String, limits: ArchiveLimits = .default) throws(AuditError) -> AuditReport {
        try AuditVerifier.verify(bundle: bundle, limits: limits)
    }

    /// `media/ab/<64 hex>.<ext>` split into its hash and extension, or nil for any other path.
    /// Why this strict: media paths come from ledgers and bundles, and only this exact shape
    /// (the media store's own) is ever read or written.
    static func mediaPath(_ path: String) -> (sha256: String, ext: String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "media" else { return nil }
        let file = parts[2]
        guard let dot = file.firstIndex(of: ".") else { return nil }
        let sha = file[..<dot], ext = file[file.index(after: dot)...]
        guard sha.count == 64, sha.allSatisfy(isLowerHex), parts[1] == sha.prefix(2),
              (1...10).contains(ext.count), ext.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }) else { return nil }
        return (String(sha), String(ext))
    }

    private static func isLowerHex(_ c: Character) -> Bool {
        ("0"..."9").contains(c) || ("a"..."f").contains(c)
    }

    static func sha256Hex(_ bytes: some DataProtocol) -> String {
        MediaStore.sha256Hex(bytes)
    }

    /// sha256 and size of a file, streamed (`MediaStore.sha256(ofFile:)`) so large bundles and media stay out of memory.
    static func sha256(ofFile path: String) throws -> (sha256: String, bytes: Int) {
        do {
            return try MediaStore.sha256(ofFile: path)
        } catch {
            throw AuditError.cannotRead(path: path, reason: DataError.reason(error))
        }
    }

    /// How the bundle's JSON files are encoded: sorted keys, so the same run gives the same bytes.
    static func encodeJSON(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [0x0A]
    }
}

/// checksums.json: sha256 of every other file, keyed by path inside the run folder.
struct ChecksumsFile: Codable, Equatable {
    var format: String
    var version: Int
    var runID: String
    var files: [String: String]

    enum CodingKeys: String, CodingKey {
        case format, version, files
        case runID = "run_id"
    }
}

/// data-hashes.json: what each sample's media must hash to, from the ledger's samples table.
struct DataHash: Codable, Equatable {
    var sha256: String
    var bytes: Int
}
