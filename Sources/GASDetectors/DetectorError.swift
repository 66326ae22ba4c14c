import GASCore

/// Why a detector could not be started. `description` is one actionable sentence.
public enum DetectorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command could not be executed at all (not found, not executable, bad working directory…).
    case launchFailed(name: String, command: [String], reason: String)
    /// The detector did not write its hello line within the startup timeout.
    case startupTimeout(name: String, seconds: Double, stderrTail: String)
    /// The detector exited (or closed stdout) before writing its hello line.
    case exitedDuringStartup(name: String, status: String, stderrTail: String)
    /// The detector wrote something that is not a valid hello line.
    case protocolViolation(name: String, detail: String)
    /// The hello line announced a protocol version this runner does not speak.
    case unsupportedProtocol(name: String, version: Int)
    /// The detector does not handle every modality the run needs.
    case missingModalities(name: String, required: [Modality], offered: [Modality])
    /// The detector configuration itself is unusable (empty command, non-positive timeout…).
    case invalidConfiguration(name: String, reason: String)

    public var description: String {
        switch self {
        case let .launchFailed(name, command, reason):
            return "detector '\(name)' could not be started (command: \(Self.render(command))): \(reason)."
        case let .startupTimeout(name, seconds, tail):
            return "detector '\(name)' did not send its hello line within \(formatSeconds(seconds)); make it print "
                + "{\"hello\": {\"protocol\": 1, ...}} and flush stdout right after it starts, or raise the startup timeout"
                + Self.tailSuffix(tail) + "."
        case let .exitedDuringStartup(name, status, tail):
            return "detector '\(name)' \(status) before sending its hello line; run its command by hand to see why"
                + Self.tailSuffix(tail) + "."
        case let .protocolViolation(name, detail):
            return "detector '\(name)' broke the protocol during startup (\(detail)); its first stdout line must be "
                + "{\"hello\": {\"protocol\": 1, \"name\": ..., \"modalities\": [...]}} and logs belong on stderr."
        case let .unsupportedProtocol(name, version):
            return "detector '\(name)' speaks protocol version \(version), but this runner only speaks version "
                + "\(DetectorProtocol.version); update the detector to protocol 1 (see docs/detector-protocol.md)."
        case let .missingModalities(name, required, offered):
            let missing = required.filter { !offered.contains($0) }
            return "detector '\(name)' does not handle \(missing.map(\.rawValue).joined(separator: ", ")) "
                + "(its hello offers [\(offered.map(\.rawValue).joined(separator: ", "))]); choose a detector for these "
                + "modalities or remove them from the run."
        case let .invalidConfiguration(name, reason):
            return "detector '\(name)' is misconfigured: \(reason)."
        }
    }

    static func render(_ command: [String]) -> String {
        command.map { arg in
            arg.isEmpty || arg.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" }) ? "'\(arg)'" : arg
        }.joined(separator: " ")
    }

    static func tailSuffix(_ tail: String) -> String {
        tail.isEmpty ? "" : "; last stderr: \(tail)"
    }
}

/// `1s`, `1.5s`, `0.25s`.
func formatSeconds(_ s: Double) -> String {
    if s == s.rounded() && abs(s) < 1e9 { return "\(Int(s))s" }
    var text = String(format2: s)
    while text.hasSuffix("0") { text.removeLast() }
    return text + "s"
}

extension String {
    /// Formats with at most 3 decimals without Foundation's String(format:).
    init(format2 value: Double) {
        let scaled = (value * 1000).rounded()
        let whole = Int(scaled / 1000)
        let frac = Int(abs(scaled).truncatingRemainder(dividingBy: 1000))
        var f = String(frac)
        while f.count < 3 { f = "0" + f }
        self = "\(whole).\(f)"
    }
}
