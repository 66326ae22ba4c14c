// Encodes one column of one row group: an optional dictionary page, then v1 data pages of about
// `pageBytes` each, compressed into the chunk's own buffer (offsets relative to the chunk's start),
// so the columns of a row group can be encoded in parallel and written in order.

/// BYTE_ARRAY input, abstracted so String and [UInt8] columns share one encoder.
protocol ByteArrayValues {
    var count: Int { get }
    func isPresent(_ i: Int) -> Bool
    /// Calls `body` with the value's bytes, or returns nil for a null.
    func withBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R?
}

struct StringValues: ByteArrayValues {
    let values: [String?]
    var count: Int { values.count }
    func isPresent(_ i: Int) -> Bool { values[i] != nil }
    @inline(__always) func withBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        guard let s = values[i] else { return nil }
        // Native and small strings expose their UTF-8 directly; only bridged ones need a copy.
        if let result = try s.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = s
        return try copy.withUTF8(body)
    }
}

struct BytesValues: ByteArrayValues {
    let values: [[UInt8]?]
    var count: Int { values.count }
    func isPresent(_ i: Int) -> Bool { values[i] != nil }
    @inline(__always) func withBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        guard let b = values[i] else { return nil }
        return try b.withUnsafeBufferPointer(body)
    }
}

struct ColumnChunkWriter {
    let column: ParquetColumn
    let codec: ParquetCodec
    let sink: ChunkBuffer
    let pageBytes: Int
    let dictionaryLimit: Int
    /// Statistics min/max larger than this are omitted (as parquet-cpp does) to keep footers small.
    static let maxStatisticsBytes = 4096

    private var totalUncompressed: Int64 = 0
    private var totalCompressed: Int64 = 0
    private var dictionaryPageOffset: Int64?
    private var firstDataPageOffset: Int64?
    private var usedDictionary = false

    init(column: ParquetColumn, codec: ParquetCodec, sink: ChunkBuffer, pageBytes: Int, dictionaryLimit: Int) {
        self.column = column
        self.codec = codec
        self.sink = sink
        // Clamped so page value counts and dictionary sizes always fit Parquet's Int32 fields.
        self.pageBytes = min(max(1, pageBytes), 1 << 27)
        self.dictionaryLimit = min(dictionaryLimit, 1 << 30)
    }

    /// Writes all pages for `values` and returns the chunk's metadata.
    mutating func write(_ values: ParquetColumnValues) throws -> ColumnChunk {
        let statistics: Statistics
        switch values {
        case .boolean(let v): statistics = try writeBooleans(v)
        case .int32(let v): statistics = try writeFixed(v)
        case .int64(let v): statistics = try writeFixed(v)
        case .float(let v): statistics = try writeFixed(v)
        case .double(let v): statistics = try writeFixed(v)
        case .string(let v): statistics = try writeByteArrays(StringValues(values: v))
        case .bytes(let v): statistics = try writeByteArrays(BytesValues(values: v))
        }
        let dataPageOffset = firstDataPageOffset ?? sink.offset
        var encodings = [EncodingID.plain, EncodingID.rle]
        if usedDictionary { encodings.append(EncodingID.rleDictionary) }
        let meta = ColumnMetaData(
            type: PhysicalTypeID.of(column.type), encodings: encodings, pathInSchema: [column.name],
            codec: CodecID.of(codec), numValues: Int64(values.count),
            totalUncompressedSize: totalUncompressed, totalCompressedSize: totalCompressed,
            dataPageOffset: dataPageOffset, dictionaryPageOffset: dictionaryPageOffset, statistics: statistics)
        return ColumnChunk(filePath: nil, fileOffset: dictionaryPageOffset ?? dataPageOffset, metaData: meta)
    }

    // MARK: Pages

    private mutating func emitPage(_ header: PageHeader, body: [UInt8]) throws {
        var header = header
        let compressed = try PageCompression.compress(body, codec: codec)
        guard let uncompressedSize = Int32(exactly: body.count), let compressedSize = Int32(exactly: compressed.count) else {
            throw FormatIssue.limit(what: "page size", value: Int64(body.count), limit: Int64(Int32.max))
        }
        header.uncompressedPageSize = uncompressedSize
        header.compressedPageSize = compressedSize
        let headerBytes = header.encode()
        try sink.write(headerBytes)
        try sink.write(compressed)
        totalUncompressed += Int64(headerBytes.count + body.count)
        totalCompressed += Int64(headerBytes.count + compressed.count)
    }

    private mutating func emitDataPage(_ body: [UInt8], numValues: Int, encoding: Int32) throws {
        if firstDataPageOffset == nil { firstDataPageOffset = sink.offset }
        let header = PageHeader(type: PageTypeID.dataPage, dataPage: DataPageHeader(numValues: Int32(numValues), encoding: encoding))
        try emitPage(header, body: body)
    }

    private mutating func emitDictionaryPage(_ body: [UInt8], count: Int) throws {
        dictionaryPageOffset = sink.offset
        let header = PageHeader(type: PageTypeID.dictionaryPage,
                                dictionaryPage: DictionaryPageHeader(numValues: Int32(count), encoding: EncodingID.plain))
        try emitPage(header, body: body)
    }

    /// Appends v1 definition levels for `rows` (4-byte length, then RLE hybrid at bit width 1).
    /// Returns the number of non-null rows.
    private func appendDefinitionLevels(_ rows: Range<Int>, into body: inout [UInt8],
                                        isPresent: (Int) -> Bool) -> Int {
        var nonNull = 0
        let levels = [UInt32](unsafeUninitializedCapacity: rows.count) { buffer, initialized in
            for (k, row) in rows.enumerated() {
                let present = isPresent(row)
                buffer[k] = present ? 1 : 0
                nonNull += present ? 1 : 0
            }
            initialized = rows.count
        }
        let lengthAt = body.count
        appendLE32(0, to: &body)
        RLEHybrid.encode(levels, bitWidth: 1, into: &body)
        let length = UInt32(body.count - lengthAt - 4)
        for k in 0..<4 { body[lengthAt + k] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(k))) }
        return nonNull
    }

    /// Data pages of RLE_DICTIONARY indices (one index per non-null row).
    private mutating func writeIndexPages(_ indices: [UInt32], dictionarySize: Int, rows: Int,
                                          isPresent: (Int) -> Bool) throws {
        let bitWidth = max(1, RLEHybrid.bitWidth(forMax: UInt32(max(0, dictionarySize - 1))))
        let rowsPerPage = max(1, pageBytes * 8 / bitWidth)
        var start = 0
        var next = 0
        while start < rows {
            let end = min(rows, start + rowsPerPage)
            var body: [UInt8] = []
            body.reserveCapacity((end - start) * bitWidth / 8 + 64)
            var nonNull = end - start
            if column.optional {
                nonNull = appendDefinitionLevels(start..<end, into: &body, isPresent: isPresent)
            }
            body.append(UInt8(bitWidth))
            indices.withUnsafeBufferPointer {
                RLEHybrid.encode(UnsafeBufferPointer(rebasing: $0[next..<(next + nonNull)]), bitWidth: bitWidth, into: &body)
            }
            next += nonNull
            try emitDataPage(body, numValues: end - start, encoding: EncodingID.rleDictionary)
            start = end
        }
        usedDictionary = true
    }

    // MARK: Booleans

    private mutating func writeBooleans(_ values: [Bool?]) throws -> Statistics {
        var nullCount = 0
        var sawFalse = false
        var sawTrue = false
        for v in values {
            switch v {
            case .none: nullCount += 1
            case .some(true): sawTrue = true
            case .some(false): sawFalse = true
            }
        }
        let rowsPerPage = max(8, pageBytes * 8)
        var start = 0
        while start < values.count {
            let end = min(values.count, start + rowsPerPage)
            var body: [UInt8] = []
            body.reserveCapacity((end - start) / 8 + 64)
            if column.optional {
                _ = appendDefinitionLevels(start..<end, into: &body) { values[$0] != nil }
            }
            var byte: UInt8 = 0
            var bit: UInt8 = 0
            for i in start..<end {
                guard let v = values[i] else { continue }
                if v { byte |= 1 << bit }
                bit += 1
                if bit == 8 {
                    body.append(byte)
                    byte = 0
                    bit = 0
                }
            }
            if bit > 0 { body.append(byte) }
            try emitDataPage(body, numValues: end - start, encoding: EncodingID.plain)
            start = end
        }
        var stats = Statistics(nullCount: Int64(nullCount))
        if sawFalse || sawTrue {
            stats.minValue = [sawFalse ? 0 : 1]
            stats.maxValue = [sawTrue ? 1 : 0]
        }
        return stats
    }

    // MARK: Fixed-width numbers

    private mutating func writeFixed<T: FixedWidthValue>(_ values: [T?]) throws -> Statistics {
        var nullCount = 0
        var low: T?
        var high: T?
        for v in values {
            guard let v else { nullCount += 1; continue }
            if v.excludedFromStatistics { continue }
            if let l = low, let h = high {
                if v < l { low = v } else if h < v { high = v }
            } else {
                low = v
                high = v
            }
        }
        var wroteDictionary = false
        if column.dictionary {
            wroteDictionary = try writeFixedDictionary(values)
        }
        if !wroteDictionary {
            try writeFixedPlain(values)
        }
        var stats = Statistics(nullCount: Int64(nullCount))
        if let low, let high {
            stats.minValue = littleEndianBytes(low.normalizedForMin)
            stats.maxValue = littleEndianBytes(high.normalizedForMax)
        }
        return stats
    }

    private mutating func writeFixedPlain<T: FixedWidthValue>(_ values: [T?]) throws {
        let width = MemoryLayout<T>.size
        let rowsPerPage = max(1, pageBytes / width)
        var start = 0
        while start < values.count {
            let end = min(values.count, start + rowsPerPage)
            var levels: [UInt8] = []
            var nonNull = end - start
            if column.optional {
                nonNull = appendDefinitionLevels(start..<end, into: &levels) { values[$0] != nil }
            }
            let body = [UInt8](unsafeUninitializedCapacity: levels.count + nonNull * width) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                levels.withUnsafeBytes { raw.copyMemory(from: $0) }
                var offset = levels.count
                values.withUnsafeBufferPointer { vp in
                    for i in start..<end {
                        if let v = vp[i] {
                            raw.storeBytes(of: v, toByteOffset: offset, as: T.self)
                            offset += width
                        }
                    }
                }
                initialized = offset
            }
            try emitDataPage(body, numValues: end - start, encoding: EncodingID.plain)
            start = end
        }
    }

    /// Returns false (having written nothing) when the dictionary would exceed the limit.
    private mutating func writeFixedDictionary<T: FixedWidthValue>(_ values: [T?]) throws -> Bool {
        let maxEntries = dictionaryLimit / MemoryLayout<T>.size
        var lookup: [T.DictionaryKey: UInt32] = [:]
        var entries: [T] = []
        var indices: [UInt32] = []
        indices.reserveCapacity(values.count)
        for v in values {
            guard let v else { continue }
            if let index = lookup[v.dictionaryKey] {
                indices.append(index)
            } else {
                guard entries.count < maxEntries else { return false }
                let index = UInt32(entries.count)
                lookup[v.dictionaryKey] = index
                entries.append(v)
                indices.append(index)
            }
        }
        try emitDictionaryPage(entries.withUnsafeBytes { Array($0) }, count: entries.count)
        try writeIndexPages(indices, dictionarySize: entries.count, rows: values.count) { values[$0] != nil }
        return true
    }

    // MARK: Byte arrays

    private mutating func writeByteArrays<S: ByteArrayValues>(_ source: S) throws -> Statistics {
        if column.dictionary, let stats = try writeByteArrayDictionary(source) {
            return stats
        }
        return try writeByteArrayPlain(source)
    }

    private mutating func writeByteArrayPlain<S: ByteArrayValues>(_ source: S) throws -> Statistics {
        var nullCount = 0
        var low: [UInt8]?
        var high: [UInt8]?
        var values: [UInt8] = []
        values.reserveCapacity(pageBytes + pageBytes / 8)
        var pageStart = 0
        for i in 0..<source.count {
            let present = source.withBytes(i) { bytes -> Bool in
                appendLE32(UInt32(truncatingIfNeeded: bytes.count), to: &values)
                values.append(contentsOf: bytes)
                if let l = low {
                    if l.withUnsafeBufferPointer({ compareBytes(bytes, $0) }) < 0 { low = Array(bytes) }
                } else {
                    low = Array(bytes)
                }
                if let h = high {
                    if h.withUnsafeBufferPointer({ compareBytes(bytes, $0) }) > 0 { high = Array(bytes) }
                } else {
                    high = Array(bytes)
                }
                return true
            } ?? false
            if !present { nullCount += 1 }
            if values.count >= pageBytes {
                try flushPlainByteArrayPage(pageStart..<(i + 1), values: &values, source)
                pageStart = i + 1
            }
        }
        if pageStart < source.count {
            try flushPlainByteArrayPage(pageStart..<source.count, values: &values, source)
        }
        return byteArrayStatistics(nullCount: nullCount, low: low, high: high)
    }

    private mutating func flushPlainByteArrayPage<S: ByteArrayValues>(_ rows: Range<Int>, values: inout [UInt8], _ source: S) throws {
        var body: [UInt8]
        if column.optional {
            body = []
            body.reserveCapacity(values.count + rows.count / 8 + 64)
            _ = appendDefinitionLevels(rows, into: &body, isPresent: source.isPresent)
            body.append(contentsOf: values)
        } else {
            body = values
        }
        values.removeAll(keepingCapacity: true)
        try emitDataPage(body, numValues: rows.count, encoding: EncodingID.plain)
    }

    /// Returns nil (having written nothing) when the dictionary would exceed the limit.
    private mutating func writeByteArrayDictionary<S: ByteArrayValues>(_ source: S) throws -> Statistics? {
        var dictionary = ByteArrayDictionary(limitBytes: dictionaryLimit)
        var indices: [UInt32] = []
        indices.reserveCapacity(source.count)
        var nullCount = 0
        for i in 0..<source.count {
            switch source.withBytes(i, { dictionary.index(of: $0) }) {
            case .none: nullCount += 1
            case .some(.none): return nil
            case .some(.some(let index)): indices.append(index)
            }
        }
        try emitDictionaryPage(dictionary.plain, count: dictionary.count)
        try writeIndexPages(indices, dictionarySize: dictionary.count, rows: source.count, isPresent: source.isPresent)
        var lowIndex = -1
        var highIndex = -1
        for entry in 0..<dictionary.count {
            if lowIndex < 0 {
                lowIndex = entry
                highIndex = entry
                continue
            }
            dictionary.withEntry(entry) { bytes in
                if dictionary.withEntry(lowIndex, { compareBytes(bytes, $0) }) < 0 { lowIndex = entry }
                if dictionary.withEntry(highIndex, { compareBytes(bytes, $0) }) > 0 { highIndex = entry }
            }
        }
        let low = lowIndex >= 0 ? dictionary.withEntry(lowIndex) { Array($0) } : nil
        let high = highIndex >= 0 ? dictionary.withEntry(highIndex) { Array($0) } : nil
        return byteArrayStatistics(nullCount: nullCount, low: low, high: high)
    }

    private func byteArrayStatistics(nullCount: Int, low: [UInt8]?, high: [UInt8]?) -> Statistics {
        var stats = Statistics(nullCount: Int64(nullCount))
        if let low, let high, low.count <= Self.maxStatisticsBytes, high.count <= Self.maxStatisticsBytes {
            stats.minValue = low
            stats.maxValue = high
        }
        return stats
    }
}
