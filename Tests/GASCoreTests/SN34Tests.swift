import Foundation
import Testing
@testable import GASCore

/// Golden vectors from reference/gasbench.md §3.2, checked against the Python implementation there.
@Suite struct SN34GoldenTests {
    func softmax(_ z: [Double]) -> [Double] {
        let m = z.max() ?? 0
        let e = z.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func metrics(_ rows: [(label: Int, logits: [Double])]) -> BinaryMetrics {
        SN34.metrics(rows.map { row in
            let p = BinaryProbability.pAI(softmax(row.logits))!
            return ScoredPrediction(label: row.label, pAI: p)
        })
    }

    @Test func perfectPredictionsScoreOne() {
        let m = metrics([(1, [-10, 10]), (0, [10, -10]), (1, [-10, 10]), (0, [10, -10])])
        #expect(m.mcc == 1)
        #expect(m.brier < 1e-8)
        #expect(abs(m.sn34 - 1.0) < 1e-6)
    }

    @Test func equalLogitsGiveTheFloor() {
        let m = metrics([(1, [0, 0]), (0, [0, 0]), (1, [0, 0]), (0, [0, 0])])
        #expect(m.mcc == 0)
        #expect(abs(m.brier - 0.25) < 1e-12)
        #expect(abs(m.crossEntropy - 0.693147) < 1e-6)
        #expect(abs(m.sn34 - 1e-6) < 1e-15)
    }

    @Test func singleClassConfidentReal() {
        let m = metrics(Array(repeating: (0, [1.1, -1.1]), count: 10))
        #expect(m.mcc == 0)
        #expect(abs(m.brier - 0.009950) < 1e-6)
        #expect(abs(m.sn34 - 0.636073) < 1e-6)
    }

    @Test func fourMixedSamples() {
        let probs: [([Double], Int)] = [([0.1, 0.9], 1), ([0.8, 0.2], 0), ([0.6, 0.4], 1), ([0.3, 0.7], 0)]
        let m = SN34.metrics(probs.map { ScoredPrediction(label: $0.1, pAI: BinaryProbability.pAI($0.0)!) })
        #expect(m.mcc == 0)
        #expect(abs(m.brier - 0.225) < 1e-12)
        #expect(abs(m.sn34 - 0.083058) < 1e-6)
    }

    @Test(arguments: [(0.5, 0.1, 0.531340), (0.0, 0.2, 0.154992)])
    func closedForm(mcc: Double, brier: Double, expected: Double) {
        #expect(abs(SN34.score(mcc: mcc, brier: brier) - expected) < 1e-6)
    }

    @Test func brierAtOrAboveQuarterGivesOneMillionth() {
        #expect(SN34.score(mcc: 1, brier: 0.25) == 1e-6)
        #expect(SN34.score(mcc: 1, brier: 0.9) == 1e-6)
    }

    @Test func constantPredictionsHaveZeroMCC() {
        let m = SN34.metrics([ScoredPrediction(label: 1, pAI: 0.9), ScoredPrediction(label: 0, pAI: 0.9)])
        #expect(m.mcc == 0)
        #expect(abs(Foundation.pow(0.5, 1.2) - 0.435275) < 1e-6)
    }

    @Test func emptySliceUsesGasbenchDefaults() {
        let m = SN34.metrics([ScoredPrediction]())
        #expect(m == .empty)
        #expect(m.sn34 == 0 && m.brier == 0.25 && m.crossEntropy == 0 && m.mcc == 0)
    }

    @Test func clippingKeepsCrossEntropyFinite() {
        let m = SN34.metrics([ScoredPrediction(label: 1, pAI: 0), ScoredPrediction(label: 0, pAI: 1)])
        #expect(m.crossEntropy.isFinite)
        #expect(abs(m.crossEntropy - (-Foundation.log(1e-7))) < 1e-6)
    }

    @Test func customAlphaBeta() {
        let p = SN34Parameters(alpha: 1, beta: 1)
        #expect(abs(SN34.score(mcc: 0.5, brier: 0.1, parameters: p) - (0.75 * 0.6).squareRoot()) < 1e-12)
    }
}

@Suite struct BinaryProbabilityTests {
    @Test func shapes() {
        #expect(BinaryProbability.pAI([0.3]) == 0.3)
        #expect(BinaryProbability.pAI([0.3, 0.7]) == 0.7)
        #expect(abs(BinaryProbability.pAI([1.0, 0.7, 0.7])! - 0.0) < 1e-12)
        #expect(BinaryProbability.pAI([0.2, 0.5, 0.3]) == 0.8)
        #expect(BinaryProbability.pAI([]) == nil)
        #expect(BinaryProbability.pAI([0.1, 0.2, 0.3, 0.4]) == nil)
        #expect(BinaryProbability.pAI([Double.nan, 0.5]) == nil)
        #expect(BinaryProbability.pAI([1.5]) == nil)
    }

    @Test func tieIsReal() {
        #expect(BinaryProbability.predictedLabel(pAI: 0.5) == 0)
        #expect(BinaryProbability.predictedLabel(pAI: 0.5000001) == 1)
    }
}

@Suite struct ScorerTests {
    func row(_ label: Int, _ status: OutcomeStatus, _ p: Double?, dataset: String = "d", skipped: Bool = false) -> ScoringRow {
        ScoringRow(label: label, dataset: dataset, mediaType: label == 0 ? .real : .synthetic, sourceKind: label == 0 ? .real : .synthetic,
                   modality: .image, status: status, pAI: p, inputSkipped: skipped)
    }

    @Test func countWrongPenalisesFailures() {
        let rows = [row(1, .ok, 0.9), row(0, .ok, 0.1), row(1, .error, nil), row(0, .timeout, nil)]
        let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule())
        #expect(s.overall.samples == 4)
        #expect(s.overall.accuracy == 0.5)
        #expect(s.coverage == 0.5)
        #expect(s.statusCounts["error"] == 1 && s.statusCounts["timeout"] == 1)
        #expect(!s.invalidated)
    }

    @Test func excludeDropsFailures() {
        let rows = [row(1, .ok, 0.9), row(0, .ok, 0.1), row(1, .error, nil)]
        let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule(onFailure: .exclude))
        #expect(s.overall.samples == 2)
        #expect(s.overall.accuracy == 1)
    }

    @Test func invalidateZeroesScore() {
        let rows = [row(1, .ok, 0.9), row(0, .ok, 0.1), row(1, .timeout, nil)]
        let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule(onFailure: .invalidate))
        #expect(s.invalidated)
        #expect(s.sn34 == 0)
        #expect(s.overall.sn34 > 0)
    }

    @Test func inputSkipsNeverCount() {
        let rows = [row(1, .ok, 0.9), row(0, .ok, 0.1), row(1, .skipped, nil, skipped: true)]
        for policy in FailurePolicy.allCases {
            let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule(onFailure: policy))
            #expect(s.overall.samples == 2)
            #expect(s.coverage == 1)
            #expect(!s.invalidated)
        }
    }

    @Test func breakdownsPartitionTheSamples() {
        let rows = [row(1, .ok, 0.9, dataset: "a"), row(0, .ok, 0.4, dataset: "b"), row(0, .ok, 0.6, dataset: "b")]
        let s = Scorer.score(detector: "x", rows: rows, rule: ScoringRule())
        let datasets = s.breakdowns.filter { $0.scope == .dataset }
        #expect(datasets.map(\.key) == ["a", "b"])
        #expect(datasets.map(\.metrics.samples).reduce(0, +) == 3)
        #expect(datasets[1].metrics.accuracy == 0.5)
        #expect(s.breakdowns.filter { $0.scope == .mediaType }.map(\.key) == ["real", "synthetic"])
    }
}

@Suite struct DeterministicRandomTests {
    @Test func splitMix64ReferenceValues() {
        // Reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(g.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func shuffleIsAPermutationAndRepeatable() {
        var a = Array(0..<100), b = Array(0..<100)
        var g1 = SplitMix64(seed: 34, label: "ds"), g2 = SplitMix64(seed: 34, label: "ds")
        g1.shuffle(&a); g2.shuffle(&b)
        #expect(a == b)
        #expect(a.sorted() == Array(0..<100))
        #expect(a != Array(0..<100))
    }

    @Test func fnvIsStable() {
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
    }
}
