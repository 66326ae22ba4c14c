import ArgumentParser
import Foundation
import GASRunner

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a spec would run (samples, detectors) and its manifest hash, without running it.",
        discussion: """
            Example:
              gascli plan configs/quickstart.yaml
              gascli plan configs/quickstart.yaml --json > manifest.json

            The manifest hash is the sha256 of the plan's canonical JSON: the same spec on the same
            data gives the same hash on any machine. Planning reads the datasets and generates the
            synthetic media into the media store under the outputs folder, as a run would.
            """)

    @Argument(help: "Path of the round spec (YAML).")
    var spec: String

    @Option(name: .shortAndLong, help: "Outputs folder holding the media store (overrides outputs.directory).")
    var output: String?

    @Flag(help: "Print the manifest (canonical JSON) instead of the summary.")
    var json = false

    func run() throws {
        do {
            let s = try PlanPreview.preview(specPath: spec, outputDirectory: output)
            if json {
                try s.writeManifestJSON { try FileHandle.standardOutput.write(contentsOf: $0) }
                print()
                return
            }
            for w in s.warnings { Diagnostics.printError("warning: \(w)") }
            print("Plan for \(spec)")
            print("  manifest hash  \(s.manifestHash)")
            print("  samples        \(s.samples)" + (s.skipped > 0 ? " (\(s.skipped) unreadable, will be skipped)" : ""))
            for (title, rows) in [("by source", s.bySource), ("by label", s.byLabel), ("by dataset", s.byDataset)] {
                print("  \(title):")
                for (key, n) in rows { print("    \(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(n)") }
            }
            print("  detectors:")
            for d in s.detectors {
                print("    \(d.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(d.adapter.padding(toLength: 12, withPad: " ", startingAt: 0)) artifact \(d.artifact.map { String($0.prefix(16)) } ?? "-")")
            }
        } catch {
            throw Diagnostics.exitCode(for: error)
        }
    }
}
