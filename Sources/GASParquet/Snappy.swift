// Snappy raw block format (the variant Parquet uses: no framing, no CRC), in Swift so the package
// needs no C++ library. The compressor follows the reference greedy matcher (64 KiB blocks,
// 16 K-entry hash table, skip acceleration on incompressible input) and is deterministic.
// The decompressor validates every tag against both buffers.

enum Snappy {
    private static let blockSize = 1 << 16
    private static let hashBits = 14
    /// Below this many bytes before the block end the matcher stops (it reads 4-8 bytes ahead).
    private static let inputMargin = 15

    static func maxCompressedLength(_ n: Int) -> Int {
        32 + n + n / 6
    }

    static func compress(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { compress($0) }
    }

    static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let n = input.count
        let table = UnsafeMutablePointer<UInt16>.allocate(capacity: 1 << hashBits)
        defer { table.deallocate() }
        return [UInt8](unsafeUninitializedCapacity: maxCompressedLength(n)) { out, written in
            guard let op = out.baseAddress else { written = 0; return }
            var o = 0
            var len = UInt64(n)
            while len >= 0x80 {
                op[o] = UInt8(truncatingIfNeeded: len) | 0x80
                o += 1
                len >>= 7
            }
            op[o] = UInt8(len)
            o += 1
            if let ip = input.baseAddress {
                var start = 0
                while start < n {
                    let blockLength = min(blockSize, n - start)
                    compressBlock(ip + start, blockLength, op, &o, table)
                    start += blockLength
                }
            }
            written = o
        }
    }

    @inline(__always) private static func load32(_ p: UnsafeRawPointer, _ i: Int) -> UInt32 {
        p.loadUnaligned(fromByteOffset: i, as: UInt32.self)
    }

    @inline(__always) private static func hash(_ v: UInt32) -> Int {
        Int((v &* 0x1E35_A7BD) >> (32 - UInt32(hashBits)))
    }

    private static func compressBlock(_ ip: UnsafeRawPointer, _ len: Int, _ op: UnsafeMutablePointer<UInt8>,
                                      _ o: inout Int, _ table: UnsafeMutablePointer<UInt16>) {
        var nextEmit = 0
        if len >= inputMargin {
            table.initialize(repeating: 0, count: 1 << hashBits)
            let ipLimit = len - inputMargin
            var ip1 = 1
            var nextHash = hash(load32(ip, ip1))
            outer: while true {
                var skip = 32
                var nextIp = ip1
                var candidate = 0
                // Find a 4-byte match, probing less often the longer nothing matches.
                while true {
                    ip1 = nextIp
                    let h = nextHash
                    nextIp = ip1 + (skip >> 5)
                    skip += 1
                    if nextIp > ipLimit { break outer }
                    nextHash = hash(load32(ip, nextIp))
                    candidate = Int(table[h])
                    table[h] = UInt16(truncatingIfNeeded: ip1)
                    if load32(ip, ip1) == load32(ip, candidate) { break }
                }
                emitLiteral(ip + nextEmit, ip1 - nextEmit, op, &o)
                // Emit copies while the data right after a copy matches again.
                while true {
                    let matchStart = ip1
                    let matched = 4 + matchLength(ip, candidate + 4, ip1 + 4, len)
                    ip1 += matched
                    emitCopy(offset: matchStart - candidate, length: matched, op, &o)
                    nextEmit = ip1
                    if ip1 >= ipLimit { break outer }
                    table[hash(load32(ip, ip1 - 1))] = UInt16(truncatingIfNeeded: ip1 - 1)
                    let h = hash(load32(ip, ip1))
                    candidate = Int(table[h])
                    table[h] = UInt16(truncatingIfNeeded: ip1)
                    if load32(ip, ip1) != load32(ip, candidate) { break }
                }
                ip1 += 1
                nextHash = hash(load32(ip, ip1))
            }
        }
        if nextEmit < len {
            emitLiteral(ip + nextEmit, len - nextEmit, op, &o)
        }
    }

    /// Number of equal bytes at `a` and `b` (a < b), comparing 8 bytes at a time, not reading past `end`.
    @inline(__always) private static func matchLength(_ p: UnsafeRawPointer, _ a: Int, _ b: Int, _ end: Int) -> Int {
        var n = 0
        while b + n + 8 <= end {
            let x = p.loadUnaligned(fromByteOffset: a + n, as: UInt64.self)
                ^ p.loadUnaligned(fromByteOffset: b + n, as: UInt64.self)
            if x != 0 { return n + x.trailingZeroBitCount >> 3 }
            n += 8
        }
        while b + n < end && p.load(fromByteOffset: a + n, as: UInt8.self) == p.load(fromByteOffset: b + n, as: UInt8.self) {
            n += 1
        }
        return n
    }

    @inline(__always) private static func emitLiteral(_ src: UnsafeRawPointer, _ n: Int,
                                                      _ op: UnsafeMutablePointer<UInt8>, _ o: inout Int) {
        let n1 = n - 1
        if n1 < 60 {
            op[o] = UInt8(n1 << 2)
            o += 1
        } else {
            var extra = 1
            while extra < 4 && n1 >> (8 * extra) != 0 { extra += 1 }
            op[o] = UInt8((59 + extra) << 2)
            o += 1
            for k in 0..<extra {
                op[o] = UInt8(truncatingIfNeeded: n1 >> (8 * k))
                o += 1
            }
        }
        (op + o).update(from: src.assumingMemoryBound(to: UInt8.self), count: n)
        o += n
    }

    @inline(__always) private static func emitCopy(offset: Int, length: Int,
                                                   _ op: UnsafeMutablePointer<UInt8>, _ o: inout Int) {
        var len = length
        // Copies are at most 64 bytes; keep the last piece >= 4 so it can use the short form.
        while len >= 68 {
            emitCopyUpTo64(offset: offset, length: 64, op, &o)
            len -= 64
        }
        if len > 64 {
            emitCopyUpTo64(offset: offset, length: 60, op, &o)
            len -= 60
        }
        emitCopyUpTo64(offset: offset, length: len, op, &o)
    }

    @inline(__always) private static func emitCopyUpTo64(offset: Int, length: Int,
                                                         _ op: UnsafeMutablePointer<UInt8>, _ o: inout Int) {
        if length < 12 && offset < 2048 {
            op[o] = UInt8(1 | ((length - 4) << 2) | ((offset >> 8) << 5))
            op[o + 1] = UInt8(truncatingIfNeeded: offset)
            o += 2
        } else {
            op[o] = UInt8(2 | ((length - 1) << 2))
            op[o + 1] = UInt8(truncatingIfNeeded: offset)
            op[o + 2] = UInt8(truncatingIfNeeded: offset >> 8)
            o += 3
        }
    }

    /// Reads the uncompressed length from the varint preamble.
    static func uncompressedLength(_ input: UnsafeRawBufferPointer) throws -> (length: Int, headerBytes: Int) {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var i = 0
        while true {
            guard i < input.count else { throw FormatIssue.truncated("snappy length preamble") }
            let b = input[i]
            i += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift <= 28 else { throw FormatIssue.corrupt("snappy length preamble longer than 5 bytes") }
        }
        guard result <= UInt64(UInt32.max) else { throw FormatIssue.corrupt("snappy length \(result) exceeds 32 bits") }
        return (Int(result), i)
    }

    /// Decompresses a raw snappy block that must expand to exactly `expectedLength` bytes.
    static func decompress(_ input: UnsafeRawBufferPointer, expectedLength: Int) throws -> [UInt8] {
        let (length, header) = try uncompressedLength(input)
        guard length == expectedLength else {
            throw FormatIssue.corrupt("snappy block expands to \(length) bytes, page header says \(expectedLength)")
        }
        return try [UInt8](unsafeUninitializedCapacity: length) { out, written in
            written = 0
            guard let inBase = input.baseAddress else { throw FormatIssue.truncated("empty snappy block") }
            let inEnd = input.count
            var ip = header
            var op = 0
            while ip < inEnd {
                let tag = Int(inBase.load(fromByteOffset: ip, as: UInt8.self))
                ip += 1
                var copyLength = 0
                var offset = 0
                switch tag & 3 {
                case 0:
                    var literal = tag >> 2
                    if literal >= 60 {
                        let extra = literal - 59
                        guard ip + extra <= inEnd else { throw FormatIssue.truncated("snappy literal length") }
                        literal = 0
                        for k in 0..<extra {
                            literal |= Int(inBase.load(fromByteOffset: ip + k, as: UInt8.self)) << (8 * k)
                        }
                        ip += extra
                    }
                    literal += 1
                    guard literal <= inEnd - ip else { throw FormatIssue.truncated("snappy literal of \(literal) bytes") }
                    guard literal <= length - op else { throw FormatIssue.corrupt("snappy literal overflows output") }
                    if let ob = out.baseAddress {
                        if literal <= 16 && inEnd - ip >= 16 && length - op >= 16 {
                            // A short literal (an id, a number) as two 8-byte moves: a call per literal cost
                            // more than the copy. The bytes past it are overwritten by what follows.
                            let raw = UnsafeMutableRawPointer(ob + op)
                            raw.storeBytes(of: inBase.loadUnaligned(fromByteOffset: ip, as: UInt64.self), as: UInt64.self)
                            raw.storeBytes(of: inBase.loadUnaligned(fromByteOffset: ip + 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
                        } else {
                            (ob + op).update(from: (inBase + ip).assumingMemoryBound(to: UInt8.self), count: literal)
                        }
                    }
                    ip += literal
                    op += literal
                    continue
                case 1:
                    guard ip < inEnd else { throw FormatIssue.truncated("snappy copy") }
                    copyLength = 4 + ((tag >> 2) & 7)
                    offset = ((tag >> 5) << 8) | Int(inBase.load(fromByteOffset: ip, as: UInt8.self))
                    ip += 1
                case 2:
                    guard ip + 2 <= inEnd else { throw FormatIssue.truncated("snappy copy") }
                    copyLength = (tag >> 2) + 1
                    offset = Int(inBase.loadUnaligned(fromByteOffset: ip, as: UInt16.self).littleEndian)
                    ip += 2
                default:
                    guard ip + 4 <= inEnd else { throw FormatIssue.truncated("snappy copy") }
                    copyLength = (tag >> 2) + 1
                    offset = Int(inBase.loadUnaligned(fromByteOffset: ip, as: UInt32.self).littleEndian)
                    ip += 4
                }
                guard offset > 0, offset <= op else { throw FormatIssue.corrupt("snappy copy offset \(offset) at output byte \(op)") }
                guard copyLength <= length - op else { throw FormatIssue.corrupt("snappy copy overflows output") }
                guard let ob = out.baseAddress else { throw FormatIssue.corrupt("snappy copy into empty output") }
                if offset >= 8 && length - op >= copyLength + 8 {
                    // 8 bytes at a time (copies are at most 64 bytes): each word's source lies wholly
                    // before it, so an overlapping copy repeats its pattern as it should. Up to 7 bytes
                    // past the copy are written and then overwritten by what follows.
                    let raw = UnsafeMutableRawPointer(ob)
                    var k = 0
                    while k < copyLength {
                        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: op - offset + k, as: UInt64.self), toByteOffset: op + k, as: UInt64.self)
                        k += 8
                    }
                } else if offset >= copyLength {
                    (ob + op).update(from: ob + op - offset, count: copyLength)
                } else {
                    for k in 0..<copyLength { ob[op + k] = ob[op - offset + k] }
                }
                op += copyLength
                written = op
            }
            written = op
            guard op == length else { throw FormatIssue.truncated("snappy block produced \(op) of \(length) bytes") }
        }
    }
}
