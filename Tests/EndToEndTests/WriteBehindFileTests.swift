import Foundation
@testable import GASRunner
import GASTestSupport
import Testing

/// The manifest's file is written on a thread of its own (`WriteBehindFile`): the bytes must land
/// in order and whole, and a write error must reach the caller.
@Suite struct WriteBehindFileTests {
    @Test func chunksLandInOrderWhateverTheirSizes() throws {
        let dir = try TestSupport.temporaryDirectory("write-behind")
        let path = dir + "/out.bin"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let file = WriteBehindFile(handle: handle, buffers: 2)
        var expected: [UInt8] = []
        // Sizes that grow and shrink (a reused buffer too small is replaced), and empty chunks.
        for (i, size) in [0, 1, 5000, 17, 1 << 20, 3, 0, 200_000, 1 << 16, 9].enumerated() {
            let chunk = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            expected += chunk
            try chunk.withUnsafeBytes { try file.write($0) }
        }
        try file.finish()
        try handle.close()
        #expect(FileManager.default.contents(atPath: path) == Data(expected))
    }

    @Test func aWriteErrorReachesTheCaller() throws {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        let handle = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        defer { try? handle.close() }
        let file = WriteBehindFile(handle: handle)
        let chunk = [UInt8](repeating: 7, count: 4096)
        var thrown: (any Error)?
        do {
            for _ in 0..<64 { try chunk.withUnsafeBytes { try file.write($0) } }
            try file.finish()
        } catch {
            thrown = error
        }
        #expect(thrown != nil)
        // Once failed, it stays failed.
        #expect(throws: (any Error).self) { try file.finish() }
    }
}
