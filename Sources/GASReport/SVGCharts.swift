import Foundation

/// Hand-written SVG charts: no scripts, no external assets, text stays selectable.
enum SVGCharts {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        /// Marker radius per point (nil: no markers).
        var radii: [Double]? = nil
        /// Tooltip per point.
        var tips: [String]? = nil
        /// Per point: draw the marker as a ring (e.g. an invalidated score).
        var hollow: [Bool]? = nil
        var dashed = false
        var lineWidth = 2.2
        var lineOpacity = 1.0
    }

    struct Axis {
        var domain: ClosedRange<Double>
        var label: String
        var ticks: [(value: Double, label: String)]

        static func unit(_ label: String, step: Double = 0.2) -> Axis {
            Axis(domain: 0...1, label: label,
                 ticks: stride(from: 0.0, through: 1.0001, by: step).map { ($0, HTML.fixed($0, 1)) })
        }
    }

    /// An XY chart: lines (optionally with markers), a light grid, axis labels and an inline legend.
    static func xy(title: String, series: [Series], x: Axis, y: Axis, width: Double = 460, height: Double = 380,
                   diagonal: Bool = false, diagonalLabel: String? = nil, rotateXTicks: Bool = false) -> String {
        // Slanted tick labels hang to the left of their tick: leave room for the first one.
        let left = rotateXTicks ? 96.0 : 52.0, right = 16.0, top = 14.0
        let bottom = rotateXTicks ? 96.0 : 46.0
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ v: Double) -> Double { left + (v - x.domain.lowerBound) / (x.domain.upperBound - x.domain.lowerBound) * plotW }
        func py(_ v: Double) -> Double { top + plotH - (v - y.domain.lowerBound) / (y.domain.upperBound - y.domain.lowerBound) * plotH }
        var s = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        s += "<title>\(HTML.escape(title))</title>"
        s += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\" class=\"plot-bg\"/>"
        for t in y.ticks {
            s += "<line class=\"grid\" x1=\"\(n(left))\" x2=\"\(n(left + plotW))\" y1=\"\(n(py(t.value)))\" y2=\"\(n(py(t.value)))\"/>"
            s += "<text class=\"tick\" x=\"\(n(left - 6))\" y=\"\(n(py(t.value) + 4))\" text-anchor=\"end\">\(HTML.escape(t.label))</text>"
        }
        for t in x.ticks {
            s += "<line class=\"grid\" x1=\"\(n(px(t.value)))\" x2=\"\(n(px(t.value)))\" y1=\"\(n(top))\" y2=\"\(n(top + plotH))\"/>"
            if rotateXTicks {
                s += "<text class=\"tick\" transform=\"translate(\(n(px(t.value) + 4)),\(n(top + plotH + 10))) rotate(-40)\" text-anchor=\"end\">\(HTML.escape(t.label))</text>"
            } else {
                s += "<text class=\"tick\" x=\"\(n(px(t.value)))\" y=\"\(n(top + plotH + 16))\" text-anchor=\"middle\">\(HTML.escape(t.label))</text>"
            }
        }
        s += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\" class=\"frame\"/>"
        if diagonal {
            s += "<line class=\"diagonal\" x1=\"\(n(px(x.domain.lowerBound)))\" y1=\"\(n(py(y.domain.lowerBound)))\" x2=\"\(n(px(x.domain.upperBound)))\" y2=\"\(n(py(y.domain.upperBound)))\"/>"
            if let diagonalLabel {
                s += "<text class=\"note\" transform=\"translate(\(n(px(0.62))),\(n(py(0.56)))) rotate(\(n(-atan2(plotH, plotW) * 180 / .pi)))\">\(HTML.escape(diagonalLabel))</text>"
            }
        }
        for (i, serie) in series.enumerated() {
            let path = serie.points.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
            if serie.points.count > 1 {
                let stroke = " stroke-width=\"\(serie.lineWidth)\"" + (serie.lineOpacity < 1 ? " stroke-opacity=\"\(serie.lineOpacity)\"" : "")
                s += "<polyline class=\"series\" data-series=\"\(i)\" fill=\"none\" stroke=\"\(serie.color)\"\(stroke)\(serie.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"><title>\(HTML.escape(serie.name))</title></polyline>"
            }
            if let radii = serie.radii {
                for (j, p) in serie.points.enumerated() {
                    let tip = serie.tips.map { $0[j] } ?? serie.name
                    let paint = serie.hollow?[j] == true
                        ? "fill=\"#fff\" stroke=\"\(serie.color)\" stroke-width=\"2\""
                        : "fill=\"\(serie.color)\" fill-opacity=\"0.75\" stroke=\"#fff\" stroke-width=\"1\""
                    s += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"\(n(radii[j]))\" \(paint)><title>\(HTML.escape(tip))</title></circle>"
                }
            }
        }
        s += "<text class=\"axis-label\" x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 6))\" text-anchor=\"middle\">\(HTML.escape(x.label))</text>"
        s += "<text class=\"axis-label\" transform=\"translate(14,\(n(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(y.label))</text>"
        s += "</svg>"
        return s
    }

    /// A legend as HTML (wraps naturally, any number of entries).
    static func legend(_ entries: [(name: String, color: String, detail: String?)]) -> String {
        "<ul class=\"legend\">" + entries.map { e in
            "<li><span class=\"swatch\" style=\"background:\(e.color)\"></span>\(HTML.escape(e.name))"
                + (e.detail.map { " <span class=\"muted\">\(HTML.escape($0))</span>" } ?? "") + "</li>"
        }.joined() + "</ul>"
    }

    struct HeatCell {
        var value: Double?
        var tip: String
        var ref: MetricRef?
    }

    /// A rows x columns grid of scores in [0, 1], coloured with viridis, each cell labelled.
    static func heatmap(title: String, rows: [String], columns: [String], columnNotes: [String], cells: [[HeatCell]]) -> String {
        let cellH = 34.0
        let rowLabelW = min(max(Double(rows.map(\.count).max() ?? 8) * 7.2 + 16, 90), 260)
        let longest = Double(columns.map(\.count).max() ?? 0)
        // Few columns: widen the cells so labels stay horizontal. Many: narrow cells, slanted labels.
        let wide = max(78, longest * 6.8 + 16)
        let rotate = Double(columns.count) * wide > 940
        let cellW = rotate ? 64.0 : wide
        let slant = 35.0 * Double.pi / 180
        let labelLength = (longest + 6) * 6.4
        let headerH = rotate ? min(labelLength * sin(slant) + 24, 200) : 40
        let overhang = rotate ? max(0, labelLength * cos(slant) - cellW / 2) : 0
        let width = rowLabelW + Double(columns.count) * cellW + 8 + overhang
        let height = headerH + Double(rows.count) * cellH + 8
        var s = "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\"><title>\(HTML.escape(title))</title>"
        for (j, c) in columns.enumerated() {
            let cx = rowLabelW + Double(j) * cellW + cellW / 2
            if rotate {
                s += "<text class=\"col-label\" transform=\"translate(\(n(cx - 4)),\(n(headerH - 6))) rotate(-35)\"><tspan>\(HTML.escape(c))</tspan><tspan class=\"muted\" dx=\"4\">\(HTML.escape(columnNotes[j]))</tspan></text>"
            } else {
                s += "<text class=\"col-label\" x=\"\(n(cx))\" y=\"\(n(headerH - 22))\" text-anchor=\"middle\">\(HTML.escape(c))</text>"
                s += "<text class=\"col-note\" x=\"\(n(cx))\" y=\"\(n(headerH - 8))\" text-anchor=\"middle\">\(HTML.escape(columnNotes[j]))</text>"
            }
        }
        for (i, r) in rows.enumerated() {
            let y = headerH + Double(i) * cellH
            s += "<text class=\"row-label\" x=\"\(n(rowLabelW - 10))\" y=\"\(n(y + cellH / 2 + 4))\" text-anchor=\"end\">\(HTML.escape(r))</text>"
            for (j, cell) in cells[i].enumerated() {
                let x = rowLabelW + Double(j) * cellW
                if let v = cell.value {
                    let colour = Palette.score(v)
                    s += "<g><title>\(HTML.escape(cell.tip))</title><rect x=\"\(n(x + 1))\" y=\"\(n(y + 1))\" width=\"\(n(cellW - 2))\" height=\"\(n(cellH - 2))\" rx=\"3\" fill=\"\(colour.fill)\"/>"
                    s += "<text class=\"cell\" x=\"\(n(x + cellW / 2))\" y=\"\(n(y + cellH / 2 + 4))\" text-anchor=\"middle\" fill=\"\(colour.text)\"\(cell.ref?.attributes(v) ?? "")>\(HTML.fixed(v, 3))</text></g>"
                } else {
                    s += "<g><title>\(HTML.escape(cell.tip))</title><rect x=\"\(n(x + 1))\" y=\"\(n(y + 1))\" width=\"\(n(cellW - 2))\" height=\"\(n(cellH - 2))\" rx=\"3\" class=\"empty-cell\"/>"
                    s += "<text class=\"cell muted\" x=\"\(n(x + cellW / 2))\" y=\"\(n(y + cellH / 2 + 4))\" text-anchor=\"middle\">—</text></g>"
                }
            }
        }
        s += "</svg>"
        return s
    }

    /// The viridis scale as a small horizontal bar with 0 and 1 at its ends.
    static func scaleBar(label: String) -> String {
        let w = 220.0
        var s = "<svg class=\"scale\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(w + 80)) 30\" width=\"\(n(w + 80))\" height=\"30\" role=\"img\" aria-label=\"colour scale\"><defs><linearGradient id=\"viridis\">"
        for k in 0...10 {
            s += "<stop offset=\"\(k * 10)%\" stop-color=\"\(Palette.score(Double(k) / 10).fill)\"/>"
        }
        s += "</linearGradient></defs><rect x=\"20\" y=\"4\" width=\"\(n(w))\" height=\"12\" rx=\"2\" fill=\"url(#viridis)\"/>"
        s += "<text class=\"tick\" x=\"20\" y=\"28\" text-anchor=\"middle\">0</text><text class=\"tick\" x=\"\(n(20 + w))\" y=\"28\" text-anchor=\"middle\">1</text>"
        s += "<text class=\"tick\" x=\"\(n(28 + w))\" y=\"14\">\(HTML.escape(label))</text></svg>"
        return s
    }

    /// sn34 with its confidence interval on a 0-1 axis, sized for a table cell.
    static func interval(value: Double, lower: Double?, upper: Double?, color: String) -> String {
        let w = 150.0, h = 22.0, pad = 6.0
        func px(_ v: Double) -> Double { pad + min(max(v, 0), 1) * (w - 2 * pad) }
        var s = "<svg class=\"ci\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(w)) \(n(h))\" width=\"\(n(w))\" height=\"\(n(h))\" aria-hidden=\"true\">"
        s += "<line x1=\"\(n(px(0)))\" x2=\"\(n(px(1)))\" y1=\"11\" y2=\"11\" class=\"ci-axis\"/>"
        for t in [0.0, 0.5, 1.0] { s += "<line x1=\"\(n(px(t)))\" x2=\"\(n(px(t)))\" y1=\"7\" y2=\"15\" class=\"ci-axis\"/>" }
        if let lower, let upper {
            s += "<rect x=\"\(n(px(lower)))\" y=\"6\" width=\"\(n(max(px(upper) - px(lower), 1.5)))\" height=\"10\" rx=\"3\" fill=\"\(color)\" fill-opacity=\"0.28\"/>"
        }
        s += "<circle cx=\"\(n(px(value)))\" cy=\"11\" r=\"4\" fill=\"\(color)\"/></svg>"
        return s
    }

    /// One horizontal bar split by outcome status.
    static func statusBar(_ counts: [(status: String, count: Int)], width: Double = 240) -> String {
        let total = max(counts.reduce(0) { $0 + $1.count }, 1)
        var s = "<svg class=\"status-bar\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) 16\" width=\"\(n(width))\" height=\"16\" role=\"img\" aria-label=\"outcomes\">"
        var x = 0.0
        for c in counts where c.count > 0 {
            let w = Double(c.count) / Double(total) * width
            s += "<rect x=\"\(n(x))\" y=\"2\" width=\"\(n(w))\" height=\"12\" fill=\"\(Palette.status[c.status] ?? "#6b7280")\"><title>\(HTML.escape("\(c.status): \(c.count)"))</title></rect>"
            x += w
        }
        s += "</svg>"
        return s
    }

    /// Compact numbers for SVG coordinates.
    static func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }
}
