import Foundation

/// Runs blocking work (child processes, Python fixtures) on a Dispatch thread instead of one of
/// Swift's cooperative threads: there are only as many of those as cores, and tests that block
/// them for seconds starve the timing-sensitive async tests running in parallel.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
