/// Failures that stop a run, each rendered as one actionable message.
public enum RunnerError: Error, CustomStringConvertible {
    case detectorSetup(name: String, reason: String)
    case outputs(path: String, reason: String)
    case noUsableDetector([String])
    case unknownRun(run: String, hint: String)
    case resumeRefused(run: String, changes: [String])
    case unfinishedRunDiffers(run: String, changes: [String])
    case mediaMissing(samples: [String])
    /// The chosen ledger cannot hold this kind of run or serve this command.
    case ledgerUnsupported(url: String, what: String)
    /// The run was asked to stop (graceful shutdown); its committed batches are kept.
    case stopped
    /// The filesystem under the run directory is full; committed outcomes are kept.
    case diskFull(path: String, detail: String)

    public var description: String {
        switch self {
        case let .detectorSetup(name, reason): "detector '\(name)': \(reason)"
        case let .outputs(path, reason): "cannot write outputs to \(path): \(reason)"
        case let .noUsableDetector(reasons): "no detector could start:\n  " + reasons.joined(separator: "\n  ")
        case let .unknownRun(run, hint): "no run '\(run)' found: \(hint)"
        case let .resumeRefused(run, changes):
            "cannot resume run \(run): its plan differs from the current one:\n  - " + changes.joined(separator: "\n  - ")
                + "\nRestore the original spec, data and detectors to resume, or start a new run with --new."
        case let .unfinishedRunDiffers(run, changes):
            "an unfinished run \(run) of this round exists, but its plan differs from the current one:\n  - " + changes.joined(separator: "\n  - ")
                + "\nResume it with the original inputs (gascli run SPEC --resume \(run)), or start a new run with --new."
        case let .mediaMissing(samples):
            "media of \(samples.count) sample(s) are missing or changed in the media store: " + samples.prefix(10).joined(separator: ", ")
                + (samples.count > 10 ? ", …" : "") + ". Restore the run's media (an audit bundle made with --with-media holds them) or re-run the round."
        case let .ledgerUnsupported(url, what): "the PostgreSQL ledger (\(url)) does not support \(what)"
        case let .diskFull(path, detail):
            "no space left on device while writing the run in \(path) (\(detail)). Outcomes of finished batches are committed in its run.sqlite. "
                + "Free space on that filesystem (df -h \(path)) or move the run's outputs folder to a larger one, then run the same command again: the run resumes where it stopped."
        case .stopped: "the run was stopped between batches; committed batches are kept and the run resumes where it stopped"
        }
    }
}

import GASSpec

/// Spec problems, re-exported so commands depend on the runner alone.
public typealias SpecErrors = GASSpec.SpecErrors
