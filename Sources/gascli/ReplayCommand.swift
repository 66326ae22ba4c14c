import ArgumentParser
import Foundation
import GASRunner

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute a run's frozen plan and compare every prediction with the stored one.",
        discussion: """
            Example:
              gascli replay quickstart-20261126-010318-5ed742f7
              gascli replay runs/offline-eval-20261126-011045-0e0efe2a --tolerance 1e-6

            The media must still be in the media store with the same bytes (missing or changed
            samples are named). Exit status 0 when everything matches, 1 when anything differs.
            """)

    @Argument(help: ArgumentHelp("Run id (or a unique prefix) or run directory.", valueName: "run"))
    var runArgument: String

    @Option(name: [.customLong("outputs"), .customLong("output"), .customShort("o")], help: "Outputs folder holding the runs (--output works too).")
    var output: String = "runs"

    @Option(help: "Largest |p_ai difference| still counted as equal (for nondeterministic detectors).")
    var tolerance: Double = 0

    @Option(help: "How many differing samples to list.")
    var show: Int = 10

    func run() async throws {
        let progress = TerminalProgress(enabled: true)
        do {
            let r = try await Replay.replay(run: runArgument, outputs: output, tolerance: tolerance, observer: progress)
            progress.finish()
            for note in r.notes { print("note: \(note)") }
            print("Replayed \(r.runID): \(r.compared) outcomes compared, \(r.differences.count) differ (tolerance \(tolerance))")
            for d in r.differences.prefix(show) {
                print("  \(d.detector)  \(d.sampleID)  \(d.uri)\n      stored:   \(d.stored)\n      replayed: \(d.replayed)")
            }
            for (a, b) in zip(r.storedScores, r.replayedScores) {
                print("  \(a.detector): stored sn34 \(String(format: "%.6f", a.sn34)), replayed \(String(format: "%.6f", b.sn34))")
            }
            print(r.matches ? "MATCH" : "DIFFERENT")
            if !r.matches { throw ExitCode(1) }
        } catch let error as ExitCode {
            throw error
        } catch {
            progress.finish()
            Diagnostics.printError("\(error)")
            throw ExitCode(1)
        }
    }
}
