#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A sample's URI as a head shared by the samples of one file (`dataset://name/shard.parquet#`)
/// and a tail of its own (`row=48213`).
///
/// A round holds every sample's URI from listing to the end of the run. As one string each, a
/// million Parquet rows cost a million 112-byte heap strings; split, they share a handful of heads
/// and Swift keeps each tail of up to 15 bytes inline. Equality, hashing, ordering and the text are
/// those of the whole URI, so how a URI is split never shows in a plan, a hash or a sort.
public struct SampleURI: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let head: String
    /// Empty, or starting with an ASCII byte (see `init(head:tail:)`).
    public let tail: String

    /// A URI kept whole.
    public init(_ uri: String) {
        head = uri
        tail = ""
    }

    /// `head` + `tail`. A tail that does not start with an ASCII byte is folded into the head: a
    /// leading combining mark could join the head's last character, and ordering by tails alone
    /// (when the heads are equal) would then differ from ordering the whole text.
    public init(head: String, tail: String) {
        if let first = tail.utf8.first, first >= 0x80 {
            self.head = head + tail
            self.tail = ""
        } else {
            self.head = head
            self.tail = tail
        }
    }

    /// The whole URI (no allocation when the tail is empty).
    public var description: String { tail.isEmpty ? head : head + tail }

    /// The whole URI's UTF-8 bytes, in one or two pieces.
    public func forEachPiece(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        var head = head, tail = tail
        try head.withUTF8 { try body($0) }
        if !tail.isEmpty { try tail.withUTF8 { try body($0) } }
    }

    /// Whether the whole URI's UTF-8 bytes start with `prefix`'s (a scheme such as `robustness://`),
    /// read in place.
    public func hasPrefix(_ prefix: String) -> Bool {
        let p = prefix.utf8, h = head.utf8
        if h.count >= p.count { return h.starts(with: p) }
        return p.starts(with: h) && tail.utf8.starts(with: p.dropFirst(h.count))
    }

    public static func == (a: SampleURI, b: SampleURI) -> Bool {
        if a.head == b.head { return a.tail == b.tail }
        return a.description == b.description
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(description)
    }

    /// The order of the whole texts (`String`'s), without building them: by tail when the heads are
    /// equal (a tail starts with an ASCII byte, so it cannot change how the head's text normalises),
    /// byte by byte when all four strings are ASCII (where `String`'s order is the bytes'), and by
    /// the whole texts otherwise.
    public static func < (a: SampleURI, b: SampleURI) -> Bool {
        if a.head == b.head { return a.tail < b.tail }
        if let ordered = asciiOrder(a, b) { return ordered }
        return a.description < b.description
    }

    private static func asciiOrder(_ a: SampleURI, _ b: SampleURI) -> Bool? {
        var a0 = a.head, a1 = a.tail, b0 = b.head, b1 = b.tail
        return a0.withUTF8 { a0 in a1.withUTF8 { a1 in b0.withUTF8 { b0 in b1.withUTF8 { b1 -> Bool? in
            guard isASCII(a0), isASCII(a1), isASCII(b0), isASCII(b1) else { return nil }
            let aCount = a0.count + a1.count, bCount = b0.count + b1.count
            var i = 0
            while i < aCount && i < bCount {
                let x = i < a0.count ? a0[i] : a1[i - a0.count]
                let y = i < b0.count ? b0[i] : b1[i - b0.count]
                if x != y { return x < y }
                i += 1
            }
            return aCount < bCount
        } } } }
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var any: UInt8 = 0
        for b in bytes { any |= b }
        return any < 0x80
    }
}

/// Splits whole URIs read back (from a ledger) after their last `#`, keeping one `String` per
/// distinct head, so samples read back hold their URIs as compactly as the planner made them.
/// A head is matched by its bytes (a hash of them, then memcmp): no string is made for a head seen
/// before.
public struct SampleURISplitter {
    private struct Head {
        var bytes: [UInt8]
        var text: String
    }
    private var heads: [UInt64: [Head]] = [:]
    private var last = Head(bytes: [], text: "")

    public init() {}

    public mutating func split(_ bytes: UnsafeBufferPointer<UInt8>) -> SampleURI {
        guard let mark = bytes.lastIndex(of: UInt8(ascii: "#")) else { return SampleURI(String(decoding: bytes, as: UTF8.self)) }
        let head = UnsafeBufferPointer(rebasing: bytes[...mark])
        let tail = String(decoding: UnsafeBufferPointer(rebasing: bytes[(mark + 1)...]), as: UTF8.self)
        if !Self.equal(last.bytes, head) { last = known(head) }
        return SampleURI(head: last.text, tail: tail)
    }

    public mutating func split(_ uri: String) -> SampleURI {
        var uri = uri
        return uri.withUTF8 { split($0) }
    }

    private mutating func known(_ head: UnsafeBufferPointer<UInt8>) -> Head {
        let hash = StableHash.fnv1a64(head)
        if let found = heads[hash]?.first(where: { Self.equal($0.bytes, head) }) { return found }
        let made = Head(bytes: Array(head), text: String(decoding: head, as: UTF8.self))
        heads[hash, default: []].append(made)
        return made
    }

    private static func equal(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.withUnsafeBufferPointer { $0.hasSameBytes(as: b) }
    }
}
