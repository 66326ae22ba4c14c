import Foundation

/// One benchmark's outcome: our figure, the Python reference measured in the same invocation
/// (when there is one), their ratio and the target it is judged against.
public struct BenchResult: Codable, Sendable, Equatable {
    /// Short name used on the command line (`parquet`, `scoring`, ...).
    public var name: String
    /// What was measured, in words (rows, codec, batch size).
    public var title: String
    /// Our figure in `unit`.
    public var ours: Double
    /// `s` (lower is better) or `samples/s` (higher is better).
    public var unit: String
    /// The reference figure in the same unit, measured in the same run; nil when there is none.
    public var reference: Double?
    /// What the reference is (`pyarrow 26.0.1 write_table`, `numpy 2.3`).
    public var referenceName: String?
    /// How many times faster we are than the reference (>1: faster); nil without a reference.
    public var speedup: Double?
    /// The target in words.
    public var target: String
    public var passed: Bool
    /// Extra figures (file sizes, peak memory, correctness checks).
    public var notes: [String]

    public init(name: String, title: String, ours: Double, unit: String, reference: Double? = nil, referenceName: String? = nil,
                target: String, passed: Bool, notes: [String] = []) {
        self.name = name
        self.title = title
        self.ours = ours
        self.unit = unit
        self.reference = reference
        self.referenceName = referenceName
        if let reference, ours > 0, reference > 0 {
            speedup = unit == "s" ? reference / ours : ours / reference
        }
        self.target = target
        self.passed = passed
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case name, title, ours, unit, reference, speedup, target, passed, notes
        case referenceName = "reference_name"
    }
}

/// Facts about the machine a table was measured on, printed with every table.
public struct MachineFacts: Codable, Sendable, Equatable {
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var os: String
    public var date: String
    public var build: String
    /// 1-minute load average when the suite finished: other processes on the machine slow wall times.
    public var loadAverage: Double = 0

    enum CodingKeys: String, CodingKey {
        case cpu, cores, os, date, build
        case memoryGiB = "memory_gib", loadAverage = "load_average"
    }

    public init(cpu: String, cores: Int, memoryGiB: Double, os: String, date: String, build: String, loadAverage: Double = 0) {
        self.cpu = cpu
        self.cores = cores
        self.memoryGiB = memoryGiB
        self.os = os
        self.date = date
        self.build = build
        self.loadAverage = loadAverage
    }

    public static func current() -> MachineFacts {
        var cpu = "unknown CPU"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var os = ProcessInfo.processInfo.operatingSystemVersionString
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            os = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        #if DEBUG
        let build = "debug build (figures are not representative; use swift build -c release)"
        #else
        let build = "release build"
        #endif
        return MachineFacts(cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount,
                            memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30) * 10).rounded() / 10,
                            os: os, date: f.string(from: Date()), build: build, loadAverage: Stopwatch.loadAverage())
    }

    public var summary: String {
        "\(cores) cores (\(cpu)), \(memoryGiB) GiB RAM, \(os), \(date), \(build), load average \(String(format: "%.1f", loadAverage)) at the end"
    }
}

/// A finished suite: the results and where they were measured.
public struct BenchReport: Codable, Sendable, Equatable {
    public var machine: MachineFacts
    public var command: String
    public var results: [BenchResult]

    public init(machine: MachineFacts, command: String, results: [BenchResult]) {
        self.machine = machine
        self.command = command
        self.results = results
    }

    public var allPassed: Bool { results.allSatisfy(\.passed) }

    static func format(_ value: Double, unit: String) -> String {
        switch unit {
        case "s":
            if value < 0.001 { return String(format: "%.1f µs", value * 1e6) }
            if value < 1 { return String(format: "%.0f ms", value * 1000) }
            return String(format: "%.2f s", value)
        case "samples/s":
            return "\(grouped(Int(value.rounded()))) samples/s"
        case "B/sample":
            return "\(grouped(Int(value.rounded()))) B/sample"
        default:
            return String(format: "%.3g %@", value, unit)
        }
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func ratio(_ r: BenchResult) -> String {
        guard let s = r.speedup else { return "—" }
        return String(format: "%.2f× %@", s, s >= 1 ? "faster" : "slower")
    }

    /// A plain table for the terminal.
    public func text() -> String {
        var rows: [[String]] = [["benchmark", "ours", "reference", "ratio", "target", "result"]]
        for r in results {
            rows.append([r.name, Self.format(r.ours, unit: r.unit), r.reference.map { Self.format($0, unit: r.unit) } ?? "—",
                         Self.ratio(r), r.target, r.passed ? "PASS" : "FAIL"])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var lines = rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        lines.insert(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)), at: 1)
        lines.append("")
        for r in results {
            lines.append("\(r.name): \(r.title)")
            if let name = r.referenceName { lines.append("  reference: \(name)") }
            for note in r.notes { lines.append("  \(note)") }
        }
        lines.append("")
        lines.append("machine: \(machine.summary)")
        lines.append("command: \(command)")
        return lines.joined(separator: "\n")
    }

    /// The README table.
    public func markdown() -> String {
        var lines = ["| benchmark | ours | reference (same run) | ratio | target | result |", "|---|---|---|---|---|---|"]
        for r in results {
            let reference = r.reference.map { Self.format($0, unit: r.unit) + (r.referenceName.map { " (\($0))" } ?? "") } ?? "—"
            lines.append("| \(r.name): \(r.title) | \(Self.format(r.ours, unit: r.unit)) | \(reference) | \(Self.ratio(r)) | \(r.target) | \(r.passed ? "pass" : "**fail**") |")
        }
        lines.append("")
        for r in results where !r.notes.isEmpty {
            lines.append("- **\(r.name)**: " + r.notes.joined(separator: "; "))
        }
        lines.append("")
        lines.append("Machine: \(machine.summary). Command: `\(command)`.")
        return lines.joined(separator: "\n")
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}
