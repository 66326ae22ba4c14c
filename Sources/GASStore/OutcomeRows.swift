import GASCore

/// A batch of outcomes laid out as the SQLite ledger's rows: every text value (sample id, detector,
/// status, probabilities as JSON, error) in one byte buffer that the insert binds in place.
///
/// One thread writes a run's ledger, so what it does per row bounds how fast a round commits;
/// encoding a batch where it is produced (on the detector's task, beside the writer) leaves the
/// writer only binding and inserting.
public struct OutcomeRows: Sendable {
    /// A text value's place in `bytes`; `count` -1 is NULL.
    struct Span: Sendable, Equatable {
        var start: Int32
        var count: Int32
        static let null = Span(start: 0, count: -1)
    }

    struct Row: Sendable {
        var sampleID: Span
        var detector: Span
        var status: Span
        var probs: Span
        var error: Span
        var pAI: Double?
        var predicted: Int64?
        var latencyMs: Double
        var batch: Int64
    }

    var bytes: [UInt8] = []
    var rows: [Row] = []

    public var count: Int { rows.count }

    /// A text value as a String (error messages).
    func text(_ span: Span) -> String {
        span.count < 0 ? "NULL" : String(decoding: bytes[Int(span.start)..<Int(span.start + span.count)], as: UTF8.self)
    }

    public init(_ outcomes: [DetectorOutcome]) {
        rows.reserveCapacity(outcomes.count)
        bytes.reserveCapacity(outcomes.count * 64)
        var lastDetector: (name: String, span: Span)?
        // By index, field by field: iterating the outcomes copies each, retaining its strings.
        for i in outcomes.indices {
            // Every row of a detector's batch names the same detector: stored once.
            let detector: Span
            if let last = lastDetector, last.name == outcomes[i].detector {
                detector = last.span
            } else {
                detector = append(outcomes[i].detector)
                lastDetector = (outcomes[i].detector, detector)
            }
            let sampleID = append(outcomes[i].sampleID), status = append(outcomes[i].status.rawValue)
            let probs = outcomes[i].probs.map { appendJSON($0) } ?? .null, error = outcomes[i].error.map { append($0) } ?? .null
            rows.append(Row(sampleID: sampleID, detector: detector, status: status, probs: probs, error: error,
                            pAI: outcomes[i].pAI, predicted: outcomes[i].predicted.map(Int64.init), latencyMs: outcomes[i].latencyMs,
                            batch: Int64(outcomes[i].batch)))
        }
    }

    private mutating func append(_ text: String) -> Span {
        let start = Int32(bytes.count)
        bytes.append(contentsOf: text.utf8)
        return Span(start: start, count: Int32(bytes.count) - start)
    }

    private mutating func appendJSON(_ values: [Double]) -> Span {
        let start = Int32(bytes.count)
        Self.appendJSONArray(values, to: &bytes)
        return Span(start: start, count: Int32(bytes.count) - start)
    }

    /// `[p1,p2,…]`, each value as Swift prints a Double (its shortest round-tripping form): the
    /// ledger's text for a probability list, in SQLite and PostgreSQL alike.
    static func appendJSONArray(_ values: [Double], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: v.description.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
