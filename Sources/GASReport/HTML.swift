import Foundation

/// Escaping and number formatting shared by the pages and charts.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A fixed-decimals rendering, independent of the locale.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        return String(format: "%.\(digits)f", value)
    }

    static func percent(_ value: Double, _ digits: Int = 1) -> String { fixed(value * 100, digits) + "%" }

    /// The shortest decimal that reads back as the same Double (what results.json holds).
    static func exact(_ value: Double) -> String { "\(value)" }

    /// A number cell the browser test can check: `data-value` is exact, the text is rounded.
    /// `ref` names where the number lives in results.json.
    static func numberCell(_ value: Double?, digits: Int = 4, ref: MetricRef?, tag: String = "td", classes: String = "num",
                           title: String? = nil) -> String {
        let titleAttr = title.map { " title=\"\(escape($0))\"" } ?? ""
        guard let value else { return "<\(tag) class=\"\(classes) na\"\(titleAttr)>—</\(tag)>" }
        return "<\(tag) class=\"\(classes)\"\(ref?.attributes(value) ?? "")\(titleAttr)>\(fixed(value, digits))</\(tag)>"
    }

    static func intCell(_ value: Int, ref: MetricRef?) -> String {
        "<td class=\"num\"\(ref?.attributes(Double(value)) ?? "")>\(value)</td>"
    }
}

/// Where a number shown on the page comes from in results.json:
/// `detectors[detector]` then `overall` (scope "overall"), `breakdowns[scope][key]` or the detector
/// object itself (scope "detector"), then `metric` (a dotted path such as `sn34_ci.lower`).
struct MetricRef {
    var detector: String
    var scope: String
    var key: String
    var metric: String

    func attributes(_ value: Double) -> String {
        " data-detector=\"\(HTML.escape(detector))\" data-scope=\"\(HTML.escape(scope))\" data-key=\"\(HTML.escape(key))\""
            + " data-metric=\"\(HTML.escape(metric))\" data-value=\"\(HTML.exact(value))\""
    }
}

/// Colours: a colour-blind-safe categorical palette for detectors (Okabe & Ito) and viridis for scores.
enum Palette {
    static let categorical = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#B8A100"]

    static func series(_ index: Int) -> String { categorical[index % categorical.count] }

    static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (110, 206, 88), (181, 222, 43), (253, 231, 37),
    ]

    /// Viridis at t in [0, 1], with a text colour that stays readable on it.
    static func score(_ t: Double) -> (fill: String, text: String) {
        let x = min(max(t, 0), 1) * Double(viridis.count - 1)
        let i = min(Int(x), viridis.count - 2)
        let f = x - Double(i)
        let a = viridis[i], b = viridis[i + 1]
        let r = a.0 + (b.0 - a.0) * f, g = a.1 + (b.1 - a.1) * f, bl = a.2 + (b.2 - a.2) * f
        let luminance = (0.2126 * r + 0.7152 * g + 0.0722 * bl) / 255
        return (String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(bl.rounded())),
                luminance > 0.45 ? "#111827" : "#ffffff")
    }

    static let status: [String: String] = ["ok": "#059669", "error": "#dc2626", "timeout": "#d97706", "skipped": "#9ca3af"]
}
