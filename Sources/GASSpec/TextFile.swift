import Foundation

/// Reads a spec, catalog or config file, refusing what is not one: a device such as /dev/zero, a
/// FIFO or a socket (reading could block or never end) and files above `maxBytes` (the text is
/// held in memory whole). Why: these paths come from specs and command lines, not from us.
public enum TextFile {
    public static let maxBytes = 16 << 20

    public enum Problem: Error, Sendable, Equatable {
        case missing
        case unreadable
        case notRegular
        case tooLarge(Int)
        case notUTF8

        /// Completes "the catalog file …".
        public var description: String {
            switch self {
            case .missing: "does not exist"
            case .unreadable: "cannot be read (check permissions)"
            case .notRegular: "is not a regular file (a device, FIFO or socket is never read)"
            case let .tooLarge(size): "is \(size) bytes, larger than the \(TextFile.maxBytes)-byte limit for text files"
            case .notUTF8: "is not UTF-8 text"
            }
        }
    }

    public static func read(_ path: String) throws(Problem) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notRegular }
        guard Int(info.st_size) <= maxBytes else { throw .tooLarge(Int(info.st_size)) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable }
        guard data.count <= maxBytes else { throw .tooLarge(data.count) }
        guard let text = String(data: data, encoding: .utf8) else { throw .notUTF8 }
        return text
    }
}
