import GASCore
import GRDB
import GRDBSQLite

/// One detector's outcomes of one batch as a single JSON text: the row a run's executor commits
/// per batch (`outcome_batches`), where it committed a row per outcome before.
///
/// Why: one thread commits a run's outcomes, and SQLite's work per inserted row (binding nine
/// values, a b-tree search by text key) kept that thread busy for most of a large round while the
/// detectors waited on it. A batch of 1,024 outcomes is now one row. The text is plain JSON, an
/// array of `[sample_id, status, probs_json, p_ai, predicted, error, latency_ms, batch]`, so the
/// `outcomes` view can still show every outcome to SQL (through `json_each`). gascli itself reads
/// it with `OutcomeBatchReader`, which parses every number exactly; SQLite's reading of a 17-digit
/// number can be one unit in the last place away from it.
public struct OutcomeBatchJSON: Sendable {
    public let detector: String
    public let text: [UInt8]
    public let count: Int

    /// `outcomes` cut where the detector changes, each part as its JSON text. Nil when a number
    /// has no JSON form (an infinite or NaN probability or latency): the caller commits such a
    /// batch row by row instead.
    public static func encode(_ outcomes: [DetectorOutcome]) -> [OutcomeBatchJSON]? {
        var parts: [OutcomeBatchJSON] = []
        var start = 0
        while start < outcomes.count {
            var end = start + 1
            while end < outcomes.count && outcomes[end].detector == outcomes[start].detector { end += 1 }
            guard let text = encode(outcomes, start..<end) else { return nil }
            parts.append(OutcomeBatchJSON(detector: outcomes[start].detector, text: text, count: end - start))
            start = end
        }
        return parts
    }

    /// The outcomes of one batch's text (a row of `outcome_batches`), as gascli reads them back;
    /// a text gascli does not write is a `StoreError` naming `path` (the file it came from).
    public static func decode(_ text: [UInt8], detector: String, path: String) throws -> [DetectorOutcome] {
        var reader = OutcomeBatchReader()
        var outcomes: [DetectorOutcome] = []
        try text.withUnsafeBufferPointer { json in
            try reader.forEach(in: json, path: path, row: "an outcome batch of \(detector)") { o, scratch in
                outcomes.append(o.outcome(detector: detector, scratch: scratch))
            }
        }
        return outcomes
    }

    private static func encode(_ outcomes: [DetectorOutcome], _ range: Range<Int>) -> [UInt8]? {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        bytes.reserveCapacity(range.count * 80 + 2)
        // By index, field by field: iterating the outcomes copies each, retaining its strings.
        for i in range {
            if i > range.lowerBound { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            appendString(outcomes[i].sampleID, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            appendString(outcomes[i].status.rawValue, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            if let probs = outcomes[i].probs {
                guard probs.allSatisfy(\.isFinite) else { return nil }
                bytes.append(UInt8(ascii: "\""))
                OutcomeRows.appendJSONArray(probs, to: &bytes)
                bytes.append(UInt8(ascii: "\""))
            } else {
                appendNull(to: &bytes)
            }
            bytes.append(UInt8(ascii: ","))
            if let p = outcomes[i].pAI {
                guard p.isFinite else { return nil }
                bytes.append(contentsOf: p.description.utf8)
            } else {
                appendNull(to: &bytes)
            }
            bytes.append(UInt8(ascii: ","))
            if let p = outcomes[i].predicted { bytes.append(contentsOf: String(p).utf8) } else { appendNull(to: &bytes) }
            bytes.append(UInt8(ascii: ","))
            if let e = outcomes[i].error { appendString(e, to: &bytes) } else { appendNull(to: &bytes) }
            bytes.append(UInt8(ascii: ","))
            guard outcomes[i].latencyMs.isFinite else { return nil }
            bytes.append(contentsOf: outcomes[i].latencyMs.description.utf8)
            bytes.append(UInt8(ascii: ","))
            bytes.append(contentsOf: String(outcomes[i].batch).utf8)
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    private static func appendNull(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    /// A JSON string: quote, backslash and control characters escaped, the rest as UTF-8.
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Ids, statuses and most messages need no escape: appended whole.
        let plain = text.utf8.withContiguousStorageIfAvailable { utf8 in
            for b in utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            return true
        } ?? false
        if plain {
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(b)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 0xf)])
            default:
                bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// A batch of new outcomes encoded for the ledger where it is produced (on the detector's task,
/// beside the writer): a JSON row per detector, or rows when a number has no JSON form.
public enum NewOutcomes: Sendable {
    case batches([OutcomeBatchJSON])
    case rows(OutcomeRows)

    public init(_ outcomes: [DetectorOutcome]) {
        if let parts = OutcomeBatchJSON.encode(outcomes) {
            self = .batches(parts)
        } else {
            self = .rows(OutcomeRows(outcomes))
        }
    }
}

/// One outcome of an `outcome_batches` row, as parsed. Text values are places in the reader's
/// scratch bytes, valid during the call that hands them over.
struct BatchedOutcome {
    struct Span {
        var start: Int
        var count: Int  // -1: null
        static let null = Span(start: 0, count: -1)
    }

    var sampleID = Span.null
    var status = OutcomeStatus.ok
    var probs = Span.null
    var pAI: Double?
    var predicted: Int64?
    var error = Span.null
    var latencyMs = 0.0
    var batch: Int64 = 0

    /// As a `DetectorOutcome` of `detector`, its texts taken from `scratch`.
    func outcome(detector: String, scratch: UnsafeBufferPointer<UInt8>) -> DetectorOutcome {
        DetectorOutcome(sampleID: Self.text(sampleID, in: scratch) ?? "", detector: detector, status: status,
                        probs: Self.text(probs, in: scratch).flatMap(RunLedger.parseArray), pAI: pAI,
                        predicted: predicted.map { Int($0) }, error: Self.text(error, in: scratch), latencyMs: latencyMs, batch: Int(batch))
    }

    /// A text value from the reader's scratch bytes; nil for null.
    static func text(_ span: Span, in scratch: UnsafeBufferPointer<UInt8>) -> String? {
        span.count < 0 ? nil : String(decoding: UnsafeBufferPointer(rebasing: scratch[span.start..<span.start + span.count]), as: UTF8.self)
    }

    static func bytes(_ span: Span, in scratch: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: scratch[span.start..<span.start + max(0, span.count)])
    }
}

/// Reads `OutcomeBatchJSON` text back, every number parsed exactly as Swift prints it back (the
/// values a run scored). Any other shape is a damaged ledger, named with the row it is in.
struct OutcomeBatchReader {
    /// Decoded text values of the outcome being handed over (reused, so a row allocates nothing).
    private var scratch: [UInt8] = []
    /// False: the probability and latency are checked as number tokens but not converted, and
    /// come back as 0 (what a resume needs is the sample, status and batch).
    let values: Bool

    init(values: Bool = true) { self.values = values }

    /// Parses `json` (one row's text) and hands each outcome to `body` with the bytes its text
    /// values are in; `row` names the row in errors.
    mutating func forEach(in json: UnsafeBufferPointer<UInt8>, path: String, row: @autoclosure () -> String,
                          _ body: (BatchedOutcome, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var p = 0
        func fail(_ why: String) -> StoreError {
            StoreError.corrupt(path: path, what: "\(row()): \(why) at byte \(p) of its outcomes")
        }
        func skipSpace() {
            while p < json.count, json[p] == 0x20 || json[p] == 0x0a || json[p] == 0x0d || json[p] == 0x09 { p += 1 }
        }
        func expect(_ c: UInt8) throws {
            skipSpace()
            guard p < json.count, json[p] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
            p += 1
        }
        func isNull() -> Bool {
            skipSpace()
            guard p + 4 <= json.count, json[p] == UInt8(ascii: "n"), json[p + 1] == UInt8(ascii: "u"),
                  json[p + 2] == UInt8(ascii: "l"), json[p + 3] == UInt8(ascii: "l") else { return false }
            p += 4
            return true
        }
        func number() throws -> Double {
            skipSpace()
            let start = p
            while p < json.count, Self.isNumberByte(json[p]) { p += 1 }
            guard Self.isJSONNumber(UnsafeBufferPointer(rebasing: json[start..<p])) else { throw fail("expected a number") }
            guard values else { return 0 }
            guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: json[start..<p]), as: UTF8.self)),
                  value.isFinite else { throw fail("expected a number") }
            return value
        }
        func integer() throws -> Int64 {
            skipSpace()
            let negative = p < json.count && json[p] == UInt8(ascii: "-")
            if negative { p += 1 }
            let start = p
            var value: Int64 = 0
            while p < json.count, json[p] >= UInt8(ascii: "0"), json[p] <= UInt8(ascii: "9") {
                let digit = Int64(json[p] - UInt8(ascii: "0"))
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (next, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !o1, !o2 else { throw fail("a whole number out of range") }
                value = next
                p += 1
            }
            guard p > start, json[start] != UInt8(ascii: "0") || p == start + 1 else { throw fail("expected a whole number") }
            return value
        }
        func string() throws -> BatchedOutcome.Span {
            try expect(UInt8(ascii: "\""))
            let start = scratch.count
            while true {
                // The bytes up to the next quote or backslash go in whole. A control character must
                // be escaped in JSON (SQLite's JSON functions refuse it too).
                let run = p
                while p < json.count, json[p] != UInt8(ascii: "\""), json[p] != UInt8(ascii: "\\"), json[p] >= 0x20 { p += 1 }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: json[run..<p]))
                guard p < json.count else { throw fail("unterminated string") }
                guard json[p] >= 0x20 else { throw fail("an unescaped control character in a string") }
                let b = json[p]
                p += 1
                if b == UInt8(ascii: "\"") { break }
                guard p < json.count else { throw fail("unterminated string") }
                let e = json[p]
                p += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(e)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0c)
                case UInt8(ascii: "n"): scratch.append(0x0a)
                case UInt8(ascii: "r"): scratch.append(0x0d)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair: the second half follows as another \u escape.
                        guard p + 2 <= json.count, json[p] == UInt8(ascii: "\\"), json[p + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate")
                        }
                        p += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    scratch.append(contentsOf: String(Character(u)).utf8)
                default:
                    throw fail("invalid escape")
                }
            }
            return BatchedOutcome.Span(start: start, count: scratch.count - start)
        }
        func hex4() throws -> UInt32 {
            guard p + 4 <= json.count else { throw fail("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = json[p]
                p += 1
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }

        try expect(UInt8(ascii: "["))
        skipSpace()
        if p < json.count, json[p] == UInt8(ascii: "]") {
            p += 1
        } else {
            while true {
                scratch.removeAll(keepingCapacity: true)
                var o = BatchedOutcome()
                try expect(UInt8(ascii: "["))
                o.sampleID = try string()
                try expect(UInt8(ascii: ","))
                let status = try string()
                let known = scratch.withUnsafeBufferPointer { Self.status(BatchedOutcome.bytes(status, in: $0)) }
                guard let known else {
                    throw fail("unknown status '\(scratch.withUnsafeBufferPointer { BatchedOutcome.text(status, in: $0) } ?? "")'")
                }
                o.status = known
                try expect(UInt8(ascii: ","))
                o.probs = isNull() ? .null : try string()
                try expect(UInt8(ascii: ","))
                o.pAI = isNull() ? nil : try number()
                try expect(UInt8(ascii: ","))
                o.predicted = isNull() ? nil : try integer()
                try expect(UInt8(ascii: ","))
                o.error = isNull() ? .null : try string()
                try expect(UInt8(ascii: ","))
                o.latencyMs = try number()
                try expect(UInt8(ascii: ","))
                o.batch = try integer()
                try expect(UInt8(ascii: "]"))
                try scratch.withUnsafeBufferPointer { try body(o, $0) }
                skipSpace()
                guard p < json.count else { throw fail("unterminated array") }
                if json[p] == UInt8(ascii: "]") {
                    p += 1
                    break
                }
                try expect(UInt8(ascii: ","))
            }
        }
        skipSpace()
        guard p == json.count else { throw fail("text after the array") }
    }

    /// The status these bytes spell, without making a String of them; nil for none.
    static func status(_ bytes: UnsafeBufferPointer<UInt8>) -> OutcomeStatus? {
        statuses.first { $0.bytes.elementsEqual(bytes) }?.status
    }

    private static let statuses = OutcomeStatus.allCases.map { (bytes: Array($0.rawValue.utf8), status: $0) }

    /// JSON's number grammar, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: what gascli reads,
    /// SQLite's JSON functions (the `outcomes` view) read too.
    static func isJSONNumber(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        func digits() -> Int {
            let from = i
            while i < t.count, t[i] >= UInt8(ascii: "0"), t[i] <= UInt8(ascii: "9") { i += 1 }
            return i - from
        }
        if i < t.count, t[i] == UInt8(ascii: "-") { i += 1 }
        let first = i
        guard digits() > 0, t[first] != UInt8(ascii: "0") || i == first + 1 else { return false }
        if i < t.count, t[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        }
        if i < t.count, t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E") {
            i += 1
            if i < t.count, t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == t.count
    }

    private static func isNumberByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default:
            return false
        }
    }
}

extension RunLedger {
    /// The `outcomes` view's columns from `outcome_rows` alone (a subquery to select from).
    static let outcomeRows = """
        (SELECT l.run_id, o.sample_id, l.detector, o.status, o.probs_json, o.p_ai, o.predicted, o.error, o.latency_ms, o.batch
         FROM outcome_rows o JOIN outcome_lanes l ON l.lane = o.lane)
        """

    /// Whether the file has the `outcomes` view over `outcome_rows` and `outcome_batches` (this
    /// schema), rather than an older ledger's (or a damaged one's) `outcomes` table.
    static func outcomesAreBatched(_ db: Database) throws -> Bool {
        try String.fetchOne(db, sql: "SELECT type FROM sqlite_master WHERE name = 'outcomes'") == "view"
            && db.tableExists("outcome_batches") && db.tableExists("outcome_rows")
    }

    /// `rows` (the run's outcomes from `outcome_rows`, by detector and then plan position) with
    /// its batched outcomes added in their places, parsed exactly (`OutcomeBatchReader`). As with
    /// the view joined to the samples, an outcome whose sample the run does not have is left out.
    static func addingBatchedOutcomes(to rows: [DetectorOutcome], runID: String, db: Database, path: String) throws -> [DetectorOutcome] {
        var positions: [String: Int] = [:]
        let samples = try Row.fetchCursor(db, sql: "SELECT sample_id, position FROM samples WHERE run_id = ?", arguments: [runID])
        while let row = try samples.next() {
            guard let id = row[0] as String?, let position = row[1] as Int? else { continue }
            positions[id] = position
        }
        var placed: [(outcome: DetectorOutcome, position: Int)] = rows.compactMap { o in positions[o.sampleID].map { (o, $0) } }
        try forEachBatchedOutcome(runID: runID, db: db, path: path) { _, detector, o, scratch in
            let outcome = o.outcome(detector: detector, scratch: scratch)
            guard let position = positions[outcome.sampleID] else { return }
            placed.append((outcome, position))
        }
        // Detectors in SQLite's order for text (by bytes), as the query's ORDER BY.
        placed.sort {
            $0.outcome.detector != $1.outcome.detector
                ? $0.outcome.detector.utf8.lexicographicallyPrecedes($1.outcome.detector.utf8) : $0.position < $1.position
        }
        return placed.map(\.outcome)
    }
}

extension RunLedger {
    /// The run's batched outcomes in commit order, each with its lane and detector, parsed
    /// exactly; text values are in `scratch` during the call.
    static func forEachBatchedOutcome(runID: String, db: Database, path: String, values: Bool = true,
                                      _ body: (_ lane: Int64, _ detector: String, _ outcome: BatchedOutcome,
                                               _ scratch: UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let statement = try db.makeStatement(sql: """
            SELECT b.id, l.detector, b.outcomes, b.lane FROM outcome_batches b JOIN outcome_lanes l ON l.lane = b.lane
            WHERE l.run_id = ? ORDER BY b.id
            """)
        try statement.setArguments([runID])
        let h = statement.sqliteStatement
        var reader = OutcomeBatchReader(values: values)
        while true {
            let rc = sqlite3_step(h)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            let id = sqlite3_column_int64(h, 0)
            guard let detector = text(h, 1) else { throw StoreError.corrupt(path: path, what: "outcome batch \(id) has no detector") }
            let lane = sqlite3_column_int64(h, 3)
            let json = UnsafeBufferPointer(start: sqlite3_column_text(h, 2), count: Int(sqlite3_column_bytes(h, 2)))
            try reader.forEach(in: json, path: path, row: "outcome batch \(id) of \(detector)") { o, scratch in
                try body(lane, detector, o, scratch)
            }
        }
    }

    /// Every outcome of the run in storage order, as its detector, its sample id's bytes and its
    /// values (a batched outcome's without its probability and latency: the callers count
    /// statuses, batches and pairs), read from the tables under the `outcomes` view: through the view SQLite 3.40 took
    /// about 2-4 µs an outcome for its JSON functions (16 s to count statuses of 4 M). False when
    /// the file has no such tables (an older ledger opened read-only): then query `outcomes`.
    func scanStoredOutcomes(runID: String, db: Database,
                            _ body: (_ detector: String, _ sampleID: UnsafeBufferPointer<UInt8>, _ value: StoredOutcomeValues) throws -> Void) throws -> Bool {
        guard try Self.outcomesAreBatched(db) else { return false }
        var names: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT lane, detector FROM outcome_lanes WHERE run_id = ?", arguments: [runID]) {
            names[row[0]] = row[1]
        }
        let statement = try db.makeStatement(sql: """
            SELECT o.lane, o.sample_id, \(StoredOutcomeValues.columns) FROM outcome_rows o JOIN outcome_lanes l ON l.lane = o.lane
            WHERE l.run_id = ?
            """)
        try statement.setArguments([runID])
        let h = statement.sqliteStatement
        while true {
            let rc = sqlite3_step(h)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw StoreError.database(path: path, underlying: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            guard let detector = names[sqlite3_column_int64(h, 0)] else { continue }
            let id = UnsafeBufferPointer(start: sqlite3_column_text(h, 1), count: Int(sqlite3_column_bytes(h, 1)))
            try body(detector, id, try StoredOutcomeValues(h, from: 2, path: path))
        }
        try Self.forEachBatchedOutcome(runID: runID, db: db, path: path, values: false) { _, detector, o, scratch in
            try body(detector, BatchedOutcome.bytes(o.sampleID, in: scratch), StoredOutcomeValues(o, scratch: scratch))
        }
        return true
    }
}
