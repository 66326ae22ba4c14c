/// What a run reports while it works. The library only emits events; the CLI decides how they
/// look (progress bars on a terminal, plain lines in a log, nothing with --quiet).
public enum RunEvent: Sendable {
    /// A planning step (reading datasets, generating images).
    case step(String, done: Int, total: Int)
    /// A detector's progress over its samples.
    case detector(String, done: Int, total: Int)
    case warning(String)
    case note(String)
}

public protocol RunObserver: Sendable {
    func handle(_ event: RunEvent)
}

/// Discards every event.
public struct SilentObserver: RunObserver {
    public init() {}
    public func handle(_ event: RunEvent) {}
}
