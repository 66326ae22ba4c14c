import ArgumentParser
import Foundation
import GASRunner

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an evaluation round from a spec and write SQLite, Parquet and JSON results.",
        discussion: """
            Example:
              gascli run configs/quickstart.yaml
              gascli run configs/offline-eval.yaml --output /tmp/runs --quiet

            Progress goes to stderr; the leaderboard and output paths to stdout.
            Exit status: 0 when the run completed, 1 when it failed, 2 when the spec is invalid.
            """)

    @Argument(help: "Path of the round spec (YAML).")
    var spec: String

    @Option(name: .shortAndLong, help: "Parent folder for the run directory (overrides outputs.directory).")
    var output: String?

    @Flag(name: .shortAndLong, help: "Print only the run directory on success.")
    var quiet = false

    func run() async throws {
        let progress = TerminalProgress(enabled: !quiet)
        Interruption.install {
            "interrupted: outcomes of finished batches are committed in the run's run.sqlite; detector processes were stopped"
        }
        do {
            let summary = try await RoundRunner.run(specPath: spec, options: RunOptions(outputDirectory: output, observer: progress))
            progress.finish()
            if quiet {
                print(summary.runDirectory)
            } else {
                print(SummaryTable.render(summary))
            }
        } catch let error as SpecErrors {
            progress.finish()
            Diagnostics.printError(error.description + "\nFix the spec and run again (gascli validate \(spec) checks it without running).")
            throw ExitCode(2)
        } catch {
            progress.finish()
            Diagnostics.printError("\(error)")
            throw ExitCode(1)
        }
    }
}
