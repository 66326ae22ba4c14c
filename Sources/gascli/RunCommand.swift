import ArgumentParser
import Foundation
import GASBench
import GASCore
import GASRunner

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an evaluation round from a spec and write SQLite, Parquet and JSON results.",
        discussion: """
            Example:
              gascli run configs/quickstart.yaml
              gascli run configs/offline-eval.yaml --output /tmp/runs --quiet
              gascli run configs/quickstart.yaml --resume quickstart-20261126-010318-5ed742f7
              gascli run configs/quickstart.yaml --quiet --json | jq '.modality_leaderboards'
              gascli run configs/quickstart.yaml --shard 0/4 --run-id q-sharded   # then 1/4..3/4, gascli merge
              PGPASSWORD=... gascli run configs/quickstart.yaml --ledger postgres://gas@db.example:5432/gas

            Outcomes are committed batch by batch. Running the same spec again continues the newest
            unfinished run of the round (after a crash, kill -9 or Ctrl-C) when its plan is unchanged,
            and refuses, saying what changed, when it is not; --new starts a fresh run instead. A resumed
            run takes its recorded plan back from its ledger when the spec, catalogs, dataset files
            (size, times, inode) and detectors are unchanged, instead of reading every sample again;
            --replan reads the data again.
            Progress goes to stderr (live bars on a terminal, plain lines in a log); the leaderboard,
            the winner per modality and the output paths to stdout. For scripts: --quiet prints only
            the run directory and no progress; --json prints results.json to stdout instead of the table.
            With --shard I/N (I from 0) only the I-th of N equal ranges of the plan's samples is
            evaluated, by every detector, into <run dir>/shards/I-of-N/; all shards of one spec share
            the run directory (named by --run-id, or <round>-<manifest hash>-sharded), and
            `gascli merge <run dir>` combines them. Rerunning a shard resumes its part.
            --ledger (or GASCLI_LEDGER_URL, or outputs.ledger in the spec) commits outcomes into a shared
            PostgreSQL database instead of the run directory's run.sqlite, so processes on several
            machines can commit one run; the password comes from PGPASSWORD or the URL and is never
            printed. With --shard too, every shard commits into that one run and merge reads it from
            the database. See docs/postgres-ledger.md.
            Exit status: 0 when the run completed, 1 when it failed, 2 when the spec, --shard or --ledger is invalid.
            """)

    @Argument(help: "Path of the round spec (YAML).")
    var spec: String

    @Option(name: .shortAndLong, help: "Parent folder for the run directory (overrides outputs.directory).")
    var output: String?

    @Option(help: "Resume this run (an id or a run directory) instead of choosing automatically.")
    var resume: String?

    @Flag(name: .customLong("new"), help: "Start a new run even if an unfinished run of this round exists.")
    var forceNew = false

    @Option(parsing: .unconditional, help: "Evaluate only shard I of N (I from 0 to N-1), e.g. --shard 0/4; combine the parts with gascli merge.")
    var shard: String?

    @Option(name: .customLong("run-id"), help: "Name of the run (its directory under the outputs folder): resumed when it exists with the same plan.")
    var runID: String?

    @Option(help: ArgumentHelp("Commit outcomes into this ledger: postgres://user@host:5432/database, or sqlite (the run directory's run.sqlite). Overrides GASCLI_LEDGER_URL and outputs.ledger.", valueName: "url"))
    var ledger: String?

    @Flag(help: "Plan from the data even when resuming a run whose spec, catalogs, dataset files and detectors are unchanged (by default its recorded plan is reused).")
    var replan = false

    @Flag(name: .shortAndLong, help: "No progress; print only the run directory on success (with --json: only the JSON).")
    var quiet = false

    @Flag(help: "Print results.json (leaderboards, every metric, counts) to stdout instead of the table.")
    var json = false

    func run() async throws {
        defer { PeakMemory.recordIfRequested() }
        let ledgerURL: LedgerURL?
        do {
            ledgerURL = try (ledger ?? ProcessInfo.processInfo.environment["GASCLI_LEDGER_URL"].flatMap { $0.isEmpty ? nil : $0 }).map { try LedgerURL.parse($0) }
        } catch {
            Diagnostics.printError((ledger == nil ? "GASCLI_LEDGER_URL: " : "--ledger: ") + "\(error)")
            throw ExitCode(2)
        }
        let progress = TerminalProgress(enabled: !quiet)
        Interruption.install {
            progress.finish()  // the last counts stay on screen; no redraw after the message
            return "interrupted: outcomes of finished batches are committed in the run's ledger; detector processes were stopped"
        }
        if let shard {
            try await runShard(shard, progress: progress, ledger: ledgerURL)
            return
        }
        do {
            var options = RunOptions(outputDirectory: output, resume: resume, forceNew: forceNew, observer: progress, runID: runID, ledger: ledgerURL)
            options.replan = replan
            let summary = try await RoundRunner.run(specPath: spec, options: options)
            progress.finish()
            if json {
                let path = (summary.runDirectory as NSString).appendingPathComponent("results.json")
                guard let data = FileManager.default.contents(atPath: path) else {
                    Diagnostics.printError("the run finished but \(path) cannot be read")
                    throw ExitCode(1)
                }
                FileHandle.standardOutput.write(data)
                print()
            } else if quiet {
                print(summary.runDirectory)
            } else {
                print(SummaryTable.render(summary))
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            progress.finish()
            throw failure(error)
        }
    }

    /// The exit code for a run that failed, its message printed (spec errors with how to check the spec).
    func failure(_ error: any Error) -> ExitCode {
        if let errors = error as? SpecErrors {
            Diagnostics.printError(errors.description + "\nFix the spec and run again (gascli validate \(spec) checks it without running).")
            return ExitCode(2)
        }
        return Diagnostics.exitCode(for: error)
    }

    /// `--shard I/N`: one part of the round; prints the part directory and how to merge.
    func runShard(_ text: String, progress: TerminalProgress, ledger: LedgerURL?) async throws {
        let shard: Shard
        do { shard = try Shard.parse(text) } catch {
            Diagnostics.printError("\(error)")
            throw ExitCode(2)
        }
        if resume != nil || forceNew || json {
            Diagnostics.printError("--shard cannot be combined with --resume, --new or --json: a shard resumes its own part when run again, and has no results.json until gascli merge")
            throw ExitCode(2)
        }
        do {
            let summary = try await ShardRunner.run(specPath: spec, shard: shard,
                                                    options: RunOptions(outputDirectory: output, observer: progress, runID: runID, ledger: ledger))
            progress.finish()
            if quiet {
                print(summary.partDirectory)
                return
            }
            for w in summary.warnings { print("warning: \(w)") }
            let counts = summary.outcomeCounts.keys.sorted().map { "\($0) \(summary.outcomeCounts[$0] ?? 0)" }.joined(separator: ", ")
            print("shard \(summary.shard) of run \(summary.runID)\(summary.resumed ? " (resumed)" : ""): \(summary.samples) of \(summary.totalSamples) samples x \(summary.detectors) detectors (\(counts)) in \(String(format: "%.1f", summary.durationSeconds)) s")
            print("part:     \(summary.partDirectory)")
            print("manifest: \(summary.manifestHash)")
            print("when every shard has finished: gascli merge \(summary.runDirectory)")
        } catch {
            progress.finish()
            throw failure(error)
        }
    }
}
