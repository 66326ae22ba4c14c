import Foundation
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
        var byModality: [String: [(String, Double)]] = [:]
        for score in s.scores {
            for b in score.breakdowns where b.scope == .modality && b.metrics.samples > 0 {
                byModality[b.key, default: []].append((score.detector, score.invalidated ? 0 : b.metrics.sn34))
            }
        }
        if byModality.count > 1 {
            lines.append("")
            lines.append("By modality (sn34 on each modality's samples)")
            for (modality, rows) in byModality.sorted(by: { $0.key < $1.key }) {
                let ranked = rows.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
                lines.append("  \(modality): " + ranked.enumerated().map { "\($0.offset + 1). \($0.element.0) \(String(format: "%.4f", $0.element.1))" }.joined(separator: ", "))
            }
        }
        if !s.robustness.isEmpty {
            lines.append("")
            lines.append("Robustness (gasbench's suite on \(s.robustness.map(\.metrics.samples).max() ?? 0) augmented images; not in the leaderboard)")
            for r in s.robustness.sorted(by: { $0.metrics.sn34 > $1.metrics.sn34 }) {
                lines.append("  \(r.detector): sn34 \(String(format: "%.4f", r.metrics.sn34)) (base \(String(format: "%.4f", r.baseSN34)), ratio \(String(format: "%.3f", r.augmentationRobustness))), mean p(true) drop \(String(format: "%.4f", r.meanProbDegradation)) over \(r.pairedSamples) pairs")
            }
        }
        if let winner = s.scores.first {
            lines.append("")
            lines.append("Winner: \(winner.detector) (sn34 \(String(format: "%.4f", winner.sn34)))")
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
