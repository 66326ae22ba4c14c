import ArgumentParser
import Foundation
import GASRunner

struct RescoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore",
        abstract: "Recompute every metric of a run from its stored predictions alone.",
        discussion: """
            Example:
              gascli rescore quickstart-20261126-010318-5ed742f7
              gascli rescore runs/quickstart-20261126-010318-5ed742f7 --scoring other-alpha-beta.yaml

            Without --scoring, the run's own scoring rule is used and the result is compared with the
            stored metrics (exit 1 if anything differs). With --scoring FILE (a YAML 'scoring:' block:
            rule, alpha, beta, on_failure) the stored metrics are left untouched and the new numbers printed.
            A run whose outcomes are in a shared PostgreSQL ledger is read from that database (its run
            directory's ledger.json says which; the password comes from PGPASSWORD).
            """)

    @Argument(help: ArgumentHelp("Run id (or a unique prefix) or run directory.", valueName: "run"))
    var runArgument: String

    @Option(name: [.customLong("outputs"), .customLong("output"), .customShort("o")], help: "Outputs folder holding the runs (--output works too).")
    var output: String = "runs"

    @Option(help: "A YAML file with a scoring block to score with instead of the run's own.")
    var scoring: String?

    @Flag(help: "Print the scores as JSON.")
    var json = false

    func run() async throws {
        do {
            let r = try await Rescoring.rescore(run: runArgument, outputs: output, scoringFile: scoring)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                FileHandle.standardOutput.write(try encoder.encode(r.scores))
                print()
            } else {
                print("Rescored \(r.runID) with alpha \(r.rule.parameters.alpha), beta \(r.rule.parameters.beta), on_failure \(r.rule.onFailure.rawValue)")
                let rows = r.scores.enumerated().map { i, s in
                    ["\(i + 1)", s.detector, String(format: "%.6f", s.sn34), String(format: "%.4f", s.overall.accuracy),
                     String(format: "%.4f", s.overall.mcc), String(format: "%.6f", s.overall.brier)]
                }
                print(SummaryTable.table(header: ["rank", "detector", "sn34", "accuracy", "mcc", "brier"], rows: rows).joined(separator: "\n"))
            }
            if r.usedStoredRule {
                if r.differences.isEmpty {
                    Diagnostics.printError("stored metrics reproduced exactly from the predictions")
                } else {
                    Diagnostics.printError("stored metrics differ from the recomputed ones:\n  " + r.differences.prefix(20).joined(separator: "\n  "))
                    throw ExitCode(1)
                }
            }
        } catch {
            throw Diagnostics.exitCode(for: error)
        }
    }
}
