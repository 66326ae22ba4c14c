import Crypto
import Foundation
import GASCore
import GASData
import GASSpec
import GASStore

/// What a plan was made from, in a form that is cheap to check: the spec as resolved, the tool
/// binary, the catalogs' bytes, every dataset file's size, times and inode, and the detectors
/// with their artifact hashes.
///
/// Why: resuming a large round would otherwise read, hash and validate every sample again
/// (seconds per 100,000 samples) only to arrive at the plan the run already recorded. When the
/// fingerprint of the inputs equals the one recorded beside the run, the plan is read back from
/// the run's ledger instead. Any change to a file's size, modification or change time (which no
/// `touch` can set back), or inode makes the fingerprint differ, and the round is planned from the
/// data as before; `gascli run --replan` always does.
public struct PlanInputs: Codable, Sendable, Equatable {
    public static let fileName = "plan-inputs.json"
    static let version = "gascli plan inputs 1"

    /// sha256 over everything listed above.
    public var fingerprint: String
    /// The manifest hash of the plan those inputs produced.
    public var manifestHash: String
    public var skippedDatasets: [SkippedDataset]?
    /// The planning warnings, shown again when the plan is reused.
    public var warnings: [String]
    /// `mediaStamp` of the outputs folder when the plan was recorded.
    public var mediaStamp: String?
    /// The plan's sample count: a reused plan's samples are read straight into their places
    /// (absent from files written before it was recorded).
    public var sampleCount: Int?
    /// sha256 of `plan-samples.bin` (`PlanSamplesFile`), the samples' quick copy; nil when none was
    /// written (files from before it, or a write that failed), and the ledger's rows are read.
    public var samplesSHA256: String?

    enum CodingKeys: String, CodingKey {
        case fingerprint, warnings
        case manifestHash = "manifest_hash", skippedDatasets = "skipped_datasets", mediaStamp = "media_stamp", sampleCount = "sample_count"
        case samplesSHA256 = "samples_sha256"
    }

    public static func read(directory: String) -> PlanInputs? {
        guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(fileName)) else { return nil }
        return try? JSONDecoder().decode(PlanInputs.self, from: data)
    }

    public func write(directory: String) throws {
        try AtomicFile.write(try JSONEncoder.sorted.encode(self), to: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// The fingerprint of a round's inputs; nil when the round has generator sources, whose media
    /// come from miners or the generator store rather than from files named by the spec.
    public static func fingerprint(_ loaded: LoadedSpec, catalog: Catalog, outputs: String, detectors: [PlannedDetector]) throws -> String? {
        let spec = loaded.spec
        if spec.sources.contains(where: { if case .generator = $0 { return true } else { return false } }) { return nil }
        var hasher = SHA256()
        func add(_ text: String) {
            hasher.update(data: Array(text.utf8))
            hasher.update(data: [0])
        }
        add(version)
        add(ToolInfo.version)
        add("\(RunPlan.schemaVersion)")
        add(executableIdentity())
        add(String(decoding: try JSONEncoder.sorted.encode(spec), as: UTF8.self))
        add(outputs)
        for path in spec.catalogs.map({ loaded.resolve($0) }) {
            add(path)
            add(FileManager.default.contents(atPath: path).map { MediaStore.sha256Hex($0) } ?? "missing")
        }
        for entry in catalog.entries.sorted(by: { $0.name < $1.name }) {
            add(String(decoding: try JSONEncoder.sorted.encode(entry), as: UTF8.self))
            for line in fileTree(entry.path) { add(line) }
        }
        add(String(decoding: try JSONEncoder.sorted.encode(detectors), as: UTF8.self))
        return MediaStore.hex(hasher.finalize())
    }

    /// The media store's folders (`media/` and each `media/xx/`: size, times, inode): a blob added
    /// to or removed from the store changes its folder's. Equal stamps spare a reused plan from
    /// checking each of its blobs.
    public static func mediaStamp(outputs: String) -> String {
        let media = (outputs as NSString).appendingPathComponent("media")
        var hasher = SHA256()
        hasher.update(data: Array((statLine(media) ?? "missing").utf8))
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: media)) ?? []).sorted() {
            hasher.update(data: Array(("\n" + name + " " + (statLine((media as NSString).appendingPathComponent(name)) ?? "")).utf8))
        }
        return MediaStore.hex(hasher.finalize())
    }

    /// The running binary (size, modification time): a rebuilt gascli may plan differently
    /// (other limits, other validation) even under the same version number.
    static func executableIdentity() -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        var s = stat()
        guard stat(path, &s) == 0 else { return "\(path) unknown" }
        // No change time here: the build tools touch it after linking, and the binary is ours.
        return "\(path) \(s.st_size) \(s.st_mtim.tv_sec).\(s.st_mtim.tv_nsec) \(s.st_ino)"
    }

    /// One line per file under `path` (or for `path` itself): relative name, size, modification
    /// and change times in nanoseconds, inode. Sorted, so the listing order of the filesystem does
    /// not matter. Symbolic links are followed as the dataset reader follows them.
    static func fileTree(_ path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return ["missing \(path)"] }
        guard isFolder.boolValue else { return [". " + (statLine(path) ?? "unreadable")] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return ["unreadable \(path)"] }
        var lines: [String] = []
        while let relative = enumerator.nextObject() as? String {
            lines.append(relative + " " + (statLine((path as NSString).appendingPathComponent(relative)) ?? "unreadable"))
        }
        return lines.sorted()
    }

    static func statLine(_ path: String) -> String? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return "\(s.st_size) \(s.st_mtim.tv_sec).\(s.st_mtim.tv_nsec) \(s.st_ctim.tv_sec).\(s.st_ctim.tv_nsec) \(s.st_ino) \(s.st_mode)"
    }
}

/// `plan-samples.bin` beside plan-inputs.json: the recorded plan's samples and execution order in
/// `PlanSnapshot`'s binary form, so a reused plan is read in a fraction of the time its ledger rows
/// take. The ledger stays the record: a copy that is missing, damaged or not the one plan-inputs.json
/// names (by sha256) is passed over, and the ledger's rows are read instead.
enum PlanSamplesFile {
    static let fileName = "plan-samples.bin"

    /// Writes the snapshot (`.partial`, then renamed into place) and answers its sha256.
    static func write(_ samples: [PlannedSample], executionOrder: [Int], directory: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent(fileName), partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.fileWrite(path: partial, code: errno) }
        var hasher = SHA256()
        do {
            defer { close(fd) }
            try PlanSnapshot.encode(samples, executionOrder: executionOrder) { bytes in
                hasher.update(bufferPointer: bytes)
                try AtomicFile.writeAll(fd, bytes, path: partial)
            }
        } catch {
            unlink(partial)
            throw error
        }
        try AtomicFile.publish(partial, as: path)
        return MediaStore.hex(hasher.finalize())
    }

    /// The snapshot in `directory` when it holds `count` samples and its bytes have this sha256;
    /// nil otherwise (the caller reads the ledger).
    static func read(directory: String, count: Int, sha256: String) -> (samples: [PlannedSample], executionOrder: [Int])? {
        let path = (directory as NSString).appendingPathComponent(fileName)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        var hasher = SHA256()
        guard let read = try? PlanSnapshot.decode(count: count, size: Int(info.st_size), read: { buffer in
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw PlanSnapshot.Damage(description: "unreadable: \(String(cString: strerror(errno)))") }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                return n
            }
        }), MediaStore.hex(hasher.finalize()) == sha256 else { return nil }
        return read
    }
}
