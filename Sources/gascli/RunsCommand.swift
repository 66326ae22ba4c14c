import ArgumentParser
import Foundation
import GASRunner

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the runs under an outputs folder, or show one.",
        discussion: """
            Example:
              gascli runs
              gascli runs show quickstart-20261126-010318-5ed742f7
              gascli runs --output /tmp/runs
            """,
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs: id, status, counts and the best sn34.",
                                                        discussion: "Example:\n  gascli runs list --output runs")

        @Option(name: [.customLong("outputs"), .customLong("output"), .customShort("o")], help: "Outputs folder holding the runs (--output works too).")
        var output: String = "runs"

        func run() throws {
            let entries = try RunIndex.list(outputs: output)
            let shared = RunIndex.sharedLedgerRuns(outputs: output)
            if entries.isEmpty && shared.isEmpty {
                print("no runs under \(output)")
                return
            }
            if !shared.isEmpty {
                // Their status and counts are rows of the shared database, which this listing does not read.
                print("runs whose outcomes are in a PostgreSQL ledger (gascli runs reads run.sqlite only; gascli rescore reads these):")
                for (directory, pointer) in shared { print("  \(pointer.runID)  \(pointer.url)  \(directory)") }
                if entries.isEmpty { return }
            }
            let header = ["run", "status", "started", "samples", "outcomes", "best detector", "sn34"]
            let rows = entries.map { e in
                [e.id, e.status, String(e.startedAt.prefix(19)), "\(e.samples)", "\(e.outcomes)/\(e.samples * e.detectors)",
                 e.best?.detector ?? "-", e.best.map { String(format: "%.4f", $0.sn34) } ?? "-"]
            }
            print(SummaryTable.table(header: header, rows: rows).joined(separator: "\n"))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run: plan, status, per-detector outcomes and scores.",
                                                        discussion: "Example:\n  gascli runs show quickstart-20261126-010318-5ed742f7")

        @Argument(help: ArgumentHelp("Run id (or a unique prefix) or run directory.", valueName: "run"))
        var runArgument: String

        @Option(name: [.customLong("outputs"), .customLong("output"), .customShort("o")], help: "Outputs folder holding the runs (--output works too).")
        var output: String = "runs"

        func run() throws {
            do {
                let d = try RunDetails.load(run: runArgument, outputs: output)
                print("Run \(d.entry.id)")
                print("  status         \(d.entry.status)")
                print("  round          \(d.entry.roundName)")
                print("  spec           \(d.entry.specPath)")
                print("  manifest hash  \(d.entry.manifestHash)")
                print("  started        \(d.entry.startedAt)")
                print("  finished       \(d.entry.finishedAt ?? "-")")
                print("  samples        \(d.entry.samples), outcomes \(d.entry.outcomes)/\(d.entry.samples * d.entry.detectors)")
                let header = ["detector", "adapter", "sn34", "coverage", "ok", "error", "timeout", "skipped"]
                let rows = d.detectors.map { x in
                    [x.name, x.adapter, x.sn34.map { String(format: "%.4f", $0) } ?? "-", x.coverage.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                     "\(x.counts["ok"] ?? 0)", "\(x.counts["error"] ?? 0)", "\(x.counts["timeout"] ?? 0)", "\(x.counts["skipped"] ?? 0)"]
                }
                print(SummaryTable.table(header: header, rows: rows).joined(separator: "\n"))
                if !d.generators.isEmpty {
                    print("  challenges     " + d.challenges.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
                    let gRows = d.generators.map { g in
                        [g.generator, "", String(format: "%.4f", g.reward), String(format: "%.3f", g.passRate), g.foolRate.map { String(format: "%.3f", $0) } ?? "-"]
                    }
                    print(SummaryTable.table(header: ["generator", "", "reward", "pass rate", "fool rate"], rows: gRows).joined(separator: "\n"))
                }
                print("  directory      \(d.entry.directory)")
                if d.entry.status != "completed" { print("  resume with    gascli run \(d.entry.specPath) --resume \(d.entry.id)") }
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
