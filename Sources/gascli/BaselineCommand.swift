import ArgumentParser
import Foundation
import GASRunner

struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Work with the builtin image and audio baselines.",
        discussion: """
            Example:
              gascli baseline train configs/baseline-training.yaml --output models/image-baseline.safetensors
              gascli baseline train configs/audio-baseline-training.yaml --modality audio -o models/audio-baseline.safetensors
            """,
        subcommands: [Train.self])

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit the builtin baseline's logistic regression on a spec's samples and write its safetensors.",
            discussion: """
                Example:
                  gascli baseline train configs/baseline-training.yaml --output models/image-baseline.safetensors
                  gascli baseline train configs/audio-baseline-training.yaml --modality audio -o models/audio-baseline.safetensors

                The spec's sources give the training media and labels; its detectors are ignored.
                """)

        @Argument(help: "Round spec whose sources are the training data.")
        var spec: String

        @Option(name: .shortAndLong, help: "Where to write the weights (.safetensors).")
        var output: String

        @Option(help: "Folder for the media store used while planning.")
        var work: String = "runs"

        @Option(help: "Which baseline to fit: image or audio.")
        var modality: String = "image"

        func run() async throws {
            do {
                let fit = try BaselineTraining.train(specPath: spec, outputPath: output, workDirectory: work, modality: modality)
                print("wrote \(output): \(fit.samples) samples, training accuracy \(String(format: "%.3f", fit.accuracy))")
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
