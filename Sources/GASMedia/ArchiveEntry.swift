/// What an archive entry is. Only `regular` and `directory` ever reach a caller:
/// links and special files are refused as unsafe before the caller sees them.
public enum ArchiveEntryKind: Sendable, Equatable {
    case regular, directory, symlink, hardlink, other
}

/// One entry as the caller sees it.
public struct ArchiveEntry: Sendable, Equatable {
    /// Normalized: forward slashes, no leading `./`, no empty or `.` components, no trailing slash.
    public var path: String
    public var kind: ArchiveEntryKind
    /// The size the archive declares (0 for directories; the bytes read are authoritative).
    public var size: Int

    public init(path: String, kind: ArchiveEntryKind, size: Int) {
        self.path = path
        self.kind = kind
        self.size = size
    }
}

/// Archive paths turned into safe relative paths, or a reason why they cannot be.
enum ArchivePath {
    enum Outcome: Equatable {
        case relative(String)
        case unsafe(reason: String)
    }

    /// Why backslashes count as separators: zips made on Windows use them, and
    /// `..\evil` must not slip past the `..` check.
    static func normalize(_ raw: String) -> Outcome {
        let path = raw.replacingBackslashes()
        if path.hasPrefix("/") { return .unsafe(reason: "absolute path") }
        let first = path.split(separator: "/", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        if first.count >= 2, first.dropFirst().first == ":", first.first?.isLetter == true {
            return .unsafe(reason: "absolute Windows path")
        }
        var parts: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { return .unsafe(reason: "'..' path component") }
            parts.append(component)
        }
        return .relative(parts.joined(separator: "/"))
    }
}

extension String {
    fileprivate func replacingBackslashes() -> String {
        guard contains("\\") else { return self }
        return String(map { $0 == "\\" ? "/" : $0 })
    }
}
