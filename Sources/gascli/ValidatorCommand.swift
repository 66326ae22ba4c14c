import ArgumentParser
import Foundation
import GASRunner
import GASSpec
import GASValidator

struct ValidatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validator",
        abstract: "Run the validator service: scheduled rounds, scores across rounds, weights.",
        discussion: """
            Examples:
              gascli validator start --config configs/validator.yaml
              gascli vali status --config configs/validator.yaml
              gascli v start --config configs/validator.yaml --until-block 7600000

            See docs/validator.md for cadences, the catch-up policy, weights and sinks.
            """,
        subcommands: [ValidatorStartCommand.self, ValidatorStatusCommand.self],
        aliases: ["vali", "v"])
}

struct ValidatorStartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run rounds on their cadences and set weights until SIGTERM or Ctrl-C.",
        discussion: """
            Example:
              gascli validator start --config configs/validator.yaml

            The service keeps its state in <state_dir>/validator.sqlite, runs in <state_dir>/runs/
            and weights in <state_dir>/weights.parquet. SIGTERM or Ctrl-C stops it gracefully: the
            running round commits its current batch and resumes at the next start. Progress goes to
            stderr. Exit status: 0 after a graceful stop or --until-block, 1 on failure, 2 when the
            config is invalid (the problems are also recorded in the state database).
            """)

    @Option(name: .shortAndLong, help: "The validator config (YAML).")
    var config: String

    @Option(help: "Stop once every occurrence up to this block is handled (for trials and tests).")
    var untilBlock: Int64?

    func run() async throws {
        let loaded = try loadValidatorConfig(config)
        for w in loaded.warnings { Diagnostics.printError(w.description) }
        do {
            try await ValidatorLauncher.start(config: loaded, untilBlock: untilBlock) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        } catch {
            Diagnostics.printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct ValidatorStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show schedules, last and next runs, kings, the last weights and recent problems.",
        discussion: """
            Example:
              gascli validator status --config configs/validator.yaml
              gascli validator status --config configs/validator.yaml --json
            """)

    @Option(name: .shortAndLong, help: "The validator config (YAML).")
    var config: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let loaded = try loadValidatorConfig(config)
        do {
            let status = try await ValidatorStatus.collect(config: loaded, clock: Clocks.make(loaded.clock))
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try e.encode(status), as: UTF8.self))
            } else {
                print(status.render())
            }
        } catch {
            Diagnostics.printError("\(error)")
            throw ExitCode(1)
        }
    }
}

/// Loads a config; an invalid one exits 2 with every problem, recorded in the state database too.
func loadValidatorConfig(_ path: String) throws -> ValidatorConfig {
    do {
        return try ValidatorConfigLoader.load(path: path)
    } catch let error as SpecErrors {
        Diagnostics.printError(error.description + "\nFix the validator config and start again.")
        ValidatorConfigProblems.record(configPath: path, errors: error)
        throw ExitCode(2)
    }
}
