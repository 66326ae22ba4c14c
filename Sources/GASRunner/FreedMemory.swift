import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the allocator keeps after a phase back to the system. Work spread over threads
/// leaves freed blocks in each thread's glibc arena, where they count towards the process's
/// resident size until the arena happens to reuse them; a round's peak memory is what a user
/// provisions for, so the runner hands them back between its phases.
enum FreedMemory {
    static func release() {
        #if canImport(Glibc)
        // malloc_trim is glibc's (not in the Swift Glibc module's headers): looked up, not linked.
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
    }

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
