import GASCore

/// Encoding and decoding of the detector line protocol (docs/detector-protocol.md).
/// Pure functions: no I/O, so every rule here is unit-testable.
enum DetectorProtocol {
    static let version = 1

    /// A message the detector may send on stdout.
    enum Message: Equatable {
        case hello(DetectorHello, unknownModalities: [String])
        case response(batch: Int, results: [JSONValue])
    }

    // MARK: Runner → detector

    /// `{"batch":7,"items":[{"id":"…","path":"…","modality":"image","seed":123}]}` plus a newline.
    static func encodeRequest(batch: Int, items: [DetectorInput]) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + items.count * 128)
        w.raw("{\"batch\":")
        w.integer(batch)
        w.raw(",\"items\":[")
        for (i, item) in items.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"id\":")
            w.string(item.sampleID)
            w.raw(",\"path\":")
            w.string(item.path)
            w.raw(",\"modality\":\"")
            switch item.modality {
            case .image: w.raw("image")
            case .video: w.raw("video")
            case .audio: w.raw("audio")
            }
            w.raw("\",\"seed\":")
            w.integer(item.seed)
            w.raw("}")
        }
        w.raw("]}\n")
        return w.bytes
    }

    static let shutdownLine: [UInt8] = Array("{\"shutdown\":true}\n".utf8)

    // MARK: Detector → runner

    /// True for lines that carry nothing but whitespace (they are ignored).
    static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    /// Decodes one stdout line. Throws a human-readable protocol-violation description.
    static func decode(_ line: [UInt8]) throws(ProtocolViolation) -> Message {
        let value: JSONValue
        do {
            value = try MiniJSON.parse(line)
        } catch {
            throw ProtocolViolation("line is not valid JSON (\(error))", line: line)
        }
        guard let pairs = value.objectPairs else {
            throw ProtocolViolation("expected a JSON object, got \(value.typeName)", line: line)
        }
        if let hello = value["hello"] {
            return try decodeHello(hello, line: line)
        }
        if let batch = value["batch"] {
            guard let b = batch.integerValue else {
                throw ProtocolViolation("\"batch\" must be an integer, got \(batch.typeName)", line: line)
            }
            guard let results = value["results"] else {
                throw ProtocolViolation("response has no \"results\" list", line: line)
            }
            guard let list = results.arrayValue else {
                throw ProtocolViolation("\"results\" must be a list, got \(results.typeName)", line: line)
            }
            return .response(batch: b, results: list)
        }
        let keys = pairs.prefix(5).map { "\"\($0.0)\"" }.joined(separator: ", ")
        throw ProtocolViolation("unknown message with keys [\(keys)] (expected \"hello\" or \"batch\"/\"results\")", line: line)
    }

    static func decodeHello(_ hello: JSONValue, line: [UInt8]) throws(ProtocolViolation) -> Message {
        guard hello.objectPairs != nil else {
            throw ProtocolViolation("\"hello\" must be an object, got \(hello.typeName)", line: line)
        }
        guard let proto = hello["protocol"] else {
            throw ProtocolViolation("hello has no \"protocol\" number", line: line)
        }
        guard let version = proto.integerValue else {
            throw ProtocolViolation("hello \"protocol\" must be an integer, got \(proto.typeName)", line: line)
        }
        var name: String? = nil
        if let n = hello["name"], n != .null {
            guard let s = n.stringValue else {
                throw ProtocolViolation("hello \"name\" must be a string, got \(n.typeName)", line: line)
            }
            name = s
        }
        var modalities: [Modality] = []
        var unknown: [String] = []
        if let m = hello["modalities"] {
            guard let list = m.arrayValue else {
                throw ProtocolViolation("hello \"modalities\" must be a list, got \(m.typeName)", line: line)
            }
            for entry in list {
                guard let s = entry.stringValue else {
                    throw ProtocolViolation("hello \"modalities\" must hold strings, got \(entry.typeName)", line: line)
                }
                if let mod = Modality(rawValue: s) {
                    if !modalities.contains(mod) { modalities.append(mod) }
                } else {
                    unknown.append(s)
                }
            }
        } else {
            throw ProtocolViolation("hello has no \"modalities\" list", line: line)
        }
        return .hello(DetectorHello(name: name, protocolVersion: version, modalities: modalities),
                      unknownModalities: unknown)
    }

    /// Validates a `probs` value: 1–3 finite numbers in [0, 1].
    static func validateProbs(_ value: JSONValue) -> DetectorResult {
        guard let list = value.arrayValue else {
            if let d = value.numberValue {
                return .failure(.error, "invalid probs: expected a list of 1-3 numbers, got the bare number \(formatNumber(d))")
            }
            return .failure(.error, "invalid probs: expected a list of 1-3 numbers, got \(value.typeName)")
        }
        guard (1...3).contains(list.count) else {
            return .failure(.error, "invalid probs: expected a list of 1-3 numbers, got \(list.count)")
        }
        var probs: [Double] = []
        probs.reserveCapacity(list.count)
        for (i, v) in list.enumerated() {
            guard let d = v.numberValue else {
                return .failure(.error, "invalid probs: element \(i) is \(v.typeName), not a number")
            }
            if d.isNaN { return .failure(.error, "invalid probs: element \(i) is NaN") }
            guard d >= 0 && d <= 1 else {
                return .failure(.error, "invalid probs: element \(i) is \(formatNumber(d)), outside [0, 1]")
            }
            probs.append(d)
        }
        return .probabilities(probs)
    }

    /// Matches the `results` of a response to the batch, by id.
    /// - Unknown ids are ignored with a warning; duplicate ids: the first wins, with a warning.
    /// - Items that got no result become `.failure(.error, "detector returned no result for this sample")`.
    static func assign(results: [JSONValue], to items: [DetectorInput], batch: Int) -> (results: [DetectorResult], warnings: [String]) {
        var indexByID: [String: [Int]] = [:]
        indexByID.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { indexByID[item.sampleID, default: []].append(i) }
        var out: [DetectorResult?] = Array(repeating: nil, count: items.count)
        var warnings: [String] = []
        var unknownIDs: [String] = []
        var duplicateIDs: [String] = []
        var malformed = 0
        for entry in results {
            guard let id = entry["id"]?.stringValue else {
                malformed += 1
                continue
            }
            guard let indices = indexByID[id] else {
                unknownIDs.append(id)
                continue
            }
            if out[indices[0]] != nil {
                duplicateIDs.append(id)
                continue
            }
            let result: DetectorResult
            if let err = entry["error"], err != .null {
                let text = err.stringValue ?? "(non-string error value: \(err.typeName))"
                result = .failure(.error, "detector reported: \(truncate(text, to: 500))")
            } else if let probs = entry["probs"] {
                result = validateProbs(probs)
            } else {
                result = .failure(.error, "result has neither \"probs\" nor \"error\"")
            }
            for i in indices { out[i] = result }
        }
        if !unknownIDs.isEmpty {
            warnings.append("batch \(batch): ignored \(unknownIDs.count) result(s) with ids not in the batch: \(listPreview(unknownIDs))")
        }
        if !duplicateIDs.isEmpty {
            warnings.append("batch \(batch): ignored \(duplicateIDs.count) duplicate result(s), the first one won: \(listPreview(duplicateIDs))")
        }
        if malformed > 0 {
            warnings.append("batch \(batch): ignored \(malformed) result(s) that were not objects with a string \"id\"")
        }
        let final = out.map { $0 ?? .failure(.error, "detector returned no result for this sample") }
        return (final, warnings)
    }

    // MARK: Helpers

    static func listPreview(_ ids: [String], max: Int = 5) -> String {
        let shown = ids.prefix(max).map { "\"\(escapeForDisplay(Array($0.utf8), limit: 60))\"" }.joined(separator: ", ")
        return ids.count > max ? "\(shown), … (\(ids.count - max) more)" : shown
    }

    static func truncate(_ s: String, to limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(limit)) + "…"
    }

    static func formatNumber(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return "\(d)"
    }

    /// Renders the first `limit` characters of raw bytes on one line: printable ASCII as is,
    /// quotes/backslashes and control characters escaped, other bytes decoded as UTF-8 (invalid → U+FFFD).
    static func escapeForDisplay(_ bytes: [UInt8], limit: Int = 120) -> String {
        var out = ""
        var count = 0
        let text = String(decoding: bytes.prefix(limit * 4), as: UTF8.self)
        for scalar in text.unicodeScalars {
            if count >= limit { out += "…"; break }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return out
    }
}

/// A protocol violation found while decoding a detector line.
struct ProtocolViolation: Error, Equatable, CustomStringConvertible {
    var what: String
    var lineStart: String

    init(_ what: String, line: [UInt8]) {
        self.what = what
        self.lineStart = DetectorProtocol.escapeForDisplay(line, limit: 120)
    }

    var description: String { "protocol violation: \(what), line starts with: \(lineStart)" }
}
