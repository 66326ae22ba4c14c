/// Why an audit bundle could not be written, or could not be read as a bundle at all. Content
/// problems found while verifying are not errors: they are FAIL items of the `AuditReport`.
public enum AuditError: Error, Sendable, CustomStringConvertible {
    /// `run` is neither a run directory nor a run id under the outputs folder.
    case runNotFound(run: String, searched: [String])
    /// The run directory lacks something a bundle needs (a file, a completed ledger row).
    case runIncomplete(runDirectory: String, reason: String)
    /// `--with-media`: a sample's stored media is gone or no longer hashes to its sha256.
    case media(sample: String, path: String, problem: String)
    case cannotRead(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    /// The bundle file is missing, not a tar archive, truncated, or holds unsafe entries.
    case unreadableBundle(bundle: String, reason: String)
    /// The bundle is a readable archive but not laid out as an audit bundle.
    case unexpectedLayout(bundle: String, member: String?, reason: String)

    /// True for the errors that mean "this file is not a readable bundle" (exit status 2).
    public var isUnreadableBundle: Bool {
        switch self {
        case .unreadableBundle, .unexpectedLayout: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case let .runNotFound(run, searched):
            return "no run '\(run)': found no run.sqlite in \(searched.joined(separator: " or ")); "
                + "pass the run directory, or the run id with --outputs set to the folder that holds it"
        case let .runIncomplete(dir, reason):
            return "cannot export \(dir): \(reason)"
        case let .media(sample, path, problem):
            return "sample \(sample): media file \(path) \(problem); restore the media store from the run, or export without --with-media"
        case let .cannotRead(path, reason):
            return "cannot read \(path): \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case let .unreadableBundle(bundle, reason):
            // Every reason names the file already (libarchive's and ours).
            return reason.contains(bundle) ? "audit bundle rejected: \(reason)" : "audit bundle \(bundle) rejected: \(reason)"
        case let .unexpectedLayout(bundle, member, reason):
            let at = member.map { " (member '\($0)')" } ?? ""
            return "\(bundle) is not an audit bundle gascli can check\(at): \(reason). A bundle holds one folder <run-id>/ "
                + "with \(AuditBundle.Member.allCases.map(\.rawValue).joined(separator: ", ")) and optionally media/ab/<sha256>.<ext>; "
                + "make it again with 'gascli audit export'"
        }
    }
}
