import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a run directory for as long as a gascli executes it.
///
/// Why flock: the kernel drops it when the process dies, even by kill -9, so a crashed run never
/// leaves a stale lock behind, while a second live gascli on the same run is refused.
public final class RunLock: Sendable {
    public let path: String
    private let fd: Int32

    public enum LockError: Error, CustomStringConvertible {
        case held(run: String, holder: String)
        case cannotOpen(path: String, reason: String)

        public var description: String {
            switch self {
            case let .held(run, holder):
                "run \(run) is being executed by another gascli (\(holder)); wait for it to finish or stop it, then resume"
            case let .cannotOpen(path, reason): "cannot create the lock file \(path): \(reason)"
            }
        }
    }

    public init(runDirectory: String) throws {
        path = (runDirectory as NSString).appendingPathComponent("run.lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LockError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = pread(fd, &buffer, 63, 0)
            close(fd)
            let holder = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "unknown pid"
            throw LockError.held(run: (runDirectory as NSString).lastPathComponent, holder: holder)
        }
        _ = ftruncate(fd, 0)
        let note = Array("pid \(getpid())\n".utf8)
        _ = pwrite(fd, note, note.count, 0)
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
