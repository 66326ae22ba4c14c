import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Turns a child's stdout into a queue of complete lines, read by a dedicated thread.
///
/// - A line longer than `maxLineBytes` produces `.overflow` and the reader then drains and discards
///   everything up to EOF (so the child never blocks on a full pipe, and memory stays bounded).
/// - Queued-but-unread lines are bounded too: when more than `maxQueuedBytes` wait, the reader stops
///   reading (back-pressure on the child) until the consumer catches up or the channel is closed.
/// - `next(timeout:)` waits asynchronously, without blocking a thread of the cooperative pool.
final class LineChannel: @unchecked Sendable {
    enum Event: Sendable, Equatable {
        case line([UInt8])
        /// A line grew beyond the limit; `prefix` holds its first bytes.
        case overflow(limit: Int, prefix: [UInt8])
        case eof
        case readError(Int32)
    }

    enum WaitResult: Sendable, Equatable {
        case event(Event)
        case timedOut
        case cancelled
    }

    let maxLineBytes: Int
    private let maxQueuedBytes: Int
    /// Bookkeeping cost charged per queued line, so that many tiny lines are bounded too.
    private static let perLineOverhead = 64
    private let cond = NSCondition()
    // Guarded by `cond`:
    private var queue: [Event] = []
    private var head = 0
    private var queuedBytes = 0
    private var finished = false  // eof/overflow/readError has been queued
    private var closed = false  // consumer is gone: discard everything
    private var waiter: CheckedContinuation<WaitResult, Never>?
    private var waiterID: UInt64 = 0
    private var timerTargetID: UInt64 = 0
    private var timerDeadline: DispatchTime = .distantFuture
    private var timer: DispatchSourceTimer?

    init(maxLineBytes: Int, maxQueuedBytes: Int? = nil) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.maxQueuedBytes = maxQueuedBytes ?? max(1 << 20, self.maxLineBytes)
    }

    deinit {
        timer?.cancel()
    }

    // MARK: Producer side (reader thread)

    /// Reads `fd` until EOF, then closes it. Runs on its own thread.
    func runReader(fd: Int32) {
        let chunkSize = 64 * 1024
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize)
        defer { buffer.deallocate(); Glibc.close(fd) }
        var partial: [UInt8] = []
        var discarding = false
        while true {
            let n = read(fd, buffer, chunkSize)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if !discarding { post(.readError(e)) }
                return
            }
            if n == 0 {
                if !discarding {
                    // A last line without a trailing newline still counts as a line.
                    if !partial.isEmpty { post(.line(partial)); partial = [] }
                    post(.eof)
                }
                return
            }
            if discarding { continue }
            var start = 0
            let count = Int(n)
            while start < count {
                let remaining = count - start
                let found = memchr(buffer + start, 0x0A, remaining)
                if let found {
                    let end = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if partial.count + (end - start) > maxLineBytes {
                        overflow(partial: &partial, buffer: buffer, start: start, end: end)
                        discarding = true
                        break
                    }
                    let line: [UInt8]
                    if partial.isEmpty {
                        line = Array(UnsafeBufferPointer(start: buffer + start, count: end - start))
                    } else {
                        partial.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: end - start))
                        line = partial
                        partial = []
                    }
                    start = end + 1
                    // Empty lines are ignored by the protocol; dropping them here also keeps a child
                    // that prints endless newlines from filling the queue.
                    if line.isEmpty || line == [0x0D] { continue }
                    if !post(.line(line)) { discarding = true; break }
                } else {
                    if partial.count + remaining > maxLineBytes {
                        overflow(partial: &partial, buffer: buffer, start: start, end: count)
                        discarding = true
                        break
                    }
                    partial.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: remaining))
                    start = count
                }
            }
        }
    }

    private func overflow(partial: inout [UInt8], buffer: UnsafeMutablePointer<UInt8>, start: Int, end: Int) {
        var prefix = Array(partial.prefix(512))
        if prefix.count < 512 {
            prefix.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: min(end - start, 512 - prefix.count)))
        }
        partial = []
        post(.overflow(limit: maxLineBytes, prefix: prefix))
    }

    /// Queues an event or hands it to the waiting consumer. Returns false once the channel is closed.
    @discardableResult
    private func post(_ event: Event) -> Bool {
        cond.lock()
        if closed { cond.unlock(); return false }
        var size = 0
        if case .line(let l) = event { size = l.count + Self.perLineOverhead }
        // Back-pressure: let the consumer catch up before queueing more.
        while queuedBytes > 0 && queuedBytes + size > maxQueuedBytes && !closed && waiter == nil {
            cond.wait()
        }
        if closed { cond.unlock(); return false }
        switch event {
        case .eof, .overflow, .readError: finished = true
        case .line: break
        }
        if let w = waiter, head == queue.count {
            waiter = nil
            cond.unlock()
            w.resume(returning: .event(event))
            return true
        }
        queue.append(event)
        queuedBytes += size
        cond.unlock()
        return true
    }

    // MARK: Consumer side

    /// The next event, or `.timedOut` after `timeout` seconds, or `.cancelled` if the task is cancelled.
    /// Only one consumer may wait at a time.
    func next(timeout: Double) async -> WaitResult {
        if let ev = pollNext() { return .event(ev) }
        if timeout <= 0 { return .timedOut }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (cont: CheckedContinuation<WaitResult, Never>) in
                cond.lock()
                if let ev = dequeueLocked() {
                    cond.unlock()
                    cont.resume(returning: .event(ev))
                    return
                }
                if Task.isCancelled {
                    cond.unlock()
                    cont.resume(returning: .cancelled)
                    return
                }
                precondition(waiter == nil, "LineChannel supports a single waiter")
                waiterID &+= 1
                waiter = cont
                let deadline = DispatchTime.now() + timeout
                timerTargetID = waiterID
                timerDeadline = deadline
                let t = ensureTimerLocked()
                cond.broadcast()  // a back-pressured reader may hand over directly now
                cond.unlock()
                t.schedule(deadline: deadline, leeway: .milliseconds(5))
            }
        } onCancel: {
            self.resolveWaiter(.cancelled, onlyIfID: nil)
        }
    }

    /// A queued event, without waiting.
    func pollNext() -> Event? {
        cond.lock()
        defer { cond.unlock() }
        return dequeueLocked()
    }

    private func dequeueLocked() -> Event? {
        guard head < queue.count else { return nil }
        let ev = queue[head]
        head += 1
        if case .line(let l) = ev { queuedBytes -= l.count + Self.perLineOverhead }
        if head == queue.count {
            queue.removeAll(keepingCapacity: queue.count < 1024)
            head = 0
        } else if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        cond.broadcast()
        return ev
    }

    private func ensureTimerLocked() -> DispatchSourceTimer {
        if let t = timer { return t }
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        t.setEventHandler { [weak self] in self?.timerFired() }
        t.schedule(deadline: .distantFuture)
        t.resume()
        timer = t
        return t
    }

    private func timerFired() {
        cond.lock()
        let id = timerTargetID
        // A stale firing (from an earlier schedule) must not time out a newer wait early.
        let due = DispatchTime.now() >= timerDeadline
        cond.unlock()
        if due { resolveWaiter(.timedOut, onlyIfID: id) }
    }

    private func resolveWaiter(_ result: WaitResult, onlyIfID id: UInt64?) {
        cond.lock()
        guard let w = waiter, id == nil || id == waiterID else { cond.unlock(); return }
        waiter = nil
        cond.unlock()
        w.resume(returning: result)
    }

    /// The consumer is done: drop queued data and let the reader discard the rest.
    func close() {
        cond.lock()
        closed = true
        queue.removeAll()
        head = 0
        queuedBytes = 0
        let w = waiter
        waiter = nil
        let t = timer
        timer = nil
        cond.broadcast()
        cond.unlock()
        t?.cancel()
        w?.resume(returning: .cancelled)
    }
}
