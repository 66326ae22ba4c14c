import ArgumentParser
import Foundation
import GASRunner

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List and check the datasets of gasbench or gascli catalogs.",
        discussion: """
            Example:
              gascli datasets list datasets/catalog.yaml
              gascli datasets check datasets/catalog.yaml
              gascli datasets list real_images.yaml --data-root ~/hf-datasets

            Catalogs load as gasbench writes them ('datasets:' or grouped 'image:'/'video:'/'audio:'
            lists); fields gascli does not use are reported as warnings naming them. A dataset whose
            path is a hub repository id (org/name) is looked for under --data-root (or
            GASCLI_DATA_ROOT) as <data-root>/org/name, and listed as not downloaded otherwise.
            """,
        subcommands: [DatasetsListCommand.self, DatasetsCheckCommand.self])
}

struct DatasetFilterOptions: ParsableArguments {
    @Argument(help: "Catalog files (YAML).")
    var catalogs: [String]

    @Option(help: "Folder holding downloaded hub datasets as <org>/<name> (default: GASCLI_DATA_ROOT).")
    var dataRoot: String?

    @Option(help: "Only datasets of this modality (image, video, audio).")
    var modality: String?

    @Option(name: .customLong("datasets"), parsing: .upToNextOption, help: "Only datasets whose names match these globs.")
    var patterns: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        if let modality, !["image", "video", "audio"].contains(modality) {
            throw ValidationError("--modality must be image, video or audio, not '\(modality)'")
        }
    }
}

private func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value))
    print()
}

private func loadOrExit<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        Diagnostics.printError("\(error)")
        throw ExitCode(2)
    }
}

struct DatasetsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a catalog's datasets: modality, media type, label, format, caps and whether each is on this machine.",
        discussion: """
            Example:
              gascli datasets list datasets/catalog.yaml --modality image

            Reads only the catalog (no data). Exit status: 0, or 2 when a catalog cannot be read.
            """)

    @OptionGroup var options: DatasetFilterOptions

    func run() throws {
        let listing = try loadOrExit {
            try DatasetsReport.list(catalogs: options.catalogs, dataRoot: options.dataRoot, modality: options.modality, patterns: options.patterns)
        }
        if options.json { return try printJSON(listing) }
        for w in listing.warnings { Diagnostics.printError("warning: \(w)") }
        func text(_ n: Int?) -> String { n.map { String($0) } ?? "-" }
        let rows: [[String]] = listing.datasets.map { (d: DatasetsReport.Row) -> [String] in
            var parquet = d.dataColumns.isEmpty ? "" : "columns " + d.dataColumns.joined(separator: ",")
            if let filter = d.filter { parquet += " filter \(filter)" }
            let caps: String = text(d.mediaPerArchive) + "/" + text(d.archivesPerDataset)
            return [d.name, d.modality, d.mediaType, String(d.label), d.sourceFormat, text(d.maxSamples), caps, parquet,
                    d.available ? "ok" : "missing"]
        }
        print("\(listing.datasets.count) dataset(s) in \(options.catalogs.joined(separator: ", "))")
        for line in SummaryTable.table(header: ["name", "modality", "media_type", "label", "format", "max", "per-archive/archives", "parquet", "local"], rows: rows) {
            print(line)
        }
        var counts: [String: [Int]] = [:]
        for d in listing.datasets { counts[d.modality, default: [0, 0]][d.label] += 1 }
        for (modality, c) in counts.sorted(by: { $0.key < $1.key }) {
            print("  \(modality): \(c[0]) real, \(c[1]) synthetic/semisynthetic")
        }
        let missing = listing.datasets.filter { !$0.available }
        if !missing.isEmpty {
            print("  \(missing.count) not on this machine (\(missing.prefix(3).map(\.name).joined(separator: ", "))\(missing.count > 3 ? ", ..." : "")): download them and set --data-root")
        }
    }
}

struct DatasetsCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read every dataset of a catalog: counts, labels, formats and unreadable files with reasons.",
        discussion: """
            Example:
              gascli datasets check datasets/catalog.yaml
              gascli datasets check real_images.yaml --data-root ~/hf-datasets --limit 200 --json

            Lists each dataset as a run would (folders, archives, Parquet shards), then reads and
            validates its samples (images decoded, WAV headers parsed, other media recognised by their
            bytes). Exit status: 0 when every dataset gives samples, 1 when a dataset is unusable
            (missing, empty, or nothing in it is readable), 2 when a catalog cannot be read.
            """)

    @OptionGroup var options: DatasetFilterOptions

    @Option(help: "Read and validate at most this many samples per dataset (default: all).")
    var limit: Int?

    func run() throws {
        let quiet = options.json
        let check = try loadOrExit {
            try DatasetsReport.check(catalogs: options.catalogs, dataRoot: options.dataRoot, modality: options.modality,
                                     patterns: options.patterns, limit: limit) { name, i, n in
                if !quiet { Diagnostics.printError("checking \(name) (\(i)/\(n))") }
            }
        }
        if options.json {
            try printJSON(check)
        } else {
            for w in check.warnings { Diagnostics.printError("warning: \(w)") }
            let rows: [[String]] = check.datasets.map { (d) -> [String] in
                let formats: String = d.formats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                return [d.name, d.modality, "\(d.label) (\(d.mediaType))", d.sourceFormat, String(d.files), String(d.candidates),
                        formats, String(d.unreadable.count), d.unusableReason == nil ? "ok" : "UNUSABLE"]
            }
            print("\(check.datasets.count) dataset(s) in \(options.catalogs.joined(separator: ", "))")
            for line in SummaryTable.table(header: ["name", "modality", "label", "format", "files", "samples", "formats", "unreadable", "status"], rows: rows) {
                print(line)
            }
            for d in check.datasets {
                if let reason = d.unusableReason { print("\(d.name): unusable: \(reason)") }
                for u in d.unreadable.prefix(10) { print("\(d.name): unreadable: \(u.item): \(u.reason)") }
                if d.unreadable.count > 10 { print("\(d.name): ... and \(d.unreadable.count - 10) more unreadable") }
                for n in d.notes { print("\(d.name): note: \(n)") }
            }
            let totals = check.datasets.reduce(into: [0, 0]) { $0[$1.label] += $1.candidates }
            print("samples: \(totals[0]) real (label 0), \(totals[1]) AI-generated (label 1); \(check.unusable) unusable dataset(s)")
        }
        if check.unusable > 0 { throw ExitCode(1) }
    }
}
