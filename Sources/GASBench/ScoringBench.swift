import Foundation
import GASCore

/// Scoring: sn34 and every metric of every breakdown slice (overall, modality, dataset, media type,
/// source) over N predictions of one detector, against a vectorized numpy implementation of the same
/// formulas (Benchmarks/python/scoring_numpy.py), whose numbers must agree with ours.
/// The bootstrap interval is not part of this benchmark (the numpy reference has none); the
/// end-to-end benchmark includes it.
enum ScoringBench {
    /// The benchmark's datasets: name, modality, media type, source kind.
    static let datasets: [(name: String, modality: Modality, mediaType: MediaType, source: SourceKind)] = (0..<12).map { i in
        let modality: Modality = [.image, .image, .video, .audio][i % 4]
        let mediaType: MediaType = [.real, .synthetic, .semisynthetic][i % 3]
        let source: SourceKind = mediaType == .real ? .real : (i % 2 == 0 ? .synthetic : .generator)
        return ("bench-\(i)-\(mediaType.rawValue)", modality, mediaType, source)
    }

    /// Columns of the benchmark rows, for the reference: label, p_ai (NaN when failed), status, dataset index.
    struct Columns {
        var labels: [UInt8] = []
        var pAI: [Double] = []
        var failed: [UInt8] = []
        var dataset: [UInt8] = []
    }

    /// Deterministic rows: p_ai a float32 value (ties happen, as with real detectors), leaning
    /// towards the label; 1% failures (error outcomes).
    static func rows(count: Int) -> ([ScoringRow], Columns) {
        var rng = BenchRandom(seed: 1234)
        var rows: [ScoringRow] = []
        rows.reserveCapacity(count)
        var c = Columns()
        c.labels.reserveCapacity(count); c.pAI.reserveCapacity(count); c.failed.reserveCapacity(count); c.dataset.reserveCapacity(count)
        for _ in 0..<count {
            let d = rng.below(datasets.count)
            let ds = datasets[d]
            let label = ds.mediaType.label
            let failed = rng.below(100) == 0
            let p: Double? = failed ? nil : Double(Float(min(max(0.3 * Double(label) + 0.7 * rng.unit(), 0), 1)))
            rows.append(ScoringRow(label: label, dataset: ds.name, mediaType: ds.mediaType, sourceKind: ds.source, modality: ds.modality,
                                   status: failed ? .error : .ok, pAI: p, inputSkipped: false))
            c.labels.append(UInt8(label)); c.pAI.append(p ?? .nan); c.failed.append(failed ? 1 : 0); c.dataset.append(UInt8(d))
        }
        return (rows, c)
    }

    static func writeColumns(_ c: Columns, to directory: String) throws {
        func write<T>(_ values: [T], _ name: String) throws {
            let data = values.withUnsafeBytes { Data($0) }
            try data.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name)))
        }
        try write(c.labels, "labels.u8")
        try write(c.pAI, "p_ai.f64")
        try write(c.failed, "failed.u8")
        try write(c.dataset, "dataset.u8")
        let meta: [[String: String]] = datasets.map {
            ["name": $0.name, "modality": $0.modality.rawValue, "media_type": $0.mediaType.rawValue, "source": $0.source.rawValue]
        }
        try JSONSerialization.data(withJSONObject: ["datasets": meta, "alpha": 1.2, "beta": 1.8])
            .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("meta.json")))
    }

    static func run(_ options: BenchOptions) throws -> BenchResult {
        let count = options.scaled(10_000_000, minimum: 1000)
        options.log("scoring: generating \(count) predictions")
        let (rows, columns) = rows(count: count)
        let directory = (options.workDirectory as NSString).appendingPathComponent("scoring")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeColumns(columns, to: directory)

        let rule = ScoringRule()
        var score: DetectorScore?
        var times: [Double] = [], cpu: [Double] = []
        for i in 0..<3 {
            options.log("scoring: gascli's scorer (\(i + 1)/3)")
            let m = Stopwatch.measure { score = Scorer.score(detector: "bench", rows: rows, rule: rule, bootstrap: nil) }
            times.append(m.wall)
            cpu.append(m.cpu)
        }
        guard let score else { throw BenchError("scoring produced no result") }
        let ourSeconds = Stopwatch.median(times)

        options.log("scoring: numpy reference")
        let ref = try PythonReference.run("scoring_numpy.py", [directory, "3"], options: options)
        guard let refSeconds = ref["median_seconds"] as? Double, let slices = ref["slices"] as? [[String: Any]] else {
            throw BenchError("scoring_numpy.py returned no slices")
        }
        let mismatches = compare(score, slices)
        let speedup = refSeconds / max(ourSeconds, 1e-9)
        let passed = speedup >= 5 && mismatches.isEmpty
        var notes = ["\(score.breakdowns.count + 1) slices (overall, \(Set(score.breakdowns.map(\.scope)).count) breakdown scopes): accuracy, MCC, Brier, cross-entropy, sn34, ROC AUC, ECE, recall per class",
                     mismatches.isEmpty ? "numbers agree with numpy on every slice (counts exact, the rest within 1e-9 relative)"
                                        : "DISAGREES with numpy: " + mismatches.prefix(5).joined(separator: "; "),
                     "median of 3 runs each; CPU time: ours \(String(format: "%.3f", Stopwatch.median(cpu))) s, numpy \(String(format: "%.3f", ref["median_cpu_seconds"] as? Double ?? 0)) s; bootstrap intervals not included (the end-to-end benchmark has them)"]
        if let v = ref["version"] as? String { notes.append("numpy \(v)") }
        return BenchResult(name: "scoring", title: "sn34 with all breakdowns over \(count.formattedRows) predictions",
                           ours: ourSeconds, unit: "s", reference: refSeconds, referenceName: "numpy \(ref["version"] as? String ?? "?"), vectorized",
                           target: "≥ 5× faster than numpy", passed: passed, notes: notes)
    }

    /// Every slice of ours against the reference's; returns the differences found.
    static func compare(_ score: DetectorScore, _ slices: [[String: Any]]) -> [String] {
        var ours: [String: BinaryMetrics] = ["overall/all": score.overall]
        for b in score.breakdowns { ours["\(b.scope.rawValue)/\(b.key)"] = b.metrics }
        var problems: [String] = []
        var seen = Set<String>()
        for slice in slices {
            guard let scope = slice["scope"] as? String, let key = slice["key"] as? String else { continue }
            let name = "\(scope)/\(key)"
            seen.insert(name)
            guard let m = ours[name] else { problems.append("\(name) missing in ours"); continue }
            let ints: [(String, Int)] = [("samples", m.samples), ("tp", m.truePositives), ("tn", m.trueNegatives),
                                         ("fp", m.falsePositives), ("fn", m.falseNegatives)]
            for (field, value) in ints where (slice[field] as? Int) != value {
                problems.append("\(name) \(field) \(value) != \(slice[field] ?? "nil")")
            }
            let doubles: [(String, Double?)] = [("accuracy", m.accuracy), ("mcc", m.mcc), ("brier", m.brier), ("cross_entropy", m.crossEntropy),
                                                ("sn34", m.sn34), ("auc", m.auc), ("ece", m.ece), ("recall_real", m.recallReal), ("recall_ai", m.recallAI)]
            for (field, value) in doubles {
                let other = slice[field] as? Double
                switch (value, other) {
                case (nil, nil): continue
                case let (a?, b?):
                    if abs(a - b) > 1e-12 + 1e-9 * max(abs(a), abs(b)) { problems.append("\(name) \(field) \(a) != \(b)") }
                default: problems.append("\(name) \(field) \(String(describing: value)) != \(String(describing: other))")
                }
            }
        }
        for name in ours.keys where !seen.contains(name) { problems.append("\(name) missing in numpy") }
        return problems
    }
}
