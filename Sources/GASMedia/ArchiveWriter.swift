internal import CArchive

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a tar.gz through libarchive whose bytes depend only on the entries given, in the
/// order given. Why deterministic: an audit bundle is published with its sha256, so exporting
/// the same run twice must give the same file. Every entry is a regular file with mtime 0,
/// uid/gid 0, no user or group names and mode 0644; the gzip header carries no timestamp.
/// (The compressed bytes still depend on the zlib build, so compare hashes made by one gascli.)
///
/// The archive is written to `<path>.partial-<pid>` and renamed onto `path` by `close()`, so a
/// failed or abandoned write never leaves a half archive at `path`.
public final class ArchiveWriter {
    /// The archive file being written; errors name it.
    public let path: String
    private let partialPath: String
    private let archive: OpaquePointer
    private var names: Set<String> = []
    private var state = State.open
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    private enum State { case open, closed, failed }

    /// Permission bits of every entry.
    public static let entryMode: UInt32 = 0o644

    public init(path: String) throws(MediaError) {
        guard let archive = archive_write_new() else { throw .outOfMemory }
        self.path = path
        self.partialPath = path + ".partial-\(getpid())"
        self.archive = archive
        // Every stored property is set from here on, so a throw runs deinit, which frees the handle.
        func fail(_ what: String) -> MediaError {
            .archiveWriteFailed(archive: path, entry: nil, reason: "\(what): \(Self.errorMessage(archive))")
        }
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK else { throw fail("tar format") }
        guard archive_write_add_filter_gzip(archive) == ARCHIVE_OK else { throw fail("gzip filter") }
        // A NULL value turns the option off: no modification time in the gzip header.
        guard archive_write_set_filter_option(archive, "gzip", "timestamp", nil) == ARCHIVE_OK,
              archive_write_set_filter_option(archive, "gzip", "compression-level", "6") == ARCHIVE_OK else {
            throw fail("gzip options")
        }
        unlink(partialPath)
        guard archive_write_open_filename(archive, partialPath) == ARCHIVE_OK else {
            let reason = "\(Self.errorMessage(archive)); check that the folder exists and is writable"
            throw .archiveWriteFailed(archive: path, entry: nil, reason: reason)
        }
    }

    deinit {
        if state != .closed {
            archive_write_free(archive)
            unlink(partialPath)
        }
    }

    /// Adds a regular file holding `bytes` at `entryPath` (relative, `/`-separated, no `..`).
    public func add(_ entryPath: String, bytes: [UInt8]) throws(MediaError) {
        try writeEntry(entryPath, size: bytes.count) { () throws(MediaError) in
            let written = bytes.withUnsafeBytes { write($0) }
            try check(written, expected: bytes.count, entry: entryPath)
        }
    }

    /// Adds a regular file with the contents of the file at `source`, streamed in 64 KiB chunks
    /// so large media never sit in memory whole.
    public func add(_ entryPath: String, contentsOf source: String) throws(MediaError) {
        guard let file = fopen(source, "rb") else {
            throw .archiveWriteFailed(archive: path, entry: entryPath, reason: "cannot read \(source): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .archiveWriteFailed(archive: path, entry: entryPath, reason: "\(source) is not a regular file")
        }
        let size = Int(info.st_size)
        try writeEntry(entryPath, size: size) { () throws(MediaError) in
            var remaining = size
            while remaining > 0 {
                let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, min($0.count, remaining), file) }
                guard count > 0 else {
                    throw .archiveWriteFailed(archive: path, entry: entryPath, reason: "\(source) shrank while it was read")
                }
                let written = chunk.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                try check(written, expected: count, entry: entryPath)
                remaining -= count
            }
        }
    }

    /// Finishes the archive and moves it onto `path`. After an error nothing is left at either path.
    public func close() throws(MediaError) {
        guard state == .open else { throw failure(nil, "the archive was already closed or failed") }
        let status = archive_write_close(archive)
        let message = Self.errorMessage(archive)
        archive_write_free(archive)
        state = .closed
        guard status == ARCHIVE_OK else {
            unlink(partialPath)
            throw .archiveWriteFailed(archive: path, entry: nil, reason: "\(message); check free space")
        }
        guard rename(partialPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partialPath)
            throw .archiveWriteFailed(archive: path, entry: nil, reason: "cannot move the finished archive into place: \(reason)")
        }
    }

    // MARK: Internals

    private func writeEntry(_ entryPath: String, size: Int, body: () throws(MediaError) -> Void) throws(MediaError) {
        guard state == .open else { throw failure(entryPath, "the archive was already closed or failed") }
        guard case .relative(let normalized) = ArchivePath.normalize(entryPath), normalized == entryPath, !entryPath.isEmpty else {
            throw failure(entryPath, "an entry path must be relative and '/'-separated, without '.', '..' or empty components")
        }
        guard names.insert(entryPath).inserted else { throw failure(entryPath, "the entry was already written") }

        let locale = UTF8Locale.enter()
        defer { locale.leave() }
        guard let entry = archive_entry_new() else { throw .outOfMemory }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, entryPath)
        gas_archive_entry_set_regular(entry)
        archive_entry_set_perm(entry, mode_t(Self.entryMode))
        archive_entry_set_size(entry, la_int64_t(size))
        archive_entry_set_mtime(entry, 0, 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        do throws(MediaError) {
            let status = archive_write_header(archive, entry)
            guard status == ARCHIVE_OK else { throw failure(entryPath, Self.errorMessage(archive)) }
            try body()
            guard archive_write_finish_entry(archive) == ARCHIVE_OK else { throw failure(entryPath, Self.errorMessage(archive)) }
        } catch {
            state = .failed
            throw error
        }
    }

    /// Bytes libarchive accepted, or a negative status.
    private func write(_ buffer: UnsafeRawBufferPointer) -> Int {
        guard buffer.count > 0, let base = buffer.baseAddress else { return 0 }
        return Int(archive_write_data(archive, base, buffer.count))
    }

    private func check(_ written: Int, expected: Int, entry: String) throws(MediaError) {
        guard written == expected else {
            throw failure(entry, written < 0 ? Self.errorMessage(archive) + "; check free space" : "short write")
        }
    }

    private func failure(_ entry: String?, _ reason: String) -> MediaError {
        .archiveWriteFailed(archive: path, entry: entry, reason: reason)
    }

    private static func errorMessage(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
