import Crypto
import Foundation

/// Content-addressed media: bytes are kept exactly as they came (never re-encoded) under their sha256.
///
/// Why: gasbench re-encoded JPEGs at q75 on caching, which broke provenance and created a
/// compression shortcut between real and fake sources. Here a sample's bytes are its identity.
/// Detectors get these paths, which reveal nothing about the label or the dataset.
public struct MediaStore: Sendable {
    /// The outputs directory; media live under `<root>/media/`.
    public let root: String

    public init(root: String) { self.root = root }

    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Relative path of a blob: `media/ab/<sha256>.<ext>`.
    public static func relativePath(sha256: String, format: String) -> String {
        "media/\(sha256.prefix(2))/\(sha256).\(format)"
    }

    public func absolutePath(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// Stores the bytes (atomically, once) and returns the hash and relative path.
    @discardableResult
    public func put(_ bytes: [UInt8], format: String) throws -> (sha256: String, relativePath: String) {
        let sha = Self.sha256Hex(bytes)
        let relative = Self.relativePath(sha256: sha, format: format)
        let path = absolutePath(relative)
        let fm = FileManager.default
        if let attrs = try? fm.attributesOfItem(atPath: path), (attrs[.size] as? Int) == bytes.count {
            return (sha, relative)
        }
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        guard fm.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw DataError.cannotWrite(path: temporary, reason: "check free space and permissions of \(root)")
        }
        // rename(2) replaces atomically: another process storing the same blob at the same moment
        // (two rounds in one outputs folder) cannot make this fail, and the bytes are identical.
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(atPath: temporary)
            throw DataError.cannotWrite(path: path, reason: reason)
        }
        return (sha, relative)
    }
}
