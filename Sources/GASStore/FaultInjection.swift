import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A test facility, off unless `GASCLI_FAULT=<point>:<n>` is set: the process SIGKILLs itself the
/// n-th time it reaches the named point, so a crash can be placed at an exact step of a round
/// (kill -9 at a wall-clock time is not reproducible). Used by the fault-injection tests; never set
/// it in production. Unset, `reach` is one load of a constant and a compare.
///
/// Before dying it writes `gascli: fault injection: SIGKILL at <point> #<n>` to stderr, so a test
/// can tell the injected death from any other.
public enum FaultInjection {
    /// Where a round can be killed, in the order a round reaches them.
    public enum Point: String, CaseIterable, Sendable {
        /// The plan is made (samples listed, media generated); nothing recorded yet.
        case planned = "planned"
        /// The run directory, manifest and the run's rows exist; no outcome yet.
        case recorded = "recorded"
        /// A detector answered a batch; its outcomes are not committed yet (reached once per batch).
        case batchPredicted = "batch-predicted"
        /// A batch of outcomes is committed (reached once per batch).
        case batchCommitted = "batch-committed"
        /// Inside the metrics transaction of the ledger, rows inserted but not committed.
        case metricsWriting = "metrics-writing"
        /// Part of predictions.parquet.partial written (data, no footer).
        case predictionsWriting = "predictions-writing"
        /// predictions.parquet.partial complete, not yet renamed into place.
        case predictionsBeforeRename = "predictions-before-rename"
        /// predictions.parquet renamed into place.
        case predictionsRenamed = "predictions-renamed"
        /// Part of metrics.parquet.partial written.
        case metricsParquetWriting = "metrics-parquet-writing"
        /// metrics.parquet renamed into place.
        case metricsParquetRenamed = "metrics-parquet-renamed"
        /// Half of results.json.partial written.
        case resultsWriting = "results-writing"
        /// results.json in place; the run is not yet marked completed.
        case finishing = "finishing"
    }

    /// The armed point and count, parsed once from the environment.
    static let armed: (point: String, count: Int)? = {
        guard let value = ProcessInfo.processInfo.environment["GASCLI_FAULT"], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        let n = parts.count == 2 ? Int(parts[1]) ?? 1 : 1
        return (parts[0], max(1, n))
    }()

    nonisolated(unsafe) private static var reached = 0
    private static let lock = NSLock()

    /// Counts a visit of `point` and kills the process on the armed visit.
    @inline(__always)
    public static func reach(_ point: Point) {
        guard let armed else { return }
        guard armed.point == point.rawValue else { return }
        lock.lock()
        reached += 1
        let n = reached
        lock.unlock()
        guard n == armed.count else { return }
        let line = Array("gascli: fault injection: SIGKILL at \(point.rawValue) #\(n)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        kill(getpid(), SIGKILL)
        while true { pause() }
    }
}
