import Foundation
import Testing
import GASTestSupport
import GASCore
import GASData

/// `MediaStore.sha256(ofFile:)`, behind predictions files' artifact hashes and audit bundles'
/// digests: the same digest as hashing the bytes at once, across its buffer's boundaries, and a
/// missing file named in the error.
@Suite struct FileHashTests {
    @Test func equalsTheDigestOfTheWholeBytes() throws {
        let dir = try TestSupport.temporaryDirectory("file-hash")
        var random = SplitMix64(seed: 34)
        for size in [0, 1, (1 << 20) - 1, 1 << 20, (5 << 19) + 7] {
            let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let path = dir + "/f\(size)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let hashed = try MediaStore.sha256(ofFile: path)
            #expect(hashed.sha256 == MediaStore.sha256Hex(bytes) && hashed.bytes == size, "\(size) bytes")
        }
    }

    @Test func aMissingFileIsNamed() throws {
        let path = try TestSupport.temporaryDirectory("file-hash-missing") + "/absent.parquet"
        #expect { try MediaStore.sha256(ofFile: path) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("No such file")
        }
    }
}
