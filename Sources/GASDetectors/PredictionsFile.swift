import Foundation
import GASCore

/// Why a predictions file could not be used. `description` names the file, line and column.
public enum PredictionsFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case missingColumns(file: String, header: [String])
    case malformedRow(file: String, line: Int, reason: String)
    /// `duplicates` maps each repeated sample id to every line it appears on (at most 5 ids are kept).
    case duplicateSampleIDs(file: String, duplicates: [DuplicateID], totalDuplicatedIDs: Int)
    case badValue(file: String, line: Int, column: String, columnNumber: Int, value: String, reason: String)

    public struct DuplicateID: Sendable, Equatable {
        public var sampleID: String
        public var lines: [Int]
    }

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read predictions file \(file): \(reason)."
        case let .missingColumns(file, header):
            return "predictions file \(file) needs a header with 'sample_id' and one of 'probs', 'prob_ai' or 'p_ai' "
                + "(found: \(header.map { "'\($0)'" }.joined(separator: ", "))); fix the first line of the file."
        case let .malformedRow(file, line, reason):
            return "predictions file \(file), line \(line): \(reason)."
        case let .duplicateSampleIDs(file, duplicates, total):
            let shown = duplicates.map { d in
                "'\(d.sampleID)' on lines \(d.lines.map(String.init).joined(separator: ", "))"
            }.joined(separator: "; ")
            let more = total > duplicates.count ? " (and \(total - duplicates.count) more duplicated ids)" : ""
            return "predictions file \(file) has more than one row for the same sample: \(shown)\(more); keep one row per sample_id."
        case let .badValue(file, line, column, number, value, reason):
            let shown = value.count > 60 ? String(value.prefix(60)) + "…" : value
            return "predictions file \(file), line \(line), column \(number) '\(column)': \(reason) (value: \"\(shown)\")."
        }
    }
}

/// Parses a predictions CSV into `sample_id → probabilities`.
///
/// - Header (first record; names trimmed, case-insensitive): `sample_id` plus a probability column:
///   `probs` (a list such as `"[0.2, 0.8]"` with 1–3 numbers; quote it, it contains commas), else
///   `prob_ai`, else `p_ai` (one number, p(AI)). Other columns are ignored.
/// - RFC 4180 quoting (`""` inside quoted fields, quoted fields may span lines), LF or CRLF line
///   ends, an optional UTF-8 byte order mark, blank lines skipped.
/// - Every row must have exactly as many fields as the header; every probability must be a finite
///   number in [0, 1]; a sample id may appear only once.
/// Line numbers in errors are 1-based physical lines (the header is line 1).
public func parsePredictionsCSV(text: String, file: String) throws(PredictionsFileError) -> [String: [Double]] {
    var records: [(line: Int, fields: [String])] = []
    var bytes = Array(text.utf8)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    try CSVReader.read(bytes, file: file) { line, fields in records.append((line, fields)) }

    guard let header = records.first else {
        throw .missingColumns(file: file, header: [])
    }
    let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    guard let idColumn = names.firstIndex(of: "sample_id") else {
        throw .missingColumns(file: file, header: names)
    }
    let probColumn: (index: Int, isList: Bool)
    if let i = names.firstIndex(of: "probs") {
        probColumn = (i, true)
    } else if let i = names.firstIndex(of: "prob_ai") {
        probColumn = (i, false)
    } else if let i = names.firstIndex(of: "p_ai") {
        probColumn = (i, false)
    } else {
        throw .missingColumns(file: file, header: names)
    }
    let probName = names[probColumn.index]

    var table: [String: [Double]] = [:]
    table.reserveCapacity(records.count)
    var firstLine: [String: Int] = [:]
    var duplicateLines: [String: [Int]] = [:]
    var duplicateOrder: [String] = []

    for (line, fields) in records.dropFirst() {
        guard fields.count == names.count else {
            var reason = "the row has \(fields.count) field\(fields.count == 1 ? "" : "s") but the header has \(names.count)"
            if fields.count > names.count {
                reason += "; quote fields that contain commas, e.g. \"[0.2, 0.8]\""
            }
            throw .malformedRow(file: file, line: line, reason: reason)
        }
        let id = fields[idColumn].trimmingCharacters(in: .whitespaces)
        if id.isEmpty {
            throw .badValue(file: file, line: line, column: "sample_id", columnNumber: idColumn + 1, value: fields[idColumn],
                            reason: "empty sample id")
        }
        let raw = fields[probColumn.index]
        let probs: [Double]
        do {
            probs = try parseProbabilities(raw, isList: probColumn.isList)
        } catch {
            throw .badValue(file: file, line: line, column: probName, columnNumber: probColumn.index + 1, value: raw,
                            reason: error.reason)
        }
        if let first = firstLine[id] {
            if duplicateLines[id] == nil {
                duplicateLines[id] = [first]
                duplicateOrder.append(id)
            }
            duplicateLines[id]!.append(line)
            continue
        }
        firstLine[id] = line
        table[id] = probs
    }
    if !duplicateOrder.isEmpty {
        let shown = duplicateOrder.prefix(5).map { PredictionsFileError.DuplicateID(sampleID: $0, lines: duplicateLines[$0]!) }
        throw .duplicateSampleIDs(file: file, duplicates: shown, totalDuplicatedIDs: duplicateOrder.count)
    }
    return table
}

struct ProbabilityParseError: Error { var reason: String }

/// `0.7` (one number) or `[0.2, 0.8]` (1–3 numbers; brackets optional, separated by commas,
/// semicolons or spaces); every number finite and in [0, 1].
func parseProbabilities(_ raw: String, isList: Bool) throws(ProbabilityParseError) -> [Double] {
    var text = raw.trimmingCharacters(in: .whitespaces)
    if text.isEmpty { throw ProbabilityParseError(reason: "empty value") }
    var parts: [Substring]
    if isList {
        if text.hasPrefix("[") || text.hasSuffix("]") {
            guard text.hasPrefix("["), text.hasSuffix("]"), text.count >= 2 else {
                throw ProbabilityParseError(reason: "unbalanced brackets")
            }
            text = String(text.dropFirst().dropLast())
        }
        parts = text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " || $0 == "\t" })
        guard (1...3).contains(parts.count) else {
            throw ProbabilityParseError(reason: "expected a list of 1-3 probabilities, got \(parts.count) values")
        }
    } else {
        parts = [Substring(text)]
    }
    var out: [Double] = []
    for (i, part) in parts.enumerated() {
        let where_ = isList ? " (element \(i + 1))" : ""
        let token = part.trimmingCharacters(in: .whitespaces)
        guard let d = Double(token) else {
            throw ProbabilityParseError(reason: "'\(token)' is not a number\(where_)")
        }
        guard d.isFinite else { throw ProbabilityParseError(reason: "'\(token)' is not a finite number\(where_)") }
        guard d >= 0 && d <= 1 else { throw ProbabilityParseError(reason: "\(token) is outside [0, 1]\(where_)") }
        out.append(d)
    }
    return out
}

/// A small RFC 4180 reader over UTF-8 bytes.
enum CSVReader {
    static func read(_ bytes: [UInt8], file: String,
                     _ onRecord: (_ line: Int, _ fields: [String]) -> Void) throws(PredictionsFileError) {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var quoteStartLine = 1
        var i = 0
        let n = bytes.count
        var fieldWasQuoted = false

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() {
            endField()
            // Skip blank lines (a single empty, unquoted field).
            if !(fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty) {
                onRecord(recordLine, fields)
            }
            fields.removeAll(keepingCapacity: true)
        }

        while i < n {
            let c = bytes[i]
            if inQuotes {
                if c == quote {
                    if i + 1 < n && bytes[i + 1] == quote {
                        field.append(quote)
                        i += 2
                        continue
                    }
                    inQuotes = false
                    i += 1
                    continue
                }
                if c == lf { line += 1 }
                if c == cr && !(i + 1 < n && bytes[i + 1] == lf) { line += 1 }
                field.append(c)
                i += 1
                continue
            }
            switch c {
            case quote:
                if field.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) && !fieldWasQuoted {
                    field.removeAll(keepingCapacity: true)
                    inQuotes = true
                    fieldWasQuoted = true
                    quoteStartLine = line
                } else {
                    field.append(c)  // a stray quote inside an unquoted field is kept literally
                }
                i += 1
            case comma:
                endField()
                i += 1
            case cr:
                endRecord()
                i += (i + 1 < n && bytes[i + 1] == lf) ? 2 : 1
                line += 1
                recordLine = line
            case lf:
                endRecord()
                i += 1
                line += 1
                recordLine = line
            default:
                field.append(c)
                i += 1
            }
        }
        if inQuotes {
            throw .malformedRow(file: file, line: quoteStartLine, reason: "a quoted field is never closed (missing \")")
        }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
    }
}

/// A detector whose answers come from a table of precomputed predictions (a CSV file, or any
/// other source that produces `sample_id → probabilities`, such as a Parquet reader).
public actor PredictionsFileDetector: DetectorAdapter {
    public nonisolated let name: String
    public nonisolated var measuresLatency: Bool { false }
    public nonisolated var readsMedia: Bool { false }
    private let csvPath: String?
    private let sourceName: String
    private var table: PredictionTable?
    /// Where the last lookup found its id (batches come in sample-id order).
    private var cursor = 0

    /// Predictions read from a CSV file when `start()` is called (see `parsePredictionsCSV`).
    public init(name: String, csvPath: String) {
        self.name = name
        self.csvPath = csvPath
        self.sourceName = csvPath
        self.table = nil
    }

    /// Predictions from an already parsed table; `sourceName` is used in messages.
    public init(name: String, table: [String: [Double]], sourceName: String = "the predictions table") {
        self.init(name: name, table: PredictionTable(table), sourceName: sourceName)
    }

    /// Predictions from a compact table (what large Parquet files are read into).
    public init(name: String, table: PredictionTable, sourceName: String = "the predictions table") {
        self.name = name
        self.csvPath = nil
        self.sourceName = sourceName
        self.table = table
    }

    public func start() async throws -> DetectorHello {
        try load()
        return DetectorHello(name: name, protocolVersion: 1, modalities: Modality.allCases)
    }

    public func predict(_ batch: [DetectorInput]) async -> [DetectorResult] {
        if table == nil {
            do {
                try load()
            } catch {
                let text = "\(error)"
                return batch.map { _ in .failure(.error, text) }
            }
        }
        let t = table ?? PredictionTable()
        var cursor = self.cursor
        defer { self.cursor = cursor }
        return batch.map { input in
            guard let probs = t.probabilities(for: input.sampleID, cursor: &cursor) else {
                return .failure(.skipped, "no prediction for this sample in \(sourceName)")
            }
            guard (1...3).contains(probs.count), probs.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                return .failure(.error, "invalid prediction in \(sourceName): \(probs)")
            }
            return .probabilities(probs)
        }
    }

    public func stop() async {}

    /// Number of samples with a prediction (nil before the file is read).
    public var predictionCount: Int? { table?.count }

    private func load() throws {
        if table != nil { return }
        guard let path = csvPath else { table = PredictionTable(); return }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PredictionsFileError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        table = PredictionTable(try parsePredictionsCSV(text: String(decoding: data, as: UTF8.self), file: path))
    }
}
