// Thin POSIX file access: a buffered append-only sink for the writer (tracks the file offset that
// page and column-chunk metadata must record) and a positional reader for the reader.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One column chunk's encoded pages in memory; `offset` counts from the chunk's start.
final class ChunkBuffer {
    private(set) var bytes: [UInt8] = []
    var offset: Int64 { Int64(bytes.count) }
    func write(_ more: [UInt8]) throws { bytes.append(contentsOf: more) }
}

/// Buffered sequential writer. Not thread-safe; owned by one ParquetWriter.
final class FileSink {
    let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let bufferCapacity = 1 << 20
    /// Bytes written so far, buffered or not: the offset of the next byte in the file.
    private(set) var offset: Int64 = 0

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open for writing", code: errno) }
        buffer.reserveCapacity(Self.bufferCapacity)
    }

    deinit {
        if fd >= 0 { _ = posixClose(fd) }
    }

    func write(_ bytes: [UInt8]) throws {
        offset += Int64(bytes.count)
        if buffer.count + bytes.count <= Self.bufferCapacity {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= Self.bufferCapacity / 2 {
            try bytes.withUnsafeBytes { try writeAll($0) }
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Reads back `count` bytes written at `position` (flushing first when some are still buffered).
    func read(at position: Int64, count: Int) throws -> [UInt8] {
        guard position >= 0, count >= 0, position + Int64(count) <= offset else {
            throw ParquetError.truncated(path: path, detail: "needs bytes \(position)..<\(position + Int64(count)) of the \(offset) written")
        }
        if position + Int64(count) > offset - Int64(buffer.count) { try flush() }
        guard fd >= 0 else { throw ParquetError.writerClosed(path: path) }
        return try readExactly(fd: fd, path: path, offset: position, count: count)
    }

    /// Flushes and closes; safe to call more than once.
    func close() throws {
        guard fd >= 0 else { return }
        defer {
            _ = posixClose(fd)
            fd = -1
        }
        try flush()
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw ParquetError.writerClosed(path: path) }
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let n = posixWrite(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError.io(path: path, operation: "write", code: errno)
            }
            done += n
        }
    }
}

/// Read-only file with positional reads; immutable, so it can be shared across threads.
final class FileSource: Sendable {
    let path: String
    let size: Int64
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(path: path, operation: "open", code: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            _ = posixClose(fd)
            throw ParquetError.io(path: path, operation: "stat", code: code)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            _ = posixClose(fd)
            throw ParquetError.io(path: path, operation: "open", code: EISDIR)
        }
        self.fd = fd
        self.size = Int64(st.st_size)
    }

    deinit {
        _ = posixClose(fd)
    }

    /// Reads exactly `count` bytes at `offset`; the caller has bounds-checked against `size`.
    func read(offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + Int64(count) <= size else {
            throw ParquetError.truncated(path: path, detail: "needs bytes \(offset)..<\(offset + Int64(count)) of a \(size)-byte file")
        }
        return try readExactly(fd: fd, path: path, offset: offset, count: count)
    }
}

/// Exactly `count` bytes at `offset` of an open file.
private func readExactly(fd: Int32, path: String, offset: Int64, count: Int) throws -> [UInt8] {
    try [UInt8](unsafeUninitializedCapacity: max(1, count)) { buf, written in
        written = 0
        var done = 0
        while done < count {
            guard let base = buf.baseAddress else { break }
            let n = pread(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError.io(path: path, operation: "read", code: errno)
            }
            if n == 0 {
                throw ParquetError.truncated(path: path, detail: "file shrank while reading at byte \(offset + Int64(done))")
            }
            done += n
        }
        written = count
    }
}

// Disambiguate from FileSink.close / FileSink.write inside the classes.
@inline(__always) private func posixClose(_ fd: Int32) -> Int32 {
    close(fd)
}

@inline(__always) private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}
