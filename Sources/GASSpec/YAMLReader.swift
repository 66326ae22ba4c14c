import Foundation
import Yams

/// Walks a composed YAML tree, converting values and collecting every problem with its location.
///
/// Why not Codable: `YAMLDecoder` stops at the first error and loses line numbers; users fixing a
/// spec want every problem at once, each with file:line:column and the values that would be valid.
final class YAMLReader {
    let file: String
    private(set) var diagnostics: [SpecDiagnostic] = []

    init(file: String) { self.file = file }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Parses the text; malformed YAML becomes one diagnostic at the problem's position.
    func compose(_ text: String) -> Node? {
        if let v = YAMLBounds.check(text) {
            error(line: v.line, column: v.column, field: "", v.message)
            return nil
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                error(line: 1, column: 1, field: "", "the file is empty; expected a YAML mapping")
                return nil
            }
            return node
        } catch let yamlError as YamlError {
            switch yamlError {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                let extra = context.map { " (\($0.text))" } ?? ""
                error(line: mark.line, column: mark.column, field: "", "malformed YAML: \(problem)\(extra)")
            case let .reader(problem, _, _, _):
                error(line: 1, column: 1, field: "", "unreadable YAML: \(problem)")
            default:
                error(line: 1, column: 1, field: "", "malformed YAML: \(yamlError)")
            }
            return nil
        } catch {
            self.error(line: 1, column: 1, field: "", "malformed YAML: \(error)")
            return nil
        }
    }

    // MARK: Diagnostics

    func error(_ node: Node?, _ field: String, _ message: String) {
        let mark = node?.mark
        error(line: mark?.line ?? 1, column: mark?.column ?? 1, field: field, message)
    }

    /// Problems found in another file (a roster the spec names), reported with the spec's.
    func absorb(_ other: [SpecDiagnostic]) { diagnostics += other }

    func warning(_ node: Node?, _ field: String, _ message: String) {
        let mark = node?.mark
        diagnostics.append(SpecDiagnostic(.warning, file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                          field: field, message: message))
    }

    private func error(line: Int, column: Int, field: String, _ message: String) {
        diagnostics.append(SpecDiagnostic(file: file, line: line, column: column, field: field, message: message))
    }

    // MARK: Structure

    /// A mapping's entries by key. Unknown keys are errors that list the allowed ones and suggest
    /// the closest; keys in `ignored` are accepted with a warning (fields we know but do not use).
    func mapping(_ node: Node, _ field: String, allowed: [String], ignored: [String] = []) -> [String: Node]? {
        guard case let .mapping(map) = node else {
            error(node, field, "expected a mapping with keys \(list(allowed)), found \(describe(node))")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in map {
            guard let key = keyNode.scalar?.string else {
                error(keyNode, field, "keys must be plain strings")
                continue
            }
            let path = field.isEmpty ? key : "\(field).\(key)"
            if allowed.contains(key) {
                if result[key] != nil { error(keyNode, path, "duplicate key '\(key)'") }
                result[key] = value
            } else if ignored.contains(key) {
                warning(keyNode, path, "'\(key)' is not used by gascli and is ignored")
            } else {
                var message = "unknown key '\(key)'"
                if let guess = closest(key, in: allowed) { message += "; did you mean '\(guess)'?" }
                message += " Allowed keys: \(list(allowed))"
                error(keyNode, path, message)
            }
        }
        return result
    }

    func require(_ map: [String: Node], _ key: String, in parent: Node, _ field: String, hint: String = "") -> Node? {
        if let node = map[key] { return node }
        let path = field.isEmpty ? key : "\(field).\(key)"
        error(parent, path, "missing required field '\(key)'" + (hint.isEmpty ? "" : "; \(hint)"))
        return nil
    }

    func sequence(_ node: Node, _ field: String, of what: String) -> [Node]? {
        guard case let .sequence(seq) = node else {
            error(node, field, "expected a list of \(what), found \(describe(node))")
            return nil
        }
        return Array(seq)
    }

    // MARK: Scalars

    func string(_ node: Node, _ field: String) -> String? {
        guard case let .scalar(scalar) = node, !(scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)) else {
            error(node, field, "expected a string, found \(describe(node))")
            return nil
        }
        return scalar.string
    }

    func nonEmptyString(_ node: Node, _ field: String) -> String? {
        guard let s = string(node, field) else { return nil }
        if s.trimmingCharacters(in: .whitespaces).isEmpty {
            error(node, field, "must not be empty")
            return nil
        }
        return s
    }

    func int(_ node: Node, _ field: String, min: Int? = nil, max: Int? = nil) -> Int? {
        guard case let .scalar(scalar) = node, scalar.style == .plain, let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")) else {
            error(node, field, "expected a whole number, found \(describe(node))")
            return nil
        }
        if let min, value < min { error(node, field, "must be at least \(min), found \(value)"); return nil }
        if let max, value > max { error(node, field, "must be at most \(max), found \(value)"); return nil }
        return value
    }

    func uint64(_ node: Node, _ field: String) -> UInt64? {
        guard case let .scalar(scalar) = node, scalar.style == .plain, let value = UInt64(scalar.string) else {
            error(node, field, "expected a non-negative whole number, found \(describe(node))")
            return nil
        }
        return value
    }

    func double(_ node: Node, _ field: String, min: Double? = nil, max: Double? = nil) -> Double? {
        guard case let .scalar(scalar) = node, scalar.style == .plain, let value = Double(scalar.string), value.isFinite else {
            error(node, field, "expected a number, found \(describe(node))")
            return nil
        }
        if let min, value < min { error(node, field, "must be at least \(min), found \(scalar.string)"); return nil }
        if let max, value > max { error(node, field, "must be at most \(max), found \(scalar.string)"); return nil }
        return value
    }

    func bool(_ node: Node, _ field: String) -> Bool? {
        guard case let .scalar(scalar) = node, scalar.style == .plain else {
            error(node, field, "expected true or false, found \(describe(node))")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, field, "expected true or false, found \(describe(node))")
            return nil
        }
    }

    func enumValue<T: RawRepresentable & CaseIterable>(_ node: Node, _ field: String, _ type: T.Type) -> T? where T.RawValue == String {
        guard let raw = string(node, field) else { return nil }
        if let value = T(rawValue: raw) { return value }
        let allowed = T.allCases.map(\.rawValue)
        var message = "'\(raw)' is not one of \(list(allowed))"
        if let guess = closest(raw, in: allowed) { message += "; did you mean '\(guess)'?" }
        error(node, field, message)
        return nil
    }

    func stringList(_ node: Node, _ field: String) -> [String]? {
        if case .scalar = node, let single = string(node, field) { return [single] }
        guard let items = sequence(node, field, of: "strings") else { return nil }
        var result: [String] = []
        for (i, item) in items.enumerated() {
            if let s = string(item, "\(field)[\(i)]") { result.append(s) }
        }
        return result
    }

    func enumList<T: RawRepresentable & CaseIterable>(_ node: Node, _ field: String, _ type: T.Type) -> [T]? where T.RawValue == String {
        guard let items = sequence(node, field, of: "values") else { return nil }
        var result: [T] = []
        for (i, item) in items.enumerated() {
            if let v = enumValue(item, "\(field)[\(i)]", type) { result.append(v) }
        }
        return result
    }

    /// Durations as `90`, `90s`, `500ms`, `2m`, `1h`, `7d` -> seconds.
    func duration(_ node: Node, _ field: String) -> Double? {
        guard case let .scalar(scalar) = node else {
            error(node, field, "expected a duration like 30s, 500ms or 2m, found \(describe(node))")
            return nil
        }
        if let seconds = Duration.parseSeconds(scalar.string), seconds > 0 { return seconds }
        error(node, field, "expected a positive duration like 30s, 500ms or 2m, found '\(scalar.string)'")
        return nil
    }

    // MARK: Helpers

    func describe(_ node: Node) -> String {
        switch node {
        case let .scalar(s):
            if s.style == .plain {
                if s.string.isEmpty || s.string == "~" || s.string == "null" { return "null" }
                if Int(s.string) != nil { return "the number \(s.string)" }
                if Double(s.string) != nil { return "the number \(s.string)" }
                if ["true", "false"].contains(s.string.lowercased()) { return "the boolean \(s.string)" }
            }
            // Long values are cut: a message must stay one readable line.
            return s.string.count > 80 ? "the string '\(s.string.prefix(60))…' (\(s.string.count) characters)" : "the string '\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func list(_ values: [String]) -> String { values.joined(separator: ", ") }

    /// The allowed value within edit distance 2, for "did you mean" hints.
    func closest(_ word: String, in candidates: [String]) -> String? {
        candidates
            .map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
            .filter { $0.1 <= max(2, word.count / 3) }
            .min { $0.1 < $1.1 }?.0
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1,
                                       previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Human durations used in specs.
public enum Duration {
    public static func parseSeconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            if let v = Double(t.dropLast(suffix.count)), v.isFinite { return v * factor }
        }
        if let v = Double(t), v.isFinite { return v }
        return nil
    }
}
