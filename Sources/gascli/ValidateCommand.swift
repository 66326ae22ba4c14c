import ArgumentParser
import GASRunner

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a round spec and its catalogs, reporting every problem at once.",
        discussion: """
            Example:
              gascli validate configs/quickstart.yaml

            Each problem is printed as file:line:column with the field and the fix.
            Exit status: 0 when valid, 2 when there are errors.
            """)

    @Argument(help: "Path of the round spec (YAML).")
    var spec: String

    func run() throws {
        let report = SpecValidation.validate(specPath: spec)
        for w in report.warnings { Diagnostics.printError(w.description) }
        if report.isValid {
            print("\(spec): valid (\(report.detectorCount) detector(s), \(report.datasetCount) catalog dataset(s))")
        } else {
            for e in report.errors { Diagnostics.printError(e.description) }
            Diagnostics.printError("\(report.errors.count) error(s) in \(spec)")
            throw ExitCode(2)
        }
    }
}
