import Foundation
import Testing
import GASTestSupport
@testable import GASCore

/// ROC AUC, ECE, per-class recall and sn34's bootstrap intervals: hand-computed values first, then a
/// cross-check of all four against scikit-learn and numpy on a few hundred random predictions.
@Suite struct AnalyticsTests {
    @Test func aucCountsOrderedPairs() {
        // Positives 0.35, 0.8; negatives 0.1, 0.4: 3 of 4 pairs ordered.
        #expect(ROC.auc(labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8]) == 0.75)
        #expect(ROC.auc(labels: [0, 0, 1, 1], scores: [0.1, 0.2, 0.3, 0.4]) == 1)
        #expect(ROC.auc(labels: [1, 1, 0, 0], scores: [0.1, 0.2, 0.3, 0.4]) == 0)
    }

    @Test func aucTiesCountOneHalf() {
        // Pairs (pos, neg): (0.5, 0.5) = 1/2, (0.5, 0.2) = 1, (0.9, 0.5) = 1, (0.9, 0.2) = 1 -> 3.5 / 4.
        #expect(ROC.auc(labels: [0, 1, 0, 1], scores: [0.5, 0.5, 0.2, 0.9]) == 0.875)
        // Constant scores: no information, 0.5 exactly.
        #expect(ROC.auc(labels: [0, 1, 1, 0, 1], scores: [0.5, 0.5, 0.5, 0.5, 0.5]) == 0.5)
    }

    @Test func aucUndefinedForOneClass() {
        #expect(ROC.auc(labels: [1, 1], scores: [0.2, 0.9]) == nil)
        #expect(ROC.auc(labels: [], scores: []) == nil)
        #expect(ROC.curve(labels: [0, 0], scores: [0.2, 0.9]).isEmpty)
    }

    @Test func curveAreaEqualsRankAUC() {
        var g = SplitMix64(seed: 7)
        let labels = (0..<200).map { _ in g.nextInt(below: 2) }
        // Coarse scores so there are many ties.
        let scores = labels.map { y in (Double(g.nextInt(below: 10)) + Double(y) * 3) / 13 }
        let curve = ROC.curve(labels: labels, scores: scores)
        #expect(curve.first == ROCPoint(threshold: .infinity, falsePositiveRate: 0, truePositiveRate: 0))
        #expect(curve.last?.falsePositiveRate == 1 && curve.last?.truePositiveRate == 1)
        let auc = try! #require(ROC.auc(labels: labels, scores: scores))
        #expect(abs(ROC.area(curve) - auc) < 1e-12)
    }

    @Test func eceByHand() {
        // Bin 0: p .05, AI share 0 -> .05; bin 1: p .15, share 1 -> .85; bin 9: mean .95, share .5 -> .45.
        // ECE = .25 * .05 + .25 * .85 + .5 * .45 = 0.45
        let ece = Calibration.ece(labels: [0, 1, 1, 0], scores: [0.05, 0.15, 0.95, 0.95])
        #expect(abs(ece! - 0.45) < 1e-12)
        let bins = Calibration.bins(labels: [0, 1, 1, 0], scores: [0.05, 0.15, 0.95, 0.95])
        #expect(bins.count == 10)
        #expect(bins.map(\.count) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2])
        #expect(bins[2].meanPredicted == nil && bins[9].observedAIShare == 0.5)
    }

    @Test func eceBinEdges() {
        // [0, .1), [.1, .2), ..., [.9, 1.0]: 0.1 opens bin 1, 1.0 closes bin 9.
        let bins = Calibration.bins(labels: [0, 0, 1, 1], scores: [0.0, 0.1, 0.9, 1.0])
        #expect(bins.map(\.count) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2])
        // Perfectly calibrated extremes.
        #expect(Calibration.ece(labels: [0, 1], scores: [0, 1]) == 0)
        #expect(Calibration.ece(labels: [], scores: []) == nil)
    }

    @Test func perClassRecallAndAnalyticsInMetrics() {
        // 3 real: called real, real, AI; 2 AI: called AI, real.
        let preds = [(0, 0.1), (0, 0.3), (0, 0.7), (1, 0.9), (1, 0.2)].map { ScoredPrediction(label: $0.0, pAI: $0.1) }
        let m = SN34.metrics(preds)
        #expect(m.recallReal == 2.0 / 3.0)
        #expect(m.recallAI == 0.5)
        // Pairs: 0.9 beats all 3 reals; 0.2 beats 0.1 only -> 4 / 6.
        #expect(m.auc == 4.0 / 6.0)
        #expect(m.ece != nil)
        #expect(m.sn34CI == nil, "SN34.metrics runs no bootstrap")
        let realOnly = SN34.metrics([ScoredPrediction(label: 0, pAI: 0.2)])
        #expect(realOnly.recallAI == nil && realOnly.recallReal == 1 && realOnly.auc == nil)
    }

    @Test func failuresCountedWrongEnterTheAnalytics() {
        // A count_wrong failure is p = 0.5 predicted wrong: it lowers recall and ties in the ranking.
        let rows = [ScoringRow(label: 1, dataset: "d", mediaType: .synthetic, sourceKind: .synthetic, modality: .image, status: .ok, pAI: 0.9, inputSkipped: false),
                    ScoringRow(label: 1, dataset: "d", mediaType: .synthetic, sourceKind: .synthetic, modality: .image, status: .error, pAI: nil, inputSkipped: false),
                    ScoringRow(label: 0, dataset: "d", mediaType: .real, sourceKind: .real, modality: .image, status: .ok, pAI: 0.5, inputSkipped: false)]
        let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule())
        #expect(s.overall.recallAI == 0.5)
        #expect(s.overall.auc == 0.75)
    }

    @Test func quantileInterpolatesLinearly() {
        #expect(Bootstrap.quantile([1, 2, 3, 4], 0.25) == 1.75)
        #expect(Bootstrap.quantile([1, 2, 3, 4], 0) == 1)
        #expect(Bootstrap.quantile([1, 2, 3, 4], 1) == 4)
        #expect(Bootstrap.quantile([5], 0.975) == 5)
    }

    @Test func bootstrapOfIdenticalPredictionsIsAPoint() throws {
        // gasbench golden vector: 10 x (real, logits [1.1, -1.1]) -> sn34 0.636073; every resample is the same.
        let p = 1 / (1 + Foundation.exp(2.2))
        let preds = Array(repeating: ScoredPrediction(label: 0, pAI: p), count: 10)
        let ci = try #require(Bootstrap.sn34Interval(preds, parameters: .init(), settings: .init(seed: 1)))
        #expect(abs(ci.lower - 0.636073) < 1e-6 && ci.lower == ci.upper)
        #expect(Bootstrap.sn34Interval([], parameters: .init(), settings: .init(seed: 1)) == nil)
    }

    @Test func bootstrapIsSeededAndBracketsTheEstimate() throws {
        let preds = randomPredictions(seed: 11, count: 150)
        let m = SN34.metrics(preds)
        let a = try #require(Bootstrap.sn34Interval(preds, parameters: .init(), settings: .init(seed: 34)))
        let b = try #require(Bootstrap.sn34Interval(preds, parameters: .init(), settings: .init(seed: 34), members: Array(0..<150)))
        let c = try #require(Bootstrap.sn34Interval(preds, parameters: .init(), settings: .init(seed: 35)))
        let d = try #require(Bootstrap.sn34Interval(preds, parameters: .init(), settings: .init(seed: 34), members: Array(1...150)))
        #expect(a == b, "members default to 0..<n")
        #expect(a != c, "another seed")
        #expect(a != d, "another membership")
        #expect(a.lower < m.sn34 && m.sn34 < a.upper, "\(a) around \(m.sn34)")
        #expect(a.upper - a.lower < 0.5)
    }

    @Test func scorerGivesEverySliceAnInterval() {
        let rows = randomPredictions(seed: 3, count: 40).enumerated().map { i, p in
            ScoringRow(label: p.label, dataset: i % 2 == 0 ? "a" : "b", mediaType: p.label == 0 ? .real : .synthetic,
                       sourceKind: p.label == 0 ? .real : .synthetic, modality: .image, status: .ok, pAI: p.pAI, inputSkipped: false)
        }
        let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule(), bootstrap: BootstrapSettings(seed: 9))
        #expect(s.overall.sn34CI != nil)
        #expect(s.breakdowns.allSatisfy { $0.metrics.sn34CI != nil })
        // Paired: another detector with the same rows gets the same intervals.
        let t = Scorer.score(detector: "y", rows: rows, rule: ScoringRule(), bootstrap: BootstrapSettings(seed: 9))
        #expect(s.overall == t.overall && s.breakdowns == t.breakdowns)
        // The only modality holds every sample: the same interval as the overall slice.
        #expect(s.breakdowns.first { $0.scope == .modality }?.metrics.sn34CI == s.overall.sn34CI)
        // Datasets a and b split the samples: their own intervals.
        #expect(s.breakdowns.first { $0.scope == .dataset && $0.key == "a" }?.metrics.sn34CI != s.overall.sn34CI)
    }

    @Test func metricsJSONWritesNullNotNothing() throws {
        let m = SN34.metrics([ScoredPrediction(label: 0, pAI: 0.2)])
        let json = String(decoding: try JSONEncoder().encode(m), as: UTF8.self)
        #expect(json.contains("\"auc\":null") && json.contains("\"sn34_ci\":null") && json.contains("\"recall_ai\":null"))
        let back = try JSONDecoder().decode(BinaryMetrics.self, from: Data(json.utf8))
        #expect(back == m)
    }

    /// Every analytic against scikit-learn (roc_auc_score, recall_score, calibration_curve) and the
    /// bootstrap against an independent Python SplitMix64 + numpy.percentile.
    @Test func crossCheckWithScikitLearn() throws {
        try TestSupport.requirePythonModules(["numpy", "sklearn"])
        var cases: [[String: Any]] = []
        for (seed, count) in [(1, 300), (2, 57), (5, 12)] as [(UInt64, Int)] {
            let preds = randomPredictions(seed: seed, count: count, coarse: seed == 2)
            let settings = BootstrapSettings(resamples: 200, level: 0.9, seed: seed * 1000)
            let m = SN34.metrics(preds)
            let members = (0..<count).map { $0 * 3 + Int(seed) }
            let ci = Bootstrap.sn34Interval(preds, parameters: .init(), settings: settings, members: members)!
            cases.append([
                "labels": preds.map(\.label), "scores": preds.map(\.pAI), "seed": "\(settings.seed)", "members": members,
                "resamples": settings.resamples, "level": settings.level,
                "auc": m.auc!, "ece": m.ece!, "recall_real": m.recallReal!, "recall_ai": m.recallAI!, "lower": ci.lower, "upper": ci.upper,
            ])
        }
        let input = String(decoding: try JSONSerialization.data(withJSONObject: cases), as: UTF8.self)
        let script = """
        import json, sys, math
        import numpy as np
        from sklearn.metrics import roc_auc_score, recall_score
        from sklearn.calibration import calibration_curve
        M = (1 << 64) - 1
        def fnv(ordinals):
            h = 0xcbf29ce484222325
            for o in ordinals:
                for b in int(o).to_bytes(8, "little", signed=True):
                    h ^= b; h = (h * 0x100000001b3) & M
            return h
        class SplitMix:
            def __init__(self, seed): self.s = seed & M
            def next(self):
                self.s = (self.s + 0x9E3779B97F4A7C15) & M
                z = self.s
                z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
                z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
                return z ^ (z >> 31)
            def below(self, n):
                limit = M - (M % n)
                while True:
                    x = self.next()
                    if x < limit: return x % n
        def sn34(y, p, pred):
            tp = sum(1 for a, b in zip(y, pred) if a == 1 and b == 1); tn = sum(1 for a, b in zip(y, pred) if a == 0 and b == 0)
            fp = sum(1 for a, b in zip(y, pred) if a == 0 and b == 1); fn = sum(1 for a, b in zip(y, pred) if a == 1 and b == 0)
            d = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            mcc = 0.0 if d == 0 else (tp * tn - fp * fn) / d
            q = np.clip(np.array(p), 1e-7, 1 - 1e-7)
            brier = float(np.mean((q - np.array(y)) ** 2))
            m = min(max((mcc + 1) / 2, 0), 1) ** 1.2
            b = max(0, (0.25 - brier) / 0.25) ** 1.8
            return min(max(math.sqrt(max(1e-12, m * b)), 0), 1)
        out = []
        for c in json.load(sys.stdin):
            y = np.array(c["labels"]); p = np.array(c["scores"]); pred = (p > 0.5).astype(int)
            auc = roc_auc_score(y, p)
            # ECE from sklearn's reliability curve; bin counts with our edges (no score sits on an edge here).
            prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
            counts = np.bincount(np.minimum((p * 10).astype(int), 9), minlength=10)
            counts = counts[counts > 0]
            ece = float(np.sum(counts / len(p) * np.abs(prob_pred - prob_true)))
            rr = recall_score(y, pred, pos_label=0); ra = recall_score(y, pred, pos_label=1)
            g = SplitMix(int(c["seed"]) ^ fnv(c["members"]))
            n = len(y); vals = []
            for _ in range(c["resamples"]):
                idx = [g.below(n) for _ in range(n)]
                vals.append(sn34([int(y[i]) for i in idx], [float(p[i]) for i in idx], [int(pred[i]) for i in idx]))
            tail = (1 - c["level"]) / 2
            lo, hi = np.percentile(vals, [100 * tail, 100 * (1 - tail)])
            for name, want, got in [("auc", auc, c["auc"]), ("ece", ece, c["ece"]), ("recall_real", rr, c["recall_real"]),
                                    ("recall_ai", ra, c["recall_ai"]), ("lower", lo, c["lower"]), ("upper", hi, c["upper"])]:
                assert abs(want - got) < 1e-9, (name, want, got)
            out.append([auc, ece, lo, hi])
        print(json.dumps(out))
        """
        let python = TestSupport.python
        let r: TestSupport.Result
        if python == "/usr/bin/env" {
            r = try TestSupport.run(python, ["python3", "-c", script], stdin: input)
        } else {
            r = try TestSupport.run(python, ["-c", script], stdin: input)
        }
        #expect(r.status == 0, "scikit-learn cross-check failed: \(r.stderr.suffix(1500))")
    }

    /// The large-sample bootstrap draws the same resampling distribution as index-by-index
    /// resampling: on slices just over the threshold, both methods' interval ends agree to within
    /// Monte Carlo error (B = 1000: the ends move by about 4% of the width between seeds; 20% allowed),
    /// for a common detector, one with a rare cell (drawn exactly) and a perfect one.
    @Test(arguments: [0, 1, 2])
    func largeSampleIntervalsMatchIndexResampling(kind: Int) throws {
        var g = SplitMix64(seed: 40 + UInt64(kind))
        let n = 30_000
        let predictions: [ScoredPrediction] = (0..<n).map { i in
            let label = i % 2
            switch kind {
            case 0: return ScoredPrediction(label: label, pAI: Double(Float(min(max(0.3 * Double(label) + 0.7 * g.nextUnit(), 0), 1))))
            case 1:  // 25 false positives, everything else right
                let p = label == 1 ? 0.6 + 0.4 * g.nextUnit() : (i < 50 ? 0.75 : 0.4 * g.nextUnit())
                return ScoredPrediction(label: label, pAI: p)
            default: return ScoredPrediction(label: label, pAI: label == 1 ? 0.9 : 0.1)
            }
        }
        let settings = BootstrapSettings(resamples: 1000, seed: 7)
        let exact = try #require(Bootstrap.exactIntervals([predictions], parameters: .init(), settings: settings, seed: 99)[0])
        var summary = CellSummary()
        for p in predictions { summary.add(p) }
        let large = try #require(Bootstrap.largeSampleInterval(summary, parameters: .init(), settings: settings, seed: 99))
        let width = exact.upper - exact.lower
        if kind == 2 {
            // Every resample is perfect: the intervals are points, equal up to the Brier sum's rounding.
            #expect(width < 1e-12 && abs(large.lower - exact.lower) < 1e-12 && abs(large.upper - exact.upper) < 1e-12)
        } else {
            #expect(width > 0)
            #expect(abs(large.lower - exact.lower) <= 0.2 * width, "lower \(large.lower) vs \(exact.lower), width \(width)")
            #expect(abs(large.upper - exact.upper) <= 0.2 * width, "upper \(large.upper) vs \(exact.upper), width \(width)")
        }
        // The public entry point takes the large-sample path at this size.
        #expect(Bootstrap.sn34Interval(predictions, parameters: .init(), settings: settings) ==
                Bootstrap.largeSampleInterval(summary, parameters: .init(), settings: settings, seed: 7 ^ Bootstrap.membershipHash(Array(0..<n))))
    }

    /// Binomial draws: exact (waiting times) below the limit, normal above; mean and variance right.
    @Test(arguments: [(1000, 0.01), (1000, 0.995), (1_000_000, 0.3), (50, 0.5), (7, 1.0), (9, 0.0)] as [(Int, Double)])
    func binomialDrawsHaveTheRightMoments(trials: Int, p: Double) {
        var rng = SplitMix64(seed: 3)
        let draws = (0..<20_000).map { _ in Double(Bootstrap.binomial(trials, p, &rng)) }
        #expect(draws.allSatisfy { $0 >= 0 && $0 <= Double(trials) })
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)
        let expectedVariance = Double(trials) * p * (1 - p)
        #expect(abs(mean - Double(trials) * p) <= 5 * (expectedVariance / Double(draws.count)).squareRoot() + 1e-9)
        #expect(abs(variance - expectedVariance) <= 0.06 * expectedVariance + 1e-9)
    }

    func randomPredictions(seed: UInt64, count: Int, coarse: Bool = false) -> [ScoredPrediction] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let y = g.nextInt(below: 2)
            // Informative but noisy scores, clear of the bin edges (x.x5 + small noise).
            var p = min(max(0.5 + (y == 1 ? 0.18 : -0.18) + (g.nextUnit() - 0.5) * 0.8, 0.001), 0.999)
            if coarse { p = (Double(Int(p * 10)) + 0.5) / 10 }
            if abs(p * 10 - (p * 10).rounded()) < 1e-6 { p += 0.001 }
            return ScoredPrediction(label: y, pAI: p)
        }
    }
}
