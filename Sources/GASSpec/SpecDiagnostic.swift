/// One problem found in a YAML file, pointing at the exact place and saying how to fix it.
public struct SpecDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var file: String
    public var line: Int
    public var column: Int
    /// The field path, e.g. `detectors[1].batch_size`.
    public var field: String
    public var message: String

    public init(_ severity: Severity = .error, file: String, line: Int, column: Int, field: String, message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        let place = field.isEmpty ? "" : "\(field): "
        return "\(file):\(line):\(column): \(severity.rawValue): \(place)\(message)"
    }
}

/// All the problems of one file; loading fails with every error at once, not the first one.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [SpecDiagnostic]
    public init(_ diagnostics: [SpecDiagnostic]) { self.diagnostics = diagnostics }

    public var errors: [SpecDiagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        let count = errors.count
        let header = "\(count) error\(count == 1 ? "" : "s") found:"
        return ([header] + diagnostics.map { "  " + $0.description }).joined(separator: "\n")
    }
}
