#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A plan's samples and execution order in a compact binary form, for a run to take its plan back
/// quickly (the runner keeps it beside the ledger as `plan-samples.bin`).
///
/// Why: a reused plan was read back from the ledger's text columns, and at 275,000 samples that
/// was most of the time from `gascli run` to the first new batch (about 0.5 s of CPU: SQLite's
/// row decoding, then packing the hex text again). Here each sample is its packed fields as they
/// are held in memory, and each string that samples share (dataset, format, kinds, a URI's head)
/// is written once. The ledger stays the record: this copy is made from the same samples, and a
/// reader that finds anything wrong (`PlanSnapshot.Damage`) reads the ledger instead.
///
/// Layout, little-endian: `GASPLAN1`, the sample count (u64), the shared strings (u32 count, then
/// u32 length + bytes each), one record per sample in plan order, then the execution order (u32
/// position each). A record: flags (u8, bit 0: the rare fields follow), the packed id (u64, u32),
/// the packed sha256 (4 × u64), bytes (i64), seed (u64), label (i32), the shared-string numbers of
/// the dataset and format (`absent` when the text is in the rare fields), source kind, media type,
/// modality and URI head, the URI's tail (u32 length + bytes), then, when flagged, the seven rare
/// fields (u32 length + bytes, `absent` for none). No I/O here: the caller moves the bytes.
public enum PlanSnapshot {
    static let magic = Array("GASPLAN1".utf8)
    static let absent = UInt32.max
    /// A record's fixed part: flags, id, sha256, bytes, seed, label and six string numbers.
    static let recordSize = 1 + 12 + 32 + 8 + 8 + 4 + 6 * 4

    /// Why a snapshot cannot be read; the caller reads the ledger instead.
    public struct Damage: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Writes `samples` and `executionOrder` to `emit`, in pieces of about `chunkSize` bytes.
    public static func encode(_ samples: [PlannedSample], executionOrder: [Int], chunkSize: Int = 1 << 20,
                              emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withoutActuallyEscaping(emit) { try write(samples, executionOrder: executionOrder, chunkSize: chunkSize, emit: $0) }
    }

    private static func write(_ samples: [PlannedSample], executionOrder: [Int], chunkSize: Int,
                              emit: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        precondition(executionOrder.count == samples.count, "an execution order names every sample once")
        // The strings samples share, numbered in the order first met: pass 1 numbers them (they go
        // first), pass 2 writes the records, asking again (no array of numbers per sample is kept).
        var shared = SharedStrings()
        for sample in samples { _ = shared.numbers(of: sample) }
        var out = SnapshotWriter(chunkSize: chunkSize, emit: emit)
        defer { out.release() }
        out.buffer.append(contentsOf: magic)
        try out.int(UInt64(samples.count))
        try out.int(UInt32(shared.strings.count))
        for text in shared.strings { try out.string(text) }
        for sample in samples {
            let numbers = shared.numbers(of: sample)
            // The fixed part at fixed offsets (a call per field cost 2 µs a sample).
            let p = out.buffer.room(recordSize)
            func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) { p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
            put(UInt8(sample.rare == nil ? 0 : 1), 0)
            put(sample.packedID.high, 1); put(sample.packedID.low, 9)
            put(sample.digest.a, 13); put(sample.digest.b, 21); put(sample.digest.c, 29); put(sample.digest.d, 37)
            put(Int64(sample.byteCount), 45); put(sample.seed, 53); put(sample.labelValue, 61)
            put(numbers.dataset, 65); put(numbers.format, 69); put(numbers.kind, 73); put(numbers.media, 77); put(numbers.modality, 81)
            put(numbers.head, 85)
            out.buffer.advance(recordSize)
            try out.string(sample.sampleURI.tail)
            if let rare = sample.rare {
                for field in [rare.id, rare.skipReason, rare.generatorFamily, rare.mediaPath, rare.sha256, rare.dataset, rare.format] {
                    if let field { try out.string(field) } else { try out.int(absent) }
                }
            }
        }
        for position in executionOrder { try out.int(UInt32(position)) }
        try out.flush()
    }

    /// The samples and execution order of a snapshot of exactly `count` samples. `read` fills its
    /// buffer with the snapshot's next bytes and answers how many (0 at the end); `size` is the
    /// snapshot's byte count, which no length read from it may pass.
    public static func decode(count: Int, size: Int, read: (UnsafeMutableRawBufferPointer) throws -> Int) throws
        -> (samples: [PlannedSample], executionOrder: [Int]) {
        try withoutActuallyEscaping(read) { try samples(count: count, size: size, read: $0) }
    }

    private static func samples(count: Int, size: Int, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws
        -> (samples: [PlannedSample], executionOrder: [Int]) {
        var input = SnapshotReader(size: size, read: read)
        defer { input.release() }
        guard try input.bytes(magic.count).elementsEqual(magic) else { throw Damage(description: "not a plan snapshot") }
        let recorded = try input.int(UInt64.self)
        guard recorded == UInt64(count) else { throw Damage(description: "\(recorded) samples, the plan has \(count)") }
        let stringCount = Int(try input.int(UInt32.self))
        // Each shared string, and what it stands for as each kind of field (made when first used).
        var strings: [String] = []
        strings.reserveCapacity(min(stringCount, size / 4))
        for _ in 0..<stringCount { strings.append(try input.string()) }
        var codes = [UInt16?](repeating: nil, count: stringCount)
        var kinds = [SourceKind?](repeating: nil, count: stringCount), medias = [MediaType?](repeating: nil, count: stringCount)
        var modalities = [Modality?](repeating: nil, count: stringCount)
        func string(_ n: UInt32) throws -> String {
            guard Int(n) < stringCount else { throw Damage(description: "string \(n) of \(stringCount)") }
            return strings[Int(n)]
        }
        func code(_ n: UInt32) throws -> UInt16 {
            if n == absent { return SharedNames.unpooled }
            if let known = Int(n) < stringCount ? codes[Int(n)] : nil { return known }
            let made = SharedNames.code(try string(n))
            codes[Int(n)] = made
            return made
        }
        func value<Value>(_ n: UInt32, _ cache: inout [Value?], _ make: (String) -> Value?) throws -> Value {
            if Int(n) < stringCount, let known = cache[Int(n)] { return known }
            guard let made = make(try string(n)) else { throw Damage(description: "unknown kind \(try string(n))") }
            cache[Int(n)] = made
            return made
        }
        let samples = try [PlannedSample](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                let flags = try input.int(UInt8.self)
                let p = try input.bytes(recordSize - 1).baseAddress!
                func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T { T(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: T.self)) }
                let id = PackedSampleID(high: load(0, UInt64.self), low: load(8, UInt32.self))
                let digest = PackedSHA256(a: load(12, UInt64.self), b: load(20, UInt64.self), c: load(28, UInt64.self), d: load(36, UInt64.self))
                let byteCount = Int(load(44, Int64.self)), seed = load(52, UInt64.self), label = load(60, Int32.self)
                let (datasetN, formatN, kindN) = (load(64, UInt32.self), load(68, UInt32.self), load(72, UInt32.self))
                let (mediaN, modalityN, headN) = (load(76, UInt32.self), load(80, UInt32.self), load(84, UInt32.self))
                var datasetCode = try code(datasetN), formatCode = try code(formatN)
                let kind = try value(kindN, &kinds, SourceKind.init(rawValue:))
                let media = try value(mediaN, &medias, MediaType.init(rawValue:))
                let modality = try value(modalityN, &modalities, Modality.init(rawValue:))
                let uri = SampleURI(head: try string(headN), tail: try input.string())
                var rare: RareSampleFields?
                if flags & 1 != 0 {
                    var fields: [String?] = []
                    for _ in 0..<7 { fields.append(try input.optionalString()) }
                    // A name kept as text because the writer's pool was full goes into this process's pool when it can.
                    if datasetCode == SharedNames.unpooled, let name = fields[5] { datasetCode = SharedNames.code(name); if datasetCode != SharedNames.unpooled { fields[5] = nil } }
                    if formatCode == SharedNames.unpooled, let name = fields[6] { formatCode = SharedNames.code(name); if formatCode != SharedNames.unpooled { fields[6] = nil } }
                    rare = RareSampleFields(id: fields[0], skipReason: fields[1], generatorFamily: fields[2], mediaPath: fields[3],
                                            sha256: fields[4], dataset: fields[5], format: fields[6])
                }
                guard datasetCode != SharedNames.unpooled || rare?.dataset != nil, formatCode != SharedNames.unpooled || rare?.format != nil else {
                    throw Damage(description: "sample \(i) has no dataset or format")
                }
                (buffer.baseAddress! + i).initialize(to: PlannedSample(
                    packedID: id, labelValue: label, sampleURI: uri, digest: digest, byteCount: byteCount, seed: seed, rare: rare,
                    datasetCode: datasetCode, formatCode: formatCode, sourceKind: kind, mediaType: media, modality: modality))
                initialized = i + 1
            }
        }
        var seen = [Bool](repeating: false, count: count)
        var order: [Int] = []
        order.reserveCapacity(count)
        for _ in 0..<count {
            let position = Int(try input.int(UInt32.self))
            guard position < count, !seen[position] else { throw Damage(description: "execution order names position \(position) twice or out of range") }
            seen[position] = true
            order.append(position)
        }
        guard try input.atEnd() else { throw Damage(description: "bytes after the execution order") }
        return (samples, order)
    }
}

extension PlannedSample {
    /// Every stored field as given (the snapshot's reader; the fields are already in packed form).
    fileprivate init(packedID: PackedSampleID, labelValue: Int32, sampleURI: SampleURI, digest: PackedSHA256, byteCount: Int, seed: UInt64,
                     rare: RareSampleFields?, datasetCode: UInt16, formatCode: UInt16, sourceKind: SourceKind, mediaType: MediaType,
                     modality: Modality) {
        self.packedID = packedID
        self.labelValue = labelValue
        self.sampleURI = sampleURI
        self.digest = digest
        self.byteCount = byteCount
        self.seed = seed
        self.rare = rare
        self.datasetCode = datasetCode
        self.formatCode = formatCode
        self.sourceKind = sourceKind
        self.mediaType = mediaType
        self.modality = modality
    }
}

/// The strings samples share, each numbered once: a dataset or format by its pool number, a kind
/// by its value, a URI head by its text (the last one tried first: samples come in runs of a file).
private struct SharedStrings {
    private(set) var strings: [String] = []
    /// By `==`, each with the numbers of its byte-distinct spellings (a precomposed and a
    /// decomposed é are two strings here, as in `SharedNames`).
    private var numbers: [String: [UInt32]] = [:]
    private var pooled: [UInt16: UInt32] = [:]
    private var lastHead: (text: String, number: UInt32) = ("", UInt32.max)
    private var kinds: [KindValue: UInt32] = [:]

    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { a in b.withUTF8 { b in a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) } }
    }

    private mutating func number(_ text: String) -> UInt32 {
        if let known = numbers[text]?.first(where: { Self.sameBytes(strings[Int($0)], text) }) { return known }
        let n = UInt32(strings.count)
        numbers[text, default: []].append(n)
        strings.append(text)
        return n
    }

    /// The URI head's number, the last one asked for tried first.
    private mutating func number(head text: String) -> UInt32 {
        if lastHead.number != UInt32.max && Self.sameBytes(lastHead.text, text) { return lastHead.number }
        let n = number(text)
        lastHead = (text, n)
        return n
    }

    /// A kind-like field's value, numbered by value rather than by its text.
    private enum KindValue: Hashable {
        case source(SourceKind), media(MediaType), modality(Modality)

        var text: String {
            switch self {
            case let .source(v): v.rawValue
            case let .media(v): v.rawValue
            case let .modality(v): v.rawValue
            }
        }
    }

    private mutating func number(_ kind: KindValue) -> UInt32 {
        if let n = kinds[kind] { return n }
        let n = number(kind.text)
        kinds[kind] = n
        return n
    }

    private mutating func number(pooled code: UInt16, _ text: @autoclosure () -> String) -> UInt32 {
        guard code != SharedNames.unpooled else { return PlanSnapshot.absent }
        if let known = pooled[code] { return known }
        let n = number(text())
        pooled[code] = n
        return n
    }

    mutating func numbers(of sample: PlannedSample) -> (dataset: UInt32, format: UInt32, kind: UInt32, media: UInt32, modality: UInt32, head: UInt32) {
        (number(pooled: sample.datasetCode, sample.dataset), number(pooled: sample.formatCode, sample.format),
         number(.source(sample.sourceKind)), number(.media(sample.mediaType)), number(.modality(sample.modality)),
         number(head: sample.sampleURI.head))
    }
}

/// Bytes gathered into pieces of about `chunkSize` for `PlanSnapshot.encode`'s caller.
private struct SnapshotWriter {
    var buffer: OutputBytes
    private let chunkSize: Int
    private let emit: (UnsafeRawBufferPointer) throws -> Void

    init(chunkSize: Int, emit: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.chunkSize = max(1, chunkSize)
        self.emit = emit
        buffer = OutputBytes(capacity: self.chunkSize + 256)
    }

    func release() { buffer.release() }

    /// Hands on a full piece (called after each record).
    mutating func piece() throws {
        if buffer.count >= chunkSize { try flush() }
    }

    mutating func int<T: FixedWidthInteger>(_ value: T) throws {
        buffer.appendLittleEndian(value)
        try piece()
    }

    mutating func string(_ text: String) throws {
        var text = text
        text.withUTF8 { utf8 in
            buffer.appendLittleEndian(UInt32(utf8.count))
            buffer.reserve(utf8.count)
            buffer.put(raw: utf8)
        }
        try piece()
    }

    mutating func flush() throws {
        guard buffer.count > 0 else { return }
        try emit(buffer.bytes)
        buffer.removeAll()
    }
}

/// A snapshot's bytes read through one buffer that is refilled (and grown only for a string longer
/// than it), never past the snapshot's size.
private struct SnapshotReader {
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0, consumed = 0
    private let size: Int
    private let read: (UnsafeMutableRawBufferPointer) throws -> Int

    init(size: Int, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.size = size
        self.read = read
        buffer = .allocate(byteCount: 1 << 20, alignment: 8)
    }

    mutating func release() { buffer.deallocate() }

    /// The next `n` bytes, valid until the next call.
    mutating func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= size - consumed else { throw PlanSnapshot.Damage(description: "ends early (\(n) bytes wanted at byte \(consumed) of \(size))") }
        if end - start < n { try refill(n) }
        defer { start += n; consumed += n }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<start + n])
    }

    mutating func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
        T(littleEndian: try bytes(MemoryLayout<T>.size).loadUnaligned(as: T.self))
    }

    mutating func string() throws -> String {
        let count = Int(try int(UInt32.self))
        return String(decoding: try bytes(count), as: UTF8.self)
    }

    mutating func optionalString() throws -> String? {
        let count = try int(UInt32.self)
        if count == PlanSnapshot.absent { return nil }
        return String(decoding: try bytes(Int(count)), as: UTF8.self)
    }

    /// Whether every byte was read and the source has none more.
    mutating func atEnd() throws -> Bool {
        guard consumed == size, start == end else { return false }
        start = 0; end = 0
        return try read(buffer) == 0
    }

    private mutating func refill(_ n: Int) throws {
        let kept = end - start
        if n > buffer.count {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 8)
            larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
            buffer.deallocate()
            buffer = larger
        } else if kept > 0 {
            memmove(buffer.baseAddress!, buffer.baseAddress! + start, kept)
        }
        (start, end) = (0, kept)
        while end < n {
            let got = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            guard got > 0 else { throw PlanSnapshot.Damage(description: "ends early (at byte \(consumed + end) of \(size))") }
            end += got
        }
    }
}
