import ArgumentParser
import Foundation
import GASRunner

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of a run, or of scores across runs (--history).",
        discussion: """
            Example:
              gascli report quickstart-20261126-010318-5ed742f7
              gascli report                              # the newest run under ./runs
              gascli report runs/quickstart-20261126-010318-5ed742f7 -o /tmp/quickstart.html
              gascli report --history --output runs      # sn34 per detector across every completed run

            The run report shows the leaderboard per modality with bootstrap intervals, heatmaps of sn34
            per detector x dataset and source, ROC curves, a reliability diagram, confusion matrices,
            generator fool rates, outcome counts with their reasons, and the manifest hash with the
            commands that replay and rescore the run. One file, no external assets: open it in any
            browser, attach it to an issue, archive it with the run. Prints the path it wrote.
            """)

    @Argument(help: ArgumentHelp("Run id (or a unique prefix) or run directory; default: the newest run.", valueName: "run"))
    var runArgument: String?

    @Flag(help: "Scores across all completed runs under the outputs folder instead of one run.")
    var history = false

    @Option(name: [.customShort("o"), .customLong("out")],
            help: ArgumentHelp("Where to write the HTML (default: <run dir>/report.html, or <outputs>/history.html).", valueName: "file"))
    var file: String?

    @Option(name: .customLong("output"), help: ArgumentHelp("Outputs folder holding the runs.", valueName: "dir"))
    var output: String = "runs"

    func validate() throws {
        if history && runArgument != nil {
            throw ValidationError("--history covers every run under --output; leave out the run (\(runArgument!)).")
        }
    }

    func run() throws {
        do {
            let path: String
            if history {
                path = try Reporting.writeHistory(outputs: output, to: file)
            } else {
                let run: String
                if let runArgument {
                    run = runArgument
                } else if let newest = try RunIndex.list(outputs: output).last {
                    run = newest.directory
                } else {
                    Diagnostics.printError("no runs under \(output): run one first (gascli run configs/quickstart.yaml) or pass --output with the folder that holds your runs")
                    throw ExitCode(1)
                }
                path = try Reporting.writeRun(run: run, outputs: output, to: file)
            }
            print(path)
        } catch let error as ExitCode {
            throw error
        } catch {
            Diagnostics.printError("\(error)")
            throw ExitCode(1)
        }
    }
}
