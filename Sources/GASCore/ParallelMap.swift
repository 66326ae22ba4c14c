import Foundation

/// Work split by index over the machine's cores, for the runner's CPU-bound loops (datasets read
/// side by side, columns encoded side by side).
public enum Parallel {
    /// `body(0..<count)` on up to one thread per core, results in index order; the first error
    /// (by index) is thrown once all are done. `body` must only read what it shares. A body that
    /// cannot throw makes a map that cannot either.
    public static func map<T, Failure: Error>(_ count: Int, _ body: @Sendable (Int) throws(Failure) -> T) throws(Failure) -> [T] {
        if count <= 1 { return try (0..<count).map(body) }
        let results = UnsafeMutableBufferPointer<Result<T, Failure>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }  // released on the way out: `deallocate` alone leaks what the slots hold
        nonisolated(unsafe) let slots = results  // each iteration writes its own slot
        DispatchQueue.concurrentPerform(iterations: count) { i in
            slots[i] = Result { () throws(Failure) -> T in try body(i) }
        }
        var values: [T] = []
        values.reserveCapacity(count)
        for slot in results { values.append(try slot!.get()) }
        return values
    }
}
