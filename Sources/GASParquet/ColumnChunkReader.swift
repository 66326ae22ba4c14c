// Decodes one column chunk (all pages of one column in one row group) into values.
// Handles dictionary pages, data pages v1 and v2, PLAIN / dictionary / RLE-boolean encodings and
// optional columns. Every count and size from the file is checked before it is used.

struct ColumnChunkReader {
    let column: ParquetColumn
    let codec: Int32
    /// Rows in the row group; a non-repeated column has exactly one value (or null) per row.
    let rowCount: Int
    /// 0 for required columns, 1 for optional top-level columns, more for leaves of (optional)
    /// structs. A value is present only at the maximum level; any lower level is a null (the leaf
    /// itself or one of its parents).
    var maxDefinitionLevel: Int = 0

    init(column: ParquetColumn, codec: Int32, rowCount: Int, maxDefinitionLevel: Int? = nil) {
        self.column = column
        self.codec = codec
        self.rowCount = rowCount
        self.maxDefinitionLevel = maxDefinitionLevel ?? (column.optional ? 1 : 0)
    }

    private var levelBitWidth: Int { RLEHybrid.bitWidth(forMax: UInt32(maxDefinitionLevel)) }

    func decode(_ chunk: [UInt8]) throws -> ParquetColumnValues {
        switch column.type {
        case .boolean: return .boolean(try decodeValues(Bool.self, chunk))
        case .int32: return .int32(try decodeValues(Int32.self, chunk))
        case .int64: return .int64(try decodeValues(Int64.self, chunk))
        case .float: return .float(try decodeValues(Float.self, chunk))
        case .double: return .double(try decodeValues(Double.self, chunk))
        case .byteArray:
            if column.logical == .string { return .string(try decodeValues(String.self, chunk)) }
            return .bytes(try decodeValues([UInt8].self, chunk))
        }
    }

    private func decodeValues<T: PlainDecodable>(_: T.Type, _ chunk: [UInt8]) throws -> [T?] {
        var out: [T?] = []
        out.reserveCapacity(min(rowCount, 1 << 20))
        var dictionary: [T]?
        try forEachPage(chunk, dictionaryPage: { page, count in
            dictionary = try T.decodePlain(page, count: count)
        }, dataPage: { levels, values, count, encoding in
            try append(levels: levels, values: values, count: count, encoding: encoding, dictionary: dictionary, to: &out)
        })
        return out
    }

    /// Hands each row's bytes (nil for a null) to `body` in row order, without making a value per
    /// row: for a byte-array column read only to look its values up (a predictions file's ids).
    func forEachByteArray(_ chunk: [UInt8], _ body: (_ row: Int, _ bytes: UnsafeBufferPointer<UInt8>?) throws -> Void) throws {
        guard column.type == .byteArray else { throw FormatIssue.corrupt("column is \(column.type), not a byte array") }
        var dictionary: [UInt8] = []
        var entries: [Range<Int>] = []
        var haveDictionary = false
        var row = 0
        let present = UInt32(maxDefinitionLevel)
        try forEachPage(chunk, dictionaryPage: { page, count in
            haveDictionary = true
            try forEachPlainByteArray(page, count: count) { bytes in
                entries.append(dictionary.count..<(dictionary.count + bytes.count))
                dictionary.append(contentsOf: bytes)
            }
        }, dataPage: { levels, values, count, encoding in
            // Levels before each value: the nulls in front of it are handed on first.
            var level = 0
            /// The nulls from `level` up to the next value's level (or the page's end).
            func emitNulls() throws {
                guard let levels else { return }
                while level < levels.count && levels[level] != present {
                    guard levels[level] < present else { throw FormatIssue.corrupt("definition level \(levels[level]) above the column's maximum \(present)") }
                    try body(row, nil)
                    row += 1
                    level += 1
                }
            }
            func emit(_ bytes: UnsafeBufferPointer<UInt8>) throws {
                try emitNulls()
                if let levels {
                    guard level < levels.count else { throw FormatIssue.corrupt("more values than the page's levels allow") }
                    level += 1
                }
                try body(row, bytes)
                row += 1
            }
            let nonNull = levels.map { $0.reduce(0) { $0 + ($1 == present ? 1 : 0) } } ?? count
            switch encoding {
            case EncodingID.plain:
                try forEachPlainByteArray(values, count: nonNull, emit)
            case EncodingID.plainDictionary, EncodingID.rleDictionary:
                guard haveDictionary else { throw FormatIssue.corrupt("dictionary-encoded page before any dictionary page") }
                guard nonNull > 0 else { break }
                guard values.count >= 1 else { throw FormatIssue.truncated("dictionary index bit width") }
                let bitWidth = Int(values[0])
                guard bitWidth <= 32 else { throw FormatIssue.corrupt("dictionary index bit width \(bitWidth)") }
                let indices = try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: values[1...]), bitWidth: bitWidth, count: nonNull)
                try dictionary.withUnsafeBufferPointer { d in
                    for index in indices {
                        guard Int(index) < entries.count else {
                            throw FormatIssue.corrupt("dictionary index \(index) but the dictionary has \(entries.count) entries")
                        }
                        try emit(UnsafeBufferPointer(rebasing: d[entries[Int(index)]]))
                    }
                }
            default:
                throw FormatIssue.unsupportedEncoding(EncodingID.name(encoding))
            }
            try emitNulls()  // after the page's last value
            if let levels, level < levels.count { throw FormatIssue.corrupt("fewer values than the page's levels call for") }
        })
    }

    /// Walks the chunk's pages in order: each dictionary page's bytes and entry count, then each
    /// data page's definition levels (nil for a required column), values, value count and encoding.
    private func forEachPage(_ chunk: [UInt8], dictionaryPage: (UnsafeRawBufferPointer, Int) throws -> Void,
                             dataPage: (_ levels: [UInt32]?, _ values: UnsafeRawBufferPointer, _ count: Int, _ encoding: Int32) throws -> Void) throws {
        var produced = 0
        var sawDictionary = false
        var position = 0
        while produced < rowCount {
            guard position < chunk.count else {
                throw FormatIssue.truncated("column chunk ends after \(produced) of \(rowCount) values")
            }
            var reader = ThriftReader(chunk, start: position)
            let header = try PageHeader.decode(&reader)
            position = reader.position
            let size = Int(header.compressedPageSize)
            guard size >= 0, size <= chunk.count - position else {
                throw FormatIssue.truncated("page at chunk byte \(position) declares \(size) bytes, \(chunk.count - position) left")
            }
            let body = position..<(position + size)
            position += size
            let uncompressedSize = Int(header.uncompressedPageSize)

            switch header.type {
            case PageTypeID.dictionaryPage:
                guard let dictionaryHeader = header.dictionaryPage else { throw FormatIssue.corrupt("dictionary page without its header") }
                guard !sawDictionary else { throw FormatIssue.corrupt("second dictionary page in one column chunk") }
                sawDictionary = true
                guard dictionaryHeader.encoding == EncodingID.plain || dictionaryHeader.encoding == EncodingID.plainDictionary else {
                    throw FormatIssue.unsupportedEncoding("\(EncodingID.name(dictionaryHeader.encoding)) dictionary page")
                }
                let page = try decompress(chunk, body, uncompressedSize)
                let count = Int(dictionaryHeader.numValues)
                guard count >= 0 else { throw FormatIssue.corrupt("negative dictionary size \(count)") }
                try page.withUnsafeBytes { try dictionaryPage($0, count) }

            case PageTypeID.dataPage:
                guard let dataHeader = header.dataPage else { throw FormatIssue.corrupt("data page without its header") }
                let count = try checkedValueCount(dataHeader.numValues, produced: produced)
                let page = try decompress(chunk, body, uncompressedSize)
                try page.withUnsafeBytes { p in
                    var offset = 0
                    var levels: [UInt32]?
                    if maxDefinitionLevel > 0 {
                        guard dataHeader.definitionLevelEncoding == EncodingID.rle else {
                            throw FormatIssue.unsupportedEncoding("\(EncodingID.name(dataHeader.definitionLevelEncoding)) definition levels")
                        }
                        guard p.count >= 4 else { throw FormatIssue.truncated("definition levels length") }
                        let length = Int(readLE32(p, at: 0))
                        guard length <= p.count - 4 else {
                            throw FormatIssue.truncated("definition levels declare \(length) bytes, page has \(p.count - 4)")
                        }
                        levels = try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: p[4..<(4 + length)]), bitWidth: levelBitWidth, count: count)
                        offset = 4 + length
                    }
                    try dataPage(levels, UnsafeRawBufferPointer(rebasing: p[offset...]), count, dataHeader.encoding)
                }
                produced += count

            case PageTypeID.dataPageV2:
                guard let dataHeader = header.dataPageV2 else { throw FormatIssue.corrupt("data page v2 without its header") }
                let count = try checkedValueCount(dataHeader.numValues, produced: produced)
                let repetitionBytes = Int(dataHeader.repetitionLevelsByteLength)
                let definitionBytes = Int(dataHeader.definitionLevelsByteLength)
                guard repetitionBytes >= 0, definitionBytes >= 0, repetitionBytes + definitionBytes <= size,
                      repetitionBytes + definitionBytes <= uncompressedSize else {
                    throw FormatIssue.corrupt("data page v2 level lengths \(repetitionBytes)+\(definitionBytes) exceed the page")
                }
                let levelsStart = body.lowerBound + repetitionBytes
                let valuesStart = levelsStart + definitionBytes
                var levels: [UInt32]?
                if maxDefinitionLevel > 0 {
                    let width = levelBitWidth
                    levels = try chunk.withUnsafeBytes {
                        try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: $0[levelsStart..<valuesStart]), bitWidth: width, count: count)
                    }
                }
                let valuesSize = uncompressedSize - repetitionBytes - definitionBytes
                let values: [UInt8]
                if valuesSize == 0 && valuesStart == body.upperBound {
                    values = []  // all-null page with nothing stored
                } else if dataHeader.isCompressed && codec != CodecID.uncompressed {
                    values = try decompress(chunk, valuesStart..<body.upperBound, valuesSize)
                } else {
                    values = Array(chunk[valuesStart..<body.upperBound])
                }
                try values.withUnsafeBytes { try dataPage(levels, $0, count, dataHeader.encoding) }
                produced += count

            default:
                continue  // Index pages and unknown page types carry no values.
            }
        }
    }

    private func checkedValueCount(_ declared: Int32, produced: Int) throws -> Int {
        let count = Int(declared)
        guard count >= 0, count <= rowCount - produced else {
            throw FormatIssue.corrupt("page declares \(count) values but only \(rowCount - produced) of the row group's \(rowCount) remain")
        }
        return count
    }

    private func decompress(_ chunk: [UInt8], _ range: Range<Int>, _ uncompressedSize: Int) throws -> [UInt8] {
        try chunk.withUnsafeBytes {
            try PageCompression.decompress(UnsafeRawBufferPointer(rebasing: $0[range]), codec: codec,
                                           uncompressedSize: uncompressedSize)
        }
    }

    /// Decodes a page's non-null values and appends them, interleaved with nulls per the levels.
    private func append<T: PlainDecodable>(levels: [UInt32]?, values p: UnsafeRawBufferPointer, count: Int,
                                           encoding: Int32, dictionary: [T]?, to out: inout [T?]) throws {
        var nonNull = count
        let present = UInt32(maxDefinitionLevel)
        if let levels {
            nonNull = 0
            for level in levels {
                guard level <= present else { throw FormatIssue.corrupt("definition level \(level) above the column's maximum \(present)") }
                if level == present { nonNull += 1 }
            }
        }
        let decoded = try decode(p, count: nonNull, encoding: encoding, dictionary: dictionary)
        if let levels {
            var k = 0
            for level in levels {
                if level == present {
                    out.append(decoded[k])
                    k += 1
                } else {
                    out.append(nil)
                }
            }
        } else {
            for v in decoded { out.append(v) }
        }
    }

    private func decode<T: PlainDecodable>(_ p: UnsafeRawBufferPointer, count: Int, encoding: Int32,
                                           dictionary: [T]?) throws -> [T] {
        switch encoding {
        case EncodingID.plain:
            return try T.decodePlain(p, count: count)
        case EncodingID.plainDictionary, EncodingID.rleDictionary:
            guard let dictionary else { throw FormatIssue.corrupt("dictionary-encoded page before any dictionary page") }
            guard count > 0 else { return [] }
            guard p.count >= 1 else { throw FormatIssue.truncated("dictionary index bit width") }
            let bitWidth = Int(p[0])
            guard bitWidth <= 32 else { throw FormatIssue.corrupt("dictionary index bit width \(bitWidth)") }
            let indices = try RLEHybrid.decode(UnsafeRawBufferPointer(rebasing: p[1...]), bitWidth: bitWidth, count: count)
            var result: [T] = []
            result.reserveCapacity(count)
            for index in indices {
                guard Int(index) < dictionary.count else {
                    throw FormatIssue.corrupt("dictionary index \(index) but the dictionary has \(dictionary.count) entries")
                }
                result.append(dictionary[Int(index)])
            }
            return result
        case EncodingID.rle:
            return try T.decodeRLE(p, count: count)
        default:
            throw FormatIssue.unsupportedEncoding(EncodingID.name(encoding))
        }
    }
}
