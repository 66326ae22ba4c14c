// Parquet's RLE / bit-packed hybrid encoding, used for definition levels, dictionary indices and
// (in v2 pages written by Arrow) booleans. A run header is a varint: even = RLE run of
// (header >> 1) copies of one value stored in ceil(bitWidth / 8) bytes; odd = (header >> 1)
// groups of 8 values bit-packed LSB first.

enum RLEHybrid {
    /// Number of bits needed to store `maxValue`.
    static func bitWidth(forMax maxValue: UInt32) -> Int {
        maxValue == 0 ? 0 : 32 - maxValue.leadingZeroBitCount
    }

    /// Appends the encoding of `values` (each < 2^bitWidth) to `out`.
    /// Runs of 8 or more equal values become RLE runs; the rest is bit-packed in groups of 8,
    /// zero-padded only at the very end.
    static func encode(_ values: UnsafeBufferPointer<UInt32>, bitWidth: Int, into out: inout [UInt8]) {
        let n = values.count
        var i = 0
        while i < n {
            let run = runLength(values, from: i, cap: Int.max)
            if run >= 8 {
                appendRLERun(value: values[i], count: run, bitWidth: bitWidth, into: &out)
                i += run
                continue
            }
            let start = i
            i = min(i + 8, n)
            while i < n && runLength(values, from: i, cap: 8) < 8 {
                i = min(i + 8, n)
            }
            appendBitPacked(values, start..<i, bitWidth: bitWidth, into: &out)
        }
    }

    static func encode(_ values: [UInt32], bitWidth: Int, into out: inout [UInt8]) {
        values.withUnsafeBufferPointer { encode($0, bitWidth: bitWidth, into: &out) }
    }

    @inline(__always) private static func runLength(_ v: UnsafeBufferPointer<UInt32>, from i: Int, cap: Int) -> Int {
        let first = v[i]
        var j = i + 1
        let limit = cap == Int.max ? v.count : min(v.count, i + cap)
        while j < limit && v[j] == first { j += 1 }
        return j - i
    }

    private static func appendRLERun(value: UInt32, count: Int, bitWidth: Int, into out: inout [UInt8]) {
        appendVarint(UInt64(count) << 1, to: &out)
        var v = value
        for _ in 0..<((bitWidth + 7) / 8) {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    private static func appendBitPacked(_ v: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, bitWidth: Int,
                                        into out: inout [UInt8]) {
        let groups = (range.count + 7) / 8
        appendVarint(UInt64(groups) << 1 | 1, to: &out)
        guard bitWidth > 0 else { return }
        out.reserveCapacity(out.count + groups * bitWidth)
        var acc: UInt64 = 0
        var bits = 0
        for k in 0..<(groups * 8) {
            let index = range.lowerBound + k
            let value: UInt32 = index < range.upperBound ? v[index] : 0
            acc |= UInt64(value) << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
    }

    /// Decodes exactly `count` values from `data`. Throws if the data runs out first or a value
    /// is wider than `bitWidth` allows. Extra trailing padding values are ignored.
    static func decode(_ data: UnsafeRawBufferPointer, bitWidth: Int, count: Int) throws -> [UInt32] {
        guard bitWidth >= 0 && bitWidth <= 32 else { throw FormatIssue.corrupt("RLE bit width \(bitWidth)") }
        guard count > 0 else { return [] }
        let valueBytes = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (UInt64(1) << UInt64(bitWidth)) - 1
        return try [UInt32](unsafeUninitializedCapacity: count) { out, written in
            written = 0
            var p = 0
            var produced = 0
            while produced < count {
                // Run header varint.
                var header: UInt64 = 0
                var shift: UInt64 = 0
                while true {
                    guard p < data.count else {
                        throw FormatIssue.truncated("RLE data ended after \(produced) of \(count) values")
                    }
                    let b = data[p]
                    p += 1
                    header |= UInt64(b & 0x7F) << shift
                    if b & 0x80 == 0 { break }
                    shift += 7
                    guard shift < 64 else { throw FormatIssue.corrupt("RLE run header too long") }
                }
                if header & 1 == 0 {
                    let runCount = header >> 1
                    guard p + valueBytes <= data.count else { throw FormatIssue.truncated("RLE run value") }
                    var value: UInt64 = 0
                    for k in 0..<valueBytes { value |= UInt64(data[p + k]) << UInt64(8 * k) }
                    p += valueBytes
                    guard value <= mask else { throw FormatIssue.corrupt("RLE value \(value) wider than \(bitWidth) bits") }
                    let take = Int(min(runCount, UInt64(count - produced)))
                    if take > 0, let base = out.baseAddress {
                        (base + produced).initialize(repeating: UInt32(value), count: take)
                    }
                    produced += take
                    written = produced
                } else {
                    let groups = header >> 1
                    guard groups <= UInt64(data.count) else { throw FormatIssue.truncated("RLE bit-packed run") }
                    let byteCount = Int(groups) * bitWidth
                    // Writers may truncate the final bit-packed run to the bytes actually needed.
                    let available = min(byteCount, data.count - p)
                    let values = min(Int(groups) * 8, count - produced)
                    guard values * bitWidth <= available * 8 else {
                        throw FormatIssue.truncated("RLE bit-packed run needs \(byteCount) bytes, \(data.count - p) left")
                    }
                    var acc: UInt64 = 0
                    var bits = 0
                    var q = p
                    for k in 0..<values {
                        while bits < bitWidth {
                            acc |= UInt64(data[q]) << UInt64(bits)
                            q += 1
                            bits += 8
                        }
                        out[produced + k] = UInt32(truncatingIfNeeded: acc & mask)
                        acc >>= UInt64(bitWidth)
                        bits -= bitWidth
                    }
                    produced += values
                    written = produced
                    p += available
                }
            }
            written = produced
        }
    }
}
