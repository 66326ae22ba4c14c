/// Bytes being written out (a file format, a JSON document): one buffer, grown by `reserve`, that
/// the puts after a reserve write through unchecked. Writers of millions of records make room
/// once per record instead of paying a capacity check (and a call) per field.
///
/// A plain struct over a pointer, so that buffers filled side by side can be handed between
/// threads: whoever makes one calls `release` once, and never uses a copy after that.
public struct OutputBytes {
    @usableFromInline var storage: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    @usableFromInline var written = 0

    public var count: Int { written }

    public init(capacity: Int) {
        self.capacity = max(capacity, 64)
        storage = .allocate(byteCount: self.capacity, alignment: 8)
    }

    public func release() { storage.deallocate() }

    /// The bytes written so far (valid until the next write or `release`).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: written) }

    public mutating func removeAll() { written = 0 }

    /// Room for `n` more bytes.
    @inlinable public mutating func reserve(_ n: Int) {
        if written + n > capacity { grow(written + n) }
    }

    @usableFromInline mutating func grow(_ needed: Int) {
        let larger = max(2 * capacity, needed)
        let moved = UnsafeMutableRawPointer.allocate(byteCount: larger, alignment: 8)
        moved.copyMemory(from: storage, byteCount: written)
        storage.deallocate()
        storage = moved
        capacity = larger
    }

    /// Where the next `n` bytes go, room made: write them, then `advance(n)`.
    @inlinable public mutating func room(_ n: Int) -> UnsafeMutableRawPointer {
        reserve(n)
        return storage + written
    }

    @inlinable public mutating func advance(_ n: Int) { written += n }

    // The puts below write into room made by `reserve` first.

    @inlinable public mutating func put(_ byte: UInt8) {
        storage.storeBytes(of: byte, toByteOffset: written, as: UInt8.self)
        written += 1
    }

    @inlinable public mutating func put(_ text: StaticString) {
        (storage + written).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        written += text.utf8CodeUnitCount
    }

    @inlinable public mutating func put(raw bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        (storage + written).copyMemory(from: base, byteCount: bytes.count)
        written += bytes.count
    }

    /// Decimal digits of `v`.
    @inlinable public mutating func putDecimal(_ v: UInt64) {
        var digits = 1, x = v
        while x >= 10 { x /= 10; digits += 1 }
        x = v
        for i in stride(from: digits - 1, through: 0, by: -1) {
            storage.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: x % 10), toByteOffset: written + i, as: UInt8.self)
            x /= 10
        }
        written += digits
    }

    // These make their own room.

    public mutating func append<Bytes: Collection>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        reserve(bytes.count)
        for b in bytes { put(b) }
    }

    @inlinable public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        room(MemoryLayout<T>.size).storeBytes(of: value.littleEndian, as: T.self)
        written += MemoryLayout<T>.size
    }
}
