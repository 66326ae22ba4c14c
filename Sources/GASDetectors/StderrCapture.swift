import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The last `capacity` bytes a child wrote to stderr (one ring per child process).
final class StderrRing: @unchecked Sendable {
    let capacity: Int
    private let lock = NSLock()
    private var storage: [UInt8]
    private var end = 0  // next write position
    private var filled = 0
    private var total = 0
    private var eof = false

    init(capacity: Int = 64 * 1024) {
        self.capacity = max(1, capacity)
        storage = Array(repeating: 0, count: self.capacity)
    }

    func append(_ chunk: UnsafeBufferPointer<UInt8>) {
        lock.lock()
        defer { lock.unlock() }
        total += chunk.count
        var src = chunk
        if src.count > capacity {
            src = UnsafeBufferPointer(rebasing: src[(src.count - capacity)...])
        }
        storage.withUnsafeMutableBufferPointer { dst in
            var i = 0
            while i < src.count {
                let n = min(src.count - i, capacity - end)
                (dst.baseAddress! + end).update(from: src.baseAddress! + i, count: n)
                end = (end + n) % capacity
                i += n
            }
        }
        filled = min(capacity, filled + src.count)
    }

    func markEOF() {
        lock.lock()
        eof = true
        lock.unlock()
    }

    var reachedEOF: Bool {
        lock.lock()
        defer { lock.unlock() }
        return eof
    }

    /// Bytes currently held (never more than `capacity`).
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return filled
    }

    /// Everything the child wrote to stderr, including what fell out of the ring.
    var totalBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }

    func snapshot() -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if filled < capacity { return Array(storage[0..<filled]) }
        return Array(storage[end...] + storage[..<end])
    }

    /// The last `lines` non-empty lines, each cut to `maxLineChars`, joined with " | ".
    func tail(lines: Int = 5, maxLineChars: Int = 200) -> String {
        let text = String(decoding: snapshot(), as: UTF8.self)
        var picked: [String] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).reversed() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let escaped = DetectorProtocol.escapeForDisplay(Array(line.utf8), limit: maxLineChars)
            picked.append(escaped)
            if picked.count >= lines { break }
        }
        return picked.reversed().joined(separator: " | ")
    }
}

/// Appends detector stderr to a log file, shared by all restarts of one detector; stops writing
/// (after a one-line note) once `maxBytes` have been written.
final class StderrLogFile: @unchecked Sendable {
    let path: String
    let maxBytes: Int
    private let lock = NSLock()
    private var fd: Int32 = -1
    private var written = 0
    private var full = false
    private(set) var openError: String?

    init(path: String, maxBytes: Int) {
        self.path = path
        self.maxBytes = max(0, maxBytes)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { openError = "cannot open stderr log \(path): \(String(cString: strerror(errno)))" }
    }

    deinit { if fd >= 0 { close(fd) } }

    func write(_ chunk: UnsafeBufferPointer<UInt8>) {
        lock.lock()
        defer { lock.unlock() }
        guard fd >= 0, !full, chunk.count > 0 else { return }
        let room = maxBytes - written
        if chunk.count <= room {
            writeAll(UnsafeRawBufferPointer(chunk))
            written += chunk.count
        } else {
            if room > 0 { writeAll(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(chunk)[0..<room])) }
            written = maxBytes
            full = true
            let note = "\n[gascli: stderr log reached its limit of \(maxBytes) bytes; further detector stderr is not logged]\n"
            note.utf8CString.withUnsafeBytes { writeAll(UnsafeRawBufferPointer(rebasing: $0.dropLast())) }
        }
    }

    /// A runner note (e.g. "detector started, pid 123"); counted against the limit.
    func note(_ text: String) {
        let line = Array("[gascli: \(text)]\n".utf8)
        line.withUnsafeBufferPointer { write($0) }
    }

    var bytesWritten: Int {
        lock.lock()
        defer { lock.unlock() }
        return written
    }

    private func writeAll(_ buf: UnsafeRawBufferPointer) {
        var off = 0
        while off < buf.count {
            let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                return  // disk full etc.: drop silently, never crash the runner
            }
            off += n
        }
    }
}
