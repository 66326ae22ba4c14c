import ArgumentParser
import Foundation
import GASRunner

struct DiscriminatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discriminator",
        abstract: "Validate and register GAS detector packages, and follow their results.",
        discussion: """
            Example:
              gascli d push --image-model my_detector.zip
              gascli d list
              gascli d perf my-detector --outputs runs

            A package is what miners submit: model_config.yaml, model.py and *.safetensors weights.
            Specs run a registered package with `adapter: package` and `model: <name or hash prefix>`.
            """,
        subcommands: [DiscriminatorPushCommand.self, DiscriminatorListCommand.self, DiscriminatorPerfCommand.self],
        aliases: ["d"])
}

struct RegistryOption: ParsableArguments {
    @Option(help: "Model registry folder (default: GASCLI_REGISTRY, else ./registry).")
    var registry: String?
}

struct DiscriminatorPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Validate GAS model packages and register them in the model registry.",
        discussion: """
            Example:
              gascli d push --image-model detector.zip
              gascli d push --image-model img.zip --audio-model aud.zip --registry ~/gas-registry

            Checks, before anything is stored: the zip's entries (no '..', absolute paths or links,
            entry-count, size and compression-ratio limits against zip bombs, --max-size for the
            package), model_config.yaml (name, modality matching the flag, dtype, preprocessing,
            model.num_classes and weights_file), model.py, no pickles or native code, and every
            safetensors header (JSON object, known dtypes, shapes and offsets that tile the data
            exactly). The content hash is sha256 over the sorted (path, sha256) list of the files.
            Exit status: 0 when every package is registered (or already was), 1 when one is rejected.
            """)

    @Option(help: "Image detector package (.zip, or a folder).")
    var imageModel: String?
    @Option(help: "Video detector package (.zip, or a folder).")
    var videoModel: String?
    @Option(help: "Audio detector package (.zip, or a folder).")
    var audioModel: String?
    @OptionGroup var registryOption: RegistryOption
    @Option(help: "Largest package accepted, in MB.")
    var maxSize: Int = 2048

    func validate() throws {
        if imageModel == nil && videoModel == nil && audioModel == nil {
            throw ValidationError("give at least one of --image-model, --video-model, --audio-model")
        }
    }

    func run() throws {
        let registry: DiscriminatorRegistry
        do {
            registry = try DiscriminatorRegistry(root: registryOption.registry)
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode(1)
        }
        var failed = false
        for (modality, path) in [("image", imageModel), ("video", videoModel), ("audio", audioModel)] {
            guard let path else { continue }
            do {
                let r = try registry.push(path: path, modality: modality, maxMegabytes: maxSize)
                for w in r.warnings { Diagnostics.printError("warning: \(path): \(w)") }
                print("\(r.added ? "registered" : "already registered") \(r.name) (\(modality)) \(r.contentHash)")
                print("  \(r.files) files, \(r.bytes) bytes, \(r.tensors) tensors, \(r.parameters) parameters -> \(r.directory)")
            } catch {
                Diagnostics.printError("error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct DiscriminatorListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the registered model packages.",
        discussion: "Example:\n  gascli d list --registry registry")

    @OptionGroup var registryOption: RegistryOption

    func run() throws {
        let models = try DiscriminatorRegistry(root: registryOption.registry).list()
        if models.isEmpty { print("no models registered; push one with gascli d push --image-model FILE.zip"); return }
        let rows = models.map { [$0.name, $0.modality, $0.version ?? "-", String($0.contentHash.prefix(16)), String($0.bytes), $0.pushedAt] }
        for line in SummaryTable.table(header: ["name", "modality", "version", "content hash", "bytes", "pushed"], rows: rows) { print(line) }
    }
}

struct DiscriminatorPerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Show a registered model's results across the runs under an outputs folder.",
        discussion: """
            Example:
              gascli d perf my-detector --outputs runs

            MODEL is a name or a content-hash prefix. Runs are matched by the package's content hash,
            whatever the detector was called in each spec.
            """)

    @Argument(help: "Registered model: name or content-hash prefix.")
    var model: String
    @OptionGroup var registryOption: RegistryOption
    @Option(name: [.customLong("outputs"), .customLong("output")], help: "Outputs folder holding the runs (default runs).")
    var outputs: String = "runs"
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let report: ModelPerformance.Report
        do {
            report = try ModelPerformance.report(model: model, registry: registryOption.registry, outputs: outputs)
        } catch {
            Diagnostics.printError("error: \(error)")
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(report))
            print()
            return
        }
        let m = report.model
        print("\(m.name) (\(m.modality)) \(m.contentHash)")
        guard !report.rows.isEmpty else {
            print("  no runs under \(outputs) evaluated this package yet")
            return
        }
        let rows = report.rows.map { r in
            [r.run, r.detector, String(format: "%.4f", r.sn34), String(format: "%.4f", r.modalitySN34[m.modality] ?? r.sn34),
             String(format: "%.3f", r.accuracy), String(format: "%.3f", r.mcc), String(format: "%.4f", r.brier),
             String(format: "%.1f%%", r.coverage * 100), String(r.samples), r.finishedAt]
        }
        for line in SummaryTable.table(header: ["run", "detector", "sn34", "sn34 (\(m.modality))", "accuracy", "mcc", "brier", "coverage", "samples", "finished"], rows: rows) {
            print(line)
        }
        let best = report.rows.max { $0.sn34 < $1.sn34 }!
        print("  \(report.rows.count) run(s); best sn34 \(String(format: "%.4f", best.sn34)) in \(best.run)")
    }
}
