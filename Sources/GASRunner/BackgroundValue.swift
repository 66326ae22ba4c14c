import Foundation

/// A value computed on its own thread while the caller goes on (the predictions tables are read
/// while a resumed round's plan is read back: neither needs the other).
final class BackgroundValue<Value: Sendable>: @unchecked Sendable {
    private enum State {
        case computing, ready(Value), taken
    }
    private let condition = NSCondition()
    private var state = State.computing

    init(_ compute: @escaping @Sendable () -> Value) {
        Thread.detachNewThread { [self] in
            let value = compute()
            condition.lock()
            state = .ready(value)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The value, waiting for it if it is still being computed; this object lets go of it (a
    /// large value is freed as soon as its taker is done with it). nil once taken.
    func take() -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while case .computing = state { condition.wait() }
        guard case let .ready(value) = state else { return nil }
        state = .taken
        return value
    }
}
