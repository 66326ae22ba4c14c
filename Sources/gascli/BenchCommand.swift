import ArgumentParser
import Foundation
import GASBench

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark this build against the Python references (pyarrow, numpy) in one run.",
        discussion: """
            Example (from the repository root, on a release build):
              swift build -c release && .build/release/gascli bench
              .build/release/gascli bench parquet scoring --markdown

            Benchmarks: parquet (1,000,000-row predictions table vs pyarrow write_table), scoring
            (sn34 with all breakdowns over 10,000,000 predictions vs numpy), process (no-op Python
            detector at batch size 64), resume (a run with 1,000,000 committed outcomes), e2e
            (gascli run of a 1,000,000-sample round with 4 predictions detectors; time and peak
            memory), growth (the same round at 500,000 and 1,000,000 samples: peak memory added per
            sample, against what the outcome rows take). The references run with .venv/bin/python
            (pyarrow, numpy) and the scripts in Benchmarks/python. Exit status 1 when a target is
            missed.
            """)

    @Argument(help: "Benchmarks to run (default: all): parquet, scoring, process, resume, e2e, growth.")
    var names: [String] = []

    @Option(help: "Multiply every benchmark's size (1 = the sizes the targets are stated for; 0.1 for a quick look).")
    var scale: Double = 1

    @Option(help: "Python with pyarrow and numpy for the references.")
    var python = ".venv/bin/python"

    @Option(help: "Folder of the reference scripts.")
    var scripts = "Benchmarks/python"

    @Option(help: "The gascli the e2e benchmark runs (default: this one), e.g. an older build to compare with.")
    var gascli: String?

    @Option(help: "Scratch folder (default: a new folder under the system temporary directory).")
    var work: String?

    @Flag(help: "Keep the scratch folder.")
    var keep = false

    @Flag(help: "Print the table as Markdown (the README's).")
    var markdown = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() async throws {
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : (cwd as NSString).appendingPathComponent(p) }
        let work = work.map(absolute) ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("gascli-bench-\(ProcessInfo.processInfo.processIdentifier)")
        let executable = gascli.map(absolute) ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let options = BenchOptions(scale: scale, python: absolute(python), scripts: absolute(scripts),
                                   noopDetector: absolute("examples/detectors/example_detector.py"), executable: executable,
                                   workDirectory: work, keep: keep, log: { FileHandle.standardError.write(Data(("bench: " + $0 + "\n").utf8)) })
        let command = (["gascli", "bench"] + CommandLine.arguments.dropFirst(2)).joined(separator: " ")
        do {
            let report = try await BenchSuite.run(names, options: options, command: command)
            print(json ? try report.json() : markdown ? report.markdown() : report.text())
            if !report.allPassed { throw ExitCode(1) }
        } catch let error as BenchError {
            Diagnostics.printError("error: \(error)")
            throw ExitCode(2)
        }
    }
}
