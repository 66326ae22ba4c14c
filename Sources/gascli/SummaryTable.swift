import Foundation
import GASCore
import GASRunner

/// The end-of-run summary: leaderboard, counts and the paths of everything written.
enum SummaryTable {
    static func render(_ s: RunSummary) -> String {
        var lines: [String] = []
        lines.append("")
        lines.append("Run \(s.runID) finished in \(String(format: "%.1f", s.durationSeconds)) s")
        lines.append("  \(s.sampleCount) samples (\(s.skippedInputs) unreadable, skipped), manifest \(s.manifestHash.prefix(16))")
        lines.append("")
        let header = ["rank", "detector", "sn34", "accuracy", "mcc", "brier", "coverage", "ok", "error", "timeout", "skipped"]
        var rows: [[String]] = []
        for (i, score) in s.scores.enumerated() {
            let c = score.statusCounts
            rows.append([
                "\(i + 1)", score.detector + (score.invalidated ? " (invalid)" : ""),
                String(format: "%.4f", score.sn34), String(format: "%.3f", score.overall.accuracy),
                String(format: "%.3f", score.overall.mcc), String(format: "%.4f", score.overall.brier),
                String(format: "%.1f%%", score.coverage * 100),
                "\(c["ok"] ?? 0)", "\(c["error"] ?? 0)", "\(c["timeout"] ?? 0)", "\(c["skipped"] ?? 0)",
            ])
        }
        lines.append("Leaderboard (sn34: higher is better)")
        lines += table(header: header, rows: rows)
        if let winner = s.scores.first {
            lines.append("")
            lines.append("Winner: \(winner.detector) (sn34 \(String(format: "%.4f", winner.sn34)))")
        }
        if !s.generators.isEmpty {
            lines.append("")
            let counts = s.challengeCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append("Generators (reward: higher is better; challenges: \(counts))")
            let gHeader = ["rank", "generator", "reward", "pass rate", "accepted", "challenges", "fool rate", "fool bonus", "samples"]
            let gRows = s.generators.enumerated().map { i, g in
                ["\(i + 1)", g.generator, String(format: "%.4f", g.reward), String(format: "%.3f", g.passRate), "\(g.accepted)",
                 "\(g.challenges)", g.foolRate.map { String(format: "%.3f", $0) } ?? "-", String(format: "%.3f", g.foolBonus), "\(g.samples)"]
            }
            lines += table(header: gHeader, rows: gRows)
        }
        for w in s.warnings { lines.append("warning: \(w)") }
        lines.append("")
        lines.append("Wrote:")
        for (label, path) in s.files {
            lines.append("  \(label.padding(toLength: 12, withPad: " ", startingAt: 0)) \(path)")
        }
        return lines.joined(separator: "\n")
    }

    static func table(header: [String], rows: [[String]]) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i <= 1 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }
        return ["  " + format(header), "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
            + rows.map { "  " + format($0) }
    }
}
