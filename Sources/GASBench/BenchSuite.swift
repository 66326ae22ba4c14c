import Foundation

/// `gascli bench`: runs the chosen benchmarks on this build, each beside its Python reference in
/// the same invocation, and returns the table.
public enum BenchSuite {
    /// Every benchmark, in the order they run.
    public static let names = ["parquet", "scoring", "process", "resume", "e2e", "growth"]

    public static func run(_ selected: [String], options: BenchOptions, command: String) async throws -> BenchReport {
        let unknown = selected.filter { !names.contains($0) }
        guard unknown.isEmpty else {
            throw BenchError("unknown benchmark \(unknown.joined(separator: ", ")); choose from \(names.joined(separator: ", "))")
        }
        let chosen = selected.isEmpty ? names : names.filter(selected.contains)
        try FileManager.default.createDirectory(atPath: options.workDirectory, withIntermediateDirectories: true)
        defer { if !options.keep { try? FileManager.default.removeItem(atPath: options.workDirectory) } }
        var results: [BenchResult] = []
        for name in chosen {
            switch name {
            case "parquet": results.append(try ParquetBench.run(options))
            case "scoring": results.append(try ScoringBench.run(options))
            case "process": results.append(try await ProcessBench.run(options))
            case "resume": results.append(try await ResumeBench.run(options))
            case "e2e": results.append(try EndToEndBench.run(options))
            default: results.append(try GrowthBench.run(options))
            }
            options.log("\(name): done")
        }
        return BenchReport(machine: .current(), command: command, results: results)
    }
}
