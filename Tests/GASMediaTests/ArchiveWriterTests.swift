import Foundation
import Testing

@testable import GASMedia

@Suite("Archive writer")
struct ArchiveWriterTests {
    /// Entries with awkward content: every byte value, an empty file, more than one 64 KiB chunk,
    /// a path longer than ustar's 100-byte name field, and a non-ASCII name.
    static let entries: [(String, [UInt8])] = [
        ("run/a.txt", Array("alpha\n".utf8)),
        ("run/bytes.bin", (0...255).map { UInt8($0) }),
        ("run/empty", []),
        ("run/media/ab/" + String(repeating: "ab", count: 32) + ".png", (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
        ("run/" + String(repeating: "long-folder-name/", count: 8) + "z.json", Array("{}".utf8)),
        ("run/café.txt", Array("unicode".utf8)),
    ]

    static func write(_ entries: [(String, [UInt8])], to path: String) throws {
        let writer = try ArchiveWriter(path: path)
        for (name, bytes) in entries { try writer.add(name, bytes: bytes) }
        try writer.close()
    }

    @Test("entries read back through ArchiveReader with the same paths, order and bytes")
    func roundTrip() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("out.tar.gz")
        try Self.write(Self.entries, to: path)
        let seen = try readAll(path)
        #expect(seen.map(\.0) == Self.entries.map(\.0))
        #expect(seen.allSatisfy { $0.1 == .regular })
        #expect(seen.map(\.2) == Self.entries.map(\.1))
        #expect(!FileManager.default.fileExists(atPath: path + ".partial-\(getpid())"))
    }

    @Test("a file is streamed into the archive unchanged")
    func addFromFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = dir.file("big.bin")
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        let path = dir.file("out.tar.gz")
        let writer = try ArchiveWriter(path: path)
        try writer.add("x/big.bin", contentsOf: source)
        try writer.close()
        let seen = try readAll(path)
        #expect(seen.map(\.0) == ["x/big.bin"])
        #expect(seen.first?.2 == bytes)
    }

    @Test("the same entries give the same bytes, with no time, owner or mode of the writer's machine")
    func deterministic() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.write(Self.entries, to: dir.file("one.tar.gz"))
        Thread.sleep(forTimeInterval: 1.1)  // a timestamp anywhere would now differ
        try Self.write(Self.entries, to: dir.file("two.tar.gz"))
        let one = try Data(contentsOf: URL(fileURLWithPath: dir.file("one.tar.gz")))
        let two = try Data(contentsOf: URL(fileURLWithPath: dir.file("two.tar.gz")))
        #expect(one == two)
        #expect(Array(one.prefix(3)) == [0x1F, 0x8B, 0x08])
        #expect(Array(one[4..<8]) == [0, 0, 0, 0], "gzip MTIME must be zero")

        // What tar itself sees: mtime 0, root owner without names, mode 0644, regular files.
        let script = """
        import sys, tarfile
        with tarfile.open(sys.argv[1]) as t:
            bad = [(m.name, m.mtime, m.uid, m.gid, m.uname, m.gname, oct(m.mode), m.type) for m in t.getmembers()
                   if (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type) != (0, 0, 0, "", "", 0o644, tarfile.REGTYPE)]
            assert not bad, bad
            assert len(t.getmembers()) == int(sys.argv[2]), len(t.getmembers())
        """
        try Python.run(script, dir.file("one.tar.gz"), String(Self.entries.count))
    }

    @Test("unsafe or repeated entry paths are refused", arguments: ["../evil", "/abs", "a//b", "./a", "a/./b", "a/", "", "a\\..\\b"])
    func unsafePaths(name: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let writer = try ArchiveWriter(path: dir.file("out.tar.gz"))
        #expect(throws: MediaError.self) { try writer.add(name, bytes: [1]) }
    }

    @Test("a repeated path is refused and the archive stays usable")
    func duplicate() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("out.tar.gz")
        let writer = try ArchiveWriter(path: path)
        try writer.add("a", bytes: [1])
        do {
            try writer.add("a", bytes: [2])
            Issue.record("a duplicate entry was written")
        } catch {
            guard case .archiveWriteFailed(_, let entry, let reason) = error else { throw error }
            #expect(entry == "a" && reason.contains("already written"))
        }
        try writer.close()
        #expect(try readAll(path).map(\.2) == [[1]])
    }

    @Test("an archive that is never closed leaves nothing behind")
    func abandoned() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("out.tar.gz")
        do {
            let writer = try ArchiveWriter(path: path)
            try writer.add("a", bytes: [1, 2, 3])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a missing folder is a typed error naming the archive")
    func missingFolder() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("no/such/folder/out.tar.gz")
        do {
            _ = try ArchiveWriter(path: path)
            Issue.record("opened an archive in a missing folder")
        } catch {
            guard case .archiveWriteFailed(let archive, nil, _) = error else { throw error }
            #expect(archive == path)
            #expect(error.description.contains(path))
        }
    }
}
