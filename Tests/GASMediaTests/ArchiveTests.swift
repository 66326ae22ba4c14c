import Foundation
import Testing

@testable import GASMedia

/// What a pass over an archive saw: (path, kind, bytes) in order.
func readAll(_ path: String, limits: ArchiveLimits = .default) throws -> [(String, ArchiveEntryKind, [UInt8])] {
    var seen: [(String, ArchiveEntryKind, [UInt8])] = []
    try ArchiveReader(path: path, limits: limits).forEachEntry { entry, readData in
        seen.append((entry.path, entry.kind, try readData()))
    }
    return seen
}

/// Python that writes the same small tree into several archive formats:
/// ./data/a.txt, ./data/sub/b.bin (all 256 byte values), ./top.txt, with directory entries.
let treeScript = """
import io, sys, tarfile, zipfile
kind, out = sys.argv[1], sys.argv[2]
files = [("./data/", None), ("./data/a.txt", b"alpha\\n"), ("./data/sub/", None),
         ("./data/sub/b.bin", bytes(range(256))), ("./top.txt", b"top level")]
if kind == "zip":
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            name = name[2:]
            if data is None:
                z.writestr(zipfile.ZipInfo(name), b"")
            else:
                z.writestr(name, data, compress_type=zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED)
        z.writestr("caf\\u00e9/na\\u00efve.txt", "unicode".encode())
else:
    mode = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}[kind]
    with tarfile.open(out, mode, format=tarfile.PAX_FORMAT) as t:
        root = tarfile.TarInfo("./"); root.type = tarfile.DIRTYPE; t.addfile(root)
        for name, data in files:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        data = "unicode".encode()
        info = tarfile.TarInfo("caf\\u00e9/na\\u00efve.txt"); info.size = len(data); t.addfile(info, io.BytesIO(data))
"""

@Suite("Archives")
struct ArchiveTests {
    static let expected: [(String, ArchiveEntryKind, [UInt8])] = [
        ("data", .directory, []), ("data/a.txt", .regular, Array("alpha\n".utf8)), ("data/sub", .directory, []),
        ("data/sub/b.bin", .regular, (0...255).map { UInt8($0) }), ("top.txt", .regular, Array("top level".utf8)),
        ("café/naïve.txt", .regular, Array("unicode".utf8)),
    ]

    static func check(_ seen: [(String, ArchiveEntryKind, [UInt8])], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(seen.map(\.0) == expected.map(\.0), sourceLocation: sourceLocation)
        #expect(seen.map(\.1) == expected.map(\.1), sourceLocation: sourceLocation)
        #expect(seen.map(\.2) == expected.map(\.2), sourceLocation: sourceLocation)
    }

    @Test("zip and tar variants read with normalized paths and exact bytes", arguments: ["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"])
    func formats(kind: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("tree.\(kind)")
        try Python.run(treeScript, kind, path)
        #expect(ArchiveReader.isArchive(path: path))
        Self.check(try readAll(path))
    }

    @Test("a .tgz made by /usr/bin/tar (./ prefixes)")
    func systemTarGzip() throws { try Self.checkSystemTar(flag: "-z", name: "made.tgz") }

    @Test("a .tar.zst made by /usr/bin/tar", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd")))
    func systemTarZstd() throws { try Self.checkSystemTar(flag: "--zstd", name: "made.tar.zst") }

    static func checkSystemTar(flag: String, name: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let tree = dir.file("tree")
        try FileManager.default.createDirectory(atPath: tree + "/nested/deeper", withIntermediateDirectories: true)
        try Data("one".utf8).write(to: URL(fileURLWithPath: tree + "/nested/one.txt"))
        try Data([0, 1, 2, 255]).write(to: URL(fileURLWithPath: tree + "/nested/deeper/two.bin"))
        let archive = dir.file(name)
        try Tool.run(["/usr/bin/tar", "-C", tree, flag, "-cf", archive, "."])
        var files: [String: [UInt8]] = [:]
        var directories: Set<String> = []
        try ArchiveReader(path: archive).forEachEntry { entry, readData in
            #expect(!entry.path.hasPrefix("./") && !entry.path.hasPrefix("/") && !entry.path.hasSuffix("/"))
            switch entry.kind {
            case .regular: files[entry.path] = try readData()
            case .directory: directories.insert(entry.path)
            default: Issue.record("unexpected kind \(entry.kind)")
            }
        }
        #expect(files == ["nested/one.txt": Array("one".utf8), "nested/deeper/two.bin": [0, 1, 2, 255]])
        #expect(directories == ["nested", "nested/deeper"])
    }

    @Test("entries the body does not read are skipped; readData twice gives the same bytes", arguments: ["zip", "tar.gz"])
    func skipping(kind: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("tree.\(kind)")
        try Python.run(treeScript, kind, path)
        var read: [String: [UInt8]] = [:]
        try ArchiveReader(path: path).forEachEntry { entry, readData in
            guard entry.path.hasSuffix(".txt") else { return }
            let first = try readData()
            #expect(try readData() == first)
            read[entry.path] = first
            #expect(entry.size == first.count)
        }
        #expect(read == ["data/a.txt": Array("alpha\n".utf8), "top.txt": Array("top level".utf8), "café/naïve.txt": Array("unicode".utf8)])
    }

    @Test("errors thrown by the body propagate unchanged")
    func bodyErrors() throws {
        struct Stop: Error, Equatable {}
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("tree.tar")
        try Python.run(treeScript, "tar", path)
        var count = 0
        #expect(throws: Stop()) {
            try ArchiveReader(path: path).forEachEntry { _, _ in
                count += 1
                if count == 2 { throw Stop() }
            }
        }
        #expect(count == 2)
    }

    @Test("an empty zip and an empty tar have no entries")
    func empty() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Python.run("""
            import sys, tarfile, zipfile
            zipfile.ZipFile(sys.argv[1], "w").close()
            tarfile.open(sys.argv[2], "w").close()
            """, dir.file("e.zip"), dir.file("e.tar"))
        #expect(try readAll(dir.file("e.zip")).isEmpty)
        #expect(try readAll(dir.file("e.tar")).isEmpty)
    }

    @Test("isArchive goes by extension")
    func extensions() {
        for name in ["a.zip", "A.ZIP", "x/y.tar", "d.tar.gz", "d.tgz", "d.tar.zst", "d.tar.bz2", "d.tar.xz"] {
            #expect(ArchiveReader.isArchive(path: name), "\(name)")
        }
        for name in ["a.png", "a.gz", "tar", "a.zipx", "a.tar.gz.part"] {
            #expect(!ArchiveReader.isArchive(path: name), "\(name)")
        }
    }

    @Test("path normalization", arguments: [
        ("./a/b.txt", ArchivePath.Outcome.relative("a/b.txt")),
        ("a//b/./c/", .relative("a/b/c")),
        ("a\\b.txt", .relative("a/b.txt")),
        ("./", .relative("")),
        ("../x", .unsafe(reason: "'..' path component")),
        ("a/../../x", .unsafe(reason: "'..' path component")),
        ("..\\x", .unsafe(reason: "'..' path component")),
        ("/etc/passwd", .unsafe(reason: "absolute path")),
        ("\\\\server\\share", .unsafe(reason: "absolute path")),
        ("C:/Windows/x", .unsafe(reason: "absolute Windows path")),
        ("a..b/c..", .relative("a..b/c..")),
    ])
    func normalize(raw: String, outcome: ArchivePath.Outcome) {
        #expect(ArchivePath.normalize(raw) == outcome)
    }
}
