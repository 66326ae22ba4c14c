/// One named check of `gascli audit verify`.
public struct AuditItem: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pass = "PASS", fail = "FAIL"
        /// Nothing to check (e.g. media in a bundle exported without them); never fails the audit.
        case skip = "SKIP"
    }

    public var name: String
    public var status: Status
    /// On PASS what was compared; on FAIL the first problems, each naming the file, sample or row.
    public var detail: String
}

/// What `verify` found: every check with its verdict, and the bundle it looked at.
public struct AuditReport: Sendable {
    public var bundle: String
    public var bundleSHA256: String
    /// The bundle's top folder, which names the run.
    public var runID: String
    public var items: [AuditItem]

    /// True when no check failed.
    public var passed: Bool { !items.contains { $0.status == .fail } }
}

/// Problems found by one check. Why capped: one flipped byte can break thousands of rows, and
/// the first few name the file and rows well enough; the count says how many more there were.
struct Findings {
    private(set) var problems: [String] = []
    private(set) var count = 0
    static let shown = 4

    mutating func add(_ problem: String) {
        count += 1
        if problems.count < Self.shown { problems.append(problem) }
    }

    var isEmpty: Bool { count == 0 }

    func item(_ name: String, passed: @autoclosure () -> String) -> AuditItem {
        if isEmpty { return AuditItem(name: name, status: .pass, detail: passed()) }
        var detail = problems.joined(separator: "; ")
        if count > problems.count { detail += "; and \(count - problems.count) more" }
        return AuditItem(name: name, status: .fail, detail: detail)
    }
}
