/// Scores and weights across rounds: for validators watching detectors over time.
public enum HistoryPage {
    public static func render(_ h: HistoryReport) -> String {
        let rounds = Dictionary(grouping: h.points, by: \.round)
        var body = """
        <header class="top"><div class="inner"><h1>Score history</h1>
        <div class="meta"><span>outputs <code>\(HTML.escape(h.outputs))</code></span><span id="run-count">\(Set(h.points.map(\.runID)).count) completed runs</span>\
        <span>\(rounds.count) round name\(rounds.count == 1 ? "" : "s")</span></div>
        <nav class="toc"><a href="#scores">Scores</a><a href="#weights">Weights</a></nav></div></header><main>
        """
        body += "<section id=\"scores\"><h2>sn34 per detector across runs</h2><p class=\"lead\">Completed runs under the outputs folder, oldest first, one chart per round name. "
            + "A detector absent from a run leaves a gap; an invalidated detector ranks 0 (hollow marker).</p>"
        if h.points.isEmpty {
            body += "<div class=\"empty\" id=\"no-history\">No completed runs under \(HTML.escape(h.outputs)).</div>"
        }
        for round in rounds.keys.sorted() {
            let points = rounds[round]!
            body += roundChart(round: round, points: points)
        }
        body += "</section>"
        body += weights(h.weights)
        body += "</main><footer>Written by gascli \(HTML.escape(h.toolVersion)).</footer>"
        return PageShell.document(title: "Score history — gascli", body: body)
    }

    static func roundChart(round: String, points: [HistoryReport.Point]) -> String {
        // Runs in time order; x is the run's position, labelled with its date.
        var runs: [(id: String, startedAt: String)] = []
        for p in points.sorted(by: { ($0.startedAt, $0.runID) < ($1.startedAt, $1.runID) }) where !runs.contains(where: { $0.id == p.runID }) {
            runs.append((p.runID, p.startedAt))
        }
        let index = Dictionary(runs.enumerated().map { ($0.element.id, Double($0.offset)) }, uniquingKeysWith: { a, _ in a })
        var detectors: [String] = []
        for p in points where !detectors.contains(p.detector) { detectors.append(p.detector) }
        detectors.sort()
        let series = detectors.enumerated().map { i, name -> SVGCharts.Series in
            let mine = points.filter { $0.detector == name }.sorted { index[$0.runID]! < index[$1.runID]! }
            var serie = SVGCharts.Series(
                name: name, color: Palette.series(i),
                points: mine.map { (index[$0.runID]!, $0.invalidated ? 0 : $0.sn34) },
                radii: mine.map { _ in 4 },
                tips: mine.map { "\(name) · \($0.runID)\nsn34 \(HTML.fixed($0.invalidated ? 0 : $0.sn34, 4))\($0.invalidated ? " (invalidated)" : "")" })
            serie.hollow = mine.map(\.invalidated)
            return serie
        }
        let lastX = max(Double(runs.count - 1), 1)
        let step = max(1, runs.count / 12)
        let ticks = runs.enumerated().filter { $0.offset % step == 0 || $0.offset == runs.count - 1 }.map { (Double($0.offset), RunReportPage.display($0.element.startedAt).prefix(16).description) }
        let x = SVGCharts.Axis(domain: (runs.count == 1 ? -0.5 : 0)...(runs.count == 1 ? 0.5 : lastX), label: "run (start time, UTC)", ticks: ticks)
        var s = "<h3>\(HTML.escape(round))</h3><div class=\"scroll\"><figure>"
        s += SVGCharts.xy(title: "sn34 history of \(round)", series: series, x: x, y: .unit("sn34"), width: max(640, min(1180, Double(runs.count) * 70 + 120)),
                          height: 380, rotateXTicks: true)
        s += SVGCharts.legend(detectors.enumerated().map { i, name in
            let latest = points.filter { $0.detector == name }.max { ($0.startedAt, $0.runID) < ($1.startedAt, $1.runID) }
            return (name, Palette.series(i), latest.map { "latest \(HTML.fixed($0.invalidated ? 0 : $0.sn34, 4))" })
        })
        s += "</figure></div>"
        // The same numbers as a table: runs as rows, detectors as columns.
        s += "<details><summary>Table</summary><div class=\"scroll\"><table class=\"sortable history\" data-round=\"\(HTML.escape(round))\"><thead><tr><th>run</th><th>started</th>"
            + detectors.map { "<th class=\"num\">\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for run in runs {
            s += "<tr><td><code>\(HTML.escape(run.id))</code></td><td>\(HTML.escape(RunReportPage.display(run.startedAt)))</td>"
            for d in detectors {
                if let p = points.first(where: { $0.runID == run.id && $0.detector == d }) {
                    let v = p.invalidated ? 0 : p.sn34
                    s += "<td class=\"num\" data-run=\"\(HTML.escape(run.id))\" data-detector=\"\(HTML.escape(d))\" data-value=\"\(HTML.exact(v))\">\(HTML.fixed(v, 4))</td>"
                } else {
                    s += "<td class=\"na\">—</td>"
                }
            }
            s += "</tr>"
        }
        s += "</tbody></table></div></details>"
        return s
    }

    static func weights(_ vectors: [HistoryReport.WeightVector]) -> String {
        var s = "<section id=\"weights\"><h2>Weights across rounds</h2>"
        guard !vectors.isEmpty else {
            return s + "<div class=\"empty\" id=\"no-weights\">No weight history: weights are recorded by the validator service in its state database; none was given.</div></section>"
        }
        s += "<p class=\"lead\">The weight vector set after each round, as recorded by the validator. Each bar sums to the vector's total.</p>"
        var targets: [String] = []
        for v in vectors { for w in v.weights where !targets.contains(w.target) { targets.append(w.target) } }
        // Stacked horizontal bars, one per round.
        let barW = 760.0, rowH = 26.0, labelW = 200.0
        let total = vectors.map { $0.weights.reduce(0) { $0 + max($1.weight, 0) } }.max() ?? 1
        let height = Double(vectors.count) * rowH + 10
        var svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(SVGCharts.n(labelW + barW + 10)) \(SVGCharts.n(height))\" width=\"\(SVGCharts.n(labelW + barW + 10))\" height=\"\(SVGCharts.n(height))\" role=\"img\" aria-label=\"weights per round\">"
        for (i, v) in vectors.enumerated() {
            let y = Double(i) * rowH + 4
            svg += "<text class=\"row-label\" x=\"\(SVGCharts.n(labelW - 8))\" y=\"\(SVGCharts.n(y + 15))\" text-anchor=\"end\">\(HTML.escape(v.label))</text>"
            var x = labelW
            for w in v.weights where w.weight > 0 {
                let width = w.weight / (total > 0 ? total : 1) * barW
                let colour = Palette.series(targets.firstIndex(of: w.target) ?? 0)
                svg += "<rect x=\"\(SVGCharts.n(x))\" y=\"\(SVGCharts.n(y))\" width=\"\(SVGCharts.n(width))\" height=\"20\" fill=\"\(colour)\"><title>\(HTML.escape("\(v.label) · \(w.target): \(w.weight)"))</title></rect>"
                x += width
            }
        }
        svg += "</svg>"
        s += "<div class=\"scroll\">" + svg + "</div>"
        s += SVGCharts.legend(targets.enumerated().map { ($0.element, Palette.series($0.offset), nil) })
        s += "<details><summary>Table</summary><div class=\"scroll\"><table class=\"sortable weights\"><thead><tr><th>round</th><th>at</th>"
            + targets.map { "<th class=\"num\">\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for v in vectors {
            s += "<tr><td>\(HTML.escape(v.label))</td><td>\(HTML.escape(v.at))</td>"
            for t in targets {
                if let w = v.weights.first(where: { $0.target == t }) {
                    s += "<td class=\"num\" data-value=\"\(HTML.exact(w.weight))\">\(HTML.fixed(w.weight, 4))</td>"
                } else {
                    s += "<td class=\"na\">—</td>"
                }
            }
            s += "</tr>"
        }
        s += "</tbody></table></div></details></section>"
        return s
    }
}
