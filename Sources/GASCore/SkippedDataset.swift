/// A catalog dataset a round wanted but could not use (unreadable shards, no media column),
/// recorded in the plan with the reason instead of failing the run.
public struct SkippedDataset: Codable, Sendable, Hashable {
    public var name: String
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}
