/// Failures that stop a run, each rendered as one actionable message.
public enum RunnerError: Error, CustomStringConvertible {
    case detectorSetup(name: String, reason: String)
    case outputs(path: String, reason: String)
    case noUsableDetector([String])

    public var description: String {
        switch self {
        case let .detectorSetup(name, reason): "detector '\(name)': \(reason)"
        case let .outputs(path, reason): "cannot write outputs to \(path): \(reason)"
        case let .noUsableDetector(reasons): "no detector could start:\n  " + reasons.joined(separator: "\n  ")
        }
    }
}

import GASSpec

/// Spec problems, re-exported so commands depend on the runner alone.
public typealias SpecErrors = GASSpec.SpecErrors
