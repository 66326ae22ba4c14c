import ArgumentParser
import GASRunner

@main
struct GASCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gascli",
        abstract: "Evaluate deepfake detectors on GAS rounds described by YAML specs.",
        discussion: """
            Quick start:
              gascli run configs/quickstart.yaml
              gascli validate configs/quickstart.yaml
              gascli plan configs/quickstart.yaml
              gascli runs
              gascli generator start --config configs/generator.yaml
              gascli keys new -o keys/validator.json
            Every command has --help with an example.
            """,
        version: ToolInfo.version,
        subcommands: [RunCommand.self, ValidateCommand.self, PlanCommand.self, RunsCommand.self, RescoreCommand.self,
                      ReplayCommand.self, BaselineCommand.self, GeneratorCommand.self, KeysCommand.self])
}
