import Foundation
import Testing
import GASTestSupport
@testable import GASStore

/// Files in a run folder that concurrent shards share (manifest, spec, ledger pointer) are
/// written by several processes at once; one writer must never take another's temporary file.
@Suite struct AtomicFileTests {
    @Test func aSharedFolderWriteLeavesAnotherWritersTemporaryFileAlone() throws {
        let dir = try TestSupport.temporaryDirectory("atomic")
        let path = dir + "/manifest.json"
        // Another shard is halfway through its own write of the same file.
        let othersTemporary = path + ".partial-\(getpid() + 1)"
        try Data("other".utf8).write(to: URL(fileURLWithPath: othersTemporary))
        try Data("half".utf8).write(to: URL(fileURLWithPath: path + ".partial"))

        try AtomicFile.write(Data("mine".utf8), to: path, sharedFolder: true)

        #expect(try String(contentsOfFile: path, encoding: .utf8) == "mine")
        #expect(try String(contentsOfFile: othersTemporary, encoding: .utf8) == "other", "the other writer can still rename its file")
        #expect(try String(contentsOfFile: path + ".partial", encoding: .utf8) == "half")
        #expect(!FileManager.default.fileExists(atPath: path + ".partial-\(getpid())"), "nothing of ours is left behind")
    }

    @Test func aSingleWriterOverwritesTheLeftoverOfAKilledOne() throws {
        let dir = try TestSupport.temporaryDirectory("atomic")
        let path = dir + "/results.json"
        try Data("truncated by a kill".utf8).write(to: URL(fileURLWithPath: path + ".partial"))
        try AtomicFile.write(Data("{}".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{}")
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
    }
}
