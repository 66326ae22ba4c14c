import Crypto
import Foundation
import GASCore
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed media: bytes are kept exactly as they came (never re-encoded) under their sha256.
///
/// Why: gasbench re-encoded JPEGs at q75 on caching, which broke provenance and created a
/// compression shortcut between real and fake sources. Here a sample's bytes are its identity.
/// Detectors get these paths, which reveal nothing about the label or the dataset.
public struct MediaStore: Sendable {
    /// The outputs directory; media live under `<root>/media/`.
    public let root: String
    /// Whether each new blob is synced to disk before it takes its name (the default), or all of
    /// them at once by `syncStored()`. A round's planning stores up to a blob per sample, and a
    /// sync each cost about 0.7 ms on this project's test machine: minutes for a large round.
    public let syncsEachBlob: Bool
    /// Blobs this store value has stored or found in place, so a blob shared by many samples is
    /// checked on disk once per run, not once per sample.
    private let present = PresentBlobs()

    public init(root: String, syncsEachBlob: Bool = true) {
        self.root = root
        self.syncsEachBlob = syncsEachBlob
    }

    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// sha256 (lowercase hex) and size of a file, streamed through one 1 MiB buffer: a large file
    /// (a predictions file, an audit bundle) stays out of memory, and no chunk is allocated and
    /// faulted in afresh. Throws `DataError.unreadable` naming the file.
    public static func sha256(ofFile path: String) throws -> (sha256: String, bytes: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        try buffer.withUnsafeMutableBytes { raw in
            while true {
                let n = read(fd, raw.baseAddress, raw.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
                }
                if n == 0 { break }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<n]))
                total += n
            }
        }
        return (hex(hasher.finalize()), total)
    }

    /// Lowercase hex of a digest, written in place (String(format:) per byte was most of a
    /// sample's planning time, and an intermediate array per digest still showed in profiles).
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        let bytes = Array(digest)
        return hex(bytes, count: bytes.count)
    }

    /// Lowercase hex of a SHA-256 digest, read in place.
    public static func hex(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { hex($0.bindMemory(to: UInt8.self), count: $0.count) }
    }

    /// Lowercase hex of `bytes` into the first `2 * bytes.count` bytes of `out`.
    static func writeHex(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= 2 * bytes.count)
        for (i, b) in bytes.enumerated() {
            out[2 * i] = hexDigit(b >> 4)
            out[2 * i + 1] = hexDigit(b & 15)
        }
    }

    /// Lowercase hex of the first `count` bytes.
    static func hex(_ bytes: some RandomAccessCollection<UInt8>, count: Int) -> String {
        String(unsafeUninitializedCapacity: 2 * count) { out in
            var o = 0
            for b in bytes.prefix(count) {
                out[o] = hexDigit(b >> 4)
                out[o + 1] = hexDigit(b & 15)
                o += 2
            }
            return o
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
    }

    /// Relative path of a blob: `media/ab/<sha256>.<ext>`.
    public static func relativePath(sha256: String, format: String) -> String {
        PlannedSample.storePath(sha256: sha256, format: format)
    }

    public func absolutePath(_ relative: String) -> String {
        // The common case without NSString (called for every sample and detector): a plain root
        // and a store-relative path join with one slash, as appendingPathComponent would.
        if root.utf8.last.map({ $0 != UInt8(ascii: "/") }) ?? false, Self.isPlainRelative(relative) {
            return root + "/" + relative
        }
        return (root as NSString).appendingPathComponent(relative)
    }

    /// Non-empty, no leading or trailing slash, no empty component (byte checks; Foundation's
    /// substring search costs more than the join).
    static func isPlainRelative(_ path: String) -> Bool {
        var previous: UInt8 = UInt8(ascii: "/")
        for b in path.utf8 {
            if b == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return false }
            previous = b
        }
        return previous != UInt8(ascii: "/")
    }

    /// Stores the bytes (atomically, once) and returns the hash and relative path.
    @discardableResult
    public func put(_ bytes: [UInt8], format: String) throws -> (sha256: String, relativePath: String) {
        let sha = Self.hex(try store(bytes, format: format))
        return (sha, Self.relativePath(sha256: sha, format: format))
    }

    /// Stores the bytes (atomically, once) and returns their digest: the blob is at
    /// `relativePath(sha256:format:)` of its hex. Planning stores a blob for every row it reads
    /// (most of them already there), and needs no text of either.
    public func store(_ bytes: [UInt8], format: String) throws -> SHA256.Digest {
        let digest = SHA256.hash(data: bytes)
        let key = PresentBlobs.Key(digest: digest, format: format)
        if present.contains(key) { return digest }
        let path = absolutePath(Self.relativePath(sha256: Self.hex(digest), format: format))
        let fm = FileManager.default
        if let attrs = try? fm.attributesOfItem(atPath: path), (attrs[.size] as? Int) == bytes.count {
            present.insert(key)
            return digest
        }
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            // Foundation's error names the first folder it could not make; its POSIX reason is the useful part.
            let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
            let posix = underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
            throw DataError.cannotWrite(path: folder, reason: "cannot create the media folder (\(posix ?? "\(error)")); make \(root) a writable folder or choose another outputs directory")
        }
        // Unique to this process and call: datasets are stored from several threads at once.
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)-\(present.nextTemporary())"
        try Self.write(bytes, to: temporary, sync: syncsEachBlob, root: root)
        if !syncsEachBlob { present.noteUnsynced() }
        // rename(2) replaces an existing file atomically: two runs storing the same blob at once
        // (same bytes, same name) both succeed, whichever renames last.
        guard rename(temporary, path) == 0 else {
            let code = errno
            try? fm.removeItem(atPath: temporary)
            throw DataError.cannotWrite(path: path, reason: "rename failed: \(String(cString: strerror(code)))")
        }
        present.insert(key)
        return digest
    }

    /// Makes every blob this store value wrote without a sync durable, with their names: one
    /// `syncfs` of the filesystem holding the store. Call it before anything that trusts the blobs
    /// to be there after a crash of the machine is recorded (a plan, before plan-inputs.json).
    public func syncStored() throws {
        guard present.takeUnsynced() else { return }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError.cannotWrite(path: root, reason: "cannot open it to sync the stored media: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let syncFilesystem = Self.syncfs else { sync(); return }
        guard syncFilesystem(fd) == 0 else {
            throw DataError.cannotWrite(path: root, reason: "syncing the stored media to disk failed: \(String(cString: strerror(errno))); check the disk and free space")
        }
    }

    /// Writes a new file with one `write` loop, synced before it is closed when `sync`.
    static func write(_ bytes: [UInt8], to path: String, sync: Bool, root: String) throws {
        func failure(_ code: Int32) -> DataError {
            .cannotWrite(path: path, reason: "\(String(cString: strerror(code))); check free space and permissions of \(root)")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(errno) }
        var done = 0
        var code: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    code = errno
                    return
                }
                done += n
            }
        }
        if code == 0 && sync && fsync(fd) != 0 { code = errno }
        if close(fd) != 0 && code == 0 { code = errno }
        guard code == 0 else {
            unlink(path)
            throw failure(code)
        }
    }

    /// glibc's `syncfs` (see `GNU`); where there is none, `sync()` does it.
    private static let syncfs = GNU.symbol("syncfs", as: (@convention(c) (Int32) -> Int32).self)
}

/// The blobs known to be in the store (content-addressed: a present blob never changes), by digest
/// and format: about 64 bytes a blob, where the hash and path as strings took about 290. A round
/// whose every sample has media of its own holds one per sample while its datasets are read.
final class PresentBlobs: @unchecked Sendable {
    struct Key: Hashable {
        var a: UInt64, b: UInt64, c: UInt64, d: UInt64
        var format: String

        init(digest: SHA256.Digest, format: String) {
            (a, b, c, d) = digest.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            }
            self.format = format
        }
    }

    private let lock = NSLock()
    private var blobs: Set<Key> = []
    func contains(_ key: Key) -> Bool { lock.withLock { blobs.contains(key) } }
    func insert(_ key: Key) { _ = lock.withLock { blobs.insert(key) } }
    private var temporaries = 0
    func nextTemporary() -> Int { lock.withLock { temporaries += 1; return temporaries } }
    /// Whether a blob was written without a sync since the last `takeUnsynced()`.
    private var unsynced = false
    func noteUnsynced() { lock.withLock { unsynced = true } }
    func takeUnsynced() -> Bool { lock.withLock { defer { unsynced = false }; return unsynced } }
}
