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
        lines.append("Leaderboard (sn34: higher is better; \(intervalLabel) bootstrap interval)")
        lines += table(header: ["#", "detector", "sn34", intervalLabel + " CI", "acc", "AUC", "ECE", "outcomes"],
                       rows: s.scores.enumerated().map { i, score in
                           [
                               "\(i + 1)", score.detector + (score.invalidated ? " (invalid)" : ""),
                               String(format: "%.4f", score.sn34), interval(score.overall.sn34CI),
                               String(format: "%.3f", score.overall.accuracy), optional(score.overall.auc), optional(score.overall.ece),
                               outcomes(score.statusCounts),
                           ]
                       }, left: [1, 7])
        if !s.robustness.isEmpty {
            lines.append("")
            lines.append("Robustness (gasbench's suite on \(s.robustness.map(\.metrics.samples).max() ?? 0) augmented images; not in the leaderboard)")
            for r in s.robustness.sorted(by: { $0.metrics.sn34 > $1.metrics.sn34 }) {
                lines.append("  \(r.detector): sn34 \(String(format: "%.4f", r.metrics.sn34)) (base \(String(format: "%.4f", r.baseSN34)), ratio \(String(format: "%.3f", r.augmentationRobustness))), mean p(true) drop \(String(format: "%.4f", r.meanProbDegradation)) over \(r.pairedSamples) pairs")
            }
        }
        let winners = RoundScoring.modalityLeaderboards(s.scores)
        if !winners.isEmpty {
            lines.append("")
            lines.append("Winner per modality")
            var rows: [[String]] = []
            for (modality, ranking) in winners {
                guard let first = ranking.first else { continue }
                let ci = s.scores.first { $0.detector == first.detector }?.breakdowns
                    .first { $0.scope == .modality && $0.key == modality }?.metrics.sn34CI
                var margin = ""
                if ranking.count > 1 {
                    margin = "ahead of \(ranking[1].detector) by \(String(format: "%.4f", first.sn34 - ranking[1].sn34))"
                }
                rows.append([modality, first.detector, String(format: "sn34 %.4f", first.sn34), ci.map { "CI " + interval($0) } ?? "", margin])
            }
            lines += plain(rows)
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
        lines.append("")
        lines.append("Report with charts: gascli report \(s.runID) --output \((s.runDirectory as NSString).deletingLastPathComponent)")
        return lines.joined(separator: "\n")
    }

    static let intervalLabel = "95%"

    static func interval(_ ci: ConfidenceInterval?) -> String {
        ci.map { String(format: "%.3f–%.3f", $0.lower, $0.upper) } ?? "-"
    }

    static func optional(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }

    /// "88 ok" or "80 ok, 6 error, 2 timeout": only the statuses that occurred.
    static func outcomes(_ counts: [String: Int]) -> String {
        let parts = ["ok", "error", "timeout", "skipped"].compactMap { k in (counts[k] ?? 0) > 0 ? "\(counts[k]!) \(k)" : nil }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// Left-aligned columns without a header, indented like the tables.
    static func plain(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            "  " + row.enumerated().map { i, c in i == row.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    /// Columns in `left` are left-aligned, the others (numbers) right-aligned.
    static func table(header: [String], rows: [[String]], left: Set<Int> = [0, 1]) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                left.contains(i) ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        return ["  " + format(header), "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
            + rows.map { "  " + format($0) }
    }
}
