import Foundation
import GASCore
import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

/// Starts the disk writes of a ledger's database and write-ahead log while a round commits in
/// bulk, so that SQLite's checkpoints, which sync both on the committing thread, find them mostly
/// on disk.
///
/// Linux keeps written pages in memory until about a tenth of RAM is dirty or they are 30 s old.
/// A round writes a checkpoint's 256 MiB of log well inside that, so each checkpoint's syncs wrote
/// all of it while the detectors' commits waited: 0.6-0.8 s for the log and 0.15-0.3 s for the
/// database a checkpoint, 4-5 s of a million-sample round. Every `interval`, a thread of its
/// own asks the kernel to start writing the two files' dirty pages (`sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`, which neither waits for the disk nor changes what SQLite syncs or
/// when). It uses SQLite's own descriptors, found in /proc/self/fd: opening and closing the
/// database file itself would drop SQLite's POSIX locks on it.
///
/// Once the log has grown to `checkpointFromLogBytes` (a large round's), every `checkpointEvery`
/// turns the thread also copies the log into the database on a SQLite connection of its own (a
/// passive checkpoint: it neither waits for the committing connection nor holds it up). The
/// checkpoints' syncs then wait here instead of on the committing thread, whose own checkpoint at
/// 256 MiB of log finds only what came since. Committing a million-sample round's 4 M outcomes,
/// the committing thread waited 2.3-2.5 s in `fdatasync`, and 0.4-0.5 s with this.
public final class LedgerWriteback: Sendable {
    private let stopRequested = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the thread for the ledger at `databasePath` (its log is `databasePath-wal`), which
    /// must already be open in WAL mode.
    public init(databasePath: String, interval: Double = 0.1, checkpointEvery: Int = 3, checkpointFromLogBytes: Int = 64 << 20) {
        let database = Self.canonical(databasePath)
        let targets: Set<String> = [database, database + "-wal"]
        let stopRequested = stopRequested, finished = finished
        Thread.detachNewThread {
            let checkpointer = Checkpointer(databasePath: database)
            var turn = 0
            repeat {
                if let startWriting = Self.syncFileRange {
                    for fd in Self.descriptors(of: targets) { _ = startWriting(fd, 0, 0, Self.syncFileRangeWrite) }
                }
                turn += 1
                // A small ledger's log is left to the committing connection, as without this thread:
                // a checkpoint lets the log start over in its own space, which a nearly full disk notices.
                if turn % max(checkpointEvery, 1) == 0, Self.fileSize(database + "-wal") >= checkpointFromLogBytes {
                    checkpointer?.checkpoint()
                }
            } while stopRequested.wait(timeout: .now() + interval) == .timedOut
            checkpointer?.close()
            finished.signal()
        }
    }

    /// A SQLite connection of the writeback thread's own, used only for passive checkpoints. SQLite
    /// shares one descriptor and its locks among a process's connections to a file, so opening and
    /// closing this one leaves the ledger's locks alone.
    final class Checkpointer {
        private var connection: OpaquePointer?

        /// Nil when the database cannot be opened (then nothing is checkpointed early).
        init?(databasePath: String) {
            guard sqlite3_open_v2(databasePath, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
                sqlite3_close(connection)
                return nil
            }
            sqlite3_busy_timeout(connection, 1000)
            // A connection finds the file in WAL mode on its first read; until then it has no log to checkpoint.
            _ = sqlite3_exec(connection, "PRAGMA schema_version", nil, nil, nil)
        }

        /// Copies what the log holds into the database; returns the log's frames and those copied
        /// (both -1 when the database is not in WAL mode).
        @discardableResult
        func checkpoint() -> (log: Int32, copied: Int32) {
            var log: Int32 = -1, copied: Int32 = -1
            _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &copied)
            return (log, copied)
        }

        func close() {
            sqlite3_close(connection)
            connection = nil
        }
    }

    /// Stops the thread and waits for it (at most one `sync_file_range` call). Call once.
    public func stop() {
        stopRequested.signal()
        finished.wait()
    }

    /// The file's size in bytes; 0 when it does not exist.
    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// The path as /proc/self/fd shows it: absolute, with symbolic links resolved.
    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// This process's open descriptors of `paths`. A descriptor closed and reused meanwhile only
    /// gets another file's pages written early.
    static func descriptors(of paths: Set<String>) -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        var found: [Int32] = []
        var link = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name) else { continue }
            let n = readlink("/proc/self/fd/" + name, &link, link.count - 1)
            guard n > 0 else { continue }
            let target = link.withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0).prefix(n), as: UTF8.self) }
            if paths.contains(target) { found.append(fd) }
        }
        return found
    }

    /// glibc's `sync_file_range` (see `GNU`); where there is none, nothing is started early.
    private static let syncFileRange = GNU.symbol("sync_file_range", as: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    /// `SYNC_FILE_RANGE_WRITE` in <fcntl.h>: start writing the dirty pages, do not wait.
    private static let syncFileRangeWrite: UInt32 = 2
}
