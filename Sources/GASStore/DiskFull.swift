import Foundation
import GASParquet
import GRDB

/// Recognises "the disk is full" in the error types a run can hit (SQLite, Parquet, result files,
/// Foundation), so the runner can say so plainly instead of echoing a low-level message.
public enum DiskFull {
    public static func matches(_ error: any Error) -> Bool {
        switch error {
        case let e as DatabaseError:
            return e.resultCode == .SQLITE_FULL || e.extendedResultCode == .SQLITE_IOERR_WRITE && e.message?.contains("No space") == true
        case let e as ParquetError:
            if case let .io(_, _, code) = e { return code == ENOSPC || code == EDQUOT }
            return false
        case let e as StoreError:
            if case let .fileWrite(_, code) = e { return code == ENOSPC || code == EDQUOT }
            if case let .database(_, underlying) = e { return mentionsFull(underlying) }
            return false
        default:
            let ns = error as NSError
            if ns.domain == NSPOSIXErrorDomain && (ns.code == Int(ENOSPC) || ns.code == Int(EDQUOT)) { return true }
            if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying !== ns, matches(underlying) { return true }
            if ns.domain == NSCocoaErrorDomain && ns.code == NSFileWriteOutOfSpaceError { return true }
            return mentionsFull("\(error)")
        }
    }

    static func mentionsFull(_ text: String) -> Bool {
        text.contains("No space left on device") || text.contains("database or disk is full") || text.contains("Disk quota exceeded")
    }
}
