/// Bounds on what one archive may expand to. Why: archives come from untrusted
/// sources, and a zip bomb of a few hundred kilobytes can expand to gigabytes.
public struct ArchiveLimits: Sendable, Equatable {
    /// Most entries (of any kind) in one archive.
    public var maxEntries = 100_000
    /// Most bytes one entry may expand to.
    public var maxEntryBytes = 256 << 20
    /// Most bytes all entries together may expand to (skipped entries count by their declared size).
    public var maxTotalBytes = 4 << 30
    /// Most bytes expanded per byte of archive file, checked on running totals.
    public var maxCompressionRatio = 200.0
    /// The ratio is only enforced once this many bytes were expanded, so that a small
    /// archive of very compressible text (a 300 KB CSV in a 1 KB tar.gz) still reads.
    public var ratioGraceBytes = 16 << 20

    public init(
        maxEntries: Int = 100_000,
        maxEntryBytes: Int = 256 << 20,
        maxTotalBytes: Int = 4 << 30,
        maxCompressionRatio: Double = 200.0,
        ratioGraceBytes: Int = 16 << 20
    ) {
        self.maxEntries = maxEntries
        self.maxEntryBytes = maxEntryBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.ratioGraceBytes = ratioGraceBytes
    }

    public static let `default` = ArchiveLimits()
}
