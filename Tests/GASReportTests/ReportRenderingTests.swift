import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import GASCore
@testable import GASReport

/// The renderer is pure: these tests build report data by hand and inspect the HTML. The browser
/// test (EndToEndTests/ReportBrowserTests) renders a real run in Chromium.
@Suite struct ReportRenderingTests {
    static func detector(_ name: String, seed: UInt64, strength: Double, invalid: Bool = false, failures: Int = 0) -> RunReport.Detector {
        var g = SplitMix64(seed: seed)
        var rows: [ScoringRow] = []
        for i in 0..<60 {
            let label = i % 2
            let p = min(max(0.5 + (label == 1 ? strength : -strength) + (g.nextUnit() - 0.5) * 0.7, 0), 1)
            rows.append(ScoringRow(label: label, dataset: i % 3 == 0 ? "faces-real" : "gen-<b>&co", mediaType: label == 0 ? .real : .synthetic,
                                   sourceKind: label == 0 ? .real : .synthetic, modality: .image,
                                   status: i < failures ? .error : .ok, pAI: i < failures ? nil : p, inputSkipped: false))
        }
        let rule = ScoringRule(onFailure: invalid ? .invalidate : .countWrong)
        let score = Scorer.score(detector: name, rows: rows, rule: rule, bootstrap: BootstrapSettings(resamples: 200, seed: 34))
        let preds = rows.compactMap { Scorer.prediction(for: $0, rule: rule) }
        return RunReport.Detector(
            name: name, adapter: "builtin", artifactSHA256: String(repeating: "ab", count: 32), score: score,
            roc: ROC.curve(labels: preds.map(\.label), scores: preds.map(\.pAI)),
            calibration: Calibration.bins(labels: preds.map(\.label), scores: preds.map(\.pAI)),
            failures: failures > 0 ? [.init(status: "error", reason: "boom <stack>", count: failures)] : [],
            meanLatencyMs: 3.5, p95LatencyMs: 7.25)
    }

    static func report(generators: [RunReport.Generator]? = nil) -> RunReport {
        RunReport(
            run: .init(id: "quick-20260101-000000-abcdef12", round: "quick", status: "completed", manifestHash: String(repeating: "5e", count: 32),
                       toolVersion: "0.test", specPath: "/x/spec.yaml", startedAt: "2026-01-01T00:00:00.000Z", finishedAt: "2026-01-01T00:00:09.000Z",
                       seed: 34, outputs: "/tmp/my runs"),
            scoring: ScoringRule(), bootstrap: BootstrapSettings(resamples: 200, seed: 34), sampleCount: 60, skippedInputs: 0,
            samplesByLabel: ["real": 30, "ai": 30], samplesByDataset: ["faces-real": 20, "gen-<b>&co": 40],
            detectors: [detector("strong", seed: 1, strength: 0.3), detector("weak<script>", seed: 2, strength: 0.05, failures: 4),
                        detector("broken", seed: 3, strength: 0.2, invalid: true, failures: 2)],
            generators: generators)
    }

    @Test func everySectionIsThereAndNothingLoadsFromOutside() {
        let html = RunReportPage.render(Self.report())
        for id in ["glance", "leaderboard", "breakdowns", "curves", "confusion", "generators", "outcomes", "reproduce", "console-errors"] {
            #expect(html.contains("id=\"\(id)\""), "section \(id)")
        }
        // Self-contained: no URLs other than the SVG namespace, no external scripts, styles or images.
        let withoutNamespace = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        #expect(!withoutNamespace.contains("http://") && !withoutNamespace.contains("https://"))
        #expect(!html.contains(" src=") && !html.contains("<link"))
        #expect(html.contains("Content-Security-Policy"))
        #expect(html.contains("No generator media in this round"))
        #expect(html.contains(String(repeating: "5e", count: 32)))
        #expect(html.contains("gascli replay quick-20260101-000000-abcdef12 --output &#39;/tmp/my runs&#39;"))
    }

    @Test func namesAreEscaped() {
        let html = RunReportPage.render(Self.report())
        #expect(!html.contains("weak<script>"))
        #expect(html.contains("weak&lt;script&gt;"))
        #expect(html.contains("gen-&lt;b&gt;&amp;co"))
        #expect(html.contains("boom &lt;stack&gt;"))
    }

    @Test func renderingIsDeterministic() {
        #expect(RunReportPage.render(Self.report()) == RunReportPage.render(Self.report()))
    }

    @Test func invalidatedDetectorsRankLast() throws {
        let html = RunReportPage.render(Self.report())
        let table = try #require(html.range(of: "<table class=\"sortable leaderboard\"").map { String(html[$0.lowerBound...]) })
        let strong = try #require(table.range(of: "strong")), broken = try #require(table.range(of: "broken"))
        #expect(strong.lowerBound < broken.lowerBound)
        #expect(table.contains("invalid: ranks 0"))
    }

    @Test func numbersCarryTheirExactValue() throws {
        let r = Self.report()
        let html = RunReportPage.render(r)
        let strong = r.detectors[0].score
        let image = try #require(strong.breakdowns.first { $0.scope == .modality && $0.key == "image" }).metrics
        #expect(html.contains("data-detector=\"strong\" data-scope=\"modality\" data-key=\"image\" data-metric=\"sn34\" data-value=\"\(image.sn34)\""))
        #expect(html.contains("data-metric=\"auc\" data-value=\"\(image.auc!)\""))
        #expect(html.contains("data-metric=\"sn34_ci.lower\" data-value=\"\(image.sn34CI!.lower)\""))
        #expect(html.contains("data-detector=\"strong\" data-scope=\"overall\" data-key=\"all\" data-metric=\"tp\" data-value=\"\(Double(strong.overall.truePositives))\""))
    }

    @Test func generatorTableWhenGeneratorsTookPart() {
        let html = RunReportPage.render(Self.report(generators: [
            .init(generator: "gen-a", hotkey: "5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX", uid: 17, modality: "image", challenges: 10,
                  accepted: 9, passRate: 0.9, foolRate: 0.35, samples: 9, volumeFactor: 1, resolutionFactor: 0.8, foolBonus: 0.1, reward: 0.0123),
            .init(generator: "gen-b", uid: 18, foolRate: nil),
        ]))
        #expect(!html.contains("No generator media in this round"))
        #expect(html.contains("gen-a") && html.contains("0.350") && html.contains("5F3sa2TJAW"))
        #expect(html.contains("<table class=\"sortable generators\""))
    }

    @Test func everySVGIsWellFormedXML() throws {
        for html in [RunReportPage.render(Self.report()), HistoryPage.render(Self.history(weights: true))] {
            var rest = Substring(html)
            var count = 0
            while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
                let fragment = String(rest[start.lowerBound..<end.upperBound])
                let parser = XMLParser(data: Data(fragment.utf8))
                #expect(parser.parse(), "malformed SVG: \(parser.parserError.map { "\($0)" } ?? "") in \(fragment.prefix(300))")
                rest = rest[end.upperBound...]
                count += 1
            }
            #expect(count >= 3)
        }
    }

    static func history(weights: Bool) -> HistoryReport {
        var points: [HistoryReport.Point] = []
        for (i, day) in ["01", "02", "03", "05"].enumerated() {
            points.append(.init(runID: "weekly-202601\(day)", round: "weekly", startedAt: "2026-01-\(day)T00:00:00Z", detector: "a", sn34: 0.5 + Double(i) * 0.1, invalidated: false))
            if i != 2 {
                points.append(.init(runID: "weekly-202601\(day)", round: "weekly", startedAt: "2026-01-\(day)T00:00:00Z", detector: "b", sn34: 0.4, invalidated: i == 3))
            }
        }
        points.append(.init(runID: "quick-1", round: "quick", startedAt: "2026-01-04T00:00:00Z", detector: "a", sn34: 0.7, invalidated: false))
        let vectors: [HistoryReport.WeightVector] = weights ? [
            .init(label: "round 1", at: "2026-01-01", weights: [("uid 1", 0.85), ("uid 2", 0.15)]),
            .init(label: "round 2", at: "2026-01-02", weights: [("uid 2", 0.85), ("uid 1", 0.10), ("uid 3", 0.05)]),
        ] : []
        return HistoryReport(outputs: "/runs", toolVersion: "0.test", points: points, weights: vectors)
    }

    @Test func historyChartsEachRoundAndSaysWhenThereAreNoWeights() {
        let html = HistoryPage.render(Self.history(weights: false))
        #expect(html.contains("sn34 history of weekly") && html.contains("sn34 history of quick"))
        #expect(html.contains("No weight history"))
        #expect(html.contains("data-run=\"weekly-20260103\" data-detector=\"a\" data-value=\"0.7\""))
        // b is missing from the third run and invalidated (0) in the fourth.
        #expect(html.contains("data-run=\"weekly-20260105\" data-detector=\"b\" data-value=\"0.0\""))
        #expect(html.contains("id=\"run-count\">5 completed runs"))
    }

    @Test func historyShowsWeightVectorsWhenGiven() {
        let html = HistoryPage.render(Self.history(weights: true))
        #expect(!html.contains("No weight history"))
        #expect(html.contains("<table class=\"sortable weights\""))
        #expect(html.contains("uid 3") && html.contains("data-value=\"0.85\""))
    }

    @Test func emptyHistory() {
        let html = HistoryPage.render(HistoryReport(outputs: "/nothing", toolVersion: "0", points: []))
        #expect(html.contains("id=\"no-history\"") && html.contains("No weight history"))
    }

    @Test func viridisEnds() {
        #expect(Palette.score(0).fill == "#440154" && Palette.score(1).fill == "#fde725")
        #expect(Palette.score(0).text == "#ffffff" && Palette.score(1).text == "#111827")
    }
}
