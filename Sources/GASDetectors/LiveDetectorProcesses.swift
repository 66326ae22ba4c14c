import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every detector process group still running, so an interrupted runner can take them down.
///
/// Why: detectors run in their own process groups (so a timeout can kill a whole tree), which
/// also means a Ctrl-C in the terminal does not reach them. The CLI's signal handler calls
/// `killAll()` before exiting so no detector outlives the run.
public enum LiveDetectorProcesses {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pids: Set<pid_t> = []

    static func insert(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        pids.insert(pid)
    }

    static func remove(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        pids.remove(pid)
    }

    /// SIGKILLs every live detector's process group. Safe to call from a signal-handling queue.
    public static func killAll() {
        lock.lock()
        let live = pids
        lock.unlock()
        for pid in live {
            _ = kill(-pid, SIGKILL)
            _ = kill(pid, SIGKILL)
        }
    }
}
