import ArgumentParser
import Foundation
import GASRunner

struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the finished shards of a sharded run into one run.",
        discussion: """
            Example:
              gascli run configs/quickstart.yaml --shard 0/2 --run-id q-sharded
              gascli run configs/quickstart.yaml --shard 1/2 --run-id q-sharded
              gascli merge runs/q-sharded
              gascli merge runs/q-sharded --part /scratch/node3/q-sharded/shards/1-of-2

            Reads every part under <run dir>/shards/ (or only the --part directories), checks that
            they belong to the run's manifest, have one shard count, none twice, none missing and all
            finished, then writes run.sqlite, predictions.parquet, metrics.parquet and results.json
            into the run directory: the same predictions, metrics and scores an unsharded run of the
            spec writes. A refusal names the parts or shards at fault and the command that fixes it.
            The parts are kept, so merging again is safe.
            Parts of shards run with a PostgreSQL ledger (--ledger) hold no run.sqlite: merge counts
            their outcomes in that database (the URL in shard.json, password from PGPASSWORD), reads
            the run from it and writes ledger.json instead of run.sqlite.
            Exit status: 0 when merged, 1 when refused or failed.
            """)

    @Argument(help: ArgumentHelp("The sharded run's directory (<outputs>/<run id>).", valueName: "run-dir"))
    var runDirectory: String

    @Option(name: .customLong("part"), help: "A shard part directory to merge instead of those under <run-dir>/shards/ (repeatable).")
    var parts: [String] = []

    @Flag(name: .shortAndLong, help: "Print only the run directory on success.")
    var quiet = false

    func run() async throws {
        do {
            let summary = try await ShardMerge.merge(runDirectory: runDirectory, parts: parts)
            print(quiet ? summary.runDirectory : SummaryTable.render(summary))
        } catch {
            Diagnostics.printError("\(error)")
            throw ExitCode(1)
        }
    }
}
