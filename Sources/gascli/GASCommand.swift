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
              gascli datasets check datasets/catalog.yaml
              gascli d push --image-model detector.zip
              gascli audit export runs/<run-id> -o bundle.tar.gz && gascli audit verify bundle.tar.gz
              gascli report                   # HTML report of the newest run
              gascli validator start --config configs/validator.yaml
              gascli generator start --config configs/generator.yaml
              gascli keys new -o keys/validator.json
            Every command has --help with an example.
            """,
        version: ToolInfo.version,
        subcommands: [RunCommand.self, ValidateCommand.self, PlanCommand.self, RunsCommand.self, RescoreCommand.self,
                      ReplayCommand.self, AuditCommand.self, ReportCommand.self, BaselineCommand.self,
                      DatasetsCommand.self, DiscriminatorCommand.self, ValidatorCommand.self, GeneratorCommand.self,
                      KeysCommand.self, MergeCommand.self, ClusterCommand.self])
}
