import GASCore

/// The run report: one self-contained HTML page (inline CSS and SVG, no external assets).
public enum RunReportPage {
    public static func render(_ r: RunReport) -> String {
        let colors = Dictionary(r.detectors.enumerated().map { ($0.element.name, Palette.series($0.offset)) }, uniquingKeysWith: { a, _ in a })
        var body = header(r)
        body += "<main>"
        body += glance(r, colors: colors)
        body += leaderboards(r, colors: colors)
        body += heatmaps(r)
        body += curves(r, colors: colors)
        body += confusion(r)
        body += generators(r)
        body += outcomes(r)
        body += reproduce(r)
        body += glossary(r)
        body += "</main><footer>Written by gascli \(HTML.escape(r.run.toolVersion)) from \(HTML.escape(r.run.id)). Numbers are the run's stored metrics (the same as results.json).</footer>"
        return PageShell.document(title: "\(r.run.round) — \(r.run.id) — gascli report", body: body)
    }

    // MARK: Sections

    static func header(_ r: RunReport) -> String {
        let statusBadge = r.run.status == "completed" ? "good" : (r.run.status == "running" ? "warn" : "bad")
        let real = r.samplesByLabel["real"] ?? 0, ai = r.samplesByLabel["ai"] ?? 0
        return """
        <header class="top"><div class="inner">
        <h1>\(HTML.escape(r.run.round)) <span class="badge \(statusBadge)">\(HTML.escape(r.run.status))</span></h1>
        <div class="meta"><span>run <code id="run-id">\(HTML.escape(r.run.id))</code></span><span>started \(HTML.escape(display(r.run.startedAt)))</span>\
        <span id="sample-count" data-value="\(r.sampleCount)">\(r.sampleCount) samples (\(real) real, \(ai) AI\(r.skippedInputs > 0 ? ", \(r.skippedInputs) unreadable" : ""))</span>\
        <span>\(r.detectors.count) detector\(r.detectors.count == 1 ? "" : "s")</span>\
        <span>manifest <code title="\(HTML.escape(r.run.manifestHash))">\(HTML.escape(String(r.run.manifestHash.prefix(16))))</code></span></div>
        <nav class="toc"><a href="#leaderboard">Leaderboard</a><a href="#breakdowns">By dataset and source</a><a href="#curves">ROC and calibration</a>\
        <a href="#confusion">Confusion</a><a href="#generators">Generators</a><a href="#outcomes">Outcomes</a><a href="#reproduce">Reproduce</a></nav>
        </div></header>
        """
    }

    /// Detectors ranked per modality on that modality's slice (invalidated detectors score 0).
    static func modalityRanking(_ r: RunReport) -> [(modality: String, rows: [(detector: RunReport.Detector, metrics: BinaryMetrics)])] {
        var keys = Set<String>()
        for d in r.detectors { for b in d.score.breakdowns where b.scope == .modality && b.metrics.samples > 0 { keys.insert(b.key) } }
        return keys.sorted().map { m in
            let rows = r.detectors.compactMap { d -> (RunReport.Detector, BinaryMetrics)? in
                guard let b = d.score.breakdowns.first(where: { $0.scope == .modality && $0.key == m }), b.metrics.samples > 0 else { return nil }
                return (d, b.metrics)
            }
            func rank(_ x: (RunReport.Detector, BinaryMetrics)) -> Double { x.0.score.invalidated ? 0 : x.1.sn34 }
            return (m, rows.sorted { (rank($0), $1.0.name) > (rank($1), $0.0.name) }.map { ($0.0, $0.1) })
        }
    }

    static func glance(_ r: RunReport, colors: [String: String]) -> String {
        var s = "<section id=\"glance\"><h2>At a glance</h2><p class=\"lead\">The winner of each modality by sn34 (higher is better), with its \(HTML.fixed(r.bootstrap.level * 100, 0))% bootstrap interval.</p><div class=\"cards\">"
        let ranking = modalityRanking(r)
        if ranking.isEmpty { s += "<div class=\"empty\">No detector has scored samples.</div>" }
        for (modality, rows) in ranking {
            guard let first = rows.first else { continue }
            let value = first.detector.score.invalidated ? 0 : first.metrics.sn34
            var note = ""
            if rows.count > 1 {
                let second = rows[1]
                let secondValue = second.detector.score.invalidated ? 0 : second.metrics.sn34
                let overlap = (first.metrics.sn34CI?.lower ?? 0) <= (second.metrics.sn34CI?.upper ?? 1)
                note = "ahead of \(HTML.escape(second.detector.name)) by \(HTML.fixed(value - secondValue, 4))"
                    + (overlap ? " — the intervals overlap" : " — the intervals do not overlap")
            }
            let ci = first.metrics.sn34CI.map { "[\(HTML.fixed($0.lower, 3)), \(HTML.fixed($0.upper, 3))]" } ?? ""
            s += """
            <div class="card winner-card" data-modality="\(HTML.escape(modality))"><div class="label">\(HTML.escape(modality)) winner</div>\
            <div class="name"><span class="swatch-inline" style="color:\(colors[first.detector.name] ?? "#000")">●</span> \(HTML.escape(first.detector.name))</div>\
            <div class="big"\(MetricRef(detector: first.detector.name, scope: "modality", key: modality, metric: "sn34").attributes(first.metrics.sn34))>\(HTML.fixed(first.metrics.sn34, 4))</div>\
            <div class="muted">\(ci.isEmpty ? "" : "95% CI \(ci) · ")\(first.metrics.samples) samples\(note.isEmpty ? "" : "<br>\(note)")</div></div>
            """
        }
        let failures = r.detectors.reduce(0) { $0 + ($1.score.statusCounts["error"] ?? 0) + ($1.score.statusCounts["timeout"] ?? 0) }
        s += "<div class=\"card\"><div class=\"label\">Samples</div><div class=\"big\">\(r.sampleCount)</div><div class=\"muted\">"
            + r.samplesByDataset.sorted { $0.key < $1.key }.map { "\(HTML.escape($0.key)) \($0.value)" }.joined(separator: " · ") + "</div></div>"
        s += "<div class=\"card\"><div class=\"label\">Failures</div><div class=\"big\">\(failures)</div><div class=\"muted\">errors and timeouts over all detectors; "
            + "on_failure: <code>\(HTML.escape(r.scoring.onFailure.rawValue))</code></div></div>"
        s += "</div></section>"
        return s
    }

    static func leaderboards(_ r: RunReport, colors: [String: String]) -> String {
        var s = "<section id=\"leaderboard\"><h2>Leaderboard</h2><p class=\"lead\">Per modality, on that modality's samples. sn34 = √(((MCC+1)/2)^\(HTML.fixed(r.scoring.parameters.alpha, 1)) · ((0.25−Brier)/0.25)^\(HTML.fixed(r.scoring.parameters.beta, 1))); "
            + "the bar shows sn34 (dot) and its \(HTML.fixed(r.bootstrap.level * 100, 0))% interval on a 0–1 axis. Click a column to sort.</p>"
        for (modality, rows) in modalityRanking(r) {
            s += "<h3>\(HTML.escape(modality))</h3><div class=\"scroll\"><table class=\"sortable leaderboard\" data-modality=\"\(HTML.escape(modality))\"><thead><tr>"
            s += ["#", "detector", "sn34", "95% interval", "accuracy", "MCC", "Brier", "AUC", "ECE", "recall real", "recall AI", "coverage"]
                .enumerated().map { i, h in "<th class=\"\(i == 1 || i == 3 ? "" : "num")\">\(h)</th>" }.joined()
            s += "</tr></thead><tbody>"
            for (i, row) in rows.enumerated() {
                let d = row.detector, m = row.metrics
                func ref(_ metric: String) -> MetricRef { MetricRef(detector: d.name, scope: "modality", key: modality, metric: metric) }
                let badge = d.score.invalidated ? "<span class=\"badge bad\" title=\"\(HTML.escape(d.score.invalidReason ?? "invalidated"))\">invalid: ranks 0</span>" : ""
                let ci = m.sn34CI
                s += "<tr class=\"\(i == 0 ? "winner" : "")\"><td class=\"num\">\(i + 1)</td>"
                s += "<td><span style=\"color:\(colors[d.name] ?? "#000")\">●</span> \(HTML.escape(d.name))\(badge)</td>"
                s += HTML.numberCell(m.sn34, ref: ref("sn34"), classes: "num strong")
                s += "<td class=\"ci-cell\" data-sort=\"\(ci.map { HTML.exact($0.lower) } ?? "")\">" + SVGCharts.interval(value: m.sn34, lower: ci?.lower, upper: ci?.upper, color: colors[d.name] ?? "#000")
                if let ci {
                    s += " <span class=\"muted\"><span\(ref("sn34_ci.lower").attributes(ci.lower))>\(HTML.fixed(ci.lower, 3))</span>–<span\(ref("sn34_ci.upper").attributes(ci.upper))>\(HTML.fixed(ci.upper, 3))</span></span>"
                }
                s += "</td>"
                s += HTML.numberCell(m.accuracy, ref: ref("accuracy"))
                s += HTML.numberCell(m.mcc, ref: ref("mcc"))
                s += HTML.numberCell(m.brier, ref: ref("brier"))
                s += HTML.numberCell(m.auc, ref: ref("auc"), title: m.auc == nil ? "undefined: the slice has one class" : nil)
                s += HTML.numberCell(m.ece, ref: ref("ece"))
                s += HTML.numberCell(m.recallReal, digits: 3, ref: ref("recall_real"))
                s += HTML.numberCell(m.recallAI, digits: 3, ref: ref("recall_ai"))
                s += "<td class=\"num\"\(MetricRef(detector: d.name, scope: "detector", key: "", metric: "coverage").attributes(d.score.coverage))>\(HTML.percent(d.score.coverage))</td>"
                s += "</tr>"
            }
            s += "</tbody></table></div>"
        }
        if modalityRanking(r).isEmpty { s += "<div class=\"empty\">No scores yet: the run has no scored samples.</div>" }
        s += "</section>"
        return s
    }

    static func heatmaps(_ r: RunReport) -> String {
        var s = "<section id=\"breakdowns\"><h2>Where detectors succeed and fail</h2><p class=\"lead\">sn34 per detector on each slice of the samples. Hover a cell for accuracy, AUC and the sample count. "
            + "A single-class slice (only real or only AI samples) has MCC 0 by definition, which caps its sn34 near 0.66: compare detectors within a column.</p>"
        s += "<div class=\"scale-row\">" + SVGCharts.scaleBar(label: "sn34") + "</div>"
        func grid(_ scope: BreakdownScope, title: String) -> String {
            var keys: [String: Int] = [:]
            for d in r.detectors { for b in d.score.breakdowns where b.scope == scope { keys[b.key] = max(keys[b.key] ?? 0, b.metrics.samples) } }
            let columns = keys.keys.sorted()
            guard !columns.isEmpty else { return "" }
            let cells = r.detectors.map { d in
                columns.map { key -> SVGCharts.HeatCell in
                    guard let m = d.score.breakdowns.first(where: { $0.scope == scope && $0.key == key })?.metrics, m.samples > 0 else {
                        return SVGCharts.HeatCell(value: nil, tip: "\(d.name) · \(key): no samples", ref: nil)
                    }
                    let tip = "\(d.name) · \(key)\nsn34 \(HTML.fixed(m.sn34, 4))"
                        + (m.sn34CI.map { " [\(HTML.fixed($0.lower, 3)), \(HTML.fixed($0.upper, 3))]" } ?? "")
                        + "\naccuracy \(HTML.fixed(m.accuracy, 3)) · AUC \(m.auc.map { HTML.fixed($0, 3) } ?? "—") · ECE \(m.ece.map { HTML.fixed($0, 3) } ?? "—")"
                        + "\n\(m.samples) samples: TP \(m.truePositives) TN \(m.trueNegatives) FP \(m.falsePositives) FN \(m.falseNegatives)"
                    return SVGCharts.HeatCell(value: m.sn34, tip: tip, ref: MetricRef(detector: d.name, scope: scope.rawValue, key: key, metric: "sn34"))
                }
            }
            return "<figure><h3>\(title)</h3><div class=\"scroll\">" + SVGCharts.heatmap(
                title: "sn34 by \(title.lowercased())", rows: r.detectors.map(\.name), columns: columns,
                columnNotes: columns.map { "n=\(keys[$0] ?? 0)" }, cells: cells) + "</div></figure>"
        }
        s += grid(.dataset, title: "Dataset")
        s += "<div class=\"row\"><div>" + grid(.source, title: "Source") + "</div><div>" + grid(.mediaType, title: "Media type") + "</div></div>"
        s += "</section>"
        return s
    }

    static func curves(_ r: RunReport, colors: [String: String]) -> String {
        var s = "<section id=\"curves\"><h2>ROC and calibration</h2><p class=\"lead\">Over all of a detector's scored samples (failures enter as p = 0.5 when on_failure is count_wrong).</p><div class=\"row\">"
        let rocSeries = r.detectors.filter { !$0.roc.isEmpty }.map { d in
            SVGCharts.Series(name: d.name, color: colors[d.name] ?? "#000",
                             points: d.roc.map { ($0.falsePositiveRate, $0.truePositiveRate) })
        }
        if rocSeries.isEmpty {
            s += "<div><h3>ROC curves</h3><div class=\"empty\">Undefined: the samples have a single class.</div></div>"
        } else {
            s += "<div class=\"chart-box\"><figure><h3>ROC curves</h3>" + SVGCharts.xy(title: "ROC curves", series: rocSeries,
                                                                   x: .unit("false positive rate (real called AI)"), y: .unit("true positive rate (AI called AI)"),
                                                                   diagonal: true, diagonalLabel: "chance")
            s += SVGCharts.legend(r.detectors.filter { !$0.roc.isEmpty }.map { d in
                (d.name, colors[d.name] ?? "#000", "AUC " + (d.score.overall.auc.map { HTML.fixed($0, 3) } ?? "—"))
            })
            s += "<figcaption>Each curve sweeps the decision threshold over p(AI); the area under it is the AUC.</figcaption></figure></div>"
        }
        let calibrated = r.detectors.filter { d in d.calibration.contains { $0.count > 0 } }
        let calSeries = calibrated.map { d -> SVGCharts.Series in
            let bins = d.calibration.filter { $0.count > 0 }
            let maxCount = Double(bins.map(\.count).max() ?? 1)
            // The line only guides the eye between the dots: thin and light.
            var serie = SVGCharts.Series(
                name: d.name, color: colors[d.name] ?? "#000",
                points: bins.map { ($0.meanPredicted ?? 0, $0.observedAIShare ?? 0) },
                radii: bins.map { 3 + 6 * (Double($0.count) / maxCount).squareRoot() },
                tips: bins.map { "\(d.name) · p(AI) in [\(HTML.fixed($0.lower, 1)), \(HTML.fixed($0.upper, 1))\($0.upper >= 1 ? "]" : ")")\n\($0.count) samples, mean p(AI) \(HTML.fixed($0.meanPredicted ?? 0, 3)), share AI \(HTML.fixed($0.observedAIShare ?? 0, 3))" })
            serie.lineWidth = 1.4
            serie.lineOpacity = 0.55
            return serie
        }
        if calSeries.isEmpty {
            s += "<div><h3>Reliability diagram</h3><div class=\"empty\">No predictions.</div></div>"
        } else {
            s += "<div class=\"chart-box\"><figure><h3>Reliability diagram</h3>" + SVGCharts.xy(title: "Reliability diagram", series: calSeries,
                                                                            x: .unit("mean predicted p(AI) in the bin"), y: .unit("share of AI samples in the bin"),
                                                                            diagonal: true, diagonalLabel: "perfectly calibrated")
            s += SVGCharts.legend(calibrated.map { d in (d.name, colors[d.name] ?? "#000", "ECE " + (d.score.overall.ece.map { HTML.fixed($0, 3) } ?? "—")) })
            s += "<figcaption>10 equal-width bins of p(AI); a dot's area grows with its sample count. Dots below the diagonal are over-confident about AI, above it under-confident.</figcaption></figure></div>"
        }
        s += "</div></section>"
        return s
    }

    static func confusion(_ r: RunReport) -> String {
        var s = "<section id=\"confusion\"><h2>Confusion matrices</h2><p class=\"lead\">All scored samples, threshold p(AI) &gt; 0.5. Row percentages: how each true class was called.</p><div class=\"matrices\">"
        for d in r.detectors {
            let m = d.score.overall
            func ref(_ metric: String) -> MetricRef { MetricRef(detector: d.name, scope: "overall", key: "all", metric: metric) }
            let realTotal = m.trueNegatives + m.falsePositives, aiTotal = m.truePositives + m.falseNegatives
            func cell(_ count: Int, of total: Int, correct: Bool, metric: String) -> String {
                let share = total == 0 ? 0 : Double(count) / Double(total)
                let colour = correct ? "rgba(5,150,105,\(HTML.fixed(0.08 + 0.6 * share, 2)))" : "rgba(220,38,38,\(HTML.fixed(0.06 + 0.6 * share, 2)))"
                let text = share > 0.6 ? "#fff" : "#111827"
                return "<td class=\"cm\" style=\"background:\(colour);color:\(text)\"><span\(ref(metric).attributes(Double(count)))>\(count)</span><small>\(total == 0 ? "—" : HTML.percent(share, 0))</small></td>"
            }
            s += """
            <div class="matrix"><h3>\(HTML.escape(d.name))</h3><table><tr><th></th><th>called real</th><th>called AI</th></tr>\
            <tr><th class="side">real (\(realTotal))</th>\(cell(m.trueNegatives, of: realTotal, correct: true, metric: "tn"))\(cell(m.falsePositives, of: realTotal, correct: false, metric: "fp"))</tr>\
            <tr><th class="side">AI (\(aiTotal))</th>\(cell(m.falseNegatives, of: aiTotal, correct: false, metric: "fn"))\(cell(m.truePositives, of: aiTotal, correct: true, metric: "tp"))</tr></table>\
            <div class="muted">recall real \(m.recallReal.map { HTML.fixed($0, 3) } ?? "—") · recall AI \(m.recallAI.map { HTML.fixed($0, 3) } ?? "—")</div></div>
            """
        }
        s += "</div></section>"
        return s
    }

    static func generators(_ r: RunReport) -> String {
        var s = "<section id=\"generators\"><h2>Generators</h2>"
        guard let rows = r.generators, !rows.isEmpty else {
            return s + "<div class=\"empty\" id=\"no-generators\">No generator media in this round: the samples are catalog datasets and locally generated synthetic media.</div></section>"
        }
        s += "<p class=\"lead\">Generator miners whose media entered the round. Fool rate: the share of their media the detectors called real.</p>"
        s += "<div class=\"scroll\"><table class=\"sortable generators\"><thead><tr>"
        s += ["generator", "uid", "hotkey", "modality", "challenges", "accepted", "pass rate", "fool rate", "samples", "volume", "resolution", "fool bonus", "reward"]
            .enumerated().map { i, h in "<th class=\"\(i < 4 ? "" : "num")\">\(h)</th>" }.joined()
        s += "</tr></thead><tbody>"
        func opt(_ v: Double?, _ digits: Int = 3) -> String { HTML.numberCell(v, digits: digits, ref: nil) }
        func optInt(_ v: Int?) -> String { v.map { "<td class=\"num\">\($0)</td>" } ?? "<td class=\"na\">—</td>" }
        for g in rows.sorted(by: { ($0.foolRate ?? -1, $1.generator) > ($1.foolRate ?? -1, $0.generator) }) {
            let hotkey = g.hotkey.map { "<code title=\"\(HTML.escape($0))\">\(HTML.escape(String($0.prefix(10))))…</code>" } ?? "—"
            s += "<tr><td>\(HTML.escape(g.generator))</td><td>\(g.uid.map(String.init) ?? "—")</td><td>\(hotkey)</td><td>\(HTML.escape(g.modality ?? "—"))</td>"
            s += optInt(g.challenges) + optInt(g.accepted) + opt(g.passRate)
            if let fool = g.foolRate {
                s += "<td class=\"num\" data-value=\"\(HTML.exact(fool))\"><svg width=\"60\" height=\"10\" aria-hidden=\"true\"><rect width=\"60\" height=\"10\" rx=\"2\" fill=\"#eef0f3\"/><rect width=\"\(SVGCharts.n(60 * min(max(fool, 0), 1)))\" height=\"10\" rx=\"2\" fill=\"#D55E00\"/></svg> \(HTML.fixed(fool, 3))</td>"
            } else {
                s += "<td class=\"na\">—</td>"
            }
            s += optInt(g.samples) + opt(g.volumeFactor) + opt(g.resolutionFactor) + opt(g.foolBonus) + opt(g.reward, 4) + "</tr>"
        }
        s += "</tbody></table></div></section>"
        return s
    }

    static func outcomes(_ r: RunReport) -> String {
        let statuses = OutcomeStatus.allCases.map(\.rawValue)
        var s = "<section id=\"outcomes\"><h2>Outcomes</h2><p class=\"lead\">Every planned (sample, detector) pair ends in exactly one outcome. "
            + "Skipped: the runner could not read the sample (never the detector's fault, never scored).</p>"
        s += "<div class=\"scroll\"><table class=\"sortable outcomes\"><thead><tr><th>detector</th><th>adapter</th>"
            + statuses.map { "<th class=\"num\"><span style=\"color:\(Palette.status[$0] ?? "#000")\">■</span> \($0)</th>" }.joined()
            + "<th>share</th><th class=\"num\">coverage</th><th class=\"num\">mean latency</th><th class=\"num\">p95 latency</th></tr></thead><tbody>"
        for d in r.detectors {
            s += "<tr><td>\(HTML.escape(d.name))</td><td>\(HTML.escape(d.adapter))</td>"
            for status in statuses {
                s += HTML.intCell(d.score.statusCounts[status] ?? 0, ref: MetricRef(detector: d.name, scope: "detector", key: "", metric: "status_counts.\(status)"))
            }
            s += "<td>" + SVGCharts.statusBar(statuses.map { ($0, d.score.statusCounts[$0] ?? 0) }, width: 180) + "</td>"
            s += "<td class=\"num\">\(HTML.percent(d.score.coverage))</td>"
            s += "<td class=\"num\">\(d.meanLatencyMs.map { HTML.fixed($0, 1) + " ms" } ?? "—")</td><td class=\"num\">\(d.p95LatencyMs.map { HTML.fixed($0, 1) + " ms" } ?? "—")</td></tr>"
        }
        s += "</tbody></table></div>"
        s += "<h3>Reasons</h3>"
        if r.detectors.allSatisfy({ $0.failures.isEmpty }) {
            s += "<div class=\"empty\" id=\"no-failures\">No errors, timeouts or skipped samples.</div>"
        } else {
            s += "<p class=\"lead\">The most frequent messages per detector (at most \(reasonsShown)); every message is in predictions.parquet and run.sqlite.</p>"
            s += "<div class=\"scroll\"><table class=\"sortable reasons\"><thead><tr><th>detector</th><th>status</th><th class=\"num\">count</th><th>reason</th></tr></thead><tbody>"
            for d in r.detectors where !d.failures.isEmpty {
                for f in d.failures.prefix(reasonsShown) {
                    s += "<tr><td>\(HTML.escape(d.name))</td><td class=\"nowrap\"><span style=\"color:\(Palette.status[f.status] ?? "#000")\">■</span> \(HTML.escape(f.status))</td><td class=\"num\">\(f.count)</td><td><code>\(HTML.escape(f.reason))</code></td></tr>"
                }
                let rest = d.failures.dropFirst(reasonsShown)
                if !rest.isEmpty {
                    s += "<tr><td>\(HTML.escape(d.name))</td><td class=\"nowrap muted\">other</td><td class=\"num\">\(rest.reduce(0) { $0 + $1.count })</td><td class=\"muted\">\(rest.count) other message\(rest.count == 1 ? "" : "s")</td></tr>"
                }
            }
            s += "</tbody></table></div>"
        }
        s += "</section>"
        return s
    }

    static func reproduce(_ r: RunReport) -> String {
        let outputs = shellQuote(r.run.outputs), id = shellQuote(r.run.id)
        var s = "<section id=\"reproduce\"><h2>Reproduce and audit</h2><p class=\"lead\">The manifest is the frozen plan: every sample with the sha256 of its bytes, every detector with the sha256 of its artifacts, the scoring rule. Its sha256 identifies the run.</p>"
        s += "<dl class=\"kv\"><dt>manifest hash</dt><dd><code id=\"manifest-hash\">\(HTML.escape(r.run.manifestHash))</code></dd>"
        s += "<dt>run</dt><dd><code>\(HTML.escape(r.run.id))</code> (\(HTML.escape(r.run.status)), started \(HTML.escape(display(r.run.startedAt)))\(r.run.finishedAt.map { ", finished \(HTML.escape(display($0)))" } ?? ""))</dd>"
        s += "<dt>spec</dt><dd><code>\(HTML.escape(r.run.specPath))</code></dd>"
        s += "<dt>scoring</dt><dd>\(HTML.escape(r.scoring.rule)), α = \(HTML.exact(r.scoring.parameters.alpha)), β = \(HTML.exact(r.scoring.parameters.beta)), on_failure = <code>\(HTML.escape(r.scoring.onFailure.rawValue))</code></dd>"
        s += "<dt>intervals</dt><dd>\(HTML.escape(r.bootstrap.method)) bootstrap, B = \(r.bootstrap.resamples), level \(HTML.exact(r.bootstrap.level)), seed \(r.bootstrap.seed) (the round seed), resampled within each slice</dd>"
        s += "<dt>tool</dt><dd>gascli \(HTML.escape(r.run.toolVersion))</dd>"
        for d in r.detectors {
            s += "<dt>\(HTML.escape(d.name))</dt><dd>\(HTML.escape(d.adapter))\(d.artifactSHA256.map { ", artifacts sha256 <code>\(HTML.escape($0))</code>" } ?? "")</dd>"
        }
        s += "</dl>"
        s += """
        <pre><span class="c"># every metric again from the stored predictions; exit 1 if anything differs</span>
        gascli rescore \(HTML.escape(id)) --output \(HTML.escape(outputs))
        <span class="c"># re-execute the frozen plan and compare every prediction with the stored one</span>
        gascli replay \(HTML.escape(id)) --output \(HTML.escape(outputs))
        <span class="c"># this page again</span>
        gascli report \(HTML.escape(id)) --output \(HTML.escape(outputs))</pre>
        """
        s += "</section>"
        return s
    }

    static func glossary(_ r: RunReport) -> String {
        """
        <section id="glossary"><details><summary>What the numbers mean</summary><dl class="glossary">
        <dt>sn34</dt><dd>The subnet's score: the geometric mean of clamp((MCC+1)/2)^α and max(0, (0.25−Brier)/0.25)^β, floored at 1e-6 (α = \(HTML.exact(r.scoring.parameters.alpha)), β = \(HTML.exact(r.scoring.parameters.beta))).</dd>
        <dt>95% interval</dt><dd>Percentile bootstrap: \(r.bootstrap.resamples) resamples with replacement of the slice's own predictions, seeded with the round seed; every detector is resampled with the same indices, so intervals are comparable.</dd>
        <dt>AUC</dt><dd>Area under the ROC curve: the chance that a random AI sample gets a higher p(AI) than a random real one (ties count one half). Undefined for single-class slices.</dd>
        <dt>ECE</dt><dd>Expected calibration error: the sample-weighted mean gap between mean p(AI) and the share of AI samples over 10 equal-width bins of p(AI).</dd>
        <dt>recall real, recall AI</dt><dd>TN/(TN+FP) and TP/(TP+FN): the share of real samples called real and of AI samples called AI.</dd>
        <dt>coverage</dt><dd>The share of a detector's readable samples it answered (status ok).</dd>
        </dl></details></section>
        """
    }

    // MARK: Helpers

    /// Failure messages listed per detector before the rest are summed up.
    static let reasonsShown = 8

    /// "2026-11-26T01:03:18.123Z" -> "2026-11-26 01:03:18 UTC".
    static func display(_ timestamp: String) -> String {
        guard timestamp.count >= 19 else { return timestamp }
        let t = timestamp.replacingOccurrences(of: "T", with: " ")
        return String(t.prefix(19)) + (timestamp.hasSuffix("Z") ? " UTC" : "")
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
