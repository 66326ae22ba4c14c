internal import CArchive

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads zip and tar archives (plain, gzip, bzip2, xz, lzma, zstd, lz4) straight into
/// memory through libarchive. Why so guarded: archives come from dataset hosts and
/// generator miners, so every entry is checked before the caller sees it, sizes are
/// bounded while decompressing, and nothing is ever written to disk.
public final class ArchiveReader: Sendable {
    /// The archive file, as given; errors name it.
    public let path: String
    public let limits: ArchiveLimits
    /// Size of the archive file in bytes: the denominator of the compression ratio.
    public let fileSize: Int

    /// Extensions `isArchive` accepts, longest first.
    public static let archiveExtensions = [
        ".tar.gz", ".tar.zst", ".tar.bz2", ".tar.xz", ".tgz", ".tzst", ".tbz2", ".txz", ".zip", ".tar",
    ]

    /// Checks that `path` is a regular file libarchive recognises as zip or tar;
    /// entries are read later by `forEachEntry`.
    public init(path: String, limits: ArchiveLimits = .default) throws(MediaError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .archiveUnreadable(archive: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .archiveUnreadable(archive: path, reason: "not a regular file")
        }
        self.path = path
        self.limits = limits
        self.fileSize = Int(info.st_size)
        // Probe the first header so that a file that is no archive fails here, not mid-run.
        let locale = UTF8Locale.enter()
        defer { locale.leave() }
        let handle = try ArchiveHandle(path: path)
        _ = try handle.nextHeader()
    }

    /// Whether the file name ends with an archive extension this reader handles.
    public static func isArchive(path: String) -> Bool {
        let name = path.lowercased()
        return archiveExtensions.contains { name.hasSuffix($0) }
    }

    /// Streams entries in archive order. For regular entries, `readData()` returns the bytes
    /// (bounded by limits); for directories it returns []. Unsafe entries (absolute path, a
    /// `..` component, symlink or hardlink, device files) throw `MediaError.unsafeArchiveEntry`
    /// naming the archive and the entry before `body` is called for it; encrypted entries throw
    /// `encryptedArchiveEntry`. Entries before a failing one have already been passed to `body`,
    /// so treat an archive as all-or-nothing. Errors thrown by `body` propagate unchanged, and a
    /// `readData` error caught by `body` is rethrown once `body` returns.
    public func forEachEntry(_ body: (ArchiveEntry, _ readData: () throws(MediaError) -> [UInt8]) throws -> Void) throws {
        let locale = UTF8Locale.enter()
        defer { locale.leave() }
        let handle = try ArchiveHandle(path: path)
        var budget = Budget(archive: path, limits: limits, fileSize: fileSize)
        var entryCount = 0
        while let raw = try handle.nextHeader() {
            entryCount += 1
            if entryCount > limits.maxEntries {
                throw MediaError.archiveLimitExceeded(archive: path, entry: nil, limit: .entries(max: limits.maxEntries))
            }
            guard let entry = try describe(raw) else { continue }

            var cached: [UInt8]?
            var failure: MediaError?
            func readData() throws(MediaError) -> [UInt8] {
                if let cached { return cached }
                if let failure { throw failure }
                guard entry.kind == .regular else { return [] }
                do throws(MediaError) {
                    let bytes = try handle.readData(entry: entry, declaredSize: Self.declaredSize(raw), budget: &budget, keep: true)
                    cached = bytes
                    return bytes
                } catch {
                    failure = error
                    throw error
                }
            }
            try locale.outside { try body(entry, readData) }
            if let failure { throw failure }
            if entry.kind == .regular && cached == nil {
                try handle.skipData(entry: entry, declaredSize: Self.declaredSize(raw), budget: &budget)
            }
        }
    }

    /// The caller-facing entry, nil for the archive root (`./`), or an error for what must not be extracted.
    private func describe(_ raw: OpaquePointer) throws(MediaError) -> ArchiveEntry? {
        guard let rawPath = Self.string(archive_entry_pathname_utf8(raw)) ?? Self.string(archive_entry_pathname(raw)) else {
            throw MediaError.unsafeArchiveEntry(archive: path, entry: "?", reason: "the entry name cannot be decoded")
        }
        func unsafe(_ reason: String) -> MediaError {
            .unsafeArchiveEntry(archive: path, entry: rawPath, reason: reason)
        }
        let normalized: String
        switch ArchivePath.normalize(rawPath) {
        case .unsafe(let reason): throw unsafe(reason)
        case .relative(let relative): normalized = relative
        }
        if gas_archive_entry_is_hardlink(raw) != 0 {
            let target = Self.string(archive_entry_hardlink_utf8(raw)) ?? Self.string(archive_entry_hardlink(raw)) ?? "?"
            throw unsafe("hard link to '\(target)'")
        }
        if gas_archive_entry_is_symlink(raw) != 0 {
            let target = Self.string(archive_entry_symlink_utf8(raw)) ?? Self.string(archive_entry_symlink(raw)) ?? "?"
            throw unsafe("symbolic link to '\(target)'")
        }
        if gas_archive_entry_is_special(raw) != 0 { throw unsafe("device, FIFO or socket") }
        let kind: ArchiveEntryKind
        if gas_archive_entry_is_regular(raw) != 0 {
            kind = .regular
        } else if gas_archive_entry_is_directory(raw) != 0 {
            kind = .directory
        } else {
            throw unsafe("unknown entry type")
        }
        if archive_entry_is_encrypted(raw) != 0 {
            throw MediaError.encryptedArchiveEntry(archive: path, entry: rawPath)
        }
        if normalized.isEmpty {
            if kind == .directory { return nil }
            throw unsafe("empty path")
        }
        return ArchiveEntry(path: normalized, kind: kind, size: kind == .regular ? Self.declaredSize(raw) ?? 0 : 0)
    }

    private static func declaredSize(_ raw: OpaquePointer) -> Int? {
        guard archive_entry_size_is_set(raw) != 0 else { return nil }
        return Int(clamping: max(0, archive_entry_size(raw)))
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// Running totals for one pass over an archive, checked on every chunk.
struct Budget {
    let archive: String
    let limits: ArchiveLimits
    let fileSize: Int
    private(set) var totalBytes = 0

    init(archive: String, limits: ArchiveLimits, fileSize: Int) {
        self.archive = archive
        self.limits = limits
        self.fileSize = fileSize
    }

    mutating func account(_ count: Int, entry: String) throws(MediaError) {
        totalBytes += count
        if totalBytes > limits.maxTotalBytes {
            throw .archiveLimitExceeded(archive: archive, entry: entry, limit: .totalBytes(max: limits.maxTotalBytes))
        }
        if totalBytes > limits.ratioGraceBytes,
           Double(totalBytes) / Double(max(fileSize, 1)) > limits.maxCompressionRatio {
            throw .archiveLimitExceeded(archive: archive, entry: entry, limit: .compressionRatio(max: limits.maxCompressionRatio))
        }
    }

    func checkEntry(_ bytes: Int, entry: String) throws(MediaError) {
        if bytes > limits.maxEntryBytes {
            throw .archiveLimitExceeded(archive: archive, entry: entry, limit: .entryBytes(max: limits.maxEntryBytes))
        }
    }
}

/// One open libarchive reader. Only zip, tar and the compression filters we link
/// are enabled: `format_all` would also accept mtree (which can point at host files),
/// ISO, RAR, cab and more, and `filter_all` may run external programs. Zip is read
/// through its central directory only (the seekable reader): the streaming reader
/// would silently accept a zip cut between two entries as a shorter archive.
final class ArchiveHandle {
    private let archive: OpaquePointer
    private let name: String
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)
    /// A zip with no entries: libarchive's central-directory reader does not recognise it.
    private var isEmptyZip = false

    init(path: String) throws(MediaError) {
        guard let archive = archive_read_new() else { throw .outOfMemory }
        self.archive = archive
        self.name = path
        _ = archive_read_support_filter_gzip(archive)
        _ = archive_read_support_filter_bzip2(archive)
        _ = archive_read_support_filter_xz(archive)
        _ = archive_read_support_filter_lzma(archive)
        _ = archive_read_support_filter_zstd(archive)
        _ = archive_read_support_filter_lz4(archive)
        _ = archive_read_support_format_tar(archive)
        _ = archive_read_support_format_zip_seekable(archive)
        _ = archive_read_support_format_empty(archive)
        if archive_read_open_filename(archive, path, 64 << 10) != ARCHIVE_OK {
            guard Self.isEmptyZip(path: path) else {
                throw .archiveUnreadable(archive: path, reason: errorMessage())
            }
            isEmptyZip = true
        }
    }

    /// Whether the file is only a zip end-of-central-directory record saying "0 entries"
    /// (22 bytes plus an optional comment), which is how zip tools write an empty archive.
    private static func isEmptyZip(path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 22)
        guard fread(&head, 1, 22, file) == 22 else { return false }
        let commentLength = Int(head[20]) | Int(head[21]) << 8
        var rest = [UInt8](repeating: 0, count: commentLength + 1)
        let trailing = fread(&rest, 1, rest.count, file)
        return head[0..<4] == [0x50, 0x4B, 0x05, 0x06] && head[4..<20].allSatisfy { $0 == 0 }
            && trailing == commentLength
    }

    deinit { archive_read_free(archive) }

    /// The next entry, or nil at the end of the archive.
    func nextHeader() throws(MediaError) -> OpaquePointer? {
        if isEmptyZip { return nil }
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        switch status {
        case ARCHIVE_EOF:
            return nil
        case ARCHIVE_OK, ARCHIVE_WARN:
            guard let entry else { throw .archiveUnreadable(archive: name, reason: "libarchive returned no entry") }
            return entry
        default:
            throw .archiveUnreadable(archive: name, reason: errorMessage())
        }
    }

    /// Reads (or with `keep: false` drains) the current entry's data in 64 KiB chunks,
    /// checking limits before each chunk is kept, so a bomb stops at the limit.
    func readData(entry: ArchiveEntry, declaredSize: Int?, budget: inout Budget, keep: Bool) throws(MediaError) -> [UInt8] {
        if let declaredSize { try budget.checkEntry(declaredSize, entry: entry.path) }
        var data: [UInt8] = []
        if keep { data.reserveCapacity(min(declaredSize ?? 0, budget.limits.maxEntryBytes, 16 << 20)) }
        var entryBytes = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                archive_read_data(archive, buffer.baseAddress, buffer.count)
            }
            if count == 0 { break }
            guard count > 0 else {
                throw .archiveUnreadable(archive: name, reason: "entry '\(entry.path)': \(errorMessage())")
            }
            let n = Int(count)
            entryBytes += n
            try budget.checkEntry(entryBytes, entry: entry.path)
            try budget.account(n, entry: entry.path)
            if keep { data.append(contentsOf: chunk[0..<n]) }
        }
        return data
    }

    /// Moves past an entry the caller did not read. Its declared size counts against the
    /// totals first (skipping a gzip'd tar entry still costs decompressing it); without a
    /// declared size the data is drained and counted.
    func skipData(entry: ArchiveEntry, declaredSize: Int?, budget: inout Budget) throws(MediaError) {
        guard let declaredSize else {
            _ = try readData(entry: entry, declaredSize: nil, budget: &budget, keep: false)
            return
        }
        try budget.account(declaredSize, entry: entry.path)
        if archive_read_data_skip(archive) != ARCHIVE_OK {
            throw .archiveUnreadable(archive: name, reason: "entry '\(entry.path)': \(errorMessage())")
        }
    }

    private func errorMessage() -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}

/// Switches the current thread to a UTF-8 C locale while libarchive runs. Why: in the
/// default "C" locale libarchive 3.6 cannot convert UTF-8 zip names (it returns no name
/// at all for "café.txt"). `uselocale` is per thread, so no other code is affected, and
/// the caller's locale is restored while its body runs.
struct UTF8Locale {
    private nonisolated(unsafe) static let utf8: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)
    private let previous: locale_t?

    static func enter() -> UTF8Locale {
        guard let utf8 else { return UTF8Locale(previous: nil) }
        return UTF8Locale(previous: uselocale(utf8))
    }

    func leave() {
        if let previous { uselocale(previous) }
    }

    /// Runs `body` under the locale that was current before `enter()`.
    func outside<T>(_ body: () throws -> T) rethrows -> T {
        guard let previous, let utf8 = Self.utf8 else { return try body() }
        uselocale(previous)
        defer { uselocale(utf8) }
        return try body()
    }
}
