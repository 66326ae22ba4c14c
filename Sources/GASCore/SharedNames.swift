import Synchronization

/// Names that whole datasets of samples share (dataset names, media formats), held once per
/// process so that a `PlannedSample` keeps a 2-byte number where a 16-byte string took its place
/// a million times over.
///
/// The pool only grows: it holds what catalogs and media formats name, a few hundred names at
/// most in a long-lived validator. Once it is full, `code` answers `unpooled` and the caller keeps
/// the text itself.
enum SharedNames {
    /// The number that stands for "not in the pool".
    static let unpooled = NamePool.unpooled

    private static let pool = Mutex(NamePool(capacity: Int(UInt16.max)))

    /// The name's number, adding it when it is new; `unpooled` when the pool is full.
    static func code(_ name: String) -> UInt16 { pool.withLock { $0.code(name) } }

    /// The name a number stands for; nil for `unpooled`.
    static func name(_ code: UInt16) -> String? {
        guard code != unpooled else { return nil }
        return pool.withLock { $0.name(code) }
    }
}

/// Names numbered in the order first seen. A name is matched by its bytes, so it reads back
/// exactly as it was given: two spellings that Swift's `==` calls equal (a precomposed and a
/// decomposed é) keep numbers of their own.
struct NamePool {
    static let unpooled = UInt16.max
    let capacity: Int
    private var names: [String] = []
    /// Names by `==`, each with the numbers of its byte-distinct spellings.
    private var codes: [String: [UInt16]] = [:]

    init(capacity: Int) { self.capacity = min(capacity, Int(Self.unpooled)) }

    var count: Int { names.count }

    /// The numbers last answered, tried first: a plan's samples name the same few datasets and
    /// formats one after another, and comparing bytes costs less than hashing the name.
    private var recent: [UInt16] = []
    private var nextRecent = 0
    private static let recentCount = 4

    /// The name's number, adding it when it is new; `unpooled` when the pool is full.
    mutating func code(_ name: String) -> UInt16 {
        for code in recent where Self.sameBytes(names[Int(code)], name) { return code }
        let code = lookUp(name)
        if code != Self.unpooled {
            if recent.count < Self.recentCount { recent.append(code) } else { recent[nextRecent] = code }
            nextRecent = (nextRecent + 1) % Self.recentCount
        }
        return code
    }

    private mutating func lookUp(_ name: String) -> UInt16 {
        if let known = codes[name] {
            for code in known where Self.sameBytes(names[Int(code)], name) { return code }
        }
        guard names.count < capacity else { return Self.unpooled }
        let code = UInt16(names.count)
        names.append(name)
        codes[name, default: []].append(code)
        return code
    }

    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { a in b.withUTF8 { b in a.hasSameBytes(as: b) } }
    }

    /// The name a number stands for; nil for `unpooled` or a number not given out.
    func name(_ code: UInt16) -> String? {
        Int(code) < names.count ? names[Int(code)] : nil
    }
}
