import Foundation

/// Work split by index over the machine's cores, for the runner's CPU-bound loops (datasets read
/// side by side, columns encoded side by side).
public enum Parallel {
    /// `body(0..<count)` on up to one thread per core, results in index order; the first error
    /// (by index) is thrown once all are done. `body` must only read what it shares.
    public static func map<T>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        if count <= 1 { return try (0..<count).map(body) }
        let results = UnsafeMutableBufferPointer<Result<T, any Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }  // released on the way out: `deallocate` alone leaks what the slots hold
        nonisolated(unsafe) let slots = results  // each iteration writes its own slot
        DispatchQueue.concurrentPerform(iterations: count) { i in
            slots[i] = Result { try body(i) }
        }
        return try results.map { try $0!.get() }
    }
}
