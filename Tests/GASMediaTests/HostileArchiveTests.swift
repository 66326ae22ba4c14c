import Foundation
import GASTestSupport
import Testing

@testable import GASMedia

/// Archives built to escape, explode or lie. Each must stop with its specific MediaError
/// before the caller sees the bad entry, and nothing may appear on disk.
@Suite("Hostile archives")
struct HostileArchiveTests {
    /// Reads every entry; returns the paths the body saw and the error that ended the pass.
    static func attempt(_ path: String, limits: ArchiveLimits = .default, read: Bool = true) -> (seen: [String], error: MediaError?) {
        var seen: [String] = []
        do {
            try ArchiveReader(path: path, limits: limits).forEachEntry { entry, readData in
                seen.append(entry.path)
                if read { _ = try readData() }
            }
            return (seen, nil)
        } catch let error as MediaError {
            return (seen, error)
        } catch {
            Issue.record("not a MediaError: \(error)")
            return (seen, nil)
        }
    }

    /// Where an extracting reader would have written the escaping entries.
    static func assertNothingEscaped(_ dir: TempDir, absolute: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let parent = dir.url.deletingLastPathComponent().path
        for candidate in [parent + "/evil.txt", dir.file("evil.txt"), absolute].compactMap({ $0 }) {
            #expect(!FileManager.default.fileExists(atPath: candidate), "\(candidate) exists", sourceLocation: sourceLocation)
        }
    }

    @Test("'../evil.txt' is refused before the body sees it", arguments: ["tar", "zip"])
    func dotDot(kind: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("escape.\(kind)")
        try Python.run("""
            import io, sys, tarfile, zipfile
            kind, out = sys.argv[1], sys.argv[2]
            entries = [("ok.txt", b"fine"), ("../evil.txt", b"pwned")]
            if kind == "zip":
                with zipfile.ZipFile(out, "w") as z:
                    for name, data in entries: z.writestr(zipfile.ZipInfo(name), data)
            else:
                with tarfile.open(out, "w") as t:
                    for name, data in entries:
                        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
            """, kind, path)
        let (seen, error) = Self.attempt(path)
        #expect(seen == ["ok.txt"])
        #expect(error == .unsafeArchiveEntry(archive: path, entry: "../evil.txt", reason: "'..' path component"))
        Self.assertNothingEscaped(dir)
    }

    @Test("a backslash '..\\\\evil.txt' in a zip is refused too")
    func backslashDotDot() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("windows.zip")
        try Python.run("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                z.writestr(zipfile.ZipInfo("..\\\\evil.txt"), b"pwned")
            """, path)
        let (seen, error) = Self.attempt(path)
        #expect(seen.isEmpty)
        // libarchive already turns the backslash of a Windows-made zip into a slash.
        #expect(error == .unsafeArchiveEntry(archive: path, entry: "../evil.txt", reason: "'..' path component"))
    }

    @Test("an absolute path is refused", arguments: ["tar", "zip"])
    func absolute(kind: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let target = "/tmp/gas-evil-\(UUID().uuidString).txt"
        let path = dir.file("absolute.\(kind)")
        try Python.run("""
            import io, sys, tarfile, zipfile
            kind, out, target = sys.argv[1:4]
            if kind == "zip":
                with zipfile.ZipFile(out, "w") as z:
                    z.writestr(zipfile.ZipInfo(target), b"pwned")
            else:
                with tarfile.open(out, "w") as t:
                    info = tarfile.TarInfo(target); info.size = 5; t.addfile(info, io.BytesIO(b"pwned"))
            """, kind, path, target)
        let (seen, error) = Self.attempt(path)
        #expect(seen.isEmpty)
        #expect(error == .unsafeArchiveEntry(archive: path, entry: target, reason: "absolute path"))
        Self.assertNothingEscaped(dir, absolute: target)
    }

    @Test("symlinks (tar and zip), hardlinks and devices are refused", arguments: ["symlink.tar", "symlink.zip", "hardlink.tar", "device.tar", "fifo.tar"])
    func links(kind: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file(kind)
        try Python.run("""
            import io, sys, tarfile, zipfile
            kind, out = sys.argv[1], sys.argv[2]
            if kind == "symlink.zip":
                with zipfile.ZipFile(out, "w") as z:
                    z.writestr("ok.txt", b"fine")
                    info = zipfile.ZipInfo("link"); info.create_system = 3; info.external_attr = 0o120777 << 16
                    z.writestr(info, "../../../../etc/passwd")
            else:
                with tarfile.open(out, "w") as t:
                    info = tarfile.TarInfo("ok.txt"); info.size = 4; t.addfile(info, io.BytesIO(b"fine"))
                    info = tarfile.TarInfo("link")
                    if kind == "symlink.tar":
                        info.type = tarfile.SYMTYPE; info.linkname = "/etc/passwd"
                    elif kind == "hardlink.tar":
                        info.type = tarfile.LNKTYPE; info.linkname = "ok.txt"
                    elif kind == "device.tar":
                        info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3
                    else:
                        info.type = tarfile.FIFOTYPE
                    t.addfile(info)
            """, kind, path)
        let (seen, error) = Self.attempt(path)
        #expect(seen == ["ok.txt"])
        guard case .unsafeArchiveEntry(let archive, let entry, let reason) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(archive == path && entry == "link")
        let expectedReason = [
            "symlink.tar": "symbolic link to '/etc/passwd'", "symlink.zip": "symbolic link to '../../../../etc/passwd'",
            "hardlink.tar": "hard link to 'ok.txt'", "device.tar": "device, FIFO or socket", "fifo.tar": "device, FIFO or socket",
        ][kind]
        #expect(reason == expectedReason)
        Self.assertNothingEscaped(dir)
    }

    /// A zip of one 300 MiB entry of zeros (about 300 KB on disk).
    static func zipBomb(in dir: TempDir) throws -> String {
        let path = dir.file("bomb.zip")
        try Python.run("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                z.writestr("small.txt", b"hello")
                with z.open("zeros.bin", "w", force_zip64=True) as f:
                    chunk = bytes(1 << 20)
                    for _ in range(300): f.write(chunk)
            """, path)
        return path
    }

    @Test("a zip bomb stops at the entry limit, the ratio limit and the total limit")
    func zipBomb() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = try Self.zipBomb(in: dir)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size < 1 << 20)

        var entryLimit = ArchiveLimits.default
        entryLimit.maxEntryBytes = 8 << 20
        var result = Self.attempt(path, limits: entryLimit)
        #expect(result.seen == ["small.txt", "zeros.bin"])
        #expect(result.error == .archiveLimitExceeded(archive: path, entry: "zeros.bin", limit: .entryBytes(max: 8 << 20)))

        // Only the ratio: it trips on the running total long before 300 MiB are expanded.
        var ratioOnly = ArchiveLimits.default
        ratioOnly.maxEntryBytes = 1 << 30
        result = Self.attempt(path, limits: ratioOnly)
        #expect(result.error == .archiveLimitExceeded(archive: path, entry: "zeros.bin", limit: .compressionRatio(max: 200)))

        // Not reading the entry does not help: its declared size counts.
        result = Self.attempt(path, limits: ratioOnly, read: false)
        #expect(result.error == .archiveLimitExceeded(archive: path, entry: "zeros.bin", limit: .compressionRatio(max: 200)))

        // With the defaults, the declared 300 MiB is over maxEntryBytes before anything is inflated.
        #expect(Self.attempt(path).error == .archiveLimitExceeded(archive: path, entry: "zeros.bin", limit: .entryBytes(max: 256 << 20)))

        var totalLimit = ArchiveLimits.default
        totalLimit.maxEntryBytes = 1 << 30
        totalLimit.maxTotalBytes = 4 << 20
        totalLimit.maxCompressionRatio = 1e9
        result = Self.attempt(path, limits: totalLimit)
        #expect(result.error == .archiveLimitExceeded(archive: path, entry: "zeros.bin", limit: .totalBytes(max: 4 << 20)))
    }

    @Test("a tar.gz of zeros trips the ratio limit while streaming")
    func tarGzBomb() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("bomb.tar.gz")
        try Python.run("""
            import io, sys, tarfile
            class Zeros(io.RawIOBase):
                def __init__(self, n): self.left = n
                def readable(self): return True
                def readinto(self, b):
                    n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
            with tarfile.open(sys.argv[1], "w:gz", compresslevel=9) as t:
                info = tarfile.TarInfo("zeros.bin"); info.size = 64 << 20
                t.addfile(info, io.BufferedReader(Zeros(info.size)))
            """, path)
        var limits = ArchiveLimits.default
        limits.ratioGraceBytes = 1 << 20
        let result = Self.attempt(path, limits: limits)
        #expect(result.error == .archiveLimitExceeded(archive: path, entry: "zeros.bin", limit: .compressionRatio(max: 200)))
    }

    @Test("too many entries")
    func tooManyEntries() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("many.zip")
        try Python.run("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                for i in range(50): z.writestr(f"f{i:03}.txt", b"x")
            """, path)
        var limits = ArchiveLimits.default
        limits.maxEntries = 10
        let result = Self.attempt(path, limits: limits)
        #expect(result.seen.count == 10)
        #expect(result.error == .archiveLimitExceeded(archive: path, entry: nil, limit: .entries(max: 10)))
    }

    @Test("truncated and corrupted archives are archiveUnreadable", arguments: ["tar", "tar.gz", "zip"])
    func corrupted(kind: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let good = dir.file("good.\(kind)")
        try Python.run("""
            import io, random, sys, tarfile, zipfile
            kind, out = sys.argv[1], sys.argv[2]
            # Compressible text, so flipped bytes land in Huffman-coded data.
            blob = " ".join(str(i * i) for i in range(40_000)).encode()
            if kind == "zip":
                with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
                    z.writestr("a.bin", blob); z.writestr("b.bin", blob[::-1])
            else:
                with tarfile.open(out, "w:gz" if kind == "tar.gz" else "w") as t:
                    for name, data in (("a.bin", blob), ("b.bin", blob[::-1])):
                        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
            """, kind, good)
        #expect(try readAll(good).count == 2)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))

        // Truncated in the middle of the data.
        let truncated = dir.file("cut.\(kind)")
        try Data(bytes.prefix(bytes.count / 3)).write(to: URL(fileURLWithPath: truncated))
        let cut = Self.attempt(truncated)
        guard case .archiveUnreadable(let archive, _) = cut.error else {
            Issue.record("truncated \(kind): \(String(describing: cut.error))")
            return
        }
        #expect(archive == truncated)

        // Bytes flipped inside the compressed (or stored) data of the first entry.
        var flipped = bytes
        for i in stride(from: 600, to: 2_600, by: 50) { flipped[i] ^= 0x5A }
        let corrupt = dir.file("flip.\(kind)")
        try Data(flipped).write(to: URL(fileURLWithPath: corrupt))
        let damaged = Self.attempt(corrupt)
        if kind == "tar" {
            // Plain tar has no checksum over data: the flipped bytes come back as data.
            #expect(damaged.error == nil)
        } else {
            guard case .archiveUnreadable = damaged.error else {
                Issue.record("corrupt \(kind): \(String(describing: damaged.error))")
                return
            }
        }
    }

    @Test("files that are not archives fail in init")
    func notArchives() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var random = SeededBytes(seed: 5)
        let noise = dir.file("noise.zip")
        try Data(random.bytes(10_000)).write(to: URL(fileURLWithPath: noise))
        let missing = dir.file("missing.tar")
        for path in [noise, missing, dir.path] {
            let error = mediaError { _ = try ArchiveReader(path: path) }
            guard case .archiveUnreadable(let archive, _) = error else {
                Issue.record("\(path): \(String(describing: error))")
                continue
            }
            #expect(archive == path)
        }
        // An mtree text file: a format libarchive knows but we do not enable.
        let mtree = dir.file("spec.tar")
        try Data("#mtree\nhostname type=file contents=/etc/hostname\n".utf8).write(to: URL(fileURLWithPath: mtree))
        guard case .archiveUnreadable = mediaError({ _ = try ArchiveReader(path: mtree) }) else {
            Issue.record("mtree accepted")
            return
        }
    }

    @Test("an encrypted zip entry is refused")
    func encrypted() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("locked.zip")
        // zipfile cannot encrypt; set the 'encrypted' flag bit in the local and central headers.
        try Python.run("""
            import sys, zipfile
            out = sys.argv[1]
            with zipfile.ZipFile(out, "w") as z:
                z.writestr("secret.txt", b"x" * 40)
            data = bytearray(open(out, "rb").read())
            data[6] |= 1
            central = data.find(b"PK\\x01\\x02")
            data[central + 8] |= 1
            open(out, "wb").write(bytes(data))
            """, path)
        let result = Self.attempt(path)
        #expect(result.seen.isEmpty)
        #expect(result.error == .encryptedArchiveEntry(archive: path, entry: "secret.txt"))
    }
}
