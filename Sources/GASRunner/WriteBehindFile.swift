import Foundation

/// Writes a file's chunks on a thread of its own, in order, while the caller goes on making the
/// next ones. Writing a new file costs the kernel a fresh page for every 4 KiB, which on this
/// project's 2-core machines took a core for a second per 330 MB: the manifest's hashing waited on
/// it while the other core idled. Chunks are copied into a few reused buffers, so at most
/// `buffers` chunks wait and the caller's bytes are free again as soon as `write` returns.
/// Every way out calls `finish()`, which ends the writing thread (after an error too).
final class WriteBehindFile: @unchecked Sendable {
    private let handle: FileHandle
    private let condition = NSCondition()
    private var free: [UnsafeMutableRawBufferPointer] = []
    private var queued: [(buffer: UnsafeMutableRawBufferPointer, count: Int)] = []
    private var failure: (any Error)?
    private var closing = false
    private var writerDone = false
    /// Buffers made so far: free, queued or being written.
    private var allocated = 0
    private let bufferCount: Int

    init(handle: FileHandle, buffers: Int = 4) {
        self.handle = handle
        bufferCount = max(1, buffers)
        Thread.detachNewThread { [self] in drain() }
    }

    deinit {
        for b in free { b.deallocate() }
        for q in queued { q.buffer.deallocate() }
    }

    /// Queues a copy of `bytes`; throws the first write error met so far (nothing more is written after one).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && allocated >= bufferCount && failure == nil { condition.wait() }
        if let failure { throw failure }
        var buffer: UnsafeMutableRawBufferPointer
        if let reused = free.popLast() {
            buffer = reused
        } else {
            buffer = .allocate(byteCount: bytes.count, alignment: 16)
            allocated += 1
        }
        if buffer.count < bytes.count {
            buffer.deallocate()
            buffer = .allocate(byteCount: bytes.count, alignment: 16)
        }
        if let base = bytes.baseAddress, !bytes.isEmpty { buffer.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
        queued.append((buffer, bytes.count))
        condition.broadcast()
    }

    /// Waits for every queued chunk to be written; throws the first write error.
    func finish() throws {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        if let failure { throw failure }
    }

    private func drain() {
        condition.lock()
        while true {
            while queued.isEmpty && !closing { condition.wait() }
            guard !queued.isEmpty else { break }
            let (buffer, count) = queued.removeFirst()
            let failed = failure != nil
            condition.unlock()
            var writeError: (any Error)?
            if !failed {
                do { try handle.write(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress, count: count)) } catch { writeError = error }
            }
            condition.lock()
            if failure == nil, let writeError { failure = writeError }
            free.append(buffer)
            condition.broadcast()
        }
        writerDone = true
        condition.broadcast()
        condition.unlock()
    }
}
