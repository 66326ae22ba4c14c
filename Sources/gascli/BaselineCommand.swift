import ArgumentParser
import Foundation
import GASRunner

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Work with the builtin image baseline.",
        discussion: """
            Example:
              gascli baseline train configs/baseline-training.yaml --output models/image-baseline.safetensors
            """,
        subcommands: [Train.self])

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit the builtin baseline's logistic regression on a spec's samples and write its safetensors.",
            discussion: """
                Example:
                  gascli baseline train configs/baseline-training.yaml --output models/image-baseline.safetensors

                The spec's sources give the training images and labels; its detectors are ignored.
                """)

        @Argument(help: "Round spec whose sources are the training data.")
        var spec: String

        @Option(name: .shortAndLong, help: "Where to write the weights (.safetensors).")
        var output: String

        @Option(help: "Folder for the media store used while planning.")
        var work: String = "runs"

        func run() async throws {
            do {
                let fit = try BaselineTraining.train(specPath: spec, outputPath: output, workDirectory: work)
                print("wrote \(output): \(fit.samples) samples, training accuracy \(String(format: "%.3f", fit.accuracy))")
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
