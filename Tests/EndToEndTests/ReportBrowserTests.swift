import Foundation
import Testing
import GASTestSupport

/// The quickstart's report rendered by a real browser (headless Chromium from Debian's packages):
/// the scripts run without a single console message, nothing is blocked or loaded from outside,
/// and every number on the page equals the one in results.json.
@Suite(.serialized) struct ReportBrowserTests {
    /// Chromium from `GAS_TEST_CHROMIUM`, else the first of the usual names on PATH. Fails, never
    /// skips, when there is none.
    static func chromium() throws -> String {
        if let p = ProcessInfo.processInfo.environment["GAS_TEST_CHROMIUM"], !p.isEmpty { return p }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for dir in path.split(separator: ":") {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        throw TestSupportError("""
            the report test needs headless Chromium and found none on PATH: run .ci/run, or ./install.sh --with-test-tools \
            (installs Debian's chromium package), or set GAS_TEST_CHROMIUM to a Chromium binary
            """)
    }

    /// Runs Chromium headless on a file with its own profile, bounded in time.
    static func browse(_ chromium: String, _ arguments: [String], page: String) throws -> TestSupport.Result {
        let profile = try TestSupport.temporaryDirectory("chromium-profile")
        return try TestSupport.run("/usr/bin/timeout", [
            "120", chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--hide-scrollbars", "--enable-logging=stderr", "--v=0", "--user-data-dir=\(profile)",
        ] + arguments + ["file://" + page])
    }

    @Test func quickstartReportRendersCleanlyWithTheNumbersOfResultsJSON() throws {
        let chromium = try Self.chromium()
        let out = try TestSupport.temporaryDirectory("report")
        let (dir, run) = try Gascli.runQuiet("configs/quickstart.yaml", output: out)
        #expect(run.status == 0, "\(run.stderr)")
        let r = try Gascli.run(["report", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let page = dir + "/report.html"
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == page)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Self-contained: no external scripts, styles, images or fonts.
        #expect(!html.contains(" src=") && !html.contains("<link") && !html.contains("url(http"))

        let dump = try Self.browse(chromium, ["--dump-dom"], page: page)
        #expect(dump.status == 0, "chromium failed: \(dump.stderr.suffix(2000))")
        let dom = dump.stdout
        // The scripts ran (the error hook marks the body ready; the sorter marks the tables)...
        #expect(dom.contains("data-ready=\"1\"") && dom.contains("data-sortable=\"1\"") && dom.contains("tabindex=\"0\""),
                "scripts did not run: \(dom.prefix(400))")
        // ...and nothing went to the console: Chromium logs every console message, error or not, as a
        // CONSOLE line (uncaught exceptions and CSP violations included); the page's own hook shows them too.
        let consoleLines = dump.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") }
        #expect(consoleLines.isEmpty, "console messages: \(consoleLines.joined(separator: "\n"))")
        let errorsDiv = try #require(Self.firstMatch(#"<div id="console-errors"[^>]*>([\s\S]*?)</div>"#, in: dom))
        #expect(errorsDiv[1].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "page caught errors: \(errorsDiv[1])")

        // Every number tagged with its place in results.json equals it: data-value exactly, the
        // visible text to the digits shown.
        // JSONDecoder parses numbers exactly (JSONSerialization on Linux can be off in the last digit).
        let results = try #require(try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))).any
                                   as? [String: Any])
        let detectors = try #require(results["detectors"] as? [String: Any])
        var checked: [String: Int] = [:]
        for m in Self.allMatches(#"<(\w+)((?:\s+[\w-]+="[^"]*")*\s+data-metric="[^"]*"(?:\s+[\w-]+="[^"]*")*)\s*>([^<]*)<"#, in: dom) {
            let attributes = Self.attributes(m[2])
            let text = Self.unescape(m[3]).trimmingCharacters(in: .whitespaces)
            let detector = try #require(attributes["data-detector"]), scope = try #require(attributes["data-scope"])
            let key = attributes["data-key"] ?? "", metric = try #require(attributes["data-metric"])
            let valueText = try #require(attributes["data-value"])
            let shown = try #require(Double(valueText), "data-value of \(m[0])")
            var node: Any? = detectors[detector]
            switch scope {
            case "overall": node = (node as? [String: Any])?["overall"]
            case "detector": break
            default: node = ((node as? [String: Any])?["breakdowns"] as? [String: Any]).flatMap { $0[scope] as? [String: Any] }?[key]
            }
            for part in metric.split(separator: ".") { node = (node as? [String: Any])?[String(part)] }
            let expected = try #require(node as? Double, "results.json has no \(detector) \(scope) \(key) \(metric)")
            #expect(shown == expected, "\(detector) \(scope)/\(key) \(metric): page \(shown), results.json \(expected)")
            // The visible text, rounded as displayed (percentages for coverage).
            let isPercent = text.hasSuffix("%")
            let numberText = isPercent ? String(text.dropLast()) : text
            let number = try #require(Double(numberText), "text '\(text)' of \(metric)")
            let decimals = text.split(separator: ".").dropFirst().first.map { $0.filter(\.isNumber).count } ?? 0
            let scaled = isPercent ? expected * 100 : expected
            #expect(abs(number - scaled) <= 0.5 * Foundation.pow(10, -Double(decimals)) + 1e-9,
                    "\(detector) \(scope)/\(key) \(metric): shows '\(text)' for \(expected)")
            checked[metric, default: 0] += 1
        }
        for metric in ["sn34", "accuracy", "mcc", "brier", "auc", "ece", "recall_real", "recall_ai", "sn34_ci.lower", "sn34_ci.upper",
                       "coverage", "tp", "tn", "fp", "fn", "status_counts.ok", "status_counts.error"] {
            #expect((checked[metric] ?? 0) >= 2, "no \(metric) checked on the page: \(checked)")
        }
        #expect(checked.values.reduce(0, +) >= 50, "\(checked)")

        // The run's identity, counts and winner.
        let runInfo = try #require(results["run"] as? [String: Any])
        let hash = try #require(runInfo["manifest_hash"] as? String)
        #expect(dom.contains("<code id=\"manifest-hash\">\(hash)</code>"))
        let counts = try #require(results["counts"] as? [String: Any])
        let sampleCount = Int(try #require(counts["samples"] as? Double))
        #expect(dom.contains("id=\"sample-count\" data-value=\"\(sampleCount)\""))
        let winner = try #require(((results["modality_leaderboards"] as? [String: Any])?["image"] as? [[String: Any]])?.first?["detector"] as? String)
        let card = try #require(Self.firstMatch(#"data-modality="image"><div class="label">image winner</div><div class="name">[\s\S]*?</div>"#, in: dom))
        #expect(card[0].contains(winner), "winner card: \(card[0])")
        #expect(dom.contains("No generator media in this round"))
        let runID = try #require(runInfo["id"] as? String)
        #expect(dom.contains("gascli replay \(runID)"))

        // A screenshot renders too (what a person would look at).
        let shotDir = try TestSupport.temporaryDirectory("report-shot")
        let shot = try Self.browse(chromium, ["--screenshot=\(shotDir)/report.png", "--window-size=1400,3000"], page: page)
        #expect(shot.status == 0, "\(shot.stderr.suffix(1000))")
        let size = (try? FileManager.default.attributesOfItem(atPath: shotDir + "/report.png")[.size] as? Int) ?? 0
        #expect(size > 50_000, "screenshot \(shotDir)/report.png is \(size) bytes")
    }

    @Test func historyPageRendersCleanly() throws {
        let chromium = try Self.chromium()
        let out = try TestSupport.temporaryDirectory("history")
        let f = try RoundFixture("history")
        try f.copyPhotos(4)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 4", synthetic: 4))
        for i in 0..<2 {
            if i > 0 { Thread.sleep(forTimeInterval: 1.1) }  // run ids carry the start second
            let (_, run) = try Gascli.runQuiet("spec.yaml", output: out, cwd: f.root)
            #expect(run.status == 0, "\(run.stderr)")
        }
        let r = try Gascli.run(["report", "--history", "--output", out])
        #expect(r.status == 0, "\(r.stderr)")
        let page = out + "/history.html"
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == page)
        let dump = try Self.browse(chromium, ["--dump-dom"], page: page)
        #expect(dump.status == 0 && dump.stdout.contains("data-ready=\"1\""), "\(dump.stderr.suffix(1000))")
        let consoleLines = dump.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") }
        #expect(consoleLines.isEmpty, "console messages: \(consoleLines.joined(separator: "\n"))")
        #expect(dump.stdout.contains("id=\"run-count\">2 completed runs"))
        #expect(dump.stdout.contains("sn34 history of t") && dump.stdout.contains("No weight history"))
        #expect(Self.allMatches(#"data-run="[^"]+" data-detector="base""#, in: dump.stdout).count == 2)
    }

    /// Any JSON, numbers as Double.
    enum JSONValue: Decodable {
        case number(Double), string(String), bool(Bool), null, array([JSONValue]), object([String: JSONValue])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
            else { self = .object(try c.decode([String: JSONValue].self)) }
        }
        var any: Any {
            switch self {
            case let .number(d): d
            case let .string(s): s
            case let .bool(b): b
            case .null: NSNull()
            case let .array(a): a.map(\.any)
            case let .object(o): o.mapValues(\.any)
            }
        }
    }

    /// Without a browser: a run whose database has a `generator_scores` table (written when generator
    /// miners' media took part) gets the fool-rate table; `report` with no run takes the newest.
    @Test func generatorScoresBecomeTheFoolRateTable() throws {
        let f = try RoundFixture("generators")
        try f.copyPhotos(3)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 3", synthetic: 3))
        let (dir, run) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(run.status == 0, "\(run.stderr)")
        let add = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1] + "/run.sqlite")
        run = db.execute("SELECT id FROM runs").fetchone()[0]
        db.execute("CREATE TABLE IF NOT EXISTS generator_scores (run_id TEXT, generator TEXT, hotkey TEXT, uid INTEGER, modality TEXT, challenges INTEGER, "
                   "accepted INTEGER, pass_rate REAL, fool_rate REAL, samples INTEGER, volume_factor REAL, resolution_factor REAL, "
                   "fool_bonus REAL, reward REAL)")
        db.execute("INSERT INTO generator_scores VALUES (?, 'flux-miner', '5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX', 17, 'image', 12, 11, 0.9166, 0.4375, 11, 1.0, 0.8, 0.12, 0.0421)", (run,))
        db.execute("INSERT INTO generator_scores VALUES (?, 'sdxl-miner', NULL, 18, 'image', 5, 2, 0.4, NULL, 2, NULL, NULL, 0.0, 0.0)", (run,))
        db.commit()
        """
        #expect(try TestSupport.python(add, [dir]).status == 0)
        let r = try Gascli.run(["report", "--output", "runs"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        #expect(!html.contains("No generator media in this round"))
        #expect(html.contains("<table class=\"sortable generators\"") && html.contains("flux-miner") && html.contains("sdxl-miner"))
        #expect(html.contains("0.438") && html.contains("5F3sa2TJAW"))
        // No run under the folder: a clear message, exit 1.
        let empty = try Gascli.run(["report", "--output", "nowhere"], cwd: f.root)
        #expect(empty.status == 1 && empty.stderr.contains("no runs under nowhere"), "\(empty.stderr)")
    }

    /// `run --json` prints results.json to stdout (and nothing else); `--quiet` silences progress.
    @Test func runJSONPrintsTheResultsDocument() throws {
        let f = try RoundFixture("json")
        try f.copyPhotos(3)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("spec.yaml", f.spec(real: "samples: 3", synthetic: 3))
        let r = try Gascli.run(["run", "spec.yaml", "--output", "runs", "--quiet", "--json"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "quiet: \(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let winners = try #require(doc["modality_leaderboards"] as? [String: Any])
        #expect((winners["image"] as? [[String: Any]])?.first?["detector"] as? String == "base")
        let base = try #require((doc["detectors"] as? [String: Any])?["base"] as? [String: Any])
        let overall = try #require(base["overall"] as? [String: Any])
        #expect(overall.keys.contains("auc") && overall.keys.contains("sn34_ci") && overall.keys.contains("recall_ai"))
        let id = try #require((doc["run"] as? [String: Any])?["id"] as? String)
        let onDisk = try String(contentsOfFile: f.path("runs/\(id)/results.json"), encoding: .utf8)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == onDisk.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    // MARK: Tiny HTML helpers (the DOM dump is Chromium's serialisation: attributes in double quotes)

    static func allMatches(_ pattern: String, in text: String) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (0..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
        }
    }

    static func firstMatch(_ pattern: String, in text: String) -> [String]? { allMatches(pattern, in: text).first }

    static func attributes(_ text: String) -> [String: String] {
        Dictionary(allMatches(#"([\w-]+)="([^"]*)""#, in: text).map { ($0[1], unescape($0[2])) }, uniquingKeysWith: { a, _ in a })
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
