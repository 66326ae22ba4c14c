import Foundation
import GASCore
#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the allocator keeps after a phase back to the system. Work spread over threads
/// leaves freed blocks in each thread's glibc arena, where they count towards the process's
/// resident size until the arena happens to reuse them; a round's peak memory is what a user
/// provisions for, so the runner hands them back between its phases.
enum FreedMemory {
    static func release() {
        // malloc_trim is glibc's (not in the Swift Glibc module's headers): see `GNU`.
        _ = GNU.symbol("malloc_trim", as: (@convention(c) (Int) -> Int32).self)?(0)
    }

    /// Has glibc map blocks of 256 KiB and more on their own and unmap them when freed, for the
    /// rest of the process. By default the threshold rises to the size of each large block freed,
    /// after which blocks of up to 32 MiB come from the arenas and stay resident once freed: a
    /// million-sample round's short-lived columns (a sort's scratch, a table being renumbered, a
    /// scorer's working set) then added up to about 100 MiB of its peak. Called once per run.
    static func mapLargeBlocks() {
        _ = largeBlocksMapped
    }

    private static let largeBlocksMapped: Bool = {
        // mallopt, like malloc_trim, is looked up rather than linked. M_MMAP_THRESHOLD is -3;
        // setting it also stops the threshold from moving.
        GNU.symbol("mallopt", as: (@convention(c) (Int32, Int32) -> Int32).self)?(-3, 256 << 10) == 1
    }()

    /// Drops `value` on a thread of its own. Freeing a large round's plan (a million samples, each
    /// with its strings) takes most of a second that the finished run need not wait for; a
    /// process that exits first has lost nothing, and a long-lived one (the validator) frees it.
    static func releaseInBackground<Value>(_ value: consuming Value) {
        let box = ReleasedBox(value)
        Thread.detachNewThread { box.drop() }
    }

    private final class ReleasedBox<Value>: @unchecked Sendable {
        private var value: Value?
        private let lock = NSLock()
        init(_ value: consuming Value) { self.value = value }
        func drop() { lock.withLock { value = nil } }
    }
}
