import Foundation
import GASCore
import GASData
import GASMedia
import GASStore

/// What `gascli audit export` wrote, for the CLI to print.
public struct AuditExportSummary: Sendable {
    public struct File: Sendable, Equatable {
        /// Path inside the bundle, below the run folder.
        public var path: String
        public var bytes: Int
    }

    public var runID: String
    public var runDirectory: String
    public var bundlePath: String
    public var bundleSHA256: String
    public var bundleBytes: Int
    /// The fixed members, in bundle order.
    public var files: [File]
    public var mediaFiles: Int
    public var mediaBytes: Int
}

/// Packs a completed run into an audit bundle. Every member is read once from the run and the
/// archive is written in sorted path order, so exporting the same run twice gives the same bytes.
enum AuditExport {
    static func export(run: String, outputs: String?, to bundle: String, withMedia: Bool) throws -> AuditExportSummary {
        let runDirectory = try resolveRun(run, outputs: outputs)
        let runID = (runDirectory as NSString).lastPathComponent
        func file(_ name: String) -> String { (runDirectory as NSString).appendingPathComponent(name) }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: bundle, isDirectory: &isFolder), isFolder.boolValue {
            throw AuditError.cannotWrite(path: bundle, reason: "it is a folder; give a file name such as \(runID).tar.gz")
        }

        let scratch = try TemporaryFolder(label: "gascli-export")
        defer { scratch.remove() }
        let snapshotPath = scratch.file(AuditBundle.Member.ledger.rawValue)
        do {
            try LedgerSnapshot.copy(ledgerAt: file("run.sqlite"), to: snapshotPath)
        } catch {
            throw AuditError.runIncomplete(runDirectory: runDirectory, reason: "run.sqlite: \(error)")
        }
        // Everything below reads the copy, so the bundle is consistent with its own ledger.
        let ledger = try LedgerSnapshot(path: snapshotPath)
        defer { try? ledger.close() }
        guard let record = try ledger.run(id: runID) else {
            let found = (try? ledger.runIDs()) ?? []
            throw AuditError.runIncomplete(runDirectory: runDirectory,
                                           reason: "run.sqlite records no run '\(runID)' (it records: \(found.joined(separator: ", "))); do not rename run directories")
        }
        guard record.status == "completed" else {
            throw AuditError.runIncomplete(runDirectory: runDirectory,
                                           reason: "the run's status is '\(record.status)'; only completed runs can be audited, so run the spec to completion first")
        }
        let samples = try ledger.samples(runID: runID)

        var members: [String: [UInt8]] = [:]
        for member in [AuditBundle.Member.manifest, .spec, .predictions, .metrics, .results] {
            members[member.rawValue] = try readRunFile(file(member.rawValue), runDirectory: runDirectory)
        }
        members[AuditBundle.Member.resolvedSpec.rawValue] = Array(record.resolvedSpecJSON.utf8)
        members[AuditBundle.Member.ledger.rawValue] = try readRunFile(snapshotPath, runDirectory: runDirectory)
        let dataHashes = Dictionary(samples.map { ($0.id, DataHash(sha256: $0.sha256, bytes: $0.byteCount)) }, uniquingKeysWith: { a, _ in a })
        members[AuditBundle.Member.dataHashes.rawValue] = try AuditBundle.encodeJSON(dataHashes)

        var checksums = members.mapValues { AuditBundle.sha256Hex($0) }
        let media = withMedia ? try collectMedia(samples, outputs: (runDirectory as NSString).deletingLastPathComponent) : [:]
        for (path, item) in media { checksums[path] = item.sha256 }
        let checksumsFile = ChecksumsFile(format: AuditBundle.format, version: AuditBundle.version, runID: runID, files: checksums)
        members[AuditBundle.Member.checksums.rawValue] = try AuditBundle.encodeJSON(checksumsFile)

        // Sorted paths: the order is part of the bytes. A MediaError here names the archive and entry.
        let writer = try ArchiveWriter(path: bundle)
        for path in Set(members.keys).union(media.keys).sorted() {
            if let bytes = members[path] {
                try writer.add(runID + "/" + path, bytes: bytes)
            } else if let item = media[path] {
                try writer.add(runID + "/" + path, contentsOf: item.source)
            }
        }
        try writer.close()
        let digest = try AuditBundle.sha256(ofFile: bundle)
        let files = AuditBundle.Member.allCases.compactMap { m in members[m.rawValue].map { AuditExportSummary.File(path: m.rawValue, bytes: $0.count) } }
        return AuditExportSummary(runID: runID, runDirectory: runDirectory, bundlePath: bundle, bundleSHA256: digest.sha256,
                                  bundleBytes: digest.bytes, files: files, mediaFiles: media.count,
                                  mediaBytes: media.values.reduce(0) { $0 + $1.bytes })
    }

    /// A run directory given as a path, or as a run id under the outputs folder (default `runs`).
    static func resolveRun(_ run: String, outputs: String?) throws -> String {
        var candidates = [run]
        if !run.contains("/") { candidates.append(((outputs ?? "runs") as NSString).appendingPathComponent(run)) }
        for candidate in candidates {
            let ledger = (candidate as NSString).appendingPathComponent("run.sqlite")
            if FileManager.default.fileExists(atPath: ledger) {
                // Standardized, so the run id (the last component) is right for "runs/x/" and "./x".
                return URL(fileURLWithPath: candidate).standardizedFileURL.path
            }
        }
        throw AuditError.runNotFound(run: run, searched: candidates)
    }

    private static func readRunFile(_ path: String, runDirectory: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let name = (path as NSString).lastPathComponent
            throw AuditError.runIncomplete(runDirectory: runDirectory, reason: "\(name) is missing or unreadable (a run writes it when it completes)")
        }
        return Array(data)
    }

    struct MediaFile {
        var source: String
        var sha256: String
        var bytes: Int
    }

    /// The stored media of every sample, checked against the sample's sha256 before anything is
    /// written: a bundle that could only fail its own audit is not produced. A sample skipped for
    /// unreadable input may lack its media; any other missing file is an error.
    private static func collectMedia(_ samples: [PlannedSample], outputs: String) throws -> [String: MediaFile] {
        var media: [String: MediaFile] = [:]
        for sample in samples {
            guard let parsed = AuditBundle.mediaPath(sample.mediaPath), parsed.sha256 == sample.sha256 else {
                throw AuditError.media(sample: sample.id, path: sample.mediaPath, problem: "is not the media store's media/ab/<sha256>.<ext> for this sample")
            }
            if let known = media[sample.mediaPath] {
                guard known.bytes == sample.byteCount else {
                    throw AuditError.media(sample: sample.id, path: sample.mediaPath, problem: "has \(known.bytes) bytes, the sample records \(sample.byteCount)")
                }
                continue
            }
            let source = (outputs as NSString).appendingPathComponent(sample.mediaPath)
            guard FileManager.default.fileExists(atPath: source) else {
                if sample.skipReason != nil { continue }
                throw AuditError.media(sample: sample.id, path: source, problem: "is missing")
            }
            let digest = try AuditBundle.sha256(ofFile: source)
            guard digest.sha256 == sample.sha256, digest.bytes == sample.byteCount else {
                throw AuditError.media(sample: sample.id, path: source,
                                       problem: "hashes to \(digest.sha256) (\(digest.bytes) bytes), not the sample's \(sample.sha256) (\(sample.byteCount) bytes)")
            }
            media[sample.mediaPath] = MediaFile(source: source, sha256: digest.sha256, bytes: digest.bytes)
        }
        return media
    }
}

/// A fresh folder under the system temp dir (mkdtemp: unique, mode 0700), removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init(label: String) throws(AuditError) {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else {
            throw .cannotWrite(path: NSTemporaryDirectory(), reason: "cannot create a temporary folder (\(String(cString: strerror(errno))))")
        }
        path = made
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
